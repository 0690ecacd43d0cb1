/* remote.c: Kaggle and Hugging Face datasets over their HTTP APIs. */
#include "base/compat.h"
#include "ingest/remote.h"
#include "ingest/jdoc.h"
#include "ingest/unpack.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"

#include <strings.h>

#define KAGGLE_DEFAULT "https://www.kaggle.com"
#define HF_DEFAULT "https://huggingface.co"
#define HF_LISTING_MAX (16u << 20)

/* ---- recognising hub URLs ---- */

/* Path segment `i` (0-based) of "a/b/c", as an owned string, or NULL. */
static char *segment(const char *path, int i)
{
	const char *p = path;
	size_t n;

	while (*p == '/')
		p++;
	for (; i > 0; i--) {
		p += strcspn(p, "/?#");
		if (*p != '/')
			return NULL;
		while (*p == '/')
			p++;
	}
	n = strcspn(p, "/?#");
	return n ? tn_strndup(p, n) : NULL;
}

/* "https://host/path" with host one of `hosts`: the path, else NULL. */
static const char *hub_path(const char *src, const char *const *hosts)
{
	const char *p;
	size_t n;

	if (!strncasecmp(src, "https://", 8))
		p = src + 8;
	else if (!strncasecmp(src, "http://", 7))
		p = src + 7;
	else
		return NULL;
	n = strcspn(p, "/?#");
	for (; *hosts; hosts++)
		if (strlen(*hosts) == n && !strncasecmp(p, *hosts, n))
			return p + n;
	return NULL;
}

static int bad_ref(const char *src, const char *form, struct tn_err *err)
{
	return tn_err_set(err, TN_EINVAL, "%s names no dataset; use %s", src, form);
}

static int parse_kaggle(const char *src, const char *path, struct remote_ref *ref,
				     struct tn_err *err)
{
	char *kw = segment(path, 0), *owner = segment(path, 1), *name = segment(path, 2);
	char *vkw = segment(path, 3), *ver = segment(path, 4);
	int ok = kw && owner && name && !strcmp(kw, "datasets");

	tn_free(kw);
	if (!ok || (vkw && strcmp(vkw, "versions") == 0 && !ver)) {
		tn_free(owner);
		tn_free(name);
		tn_free(vkw);
		tn_free(ver);
		return bad_ref(src, "https://www.kaggle.com/datasets/<owner>/<dataset>", err);
	}
	ref->kind = REMOTE_KAGGLE;
	ref->owner = owner;
	ref->name = name;
	ref->version = vkw && !strcmp(vkw, "versions") ? ver : NULL;
	if (!ref->version)
		tn_free(ver);
	tn_free(vkw);
	return 0;
}

static int parse_hf(const char *src, const char *path, struct remote_ref *ref,
				 struct tn_err *err)
{
	char *kw = segment(path, 0), *a = segment(path, 1), *b = segment(path, 2);
	int ok = kw && a && !strcmp(kw, "datasets");

	tn_free(kw);
	if (!ok) {
		tn_free(a);
		tn_free(b);
		return bad_ref(src, "https://huggingface.co/datasets/<owner>/<dataset>", err);
	}
	/* /datasets/<owner>/<name>/tree/... : anything after the id is ignored. */
	if (b && (!strcmp(b, "tree") || !strcmp(b, "blob") || !strcmp(b, "viewer"))) {
		tn_free(b);
		b = NULL;
	}
	ref->kind = REMOTE_HF;
	ref->owner = b ? a : NULL;
	ref->name = b ? b : a;
	return 0;
}

int remote_parse(const char *source, struct remote_ref *ref, struct tn_err *err)
{
	static const char *const kaggle_hosts[] = { "www.kaggle.com", "kaggle.com", NULL };
	static const char *const hf_hosts[] = { "huggingface.co", "www.huggingface.co", "hf.co", NULL };
	const char *p;

	memset(ref, 0, sizeof(*ref));
	if (!strncmp(source, "kaggle:", 7)) {
		char *path = tn_xprintf("datasets/%s", source + 7);
		int rc = parse_kaggle(source, path, ref, err);
		tn_free(path);
		return rc;
	}
	if (!strncmp(source, "hf:", 3)) {
		char *path = tn_xprintf("datasets/%s", source + 3);
		int rc = parse_hf(source, path, ref, err);
		tn_free(path);
		return rc;
	}
	if ((p = hub_path(source, kaggle_hosts)) != NULL)
		return parse_kaggle(source, p, ref, err);
	if ((p = hub_path(source, hf_hosts)) != NULL)
		return parse_hf(source, p, ref, err);
	return 0;
}

void remote_ref_release(struct remote_ref *ref)
{
	if (!ref)
		return;
	tn_free(ref->owner);
	tn_free(ref->name);
	tn_free(ref->version);
	memset(ref, 0, sizeof(*ref));
}

/* ---- helpers ---- */

static const char *base_url(const char *env, const char *dflt)
{
	const char *v = getenv(env);

	return v && *v ? v : dflt;
}

/* Percent-encode a path: unreserved characters and '/' stay. */
static void add_path_escaped(struct tn_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/", c))
			tn_buf_addc(b, (char)c);
		else
			tn_buf_addf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
}

static void strip_trailing_slash(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
}

/* Append " (text)" to the recorded message, when it fits. */
static void hint(struct tn_err *err, const char *text)
{
	size_t n = strlen(err->msg);

	if (n + strlen(text) + 4 < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, " (%s)", text);
}

/* ---- Kaggle ---- */

static int kaggle_creds(char **user, char **key, struct tn_err *err)
{
	const char *u = getenv("KAGGLE_USERNAME"), *k = getenv("KAGGLE_KEY");
	const char *dir = getenv("KAGGLE_CONFIG_DIR"), *home = getenv("HOME");
	char *path, *text = NULL;
	size_t len = 0;
	int rc;

	*user = *key = NULL;
	if (u && *u && k && *k) {
		*user = tn_strdup(u);
		*key = tn_strdup(k);
		return 0;
	}
	if (dir && *dir)
		path = tn_fs_join(dir, "kaggle.json");
	else if (home && *home)
		path = tn_xprintf("%s/.kaggle/kaggle.json", home);
	else
		return 0;
	rc = tn_fs_read_all(path, &text, &len, err);
	if (rc == TN_ENOTFOUND) {
		/* No credentials: try anonymously; a 401 then says what to set. */
		tn_err_clear(err);
		rc = 0;
	} else if (!rc) {
		rc = jdoc_kaggle_creds(text, len, user, key, err);
		if (rc)
			tn_err_prefix(err, "%s", path);
	}
	tn_free(text);
	tn_free(path);
	return rc;
}

static int kaggle_fetch(const struct remote_ref *ref, const char *dir, const struct fetch_req *how,
			struct tn_err *err)
{
	struct tn_buf url = TN_BUF_INIT(TN_BUF_NOMAX);
	struct fetch_req req = *how;
	char *user = NULL, *key = NULL, *base = tn_strdup(base_url("TARN_KAGGLE_URL", KAGGLE_DEFAULT));
	char *file = tn_xprintf("%s/%s.zip", dir, ref->name);
	int rc = kaggle_creds(&user, &key, err);

	strip_trailing_slash(base);
	tn_buf_addf(&url, "%s/api/v1/datasets/download/", base);
	add_path_escaped(&url, ref->owner);
	tn_buf_addc(&url, '/');
	add_path_escaped(&url, ref->name);
	if (ref->version) {
		tn_buf_adds(&url, "?datasetVersionNumber=");
		add_path_escaped(&url, ref->version);
	}
	if (!rc)
		rc = tn_buf_check(&url, err);
	req.url = url.buf;
	req.user = user;
	req.password = key;
	req.bearer = NULL;
	req.what = ref->name;
	if (!rc)
		rc = fetch_file(&req, file, NULL, err);
	if (rc && strstr(err->msg, ": 403 "))
		hint(err, "Kaggle refused the download: accept the dataset's rules on its page and "
		     "check KAGGLE_USERNAME/KAGGLE_KEY");
	else if (rc && strstr(err->msg, ": 401 "))
		hint(err, "Kaggle wants credentials: set KAGGLE_USERNAME and KAGGLE_KEY, or put "
		     "kaggle.json in ~/.kaggle/");
	else if (rc && strstr(err->msg, ": 404 "))
		hint(err, "no such Kaggle dataset: check the URL");
	if (key)
		memset(key, 0, strlen(key));
	tn_free(user);
	tn_free(key);
	tn_free(base);
	tn_free(file);
	tn_buf_release(&url);
	return rc;
}

/* ---- Hugging Face ---- */

static void hf_id(struct tn_buf *b, const struct remote_ref *ref)
{
	if (ref->owner) {
		add_path_escaped(b, ref->owner);
		tn_buf_addc(b, '/');
	}
	add_path_escaped(b, ref->name);
}

static int hf_list(const struct remote_ref *ref, const char *base, const struct fetch_req *how,
		   char ***names, size_t *n, struct tn_err *err)
{
	struct tn_buf url = TN_BUF_INIT(TN_BUF_NOMAX);
	struct fetch_req req = *how;
	char *text = NULL;
	size_t len = 0;
	int rc;

	tn_buf_addf(&url, "%s/api/datasets/", base);
	hf_id(&url, ref);
	req.url = url.buf;
	req.progress = NULL;
	rc = fetch_text(&req, HF_LISTING_MAX, &text, &len, err);
	if (rc && (strstr(err->msg, ": 401 ") || strstr(err->msg, ": 404 ")))
		hint(err, "no such Hugging Face dataset, or it is private or gated: check the URL, "
		     "or set HF_TOKEN");
	if (!rc)
		rc = jdoc_hf_files(text, len, names, n, err);
	tn_free(text);
	tn_buf_release(&url);
	return rc;
}

/* One listed file into dir/<path>; the path comes from the server, so it
 * is checked like an archive member. */
static int hf_get(const struct remote_ref *ref, const char *base, const char *name, const char *dir,
		  const struct fetch_req *how, struct tn_err *err)
{
	struct tn_buf url = TN_BUF_INIT(TN_BUF_NOMAX);
	struct fetch_req req = *how;
	char *rel = NULL, *path = NULL, *slash;
	int rc = unpack_member_path(name, &rel, err);

	if (rc || !rel)
		goto out;
	path = tn_fs_join(dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	rc = tn_fs_mkdirs(path, err);
	*slash = '/';
	tn_buf_addf(&url, "%s/datasets/", base);
	hf_id(&url, ref);
	tn_buf_adds(&url, "/resolve/main/");
	add_path_escaped(&url, rel);
	req.url = url.buf;
	req.what = rel;
	if (!rc)
		rc = tn_buf_check(&url, err);
	if (!rc)
		rc = fetch_file(&req, path, NULL, err);
out:
	tn_free(rel);
	tn_free(path);
	tn_buf_release(&url);
	return rc;
}

static int hf_fetch(const struct remote_ref *ref, const char *dir, const struct fetch_req *how,
		    struct tn_err *err)
{
	struct fetch_req req = *how;
	char *base = tn_strdup(base_url("TARN_HF_URL", HF_DEFAULT)), **names = NULL;
	const char *token = getenv("HF_TOKEN");
	size_t i, n = 0;
	int rc;

	strip_trailing_slash(base);
	req.user = req.password = NULL;
	req.bearer = token && *token ? token : NULL;
	rc = hf_list(ref, base, &req, &names, &n, err);
	for (i = 0; !rc && i < n; i++) {
		if (!strcmp(names[i], ".gitattributes"))
			continue;
		rc = hf_get(ref, base, names[i], dir, &req, err);
	}
	for (i = 0; i < n; i++)
		tn_free(names[i]);
	tn_free(names);
	tn_free(base);
	return rc;
}

int remote_fetch(const struct remote_ref *ref, const char *dir, const struct fetch_req *how,
		 struct tn_err *err)
{
	switch (ref->kind) {
	case REMOTE_KAGGLE:
		return kaggle_fetch(ref, dir, how, err);
	case REMOTE_HF:
		return hf_fetch(ref, dir, how, err);
	default:
		return tn_err_set(err, TN_EINTERNAL, "remote_fetch: not a hub dataset");
	}
}
