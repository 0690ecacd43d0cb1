/* Unit tests of transform: the template renderer (every construct, and
 * every error naming file and line), loading a project from a temporary
 * folder (schemas from folders, configs, dependencies found in every
 * branch, the order), rendering models (this, incremental branches,
 * ephemeral CTEs), selectors and cycles. */
#include "base/compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "transform/project.h"
#include "transform/tmpl.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- renderer */

/* A fake environment: ref(x) -> R(x), source(s, t) -> S(s.t), var(v) ->
 * V(v) or the default; config() counts its calls. */
struct fake {
	int configs;
	char refs[256];   /* names passed to ref(), space separated */
};

static int f_ref(void *arg, const char *name, struct tn_buf *out, struct tn_err *err)
{
	struct fake *f = arg;
	size_t n = strlen(f->refs);

	(void)err;
	snprintf(f->refs + n, sizeof(f->refs) - n, "%s%s", n ? " " : "", name);
	tn_buf_addf(out, "R(%s)", name);
	return 0;
}

static int f_source(void *arg, const char *src, const char *table, struct tn_buf *out, struct tn_err *err)
{
	(void)arg;
	(void)err;
	tn_buf_addf(out, "S(%s.%s)", src, table);
	return 0;
}

static int f_var(void *arg, const char *name, const char *dflt, struct tn_buf *out, struct tn_err *err)
{
	(void)arg;
	if (!strcmp(name, "unset") && !dflt)
		return tn_err_set(err, TN_ENOTFOUND, "var('%s') is not set", name);
	tn_buf_addf(out, "V(%s)", strcmp(name, "unset") ? name : dflt);
	return 0;
}

static int f_config(void *arg, json_t *cfg, struct tn_err *err)
{
	struct fake *f = arg;

	(void)err;
	assert_true(json_is_object(cfg));
	f->configs++;
	return 0;
}

static int render(struct fake *f, int incremental, int all, const char *text, char **out, struct tn_err *err)
{
	struct tmpl_env env = { f, "THIS", incremental, f_ref, f_source, f_var, f_config };
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc = all ? tmpl_collect(&env, "m.sql", text, &b, err) : tmpl_render(&env, "m.sql", text, &b, err);

	*out = rc ? NULL : tn_buf_detach(&b, NULL);
	if (!rc && !*out)
		*out = tn_strdup("");
	tn_buf_release(&b);
	return rc;
}

static void renders_to(int incremental, const char *text, const char *want)
{
	struct fake f = { 0, "" };
	struct tn_err err = TN_ERR_INIT;
	char *got = NULL;

	if (render(&f, incremental, 0, text, &got, &err))
		fail_msg("render of <%s> failed: %s", text, err.msg);
	assert_string_equal(got, want);
	tn_free(got);
}

/* Rendering must fail with a message that contains `needle` (file:line). */
static void render_fails(int all, const char *text, const char *needle)
{
	struct fake f = { 0, "" };
	struct tn_err err = TN_ERR_INIT;
	char *got = NULL;

	if (!render(&f, 0, all, text, &got, &err))
		fail_msg("render of <%s> succeeded: <%s>", text, got);
	assert_int_equal(err.code, TN_EINVAL);
	if (!strstr(err.msg, needle))
		fail_msg("render of <%s>: message <%s> lacks <%s>", text, err.msg, needle);
}

static void test_render_constructs(void **state)
{
	(void)state;
	renders_to(0, "SELECT 1", "SELECT 1");
	renders_to(0, "SELECT * FROM {{ ref('a') }} JOIN {{ref(\"b\")}}", "SELECT * FROM R(a) JOIN R(b)");
	renders_to(0, "{{ ref('pkg', 'a') }}", "R(a)");
	renders_to(0, "{{ source('raw', 'orders') }}", "S(raw.orders)");
	renders_to(0, "{{ var('x') }} {{ var('unset', 'd') }} {{ var('unset', 7) }}", "V(x) V(d) V(7)");
	renders_to(0, "{{ config(materialized='table', tags=['a', 'b'], full=true) }}x", "x");
	renders_to(0, "{{ this }}", "THIS");
	renders_to(0, "a{# {{ nonsense }} #}b", "ab");
	renders_to(0, "{ not a tag } {'x'}", "{ not a tag } {'x'}");
	renders_to(0, "a{% if is_incremental() %}I{% else %}F{% endif %}b", "aFb");
	renders_to(1, "a{% if is_incremental() %}I{% else %}F{% endif %}b", "aIb");
	renders_to(1, "a{%- if not is_incremental() -%}N{% endif %}b", "ab");
	renders_to(1, "{% if is_incremental() %}{% if not is_incremental() %}x{% else %}y{% endif %}{% endif %}",
		   "y");
	renders_to(1, "{{ is_incremental() }}", "true");
}

static void test_render_errors(void **state)
{
	(void)state;
	render_fails(0, "SELECT 1\n\n{{ adapter.quote('x') }}", "m.sql:3: unknown template syntax");
	render_fails(0, "{% for i in range(3) %}{% endfor %}", "m.sql:1: unknown template syntax");
	render_fails(0, "x\n{{ ref('a')", "m.sql:2: '{{' is never closed");
	render_fails(0, "x\n{% if is_incremental() %}\ny\n", "m.sql:2: {% if %} is never closed");
	render_fails(0, "{% endif %}", "m.sql:1: {% endif %} without {% if %}");
	render_fails(0, "{% if is_incremental() %}a{% else %}b{% else %}c{% endif %}", "second {% else %}");
	render_fails(0, "{{ ref('a', 'b', 'c') }}", "m.sql:1: unknown template syntax");
	render_fails(0, "{{ ref(a) }}", "m.sql:1: unknown template syntax");
	render_fails(0, "{{ source('only') }}", "m.sql:1: wrong arguments");
	render_fails(0, "{{ config(materialized=) }}", "m.sql:1: cannot read config");
	render_fails(0, "{{ this.name }}", "m.sql:1: unknown template syntax");
	render_fails(0, "{{ 'unterminated }}", "m.sql:1: unknown template syntax");
	/* a typo in a branch not taken: found when every branch is checked */
	render_fails(1, "x\n{% if is_incremental() %}\n{{ reff('a') }}\n{% endif %}", "m.sql:3: unknown");
}

static void test_render_var_error_has_line(void **state)
{
	struct fake f = { 0, "" };
	struct tn_err err = TN_ERR_INIT;
	char *got = NULL;

	(void)state;
	assert_int_equal(render(&f, 0, 0, "\n\n{{ var('unset') }}", &got, &err), TN_ENOTFOUND);
	assert_non_null(strstr(err.msg, "m.sql:3"));
	assert_non_null(strstr(err.msg, "unset"));
}

static void test_render_all_branches(void **state)
{
	struct fake f = { 0, "" };
	struct tn_err err = TN_ERR_INIT;
	char *got = NULL;
	const char *t = "{{ config(a='1') }}{% if is_incremental() %}{{ config(b='2') }}{{ ref('late') }}"
			"{% endif %}{{ ref('early') }}";

	(void)state;
	/* rendering for a run: only the taken branch */
	assert_int_equal(render(&f, 0, 0, t, &got, &err), 0);
	assert_string_equal(got, "R(early)");
	assert_string_equal(f.refs, "early");
	assert_int_equal(f.configs, 1);
	tn_free(got);
	/* collecting: refs in every branch, the text of the taken one, and a
	 * config() under a branch not taken does not apply */
	memset(&f, 0, sizeof(f));
	assert_int_equal(render(&f, 0, 1, t, &got, &err), 0);
	assert_string_equal(got, "R(early)");
	assert_string_equal(f.refs, "late early");
	assert_int_equal(f.configs, 1);
	tn_free(got);
}

/* ---------------------------------------------------------------- projects */

static char *mkproject(void)
{
	char tmpl[] = "/tmp/tarn-unit-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return tn_strdup(d);
}

/* Write `text` at root/rel, making its folders. */
static void put(const char *root, const char *rel, const char *text)
{
	char *path = tn_xprintf("%s/%s", root, rel), *s;
	FILE *f;

	for (s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*s = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	tn_free(path);
}

static void rmproject(char *root)
{
	char *cmd = tn_xprintf("rm -rf '%s'", root);

	assert_int_equal(system(cmd), 0);
	tn_free(cmd);
	tn_free(root);
}

static size_t find(const struct tf_project *p, const char *name)
{
	size_t i = tf_find(p, name);

	if (i == (size_t)-1)
		fail_msg("no node %s", name);
	return i;
}

/* Position of node `name` in the topological order. */
static size_t pos(const struct tf_project *p, const char *name)
{
	size_t i = find(p, name), k;

	for (k = 0; k < p->nn; k++)
		if (p->order[k] == i)
			return k;
	fail_msg("%s is not in the order", name);
	return 0;
}

static char *render_node(const struct tf_project *p, const char *name, int incremental)
{
	struct tf_render_opts o = { incremental };
	struct tn_err err = TN_ERR_INIT;
	char *sql = NULL;

	if (tf_render_node(p, find(p, name), &o, &sql, &err))
		fail_msg("render %s: %s", name, err.msg);
	return sql;
}

/* The names selected by `sel`, in node order, space separated. */
static char *selected(const struct tf_project *p, const char *sel)
{
	char *picked = tn_calloc(p->nn + 1, 1);
	struct tn_err err = TN_ERR_INIT;
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t k;
	char *s;

	if (tf_select(p, sel, picked, &err))
		fail_msg("select %s: %s", sel, err.msg);
	for (k = 0; k < p->nn; k++)
		if (picked[p->order[k]])
			tn_buf_addf(&b, "%s%s", b.len ? " " : "", p->n[p->order[k]].name);
	tn_free(picked);
	s = tn_buf_detach(&b, NULL);
	return s ? s : tn_strdup("");
}

/* Sort the words of s (selection results do not depend on a tie order). */
static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void selects(const struct tf_project *p, const char *sel, const char *want)
{
	char *got = selected(p, sel), *w[32], *save = NULL, *t;
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t n = 0, k;

	for (t = strtok_r(got, " ", &save); t && n < 32; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	qsort(w, n, sizeof(w[0]), cmpstr);
	for (k = 0; k < n; k++)
		tn_buf_addf(&b, "%s%s", k ? " " : "", w[k]);
	if (strcmp(b.len ? b.buf : "", want))
		fail_msg("select <%s>: got <%s>, want <%s>", sel, b.len ? b.buf : "", want);
	tn_buf_release(&b);
	tn_free(got);
}

static void write_project(const char *root)
{
	put(root, "tarn.yml", "name: u\nvars: {n: 2}\nmodels:\n  gold:\n    +tags: [g]\n");
	put(root, "models/bronze/a.sql", "SELECT {{ var('n') }} AS n\n");
	/* c is read only on incremental runs: still a dependency */
	put(root, "models/silver/b.sql",
	    "{{ config(materialized='incremental', unique_key='n', tags=['t1']) }}\n"
	    "SELECT * FROM {{ ref('a') }}\n"
	    "{% if is_incremental() %}\n"
	    "WHERE n > (SELECT max(n) FROM {{ this }}) AND n NOT IN (SELECT n FROM {{ ref('c') }})\n"
	    "{% endif %}\n");
	put(root, "models/silver/c.sql", "SELECT * FROM {{ ref('a') }}\n");
	put(root, "models/gold/e.sql", "{{ config(materialized='ephemeral') }}SELECT n FROM {{ ref('c') }}\n");
	put(root, "models/gold/d.sql",
	    "{{ config(schema='mart') }}SELECT * FROM {{ ref('e') }} JOIN {{ ref('b') }} USING (n)\n");
	put(root, "models/gold/d.yml",
	    "version: 2\nmodels:\n  - name: d\n    description: the d model\n"
	    "    columns:\n      - name: n\n        description: a number\n        tests: [unique, not_null]\n");
}

static void test_project_load(void **state)
{
	char *root = mkproject(), *sql;
	struct tf_project p;
	struct tn_err err = TN_ERR_INIT;
	size_t b, d;

	(void)state;
	write_project(root);
	memset(&p, 0, sizeof(p));
	if (tf_load(&p, root, NULL, &err))
		fail_msg("load: %s", err.msg);
	assert_int_equal(p.nn, 5);
	assert_string_equal(p.name, "u");
	b = find(&p, "b");
	d = find(&p, "d");
	assert_string_equal(p.n[find(&p, "a")].schema, "bronze");
	assert_string_equal(p.n[b].schema, "silver");
	assert_string_equal(p.n[d].schema, "mart");
	assert_string_equal(p.n[b].path, "models/silver/b.sql");
	assert_int_equal(p.n[b].mat, TF_INCREMENTAL);
	assert_string_equal(p.n[b].unique_key, "n");
	assert_int_equal(p.n[b].ntags, 1);
	assert_string_equal(p.n[b].tags[0], "t1");
	assert_int_equal(p.n[find(&p, "e")].mat, TF_EPHEMERAL);
	assert_int_equal(p.n[find(&p, "c")].mat, TF_VIEW);   /* the default, as in dbt */
	assert_string_equal(p.n[d].description, "the d model");
	assert_true(json_is_array(p.n[d].columns));
	assert_int_equal(p.n[b].ndeps, 2);

	/* every node after what it reads, c before b though only the
	 * incremental branch reads it */
	assert_true(pos(&p, "a") < pos(&p, "b"));
	assert_true(pos(&p, "a") < pos(&p, "c"));
	assert_true(pos(&p, "c") < pos(&p, "b"));
	assert_true(pos(&p, "c") < pos(&p, "e"));
	assert_true(pos(&p, "e") < pos(&p, "d"));
	assert_true(pos(&p, "b") < pos(&p, "d"));

	sql = render_node(&p, "a", 0);
	assert_string_equal(sql, "SELECT 2 AS n");
	tn_free(sql);
	sql = render_node(&p, "b", 0);
	assert_non_null(strstr(sql, "FROM \"bronze\".\"a\""));
	assert_null(strstr(sql, "WHERE"));
	tn_free(sql);
	sql = render_node(&p, "b", 1);
	assert_non_null(strstr(sql, "max(n) FROM \"silver\".\"b\""));
	assert_non_null(strstr(sql, "SELECT n FROM \"silver\".\"c\""));
	tn_free(sql);
	sql = render_node(&p, "d", 0);
	assert_true(!strncmp(sql, "WITH \"__tarn_eph_e\" AS (", 24));
	assert_non_null(strstr(sql, "FROM \"silver\".\"c\""));
	assert_non_null(strstr(sql, "JOIN \"silver\".\"b\""));
	tn_free(sql);
	tf_release(&p);

	/* --vars override tarn.yml */
	memset(&p, 0, sizeof(p));
	assert_int_equal(tf_load(&p, root, "{\"n\": 40}", &err), 0);
	sql = render_node(&p, "a", 0);
	assert_string_equal(sql, "SELECT 40 AS n");
	tn_free(sql);
	tf_release(&p);
	rmproject(root);
}

static void test_project_select(void **state)
{
	char *root = mkproject(), *picked;
	struct tf_project p;
	struct tn_err err = TN_ERR_INIT;

	(void)state;
	write_project(root);
	memset(&p, 0, sizeof(p));
	assert_int_equal(tf_load(&p, root, NULL, &err), 0);
	selects(&p, NULL, "a b c d e");
	selects(&p, "b", "b");
	selects(&p, "+b", "a b c");
	selects(&p, "c+", "b c d e");
	selects(&p, "+e+", "a c d e");
	selects(&p, "path:models/silver", "b c");
	selects(&p, "path:models/silver/", "b c");
	selects(&p, "tag:t1", "b");
	selects(&p, "tag:g", "d e");
	selects(&p, "a tag:t1", "a b");
	picked = tn_calloc(p.nn + 1, 1);
	assert_int_equal(tf_select(&p, "nosuch", picked, &err), TN_ENOTFOUND);
	assert_non_null(strstr(err.msg, "nosuch"));
	tn_err_clear(&err);
	assert_int_equal(tf_select(&p, "path:models/silv", picked, &err), TN_ENOTFOUND);
	tn_err_clear(&err);
	assert_int_equal(tf_select(&p, "tag:none", picked, &err), TN_ENOTFOUND);
	tn_free(picked);
	tf_release(&p);
	rmproject(root);
}

static void load_fails(const char *root, const char *needle)
{
	struct tf_project p;
	struct tn_err err = TN_ERR_INIT;

	memset(&p, 0, sizeof(p));
	if (!tf_load(&p, root, NULL, &err))
		fail_msg("load of %s succeeded, want <%s>", root, needle);
	if (!strstr(err.msg, needle))
		fail_msg("load: message <%s> lacks <%s>", err.msg, needle);
	tf_release(&p);
}

static void test_project_errors(void **state)
{
	char *root = mkproject();

	(void)state;
	put(root, "tarn.yml", "name: c\n");
	put(root, "models/x.sql", "SELECT * FROM {{ ref('y') }}");
	put(root, "models/y.sql", "SELECT * FROM {{ ref('z') }}");
	put(root, "models/z.sql", "SELECT * FROM {{ ref('x') }}");
	put(root, "models/w.sql", "SELECT * FROM {{ ref('x') }}");
	load_fails(root, "cycle");
	{
		struct tf_project p;
		struct tn_err err = TN_ERR_INIT;
		memset(&p, 0, sizeof(p));
		assert_int_equal(tf_load(&p, root, NULL, &err), TN_EINVAL);
		assert_true(strstr(err.msg, "x -> y -> z -> x") || strstr(err.msg, "y -> z -> x -> y") ||
			    strstr(err.msg, "z -> x -> y -> z"));
		assert_null(strstr(err.msg, "w"));   /* only the cycle, not what leads to it */
		tf_release(&p);
	}
	put(root, "models/z.sql", "SELECT * FROM {{ ref('z') }}");
	load_fails(root, "z -> z");
	put(root, "models/z.sql", "SELECT 1 AS n\n{% if is_incremental() %}\n{{ reff('x') }}\n{% endif %}\n");
	load_fails(root, "models/z.sql:3: unknown template syntax");
	put(root, "models/z.sql", "SELECT 1 AS n\n{% if is_incremental() %}\n{{ ref('nosuch') }}\n{% endif %}\n");
	load_fails(root, "models/z.sql:3");
	put(root, "models/z.sql", "SELECT * FROM {{ source('raw', 'orders') }}");
	load_fails(root, "no source 'raw'");
	put(root, "models/z.sql", "{{ config(materialized='snapshot') }}SELECT 1");
	load_fails(root, "snapshot");
	rmproject(root);
}

static void test_find_root(void **state)
{
	char *root = mkproject(), *sub, *found = NULL, cwd[4096];
	struct tn_err err = TN_ERR_INIT;
	int rc;

	(void)state;
	put(root, "tarn.yml", "name: r\n");
	put(root, "models/silver/deep/x.sql", "SELECT 1");
	sub = tn_xprintf("%s/models/silver/deep", root);
	/* from the working folder upward */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(sub), 0);
	rc = tf_find_root(NULL, &found, &err);
	assert_int_equal(chdir(cwd), 0);
	if (rc)
		fail_msg("find_root from %s: %s", sub, err.msg);
	assert_true(strstr(found, strrchr(root, '/')) && !strcmp(strrchr(found, '/'), strrchr(root, '/')));
	tn_free(found);
	found = NULL;
	/* --project names the folder itself: no walking up from it */
	assert_int_equal(tf_find_root(sub, &found, &err), TN_ENOTFOUND);
	assert_null(found);
	assert_non_null(strstr(err.msg, "tarn project init"));
	tn_err_clear(&err);
	assert_int_equal(tf_find_root(root, &found, &err), 0);
	assert_string_equal(found, root);
	tn_free(found);
	tn_free(sub);
	rmproject(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_constructs),
		cmocka_unit_test(test_render_errors),
		cmocka_unit_test(test_render_var_error_has_line),
		cmocka_unit_test(test_render_all_branches),
		cmocka_unit_test(test_project_load),
		cmocka_unit_test(test_project_select),
		cmocka_unit_test(test_project_errors),
		cmocka_unit_test(test_find_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
