/*
 * server.c: `tarn serve`. libmicrohttpd gives each connection a thread;
 * a request that runs SQL borrows one of --threads workers, each keeping
 * two sessions, opened on first use: a writer's and a reader's. The reader's DuckDB may only read the lake's own files
 * (allowed_directories, enable_external_access=false) and its settings
 * are locked, and a reader's SQL must parse, in DuckDB's own parser, as
 * exactly one SELECT (query.c): read-only is enforced by the engine, not
 * by looking at the text. A watchdog thread interrupts queries that run
 * past the time limit. This file holds the daemon, tokens, sessions,
 * routing and metrics; query.c, catalog.c, upload.c and openapi.c the
 * endpoints.
 */
#include "base/compat.h"
#include "server/srv_int.h"
#include "engine/duck.h"
#include "ingest/hash.h"
#include "lake/lake.h"
#include "lake/session.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Connections one client address may hold open at once. */
#define PER_ADDRESS_CONNECTIONS 256
/* Workers kept for catalog reads (short queries on the lake's metadata). */
#define CATALOG_WORKERS 1
/* Connections (and so connection threads) in all. */
#define MAX_CONNECTIONS 1024

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

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
		struct srv_token *t;
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
		memcpy(t->hash, hash, sizeof(t->hash));
		t->role = !strcmp(role, "reader") ? SRV_ROLE_READER : !strcmp(role, "writer") ? SRV_ROLE_WRITER :
			!strcmp(role, "admin") ? SRV_ROLE_ADMIN : SRV_ROLE_NONE;
		if (t->role == SRV_ROLE_NONE) {
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
static enum srv_role authenticate(struct srv *s, struct MHD_Connection *c, const char **name)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	enum srv_role found = SRV_ROLE_NONE;
	char *hash;
	size_t i;

	*name = "-";
	if (!s->auth) {
		*name = "local";
		return SRV_ROLE_ADMIN;
	}
	if (!h || strncasecmp(h, "Bearer ", 7))
		return SRV_ROLE_NONE;
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

/* A worker's DuckDB reads and writes the lake's folder and the read cache
 * only, plus its role's half of the server's temp folder (Parquet results),
 * and cannot change its settings back: a reader's because it may only
 * read, a writer's because its files are the lake's and the server's,
 * never the host's. */
static int lock_down(struct srv *s, struct session *ss, const char *results, struct tn_err *err)
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
	tn_buf_adds(&q, ", ");
	tn_buf_add_sqlstr(&q, results);
	tn_buf_adds(&q, "]; SET enable_external_access = false; SET lock_configuration = true");
	rc = duck_exec(session_duck(ss), q.buf, err);
	tn_buf_release(&q);
	return rc;
}

/* A worker's sessions are reopened after this many queries: a DuckDB
 * grows by about 0.7 KB a query (measured in process too), so a long-lived
 * server recycles them to keep its memory flat. */
#define RECYCLE_AFTER 5000

/* Close a worker's sessions when they are due. Called when the worker is
 * lent, so no request holds a session pointer or a streaming result. */
static void recycle(struct srv *s, struct srv_worker *w)
{
	if (w->nq < s->recycle_after || w->results > 0 || (w->rw && session_in_txn(w->rw)))
		return;
	pthread_mutex_lock(&s->mu);
	w->busy = NULL;
	pthread_mutex_unlock(&s->mu);
	session_close(w->rw);
	session_close(w->ro);
	w->rw = w->ro = NULL;
	w->nq = 0;
}

static struct srv_worker *free_worker(struct srv *s, int catalog)
{
	struct srv_worker *w;

	for (w = s->all; w; w = w->next)
		if (!w->taken && w->catalog == catalog)
			return w;
	return NULL;
}

/* Wait, first come first served, for a worker of the pool (catalog or
 * not); NULL at `until`. Called with s->mu held. In line, not a scramble:
 * under 64 connections for 8 workers a scramble made some requests wait
 * several turns (p99 twice the old pool's). */
static struct srv_worker *wait_in_line(struct srv *s, int catalog, const struct timespec *until)
{
	struct srv_waiter me = { NULL }, **p;
	struct srv_worker *w = NULL;

	for (p = &s->queue[catalog]; *p; p = &(*p)->next)
		;
	*p = &me;
	for (;;) {
		if (s->queue[catalog] == &me && (w = free_worker(s, catalog)))
			break;
		if (s->stopping || pthread_cond_timedwait(&s->freed, &s->mu, until) == ETIMEDOUT) {
			if (s->queue[catalog] == &me)
				w = free_worker(s, catalog);
			break;
		}
	}
	for (p = &s->queue[catalog]; *p != &me; p = &(*p)->next)
		;
	*p = me.next;
	pthread_cond_broadcast(&s->freed);   /* the next in line may go */
	return w;
}

/* The worker the current request holds, borrowed from the pool on first
 * use and given back when the response has been sent (completed()). A
 * request waits for one up to --queue-timeout. Requests that need no
 * session (health, metrics, docs) never wait: each connection has its
 * own thread, and only the workers are scarce. Catalog reads borrow from
 * a pool of their own, so that long queries holding every query worker
 * do not hold up the catalog either. */
static struct srv_worker *worker(struct srv *s)
{
	struct srv_req *rq = pthread_getspecific(s->key);
	struct srv_worker *w;
	struct timespec until;

	if (!rq)
		return NULL;
	if (rq->w)
		return rq->w;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += s->o->queue_ms / 1000;
	until.tv_nsec += (s->o->queue_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	w = s->queue[rq->catalog] ? NULL : free_worker(s, rq->catalog);
	if (!w)
		w = wait_in_line(s, rq->catalog, &until);
	if (w)
		w->taken = 1;
	else
		s->busy++;
	pthread_mutex_unlock(&s->mu);
	if (w)
		recycle(s, w);
	rq->w = w;
	return w;
}

/* Give the request's worker back to the pool. */
static void give_back(struct srv *s, struct srv_req *rq)
{
	if (!rq->w)
		return;
	pthread_mutex_lock(&s->mu);
	rq->w->taken = 0;
	/* waiters of both pools share the condition: wake them all */
	pthread_cond_broadcast(&s->freed);
	pthread_mutex_unlock(&s->mu);
	rq->w = NULL;
}

struct srv_worker *srv_worker_self(struct srv *s)
{
	return worker(s);
}

struct session *srv_session(struct srv *s, int reader, struct tn_err *err)
{
	struct srv_worker *w = worker(s);
	struct session **slot;

	if (!w)
		return tn_err_set(err, TN_EIO, "every worker is busy (--threads %d); retry shortly, or start the "
				  "server with more --threads", s->o->threads), NULL;
	slot = reader ? &w->ro : &w->rw;
	if (!*slot) {
		if (session_open(slot, s->lk, err))
			return NULL;
		if (lock_down(s, *slot, reader ? s->tmp_ro : s->tmp_rw, err)) {
			session_close(*slot);
			*slot = NULL;
			return NULL;
		}
	}
	return *slot;
}

int srv_exec(struct srv *s, enum srv_role role, const char *sql, struct duck_result **res, int *timed_out,
	     struct tn_err *err)
{
	struct session *ss = srv_session(s, role == SRV_ROLE_READER, err);
	struct srv_worker *w;
	int rc;

	*timed_out = 0;
	if (!ss)
		return err->code;
	w = worker(s);
	w->nq++;
	pthread_mutex_lock(&s->mu);
	w->busy = session_duck(ss);
	w->since = tn_mono();
	w->timed_out = 0;
	pthread_mutex_unlock(&s->mu);
	rc = session_exec(ss, sql, res, err);
	pthread_mutex_lock(&s->mu);
	w->busy = NULL;
	*timed_out = w->timed_out;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void srv_count(struct srv *s, uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&s->mu);
	*counter += n;
	pthread_mutex_unlock(&s->mu);
}

/* Interrupts every query that runs past the time limit. */
static void *watchdog(void *arg)
{
	struct srv *s = arg;
	double limit = (double)s->o->timeout_ms / 1000.0;

	for (;;) {
		struct srv_worker *w;
		double now = tn_mono();
		int stop;
		pthread_mutex_lock(&s->mu);
		stop = s->stopping;
		for (w = s->all; w && !stop; w = w->next)
			if (w->busy && !w->timed_out && now - w->since > limit) {
				duck_interrupt(w->busy);
				w->timed_out = 1;
				s->timeouts++;
			}
		pthread_mutex_unlock(&s->mu);
		if (stop)
			return NULL;
		nap_ms(20);
	}
}

/* ---- responses ---- */

enum MHD_Result srv_send_text(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
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

enum MHD_Result srv_send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	enum MHD_Result rc = srv_send_text(c, status, "application/json", text ? text : "{}", text ? strlen(text) : 2);

	free(text);
	json_decref(j);
	return rc;
}

enum MHD_Result srv_send_error(struct MHD_Connection *c, unsigned status, const char *code, const char *msg)
{
	return srv_send_json(c, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

enum MHD_Result srv_send_no_session(struct srv *s, struct MHD_Connection *c, const char *msg)
{
	struct srv_req *rq = pthread_getspecific(s->key);
	json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", rq && !rq->w ? "busy" : "unavailable", "message", msg);
	char *text = json_dumps(j, JSON_COMPACT);
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	json_decref(j);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (rq && !rq->w)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	rc = MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, r);
	MHD_destroy_response(r);
	return rc;
}

/* ---- metrics ---- */

/* Called with s->mu held. */
static int workers_busy(struct srv *s)
{
	int n = 0;

	for (struct srv_worker *w = s->all; w; w = w->next)
		n += w->taken && !w->catalog;
	return n;
}

static enum MHD_Result metrics(struct srv *s, struct MHD_Connection *c)
{
	static const char *le[] = { "0.01", "0.05", "0.1", "0.5", "1", "+Inf" };
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	uint64_t cum = 0;
	enum MHD_Result rc;

	pthread_mutex_lock(&s->mu);
	tn_buf_addf(&b, "# HELP tarn_http_requests_total HTTP requests answered.\n"
		    "# TYPE tarn_http_requests_total counter\ntarn_http_requests_total %" PRIu64 "\n"
		    "# TYPE tarn_http_errors_total counter\ntarn_http_errors_total %" PRIu64 "\n"
		    "# TYPE tarn_http_in_flight gauge\ntarn_http_in_flight %ld\n"
		    "# TYPE tarn_queries_total counter\ntarn_queries_total %" PRIu64 "\n"
		    "# TYPE tarn_refused_total counter\ntarn_refused_total %" PRIu64 "\n"
		    "# TYPE tarn_query_timeouts_total counter\ntarn_query_timeouts_total %" PRIu64 "\n"
		    "# TYPE tarn_commits_total counter\ntarn_commits_total %" PRIu64 "\n"
		    "# TYPE tarn_uploads_total counter\ntarn_uploads_total %" PRIu64 "\n"
		    "# TYPE tarn_upload_bytes_total counter\ntarn_upload_bytes_total %" PRIu64 "\n"
		    "# HELP tarn_busy_total Requests refused because every worker stayed busy.\n"
		    "# TYPE tarn_busy_total counter\ntarn_busy_total %" PRIu64 "\n"
		    "# TYPE tarn_workers_busy gauge\ntarn_workers_busy %d\n"
		    "# TYPE tarn_http_request_seconds histogram\n", s->requests, s->errors, s->active,
		    s->queries, s->refused, s->timeouts, s->commits, s->uploads, s->upload_bytes, s->busy,
		    workers_busy(s));
	for (size_t i = 0; i < 6; i++) {
		cum += s->lat_bucket[i];
		tn_buf_addf(&b, "tarn_http_request_seconds_bucket{le=\"%s\"} %" PRIu64 "\n", le[i], cum);
	}
	tn_buf_addf(&b, "tarn_http_request_seconds_sum %.6f\ntarn_http_request_seconds_count %" PRIu64 "\n",
		    s->lat_sum, cum);
	pthread_mutex_unlock(&s->mu);
	rc = srv_send_text(c, MHD_HTTP_OK, "text/plain; version=0.0.4", b.buf, b.len);
	tn_buf_release(&b);
	return rc;
}

/* ---- routing ---- */

/* Endpoints anyone may call. */
static int is_public(const char *url)
{
	return !strcmp(url, "/v1/health") || !strcmp(url, "/openapi.json") || !strcmp(url, "/docs") ||
	       !strcmp(url, "/metrics");
}

static enum MHD_Result only(struct MHD_Connection *c, const char *method)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "use %s", method);
	return srv_send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", msg);
}

static enum MHD_Result route(struct srv *s, struct MHD_Connection *c, const char *url, const char *method,
			     struct srv_req *rq)
{
	int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");

	if (!strcmp(url, "/v1/health"))
		return get ? srv_send_json(c, MHD_HTTP_OK, json_pack("{s:s,s:s}", "status", "ok", "version",
								     s->o->version ? s->o->version : "unknown"))
			   : only(c, "GET");
	if (!strcmp(url, "/openapi.json"))
		return srv_send_text(c, MHD_HTTP_OK, "application/json", srv_openapi(), strlen(srv_openapi()));
	if (!strcmp(url, "/docs"))
		return srv_send_text(c, MHD_HTTP_OK, "text/html; charset=utf-8", srv_docs_page(),
				     strlen(srv_docs_page()));
	if (!strcmp(url, "/metrics"))
		return metrics(s, c);
	if (rq->role == SRV_ROLE_NONE)
		return srv_send_error(c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
				      "send 'Authorization: Bearer TOKEN' with a token from the server's tokens file");
	if (rq->too_big)
		return srv_send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "the request body is over the limit");
	rq->catalog = get && strcmp(url, "/v1/query");
	if (!strcmp(url, "/v1/query"))
		return post ? srv_query(s, c, rq) : only(c, "POST");
	if (!strcmp(url, "/v1/tables"))
		return get ? srv_tables(s, c, NULL) : only(c, "GET");
	if (!strncmp(url, "/v1/tables/", 11))
		return get ? srv_tables(s, c, url + 11) : only(c, "GET");
	if (!strcmp(url, "/v1/snapshots"))
		return get ? srv_snapshots(s, c) : only(c, "GET");
	if (!strcmp(url, "/v1/datasets"))
		return get ? srv_datasets(s, c) : only(c, "GET");
	if (!strcmp(url, "/v1/exports")) {
		if (post && rq->role < SRV_ROLE_WRITER)
			return srv_send_error(c, MHD_HTTP_FORBIDDEN, "forbidden", "exporting needs a writer or admin token");
		return get ? srv_exports_get(s, c) : post ? srv_exports_post(s, c, rq) : only(c, "GET or POST");
	}
	if (!strncmp(url, "/v1/datasets/", 13))
		return only(c, "POST on /v1/datasets/NAME/files");
	if (!strncmp(url, "/v1/admin/", 10))
		return srv_admin(s, c, rq, url + 10, method);
	return srv_send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint (see /openapi.json)");
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

/* The path as the log shows it: libmicrohttpd has decoded %XX, so
 * control bytes (a forged line, terminal escapes) are written as \xNN. */
static void log_path(FILE *f, const char *url)
{
	for (; *url; url++) {
		unsigned char ch = (unsigned char)*url;
		if (ch < 0x20 || ch == 0x7f || ch == '\\')
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
}

/* One access-log line per request: no token, no query string. */
static void log_request(struct srv *s, struct MHD_Connection *c, const char *method, const char *url,
			struct srv_req *rq)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
	unsigned status = ci ? ci->http_status : 0;
	double secs = tn_mono() - rq->t0;

	account(s, status, secs);
	if (!s->o->quiet) {
		flockfile(stderr);
		fprintf(stderr, "%s ", method);
		log_path(stderr, url);
		fprintf(stderr, " %u %.1fms %s\n", status, secs * 1e3, rq->who);
		funlockfile(stderr);
	}
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	struct srv_req *rq = *con_cls;
	enum MHD_Result rc;

	(void)version;
	if (!rq) {
		rq = tn_calloc(1, sizeof(*rq));
		tn_buf_init(&rq->body, TN_BUF_NOMAX);
		rq->t0 = tn_mono();
		*con_cls = rq;
		pthread_setspecific(s->key, rq);
		pthread_mutex_lock(&s->mu);
		s->active++;
		pthread_mutex_unlock(&s->mu);
		rq->role = authenticate(s, c, &rq->who);
		if (srv_is_upload(url, method)) {
			/* refuse before the body is read when we can */
			if (rq->role == SRV_ROLE_NONE) {
				rq->answered = 1;
				rc = srv_send_error(c, MHD_HTTP_UNAUTHORIZED, "unauthorized", "send 'Authorization: Bearer "
						    "TOKEN' with a token from the server's tokens file");
			} else {
				rc = srv_upload_start(s, c, url, rq);
			}
			if (rq->answered)
				log_request(s, c, method, url, rq);
			return rc;
		}
		{
			/* a stranger's body, or one declared over the limit, is not read */
			const char *clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								       MHD_HTTP_HEADER_CONTENT_LENGTH);
			if (rq->role == SRV_ROLE_NONE && !is_public(url))
				rc = srv_send_error(c, MHD_HTTP_UNAUTHORIZED, "unauthorized", "send 'Authorization: "
						    "Bearer TOKEN' with a token from the server's tokens file");
			else if (clen && strtoull(clen, NULL, 10) > (unsigned long long)s->o->max_body)
				rc = srv_send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
						    "the request body is over the limit (--max-body-kb)");
			else
				return MHD_YES;
			rq->answered = 1;
			log_request(s, c, method, url, rq);
			return rc;
		}
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (rq->up || rq->answered) {
			rc = srv_upload_data(s, c, rq, upload, n);
			if (rq->answered && !rq->up)
				log_request(s, c, method, url, rq);
			return rc;
		}
		if (rq->body.len + n > (size_t)s->o->max_body)
			rq->too_big = 1;   /* keep reading, keep nothing */
		else
			tn_buf_add(&rq->body, upload, n);
		return MHD_YES;
	}
	if (rq->answered)
		return MHD_YES;
	pthread_setspecific(s->key, rq);
	rc = rq->up ? srv_upload_finish(s, c, rq) : route(s, c, url, method, rq);
	log_request(s, c, method, url, rq);
	return rc;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct srv *s = cls;
	struct srv_req *rq = *con_cls;

	(void)c;
	(void)t;
	if (!rq)
		return;
	srv_upload_free(rq->up);   /* a client that went away leaves nothing */
	give_back(s, rq);
	if (pthread_getspecific(s->key) == rq)
		pthread_setspecific(s->key, NULL);
	tn_buf_release(&rq->body);
	tn_free(rq);
	*con_cls = NULL;
	pthread_mutex_lock(&s->mu);
	s->active--;
	pthread_mutex_unlock(&s->mu);
}

/* ---- the server ---- */

/* The server's own temp folder: staged uploads and result files. */
static int make_tmp(struct srv *s, struct tn_err *err)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = tn_xprintf("%s/tarn-serve-XXXXXX", base && *base ? base : "/tmp");

	if (!mkdtemp(tmpl)) {
		int rc = tn_err_set(err, TN_EIO, "cannot make a temp folder in %s: %s (set TMPDIR)",
				    base && *base ? base : "/tmp", strerror(errno));
		tn_free(tmpl);
		return rc;
	}
	s->tmp = tmpl;
	s->tmp_ro = tn_fs_join(tmpl, "ro");
	s->tmp_rw = tn_fs_join(tmpl, "rw");
	if (tn_fs_mkdirs(s->tmp_ro, err) || tn_fs_mkdirs(s->tmp_rw, err))
		return err->code;
	return 0;
}

static void defaults(struct server_opts *o)
{
	if (!o->host)
		o->host = "127.0.0.1";
	if (!o->port)
		o->port = 8080;
	if (o->threads <= 0)
		o->threads = 4;
	if (o->max_body <= 0)
		o->max_body = 1 << 20;
	if (o->max_rows <= 0)
		o->max_rows = 100000;
	if (o->max_upload <= 0)
		o->max_upload = 1LL << 30;
	if (o->timeout_ms <= 0)
		o->timeout_ms = 60000;
	if (o->queue_ms <= 0)
		o->queue_ms = 10000;
}

static int check_auth(struct srv *s, struct tn_err *err)
{
	const struct server_opts *o = s->o;

	if (o->tokens_file) {
		int rc = load_tokens(s, o->tokens_file, err);
		s->auth = !rc;
		return rc;
	}
	if (strcmp(o->host, "127.0.0.1"))
		return tn_err_set(err, TN_EINVAL, "without --tokens the server only listens on 127.0.0.1 (everyone "
				  "would be admin); give a tokens file to listen on %s", o->host);
	fprintf(stderr, "tarn serve: warning: no --tokens: loopback only, every caller is admin\n");
	return 0;
}

/* Stop accepting, let requests in flight finish (30 s at most), stop. */
static void drain(struct srv *s, struct MHD_Daemon *d)
{
	double t0;
	int fd = MHD_quiesce_daemon(d);

	for (t0 = tn_mono(); tn_mono() - t0 < 30;) {
		long active;
		pthread_mutex_lock(&s->mu);
		active = s->active;
		pthread_mutex_unlock(&s->mu);
		if (active <= 0)
			break;
		nap_ms(20);
	}
	MHD_stop_daemon(d);
	if (fd >= 0)
		close(fd);
}

/* --threads workers, each lent to one request at a time; the freed
 * condition waits on the monotonic clock, as the queue timeout counts. */
static void make_pool(struct srv *s)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->freed, &ca);
	pthread_condattr_destroy(&ca);
	for (int i = 0; i < s->o->threads + CATALOG_WORKERS; i++) {
		struct srv_worker *w = tn_calloc(1, sizeof(*w));
		w->catalog = i >= s->o->threads;
		w->next = s->all;
		s->all = w;
	}
}

static void release(struct srv *s)
{
	struct tn_err ignore = TN_ERR_INIT;

	while (s->all) {
		struct srv_worker *w = s->all;
		s->all = w->next;
		session_close(w->rw);
		session_close(w->ro);
		tn_free(w);
	}
	for (size_t i = 0; i < s->ntoks; i++)
		tn_free(s->toks[i].name);
	tn_free(s->toks);
	if (s->tmp)
		tn_fs_remove_tree(s->tmp, &ignore);
	tn_free(s->tmp);
	tn_free(s->tmp_ro);
	tn_free(s->tmp_rw);
	pthread_key_delete(s->key);
	pthread_cond_destroy(&s->freed);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->ingest_mu);
	pthread_mutex_destroy(&s->admin_mu);
}

int server_run(struct lake *lk, const struct server_opts *o, struct tn_err *err)
{
	struct server_opts opts = *o;
	struct srv s;
	struct MHD_Daemon *d;
	struct sockaddr_in addr;
	pthread_t dog;
	sigset_t set;
	int sig = 0, rc;

	memset(&s, 0, sizeof(s));
	defaults(&opts);
	s.lk = lk;
	s.o = &opts;
	/* test hook: TARN_SERVE_RECYCLE=N reopens sessions sooner */
	s.recycle_after = getenv("TARN_SERVE_RECYCLE") ? strtoull(getenv("TARN_SERVE_RECYCLE"), NULL, 10) : 0;
	if (!s.recycle_after)
		s.recycle_after = RECYCLE_AFTER;
	pthread_mutex_init(&s.mu, NULL);
	pthread_mutex_init(&s.ingest_mu, NULL);
	pthread_mutex_init(&s.admin_mu, NULL);
	pthread_key_create(&s.key, NULL);
	make_pool(&s);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)opts.port);
	if (inet_pton(AF_INET, opts.host, &addr.sin_addr) != 1)
		rc = tn_err_set(err, TN_EINVAL, "--host %s is not an IPv4 address", opts.host);
	else
		rc = check_auth(&s, err);
	if (!rc)
		rc = make_tmp(&s, err);
	if (rc) {
		release(&s);
		return rc;
	}
	/* Signals go to this thread only, through sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* A thread per connection, so that a long query (on one of the
	 * --threads workers) never keeps another connection waiting for its
	 * thread; poll() has no FD_SETSIZE ceiling a thousand idle sockets
	 * could reach; a per-address limit keeps one client from taking every
	 * connection, and the connection limit bounds the threads. */
	d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
			     MHD_USE_ERROR_LOG, (uint16_t)opts.port,
			     NULL, NULL, handler, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)PER_ADDRESS_CONNECTIONS,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, &s, MHD_OPTION_END);
	if (!d) {
		rc = tn_err_set(err, TN_EIO, "cannot listen on %s:%d (in use? try --port)", opts.host, opts.port);
		release(&s);
		return rc;
	}
	pthread_create(&dog, NULL, watchdog, &s);
	fprintf(stderr, "tarn serve: listening on http://%s:%d (%d threads)\n", opts.host, opts.port, opts.threads);
	sigwait(&set, &sig);
	fprintf(stderr, "tarn serve: %s: finishing requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	drain(&s, d);
	pthread_mutex_lock(&s.mu);
	s.stopping = 1;
	pthread_mutex_unlock(&s.mu);
	pthread_join(dog, NULL);
	release(&s);
	return 0;
}
