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
#include "base/tn_util.h"

#include <ctype.h>
#include <errno.h>
#include <strings.h>
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

/* An expression node of the tree as the text "SELECT <expr>". */
static int expr_sql(struct session *s, json_t *expr, char **sql, struct tn_err *err)
{
	char *tmpl = NULL, *js;
	json_t *root;
	int rc = run_text(s, "json_serialize_sql", "SELECT 1", &tmpl, err);

	*sql = NULL;
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
	rc = run_text(s, "json_deserialize_sql", js, sql, err);
	free(js); /* jansson's allocator */
	return rc;
}

/* Evaluate an AT (...) expression: a version number or a time in µs. */
static int eval_expr(struct session *s, json_t *expr, int timestamp, int64_t *out, struct tn_err *err)
{
	char *sql = NULL;
	int rc = expr_sql(s, expr, &sql, err);

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


/* ---- pruning files by their column statistics ---- */

enum pred_op { OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE };

/* A conjunct of a WHERE clause: <column> <op> <constant>. */
struct pred {
	const char *qual;   /* table name or alias, NULL when unqualified */
	const char *column;
	enum pred_op op;
	json_t *value;      /* constant expression node (borrowed) */
};

struct preds {
	struct pred *p;
	size_t n, alloc;
};

static const struct {
	const char *type;
	enum pred_op op, flipped;
} comparisons[] = {
	{ "COMPARE_EQUAL", OP_EQ, OP_EQ },
	{ "COMPARE_LESSTHAN", OP_LT, OP_GT },
	{ "COMPARE_LESSTHANOREQUALTO", OP_LE, OP_GE },
	{ "COMPARE_GREATERTHAN", OP_GT, OP_LT },
	{ "COMPARE_GREATERTHANOREQUALTO", OP_GE, OP_LE },
};

static int is_constant(json_t *e)
{
	const char *cls = json_string_value(json_object_get(e, "class"));

	if (!cls)
		return 0;
	if (!strcmp(cls, "CONSTANT"))
		return !json_is_true(json_object_get(json_object_get(e, "value"), "is_null"));
	return !strcmp(cls, "CAST") && is_constant(json_object_get(e, "child"));
}

static int is_column(json_t *e)
{
	const char *cls = json_string_value(json_object_get(e, "class"));
	size_t n = json_array_size(json_object_get(e, "column_names"));

	return cls && !strcmp(cls, "COLUMN_REF") && (n == 1 || n == 2);
}

static void add_pred(struct preds *ps, json_t *col, enum pred_op op, json_t *value)
{
	json_t *names = json_object_get(col, "column_names");
	struct pred *p;

	TN_GROW(ps->p, ps->alloc, ps->n + 1);
	p = &ps->p[ps->n++];
	p->qual = json_array_size(names) == 2 ? json_string_value(json_array_get(names, 0)) : NULL;
	p->column = json_string_value(json_array_get(names, json_array_size(names) - 1));
	p->op = op;
	p->value = value;
}

/* The conjuncts of a WHERE clause that compare a column with a constant. */
static void collect_preds(json_t *e, struct preds *ps)
{
	const char *cls = json_string_value(json_object_get(e, "class"));
	const char *type = json_string_value(json_object_get(e, "type"));
	size_t i;

	if (!cls || !type)
		return;
	if (!strcmp(cls, "CONJUNCTION") && !strcmp(type, "CONJUNCTION_AND")) {
		json_t *c;
		json_array_foreach(json_object_get(e, "children"), i, c)
			collect_preds(c, ps);
		return;
	}
	if (!strcmp(cls, "BETWEEN") && !strcmp(type, "COMPARE_BETWEEN")) {
		/* col BETWEEN lo AND hi is col >= lo AND col <= hi */
		json_t *in = json_object_get(e, "input"), *lo = json_object_get(e, "lower"),
		       *hi = json_object_get(e, "upper");
		if (is_column(in) && is_constant(lo))
			add_pred(ps, in, OP_GE, lo);
		if (is_column(in) && is_constant(hi))
			add_pred(ps, in, OP_LE, hi);
		return;
	}
	if (strcmp(cls, "COMPARISON"))
		return;
	for (i = 0; i < TN_ARRAY_LEN(comparisons); i++) {
		json_t *l = json_object_get(e, "left"), *r = json_object_get(e, "right");
		if (strcmp(type, comparisons[i].type))
			continue;
		if (is_column(l) && is_constant(r))
			add_pred(ps, l, comparisons[i].op, r);
		else if (is_constant(l) && is_column(r))
			add_pred(ps, r, comparisons[i].flipped, l);
	}
}

/* Column types whose min/max text orders like the values: integers as
 * numbers, dates, timestamps and strings as text. */
enum stat_kind { STAT_NONE, STAT_INT, STAT_TEXT, STAT_TIME };

static enum stat_kind stat_kind(const char *type)
{
	if (!strcmp(type, "varchar"))
		return STAT_TEXT;
	if (!strcmp(type, "date") || !strncmp(type, "timestamp", 9))
		return STAT_TIME;
	if ((!strncmp(type, "int", 3) && strcmp(type, "int128")) ||
	    (!strncmp(type, "uint", 4) && strcmp(type, "uint64") && strcmp(type, "uint128")))
		return STAT_INT;
	return STAT_NONE;
}

/* strcmp-like; 2 = cannot tell (then nothing is pruned). */
static int stat_cmp(enum stat_kind k, const char *a, const char *b)
{
	if (!a || !b)
		return 2;
	if (k == STAT_INT) {
		char *ea, *eb;
		long long x = strtoll(a, &ea, 10), y = strtoll(b, &eb, 10);
		if (*ea || *eb || ea == a || eb == b)
			return 2;
		return x < y ? -1 : x > y;
	}
	if (k == STAT_TIME) {
		/* Only plain four-digit years order as text ("infinity", BC, 10000+ do not). */
		size_t i;
		for (i = 0; i < 4; i++)
			if (a[i] < '0' || a[i] > '9' || b[i] < '0' || b[i] > '9')
				return 2;
		if (a[4] != '-' || b[4] != '-')
			return 2;
	}
	{
		int c = strcmp(a, b);
		return c < 0 ? -1 : c > 0;
	}
}

/* 1 when no row with min..max can satisfy <col> op v. */
static int excludes(enum stat_kind k, enum pred_op op, const char *mn, const char *mx, const char *v)
{
	int lo = stat_cmp(k, mn, v), hi = stat_cmp(k, mx, v);

	switch (op) {
	case OP_EQ:
		return (lo != 2 && lo > 0) || (hi != 2 && hi < 0);
	case OP_LT:
		return lo != 2 && lo >= 0;
	case OP_LE:
		return lo != 2 && lo > 0;
	case OP_GT:
		return hi != 2 && hi <= 0;
	case OP_GE:
		return hi != 2 && hi < 0;
	}
	return 0;
}

static int is_int_type(const char *id)
{
	static const char *const ints[] = { "TINYINT", "SMALLINT", "INTEGER", "BIGINT",
					    "UTINYINT", "USMALLINT", "UINTEGER" };
	size_t i;

	for (i = 0; id && i < TN_ARRAY_LEN(ints); i++)
		if (!strcmp(id, ints[i]))
			return 1;
	return 0;
}

/* The constant as DuckDB renders it in the column's type (the form the
 * statistics have), or NULL when it does not convert. Plain integer and
 * string literals are read off the tree; anything else is asked of DuckDB. */
static int constant_text(struct session *s, json_t *value, const struct lk_column *c, enum stat_kind k,
			 char **out, struct tn_err *err)
{
	const char *cls = json_string_value(json_object_get(value, "class"));
	json_t *v = json_object_get(value, "value");
	const char *type = json_string_value(json_object_get(json_object_get(v, "type"), "id"));
	json_t *lit = json_object_get(v, "value");
	char *sql = NULL, *dt, *q;
	struct tn_err e = TN_ERR_INIT;
	int rc;

	*out = NULL;
	if (cls && !strcmp(cls, "CONSTANT")) {
		/* An integer compares with an integer column as numbers, whatever their widths. */
		if (k == STAT_INT && is_int_type(type) && json_is_integer(lit)) {
			*out = tn_xprintf("%lld", (long long)json_integer_value(lit));
			return 0;
		}
		if (k == STAT_TEXT && type && !strcmp(type, "VARCHAR") && json_is_string(lit)) {
			*out = tn_strdup(json_string_value(lit));
			return 0;
		}
	}
	rc = expr_sql(s, value, &sql, err);
	if (!rc) {
		dt = meta_duck_type(c);
		/* Only a lossless conversion may prune: 54.5 is 55 as an integer,
		 * yet i > 54.5 holds for i = 55 while i > 55 does not. */
		q = tn_xprintf("SELECT CASE WHEN TRY_CAST(x AS %s) = x THEN CAST(TRY_CAST(x AS %s) AS VARCHAR) END "
			       "FROM (%s) AS q(x)", dt, dt, sql);
		if (duck_query_text(s->duck, q, out, &e))
			*out = NULL; /* not prunable; the query itself will report real errors */
		tn_free(q);
		tn_free(dt);
	}
	tn_free(sql);
	return rc;
}

/* Where file `id` is in t->files (sorted by id, meta_load_files), or
 * t->nfiles when the table has no such live file: a binary search, since
 * a table can have a hundred thousand files. */
static size_t file_index(const struct lk_table *t, int64_t id)
{
	size_t lo = 0, hi = t->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->files[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->nfiles && t->files[lo].id == id ? lo : t->nfiles;
}

/* A predicate with what pruning needs: its column, how the column's
 * statistics order, and the constant as statistics text (NULL: unusable). */
struct pval {
	const struct pred *p;
	const struct lk_column *c;
	enum stat_kind k;
	char *v;
};

static int pvals_make(struct session *s, struct lk_table *t, const struct pred *p, size_t np,
		      struct pval **out, struct tn_err *err)
{
	struct pval *pv = tn_calloc(np ? np : 1, sizeof(*pv));
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < np; i++) {
		pv[i].p = &p[i];
		pv[i].c = meta_find_column(t, p[i].column);
		pv[i].k = pv[i].c ? stat_kind(pv[i].c->type) : STAT_NONE;
		if (pv[i].k != STAT_NONE)
			rc = constant_text(s, p[i].value, pv[i].c, pv[i].k, &pv[i].v, err);
	}
	*out = pv;
	return rc;
}

static void pvals_free(struct pval *pv, size_t np)
{
	size_t i;

	for (i = 0; pv && i < np; i++)
		tn_free(pv[i].v);
	tn_free(pv);
}

/* The tightest range the integer predicates give one column, preferring a
 * column bounded on both sides; 0 when no integer predicate applies. */
static int int_bound(const struct pval *pv, size_t np, struct meta_bound *out)
{
	size_t i, j;
	int best = 0;

	for (i = 0; i < np; i++) {
		struct meta_bound b;
		int sides = 0;
		if (pv[i].k != STAT_INT || !pv[i].v)
			continue;
		b.column_id = pv[i].c->id;
		b.lo = INT64_MIN;
		b.hi = INT64_MAX;
		for (j = 0; j < np; j++) {
			char *end;
			long long v;
			if (pv[j].k != STAT_INT || !pv[j].v || pv[j].c->id != b.column_id)
				continue;
			errno = 0;
			v = strtoll(pv[j].v, &end, 10);
			if (*end || end == pv[j].v || errno)
				continue;
			if (pv[j].p->op == OP_EQ || pv[j].p->op == OP_GE || pv[j].p->op == OP_GT) {
				int64_t lo = pv[j].p->op == OP_GT ? (v == INT64_MAX ? v : v + 1) : v;
				if (lo > b.lo)
					b.lo = lo;
				sides |= 1;
			}
			if (pv[j].p->op == OP_EQ || pv[j].p->op == OP_LE || pv[j].p->op == OP_LT) {
				int64_t hi = pv[j].p->op == OP_LT ? (v == INT64_MIN ? v : v - 1) : v;
				if (hi < b.hi)
					b.hi = hi;
				sides |= 2;
			}
		}
		if (sides && (sides == 3 ? 2 : 1) > best) {
			best = sides == 3 ? 2 : 1;
			*out = b;
		}
	}
	return best > 0;
}

/* Mark in `drop` the files (ids lo..hi) whose statistics exclude pv. */
static int exclude_by(struct session *s, struct lk_table *t, const struct pval *pv, int64_t lo, int64_t hi,
		      char *drop, struct tn_err *err)
{
	struct catalog_stmt *st;
	size_t i;
	int rc;

	if (pv->k == STAT_NONE || !pv->v)
		return 0;
	rc = catalog_prepare(s->cat, "SELECT data_file_id, min_value, max_value FROM ducklake_file_column_stats "
				     "WHERE table_id = ? AND column_id = ? AND data_file_id BETWEEN ? AND ?", &st, err);
	if (!rc) {
		catalog_bind_int(st, 1, t->id);
		catalog_bind_int(st, 2, pv->c->id);
		catalog_bind_int(st, 3, lo);
		catalog_bind_int(st, 4, hi);
	}
	while (!rc && (rc = catalog_step(st, err)) == 1) {
		int64_t id = catalog_col_int(st, 0);
		rc = 0;
		if (!excludes(pv->k, pv->p->op, catalog_col_text(st, 1), catalog_col_text(st, 2), pv->v))
			continue;
		i = file_index(t, id);
		if (i < t->nfiles)
			drop[i] = 1;
	}
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

/* Remove the files no row of which can pass the predicates; returns a
 * hash of what was dropped (0 = nothing). `was` is how many files the
 * table has at this snapshot before pruning (or 0 when t->files is all of
 * them): pruned by the catalog query, they count as dropped too. */
static int prune_files(struct session *s, struct lk_table *t, const struct pval *pv, size_t np,
		       uint64_t *hash, struct tn_err *err)
{
	char *drop = tn_calloc(t->nfiles ? t->nfiles : 1, 1);
	size_t i, j;
	int rc = 0;

	for (i = 0; !rc && t->nfiles && i < np; i++)
		rc = exclude_by(s, t, &pv[i], t->files[0].id, t->files[t->nfiles - 1].id, drop, err);
	for (i = j = 0; !rc && i < t->nfiles; i++) {
		if (drop[i]) {
			tn_free(t->files[i].path);
			tn_free(t->files[i].local);
			tn_free(t->files[i].del_path);
			tn_free(t->files[i].del_local);
			continue;
		}
		t->files[j++] = t->files[i];
	}
	if (!rc && (j < t->nfiles || *hash)) {
		/* FNV-1a over the ids kept (and the pruned-before flag) names the file set. */
		uint64_t h = *hash ? *hash : 14695981039346656037ULL;
		size_t k;
		int b;
		for (k = 0; k < j; k++) {
			uint64_t id = (uint64_t)t->files[k].id;
			for (b = 0; b < 8; b++)
				h = (h ^ ((id >> (8 * b)) & 0xff)) * 1099511628211ULL;
		}
		*hash = h ? h : 1;
	}
	if (!rc)
		t->nfiles = j;
	tn_free(drop);
	return rc;
}

/* ---- views of a table at a snapshot, possibly pruned ---- */

static int have_tt(struct session *s, const char *name)
{
	size_t i;
	for (i = 0; i < s->ntt; i++)
		if (!strcmp(s->ttviews[i], name))
			return 1;
	return 0;
}

/* A view of table `schema.name` at snapshot n over the files the
 * predicates may need; *view is its name (NULL when `optional` and
 * nothing was pruned, so the plain mirror view serves). */
static int table_view(struct session *s, const char *schema, const char *name, int64_t n,
		      const struct pred *p, size_t np, int optional, char **view, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct lk_table *t = NULL;
	struct pval *pv = NULL;
	uint64_t hash = 0;
	int rc = meta_table(s->lk, s->cat, schema, name, n, &t, err);

	*view = NULL;
	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);
		if (optional)
			return 0; /* a CTE, a temp table, a lake view: not ours to prune */
		return tn_err_set(err, TN_ENOTFOUND, "Table with name %s does not exist at version %lld",
				  name, (long long)n);
	}
	if (!rc && np)
		rc = pvals_make(s, t, p, np, &pv, err);
	if (!rc) {
		/* The catalog query skips most files when an integer column is
		 * bounded; the rest are pruned here by every predicate. */
		struct meta_bound b;
		int bounded = np && int_bound(pv, np, &b), applied = 0;
		size_t i;
		rc = meta_load_files_bounded(s->lk, s->cat, t, bounded ? &b : NULL, &applied, err);
		/* the catalog applied those predicates exactly as prune_files would */
		for (i = 0; applied && i < np; i++)
			if (pv[i].k == STAT_INT && pv[i].c->id == b.column_id) {
				tn_free(pv[i].v);
				pv[i].v = NULL;
			}
		if (applied)
			hash = 14695981039346656037ULL ^ (uint64_t)b.lo ^ ((uint64_t)b.hi << 1);
	}
	if (!rc && np)
		rc = prune_files(s, t, pv, np, &hash, err);
	if (rc || (optional && !hash))
		goto out;
	*view = hash ? tn_xprintf("t%lld_v%lld_p%016llx", (long long)t->id, (long long)n, (unsigned long long)hash) :
		tn_xprintf("t%lld_v%lld", (long long)t->id, (long long)n);
	if (!have_tt(s, *view)) {
		tn_buf_addf(&q, "CREATE OR REPLACE VIEW __tarn_tt.%s AS ", *view);
		rc = files_fetch(s->lk, t, err);
		if (!rc)
			rc = scan_sql(t, 0, &q, err);
		if (!rc)
			rc = duck_exec(s->duck, q.buf, err);
		if (!rc) {
			TN_GROW(s->ttviews, s->att, s->ntt + 1);
			s->ttviews[s->ntt++] = tn_strdup(*view);
		}
	}
out:
	if (rc) {
		tn_free(*view);
		*view = NULL;
	}
	tn_buf_release(&q);
	pvals_free(pv, np);
	meta_table_free(t);
	return rc;
}

/* Point a BASE_TABLE reference at a view of its snapshot (AT clause) and/or
 * of the files its predicates need. */
static int rewrite_ref(struct session *s, json_t *ref, const struct pred *p, size_t np, int *changed,
		       struct tn_err *err)
{
	json_t *at = json_object_get(ref, "at_clause");
	const char *schema = json_string_value(json_object_get(ref, "schema_name"));
	const char *name = json_string_value(json_object_get(ref, "table_name"));
	const char *alias = json_string_value(json_object_get(ref, "alias"));
	int has_at = at && !json_is_null(at);
	char *view = NULL;
	int64_t n = 0;
	int rc = has_at ? snapshot_at(s, at, &n, err) : sess_read_snapshot(s, &n, err);

	if (!rc)
		rc = table_view(s, schema && *schema ? schema : NULL, name ? name : "", n, p, np, !has_at, &view, err);
	if (rc || !view)
		return rc;
	if (!alias || !*alias)
		json_object_set_new(ref, "alias", json_string(name));
	json_object_set_new(ref, "schema_name", json_string("__tarn_tt"));
	json_object_set_new(ref, "catalog_name", json_string(""));
	json_object_set_new(ref, "table_name", json_string(view));
	json_object_set_new(ref, "at_clause", json_null());
	tn_free(view);
	*changed = 1;
	return 0;
}

struct refs {
	json_t **r;
	size_t n, alloc;
};

/* BASE_TABLE references of a FROM clause, through joins. */
static void collect_refs(json_t *from, struct refs *rs)
{
	const char *type = json_string_value(json_object_get(from, "type"));

	if (!type)
		return;
	if (!strcmp(type, "BASE_TABLE")) {
		TN_GROW(rs->r, rs->alloc, rs->n + 1);
		rs->r[rs->n++] = from;
	} else if (!strcmp(type, "JOIN")) {
		collect_refs(json_object_get(from, "left"), rs);
		collect_refs(json_object_get(from, "right"), rs);
	}
}

static int ref_matches(json_t *ref, const struct pred *p, size_t nrefs)
{
	const char *alias = json_string_value(json_object_get(ref, "alias"));
	const char *name = json_string_value(json_object_get(ref, "table_name"));

	if (!p->qual)
		return nrefs == 1; /* unqualified columns only when one table is read */
	if (alias && *alias)
		return tn_strieq(alias, p->qual);
	return name && tn_strieq(name, p->qual);
}

static int in_ctes(json_t *ctes, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(ctes, i, e)
		if (tn_strieq(json_string_value(json_object_get(e, "key")), name))
			return 1;
	return 0;
}

/* A SELECT: prune the files of the tables it reads by its WHERE clause. */
static int select_node(struct session *s, json_t *node, json_t *ctes, int *changed, struct tn_err *err)
{
	struct refs rs = { NULL, 0, 0 };
	struct preds ps = { NULL, 0, 0 };
	struct pred *mine;
	size_t i, j, n;
	int rc = 0;

	collect_refs(json_object_get(node, "from_table"), &rs);
	collect_preds(json_object_get(node, "where_clause"), &ps);
	mine = tn_calloc(ps.n ? ps.n : 1, sizeof(*mine));
	for (i = 0; !rc && i < rs.n; i++) {
		json_t *at = json_object_get(rs.r[i], "at_clause");
		const char *name = json_string_value(json_object_get(rs.r[i], "table_name"));
		if (!name || in_ctes(ctes, name))
			continue;
		for (j = n = 0; j < ps.n; j++)
			if (ref_matches(rs.r[i], &ps.p[j], rs.n))
				mine[n++] = ps.p[j];
		if (n || (at && !json_is_null(at)))
			rc = rewrite_ref(s, rs.r[i], mine, n, changed, err);
	}
	tn_free(mine);
	tn_free(rs.r);
	tn_free(ps.p);
	return rc;
}

/* Every CTE name in the tree: such names are never lake tables. */
static void collect_ctes(json_t *v, json_t *out)
{
	const char *key;
	json_t *child;
	size_t i;

	if (json_is_object(v)) {
		json_t *map = json_object_get(json_object_get(v, "cte_map"), "map");
		json_array_foreach(map, i, child)
			json_array_append(out, child);
		json_object_foreach(v, key, child)
			collect_ctes(child, out);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			collect_ctes(child, out);
	}
}

static int walk(struct session *s, json_t *v, json_t *ctes, int *changed, struct tn_err *err)
{
	const char *key;
	json_t *child;
	size_t i;
	int rc = 0;

	if (json_is_object(v)) {
		const char *type = json_string_value(json_object_get(v, "type"));
		json_t *at = json_object_get(v, "at_clause");
		if (type && !strcmp(type, "SELECT_NODE"))
			rc = select_node(s, v, ctes, changed, err);
		else if (type && !strcmp(type, "BASE_TABLE") && at && !json_is_null(at))
			return rewrite_ref(s, v, NULL, 0, changed, err);
		json_object_foreach(v, key, child) {
			if (rc)
				break;
			rc = walk(s, child, ctes, changed, err);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			rc = walk(s, child, ctes, changed, err);
			if (rc)
				break;
		}
	}
	return rc;
}

/* ---- the tables a query reads ---- */

static int each_ref(json_t *v, json_t *ctes, tt_ref_fn *fn, void *arg)
{
	const char *key;
	json_t *child;
	size_t i;
	int rc = 0;

	if (json_is_object(v)) {
		const char *type = json_string_value(json_object_get(v, "type"));
		if (type && !strcmp(type, "BASE_TABLE")) {
			const char *schema = json_string_value(json_object_get(v, "schema_name"));
			const char *name = json_string_value(json_object_get(v, "table_name"));
			if (name && !(schema && !strcmp(schema, "__tarn_tt")) &&
			    !((!schema || !*schema) && in_ctes(ctes, name)))
				rc = fn(arg, schema && *schema ? schema : NULL, name);
		}
		json_object_foreach(v, key, child) {
			if (rc)
				break;
			rc = each_ref(child, ctes, fn, arg);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			if (rc)
				break;
			rc = each_ref(child, ctes, fn, arg);
		}
	}
	return rc;
}

int tt_table_refs(struct session *s, const char *sql, tt_ref_fn *fn, void *arg, int *known,
		  struct tn_err *err)
{
	char *tree = NULL;
	json_t *root, *ctes;
	int rc = run_text(s, "json_serialize_sql", sql, &tree, err);

	*known = 0;
	if (rc) {
		/* Not a statement DuckDB serializes: its reads are unknown. */
		tn_err_clear(err);
		return 0;
	}
	root = tree ? load_tree(tree) : NULL;
	tn_free(tree);
	if (!root)
		return 0;
	if (json_is_true(json_object_get(root, "error"))) {
		json_decref(root);
		return 0;
	}
	*known = 1;
	ctes = json_array();
	collect_ctes(root, ctes);
	rc = each_ref(root, ctes, fn, arg);
	json_decref(ctes);
	json_decref(root);
	return rc;
}

/* ---- COPY (query) TO … ---- */

/* Past a quoted string or identifier starting at p (quote doubled inside). */
static const char *skip_quoted(const char *p)
{
	char q = *p++;

	while (*p) {
		if (*p == q && p[1] == q)
			p += 2;
		else if (*p++ == q)
			return p;
	}
	return p;
}

/* Past the blanks and comments at p. */
static const char *skip_blank(const char *p)
{
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*" "/");
			p = end ? end + 2 : p + strlen(p);
		} else {
			return p;
		}
	}
}

/* The ')' that closes the '(' at `open`, outside quotes and comments; NULL
 * when there is none. */
static const char *closing_paren(const char *open)
{
	const char *p = open + 1;
	int depth = 1;

	while (*p) {
		const char *q = skip_blank(p);
		if (q != p) {
			p = q;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			p = skip_quoted(p);
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p;
		p++;
	}
	return NULL;
}

/*
 * DuckDB serializes only SELECT statements, so `COPY (query) TO …` is
 * rewritten by hand: the query between the parentheses goes through
 * tt_rewrite like any SELECT and is put back in its place. 1 when `sql`
 * is such a statement (*out is the rewritten text, or NULL when nothing
 * changed), 0 when it is not.
 */
static int copy_query(struct session *s, const char *sql, char **out, int *is_copy, struct tn_err *err)
{
	const char *p = skip_blank(sql), *open, *close;
	char *inner, *rewritten = NULL;
	int rc;

	*is_copy = 0;
	if (strncasecmp(p, "copy", 4) || !(isspace((unsigned char)p[4]) || p[4] == '(' || p[4] == '-' ||
					   p[4] == '/'))
		return 0;
	open = skip_blank(p + 4);
	if (*open != '(' || !(close = closing_paren(open)))
		return 0;
	*is_copy = 1;
	inner = tn_strndup(open + 1, (size_t)(close - open - 1));
	rc = tt_rewrite(s, inner, &rewritten, err);
	if (!rc && rewritten)
		*out = tn_xprintf("%.*s(%s)%s", (int)(open - sql), sql, rewritten, close + 1);
	tn_free(rewritten);
	tn_free(inner);
	return rc;
}

static int count_ref(void *arg, const char *schema, const char *name)
{
	(void)schema;
	(void)name;
	(*(int *)arg)++;
	return 0;
}

/* EXPLAIN [ANALYZE] <query>: the query is rewritten as it would run, so the
 * plan shows the files it would read. 1 in *is_explain when sql is one. */
static int explain_query(struct session *s, const char *sql, char **out, int *is_explain, struct tn_err *err)
{
	const char *p = skip_blank(sql), *q;
	char *rewritten = NULL;
	int rc;

	*is_explain = 0;
	if (strncasecmp(p, "explain", 7) || !isspace((unsigned char)p[7]))
		return 0;
	q = skip_blank(p + 7);
	if (!strncasecmp(q, "analyze", 7) && isspace((unsigned char)q[7]))
		q = skip_blank(q + 7);
	*is_explain = 1;
	rc = tt_rewrite(s, q, &rewritten, err);
	if (!rc && rewritten)
		*out = tn_xprintf("%.*s%s", (int)(q - sql), sql, rewritten);
	tn_free(rewritten);
	return rc;
}

int tt_rewrite(struct session *s, const char *sql, char **out, struct tn_err *err)
{
	char *tree = NULL, *js;
	json_t *root, *ctes;
	int changed = 0, is_copy = 0, left = 0, rc;

	*out = NULL;
	s->tt_only = 0;
	if (!mentions_at(sql) && !strcasestr(sql, "where"))
		return 0;
	rc = copy_query(s, sql, out, &is_copy, err);
	if (rc || is_copy)
		return rc;
	rc = explain_query(s, sql, out, &is_copy, err);
	if (rc || is_copy)
		return rc;
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
	ctes = json_array();
	collect_ctes(root, ctes);
	rc = walk(s, root, ctes, &changed, err);
	if (!rc && changed)
		each_ref(root, ctes, count_ref, &left);
	json_decref(ctes);
	if (!rc && changed) {
		js = json_dumps(root, JSON_COMPACT);
		rc = run_text(s, "json_deserialize_sql", js, out, err);
		free(js); /* jansson's allocator */
		s->tt_only = !rc && left == 0;
	}
	json_decref(root);
	return rc;
}
