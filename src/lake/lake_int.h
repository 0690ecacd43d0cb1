/*
 * lake_int.h: internals shared by the files of the lake module (lake.c,
 * meta.c, scan.c, write.c, ddl.c, session.c, timetravel.c, fsck.c,
 * introspect.c). Not for use outside src/lake/.
 */
#ifndef LAKE_INT_H
#define LAKE_INT_H

#include <pthread.h>
#include <stdint.h>
#include "base/tn_err.h"
#include "base/tn_buf.h"
#include "catalog/catalog.h"
#include "engine/duck.h"
#include "lake/lake.h"

#define LAKE_FORMAT_VERSION "1.0"
#define LAKE_DEFAULT_SCHEMA "main"

struct store;

struct lake {
	char *dir;          /* absolute lake folder */
	char *catalog_path; /* <dir>/catalog.sqlite */
	char *data_path;    /* absolute path or s3:// URL, ends with '/' */
	struct store *store;/* where the data files live */
	int remote;         /* the store is not the local file system */
	char *tmp_dir;      /* <dir>/.tmp/: files being written for a remote store */
	/* The catalog connection lake_open used, for the first session to
	 * take (lake_take_catalog): a PostgreSQL connection costs milliseconds. */
	struct catalog *spare_cat;
	double spare_at;    /* when it was opened (tn_mono) */
	int64_t inline_limit; /* data_inlining_row_limit read then, -1 = not set */
	/* A DuckDB instance opened on a thread of its own while lake_open talks
	 * to the catalog, for the first session (lake_take_duck). */
	pthread_t duck_thread;
	int duck_state;     /* 0 none, 1 opening or ready, 2 taken */
	struct duck *spare_duck;
	int duck_rc;
	struct tn_err duck_err;
};

/* The DuckDB instance opened by lake_open (joined here), or NULL when it
 * failed or another session took it. Safe to call from several threads. */
struct duck *lake_take_duck(struct lake *lk);

/* The lake's spare catalog connection if it is fresh (else NULL); owned by
 * the caller from then on. *inline_limit: the data_inlining_row_limit
 * lake_open read on it (-1 when the lake sets none). Safe to call from
 * several threads. */
struct catalog *lake_take_catalog(struct lake *lk, int64_t *inline_limit);

/* A column of a table at one snapshot (a tree for nested types). */
struct lk_column {
	int64_t id;
	int64_t order;
	int64_t parent;     /* 0 = top level */
	char *name;
	char *type;         /* DuckLake type string */
	char *initial_default;
	char *default_value;
	int nulls_allowed;
	int64_t begin_snapshot;
	size_t nchild;
	struct lk_column *child;
};

struct lk_file {
	int64_t id;
	int64_t begin_snapshot;
	int64_t record_count;
	int64_t size;
	int64_t row_id_start;
	char *path;          /* absolute path or URL */
	char *local;         /* a local copy DuckDB can read (files_fetch) */
	int64_t del_id;      /* 0 = no delete file */
	char *del_path;      /* absolute path or URL, NULL if none */
	char *del_local;
	int64_t del_size;
	int64_t del_count;
	int64_t del_begin;
};

/* One version of a top-level column (for the layout of old files). */
struct lk_colver {
	int64_t id, begin, end;    /* end = INT64_MAX while live */
	char *name;
	char *type;
};

/* Rows of a table kept in the catalog (DuckLake data inlining): one
 * ducklake_inlined_data_<table>_<schema version> table per layout. */
struct lk_inlined {
	char *name;          /* catalog table holding the rows */
	int64_t layout_snap; /* snapshot whose columns the rows have */
	size_t ncols;
	char **colnames;     /* its user columns */
	size_t nrows;        /* rows live at the table's snapshot */
	int64_t *row_ids;
	char **values;       /* nrows * ncols texts; NULL = SQL NULL */
};

/* Inserts of at most this many rows go to the catalog unless the lake
 * says otherwise (ducklake_metadata data_inlining_row_limit). */
#define LAKE_INLINE_DEFAULT 10
/* Inlined rows of a table are written to a Parquet file past this many. */
#define LAKE_INLINE_FLUSH 1000

struct lk_table {
	int64_t id;
	int64_t schema_id;
	int64_t begin_snapshot;
	char *schema;
	char *name;
	char *dir;           /* absolute table folder, ends with '/' */
	char *rel_path;      /* table path as stored */
	size_t ncols;
	struct lk_column *cols;  /* top level, by column_order */
	size_t nfiles;
	struct lk_file *files;   /* filled by meta_load_files */
	size_t nvers;
	struct lk_colver *vers;  /* all top-level column versions, by meta_load_files */
	size_t ninl;
	struct lk_inlined *inl;  /* inlined rows, by meta_load_files */
	int64_t snapshot;        /* the snapshot this was read at */
};

/* The latest snapshot row. */
struct lk_snap {
	int64_t id;
	int64_t schema_version;
	int64_t next_catalog_id;
	int64_t next_file_id;
};

/* ---- lake.c ---- */
int lake_create_catalog(struct catalog *cat, const char *data_path, int64_t inline_limit,
			struct tn_err *err);
/* The CREATE TABLE / CREATE INDEX statements of the DuckLake catalog
 * tables, in the dialect both backends accept (backup copies use it). */
const char *lake_catalog_ddl(void);
int lake_catalog_indexes(struct catalog *cat, struct tn_err *err);
/* Folder (relative to the data path, ends with '/') of a new schema: its
 * name when plain, else its uuid; in a bucket, stage/ and marts/<name>/.
 * Owned by the caller. */
char *lake_schema_path(const char *data_path, const char *name, const char *uuid);
/* "2026-11-22 07:00:00.123456+00" for a time in microseconds. */
void lake_format_time(int64_t us, char out[40]);

/* ---- meta.c: reading the catalog at a snapshot ---- */
int meta_latest(struct catalog *cat, struct lk_snap *snap, struct tn_err *err);
int meta_snapshot_exists(struct catalog *cat, int64_t id, int *exists, struct tn_err *err);
/* Schema `name` at snapshot n: its id and folder (*dir owned; NULL and 0
 * when there is no such schema). */
int meta_schema_dir(struct lake *lk, struct catalog *cat, const char *name, int64_t n, int64_t *id, char **dir,
		    struct tn_err *err);
/* Schema id of `name` at snapshot n (0 when missing, *found says). */
int meta_schema_id(struct catalog *cat, const char *name, int64_t n, int64_t *id, int *found,
		   struct tn_err *err);
/* Load table `schema.name` at snapshot n with its columns (not files).
 * TN_ENOTFOUND when there is none; *out owned, free with meta_table_free. */
int meta_table(struct lake *lk, struct catalog *cat, const char *schema, const char *name,
	       int64_t n, struct lk_table **out, struct tn_err *err);
int meta_table_by_id(struct lake *lk, struct catalog *cat, int64_t table_id, int64_t n,
		     struct lk_table **out, struct tn_err *err);
int meta_load_files(struct lake *lk, struct catalog *cat, struct lk_table *t, struct tn_err *err);
/* Every table at snapshot n with its columns (not files), in two catalog
 * queries; *out is an owned array of *nout tables (meta_table_free each). */
int meta_tables_at(struct lake *lk, struct catalog *cat, int64_t n, struct lk_table ***out, size_t *nout,
		   struct tn_err *err);
/* Values lo..hi (inclusive) of top-level integer column `column_id`. */
struct meta_bound {
	int64_t column_id, lo, hi;
};
/* meta_load_files, but only the files whose statistics allow a value in
 * the bound (b may be NULL: all of them); ordered by id all the same.
 * *applied (may be NULL) = 1 when the bound was applied, so the files
 * left all allow a value in it. */
int meta_load_files_bounded(struct lake *lk, struct catalog *cat, struct lk_table *t,
			    const struct meta_bound *b, int *applied, struct tn_err *err);
/* Columns of table_id valid at snapshot n (top level with children). */
int meta_columns(struct catalog *cat, int64_t table_id, int64_t n, struct lk_column **cols,
		 size_t *ncols, struct tn_err *err);
void meta_columns_free(struct lk_column *cols, size_t n);
void meta_table_free(struct lk_table *t);
/* View id/sql of `schema.name` at n; *found = 0 when there is none. */
int meta_view(struct catalog *cat, const char *schema, const char *name, int64_t n,
	      int64_t *id, char **sql, int *found, struct tn_err *err);
/* Top-level column of t by name (case-insensitive), or NULL. */
struct lk_column *meta_find_column(struct lk_table *t, const char *name);
/* DuckDB SQL type for a column tree ("INTEGER", "STRUCT(\"a\" INTEGER)", ...). */
char *meta_duck_type(const struct lk_column *c);
/* Resolve a stored path against its parent folder. */
char *meta_resolve(const char *parent, const char *path, int relative);

/* ---- files.c: the lake's files on its store ---- */

/* A file being written: DuckDB writes `local`; `path` is where it lives. */
struct lk_out {
	char *path;   /* absolute path or URL in the lake */
	char *local;  /* where DuckDB writes it (== path for a local store) */
};
/* Prepare writing file `name` into folder `dir` (a resolved table folder). */
int files_out_begin(struct lake *lk, const char *dir, const char *name, struct lk_out *o,
		    struct tn_err *err);
/* Make the written file durable where it lives: fsync (local) or upload and
 * verify its size (remote). *size and *footer from the local bytes. */
int files_out_seal(struct lake *lk, struct lk_out *o, int64_t *size, int64_t *footer,
		   struct tn_err *err);
/* Forget the local temp copy (remote) and free the names. */
void files_out_release(struct lake *lk, struct lk_out *o);
/* Remove a file of the lake (missing is fine). */
int files_remove(struct lake *lk, const char *path, struct tn_err *err);
/* Fill local/del_local of every file of t (downloads into the cache). */
int files_fetch(struct lake *lk, struct lk_table *t, struct tn_err *err);
/* Key of a lake path in the store (borrowed, points into path), or NULL. */
const char *files_key(struct lake *lk, const char *path);

/* ---- scan.c: SQL that reads a table at a snapshot ---- */
/* A SELECT returning the table's columns. With `positions`, also
 * __tarn_fid (data_file_id) and __tarn_pos (row position in the file). */
int scan_sql(struct lk_table *t, int positions, struct tn_buf *out, struct tn_err *err);
/* Only the inlined rows of t (empty result when there are none). */
int scan_inlined_sql(struct lk_table *t, struct tn_buf *out, struct tn_err *err);
/* Live inlined rows of t. */
int64_t scan_inlined_rows(const struct lk_table *t);
/* SQLite column type for an inlined column of DuckLake type `lake`. */
const char *meta_inline_type(const char *lake);

#endif
