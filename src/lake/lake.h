/*
 * lake: a DuckLake-format lake: a catalog (SQLite file, DuckLake 1.0 tables)
 * plus a data path of immutable Parquet files. lake_init creates one,
 * lake_open finds and checks one. A `struct lake` is shared by the sessions
 * of one process; it is not thread-safe itself.
 */
#ifndef LAKE_H
#define LAKE_H

#include <stdint.h>
#include "base/tn_err.h"

struct lake;

struct lake_init_opts {
	const char *data_path; /* NULL = <dir>/data/ */
	int64_t inline_limit;  /* data_inlining_row_limit; -1 = DuckLake's default (10) */
	const char *catalog;   /* NULL = a SQLite file in the lake folder; or a PostgreSQL
				* URI (postgres://user@host:port/db, postgres:<conninfo>),
				* recorded in <dir>/catalog.url */
};

/* File name of the catalog inside a lake folder, or of the file naming a
 * catalog on a server. */
#define LAKE_CATALOG_FILE "catalog.sqlite"
#define LAKE_CATALOG_URL "catalog.url"

/* Create a new lake in `dir` (created if missing; must not hold a lake). */
int lake_init(const char *dir, const struct lake_init_opts *opts, struct tn_err *err);
/* Open the lake in `dir`; TN_ENOTFOUND if there is none. */
int lake_open(struct lake **out, const char *dir, struct tn_err *err);
/* lake_open for a caller that opens a session next: DuckDB starts on
 * another thread meanwhile, and the first session takes it and the
 * catalog connection (a few milliseconds saved; wasted without a session). */
int lake_open_warm(struct lake **out, const char *dir, struct tn_err *err);
/* Close the connection lake_open kept for the first session: before
 * anything replaces the catalog (restore, migrate). */
void lake_release_catalog(struct lake *lk);
void lake_close(struct lake *lk);
/* Borrowed: the lake folder and the data path (ends with '/'). */
const char *lake_dir(const struct lake *lk);
const char *lake_data_path(const struct lake *lk);
/* Borrowed: the store (local folder or bucket) that holds the data path. */
struct store *lake_store(const struct lake *lk);



/* Consistency check (`tarn fsck`): problems make the lake inconsistent,
 * orphans (files no snapshot refers to) are only listed. */
struct lake_fsck_report {
	size_t nproblems;
	char **problems;  /* one owned message each */
	size_t norphans;
	char **orphans;   /* paths relative to the data path */
	int64_t snapshots, tables, files;  /* what was checked */
};
int lake_fsck(struct lake *lk, struct lake_fsck_report *rep, struct tn_err *err);
void lake_fsck_report_release(struct lake_fsck_report *rep);
#endif
