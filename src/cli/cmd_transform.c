/*
 * cmd_transform.c: `tarn run`, `build`, `test`, `seed`, `transform`,
 * `lineage` and `project init`: the dbt-style workflow over a project
 * folder (src/transform/). This file parses options and prints; the work
 * is in src/transform/run.c.
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "engine/duck.h"
#include "lake/lake.h"
#include "lake/session.h"
#include "transform/project.h"
#include "transform/run.h"
#include "transform/snapshot.h"
#include "transform/docs.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#define PROJECT_OPTS \
	"  --project DIR      the project folder (default: the folder holding tarn.yml,\n" \
	"                     from here upward)\n" \
	"  --vars JSON        override tarn.yml vars, e.g. '{\"since\": \"2024-01-01\"}'\n"
#define RUN_OPTS \
	"  --select SEL       nodes to run: NAME, +NAME (and upstream), NAME+ (and\n" \
	"                     downstream), path:models/silver, tag:T; several, space\n" \
	"                     separated, are a union (default: all)\n" \
	"  --threads N        build up to N independent models at once (default 4)\n" \
	"  --full-refresh     rebuild incremental models from scratch\n" \
	"  --format FMT       the summary as table, csv, json or jsonl\n"

const char cli_usage_run[] =
	"usage: tarn run [--select SEL] [--threads N] [--full-refresh] [--project DIR]\n"
	"\n"
	"Build the project's models in dependency order, each model one lake\n"
	"snapshot whose commit message names the run and the model. A model that\n"
	"fails skips its descendants; the others go on. The run is recorded in\n"
	"tarn_meta.runs and tarn_meta.run_models.\n"
	"\n" RUN_OPTS PROJECT_OPTS;

const char cli_usage_build[] =
	"usage: tarn build [--select SEL] [--threads N] [--full-refresh] [--project DIR]\n"
	"\n"
	"Seeds, snapshots, models and tests in graph order: each model's tests run\n"
	"right after it builds, and a failing test skips the model's descendants\n"
	"(a table model may start meanwhile; it commits only once they pass).\n"
	"Relationships and singular tests (tests/*.sql) run at the end. Writes\n"
	"target/run_results.json, as dbt does.\n"
	"\n" RUN_OPTS PROJECT_OPTS;

const char cli_usage_test[] =
	"usage: tarn test [--select SEL] [--project DIR]\n"
	"\n"
	"Run the generic tests declared in the project's YAML (unique, not_null,\n"
	"accepted_values, relationships) and the singular tests (tests/*.sql,\n"
	"queries that return failing rows). Failures show a sample of the rows.\n"
	"\n" RUN_OPTS PROJECT_OPTS;

const char cli_usage_seed[] =
	"usage: tarn seed [--select SEL] [--project DIR]\n"
	"\n"
	"Load seeds/*.csv as tables (schema: tarn.yml seeds: +schema, default main),\n"
	"each one snapshot.\n"
	"\n" RUN_OPTS PROJECT_OPTS;

const char cli_usage_transform[] =
	"usage: tarn transform DATASET [--threads N] [--full-refresh] [--project DIR]\n"
	"\n"
	"Build (and test) the models downstream of the sources whose YAML says\n"
	"meta: {dataset: DATASET}: what to run after `tarn load DATASET`.\n"
	"\n" RUN_OPTS PROJECT_OPTS;

const char cli_usage_snapshot[] =
	"usage: tarn snapshot [--select NAME] [--project DIR]\n"
	"\n"
	"Run the project's SCD2 snapshots (snapshots/NAME.sql): keep every version\n"
	"of every row of a query in <target_schema>.NAME with dbt_valid_from,\n"
	"dbt_valid_to (NULL for the current version), dbt_updated_at, dbt_scd_id\n"
	"and dbt_is_deleted. Config in the file: {{ config(unique_key='id',\n"
	"strategy='timestamp', updated_at='updated_at' | strategy='check',\n"
	"check_cols=['a', 'b'] or 'all', hard_deletes='ignore' | 'invalidate' |\n"
	"'new_record', target_schema='snapshots') }}. Each snapshot is one commit.\n"
	"\n"
	"  --select NAME      only this snapshot\n" PROJECT_OPTS;

const char cli_usage_docs[] =
	"usage: tarn docs [--out FILE] [--project DIR]\n"
	"\n"
	"Write one static HTML page (no network needed) with every model and seed:\n"
	"description, columns, tests, SQL, its last run, and the lineage graph.\n"
	"\n"
	"  --out FILE         where to write it (default: <project>/target/docs/index.html)\n"
	PROJECT_OPTS;

const char cli_usage_compile[] =
	"usage: tarn compile [--select SEL] [--tests] [--project DIR] [--vars JSON]\n"
	"\n"
	"Print the SQL each selected model runs, rendered, in graph order, as the\n"
	"statement a first (or full-refresh) run executes. Needs no lake: use it to\n"
	"check templates, or to run the same SQL elsewhere.\n"
	"\n"
	"  --tests            then the query of each test `tarn test` would run\n"
	"                     (the rows it returns are the failures)\n"
	"\n" PROJECT_OPTS;

const char cli_usage_lineage[] =
	"usage: tarn lineage MODEL [--mermaid | --dot | --format mermaid|dot] [--project DIR]\n"
	"\n"
	"Print what MODEL reads (upstream, with sources) and what reads it\n"
	"(downstream); --mermaid and --dot print the graph around it instead.\n"
	"\n" PROJECT_OPTS;

const char cli_usage_project[] =
	"usage: tarn project init DIR\n"
	"\n"
	"Write a new project: tarn.yml, models/bronze, models/silver, models/gold\n"
	"with an example model and its schema.yml, seeds/ and tests/.\n";

/* ---- common ---- */

struct topts {
	const char *project, *vars, *select, *dataset, *model;
	int threads, full_refresh, mermaid, dot, tests;
};

static int parse(struct cli *c, int argc, char **argv, struct topts *t, int want_arg)
{
	static const struct cli_opt opts[] = {
		{ "project", 0, 1 }, { "vars", 0, 1 }, { "select", 's', 1 }, { "threads", 0, 1 },
		{ "full-refresh", 0, 0 }, { "format", 0, 1 }, { "mermaid", 0, 0 }, { "dot", 0, 0 },
		{ "tests", 0, 0 },
	};
	struct cli_getopt g;
	int o;

	memset(t, 0, sizeof(*t));
	t->threads = 4;
	cli_getopt_init(&g, argc, argv, 1, c->cmd);
	while ((o = cli_getopt(&g, opts, TN_ARRAY_LEN(opts))) != CLI_OPT_END) {
		int64_t n;
		struct tn_err err = TN_ERR_INIT;
		switch (o) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			if (!want_arg || t->dataset)
				return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
			t->dataset = t->model = g.arg;
			break;
		case 0: t->project = g.arg; break;
		case 1: t->vars = g.arg; break;
		case 2: t->select = g.arg; break;
		case 3:
			if (tn_parse_int64(g.arg, &n, "--threads", &err) || n < 1 || n > 64)
				return cli_usage_error(c->cmd, "--threads must be a number from 1 to 64");
			t->threads = (int)n;
			break;
		case 4: t->full_refresh = 1; break;
		case 5:
			/* lineage draws graphs: --format mermaid|dot is --mermaid|--dot */
			if (want_arg == 2 && !strcmp(g.arg, "mermaid"))
				t->mermaid = 1;
			else if (want_arg == 2 && !strcmp(g.arg, "dot"))
				t->dot = 1;
			else if (cli_set_format(c, g.arg) != CLI_OK)
				return CLI_USAGE;
			break;
		case 6: t->mermaid = 1; break;
		case 7: t->dot = 1; break;
		case 8: t->tests = 1; break;
		}
	}
	if (want_arg && !t->dataset)
		return cli_usage_error(c->cmd, "%s", want_arg == 1 ? "name the dataset" : "name the model");
	return CLI_OK;
}

static int load_project(const struct topts *t, struct tf_project *p, struct tn_err *err)
{
	char *root = NULL;
	int rc = tf_find_root(t->project, &root, err);

	if (!rc)
		rc = tf_load(p, root, t->vars, err);
	tn_free(root);
	return rc;
}

/* One line per finished node on stderr, so a long run shows progress. */
static void event(void *arg, const struct tf_result *r)
{
	struct cli *c = arg;

	if (c->quiet)
		return;
	fprintf(stderr, "  %-7s %-5s %s", r->status, r->kind, r->node);
	if (r->rows >= 0)
		fprintf(stderr, "  (%" PRId64 " row%s)", r->rows, r->rows == 1 ? "" : "s");
	fprintf(stderr, "  %.2f s\n", r->seconds);
}

static int summary(struct cli *c, const struct tf_results *res, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	size_t i;
	int rc;

	if (!res->n) {
		if (!c->quiet)
			fprintf(stderr, "tarn: nothing was selected\n");
		return 0;
	}
	tn_buf_adds(&q, "SELECT * FROM (VALUES ");
	for (i = 0; i < res->n; i++) {
		const struct tf_result *x = &res->r[i];
		tn_buf_adds(&q, i ? ", (" : "(");
		tn_buf_add_sqlstr(&q, x->node);
		tn_buf_adds(&q, ", ");
		tn_buf_add_sqlstr(&q, x->kind);
		tn_buf_adds(&q, ", ");
		tn_buf_add_sqlstr(&q, x->status);
		if (x->rows >= 0)
			tn_buf_addf(&q, ", CAST(%" PRId64 " AS BIGINT)", x->rows);
		else
			tn_buf_adds(&q, ", CAST(NULL AS BIGINT)");
		tn_buf_addf(&q, ", round(%.3f, 2)", x->seconds);
		if (x->snapshot >= 0)
			tn_buf_addf(&q, ", CAST(%" PRId64 " AS BIGINT))", x->snapshot);
		else
			tn_buf_adds(&q, ", CAST(NULL AS BIGINT))");
	}
	tn_buf_adds(&q, ") AS r(node, kind, status, \"rows\", seconds, snapshot)");
	rc = duck_query(session_duck(c->session), q.buf, &r, err);
	if (!rc)
		rc = fmt_result(stdout, r, c->format, err);
	duck_result_free(r);
	tn_buf_release(&q);
	fflush(stdout);
	/* what went wrong, in full, after the table */
	for (i = 0; !rc && i < res->n; i++) {
		const struct tf_result *x = &res->r[i];
		if (x->message && (!strcmp(x->status, "error") || !strcmp(x->status, "fail")))
			fprintf(stderr, "tarn: %s %s %s: %s\n", x->kind, x->node,
				!strcmp(x->status, "fail") ? "failed; failing rows" : "error", x->message);
		else if (x->message && !strcmp(x->status, "warn"))
			fprintf(stderr, "tarn: WARN %s %s (a warning, not a failure); failing rows: %s\n", x->kind,
				x->node, x->message);
	}
	if (!rc && !c->quiet)
		fprintf(stderr, "tarn: run %s: %zu node%s, %d failed, %d warned\n", res->run_id, res->n,
			res->n == 1 ? "" : "s", res->failed, res->warned);
	return rc;
}

static int run_steps(struct cli *c, int argc, char **argv, const char *command, unsigned steps, int want_arg)
{
	struct tf_project p;
	struct tf_results res;
	struct topts t;
	struct tn_err err = TN_ERR_INIT;
	struct tf_run_opts o;
	char *sel = NULL;
	int rc = parse(c, argc, argv, &t, want_arg);

	if (rc)
		return rc;
	if (load_project(&t, &p, &err))
		return cli_error_err(&err);
	memset(&o, 0, sizeof(o));
	o.command = command;
	o.select = t.select;
	o.steps = steps;
	o.threads = t.threads;
	o.full_refresh = t.full_refresh;
	o.record = 1;
	o.session = c->session;
	o.event = event;
	o.event_arg = c;
	if (want_arg == 1) {
		sel = tf_dataset_selection(&p, t.dataset);
		if (!sel) {
			rc = cli_error("no source of project %s reads dataset '%s' (add meta: {dataset: %s} to the "
				       "source in the project's YAML)", p.name ? p.name : "", t.dataset, t.dataset);
			tf_release(&p);
			return rc;
		}
		o.select = sel;
	}
	rc = tf_run(c->lake, &p, &o, &res, &err);
	if (rc)
		rc = cli_error_err(&err);
	else if (summary(c, &res, &err))
		rc = cli_error_err(&err);
	else
		rc = res.failed ? CLI_FAIL : CLI_OK;
	tf_results_release(&res);
	tf_release(&p);
	tn_free(sel);
	return rc;
}

int cli_cmd_run(struct cli *c, int argc, char **argv)
{
	return run_steps(c, argc, argv, "run", TF_STEP_MODEL, 0);
}

int cli_cmd_build(struct cli *c, int argc, char **argv)
{
	return run_steps(c, argc, argv, "build", TF_STEP_SEED | TF_STEP_SNAPSHOT | TF_STEP_MODEL | TF_STEP_TEST, 0);
}

int cli_cmd_test(struct cli *c, int argc, char **argv)
{
	return run_steps(c, argc, argv, "test", TF_STEP_TEST, 0);
}

int cli_cmd_seed(struct cli *c, int argc, char **argv)
{
	return run_steps(c, argc, argv, "seed", TF_STEP_SEED, 0);
}

int cli_cmd_transform(struct cli *c, int argc, char **argv)
{
	return run_steps(c, argc, argv, "transform", TF_STEP_MODEL | TF_STEP_TEST, 1);
}

/* ---- snapshot ---- */

static void snap_event(void *arg, const char *name, const char *error, int64_t rows, double secs)
{
	struct cli *c = arg;

	if (error)
		fprintf(stderr, "tarn: snapshot %s failed: %s\n", name, error);
	else if (!c->quiet)
		fprintf(stderr, "  success snapshot %s  (%" PRId64 " rows)  %.2f s\n", name, rows, secs);
}

int cli_cmd_snapshot(struct cli *c, int argc, char **argv)
{
	struct tf_project p;
	struct topts t;
	struct tn_err err = TN_ERR_INIT;
	int failed = 0, rc = parse(c, argc, argv, &t, 0);

	if (rc)
		return rc;
	if (load_project(&t, &p, &err))
		return cli_error_err(&err);
	rc = tf_snapshot_run(c->session, &p, t.select, snap_event, c, &failed, &err);
	tf_release(&p);
	if (rc)
		return cli_error_err(&err);
	return failed ? CLI_FAIL : CLI_OK;
}

/* ---- compile ---- */

static int print_test(void *arg, const char *name, const char *sql)
{
	(void)arg;
	printf("-- test %s (the rows it returns are failures)\n%s;\n\n", name, sql);
	return 0;
}

int cli_cmd_compile(struct cli *c, int argc, char **argv)
{
	struct tf_project p;
	struct topts t;
	struct tn_err err = TN_ERR_INIT;
	char *picked;
	size_t k;
	int rc = parse(c, argc, argv, &t, 0);
	double t0 = tn_mono();

	if (rc)
		return rc;
	if (load_project(&t, &p, &err))
		return cli_error_err(&err);
	picked = tn_calloc(p.nn + 1, 1);
	rc = tf_select(&p, t.select, picked, &err);
	for (k = 0; !rc && k < p.nn; k++) {
		size_t i = p.order[k];
		const struct tf_node *n = &p.n[i];
		struct tf_render_opts ro = { 0 };
		char *sql = NULL, *rel;
		if (!picked[i] || n->kind != TF_MODEL || n->mat == TF_EPHEMERAL)
			continue;
		rc = tf_render_node(&p, i, &ro, &sql, &err);
		if (rc)
			break;
		rel = tf_relation(&p, i);
		printf("-- %s (%s)\nCREATE SCHEMA IF NOT EXISTS ", n->path, n->mat == TF_VIEW ? "view" : "table");
		fflush(stdout);
		{
			struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
			tn_buf_add_sqlid(&b, n->schema);
			printf("%s;\nCREATE OR REPLACE %s %s AS\n%s;\n\n", b.buf, n->mat == TF_VIEW ? "VIEW" : "TABLE",
			       rel, sql);
			tn_buf_release(&b);
		}
		tn_free(rel);
		tn_free(sql);
	}
	tn_free(picked);
	if (!rc && t.tests)
		rc = tf_tests_each(&p, t.select, print_test, NULL, &err);
	if (!rc && !c->quiet)
		fprintf(stderr, "tarn: compiled %zu nodes in %.3f s\n", p.nn, tn_mono() - t0);
	tf_release(&p);
	return rc ? cli_error_err(&err) : CLI_OK;
}

/* ---- docs ---- */

int cli_cmd_docs(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = { { "out", 'o', 1 }, { "project", 0, 1 }, { "vars", 0, 1 } };
	struct cli_getopt g;
	struct tf_project p;
	struct topts t;
	struct tn_err err = TN_ERR_INIT;
	const char *out = NULL;
	char *path;
	int o;

	memset(&t, 0, sizeof(t));
	cli_getopt_init(&g, argc, argv, 1, c->cmd);
	while ((o = cli_getopt(&g, opts, TN_ARRAY_LEN(opts))) != CLI_OPT_END) {
		if (o == CLI_OPT_ERR)
			return CLI_USAGE;
		if (o == CLI_OPT_ARG)
			return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
		if (o == 0)
			out = g.arg;
		else if (o == 1)
			t.project = g.arg;
		else
			t.vars = g.arg;
	}
	if (load_project(&t, &p, &err))
		return cli_error_err(&err);
	path = out ? tn_strdup(out) : tn_xprintf("%s/target/docs/index.html", p.root);
	o = tf_docs_write(&p, c->session, path, &err);
	tf_release(&p);
	if (o) {
		tn_free(path);
		return cli_error_err(&err);
	}
	printf("%s\n", path);
	tn_free(path);
	return CLI_OK;
}

/* ---- lineage ---- */

static void print_list(const struct tf_project *p, const char *title, const char *mark, size_t self)
{
	size_t k;
	int any = 0;

	printf("%s:\n", title);
	for (k = 0; k < p->nn; k++) {
		size_t i = p->order[k];
		if (!mark[i] || i == self)
			continue;
		printf("  %s.%s (%s)\n", p->n[i].schema, p->n[i].name, tf_kind_name(p->n[i].kind));
		any = 1;
	}
	if (!any)
		printf("  (none)\n");
}

int cli_cmd_lineage(struct cli *c, int argc, char **argv)
{
	struct tf_project p;
	struct topts t;
	struct tn_err err = TN_ERR_INIT;
	char *up, *down;
	size_t i, k, d, self;
	int rc = parse(c, argc, argv, &t, 2);

	if (rc)
		return rc;
	if (load_project(&t, &p, &err))
		return cli_error_err(&err);
	self = tf_find(&p, t.model);
	if (self == (size_t)-1) {
		tf_release(&p);
		return cli_error("no model or seed named '%s' in project %s", t.model, p.root);
	}
	up = tn_calloc(p.nn + 1, 1);
	down = tn_calloc(p.nn + 1, 1);
	tf_ancestors(&p, self, up);
	tf_descendants(&p, self, down);
	if (t.mermaid || t.dot) {
		printf(t.mermaid ? "graph LR\n" : "digraph lineage {\n  rankdir=LR;\n");
		for (i = 0; i < p.nn; i++) {
			if (!up[i] && !down[i])
				continue;
			for (d = 0; d < p.n[i].ndeps; d++) {
				size_t j = p.n[i].deps[d];
				if (!up[j] && !down[j])
					continue;
				printf(t.mermaid ? "  %s --> %s\n" : "  \"%s\" -> \"%s\";\n", p.n[j].name, p.n[i].name);
			}
			if (up[i])
				for (k = 0; k < p.n[i].nsources; k++) {
					/* mermaid draws a source as a cylinder; dot has one name per node */
					if (t.mermaid)
						printf("  %s[(%s)] --> %s\n", p.n[i].sources[k], p.n[i].sources[k],
						       p.n[i].name);
					else
						printf("  \"%s\" -> \"%s\";\n", p.n[i].sources[k], p.n[i].name);
				}
		}
		if (t.mermaid)
			printf("  style %s stroke-width:3px\n", p.n[self].name);
		else
			printf("  \"%s\" [penwidth=3];\n}\n", p.n[self].name);
	} else {
		printf("%s.%s (%s)\n", p.n[self].schema, p.n[self].name, tf_kind_name(p.n[self].kind));
		print_list(&p, "upstream", up, self);
		printf("sources:\n");
		for (i = 0, d = 0; i < p.nn; i++)
			for (k = 0; up[i] && k < p.n[i].nsources; k++, d++)
				printf("  %s (read by %s)\n", p.n[i].sources[k], p.n[i].name);
		if (!d)
			printf("  (none)\n");
		print_list(&p, "downstream", down, self);
	}
	tn_free(up);
	tn_free(down);
	tf_release(&p);
	return CLI_OK;
}

/* ---- project init ---- */

static int write_file(const char *dir, const char *rel, const char *text, struct tn_err *err)
{
	char *path = tn_xprintf("%s/%s", dir, rel), *parent = tn_strdup(path);
	int rc;

	*strrchr(parent, '/') = '\0';
	rc = tn_fs_mkdirs(parent, err);
	if (!rc)
		rc = tn_fs_write_atomic(path, text, strlen(text), err);
	tn_free(parent);
	tn_free(path);
	return rc;
}

int cli_cmd_project(struct cli *c, int argc, char **argv)
{
	static const char yml[] =
		"# A tarn project: models/<layer>/*.sql become <layer>.<model> in the lake.\n"
		"name: my_project\n"
		"vars: {}\n"
		"models:\n"
		"  bronze:\n    +materialized: view\n"
		"  silver:\n    +materialized: table\n"
		"  gold:\n    +materialized: table\n";
	static const char sources[] =
		"version: 2\nsources:\n  - name: raw\n    schema: bronze\n"
		"    description: Tables loaded by `tarn load` (meta.dataset names the raw dataset).\n"
		"    meta: {dataset: example}\n    tables:\n      - name: example\n";
	static const char silver[] =
		"-- An example model: a cleaned copy of a bronze table.\n"
		"SELECT DISTINCT * FROM {{ source('raw', 'example') }}\n";
	static const char schema[] =
		"version: 2\nmodels:\n  - name: example_clean\n    description: The example table without duplicates.\n";
	struct tn_err err = TN_ERR_INIT;
	const char *dir;
	char *yml_path;

	if (argc != 3 || strcmp(argv[1], "init"))
		return cli_usage_error(c->cmd, "use: tarn project init DIR");
	dir = argv[2];
	yml_path = tn_xprintf("%s/tarn.yml", dir);
	if (tn_fs_exists(yml_path)) {
		tn_free(yml_path);
		return cli_error("%s/tarn.yml exists already: not overwriting a project", dir);
	}
	tn_free(yml_path);
	if (write_file(dir, "tarn.yml", yml, &err) || write_file(dir, "models/sources.yml", sources, &err) ||
	    write_file(dir, "models/silver/example_clean.sql", silver, &err) ||
	    write_file(dir, "models/silver/schema.yml", schema, &err) ||
	    write_file(dir, "models/bronze/.keep", "", &err) || write_file(dir, "models/gold/.keep", "", &err) ||
	    write_file(dir, "seeds/.keep", "", &err) || write_file(dir, "tests/.keep", "", &err) ||
	    write_file(dir, "snapshots/.keep", "", &err) ||
	    write_file(dir, ".gitignore", "# run artifacts (target/run_results.json)\ntarget/\n", &err))
		return cli_error_err(&err);
	if (!c->quiet)
		printf("%s\n", dir);
	return CLI_OK;
}
