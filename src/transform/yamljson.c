/*
 * yamljson.c: libyaml's event stream folded into a jansson tree with an
 * explicit stack (no recursion on untrusted nesting).
 */
#include "base/compat.h"
#include "transform/yamljson.h"
#include "base/tn_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

#define MAX_DEPTH 64

struct frame {
	json_t *node;  /* object or array being filled */
	char *key;     /* pending mapping key, or NULL */
};

static json_t *scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	char *end;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_string(v);
	if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
		return json_true();
	if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))
		return json_false();
	if (!strcmp(v, "null") || !strcmp(v, "~") || !*v)
		return json_null();
	if (*v) {
		long long i = strtoll(v, &end, 10);
		if (!*end)
			return json_integer(i);
		double d = strtod(v, &end);
		if (!*end)
			return json_real(d);
	}
	return json_string(v);
}

/* Put `v` (stolen) into the top frame, or make it the root. */
static int place(struct frame *st, int depth, json_t **root, json_t *v, const char *path, size_t line,
		 struct tn_err *err)
{
	struct frame *f;

	if (depth == 0) {
		json_decref(*root);
		*root = v;
		return 0;
	}
	f = &st[depth - 1];
	if (json_is_array(f->node))
		return json_array_append_new(f->node, v), 0;
	if (!f->key) {
		/* a mapping key: only scalars can be keys here */
		if (!json_is_string(v) && !json_is_integer(v) && !json_is_true(v) && !json_is_false(v)) {
			json_decref(v);
			return tn_err_set(err, TN_EINVAL, "%s:%zu: a mapping key must be a plain value", path,
					  line);
		}
		if (json_is_string(v))
			f->key = tn_strdup(json_string_value(v));
		else if (json_is_integer(v))
			f->key = tn_xprintf("%lld", (long long)json_integer_value(v));
		else
			f->key = tn_strdup(json_is_true(v) ? "true" : "false");
		json_decref(v);
		return 0;
	}
	json_object_set_new(f->node, f->key, v);
	tn_free(f->key);
	f->key = NULL;
	return 0;
}

int tf_yaml_load(const char *path, json_t **out, struct tn_err *err)
{
	struct frame st[MAX_DEPTH];
	yaml_parser_t p;
	yaml_event_t ev;
	FILE *fp = fopen(path, "rb");
	json_t *root = NULL;
	int depth = 0, rc = 0, done = 0;

	*out = NULL;
	if (!fp)
		return tn_err_set(err, errno == ENOENT ? TN_ENOTFOUND : TN_EIO, "cannot open %s: %s", path,
				  strerror(errno));
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, fp);
	while (!rc && !done) {
		size_t line;
		if (!yaml_parser_parse(&p, &ev)) {
			rc = tn_err_set(err, TN_EINVAL, "%s:%zu: %s", path, (size_t)p.problem_mark.line + 1,
					p.problem ? p.problem : "YAML syntax error");
			break;
		}
		line = (size_t)ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			done = 1;   /* one document per file */
			break;
		case YAML_ALIAS_EVENT:
			rc = tn_err_set(err, TN_EINVAL, "%s:%zu: YAML aliases are not supported", path, line);
			break;
		case YAML_SCALAR_EVENT:
			rc = place(st, depth, &root, scalar(&ev), path, line, err);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == MAX_DEPTH) {
				rc = tn_err_set(err, TN_EINVAL, "%s:%zu: nested too deeply", path, line);
				break;
			}
			st[depth].node = ev.type == YAML_MAPPING_START_EVENT ? json_object() : json_array();
			st[depth].key = NULL;
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			tn_free(st[depth].key);
			rc = place(st, depth, &root, st[depth].node, path, line, err);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	while (depth > 0) {
		depth--;
		tn_free(st[depth].key);
		json_decref(st[depth].node);
	}
	yaml_parser_delete(&p);
	fclose(fp);
	if (rc) {
		json_decref(root);
		return rc;
	}
	*out = root && !json_is_null(root) ? root : json_object();
	if (root && json_is_null(root))
		json_decref(root);
	return 0;
}
