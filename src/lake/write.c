/*
 * write: INSERT, DELETE and UPDATE on lake tables. Data files are written
 * by DuckDB (COPY ... TO ... (FORMAT parquet, FIELD_IDS ...)) under fresh
 * UUIDv7 names, fsynced, and only then registered in the catalog
 * transaction; deletes are positional delete files (file_path, pos), one
 * live per data file, cumulative; an UPDATE is a delete plus an insert in
 * the same snapshot.
 */
#include "base/compat.h"
#include "lake/session_int.h"
#include "base/tn_mem.h"
#include "base/tn_fs.h"
#include "base/tn_util.h"

#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

/* ---- field ids and statistics ---- */

/* "'a': 1, 's': {__duckdb_field_id: 2, 'x': 3}" for DuckDB's FIELD_IDS. */
static void field_entries(const struct lk_column *cols, size_t n, struct tn_buf *b)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			tn_buf_adds(b, ", ");
		tn_buf_add_sqlstr(b, cols[i].name);
		if (cols[i].nchild) {
			tn_buf_addf(b, ": {__duckdb_field_id: %lld, ", (long long)cols[i].id);
			field_entries(cols[i].child, cols[i].nchild, b);
			tn_buf_addc(b, '}');
		} else {
			tn_buf_addf(b, ": %lld", (long long)cols[i].id);
		}
	}
}

struct leaf {
	const struct lk_column *col;
	int top;                 /* a top-level column */
};

static void collect_leaves(const struct lk_column *cols, size_t n, int top, struct leaf **out,
			   size_t *nout, size_t *alloc)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (cols[i].nchild) {
			collect_leaves(cols[i].child, cols[i].nchild, 0, out, nout, alloc);
			continue;
		}
		TN_GROW(*out, *alloc, *nout + 1);
		(*out)[*nout].col = &cols[i];
		(*out)[*nout].top = top;
		(*nout)++;
	}
}

/* Types whose Parquet min/max DuckLake does not record (or we cannot
 * render as DuckLake expects). */
static int stats_type(const char *t)
{
	static const char *none[] = { "int128", "uint128", "timetz", "interval", "blob", "uuid",
				      "json", "variant", "geometry" };
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(none); i++)
		if (!strcmp(t, none[i]))
			return 0;
	return 1;
}

/* ducklake_table_column_stats: bounds over every file the table ever had
 * (DuckLake keeps them as "current" stats, widened on insert only). Numbers
 * compare as numbers; dates, timestamps and strings compare as ISO text. */
static int merge_table_stats(struct session *s, int64_t table_id, const struct lk_column *c,
			     int has_null, const char *mn, const char *mx, struct tn_err *err)
{
	static const char *sql_num =
		"UPDATE ducklake_table_column_stats SET contains_null = (contains_null OR ?3), "
		"min_value = CASE WHEN min_value IS NULL OR CAST(CAST(?4 AS VARCHAR) AS DOUBLE PRECISION) < CAST(min_value AS DOUBLE PRECISION) THEN coalesce(?4, min_value) ELSE min_value END, "
		"max_value = CASE WHEN max_value IS NULL OR CAST(CAST(?5 AS VARCHAR) AS DOUBLE PRECISION) > CAST(max_value AS DOUBLE PRECISION) THEN coalesce(?5, max_value) ELSE max_value END "
		"WHERE table_id = ?1 AND column_id = ?2";
	static const char *sql_text =
		"UPDATE ducklake_table_column_stats SET contains_null = (contains_null OR ?3), "
		"min_value = CASE WHEN min_value IS NULL OR ?4 < min_value THEN coalesce(?4, min_value) ELSE min_value END, "
		"max_value = CASE WHEN max_value IS NULL OR ?5 > max_value THEN coalesce(?5, max_value) ELSE max_value END "
		"WHERE table_id = ?1 AND column_id = ?2";
	int numeric = !strncmp(c->type, "int", 3) || !strncmp(c->type, "uint", 4) || !strncmp(c->type, "float", 5) ||
		      !strncmp(c->type, "decimal", 7);
	struct catalog_stmt *st;
	int64_t n = 0;
	int found, rc = catalog_get_int(s->cat, "SELECT count(*) FROM ducklake_table_column_stats WHERE table_id = ? "
				       "AND column_id = ?", &n, &found, err, 2, table_id, c->id);

	if (rc)
		return rc;
	rc = catalog_prepare(s->cat, n ? (numeric ? sql_num : sql_text) :
			     "INSERT INTO ducklake_table_column_stats VALUES (?1, ?2, ?3, NULL, ?4, ?5, NULL)", &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, table_id);
	catalog_bind_int(st, 2, c->id);
	catalog_bind_bool(st, 3, has_null);
	catalog_bind_text(st, 4, mn);
	catalog_bind_text(st, 5, mx);
	rc = catalog_step(st, err);
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

/* The expression rendering min or max ("min", "stats_min_value") of leaf
 * columns of this kind as DuckLake wants it: the value in the column's
 * type, as DuckDB prints it (booleans as 0/1); NULL when none is kept. */
static char *stat_expr(const struct lk_column *c, const char *agg, const char *field)
{
	char *dt, *e;

	if (!stats_type(c->type))
		return tn_strdup("NULL");
	if (!strcmp(c->type, "boolean"))
		return tn_xprintf("CAST(CAST(%s(TRY_CAST(%s AS BOOLEAN)) AS INT) AS VARCHAR)", agg, field);
	dt = meta_duck_type(c);
	e = tn_xprintf("CAST(%s(TRY_CAST(%s AS %s)) AS VARCHAR)", agg, field, dt);
	tn_free(dt);
	return e;
}

/* One pass over the footer (parquet_metadata), grouped by leaf: min and
 * max of every row group in the leaf's own type, chosen by a CASE over
 * the leaves of each type, so the query has an aggregate per type, not a
 * branch per column (a third of the time of a UNION per column). */
static void stats_query(const struct leaf *leaves, size_t n, const char *path, struct tn_buf *q)
{
	static const char *const agg[2] = { "min", "max" }, *const field[2] = { "stats_min_value", "stats_max_value" };
	char **e = tn_calloc(n ? n : 1, sizeof(char *));
	size_t i, j;
	int m;

	tn_buf_adds(q, "SELECT column_id");
	for (m = 0; m < 2; m++) {
		for (i = 0; i < n; i++)
			e[i] = stat_expr(leaves[i].col, agg[m], field[m]);
		tn_buf_adds(q, ", CASE");
		for (i = 0; i < n; i++) {
			if (!e[i])
				continue;   /* its kind is in an earlier WHEN */
			tn_buf_addf(q, " WHEN column_id IN (%zu", i);
			for (j = i + 1; j < n; j++)
				if (e[j] && !strcmp(e[j], e[i])) {
					tn_buf_addf(q, ", %zu", j);
					tn_free(e[j]);
					e[j] = NULL;
				}
			tn_buf_addf(q, ") THEN %s", e[i]);
			tn_free(e[i]);
			e[i] = NULL;
		}
		tn_buf_adds(q, " END");
	}
	tn_free(e);
	tn_buf_adds(q, ", sum(stats_null_count), sum(num_values), sum(total_compressed_size) FROM parquet_metadata(");
	tn_buf_add_sqlstr(q, path);
	tn_buf_adds(q, ") GROUP BY column_id");
}

/* Read the footer statistics of a written file and record them. */
static int record_stats(struct session *s, struct lk_table *t, int64_t file_id, const char *path,
			struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct leaf *leaves = NULL;
	struct duck_result *r = NULL;
	struct catalog_stmt *st = NULL;
	size_t nleaves = 0, alloc = 0;
	uint64_t row;
	int rc;

	collect_leaves(t->cols, t->ncols, 1, &leaves, &nleaves, &alloc);
	stats_query(leaves, nleaves, path, &q);
	rc = nleaves ? duck_query(s->duck, q.buf, &r, err) : 0;
	if (!rc && r)
		rc = catalog_prepare(s->cat, "INSERT INTO ducklake_file_column_stats VALUES "
					     "(?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)", &st, err);
	for (row = 0; !rc && r && row < duck_result_nrows(r); row++) {
		size_t li = (size_t)duck_result_int(r, 0, row);
		const struct lk_column *c = leaves[li].col;
		char *mn = duck_result_text(r, 1, row), *mx = duck_result_text(r, 2, row);
		int64_t nulls = duck_result_int(r, 3, row);

		if (nulls > 0 && !c->nulls_allowed && leaves[li].top)
			rc = tn_err_set(err, TN_EINVAL, "NOT NULL constraint failed: %s.%s", t->name, c->name);
		if (!rc) {
			catalog_reset(st);
			catalog_bind_int(st, 1, file_id);
			catalog_bind_int(st, 2, t->id);
			catalog_bind_int(st, 3, c->id);
			catalog_bind_int(st, 4, duck_result_int(r, 5, row));
			catalog_bind_int(st, 5, duck_result_int(r, 4, row));
			catalog_bind_int(st, 6, nulls);
			catalog_bind_text(st, 7, mn);
			catalog_bind_text(st, 8, mx);
			rc = catalog_step(st, err);
			rc = rc < 0 ? rc : 0;
		}
		if (!rc && leaves[li].top)
			rc = merge_table_stats(s, t->id, c, nulls > 0, mn, mx, err);
		tn_free(mn);
		tn_free(mx);
	}
	catalog_finalize(st);
	duck_result_free(r);
	tn_free(leaves);
	tn_buf_release(&q);
	return rc;
}

/* Make a written file durable where it lives (fsync, or upload + verify);
 * tracked first, so a failed transaction removes it. */
static int seal_file(struct session *s, struct lk_out *o, int64_t *size, int64_t *footer,
		     struct tn_err *err)
{
	int rc;

	sess_track_file(s, o->path);
	sess_crashpoint("after_data_write");
	rc = files_out_seal(s->lk, o, size, footer, err);
	sess_crashpoint("after_data_sync");
	return rc;
}

static int next_row_id(struct session *s, int64_t table_id, int64_t *out, struct tn_err *err)
{
	int found;
	return catalog_get_int(s->cat, "SELECT next_row_id FROM ducklake_table_stats WHERE table_id = ?",
			       out, &found, err, 1, table_id);
}

static int bump_table_stats(struct session *s, int64_t table_id, int64_t rows, int64_t size,
			    struct tn_err *err)
{
	int64_t v;
	int found, rc;

	rc = catalog_get_int(s->cat, "SELECT count(*) FROM ducklake_table_stats WHERE table_id = ?", &v,
			     &found, err, 1, table_id);
	if (rc)
		return rc;
	if (v == 0)
		return catalog_run(s->cat, "INSERT INTO ducklake_table_stats VALUES (?, ?, ?, ?)", err, 4,
				   table_id, rows, rows, size);
	return catalog_run(s->cat, "UPDATE ducklake_table_stats SET record_count = record_count + ?, "
			   "next_row_id = next_row_id + ?, file_size_bytes = file_size_bytes + ? "
			   "WHERE table_id = ?", err, 4, rows, rows, size, table_id);
}

static int register_data_file(struct session *s, struct lk_table *t, const char *rel, int64_t rows,
			      int64_t size, int64_t footer, int64_t *file_id, struct tn_err *err)
{
	struct catalog_stmt *st;
	int64_t row_start = 0;
	int rc;

	*file_id = s->next_file_id++;
	rc = next_row_id(s, t->id, &row_start, err);
	if (!rc)
		rc = catalog_prepare(s->cat, "INSERT INTO ducklake_data_file VALUES (?, ?, ?, NULL, NULL, ?, true, "
					     "'parquet', ?, ?, ?, ?, NULL, NULL, NULL, NULL)", &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, *file_id);
	catalog_bind_int(st, 2, t->id);
	catalog_bind_int(st, 3, s->new_snap);
	catalog_bind_text(st, 4, rel);
	catalog_bind_int(st, 5, rows);
	catalog_bind_int(st, 6, size);
	catalog_bind_int(st, 7, footer);
	catalog_bind_int(st, 8, row_start);
	rc = catalog_step(st, err);
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

void write_field_ids(const struct lk_table *t, struct tn_buf *b)
{
	field_entries(t->cols, t->ncols, b);
}

/* DuckDB writes HUGEINT and UHUGEINT to Parquet as DOUBLE, losing digits
 * (duckdb/ducklake#1186): such top-level columns are stored as
 * DECIMAL(38,0), exact, and a value of 39 digits fails the write rather
 * than be kept wrong. Adds "name" to the REPLACE list `b` ("" at first). */
void write_wide_int(struct tn_buf *b, const char *lake_type, const char *name)
{
	if (!lake_type || (strcmp(lake_type, "int128") && strcmp(lake_type, "uint128")))
		return;
	tn_buf_adds(b, b->len ? ", CAST(" : "CAST(");
	tn_buf_add_sqlid(b, name);
	tn_buf_adds(b, " AS DECIMAL(38,0)) AS ");
	tn_buf_add_sqlid(b, name);
}

int write_stage(struct session *s, const char *dir, const char *field_ids, const char *replace,
		const char *select_sql, struct write_staged *w, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char uuid[37], *count = NULL;
	int rc;

	memset(w, 0, sizeof(*w));
	tn_uuid7(uuid);
	w->rel = tn_xprintf("ducklake-%s.parquet", uuid);
	rc = files_out_begin(s->lk, dir, w->rel, &w->o, err);
	if (replace && *replace)
		tn_buf_addf(&q, "COPY (SELECT * REPLACE (%s) FROM (%s) AS __tarn_w) TO ", replace, select_sql);
	else
		tn_buf_addf(&q, "COPY (%s) TO ", select_sql);
	tn_buf_add_sqlstr(&q, w->o.local ? w->o.local : "");
	tn_buf_addf(&q, " (FORMAT parquet, FIELD_IDS {%s})", field_ids);
	if (!rc)
		rc = duck_query_text(s->duck, q.buf, &count, err);
	if (rc && replace && *replace && strstr(err->msg, "to DECIMAL(38,0)"))
		tn_err_prefix(err, "a HUGEINT or UHUGEINT value has more than 38 digits, which a data file cannot "
			      "hold exactly (cast the column to VARCHAR or DOUBLE to keep it)");
	if (!rc)
		rc = tn_parse_int64(count ? count : "0", &w->rows, "row count", err);
	if (rc)
		write_staged_discard(s, w);
	tn_free(count);
	tn_buf_release(&q);
	return rc;
}

void write_staged_discard(struct session *s, struct write_staged *w)
{
	struct tn_err ignore = TN_ERR_INIT;

	if (w->o.local)
		tn_fs_remove(w->o.local, &ignore);
	files_out_release(s->lk, &w->o);
	tn_free(w->rel);
	memset(w, 0, sizeof(*w));
}

int write_register(struct session *s, struct lk_table *t, struct write_staged *w, int64_t *rows,
		   struct tn_err *err)
{
	int64_t size = 0, footer = 0, file_id = 0;
	int rc = 0;

	*rows = w->rows;
	if (w->rows == 0) {
		write_staged_discard(s, w);   /* no rows, no file */
		return 0;
	}
	/* Statistics come from the local bytes, before a remote copy is made. */
	rc = register_data_file(s, t, w->rel, w->rows, 0, 0, &file_id, err);
	if (!rc)
		rc = record_stats(s, t, file_id, w->o.local, err);
	if (!rc)
		rc = seal_file(s, &w->o, &size, &footer, err);
	else
		sess_track_file(s, w->o.path);   /* removed with the failed statement */
	if (!rc)
		rc = catalog_run(s->cat, "UPDATE ducklake_data_file SET file_size_bytes = ?, footer_size = ? "
				 "WHERE data_file_id = ?", err, 3, size, footer, file_id);
	if (!rc)
		rc = bump_table_stats(s, t->id, w->rows, size, err);
	if (!rc)
		sess_change(s, "inserted_into_table:%lld", (long long)t->id);
	files_out_release(s->lk, &w->o);
	tn_free(w->rel);
	memset(w, 0, sizeof(*w));
	return rc;
}

int write_rows(struct session *s, struct lk_table *t, const char *select_sql, int64_t *rows,
	       struct tn_err *err)
{
	struct tn_buf f = TN_BUF_INIT(TN_BUF_NOMAX), r = TN_BUF_INIT(TN_BUF_NOMAX);
	struct write_staged w;
	size_t i;
	int rc;

	*rows = 0;
	write_field_ids(t, &f);
	for (i = 0; i < t->ncols; i++)
		write_wide_int(&r, t->cols[i].type, t->cols[i].name);
	rc = write_stage(s, t->dir, f.buf ? f.buf : "", r.buf, select_sql, &w, err);
	tn_buf_release(&r);
	if (!rc)
		rc = write_register(s, t, &w, rows, err);
	tn_buf_release(&f);
	return rc;
}

/* ---- data inlining ---- */

/* The layout (schema) version of t that new rows are written under. */
static int layout_version(struct session *s, struct lk_table *t, int64_t *sv, struct tn_err *err)
{
	int found, rc = catalog_get_int(s->cat, "SELECT max(schema_version) FROM ducklake_schema_versions "
				       "WHERE table_id = ? AND begin_snapshot <= ?", sv, &found, err, 2,
				       t->id, s->new_snap);
	if (!rc && !found)
		*sv = s->base.schema_version;
	return rc;
}

/* Create (once) the catalog table that holds inlined rows of this layout. */
static int inlined_table(struct session *s, struct lk_table *t, char **name, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int64_t sv = 0;
	size_t i;
	int rc = layout_version(s, t, &sv, err);

	*name = tn_xprintf("ducklake_inlined_data_%lld_%lld", (long long)t->id, (long long)sv);
	for (i = 0; !rc && i < s->ninl_known; i++)
		if (!strcmp(s->inl_known[i], *name))
			return 0;
	tn_buf_adds(&q, "CREATE TABLE IF NOT EXISTS ");
	tn_buf_add_sqlid(&q, *name);
	tn_buf_adds(&q, " (row_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT");
	for (i = 0; i < t->ncols; i++) {
		tn_buf_adds(&q, ", ");
		tn_buf_add_sqlid(&q, t->cols[i].name);
		tn_buf_addf(&q, " %s", meta_inline_type(t->cols[i].type));
	}
	tn_buf_addc(&q, ')');
	if (!rc)
		rc = catalog_exec(s->cat, q.buf, err);
	if (!rc) {
		struct catalog_stmt *st;
		rc = catalog_prepare(s->cat, "INSERT INTO ducklake_inlined_data_tables SELECT ?1, CAST(?2 AS VARCHAR), ?3 WHERE NOT "
					     "EXISTS (SELECT 1 FROM ducklake_inlined_data_tables WHERE table_name = ?2)",
				     &st, err);
		if (!rc) {
			catalog_bind_int(st, 1, t->id);
			catalog_bind_text(st, 2, *name);
			catalog_bind_int(st, 3, sv);
			rc = catalog_step(st, err);
			rc = rc < 0 ? rc : 0;
			catalog_finalize(st);
		}
	}
	if (!rc) {
		TN_GROW(s->inl_known, s->ainl_known, s->ninl_known + 1);
		s->inl_known[s->ninl_known++] = tn_strdup(*name);
	}
	tn_buf_release(&q);
	return rc;
}

/* Columns as text, booleans as 0/1 (DuckLake's encoding): by position
 * (__tarn_cN) or, with `by_name`, by the table's column names. */
static void text_list(struct lk_table *t, int by_name, struct tn_buf *q)
{
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		int b = !strcmp(t->cols[i].type, "boolean");
		tn_buf_adds(q, i ? ", CAST(" : "CAST(");
		if (b)
			tn_buf_adds(q, "CAST(");
		if (by_name)
			tn_buf_add_sqlid(q, t->cols[i].name);
		else
			tn_buf_addf(q, "__tarn_c%zu", i);
		tn_buf_adds(q, b ? " AS INTEGER) AS VARCHAR)" : " AS VARCHAR)");
	}
}

/* The rows of `select_sql` as text. */
static int rows_as_text(struct session *s, struct lk_table *t, const char *select_sql,
			struct duck_result **r, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;
	int rc;

	tn_buf_adds(&q, "SELECT ");
	text_list(t, 0, &q);
	tn_buf_addf(&q, " FROM (%s) AS __tarn_src(", select_sql);
	for (i = 0; i < t->ncols; i++)
		tn_buf_addf(&q, "%s__tarn_c%zu", i ? ", " : "", i);
	tn_buf_addc(&q, ')');
	rc = duck_query(s->duck, q.buf, r, err);
	tn_buf_release(&q);
	return rc;
}

static int check_not_null(struct lk_table *t, struct duck_result *r, struct tn_err *err)
{
	uint64_t row;
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		if (t->cols[i].nulls_allowed)
			continue;
		for (row = 0; row < duck_result_nrows(r); row++)
			if (duck_result_is_null(r, i, row))
				return tn_err_set(err, TN_EINVAL, "NOT NULL constraint failed: %s.%s", t->name,
						  t->cols[i].name);
	}
	return 0;
}

static int flush_inlined(struct session *s, struct lk_table *t, struct tn_err *err);

/* Store rows (t's columns in order, as text) in the catalog. */
static int inline_result(struct session *s, struct lk_table *t, struct duck_result *r, int64_t *rows,
			 struct tn_err *err)
{
	struct catalog_stmt *st = NULL;
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char *name = NULL;
	int64_t rid = 0, live = 0;
	uint64_t row;
	size_t i;
	int found, rc = check_not_null(t, r, err);

	*rows = 0;
	if (!rc && duck_result_nrows(r) == 0)
		goto out;
	if (!rc)
		rc = inlined_table(s, t, &name, err);
	if (!rc)
		rc = next_row_id(s, t->id, &rid, err);
	tn_buf_adds(&q, "INSERT INTO ");
	tn_buf_add_sqlid(&q, name ? name : "");
	tn_buf_addf(&q, " VALUES (?, %lld, NULL", (long long)s->new_snap);
	for (i = 0; i < t->ncols; i++)
		tn_buf_adds(&q, ", ?");
	tn_buf_addc(&q, ')');
	if (!rc)
		rc = catalog_prepare(s->cat, q.buf, &st, err);
	for (row = 0; !rc && row < duck_result_nrows(r); row++) {
		catalog_reset(st);
		catalog_bind_int(st, 1, rid + (int64_t)row);
		for (i = 0; i < t->ncols; i++) {
			char *v = duck_result_text(r, i, row);
			catalog_bind_text(st, (int)i + 2, v);
			tn_free(v);
		}
		rc = catalog_step(st, err);
		rc = rc < 0 ? rc : 0;
	}
	catalog_finalize(st);
	*rows = (int64_t)duck_result_nrows(r);
	if (!rc)
		rc = bump_table_stats(s, t->id, *rows, 0, err);
	if (!rc) {
		sess_change(s, "inlined_insert:%lld", (long long)t->id);
		/* As DuckLake does: a data change always moves next_file_id, so
		 * readers can tell from the snapshot row alone that data changed. */
		if (s->next_file_id == s->base.next_file_id)
			s->next_file_id++;
	}
	/* Many small commits would make every read rebuild a long VALUES list;
	 * past a bound the rows move to a Parquet file. */
	if (!rc) {
		tn_buf_reset(&q);
		tn_buf_adds(&q, "SELECT count(*) FROM ");
		tn_buf_add_sqlid(&q, name);
		tn_buf_adds(&q, " WHERE end_snapshot IS NULL");
		rc = catalog_get_int(s->cat, q.buf, &live, &found, err, 0);
	}
	if (!rc && live > LAKE_INLINE_FLUSH)
		rc = flush_inlined(s, t, err);
out:
	tn_free(name);
	tn_buf_release(&q);
	return rc;
}

static int inline_rows(struct session *s, struct lk_table *t, const char *select_sql, int64_t *rows,
		       struct tn_err *err)
{
	struct duck_result *r = NULL;
	int rc = rows_as_text(s, t, select_sql, &r, err);

	*rows = 0;
	if (!rc)
		rc = inline_result(s, t, r, rows, err);
	duck_result_free(r);
	return rc;
}

/* Write all live inlined rows of t to one Parquet file and end them. */
static int flush_inlined(struct session *s, struct lk_table *t, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct lk_table *now = NULL;
	int64_t rows;
	size_t k;
	int rc = meta_table_by_id(s->lk, s->cat, t->id, s->new_snap, &now, err);

	if (!rc)
		rc = meta_load_files(s->lk, s->cat, now, err);
	if (!rc)
		rc = scan_inlined_sql(now, &q, err);
	if (!rc)
		rc = write_rows(s, now, q.buf, &rows, err);
	for (k = 0; !rc && now && k < now->ninl; k++) {
		tn_buf_reset(&q);
		tn_buf_adds(&q, "UPDATE ");
		tn_buf_add_sqlid(&q, now->inl[k].name);
		tn_buf_adds(&q, " SET end_snapshot = ? WHERE end_snapshot IS NULL");
		rc = catalog_run(s->cat, q.buf, err, 1, s->new_snap);
	}
	tn_buf_release(&q);
	meta_table_free(now);
	return rc;
}

/* Small row sets go to the catalog, larger ones to Parquet. */
static int store_rows(struct session *s, struct lk_table *t, const char *select_sql, int64_t count,
		      int64_t *rows, struct tn_err *err)
{
	if (count >= 0 && count <= s->inline_limit)
		return inline_rows(s, t, select_sql, rows, err);
	return write_rows(s, t, select_sql, rows, err);
}

/* ---- INSERT ---- */

static int prepare_source(struct session *s, const char *src, char **out, struct tn_err *err)
{
	int rc = intro_prepare(s, src, err);

	*out = NULL;
	if (!rc)
		rc = sess_refresh_mirror(s, err);
	if (!rc)
		rc = tt_rewrite(s, src, out, err);
	if (!rc && !*out)
		*out = tn_strdup(src);
	return rc;
}

/* Names and count of the columns a query returns. */
static int source_columns(struct session *s, const char *src, struct duck_result **r, struct tn_err *err)
{
	char *q = tn_xprintf("SELECT * FROM (%s) LIMIT 0", src);
	int rc = duck_query(s->duck, q, r, err);
	tn_free(q);
	return rc;
}

static void default_expr(const struct lk_column *c, struct tn_buf *b)
{
	char *dt = meta_duck_type(c);

	if (c->default_value)
		tn_buf_addf(b, "CAST((%s) AS %s)", c->default_value, dt);
	else
		tn_buf_addf(b, "CAST(NULL AS %s)", dt);
	tn_free(dt);
}

/* map[i] = source column index for table column i, or -1 for its default. */
static int map_columns(struct lk_table *t, struct sql_stmt *st, struct duck_result *src, int *map,
		       struct tn_err *err)
{
	size_t i, j, nsrc = src ? duck_result_ncols(src) : 0;

	for (i = 0; i < t->ncols; i++)
		map[i] = -1;
	if (st->by_name) {
		for (j = 0; j < nsrc; j++) {
			const char *nm = duck_result_name(src, j);
			for (i = 0; i < t->ncols && !tn_strieq(t->cols[i].name, nm); i++)
				;
			if (i == t->ncols)
				return tn_err_set(err, TN_EINVAL, "Table \"%s\" does not have a column with name \"%s\"",
						  t->name, nm);
			map[i] = (int)j;
		}
		return 0;
	}
	if (st->ncolumns) {
		if (st->ncolumns != nsrc)
			return tn_err_set(err, TN_EINVAL, "Column name/value mismatch for insert on %s: "
					  "expected %zu columns but %zu values were supplied",
					  t->name, st->ncolumns, nsrc);
		for (j = 0; j < st->ncolumns; j++) {
			for (i = 0; i < t->ncols && !tn_strieq(t->cols[i].name, st->columns[j]); i++)
				;
			if (i == t->ncols)
				return tn_err_set(err, TN_EINVAL, "Table \"%s\" does not have a column with name \"%s\"",
						  t->name, st->columns[j]);
			if (map[i] >= 0)
				return tn_err_set(err, TN_EINVAL, "Duplicate column name \"%s\" in INSERT",
						  st->columns[j]);
			map[i] = (int)j;
		}
		return 0;
	}
	if (src && nsrc != t->ncols)
		return tn_err_set(err, TN_EINVAL, "table %s has %zu columns but %zu values were supplied",
				  t->name, t->ncols, nsrc);
	for (i = 0; src && i < t->ncols; i++)
		map[i] = (int)i;
	return 0;
}

static void insert_select(struct lk_table *t, const char *src, size_t nsrc, const int *map,
			  struct tn_buf *b)
{
	size_t i;

	tn_buf_adds(b, "SELECT ");
	for (i = 0; i < t->ncols; i++) {
		if (i)
			tn_buf_adds(b, ", ");
		if (map[i] >= 0) {
			char *dt = meta_duck_type(&t->cols[i]);
			tn_buf_addf(b, "CAST(__tarn_c%d AS %s)", map[i], dt);
			tn_free(dt);
		} else {
			default_expr(&t->cols[i], b);
		}
		tn_buf_adds(b, " AS ");
		tn_buf_add_sqlid(b, t->cols[i].name);
	}
	if (!src)
		return;
	tn_buf_addf(b, " FROM (%s) AS __tarn_src(", src);
	for (i = 0; i < nsrc; i++)
		tn_buf_addf(b, "%s__tarn_c%zu", i ? ", " : "", i);
	tn_buf_addc(b, ')');
}

/* Put the target's name where DuckDB named our scratch table. */
static void rename_in_error(struct tn_err *err, const char *scratch, const char *name)
{
	char out[sizeof(err->msg)];
	const char *p = err->msg, *hit;
	size_t n = 0, sl = strlen(scratch), nl = strlen(name);

	while ((hit = strstr(p, scratch)) != NULL && n + (size_t)(hit - p) + nl < sizeof(out) - 1) {
		memcpy(out + n, p, (size_t)(hit - p));
		n += (size_t)(hit - p);
		memcpy(out + n, name, nl);
		n += nl;
		p = hit + sl;
	}
	snprintf(out + n, sizeof(out) - n, "%s", p);
	memcpy(err->msg, out, sizeof(out));
}

/* A scratch table with t's columns and defaults, so that DuckDB's own
 * INSERT does the casting, the column list and DEFAULT handling. */
static int values_table(struct session *s, struct lk_table *t, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;
	int rc;

	tn_buf_adds(&q, "CREATE OR REPLACE TEMP TABLE __tarn_ins (");
	for (i = 0; i < t->ncols; i++) {
		char *dt = meta_duck_type(&t->cols[i]);
		if (i)
			tn_buf_adds(&q, ", ");
		tn_buf_add_sqlid(&q, t->cols[i].name);
		tn_buf_addf(&q, " %s", dt);
		if (t->cols[i].default_value)
			tn_buf_addf(&q, " DEFAULT (%s)", t->cols[i].default_value);
		tn_free(dt);
	}
	tn_buf_addc(&q, ')');
	rc = duck_exec(s->duck, q.buf, err);
	tn_buf_release(&q);
	return rc;
}

static int literal_values(const char *body)
{
	return !body || (!strncasecmp(body, "VALUES", 6) && !strcasestr(body, "select") &&
			 !strcasestr(body, " at") && !strcasestr(body, "tarn_"));
}

static int insert_values(struct session *s, struct lk_table *t, struct sql_stmt *st, const char *src,
			 int64_t *rows, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	int64_t count = 0;
	size_t i;
	int rc = values_table(s, t, err);

	tn_buf_adds(&q, "INSERT INTO temp.__tarn_ins ");
	if (st->by_name)
		tn_buf_adds(&q, "BY NAME ");
	for (i = 0; i < st->ncolumns; i++) {
		tn_buf_adds(&q, i ? ", " : "(");
		tn_buf_add_sqlid(&q, st->columns[i]);
	}
	if (st->ncolumns)
		tn_buf_adds(&q, ") ");
	tn_buf_adds(&q, src ? src : "DEFAULT VALUES");
	/* One round trip: the inserted rows come back as the text the catalog keeps. */
	tn_buf_adds(&q, " RETURNING ");
	text_list(t, 1, &q);
	if (!rc)
		rc = duck_query(s->duck, q.buf, &r, err);
	if (rc)
		rename_in_error(err, "__tarn_ins", t->name);
	if (!rc)
		count = (int64_t)duck_result_nrows(r);
	if (!rc && count <= s->inline_limit)
		rc = inline_result(s, t, r, rows, err);
	else if (!rc)
		rc = write_rows(s, t, "SELECT * FROM temp.__tarn_ins", rows, err);
	duck_result_free(r);
	{
		struct tn_err ignore = TN_ERR_INIT;
		duck_exec(s->duck, "DROP TABLE IF EXISTS temp.__tarn_ins", &ignore);
	}
	tn_buf_release(&q);
	return rc;
}

/* COPY t FROM …: DuckDB's own COPY reads the file into a scratch table with
 * t's columns (all its options work), then the rows are stored like an INSERT. */
int write_copy(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct lk_table *t = NULL;
	int64_t count = 0;
	size_t i;
	int rc = sess_table(s, &st->target, &t, 0, err);

	*rows = 0;
	if (!rc)
		rc = sess_check_conflict(s, t->id, t->name, SESS_OP_APPEND, err);
	if (!rc)
		rc = values_table(s, t, err);
	tn_buf_adds(&q, "COPY temp.__tarn_ins ");
	for (i = 0; i < st->ncolumns; i++) {
		tn_buf_adds(&q, i ? ", " : "(");
		tn_buf_add_sqlid(&q, st->columns[i]);
	}
	if (st->ncolumns)
		tn_buf_adds(&q, ") ");
	tn_buf_adds(&q, st->body);
	if (!rc)
		rc = duck_query_int(s->duck, q.buf, &count, err);
	if (rc && t)
		rename_in_error(err, "__tarn_ins", t->name);
	if (!rc)
		rc = store_rows(s, t, "SELECT * FROM temp.__tarn_ins", count, rows, err);
	{
		struct tn_err ignore = TN_ERR_INIT;
		duck_exec(s->duck, "DROP TABLE IF EXISTS temp.__tarn_ins", &ignore);
	}
	tn_buf_release(&q);
	meta_table_free(t);
	return rc;
}

int write_insert(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err)
{
	struct lk_table *t = NULL;
	struct duck_result *cols = NULL;
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char *src = NULL;
	int *map = NULL;
	int rc;

	*rows = 0;
	rc = sess_table(s, &st->target, &t, 0, err);
	if (!rc)
		rc = sess_check_conflict(s, t->id, t->name, SESS_OP_APPEND, err);
	if (!rc && st->body && !literal_values(st->body))
		rc = prepare_source(s, st->body, &src, err);
	if (!rc && (!st->body || !strncasecmp(st->body, "VALUES", 6))) {
		/* Lists of values get DuckDB's own INSERT semantics, and when small
		 * are kept in the catalog instead of a Parquet file each. */
		rc = insert_values(s, t, st, src ? src : st->body, rows, err);
		goto out;
	}
	if (!rc && src)
		rc = source_columns(s, src, &cols, err);
	if (rc)
		goto out;
	map = tn_calloc(t->ncols ? t->ncols : 1, sizeof(*map));
	rc = map_columns(t, st, cols, map, err);
	if (rc)
		goto out;
	insert_select(t, src, cols ? duck_result_ncols(cols) : 0, map, &q);
	rc = tn_buf_check(&q, err);
	if (!rc)
		rc = write_rows(s, t, q.buf, rows, err);
out:
	tn_free(map);
	tn_free(src);
	duck_result_free(cols);
	meta_table_free(t);
	tn_buf_release(&q);
	return rc;
}

/* ---- DELETE and UPDATE ---- */

static const struct lk_file *find_file(const struct lk_table *t, int64_t id)
{
	size_t i;

	for (i = 0; i < t->nfiles; i++)
		if (t->files[i].id == id)
			return &t->files[i];
	return NULL;
}

static int end_rows(struct session *s, const char *table, const char *idcol, int64_t id,
		    struct tn_err *err)
{
	char *sql = tn_xprintf("UPDATE %s SET end_snapshot = ? WHERE %s = ? AND end_snapshot IS NULL",
			       table, idcol);
	int rc = catalog_run(s->cat, sql, err, 2, s->new_snap, id);
	tn_free(sql);
	return rc;
}

/* A new cumulative delete file for data file f: its old positions plus the
 * new ones in temp table `tmp`. */
static int write_delete_file(struct session *s, struct lk_table *t, const struct lk_file *f,
			     const char *tmp, int64_t total, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct catalog_stmt *st = NULL;
	struct lk_out o = { NULL, NULL };
	char uuid[37], *rel;
	int64_t size = 0, footer = 0;
	int rc;

	tn_uuid7(uuid);
	rel = tn_xprintf("ducklake-%s-delete.parquet", uuid);
	rc = files_out_begin(s->lk, t->dir, rel, &o, err);
	tn_buf_adds(&q, "COPY (SELECT CAST(");
	tn_buf_add_sqlstr(&q, f->path);
	tn_buf_addf(&q, " AS VARCHAR) AS file_path, pos FROM (SELECT __tarn_pos AS pos FROM %s "
			"WHERE __tarn_fid = %lld", tmp, (long long)f->id);
	if (f->del_path) {
		tn_buf_adds(&q, " UNION ALL SELECT pos FROM read_parquet(");
		tn_buf_add_sqlstr(&q, f->del_local ? f->del_local : f->del_path);
		tn_buf_addc(&q, ')');
	}
	tn_buf_adds(&q, ") ORDER BY pos) TO ");
	tn_buf_add_sqlstr(&q, o.local ? o.local : "");
	tn_buf_adds(&q, " (FORMAT parquet, FIELD_IDS {file_path: 2147483546, pos: 2147483545})");
	if (!rc)
		rc = duck_exec(s->duck, q.buf, err);
	if (rc && o.local) {
		struct tn_err ignore = TN_ERR_INIT;
		tn_fs_remove(o.local, &ignore);
	}
	if (!rc)
		rc = seal_file(s, &o, &size, &footer, err);
	if (!rc && f->del_id)
		rc = end_rows(s, "ducklake_delete_file", "delete_file_id", f->del_id, err);
	if (!rc)
		rc = catalog_prepare(s->cat, "INSERT INTO ducklake_delete_file VALUES (?, ?, ?, NULL, ?, ?, true, "
					     "'parquet', ?, ?, ?, NULL, NULL)", &st, err);
	if (!rc) {
		catalog_bind_int(st, 1, s->next_file_id++);
		catalog_bind_int(st, 2, t->id);
		catalog_bind_int(st, 3, s->new_snap);
		catalog_bind_int(st, 4, f->id);
		catalog_bind_text(st, 5, rel);
		catalog_bind_int(st, 6, total);
		catalog_bind_int(st, 7, size);
		catalog_bind_int(st, 8, footer);
		rc = catalog_step(st, err);
		rc = rc < 0 ? rc : 0;
	}
	catalog_finalize(st);
	files_out_release(s->lk, &o);
	tn_buf_release(&q);
	tn_free(rel);
	return rc;
}

/* Inlined rows are deleted by ending them (their row ids are in tmp). */
static int end_inlined(struct session *s, const struct lk_inlined *in, const char *tmp, int64_t fid,
		       struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	char *sql = tn_xprintf("SELECT __tarn_pos FROM %s WHERE __tarn_fid = %lld", tmp, (long long)fid);
	uint64_t i;
	int rc = duck_query(s->duck, sql, &r, err);

	tn_free(sql);
	for (i = 0; !rc && i < duck_result_nrows(r); i++) {
		if (q.len == 0) {
			tn_buf_adds(&q, "UPDATE ");
			tn_buf_add_sqlid(&q, in->name);
			tn_buf_adds(&q, " SET end_snapshot = ? WHERE end_snapshot IS NULL AND row_id IN (");
		} else {
			tn_buf_addc(&q, ',');
		}
		tn_buf_addf(&q, "%lld", (long long)duck_result_int(r, 0, i));
		if ((i + 1) % 500 == 0 || i + 1 == duck_result_nrows(r)) {
			tn_buf_addc(&q, ')');
			rc = catalog_run(s->cat, q.buf, err, 1, s->new_snap);
			tn_buf_reset(&q);
		}
	}
	duck_result_free(r);
	tn_buf_release(&q);
	return rc;
}

/* Delete the rows listed (__tarn_fid, __tarn_pos) in temp table `tmp`. */
static int apply_deletes(struct session *s, struct lk_table *t, const char *tmp, int64_t *rows,
			 struct tn_err *err)
{
	struct duck_result *r = NULL;
	char *q = tn_xprintf("SELECT __tarn_fid, count(*) FROM %s GROUP BY 1 ORDER BY 1", tmp);
	uint64_t i;
	int rc = duck_query(s->duck, q, &r, err);

	tn_free(q);
	*rows = 0;
	for (i = 0; !rc && i < duck_result_nrows(r); i++) {
		int64_t fid = duck_result_int(r, 0, i), n = duck_result_int(r, 1, i);
		const struct lk_file *f = find_file(t, fid);

		if (fid < 0 && (size_t)(-fid - 1) < t->ninl) {
			*rows += n;
			rc = end_inlined(s, &t->inl[-fid - 1], tmp, fid, err);
			continue;
		}
		if (!f) {
			rc = tn_err_set(err, TN_EINTERNAL, "delete hit unknown data file %lld", (long long)fid);
			break;
		}
		*rows += n;
		if (f->del_count + n >= f->record_count) {
			/* Every row is gone: end the file itself rather than list them all. */
			rc = end_rows(s, "ducklake_data_file", "data_file_id", f->id, err);
			if (!rc && f->del_id)
				rc = end_rows(s, "ducklake_delete_file", "delete_file_id", f->del_id, err);
		} else {
			rc = write_delete_file(s, t, f, tmp, f->del_count + n, err);
		}
	}
	duck_result_free(r);
	if (!rc && *rows > 0)
		sess_change(s, "deleted_from_table:%lld", (long long)t->id);
	return rc;
}

/* "SELECT <cols> FROM (<scan with positions>) AS alias [, from] WHERE cond" into temp table. */
static int select_targets(struct session *s, struct lk_table *t, struct sql_stmt *st,
			  const char *tmp, const char *select_list, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	tn_buf_addf(&q, "CREATE OR REPLACE TEMP TABLE %s AS SELECT DISTINCT ON (__tarn_fid, __tarn_pos) %s FROM (",
		    tmp, select_list);
	rc = scan_sql(t, 1, &q, err);
	tn_buf_adds(&q, ") AS ");
	tn_buf_add_sqlid(&q, st->alias ? st->alias : t->name);
	if (st->from)
		tn_buf_addf(&q, ", %s", st->from);
	if (st->body)
		tn_buf_addf(&q, " WHERE (%s)", st->body);
	if (!rc)
		rc = tn_buf_check(&q, err);
	if (!rc)
		rc = duck_exec(s->duck, q.buf, err);
	tn_buf_release(&q);
	return rc;
}

static void drop_temp(struct session *s, const char *tmp)
{
	struct tn_err ignore = TN_ERR_INIT;
	char *q = tn_xprintf("DROP TABLE IF EXISTS %s", tmp);

	duck_exec(s->duck, q, &ignore);
	tn_free(q);
}

/* The target of a DELETE, UPDATE or MERGE: its files, checked against
 * concurrent commits, with the views its conditions may read brought up
 * to date. */
static int open_target(struct session *s, struct sql_stmt *st, struct lk_table **t, struct tn_err *err)
{
	int rc = sess_table(s, &st->target, t, 1, err);

	if (!rc)
		rc = sess_check_conflict(s, (*t)->id, (*t)->name, SESS_OP_DELETE, err);
	if (!rc)
		rc = intro_prepare(s, st->text, err);
	if (!rc)
		rc = sess_refresh_mirror(s, err);
	return rc;
}

int write_delete(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err)
{
	struct lk_table *t = NULL;
	int rc;

	*rows = 0;
	rc = open_target(s, st, &t, err);
	if (!rc)
		rc = select_targets(s, t, st, "temp.__tarn_del", "__tarn_fid, __tarn_pos", err);
	if (!rc)
		rc = apply_deletes(s, t, "temp.__tarn_del", rows, err);
	drop_temp(s, "temp.__tarn_del");
	meta_table_free(t);
	return rc;
}

static int update_list(struct lk_table *t, struct sql_stmt *st, struct tn_buf *b, struct tn_err *err)
{
	const char *alias = st->alias ? st->alias : t->name;
	size_t i, j;

	for (j = 0; j < st->nsets; j++)
		if (!meta_find_column(t, st->sets[j].column))
			return tn_err_set(err, TN_EINVAL, "Referenced update column %s not found in table %s",
					  st->sets[j].column, t->name);
	tn_buf_adds(b, "__tarn_fid, __tarn_pos");
	for (i = 0; i < t->ncols; i++) {
		char *dt = meta_duck_type(&t->cols[i]);
		tn_buf_adds(b, ", ");
		for (j = 0; j < st->nsets && !tn_strieq(st->sets[j].column, t->cols[i].name); j++)
			;
		if (j < st->nsets) {
			tn_buf_addf(b, "CAST((%s) AS %s)", st->sets[j].expr, dt);
		} else {
			tn_buf_add_sqlid(b, alias);
			tn_buf_addc(b, '.');
			tn_buf_add_sqlid(b, t->cols[i].name);
		}
		tn_buf_adds(b, " AS ");
		tn_buf_add_sqlid(b, t->cols[i].name);
		tn_free(dt);
	}
	return tn_buf_check(b, err);
}

int write_update(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err)
{
	struct tn_buf list = TN_BUF_INIT(TN_BUF_NOMAX), ins = TN_BUF_INIT(TN_BUF_NOMAX);
	struct lk_table *t = NULL;
	int64_t written = 0;
	size_t i;
	int rc;

	*rows = 0;
	rc = sess_table(s, &st->target, &t, 1, err);
	if (!rc)
		rc = sess_check_conflict(s, t->id, t->name, SESS_OP_DELETE, err);
	if (!rc)
		rc = update_list(t, st, &list, err);
	if (!rc)
		rc = intro_prepare(s, st->text, err);
	if (!rc)
		rc = sess_refresh_mirror(s, err);
	if (!rc)
		rc = select_targets(s, t, st, "temp.__tarn_upd", list.buf, err);
	if (!rc)
		rc = apply_deletes(s, t, "temp.__tarn_upd", rows, err);
	if (!rc && *rows > 0) {
		tn_buf_adds(&ins, "SELECT ");
		for (i = 0; i < t->ncols; i++) {
			if (i)
				tn_buf_adds(&ins, ", ");
			tn_buf_add_sqlid(&ins, t->cols[i].name);
		}
		tn_buf_adds(&ins, " FROM temp.__tarn_upd");
		rc = store_rows(s, t, ins.buf, *rows, &written, err);
	}
	drop_temp(s, "temp.__tarn_upd");
	tn_buf_release(&list);
	tn_buf_release(&ins);
	meta_table_free(t);
	return rc;
}

/* ---- MERGE INTO ---- */

/* MERGE runs as DuckDB's own MERGE on a scratch copy of the target, in
 * file-position order, so that DuckDB decides every WHEN clause; the copy's
 * rowids map back to (file, position). Then rows that disappeared or whose
 * value hash changed are deleted from their files, and changed and new rows
 * are written like an INSERT. The copy costs memory in proportion to the
 * target table. */
static int merge_copy(struct session *s, struct lk_table *t, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX), cols = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;
	int rc;

	for (i = 0; i < t->ncols; i++) {
		if (i)
			tn_buf_adds(&cols, ", ");
		tn_buf_add_sqlid(&cols, t->cols[i].name);
	}
	tn_buf_adds(&q, "CREATE OR REPLACE TEMP TABLE __tarn_all AS SELECT * FROM (");
	rc = scan_sql(t, 1, &q, err);
	tn_buf_addf(&q, ") ORDER BY __tarn_fid, __tarn_pos; "
			"CREATE OR REPLACE TEMP TABLE __tarn_mp AS SELECT row_number() OVER "
			"(ORDER BY __tarn_fid, __tarn_pos) - 1 AS rid, __tarn_fid, __tarn_pos, hash(%s) AS h "
			"FROM temp.__tarn_all; "
			"CREATE OR REPLACE TEMP TABLE __tarn_mt AS SELECT %s FROM temp.__tarn_all "
			"ORDER BY __tarn_fid, __tarn_pos; DROP TABLE temp.__tarn_all",
		    cols.buf, cols.buf);
	if (!rc)
		rc = tn_buf_check(&q, err);
	if (!rc)
		rc = duck_exec(s->duck, q.buf, err);
	tn_buf_release(&q);
	tn_buf_release(&cols);
	return rc;
}

static void merge_cleanup(struct session *s)
{
	struct tn_err ignore = TN_ERR_INIT;

	duck_exec(s->duck, "DROP TABLE IF EXISTS temp.__tarn_all; DROP TABLE IF EXISTS temp.__tarn_mp; "
			   "DROP TABLE IF EXISTS temp.__tarn_mt; DROP TABLE IF EXISTS temp.__tarn_md; "
			   "DROP TABLE IF EXISTS temp.__tarn_mn", &ignore);
}

int write_merge(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX), cols = TN_BUF_INIT(TN_BUF_NOMAX);
	struct lk_table *t = NULL;
	int64_t changed = 0, removed = 0, written = 0;
	size_t i;
	int rc;

	*rows = 0;
	rc = open_target(s, st, &t, err);
	if (!rc)
		rc = merge_copy(s, t, err);
	for (i = 0; t && i < t->ncols; i++) {
		if (i)
			tn_buf_adds(&cols, ", ");
		tn_buf_add_sqlid(&cols, t->cols[i].name);
	}
	/* The user's statement, aimed at the copy under the target's name. */
	tn_buf_adds(&q, "MERGE INTO temp.__tarn_mt AS ");
	tn_buf_add_sqlid(&q, st->alias ? st->alias : (t ? t->name : ""));
	tn_buf_addf(&q, " %s", st->body);
	if (!rc)
		rc = duck_query_int(s->duck, q.buf, &changed, err);
	if (rc && t)
		rename_in_error(err, "__tarn_mt", t->name);
	/* Rows gone or changed: delete them where they are. */
	tn_buf_reset(&q);
	tn_buf_addf(&q, "CREATE OR REPLACE TEMP TABLE __tarn_md AS SELECT p.__tarn_fid, p.__tarn_pos "
			"FROM temp.__tarn_mp p LEFT JOIN (SELECT rowid AS rid, hash(%s) AS h FROM temp.__tarn_mt) m "
			"ON m.rid = p.rid WHERE m.rid IS NULL OR m.h <> p.h; "
			"CREATE OR REPLACE TEMP TABLE __tarn_mn AS SELECT %s FROM temp.__tarn_mt m "
			"LEFT JOIN temp.__tarn_mp p ON p.rid = m.rowid WHERE p.rid IS NULL OR p.h <> hash(%s)",
		    cols.buf, cols.buf, cols.buf);
	if (!rc)
		rc = duck_exec(s->duck, q.buf, err);
	if (!rc)
		rc = apply_deletes(s, t, "temp.__tarn_md", &removed, err);
	if (!rc)
		rc = duck_query_int(s->duck, "SELECT count(*) FROM temp.__tarn_mn", &written, err);
	if (!rc && written > 0)
		rc = store_rows(s, t, "SELECT * FROM temp.__tarn_mn", written, &written, err);
	if (!rc)
		*rows = changed;
	merge_cleanup(s);
	tn_buf_release(&q);
	tn_buf_release(&cols);
	meta_table_free(t);
	return rc;
}
