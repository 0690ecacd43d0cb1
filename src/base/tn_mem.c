/* tn_mem: the one place that calls the C allocator. */
#include "base/compat.h"
#include "base/tn_mem.h"

static void oom(size_t n)
{
	fprintf(stderr, "tarn: out of memory allocating %zu bytes\n", n);
	abort();
}

void *tn_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *tn_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *tn_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *tn_strdup(const char *s)
{
	return s ? tn_strndup(s, strlen(s)) : NULL;
}

char *tn_strndup(const char *s, size_t n)
{
	char *p = tn_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void tn_free(void *p)
{
	free(p);
}

char *tn_xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	s = tn_malloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

int tn_mul_overflow(size_t a, size_t b, size_t *out)
{
	if (a && b > SIZE_MAX / a)
		return 1;
	*out = a * b;
	return 0;
}

void tn_grow(void **arr, size_t *alloc, size_t n, size_t size)
{
	size_t na, bytes;

	if (n <= *alloc)
		return;
	na = *alloc ? *alloc : 8;
	while (na < n)
		na *= 2;
	if (tn_mul_overflow(na, size, &bytes))
		oom(SIZE_MAX);
	*arr = tn_realloc(*arr, bytes);
	*alloc = na;
}
