/*
 * cmd_share.c: `tarn export` (datasets with manifests, pins boards),
 * `tarn catalog` (ls, search, backup, restore) and `tarn tools`
 * (generate-init-sql). The work is in src/share and src/lake/backup.c;
 * this file reads options and prints every result as a table built in SQL,
 * so all of them come out in each --format like the other listings.
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"
#include "lake/backup.h"
#include "lake/lake.h"
#include "lake/session.h"
#include "share/discover.h"
#include "share/export.h"
#include "share/initsql.h"
#include "share/pins.h"

const char cli_usage_export[] =
	"usage: tarn export dataset DOMAIN SCHEMA [--tables T,...] [--format parquet|csv|json] [--at N]\n"
	"       tarn export ls [-a] [--format FMT] [DOMAIN [DATASET]]\n"
	"       tarn export prune [--keep N] [--older-than AGE] [--dry-run] [DOMAIN [DATASET]]\n"
	"       tarn export pins BOARD SCHEMA.TABLE[=PIN]... [--type parquet|csv] [--force]\n"
	"\n"
	"dataset  write the tables of SCHEMA, read at one snapshot, to\n"
	"         <lake>/exports/DOMAIN/SCHEMA/YYYY_MM_DD/HH_mm_SS_sss/ (UTC) and record\n"
	"         the version in manifest.json beside it (files, sizes, SHA-256, rows,\n"
	"         snapshot, comments). Parquet files carry the table and column\n"
	"         comments in their key-value metadata.\n"
	"  --tables T,...   only these tables (repeatable; default: all of SCHEMA)\n"
	"  --format F       file format: parquet (default), csv or json (JSON lines);\n"
	"                   the output format is the global option: tarn --format json export ...\n"
	"  --at N           export snapshot N (see `tarn snapshots`) instead of the latest\n"
	"ls       the latest version of each exported dataset; -a, --all: every version\n"
	"prune    delete old versions (manifest first, then folders); the latest stays\n"
	"  --keep N         keep the newest N versions of each dataset\n"
	"  --older-than AGE only versions older than AGE: 30d, 12h, 90m, 2w (bare number: days)\n"
	"  --dry-run        list what would be deleted\n"
	"pins     write each table as a new version of a pin on the pins board in folder\n"
	"         BOARD (R and Python `pins::board_folder`), then refresh _pins.yaml. The\n"
	"         pin is named after the table unless =PIN names it.\n"
	"  --type T         parquet (default) or csv\n"
	"  --force          write a version even when the data equals the newest one\n";

const char cli_usage_catalog[] =
	"usage: tarn catalog ls [--schema S] [--format FMT]\n"
	"       tarn catalog search [--format FMT] WORD...\n"
	"       tarn catalog backup [--format FMT]\n"
	"       tarn catalog backups [--format FMT]\n"
	"       tarn catalog restore [--at TIME | --backup PATH] [--to sqlite|URI] [--force] [--format FMT]\n"
	"       tarn catalog migrate --to postgres://USER@HOST:PORT/DB | --to sqlite [--dry-run]\n"
	"\n"
	"ls       tables and views with description, rows, size and last change\n"
	"search   tables, views and columns whose name or description holds the words,\n"
	"         best matches first\n"
	"backup   copy the catalog while the lake is in use to\n"
	"         <lake>/backups/catalog/YYYY_MM_DD/HH_mm_SS_sss/catalog.sqlite with a\n"
	"         manifest.json (a lake with its data on S3: backups/catalog/ in the bucket).\n"
	"         SQLite: VACUUM INTO; PostgreSQL: every DuckLake table copied into a\n"
	"         SQLite file in one REPEATABLE READ transaction.\n"
	"backups  list the backups\n"
	"restore  replace the catalog by the latest backup, checking its size and SHA-256\n"
	"         first, then check the lake (fsck). Stop the lake's writers first.\n"
	"  --at TIME        the newest backup taken at or before TIME (UTC: 2024-05-01,\n"
	"                   2024-05-01 12:30:45, or a backup name 2024_05_01/12_30_45_123)\n"
	"  --backup PATH    a backup folder (or its catalog.sqlite, or an s3:// URL of it)\n"
	"  --to TARGET      sqlite (<lake>/catalog.sqlite) or a postgres:// URI of a\n"
	"                   database without a lake; default: the lake's own catalog\n"
	"  --force          replace the existing catalog (kept as\n"
	"                   catalog.sqlite.before-restore-<time>, or, in PostgreSQL, in\n"
	"                   the schema tarn_before_restore_<time>)\n"
	"migrate  copy the catalog (every table, snapshot, tag and stat) to an empty\n"
	"         PostgreSQL database or back to <lake>/catalog.sqlite in one transaction,\n"
	"         check the row counts, then switch the lake to it. The old catalog is\n"
	"         kept (catalog.sqlite.before-migrate-<time>, or the old URL in\n"
	"         catalog.url.before-migrate-<time>). Stop the lake's writers first.\n"
	"  --to URI         postgres://…, postgresql://…, postgres:<conninfo>, or sqlite\n"
	"  --dry-run        copy and check, then roll back; the lake is not touched\n"
	"  --format FMT     table, csv, json or jsonl (default: table)\n";

const char cli_usage_tools[] =
	"usage: tarn tools generate-init-sql [--out FILE]\n"
	"\n"
	"Write an init script for the duckdb command line that installs and loads the\n"
	"ducklake extension and attaches this lake read-write as `lake`:\n"
	"  duckdb -init local/init.sql\n"
	"For a lake on S3 it also creates the S3 secret from the S3_* environment\n"
	"variables (read by duckdb with getenv(); nothing secret is written).\n"
	"\n"
	"  --out FILE   where to write it (default: local/init.sql; - for standard output)\n";

/* ---- printing results as SQL tables ---- */

struct col {
	const char *name, *type;
};

/* Rows collected as SQL literals, printed through DuckDB by rows_print. */
struct rows {
	const struct col *cols;
	size_t ncols, nrows, cell;
	struct tn_buf values;
};

static void rows_init(struct rows *r, const struct col *cols, size_t ncols)
{
	memset(r, 0, sizeof(*r));
	r->cols = cols;
	r->ncols = ncols;
	tn_buf_init(&r->values, TN_BUF_NOMAX);
}

static void cell_sep(struct rows *r)
{
	if (r->cell == 0)
		tn_buf_adds(&r->values, r->nrows ? ", (" : "(");
	else
		tn_buf_adds(&r->values, ", ");
	if (++r->cell == r->ncols) {
		r->cell = 0;
		r->nrows++;
	}
}

static void cell_close(struct rows *r)
{
	if (r->cell == 0)
		tn_buf_addc(&r->values, ')');
}

static void row_str(struct rows *r, const char *s)
{
	cell_sep(r);
	if (s)
		tn_buf_add_sqlstr(&r->values, s);
	else
		tn_buf_adds(&r->values, "NULL");
	cell_close(r);
}

static void row_int(struct rows *r, int64_t v)
{
	cell_sep(r);
	tn_buf_addf(&r->values, "%lld", (long long)v);
	cell_close(r);
}

static void row_bool(struct rows *r, int v)
{
	cell_sep(r);
	tn_buf_adds(&r->values, v ? "true" : "false");
	cell_close(r);
}

static int rows_print(struct cli *c, struct rows *r, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;
	int rc;

	tn_buf_adds(&q, "SELECT ");
	for (i = 0; i < r->ncols; i++) {
		tn_buf_addf(&q, "%sCAST(c%zu AS %s) AS ", i ? ", " : "", i, r->cols[i].type);
		tn_buf_add_sqlid(&q, r->cols[i].name);
	}
	tn_buf_adds(&q, " FROM (VALUES ");
	if (r->nrows)
		tn_buf_add(&q, r->values.buf, r->values.len);
	else
		for (i = 0; i < r->ncols; i++)
			tn_buf_adds(&q, i ? ", NULL" : "(NULL");
	tn_buf_adds(&q, r->nrows ? ") AS t(" : ")) AS t(");
	for (i = 0; i < r->ncols; i++)
		tn_buf_addf(&q, "%sc%zu", i ? ", " : "", i);
	tn_buf_adds(&q, r->nrows ? ")" : ") WHERE false");
	rc = tn_buf_check(&q, err);
	if (!rc)
		rc = cli_query_print(c, q.buf, err);
	tn_buf_release(&q);
	tn_buf_release(&r->values);
	return rc;
}

/* The catalog commands open the lake only; printing needs a session. */
static int need_session(struct cli *c, struct tn_err *err)
{
	if (c->session)
		return 0;
	return session_open(&c->session, c->lake, err);
}

static int print_rows(struct cli *c, struct rows *r)
{
	struct tn_err err = TN_ERR_INIT;

	if (need_session(c, &err) || rows_print(c, r, &err)) {
		tn_buf_release(&r->values);
		return cli_error_err(&err);
	}
	return CLI_OK;
}

/* ---- shared option helpers ---- */

/* Add the comma-separated names in `arg` to a list. */
static void add_list(char ***list, size_t *n, size_t *alloc, const char *arg)
{
	const char *p = arg;

	while (*p) {
		size_t len = strcspn(p, ",");
		if (len) {
			TN_GROW(*list, *alloc, *n + 1);
			(*list)[(*n)++] = tn_strndup(p, len);
		}
		p += len + (p[len] == ',');
	}
}

static void free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		tn_free(list[i]);
	tn_free(list);
}

/* "30d", "12h", "90m", "45s", "2w", or a bare number of days, in seconds. */
static int parse_age(const char *s, int64_t *secs)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 } };
	struct tn_err err = TN_ERR_INIT;
	size_t n = strlen(s), i;
	int64_t mult = 86400, v;
	char *num;

	if (n && !(s[n - 1] >= '0' && s[n - 1] <= '9')) {
		for (i = 0, mult = 0; i < TN_ARRAY_LEN(units); i++)
			if (units[i].unit == s[n - 1])
				mult = units[i].secs;
		n--;
	}
	num = tn_strndup(s, n);
	v = -1;
	if (mult && (tn_parse_int64(num, &v, "age", &err) || v < 0 || v > INT64_MAX / mult))
		v = -1;
	tn_free(num);
	if (v < 0 || !mult)
		return -1;
	*secs = v * mult;
	return 0;
}

/* ---- tarn export dataset ---- */

enum { XD_TABLES, XD_FORMAT, XD_AT };

static const struct cli_opt dataset_opts[] = {
	[XD_TABLES] = { "tables", 't', 1 },
	[XD_FORMAT] = { "format", 0, 1 },
	[XD_AT] = { "at", 0, 1 },
};

static const struct col dataset_cols[] = {
	{ "domain", "VARCHAR" }, { "dataset", "VARCHAR" }, { "version", "VARCHAR" },
	{ "snapshot", "BIGINT" }, { "format", "VARCHAR" }, { "files", "BIGINT" }, { "rows", "BIGINT" },
	{ "bytes", "BIGINT" }, { "path", "VARCHAR" },
};

static int print_dataset(struct cli *c, const struct export_opts *o, const struct export_info *info)
{
	struct rows r;

	rows_init(&r, dataset_cols, TN_ARRAY_LEN(dataset_cols));
	row_str(&r, o->domain);
	row_str(&r, info->dataset);
	row_str(&r, info->version);
	row_int(&r, info->snapshot);
	row_str(&r, o->format ? o->format : "parquet");
	row_int(&r, (int64_t)info->nfiles);
	row_int(&r, info->rows);
	row_int(&r, info->bytes);
	row_str(&r, info->path);
	return print_rows(c, &r);
}

static int parse_dataset(struct cli *c, int argc, char **argv, struct export_opts *o, size_t *alloc)
{
	struct tn_err err = TN_ERR_INIT;
	struct cli_getopt g;
	int id;

	cli_getopt_init(&g, argc, argv, 2, c->cmd);
	while ((id = cli_getopt(&g, dataset_opts, TN_ARRAY_LEN(dataset_opts))) != CLI_OPT_END) {
		switch (id) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			if (o->domain && o->schema)
				return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
			*(o->domain ? &o->schema : &o->domain) = g.arg;
			break;
		case XD_TABLES:
			add_list(&o->tables, &o->ntables, alloc, g.arg);
			break;
		case XD_FORMAT:
			o->format = g.arg;
			break;
		case XD_AT:
			if (tn_parse_int64(g.arg, &o->at, "--at", &err) || o->at < 0)
				return cli_usage_error(c->cmd, "--at takes a snapshot id (see `tarn snapshots`)");
			break;
		}
	}
	if (!o->schema)
		return cli_usage_error(c->cmd, "export dataset needs DOMAIN and SCHEMA");
	return CLI_OK;
}

static int export_dataset_cmd(struct cli *c, int argc, char **argv)
{
	struct export_opts o = { NULL, NULL, NULL, 0, NULL, -1 };
	struct export_info info;
	struct tn_err err = TN_ERR_INIT;
	size_t alloc = 0;
	int rc = parse_dataset(c, argc, argv, &o, &alloc);

	if (rc == CLI_OK && o.tables && !o.ntables)
		rc = cli_usage_error(c->cmd, "--tables names no table");
	if (rc == CLI_OK) {
		if (export_dataset(c->session, c->lake, &o, &info, &err))
			rc = cli_error_err(&err);
		else
			rc = print_dataset(c, &o, &info);
		export_info_release(&info);
	}
	free_list(o.tables, o.ntables);
	return rc;
}

/* ---- tarn export ls / prune ---- */

static const struct col version_cols[] = {
	{ "domain", "VARCHAR" }, { "dataset", "VARCHAR" }, { "version", "VARCHAR" },
	{ "created", "VARCHAR" }, { "snapshot", "BIGINT" }, { "format", "VARCHAR" },
	{ "files", "BIGINT" }, { "rows", "BIGINT" }, { "bytes", "BIGINT" }, { "latest", "BOOLEAN" },
};

static int print_versions(struct cli *c, const struct export_version *v, size_t n)
{
	struct rows r;
	size_t i;

	rows_init(&r, version_cols, TN_ARRAY_LEN(version_cols));
	for (i = 0; i < n; i++) {
		row_str(&r, v[i].domain);
		row_str(&r, v[i].dataset);
		row_str(&r, v[i].version);
		row_str(&r, v[i].created);
		row_int(&r, v[i].snapshot);
		row_str(&r, v[i].format);
		row_int(&r, v[i].files);
		row_int(&r, v[i].rows);
		row_int(&r, v[i].bytes);
		row_bool(&r, v[i].latest);
	}
	return print_rows(c, &r);
}

enum { XL_ALL, XL_FORMAT, XL_KEEP, XL_OLDER, XL_DRY };

static const struct cli_opt ls_opts[] = {
	[XL_ALL] = { "all", 'a', 0 },
	[XL_FORMAT] = { "format", 0, 1 },
	[XL_KEEP] = { "keep", 0, 1 },
	[XL_OLDER] = { "older-than", 0, 1 },
	[XL_DRY] = { "dry-run", 'n', 0 },
};

/* Options of ls and prune; each accepts only its own (`prune` says which). */
static int parse_ls(struct cli *c, int argc, char **argv, int prune, struct export_prune_opts *o, int *all)
{
	struct tn_err err = TN_ERR_INIT;
	struct cli_getopt g;
	int id;

	cli_getopt_init(&g, argc, argv, 2, c->cmd);
	while ((id = cli_getopt(&g, ls_opts, TN_ARRAY_LEN(ls_opts))) != CLI_OPT_END) {
		if (id >= XL_KEEP && !prune)
			return cli_usage_error(c->cmd, "--%s is an option of `export prune`", ls_opts[id].name);
		if (id == XL_ALL && prune)
			return cli_usage_error(c->cmd, "--all is an option of `export ls`");
		switch (id) {
		case CLI_OPT_ERR:
			return CLI_USAGE;
		case CLI_OPT_ARG:
			if (o->domain && o->dataset)
				return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
			*(o->domain ? &o->dataset : &o->domain) = g.arg;
			break;
		case XL_ALL:
			*all = 1;
			break;
		case XL_FORMAT:
			if (cli_set_format(c, g.arg))
				return CLI_USAGE;
			break;
		case XL_KEEP:
			if (tn_parse_int64(g.arg, &o->keep, "--keep", &err) || o->keep < 0)
				return cli_usage_error(c->cmd, "--keep takes a number of versions >= 0");
			break;
		case XL_OLDER:
			if (parse_age(g.arg, &o->older_than))
				return cli_usage_error(c->cmd, "--older-than takes an age such as 30d, 12h, 90m or 2w");
			break;
		case XL_DRY:
			o->dry_run = 1;
			break;
		}
	}
	if (prune && o->keep < 0 && o->older_than < 0)
		return cli_usage_error(c->cmd, "export prune needs --keep N and/or --older-than AGE");
	return CLI_OK;
}

static int export_ls_cmd(struct cli *c, int argc, char **argv, int prune)
{
	struct export_prune_opts o = { NULL, NULL, -1, -1, 0 };
	struct export_version *v = NULL;
	struct tn_err err = TN_ERR_INIT;
	size_t n = 0;
	int all = 0, rc = parse_ls(c, argc, argv, prune, &o, &all);

	if (rc)
		return rc;
	if (prune)
		rc = export_prune(c->lake, &o, &v, &n, &err);
	else
		rc = export_list(c->lake, o.domain, o.dataset, all, &v, &n, &err);
	/* prune may have removed some versions before failing: show them too. */
	if (n || !rc)
		rc = print_versions(c, v, n) || rc;
	if (err.code)
		rc = cli_error_err(&err);
	export_versions_free(v, n);
	return rc;
}

/* ---- tarn export pins ---- */

enum { XP_TYPE, XP_FORCE };

static const struct cli_opt pins_opts[] = {
	[XP_TYPE] = { "type", 0, 1 },
	[XP_FORCE] = { "force", 'f', 0 },
};

static const struct col pin_cols[] = {
	{ "pin", "VARCHAR" }, { "table", "VARCHAR" }, { "version", "VARCHAR" }, { "rows", "BIGINT" },
	{ "bytes", "BIGINT" }, { "written", "BOOLEAN" },
};

static int print_pins(struct cli *c, const struct pins_result *res, size_t n)
{
	struct rows r;
	size_t i;

	rows_init(&r, pin_cols, TN_ARRAY_LEN(pin_cols));
	for (i = 0; i < n; i++) {
		if (!res[i].version)
			continue;   /* not reached before an error */
		row_str(&r, res[i].pin);
		row_str(&r, res[i].table);
		row_str(&r, res[i].version);
		row_int(&r, res[i].rows);
		row_int(&r, res[i].bytes);
		row_bool(&r, !res[i].unchanged);
	}
	return print_rows(c, &r);
}

static int export_pins_cmd(struct cli *c, int argc, char **argv)
{
	struct pins_opts o = { NULL, 0, NULL, 0 };
	struct pins_result *res = NULL;
	struct tn_err err = TN_ERR_INIT;
	struct cli_getopt g;
	const char *board = NULL;
	size_t n = 0, alloc = 0;
	int id, rc = CLI_OK;

	cli_getopt_init(&g, argc, argv, 2, c->cmd);
	while (rc == CLI_OK && (id = cli_getopt(&g, pins_opts, TN_ARRAY_LEN(pins_opts))) != CLI_OPT_END) {
		if (id == CLI_OPT_ERR)
			rc = CLI_USAGE;
		else if (id == CLI_OPT_ARG && !board)
			board = g.arg;
		else if (id == CLI_OPT_ARG)
			add_list(&o.tables, &o.ntables, &alloc, g.arg);
		else if (id == XP_TYPE)
			o.type = g.arg;
		else
			o.force = 1;
	}
	if (rc == CLI_OK && !o.ntables)
		rc = cli_usage_error(c->cmd, "export pins needs BOARD and at least one SCHEMA.TABLE");
	if (rc == CLI_OK) {
		int wrc = pins_write(c->session, lake_dir(c->lake), board, &o, &res, &n, &err);
		rc = print_pins(c, res, n);
		if (wrc)
			rc = cli_error_err(&err);
	}
	pins_results_free(res, n);
	free_list(o.tables, o.ntables);
	return rc;
}

int cli_cmd_export(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "dataset"))
		return export_dataset_cmd(c, argc, argv);
	if (!strcmp(sub, "ls"))
		return export_ls_cmd(c, argc, argv, 0);
	if (!strcmp(sub, "prune"))
		return export_ls_cmd(c, argc, argv, 1);
	if (!strcmp(sub, "pins"))
		return export_pins_cmd(c, argc, argv);
	return cli_usage_error(c->cmd, "%s '%s'; use dataset, ls, prune or pins",
			       *sub ? "unknown subcommand" : "missing subcommand", sub);
}

/* ---- tarn catalog ---- */

enum { CO_SCHEMA, CO_FORMAT, CO_AT, CO_BACKUP, CO_FORCE, CO_TO };

static const struct cli_opt catalog_opts[] = {
	[CO_SCHEMA] = { "schema", 's', 1 },
	[CO_FORMAT] = { "format", 0, 1 },
	[CO_AT] = { "at", 0, 1 },
	[CO_BACKUP] = { "backup", 0, 1 },
	[CO_FORCE] = { "force", 'f', 0 },
	[CO_TO] = { "to", 0, 1 },
};

struct catalog_args {
	const char *schema;
	char **words;
	size_t nwords, alloc;
	struct backup_restore_opts restore;
};

/* Which options each subcommand takes (bits of the CO_* indexes). */
static unsigned allowed_opts(const char *sub)
{
	if (!strcmp(sub, "ls"))
		return 1u << CO_SCHEMA | 1u << CO_FORMAT;
	if (!strcmp(sub, "restore"))
		return 1u << CO_AT | 1u << CO_BACKUP | 1u << CO_FORCE | 1u << CO_FORMAT | 1u << CO_TO;
	return 1u << CO_FORMAT;
}

/* Split words on spaces too: `tarn catalog search "order amount"`. */
static void add_words(struct catalog_args *a, const char *arg)
{
	const char *p = arg;

	while (*p) {
		size_t len = strcspn(p, " \t\n");
		if (len) {
			TN_GROW(a->words, a->alloc, a->nwords + 1);
			a->words[a->nwords++] = tn_strndup(p, len);
		}
		p += len;
		p += strspn(p, " \t\n");
	}
}

static int parse_catalog(struct cli *c, int argc, char **argv, const char *sub, struct catalog_args *a)
{
	unsigned ok = allowed_opts(sub);
	struct cli_getopt g;
	int id;

	cli_getopt_init(&g, argc, argv, 2, c->cmd);
	while ((id = cli_getopt(&g, catalog_opts, TN_ARRAY_LEN(catalog_opts))) != CLI_OPT_END) {
		if (id == CLI_OPT_ERR)
			return CLI_USAGE;
		if (id >= 0 && !(ok & (1u << id)))
			return cli_usage_error(c->cmd, "`catalog %s` has no option --%s", sub, catalog_opts[id].name);
		if (id == CLI_OPT_ARG && strcmp(sub, "search"))
			return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
		if (id == CLI_OPT_ARG)
			add_words(a, g.arg);
		else if (id == CO_SCHEMA)
			a->schema = g.arg;
		else if (id == CO_FORMAT && cli_set_format(c, g.arg))
			return CLI_USAGE;
		else if (id == CO_AT)
			a->restore.at = g.arg;
		else if (id == CO_BACKUP)
			a->restore.path = g.arg;
		else if (id == CO_FORCE)
			a->restore.force = 1;
		else if (id == CO_TO)
			a->restore.to = g.arg;
	}
	return CLI_OK;
}

static int catalog_query(struct cli *c, const struct catalog_args *a, int search)
{
	struct tn_err err = TN_ERR_INIT;
	char *sql = NULL;
	int rc = search ? discover_search_sql(a->words, a->nwords, &sql, &err)
			: discover_ls_sql(a->schema, &sql, &err);

	if (rc == TN_EINVAL)
		return cli_usage_error(c->cmd, "%s", err.msg);
	if (!rc)
		rc = need_session(c, &err);
	if (!rc)
		rc = cli_query_print(c, sql, &err);
	tn_free(sql);
	return rc ? cli_error_err(&err) : CLI_OK;
}

static const struct col backup_cols[] = {
	{ "version", "VARCHAR" }, { "created", "VARCHAR" }, { "snapshot", "BIGINT" }, { "bytes", "BIGINT" },
	{ "sha256", "VARCHAR" }, { "catalog", "VARCHAR" }, { "latest", "BOOLEAN" }, { "path", "VARCHAR" },
};

static void backup_row(struct rows *r, const struct backup_entry *e)
{
	row_str(r, e->version);
	row_str(r, e->created);
	row_int(r, e->snapshot);
	row_int(r, e->size);
	row_str(r, e->sha256);
	row_str(r, e->catalog);
	row_bool(r, e->latest);
	row_str(r, e->path);
}

static int catalog_backup(struct cli *c, int list)
{
	struct tn_err err = TN_ERR_INIT;
	struct backup_entry one, *all = NULL;
	struct rows r;
	size_t n = 0, i;
	int rc = list ? backup_list(lake_dir(c->lake), lake_store(c->lake), &all, &n, &err) : backup_take(c->lake, &one, &err);

	if (rc)
		return cli_error_err(&err);
	rows_init(&r, backup_cols, TN_ARRAY_LEN(backup_cols));
	for (i = 0; i < n; i++)
		backup_row(&r, &all[i]);
	if (!list)
		backup_row(&r, &one);
	rc = print_rows(c, &r);
	if (!list)
		backup_entry_release(&one);
	backup_entries_free(all, n);
	return rc;
}

static const struct col restore_cols[] = {
	{ "restored", "VARCHAR" }, { "snapshot", "BIGINT" }, { "previous_catalog", "VARCHAR" },
	{ "problems", "BIGINT" }, { "orphans", "BIGINT" },
};

/* The check after a restore, on a freshly opened lake (the catalog file
 * changed under the one main() opened). */
static int restore_check(struct cli *c, const struct backup_entry *e, const char *saved_as)
{
	struct lake_fsck_report rep;
	struct tn_err err = TN_ERR_INIT;
	struct lake *lk = NULL;
	struct rows r;
	size_t i;
	int rc;

	memset(&rep, 0, sizeof(rep));
	rc = lake_open(&lk, lake_dir(c->lake), &err);
	if (!rc)
		rc = lake_fsck(lk, &rep, &err);
	if (rc) {
		lake_close(lk);
		return cli_error("restored %s, but the lake cannot be checked: %s", e->version, err.msg);
	}
	lake_close(c->lake);   /* print through a session on the restored catalog */
	c->lake = lk;
	rows_init(&r, restore_cols, TN_ARRAY_LEN(restore_cols));
	row_str(&r, e->version);
	row_int(&r, e->snapshot);
	row_str(&r, saved_as);
	row_int(&r, (int64_t)rep.nproblems);
	row_int(&r, (int64_t)rep.norphans);
	rc = print_rows(c, &r);
	for (i = 0; i < rep.nproblems; i++)
		cli_warn("fsck: %s", rep.problems[i]);
	if (rep.nproblems)
		rc = cli_error("the restored lake has %zu problem%s (see `tarn fsck`)", rep.nproblems,
			       rep.nproblems == 1 ? "" : "s");
	lake_fsck_report_release(&rep);
	return rc;
}

static int catalog_restore(struct cli *c, const struct catalog_args *a)
{
	struct tn_err err = TN_ERR_INIT;
	struct backup_entry used;
	char *saved_as = NULL;
	int rc;

	if (c->session) {
		session_close(c->session);   /* nothing of ours may hold the old catalog */
		c->session = NULL;
	}
	lake_release_catalog(c->lake);
	rc = backup_restore(lake_dir(c->lake), lake_store(c->lake), &a->restore, &used, &saved_as, &err);
	if (rc)
		rc = cli_error_err(&err);
	else
		rc = restore_check(c, &used, saved_as);
	backup_entry_release(&used);
	tn_free(saved_as);
	return rc;
}

int cli_cmd_catalog(struct cli *c, int argc, char **argv)
{
	static const char *const subs[] = { "ls", "search", "backup", "backups", "restore" };
	struct catalog_args a;
	const char *sub = argc > 1 ? argv[1] : "";
	size_t i;
	int rc;

	if (!strcmp(sub, "migrate"))
		return cli_cmd_catalog_migrate(c, argc - 1, argv + 1);   /* cmd_catalog_migrate.c */
	for (i = 0; i < TN_ARRAY_LEN(subs) && strcmp(sub, subs[i]); i++)
		;
	if (i == TN_ARRAY_LEN(subs))
		return cli_usage_error(c->cmd, "%s '%s'; use ls, search, backup, backups or restore",
				       *sub ? "unknown subcommand" : "missing subcommand", sub);
	memset(&a, 0, sizeof(a));
	rc = parse_catalog(c, argc, argv, sub, &a);
	if (rc == CLI_OK && i <= 1)
		rc = catalog_query(c, &a, i == 1);
	else if (rc == CLI_OK && i <= 3)
		rc = catalog_backup(c, i == 3);
	else if (rc == CLI_OK)
		rc = catalog_restore(c, &a);
	free_list(a.words, a.nwords);
	return rc;
}

/* ---- tarn tools ---- */

static const struct cli_opt tools_opts[] = {
	{ "out", 'o', 1 },
};

/* The catalog DuckDB must attach: the lake's SQLite file, or the server
 * that <lake>/catalog.url names (lake.h has no accessor for it yet). */
static char *lake_catalog(struct cli *c)
{
	char *file = tn_fs_join(lake_dir(c->lake), LAKE_CATALOG_FILE), *url, *text = NULL;
	struct tn_err ignore = TN_ERR_INIT;
	size_t n = 0;

	if (tn_fs_exists(file))
		return file;
	url = tn_fs_join(lake_dir(c->lake), LAKE_CATALOG_URL);
	if (tn_fs_read_all(url, &text, &n, &ignore) == 0) {
		while (n && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\r'))
			text[--n] = '\0';
		tn_free(file);
		file = text;
	}
	tn_free(url);
	return file;
}

static int write_init_sql(struct cli *c, const char *out, struct tn_err *err)
{
	char *catalog = lake_catalog(c), *text = NULL, *abs = NULL, *dir;
	int rc = initsql_render(catalog, lake_data_path(c->lake), &text, err);

	if (!rc && !strcmp(out, "-")) {
		fputs(text, stdout);
		goto done;
	}
	abs = tn_fs_abspath(out);
	dir = tn_strndup(abs, (size_t)(strrchr(abs, '/') - abs));
	if (!rc && *dir)
		rc = tn_fs_mkdirs(dir, err);
	tn_free(dir);
	if (!rc)
		rc = tn_fs_write_atomic(abs, text, strlen(text), err);
	if (!rc && !c->quiet)
		printf("wrote %s; open the lake with: duckdb -init %s\n", out, out);
done:
	tn_free(abs);
	tn_free(text);
	tn_free(catalog);
	return rc;
}

int cli_cmd_tools(struct cli *c, int argc, char **argv)
{
	struct tn_err err = TN_ERR_INIT;
	struct cli_getopt g;
	const char *out = "local/init.sql";
	int id;

	if (argc < 2 || strcmp(argv[1], "generate-init-sql"))
		return cli_usage_error(c->cmd, "%s; use generate-init-sql",
				       argc < 2 ? "missing tool" : "unknown tool");
	cli_getopt_init(&g, argc, argv, 2, c->cmd);
	while ((id = cli_getopt(&g, tools_opts, TN_ARRAY_LEN(tools_opts))) != CLI_OPT_END) {
		if (id == CLI_OPT_ERR)
			return CLI_USAGE;
		if (id == CLI_OPT_ARG)
			return cli_usage_error(c->cmd, "unexpected argument '%s'", g.arg);
		out = g.arg;
	}
	if (write_init_sql(c, out, &err))
		return cli_error_err(&err);
	return CLI_OK;
}
