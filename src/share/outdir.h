/*
 * outdir: the one place where the share layer (exports, pins boards)
 * writes files. A `struct outdir` is a root addressed by keys
 * ("domain/dataset/manifest.json"), the way an object store is: a folder
 * on local disk, where every write is made durable (fsync of files and
 * folders) and becomes visible in one rename, or a prefix in a bucket
 * through the store module, where every object appears whole but a
 * folder appears file by file (outdir_publish), so callers write the file
 * that names the others last.
 *
 * In a bucket, hidden keys (whose first part starts with '.', such as the
 * ".staging/<uuid>" of outdir_stage) stay in a local work folder: files
 * are staged there, then uploaded.
 *
 * Keys are relative, '/'-separated, and never hold empty, "." or ".."
 * components: a bad key is TN_EINVAL, so no name can escape the root.
 * Not thread-safe: one outdir per thread.
 */
#ifndef OUTDIR_H
#define OUTDIR_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

struct outdir;

/* Longest name outdir_name_ok accepts. */
#define OUTDIR_NAME_MAX 128

/*
 * Open the folder `root` (created with its parents when `create`, else
 * TN_ENOTFOUND when missing). *out is released with outdir_close().
 */
int outdir_open(struct outdir **out, const char *root, int create, struct tn_err *err);
void outdir_close(struct outdir *od);   /* NULL-safe */

struct store;

/*
 * The prefix `prefix` ("" or "exports/") of store `st` (taken over, and
 * closed with the outdir, when `own`), with the local folder `work`
 * (created) for stages, temp files and locks. A bad prefix is TN_EINVAL
 * (and an owned store is closed).
 */
int outdir_open_store(struct outdir **out, struct store *st, int own, const char *prefix, const char *work,
		      struct tn_err *err);

/* An "s3://bucket/prefix/" URL (S3_* settings as for a lake, see store.h)
 * with work folder `work`, or else a local folder, created if missing. */
int outdir_open_url(struct outdir **out, const char *url, const char *work, struct tn_err *err);

/* 1 when the outdir is in a bucket. */
int outdir_is_remote(const struct outdir *od);

/* Borrowed: the absolute root folder, or the root's URL in a bucket. */
const char *outdir_root(const struct outdir *od);

/* The local path of `key` (owned; tn_free), or NULL when the key is bad.
 * For writers that need a file name, e.g. DuckDB's COPY into a stage; in
 * a bucket only hidden keys (a stage) have one that means anything. */
char *outdir_path(const struct outdir *od, const char *key);

/* *yes = 1 when `key` names an existing file or folder (in a bucket: an
 * object, or objects under "<key>/"). */
int outdir_exists(struct outdir *od, const char *key, int *yes, struct tn_err *err);

/* Write `len` bytes as `key` atomically (temp file, fsync, rename, folder
 * fsync); missing parent folders are created. */
int outdir_put(struct outdir *od, const char *key, const void *data, size_t len, struct tn_err *err);

/* Read `key` whole into *data (owned, NUL-terminated); TN_ENOTFOUND when
 * it does not exist. */
int outdir_get(struct outdir *od, const char *key, char **data, size_t *len, struct tn_err *err);

/* Make a new empty staging folder ".staging/<uuid>" and set *key to it
 * (owned). Files written there are invisible until outdir_publish(). */
int outdir_stage(struct outdir *od, char **key, struct tn_err *err);

/* Make the staged folder `from` appear as `to`: its files and the folder
 * are fsynced, then one rename. TN_ECONFLICT when `to` exists already
 * (the stage is left in place for the caller to retry or remove). */
int outdir_publish(struct outdir *od, const char *from, const char *to, struct tn_err *err);

/* Move the local file `path` (any folder) to `key`: a rename when both are
 * on one file system, else a copy; the result is fsynced either way and
 * `path` is gone afterwards. */
int outdir_import(struct outdir *od, const char *path, const char *key, struct tn_err *err);

/*
 * The names in folder `key` ("" = the root), sorted bytewise; names that
 * start with '.' (stages, temp files) are skipped, and with `dirs_only`
 * so is everything but folders. A missing folder lists as empty. *names
 * is released with outdir_names_free().
 */
int outdir_list(struct outdir *od, const char *key, int dirs_only, char ***names, size_t *n,
		struct tn_err *err);
void outdir_names_free(char **names, size_t n);   /* NULL-safe */

/* Remove the file or folder tree `key`; symbolic links are removed, never
 * followed. A missing key is not an error. Parent folders stay. */
int outdir_remove(struct outdir *od, const char *key, struct tn_err *err);

/* Remove folder `key` if it is empty (ENOTEMPTY is not an error; a
 * no-op in a bucket). */
int outdir_remove_empty(struct outdir *od, const char *key, struct tn_err *err);

/*
 * Take an exclusive lock on folder `key` (created if missing), waiting for
 * other tarn processes that hold it; *lock is released with
 * outdir_unlock(). Used around read-modify-write of a manifest. In a
 * bucket the lock is a local folder: it serialises one machine's writers.
 */
int outdir_lock(struct outdir *od, const char *key, int *lock, struct tn_err *err);
void outdir_unlock(int lock);   /* -1 is a no-op */

/* 1 when `name` is safe as one key component: 1..OUTDIR_NAME_MAX bytes of
 * letters, digits, '_', '-' and '.', not starting with '.'. */
int outdir_name_ok(const char *name);

#endif
