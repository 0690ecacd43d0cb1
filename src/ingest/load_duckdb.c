/*
 * load_duckdb.c: `tarn ingest duckdb FILE`: every table of a DuckDB
 * database file into the lake, comments included. The file is ATTACHed
 * read-only to the session's DuckDB (plain SQL through session_exec) and
 * DETACHed at the end, whatever happened.
 */
#include "base/compat.h"
#include "ingest/load.h"
#include "ingest/load_int.h"
#include "ingest/hash.h"
#include "lake/session.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"

#define ALIAS "__tarn_import"

struct src_col {
	char *name, *type, *comment;
};

struct src_table {
	char *schema, *name, *comment;  /* in the source */
	char *target;                   /* table name in the lake */
	struct src_col *cols;
	size_t ncols;
	int64_t rows;
};

struct imp {
	struct session *s;
	const char *path;
	char *schema;                   /* lake schema */
	char sha[HASH_HEX_LEN];
	struct src_table *t;
	size_t n;
	load_note_fn *note;
	void *note_arg;
};

static char *text_or_null(struct duck_result *r, size_t c, uint64_t row)
{
	return duck_result_is_null(r, c, row) ? NULL : duck_result_text(r, c, row);
}

static int read_columns(struct imp *im, struct src_table *t, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	uint64_t k;
	int rc;

	tn_buf_adds(&q, "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = '"
		    ALIAS "' AND schema_name = ");
	tn_buf_add_sqlstr(&q, t->schema);
	tn_buf_adds(&q, " AND table_name = ");
	tn_buf_add_sqlstr(&q, t->name);
	tn_buf_adds(&q, " ORDER BY column_index");
	rc = load_exec(im->s, &q, &r, err);
	t->cols = tn_calloc(rc ? 1 : duck_result_nrows(r) + 1, sizeof(*t->cols));
	for (k = 0; !rc && k < duck_result_nrows(r); k++) {
		struct src_col *c = &t->cols[t->ncols++];
		c->name = text_or_null(r, 0, k);
		c->type = text_or_null(r, 1, k);
		c->comment = text_or_null(r, 2, k);
	}
	duck_result_free(r);
	tn_buf_release(&q);
	return rc;
}

static void add_source_name(struct tn_buf *q, const struct src_table *t)
{
	tn_buf_adds(q, ALIAS ".");
	load_add_name(q, t->schema, t->name);
}

static int read_tables(struct imp *im, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	uint64_t k;
	int64_t views = 0;
	int rc;

	tn_buf_adds(&q, "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE database_name = '"
		    ALIAS "' AND NOT internal ORDER BY schema_name <> 'main', schema_name, table_name");
	rc = load_exec(im->s, &q, &r, err);
	im->t = tn_calloc(rc ? 1 : duck_result_nrows(r) + 1, sizeof(*im->t));
	for (k = 0; !rc && k < duck_result_nrows(r); k++) {
		struct src_table *t = &im->t[im->n++];
		t->schema = text_or_null(r, 0, k);
		t->name = text_or_null(r, 1, k);
		t->comment = text_or_null(r, 2, k);
		t->target = !strcmp(t->schema, "main") ? tn_strdup(t->name)
						       : tn_xprintf("%s_%s", t->schema, t->name);
		rc = read_columns(im, t, err);
		if (!rc) {
			tn_buf_reset(&q);
			tn_buf_adds(&q, "SELECT count(*) FROM ");
			add_source_name(&q, t);
			rc = load_int(im->s, &q, &t->rows, err);
		}
	}
	duck_result_free(r);
	tn_buf_reset(&q);
	tn_buf_adds(&q, "SELECT count(*) FROM duckdb_views() WHERE database_name = '" ALIAS "' AND NOT internal");
	if (!rc)
		rc = load_int(im->s, &q, &views, err);
	if (!rc && views > 0)
		load_note(im->note, im->note_arg, "%s: skipped %lld view%s (only tables are imported)", im->path,
			  (long long)views, views == 1 ? "" : "s");
	if (!rc && im->n == 0)
		rc = tn_err_set(err, TN_EINVAL, "%s has no tables to import", im->path);
	tn_buf_release(&q);
	return rc;
}

/* SELECT list: ENUMs become VARCHAR (DuckLake has no ENUM type). */
static void add_select(struct tn_buf *q, const struct src_table *t)
{
	size_t i;

	tn_buf_adds(q, "SELECT ");
	for (i = 0; i < t->ncols; i++) {
		const struct src_col *c = &t->cols[i];
		int cast = c->type && !strncmp(c->type, "ENUM(", 5);
		if (i)
			tn_buf_adds(q, ", ");
		if (cast)
			tn_buf_adds(q, "CAST(");
		tn_buf_add_sqlid(q, c->name);
		if (cast) {
			tn_buf_adds(q, " AS VARCHAR) AS ");
			tn_buf_add_sqlid(q, c->name);
		}
	}
	tn_buf_adds(q, " FROM ");
	add_source_name(q, t);
}

static int comment(struct imp *im, const char *what, const struct src_table *t, const char *col,
		   const char *text, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	if (!text || !*text)
		return 0;
	tn_buf_addf(&q, "COMMENT ON %s ", what);
	load_add_name(&q, im->schema, t->target);
	if (col) {
		tn_buf_addc(&q, '.');
		tn_buf_add_sqlid(&q, col);
	}
	tn_buf_adds(&q, " IS ");
	tn_buf_add_sqlstr(&q, text);
	rc = load_exec(im->s, &q, NULL, err);
	tn_buf_release(&q);
	return rc;
}

/* Structure and comments first, rows last: the lake does not change a
 * table's definition after writing to it in the same transaction. */
static int copy_table(struct imp *im, const struct src_table *t, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;
	int rc;

	tn_buf_adds(&q, "CREATE TABLE ");
	load_add_name(&q, im->schema, t->target);
	tn_buf_adds(&q, " AS SELECT * FROM (");
	add_select(&q, t);
	tn_buf_adds(&q, ") LIMIT 0");
	rc = load_exec(im->s, &q, NULL, err);
	if (!rc)
		rc = comment(im, "TABLE", t, NULL, t->comment, err);
	for (i = 0; !rc && i < t->ncols; i++)
		rc = comment(im, "COLUMN", t, t->cols[i].name, t->cols[i].comment, err);
	if (!rc) {
		tn_buf_reset(&q);
		tn_buf_adds(&q, "INSERT INTO ");
		load_add_name(&q, im->schema, t->target);
		tn_buf_adds(&q, " ");
		add_select(&q, t);
		rc = load_exec(im->s, &q, NULL, err);
	}
	if (rc)
		tn_err_prefix(err, "importing %s.%s", t->schema, t->name);
	tn_buf_release(&q);
	return rc;
}

static int check_free(struct imp *im, struct tn_err *err)
{
	size_t i;
	int rc = 0, exists = 0;

	for (i = 0; !rc && i < im->n; i++) {
		rc = load_table_exists(im->s, im->schema, im->t[i].target, &exists, err);
		if (!rc && exists)
			rc = tn_err_set(err, TN_ECONFLICT, "table %s.%s exists already; drop it, or import into "
					"another schema with --schema (nothing was imported)", im->schema,
					im->t[i].target);
	}
	return rc;
}

static int import_all(struct imp *im, struct load_report *rep, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX), msg = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;
	int rc;

	tn_buf_addf(&msg, "tarn ingest duckdb %s sha256:%s: %zu table%s into %s", im->path, im->sha, im->n,
		    im->n == 1 ? "" : "s", im->schema);
	session_set_commit_info(im->s, NULL, msg.buf, NULL);
	rc = session_exec(im->s, "BEGIN", NULL, err);
	tn_buf_adds(&q, "CREATE SCHEMA IF NOT EXISTS ");
	tn_buf_add_sqlid(&q, im->schema);
	if (!rc)
		rc = load_exec(im->s, &q, NULL, err);
	for (i = 0; !rc && i < im->n; i++)
		rc = copy_table(im, &im->t[i], err);
	if (!rc)
		rc = session_exec(im->s, "COMMIT", NULL, err);
	if (rc) {
		load_rollback(im->s);
		session_set_commit_info(im->s, NULL, NULL, NULL);
	}
	for (i = 0; !rc && i < im->n; i++) {
		struct load_table *t = load_report_add(rep, im->schema, im->t[i].target);
		t->rows = im->t[i].rows;
		t->nfiles = 1;
	}
	tn_buf_release(&q);
	tn_buf_release(&msg);
	return rc;
}

static void imp_release(struct imp *im)
{
	size_t i, k;

	for (i = 0; i < im->n; i++) {
		struct src_table *t = &im->t[i];
		for (k = 0; k < t->ncols; k++) {
			tn_free(t->cols[k].name);
			tn_free(t->cols[k].type);
			tn_free(t->cols[k].comment);
		}
		tn_free(t->cols);
		tn_free(t->schema);
		tn_free(t->name);
		tn_free(t->comment);
		tn_free(t->target);
	}
	tn_free(im->t);
	tn_free(im->schema);
}

static int attach(struct imp *im, const char *abs, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	tn_buf_adds(&q, "ATTACH ");
	tn_buf_add_sqlstr(&q, abs);
	tn_buf_adds(&q, " AS " ALIAS " (READ_ONLY)");
	rc = load_exec(im->s, &q, NULL, err);
	if (rc) {
		load_trim_message(err->msg);
		tn_err_prefix(err, "cannot open %s as a DuckDB database", im->path);
	}
	tn_buf_release(&q);
	return rc;
}

int load_duckdb(struct session *s, const char *path, const char *schema, load_note_fn *note,
		void *note_arg, struct load_report *rep, struct tn_err *err)
{
	struct imp im;
	struct tn_err ignore = TN_ERR_INIT;
	char *abs = tn_fs_abspath(path);
	int rc = 0, attached = 0;

	memset(&im, 0, sizeof(im));
	memset(rep, 0, sizeof(*rep));
	im.s = s;
	im.path = path;
	im.schema = tn_strdup(schema && *schema ? schema : LOAD_DEFAULT_SCHEMA);
	im.note = note;
	im.note_arg = note_arg;
	if (session_in_txn(s))
		rc = tn_err_set(err, TN_EINVAL, "an import is its own transaction: COMMIT or ROLLBACK first");
	else if (!tn_fs_exists(abs) || tn_fs_is_dir(abs))
		rc = tn_err_set(err, TN_ENOTFOUND, "no such DuckDB database file: %s", path);
	if (!rc)
		rc = hash_file(abs, im.sha, NULL, err);
	if (!rc)
		rc = attach(&im, abs, err);
	attached = !rc;
	if (!rc)
		rc = read_tables(&im, err);
	if (!rc)
		rc = check_free(&im, err);
	if (!rc)
		rc = import_all(&im, rep, err);
	if (attached)
		session_exec(s, "DETACH " ALIAS, NULL, &ignore);
	if (rc)
		load_report_release(rep);
	imp_release(&im);
	tn_free(abs);
	return rc;
}
