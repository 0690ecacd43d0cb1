/*
 * rewrite.c: the "params" and "at" fields of POST /v1/query. A query's
 * parameters and snapshot are set on DuckDB's own parse tree (from
 * json_serialize_sql), never by pasting text into the SQL: each value
 * becomes a quoted literal that DuckDB parses on its own, and the tree
 * goes back to SQL through json_deserialize_sql. The session then runs
 * the AT clauses the way it runs any time-travel query.
 */
#include "base/compat.h"
#include "server/srv_int.h"
#include "engine/duck.h"
#include "base/tn_mem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* DuckDB writes "no location" as 2^64 - 1, past a jansson integer; a
 * location only positions error messages, so 0 stands in for it. */
static json_t *load_tree(char *text)
{
	static const char bad[] = "\"query_location\":18446744073709551615";
	char *p;

	while ((p = strstr(text, bad)) != NULL) {
		memcpy(p, "\"query_location\":0", 18);
		memmove(p + 18, p + sizeof(bad) - 1, strlen(p + sizeof(bad) - 1) + 1);
	}
	return json_loads(text, 0, NULL);
}

/* The parse tree of `sql` (a SELECT), or an error naming the problem. */
static int parse(struct duck *d, const char *sql, json_t **tree, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char *text = NULL;
	int rc;

	*tree = NULL;
	tn_buf_adds(&q, "SELECT json_serialize_sql(");
	tn_buf_add_sqlstr(&q, sql);
	tn_buf_adds(&q, ")");
	rc = duck_query_text(d, q.buf, &text, err);
	tn_buf_release(&q);
	if (rc)
		return rc;
	*tree = text ? load_tree(text) : NULL;
	tn_free(text);
	if (!*tree || json_is_true(json_object_get(*tree, "error")) ||
	    json_array_size(json_object_get(*tree, "statements")) != 1) {
		const char *m = json_string_value(json_object_get(*tree, "error_message"));
		rc = tn_err_set(err, TN_EINVAL, "\"params\" and \"at\" need one SELECT statement%s%s",
				m ? ": " : "", m ? m : "");
		json_decref(*tree);
		*tree = NULL;
		return rc;
	}
	return 0;
}

static void add_literal(struct tn_buf *q, json_t *v, size_t i)
{
	char num[64];

	tn_buf_adds(q, i ? ", " : "");
	switch (json_typeof(v)) {
	case JSON_STRING: tn_buf_add_sqlstr(q, json_string_value(v)); break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		tn_buf_adds(q, num);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g::DOUBLE", json_real_value(v));
		tn_buf_adds(q, num);
		break;
	case JSON_TRUE: tn_buf_adds(q, "true"); break;
	case JSON_FALSE: tn_buf_adds(q, "false"); break;
	default: tn_buf_adds(q, "NULL"); break;
	}
}

/* Expression nodes for `vals` (each a JSON scalar), parsed by DuckDB from
 * "SELECT v1, v2, ..." with every string quoted. */
static int value_nodes(struct duck *d, json_t **vals, size_t n, json_t **out, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	json_t *tree;
	size_t i;
	int rc;

	*out = NULL;
	tn_buf_adds(&q, "SELECT ");
	for (i = 0; i < n; i++) {
		if (json_is_object(vals[i]) || json_is_array(vals[i])) {
			tn_buf_release(&q);
			return tn_err_set(err, TN_EINVAL, "parameter %zu is not a string, number, boolean or null", i + 1);
		}
		add_literal(&q, vals[i], i);
	}
	rc = parse(d, q.buf, &tree, err);
	tn_buf_release(&q);
	if (rc)
		return rc;
	*out = json_incref(json_object_get(json_object_get(json_array_get(json_object_get(tree, "statements"), 0),
							   "node"), "select_list"));
	json_decref(tree);
	return json_array_size(*out) == n ? 0 : tn_err_set(err, TN_EINVAL, "cannot read the parameters");
}

struct ctx {
	json_t *params;    /* array or object from the request */
	json_t *pnodes;    /* their expression nodes, in order */
	json_t *at;        /* an at_clause node, or NULL */
	json_t *ctes;      /* names of CTEs (they are not lake tables) */
	int changed;
	struct tn_err *err;
};

static void collect_ctes(json_t *v, json_t *names)
{
	size_t i;
	const char *k;
	json_t *x;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			collect_ctes(x, names);
	} else if (json_is_object(v)) {
		json_t *map = json_object_get(json_object_get(v, "cte_map"), "map");
		json_array_foreach(map, i, x)
			if (json_is_string(json_object_get(x, "key")))
				json_object_set_new(names, json_string_value(json_object_get(x, "key")), json_true());
		json_object_foreach(v, k, x)
			collect_ctes(x, names);
	}
}

/* The node for parameter `id` ("1", "2", ... or a name). */
static json_t *param_node(struct ctx *c, const char *id)
{
	char *end;
	long n = strtol(id, &end, 10);
	size_t i;
	const char *k;
	json_t *v;

	if (json_is_array(c->params))
		return *end == '\0' && n >= 1 ? json_array_get(c->pnodes, (size_t)n - 1) : NULL;
	i = 0;
	json_object_foreach(c->params, k, v) {
		if (!strcmp(k, id))
			return json_array_get(c->pnodes, i);
		i++;
	}
	return NULL;
}

/* Replace, in place, what v's children need; returns the replacement of
 * v itself (or v). */
static json_t *walk(struct ctx *c, json_t *v)
{
	size_t i;
	const char *k;
	json_t *x;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			json_t *y = walk(c, x);
			if (y != x)
				json_array_set(v, i, y);
		}
		return v;
	}
	if (!json_is_object(v))
		return v;
	if (!strcmp(json_string_value(json_object_get(v, "class")) ? json_string_value(json_object_get(v, "class")) : "",
		    "PARAMETER")) {
		const char *id = json_string_value(json_object_get(v, "identifier"));
		json_t *p = id ? param_node(c, id) : NULL;
		if (!p) {
			if (!c->err->code)
				tn_err_set(c->err, TN_EINVAL, "the query uses parameter $%s but \"params\" has no value "
					   "for it", id ? id : "?");
			return v;
		}
		c->changed = 1;
		return p;
	}
	if (c->at && json_is_string(json_object_get(v, "type")) &&
	    !strcmp(json_string_value(json_object_get(v, "type")), "BASE_TABLE") &&
	    json_is_null(json_object_get(v, "at_clause"))) {
		const char *schema = json_string_value(json_object_get(v, "schema_name"));
		const char *name = json_string_value(json_object_get(v, "table_name"));
		if (!(schema && !*schema && name && json_object_get(c->ctes, name))) {
			json_object_set(v, "at_clause", c->at);
			c->changed = 1;
		}
	}
	json_object_foreach(v, k, x) {
		json_t *y = walk(c, x);
		if (y != x)
			json_object_set(v, k, y);
	}
	return v;
}

/* {"version": n} or {"timestamp": "..."} as an at_clause node. */
static int at_node(struct duck *d, json_t *at, json_t **out, struct tn_err *err)
{
	json_t *ver = json_object_get(at, "version"), *ts = json_object_get(at, "timestamp"), *nodes = NULL;
	json_t *val;
	int rc;

	*out = NULL;
	if (!json_is_object(at) || (!ver == !ts) || (ver && !json_is_integer(ver)) || (ts && !json_is_string(ts)))
		return tn_err_set(err, TN_EINVAL, "\"at\" must be {\"version\": N} or {\"timestamp\": \"2026-01-31 "
				  "12:00:00\"}");
	val = ver ? ver : ts;
	rc = value_nodes(d, &val, 1, &nodes, err);
	if (rc)
		return rc;
	if (ts) {
		/* the text is a TIMESTAMPTZ: a CAST node around the literal */
		json_t *cast = json_pack("{s:s,s:s,s:s,s:i,s:O,s:{s:s,s:n},s:b}", "class", "CAST", "type",
					 "OPERATOR_CAST", "alias", "", "query_location", 0, "child",
					 json_array_get(nodes, 0), "cast_type", "id", "TIMESTAMP WITH TIME ZONE",
					 "type_info", "try_cast", 0);
		*out = json_pack("{s:s,s:o}", "unit", "TIMESTAMP", "expr", cast);
	} else {
		*out = json_pack("{s:s,s:O}", "unit", "VERSION", "expr", json_array_get(nodes, 0));
	}
	json_decref(nodes);
	return 0;
}

static int param_nodes(struct duck *d, json_t *params, json_t **out, struct tn_err *err)
{
	json_t **vals, *v;
	size_t n = json_is_array(params) ? json_array_size(params) : json_object_size(params), i = 0;
	const char *k;
	int rc;

	*out = NULL;
	if (!json_is_array(params) && !json_is_object(params))
		return tn_err_set(err, TN_EINVAL, "\"params\" must be an array (for $1, $2 or ?) or an object "
				  "(for $name)");
	if (!n)
		return 0;
	vals = tn_calloc(n, sizeof(*vals));
	if (json_is_array(params)) {
		json_array_foreach(params, i, v)
			vals[i] = v;
	} else {
		json_object_foreach(params, k, v)
			vals[i++] = v;
	}
	rc = value_nodes(d, vals, n, out, err);
	tn_free(vals);
	return rc;
}

int srv_rewrite(struct duck *d, const char *sql, json_t *params, json_t *at, char **out, struct tn_err *err)
{
	struct ctx c;
	json_t *tree = NULL;
	char *js;
	int rc;

	*out = NULL;
	if (!params && !at)
		return 0;
	memset(&c, 0, sizeof(c));
	c.params = params;
	c.err = err;
	c.ctes = json_object();
	rc = params ? param_nodes(d, params, &c.pnodes, err) : 0;
	if (!rc && at)
		rc = at_node(d, at, &c.at, err);
	if (!rc)
		rc = parse(d, sql, &tree, err);
	if (!rc) {
		collect_ctes(tree, c.ctes);
		walk(&c, tree);
		rc = err->code;
	}
	if (!rc && c.changed) {
		struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
		js = json_dumps(tree, JSON_COMPACT);
		tn_buf_adds(&q, "SELECT json_deserialize_sql(");
		tn_buf_add_sqlstr(&q, js);
		tn_buf_adds(&q, ")");
		free(js); /* jansson's allocator */
		rc = duck_query_text(d, q.buf, out, err);
		tn_buf_release(&q);
	}
	json_decref(tree);
	json_decref(c.pnodes);
	json_decref(c.at);
	json_decref(c.ctes);
	return rc;
}
