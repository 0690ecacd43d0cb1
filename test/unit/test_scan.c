/*
 * Unit tests of lake/scan: the SQL that reads a table at a snapshot. Files of
 * one column layout share one plain read_parquet(); renamed, widened and
 * added columns map by column id; only files with deletes pay the anti-join.
 */
#include "base/compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "lake/lake_int.h"
#include "base/tn_mem.h"

static int count(const char *hay, const char *needle)
{
	int n = 0;
	const char *p;

	for (p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static struct lk_table *table(void)
{
	struct lk_table *t = tn_calloc(1, sizeof(*t));

	t->id = 1;
	t->name = tn_strdup("t");
	t->schema = tn_strdup("main");
	t->dir = tn_strdup("/lake/data/main/t/");
	t->snapshot = 10;
	t->ncols = 2;
	t->cols = tn_calloc(2, sizeof(*t->cols));
	t->cols[0].id = 1;
	t->cols[0].name = tn_strdup("a");
	t->cols[0].type = tn_strdup("int64");
	t->cols[1].id = 2;
	t->cols[1].name = tn_strdup("b");
	t->cols[1].type = tn_strdup("varchar");
	t->cols[1].initial_default = tn_strdup("x'y");
	/* a: int32 until snapshot 5, then int64; b added at snapshot 7 */
	t->nvers = 3;
	t->vers = tn_calloc(3, sizeof(*t->vers));
	t->vers[0] = (struct lk_colver){ 1, 1, 5, tn_strdup("a_old"), tn_strdup("int32") };
	t->vers[1] = (struct lk_colver){ 1, 5, INT64_MAX, tn_strdup("a"), tn_strdup("int64") };
	t->vers[2] = (struct lk_colver){ 2, 7, INT64_MAX, tn_strdup("b"), tn_strdup("varchar") };
	return t;
}

static void add_file(struct lk_table *t, int64_t id, int64_t snap, const char *del)
{
	struct lk_file *f;

	t->files = tn_realloc(t->files, (t->nfiles + 1) * sizeof(*t->files));
	f = &t->files[t->nfiles++];
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->begin_snapshot = snap;
	f->record_count = 10;
	f->path = tn_xprintf("/lake/data/main/t/f%lld.parquet", (long long)id);
	if (del) {
		f->del_id = id + 100;
		f->del_path = tn_strdup(del);
		f->del_count = 1;
	}
}

static char *scan(struct lk_table *t, int positions)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err err = TN_ERR_INIT;

	assert_int_equal(scan_sql(t, positions, &b, &err), 0);
	return tn_buf_detach(&b, NULL);
}

static void test_empty(void **state)
{
	struct lk_table *t = table();
	char *sql = scan(t, 0);

	(void)state;
	assert_non_null(strstr(sql, "WHERE false"));
	assert_int_equal(count(sql, "read_parquet"), 0);
	tn_free(sql);
	meta_table_free(t);
}

static void test_layouts(void **state)
{
	struct lk_table *t = table();
	char *sql;

	(void)state;
	add_file(t, 1, 2, NULL);   /* layout a_old int32 */
	add_file(t, 2, 3, NULL);   /* same layout, another snapshot */
	add_file(t, 3, 8, NULL);   /* current layout */
	add_file(t, 4, 9, NULL);   /* current layout */
	sql = scan(t, 0);
	/* two layouts, two plain scans, no positions */
	assert_int_equal(count(sql, "read_parquet("), 2);
	assert_int_equal(count(sql, "file_row_number"), 0);
	assert_non_null(strstr(sql, "CAST(\"a_old\" AS BIGINT) AS \"a\""));
	assert_non_null(strstr(sql, "CAST('x''y' AS VARCHAR) AS \"b\""));
	assert_non_null(strstr(sql, "f1.parquet','/lake/data/main/t/f2.parquet'"));
	assert_non_null(strstr(sql, "SELECT \"a\", \"b\" FROM read_parquet(["));
	tn_free(sql);
	meta_table_free(t);
}

static void test_deletes_only_where_needed(void **state)
{
	struct lk_table *t = table();
	char *sql;

	(void)state;
	add_file(t, 1, 8, NULL);
	add_file(t, 2, 8, "/lake/data/main/t/d2.parquet");
	sql = scan(t, 0);
	assert_int_equal(count(sql, "NOT EXISTS"), 1);
	/* read once, and matched to its data file by name */
	assert_int_equal(count(sql, "d2.parquet"), 2);
	assert_non_null(strstr(sql, "('/lake/data/main/t/d2.parquet','/lake/data/main/t/f2.parquet')"));
	/* the file without deletes is read plainly */
	assert_non_null(strstr(sql, "read_parquet(['/lake/data/main/t/f1.parquet'])"));
	tn_free(sql);
	meta_table_free(t);
}

static void test_positions(void **state)
{
	struct lk_table *t = table();
	char *sql;

	(void)state;
	add_file(t, 5, 8, NULL);
	add_file(t, 6, 8, NULL);
	sql = scan(t, 1);
	/* one grouped scan maps file names to ids */
	assert_int_equal(count(sql, "read_parquet("), 1);
	assert_non_null(strstr(sql, "__tarn_fid"));
	assert_non_null(strstr(sql, "CAST(6 AS BIGINT)"));
	tn_free(sql);
	meta_table_free(t);
}

static void test_inlined(void **state)
{
	struct lk_table *t = table();
	struct lk_inlined *in;
	char *sql;

	(void)state;
	t->ninl = 1;
	t->inl = tn_calloc(1, sizeof(*t->inl));
	in = &t->inl[0];
	in->name = tn_strdup("ducklake_inlined_data_1_3");
	in->layout_snap = 8;
	in->ncols = 2;
	in->colnames = tn_calloc(2, sizeof(char *));
	in->colnames[0] = tn_strdup("a");
	in->colnames[1] = tn_strdup("b");
	in->nrows = 1;
	in->row_ids = tn_calloc(1, sizeof(int64_t));
	in->row_ids[0] = 42;
	in->values = tn_calloc(2, sizeof(char *));
	in->values[0] = tn_strdup("7");
	in->values[1] = NULL;
	sql = scan(t, 0);
	assert_non_null(strstr(sql, "VALUES (42, '7', NULL)"));
	assert_int_equal(count(sql, "read_parquet"), 0);
	tn_free(sql);
	sql = scan(t, 1);
	assert_non_null(strstr(sql, "CAST(-1 AS BIGINT) AS __tarn_fid"));
	tn_free(sql);
	meta_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_deletes_only_where_needed),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_inlined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
