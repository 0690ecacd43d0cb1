/*
 * srv_int.h: what server.c (daemon, routing, queries), upload.c (file
 * uploads) and rewrite.c (params and "at" of a query) share. Not for
 * other files.
 */
#ifndef SRV_INT_H
#define SRV_INT_H

#include "server/server.h"
#include "base/tn_buf.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

struct session;
struct duck;
struct duck_result;

enum srv_role { SRV_ROLE_NONE, SRV_ROLE_READER, SRV_ROLE_WRITER, SRV_ROLE_ADMIN };

struct srv_token {
	char hash[65];
	char *name;
	enum srv_role role;
};

/* A worker: a pair of sessions, lent to one request at a time, and the
 * query it runs (for the timeout). */
struct srv_worker {
	struct session *rw, *ro;
	int taken;                /* lent to a request now */
	int catalog;              /* of the catalog pool, not the query pool */
	struct duck *busy;        /* DuckDB running a query now, or NULL */
	double since;             /* when that query started (tn_mono) */
	int timed_out;            /* the watchdog interrupted it */
	uint64_t nq;              /* queries since the sessions were opened */
	int results;              /* results still streaming from these sessions */
	struct srv_worker *next;
};

struct srv {
	struct lake *lk;
	const struct server_opts *o;
	struct srv_token *toks;
	size_t ntoks;
	int auth;                     /* a tokens file was given */
	char *tmp;                    /* the server's own temp folder */
	char *tmp_ro, *tmp_rw;        /* its halves for readers' and writers' result files */
	pthread_mutex_t mu;           /* counters, the worker list, busy/since */
	pthread_mutex_t ingest_mu;    /* ingestions run one at a time */
	pthread_mutex_t admin_mu;     /* so do backups, fsck and maintenance */
	struct srv_worker *all;       /* the pool of workers (--threads of them) */
	pthread_cond_t freed;         /* a worker came back to the pool */
	struct srv_waiter *queue[2];  /* requests waiting for a query / catalog worker, in order */
	pthread_key_t key;            /* the request this thread serves now */
	long active;                  /* requests in flight */
	int stopping;                 /* the watchdog ends */
	uint64_t recycle_after;       /* queries before a worker's sessions reopen */
	uint64_t requests, errors, queries, refused, timeouts, commits, uploads, upload_bytes, busy;
	uint64_t lat_bucket[6];       /* <= 10, 50, 100, 500, 1000 ms, more */
	double lat_sum;
};

/* A request in line for a worker (on its thread's stack). */
struct srv_waiter {
	struct srv_waiter *next;
};

struct srv_upload;

/* The state of one request, kept across libmicrohttpd's calls. */
struct srv_req {
	struct tn_buf body;           /* a JSON body (never an upload) */
	int too_big;
	double t0;
	enum srv_role role;
	const char *who;              /* token name for the access log */
	struct srv_upload *up;        /* an upload in progress, or NULL */
	int answered;                 /* a response is queued already */
	struct srv_worker *w;         /* the worker it holds, or NULL */
	int catalog;                  /* a catalog read: borrows from the catalog pool */
};

enum MHD_Result srv_send_text(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
			      size_t len);
/* Sends and frees j. */
enum MHD_Result srv_send_json(struct MHD_Connection *c, unsigned status, json_t *j);
enum MHD_Result srv_send_error(struct MHD_Connection *c, unsigned status, const char *code, const char *msg);

/* The current request's writer (reader = 0) or locked-down reader session,
 * from the worker it holds (waiting for one to be free, up to
 * --queue-timeout; NULL and an error saying so after that). */
struct session *srv_session(struct srv *s, int reader, struct tn_err *err);
void srv_count(struct srv *s, uint64_t *counter, uint64_t n);
/* 503 when srv_session gave NULL: "busy" with Retry-After when no worker
 * was free, "unavailable" when the session could not be opened. */
enum MHD_Result srv_send_no_session(struct srv *s, struct MHD_Connection *c, const char *msg);
/* The worker the current request holds (after srv_session succeeded). */
struct srv_worker *srv_worker_self(struct srv *s);

/* Run `sql` on this thread's session for `role` under the time limit. */
int srv_exec(struct srv *s, enum srv_role role, const char *sql, struct duck_result **res, int *timed_out,
	     struct tn_err *err);

/* ---- query.c ---- */

/* POST /v1/query. */
enum MHD_Result srv_query(struct srv *s, struct MHD_Connection *c, struct srv_req *rq);
/* Send a result (JSON, or CSV when Accept asks), streamed; takes r. */
enum MHD_Result srv_send_result(struct srv *s, struct MHD_Connection *c, struct duck_result *r, long limit);

/* ---- admin.c ---- */

/* /v1/admin/WHAT for admins: backups (GET lists, POST takes one), fsck. */
enum MHD_Result srv_admin(struct srv *s, struct MHD_Connection *c, struct srv_req *rq, const char *what,
			  const char *method);

/* ---- catalog.c ---- */

enum MHD_Result srv_tables(struct srv *s, struct MHD_Connection *c, const char *rest);
enum MHD_Result srv_snapshots(struct srv *s, struct MHD_Connection *c);
enum MHD_Result srv_datasets(struct srv *s, struct MHD_Connection *c);
enum MHD_Result srv_exports_get(struct srv *s, struct MHD_Connection *c);
enum MHD_Result srv_exports_post(struct srv *s, struct MHD_Connection *c, struct srv_req *rq);

/* ---- openapi.c ---- */

const char *srv_openapi(void);
const char *srv_docs_page(void);

/* ---- upload.c ---- */

/* 1 when `url` is POST /v1/datasets/{name}/files. */
int srv_is_upload(const char *url, const char *method);
/* First call of an upload: checks role, names and declared size, and
 * opens the staging folder; on refusal queues the error (rq->answered). */
enum MHD_Result srv_upload_start(struct srv *s, struct MHD_Connection *c, const char *url, struct srv_req *rq);
/* A piece of the body. */
enum MHD_Result srv_upload_data(struct srv *s, struct MHD_Connection *c, struct srv_req *rq, const char *data,
				size_t size);
/* The body is complete: ingest (and load) it, answer. */
enum MHD_Result srv_upload_finish(struct srv *s, struct MHD_Connection *c, struct srv_req *rq);
/* Remove whatever the upload staged (also after a client went away). */
void srv_upload_free(struct srv_upload *u);

/* ---- rewrite.c ---- */

/*
 * Bind `params` (a JSON array for $1, $2, ... and ?, or an object for
 * $name) into the SELECT `sql` and pin every table it reads to the
 * snapshot `at` ({"version": n} or {"timestamp": "..."}) unless the
 * reference has its own AT clause. Works on DuckDB's parse tree
 * (json_serialize_sql), values enter as quoted literals. *out is owned;
 * NULL when there was nothing to do.
 */
int srv_rewrite(struct duck *d, const char *sql, json_t *params, json_t *at, char **out, struct tn_err *err);

#endif
