/*
 * project.c: reading a project folder into nodes (models, seeds), their
 * YAML descriptions and the dependency graph.
 */
#include "base/compat.h"
#include "transform/project.h"
#include "transform/tmpl.h"
#include "transform/yamljson.h"
#include "ingest/ingest.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define NONE ((size_t)-1)

/* ---- files ---- */

struct names {
	char **v;
	size_t n, alloc;
};

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		tn_free(l->v[i]);
	tn_free(l->v);
	memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files under root/rel ending in `ext`, as paths relative to root, sorted;
 * hidden files and folders are left out. The walk is the raw zone's
 * (ingest_files): one way to list a tree. */
static void walk(const char *root, const char *rel, const char *ext, struct names *out)
{
	char *dir = tn_xprintf("%s/%s", root, rel), **files = NULL;
	struct tn_err ignore = TN_ERR_INIT;
	size_t n = 0, i, ne = strlen(ext);

	if (tn_fs_is_dir(dir) && !ingest_files(dir, &files, &n, &ignore)) {
		for (i = 0; i < n; i++) {
			size_t len = strlen(files[i]);
			int hidden = files[i][0] == '.' || strstr(files[i], "/.") != NULL;
			if (!hidden && len > ne && !strcmp(files[i] + len - ne, ext)) {
				TN_GROW(out->v, out->alloc, out->n + 1);
				out->v[out->n++] = tn_xprintf("%s/%s", rel, files[i]);
			}
			tn_free(files[i]);
		}
		tn_free(files);
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(char *), cmp_str);
	tn_free(dir);
}

int tf_find_root(const char *dir, char **root, struct tn_err *err)
{
	char *cur = tn_fs_abspath(dir ? dir : ".");

	*root = NULL;
	while (cur) {
		char *yml = tn_xprintf("%s/tarn.yml", cur), *slash;
		int found = tn_fs_exists(yml);
		tn_free(yml);
		if (found) {
			*root = cur;
			return 0;
		}
		if (dir)
			break;  /* --project names the folder itself */
		slash = strrchr(cur, '/');
		if (!slash || slash == cur)
			break;
		*slash = '\0';
	}
	tn_free(cur);
	return tn_err_set(err, TN_ENOTFOUND, "no tarn.yml in %s%s (run `tarn project init DIR`, or pass "
			  "--project DIR)", dir ? dir : "this folder", dir ? "" : " or above");
}

/* ---- nodes ---- */

const char *tf_kind_name(enum tf_kind k)
{
	return k == TF_SEED ? "seed" : k == TF_SNAPSHOT ? "snapshot" : "model";
}

void tf_strip_snapshot_block(char *text)
{
	static const char *tags[] = { "snapshot", "endsnapshot" };
	size_t i;

	for (i = 0; i < 2; i++) {
		char *p = text;
		while ((p = strstr(p, "{%")) != NULL) {
			char *q = p + 2, *end;
			size_t l = strlen(tags[i]);
			while (*q == ' ' || *q == '-')
				q++;
			end = strstr(p, "%}");
			if (end && !strncmp(q, tags[i], l) && (q[l] == ' ' || q[l] == '%' || q[l] == '-')) {
				for (; p < end + 2; p++)
					if (*p != '\n')
						*p = ' ';
			} else {
				p += 2;
			}
		}
	}
}

size_t tf_find(const struct tf_project *p, const char *name)
{
	for (size_t i = 0; i < p->nn; i++)
		if (!strcmp(p->n[i].name, name))
			return i;
	return NONE;
}

static struct tf_node *add_node(struct tf_project *p, enum tf_kind kind, const char *path)
{
	const char *base = strrchr(path, '/');
	struct tf_node *n;

	base = base ? base + 1 : path;
	p->n = tn_realloc(p->n, (p->nn + 1) * sizeof(*p->n));
	n = &p->n[p->nn++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->path = tn_strdup(path);
	n->name = tn_strndup(base, strrchr(base, '.') ? (size_t)(strrchr(base, '.') - base) : strlen(base));
	n->mat = kind == TF_SEED ? TF_TABLE : TF_VIEW;
	return n;
}

static void node_free(struct tf_node *n)
{
	size_t i;

	tn_free(n->name);
	tn_free(n->path);
	tn_free(n->sql);
	tn_free(n->schema);
	tn_free(n->unique_key);
	tn_free(n->description);
	for (i = 0; i < n->ntags; i++)
		tn_free(n->tags[i]);
	tn_free(n->tags);
	json_decref(n->columns);
	tn_free(n->deps);
	for (i = 0; i < n->nsources; i++)
		tn_free(n->sources[i]);
	tn_free(n->sources);
}

void tf_release(struct tf_project *p)
{
	size_t i;

	for (i = 0; i < p->nn; i++)
		node_free(&p->n[i]);
	tn_free(p->n);
	tn_free(p->order);
	for (i = 0; i < p->ntests; i++)
		tn_free(p->tests[i]);
	tn_free(p->tests);
	tn_free(p->root);
	tn_free(p->name);
	json_decref(p->vars);
	json_decref(p->sources);
	memset(p, 0, sizeof(*p));
}

/* ---- configuration ---- */

static int set_mat(struct tf_node *n, const char *v, struct tn_err *err)
{
	if (!strcmp(v, "table"))
		n->mat = TF_TABLE;
	else if (!strcmp(v, "view"))
		n->mat = TF_VIEW;
	else if (!strcmp(v, "incremental"))
		n->mat = TF_INCREMENTAL;
	else if (!strcmp(v, "ephemeral"))
		n->mat = TF_EPHEMERAL;
	else
		return tn_err_set(err, TN_EINVAL, "%s: materialized='%s' is not table, view, incremental or "
				  "ephemeral", n->path, v);
	return 0;
}

static void add_tag(struct tf_node *n, const char *t)
{
	n->tags = tn_realloc(n->tags, (n->ntags + 1) * sizeof(char *));
	n->tags[n->ntags++] = tn_strdup(t);
}

/* Apply a config object (dbt keys, with or without the '+' of folder
 * configs) to a node. */
static int apply_config(struct tf_node *n, json_t *cfg, struct tn_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(cfg, key, v) {
		const char *k = key[0] == '+' ? key + 1 : key;
		const char *s = json_string_value(v);
		if (!strcmp(k, "materialized") && s) {
			if (set_mat(n, s, err))
				return TN_EINVAL;
		} else if ((!strcmp(k, "schema") || (!strcmp(k, "target_schema") && n->kind == TF_SNAPSHOT)) && s) {
			tn_free(n->schema);
			n->schema = tn_strdup(s);
		} else if (!strcmp(k, "unique_key") && s) {
			tn_free(n->unique_key);
			n->unique_key = tn_strdup(s);
		} else if (!strcmp(k, "tags")) {
			size_t i;
			json_t *t;
			if (s)
				add_tag(n, s);
			json_array_foreach(v, i, t)
				if (json_is_string(t))
					add_tag(n, json_string_value(t));
		}
		/* other dbt keys (alias, enabled, ...) are left for later */
	}
	return 0;
}

/* tarn.yml `models:` folder configs: {silver: {+materialized: table}}
 * apply to models under models/silver/ (deeper folders nest). */
static int folder_config(struct tf_node *n, json_t *models, struct tn_err *err)
{
	char *rel = tn_strdup(n->path + strlen("models/")), *seg, *save = NULL;
	json_t *level = models;
	int rc = 0;

	if (strrchr(rel, '/'))
		*strrchr(rel, '/') = '\0';
	else
		rel[0] = '\0';
	rc = apply_config(n, level, err);
	for (seg = strtok_r(rel, "/", &save); !rc && seg; seg = strtok_r(NULL, "/", &save)) {
		level = json_object_get(level, seg);
		if (!json_is_object(level))
			break;
		rc = apply_config(n, level, err);
	}
	tn_free(rel);
	return rc;
}

/* ---- YAML schema files ---- */

static int yaml_models(struct tf_project *p, const char *file, json_t *models, struct tn_err *err)
{
	size_t i;
	json_t *m;

	json_array_foreach(models, i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));
		size_t k = name ? tf_find(p, name) : NONE;
		json_t *cfg = json_object_get(m, "config");
		if (!name)
			return tn_err_set(err, TN_EINVAL, "%s: a model entry has no name", file);
		if (k == NONE)
			return tn_err_set(err, TN_ENOTFOUND, "%s: describes model '%s', which has no .sql file", file,
					  name);
		if (json_is_string(json_object_get(m, "description"))) {
			tn_free(p->n[k].description);
			p->n[k].description = tn_strdup(json_string_value(json_object_get(m, "description")));
		}
		if (json_is_array(json_object_get(m, "columns"))) {
			json_decref(p->n[k].columns);
			p->n[k].columns = json_incref(json_object_get(m, "columns"));
		}
		if (json_is_object(cfg) && apply_config(&p->n[k], cfg, err))
			return TN_EINVAL;
	}
	return 0;
}

/* sources: [{name, schema, description, meta, tables: [{name, ...}]}] into
 * p->sources as {name: {schema, meta, tables: {t: entry}}}. */
static void yaml_sources(struct tf_project *p, json_t *sources)
{
	size_t i, k;
	json_t *s, *t;

	json_array_foreach(sources, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		json_t *entry, *tables;
		if (!name)
			continue;
		entry = json_deep_copy(s);
		tables = json_object();
		json_array_foreach(json_object_get(s, "tables"), k, t)
			if (json_string_value(json_object_get(t, "name")))
				json_object_set(tables, json_string_value(json_object_get(t, "name")), t);
		json_object_set_new(entry, "tables", tables);
		if (!json_is_string(json_object_get(entry, "schema")))
			json_object_set_new(entry, "schema", json_string(name));
		json_object_set_new(p->sources, name, entry);
	}
}

/* ---- dependencies, by rendering once ---- */

struct collect {
	struct tf_project *p;
	struct tf_node *n;
	struct tn_err *err;
};

static int c_ref(void *arg, const char *name, struct tn_buf *out, struct tn_err *err)
{
	struct collect *c = arg;
	size_t k = tf_find(c->p, name), i;

	if (k == NONE)
		return tn_err_set(err, TN_ENOTFOUND, "ref('%s'): no model, seed or snapshot of that name", name);
	for (i = 0; i < c->n->ndeps && c->n->deps[i] != k; i++)
		;
	if (i == c->n->ndeps) {
		c->n->deps = tn_realloc(c->n->deps, (c->n->ndeps + 1) * sizeof(size_t));
		c->n->deps[c->n->ndeps++] = k;
	}
	tn_buf_adds(out, name);
	return 0;
}

static int c_source(void *arg, const char *src, const char *table, struct tn_buf *out, struct tn_err *err)
{
	struct collect *c = arg;
	json_t *s = json_object_get(c->p->sources, src);
	char *key;

	if (!s)
		return tn_err_set(err, TN_ENOTFOUND, "source('%s', '%s'): no source '%s' in the project's YAML",
				  src, table, src);
	if (!json_object_get(json_object_get(s, "tables"), table))
		return tn_err_set(err, TN_ENOTFOUND, "source('%s', '%s'): source '%s' has no table '%s'", src,
				  table, src, table);
	key = tn_xprintf("%s.%s", src, table);
	c->n->sources = tn_realloc(c->n->sources, (c->n->nsources + 1) * sizeof(char *));
	c->n->sources[c->n->nsources++] = key;
	tn_buf_adds(out, key);
	return 0;
}

static int var_value(const struct tf_project *p, const char *name, const char *dflt, struct tn_buf *out,
		     struct tn_err *err)
{
	json_t *v = json_object_get(p->vars, name);

	if (!v && dflt) {
		tn_buf_adds(out, dflt);
		return 0;
	}
	if (!v)
		return tn_err_set(err, TN_ENOTFOUND, "var('%s') is not set (tarn.yml vars:, or --vars) and has "
				  "no default", name);
	if (json_is_string(v)) {
		tn_buf_adds(out, json_string_value(v));
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		tn_buf_adds(out, s ? s : "");
		free(s);
	}
	return 0;
}

static int c_var(void *arg, const char *name, const char *dflt, struct tn_buf *out, struct tn_err *err)
{
	struct collect *c = arg;

	return var_value(c->p, name, dflt, out, err);
}

static int c_config(void *arg, json_t *cfg, struct tn_err *err)
{
	struct collect *c = arg;

	return apply_config(c->n, cfg, err);
}

static int collect_node(struct tf_project *p, size_t i, struct tn_err *err)
{
	struct collect c = { p, &p->n[i], err };
	struct tmpl_env env = { &c, "this", 0, c_ref, c_source, c_var, c_config };
	struct tn_buf out = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc = tmpl_collect(&env, p->n[i].path, p->n[i].sql, &out, err);

	tn_buf_release(&out);
	return rc;
}

/* ---- order ---- */

/* Depth-first topological sort; a node met again while open is a cycle,
 * reported as the path around it. */
static int visit(struct tf_project *p, size_t i, char *state, size_t *stack, size_t depth, size_t *no,
		 struct tn_err *err)
{
	size_t k;

	if (state[i] == 2)
		return 0;
	stack[depth] = i;
	if (state[i] == 1) {
		struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
		size_t from = 0;
		for (k = 0; k < depth; k++)
			if (stack[k] == i)
				from = k;
		for (k = from; k <= depth; k++)
			tn_buf_addf(&b, "%s%s", k > from ? " -> " : "", p->n[stack[k]].name);
		tn_err_set(err, TN_EINVAL, "the models form a cycle: %s (a model cannot depend on itself)",
			   b.buf);
		tn_buf_release(&b);
		return TN_EINVAL;
	}
	state[i] = 1;
	for (k = 0; k < p->n[i].ndeps; k++)
		if (visit(p, p->n[i].deps[k], state, stack, depth + 1, no, err))
			return TN_EINVAL;
	state[i] = 2;
	p->order[(*no)++] = i;
	return 0;
}

static int sort_nodes(struct tf_project *p, struct tn_err *err)
{
	char *state = tn_calloc(p->nn + 1, 1);
	size_t *stack = tn_calloc(p->nn + 2, sizeof(size_t)), no = 0, i;
	int rc = 0;

	p->order = tn_calloc(p->nn + 1, sizeof(size_t));
	for (i = 0; !rc && i < p->nn; i++)
		rc = visit(p, i, state, stack, 0, &no, err);
	tn_free(state);
	tn_free(stack);
	return rc;
}

/* ---- loading ---- */

static int load_yml(struct tf_project *p, const char *rel, struct tn_err *err)
{
	char *path = tn_xprintf("%s/%s", p->root, rel);
	json_t *doc = NULL;
	int rc = tf_yaml_load(path, &doc, err);

	tn_free(path);
	if (!rc && json_is_array(json_object_get(doc, "sources")))
		yaml_sources(p, json_object_get(doc, "sources"));
	json_decref(doc);
	return rc;
}

static int load_yml_models(struct tf_project *p, const char *rel, struct tn_err *err)
{
	char *path = tn_xprintf("%s/%s", p->root, rel);
	json_t *doc = NULL;
	int rc = tf_yaml_load(path, &doc, err);

	tn_free(path);
	if (!rc && json_is_array(json_object_get(doc, "models")))
		rc = yaml_models(p, rel, json_object_get(doc, "models"), err);
	json_decref(doc);
	return rc;
}

/* snapshots/NAME.sql: nodes like models, in schema `snapshots` unless
 * their config says target_schema (or schema). */
static int read_snapshots(struct tf_project *p, struct tn_err *err)
{
	struct names sql = { 0 };
	size_t i;
	int rc = 0;

	walk(p->root, "snapshots", ".sql", &sql);
	for (i = 0; !rc && i < sql.n; i++) {
		char *path = tn_xprintf("%s/%s", p->root, sql.v[i]);
		struct tf_node *n = add_node(p, TF_SNAPSHOT, sql.v[i]);
		size_t len, k = tf_find(p, n->name);
		if (k != p->nn - 1)
			rc = tn_err_set(err, TN_EINVAL, "%s and %s are both named '%s': models, seeds and snapshots "
					"share one namespace", p->n[k].path, n->path, n->name);
		else
			rc = tn_fs_read_all(path, &n->sql, &len, err);
		if (!rc)
			tf_strip_snapshot_block(n->sql);
		n->schema = tn_strdup("snapshots");
		n->mat = TF_TABLE;
		tn_free(path);
	}
	names_free(&sql);
	return rc;
}

static int read_models(struct tf_project *p, json_t *cfg, struct tn_err *err)
{
	struct names sql = { 0 }, yml = { 0 };
	json_t *mcfg = json_object_get(cfg, "models");
	size_t i;
	int rc = 0;

	walk(p->root, "models", ".sql", &sql);
	walk(p->root, "models", ".yml", &yml);
	walk(p->root, "models", ".yaml", &yml);
	for (i = 0; !rc && i < sql.n; i++) {
		struct tf_node *n;
		char *path = tn_xprintf("%s/%s", p->root, sql.v[i]), *first;
		size_t len;
		n = add_node(p, TF_MODEL, sql.v[i]);
		if (tf_find(p, n->name) != p->nn - 1) {
			rc = tn_err_set(err, TN_EINVAL, "two models are named '%s' (%s and %s): model names must "
					"be unique", n->name, p->n[tf_find(p, n->name)].path, n->path);
		} else {
			rc = tn_fs_read_all(path, &n->sql, &len, err);
		}
		/* The folder right under models/ is the schema (models/x.sql: main). */
		first = tn_strdup(sql.v[i] + strlen("models/"));
		if (strchr(first, '/')) {
			*strchr(first, '/') = '\0';
		} else {
			tn_free(first);
			first = tn_strdup("main");
		}
		n->schema = first;
		if (!rc && json_is_object(mcfg))
			rc = folder_config(n, mcfg, err);
		tn_free(path);
	}
	for (i = 0; !rc && i < yml.n; i++)
		rc = load_yml(p, yml.v[i], err);
	names_free(&sql);
	if (!rc) {
		/* seeds are nodes too, so YAML may describe them and models ref them */
		struct names csv = { 0 };
		json_t *scfg = json_object_get(cfg, "seeds");
		walk(p->root, "seeds", ".csv", &csv);
		for (i = 0; !rc && i < csv.n; i++) {
			struct tf_node *n = add_node(p, TF_SEED, csv.v[i]);
			n->schema = tn_strdup("main");
			if (json_is_object(scfg))
				rc = apply_config(n, scfg, err);
			n->mat = TF_TABLE;
		}
		names_free(&csv);
	}
	if (!rc)
		rc = read_snapshots(p, err);
	for (i = 0; !rc && i < yml.n; i++)
		rc = load_yml_models(p, yml.v[i], err);
	names_free(&yml);
	return rc;
}

int tf_load(struct tf_project *p, const char *root, const char *vars, struct tn_err *err)
{
	char *path = tn_xprintf("%s/tarn.yml", root);
	json_t *cfg = NULL;
	struct names tests = { 0 };
	size_t i;
	int rc = tf_yaml_load(path, &cfg, err);

	memset(p, 0, sizeof(*p));
	tn_free(path);
	if (rc)
		return rc;
	p->root = tn_strdup(root);
	p->name = tn_strdup(json_string_value(json_object_get(cfg, "name")) ?
			    json_string_value(json_object_get(cfg, "name")) : "project");
	p->vars = json_is_object(json_object_get(cfg, "vars")) ? json_deep_copy(json_object_get(cfg, "vars")) :
		json_object();
	p->sources = json_object();
	if (vars) {
		json_error_t je;
		json_t *v = json_loads(vars, 0, &je);
		if (!json_is_object(v))
			rc = tn_err_set(err, TN_EINVAL, "--vars must be a JSON object, like '{\"since\": \"2024-01-01\"}'");
		else
			json_object_update(p->vars, v);
		json_decref(v);
	}
	if (!rc)
		rc = read_models(p, cfg, err);
	for (i = 0; !rc && i < p->nn; i++)
		if (p->n[i].kind != TF_SEED)
			rc = collect_node(p, i, err);
	if (!rc)
		rc = sort_nodes(p, err);
	if (!rc) {
		walk(p->root, "tests", ".sql", &tests);
		p->tests = tests.v;
		p->ntests = tests.n;
	}
	json_decref(cfg);
	if (rc)
		tf_release(p);
	return rc;
}

/* ---- relations and rendering ---- */

static char *quoted(const char *schema, const char *name)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);

	tn_buf_add_sqlid(&b, schema);
	tn_buf_addc(&b, '.');
	tn_buf_add_sqlid(&b, name);
	return tn_buf_detach(&b, NULL);
}

char *tf_relation(const struct tf_project *p, size_t i)
{
	return quoted(p->n[i].schema, p->n[i].name);
}

char *tf_source_relation(const struct tf_project *p, const char *source, const char *table)
{
	json_t *s = json_object_get(p->sources, source);
	json_t *t = json_object_get(json_object_get(s, "tables"), table);
	const char *ident = json_string_value(json_object_get(t, "identifier"));

	if (!s || !t)
		return NULL;
	return quoted(json_string_value(json_object_get(s, "schema")), ident ? ident : table);
}

struct runr {
	const struct tf_project *p;
	struct tn_buf *ctes;   /* ephemeral models, as "name AS (sql), " */
	char *done;            /* ephemerals already in ctes */
	int depth;
};

static int render_with(const struct tf_project *p, const char *file, const char *text, const char *this_rel,
		       int incremental, struct runr *rr, struct tn_buf *out, struct tn_err *err);

static int r_ref(void *arg, const char *name, struct tn_buf *out, struct tn_err *err)
{
	struct runr *rr = arg;
	size_t k = tf_find(rr->p, name);

	if (k == NONE)
		return tn_err_set(err, TN_ENOTFOUND, "ref('%s'): no model, seed or snapshot of that name", name);
	if (rr->p->n[k].mat == TF_EPHEMERAL && rr->p->n[k].kind == TF_MODEL) {
		char *cte = tn_xprintf("__tarn_eph_%s", name);
		if (!rr->done[k]) {
			struct tn_buf body = TN_BUF_INIT(TN_BUF_NOMAX);
			int rc;
			if (rr->depth > 64)
				return tn_err_set(err, TN_EINVAL, "ephemeral models nested too deeply at '%s'", name);
			rr->depth++;
			rc = render_with(rr->p, rr->p->n[k].path, rr->p->n[k].sql, NULL, 0, rr, &body, err);
			rr->depth--;
			if (rc) {
				tn_buf_release(&body);
				tn_free(cte);
				return rc;
			}
			rr->done[k] = 1;
			tn_buf_add_sqlid(rr->ctes, cte);
			tn_buf_addf(rr->ctes, " AS (%s\n), ", body.buf ? body.buf : "");
			tn_buf_release(&body);
		}
		tn_buf_add_sqlid(out, cte);
		tn_free(cte);
		return 0;
	}
	{
		char *rel = tf_relation(rr->p, k);
		tn_buf_adds(out, rel);
		tn_free(rel);
	}
	return 0;
}

static int r_source(void *arg, const char *src, const char *table, struct tn_buf *out, struct tn_err *err)
{
	struct runr *rr = arg;
	char *rel = tf_source_relation(rr->p, src, table);

	if (!rel)
		return tn_err_set(err, TN_ENOTFOUND, "source('%s', '%s') is not declared in the project's YAML",
				  src, table);
	tn_buf_adds(out, rel);
	tn_free(rel);
	return 0;
}

static int r_var(void *arg, const char *name, const char *dflt, struct tn_buf *out, struct tn_err *err)
{
	struct runr *rr = arg;

	return var_value(rr->p, name, dflt, out, err);
}

static int render_with(const struct tf_project *p, const char *file, const char *text, const char *this_rel,
		       int incremental, struct runr *rr, struct tn_buf *out, struct tn_err *err)
{
	struct tmpl_env env = { rr, this_rel, incremental, r_ref, r_source, r_var, NULL };

	(void)p;
	return tmpl_render(&env, file, text, out, err);
}

/* Drop trailing blanks and semicolons: the text is embedded in statements. */
static void trim_sql(struct tn_buf *b)
{
	while (b->len && (strchr(" \t\r\n;", b->buf[b->len - 1])))
		tn_buf_truncate(b, b->len - 1);
}

static int render_full(const struct tf_project *p, const char *file, const char *text, const char *this_rel,
		       int incremental, char **sql, struct tn_err *err)
{
	struct tn_buf body = TN_BUF_INIT(TN_BUF_NOMAX), ctes = TN_BUF_INIT(TN_BUF_NOMAX);
	struct runr rr = { p, &ctes, tn_calloc(p->nn + 1, 1), 0 };
	int rc = render_with(p, file, text, this_rel, incremental, &rr, &body, err);

	*sql = NULL;
	if (!rc) {
		trim_sql(&body);
		if (ctes.len) {
			struct tn_buf all = TN_BUF_INIT(TN_BUF_NOMAX);
			tn_buf_truncate(&ctes, ctes.len - 2);  /* the last ", " */
			tn_buf_addf(&all, "WITH %s\nSELECT * FROM (\n%s\n) AS __tarn_model", ctes.buf, body.buf);
			*sql = tn_buf_detach(&all, NULL);
		} else {
			*sql = tn_buf_detach(&body, NULL);
			if (!*sql)
				*sql = tn_strdup("");
		}
	}
	tn_buf_release(&body);
	tn_buf_release(&ctes);
	tn_free(rr.done);
	return rc;
}

int tf_render_node(const struct tf_project *p, size_t i, const struct tf_render_opts *o, char **sql,
		   struct tn_err *err)
{
	char *self = tf_relation(p, i);
	int rc = render_full(p, p->n[i].path, p->n[i].sql, self, o && o->incremental, sql, err);

	tn_free(self);
	return rc;
}

int tf_render_text(const struct tf_project *p, const char *file, const char *text, char **sql,
		   struct tn_err *err)
{
	return render_full(p, file, text, NULL, 0, sql, err);
}

/* ---- selection ---- */

void tf_descendants(const struct tf_project *p, size_t i, char *mark)
{
	size_t k, d;

	/* p->order puts every node after what it depends on: one pass. */
	mark[i] = 1;
	for (k = 0; k < p->nn; k++) {
		size_t j = p->order[k];
		for (d = 0; !mark[j] && d < p->n[j].ndeps; d++)
			if (mark[p->n[j].deps[d]])
				mark[j] = 1;
	}
}

void tf_ancestors(const struct tf_project *p, size_t i, char *mark)
{
	size_t d;

	if (mark[i])
		return;
	mark[i] = 1;
	for (d = 0; d < p->n[i].ndeps; d++)
		tf_ancestors(p, p->n[i].deps[d], mark);
}

/* Whether `term` ("source:s" or "source:s.t") names source table s.t. */
static int source_term_hits(const char *term, const char *src, const char *table)
{
	const char *want = term + 7;
	size_t sl = strlen(src);

	if (strncmp(want, src, sl))
		return 0;
	return want[sl] == '\0' || (want[sl] == '.' && !strcmp(want + sl + 1, table));
}

/* A source: term picks no node (source tests are chosen by
 * tf_source_selected); here it is only checked to name a source. */
static int check_source_term(const struct tf_project *p, const char *term, struct tn_err *err)
{
	const char *key, *tkey;
	json_t *s, *t;

	json_object_foreach(p->sources, key, s)
		json_object_foreach(json_object_get(s, "tables"), tkey, t)
			if (source_term_hits(term, key, tkey))
				return 0;
	return tn_err_set(err, TN_ENOTFOUND, "--select %s: no source or source table of that name in the project's "
			  "YAML", term);
}

int tf_source_selected(const char *sel, const char *src, const char *table)
{
	char *copy, *t, *save = NULL;
	int yes = 0;

	if (!sel)
		return 1;
	copy = tn_strdup(sel);
	for (t = strtok_r(copy, " ,", &save); !yes && t; t = strtok_r(NULL, " ,", &save))
		yes = !strncmp(t, "source:", 7) && source_term_hits(t, src, table);
	tn_free(copy);
	return yes;
}

struct collect_cfg {
	struct collect c;   /* first: the collect callbacks take it */
	json_t *cfg;        /* config() settings go here (NULL: ignored) */
};

static int cc_config(void *arg, json_t *cfg, struct tn_err *err)
{
	struct collect_cfg *cc = arg;

	(void)err;
	if (cc->cfg)
		json_object_update(cc->cfg, cfg);
	return 0;
}

/* The refs, sources and config() of a free-standing text, into n and cfg. */
static int collect_text(const struct tf_project *p, const char *file, const char *text, json_t *cfg,
			struct tf_node *n, struct tn_err *err)
{
	struct collect_cfg cc = { { (struct tf_project *)p, n, err }, cfg };
	struct tmpl_env env = { &cc, NULL, 0, c_ref, c_source, c_var, cc_config };
	struct tn_buf out = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	memset(n, 0, sizeof(*n));
	rc = tmpl_collect(&env, file, text, &out, err);
	tn_buf_release(&out);
	return rc;
}

int tf_text_deps(const struct tf_project *p, const char *file, const char *text, char *mark, char ***sources,
		 size_t *nsources, struct tn_err *err)
{
	struct tf_node n;
	int rc = collect_text(p, file, text, NULL, &n, err);
	size_t k;

	for (k = 0; k < n.ndeps; k++)
		mark[n.deps[k]] = 1;
	*sources = n.sources;
	*nsources = n.nsources;
	tn_free(n.deps);
	return rc;
}

int tf_text_config(const struct tf_project *p, const char *file, const char *text, json_t *cfg,
		   struct tn_err *err)
{
	struct tf_node n;
	int rc = collect_text(p, file, text, cfg, &n, err);
	size_t k;

	for (k = 0; k < n.nsources; k++)
		tn_free(n.sources[k]);
	tn_free(n.sources);
	tn_free(n.deps);
	return rc;
}

static int select_term(const struct tf_project *p, const char *term, char *picked, struct tn_err *err)
{
	size_t n = strlen(term), i, k;
	int up = term[0] == '+', down = n > 1 && term[n - 1] == '+';
	char *name;

	if (!strncmp(term, "source:", 7))
		return check_source_term(p, term, err);
	if (!strncmp(term, "path:", 5)) {
		const char *pre = term + 5;
		size_t pl = strlen(pre);
		int any = 0;
		while (pl && pre[pl - 1] == '/')
			pl--;
		for (i = 0; i < p->nn; i++)
			if (!strncmp(p->n[i].path, pre, pl) && (p->n[i].path[pl] == '/' || p->n[i].path[pl] == '\0'))
				picked[i] = any = 1;
		return any ? 0 : tn_err_set(err, TN_ENOTFOUND, "--select %s: no model under %.*s", term, (int)pl, pre);
	}
	if (!strncmp(term, "tag:", 4)) {
		int any = 0;
		for (i = 0; i < p->nn; i++)
			for (k = 0; k < p->n[i].ntags; k++)
				if (!strcmp(p->n[i].tags[k], term + 4))
					picked[i] = any = 1;
		return any ? 0 : tn_err_set(err, TN_ENOTFOUND, "--select %s: no model has tag '%s'", term, term + 4);
	}
	name = tn_strndup(term + up, n - up - down);
	i = tf_find(p, name);
	if (i == NONE) {
		int rc = tn_err_set(err, TN_ENOTFOUND, "--select %s: no model, seed or snapshot named '%s'", term, name);
		tn_free(name);
		return rc;
	}
	tn_free(name);
	picked[i] = 1;
	if (up || down) {
		char *mark = tn_calloc(p->nn + 1, 1);
		if (up)
			tf_ancestors(p, i, mark);
		for (k = 0; k < p->nn; k++)
			if (mark[k])
				picked[k] = 1;
		memset(mark, 0, p->nn + 1);
		if (down)
			tf_descendants(p, i, mark);
		for (k = 0; k < p->nn; k++)
			if (mark[k])
				picked[k] = 1;
		tn_free(mark);
	}
	return 0;
}

int tf_select(const struct tf_project *p, const char *sel, char *picked, struct tn_err *err)
{
	char *copy, *t, *save = NULL;
	int rc = 0;

	if (!sel) {
		memset(picked, 1, p->nn);
		return 0;
	}
	memset(picked, 0, p->nn);
	copy = tn_strdup(sel);
	for (t = strtok_r(copy, " ,", &save); !rc && t; t = strtok_r(NULL, " ,", &save))
		rc = select_term(p, t, picked, err);
	tn_free(copy);
	return rc;
}
