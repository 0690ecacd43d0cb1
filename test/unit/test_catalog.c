/*
 * Unit tests of the catalog layer: one battery run against SQLite (a temp
 * file) always, and against PostgreSQL when TARN_TEST_PG holds a conninfo
 * (test/e2e/t4000-catalog-pg.sh starts a server and sets it); without it
 * the PostgreSQL cases are reported as skipped. Each PostgreSQL run works
 * in a schema of its own, dropped at the end. The SQL translation,
 * password redaction and connection-failure cases need no server.
 */
#include "base/compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "catalog/catalog_int.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define SECRET "s3cretPW"

struct fixture {
	const char *backend;     /* "sqlite", "postgres" */
	char *uri;               /* NULL: backend not available, tests skip */
	char schema[64];         /* PostgreSQL: this run's schema */
	char dir[64];            /* SQLite: temp folder */
};

static struct fixture lite_fx = { "sqlite", NULL, "", "" };
static struct fixture pg_fx = { "postgres", NULL, "", "" };

static struct fixture *fixture_of(void **state)
{
	struct fixture *fx = *state;

	if (!fx->uri)
		skip();
	return fx;
}

static struct catalog *open_uri(struct fixture *fx, const char *uri)
{
	struct tn_err err = TN_ERR_INIT;
	struct catalog *cat = NULL;
	char sql[128];

	if (catalog_open(&cat, uri, 1, &err))
		fail_msg("open %s: %s", uri, err.msg);
	if (fx->schema[0]) {
		snprintf(sql, sizeof(sql), "SET search_path = %s", fx->schema);
		if (catalog_exec(cat, sql, &err))
			fail_msg("%s", err.msg);
	}
	return cat;
}

static struct catalog *open_cat(struct fixture *fx)
{
	return open_uri(fx, fx->uri);
}

static void exec_ok(struct catalog *cat, const char *sql)
{
	struct tn_err err = TN_ERR_INIT;

	if (catalog_exec(cat, sql, &err))
		fail_msg("%s: %s", sql, err.msg);
}

static int64_t get_int(struct catalog *cat, const char *sql)
{
	struct tn_err err = TN_ERR_INIT;
	int64_t v = -1;

	if (catalog_get_int(cat, sql, &v, NULL, &err, 0))
		fail_msg("%s: %s", sql, err.msg);
	return v;
}

static struct catalog_stmt *prep(struct catalog *cat, const char *sql)
{
	struct tn_err err = TN_ERR_INIT;
	struct catalog_stmt *st = NULL;

	if (catalog_prepare(cat, sql, &st, &err))
		fail_msg("%s: %s", sql, err.msg);
	return st;
}

static void step_done(struct catalog_stmt *st)
{
	struct tn_err err = TN_ERR_INIT;
	int rc = catalog_step(st, &err);

	if (rc < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(rc, 0);
}

static void step_row(struct catalog_stmt *st)
{
	struct tn_err err = TN_ERR_INIT;
	int rc = catalog_step(st, &err);

	if (rc < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(rc, 1);
}

/* ---- fixtures ---- */

static int setup_lite(void **state)
{
	snprintf(lite_fx.dir, sizeof(lite_fx.dir), "/tmp/tarn-catalog.XXXXXX");
	if (!mkdtemp(lite_fx.dir))
		return -1;
	lite_fx.uri = tn_xprintf("sqlite:%s/catalog.sqlite", lite_fx.dir);
	*state = &lite_fx;
	return 0;
}

static int teardown_lite(void **state)
{
	char *cmd = tn_xprintf("rm -rf '%s'", lite_fx.dir);

	(void)state;
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", lite_fx.dir);
	tn_free(cmd);
	tn_free(lite_fx.uri);
	return 0;
}

static int setup_pg(void **state)
{
	const char *conn = getenv("TARN_TEST_PG");
	struct fixture plain = pg_fx;
	struct catalog *cat;
	char sql[128];

	*state = &pg_fx;
	if (!conn || !*conn) {
		fprintf(stderr, "postgres: TARN_TEST_PG is not set, so every postgres test is SKIPPED "
			"(test/e2e/t4000-catalog-pg.sh runs them against a server of its own)\n");
		return 0;
	}
	pg_fx.uri = tn_strdup(conn);
	snprintf(pg_fx.schema, sizeof(pg_fx.schema), "tarn_unit_%ld_%ld", (long)getpid(), (long)time(NULL));
	plain.schema[0] = '\0';
	cat = open_uri(&plain, conn);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", pg_fx.schema);
	exec_ok(cat, sql);
	catalog_close(cat);
	return 0;
}

static int teardown_pg(void **state)
{
	struct fixture plain = pg_fx;
	struct catalog *cat;
	char sql[128];

	(void)state;
	if (!pg_fx.uri)
		return 0;
	plain.schema[0] = '\0';
	cat = open_uri(&plain, pg_fx.uri);
	snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", pg_fx.schema);
	exec_ok(cat, sql);
	catalog_close(cat);
	tn_free(pg_fx.uri);
	return 0;
}

/* ---- the battery ---- */

static void test_backend_and_path(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);

	assert_string_equal(catalog_backend(cat), fx->backend);
	assert_non_null(catalog_path(cat));
	assert_null(strstr(catalog_path(cat), "password"));
	catalog_close(cat);
}

static void test_exec_several(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	struct tn_err err = TN_ERR_INIT;

	exec_ok(cat, "CREATE TABLE ex(a BIGINT, b VARCHAR); INSERT INTO ex VALUES (1, 'x;y'); "
		     "INSERT INTO ex VALUES (2, 'it''s')");
	assert_int_equal(get_int(cat, "SELECT count(*) FROM ex"), 2);
	/* The first error stops the rest. */
	assert_true(catalog_exec(cat, "INSERT INTO nosuch VALUES (1); INSERT INTO ex VALUES (3, 'z')",
				 &err) < 0);
	assert_non_null(strstr(err.msg, "nosuch"));
	assert_int_equal(get_int(cat, "SELECT count(*) FROM ex"), 2);
	catalog_close(cat);
}

static void test_params(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	struct catalog_stmt *st;

	exec_ok(cat, "CREATE TABLE pa(a BIGINT, b VARCHAR, c VARCHAR)");
	st = prep(cat, "INSERT INTO pa VALUES (?, ?, 'lit?')");
	catalog_bind_int(st, 1, 5);
	catalog_bind_text(st, 2, "five");
	step_done(st);
	catalog_finalize(st);
	/* ?N repeats; `?` in literals, quoted names and comments is no parameter. */
	st = prep(cat, "SELECT a, b, c, 'x?y' AS \"q?\" FROM pa /* ? */ WHERE (a = ?1 OR b = ?2) "
		       "AND a = ?1 -- ?\n ORDER BY a");
	catalog_bind_int(st, 1, 5);
	catalog_bind_text(st, 2, "nope");
	step_row(st);
	assert_int_equal(catalog_col_int(st, 0), 5);
	assert_string_equal(catalog_col_text(st, 1), "five");
	assert_string_equal(catalog_col_text(st, 2), "lit?");
	assert_string_equal(catalog_col_text(st, 3), "x?y");
	step_done(st);
	catalog_finalize(st);
	/* A bare ? after ?2 is ?3; ?1 is left out. */
	st = prep(cat, "SELECT ?2, ?");
	catalog_bind_text(st, 1, "a");
	catalog_bind_text(st, 2, "b");
	catalog_bind_text(st, 3, "c");
	catalog_bind_text(st, 9, "out of range: ignored");
	step_row(st);
	assert_string_equal(catalog_col_text(st, 0), "b");
	assert_string_equal(catalog_col_text(st, 1), "c");
	catalog_finalize(st);
	catalog_close(cat);
}

static void insert_typed(struct catalog *cat, int64_t i, const char *t, int b)
{
	struct catalog_stmt *st = prep(cat, "INSERT INTO ty VALUES (?1, ?2, ?3, ?4)");

	catalog_bind_int(st, 1, i);
	catalog_bind_text(st, 2, t);
	catalog_bind_bool(st, 3, b);
	catalog_bind_null(st, 4);
	step_done(st);
	catalog_finalize(st);
}

static void test_types(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	const char *text = "it's \"quoted\" \xc3\xbcnicode \\ ?";
	struct catalog_stmt *st;
	char *dup;

	exec_ok(cat, "CREATE TABLE ty(i BIGINT, t VARCHAR, b BOOLEAN, n VARCHAR)");
	insert_typed(cat, INT64_MAX, text, 1);
	insert_typed(cat, INT64_MIN, NULL, 0);
	st = prep(cat, "SELECT i, t, b, n FROM ty ORDER BY i DESC");
	step_row(st);
	assert_true(catalog_col_int(st, 0) == INT64_MAX);
	assert_string_equal(catalog_col_text(st, 1), text);
	assert_int_equal(catalog_col_int(st, 2), 1);
	assert_string_equal(catalog_col_text(st, 2), "1");
	assert_true(catalog_col_is_null(st, 3));
	assert_null(catalog_col_text(st, 3));
	assert_null(catalog_col_dup(st, 3));
	dup = catalog_col_dup(st, 1);
	assert_string_equal(dup, text);
	tn_free(dup);
	step_row(st);
	assert_true(catalog_col_int(st, 0) == INT64_MIN);
	assert_true(catalog_col_is_null(st, 1));
	assert_int_equal(catalog_col_int(st, 2), 0);
	assert_string_equal(catalog_col_text(st, 2), "0");
	step_done(st);
	catalog_finalize(st);
	/* A bound boolean compares with a boolean column. */
	st = prep(cat, "SELECT count(*) FROM ty WHERE b = ?");
	catalog_bind_bool(st, 1, 1);
	step_row(st);
	assert_int_equal(catalog_col_int(st, 0), 1);
	catalog_finalize(st);
	catalog_close(cat);
}

static void test_reset_rebind(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	struct catalog_stmt *st;

	exec_ok(cat, "CREATE TABLE rb(a BIGINT)");
	st = prep(cat, "INSERT INTO rb VALUES (?)");
	catalog_bind_int(st, 1, 1);
	step_done(st);
	catalog_reset(st);
	catalog_bind_int(st, 1, 2);
	step_done(st);
	catalog_reset(st);          /* clears the binding: NULL */
	step_done(st);
	catalog_finalize(st);
	assert_int_equal(get_int(cat, "SELECT count(*) FROM rb"), 3);
	assert_int_equal(get_int(cat, "SELECT sum(a) FROM rb"), 3);
	assert_int_equal(get_int(cat, "SELECT count(*) FROM rb WHERE a IS NULL"), 1);
	catalog_close(cat);
}

static void test_txn(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	struct tn_err err = TN_ERR_INIT;

	exec_ok(cat, "CREATE TABLE tx(a BIGINT)");
	assert_int_equal(catalog_in_txn(cat), 0);
	assert_int_equal(catalog_begin(cat, 1, &err), 0);
	assert_int_equal(catalog_in_txn(cat), 1);
	assert_true(catalog_begin(cat, 1, &err) < 0);      /* no nesting */
	tn_err_clear(&err);
	assert_int_equal(catalog_in_txn(cat), 1);
	exec_ok(cat, "INSERT INTO tx VALUES (1)");
	catalog_rollback(cat);
	assert_int_equal(catalog_in_txn(cat), 0);
	assert_int_equal(get_int(cat, "SELECT count(*) FROM tx"), 0);
	assert_int_equal(catalog_begin(cat, 1, &err), 0);
	exec_ok(cat, "INSERT INTO tx VALUES (2)");
	assert_int_equal(catalog_commit(cat, &err), 0);
	assert_int_equal(catalog_in_txn(cat), 0);
	assert_int_equal(get_int(cat, "SELECT a FROM tx"), 2);
	/* Read transactions, and SQLite's spelling through catalog_exec. */
	assert_int_equal(catalog_begin(cat, 0, &err), 0);
	assert_int_equal(get_int(cat, "SELECT count(*) FROM tx"), 1);
	assert_int_equal(catalog_commit(cat, &err), 0);
	exec_ok(cat, "BEGIN IMMEDIATE");
	assert_int_equal(catalog_in_txn(cat), 1);
	exec_ok(cat, "COMMIT");
	catalog_rollback(cat);      /* no-op outside a transaction */
	assert_true(catalog_commit(cat, &err) < 0);
	catalog_close(cat);
}

static void test_savepoints(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	struct tn_err err = TN_ERR_INIT;

	exec_ok(cat, "CREATE TABLE sp(a BIGINT)");
	assert_int_equal(catalog_begin(cat, 1, &err), 0);
	exec_ok(cat, "INSERT INTO sp VALUES (1)");
	assert_int_equal(catalog_savepoint(cat, "s1", &err), 0);
	exec_ok(cat, "INSERT INTO sp VALUES (2)");
	catalog_rollback_to(cat, "s1");
	exec_ok(cat, "INSERT INTO sp VALUES (4)");
	assert_int_equal(catalog_savepoint(cat, "s2", &err), 0);
	exec_ok(cat, "INSERT INTO sp VALUES (8)");
	assert_int_equal(catalog_release(cat, "s2", &err), 0);
	/* A failed statement undone by its savepoint leaves the rest usable. */
	assert_int_equal(catalog_savepoint(cat, "s3", &err), 0);
	assert_true(catalog_exec(cat, "INSERT INTO nosuch VALUES (1)", &err) < 0);
	catalog_rollback_to(cat, "s3");
	exec_ok(cat, "INSERT INTO sp VALUES (16)");
	assert_int_equal(catalog_commit(cat, &err), 0);
	assert_int_equal(get_int(cat, "SELECT sum(a) FROM sp"), 1 + 4 + 8 + 16);
	tn_err_clear(&err);
	assert_true(catalog_savepoint(cat, "bad name; DROP TABLE sp", &err) < 0);
	assert_int_equal(err.code, TN_EINVAL);
	catalog_close(cat);
}

/* PostgreSQL aborts a transaction at its first error; SQLite does not. */
static void test_commit_after_error(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	struct tn_err err = TN_ERR_INIT;
	int pg = !strcmp(fx->backend, "postgres");

	exec_ok(cat, "CREATE TABLE ce(a BIGINT)");
	assert_int_equal(catalog_begin(cat, 1, &err), 0);
	exec_ok(cat, "INSERT INTO ce VALUES (1)");
	assert_true(catalog_exec(cat, "INSERT INTO nosuch VALUES (1)", &err) < 0);
	tn_err_clear(&err);
	if (pg) {
		assert_true(catalog_commit(cat, &err) < 0);
		assert_non_null(strstr(err.msg, "rolled back"));
	} else {
		assert_int_equal(catalog_commit(cat, &err), 0);
	}
	assert_int_equal(catalog_in_txn(cat), 0);
	assert_int_equal(get_int(cat, "SELECT count(*) FROM ce"), pg ? 0 : 1);
	catalog_close(cat);
}

static void test_unique_conflict(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	struct tn_err err = TN_ERR_INIT;
	struct catalog_stmt *st;

	exec_ok(cat, "CREATE TABLE uq(k BIGINT PRIMARY KEY)");
	exec_ok(cat, "INSERT INTO uq VALUES (1)");
	st = prep(cat, "INSERT INTO uq VALUES (?)");
	catalog_bind_int(st, 1, 1);
	assert_int_equal(catalog_step(st, &err), TN_ECONFLICT);
	assert_int_equal(err.code, TN_ECONFLICT);
	catalog_finalize(st);
	catalog_close(cat);
}

static void test_table_columns(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	struct tn_err err = TN_ERR_INIT;
	char **names = NULL;
	size_t n = 0;

	exec_ok(cat, "CREATE TABLE tc(row_id BIGINT, \"B c\" VARCHAR, z BOOLEAN, gone BIGINT)");
	exec_ok(cat, "ALTER TABLE tc DROP COLUMN gone");
	assert_int_equal(catalog_table_columns(cat, "tc", &names, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "row_id");
	assert_string_equal(names[1], "B c");
	assert_string_equal(names[2], "z");
	catalog_columns_free(names, n);
	assert_int_equal(catalog_table_columns(cat, "no_such_table", &names, &n, &err), TN_ENOTFOUND);
	assert_null(names);
	assert_int_equal(n, 0);
	catalog_close(cat);
}

static void test_integrity(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	struct tn_err err = TN_ERR_INIT;
	char *msg = NULL;

	assert_int_equal(catalog_integrity(cat, &msg, &err), 0);
	assert_string_equal(msg, "ok");
	tn_free(msg);
	catalog_close(cat);
}

/* The lake's case: a catalog without DuckLake tables opens; reading fails. */
static void test_not_a_lake(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = NULL, *first = open_cat(fx);
	struct tn_err err = TN_ERR_INIT;
	struct catalog_stmt *st = NULL;

	assert_int_equal(catalog_open(&cat, fx->uri, 0, &err), 0);
	/* SQLite checks at prepare; PostgreSQL when the statement first runs */
	if (catalog_prepare(cat, "SELECT value FROM ducklake_metadata", &st, &err) == 0) {
		assert_non_null(st);
		assert_true(catalog_step(st, &err) < 0);
		catalog_finalize(st);
	} else {
		assert_null(st);
	}
	assert_non_null(strstr(err.msg, "ducklake_metadata"));
	catalog_close(cat);
	catalog_close(first);
}

/* Results are whole: other statements run while one is being stepped; the
 * statement cache stays bounded. */
static void test_nested_and_cache(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	struct tn_err err = TN_ERR_INIT;
	struct catalog_stmt *st;
	char sql[96];
	int i, rows = 0;

	exec_ok(cat, "CREATE TABLE nc(a BIGINT); INSERT INTO nc VALUES (1); INSERT INTO nc VALUES (2); "
		     "INSERT INTO nc VALUES (3)");
	st = prep(cat, "SELECT a FROM nc ORDER BY a");
	while (catalog_step(st, &err) == 1) {
		rows++;
		assert_int_equal(get_int(cat, "SELECT count(*) FROM nc"), 3);
		exec_ok(cat, "UPDATE nc SET a = a WHERE a = 1");
	}
	catalog_finalize(st);
	assert_int_equal(rows, 3);
	for (i = 0; i < 300; i++) {
		snprintf(sql, sizeof(sql), "SELECT a + %d FROM nc WHERE a = ?", i % 150);
		st = prep(cat, sql);
		catalog_bind_int(st, 1, 2);
		step_row(st);
		assert_int_equal(catalog_col_int(st, 0), 2 + i % 150);
		catalog_finalize(st);
	}
	if (!strcmp(fx->backend, "postgres"))
		assert_true(get_int(cat, "SELECT count(*) FROM pg_prepared_statements") <= 130);
	catalog_close(cat);
}

struct writer {
	struct fixture *fx;
	atomic_int started, locked, done;
	int64_t seen;
	int rc;
	char msg[1024];
};

/* The second writer: its BEGIN must wait for the first one's COMMIT and
 * then see that commit. (cmocka asserts are main-thread only.) */
static void *second_writer(void *arg)
{
	struct writer *w = arg;
	struct tn_err err = TN_ERR_INIT;
	struct catalog *cat = NULL;
	int rc = catalog_open(&cat, w->fx->uri, 0, &err);
	char sql[128];

	if (!rc && w->fx->schema[0]) {
		snprintf(sql, sizeof(sql), "SET search_path = %s", w->fx->schema);
		rc = catalog_exec(cat, sql, &err);
	}
	atomic_store(&w->started, 1);
	if (!rc)
		rc = catalog_begin(cat, 1, &err);
	atomic_store(&w->locked, 1);
	if (!rc)
		rc = catalog_get_int(cat, "SELECT count(*) FROM tw", &w->seen, NULL, &err, 0);
	if (!rc)
		rc = catalog_exec(cat, "INSERT INTO tw VALUES (2)", &err);
	if (!rc)
		rc = catalog_commit(cat, &err);
	w->rc = rc;
	snprintf(w->msg, sizeof(w->msg), "%s", err.msg);
	catalog_close(cat);
	atomic_store(&w->done, 1);
	return NULL;
}

static void test_writers_serialise(void **state)
{
	struct fixture *fx = fixture_of(state);
	struct catalog *cat = open_cat(fx);
	struct tn_err err = TN_ERR_INIT;
	struct writer w;
	pthread_t th;

	memset(&w, 0, sizeof(w));
	w.fx = fx;
	exec_ok(cat, "CREATE TABLE tw(a BIGINT)");
	assert_int_equal(catalog_begin(cat, 1, &err), 0);
	exec_ok(cat, "INSERT INTO tw VALUES (1)");
	assert_int_equal(pthread_create(&th, NULL, second_writer, &w), 0);
	while (!atomic_load(&w.started))
		usleep(1000);
	usleep(400 * 1000);
	assert_int_equal(atomic_load(&w.locked), 0);      /* still queued */
	assert_int_equal(catalog_commit(cat, &err), 0);
	pthread_join(th, NULL);
	if (w.rc)
		fail_msg("second writer: %s", w.msg);
	assert_int_equal(w.seen, 1);                     /* it saw the first commit */
	assert_int_equal(get_int(cat, "SELECT count(*) FROM tw"), 2);
	catalog_close(cat);
}

#define BATTERY()                                                       \
	cmocka_unit_test(test_backend_and_path),                        \
	cmocka_unit_test(test_exec_several),                            \
	cmocka_unit_test(test_params),                                  \
	cmocka_unit_test(test_types),                                   \
	cmocka_unit_test(test_reset_rebind),                            \
	cmocka_unit_test(test_txn),                                     \
	cmocka_unit_test(test_savepoints),                              \
	cmocka_unit_test(test_commit_after_error),                      \
	cmocka_unit_test(test_unique_conflict),                         \
	cmocka_unit_test(test_table_columns),                           \
	cmocka_unit_test(test_integrity),                               \
	cmocka_unit_test(test_not_a_lake),                              \
	cmocka_unit_test(test_nested_and_cache),                        \
	cmocka_unit_test(test_writers_serialise)

/* ---- no server needed ---- */

static void check_translate(const char *in, const char *want, int nparams, const char *used)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err err = TN_ERR_INIT;
	unsigned char *u = NULL;
	int n = -1, i;

	if (catalog_pg_translate(in, &b, &n, &u, &err))
		fail_msg("%s: %s", in, err.msg);
	assert_string_equal(b.buf, want);
	assert_int_equal(n, nparams);
	for (i = 0; i < n; i++)
		assert_int_equal(u[i], used[i] == '1');
	tn_free(u);
	tn_buf_release(&b);
}

static void test_translate(void **state)
{
	(void)state;
	check_translate("SELECT 1", "SELECT 1", 0, "");
	check_translate("?, ?", "$1, $2", 2, "11");
	check_translate("?2, ?, ?1", "$2, $3, $1", 3, "111");
	check_translate("a = ?1 OR b = ?1 AND c = ?3", "a = $1 OR b = $1 AND c = $3", 3, "101");
	check_translate("?10", "$10", 10, "0000000001");
	check_translate("'a?b' ? \"c?\" ?", "'a?b' $1 \"c?\" $2", 2, "11");
	check_translate("'it''s?' ?", "'it''s?' $1", 1, "1");
	check_translate("E'\\'?' ?", "E'\\'?' $1", 1, "1");
	check_translate("e'?\\\\' ?", "e'?\\\\' $1", 1, "1");
	check_translate("name'?' ?", "name'?' $1", 1, "1");
	check_translate("\"a\"\"?\" ?", "\"a\"\"?\" $1", 1, "1");
	check_translate("-- why?\n?", "-- why?\n$1", 1, "1");
	check_translate("a - ?", "a - $1", 1, "1");
	check_translate("/* ? /* ? */ ? */ ?", "/* ? /* ? */ ? */ $1", 1, "1");
	check_translate("$$?$$ ?", "$$?$$ $1", 1, "1");
	check_translate("$q$ ? $$ ? $q$ ?", "$q$ ? $$ ? $q$ $1", 1, "1");
	check_translate("a$b ?", "a$b $1", 1, "1");
	check_translate("'unterminated ?", "'unterminated ?", 0, "");
	check_translate("BEGIN IMMEDIATE", "BEGIN IMMEDIATE", 0, "");
}

static void test_translate_errors(void **state)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err err = TN_ERR_INIT;
	unsigned char *u = NULL;
	int n = 0;

	(void)state;
	assert_int_equal(catalog_pg_translate("SELECT ?0", &b, &n, &u, &err), TN_EINVAL);
	assert_non_null(strstr(err.msg, "?0"));
	assert_null(u);
	tn_err_clear(&err);
	assert_int_equal(catalog_pg_translate("SELECT ?1, ?99999999999", &b, &n, &u, &err), TN_EINVAL);
	assert_null(u);
	assert_int_equal(n, 0);
	tn_buf_release(&b);
}

static void check_redact(const char *msg, const char *conninfo, const char *want)
{
	char *got = catalog_redact(msg, conninfo, NULL);

	assert_string_equal(got, want);
	tn_free(got);
}

static void test_redact(void **state)
{
	char *got;

	(void)state;
	check_redact("no secret here", NULL, "no secret here");
	check_redact("bad postgres://u:pw1@h/db", NULL, "bad postgres://u:***@h/db");
	check_redact("x password=pw2 y", NULL, "x password=*** y");
	check_redact("x password = 'p w3' y", NULL, "x password = '***' y");
	check_redact("token \"pw4%ZZ\"", "postgres://u:pw4%ZZ@h/db", "token \"***\"");
	check_redact("decoded p@w", "postgres://u:p%40w@h/db", "decoded ***");
	check_redact("q pw6", "postgres://u@h/db?sslmode=disable&password=pw6", "q ***");
	check_redact("password authentication failed for user \"u\"", "host=h password=zz",
		     "password authentication failed for user \"u\"");
	/* A secret inside a longer one is masked whole. */
	check_redact("abcdef abc", "postgres://u:abcdef@h/?password=abc", "*** ***");
	got = catalog_redact("explicit hunter2", NULL, "hunter2");
	assert_string_equal(got, "explicit ***");
	tn_free(got);
}

/* Nothing listens on port 1: each open must fail fast with TN_EREMOTE, a
 * hint, and no password, even where libpq echoes the URI back. */
static void test_bad_conninfo(void **state)
{
	static const char *uris[] = {
		"postgres://tarnuser:" SECRET "@127.0.0.1:1/db",
		"postgresql://tarnuser:" SECRET "@127.0.0.1:1/db?connect_timeout=2",
		"postgres:host=127.0.0.1 port=1 user=tarnuser password=" SECRET " dbname=db",
		"postgres:host=127.0.0.1 port=1 password='" SECRET " x'",
		"postgres://tarnuser:" SECRET "%ZZ@127.0.0.1:1/db",
		"postgres://tarnuser@127.0.0.1:1/db?password=" SECRET "&sslmode=bogus",
		"postgres:host=127.0.0.1 port=1 password=" SECRET " bogus",
	};
	size_t i;

	(void)state;
	for (i = 0; i < TN_ARRAY_LEN(uris); i++) {
		struct tn_err err = TN_ERR_INIT;
		struct catalog *cat = NULL;
		int rc = catalog_open(&cat, uris[i], 0, &err);

		if (rc != TN_EREMOTE || strstr(err.msg, SECRET) || !strstr(err.msg, "PGHOST"))
			fail_msg("%s -> rc %d: %s", uris[i], rc, err.msg);
		assert_null(cat);
	}
}

static void test_sqlite_uri(void **state)
{
	struct tn_err err = TN_ERR_INIT;
	struct catalog *cat = NULL;
	char dir[] = "/tmp/tarn-catalog-uri.XXXXXX", *uri, *path;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = tn_xprintf("%s/c.sqlite", dir);
	uri = tn_xprintf("sqlite:%s", path);
	assert_int_equal(catalog_open(&cat, path, 0, &err), TN_ENOTFOUND);
	assert_null(cat);
	assert_int_equal(catalog_open(&cat, uri, 1, &err), 0);
	assert_string_equal(catalog_path(cat), path);
	assert_string_equal(catalog_backend(cat), "sqlite");
	catalog_close(cat);
	assert_int_equal(catalog_open(&cat, path, 0, &err), 0);
	catalog_close(cat);
	unlink(path);
	tn_free(uri);
	uri = tn_xprintf("%s-wal", path);
	unlink(uri);
	tn_free(uri);
	uri = tn_xprintf("%s-shm", path);
	unlink(uri);
	tn_free(uri);
	tn_free(path);
	rmdir(dir);
}

/* A password in a URI that works (trust auth ignores it) never shows. */
static void test_pg_path_hides_password(void **state)
{
	struct fixture *fx = fixture_of(state);
	const char *at = strchr(fx->uri, '@'), *scheme = strstr(fx->uri, "://");
	struct catalog *cat;
	char *uri;

	if (!at || !scheme || memchr(scheme + 3, ':', (size_t)(at - scheme - 3)))
		skip();    /* not a "postgres://user@host" URI we can add a password to */
	uri = tn_xprintf("%.*s:%s%s", (int)(at - fx->uri), fx->uri, SECRET, at);
	cat = open_uri(fx, uri);
	assert_null(strstr(catalog_path(cat), SECRET));
	assert_non_null(strstr(catalog_path(cat), "postgres://"));
	catalog_close(cat);
	tn_free(uri);
}

int main(void)
{
	const struct CMUnitTest common[] = {
		cmocka_unit_test(test_translate),
		cmocka_unit_test(test_translate_errors),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_bad_conninfo),
		cmocka_unit_test(test_sqlite_uri),
	};
	const struct CMUnitTest lite[] = { BATTERY() };
	const struct CMUnitTest pg[] = { BATTERY(), cmocka_unit_test(test_pg_path_hides_password) };
	int failed = 0;

	failed += cmocka_run_group_tests_name("common", common, NULL, NULL);
	failed += cmocka_run_group_tests_name("sqlite", lite, setup_lite, teardown_lite);
	failed += cmocka_run_group_tests_name("postgres", pg, setup_pg, teardown_pg);
	return failed ? 1 : 0;
}
