/*
 * catalog: the SQL database that holds a lake's metadata (DuckLake tables).
 * A thin, backend-neutral layer: open, transactions, prepared statements
 * with `?` parameters, typed column reads. Two backends behind one ops
 * table (catalog_int.h): SQLite (catalog_sqlite.c) and PostgreSQL
 * (catalog_pg.c), chosen by the URI; nothing above this header knows which
 * one it has. SQL is written in the dialect both accept (SQLite's `?`/`?N`
 * parameters are translated for PostgreSQL; see catalog_pg.c).
 * One handle per session (thread); a handle is not thread-safe.
 */
#ifndef CATALOG_H
#define CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

struct catalog;
struct catalog_stmt;

/*
 * Open the catalog at `uri`:
 *   "path" or "sqlite:path"          a SQLite file; with `create` a missing
 *                                    file is created, without it a missing
 *                                    file is TN_ENOTFOUND;
 *   "postgres://…", "postgresql://…" a PostgreSQL URI, or
 *   "postgres:<libpq conninfo>"      ("postgres:" alone: all from PG* vars).
 * libpq also reads the usual PG* environment variables and ~/.pgpass.
 * PostgreSQL databases are never created; `create` has no effect there, and
 * a database without the DuckLake tables still opens (callers check for
 * ducklake_metadata). On success *out must be released with
 * catalog_close(); on failure *out is NULL and the error is TN_ENOTFOUND,
 * TN_EIO (SQLite) or TN_EREMOTE (cannot connect). Messages never contain a
 * password.
 */
int catalog_open(struct catalog **out, const char *uri, int create, struct tn_err *err);
void catalog_close(struct catalog *cat);   /* NULL-safe; rolls back an open transaction */

/* "sqlite" or "postgres". */
const char *catalog_backend(const struct catalog *cat);

/*
 * SQL, in the backend's dialect, for the BIGINT that the text expression
 * `col` spells when it is a plain decimal integer of at most 18 digits
 * (so differences never overflow), else NULL (never an
 * error, whatever the text). It is deterministic, so an index may hold it;
 * a query matches such an index only with the very same text, so build
 * both with this. Owned (tn_free).
 */
char *catalog_int_of(const struct catalog *cat, const char *col);

/* SQL for a one-column table (column `id`, BIGINT) of the integers in a
 * JSON array given as text parameter `param` (e.g. "?4"), in the backend's
 * dialect. Owned. */
char *catalog_json_ids(const struct catalog *cat, const char *param);

/* Run SQL without parameters or results; may hold several statements
 * separated by ';' (they stop at the first error). */
int catalog_exec(struct catalog *cat, const char *sql, struct tn_err *err);

/*
 * Transactions. catalog_begin(write=1) takes the catalog's write lock at
 * once, so writers queue (up to 30 s, then TN_ECONFLICT) instead of
 * failing later: BEGIN IMMEDIATE on SQLite; on PostgreSQL BEGIN (READ
 * COMMITTED) plus a transaction-scoped advisory lock, so every statement
 * after it sees all earlier commits. catalog_begin(write=0) reads one
 * snapshot (PostgreSQL: REPEATABLE READ).
 * On PostgreSQL a failed statement aborts the whole transaction until
 * catalog_rollback() or catalog_rollback_to() a savepoint; catalog_commit()
 * of such a transaction rolls it back and fails.
 * catalog_commit() ends the transaction even when it fails.
 */
int catalog_begin(struct catalog *cat, int write, struct tn_err *err);
int catalog_commit(struct catalog *cat, struct tn_err *err);
void catalog_rollback(struct catalog *cat);     /* no-op outside a transaction; NULL-safe */
int catalog_in_txn(struct catalog *cat);
/* Savepoints inside a transaction (statement atomicity; outside one,
 * PostgreSQL refuses them). `name` is a plain identifier ([A-Za-z0-9_],
 * else TN_EINVAL); rollback_to also releases the savepoint. */
int catalog_savepoint(struct catalog *cat, const char *name, struct tn_err *err);
int catalog_release(struct catalog *cat, const char *name, struct tn_err *err);
void catalog_rollback_to(struct catalog *cat, const char *name);

/*
 * Prepared statements: bind 1-based, step, read 0-based columns.
 * Parameters are `?` (the next number) and `?N` (may repeat). Binding an
 * index the statement does not have is ignored. On PostgreSQL parameters
 * go as untyped text and the server infers their types from the context
 * (a parameter with no context, e.g. `SELECT ?1 + 1`, may be inferred as
 * INTEGER: cast it); prepared statements are cached per handle by SQL text.
 * PostgreSQL runs a statement unnamed the first time (one round trip) and
 * prepares it on the server from the second, so there an error in the SQL
 * itself may come from the first catalog_step rather than catalog_prepare.
 * A whole result is fetched on the first step, so other statements may run
 * on the same handle while one is being stepped.
 */
int catalog_prepare(struct catalog *cat, const char *sql, struct catalog_stmt **out,
		    struct tn_err *err);
void catalog_bind_int(struct catalog_stmt *st, int idx, int64_t v);
void catalog_bind_text(struct catalog_stmt *st, int idx, const char *v); /* NULL binds NULL */
void catalog_bind_null(struct catalog_stmt *st, int idx);
/* A boolean: 0/1 on SQLite, false/true on PostgreSQL. */
void catalog_bind_bool(struct catalog_stmt *st, int idx, int v);
/* 1 = a row is ready, 0 = done, negative = error (err filled). Errors:
 * TN_ECONFLICT for a unique violation, serialization failure, deadlock or
 * lock timeout; TN_EINVAL for bad SQL or data; TN_EREMOTE when the server
 * connection fails. */
int catalog_step(struct catalog_stmt *st, struct tn_err *err);
int catalog_col_is_null(struct catalog_stmt *st, int col);
/* Integers; booleans read as 0/1 on both backends. */
int64_t catalog_col_int(struct catalog_stmt *st, int col);
/* Borrowed until the next step; NULL for SQL NULL; booleans read as "0"/"1". */
const char *catalog_col_text(struct catalog_stmt *st, int col);
/* Owned copy (tn_free), NULL for SQL NULL. */
char *catalog_col_dup(struct catalog_stmt *st, int col);
/* Back to before the first step, with all bindings cleared. */
void catalog_reset(struct catalog_stmt *st);
void catalog_finalize(struct catalog_stmt *st);   /* NULL-safe */

/* One-shot helpers: run `sql` with int64 parameters (n of them) ... */
int catalog_run(struct catalog *cat, const char *sql, struct tn_err *err, int n, ...);
/* ... and read the first column of the first row as int64 (*found = 0 if no row). */
int catalog_get_int(struct catalog *cat, const char *sql, int64_t *out, int *found,
		    struct tn_err *err, int n, ...);

/*
 * Column names of catalog table `table` (unquoted name, as created), in
 * column order. On success *names is an owned array of *n owned strings,
 * released with catalog_columns_free(); TN_ENOTFOUND when there is no such
 * table.
 */
int catalog_table_columns(struct catalog *cat, const char *table, char ***names, size_t *n,
			  struct tn_err *err);
void catalog_columns_free(char **names, size_t n);   /* NULL-safe */

/* Consistency of the catalog database itself: *msg is an owned "ok" or a
 * description of the problem. */
int catalog_integrity(struct catalog *cat, char **msg, struct tn_err *err);
/* Where the catalog is, for messages (borrowed): the SQLite path, or the
 * PostgreSQL server and database without any password. */
const char *catalog_path(const struct catalog *cat);

#endif
