/*
 * ingest_s3.c: the raw zone of a lake whose data lives in a bucket. The
 * published zone is the bucket's raw/ prefix, beside stage/ and marts/:
 *
 *   raw/<dataset>/manifest.json
 *   raw/<dataset>/YYYY_MM_DD/HH_mm_SS_sss/...files...
 *
 * The local <lake>/raw/ still holds what is private to one machine: the
 * staging folders of running ingestions, the lock, and .cache/, the copy
 * of the versions a load reads. Publishing uploads every file first and
 * the manifest last, so the manifest never names an object that is not
 * there; a failed upload deletes what it put.
 *
 * S3 has no rename and no mkdir, so "this millisecond is taken" is
 * decided by the manifest (and by objects already under the version's
 * prefix). The local lock serialises the ingestions of one machine; two
 * machines publishing versions of one dataset at the same moment can
 * lose one manifest entry (docs/ingestion.md), never a file.
 */
#include "base/compat.h"
#include "ingest/ingest.h"
#include "ingest/ingest_int.h"
#include "ingest/manifest.h"
#include "lake/lake.h"
#include "store/store.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <unistd.h>

#define RAW_PREFIX "raw/"

int ingest_zone_remote(const struct lake *lk)
{
	struct store *st = lake_store(lk);

	return st && !strcmp(store_kind(st), "s3");
}

/* raw/<dataset>/manifest.json */
static char *manifest_key(const char *name)
{
	return tn_xprintf(RAW_PREFIX "%s/" MANIFEST_FILE, name);
}

/* Read the dataset's manifest from the bucket through a private temp
 * file; TN_ENOTFOUND when there is none. */
static int get_manifest(struct store *st, const char *raw, const char *name, struct manifest *m,
			struct tn_err *err)
{
	char uuid[37], *key = manifest_key(name), *tmp;
	int rc;

	tn_uuid7(uuid);
	tmp = tn_xprintf("%s" INGEST_TMP_DIR "/manifest-%s.json", raw, uuid);
	manifest_init(m, NULL);
	rc = tn_fs_mkdirs(raw, err);
	if (!rc) {
		char *dir = tn_xprintf("%s" INGEST_TMP_DIR, raw);
		rc = tn_fs_mkdirs(dir, err);
		tn_free(dir);
	}
	if (!rc)
		rc = store_get_file(st, key, tmp, -1, err);
	if (!rc) {
		manifest_release(m);
		rc = manifest_read(tmp, m, err);
	}
	unlink(tmp);
	tn_free(tmp);
	tn_free(key);
	return rc;
}

int ingest_s3_get_manifest(struct lake *lk, const char *raw, const char *name, struct manifest *m,
			   struct tn_err *err)
{
	return get_manifest(lake_store(lk), raw, name, m, err);
}

static int put_manifest(struct store *st, const char *raw, const struct manifest *m,
			struct tn_err *err)
{
	char uuid[37], *key = manifest_key(m->name), *tmp;
	int rc;

	tn_uuid7(uuid);
	tmp = tn_xprintf("%s" INGEST_TMP_DIR "/manifest-%s.json", raw, uuid);
	rc = manifest_write(tmp, m, err);
	if (!rc)
		rc = store_put_file(st, key, tmp, err);
	unlink(tmp);
	tn_free(tmp);
	tn_free(key);
	return rc;
}

/* store_list callback: stop at the first object. */
static int any_object(void *arg, const char *key, int64_t size)
{
	(void)key;
	(void)size;
	*(int *)arg = 1;
	return 1;
}

/* 1 when some object lives under `prefix` (which ends with '/'). */
static int has_objects(struct store *st, const char *prefix, int *found, struct tn_err *err)
{
	int rc;

	*found = 0;
	rc = store_list(st, prefix, any_object, found, err);
	return rc == 1 ? 0 : rc;
}

/* ---- publishing ---- */

static void undo_puts(struct store *st, char **keys, size_t n)
{
	struct tn_err ignore = TN_ERR_INIT;

	if (n)
		store_del_many(st, (const char *const *)keys, n, &ignore);
}

static int upload_files(struct store *st, const struct ingest_s3_job *j, const char *id,
			const struct manifest_version *files, char ***keys, size_t *nkeys,
			struct tn_err *err)
{
	int64_t total = 0, done = 0;
	size_t k;
	int rc = 0;

	for (k = 0; k < files->nfiles; k++)
		total += files->files[k].size;
	*keys = tn_calloc(files->nfiles + 1, sizeof(char *));
	*nkeys = 0;
	for (k = 0; !rc && k < files->nfiles; k++) {
		char *path = tn_fs_join(j->staging, files->files[k].path);
		char *key = tn_xprintf(RAW_PREFIX "%s/%s/%s", j->name, id, files->files[k].path);
		rc = store_key_check(key, err);
		if (!rc)
			rc = store_put_file(st, key, path, err);
		if (!rc) {
			(*keys)[(*nkeys)++] = key;
			done += files->files[k].size;
			if (j->progress)
				j->progress(j->progress_arg, "uploading", done, total);
		} else {
			tn_free(key);
		}
		tn_free(path);
	}
	return rc;
}

int ingest_s3_publish(struct lake *lk, const struct ingest_s3_job *j,
		      const struct manifest_version *files, char **path, struct tn_err *err)
{
	struct store *st = lake_store(lk);
	char id[MANIFEST_ID_LEN], created[MANIFEST_CREATED_LEN], *prefix = NULL, **keys = NULL;
	struct manifest m;
	struct manifest_version *v;
	size_t k, nkeys = 0;
	int64_t ms;
	int fd = -1, rc, taken = 0;

	*path = NULL;
	memset(&m, 0, sizeof(m));
	rc = ingest_lock(j->raw, &fd, err);
	if (!rc) {
		rc = get_manifest(st, j->raw, j->name, &m, err);
		if (rc == TN_ENOTFOUND) {
			tn_err_clear(err);
			manifest_release(&m);
			manifest_init(&m, j->name);
			rc = 0;
		}
	}
	if (rc)
		goto out;
	ms = ingest_now_ms();
	manifest_id(ms, id);
	manifest_created(ms, created);
	prefix = tn_xprintf(RAW_PREFIX "%s/%s/", j->name, id);
	v = manifest_add(&m, id, created, j->source);
	if (v)
		rc = has_objects(st, prefix, &taken, err);
	if (!rc && (!v || taken)) {
		rc = tn_err_set(err, TN_ECONFLICT, "version %s of dataset %s already exists (another "
				"ingestion in the same millisecond); nothing was changed, run it again", id, j->name);
		goto out;
	}
	if (rc)
		goto out;
	for (k = 0; k < files->nfiles; k++)
		manifest_add_file(v, files->files[k].path, files->files[k].size, files->files[k].sha256);
	rc = upload_files(st, j, id, files, &keys, &nkeys, err);
	/* The manifest goes last: before it names the version, nobody reads it. */
	if (!rc)
		rc = put_manifest(st, j->raw, &m, err);
	if (rc)
		undo_puts(st, keys, nkeys);
	else
		*path = tn_xprintf("%s%s", store_url(st), prefix);
out:
	ingest_unlock(fd);
	for (k = 0; k < nkeys; k++)
		tn_free(keys[k]);
	tn_free(keys);
	tn_free(prefix);
	manifest_release(&m);
	return rc;
}

/* ---- listing ---- */

struct names_acc {
	char **v;
	size_t n, alloc;
};

/* Keys raw/<dataset>/manifest.json: collect <dataset>. */
static int collect_dataset(void *arg, const char *key, int64_t size)
{
	struct names_acc *a = arg;
	const char *name = key + strlen(RAW_PREFIX), *slash = strchr(name, '/');

	(void)size;
	if (!slash || strcmp(slash + 1, MANIFEST_FILE) || name[0] == '.')
		return 0;
	TN_GROW(a->v, a->alloc, a->n + 1);
	a->v[a->n++] = tn_strndup(name, (size_t)(slash - name));
	return 0;
}

static void names_free(struct names_acc *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		tn_free(a->v[i]);
	tn_free(a->v);
	memset(a, 0, sizeof(*a));
}

/* The datasets of the bucket's raw zone, in key order. */
static int s3_datasets(struct store *st, struct names_acc *a, struct tn_err *err)
{
	memset(a, 0, sizeof(*a));
	return store_list(st, RAW_PREFIX, collect_dataset, a, err);
}

int ingest_s3_list(struct lake *lk, const char *raw, int all, struct ingest_listing *out,
		   struct tn_err *err)
{
	struct store *st = lake_store(lk);
	char *root = tn_xprintf("%s" RAW_PREFIX, store_url(st));
	struct names_acc ds;
	size_t i, k;
	int rc = s3_datasets(st, &ds, err);

	for (i = 0; !rc && i < ds.n; i++) {
		struct manifest m;
		rc = get_manifest(st, raw, ds.v[i], &m, err);
		if (rc == TN_ENOTFOUND) {
			tn_err_clear(err);   /* deleted since the listing */
			rc = 0;
		} else if (!rc) {
			for (k = 0; k < m.n; k++)
				if (all || (m.latest && !strcmp(m.latest, m.v[k].id)))
					ingest_listing_add(out, root, &m, &m.v[k]);
		}
		manifest_release(&m);
	}
	names_free(&ds);
	tn_free(root);
	return rc;
}

/* ---- pruning ---- */

int ingest_s3_prune(struct lake *lk, const char *raw, int dry_run, ingest_prune_fn *fn, void *arg,
		    struct tn_err *err)
{
	struct store *st = lake_store(lk);
	struct names_acc ds;
	size_t i, k;
	int rc = s3_datasets(st, &ds, err);

	for (i = 0; !rc && i < ds.n; i++) {
		struct manifest m;
		int changed = 0;
		rc = get_manifest(st, raw, ds.v[i], &m, err);
		if (rc == TN_ENOTFOUND) {
			tn_err_clear(err);
			rc = 0;
			manifest_release(&m);
			continue;
		}
		for (k = m.n; !rc && k-- > 0;) {
			char *prefix = tn_xprintf(RAW_PREFIX "%s/%s/", ds.v[i], m.v[k].id);
			int found = 0;
			rc = has_objects(st, prefix, &found, err);
			if (!rc && !found) {
				char *url = tn_xprintf("%s%s", store_url(st), prefix);
				if (fn)
					fn(arg, url, "version holds no file");
				tn_free(url);
				if (!dry_run)
					changed = manifest_remove(&m, m.v[k].id);
			}
			tn_free(prefix);
		}
		if (!rc && changed)
			rc = put_manifest(st, raw, &m, err);
		manifest_release(&m);
	}
	names_free(&ds);
	return rc;
}

/* ---- the version a load reads ---- */

struct version_objects {
	const char *prefix;
	char **keys;
	int64_t *sizes;
	size_t n, alloc, salloc;
};

static int collect_object(void *arg, const char *key, int64_t size)
{
	struct version_objects *o = arg;

	if (strncmp(key, o->prefix, strlen(o->prefix)))
		return 0;
	TN_GROW(o->keys, o->alloc, o->n + 1);
	TN_GROW(o->sizes, o->salloc, o->n + 1);
	o->keys[o->n] = tn_strdup(key);
	o->sizes[o->n++] = size;
	return 0;
}

/*
 * Bring version `id` of `name` to <raw>/.cache/<name>/<id>/ (what is there
 * with the right size is kept: objects never change) and return that
 * folder. Every object under the version's prefix is fetched, so files a
 * user put beside a --manual version by hand are loaded too.
 */
int ingest_s3_fetch_version(struct lake *lk, const char *raw, const char *name, const char *id,
			    char **dir, struct tn_err *err)
{
	struct store *st = lake_store(lk);
	char *prefix = tn_xprintf(RAW_PREFIX "%s/%s/", name, id);
	struct version_objects o;
	size_t i;
	int rc;

	memset(&o, 0, sizeof(o));
	o.prefix = prefix;
	*dir = tn_xprintf("%s" INGEST_CACHE_DIR "/%s/%s", raw, name, id);
	rc = store_list(st, prefix, collect_object, &o, err);
	if (!rc)
		rc = tn_fs_mkdirs(*dir, err);
	for (i = 0; !rc && i < o.n; i++) {
		char *rel = o.keys[i] + strlen(prefix), *path = tn_fs_join(*dir, rel);
		char *parent = tn_strdup(path);
		struct tn_err ignore = TN_ERR_INIT;
		int64_t have = -1;
		*strrchr(parent, '/') = '\0';
		rc = ingest_member_ok(rel, err);
		if (!rc)
			rc = tn_fs_mkdirs(parent, err);
		if (!rc && (tn_fs_size(path, &have, &ignore) != 0 || have != o.sizes[i]))
			rc = store_get_file(st, o.keys[i], path, o.sizes[i], err);
		tn_free(parent);
		tn_free(path);
	}
	for (i = 0; i < o.n; i++)
		tn_free(o.keys[i]);
	tn_free(o.keys);
	tn_free(o.sizes);
	tn_free(prefix);
	if (rc) {
		tn_free(*dir);
		*dir = NULL;
	}
	return rc;
}
