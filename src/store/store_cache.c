/*
 * store_cache.c - the local read cache of remote objects (store_fetch).
 *
 * Data files are immutable, so a cached copy never goes stale: a file is
 * named by the SHA-256 of (store URL, key) and is valid when its size is
 * right. Files arrive by rename from a temp file, so a process never sees a
 * partial one. The mtime of a file is its last use (touched on every hit);
 * when the cache grows past its cap the least recently used files go first,
 * except those used in the last min_age seconds, which a reader may be
 * about to open: the cap is soft. Processes sharing the folder serialise
 * eviction with flock on <dir>/.lock.
 */
#include "base/compat.h"
#include "store/store_int.h"
#include "store/store_s3_int.h"
#include "base/tn_mem.h"
#include "base/tn_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>

struct store_cache {
	char *dir;
	int64_t max_bytes;
	int min_age_s;
	pthread_mutex_t mu;
	int64_t bytes; /* this process's estimate; -1 until the first scan */
};

/* Temp files of downloads that died are removed after this long. */
#define STALE_TMP_S 3600

int store_cache_open(struct store_cache **out, const char *dir, int64_t max_bytes,
		     int min_age_s, struct tn_err *err)
{
	struct store_cache *c;
	int rc;

	*out = NULL;
	rc = tn_fs_mkdirs(dir, err);
	if (rc) {
		tn_err_prefix(err, "store: cache folder (set TARN_CACHE_DIR to move it)");
		return rc;
	}
	c = tn_calloc(1, sizeof(*c));
	c->dir = tn_fs_abspath(dir);
	c->max_bytes = max_bytes;
	c->min_age_s = min_age_s;
	c->bytes = -1;
	pthread_mutex_init(&c->mu, NULL);
	*out = c;
	return 0;
}

void store_cache_close(struct store_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->mu);
	tn_free(c->dir);
	tn_free(c);
}

char *store_cache_path(struct store_cache *c, const char *url, const char *key)
{
	char *id = tn_xprintf("%s\n%s", url, key);
	char hex[65], *sub;

	store_sha256_hex(id, strlen(id), hex);
	tn_free(id);
	/* 256 subfolders keep directories small; mkdir races are harmless. */
	sub = tn_xprintf("%s/%.2s", c->dir, hex);
	mkdir(sub, 0777);
	tn_free(sub);
	return tn_xprintf("%s/%.2s/%s", c->dir, hex, hex + 2);
}

void store_cache_touch(const char *path)
{
	utimensat(AT_FDCWD, path, NULL, 0);
}

struct cfile {
	char *path;
	int64_t size;
	time_t used;
};

struct scan {
	struct cfile *v;
	size_t n, alloc;
	int64_t total;
};

static void scan_sub(struct scan *sc, const char *sub, time_t now)
{
	DIR *d = opendir(sub);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char *p;

		if (e->d_name[0] == '.' && strncmp(e->d_name, STORE_TMP_MARK, strlen(STORE_TMP_MARK)))
			continue;
		p = tn_fs_join(sub, e->d_name);
		if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			tn_free(p);
			continue;
		}
		if (!strncmp(e->d_name, STORE_TMP_MARK, strlen(STORE_TMP_MARK))) {
			if (now - st.st_mtime > STALE_TMP_S)
				unlink(p);
			tn_free(p);
			continue;
		}
		TN_GROW(sc->v, sc->alloc, sc->n + 1);
		sc->v[sc->n].path = p;
		sc->v[sc->n].size = (int64_t)st.st_size;
		sc->v[sc->n++].used = st.st_mtime;
		sc->total += (int64_t)st.st_size;
	}
	closedir(d);
}

static void scan_all(struct store_cache *c, struct scan *sc, time_t now)
{
	DIR *d = opendir(c->dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) == 2 && e->d_name[0] != '.') {
			char *sub = tn_fs_join(c->dir, e->d_name);
			scan_sub(sc, sub, now);
			tn_free(sub);
		}
	}
	closedir(d);
}

static int by_use(const void *a, const void *b)
{
	const struct cfile *x = a, *y = b;

	return (x->used > y->used) - (x->used < y->used);
}

/* Scan the folder and delete least recently used files until the cache is
 * at 90% of its cap (so not every download triggers another scan). */
static void evict(struct store_cache *c)
{
	struct scan sc = { NULL, 0, 0, 0 };
	time_t now = time(NULL);
	int64_t goal = c->max_bytes / 10 * 9;
	char *lockp = tn_fs_join(c->dir, ".lock");
	int lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	size_t i;

	if (lock >= 0)
		flock(lock, LOCK_EX);
	scan_all(c, &sc, now);
	if (sc.total > c->max_bytes) {
		qsort(sc.v, sc.n, sizeof(*sc.v), by_use);
		for (i = 0; i < sc.n && sc.total > goal; i++) {
			if (now - sc.v[i].used < c->min_age_s)
				break;
			if (unlink(sc.v[i].path) == 0)
				sc.total -= sc.v[i].size;
		}
	}
	c->bytes = sc.total;
	for (i = 0; i < sc.n; i++)
		tn_free(sc.v[i].path);
	tn_free(sc.v);
	if (lock >= 0)
		close(lock); /* releases the flock */
	tn_free(lockp);
}

void store_cache_added(struct store_cache *c, const char *path, int64_t size)
{
	(void)path;
	pthread_mutex_lock(&c->mu);
	if (c->bytes < 0) {
		evict(c); /* the first scan also learns the size */
	} else {
		c->bytes += size;
		if (c->bytes > c->max_bytes)
			evict(c);
	}
	pthread_mutex_unlock(&c->mu);
}
