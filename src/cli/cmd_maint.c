/*
 * cmd_maint.c: `tarn maintenance compact | expire | cleanup | all`
 * (src/lake/maint.c does the work).
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "base/tn_buf.h"
#include "base/tn_util.h"
#include "lake/maint.h"

#include <string.h>

const char cli_usage_maintenance[] =
	"usage: tarn maintenance compact [SCHEMA.TABLE] [--min-files N] [--dry-run] [--format FMT]\n"
	"       tarn maintenance expire [--older-than AGE|TIME] [--keep N] [--dry-run] [--format FMT]\n"
	"       tarn maintenance cleanup [--older-than AGE|TIME] [--dry-run] [--format FMT]\n"
	"       tarn maintenance all [--older-than AGE|TIME] [--keep N] [--dry-run] [--format FMT]\n"
	"\n"
	"compact  rewrite a table (or every table) with at least --min-files live data\n"
	"         files (default 2), or with deleted rows, into one file: one snapshot\n"
	"         per table; older snapshots still read the old files\n"
	"expire   forget the snapshots taken before --older-than (default: all), always\n"
	"         keeping the newest --keep (default 1); files no kept snapshot can see\n"
	"         are scheduled for deletion. Time travel to an expired snapshot fails.\n"
	"cleanup  delete the files scheduled for deletion before --older-than (default:\n"
	"         all) from the lake's folder or bucket\n"
	"all      compact, expire, cleanup\n"
	"\n"
	"  --older-than AGE|TIME  7d, 12h, 30m, 45s, or a UTC time (2024-05-01 12:00:00)\n"
	"  --keep N               snapshots always kept (default 1)\n"
	"  --min-files N          compact tables with at least N live files (default 2)\n"
	"  --dry-run              count what would be done, change nothing\n"
	"  --format FMT           table, csv, json or jsonl (default: table)\n";

enum { MO_OLDER, MO_KEEP, MO_MIN, MO_DRY, MO_FORMAT };

static const struct cli_opt maint_opts[] = {
	[MO_OLDER] = { "older-than", 0, 1 },
	[MO_KEEP] = { "keep", 0, 1 },
	[MO_MIN] = { "min-files", 0, 1 },
	[MO_DRY] = { "dry-run", 'n', 0 },
	[MO_FORMAT] = { "format", 0, 1 },
};

static int print_report(struct cli *c, const char *action, const struct maint_report *r, int dry,
			struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	tn_buf_adds(&q, "SELECT ");
	tn_buf_add_sqlstr(&q, action);
	tn_buf_addf(&q, " AS action, %s AS dry_run, %ld AS tables_compacted, %ld AS files_compacted, "
		    "%ld AS snapshots_expired, %ld AS files_scheduled, %ld AS files_deleted, %lld AS bytes_freed",
		    dry ? "true" : "false", r->tables_compacted, r->files_compacted, r->snapshots_expired,
		    r->files_scheduled, r->files_deleted, r->bytes_freed);
	rc = cli_query_print(c, q.buf, err);
	tn_buf_release(&q);
	return rc;
}

int cli_cmd_maintenance(struct cli *c, int argc, char **argv)
{
	static const char *const subs[] = { "compact", "expire", "cleanup", "all" };
	const char *sub = argc > 1 ? argv[1] : "", *table = NULL;
	struct maint_expire_opts eo = { 0, 1, 0 };
	struct maint_report rep;
	struct tn_err err = TN_ERR_INIT;
	struct cli_getopt g;
	int64_t n, when = 0;
	size_t i;
	int id, rc = 0, min_files = 2;

	for (i = 0; i < TN_ARRAY_LEN(subs) && strcmp(sub, subs[i]); i++)
		;
	if (i == TN_ARRAY_LEN(subs))
		return cli_usage_error(c->cmd, "%s '%s'; use compact, expire, cleanup or all",
				       *sub ? "unknown subcommand" : "missing subcommand", sub);
	cli_getopt_init(&g, argc - 1, argv + 1, 1, c->cmd);
	while ((id = cli_getopt(&g, maint_opts, TN_ARRAY_LEN(maint_opts))) != CLI_OPT_END) {
		switch (id) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			if (i != 0 || table)
				return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
			table = g.arg;
			break;
		case MO_OLDER:
			if (maint_parse_when(g.arg, &when, &err))
				return cli_usage_error(c->cmd, "--older-than: %s", err.msg);
			break;
		case MO_KEEP:
		case MO_MIN:
			if (tn_parse_int64(g.arg, &n, maint_opts[id].name, &err) || n < 1 || n > 1000000000)
				return cli_usage_error(c->cmd, "--%s wants a number from 1", maint_opts[id].name);
			if (id == MO_KEEP)
				eo.keep_last = (long)n;
			else
				min_files = (int)n;
			break;
		case MO_DRY:
			eo.dry_run = 1;
			break;
		case MO_FORMAT:
			if (fmt_style_parse(g.arg, &c->format))
				return cli_usage_error(c->cmd, "--format %s: use %s", g.arg, FMT_STYLE_NAMES);
			break;
		}
	}
	eo.older_than_us = when;
	memset(&rep, 0, sizeof(rep));
	if (i == 0 || i == 3)
		rc = maint_compact(c->session, table, min_files, eo.dry_run, &rep, &err);
	if (!rc && (i == 1 || i == 3))
		rc = maint_expire(c->lake, &eo, &rep, &err);
	if (!rc && (i == 2 || i == 3))
		rc = maint_cleanup(c->lake, when, eo.dry_run, &rep, &err);
	if (!rc)
		rc = print_report(c, subs[i], &rep, eo.dry_run, &err);
	return rc ? cli_error_err(&err) : CLI_OK;
}
