/*
 * load: raw dataset versions and DuckDB database files into lake tables
 * ("bronze"), through a session: every statement goes through
 * session_exec, so a load is ordinary lake SQL — one BEGIN ... COMMIT, one
 * snapshot, nothing changed when it fails. DuckDB's own readers
 * (read_csv, read_json, read_parquet) do all parsing and type inference.
 *
 * Not thread-safe (a session is not).
 */
#ifndef LOAD_H
#define LOAD_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

struct lake;
struct session;

#define LOAD_DEFAULT_SCHEMA "bronze"
#define LOAD_REJECTS_SUFFIX "_rejects"

enum load_mode {
	LOAD_CREATE,   /* the table must not exist (the default) */
	LOAD_APPEND,   /* add rows; new columns are added, narrower types widened */
	LOAD_REPLACE   /* drop and recreate the table in the same snapshot */
};

typedef void load_note_fn(void *arg, const char *msg);

struct load_opts {
	const char *dataset;       /* a raw dataset name (slugged) */
	const char *version;       /* "YYYY_MM_DD/HH_mm_SS_sss"; NULL = the latest */
	const char *table;         /* "schema.table" or "table" (schema bronze); NULL:
				    * one table per file shape, named after the file */
	enum load_mode mode;
	int reject;                /* bad CSV rows to <table>_rejects, the rest loads */
	int provenance;            /* add _source_file and _ingested_at columns */
	load_note_fn *note;        /* skipped files ...; may be NULL */
	void *note_arg;
	const char *author;        /* the snapshot's author; NULL: none */
};

struct load_table {
	char *name;                /* "bronze.titanic" */
	size_t nfiles;
	int64_t rows;              /* rows loaded */
	int64_t rejected;          /* rows sent to the rejects table */
	char *rejects;             /* "bronze.titanic_rejects" when rejected > 0, else NULL */
};

struct load_report {
	char *version;             /* what was loaded (dataset loads) */
	size_t n, alloc;
	struct load_table *t;
};

/*
 * Load one version of a raw dataset. Files are grouped by shape (column
 * names and types); each group becomes one table named after its file
 * (after the dataset when one shape covers several files), or all go to
 * o->table. CSV/TSV (also .gz), JSON arrays and NDJSON (also .gz) and
 * Parquet are read; other files and empty files are skipped with a note.
 * Latin-1 CSV is recognised and read as such.
 *
 * The commit message names the dataset, version, files and their SHA-256.
 * On failure nothing is committed and err names the file, and for CSV the
 * line, column and value ("... line 12, column price: value "n/a" is not
 * a DOUBLE ...").
 */
int load_dataset(struct session *s, struct lake *lk, const struct load_opts *o,
		 struct load_report *rep, struct tn_err *err);

/*
 * Copy every table of the DuckDB database file `path` (opened read-only
 * with ATTACH) into `schema` (NULL: bronze) with its table and column
 * comments; tables of another schema than main are named
 * <schema>_<table>. ENUM columns become VARCHAR (DuckLake has no ENUM).
 * One snapshot; an existing table of that name is an error.
 */
int load_duckdb(struct session *s, const char *path, const char *schema, load_note_fn *note,
		void *note_arg, struct load_report *rep, struct tn_err *err);

void load_report_release(struct load_report *r);

#endif
