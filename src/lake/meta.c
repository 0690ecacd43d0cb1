/*
 * meta: reading a lake's catalog at a snapshot. A row belongs to snapshot N
 * when begin_snapshot <= N and (end_snapshot IS NULL or N < end_snapshot);
 * every query here filters that way, so readers pinned at N never see a
 * later commit.
 */
#include "base/compat.h"
#include "lake/lake_int.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#define VALID(a) "(" a "begin_snapshot <= ?2 AND (" a "end_snapshot IS NULL OR " a "end_snapshot > ?2))"

int meta_latest(struct catalog *cat, struct lk_snap *snap, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(cat, "SELECT snapshot_id, schema_version, next_catalog_id, next_file_id "
				      "FROM ducklake_snapshot ORDER BY snapshot_id DESC LIMIT 1", &st, err);
	if (rc)
		return rc;
	rc = catalog_step(st, err);
	if (rc == 1) {
		snap->id = catalog_col_int(st, 0);
		snap->schema_version = catalog_col_int(st, 1);
		snap->next_catalog_id = catalog_col_int(st, 2);
		snap->next_file_id = catalog_col_int(st, 3);
		rc = 0;
	} else if (rc == 0) {
		rc = tn_err_set(err, TN_EINTERNAL, "catalog %s has no snapshots", catalog_path(cat));
	}
	catalog_finalize(st);
	return rc;
}

int meta_snapshot_exists(struct catalog *cat, int64_t id, int *exists, struct tn_err *err)
{
	int64_t v;
	return catalog_get_int(cat, "SELECT snapshot_id FROM ducklake_snapshot WHERE snapshot_id = ?",
			       &v, exists, err, 1, id);
}

/* Schema `name` at snapshot n: its id, and its folder when lk and dir are given. */
static int schema_lookup(struct lake *lk, struct catalog *cat, const char *name, int64_t n, int64_t *id,
			 char **dir, int *found, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(cat, "SELECT schema_id, path, path_is_relative FROM ducklake_schema "
				      "WHERE lower(schema_name) = lower(?1) AND " VALID(""), &st, err);
	*id = 0;
	*found = 0;
	if (dir)
		*dir = NULL;
	if (rc)
		return rc;
	catalog_bind_text(st, 1, name);
	catalog_bind_int(st, 2, n);
	rc = catalog_step(st, err);
	if (rc == 1) {
		*id = catalog_col_int(st, 0);
		*found = 1;
		if (dir)
			*dir = meta_resolve(lk->data_path, catalog_col_text(st, 1) ? catalog_col_text(st, 1) : "",
					    (int)catalog_col_int(st, 2));
		rc = 0;
	}
	catalog_finalize(st);
	return rc;
}

int meta_schema_dir(struct lake *lk, struct catalog *cat, const char *name, int64_t n, int64_t *id, char **dir,
		    struct tn_err *err)
{
	int found;

	return schema_lookup(lk, cat, name, n, id, dir, &found, err);
}

int meta_schema_id(struct catalog *cat, const char *name, int64_t n, int64_t *id, int *found,
		   struct tn_err *err)
{
	return schema_lookup(NULL, cat, name, n, id, NULL, found, err);
}

char *meta_resolve(const char *parent, const char *path, int relative)
{
	if (!relative)
		return tn_strdup(path);
	return tn_xprintf("%s%s", parent, path);
}

static void column_release(struct lk_column *c)
{
	meta_columns_free(c->child, c->nchild);
	tn_free(c->name);
	tn_free(c->type);
	tn_free(c->initial_default);
	tn_free(c->default_value);
}

void meta_columns_free(struct lk_column *cols, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		column_release(&cols[i]);
	tn_free(cols);
}

/* Attach children (rows with parent != 0) under their parents, recursively. */
static void build_tree(struct lk_column *all, size_t nall, int64_t parent, struct lk_column **out,
		       size_t *nout)
{
	size_t i, n = 0;

	for (i = 0; i < nall; i++)
		if (all[i].parent == parent && all[i].name)
			n++;
	*out = n ? tn_calloc(n, sizeof(**out)) : NULL;
	*nout = 0;
	for (i = 0; i < nall; i++) {
		if (all[i].parent != parent || !all[i].name)
			continue;
		(*out)[*nout] = all[i];
		memset(&all[i], 0, sizeof(all[i])); /* moved: name == NULL marks it */
		(*nout)++;
	}
	for (i = 0; i < *nout; i++)
		build_tree(all, nall, (*out)[i].id, &(*out)[i].child, &(*out)[i].nchild);
}

/* The rows all[0..n) as a column tree in *cols (when cols is not NULL);
 * whatever is not moved into it (orphans, or all of them) is freed. */
static void columns_tree(struct lk_column *all, size_t n, struct lk_column **cols, size_t *ncols)
{
	size_t i;

	if (cols)
		build_tree(all, n, 0, cols, ncols);
	for (i = 0; i < n; i++)
		if (all[i].name)
			column_release(&all[i]);
}

#define COLUMN_COLS \
	"column_id, column_order, column_name, column_type, initial_default, default_value, nulls_allowed, " \
	"parent_column, begin_snapshot"

/* A ducklake_column row (COLUMN_COLS from column `at` on). */
static void read_column(struct catalog_stmt *st, int at, struct lk_column *c)
{
	memset(c, 0, sizeof(*c));
	c->id = catalog_col_int(st, at);
	c->order = catalog_col_int(st, at + 1);
	c->name = catalog_col_dup(st, at + 2);
	c->type = catalog_col_dup(st, at + 3);
	c->initial_default = catalog_col_dup(st, at + 4);
	c->default_value = catalog_col_dup(st, at + 5);
	c->nulls_allowed = catalog_col_is_null(st, at + 6) ? 1 : (int)catalog_col_int(st, at + 6);
	c->parent = catalog_col_is_null(st, at + 7) ? 0 : catalog_col_int(st, at + 7);
	c->begin_snapshot = catalog_col_int(st, at + 8);
	if (!c->name)
		c->name = tn_strdup("");
}

int meta_columns(struct catalog *cat, int64_t table_id, int64_t n, struct lk_column **cols,
		 size_t *ncols, struct tn_err *err)
{
	struct catalog_stmt *st;
	struct lk_column *all = NULL;
	size_t nall = 0, alloc = 0;
	int rc;

	*cols = NULL;
	*ncols = 0;
	rc = catalog_prepare(cat, "SELECT " COLUMN_COLS " FROM ducklake_column "
				  "WHERE table_id = ?1 AND " VALID("") " ORDER BY column_order, column_id", &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, table_id);
	catalog_bind_int(st, 2, n);
	while ((rc = catalog_step(st, err)) == 1) {
		TN_GROW(all, alloc, nall + 1);
		read_column(st, 0, &all[nall++]);
	}
	catalog_finalize(st);
	columns_tree(all, nall, rc == 0 ? cols : NULL, ncols);
	tn_free(all);
	return rc;
}

void meta_table_free(struct lk_table *t)
{
	size_t i;

	if (!t)
		return;
	meta_columns_free(t->cols, t->ncols);
	for (i = 0; i < t->nfiles; i++) {
		tn_free(t->files[i].path);
		tn_free(t->files[i].local);
		tn_free(t->files[i].del_path);
		tn_free(t->files[i].del_local);
	}
	tn_free(t->files);
	for (i = 0; i < t->nvers; i++) {
		tn_free(t->vers[i].name);
		tn_free(t->vers[i].type);
	}
	tn_free(t->vers);
	for (i = 0; i < t->ninl; i++) {
		struct lk_inlined *in = &t->inl[i];
		size_t k;
		for (k = 0; k < in->nrows * in->ncols; k++)
			tn_free(in->values[k]);
		for (k = 0; k < in->ncols; k++)
			tn_free(in->colnames[k]);
		tn_free(in->values);
		tn_free(in->colnames);
		tn_free(in->row_ids);
		tn_free(in->name);
	}
	tn_free(t->inl);
	tn_free(t->schema);
	tn_free(t->name);
	tn_free(t->dir);
	tn_free(t->rel_path);
	tn_free(t);
}

static const char *table_sql =
	"SELECT t.table_id, t.schema_id, t.table_name, t.path, t.path_is_relative, s.schema_name, "
	"s.path, s.path_is_relative, t.begin_snapshot FROM ducklake_table t JOIN ducklake_schema s "
	"ON s.schema_id = t.schema_id WHERE " VALID("t.") " AND " VALID("s.");

/* The next row of table_sql as a table without columns: 1, 0 at the end. */
static int load_table_row(struct lake *lk, struct catalog_stmt *st, int64_t n, struct lk_table **out,
			  struct tn_err *err)
{
	struct lk_table *t;
	char *sdir;
	int rc = catalog_step(st, err);

	if (rc <= 0)
		return rc;
	t = tn_calloc(1, sizeof(*t));
	t->id = catalog_col_int(st, 0);
	t->schema_id = catalog_col_int(st, 1);
	t->name = catalog_col_dup(st, 2);
	t->rel_path = catalog_col_dup(st, 3);
	t->schema = catalog_col_dup(st, 5);
	t->begin_snapshot = catalog_col_int(st, 8);
	t->snapshot = n;
	sdir = meta_resolve(lk->data_path, catalog_col_text(st, 6) ? catalog_col_text(st, 6) : "",
			    (int)catalog_col_int(st, 7));
	t->dir = meta_resolve(sdir, t->rel_path ? t->rel_path : "", (int)catalog_col_int(st, 4));
	tn_free(sdir);
	*out = t;
	return 1;
}

static int load_table(struct lake *lk, struct catalog *cat, struct catalog_stmt *st, int64_t n,
		      struct lk_table **out, struct tn_err *err)
{
	int rc = load_table_row(lk, st, n, out, err);

	if (rc <= 0)
		return rc;
	rc = meta_columns(cat, (*out)->id, n, &(*out)->cols, &(*out)->ncols, err);
	if (rc) {
		meta_table_free(*out);
		*out = NULL;
		return rc;
	}
	return 1;
}

int meta_table(struct lake *lk, struct catalog *cat, const char *schema, const char *name,
	       int64_t n, struct lk_table **out, struct tn_err *err)
{
	struct catalog_stmt *st;
	char *sql = tn_xprintf("%s AND lower(s.schema_name) = lower(?1) AND lower(t.table_name) = lower(?3)", table_sql);
	int rc = catalog_prepare(cat, sql, &st, err);

	tn_free(sql);
	*out = NULL;
	if (rc)
		return rc;
	catalog_bind_text(st, 1, schema ? schema : LAKE_DEFAULT_SCHEMA);
	catalog_bind_int(st, 2, n);
	catalog_bind_text(st, 3, name);
	rc = load_table(lk, cat, st, n, out, err);
	catalog_finalize(st);
	if (rc == 0)
		return tn_err_set(err, TN_ENOTFOUND, "Table with name %s does not exist%s%s",
				  name, schema ? " in schema " : "", schema ? schema : "");
	return rc < 0 ? rc : 0;
}

int meta_table_by_id(struct lake *lk, struct catalog *cat, int64_t table_id, int64_t n,
		     struct lk_table **out, struct tn_err *err)
{
	struct catalog_stmt *st;
	char *sql = tn_xprintf("%s AND t.table_id = ?1", table_sql);
	int rc = catalog_prepare(cat, sql, &st, err);

	tn_free(sql);
	*out = NULL;
	if (rc)
		return rc;
	catalog_bind_int(st, 1, table_id);
	catalog_bind_int(st, 2, n);
	rc = load_table(lk, cat, st, n, out, err);
	catalog_finalize(st);
	if (rc == 0)
		return tn_err_set(err, TN_ENOTFOUND, "table %lld does not exist at snapshot %lld",
				  (long long)table_id, (long long)n);
	return rc < 0 ? rc : 0;
}

static int cmp_table_id(const void *a, const void *b)
{
	const struct lk_table *x = *(struct lk_table *const *)a, *y = *(struct lk_table *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static struct lk_table *table_with_id(struct lk_table **t, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && t[lo]->id == id ? t[lo] : NULL;
}

/* Give the table with this id (if it is among t) the columns all[0..n). */
static void give_columns(struct lk_table **t, size_t nt, int64_t id, struct lk_column *all, size_t n)
{
	struct lk_table *x = table_with_id(t, nt, id);

	columns_tree(all, n, x ? &x->cols : NULL, x ? &x->ncols : NULL);
}

int meta_tables_at(struct lake *lk, struct catalog *cat, int64_t n, struct lk_table ***out, size_t *nout,
		   struct tn_err *err)
{
	struct catalog_stmt *st;
	struct lk_table **t = NULL, *one;
	struct lk_column *all = NULL;
	size_t nt = 0, at = 0, nall = 0, aall = 0, i;
	int64_t cur = -1;
	int rc = catalog_prepare(cat, table_sql, &st, err);

	*out = NULL;
	*nout = 0;
	if (rc)
		return rc;
	catalog_bind_int(st, 2, n);
	while ((rc = load_table_row(lk, st, n, &one, err)) == 1) {
		TN_GROW(t, at, nt + 1);
		t[nt++] = one;
	}
	catalog_finalize(st);
	if (rc == 0 && nt > 1)
		qsort(t, nt, sizeof(*t), cmp_table_id);
	/* every live column of every table at once, split by table */
	if (rc == 0)
		rc = catalog_prepare(cat, "SELECT table_id, " COLUMN_COLS " FROM ducklake_column WHERE " VALID("")
					  " ORDER BY table_id, column_order, column_id", &st, err);
	if (rc == 0) {
		catalog_bind_int(st, 2, n);
		while ((rc = catalog_step(st, err)) == 1) {
			int64_t id = catalog_col_int(st, 0);
			if (id != cur && nall) {
				give_columns(t, nt, cur, all, nall);
				nall = 0;
			}
			cur = id;
			TN_GROW(all, aall, nall + 1);
			read_column(st, 1, &all[nall++]);
		}
		catalog_finalize(st);
		if (nall)
			give_columns(t, nt, cur, all, nall);
	}
	tn_free(all);
	if (rc < 0) {
		for (i = 0; i < nt; i++)
			meta_table_free(t[i]);
		tn_free(t);
		return rc;
	}
	*out = t;
	*nout = nt;
	return 0;
}

static int load_versions(struct catalog *cat, struct lk_table *t, struct tn_err *err)
{
	struct catalog_stmt *st;
	size_t alloc = 0;
	int rc = catalog_prepare(cat, "SELECT column_id, begin_snapshot, end_snapshot, column_name, "
				      "column_type FROM ducklake_column WHERE table_id = ? AND "
				      "parent_column IS NULL ORDER BY column_id, begin_snapshot", &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, t->id);
	while ((rc = catalog_step(st, err)) == 1) {
		struct lk_colver *v;
		TN_GROW(t->vers, alloc, t->nvers + 1);
		v = &t->vers[t->nvers++];
		v->id = catalog_col_int(st, 0);
		v->begin = catalog_col_int(st, 1);
		v->end = catalog_col_is_null(st, 2) ? INT64_MAX : catalog_col_int(st, 2);
		v->name = catalog_col_dup(st, 3);
		v->type = catalog_col_dup(st, 4);
	}
	catalog_finalize(st);
	return rc;
}

static int inlined_columns(struct catalog *cat, struct lk_inlined *in, struct tn_err *err)
{
	char **names = NULL;
	size_t n = 0, i, alloc = 0;
	int rc = catalog_table_columns(cat, in->name, &names, &n, err);

	for (i = 0; !rc && i < n; i++) {
		if (!strcmp(names[i], "row_id") || !strcmp(names[i], "begin_snapshot") || !strcmp(names[i], "end_snapshot"))
			continue;
		TN_GROW(in->colnames, alloc, in->ncols + 1);
		in->colnames[in->ncols++] = tn_strdup(names[i]);
	}
	catalog_columns_free(names, n);
	return rc;
}

static int inlined_rows(struct catalog *cat, struct lk_inlined *in, int64_t n, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct catalog_stmt *st;
	size_t alloc = 0, valloc = 0, k;
	int rc;

	tn_buf_adds(&q, "SELECT row_id");
	for (k = 0; k < in->ncols; k++) {
		tn_buf_adds(&q, ", ");
		tn_buf_add_sqlid(&q, in->colnames[k]);
	}
	tn_buf_adds(&q, " FROM ");
	tn_buf_add_sqlid(&q, in->name);
	tn_buf_adds(&q, " WHERE begin_snapshot <= ?1 AND (end_snapshot IS NULL OR end_snapshot > ?1) ORDER BY row_id");
	rc = catalog_prepare(cat, q.buf, &st, err);
	tn_buf_release(&q);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, n);
	while ((rc = catalog_step(st, err)) == 1) {
		TN_GROW(in->row_ids, alloc, in->nrows + 1);
		TN_GROW(in->values, valloc, (in->nrows + 1) * in->ncols + 1);
		in->row_ids[in->nrows] = catalog_col_int(st, 0);
		for (k = 0; k < in->ncols; k++)
			in->values[in->nrows * in->ncols + k] = catalog_col_dup(st, (int)k + 1);
		in->nrows++;
	}
	catalog_finalize(st);
	return rc;
}

static int load_inlined(struct catalog *cat, struct lk_table *t, struct tn_err *err)
{
	struct catalog_stmt *st;
	size_t alloc = 0;
	int rc = catalog_prepare(cat, "SELECT i.table_name, (SELECT min(v.begin_snapshot) FROM "
				      "ducklake_schema_versions v WHERE v.table_id = i.table_id AND v.schema_version = "
				      "i.schema_version) FROM ducklake_inlined_data_tables i WHERE i.table_id = ? "
				      "ORDER BY i.schema_version", &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, t->id);
	while ((rc = catalog_step(st, err)) == 1) {
		struct lk_inlined *in;
		TN_GROW(t->inl, alloc, t->ninl + 1);
		in = &t->inl[t->ninl++];
		memset(in, 0, sizeof(*in));
		in->name = catalog_col_dup(st, 0);
		in->layout_snap = catalog_col_is_null(st, 1) ? t->begin_snapshot : catalog_col_int(st, 1);
	}
	catalog_finalize(st);
	for (alloc = 0; rc == 0 && alloc < t->ninl; alloc++) {
		rc = inlined_columns(cat, &t->inl[alloc], err);
		if (!rc)
			rc = inlined_rows(cat, &t->inl[alloc], t->snapshot, err);
	}
	return rc;
}

const char *meta_inline_type(const char *lake)
{
	if (!strcmp(lake, "boolean") || (!strncmp(lake, "int", 3) && strcmp(lake, "int128")) ||
	    (!strncmp(lake, "uint", 4) && strcmp(lake, "uint64") && strcmp(lake, "uint128")))
		return "BIGINT";
	if (!strcmp(lake, "blob"))
		return "VARCHAR";
	return "VARCHAR";
}

#define FILE_COLS \
	"f.data_file_id, f.begin_snapshot, f.record_count, f.file_size_bytes, f.row_id_start, f.path, " \
	"f.path_is_relative, d.delete_file_id, d.path, d.path_is_relative, d.delete_count, d.begin_snapshot, " \
	"d.file_size_bytes"
#define FILE_JOIN \
	"LEFT JOIN ducklake_delete_file d ON d.table_id = ?1 AND d.data_file_id = f.data_file_id AND " VALID("d.")

static int read_files(struct catalog_stmt *st, struct lk_table *t, struct tn_err *err)
{
	size_t alloc = 0;
	int rc;

	while ((rc = catalog_step(st, err)) == 1) {
		struct lk_file *f;
		TN_GROW(t->files, alloc, t->nfiles + 1);
		f = &t->files[t->nfiles++];
		memset(f, 0, sizeof(*f));
		f->id = catalog_col_int(st, 0);
		f->begin_snapshot = catalog_col_int(st, 1);
		f->record_count = catalog_col_int(st, 2);
		f->size = catalog_col_int(st, 3);
		f->row_id_start = catalog_col_int(st, 4);
		f->path = meta_resolve(t->dir, catalog_col_text(st, 5), (int)catalog_col_int(st, 6));
		if (!catalog_col_is_null(st, 7)) {
			f->del_id = catalog_col_int(st, 7);
			f->del_path = meta_resolve(t->dir, catalog_col_text(st, 8),
						   (int)catalog_col_int(st, 9));
			f->del_count = catalog_col_int(st, 10);
			f->del_begin = catalog_col_int(st, 11);
			f->del_size = catalog_col_int(st, 12);
		}
	}
	catalog_finalize(st);
	return rc;
}

/* The snapshot that added column `id` (its first version), or -1. */
static int64_t column_birth(const struct lk_table *t, int64_t id)
{
	int64_t b = -1;
	size_t i;

	for (i = 0; i < t->nvers; i++)
		if (t->vers[i].id == id && (b < 0 || t->vers[i].begin < b))
			b = t->vers[i].begin;
	return b;
}

/* Integer statistics lie within +-1e18 (catalog_int_of), so bounds are
 * clamped to +-2e18 without changing any answer, and lo - W (W <= 2e18)
 * cannot overflow. */
#define BOUND_CLAMP 2000000000000000000LL

/*
 * The files that may hold a value of column b->column_id within
 * [b->lo, b->hi], found through the statistics indexes
 * (lake_catalog_indexes), never by reading every file's row: a file whose
 * min lies in [lo - W, hi] with max >= lo, where W is the widest file
 * (max - min) of the column, so the scan on min has both ends. Kept too:
 * files whose min or max is not a plain integer (unknown), and files older
 * than the column, which have no statistics for it. Every writer (tarn,
 * DuckDB's ducklake) writes a statistics row per column for each file it
 * adds; a file without one would be wrongly skipped. *done = 0 when the
 * statistics cannot say: then load everything.
 */
static int load_bounded(struct catalog *cat, struct lk_table *t, const struct meta_bound *b, int *done,
			struct tn_err *err)
{
	char *mn = catalog_int_of(cat, "min_value"), *mx = catalog_int_of(cat, "max_value"), *q = NULL;
	char *list = NULL;
	struct tn_buf ids = TN_BUF_INIT(TN_BUF_NOMAX);
	struct catalog_stmt *st = NULL;
	int64_t birth = column_birth(t, b->column_id), w = -1, lo;
	int rc = 0;

	*done = 0;
	if (birth < 0)
		goto out;
	/* W, the widest file; NULL when no file has integer statistics for
	 * the column: then they cannot say, and everything is loaded. */
	q = tn_xprintf("SELECT max(%s - %s) FROM ducklake_file_column_stats WHERE table_id = ? AND column_id = ?",
		       mx, mn);
	rc = catalog_prepare(cat, q, &st, err);
	if (!rc) {
		catalog_bind_int(st, 1, t->id);
		catalog_bind_int(st, 2, b->column_id);
		rc = catalog_step(st, err);
		if (rc == 1 && !catalog_col_is_null(st, 0))
			w = catalog_col_int(st, 0);
		rc = rc < 0 ? rc : 0;
		catalog_finalize(st);
		st = NULL;
	}
	if (rc || w < 0)
		goto out;
	tn_free(q);
	q = tn_xprintf("SELECT data_file_id FROM ducklake_file_column_stats WHERE table_id = ?1 "
		       "AND column_id = ?2 AND %s BETWEEN ?3 AND ?4 AND %s >= ?5 "
		       "UNION SELECT data_file_id FROM ducklake_file_column_stats WHERE table_id = ?1 "
		       "AND column_id = ?2 AND (%s - %s) IS NULL "
		       "UNION SELECT data_file_id FROM ducklake_data_file WHERE table_id = ?1 AND begin_snapshot < ?6",
		       mn, mx, mx, mn);
	rc = catalog_prepare(cat, q, &st, err);
	if (rc)
		goto out;
	lo = b->lo < -BOUND_CLAMP ? -BOUND_CLAMP : b->lo;
	catalog_bind_int(st, 1, t->id);
	catalog_bind_int(st, 2, b->column_id);
	catalog_bind_int(st, 3, lo - w);
	catalog_bind_int(st, 4, b->hi > BOUND_CLAMP ? BOUND_CLAMP : b->hi);
	catalog_bind_int(st, 5, lo);
	catalog_bind_int(st, 6, birth);
	tn_buf_addc(&ids, '[');
	while ((rc = catalog_step(st, err)) == 1)
		tn_buf_addf(&ids, "%s%lld", ids.len > 1 ? "," : "", (long long)catalog_col_int(st, 0));
	tn_buf_addc(&ids, ']');
	catalog_finalize(st);
	st = NULL;
	if (rc < 0 || (rc = tn_buf_check(&ids, err)))
		goto out;
	/* Then those files, looked up by id (two statements, so that no
	 * planner has to guess how few the candidates are). */
	tn_free(q);
	list = catalog_json_ids(cat, "?3");
	q = tn_xprintf("SELECT " FILE_COLS " FROM %s c CROSS JOIN ducklake_data_file f " FILE_JOIN
		       " WHERE f.data_file_id = c.id AND f.table_id = ?1 AND " VALID("f.") " ORDER BY f.data_file_id",
		       list);
	rc = catalog_prepare(cat, q, &st, err);
	if (rc)
		goto out;
	catalog_bind_int(st, 1, t->id);
	catalog_bind_int(st, 2, t->snapshot);
	catalog_bind_text(st, 3, ids.buf);
	rc = read_files(st, t, err);
	*done = 1;
out:
	tn_buf_release(&ids);
	tn_free(list);
	tn_free(q);
	tn_free(mn);
	tn_free(mx);
	return rc;
}

int meta_load_files_bounded(struct lake *lk, struct catalog *cat, struct lk_table *t,
			    const struct meta_bound *b, int *applied, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc, done = 0;

	if (applied)
		*applied = 0;
	(void)lk;
	rc = load_versions(cat, t, err);
	if (!rc)
		rc = load_inlined(cat, t, err);
	if (!rc && b)
		rc = load_bounded(cat, t, b, &done, err);
	if (applied)
		*applied = done;
	if (rc || done)
		return rc;
	rc = catalog_prepare(cat, "SELECT " FILE_COLS " FROM ducklake_data_file f " FILE_JOIN
				  " WHERE f.table_id = ?1 AND " VALID("f.") " ORDER BY f.data_file_id", &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, t->id);
	catalog_bind_int(st, 2, t->snapshot);
	return read_files(st, t, err);
}

int meta_load_files(struct lake *lk, struct catalog *cat, struct lk_table *t, struct tn_err *err)
{
	return meta_load_files_bounded(lk, cat, t, NULL, NULL, err);
}

int meta_view(struct catalog *cat, const char *schema, const char *name, int64_t n,
	      int64_t *id, char **sql, int *found, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(cat, "SELECT v.view_id, v.sql FROM ducklake_view v JOIN ducklake_schema s "
				      "ON s.schema_id = v.schema_id WHERE lower(s.schema_name) = lower(?1) "
				      "AND lower(v.view_name) = lower(?3) AND " VALID("v.") " AND " VALID("s."),
				 &st, err);
	*found = 0;
	*id = 0;
	if (sql)
		*sql = NULL;
	if (rc)
		return rc;
	catalog_bind_text(st, 1, schema ? schema : LAKE_DEFAULT_SCHEMA);
	catalog_bind_int(st, 2, n);
	catalog_bind_text(st, 3, name);
	rc = catalog_step(st, err);
	if (rc == 1) {
		*found = 1;
		*id = catalog_col_int(st, 0);
		if (sql)
			*sql = catalog_col_dup(st, 1);
		rc = 0;
	}
	catalog_finalize(st);
	return rc;
}

struct lk_column *meta_find_column(struct lk_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (tn_strieq(t->cols[i].name, name))
			return &t->cols[i];
	return NULL;
}

static const struct {
	const char *lake, *duck;
} type_names[] = {
	{ "boolean", "BOOLEAN" }, { "int8", "TINYINT" }, { "int16", "SMALLINT" },
	{ "int32", "INTEGER" }, { "int64", "BIGINT" }, { "int128", "HUGEINT" },
	{ "uint8", "UTINYINT" }, { "uint16", "USMALLINT" }, { "uint32", "UINTEGER" },
	{ "uint64", "UBIGINT" }, { "uint128", "UHUGEINT" }, { "float32", "FLOAT" },
	{ "float64", "DOUBLE" }, { "time", "TIME" }, { "timetz", "TIME WITH TIME ZONE" },
	{ "date", "DATE" }, { "timestamp", "TIMESTAMP" }, { "timestamp_us", "TIMESTAMP" },
	{ "timestamptz", "TIMESTAMP WITH TIME ZONE" }, { "timestamp_s", "TIMESTAMP_S" },
	{ "timestamp_ms", "TIMESTAMP_MS" }, { "timestamp_ns", "TIMESTAMP_NS" },
	{ "interval", "INTERVAL" }, { "varchar", "VARCHAR" }, { "blob", "BLOB" },
	{ "json", "JSON" }, { "uuid", "UUID" },
};

char *meta_duck_type(const struct lk_column *c)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;
	char *sub;

	if (!strncmp(c->type, "decimal", 7)) {
		char *s = tn_xprintf("DECIMAL%s", c->type + 7);
		return s;
	}
	if (!strcmp(c->type, "list") && c->nchild == 1) {
		sub = meta_duck_type(&c->child[0]);
		tn_buf_addf(&b, "%s[]", sub);
		tn_free(sub);
		return tn_buf_detach(&b, NULL);
	}
	if (!strcmp(c->type, "map") && c->nchild == 2) {
		char *k = meta_duck_type(&c->child[0]), *v = meta_duck_type(&c->child[1]);
		tn_buf_addf(&b, "MAP(%s, %s)", k, v);
		tn_free(k);
		tn_free(v);
		return tn_buf_detach(&b, NULL);
	}
	if (!strcmp(c->type, "struct")) {
		tn_buf_adds(&b, "STRUCT(");
		for (i = 0; i < c->nchild; i++) {
			if (i)
				tn_buf_adds(&b, ", ");
			tn_buf_add_sqlid(&b, c->child[i].name);
			sub = meta_duck_type(&c->child[i]);
			tn_buf_addf(&b, " %s", sub);
			tn_free(sub);
		}
		tn_buf_addc(&b, ')');
		return tn_buf_detach(&b, NULL);
	}
	for (i = 0; i < TN_ARRAY_LEN(type_names); i++)
		if (tn_strieq(c->type, type_names[i].lake))
			return tn_strdup(type_names[i].duck);
	/* Unknown to tarn (a newer format?): let DuckDB try the name as is. */
	return tn_strdup(c->type);
}
