/*
 * store: where a lake's data files live. One interface, two backends: a
 * directory on local disk ("/abs/dir/") and an S3-compatible bucket
 * ("s3://bucket/prefix/"). Nothing above this header knows which one it
 * has; the backend is chosen by store_open() from the URL alone.
 *
 * Keys are relative to the store root and look like relative paths:
 * "stage/t1/ducklake-0190.parquet". They are non-empty, at most
 * STORE_MAX_KEY bytes, have no leading or trailing '/', no empty, "." or
 * ".." segment and no control character (store_key_check()). Both backends
 * refuse the same keys, so a lake behaves the same on either.
 *
 * Objects are written whole and are immutable once written: a put is
 * all-or-nothing (a reader never sees a partial object), a second put of
 * the same key replaces the object atomically.
 *
 * Thread safety: every function may be called from several threads at
 * once on the same handle, except store_close(). Every function returns 0
 * or a negative TN_E* code and fills `err`; messages name the object
 * ("s3: PUT s3://lake/stage/x.parquet: 403 Forbidden (check ...)") and
 * never carry a secret key or a session token.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

struct store;

#define STORE_MAX_KEY 1024 /* S3's limit, in bytes of UTF-8 */

/*
 * Tuning knobs. Zero (STORE_OPTS_INIT, or a NULL pointer) means the default
 * in brackets; the local backend uses only the cache fields and `threads`.
 */
struct store_opts {
	int64_t multipart_threshold; /* objects larger than this go multipart [8 MiB] */
	int64_t part_size;           /* multipart part size, at least 5 MiB [8 MiB] */
	int threads;                 /* parallel part uploads and fetches [4] */
	int max_attempts;            /* tries of one request, first included [5] */
	int retry_budget_ms;         /* no new try after this much time [30000] */
	int retry_base_ms;           /* first backoff; doubles, jittered [100] */
	int connect_timeout_ms;      /* TCP + TLS connect [10000] */
	int read_timeout_s;          /* abort when no byte moved this long [30] */
	int timeout_ms;              /* whole request, plus 1 s per MiB [300000] */
	int list_page_size;          /* ListObjectsV2 max-keys, 1..1000 [1000] */
	const char *env_file;        /* S3 settings file [".env"]; "" for none */
	const char *cache_dir;       /* store_fetch cache [$TARN_CACHE_DIR or
	                                $XDG_CACHE_HOME/tarn or ~/.cache/tarn] */
	int64_t cache_max_bytes;     /* soft cap of the cache [10 GiB] */
	int cache_min_age_s;         /* files used more recently are never
	                                evicted, so a reader can open them [300] */
};
#define STORE_OPTS_INIT { 0 }

/*
 * Open the store at `url`: an absolute directory path ("/data/lake/", made
 * if missing; "file:///data/lake/" also works) or "s3://bucket/prefix/".
 * For S3 the settings come from the environment and then from the
 * `.env` file in the working directory (the environment wins):
 *   S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_SESSION_TOKEN (optional),
 *   S3_REGION [us-east-1], S3_ENDPOINT [s3.<region>.amazonaws.com;
 *   "host:port" or "http(s)://host:port"], S3_BUCKET (when the URL names
 *   none: "s3:///prefix/"), S3_USE_SSL [true], S3_URL_STYLE=path|vhost
 *   [vhost on AWS, path with a custom endpoint].
 * Opening makes no request. `opts` may be NULL. On success *out must be
 * released with store_close(); on failure *out is NULL.
 */
int store_open(struct store **out, const char *url, const struct store_opts *opts,
	       struct tn_err *err);
/* Release the store (NULL is fine). Not while another call is running. */
void store_close(struct store *s);

/* Borrowed, valid until store_close: "local" or "s3", and the root URL
 * ending in '/' ("/abs/dir/", "s3://bucket/prefix/"). */
const char *store_kind(const struct store *s);
const char *store_url(const struct store *s);

/* 0 when `key` is a valid key (see the top of this file), else TN_EINVAL
 * with a message naming the key and the rule it breaks. */
int store_key_check(const char *key, struct tn_err *err);

/*
 * Upload the local file `path` as `key`, replacing any object there.
 * S3: one PUT up to multipart_threshold, else a multipart upload with
 * `threads` parts in flight, aborted on failure. Local: copy to a temp
 * file beside the target, fsync, rename, fsync the directory. When this
 * returns 0 the object is complete and durable; on failure no object (or
 * the previous one) is there.
 */
int store_put_file(struct store *s, const char *key, const char *path, struct tn_err *err);

/*
 * Download `key` to the local file `path`, atomically: into a temp file
 * beside `path`, size checked against the server's length and against
 * `expect_size` (pass -1 when unknown), then renamed. TN_ENOTFOUND if the
 * object does not exist; a size mismatch is TN_EIO and leaves no file.
 */
int store_get_file(struct store *s, const char *key, const char *path, int64_t expect_size,
		   struct tn_err *err);

/*
 * Read bytes [off, off + len) of `key` into `buf`. *got is len, or fewer
 * only when the object ends first (0 when off is at or past the end).
 * TN_ENOTFOUND if the object does not exist.
 */
int store_get_range(struct store *s, const char *key, int64_t off, void *buf, size_t len,
		    size_t *got, struct tn_err *err);

struct store_stat {
	int exists;   /* 0: no such object (not an error) */
	int64_t size; /* bytes, when it exists */
};
/* Does `key` exist, and how big is it? */
int store_head(struct store *s, const char *key, struct store_stat *st, struct tn_err *err);

/*
 * Call fn(arg, key, size) for every object whose key starts with `prefix`
 * ("" or NULL for all), in byte order of the keys; keys are relative to
 * the store root. A nonzero return from fn stops the listing and is
 * returned. S3 pages through ListObjectsV2 with continuation tokens.
 */
typedef int (*store_list_fn)(void *arg, const char *key, int64_t size);
int store_list(struct store *s, const char *prefix, store_list_fn fn, void *arg,
	       struct tn_err *err);

/* Delete `key`; a missing object is not an error. */
int store_del(struct store *s, const char *key, struct tn_err *err);
/* Delete `n` keys (S3: DeleteObjects batches of up to 1000). Fails if any
 * key could not be deleted, naming the first such key; missing objects are
 * fine. */
int store_del_many(struct store *s, const char *const *keys, size_t n, struct tn_err *err);

/*
 * A local path holding the content of `key`, for readers that need a file
 * (DuckDB). Local store: the file itself. S3: a copy in the read cache,
 * downloaded first if missing (temp file + size check + rename, so another
 * process never sees a partial file); objects are immutable, so a cached
 * copy never goes stale. `expect_size` (-1 if unknown) is checked against
 * the cached copy too. *path is owned by the caller (tn_free). Cached files
 * are evicted least recently used first once the cache is over its cap,
 * but never within cache_min_age_s of their last use.
 */
int store_fetch(struct store *s, const char *key, int64_t expect_size, char **path,
		struct tn_err *err);
/* store_fetch for `n` keys, with up to `threads` downloads at once.
 * paths[i] are set on success (caller frees each); on failure all are NULL. */
int store_fetch_many(struct store *s, const char *const *keys, const int64_t *expect_sizes,
		     size_t n, char **paths, struct tn_err *err);

/* What the store did so far (for tests, benchmarks and `--verbose`). */
struct store_counters {
	uint64_t requests;  /* requests sent, retries included */
	uint64_t retries;   /* of those, retries */
	uint64_t bytes_up, bytes_down;
	uint64_t cache_hits, cache_misses;
};
void store_counters(struct store *s, struct store_counters *c);

#endif
