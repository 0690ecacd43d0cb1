/*
 * store_s3_conf.c - S3 settings and addresses: the data path URL, the
 * S3_* variables (environment first, then the .env file of the working
 * directory, the names home-lab users already use), URI encoding of keys
 * the way SigV4 signs them, and path-style or virtual-host URLs.
 * Pure functions: unit-tested without a server.
 */
#include "base/compat.h"
#include "store/store_s3_int.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"


/* ASCII only: isalnum() would follow the locale for bytes >= 0x80. */
static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* ---- .env ---- */

static const char *skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Parse the value starting at p (after '=') up to the end of its line. */
static char *dotenv_parse_value(const char *p)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	const char *end;

	p = skip_blank(p);
	if (*p == '\'') {
		end = strchr(p + 1, '\'');
		if (!end)
			end = p + 1 + strcspn(p + 1, "\n");
		tn_buf_add(&b, p + 1, (size_t)(end - p - 1));
	} else if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1]) {
				p++;
				tn_buf_addc(&b, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
			} else {
				tn_buf_addc(&b, *p);
			}
		}
	} else {
		end = p + strcspn(p, "\r\n");
		/* An unquoted value ends at " #" (a trailing comment). */
		for (const char *q = p; q < end; q++)
			if (*q == '#' && q > p && (q[-1] == ' ' || q[-1] == '\t')) {
				end = q;
				break;
			}
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		tn_buf_add(&b, p, (size_t)(end - p));
	}
	return tn_buf_detach(&b, NULL);
}

char *store_dotenv_value(const char *text, const char *name)
{
	size_t nlen = strlen(name);
	const char *line;
	char *found = NULL;

	if (!text)
		return NULL;
	for (line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *p = skip_blank(line);

		if (!strncmp(p, "export", 6) && (p[6] == ' ' || p[6] == '\t'))
			p = skip_blank(p + 6);
		if (strncmp(p, name, nlen))
			continue;
		p = skip_blank(p + nlen);
		if (*p != '=')
			continue;
		tn_free(found);
		found = dotenv_parse_value(p + 1);
	}
	return found;
}

/* ---- settings ---- */

struct src {
	const char *dotenv;
	s3_getenv_fn get;
	void *arg;
};

/* The setting `name`: environment wins over .env; empty counts as unset. */
static char *setting(const struct src *s, const char *name)
{
	const char *v = s->get ? s->get(s->arg, name) : NULL;
	char *d;

	if (v && *v)
		return tn_strdup(v);
	d = store_dotenv_value(s->dotenv, name);
	if (d && !*d) {
		tn_free(d);
		d = NULL;
	}
	return d;
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(yes); i++) {
		if (tn_strieq(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (tn_strieq(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int valid_bucket(const char *b)
{
	const char *p;

	if (strlen(b) < 3 || strlen(b) > 63)
		return 0;
	for (p = b; *p; p++)
		if (!unreserved((unsigned char)*p) || *p == '~')
			return 0;
	return 1;
}

/* "s3://bucket/a/b" -> bucket "bucket", prefix "a/b/". */
static int parse_url(struct s3_conf *c, const char *url, struct tn_err *err)
{
	const char *p = url + 5, *slash = strchr(p, '/');
	const char *rest;
	size_t n;

	c->bucket = slash ? tn_strndup(p, (size_t)(slash - p)) : tn_strdup(p);
	rest = slash ? slash + 1 : "";
	n = strlen(rest);
	while (n && rest[n - 1] == '/')
		n--;
	c->prefix = n ? tn_xprintf("%.*s/", (int)n, rest) : tn_strdup("");
	if (n) {
		char *k = tn_strndup(rest, n);
		int rc = store_key_check(k, err);

		tn_free(k);
		if (rc) {
			tn_err_prefix(err, "s3: data path %s", url);
			return rc;
		}
	}
	return 0;
}

/* S3_ENDPOINT: "host[:port]" or "http(s)://host[:port][/]". */
static int parse_endpoint(struct s3_conf *c, const char *ep, int ssl_set, struct tn_err *err)
{
	int scheme_ssl = -1;
	size_t n;

	if (!strncmp(ep, "https://", 8)) {
		scheme_ssl = 1;
		ep += 8;
	} else if (!strncmp(ep, "http://", 7)) {
		scheme_ssl = 0;
		ep += 7;
	} else if (strstr(ep, "://")) {
		return tn_err_set(err, TN_EINVAL, "s3: S3_ENDPOINT '%s' has an unknown scheme (use "
				  "host:port, http:// or https://)", ep);
	}
	n = strcspn(ep, "/");
	if (n == 0 || ep[n + (ep[n] == '/')] != '\0')
		return tn_err_set(err, TN_EINVAL, "s3: S3_ENDPOINT '%s' must be host[:port] without a path",
				  ep);
	if (scheme_ssl >= 0) {
		if (ssl_set && scheme_ssl != c->use_ssl)
			return tn_err_set(err, TN_EINVAL, "s3: S3_ENDPOINT says %s but S3_USE_SSL is %s; make "
					  "them agree", scheme_ssl ? "https" : "http",
					  c->use_ssl ? "true" : "false");
		c->use_ssl = scheme_ssl;
	}
	c->host = tn_strndup(ep, n);
	return 0;
}

static int load_style(struct s3_conf *c, const struct src *s, int custom, struct tn_err *err)
{
	char *v = setting(s, "S3_URL_STYLE");
	int rc = 0;

	c->vhost = !custom;
	if (v && (tn_strieq(v, "vhost") || tn_strieq(v, "virtual")))
		c->vhost = 1;
	else if (v && tn_strieq(v, "path"))
		c->vhost = 0;
	else if (v)
		rc = tn_err_set(err, TN_EINVAL, "s3: S3_URL_STYLE is '%s'; use path or vhost", v);
	tn_free(v);
	return rc;
}

static int load_region(struct s3_conf *c, const struct src *s, struct tn_err *err)
{
	const char *p;

	c->region = setting(s, "S3_REGION");
	if (!c->region)
		c->region = tn_strdup("us-east-1");
	for (p = c->region; *p; p++)
		if (!unreserved((unsigned char)*p) || *p == '.' || *p == '~')
			return tn_err_set(err, TN_EINVAL, "s3: S3_REGION '%s' is not a region name "
					  "(like us-east-1)", c->region);
	return 0;
}

static int load_endpoint(struct s3_conf *c, const struct src *s, struct tn_err *err)
{
	char *ssl = setting(s, "S3_USE_SSL");
	char *ep = setting(s, "S3_ENDPOINT");
	int rc = 0;

	c->use_ssl = 1;
	if (ssl && parse_bool(ssl, &c->use_ssl))
		rc = tn_err_set(err, TN_EINVAL, "s3: S3_USE_SSL is '%s'; use true or false", ssl);
	if (!rc && ep)
		rc = parse_endpoint(c, ep, ssl != NULL, err);
	else if (!rc)
		c->host = tn_xprintf("s3.%s.amazonaws.com", c->region);
	if (!rc)
		rc = load_style(c, s, ep != NULL, err);
	tn_free(ssl);
	tn_free(ep);
	return rc;
}

static int load_keys(struct s3_conf *c, const struct src *s, struct tn_err *err)
{
	c->access_key = setting(s, "S3_ACCESS_KEY_ID");
	c->secret_key = setting(s, "S3_SECRET_ACCESS_KEY");
	c->session_token = setting(s, "S3_SESSION_TOKEN");
	if (!c->access_key && !c->secret_key)
		return tn_err_set(err, TN_EINVAL, "s3: no credentials: set S3_ACCESS_KEY_ID and "
				  "S3_SECRET_ACCESS_KEY in the environment or in ./.env");
	if (!c->access_key || !c->secret_key)
		return tn_err_set(err, TN_EINVAL, "s3: %s is set but %s is not; set both",
				  c->access_key ? "S3_ACCESS_KEY_ID" : "S3_SECRET_ACCESS_KEY",
				  c->access_key ? "S3_SECRET_ACCESS_KEY" : "S3_ACCESS_KEY_ID");
	/* A colon would end the user name in curl's "user:password". */
	if (strchr(c->access_key, ':'))
		return tn_err_set(err, TN_EINVAL, "s3: S3_ACCESS_KEY_ID contains ':'; check its value");
	return 0;
}

int store_s3_conf_load(struct s3_conf *c, const char *url, const char *dotenv,
		       s3_getenv_fn get, void *arg, struct tn_err *err)
{
	struct src s = { dotenv, get, arg };
	int rc;

	memset(c, 0, sizeof(*c));
	rc = parse_url(c, url, err);
	if (!rc && !*c->bucket) {
		tn_free(c->bucket);
		c->bucket = setting(&s, "S3_BUCKET");
		if (!c->bucket)
			return tn_err_set(err, TN_EINVAL, "s3: data path %s names no bucket and S3_BUCKET "
					  "is not set", url);
	}
	if (!rc && !valid_bucket(c->bucket))
		rc = tn_err_set(err, TN_EINVAL, "s3: '%s' is not a valid bucket name (3-63 letters, "
				"digits, '-', '.')", c->bucket);
	if (!rc)
		rc = load_region(c, &s, err);
	if (!rc)
		rc = load_endpoint(c, &s, err);
	if (!rc)
		rc = load_keys(c, &s, err);
	return rc;
}

static void free_secret(char *s)
{
	if (s) {
		/* Do not leave secrets in freed memory. */
		volatile char *p = s;
		while (*p)
			*p++ = '\0';
	}
	tn_free(s);
}

void store_s3_conf_release(struct s3_conf *c)
{
	tn_free(c->access_key);
	free_secret(c->secret_key);
	free_secret(c->session_token);
	tn_free(c->region);
	tn_free(c->host);
	tn_free(c->bucket);
	tn_free(c->prefix);
	memset(c, 0, sizeof(*c));
}

/* ---- addresses ---- */

void store_s3_uri_encode(struct tn_buf *b, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p) || (keep_slash && *p == '/')) {
			tn_buf_addc(b, (char)*p);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			tn_buf_add(b, e, 3);
		}
	}
}

char *store_s3_url(const struct s3_conf *c, const char *key, const char *query)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);

	tn_buf_adds(&b, c->use_ssl ? "https://" : "http://");
	if (c->vhost)
		tn_buf_addf(&b, "%s.%s/", c->bucket, c->host);
	else
		tn_buf_addf(&b, "%s/%s%s", c->host, c->bucket, key && *key ? "/" : "");
	if (key)
		store_s3_uri_encode(&b, key, 1);
	if (query && *query)
		tn_buf_addf(&b, "?%s", query);
	return tn_buf_detach(&b, NULL);
}
