/*
 * files: the lake's data and delete files on its store. DuckDB only reads
 * and writes local files, so for a remote store (S3) a new file is written
 * to a local temp folder and uploaded, its size verified, before the commit
 * may refer to it; reads go through the store's read cache. For a local
 * store DuckDB writes the final file in place and tarn fsyncs it.
 */
#include "base/compat.h"
#include "lake/lake_int.h"
#include "base/tn_mem.h"
#include "base/tn_fs.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

const char *files_key(struct lake *lk, const char *path)
{
	const char *root = store_url(lk->store);
	size_t n = strlen(root);

	return strncmp(path, root, n) ? NULL : path + n;
}

int files_out_begin(struct lake *lk, const char *dir, const char *name, struct lk_out *o,
		    struct tn_err *err)
{
	o->path = tn_xprintf("%s%s", dir, name);
	if (!lk->remote) {
		o->local = tn_strdup(o->path);
		return tn_fs_mkdirs(dir, err);
	}
	if (!files_key(lk, o->path))
		return tn_err_set(err, TN_EINTERNAL, "%s is outside the lake's data path %s", o->path,
				  store_url(lk->store));
	o->local = tn_fs_join(lk->tmp_dir, name);
	return tn_fs_mkdirs(lk->tmp_dir, err);
}

/* Parquet ends with <4-byte footer length><"PAR1">. */
static int footer_size(const char *path, int64_t size, int64_t *out, struct tn_err *err)
{
	unsigned char tail[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	*out = 0;
	if (fd < 0)
		return tn_err_set(err, TN_EIO, "cannot open %s: %s", path, strerror(errno));
	n = size >= 8 ? pread(fd, tail, 8, (off_t)(size - 8)) : -1;
	close(fd);
	if (n != 8 || memcmp(tail + 4, "PAR1", 4))
		return tn_err_set(err, TN_EIO, "%s is not a complete Parquet file", path);
	*out = (int64_t)tail[0] | (int64_t)tail[1] << 8 | (int64_t)tail[2] << 16 | (int64_t)tail[3] << 24;
	return 0;
}

int files_out_seal(struct lake *lk, struct lk_out *o, int64_t *size, int64_t *footer,
		   struct tn_err *err)
{
	struct store_stat st;
	int rc = tn_fs_size(o->local, size, err);

	if (!rc)
		rc = footer_size(o->local, *size, footer, err);
	if (rc)
		return rc;
	if (!lk->remote)
		return tn_fs_sync_file(o->local, err);
	rc = store_put_file(lk->store, files_key(lk, o->path), o->local, err);
	/* A commit never refers to an object it has not seen whole. */
	if (!rc)
		rc = store_head(lk->store, files_key(lk, o->path), &st, err);
	if (!rc && (!st.exists || st.size != *size))
		rc = tn_err_set(err, TN_EIO, "upload of %s did not stick: the store has %s%lld bytes, "
				"%lld were sent", o->path, st.exists ? "" : "no object, ",
				(long long)(st.exists ? st.size : 0), (long long)*size);
	return rc;
}

void files_out_release(struct lake *lk, struct lk_out *o)
{
	struct tn_err ignore = TN_ERR_INIT;

	if (lk->remote && o->local)
		tn_fs_remove(o->local, &ignore);
	tn_free(o->path);
	tn_free(o->local);
	o->path = o->local = NULL;
}

int files_remove(struct lake *lk, const char *path, struct tn_err *err)
{
	const char *key;

	if (!lk->remote)
		return tn_fs_remove(path, err);
	key = files_key(lk, path);
	return key ? store_del(lk->store, key, err) : 0;
}

int files_fetch(struct lake *lk, struct lk_table *t, struct tn_err *err)
{
	const char **keys;
	int64_t *sizes;
	char **paths;
	size_t i, n = 0, k;
	int rc = 0;

	for (i = 0; i < t->nfiles; i++) {
		struct lk_file *f = &t->files[i];
		if (!lk->remote) {
			if (!f->local)
				f->local = tn_strdup(f->path);
			if (f->del_path && !f->del_local)
				f->del_local = tn_strdup(f->del_path);
			continue;
		}
		n += 1 + (f->del_path != NULL);
	}
	if (!n)
		return 0;
	keys = tn_calloc(n, sizeof(*keys));
	sizes = tn_calloc(n, sizeof(*sizes));
	paths = tn_calloc(n, sizeof(*paths));
	for (i = k = 0; i < t->nfiles; i++) {
		struct lk_file *f = &t->files[i];
		keys[k] = files_key(lk, f->path);
		sizes[k++] = f->size;
		if (f->del_path) {
			keys[k] = files_key(lk, f->del_path);
			sizes[k++] = f->del_size > 0 ? f->del_size : -1;
		}
	}
	for (i = 0; i < n && !rc; i++)
		if (!keys[i])
			rc = tn_err_set(err, TN_EINTERNAL, "a file of table %s is outside the data path %s",
					t->name, store_url(lk->store));
	if (!rc)
		rc = store_fetch_many(lk->store, keys, sizes, n, paths, err);
	for (i = k = 0; !rc && i < t->nfiles; i++) {
		struct lk_file *f = &t->files[i];
		tn_free(f->local);
		f->local = paths[k++];
		if (f->del_path) {
			tn_free(f->del_local);
			f->del_local = paths[k++];
		}
	}
	tn_free(keys);
	tn_free(sizes);
	tn_free(paths);
	return rc;
}
