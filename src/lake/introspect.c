/*
 * introspect: tarn_snapshots(), tarn_tables(), tarn_columns('t') and
 * tarn_files('t') as SQL table functions. They are temp macros over temp
 * tables filled from the catalog at the snapshot being read, refreshed
 * only when a statement names one of them.
 */
#include "base/compat.h"
#include "lake/session_int.h"
#include "base/tn_mem.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define VALID(a) "(" a "begin_snapshot <= ?1 AND (" a "end_snapshot IS NULL OR " a "end_snapshot > ?1))"

/* Column kinds of a meta table: 'i' BIGINT, 't' VARCHAR, 'z' TIMESTAMPTZ, 'b' BOOLEAN. */
static void add_value(struct tn_buf *b, struct catalog_stmt *st, int col, char kind)
{
	const char *v = catalog_col_text(st, col);

	if (!v) {
		tn_buf_adds(b, "NULL");
		return;
	}
	if (kind == 'i' || kind == 'b')
		tn_buf_addf(b, "%lld", (long long)catalog_col_int(st, col));
	else
		tn_buf_add_sqlstr(b, v);
	if (kind == 'b')
		tn_buf_adds(b, "::BOOLEAN");
	if (kind == 'z')
		tn_buf_adds(b, "::TIMESTAMPTZ");
}

/* Fill temp.<table> (created with `ddl`) from a catalog query bound to snapshot n. */
static int fill(struct session *s, const char *table, const char *ddl, const char *kinds,
		const char *sql, int64_t n, struct tn_err *err)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	struct catalog_stmt *st;
	size_t i, rows = 0, ncols = strlen(kinds);
	int rc;

	tn_buf_addf(&b, "CREATE OR REPLACE TEMP TABLE %s %s", table, ddl);
	rc = duck_exec(s->duck, b.buf, err);
	if (!rc)
		rc = catalog_prepare(s->cat, sql, &st, err);
	if (rc) {
		tn_buf_release(&b);
		return rc;
	}
	catalog_bind_int(st, 1, n);
	tn_buf_reset(&b);
	while ((rc = catalog_step(st, err)) == 1) {
		tn_buf_addf(&b, "%s(", rows++ % 1000 ? ", " : "");
		for (i = 0; i < ncols; i++) {
			if (i)
				tn_buf_adds(&b, ", ");
			add_value(&b, st, (int)i, kinds[i]);
		}
		tn_buf_addc(&b, ')');
		if (rows % 1000 == 0) {
			char *q = tn_xprintf("INSERT INTO %s VALUES %s", table, b.buf);
			rc = duck_exec(s->duck, q, err);
			tn_free(q);
			tn_buf_reset(&b);
			if (rc)
				break;
		}
	}
	catalog_finalize(st);
	if (rc >= 0 && b.len) {
		char *q = tn_xprintf("INSERT INTO %s VALUES %s", table, b.buf);
		rc = duck_exec(s->duck, q, err);
		tn_free(q);
	}
	tn_buf_release(&b);
	return rc < 0 ? rc : 0;
}

static const char *tables_sql =
	"SELECT s.schema_name, t.table_name, t.table_id, 'table', "
	"(SELECT count(*) FROM ducklake_column c WHERE c.table_id = t.table_id AND c.parent_column IS NULL AND " VALID("c.") "), "
	"(SELECT coalesce(sum(f.record_count), 0) FROM ducklake_data_file f WHERE f.table_id = t.table_id AND " VALID("f.") ") - "
	"(SELECT coalesce(sum(d.delete_count), 0) FROM ducklake_delete_file d JOIN ducklake_data_file f2 ON "
	" f2.data_file_id = d.data_file_id WHERE d.table_id = t.table_id AND " VALID("d.") " AND " VALID("f2.") "), "
	"(SELECT count(*) FROM ducklake_data_file f WHERE f.table_id = t.table_id AND " VALID("f.") "), "
	"(SELECT coalesce(sum(f.file_size_bytes), 0) FROM ducklake_data_file f WHERE f.table_id = t.table_id AND " VALID("f.") "), "
	"(SELECT g.value FROM ducklake_tag g WHERE g.object_id = t.table_id AND g.key = 'comment' AND " VALID("g.") ") "
	"FROM ducklake_table t JOIN ducklake_schema s ON s.schema_id = t.schema_id WHERE " VALID("t.") " AND " VALID("s.")
	" UNION ALL SELECT s.schema_name, v.view_name, v.view_id, 'view', NULL, NULL, NULL, NULL, "
	"(SELECT g.value FROM ducklake_tag g WHERE g.object_id = v.view_id AND g.key = 'comment' AND " VALID("g.") ") "
	"FROM ducklake_view v JOIN ducklake_schema s ON s.schema_id = v.schema_id WHERE " VALID("v.") " AND " VALID("s.")
	" ORDER BY 1, 2";

static const char *files_sql =
	"SELECT s.schema_name, t.table_name, f.data_file_id, f.path, f.record_count, f.file_size_bytes, "
	"d.delete_count, f.begin_snapshot FROM ducklake_data_file f JOIN ducklake_table t ON t.table_id = f.table_id "
	"JOIN ducklake_schema s ON s.schema_id = t.schema_id LEFT JOIN ducklake_delete_file d ON "
	"d.data_file_id = f.data_file_id AND " VALID("d.") " WHERE " VALID("f.") " AND " VALID("t.") " AND " VALID("s.")
	" ORDER BY 1, 2, 3";

static const char *snapshots_sql =
	"SELECT s.snapshot_id, s.snapshot_time, s.schema_version, c.changes_made, c.author, c.commit_message "
	"FROM ducklake_snapshot s LEFT JOIN ducklake_snapshot_changes c ON c.snapshot_id = s.snapshot_id "
	"WHERE s.snapshot_id <= ?1 ORDER BY 1";

/* Columns need DuckDB's type names, which only the column tree gives. */
static int fill_columns(struct session *s, int64_t n, struct tn_err *err)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	struct catalog_stmt *st;
	int rc = duck_exec(s->duck, "CREATE OR REPLACE TEMP TABLE __tarn_meta_columns (schema_name VARCHAR, "
			   "table_name VARCHAR, column_id BIGINT, column_name VARCHAR, column_type VARCHAR, "
			   "nullable BOOLEAN, default_value VARCHAR, comment VARCHAR)", err);

	if (!rc)
		rc = catalog_prepare(s->cat, "SELECT t.table_id FROM ducklake_table t WHERE " VALID("t."), &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, n);
	while ((rc = catalog_step(st, err)) == 1) {
		struct lk_table *t = NULL;
		size_t i;
		rc = meta_table_by_id(s->lk, s->cat, catalog_col_int(st, 0), n, &t, err);
		for (i = 0; !rc && i < t->ncols; i++) {
			struct lk_column *c = &t->cols[i];
			char *dt = meta_duck_type(c);
			struct catalog_stmt *tag;
			tn_buf_adds(&b, b.len ? ", (" : "(");
			tn_buf_add_sqlstr(&b, t->schema);
			tn_buf_addc(&b, ',');
			tn_buf_add_sqlstr(&b, t->name);
			tn_buf_addf(&b, ", %lld, ", (long long)c->id);
			tn_buf_add_sqlstr(&b, c->name);
			tn_buf_addc(&b, ',');
			tn_buf_add_sqlstr(&b, dt);
			tn_buf_addf(&b, ", %s, ", c->nulls_allowed ? "true" : "false");
			if (c->default_value)
				tn_buf_add_sqlstr(&b, c->default_value);
			else
				tn_buf_adds(&b, "NULL");
			tn_buf_adds(&b, ", ");
			rc = catalog_prepare(s->cat, "SELECT value FROM ducklake_column_tag WHERE table_id = ?2 AND "
						     "column_id = ?3 AND key = 'comment' AND " VALID(""), &tag, err);
			if (!rc) {
				catalog_bind_int(tag, 1, n);
				catalog_bind_int(tag, 2, t->id);
				catalog_bind_int(tag, 3, c->id);
				if (catalog_step(tag, err) == 1 && catalog_col_text(tag, 0))
					tn_buf_add_sqlstr(&b, catalog_col_text(tag, 0));
				else
					tn_buf_adds(&b, "NULL");
				catalog_finalize(tag);
			}
			tn_buf_addc(&b, ')');
			tn_free(dt);
		}
		meta_table_free(t);
		if (rc)
			break;
	}
	catalog_finalize(st);
	if (rc >= 0 && b.len) {
		char *q = tn_xprintf("INSERT INTO __tarn_meta_columns VALUES %s", b.buf);
		rc = duck_exec(s->duck, q, err);
		tn_free(q);
	}
	tn_buf_release(&b);
	return rc < 0 ? rc : 0;
}

/* Inlined rows live in tables named by the catalog, which plain SQL over
 * the catalog cannot reach: count them here and add them in. */
static int add_inlined_counts(struct session *s, int64_t n, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(s->cat, "SELECT i.table_id, i.table_name FROM ducklake_inlined_data_tables i "
					 "JOIN ducklake_table t ON t.table_id = i.table_id AND " VALID("t."), &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, n);
	while (!rc && (rc = catalog_step(st, err)) == 1) {
		struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
		int64_t rows = 0;
		int found;
		tn_buf_adds(&q, "SELECT count(*) FROM ");
		tn_buf_add_sqlid(&q, catalog_col_text(st, 1));
		tn_buf_adds(&q, " WHERE " VALID(""));
		rc = catalog_get_int(s->cat, q.buf, &rows, &found, err, 1, n);
		tn_buf_reset(&q);
		tn_buf_addf(&q, "UPDATE temp.__tarn_meta_tables SET row_count = row_count + %lld WHERE "
			    "table_id = %lld AND kind = 'table'", (long long)rows, (long long)catalog_col_int(st, 0));
		if (!rc && rows)
			rc = duck_exec(s->duck, q.buf, err);
		tn_buf_release(&q);
	}
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

static const char *macros =
	"CREATE OR REPLACE TEMP MACRO tarn_snapshots() AS TABLE SELECT * FROM temp.__tarn_meta_snapshots;"
	"CREATE OR REPLACE TEMP MACRO tarn_tables() AS TABLE SELECT * FROM temp.__tarn_meta_tables;"
	"CREATE OR REPLACE TEMP MACRO tarn_table(t) AS TABLE SELECT * FROM temp.__tarn_meta_tables "
	" WHERE lower(table_name) = lower(t) OR lower(schema_name || '.' || table_name) = lower(t);"
	"CREATE OR REPLACE TEMP MACRO tarn_columns(t) AS TABLE SELECT * FROM temp.__tarn_meta_columns "
	" WHERE lower(table_name) = lower(t) OR lower(schema_name || '.' || table_name) = lower(t) ORDER BY column_id;"
	"CREATE OR REPLACE TEMP MACRO tarn_files(t) AS TABLE SELECT * FROM temp.__tarn_meta_files "
	" WHERE lower(table_name) = lower(t) OR lower(schema_name || '.' || table_name) = lower(t) ORDER BY data_file_id;";

/* Whether sql calls one of the macros above: tarn_<name> followed by "(",
 * not inside a longer name (a query aliased __tarn_test calls none). */
static int calls_intro(const char *sql)
{
	static const char *const names[] = { "snapshots", "tables", "table", "columns", "files" };
	const char *p = sql;
	size_t i;

	while ((p = strcasestr(p, "tarn_")) != NULL) {
		int inside = p > sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
		p += 5;
		for (i = 0; !inside && i < TN_ARRAY_LEN(names); i++) {
			size_t l = strlen(names[i]);
			const char *q = p + l;
			if (strncasecmp(p, names[i], l))
				continue;
			while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
				q++;
			if (*q == '(')
				return 1;
		}
	}
	return 0;
}

int intro_prepare(struct session *s, const char *sql, struct tn_err *err)
{
	int64_t n;
	int rc;

	if (!calls_intro(sql))
		return 0;
	rc = sess_read_snapshot(s, &n, err);
	if (!rc)
		rc = fill(s, "__tarn_meta_snapshots", "(snapshot_id BIGINT, snapshot_time TIMESTAMPTZ, "
			  "schema_version BIGINT, changes VARCHAR, author VARCHAR, commit_message VARCHAR)",
			  "izittt", snapshots_sql, n, err);
	if (!rc)
		rc = fill(s, "__tarn_meta_tables", "(schema_name VARCHAR, table_name VARCHAR, table_id BIGINT, "
			  "kind VARCHAR, column_count BIGINT, row_count BIGINT, file_count BIGINT, size_bytes BIGINT, "
			  "comment VARCHAR)", "ttitiiiit", tables_sql, n, err);
	if (!rc)
		rc = add_inlined_counts(s, n, err);
	if (!rc)
		rc = fill(s, "__tarn_meta_files", "(schema_name VARCHAR, table_name VARCHAR, data_file_id BIGINT, "
			  "path VARCHAR, record_count BIGINT, file_size_bytes BIGINT, delete_count BIGINT, "
			  "begin_snapshot BIGINT)", "ttitiiii", files_sql, n, err);
	if (!rc)
		rc = fill_columns(s, n, err);
	if (!rc)
		rc = duck_exec(s->duck, macros, err);
	return rc;
}

/* ---- lookups for tools, without DuckDB ---- */

int session_relation(struct session *s, const char *schema, const char *name, enum session_rel *kind,
		     struct tn_err *err)
{
	struct lk_table *t = NULL;
	int64_t n, id;
	int found, rc;

	*kind = SESSION_REL_NONE;
	rc = sess_read_snapshot(s, &n, err);
	if (!rc)
		rc = meta_view(s->cat, schema, name, n, &id, NULL, &found, err);
	if (rc)
		return rc;
	if (found) {
		*kind = SESSION_REL_VIEW;
		return 0;
	}
	rc = meta_table(s->lk, s->cat, schema, name, n, &t, err);
	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);
		return 0;
	}
	if (!rc)
		*kind = SESSION_REL_TABLE;
	meta_table_free(t);
	return rc;
}

int session_columns(struct session *s, const char *schema, const char *name, char ***names, size_t *n,
		    struct tn_err *err)
{
	struct lk_table *t = NULL;
	int64_t snap;
	int rc = sess_read_snapshot(s, &snap, err);

	*names = NULL;
	*n = 0;
	if (!rc)
		rc = meta_table(s->lk, s->cat, schema, name, snap, &t, err);
	if (rc)
		return rc;
	*names = tn_calloc(t->ncols ? t->ncols : 1, sizeof(char *));
	for (size_t i = 0; i < t->ncols; i++)
		(*names)[i] = tn_strdup(t->cols[i].name);
	*n = t->ncols;
	meta_table_free(t);
	return 0;
}
