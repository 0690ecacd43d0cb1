/*
 * migrate: copies the DuckLake tables of one catalog database into another.
 * Part of the catalog layer because it must look at each backend's own
 * dictionary (sqlite_master and pragmas; pg_class, pg_attribute, pg_index)
 * to find the tables, their column types, primary keys and indexes: the
 * inlined-data tables are made at run time, so no fixed list would do.
 * Rows travel as text (booleans as booleans) in multi-row INSERTs.
 */
#include "base/compat.h"
#include "catalog/migrate.h"
#include "catalog/catalog_int.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

#include <ctype.h>
#include <strings.h>

#define BATCH_ROWS 200          /* rows per INSERT ... */
#define BATCH_PARAMS 30000      /* ... within SQLite's 32766 parameters */

/* The dictionary queries, one pair per question: [0] SQLite, [1] PostgreSQL. */
static const char *const q_tables[2] = {
	"SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'ducklake\\_%' ESCAPE '\\' "
	"ORDER BY name",
	"SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
	"AND c.relkind IN ('r', 'p') AND c.relname LIKE 'ducklake\\_%' ESCAPE '\\' ORDER BY c.relname COLLATE \"C\"",
};

/* name, declared type, position in the primary key (0 = not in it) */
static const char *const q_columns[2] = {
	"SELECT name, type, pk FROM pragma_table_info(?1) ORDER BY cid",
	"SELECT a.attname, format_type(a.atttypid, a.atttypmod), COALESCE((SELECT k.ord FROM "
	"pg_catalog.pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(att, ord) WHERE i.indrelid = a.attrelid "
	"AND i.indisprimary AND k.att = a.attnum), 0) FROM pg_catalog.pg_attribute a WHERE a.attrelid = "
	"to_regclass(quote_ident(?1)) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
};

/* index, table, unique, column: one row per indexed column, in key order */
static const char *const q_indexes[2] = {
	"SELECT m.name, m.tbl_name, il.\"unique\", ii.name FROM sqlite_master m JOIN "
	"pragma_index_list(m.tbl_name) il ON il.name = m.name JOIN pragma_index_info(m.name) ii "
	"WHERE m.type = 'index' AND il.origin = 'c' AND m.tbl_name LIKE 'ducklake\\_%' ESCAPE '\\' "
	"AND NOT EXISTS (SELECT 1 FROM pragma_index_info(m.name) x WHERE x.name IS NULL) "
	"ORDER BY m.name, ii.seqno",
	"SELECT ic.relname, tc.relname, CASE WHEN i.indisunique THEN 1 ELSE 0 END, a.attname FROM "
	"pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid JOIN pg_catalog.pg_class tc "
	"ON tc.oid = i.indrelid CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(att, ord) JOIN "
	"pg_catalog.pg_attribute a ON a.attrelid = tc.oid AND a.attnum = k.att WHERE tc.relnamespace = "
	"current_schema()::regnamespace AND NOT i.indisprimary AND i.indexprs IS NULL AND tc.relname LIKE 'ducklake\\_%' ESCAPE '\\' "
	"ORDER BY ic.relname COLLATE \"C\", k.ord",
};

/* Types as the source spells them -> the name both backends accept. */
static const struct {
	const char *from;
	const char *to;
	int is_bool;
} types[] = {
	{ "bigint", "BIGINT", 0 },  { "int8", "BIGINT", 0 },
	{ "integer", "INTEGER", 0 }, { "int", "INTEGER", 0 }, { "int4", "INTEGER", 0 },
	{ "varchar", "VARCHAR", 0 }, { "character varying", "VARCHAR", 0 }, { "text", "VARCHAR", 0 },
	{ "uuid", "UUID", 0 },
	{ "timestamptz", "TIMESTAMPTZ", 0 }, { "timestamp with time zone", "TIMESTAMPTZ", 0 },
	{ "boolean", "BOOLEAN", 1 }, { "bool", "BOOLEAN", 1 },
	{ "double", "DOUBLE PRECISION", 0 }, { "double precision", "DOUBLE PRECISION", 0 },
	{ "float8", "DOUBLE PRECISION", 0 },
};

struct column {
	char *name;
	const char *type;   /* from types[] */
	int is_bool;
	int64_t pk;         /* position in the primary key, 0 = none */
};

struct table {
	char *name;
	size_t ncols;
	struct column *cols;
};

static int backend(struct catalog *cat)
{
	return strcmp(catalog_backend(cat), "sqlite") ? 1 : 0;
}

static void table_release(struct table *t)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		tn_free(t->cols[i].name);
	tn_free(t->cols);
	tn_free(t->name);
	memset(t, 0, sizeof(*t));
}

void catalog_migrate_report_release(struct catalog_migrate_report *rep)
{
	size_t i;

	if (!rep)
		return;
	for (i = 0; i < rep->ntables; i++)
		tn_free(rep->tables[i].name);
	tn_free(rep->tables);
	memset(rep, 0, sizeof(*rep));
}

static int list_tables(struct catalog *cat, char ***names, size_t *n, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(cat, q_tables[backend(cat)], &st, err);

	*names = NULL;
	*n = 0;
	if (rc)
		return rc;
	while ((rc = catalog_step(st, err)) == 1)
		catalog_names_push(names, n, catalog_col_text(st, 0));
	catalog_finalize(st);
	return rc;
}

int catalog_migrate_has_tables(struct catalog *cat, int *has, struct tn_err *err)
{
	char **names;
	size_t n;
	int rc = list_tables(cat, &names, &n, err);

	*has = n > 0;
	catalog_columns_free(names, n);
	return rc;
}

static int map_type(struct catalog *cat, const char *table, struct column *c, const char *type,
		    struct tn_err *err)
{
	size_t i;

	for (i = 0; type && i < TN_ARRAY_LEN(types); i++) {
		if (!strcasecmp(type, types[i].from)) {
			c->type = types[i].to;
			c->is_bool = types[i].is_bool;
			return 0;
		}
	}
	return tn_err_set(err, TN_EUNSUPPORTED, "catalog %s: cannot migrate column %s.%s of type %s "
			  "(not a DuckLake catalog type)", catalog_path(cat), table, c->name,
			  type && *type ? type : "(none)");
}

static int load_table(struct catalog *cat, const char *name, struct table *t, struct tn_err *err)
{
	struct catalog_stmt *st;
	size_t alloc = 0;
	int rc = catalog_prepare(cat, q_columns[backend(cat)], &st, err);

	memset(t, 0, sizeof(*t));
	t->name = tn_strdup(name);
	if (rc)
		return rc;
	catalog_bind_text(st, 1, name);
	while ((rc = catalog_step(st, err)) == 1) {
		struct column *c;
		TN_GROW(t->cols, alloc, t->ncols + 1);
		c = &t->cols[t->ncols++];
		memset(c, 0, sizeof(*c));
		c->name = catalog_col_dup(st, 0);
		c->pk = catalog_col_int(st, 2);
		rc = map_type(cat, name, c, catalog_col_text(st, 1), err);
		if (rc)
			break;
	}
	catalog_finalize(st);
	if (!rc && t->ncols == 0)
		rc = tn_err_set(err, TN_EINTERNAL, "catalog %s: table %s has no columns", catalog_path(cat), name);
	return rc < 0 ? rc : 0;
}

static int create_table(struct catalog *dst, const struct table *t, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int64_t k, npk = 0;
	size_t i;
	int rc;

	tn_buf_adds(&q, "CREATE TABLE ");
	tn_buf_add_sqlid(&q, t->name);
	tn_buf_adds(&q, " (");
	for (i = 0; i < t->ncols; i++) {
		tn_buf_adds(&q, i ? ", " : "");
		tn_buf_add_sqlid(&q, t->cols[i].name);
		tn_buf_addf(&q, " %s", t->cols[i].type);
		if (t->cols[i].pk > npk)
			npk = t->cols[i].pk;
	}
	/* Primary key columns in key order (1, 2, ...). */
	for (k = 1; k <= npk; k++)
		for (i = 0; i < t->ncols; i++)
			if (t->cols[i].pk == k) {
				tn_buf_adds(&q, k == 1 ? ", PRIMARY KEY (" : ", ");
				tn_buf_add_sqlid(&q, t->cols[i].name);
			}
	tn_buf_adds(&q, npk ? "))" : ")");
	rc = tn_buf_check(&q, err);
	if (!rc)
		rc = catalog_exec(dst, q.buf, err);
	tn_buf_release(&q);
	return rc;
}

/* "INSERT INTO t VALUES (?, ...), ..." for `rows` rows. */
static int prepare_insert(struct catalog *dst, const struct table *t, size_t rows,
			  struct catalog_stmt **st, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t r, i;
	int rc;

	tn_buf_adds(&q, "INSERT INTO ");
	tn_buf_add_sqlid(&q, t->name);
	tn_buf_adds(&q, " VALUES ");
	for (r = 0; r < rows; r++) {
		tn_buf_adds(&q, r ? ", (" : "(");
		for (i = 0; i < t->ncols; i++)
			tn_buf_adds(&q, i ? ", ?" : "?");
		tn_buf_addc(&q, ')');
	}
	rc = tn_buf_check(&q, err);
	if (!rc)
		rc = catalog_prepare(dst, q.buf, st, err);
	tn_buf_release(&q);
	return rc;
}

static int select_all(struct catalog *src, const struct table *t, struct catalog_stmt **st,
		      struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;
	int rc;

	tn_buf_adds(&q, "SELECT ");
	for (i = 0; i < t->ncols; i++) {
		tn_buf_adds(&q, i ? ", " : "");
		tn_buf_add_sqlid(&q, t->cols[i].name);
	}
	tn_buf_adds(&q, " FROM ");
	tn_buf_add_sqlid(&q, t->name);
	rc = tn_buf_check(&q, err);
	if (!rc)
		rc = catalog_prepare(src, q.buf, st, err);
	tn_buf_release(&q);
	return rc;
}

/* Rows wait in `vals` (owned texts, NULL = SQL NULL) until a batch is full. */
struct batch {
	const struct table *t;
	size_t cap, n;
	char **vals;
};

static void batch_take(struct batch *b, struct catalog_stmt *in)
{
	size_t i;

	for (i = 0; i < b->t->ncols; i++)
		b->vals[b->n * b->t->ncols + i] = catalog_col_dup(in, (int)i);
	b->n++;
}

/* Send the waiting rows through `st` (made for exactly b->n rows). */
static int batch_send(struct batch *b, struct catalog_stmt *st, struct tn_err *err)
{
	size_t i, k = b->n * b->t->ncols;
	int rc;

	for (i = 0; i < k; i++) {
		const struct column *c = &b->t->cols[i % b->t->ncols];
		if (!b->vals[i])
			catalog_bind_null(st, (int)i + 1);
		else if (c->is_bool)
			catalog_bind_bool(st, (int)i + 1, strcmp(b->vals[i], "0") != 0);
		else
			catalog_bind_text(st, (int)i + 1, b->vals[i]);
		tn_free(b->vals[i]);
		b->vals[i] = NULL;
	}
	b->n = 0;
	rc = catalog_step(st, err);
	catalog_reset(st);
	return rc < 0 ? rc : 0;
}

static int copy_rows(struct catalog *src, struct catalog *dst, const struct table *t, int64_t *copied,
		     struct tn_err *err)
{
	struct catalog_stmt *in = NULL, *full = NULL, *tail = NULL;
	struct batch b = { t, BATCH_PARAMS / t->ncols, 0, NULL };
	size_t i;
	int rc;

	if (b.cap > BATCH_ROWS)
		b.cap = BATCH_ROWS;
	if (b.cap == 0)
		b.cap = 1;
	b.vals = tn_calloc(b.cap * t->ncols, sizeof(*b.vals));
	*copied = 0;
	rc = select_all(src, t, &in, err);
	if (!rc)
		rc = prepare_insert(dst, t, b.cap, &full, err);
	while (!rc && (rc = catalog_step(in, err)) == 1) {
		batch_take(&b, in);
		(*copied)++;
		rc = b.n == b.cap ? batch_send(&b, full, err) : 0;
	}
	if (!rc && b.n)
		rc = prepare_insert(dst, t, b.n, &tail, err);
	if (!rc && b.n)
		rc = batch_send(&b, tail, err);
	for (i = 0; i < b.cap * t->ncols; i++)
		tn_free(b.vals[i]);
	tn_free(b.vals);
	catalog_finalize(tail);
	catalog_finalize(full);
	catalog_finalize(in);
	return rc;
}

static int count_rows(struct catalog *cat, const char *table, int64_t *n, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	tn_buf_adds(&q, "SELECT count(*) FROM ");
	tn_buf_add_sqlid(&q, table);
	rc = tn_buf_check(&q, err);
	if (!rc)
		rc = catalog_get_int(cat, q.buf, n, NULL, err, 0);
	tn_buf_release(&q);
	return rc;
}

/* Copy one table and check the count on both sides. */
static int copy_table(struct catalog *src, struct catalog *dst, const char *name,
		      struct catalog_migrate_report *rep, struct tn_err *err)
{
	struct table t;
	int64_t copied = 0, n_src = 0, n_dst = 0;
	int rc = load_table(src, name, &t, err);

	if (!rc)
		rc = create_table(dst, &t, err);
	if (!rc)
		rc = copy_rows(src, dst, &t, &copied, err);
	if (!rc)
		rc = count_rows(src, name, &n_src, err);
	if (!rc)
		rc = count_rows(dst, name, &n_dst, err);
	if (!rc && (n_src != copied || n_dst != copied))
		rc = tn_err_set(err, TN_EINTERNAL, "migrate: table %s has %lld rows in %s but %lld in %s "
				"(%lld copied); nothing was changed", name, (long long)n_src, catalog_path(src),
				(long long)n_dst, catalog_path(dst), (long long)copied);
	if (!rc) {
		rep->tables = tn_realloc(rep->tables, (rep->ntables + 1) * sizeof(*rep->tables));
		rep->tables[rep->ntables].name = tn_strdup(name);
		rep->tables[rep->ntables++].rows = copied;
		rep->rows += copied;
	}
	table_release(&t);
	return rc;
}

/* Secondary indexes: gathered column by column, created when the index
 * name changes (rows come ordered by index, then key position). */
static int create_indexes(struct catalog *src, struct catalog *dst, size_t *made, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct catalog_stmt *st;
	char *cur = NULL;
	int rc = catalog_prepare(src, q_indexes[backend(src)], &st, err);

	*made = 0;
	if (rc)
		return rc;
	while ((rc = catalog_step(st, err)) >= 0) {
		const char *name = rc == 1 ? catalog_col_text(st, 0) : NULL;
		if (cur && (!name || strcmp(name, cur))) {
			tn_buf_addc(&q, ')');
			rc = tn_buf_check(&q, err);
			if (!rc)
				rc = catalog_exec(dst, q.buf, err);
			if (rc)
				break;
			(*made)++;
			tn_free(cur);
			cur = NULL;
		}
		if (!name)
			break;
		if (!cur) {
			cur = tn_strdup(name);
			tn_buf_reset(&q);
			tn_buf_adds(&q, catalog_col_int(st, 2) ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
			tn_buf_add_sqlid(&q, name);
			tn_buf_adds(&q, " ON ");
			tn_buf_add_sqlid(&q, catalog_col_text(st, 1));
			tn_buf_adds(&q, " (");
		} else {
			tn_buf_adds(&q, ", ");
		}
		tn_buf_add_sqlid(&q, catalog_col_text(st, 3));
	}
	catalog_finalize(st);
	tn_free(cur);
	tn_buf_release(&q);
	return rc < 0 ? rc : 0;
}

static int check_target_empty(struct catalog *dst, struct tn_err *err)
{
	int has = 0, rc = catalog_migrate_has_tables(dst, &has, err);

	if (!rc && has)
		rc = tn_err_set(err, TN_ECONFLICT, "migrate: the target catalog %s already holds DuckLake "
				"tables; use an empty database (or schema)", catalog_path(dst));
	return rc;
}

int catalog_migrate(struct catalog *src, struct catalog *dst, int dry_run,
		    struct catalog_migrate_report *rep, struct tn_err *err)
{
	char **names = NULL;
	size_t n = 0, i;
	int rc;

	memset(rep, 0, sizeof(*rep));
	rc = list_tables(src, &names, &n, err);
	if (!rc && n == 0)
		rc = tn_err_set(err, TN_EINVAL, "migrate: %s holds no DuckLake tables", catalog_path(src));
	if (!rc)
		rc = catalog_begin(dst, 1, err);
	if (rc) {
		catalog_columns_free(names, n);
		return rc;
	}
	rc = check_target_empty(dst, err);
	for (i = 0; !rc && i < n; i++)
		rc = copy_table(src, dst, names[i], rep, err);
	if (!rc)
		rc = create_indexes(src, dst, &rep->nindexes, err);
	/* Fresh statistics, so the server plans the first queries well. */
	if (!rc && backend(dst) == 1)
		rc = catalog_exec(dst, "ANALYZE", err);
	catalog_columns_free(names, n);
	if (rc || dry_run) {
		catalog_rollback(dst);
		return rc;
	}
	return catalog_commit(dst, err);
}
