/*
 * tarn_commits: one writer of the commit benchmark (bench/bench_commits.sh).
 * Opens a session on LAKE and makes N single-row INSERT commits into
 * TABLE (writer, seq), timing each one. Prints the monotonic start and end
 * times, then every latency in microseconds, one per line, so the script
 * can add up throughput over writers and take percentiles.
 * usage: tarn_commits LAKE TABLE WRITER N
 */
#include "base/compat.h"
#include "base/tn_err.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"
#include "lake/lake.h"
#include "lake/session.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct tn_err err = TN_ERR_INIT;
	struct lake *lk = NULL;
	struct session *s = NULL;
	double t0, t1, *lat;
	char sql[256];
	long i, n, w;

	if (argc != 5) {
		fprintf(stderr, "usage: tarn_commits LAKE TABLE WRITER N\n");
		return 2;
	}
	w = strtol(argv[3], NULL, 10);
	n = strtol(argv[4], NULL, 10);
	if (n <= 0 || lake_open_warm(&lk, argv[1], &err) || session_open(&s, lk, &err)) {
		fprintf(stderr, "tarn_commits: %s\n", err.msg[0] ? err.msg : "bad N");
		return 1;
	}
	lat = tn_calloc((size_t)n, sizeof(*lat));
	t0 = tn_mono();
	for (i = 0; i < n; i++) {
		double a = tn_mono();
		snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES (%ld, %ld)", argv[2], w, i);
		if (session_exec(s, sql, NULL, &err)) {
			fprintf(stderr, "tarn_commits: writer %ld, commit %ld: %s\n", w, i, err.msg);
			return 1;
		}
		lat[i] = tn_mono() - a;
	}
	t1 = tn_mono();
	printf("start %.6f\nend %.6f\n", t0, t1);
	for (i = 0; i < n; i++)
		printf("%.0f\n", lat[i] * 1e6);
	tn_free(lat);
	session_close(s);
	lake_close(lk);
	return 0;
}
