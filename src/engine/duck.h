/*
 * duck: tarn's only door to DuckDB (the only file that includes duckdb.h).
 * One `struct duck` is an in-memory DuckDB database with one connection;
 * tarn runs every query and writes every Parquet file through it. Results
 * are materialised; values come out as text (DuckDB's own cast to VARCHAR)
 * with a coarse kind per column so callers can format them.
 * Not thread-safe: one duck per thread, except duck_interrupt().
 */
#ifndef DUCK_H
#define DUCK_H

#include <stdint.h>
#include <stddef.h>
#include "base/tn_err.h"

struct duck;
struct duck_result;

enum duck_kind {
	DUCK_KIND_BOOL,
	DUCK_KIND_INT,      /* all integer types */
	DUCK_KIND_FLOAT,    /* float, double */
	DUCK_KIND_DECIMAL,
	DUCK_KIND_STRING,   /* varchar, uuid, json */
	DUCK_KIND_TEMPORAL, /* date, time, timestamp*, interval */
	DUCK_KIND_NESTED,   /* list, struct, map, array */
	DUCK_KIND_OTHER     /* blob and the rest */
};

/* A column type as a tree, named in DuckLake's vocabulary. */
struct duck_type {
	char *name;              /* field name; NULL at top level */
	char *lake;              /* "int32", "decimal(18,3)", "struct", ...; NULL if
				  * DuckLake cannot store this type */
	char *duck;              /* DuckDB's name for the type, for messages */
	size_t nchild;
	struct duck_type *child; /* struct fields; list "element"; map "key","value" */
};

struct duck_opts {
	const char *memory_limit; /* e.g. "4GB"; NULL = DuckDB default */
	int threads;              /* 0 = DuckDB default */
	const char *temp_dir;     /* spill directory; NULL = default */
};

int duck_open(struct duck **out, const struct duck_opts *opts, struct tn_err *err);
void duck_close(struct duck *d);

/* Run SQL (one or more statements), discarding results. */
int duck_exec(struct duck *d, const char *sql, struct tn_err *err);
/* Run SQL and keep the result of the last statement; *out owned by caller. */
int duck_query(struct duck *d, const char *sql, struct duck_result **out, struct tn_err *err);
/* Run a query expected to return one value; *out = owned text or NULL. */
int duck_query_text(struct duck *d, const char *sql, char **out, struct tn_err *err);
int duck_query_int(struct duck *d, const char *sql, int64_t *out, struct tn_err *err);
/* A one-row, one-column "Count" result holding n (cheap: prepared once). */
int duck_count_result(struct duck *d, int64_t n, struct duck_result **out, struct tn_err *err);
/* Make DuckDB count query progress (costs a little on every query). */
int duck_track_progress(struct duck *d, struct tn_err *err);
/* Progress of the running query in percent, or -1 when unknown (or not
 * tracked); may be called from another thread while the query runs. */
double duck_progress(struct duck *d);
/* Cancel the running query of `d` from another thread. */
void duck_interrupt(struct duck *d);

void duck_result_free(struct duck_result *r);
/* 1 when the statement returns rows (a query), 0 for SET, CREATE ... */
int duck_result_has_rows(const struct duck_result *r);
/* 0 when some column has a type whose values this API cannot read (UUID,
 * nested, time zone ...): every cell then reads as NULL; cast such columns
 * to VARCHAR in SQL to read them. */
int duck_result_readable(const struct duck_result *r);
size_t duck_result_ncols(const struct duck_result *r);
uint64_t duck_result_nrows(const struct duck_result *r);
/* Rows changed, for INSERT/COPY style statements. */
uint64_t duck_result_changed(const struct duck_result *r);
const char *duck_result_name(const struct duck_result *r, size_t col);
enum duck_kind duck_result_kind(const struct duck_result *r, size_t col);
/* DuckDB's type name of a column ("INTEGER", "STRUCT(a INTEGER)" ...); borrowed. */
const char *duck_result_typename(struct duck_result *r, size_t col);
int duck_result_is_null(struct duck_result *r, size_t col, uint64_t row);
/* The value as text (owned, free with tn_free), or NULL for SQL NULL. */
char *duck_result_text(struct duck_result *r, size_t col, uint64_t row);
int64_t duck_result_int(struct duck_result *r, size_t col, uint64_t row);
/* The column's type tree; owned, free with duck_type_free. */
struct duck_type *duck_result_type(struct duck_result *r, size_t col);
void duck_type_free(struct duck_type *t);

/* Split SQL into statements the way DuckDB's parser does; count or error. */
int duck_count_statements(struct duck *d, const char *sql, size_t *n, struct tn_err *err);

#endif
