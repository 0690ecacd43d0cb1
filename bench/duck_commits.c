/*
 * duck_commits: the DuckDB side of the small-commit benchmark: N single-row
 * INSERTs, each its own durable commit, into a DuckDB database file.
 * usage: duck_commits DBFILE N   (prints commits per second)
 */
#define _POSIX_C_SOURCE 200809L
#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_result res;
	struct timespec a, b;
	char sql[256];
	int i, n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 1000;

	if (argc < 2 || duckdb_open(argv[1], &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError) {
		fprintf(stderr, "usage: duck_commits DBFILE [N]\n");
		return 2;
	}
	duckdb_query(con, "CREATE TABLE t (id BIGINT, g INTEGER, v DOUBLE, s VARCHAR)", &res);
	duckdb_destroy_result(&res);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO t VALUES (%d, 1, 1.0, 'x')", i);
		if (duckdb_query(con, sql, &res) == DuckDBError) {
			fprintf(stderr, "%s\n", duckdb_result_error(&res));
			return 1;
		}
		duckdb_destroy_result(&res);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.0f\n", n / ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9));
	duckdb_disconnect(&con);
	duckdb_close(&db);
	return 0;
}
