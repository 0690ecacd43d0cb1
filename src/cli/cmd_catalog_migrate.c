/*
 * cmd_catalog_migrate.c: `tarn catalog migrate --to URI [--dry-run]`, which
 * moves the lake's catalog to PostgreSQL or back to a SQLite file
 * (lake/lake_migrate.h). Prints one summary row, and names the old
 * catalog so the move can be undone.
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"
#include "engine/duck.h"
#include "lake/lake.h"
#include "lake/lake_migrate.h"
#include "lake/session.h"

enum { MO_TO, MO_DRY_RUN, MO_FORMAT };

static const struct cli_opt migrate_opts[] = {
	[MO_TO] = { "to", 0, 1 },
	[MO_DRY_RUN] = { "dry-run", 'n', 0 },
	[MO_FORMAT] = { "format", 0, 1 },
};

struct migrate_args {
	const char *to;
	int dry_run;
};

/* argv[0] is "migrate". */
static int parse_migrate(struct cli *c, int argc, char **argv, struct migrate_args *a)
{
	struct cli_getopt g;
	int id;

	memset(a, 0, sizeof(*a));
	cli_getopt_init(&g, argc, argv, 1, c->cmd);
	while ((id = cli_getopt(&g, migrate_opts, TN_ARRAY_LEN(migrate_opts))) != CLI_OPT_END) {
		if (id == CLI_OPT_ERR)
			return CLI_USAGE;
		if (id == CLI_OPT_ARG)
			return cli_usage_error(c->cmd, "unexpected argument '%s' (the target goes after --to)", g.arg);
		if (id == MO_TO)
			a->to = g.arg;
		else if (id == MO_DRY_RUN)
			a->dry_run = 1;
		else if (id == MO_FORMAT && cli_set_format(c, g.arg))
			return CLI_USAGE;
	}
	if (!a->to || !*a->to)
		return cli_usage_error(c->cmd, "`catalog migrate` needs --to postgres://user@host:port/database "
				       "or --to sqlite");
	return CLI_OK;
}

static int64_t table_rows(const struct catalog_migrate_report *rep, const char *name)
{
	size_t i;

	for (i = 0; i < rep->ntables; i++)
		if (!strcmp(rep->tables[i].name, name))
			return rep->tables[i].rows;
	return 0;
}

/* The summary row, printed through a DuckDB of its own (the session of
 * this run would open the catalog that was just replaced). */
static int print_summary(struct cli *c, const struct lake_migrate_result *res, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck *d = NULL;
	struct duck_result *r = NULL;
	int rc;

	tn_buf_adds(&q, "SELECT ");
	tn_buf_add_sqlstr(&q, res->from);
	tn_buf_adds(&q, " AS \"from\", ");
	tn_buf_add_sqlstr(&q, res->to);
	tn_buf_adds(&q, " AS \"to\", ");
	if (res->kept)
		tn_buf_add_sqlstr(&q, res->kept);
	else
		tn_buf_adds(&q, "CAST(NULL AS VARCHAR)");
	tn_buf_addf(&q, " AS old_catalog_kept_as, CAST(%zu AS BIGINT) AS tables, CAST(%lld AS BIGINT) AS \"rows\", "
		    "CAST(%lld AS BIGINT) AS snapshots, CAST(%zu AS BIGINT) AS indexes, %s AS dry_run",
		    res->copy.ntables, (long long)res->copy.rows,
		    (long long)table_rows(&res->copy, "ducklake_snapshot"), res->copy.nindexes,
		    res->dry_run ? "true" : "false");
	rc = tn_buf_check(&q, err);
	if (!rc)
		rc = duck_open(&d, NULL, err);
	if (!rc)
		rc = duck_query(d, q.buf, &r, err);
	if (!rc)
		rc = fmt_result(stdout, r, c->format, err);
	duck_result_free(r);
	duck_close(d);
	tn_buf_release(&q);
	return rc;
}

int cli_cmd_catalog_migrate(struct cli *c, int argc, char **argv)
{
	struct tn_err err = TN_ERR_INIT;
	struct lake_migrate_result res;
	struct migrate_args a;
	int rc = parse_migrate(c, argc, argv, &a);

	if (rc != CLI_OK)
		return rc;
	if (c->session) {
		session_close(c->session);   /* nothing of ours may hold the old catalog */
		c->session = NULL;
	}
	rc = lake_migrate(c->lake, a.to, a.dry_run, &res, &err);
	if (!rc)
		rc = print_summary(c, &res, &err);
	if (!rc && !c->quiet && !a.dry_run)
		fprintf(stderr, "tarn: the lake now uses %s; the old catalog %s is kept%s%s (stop every other "
			"process that had the lake open)\n", res.to, res.from, res.kept ? " as " : "",
			res.kept ? res.kept : " unchanged");
	lake_migrate_result_release(&res);
	return rc ? cli_error_err(&err) : CLI_OK;
}
