/*
 * timetravel: AT (VERSION => n) and AT (TIMESTAMP => t) on any table
 * reference of a query. DuckDB gives the parse tree of a SELECT as JSON
 * (json_serialize_sql) and turns a tree back into SQL (json_deserialize_sql);
 * each BASE_TABLE with an at_clause is pointed at a view that reads the
 * files of that snapshot, and the clause is removed.
 */
#include "base/compat.h"
#include "lake/session_int.h"
#include "base/tn_mem.h"

#include <ctype.h>
#include <jansson.h>

/* Cheap test before paying for a parse: an AT keyword followed by '('. */
static int mentions_at(const char *sql)
{
	const char *p;

	for (p = sql; *p; p++) {
		if ((p[0] == 'a' || p[0] == 'A') && (p[1] == 't' || p[1] == 'T') &&
		    (p == sql || !(isalnum((unsigned char)p[-1]) || p[-1] == '_'))) {
			const char *q = p + 2;
			while (isspace((unsigned char)*q))
				q++;
			if (*q == '(')
				return 1;
		}
	}
	return 0;
}

/* DuckDB marks "no location" with UINT64_MAX, which jansson's int64 cannot
 * hold; a location only positions error messages, so 0 is a safe stand-in. */
static json_t *load_tree(char *text)
{
	static const char bad[] = "\"query_location\":18446744073709551615";
	char *p;

	while ((p = strstr(text, bad)) != NULL) {
		size_t n = strlen("\"query_location\":0");
		memcpy(p, "\"query_location\":0", n);
		memmove(p + n, p + sizeof(bad) - 1, strlen(p + sizeof(bad) - 1) + 1);
	}
	return json_loads(text, 0, NULL);
}

static int run_text(struct session *s, const char *fn, const char *arg, char **out, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	tn_buf_addf(&q, "SELECT %s(", fn);
	tn_buf_add_sqlstr(&q, arg);
	tn_buf_addc(&q, ')');
	rc = duck_query_text(s->duck, q.buf, out, err);
	tn_buf_release(&q);
	return rc;
}

/* Evaluate an expression node of the tree as "SELECT <expr>". */
static int eval_expr(struct session *s, json_t *expr, int timestamp, int64_t *out, struct tn_err *err)
{
	char *tmpl = NULL, *sql = NULL, *js;
	json_t *root;
	int rc = run_text(s, "json_serialize_sql", "SELECT 1", &tmpl, err);

	if (rc)
		return rc;
	root = load_tree(tmpl);
	tn_free(tmpl);
	if (!root)
		return tn_err_set(err, TN_EINTERNAL, "cannot read DuckDB's parse tree");
	json_array_set(json_object_get(json_object_get(json_array_get(json_object_get(root, "statements"), 0),
						       "node"), "select_list"), 0, expr);
	js = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	rc = run_text(s, "json_deserialize_sql", js, &sql, err);
	free(js); /* jansson's allocator */
	if (!rc) {
		char *q = timestamp ?
			tn_xprintf("SELECT epoch_us(CAST(x AS TIMESTAMPTZ)) FROM (%s) AS q(x)", sql) :
			tn_xprintf("SELECT CAST(x AS BIGINT) FROM (%s) AS q(x)", sql);
		rc = duck_query_int(s->duck, q, out, err);
		tn_free(q);
	}
	tn_free(sql);
	return rc;
}

static int snapshot_at(struct session *s, json_t *at, int64_t *n, struct tn_err *err)
{
	const char *unit = json_string_value(json_object_get(at, "unit"));
	int ts = unit && !strcasecmp(unit, "TIMESTAMP");
	int64_t v, cur;
	int found, rc;

	if (!unit || (!ts && strcasecmp(unit, "VERSION")))
		return tn_err_set(err, TN_EUNSUPPORTED, "AT (%s => ...) is not supported; use VERSION or TIMESTAMP",
				  unit ? unit : "?");
	rc = eval_expr(s, json_object_get(at, "expr"), ts, &v, err);
	if (!rc)
		rc = sess_read_snapshot(s, &cur, err);
	if (rc)
		return rc;
	if (!ts) {
		rc = meta_snapshot_exists(s->cat, v, &found, err);
		if (!rc && (!found || v > cur))
			rc = tn_err_set(err, TN_ENOTFOUND, "No snapshot found at version %lld", (long long)v);
		*n = v;
		return rc;
	}
	{
		char when[40];
		struct catalog_stmt *st;
		lake_format_time(v, when);
		rc = catalog_prepare(s->cat, "SELECT max(snapshot_id) FROM ducklake_snapshot WHERE snapshot_time <= ? "
					     "AND snapshot_id <= ?", &st, err);
		if (rc)
			return rc;
		catalog_bind_text(st, 1, when);
		catalog_bind_int(st, 2, cur);
		rc = catalog_step(st, err);
		found = rc == 1 && !catalog_col_is_null(st, 0);
		*n = found ? catalog_col_int(st, 0) : 0;
		catalog_finalize(st);
		if (rc >= 0 && !found)
			return tn_err_set(err, TN_ENOTFOUND, "No snapshot found at or before %s", when);
		return rc < 0 ? rc : 0;
	}
}

static int have_tt(struct session *s, const char *name)
{
	size_t i;
	for (i = 0; i < s->ntt; i++)
		if (!strcmp(s->ttviews[i], name))
			return 1;
	return 0;
}

/* A view of table `schema.name` as of snapshot n; its name in *view. */
static int tt_view(struct session *s, const char *schema, const char *name, int64_t n, char **view,
		   struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct lk_table *t = NULL;
	int rc = meta_table(s->lk, s->cat, schema, name, n, &t, err);

	*view = NULL;
	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);
		return tn_err_set(err, TN_ENOTFOUND, "Table with name %s does not exist at version %lld",
				  name, (long long)n);
	}
	if (rc)
		return rc;
	*view = tn_xprintf("t%lld_v%lld", (long long)t->id, (long long)n);
	if (!have_tt(s, *view)) {
		rc = meta_load_files(s->lk, s->cat, t, err);
		tn_buf_addf(&q, "CREATE OR REPLACE VIEW __tarn_tt.%s AS ", *view);
		if (!rc)
			rc = scan_sql(t, 0, &q, err);
		if (!rc)
			rc = duck_exec(s->duck, q.buf, err);
		if (!rc) {
			TN_GROW(s->ttviews, s->att, s->ntt + 1);
			s->ttviews[s->ntt++] = tn_strdup(*view);
		}
	}
	tn_buf_release(&q);
	meta_table_free(t);
	return rc;
}

static int rewrite_ref(struct session *s, json_t *ref, struct tn_err *err)
{
	json_t *at = json_object_get(ref, "at_clause");
	const char *schema = json_string_value(json_object_get(ref, "schema_name"));
	const char *name = json_string_value(json_object_get(ref, "table_name"));
	const char *alias = json_string_value(json_object_get(ref, "alias"));
	char *view = NULL;
	int64_t n = 0;
	int rc = snapshot_at(s, at, &n, err);

	if (!rc)
		rc = tt_view(s, schema && *schema ? schema : NULL, name ? name : "", n, &view, err);
	if (rc)
		return rc;
	if (!alias || !*alias)
		json_object_set_new(ref, "alias", json_string(name));
	json_object_set_new(ref, "schema_name", json_string("__tarn_tt"));
	json_object_set_new(ref, "catalog_name", json_string(""));
	json_object_set_new(ref, "table_name", json_string(view));
	json_object_set_new(ref, "at_clause", json_null());
	tn_free(view);
	return 0;
}

static int walk(struct session *s, json_t *v, int *changed, struct tn_err *err)
{
	const char *key;
	json_t *child;
	size_t i;
	int rc = 0;

	if (json_is_object(v)) {
		const char *type = json_string_value(json_object_get(v, "type"));
		json_t *at = json_object_get(v, "at_clause");
		if (type && !strcmp(type, "BASE_TABLE") && at && !json_is_null(at)) {
			*changed = 1;
			return rewrite_ref(s, v, err);
		}
		json_object_foreach(v, key, child) {
			rc = walk(s, child, changed, err);
			if (rc)
				return rc;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			rc = walk(s, child, changed, err);
			if (rc)
				return rc;
		}
	}
	return rc;
}

int tt_rewrite(struct session *s, const char *sql, char **out, struct tn_err *err)
{
	char *tree = NULL, *js;
	json_t *root;
	int changed = 0, rc;

	*out = NULL;
	if (!mentions_at(sql))
		return 0;
	rc = run_text(s, "json_serialize_sql", sql, &tree, err);
	if (rc)
		return rc;
	root = tree ? load_tree(tree) : NULL;
	tn_free(tree);
	if (!root)
		return 0;
	if (json_is_true(json_object_get(root, "error"))) {
		json_decref(root);
		return 0; /* not a SELECT, or DuckDB will say what is wrong */
	}
	rc = walk(s, root, &changed, err);
	if (!rc && changed) {
		js = json_dumps(root, JSON_COMPACT);
		rc = run_text(s, "json_deserialize_sql", js, out, err);
		free(js);
	}
	json_decref(root);
	return rc;
}
