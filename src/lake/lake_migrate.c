/*
 * lake_migrate: copies a lake's catalog to another database, then points
 * the lake at the copy. Order matters for a crash at any point:
 *   1. the old catalog's write lock is taken (writers queue behind it);
 *   2. the copy is made and checked in one target transaction, committed;
 *   3. the lake is switched: for a server, catalog.url is written, then
 *      catalog.sqlite (which lake_open prefers) is renamed aside; for
 *      SQLite, the new file is renamed into place (it wins over
 *      catalog.url at once), then catalog.url is renamed aside;
 *   4. the lock is released.
 * A crash before 3 leaves the lake on its old catalog (the target then
 * holds a copy that must be dropped before another try); a crash inside 3
 * leaves the lake on the old or the new catalog, both complete.
 */
#include "base/compat.h"
#include "lake/lake_migrate.h"
#include "lake/lake_int.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int is_server(const char *uri)
{
	return !strncasecmp(uri, "postgres://", 11) || !strncasecmp(uri, "postgresql://", 13) ||
	       !strncasecmp(uri, "postgres:", 9) || !strncasecmp(uri, "postgresql:", 11);
}

void lake_migrate_result_release(struct lake_migrate_result *res)
{
	if (!res)
		return;
	catalog_migrate_report_release(&res->copy);
	tn_free(res->from);
	tn_free(res->to);
	tn_free(res->kept);
	memset(res, 0, sizeof(*res));
}

/* "2026_01_31T12_00_00" (UTC) for the names of what is set aside. */
static void stamp_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y_%m_%dT%H_%M_%S", &tm);
}

/* `to` for a SQLite target must be the lake's own catalog file. */
static int sqlite_target(struct lake *lk, const char *to, char **file, struct tn_err *err)
{
	const char *p = !strcasecmp(to, "sqlite") ? "" : to + 7;
	char *want = tn_fs_join(lk->dir, LAKE_CATALOG_FILE), *got;

	*file = want;
	if (!*p)
		return 0;
	got = tn_fs_abspath(p);
	if (strcmp(got, want)) {
		tn_free(got);
		tn_free(want);
		*file = NULL;
		return tn_err_set(err, TN_EINVAL, "a SQLite catalog lives in the lake folder: use --to sqlite "
				  "(or sqlite:%s/%s), not %s", lk->dir, LAKE_CATALOG_FILE, p);
	}
	tn_free(got);
	return 0;
}

/* Where the copy goes, and in what file it is built (SQLite). */
struct target {
	char *uri;        /* what catalog_open gets */
	char *final;      /* SQLite: <lake>/catalog.sqlite; NULL for a server */
};

static int parse_target(struct lake *lk, const char *to, struct target *t, struct tn_err *err)
{
	char uuid[37];
	int rc;

	memset(t, 0, sizeof(*t));
	if (is_server(to)) {
		t->uri = tn_strdup(to);
		return 0;
	}
	if (strcasecmp(to, "sqlite") && strncasecmp(to, "sqlite:", 7))
		return tn_err_set(err, TN_EINVAL, "--to %s: use postgres://user@host:port/database or sqlite",
				  is_server(to) ? "(a server)" : to);
	if (!is_server(lk->catalog_path))
		return tn_err_set(err, TN_EINVAL, "the catalog of lake %s is already a SQLite file (%s)",
				  lk->dir, lk->catalog_path);
	rc = sqlite_target(lk, to, &t->final, err);
	if (rc)
		return rc;
	if (tn_fs_exists(t->final))
		return tn_err_set(err, TN_ECONFLICT, "%s exists; move it away first", t->final);
	tn_uuid7(uuid);
	t->uri = tn_xprintf("%s/.migrate-%s.sqlite", lk->dir, uuid);
	return 0;
}

static void remove_sqlite(const char *file)
{
	char *wal = tn_xprintf("%s-wal", file), *shm = tn_xprintf("%s-shm", file);

	unlink(file);
	unlink(wal);
	unlink(shm);
	tn_free(wal);
	tn_free(shm);
}

static int set_aside(const char *file, const char *stamp, char **kept, struct tn_err *err)
{
	char *aside = tn_xprintf("%s.before-migrate-%s", file, stamp);

	if (rename(file, aside) != 0) {
		int rc = tn_err_set(err, TN_EIO, "cannot move %s aside: %s", file, strerror(errno));
		tn_free(aside);
		return rc;
	}
	tn_free(*kept);
	*kept = aside;
	return 0;
}

/* After the old SQLite connection is closed: its WAL is normally gone
 * (checkpointed by the last close); if another process still had it open,
 * the WAL follows the file it belongs to. */
static void follow_wal(const char *file, const char *aside)
{
	static const char *const sfx[] = { "-wal", "-shm" };
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(sfx); i++) {
		char *from = tn_xprintf("%s%s", file, sfx[i]), *to = tn_xprintf("%s%s", aside, sfx[i]);
		if (tn_fs_exists(from) && rename(from, to) != 0)
			unlink(from);
		tn_free(from);
		tn_free(to);
	}
}

/* Step 3 for a server target. */
static int switch_to_server(struct lake *lk, const struct target *t, const char *stamp,
			    struct lake_migrate_result *res, struct tn_err *err)
{
	char *url = tn_fs_join(lk->dir, LAKE_CATALOG_URL);
	int rc = 0;

	/* From one server to another: keep the old URL in a file of its own. */
	if (tn_fs_exists(url)) {
		char *kept = tn_xprintf("%s.before-migrate-%s", url, stamp);
		if (link(url, kept) != 0)
			rc = tn_err_set(err, TN_EIO, "cannot keep %s as %s: %s", url, kept, strerror(errno));
		else
			res->kept = tn_strdup(kept);
		tn_free(kept);
	}
	if (!rc)
		{
			/* 0600 from the first byte: a URI may hold a password */
			char *path = tn_fs_join(lk->dir, LAKE_CATALOG_URL);
			rc = tn_fs_write_private(path, t->uri, strlen(t->uri), err);
			tn_free(path);
		}
	if (!rc && !is_server(lk->catalog_path))
		rc = set_aside(lk->catalog_path, stamp, &res->kept, err);
	if (!rc)
		rc = tn_fs_sync_dir(lk->dir, err);
	tn_free(url);
	return rc;
}

/* Step 3 for a SQLite target (the copy is closed and durable). */
static int switch_to_sqlite(struct lake *lk, const struct target *t, const char *stamp,
			    struct lake_migrate_result *res, struct tn_err *err)
{
	char *url = tn_fs_join(lk->dir, LAKE_CATALOG_URL), *wal = tn_xprintf("%s-wal", t->final);
	int rc = 0;

	/* A WAL left by an old catalog.sqlite would be replayed into the new one. */
	if (tn_fs_exists(wal))
		rc = tn_err_set(err, TN_ECONFLICT, "%s is left from an earlier catalog; move it away first", wal);
	if (!rc)
		rc = tn_fs_sync_file(t->uri, err);
	if (!rc && rename(t->uri, t->final) != 0)
		rc = tn_err_set(err, TN_EIO, "cannot move the new catalog to %s: %s", t->final, strerror(errno));
	if (!rc)
		rc = tn_fs_sync_dir(lk->dir, err);
	if (!rc)
		rc = set_aside(url, stamp, &res->kept, err);
	if (!rc)
		rc = tn_fs_sync_dir(lk->dir, err);
	tn_free(url);
	tn_free(wal);
	return rc;
}

/* Steps 1 and 2: the copy, under the old catalog's write lock. */
static int copy(struct catalog *src, const struct target *t, int dry_run, struct lake_migrate_result *res,
		struct tn_err *err)
{
	struct catalog *dst = NULL;
	int rc = catalog_open(&dst, t->uri, t->final != NULL, err);

	if (!rc) {
		tn_free(res->to);
		res->to = tn_strdup(t->final ? t->final : catalog_path(dst));
		rc = catalog_migrate(src, dst, dry_run, &res->copy, err);
	}
	/* Expression indexes are not copied (each backend spells its own). */
	if (!rc && !dry_run)
		rc = lake_catalog_indexes(dst, err);
	/* Closing a SQLite copy checkpoints it: the file is whole on its own. */
	catalog_close(dst);
	return rc;
}

int lake_migrate(struct lake *lk, const char *to, int dry_run, struct lake_migrate_result *res,
		 struct tn_err *err)
{
	struct catalog *src = NULL;
	struct target t;
	struct tn_err ignore = TN_ERR_INIT;
	char stamp[32];
	int rc, sqlite_src = !is_server(lk->catalog_path);

	memset(res, 0, sizeof(*res));
	res->dry_run = dry_run;
	lake_release_catalog(lk);
	stamp_now(stamp);
	rc = parse_target(lk, to, &t, err);
	if (!rc)
		rc = catalog_open(&src, lk->catalog_path, 0, err);
	if (rc)
		goto out;
	res->from = tn_strdup(catalog_path(src));
	res->to = tn_strdup(t.final ? t.final : "(the server)");
	/* Fold the WAL into the file first, so the file set aside later is
	 * whole (best effort: a busy reader only delays it to our close). */
	if (sqlite_src)
		catalog_exec(src, "PRAGMA wal_checkpoint(TRUNCATE)", &ignore);
	rc = catalog_begin(src, 1, err);
	if (!rc)
		rc = copy(src, &t, dry_run, res, err);
	if (!rc && !dry_run)
		rc = t.final ? switch_to_sqlite(lk, &t, stamp, res, err) : switch_to_server(lk, &t, stamp, res, err);
	if (rc && !dry_run && res->copy.ntables && !t.final)
		tn_err_prefix(err, "the lake still uses %s, and %s now holds a copy of it (drop its tables "
			      "before trying again)", res->from, res->to);
	catalog_rollback(src);
	catalog_close(src);
	if (!rc && !dry_run && sqlite_src)
		follow_wal(lk->catalog_path, res->kept);
out:
	if (t.final && t.uri && (rc || dry_run))
		remove_sqlite(t.uri);
	tn_free(t.uri);
	tn_free(t.final);
	return rc;
}
