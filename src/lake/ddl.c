/*
 * ddl: CREATE/DROP of schemas, tables and views, ALTER TABLE and COMMENT
 * ON, as catalog rows versioned by snapshot. Dropping or altering never
 * deletes a row: it ends the live row (end_snapshot) and, for a change,
 * inserts its successor with the same id, so time travel sees every
 * version. Column types come from DuckDB's own parser (a scratch table in
 * the session's DuckDB), never from tarn guessing at type syntax.
 */
#include "base/compat.h"
#include "lake/session_int.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

static const char *schema_of(const struct sql_name *nm)
{
	return nm->schema ? nm->schema : LAKE_DEFAULT_SCHEMA;
}

/* Folder name for an object: its name when plain, else its uuid. */
static char *object_path(const char *name, const char *uuid)
{
	const char *p;

	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-'))
			return tn_xprintf("%s/", uuid);
	return *name ? tn_xprintf("%s/", name) : tn_xprintf("%s/", uuid);
}

static int name_taken(struct session *s, int64_t schema_id, const char *name, int *taken,
		      struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(s->cat,
		"SELECT 1 FROM ducklake_table WHERE schema_id = ?1 AND lower(table_name) = lower(?3) AND "
		"begin_snapshot <= ?2 AND (end_snapshot IS NULL OR end_snapshot > ?2) UNION ALL "
		"SELECT 1 FROM ducklake_view WHERE schema_id = ?1 AND lower(view_name) = lower(?3) AND "
		"begin_snapshot <= ?2 AND (end_snapshot IS NULL OR end_snapshot > ?2)", &st, err);
	*taken = 0;
	if (rc)
		return rc;
	catalog_bind_int(st, 1, schema_id);
	catalog_bind_int(st, 2, s->new_snap);
	catalog_bind_text(st, 3, name);
	rc = catalog_step(st, err);
	*taken = rc == 1;
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

static int need_schema(struct session *s, const struct sql_name *nm, int64_t *id, struct tn_err *err)
{
	int found, rc = meta_schema_id(s->cat, schema_of(nm), s->new_snap, id, &found, err);

	if (!rc && !found)
		rc = tn_err_set(err, TN_ENOTFOUND, "Schema with name %s does not exist", schema_of(nm));
	return rc;
}

static void quoted_name(struct tn_buf *b, const char *schema, const char *name)
{
	tn_buf_add_sqlid(b, schema);
	tn_buf_addc(b, '.');
	tn_buf_add_sqlid(b, name);
}

/* ---- schemas ---- */

static int create_schema(struct session *s, struct sql_stmt *st, struct tn_err *err)
{
	struct catalog_stmt *q;
	struct tn_buf ch = TN_BUF_INIT(TN_BUF_NOMAX);
	char uuid[37], *path;
	int64_t id;
	int found, rc = meta_schema_id(s->cat, st->target.name, s->new_snap, &id, &found, err);

	if (rc)
		return rc;
	if (found)
		return st->if_not_exists ? 0 : tn_err_set(err, TN_ECONFLICT,
			"Schema with name %s already exists", st->target.name);
	tn_uuid7(uuid);
	path = lake_schema_path(s->lk->data_path, st->target.name, uuid);
	rc = catalog_prepare(s->cat, "INSERT INTO ducklake_schema VALUES (?, ?, ?, NULL, ?, ?, true)", &q, err);
	if (!rc) {
		catalog_bind_int(q, 1, s->next_catalog_id++);
		catalog_bind_text(q, 2, uuid);
		catalog_bind_int(q, 3, s->new_snap);
		catalog_bind_text(q, 4, st->target.name);
		catalog_bind_text(q, 5, path);
		rc = catalog_step(q, err);
		rc = rc < 0 ? rc : 0;
		catalog_finalize(q);
	}
	tn_free(path);
	tn_buf_add_sqlid(&ch, st->target.name);
	if (!rc) {
		sess_change(s, "created_schema:%s", ch.buf);
		s->schema_changed = 1;
	}
	tn_buf_release(&ch);
	return rc;
}

static int drop_schema(struct session *s, struct sql_stmt *st, struct tn_err *err)
{
	int64_t id, n;
	int found, rc;

	if (tn_strieq(st->target.name, LAKE_DEFAULT_SCHEMA))
		return tn_err_set(err, TN_EINVAL, "cannot drop the default schema %s", LAKE_DEFAULT_SCHEMA);
	rc = meta_schema_id(s->cat, st->target.name, s->new_snap, &id, &found, err);
	if (rc)
		return rc;
	if (!found)
		return st->if_exists ? 0 : tn_err_set(err, TN_ENOTFOUND,
			"Schema with name %s does not exist", st->target.name);
	rc = catalog_get_int(s->cat,
		"SELECT (SELECT count(*) FROM ducklake_table WHERE schema_id = ?1 AND begin_snapshot <= ?2 AND "
		"(end_snapshot IS NULL OR end_snapshot > ?2)) + (SELECT count(*) FROM ducklake_view WHERE "
		"schema_id = ?1 AND begin_snapshot <= ?2 AND (end_snapshot IS NULL OR end_snapshot > ?2))",
		&n, &found, err, 2, id, s->new_snap);
	if (rc)
		return rc;
	if (n > 0)
		return tn_err_set(err, TN_EUNSUPPORTED, "schema %s is not empty (%lld tables and views); "
				  "drop them first (DROP ... CASCADE is not supported)",
				  st->target.name, (long long)n);
	rc = catalog_run(s->cat, "UPDATE ducklake_schema SET end_snapshot = ? WHERE schema_id = ? AND "
			 "end_snapshot IS NULL", err, 2, s->new_snap, id);
	if (!rc) {
		sess_change(s, "dropped_schema:%lld", (long long)id);
		s->schema_changed = 1;
	}
	return rc;
}

/* ---- columns ---- */

struct coldef {
	struct duck_type *type;  /* owned */
	char *name;
	char *default_value;     /* expression text or NULL */
	char *initial_default;   /* literal text or NULL */
	int not_null;
};

static void coldefs_free(struct coldef *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		duck_type_free(c[i].type);
		tn_free(c[i].name);
		tn_free(c[i].default_value);
		tn_free(c[i].initial_default);
	}
	tn_free(c);
}

static int check_type(const struct duck_type *t, const char *col, struct tn_err *err)
{
	if (t->lake)
		return 0;
	return tn_err_set(err, TN_EUNSUPPORTED, "column %s: type %s cannot be stored in a DuckLake table "
			  "(ENUM, UNION, BIT, fixed-size ARRAY and BIGNUM are not part of the format); "
			  "cast it to a supported type such as VARCHAR or a LIST", col, t->duck);
}

static int insert_column(struct session *s, struct catalog_stmt *q, int64_t table_id,
			 const struct duck_type *t, const char *name, int64_t *next_id, int64_t order,
			 int64_t parent, const struct coldef *def, struct tn_err *err)
{
	int64_t id = (*next_id)++;
	size_t i;
	int rc;

	catalog_reset(q);
	catalog_bind_int(q, 1, id);
	catalog_bind_int(q, 2, s->new_snap);
	catalog_bind_int(q, 3, table_id);
	catalog_bind_int(q, 4, order);
	catalog_bind_text(q, 5, name);
	catalog_bind_text(q, 6, t->lake);
	catalog_bind_text(q, 7, def ? def->initial_default : NULL);
	catalog_bind_text(q, 8, def ? def->default_value : NULL);
	catalog_bind_bool(q, 9, !(def && def->not_null));
	if (parent)
		catalog_bind_int(q, 10, parent);
	else
		catalog_bind_null(q, 10);
	catalog_bind_text(q, 11, def && def->default_value ? "expression" : NULL);
	catalog_bind_text(q, 12, def && def->default_value ? "duckdb" : NULL);
	rc = catalog_step(q, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < t->nchild; i++) {
		rc = insert_column(s, q, table_id, &t->child[i], t->child[i].name, next_id, (int64_t)i, id,
				   NULL, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int insert_columns(struct session *s, int64_t table_id, struct coldef *defs, size_t n,
			  int64_t first_id, int64_t first_order, struct tn_err *err)
{
	struct catalog_stmt *q;
	int64_t next = first_id;
	size_t i;
	int rc = catalog_prepare(s->cat, "INSERT INTO ducklake_column VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				 &q, err);

	for (i = 0; !rc && i < n; i++)
		rc = insert_column(s, q, table_id, defs[i].type, defs[i].name, &next,
				   first_order + (int64_t)i, 0, &defs[i], err);
	catalog_finalize(q);
	return rc;
}

/* Column definitions of "(a INT DEFAULT 1, …)", read by DuckDB itself. */
static int parse_coldefs(struct session *s, const char *body, struct coldef **out, size_t *n,
			 struct tn_err *err)
{
	struct duck_result *r = NULL, *meta = NULL;
	char *sql = tn_xprintf("CREATE OR REPLACE TABLE __tarn_scratch.t %s", body);
	struct coldef *defs = NULL;
	int64_t ncons = 0;
	size_t i;
	int rc = duck_exec(s->duck, sql, err);

	tn_free(sql);
	*out = NULL;
	*n = 0;
	if (!rc)
		rc = duck_query_int(s->duck, "SELECT count(*) FROM duckdb_constraints() WHERE schema_name = "
				    "'__tarn_scratch' AND table_name = 't' AND constraint_type <> 'NOT NULL'",
				    &ncons, err);
	if (!rc && ncons > 0)
		rc = tn_err_set(err, TN_EUNSUPPORTED, "PRIMARY KEY, UNIQUE, CHECK and FOREIGN KEY constraints "
				"are not supported on lake tables (DuckLake has only NOT NULL)");
	if (!rc)
		rc = duck_query(s->duck, "SELECT * FROM __tarn_scratch.t LIMIT 0", &r, err);
	if (!rc)
		rc = duck_query(s->duck, "SELECT column_default, is_nullable FROM duckdb_columns() WHERE "
				"schema_name = '__tarn_scratch' AND table_name = 't' ORDER BY column_index",
				&meta, err);
	if (!rc) {
		*n = duck_result_ncols(r);
		defs = tn_calloc(*n ? *n : 1, sizeof(*defs));
		for (i = 0; i < *n; i++) {
			defs[i].name = tn_strdup(duck_result_name(r, i));
			defs[i].type = duck_result_type(r, i);
			defs[i].default_value = duck_result_text(meta, 0, i);
			{
				char *nullable = duck_result_text(meta, 1, i);
				defs[i].not_null = nullable && !strcmp(nullable, "false");
				tn_free(nullable);
			}
			if (!rc)
				rc = check_type(defs[i].type, defs[i].name, err);
		}
	}
	duck_result_free(r);
	duck_result_free(meta);
	{
		struct tn_err ignore = TN_ERR_INIT;
		duck_exec(s->duck, "DROP TABLE IF EXISTS __tarn_scratch.t", &ignore);
	}
	if (rc) {
		coldefs_free(defs, *n);
		*n = 0;
		return rc;
	}
	*out = defs;
	return 0;
}

/* Column definitions of a query's result (CREATE TABLE AS). */
static int query_coldefs(struct session *s, const char *query, struct coldef **out, size_t *n,
			 struct tn_err *err)
{
	struct duck_result *r = NULL;
	char *sql = tn_xprintf("SELECT * FROM (%s) LIMIT 0", query);
	struct coldef *defs;
	size_t i, j;
	int rc = duck_query(s->duck, sql, &r, err);

	tn_free(sql);
	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	*n = duck_result_ncols(r);
	defs = tn_calloc(*n ? *n : 1, sizeof(*defs));
	for (i = 0; i < *n; i++) {
		defs[i].name = tn_strdup(duck_result_name(r, i));
		defs[i].type = duck_result_type(r, i);
		if (!rc)
			rc = check_type(defs[i].type, defs[i].name, err);
		for (j = 0; !rc && j < i; j++)
			if (tn_strieq(defs[j].name, defs[i].name))
				rc = tn_err_set(err, TN_EINVAL, "column name %s appears twice in the query; "
						"give the columns distinct aliases", defs[i].name);
	}
	duck_result_free(r);
	if (rc) {
		coldefs_free(defs, *n);
		*n = 0;
		return rc;
	}
	*out = defs;
	return 0;
}

/* ---- tables and views ---- */

static int end_object(struct session *s, int64_t id, int is_view, struct tn_err *err)
{
	static const char *table_sql[] = {
		"UPDATE ducklake_table SET end_snapshot = ?1 WHERE table_id = ?2 AND end_snapshot IS NULL",
		"UPDATE ducklake_column SET end_snapshot = ?1 WHERE table_id = ?2 AND end_snapshot IS NULL",
		"UPDATE ducklake_data_file SET end_snapshot = ?1 WHERE table_id = ?2 AND end_snapshot IS NULL",
		"UPDATE ducklake_delete_file SET end_snapshot = ?1 WHERE table_id = ?2 AND end_snapshot IS NULL",
		"UPDATE ducklake_column_tag SET end_snapshot = ?1 WHERE table_id = ?2 AND end_snapshot IS NULL",
		"UPDATE ducklake_tag SET end_snapshot = ?1 WHERE object_id = ?2 AND end_snapshot IS NULL",
	};
	static const char *view_sql[] = {
		"UPDATE ducklake_view SET end_snapshot = ?1 WHERE view_id = ?2 AND end_snapshot IS NULL",
		"UPDATE ducklake_tag SET end_snapshot = ?1 WHERE object_id = ?2 AND end_snapshot IS NULL",
	};
	const char **sqls = is_view ? view_sql : table_sql;
	size_t i, n = is_view ? TN_ARRAY_LEN(view_sql) : TN_ARRAY_LEN(table_sql);
	int rc = 0;

	for (i = 0; !rc && i < n; i++)
		rc = catalog_run(s->cat, sqls[i], err, 2, s->new_snap, id);
	return rc;
}

static int drop_object(struct session *s, struct sql_stmt *st, int is_view, struct tn_err *err)
{
	struct lk_table *t = NULL;
	int64_t id = 0;
	int found = 0, rc;

	if (is_view) {
		rc = meta_view(s->cat, st->target.schema, st->target.name, s->new_snap, &id, NULL, &found, err);
	} else {
		rc = meta_table(s->lk, s->cat, st->target.schema, st->target.name, s->new_snap, &t, err);
		if (rc == TN_ENOTFOUND) {
			tn_err_clear(err);
			rc = 0;
		}
		found = t != NULL;
		id = t ? t->id : 0;
		meta_table_free(t);
	}
	if (rc)
		return rc;
	if (!found) {
		int64_t other;
		int is_other = 0;
		if (!is_view)
			meta_view(s->cat, st->target.schema, st->target.name, s->new_snap, &other, NULL,
				  &is_other, err);
		if (is_other)
			return tn_err_set(err, TN_EINVAL, "%s is a view; use DROP VIEW", st->target.name);
		return st->if_exists ? 0 : tn_err_set(err, TN_ENOTFOUND, "%s with name %s does not exist",
						       is_view ? "View" : "Table", st->target.name);
	}
	if (st->cascade)
		return tn_err_set(err, TN_EUNSUPPORTED, "DROP ... CASCADE is not supported on lake objects");
	rc = is_view ? 0 : sess_check_conflict(s, id, st->target.name, SESS_OP_DDL, err);
	if (!rc)
		rc = end_object(s, id, is_view, err);
	if (!rc) {
		sess_change(s, "dropped_%s:%lld", is_view ? "view" : "table", (long long)id);
		s->schema_changed = 1;
	}
	return rc;
}

/* Make room for a new object: IF NOT EXISTS (skip), OR REPLACE (drop), or error. */
static int prepare_create(struct session *s, struct sql_stmt *st, int64_t schema_id, int is_view,
			  int *skip, struct tn_err *err)
{
	int taken, rc = name_taken(s, schema_id, st->target.name, &taken, err);

	*skip = 0;
	if (rc || !taken)
		return rc;
	if (st->if_not_exists) {
		*skip = 1;
		return 0;
	}
	if (st->or_replace) {
		struct sql_stmt drop = *st;
		drop.if_exists = 1;
		drop.cascade = 0;
		rc = drop_object(s, &drop, is_view, err);
		/* The mirror may hold a stand-in for the object just ended at
		 * this same (pending) snapshot (a read earlier in the transaction
		 * built it lazily); the refresh the CREATE ... AS does next must
		 * rebuild, or it would look that old table up and fail. Views of
		 * the committed snapshot the transaction started from stay right. */
		if (s->mirror_snap == s->new_snap)
			s->mirror_dirty = 1;
		return rc;
	}
	return tn_err_set(err, TN_ECONFLICT, "%s with name \"%s\" already exists",
			  is_view ? "View" : "Table", st->target.name);
}

static int insert_table_row(struct session *s, int64_t id, int64_t schema_id, const char *name,
			    const char *path, const char *uuid, struct tn_err *err)
{
	struct catalog_stmt *q;
	int rc = catalog_prepare(s->cat, "INSERT INTO ducklake_table VALUES (?, ?, ?, NULL, ?, ?, ?, true)", &q, err);

	if (rc)
		return rc;
	catalog_bind_int(q, 1, id);
	catalog_bind_text(q, 2, uuid);
	catalog_bind_int(q, 3, s->new_snap);
	catalog_bind_int(q, 4, schema_id);
	catalog_bind_text(q, 5, name);
	catalog_bind_text(q, 6, path);
	rc = catalog_step(q, err);
	catalog_finalize(q);
	return rc < 0 ? rc : 0;
}

static int schema_version_row(struct session *s, int64_t table_id, struct tn_err *err)
{
	s->schema_changed = 1;
	return catalog_run(s->cat, "INSERT INTO ducklake_schema_versions SELECT ?1, ?2, ?3 WHERE NOT EXISTS "
			   "(SELECT 1 FROM ducklake_schema_versions WHERE begin_snapshot = ?1 AND table_id = ?3)",
			   err, 3, s->new_snap, s->base.schema_version + 1, table_id);
}

/* ---- CREATE TABLE AS, written before the lock ---- */

struct ddl_staged {
	char *body, *schema, *name;   /* the statement it is for */
	int64_t snap;                 /* the snapshot its query read */
	int64_t schema_id;
	char uuid[37];                /* of the table: its folder */
	char *dir, *field_ids;
	struct coldef *defs;
	size_t ndefs;
	int64_t *reads;               /* tables the query read */
	size_t nreads;
	int reads_all;
	struct write_staged w;
};

static void staged_free(struct session *s, struct ddl_staged *g)
{
	if (!g)
		return;
	if (g->w.rel)
		write_staged_discard(s, &g->w);
	tn_free(g->body);
	tn_free(g->schema);
	tn_free(g->name);
	tn_free(g->dir);
	tn_free(g->field_ids);
	coldefs_free(g->defs, g->ndefs);
	tn_free(g->reads);
	tn_free(g);
}

void ddl_unstage(struct session *s)
{
	staged_free(s, s->staged);
	s->staged = NULL;
}

/* FIELD_IDS for columns made from defs, numbered as insert_column numbers
 * them (depth first from 1), named as field_entries names them. */
static void type_ids(const struct duck_type *t, const char *name, int64_t *next, struct tn_buf *b)
{
	int64_t id = (*next)++;
	size_t i;

	tn_buf_add_sqlstr(b, name);
	if (!t->nchild) {
		tn_buf_addf(b, ": %lld", (long long)id);
		return;
	}
	tn_buf_addf(b, ": {__duckdb_field_id: %lld, ", (long long)id);
	for (i = 0; i < t->nchild; i++) {
		if (i)
			tn_buf_adds(b, ", ");
		type_ids(&t->child[i], t->child[i].name, next, b);
	}
	tn_buf_addc(b, '}');
}

/* The query of a CREATE TABLE AS as it runs: only the tables it reads get
 * their views built; AT clauses and pruning rewritten. With g, the tables
 * it reads are noted there. */
static int ctas_query(struct session *s, struct sql_stmt *st, struct ddl_staged *g, char **query,
		      struct tn_err *err)
{
	int rc = g ? sess_mirror_reads(s, st->body, &g->reads, &g->nreads, &g->reads_all, err) :
		sess_mirror_for_select(s, st->body, err);

	tn_free(*query);
	*query = NULL;
	if (!rc)
		rc = intro_prepare(s, st->body, err);
	if (!rc)
		rc = tt_rewrite(s, st->body, query, err);
	if (!rc && !*query)
		*query = tn_strdup(st->body);
	return rc;
}

static int stage(struct session *s, struct sql_stmt *st, struct ddl_staged *g, struct tn_err *err)
{
	struct tn_buf f = TN_BUF_INIT(TN_BUF_NOMAX);
	char *sdir = NULL, *tpath = NULL, *query = NULL;
	int64_t next = 1;
	size_t i;
	int rc = sess_read_snapshot(s, &g->snap, err);

	if (!rc)
		rc = meta_schema_dir(s->lk, s->cat, g->schema, g->snap, &g->schema_id, &sdir, err);
	if (!rc && !sdir)
		rc = TN_ENOTFOUND;   /* the schema comes later in the transaction */
	if (!rc)
		rc = ctas_query(s, st, g, &query, err);
	if (!rc)
		rc = query_coldefs(s, query, &g->defs, &g->ndefs, err);
	if (!rc && g->ndefs == 0)
		rc = TN_EINVAL;
	if (!rc) {
		tn_uuid7(g->uuid);
		tpath = object_path(g->name, g->uuid);
		g->dir = meta_resolve(sdir, tpath, 1);
		for (i = 0; i < g->ndefs; i++) {
			if (i)
				tn_buf_adds(&f, ", ");
			type_ids(g->defs[i].type, g->defs[i].name, &next, &f);
		}
		g->field_ids = tn_buf_detach(&f, NULL);
		for (i = 0; i < g->ndefs; i++)
			write_wide_int(&f, g->defs[i].type->lake, g->defs[i].name);
		rc = write_stage(s, g->dir, g->field_ids, f.buf, query, &g->w, err);
	}
	tn_buf_release(&f);
	tn_free(sdir);
	tn_free(tpath);
	tn_free(query);
	return rc;
}

void ddl_stage(struct session *s, struct sql_stmt *st)
{
	struct ddl_staged *g;
	struct tn_err err = TN_ERR_INIT;

	ddl_unstage(s);
	if (st->kind != SQL_CREATE_TABLE_AS || s->wtxn || st->if_not_exists)
		return;
	g = tn_calloc(1, sizeof(*g));
	g->body = tn_strdup(st->body);
	g->schema = tn_strdup(schema_of(&st->target));
	g->name = tn_strdup(st->target.name);
	if (stage(s, st, g, &err)) {
		staged_free(s, g);
		return;
	}
	s->staged = g;
	sess_pausepoint("after_stage");
}

/* The staged file for this statement, if it is still right: same
 * statement and schema, and nothing it read changed since. Taken (the
 * caller frees it), or NULL. */
static struct ddl_staged *take_staged(struct session *s, struct sql_stmt *st, int64_t schema_id)
{
	struct ddl_staged *g = s->staged;
	struct tn_err e = TN_ERR_INIT;
	int changed = 1;

	s->staged = NULL;
	if (!g)
		return NULL;
	if (!strcmp(g->body, st->body) && !strcmp(g->schema, schema_of(&st->target)) &&
	    !strcmp(g->name, st->target.name) && g->schema_id == schema_id &&
	    sess_reads_changed(s, g->snap, s->base.id, g->reads, g->nreads, g->reads_all, &changed, &e) == 0 &&
	    !changed)
		return g;
	staged_free(s, g);
	return NULL;
}

static int create_table(struct session *s, struct sql_stmt *st, int64_t *rows_out, struct tn_err *err)
{
	struct ddl_staged *g = NULL;
	struct coldef *defs = NULL;
	struct tn_buf ch = TN_BUF_INIT(TN_BUF_NOMAX);
	char uuid[37], *path = NULL, *query = NULL;
	int64_t schema_id, table_id;
	size_t n = 0;
	int skip, rc;

	rc = need_schema(s, &st->target, &schema_id, err);
	if (!rc)
		rc = prepare_create(s, st, schema_id, 0, &skip, err);
	if (rc || skip)
		return rc;
	if (st->kind == SQL_CREATE_TABLE_AS && (g = take_staged(s, st, schema_id)) != NULL) {
		/* the query ran before the lock: its columns, its file */
		defs = g->defs;
		n = g->ndefs;
		g->defs = NULL;
		g->ndefs = 0;
	} else if (st->kind == SQL_CREATE_TABLE_AS) {
		rc = ctas_query(s, st, NULL, &query, err);
		if (!rc)
			rc = query_coldefs(s, query, &defs, &n, err);
	} else {
		rc = parse_coldefs(s, st->body, &defs, &n, err);
	}
	if (rc)
		goto out;
	if (n == 0) {
		rc = tn_err_set(err, TN_EINVAL, "a table needs at least one column");
		goto out;
	}
	if (g)
		memcpy(uuid, g->uuid, sizeof(uuid));
	else
		tn_uuid7(uuid);
	path = object_path(st->target.name, uuid);
	table_id = s->next_catalog_id++;
	rc = insert_table_row(s, table_id, schema_id, st->target.name, path, uuid, err);
	if (!rc)
		rc = insert_columns(s, table_id, defs, n, 1, 0, err);
	if (!rc)
		rc = schema_version_row(s, table_id, err);
	quoted_name(&ch, schema_of(&st->target), st->target.name);
	if (!rc)
		sess_change(s, "created_table:%s", ch.buf);
	if (!rc && (query || g)) {
		struct lk_table *t = NULL;
		struct tn_buf f = TN_BUF_INIT(TN_BUF_NOMAX);
		int64_t rows;
		rc = meta_table_by_id(s->lk, s->cat, table_id, s->new_snap, &t, err);
		if (!rc && g) {
			write_field_ids(t, &f);
			if (!strcmp(t->dir, g->dir) && f.buf && !strcmp(f.buf, g->field_ids)) {
				rc = write_register(s, t, &g->w, &rows, err);
			} else {
				/* the table came out otherwise: compute it here after all */
				staged_free(s, g);
				g = NULL;
				rc = ctas_query(s, st, NULL, &query, err);
			}
		}
		if (!rc && !g)
			rc = write_rows(s, t, query, &rows, err);
		if (!rc)
			*rows_out = rows;   /* as DuckDB's CREATE TABLE AS reports */
		tn_buf_release(&f);
		meta_table_free(t);
	}
out:
	staged_free(s, g);
	tn_buf_release(&ch);
	coldefs_free(defs, n);
	tn_free(path);
	tn_free(query);
	return rc;
}

static int create_view(struct session *s, struct sql_stmt *st, struct tn_err *err)
{
	struct tn_buf sql = TN_BUF_INIT(TN_BUF_NOMAX), ch = TN_BUF_INIT(TN_BUF_NOMAX);
	struct catalog_stmt *q = NULL;
	char uuid[37];
	int64_t schema_id;
	size_t i;
	int skip, rc;

	rc = need_schema(s, &st->target, &schema_id, err);
	if (!rc)
		rc = prepare_create(s, st, schema_id, 1, &skip, err);
	if (rc || skip)
		return rc;
	/* Column aliases are folded into the stored query. */
	if (st->ncolumns) {
		tn_buf_addf(&sql, "SELECT * FROM (%s) AS __v(", st->body);
		for (i = 0; i < st->ncolumns; i++) {
			if (i)
				tn_buf_adds(&sql, ", ");
			tn_buf_add_sqlid(&sql, st->columns[i]);
		}
		tn_buf_addc(&sql, ')');
	} else {
		tn_buf_adds(&sql, st->body);
	}
	/* Bind it once now, so a broken view is refused at CREATE time (the
	 * tables it reads need their views; the others' stand-ins bind too). */
	rc = sess_mirror_for_select(s, sql.buf, err);
	if (!rc) {
		char *check = tn_xprintf("CREATE OR REPLACE VIEW __tarn_scratch.v AS %s", sql.buf);
		rc = duck_exec(s->duck, check, err);
		tn_free(check);
	}
	tn_uuid7(uuid);
	if (!rc)
		rc = catalog_prepare(s->cat, "INSERT INTO ducklake_view VALUES (?, ?, ?, NULL, ?, ?, 'duckdb', ?, NULL)",
				     &q, err);
	if (!rc) {
		catalog_bind_int(q, 1, s->next_catalog_id++);
		catalog_bind_text(q, 2, uuid);
		catalog_bind_int(q, 3, s->new_snap);
		catalog_bind_int(q, 4, schema_id);
		catalog_bind_text(q, 5, st->target.name);
		catalog_bind_text(q, 6, sql.buf);
		rc = catalog_step(q, err);
		rc = rc < 0 ? rc : 0;
	}
	catalog_finalize(q);
	quoted_name(&ch, schema_of(&st->target), st->target.name);
	if (!rc) {
		sess_change(s, "created_view:%s", ch.buf);
		s->schema_changed = 1;
	}
	tn_buf_release(&sql);
	tn_buf_release(&ch);
	return rc;
}

/* ---- ALTER TABLE ---- */

/* End the live row of a column and insert its successor, with one field
 * changed: `set` is "column_name = ?3", "column_type = ?3" ... */
static int column_version(struct session *s, int64_t table_id, int64_t column_id, const char *set,
			  const char *value, struct tn_err *err)
{
	struct catalog_stmt *q;
	char *sql;
	int rc;

	rc = catalog_run(s->cat, "UPDATE ducklake_column SET end_snapshot = ?1 WHERE table_id = ?2 AND "
			 "column_id = ?3 AND end_snapshot IS NULL", err, 3, s->new_snap, table_id, column_id);
	if (rc)
		return rc;
	sql = tn_xprintf("INSERT INTO ducklake_column SELECT column_id, ?1, NULL, table_id, column_order, "
			 "column_name, column_type, initial_default, default_value, nulls_allowed, parent_column, "
			 "default_value_type, default_value_dialect FROM ducklake_column WHERE table_id = ?2 AND "
			 "column_id = ?4 AND end_snapshot = ?1 ORDER BY begin_snapshot DESC LIMIT 1");
	rc = catalog_prepare(s->cat, sql, &q, err);
	tn_free(sql);
	if (rc)
		return rc;
	catalog_bind_int(q, 1, s->new_snap);
	catalog_bind_int(q, 2, table_id);
	catalog_bind_int(q, 4, column_id);
	rc = catalog_step(q, err);
	catalog_finalize(q);
	if (rc < 0 || !set)
		return rc < 0 ? rc : 0;
	sql = tn_xprintf("UPDATE ducklake_column SET %s WHERE table_id = ?1 AND column_id = ?2 AND "
			 "begin_snapshot = ?4 AND end_snapshot IS NULL", set);
	rc = catalog_prepare(s->cat, sql, &q, err);
	tn_free(sql);
	if (rc)
		return rc;
	catalog_bind_int(q, 1, table_id);
	catalog_bind_int(q, 2, column_id);
	catalog_bind_text(q, 3, value);
	catalog_bind_int(q, 4, s->new_snap);
	rc = catalog_step(q, err);
	catalog_finalize(q);
	return rc < 0 ? rc : 0;
}

static int written_in_txn(struct session *s, int64_t table_id, struct tn_err *err)
{
	int64_t n;
	int found, rc = catalog_get_int(s->cat, "SELECT count(*) FROM ducklake_data_file WHERE table_id = ? "
				       "AND begin_snapshot = ?", &n, &found, err, 2, table_id, s->new_snap);
	if (!rc && n > 0)
		rc = tn_err_set(err, TN_EUNSUPPORTED, "changing the columns of a table after writing to it "
				"in the same transaction is not supported; COMMIT first");
	return rc;
}

/* Lossless widenings DuckLake allows. */
static int widening_ok(const char *from, const char *to)
{
	static const char *pairs[][2] = {
		{ "int8", "int16" }, { "int8", "int32" }, { "int8", "int64" }, { "int16", "int32" },
		{ "int16", "int64" }, { "int32", "int64" }, { "uint8", "uint16" }, { "uint8", "uint32" },
		{ "uint8", "uint64" }, { "uint16", "uint32" }, { "uint16", "uint64" }, { "uint32", "uint64" },
		{ "uint8", "int16" }, { "uint8", "int32" }, { "uint8", "int64" }, { "uint16", "int32" },
		{ "uint16", "int64" }, { "uint32", "int64" }, { "float32", "float64" },
	};
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(pairs); i++)
		if (!strcmp(pairs[i][0], from) && !strcmp(pairs[i][1], to))
			return 1;
	return 0;
}

/* Type tree of a type name, through DuckDB's parser. */
static int type_of(struct session *s, const char *type, struct duck_type **out, struct tn_err *err)
{
	struct duck_result *r = NULL;
	char *sql = tn_xprintf("SELECT CAST(NULL AS %s) AS x", type);
	int rc = duck_query(s->duck, sql, &r, err);

	tn_free(sql);
	*out = NULL;
	if (!rc)
		*out = duck_result_type(r, 0);
	duck_result_free(r);
	if (!rc)
		rc = check_type(*out, "new", err);
	return rc;
}

static int add_column(struct session *s, struct lk_table *t, struct sql_stmt *st, struct tn_err *err)
{
	struct coldef def;
	int64_t max_id = 0, max_order = 0;
	int found, rc;

	if (meta_find_column(t, st->column))
		return st->if_not_exists ? 0 : tn_err_set(err, TN_ECONFLICT,
			"Column with name %s already exists in table %s", st->column, t->name);
	memset(&def, 0, sizeof(def));
	def.name = st->column;
	def.not_null = st->not_null;
	rc = type_of(s, st->type, &def.type, err);
	if (!rc && st->default_expr) {
		char *sql = tn_xprintf("SELECT CAST((%s) AS %s)", st->default_expr, def.type->duck);
		rc = duck_query_text(s->duck, sql, &def.initial_default, err);
		tn_free(sql);
		def.default_value = st->default_expr;
	}
	if (!rc && def.not_null && !def.initial_default && t->nfiles > 0)
		rc = tn_err_set(err, TN_EINVAL, "cannot add NOT NULL column %s without a DEFAULT to a table "
				"that has rows", st->column);
	if (!rc)
		rc = catalog_get_int(s->cat, "SELECT max(column_id) FROM ducklake_column WHERE table_id = ?",
				     &max_id, &found, err, 1, t->id);
	if (!rc)
		rc = catalog_get_int(s->cat, "SELECT max(column_order) FROM ducklake_column WHERE table_id = ? "
				     "AND parent_column IS NULL", &max_order, &found, err, 1, t->id);
	if (!rc) {
		struct coldef copy = def;
		copy.default_value = def.default_value ? tn_strdup(def.default_value) : NULL;
		copy.name = tn_strdup(def.name);
		rc = insert_columns(s, t->id, &copy, 1, max_id + 1, max_order + 1, err);
		copy.type = NULL;
		copy.initial_default = NULL;
		tn_free(copy.name);
		tn_free(copy.default_value);
	}
	duck_type_free(def.type);
	tn_free(def.initial_default);
	return rc;
}

static void collect_column_ids(const struct lk_column *c, struct tn_buf *b)
{
	size_t i;

	tn_buf_addf(b, "%s%lld", b->len ? "," : "", (long long)c->id);
	for (i = 0; i < c->nchild; i++)
		collect_column_ids(&c->child[i], b);
}

static int drop_column(struct session *s, struct lk_table *t, struct lk_column *c, struct tn_err *err)
{
	struct tn_buf ids = TN_BUF_INIT(TN_BUF_NOMAX);
	char *sql;
	int rc;

	if (t->ncols == 1)
		return tn_err_set(err, TN_EINVAL, "cannot drop column %s: it is the only column of %s; "
				  "drop the table instead", c->name, t->name);
	collect_column_ids(c, &ids);
	sql = tn_xprintf("UPDATE ducklake_column SET end_snapshot = ? WHERE table_id = ? AND "
			 "end_snapshot IS NULL AND column_id IN (%s)", ids.buf);
	rc = catalog_run(s->cat, sql, err, 2, s->new_snap, t->id);
	tn_free(sql);
	if (!rc) {
		sql = tn_xprintf("UPDATE ducklake_column_tag SET end_snapshot = ? WHERE table_id = ? AND "
				 "end_snapshot IS NULL AND column_id IN (%s)", ids.buf);
		rc = catalog_run(s->cat, sql, err, 2, s->new_snap, t->id);
		tn_free(sql);
	}
	tn_buf_release(&ids);
	return rc;
}

static int alter_type(struct session *s, struct lk_table *t, struct lk_column *c, const char *type,
		      struct tn_err *err)
{
	struct duck_type *nt = NULL;
	int rc = type_of(s, type, &nt, err);

	if (!rc && strcmp(nt->lake, c->type)) {
		if (!widening_ok(c->type, nt->lake))
			rc = tn_err_set(err, TN_EUNSUPPORTED, "cannot change the type of column %s from %s to %s: "
					"only lossless widening is supported (e.g. INTEGER to BIGINT, FLOAT to DOUBLE)",
					c->name, c->type, nt->lake);
		else
			rc = column_version(s, t->id, c->id, "column_type = ?3", nt->lake, err);
	}
	duck_type_free(nt);
	return rc;
}

static int no_nulls(struct session *s, struct lk_table *t, struct lk_column *c, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int64_t n = 0;
	int rc = sess_refresh_mirror(s, err);

	tn_buf_adds(&q, "SELECT count(*) FROM ");
	quoted_name(&q, t->schema, t->name);
	tn_buf_adds(&q, " WHERE ");
	tn_buf_add_sqlid(&q, c->name);
	tn_buf_adds(&q, " IS NULL");
	if (!rc)
		rc = duck_query_int(s->duck, q.buf, &n, err);
	if (!rc && n > 0)
		rc = tn_err_set(err, TN_EINVAL, "cannot SET NOT NULL on %s.%s: %lld rows are NULL",
				t->name, c->name, (long long)n);
	tn_buf_release(&q);
	return rc;
}

static int rename_table(struct session *s, struct lk_table *t, const char *to, struct tn_err *err)
{
	int taken, rc = name_taken(s, t->schema_id, to, &taken, err);

	if (!rc && taken)
		rc = tn_err_set(err, TN_ECONFLICT, "cannot rename %s to %s: that name is taken", t->name, to);
	if (!rc)
		rc = catalog_run(s->cat, "UPDATE ducklake_table SET end_snapshot = ? WHERE table_id = ? AND "
				 "end_snapshot IS NULL", err, 2, s->new_snap, t->id);
	if (!rc) {
		char uuid[37];
		struct catalog_stmt *q;
		rc = catalog_prepare(s->cat, "SELECT table_uuid FROM ducklake_table WHERE table_id = ? LIMIT 1", &q, err);
		if (!rc)
			catalog_bind_int(q, 1, t->id);
		if (!rc && catalog_step(q, err) == 1)
			snprintf(uuid, sizeof(uuid), "%s", catalog_col_text(q, 0) ? catalog_col_text(q, 0) : "");
		catalog_finalize(q);
		if (!rc)
			rc = insert_table_row(s, t->id, t->schema_id, to, t->rel_path, uuid, err);
	}
	return rc;
}

static int alter_column(struct session *s, struct lk_table *t, struct sql_stmt *st, struct tn_err *err)
{
	struct lk_column *c = meta_find_column(t, st->column);

	if (!c)
		return (st->alter == SQL_ALTER_DROP_COLUMN && st->column_if_exists) ? 0 :
			tn_err_set(err, TN_ENOTFOUND, "Table \"%s\" does not have a column with name \"%s\"",
				   t->name, st->column);
	switch (st->alter) {
	case SQL_ALTER_DROP_COLUMN:
		return drop_column(s, t, c, err);
	case SQL_ALTER_RENAME_COLUMN:
		if (meta_find_column(t, st->new_name) && !tn_strieq(st->new_name, c->name))
			return tn_err_set(err, TN_ECONFLICT, "Column with name %s already exists", st->new_name);
		return column_version(s, t->id, c->id, "column_name = ?3", st->new_name, err);
	case SQL_ALTER_COLUMN_TYPE:
		return alter_type(s, t, c, st->type, err);
	case SQL_ALTER_SET_DEFAULT:
		return column_version(s, t->id, c->id, "default_value = ?3, default_value_type = 'expression', "
				      "default_value_dialect = 'duckdb'", st->default_expr, err);
	case SQL_ALTER_DROP_DEFAULT:
		return column_version(s, t->id, c->id, "default_value = ?3", NULL, err);
	case SQL_ALTER_SET_NOT_NULL: {
		int rc = no_nulls(s, t, c, err);
		return rc ? rc : column_version(s, t->id, c->id, "nulls_allowed = false", NULL, err);
	}
	case SQL_ALTER_DROP_NOT_NULL:
		return column_version(s, t->id, c->id, "nulls_allowed = true", NULL, err);
	default:
		return tn_err_set(err, TN_EINTERNAL, "unexpected ALTER");
	}
}

static int alter_table(struct session *s, struct sql_stmt *st, struct tn_err *err)
{
	struct lk_table *t = NULL;
	int rc = meta_table(s->lk, s->cat, st->target.schema, st->target.name, s->new_snap, &t, err);

	if (rc == TN_ENOTFOUND && st->if_exists) {
		tn_err_clear(err);
		return 0;
	}
	if (!rc)
		rc = meta_load_files(s->lk, s->cat, t, err);
	if (!rc)
		rc = sess_check_conflict(s, t->id, t->name, SESS_OP_DDL, err);
	if (!rc && st->alter != SQL_ALTER_RENAME_TABLE && st->alter != SQL_ALTER_SET_DEFAULT &&
	    st->alter != SQL_ALTER_DROP_DEFAULT)
		rc = written_in_txn(s, t->id, err);
	if (!rc) {
		if (st->alter == SQL_ALTER_ADD_COLUMN)
			rc = add_column(s, t, st, err);
		else if (st->alter == SQL_ALTER_RENAME_TABLE)
			rc = rename_table(s, t, st->new_name, err);
		else
			rc = alter_column(s, t, st, err);
	}
	if (!rc)
		rc = schema_version_row(s, t->id, err);
	if (!rc)
		sess_change(s, "altered_table:%lld", (long long)t->id);
	meta_table_free(t);
	return rc;
}

/* ---- COMMENT ON ---- */

static int set_tag(struct session *s, int64_t table_id, int64_t column_id, const char *value,
		   struct tn_err *err)
{
	struct catalog_stmt *q;
	int rc;

	if (column_id)
		rc = catalog_run(s->cat, "UPDATE ducklake_column_tag SET end_snapshot = ? WHERE table_id = ? AND "
				 "column_id = ? AND key = 'comment' AND end_snapshot IS NULL", err, 3,
				 s->new_snap, table_id, column_id);
	else
		rc = catalog_run(s->cat, "UPDATE ducklake_tag SET end_snapshot = ? WHERE object_id = ? AND "
				 "key = 'comment' AND end_snapshot IS NULL", err, 2, s->new_snap, table_id);
	if (rc || !value)
		return rc;
	rc = catalog_prepare(s->cat, column_id ?
			     "INSERT INTO ducklake_column_tag VALUES (?1, ?2, ?3, NULL, 'comment', ?4)" :
			     "INSERT INTO ducklake_tag VALUES (?1, ?3, NULL, 'comment', ?4)", &q, err);
	if (rc)
		return rc;
	catalog_bind_int(q, 1, table_id);
	if (column_id)
		catalog_bind_int(q, 2, column_id);
	catalog_bind_int(q, 3, s->new_snap);
	catalog_bind_text(q, 4, value);
	rc = catalog_step(q, err);
	catalog_finalize(q);
	return rc < 0 ? rc : 0;
}

static int comment_on(struct session *s, struct sql_stmt *st, struct tn_err *err)
{
	struct lk_table *t = NULL;
	int64_t id = 0;
	int found = 0, rc;

	if (st->comment_on == SQL_COMMENT_SCHEMA)
		return tn_err_set(err, TN_EUNSUPPORTED, "COMMENT ON SCHEMA is not supported; comment on "
				  "tables, views and columns");
	if (st->comment_on == SQL_COMMENT_VIEW) {
		rc = meta_view(s->cat, st->target.schema, st->target.name, s->new_snap, &id, NULL, &found, err);
		if (!rc && !found)
			rc = tn_err_set(err, TN_ENOTFOUND, "View with name %s does not exist", st->target.name);
		if (!rc)
			rc = set_tag(s, id, 0, st->comment, err);
		if (!rc)
			sess_change(s, "altered_view:%lld", (long long)id);
		s->schema_changed = 1;
		return rc;
	}
	rc = meta_table(s->lk, s->cat, st->target.schema, st->target.name, s->new_snap, &t, err);
	if (!rc && st->comment_on == SQL_COMMENT_COLUMN) {
		struct lk_column *c = meta_find_column(t, st->column);
		if (!c)
			rc = tn_err_set(err, TN_ENOTFOUND, "Table \"%s\" does not have a column with name \"%s\"",
					t->name, st->column);
		else
			rc = set_tag(s, t->id, c->id, st->comment, err);
	} else if (!rc) {
		rc = set_tag(s, t->id, 0, st->comment, err);
	}
	if (!rc) {
		sess_change(s, "altered_table:%lld", (long long)t->id);
		s->schema_changed = 1;
	}
	meta_table_free(t);
	return rc;
}

int ddl_exec(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err)
{
	switch (st->kind) {
	case SQL_CREATE_SCHEMA:
		return create_schema(s, st, err);
	case SQL_CREATE_TABLE:
	case SQL_CREATE_TABLE_AS:
		return create_table(s, st, rows, err);
	case SQL_CREATE_VIEW:
		return create_view(s, st, err);
	case SQL_DROP_TABLE:
		return drop_object(s, st, 0, err);
	case SQL_DROP_VIEW:
		return drop_object(s, st, 1, err);
	case SQL_DROP_SCHEMA:
		return drop_schema(s, st, err);
	case SQL_ALTER_TABLE:
		return alter_table(s, st, err);
	case SQL_COMMENT:
		return comment_on(s, st, err);
	default:
		return tn_err_set(err, TN_EINTERNAL, "not a DDL statement");
	}
}
