/*
 * ingest_int.h: what ingest.c (landing versions) and ingest_zone.c
 * (listing, pruning, opening versions) share. Not for other files.
 */
#ifndef INGEST_INT_H
#define INGEST_INT_H

#include "base/tn_err.h"

/* The staging folders of running ingestions live here, inside <raw>. */
#define INGEST_TMP_DIR ".tmp"
/* The lock that serialises manifest updates of one raw zone. */
#define INGEST_LOCK_FILE ".lock"

/* Take the raw zone's lock (flock on <raw>/.lock, created if missing);
 * *fd is what ingest_unlock releases. */
int ingest_lock(const char *raw, int *fd, struct tn_err *err);
void ingest_unlock(int fd);

/* <raw>/<dataset>/manifest.json; owned. */
char *ingest_manifest_path(const char *raw, const char *dataset);

/* 1 when the folder tree at `path` holds no file (only folders). */
int ingest_tree_empty(const char *path);

#endif
