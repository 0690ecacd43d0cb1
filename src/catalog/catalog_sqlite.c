/*
 * catalog_sqlite: the SQLite backend of the catalog. WAL with
 * synchronous=FULL so that a commit acknowledged is a commit on disk, a busy
 * timeout so concurrent writers queue instead of failing, and BEGIN
 * IMMEDIATE for writers so that a read->write upgrade never deadlocks.
 */
#include "base/compat.h"
#include "catalog/catalog_int.h"
#include "base/tn_mem.h"

#include <sqlite3.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 30000

struct lite {
	struct catalog base;
	sqlite3 *db;
};

struct lite_stmt {
	struct catalog_stmt base;
	sqlite3_stmt *st;
};

static sqlite3 *db_of(struct catalog *cat)
{
	return ((struct lite *)cat)->db;
}

static sqlite3_stmt *st_of(struct catalog_stmt *st)
{
	return ((struct lite_stmt *)st)->st;
}

static int db_error(struct catalog *cat, const char *what, struct tn_err *err)
{
	int code = sqlite3_extended_errcode(db_of(cat)) & 0xff;
	enum tn_code tc = TN_EIO;

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_CONSTRAINT)
		tc = TN_ECONFLICT;
	else if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
		tc = TN_EINTERNAL;
	return tn_err_set(err, tc, "catalog %s: %s: %s", cat->display, what, sqlite3_errmsg(db_of(cat)));
}

static void lite_close(struct catalog *cat)
{
	struct lite *l = (struct lite *)cat;

	if (l->db)
		sqlite3_close_v2(l->db);
	tn_free(cat->display);
	tn_free(l);
}

static int lite_exec(struct catalog *cat, const char *sql, struct tn_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db_of(cat), sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = db_error(cat, msg ? msg : "exec", err);
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static int lite_open(struct catalog **out, const char *path, int create, struct tn_err *err)
{
	struct lite *l = tn_calloc(1, sizeof(*l));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc;

	l->base.ops = &catalog_sqlite_ops;
	l->base.display = tn_strdup(path);
	if (!create && access(path, F_OK) != 0) {
		rc = tn_err_set(err, TN_ENOTFOUND, "no catalog at %s", path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &l->db, flags, NULL) != SQLITE_OK) {
		rc = tn_err_set(err, TN_EIO, "cannot open catalog %s: %s", path,
				l->db ? sqlite3_errmsg(l->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
	rc = lite_exec(&l->base, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
				 "PRAGMA foreign_keys=OFF;", err);
	if (rc)
		goto fail;
	*out = &l->base;
	return 0;
fail:
	lite_close(&l->base);
	return rc;
}

static int lite_in_txn(struct catalog *cat)
{
	return !sqlite3_get_autocommit(db_of(cat));
}

static int lite_begin(struct catalog *cat, int write, struct tn_err *err)
{
	return lite_exec(cat, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

static void lite_rollback(struct catalog *cat)
{
	if (lite_in_txn(cat))
		sqlite3_exec(db_of(cat), "ROLLBACK", NULL, NULL, NULL);
}

static int lite_commit(struct catalog *cat, struct tn_err *err)
{
	int rc = lite_exec(cat, "COMMIT", err);

	if (rc)
		lite_rollback(cat);
	return rc;
}

static int lite_prepare(struct catalog *cat, const char *sql, struct catalog_stmt **out,
			struct tn_err *err)
{
	sqlite3_stmt *st = NULL;
	struct lite_stmt *ls;

	if (sqlite3_prepare_v2(db_of(cat), sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(cat, "prepare", err);
	ls = tn_calloc(1, sizeof(*ls));
	ls->base.cat = cat;
	ls->st = st;
	*out = &ls->base;
	return 0;
}

/* Out-of-range indexes return SQLITE_RANGE, which the contract ignores. */
static void lite_bind_int(struct catalog_stmt *st, int idx, int64_t v)
{
	sqlite3_bind_int64(st_of(st), idx, v);
}

static void lite_bind_text(struct catalog_stmt *st, int idx, const char *v)
{
	if (v)
		sqlite3_bind_text(st_of(st), idx, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st_of(st), idx);
}

static void lite_bind_bool(struct catalog_stmt *st, int idx, int v)
{
	sqlite3_bind_int(st_of(st), idx, v != 0);
}

static int lite_step(struct catalog_stmt *st, struct tn_err *err)
{
	int rc = sqlite3_step(st_of(st));

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_error(st->cat, "query", err);
}

static int lite_col_is_null(struct catalog_stmt *st, int col)
{
	return sqlite3_column_type(st_of(st), col) == SQLITE_NULL;
}

static int64_t lite_col_int(struct catalog_stmt *st, int col)
{
	return sqlite3_column_int64(st_of(st), col);
}

static const char *lite_col_text(struct catalog_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st_of(st), col);
}

static void lite_reset(struct catalog_stmt *st)
{
	sqlite3_reset(st_of(st));
	sqlite3_clear_bindings(st_of(st));
}

static void lite_finalize(struct catalog_stmt *st)
{
	sqlite3_finalize(st_of(st));
	tn_free(st);
}

/* First column of the first row of `sql` (one text parameter or none). */
static int first_text(struct catalog *cat, const char *sql, const char *arg, char **out,
		      struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = lite_prepare(cat, sql, &st, err);

	*out = NULL;
	if (rc)
		return rc;
	if (arg)
		lite_bind_text(st, 1, arg);
	rc = lite_step(st, err);
	if (rc == 1) {
		*out = catalog_col_dup(st, 0);
		rc = 0;
	}
	lite_finalize(st);
	return rc;
}

static int lite_integrity(struct catalog *cat, char **msg, struct tn_err *err)
{
	return first_text(cat, "PRAGMA integrity_check", NULL, msg, err);
}

static int lite_table_columns(struct catalog *cat, const char *table, char ***names, size_t *n,
			      struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = lite_prepare(cat, "SELECT name FROM pragma_table_info(?1) ORDER BY cid", &st, err);

	if (rc)
		return rc;
	lite_bind_text(st, 1, table);
	while ((rc = lite_step(st, err)) == 1)
		catalog_names_push(names, n, lite_col_text(st, 0));
	lite_finalize(st);
	return rc;
}

const struct catalog_ops catalog_sqlite_ops = {
	.name = "sqlite",
	.open = lite_open,
	.close = lite_close,
	.exec = lite_exec,
	.begin = lite_begin,
	.commit = lite_commit,
	.rollback = lite_rollback,
	.in_txn = lite_in_txn,
	.prepare = lite_prepare,
	.bind_int = lite_bind_int,
	.bind_text = lite_bind_text,
	.bind_bool = lite_bind_bool,
	.step = lite_step,
	.col_is_null = lite_col_is_null,
	.col_int = lite_col_int,
	.col_text = lite_col_text,
	.reset = lite_reset,
	.finalize = lite_finalize,
	.integrity = lite_integrity,
	.table_columns = lite_table_columns,
};
