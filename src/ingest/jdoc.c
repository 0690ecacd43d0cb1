/* jdoc.c: JSON in and out through jansson. */
#include "base/compat.h"
#include "ingest/jdoc.h"
#include "ingest/manifest.h"
#include "base/tn_mem.h"

#include <jansson.h>

/* `quiet`: the text may hold a secret, and jansson's message quotes the
 * text near the error, so say only where. */
static json_t *load(const char *text, size_t len, const char *what, int quiet, struct tn_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);

	if (!j && quiet)
		tn_err_set(err, TN_EINVAL, "%s is not valid JSON (line %d)", what, je.line);
	else if (!j)
		tn_err_set(err, TN_EINVAL, "%s is not valid JSON (line %d: %s)", what, je.line, je.text);
	return j;
}

/* A string member, or NULL when missing or not a string. */
static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* ---- manifest ---- */

static int parse_files(json_t *files, struct manifest_version *v, struct tn_err *err)
{
	size_t i;
	json_t *f;

	if (files && !json_is_array(files))
		return tn_err_set(err, TN_EINVAL, "version %s: \"files\" is not an array", v->id);
	json_array_foreach(files, i, f) {
		const char *path = str(f, "path"), *sha = str(f, "sha256");
		json_t *size = json_object_get(f, "size");
		if (!path || !sha || !json_is_integer(size))
			return tn_err_set(err, TN_EINVAL, "version %s: file %zu needs \"path\", \"size\" "
					  "and \"sha256\"", v->id, i + 1);
		manifest_add_file(v, path, (int64_t)json_integer_value(size), sha);
	}
	return 0;
}

static int parse_version(json_t *jv, size_t i, struct manifest *m, struct tn_err *err)
{
	const char *id = str(jv, "version"), *created = str(jv, "created"), *source = str(jv, "source");
	struct manifest_version *v;

	if (!id || !created || !source)
		return tn_err_set(err, TN_EINVAL, "version %zu needs \"version\", \"created\" and \"source\"",
				  i + 1);
	v = manifest_add(m, id, created, source);
	if (!v)
		return tn_err_set(err, TN_EINVAL, "version %s is listed twice", id);
	return parse_files(json_object_get(jv, "files"), v, err);
}

int jdoc_manifest_parse(const char *text, size_t len, struct manifest *m, struct tn_err *err)
{
	json_t *j = load(text, len, "the manifest", 0, err), *versions, *jv, *latest, *fmt;
	const char *name;
	size_t i;
	int rc = 0;

	if (!j)
		return TN_EINVAL;
	name = str(j, "name");
	versions = json_object_get(j, "versions");
	latest = json_object_get(j, "latest");
	fmt = json_object_get(j, "format");
	if (fmt && (!json_is_integer(fmt) || json_integer_value(fmt) > MANIFEST_FORMAT))
		rc = tn_err_set(err, TN_EUNSUPPORTED, "the manifest has format %lld; this tarn reads "
				"format %d (upgrade tarn)", (long long)json_integer_value(fmt), MANIFEST_FORMAT);
	else if (!name || !json_is_array(versions) || (latest && !json_is_null(latest) && !json_is_string(latest)))
		rc = tn_err_set(err, TN_EINVAL, "the manifest needs \"name\", \"versions\" (an array) "
				"and \"latest\" (a string or null)");
	if (!rc) {
		tn_free(m->name);
		m->name = tn_strdup(name);
	}
	json_array_foreach(versions, i, jv) {
		if (rc)
			break;
		rc = parse_version(jv, i, m, err);
	}
	if (!rc) {
		/* The stored pointer wins over "newest": it is what was published. */
		tn_free(m->latest);
		m->latest = json_is_string(latest) ? tn_strdup(json_string_value(latest)) : NULL;
	}
	json_decref(j);
	return rc;
}

static json_t *format_version(const struct manifest_version *v)
{
	json_t *jv = json_object(), *files = json_array();
	size_t i;

	json_object_set_new(jv, "version", json_string(v->id));
	json_object_set_new(jv, "path", json_string(v->id));
	json_object_set_new(jv, "created", json_string(v->created));
	json_object_set_new(jv, "source", json_string(v->source));
	for (i = 0; i < v->nfiles; i++) {
		json_t *f = json_object();
		json_object_set_new(f, "path", json_string(v->files[i].path));
		json_object_set_new(f, "size", json_integer((json_int_t)v->files[i].size));
		json_object_set_new(f, "sha256", json_string(v->files[i].sha256));
		json_array_append_new(files, f);
	}
	json_object_set_new(jv, "files", files);
	return jv;
}

/* json_dumpb into our own allocation: raw malloc/free stay in base/. */
static char *dump(json_t *j, size_t flags)
{
	size_t n = json_dumpb(j, NULL, 0, flags);
	char *out = tn_malloc(n + 2);

	json_dumpb(j, out, n, flags);
	out[n] = '\n';
	out[n + 1] = '\0';
	return out;
}

char *jdoc_manifest_format(const struct manifest *m)
{
	json_t *j = json_object(), *versions = json_array();
	char *out;
	size_t i;

	json_object_set_new(j, "format", json_integer(MANIFEST_FORMAT));
	json_object_set_new(j, "name", json_string(m->name));
	json_object_set_new(j, "latest", m->latest ? json_string(m->latest) : json_null());
	for (i = 0; i < m->n; i++)
		json_array_append_new(versions, format_version(&m->v[i]));
	json_object_set_new(j, "versions", versions);
	out = dump(j, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(j);
	return out;
}

/* ---- remote sources ---- */

int jdoc_kaggle_creds(const char *text, size_t len, char **user, char **key, struct tn_err *err)
{
	json_t *j = load(text, len, "kaggle.json", 1, err);
	const char *u, *k;

	*user = *key = NULL;
	if (!j)
		return TN_EINVAL;
	u = str(j, "username");
	k = str(j, "key");
	if (!u || !k) {
		json_decref(j);
		return tn_err_set(err, TN_EINVAL, "kaggle.json needs \"username\" and \"key\" strings");
	}
	*user = tn_strdup(u);
	*key = tn_strdup(k);
	json_decref(j);
	return 0;
}

int jdoc_hf_files(const char *text, size_t len, char ***names, size_t *n, struct tn_err *err)
{
	json_t *j = load(text, len, "the Hugging Face dataset listing", 0, err), *sib, *s;
	size_t i, k = 0;

	*names = NULL;
	*n = 0;
	if (!j)
		return TN_EINVAL;
	sib = json_object_get(j, "siblings");
	if (!json_is_array(sib)) {
		json_decref(j);
		return tn_err_set(err, TN_EREMOTE, "the Hugging Face dataset listing has no \"siblings\" "
				  "array (is TARN_HF_URL a Hugging Face server?)");
	}
	*names = tn_calloc(json_array_size(sib) + 1, sizeof(**names));
	json_array_foreach(sib, i, s) {
		const char *f = str(s, "rfilename");
		if (f)
			(*names)[k++] = tn_strdup(f);
	}
	*n = k;
	json_decref(j);
	return 0;
}
