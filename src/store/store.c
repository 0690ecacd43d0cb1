/*
 * store.c - the front of the storage layer: picks the backend from the URL,
 * checks keys and arguments once for both backends, keeps the counters, and
 * serves store_fetch through the read cache. Backends do only the work.
 */
#include "base/compat.h"
#include "store/store_int.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <unistd.h>
#include <sys/stat.h>

/* Defaults of struct store_opts (see store.h). */
#define DEF_THRESHOLD (8 * 1024 * 1024)
#define DEF_PART (8 * 1024 * 1024)
#define MIN_PART (5 * 1024 * 1024) /* S3 refuses smaller parts but the last */
#define DEF_CACHE_MAX ((int64_t)10 << 30)

static int pick(int v, int def)
{
	return v > 0 ? v : def;
}

static int64_t pick64(int64_t v, int64_t def)
{
	return v > 0 ? v : def;
}

static int fill_opts(struct store_opts *o, const struct store_opts *in, struct tn_err *err)
{
	static const struct store_opts zero = STORE_OPTS_INIT;

	*o = in ? *in : zero;
	o->multipart_threshold = pick64(o->multipart_threshold, DEF_THRESHOLD);
	o->part_size = pick64(o->part_size, DEF_PART);
	o->threads = pick(o->threads, 4);
	o->max_attempts = pick(o->max_attempts, 5);
	o->retry_budget_ms = pick(o->retry_budget_ms, 30000);
	o->retry_base_ms = pick(o->retry_base_ms, 100);
	o->connect_timeout_ms = pick(o->connect_timeout_ms, 10000);
	o->read_timeout_s = pick(o->read_timeout_s, 30);
	o->timeout_ms = pick(o->timeout_ms, 300000);
	o->list_page_size = pick(o->list_page_size, 1000);
	o->cache_max_bytes = pick64(o->cache_max_bytes, DEF_CACHE_MAX);
	o->cache_min_age_s = pick(o->cache_min_age_s, 300);
	if (!o->env_file)
		o->env_file = ".env";
	if (o->part_size < MIN_PART)
		return tn_err_set(err, TN_EINVAL,
				  "store: part size %lld is below S3's minimum of 5 MiB (5242880)",
				  (long long)o->part_size);
	if (o->list_page_size > 1000)
		return tn_err_set(err, TN_EINVAL, "store: list page size %d is above S3's limit of 1000",
				  o->list_page_size);
	if (o->threads > 64)
		o->threads = 64;
	return 0;
}

int store_open(struct store **out, const char *url, const struct store_opts *opts,
	       struct tn_err *err)
{
	struct store_opts o;
	struct store *s = NULL;
	int rc;

	*out = NULL;
	rc = fill_opts(&o, opts, err);
	if (rc)
		return rc;
	if (!url || !*url)
		return tn_err_set(err, TN_EINVAL, "store: empty data path (want /dir/ or s3://bucket/prefix/)");
	if (!strncmp(url, "s3://", 5))
		rc = store_s3_open(&s, url, &o, err);
	else if (!strncmp(url, "file://", 7))
		rc = store_local_open(&s, url + 7, err);
	else if (strstr(url, "://"))
		return tn_err_set(err, TN_EINVAL,
				  "store: unsupported data path '%s' (want /dir/ or s3://bucket/prefix/)", url);
	else
		rc = store_local_open(&s, url, err);
	if (rc)
		return rc;
	s->opts = o;
	/* env_file points into the caller's options: store only what we own. */
	s->opts.env_file = NULL;
	s->opts.cache_dir = NULL;
	s->cache = NULL;
	memset(&s->count, 0, sizeof(s->count));
	pthread_mutex_init(&s->mu, NULL);
	if (opts && opts->cache_dir)
		s->opts.cache_dir = tn_strdup(opts->cache_dir);
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_cache_close(s->cache);
	pthread_mutex_destroy(&s->mu);
	tn_free((char *)s->opts.cache_dir);
	tn_free(s->url);
	s->ops->close(s);
}

const char *store_kind(const struct store *s)
{
	return s->ops->kind;
}

const char *store_url(const struct store *s)
{
	return s->url;
}

/*
 * Key rules, shared by both backends so a lake moves between them
 * unchanged. `is_prefix` relaxes the two rules that only make sense for a
 * whole key: a prefix may be empty and may end in '/'.
 */
static int check_path(const char *key, int is_prefix, const char *what, struct tn_err *err)
{
	const char *p, *seg;
	size_t n = strlen(key);

	if (n == 0 && !is_prefix)
		return tn_err_set(err, TN_EINVAL, "store: empty %s", what);
	if (n > STORE_MAX_KEY)
		return tn_err_set(err, TN_EINVAL, "store: %s of %zu bytes is longer than %d bytes", what, n,
				  STORE_MAX_KEY);
	if (key[0] == '/')
		return tn_err_set(err, TN_EINVAL, "store: %s '%s' is absolute; keys are relative to the data path",
				  what, key);
	for (p = key; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return tn_err_set(err, TN_EINVAL, "store: %s '%s' has a control character (0x%02x)",
					  what, key, (unsigned char)*p);
	for (seg = key; ; seg = p + 1) {
		size_t len;

		p = strchr(seg, '/');
		len = p ? (size_t)(p - seg) : strlen(seg);
		/* only a prefix may end in an empty segment ("" or "dir/") */
		if (len == 0 && (p || !is_prefix))
			return tn_err_set(err, TN_EINVAL, "store: %s '%s' has an empty path segment", what, key);
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return tn_err_set(err, TN_EINVAL, "store: %s '%s' has a '%.*s' segment", what, key,
					  (int)len, seg);
		if (!strncmp(seg, STORE_TMP_MARK, strlen(STORE_TMP_MARK)))
			return tn_err_set(err, TN_EINVAL, "store: %s '%s' uses the reserved name %s*", what,
					  key, STORE_TMP_MARK);
		if (!p)
			break;
	}
	return 0;
}

int store_key_check(const char *key, struct tn_err *err)
{
	if (!key)
		return tn_err_set(err, TN_EINVAL, "store: no key given");
	return check_path(key, 0, "key", err);
}

void store_count(struct store *s, uint64_t requests, uint64_t retries, uint64_t up, uint64_t down)
{
	pthread_mutex_lock(&s->mu);
	s->count.requests += requests;
	s->count.retries += retries;
	s->count.bytes_up += up;
	s->count.bytes_down += down;
	pthread_mutex_unlock(&s->mu);
}

void store_counters(struct store *s, struct store_counters *c)
{
	pthread_mutex_lock(&s->mu);
	*c = s->count;
	pthread_mutex_unlock(&s->mu);
}

int store_put_file(struct store *s, const char *key, const char *path, struct tn_err *err)
{
	if (store_key_check(key, err))
		return err->code;
	return s->ops->put_file(s, key, path, err);
}

int store_get_file(struct store *s, const char *key, const char *path, int64_t expect_size,
		   struct tn_err *err)
{
	if (store_key_check(key, err))
		return err->code;
	return s->ops->get_file(s, key, path, expect_size, err);
}

int store_get_range(struct store *s, const char *key, int64_t off, void *buf, size_t len,
		    size_t *got, struct tn_err *err)
{
	*got = 0;
	if (store_key_check(key, err))
		return err->code;
	if (off < 0)
		return tn_err_set(err, TN_EINVAL, "store: negative offset %lld reading %s", (long long)off,
				  key);
	if (len == 0)
		return 0;
	return s->ops->get_range(s, key, off, buf, len, got, err);
}

int store_head(struct store *s, const char *key, struct store_stat *st, struct tn_err *err)
{
	st->exists = 0;
	st->size = 0;
	if (store_key_check(key, err))
		return err->code;
	return s->ops->head(s, key, st, err);
}

int store_list(struct store *s, const char *prefix, store_list_fn fn, void *arg,
	       struct tn_err *err)
{
	if (!prefix)
		prefix = "";
	if (check_path(prefix, 1, "prefix", err))
		return err->code;
	return s->ops->list(s, prefix, fn, arg, err);
}

int store_del(struct store *s, const char *key, struct tn_err *err)
{
	if (store_key_check(key, err))
		return err->code;
	return s->ops->del(s, key, err);
}

int store_del_many(struct store *s, const char *const *keys, size_t n, struct tn_err *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (store_key_check(keys[i], err))
			return err->code;
	if (n == 0)
		return 0;
	return s->ops->del_many(s, keys, n, err);
}

/* ---- store_fetch: local files directly, remote ones through the cache ---- */

static int local_fetch(struct store *s, char *path, const char *key, int64_t expect_size,
		       char **out, struct tn_err *err)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		tn_free(path);
		return tn_err_set(err, TN_ENOTFOUND, "store: %s%s: no such object", s->url, key);
	}
	if (expect_size >= 0 && st.st_size != expect_size) {
		tn_free(path);
		return tn_err_set(err, TN_EIO, "store: %s%s has %lld bytes, expected %lld", s->url, key,
				  (long long)st.st_size, (long long)expect_size);
	}
	*out = path;
	return 0;
}

static char *default_cache_dir(void)
{
	const char *v = getenv("TARN_CACHE_DIR");

	if (v && *v)
		return tn_strdup(v);
	v = getenv("XDG_CACHE_HOME");
	if (v && *v)
		return tn_xprintf("%s/tarn", v);
	v = getenv("HOME");
	if (v && *v)
		return tn_xprintf("%s/.cache/tarn", v);
	return tn_xprintf("/tmp/tarn-cache-%ld", (long)getuid());
}

static int get_cache(struct store *s, struct store_cache **out, struct tn_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (!s->cache) {
		char *dir = s->opts.cache_dir ? tn_strdup(s->opts.cache_dir) : default_cache_dir();
		rc = store_cache_open(&s->cache, dir, s->opts.cache_max_bytes, s->opts.cache_min_age_s,
				      err);
		tn_free(dir);
	}
	*out = s->cache;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static void count_cache(struct store *s, int hit)
{
	pthread_mutex_lock(&s->mu);
	if (hit)
		s->count.cache_hits++;
	else
		s->count.cache_misses++;
	pthread_mutex_unlock(&s->mu);
}

int store_fetch(struct store *s, const char *key, int64_t expect_size, char **out,
		struct tn_err *err)
{
	struct store_cache *c;
	struct stat st;
	char *path;
	int rc;

	*out = NULL;
	if (store_key_check(key, err))
		return err->code;
	path = s->ops->local_path(s, key);
	if (path)
		return local_fetch(s, path, key, expect_size, out, err);
	rc = get_cache(s, &c, err);
	if (rc)
		return rc;
	path = store_cache_path(c, s->url, key);
	if (stat(path, &st) == 0 && (expect_size < 0 || st.st_size == expect_size)) {
		store_cache_touch(path);
		count_cache(s, 1);
		*out = path;
		return 0;
	}
	count_cache(s, 0);
	rc = s->ops->get_file(s, key, path, expect_size, err);
	if (rc) {
		tn_free(path);
		return rc;
	}
	if (stat(path, &st) == 0)
		store_cache_added(c, path, st.st_size);
	*out = path;
	return 0;
}

/* Fetch workers share one cursor into the key list; the first error stops
 * the others from starting new downloads. */
struct fetch_job {
	struct store *s;
	const char *const *keys;
	const int64_t *sizes;
	size_t n, next;
	char **paths;
	pthread_mutex_t mu;
	struct tn_err err;
};

static void *fetch_worker(void *arg)
{
	struct fetch_job *j = arg;

	for (;;) {
		struct tn_err e = TN_ERR_INIT;
		size_t i;
		char *p;

		pthread_mutex_lock(&j->mu);
		i = j->next++;
		if (j->err.code)
			i = j->n;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			return NULL;
		if (store_fetch(j->s, j->keys[i], j->sizes ? j->sizes[i] : -1, &p, &e)) {
			pthread_mutex_lock(&j->mu);
			tn_err_set(&j->err, e.code, "%s", e.msg);
			pthread_mutex_unlock(&j->mu);
			continue;
		}
		j->paths[i] = p;
	}
}

int store_fetch_many(struct store *s, const char *const *keys, const int64_t *expect_sizes,
		     size_t n, char **paths, struct tn_err *err)
{
	struct fetch_job j = { s, keys, expect_sizes, n, 0, paths, PTHREAD_MUTEX_INITIALIZER,
			       TN_ERR_INIT };
	pthread_t tid[64];
	size_t i, nt = (size_t)s->opts.threads;
	size_t started = 0;

	memset(paths, 0, n * sizeof(*paths));
	if (nt > n)
		nt = n;
	for (i = 1; i < nt; i++)
		if (pthread_create(&tid[started], NULL, fetch_worker, &j) == 0)
			started++;
	fetch_worker(&j);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&j.mu);
	if (!j.err.code)
		return 0;
	for (i = 0; i < n; i++) {
		tn_free(paths[i]);
		paths[i] = NULL;
	}
	return tn_err_set(err, j.err.code, "%s", j.err.msg);
}

char *store_tmp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	char id[37];

	tn_uuid7(id);
	if (!slash)
		return tn_xprintf(STORE_TMP_MARK "%s", id);
	return tn_xprintf("%.*s/" STORE_TMP_MARK "%s", (int)(slash - path), path, id);
}
