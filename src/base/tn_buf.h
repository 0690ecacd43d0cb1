/*
 * tn_buf: the growable string of tarn, with git strbuf's invariants (buf is
 * never NULL and always NUL-terminated), curl dynbuf's size cap and SQLite's
 * sticky error: an append past the cap empties the buffer and marks it
 * failed; later appends are no-ops; check once with tn_buf_check().
 */
#ifndef TN_BUF_H
#define TN_BUF_H

#include <stddef.h>
#include "base/tn_err.h"

extern char tn_buf_empty[];

struct tn_buf {
	char *buf;
	size_t len, alloc, max;
	int failed;
};
#define TN_BUF_NOMAX ((size_t)-1)
#define TN_BUF_INIT(max) { tn_buf_empty, 0, 0, (max), 0 }

void tn_buf_init(struct tn_buf *b, size_t max);
void tn_buf_add(struct tn_buf *b, const void *p, size_t n);
void tn_buf_adds(struct tn_buf *b, const char *s);
void tn_buf_addc(struct tn_buf *b, char c);
void tn_buf_addf(struct tn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tn_buf_vaddf(struct tn_buf *b, const char *fmt, va_list ap);
/* Append `s` as a SQL string literal: 'it''s'. */
void tn_buf_add_sqlstr(struct tn_buf *b, const char *s);
/* Append `s` as a SQL quoted identifier: "a""b". */
void tn_buf_add_sqlid(struct tn_buf *b, const char *s);
void tn_buf_reset(struct tn_buf *b);                 /* len = 0, keeps memory */
void tn_buf_truncate(struct tn_buf *b, size_t len);
int tn_buf_check(const struct tn_buf *b, struct tn_err *err);
/* Hand the string to the caller (free with tn_free); b is re-initialised. */
char *tn_buf_detach(struct tn_buf *b, size_t *len);
void tn_buf_release(struct tn_buf *b);

#endif
