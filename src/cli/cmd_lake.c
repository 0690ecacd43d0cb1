/*
 * cmd_lake.c: the commands about the lake itself: init, tables, snapshots,
 * describe (with the snapshots that touched the table) and fsck. The listings are SQL over tarn's table functions, so
 * the CLI shows exactly what a user's SELECT would.
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"
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

/*
 * The snapshots that touched the table, from the changes DuckLake records
 * with each snapshot ("inserted_into_table:3,altered_table:3"). Changes
 * name a table by id, except created_table, which names it as
 * "schema"."name": the creation counted is the newest one under the
 * table's current name that is not after its first change by id (a table
 * renamed since was created under its old name, which is not shown).
 */
static const char snapshots_sql[] =
	"WITH c AS (SELECT snapshot_id, snapshot_time, author, commit_message, "
	"unnest(regexp_extract_all(coalesce(changes, ''), "
	"'([a-z_]+):(\"(?:[^\"]|\"\")*\"(?:[.]\"(?:[^\"]|\"\")*\")*|[0-9]+)')) AS ch FROM tarn_snapshots()), "
	"k AS (SELECT *, split_part(ch, ':', 1) AS kind, substr(ch, strpos(ch, ':') + 1) AS val FROM c), "
	"by_id AS (SELECT * FROM k WHERE kind <> 'created_table' AND kind LIKE '%%table%%' "
	"OR kind LIKE 'inlined_%%' OR kind LIKE 'flushed_%%'), "
	"mine AS (SELECT * FROM by_id WHERE val = '%lld'), "
	"made AS (SELECT * FROM k WHERE kind = 'created_table' AND val = %s AND snapshot_id <= "
	"coalesce((SELECT min(snapshot_id) FROM mine), 9223372036854775807) ORDER BY snapshot_id DESC LIMIT 1) "
	"SELECT snapshot_id, snapshot_time, author, commit_message, string_agg(CASE kind "
	"WHEN 'created_table' THEN 'create' WHEN 'inserted_into_table' THEN 'insert' "
	"WHEN 'inlined_insert' THEN 'insert' WHEN 'deleted_from_table' THEN 'delete' "
	"WHEN 'inlined_delete' THEN 'delete' WHEN 'altered_table' THEN 'alter' WHEN 'dropped_table' THEN 'drop' "
	"WHEN 'compacted_table' THEN 'compact' ELSE kind END, ', ' ORDER BY kind) AS change "
	"FROM (SELECT * FROM made UNION ALL SELECT * FROM mine) "
	"GROUP BY ALL ORDER BY snapshot_id";

/* "schema"."name" as created_table writes it (quotes doubled), as a SQL literal. */
static char *created_literal(const char *schema, const char *name)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX), lit = TN_BUF_INIT(TN_BUF_NOMAX);
	char *out;

	tn_buf_add_sqlid(&q, schema);
	tn_buf_addc(&q, '.');
	tn_buf_add_sqlid(&q, name);
	tn_buf_add_sqlstr(&lit, q.buf ? q.buf : "");
	out = tn_buf_detach(&lit, NULL);
	tn_buf_release(&q);
	return out;
}

static int describe_snapshots(struct cli *c, struct duck_result *info, struct duck_result **res,
			      struct tn_err *err)
{
	char *schema, *name, *lit, *sql;
	int rc;

	*res = NULL;
	if (!info || duck_result_nrows(info) == 0)
		return tn_err_set(err, TN_ENOTFOUND, "no table in lake %s (see `tarn tables`)", lake_dir(c->lake));
	schema = duck_result_text(info, 0, 0);
	name = duck_result_text(info, 1, 0);
	lit = created_literal(schema ? schema : "", name ? name : "");
	sql = tn_xprintf(snapshots_sql, (long long)duck_result_int(info, 2, 0), lit);
	rc = session_exec(c->session, sql, res, err);
	tn_free(sql);
	tn_free(lit);
	tn_free(name);
	tn_free(schema);
	return rc;
}

/* What goes before each part and at the end, per format: headings for
 * people, one JSON object for json, a blank line between CSV tables. */
static const struct {
	const char *table, *columns, *files, *snapshots, *end;
} describe_frames[] = {
	[FMT_TABLE] = { "table\n", "\ncolumns\n", "\nfiles\n", "\nsnapshots\n", "" },
	[FMT_CSV] = { "", "\n", "\n", "\n", "" },
	[FMT_JSON] = { "{\"table\":", ",\"columns\":", ",\"files\":", ",\"snapshots\":", "}\n" },
	[FMT_JSONL] = { "", "", "", "", "" },
};

static int describe_print(struct cli *c, struct duck_result *info, struct duck_result *cols,
			  struct duck_result *files, struct duck_result *snaps, struct tn_err *err)
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
	fputs(describe_frames[c->format].snapshots, stdout);
	if (!rc)
		rc = fmt_result(stdout, snaps, c->format, err);
	fputs(describe_frames[c->format].end, stdout);
	return rc;
}

/* Every query runs before anything is printed, so an unknown table gives
 * an error and no half-printed output. */
int cli_cmd_describe(struct cli *c, int argc, char **argv)
{
	struct tn_err err = TN_ERR_INIT;
	struct duck_result *info = NULL, *cols = NULL, *files = NULL, *snaps = NULL;
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
		rc = describe_snapshots(c, info, &snaps, &err);
	if (!rc)
		rc = describe_print(c, info, cols, files, snaps, &err);
	duck_result_free(snaps);
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
