/*
 * catalog_int.h: what the catalog's backends share and nothing else may
 * include. A backend is a struct catalog_ops (SQLite's sqlite3_vfs idea);
 * its handle and statement types embed struct catalog / struct
 * catalog_stmt as their first member. catalog.c dispatches and holds the
 * backend-neutral helpers.
 */
#ifndef CATALOG_INT_H
#define CATALOG_INT_H

#include "catalog/catalog.h"

struct tn_buf;

struct catalog {
	const struct catalog_ops *ops;
	char *display;          /* catalog_path(): never holds a password */
};

struct catalog_stmt {
	struct catalog *cat;
	double trace_t0;   /* TARN_TRACE_SQL: when it was prepared (0: not traced) */
	char *trace_sql;
	long trace_rows;
};

struct catalog_ops {
	const char *name;       /* "sqlite", "postgres" */
	/* `target` is the URI without a "sqlite:" prefix, or the whole
	 * PostgreSQL URI / the conninfo after "postgres:". */
	int (*open)(struct catalog **out, const char *target, int create, struct tn_err *err);
	void (*close)(struct catalog *cat);
	int (*exec)(struct catalog *cat, const char *sql, struct tn_err *err);
	int (*begin)(struct catalog *cat, int write, struct tn_err *err);
	int (*commit)(struct catalog *cat, struct tn_err *err);
	void (*rollback)(struct catalog *cat);
	int (*in_txn)(struct catalog *cat);
	int (*prepare)(struct catalog *cat, const char *sql, struct catalog_stmt **out,
		       struct tn_err *err);
	void (*bind_int)(struct catalog_stmt *st, int idx, int64_t v);
	void (*bind_text)(struct catalog_stmt *st, int idx, const char *v);
	void (*bind_bool)(struct catalog_stmt *st, int idx, int v);
	int (*step)(struct catalog_stmt *st, struct tn_err *err);
	int (*col_is_null)(struct catalog_stmt *st, int col);
	int64_t (*col_int)(struct catalog_stmt *st, int col);
	const char *(*col_text)(struct catalog_stmt *st, int col);
	void (*reset)(struct catalog_stmt *st);
	void (*finalize)(struct catalog_stmt *st);
	int (*integrity)(struct catalog *cat, char **msg, struct tn_err *err);
	/* Column names in order, appended to *names (catalog.c checks for none). */
	int (*table_columns)(struct catalog *cat, const char *table, char ***names, size_t *n,
			     struct tn_err *err);
};

extern const struct catalog_ops catalog_sqlite_ops;
extern const struct catalog_ops catalog_pg_ops;

/*
 * `msg` with every password replaced by "***": `password` (may be NULL),
 * those `conninfo` (a PostgreSQL URI or keyword conninfo; may be NULL)
 * holds, PGPASSWORD, and any "password=…" or "://user:…@" in `msg` itself.
 * Owned result (tn_free).
 */
char *catalog_redact(const char *msg, const char *conninfo, const char *password);

/*
 * Translate SQLite-style SQL for PostgreSQL (catalog_pgsql.c): `?` and `?N`
 * become `$N` (a bare `?` takes the largest number so far plus one, as in
 * SQLite); string literals ('…', E'…', $tag$…$tag$), quoted identifiers
 * and comments are copied untouched. Appends to `out`; *nparams is the
 * largest number used and *used an owned array (tn_free; NULL when
 * *nparams is 0) with used[i] = 1 when $i+1 appears. TN_EINVAL for ?0 or a
 * number above CATALOG_PG_MAX_PARAMS (SQLite's default limit).
 */
#define CATALOG_PG_MAX_PARAMS 32766
int catalog_pg_translate(const char *sql, struct tn_buf *out, int *nparams, unsigned char **used,
			 struct tn_err *err);

/* Appends `s` to a growing array of owned strings (for table_columns). */
void catalog_names_push(char ***names, size_t *n, const char *s);

#endif
