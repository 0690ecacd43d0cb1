/*
 * share_int.h: internals shared by the files of src/share (export.c,
 * pins.c, discover.c): what a table looks like to a consumer (names,
 * types, comments), copying a table's rows to a file with DuckDB's COPY,
 * and small query helpers. Every statement goes through session_exec, so
 * the share layer sees the lake exactly as `tarn sql` does.
 * Not for use outside src/share/.
 */
#ifndef SHARE_INT_H
#define SHARE_INT_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_buf.h"
#include "base/tn_err.h"
#include "lake/session.h"

struct share_column {
	char *name, *type, *comment;   /* comment may be NULL */
};

struct share_table {
	char *schema, *name;
	char *comment;                 /* may be NULL */
	int64_t id;                    /* table_id in the current snapshot */
	struct share_column *cols;
	size_t ncols;
};

/* The table schema.name of the session's snapshot with its columns and
 * comments; names match case-insensitively, exact case first. TN_ENOTFOUND
 * (naming `tarn tables`) when there is no such table. Release with
 * share_table_release. */
int share_table_load(struct session *s, const char *schema, const char *name,
		     struct share_table *t, struct tn_err *err);
void share_table_release(struct share_table *t);

/* Names of the tables (not views) of `schema`, sorted; TN_ENOTFOUND when
 * the schema has none. Release with share_names_free. */
int share_schema_tables(struct session *s, const char *schema, char ***names, size_t *n,
			struct tn_err *err);
void share_names_free(char **names, size_t n);

/* 1 for the file formats share_copy writes: "parquet", "csv", "json". */
int share_format_ok(const char *format);

/*
 * Write the rows of `t` (at snapshot `at`, or the session's when at < 0) to
 * the local file `path` in `format`, with `COPY (SELECT … AT (VERSION =>
 * at)) TO`, which the session's time travel rewrites. Parquet files carry the table name,
 * `snapshot` and the comments as key-value metadata (tarn.table,
 * tarn.snapshot, tarn.table_comment, tarn.column_comment.<column>).
 * *rows = rows written.
 */
int share_copy(struct session *s, const struct share_table *t, int64_t at, int64_t snapshot,
	       const char *format, const char *path, int64_t *rows, struct tn_err *err);

/* Replace the columns of `t` by those it had at snapshot `at` (names and
 * types through the session's time travel); a column keeps the comment of
 * the current column of the same name. */
int share_table_columns_at(struct session *s, struct share_table *t, int64_t at, struct tn_err *err);

/* *yes = 1 when table `t` existed at snapshot `at`. */
int share_table_at(struct session *s, const struct share_table *t, int64_t at, int *yes,
		   struct tn_err *err);

/* The newest snapshot the session reads; with `at` >= 0, checks that
 * snapshot `at` exists instead (TN_ENOTFOUND, naming `tarn snapshots`). */
int share_snapshot(struct session *s, int64_t at, int64_t *snap, struct tn_err *err);

/* Run a query that returns one integer. */
int share_query_int(struct session *s, const char *sql, int64_t *out, struct tn_err *err);

/* Append "schema"."name" (quoted identifiers) to b. */
void share_add_table_ref(struct tn_buf *b, const char *schema, const char *name);

/* ---- JSON manifests (share_json.c) ---- */

struct outdir;
struct lake;

/* The exports of lake `lk` (export_ls.c): <lake>/exports/, or the prefix
 * exports/ of the lake's bucket (stages and locks then in <lake>/exports/).
 * A local folder that does not exist is TN_ENOTFOUND unless `create`. */
int share_open_exports(struct lake *lk, int create, struct outdir **od, struct tn_err *err);

typedef struct json_t json_t;

/* Read the JSON object stored as `key`; *out = NULL (and 0) when there is
 * no such file; TN_EINVAL naming the file when it is not a JSON object. */
int share_json_load(struct outdir *od, const char *key, json_t **out, struct tn_err *err);
/* Store `v` as `key` (indented, atomically). */
int share_json_save(struct outdir *od, const char *key, const json_t *v, struct tn_err *err);
/* A JSON string, or null for NULL (and for text that is not UTF-8). */
json_t *share_json_str(const char *s);
/* Field `name` of object `o` as a string (borrowed) or an integer (-1). */
const char *share_json_get_str(const json_t *o, const char *name);
int64_t share_json_get_int(const json_t *o, const char *name);

/* UTC time `us` (microseconds since the epoch) as "2024-05-01T12:30:45.123Z". */
void share_iso_time(int64_t us, char out[64]);

#endif
