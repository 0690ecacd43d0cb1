/*
 * catalog: picks the backend from the URI and forwards every call to its
 * ops table; the helpers that are the same on every backend (one-shot
 * queries, savepoints, column lists, password redaction) live here.
 */
#include "base/compat.h"
#include "catalog/catalog_int.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct scheme {
	const char *prefix;
	const struct catalog_ops *ops;
	int keep_prefix;            /* libpq parses URIs whole */
} schemes[] = {
	{ "postgres://", &catalog_pg_ops, 1 },
	{ "postgresql://", &catalog_pg_ops, 1 },
	{ "postgres:", &catalog_pg_ops, 0 },
	{ "postgresql:", &catalog_pg_ops, 0 },
	{ "sqlite:", &catalog_sqlite_ops, 0 },
};

int catalog_open(struct catalog **out, const char *uri, int create, struct tn_err *err)
{
	size_t i, n;

	*out = NULL;
	for (i = 0; i < TN_ARRAY_LEN(schemes); i++) {
		n = strlen(schemes[i].prefix);
		if (!strncasecmp(uri, schemes[i].prefix, n))
			return schemes[i].ops->open(out, schemes[i].keep_prefix ? uri : uri + n, create, err);
	}
	return catalog_sqlite_ops.open(out, uri, create, err);
}

void catalog_close(struct catalog *cat)
{
	if (cat)
		cat->ops->close(cat);
}

const char *catalog_backend(const struct catalog *cat)
{
	return cat->ops->name;
}

char *catalog_int_of(const struct catalog *cat, const char *col)
{
	/* SQLite's CAST never fails (it reads a numeric prefix), so the text
	 * must come back unchanged; PostgreSQL's fails on anything else, so
	 * the text is checked first, short enough never to overflow. */
	if (!strcmp(catalog_backend(cat), "postgres"))
		return tn_xprintf("(CASE WHEN %s ~ '^-?[0-9]{1,18}$' THEN CAST(%s AS BIGINT) END)", col, col);
	return tn_xprintf("(CASE WHEN CAST(CAST(%s AS INTEGER) AS TEXT) = %s AND CAST(%s AS INTEGER) BETWEEN "
			  "-999999999999999999 AND 999999999999999999 THEN CAST(%s AS INTEGER) END)", col, col, col, col);
}

char *catalog_json_ids(const struct catalog *cat, const char *param)
{
	if (!strcmp(catalog_backend(cat), "postgres"))
		return tn_xprintf("(SELECT CAST(value AS BIGINT) AS id FROM json_array_elements_text(CAST(%s AS JSON)))",
				  param);
	return tn_xprintf("(SELECT value AS id FROM json_each(%s))", param);
}

const char *catalog_path(const struct catalog *cat)
{
	return cat->display;
}

int catalog_exec(struct catalog *cat, const char *sql, struct tn_err *err)
{
	double t0 = tn_trace_sql() ? tn_mono() : 0;
	int rc = cat->ops->exec(cat, sql, err);

	if (t0 > 0)
		fprintf(stderr, "[catalog %7.1f ms%s] %.300s\n", (tn_mono() - t0) * 1e3, rc ? " FAILED" : "", sql);
	return rc;
}

int catalog_begin(struct catalog *cat, int write, struct tn_err *err)
{
	return cat->ops->begin(cat, write, err);
}

int catalog_commit(struct catalog *cat, struct tn_err *err)
{
	return cat->ops->commit(cat, err);
}

void catalog_rollback(struct catalog *cat)
{
	if (cat)
		cat->ops->rollback(cat);
}

int catalog_in_txn(struct catalog *cat)
{
	return cat->ops->in_txn(cat);
}

/* Savepoint names go into SQL text, so they must be plain identifiers. */
static int plain_name(const char *name)
{
	const char *p;

	if (!name || !*name || strlen(name) > 63)
		return 0;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return 0;
	return 1;
}

static int savepoint_sql(struct catalog *cat, const char *fmt, const char *name, struct tn_err *err)
{
	char sql[160];

	if (!plain_name(name))
		return tn_err_set(err, TN_EINVAL, "catalog %s: bad savepoint name \"%s\"", cat->display,
				  name ? name : "(null)");
	snprintf(sql, sizeof(sql), fmt, name, name);
	return cat->ops->exec(cat, sql, err);
}

int catalog_savepoint(struct catalog *cat, const char *name, struct tn_err *err)
{
	return savepoint_sql(cat, "SAVEPOINT %s", name, err);
}

int catalog_release(struct catalog *cat, const char *name, struct tn_err *err)
{
	return savepoint_sql(cat, "RELEASE %s", name, err);
}

void catalog_rollback_to(struct catalog *cat, const char *name)
{
	struct tn_err ignore = TN_ERR_INIT;

	savepoint_sql(cat, "ROLLBACK TO %s; RELEASE %s", name, &ignore);
}

int catalog_prepare(struct catalog *cat, const char *sql, struct catalog_stmt **out,
		    struct tn_err *err)
{
	double t0 = tn_trace_sql() ? tn_mono() : 0;
	int rc;

	*out = NULL;
	rc = cat->ops->prepare(cat, sql, out, err);
	if (!rc && t0 > 0) {
		(*out)->trace_t0 = t0;
		(*out)->trace_sql = tn_strdup(sql);
		(*out)->trace_rows = 0;
	}
	return rc;
}

void catalog_bind_int(struct catalog_stmt *st, int idx, int64_t v)
{
	st->cat->ops->bind_int(st, idx, v);
}

void catalog_bind_text(struct catalog_stmt *st, int idx, const char *v)
{
	st->cat->ops->bind_text(st, idx, v);
}

void catalog_bind_null(struct catalog_stmt *st, int idx)
{
	st->cat->ops->bind_text(st, idx, NULL);
}

void catalog_bind_bool(struct catalog_stmt *st, int idx, int v)
{
	st->cat->ops->bind_bool(st, idx, v);
}

int catalog_step(struct catalog_stmt *st, struct tn_err *err)
{
	int rc = st->cat->ops->step(st, err);

	st->trace_rows += rc == 1;
	return rc;
}

int catalog_col_is_null(struct catalog_stmt *st, int col)
{
	return st->cat->ops->col_is_null(st, col);
}

int64_t catalog_col_int(struct catalog_stmt *st, int col)
{
	return st->cat->ops->col_int(st, col);
}

const char *catalog_col_text(struct catalog_stmt *st, int col)
{
	return st->cat->ops->col_text(st, col);
}

char *catalog_col_dup(struct catalog_stmt *st, int col)
{
	const char *s = catalog_col_text(st, col);
	return s ? tn_strdup(s) : NULL;
}

void catalog_reset(struct catalog_stmt *st)
{
	st->cat->ops->reset(st);
}

void catalog_finalize(struct catalog_stmt *st)
{
	if (st && st->trace_sql) {
		fprintf(stderr, "[catalog %7.1f ms %6ld rows] %.300s\n", (tn_mono() - st->trace_t0) * 1e3,
			st->trace_rows, st->trace_sql);
		tn_free(st->trace_sql);
	}
	if (st)
		st->cat->ops->finalize(st);
}

static int prepare_args(struct catalog *cat, const char *sql, struct catalog_stmt **st,
			struct tn_err *err, int n, va_list ap)
{
	int i, rc = catalog_prepare(cat, sql, st, err);

	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		catalog_bind_int(*st, i + 1, va_arg(ap, int64_t));
	return 0;
}

int catalog_run(struct catalog *cat, const char *sql, struct tn_err *err, int n, ...)
{
	struct catalog_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, n);
	rc = prepare_args(cat, sql, &st, err, n, ap);
	va_end(ap);
	if (rc)
		return rc;
	while ((rc = catalog_step(st, err)) == 1)
		;
	catalog_finalize(st);
	return rc;
}

int catalog_get_int(struct catalog *cat, const char *sql, int64_t *out, int *found,
		    struct tn_err *err, int n, ...)
{
	struct catalog_stmt *st;
	va_list ap;
	int rc;

	*out = 0;
	if (found)
		*found = 0;
	va_start(ap, n);
	rc = prepare_args(cat, sql, &st, err, n, ap);
	va_end(ap);
	if (rc)
		return rc;
	rc = catalog_step(st, err);
	if (rc == 1) {
		*out = catalog_col_int(st, 0);
		if (found)
			*found = !catalog_col_is_null(st, 0);
		rc = 0;
	}
	catalog_finalize(st);
	return rc;
}

void catalog_names_push(char ***names, size_t *n, const char *s)
{
	*names = tn_realloc(*names, (*n + 1) * sizeof(**names));
	(*names)[(*n)++] = tn_strdup(s ? s : "");
}

void catalog_columns_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		tn_free(names[i]);
	tn_free(names);
}

int catalog_table_columns(struct catalog *cat, const char *table, char ***names, size_t *n,
			  struct tn_err *err)
{
	int rc;

	*names = NULL;
	*n = 0;
	rc = cat->ops->table_columns(cat, table, names, n, err);
	if (!rc && *n == 0)
		rc = tn_err_set(err, TN_ENOTFOUND, "catalog %s has no table %s", cat->display, table);
	if (rc) {
		catalog_columns_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return rc;
}

int catalog_integrity(struct catalog *cat, char **msg, struct tn_err *err)
{
	*msg = NULL;
	return cat->ops->integrity(cat, msg, err);
}

/* ---- redaction ---- */

#define MAX_SECRETS 16

struct secrets {
	char *s[MAX_SECRETS];
	size_t n;
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Remember p[0..n) and, when it holds %XX escapes, its decoded form too. */
static void add_secret(struct secrets *sec, const char *p, size_t n)
{
	char *raw, *dec, *d;
	size_t i;

	if (n == 0 || sec->n + 2 > MAX_SECRETS)
		return;
	raw = tn_strndup(p, n);
	dec = d = tn_malloc(n + 1);
	for (i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
			*d++ = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
			i += 2;
		} else {
			*d++ = p[i];
		}
	}
	*d = '\0';
	sec->s[sec->n++] = raw;
	if (strcmp(raw, dec) && *dec)
		sec->s[sec->n++] = dec;
	else
		tn_free(dec);
}

/* URI: the password of "scheme://user:password@host" (libpq ends the
 * user info at the first '@' before any '/'). */
static void uri_userinfo_secret(struct secrets *sec, const char *uri)
{
	const char *p = strstr(uri, "://"), *end, *colon;

	if (!p)
		return;
	p += 3;
	end = p + strcspn(p, "@/");
	if (*end != '@')
		return;
	colon = memchr(p, ':', (size_t)(end - p));
	if (colon)
		add_secret(sec, colon + 1, (size_t)(end - colon - 1));
}

/* Every "password=value" (URI query or keyword conninfo, quoted or not). */
static void keyword_secrets(struct secrets *sec, const char *s)
{
	const char *p = s, *v;
	size_t n;

	while ((p = strcasestr(p, "password")) != NULL) {
		v = p + 8;
		p = v;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v++ != '=')
			continue;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == '\'') {
			v++;
			for (n = 0; v[n] && v[n] != '\''; n++)
				if (v[n] == '\\' && v[n + 1])
					n++;
		} else {
			n = strcspn(v, " \t\n&'\"");
		}
		add_secret(sec, v, n);
	}
}

static void replace_all(struct tn_buf *b, const char *needle)
{
	struct tn_buf out = TN_BUF_INIT(TN_BUF_NOMAX);
	const char *p = b->buf, *hit;
	size_t n = strlen(needle);

	while ((hit = strstr(p, needle)) != NULL) {
		tn_buf_add(&out, p, (size_t)(hit - p));
		tn_buf_adds(&out, "***");
		p = hit + n;
	}
	tn_buf_adds(&out, p);
	tn_buf_release(b);
	*b = out;
}

/* Longest first, so a secret that contains another is masked whole. */
static int longer_first(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
	return la < lb ? 1 : la > lb ? -1 : 0;
}

char *catalog_redact(const char *msg, const char *conninfo, const char *password)
{
	struct secrets sec = { { NULL }, 0 };
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	const char *env = getenv("PGPASSWORD");
	size_t i;

	/* Known secrets first, in case the list fills up. */
	if (password)
		add_secret(&sec, password, strlen(password));
	if (env)
		add_secret(&sec, env, strlen(env));
	if (conninfo) {
		uri_userinfo_secret(&sec, conninfo);
		keyword_secrets(&sec, conninfo);
	}
	/* The message itself may echo a conninfo we never saw. */
	uri_userinfo_secret(&sec, msg);
	keyword_secrets(&sec, msg);
	tn_buf_adds(&b, msg);
	qsort(sec.s, sec.n, sizeof(sec.s[0]), longer_first);
	for (i = 0; i < sec.n; i++) {
		if (strcmp(sec.s[i], "***"))
			replace_all(&b, sec.s[i]);
		tn_free(sec.s[i]);
	}
	return tn_buf_detach(&b, NULL);
}
