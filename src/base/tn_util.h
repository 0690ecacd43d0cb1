/* tn_util: small helpers with no better home: ids, time, number parsing. */
#ifndef TN_UTIL_H
#define TN_UTIL_H

#include <stdint.h>
#include "base/tn_err.h"

/* A new UUIDv7 in canonical text form (37 bytes with the NUL). */
void tn_uuid7(char out[37]);
/* Wall clock in microseconds since the epoch. */
int64_t tn_now_us(void);
/* Monotonic clock in seconds. */
double tn_mono(void);
/* TARN_TRACE_SQL=1: DuckDB and catalog statements are traced on stderr
 * with their times (engine/duck.c, catalog/catalog.c). Read once. */
int tn_trace_sql(void);
/* Parse a whole string as a signed 64-bit integer; error names `what`. */
int tn_parse_int64(const char *s, int64_t *out, const char *what, struct tn_err *err);
/* Case-insensitive ASCII comparison. */
int tn_strieq(const char *a, const char *b);
/* n bytes as 2n lower-case hex digits and a NUL into out (2n + 1 bytes). */
void tn_hex(const void *p, size_t n, char *out);

#endif
