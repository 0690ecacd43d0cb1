/*
 * catalog_pgsql: the catalog's SQLite-flavoured SQL in PostgreSQL's dialect.
 * Only parameters change (`?`, `?N` -> `$N`); everything else is copied
 * byte for byte. A small lexer skips what may hold a `?` that is no
 * parameter: string literals ('', E'', $tag$), quoted identifiers and
 * comments. It assumes standard_conforming_strings = on, which the
 * backend sets on every connection.
 */
#include "base/compat.h"
#include "catalog/catalog_int.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

#include <ctype.h>

static int ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* A quoted token at p, closing quote included (to the end if unterminated);
 * a doubled quote stays inside; with `backslash`, \x escapes x (E''). */
static size_t quoted_len(const char *p, char q, int backslash)
{
	size_t i = 1;

	while (p[i]) {
		if (backslash && p[i] == '\\' && p[i + 1]) {
			i += 2;
		} else if (p[i] == q && p[i + 1] == q) {
			i += 2;
		} else if (p[i] == q) {
			return i + 1;
		} else {
			i++;
		}
	}
	return i;
}

/* Block comments nest in PostgreSQL. */
static size_t block_comment_len(const char *p)
{
	size_t i = 2;
	int depth = 1;

	while (p[i] && depth) {
		if (p[i] == '/' && p[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (p[i] == '*' && p[i + 1] == '/') {
			depth--;
			i += 2;
		} else {
			i++;
		}
	}
	return i;
}

/* $tag$ … $tag$ (tag empty or an identifier), or 0 when p opens none. */
static size_t dollar_len(const char *p)
{
	size_t t = 1;
	const char *q;

	if (isdigit((unsigned char)p[1]))
		return 0;
	while (p[t] && p[t] != '$') {
		if (!ident_char(p[t]))
			return 0;
		t++;
	}
	if (p[t] != '$')
		return 0;
	t++;
	for (q = p + t; *q; q++)
		if (*q == '$' && !strncmp(q, p, t))
			return (size_t)(q - p) + t;
	return strlen(p);
}

/* Length of the literal, identifier or comment starting at p, else 0. */
static size_t skip_len(const char *sql, const char *p)
{
	int after_ident = p > sql && ident_char(p[-1]);

	switch (*p) {
	case '\'':
		return quoted_len(p, '\'', 0);
	case '"':
		return quoted_len(p, '"', 0);
	case '-':
		return p[1] == '-' ? strcspn(p, "\n") : 0;
	case '/':
		return p[1] == '*' ? block_comment_len(p) : 0;
	case '$':
		return after_ident ? 0 : dollar_len(p);
	case 'E':
	case 'e':
		return !after_ident && p[1] == '\'' ? 1 + quoted_len(p + 1, '\'', 1) : 0;
	default:
		return 0;
	}
}

/* `?` or `?N` at *pp: append $N, mark N used, advance *pp. */
static int param(const char **pp, int *max, unsigned char **used, struct tn_buf *out,
		 struct tn_err *err)
{
	const char *p = *pp + 1;
	long n = *max + 1;

	if (isdigit((unsigned char)*p)) {
		for (n = 0; isdigit((unsigned char)*p); p++)
			if (n <= CATALOG_PG_MAX_PARAMS)
				n = n * 10 + (*p - '0');
	}
	if (n < 1 || n > CATALOG_PG_MAX_PARAMS)
		return tn_err_set(err, TN_EINVAL, "SQL parameter %.*s is out of range (?1 to ?%d)",
				  (int)(p - *pp), *pp, CATALOG_PG_MAX_PARAMS);
	if (n > *max) {
		*used = tn_realloc(*used, (size_t)n);
		memset(*used + *max, 0, (size_t)(n - *max));
		*max = (int)n;
	}
	(*used)[n - 1] = 1;
	tn_buf_addf(out, "$%ld", n);
	*pp = p;
	return 0;
}

int catalog_pg_translate(const char *sql, struct tn_buf *out, int *nparams, unsigned char **used,
			 struct tn_err *err)
{
	const char *p = sql;
	size_t n;
	int rc = 0;

	*nparams = 0;
	*used = NULL;
	while (*p && !rc) {
		n = skip_len(sql, p);
		if (!n && *p == '?') {
			rc = param(&p, nparams, used, out, err);
			continue;
		}
		if (!n)
			n = strcspn(p + 1, "'\"-/$Ee?") + 1;  /* a run with nothing to look at */
		tn_buf_add(out, p, n);
		p += n;
	}
	if (rc) {
		tn_free(*used);
		*used = NULL;
		*nparams = 0;
	}
	return rc;
}
