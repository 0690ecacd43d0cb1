/*
 * main.c: the `tarn` command. Reads the global options, finds the command
 * in the table below, opens what the command needs (lake, session) and runs
 * it. This is the only place where the process ends: commands return their
 * exit status (0 ok, 1 failed, 2 usage error).
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "lake/lake.h"
#include "lake/session.h"

#include <errno.h>

/* The lake folder when neither --lake nor $TARN_LAKE names one. */
#define DEFAULT_LAKE "lake"

static int cmd_version(struct cli *c, int argc, char **argv);
static int cmd_help(struct cli *c, int argc, char **argv);

static const struct cli_cmd commands[] = {
	{ "init", cli_cmd_init, 0, "create a new, empty lake",
	  "usage: tarn init [--data PATH | s3://BUCKET/PREFIX/] [--catalog postgres://…]\n"
	  "                 [--inline-limit N] [DIR]\n"
	  "\n"
	  "Create a new lake in DIR (default: the --lake folder).\n"
	  "\n"
	  "  --data PATH       keep the Parquet files in PATH (default: DIR/data/), or in\n"
	  "                    a bucket: s3://BUCKET/PREFIX/ with the S3_* settings from\n"
	  "                    the environment or ./.env (also --data-path)\n"
	  "  --catalog URI     keep the catalog in PostgreSQL (postgres://user@host:port/db;\n"
	  "                    the PG* variables and ~/.pgpass work too) instead of a\n"
	  "                    SQLite file in DIR; DIR then holds catalog.url\n"
	  "  --inline-limit N  keep inserts of at most N rows in the catalog instead of\n"
	  "                    a Parquet file each (DuckLake data inlining; default 10)\n"
	  "  -q, --quiet       print nothing on success\n" },
	{ "sql", cli_cmd_sql, CLI_NEEDS_SESSION, "run SQL: arguments, a file, standard input or a shell",
	  "usage: tarn sql [-c SQL]... [-f FILE]... [--format FMT]\n"
	  "\n"
	  "Run SQL on the lake. Statements come from -c and -f in the order given;\n"
	  "without them from standard input when it is not a terminal, else from an\n"
	  "interactive shell (type .help there). The result of every statement is\n"
	  "printed. The first error stops the run with exit status 1.\n"
	  "\n"
	  "  -c, --command SQL  run SQL (repeatable)\n"
	  "  -f, --file FILE    run the statements in FILE, \"-\" for standard input\n"
	  "  --format FMT       table, csv, json or jsonl (default: table)\n"
	  "  -q, --quiet        no banner in the shell\n" },
	{ "tables", cli_cmd_tables, CLI_NEEDS_SESSION, "list the tables of the lake",
	  "usage: tarn tables [--format FMT]\n"
	  "\n"
	  "List the tables of the current snapshot (SELECT * FROM tarn_tables()).\n"
	  "\n"
	  "  --format FMT  table, csv, json or jsonl (default: table)\n" },
	{ "describe", cli_cmd_describe, CLI_NEEDS_SESSION, "show a table: rows, size, comment, columns and data files",
	  "usage: tarn describe [--format FMT] TABLE\n"
	  "\n"
	  "Show TABLE (a table name or schema.table): its row count, size and comment\n"
	  "(tarn_table), its columns with types and comments (tarn_columns) and its\n"
	  "data files (tarn_files).\n"
	  "\n"
	  "  --format FMT  table, csv, json or jsonl (default: table)\n" },
	{ "snapshots", cli_cmd_snapshots, CLI_NEEDS_SESSION, "list the snapshots of the lake",
	  "usage: tarn snapshots [--format FMT]\n"
	  "\n"
	  "List every snapshot of the lake (SELECT * FROM tarn_snapshots()).\n"
	  "\n"
	  "  --format FMT  table, csv, json or jsonl (default: table)\n" },
	{ "fsck", cli_cmd_fsck, CLI_NEEDS_LAKE, "check that the catalog and the data files agree",
	  "usage: tarn fsck [--format FMT]\n"
	  "\n"
	  "Check the lake. Problems (e.g. a data file the catalog names that is\n"
	  "missing) make the exit status 1; orphans (files no snapshot refers to)\n"
	  "are listed but are not problems.\n"
	  "\n"
	  "  --format FMT  table (text), csv, json or jsonl (default: table)\n"
	  "  -q, --quiet   no summary line\n" },
	{ "maintenance", cli_cmd_maintenance, CLI_NEEDS_SESSION, "compact tables, expire snapshots, delete old files",
	  cli_usage_maintenance },
	{ "storage", cli_cmd_storage, CLI_NEEDS_LAKE, "look at the lake's folder or bucket: ls, du",
	  cli_usage_storage },
	{ "ingest", cli_cmd_ingest, CLI_NEEDS_LAKE, "land raw datasets in dated, versioned folders",
	  cli_usage_ingest },
	{ "load", cli_cmd_load, CLI_NEEDS_SESSION, "load a raw dataset version into a bronze table",
	  cli_usage_load },
	{ "export", cli_cmd_export, CLI_NEEDS_SESSION, "export tables with manifests, or as a pins board",
	  cli_usage_export },
	{ "catalog", cli_cmd_catalog, CLI_NEEDS_LAKE, "list, search, back up and restore the catalog",
	  cli_usage_catalog },
	{ "tools", cli_cmd_tools, CLI_NEEDS_LAKE, "helpers, e.g. an init script for the duckdb CLI",
	  cli_usage_tools },
	{ "run", cli_cmd_run, CLI_NEEDS_SESSION, "build the project's models, each one snapshot",
	  cli_usage_run },
	{ "build", cli_cmd_build, CLI_NEEDS_SESSION, "seeds, snapshots, models and tests in graph order", cli_usage_build },
	{ "test", cli_cmd_test, CLI_NEEDS_SESSION, "run the project's data tests", cli_usage_test },
	{ "seed", cli_cmd_seed, CLI_NEEDS_SESSION, "load the project's seeds/*.csv as tables", cli_usage_seed },
	{ "transform", cli_cmd_transform, CLI_NEEDS_SESSION, "build the models downstream of a raw dataset",
	  cli_usage_transform },
	{ "snapshot", cli_cmd_snapshot, CLI_NEEDS_SESSION, "keep SCD2 history of queries (snapshots/*.sql)",
	  cli_usage_snapshot },
	{ "compile", cli_cmd_compile, 0, "print the rendered SQL of the project's models", cli_usage_compile },
	{ "docs", cli_cmd_docs, CLI_NEEDS_SESSION, "write a static HTML page documenting the project",
	  cli_usage_docs },
	{ "lineage", cli_cmd_lineage, 0, "show what a model reads and what reads it", cli_usage_lineage },
	{ "project", cli_cmd_project, 0, "start a new project folder", cli_usage_project },
	{ "serve", cli_cmd_serve, 0, "serve the lake over HTTP: query, upload, catalog, metrics", cli_usage_serve },
	{ "gen", cli_cmd_gen, 0, "generate synthetic data (a retail company) as Parquet",
	  cli_usage_gen },
	{ "version", cmd_version, 0, "print the version of tarn",
	  "usage: tarn version\n" },
	{ "help", cmd_help, 0, "show the help of a command",
	  "usage: tarn help [COMMAND]\n" },
};

static void print_help(FILE *f)
{
	size_t i;

	fputs("usage: tarn [--lake DIR] [--format FMT] [-q] COMMAND [ARGS]\n"
	      "\n"
	      "Global options (before the command):\n"
	      "  --lake DIR      the lake folder (default: $TARN_LAKE, else ./" DEFAULT_LAKE ")\n"
	      "  --format FMT    output format: " FMT_STYLE_NAMES " (default: table)\n"
	      "  -q, --quiet     print no informational messages\n"
	      "  -h, --help      show this help\n"
	      "  --version       print the version\n"
	      "\n"
	      "Commands:\n", f);
	for (i = 0; i < TN_ARRAY_LEN(commands); i++)
		fprintf(f, "  %-10s  %s\n", commands[i].name, commands[i].help);
	fputs("\nRun `tarn COMMAND --help` for the options of a command.\n", f);
}

static const struct cli_cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* Levenshtein distance; `b` is a command name, so one short row suffices. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t row[32], lb = strlen(b), i, j, diag, up;

	if (lb >= TN_ARRAY_LEN(row))
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; a[i - 1]; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* The command a mistyped name most likely meant, or NULL when none is close:
 * a few edits away, or a prefix of it ("desc" for "describe"). */
static const char *nearest_command(const char *name)
{
	const char *best = NULL;
	size_t i, d, best_d = 3;

	for (i = 0; i < TN_ARRAY_LEN(commands); i++) {
		d = edit_distance(name, commands[i].name);
		if (strlen(name) >= 2 && !strncmp(commands[i].name, name, strlen(name)))
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = commands[i].name;
		}
	}
	return best;
}

static int unknown_command(const char *name)
{
	const char *near = nearest_command(name);

	if (near)
		return cli_usage_error(NULL, "unknown command '%s'; did you mean '%s'?", name, near);
	return cli_usage_error(NULL, "unknown command '%s'", name);
}

static int cmd_version(struct cli *c, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage_error(c->cmd, "unexpected argument '%s'", argv[1]);
	printf("tarn %s\n", TARN_VERSION);
	return CLI_OK;
}

static int cmd_help(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc > 2)
		return cli_usage_error(c->cmd, "unexpected argument '%s'", argv[2]);
	if (argc < 2) {
		print_help(stdout);
		return CLI_OK;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		return unknown_command(argv[1]);
	fputs(cmd->usage, stdout);
	return CLI_OK;
}

/* -h or --help anywhere among the command's options (before "--"). */
static int wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

enum { GOPT_LAKE, GOPT_FORMAT, GOPT_QUIET, GOPT_HELP, GOPT_VERSION };

static const struct cli_opt global_opts[] = {
	[GOPT_LAKE] = { "lake", 0, 1 },
	[GOPT_FORMAT] = { "format", 0, 1 },
	[GOPT_QUIET] = { "quiet", 'q', 0 },
	[GOPT_HELP] = { "help", 'h', 0 },
	[GOPT_VERSION] = { "version", 0, 0 },
};

/* Whether main() goes on to run a command after the global options. */
#define GO_ON (-1)

/* Read the global options up to the command name (*cmd_at, == argc when
 * there is none). Returns GO_ON, or the exit status when done already. */
static int global_options(struct cli *c, int argc, char **argv, int *cmd_at)
{
	struct cli_getopt g;

	cli_getopt_init(&g, argc, argv, 1, NULL);
	for (;;) {
		switch (cli_getopt(&g, global_opts, TN_ARRAY_LEN(global_opts))) {
		case CLI_OPT_END:
			*cmd_at = argc;
			return GO_ON;
		case CLI_OPT_ARG:
			*cmd_at = g.next - 1;
			return GO_ON;
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case GOPT_LAKE:
			c->lake_dir = g.arg;
			break;
		case GOPT_FORMAT:
			if (cli_set_format(c, g.arg))
				return CLI_USAGE;
			break;
		case GOPT_QUIET:
			c->quiet = 1;
			break;
		case GOPT_HELP:
			print_help(stdout);
			return CLI_OK;
		case GOPT_VERSION:
			return cmd_version(c, 1, argv);
		}
	}
}

static const char *default_lake(void)
{
	const char *env = getenv("TARN_LAKE");

	return env && *env ? env : DEFAULT_LAKE;
}

static int open_needs(struct cli *c, struct tn_err *err)
{
	unsigned flags = c->cmd->flags;
	int rc = 0;

	if (flags & (CLI_NEEDS_LAKE | CLI_NEEDS_SESSION))
		rc = (flags & CLI_NEEDS_SESSION) ? lake_open_warm(&c->lake, c->lake_dir, err) :
			lake_open(&c->lake, c->lake_dir, err);
	if (!rc && (flags & CLI_NEEDS_SESSION))
		rc = session_open(&c->session, c->lake, err);
	return rc;
}

/* A full disk or a closed pipe must not look like success. */
static int flush_stdout(int rc)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return rc;
	if (rc == CLI_OK)
		return cli_error("cannot write the output: %s", strerror(errno));
	return rc;
}

static int run(struct cli *c, int argc, char **argv)
{
	struct tn_err err = TN_ERR_INIT;
	int cmd_at = 0, rc;

	rc = global_options(c, argc, argv, &cmd_at);
	if (rc != GO_ON)
		return rc;
	if (cmd_at >= argc) {
		print_help(stderr);
		return CLI_USAGE;
	}
	c->cmd = find_command(argv[cmd_at]);
	if (!c->cmd)
		return unknown_command(argv[cmd_at]);
	if (wants_help(argc - cmd_at, argv + cmd_at)) {
		fputs(c->cmd->usage, stdout);
		return CLI_OK;
	}
	if (open_needs(c, &err))
		return cli_error_err(&err);
	return c->cmd->fn(c, argc - cmd_at, argv + cmd_at);
}

int main(int argc, char **argv)
{
	struct cli c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.lake_dir = default_lake();
	c.format = FMT_TABLE;
	rc = run(&c, argc, argv);
	session_close(c.session);
	lake_close(c.lake);
	return flush_stdout(rc);
}
