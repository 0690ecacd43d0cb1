/*
 * export: datasets for people outside the lake. A dataset is the tables of
 * one schema, written under <lake>/exports/<domain>/<dataset>/ in a new
 * version folder YYYY_MM_DD/HH_mm_SS_sss/ (UTC) per export, with a
 * manifest.json beside the version folders that lists every version: the
 * snapshot exported, each file with its size, SHA-256, row count and the
 * table and column comments, and which version is the latest.
 *
 * A version folder appears whole or not at all (written in a staging
 * folder, then renamed); the manifest is replaced atomically under a lock,
 * so concurrent exports and prunes of one dataset serialise. In a bucket
 * the files are uploaded first and the manifest last, so the manifest
 * never names a missing object (a failed upload deletes what it put).
 * Not thread-safe: one call at a time per session.
 */
#ifndef EXPORT_H
#define EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

struct session;
struct lake;

/* The folder under the lake folder that holds exports; for a lake in a
 * bucket, the prefix of the bucket (beside stage/ and marts/). */
#define EXPORT_DIR "exports"
/* The manifest beside the version folders of a dataset. */
#define EXPORT_MANIFEST "manifest.json"

struct export_opts {
	const char *domain;     /* first folder level: letters, digits, '_', '-', '.' */
	const char *schema;     /* the dataset; its folder is the schema name made safe */
	char **tables;          /* tables to export; NULL = every table of the schema */
	size_t ntables;
	const char *format;     /* "parquet" (NULL = parquet), "csv" or "json" (JSON lines) */
	int64_t at;             /* snapshot to export; -1 = the latest */
};

/* What export_dataset wrote; strings owned, see export_info_release. */
struct export_info {
	char *dataset;          /* folder name of the dataset */
	char *version;          /* "YYYY_MM_DD/HH_mm_SS_sss" */
	char *path;             /* absolute folder of the version */
	int64_t snapshot;       /* snapshot exported */
	size_t nfiles;
	int64_t rows, bytes;
};

/*
 * Export the tables of o->schema from session `s` of lake `lk`. All tables are read at one snapshot (the latest when the
 * export starts, or o->at). Parquet files carry the comments as key-value
 * metadata; csv and json carry them in the manifest only.
 * Errors: TN_EINVAL (bad domain, format or names), TN_ENOTFOUND (no such
 * schema, table or snapshot), TN_EIO; nothing is published on error.
 */
int export_dataset(struct session *s, struct lake *lk, const struct export_opts *o,
		   struct export_info *info, struct tn_err *err);
void export_info_release(struct export_info *info);

/* One version of an exported dataset, as listed by the manifests. */
struct export_version {
	char *domain, *dataset, *version, *created, *format;
	int64_t snapshot, files, rows, bytes;
	int latest;
};

/*
 * The versions of the exports of lake `lk`, sorted by domain,
 * dataset and version; only the latest of each dataset unless `all`.
 * `domain` and `dataset` (NULL = any) filter. *out is released with
 * export_versions_free. A manifest that is not valid JSON is TN_EINVAL.
 */
int export_list(struct lake *lk, const char *domain, const char *dataset, int all,
		struct export_version **out, size_t *n, struct tn_err *err);
void export_versions_free(struct export_version *v, size_t n);

struct export_prune_opts {
	const char *domain, *dataset;  /* NULL = any */
	int64_t keep;                  /* keep the newest N versions; -1 = no such rule */
	int64_t older_than;            /* only versions older than this many seconds; -1 = any age */
	int dry_run;                   /* list, change nothing */
};

/*
 * Delete the versions that the rules select (both rules must select a
 * version when both are given; the latest version is always kept): first
 * from the manifest, then their folders. *removed lists them (release with
 * export_versions_free). Also removes staging folders a crashed export
 * left more than a day ago.
 */
int export_prune(struct lake *lk, const struct export_prune_opts *o,
		 struct export_version **removed, size_t *n, struct tn_err *err);

#endif
