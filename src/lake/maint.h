/*
 * maint: keeping a lake small. Compaction rewrites a table's live files
 * into one (a new snapshot; older snapshots still read the old files);
 * expiry forgets old snapshots and schedules the files no kept snapshot
 * can see for deletion (one catalog transaction); cleanup deletes the
 * scheduled files from storage. Time travel works for every kept snapshot
 * and fails with a clear error for an expired one.
 */
#ifndef MAINT_H
#define MAINT_H

#include <stdint.h>
#include "base/tn_err.h"

struct lake;
struct session;

struct maint_report {
	long snapshots_expired;  /* snapshots forgotten */
	long files_scheduled;    /* data and delete files scheduled for deletion */
	long files_deleted;      /* scheduled files deleted from storage */
	long tables_compacted;   /* tables rewritten */
	long files_compacted;    /* live files they had */
	long long bytes_freed;   /* bytes of the files deleted */
	int64_t keep_from;       /* the oldest snapshot kept (expire) */
};

struct maint_expire_opts {
	int64_t older_than_us;   /* expire snapshots taken before this time (epoch µs); 0: any age */
	long keep_last;          /* always keep the newest N snapshots (at least 1) */
	int dry_run;             /* count, change nothing */
};

int maint_expire(struct lake *lk, const struct maint_expire_opts *o, struct maint_report *rep,
		 struct tn_err *err);

/* Delete the files scheduled for deletion before older_than_us (0: all). */
int maint_cleanup(struct lake *lk, int64_t older_than_us, int dry_run, struct maint_report *rep,
		  struct tn_err *err);

/* Rewrite `table` ("schema.table"; NULL: every table) when it has at least
 * min_files live data files, or any live delete file: one snapshot per
 * table, through the session (so conflicts and retries apply). */
int maint_compact(struct session *ss, const char *table, long min_files, int dry_run, struct maint_report *rep,
		  struct tn_err *err);

/* "7d", "12h", "30m", "45s" as microseconds; TN_EINVAL names the input. */
int maint_parse_age(const char *s, int64_t *us, struct tn_err *err);
/* An age ("7d": that long before now) or a UTC time ("2024-05-01 12:00")
 * as epoch microseconds. */
int maint_parse_when(const char *s, int64_t *us, struct tn_err *err);

#endif
