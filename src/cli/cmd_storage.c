/*
 * cmd_storage.c: `tarn storage ls [PREFIX]` and `tarn storage du [PREFIX]`,
 * a quick look at the lake's data path (a local folder or a bucket) through
 * the same storage layer the lake uses.
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"
#include "lake/lake.h"
#include "store/store.h"

#include <inttypes.h>

const char cli_usage_storage[] =
	"usage: tarn storage ls [--format FMT] [PREFIX]\n"
	"       tarn storage du [--format FMT] [PREFIX]\n"
	"\n"
	"List the objects under the lake's data path (a folder or s3://bucket/prefix/),\n"
	"or sum their sizes by top-level folder (stage/, marts/<schema>/ ...).\n"
	"\n"
	"  --format FMT  table, csv, json or jsonl (default: table)\n";

struct du_row {
	char *folder;
	int64_t objects, bytes;
};

struct walk {
	struct cli *c;
	int du;
	size_t n;
	/* du: one row per folder */
	struct du_row *rows;
	size_t nrows, alloc;
};

static void print_row(struct cli *c, size_t i, const char *key, int64_t a, int64_t b, int du)
{
	const char *k1 = du ? "folder" : "key", *k2 = du ? "objects" : "bytes";

	switch (c->format) {
	case FMT_CSV:
		if (i == 0)
			printf("%s,%s%s\n", k1, k2, du ? ",bytes" : "");
		fmt_csv_field(stdout, key);
		if (du)
			printf(",%" PRId64 ",%" PRId64 "\n", a, b);
		else
			printf(",%" PRId64 "\n", a);
		break;
	case FMT_JSON:
	case FMT_JSONL:
		if (c->format == FMT_JSON)
			fputs(i == 0 ? "[" : ",", stdout);
		printf("{\"%s\":", k1);
		fmt_json_string(stdout, key);
		if (du)
			printf(",\"objects\":%" PRId64 ",\"bytes\":%" PRId64 "}", a, b);
		else
			printf(",\"bytes\":%" PRId64 "}", a);
		if (c->format == FMT_JSONL)
			putchar('\n');
		break;
	default:
		if (du)
			printf("%12" PRId64 " %8" PRId64 "  %s\n", b, a, key);
		else
			printf("%12" PRId64 "  %s\n", a, key);
		break;
	}
}

static int on_object(void *arg, const char *key, int64_t size)
{
	struct walk *w = arg;
	const char *slash;
	size_t len, i;

	if (!w->du) {
		print_row(w->c, w->n++, key, size, 0, 0);
		return 0;
	}
	/* The folder: the first path segment, or the first two under marts/. */
	slash = strchr(key, '/');
	if (slash && !strncmp(key, "marts/", 6) && strchr(slash + 1, '/'))
		slash = strchr(slash + 1, '/');
	len = slash ? (size_t)(slash - key + 1) : strlen(key);
	for (i = 0; i < w->nrows; i++)
		if (strlen(w->rows[i].folder) == len && !strncmp(w->rows[i].folder, key, len))
			break;
	if (i == w->nrows) {
		TN_GROW(w->rows, w->alloc, w->nrows + 1);
		w->rows[i].folder = tn_strndup(key, len);
		w->rows[i].objects = w->rows[i].bytes = 0;
		w->nrows++;
	}
	w->rows[i].objects++;
	w->rows[i].bytes += size;
	return 0;
}

int cli_cmd_storage(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = { { "format", 0, 1 } };
	struct tn_err err = TN_ERR_INIT;
	struct walk w = { c, 0, 0, NULL, 0, 0 };
	struct cli_getopt g;
	const char *verb = NULL, *prefix = "";
	size_t i;
	int id, rc;

	cli_getopt_init(&g, argc, argv, 1, c->cmd);
	while ((id = cli_getopt(&g, opts, TN_ARRAY_LEN(opts))) != CLI_OPT_END) {
		if (id == CLI_OPT_ERR)
			return CLI_USAGE;
		if (id == 0 && fmt_style_parse(g.arg, &c->format))
			return cli_usage_error(c->cmd, "unknown format '%s'", g.arg);
		if (id == CLI_OPT_ARG && !verb)
			verb = g.arg;
		else if (id == CLI_OPT_ARG)
			prefix = g.arg;
	}
	if (!verb || (strcmp(verb, "ls") && strcmp(verb, "du")))
		return cli_usage_error(c->cmd, "expected ls or du");
	w.du = !strcmp(verb, "du");
	rc = store_list(lake_store(c->lake), prefix, on_object, &w, &err);
	for (i = 0; !rc && i < w.nrows; i++)
		print_row(c, i, w.rows[i].folder, w.rows[i].objects, w.rows[i].bytes, 1);
	if (c->format == FMT_JSON && (w.du ? w.nrows : w.n) > 0)
		puts("]");
	else if (c->format == FMT_JSON)
		puts("[]");
	for (i = 0; i < w.nrows; i++)
		tn_free(w.rows[i].folder);
	tn_free(w.rows);
	return rc ? cli_error_err(&err) : CLI_OK;
}
