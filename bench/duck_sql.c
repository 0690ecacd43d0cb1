/*
 * duck_sql: DuckDB itself running a SQL file, for benchmarks that compare
 * tarn with plain DuckDB doing the same work (run by hand, not in CI).
 *   duck_sql DBFILE|:memory: run FILE.sql    run every statement, print seconds
 *   duck_sql :memory: parse FILE.sql         only split and parse, print seconds
 */
#define _POSIX_C_SOURCE 200809L
#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	char *buf;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		return NULL;
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_extracted_statements st = NULL;
	char *sql;
	idx_t n, i;
	double t0;
	int rc = 0;

	if (argc != 4 || (strcmp(argv[2], "run") && strcmp(argv[2], "parse"))) {
		fprintf(stderr, "usage: duck_sql DBFILE|:memory: run|parse FILE.sql\n");
		return 2;
	}
	sql = slurp(argv[3]);
	if (!sql || duckdb_open(strcmp(argv[1], ":memory:") ? argv[1] : NULL, &db) == DuckDBError ||
	    duckdb_connect(db, &con) == DuckDBError) {
		fprintf(stderr, "duck_sql: cannot start\n");
		return 1;
	}
	t0 = now();
	n = duckdb_extract_statements(con, sql, &st);
	for (i = 0; !strcmp(argv[2], "run") && i < n && !rc; i++) {
		duckdb_prepared_statement p = NULL;
		duckdb_result r;
		if (duckdb_prepare_extracted_statement(con, st, i, &p) == DuckDBError) {
			fprintf(stderr, "duck_sql: %s\n", duckdb_prepare_error(p));
			rc = 1;
		} else if (duckdb_execute_prepared(p, &r) == DuckDBError) {
			fprintf(stderr, "duck_sql: %s\n", duckdb_result_error(&r));
			rc = 1;
			duckdb_destroy_result(&r);
		} else {
			duckdb_destroy_result(&r);
		}
		duckdb_destroy_prepare(&p);
	}
	printf("%.4f\n", now() - t0);
	duckdb_destroy_extracted(&st);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	free(sql);
	return rc;
}
