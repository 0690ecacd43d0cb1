/*
 * cmd_ingest.c: `tarn ingest` (raw zone) and `tarn load` (bronze tables).
 * Placeholder until the ingestion issue lands: clear errors, no guesses.
 */
#include "base/compat.h"
#include "cli/cli.h"

const char cli_usage_ingest[] =
	"usage: tarn ingest dataset (--manual NAME | SOURCE [--name NAME]) | ls [-a] | prune [--dry-run]\n";
const char cli_usage_load[] =
	"usage: tarn load DATASET [--version V] [--table SCHEMA.TABLE] [--mode append|replace]\n";

int cli_cmd_ingest(struct cli *c, int argc, char **argv)
{
	(void)c; (void)argc; (void)argv;
	return cli_error("`tarn ingest` is not available in this build yet");
}

int cli_cmd_load(struct cli *c, int argc, char **argv)
{
	(void)c; (void)argc; (void)argv;
	return cli_error("`tarn load` is not available in this build yet");
}
