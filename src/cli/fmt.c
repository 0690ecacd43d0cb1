/*
 * fmt: result printing for the CLI. Every style streams: the table style
 * makes one pass for the column widths and one to print, holding one cell
 * at a time, so a million-row result never becomes a million-row string.
 */
#include "base/compat.h"
#include "cli/fmt.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

#include <errno.h>
#include <inttypes.h>

static const struct {
	const char *name;
	enum fmt_style style;
} styles[] = {
	{ "table", FMT_TABLE },
	{ "csv", FMT_CSV },
	{ "json", FMT_JSON },
	{ "jsonl", FMT_JSONL },
};

int fmt_style_parse(const char *name, enum fmt_style *out)
{
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(styles); i++) {
		if (!strcmp(name, styles[i].name)) {
			*out = styles[i].style;
			return 0;
		}
	}
	return TN_EINVAL;
}

const char *fmt_style_name(enum fmt_style st)
{
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(styles); i++)
		if (styles[i].style == st)
			return styles[i].name;
	return "?";
}

static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

size_t fmt_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += !is_cont((unsigned char)*s);
	return w;
}

static int is_numeric(enum duck_kind k)
{
	return k == DUCK_KIND_INT || k == DUCK_KIND_FLOAT || k == DUCK_KIND_DECIMAL;
}

/* ---- table ---------------------------------------------------------- */

struct table {
	FILE *f;
	struct duck_result *r;
	size_t ncols;
	size_t *width;
	int *right;          /* numeric column: right-aligned */
	struct tn_buf cell;  /* the cell being printed */
};

/* Append one character as shown in a cell; returns its width. Control
 * characters are escaped so that no value can break the box apart. */
static size_t add_unit(struct tn_buf *out, unsigned char ch)
{
	switch (ch) {
	case '\n':
		tn_buf_adds(out, "\\n");
		return 2;
	case '\r':
		tn_buf_adds(out, "\\r");
		return 2;
	case '\t':
		tn_buf_adds(out, "\\t");
		return 2;
	default:
		break;
	}
	if (ch < 0x20 || ch == 0x7f) {
		tn_buf_addf(out, "\\x%02x", ch);
		return 4;
	}
	tn_buf_addc(out, (char)ch);
	return 1;
}

/* Make `out` the cell text for `s`; returns its width. Text wider than
 * FMT_CELL_MAX is cut to FMT_CELL_MAX - 1 and ends in '…'. We stop reading
 * early, so a huge value costs no more than a short one. */
static size_t cell_prep(struct tn_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0, cut_len = 0, cut_w = 0;

	tn_buf_reset(out);
	for (; *p; p++) {
		if (is_cont(*p)) {
			tn_buf_addc(out, (char)*p);
			continue;
		}
		if (w > FMT_CELL_MAX)
			break;
		if (w < FMT_CELL_MAX) {
			cut_len = out->len;
			cut_w = w;
		}
		w += add_unit(out, *p);
	}
	if (w <= FMT_CELL_MAX)
		return w;
	tn_buf_truncate(out, cut_len);
	tn_buf_adds(out, "…");
	return cut_w + 1;
}

static void table_widths(struct table *t)
{
	uint64_t row, nrows = duck_result_nrows(t->r);
	size_t col, w;
	char *s;

	for (col = 0; col < t->ncols; col++) {
		t->width[col] = cell_prep(&t->cell, duck_result_name(t->r, col));
		t->right[col] = is_numeric(duck_result_kind(t->r, col));
	}
	for (row = 0; row < nrows; row++) {
		for (col = 0; col < t->ncols; col++) {
			s = duck_result_text(t->r, col, row);
			w = cell_prep(&t->cell, s ? s : "NULL");
			tn_free(s);
			if (w > t->width[col])
				t->width[col] = w;
		}
	}
}

/* A horizontal line: left corner, joints, right corner. */
static void table_rule(struct table *t, const char *left, const char *joint, const char *right)
{
	size_t col, i;

	fputs(left, t->f);
	for (col = 0; col < t->ncols; col++) {
		for (i = 0; i < t->width[col] + 2; i++)
			fputs("─", t->f);
		fputs(col + 1 < t->ncols ? joint : right, t->f);
	}
	fputc('\n', t->f);
}

static void pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

static void table_cell(struct table *t, size_t col, const char *s)
{
	size_t w = cell_prep(&t->cell, s);
	size_t gap = t->width[col] - w;

	fputs(col ? " │ " : "│ ", t->f);
	if (t->right[col])
		pad(t->f, gap);
	fwrite(t->cell.buf, 1, t->cell.len, t->f);
	if (!t->right[col])
		pad(t->f, gap);
}

static void table_row(struct table *t, uint64_t row)
{
	size_t col;
	char *s;

	for (col = 0; col < t->ncols; col++) {
		s = duck_result_text(t->r, col, row);
		table_cell(t, col, s ? s : "NULL");
		tn_free(s);
	}
	fputs(" │\n", t->f);
}

static void print_table(FILE *f, struct duck_result *r)
{
	struct table t = { f, r, duck_result_ncols(r), NULL, NULL, TN_BUF_INIT(TN_BUF_NOMAX) };
	uint64_t row, nrows = duck_result_nrows(r);
	size_t col;

	t.width = tn_calloc(t.ncols, sizeof(*t.width));
	t.right = tn_calloc(t.ncols, sizeof(*t.right));
	table_widths(&t);
	table_rule(&t, "┌", "┬", "┐");
	for (col = 0; col < t.ncols; col++)
		table_cell(&t, col, duck_result_name(r, col));
	fputs(" │\n", f);
	table_rule(&t, "├", "┼", "┤");
	for (row = 0; row < nrows && !ferror(f); row++)
		table_row(&t, row);
	table_rule(&t, "└", "┴", "┘");
	fprintf(f, "(%" PRIu64 " row%s)\n", nrows, nrows == 1 ? "" : "s");
	tn_buf_release(&t.cell);
	tn_free(t.width);
	tn_free(t.right);
}

/* ---- csv ------------------------------------------------------------ */

/* One RFC 4180 field. The empty string is quoted so it differs from NULL. */
void fmt_csv_field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (*s && !strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void print_csv(FILE *f, struct duck_result *r)
{
	size_t col, ncols = duck_result_ncols(r);
	uint64_t row, nrows = duck_result_nrows(r);
	char *s;

	for (col = 0; col < ncols; col++) {
		if (col)
			fputc(',', f);
		fmt_csv_field(f, duck_result_name(r, col));
	}
	fputc('\n', f);
	for (row = 0; row < nrows && !ferror(f); row++) {
		for (col = 0; col < ncols; col++) {
			if (col)
				fputc(',', f);
			s = duck_result_text(r, col, row);
			fmt_csv_field(f, s);
			tn_free(s);
		}
		fputc('\n', f);
	}
}

/* ---- json ----------------------------------------------------------- */

static void json_escape(FILE *f, unsigned char c)
{
	switch (c) {
	case '"':
		fputs("\\\"", f);
		break;
	case '\\':
		fputs("\\\\", f);
		break;
	case '\n':
		fputs("\\n", f);
		break;
	case '\r':
		fputs("\\r", f);
		break;
	case '\t':
		fputs("\\t", f);
		break;
	case '\b':
		fputs("\\b", f);
		break;
	case '\f':
		fputs("\\f", f);
		break;
	default:
		fprintf(f, "\\u%04x", c);
		break;
	}
}

/* DuckDB's VARCHAR is valid UTF-8, so bytes >= 0x80 pass through as they are. */
void fmt_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;

	fputc('"', f);
	for (; *p; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		fwrite(run, 1, (size_t)(p - run), f);
		json_escape(f, *p);
		run = p + 1;
	}
	fwrite(run, 1, (size_t)(p - run), f);
	fputc('"', f);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *skip_digits(const char *p)
{
	while (is_digit(*p))
		p++;
	return p;
}

/* 1 if `s` is a JSON number as it stands. DuckDB prints doubles as "inf"
 * or "nan" and could print forms JSON has no room for; those become strings. */
static int json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (is_digit(*p))
		p = skip_digits(p);
	else
		return 0;
	if (*p == '.') {
		if (!is_digit(*++p))
			return 0;
		p = skip_digits(p);
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!is_digit(*p))
			return 0;
		p = skip_digits(p);
	}
	return *p == '\0';
}

static int json_bare(enum duck_kind k, const char *s)
{
	if (k == DUCK_KIND_BOOL)
		return !strcmp(s, "true") || !strcmp(s, "false");
	return is_numeric(k) && json_number(s);
}

static void json_object(FILE *f, struct duck_result *r, const enum duck_kind *kinds, uint64_t row)
{
	size_t col, ncols = duck_result_ncols(r);
	char *s;

	fputc('{', f);
	for (col = 0; col < ncols; col++) {
		if (col)
			fputc(',', f);
		fmt_json_string(f, duck_result_name(r, col));
		fputc(':', f);
		s = duck_result_text(r, col, row);
		if (!s)
			fputs("null", f);
		else if (json_bare(kinds[col], s))
			fputs(s, f);
		else
			fmt_json_string(f, s);
		tn_free(s);
	}
	fputc('}', f);
}

/* json: "[" rows joined by ",\n" "]"; jsonl: each row on its own line. */
static void print_json(FILE *f, struct duck_result *r, int lines)
{
	size_t col, ncols = duck_result_ncols(r);
	uint64_t row, nrows = duck_result_nrows(r);
	enum duck_kind *kinds = tn_calloc(ncols, sizeof(*kinds));

	for (col = 0; col < ncols; col++)
		kinds[col] = duck_result_kind(r, col);
	if (!lines)
		fputc('[', f);
	for (row = 0; row < nrows && !ferror(f); row++) {
		if (row && !lines)
			fputs(",\n", f);
		json_object(f, r, kinds, row);
		if (lines)
			fputc('\n', f);
	}
	if (!lines)
		fputs("]\n", f);
	tn_free(kinds);
}

int fmt_result(FILE *f, struct duck_result *r, enum fmt_style st, struct tn_err *err)
{
	if (!r || duck_result_ncols(r) == 0)
		return 0;
	switch (st) {
	case FMT_TABLE:
		print_table(f, r);
		break;
	case FMT_CSV:
		print_csv(f, r);
		break;
	case FMT_JSON:
		print_json(f, r, 0);
		break;
	case FMT_JSONL:
		print_json(f, r, 1);
		break;
	}
	if (ferror(f))
		return tn_err_set(err, TN_EIO, "cannot write the output: %s", strerror(errno));
	return 0;
}
