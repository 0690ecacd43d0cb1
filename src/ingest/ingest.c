/*
 * ingest.c: landing a source as a new version of a raw dataset: stage,
 * unpack, hash, publish (rename into place, then the manifest), or on any
 * failure remove the staging folder so nothing is left behind.
 */
#include "base/compat.h"
#include "ingest/ingest.h"
#include "ingest/ingest_int.h"
#include "ingest/hash.h"
#include "ingest/manifest.h"
#include "ingest/remote.h"
#include "ingest/unpack.h"
#include "lake/lake.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#define COPY_CHUNK (1 << 20)

/* ---- names, paths, clock ---- */

char *ingest_raw_root(const struct lake *lk)
{
	/* Beside catalog.sqlite and data/, never inside the data path, so no
	 * schema folder can collide with it. */
	return tn_fs_join(lake_dir(lk), "raw/");
}

char *ingest_manifest_path(const char *raw, const char *dataset)
{
	return tn_xprintf("%s%s/" MANIFEST_FILE, raw, dataset);
}

static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* A camelCase hump: "myData" at 'D', "HTTPServer" at 'S'. */
static int hump(const char *s, size_t i)
{
	if (i == 0 || !is_upper(s[i]))
		return 0;
	return is_lower(s[i - 1]) || is_digit(s[i - 1]) || (is_upper(s[i - 1]) && is_lower(s[i + 1]));
}

char *ingest_slug(const char *s)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	int gap = 0;
	size_t i;

	for (i = 0; s[i] && b.len < INGEST_MAX_NAME; i++) {
		char c = s[i];
		if (!is_lower(c) && !is_upper(c) && !is_digit(c)) {
			gap = 1;
			continue;
		}
		if (b.len && (gap || hump(s, i)))
			tn_buf_addc(&b, '_');
		gap = 0;
		tn_buf_addc(&b, is_upper(c) ? (char)(c - 'A' + 'a') : c);
	}
	while (b.len > INGEST_MAX_NAME || (b.len && b.buf[b.len - 1] == '_'))
		tn_buf_truncate(&b, b.len - 1);
	if (b.len == 0) {
		tn_buf_release(&b);
		return NULL;
	}
	return tn_buf_detach(&b, NULL);
}

int64_t ingest_now_ms(void)
{
	const char *t = getenv("TARN_TEST_NOW_MS");
	struct tn_err ignore = TN_ERR_INIT;
	int64_t ms;

	if (t && *t && tn_parse_int64(t, &ms, "TARN_TEST_NOW_MS", &ignore) == 0 && ms >= 0)
		return ms;
	return tn_now_us() / 1000;
}

/* "data.csv.gz" -> "data": known data and archive suffixes dropped. */
static char *stem(const char *name)
{
	static const char *const ext[] = { ".gz", ".zip", ".tgz", ".tar", ".csv", ".tsv", ".txt",
		".json", ".jsonl", ".ndjson", ".parquet", ".xlsx", ".xls", ".duckdb", NULL };
	char *s = tn_strdup(name);
	size_t n = strlen(s), k;
	int again = 1;

	while (again) {
		again = 0;
		for (k = 0; ext[k]; k++) {
			size_t e = strlen(ext[k]);
			if (n > e && !strcasecmp(s + n - e, ext[k])) {
				n -= e;
				s[n] = '\0';
				again = 1;
			}
		}
	}
	return s;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* ---- the lock ---- */

int ingest_lock(const char *raw, int *fd, struct tn_err *err)
{
	char *path = tn_xprintf("%s" INGEST_LOCK_FILE, raw);
	int rc = tn_fs_mkdirs(raw, err);

	*fd = -1;
	if (!rc) {
		*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (*fd < 0)
			rc = tn_err_set(err, TN_EIO, "cannot open %s: %s", path, strerror(errno));
	}
	while (!rc && flock(*fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		rc = tn_err_set(err, TN_EIO, "cannot lock %s: %s", path, strerror(errno));
		close(*fd);
		*fd = -1;
	}
	tn_free(path);
	return rc;
}

void ingest_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* closing drops the flock */
}

/* ---- files under a folder ---- */

struct names {
	char **v;
	size_t n, alloc;
};

static void names_release(struct names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		tn_free(l->v[i]);
	tn_free(l->v);
	memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under root/rel, as paths relative to root. */
static int walk(const char *root, const char *rel, struct names *out, struct tn_err *err)
{
	char *dir = rel ? tn_fs_join(root, rel) : tn_strdup(root);
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		rc = tn_err_set(err, TN_EIO, "cannot read folder %s: %s", dir, strerror(errno));
		tn_free(dir);
		return rc;
	}
	while (!rc && (e = readdir(d)) != NULL) {
		char *sub, *full;
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = rel ? tn_fs_join(rel, e->d_name) : tn_strdup(e->d_name);
		full = tn_fs_join(root, sub);
		if (lstat(full, &st) != 0) {
			rc = tn_err_set(err, TN_EIO, "cannot stat %s: %s", full, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk(root, sub, out, err);
		} else if (S_ISREG(st.st_mode)) {
			TN_GROW(out->v, out->alloc, out->n + 1);
			out->v[out->n++] = sub;
			sub = NULL;
		}
		tn_free(sub);
		tn_free(full);
	}
	closedir(d);
	tn_free(dir);
	if (!rc && !rel && out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return rc;
}

int ingest_files(const char *dir, char ***files, size_t *n, struct tn_err *err)
{
	struct names l = { NULL, 0, 0 };
	int rc = walk(dir, NULL, &l, err);

	if (rc)
		names_release(&l);
	*files = l.v;
	*n = l.n;
	return rc;
}

int ingest_tree_empty(const char *path)
{
	struct names l = { NULL, 0, 0 };
	struct tn_err ignore = TN_ERR_INIT;
	int empty = walk(path, NULL, &l, &ignore) == 0 && l.n == 0;

	names_release(&l);
	return empty;
}

/* ---- one ingestion ---- */

struct job {
	struct lake *lk;
	const struct ingest_opts *o;
	char *raw;          /* <raw>/ */
	char *staging;      /* <raw>/.tmp/<pid>-<uuid> */
	char *name;         /* dataset name (slug) */
	char *source;       /* what the manifest records */
	struct names fresh; /* top-level files as landed, before unpacking */
};

static void note(const struct job *j, const char *fmt, ...) TN_PRINTF(2, 3);
static void note(const struct job *j, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!j->o || !j->o->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j->o->note(j->o->note_arg, msg);
}

static int job_start(struct job *j, struct lake *lk, const struct ingest_opts *o, struct tn_err *err)
{
	char uuid[37];
	int rc, tries;

	memset(j, 0, sizeof(*j));
	j->lk = lk;
	j->o = o;
	j->raw = ingest_raw_root(lk);
	tn_uuid7(uuid);
	j->staging = tn_xprintf("%s" INGEST_TMP_DIR "/%ld-%s", j->raw, (long)getpid(), uuid);
	/* A concurrent cleanup may remove an empty .tmp between mkdirs and
	 * mkdir: try again once. */
	for (tries = 0; tries < 2; tries++) {
		struct tn_err e = TN_ERR_INIT;
		rc = tn_fs_mkdirs(j->staging, &e);
		if (!rc)
			return 0;
		if (tries == 1)
			return tn_err_set(err, e.code, "%s", e.msg);
	}
	return rc;
}

/* Remove what a job made: the staging folder if still there, then .tmp
 * and the raw zone itself when they are left empty (rmdir refuses else). */
static void job_end(struct job *j)
{
	struct tn_err ignore = TN_ERR_INIT;
	char *tmp;

	if (j->staging && tn_fs_exists(j->staging))
		tn_fs_remove_tree(j->staging, &ignore);
	if (j->raw) {
		tmp = tn_xprintf("%s" INGEST_TMP_DIR, j->raw);
		rmdir(tmp);
		rmdir(j->raw);
		tn_free(tmp);
	}
	names_release(&j->fresh);
	tn_free(j->raw);
	tn_free(j->staging);
	tn_free(j->name);
	tn_free(j->source);
}

/* The dataset name: --name, else what the source suggests. */
static int set_name(struct job *j, const char *suggested, struct tn_err *err)
{
	const char *from = j->o && j->o->name ? j->o->name : suggested;
	char *s = stem(from ? from : "");

	j->name = ingest_slug(s);
	tn_free(s);
	if (!j->name)
		return tn_err_set(err, TN_EINVAL, "cannot make a dataset name from '%.200s' (it needs a "
				  "letter or a digit); pass --name NAME", from ? from : "");
	return 0;
}

static void progress(const struct job *j, const char *what, int64_t done, int64_t total)
{
	if (j->o && j->o->progress)
		j->o->progress(j->o->progress_arg, what, done, total);
}

/* ---- local sources ---- */

static int copy_fd(const struct job *j, int in, int out, const char *from, const char *to, int64_t total,
		   struct tn_err *err)
{
	char *buf = tn_malloc(COPY_CHUNK);
	int64_t done = 0;
	ssize_t n;
	int rc = 0;

	while (!rc && (n = read(in, buf, COPY_CHUNK)) != 0) {
		char *p = buf;
		if (n < 0) {
			if (errno != EINTR)
				rc = tn_err_set(err, TN_EIO, "cannot read %s: %s", from, strerror(errno));
			continue;
		}
		while (!rc && n > 0) {
			ssize_t w = write(out, p, (size_t)n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = tn_err_set(err, TN_EIO, "cannot write %s: %s", to, strerror(errno));
				break;
			}
			p += w;
			n -= w;
			done += w;
		}
		progress(j, base_name(from), done, total);
	}
	tn_free(buf);
	return rc;
}

static int copy_file(const struct job *j, const char *from, const char *to, struct tn_err *err)
{
	struct stat st;
	int in, out, rc;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) != 0) {
		rc = tn_err_set(err, errno == ENOENT ? TN_ENOTFOUND : TN_EIO, "cannot read %s: %s", from,
				strerror(errno));
		if (in >= 0)
			close(in);
		return rc;
	}
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (out < 0) {
		rc = tn_err_set(err, TN_EIO, "cannot create %s: %s", to, strerror(errno));
		close(in);
		return rc;
	}
	rc = copy_fd(j, in, out, from, to, (int64_t)st.st_size, err);
	if (!rc && fsync(out) != 0)
		rc = tn_err_set(err, TN_EIO, "fsync %s failed: %s", to, strerror(errno));
	close(out);
	close(in);
	return rc;
}

static int is_raw_zone(const struct job *j, const char *path)
{
	size_t n = strlen(j->raw) - 1;   /* without its trailing '/' */

	return strlen(path) == n && !strncmp(path, j->raw, n);
}

/* Copy a folder tree: regular files and folders; links to files are
 * followed, other links and special files skipped with a note. */
static int copy_tree(struct job *j, const char *from, const char *to, struct tn_err *err)
{
	DIR *d = opendir(from);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return tn_err_set(err, TN_EIO, "cannot read folder %s: %s", from, strerror(errno));
	while (!rc && (e = readdir(d)) != NULL) {
		char *src, *dst;
		struct stat st, lst;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		src = tn_fs_join(from, e->d_name);
		dst = tn_fs_join(to, e->d_name);
		if (is_raw_zone(j, src)) {
			/* A folder that holds the lake: never copy the raw zone into itself. */
			note(j, "skipped %s: the raw zone itself", src);
		} else if (lstat(src, &lst) != 0 || stat(src, &st) != 0) {
			note(j, "skipped %s: %s", src, strerror(errno));
		} else if (S_ISDIR(lst.st_mode)) {
			rc = tn_fs_mkdirs(dst, err);
			if (!rc)
				rc = copy_tree(j, src, dst, err);
		} else if (S_ISREG(st.st_mode)) {
			rc = copy_file(j, src, dst, err);
		} else {
			note(j, "skipped %s: not a regular file%s", src,
			     S_ISLNK(lst.st_mode) ? " (a link to a folder)" : "");
		}
		tn_free(src);
		tn_free(dst);
	}
	closedir(d);
	return rc;
}

static int land_local(struct job *j, const char *src, struct tn_err *err)
{
	char *abs = tn_fs_abspath(src), *dst;
	struct stat st;
	int rc;

	if (stat(abs, &st) != 0) {
		rc = tn_err_set(err, TN_ENOTFOUND, "no such file or folder: %s (a URL must start with "
				"http:// or https://)", src);
		tn_free(abs);
		return rc;
	}
	j->source = tn_strdup(abs);
	rc = set_name(j, base_name(abs)[0] ? base_name(abs) : "root", err);
	if (rc)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		rc = copy_tree(j, abs, j->staging, err);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = tn_err_set(err, TN_EINVAL, "%s is neither a file nor a folder", src);
		goto out;
	}
	dst = tn_fs_join(j->staging, base_name(abs));
	rc = copy_file(j, abs, dst, err);
	tn_free(dst);
out:
	tn_free(abs);
	return rc;
}

/* ---- URLs ---- */

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A file name a server suggested, made safe: percent-decoded, its last
 * segment only, no control characters, not hidden; else "download". */
static char *safe_download_name(const char *suggested)
{
	struct tn_buf b = TN_BUF_INIT(255);
	const char *p, *base;
	char *out;

	for (p = suggested ? suggested : ""; *p; p++) {
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			tn_buf_addc(&b, (char)(hexval(p[1]) * 16 + hexval(p[2])));
			p += 2;
		} else {
			tn_buf_addc(&b, *p);
		}
	}
	base = strrchr(b.buf, '/');
	base = base ? base + 1 : b.buf;
	if (strrchr(base, '\\'))
		base = strrchr(base, '\\') + 1;
	for (p = base; *p && (unsigned char)*p >= 0x20 && *p != 0x7f; p++)
		;
	out = (*p || !*base || *base == '.') ? tn_strdup("download") : tn_strdup(base);
	tn_buf_release(&b);
	return out;
}

static int land_url(struct job *j, const char *url, struct tn_err *err)
{
	struct fetch_req req = { url, NULL, NULL, NULL, NULL, NULL, NULL };
	char *tmp = tn_fs_join(j->staging, ".download"), *suggested = NULL, *name = NULL, *dst = NULL;
	int rc;

	j->source = fetch_redact_url(url);
	if (j->o) {
		req.progress = j->o->progress;
		req.progress_arg = j->o->progress_arg;
	}
	name = safe_download_name(strrchr(j->source, '/') ? strrchr(j->source, '/') + 1 : NULL);
	req.what = name;
	rc = fetch_file(&req, tmp, &suggested, err);
	if (!rc && suggested) {
		tn_free(name);
		name = safe_download_name(suggested);
	}
	if (!rc)
		rc = set_name(j, name, err);
	if (!rc) {
		dst = tn_fs_join(j->staging, name);
		if (rename(tmp, dst) != 0)
			rc = tn_err_set(err, TN_EIO, "cannot rename %s to %s: %s", tmp, dst, strerror(errno));
	}
	tn_free(tmp);
	tn_free(suggested);
	tn_free(name);
	tn_free(dst);
	return rc;
}

static int land_remote(struct job *j, const char *src, const struct remote_ref *ref, struct tn_err *err)
{
	struct fetch_req how = { NULL, NULL, NULL, NULL, NULL, NULL, NULL };
	int rc;

	j->source = fetch_redact_url(src);
	if (j->o) {
		how.progress = j->o->progress;
		how.progress_arg = j->o->progress_arg;
	}
	rc = set_name(j, ref->name, err);
	if (!rc)
		rc = remote_fetch(ref, j->staging, &how, err);
	return rc;
}

/* ---- unpacking ---- */

/* By name for files that have an extension; by content for downloads
 * that came without a telling name. */
static enum unpack_kind archive_kind(const char *path)
{
	const char *name = base_name(path), *dot = strrchr(name, '.');

	if (dot && !strcasecmp(dot, ".zip"))
		return UNPACK_ZIP;
	if (dot && (!strcasecmp(dot, ".gz") || !strcasecmp(dot, ".tgz")))
		return UNPACK_GZIP;
	if (!dot)
		return unpack_sniff(path);
	return UNPACK_NONE;
}

/* Archives among the files as landed are replaced by their content, in
 * the folder where they were. Members are not unpacked again. */
static int unpack_all(struct job *j, struct tn_err *err)
{
	size_t i, nfiles;
	int rc = walk(j->staging, NULL, &j->fresh, err);

	for (i = 0; !rc && i < j->fresh.n; i++) {
		char *path = tn_fs_join(j->staging, j->fresh.v[i]), *dir = tn_strdup(path);
		enum unpack_kind k = archive_kind(path);
		*strrchr(dir, '/') = '\0';
		if (k != UNPACK_NONE) {
			rc = unpack_file(path, k, dir, &nfiles, err);
			if (!rc)
				rc = tn_fs_remove(path, err);
			if (!rc && nfiles == 0)
				note(j, "%s was an empty archive", j->fresh.v[i]);
		}
		tn_free(path);
		tn_free(dir);
	}
	return rc;
}

/* ---- hashing and publishing ---- */

/* Files were fsynced as they were written; their names become durable
 * when every folder of the tree is fsynced too. */
static int sync_folders(const char *dir, struct tn_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return tn_err_set(err, TN_EIO, "cannot read folder %s: %s", dir, strerror(errno));
	while (!rc && (e = readdir(d)) != NULL) {
		char *sub;
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = tn_fs_join(dir, e->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			rc = sync_folders(sub, err);
		tn_free(sub);
	}
	closedir(d);
	return rc ? rc : tn_fs_sync_dir(dir, err);
}

int ingest_member_ok(const char *rel, struct tn_err *err)
{
	char *clean = NULL;
	int rc = unpack_member_path(rel, &clean, err);

	if (!rc && (!clean || strcmp(clean, rel)))
		rc = tn_err_set(err, TN_EINVAL, "the file name '%.200s' cannot be kept in the raw "
				"zone (rename it: no '\\' or control characters)", rel);
	tn_free(clean);
	return rc;
}

static int hash_all(struct job *j, struct manifest_version *v, struct tn_err *err)
{
	struct names l = { NULL, 0, 0 };
	size_t i;
	int rc = walk(j->staging, NULL, &l, err);

	for (i = 0; !rc && i < l.n; i++) {
		char sha[HASH_HEX_LEN], *path;
		int64_t size = 0;
		/* The manifest only holds plain relative paths (manifest.h). */
		rc = ingest_member_ok(l.v[i], err);
		if (rc)
			break;
		path = tn_fs_join(j->staging, l.v[i]);
		rc = hash_file(path, sha, &size, err);
		if (!rc)
			manifest_add_file(v, l.v[i], size, sha);
		tn_free(path);
	}
	names_release(&l);
	return rc ? rc : sync_folders(j->staging, err);
}

/* Move the staging folder to <raw>/<name>/<id>; the caller holds the lock.
 * mkdir claims the id (EEXIST: that millisecond is taken), then rename
 * replaces the empty claim with the staged folder. */
static int place(struct job *j, const char *dsdir, const char *id, char **final, struct tn_err *err)
{
	char *day = tn_xprintf("%s/%.10s", dsdir, id);
	int rc = tn_fs_mkdirs(day, err);

	*final = tn_xprintf("%s/%s", dsdir, id);
	if (!rc && mkdir(*final, 0777) != 0) {
		if (errno == EEXIST)
			rc = tn_err_set(err, TN_ECONFLICT, "version %s of dataset %s already exists (another "
					"ingestion in the same millisecond); nothing was changed, run it again",
					id, j->name);
		else
			rc = tn_err_set(err, TN_EIO, "cannot create %s: %s", *final, strerror(errno));
	}
	if (!rc && rename(j->staging, *final) != 0) {
		rc = tn_err_set(err, TN_EIO, "cannot move %s to %s: %s", j->staging, *final, strerror(errno));
		rmdir(*final);
	}
	if (!rc)
		rc = tn_fs_sync_dir(day, err);
	if (rc) {
		rmdir(day);
		tn_free(*final);
		*final = NULL;
	}
	tn_free(day);
	return rc;
}

/* Undo place() after a failed manifest write: back to staging, which the
 * job's end then removes. */
static void unplace(struct job *j, const char *dsdir, const char *final, const char *id, int new_ds)
{
	char *day = tn_xprintf("%s/%.10s", dsdir, id);

	if (rename(final, j->staging) != 0) {
		struct tn_err ignore = TN_ERR_INIT;
		tn_fs_remove_tree(final, &ignore);
	}
	rmdir(day);
	if (new_ds)
		rmdir(dsdir);
	tn_free(day);
}

static int read_or_new(const char *mpath, const char *name, struct manifest *m, struct tn_err *err)
{
	int rc = manifest_read(mpath, m, err);

	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);
		manifest_release(m);
		manifest_init(m, name);
		return 0;
	}
	return rc;
}

static int publish(struct job *j, const struct manifest_version *files, char **path, struct tn_err *err)
{
	char id[MANIFEST_ID_LEN], created[MANIFEST_CREATED_LEN];
	char *dsdir = tn_xprintf("%s%s", j->raw, j->name), *mpath = ingest_manifest_path(j->raw, j->name);
	char *final = NULL;
	struct manifest m;
	struct manifest_version *v;
	int64_t ms;
	int fd = -1, new_ds = !tn_fs_exists(dsdir), rc, i;
	size_t k;

	memset(&m, 0, sizeof(m));   /* read_or_new initialises it */
	rc = ingest_lock(j->raw, &fd, err);
	if (!rc)
		rc = read_or_new(mpath, j->name, &m, err);
	if (rc)
		goto out;
	ms = ingest_now_ms();
	manifest_id(ms, id);
	manifest_created(ms, created);
	v = manifest_add(&m, id, created, j->source);
	if (!v) {
		rc = tn_err_set(err, TN_ECONFLICT, "version %s of dataset %s already exists (another "
				"ingestion in the same millisecond); nothing was changed, run it again", id, j->name);
		goto out;
	}
	for (k = 0; k < files->nfiles; k++)
		manifest_add_file(v, files->files[k].path, files->files[k].size, files->files[k].sha256);
	rc = place(j, dsdir, id, &final, err);
	if (rc)
		goto out;
	i = manifest_write(mpath, &m, err);
	if (i) {
		rc = i;
		unplace(j, dsdir, final, id, new_ds);
		goto out;
	}
	*path = final;
	final = NULL;
out:
	ingest_unlock(fd);
	manifest_release(&m);
	tn_free(final);
	tn_free(mpath);
	tn_free(dsdir);
	return rc;
}

static int finish(struct job *j, char **path, struct tn_err *err)
{
	struct manifest_version files;
	size_t k;
	int rc;

	memset(&files, 0, sizeof(files));
	rc = hash_all(j, &files, err);
	if (!rc && ingest_zone_remote(j->lk)) {
		struct ingest_s3_job sj = { j->raw, j->staging, j->name, j->source,
					    j->o ? j->o->progress : NULL, j->o ? j->o->progress_arg : NULL };
		rc = ingest_s3_publish(j->lk, &sj, &files, path, err);
	} else if (!rc) {
		rc = publish(j, &files, path, err);
	}
	for (k = 0; k < files.nfiles; k++)
		tn_free(files.files[k].path);
	tn_free(files.files);
	return rc;
}

int ingest_dataset(struct lake *lk, const char *source, const struct ingest_opts *o, char **path,
		   struct tn_err *err)
{
	struct remote_ref ref;
	struct job j;
	int rc;

	*path = NULL;
	memset(&ref, 0, sizeof(ref));
	rc = job_start(&j, lk, o, err);
	if (!rc)
		rc = remote_parse(source, &ref, err);
	if (!rc && ref.kind != REMOTE_NONE)
		rc = land_remote(&j, source, &ref, err);
	else if (!rc && (!strncasecmp(source, "http://", 7) || !strncasecmp(source, "https://", 8)))
		rc = land_url(&j, source, err);
	else if (!rc)
		rc = land_local(&j, source, err);
	remote_ref_release(&ref);
	if (!rc)
		rc = unpack_all(&j, err);
	if (!rc && o && o->source) {
		/* the caller knows better, e.g. an upload from a staging folder */
		tn_free(j.source);
		j.source = tn_strdup(o->source);
	}
	if (!rc)
		rc = finish(&j, path, err);
	job_end(&j);
	return rc;
}

int ingest_manual(struct lake *lk, const char *name, char **path, struct tn_err *err)
{
	struct ingest_opts o = { name, NULL, NULL, NULL, NULL, NULL };
	struct job j;
	int rc;

	*path = NULL;
	rc = job_start(&j, lk, &o, err);
	if (!rc)
		rc = set_name(&j, name, err);
	if (!rc) {
		j.source = tn_strdup("manual");
		rc = finish(&j, path, err);
	}
	job_end(&j);
	return rc;
}
