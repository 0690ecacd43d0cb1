/*
 * cmd_serve.c: `tarn serve`, the HTTP API (src/server/).
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "lake/lake.h"
#include "server/server.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <stdio.h>

const char cli_usage_serve[] =
	"usage: tarn serve [--host ADDR] [--port N] [--threads N] [--tokens FILE]\n"
	"                  [--max-body-kb N] [--max-upload-mb N] [--max-rows N]\n"
	"                  [--timeout SECONDS] [--queue-timeout SECONDS] [-q]\n"
	"       tarn serve --hash-token TOKEN\n"
	"\n"
	"Serve the lake over HTTP (JSON): GET /v1/health, POST /v1/query\n"
	"({\"sql\": ..., \"params\": [...], \"at\": {\"version\": N}, \"limit\": N};\n"
	"CSV with Accept: text/csv, Parquet with Accept: application/vnd.apache.parquet),\n"
	"POST /v1/datasets/NAME/files (upload: a raw body with ?filename=, or\n"
	"multipart; ?load=SCHEMA.TABLE&mode=append|replace loads it), GET /v1/datasets,\n"
	"GET /v1/tables[/SCHEMA.TABLE[/snapshots]], GET /v1/snapshots, GET|POST\n"
	"/v1/exports, GET /metrics (Prometheus), GET /openapi.json, GET /docs.\n"
	"Callers send 'Authorization: Bearer TOKEN'. The tokens file has one line\n"
	"per token: 'SHA256HEX NAME ROLE' (roles reader, writer, admin; make the\n"
	"hash with --hash-token). A reader may run one SELECT per request, on a\n"
	"DuckDB that cannot read or write outside the lake. Without --tokens the\n"
	"server listens on 127.0.0.1 only and every caller is admin. SIGTERM and\n"
	"SIGINT let requests in flight finish, then stop.\n"
	"\n"
	"  --host ADDR        IPv4 address to bind (default 127.0.0.1)\n"
	"  --port N           default 8080\n"
	"  --threads N        queries run at once, each on a worker with its own\n"
	"                     sessions (default 4); every connection has its own\n"
	"                     thread, so /v1/health and the catalog never wait\n"
	"  --tokens FILE      the tokens file\n"
	"  --max-body-kb N    largest request body (default 1024)\n"
	"  --max-upload-mb N  largest upload (default 1024)\n"
	"  --max-rows N       most rows a query returns (default 100000)\n"
	"  --timeout SECONDS  a query's time limit (default 60)\n"
	"  --queue-timeout SECONDS\n"
	"                     how long a query waits for a free worker before a\n"
	"                     503 'busy' (default 10)\n"
	"  --hash-token TOKEN print the SHA-256 of TOKEN for the tokens file\n"
	"  -q, --quiet        no access log\n";

int cli_cmd_serve(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "host", 0, 1 }, { "port", 'p', 1 }, { "threads", 0, 1 }, { "tokens", 0, 1 },
		{ "max-body-kb", 0, 1 }, { "max-rows", 0, 1 }, { "hash-token", 0, 1 }, { "quiet", 'q', 0 },
		{ "max-upload-mb", 0, 1 }, { "timeout", 0, 1 }, { "queue-timeout", 0, 1 },
	};
	struct server_opts so;
	struct cli_getopt g;
	struct tn_err err = TN_ERR_INIT;
	int o;

	memset(&so, 0, sizeof(so));
	so.version = TARN_VERSION;
	so.quiet = c->quiet;
	cli_getopt_init(&g, argc, argv, 1, c->cmd);
	while ((o = cli_getopt(&g, opts, TN_ARRAY_LEN(opts))) != CLI_OPT_END) {
		int64_t n = 0;
		if (o == CLI_OPT_ERR)
			return CLI_USAGE;
		if (o == CLI_OPT_ARG)
			return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
		if ((o == 1 || o == 2 || o == 4 || o == 5 || o == 8 || o == 9 || o == 10) &&
		    (tn_parse_int64(g.arg, &n, opts[o].name, &err) || n < 1 || n > (o == 1 ? 65535 : 1 << 30)))
			return cli_usage_error(c->cmd, "--%s wants a positive number", opts[o].name);
		switch (o) {
		case 0: so.host = g.arg; break;
		case 1: so.port = (int)n; break;
		case 2: so.threads = (int)n; break;
		case 3: so.tokens_file = g.arg; break;
		case 4: so.max_body = (long)n * 1024; break;
		case 5: so.max_rows = (long)n; break;
		case 6: {
			char *h = server_hash_token(g.arg);
			printf("%s\n", h);
			tn_free(h);
			return CLI_OK;
		}
		case 7: so.quiet = 1; break;
		case 8: so.max_upload = (long long)n << 20; break;
		case 9: so.timeout_ms = (long)n * 1000; break;
		case 10: so.queue_ms = (long)n * 1000; break;
		}
	}
	if (!c->lake) {
		struct tn_err e = TN_ERR_INIT;
		if (lake_open(&c->lake, c->lake_dir, &e))
			return cli_error_err(&e);
	}
	if (server_run(c->lake, &so, &err))
		return cli_error_err(&err);
	return CLI_OK;
}
