/*
 * snapshot: `tarn snapshot`, SCD2 history tables from snapshots/NAME.sql
 * (see snapshot.c for the config keys). Each snapshot file is one lake
 * commit per run.
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stdint.h>
#include "base/tn_err.h"
#include "transform/project.h"

struct session;

/* Called after each snapshot: error is NULL on success. */
typedef void tf_snap_event_fn(void *arg, const char *name, const char *error, int64_t rows, double secs);

/* Run snapshot node i (kind TF_SNAPSHOT) as one lake commit whose message
 * names run_id; *rows is the table's row count after it. */
int tf_snapshot_node(struct session *ss, const struct tf_project *p, size_t i, const char *run_id, int64_t *rows,
		     struct tn_err *err);

/* Run every snapshot of the project (or only the one named `only`) on
 * session ss; *failed counts the ones that failed (the others still run). */
int tf_snapshot_run(struct session *ss, const struct tf_project *p, const char *only, tf_snap_event_fn *ev,
		    void *arg, int *failed, struct tn_err *err);

#endif
