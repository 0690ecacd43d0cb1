/*
 * catalog_pg: the PostgreSQL backend of the catalog (libpq). The lake's SQL
 * is SQLite-flavoured; catalog_pg_translate() turns its `?`/`?N` parameters
 * into `$N`, and parameters travel as untyped text so the server infers
 * their types. Statements are prepared once per connection and cached by
 * their text (bounded, least recently used goes first).
 *
 * Writers serialise on a transaction-scoped advisory lock taken right after
 * BEGIN (the counterpart of SQLite's BEGIN IMMEDIATE): the transaction runs
 * at READ COMMITTED, so every statement after the lock sees every commit
 * made before it, and no other tarn writer can commit in between. (At
 * REPEATABLE READ the snapshot would be taken by the lock statement itself,
 * before the wait, and miss the commit we waited for.) The lock is per
 * database: lakes sharing a database queue behind each other.
 */
#include "base/compat.h"
#include "catalog/catalog_int.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

#include <libpq-fe.h>
#include <strings.h>

#define CACHE_MAX 128                 /* prepared statements kept per connection */
#define WRITE_LOCK_KEY "1952543342"   /* "tarn" as an int32: the writers' advisory lock */
#define CONNECT_TIMEOUT "10"          /* seconds, unless PGCONNECT_TIMEOUT or the URI say */
#define BOOL_OID 16
#define TEXT_OID 25

/* Fixed session settings: UTC and ISO dates so snapshot_time reads back as
 * tarn wrote it; the same wait for the write lock as SQLite's busy timeout;
 * standard strings, which catalog_pg_translate() assumes. */
static const char *session_sql =
	"SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET lock_timeout = '30s'; "
	"SET standard_conforming_strings = on";

static const char *begin_write_sql =
	"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")";
static const char *begin_read_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ";

struct cached {
	char *sql;              /* the caller's text: the key */
	uint64_t hash;
	char name[32];          /* server-side statement name */
	char *text;             /* translated for the server */
	Oid *types;             /* of the parameters: 0 = inferred */
	int nparams;
	int prepared;           /* on the server yet (from the second run) */
	long runs;
	uint64_t used_at;       /* LRU clock */
	int refs;               /* live statements on it: never evicted */
};

struct pg {
	struct catalog base;
	PGconn *conn;
	struct cached **cache;
	size_t ncache, acache;
	uint64_t clock, names;
	enum tn_code aborted;   /* code of the error that aborted the open transaction */
};

struct pg_stmt {
	struct catalog_stmt base;
	struct cached *c;
	char **vals;            /* c->nparams bound values, NULL = SQL NULL */
	PGresult *res;
	int row, nrows;
};

static struct pg *pg_of(struct catalog *cat)
{
	return (struct pg *)cat;
}

static struct pg_stmt *stmt_of(struct catalog_stmt *st)
{
	return (struct pg_stmt *)st;
}

/* ---- errors ---- */

/* SQLSTATEs by exact code, then by class (longest entries first). */
static const struct {
	const char *state;
	enum tn_code code;
} states[] = {
	{ "23505", TN_ECONFLICT },     /* unique_violation */
	{ "40001", TN_ECONFLICT },     /* serialization_failure */
	{ "40P01", TN_ECONFLICT },     /* deadlock_detected */
	{ "55P03", TN_ECONFLICT },     /* lock_not_available (lock_timeout) */
	{ "57P", TN_EREMOTE },         /* server shutting down */
	{ "08", TN_EREMOTE },          /* connection exception */
	{ "0A", TN_EUNSUPPORTED },
	{ "22", TN_EINVAL },           /* data exception */
	{ "23", TN_EINVAL },           /* other integrity violations */
	{ "25", TN_EINVAL },           /* invalid transaction state */
	{ "42", TN_EINVAL },           /* syntax error, undefined table ... */
	{ "53", TN_EIO },              /* disk full, out of memory */
	{ "58", TN_EIO },
	{ "XX", TN_EINTERNAL },        /* data corrupted */
};

static enum tn_code code_of(const char *state)
{
	size_t i;

	for (i = 0; state && i < TN_ARRAY_LEN(states); i++)
		if (!strncmp(state, states[i].state, strlen(states[i].state)))
			return states[i].code;
	return TN_EREMOTE;     /* no SQLSTATE: libpq lost the connection */
}

/* One line without trailing blanks: libpq messages end in newlines and
 * may hold tab-indented hints. */
static void one_line(char *s)
{
	size_t n;
	char *p;

	for (p = s, n = 0; *p; p++) {
		char c = (*p == '\n' || *p == '\t') ? ' ' : *p;
		if (c != ' ' || (n && s[n - 1] != ' '))
			s[n++] = c;
	}
	s[n] = '\0';
	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
}

static int set_error(struct pg *pg, enum tn_code code, const char *what, const char *msg,
		     struct tn_err *err)
{
	/* A server message should never hold the password; make sure. */
	char *clean = catalog_redact(msg ? msg : "unknown error", NULL, PQpass(pg->conn));

	one_line(clean);
	if (PQtransactionStatus(pg->conn) == PQTRANS_INERROR && !pg->aborted)
		pg->aborted = code;
	tn_err_set(err, code, "catalog %s: %s: %s", pg->base.display, what, clean);
	tn_free(clean);
	return code;
}

/* Report a failed result (or a NULL one) and free it. */
static int result_error(struct pg *pg, PGresult *res, const char *what, struct tn_err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	char *msg;
	int rc;

	if (primary)
		msg = tn_xprintf("%s%s%s (SQLSTATE %s)", primary, detail ? "; " : "", detail ? detail : "",
				 state ? state : "?");
	else
		msg = tn_strdup(PQerrorMessage(pg->conn));
	rc = set_error(pg, code_of(state), what, msg, err);
	tn_free(msg);
	PQclear(res);
	return rc;
}

static int result_ok(PGresult *res)
{
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

/* ---- connection ---- */

static void quiet_notices(void *arg, const char *message)
{
	/* NOTICEs ("table exists, skipping") are not for the user's terminal. */
	(void)arg;
	(void)message;
}

/* What catalog_path() shows before a connection exists. */
static char *target_display(const char *target)
{
	char *red = catalog_redact(target, target, NULL);
	char *out;

	if (!strncasecmp(target, "postgres", 8) && strstr(target, "://"))
		return red;
	out = *target ? tn_xprintf("postgres:%s", red) : tn_strdup("postgres: (PG* environment)");
	tn_free(red);
	return out;
}

/* ... and after: built from what libpq connected to, so it holds no secret. */
static char *conn_display(PGconn *conn)
{
	const char *host = PQhost(conn), *port = PQport(conn), *db = PQdb(conn), *user = PQuser(conn);

	if (host && host[0] == '/')
		return tn_xprintf("postgres:host=%s port=%s dbname=%s user=%s", host, port ? port : "",
				  db ? db : "", user ? user : "");
	return tn_xprintf("postgres://%s@%s:%s/%s", user ? user : "", host ? host : "",
			  port ? port : "", db ? db : "");
}

static int connect_error(struct pg *pg, const char *target, struct tn_err *err)
{
	char *msg = catalog_redact(pg->conn ? PQerrorMessage(pg->conn) : "out of memory", target, NULL);

	one_line(msg);
	tn_err_set(err, TN_EREMOTE, "catalog %s: cannot connect to PostgreSQL: %s (check that the "
		   "server is running, and the host, port, user and database in the catalog URI or in "
		   "PGHOST, PGPORT, PGUSER, PGDATABASE; passwords come from the URI, ~/.pgpass or "
		   "PGPASSWORD)", pg->base.display, msg);
	tn_free(msg);
	return TN_EREMOTE;
}

static PGconn *connect_to(const char *target)
{
	/* Ours first: keywords later in the list (the expanded URI) win. */
	const char *keys[5], *vals[5];
	int n = 0;

	keys[n] = "fallback_application_name", vals[n++] = "tarn";
	keys[n] = "client_encoding", vals[n++] = "UTF8";
	if (!getenv("PGCONNECT_TIMEOUT"))
		keys[n] = "connect_timeout", vals[n++] = CONNECT_TIMEOUT;
	keys[n] = "dbname", vals[n++] = target;
	keys[n] = NULL, vals[n] = NULL;
	return PQconnectdbParams(keys, vals, 1);
}

static int pg_exec(struct catalog *cat, const char *sql, struct tn_err *err);
static void pg_close(struct catalog *cat);

static int pg_open(struct catalog **out, const char *target, int create, struct tn_err *err)
{
	struct pg *pg = tn_calloc(1, sizeof(*pg));
	int rc;

	(void)create;   /* databases are made by their administrators */
	pg->base.ops = &catalog_pg_ops;
	pg->base.display = target_display(target);
	pg->conn = connect_to(target);
	if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
		rc = connect_error(pg, target, err);
		goto fail;
	}
	PQsetNoticeProcessor(pg->conn, quiet_notices, NULL);
	tn_free(pg->base.display);
	pg->base.display = conn_display(pg->conn);
	rc = pg_exec(&pg->base, session_sql, err);
	if (rc)
		goto fail;
	*out = &pg->base;
	return 0;
fail:
	pg_close(&pg->base);
	return rc;
}

static void cached_free(struct cached *c)
{
	tn_free(c->sql);
	tn_free(c->text);
	tn_free(c->types);
	tn_free(c);
}

static void pg_close(struct catalog *cat)
{
	struct pg *pg = pg_of(cat);
	size_t i;

	/* PQfinish ends the session, which rolls back and drops its statements. */
	if (pg->conn)
		PQfinish(pg->conn);
	for (i = 0; i < pg->ncache; i++)
		cached_free(pg->cache[i]);
	tn_free(pg->cache);
	tn_free(cat->display);
	tn_free(pg);
}

/* ---- exec and transactions ---- */

static int exec_raw(struct pg *pg, const char *sql, const char *what, struct tn_err *err)
{
	PGresult *res = PQexec(pg->conn, sql);

	if (!result_ok(res))
		return result_error(pg, res, what, err);
	PQclear(res);
	return 0;
}

static int pg_begin(struct catalog *cat, int write, struct tn_err *err);

/* SQLite's BEGIN variants, when sent whole through catalog_exec(). */
static const struct {
	const char *sql;
	int write;
} begins[] = {
	{ "BEGIN IMMEDIATE", 1 }, { "BEGIN IMMEDIATE TRANSACTION", 1 },
	{ "BEGIN EXCLUSIVE", 1 }, { "BEGIN EXCLUSIVE TRANSACTION", 1 },
	{ "BEGIN DEFERRED", 0 }, { "BEGIN DEFERRED TRANSACTION", 0 },
};

static int begin_kind(const char *sql)
{
	size_t i, n;

	while (*sql == ' ' || *sql == '\n' || *sql == '\t')
		sql++;
	n = strlen(sql);
	while (n && (sql[n - 1] == ';' || sql[n - 1] == ' ' || sql[n - 1] == '\n'))
		n--;
	for (i = 0; i < TN_ARRAY_LEN(begins); i++)
		if (strlen(begins[i].sql) == n && !strncasecmp(sql, begins[i].sql, n))
			return begins[i].write;
	return -1;
}

static int pg_exec(struct catalog *cat, const char *sql, struct tn_err *err)
{
	int write = begin_kind(sql);

	if (write >= 0)
		return pg_begin(cat, write, err);
	return exec_raw(pg_of(cat), sql, "exec", err);
}

static int pg_in_txn(struct catalog *cat)
{
	PGTransactionStatusType s = PQtransactionStatus(pg_of(cat)->conn);
	return s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
}

static void pg_rollback(struct catalog *cat)
{
	struct pg *pg = pg_of(cat);

	if (pg_in_txn(cat))
		PQclear(PQexec(pg->conn, "ROLLBACK"));
	pg->aborted = TN_OK;
}

static int pg_begin(struct catalog *cat, int write, struct tn_err *err)
{
	struct pg *pg = pg_of(cat);
	int rc;

	/* PostgreSQL only warns about a nested BEGIN; SQLite refuses it. */
	if (pg_in_txn(cat))
		return tn_err_set(err, TN_EINVAL, "catalog %s: begin: a transaction is already active",
				  cat->display);
	pg->aborted = TN_OK;
	rc = exec_raw(pg, write ? begin_write_sql : begin_read_sql, "begin", err);
	if (rc)
		pg_rollback(cat);
	return rc;
}

static int pg_commit(struct catalog *cat, struct tn_err *err)
{
	struct pg *pg = pg_of(cat);
	PGTransactionStatusType s = PQtransactionStatus(pg->conn);
	enum tn_code code = pg->aborted ? pg->aborted : TN_EINVAL;
	PGresult *res;
	int rc = 0;

	if (s == PQTRANS_IDLE)
		return tn_err_set(err, TN_EINVAL, "catalog %s: commit: no transaction is active",
				  cat->display);
	if (s == PQTRANS_INERROR) {
		/* COMMIT would "succeed" as a ROLLBACK: say so instead. */
		pg_rollback(cat);
		return tn_err_set(err, code, "catalog %s: commit: an earlier statement failed, so "
				  "the transaction was rolled back", cat->display);
	}
	res = PQexec(pg->conn, "COMMIT");
	if (!result_ok(res)) {
		rc = result_error(pg, res, "commit", err);
	} else {
		if (strcmp(PQcmdStatus(res), "COMMIT"))
			rc = tn_err_set(err, code, "catalog %s: commit: the server rolled the transaction "
					"back", cat->display);
		PQclear(res);
	}
	pg_rollback(cat);    /* only if the transaction is somehow still open */
	return rc;
}

/* ---- prepared statements ---- */

static uint64_t hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct cached *cache_find(struct pg *pg, const char *sql, uint64_t h)
{
	size_t i;

	for (i = 0; i < pg->ncache; i++)
		if (pg->cache[i]->hash == h && !strcmp(pg->cache[i]->sql, sql))
			return pg->cache[i];
	return NULL;
}

/* Drop the least recently used idle statement when the cache is full. A
 * failed transaction refuses DEALLOCATE, so then the cache grows a little. */
static void cache_evict(struct pg *pg)
{
	size_t i, victim = pg->ncache;
	char sql[64];

	if (pg->ncache < CACHE_MAX || PQtransactionStatus(pg->conn) == PQTRANS_INERROR)
		return;
	for (i = 0; i < pg->ncache; i++)
		if (!pg->cache[i]->refs && (victim == pg->ncache ||
					    pg->cache[i]->used_at < pg->cache[victim]->used_at))
			victim = i;
	if (victim == pg->ncache)
		return;
	if (pg->cache[victim]->prepared) {
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", pg->cache[victim]->name);
		PQclear(PQexec(pg->conn, sql));
	}
	cached_free(pg->cache[victim]);
	pg->cache[victim] = pg->cache[--pg->ncache];
}

/* Translate for the server: referenced parameters untyped (the server
 * infers them), gaps (`?1 … ?3` without ?2) as text, which it could not
 * infer. A statement runs unnamed the first time (one round trip, which is
 * what a fresh connection's queries cost) and is prepared on the server
 * when it runs again. */
static int translate(struct cached *c, struct tn_err *err)
{
	struct tn_buf text = TN_BUF_INIT(TN_BUF_NOMAX);
	unsigned char *used = NULL;
	int i, rc = catalog_pg_translate(c->sql, &text, &c->nparams, &used, err);

	if (!rc)
		rc = tn_buf_check(&text, err);
	if (!rc) {
		c->types = c->nparams ? tn_calloc((size_t)c->nparams, sizeof(*c->types)) : NULL;
		for (i = 0; i < c->nparams; i++)
			c->types[i] = used[i] ? 0 : TEXT_OID;
		c->text = tn_buf_detach(&text, NULL);
	}
	tn_free(used);
	tn_buf_release(&text);
	return rc;
}

static int server_prepare(struct pg *pg, struct cached *c, struct tn_err *err)
{
	PGresult *res = PQprepare(pg->conn, c->name, c->text, c->nparams, c->types);

	if (!result_ok(res))
		return result_error(pg, res, "prepare", err);
	PQclear(res);
	c->prepared = 1;
	return 0;
}

/* The server-side statement for `sql` (keyed by the lake's own text, so a
 * hit costs no translation and no round trip). */
static int cache_get(struct pg *pg, const char *sql, struct cached **out, struct tn_err *err)
{
	uint64_t h = hash_text(sql);
	struct cached *c = cache_find(pg, sql, h);
	int rc;

	if (!c) {
		cache_evict(pg);
		c = tn_calloc(1, sizeof(*c));
		c->sql = tn_strdup(sql);
		c->hash = h;
		snprintf(c->name, sizeof(c->name), "tarn_%llu", (unsigned long long)++pg->names);
		rc = translate(c, err);
		if (rc) {
			cached_free(c);
			return rc;
		}
		TN_GROW(pg->cache, pg->acache, pg->ncache + 1);
		pg->cache[pg->ncache++] = c;
	}
	c->used_at = ++pg->clock;
	*out = c;
	return 0;
}

static int pg_prepare(struct catalog *cat, const char *sql, struct catalog_stmt **out,
		      struct tn_err *err)
{
	struct cached *c = NULL;
	struct pg_stmt *st;
	int rc = cache_get(pg_of(cat), sql, &c, err);

	if (rc)
		return rc;
	st = tn_calloc(1, sizeof(*st));
	st->base.cat = cat;
	st->c = c;
	c->refs++;
	st->vals = c->nparams ? tn_calloc((size_t)c->nparams, sizeof(*st->vals)) : NULL;
	st->row = -1;
	*out = &st->base;
	return 0;
}

static void bind_owned(struct catalog_stmt *base, int idx, char *v)
{
	struct pg_stmt *st = stmt_of(base);

	if (idx < 1 || idx > st->c->nparams) {
		tn_free(v);     /* SQLite ignores such binds too (SQLITE_RANGE) */
		return;
	}
	tn_free(st->vals[idx - 1]);
	st->vals[idx - 1] = v;
}

static void pg_bind_int(struct catalog_stmt *st, int idx, int64_t v)
{
	bind_owned(st, idx, tn_xprintf("%lld", (long long)v));
}

static void pg_bind_text(struct catalog_stmt *st, int idx, const char *v)
{
	bind_owned(st, idx, v ? tn_strdup(v) : NULL);
}

static void pg_bind_bool(struct catalog_stmt *st, int idx, int v)
{
	bind_owned(st, idx, tn_strdup(v ? "true" : "false"));
}

static int run(struct pg_stmt *st, struct tn_err *err)
{
	struct pg *pg = pg_of(st->base.cat);
	struct cached *c = st->c;
	PGresult *res;
	int rc;

	if (c->runs++ == 0) {
		res = PQexecParams(pg->conn, c->text, c->nparams, c->types, (const char *const *)st->vals, NULL,
				   NULL, 0);
	} else {
		if (!c->prepared && (rc = server_prepare(pg, c, err)))
			return rc;
		res = PQexecPrepared(pg->conn, c->name, c->nparams, (const char *const *)st->vals, NULL, NULL, 0);
	}
	if (!result_ok(res))
		return result_error(pg, res, "query", err);
	st->res = res;
	st->nrows = PQntuples(res);
	st->c->used_at = ++pg->clock;
	return 0;
}

static int pg_step(struct catalog_stmt *base, struct tn_err *err)
{
	struct pg_stmt *st = stmt_of(base);
	int rc;

	if (!st->res) {
		rc = run(st, err);
		if (rc)
			return rc;
	}
	if (st->row < st->nrows)
		st->row++;
	return st->row < st->nrows;
}

static int has_value(struct pg_stmt *st, int col)
{
	return st->res && st->row >= 0 && st->row < st->nrows && col >= 0 && col < PQnfields(st->res);
}

static int pg_col_is_null(struct catalog_stmt *base, int col)
{
	struct pg_stmt *st = stmt_of(base);
	return !has_value(st, col) || PQgetisnull(st->res, st->row, col);
}

static const char *pg_col_text(struct catalog_stmt *base, int col)
{
	struct pg_stmt *st = stmt_of(base);
	const char *v;

	if (pg_col_is_null(base, col))
		return NULL;
	v = PQgetvalue(st->res, st->row, col);
	/* Booleans read as SQLite has them. */
	if (PQftype(st->res, col) == BOOL_OID)
		return v[0] == 't' ? "1" : "0";
	return v;
}

static int64_t pg_col_int(struct catalog_stmt *base, int col)
{
	const char *v = pg_col_text(base, col);
	char *end;
	long long n;

	if (!v)
		return 0;
	n = strtoll(v, &end, 10);
	/* Like SQLite's column_int64 of a REAL: truncate "1.5", "2e3". */
	if (*end == '.' || *end == 'e' || *end == 'E')
		return (int64_t)strtod(v, NULL);
	return n;
}

static void pg_reset(struct catalog_stmt *base)
{
	struct pg_stmt *st = stmt_of(base);
	int i;

	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	st->nrows = 0;
	for (i = 0; i < st->c->nparams; i++) {
		tn_free(st->vals[i]);
		st->vals[i] = NULL;
	}
}

static void pg_finalize(struct catalog_stmt *base)
{
	struct pg_stmt *st = stmt_of(base);

	pg_reset(base);
	st->c->refs--;
	tn_free(st->vals);
	tn_free(st);
}

/* ---- catalog-wide queries ---- */

static int pg_integrity(struct catalog *cat, char **msg, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = pg_prepare(cat, "SELECT CASE WHEN pg_is_in_recovery() THEN 'the server is a read-only "
				 "standby (in recovery)' ELSE 'ok' END", &st, err);

	if (rc)
		return rc;
	rc = pg_step(st, err);
	if (rc == 1) {
		*msg = catalog_col_dup(st, 0);
		rc = 0;
	}
	pg_finalize(st);
	return rc;
}

static int pg_table_columns(struct catalog *cat, const char *table, char ***names, size_t *n,
			    struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = pg_prepare(cat, "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = "
				 "to_regclass(quote_ident(?1)) AND attnum > 0 AND NOT attisdropped "
				 "ORDER BY attnum", &st, err);

	if (rc)
		return rc;
	pg_bind_text(st, 1, table);
	while ((rc = pg_step(st, err)) == 1)
		catalog_names_push(names, n, pg_col_text(st, 0));
	pg_finalize(st);
	return rc;
}

const struct catalog_ops catalog_pg_ops = {
	.name = "postgres",
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.in_txn = pg_in_txn,
	.prepare = pg_prepare,
	.bind_int = pg_bind_int,
	.bind_text = pg_bind_text,
	.bind_bool = pg_bind_bool,
	.step = pg_step,
	.col_is_null = pg_col_is_null,
	.col_int = pg_col_int,
	.col_text = pg_col_text,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.integrity = pg_integrity,
	.table_columns = pg_table_columns,
};
