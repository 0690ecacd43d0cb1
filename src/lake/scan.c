/*
 * scan: the DuckDB SQL that reads a lake table at a snapshot. Reads must
 * cost what DuckDB costs, so files written under the same column layout are
 * read together by one plain read_parquet() (no schema map, which loses
 * filter pushdown); renamed columns become aliases, added columns constants
 * of their initial default, widened columns casts; only files that have a
 * delete file pay for the anti-join on their row positions.
 */
#include "base/compat.h"
#include "lake/lake_int.h"
#include "base/tn_mem.h"

/* The version of column `id` in effect at snapshot s, or NULL. */
static const struct lk_colver *version_at(const struct lk_table *t, int64_t id, int64_t s)
{
	size_t i;

	for (i = 0; i < t->nvers; i++)
		if (t->vers[i].id == id && t->vers[i].begin <= s && s < t->vers[i].end)
			return &t->vers[i];
	return NULL;
}

static void add_literal_cast(struct tn_buf *b, const char *value, const char *type)
{
	tn_buf_adds(b, "CAST(");
	if (value)
		tn_buf_add_sqlstr(b, value);
	else
		tn_buf_adds(b, "NULL");
	tn_buf_addf(b, " AS %s)", type);
}

/* The select list that maps a file written at snapshot s to the table's
 * current columns. */
static void projection(const struct lk_table *t, int64_t s, struct tn_buf *b)
{
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		const struct lk_column *c = &t->cols[i];
		const struct lk_colver *v = version_at(t, c->id, s);
		char *dt = meta_duck_type(c);

		if (i)
			tn_buf_adds(b, ", ");
		if (!v) {
			add_literal_cast(b, c->initial_default, dt);
		} else if (strcmp(v->type, c->type)) {
			tn_buf_adds(b, "CAST(");
			tn_buf_add_sqlid(b, v->name);
			tn_buf_addf(b, " AS %s)", dt);
		} else {
			tn_buf_add_sqlid(b, v->name);
		}
		if (!v || strcmp(v->name, c->name) || strcmp(v->type, c->type)) {
			tn_buf_adds(b, " AS ");
			tn_buf_add_sqlid(b, c->name);
		}
		tn_free(dt);
	}
}

static void empty_scan(const struct lk_table *t, int positions, struct tn_buf *b)
{
	size_t i;

	tn_buf_adds(b, "SELECT ");
	if (positions)
		tn_buf_adds(b, "CAST(NULL AS BIGINT) AS __tarn_fid, CAST(NULL AS BIGINT) AS __tarn_pos, ");
	for (i = 0; i < t->ncols; i++) {
		char *dt = meta_duck_type(&t->cols[i]);
		if (i)
			tn_buf_adds(b, ", ");
		add_literal_cast(b, NULL, dt);
		tn_buf_adds(b, " AS ");
		tn_buf_add_sqlid(b, t->cols[i].name);
		tn_free(dt);
	}
	tn_buf_adds(b, " WHERE false");
}

/* One file on its own: positions and/or its delete file. */
static void single_file(const struct lk_table *t, const struct lk_file *f, int positions,
			struct tn_buf *b)
{
	int need_pos = positions || f->del_path;

	tn_buf_adds(b, "SELECT ");
	if (positions)
		tn_buf_addf(b, "CAST(%lld AS BIGINT) AS __tarn_fid, file_row_number AS __tarn_pos, ",
			    (long long)f->id);
	projection(t, f->begin_snapshot, b);
	tn_buf_adds(b, " FROM read_parquet(");
	tn_buf_add_sqlstr(b, f->path);
	if (need_pos)
		tn_buf_adds(b, ", file_row_number = true");
	tn_buf_adds(b, ")");
	if (f->del_path) {
		tn_buf_adds(b, " WHERE file_row_number NOT IN (SELECT pos FROM read_parquet(");
		tn_buf_add_sqlstr(b, f->del_path);
		tn_buf_adds(b, "))");
	}
}

int scan_sql(struct lk_table *t, int positions, struct tn_buf *out, struct tn_err *err)
{
	char **keys, *done;
	size_t i, j, parts = 0;

	if (t->nfiles == 0) {
		empty_scan(t, positions, out);
		return tn_buf_check(out, err);
	}
	/* The layout key of each file; files of one snapshot share it. */
	keys = tn_calloc(t->nfiles, sizeof(*keys));
	for (i = 0; i < t->nfiles; i++) {
		struct tn_buf k = TN_BUF_INIT(TN_BUF_NOMAX);
		if (i && t->files[i].begin_snapshot == t->files[i - 1].begin_snapshot) {
			keys[i] = tn_strdup(keys[i - 1]);
			continue;
		}
		projection(t, t->files[i].begin_snapshot, &k);
		keys[i] = tn_buf_detach(&k, NULL);
	}
	done = tn_calloc(t->nfiles, 1);
	for (i = 0; i < t->nfiles; i++) {
		if (done[i])
			continue;
		if (parts++)
			tn_buf_adds(out, " UNION ALL ");
		done[i] = 1;
		if (positions || t->files[i].del_path) {
			single_file(t, &t->files[i], positions, out);
			continue;
		}
		/* Gather every later file without deletes that has the same layout. */
		tn_buf_addf(out, "SELECT %s FROM read_parquet([", keys[i]);
		tn_buf_add_sqlstr(out, t->files[i].path);
		for (j = i + 1; j < t->nfiles; j++) {
			if (done[j] || t->files[j].del_path || strcmp(keys[j], keys[i]))
				continue;
			tn_buf_addc(out, ',');
			tn_buf_add_sqlstr(out, t->files[j].path);
			done[j] = 1;
		}
		tn_buf_adds(out, "])");
	}
	for (i = 0; i < t->nfiles; i++)
		tn_free(keys[i]);
	tn_free(keys);
	tn_free(done);
	return tn_buf_check(out, err);
}
