/*
 * catalog_sqlite: the SQLite backend of the catalog. WAL with
 * synchronous=FULL so that a commit acknowledged is a commit on disk, a busy
 * timeout so concurrent writers queue instead of failing, and BEGIN
 * IMMEDIATE for writers so that a read->write upgrade never deadlocks.
 */
#include "base/compat.h"
#include "catalog/catalog.h"
#include "base/tn_mem.h"

#include <sqlite3.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 30000

struct catalog {
	sqlite3 *db;
	char *path;
};

struct catalog_stmt {
	struct catalog *cat;
	sqlite3_stmt *st;
};

static int db_error(struct catalog *cat, const char *what, struct tn_err *err)
{
	int code = sqlite3_extended_errcode(cat->db);
	enum tn_code tc = TN_EIO;

	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		tc = TN_ECONFLICT;
	else if ((code & 0xff) == SQLITE_CONSTRAINT)
		tc = TN_ECONFLICT;
	else if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)
		tc = TN_EINTERNAL;
	return tn_err_set(err, tc, "catalog %s: %s: %s", cat->path, what, sqlite3_errmsg(cat->db));
}

int catalog_open(struct catalog **out, const char *path, int create, struct tn_err *err)
{
	struct catalog *cat = tn_calloc(1, sizeof(*cat));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	int rc;

	*out = NULL;
	cat->path = tn_strdup(path);
	if (!create && access(path, F_OK) != 0) {
		rc = tn_err_set(err, TN_ENOTFOUND, "no catalog at %s", path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &cat->db, flags, NULL) != SQLITE_OK) {
		rc = tn_err_set(err, TN_EIO, "cannot open catalog %s: %s", path,
				cat->db ? sqlite3_errmsg(cat->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(cat->db, BUSY_TIMEOUT_MS);
	rc = catalog_exec(cat, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			       "PRAGMA foreign_keys=OFF;", err);
	if (rc)
		goto fail;
	*out = cat;
	return 0;
fail:
	catalog_close(cat);
	return rc;
}

void catalog_close(struct catalog *cat)
{
	if (!cat)
		return;
	if (cat->db)
		sqlite3_close_v2(cat->db);
	tn_free(cat->path);
	tn_free(cat);
}

const char *catalog_path(const struct catalog *cat)
{
	return cat->path;
}

int catalog_exec(struct catalog *cat, const char *sql, struct tn_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(cat->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = db_error(cat, msg ? msg : "exec", err);
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

int catalog_begin(struct catalog *cat, int write, struct tn_err *err)
{
	return catalog_exec(cat, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

int catalog_commit(struct catalog *cat, struct tn_err *err)
{
	int rc = catalog_exec(cat, "COMMIT", err);

	if (rc && !sqlite3_get_autocommit(cat->db))
		catalog_rollback(cat);
	return rc;
}

void catalog_rollback(struct catalog *cat)
{
	if (cat && !sqlite3_get_autocommit(cat->db))
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
}

int catalog_in_txn(struct catalog *cat)
{
	return !sqlite3_get_autocommit(cat->db);
}

int catalog_savepoint(struct catalog *cat, const char *name, struct tn_err *err)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SAVEPOINT %s", name);
	return catalog_exec(cat, sql, err);
}

int catalog_release(struct catalog *cat, const char *name, struct tn_err *err)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "RELEASE %s", name);
	return catalog_exec(cat, sql, err);
}

void catalog_rollback_to(struct catalog *cat, const char *name)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "ROLLBACK TO %s; RELEASE %s", name, name);
	sqlite3_exec(cat->db, sql, NULL, NULL, NULL);
}

int catalog_prepare(struct catalog *cat, const char *sql, struct catalog_stmt **out,
		    struct tn_err *err)
{
	sqlite3_stmt *st = NULL;

	*out = NULL;
	if (sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(cat, "prepare", err);
	*out = tn_calloc(1, sizeof(**out));
	(*out)->cat = cat;
	(*out)->st = st;
	return 0;
}

void catalog_bind_int(struct catalog_stmt *st, int idx, int64_t v)
{
	sqlite3_bind_int64(st->st, idx, v);
}

void catalog_bind_text(struct catalog_stmt *st, int idx, const char *v)
{
	if (v)
		sqlite3_bind_text(st->st, idx, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st->st, idx);
}

void catalog_bind_null(struct catalog_stmt *st, int idx)
{
	sqlite3_bind_null(st->st, idx);
}

int catalog_step(struct catalog_stmt *st, struct tn_err *err)
{
	int rc = sqlite3_step(st->st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_error(st->cat, "query", err);
}

int catalog_col_is_null(struct catalog_stmt *st, int col)
{
	return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

int64_t catalog_col_int(struct catalog_stmt *st, int col)
{
	return sqlite3_column_int64(st->st, col);
}

const char *catalog_col_text(struct catalog_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st->st, col);
}

char *catalog_col_dup(struct catalog_stmt *st, int col)
{
	const char *s = catalog_col_text(st, col);
	return s ? tn_strdup(s) : NULL;
}

void catalog_reset(struct catalog_stmt *st)
{
	sqlite3_reset(st->st);
	sqlite3_clear_bindings(st->st);
}

void catalog_finalize(struct catalog_stmt *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->st);
	tn_free(st);
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

int catalog_integrity(struct catalog *cat, char **msg, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc;

	*msg = NULL;
	rc = catalog_prepare(cat, "PRAGMA integrity_check", &st, err);
	if (rc)
		return rc;
	rc = catalog_step(st, err);
	if (rc == 1) {
		*msg = catalog_col_dup(st, 0);
		rc = 0;
	}
	catalog_finalize(st);
	return rc;
}
