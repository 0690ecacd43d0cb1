/* Unit tests of the store front (key rules, URL dispatch, options), the
 * local backend (same semantics as S3, atomic puts, listing order, no
 * escape from the root) and the read cache (names, LRU eviction). */
#include "base/compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "store/store_int.h"
#include "base/tn_mem.h"
#include "base/tn_fs.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

struct fix {
	char dir[64];
	char *root;   /* dir/root: the store */
	char *src;    /* dir/src: a file to upload */
	struct store *s;
};

static void write_file(const char *path, const char *text)
{
	struct tn_err err = TN_ERR_INIT;
	assert_int_equal(tn_fs_write_atomic(path, text, strlen(text), &err), 0);
}

static int setup(void **state)
{
	struct fix *f = tn_calloc(1, sizeof(*f));
	struct tn_err err = TN_ERR_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/tarn-test-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->root = tn_fs_join(f->dir, "root");
	f->src = tn_fs_join(f->dir, "src");
	write_file(f->src, "0123456789");
	assert_int_equal(store_open(&f->s, f->root, NULL, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	struct tn_err err = TN_ERR_INIT;

	store_close(f->s);
	tn_fs_remove_tree(f->dir, &err);
	tn_free(f->root);
	tn_free(f->src);
	tn_free(f);
	return 0;
}

static void test_key_rules(void **state)
{
	static const char *const good[] = { "a", "stage/t1/x.parquet", "a b+c%d=e/ü ✓", ".hidden",
					    "a..b", "...", "x/.y" };
	static const char *const bad[] = { "", "/abs", "a/../b", "..", "../x", "./a", "a/.", "a//b",
					   "a/", "a\nb", "tab\there", "del\x7f", ".tarn-tmp-x",
					   "d/.tarn-tmp-1" };
	struct tn_err err = TN_ERR_INIT;
	char longkey[STORE_MAX_KEY + 2];
	size_t i;

	(void)state;
	for (i = 0; i < TN_ARRAY_LEN(good); i++) {
		tn_err_clear(&err);
		if (store_key_check(good[i], &err))
			fail_msg("'%s' refused: %s", good[i], err.msg);
	}
	for (i = 0; i < TN_ARRAY_LEN(bad); i++) {
		tn_err_clear(&err);
		if (store_key_check(bad[i], &err) != TN_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(err.msg, "store: "));
	}
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	tn_err_clear(&err);
	assert_int_equal(store_key_check(longkey, &err), TN_EINVAL);
	longkey[STORE_MAX_KEY] = '\0';
	tn_err_clear(&err);
	assert_int_equal(store_key_check(longkey, &err), 0);
	tn_err_clear(&err);
	assert_int_equal(store_key_check(NULL, &err), TN_EINVAL);
}

static void test_open(void **state)
{
	struct fix *f = *state;
	struct store_opts o = STORE_OPTS_INIT;
	struct tn_err err = TN_ERR_INIT;
	struct store *s = NULL;
	char *url;

	assert_string_equal(store_kind(f->s), "local");
	url = tn_xprintf("%s/", f->root);
	assert_string_equal(store_url(f->s), url);
	tn_free(url);
	url = tn_xprintf("file://%s/sub/", f->root);
	assert_int_equal(store_open(&s, url, NULL, &err), 0);
	assert_true(tn_fs_is_dir(url + 7));
	store_close(s);
	tn_free(url);
	assert_int_equal(store_open(&s, "http://example/x", NULL, &err), TN_EINVAL);
	assert_null(s);
	assert_non_null(strstr(err.msg, "unsupported data path"));
	tn_err_clear(&err);
	assert_int_equal(store_open(&s, "", NULL, &err), TN_EINVAL);
	tn_err_clear(&err);
	o.part_size = 1024 * 1024;
	assert_int_equal(store_open(&s, f->root, &o, &err), TN_EINVAL);
	assert_non_null(strstr(err.msg, "5 MiB"));
	store_close(NULL);
}

static void test_put_get_head(void **state)
{
	struct fix *f = *state;
	struct tn_err err = TN_ERR_INIT;
	struct store_stat st;
	char *back = tn_fs_join(f->dir, "back"), *data;
	size_t n;

	assert_int_equal(store_put_file(f->s, "stage/t 1/x+y=z.bin", f->src, &err), 0);
	assert_int_equal(store_head(f->s, "stage/t 1/x+y=z.bin", &st, &err), 0);
	assert_int_equal(st.exists, 1);
	assert_int_equal(st.size, 10);
	assert_int_equal(store_get_file(f->s, "stage/t 1/x+y=z.bin", back, 10, &err), 0);
	assert_int_equal(tn_fs_read_all(back, &data, &n, &err), 0);
	assert_string_equal(data, "0123456789");
	tn_free(data);
	/* A second put replaces the object whole. */
	write_file(f->src, "abc");
	assert_int_equal(store_put_file(f->s, "stage/t 1/x+y=z.bin", f->src, &err), 0);
	assert_int_equal(store_head(f->s, "stage/t 1/x+y=z.bin", &st, &err), 0);
	assert_int_equal(st.size, 3);
	/* A prefix is not an object; a missing key is not an error for head. */
	assert_int_equal(store_head(f->s, "stage", &st, &err), 0);
	assert_int_equal(st.exists, 0);
	assert_int_equal(store_head(f->s, "nothing/here", &st, &err), 0);
	assert_int_equal(st.exists, 0);
	assert_int_equal(err.code, TN_OK);
	tn_free(back);
}

static void test_get_errors(void **state)
{
	struct fix *f = *state;
	struct tn_err err = TN_ERR_INIT;
	char *back = tn_fs_join(f->dir, "back");

	assert_int_equal(store_get_file(f->s, "missing.bin", back, -1, &err), TN_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no such object"));
	assert_false(tn_fs_exists(back));
	assert_int_equal(store_put_file(f->s, "k.bin", f->src, &err), 0);
	tn_err_clear(&err);
	/* The wrong size leaves no file behind. */
	assert_int_equal(store_get_file(f->s, "k.bin", back, 11, &err), TN_EIO);
	assert_non_null(strstr(err.msg, "expected 11"));
	assert_false(tn_fs_exists(back));
	tn_err_clear(&err);
	assert_int_equal(store_put_file(f->s, "k2.bin", "/nonexistent/file", &err), TN_ENOTFOUND);
	tn_err_clear(&err);
	/* A key under an object: the object is a file, so no folder of that name. */
	assert_int_equal(store_put_file(f->s, "k.bin/under", f->src, &err), TN_EIO);
	assert_non_null(strstr(err.msg, "both an object and a prefix"));
	tn_err_clear(&err);
	assert_int_equal(store_put_file(f->s, "../escape", f->src, &err), TN_EINVAL);
	assert_false(tn_fs_exists("/tmp/escape"));
	tn_free(back);
}

static void test_range(void **state)
{
	struct fix *f = *state;
	struct tn_err err = TN_ERR_INIT;
	char buf[16];
	size_t got;

	assert_int_equal(store_put_file(f->s, "r.bin", f->src, &err), 0);
	assert_int_equal(store_get_range(f->s, "r.bin", 2, buf, 4, &got, &err), 0);
	assert_int_equal(got, 4);
	assert_memory_equal(buf, "2345", 4);
	assert_int_equal(store_get_range(f->s, "r.bin", 8, buf, 10, &got, &err), 0);
	assert_int_equal(got, 2);
	assert_memory_equal(buf, "89", 2);
	assert_int_equal(store_get_range(f->s, "r.bin", 10, buf, 4, &got, &err), 0);
	assert_int_equal(got, 0);
	assert_int_equal(store_get_range(f->s, "r.bin", 0, buf, 0, &got, &err), 0);
	assert_int_equal(got, 0);
	assert_int_equal(store_get_range(f->s, "r.bin", -1, buf, 4, &got, &err), TN_EINVAL);
	tn_err_clear(&err);
	assert_int_equal(store_get_range(f->s, "none.bin", 0, buf, 4, &got, &err), TN_ENOTFOUND);
}

struct listed {
	char keys[16][64];
	int64_t sizes[16];
	int n, stop_after;
};

static int collect(void *arg, const char *key, int64_t size)
{
	struct listed *l = arg;

	if (l->n >= 16)
		return -1;
	snprintf(l->keys[l->n], sizeof(l->keys[0]), "%s", key);
	l->sizes[l->n++] = size;
	return l->stop_after && l->n >= l->stop_after ? 42 : 0;
}

static void test_list(void **state)
{
	static const char *const keys[] = { "b/2", "a/z", "a/b/c", "a-x", "ab", "a/a b", "z" };
	struct fix *f = *state;
	struct tn_err err = TN_ERR_INIT;
	struct listed l;
	char *tmp;
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(keys); i++)
		assert_int_equal(store_put_file(f->s, keys[i], f->src, &err), 0);
	/* A temp file of a put in progress is not an object. */
	tmp = tn_xprintf("%s/a/.tarn-tmp-123", f->root);
	write_file(tmp, "partial");
	tn_free(tmp);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list(f->s, "", collect, &l, &err), 0);
	assert_int_equal(l.n, 7);
	/* Byte order of the whole key, as S3 lists: "a-x" < "a/..." < "ab". */
	assert_string_equal(l.keys[0], "a-x");
	assert_string_equal(l.keys[1], "a/a b");
	assert_string_equal(l.keys[2], "a/b/c");
	assert_string_equal(l.keys[3], "a/z");
	assert_string_equal(l.keys[4], "ab");
	assert_string_equal(l.keys[6], "z");
	assert_int_equal(l.sizes[0], 10);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list(f->s, "a/", collect, &l, &err), 0);
	assert_int_equal(l.n, 3);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list(f->s, "a", collect, &l, &err), 0);
	assert_int_equal(l.n, 5);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list(f->s, "a/b", collect, &l, &err), 0);
	assert_int_equal(l.n, 1);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_list(f->s, "nothing/", collect, &l, &err), 0);
	assert_int_equal(l.n, 0);
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	assert_int_equal(store_list(f->s, NULL, collect, &l, &err), 42);
	assert_int_equal(l.n, 2);
	assert_int_equal(store_list(f->s, "../", collect, &l, &err), TN_EINVAL);
}

static void test_delete(void **state)
{
	struct fix *f = *state;
	struct tn_err err = TN_ERR_INIT;
	const char *many[] = { "d/1", "d/2", "d/never" };
	struct store_stat st;
	char *dir;

	assert_int_equal(store_put_file(f->s, "deep/er/x", f->src, &err), 0);
	assert_int_equal(store_put_file(f->s, "deep/y", f->src, &err), 0);
	assert_int_equal(store_del(f->s, "deep/er/x", &err), 0);
	/* Empty folders go with their last object, as prefixes do on S3. */
	dir = tn_xprintf("%s/deep/er", f->root);
	assert_false(tn_fs_exists(dir));
	tn_free(dir);
	dir = tn_xprintf("%s/deep", f->root);
	assert_true(tn_fs_exists(dir));
	assert_int_equal(store_del(f->s, "deep/er/x", &err), 0);
	assert_int_equal(store_del(f->s, "deep/y", &err), 0);
	assert_false(tn_fs_exists(dir));
	assert_true(tn_fs_is_dir(f->root));
	tn_free(dir);
	assert_int_equal(store_put_file(f->s, "d/1", f->src, &err), 0);
	assert_int_equal(store_put_file(f->s, "d/2", f->src, &err), 0);
	assert_int_equal(store_del_many(f->s, many, 3, &err), 0);
	assert_int_equal(store_head(f->s, "d/2", &st, &err), 0);
	assert_int_equal(st.exists, 0);
	many[1] = "bad/../key";
	assert_int_equal(store_del_many(f->s, many, 3, &err), TN_EINVAL);
}

static void test_fetch_local(void **state)
{
	struct fix *f = *state;
	struct tn_err err = TN_ERR_INIT;
	const char *keys[] = { "f/1", "f/2" };
	int64_t sizes[] = { 10, 10 };
	char *paths[2], *p;

	assert_int_equal(store_put_file(f->s, "f/1", f->src, &err), 0);
	assert_int_equal(store_put_file(f->s, "f/2", f->src, &err), 0);
	/* A local store hands out the file itself; nothing is copied. */
	assert_int_equal(store_fetch(f->s, "f/1", 10, &p, &err), 0);
	assert_true(!strncmp(p, f->root, strlen(f->root)));
	tn_free(p);
	assert_int_equal(store_fetch_many(f->s, keys, sizes, 2, paths, &err), 0);
	assert_non_null(strstr(paths[1], "/f/2"));
	tn_free(paths[0]);
	tn_free(paths[1]);
	sizes[1] = 9;
	assert_int_equal(store_fetch_many(f->s, keys, sizes, 2, paths, &err), TN_EIO);
	assert_null(paths[0]);
	assert_null(paths[1]);
	tn_err_clear(&err);
	assert_int_equal(store_fetch(f->s, "f/none", -1, &p, &err), TN_ENOTFOUND);
	assert_null(p);
}

static void make_cached(struct store_cache *c, const char *key, int bytes, time_t used)
{
	char *p = store_cache_path(c, "s3://b/", key), *data = tn_calloc(1, (size_t)bytes + 1);
	struct timespec ts[2] = { { used, 0 }, { used, 0 } };
	struct tn_err err = TN_ERR_INIT;

	memset(data, 'x', (size_t)bytes);
	assert_int_equal(tn_fs_write_atomic(p, data, (size_t)bytes, &err), 0);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	store_cache_added(c, p, bytes);
	tn_free(data);
	tn_free(p);
}

static int cached(struct store_cache *c, const char *key)
{
	char *p = store_cache_path(c, "s3://b/", key);
	int e = tn_fs_exists(p);

	tn_free(p);
	return e;
}

static void test_cache(void **state)
{
	struct fix *f = *state;
	struct tn_err err = TN_ERR_INIT;
	struct store_cache *c;
	char *dir = tn_fs_join(f->dir, "cache"), *p1, *p2, *p3;
	time_t now = time(NULL);

	assert_int_equal(store_cache_open(&c, dir, 1000, 60, &err), 0);
	p1 = store_cache_path(c, "s3://b/", "k");
	p2 = store_cache_path(c, "s3://b/", "k");
	p3 = store_cache_path(c, "s3://other/", "k");
	assert_string_equal(p1, p2);
	assert_string_not_equal(p1, p3);
	assert_true(!strncmp(p1, dir, strlen(dir)));
	make_cached(c, "old", 400, now - 3600);
	make_cached(c, "mid", 400, now - 1800);
	make_cached(c, "new", 400, now - 120);
	/* 1200 > 1000: the least recently used goes, down to 90% of the cap. */
	assert_false(cached(c, "old"));
	assert_true(cached(c, "mid"));
	assert_true(cached(c, "new"));
	/* A touched file counts as just used. */
	{
		char *pm = store_cache_path(c, "s3://b/", "mid");
		store_cache_touch(pm);
		tn_free(pm);
	}
	make_cached(c, "newest", 400, now - 90);
	assert_true(cached(c, "mid"));
	assert_false(cached(c, "new"));
	/* Files used within the last min_age seconds are never evicted. */
	make_cached(c, "fresh1", 600, now);
	make_cached(c, "fresh2", 600, now);
	assert_true(cached(c, "fresh1"));
	assert_true(cached(c, "fresh2"));
	store_cache_close(c);
	store_cache_close(NULL);
	tn_free(p1);
	tn_free(p2);
	tn_free(p3);
	tn_free(dir);
}

static void test_tmp_name(void **state)
{
	char *a = store_tmp_name("/x/y/z.bin"), *b = store_tmp_name("/x/y/z.bin");
	char *c = store_tmp_name("rel");

	(void)state;
	assert_true(!strncmp(a, "/x/y/" STORE_TMP_MARK, 5 + strlen(STORE_TMP_MARK)));
	assert_string_not_equal(a, b);
	assert_true(!strncmp(c, STORE_TMP_MARK, strlen(STORE_TMP_MARK)));
	tn_free(a);
	tn_free(b);
	tn_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_rules),
		cmocka_unit_test(test_tmp_name),
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_get_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
