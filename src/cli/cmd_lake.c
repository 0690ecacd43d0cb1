/*
 * cmd_lake.c: the commands about the lake itself: init, tables, snapshots,
 * describe and fsck. The listings are SQL over tarn's table functions, so
 * the CLI shows exactly what a user's SELECT would.
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "base/tn_buf.h"
#include "lake/lake.h"
#include "lake/session.h"
#include "base/tn_util.h"

#include <inttypes.h>

enum { INIT_DATA_PATH, INIT_QUIET, INIT_INLINE, INIT_DATA, INIT_CATALOG };

static const struct cli_opt init_opts[] = {
	[INIT_DATA_PATH] = { "data-path", 0, 1 },
	[INIT_QUIET] = { "quiet", 'q', 0 },
	[INIT_INLINE] = { "inline-limit", 0, 1 },
	[INIT_DATA] = { "data", 0, 1 },
	[INIT_CATALOG] = { "catalog", 0, 1 },
};

int cli_cmd_init(struct cli *c, int argc, char **argv)
{
	struct lake_init_opts opts = { NULL, -1, NULL };
	struct tn_err err = TN_ERR_INIT;
	struct cli_getopt g;
	const char *dir = NULL;
	int id;

	cli_getopt_init(&g, argc, argv, 1, c->cmd);
	while ((id = cli_getopt(&g, init_opts, TN_ARRAY_LEN(init_opts))) != CLI_OPT_END) {
		switch (id) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			if (dir)
				return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
			dir = g.arg;
			break;
		case INIT_DATA_PATH:
		case INIT_DATA:
			opts.data_path = g.arg;
			break;
		case INIT_QUIET:
			c->quiet = 1;
			break;
		case INIT_CATALOG:
			opts.catalog = g.arg;
			break;
		case INIT_INLINE:
			if (tn_parse_int64(g.arg, &opts.inline_limit, "--inline-limit", &err) ||
			    opts.inline_limit < 0)
				return cli_usage_error(c->cmd, "--inline-limit takes a whole number >= 0");
			break;
		}
	}
	if (!dir)
		dir = c->lake_dir;
	if (lake_init(dir, &opts, &err))
		return cli_error_err(&err);
	if (!c->quiet)
		printf("initialized lake in %s\n", dir);
	return CLI_OK;
}

enum { LIST_FORMAT, LIST_QUIET };

static const struct cli_opt list_opts[] = {
	[LIST_FORMAT] = { "format", 0, 1 },
	[LIST_QUIET] = { "quiet", 'q', 0 },
};

/* The options of the read-only commands: --format, -q and, when `arg` is
 * not NULL, exactly one argument (stored in *arg). */
static int parse_list_args(struct cli *c, int argc, char **argv, const char **arg, const char *what)
{
	struct cli_getopt g;
	int id;

	cli_getopt_init(&g, argc, argv, 1, c->cmd);
	while ((id = cli_getopt(&g, list_opts, TN_ARRAY_LEN(list_opts))) != CLI_OPT_END) {
		switch (id) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			if (!arg || *arg)
				return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
			*arg = g.arg;
			break;
		case LIST_FORMAT:
			if (cli_set_format(c, g.arg))
				return CLI_USAGE;
			break;
		case LIST_QUIET:
			c->quiet = 1;
			break;
		}
	}
	if (arg && !*arg)
		return cli_usage_error(c->cmd, "missing %s", what);
	return CLI_OK;
}

static int list_command(struct cli *c, int argc, char **argv, const char *sql)
{
	struct tn_err err = TN_ERR_INIT;
	int rc = parse_list_args(c, argc, argv, NULL, NULL);

	if (rc)
		return rc;
	if (cli_query_print(c, sql, &err))
		return cli_error_err(&err);
	return CLI_OK;
}

int cli_cmd_tables(struct cli *c, int argc, char **argv)
{
	return list_command(c, argc, argv, "SELECT * FROM tarn_tables()");
}

int cli_cmd_snapshots(struct cli *c, int argc, char **argv)
{
	return list_command(c, argc, argv, "SELECT * FROM tarn_snapshots()");
}

/* SELECT * FROM fn('table'): the name goes in as a quoted SQL literal, so
 * no table name can change the query. */
static int describe_query(struct cli *c, const char *fn, const char *table,
			  struct duck_result **res, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	*res = NULL;
	tn_buf_addf(&q, "SELECT * FROM %s(", fn);
	tn_buf_add_sqlstr(&q, table);
	tn_buf_addc(&q, ')');
	rc = tn_buf_check(&q, err);
	if (!rc)
		rc = session_exec(c->session, q.buf, res, err);
	tn_buf_release(&q);
	return rc;
}

/* What goes before each part and at the end, per format: headings for
 * people, one JSON object for json, a blank line between CSV tables. */
static const struct {
	const char *table, *columns, *files, *end;
} describe_frames[] = {
	[FMT_TABLE] = { "table\n", "\ncolumns\n", "\nfiles\n", "" },
	[FMT_CSV] = { "", "\n", "\n", "" },
	[FMT_JSON] = { "{\"table\":", ",\"columns\":", ",\"files\":", "}\n" },
	[FMT_JSONL] = { "", "", "", "" },
};

static int describe_print(struct cli *c, struct duck_result *info, struct duck_result *cols,
			  struct duck_result *files, struct tn_err *err)
{
	int rc;

	fputs(describe_frames[c->format].table, stdout);
	rc = fmt_result(stdout, info, c->format, err);
	fputs(describe_frames[c->format].columns, stdout);
	if (!rc)
		rc = fmt_result(stdout, cols, c->format, err);
	fputs(describe_frames[c->format].files, stdout);
	if (!rc)
		rc = fmt_result(stdout, files, c->format, err);
	fputs(describe_frames[c->format].end, stdout);
	return rc;
}

/* Both queries run before anything is printed, so an unknown table gives
 * an error and no half-printed output. */
int cli_cmd_describe(struct cli *c, int argc, char **argv)
{
	struct tn_err err = TN_ERR_INIT;
	struct duck_result *info = NULL, *cols = NULL, *files = NULL;
	const char *table = NULL;
	int rc = parse_list_args(c, argc, argv, &table, "TABLE");

	if (rc)
		return rc;
	rc = describe_query(c, "tarn_columns", table, &cols, &err);
	/* Every table has a column, so no rows means no such table. */
	if (!rc && (!cols || duck_result_nrows(cols) == 0))
		rc = tn_err_set(&err, TN_ENOTFOUND, "no table %s in lake %s (see `tarn tables`)",
				table, lake_dir(c->lake));
	if (!rc)
		rc = describe_query(c, "tarn_table", table, &info, &err);
	if (!rc)
		rc = describe_query(c, "tarn_files", table, &files, &err);
	if (!rc)
		rc = describe_print(c, info, cols, files, &err);
	duck_result_free(info);
	duck_result_free(cols);
	duck_result_free(files);
	return rc ? cli_error_err(&err) : CLI_OK;
}

static void json_list(FILE *f, char **items, size_t n)
{
	size_t i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		fmt_json_string(f, items[i]);
	}
	fputc(']', f);
}

static void fsck_json(FILE *f, const struct lake_fsck_report *rep)
{
	fprintf(f, "{\"ok\":%s,\"problems\":", rep->nproblems ? "false" : "true");
	json_list(f, rep->problems, rep->nproblems);
	fputs(",\"orphans\":", f);
	json_list(f, rep->orphans, rep->norphans);
	fprintf(f, ",\"snapshots\":%" PRId64 ",\"tables\":%" PRId64 ",\"files\":%" PRId64 "}\n",
		rep->snapshots, rep->tables, rep->files);
}

static void csv_list(FILE *f, const char *kind, char **items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		fprintf(f, "%s,", kind);
		fmt_csv_field(f, items[i]);
		fputc('\n', f);
	}
}

static const char *plural(int64_t n)
{
	return n == 1 ? "" : "s";
}

static void fsck_text(FILE *f, const struct lake_fsck_report *rep, int quiet)
{
	size_t i;

	for (i = 0; i < rep->nproblems; i++)
		fprintf(f, "problem: %s\n", rep->problems[i]);
	for (i = 0; i < rep->norphans; i++)
		fprintf(f, "orphan: %s\n", rep->orphans[i]);
	if (quiet)
		return;
	fprintf(f, "checked %" PRId64 " snapshot%s, %" PRId64 " table%s, %" PRId64 " file%s: "
		"%zu problem%s, %zu orphan%s\n",
		rep->snapshots, plural(rep->snapshots), rep->tables, plural(rep->tables),
		rep->files, plural(rep->files), rep->nproblems, plural((int64_t)rep->nproblems),
		rep->norphans, plural((int64_t)rep->norphans));
}

static void fsck_print(struct cli *c, const struct lake_fsck_report *rep)
{
	switch (c->format) {
	case FMT_TABLE:
		fsck_text(stdout, rep, c->quiet);
		break;
	case FMT_CSV:
		fputs("kind,detail\n", stdout);
		csv_list(stdout, "problem", rep->problems, rep->nproblems);
		csv_list(stdout, "orphan", rep->orphans, rep->norphans);
		break;
	case FMT_JSON:
	case FMT_JSONL:  /* the report is one object, on one line either way */
		fsck_json(stdout, rep);
		break;
	}
}

int cli_cmd_fsck(struct cli *c, int argc, char **argv)
{
	struct lake_fsck_report rep;
	struct tn_err err = TN_ERR_INIT;
	int rc = parse_list_args(c, argc, argv, NULL, NULL);

	if (rc)
		return rc;
	memset(&rep, 0, sizeof(rep));
	if (lake_fsck(c->lake, &rep, &err))
		return cli_error_err(&err);
	fsck_print(c, &rep);
	rc = CLI_OK;
	if (rep.nproblems)
		rc = cli_error("lake %s has %zu problem%s", lake_dir(c->lake), rep.nproblems,
			       plural((int64_t)rep.nproblems));
	lake_fsck_report_release(&rep);
	return rc;
}
