/*
 * run.c: the scheduler (a ready queue over the graph, N workers), the
 * materializations, the tests and the run history.
 */
#include "base/compat.h"
#include "transform/run.h"
#include "transform/snapshot.h"
#include "engine/duck.h"
#include "lake/lake.h"
#include "lake/session.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#define SAMPLE_ROWS 5

/* ST_BUILT: committed, its tests running: a table model that reads it may
 * start and compute meanwhile, but commits only once they pass (gate). */
enum state { ST_WAIT, ST_RUNNING, ST_BUILT, ST_OK, ST_BAD };

struct sched {
	struct lake *lk;
	const struct tf_project *p;
	const struct tf_run_opts *o;
	struct tf_results *res;
	char *picked;
	enum state *st;
	size_t left;               /* picked nodes not finished */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct tn_err fatal;       /* a worker could not open the lake */
	int have_fatal;
	double *prio;              /* seconds from a node's start to the end of its
				    * longest downstream path, by the last run */
	size_t late_next;          /* next late test job (late_job) */
};

void tf_results_release(struct tf_results *r)
{
	for (size_t i = 0; i < r->n; i++) {
		tn_free(r->r[i].node);
		tn_free(r->r[i].kind);
		tn_free(r->r[i].status);
		tn_free(r->r[i].message);
	}
	tn_free(r->r);
	tn_free(r->run_id);
	memset(r, 0, sizeof(*r));
}

/* Caller holds the lock. */
static void add_result(struct sched *s, const char *node, const char *kind, const char *status, int64_t rows,
		       double secs, int64_t snap, const char *msg)
{
	struct tf_result *r;

	TN_GROW(s->res->r, s->res->alloc, s->res->n + 1);
	r = &s->res->r[s->res->n++];
	r->node = tn_strdup(node);
	r->kind = tn_strdup(kind);
	r->status = tn_strdup(status);
	r->rows = rows;
	r->seconds = secs;
	r->snapshot = snap;
	r->message = msg ? tn_strdup(msg) : NULL;
	if (!strcmp(status, "error") || !strcmp(status, "fail"))
		s->res->failed++;
	else if (!strcmp(status, "warn"))
		s->res->warned++;
	if (s->o->event)
		s->o->event(s->o->event_arg, r);
}

/* ---- SQL helpers ---- */

static int exec_sql(struct session *ss, const char *sql, int64_t *count, struct tn_err *err)
{
	struct duck_result *r = NULL;
	int rc = session_exec(ss, sql, &r, err);

	if (!rc && count)
		*count = r && duck_result_nrows(r) == 1 && duck_result_ncols(r) >= 1 && !duck_result_is_null(r, 0, 0) ?
			duck_result_int(r, 0, 0) : -1;
	duck_result_free(r);
	return rc;
}

static int query_int(struct session *ss, const char *sql, int64_t *out, struct tn_err *err)
{
	return exec_sql(ss, sql, out, err);
}

/* Whether the node's relation exists as a `kind` ('table' or 'view'):
 * a catalog lookup, not tarn_tables(), which lists the whole lake. */
static int object_exists(struct session *ss, const struct tf_node *n, const char *kind, int *yes,
			 struct tn_err *err)
{
	enum session_rel k;
	int rc = session_relation(ss, n->schema, n->name, &k, err);

	*yes = !rc && k == (strcmp(kind, "view") ? SESSION_REL_TABLE : SESSION_REL_VIEW);
	return rc;
}

static int table_exists(struct session *ss, const struct tf_node *n, int *yes, struct tn_err *err)
{
	return object_exists(ss, n, "table", yes, err);
}

/* CREATE OR REPLACE replaces only its own kind: a model that changed
 * from view to table (or back) drops the old object first, in its build's
 * transaction, so readers never see it missing. Asked before BEGIN, so
 * the check reads the committed catalog, not the build's own writes.
 * *drop is the DROP, or NULL. */
static int drop_other_kind(struct session *ss, const struct tf_project *p, size_t i, char **drop,
			   struct tn_err *err)
{
	const struct tf_node *n = &p->n[i];
	int to_view = n->kind == TF_MODEL && n->mat == TF_VIEW, yes = 0, rc;
	char *rel;

	*drop = NULL;
	if (n->kind == TF_MODEL && n->mat == TF_EPHEMERAL)
		return 0;
	rc = object_exists(ss, n, to_view ? "table" : "view", &yes, err);
	if (rc || !yes)
		return rc;
	rel = tf_relation(p, i);
	*drop = tn_xprintf("DROP %s %s", to_view ? "TABLE" : "VIEW", rel);
	tn_free(rel);
	return 0;
}

/* COMMENT ON for the node's description and column descriptions. */
static int comments(struct session *ss, const struct tf_project *p, size_t i, struct tn_err *err)
{
	const struct tf_node *n = &p->n[i];
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char *rel = tf_relation(p, i);
	size_t k;
	json_t *c;
	int rc = 0;

	if (n->description) {
		tn_buf_addf(&q, "COMMENT ON %s %s IS ", n->mat == TF_VIEW ? "VIEW" : "TABLE", rel);
		tn_buf_add_sqlstr(&q, n->description);
		rc = exec_sql(ss, q.buf, NULL, err);
	}
	json_array_foreach(n->columns, k, c) {
		const char *cn = json_string_value(json_object_get(c, "name"));
		const char *d = json_string_value(json_object_get(c, "description"));
		if (rc || !cn || !d || n->mat == TF_VIEW)
			continue;
		tn_buf_reset(&q);
		tn_buf_addf(&q, "COMMENT ON COLUMN %s.", rel);
		tn_buf_add_sqlid(&q, cn);
		tn_buf_adds(&q, " IS ");
		tn_buf_add_sqlstr(&q, d);
		rc = exec_sql(ss, q.buf, NULL, err);
	}
	tn_free(rel);
	tn_buf_release(&q);
	return rc;
}

enum cols { COLS_PLAIN, COLS_SOURCE, COLS_SET };

/* Column names, comma separated: "c", "__tarn_s.c" or "c = __tarn_s.c". */
static void col_list(struct tn_buf *q, char **names, size_t nn, enum cols how)
{
	for (size_t k = 0; k < nn; k++) {
		tn_buf_adds(q, k ? ", " : "");
		if (how != COLS_SOURCE)
			tn_buf_add_sqlid(q, names[k]);
		if (how == COLS_SET)
			tn_buf_adds(q, " = ");
		if (how != COLS_PLAIN) {
			tn_buf_adds(q, "__tarn_s.");
			tn_buf_add_sqlid(q, names[k]);
		}
	}
}

/* MERGE INTO rel USING (sql) ON key columns: update every other column,
 * insert new keys. The column list is the table's. */
static int merge_sql(struct session *ss, const struct tf_project *p, size_t i, const char *sql, struct tn_buf *q,
		     struct tn_err *err)
{
	const struct tf_node *n = &p->n[i];
	struct tn_buf on = TN_BUF_INIT(TN_BUF_NOMAX);
	char *rel = tf_relation(p, i), *keys = tn_strdup(n->unique_key), *k, *save = NULL, **cols = NULL;
	size_t nc = 0;
	int rc, first = 1;

	for (k = strtok_r(keys, ", ", &save); k; k = strtok_r(NULL, ", ", &save)) {
		tn_buf_adds(&on, first ? "" : " AND ");
		tn_buf_adds(&on, "__tarn_t.");
		tn_buf_add_sqlid(&on, k);
		tn_buf_adds(&on, " IS NOT DISTINCT FROM __tarn_s.");
		tn_buf_add_sqlid(&on, k);
		first = 0;
	}
	rc = session_columns(ss, n->schema, n->name, &cols, &nc, err);
	tn_buf_addf(q, "MERGE INTO %s AS __tarn_t USING (%s\n) AS __tarn_s ON %s WHEN MATCHED THEN UPDATE SET ",
		    rel, sql, on.buf);
	col_list(q, cols, nc, COLS_SET);
	tn_buf_adds(q, " WHEN NOT MATCHED THEN INSERT (");
	col_list(q, cols, nc, COLS_PLAIN);
	tn_buf_adds(q, ") VALUES (");
	col_list(q, cols, nc, COLS_SOURCE);
	tn_buf_adds(q, ")");
	if (!rc && nc == 0)
		rc = tn_err_set(err, TN_EINVAL, "%s has no columns to merge into", rel);
	for (size_t c = 0; c < nc; c++)
		tn_free(cols[c]);
	tn_free(cols);
	tn_buf_release(&on);
	tn_free(rel);
	tn_free(keys);
	return rc;
}

/* The statement that builds node i. An incremental run first stages its
 * new rows in a DuckDB temp table: when there are none, nothing is
 * written (q stays empty), and a merge reads the staged rows, not the
 * model's query, so the query runs once. */
static int build_sql(struct session *ss, const struct tf_project *p, size_t i, int full_refresh,
		     struct tn_buf *q, struct tn_err *err)
{
	const struct tf_node *n = &p->n[i];
	struct tf_render_opts ro = { 0 };
	char *rel = tf_relation(p, i), *sql = NULL;
	int rc = 0, exists = 0;

	if (n->kind == TF_SEED) {
		char *path = tn_xprintf("%s/%s", p->root, n->path);
		tn_buf_addf(q, "CREATE OR REPLACE TABLE %s AS SELECT * FROM read_csv(", rel);
		tn_buf_add_sqlstr(q, path);
		tn_buf_adds(q, ", header = true)");
		tn_free(path);
		tn_free(rel);
		return 0;
	}
	if (n->mat == TF_INCREMENTAL && !full_refresh)
		rc = table_exists(ss, n, &exists, err);
	ro.incremental = exists;
	if (!rc)
		rc = tf_render_node(p, i, &ro, &sql, err);
	if (!rc && exists) {
		struct tn_buf st = TN_BUF_INIT(TN_BUF_NOMAX);
		int64_t fresh = 0;
		tn_buf_addf(&st, "CREATE OR REPLACE TEMP TABLE __tarn_inc AS %s", sql);
		rc = exec_sql(ss, st.buf, NULL, err);
		if (!rc)
			rc = exec_sql(ss, "SELECT count(*) FROM temp.main.__tarn_inc", &fresh, err);
		tn_buf_release(&st);
		tn_free(sql);
		sql = tn_strdup("SELECT * FROM temp.main.__tarn_inc");
		if (!rc && fresh <= 0) {
			tn_free(sql);
			tn_free(rel);
			return 0;   /* nothing new */
		}
	}
	if (!rc) {
		if (n->mat == TF_VIEW)
			tn_buf_addf(q, "CREATE OR REPLACE VIEW %s AS %s", rel, sql);
		else if (!exists)
			tn_buf_addf(q, "CREATE OR REPLACE TABLE %s AS %s", rel, sql);
		else if (n->unique_key)
			rc = merge_sql(ss, p, i, sql, q, err);
		else
			tn_buf_addf(q, "INSERT INTO %s BY NAME %s", rel, sql);
	}
	tn_free(sql);
	tn_free(rel);
	return rc;
}

/* One model or seed, one snapshot. */
static int build_node(struct session *ss, const struct sched *s, size_t i, int64_t *rows, int64_t *snap,
		      struct tn_err *err)
{
	const struct tf_project *p = s->p;
	const struct tf_node *n = &p->n[i];
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char *msg = tn_xprintf("tarn %s %s %s %s", s->o->command, s->res->run_id,
			       n->kind == TF_SEED ? "seed" : "model", n->name), *drop = NULL;
	int rc;

	*rows = -1;
	*snap = -1;
	rc = drop_other_kind(ss, p, i, &drop, err);
	tn_buf_adds(&q, "CREATE SCHEMA IF NOT EXISTS ");
	tn_buf_add_sqlid(&q, n->schema);
	session_set_commit_info(ss, "tarn", msg, NULL);
	if (!rc)
		rc = exec_sql(ss, "BEGIN", NULL, err);
	if (!rc)
		rc = exec_sql(ss, q.buf, NULL, err);
	tn_buf_reset(&q);
	if (!rc)
		rc = build_sql(ss, p, i, s->o->full_refresh, &q, err);
	if (!rc && drop)
		rc = exec_sql(ss, drop, NULL, err);
	if (!rc && q.len)
		rc = exec_sql(ss, q.buf, rows, err);
	else if (!rc)
		*rows = 0;   /* an incremental model with nothing new */
	if (!rc && n->mat != TF_VIEW && q.len && !strncmp(q.buf, "CREATE", 6) && *rows < 0) {
		/* CREATE ... AS that reports no count: ask the table */
		char *rel = tf_relation(p, i);
		tn_buf_reset(&q);
		tn_buf_addf(&q, "SELECT count(*) FROM %s", rel);
		rc = exec_sql(ss, q.buf, rows, err);
		tn_free(rel);
	}
	if (!rc)
		rc = comments(ss, p, i, err);
	if (!rc)
		rc = exec_sql(ss, "COMMIT", NULL, err);
	if (rc) {
		struct tn_err ignore = TN_ERR_INIT;
		session_exec(ss, "ROLLBACK", NULL, &ignore);
	} else {
		*snap = session_last_commit(ss);
		if (n->mat == TF_VIEW)
			*rows = -1;
	}
	tn_free(drop);
	tn_free(msg);
	tn_buf_release(&q);
	return rc;
}

/* ---- tests ---- */

/* dbt's error_if / warn_if: the failing-row count compared with a number. */
struct tcond {
	char op[3];   /* >, >=, <, <=, =, != */
	int64_t v;
};

struct test {
	char *name;
	char *sql;   /* returns the failing rows */
	int warn;    /* severity: warn; failing rows make a warning, not a failure */
	struct tcond error_if, warn_if;
};

static const struct tcond cond_default = { "!=", 0 };

/* ">10", ">= 5", "!=0", "==0", "<>0": 0, or -1 when it is not one. */
static int cond_parse(const char *s, struct tcond *c)
{
	static const char *const ops[] = { ">=", "<=", "!=", "<>", "==", ">", "<", "=" };
	char *end;
	size_t i, l;

	while (*s == ' ')
		s++;
	for (i = 0; i < TN_ARRAY_LEN(ops); i++) {
		l = strlen(ops[i]);
		if (strncmp(s, ops[i], l))
			continue;
		snprintf(c->op, sizeof(c->op), "%s", !strcmp(ops[i], "<>") ? "!=" : !strcmp(ops[i], "==") ? "=" : ops[i]);
		s += l;
		while (*s == ' ')
			s++;
		errno = 0;
		c->v = strtoll(s, &end, 10);
		while (*end == ' ')
			end++;
		return end == s || *end || errno ? -1 : 0;
	}
	return -1;
}

static int cond_holds(const struct tcond *c, int64_t n)
{
	if (!strcmp(c->op, ">"))
		return n > c->v;
	if (!strcmp(c->op, ">="))
		return n >= c->v;
	if (!strcmp(c->op, "<"))
		return n < c->v;
	if (!strcmp(c->op, "<="))
		return n <= c->v;
	if (!strcmp(c->op, "="))
		return n == c->v;
	return n != c->v;
}

/* severity, error_if and warn_if of a test, from its config; `what` names
 * the test in messages. */
static int test_config(const char *what, const char *sev, const char *err_if, const char *warn_if, struct test *t,
		       struct tn_err *err)
{
	t->error_if = cond_default;
	t->warn_if = cond_default;
	if (sev && strcasecmp(sev, "warn") && strcasecmp(sev, "error"))
		return tn_err_set(err, TN_EINVAL, "%s: severity is warn or error, not '%s'", what, sev);
	t->warn = sev && !strcasecmp(sev, "warn");
	if (err_if && cond_parse(err_if, &t->error_if))
		return tn_err_set(err, TN_EINVAL, "%s: error_if '%s' is not a comparison with a number, like '>10'",
				  what, err_if);
	if (warn_if && cond_parse(warn_if, &t->warn_if))
		return tn_err_set(err, TN_EINVAL, "%s: warn_if '%s' is not a comparison with a number, like '!=0'",
				  what, warn_if);
	return 0;
}

/* Two tests of one kind on one column (accepted_values twice) would share
 * a name, and their results could not be told apart: the later ones get
 * #2, #3, ... ('#' as no column name made with '_' can end that way) */
static void add_test(struct test **t, size_t *n, char *name, char *sql, const struct test *cfg)
{
	size_t k, same = 0, len = strlen(name);

	for (k = 0; k < *n; k++)
		if (!strncmp((*t)[k].name, name, len) &&
		    ((*t)[k].name[len] == '\0' || (*t)[k].name[len] == '#'))
			same++;
	if (same) {
		char *renamed = tn_xprintf("%s#%zu", name, same + 1);
		tn_free(name);
		name = renamed;
	}
	*t = tn_realloc(*t, (*n + 1) * sizeof(**t));
	(*t)[*n] = *cfg;
	(*t)[*n].name = name;
	(*t)[*n].sql = sql;
	(*n)++;
}

/* relationships: {to: "ref('m')" | "source('s','t')", field: f} */
static char *relation_of(const struct tf_project *p, const char *to, struct tn_err *err)
{
	char *sql = NULL, *text = tn_xprintf("{{ %s }}", to);

	if (tf_render_text(p, "relationships test", text, &sql, err))
		sql = NULL;
	tn_free(text);
	return sql;
}

/* What the columns' tests are declared on: a model, seed or source table. */
struct tested {
	const char *what;    /* "model items", "source raw.orders": messages */
	const char *label;   /* the name part of each test: "items", "raw_orders" */
	const char *prefix;  /* "" or "source_", as dbt names source tests */
	const char *rel;     /* the relation the tests read */
};

/* One entry of a column's tests: "kind", or {kind: {args..., config:
 * {severity, where}}}; dbt takes severity and where in config: or
 * directly among the arguments. */
struct tentry {
	const char *kind;
	json_t *args;
	struct test cfg;     /* severity, error_if, warn_if */
	const char *where;
};

static const char *test_setting(json_t *args, const char *key)
{
	const char *v = json_string_value(json_object_get(json_object_get(args, "config"), key));

	return v ? v : json_string_value(json_object_get(args, key));
}

static int parse_entry(json_t *tst, const struct tested *on, const char *col, struct tentry *e,
		       struct tn_err *err)
{
	memset(e, 0, sizeof(*e));
	if (json_is_string(tst))
		e->kind = json_string_value(tst);
	if (!e->kind && json_is_object(tst) && json_object_size(tst) == 1) {
		e->kind = json_object_iter_key(json_object_iter(tst));
		e->args = json_object_iter_value(json_object_iter(tst));
	}
	if (!e->kind)
		return tn_err_set(err, TN_EINVAL, "%s, column %s: a test is a name or {name: {arguments}}", on->what,
				  col);
	{
		char *what = tn_xprintf("%s, column %s: %s", on->what, col, e->kind);
		int rc = test_config(what, test_setting(e->args, "severity"), test_setting(e->args, "error_if"),
				     test_setting(e->args, "warn_if"), &e->cfg, err);
		tn_free(what);
		if (rc)
			return rc;
	}
	e->where = test_setting(e->args, "where");
	return 0;
}

static void accepted_values_sql(struct tn_buf *q, const char *id, const char *from, json_t *vals)
{
	json_t *v;
	size_t m;

	tn_buf_addf(q, "SELECT %s AS value, count(*) AS n FROM %s WHERE %s IS NOT NULL AND "
		    "CAST(%s AS VARCHAR) NOT IN (", id, from, id, id);
	json_array_foreach(vals, m, v) {
		char *s = json_is_string(v) ? tn_strdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY);
		tn_buf_adds(q, m ? ", " : "");
		tn_buf_add_sqlstr(q, s ? s : "");
		if (json_is_string(v))
			tn_free(s);
		else
			free(s);
	}
	tn_buf_addf(q, ") GROUP BY %s", id);
}

static int relationships_sql(const struct tf_project *p, const struct tested *on, const char *col,
			     const struct tentry *e, const char *id, const char *from, struct tn_buf *q,
			     struct tn_err *err)
{
	const char *to = json_string_value(json_object_get(e->args, "to"));
	const char *field = json_string_value(json_object_get(e->args, "field"));
	char *other;

	if (!to || !field)
		return tn_err_set(err, TN_EINVAL, "relationships on %s, column %s needs to: and field:", on->what, col);
	other = relation_of(p, to, err);
	if (!other)
		return TN_EINVAL;
	tn_buf_addf(q, "SELECT %s AS value FROM %s WHERE %s IS NOT NULL AND %s NOT IN (SELECT ", id, from, id, id);
	tn_buf_add_sqlid(q, field);
	tn_buf_addf(q, " FROM %s WHERE ", other);
	tn_buf_add_sqlid(q, field);
	tn_buf_adds(q, " IS NOT NULL)");
	tn_free(other);
	return 0;
}

/* The query returning the failing rows of test e on column col. A
 * `where:` reads the relation filtered by it, as dbt does. */
static int test_sql(const struct tf_project *p, const struct tested *on, const char *col, const struct tentry *e,
		    struct tn_buf *q, struct tn_err *err)
{
	struct tn_buf id = TN_BUF_INIT(TN_BUF_NOMAX);
	char *from = e->where ? tn_xprintf("(SELECT * FROM %s WHERE %s\n) AS __tarn_where", on->rel, e->where) :
		tn_strdup(on->rel);
	int rc = 0;

	tn_buf_add_sqlid(&id, col);
	if (!strcmp(e->kind, "unique")) {
		tn_buf_addf(q, "SELECT %s AS value, count(*) AS n FROM %s WHERE %s IS NOT NULL GROUP BY %s "
			    "HAVING count(*) > 1", id.buf, from, id.buf, id.buf);
	} else if (!strcmp(e->kind, "not_null")) {
		tn_buf_addf(q, "SELECT * FROM %s WHERE %s IS NULL", from, id.buf);
	} else if (!strcmp(e->kind, "accepted_values")) {
		json_t *vals = json_object_get(e->args, "values");
		if (!json_array_size(vals))
			rc = tn_err_set(err, TN_EINVAL, "accepted_values on %s, column %s has no values", on->what, col);
		accepted_values_sql(q, id.buf, from, vals);
	} else if (!strcmp(e->kind, "relationships")) {
		rc = relationships_sql(p, on, col, e, id.buf, from, q, err);
	} else {
		rc = tn_err_set(err, TN_EINVAL, "%s, column %s: unknown test '%s' (tarn knows unique, not_null, "
				"accepted_values and relationships)", on->what, col, e->kind);
	}
	tn_free(from);
	tn_buf_release(&id);
	return rc;
}

/* The generic tests of `columns` ([{name, tests|data_tests}]). which: 1 =
 * tests of the relation alone, 2 = those that read another one too
 * (relationships), 3 = all. */
static int column_tests(const struct tf_project *p, const struct tested *on, json_t *columns, int which,
			struct test **t, size_t *nt, struct tn_err *err)
{
	size_t k, j;
	json_t *c, *tst;
	int rc = 0;

	json_array_foreach(columns, k, c) {
		const char *col = json_string_value(json_object_get(c, "name"));
		json_t *tests = json_object_get(c, "tests");
		if (!tests)
			tests = json_object_get(c, "data_tests");
		if (!col)
			continue;
		json_array_foreach(tests, j, tst) {
			struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
			struct tentry e;
			if (rc)
				break;
			rc = parse_entry(tst, on, col, &e, err);
			if (!rc && !(which & (strcmp(e.kind, "relationships") ? 1 : 2)))
				continue;
			if (!rc)
				rc = test_sql(p, on, col, &e, &q, err);
			if (!rc)
				add_test(t, nt, tn_xprintf("%s%s_%s_%s", on->prefix, e.kind, on->label, col),
					 tn_buf_detach(&q, NULL), &e.cfg);
			tn_buf_release(&q);
		}
	}
	return rc;
}

/* The generic tests of node i's columns. */
static int node_tests(const struct tf_project *p, size_t i, int which, struct test **t, size_t *nt,
		      struct tn_err *err)
{
	char *rel = tf_relation(p, i), *what = tn_xprintf("model %s", p->n[i].name);
	struct tested on = { what, p->n[i].name, "", rel };
	int rc = column_tests(p, &on, p->n[i].columns, which, t, nt, err);

	tn_free(what);
	tn_free(rel);
	return rc;
}

/* "col=value, col=value" for up to SAMPLE_ROWS rows. */
static char *sample(struct duck_result *r)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	uint64_t row, nr = duck_result_nrows(r);
	size_t c;

	for (row = 0; row < nr && row < SAMPLE_ROWS; row++) {
		tn_buf_adds(&b, row ? "; " : "");
		for (c = 0; c < duck_result_ncols(r); c++) {
			char *v = duck_result_is_null(r, c, row) ? NULL : duck_result_text(r, c, row);
			tn_buf_addf(&b, "%s%s=%s", c ? ", " : "", duck_result_name(r, c), v ? v : "NULL");
			tn_free(v);
		}
	}
	return tn_buf_detach(&b, NULL);
}

/* Run one test: pass when the query returns no row. Returns 1 when it
 * failed or could not run, so a caller judges its own tests and not the
 * shared failure count, which other workers move at the same time. */
/* Record test t's outcome: n failing rows counted (or the error), with a
 * sample of them when it did not pass. 1 when it failed or errored. */
static int judge(struct sched *s, struct session *ss, const struct test *t, int rc, int64_t n,
		 struct tn_err *err, double secs)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err e = TN_ERR_INIT;
	struct duck_result *r = NULL;
	char *smp = NULL;
	int failed, warned;
	double t0 = tn_mono();

	if (!rc && n > 0) {
		tn_buf_addf(&q, "SELECT * FROM (%s\n) AS __tarn_test LIMIT %d", t->sql, SAMPLE_ROWS);
		if (!session_exec(ss, q.buf, &r, &e))
			smp = sample(r);
		duck_result_free(r);
	}
	pthread_mutex_lock(&s->mu);
	/* dbt: fail when error_if holds (severity error), else warn when warn_if does */
	failed = !rc && !t->warn && cond_holds(&t->error_if, n);
	warned = !rc && !failed && cond_holds(&t->warn_if, n);
	add_result(s, t->name, "test", rc ? "error" : failed ? "fail" : warned ? "warn" : "pass", rc ? -1 : n,
		   secs + (tn_mono() - t0), -1, rc ? err->msg : smp);
	pthread_mutex_unlock(&s->mu);
	tn_free(smp);
	tn_buf_release(&q);
	return rc || failed;
}

/* Run one test: pass when the query returns no row. Returns 1 when it
 * failed or could not run, so a caller judges its own tests and not the
 * shared failure count, which other workers move at the same time. */
static int run_test(struct sched *s, struct session *ss, const struct test *t)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err err = TN_ERR_INIT;
	double t0 = tn_mono();
	int64_t n = 0;
	int rc;

	tn_buf_addf(&q, "SELECT count(*) FROM (%s\n) AS __tarn_test", t->sql);
	rc = query_int(ss, q.buf, &n, &err);
	tn_buf_release(&q);
	return judge(s, ss, t, rc, n, &err, tn_mono() - t0);
}

/* The tests of one node counted in one query (one plan, one pass through
 * the session for all of them); each is then judged on its own count,
 * with an equal share of the time. When the query fails, each test runs
 * alone, so the error lands on the test at fault. */
static int run_tests(struct sched *s, struct session *ss, const struct test *t, size_t nt)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err err = TN_ERR_INIT;
	struct duck_result *r = NULL;
	double t0 = tn_mono(), each;
	size_t k;
	int bad = 0, batched = 0;

	if (nt >= 2) {
		tn_buf_adds(&q, "SELECT ");
		for (k = 0; k < nt; k++)
			tn_buf_addf(&q, "%s(SELECT count(*) FROM (%s\n) AS __tarn_test)", k ? ", " : "", t[k].sql);
		batched = !session_exec(ss, q.buf, &r, &err) && duck_result_nrows(r) == 1 &&
			  duck_result_ncols(r) == nt;
	}
	each = (tn_mono() - t0) / (double)(nt ? nt : 1);   /* an equal share of the batch */
	for (k = 0; k < nt; k++)
		bad |= batched ? judge(s, ss, &t[k], 0, duck_result_int(r, k, 0), &err, each) : run_test(s, ss, &t[k]);
	duck_result_free(r);
	tn_buf_release(&q);
	return bad;
}

static void free_tests(struct test *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		tn_free(t[i].name);
		tn_free(t[i].sql);
	}
	tn_free(t);
}

/* The generic tests of node i (`which` as in node_tests); 1 when one failed. */
static int test_node(struct sched *s, struct session *ss, size_t i, int which)
{
	struct test *t = NULL;
	struct tn_err err = TN_ERR_INIT;
	size_t nt = 0;
	int bad = 0;

	if (node_tests(s->p, i, which, &t, &nt, &err)) {
		pthread_mutex_lock(&s->mu);
		add_result(s, s->p->n[i].name, "test", "error", -1, 0, -1, err.msg);
		pthread_mutex_unlock(&s->mu);
		free_tests(t, nt);
		return 1;
	}
	bad = run_tests(s, ss, t, nt);
	free_tests(t, nt);
	return bad;
}

/* Whether a singular test runs under --select: when it refs a selected
 * node or reads a selected source (dbt's eager indirect selection). */
static int singular_selected(const struct tf_project *p, const char *select, const char *picked, const char *file,
			     const char *text)
{
	char *mark = tn_calloc(p->nn + 1, 1), **src = NULL;
	size_t nsrc = 0, k;
	struct tn_err ignore = TN_ERR_INIT;
	int yes = 0;

	if (!select) {
		tn_free(mark);
		return 1;
	}
	/* an unreadable test is run anyway, so that its error is reported */
	if (tf_text_deps(p, file, text, mark, &src, &nsrc, &ignore))
		yes = 1;
	for (k = 0; k < p->nn; k++)
		yes |= mark[k] && picked[k];
	for (k = 0; k < nsrc; k++) {
		char *dot = strchr(src[k], '.');
		if (dot) {
			*dot = '\0';
			yes |= tf_source_selected(select, src[k], dot + 1);
		}
		tn_free(src[k]);
	}
	tn_free(src);
	tn_free(mark);
	return yes;
}

/* Singular test `file` (relative to the project): its name (the file's,
 * without .sql) and text; *selected = whether `select` picks it. */
static int singular_read(const struct tf_project *p, const char *select, const char *picked, const char *file,
			 char **name, char **text, int *selected, struct tn_err *err)
{
	char *path = tn_xprintf("%s/%s", p->root, file);
	const char *base = strrchr(file, '/');
	size_t len;
	int rc = tn_fs_read_all(path, text, &len, err);

	*name = tn_strdup(base ? base + 1 : file);
	if (strrchr(*name, '.'))
		*strrchr(*name, '.') = '\0';
	*selected = rc || singular_selected(p, select, picked, file, *text);
	tn_free(path);
	return rc;
}

static void singular_test(struct sched *s, struct session *ss, const char *file)
{
	char *text = NULL, *sql = NULL, *name = NULL;
	struct tn_err err = TN_ERR_INIT;
	struct test t;
	json_t *cfg = json_object();
	int selected;

	memset(&t, 0, sizeof(t));
	t.error_if = t.warn_if = cond_default;
	if (!singular_read(s->p, s->o->select, s->picked, file, &name, &text, &selected, &err) && !selected)
		goto out;
	/* config(severity=..., error_if=..., warn_if=...) as in dbt */
	if (!err.code && !tf_text_config(s->p, file, text, cfg, &err))
		test_config(file, json_string_value(json_object_get(cfg, "severity")),
			    json_string_value(json_object_get(cfg, "error_if")),
			    json_string_value(json_object_get(cfg, "warn_if")), &t, &err);
	if (err.code || tf_render_text(s->p, file, text, &sql, &err)) {
		pthread_mutex_lock(&s->mu);
		add_result(s, name, "test", "error", -1, 0, -1, err.msg);
		pthread_mutex_unlock(&s->mu);
	} else {
		t.name = name;
		t.sql = sql;
		run_test(s, ss, &t);
	}
out:
	json_decref(cfg);
	tn_free(name);
	tn_free(sql);
	tn_free(text);
}


/* A failing test of a source a build reads: the picked models that read
 * it are skipped (and, through next_ready, their descendants). */
static void skip_readers(struct sched *s, const char *key)
{
	const struct tf_project *p = s->p;
	char *msg = tn_xprintf("a test of source %s failed", key);

	for (size_t i = 0; i < p->nn; i++)
		for (size_t k = 0; k < p->n[i].nsources; k++)
			if (s->picked[i] && s->st[i] == ST_WAIT && !strcmp(p->n[i].sources[k], key)) {
				s->st[i] = ST_BAD;
				s->left--;
				add_result(s, p->n[i].name, tf_kind_name(p->n[i].kind), "skipped", -1, 0,
					   -1, msg);
			}
	tn_free(msg);
}

/* The tests of one source table; 1 when one failed. */
static int test_source_table(struct sched *s, struct session *ss, const char *src, const char *table,
			     json_t *entry)
{
	char *rel = tf_source_relation(s->p, src, table), *what = tn_xprintf("source %s.%s", src, table);
	char *label = tn_xprintf("%s_%s", src, table);
	struct tested on = { what, label, "source_", rel };
	struct test *t = NULL;
	struct tn_err err = TN_ERR_INIT;
	size_t nt = 0, k;
	int bad = 0;

	if (column_tests(s->p, &on, json_object_get(entry, "columns"), 3, &t, &nt, &err)) {
		pthread_mutex_lock(&s->mu);
		add_result(s, what, "test", "error", -1, 0, -1, err.msg);
		pthread_mutex_unlock(&s->mu);
		bad = 1;
	}
	for (k = 0; !bad && k < nt; k++)
		bad |= run_test(s, ss, &t[k]);
	free_tests(t, nt);
	tn_free(label);
	tn_free(what);
	tn_free(rel);
	return bad;
}

/* Source tests run first, before any model reads the source: all of
 * them without --select, else those a source: term picks. */
static int source_tests(struct sched *s)
{
	const char *src, *table;
	json_t *sv, *tv;
	struct session *ss = s->o->session;
	int rc = ss ? 0 : session_open(&ss, s->lk, &s->fatal);

	if (rc) {
		s->have_fatal = 1;
		return rc;
	}
	json_object_foreach(s->p->sources, src, sv)
		json_object_foreach(json_object_get(sv, "tables"), table, tv) {
			char *key;
			if (!json_array_size(json_object_get(tv, "columns")) ||
			    !tf_source_selected(s->o->select, src, table) ||
			    test_source_table(s, ss, src, table, tv) == 0 || !(s->o->steps & TF_STEP_MODEL))
				continue;
			key = tn_xprintf("%s.%s", src, table);
			skip_readers(s, key);
			tn_free(key);
		}
	if (ss != s->o->session)
		session_close(ss);
	return 0;
}

/* ---- the scheduler ---- */

/* ---- the previous run: target/run_results.json, as dbt writes it ---- */

static char *results_path(const struct tf_project *p)
{
	return tn_xprintf("%s/target/run_results.json", p->root);
}

/* Seconds each node took in the last run that built it (-1: unknown). */
static void last_times(const struct tf_project *p, double *t)
{
	char *path = results_path(p);
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je), *r;
	size_t i, k;

	for (i = 0; i < p->nn; i++)
		t[i] = -1;
	json_array_foreach(json_object_get(doc, "results"), k, r) {
		const char *id = json_string_value(json_object_get(r, "unique_id"));
		const char *dot = id ? strrchr(id, '.') : NULL;
		json_t *sec = json_object_get(r, "execution_time");
		if (!dot || !json_is_number(sec))
			continue;
		i = tf_find(p, dot + 1);
		if (i != (size_t)-1 && !strncmp(id, tf_kind_name(p->n[i].kind), strlen(tf_kind_name(p->n[i].kind))))
			t[i] = json_number_value(sec);
	}
	json_decref(doc);
	tn_free(path);
}

/* Longest path, by the last run's times, from each node to the end of the
 * graph (a node never timed counts as the mean of those that were): the
 * scheduler starts the node with the longest one first, so the slow chain
 * is not left for last. */
static void priorities(struct sched *s)
{
	const struct tf_project *p = s->p;
	double *t = tn_calloc(p->nn + 1, sizeof(double)), sum = 0, mean;
	size_t i, k, d, known = 0;

	last_times(p, t);
	for (i = 0; i < p->nn; i++)
		if (t[i] >= 0) {
			sum += t[i];
			known++;
		}
	mean = known ? sum / (double)known : 0;
	for (i = 0; i < p->nn; i++) {
		if (t[i] < 0)
			t[i] = mean;
		s->prio[i] = t[i];
	}
	/* p->order puts dependencies first: walked backwards, every reader of
	 * a node is final before the node itself */
	for (k = p->nn; k-- > 0;) {
		size_t j = p->order[k];
		for (d = 0; d < p->n[j].ndeps; d++) {
			size_t dep = p->n[j].deps[d];
			if (t[dep] + s->prio[j] > s->prio[dep])
				s->prio[dep] = t[dep] + s->prio[j];
		}
	}
	tn_free(t);
}

/* dbt's artifact (a subset of its fields), for tools and for the next
 * run's schedule; written next to the project, never fatal. */
static void write_results(const struct tf_project *p, const struct tf_results *res, double elapsed)
{
	json_t *doc = json_object(), *list = json_array(), *meta = json_object();
	char *path = results_path(p), *dir = tn_xprintf("%s/target", p->root), *tmp, now[32];
	struct tn_err e = TN_ERR_INIT;
	time_t secs = time(NULL);
	struct tm tm;
	size_t i;

	gmtime_r(&secs, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(meta, "dbt_schema_version", json_string("https://schemas.getdbt.com/dbt/run-results/v5.json"));
	json_object_set_new(meta, "generated_at", json_string(now));
	json_object_set_new(meta, "invocation_id", json_string(res->run_id));
	json_object_set_new(meta, "generator", json_string("tarn"));
	json_object_set_new(doc, "metadata", meta);
	for (i = 0; i < res->n; i++) {
		const struct tf_result *r = &res->r[i];
		json_t *o = json_object(), *ar = json_object();
		char *id = tn_xprintf("%s.%s.%s", r->kind, p->name, r->node);
		json_object_set_new(o, "unique_id", json_string(id));
		json_object_set_new(o, "status", json_string(r->status));
		json_object_set_new(o, "execution_time", json_real(r->seconds));
		json_object_set_new(o, "message", r->message ? json_string(r->message) : json_null());
		json_object_set_new(o, "failures", !strcmp(r->kind, "test") && r->rows >= 0 ? json_integer(r->rows) :
				    json_null());
		if (strcmp(r->kind, "test") && r->rows >= 0)
			json_object_set_new(ar, "rows_affected", json_integer(r->rows));
		if (r->snapshot >= 0)
			json_object_set_new(ar, "snapshot_id", json_integer(r->snapshot));
		json_object_set_new(o, "adapter_response", ar);
		json_array_append_new(list, o);
		tn_free(id);
	}
	json_object_set_new(doc, "results", list);
	json_object_set_new(doc, "elapsed_time", json_real(elapsed));
	tmp = tn_xprintf("%s.tmp", path);
	if (!tn_fs_mkdirs(dir, &e) && !json_dump_file(doc, tmp, JSON_INDENT(2)))
		rename(tmp, path);
	else
		remove(tmp);
	json_decref(doc);
	tn_free(tmp);
	tn_free(dir);
	tn_free(path);
}

/* Whether node i may start while the tests of what it reads still run: a
 * table model, built from scratch by one CREATE TABLE AS whose data file
 * is written before the commit, which the gate holds back. */
static int early_ok(const struct sched *s, size_t i)
{
	const struct tf_node *n = &s->p->n[i];

	return (s->o->steps & TF_STEP_MODEL) && (s->o->steps & TF_STEP_TEST) && n->kind == TF_MODEL &&
	       n->mat == TF_TABLE;
}

struct gate {
	struct sched *s;
	size_t i;
	int held;        /* an upstream test failed: the node was held back */
};

/* session_gate_fn: before node i's commit, wait until every node it reads
 * has passed its tests; fail when one did not. */
static int gate_wait(void *arg, struct tn_err *err)
{
	struct gate *g = arg;
	struct sched *s = g->s;
	const struct tf_node *n = &s->p->n[g->i];
	size_t d;
	int waiting, bad;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		waiting = bad = 0;
		for (d = 0; d < n->ndeps; d++) {
			size_t j = n->deps[d];
			if (!s->picked[j])
				continue;
			bad |= s->st[j] == ST_BAD;
			waiting |= s->st[j] == ST_BUILT;
		}
		if (bad || !waiting)
			break;
		pthread_cond_wait(&s->cv, &s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	if (!bad)
		return 0;
	g->held = 1;
	return tn_err_set(err, TN_EINVAL, "an upstream node failed");
}

/* Caller holds the lock: a picked node whose picked dependencies are all
 * done, the one with the longest path ahead of it (priorities); nodes
 * under a failure are marked skipped on the way. */
static size_t next_ready(struct sched *s)
{
	const struct tf_project *p = s->p;
	size_t k, d, best = (size_t)-1;

	for (k = 0; k < p->nn; k++) {
		size_t i = p->order[k];
		int ready = 1, bad = 0;
		if (!s->picked[i] || s->st[i] != ST_WAIT)
			continue;
		for (d = 0; d < p->n[i].ndeps; d++) {
			size_t j = p->n[i].deps[d];
			if (!s->picked[j])
				continue;
			if (s->st[j] == ST_BAD)
				bad = 1;
			else if (s->st[j] != ST_OK && !(s->st[j] == ST_BUILT && early_ok(s, i)))
				ready = 0;
		}
		if (bad) {
			s->st[i] = ST_BAD;
			s->left--;
			add_result(s, p->n[i].name, tf_kind_name(p->n[i].kind), "skipped", -1, 0, -1,
				   "an upstream node failed");
			pthread_cond_broadcast(&s->cv);
			return next_ready(s);
		}
		if (ready && (best == (size_t)-1 || s->prio[i] > s->prio[best]))
			best = i;
	}
	return best;
}

static void work_on(struct sched *s, struct session *ss, size_t i)
{
	const struct tf_node *n = &s->p->n[i];
	struct tn_err err = TN_ERR_INIT;
	double t0 = tn_mono();
	int64_t rows = -1, snap = -1;
	unsigned step = n->kind == TF_SEED ? TF_STEP_SEED : n->kind == TF_SNAPSHOT ? TF_STEP_SNAPSHOT : TF_STEP_MODEL;
	int rc = 0, want = (s->o->steps & step) != 0;
	struct gate g = { s, i, 0 };
	int bad;

	if (want && n->kind == TF_SNAPSHOT) {
		rc = tf_snapshot_node(ss, s->p, i, s->res->run_id, &rows, &err);
		if (!rc)
			snap = session_last_commit(ss);
	} else if (want && !(n->kind == TF_MODEL && n->mat == TF_EPHEMERAL)) {
		/* started early? its commit waits for the tests upstream */
		if (early_ok(s, i))
			session_set_gate(ss, gate_wait, &g);
		rc = build_node(ss, s, i, &rows, &snap, &err);
		session_set_gate(ss, NULL, NULL);
	}
	pthread_mutex_lock(&s->mu);
	if (want && g.held)
		add_result(s, n->name, tf_kind_name(n->kind), "skipped", -1, 0, -1, "an upstream node failed");
	else if (want)
		add_result(s, n->name, tf_kind_name(n->kind), rc ? "error" : "success", rows,
			   tn_mono() - t0, snap, rc ? err.msg : n->mat == TF_EPHEMERAL && n->kind == TF_MODEL ?
			   "ephemeral: inlined into its dependents" : NULL);
	/* built: readers may start while its tests run (gate_wait) */
	if (!rc && want && (s->o->steps & TF_STEP_TEST)) {
		s->st[i] = ST_BUILT;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	bad = rc != 0;
	/* A failing test stops what a build would make from the model; `tarn
	 * test` builds nothing, so it runs every test of every model. */
	if (!rc && (s->o->steps & TF_STEP_TEST) && !(n->kind == TF_MODEL && n->mat == TF_EPHEMERAL))
		bad = test_node(s, ss, i, (s->o->steps & TF_STEP_MODEL) ? 1 : 3) &&
		      (s->o->steps & TF_STEP_MODEL);
	pthread_mutex_lock(&s->mu);
	s->st[i] = bad ? ST_BAD : ST_OK;
	s->left--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Tests that read other nodes run once every node is built, spread over
 * the workers: job j < nn is node j's relationships tests, then one job
 * per singular test file. */
static void late_job(struct sched *s, struct session *ss, size_t j)
{
	const struct tf_project *p = s->p;

	if (j < p->nn) {
		if ((s->o->steps & TF_STEP_MODEL) && s->picked[j] && s->st[j] == ST_OK)
			test_node(s, ss, j, 2);
	} else {
		singular_test(s, ss, p->tests[j - p->nn]);
	}
}

struct worker_arg {
	struct sched *s;
	int first;           /* the first worker uses the caller's session, if any */
};

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct sched *s = wa->s;
	struct lake *lk = NULL;
	struct session *ss = wa->first ? s->o->session : NULL;
	struct tn_err err = TN_ERR_INIT;

	if (!ss && (lake_open_warm(&lk, lake_dir(s->lk), &err) || session_open(&ss, lk, &err))) {
		pthread_mutex_lock(&s->mu);
		if (!s->have_fatal) {
			s->fatal = err;
			s->have_fatal = 1;
		}
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		session_close(ss);
		lake_close(lk);
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	for (;;) {
		size_t i;
		if (s->have_fatal || s->left == 0)
			break;
		i = next_ready(s);
		if (i == (size_t)-1) {
			if (s->left == 0)
				break;
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		s->st[i] = ST_RUNNING;
		pthread_mutex_unlock(&s->mu);
		work_on(s, ss, i);
		pthread_mutex_lock(&s->mu);
	}
	while ((s->o->steps & TF_STEP_TEST) && !s->have_fatal && s->left == 0 &&
	       s->late_next < s->p->nn + s->p->ntests) {
		size_t j = s->late_next++;
		pthread_mutex_unlock(&s->mu);
		late_job(s, ss, j);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	if (ss != s->o->session)
		session_close(ss);
	lake_close(lk);
	return NULL;
}

/* ---- history ---- */

/* UTC with milliseconds: runs a second apart or less still sort by
 * started_at. */
static void iso_now(char out[32])
{
	struct timespec ts;
	struct tm tm;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	len = strftime(out, 24, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out + len, 8, ".%03d", (int)(ts.tv_nsec / 1000000L % 1000));
}

static int record(struct lake *lk, const struct tf_project *p, const struct tf_run_opts *o,
		  const struct tf_results *res, const char *started, struct tn_err *err)
{
	struct session *ss = NULL;
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char ended[32], *msg = tn_xprintf("tarn %s %s history", o->command, res->run_id);
	size_t i;
	int rc = o->session ? 0 : session_open(&ss, lk, err);

	if (o->session)
		ss = o->session;
	iso_now(ended);
	if (rc) {
		tn_free(msg);
		return rc;
	}
	tn_buf_adds(&q, "INSERT INTO tarn_meta.runs VALUES (");
	tn_buf_add_sqlstr(&q, res->run_id);
	tn_buf_adds(&q, ", ");
	tn_buf_add_sqlstr(&q, p->name);
	tn_buf_adds(&q, ", ");
	tn_buf_add_sqlstr(&q, o->command);
	tn_buf_addf(&q, ", TIMESTAMP '%s', TIMESTAMP '%s', '%s', %zu, %d)", started, ended,
		    res->failed ? "error" : "success", res->n, res->failed);
	session_set_commit_info(ss, "tarn", msg, NULL);
	rc = session_exec(ss, "BEGIN", NULL, err);
	if (!rc)
		rc = session_exec(ss, "CREATE SCHEMA IF NOT EXISTS tarn_meta", NULL, err);
	if (!rc)
		rc = session_exec(ss, "CREATE TABLE IF NOT EXISTS tarn_meta.runs (run_id VARCHAR, project VARCHAR, "
				  "command VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP, status VARCHAR, "
				  "nodes INTEGER, failed INTEGER)", NULL, err);
	if (!rc)
		rc = session_exec(ss, "CREATE TABLE IF NOT EXISTS tarn_meta.run_models (run_id VARCHAR, node VARCHAR, "
				  "kind VARCHAR, status VARCHAR, \"rows\" BIGINT, seconds DOUBLE, snapshot_id BIGINT, "
				  "message VARCHAR)", NULL, err);
	if (!rc)
		rc = session_exec(ss, q.buf, NULL, err);
	if (!rc && res->n) {
		tn_buf_reset(&q);
		tn_buf_adds(&q, "INSERT INTO tarn_meta.run_models VALUES ");
		for (i = 0; i < res->n; i++) {
			const struct tf_result *r = &res->r[i];
			tn_buf_adds(&q, i ? ", (" : "(");
			tn_buf_add_sqlstr(&q, res->run_id);
			tn_buf_adds(&q, ", ");
			tn_buf_add_sqlstr(&q, r->node);
			tn_buf_adds(&q, ", ");
			tn_buf_add_sqlstr(&q, r->kind);
			tn_buf_adds(&q, ", ");
			tn_buf_add_sqlstr(&q, r->status);
			if (r->rows >= 0)
				tn_buf_addf(&q, ", %" PRId64, r->rows);
			else
				tn_buf_adds(&q, ", NULL");
			tn_buf_addf(&q, ", %.3f, ", r->seconds);
			if (r->snapshot >= 0)
				tn_buf_addf(&q, "%" PRId64 ", ", r->snapshot);
			else
				tn_buf_adds(&q, "NULL, ");
			if (r->message)
				tn_buf_add_sqlstr(&q, r->message);
			else
				tn_buf_adds(&q, "NULL");
			tn_buf_adds(&q, ")");
		}
		rc = session_exec(ss, q.buf, NULL, err);
	}
	if (!rc)
		rc = session_exec(ss, "COMMIT", NULL, err);
	if (rc) {
		struct tn_err ignore = TN_ERR_INIT;
		session_exec(ss, "ROLLBACK", NULL, &ignore);
		tn_err_prefix(err, "recording the run in tarn_meta");
	}
	if (ss != o->session)
		session_close(ss);
	tn_buf_release(&q);
	tn_free(msg);
	return rc;
}

int tf_run(struct lake *lk, const struct tf_project *p, const struct tf_run_opts *o, struct tf_results *res,
	   struct tn_err *err)
{
	struct sched s;
	struct worker_arg *wa;
	pthread_t *th;
	char uuid[37], started[32];
	int nth = o->threads < 1 ? 1 : o->threads > 64 ? 64 : o->threads, i, rc = 0;
	double t0 = tn_mono();
	size_t k;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	tn_uuid7(uuid);
	res->run_id = tn_strndup(uuid, 13);
	iso_now(started);
	s.lk = lk;
	s.p = p;
	s.o = o;
	s.res = res;
	s.picked = tn_calloc(p->nn + 1, 1);
	s.st = tn_calloc(p->nn + 1, sizeof(*s.st));
	s.prio = tn_calloc(p->nn + 1, sizeof(double));
	rc = tf_select(p, o->select, s.picked, err);
	if (rc)
		goto out;
	priorities(&s);
	for (k = 0; k < p->nn; k++) {
		/* a run of models only leaves seeds alone unless they are named */
		if (s.picked[k] && p->n[k].kind == TF_SEED && !(o->steps & TF_STEP_SEED))
			s.picked[k] = 0;
		if (s.picked[k] && p->n[k].kind == TF_MODEL && !(o->steps & (TF_STEP_MODEL | TF_STEP_TEST)))
			s.picked[k] = 0;
		/* snapshots run in build (and `tarn snapshot`), not in run */
		if (s.picked[k] && p->n[k].kind == TF_SNAPSHOT && !(o->steps & TF_STEP_SNAPSHOT))
			s.picked[k] = 0;
		s.left += s.picked[k] != 0;
	}
	/* no more workers (each a lake connection and a DuckDB) than nodes */
	if ((size_t)nth > s.left)
		nth = s.left ? (int)s.left : 1;
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	if ((o->steps & TF_STEP_TEST) && source_tests(&s))
		goto joined;
	th = tn_calloc((size_t)nth, sizeof(*th));
	wa = tn_calloc((size_t)nth, sizeof(*wa));
	for (i = 0; i < nth; i++) {
		wa[i].s = &s;
		wa[i].first = i == 0;
		pthread_create(&th[i], NULL, worker, &wa[i]);
	}
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	tn_free(th);
	tn_free(wa);
joined:
	if (s.have_fatal) {
		rc = tn_err_set(err, s.fatal.code, "%s", s.fatal.msg);
	} else if ((o->steps & TF_STEP_TEST) && s.late_next < p->nn + p->ntests) {
		/* late tests the workers did not get to (no worker started) */
		struct session *ss = o->session;
		rc = ss ? 0 : session_open(&ss, lk, err);
		while (!rc && s.late_next < p->nn + p->ntests)
			late_job(&s, ss, s.late_next++);
		if (ss != o->session)
			session_close(ss);
	}
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv);
	if (!rc && o->record)
		rc = record(lk, p, o, res, started, err);
	if (!rc && o->record)
		write_results(p, res, tn_mono() - t0);
out:
	tn_free(s.picked);
	tn_free(s.st);
	tn_free(s.prio);
	return rc;
}

char *tf_dataset_selection(const struct tf_project *p, const char *dataset)
{
	struct tn_buf sel = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i, k;

	for (i = 0; i < p->nn; i++) {
		int hit = 0;
		for (k = 0; !hit && k < p->n[i].nsources; k++) {
			char *src = tn_strdup(p->n[i].sources[k]), *dot = strchr(src, '.');
			json_t *s, *t;
			const char *d;
			*dot = '\0';
			s = json_object_get(p->sources, src);
			t = json_object_get(json_object_get(s, "tables"), dot + 1);
			d = json_string_value(json_object_get(json_object_get(t, "meta"), "dataset"));
			if (!d)
				d = json_string_value(json_object_get(json_object_get(s, "meta"), "dataset"));
			hit = d && !strcmp(d, dataset);
			tn_free(src);
		}
		if (hit)
			tn_buf_addf(&sel, "%s%s+", sel.len ? " " : "", p->n[i].name);
	}
	if (!sel.len) {
		tn_buf_release(&sel);
		return NULL;
	}
	return tn_buf_detach(&sel, NULL);
}

int tf_tests_each(const struct tf_project *p, const char *select, tf_test_fn *fn, void *arg, struct tn_err *err)
{
	char *picked = tn_calloc(p->nn + 1, 1);
	size_t k, j;
	int rc = tf_select(p, select, picked, err);

	for (k = 0; !rc && k < p->nn; k++) {
		size_t i = p->order[k];
		struct test *t = NULL;
		size_t nt = 0;
		if (!picked[i] || (p->n[i].kind == TF_MODEL && p->n[i].mat == TF_EPHEMERAL))
			continue;
		rc = node_tests(p, i, 3, &t, &nt, err);
		for (j = 0; !rc && j < nt; j++)
			rc = fn(arg, t[j].name, t[j].sql);
		free_tests(t, nt);
	}
	for (k = 0; !rc && k < p->ntests; k++) {
		char *text = NULL, *sql = NULL, *name = NULL;
		int selected;
		rc = singular_read(p, select, picked, p->tests[k], &name, &text, &selected, err);
		if (!rc && selected)
			rc = tf_render_text(p, p->tests[k], text, &sql, err);
		if (!rc && selected)
			rc = fn(arg, name, sql);
		tn_free(sql);
		tn_free(text);
		tn_free(name);
	}
	tn_free(picked);
	return rc;
}
