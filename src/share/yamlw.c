/*
 * yamlw.c - a thin writer over libyaml's event emitter with the quoting
 * policy of yamlw.h. The output goes to a tn_buf; the first failing event
 * is remembered and reported by yamlw_finish.
 */
#include "base/compat.h"
#include "share/yamlw.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

#include <strings.h>
#include <yaml.h>

struct yamlw {
	yaml_emitter_t em;
	struct tn_buf out;
	int failed;
	char problem[128];
};

static int to_buf(void *data, unsigned char *p, size_t n)
{
	tn_buf_add(data, p, n);
	return 1;
}

static void emit(struct yamlw *w, yaml_event_t *ev, int init_ok)
{
	if (w->failed) {
		if (init_ok)
			yaml_event_delete(ev);
		return;
	}
	/* yaml_emitter_emit takes the event, even when it fails. */
	if (!init_ok || !yaml_emitter_emit(&w->em, ev)) {
		w->failed = 1;
		snprintf(w->problem, sizeof(w->problem), "%s",
			 w->em.problem ? w->em.problem : "cannot build a YAML event");
	}
}

struct yamlw *yamlw_new(void)
{
	struct yamlw *w = tn_calloc(1, sizeof(*w));
	yaml_event_t ev;

	tn_buf_init(&w->out, TN_BUF_NOMAX);
	if (!yaml_emitter_initialize(&w->em)) {
		w->failed = 1;
		snprintf(w->problem, sizeof(w->problem), "cannot start the YAML emitter");
		return w;
	}
	yaml_emitter_set_output(&w->em, to_buf, &w->out);
	yaml_emitter_set_unicode(&w->em, 1);
	yaml_emitter_set_width(&w->em, -1);   /* no folding of long descriptions */
	emit(w, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	emit(w, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	return w;
}

void yamlw_free(struct yamlw *w)
{
	if (!w)
		return;
	yaml_emitter_delete(&w->em);
	tn_buf_release(&w->out);
	tn_free(w);
}

void yamlw_map_begin(struct yamlw *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

void yamlw_map_end(struct yamlw *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_mapping_end_event_initialize(&ev));
}

void yamlw_seq_begin(struct yamlw *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE));
}

void yamlw_seq_end(struct yamlw *w)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void scalar(struct yamlw *w, const char *s, int plain)
{
	yaml_event_t ev;

	emit(w, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)s, (int)strlen(s),
						   plain, 1, plain ? YAML_PLAIN_SCALAR_STYLE :
						   YAML_SINGLE_QUOTED_SCALAR_STYLE));
}

void yamlw_str(struct yamlw *w, const char *s)
{
	if (!s)
		scalar(w, "~", 1);
	else
		scalar(w, s, yamlw_plain_ok(s));
}

void yamlw_int(struct yamlw *w, int64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	scalar(w, num, 1);
}

void yamlw_kv_str(struct yamlw *w, const char *key, const char *value)
{
	yamlw_str(w, key);
	yamlw_str(w, value);
}

void yamlw_kv_int(struct yamlw *w, const char *key, int64_t v)
{
	yamlw_str(w, key);
	yamlw_int(w, v);
}

int yamlw_finish(struct yamlw *w, char **text, size_t *len, struct tn_err *err)
{
	yaml_event_t ev;
	int rc;

	*text = NULL;
	emit(w, &ev, yaml_document_end_event_initialize(&ev, 1));
	emit(w, &ev, yaml_stream_end_event_initialize(&ev));
	if (!w->failed && !yaml_emitter_flush(&w->em)) {
		w->failed = 1;
		snprintf(w->problem, sizeof(w->problem), "cannot flush the YAML emitter");
	}
	if (w->failed)
		return tn_err_set(err, TN_EINTERNAL, "cannot write YAML: %s", w->problem);
	rc = tn_buf_check(&w->out, err);
	if (!rc)
		*text = tn_buf_detach(&w->out, len);
	return rc;
}

/* ---- the quoting policy ---- */

/* YAML 1.1 booleans and nulls (R's yaml reads these as logical or NULL). */
static int special_word(const char *s)
{
	static const char *const words[] = { "y", "n", "yes", "no", "true", "false", "on", "off",
					     "null", "nan", "inf" };
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(words); i++)
		if (!strcasecmp(s, words[i]))
			return 1;
	return 0;
}

static int safe_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-' || c == '.' || c == '/';
}

/* pins' compact timestamp 20221215T180351Z, written plain as R does. */
static int compact_time(const char *s)
{
	size_t i;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return 0;
	for (i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

/*
 * Plain only when no YAML 1.1 or 1.2 resolver can take the text for a
 * number, boolean, null or timestamp: it starts with a letter or '_' and
 * is not one of the special words, or it starts with a digit and holds a
 * '/' (no number or timestamp does), or it is a pins timestamp. Everything
 * else (including every string starting with a digit, '.', '-' or '+',
 * and anything with spaces or punctuation) is quoted.
 */
int yamlw_plain_ok(const char *s)
{
	const char *p;
	int first_alpha = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_';

	if (compact_time(s))
		return 1;
	if (!s[0] || (!first_alpha && !(s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (p = s; *p; p++)
		if (!safe_char(*p))
			return 0;
	if (first_alpha)
		return !special_word(s);
	return strchr(s, '/') != NULL;
}
