/*
 * store_s3_int.h - the S3 backend's internals, shared by its files:
 *   store_s3_conf.c  settings from the URL, the environment and .env;
 *                    URI encoding and URL building (pure, unit-tested)
 *   store_xml.c      the few XML shapes S3 answers with (pure)
 *   store_s3_retry.c which failures are worth a retry, backoff, messages
 *   store_s3.c       requests through libcurl (the only file with curl.h)
 *   store_s3_ops.c   the S3 API calls on top of store_s3_do()
 *   store_crypto.c   digests (the only file with OpenSSL)
 */
#ifndef STORE_S3_INT_H
#define STORE_S3_INT_H

#include <pthread.h>
#include "store/store_int.h"
#include "base/tn_buf.h"

/* ---- configuration ---- */

struct s3_conf {
	char *access_key, *secret_key, *session_token; /* token may be NULL */
	char *region;
	char *host;   /* endpoint "host[:port]", no scheme */
	char *bucket;
	char *prefix; /* "" or "a/b/" */
	int use_ssl;
	int vhost;    /* 1: bucket.host/key, 0: host/bucket/key */
};

/* Where settings come from: the value of `name` or NULL. */
typedef const char *(*s3_getenv_fn)(void *arg, const char *name);

/*
 * Fill `c` from the URL "s3://bucket/prefix/", then each setting from
 * get(arg, NAME) if set and non-empty, else from `dotenv` (the text of a
 * .env file, may be NULL). Release with store_s3_conf_release, also after
 * a failure.
 */
int store_s3_conf_load(struct s3_conf *c, const char *url, const char *dotenv,
		       s3_getenv_fn get, void *arg, struct tn_err *err);
void store_s3_conf_release(struct s3_conf *c);

/* The value of `name` in .env text, or NULL; owned by the caller. Lines are
 * NAME=VALUE, optional "export ", '#' comments, '...' literal, "..." with
 * \n \" \\ escapes, unquoted values end at " #". The last one wins. */
char *store_dotenv_value(const char *text, const char *name);

/* Append `s` URI-encoded as S3's SigV4 wants: unreserved characters
 * (A-Z a-z 0-9 - _ . ~) as they are, '/' as is when keep_slash, every
 * other byte as %XX with upper-case hex. */
void store_s3_uri_encode(struct tn_buf *b, const char *s, int keep_slash);

/* Full URL of object `key` (the bucket itself when key is NULL or ""),
 * with `query` ("a=1&b=2", already canonical) when not NULL. Owned. */
char *store_s3_url(const struct s3_conf *c, const char *key, const char *query);

/* ---- XML (store_xml.c) ---- */

/* Name of the root element ("" when none) into out[cap]. */
void store_xml_root(const char *p, size_t n, char *out, size_t cap);
/* Find the next <tag ...>body</tag> (or <tag/>) in [p, p+n): sets *body
 * and *blen, returns the offset just past the element, or 0 if none. */
size_t store_xml_next(const char *p, size_t n, const char *tag, const char **body, size_t *blen);
/* Entity-decoded text of the first <tag> in [p, p+n) appended to b;
 * returns 0, or -1 when there is no such element. */
int store_xml_text(const char *p, size_t n, const char *tag, struct tn_buf *b);
/* Append s with & < > " ' escaped. */
void store_xml_escape(struct tn_buf *b, const char *s);

/* ---- retries and messages (store_s3_retry.c) ---- */

/* What went wrong below HTTP (mapped from curl codes in store_s3.c). */
enum s3_net {
	S3_NET_OK,
	S3_NET_CONNECT,   /* refused, unreachable */
	S3_NET_RESOLVE,   /* no such host */
	S3_NET_TIMEOUT,   /* connect, read or total timeout */
	S3_NET_RESET,     /* reset, closed, nothing received, send/recv error */
	S3_NET_PARTIAL,   /* body shorter than its Content-Length */
	S3_NET_TLS,       /* handshake or certificate */
	S3_NET_LOCAL,     /* our side: a local file could not be read or written */
	S3_NET_OTHER
};

/* 1 when a request that ended like this is worth another try: network
 * trouble that may pass, 500/502/503/504/429, and the S3 codes InternalError,
 * SlowDown, ServiceUnavailable, RequestTimeout (also inside a 200). */
int store_s3_retryable(enum s3_net net, long status, const char *code);
/* Milliseconds to wait before retry number `retry` (1, 2, ...): exponential
 * from base_ms, capped at 5 s, with "equal jitter" from `rnd`. */
int store_s3_backoff_ms(int retry, int base_ms, uint32_t rnd);

/* Everything known about a failed request, for the message. */
struct s3_failure {
	const char *method, *what;  /* "PUT", "s3://bucket/key" */
	const char *bucket;
	enum s3_net net;
	const char *net_detail;     /* curl's text, may be "" */
	long status;
	const char *code, *message; /* from an <Error> body, may be "" */
	int attempts;
	double seconds;
	const char *endpoint;       /* "http://host:port", for connect errors */
};
/* Fill err from f: "s3: PUT s3://lake/x: 403 Forbidden: AccessDenied
 * (check S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY)" and so on. */
int store_s3_fail(struct tn_err *err, const struct s3_failure *f);
/* Replace every occurrence of `secret` in the message by "***". */
void store_s3_redact(struct tn_err *err, const char *secret);

/* ---- requests (store_s3.c) ---- */

#define S3_POOL_MAX 16

struct s3 {
	struct store base;
	struct s3_conf conf;
	char *sigv4; /* "aws:amz:<region>:s3" */
	char *endpoint_url; /* "http(s)://host", for messages */
	pthread_mutex_t pool_mu;
	void *idle[S3_POOL_MAX]; /* CURL easy handles kept for their connections */
	int nidle;
	int trace;  /* TARN_S3_TRACE: one line per request on stderr */
};

/*
 * One S3 request. The caller fills the first group; store_s3_do fills the
 * response group. The body comes from body_fd [body_off, +body_len) or
 * body_mem; a 2xx response body goes to sink_fd, or sink_mem (at most
 * sink_cap bytes, more is an error), or else into `resp` (capped at 1 MiB),
 * which also gets every error body.
 */
struct s3_req {
	const char *method;
	const char *key;        /* full object key (prefix included); NULL: bucket */
	const char *query;      /* canonical query or NULL */
	const char *content_md5;
	const char *content_type;
	int64_t range_off, range_len; /* Range header when range_len > 0 */
	int body_fd;            /* -1 when none */
	int64_t body_off, body_len;
	const char *body_mem;
	int sink_fd;            /* -1 when none */
	void *sink_mem;
	size_t sink_cap;
	int64_t size_hint;      /* expected transfer size, for the timeout; 0 if unknown */
	int xml;                /* a 2xx body must not be an <Error> document */
	long ok_status;         /* also success (404 for HEAD/DELETE, 416 for ranges) */

	long status;
	int64_t length;         /* Content-Length, -1 if none */
	int64_t got;            /* body bytes delivered to the sink */
	char etag[128];
	char content_range[128];
	char resp_type[64];     /* Content-Type of the answer */
	struct tn_buf resp;
	char code[64];          /* S3 error code of the final answer, "" if none */
	int attempts;
};

/* Set the defaults: no body, no sink, empty response. */
void store_s3_req_init(struct s3_req *r, const char *method, const char *key);
void store_s3_req_release(struct s3_req *r);
/* Run the request with retries. 0 on a 2xx (or ok_status) answer; else a
 * TN_E* code and a message that names r->key. */
int store_s3_do(struct s3 *s3, struct s3_req *r, struct tn_err *err);
/* "s3://bucket/key" for messages; owned. */
char *store_s3_what(const struct s3 *s3, const char *key);

/* ---- digests (store_crypto.c) ---- */
void store_sha256_hex(const void *p, size_t n, char out[65]);
void store_md5_base64(const void *p, size_t n, char out[25]);

/* ---- the backend (store_s3_ops.c) ---- */
extern const struct store_ops store_s3_ops;
int store_s3_setup(struct s3 *s3, struct tn_err *err); /* store_s3.c */
void store_s3_teardown(struct s3 *s3);                  /* store_s3.c */

#endif
