/*
 * load_int.h: what load.c (raw datasets) and load_duckdb.c (DuckDB files)
 * share, defined in load_sql.c: running SQL on the session and building
 * the report.
 */
#ifndef LOAD_INT_H
#define LOAD_INT_H

#include "ingest/load.h"
#include "base/tn_buf.h"
#include "engine/duck.h"

/* Run SQL on the session (tn_buf checked first); *res optional. */
int load_exec(struct session *s, struct tn_buf *q, struct duck_result **res, struct tn_err *err);
/* Run a query returning one integer (first column of the first row). */
int load_int(struct session *s, struct tn_buf *q, int64_t *out, struct tn_err *err);
/* ROLLBACK, keeping the first error. */
void load_rollback(struct session *s);
/* 1 when schema.table is a lake table. */
int load_table_exists(struct session *s, const char *schema, const char *table, int *exists,
		      struct tn_err *err);
/* Append "schema"."table" quoted. */
void load_add_name(struct tn_buf *b, const char *schema, const char *table);
/* A new report row for schema.table; borrowed. */
struct load_table *load_report_add(struct load_report *r, const char *schema, const char *table);
/* Tell the caller something (skipped files ...). */
void load_note(load_note_fn *fn, void *arg, const char *fmt, ...) TN_PRINTF(3, 4);
/* DuckDB's messages run over several lines of hints: keep the first
 * paragraph, on one line. */
void load_trim_message(char *msg);

#endif
