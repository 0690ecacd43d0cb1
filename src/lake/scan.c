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
		} else if (strcmp(v->type, c->type) || !strcmp(c->type, "int128") || !strcmp(c->type, "uint128")) {
			/* Parquet has no 128-bit integer: such columns are stored as
			 * DECIMAL(38,0) (write_stage), and read back as declared. */
			tn_buf_adds(b, "CAST(");
			tn_buf_add_sqlid(b, v->name);
			tn_buf_addf(b, " AS %s)", dt);
		} else {
			tn_buf_add_sqlid(b, v->name);
		}
		if (!v || strcmp(v->name, c->name) || strcmp(v->type, c->type) || !strcmp(c->type, "int128") ||
		    !strcmp(c->type, "uint128")) {
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

/* A list of file paths: ['a', 'b']. `which` selects files with (1) or
 * without (0) a delete file, -1 all; `dels` lists their delete files. */
static size_t path_list(const struct lk_table *t, const size_t *idx, size_t n, int which, int dels,
			struct tn_buf *b)
{
	size_t i, k = 0;

	tn_buf_addc(b, '[');
	for (i = 0; i < n; i++) {
		const struct lk_file *f = &t->files[idx[i]];
		if (which >= 0 && (f->del_path != NULL) != which)
			continue;
		if (k++)
			tn_buf_addc(b, ',');
		tn_buf_add_sqlstr(b, dels ? (f->del_local ? f->del_local : f->del_path) :
				  (f->local ? f->local : f->path));
	}
	tn_buf_addc(b, ']');
	return k;
}

/* Rows of __d whose position is in the delete file of their data file. The
 * delete file is matched to its data file by name here, not by the
 * file_path it holds, so copies in a read cache work too. */
static void not_deleted(const struct lk_table *t, const size_t *idx, size_t n, struct tn_buf *b)
{
	size_t i, k = 0;

	tn_buf_adds(b, " WHERE NOT EXISTS (SELECT 1 FROM read_parquet(");
	path_list(t, idx, n, 1, 1, b);
	tn_buf_adds(b, ", filename = '__tarn_dfile') AS __x JOIN (VALUES ");
	for (i = 0; i < n; i++) {
		const struct lk_file *f = &t->files[idx[i]];
		if (!f->del_path)
			continue;
		tn_buf_adds(b, k++ ? ", (" : "(");
		tn_buf_add_sqlstr(b, f->del_local ? f->del_local : f->del_path);
		tn_buf_addc(b, ',');
		tn_buf_add_sqlstr(b, f->local ? f->local : f->path);
		tn_buf_addc(b, ')');
	}
	tn_buf_adds(b, ") AS __dm(__tarn_dname, __tarn_fname) ON __dm.__tarn_dname = __x.__tarn_dfile "
			"WHERE __dm.__tarn_fname = __d.__tarn_file AND __x.pos = __d.file_row_number)");
}

/* One layout group: files idx[0..n) share the select list `key`. */
static void group_scan(const struct lk_table *t, const size_t *idx, size_t n, const char *key,
		       int positions, size_t *parts, struct tn_buf *b)
{
	size_t i, ndel = 0;

	for (i = 0; i < n; i++)
		ndel += t->files[idx[i]].del_path != NULL;
	if (positions) {
		if ((*parts)++)
			tn_buf_adds(b, " UNION ALL ");
		tn_buf_addf(b, "SELECT __m.__tarn_fid, __d.file_row_number AS __tarn_pos, %s FROM read_parquet(", key);
		path_list(t, idx, n, -1, 0, b);
		tn_buf_adds(b, ", filename = '__tarn_file', file_row_number = true) AS __d JOIN (VALUES ");
		for (i = 0; i < n; i++) {
			const struct lk_file *f = &t->files[idx[i]];
			tn_buf_adds(b, i ? ", (" : "(");
			tn_buf_add_sqlstr(b, f->local ? f->local : f->path);
			tn_buf_addf(b, ", CAST(%lld AS BIGINT))", (long long)t->files[idx[i]].id);
		}
		tn_buf_adds(b, ") AS __m(__tarn_fname, __tarn_fid) ON __m.__tarn_fname = __d.__tarn_file");
		if (ndel)
			not_deleted(t, idx, n, b);
		return;
	}
	if (ndel < n) {
		if ((*parts)++)
			tn_buf_adds(b, " UNION ALL ");
		tn_buf_addf(b, "SELECT %s FROM read_parquet(", key);
		path_list(t, idx, n, 0, 0, b);
		tn_buf_addc(b, ')');
	}
	if (ndel) {
		/* Only files with deletes pay for the anti-join on row positions. */
		if ((*parts)++)
			tn_buf_adds(b, " UNION ALL ");
		tn_buf_addf(b, "SELECT %s FROM read_parquet(", key);
		path_list(t, idx, n, 1, 0, b);
		tn_buf_adds(b, ", filename = '__tarn_file', file_row_number = true) AS __d");
		not_deleted(t, idx, n, b);
	}
}

/* DuckDB type of the column named `name` in the layout of snapshot s. */
static char *layout_type(const struct lk_table *t, const char *name, int64_t s)
{
	struct lk_column fake;
	size_t i, j;

	for (i = 0; i < t->nvers; i++) {
		const struct lk_colver *v = &t->vers[i];
		if (strcmp(v->name, name) || v->begin > s || s >= v->end)
			continue;
		for (j = 0; j < t->ncols; j++)
			if (t->cols[j].id == v->id && !strcmp(t->cols[j].type, v->type))
				return meta_duck_type(&t->cols[j]);
		memset(&fake, 0, sizeof(fake));
		fake.type = v->type;
		return meta_duck_type(&fake);
	}
	return tn_strdup("VARCHAR");
}

int64_t scan_inlined_rows(const struct lk_table *t)
{
	int64_t n = 0;
	size_t i;

	for (i = 0; i < t->ninl; i++)
		n += (int64_t)t->inl[i].nrows;
	return n;
}

/* Inlined rows of table k as a VALUES list under the names of its layout. */
static void inlined_part(const struct lk_table *t, size_t k, int positions, struct tn_buf *b)
{
	const struct lk_inlined *in = &t->inl[k];
	size_t r, c;

	tn_buf_adds(b, "SELECT ");
	if (positions)
		tn_buf_addf(b, "CAST(%lld AS BIGINT) AS __tarn_fid, __tarn_rid AS __tarn_pos, ", -(long long)k - 1);
	projection(t, in->layout_snap, b);
	tn_buf_adds(b, " FROM (SELECT __r AS __tarn_rid");
	for (c = 0; c < in->ncols; c++) {
		char *dt = layout_type(t, in->colnames[c], in->layout_snap);
		tn_buf_addf(b, ", CAST(__c%zu AS %s) AS ", c, dt);
		tn_buf_add_sqlid(b, in->colnames[c]);
		tn_free(dt);
	}
	tn_buf_adds(b, " FROM (VALUES ");
	for (r = 0; r < in->nrows; r++) {
		tn_buf_addf(b, "%s(%lld", r ? ", " : "", (long long)in->row_ids[r]);
		for (c = 0; c < in->ncols; c++) {
			const char *v = in->values[r * in->ncols + c];
			tn_buf_adds(b, ", ");
			if (v)
				tn_buf_add_sqlstr(b, v);
			else
				tn_buf_adds(b, "NULL");
		}
		tn_buf_addc(b, ')');
	}
	tn_buf_adds(b, ") AS __v(__r");
	for (c = 0; c < in->ncols; c++)
		tn_buf_addf(b, ", __c%zu", c);
	tn_buf_adds(b, "))");
}

/* UNION ALL of every non-empty inlined part; returns how many. */
static size_t inlined_parts(const struct lk_table *t, int positions, size_t parts, struct tn_buf *b)
{
	size_t k, n = 0;

	for (k = 0; k < t->ninl; k++) {
		if (!t->inl[k].nrows)
			continue;
		if (parts + n)
			tn_buf_adds(b, " UNION ALL ");
		inlined_part(t, k, positions, b);
		n++;
	}
	return n;
}

int scan_inlined_sql(struct lk_table *t, struct tn_buf *out, struct tn_err *err)
{
	if (!inlined_parts(t, 0, 0, out))
		empty_scan(t, 0, out);
	return tn_buf_check(out, err);
}

int scan_sql(struct lk_table *t, int positions, struct tn_buf *out, struct tn_err *err)
{
	char **keys, *done;
	size_t *idx, i, j, n, parts = 0;

	if (t->nfiles == 0) {
		if (!inlined_parts(t, positions, 0, out))
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
	idx = tn_calloc(t->nfiles, sizeof(*idx));
	for (i = 0; i < t->nfiles; i++) {
		if (done[i])
			continue;
		for (j = i, n = 0; j < t->nfiles; j++) {
			if (done[j] || strcmp(keys[j], keys[i]))
				continue;
			idx[n++] = j;
			done[j] = 1;
		}
		group_scan(t, idx, n, keys[i], positions, &parts, out);
	}
	inlined_parts(t, positions, parts, out);
	for (i = 0; i < t->nfiles; i++)
		tn_free(keys[i]);
	tn_free(keys);
	tn_free(done);
	tn_free(idx);
	return tn_buf_check(out, err);
}
