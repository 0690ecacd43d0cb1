/* tn_util: uuid v7, clocks, number parsing. */
#include "base/compat.h"
#include "base/tn_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <sys/random.h>

void tn_uuid7(char out[37])
{
	unsigned char b[16];
	int64_t ms = tn_now_us() / 1000;
	size_t got = 0;
	int i;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* No entropy source: fall back to clock noise; ids stay unique by time. */
			for (i = 0; i < 16; i++)
				b[i] = (unsigned char)(rand() ^ (int)(tn_now_us() >> (i % 8)));
			break;
		}
		got += (size_t)n;
	}
	for (i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (8 * (5 - i)));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

int64_t tn_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double tn_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int tn_trace_sql(void)
{
	static int on = -1;

	if (on < 0) {
		const char *v = getenv("TARN_TRACE_SQL");
		on = v && *v && strcmp(v, "0");
	}
	return on;
}

int tn_parse_int64(const char *s, int64_t *out, const char *what, struct tn_err *err)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0')
		return tn_err_set(err, TN_EINVAL, "%s: '%s' is not a whole number", what, s);
	*out = (int64_t)v;
	return 0;
}

int tn_strieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

void tn_hex(const void *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *d = p;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}
