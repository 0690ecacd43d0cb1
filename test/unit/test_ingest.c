/* Unit tests of the pure parts of src/ingest: dataset names, version ids,
 * the manifest codec and its checks, archive member paths, hub URLs and
 * URL redaction. */
#include "base/compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "ingest/fetch.h"
#include "ingest/ingest.h"
#include "ingest/manifest.h"
#include "ingest/remote.h"
#include "ingest/unpack.h"
#include "base/tn_mem.h"

static void slug_is(const char *in, const char *want)
{
	char *got = ingest_slug(in);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	tn_free(got);
}

static void test_slug(void **state)
{
	(void)state;
	slug_is("Your Dataset Name", "your_dataset_name");
	slug_is("titanic-Dataset.v2", "titanic_dataset_v2");
	slug_is("  --Hello,   World!!  ", "hello_world");
	slug_is("myDataSet", "my_data_set");
	slug_is("HTTPServerLogs", "http_server_logs");
	slug_is("covid19Cases", "covid19_cases");
	slug_is("already_snake_case", "already_snake_case");
	slug_is("../../etc/passwd", "etc_passwd");
	slug_is("Café Crème", "caf_cr_me");
	slug_is("!!!", NULL);
	slug_is("", NULL);
}

static void test_slug_length(void **state)
{
	char in[400], *got;

	(void)state;
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[INGEST_MAX_NAME] = ' ';   /* a break right at the limit: no trailing '_' */
	got = ingest_slug(in);
	assert_int_equal(strlen(got), INGEST_MAX_NAME);
	assert_true(got[INGEST_MAX_NAME - 1] != '_');
	tn_free(got);
}

static void test_version_ids(void **state)
{
	char id[MANIFEST_ID_LEN], created[MANIFEST_CREATED_LEN];

	(void)state;
	manifest_id(1714564800123LL, id);
	assert_string_equal(id, "2024_05_01/12_00_00_123");
	manifest_created(1714564800123LL, created);
	assert_string_equal(created, "2024-05-01T12:00:00.123Z");
	manifest_id(0, id);
	assert_string_equal(id, "1970_01_01/00_00_00_000");
	assert_true(manifest_id_valid("2024_05_01/12_00_00_123"));
	assert_false(manifest_id_valid("2024_05_01/12_00_00_12"));
	assert_false(manifest_id_valid("2024_05_01/12_00_00_1234"));
	assert_false(manifest_id_valid("../05_01/12_00_00_123"));
	assert_false(manifest_id_valid("2024-05-01/12_00_00_123"));
}

static const char sha_a[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char sha_b[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void test_manifest_round_trip(void **state)
{
	struct manifest m, back;
	struct tn_err err = TN_ERR_INIT;
	struct manifest_version *v;
	char *text, *again;

	(void)state;
	manifest_init(&m, "sales");
	v = manifest_add(&m, "2024_05_02/00_00_00_000", "2024-05-02T00:00:00.000Z", "https://x/y.csv");
	manifest_add_file(v, "y.csv", 42, sha_b);
	v = manifest_add(&m, "2024_05_01/00_00_00_000", "2024-05-01T00:00:00.000Z", "manual");
	manifest_add_file(v, "dir/with space \"quoted\".csv", 0, sha_a);
	/* Sorted by id whatever the order of adding; latest is the newest. */
	assert_string_equal(m.v[0].id, "2024_05_01/00_00_00_000");
	assert_string_equal(m.latest, "2024_05_02/00_00_00_000");
	assert_null(manifest_add(&m, "2024_05_01/00_00_00_000", "x", "y"));

	text = manifest_format(&m);
	manifest_init(&back, NULL);
	assert_int_equal(manifest_parse(text, strlen(text), &back, &err), 0);
	assert_string_equal(back.name, "sales");
	assert_int_equal(back.n, 2);
	assert_string_equal(back.latest, m.latest);
	assert_string_equal(back.v[0].files[0].path, "dir/with space \"quoted\".csv");
	assert_int_equal(back.v[1].files[0].size, 42);
	assert_string_equal(back.v[1].files[0].sha256, sha_b);
	assert_string_equal(back.v[1].source, "https://x/y.csv");
	again = manifest_format(&back);
	assert_string_equal(text, again);

	assert_non_null(manifest_find(&back, "latest"));
	assert_string_equal(manifest_find(&back, "latest")->id, "2024_05_02/00_00_00_000");
	assert_int_equal(manifest_remove(&back, "2024_05_02/00_00_00_000"), 1);
	assert_string_equal(back.latest, "2024_05_01/00_00_00_000");
	assert_int_equal(manifest_remove(&back, "2024_05_02/00_00_00_000"), 0);
	assert_int_equal(manifest_remove(&back, "2024_05_01/00_00_00_000"), 1);
	assert_null(back.latest);
	assert_null(manifest_find(&back, "latest"));

	tn_free(text);
	tn_free(again);
	manifest_release(&m);
	manifest_release(&back);
}

static void bad_manifest(const char *text, const char *want)
{
	struct manifest m;
	struct tn_err err = TN_ERR_INIT;

	manifest_init(&m, NULL);
	assert_int_not_equal(manifest_parse(text, strlen(text), &m, &err), 0);
	if (!strstr(err.msg, want))
		fail_msg("message '%s' lacks '%s'", err.msg, want);
	manifest_release(&m);
}

static void test_manifest_checks(void **state)
{
	(void)state;
	bad_manifest("{", "not valid JSON");
	bad_manifest("{\"name\": \"x\"}", "needs \"name\", \"versions\"");
	bad_manifest("{\"name\": \"Bad Name\", \"versions\": [], \"latest\": null}", "not snake case");
	bad_manifest("{\"name\": \"x\", \"versions\": [], \"latest\": \"2024_05_01/00_00_00_000\"}",
		     "which is not listed");
	bad_manifest("{\"name\": \"x\", \"latest\": null, \"versions\": [{\"version\": \"../../x\", "
		     "\"created\": \"c\", \"source\": \"s\", \"files\": []}]}", "is not of the form");
	bad_manifest("{\"name\": \"x\", \"latest\": null, \"versions\": [{\"version\": "
		     "\"2024_05_01/00_00_00_000\", \"created\": \"c\", \"source\": \"s\", \"files\": "
		     "[{\"path\": \"../etc/passwd\", \"size\": 1, \"sha256\": \"e3b0c44298fc1c149afbf4c8996fb"
		     "92427ae41e4649b934ca495991b7852b855\"}]}]}", "not a plain relative path");
	bad_manifest("{\"name\": \"x\", \"latest\": null, \"versions\": [{\"version\": "
		     "\"2024_05_01/00_00_00_000\", \"created\": \"c\", \"source\": \"s\", \"files\": "
		     "[{\"path\": \"a.csv\", \"size\": 1, \"sha256\": \"nothex\"}]}]}", "bad size or sha256");
	bad_manifest("{\"format\": 99, \"name\": \"x\", \"versions\": [], \"latest\": null}", "upgrade tarn");
	bad_manifest("{\"name\": \"x\", \"name\": \"y\", \"versions\": [], \"latest\": null}", "not valid JSON");
}

static void member_is(const char *in, const char *want)
{
	struct tn_err err = TN_ERR_INIT;
	char *got = NULL;

	assert_int_equal(unpack_member_path(in, &got, &err), 0);
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	tn_free(got);
}

static void member_bad(const char *in)
{
	struct tn_err err = TN_ERR_INIT;
	char *got = NULL;

	assert_int_not_equal(unpack_member_path(in, &got, &err), 0);
	assert_null(got);
	assert_non_null(strstr(err.msg, "nothing was stored"));
}

static void test_member_paths(void **state)
{
	(void)state;
	member_is("a/b/c.csv", "a/b/c.csv");
	member_is("./a//b/./c.csv", "a/b/c.csv");
	member_is("win\\style\\path.csv", "win/style/path.csv");
	member_is("folder/", NULL);
	member_is("..data/x..y.csv", "..data/x..y.csv");
	member_bad("../evil.csv");
	member_bad("a/../../evil.csv");
	member_bad("a\\..\\..\\evil.csv");
	member_bad("/etc/passwd");
	member_bad("\\\\server\\share");
	member_bad("C:/Windows/x.csv");
	member_bad("bad\nname.csv");
	member_bad("");
}

static void parse_ok(const char *src, enum remote_kind kind, const char *owner, const char *name,
		     const char *version)
{
	struct remote_ref r;
	struct tn_err err = TN_ERR_INIT;

	assert_int_equal(remote_parse(src, &r, &err), 0);
	assert_int_equal(r.kind, kind);
	if (owner)
		assert_string_equal(r.owner, owner);
	else
		assert_null(r.owner);
	if (name)
		assert_string_equal(r.name, name);
	if (version)
		assert_string_equal(r.version, version);
	else
		assert_null(r.version);
	remote_ref_release(&r);
}

static void test_remote_parse(void **state)
{
	struct remote_ref r;
	struct tn_err err = TN_ERR_INIT;

	(void)state;
	parse_ok("https://www.kaggle.com/datasets/heptapod/titanic", REMOTE_KAGGLE, "heptapod", "titanic", NULL);
	parse_ok("https://kaggle.com/datasets/a/b/versions/3?x=1", REMOTE_KAGGLE, "a", "b", "3");
	parse_ok("kaggle:a/b", REMOTE_KAGGLE, "a", "b", NULL);
	parse_ok("https://huggingface.co/datasets/org/name/tree/main/data", REMOTE_HF, "org", "name", NULL);
	parse_ok("hf:org/name", REMOTE_HF, "org", "name", NULL);
	parse_ok("https://huggingface.co/datasets/squad", REMOTE_HF, NULL, "squad", NULL);
	parse_ok("https://example.com/datasets/a/b", REMOTE_NONE, NULL, NULL, NULL);
	parse_ok("/local/file.csv", REMOTE_NONE, NULL, NULL, NULL);
	assert_int_equal(remote_parse("https://www.kaggle.com/datasets/only-owner", &r, &err), TN_EINVAL);
	assert_non_null(strstr(err.msg, "names no dataset"));
	remote_ref_release(&r);
}

static void redact_is(const char *in, const char *want)
{
	char *got = fetch_redact_url(in);

	assert_string_equal(got, want);
	tn_free(got);
}

static void test_redact(void **state)
{
	(void)state;
	redact_is("https://user:secret@host:8443/p/a.csv?sig=abc#frag", "https://host:8443/p/a.csv");
	redact_is("http://host/path/with@at.csv", "http://host/path/with@at.csv");
	redact_is("https://host/a.csv", "https://host/a.csv");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slug),
		cmocka_unit_test(test_slug_length),
		cmocka_unit_test(test_version_ids),
		cmocka_unit_test(test_manifest_round_trip),
		cmocka_unit_test(test_manifest_checks),
		cmocka_unit_test(test_member_paths),
		cmocka_unit_test(test_remote_parse),
		cmocka_unit_test(test_redact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
