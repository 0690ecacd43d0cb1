/*
 * slt_result.c: query results as tables of text. Actual results are
 * rendered the way DuckDB's runner does (NULL, (empty), true/false), sorted
 * per the query's sort mode, hashed with MD5 like SQLite's runner, and
 * compared with the expected values: as text first, then as numbers or
 * booleans by the column's kind, so that 1.0 matches 1.
 */
#include "base/compat.h"
#include "slt.h"
#include "base/tn_mem.h"
#include "base/tn_buf.h"
#include "base/tn_util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <openssl/evp.h>

/* Relative tolerance for FLOAT/DOUBLE columns: printing may differ in the last digits. */
#define FLOAT_TOLERANCE 1e-9

static size_t nvalues(const struct slt_values *v)
{
	return v->nrows * v->ncol;
}

static char *render(struct duck_result *res, size_t col, uint64_t row)
{
	char *s = duck_result_text(res, col, row);

	if (!s)
		return tn_strdup("NULL");
	if (!*s) {
		tn_free(s);
		return tn_strdup("(empty)");
	}
	return s;
}

void slt_values_from_result(struct slt_values *out, struct duck_result *res)
{
	size_t c, n;
	uint64_t r;

	out->ncol = duck_result_ncols(res);
	out->nrows = (size_t)duck_result_nrows(res);
	/* The result is in memory already, so its cell count fits; check anyway. */
	if (tn_mul_overflow(out->nrows, out->ncol, &n)) {
		fprintf(stderr, "tarn-slt: result of %zu rows is too large\n", out->nrows);
		abort();
	}
	out->v = tn_calloc(n ? n : 1, sizeof(*out->v));
	out->kind = tn_calloc(out->ncol ? out->ncol : 1, sizeof(*out->kind));
	for (c = 0; c < out->ncol; c++)
		out->kind[c] = duck_result_kind(res, c);
	for (r = 0; r < out->nrows; r++)
		for (c = 0; c < out->ncol; c++)
			out->v[r * out->ncol + c] = render(res, c, r);
}

void slt_values_release(struct slt_values *v)
{
	size_t k, n = nvalues(v);

	for (k = 0; k < n && v->v; k++)
		tn_free(v->v[k]);
	tn_free(v->v);
	tn_free(v->kind);
	memset(v, 0, sizeof(*v));
}

/* §4.2: row-wise when there are several columns and either one line per row or tabs everywhere. */
static int is_row_wise(const struct slt_lines *lines, size_t ncol, size_t actual_rows)
{
	size_t k;

	if (ncol <= 1)
		return 0;
	if (lines->n == actual_rows)
		return 1;
	for (k = 0; k < lines->n; k++)
		if (!strchr(lines->v[k], '\t'))
			return 0;
	return lines->n > 0;
}

/* Split each line on tabs into exactly ncol values. */
static int split_rows(struct slt_values *out, const struct slt_lines *lines, size_t ncol,
		      struct tn_err *err)
{
	size_t r, c, n;
	const char *s;
	int last;

	for (r = 0; r < lines->n; r++) {
		s = lines->v[r];
		for (c = 0; c < ncol; c++) {
			last = c + 1 == ncol;
			n = last ? strlen(s) : strcspn(s, "\t");
			if ((!last && !s[n]) || (last && memchr(s, '\t', n)))
				break;  /* too few or too many values */
			out->v[r * ncol + c] = tn_strndup(s, n);
			s += n + !last;
		}
		if (c < ncol)
			return tn_err_set(err, TN_EINVAL,
					  "expected row %zu does not have %zu tab-separated values: '%s'",
					  r + 1, ncol, lines->v[r]);
	}
	return 0;
}

int slt_values_from_expected(struct slt_values *out, const struct slt_lines *lines,
			     size_t ncol, size_t actual_rows, struct tn_err *err)
{
	size_t k, n;
	int rc;

	memset(out, 0, sizeof(*out));
	out->ncol = ncol;
	if (is_row_wise(lines, ncol, actual_rows)) {
		out->nrows = lines->n;
		if (tn_mul_overflow(out->nrows, ncol, &n))
			return tn_err_set(err, TN_EINVAL, "expected block is too large");
		out->v = tn_calloc(n ? n : 1, sizeof(*out->v));
		rc = split_rows(out, lines, ncol, err);
		if (rc)
			slt_values_release(out);
		return rc;
	}
	if (ncol == 0 || lines->n % ncol)
		return tn_err_set(err, TN_EINVAL,
				  "%zu expected values are not a whole number of rows of %zu columns",
				  lines->n, ncol);
	out->nrows = lines->n / ncol;
	out->v = tn_calloc(lines->n ? lines->n : 1, sizeof(*out->v));
	for (k = 0; k < lines->n; k++)
		out->v[k] = tn_strdup(lines->v[k]);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct row {
	char **v;
	size_t ncol;
};

/* SQLite's rowsort: rows ordered by strcmp of column 1, then 2, ... of the rendered text. */
static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	size_t c;
	int d;

	for (c = 0; c < x->ncol; c++) {
		d = strcmp(x->v[c], y->v[c]);
		if (d)
			return d;
	}
	return 0;
}

static void sort_rows(struct slt_values *v)
{
	struct row *rows;
	char **out;
	size_t r;

	if (v->nrows < 2)
		return;
	rows = tn_calloc(v->nrows, sizeof(*rows));
	for (r = 0; r < v->nrows; r++) {
		rows[r].v = v->v + r * v->ncol;
		rows[r].ncol = v->ncol;
	}
	qsort(rows, v->nrows, sizeof(*rows), cmp_row);
	out = tn_calloc(nvalues(v), sizeof(*out));
	for (r = 0; r < v->nrows; r++)
		memcpy(out + r * v->ncol, rows[r].v, v->ncol * sizeof(*out));
	tn_free(v->v);
	tn_free(rows);
	v->v = out;
}

void slt_values_sort(struct slt_values *v, enum slt_sort sort)
{
	if (sort == SLT_ROWSORT)
		sort_rows(v);
	else if (sort == SLT_VALUESORT && nvalues(v) > 1)
		qsort(v->v, nvalues(v), sizeof(*v->v), cmp_str);
}

void slt_values_md5(const struct slt_values *v, char out[SLT_MD5_HEX])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, k;
	size_t i;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
		fprintf(stderr, "tarn-slt: OpenSSL cannot compute MD5\n");
		abort();
	}
	for (i = 0; i < nvalues(v); i++) {
		EVP_DigestUpdate(ctx, v->v[i], strlen(v->v[i]));
		EVP_DigestUpdate(ctx, "\n", 1);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (k = 0; k < mdlen && k < 16; k++)
		snprintf(out + 2 * k, 3, "%02x", md[k]);
	out[2 * k] = '\0';
}

char *slt_values_hash_line(const struct slt_values *v)
{
	char md5[SLT_MD5_HEX];

	slt_values_md5(v, md5);
	return tn_xprintf("%zu values hashing to %s", nvalues(v), md5);
}

void slt_values_print(FILE *f, const struct slt_values *v, size_t max_rows, const char *indent)
{
	size_t r, c;

	for (r = 0; r < v->nrows && r < max_rows; r++) {
		fputs(indent, f);
		for (c = 0; c < v->ncol; c++)
			fprintf(f, "%s%s", c ? "\t" : "", v->v[r * v->ncol + c]);
		fputc('\n', f);
	}
	if (v->nrows > max_rows)
		fprintf(f, "%s... %zu more rows\n", indent, v->nrows - max_rows);
}

int slt_is_hash_line(const char *s)
{
	static const char tail[] = " values hashing to ";
	size_t n = strspn(s, "0123456789"), k;

	if (n == 0 || strncmp(s + n, tail, sizeof(tail) - 1))
		return 0;
	s += n + sizeof(tail) - 1;
	for (k = 0; k < 32; k++)
		if (!isdigit((unsigned char)s[k]) && !(s[k] >= 'a' && s[k] <= 'z'))
			return 0;
	return s[32] == '\0';
}

/* Full match of an extended POSIX regex, like DuckDB's RE2::FullMatch. */
static int regex_full_match(const char *re, const char *text, int *match, struct tn_err *err)
{
	char *anchored = tn_xprintf("^(%s)$", re);
	char msg[256];
	regex_t rx;
	int rc;

	rc = regcomp(&rx, anchored, REG_EXTENDED | REG_NOSUB);
	tn_free(anchored);
	if (rc) {
		regerror(rc, &rx, msg, sizeof(msg));
		regfree(&rx);
		return tn_err_set(err, TN_EINVAL, "bad regex '%s': %s", re, msg);
	}
	*match = regexec(&rx, text, 0, NULL, 0) == 0;
	regfree(&rx);
	return 0;
}

int slt_text_matches(const char *pattern, const char *text, int substring, int *match,
		     struct tn_err *err)
{
	static const char re[] = "<REGEX>:", not_re[] = "<!REGEX>:";
	int rc;

	if (!strncmp(pattern, re, sizeof(re) - 1))
		return regex_full_match(pattern + sizeof(re) - 1, text, match, err);
	if (!strncmp(pattern, not_re, sizeof(not_re) - 1)) {
		rc = regex_full_match(pattern + sizeof(not_re) - 1, text, match, err);
		*match = !*match;
		return rc;
	}
	*match = substring ? strstr(text, pattern) != NULL : strcmp(text, pattern) == 0;
	return 0;
}

/* The whole string as a number; 0 on success. */
static int parse_double(const char *s, double *out)
{
	char *end;

	if (!*s)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return *end ? -1 : 0;
}

static int parse_ll(const char *s, long long *out)
{
	char *end;

	if (!*s)
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return (*end || errno) ? -1 : 0;
}

static int numbers_equal(const char *exp, const char *act, enum duck_kind kind)
{
	long long a, b;
	double x, y;

	/* Exact integers first: a double cannot tell 2^53 + 1 from 2^53. */
	if (kind == DUCK_KIND_INT && !parse_ll(exp, &a) && !parse_ll(act, &b))
		return a == b;
	if (parse_double(exp, &x) || parse_double(act, &y))
		return 0;
	if (x == y)
		return 1;
	if (kind != DUCK_KIND_FLOAT || isnan(x) || isnan(y))
		return 0;
	return fabs(x - y) <= FLOAT_TOLERANCE * fmax(fabs(x), fabs(y));
}

/* 1 for true, 0 for false, -1 for anything else. */
static int bool_value(const char *s)
{
	static const char *const t[] = { "true", "t", "1" }, *const f[] = { "false", "f", "0" };
	size_t k;

	for (k = 0; k < TN_ARRAY_LEN(t); k++) {
		if (tn_strieq(s, t[k]))
			return 1;
		if (tn_strieq(s, f[k]))
			return 0;
	}
	return -1;
}

int slt_value_equal(const char *exp, const char *act, enum duck_kind kind, struct tn_err *err)
{
	int match = 0;

	if (!strcmp(exp, act))
		return 1;
	if (!strncmp(exp, "<REGEX>:", 8) || !strncmp(exp, "<!REGEX>:", 9))
		return slt_text_matches(exp, act, 0, &match, err) ? 0 : match;
	if (!strcmp(exp, "NULL") || !strcmp(act, "NULL"))
		return 0;
	switch (kind) {
	case DUCK_KIND_INT:
	case DUCK_KIND_FLOAT:
	case DUCK_KIND_DECIMAL:
		return numbers_equal(exp, act, kind);
	case DUCK_KIND_BOOL:
		return bool_value(exp) >= 0 && bool_value(exp) == bool_value(act);
	default:
		return 0;
	}
}
