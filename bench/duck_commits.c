/*
 * duck_commits: the DuckDB side of the small-commit benchmarks: N single-row
 * INSERTs, each its own durable commit, into a native table of a DuckDB
 * database file.
 *   duck_commits DBFILE N            one connection; prints commits per second
 *   duck_commits DBFILE N THREADS    THREADS connections in parallel, N commits
 *                                    each; prints "commits/s p99_latency_us"
 *                                    and checks that every row is there
 */
#define _POSIX_C_SOURCE 200809L
#include <duckdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct writer {
	duckdb_database db;
	int id, n, failed;
	double *lat;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	struct writer *w = arg;
	duckdb_connection con;
	duckdb_result res;
	char sql[256];
	int i;

	if (duckdb_connect(w->db, &con) == DuckDBError) {
		w->failed = 1;
		return NULL;
	}
	for (i = 0; i < w->n; i++) {
		double a = now();
		snprintf(sql, sizeof(sql), "INSERT INTO t VALUES (%d, %d, 1.0, 'x')", i, w->id);
		if (duckdb_query(con, sql, &res) == DuckDBError) {
			fprintf(stderr, "%s\n", duckdb_result_error(&res));
			w->failed = 1;
		}
		duckdb_destroy_result(&res);
		w->lat[i] = now() - a;
	}
	duckdb_disconnect(&con);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_result res;
	int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 1000;
	int k, nt = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 0, threads = nt > 0 ? nt : 1;
	struct writer *w = calloc((size_t)threads, sizeof(*w));
	pthread_t *tid = calloc((size_t)threads, sizeof(*tid));
	double *all = calloc((size_t)threads * (size_t)n, sizeof(*all)), a, b;
	long long rows = -1;

	if (argc < 2 || n <= 0 || !w || !tid || !all || duckdb_open(argv[1], &db) == DuckDBError ||
	    duckdb_connect(db, &con) == DuckDBError) {
		fprintf(stderr, "usage: duck_commits DBFILE [N [THREADS]]\n");
		return 2;
	}
	duckdb_query(con, "CREATE TABLE t (id BIGINT, g INTEGER, v DOUBLE, s VARCHAR)", &res);
	duckdb_destroy_result(&res);
	a = now();
	for (k = 0; k < threads; k++) {
		w[k].db = db;
		w[k].id = k;
		w[k].n = n;
		w[k].lat = all + (size_t)k * (size_t)n;
		pthread_create(&tid[k], NULL, run, &w[k]);
	}
	for (k = 0; k < threads; k++)
		pthread_join(tid[k], NULL);
	b = now();
	for (k = 0; k < threads; k++)
		if (w[k].failed)
			return 1;
	if (nt == 0) {
		printf("%.0f\n", n / (b - a));
	} else {
		if (duckdb_query(con, "SELECT count(*) FROM t", &res) != DuckDBError)
			rows = (long long)duckdb_value_int64(&res, 0, 0);
		duckdb_destroy_result(&res);
		qsort(all, (size_t)threads * (size_t)n, sizeof(*all), cmp);
		printf("%.0f %.0f\n", (double)threads * n / (b - a), all[(size_t)((double)threads * n * 0.99)] * 1e6);
		if (rows != (long long)threads * n) {
			fprintf(stderr, "duck_commits: %lld rows, wanted %lld\n", rows, (long long)threads * n);
			return 1;
		}
	}
	duckdb_disconnect(&con);
	duckdb_close(&db);
	free(all);
	free(tid);
	free(w);
	return 0;
}
