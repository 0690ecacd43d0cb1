/*
 * store_local.c - the store backend for a directory on local disk.
 *
 * Same semantics as S3: a put is a copy into a temp file beside the target,
 * fsync, rename, fsync of the directory (and of any directory it had to
 * create), so after a crash the key holds the old or the new object, never
 * a part. Keys were checked by store.c, so a key cannot leave the root.
 */
#include "base/compat.h"
#include "store/store_int.h"
#include "base/tn_mem.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

struct local {
	struct store base;
	char *root; /* absolute, ends in '/' */
};

static struct local *L(struct store *s)
{
	return (struct local *)s;
}

static char *path_of(struct store *s, const char *key)
{
	return tn_xprintf("%s%s", L(s)->root, key);
}

static int io_fail(struct tn_err *err, const char *op, const char *path)
{
	int e = errno;

	return tn_err_set(err, e == ENOENT ? TN_ENOTFOUND : TN_EIO, "local: %s %s: %s", op, path,
			  e == ENOENT ? "no such object" : strerror(e));
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy all of `in` to `out`; *copied is what was written. copy_file_range
 * lets the file system share or clone blocks; read/write is the fallback. */
static int copy_fd(int in, int out, int64_t *copied)
{
	char *chunk;
	int rc = 0;

	*copied = 0;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0) {
			*copied += n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
			return -1;
		break;
	}
	chunk = tn_malloc(1 << 20);
	for (;;) {
		ssize_t n = read(in, chunk, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -1 : 0;
			break;
		}
		if (write_all(out, chunk, (size_t)n) != 0) {
			rc = -1;
			break;
		}
		*copied += n;
	}
	tn_free(chunk);
	return rc;
}

/* mkdir -p for the parent of `path`, fsyncing the parent of every
 * directory it creates so the new entries survive a crash. */
static int make_parents(const char *root, const char *path, struct tn_err *err)
{
	char *p = tn_strdup(path);
	char *s;
	int rc = 0;

	for (s = p + strlen(root); (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0777) == 0) {
			char *slash = strrchr(p, '/');
			*slash = '\0';
			rc = tn_fs_sync_dir(p, err);
			*slash = '/';
		} else if (errno != EEXIST) {
			rc = tn_err_set(err, TN_EIO, "local: cannot create directory %s: %s", p,
					strerror(errno));
		} else if (!tn_fs_is_dir(p)) {
			rc = tn_err_set(err, TN_EIO, "local: %s is a file, not a directory; a key cannot be "
					"both an object and a prefix here", p);
		}
		*s = '/';
		if (rc)
			break;
	}
	tn_free(p);
	return rc;
}

/*
 * Copy `src` into a new temp file beside `dst` and rename it over `dst`.
 * `durable` adds the fsyncs of a put; downloads skip them (a cache file is
 * checked by size before every use instead).
 */
static int copy_atomic(const char *src, const char *dst, int64_t expect_size, int durable,
		       const char *what, struct tn_err *err)
{
	char *tmp = store_tmp_name(dst);
	int in = -1, out = -1, rc = 0;
	int64_t copied = 0;
	struct stat st;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) != 0) {
		rc = io_fail(err, what, src);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = tn_err_set(err, TN_EINVAL, "local: %s %s: not a regular file", what, src);
		goto out;
	}
	if (expect_size >= 0 && st.st_size != expect_size) {
		rc = tn_err_set(err, TN_EIO, "local: %s %s: %lld bytes, expected %lld", what, src,
				(long long)st.st_size, (long long)expect_size);
		goto out;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (out < 0) {
		rc = tn_err_set(err, TN_EIO, "local: %s: cannot create %s: %s", what, tmp, strerror(errno));
		goto out;
	}
	if (copy_fd(in, out, &copied) != 0 || (durable && fsync(out) != 0)) {
		rc = tn_err_set(err, TN_EIO, "local: %s %s: cannot write %s: %s", what, src, tmp,
				strerror(errno));
		goto out;
	}
	/* The source may have changed under us; never publish a short copy. */
	if (copied != st.st_size) {
		rc = tn_err_set(err, TN_EIO, "local: %s %s: copied %lld of %lld bytes (file changed?)",
				what, src, (long long)copied, (long long)st.st_size);
		goto out;
	}
	if (close(out) != 0) {
		out = -1;
		rc = tn_err_set(err, TN_EIO, "local: %s: cannot write %s: %s", what, tmp, strerror(errno));
		goto out;
	}
	out = -1;
	if (rename(tmp, dst) != 0) {
		rc = tn_err_set(err, TN_EIO, "local: %s: cannot rename %s to %s: %s", what, tmp, dst,
				strerror(errno));
		goto out;
	}
	if (durable)
		rc = tn_fs_sync_file(dst, err);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (rc)
		unlink(tmp);
	tn_free(tmp);
	return rc;
}

static int local_put_file(struct store *s, const char *key, const char *path, struct tn_err *err)
{
	char *dst = path_of(s, key);
	int rc;

	rc = make_parents(L(s)->root, dst, err);
	if (!rc)
		rc = copy_atomic(path, dst, -1, 1, "put", err);
	tn_free(dst);
	return rc;
}

static int local_get_file(struct store *s, const char *key, const char *path, int64_t expect_size,
			  struct tn_err *err)
{
	char *src = path_of(s, key);
	int rc = copy_atomic(src, path, expect_size, 0, "get", err);

	tn_free(src);
	return rc;
}

static int local_get_range(struct store *s, const char *key, int64_t off, void *buf, size_t len,
			   size_t *got, struct tn_err *err)
{
	char *path = path_of(s, key);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0) {
		rc = io_fail(err, "get", path);
		goto out;
	}
	while (*got < len) {
		ssize_t n = pread(fd, (char *)buf + *got, len - *got, (off_t)(off + (int64_t)*got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = io_fail(err, "read", path);
			break;
		}
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	close(fd);
out:
	tn_free(path);
	return rc;
}

static int local_head(struct store *s, const char *key, struct store_stat *st, struct tn_err *err)
{
	char *path = path_of(s, key);
	struct stat sb;
	int rc = 0;

	if (stat(path, &sb) == 0) {
		/* A directory is a prefix, not an object, as on S3. */
		st->exists = S_ISREG(sb.st_mode);
		st->size = st->exists ? (int64_t)sb.st_size : 0;
	} else if (errno != ENOENT && errno != ENOTDIR) {
		rc = io_fail(err, "head", path);
	}
	tn_free(path);
	return rc;
}

/* ---- list: walk the directory under the prefix, then sort like S3 ---- */

struct entry {
	char *key;
	int64_t size;
};

struct walk {
	const char *root;
	size_t rootlen;
	const char *prefix;
	struct entry *found;
	size_t nfound, alloc;
};

static int walk_dir(struct walk *w, const char *dir, struct tn_err *err);

static void walk_one(struct walk *w, const char *dir, const char *name, struct tn_err *err)
{
	char *full = tn_fs_join(dir, name);
	const char *key = full + w->rootlen;
	size_t plen = strlen(w->prefix);
	struct stat st;

	if (lstat(full, &st) == 0) {
		/* Descend only where the prefix can still match. */
		if (S_ISDIR(st.st_mode)) {
			size_t klen = strlen(key);
			if (strncmp(key, w->prefix, klen < plen ? klen : plen) == 0)
				walk_dir(w, full, err);
		} else if (S_ISREG(st.st_mode) && !strncmp(key, w->prefix, plen)) {
			TN_GROW(w->found, w->alloc, w->nfound + 1);
			w->found[w->nfound].key = tn_strdup(key);
			w->found[w->nfound++].size = (int64_t)st.st_size;
		}
	}
	tn_free(full);
}

static int walk_dir(struct walk *w, const char *dir, struct tn_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return tn_err_set(err, TN_EIO, "local: list %s: %s", dir, strerror(errno));
	}
	while (!err->code && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strncmp(e->d_name, STORE_TMP_MARK, strlen(STORE_TMP_MARK)))
			continue;
		walk_one(w, dir, e->d_name, err);
	}
	closedir(d);
	return err->code;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static int local_list(struct store *s, const char *prefix, store_list_fn fn, void *arg,
		      struct tn_err *err)
{
	struct walk w = { L(s)->root, strlen(L(s)->root), prefix, NULL, 0, 0 };
	const char *slash = strrchr(prefix, '/');
	char *start;
	size_t i;
	int rc;

	/* Start at the deepest directory the prefix names. */
	start = slash ? tn_xprintf("%s%.*s", w.root, (int)(slash - prefix), prefix)
		      : tn_strndup(w.root, w.rootlen - 1);
	rc = walk_dir(&w, start, err);
	tn_free(start);
	if (!rc && w.nfound)
		qsort(w.found, w.nfound, sizeof(*w.found), cmp_entry);
	for (i = 0; i < w.nfound; i++) {
		if (!rc)
			rc = fn(arg, w.found[i].key, w.found[i].size);
		tn_free(w.found[i].key);
	}
	tn_free(w.found);
	return rc;
}

/* Remove now-empty directories from `path`'s parent up to the root, as S3
 * has no directories that outlive their objects. Failures are harmless. */
static void prune_parents(const char *root, char *path)
{
	size_t rootlen = strlen(root);
	char *slash;

	while ((slash = strrchr(path, '/')) != NULL && (size_t)(slash - path) >= rootlen) {
		*slash = '\0';
		if (rmdir(path) != 0)
			break;
	}
}

static int local_del(struct store *s, const char *key, struct tn_err *err)
{
	char *path = path_of(s, key);
	int rc = 0;

	if (unlink(path) == 0)
		prune_parents(L(s)->root, path);
	else if (errno == EISDIR)
		rc = tn_err_set(err, TN_EINVAL, "local: del %s: is a directory, not an object", path);
	else if (errno != ENOENT && errno != ENOTDIR)
		rc = io_fail(err, "del", path);
	tn_free(path);
	return rc;
}

static int local_del_many(struct store *s, const char *const *keys, size_t n, struct tn_err *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (local_del(s, keys[i], err))
			return err->code;
	return 0;
}

static char *local_local_path(struct store *s, const char *key)
{
	return path_of(s, key);
}

static void local_close(struct store *s)
{
	tn_free(L(s)->root);
	tn_free(s);
}

static const struct store_ops local_ops = {
	"local",
	local_put_file,
	local_get_file,
	local_get_range,
	local_head,
	local_list,
	local_del,
	local_del_many,
	local_local_path,
	local_close,
};

int store_local_open(struct store **out, const char *dir, struct tn_err *err)
{
	struct local *l;
	char *abs;
	int rc;

	*out = NULL;
	if (!*dir)
		return tn_err_set(err, TN_EINVAL, "local: empty directory path");
	abs = tn_fs_abspath(dir);
	rc = tn_fs_mkdirs(abs, err);
	if (rc) {
		tn_free(abs);
		return rc;
	}
	l = tn_calloc(1, sizeof(*l));
	l->base.ops = &local_ops;
	l->root = strcmp(abs, "/") ? tn_xprintf("%s/", abs) : tn_strdup("/");
	l->base.url = tn_strdup(l->root);
	tn_free(abs);
	*out = &l->base;
	return 0;
}
