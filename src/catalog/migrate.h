/*
 * migrate: copy a lake's catalog from one catalog database to another
 * (SQLite <-> PostgreSQL, or between two servers): every DuckLake table
 * (ducklake_*, the inlined-data tables included) with its columns, primary
 * key, indexes and rows, so every snapshot stays readable. The copy is one
 * transaction on the target; the source is only read. Switching a lake to
 * the copy is the lake layer's business (lake/lake_migrate.h).
 */
#ifndef CATALOG_MIGRATE_H
#define CATALOG_MIGRATE_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

struct catalog;

struct catalog_migrate_table {
	char *name;      /* catalog table, e.g. ducklake_snapshot */
	int64_t rows;    /* rows copied (equal in source and target) */
};

struct catalog_migrate_report {
	size_t ntables;
	struct catalog_migrate_table *tables;   /* by name */
	int64_t rows;                           /* all tables */
	size_t nindexes;                        /* secondary indexes re-created */
};

/*
 * Copy every ducklake_* table of `src` into `dst`. `dst` must hold no
 * ducklake_* table (else TN_ECONFLICT, nothing written). Runs in one write
 * transaction on `dst`: creates the tables and indexes, inserts the rows,
 * then checks that every table has as many rows as in `src`; any failure
 * rolls everything back. With `dry_run` the transaction is rolled back
 * after the checks. The caller keeps writers away from `src` meanwhile
 * (catalog_begin(src, 1) around the call: the copy then reads one state).
 * Column types must be ones the DuckLake tables use (BIGINT, INTEGER,
 * VARCHAR, UUID, TIMESTAMPTZ, BOOLEAN, DOUBLE), else TN_EUNSUPPORTED.
 * `rep` is filled on success and on failure (what was copied so far);
 * release it with catalog_migrate_report_release().
 */
int catalog_migrate(struct catalog *src, struct catalog *dst, int dry_run,
		    struct catalog_migrate_report *rep, struct tn_err *err);
void catalog_migrate_report_release(struct catalog_migrate_report *rep);

/* 1 when `cat` holds at least one ducklake_* table, in *has. */
int catalog_migrate_has_tables(struct catalog *cat, int *has, struct tn_err *err);

#endif
