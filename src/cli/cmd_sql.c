/*
 * cmd_sql.c: `tarn sql`. Scripts are split into statements here (rather
 * than handed whole to session_exec, which keeps only the last result) so
 * that every statement's result is printed, as DuckDB's own CLI does.
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"
#include "lake/session.h"
#include "lake/sqlparse.h"

#include <errno.h>
#include <unistd.h>

int cli_query_print(struct cli *c, const char *sql, struct tn_err *err)
{
	struct duck_result *res = NULL;
	int rc = session_exec(c->session, sql, &res, err);

	if (!rc)
		rc = fmt_result(stdout, res, c->format, err);
	duck_result_free(res);
	return rc;
}

static int run_statement(struct cli *c, const char *stmt, const struct cli_run *run,
			 struct tn_err *err)
{
	struct duck_result *res = NULL;
	struct cli_progress *bar = cli_progress_start(session_duck(c->session));
	double t0 = tn_mono(), t1;
	int rc = session_exec(c->session, stmt, &res, err);

	cli_progress_stop(bar);
	t1 = tn_mono();
	/* SET, PRAGMA and the like return no rows: print nothing, as DuckDB's shell does. */
	if (!rc && res && duck_result_has_rows(res))
		rc = fmt_result(stdout, res, c->format, err);
	duck_result_free(res);
	if (!rc && run->timer)
		printf("Run Time: %.3f s\n", t1 - t0);
	/* Results and errors go to two streams; keep them in order. */
	fflush(stdout);
	return rc;
}

int cli_run_sql(struct cli *c, const char *sql, const struct cli_run *run, struct tn_err *err)
{
	char **stmts = NULL;
	size_t n = 0, i;
	int rc;

	rc = sqlparse_split(sql, &stmts, &n, err);
	if (rc) {
		if (run->origin)
			tn_err_prefix(err, "%s", run->origin);
		return rc;
	}
	for (i = 0; i < n && !rc; i++) {
		if (run->interrupted && *run->interrupted)
			rc = tn_err_set(err, TN_EINVAL, "interrupted");
		else
			rc = run_statement(c, stmts[i], run, err);
		if (rc && n > 1 && run->origin)
			tn_err_prefix(err, "%s: statement %zu", run->origin, i + 1);
		else if (rc && n > 1)
			tn_err_prefix(err, "statement %zu", i + 1);
	}
	sqlparse_free_list(stmts, n);
	return rc;
}

static int read_stream(FILE *f, const char *name, char **out, struct tn_err *err)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	char chunk[65536];
	size_t n;
	int rc;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		tn_buf_add(&b, chunk, n);
	if (ferror(f)) {
		tn_buf_release(&b);
		return tn_err_set(err, TN_EIO, "cannot read %s: %s", name, strerror(errno));
	}
	rc = tn_buf_check(&b, err);
	*out = rc ? NULL : tn_buf_detach(&b, NULL);
	tn_buf_release(&b);
	return rc;
}

/* One -c or -f argument, in the order given. */
struct source {
	int is_file;
	const char *arg;   /* SQL text, or a path ("-" = standard input) */
};

static int run_source(struct cli *c, const struct source *src)
{
	struct tn_err err = TN_ERR_INIT;
	struct cli_run run = { "-c", 0, NULL };
	char *text = NULL;
	int rc = 0;

	if (src->is_file && !strcmp(src->arg, "-")) {
		run.origin = "stdin";
		rc = read_stream(stdin, "standard input", &text, &err);
	} else if (src->is_file) {
		run.origin = src->arg;
		rc = tn_fs_read_all(src->arg, &text, NULL, &err);
	}
	if (!rc)
		rc = cli_run_sql(c, text ? text : src->arg, &run, &err);
	tn_free(text);
	return rc ? cli_error_err(&err) : CLI_OK;
}

/* A script that ends inside BEGIN ... loses that work (session_close rolls
 * it back); say so rather than exit 0. */
static int check_open_txn(struct cli *c)
{
	if (!session_in_txn(c->session))
		return CLI_OK;
	return cli_error("the input ended inside a transaction, which was rolled back "
			 "(end it with COMMIT)");
}

enum { SQL_COMMAND, SQL_FILE, SQL_FORMAT, SQL_QUIET };

static const struct cli_opt sql_opts[] = {
	[SQL_COMMAND] = { "command", 'c', 1 },
	[SQL_FILE] = { "file", 'f', 1 },
	[SQL_FORMAT] = { "format", 0, 1 },
	[SQL_QUIET] = { "quiet", 'q', 0 },
};

/* Fills src[] (room for argc entries) in command-line order. */
static int parse_sql_args(struct cli *c, int argc, char **argv, struct source *src, size_t *n)
{
	struct cli_getopt g;
	int id;

	cli_getopt_init(&g, argc, argv, 1, c->cmd);
	while ((id = cli_getopt(&g, sql_opts, TN_ARRAY_LEN(sql_opts))) != CLI_OPT_END) {
		switch (id) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			return cli_usage_error(c->cmd, "unexpected argument '%s' (SQL goes after -c)",
					       g.arg);
		case SQL_COMMAND:
		case SQL_FILE:
			src[*n].is_file = id == SQL_FILE;
			src[(*n)++].arg = g.arg;
			break;
		case SQL_FORMAT:
			if (cli_set_format(c, g.arg))
				return CLI_USAGE;
			break;
		case SQL_QUIET:
			c->quiet = 1;
			break;
		}
	}
	return CLI_OK;
}

int cli_cmd_sql(struct cli *c, int argc, char **argv)
{
	struct source *src = tn_calloc((size_t)argc, sizeof(*src));
	struct source in = { 1, "-" };
	size_t n = 0, i;
	int shell = 0, rc = parse_sql_args(c, argc, argv, src, &n);

	if (!rc && n == 0) {
		shell = isatty(STDIN_FILENO);
		rc = shell ? cli_shell(c) : run_source(c, &in);
	}
	for (i = 0; i < n && !rc; i++)
		rc = run_source(c, &src[i]);
	if (!rc && !shell)
		rc = check_open_txn(c);
	tn_free(src);
	return rc;
}
