/*
 * ingest_int.h: what ingest.c (landing versions) and ingest_zone.c
 * (listing, pruning, opening versions) share. Not for other files.
 */
#ifndef INGEST_INT_H
#define INGEST_INT_H

#include "base/tn_err.h"
#include "ingest/ingest.h"

/* The staging folders of running ingestions live here, inside <raw>. */
#define INGEST_TMP_DIR ".tmp"
/* Where a lake on S3 keeps its local copies of raw versions, in <raw>. */
#define INGEST_CACHE_DIR ".cache"
/* The lock that serialises manifest updates of one raw zone. */
#define INGEST_LOCK_FILE ".lock"

/* Take the raw zone's lock (flock on <raw>/.lock, created if missing);
 * *fd is what ingest_unlock releases. */
int ingest_lock(const char *raw, int *fd, struct tn_err *err);
void ingest_unlock(int fd);

/* <raw>/<dataset>/manifest.json; owned. */
char *ingest_manifest_path(const char *raw, const char *dataset);

/* 1 when the folder tree at `path` holds no file (only folders). */
int ingest_tree_empty(const char *path);

/* 0 when `rel` is a plain relative file path that can be kept in the raw
 * zone (no '..', no absolute path, no control character), else TN_EINVAL
 * naming it. */
int ingest_member_ok(const char *rel, struct tn_err *err);

/* Add version `v` of `m` to a listing; `root` + "<dataset>/<id>" is its path. */
struct ingest_listing;
struct manifest;
struct manifest_version;
void ingest_listing_add(struct ingest_listing *l, const char *root, const struct manifest *m,
			const struct manifest_version *v);

/* ---- the raw zone in a bucket (ingest_s3.c) ---- */

struct lake;
/* 1 when the lake's data path, and so its published raw zone, is on S3. */
int ingest_zone_remote(const struct lake *lk);

/* What publishing needs to know of one ingestion. */
struct ingest_s3_job {
	const char *raw;      /* the local <raw>/ (staging, lock, cache) */
	const char *staging;  /* the staged version folder */
	const char *name;     /* dataset (slug) */
	const char *source;   /* for the manifest */
	fetch_progress_fn *progress;
	void *progress_arg;
};

/* Upload the staged files to raw/<name>/<id>/ in the bucket, then the
 * manifest; on failure nothing stays. *path is the version's s3:// URL. */
int ingest_s3_publish(struct lake *lk, const struct ingest_s3_job *j,
		      const struct manifest_version *files, char **path, struct tn_err *err);
int ingest_s3_list(struct lake *lk, const char *raw, int all, struct ingest_listing *out,
		   struct tn_err *err);
/* The manifest of `name` in the bucket; TN_ENOTFOUND when there is none. */
int ingest_s3_get_manifest(struct lake *lk, const char *raw, const char *name, struct manifest *m,
			   struct tn_err *err);
/* Drop manifest entries whose version holds no object. */
int ingest_s3_prune(struct lake *lk, const char *raw, int dry_run, ingest_prune_fn *fn, void *arg,
		    struct tn_err *err);
/* A local folder holding version `id` of `name` (downloaded as needed). */
int ingest_s3_fetch_version(struct lake *lk, const char *raw, const char *name, const char *id,
			    char **dir, struct tn_err *err);

#endif
