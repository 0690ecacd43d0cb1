/*
 * tn_fs: the file-system calls tarn makes on local disk, each with the
 * durability rule it needs (fsync of file and directory) and an error that
 * names the path and the errno text.
 */
#ifndef TN_FS_H
#define TN_FS_H

#include <stdint.h>
#include "base/tn_err.h"

/* mkdir -p; existing directories are fine. */
int tn_fs_mkdirs(const char *path, struct tn_err *err);
/* fsync a file, then its directory (so a new name is durable too). */
int tn_fs_sync_file(const char *path, struct tn_err *err);
int tn_fs_sync_dir(const char *dir, struct tn_err *err);
/* Write `len` bytes to `path` atomically: temp file, fsync, rename, dir fsync. */
int tn_fs_write_atomic(const char *path, const void *data, size_t len, struct tn_err *err);
/* The same, readable by the owner only from the first byte (a file that
 * may hold a password, like catalog.url). */
int tn_fs_write_private(const char *path, const void *data, size_t len, struct tn_err *err);
/* Read a whole file into a new buffer (caller frees); NUL-terminated. */
int tn_fs_read_all(const char *path, char **out, size_t *len, struct tn_err *err);
/* Size of a file; TN_ENOTFOUND when it does not exist. */
int tn_fs_size(const char *path, int64_t *size, struct tn_err *err);
int tn_fs_exists(const char *path);
int tn_fs_is_dir(const char *path);
/* Remove a file; a missing file is not an error. */
int tn_fs_remove(const char *path, struct tn_err *err);
/* Remove a directory tree (for tests and failed inits). */
int tn_fs_remove_tree(const char *path, struct tn_err *err);
/* Absolute, normalised form of a path (need not exist); caller frees. */
char *tn_fs_abspath(const char *path);
/* Join dir and name with one '/'; caller frees. */
char *tn_fs_join(const char *dir, const char *name);

#endif
