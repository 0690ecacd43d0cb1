/*
 * cmd_share.c: `tarn export`, `tarn catalog` and `tarn tools`.
 * Placeholder until the sharing issue lands: clear errors, no guesses.
 */
#include "base/compat.h"
#include "cli/cli.h"

const char cli_usage_export[] = "usage: tarn export (dataset | ls | prune | pins) ...\n";
const char cli_usage_catalog[] = "usage: tarn catalog (ls | search | backup | restore) ...\n";
const char cli_usage_tools[] = "usage: tarn tools generate-init-sql [--out FILE]\n";

int cli_cmd_export(struct cli *c, int argc, char **argv)
{
	(void)c; (void)argc; (void)argv;
	return cli_error("`tarn export` is not available in this build yet");
}

int cli_cmd_catalog(struct cli *c, int argc, char **argv)
{
	(void)c; (void)argc; (void)argv;
	return cli_error("`tarn catalog` is not available in this build yet");
}

int cli_cmd_tools(struct cli *c, int argc, char **argv)
{
	(void)c; (void)argc; (void)argv;
	return cli_error("`tarn tools` is not available in this build yet");
}
