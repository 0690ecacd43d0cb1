/*
 * share_json.c - the JSON manifests of exports: load, save atomically
 * through outdir, and the few accessors the share layer needs.
 */
#include "base/compat.h"
#include "share/share_int.h"
#include "share/outdir.h"
#include "base/tn_mem.h"

#include <time.h>
#include <jansson.h>

int share_json_load(struct outdir *od, const char *key, json_t **out, struct tn_err *err)
{
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	int rc = outdir_get(od, key, &text, &len, err);

	*out = NULL;
	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);
		return 0;
	}
	if (rc)
		return rc;
	*out = json_loadb(text, len, 0, &jerr);
	tn_free(text);
	if (!*out || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return tn_err_set(err, TN_EINVAL, "%s/%s is not a JSON object (line %d: %s); restore it "
				  "from a copy or remove it", outdir_root(od), key, jerr.line,
				  jerr.text[0] ? jerr.text : "not an object");
	}
	return 0;
}

static int to_buf(const char *p, size_t n, void *data)
{
	tn_buf_add(data, p, n);
	return 0;
}

int share_json_save(struct outdir *od, const char *key, const json_t *v, struct tn_err *err)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc = 0;

	if (json_dump_callback(v, to_buf, &b, JSON_INDENT(2)) != 0)
		rc = tn_err_set(err, TN_EINTERNAL, "cannot render %s as JSON", key);
	tn_buf_addc(&b, '\n');
	if (!rc)
		rc = tn_buf_check(&b, err);
	if (!rc)
		rc = outdir_put(od, key, b.buf, b.len, err);
	tn_buf_release(&b);
	return rc;
}

json_t *share_json_str(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;

	return v ? v : json_null();
}

const char *share_json_get_str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

int64_t share_json_get_int(const json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

void share_iso_time(int64_t us, char out[64])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us / 1000 % 1000));
}
