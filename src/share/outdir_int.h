/*
 * outdir_int.h: what outdir.c (the dispatch and local disk) and
 * outdir_store.c (a bucket through the store module) share. Not for use
 * outside those two files.
 */
#ifndef OUTDIR_INT_H
#define OUTDIR_INT_H

#include "share/outdir.h"

struct store;

struct outdir {
	char *root;             /* local: the root; store: the work folder (stages, temp files, locks) */
	struct store *st;       /* NULL on local disk */
	int own_store;          /* store_close() it in outdir_close() */
	char *prefix;           /* store: key prefix of the root, "" or ending in '/' */
	char *url;              /* store: the root as a URL, for messages ("s3://b/p/exports") */
};

/* 1 when `key` is kept in the bucket: a store outdir, and not a hidden key
 * (".staging/…", whose first part starts with '.', stays on local disk). */
int outdir_remote(const struct outdir *od, const char *key);

/* The bucket side of outdir_exists, _put, _get, _publish, _import, _list
 * and _remove; `key` was checked by the caller. */
int outdir_store_exists(struct outdir *od, const char *key, int *yes, struct tn_err *err);
int outdir_store_put(struct outdir *od, const char *key, const void *data, size_t len, struct tn_err *err);
int outdir_store_get(struct outdir *od, const char *key, char **data, size_t *len, struct tn_err *err);
int outdir_store_publish(struct outdir *od, const char *from_path, const char *to, struct tn_err *err);
int outdir_store_import(struct outdir *od, const char *path, const char *key, struct tn_err *err);
int outdir_store_list(struct outdir *od, const char *key, int dirs_only, char ***names, size_t *n,
		      struct tn_err *err);
int outdir_store_remove(struct outdir *od, const char *key, struct tn_err *err);

#endif
