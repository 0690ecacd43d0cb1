/*
 * outdir_store.c - exports and pins boards in a bucket, through the store
 * module (src/store/store.h).
 *
 * A bucket has no folders, no rename and no locks, so: a "folder" is the
 * set of objects under "<key>/"; publishing a staged folder uploads its
 * files one by one (each put is all-or-nothing) and, on a failure, deletes
 * what it had put; callers write the file that makes a version visible (a
 * manifest, data.txt, _pins.yaml) last, so a reader never follows a name
 * to a missing object. Stages, temp files and locks stay in the local work
 * folder; the locks serialise the writers of one machine only.
 */
#include "base/compat.h"
#include "share/outdir_int.h"
#include "store/store.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

/* The store key of `key` (owned): prefix + key. */
static char *full_key(const struct outdir *od, const char *key)
{
	return tn_xprintf("%s%s", od->prefix, key);
}

/* The listing prefix of folder `key` (owned): "<prefix><key>/", or the
 * prefix itself for the root. */
static char *folder_key(const struct outdir *od, const char *key)
{
	return *key ? tn_xprintf("%s%s/", od->prefix, key) : tn_strdup(od->prefix);
}

/* A fresh temp file name in the work folder (owned); the folder is made. */
static int temp_path(struct outdir *od, char **path, struct tn_err *err)
{
	char uuid[37], *dir = tn_fs_join(od->root, ".tmp");
	int rc = tn_fs_mkdirs(dir, err);

	tn_uuid7(uuid);
	*path = rc ? NULL : tn_xprintf("%s/%s", dir, uuid);
	tn_free(dir);
	return rc;
}

static int stop_at_first(void *arg, const char *key, int64_t size)
{
	(void)arg;
	(void)key;
	(void)size;
	return 1;
}

int outdir_store_exists(struct outdir *od, const char *key, int *yes, struct tn_err *err)
{
	struct store_stat st;
	char *k = full_key(od, key), *dir = folder_key(od, key);
	int rc = store_head(od->st, k, &st, err);

	*yes = !rc && st.exists;
	if (!rc && !*yes) {
		rc = store_list(od->st, dir, stop_at_first, NULL, err);
		*yes = rc == 1;
		if (rc == 1)
			rc = 0;
	}
	tn_free(dir);
	tn_free(k);
	return rc;
}

int outdir_store_put(struct outdir *od, const char *key, const void *data, size_t len, struct tn_err *err)
{
	char *tmp = NULL, *k = full_key(od, key);
	int rc = temp_path(od, &tmp, err);

	if (!rc)
		rc = tn_fs_write_atomic(tmp, data, len, err);
	if (!rc)
		rc = store_put_file(od->st, k, tmp, err);
	if (tmp)
		unlink(tmp);
	tn_free(tmp);
	tn_free(k);
	return rc;
}

int outdir_store_get(struct outdir *od, const char *key, char **data, size_t *len, struct tn_err *err)
{
	char *tmp = NULL, *k = full_key(od, key);
	int rc = temp_path(od, &tmp, err);

	*data = NULL;
	if (!rc)
		rc = store_get_file(od->st, k, tmp, -1, err);
	if (!rc)
		rc = tn_fs_read_all(tmp, data, len, err);
	if (tmp)
		unlink(tmp);
	tn_free(tmp);
	tn_free(k);
	return rc;
}

int outdir_store_import(struct outdir *od, const char *path, const char *key, struct tn_err *err)
{
	char *k = full_key(od, key);
	int rc = store_put_file(od->st, k, path, err);

	if (!rc)
		unlink(path);
	tn_free(k);
	return rc;
}

/* The regular files directly in local folder `dir`, sorted. */
static int local_files(const char *dir, char ***names, size_t *n, struct tn_err *err)
{
	size_t alloc = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	*names = NULL;
	*n = 0;
	if (!d)
		return tn_err_set(err, TN_EIO, "cannot open %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char *p;
		if (e->d_name[0] == '.')
			continue;
		p = tn_fs_join(dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			TN_GROW(*names, alloc, *n + 1);
			(*names)[(*n)++] = tn_strdup(e->d_name);
		}
		tn_free(p);
	}
	closedir(d);
	return 0;
}

int outdir_store_publish(struct outdir *od, const char *from_path, const char *to, struct tn_err *err)
{
	char **names = NULL, **put = NULL;
	size_t n = 0, i, nput = 0;
	int yes = 0, rc = outdir_store_exists(od, to, &yes, err);

	if (!rc && yes)
		return tn_err_set(err, TN_ECONFLICT, "%s/%s exists already", od->url, to);
	if (!rc)
		rc = local_files(from_path, &names, &n, err);
	put = tn_calloc(n ? n : 1, sizeof(*put));
	for (i = 0; !rc && i < n; i++) {
		char *file = tn_fs_join(from_path, names[i]);
		put[nput] = tn_xprintf("%s%s/%s", od->prefix, to, names[i]);
		rc = store_put_file(od->st, put[nput], file, err);
		if (!rc)
			nput++;
		else
			tn_free(put[nput]);
		tn_free(file);
	}
	if (rc && nput) {
		/* Half a version helps nobody: take back what was put. */
		struct tn_err ignore = TN_ERR_INIT;
		store_del_many(od->st, (const char *const *)put, nput, &ignore);
	}
	if (!rc)
		rc = tn_fs_remove_tree(from_path, err);
	for (i = 0; i < nput; i++)
		tn_free(put[i]);
	tn_free(put);
	for (i = 0; i < n; i++)
		tn_free(names[i]);
	tn_free(names);
	return rc;
}

struct list_arg {
	size_t skip;            /* bytes of the folder prefix */
	int dirs_only;
	char **names;
	size_t n, alloc;
};

/* Keys come in byte order, so a child's objects are adjacent: compare
 * with the last name only. */
static int list_child(void *arg, const char *key, int64_t size)
{
	struct list_arg *a = arg;
	const char *rest = key + a->skip, *slash = strchr(rest, '/');
	size_t len = slash ? (size_t)(slash - rest) : strlen(rest);

	(void)size;
	if (!len || rest[0] == '.' || (a->dirs_only && !slash))
		return 0;
	if (a->n && strlen(a->names[a->n - 1]) == len && !memcmp(a->names[a->n - 1], rest, len))
		return 0;
	TN_GROW(a->names, a->alloc, a->n + 1);
	a->names[a->n++] = tn_strndup(rest, len);
	return 0;
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int outdir_store_list(struct outdir *od, const char *key, int dirs_only, char ***names, size_t *n,
		      struct tn_err *err)
{
	char *dir = folder_key(od, key);
	struct list_arg a = { strlen(dir), dirs_only, NULL, 0, 0 };
	size_t i, out = 0;
	int rc = store_list(od->st, dir, list_child, &a, err);

	/* "a/x" and "a-b/y" interleave "a" with others: sort, then drop repeats. */
	if (a.n)
		qsort(a.names, a.n, sizeof(*a.names), cmp_names);
	for (i = 0; i < a.n; i++) {
		if (out && !strcmp(a.names[out - 1], a.names[i]))
			tn_free(a.names[i]);
		else
			a.names[out++] = a.names[i];
	}
	a.n = out;
	if (rc) {
		outdir_names_free(a.names, a.n);
		a.names = NULL;
		a.n = 0;
	}
	*names = a.names;
	*n = a.n;
	tn_free(dir);
	return rc;
}

struct keys_arg {
	char **keys;
	size_t n, alloc;
};

static int collect_key(void *arg, const char *key, int64_t size)
{
	struct keys_arg *a = arg;

	(void)size;
	TN_GROW(a->keys, a->alloc, a->n + 1);
	a->keys[a->n++] = tn_strdup(key);
	return 0;
}

int outdir_store_remove(struct outdir *od, const char *key, struct tn_err *err)
{
	struct keys_arg a = { NULL, 0, 0 };
	char *dir = folder_key(od, key);
	size_t i;
	int rc = store_list(od->st, dir, collect_key, &a, err);

	if (!rc) {
		TN_GROW(a.keys, a.alloc, a.n + 1);
		a.keys[a.n++] = full_key(od, key);   /* the key itself, when it is an object */
		rc = store_del_many(od->st, (const char *const *)a.keys, a.n, err);
	}
	for (i = 0; i < a.n; i++)
		tn_free(a.keys[i]);
	tn_free(a.keys);
	tn_free(dir);
	return rc;
}
