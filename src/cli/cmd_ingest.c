/*
 * cmd_ingest.c: `tarn ingest` (the raw zone: dataset, ls, prune, duckdb)
 * and `tarn load` (a raw version into bronze tables). The work is in
 * src/ingest/; this file parses options, draws download progress on a
 * terminal and prints results.
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "ingest/ingest.h"
#include "ingest/load.h"
#include "lake/lake.h"
#include "lake/session.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <inttypes.h>
#include <unistd.h>

const char cli_usage_ingest[] =
	"usage: tarn ingest dataset (--manual NAME | SOURCE [--name NAME])\n"
	"       tarn ingest ls [-a] [--format FMT]\n"
	"       tarn ingest prune [--dry-run]\n"
	"       tarn ingest duckdb FILE.duckdb [--schema SCHEMA]\n"
	"\n"
	"Land raw data in the lake's raw zone (<lake>/raw/), one dated version per\n"
	"ingestion: raw/<dataset>/YYYY_MM_DD/HH_mm_SS_sss/ (UTC), recorded in\n"
	"raw/<dataset>/manifest.json. The new version's folder is printed.\n"
	"\n"
	"  dataset --manual NAME  make an empty version to fill by hand\n"
	"  dataset SOURCE         a file, a folder (recursively), an http(s) URL,\n"
	"                         https://www.kaggle.com/datasets/OWNER/DATASET or\n"
	"                         https://huggingface.co/datasets/OWNER/DATASET;\n"
	"                         zip and gzip files are unpacked\n"
	"    --name NAME          the dataset name (default: from the source; always\n"
	"                         made snake case)\n"
	"  ls                     each dataset's latest version folder\n"
	"    -a, --all            every version\n"
	"    --format FMT         table (paths), csv, json or jsonl\n"
	"  prune                  remove version folders that hold no file, and their\n"
	"                         manifest entries\n"
	"    --dry-run            only say what would be removed\n"
	"  duckdb FILE            copy every table of a DuckDB file, with its comments,\n"
	"                         into the lake (one snapshot)\n"
	"    --schema SCHEMA      target schema (default: bronze)\n"
	"  -q, --quiet            print nothing but results\n"
	"\n"
	"Environment: TARN_KAGGLE_URL, KAGGLE_USERNAME, KAGGLE_KEY (or\n"
	"~/.kaggle/kaggle.json), TARN_HF_URL, HF_TOKEN.\n";

const char cli_usage_load[] =
	"usage: tarn load DATASET [--version V] [--table SCHEMA.TABLE]\n"
	"                 [--mode append|replace] [--reject] [--no-provenance]\n"
	"\n"
	"Load a raw dataset version into lake tables in one snapshot. CSV/TSV, JSON,\n"
	"NDJSON (also gzip'd) and Parquet are read by DuckDB, which infers the\n"
	"schema. Files of one shape become one table, in schema bronze, named after\n"
	"the file (or the dataset). The commit message names the dataset, version,\n"
	"files and their SHA-256.\n"
	"\n"
	"  --version V            YYYY_MM_DD/HH_mm_SS_sss (default: the latest)\n"
	"  --table [SCHEMA.]TABLE load every file into this table\n"
	"  --mode append          add to an existing table (new columns are added)\n"
	"  --mode replace         replace an existing table\n"
	"                         (default: the table must not exist)\n"
	"  --reject               bad CSV rows go to TABLE_rejects with file, line and\n"
	"                         reason, and the rest loads (default: the load fails\n"
	"                         naming file, line, column and value)\n"
	"  --no-provenance        no _source_file and _ingested_at columns\n"
	"  -q, --quiet            no summary\n";

/* ---- progress ---- */

/* A download bar on stderr, redrawn at most ten times a second. */
struct bar {
	double start, last;
	int drawn;
};

static void human(char *out, size_t n, double bytes)
{
	static const char *const unit[] = { "B", "KB", "MB", "GB", "TB" };
	int u = 0;

	while (bytes >= 1000 && u < 4) {
		bytes /= 1000;
		u++;
	}
	snprintf(out, n, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

static void draw_bar(void *arg, const char *what, int64_t done, int64_t total)
{
	struct bar *b = arg;
	double now = tn_mono(), secs = now - b->start, rate = secs > 0 ? (double)done / secs : 0;
	char got[32], speed[32];

	if (now - b->last < 0.1 && !(total > 0 && done == total))
		return;
	b->last = now;
	human(got, sizeof(got), (double)done);
	human(speed, sizeof(speed), rate);
	if (total > 0) {
		int fill = (int)(30.0 * (double)done / (double)total), i;
		char bar[31];
		double eta = rate > 0 ? (double)(total - done) / rate : 0;
		for (i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : ' ';
		bar[30] = '\0';
		fprintf(stderr, "\r\033[K%.30s [%s] %3d%% %s %s/s ETA %d:%02d", what ? what : "", bar,
			(int)(100.0 * (double)done / (double)total), got, speed, (int)eta / 60, (int)eta % 60);
	} else {
		fprintf(stderr, "\r\033[K%.30s %s %s/s", what ? what : "", got, speed);
	}
	fflush(stderr);
	b->drawn = 1;
}

static void end_bar(struct bar *b)
{
	if (b->drawn)
		fputs("\r\033[K", stderr);
}

static void warn_note(void *arg, const char *msg)
{
	struct cli *c = arg;

	if (!c->quiet)
		cli_warn("%s", msg);
}

/* ---- ingest dataset ---- */

enum { DS_MANUAL, DS_NAME, DS_QUIET };

static const struct cli_opt dataset_opts[] = {
	[DS_MANUAL] = { "manual", 0, 1 },
	[DS_NAME] = { "name", 0, 1 },
	[DS_QUIET] = { "quiet", 'q', 0 },
};

static int cmd_dataset(struct cli *c, int argc, char **argv)
{
	struct ingest_opts o = { NULL, NULL, NULL, warn_note, c, NULL };
	struct tn_err err = TN_ERR_INIT;
	struct bar b = { 0, 0, 0 };
	struct cli_getopt g;
	const char *manual = NULL, *source = NULL;
	char *path = NULL;
	int id, rc;

	cli_getopt_init(&g, argc, argv, 2, c->cmd);
	while ((id = cli_getopt(&g, dataset_opts, TN_ARRAY_LEN(dataset_opts))) != CLI_OPT_END) {
		switch (id) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			if (source)
				return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
			source = g.arg;
			break;
		case DS_MANUAL:
			manual = g.arg;
			break;
		case DS_NAME:
			o.name = g.arg;
			break;
		case DS_QUIET:
			c->quiet = 1;
			break;
		}
	}
	if (manual && (source || o.name))
		return cli_usage_error(c->cmd, "--manual NAME takes no SOURCE and no --name");
	if (!manual && !source)
		return cli_usage_error(c->cmd, "missing SOURCE (or --manual NAME)");
	if (manual) {
		rc = ingest_manual(c->lake, manual, &path, &err);
	} else {
		if (isatty(STDERR_FILENO) && !c->quiet) {
			b.start = tn_mono();
			o.progress = draw_bar;
			o.progress_arg = &b;
		}
		rc = ingest_dataset(c->lake, source, &o, &path, &err);
		end_bar(&b);
	}
	if (rc)
		return cli_error_err(&err);
	printf("%s\n", path);
	tn_free(path);
	return CLI_OK;
}

/* ---- ingest ls ---- */

enum { LS_ALL, LS_FORMAT };

static const struct cli_opt ls_opts[] = {
	[LS_ALL] = { "all", 'a', 0 },
	[LS_FORMAT] = { "format", 0, 1 },
};

static void ls_json_entry(const struct ingest_entry *e)
{
	fputs("{\"dataset\":", stdout);
	fmt_json_string(stdout, e->dataset);
	fputs(",\"version\":", stdout);
	fmt_json_string(stdout, e->version);
	fputs(",\"path\":", stdout);
	fmt_json_string(stdout, e->path);
	fputs(",\"created\":", stdout);
	fmt_json_string(stdout, e->created);
	fputs(",\"source\":", stdout);
	fmt_json_string(stdout, e->source);
	printf(",\"files\":%zu,\"bytes\":%" PRId64 ",\"latest\":%s}", e->nfiles, e->bytes,
	       e->latest ? "true" : "false");
}

static void ls_print(const struct cli *c, const struct ingest_listing *l)
{
	size_t i;

	if (c->format == FMT_CSV)
		puts("dataset,version,path,created,source,files,bytes,latest");
	if (c->format == FMT_JSON)
		fputs("[", stdout);
	for (i = 0; i < l->n; i++) {
		const struct ingest_entry *e = &l->e[i];
		switch (c->format) {
		case FMT_TABLE:
			printf("%s\n", e->path);
			break;
		case FMT_CSV:
			fmt_csv_field(stdout, e->dataset);
			putchar(',');
			fmt_csv_field(stdout, e->version);
			putchar(',');
			fmt_csv_field(stdout, e->path);
			putchar(',');
			fmt_csv_field(stdout, e->created);
			putchar(',');
			fmt_csv_field(stdout, e->source);
			printf(",%zu,%" PRId64 ",%s\n", e->nfiles, e->bytes, e->latest ? "true" : "false");
			break;
		case FMT_JSON:
			if (i)
				putchar(',');
			ls_json_entry(e);
			break;
		case FMT_JSONL:
			ls_json_entry(e);
			putchar('\n');
			break;
		}
	}
	if (c->format == FMT_JSON)
		fputs("]\n", stdout);
}

static int cmd_ls(struct cli *c, int argc, char **argv)
{
	struct ingest_listing l;
	struct tn_err err = TN_ERR_INIT;
	struct cli_getopt g;
	int id, all = 0;

	cli_getopt_init(&g, argc, argv, 2, c->cmd);
	while ((id = cli_getopt(&g, ls_opts, TN_ARRAY_LEN(ls_opts))) != CLI_OPT_END) {
		switch (id) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
		case LS_ALL:
			all = 1;
			break;
		case LS_FORMAT:
			if (cli_set_format(c, g.arg))
				return CLI_USAGE;
			break;
		}
	}
	if (ingest_list(c->lake, all, &l, &err))
		return cli_error_err(&err);
	ls_print(c, &l);
	ingest_listing_release(&l);
	return CLI_OK;
}

/* ---- ingest prune ---- */

enum { PR_DRY, PR_QUIET };

static const struct cli_opt prune_opts[] = {
	[PR_DRY] = { "dry-run", 'n', 0 },
	[PR_QUIET] = { "quiet", 'q', 0 },
};

struct pruned {
	int dry_run;
	size_t n;
};

static void print_pruned(void *arg, const char *path, const char *why)
{
	struct pruned *p = arg;

	printf("%s %s (%s)\n", p->dry_run ? "would remove" : "removed", path, why);
	p->n++;
}

static int cmd_prune(struct cli *c, int argc, char **argv)
{
	struct tn_err err = TN_ERR_INIT;
	struct pruned p = { 0, 0 };
	struct cli_getopt g;
	int id;

	cli_getopt_init(&g, argc, argv, 2, c->cmd);
	while ((id = cli_getopt(&g, prune_opts, TN_ARRAY_LEN(prune_opts))) != CLI_OPT_END) {
		switch (id) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
		case PR_DRY:
			p.dry_run = 1;
			break;
		case PR_QUIET:
			c->quiet = 1;
			break;
		}
	}
	if (ingest_prune(c->lake, p.dry_run, print_pruned, &p, &err))
		return cli_error_err(&err);
	if (!c->quiet && p.n == 0)
		printf("nothing to prune\n");
	return CLI_OK;
}

/* ---- reports of load and ingest duckdb ---- */

static void print_report(const struct cli *c, const struct load_report *r, const char *verb)
{
	size_t i;

	if (c->quiet)
		return;
	for (i = 0; i < r->n; i++) {
		const struct load_table *t = &r->t[i];
		printf("%s: %s %" PRId64 " row%s", t->name, verb, t->rows, t->rows == 1 ? "" : "s");
		if (r->version)
			printf(" from %zu file%s of version %s", t->nfiles, t->nfiles == 1 ? "" : "s", r->version);
		if (t->rejected)
			printf("; %" PRId64 " rejected row%s in %s", t->rejected, t->rejected == 1 ? "" : "s",
			       t->rejects);
		putchar('\n');
	}
}

/* ---- ingest duckdb ---- */

enum { DK_SCHEMA, DK_QUIET };

static const struct cli_opt duckdb_opts[] = {
	[DK_SCHEMA] = { "schema", 0, 1 },
	[DK_QUIET] = { "quiet", 'q', 0 },
};

static int cmd_duckdb(struct cli *c, int argc, char **argv)
{
	struct load_report rep;
	struct session *s = NULL;
	struct tn_err err = TN_ERR_INIT;
	struct cli_getopt g;
	const char *file = NULL, *schema = NULL;
	int id, rc;

	cli_getopt_init(&g, argc, argv, 2, c->cmd);
	while ((id = cli_getopt(&g, duckdb_opts, TN_ARRAY_LEN(duckdb_opts))) != CLI_OPT_END) {
		switch (id) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			if (file)
				return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
			file = g.arg;
			break;
		case DK_SCHEMA:
			schema = g.arg;
			break;
		case DK_QUIET:
			c->quiet = 1;
			break;
		}
	}
	if (!file)
		return cli_usage_error(c->cmd, "missing FILE.duckdb");
	rc = session_open(&s, c->lake, &err);
	if (!rc)
		rc = load_duckdb(s, file, schema, warn_note, c, &rep, &err);
	session_close(s);
	if (rc)
		return cli_error_err(&err);
	print_report(c, &rep, "imported");
	load_report_release(&rep);
	return CLI_OK;
}

int cli_cmd_ingest(struct cli *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		cli_fn *fn;
	} subs[] = {
		{ "dataset", cmd_dataset }, { "ls", cmd_ls }, { "prune", cmd_prune }, { "duckdb", cmd_duckdb },
	};
	size_t i;

	if (argc < 2)
		return cli_usage_error(c->cmd, "missing subcommand: dataset, ls, prune or duckdb");
	for (i = 0; i < TN_ARRAY_LEN(subs); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(c, argc, argv);
	return cli_usage_error(c->cmd, "unknown subcommand '%s' (dataset, ls, prune or duckdb)", argv[1]);
}

/* ---- load ---- */

enum { LD_VERSION, LD_TABLE, LD_MODE, LD_REJECT, LD_NOPROV, LD_QUIET };

static const struct cli_opt load_opts[] = {
	[LD_VERSION] = { "version", 0, 1 },
	[LD_TABLE] = { "table", 0, 1 },
	[LD_MODE] = { "mode", 0, 1 },
	[LD_REJECT] = { "reject", 0, 0 },
	[LD_NOPROV] = { "no-provenance", 0, 0 },
	[LD_QUIET] = { "quiet", 'q', 0 },
};

static int parse_load(struct cli *c, int argc, char **argv, struct load_opts *o)
{
	struct cli_getopt g;
	int id;

	cli_getopt_init(&g, argc, argv, 1, c->cmd);
	while ((id = cli_getopt(&g, load_opts, TN_ARRAY_LEN(load_opts))) != CLI_OPT_END) {
		switch (id) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			if (o->dataset)
				return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
			o->dataset = g.arg;
			break;
		case LD_VERSION:
			o->version = g.arg;
			break;
		case LD_TABLE:
			o->table = g.arg;
			break;
		case LD_MODE:
			if (!strcmp(g.arg, "append"))
				o->mode = LOAD_APPEND;
			else if (!strcmp(g.arg, "replace"))
				o->mode = LOAD_REPLACE;
			else
				return cli_usage_error(c->cmd, "--mode takes append or replace, not '%s'", g.arg);
			break;
		case LD_REJECT:
			o->reject = 1;
			break;
		case LD_NOPROV:
			o->provenance = 0;
			break;
		case LD_QUIET:
			c->quiet = 1;
			break;
		}
	}
	if (!o->dataset)
		return cli_usage_error(c->cmd, "missing DATASET (a name that `tarn ingest ls` shows)");
	return CLI_OK;
}

int cli_cmd_load(struct cli *c, int argc, char **argv)
{
	struct load_opts o = { NULL, NULL, NULL, LOAD_CREATE, 0, 1, warn_note, c, NULL };
	struct load_report rep;
	struct tn_err err = TN_ERR_INIT;
	struct cli_progress *bar;
	int rc = parse_load(c, argc, argv, &o);

	if (rc)
		return rc;
	bar = c->quiet ? NULL : cli_progress_start(session_duck(c->session));
	rc = load_dataset(c->session, c->lake, &o, &rep, &err);
	cli_progress_stop(bar);
	if (rc)
		return cli_error_err(&err);
	print_report(c, &rep, "loaded");
	load_report_release(&rep);
	return CLI_OK;
}
