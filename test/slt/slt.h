/*
 * slt.h: internals of tarn-slt, tarn's sqllogictest runner. A test file is
 * parsed whole into a tree of records (slt_parse.c), then run record by
 * record against an engine adapter (slt_run.c, slt_engine.c); query results
 * are rendered, sorted, hashed and compared in slt_result.c. The dialect is
 * DuckDB's as described in STYLE.md §4, minus concurrent loops, <FILE>: and set.
 */
#ifndef SLT_H
#define SLT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "base/tn_err.h"
#include "engine/duck.h"

/* ---- engine adapters (slt_engine.c) ---- */

struct slt_engine;
struct slt_conn;

/*
 * An engine under test. The runner owns the connections: it closes all of
 * them before restart() and close(), and opens new ones with connect().
 * exec() runs SQL; on success *res (when res is not NULL) is the result of
 * the last statement, owned by the caller; on failure err says why.
 */
struct slt_engine_ops {
	const char *name;            /* "tarn", "duckdb": the skipif/onlyif name */
	const char *const *features; /* `require` keys satisfied; NULL-terminated */
	int (*open)(struct slt_engine **out, const char *test_dir, struct tn_err *err);
	int (*connect)(struct slt_engine *e, struct slt_conn **out, struct tn_err *err);
	int (*exec)(struct slt_conn *c, const char *sql, struct duck_result **res,
		    struct tn_err *err);
	void (*disconnect)(struct slt_conn *c);
	/* Reopen the stored database (a durability check); no connection is open. */
	int (*restart)(struct slt_engine *e, struct tn_err *err);
	void (*close)(struct slt_engine *e);
};

/* The adapter called `name`, or NULL. */
const struct slt_engine_ops *slt_engine_find(const char *name);
/* "tarn|duckdb", for usage messages. */
const char *slt_engine_names(void);

/* ---- the parsed file (slt_parse.c) ---- */

/* A list of owned strings. */
struct slt_lines {
	char **v;
	size_t n, alloc;
};

void slt_lines_add(struct slt_lines *l, const char *s, size_t len);
void slt_lines_release(struct slt_lines *l);

enum slt_kind {
	SLT_STATEMENT,
	SLT_QUERY,
	SLT_HASH_THRESHOLD,
	SLT_HALT,
	SLT_REQUIRE,
	SLT_REQUIRE_ENV,
	SLT_LOOP,
	SLT_FOREACH,
	SLT_MODE,
	SLT_RESTART,
	SLT_RECONNECT,
	SLT_LOAD,
	SLT_SLEEP,
	SLT_KIND_COUNT
};

enum slt_expect { SLT_EXPECT_OK, SLT_EXPECT_ERROR, SLT_EXPECT_MAYBE };
enum slt_sort { SLT_NOSORT, SLT_ROWSORT, SLT_VALUESORT };

struct slt_cond {
	int onlyif;   /* 1 = onlyif, 0 = skipif */
	char *engine;
};

struct slt_record;

struct slt_script {
	struct slt_record *v;
	size_t n, alloc;
};

struct slt_record {
	enum slt_kind kind;
	int line;                 /* 1-based line of the command in the file */
	struct slt_cond *cond;    /* skipif/onlyif lines before the command */
	size_t ncond;
	struct slt_lines args;    /* tokens of the command line; args.v[0] is the command */
	/* statement and query */
	char *sql;
	char *conn;               /* named connection, NULL = the default one */
	int has_result;           /* a ---- line was present */
	struct slt_lines result;  /* lines after ----: error message or expected values */
	enum slt_expect expect;   /* statement */
	size_t ncol;              /* query: number of type letters */
	enum slt_sort sort;       /* query */
	char *label;              /* query, or NULL */
	/* loop and foreach */
	struct slt_lines names;   /* variable names (foreach a,b binds two) */
	struct slt_lines values;  /* foreach: values, presets expanded */
	struct slt_script body;
};

/*
 * Parse the test file at `path` into *out (caller releases it with
 * slt_script_release, also on failure). Errors in the file itself fail with
 * a message "path:line: what" in err.
 */
int slt_parse(const char *path, struct slt_script *out, struct tn_err *err);
void slt_script_release(struct slt_script *s);

/* ---- results (slt_result.c) ---- */

/* A table of rendered values, row-major; every value owned and not NULL. */
struct slt_values {
	char **v;
	size_t nrows, ncol;
	enum duck_kind *kind;     /* per column; NULL for expected values */
};

#define SLT_MD5_HEX 33

/* Render a query result: NULL -> "NULL", "" -> "(empty)", booleans true/false. */
void slt_values_from_result(struct slt_values *out, struct duck_result *res);
/*
 * Split an expected block into values for `ncol` columns: row-wise (tab
 * separated) when ncol > 1 and there is one line per actual row or every
 * line holds a tab, else one value per line. Fails when the block does not
 * fit the column count.
 */
int slt_values_from_expected(struct slt_values *out, const struct slt_lines *lines,
			     size_t ncol, size_t actual_rows, struct tn_err *err);
void slt_values_release(struct slt_values *v);
void slt_values_sort(struct slt_values *v, enum slt_sort sort);
/* MD5 over every value followed by "\n", as 32 lowercase hex digits. */
void slt_values_md5(const struct slt_values *v, char out[SLT_MD5_HEX]);
/* "N values hashing to <md5>"; caller frees. */
char *slt_values_hash_line(const struct slt_values *v);
/* Print up to `max_rows` rows, tab separated, each line prefixed by `indent`. */
void slt_values_print(FILE *f, const struct slt_values *v, size_t max_rows, const char *indent);

/* 1 when `s` is a line "N values hashing to <32 hex>". */
int slt_is_hash_line(const char *s);
/*
 * 1 when the expected value `exp` stands for the actual value `act` of a
 * column of `kind`: same text, <REGEX>:/<!REGEX>: match, or equal as numbers
 * or booleans. A bad regex is an error.
 */
int slt_value_equal(const char *exp, const char *act, enum duck_kind kind, struct tn_err *err);
/*
 * Does `text` match an expected error or value `pattern`? Plain patterns are
 * substrings; <REGEX>:re must match all of text, <!REGEX>:re must not.
 * Sets *match; a bad regex is an error.
 */
int slt_text_matches(const char *pattern, const char *text, int substring, int *match,
		     struct tn_err *err);

/* ---- running (slt_run.c) ---- */

struct slt_opts {
	const struct slt_engine_ops *ops;
	int verbose;
	int keep;                 /* keep __TEST_DIR__ after the run */
};

struct slt_counts {
	size_t passed, failed, skipped;
};

/* Run one test file, adding its records to *cnt. */
void slt_run_file(const char *path, const struct slt_opts *o, struct slt_counts *cnt);

#endif
