/*
 * sqlparse: tarn's own reader for the statements DuckDB will not serialize.
 * DuckDB hands out a parse tree only for SELECT, so tarn splits scripts into
 * statements and reads the heads of DDL/DML itself (target table, column
 * list, SET list, WHERE text), with a real lexer: quoted identifiers, string
 * literals (incl. E'' escapes), dollar quotes, -- and block comments,
 * nested parentheses. Expressions are kept as source text and handed to
 * DuckDB. Anything tarn does not support gets a clear error, never a guess.
 */
#ifndef SQLPARSE_H
#define SQLPARSE_H

#include <stddef.h>
#include "base/tn_err.h"

enum sql_kind {
	SQL_QUERY,          /* SELECT / WITH / FROM / VALUES / TABLE / (…): rewritten and run in DuckDB */
	SQL_PASSTHROUGH,    /* anything else DuckDB may run as is (SET, PRAGMA, SHOW, DESCRIBE,
			     * EXPLAIN, COPY, CREATE TEMP …, CREATE MACRO …, SUMMARIZE, CALL …) */
	SQL_BEGIN, SQL_COMMIT, SQL_ROLLBACK,
	SQL_CREATE_SCHEMA, SQL_CREATE_TABLE, SQL_CREATE_TABLE_AS, SQL_CREATE_VIEW,
	SQL_DROP_TABLE, SQL_DROP_VIEW, SQL_DROP_SCHEMA,
	SQL_ALTER_TABLE, SQL_COMMENT,
	SQL_INSERT, SQL_DELETE, SQL_UPDATE,
	SQL_COPY_FROM,      /* COPY t [(cols)] FROM …: body = "FROM …" */
	SQL_MERGE           /* MERGE INTO t [AS a] USING …: body = "USING …" */
};

enum sql_alter {
	SQL_ALTER_ADD_COLUMN, SQL_ALTER_DROP_COLUMN, SQL_ALTER_RENAME_COLUMN, SQL_ALTER_RENAME_TABLE,
	SQL_ALTER_COLUMN_TYPE, SQL_ALTER_SET_DEFAULT, SQL_ALTER_DROP_DEFAULT,
	SQL_ALTER_SET_NOT_NULL, SQL_ALTER_DROP_NOT_NULL
};

enum sql_comment_on { SQL_COMMENT_TABLE, SQL_COMMENT_VIEW, SQL_COMMENT_COLUMN, SQL_COMMENT_SCHEMA };

/* A possibly qualified name, unquoted ("My ""x""" -> My "x"); NULL parts absent. */
struct sql_name {
	char *catalog;
	char *schema;
	char *name;
};

struct sql_set {           /* UPDATE … SET column = expr */
	char *column;
	char *expr;        /* source text of the expression */
};

struct sql_stmt {
	enum sql_kind kind;
	char *text;              /* the whole statement, trimmed, no trailing ';' */
	struct sql_name target;  /* table / view / schema (for schema: name holds it) */
	int if_exists, if_not_exists, or_replace, cascade;

	/* CREATE TABLE: "(a INT, b VARCHAR DEFAULT 'x', …)" including parens.
	 * CREATE TABLE AS / CREATE VIEW: the query text.
	 * INSERT: the source text ("VALUES …", "SELECT …", "WITH …", "FROM …"),
	 *         NULL for DEFAULT VALUES.
	 * DELETE / UPDATE: the WHERE condition text, NULL when there is none. */
	char *body;
	char **columns;          /* INSERT column list / CREATE VIEW column aliases */
	size_t ncolumns;
	int by_name;             /* INSERT INTO t BY NAME … */

	char *alias;             /* DELETE/UPDATE target alias (… AS a) */
	struct sql_set *sets;    /* UPDATE */
	size_t nsets;
	char *from;              /* UPDATE … FROM <text> / DELETE … USING <text>; NULL if none */

	/* ALTER TABLE (if_exists: ALTER TABLE IF EXISTS t; if_not_exists: ADD COLUMN IF NOT EXISTS) */
	enum sql_alter alter;
	int column_if_exists;    /* DROP COLUMN IF EXISTS c */
	char *column;            /* column to add/drop/rename/alter; COMMENT ON COLUMN column */
	char *new_name;          /* RENAME … TO new_name */
	char *type;              /* ADD COLUMN / ALTER … TYPE: type text */
	char *default_expr;      /* ADD COLUMN … DEFAULT x / SET DEFAULT x: expression text */
	int not_null;            /* ADD COLUMN … NOT NULL */

	/* COMMENT ON */
	enum sql_comment_on comment_on;
	char *comment;           /* the comment text unquoted; NULL for IS NULL */
};

/* Split a script into statements (trimmed, without ';'; empty ones dropped).
 * Trimming also drops comments before the first and after the last token.
 * *stmts is an owned array of owned strings; free with sqlparse_free_list. */
int sqlparse_split(const char *sql, char ***stmts, size_t *n, struct tn_err *err);
void sqlparse_free_list(char **stmts, size_t n);

/* 1 if `sql` ends a statement: a ';' outside quotes, comments and dollar
 * quotes, followed only by blanks/comments (the interactive shell asks). */
int sqlparse_is_complete(const char *sql);

/* Read one statement. Unsupported forms of lake statements (e.g. INSERT OR
 * REPLACE, RETURNING, DROP … CASCADE of a table) give TN_EUNSUPPORTED with a
 * message that says what is not supported and what to do instead. */
int sqlparse_parse(const char *stmt, struct sql_stmt **out, struct tn_err *err);
void sqlparse_free(struct sql_stmt *st);

#endif
