/*
 * fetch.c: libcurl easy transfers. One handle per request: ingestion makes
 * few, large requests, so connection reuse is not worth shared state.
 */
#include "base/compat.h"
#include "ingest/fetch.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"

#include <errno.h>
#include <strings.h>
#include <curl/curl.h>

#ifndef TARN_VERSION
#define TARN_VERSION "unknown"
#endif

/* A transfer that moves no byte for this long is abandoned. */
#define FETCH_STALL_SECONDS 60L
#define FETCH_CONNECT_SECONDS 30L

struct xfer {
	const struct fetch_req *req;
	FILE *file;              /* fetch_file */
	struct tn_buf *mem;      /* fetch_text */
	size_t max;
	int too_big, write_failed;
	char *disposition;       /* file name from Content-Disposition */
};

char *fetch_redact_url(const char *url)
{
	const char *scheme = strstr(url, "://"), *host, *at, *end;
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);

	host = scheme ? scheme + 3 : url;
	end = host + strcspn(host, "?#");
	at = memchr(host, '@', (size_t)(end - host));
	/* Only an '@' before the first '/' is userinfo. */
	if (at && memchr(host, '/', (size_t)(at - host)))
		at = NULL;
	tn_buf_add(&b, url, (size_t)(host - url));
	if (at)
		host = at + 1;
	tn_buf_add(&b, host, (size_t)(end - host));
	return tn_buf_detach(&b, NULL);
}

static const char *reason(long code)
{
	switch (code) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 410: return "Gone";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "error";
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	if (x->mem) {
		if (x->mem->len + len > x->max) {
			x->too_big = 1;
			return 0;
		}
		tn_buf_add(x->mem, p, len);
		return len;
	}
	if (fwrite(p, 1, len, x->file) != len) {
		x->write_failed = errno ? errno : EIO;
		return 0;
	}
	return len;
}

/* filename="a b.zip" or filename=a.zip; filename*= (RFC 5987) is rarer
 * and its encoding would need decoding, so the plain form is enough. */
static char *disposition_name(const char *h, size_t n)
{
	const char *p = NULL, *end = h + n;
	size_t i;

	for (i = 0; i + 9 <= n; i++) {
		if (!strncasecmp(h + i, "filename=", 9)) {
			p = h + i + 9;
			break;
		}
	}
	if (!p)
		return NULL;
	if (*p == '"') {
		const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
		return q ? tn_strndup(p + 1, (size_t)(q - p - 1)) : NULL;
	}
	for (i = 0; p + i < end && !strchr(";\r\n ", p[i]); i++)
		;
	return i ? tn_strndup(p, i) : NULL;
}

static size_t on_header(char *h, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	/* Each response of a redirect chain sends its own headers: keep the last. */
	if (len > 20 && !strncasecmp(h, "content-disposition:", 20)) {
		char *name = disposition_name(h + 20, len - 20);
		if (name) {
			tn_free(x->disposition);
			x->disposition = name;
		}
	}
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = arg;

	(void)ultotal;
	(void)ulnow;
	x->req->progress(x->req->progress_arg, x->req->what, (int64_t)dlnow,
			 dltotal > 0 ? (int64_t)dltotal : -1);
	return 0;
}

static void setup(CURL *h, struct xfer *x, struct curl_slist **headers, char *errbuf)
{
	const struct fetch_req *r = x->req;

	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tarn/" TARN_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, FETCH_CONNECT_SECONDS);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, FETCH_STALL_SECONDS);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	if (r->user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, r->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, r->password ? r->password : "");
	} else if (r->bearer) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, r->bearer);
	}
	*headers = curl_slist_append(NULL, "Accept-Encoding: identity");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
	if (r->progress) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	}
}

/* Turn a finished transfer into 0 or an error naming the URL. */
static int outcome(CURL *h, struct xfer *x, CURLcode cc, const char *errbuf, struct tn_err *err)
{
	char *url = fetch_redact_url(x->req->url);
	curl_off_t got = 0, want = -1;
	long code = 0;
	int rc = 0;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &got);
	curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &want);
	if (cc == CURLE_OK)
		goto out;
	if (x->write_failed)
		rc = tn_err_set(err, TN_EIO, "GET %s: cannot write the download: %s", url,
				strerror(x->write_failed));
	else if (x->too_big)
		rc = tn_err_set(err, TN_EREMOTE, "GET %s: the answer is larger than %zu bytes", url, x->max);
	else if (cc == CURLE_HTTP_RETURNED_ERROR)
		rc = tn_err_set(err, TN_EREMOTE, "GET %s: %ld %s", url, code, reason(code));
	else if (cc == CURLE_PARTIAL_FILE || (cc == CURLE_RECV_ERROR && got > 0))
		rc = tn_err_set(err, TN_EREMOTE, "GET %s: the download was cut off after %lld of %lld bytes "
				"(the server closed the connection); nothing was stored, try again",
				url, (long long)got, (long long)want);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		rc = tn_err_set(err, TN_EREMOTE, "GET %s: no data for %ld seconds after %lld bytes; "
				"nothing was stored, try again", url, FETCH_STALL_SECONDS, (long long)got);
	else
		rc = tn_err_set(err, TN_EREMOTE, "GET %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
out:
	tn_free(url);
	return rc;
}

/* The last segment of the final URL's path, when it has one. */
static char *url_name(CURL *h)
{
	char *eff = NULL;
	const char *p, *end, *slash;

	if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) != CURLE_OK || !eff)
		return NULL;
	p = strstr(eff, "://");
	p = p ? p + 3 : eff;
	end = p + strcspn(p, "?#");
	slash = NULL;
	for (; p < end; p++)
		if (*p == '/')
			slash = p;
	if (!slash || slash + 1 >= end)
		return NULL;
	return tn_strndup(slash + 1, (size_t)(end - slash - 1));
}

static int run(struct xfer *x, char **name, struct tn_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	CURLcode cc;
	CURL *h;
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return tn_err_set(err, TN_EINTERNAL, "cannot initialise libcurl");
	h = curl_easy_init();
	if (!h) {
		curl_global_cleanup();
		return tn_err_set(err, TN_ENOMEM, "cannot create a libcurl handle");
	}
	setup(h, x, &headers, errbuf);
	cc = curl_easy_perform(h);
	rc = outcome(h, x, cc, errbuf, err);
	if (!rc && name) {
		*name = x->disposition ? x->disposition : url_name(h);
		x->disposition = NULL;
	}
	tn_free(x->disposition);
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return rc;
}

int fetch_file(const struct fetch_req *r, const char *path, char **name, struct tn_err *err)
{
	struct xfer x = { r, NULL, NULL, 0, 0, 0, NULL };
	struct tn_err ignore = TN_ERR_INIT;
	int rc;

	if (name)
		*name = NULL;
	x.file = fopen(path, "wbx");
	if (!x.file)
		return tn_err_set(err, TN_EIO, "cannot create %s: %s", path, strerror(errno));
	rc = run(&x, name, err);
	if (fclose(x.file) != 0 && !rc)
		rc = tn_err_set(err, TN_EIO, "cannot write %s: %s", path, strerror(errno));
	if (!rc)
		rc = tn_fs_sync_file(path, err);
	if (rc) {
		tn_fs_remove(path, &ignore);
		if (name) {
			tn_free(*name);
			*name = NULL;
		}
	}
	return rc;
}

int fetch_text(const struct fetch_req *r, size_t max, char **out, size_t *len, struct tn_err *err)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	struct xfer x = { r, NULL, &b, max, 0, 0, NULL };
	int rc = run(&x, NULL, err);

	if (!rc)
		rc = tn_buf_check(&b, err);
	if (rc) {
		tn_buf_release(&b);
		*out = NULL;
		return rc;
	}
	*out = tn_buf_detach(&b, len);
	return 0;
}
