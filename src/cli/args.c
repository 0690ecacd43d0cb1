/*
 * args.c: the CLI's messages and its option parser. A small parser of our
 * own instead of getopt_long: it keeps no global state, so main() and each
 * command can read their part of argv in turn.
 */
#include "base/compat.h"
#include "cli/cli.h"

TN_PRINTF(2, 0)
static void vmessage(const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "tarn: %s: ", kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("error", fmt, ap);
	va_end(ap);
	return CLI_FAIL;
}

int cli_error_err(const struct tn_err *err)
{
	return cli_error("%s", err->msg[0] ? err->msg : tn_code_name(err->code));
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning", fmt, ap);
	va_end(ap);
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("tarn: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, " (see `tarn %s --help`)\n", cmd->name);
	else
		fputs(" (see `tarn --help`)\n", stderr);
	return CLI_USAGE;
}

int cli_set_format(struct cli *c, const char *name)
{
	if (fmt_style_parse(name, &c->format) == 0)
		return CLI_OK;
	return cli_usage_error(c->cmd, "unknown format '%s'; use one of: %s", name, FMT_STYLE_NAMES);
}

void cli_getopt_init(struct cli_getopt *g, int argc, char **argv, int first,
		     const struct cli_cmd *cmd)
{
	memset(g, 0, sizeof(*g));
	g->argc = argc;
	g->argv = argv;
	g->next = first;
	g->cmd = cmd;
}

static int find_long(const struct cli_opt *opts, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(opts[i].name) == len && !memcmp(opts[i].name, name, len))
			return (int)i;
	return -1;
}

static int find_short(const struct cli_opt *opts, size_t n, char c)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (opts[i].short_name && opts[i].short_name == c)
			return (int)i;
	return -1;
}

/* The option's value: glued to it (`inline_val`) or the next argument. */
static int take_value(struct cli_getopt *g, const char *inline_val, const char *shown)
{
	if (inline_val) {
		g->arg = inline_val;
		return 0;
	}
	if (g->next >= g->argc) {
		cli_usage_error(g->cmd, "option %s needs a value", shown);
		return -1;
	}
	g->arg = g->argv[g->next++];
	return 0;
}

static int long_opt(struct cli_getopt *g, const struct cli_opt *opts, size_t n, const char *body)
{
	const char *eq = strchr(body, '=');
	size_t len = eq ? (size_t)(eq - body) : strlen(body);
	int i = find_long(opts, n, body, len);
	char shown[64];

	if (i < 0) {
		cli_usage_error(g->cmd, "unknown option '--%.*s'", (int)len, body);
		return CLI_OPT_ERR;
	}
	snprintf(shown, sizeof(shown), "--%s", opts[i].name);
	if (!opts[i].has_arg) {
		if (!eq)
			return i;
		cli_usage_error(g->cmd, "option %s takes no value", shown);
		return CLI_OPT_ERR;
	}
	if (take_value(g, eq ? eq + 1 : NULL, shown))
		return CLI_OPT_ERR;
	return i;
}

static int short_opt(struct cli_getopt *g, const struct cli_opt *opts, size_t n, const char *body)
{
	int i = find_short(opts, n, body[0]);
	char shown[3] = { '-', body[0], '\0' };

	if (i < 0) {
		cli_usage_error(g->cmd, "unknown option '%s'", shown);
		return CLI_OPT_ERR;
	}
	if (!opts[i].has_arg) {
		if (!body[1])
			return i;
		cli_usage_error(g->cmd, "option %s takes no value (write flags separately)", shown);
		return CLI_OPT_ERR;
	}
	if (take_value(g, body[1] ? body + 1 : NULL, shown))
		return CLI_OPT_ERR;
	return i;
}

int cli_getopt(struct cli_getopt *g, const struct cli_opt *opts, size_t nopts)
{
	const char *a;

	g->arg = NULL;
	if (g->next >= g->argc)
		return CLI_OPT_END;
	a = g->argv[g->next++];
	if (!g->only_args && !strcmp(a, "--")) {
		g->only_args = 1;
		return cli_getopt(g, opts, nopts);
	}
	/* "-" alone is an argument (standard input), as everywhere. */
	if (g->only_args || a[0] != '-' || a[1] == '\0') {
		g->arg = a;
		return CLI_OPT_ARG;
	}
	if (a[1] == '-')
		return long_opt(g, opts, nopts, a + 2);
	return short_opt(g, opts, nopts, a + 1);
}
