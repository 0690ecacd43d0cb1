/*
 * backup.c - catalog backups with VACUUM INTO, and restores that check
 * before they replace anything.
 *
 * Taking a backup: VACUUM INTO a staging folder (one read transaction on
 * the live catalog, so writers keep going), read the newest snapshot from
 * the copy, fsync, checksum, rename the folder into place, then add it to
 * manifest.json under a lock. Restoring: verify size and SHA-256 against
 * backup.json, copy beside the live catalog, check the copy (integrity,
 * DuckLake tables), keep the old catalog aside, rename the copy in.
 */
#include "base/compat.h"
#include "lake/backup.h"
#include "lake/lake.h"
#include "catalog/catalog.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/evp.h>

#define COPY_NAME "catalog.sqlite"

/* ---- small helpers ---- */

static void version_name(int64_t us, char out[64])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d_%02d_%02d/%02d_%02d_%02d_%03d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us / 1000 % 1000));
}

static void iso_time(int64_t us, char out[64])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us / 1000 % 1000));
}

/* SHA-256 (lowercase hex) and size of a file. */
static int sha256_file(const char *path, char hex[65], int64_t *size, struct tn_err *err)
{
	unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	ssize_t n;

	*size = 0;
	if (fd < 0)
		rc = tn_err_set(err, errno == ENOENT ? TN_ENOTFOUND : TN_EIO, "cannot read %s: %s", path,
				strerror(errno));
	else if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		rc = tn_err_set(err, TN_EINTERNAL, "cannot start SHA-256 (OpenSSL failed)");
	while (!rc && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			rc = tn_err_set(err, TN_EIO, "cannot hash %s: %s", path, n < 0 ? strerror(errno) : "OpenSSL failed");
		else
			*size += n;
	}
	if (!rc && EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		rc = tn_err_set(err, TN_EINTERNAL, "cannot finish the SHA-256 of %s", path);
	for (i = 0; !rc && i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static char *backups_root(const char *lake_dir)
{
	return tn_fs_join(lake_dir, BACKUP_DIR);
}

static int save_json(const char *path, json_t *v, struct tn_err *err)
{
	char *text = json_dumps(v, JSON_INDENT(2));
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	if (!text)
		return tn_err_set(err, TN_EINTERNAL, "cannot render %s as JSON", path);
	tn_buf_adds(&b, text);
	tn_buf_addc(&b, '\n');
	free(text);   /* jansson's allocator */
	rc = tn_buf_check(&b, err);
	if (!rc)
		rc = tn_fs_write_atomic(path, b.buf, b.len, err);
	tn_buf_release(&b);
	return rc;
}

/* The JSON object in `path`; *out = NULL when the file does not exist. */
static int load_json(const char *path, json_t **out, struct tn_err *err)
{
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	int rc = tn_fs_read_all(path, &text, &len, err);

	*out = NULL;
	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);
		return 0;
	}
	if (rc)
		return rc;
	*out = json_loadb(text, len, 0, &jerr);
	tn_free(text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return tn_err_set(err, TN_EINVAL, "%s is not a JSON object (line %d: %s); restore it from a "
				  "copy or remove it", path, jerr.line, jerr.text[0] ? jerr.text : "not an object");
	}
	return 0;
}

static json_t *entry_json(const struct backup_entry *e)
{
	char *file = tn_xprintf("%s/%s", e->version, COPY_NAME);
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I}", "version", e->version, "created", e->created,
			      "file", file, "size", (json_int_t)e->size, "sha256", e->sha256,
			      "snapshot", (json_int_t)e->snapshot);

	tn_free(file);
	return j;
}

static int entry_from_json(const json_t *j, const char *root, struct backup_entry *e)
{
	const char *version = json_string_value(json_object_get(j, "version"));
	const char *created = json_string_value(json_object_get(j, "created"));
	const char *sha = json_string_value(json_object_get(j, "sha256"));

	memset(e, 0, sizeof(*e));
	if (!version || !created || !sha || strlen(sha) != 64)
		return -1;
	e->version = tn_strdup(version);
	e->created = tn_strdup(created);
	e->path = tn_xprintf("%s/%s/%s", root, version, COPY_NAME);
	e->size = (int64_t)json_integer_value(json_object_get(j, "size"));
	e->snapshot = (int64_t)json_integer_value(json_object_get(j, "snapshot"));
	memcpy(e->sha256, sha, 65);
	return 0;
}

void backup_entry_release(struct backup_entry *e)
{
	tn_free(e->version);
	tn_free(e->created);
	tn_free(e->path);
	memset(e, 0, sizeof(*e));
}

void backup_entries_free(struct backup_entry *e, size_t n)
{
	size_t i;

	for (i = 0; e && i < n; i++)
		backup_entry_release(&e[i]);
	tn_free(e);
}

/* Backups copy SQLite files; a lake whose catalog is on a PostgreSQL
 * server (named in catalog.url) is backed up with that server's tools. */
static int sqlite_only(const char *lake_dir, struct tn_err *err)
{
	char *url = tn_fs_join(lake_dir, LAKE_CATALOG_URL), *file = tn_fs_join(lake_dir, LAKE_CATALOG_FILE);
	int rc = 0;

	if (!tn_fs_exists(file) && tn_fs_exists(url))
		rc = tn_err_set(err, TN_EUNSUPPORTED, "the catalog of lake %s is on a PostgreSQL server "
				"(%s); back it up with pg_dump: `tarn catalog backup|restore` handle SQLite "
				"catalogs only", lake_dir, LAKE_CATALOG_URL);
	tn_free(url);
	tn_free(file);
	return rc;
}

/* ---- taking a backup ---- */

/* VACUUM INTO `path`: the path goes in as a SQL string literal. */
static int vacuum_into(const char *catalog_file, const char *path, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct catalog *cat = NULL;
	int rc = catalog_open(&cat, catalog_file, 0, err);

	tn_buf_adds(&q, "VACUUM INTO ");
	tn_buf_add_sqlstr(&q, path);
	if (!rc)
		rc = tn_buf_check(&q, err);
	if (!rc)
		rc = catalog_exec(cat, q.buf, err);
	if (rc)
		tn_err_prefix(err, "backup of %s", catalog_file);
	catalog_close(cat);
	tn_buf_release(&q);
	return rc;
}

/* The newest snapshot in a catalog file, and a check that it is DuckLake's. */
static int newest_snapshot(const char *file, int64_t *snap, struct tn_err *err)
{
	struct catalog *cat = NULL;
	int found = 0;
	int rc = catalog_open(&cat, file, 0, err);

	if (!rc)
		rc = catalog_get_int(cat, "SELECT max(snapshot_id) FROM ducklake_snapshot", snap, &found, err, 0);
	if (!rc && !found)
		rc = tn_err_set(err, TN_EINVAL, "%s has no DuckLake snapshot", file);
	catalog_close(cat);
	return rc;
}

static int lock_dir(const char *dir, int *fd, struct tn_err *err)
{
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return tn_err_set(err, TN_EIO, "cannot open %s to lock it: %s", dir, strerror(errno));
	while (flock(*fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		close(*fd);
		*fd = -1;
		return tn_err_set(err, TN_EIO, "cannot lock %s: %s", dir, strerror(errno));
	}
	return 0;
}

/* Move the staged folder into a fresh version folder (next millisecond
 * when two backups meet) and fill e->version, created and path. */
static int publish(const char *root, const char *stage, struct backup_entry *e, struct tn_err *err)
{
	char version[64], iso[64];
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		int64_t now = tn_now_us();
		char *dst, *day;
		int rc;
		version_name(now, version);
		dst = tn_fs_join(root, version);
		day = tn_strndup(dst, (size_t)(strrchr(dst, '/') - dst));
		rc = tn_fs_mkdirs(day, err);
		if (!rc && !tn_fs_exists(dst) && rename(stage, dst) == 0) {
			iso_time(now, iso);
			e->version = tn_strdup(version);
			e->created = tn_strdup(iso);
			e->path = tn_fs_join(dst, COPY_NAME);
			rc = tn_fs_sync_dir(day, err);
			tn_free(dst);
			tn_free(day);
			return rc;
		}
		tn_free(dst);
		tn_free(day);
		if (rc)
			return rc;
		usleep(1000);
	}
	return tn_err_set(err, TN_EIO, "cannot move the backup %s into %s: %s", stage, root, strerror(errno));
}

static int record(const char *root, const struct backup_entry *e, struct tn_err *err)
{
	char *path = tn_fs_join(root, BACKUP_MANIFEST);
	json_t *m = NULL, *list;
	int rc = load_json(path, &m, err);

	if (!rc && !m)
		m = json_pack("{s:i, s:n, s:[]}", "manifest_version", 1, "latest", "backups");
	list = m ? json_object_get(m, "backups") : NULL;
	if (!rc && !json_is_array(list))
		rc = tn_err_set(err, TN_EINVAL, "%s has no \"backups\" list; restore it from a copy or remove it",
				path);
	if (!rc) {
		json_object_set_new(m, "latest", json_string(e->version));
		json_array_append_new(list, entry_json(e));
		rc = save_json(path, m, err);
	}
	json_decref(m);
	tn_free(path);
	return rc;
}

/* backup.json beside the copy: a backup folder copied elsewhere can still
 * be verified and restored with --backup PATH. */
static int write_info(const struct backup_entry *e, struct tn_err *err)
{
	char *dir = tn_strndup(e->path, (size_t)(strrchr(e->path, '/') - e->path));
	char *path = tn_fs_join(dir, BACKUP_INFO);
	json_t *j = entry_json(e);
	int rc = save_json(path, j, err);

	json_decref(j);
	tn_free(path);
	tn_free(dir);
	return rc;
}

/* VACUUM INTO the stage, then describe the copy. */
static int make_copy(const char *catalog_file, const char *stage, struct backup_entry *e, struct tn_err *err)
{
	char *copy = tn_fs_join(stage, COPY_NAME);
	int rc = tn_fs_mkdirs(stage, err);

	if (!rc)
		rc = vacuum_into(catalog_file, copy, err);
	/* Opening the copy may switch it to WAL mode: checksum after. */
	if (!rc)
		rc = newest_snapshot(copy, &e->snapshot, err);
	if (!rc)
		rc = tn_fs_sync_file(copy, err);
	if (!rc)
		rc = sha256_file(copy, e->sha256, &e->size, err);
	tn_free(copy);
	return rc;
}

int backup_take(struct lake *lk, struct backup_entry *e, struct tn_err *err)
{
	char uuid[37], *root = backups_root(lake_dir(lk)), *stage = NULL;
	char *catalog_file = tn_fs_join(lake_dir(lk), LAKE_CATALOG_FILE);
	int lock = -1, rc;

	memset(e, 0, sizeof(*e));
	tn_uuid7(uuid);
	stage = tn_xprintf("%s/.staging-%s", root, uuid);
	rc = sqlite_only(lake_dir(lk), err);
	if (!rc)
		rc = make_copy(catalog_file, stage, e, err);
	if (!rc)
		rc = lock_dir(root, &lock, err);
	if (!rc)
		rc = publish(root, stage, e, err);
	if (!rc)
		rc = write_info(e, err);
	if (!rc)
		rc = record(root, e, err);
	if (lock >= 0)
		close(lock);
	if (tn_fs_exists(stage)) {
		struct tn_err ignore = TN_ERR_INIT;
		tn_fs_remove_tree(stage, &ignore);
	}
	e->latest = !rc;
	if (rc)
		backup_entry_release(e);   /* on failure the caller gets nothing to free */
	tn_free(catalog_file);
	tn_free(stage);
	tn_free(root);
	return rc;
}

/* ---- listing ---- */

int backup_list(const char *lake_dir, struct backup_entry **out, size_t *n, struct tn_err *err)
{
	char *root = backups_root(lake_dir), *path = tn_fs_join(root, BACKUP_MANIFEST);
	const char *latest;
	json_t *m = NULL, *j;
	size_t i, alloc = 0;
	int rc = load_json(path, &m, err);

	*out = NULL;
	*n = 0;
	latest = m ? json_string_value(json_object_get(m, "latest")) : NULL;
	json_array_foreach(m ? json_object_get(m, "backups") : NULL, i, j) {
		TN_GROW(*out, alloc, *n + 1);
		if (entry_from_json(j, root, &(*out)[*n]) == 0) {
			(*out)[*n].latest = latest && !strcmp(latest, (*out)[*n].version);
			(*n)++;
		}
	}
	json_decref(m);
	tn_free(path);
	tn_free(root);
	return rc;
}

/* ---- restoring ---- */

static int bad_time(const char *s, struct tn_err *err)
{
	return tn_err_set(err, TN_EINVAL, "'%s' is not a UTC time: use 2024-05-01, 2024-05-01 12:30[:45], "
			  "2024-05-01T12:30:45Z or a backup name such as 2024_05_01/12_30_45_123", s);
}

/* Split s into up to 7 digit groups (year … second, then the fraction in
 * microseconds); any separator of the accepted forms ends a group. */
static int time_parts(const char *s, int64_t part[7], int *np)
{
	int in_num = 0, frac = 0;
	const char *p;

	for (p = s; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			if (!in_num && *np == 7)
				return -1;
			if (!in_num)
				part[(*np)++] = 0;
			in_num = 1;
			if (*np < 7 && part[*np - 1] > 99999)
				return -1;
			if (*np < 7)
				part[*np - 1] = part[*np - 1] * 10 + (*p - '0');
			else if (frac++ < 6)
				part[6] = part[6] * 10 + (*p - '0');
		} else if (strchr("-_/ :T.Z", *p) && !(*p == 'Z' && p[1])) {
			in_num = 0;
		} else {
			return -1;
		}
	}
	for (; *np == 7 && frac < 6; frac++)
		part[6] *= 10;   /* ".1" is 100 ms */
	return 0;
}

int backup_parse_time(const char *s, int64_t *us, struct tn_err *err)
{
	int64_t part[7] = { 0, 1, 1, 0, 0, 0, 0 };
	int np = 0;
	struct tm tm;

	if (time_parts(s, part, &np) || np < 3 || part[0] < 1970 || part[1] < 1 || part[1] > 12 ||
	    part[2] < 1 || part[2] > 31 || part[3] > 23 || part[4] > 59 || part[5] > 60)
		return bad_time(s, err);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)part[0] - 1900;
	tm.tm_mon = (int)part[1] - 1;
	tm.tm_mday = (int)part[2];
	tm.tm_hour = (int)part[3];
	tm.tm_min = (int)part[4];
	tm.tm_sec = (int)part[5];
	*us = (int64_t)timegm(&tm) * 1000000 + part[6];
	return 0;
}

/* The backup `o` asks for, from the manifest. */
static int pick_listed(const char *lake_dir, const char *at, struct backup_entry *used, struct tn_err *err)
{
	struct backup_entry *all = NULL;
	int64_t limit = 0, t;
	size_t n = 0, i, best = (size_t)-1;
	int rc = at ? backup_parse_time(at, &limit, err) : 0;

	if (!rc)
		rc = backup_list(lake_dir, &all, &n, err);
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

/* The backup in folder (or at file) `path`, described by its backup.json. */
static int pick_path(const char *path, struct backup_entry *used, struct tn_err *err)
{
	char *abs = tn_fs_abspath(path), *dir, *info;
	json_t *j = NULL;
	int rc;

	dir = tn_fs_is_dir(abs) ? tn_strdup(abs) : tn_strndup(abs, (size_t)(strrchr(abs, '/') - abs));
	info = tn_fs_join(dir, BACKUP_INFO);
	rc = load_json(info, &j, err);
	if (!rc && (!j || entry_from_json(j, "", used) != 0))
		rc = tn_err_set(err, TN_EINVAL, "%s is not a tarn catalog backup: %s is %s", path, info,
				j ? "incomplete" : "missing");
	if (!rc) {
		tn_free(used->path);
		used->path = tn_fs_join(dir, COPY_NAME);
	}
	json_decref(j);
	tn_free(info);
	tn_free(dir);
	tn_free(abs);
	return rc;
}

static int verify_file(const char *file, const struct backup_entry *e, struct tn_err *err)
{
	char sha[65];
	int64_t size = 0;
	int rc = sha256_file(file, sha, &size, err);

	if (!rc && (size != e->size || strcmp(sha, e->sha256)))
		rc = tn_err_set(err, TN_EINVAL, "backup %s is corrupt: %lld bytes with SHA-256 %.12s…, its "
				"record says %lld bytes with %.12s…; restore another one (--at or --backup)",
				e->version, (long long)size, sha, (long long)e->size, e->sha256);
	return rc;
}

/* A copy fit to be the catalog: sound for SQLite and a DuckLake catalog. */
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
	catalog_close(cat);
	tn_free(msg);
	if (!rc)
		rc = newest_snapshot(file, &snap, err);
	return rc;
}

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

/* Move catalog.sqlite (with its -wal, so the pair stays openable) aside. */
static int set_aside(const char *catalog_file, char **saved_as, struct tn_err *err)
{
	static const char *const sfx[] = { "-wal", "-shm" };
	char stamp[64], *aside;
	size_t i;

	version_name(tn_now_us(), stamp);
	*strchr(stamp, '/') = 'T';
	aside = tn_xprintf("%s.before-restore-%s", catalog_file, stamp);
	if (rename(catalog_file, aside) != 0) {
		int rc = tn_err_set(err, TN_EIO, "cannot move %s aside: %s", catalog_file, strerror(errno));
		tn_free(aside);
		return rc;
	}
	for (i = 0; i < TN_ARRAY_LEN(sfx); i++) {
		char *from = tn_xprintf("%s%s", catalog_file, sfx[i]), *to = tn_xprintf("%s%s", aside, sfx[i]);
		if (tn_fs_exists(from) && rename(from, to) != 0)
			unlink(from);
		tn_free(from);
		tn_free(to);
	}
	*saved_as = aside;
	return 0;
}

/* Verify, copy, check, then swap the copy in. */
static int swap_in(const char *lake_dir, const struct backup_entry *e, int force, char **saved_as,
		   struct tn_err *err)
{
	char uuid[37], *catalog_file = tn_fs_join(lake_dir, LAKE_CATALOG_FILE), *tmp;
	int rc = verify_file(e->path, e, err);

	tn_uuid7(uuid);
	tmp = tn_xprintf("%s/.restore-%s.sqlite", lake_dir, uuid);
	if (!rc && tn_fs_exists(catalog_file) && !force)
		rc = tn_err_set(err, TN_ECONFLICT, "lake %s has a catalog; restoring replaces it, and every "
				"commit after the backup is lost: stop its writers and add --force (the current "
				"catalog is kept beside it)", lake_dir);
	if (!rc)
		rc = copy_bytes(e->path, tmp, err);
	if (!rc)
		rc = verify_file(tmp, e, err);
	if (!rc)
		rc = check_copy(tmp, err);
	if (!rc && tn_fs_exists(catalog_file))
		rc = set_aside(catalog_file, saved_as, err);
	if (!rc && rename(tmp, catalog_file) != 0)
		rc = tn_err_set(err, TN_EIO, "cannot move the restored catalog into place: %s", strerror(errno));
	if (!rc)
		rc = tn_fs_sync_dir(lake_dir, err);
	unlink(tmp);
	tn_free(tmp);
	tn_free(catalog_file);
	return rc;
}

int backup_restore(const char *lake_dir, const struct backup_restore_opts *o, struct backup_entry *used,
		   char **saved_as, struct tn_err *err)
{
	char *dir = tn_fs_abspath(lake_dir);
	int rc;

	memset(used, 0, sizeof(*used));
	*saved_as = NULL;
	rc = sqlite_only(dir, err);
	if (rc)
		;
	else if (o->at && o->path)
		rc = tn_err_set(err, TN_EINVAL, "choose the backup with --at or with --backup, not both");
	else if (o->path)
		rc = pick_path(o->path, used, err);
	else
		rc = pick_listed(dir, o->at, used, err);
	if (!rc)
		rc = swap_in(dir, used, o->force, saved_as, err);
	tn_free(dir);
	return rc;
}
