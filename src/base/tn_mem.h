/*
 * Allocation policy: tn_malloc & co. abort with a message when the system
 * cannot give a small internal allocation (git's xmalloc); sizes that come
 * from input go through tn_mul_overflow and explicit limits first.
 * Raw malloc/free are not used outside base/.
 */
#ifndef TN_MEM_H
#define TN_MEM_H

#include <stddef.h>

void *tn_malloc(size_t n);
void *tn_calloc(size_t n, size_t size);
void *tn_realloc(void *p, size_t n);
char *tn_strdup(const char *s);
char *tn_strndup(const char *s, size_t n);
void tn_free(void *p);

/* printf into a new string owned by the caller. */
char *tn_xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 when a*b overflows size_t, else 0 and *out = a*b. */
int tn_mul_overflow(size_t a, size_t b, size_t *out);

/* Grow an array `*arr` of `*alloc` elements of `size` bytes to hold `n`. */
void tn_grow(void **arr, size_t *alloc, size_t n, size_t size);
#define TN_GROW(arr, alloc, n) tn_grow((void **)&(arr), &(alloc), (n), sizeof(*(arr)))

#endif
