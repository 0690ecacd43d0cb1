/*
 * backup: copies of a lake's catalog taken while the lake is in use, and
 * their restore. Every backup is a SQLite DuckLake catalog file: of a
 * SQLite catalog, SQLite's VACUUM INTO; of a PostgreSQL catalog, a copy
 * of every DuckLake table made in one REPEATABLE READ transaction. Either
 * way one consistent snapshot, taken while writers commit, and either
 * kind restores to either backend. Backups live in <lake>/backups/catalog/
 * (for a lake whose data is in a bucket, in the bucket's backups/catalog/
 * prefix) as YYYY_MM_DD/HH_mm_SS_sss/catalog.sqlite (UTC) with a
 * backup.json beside each copy and a manifest.json listing them all (size,
 * SHA-256, the newest DuckLake snapshot in the copy, the catalog's
 * backend, which one is the latest), written last.
 * Not thread-safe: one call at a time per lake handle.
 */
#ifndef BACKUP_H
#define BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

struct lake;
struct store;

/* Where backups go, under the lake folder, and the files they hold. */
#define BACKUP_DIR "backups/catalog"
#define BACKUP_MANIFEST "manifest.json"
#define BACKUP_INFO "backup.json"

/* One backup; strings owned (backup_entry_release). */
struct backup_entry {
	char *version;        /* "YYYY_MM_DD/HH_mm_SS_sss" */
	char *created;        /* "2024-05-01T12:30:45.123Z" */
	char *path;           /* absolute path (or s3:// URL) of the catalog copy */
	int64_t size;         /* bytes */
	int64_t snapshot;     /* newest snapshot_id in the copy */
	char sha256[65];      /* lowercase hex */
	const char *catalog;  /* static: "sqlite" or "postgres", the backend copied */
	int latest;
};

/*
 * Copy the catalog of lake `lk` into a new backup folder and record it in
 * the manifest (atomically, under a lock). Readers and writers of the lake
 * may run meanwhile; the copy holds every commit made before it started.
 * Errors: TN_EIO, TN_EREMOTE (the server or the bucket).
 */
int backup_take(struct lake *lk, struct backup_entry *out, struct tn_err *err);

/* The backups of the lake in `lake_dir` whose data is in store `st` (NULL
 * or local: the lake folder holds them), oldest first (none: n = 0). */
int backup_list(const char *lake_dir, struct store *st, struct backup_entry **out, size_t *n,
		struct tn_err *err);

void backup_entry_release(struct backup_entry *e);
void backup_entries_free(struct backup_entry *e, size_t n);   /* NULL-safe */

struct backup_restore_opts {
	const char *at;       /* newest backup taken at or before this UTC time, or NULL */
	const char *path;     /* a backup folder or its catalog.sqlite (or an s3:// URL of the
			       * folder), or NULL */
	const char *to;       /* NULL: the lake's catalog; "sqlite": <lake>/catalog.sqlite;
			       * or a postgres:// URI, which the lake then uses */
	int force;            /* replace an existing catalog */
};

/*
 * Restore a backup (the latest, or the one o->at or o->path picks) as the
 * catalog of the lake in `lake_dir` (backups in store `st`, as for
 * backup_list). The copy's size and SHA-256 must match its record
 * (TN_EINVAL "corrupt" otherwise) and it must pass SQLite's integrity
 * check and hold DuckLake tables, all checked before anything is replaced.
 * An existing catalog is replaced only with o->force (TN_ECONFLICT
 * otherwise) and kept: a SQLite file as catalog.sqlite.before-restore-
 * <time>, PostgreSQL tables moved into the schema
 * tarn_before_restore_<time> in the same transaction that fills the new
 * ones (*saved_as, owned, says which; NULL when there was none). Into
 * PostgreSQL the restore checks that the copy holds the backup's snapshot
 * before it commits. Stop the lake's writers first: a process that has
 * the old SQLite catalog open keeps writing to it. The caller checks the
 * lake afterwards (lake_fsck). *used describes the backup restored.
 */
int backup_restore(const char *lake_dir, struct store *st, const struct backup_restore_opts *o,
		   struct backup_entry *used, char **saved_as, struct tn_err *err);

/* Parse a UTC time "2024-05-01", "2024-05-01 12:30[:45[.123]]",
 * "2024-05-01T12:30:45Z" or "2024_05_01/12_30_45_123" into microseconds
 * since the epoch; TN_EINVAL naming the accepted forms otherwise. */
int backup_parse_time(const char *s, int64_t *us, struct tn_err *err);

#endif
