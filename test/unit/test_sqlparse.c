/* Unit tests of lake/sqlparse: lexer-driven splitting, is_complete for the
 * shell, and the reading of every statement kind, including the errors. */
#include "base/compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "lake/sqlparse.h"
#include "base/tn_mem.h"

/* ---------------------------------------------------------------- helpers */

static struct sql_stmt *parse_ok(const char *sql)
{
	struct sql_stmt *st = NULL;
	struct tn_err err = TN_ERR_INIT;

	if (sqlparse_parse(sql, &st, &err))
		fail_msg("parse of <%s> failed: %s", sql, err.msg);
	assert_non_null(st);
	return st;
}

/* Parsing `sql` must fail with `code` and a message containing `needle`. */
static void parse_fails(const char *sql, enum tn_code code, const char *needle)
{
	struct sql_stmt *st = (struct sql_stmt *)1;
	struct tn_err err = TN_ERR_INIT;
	int rc = sqlparse_parse(sql, &st, &err);

	if (rc != (int)code)
		fail_msg("parse of <%s>: rc %d, want %d (%s)", sql, rc, (int)code, err.msg);
	assert_null(st);
	assert_int_equal(err.code, code);
	if (!strstr(err.msg, needle))
		fail_msg("parse of <%s>: message <%s> lacks <%s>", sql, err.msg, needle);
}

static enum sql_kind kind_of(const char *sql)
{
	struct sql_stmt *st = parse_ok(sql);
	enum sql_kind k = st->kind;

	sqlparse_free(st);
	return k;
}

/* Split `sql` and compare with the NULL-terminated list `want`. */
static void split_is(const char *sql, const char *const *want)
{
	struct tn_err err = TN_ERR_INIT;
	char **v = NULL;
	size_t n = 0, i, nwant = 0;

	while (want[nwant])
		nwant++;
	if (sqlparse_split(sql, &v, &n, &err))
		fail_msg("split of <%s> failed: %s", sql, err.msg);
	assert_int_equal(n, nwant);
	for (i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
	sqlparse_free_list(v, n);
}

static void split_fails(const char *sql, const char *needle)
{
	struct tn_err err = TN_ERR_INIT;
	char **v = (char **)1;
	size_t n = 99;

	assert_int_equal(sqlparse_split(sql, &v, &n, &err), TN_EINVAL);
	assert_null(v);
	assert_int_equal(n, 0);
	if (!strstr(err.msg, needle))
		fail_msg("split of <%s>: message <%s> lacks <%s>", sql, err.msg, needle);
}

/* -------------------------------------------------------------- splitting */

static void test_split_basic(void **state)
{
	static const char *const two[] = { "select 1", "SELECT 2", NULL };
	static const char *const none[] = { NULL };

	(void)state;
	split_is("  select 1 ;\n\n  SELECT 2  ", two);
	split_is("select 1;;;SELECT 2;", two);
	split_is("", none);
	split_is(" ; ;\n -- only a comment\n; /* and another */ ;", none);
}

static void test_split_quotes(void **state)
{
	static const char *const strs[] = { "select 'a;b', 'it''s;'", "select 2", NULL };
	static const char *const ids[] = { "select 1 as \"x;\"\"y\"", "select 2", NULL };
	static const char *const esc[] = { "select E'\\';', e'\\\\'", "select 2", NULL };
	static const char *const dollar[] = {
		"select $$a;'b$$, $fn$ x $$; $fn$", "select $1, $name", NULL
	};

	(void)state;
	split_is("select 'a;b', 'it''s;'; select 2", strs);
	split_is("select 1 as \"x;\"\"y\"; select 2", ids);
	/* in E'' a backslash escapes the quote, so the ; is inside the string */
	split_is("select E'\\';', e'\\\\'; select 2", esc);
	split_is("select $$a;'b$$, $fn$ x $$; $fn$; select $1, $name;", dollar);
}

static void test_split_comments(void **state)
{
	static const char *const lines[] = { "select 1", "select 2 -- two; still\n + 0", NULL };
	static const char *const blocks[] = { "select /* a; /* b; */ c; */ 1", "select 2", NULL };

	(void)state;
	/* leading and trailing comments are trimmed, inner ones kept */
	split_is("-- head; comment\nselect 1 -- tail;\n; select 2 -- two; still\n + 0", lines);
	/* DuckDB nests block comments, like PostgreSQL */
	split_is("select /* a; /* b; */ c; */ 1; select 2", blocks);
}

static void test_split_errors(void **state)
{
	(void)state;
	split_fails("select 1;\nselect 'abc;\n", "unterminated string literal starting at line 2");
	split_fails("select \"abc", "unterminated quoted identifier starting at line 1");
	split_fails("select 1;\n\n/* open", "unterminated /* comment starting at line 3");
	split_fails("select /* a /* b */ 1", "unterminated /* comment");
	split_fails("select $t$ abc $$ ;", "unterminated dollar-quoted string starting at line 1");
	split_fails("select E'abc\\'", "unterminated string literal");
}

static void test_is_complete(void **state)
{
	(void)state;
	assert_true(sqlparse_is_complete("select 1;"));
	assert_false(sqlparse_is_complete("select ';'"));
	assert_true(sqlparse_is_complete("select 1; -- c"));
	assert_false(sqlparse_is_complete(""));
	assert_false(sqlparse_is_complete("select 1"));
	assert_false(sqlparse_is_complete("select 1; select 2"));
	assert_true(sqlparse_is_complete("select 1;\nselect 2;\n/* done */  "));
	assert_false(sqlparse_is_complete("select $$ ; $$"));
	assert_false(sqlparse_is_complete("select 1; /* still open"));
	assert_false(sqlparse_is_complete("select 1 -- ;"));
	assert_false(sqlparse_is_complete(NULL));
}

/* ----------------------------------------------------------- classifying */

static void test_queries(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("  SeLeCt 1 ;  ");
	assert_int_equal(st->kind, SQL_QUERY);
	assert_string_equal(st->text, "SeLeCt 1");
	assert_null(st->body);
	sqlparse_free(st);
	assert_int_equal(kind_of("with q as (select 1) select * from q"), SQL_QUERY);
	assert_int_equal(kind_of("FROM t SELECT a"), SQL_QUERY);
	assert_int_equal(kind_of("values (1), (2)"), SQL_QUERY);
	assert_int_equal(kind_of("TABLE t"), SQL_QUERY);
	assert_int_equal(kind_of("(select 1) union (select 2)"), SQL_QUERY);
	parse_fails("with q as (select 1) insert into t select * from q", TN_EUNSUPPORTED,
		    "WITH … INSERT is not supported");
	parse_fails("select 1; select 2", TN_EINVAL, "more than one statement");
	parse_fails("  ;  ", TN_EINVAL, "empty statement");
	parse_fails("select (1", TN_EINVAL, "'(' at line 1 is never closed");
	parse_fails("select [1)", TN_EINVAL, "does not match '['");
}

static void test_passthrough(void **state)
{
	static const char *const pass[] = {
		"SET threads = 4", "RESET threads", "PRAGMA version", "SHOW TABLES", "DESCRIBE t",
		"SUMMARIZE t", "EXPLAIN SELECT 1", "COPY t TO 'x.csv'", "CALL pragma_version()",
		"EXPORT DATABASE 'd'", "IMPORT DATABASE 'd'", "ATTACH 'x.db' AS x", "DETACH x",
		"USE x", "INSTALL httpfs", "LOAD httpfs", "CHECKPOINT",
		"CREATE TEMP TABLE x (a INT)", "create temporary view v as select 1",
		"CREATE MACRO m(a) AS a + 1", "CREATE FUNCTION f(a) AS a", "CREATE SEQUENCE s",
		"CREATE TYPE mood AS ENUM ('ok')", "CREATE INDEX i ON t (a)", "CREATE SECRET (TYPE s3)",
		"DROP MACRO m", "DROP SEQUENCE s", "ALTER SEQUENCE s RESTART",
		"COMMENT ON MACRO m IS 'x'", NULL
	};
	const char *const *s;

	(void)state;
	for (s = pass; *s; s++)
		if (kind_of(*s) != SQL_PASSTHROUGH)
			fail_msg("<%s> is not SQL_PASSTHROUGH", *s);
}

static void test_merge(void **state)
{
	struct sql_stmt *st = parse_ok("MERGE INTO s.t AS x USING u ON x.a = u.a WHEN MATCHED THEN DELETE");

	(void)state;
	assert_int_equal(st->kind, SQL_MERGE);
	assert_string_equal(st->target.schema, "s");
	assert_string_equal(st->target.name, "t");
	assert_string_equal(st->alias, "x");
	assert_string_equal(st->body, "USING u ON x.a = u.a WHEN MATCHED THEN DELETE");
	sqlparse_free(st);
	st = parse_ok("merge into t using (select 1 as a) u on t.a = u.a when not matched then insert values (u.a)");
	assert_int_equal(st->kind, SQL_MERGE);
	assert_null(st->alias);
	assert_string_equal(st->target.name, "t");
	sqlparse_free(st);
}

static void test_transactions(void **state)
{
	(void)state;
	assert_int_equal(kind_of("BEGIN"), SQL_BEGIN);
	assert_int_equal(kind_of("begin transaction"), SQL_BEGIN);
	assert_int_equal(kind_of("START TRANSACTION"), SQL_BEGIN);
	assert_int_equal(kind_of("COMMIT"), SQL_COMMIT);
	assert_int_equal(kind_of("end transaction;"), SQL_COMMIT);
	assert_int_equal(kind_of("ROLLBACK"), SQL_ROLLBACK);
	assert_int_equal(kind_of("abort"), SQL_ROLLBACK);
	parse_fails("START", TN_EINVAL, "START: expected TRANSACTION");
	parse_fails("ROLLBACK TO SAVEPOINT a", TN_EUNSUPPORTED, "savepoints are not supported");
}

/* ----------------------------------------------------------------- CREATE */

static void test_create_schema(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("create schema if not exists lake.\"Sales\"");
	assert_int_equal(st->kind, SQL_CREATE_SCHEMA);
	assert_true(st->if_not_exists);
	assert_string_equal(st->target.catalog, "lake");
	assert_null(st->target.schema);
	assert_string_equal(st->target.name, "Sales");
	sqlparse_free(st);
	parse_fails("CREATE SCHEMA a.b.c", TN_EINVAL, "too many parts");
}

static void test_create_table(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("CREATE OR REPLACE TABLE main.s.\"My \"\"T\"\"\" (\n"
		      "  a INT, -- the key\n  b VARCHAR DEFAULT 'x;)', c STRUCT(k INT, v VARCHAR)\n);");
	assert_int_equal(st->kind, SQL_CREATE_TABLE);
	assert_true(st->or_replace);
	assert_false(st->if_not_exists);
	assert_string_equal(st->target.catalog, "main");
	assert_string_equal(st->target.schema, "s");
	assert_string_equal(st->target.name, "My \"T\"");
	assert_string_equal(st->body, "(\n  a INT, -- the key\n  b VARCHAR DEFAULT 'x;)', "
			    "c STRUCT(k INT, v VARCHAR)\n)");
	sqlparse_free(st);

	st = parse_ok("create table if not exists Events (id bigint)");
	assert_true(st->if_not_exists);
	assert_null(st->target.schema);
	assert_string_equal(st->target.name, "Events");   /* case kept as written */
	sqlparse_free(st);

	parse_fails("CREATE TABLE t", TN_EINVAL, "expected '(' or AS after CREATE TABLE t");
	parse_fails("CREATE TABLE t (a INT) PARTITION BY a", TN_EINVAL, "expected end of statement");
	parse_fails("CREATE OR REPLACE TABLE IF NOT EXISTS t (a INT)", TN_EINVAL,
		    "cannot be used together");
	parse_fails("CREATE TABLE select (a INT)", TN_EINVAL, "expected a table name");
	parse_fails("CREATE TABLE left (a INT)", TN_EINVAL, "expected a table name");

	/* after a '.' any word is a name, as in DuckDB: main.left is fine */
	st = parse_ok("CREATE TABLE main.left (a INT)");
	assert_string_equal(st->target.schema, "main");
	assert_string_equal(st->target.name, "left");
	sqlparse_free(st);
}

static void test_create_table_as(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("create table t as select 1 as a -- trailing comment\n");
	assert_int_equal(st->kind, SQL_CREATE_TABLE_AS);
	assert_string_equal(st->body, "select 1 as a");
	assert_int_equal(st->ncolumns, 0);
	sqlparse_free(st);

	st = parse_ok("CREATE TABLE t (a, \"B\") AS FROM x");
	assert_int_equal(st->kind, SQL_CREATE_TABLE_AS);
	assert_int_equal(st->ncolumns, 2);
	assert_string_equal(st->columns[0], "a");
	assert_string_equal(st->columns[1], "B");
	assert_string_equal(st->body, "FROM x");
	sqlparse_free(st);

	parse_fails("CREATE TABLE t AS", TN_EINVAL, "expected a query");
	parse_fails("CREATE TABLE t (a INT) AS SELECT 1", TN_EINVAL, "expected ',' or ')'");
}

static void test_create_view(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("create view if not exists s.v (x, y) as\n"
		      "  with q as (select 1, 2) /* keep me */ select * from q");
	assert_int_equal(st->kind, SQL_CREATE_VIEW);
	assert_true(st->if_not_exists);
	assert_string_equal(st->target.schema, "s");
	assert_string_equal(st->target.name, "v");
	assert_int_equal(st->ncolumns, 2);
	assert_string_equal(st->columns[1], "y");
	assert_string_equal(st->body, "with q as (select 1, 2) /* keep me */ select * from q");
	sqlparse_free(st);

	st = parse_ok("CREATE OR REPLACE VIEW v AS SELECT 1");
	assert_true(st->or_replace);
	assert_int_equal(st->ncolumns, 0);
	sqlparse_free(st);

	parse_fails("CREATE VIEW v SELECT 1", TN_EINVAL, "CREATE VIEW: expected column aliases or AS");
}

/* ------------------------------------------------------------------- DROP */

static void test_drop(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("DROP TABLE IF EXISTS s.t CASCADE");
	assert_int_equal(st->kind, SQL_DROP_TABLE);
	assert_true(st->if_exists);
	assert_true(st->cascade);
	assert_string_equal(st->target.schema, "s");
	assert_string_equal(st->target.name, "t");
	sqlparse_free(st);

	st = parse_ok("drop view v restrict");
	assert_int_equal(st->kind, SQL_DROP_VIEW);
	assert_false(st->if_exists);
	assert_false(st->cascade);
	sqlparse_free(st);

	st = parse_ok("drop schema lake.s");
	assert_int_equal(st->kind, SQL_DROP_SCHEMA);
	assert_string_equal(st->target.catalog, "lake");
	assert_string_equal(st->target.name, "s");
	sqlparse_free(st);

	parse_fails("DROP TABLE a, b", TN_EUNSUPPORTED, "only one object");
	parse_fails("DROP TABLE t PURGE", TN_EINVAL, "expected CASCADE, RESTRICT or end of statement");
}

/* ------------------------------------------------------------ ALTER TABLE */

/* ADD COLUMN with `sql` must read `type`, default `def` and not_null `nn`. */
static void add_column_is(const char *sql, const char *type, const char *def, int nn)
{
	struct sql_stmt *st = parse_ok(sql);

	assert_int_equal(st->kind, SQL_ALTER_TABLE);
	assert_int_equal(st->alter, SQL_ALTER_ADD_COLUMN);
	assert_string_equal(st->column, "c");
	assert_string_equal(st->type, type);
	if (def)
		assert_string_equal(st->default_expr, def);
	else
		assert_null(st->default_expr);
	assert_int_equal(st->not_null, nn);
	sqlparse_free(st);
}

static void test_alter_add(void **state)
{
	struct sql_stmt *st;

	(void)state;
	add_column_is("alter table t add column c STRUCT(a INT, b VARCHAR) default {'a': 1, 'b': 'x'} not null",
		      "STRUCT(a INT, b VARCHAR)", "{'a': 1, 'b': 'x'}", 1);
	add_column_is("ALTER TABLE t ADD c DECIMAL(18,3)", "DECIMAL(18,3)", NULL, 0);
	add_column_is("ALTER TABLE t ADD c INT[] NULL", "INT[]", NULL, 0);
	add_column_is("ALTER TABLE t ADD c MAP(VARCHAR, INT) DEFAULT map()", "MAP(VARCHAR, INT)", "map()", 0);
	add_column_is("ALTER TABLE t ADD c DOUBLE PRECISION NOT NULL DEFAULT 1.5", "DOUBLE PRECISION", "1.5", 1);
	add_column_is("ALTER TABLE t ADD c TIMESTAMP WITH TIME ZONE DEFAULT now()",
		      "TIMESTAMP WITH TIME ZONE", "now()", 0);
	add_column_is("ALTER TABLE t ADD c BOOLEAN DEFAULT a IS NOT NULL NOT NULL", "BOOLEAN", "a IS NOT NULL", 1);

	st = parse_ok("ALTER TABLE IF EXISTS s.t ADD COLUMN IF NOT EXISTS c INT");
	assert_true(st->if_exists);
	assert_true(st->if_not_exists);
	assert_string_equal(st->target.schema, "s");
	sqlparse_free(st);

	parse_fails("ALTER TABLE t ADD c", TN_EINVAL, "ALTER TABLE: expected a column type after ALTER TABLE t ADD c");
	parse_fails("ALTER TABLE t ADD c INT PRIMARY KEY", TN_EUNSUPPORTED, "PRIMARY is not supported");
	parse_fails("ALTER TABLE t ADD PRIMARY KEY (a)", TN_EUNSUPPORTED, "constraints are not supported");
	parse_fails("ALTER TABLE t ADD a INT, ADD b INT", TN_EUNSUPPORTED, "only one change per statement");
	parse_fails("ALTER TABLE t ADD s.f INT", TN_EUNSUPPORTED, "STRUCT");
}

static void test_alter_drop_rename(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("ALTER TABLE t DROP COLUMN IF EXISTS c");
	assert_int_equal(st->alter, SQL_ALTER_DROP_COLUMN);
	assert_true(st->column_if_exists);
	assert_false(st->if_exists);
	assert_string_equal(st->column, "c");
	sqlparse_free(st);

	st = parse_ok("alter table t rename column a to \"B\"");
	assert_int_equal(st->alter, SQL_ALTER_RENAME_COLUMN);
	assert_string_equal(st->column, "a");
	assert_string_equal(st->new_name, "B");
	sqlparse_free(st);

	st = parse_ok("alter table t rename a to b");
	assert_int_equal(st->alter, SQL_ALTER_RENAME_COLUMN);
	assert_string_equal(st->new_name, "b");
	sqlparse_free(st);

	st = parse_ok("ALTER TABLE t RENAME TO t2");
	assert_int_equal(st->alter, SQL_ALTER_RENAME_TABLE);
	assert_null(st->column);
	assert_string_equal(st->new_name, "t2");
	sqlparse_free(st);

	parse_fails("ALTER TABLE t RENAME a b", TN_EINVAL, "expected TO");
	parse_fails("ALTER TABLE t RENAME TO s.t2", TN_EUNSUPPORTED, "another schema");
	parse_fails("ALTER TABLE t FROB", TN_EINVAL, "expected ADD, DROP, RENAME or ALTER");
}

static void test_alter_column(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("ALTER TABLE t ALTER COLUMN c SET DATA TYPE DECIMAL(18, 3)");
	assert_int_equal(st->alter, SQL_ALTER_COLUMN_TYPE);
	assert_string_equal(st->type, "DECIMAL(18, 3)");
	sqlparse_free(st);

	st = parse_ok("alter table t alter c type varchar[]");
	assert_int_equal(st->alter, SQL_ALTER_COLUMN_TYPE);
	assert_string_equal(st->type, "varchar[]");
	sqlparse_free(st);

	st = parse_ok("ALTER TABLE t ALTER c SET DEFAULT 41 + 1 -- answer");
	assert_int_equal(st->alter, SQL_ALTER_SET_DEFAULT);
	assert_string_equal(st->default_expr, "41 + 1");
	sqlparse_free(st);

	assert_int_equal((st = parse_ok("ALTER TABLE t ALTER c DROP DEFAULT"))->alter, SQL_ALTER_DROP_DEFAULT);
	sqlparse_free(st);
	assert_int_equal((st = parse_ok("ALTER TABLE t ALTER c SET NOT NULL"))->alter, SQL_ALTER_SET_NOT_NULL);
	sqlparse_free(st);
	assert_int_equal((st = parse_ok("ALTER TABLE t ALTER c DROP NOT NULL"))->alter, SQL_ALTER_DROP_NOT_NULL);
	sqlparse_free(st);

	parse_fails("ALTER TABLE t ALTER c TYPE INT USING c::INT", TN_EUNSUPPORTED, "USING is not supported");
	parse_fails("ALTER TABLE t ALTER c SET", TN_EINVAL, "expected TYPE, SET DATA TYPE");
	parse_fails("ALTER VIEW v RENAME TO w", TN_EUNSUPPORTED,
		    "ALTER VIEW is not supported; use CREATE OR REPLACE VIEW");
	parse_fails("ALTER TABLE t SET PARTITIONED BY (a)", TN_EUNSUPPORTED, "not supported yet");
}

/* ------------------------------------------------------------- COMMENT ON */

static void test_comment(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("COMMENT ON TABLE s.t IS 'it''s'");
	assert_int_equal(st->kind, SQL_COMMENT);
	assert_int_equal(st->comment_on, SQL_COMMENT_TABLE);
	assert_string_equal(st->target.name, "t");
	assert_string_equal(st->comment, "it's");
	sqlparse_free(st);

	st = parse_ok("comment on view v is E'a\\nb\\x41\\''");
	assert_int_equal(st->comment_on, SQL_COMMENT_VIEW);
	assert_string_equal(st->comment, "a\nbA'");
	sqlparse_free(st);

	st = parse_ok("COMMENT ON SCHEMA s IS $c$ dollar 'quoted' $c$");
	assert_int_equal(st->comment_on, SQL_COMMENT_SCHEMA);
	assert_string_equal(st->comment, " dollar 'quoted' ");
	sqlparse_free(st);

	st = parse_ok("COMMENT ON COLUMN lake.s.t.\"Col\" IS 'first '\n  'second'");
	assert_int_equal(st->comment_on, SQL_COMMENT_COLUMN);
	assert_string_equal(st->target.catalog, "lake");
	assert_string_equal(st->target.schema, "s");
	assert_string_equal(st->target.name, "t");
	assert_string_equal(st->column, "Col");
	assert_string_equal(st->comment, "first second");
	sqlparse_free(st);

	st = parse_ok("COMMENT ON COLUMN t.c IS NULL");
	assert_string_equal(st->target.name, "t");
	assert_null(st->target.schema);
	assert_null(st->comment);
	sqlparse_free(st);

	parse_fails("COMMENT ON COLUMN c IS 'x'", TN_EINVAL, "expected '.' and a column name");
	parse_fails("COMMENT ON TABLE t IS 42", TN_EINVAL, "expected a string literal or NULL");
	parse_fails("COMMENT ON TABLE t 'x'", TN_EINVAL, "expected IS");
}

/* ----------------------------------------------------------------- INSERT */

static void test_insert(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("INSERT INTO s.t VALUES (1, 'a;b'), (2, $$x$$)");
	assert_int_equal(st->kind, SQL_INSERT);
	assert_string_equal(st->target.schema, "s");
	assert_string_equal(st->body, "VALUES (1, 'a;b'), (2, $$x$$)");
	assert_int_equal(st->ncolumns, 0);
	assert_false(st->by_name);
	sqlparse_free(st);

	st = parse_ok("insert into t (a, \"B\") select * from x");
	assert_int_equal(st->ncolumns, 2);
	assert_string_equal(st->columns[1], "B");
	assert_string_equal(st->body, "select * from x");
	sqlparse_free(st);

	st = parse_ok("INSERT INTO t BY NAME (SELECT 1 AS a)");
	assert_true(st->by_name);
	assert_int_equal(st->ncolumns, 0);       /* (SELECT …) is the source */
	assert_string_equal(st->body, "(SELECT 1 AS a)");
	sqlparse_free(st);

	st = parse_ok("INSERT INTO t DEFAULT VALUES");
	assert_null(st->body);
	sqlparse_free(st);

	st = parse_ok("INSERT INTO t WITH q AS (SELECT 1) FROM q");
	assert_string_equal(st->body, "WITH q AS (SELECT 1) FROM q");
	sqlparse_free(st);
}

static void test_insert_errors(void **state)
{
	(void)state;
	parse_fails("INSERT OR REPLACE INTO t VALUES (1)", TN_EUNSUPPORTED, "MERGE INTO");
	parse_fails("insert or ignore into t values (1)", TN_EUNSUPPORTED, "use DELETE then INSERT");
	parse_fails("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING", TN_EUNSUPPORTED, "ON CONFLICT");
	parse_fails("INSERT INTO t VALUES (1) RETURNING *", TN_EUNSUPPORTED, "RETURNING is not supported");
	parse_fails("INSERT INTO t AS x VALUES (1)", TN_EUNSUPPORTED, "alias");
	parse_fails("INSERT t VALUES (1)", TN_EINVAL, "INSERT: expected INTO");
	parse_fails("INSERT INTO t (a, b)", TN_EINVAL, "expected VALUES, SELECT");
	parse_fails("INSERT INTO t BY COLUMN SELECT 1", TN_EINVAL, "expected NAME or POSITION");
}

/* --------------------------------------------------------- DELETE, UPDATE */

static void test_delete(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("DELETE FROM t");
	assert_int_equal(st->kind, SQL_DELETE);
	assert_null(st->body);
	assert_null(st->alias);
	assert_null(st->from);
	sqlparse_free(st);

	st = parse_ok("delete from s.t as x using u join v on u.k = v.k "
		      "where x.a = u.a /* why */ and x.b is distinct from 3");
	assert_string_equal(st->alias, "x");
	assert_string_equal(st->from, "u join v on u.k = v.k");
	assert_string_equal(st->body, "x.a = u.a /* why */ and x.b is distinct from 3");
	sqlparse_free(st);

	st = parse_ok("DELETE FROM t x WHERE a IN (SELECT a FROM u WHERE b = 1)");
	assert_string_equal(st->alias, "x");
	assert_string_equal(st->body, "a IN (SELECT a FROM u WHERE b = 1)");
	sqlparse_free(st);

	st = parse_ok("TRUNCATE TABLE s.t");
	assert_int_equal(st->kind, SQL_DELETE);
	assert_string_equal(st->target.name, "t");
	assert_null(st->body);
	sqlparse_free(st);
	assert_int_equal(kind_of("truncate t"), SQL_DELETE);

	parse_fails("DELETE t WHERE a = 1", TN_EINVAL, "DELETE: expected FROM");
	parse_fails("DELETE FROM t WHERE", TN_EINVAL, "expected a condition");
	parse_fails("DELETE FROM t WHERE a = 1 RETURNING a", TN_EUNSUPPORTED, "RETURNING");
}

static void test_update(void **state)
{
	struct sql_stmt *st;

	(void)state;
	st = parse_ok("UPDATE t SET a = 1, b = coalesce(b, 'x,y'), c = CASE WHEN a > 1 THEN 2 ELSE 3 END "
		      "WHERE a IS DISTINCT FROM 4");
	assert_int_equal(st->kind, SQL_UPDATE);
	assert_int_equal(st->nsets, 3);
	assert_string_equal(st->sets[0].column, "a");
	assert_string_equal(st->sets[0].expr, "1");
	assert_string_equal(st->sets[1].expr, "coalesce(b, 'x,y')");
	assert_string_equal(st->sets[2].expr, "CASE WHEN a > 1 THEN 2 ELSE 3 END");
	assert_string_equal(st->body, "a IS DISTINCT FROM 4");
	assert_null(st->from);
	sqlparse_free(st);

	st = parse_ok("update s.t as x set a=-1, b = [1, 2], c = {'k': 1, 'j': 2} from u where x.id = u.id");
	assert_string_equal(st->alias, "x");
	assert_int_equal(st->nsets, 3);
	assert_string_equal(st->sets[0].expr, "-1");
	assert_string_equal(st->sets[1].expr, "[1, 2]");
	assert_string_equal(st->sets[2].expr, "{'k': 1, 'j': 2}");
	assert_string_equal(st->from, "u");
	assert_string_equal(st->body, "x.id = u.id");
	sqlparse_free(st);

	st = parse_ok("UPDATE t SET \"Y\" = extract(year FROM d) - a IS DISTINCT FROM b");
	assert_string_equal(st->sets[0].column, "Y");
	assert_string_equal(st->sets[0].expr, "extract(year FROM d) - a IS DISTINCT FROM b");
	assert_null(st->body);
	sqlparse_free(st);
}

static void test_update_errors(void **state)
{
	(void)state;
	parse_fails("UPDATE t WHERE a = 1", TN_EINVAL, "UPDATE: expected SET");
	parse_fails("UPDATE t SET (a, b) = (1, 2)", TN_EUNSUPPORTED, "SET (a, b)");
	parse_fails("UPDATE t SET a", TN_EINVAL, "expected '='");
	parse_fails("UPDATE t SET left = 1", TN_EINVAL, "expected a column name");
	parse_fails("UPDATE t SET a = , b = 2", TN_EINVAL, "expected an expression after UPDATE t SET a =");
	parse_fails("UPDATE t SET a = 1 RETURNING *", TN_EUNSUPPORTED, "RETURNING");
	parse_fails("UPDATE t SET a = 1 WHERE", TN_EINVAL, "expected a condition");
}

static void test_error_location(void **state)
{
	struct sql_stmt *st = NULL;
	struct tn_err err = TN_ERR_INIT;

	(void)state;
	assert_int_equal(sqlparse_parse("UPDATE t\nSET a = 1,\n  = 2", &st, &err), TN_EINVAL);
	assert_null(st);
	assert_non_null(strstr(err.msg, "found '=' at line 3"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_basic),
		cmocka_unit_test(test_split_quotes),
		cmocka_unit_test(test_split_comments),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_is_complete),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_create_schema),
		cmocka_unit_test(test_create_table),
		cmocka_unit_test(test_create_table_as),
		cmocka_unit_test(test_create_view),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_alter_add),
		cmocka_unit_test(test_alter_drop_rename),
		cmocka_unit_test(test_alter_column),
		cmocka_unit_test(test_comment),
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_insert_errors),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_update_errors),
		cmocka_unit_test(test_error_location),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
