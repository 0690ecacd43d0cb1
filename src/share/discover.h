/*
 * discover: the queries behind `tarn catalog ls` and `tarn catalog search`,
 * built as SQL over tarn's introspection functions (tarn_tables(),
 * tarn_columns(), tarn_snapshots()) so that they run in any session and
 * print in every output format. Values from the user go in as SQL string
 * literals only. Pure functions; thread-safe.
 */
#ifndef DISCOVER_H
#define DISCOVER_H

#include <stddef.h>
#include "base/tn_err.h"

/*
 * Tables and views (of `schema`, or all when NULL) with their description
 * (the comment), rows, bytes, columns and last change (the newest snapshot
 * whose changes name the object, and its time). Columns: schema_name,
 * name, kind, description, rows, bytes, columns, last_snapshot,
 * last_change. *sql is owned (tn_free).
 */
int discover_ls_sql(const char *schema, char **sql, struct tn_err *err);

/*
 * Tables, views and columns that match any of `words` (case-insensitive
 * substrings) in their name or description, best first: objects matching
 * more words rank higher, then by score (a whole-name match 10, a name
 * containing the word 5, the description 3, for a column its table's name
 * 2). Columns: kind, schema_name, table_name, column_name, column_type,
 * description, matched, score. TN_EINVAL when no word is given.
 */
int discover_search_sql(char **words, size_t nwords, char **sql, struct tn_err *err);

#endif
