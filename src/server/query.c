/*
 * query.c: POST /v1/query. A reader's SQL must parse, in DuckDB's own
 * parser, as exactly one SELECT, and runs on the reader's locked-down
 * session (server.c); a writer's runs as `tarn sql` runs it. "params" and
 * "at" are applied on the parse tree (rewrite.c). Results go out as JSON
 * (columns with types, rows), CSV or Parquet, streamed: JSON and CSV are
 * made a few hundred rows at a time as libmicrohttpd asks for more;
 * Parquet is written by DuckDB's COPY into the server's temp folder,
 * unlinked at once and sent from the open file.
 */
#include "base/compat.h"
#include "server/srv_int.h"
#include "engine/duck.h"
#include "lake/session.h"
#include "lake/sqlparse.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum fmt { FMT_JSON, FMT_CSV, FMT_PARQUET };

static enum fmt wanted(struct MHD_Connection *c)
{
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

	if (a && (strstr(a, "application/vnd.apache.parquet") || strstr(a, "application/x-parquet")))
		return FMT_PARQUET;
	if (a && strstr(a, "text/csv"))
		return FMT_CSV;
	return FMT_JSON;
}

/* ---- streamed JSON and CSV ---- */

struct stream {
	struct srv_worker *w;    /* whose session made r */
	struct duck_result *r;
	enum fmt fmt;
	size_t nc;
	uint64_t row, nr;
	int truncated, phase;    /* 0 head, 1 rows, 2 tail, 3 done */
	struct tn_buf buf;
	size_t off;
};

static int numeric(const char *type)
{
	static const char *t[] = { "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
				   "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE" };
	for (size_t i = 0; i < TN_ARRAY_LEN(t); i++)
		if (!strcmp(type, t[i]))
			return 1;
	return 0;
}

static json_t *cell(struct duck_result *r, size_t col, uint64_t row)
{
	const char *type = duck_result_typename(r, col);
	char *v;
	json_t *j;

	if (duck_result_is_null(r, col, row))
		return json_null();
	v = duck_result_text(r, col, row);
	if (!v)
		return json_null();
	if (!strcmp(type, "BOOLEAN"))
		j = json_boolean(!strcmp(v, "true"));
	else if (numeric(type) && !strpbrk(v, ".eEn") && strcmp(type, "UBIGINT"))
		j = json_integer(strtoll(v, NULL, 10));
	else if (numeric(type) && strcmp(type, "UBIGINT") && strcmp(v, "nan") && strcmp(v, "inf") &&
		 strcmp(v, "-inf"))
		j = json_real(strtod(v, NULL));
	else
		j = json_string(v);
	tn_free(v);
	return j;
}

static void csv_field(struct tn_buf *b, const char *v)
{
	if (!v)
		return;
	if (!strpbrk(v, ",\"\r\n")) {
		tn_buf_adds(b, v);
		return;
	}
	tn_buf_addc(b, '"');
	for (; *v; v++) {
		if (*v == '"')
			tn_buf_addc(b, '"');
		tn_buf_addc(b, *v);
	}
	tn_buf_addc(b, '"');
}

static void head(struct stream *st)
{
	size_t col;

	if (st->fmt == FMT_CSV) {
		for (col = 0; col < st->nc; col++) {
			tn_buf_adds(&st->buf, col ? "," : "");
			csv_field(&st->buf, duck_result_name(st->r, col));
		}
		tn_buf_adds(&st->buf, "\r\n");
		return;
	}
	{
		json_t *cols = json_array();
		char *text;
		for (col = 0; col < st->nc; col++)
			json_array_append_new(cols, json_pack("{s:s,s:s}", "name", duck_result_name(st->r, col), "type",
							      duck_result_typename(st->r, col)));
		text = json_dumps(cols, JSON_COMPACT);
		tn_buf_addf(&st->buf, "{\"columns\":%s,\"rows\":[", text);
		free(text);
		json_decref(cols);
	}
}

static void rows(struct stream *st)
{
	uint64_t end = st->row + 256 < st->nr ? st->row + 256 : st->nr;
	size_t col;

	for (; st->row < end; st->row++) {
		if (st->fmt == FMT_CSV) {
			for (col = 0; col < st->nc; col++) {
				char *v = duck_result_is_null(st->r, col, st->row) ? NULL :
					duck_result_text(st->r, col, st->row);
				tn_buf_adds(&st->buf, col ? "," : "");
				csv_field(&st->buf, v);
				tn_free(v);
			}
			tn_buf_adds(&st->buf, "\r\n");
		} else {
			json_t *a = json_array();
			char *text;
			for (col = 0; col < st->nc; col++)
				json_array_append_new(a, cell(st->r, col, st->row));
			text = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
			tn_buf_adds(&st->buf, st->row ? "," : "");
			tn_buf_adds(&st->buf, text);
			free(text);
			json_decref(a);
		}
	}
}

static ssize_t produce(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *st = cls;
	size_t n;

	(void)pos;
	while (st->off == st->buf.len) {
		tn_buf_reset(&st->buf);
		st->off = 0;
		if (st->phase == 0) {
			head(st);
			st->phase = 1;
		} else if (st->phase == 1 && st->row < st->nr) {
			rows(st);
		} else if (st->phase == 1) {
			if (st->fmt == FMT_JSON)
				tn_buf_addf(&st->buf, "],\"row_count\":%llu,\"truncated\":%s}",
					    (unsigned long long)st->nr, st->truncated ? "true" : "false");
			st->phase = 3;
			if (!st->buf.len)
				return MHD_CONTENT_READER_END_OF_STREAM;
		} else {
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
	}
	n = st->buf.len - st->off < max ? st->buf.len - st->off : max;
	memcpy(out, st->buf.buf + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *st = cls;

	duck_result_free(st->r);
	st->w->results--;
	tn_buf_release(&st->buf);
	tn_free(st);
}

enum MHD_Result srv_send_result(struct srv *s, struct MHD_Connection *c, struct duck_result *r, long limit)
{
	struct stream *st = tn_calloc(1, sizeof(*st));
	uint64_t cap = (uint64_t)(limit > 0 && limit < s->o->max_rows ? limit : s->o->max_rows);
	struct MHD_Response *resp;
	enum MHD_Result rc;

	st->r = r;
	st->w = srv_worker_self(s);
	st->w->results++;
	st->fmt = wanted(c) == FMT_CSV ? FMT_CSV : FMT_JSON;
	st->nc = r ? duck_result_ncols(r) : 0;
	st->nr = r && st->nc ? duck_result_nrows(r) : 0;
	st->truncated = st->nr > cap;
	if (st->truncated)
		st->nr = cap;
	tn_buf_init(&st->buf, TN_BUF_NOMAX);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, produce, st, stream_free);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, st->fmt == FMT_CSV ? "text/csv; charset=utf-8" :
				"application/json");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (st->truncated)
		MHD_add_response_header(resp, "X-Tarn-Truncated", "true");
	rc = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* ---- queries ---- */

/* DuckDB's parser says whether `sql` is exactly one SELECT: its
 * json_serialize_sql serializes SELECT statements only. */
static int single_select(struct duck *d, const char *sql)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err err = TN_ERR_INIT;
	char *tree = NULL;
	json_t *root;
	int ok;

	tn_buf_adds(&q, "SELECT json_serialize_sql(");
	tn_buf_add_sqlstr(&q, sql);
	tn_buf_adds(&q, ")");
	ok = !duck_query_text(d, q.buf, &tree, &err);
	tn_buf_release(&q);
	/* DuckDB writes query_location -1 as 2^64 - 1, past a jansson integer */
	root = ok && tree ? json_loads(tree, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
	tn_free(tree);
	ok = root && !json_is_true(json_object_get(root, "error")) &&
	     json_array_size(json_object_get(root, "statements")) == 1;
	json_decref(root);
	return ok;
}

/*
 * A writer changes the lake with SQL (DDL, DML, COPY … FROM, MERGE,
 * transactions) and reads it; what tarn would hand to DuckDB as is
 * (SET, ATTACH, USE, COPY … TO, EXPORT, INSTALL, LOAD, PRAGMA, CREATE
 * TEMP/MACRO/SECRET, …) would change the worker's DuckDB for the callers
 * that come next, or reach past the lake, so only its harmless read-only
 * forms pass. tarn's own statement reader decides (sqlparse), which is
 * what decides how session_exec runs each statement.
 */
static int writer_sql_ok(const char *sql, char *why, size_t n)
{
	static const char *reads[] = { "SHOW", "DESCRIBE", "EXPLAIN", "SUMMARIZE" };
	struct tn_err err = TN_ERR_INIT;
	char **stmts = NULL;
	size_t ns = 0, i, k;
	int ok = 1;

	if (sqlparse_split(sql, &stmts, &ns, &err))
		return 1;   /* the session reports the syntax error */
	for (i = 0; ok && i < ns; i++) {
		struct sql_stmt *st = NULL;
		if (sqlparse_parse(stmts[i], &st, &err)) {
			tn_err_clear(&err);
			continue;
		}
		if (st->kind == SQL_PASSTHROUGH) {
			size_t len = strspn(st->text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_");
			ok = 0;
			for (k = 0; k < TN_ARRAY_LEN(reads); k++)
				if (len == strlen(reads[k]) && !strncasecmp(st->text, reads[k], len))
					ok = 1;
			if (len == 4 && !strncasecmp(st->text, "CALL", 4) &&
			    !strncasecmp(st->text + 4 + strspn(st->text + 4, " \t\r\n"), "tarn_set_commit_message", 23))
				ok = 1;
			if (!ok)
				snprintf(why, n, "statement %zu ('%.*s …') is not available over HTTP: writers change "
					 "the lake with DDL, DML, COPY … FROM and MERGE; DuckDB session statements (SET, "
					 "ATTACH, USE, COPY … TO, EXPORT, INSTALL, LOAD, PRAGMA, CREATE TEMP/MACRO/SECRET) "
					 "are refused", i + 1, (int)(len < 20 ? len : 20), st->text);
		}
		sqlparse_free(st);
	}
	sqlparse_free_list(stmts, ns);
	return ok;
}

static int denied(const char *msg)
{
	return strstr(msg, "Permission Error") || strstr(msg, "disabled by configuration") ||
	       strstr(msg, "enable_external_access") || strstr(msg, "lock_configuration");
}

static enum MHD_Result exec_error(struct srv *s, struct MHD_Connection *c, int timed_out,
				  const struct tn_err *err)
{
	if (timed_out)
		return srv_send_error(c, MHD_HTTP_GATEWAY_TIMEOUT, "timeout", "the query ran past the server's time "
				      "limit (--timeout) and was stopped; nothing was changed");
	if (denied(err->msg)) {
		srv_count(s, &s->refused, 1);
		return srv_send_error(c, MHD_HTTP_FORBIDDEN, "read_only", err->msg);
	}
	return srv_send_error(c, MHD_HTTP_BAD_REQUEST, "sql_error", err->msg);
}

/* Parquet: DuckDB writes the capped result to a file of the server's, which
 * is unlinked as soon as it is open and sent from the descriptor. */
static enum MHD_Result send_parquet(struct srv *s, struct MHD_Connection *c, enum srv_role role, const char *sql,
				   long limit)
{
	long cap = limit > 0 && limit < s->o->max_rows ? limit : s->o->max_rows;
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err err = TN_ERR_INIT;
	struct duck_result *r = NULL;
	struct MHD_Response *resp;
	struct stat stt;
	char uuid[37], *path;
	int fd, timed_out, rc;
	enum MHD_Result mrc;

	tn_uuid7(uuid);
	path = tn_xprintf("%s/q-%s.parquet", role == SRV_ROLE_READER ? s->tmp_ro : s->tmp_rw, uuid);
	/* the newline ends a trailing -- comment; the SQL is one SELECT */
	tn_buf_addf(&q, "COPY (SELECT * FROM (%s\n) LIMIT %ld) TO ", sql, cap);
	tn_buf_add_sqlstr(&q, path);
	tn_buf_adds(&q, " (FORMAT parquet)");
	rc = srv_exec(s, role, q.buf, &r, &timed_out, &err);
	tn_buf_release(&q);
	duck_result_free(r);
	if (rc) {
		unlink(path);
		tn_free(path);
		return exec_error(s, c, timed_out, &err);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	tn_free(path);
	if (fd < 0 || fstat(fd, &stt) != 0) {
		if (fd >= 0)
			close(fd);
		return srv_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "io", "cannot read back the Parquet result");
	}
	resp = MHD_create_response_from_fd((uint64_t)stt.st_size, fd);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/vnd.apache.parquet");
	MHD_add_response_header(resp, "Content-Disposition", "attachment; filename=\"result.parquet\"");
	mrc = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return mrc;
}

static enum MHD_Result run(struct srv *s, struct MHD_Connection *c, struct srv_req *rq, const char *sql,
			   json_t *params, json_t *at, long limit)
{
	struct tn_err err = TN_ERR_INIT;
	struct duck_result *r = NULL;
	struct session *ss = srv_session(s, rq->role == SRV_ROLE_READER, &err);
	char *rewritten = NULL, *capped = NULL, why[512];
	long cap = limit > 0 && limit < s->o->max_rows ? limit : s->o->max_rows;
	enum fmt f = wanted(c);
	int timed_out, one, failed;
	enum MHD_Result rc;

	if (!ss)
		return srv_send_no_session(s, c, err.msg);
	one = single_select(session_duck(ss), sql);
	if (rq->role != SRV_ROLE_READER && !one && !writer_sql_ok(sql, why, sizeof(why))) {
		srv_count(s, &s->refused, 1);
		return srv_send_error(c, MHD_HTTP_FORBIDDEN, "forbidden", why);
	}
	if ((rq->role == SRV_ROLE_READER || f == FMT_PARQUET) && !one) {
		if (rq->role != SRV_ROLE_READER)
			return srv_send_error(c, MHD_HTTP_BAD_REQUEST, "bad_request",
					      "a Parquet result needs one SELECT statement");
		srv_count(s, &s->refused, 1);
		return srv_send_error(c, MHD_HTTP_FORBIDDEN, "read_only",
				      "a reader may run one SELECT statement per request; this is not one");
	}
	if (srv_rewrite(session_duck(ss), sql, params, at, &rewritten, &err))
		return srv_send_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", err.msg);
	if (rewritten)
		sql = rewritten;
	srv_count(s, &s->queries, 1);
	if (f == FMT_PARQUET) {
		rc = send_parquet(s, c, rq->role, sql, limit);
		tn_free(rewritten);
		return rc;
	}
	if (one) {
		/* DuckDB stops at the cap (one row more says it was cut): the row
		 * cap also bounds the memory a result takes before it streams */
		capped = tn_xprintf("SELECT * FROM (%s\n) LIMIT %ld", sql, cap + 1);
		sql = capped;
	}
	if (rq->role != SRV_ROLE_READER)
		session_set_commit_info(ss, rq->who, NULL, NULL);
	failed = srv_exec(s, rq->role, sql, &r, &timed_out, &err);
	tn_free(rewritten);
	tn_free(capped);
	if (failed)
		return exec_error(s, c, timed_out, &err);
	if (session_in_txn(ss)) {
		/* the session serves other callers next: no transaction outlives its request */
		duck_result_free(r);
		session_exec(ss, "ROLLBACK", NULL, &err);
		return srv_send_error(c, MHD_HTTP_BAD_REQUEST, "open_transaction", "BEGIN and COMMIT must be in the same "
				      "request; the transaction was rolled back");
	}
	if (rq->role != SRV_ROLE_READER && session_last_commit(ss) >= 0)
		srv_count(s, &s->commits, 1);
	return srv_send_result(s, c, r, limit);
}

enum MHD_Result srv_query(struct srv *s, struct MHD_Connection *c, struct srv_req *rq)
{
	json_error_t je;
	json_t *body = rq->body.len ? json_loadb(rq->body.buf, rq->body.len, 0, &je) : NULL;
	json_t *sql = json_object_get(body, "sql"), *limit = json_object_get(body, "limit");
	json_t *params = json_object_get(body, "params"), *at = json_object_get(body, "at");
	enum MHD_Result rc;

	if (!json_is_string(sql) || (limit && !json_is_integer(limit)))
		rc = srv_send_error(c, MHD_HTTP_BAD_REQUEST, "bad_request",
				    "the body must be JSON like {\"sql\": \"SELECT ...\", \"params\": [...], "
				    "\"at\": {\"version\": 3}, \"limit\": 100}");
	else
		rc = run(s, c, rq, json_string_value(sql), json_is_null(params) ? NULL : params,
			 json_is_null(at) ? NULL : at, limit ? (long)json_integer_value(limit) : 0);
	json_decref(body);
	return rc;
}
