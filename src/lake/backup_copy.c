/*
 * backup_copy.c - a DuckLake catalog copied table by table between two
 * catalogs of either backend, through the catalog API only: how a
 * PostgreSQL catalog is backed up (into a SQLite file, which is then a
 * catalog of its own) and how a backup goes back into PostgreSQL.
 *
 * Values travel as text: every DuckLake column is BIGINT, VARCHAR,
 * BOOLEAN ("0"/"1" on both backends), TIMESTAMPTZ (PostgreSQL sessions run
 * in UTC with ISO dates, as SQLite stores them) or UUID, and each backend
 * reads the text back as the type of the column it goes into.
 */
#include "base/compat.h"
#include "lake/backup_int.h"
#include "lake/lake_int.h"
#include "catalog/catalog.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

static int is_pg(struct catalog *cat)
{
	return !strcmp(catalog_backend(cat), "postgres");
}

static void names_push(char ***names, size_t *n, size_t *alloc, char *s)
{
	TN_GROW(*names, *alloc, *n + 1);
	(*names)[(*n)++] = s;
}

static void names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; names && i < n; i++)
		tn_free(names[i]);
	tn_free(names);
}

int bk_ducklake_tables(struct catalog *cat, char ***names, size_t *n, struct tn_err *err)
{
	const char *sql = is_pg(cat) ?
		"SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
		"AND table_type = 'BASE TABLE' AND table_name LIKE 'ducklake\\_%' ESCAPE '\\' ORDER BY 1" :
		"SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'ducklake\\_%' ESCAPE '\\' "
		"ORDER BY 1";
	struct catalog_stmt *st = NULL;
	size_t alloc = 0;
	int rc = catalog_prepare(cat, sql, &st, err);

	*names = NULL;
	*n = 0;
	if (rc)
		return rc;
	while ((rc = catalog_step(st, err)) == 1)
		names_push(names, n, &alloc, catalog_col_dup(st, 0));
	catalog_finalize(st);
	if (rc < 0) {
		names_free(*names, *n);
		*names = NULL;
		*n = 0;
		return rc;
	}
	return 0;
}

struct cols {
	char **name, **type;
	size_t n, na, ta;
};

static void cols_release(struct cols *c)
{
	names_free(c->name, c->n);
	names_free(c->type, c->n);
	memset(c, 0, sizeof(*c));
}

/* A column type both backends accept, from either one's spelling. */
static char *portable_type(const char *t)
{
	static const struct { const char *from, *to; } map[] = {
		{ "bigint", "BIGINT" }, { "integer", "BIGINT" }, { "int", "BIGINT" }, { "boolean", "BOOLEAN" },
		{ "timestamp with time zone", "TIMESTAMPTZ" }, { "timestamptz", "TIMESTAMPTZ" },
		{ "uuid", "UUID" }, { "double precision", "DOUBLE PRECISION" }, { "double", "DOUBLE PRECISION" },
	};
	size_t i;

	for (i = 0; t && i < TN_ARRAY_LEN(map); i++)
		if (!strcasecmp(t, map[i].from))
			return tn_strdup(map[i].to);
	return tn_strdup("VARCHAR");   /* text, character varying, varchar, and anything else */
}

static int table_cols(struct catalog *cat, const char *table, struct cols *c, struct tn_err *err)
{
	const char *sql = is_pg(cat) ?
		"SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
		"current_schema() AND table_name = ? ORDER BY ordinal_position" :
		"SELECT name, type FROM pragma_table_info(?) ORDER BY cid";
	struct catalog_stmt *st = NULL;
	int rc = catalog_prepare(cat, sql, &st, err);

	memset(c, 0, sizeof(*c));
	if (rc)
		return rc;
	catalog_bind_text(st, 1, table);
	while ((rc = catalog_step(st, err)) == 1) {
		size_t n = c->n;
		names_push(&c->name, &n, &c->na, catalog_col_dup(st, 0));
		n = c->n;
		names_push(&c->type, &n, &c->ta, portable_type(catalog_col_text(st, 1)));
		c->n = n;
	}
	catalog_finalize(st);
	if (rc < 0) {
		cols_release(c);
		return rc;
	}
	return 0;
}

/* A table the lake's DDL does not make (inlined data): made like the source's. */
static int create_like(struct catalog *dst, const char *table, const struct cols *c, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;
	int rc;

	tn_buf_adds(&q, "CREATE TABLE ");
	tn_buf_add_sqlid(&q, table);
	tn_buf_adds(&q, " (");
	for (i = 0; i < c->n; i++) {
		tn_buf_adds(&q, i ? ", " : "");
		tn_buf_add_sqlid(&q, c->name[i]);
		tn_buf_addf(&q, " %s", c->type[i]);
	}
	tn_buf_addc(&q, ')');
	rc = tn_buf_check(&q, err);
	if (!rc)
		rc = catalog_exec(dst, q.buf, err);
	tn_buf_release(&q);
	return rc;
}

/* SELECT "a", "b" FROM "t" and INSERT INTO "t" ("a", "b") VALUES (?1, ?2). */
static void copy_sql(const char *table, const struct cols *c, struct tn_buf *sel, struct tn_buf *ins)
{
	size_t i;

	tn_buf_adds(sel, "SELECT ");
	tn_buf_adds(ins, "INSERT INTO ");
	tn_buf_add_sqlid(ins, table);
	tn_buf_adds(ins, " (");
	for (i = 0; i < c->n; i++) {
		tn_buf_adds(sel, i ? ", " : "");
		tn_buf_add_sqlid(sel, c->name[i]);
		tn_buf_adds(ins, i ? ", " : "");
		tn_buf_add_sqlid(ins, c->name[i]);
	}
	tn_buf_adds(sel, " FROM ");
	tn_buf_add_sqlid(sel, table);
	tn_buf_adds(ins, ") VALUES (");
	for (i = 0; i < c->n; i++)
		tn_buf_addf(ins, "%s?%zu", i ? ", " : "", i + 1);
	tn_buf_addc(ins, ')');
}

static int copy_rows(struct catalog *src, struct catalog *dst, const char *table, const struct cols *c,
		     int64_t *rows, struct tn_err *err)
{
	struct tn_buf sel = TN_BUF_INIT(TN_BUF_NOMAX), ins = TN_BUF_INIT(TN_BUF_NOMAX);
	struct catalog_stmt *r = NULL, *w = NULL;
	size_t i;
	int rc;

	copy_sql(table, c, &sel, &ins);
	rc = tn_buf_check(&sel, err);
	if (!rc)
		rc = tn_buf_check(&ins, err);
	if (!rc)
		rc = catalog_prepare(src, sel.buf, &r, err);
	if (!rc)
		rc = catalog_prepare(dst, ins.buf, &w, err);
	while (!rc && (rc = catalog_step(r, err)) == 1) {
		catalog_reset(w);
		for (i = 0; i < c->n; i++)
			catalog_bind_text(w, (int)i + 1, catalog_col_text(r, (int)i));
		rc = catalog_step(w, err);
		rc = rc < 0 ? rc : 0;
		(*rows)++;
	}
	if (rc < 0)
		tn_err_prefix(err, "copy of %s", table);
	catalog_finalize(r);
	catalog_finalize(w);
	tn_buf_release(&sel);
	tn_buf_release(&ins);
	return rc < 0 ? rc : 0;
}

/* The columns of `table` in dst must hold those of src. */
static int check_fits(struct catalog *dst, const char *table, const struct cols *c, struct tn_err *err)
{
	char **have = NULL;
	size_t n = 0, i, j;
	int rc = catalog_table_columns(dst, table, &have, &n, err);

	for (i = 0; !rc && i < c->n; i++) {
		for (j = 0; j < n && strcmp(have[j], c->name[i]); j++)
			;
		if (j == n)
			rc = tn_err_set(err, TN_EUNSUPPORTED, "%s has a column %s that this tarn does not know "
					"(a catalog from a newer DuckLake version?)", table, c->name[i]);
	}
	catalog_columns_free(have, n);
	return rc;
}

static int copy_table(struct catalog *src, struct catalog *dst, const char *table, int64_t *rows,
		      struct tn_err *err)
{
	struct cols c;
	char **have = NULL;
	size_t nhave = 0;
	int rc = table_cols(src, table, &c, err);

	if (!rc) {
		rc = catalog_table_columns(dst, table, &have, &nhave, err);
		catalog_columns_free(have, nhave);
		if (rc == TN_ENOTFOUND) {
			tn_err_clear(err);
			rc = create_like(dst, table, &c, err);
		} else if (!rc) {
			rc = check_fits(dst, table, &c, err);
		}
	}
	if (!rc)
		rc = copy_rows(src, dst, table, &c, rows, err);
	cols_release(&c);
	return rc;
}

int bk_copy_catalog(struct catalog *src, struct catalog *dst, int64_t *snapshot, int64_t *rows,
		    struct tn_err *err)
{
	char **tables = NULL;
	size_t n = 0, i;
	int rc = bk_ducklake_tables(src, &tables, &n, err);

	*rows = 0;
	if (!rc)
		rc = bk_newest_snapshot(src, catalog_path(src), snapshot, err);
	if (!rc)
		rc = catalog_exec(dst, lake_catalog_ddl(), err);
	if (!rc)
		rc = lake_catalog_indexes(dst, err);
	for (i = 0; !rc && i < n; i++)
		rc = copy_table(src, dst, tables[i], rows, err);
	names_free(tables, n);
	return rc;
}
