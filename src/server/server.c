/*
 * server.c: `tarn serve`. libmicrohttpd runs a pool of worker threads;
 * each keeps two sessions of its own, opened on first use: a writer's and
 * a reader's. The reader's DuckDB may only read the lake's own files
 * (allowed_directories, enable_external_access=false) and its settings
 * are locked, and a reader's SQL must parse, in DuckDB's own parser, as
 * exactly one SELECT: read-only is enforced by the engine, not by looking
 * at the text.
 */
#include "base/compat.h"
#include "server/server.h"
#include "engine/duck.h"
#include "ingest/hash.h"
#include "ingest/ingest.h"
#include "lake/lake.h"
#include "lake/session.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define HASH_HEX 65

enum role { ROLE_NONE, ROLE_READER, ROLE_WRITER, ROLE_ADMIN };

struct token {
	char hash[HASH_HEX];
	char *name;
	enum role role;
};

struct wsess {
	struct session *rw, *ro;
	struct wsess *next;
};

struct srv {
	struct lake *lk;
	const struct server_opts *o;
	struct token *toks;
	size_t ntoks;
	int auth;                     /* a tokens file was given */
	pthread_mutex_t mu;
	struct wsess *all;            /* every worker's sessions, closed at the end */
	pthread_key_t key;
	long active;                  /* requests in flight */
	uint64_t requests, errors, queries, refused;
	uint64_t lat_bucket[6];       /* <= 10, 50, 100, 500, 1000 ms, more */
	double lat_sum;
};

struct req {
	struct tn_buf body;
	int too_big;
	double t0;
};

static const char openapi[] =
	"{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"tarn\",\"version\":\"1\","
	"\"description\":\"The HTTP API of a tarn lake. Authenticate with 'Authorization: Bearer TOKEN'; "
	"roles reader (queries, catalog reads), writer (+ SQL that writes), admin.\"},"
	"\"components\":{\"securitySchemes\":{\"bearer\":{\"type\":\"http\",\"scheme\":\"bearer\"}},"
	"\"schemas\":{\"Error\":{\"type\":\"object\",\"properties\":{\"error\":{\"type\":\"object\",\"properties\":"
	"{\"code\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"}}}}},"
	"\"Result\":{\"type\":\"object\",\"properties\":{\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"properties\":{\"name\":{\"type\":\"string\"},\"type\":{\"type\":\"string\"}}}},\"rows\":{\"type\":\"array\","
	"\"items\":{\"type\":\"array\"}},\"row_count\":{\"type\":\"integer\"},\"truncated\":{\"type\":\"boolean\"}}}}},"
	"\"security\":[{\"bearer\":[]}],\"paths\":{"
	"\"/v1/health\":{\"get\":{\"summary\":\"Liveness\",\"security\":[],\"responses\":{\"200\":{\"description\":\"ok\"}}}},"
	"\"/v1/query\":{\"post\":{\"summary\":\"Run SQL (readers: one SELECT). Time travel with AT (VERSION => n) "
	"on table references.\",\"requestBody\":{\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\","
	"\"required\":[\"sql\"],\"properties\":{\"sql\":{\"type\":\"string\"},\"limit\":{\"type\":\"integer\"}}}}}},"
	"\"responses\":{\"200\":{\"description\":\"the result; text/csv when Accept asks for it\",\"content\":"
	"{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/Result\"}},\"text/csv\":{}}},"
	"\"400\":{\"description\":\"bad request\"},\"401\":{\"description\":\"no or unknown token\"},"
	"\"403\":{\"description\":\"not allowed for this role\"},\"413\":{\"description\":\"body too large\"}}}},"
	"\"/v1/tables\":{\"get\":{\"summary\":\"Tables and views with rows, size and comment\",\"responses\":"
	"{\"200\":{\"description\":\"a Result\"}}}},"
	"\"/v1/snapshots\":{\"get\":{\"summary\":\"Snapshots of the lake\",\"responses\":{\"200\":{\"description\":"
	"\"a Result\"}}}},"
	"\"/v1/tables/{table}\":{\"get\":{\"summary\":\"Columns of SCHEMA.TABLE: types, comments\",\"parameters\":"
	"[{\"name\":\"table\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}],"
	"\"responses\":{\"200\":{\"description\":\"a Result\"}}}},"
	"\"/v1/tables/{table}/snapshots\":{\"get\":{\"summary\":\"Snapshots that touched SCHEMA.TABLE\",\"parameters\":"
	"[{\"name\":\"table\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}],"
	"\"responses\":{\"200\":{\"description\":\"a Result\"}}}},"
	"\"/v1/datasets\":{\"get\":{\"summary\":\"Raw datasets and their versions\",\"responses\":"
	"{\"200\":{\"description\":\"{versions: [...]}\"}}}},"
	"\"/metrics\":{\"get\":{\"summary\":\"Prometheus metrics\",\"security\":[],\"responses\":{\"200\":"
	"{\"description\":\"text\"}}}},"
	"\"/openapi.json\":{\"get\":{\"summary\":\"This description\",\"security\":[],\"responses\":{\"200\":"
	"{\"description\":\"OpenAPI 3\"}}}}}}";

static const char docs_html[] =
	"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>tarn API</title>"
	"<style>body{font-family:system-ui,sans-serif;margin:2em}code{background:#eee;padding:0 4px}"
	"li{margin:.4em 0}</style></head><body><h1>tarn API</h1><ul id=\"paths\"></ul><script>"
	"fetch('/openapi.json').then(r=>r.json()).then(d=>{const ul=document.getElementById('paths');"
	"for(const [p,ops] of Object.entries(d.paths))for(const [m,op] of Object.entries(ops)){"
	"const li=document.createElement('li');li.innerHTML='<code>'+m.toUpperCase()+' '+p+'</code> ';"
	"li.appendChild(document.createTextNode(op.summary||''));ul.appendChild(li);}});"
	"</script></body></html>";

/* ---- tokens ---- */

char *server_hash_token(const char *token)
{
	struct hash *h = hash_new();
	char *hex = tn_calloc(HASH_HEX_LEN, 1);

	hash_add(h, token, strlen(token));
	hash_end(h, hex);
	return hex;
}

static int load_tokens(struct srv *s, const char *path, struct tn_err *err)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t alloc = 0, lineno = 0;

	if (!f)
		return tn_err_set(err, TN_EIO, "cannot read the tokens file %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char hash[128], name[256], role[32];
		struct token *t;
		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (sscanf(line, "%127s %255s %31s", hash, name, role) != 3 || strlen(hash) != 64 ||
		    strspn(hash, "0123456789abcdef") != 64) {
			fclose(f);
			return tn_err_set(err, TN_EINVAL, "%s:%zu: expected 'SHA256HEX NAME ROLE' (make the hash with "
					  "`tarn serve --hash-token TOKEN`)", path, lineno);
		}
		TN_GROW(s->toks, alloc, s->ntoks + 1);
		t = &s->toks[s->ntoks];
		memcpy(t->hash, hash, HASH_HEX);
		t->role = !strcmp(role, "reader") ? ROLE_READER : !strcmp(role, "writer") ? ROLE_WRITER :
			!strcmp(role, "admin") ? ROLE_ADMIN : ROLE_NONE;
		if (t->role == ROLE_NONE) {
			fclose(f);
			return tn_err_set(err, TN_EINVAL, "%s:%zu: role '%s' is not reader, writer or admin", path,
					  lineno, role);
		}
		t->name = tn_strdup(name);
		s->ntoks++;
	}
	fclose(f);
	if (!s->ntoks)
		return tn_err_set(err, TN_EINVAL, "the tokens file %s lists no token", path);
	return 0;
}

/* The caller's role and name; every token is compared, in constant time. */
static enum role authenticate(struct srv *s, struct MHD_Connection *c, const char **name)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	enum role found = ROLE_NONE;
	char *hash;
	size_t i;

	*name = "-";
	if (!s->auth) {
		*name = "local";
		return ROLE_ADMIN;
	}
	if (!h || strncasecmp(h, "Bearer ", 7))
		return ROLE_NONE;
	hash = server_hash_token(h + 7);
	for (i = 0; i < s->ntoks; i++)
		if (!CRYPTO_memcmp(hash, s->toks[i].hash, 64)) {
			found = s->toks[i].role;
			*name = s->toks[i].name;
		}
	tn_free(hash);
	return found;
}

/* ---- sessions ---- */

static const char *cache_dir(char *buf, size_t n)
{
	const char *v = getenv("TARN_CACHE_DIR"), *home = getenv("HOME");

	if (v && *v)
		return v;
	snprintf(buf, n, "%s/.cache/tarn", home ? home : "/tmp");
	return buf;
}

/* A reader's DuckDB reads the lake's folder and the read cache, nothing
 * else, and cannot change its settings back. */
static int lock_down(struct srv *s, struct session *ss, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char cbuf[1024];
	int rc;

	tn_buf_adds(&q, "SET allowed_directories = [");
	tn_buf_add_sqlstr(&q, lake_dir(s->lk));
	tn_buf_adds(&q, ", ");
	tn_buf_add_sqlstr(&q, lake_data_path(s->lk));
	tn_buf_adds(&q, ", ");
	tn_buf_add_sqlstr(&q, cache_dir(cbuf, sizeof(cbuf)));
	tn_buf_adds(&q, "]; SET enable_external_access = false; SET lock_configuration = true");
	rc = duck_exec(session_duck(ss), q.buf, err);
	tn_buf_release(&q);
	return rc;
}

static struct session *worker_session(struct srv *s, int reader, struct tn_err *err)
{
	struct wsess *w = pthread_getspecific(s->key);
	struct session **slot;

	if (!w) {
		w = tn_calloc(1, sizeof(*w));
		pthread_setspecific(s->key, w);
		pthread_mutex_lock(&s->mu);
		w->next = s->all;
		s->all = w;
		pthread_mutex_unlock(&s->mu);
	}
	slot = reader ? &w->ro : &w->rw;
	if (!*slot) {
		if (session_open(slot, s->lk, err))
			return NULL;
		if (reader && lock_down(s, *slot, err)) {
			session_close(*slot);
			*slot = NULL;
			return NULL;
		}
	}
	return *slot;
}

/* ---- responses ---- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
				 size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	enum MHD_Result rc = send_text(c, status, "application/json", text ? text : "{}", text ? strlen(text) : 2);

	free(text);
	json_decref(j);
	return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code, const char *msg)
{
	return send_json(c, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

static int numeric(const char *type)
{
	static const char *t[] = { "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
				   "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "HUGEINT" };
	for (size_t i = 0; i < TN_ARRAY_LEN(t); i++)
		if (!strcmp(type, t[i]))
			return 1;
	return 0;
}

static json_t *cell(struct duck_result *r, size_t col, uint64_t row, const char *type)
{
	char *v;
	json_t *j;

	if (duck_result_is_null(r, col, row))
		return json_null();
	v = duck_result_text(r, col, row);
	if (!v)
		return json_null();
	if (!strcmp(type, "BOOLEAN"))
		j = json_boolean(!strcmp(v, "true"));
	else if (numeric(type) && strchr(v, '.') == NULL && strchr(v, 'e') == NULL && strcmp(type, "HUGEINT"))
		j = json_integer(strtoll(v, NULL, 10));
	else if (numeric(type) && strcmp(type, "HUGEINT"))
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

static enum MHD_Result send_result(struct srv *s, struct MHD_Connection *c, struct duck_result *r, long limit)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	size_t nc = duck_result_ncols(r), col;
	uint64_t nr = duck_result_nrows(r), row, cap = (uint64_t)(limit > 0 && limit < s->o->max_rows ? limit :
								    s->o->max_rows);
	int truncated = nr > cap;

	if (truncated)
		nr = cap;
	if (accept && strstr(accept, "text/csv")) {
		struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
		enum MHD_Result rc;
		for (col = 0; col < nc; col++) {
			tn_buf_adds(&b, col ? "," : "");
			csv_field(&b, duck_result_name(r, col));
		}
		tn_buf_adds(&b, "\r\n");
		for (row = 0; row < nr; row++) {
			for (col = 0; col < nc; col++) {
				char *v = duck_result_is_null(r, col, row) ? NULL : duck_result_text(r, col, row);
				tn_buf_adds(&b, col ? "," : "");
				csv_field(&b, v);
				tn_free(v);
			}
			tn_buf_adds(&b, "\r\n");
		}
		rc = send_text(c, MHD_HTTP_OK, "text/csv; charset=utf-8", b.buf ? b.buf : "", b.len);
		tn_buf_release(&b);
		return rc;
	} else {
		json_t *cols = json_array(), *rows = json_array();
		for (col = 0; col < nc; col++)
			json_array_append_new(cols, json_pack("{s:s,s:s}", "name", duck_result_name(r, col), "type",
							      duck_result_typename(r, col)));
		for (row = 0; row < nr; row++) {
			json_t *a = json_array();
			for (col = 0; col < nc; col++)
				json_array_append_new(a, cell(r, col, row, duck_result_typename(r, col)));
			json_array_append_new(rows, a);
		}
		return send_json(c, MHD_HTTP_OK, json_pack("{s:o,s:o,s:I,s:b}", "columns", cols, "rows", rows,
							   "row_count", (json_int_t)nr, "truncated", truncated));
	}
}

/* ---- queries ---- */

/* DuckDB's parser says whether `sql` is exactly one SELECT: its
 * json_serialize_sql serializes SELECT statements only. */
static int single_select(struct session *ss, const char *sql, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char *tree = NULL;
	json_t *root;
	int ok;

	tn_buf_adds(&q, "SELECT json_serialize_sql(");
	tn_buf_add_sqlstr(&q, sql);
	tn_buf_adds(&q, ")");
	if (duck_query_text(session_duck(ss), q.buf, &tree, err)) {
		tn_buf_release(&q);
		return 0;
	}
	tn_buf_release(&q);
	/* DuckDB writes query_location -1 as 2^64 - 1, past a jansson integer */
	root = tree ? json_loads(tree, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
	tn_free(tree);
	ok = root && !json_is_true(json_object_get(root, "error")) &&
	     json_array_size(json_object_get(root, "statements")) == 1;
	json_decref(root);
	return ok;
}

static enum MHD_Result run_sql(struct srv *s, struct MHD_Connection *c, enum role role, const char *sql, long limit)
{
	struct tn_err err = TN_ERR_INIT;
	struct duck_result *r = NULL;
	struct session *ss = worker_session(s, role == ROLE_READER, &err);
	enum MHD_Result rc;

	if (!ss)
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", err.msg);
	if (role == ROLE_READER && !single_select(ss, sql, &err)) {
		pthread_mutex_lock(&s->mu);
		s->refused++;
		pthread_mutex_unlock(&s->mu);
		return send_error(c, MHD_HTTP_FORBIDDEN, "read_only",
				  "a reader may run one SELECT statement per request; this is not one");
	}
	pthread_mutex_lock(&s->mu);
	s->queries++;
	pthread_mutex_unlock(&s->mu);
	if (session_exec(ss, sql, &r, &err)) {
		int denied = role == ROLE_READER && (strstr(err.msg, "Permission Error") ||
						     strstr(err.msg, "disabled by configuration") ||
						     strstr(err.msg, "enable_external_access"));
		return send_error(c, denied ? MHD_HTTP_FORBIDDEN : MHD_HTTP_BAD_REQUEST,
				  denied ? "read_only" : "sql_error", err.msg);
	}
	rc = r && duck_result_ncols(r) ? send_result(s, c, r, limit) :
		send_json(c, MHD_HTTP_OK, json_pack("{s:[],s:[],s:i,s:b}", "columns", "rows", "row_count", 0,
						    "truncated", 0));
	duck_result_free(r);
	return rc;
}

static enum MHD_Result post_query(struct srv *s, struct MHD_Connection *c, enum role role, struct req *rq)
{
	json_error_t je;
	json_t *body = rq->body.len ? json_loadb(rq->body.buf, rq->body.len, 0, &je) : NULL;
	const char *sql = json_string_value(json_object_get(body, "sql"));
	long limit = (long)json_integer_value(json_object_get(body, "limit"));
	enum MHD_Result rc;

	if (!sql)
		rc = send_error(c, MHD_HTTP_BAD_REQUEST, "bad_request",
				"the body must be JSON like {\"sql\": \"SELECT ...\", \"limit\": 100}");
	else
		rc = run_sql(s, c, role, sql, limit);
	json_decref(body);
	return rc;
}

/* ---- metrics ---- */

static enum MHD_Result metrics(struct srv *s, struct MHD_Connection *c)
{
	static const char *le[] = { "0.01", "0.05", "0.1", "0.5", "1", "+Inf" };
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	uint64_t cum = 0;
	enum MHD_Result rc;

	pthread_mutex_lock(&s->mu);
	tn_buf_addf(&b, "# TYPE tarn_http_requests_total counter\ntarn_http_requests_total %" PRIu64 "\n"
		    "# TYPE tarn_http_errors_total counter\ntarn_http_errors_total %" PRIu64 "\n"
		    "# TYPE tarn_queries_total counter\ntarn_queries_total %" PRIu64 "\n"
		    "# TYPE tarn_refused_total counter\ntarn_refused_total %" PRIu64 "\n"
		    "# TYPE tarn_http_request_seconds histogram\n", s->requests, s->errors, s->queries, s->refused);
	for (size_t i = 0; i < 6; i++) {
		cum += s->lat_bucket[i];
		tn_buf_addf(&b, "tarn_http_request_seconds_bucket{le=\"%s\"} %" PRIu64 "\n", le[i], cum);
	}
	tn_buf_addf(&b, "tarn_http_request_seconds_sum %.6f\ntarn_http_request_seconds_count %" PRIu64 "\n",
		    s->lat_sum, cum);
	pthread_mutex_unlock(&s->mu);
	rc = send_text(c, MHD_HTTP_OK, "text/plain; version=0.0.4", b.buf, b.len);
	tn_buf_release(&b);
	return rc;
}

/* ---- routing ---- */

static enum MHD_Result datasets(struct srv *s, struct MHD_Connection *c);
static enum MHD_Result one_table(struct srv *s, struct MHD_Connection *c, const char *rest);

static enum MHD_Result route(struct srv *s, struct MHD_Connection *c, const char *url, const char *method,
			     struct req *rq, const char **who)
{
	int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	enum role role;

	if (!strcmp(url, "/v1/health"))
		return get ? send_json(c, MHD_HTTP_OK, json_pack("{s:s,s:s}", "status", "ok", "version", s->o->version ? s->o->version : "unknown"))
			   : send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "use GET");
	if (!strcmp(url, "/openapi.json"))
		return send_text(c, MHD_HTTP_OK, "application/json", openapi, sizeof(openapi) - 1);
	if (!strcmp(url, "/docs"))
		return send_text(c, MHD_HTTP_OK, "text/html; charset=utf-8", docs_html, sizeof(docs_html) - 1);
	if (!strcmp(url, "/metrics"))
		return metrics(s, c);
	role = authenticate(s, c, who);
	if (role == ROLE_NONE)
		return send_error(c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
				  "send 'Authorization: Bearer TOKEN' with a token from the server's tokens file");
	if (rq->too_big)
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "the request body is over the limit");
	if (!strcmp(url, "/v1/query"))
		return post ? post_query(s, c, role, rq) : send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "use POST");
	if (!strcmp(url, "/v1/tables"))
		return get ? run_sql(s, c, ROLE_READER, "SELECT * FROM tarn_tables() ORDER BY schema_name, table_name", 0)
			   : send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "use GET");
	if (!strcmp(url, "/v1/snapshots"))
		return get ? run_sql(s, c, ROLE_READER, "SELECT * FROM tarn_snapshots() ORDER BY snapshot_id", 0)
			   : send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "use GET");
	if (!strcmp(url, "/v1/datasets"))
		return get ? datasets(s, c) : send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "use GET");
	if (!strncmp(url, "/v1/tables/", 11))
		return get ? one_table(s, c, url + 11) : send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "use GET");
	return send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint (see /openapi.json)");
}

/* GET /v1/datasets: the raw zone, every version. */
static enum MHD_Result datasets(struct srv *s, struct MHD_Connection *c)
{
	struct ingest_listing l;
	struct tn_err err = TN_ERR_INIT;
	json_t *a;
	size_t i;

	if (ingest_list(s->lk, 1, &l, &err))
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "raw_zone", err.msg);
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:b,s:I,s:I}", "dataset", l.e[i].dataset,
						   "version", l.e[i].version, "created", l.e[i].created ? l.e[i].created : "",
						   "source", l.e[i].source ? l.e[i].source : "", "latest", l.e[i].latest,
						   "files", (json_int_t)l.e[i].nfiles, "bytes", (json_int_t)l.e[i].bytes));
	ingest_listing_release(&l);
	return send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "versions", a));
}

/* GET /v1/tables/{schema}.{table}[/snapshots]: its columns (with comments
 * and types), or the snapshots that touched it. The name only ever
 * reaches SQL as a quoted literal. */
static enum MHD_Result one_table(struct srv *s, struct MHD_Connection *c, const char *rest)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	const char *slash = strchr(rest, '/');
	char *name = slash ? tn_strndup(rest, (size_t)(slash - rest)) : tn_strdup(rest);
	enum MHD_Result rc;

	if (!*name || strlen(name) > 512 || strchr(name, '\'') || (slash && strcmp(slash, "/snapshots"))) {
		tn_free(name);
		return send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "use /v1/tables/SCHEMA.TABLE[/snapshots]");
	}
	if (slash) {
		tn_buf_adds(&q, "SELECT snapshot_id, snapshot_time, author, commit_message, changes FROM tarn_snapshots() "
			    "WHERE changes LIKE '%' || (SELECT CAST(table_id AS VARCHAR) FROM tarn_tables() WHERE "
			    "schema_name || '.' || table_name = ");
		tn_buf_add_sqlstr(&q, name);
		tn_buf_adds(&q, ") || '%' ORDER BY snapshot_id");
	} else {
		tn_buf_adds(&q, "SELECT * FROM tarn_columns(");
		tn_buf_add_sqlstr(&q, name);
		tn_buf_adds(&q, ")");
	}
	{
		struct tn_err err = TN_ERR_INIT;
		struct duck_result *r = NULL;
		struct session *ss = worker_session(s, 1, &err);
		if (!ss)
			rc = send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", err.msg);
		else if (session_exec(ss, q.buf, &r, &err))
			rc = send_error(c, MHD_HTTP_BAD_REQUEST, "sql_error", err.msg);
		else if (!slash && duck_result_nrows(r) == 0)
			rc = send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such table (see GET /v1/tables)");
		else
			rc = send_result(s, c, r, 0);
		duck_result_free(r);
	}
	tn_buf_release(&q);
	tn_free(name);
	return rc;
}

static void account(struct srv *s, unsigned status, double secs)
{
	static const double edge[] = { 0.01, 0.05, 0.1, 0.5, 1 };
	size_t i;

	pthread_mutex_lock(&s->mu);
	s->requests++;
	if (status >= 400)
		s->errors++;
	for (i = 0; i < 5 && secs > edge[i]; i++)
		;
	s->lat_bucket[i]++;
	s->lat_sum += secs;
	pthread_mutex_unlock(&s->mu);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	struct req *rq = *con_cls;
	const char *who = "-";
	enum MHD_Result rc;
	const union MHD_ConnectionInfo *ci;

	(void)version;
	if (!rq) {
		rq = tn_calloc(1, sizeof(*rq));
		tn_buf_init(&rq->body, TN_BUF_NOMAX);
		rq->t0 = tn_mono();
		*con_cls = rq;
		pthread_mutex_lock(&s->mu);
		s->active++;
		pthread_mutex_unlock(&s->mu);
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->body.len + *upload_size > (size_t)s->o->max_body)
			rq->too_big = 1;   /* keep reading, keep nothing */
		else
			tn_buf_add(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	rc = route(s, c, url, method, rq, &who);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
	{
		unsigned status = ci ? ci->http_status : 0;
		double secs = tn_mono() - rq->t0;
		account(s, status, secs);
		if (!s->o->quiet)
			fprintf(stderr, "%s %s %u %.1fms %s\n", method, url, status, secs * 1e3, who);
	}
	return rc;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct srv *s = cls;
	struct req *rq = *con_cls;

	(void)c;
	(void)t;
	if (!rq)
		return;
	tn_buf_release(&rq->body);
	tn_free(rq);
	*con_cls = NULL;
	pthread_mutex_lock(&s->mu);
	s->active--;
	pthread_mutex_unlock(&s->mu);
}

/* ---- the server ---- */

int server_run(struct lake *lk, const struct server_opts *o, struct tn_err *err)
{
	struct server_opts opts = *o;
	struct srv s;
	struct MHD_Daemon *d;
	struct sockaddr_in addr;
	sigset_t set;
	int sig = 0, rc = 0;
	double t0;

	memset(&s, 0, sizeof(s));
	if (!opts.host)
		opts.host = "127.0.0.1";
	if (!opts.port)
		opts.port = 8080;
	if (opts.threads <= 0)
		opts.threads = 4;
	if (opts.max_body <= 0)
		opts.max_body = 1 << 20;
	if (opts.max_rows <= 0)
		opts.max_rows = 100000;
	s.lk = lk;
	s.o = &opts;
	pthread_mutex_init(&s.mu, NULL);
	pthread_key_create(&s.key, NULL);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)opts.port);
	if (inet_pton(AF_INET, opts.host, &addr.sin_addr) != 1) {
		rc = tn_err_set(err, TN_EINVAL, "--host %s is not an IPv4 address", opts.host);
		goto out;
	}
	if (opts.tokens_file) {
		rc = load_tokens(&s, opts.tokens_file, err);
		if (rc)
			goto out;
		s.auth = 1;
	} else if (strcmp(opts.host, "127.0.0.1")) {
		rc = tn_err_set(err, TN_EINVAL, "without --tokens the server only listens on 127.0.0.1 (everyone "
				"would be admin); give a tokens file to listen on %s", opts.host);
		goto out;
	} else {
		fprintf(stderr, "tarn serve: warning: no --tokens: loopback only, every caller is admin\n");
	}
	/* Signals go to this thread only, through sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG, (uint16_t)opts.port, NULL, NULL,
			     handler, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)opts.threads,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, &s, MHD_OPTION_END);
	if (!d) {
		rc = tn_err_set(err, TN_EIO, "cannot listen on %s:%d (in use? try --port)", opts.host, opts.port);
		goto out;
	}
	fprintf(stderr, "tarn serve: listening on http://%s:%d (%d threads)\n", opts.host, opts.port, opts.threads);
	sigwait(&set, &sig);
	fprintf(stderr, "tarn serve: %s: finishing requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	MHD_quiesce_daemon(d);
	for (t0 = tn_mono(); tn_mono() - t0 < 30;) {
		long active;
		pthread_mutex_lock(&s.mu);
		active = s.active;
		pthread_mutex_unlock(&s.mu);
		if (active <= 0)
			break;
		{
			struct timespec ts = { 0, 20 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	MHD_stop_daemon(d);
out:
	while (s.all) {
		struct wsess *w = s.all;
		s.all = w->next;
		session_close(w->rw);
		session_close(w->ro);
		tn_free(w);
	}
	for (size_t i = 0; i < s.ntoks; i++)
		tn_free(s.toks[i].name);
	tn_free(s.toks);
	pthread_key_delete(s.key);
	pthread_mutex_destroy(&s.mu);
	return rc;
}
