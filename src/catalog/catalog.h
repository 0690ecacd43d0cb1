/*
 * catalog: the SQL database that holds a lake's metadata (DuckLake tables).
 * A thin, backend-neutral layer: open, transactions, prepared statements
 * with `?` parameters, typed column reads. The SQLite backend lives in
 * catalog_sqlite.c; nothing above this header knows which backend it has.
 * One handle per session (thread); not thread-safe.
 */
#ifndef CATALOG_H
#define CATALOG_H

#include <stdint.h>
#include "base/tn_err.h"

struct catalog;
struct catalog_stmt;

/* Open the catalog at `path`; with `create` a missing file is created. */
int catalog_open(struct catalog **out, const char *path, int create, struct tn_err *err);
void catalog_close(struct catalog *cat);

/* Run SQL without parameters or results (may hold several statements). */
int catalog_exec(struct catalog *cat, const char *sql, struct tn_err *err);

/* Transactions. catalog_begin(write=1) takes the write lock at once
 * (BEGIN IMMEDIATE), waiting for other writers up to the busy timeout. */
int catalog_begin(struct catalog *cat, int write, struct tn_err *err);
int catalog_commit(struct catalog *cat, struct tn_err *err);
void catalog_rollback(struct catalog *cat);     /* no-op outside a transaction */
int catalog_in_txn(struct catalog *cat);
/* Savepoints inside a transaction (statement atomicity). */
int catalog_savepoint(struct catalog *cat, const char *name, struct tn_err *err);
int catalog_release(struct catalog *cat, const char *name, struct tn_err *err);
void catalog_rollback_to(struct catalog *cat, const char *name);

/* Prepared statements: bind 1-based, step, read 0-based columns. */
int catalog_prepare(struct catalog *cat, const char *sql, struct catalog_stmt **out,
		    struct tn_err *err);
void catalog_bind_int(struct catalog_stmt *st, int idx, int64_t v);
void catalog_bind_text(struct catalog_stmt *st, int idx, const char *v); /* NULL binds NULL */
void catalog_bind_null(struct catalog_stmt *st, int idx);
/* 1 = a row is ready, 0 = done, negative = error (err filled). */
int catalog_step(struct catalog_stmt *st, struct tn_err *err);
int catalog_col_is_null(struct catalog_stmt *st, int col);
int64_t catalog_col_int(struct catalog_stmt *st, int col);
/* Borrowed until the next step; NULL for SQL NULL. */
const char *catalog_col_text(struct catalog_stmt *st, int col);
/* Owned copy (tn_free), NULL for SQL NULL. */
char *catalog_col_dup(struct catalog_stmt *st, int col);
void catalog_reset(struct catalog_stmt *st);
void catalog_finalize(struct catalog_stmt *st);

/* One-shot helpers: run `sql` with int64 parameters (n of them) ... */
int catalog_run(struct catalog *cat, const char *sql, struct tn_err *err, int n, ...);
/* ... and read the first column of the first row as int64 (*found = 0 if no row). */
int catalog_get_int(struct catalog *cat, const char *sql, int64_t *out, int *found,
		    struct tn_err *err, int n, ...);

/* Consistency of the catalog database itself ("ok" or a message). */
int catalog_integrity(struct catalog *cat, char **msg, struct tn_err *err);
/* Path of the catalog (borrowed). */
const char *catalog_path(const struct catalog *cat);

#endif
