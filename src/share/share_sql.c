/*
 * share_sql.c - the share layer's view of tables: names, columns and
 * comments from tarn's introspection functions, and COPY of a table's rows
 * to a file, all through session_exec.
 */
#include "base/compat.h"
#include "share/share_int.h"
#include "base/tn_mem.h"

void share_add_table_ref(struct tn_buf *b, const char *schema, const char *name)
{
	tn_buf_add_sqlid(b, schema);
	tn_buf_addc(b, '.');
	tn_buf_add_sqlid(b, name);
}

static int run(struct session *s, struct tn_buf *q, struct duck_result **r, struct tn_err *err)
{
	int rc = tn_buf_check(q, err);

	*r = NULL;
	if (!rc)
		rc = session_exec(s, q->buf, r, err);
	if (!rc && !*r)
		rc = tn_err_set(err, TN_EINTERNAL, "no result for: %s", q->buf);
	return rc;
}

int share_query_int(struct session *s, const char *sql, int64_t *out, struct tn_err *err)
{
	struct duck_result *r = NULL;
	int rc = session_exec(s, sql, &r, err);

	*out = 0;
	if (!rc && (!r || duck_result_nrows(r) < 1 || duck_result_is_null(r, 0, 0)))
		rc = tn_err_set(err, TN_EINTERNAL, "no value for: %s", sql);
	if (!rc)
		*out = duck_result_int(r, 0, 0);
	duck_result_free(r);
	return rc;
}

int share_snapshot(struct session *s, int64_t at, int64_t *snap, struct tn_err *err)
{
	char sql[160];
	int64_t found = 0;
	int rc;

	if (at < 0)
		return share_query_int(s, "SELECT max(snapshot_id) FROM tarn_snapshots()", snap, err);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tarn_snapshots() WHERE snapshot_id = %lld",
		 (long long)at);
	rc = share_query_int(s, sql, &found, err);
	if (!rc && !found)
		rc = tn_err_set(err, TN_ENOTFOUND, "there is no snapshot %lld (see `tarn snapshots`)",
				(long long)at);
	*snap = at;
	return rc;
}

/* ---- tables and columns ---- */

static int find_table(struct session *s, const char *schema, const char *name, struct share_table *t,
		      struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	int rc;

	tn_buf_adds(&q, "SELECT schema_name, table_name, table_id, comment FROM tarn_tables() "
		    "WHERE kind = 'table' AND lower(schema_name) = lower(");
	tn_buf_add_sqlstr(&q, schema);
	tn_buf_adds(&q, ") AND lower(table_name) = lower(");
	tn_buf_add_sqlstr(&q, name);
	tn_buf_adds(&q, ") ORDER BY (schema_name = ");
	tn_buf_add_sqlstr(&q, schema);
	tn_buf_adds(&q, " AND table_name = ");
	tn_buf_add_sqlstr(&q, name);
	tn_buf_adds(&q, ") DESC LIMIT 1");
	rc = run(s, &q, &r, err);
	if (!rc && duck_result_nrows(r) == 0)
		rc = tn_err_set(err, TN_ENOTFOUND, "there is no table %s.%s (see `tarn tables`)", schema, name);
	if (!rc) {
		t->schema = duck_result_text(r, 0, 0);
		t->name = duck_result_text(r, 1, 0);
		t->id = duck_result_int(r, 2, 0);
		t->comment = duck_result_text(r, 3, 0);
	}
	duck_result_free(r);
	tn_buf_release(&q);
	return rc;
}

static int load_columns(struct session *s, struct share_table *t, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX), full = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	uint64_t i;
	int rc;

	tn_buf_addf(&full, "%s.%s", t->schema, t->name);
	tn_buf_adds(&q, "SELECT column_name, column_type, comment FROM tarn_columns(");
	tn_buf_add_sqlstr(&q, full.buf);
	tn_buf_adds(&q, ") WHERE schema_name = ");
	tn_buf_add_sqlstr(&q, t->schema);
	tn_buf_adds(&q, " AND table_name = ");
	tn_buf_add_sqlstr(&q, t->name);
	tn_buf_adds(&q, " ORDER BY column_id");
	rc = run(s, &q, &r, err);
	if (!rc) {
		t->ncols = (size_t)duck_result_nrows(r);
		t->cols = tn_calloc(t->ncols, sizeof(*t->cols));
		for (i = 0; i < t->ncols; i++) {
			t->cols[i].name = duck_result_text(r, 0, i);
			t->cols[i].type = duck_result_text(r, 1, i);
			t->cols[i].comment = duck_result_text(r, 2, i);
		}
	}
	duck_result_free(r);
	tn_buf_release(&q);
	tn_buf_release(&full);
	return rc;
}

int share_table_load(struct session *s, const char *schema, const char *name,
		     struct share_table *t, struct tn_err *err)
{
	int rc;

	memset(t, 0, sizeof(*t));
	rc = find_table(s, schema, name, t, err);
	if (!rc)
		rc = load_columns(s, t, err);
	if (rc)
		share_table_release(t);
	return rc;
}

void share_table_release(struct share_table *t)
{
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		tn_free(t->cols[i].name);
		tn_free(t->cols[i].type);
		tn_free(t->cols[i].comment);
	}
	tn_free(t->cols);
	tn_free(t->schema);
	tn_free(t->name);
	tn_free(t->comment);
	memset(t, 0, sizeof(*t));
}

int share_schema_tables(struct session *s, const char *schema, char ***names, size_t *n,
			struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	uint64_t i;
	int rc;

	*names = NULL;
	*n = 0;
	tn_buf_adds(&q, "SELECT table_name FROM tarn_tables() WHERE kind = 'table' AND schema_name = ");
	tn_buf_add_sqlstr(&q, schema);
	tn_buf_adds(&q, " ORDER BY table_name");
	rc = run(s, &q, &r, err);
	if (!rc && duck_result_nrows(r) == 0)
		rc = tn_err_set(err, TN_ENOTFOUND, "schema %s has no tables (see `tarn tables`; "
				"schema names are case-sensitive here)", schema);
	if (!rc) {
		*n = (size_t)duck_result_nrows(r);
		*names = tn_calloc(*n, sizeof(**names));
		for (i = 0; i < *n; i++)
			(*names)[i] = duck_result_text(r, 0, i);
	}
	duck_result_free(r);
	tn_buf_release(&q);
	return rc;
}

void share_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; names && i < n; i++)
		tn_free(names[i]);
	tn_free(names);
}

/* ---- COPY ---- */

int share_format_ok(const char *format)
{
	return !strcmp(format, "parquet") || !strcmp(format, "csv") || !strcmp(format, "json");
}

static void kv_pair(struct tn_buf *b, const char *key, const char *value)
{
	tn_buf_adds(b, b->buf[b->len - 1] == '{' ? "" : ", ");
	tn_buf_add_sqlstr(b, key);
	tn_buf_adds(b, ": ");
	tn_buf_add_sqlstr(b, value);
}

/* The comments as Parquet key-value metadata: readers such as pyarrow and
 * DuckDB's parquet_kv_metadata() show them without knowing tarn. */
static void add_kv_metadata(struct tn_buf *b, const struct share_table *t, int64_t snapshot)
{
	char *v = tn_xprintf("%s.%s", t->schema, t->name), *k;
	size_t i;

	tn_buf_adds(b, ", KV_METADATA {");
	kv_pair(b, "tarn.table", v);
	tn_free(v);
	v = tn_xprintf("%lld", (long long)snapshot);
	kv_pair(b, "tarn.snapshot", v);
	tn_free(v);
	if (t->comment)
		kv_pair(b, "tarn.table_comment", t->comment);
	for (i = 0; i < t->ncols; i++) {
		if (!t->cols[i].comment)
			continue;
		k = tn_xprintf("tarn.column_comment.%s", t->cols[i].name);
		kv_pair(b, k, t->cols[i].comment);
		tn_free(k);
	}
	tn_buf_addc(b, '}');
}

static void copy_sql(struct tn_buf *q, const char *from, const struct share_table *t, int64_t snapshot,
		     const char *format, const char *path)
{
	tn_buf_addf(q, "COPY (SELECT * FROM %s) TO ", from);
	tn_buf_add_sqlstr(q, path);
	if (!strcmp(format, "parquet")) {
		tn_buf_adds(q, " (FORMAT parquet");
		add_kv_metadata(q, t, snapshot);
	} else if (!strcmp(format, "csv")) {
		tn_buf_adds(q, " (FORMAT csv, HEADER true");
	} else {
		tn_buf_adds(q, " (FORMAT json");
	}
	tn_buf_addc(q, ')');
}

static int copy_from(struct session *s, const char *from, const struct share_table *t, int64_t snapshot,
		     const char *format, const char *path, int64_t *rows, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	int rc;

	copy_sql(&q, from, t, snapshot, format, path);
	rc = run(s, &q, &r, err);
	if (!rc)
		*rows = duck_result_nrows(r) ? duck_result_int(r, 0, 0) : 0;
	duck_result_free(r);
	tn_buf_release(&q);
	return rc;
}

int share_table_at(struct session *s, const struct share_table *t, int64_t at, int *yes,
		   struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	tn_buf_adds(&q, "SELECT * FROM ");
	share_add_table_ref(&q, t->schema, t->name);
	tn_buf_addf(&q, " AT (VERSION => %lld) LIMIT 0", (long long)at);
	rc = tn_buf_check(&q, err);
	if (!rc)
		rc = session_exec(s, q.buf, NULL, err);
	*yes = !rc;
	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);   /* created after snapshot `at` */
		rc = 0;
	}
	tn_buf_release(&q);
	return rc;
}

/* The comment of column `name` among `cols` (borrowed), or NULL. */
static const char *comment_of(const struct share_column *cols, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(cols[i].name, name))
			return cols[i].comment;
	return NULL;
}

int share_table_columns_at(struct session *s, struct share_table *t, int64_t at, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	struct share_column *cols = NULL;
	uint64_t i, n = 0;
	int rc;

	tn_buf_adds(&q, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ");
	share_add_table_ref(&q, t->schema, t->name);
	tn_buf_addf(&q, " AT (VERSION => %lld))", (long long)at);
	rc = run(s, &q, &r, err);
	if (!rc) {
		n = duck_result_nrows(r);
		cols = tn_calloc(n ? n : 1, sizeof(*cols));
	}
	for (i = 0; !rc && i < n; i++) {
		const char *c;
		cols[i].name = duck_result_text(r, 0, i);
		cols[i].type = duck_result_text(r, 1, i);
		c = comment_of(t->cols, t->ncols, cols[i].name);
		cols[i].comment = c ? tn_strdup(c) : NULL;
	}
	if (!rc) {
		struct share_table old = { NULL, NULL, NULL, 0, t->cols, t->ncols };
		share_table_release(&old);
		t->cols = cols;
		t->ncols = (size_t)n;
	}
	duck_result_free(r);
	tn_buf_release(&q);
	return rc;
}

int share_copy(struct session *s, const struct share_table *t, int64_t at, int64_t snapshot,
	       const char *format, const char *path, int64_t *rows, struct tn_err *err)
{
	struct tn_buf from = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	*rows = 0;
	share_add_table_ref(&from, t->schema, t->name);
	if (at >= 0)
		tn_buf_addf(&from, " AT (VERSION => %lld)", (long long)at);
	rc = tn_buf_check(&from, err);
	if (!rc)
		rc = copy_from(s, from.buf, t, snapshot, format, path, rows, err);
	tn_buf_release(&from);
	return rc;
}
