/*
 * outdir: the one place where the share layer (exports, pins boards)
 * writes files. A `struct outdir` is a root folder addressed by keys
 * ("domain/dataset/manifest.json"), the way an object store is, so that
 * this file is what moves to the storage layer when exports go to S3.
 * Today it is local disk: every write is made durable (fsync of files
 * and folders) and becomes visible in one rename.
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

/* Borrowed: the absolute root folder. */
const char *outdir_root(const struct outdir *od);

/* The local path of `key` (owned; tn_free), or NULL when the key is bad.
 * For writers that need a file name, e.g. DuckDB's COPY into a stage. */
char *outdir_path(const struct outdir *od, const char *key);

/* 1 when `key` names an existing file or folder. */
int outdir_exists(const struct outdir *od, const char *key);

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

/* Remove folder `key` if it is empty (ENOTEMPTY is not an error). */
int outdir_remove_empty(struct outdir *od, const char *key, struct tn_err *err);

/*
 * Take an exclusive lock on folder `key` (created if missing), waiting for
 * other tarn processes that hold it; *lock is released with
 * outdir_unlock(). Used around read-modify-write of a manifest.
 */
int outdir_lock(struct outdir *od, const char *key, int *lock, struct tn_err *err);
void outdir_unlock(int lock);   /* -1 is a no-op */

/* 1 when `name` is safe as one key component: 1..OUTDIR_NAME_MAX bytes of
 * letters, digits, '_', '-' and '.', not starting with '.'. */
int outdir_name_ok(const char *name);

#endif
