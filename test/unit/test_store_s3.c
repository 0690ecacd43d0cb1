/* Unit tests of the S3 backend's pure parts: key encoding, URLs in both
 * addressing styles, settings from env and .env, the XML answers, retry
 * classification, backoff and the error messages. No server needed. */
#include "base/compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "store/store_s3_int.h"
#include "base/tn_mem.h"

static char *enc(const char *s, int keep_slash)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);

	store_s3_uri_encode(&b, s, keep_slash);
	return tn_buf_detach(&b, NULL);
}

static void test_uri_encode(void **state)
{
	static const struct { const char *in, *path, *query; } t[] = {
		{ "plain-_.~09AZaz", "plain-_.~09AZaz", "plain-_.~09AZaz" },
		{ "a b", "a%20b", "a%20b" },
		{ "a+b", "a%2Bb", "a%2Bb" },
		{ "100%", "100%25", "100%25" },
		{ "k=v&x", "k%3Dv%26x", "k%3Dv%26x" },
		{ "dir/sub/f", "dir/sub/f", "dir%2Fsub%2Ff" },
		{ "\xc3\xbc", "%C3%BC", "%C3%BC" },          /* ü */
		{ "\xe2\x9c\x93", "%E2%9C%93", "%E2%9C%93" }, /* ✓ */
		{ "q?#*!'()", "q%3F%23%2A%21%27%28%29", "q%3F%23%2A%21%27%28%29" },
		{ "", "", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < TN_ARRAY_LEN(t); i++) {
		char *p = enc(t[i].in, 1), *q = enc(t[i].in, 0);
		assert_string_equal(p, t[i].path);
		assert_string_equal(q, t[i].query);
		tn_free(p);
		tn_free(q);
	}
}

static struct s3_conf conf(const char *host, int ssl, int vhost)
{
	struct s3_conf c;

	memset(&c, 0, sizeof(c));
	c.host = (char *)host;
	c.bucket = (char *)"lake";
	c.use_ssl = ssl;
	c.vhost = vhost;
	return c;
}

static void url_is(const struct s3_conf *c, const char *key, const char *q, const char *want)
{
	char *u = store_s3_url(c, key, q);
	assert_string_equal(u, want);
	tn_free(u);
}

static void test_urls(void **state)
{
	struct s3_conf path = conf("127.0.0.1:9000", 0, 0);
	struct s3_conf vh = conf("s3.eu-west-1.amazonaws.com", 1, 1);

	(void)state;
	url_is(&path, "stage/x y.parquet", NULL, "http://127.0.0.1:9000/lake/stage/x%20y.parquet");
	url_is(&path, NULL, "list-type=2", "http://127.0.0.1:9000/lake?list-type=2");
	url_is(&path, "a+b", "uploads=", "http://127.0.0.1:9000/lake/a%2Bb?uploads=");
	url_is(&vh, "stage/x.parquet", NULL, "https://lake.s3.eu-west-1.amazonaws.com/stage/x.parquet");
	url_is(&vh, NULL, "delete=", "https://lake.s3.eu-west-1.amazonaws.com/?delete=");
}

/* ---- settings ---- */

struct fake_env {
	const char *const *kv; /* name, value, ..., NULL */
};

static const char *fake_get(void *arg, const char *name)
{
	const struct fake_env *e = arg;
	size_t i;

	for (i = 0; e->kv[i]; i += 2)
		if (!strcmp(e->kv[i], name))
			return e->kv[i + 1];
	return NULL;
}

static void test_dotenv(void **state)
{
	static const char text[] =
		"# comment\n"
		"  export S3_REGION = eu-central-1\n"
		"S3_ENDPOINT=http://minio:9000 # trailing comment\n"
		"S3_SECRET_ACCESS_KEY='se#cret with spaces'\n"
		"S3_SESSION_TOKEN=\"tok\\\"en\\n2\"\n"
		"S3_BUCKET=first\n"
		"S3_BUCKET=second\r\n"
		"S3_URL_STYLEX=nope\n"
		"EMPTY=\n"
		"HASH=a#b\n";
	static const struct { const char *name, *want; } t[] = {
		{ "S3_REGION", "eu-central-1" },
		{ "S3_ENDPOINT", "http://minio:9000" },
		{ "S3_SECRET_ACCESS_KEY", "se#cret with spaces" },
		{ "S3_SESSION_TOKEN", "tok\"en\n2" },
		{ "S3_BUCKET", "second" },
		{ "EMPTY", "" },
		{ "HASH", "a#b" },
		{ "S3_URL_STYLE", NULL },
		{ "MISSING", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < TN_ARRAY_LEN(t); i++) {
		char *v = store_dotenv_value(text, t[i].name);
		if (t[i].want)
			assert_string_equal(v, t[i].want);
		else
			assert_null(v);
		tn_free(v);
	}
	assert_null(store_dotenv_value(NULL, "X"));
}

static void test_conf_env_wins(void **state)
{
	static const char dotenv[] = "S3_ACCESS_KEY_ID=fromfile\nS3_SECRET_ACCESS_KEY=filesecret\n"
				     "S3_ENDPOINT=localhost:9000\nS3_USE_SSL=false\nS3_REGION=eu-west-3\n";
	static const char *const kv[] = { "S3_ACCESS_KEY_ID", "fromenv", "S3_REGION", "", NULL };
	struct fake_env e = { kv };
	struct tn_err err = TN_ERR_INIT;
	struct s3_conf c;

	(void)state;
	assert_int_equal(store_s3_conf_load(&c, "s3://my-bucket/some/prefix", dotenv, fake_get, &e, &err), 0);
	assert_string_equal(c.access_key, "fromenv");          /* env wins */
	assert_string_equal(c.secret_key, "filesecret");       /* only in .env */
	assert_string_equal(c.region, "eu-west-3");            /* empty env counts as unset */
	assert_string_equal(c.host, "localhost:9000");
	assert_int_equal(c.use_ssl, 0);
	assert_int_equal(c.vhost, 0);                          /* custom endpoint: path style */
	assert_string_equal(c.bucket, "my-bucket");
	assert_string_equal(c.prefix, "some/prefix/");
	store_s3_conf_release(&c);
}

static void test_conf_defaults(void **state)
{
	static const char *const kv[] = { "S3_ACCESS_KEY_ID", "AK", "S3_SECRET_ACCESS_KEY", "SK",
					  "S3_BUCKET", "envbucket", NULL };
	struct fake_env e = { kv };
	struct tn_err err = TN_ERR_INIT;
	struct s3_conf c;

	(void)state;
	assert_int_equal(store_s3_conf_load(&c, "s3:///", NULL, fake_get, &e, &err), 0);
	assert_string_equal(c.bucket, "envbucket");
	assert_string_equal(c.prefix, "");
	assert_string_equal(c.region, "us-east-1");
	assert_string_equal(c.host, "s3.us-east-1.amazonaws.com");
	assert_int_equal(c.use_ssl, 1);
	assert_int_equal(c.vhost, 1);
	assert_null(c.session_token);
	store_s3_conf_release(&c);
}

static void conf_fails(const char *url, const char *const *kv, const char *dotenv, const char *msg)
{
	struct fake_env e = { kv };
	struct tn_err err = TN_ERR_INIT;
	struct s3_conf c;

	assert_int_not_equal(store_s3_conf_load(&c, url, dotenv, fake_get, &e, &err), 0);
	if (!strstr(err.msg, msg))
		fail_msg("message '%s' lacks '%s'", err.msg, msg);
	store_s3_conf_release(&c);
}

static void test_conf_errors(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const keys[] = { "S3_ACCESS_KEY_ID", "AK", "S3_SECRET_ACCESS_KEY", "SK", NULL };
	static const char *const half[] = { "S3_SECRET_ACCESS_KEY", "SK", NULL };
	static const char *const style[] = { "S3_ACCESS_KEY_ID", "AK", "S3_SECRET_ACCESS_KEY", "SK",
					     "S3_URL_STYLE", "diagonal", NULL };
	static const char *const clash[] = { "S3_ACCESS_KEY_ID", "AK", "S3_SECRET_ACCESS_KEY", "SK",
					     "S3_ENDPOINT", "https://h", "S3_USE_SSL", "no", NULL };
	static const char *const badep[] = { "S3_ACCESS_KEY_ID", "AK", "S3_SECRET_ACCESS_KEY", "SK",
					     "S3_ENDPOINT", "http://h:1/path", NULL };
	static const char *const region[] = { "S3_ACCESS_KEY_ID", "AK", "S3_SECRET_ACCESS_KEY", "SK",
					      "S3_REGION", "us:east", NULL };

	(void)state;
	conf_fails("s3://b1b/x", none, NULL, "no credentials");
	conf_fails("s3://b1b/x", half, NULL, "S3_SECRET_ACCESS_KEY is set but S3_ACCESS_KEY_ID is not");
	conf_fails("s3:///x", keys, NULL, "names no bucket and S3_BUCKET is not set");
	conf_fails("s3://Bad_Bucket!/x", keys, NULL, "not a valid bucket name");
	conf_fails("s3://bkt/a/../b", keys, NULL, "'..' segment");
	conf_fails("s3://bkt/a//b", keys, NULL, "empty path segment");
	conf_fails("s3://bkt/", style, NULL, "S3_URL_STYLE is 'diagonal'");
	conf_fails("s3://bkt/", clash, NULL, "S3_ENDPOINT says https but S3_USE_SSL is false");
	conf_fails("s3://bkt/", badep, NULL, "without a path");
	conf_fails("s3://bkt/", region, NULL, "not a region name");
}

/* ---- XML ---- */

static const char list_page[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	"<Name>lake</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
	"<IsTruncated>true</IsTruncated>"
	"<Contents><Key>p/a &amp; b&lt;c&gt;.bin</Key><Size>10</Size></Contents>"
	"<Contents><Key>p/&#252;&#x2713;&quot;&apos;</Key><LastModified>x</LastModified>"
	"<ETag>&quot;e&quot;</ETag><Size>0</Size></Contents>"
	"<NextContinuationToken>1/2+3=</NextContinuationToken></ListBucketResult>";

static void test_xml_list(void **state)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	const char *p = list_page, *body;
	size_t n = strlen(list_page), used, blen;
	char root[32];
	int count = 0;

	(void)state;
	store_xml_root(p, n, root, sizeof(root));
	assert_string_equal(root, "ListBucketResult");
	assert_int_equal(store_xml_text(p, n, "IsTruncated", &b), 0);
	assert_string_equal(b.buf, "true");
	tn_buf_reset(&b);
	assert_int_equal(store_xml_text(p, n, "NextContinuationToken", &b), 0);
	assert_string_equal(b.buf, "1/2+3=");
	tn_buf_reset(&b);
	/* <KeyCount> must not be taken for <Key>. */
	assert_int_equal(store_xml_text(p, n, "Key", &b), 0);
	assert_string_equal(b.buf, "p/a & b<c>.bin");
	while ((used = store_xml_next(p, n, "Contents", &body, &blen)) != 0) {
		tn_buf_reset(&b);
		store_xml_text(body, blen, "Key", &b);
		if (count++ == 1)
			assert_string_equal(b.buf, "p/\xc3\xbc\xe2\x9c\x93\"'");
		p += used;
		n -= used;
	}
	assert_int_equal(count, 2);
	assert_int_equal(store_xml_text(list_page, strlen(list_page), "Missing", &b), -1);
	tn_buf_release(&b);
}

static void test_xml_error_and_multipart(void **state)
{
	static const char err_doc[] = "<?xml version=\"1.0\"?>\n<!-- a comment -->\n<Error>"
				      "<Code>NoSuchBucket</Code><Message>The bucket does not exist</Message>"
				      "<BucketName>x</BucketName></Error>";
	static const char init[] = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
				   "<UploadId>VXBsb2FkIElE.-_~</UploadId></InitiateMultipartUploadResult>";
	static const char del[] = "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key>"
				  "<Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
				  "<Error><Key>c</Key><Code>InternalError</Code></Error></DeleteResult>";
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	const char *body;
	size_t blen, used;
	char root[32];

	(void)state;
	store_xml_root(err_doc, strlen(err_doc), root, sizeof(root));
	assert_string_equal(root, "Error");
	store_xml_text(err_doc, strlen(err_doc), "Code", &b);
	assert_string_equal(b.buf, "NoSuchBucket");
	tn_buf_reset(&b);
	store_xml_text(init, strlen(init), "UploadId", &b);
	assert_string_equal(b.buf, "VXBsb2FkIElE.-_~");
	store_xml_root(del, strlen(del), root, sizeof(root));
	assert_string_equal(root, "DeleteResult");
	used = store_xml_next(del, strlen(del), "Error", &body, &blen);
	assert_true(used > 0);
	tn_buf_reset(&b);
	store_xml_text(body, blen, "Key", &b);
	assert_string_equal(b.buf, "b");
	assert_true(store_xml_next(del + used, strlen(del) - used, "Error", &body, &blen) > 0);
	/* Self-closing and truncated documents. */
	assert_true(store_xml_next("<a><Prefix/></a>", 16, "Prefix", &body, &blen) > 0);
	assert_int_equal(blen, 0);
	assert_int_equal(store_xml_next("<Key>unterminated", 17, "Key", &body, &blen), 0);
	store_xml_root("", 0, root, sizeof(root));
	assert_string_equal(root, "");
	tn_buf_release(&b);
}

static void test_xml_escape(void **state)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);

	(void)state;
	store_xml_escape(&b, "a&b<c>\"d'");
	assert_string_equal(b.buf, "a&amp;b&lt;c&gt;&quot;d&apos;");
	tn_buf_release(&b);
}

/* ---- retries ---- */

static void test_retryable(void **state)
{
	(void)state;
	assert_true(store_s3_retryable(S3_NET_OK, 500, ""));
	assert_true(store_s3_retryable(S3_NET_OK, 502, ""));
	assert_true(store_s3_retryable(S3_NET_OK, 503, "SlowDown"));
	assert_true(store_s3_retryable(S3_NET_OK, 504, ""));
	assert_true(store_s3_retryable(S3_NET_OK, 429, ""));
	assert_true(store_s3_retryable(S3_NET_OK, 200, "InternalError"));   /* 200 + <Error> */
	assert_true(store_s3_retryable(S3_NET_OK, 400, "RequestTimeout"));
	assert_true(store_s3_retryable(S3_NET_TIMEOUT, 0, ""));
	assert_true(store_s3_retryable(S3_NET_RESET, 0, ""));
	assert_true(store_s3_retryable(S3_NET_PARTIAL, 200, ""));
	assert_true(store_s3_retryable(S3_NET_CONNECT, 0, ""));
	assert_false(store_s3_retryable(S3_NET_OK, 400, "InvalidArgument"));
	assert_false(store_s3_retryable(S3_NET_OK, 403, "AccessDenied"));
	assert_false(store_s3_retryable(S3_NET_OK, 403, "SignatureDoesNotMatch"));
	assert_false(store_s3_retryable(S3_NET_OK, 404, "NoSuchKey"));
	assert_false(store_s3_retryable(S3_NET_OK, 404, "NoSuchBucket"));
	assert_false(store_s3_retryable(S3_NET_OK, 405, ""));
	assert_false(store_s3_retryable(S3_NET_OK, 200, "AccessDenied"));
	assert_false(store_s3_retryable(S3_NET_RESOLVE, 0, ""));
	assert_false(store_s3_retryable(S3_NET_TLS, 0, ""));
	assert_false(store_s3_retryable(S3_NET_LOCAL, 0, ""));
}

static void test_backoff(void **state)
{
	int r;

	(void)state;
	for (r = 1; r <= 20; r++) {
		int step = 100 << (r - 1 > 10 ? 10 : r - 1);
		int lo, hi;

		if (step > 5000)
			step = 5000;
		lo = store_s3_backoff_ms(r, 100, 0);
		hi = store_s3_backoff_ms(r, 100, 0xffffffffu - 0);
		assert_int_equal(lo, step / 2);
		assert_true(hi >= step / 2 && hi <= step);
		assert_true(store_s3_backoff_ms(r, 100, 12345u) <= 5000);
	}
	assert_int_equal(store_s3_backoff_ms(1, 100, 50), 100); /* 50 + 50 % 51 */
}

/* ---- messages ---- */

static void fail_is(const struct s3_failure *f, enum tn_code code, const char *want)
{
	struct tn_err err = TN_ERR_INIT;

	assert_int_equal(store_s3_fail(&err, f), code);
	if (!strstr(err.msg, want))
		fail_msg("message '%s' lacks '%s'", err.msg, want);
}

static void test_messages(void **state)
{
	struct s3_failure f = { "PUT", "s3://lake/stage/x.parquet", "lake", S3_NET_OK, "", 403,
				"", "", 1, 0.1, "http://127.0.0.1:9000" };

	(void)state;
	fail_is(&f, TN_EINVAL, "s3: PUT s3://lake/stage/x.parquet: 403 Forbidden "
		"(check S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY)");
	f.code = "SignatureDoesNotMatch";
	fail_is(&f, TN_EINVAL, "403 Forbidden: SignatureDoesNotMatch (check S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY)");
	f.code = "NoSuchBucket";
	f.status = 404;
	fail_is(&f, TN_ENOTFOUND, "s3: bucket 'lake' does not exist (NoSuchBucket");
	f.code = "NoSuchKey";
	fail_is(&f, TN_ENOTFOUND, "s3: PUT s3://lake/stage/x.parquet: no such object");
	f.code = "ExpiredToken";
	f.status = 400;
	fail_is(&f, TN_EINVAL, "check S3_SESSION_TOKEN");
	f.code = "SlowDown";
	f.status = 503;
	f.attempts = 5;
	f.seconds = 3.25;
	fail_is(&f, TN_EREMOTE, "503 Service Unavailable: SlowDown after 5 attempts in 3.2 s");
	f.net = S3_NET_CONNECT;
	f.net_detail = "Failed to connect";
	fail_is(&f, TN_EREMOTE, "cannot connect to http://127.0.0.1:9000 (Failed to connect) after 5 "
		"attempts in 3.2 s (check S3_ENDPOINT and S3_USE_SSL)");
}

static void test_redact(void **state)
{
	struct tn_err err = TN_ERR_INIT;

	(void)state;
	tn_err_set(&err, TN_EREMOTE, "s3: something echoed s3cr3t and s3cr3t again");
	store_s3_redact(&err, "s3cr3t");
	assert_string_equal(err.msg, "s3: something echoed ****** and ****** again");
	store_s3_redact(&err, "*");
	store_s3_redact(&err, NULL);
	store_s3_redact(&err, "");
	assert_null(strstr(err.msg, "s3cr3t"));
}

static void test_digests(void **state)
{
	char hex[65], b64[25];

	(void)state;
	store_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	store_md5_base64("", 0, b64);
	assert_string_equal(b64, "1B2M2Y8AsgTpgAmY7PhCfg==");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_encode),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_dotenv),
		cmocka_unit_test(test_conf_env_wins),
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_xml_list),
		cmocka_unit_test(test_xml_error_and_multipart),
		cmocka_unit_test(test_xml_escape),
		cmocka_unit_test(test_retryable),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_digests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
