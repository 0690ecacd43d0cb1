/*
 * tarn_plan: the tarn side of the planning benchmark (bench/bench_plan.sh).
 * REPS times: open the lake and a session, run SQL (an EXPLAIN), close;
 * prints the median milliseconds of the open, of the statement and of both.
 * usage: tarn_plan LAKE SQL REPS
 */
#include "base/compat.h"
#include "base/tn_err.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"
#include "engine/duck.h"
#include "lake/lake.h"
#include "lake/session.h"

#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2] * 1e3;
}

int main(int argc, char **argv)
{
	struct tn_err err = TN_ERR_INIT;
	double *open_t, *plan_t, *all_t;
	long r, reps;

	if (argc != 4 || (reps = strtol(argv[3], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: tarn_plan LAKE SQL REPS\n");
		return 2;
	}
	open_t = tn_calloc((size_t)reps, sizeof(double));
	plan_t = tn_calloc((size_t)reps, sizeof(double));
	all_t = tn_calloc((size_t)reps, sizeof(double));
	for (r = 0; r < reps; r++) {
		struct lake *lk = NULL;
		struct session *s = NULL;
		struct duck_result *res = NULL;
		double a = tn_mono(), b, c;
		if (lake_open_warm(&lk, argv[1], &err) || session_open(&s, lk, &err)) {
			fprintf(stderr, "tarn_plan: %s\n", err.msg);
			return 1;
		}
		b = tn_mono();
		if (session_exec(s, argv[2], &res, &err)) {
			fprintf(stderr, "tarn_plan: %s\n", err.msg);
			return 1;
		}
		c = tn_mono();
		if (r == 0 && getenv("TARN_PLAN_SHOW")) {
			char *txt = duck_result_text(res, duck_result_ncols(res) - 1, 0);
			fprintf(stderr, "%s\n", txt ? txt : "");
			tn_free(txt);
		}
		duck_result_free(res);
		session_close(s);
		lake_close(lk);
		open_t[r] = b - a;
		plan_t[r] = c - b;
		all_t[r] = c - a;
	}
	printf("%.1f %.1f %.1f\n", median(open_t, reps), median(plan_t, reps), median(all_t, reps));
	tn_free(open_t);
	tn_free(plan_t);
	tn_free(all_t);
	return 0;
}
