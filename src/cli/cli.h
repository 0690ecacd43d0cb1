/*
 * cli.h: internals shared by the files of the `tarn` command-line front end
 * (main.c, args.c, cmd_sql.c, cmd_lake.c, shell.c). Not for use outside
 * src/cli/. Commands return the process exit status; only main() ends the
 * process.
 */
#ifndef CLI_H
#define CLI_H

#include <signal.h>
#include "base/tn_err.h"
#include "cli/fmt.h"

struct lake;
struct session;

/* Set by CMake from the project version. */
#ifndef TARN_VERSION
#define TARN_VERSION "unknown"
#endif

/* Exit statuses. */
#define CLI_OK 0
#define CLI_FAIL 1   /* the command failed */
#define CLI_USAGE 2  /* the command line was wrong */

/* cli_cmd.flags: what main() opens before the command runs. */
#define CLI_NEEDS_LAKE 1
#define CLI_NEEDS_SESSION 2  /* implies CLI_NEEDS_LAKE */

struct cli_cmd;

/* The state of one `tarn` run: global options and what main() opened. */
struct cli {
	const char *lake_dir;        /* --lake, else $TARN_LAKE, else "lake" */
	enum fmt_style format;       /* --format */
	int quiet;                   /* -q: no informational messages */
	const struct cli_cmd *cmd;   /* the command being run */
	struct lake *lake;           /* open for CLI_NEEDS_LAKE commands */
	struct session *session;     /* open for CLI_NEEDS_SESSION commands */
};

/* A command: argv[0] is the command name; returns an exit status. */
typedef int cli_fn(struct cli *c, int argc, char **argv);

struct cli_cmd {
	const char *name;
	cli_fn *fn;
	unsigned flags;
	const char *help;   /* one line for `tarn --help` */
	const char *usage;  /* "tarn sql [-c SQL]... ", then option lines */
};

/* The commands (one function each, listed in main.c's table). */
int cli_cmd_init(struct cli *c, int argc, char **argv);
int cli_cmd_sql(struct cli *c, int argc, char **argv);
int cli_cmd_snapshots(struct cli *c, int argc, char **argv);
int cli_cmd_tables(struct cli *c, int argc, char **argv);
int cli_cmd_describe(struct cli *c, int argc, char **argv);
int cli_cmd_fsck(struct cli *c, int argc, char **argv);
/* Commands whose usage text lives with them (address constants for the table). */
int cli_cmd_ingest(struct cli *c, int argc, char **argv);   /* cmd_ingest.c */
int cli_cmd_load(struct cli *c, int argc, char **argv);     /* cmd_ingest.c */
extern const char cli_usage_ingest[], cli_usage_load[];
int cli_cmd_export(struct cli *c, int argc, char **argv);   /* cmd_share.c */
int cli_cmd_catalog(struct cli *c, int argc, char **argv);  /* cmd_share.c */
int cli_cmd_tools(struct cli *c, int argc, char **argv);    /* cmd_share.c */
/* `tarn catalog migrate` (argv[0] = "migrate"), dispatched by cli_cmd_catalog. */
int cli_cmd_catalog_migrate(struct cli *c, int argc, char **argv);   /* cmd_catalog_migrate.c */
extern const char cli_usage_export[], cli_usage_catalog[], cli_usage_tools[];
int cli_cmd_storage(struct cli *c, int argc, char **argv);  /* cmd_storage.c */
int cli_cmd_gen(struct cli *c, int argc, char **argv);      /* cmd_gen.c */
int cli_cmd_serve(struct cli *c, int argc, char **argv);    /* cmd_serve.c */
extern const char cli_usage_serve[];
int cli_cmd_maintenance(struct cli *c, int argc, char **argv);    /* cmd_maint.c */
extern const char cli_usage_maintenance[];
/* cmd_transform.c */
int cli_cmd_run(struct cli *c, int argc, char **argv);
int cli_cmd_build(struct cli *c, int argc, char **argv);
int cli_cmd_test(struct cli *c, int argc, char **argv);
int cli_cmd_seed(struct cli *c, int argc, char **argv);
int cli_cmd_transform(struct cli *c, int argc, char **argv);
int cli_cmd_lineage(struct cli *c, int argc, char **argv);
int cli_cmd_project(struct cli *c, int argc, char **argv);
int cli_cmd_snapshot(struct cli *c, int argc, char **argv);
int cli_cmd_docs(struct cli *c, int argc, char **argv);
int cli_cmd_compile(struct cli *c, int argc, char **argv);
extern const char cli_usage_snapshot[], cli_usage_docs[], cli_usage_compile[];
extern const char cli_usage_run[], cli_usage_build[], cli_usage_test[], cli_usage_seed[],
	cli_usage_transform[], cli_usage_lineage[], cli_usage_project[];
extern const char cli_usage_gen[];
extern const char cli_usage_storage[];

/* ---- progress (progress.c) ---- */

struct duck;
struct cli_progress;
/* A bar on stderr for the query running on `duck`, shown after a second,
 * only when stderr is a terminal (else NULL, and stop does nothing). */
struct cli_progress *cli_progress_start(struct duck *duck);
void cli_progress_stop(struct cli_progress *p);

/* ---- messages (args.c) ---- */

/* "tarn: error: <msg>" on stderr; returns CLI_FAIL. */
int cli_error(const char *fmt, ...) TN_PRINTF(1, 2);
/* Print err->msg as an error; returns CLI_FAIL. */
int cli_error_err(const struct tn_err *err);
/* A usage error for command `cmd` (NULL: the global options) with a hint
 * where to read the usage; returns CLI_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...) TN_PRINTF(2, 3);
/* "tarn: warning: <msg>" on stderr. */
void cli_warn(const char *fmt, ...) TN_PRINTF(1, 2);

/* ---- option parsing (args.c) ---- */

/* One option a command accepts; its index in the table is what
 * cli_getopt returns for it. */
struct cli_opt {
	const char *name;   /* long name without "--" */
	char short_name;    /* 0 = none */
	int has_arg;
};

enum {
	CLI_OPT_END = -1,   /* no more arguments */
	CLI_OPT_ERR = -2,   /* usage error, already printed */
	CLI_OPT_ARG = -3    /* a positional argument, in g->arg */
};

struct cli_getopt {
	int argc;
	char **argv;
	int next;                     /* index of the next argument */
	int only_args;                /* after "--" */
	const char *arg;              /* value of the last option or positional */
	const struct cli_cmd *cmd;    /* for messages; NULL = global options */
};

/* Start reading argv[first...]. */
void cli_getopt_init(struct cli_getopt *g, int argc, char **argv, int first,
		     const struct cli_cmd *cmd);
/* The next option (its index in `opts`), CLI_OPT_ARG, CLI_OPT_END or
 * CLI_OPT_ERR. Accepts "--name value", "--name=value", "-x value", "-xvalue"
 * and "--" to end the options. */
int cli_getopt(struct cli_getopt *g, const struct cli_opt *opts, size_t nopts);

/* Set c->format from a --format value; CLI_OK or CLI_USAGE (printed). */
int cli_set_format(struct cli *c, const char *name);

/* ---- SQL (cmd_sql.c) ---- */

struct cli_run {
	const char *origin;   /* where the SQL came from, for messages ("-c", a file) */
	int timer;            /* print the run time of each statement */
	volatile sig_atomic_t *interrupted;  /* NULL, or set by a SIGINT handler */
};

/*
 * Run a script on c->session, one statement at a time, printing every result
 * that has columns in c->format to stdout. Stops at the first error: returns
 * it with err filled (naming the statement when the script has several).
 */
int cli_run_sql(struct cli *c, const char *sql, const struct cli_run *run, struct tn_err *err);

/* Run one query built by tarn and print its result (no splitting). */
int cli_query_print(struct cli *c, const char *sql, struct tn_err *err);

/* ---- the interactive shell (shell.c) ---- */

/* Read statements from the terminal until .quit or end of input. */
int cli_shell(struct cli *c);

#endif
