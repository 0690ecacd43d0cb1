/*
 * session: one user's connection to a lake: an embedded DuckDB, a catalog
 * handle and transaction state. session_exec runs SQL the way `tarn sql`
 * does: lake DDL and DML become catalog commits (one snapshot per statement,
 * or one per BEGIN ... COMMIT), every SELECT runs in DuckDB over the files
 * of the snapshot it reads, with AT (VERSION => n | TIMESTAMP => t) on any
 * table reference. Not thread-safe: one session per thread.
 */
#ifndef SESSION_H
#define SESSION_H

#include "base/tn_err.h"
#include "engine/duck.h"

struct lake;
struct session;

int session_open(struct session **out, struct lake *lk, struct tn_err *err);
/* Closing a session with an open transaction rolls it back. */
void session_close(struct session *s);

/*
 * Run one or more SQL statements. On success *res (if res is not NULL) is
 * the result of the last statement (a one-column "Count" result for DML and
 * DDL), owned by the caller. On error nothing of the failing statement is
 * kept; in autocommit mode earlier statements of `sql` stay committed.
 */
int session_exec(struct session *s, const char *sql, struct duck_result **res, struct tn_err *err);

/*
 * Author, message and extra text for the next snapshot this session commits
 * (ducklake_snapshot_changes); NULLs clear them. They apply to the open
 * transaction, or else to the next statement that commits, and are then
 * forgotten. Strings are copied.
 */
/* A gate before a transaction's first wait for the catalog's write lock:
 * called after a CREATE TABLE ... AS has written its data file (the slow
 * part) and before anything is committed; nonzero holds the statement back
 * (it fails with `err` and leaves nothing). NULL removes it. For callers
 * that start work early and decide later whether it may land. */
typedef int session_gate_fn(void *arg, struct tn_err *err);
void session_set_gate(struct session *s, session_gate_fn *fn, void *arg);

void session_set_commit_info(struct session *s, const char *author, const char *message,
			     const char *extra);

/* The id of the snapshot this session's last commit made, or -1 (none
 * yet, or the last statement changed nothing). */
int64_t session_last_commit(const struct session *s);

/* What schema.name (schema NULL: main) is at the snapshot the session
 * reads: a catalog lookup, case-insensitive as SQL names are, with no
 * DuckDB work (unlike tarn_tables(), which lists every table). */
enum session_rel { SESSION_REL_NONE, SESSION_REL_TABLE, SESSION_REL_VIEW };
int session_relation(struct session *s, const char *schema, const char *name, enum session_rel *kind,
		     struct tn_err *err);

/* The top-level column names of table schema.name at the snapshot the
 * session reads, in order: *names (n strings, each owned, and the array;
 * free with tn_free). TN_ENOTFOUND when there is no such table. */
int session_columns(struct session *s, const char *schema, const char *name, char ***names, size_t *n,
		    struct tn_err *err);

/* 1 while a BEGIN ... COMMIT transaction is open. */
int session_in_txn(const struct session *s);
/* The session's DuckDB (for tools that need to run plain DuckDB SQL). */
struct duck *session_duck(struct session *s);

#endif
