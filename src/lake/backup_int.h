/*
 * backup_int.h: what the files of catalog backups share (backup.c takes
 * and lists them, backup_restore.c restores them, backup_copy.c copies
 * DuckLake tables between catalogs, backup_home.c is where they live).
 * Not for use outside those files.
 */
#ifndef BACKUP_INT_H
#define BACKUP_INT_H

#include <stdint.h>
#include "base/tn_err.h"
#include "lake/backup.h"

struct catalog;
struct store;
typedef struct json_t json_t;

#define BACKUP_COPY_NAME "catalog.sqlite"

/* ---- backup_copy.c ---- */

/*
 * Copy every DuckLake table (ducklake_*, the inlined data tables too) of
 * `src` into `dst`, which must have none: the standard tables are made
 * with the lake's own DDL (keys and indexes included), the others with
 * the column types of the source. `src` must be in a read transaction and
 * `dst` in a write transaction, so the copy is one consistent snapshot
 * that appears whole. *snapshot = the newest snapshot copied; *rows = the
 * rows copied. Works in both directions between SQLite and PostgreSQL.
 */
int bk_copy_catalog(struct catalog *src, struct catalog *dst, int64_t *snapshot, int64_t *rows,
		    struct tn_err *err);

/* The names of the DuckLake tables (ducklake_*) of `cat`, sorted. */
int bk_ducklake_tables(struct catalog *cat, char ***names, size_t *n, struct tn_err *err);

/* ---- backup_home.c: the backups folder, on local disk or in a bucket ---- */

struct bk_home {
	char *dir;        /* <lake>/backups/catalog: the backups, or (bucket) the work folder */
	struct store *st; /* borrowed; NULL on local disk */
	char *root;       /* what entry paths start with: dir, or the s3:// URL of the prefix */
};

/* The backups of the lake in `lake_dir` whose data is in `st` (NULL, or a
 * local store: the lake folder). */
void bk_home_init(struct bk_home *h, const char *lake_dir, struct store *st);
void bk_home_release(struct bk_home *h);

/* manifest.json: *m = NULL when there is none. */
int bk_home_load(struct bk_home *h, json_t **m, struct tn_err *err);
int bk_home_save(struct bk_home *h, const json_t *m, struct tn_err *err);

/* Upload the staged backup folder `stage` (catalog.sqlite, backup.json)
 * as version `version` of a bucket home; on failure nothing stays. */
int bk_home_upload(struct bk_home *h, const char *stage, const char *version, struct tn_err *err);
/* Delete version `version` from a bucket home (when recording it failed). */
void bk_home_unupload(struct bk_home *h, const char *version);
/* 1 when a bucket home holds objects under version `version`. */
int bk_home_taken(struct bk_home *h, const char *version, int *yes, struct tn_err *err);

/* Download the catalog copy of entry `e` of a bucket home to the local
 * file `path` (its size checked). */
int bk_home_fetch(struct bk_home *h, const struct backup_entry *e, const char *path, struct tn_err *err);

/* The backups recorded in h's manifest, oldest first (backup.c). */
int bk_list(struct bk_home *h, struct backup_entry **out, size_t *n, struct tn_err *err);

/* JSON file helpers (backup.c). */
int bk_load_json(const char *path, json_t **out, struct tn_err *err);
int bk_save_json(const char *path, const json_t *v, struct tn_err *err);
json_t *bk_entry_json(const struct backup_entry *e);
int bk_entry_from_json(const json_t *j, const char *root, struct backup_entry *e);

/* SHA-256 (lowercase hex) and size of a file (backup.c). */
int bk_sha256_file(const char *path, char hex[65], int64_t *size, struct tn_err *err);
/* "YYYY_MM_DD/HH_mm_SS_sss" and "2024-05-01T12:30:45.123Z" for UTC time us. */
void bk_version_name(int64_t us, char out[64]);
void bk_iso_time(int64_t us, char out[64]);
/* The newest snapshot in a catalog, and a check that it is DuckLake's. */
int bk_newest_snapshot(struct catalog *cat, const char *what, int64_t *snap, struct tn_err *err);

#endif
