/*
 * backup.c - taking catalog backups while the lake is in use, and listing
 * them.
 *
 * A SQLite catalog is copied with VACUUM INTO (one read transaction, so
 * writers keep going); a PostgreSQL catalog is copied table by table into
 * a new SQLite file inside one REPEATABLE READ transaction (backup_copy.c),
 * so both kinds of backup are SQLite DuckLake catalogs that restore to
 * either backend. The copy is made in a staging folder, its newest
 * snapshot read, fsynced and checksummed, then published as a version
 * folder (renamed on local disk, uploaded in a bucket: backup_home.c) and
 * finally added to manifest.json under a lock.
 */
#include "base/compat.h"
#include "lake/backup_int.h"
#include "lake/lake_int.h"
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

/* ---- small helpers ---- */

void bk_version_name(int64_t us, char out[64])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d_%02d_%02d/%02d_%02d_%02d_%03d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us / 1000 % 1000));
}

void bk_iso_time(int64_t us, char out[64])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us / 1000 % 1000));
}

/* SHA-256 (lowercase hex) and size of a file. */
int bk_sha256_file(const char *path, char hex[65], int64_t *size, struct tn_err *err)
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

int bk_save_json(const char *path, const json_t *v, struct tn_err *err)
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
int bk_load_json(const char *path, json_t **out, struct tn_err *err)
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

json_t *bk_entry_json(const struct backup_entry *e)
{
	char *file = tn_xprintf("%s/%s", e->version, BACKUP_COPY_NAME);
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:s}", "version", e->version, "created",
			      e->created, "file", file, "size", (json_int_t)e->size, "sha256", e->sha256,
			      "snapshot", (json_int_t)e->snapshot, "catalog", e->catalog ? e->catalog : "sqlite");

	tn_free(file);
	return j;
}

int bk_entry_from_json(const json_t *j, const char *root, struct backup_entry *e)
{
	const char *version = json_string_value(json_object_get(j, "version"));
	const char *created = json_string_value(json_object_get(j, "created"));
	const char *sha = json_string_value(json_object_get(j, "sha256"));

	memset(e, 0, sizeof(*e));
	if (!version || !created || !sha || strlen(sha) != 64)
		return -1;
	e->version = tn_strdup(version);
	e->created = tn_strdup(created);
	e->path = tn_xprintf("%s/%s/%s", root, version, BACKUP_COPY_NAME);
	e->size = (int64_t)json_integer_value(json_object_get(j, "size"));
	e->snapshot = (int64_t)json_integer_value(json_object_get(j, "snapshot"));
	/* Backups older than the "catalog" field were all of SQLite catalogs. */
	e->catalog = json_string_value(json_object_get(j, "catalog")) &&
		!strcmp(json_string_value(json_object_get(j, "catalog")), "postgres") ? "postgres" : "sqlite";
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

int bk_newest_snapshot(struct catalog *cat, const char *what, int64_t *snap, struct tn_err *err)
{
	int found = 0;
	int rc = catalog_get_int(cat, "SELECT max(snapshot_id) FROM ducklake_snapshot", snap, &found, err, 0);

	if (rc == TN_EINVAL) {
		tn_err_clear(err);
		rc = tn_err_set(err, TN_EINVAL, "%s is not a DuckLake catalog (no ducklake_snapshot table)", what);
	}
	if (!rc && !found)
		rc = tn_err_set(err, TN_EINVAL, "%s has no DuckLake snapshot", what);
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

/* A server catalog copied into the SQLite file `path` in one read
 * transaction (REPEATABLE READ: one snapshot, writers not blocked). */
static int copy_server(const char *uri, const char *path, struct tn_err *err)
{
	struct catalog *src = NULL, *dst = NULL;
	int64_t snap = 0, rows = 0;
	int rc = catalog_open(&src, uri, 0, err);

	if (!rc)
		rc = catalog_open(&dst, path, 1, err);
	if (!rc)
		rc = catalog_begin(src, 0, err);
	if (!rc)
		rc = catalog_begin(dst, 1, err);
	if (!rc)
		rc = bk_copy_catalog(src, dst, &snap, &rows, err);
	if (!rc)
		rc = catalog_commit(dst, err);
	if (rc)
		tn_err_prefix(err, "backup of %s", src ? catalog_path(src) : "the catalog");
	catalog_close(dst);   /* rolls back on failure */
	catalog_close(src);   /* read only: ends the snapshot */
	return rc;
}

static int copy_snapshot(const char *file, int64_t *snap, struct tn_err *err)
{
	struct catalog *cat = NULL;
	int rc = catalog_open(&cat, file, 0, err);

	if (!rc)
		rc = bk_newest_snapshot(cat, file, snap, err);
	catalog_close(cat);
	return rc;
}

static int lock_dir(const char *dir, int *fd, struct tn_err *err)
{
	int rc = tn_fs_mkdirs(dir, err);

	*fd = -1;
	if (rc)
		return rc;
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

static void fill_names(struct backup_entry *e, const struct bk_home *h, int64_t now, const char *version)
{
	char iso[64];

	bk_iso_time(now, iso);
	e->version = tn_strdup(version);
	e->created = tn_strdup(iso);
	e->path = tn_xprintf("%s/%s/" BACKUP_COPY_NAME, h->root, version);
}

/* backup.json beside the copy: a backup folder copied elsewhere can still
 * be verified and restored with --backup PATH. */
static int write_info(const char *dir, const struct backup_entry *e, struct tn_err *err)
{
	char *path = tn_fs_join(dir, BACKUP_INFO);
	json_t *j = bk_entry_json(e);
	int rc = bk_save_json(path, j, err);

	json_decref(j);
	tn_free(path);
	return rc;
}

/* Local disk: move the staged folder into a fresh version folder (the
 * next millisecond when two backups meet). */
static int publish_local(struct bk_home *h, const char *stage, struct backup_entry *e, struct tn_err *err)
{
	char version[64];
	int tries, rc = 0;

	for (tries = 0; !rc && tries < 1000; tries++) {
		int64_t now = tn_now_us();
		char *dst, *day;
		bk_version_name(now, version);
		dst = tn_fs_join(h->dir, version);
		day = tn_strndup(dst, (size_t)(strrchr(dst, '/') - dst));
		rc = tn_fs_mkdirs(day, err);
		if (!rc && !tn_fs_exists(dst)) {
			fill_names(e, h, now, version);
			rc = write_info(stage, e, err);
			if (!rc && rename(stage, dst) == 0) {
				rc = tn_fs_sync_dir(day, err);
				tn_free(dst);
				tn_free(day);
				return rc;
			}
			tn_free(e->version);
			tn_free(e->created);
			tn_free(e->path);
			e->version = e->created = e->path = NULL;
		}
		tn_free(dst);
		tn_free(day);
		usleep(1000);
	}
	return rc ? rc : tn_err_set(err, TN_EIO, "cannot move the backup %s into %s: %s", stage, h->dir,
				    strerror(errno));
}

/* In a bucket: a version no object uses yet, then upload. */
static int publish_remote(struct bk_home *h, const char *stage, struct backup_entry *e, struct tn_err *err)
{
	char version[64];
	int tries, yes = 1, rc = 0;

	for (tries = 0; !rc && yes && tries < 1000; tries++) {
		int64_t now = tn_now_us();
		bk_version_name(now, version);
		rc = bk_home_taken(h, version, &yes, err);
		if (!rc && !yes)
			fill_names(e, h, now, version);
		else
			usleep(1000);
	}
	if (!rc && yes)
		rc = tn_err_set(err, TN_EIO, "no free backup name in %s", h->root);
	if (!rc)
		rc = write_info(stage, e, err);
	if (!rc)
		rc = bk_home_upload(h, stage, e->version, err);
	return rc;
}

static int record(struct bk_home *h, const struct backup_entry *e, struct tn_err *err)
{
	json_t *m = NULL, *list;
	int rc = bk_home_load(h, &m, err);

	if (!rc && !m)
		m = json_pack("{s:i, s:n, s:[]}", "manifest_version", 1, "latest", "backups");
	list = m ? json_object_get(m, "backups") : NULL;
	if (!rc && !json_is_array(list))
		rc = tn_err_set(err, TN_EINVAL, "%s/%s has no \"backups\" list; restore it from a copy or "
				"remove it", h->root, BACKUP_MANIFEST);
	if (!rc) {
		json_object_set_new(m, "latest", json_string(e->version));
		json_array_append_new(list, bk_entry_json(e));
		rc = bk_home_save(h, m, err);
	}
	json_decref(m);
	return rc;
}

/* Copy the catalog into the stage, then describe the copy. */
static int make_copy(struct lake *lk, const char *stage, struct backup_entry *e, struct tn_err *err)
{
	char *copy = tn_fs_join(stage, BACKUP_COPY_NAME);
	int server = !tn_fs_exists(lk->catalog_path);
	int rc = tn_fs_mkdirs(stage, err);

	if (!rc)
		rc = server ? copy_server(lk->catalog_path, copy, err) : vacuum_into(lk->catalog_path, copy, err);
	/* Opening the copy may switch it to WAL mode: checksum after. */
	if (!rc)
		rc = copy_snapshot(copy, &e->snapshot, err);
	if (!rc)
		rc = tn_fs_sync_file(copy, err);
	if (!rc)
		rc = bk_sha256_file(copy, e->sha256, &e->size, err);
	e->catalog = server ? "postgres" : "sqlite";
	tn_free(copy);
	return rc;
}

static int publish_and_record(struct bk_home *h, const char *stage, struct backup_entry *e, struct tn_err *err)
{
	char *lockdir = tn_fs_join(h->dir, h->st ? ".lock" : "");
	int lock = -1;
	int rc = lock_dir(h->st ? lockdir : h->dir, &lock, err);

	if (!rc)
		rc = h->st ? publish_remote(h, stage, e, err) : publish_local(h, stage, e, err);
	if (!rc) {
		rc = record(h, e, err);
		/* Unrecorded copies help nobody: take them back. */
		if (rc && h->st) {
			bk_home_unupload(h, e->version);
		} else if (rc) {
			struct tn_err ignore = TN_ERR_INIT;
			char *dir = tn_fs_join(h->dir, e->version);
			tn_fs_remove_tree(dir, &ignore);
			tn_free(dir);
		}
	}
	if (lock >= 0)
		close(lock);
	tn_free(lockdir);
	return rc;
}

int backup_take(struct lake *lk, struct backup_entry *e, struct tn_err *err)
{
	struct bk_home h;
	char uuid[37], *stage = NULL;
	int rc;

	memset(e, 0, sizeof(*e));
	bk_home_init(&h, lk->dir, lk->store);
	tn_uuid7(uuid);
	stage = tn_xprintf("%s/.staging-%s", h.dir, uuid);
	rc = make_copy(lk, stage, e, err);
	if (!rc)
		rc = publish_and_record(&h, stage, e, err);
	if (tn_fs_exists(stage)) {
		struct tn_err ignore = TN_ERR_INIT;
		tn_fs_remove_tree(stage, &ignore);
	}
	e->latest = !rc;
	if (rc)
		backup_entry_release(e);   /* on failure the caller gets nothing to free */
	tn_free(stage);
	bk_home_release(&h);
	return rc;
}

/* ---- listing ---- */

int bk_list(struct bk_home *h, struct backup_entry **out, size_t *n, struct tn_err *err)
{
	const char *latest;
	json_t *m = NULL, *j;
	size_t i, alloc = 0;
	int rc = bk_home_load(h, &m, err);

	*out = NULL;
	*n = 0;
	latest = m ? json_string_value(json_object_get(m, "latest")) : NULL;
	json_array_foreach(m ? json_object_get(m, "backups") : NULL, i, j) {
		TN_GROW(*out, alloc, *n + 1);
		if (bk_entry_from_json(j, h->root, &(*out)[*n]) == 0) {
			(*out)[*n].latest = latest && !strcmp(latest, (*out)[*n].version);
			(*n)++;
		}
	}
	json_decref(m);
	return rc;
}

int backup_list(const char *lake_dir, struct store *st, struct backup_entry **out, size_t *n,
		struct tn_err *err)
{
	struct bk_home h;
	int rc;

	bk_home_init(&h, lake_dir, st);
	rc = bk_list(&h, out, n, err);
	bk_home_release(&h);
	return rc;
}

/* ---- times ---- */

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

