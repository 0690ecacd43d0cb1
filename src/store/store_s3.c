/*
 * store_s3.c - S3 requests through libcurl (the only file of tarn that
 * includes curl.h): SigV4 signing by curl itself (CURLOPT_AWS_SIGV4), a
 * small pool of easy handles so connections are reused across calls and
 * threads, timeouts, and the retry loop with backoff within a budget.
 *
 * Signing notes for curl 7.88 (Debian 12), checked against a verifying
 * proxy: curl signs the path exactly as given and the query exactly as
 * given, so callers pass keys through store_s3_uri_encode and build
 * queries already sorted with "name=value" pairs (also "uploads="); the
 * payload hash is taken from our x-amz-content-sha256 header, which must
 * therefore always be present (UNSIGNED-PAYLOAD).
 */
#include "base/compat.h"
#include "store/store_s3_int.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <curl/curl.h>
#include <errno.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#define RESP_MAX (16 << 20) /* error bodies and XML answers; a list page is ~0.5 MB */
#define IO_BUFFER (512 * 1024)
#define SNIFF_MAX (64 * 1024)

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

/* curl_global_init is process-wide: done once, here, by whoever comes
 * first (STYLE Rule 14 allows this one piece of global setup). */
static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int store_s3_setup(struct s3 *s3, struct tn_err *err)
{
	const char *t = getenv("TARN_S3_TRACE");

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return tn_err_set(err, TN_EINTERNAL, "s3: cannot initialise libcurl: %s",
				  curl_easy_strerror(global_rc));
	s3->sigv4 = tn_xprintf("aws:amz:%s:s3", s3->conf.region);
	s3->endpoint_url = tn_xprintf("%s://%s", s3->conf.use_ssl ? "https" : "http", s3->conf.host);
	pthread_mutex_init(&s3->pool_mu, NULL);
	s3->trace = t && *t && strcmp(t, "0");
	return 0;
}

void store_s3_teardown(struct s3 *s3)
{
	int i;

	for (i = 0; i < s3->nidle; i++)
		curl_easy_cleanup(s3->idle[i]);
	s3->nidle = 0;
	pthread_mutex_destroy(&s3->pool_mu);
	tn_free(s3->sigv4);
	tn_free(s3->endpoint_url);
}

static CURL *acquire(struct s3 *s3)
{
	CURL *h = NULL;

	pthread_mutex_lock(&s3->pool_mu);
	if (s3->nidle)
		h = s3->idle[--s3->nidle];
	pthread_mutex_unlock(&s3->pool_mu);
	return h ? h : curl_easy_init();
}

static void release(struct s3 *s3, CURL *h)
{
	pthread_mutex_lock(&s3->pool_mu);
	if (s3->nidle < S3_POOL_MAX) {
		s3->idle[s3->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&s3->pool_mu);
	if (h)
		curl_easy_cleanup(h);
}

void store_s3_req_init(struct s3_req *r, const char *method, const char *key)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->key = key;
	r->body_fd = -1;
	r->sink_fd = -1;
	r->length = -1;
	tn_buf_init(&r->resp, RESP_MAX);
}

void store_s3_req_release(struct s3_req *r)
{
	tn_buf_release(&r->resp);
}

char *store_s3_what(const struct s3 *s3, const char *key)
{
	return tn_xprintf("s3://%s/%s", s3->conf.bucket, key ? key : "");
}

/* ---- one attempt ---- */

struct xfer {
	struct s3_req *r;
	CURL *h;
	int64_t up_pos;  /* body bytes handed to curl */
	int local_errno; /* reading the body or writing the sink failed */
	int overflow;    /* more data than sink_mem holds */
	long status;     /* known once the response body starts */
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	struct s3_req *r = x->r;
	int64_t left = r->body_len - x->up_pos;
	size_t want = size * nitems;
	ssize_t n;

	if (left <= 0)
		return 0;
	if ((int64_t)want > left)
		want = (size_t)left;
	if (r->body_mem) {
		memcpy(buf, r->body_mem + x->up_pos, want);
		x->up_pos += (int64_t)want;
		return want;
	}
	do
		n = pread(r->body_fd, buf, want, (off_t)(r->body_off + x->up_pos));
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		/* A file that shrank under us must not become a short object. */
		x->local_errno = n < 0 ? errno : EIO;
		return CURL_READFUNC_ABORT;
	}
	x->up_pos += n;
	return (size_t)n;
}

/* curl rewinds the body when it must send it again on one connection. */
static int on_seek(void *arg, curl_off_t off, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || off < 0 || off > x->r->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->up_pos = off;
	return CURL_SEEKFUNC_OK;
}

static int pwrite_all(int fd, const char *p, size_t n, int64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/*
 * tarn never stores objects as application/xml, so an XML answer to a GET
 * of an object may be an <Error> sent with 200 (by a broken gateway, or
 * our fault proxy): keep a copy of its start to check.
 */
static int xml_answer(const struct s3_req *r)
{
	return !strncasecmp(r->resp_type, "application/xml", 15) ||
	       !strncasecmp(r->resp_type, "text/xml", 8);
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct s3_req *r = x->r;
	size_t len = size * nmemb;
	int ok;

	if (!x->status)
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
	ok = x->status >= 200 && x->status < 300;
	if (ok && (r->sink_fd >= 0 || r->sink_mem) && xml_answer(r) && r->resp.len + len <= SNIFF_MAX)
		tn_buf_add(&r->resp, p, len);
	if (ok && r->sink_fd >= 0) {
		if (pwrite_all(r->sink_fd, p, len, r->got) != 0) {
			x->local_errno = errno ? errno : EIO;
			return 0;
		}
	} else if (ok && r->sink_mem) {
		if ((size_t)r->got + len > r->sink_cap) {
			x->overflow = 1;
			return 0;
		}
		memcpy((char *)r->sink_mem + r->got, p, len);
	} else {
		/* Keep what fits; an error body past 16 MiB is not worth more. */
		if (r->resp.len + len <= r->resp.max)
			tn_buf_add(&r->resp, p, len);
		return len;
	}
	r->got += (int64_t)len;
	return len;
}

/* Copy the value of header `name` (lower case, with ':') if `line` is it. */
static void grab_header(const char *line, size_t len, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), i, j = 0;

	if (len < n || strncasecmp(line, name, n))
		return;
	for (i = n; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	for (; i < len && line[i] != '\r' && line[i] != '\n' && j + 1 < cap; i++)
		out[j++] = line[i];
	out[j] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb;

	/* A new status line (after "100 Continue") starts a new header set. */
	if (len > 5 && !strncmp(p, "HTTP/", 5)) {
		x->r->etag[0] = '\0';
		x->r->content_range[0] = '\0';
		x->r->resp_type[0] = '\0';
	}
	grab_header(p, len, "content-type:", x->r->resp_type, sizeof(x->r->resp_type));
	grab_header(p, len, "etag:", x->r->etag, sizeof(x->r->etag));
	grab_header(p, len, "content-range:", x->r->content_range, sizeof(x->r->content_range));
	return len;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *fmt, const char *v)
{
	char *h = tn_xprintf(fmt, v);
	struct curl_slist *n = curl_slist_append(l, h);

	tn_free(h);
	return n ? n : l;
}

static struct curl_slist *make_headers(const struct s3 *s3, const struct s3_req *r)
{
	struct curl_slist *l = NULL;

	/* curl 7.88 takes the payload hash of the signature from this header. */
	l = add_header(l, "%s", "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	if (s3->conf.session_token)
		l = add_header(l, "x-amz-security-token: %s", s3->conf.session_token);
	if (r->content_md5)
		l = add_header(l, "Content-MD5: %s", r->content_md5);
	if (r->content_type)
		l = add_header(l, "Content-Type: %s", r->content_type);
	if (r->range_len > 0) {
		char range[64];
		snprintf(range, sizeof(range), "bytes=%lld-%lld", (long long)r->range_off,
			 (long long)(r->range_off + r->range_len - 1));
		l = add_header(l, "Range: %s", range);
	}
	return l;
}

static void set_method(CURL *h, struct s3_req *r, struct xfer *x)
{
	int has_body = r->body_mem || r->body_fd >= 0;

	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	if (has_body || !strcmp(r->method, "PUT") || !strcmp(r->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
	}
}

static void set_options(struct s3 *s3, CURL *h, struct s3_req *r, struct xfer *x, char *url,
			struct curl_slist *hdr, char *errbuf)
{
	const struct store_opts *o = &s3->base.opts;
	int64_t bytes = r->body_len > r->range_len ? r->body_len : r->range_len;

	if (r->size_hint > bytes)
		bytes = r->size_hint;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s3->sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, s3->conf.access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, s3->conf.secret_key);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tarn/" TARN_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)o->read_timeout_s);
	/* The total limit grows with the size: 1 s per MiB on top. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms + (long)(bytes >> 20) * 1000L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, (long)IO_BUFFER);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, (long)IO_BUFFER);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	set_method(h, r, x);
}

static enum s3_net map_net(CURLcode cc, const struct xfer *x)
{
	if (x->local_errno)
		return S3_NET_LOCAL;
	switch (cc) {
	case CURLE_OK: return S3_NET_OK;
	case CURLE_COULDNT_CONNECT: return S3_NET_CONNECT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY: return S3_NET_RESOLVE;
	case CURLE_OPERATION_TIMEDOUT: return S3_NET_TIMEOUT;
	case CURLE_PARTIAL_FILE: return S3_NET_PARTIAL;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY: return S3_NET_RESET;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM: return S3_NET_TLS;
	default: return S3_NET_OTHER;
	}
}

/* One try of the request; returns what happened below HTTP. */
static enum s3_net attempt(struct s3 *s3, struct s3_req *r, char *detail, size_t dcap)
{
	struct xfer x = { r, NULL, 0, 0, 0, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url = store_s3_url(&s3->conf, r->key, r->query);
	struct curl_slist *hdr = make_headers(s3, r);
	curl_off_t up = 0, down = 0, len = -1;
	enum s3_net net;
	CURLcode cc;

	x.h = acquire(s3);
	r->status = 0;
	r->got = 0;
	r->length = -1;
	tn_buf_reset(&r->resp);
	if (r->sink_fd >= 0 && ftruncate(r->sink_fd, 0) != 0)
		x.local_errno = errno;
	curl_easy_reset(x.h);
	set_options(s3, x.h, r, &x, url, hdr, errbuf);
	cc = x.local_errno ? CURLE_WRITE_ERROR : curl_easy_perform(x.h);
	curl_easy_getinfo(x.h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(x.h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	curl_easy_getinfo(x.h, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(x.h, CURLINFO_SIZE_DOWNLOAD_T, &down);
	r->length = len;
	store_count(&s3->base, 1, 0, (uint64_t)up, (uint64_t)down);
	net = map_net(cc, &x);
	if (x.local_errno)
		snprintf(detail, dcap, "%s", strerror(x.local_errno));
	else if (x.overflow)
		snprintf(detail, dcap, "the server sent more bytes than asked for");
	else
		snprintf(detail, dcap, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
	/* Cleared options still point at freed memory: drop them before reuse. */
	curl_easy_reset(x.h);
	release(s3, x.h);
	curl_slist_free_all(hdr);
	tn_free(url);
	return net;
}

/* ---- the retry loop ---- */

/* The S3 error code of the answer: from an <Error> body, or "" */
static void error_code(struct s3_req *r, int is_success_status)
{
	char root[32];

	r->code[0] = '\0';
	if (!r->resp.len)
		return;
	store_xml_root(r->resp.buf, r->resp.len, root, sizeof(root));
	if (strcmp(root, "Error"))
		return;
	if (is_success_status && !r->xml && !xml_answer(r))
		return;
	{
		struct tn_buf b = TN_BUF_INIT(sizeof(r->code) - 1);
		store_xml_text(r->resp.buf, r->resp.len, "Code", &b);
		snprintf(r->code, sizeof(r->code), "%s", b.len ? b.buf : "Error");
		tn_buf_release(&b);
	}
}

static int succeeded(const struct s3_req *r, enum s3_net net)
{
	if (net != S3_NET_OK)
		return 0;
	if (r->status >= 200 && r->status < 300)
		return r->code[0] == '\0';
	return r->ok_status && r->status == r->ok_status && strcmp(r->code, "NoSuchBucket");
}

static uint32_t jitter(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (uint32_t)tn_now_us();
	return v;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void trace(struct s3 *s3, const struct s3_req *r, enum s3_net net, const char *detail,
		  double ms)
{
	char *what;

	if (!s3->trace)
		return;
	what = store_s3_what(s3, r->key);
	/* Never headers: they hold the signature and the session token. */
	if (net == S3_NET_OK)
		fprintf(stderr, "s3: %s %s%s%s -> %ld%s%s (attempt %d, %.0f ms)\n", r->method, what,
			r->query ? "?" : "", r->query ? r->query : "", r->status, r->code[0] ? " " : "",
			r->code, r->attempts, ms);
	else
		fprintf(stderr, "s3: %s %s%s%s -> %s (attempt %d, %.0f ms)\n", r->method, what,
			r->query ? "?" : "", r->query ? r->query : "", detail, r->attempts, ms);
	tn_free(what);
}

static int give_up(struct s3 *s3, struct s3_req *r, enum s3_net net, const char *detail,
		   double secs, struct tn_err *err)
{
	struct tn_buf msg = TN_BUF_INIT(512);
	struct s3_failure f;
	char *what = store_s3_what(s3, r->key);
	int rc;

	if (r->code[0])
		store_xml_text(r->resp.buf, r->resp.len, "Message", &msg);
	f.method = r->method;
	f.what = what;
	f.bucket = s3->conf.bucket;
	f.net = net;
	f.net_detail = detail;
	f.status = r->status;
	f.code = r->code;
	f.message = msg.buf;
	f.attempts = r->attempts;
	f.seconds = secs;
	f.endpoint = s3->endpoint_url;
	rc = store_s3_fail(err, &f);
	store_s3_redact(err, s3->conf.secret_key);
	store_s3_redact(err, s3->conf.session_token);
	tn_buf_release(&msg);
	tn_free(what);
	return rc;
}

int store_s3_do(struct s3 *s3, struct s3_req *r, struct tn_err *err)
{
	const struct store_opts *o = &s3->base.opts;
	double t0 = tn_mono(), t1;
	char detail[CURL_ERROR_SIZE + 64];
	enum s3_net net;

	for (r->attempts = 1;; r->attempts++) {
		int delay;

		t1 = tn_mono();
		net = attempt(s3, r, detail, sizeof(detail));
		if (net == S3_NET_OK || r->status >= 300)
			error_code(r, r->status >= 200 && r->status < 300);
		else
			r->code[0] = '\0';
		/* An early answer (403 before the whole body was sent) is an answer. */
		if (net == S3_NET_RESET && r->status >= 400 && r->code[0])
			net = S3_NET_OK;
		trace(s3, r, net, detail, (tn_mono() - t1) * 1000);
		if (succeeded(r, net))
			return 0;
		if (!store_s3_retryable(net, r->status, r->code) || r->attempts >= o->max_attempts)
			break;
		delay = store_s3_backoff_ms(r->attempts, o->retry_base_ms, jitter());
		if ((tn_mono() - t0) * 1000 + delay > o->retry_budget_ms)
			break;
		sleep_ms(delay);
		store_count(&s3->base, 0, 1, 0, 0);
	}
	return give_up(s3, r, net, detail, tn_mono() - t0, err);
}
