/*
 * cmd_gen.c: `tarn gen retail`, synthetic data for the demo, the example
 * project and benchmarks. It needs no lake: it writes Parquet files to a
 * folder, which `tarn ingest dataset` then lands in the raw zone.
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "engine/duck.h"
#include "gen/gen.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <inttypes.h>
#include <stdio.h>

const char cli_usage_gen[] =
	"usage: tarn gen retail [--out DIR] [--scale N] [--seed S] [--threads N] [--format FMT]\n"
	"\n"
	"Write a synthetic retail company as Parquet files to DIR (default:\n"
	"retail-data): customers and stores with SCD2 history (version,\n"
	"valid_from, valid_to, updated_at), products, and sales over 2023-2024.\n"
	"Product popularity is skewed, sales rise on weekends and in November and\n"
	"December, and a few values are dirty (missing or badly cased emails,\n"
	"stray spaces in cities, returns as negative quantities, anonymous sales).\n"
	"The same seed and scale always give the same rows.\n"
	"\n"
	"  --out DIR       where the files go (made if missing)\n"
	"  --scale N       1 = about 1,000 customers and 50,000 sales (default 1)\n"
	"  --seed S        any integer (default 42)\n"
	"  --threads N     DuckDB threads (default: all cores); the files are the\n"
	"                  same whatever N is\n"
	"  --format FMT    the summary as table, csv, json or jsonl\n";

static int print_report(struct cli *c, struct duck *d, const char *out, const struct gen_report *rep,
			struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	size_t i;
	int rc;

	tn_buf_adds(&q, "SELECT * FROM (VALUES ");
	for (i = 0; i < rep->n; i++) {
		char *path = tn_xprintf("%s/%s", out, rep->files[i].name);
		tn_buf_adds(&q, i ? ", (" : "(");
		tn_buf_add_sqlstr(&q, path);
		tn_buf_addf(&q, ", %" PRId64 ")", rep->files[i].rows);
		tn_free(path);
	}
	tn_buf_adds(&q, ") AS f(file, \"rows\")");
	rc = duck_query(d, q.buf, &r, err);
	if (!rc)
		rc = fmt_result(stdout, r, c->format, err);
	duck_result_free(r);
	tn_buf_release(&q);
	return rc;
}

int cli_cmd_gen(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "out", 0, 1 }, { "scale", 0, 1 }, { "seed", 0, 1 }, { "format", 0, 1 }, { "threads", 0, 1 },
	};
	struct cli_getopt g;
	struct tn_err err = TN_ERR_INIT;
	struct gen_report rep;
	struct duck *d = NULL;
	const char *out = "retail-data", *what = NULL;
	struct duck_opts dopts = { NULL, 0, NULL };
	int64_t scale = 1, seed = 42, threads = 0;
	int o, rc = CLI_OK;
	double t0 = tn_mono();

	cli_getopt_init(&g, argc, argv, 1, c->cmd);
	while ((o = cli_getopt(&g, opts, TN_ARRAY_LEN(opts))) != CLI_OPT_END) {
		if (o == CLI_OPT_ERR)
			return CLI_USAGE;
		if (o == CLI_OPT_ARG && !what)
			what = g.arg;
		else if (o == CLI_OPT_ARG)
			return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
		else if (o == 0)
			out = g.arg;
		else if ((o == 1 && tn_parse_int64(g.arg, &scale, "--scale", &err)) ||
			 (o == 2 && tn_parse_int64(g.arg, &seed, "--seed", &err)))
			return cli_usage_error(c->cmd, "%s", err.msg);
		else if (o == 3 && cli_set_format(c, g.arg) != CLI_OK)
			return CLI_USAGE;
		else if (o == 4 && (tn_parse_int64(g.arg, &threads, "--threads", &err) || threads < 1 || threads > 1024))
			return cli_usage_error(c->cmd, "%s", err.msg[0] ? err.msg : "--threads must be between 1 and 1024");
	}
	if (!what || strcmp(what, "retail"))
		return cli_usage_error(c->cmd, "%s", what ? "the only generator is 'retail'" :
				       "name a generator: tarn gen retail");
	dopts.threads = (int)threads;
	if (duck_open(&d, &dopts, &err) || gen_retail(d, out, scale, seed, &rep, &err)) {
		duck_close(d);
		return cli_error_err(&err);
	}
	if (print_report(c, d, out, &rep, &err))
		rc = cli_error_err(&err);
	fflush(stdout);
	if (!c->quiet)
		fprintf(stderr, "tarn: generated retail data (scale %" PRId64 ", seed %" PRId64 ") in %.1f s\n",
			scale, seed, tn_mono() - t0);
	gen_report_release(&rep);
	duck_close(d);
	return rc;
}
