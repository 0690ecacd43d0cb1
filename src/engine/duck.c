/*
 * duck: wrapper over DuckDB's C API. Converts DuckDB errors into tn_err and
 * keeps DuckDB's ownership rules (a result is destroyed even when the query
 * failed) inside this file.
 */
#include "base/compat.h"
#include "engine/duck.h"
#include "base/tn_mem.h"
#include "base/tn_buf.h"
#include "base/tn_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <duckdb.h>

struct duck {
	duckdb_database db;
	duckdb_connection con;
	duckdb_prepared_statement count_stmt; /* for duck_count_result */
};

struct duck_result {
	duckdb_result res;
	char **typenames; /* lazily built, one per column */
	int unsafe;       /* has a type the value API cannot read (see below) */
};

static int set_option(duckdb_config cfg, const char *k, const char *v, struct tn_err *err)
{
	if (duckdb_set_config(cfg, k, v) == DuckDBError)
		return tn_err_set(err, TN_EINTERNAL, "duckdb: cannot set %s=%s", k, v);
	return 0;
}

int duck_open(struct duck **out, const struct duck_opts *opts, struct tn_err *err)
{
	struct duck *d = tn_calloc(1, sizeof(*d));
	duckdb_config cfg = NULL;
	char *open_err = NULL;
	char nbuf[32];
	int rc = 0;

	*out = NULL;
	if (duckdb_create_config(&cfg) == DuckDBError) {
		tn_free(d);
		return tn_err_set(err, TN_ENOMEM, "duckdb: cannot create a configuration");
	}
	/* No network here, and loading code at run time is a security hole. */
	rc = set_option(cfg, "autoinstall_known_extensions", "false", err);

	if (!rc)
		rc = set_option(cfg, "autoload_known_extensions", "false", err);
	if (!rc && opts && opts->memory_limit)
		rc = set_option(cfg, "memory_limit", opts->memory_limit, err);
	if (!rc && opts && opts->threads > 0) {
		snprintf(nbuf, sizeof(nbuf), "%d", opts->threads);
		rc = set_option(cfg, "threads", nbuf, err);
	}
	if (!rc && opts && opts->temp_dir)
		rc = set_option(cfg, "temp_directory", opts->temp_dir, err);
	if (rc)
		goto fail;
	if (duckdb_open_ext(NULL, &d->db, cfg, &open_err) == DuckDBError) {
		rc = tn_err_set(err, TN_EINTERNAL, "duckdb: cannot open: %s", open_err ? open_err : "?");
		duckdb_free(open_err);
		goto fail;
	}
	duckdb_destroy_config(&cfg);
	if (duckdb_connect(d->db, &d->con) == DuckDBError) {
		duckdb_close(&d->db);
		tn_free(d);
		return tn_err_set(err, TN_EINTERNAL, "duckdb: cannot connect");
	}
	*out = d;
	return 0;
fail:
	duckdb_destroy_config(&cfg);
	tn_free(d);
	return rc;
}

void duck_close(struct duck *d)
{
	if (!d)
		return;
	if (d->count_stmt)
		duckdb_destroy_prepare(&d->count_stmt);
	duckdb_disconnect(&d->con);
	duckdb_close(&d->db);
	tn_free(d);
}

static int query_error(duckdb_result *res, struct tn_err *err)
{
	const char *msg = duckdb_result_error(res);
	enum tn_code code = TN_EINVAL;

	switch (duckdb_result_error_type(res)) {
	case DUCKDB_ERROR_IO:
		code = TN_EIO;
		break;
	case DUCKDB_ERROR_OUT_OF_MEMORY:
		code = TN_ENOMEM;
		break;
	case DUCKDB_ERROR_INTERNAL:
	case DUCKDB_ERROR_FATAL:
		code = TN_EINTERNAL;
		break;
	case DUCKDB_ERROR_INTERRUPT:
		code = TN_EINVAL;
		break;
	default:
		break;
	}
	return tn_err_set(err, code, "%s", msg ? msg : "unknown DuckDB error");
}

/* Each line: the statement's time, then when it ended (ms since the
 * process's first traced statement) and the thread, to see overlaps. */
static void trace(const char *sql, double t0, int rc)
{
	static double start;
	double now;

	if (!tn_trace_sql())
		return;
	now = tn_mono();
	if (start == 0)
		start = t0;
	fprintf(stderr, "[duckdb %8.1f ms%s @%8.1f t%lx] %.2000s\n", (now - t0) * 1e3, rc ? " FAILED" : "",
		(now - start) * 1e3, (unsigned long)pthread_self() % 0xfff, sql);
}

int duck_exec(struct duck *d, const char *sql, struct tn_err *err)
{
	duckdb_result res;
	double t0 = tn_trace_sql() ? tn_mono() : 0;
	int rc = 0;

	if (duckdb_query(d->con, sql, &res) == DuckDBError)
		rc = query_error(&res, err);
	duckdb_destroy_result(&res);
	trace(sql, t0, rc);
	return rc;
}

/* DuckDB's value API (duckdb_value_*) reads a materialised copy of the
 * result that it cannot build for UUID, nested or time-zone columns: those
 * read as empty, and a UUID column corrupts the columns after it. Results
 * with such columns give NULL for every cell instead of garbage or a crash;
 * callers that need their text cast them to VARCHAR in SQL. */
static int unsafe_type(duckdb_type t)
{
	switch (t) {
	case DUCKDB_TYPE_UUID: case DUCKDB_TYPE_LIST: case DUCKDB_TYPE_STRUCT: case DUCKDB_TYPE_MAP:
	case DUCKDB_TYPE_ARRAY: case DUCKDB_TYPE_UNION: case DUCKDB_TYPE_TIMESTAMP_TZ:
	case DUCKDB_TYPE_TIME_TZ: case DUCKDB_TYPE_BIT: case DUCKDB_TYPE_BIGNUM:
		return 1;
	default:
		return 0;
	}
}

static int run_one(struct duck *d, duckdb_extracted_statements st, idx_t i, duckdb_result *res,
		   struct tn_err *err)
{
	duckdb_prepared_statement prep = NULL;
	int rc = 0;

	if (duckdb_prepare_extracted_statement(d->con, st, i, &prep) == DuckDBError) {
		const char *m = duckdb_prepare_error(prep);
		rc = tn_err_set(err, TN_EINVAL, "%s", m ? m : "cannot prepare statement");
		duckdb_destroy_prepare(&prep);
		memset(res, 0, sizeof(*res));
		return rc;
	}
	if (duckdb_execute_prepared(prep, res) == DuckDBError) {
		rc = query_error(res, err);
		duckdb_destroy_result(res);
	}
	duckdb_destroy_prepare(&prep);
	return rc;
}

int duck_query(struct duck *d, const char *sql, struct duck_result **out, struct tn_err *err)
{
	struct duck_result *r = tn_calloc(1, sizeof(*r));
	duckdb_extracted_statements st = NULL;
	idx_t n, i;
	size_t c;
	int rc = 0, have = 0;

	double t0 = tn_trace_sql() ? tn_mono() : 0;

	*out = NULL;
	/* One statement (no ';' at all) needs no splitting: a third of the cost
	 * of a small query. */
	if (!strchr(sql, ';')) {
		if (duckdb_query(d->con, sql, &r->res) == DuckDBError) {
			rc = query_error(&r->res, err);
			duckdb_destroy_result(&r->res);
			tn_free(r);
			trace(sql, t0, rc);
			return rc;
		}
		goto done;
	}
	n = duckdb_extract_statements(d->con, sql, &st);
	if (n == 0) {
		const char *m = st ? duckdb_extract_statements_error(st) : NULL;
		rc = tn_err_set(err, TN_EINVAL, "%s", m ? m : "no SQL statement to run");
	}
	/* Every statement runs; the result of the last one is kept. */
	for (i = 0; !rc && i < n; i++) {
		if (have)
			duckdb_destroy_result(&r->res);
		rc = run_one(d, st, i, &r->res, err);
		have = !rc;
	}
	duckdb_destroy_extracted(&st);
	if (rc) {
		tn_free(r);
		trace(sql, t0, rc);
		return rc;
	}
done:
	trace(sql, t0, 0);
	for (c = 0; c < duck_result_ncols(r); c++)
		if (unsafe_type(duckdb_column_type(&r->res, c)))
			r->unsafe = 1;
	*out = r;
	return 0;
}

int duck_result_has_rows(const struct duck_result *r)
{
	return duckdb_result_return_type(r->res) == DUCKDB_RESULT_TYPE_QUERY_RESULT;
}

int duck_result_readable(const struct duck_result *r)
{
	return !r->unsafe;
}

int duck_query_text(struct duck *d, const char *sql, char **out, struct tn_err *err)
{
	struct duck_result *r;
	int rc;

	*out = NULL;
	rc = duck_query(d, sql, &r, err);
	if (rc)
		return rc;
	if (duck_result_nrows(r) > 0 && duck_result_ncols(r) > 0)
		*out = duck_result_text(r, 0, 0);
	duck_result_free(r);
	return 0;
}

int duck_query_int(struct duck *d, const char *sql, int64_t *out, struct tn_err *err)
{
	struct duck_result *r;
	int rc;

	*out = 0;
	rc = duck_query(d, sql, &r, err);
	if (rc)
		return rc;
	if (duck_result_nrows(r) > 0 && duck_result_ncols(r) > 0)
		*out = duck_result_int(r, 0, 0);
	duck_result_free(r);
	return 0;
}

int duck_track_progress(struct duck *d, struct tn_err *err)
{
	/* DuckDB draws no bar of its own here; it only keeps the count. */
	return duck_exec(d, "SET enable_progress_bar = true; SET enable_progress_bar_print = false", err);
}

int duck_count_result(struct duck *d, int64_t n, struct duck_result **out, struct tn_err *err)
{
	struct duck_result *r;

	*out = NULL;
	if (!d->count_stmt &&
	    duckdb_prepare(d->con, "SELECT CAST($1 AS BIGINT) AS \"Count\"", &d->count_stmt) == DuckDBError) {
		duckdb_destroy_prepare(&d->count_stmt);
		d->count_stmt = NULL;
		return tn_err_set(err, TN_EINTERNAL, "duckdb: cannot prepare the row count result");
	}
	duckdb_bind_int64(d->count_stmt, 1, n);
	r = tn_calloc(1, sizeof(*r));
	if (duckdb_execute_prepared(d->count_stmt, &r->res) == DuckDBError) {
		int rc = query_error(&r->res, err);
		duckdb_destroy_result(&r->res);
		tn_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

double duck_progress(struct duck *d)
{
	duckdb_query_progress_type p;

	if (!d)
		return -1;
	p = duckdb_query_progress(d->con);
	return p.percentage;
}

void duck_interrupt(struct duck *d)
{
	if (d)
		duckdb_interrupt(d->con);
}

void duck_result_free(struct duck_result *r)
{
	size_t i, n;

	if (!r)
		return;
	n = duckdb_column_count(&r->res);
	if (r->typenames) {
		for (i = 0; i < n; i++)
			tn_free(r->typenames[i]);
		tn_free(r->typenames);
	}
	duckdb_destroy_result(&r->res);
	tn_free(r);
}

size_t duck_result_ncols(const struct duck_result *r)
{
	return (size_t)duckdb_column_count((duckdb_result *)&r->res);
}

uint64_t duck_result_nrows(const struct duck_result *r)
{
	return (uint64_t)duckdb_row_count((duckdb_result *)&r->res);
}

uint64_t duck_result_changed(const struct duck_result *r)
{
	return (uint64_t)duckdb_rows_changed((duckdb_result *)&r->res);
}

const char *duck_result_name(const struct duck_result *r, size_t col)
{
	const char *n = duckdb_column_name((duckdb_result *)&r->res, col);
	return n ? n : "";
}

static enum duck_kind kind_of(duckdb_type t)
{
	switch (t) {
	case DUCKDB_TYPE_BOOLEAN:
		return DUCK_KIND_BOOL;
	case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
	case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT:
	case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT:
	case DUCKDB_TYPE_UHUGEINT:
		return DUCK_KIND_INT;
	case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE:
		return DUCK_KIND_FLOAT;
	case DUCKDB_TYPE_DECIMAL:
		return DUCK_KIND_DECIMAL;
	case DUCKDB_TYPE_VARCHAR: case DUCKDB_TYPE_UUID:
		return DUCK_KIND_STRING;
	case DUCKDB_TYPE_DATE: case DUCKDB_TYPE_TIME: case DUCKDB_TYPE_TIMESTAMP:
	case DUCKDB_TYPE_TIMESTAMP_S: case DUCKDB_TYPE_TIMESTAMP_MS: case DUCKDB_TYPE_TIMESTAMP_NS:
	case DUCKDB_TYPE_TIMESTAMP_TZ: case DUCKDB_TYPE_TIME_TZ: case DUCKDB_TYPE_INTERVAL:
		return DUCK_KIND_TEMPORAL;
	case DUCKDB_TYPE_LIST: case DUCKDB_TYPE_STRUCT: case DUCKDB_TYPE_MAP: case DUCKDB_TYPE_ARRAY:
		return DUCK_KIND_NESTED;
	default:
		return DUCK_KIND_OTHER;
	}
}

enum duck_kind duck_result_kind(const struct duck_result *r, size_t col)
{
	return kind_of(duckdb_column_type((duckdb_result *)&r->res, col));
}

/* Primitive types: DuckLake name and DuckDB name. */
static const struct {
	duckdb_type id;
	const char *lake, *duck;
} prims[] = {
	{ DUCKDB_TYPE_BOOLEAN, "boolean", "BOOLEAN" },
	{ DUCKDB_TYPE_TINYINT, "int8", "TINYINT" },
	{ DUCKDB_TYPE_SMALLINT, "int16", "SMALLINT" },
	{ DUCKDB_TYPE_INTEGER, "int32", "INTEGER" },
	{ DUCKDB_TYPE_BIGINT, "int64", "BIGINT" },
	{ DUCKDB_TYPE_HUGEINT, "int128", "HUGEINT" },
	{ DUCKDB_TYPE_UTINYINT, "uint8", "UTINYINT" },
	{ DUCKDB_TYPE_USMALLINT, "uint16", "USMALLINT" },
	{ DUCKDB_TYPE_UINTEGER, "uint32", "UINTEGER" },
	{ DUCKDB_TYPE_UBIGINT, "uint64", "UBIGINT" },
	{ DUCKDB_TYPE_UHUGEINT, "uint128", "UHUGEINT" },
	{ DUCKDB_TYPE_FLOAT, "float32", "FLOAT" },
	{ DUCKDB_TYPE_DOUBLE, "float64", "DOUBLE" },
	{ DUCKDB_TYPE_DATE, "date", "DATE" },
	{ DUCKDB_TYPE_TIME, "time", "TIME" },
	{ DUCKDB_TYPE_TIME_TZ, "timetz", "TIME WITH TIME ZONE" },
	{ DUCKDB_TYPE_TIMESTAMP, "timestamp", "TIMESTAMP" },
	{ DUCKDB_TYPE_TIMESTAMP_TZ, "timestamptz", "TIMESTAMP WITH TIME ZONE" },
	{ DUCKDB_TYPE_TIMESTAMP_S, "timestamp_s", "TIMESTAMP_S" },
	{ DUCKDB_TYPE_TIMESTAMP_MS, "timestamp_ms", "TIMESTAMP_MS" },
	{ DUCKDB_TYPE_TIMESTAMP_NS, "timestamp_ns", "TIMESTAMP_NS" },
	{ DUCKDB_TYPE_INTERVAL, "interval", "INTERVAL" },
	{ DUCKDB_TYPE_VARCHAR, "varchar", "VARCHAR" },
	{ DUCKDB_TYPE_BLOB, "blob", "BLOB" },
	{ DUCKDB_TYPE_UUID, "uuid", "UUID" },
	{ DUCKDB_TYPE_BIT, NULL, "BIT" },
	{ DUCKDB_TYPE_ENUM, NULL, "ENUM" },
	{ DUCKDB_TYPE_UNION, NULL, "UNION" },
	{ DUCKDB_TYPE_BIGNUM, NULL, "BIGNUM" },
};

static void type_fill(struct duck_type *t, duckdb_logical_type lt);

static void add_child(struct duck_type *t, const char *name, duckdb_logical_type lt)
{
	struct duck_type *c;

	t->child = tn_realloc(t->child, (t->nchild + 1) * sizeof(*t->child));
	c = &t->child[t->nchild++];
	memset(c, 0, sizeof(*c));
	c->name = tn_strdup(name);
	type_fill(c, lt);
}

static void nested_duck_name(struct duck_type *t, duckdb_type id)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;

	if (id == DUCKDB_TYPE_LIST) {
		tn_buf_addf(&b, "%s[]", t->child[0].duck);
	} else if (id == DUCKDB_TYPE_MAP) {
		tn_buf_addf(&b, "MAP(%s, %s)", t->child[0].duck, t->child[1].duck);
	} else {
		tn_buf_adds(&b, "STRUCT(");
		for (i = 0; i < t->nchild; i++) {
			if (i)
				tn_buf_adds(&b, ", ");
			tn_buf_add_sqlid(&b, t->child[i].name);
			tn_buf_addf(&b, " %s", t->child[i].duck);
		}
		tn_buf_addc(&b, ')');
	}
	t->duck = tn_buf_detach(&b, NULL);
}

static int nested_ok(const struct duck_type *t)
{
	size_t i;
	for (i = 0; i < t->nchild; i++)
		if (!t->child[i].lake)
			return 0;
	return 1;
}

static void type_fill(struct duck_type *t, duckdb_logical_type lt)
{
	duckdb_type id = duckdb_get_type_id(lt);
	duckdb_logical_type sub;
	size_t i;

	if (id == DUCKDB_TYPE_DECIMAL) {
		unsigned w = duckdb_decimal_width(lt), s = duckdb_decimal_scale(lt);
		t->lake = tn_xprintf("decimal(%u,%u)", w, s);
		t->duck = tn_xprintf("DECIMAL(%u,%u)", w, s);
		return;
	}
	if (id == DUCKDB_TYPE_LIST) {
		sub = duckdb_list_type_child_type(lt);
		add_child(t, "element", sub);
		duckdb_destroy_logical_type(&sub);
		nested_duck_name(t, id);
		t->lake = nested_ok(t) ? tn_strdup("list") : NULL;
		return;
	}
	if (id == DUCKDB_TYPE_MAP) {
		sub = duckdb_map_type_key_type(lt);
		add_child(t, "key", sub);
		duckdb_destroy_logical_type(&sub);
		sub = duckdb_map_type_value_type(lt);
		add_child(t, "value", sub);
		duckdb_destroy_logical_type(&sub);
		nested_duck_name(t, id);
		t->lake = nested_ok(t) ? tn_strdup("map") : NULL;
		return;
	}
	if (id == DUCKDB_TYPE_STRUCT) {
		size_t n = duckdb_struct_type_child_count(lt);
		for (i = 0; i < n; i++) {
			char *name = duckdb_struct_type_child_name(lt, i);
			sub = duckdb_struct_type_child_type(lt, i);
			add_child(t, name, sub);
			duckdb_destroy_logical_type(&sub);
			duckdb_free(name);
		}
		nested_duck_name(t, id);
		t->lake = nested_ok(t) ? tn_strdup("struct") : NULL;
		return;
	}
	{
		char *alias = duckdb_logical_type_get_alias(lt);
		if (alias && id == DUCKDB_TYPE_VARCHAR && !strcmp(alias, "JSON")) {
			t->lake = tn_strdup("json");
			t->duck = tn_strdup("JSON");
			duckdb_free(alias);
			return;
		}
		duckdb_free(alias);
	}
	for (i = 0; i < TN_ARRAY_LEN(prims); i++) {
		if (prims[i].id == id) {
			t->lake = prims[i].lake ? tn_strdup(prims[i].lake) : NULL;
			t->duck = tn_strdup(prims[i].duck);
			return;
		}
	}
	t->lake = NULL;
	t->duck = tn_strdup(id == DUCKDB_TYPE_ARRAY ? "ARRAY" : "an unsupported type");
}

struct duck_type *duck_result_type(struct duck_result *r, size_t col)
{
	struct duck_type *t = tn_calloc(1, sizeof(*t));
	duckdb_logical_type lt = duckdb_column_logical_type(&r->res, col);

	type_fill(t, lt);
	duckdb_destroy_logical_type(&lt);
	return t;
}

static void type_release(struct duck_type *t)
{
	size_t i;

	for (i = 0; i < t->nchild; i++)
		type_release(&t->child[i]);
	tn_free(t->child);
	tn_free(t->name);
	tn_free(t->lake);
	tn_free(t->duck);
}

void duck_type_free(struct duck_type *t)
{
	if (!t)
		return;
	type_release(t);
	tn_free(t);
}

const char *duck_result_typename(struct duck_result *r, size_t col)
{
	size_t n = duck_result_ncols(r);

	if (col >= n)
		return "";
	if (!r->typenames)
		r->typenames = tn_calloc(n, sizeof(char *));
	if (!r->typenames[col]) {
		struct duck_type *t = duck_result_type(r, col);
		r->typenames[col] = t->duck;
		t->duck = NULL;
		duck_type_free(t);
	}
	return r->typenames[col];
}

int duck_result_is_null(struct duck_result *r, size_t col, uint64_t row)
{
	if (r->unsafe)
		return 1;
	return duckdb_value_is_null(&r->res, col, row);
}

char *duck_result_text(struct duck_result *r, size_t col, uint64_t row)
{
	char *v, *out;

	if (r->unsafe || duckdb_value_is_null(&r->res, col, row))
		return NULL;
	v = duckdb_value_varchar(&r->res, col, row);
	out = tn_strdup(v ? v : "");
	duckdb_free(v);
	return out;
}

int64_t duck_result_int(struct duck_result *r, size_t col, uint64_t row)
{
	if (r->unsafe)
		return 0;
	return duckdb_value_int64(&r->res, col, row);
}

int duck_count_statements(struct duck *d, const char *sql, size_t *n, struct tn_err *err)
{
	duckdb_extracted_statements st = NULL;
	idx_t cnt = duckdb_extract_statements(d->con, sql, &st);
	int rc = 0;

	*n = 0;
	if (cnt == 0) {
		const char *m = st ? duckdb_extract_statements_error(st) : NULL;
		if (m)
			rc = tn_err_set(err, TN_EINVAL, "%s", m);
	} else {
		*n = (size_t)cnt;
	}
	duckdb_destroy_extracted(&st);
	return rc;
}
