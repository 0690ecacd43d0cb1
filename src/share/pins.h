/*
 * pins: lake tables as a pins board (api_version 1) that R's and Python's
 * `pins` packages read with board_folder(): one folder per pin, one
 * version folder per write named YYYYMMDDTHHMMSSZ-<first 5 hex digits of
 * the XXH64 of the data file>, holding the data file <pin>.parquet (or
 * .csv) and data.txt (YAML metadata: title, the table comment as
 * description, the column comments under `user`), and _pins.yaml at the
 * root listing every pin's versions. The data file is written before
 * data.txt, and _pins.yaml last, because readers take a version to exist
 * once its data.txt does. Names YAML would misread (y, no, 1e3, ...) are
 * quoted.
 * Not thread-safe: one call at a time per session.
 */
#ifndef PINS_H
#define PINS_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

struct session;

/* The board manifest at the root of a board. */
#define PINS_MANIFEST "_pins.yaml"

struct pins_opts {
	/* Tables to pin: "SCHEMA.TABLE", or "TABLE" for main.TABLE, each
	 * optionally followed by "=PIN" to choose the pin name (default: the
	 * table name). */
	char **tables;
	size_t ntables;
	const char *type;   /* "parquet" (NULL = parquet) or "csv" */
	int force;          /* write a version even when the data is identical to the newest */
};

/* One pin written (or found unchanged); strings owned. */
struct pins_result {
	char *pin, *table;      /* pin name, "schema.table" */
	char *version;          /* version folder name */
	int64_t rows, bytes;
	int unchanged;          /* identical to the newest version: nothing written */
};

/*
 * Write a new version of each table in o->tables to the board `board`:
 * a folder (created if missing) or an "s3://bucket/prefix/" URL (the S3_*
 * settings of the lake's bucket apply; see store.h) from session `s` of the lake in `lake_dir`,
 * all read at one snapshot, then refresh _pins.yaml. Pin names must be
 * 1..128 letters, digits, '_', '-' or '.', not starting with '.'
 * (TN_EINVAL otherwise, before anything is written).
 * *out lists what happened to each pin (release with pins_results_free).
 */
int pins_write(struct session *s, const char *lake_dir, const char *board, const struct pins_opts *o,
	       struct pins_result **out, size_t *n, struct tn_err *err);
void pins_results_free(struct pins_result *r, size_t n);

#endif
