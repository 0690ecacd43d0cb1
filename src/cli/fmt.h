/*
 * fmt: prints a query result for people (a boxed table) or for programs
 * (CSV, a JSON array, JSON lines). Output streams row by row to a FILE; the
 * table style reads the result twice (widths first) but never holds more
 * than one cell at a time.
 */
#ifndef FMT_H
#define FMT_H

#include <stdio.h>
#include "base/tn_err.h"
#include "engine/duck.h"

enum fmt_style {
	FMT_TABLE,
	FMT_CSV,
	FMT_JSON,
	FMT_JSONL
};

/* The names fmt_style_parse accepts, for messages. */
#define FMT_STYLE_NAMES "table, csv, json, jsonl"

/* Widest cell of the table style, in code points; longer values end in '…'. */
#define FMT_CELL_MAX 80

/* Name to style; 0 on success, TN_EINVAL (and *out untouched) otherwise. */
int fmt_style_parse(const char *name, enum fmt_style *out);
/* Style to its name ("table" ...); a static string. */
const char *fmt_style_name(enum fmt_style st);

/*
 * Print every row of `r` to `f` in style `st`:
 *   table  a box with a header, numbers right-aligned, NULL as NULL, control
 *          characters escaped, cells cut at FMT_CELL_MAX; footer "(N rows)".
 *   csv    RFC 4180 fields with a header row and "\n" line ends; NULL is an
 *          empty field, the empty string is "".
 *   json   one array of objects; numbers and booleans bare, NULL as null,
 *          everything else (NaN, dates, nested values ...) as strings.
 *   jsonl  one object per line.
 * `r` is borrowed (not freed); a NULL result or one without columns (SET,
 * say) prints nothing. Returns TN_EIO with the errno text when `f`
 * reports a write error; output may then be partial.
 */
int fmt_result(FILE *f, struct duck_result *r, enum fmt_style st, struct tn_err *err);

/* Write `s` as one CSV field (quoted when needed); NULL writes nothing. */
void fmt_csv_field(FILE *f, const char *s);

/* Write `s` (UTF-8) as a JSON string literal, quotes included. */
void fmt_json_string(FILE *f, const char *s);

/* Display width of UTF-8 text: its number of code points. */
size_t fmt_width(const char *s);

#endif
