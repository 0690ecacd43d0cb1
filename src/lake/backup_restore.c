/*
 * backup_restore.c - putting a backup back, checked before anything is
 * replaced.
 *
 * Every backup is a SQLite DuckLake catalog, so: fetch it (from a bucket
 * into a local temp file), verify its size and SHA-256 against its record,
 * check it (SQLite integrity, a DuckLake snapshot), then either swap it in
 * as <lake>/catalog.sqlite (the old file kept beside) or copy its tables
 * into a PostgreSQL catalog in one transaction (the old tables moved into
 * a schema of their own in that same transaction).
 */
#include "base/compat.h"
#include "lake/backup_int.h"
#include "lake/lake_int.h"
#include "catalog/catalog.h"
#include "store/store.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

static int is_server(const char *uri)
{
	return !strncmp(uri, "postgres://", 11) || !strncmp(uri, "postgresql://", 13) ||
	       !strncmp(uri, "postgres:", 9);
}

/* "YYYY_MM_DDTHH_mm_SS_sss" for names of things kept aside. */
static void stamp_now(char out[64])
{
	bk_version_name(tn_now_us(), out);
	*strchr(out, '/') = 'T';
}

/* ---- picking the backup ---- */

static int pick_listed(struct bk_home *h, const char *lake_dir, const char *at, struct backup_entry *used,
		       struct tn_err *err)
{
	struct backup_entry *all = NULL;
	int64_t limit = 0, t;
	size_t n = 0, i, best = (size_t)-1;
	int rc = at ? backup_parse_time(at, &limit, err) : 0;

	if (!rc)
		rc = bk_list(h, &all, &n, err);
	for (i = 0; !rc && i < n; i++) {
		struct tn_err ignore = TN_ERR_INIT;
		if (at && (backup_parse_time(all[i].version, &t, &ignore) || t > limit))
			continue;
		if (at || all[i].latest || best == (size_t)-1)
			best = i;
	}
	if (!rc && best == (size_t)-1)
		rc = tn_err_set(err, TN_ENOTFOUND, at ? "no backup of %s was taken at or before %s (see `tarn "
				"catalog backups`)" : "lake %s has no catalog backup%s (take one with `tarn catalog "
				"backup`)", lake_dir, at ? at : "");
	if (!rc) {
		*used = all[best];
		memset(&all[best], 0, sizeof(all[best]));
	}
	backup_entries_free(all, n);
	return rc;
}

/* The backup in local folder (or at file) `path`, described by its backup.json. */
static int pick_path(const char *path, struct backup_entry *used, struct tn_err *err)
{
	char *abs = tn_fs_abspath(path), *dir, *info;
	json_t *j = NULL;
	int rc;

	dir = tn_fs_is_dir(abs) ? tn_strdup(abs) : tn_strndup(abs, (size_t)(strrchr(abs, '/') - abs));
	info = tn_fs_join(dir, BACKUP_INFO);
	rc = bk_load_json(info, &j, err);
	if (!rc && (!j || bk_entry_from_json(j, "", used) != 0))
		rc = tn_err_set(err, TN_EINVAL, "%s is not a tarn catalog backup: %s is %s", path, info,
				j ? "incomplete" : "missing");
	if (!rc) {
		tn_free(used->path);
		used->path = tn_fs_join(dir, BACKUP_COPY_NAME);
	}
	json_decref(j);
	tn_free(info);
	tn_free(dir);
	tn_free(abs);
	return rc;
}

/* The backup folder at URL "s3://bucket/…/<version>/": its backup.json and
 * catalog.sqlite are downloaded into `tmp`.json and `tmp`. */
static int pick_url(const char *url, const char *tmp, struct backup_entry *used, struct tn_err *err)
{
	size_t n = strlen(url);
	char *root = n && url[n - 1] == '/' ? tn_strdup(url) : tn_xprintf("%s/", url);
	char *info = tn_xprintf("%s.json", tmp);
	struct store *st = NULL;
	json_t *j = NULL;
	int rc = store_open(&st, root, NULL, err);

	if (!rc)
		rc = store_get_file(st, BACKUP_INFO, info, -1, err);
	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);
		rc = tn_err_set(err, TN_EINVAL, "%s is not a tarn catalog backup: it has no " BACKUP_INFO, url);
	}
	if (!rc)
		rc = bk_load_json(info, &j, err);
	if (!rc && (!j || bk_entry_from_json(j, "", used) != 0))
		rc = tn_err_set(err, TN_EINVAL, "%s is not a tarn catalog backup: its " BACKUP_INFO
				" is incomplete", url);
	if (!rc)
		rc = store_get_file(st, BACKUP_COPY_NAME, tmp, -1, err);
	if (!rc) {
		tn_free(used->path);
		used->path = tn_strdup(tmp);
	}
	unlink(info);
	json_decref(j);
	store_close(st);
	tn_free(info);
	tn_free(root);
	return rc;
}

/* ---- checking it ---- */

static int verify_file(const char *file, const struct backup_entry *e, struct tn_err *err)
{
	char sha[65];
	int64_t size = 0;
	int rc = bk_sha256_file(file, sha, &size, err);

	if (!rc && (size != e->size || strcmp(sha, e->sha256)))
		rc = tn_err_set(err, TN_EINVAL, "backup %s is corrupt: %lld bytes with SHA-256 %.12s…, its "
				"record says %lld bytes with %.12s…; restore another one (--at or --backup)",
				e->version, (long long)size, sha, (long long)e->size, e->sha256);
	return rc;
}

/* A copy fit to be a catalog: sound for SQLite and a DuckLake catalog. */
static int check_copy(const char *file, struct tn_err *err)
{
	struct catalog *cat = NULL;
	char *msg = NULL;
	int64_t snap = 0;
	int rc = catalog_open(&cat, file, 0, err);

	if (!rc)
		rc = catalog_integrity(cat, &msg, err);
	if (!rc && strcmp(msg, "ok"))
		rc = tn_err_set(err, TN_EINVAL, "the backup fails SQLite's integrity check: %s", msg);
	if (!rc)
		rc = bk_newest_snapshot(cat, file, &snap, err);
	catalog_close(cat);
	tn_free(msg);
	return rc;
}

/* ---- into a SQLite file ---- */

/* Catalogs are metadata (megabytes, not gigabytes): one read, one atomic write. */
static int copy_bytes(const char *from, const char *to, struct tn_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc = tn_fs_read_all(from, &data, &len, err);

	if (!rc)
		rc = tn_fs_write_atomic(to, data, len, err);
	tn_free(data);
	return rc;
}

/* Move `file` (with its -wal and -shm, so the pair stays openable) aside. */
static int set_aside(const char *file, char **saved_as, struct tn_err *err)
{
	static const char *const sfx[] = { "-wal", "-shm" };
	char stamp[64], *aside;
	size_t i;

	stamp_now(stamp);
	aside = tn_xprintf("%s.before-restore-%s", file, stamp);
	if (rename(file, aside) != 0) {
		int rc = tn_err_set(err, TN_EIO, "cannot move %s aside: %s", file, strerror(errno));
		tn_free(aside);
		return rc;
	}
	for (i = 0; i < TN_ARRAY_LEN(sfx); i++) {
		char *from = tn_xprintf("%s%s", file, sfx[i]), *to = tn_xprintf("%s%s", aside, sfx[i]);
		if (tn_fs_exists(from) && rename(from, to) != 0)
			unlink(from);
		tn_free(from);
		tn_free(to);
	}
	tn_free(*saved_as);
	*saved_as = aside;
	return 0;
}

/* Keep the old catalog aside, rename the checked copy `tmp` in; a lake
 * that named a server catalog stops naming it. */
static int into_sqlite(const char *lake_dir, const char *tmp, char **saved_as, struct tn_err *err)
{
	char *file = tn_fs_join(lake_dir, LAKE_CATALOG_FILE), *url = tn_fs_join(lake_dir, LAKE_CATALOG_URL);
	int rc = 0;

	if (!rc && tn_fs_exists(url))
		rc = set_aside(url, saved_as, err);
	if (!rc && tn_fs_exists(file))
		rc = set_aside(file, saved_as, err);
	if (!rc && rename(tmp, file) != 0)
		rc = tn_err_set(err, TN_EIO, "cannot move the restored catalog into place: %s", strerror(errno));
	if (!rc)
		rc = tn_fs_sync_dir(lake_dir, err);
	tn_free(url);
	tn_free(file);
	return rc;
}

/* Refuse to replace a SQLite catalog (or leave a server's) without --force. */
static int sqlite_free(const char *lake_dir, int force, struct tn_err *err)
{
	char *file = tn_fs_join(lake_dir, LAKE_CATALOG_FILE), *url = tn_fs_join(lake_dir, LAKE_CATALOG_URL);
	int rc = 0;

	if ((tn_fs_exists(file) || tn_fs_exists(url)) && !force)
		rc = tn_err_set(err, TN_ECONFLICT, "lake %s has a catalog; restoring replaces it, and every "
				"commit after the backup is lost: stop its writers and add --force (the current "
				"catalog is kept beside it)", lake_dir);
	tn_free(url);
	tn_free(file);
	return rc;
}

/* ---- into PostgreSQL ---- */

/* Move every DuckLake table of `dst` into a new schema (inside the open
 * transaction); *schema names it. */
static int move_aside(struct catalog *dst, char **schema, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char stamp[64], **tables = NULL;
	size_t n = 0, i;
	int rc = bk_ducklake_tables(dst, &tables, &n, err);

	stamp_now(stamp);
	*strchr(stamp, 'T') = '_';
	*schema = tn_xprintf("tarn_before_restore_%s", stamp);
	tn_buf_adds(&q, "CREATE SCHEMA ");
	tn_buf_add_sqlid(&q, *schema);
	for (i = 0; i < n; i++) {
		tn_buf_adds(&q, "; ALTER TABLE ");
		tn_buf_add_sqlid(&q, tables[i]);
		tn_buf_adds(&q, " SET SCHEMA ");
		tn_buf_add_sqlid(&q, *schema);
	}
	if (!rc)
		rc = tn_buf_check(&q, err);
	if (!rc)
		rc = catalog_exec(dst, q.buf, err);
	for (i = 0; i < n; i++)
		tn_free(tables[i]);
	tn_free(tables);
	tn_buf_release(&q);
	return rc;
}

static int has_lake(struct catalog *cat, int *yes, struct tn_err *err)
{
	char **cols = NULL;
	size_t n = 0;
	int rc = catalog_table_columns(cat, "ducklake_metadata", &cols, &n, err);

	catalog_columns_free(cols, n);
	*yes = rc == 0;
	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);
		rc = 0;
	}
	return rc;
}

/* The copy of the backup in one write transaction, checked before COMMIT. */
static int fill_server(struct catalog *src, struct catalog *dst, const struct backup_entry *e, int live,
		       char **aside, struct tn_err *err)
{
	int64_t snap = -1, rows = 0, got = -1;
	int rc = catalog_begin(src, 0, err);

	if (!rc)
		rc = catalog_begin(dst, 1, err);
	if (!rc && live)
		rc = move_aside(dst, aside, err);
	if (!rc)
		rc = bk_copy_catalog(src, dst, &snap, &rows, err);
	if (!rc)
		rc = bk_newest_snapshot(dst, catalog_path(dst), &got, err);
	if (!rc && (snap != e->snapshot || got != e->snapshot))
		rc = tn_err_set(err, TN_EINVAL, "the copy of backup %s into %s ends at snapshot %lld, the "
				"backup at %lld; nothing was changed", e->version, catalog_path(dst),
				(long long)got, (long long)e->snapshot);
	if (!rc)
		rc = catalog_commit(dst, err);
	catalog_rollback(dst);
	catalog_rollback(src);
	return rc;
}

/* The lake names its catalog in catalog.url (0600: it may hold a password);
 * a SQLite catalog it had is kept aside. */
static int point_lake_at(const char *lake_dir, const char *uri, char **saved_as, struct tn_err *err)
{
	char *file = tn_fs_join(lake_dir, LAKE_CATALOG_FILE), *url = tn_fs_join(lake_dir, LAKE_CATALOG_URL);
	char *old = NULL;
	size_t n = 0;
	struct tn_err ignore = TN_ERR_INIT;
	int rc = 0;

	if (tn_fs_exists(file))
		rc = set_aside(file, saved_as, err);
	if (!rc && (tn_fs_read_all(url, &old, &n, &ignore) || strncmp(old, uri, strlen(uri)))) {
		rc = tn_fs_write_private(url, uri, strlen(uri), err);
	}
	tn_free(old);
	tn_free(url);
	tn_free(file);
	return rc;
}

static int into_server(const char *lake_dir, const char *uri, const char *source, const struct backup_entry *e,
		       int force, char **saved_as, struct tn_err *err)
{
	struct catalog *src = NULL, *dst = NULL;
	char *aside = NULL;
	int live = 0, rc = catalog_open(&dst, uri, 0, err);

	if (!rc)
		rc = has_lake(dst, &live, err);
	if (!rc && live && !force)
		rc = tn_err_set(err, TN_ECONFLICT, "%s holds a lake's catalog; restoring replaces it, and every "
				"commit after the backup is lost: stop the lake's writers and add --force (its "
				"tables are kept in a schema tarn_before_restore_<time>)", catalog_path(dst));
	if (!rc)
		rc = catalog_open(&src, source, 0, err);
	if (!rc)
		rc = fill_server(src, dst, e, live, &aside, err);
	if (!rc && aside)
		*saved_as = tn_xprintf("schema %s of %s", aside, catalog_path(dst));
	if (!rc)
		rc = point_lake_at(lake_dir, uri, saved_as, err);
	catalog_close(src);
	catalog_close(dst);
	tn_free(aside);
	return rc;
}

/* ---- the whole restore ---- */

/* Where the restore goes: o->to, else the catalog the lake names. Owned. */
static char *target_of(const char *lake_dir, const struct backup_restore_opts *o)
{
	char *file = tn_fs_join(lake_dir, LAKE_CATALOG_FILE), *url, *text = NULL;
	struct tn_err ignore = TN_ERR_INIT;
	size_t n = 0;

	if (o->to) {
		tn_free(file);
		return tn_strdup(o->to);
	}
	url = tn_fs_join(lake_dir, LAKE_CATALOG_URL);
	if (!tn_fs_exists(file) && tn_fs_read_all(url, &text, &n, &ignore) == 0) {
		while (n && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\r'))
			text[--n] = '\0';
	} else {
		tn_free(text);
		text = tn_strdup("sqlite");
	}
	tn_free(url);
	tn_free(file);
	return text;
}

static int pick(const char *dir, struct bk_home *h, const struct backup_restore_opts *o, const char *tmp,
		struct backup_entry *used, const char **source, struct tn_err *err)
{
	int rc;

	*source = NULL;
	if (o->at && o->path)
		return tn_err_set(err, TN_EINVAL, "choose the backup with --at or with --backup, not both");
	if (o->path && !strncmp(o->path, "s3://", 5))
		rc = pick_url(o->path, tmp, used, err);
	else if (o->path)
		rc = pick_path(o->path, used, err);
	else
		rc = pick_listed(h, dir, o->at, used, err);
	if (!rc && !o->path && h->st)
		rc = bk_home_fetch(h, used, tmp, err);
	if (!rc)
		*source = (o->path && strncmp(o->path, "s3://", 5)) || !h->st ? used->path : tmp;
	return rc;
}

int backup_restore(const char *lake_dir, struct store *st, const struct backup_restore_opts *o,
		   struct backup_entry *used, char **saved_as, struct tn_err *err)
{
	char uuid[37], *dir = tn_fs_abspath(lake_dir), *tmp, *work, *target = NULL;
	const char *source = NULL;
	struct bk_home h;
	int sqlite, rc;

	memset(used, 0, sizeof(*used));
	*saved_as = NULL;
	bk_home_init(&h, dir, st);
	tn_uuid7(uuid);
	tmp = tn_xprintf("%s/.restore-%s.download", dir, uuid);
	work = tn_xprintf("%s/.restore-%s.sqlite", dir, uuid);
	target = target_of(dir, o);
	sqlite = !strcmp(target, "sqlite");
	if (!sqlite && !is_server(target))
		rc = tn_err_set(err, TN_EINVAL, "--to %s: use sqlite or postgres://user@host:port/database", target);
	else
		rc = sqlite ? sqlite_free(dir, o->force, err) : 0;
	if (!rc)
		rc = pick(dir, &h, o, tmp, used, &source, err);
	/* Check a private copy: opening a SQLite file may change it. */
	if (!rc)
		rc = copy_bytes(source, work, err);
	if (!rc)
		rc = verify_file(work, used, err);
	if (!rc)
		rc = check_copy(work, err);
	if (!rc && sqlite)
		rc = into_sqlite(dir, work, saved_as, err);
	else if (!rc)
		rc = into_server(dir, target, work, used, o->force, saved_as, err);
	unlink(tmp);
	unlink(work);
	tn_free(work);
	tn_free(tmp);
	tn_free(target);
	bk_home_release(&h);
	tn_free(dir);
	return rc;
}
