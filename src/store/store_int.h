/*
 * store_int.h - what the store's files share and nothing else includes:
 * the backend ops table (STYLE Rule 15), the common head of every store,
 * and the helpers both backends and the cache use.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <pthread.h>
#include "store/store.h"

/*
 * A backend. store.c has already checked the key (or prefix) and the
 * arguments, so backends only do the work. Every op may run on several
 * threads at once.
 */
struct store_ops {
	const char *kind; /* "local", "s3" */
	int (*put_file)(struct store *s, const char *key, const char *path, struct tn_err *err);
	int (*get_file)(struct store *s, const char *key, const char *path, int64_t expect_size,
			struct tn_err *err);
	int (*get_range)(struct store *s, const char *key, int64_t off, void *buf, size_t len,
			 size_t *got, struct tn_err *err);
	int (*head)(struct store *s, const char *key, struct store_stat *st, struct tn_err *err);
	int (*list)(struct store *s, const char *prefix, store_list_fn fn, void *arg,
		    struct tn_err *err);
	int (*del)(struct store *s, const char *key, struct tn_err *err);
	int (*del_many)(struct store *s, const char *const *keys, size_t n, struct tn_err *err);
	/* The file holding `key` when the backend is a directory, else NULL.
	 * Owned by the caller. */
	char *(*local_path)(struct store *s, const char *key);
	void (*close)(struct store *s);
};

struct store_cache;

/* The head of every store; a backend embeds it first and adds its own. */
struct store {
	const struct store_ops *ops;
	char *url;                  /* root, ends in '/' */
	struct store_opts opts;     /* defaults filled in */
	struct store_cache *cache;  /* made on first store_fetch */
	pthread_mutex_t mu;         /* counters and cache creation */
	struct store_counters count;
};

/* Backend constructors: allocate, fill the head's ops, and return. The
 * caller (store_open) fills url/opts/mu. */
int store_local_open(struct store **out, const char *dir, struct tn_err *err);
int store_s3_open(struct store **out, const char *url, const struct store_opts *opts,
		  struct tn_err *err);

/* Add to the counters under the lock. */
void store_count(struct store *s, uint64_t requests, uint64_t retries, uint64_t up,
		 uint64_t down);

/* The read cache (store_cache.c). */
int store_cache_open(struct store_cache **out, const char *dir, int64_t max_bytes,
		     int min_age_s, struct tn_err *err);
void store_cache_close(struct store_cache *c);
/* The cache file name for (store URL, key): <dir>/<2 hex>/<62 hex>. */
char *store_cache_path(struct store_cache *c, const char *url, const char *key);
/* After a download into `path` (already renamed into place): account for
 * it and evict old files while over the cap. */
void store_cache_added(struct store_cache *c, const char *path, int64_t size);
/* Mark a cached file as just used (its mtime is the LRU clock). */
void store_cache_touch(const char *path);

/* Temp-file name next to `path`, unique across processes and threads:
 * "<dir>/.tarn-tmp-<pid>-<random>-<base>". Owned by the caller. */
char *store_tmp_name(const char *path);
#define STORE_TMP_MARK ".tarn-tmp-"

#endif
