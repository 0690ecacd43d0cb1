/*
 * store_s3_retry.c - which failed requests deserve another try, how long
 * to wait, and what to tell the user when we give up. A retry is only for
 * trouble that may pass (network, 5xx, throttling); any other 4xx is an
 * answer, and asking again would only hide it or make a storm.
 */
#include "base/compat.h"
#include "store/store_s3_int.h"
#include "base/tn_buf.h"

static const char *const retry_codes[] = {
	"InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout",
};

int store_s3_retryable(enum s3_net net, long status, const char *code)
{
	size_t i;

	switch (net) {
	case S3_NET_CONNECT:
	case S3_NET_TIMEOUT:
	case S3_NET_RESET:
	case S3_NET_PARTIAL:
		return 1;
	case S3_NET_OK:
		break;
	default:
		return 0; /* bad host name, TLS setup, our own files: asking again will not help */
	}
	if (status == 500 || status == 502 || status == 503 || status == 504 || status == 429)
		return 1;
	for (i = 0; code && i < TN_ARRAY_LEN(retry_codes); i++)
		if (!strcmp(code, retry_codes[i]))
			return 1;
	return 0;
}

int store_s3_backoff_ms(int retry, int base_ms, uint32_t rnd)
{
	int64_t cap = 5000, d = base_ms;
	int half;

	while (--retry > 0 && d < cap)
		d *= 2;
	if (d > cap)
		d = cap;
	/* Equal jitter: never sooner than half the step, so clients that failed
	 * together spread out but none hammers the server at once. */
	half = (int)(d / 2);
	return half + (int)(rnd % (uint32_t)(half + 1));
}

static const char *reason(long status)
{
	static const struct { long status; const char *text; } t[] = {
		{ 200, "OK" }, { 301, "Moved Permanently" }, { 307, "Temporary Redirect" },
		{ 400, "Bad Request" }, { 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 409, "Conflict" }, { 411, "Length Required" },
		{ 412, "Precondition Failed" }, { 416, "Range Not Satisfiable" },
		{ 429, "Too Many Requests" }, { 500, "Internal Server Error" },
		{ 501, "Not Implemented" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(t); i++)
		if (t[i].status == status)
			return t[i].text;
	return "";
}

/* What the user can do about an S3 error code or status. */
static const char *hint(long status, const char *code)
{
	static const struct { const char *code; const char *hint; } t[] = {
		{ "InvalidAccessKeyId", "check S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY" },
		{ "SignatureDoesNotMatch", "check S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY" },
		{ "AccessDenied", "check S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY and the bucket policy" },
		{ "ExpiredToken", "check S3_SESSION_TOKEN; it may have expired" },
		{ "InvalidToken", "check S3_SESSION_TOKEN" },
		{ "TokenRefreshRequired", "check S3_SESSION_TOKEN; it may have expired" },
		{ "AuthorizationHeaderMalformed", "check S3_REGION" },
		{ "PermanentRedirect", "the bucket is in another region: check S3_REGION and S3_ENDPOINT" },
		{ "RequestTimeTooSkewed", "check this machine's clock" },
		{ "SlowDown", "the server is throttling; try again later" },
		{ "InternalError", "the server failed; try again later" },
	};
	size_t i;

	for (i = 0; code && i < TN_ARRAY_LEN(t); i++)
		if (!strcmp(code, t[i].code))
			return t[i].hint;
	if (status == 403)
		return "check S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY";
	if (status == 301 || status == 307)
		return "check S3_REGION, S3_ENDPOINT and S3_URL_STYLE";
	if (status >= 500)
		return "the server failed; try again later";
	return NULL;
}

static const char *net_text(enum s3_net net)
{
	switch (net) {
	case S3_NET_CONNECT: return "cannot connect";
	case S3_NET_RESOLVE: return "cannot resolve the host";
	case S3_NET_TIMEOUT: return "timed out";
	case S3_NET_RESET: return "connection reset or closed";
	case S3_NET_PARTIAL: return "connection closed before the whole body arrived";
	case S3_NET_TLS: return "TLS failed";
	case S3_NET_LOCAL: return "local file error";
	default: return "transfer failed";
	}
}

static const char *net_hint(enum s3_net net)
{
	switch (net) {
	case S3_NET_CONNECT:
	case S3_NET_RESOLVE: return "check S3_ENDPOINT and S3_USE_SSL";
	case S3_NET_TLS: return "check S3_USE_SSL and the server's certificate";
	case S3_NET_TIMEOUT: return "the server or network is slow or stalled";
	default: return NULL;
	}
}

static void add_attempts(struct tn_buf *b, const struct s3_failure *f)
{
	if (f->attempts > 1)
		tn_buf_addf(b, " after %d attempts in %.1f s", f->attempts, f->seconds);
}

static enum tn_code code_of(const struct s3_failure *f)
{
	if (f->net != S3_NET_OK)
		return f->net == S3_NET_LOCAL ? TN_EIO : TN_EREMOTE;
	if (f->status == 404)
		return TN_ENOTFOUND;
	if (f->status == 403 || f->status == 400)
		return TN_EINVAL;
	return TN_EREMOTE;
}

int store_s3_fail(struct tn_err *err, const struct s3_failure *f)
{
	struct tn_buf b = TN_BUF_INIT(sizeof(err->msg) * 2);
	const char *h;
	int rc;

	if (f->code && !strcmp(f->code, "NoSuchBucket"))
		return tn_err_set(err, TN_ENOTFOUND, "s3: bucket '%s' does not exist (NoSuchBucket; "
				  "check S3_BUCKET or the data path)", f->bucket);
	tn_buf_addf(&b, "s3: %s %s: ", f->method, f->what);
	if (f->net != S3_NET_OK) {
		tn_buf_adds(&b, net_text(f->net));
		if (f->net == S3_NET_CONNECT || f->net == S3_NET_RESOLVE || f->net == S3_NET_TLS)
			tn_buf_addf(&b, " to %s", f->endpoint);
		if (f->net_detail && *f->net_detail)
			tn_buf_addf(&b, " (%s)", f->net_detail);
		h = net_hint(f->net);
	} else if (f->status == 404 && (!f->code || !*f->code || !strcmp(f->code, "NoSuchKey"))) {
		tn_buf_adds(&b, "no such object");
		h = NULL;
	} else {
		tn_buf_addf(&b, "%ld %s", f->status, reason(f->status));
		if (f->code && *f->code)
			tn_buf_addf(&b, ": %s", f->code);
		h = hint(f->status, f->code);
	}
	add_attempts(&b, f);
	if (h)
		tn_buf_addf(&b, " (%s)", h);
	/* The server's own words last: they are long and often generic. */
	if (f->net == S3_NET_OK && f->message && *f->message)
		tn_buf_addf(&b, "; the server said: %s", f->message);
	rc = tn_err_set(err, code_of(f), "%s", b.buf);
	tn_buf_release(&b);
	return rc;
}

void store_s3_redact(struct tn_err *err, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p = err->msg;

	if (n == 0)
		return;
	/* Same length, so the message can neither grow nor loop. */
	while ((p = strstr(p, secret)) != NULL) {
		memset(p, '*', n);
		p += n;
	}
}
