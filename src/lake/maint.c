/*
 * maint.c: compaction, snapshot expiry and file cleanup (see maint.h).
 * Compaction is ordinary lake SQL in one transaction (DELETE every row,
 * INSERT them back from the snapshot the transaction read), so it gets
 * the session's conflict checks, retries and statistics for free. Expiry
 * and cleanup work on the catalog directly.
 */
#include "base/compat.h"
#include "lake/maint.h"
#include "lake/backup.h"
#include "lake/session_int.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"
#include "base/tn_fs.h"
#include "base/tn_util.h"

#include <stdlib.h>
#include <string.h>

int maint_parse_age(const char *s, int64_t *us, struct tn_err *err)
{
	char *end;
	double v = strtod(s, &end);
	double unit = !strcmp(end, "d") ? 86400 : !strcmp(end, "h") ? 3600 : !strcmp(end, "m") ? 60 :
		      !strcmp(end, "s") ? 1 : 0;

	if (end == s || unit == 0 || v < 0)
		return tn_err_set(err, TN_EINVAL, "'%s' is not an age: use a number and d, h, m or s, e.g. 7d", s);
	*us = (int64_t)(v * unit * 1e6);
	return 0;
}

int maint_parse_when(const char *s, int64_t *us, struct tn_err *err)
{
	size_t n = strlen(s);
	int64_t age;

	if (n && strchr("0123456789.", s[0]) && strchr("dhms", s[n - 1]) && !strchr(s, '-')) {
		if (maint_parse_age(s, &age, err))
			return err->code;
		*us = tn_now_us() - age;
		return 0;
	}
	return backup_parse_time(s, us, err);
}

/* ---- expire ---- */

/* Files no snapshot from `keep` on can see: ended at or before it, or the
 * delete files of such data files. Resolved to full paths (as fsck does),
 * so that the schedule does not depend on tables that may be gone. */
static const char *ended_files_sql =
	"SELECT f.data_file_id, f.path, f.path_is_relative, f.file_size_bytes, "
	"(SELECT sp.path || tp.path FROM ducklake_table tp JOIN ducklake_schema sp ON sp.schema_id = tp.schema_id "
	" WHERE tp.table_id = f.table_id ORDER BY tp.begin_snapshot DESC LIMIT 1) FROM ducklake_data_file f "
	"WHERE f.end_snapshot IS NOT NULL AND f.end_snapshot <= ?1 "
	"UNION ALL SELECT d.delete_file_id, d.path, d.path_is_relative, d.file_size_bytes, "
	"(SELECT sp.path || tp.path FROM ducklake_table tp JOIN ducklake_schema sp ON sp.schema_id = tp.schema_id "
	" WHERE tp.table_id = d.table_id ORDER BY tp.begin_snapshot DESC LIMIT 1) FROM ducklake_delete_file d "
	"WHERE (d.end_snapshot IS NOT NULL AND d.end_snapshot <= ?1) OR d.data_file_id IN (SELECT data_file_id FROM "
	"ducklake_data_file WHERE end_snapshot IS NOT NULL AND end_snapshot <= ?1)";

static int schedule_files(struct lake *lk, struct catalog *cat, int64_t keep, int dry_run,
			  struct maint_report *rep, struct tn_err *err)
{
	struct catalog_stmt *st, *ins = NULL;
	char now[40];
	int rc = catalog_prepare(cat, ended_files_sql, &st, err);

	if (rc)
		return rc;
	lake_format_time(tn_now_us(), now);
	if (!dry_run)
		rc = catalog_prepare(cat, "INSERT INTO ducklake_files_scheduled_for_deletion VALUES (?, ?, false, ?)",
				     &ins, err);
	catalog_bind_int(st, 1, keep);
	while (!rc && (rc = catalog_step(st, err)) == 1) {
		const char *tdir = catalog_col_text(st, 4), *rel = catalog_col_text(st, 1);
		char *dir = tn_xprintf("%s%s", lk->data_path, tdir ? tdir : "");
		char *path = meta_resolve(dir, rel ? rel : "", (int)catalog_col_int(st, 2));
		rc = 0;
		rep->files_scheduled++;
		if (ins) {
			catalog_reset(ins);
			catalog_bind_int(ins, 1, catalog_col_int(st, 0));
			catalog_bind_text(ins, 2, path);
			catalog_bind_text(ins, 3, now);
			rc = catalog_step(ins, err);
			rc = rc < 0 ? rc : 0;
		}
		tn_free(dir);
		tn_free(path);
	}
	catalog_finalize(ins);
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

/* The catalog rows of the scheduled files and of the expired snapshots. */
static int forget(struct catalog *cat, int64_t keep, struct tn_err *err)
{
	static const char *sqls[] = {
		"DELETE FROM ducklake_file_column_stats WHERE data_file_id IN (SELECT data_file_id FROM "
		"ducklake_data_file WHERE end_snapshot IS NOT NULL AND end_snapshot <= ?1)",
		"DELETE FROM ducklake_delete_file WHERE (end_snapshot IS NOT NULL AND end_snapshot <= ?1) OR "
		"data_file_id IN (SELECT data_file_id FROM ducklake_data_file WHERE end_snapshot IS NOT NULL AND "
		"end_snapshot <= ?1)",
		"DELETE FROM ducklake_data_file WHERE end_snapshot IS NOT NULL AND end_snapshot <= ?1",
		"DELETE FROM ducklake_snapshot_changes WHERE snapshot_id < ?1",
		"DELETE FROM ducklake_snapshot WHERE snapshot_id < ?1",
	};
	int rc = 0;

	for (size_t i = 0; !rc && i < TN_ARRAY_LEN(sqls); i++)
		rc = catalog_run(cat, sqls[i], err, 1, keep);
	return rc;
}

/* The oldest snapshot to keep: after the newest one that is old enough and
 * not among the last keep_last; *keep = -1 when nothing expires. */
static int keep_from(struct catalog *cat, const struct maint_expire_opts *o, int64_t *keep, int64_t *oldest,
		     struct tn_err *err)
{
	struct catalog_stmt *st;
	char when[40];
	int64_t latest = 0, last;
	int found = 0, rc;

	*keep = -1;
	rc = catalog_get_int(cat, "SELECT max(snapshot_id) FROM ducklake_snapshot", &latest, &found, err, 0);
	if (!rc)
		rc = catalog_get_int(cat, "SELECT min(snapshot_id) FROM ducklake_snapshot", oldest, &found, err, 0);
	if (rc || !found)
		return rc;
	last = latest - (o->keep_last > 0 ? o->keep_last : 1);   /* newest id that may expire */
	lake_format_time(o->older_than_us ? o->older_than_us : tn_now_us() + 1000000, when);
	rc = catalog_prepare(cat, "SELECT max(snapshot_id) FROM ducklake_snapshot WHERE snapshot_time < ? AND "
				  "snapshot_id <= ?", &st, err);
	if (rc)
		return rc;
	catalog_bind_text(st, 1, when);
	catalog_bind_int(st, 2, last);
	rc = catalog_step(st, err);
	if (rc == 1 && !catalog_col_is_null(st, 0))
		*keep = catalog_col_int(st, 0) + 1;
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

int maint_expire(struct lake *lk, const struct maint_expire_opts *o, struct maint_report *rep,
		 struct tn_err *err)
{
	struct catalog *cat = NULL;
	int64_t keep = -1, oldest = 0;
	int rc = catalog_open(&cat, lk->catalog_path, 0, err);

	/* a write transaction: committers wait, so no commit ends a file
	 * between the choice of files and their scheduling */
	if (!rc)
		rc = catalog_begin(cat, 1, err);
	if (!rc)
		rc = keep_from(cat, o, &keep, &oldest, err);
	if (!rc && keep > oldest) {
		rep->keep_from = keep;
		rep->snapshots_expired = (long)(keep - oldest);
		rc = schedule_files(lk, cat, keep, o->dry_run, rep, err);
		if (!rc && !o->dry_run)
			rc = forget(cat, keep, err);
	}
	if (!rc && !o->dry_run)
		rc = catalog_commit(cat, err);
	catalog_rollback(cat);
	catalog_close(cat);
	return rc;
}

/* ---- cleanup ---- */

/* Each file is deleted from storage before its row: a crash in between
 * leaves a row whose file is gone, which the next cleanup deletes (a
 * missing file is no error); the reverse order would leak the file. */
int maint_cleanup(struct lake *lk, int64_t older_than_us, int dry_run, struct maint_report *rep,
		  struct tn_err *err)
{
	struct catalog *cat = NULL;
	struct catalog_stmt *st = NULL;
	char when[40];
	int rc = catalog_open(&cat, lk->catalog_path, 0, err);

	lake_format_time(older_than_us ? older_than_us : tn_now_us() + 1000000, when);
	if (!rc)
		rc = catalog_prepare(cat, "SELECT data_file_id, path FROM ducklake_files_scheduled_for_deletion WHERE "
					  "schedule_start < ?", &st, err);
	if (!rc)
		catalog_bind_text(st, 1, when);
	while (!rc && (rc = catalog_step(st, err)) == 1) {
		const char *path = catalog_col_text(st, 1);
		struct tn_err ignore = TN_ERR_INIT;
		int64_t size = 0;
		rc = 0;
		rep->files_deleted++;
		if (!lk->remote && tn_fs_size(path, &size, &ignore) == 0)
			rep->bytes_freed += size;
		if (dry_run)
			continue;
		rc = files_remove(lk, path, err);
		if (rc == TN_ENOTFOUND) {
			tn_err_clear(err);
			rc = 0;
		}
		if (!rc)
			rc = catalog_run(cat, "DELETE FROM ducklake_files_scheduled_for_deletion WHERE data_file_id = ?",
					 err, 1, catalog_col_int(st, 0));
	}
	catalog_finalize(st);
	catalog_close(cat);
	return rc < 0 ? rc : 0;
}

/* ---- compact ---- */

struct cand {
	char *schema, *name;
	long files, deletes;
};

static int candidates(struct session *ss, const char *table, struct cand **out, size_t *n, struct tn_err *err)
{
	struct catalog_stmt *st;
	size_t alloc = 0;
	const char *dot = table ? strchr(table, '.') : NULL;
	char *schema = table ? (dot ? tn_strndup(table, (size_t)(dot - table)) : tn_strdup(LAKE_DEFAULT_SCHEMA)) : NULL;
	int rc = catalog_prepare(ss->cat,
		"SELECT s.schema_name, t.table_name, (SELECT count(*) FROM ducklake_data_file f WHERE f.table_id = "
		"t.table_id AND f.end_snapshot IS NULL), (SELECT count(*) FROM ducklake_delete_file d WHERE "
		"d.table_id = t.table_id AND d.end_snapshot IS NULL) FROM ducklake_table t JOIN ducklake_schema s ON "
		"s.schema_id = t.schema_id WHERE t.end_snapshot IS NULL AND s.end_snapshot IS NULL AND "
		"(CAST(?1 AS VARCHAR) IS NULL OR (lower(s.schema_name) = lower(CAST(?1 AS VARCHAR)) AND "
		"lower(t.table_name) = lower(CAST(?2 AS VARCHAR)))) "
		"ORDER BY 1, 2", &st, err);

	*out = NULL;
	*n = 0;
	if (rc) {
		tn_free(schema);
		return rc;
	}
	catalog_bind_text(st, 1, schema);
	catalog_bind_text(st, 2, table ? (dot ? dot + 1 : table) : NULL);
	while ((rc = catalog_step(st, err)) == 1) {
		TN_GROW(*out, alloc, *n + 1);
		(*out)[*n].schema = catalog_col_dup(st, 0);
		(*out)[*n].name = catalog_col_dup(st, 1);
		(*out)[*n].files = (long)catalog_col_int(st, 2);
		(*out)[*n].deletes = (long)catalog_col_int(st, 3);
		(*n)++;
	}
	catalog_finalize(st);
	tn_free(schema);
	if (!rc && table && *n == 0)
		rc = tn_err_set(err, TN_ENOTFOUND, "no table %s in the lake (see `tarn tables`)", table);
	return rc < 0 ? rc : 0;
}

/* One table, one snapshot: every row deleted, then read back from the
 * snapshot the transaction started on into one new file. */
static int rewrite(struct session *ss, const struct cand *c, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX), rel = TN_BUF_INIT(TN_BUF_NOMAX);
	char *msg = tn_xprintf("tarn maintenance compact %s.%s (%ld files)", c->schema, c->name, c->files);
	int64_t at = 0;
	int rc;

	tn_buf_add_sqlid(&rel, c->schema);
	tn_buf_addc(&rel, '.');
	tn_buf_add_sqlid(&rel, c->name);
	session_set_commit_info(ss, NULL, msg, NULL);
	rc = session_exec(ss, "BEGIN", NULL, err);
	if (!rc)
		rc = sess_read_snapshot(ss, &at, err);
	if (!rc) {
		tn_buf_addf(&q, "DELETE FROM %s; INSERT INTO %s SELECT * FROM %s AT (VERSION => %lld); COMMIT", rel.buf,
			    rel.buf, rel.buf, (long long)at);
		rc = session_exec(ss, q.buf, NULL, err);
	}
	if (rc && session_in_txn(ss)) {
		struct tn_err ignore = TN_ERR_INIT;
		session_exec(ss, "ROLLBACK", NULL, &ignore);
	}
	if (rc)
		session_set_commit_info(ss, NULL, NULL, NULL);
	tn_free(msg);
	tn_buf_release(&q);
	tn_buf_release(&rel);
	return rc;
}

int maint_compact(struct session *ss, const char *table, long min_files, int dry_run, struct maint_report *rep,
		  struct tn_err *err)
{
	struct cand *c = NULL;
	size_t n = 0, i;
	int rc = candidates(ss, table, &c, &n, err);

	if (min_files < 2)
		min_files = 2;
	for (i = 0; !rc && i < n; i++) {
		if (c[i].files == 0 || (c[i].files < min_files && c[i].deletes == 0))
			continue;
		rep->tables_compacted++;
		rep->files_compacted += c[i].files;
		if (!dry_run)
			rc = rewrite(ss, &c[i], err);
		if (rc)
			tn_err_prefix(err, "compacting %s.%s", c[i].schema, c[i].name);
	}
	for (i = 0; i < n; i++) {
		tn_free(c[i].schema);
		tn_free(c[i].name);
	}
	tn_free(c);
	return rc;
}
