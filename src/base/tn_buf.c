/* tn_buf: growable, capped, sticky-error string buffer. */
#include "base/compat.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

char tn_buf_empty[1];

void tn_buf_init(struct tn_buf *b, size_t max)
{
	b->buf = tn_buf_empty;
	b->len = b->alloc = 0;
	b->max = max;
	b->failed = 0;
}

static int reserve(struct tn_buf *b, size_t extra)
{
	size_t need;

	if (b->failed)
		return -1;
	if (extra > b->max || b->len > b->max - extra) {
		tn_buf_release(b);
		b->failed = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	if (b->alloc == 0) {
		size_t na = need < 64 ? 64 : need;
		b->buf = tn_malloc(na);
		b->buf[0] = '\0';
		b->alloc = na;
		return 0;
	}
	{
		size_t na = b->alloc;
		while (na < need)
			na = na * 2;
		b->buf = tn_realloc(b->buf, na);
		b->alloc = na;
	}
	return 0;
}

void tn_buf_add(struct tn_buf *b, const void *p, size_t n)
{
	if (reserve(b, n))
		return;
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void tn_buf_adds(struct tn_buf *b, const char *s)
{
	tn_buf_add(b, s, strlen(s));
}

void tn_buf_addc(struct tn_buf *b, char c)
{
	tn_buf_add(b, &c, 1);
}

void tn_buf_vaddf(struct tn_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (b->failed)
		return;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || reserve(b, (size_t)n))
		return;
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void tn_buf_addf(struct tn_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tn_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

static void add_quoted(struct tn_buf *b, const char *s, char q)
{
	const char *p;

	tn_buf_addc(b, q);
	for (p = s; *p; p++) {
		if (*p == q)
			tn_buf_addc(b, q);
		tn_buf_addc(b, *p);
	}
	tn_buf_addc(b, q);
}

void tn_buf_add_sqlstr(struct tn_buf *b, const char *s)
{
	add_quoted(b, s, '\'');
}

void tn_buf_add_sqlid(struct tn_buf *b, const char *s)
{
	add_quoted(b, s, '"');
}

void tn_buf_reset(struct tn_buf *b)
{
	tn_buf_truncate(b, 0);
	b->failed = 0;
}

void tn_buf_truncate(struct tn_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	if (b->alloc)
		b->buf[len] = '\0';
}

int tn_buf_check(const struct tn_buf *b, struct tn_err *err)
{
	if (b->failed)
		return tn_err_set(err, TN_EINVAL, "text is longer than the limit of %zu bytes", b->max);
	return 0;
}

char *tn_buf_detach(struct tn_buf *b, size_t *len)
{
	char *s;

	if (len)
		*len = b->len;
	s = b->alloc ? b->buf : tn_strdup("");
	tn_buf_init(b, b->max);
	return s;
}

void tn_buf_release(struct tn_buf *b)
{
	if (b->alloc)
		tn_free(b->buf);
	b->buf = tn_buf_empty;
	b->len = b->alloc = 0;
}
