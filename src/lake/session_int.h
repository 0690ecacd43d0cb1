/*
 * session_int.h: the session's state, shared by session.c (dispatch,
 * transactions, the DuckDB mirror), write.c (INSERT/DELETE/UPDATE),
 * ddl.c (CREATE/DROP/ALTER/COMMENT), timetravel.c and introspect.c.
 */
#ifndef SESSION_INT_H
#define SESSION_INT_H

#include "lake/lake_int.h"
#include "lake/session.h"
#include "lake/sqlparse.h"

struct session {
	struct lake *lk;
	struct catalog *cat;
	struct duck *duck;
	struct ddl_staged *staged; /* a CREATE TABLE AS written before the lock (ddl_stage) */

	int in_txn;             /* explicit BEGIN ... COMMIT */
	int64_t read_snap;      /* snapshot pinned by BEGIN */
	int wtxn;               /* a catalog write transaction is open */
	struct lk_snap base;    /* latest snapshot when the write began */
	int64_t new_snap;       /* id the commit will get */
	int64_t last_commit;    /* the snapshot this session last made, or -1 */
	int64_t next_catalog_id, next_file_id;
	int schema_changed;
	struct tn_buf changes;  /* changes_made entries, comma separated */
	struct tn_buf theirs;   /* changes committed by others since read_snap */
	char **files;           /* data/delete files written by the open transaction */
	size_t nfiles, afiles;

	int64_t mirror_snap;    /* snapshot the DuckDB views show; -1 = none */
	int mirror_dirty;       /* rebuild at the next read */
	int mirror_behind;      /* the open transaction wrote since the views were made:
				 * they show a committed snapshot without its writes */
	int txn_wrote;          /* a statement of the open write transaction changed something */
	char **mirrored;        /* "schema\0name" pairs created in DuckDB, as SQL to drop */
	size_t nmirrored, amirrored;
	/* Tables whose mirror view is still a row-less stand-in (typed
	 * columns, no files opened): built when a query reads them, so a
	 * session that reads one table of a big lake never lists the files of
	 * the others. */
	struct sess_lazy *lazy;
	size_t nlazy, alazy;
	char **ttviews;         /* time-travel views created, by name */
	size_t ntt, att;
	int stmt_seq;
	int query_is_select;
	int tt_only;           /* tt_rewrite's output reads no table but its own views */
	int64_t inline_limit;   /* data_inlining_row_limit */
	char *author, *message, *extra; /* for the next commit */
	struct sess_retry *retry; /* automatic retry state (session.c) */
	session_gate_fn *gate;    /* session_set_gate */
	void *gate_arg;
	char **inl_known;       /* inlined-data tables known to exist */
	size_t ninl_known, ainl_known;    /* the running query has no side effects */
};

/* session.c */
enum sess_op { SESS_OP_APPEND, SESS_OP_DELETE, SESS_OP_DDL };
/* In a transaction that began before others' commits: does writing
 * `table` this way conflict with them? TN_ECONFLICT names the table. */
int sess_check_conflict(struct session *s, int64_t table_id, const char *table, enum sess_op op,
			struct tn_err *err);
int sess_write_begin(struct session *s, struct tn_err *err);
void sess_change(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sess_track_file(struct session *s, const char *path);
/* Snapshot that reads see now (pending one inside a write transaction). */
int sess_read_snapshot(struct session *s, int64_t *n, struct tn_err *err);
int sess_refresh_mirror(struct session *s, struct tn_err *err);
/* What reads use: the mirror at the read snapshot, with the views of the
 * tables `sql` reads built (every table's when that cannot be told). */
int sess_mirror_for(struct session *s, const char *sql, struct tn_err *err);
/* sess_mirror_for for `sql` that is a SELECT (the body of CREATE TABLE AS),
 * whatever the statement around it. */
int sess_mirror_for_select(struct session *s, const char *sql, struct tn_err *err);
/* A one-row "Count" result. */
int sess_count_result(struct session *s, int64_t n, struct duck_result **res, struct tn_err *err);
/* Resolve the target of a statement at the read snapshot. */
int sess_table(struct session *s, const struct sql_name *nm, struct lk_table **t, int files,
	       struct tn_err *err);

/* sess_mirror_for_select, telling the lake tables (ids, owned) the query
 * reads; *all = 1 when it may read others too (views, unknown names). */
int sess_mirror_reads(struct session *s, const char *sql, int64_t **ids, size_t *n, int *all, struct tn_err *err);
/* Whether commits from..to changed (data, columns, dropped) any of the
 * tables ids; with `all`, whether anything was committed at all. */
int sess_reads_changed(struct session *s, int64_t from, int64_t to, const int64_t *ids, size_t n, int all,
		       int *changed, struct tn_err *err);

/* write.c */
int write_insert(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err);
int write_delete(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err);
int write_update(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err);
int write_copy(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err);
int write_merge(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err);
/* Write the rows of `select_sql` (the table's columns, in order) as a new
 * data file of t and register it; *rows = rows written. */
/* A data file written (by DuckDB, into the table's folder) but not yet in
 * the catalog: the slow part of a write, done before the catalog's write
 * lock is taken (ddl_stage). */
struct write_staged {
	struct lk_out o;
	char *rel;        /* its name in the table's folder */
	int64_t rows;
};
/* "'a': 1, 's': {__duckdb_field_id: 2, 'x': 3}": t's columns for FIELD_IDS. */
void write_field_ids(const struct lk_table *t, struct tn_buf *b);
/* Write select_sql's rows as a Parquet file in folder dir with field_ids;
 * `replace` (may be NULL) is write_wide_int's list. */
int write_stage(struct session *s, const char *dir, const char *field_ids, const char *replace,
		const char *select_sql, struct write_staged *w, struct tn_err *err);
/* The REPLACE entry storing 128-bit integer column `name` exactly. */
void write_wide_int(struct tn_buf *b, const char *lake_type, const char *name);
/* Put a staged file into table t (inside the write transaction): its
 * statistics, durability, the data file row; *rows = its rows (a file of
 * no rows is removed). w is released either way. */
int write_register(struct session *s, struct lk_table *t, struct write_staged *w, int64_t *rows,
		   struct tn_err *err);
void write_staged_discard(struct session *s, struct write_staged *w);   /* remove the file */
int write_rows(struct session *s, struct lk_table *t, const char *select_sql, int64_t *rows,
	       struct tn_err *err);

/* ddl.c */
/* Before a CREATE TABLE ... AS takes the catalog's write lock: run its
 * query and write its data file (the slow part) at the snapshot reads
 * see, so other writers keep committing meanwhile. create_table then only
 * registers the file, when nothing it read changed since and the table
 * comes out with the same folder and field ids; otherwise it computes the
 * query again under the lock. Never fails (errors show on the real run). */
void ddl_stage(struct session *s, struct sql_stmt *st);
/* Remove a staged file create_table did not take. */
void ddl_unstage(struct session *s);
/* *rows: the rows a CREATE TABLE AS wrote; left alone by other statements. */
int ddl_exec(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err);

/* timetravel.c: rewrite AT (...) clauses of a query; *out NULL if none. */
int tt_rewrite(struct session *s, const char *sql, char **out, struct tn_err *err);
/* Call fn for every table reference (schema or NULL, name) of the query
 * `sql`, CTEs and tarn's own time-travel views left out. *known = 0 when
 * DuckDB cannot serialize the statement (then its reads are unknown). */
typedef int tt_ref_fn(void *arg, const char *schema, const char *name);
int tt_table_refs(struct session *s, const char *sql, tt_ref_fn *fn, void *arg, int *known,
		  struct tn_err *err);

/* introspect.c: (re)create tarn_* table functions when `sql` uses them. */
int intro_prepare(struct session *s, const char *sql, struct tn_err *err);

/* crash points for the crash tests: TARN_CRASHPOINT=name kills the process there. */
void sess_crashpoint(const char *name);
/* Tests: sleep TARN_PAUSE_MS (default 1000) when TARN_PAUSEPOINT is `name`,
 * so another process can act at that moment. */
void sess_pausepoint(const char *name);

#endif
