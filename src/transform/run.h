/*
 * run: building a project's nodes in a lake. Each model or seed is one
 * snapshot (one BEGIN ... COMMIT through its own session) whose commit
 * message names the run and the node; independent nodes build in
 * parallel, one session per worker thread; a node whose upstream failed
 * is skipped and the rest go on. Tests are queries that return failing
 * rows. Every run is recorded in the lake, in tarn_meta.runs and
 * tarn_meta.run_models, so "what did this run change" is a query.
 */
#ifndef RUN_H
#define RUN_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"
#include "transform/project.h"

struct lake;
struct session;

enum tf_step { TF_STEP_SEED = 1, TF_STEP_MODEL = 2, TF_STEP_TEST = 4, TF_STEP_SNAPSHOT = 8 };

struct tf_result {
	char *node;        /* model, seed or test name */
	char *kind;        /* "seed", "model", "snapshot", "test" */
	char *status;      /* success, error, skipped, pass, fail, warn */
	int64_t rows;      /* rows written, failing rows of a test; -1 = none */
	double seconds;
	int64_t snapshot;  /* the snapshot it made; -1 = none */
	char *message;     /* error text, or a sample of failing rows */
};

struct tf_results {
	char *run_id;
	struct tf_result *r;
	size_t n, alloc;
	int failed;        /* errors and failed tests */
	int warned;        /* tests of severity warn that found rows */
};

typedef void tf_event_fn(void *arg, const struct tf_result *r);

struct tf_run_opts {
	const char *command;   /* "run", "build", "seed", "test", "transform" */
	const char *select;    /* NULL = everything */
	unsigned steps;        /* TF_STEP_* */
	int threads;           /* >= 1 */
	int full_refresh;
	int record;            /* write tarn_meta.runs / run_models */
	struct session *session; /* the caller's, used by one worker and for the
				  * tests and history (may be NULL) */
	tf_event_fn *event;    /* called as each node finishes (any thread, serialised) */
	void *event_arg;
};

int tf_run(struct lake *lk, const struct tf_project *p, const struct tf_run_opts *o, struct tf_results *res,
	   struct tn_err *err);
void tf_results_release(struct tf_results *r);

/* The tests `tarn test --select select` runs, in its order (the generic
 * tests of the selected nodes, then the singular tests that read them),
 * each as its name and the query that returns its failing rows; stops at
 * the first fn that fails. */
typedef int tf_test_fn(void *arg, const char *name, const char *sql);
int tf_tests_each(const struct tf_project *p, const char *select, tf_test_fn *fn, void *arg, struct tn_err *err);

/* Models downstream of the sources whose `meta: {dataset: D}` is D, as a
 * selection string ("+a b c" style, owned); NULL when none. */
char *tf_dataset_selection(const struct tf_project *p, const char *dataset);

#endif
