/*
 * tmpl.c: the template language of models, a strict subset of dbt's
 * Jinja: {{ ref('m') }}, {{ source('s', 't') }}, {{ config(k=v, ...) }},
 * {{ this }}, {{ var('x'[, default]) }}, {% if [not] is_incremental() %}
 * ... {% else %} ... {% endif %} and {# comments #}. Anything else is an
 * error naming file and line: a template the renderer does not know must
 * never reach SQL as text.
 */
#include "base/compat.h"
#include "transform/tmpl.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

#include <ctype.h>
#include <stdlib.h>

/* ---- tokens of one {{ }} or {% %} ---- */

enum tok { T_END, T_IDENT, T_STR, T_NUM, T_PUNCT, T_BAD };

struct lex {
	const char *p, *end;
	enum tok t;
	char *text;  /* owned: identifier, string value, number, punctuation */
};

static void next(struct lex *l)
{
	const char *s;

	tn_free(l->text);
	l->text = NULL;
	while (l->p < l->end && isspace((unsigned char)*l->p))
		l->p++;
	if (l->p >= l->end) {
		l->t = T_END;
		return;
	}
	s = l->p;
	if (isalpha((unsigned char)*s) || *s == '_') {
		while (l->p < l->end && (isalnum((unsigned char)*l->p) || *l->p == '_'))
			l->p++;
		l->t = T_IDENT;
	} else if (*s == '\'' || *s == '"') {
		char q = *s;
		struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
		for (l->p++; l->p < l->end && *l->p != q; l->p++) {
			if (*l->p == '\\' && l->p + 1 < l->end)
				l->p++;
			tn_buf_addc(&b, *l->p);
		}
		if (l->p >= l->end) {
			tn_buf_release(&b);
			l->t = T_BAD;
			return;
		}
		l->p++;
		l->t = T_STR;
		l->text = tn_buf_detach(&b, NULL);
		if (!l->text)
			l->text = tn_strdup("");
		return;
	} else if (isdigit((unsigned char)*s) || (*s == '-' && s + 1 < l->end && isdigit((unsigned char)s[1]))) {
		for (l->p++; l->p < l->end && (isdigit((unsigned char)*l->p) || *l->p == '.'); l->p++)
			;
		l->t = T_NUM;
	} else if (strchr("(),=[]", *s)) {
		l->p++;
		l->t = T_PUNCT;
	} else {
		l->p++;
		l->t = T_BAD;
	}
	l->text = tn_strndup(s, (size_t)(l->p - s));
}

static int is_punct(const struct lex *l, char c)
{
	return l->t == T_PUNCT && l->text[0] == c;
}

static int is_ident(const struct lex *l, const char *w)
{
	return l->t == T_IDENT && !strcmp(l->text, w);
}

/* ---- rendering ---- */

struct render {
	const struct tmpl_env *env;
	const char *file;
	const char *text;
	size_t line;           /* of the tag being read */
	struct tn_buf *out;
	struct tn_err *err;
	int untaken;           /* in a branch not taken (all_branches) */
};

static int fail(struct render *r, const char *what, const char *tag, size_t n)
{
	return tn_err_set(r->err, TN_EINVAL, "%s:%zu: %s '%.*s'%s", r->file, r->line, what,
			  (int)(n > 80 ? 80 : n), tag, n > 80 ? "..." : "");
}

/* Arguments: a list of strings (ref, source, var). Reads from after '('
 * through ')'. */
static int string_args(struct render *r, struct lex *l, char **args, size_t max, size_t *n,
		       json_t **extra)
{
	*n = 0;
	next(l);
	while (!is_punct(l, ')')) {
		if (*n == max || (l->t != T_STR && !(extra && *n == 1)))
			return -1;
		if (l->t == T_STR) {
			args[(*n)++] = l->text;
			l->text = NULL;
		} else if (extra && l->t == T_NUM) {
			*extra = json_string(l->text);   /* a number default, as text */
			(*n)++;
			args[*n - 1] = NULL;
		} else {
			return -1;
		}
		next(l);
		if (is_punct(l, ','))
			next(l);
		else if (!is_punct(l, ')'))
			return -1;
	}
	next(l);
	(void)r;
	return l->t == T_END ? 0 : -1;
}

/* config(key=value, ...): value is a string, number, true/false or a
 * list of strings; collected into a JSON object. */
static int config_args(struct lex *l, json_t *cfg)
{
	next(l);
	while (!is_punct(l, ')')) {
		char *key;
		json_t *v;
		if (l->t != T_IDENT)
			return -1;
		key = l->text;
		l->text = NULL;
		next(l);
		if (!is_punct(l, '=')) {
			tn_free(key);
			return -1;
		}
		next(l);
		if (l->t == T_STR || l->t == T_NUM) {
			v = json_string(l->text);
		} else if (is_ident(l, "true") || is_ident(l, "True")) {
			v = json_true();
		} else if (is_ident(l, "false") || is_ident(l, "False")) {
			v = json_false();
		} else if (is_punct(l, '[')) {
			v = json_array();
			for (next(l); !is_punct(l, ']'); next(l)) {
				if (l->t == T_STR)
					json_array_append_new(v, json_string(l->text));
				else if (!is_punct(l, ','))
					break;
			}
			if (!is_punct(l, ']')) {
				json_decref(v);
				tn_free(key);
				return -1;
			}
		} else {
			tn_free(key);
			return -1;
		}
		json_object_set_new(cfg, key, v);
		tn_free(key);
		next(l);
		if (is_punct(l, ','))
			next(l);
		else if (!is_punct(l, ')'))
			return -1;
	}
	next(l);
	return l->t == T_END ? 0 : -1;
}

/* {{ expression }} */
static int expression(struct render *r, const char *tag, size_t n)
{
	const struct tmpl_env *e = r->env;
	struct lex l = { tag, tag + n, T_END, NULL };
	char *args[2] = { NULL, NULL };
	json_t *dflt = NULL;
	size_t na = 0;
	int rc = 0;

	next(&l);
	if (is_ident(&l, "this")) {
		next(&l);
		if (l.t != T_END)
			rc = fail(r, "unknown template syntax", tag, n);
		else if (!e->this_rel)
			rc = fail(r, "{{ this }} has no meaning here", tag, n);
		else
			tn_buf_adds(r->out, e->this_rel);
	} else if (is_ident(&l, "ref") || is_ident(&l, "source") || is_ident(&l, "var")) {
		char *fn = l.text;
		l.text = NULL;
		next(&l);
		if (!is_punct(&l, '(') ||
		    string_args(r, &l, args, 2, &na, !strcmp(fn, "var") ? &dflt : NULL) != 0)
			rc = fail(r, "unknown template syntax", tag, n);
		else if (!strcmp(fn, "ref") && (na == 1 || na == 2))
			rc = e->ref(e->arg, args[na - 1], r->out, r->err);
		else if (!strcmp(fn, "source") && na == 2)
			rc = e->source(e->arg, args[0], args[1], r->out, r->err);
		else if (!strcmp(fn, "var") && (na == 1 || na == 2))
			rc = e->var(e->arg, args[0], na == 2 ? (args[1] ? args[1] : json_string_value(dflt)) : NULL,
				    r->out, r->err);
		else
			rc = fail(r, "wrong arguments in", tag, n);
		if (rc && !strstr(r->err->msg, r->file))
			tn_err_prefix(r->err, "%s:%zu", r->file, r->line);
		tn_free(fn);
	} else if (is_ident(&l, "config")) {
		json_t *cfg = json_object();
		next(&l);
		if (!is_punct(&l, '(') || config_args(&l, cfg) != 0)
			rc = fail(r, "cannot read config", tag, n);
		else if (e->config && !r->untaken)   /* a config() in a branch not taken does not apply */
			rc = e->config(e->arg, cfg, r->err);
		json_decref(cfg);
		if (rc && !strstr(r->err->msg, r->file))
			tn_err_prefix(r->err, "%s:%zu", r->file, r->line);
	} else if (is_ident(&l, "is_incremental")) {
		next(&l);
		if (!is_punct(&l, '('))
			rc = fail(r, "unknown template syntax", tag, n);
		next(&l);
		if (!rc && !is_punct(&l, ')'))
			rc = fail(r, "unknown template syntax", tag, n);
		next(&l);
		if (!rc && l.t != T_END)
			rc = fail(r, "unknown template syntax", tag, n);
		if (!rc)
			tn_buf_adds(r->out, e->incremental ? "true" : "false");
	} else {
		rc = fail(r, "unknown template syntax", tag, n);
	}
	tn_free(args[0]);
	tn_free(args[1]);
	json_decref(dflt);
	tn_free(l.text);
	return rc;
}

/* {% if [not] is_incremental() %}, {% else %}, {% endif %}: *kind is
 * 1 if (with *cond), 2 else, 3 endif. */
static int statement(struct render *r, const char *tag, size_t n, int *kind, int *cond)
{
	struct lex l = { tag, tag + n, T_END, NULL };
	int neg = 0, rc = 0;

	next(&l);
	if (is_ident(&l, "if")) {
		next(&l);
		if (is_ident(&l, "not")) {
			neg = 1;
			next(&l);
		}
		if (!is_ident(&l, "is_incremental"))
			rc = 1;
		next(&l);
		if (!rc && !is_punct(&l, '('))
			rc = 1;
		next(&l);
		if (!rc && !is_punct(&l, ')'))
			rc = 1;
		next(&l);
		*kind = 1;
		*cond = r->env->incremental ? !neg : neg;
	} else if (is_ident(&l, "else")) {
		next(&l);
		*kind = 2;
	} else if (is_ident(&l, "endif")) {
		next(&l);
		*kind = 3;
	} else {
		rc = 1;
	}
	if (!rc && l.t != T_END)
		rc = 1;
	tn_free(l.text);
	return rc ? fail(r, "unknown template syntax", tag, n) : 0;
}

#define MAX_IF 32

static int render(const struct tmpl_env *env, int all_branches, const char *file, const char *text,
		  struct tn_buf *out, struct tn_err *err)
{
	struct render r = { env, file, text, 1, out, err, 0 };
	int stack[MAX_IF], had_else[MAX_IF], active[MAX_IF + 1], depth = 0, rc = 0;
	size_t if_line[MAX_IF];
	const char *p = text, *lstart = text;
	size_t line = 1;

	active[0] = 1;
	while (!rc && *p) {
		const char *open = strchr(p, '{');
		const char *close;
		char kind;
		/* copy text up to the next tag opener, counting lines */
		if (!open || (open[1] != '{' && open[1] != '%' && open[1] != '#')) {
			const char *stop = open ? open + 1 : p + strlen(p);
			for (; p < stop; p++) {
				if (*p == '\n')
					line++;
				if (active[depth])
					tn_buf_addc(out, *p);
			}
			continue;
		}
		for (; p < open; p++) {
			if (*p == '\n')
				line++;
			if (active[depth])
				tn_buf_addc(out, *p);
		}
		kind = open[1];
		close = strstr(open + 2, kind == '{' ? "}}" : kind == '%' ? "%}" : "#}");
		r.line = line;
		if (!close) {
			rc = tn_err_set(err, TN_EINVAL, "%s:%zu: '%c%c' is never closed", file, line, '{', kind);
			break;
		}
		{
			const char *in = open + 2, *end = close;
			/* whitespace control: {%- -%} and {{- -}} */
			if (*in == '-')
				in++;
			if (end > in && end[-1] == '-')
				end--;
			if (kind == '{' && active[depth]) {
				rc = expression(&r, in, (size_t)(end - in));
			} else if (kind == '{' && all_branches) {
				struct tn_buf drop = TN_BUF_INIT(TN_BUF_NOMAX);
				r.out = &drop;
				r.untaken = 1;
				rc = expression(&r, in, (size_t)(end - in));
				r.out = out;
				r.untaken = 0;
				tn_buf_release(&drop);
			} else if (kind == '%') {
				int k = 0, cond = 0;
				rc = statement(&r, in, (size_t)(end - in), &k, &cond);
				if (!rc && k == 1) {
					if (depth == MAX_IF) {
						rc = tn_err_set(err, TN_EINVAL, "%s:%zu: ifs nested too deeply", file, line);
					} else {
						stack[depth] = cond;
						had_else[depth] = 0;
						if_line[depth] = line;
						depth++;
						active[depth] = active[depth - 1] && cond;
					}
				} else if (!rc && (k == 2 || k == 3) && depth == 0) {
					rc = tn_err_set(err, TN_EINVAL, "%s:%zu: {%% %s %%} without {%% if %%}", file, line,
							k == 2 ? "else" : "endif");
				} else if (!rc && k == 2 && had_else[depth - 1]) {
					rc = tn_err_set(err, TN_EINVAL, "%s:%zu: a second {%% else %%} for the {%% if %%} "
							"of line %zu", file, line, if_line[depth - 1]);
				} else if (!rc && k == 2) {
					had_else[depth - 1] = 1;
					stack[depth - 1] = !stack[depth - 1];
					active[depth] = active[depth - 1] && stack[depth - 1];
				} else if (!rc && k == 3) {
					depth--;
				}
			}
		}
		for (p = open; p < close + 2; p++)
			if (*p == '\n')
				line++;
		p = close + 2;
	}
	(void)lstart;
	if (!rc && depth > 0)
		rc = tn_err_set(err, TN_EINVAL, "%s:%zu: {%% if %%} is never closed with {%% endif %%}", file,
				if_line[depth - 1]);
	if (!rc)
		rc = tn_buf_check(out, err);
	return rc;
}

int tmpl_render(const struct tmpl_env *env, const char *file, const char *text, struct tn_buf *out,
		struct tn_err *err)
{
	return render(env, 0, file, text, out, err);
}

int tmpl_collect(const struct tmpl_env *env, const char *file, const char *text, struct tn_buf *out,
		 struct tn_err *err)
{
	return render(env, 1, file, text, out, err);
}
