/*
 * Unit tests of the share layer's pure parts: the YAML quoting policy,
 * outdir's keys (no escape from the root, no symlink following), the
 * checksums against known answers, the DuckDB init script (S3 secret from
 * the environment only) and backup_parse_time.
 */
#include "base/compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "lake/backup.h"
#include "share/digest.h"
#include "share/initsql.h"
#include "share/outdir.h"
#include "share/yamlw.h"

static void test_plain_ok(void **state)
{
	static const char *const plain[] = { "orders", "x", "file_size", "a.b-c_d", "y/2024T1Z-abcde/",
					     "1e3/20221215T180351Z-c3943/", "20221215T180351Z", "c3943ca5a9aab2df" };
	static const char *const quoted[] = { "y", "Y", "n", "no", "NO", "yes", "on", "Off", "true", "False",
					      "null", "~", "", "1e3", "123", "0x1f", "1_000", "12:30", ".inf",
					      "-", "-1", "+1", "2024-01-01", "0123456789abcdef", "a b", "a: b",
					      "#x", "it's", "x#y", "ü", "20221215T180351" };
	size_t i;

	(void)state;
	for (i = 0; i < TN_ARRAY_LEN(plain); i++)
		if (!yamlw_plain_ok(plain[i]))
			fail_msg("'%s' should be plain", plain[i]);
	for (i = 0; i < TN_ARRAY_LEN(quoted); i++)
		if (yamlw_plain_ok(quoted[i]))
			fail_msg("'%s' should be quoted", quoted[i]);
}

static void test_yaml_doc(void **state)
{
	struct tn_err err = TN_ERR_INIT;
	struct yamlw *w = yamlw_new();
	char *text = NULL;
	size_t len = 0;

	(void)state;
	yamlw_map_begin(w);
	yamlw_str(w, "y");
	yamlw_seq_begin(w);
	yamlw_str(w, "y/20221215T180357Z-9ae7a/");
	yamlw_seq_end(w);
	yamlw_kv_str(w, "description", NULL);
	yamlw_kv_str(w, "title", "y: it's \"here\"");
	yamlw_kv_int(w, "file_size", 23);
	yamlw_kv_str(w, "ctl", "a\tb\001");
	yamlw_map_end(w);
	assert_int_equal(yamlw_finish(w, &text, &len, &err), 0);
	assert_string_equal(text, "'y':\n- y/20221215T180357Z-9ae7a/\ndescription: ~\n"
			    "title: 'y: it''s \"here\"'\nfile_size: 23\nctl: \"a\\tb\\x01\"\n");
	assert_int_equal(len, strlen(text));
	tn_free(text);
	yamlw_free(w);
}

static void test_name_ok(void **state)
{
	(void)state;
	assert_true(outdir_name_ok("sales"));
	assert_true(outdir_name_ok("a.b-c_1"));
	assert_false(outdir_name_ok(""));
	assert_false(outdir_name_ok("."));
	assert_false(outdir_name_ok(".."));
	assert_false(outdir_name_ok(".hidden"));
	assert_false(outdir_name_ok("a/b"));
	assert_false(outdir_name_ok("a b"));
	assert_false(outdir_name_ok("a\\b"));
}

/* A fresh temporary folder (owned). */
static char *temp_dir(void)
{
	char tmpl[] = "/tmp/tarn-unit-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return tn_strdup(d);
}

/* outdir_exists as a truth value; an error fails the test. */
static int exists(struct outdir *od, const char *key)
{
	struct tn_err err = TN_ERR_INIT;
	int yes = 0;

	assert_int_equal(outdir_exists(od, key, &yes, &err), 0);
	return yes;
}

static void test_outdir_keys(void **state)
{
	static const char *const bad[] = { "../x", "a/../b", "/abs", "a//b", "a/", "./a", "a/.", ".." };
	struct tn_err err = TN_ERR_INIT;
	struct outdir *od = NULL;
	char *root = temp_dir(), *p;
	size_t i;

	(void)state;
	assert_int_equal(outdir_open(&od, root, 0, &err), 0);
	for (i = 0; i < TN_ARRAY_LEN(bad); i++) {
		p = outdir_path(od, bad[i]);
		if (p)
			fail_msg("key '%s' gave the path %s", bad[i], p);
		assert_int_equal(outdir_put(od, bad[i], "x", 1, &err), TN_EINVAL);
		tn_err_clear(&err);
	}
	p = outdir_path(od, "a/b.c");
	assert_non_null(p);
	assert_int_equal(strncmp(p, root, strlen(root)), 0);
	tn_free(p);
	outdir_close(od);
	tn_fs_remove_tree(root, &err);
	tn_free(root);
}

static void test_outdir_files(void **state)
{
	struct tn_err err = TN_ERR_INIT;
	struct outdir *od = NULL;
	char *root = temp_dir(), *stage = NULL, *data = NULL, **names = NULL, *outside, *link;
	size_t n = 0, len = 0;

	(void)state;
	assert_int_equal(outdir_open(&od, root, 0, &err), 0);
	assert_int_equal(outdir_put(od, "d/x/manifest.json", "{}", 2, &err), 0);
	assert_int_equal(outdir_get(od, "d/x/manifest.json", &data, &len, &err), 0);
	assert_string_equal(data, "{}");
	tn_free(data);
	assert_int_equal(outdir_get(od, "d/nope", &data, &len, &err), TN_ENOTFOUND);
	tn_err_clear(&err);
	/* publish: a stage appears whole; a second publish to the same key conflicts */
	assert_int_equal(outdir_stage(od, &stage, &err), 0);
	data = tn_xprintf("%s/f.parquet", stage);
	assert_int_equal(outdir_put(od, data, "a", 1, &err), 0);
	tn_free(data);
	assert_int_equal(outdir_publish(od, stage, "d/x/v1", &err), 0);
	assert_true(exists(od, "d/x/v1/f.parquet"));
	assert_false(exists(od, stage));
	tn_free(stage);
	assert_int_equal(outdir_stage(od, &stage, &err), 0);
	assert_int_equal(outdir_publish(od, stage, "d/x/v1", &err), TN_ECONFLICT);
	tn_err_clear(&err);
	assert_int_equal(outdir_remove(od, stage, &err), 0);
	tn_free(stage);
	/* listings skip hidden names and, with dirs_only, files */
	assert_int_equal(outdir_list(od, "d/x", 1, &names, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "v1");
	outdir_names_free(names, n);
	assert_int_equal(outdir_list(od, "", 0, &names, &n, &err), 0);
	assert_int_equal(n, 1);   /* "d"; ".staging" is hidden */
	outdir_names_free(names, n);
	/* remove never follows a symbolic link out of the root */
	outside = temp_dir();
	data = tn_fs_join(outside, "keep");
	assert_int_equal(tn_fs_write_atomic(data, "k", 1, &err), 0);
	link = tn_fs_join(root, "d/x/v1/link");
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(outdir_remove(od, "d", &err), 0);
	assert_false(exists(od, "d"));
	assert_true(tn_fs_exists(data));
	tn_free(link);
	tn_free(data);
	tn_fs_remove_tree(outside, &err);
	tn_free(outside);
	outdir_close(od);
	tn_fs_remove_tree(root, &err);
	tn_free(root);
}

static void test_digest(void **state)
{
	struct tn_err err = TN_ERR_INIT;
	struct digest d;
	char *root = temp_dir(), *f = tn_fs_join(root, "x.json");

	(void)state;
	/* The pins-r test fixture x.json: its pin_hash is c3943ca5a9aab2df. */
	assert_int_equal(tn_fs_write_atomic(f, "[1,2,3,4,5,6,7,8,9,10]\n", 23, &err), 0);
	assert_int_equal(digest_file(f, DIGEST_SHA256 | DIGEST_XXH64, &d, &err), 0);
	assert_int_equal(d.size, 23);
	assert_string_equal(d.xxh64, "c3943ca5a9aab2df");
	assert_int_equal(tn_fs_write_atomic(f, "abc", 3, &err), 0);
	assert_int_equal(digest_file(f, DIGEST_SHA256 | DIGEST_XXH64, &d, &err), 0);
	assert_string_equal(d.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(tn_fs_write_atomic(f, "", 0, &err), 0);
	assert_int_equal(digest_file(f, DIGEST_SHA256 | DIGEST_XXH64, &d, &err), 0);
	assert_string_equal(d.xxh64, "ef46db3751d8e999");
	assert_int_equal(digest_file("/nonexistent/x", DIGEST_SHA256, &d, &err), TN_ENOTFOUND);
	tn_free(f);
	tn_fs_remove_tree(root, &err);
	tn_free(root);
}

static void test_initsql_local(void **state)
{
	struct tn_err err = TN_ERR_INIT;
	char *text = NULL;

	(void)state;
	assert_int_equal(initsql_render("/l/it's/catalog.sqlite", "/l/it's/data/", &text, &err), 0);
	assert_non_null(strstr(text, "INSTALL ducklake;\n"));
	assert_non_null(strstr(text, "LOAD ducklake;\n"));
	assert_non_null(strstr(text, "ATTACH 'ducklake:sqlite:/l/it''s/catalog.sqlite' AS lake "
				     "(DATA_PATH '/l/it''s/data/');\nUSE lake;\n"));
	assert_null(strstr(text, "SECRET"));
	tn_free(text);
}

static void test_initsql_s3(void **state)
{
	struct tn_err err = TN_ERR_INIT;
	char *text = NULL;

	(void)state;
	setenv("S3_SECRET_ACCESS_KEY", "sekrit-value-42", 1);
	setenv("S3_ACCESS_KEY_ID", "AKIAEXAMPLEKEY", 1);
	assert_int_equal(initsql_render("/l/catalog.sqlite", "s3://bucket/lab/", &text, &err), 0);
	assert_non_null(strstr(text, "LOAD httpfs;\n"));
	assert_non_null(strstr(text, "CREATE OR REPLACE SECRET tarn_lake_s3 (\n\tTYPE s3,\n\tPROVIDER config,\n"));
	assert_non_null(strstr(text, "\tKEY_ID getenv('S3_ACCESS_KEY_ID'),\n"));
	assert_non_null(strstr(text, "\tSECRET getenv('S3_SECRET_ACCESS_KEY'),\n"));
	assert_non_null(strstr(text, "\tSCOPE 's3://bucket/'\n);\n"));
	assert_non_null(strstr(text, "(DATA_PATH 's3://bucket/lab/');"));
	/* The secret is created before the ATTACH that needs it. */
	assert_true(strstr(text, "SECRET tarn_lake_s3") < strstr(text, "ATTACH"));
	assert_null(strstr(text, "sekrit"));
	assert_null(strstr(text, "AKIAEXAMPLE"));
	unsetenv("S3_SECRET_ACCESS_KEY");
	unsetenv("S3_ACCESS_KEY_ID");
	tn_free(text);
}

static void test_strip_password(void **state)
{
	static const char *const cases[][2] = {
		{ "postgres://u:pw@h:5432/db", "postgres://u@h:5432/db" },
		{ "postgresql://u@h/db?sslmode=require&password=pw", "postgresql://u@h/db?sslmode=require" },
		{ "postgres://u:p%40w@h/db?password=x&application_name=t", "postgres://u@h/db?application_name=t" },
		{ "postgres://h/db", "postgres://h/db" },
		{ "host=h password=pw dbname=db", "host=h dbname=db" },
		{ "dbname=db", "dbname=db" },
	};
	struct tn_err err = TN_ERR_INIT;
	char *got, *text = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < TN_ARRAY_LEN(cases); i++) {
		got = initsql_strip_password(cases[i][0]);
		assert_string_equal(got, cases[i][1]);
		tn_free(got);
	}
	assert_int_equal(initsql_render("postgres://u:secret@h:5432/lake", "/d/", &text, &err), 0);
	assert_non_null(strstr(text, "INSTALL postgres;\n"));
	assert_non_null(strstr(text, "ATTACH 'ducklake:postgres:postgres://u@h:5432/lake' AS lake"));
	assert_null(strstr(text, "secret"));
	tn_free(text);
	assert_int_equal(initsql_render("postgres:host=h password=secret dbname=l", "/d/", &text, &err), 0);
	assert_non_null(strstr(text, "ATTACH 'ducklake:postgres:host=h dbname=l' AS lake"));
	assert_null(strstr(text, "secret"));
	tn_free(text);
}

static void test_parse_time(void **state)
{
	struct tn_err err = TN_ERR_INIT;
	int64_t us = 0;

	(void)state;
	assert_int_equal(backup_parse_time("2024-05-01", &us, &err), 0);
	assert_true(us == 1714521600LL * 1000000);
	assert_int_equal(backup_parse_time("2024-05-01 12:30", &us, &err), 0);
	assert_true(us == (1714521600LL + 12 * 3600 + 30 * 60) * 1000000);
	assert_int_equal(backup_parse_time("2024-05-01T12:30:45.1Z", &us, &err), 0);
	assert_true(us == (1714521600LL + 12 * 3600 + 30 * 60 + 45) * 1000000 + 100000);
	assert_int_equal(backup_parse_time("2024_05_01/12_30_45_123", &us, &err), 0);
	assert_true(us == (1714521600LL + 12 * 3600 + 30 * 60 + 45) * 1000000 + 123000);
	assert_int_equal(backup_parse_time("yesterday", &us, &err), TN_EINVAL);
	tn_err_clear(&err);
	assert_int_equal(backup_parse_time("2024-13-01", &us, &err), TN_EINVAL);
	tn_err_clear(&err);
	assert_int_equal(backup_parse_time("2024-05-01+02:00", &us, &err), TN_EINVAL);
	tn_err_clear(&err);
	assert_int_equal(backup_parse_time("2024-05-01 1:2:3.4.5", &us, &err), TN_EINVAL);
	tn_err_clear(&err);
	assert_int_equal(backup_parse_time("99999999999999999999-01-01", &us, &err), TN_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_ok),
		cmocka_unit_test(test_yaml_doc),
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_outdir_keys),
		cmocka_unit_test(test_outdir_files),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_initsql_local),
		cmocka_unit_test(test_initsql_s3),
		cmocka_unit_test(test_strip_password),
		cmocka_unit_test(test_parse_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
