/*
 * backup: copies of a lake's SQLite catalog taken while the lake is in use,
 * and their restore. A backup is SQLite's VACUUM INTO through the catalog
 * API: one read transaction, so the copy is a consistent snapshot even
 * while writers commit. Backups live in <lake>/backups/catalog/ as
 * YYYY_MM_DD/HH_mm_SS_sss/catalog.sqlite (UTC) with a backup.json beside
 * each copy and a manifest.json listing them all (size, SHA-256, the
 * newest DuckLake snapshot in the copy, which one is the latest).
 * Not thread-safe: one call at a time per lake handle.
 */
#ifndef BACKUP_H
#define BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

struct lake;

/* Where backups go, under the lake folder, and the files they hold. */
#define BACKUP_DIR "backups/catalog"
#define BACKUP_MANIFEST "manifest.json"
#define BACKUP_INFO "backup.json"

/* One backup; strings owned (backup_entry_release). */
struct backup_entry {
	char *version;        /* "YYYY_MM_DD/HH_mm_SS_sss" */
	char *created;        /* "2024-05-01T12:30:45.123Z" */
	char *path;           /* absolute path of the catalog copy */
	int64_t size;         /* bytes */
	int64_t snapshot;     /* newest snapshot_id in the copy */
	char sha256[65];      /* lowercase hex */
	int latest;
};

/*
 * Copy the catalog of lake `lk` into a new backup folder and record it in
 * the manifest (atomically, under a lock). Readers and writers of the lake
 * may run meanwhile; the copy holds every commit made before it started.
 * Errors: TN_EIO, TN_EUNSUPPORTED (the catalog is not a SQLite file).
 */
int backup_take(struct lake *lk, struct backup_entry *out, struct tn_err *err);

/* The backups of the lake in `lake_dir`, oldest first (none: n = 0). */
int backup_list(const char *lake_dir, struct backup_entry **out, size_t *n, struct tn_err *err);

void backup_entry_release(struct backup_entry *e);
void backup_entries_free(struct backup_entry *e, size_t n);   /* NULL-safe */

struct backup_restore_opts {
	const char *at;       /* newest backup taken at or before this UTC time, or NULL */
	const char *path;     /* a backup folder or its catalog.sqlite, or NULL */
	int force;            /* replace an existing catalog */
};

/*
 * Restore a backup (the latest, or the one o->at or o->path picks) as the
 * catalog of the lake in `lake_dir`. The copy's size and SHA-256 must match
 * its backup.json (TN_EINVAL "corrupt" otherwise) and it must pass SQLite's
 * integrity check and hold DuckLake tables, all checked before anything is
 * replaced. An existing catalog is replaced only with o->force
 * (TN_ECONFLICT otherwise); it is kept beside as
 * catalog.sqlite.before-restore-<time> (*saved_as, owned; NULL when there
 * was none). Stop the lake's writers first: a process that has the old
 * catalog open keeps writing to it. The caller checks the lake afterwards
 * (lake_fsck). *used describes the backup restored.
 */
int backup_restore(const char *lake_dir, const struct backup_restore_opts *o, struct backup_entry *used,
		   char **saved_as, struct tn_err *err);

/* Parse a UTC time "2024-05-01", "2024-05-01 12:30[:45[.123]]",
 * "2024-05-01T12:30:45Z" or "2024_05_01/12_30_45_123" into microseconds
 * since the epoch; TN_EINVAL naming the accepted forms otherwise. */
int backup_parse_time(const char *s, int64_t *us, struct tn_err *err);

#endif
