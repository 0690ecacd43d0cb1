/*
 * outdir.c - exports and pins boards addressed by keys: the local disk
 * here, a bucket in outdir_store.c (each public function sends a key that
 * lives in the bucket there).
 *
 * Durability rule: a file is fsynced before the rename that makes it
 * visible, and the folder that gained or lost a name is fsynced after it,
 * so a crash leaves either the old state or the new one plus hidden
 * leftovers (".staging/…", ".tarn-tmp-…") that listings skip.
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
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int outdir_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > OUTDIR_NAME_MAX || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* A key is relative and has no empty, "." or ".." component. */
static int key_ok(const char *key)
{
	const char *p = key, *seg;
	size_t n;

	if (!*key || *key == '/')
		return 0;
	while (*p) {
		seg = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		if (*p == '/' && !*++p)
			return 0;
	}
	return 1;
}

static int bad_key(const char *key, struct tn_err *err)
{
	return tn_err_set(err, TN_EINVAL, "'%s' is not a valid relative name (no empty, '.' or '..' "
			  "parts); this is a bug in tarn", key);
}

int outdir_open(struct outdir **out, const char *root, int create, struct tn_err *err)
{
	char *abs = tn_fs_abspath(root);
	int rc = 0;

	*out = NULL;
	if (create)
		rc = tn_fs_mkdirs(abs, err);
	else if (!tn_fs_is_dir(abs))
		rc = tn_err_set(err, TN_ENOTFOUND, "no folder %s", abs);
	if (rc) {
		tn_free(abs);
		return rc;
	}
	*out = tn_calloc(1, sizeof(**out));
	(*out)->root = abs;
	return 0;
}

int outdir_open_store(struct outdir **out, struct store *st, int own, const char *prefix, const char *work,
		      struct tn_err *err)
{
	size_t n = strlen(prefix);
	char *bare = tn_strndup(prefix, n && prefix[n - 1] == '/' ? n - 1 : n);
	int rc = tn_fs_mkdirs(work, err);

	*out = NULL;
	if (!rc && *bare)
		rc = store_key_check(bare, err);
	tn_free(bare);
	if (rc) {
		if (own)
			store_close(st);
		return rc;
	}
	*out = tn_calloc(1, sizeof(**out));
	(*out)->root = tn_fs_abspath(work);
	(*out)->st = st;
	(*out)->own_store = own;
	(*out)->prefix = n && prefix[n - 1] != '/' ? tn_xprintf("%s/", prefix) : tn_strdup(prefix);
	(*out)->url = tn_xprintf("%s%.*s", store_url(st), (int)strlen((*out)->prefix) - (n ? 1 : 0),
				 (*out)->prefix);
	return 0;
}

int outdir_open_url(struct outdir **out, const char *url, const char *work, struct tn_err *err)
{
	struct store *st = NULL;
	int rc;

	if (strncmp(url, "s3://", 5))
		return outdir_open(out, url, 1, err);
	*out = NULL;
	rc = store_open(&st, url, NULL, err);
	if (!rc)
		rc = outdir_open_store(out, st, 1, "", work, err);
	return rc;
}

void outdir_close(struct outdir *od)
{
	if (!od)
		return;
	if (od->own_store)
		store_close(od->st);
	tn_free(od->prefix);
	tn_free(od->url);
	tn_free(od->root);
	tn_free(od);
}

const char *outdir_root(const struct outdir *od)
{
	return od->st ? od->url : od->root;
}

int outdir_is_remote(const struct outdir *od)
{
	return od->st != NULL;
}

int outdir_remote(const struct outdir *od, const char *key)
{
	return od->st && key[0] != '.';
}

char *outdir_path(const struct outdir *od, const char *key)
{
	if (!*key)
		return tn_strdup(od->root);
	if (!key_ok(key))
		return NULL;
	return tn_fs_join(od->root, key);
}

static int local_exists(const struct outdir *od, const char *key)
{
	char *p = outdir_path(od, key);
	struct stat st;
	int yes = p && lstat(p, &st) == 0;

	tn_free(p);
	return yes;
}

int outdir_exists(struct outdir *od, const char *key, int *yes, struct tn_err *err)
{
	*yes = 0;
	if (*key && !key_ok(key))
		return bad_key(key, err);
	if (outdir_remote(od, key))
		return outdir_store_exists(od, key, yes, err);
	*yes = local_exists(od, key);
	return 0;
}

/* The folder part of a path (owned): "a/b/c" -> "a/b". */
static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return tn_strdup(".");
	if (slash == path)
		return tn_strdup("/");
	return tn_strndup(path, (size_t)(slash - path));
}

static int write_fd(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A temp name beside `path`, hidden so that listings never show it. */
static char *temp_beside(const char *path)
{
	char uuid[37], *dir = parent_of(path), *tmp;

	tn_uuid7(uuid);
	tmp = tn_xprintf("%s/.tarn-tmp-%s", dir, uuid);
	tn_free(dir);
	return tmp;
}

/* Write data to a new file `tmp` and fsync it. */
static int write_new(const char *tmp, const void *data, size_t len, struct tn_err *err)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);

	if (fd < 0)
		return tn_err_set(err, TN_EIO, "cannot create %s: %s", tmp, strerror(errno));
	if (write_fd(fd, data, len) || fsync(fd)) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return tn_err_set(err, TN_EIO, "cannot write %s: %s", tmp, strerror(e));
	}
	close(fd);
	return 0;
}

/* rename + fsync of the folder that gained the name. */
static int rename_durable(const char *from, const char *to, struct tn_err *err)
{
	char *dir;
	int rc;

	if (rename(from, to) != 0)
		return tn_err_set(err, TN_EIO, "cannot rename %s to %s: %s", from, to, strerror(errno));
	dir = parent_of(to);
	rc = tn_fs_sync_dir(dir, err);
	tn_free(dir);
	return rc;
}

int outdir_put(struct outdir *od, const char *key, const void *data, size_t len, struct tn_err *err)
{
	char *path = outdir_path(od, key), *dir = NULL, *tmp = NULL;
	int rc;

	if (!path)
		return bad_key(key, err);
	if (outdir_remote(od, key)) {
		tn_free(path);
		return outdir_store_put(od, key, data, len, err);
	}
	dir = parent_of(path);
	rc = tn_fs_mkdirs(dir, err);
	if (!rc) {
		tmp = temp_beside(path);
		rc = write_new(tmp, data, len, err);
	}
	if (!rc) {
		rc = rename_durable(tmp, path, err);
		if (rc)
			unlink(tmp);
	}
	tn_free(tmp);
	tn_free(dir);
	tn_free(path);
	return rc;
}

int outdir_get(struct outdir *od, const char *key, char **data, size_t *len, struct tn_err *err)
{
	char *path = outdir_path(od, key);
	int rc;

	*data = NULL;
	if (!path)
		return bad_key(key, err);
	if (outdir_remote(od, key))
		rc = outdir_store_get(od, key, data, len, err);
	else
		rc = tn_fs_read_all(path, data, len, err);
	tn_free(path);
	return rc;
}

int outdir_stage(struct outdir *od, char **key, struct tn_err *err)
{
	char uuid[37], *path;
	int rc;

	tn_uuid7(uuid);
	*key = tn_xprintf(".staging/%s", uuid);
	path = tn_fs_join(od->root, *key);
	rc = tn_fs_mkdirs(path, err);
	tn_free(path);
	if (rc) {
		tn_free(*key);
		*key = NULL;
	}
	return rc;
}

/* fsync every regular file directly in `dir`, then `dir` itself. */
static int sync_folder(const char *dir, struct tn_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return tn_err_set(err, TN_EIO, "cannot open %s: %s", dir, strerror(errno));
	while (!rc && (e = readdir(d)) != NULL) {
		struct stat st;
		char *p;
		if (e->d_name[0] == '.')
			continue;
		p = tn_fs_join(dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
			rc = tn_fs_sync_file(p, err);
		tn_free(p);
	}
	closedir(d);
	if (!rc)
		rc = tn_fs_sync_dir(dir, err);
	return rc;
}

int outdir_publish(struct outdir *od, const char *from, const char *to, struct tn_err *err)
{
	char *src = outdir_path(od, from), *dst = outdir_path(od, to), *dir = NULL;
	int rc;

	if (!src || !dst) {
		rc = bad_key(src ? to : from, err);
		goto out;
	}
	if (outdir_remote(od, to)) {
		rc = outdir_store_publish(od, src, to, err);
		goto out;
	}
	rc = sync_folder(src, err);
	dir = parent_of(dst);
	if (!rc)
		rc = tn_fs_mkdirs(dir, err);
	/* rename() would happily replace an empty folder: check first. */
	if (!rc && local_exists(od, to))
		rc = tn_err_set(err, TN_ECONFLICT, "%s exists already", dst);
	if (!rc)
		rc = rename_durable(src, dst, err);
out:
	tn_free(dir);
	tn_free(src);
	tn_free(dst);
	return rc;
}

/* Copy file `from` to a new file `to` (fsynced); for moves across file systems. */
static int copy_file(const char *from, const char *to, struct tn_err *err)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;
	ssize_t n;

	if (in < 0)
		return tn_err_set(err, TN_EIO, "cannot read %s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (out < 0)
		rc = tn_err_set(err, TN_EIO, "cannot create %s: %s", to, strerror(errno));
	while (!rc && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_fd(out, buf, (size_t)n))
			rc = tn_err_set(err, TN_EIO, "cannot copy %s to %s: %s", from, to, strerror(errno));
	}
	if (!rc && fsync(out))
		rc = tn_err_set(err, TN_EIO, "fsync %s failed: %s", to, strerror(errno));
	close(in);
	if (out >= 0)
		close(out);
	if (rc && out >= 0)
		unlink(to);
	return rc;
}

int outdir_import(struct outdir *od, const char *path, const char *key, struct tn_err *err)
{
	char *dst = outdir_path(od, key), *dir = NULL, *tmp = NULL;
	int rc;

	if (!dst)
		return bad_key(key, err);
	if (outdir_remote(od, key)) {
		tn_free(dst);
		return outdir_store_import(od, path, key, err);
	}
	dir = parent_of(dst);
	rc = tn_fs_mkdirs(dir, err);
	if (!rc)
		rc = tn_fs_sync_file(path, err);
	if (!rc && rename(path, dst) == 0) {
		rc = tn_fs_sync_dir(dir, err);
		goto out;
	}
	if (!rc && errno != EXDEV) {
		rc = tn_err_set(err, TN_EIO, "cannot move %s to %s: %s", path, dst, strerror(errno));
		goto out;
	}
	tmp = temp_beside(dst);
	if (!rc)
		rc = copy_file(path, tmp, err);
	if (!rc && (rc = rename_durable(tmp, dst, err)) != 0)
		unlink(tmp);
	if (!rc)
		unlink(path);
out:
	tn_free(tmp);
	tn_free(dir);
	tn_free(dst);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_dir_nofollow(const char *dir, const char *name)
{
	char *p = tn_fs_join(dir, name);
	struct stat st;
	int yes = lstat(p, &st) == 0 && S_ISDIR(st.st_mode);

	tn_free(p);
	return yes;
}

int outdir_list(struct outdir *od, const char *key, int dirs_only, char ***names, size_t *n,
		struct tn_err *err)
{
	char *dir = outdir_path(od, key);
	size_t alloc = 0;
	struct dirent *e;
	DIR *d;

	*names = NULL;
	*n = 0;
	if (!dir)
		return bad_key(key, err);
	if (outdir_remote(od, key)) {
		tn_free(dir);
		return outdir_store_list(od, key, dirs_only, names, n, err);
	}
	d = opendir(dir);
	if (!d) {
		int missing = errno == ENOENT;
		int rc = missing ? 0 : tn_err_set(err, TN_EIO, "cannot list %s: %s", dir, strerror(errno));
		tn_free(dir);
		return rc;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || (dirs_only && !is_dir_nofollow(dir, e->d_name)))
			continue;
		TN_GROW(*names, alloc, *n + 1);
		(*names)[(*n)++] = tn_strdup(e->d_name);
	}
	closedir(d);
	tn_free(dir);
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

void outdir_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; names && i < n; i++)
		tn_free(names[i]);
	tn_free(names);
}

/* rm -r that never follows a symbolic link out of the tree. */
static int remove_path(const char *path, struct tn_err *err)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : tn_err_set(err, TN_EIO, "cannot stat %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return tn_fs_remove(path, err);
	d = opendir(path);
	if (!d)
		return tn_err_set(err, TN_EIO, "cannot open %s: %s", path, strerror(errno));
	while (!rc && (e = readdir(d)) != NULL) {
		char *sub;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = tn_fs_join(path, e->d_name);
		rc = remove_path(sub, err);
		tn_free(sub);
	}
	closedir(d);
	if (!rc && rmdir(path) != 0)
		rc = tn_err_set(err, TN_EIO, "cannot remove %s: %s", path, strerror(errno));
	return rc;
}

int outdir_remove(struct outdir *od, const char *key, struct tn_err *err)
{
	char *path = outdir_path(od, key), *dir;
	int rc;

	if (!path || !*key) {
		tn_free(path);
		return bad_key(key, err);
	}
	if (outdir_remote(od, key)) {
		tn_free(path);
		return outdir_store_remove(od, key, err);
	}
	rc = remove_path(path, err);
	dir = parent_of(path);
	if (!rc && tn_fs_is_dir(dir))
		rc = tn_fs_sync_dir(dir, err);
	tn_free(dir);
	tn_free(path);
	return rc;
}

int outdir_remove_empty(struct outdir *od, const char *key, struct tn_err *err)
{
	char *path = outdir_path(od, key);
	int rc = 0;

	if (!path || !*key) {
		tn_free(path);
		return bad_key(key, err);
	}
	if (outdir_remote(od, key)) {
		tn_free(path);
		return 0;   /* a bucket has no folders to remove */
	}
	if (rmdir(path) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
		rc = tn_err_set(err, TN_EIO, "cannot remove %s: %s", path, strerror(errno));
	tn_free(path);
	return rc;
}

int outdir_lock(struct outdir *od, const char *key, int *lock, struct tn_err *err)
{
	char *path, *hidden;
	int rc, fd;

	/* A bucket has no locks: lock a local folder of the same name. */
	hidden = od->st ? (*key ? tn_xprintf(".locks/%s", key) : tn_strdup(".locks")) : tn_strdup(key);
	path = outdir_path(od, hidden);
	tn_free(hidden);
	*lock = -1;
	if (!path)
		return bad_key(key, err);
	rc = tn_fs_mkdirs(path, err);
	fd = rc ? -1 : open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!rc && fd < 0)
		rc = tn_err_set(err, TN_EIO, "cannot open %s to lock it: %s", path, strerror(errno));
	while (!rc && flock(fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		rc = tn_err_set(err, TN_EIO, "cannot lock %s: %s", path, strerror(errno));
	}
	if (rc && fd >= 0)
		close(fd);
	else
		*lock = fd;
	tn_free(path);
	return rc;
}

void outdir_unlock(int lock)
{
	if (lock >= 0)
		close(lock);   /* closing the descriptor drops the flock */
}
