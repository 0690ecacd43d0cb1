/* tn_fs: local file-system helpers with fsync discipline. */
#include "base/compat.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <limits.h>

int tn_fs_mkdirs(const char *path, struct tn_err *err)
{
	char *p = tn_strdup(path), *s;
	int rc = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0777) != 0 && errno != EEXIST) {
				rc = tn_err_set(err, TN_EIO, "cannot create directory %s: %s", p, strerror(errno));
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	tn_free(p);
	if (!rc && !tn_fs_is_dir(path))
		rc = tn_err_set(err, TN_EIO, "%s exists and is not a directory", path);
	return rc;
}

static int sync_path(const char *path, int flags, struct tn_err *err)
{
	int fd, rc = 0;

	do
		fd = open(path, flags | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return tn_err_set(err, TN_EIO, "cannot open %s to sync it: %s", path, strerror(errno));
	/* A failed fsync is final: the kernel may have dropped the dirty pages,
	 * so we never retry it on the same descriptor (fsyncgate). */
	if (fsync(fd) != 0)
		rc = tn_err_set(err, TN_EIO, "fsync %s failed: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int tn_fs_sync_dir(const char *dir, struct tn_err *err)
{
	return sync_path(dir, O_RDONLY | O_DIRECTORY, err);
}

int tn_fs_sync_file(const char *path, struct tn_err *err)
{
	char *dir;
	char *slash;
	int rc;

	rc = sync_path(path, O_RDONLY, err);
	if (rc)
		return rc;
	dir = tn_strdup(path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else if (slash)
		slash[1] = '\0';
	else {
		tn_free(dir);
		dir = tn_strdup(".");
	}
	rc = tn_fs_sync_dir(dir, err);
	tn_free(dir);
	return rc;
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

static int write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct tn_err *err)
{
	char *tmp = tn_xprintf("%s.tmp-%ld", path, (long)getpid());
	int fd, rc = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = tn_err_set(err, TN_EIO, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		rc = tn_err_set(err, TN_EIO, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		rc = tn_err_set(err, TN_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = tn_fs_sync_file(path, err);
	if (!rc) {
		/* the rename is durable once the folder is synced */
		char *dir = tn_strdup(path), *slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			rc = tn_fs_sync_dir(*dir ? dir : "/", err);
		}
		tn_free(dir);
	}
out:
	tn_free(tmp);
	return rc;
}

int tn_fs_write_atomic(const char *path, const void *data, size_t len, struct tn_err *err)
{
	return write_atomic(path, data, len, 0666, err);
}

int tn_fs_write_private(const char *path, const void *data, size_t len, struct tn_err *err)
{
	return write_atomic(path, data, len, 0600, err);
}

int tn_fs_read_all(const char *path, char **out, size_t *len, struct tn_err *err)
{
	FILE *f = fopen(path, "rb");
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	char chunk[65536];
	size_t n;

	*out = NULL;
	if (!f)
		return tn_err_set(err, errno == ENOENT ? TN_ENOTFOUND : TN_EIO, "cannot read %s: %s",
				  path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		tn_buf_add(&b, chunk, n);
	if (ferror(f)) {
		fclose(f);
		tn_buf_release(&b);
		return tn_err_set(err, TN_EIO, "cannot read %s: %s", path, strerror(errno));
	}
	fclose(f);
	*out = tn_buf_detach(&b, len);
	return 0;
}

int tn_fs_size(const char *path, int64_t *size, struct tn_err *err)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return tn_err_set(err, errno == ENOENT ? TN_ENOTFOUND : TN_EIO, "cannot stat %s: %s",
				  path, strerror(errno));
	*size = (int64_t)st.st_size;
	return 0;
}

int tn_fs_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int tn_fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int tn_fs_remove(const char *path, struct tn_err *err)
{
	if (unlink(path) != 0 && errno != ENOENT)
		return tn_err_set(err, TN_EIO, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

int tn_fs_remove_tree(const char *path, struct tn_err *err)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (!tn_fs_is_dir(path))
		return tn_fs_remove(path, err);
	d = opendir(path);
	if (!d)
		return tn_err_set(err, TN_EIO, "cannot open %s: %s", path, strerror(errno));
	while (!rc && (e = readdir(d)) != NULL) {
		char *sub;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = tn_fs_join(path, e->d_name);
		rc = tn_fs_remove_tree(sub, err);
		tn_free(sub);
	}
	closedir(d);
	if (!rc && rmdir(path) != 0)
		rc = tn_err_set(err, TN_EIO, "cannot remove %s: %s", path, strerror(errno));
	return rc;
}

char *tn_fs_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	if (n && dir[n - 1] == '/')
		return tn_xprintf("%s%s", dir, name);
	return tn_xprintf("%s/%s", dir, name);
}

char *tn_fs_abspath(const char *path)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	char cwd[PATH_MAX];
	const char *p;
	char *full, *out;

	if (path[0] == '/')
		full = tn_strdup(path);
	else if (getcwd(cwd, sizeof(cwd)))
		full = tn_fs_join(cwd, path);
	else
		full = tn_strdup(path);
	/* Normalise ".", ".." and repeated slashes lexically. */
	for (p = full; *p;) {
		const char *seg;
		size_t n;
		while (*p == '/')
			p++;
		seg = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			char *slash = strrchr(b.buf, '/');
			if (slash)
				tn_buf_truncate(&b, (size_t)(slash - b.buf));
			continue;
		}
		tn_buf_addc(&b, '/');
		tn_buf_add(&b, seg, n);
	}
	if (b.len == 0)
		tn_buf_addc(&b, '/');
	tn_free(full);
	out = tn_buf_detach(&b, NULL);
	return out;
}
