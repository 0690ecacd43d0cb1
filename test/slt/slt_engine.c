/*
 * slt_engine.c: the engines tarn-slt can test. `tarn` (the default) runs
 * every file against a fresh lake through sessions, exactly as `tarn sql`
 * does; `duckdb` runs plain DuckDB, to test the runner itself and to check
 * that a .test file means what its author thinks it means.
 */
#include "base/compat.h"
#include "slt.h"
#include "base/tn_mem.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_util.h"
#include "engine/duck.h"
#include "lake/lake.h"
#include "lake/session.h"

/* One struct for both adapters, so the opaque type has a single definition. */
struct slt_engine {
	char *path;           /* duckdb: the database file; tarn: the lake folder */
	struct duck *duck;    /* duckdb */
	struct lake *lake;    /* tarn */
	char *data_path;      /* tarn: the lake's data path when not the default */
};

struct slt_conn {
	struct slt_engine *e; /* duckdb: every connection shares e->duck */
	struct session *s;    /* tarn */
};

/* Extensions built into deps/duckdb and into tarn's embedded DuckDB. */
static const char *const builtin_features[] = { "parquet", "json", "icu", NULL };

static void engine_free(struct slt_engine *e)
{
	if (!e)
		return;
	tn_free(e->path);
	tn_free(e->data_path);
	tn_free(e);
}

/* ---- duckdb ---- */

/*
 * DuckDB runs in memory with a database file attached and made the default,
 * so that `restart` really reopens what was written. duck.h offers one
 * connection per database, so named connections share it: good enough for
 * testing the runner, not for testing transactions between connections.
 */
static int duckdb_attach(struct slt_engine *e, struct tn_err *err)
{
	struct tn_buf sql = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	rc = duck_open(&e->duck, NULL, err);
	if (rc)
		return rc;
	tn_buf_adds(&sql, "ATTACH ");
	tn_buf_add_sqlstr(&sql, e->path);
	tn_buf_adds(&sql, " AS slt; USE slt");
	rc = duck_exec(e->duck, sql.buf, err);
	tn_buf_release(&sql);
	if (rc) {
		duck_close(e->duck);
		e->duck = NULL;
	}
	return rc;
}

static int duckdb_open(struct slt_engine **out, const char *test_dir, struct tn_err *err)
{
	struct slt_engine *e = tn_calloc(1, sizeof(*e));
	int rc;

	e->path = tn_fs_join(test_dir, "slt.duckdb");
	rc = duckdb_attach(e, err);
	if (rc) {
		engine_free(e);
		e = NULL;
	}
	*out = e;
	return rc;
}

static int duckdb_connect(struct slt_engine *e, struct slt_conn **out, struct tn_err *err)
{
	TN_UNUSED(err);
	*out = tn_calloc(1, sizeof(**out));
	(*out)->e = e;
	return 0;
}

static int duckdb_exec(struct slt_conn *c, const char *sql, struct duck_result **res,
		       struct tn_err *err)
{
	if (!res)
		return duck_exec(c->e->duck, sql, err);
	return duck_query(c->e->duck, sql, res, err);
}

static void duckdb_disconnect(struct slt_conn *c)
{
	tn_free(c);
}

static int duckdb_restart(struct slt_engine *e, struct tn_err *err)
{
	duck_close(e->duck);
	e->duck = NULL;
	return duckdb_attach(e, err);
}

static void duckdb_close(struct slt_engine *e)
{
	if (!e)
		return;
	duck_close(e->duck);
	engine_free(e);
}

/* ---- tarn ---- */

/* A new lake per test file, in <test dir>/lake. */
static int tarn_open(struct slt_engine **out, const char *test_dir, struct tn_err *err)
{
	struct slt_engine *e = tn_calloc(1, sizeof(*e));
	int rc;

	struct lake_init_opts opts = { NULL, -1, NULL };
	const char *limit = getenv("TARN_INLINE_LIMIT");

	/* The suite runs twice under ctest: small inserts kept in the catalog
	 * (the default) and everything in Parquet (TARN_INLINE_LIMIT=0). */
	if (limit && *limit && tn_parse_int64(limit, &opts.inline_limit, "TARN_INLINE_LIMIT", err)) {
		engine_free(e);
		*out = NULL;
		return err->code;
	}
	/* TARN_DATA_PATH=s3://bucket/prefix/ runs the suite with the data in a
	 * bucket, one prefix per test file. */
	{
		const char *dp = getenv("TARN_DATA_PATH");
		const char *base = strrchr(test_dir, '/');
		if (dp && *dp)
			e->data_path = tn_xprintf("%s%s%s/", dp, dp[strlen(dp) - 1] == '/' ? "" : "/",
						  base ? base + 1 : test_dir);
		opts.data_path = e->data_path;
		/* TARN_CATALOG=postgres://… puts the catalog on a server (one
		 * fresh database per test file, made by the calling script). */
		opts.catalog = getenv("TARN_CATALOG");
	}
	e->path = tn_fs_join(test_dir, "lake");
	rc = lake_init(e->path, &opts, err);
	if (!rc)
		rc = lake_open(&e->lake, e->path, err);
	if (rc) {
		lake_close(e->lake);
		engine_free(e);
		e = NULL;
	}
	*out = e;
	return rc;
}

static int tarn_connect(struct slt_engine *e, struct slt_conn **out, struct tn_err *err)
{
	struct slt_conn *c = tn_calloc(1, sizeof(*c));
	int rc;

	c->e = e;
	rc = session_open(&c->s, e->lake, err);
	if (rc) {
		tn_free(c);
		c = NULL;
	}
	*out = c;
	return rc;
}

static int tarn_exec(struct slt_conn *c, const char *sql, struct duck_result **res,
		     struct tn_err *err)
{
	if (res)
		*res = NULL;
	return session_exec(c->s, sql, res, err);
}

static void tarn_disconnect(struct slt_conn *c)
{
	if (!c)
		return;
	session_close(c->s);
	tn_free(c);
}

/* Close and reopen the lake: what survives is only what reached the catalog and the files. */
static int tarn_restart(struct slt_engine *e, struct tn_err *err)
{
	lake_close(e->lake);
	e->lake = NULL;
	return lake_open(&e->lake, e->path, err);
}

static void tarn_close(struct slt_engine *e)
{
	if (!e)
		return;
	lake_close(e->lake);
	engine_free(e);
}

static const struct slt_engine_ops engines[] = {
	{ "tarn", builtin_features, tarn_open, tarn_connect, tarn_exec, tarn_disconnect,
	  tarn_restart, tarn_close },
	{ "duckdb", builtin_features, duckdb_open, duckdb_connect, duckdb_exec,
	  duckdb_disconnect, duckdb_restart, duckdb_close },
};

const struct slt_engine_ops *slt_engine_find(const char *name)
{
	size_t k;

	for (k = 0; k < TN_ARRAY_LEN(engines); k++)
		if (!strcmp(name, engines[k].name))
			return &engines[k];
	return NULL;
}

const char *slt_engine_names(void)
{
	return "tarn|duckdb";
}
