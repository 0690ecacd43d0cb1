/*
 * backup_home.c - where a lake's catalog backups live: <lake>/backups/
 * catalog/ on local disk, or, for a lake whose data is in a bucket, the
 * prefix backups/catalog/ of that bucket (beside stage/, marts/, raw/,
 * exports/), so that losing the machine does not lose the backups.
 *
 * In a bucket a backup is uploaded file by file, catalog.sqlite first,
 * backup.json next, and recorded in manifest.json last; a failed upload
 * deletes what it put, so the manifest never names a missing object. The
 * local folder keeps the stages, temp files and the lock, which
 * serialises one machine's backups.
 */
#include "base/compat.h"
#include "lake/backup_int.h"
#include "store/store.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <unistd.h>

#define HOME_PREFIX BACKUP_DIR "/"

void bk_home_init(struct bk_home *h, const char *lake_dir, struct store *st)
{
	memset(h, 0, sizeof(*h));
	h->dir = tn_fs_join(lake_dir, BACKUP_DIR);
	if (st && !strcmp(store_kind(st), "s3")) {
		h->st = st;
		h->root = tn_xprintf("%s" BACKUP_DIR, store_url(st));
	} else {
		h->root = tn_strdup(h->dir);
	}
}

void bk_home_release(struct bk_home *h)
{
	tn_free(h->dir);
	tn_free(h->root);
	memset(h, 0, sizeof(*h));
}

/* A fresh temp file name in the local folder (made if missing). */
static int temp_file(struct bk_home *h, char **path, struct tn_err *err)
{
	char uuid[37];
	int rc = tn_fs_mkdirs(h->dir, err);

	tn_uuid7(uuid);
	*path = rc ? NULL : tn_xprintf("%s/.tmp-%s", h->dir, uuid);
	return rc;
}

int bk_home_load(struct bk_home *h, json_t **m, struct tn_err *err)
{
	char *tmp = NULL, *path;
	int rc;

	*m = NULL;
	if (!h->st) {
		path = tn_fs_join(h->dir, BACKUP_MANIFEST);
		rc = bk_load_json(path, m, err);
		tn_free(path);
		return rc;
	}
	rc = temp_file(h, &tmp, err);
	if (!rc)
		rc = store_get_file(h->st, HOME_PREFIX BACKUP_MANIFEST, tmp, -1, err);
	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);   /* no backup yet */
		rc = 0;
	} else if (!rc) {
		rc = bk_load_json(tmp, m, err);
	}
	if (tmp)
		unlink(tmp);
	tn_free(tmp);
	return rc;
}

int bk_home_save(struct bk_home *h, const json_t *m, struct tn_err *err)
{
	char *tmp = NULL, *path;
	int rc;

	if (!h->st) {
		path = tn_fs_join(h->dir, BACKUP_MANIFEST);
		rc = bk_save_json(path, m, err);
		tn_free(path);
		return rc;
	}
	rc = temp_file(h, &tmp, err);
	if (!rc)
		rc = bk_save_json(tmp, m, err);
	if (!rc)
		rc = store_put_file(h->st, HOME_PREFIX BACKUP_MANIFEST, tmp, err);
	if (tmp)
		unlink(tmp);
	tn_free(tmp);
	return rc;
}

int bk_home_upload(struct bk_home *h, const char *stage, const char *version, struct tn_err *err)
{
	static const char *const files[] = { BACKUP_COPY_NAME, BACKUP_INFO };
	char *keys[2] = { NULL, NULL };
	size_t i, put = 0;
	int rc = 0;

	for (i = 0; !rc && i < TN_ARRAY_LEN(files); i++) {
		char *path = tn_fs_join(stage, files[i]);
		keys[i] = tn_xprintf(HOME_PREFIX "%s/%s", version, files[i]);
		rc = store_put_file(h->st, keys[i], path, err);
		put += !rc;
		tn_free(path);
	}
	if (rc && put) {
		struct tn_err ignore = TN_ERR_INIT;
		store_del_many(h->st, (const char *const *)keys, put, &ignore);
	}
	tn_free(keys[0]);
	tn_free(keys[1]);
	return rc;
}

void bk_home_unupload(struct bk_home *h, const char *version)
{
	struct tn_err ignore = TN_ERR_INIT;
	char *keys[2];

	keys[0] = tn_xprintf(HOME_PREFIX "%s/" BACKUP_COPY_NAME, version);
	keys[1] = tn_xprintf(HOME_PREFIX "%s/" BACKUP_INFO, version);
	store_del_many(h->st, (const char *const *)keys, 2, &ignore);
	tn_free(keys[0]);
	tn_free(keys[1]);
}

static int any_object(void *arg, const char *key, int64_t size)
{
	(void)arg;
	(void)key;
	(void)size;
	return 1;
}

int bk_home_taken(struct bk_home *h, const char *version, int *yes, struct tn_err *err)
{
	char *prefix = tn_xprintf(HOME_PREFIX "%s/", version);
	int rc = store_list(h->st, prefix, any_object, NULL, err);

	*yes = rc == 1;
	tn_free(prefix);
	return rc == 1 ? 0 : rc;
}

int bk_home_fetch(struct bk_home *h, const struct backup_entry *e, const char *path, struct tn_err *err)
{
	char *key = tn_xprintf(HOME_PREFIX "%s/" BACKUP_COPY_NAME, e->version);
	int rc = store_get_file(h->st, key, path, -1, err);

	if (rc == TN_ENOTFOUND)
		tn_err_prefix(err, "backup %s is listed in %s/" BACKUP_MANIFEST " but its copy is missing",
			      e->version, h->root);
	tn_free(key);
	return rc;
}
