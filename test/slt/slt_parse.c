/*
 * slt_parse.c: reads a sqllogictest file into a tree of records. All checks
 * of the file itself happen here, before anything runs, so a malformed test
 * fails as a whole instead of half-running ("a test must be able to fail").
 */
#include "base/compat.h"
#include "slt.h"
#include "base/tn_mem.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_util.h"

#include <ctype.h>

struct parser {
	const char *path;
	char *data;     /* the file, split in place into lines */
	char **line;
	size_t n;
	size_t i;       /* next line to read */
	struct tn_err *err;
};

typedef int (*parse_fn)(struct parser *p, struct slt_record *rec);

void slt_lines_add(struct slt_lines *l, const char *s, size_t len)
{
	TN_GROW(l->v, l->alloc, l->n + 1);
	l->v[l->n++] = tn_strndup(s, len);
}

void slt_lines_release(struct slt_lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		tn_free(l->v[i]);
	tn_free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

static void record_release(struct slt_record *r)
{
	size_t i;

	for (i = 0; i < r->ncond; i++)
		tn_free(r->cond[i].engine);
	tn_free(r->cond);
	slt_lines_release(&r->args);
	tn_free(r->sql);
	tn_free(r->conn);
	slt_lines_release(&r->result);
	tn_free(r->label);
	slt_lines_release(&r->names);
	slt_lines_release(&r->values);
	slt_script_release(&r->body);
}

void slt_script_release(struct slt_script *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		record_release(&s->v[i]);
	tn_free(s->v);
	s->v = NULL;
	s->n = s->alloc = 0;
}

static int perr(struct parser *p, size_t line, const char *fmt, ...) TN_PRINTF(3, 4);

/* Record a file error at 1-based `line`; returns TN_EINVAL. */
static int perr(struct parser *p, size_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return tn_err_set(p->err, TN_EINVAL, "%s:%zu: %s", p->path, line, msg);
}

static int is_blank(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\v' || *s == '\f')
		s++;
	return *s == '\0';
}

/*
 * Split the file into lines, dropping '\r'. Whitespace-only lines become
 * empty (SQLite treats them as blank, DuckDB does not), with a warning since
 * they are almost always an editing accident.
 */
static void split_lines(struct parser *p, size_t len)
{
	size_t alloc = 0, start = 0, k;

	for (k = 0; k <= len; k++) {
		if (k < len && p->data[k] != '\n')
			continue;
		if (k == len && start == len)
			break;          /* no empty last line after a final '\n' */
		p->data[k] = '\0';
		if (k > start && p->data[k - 1] == '\r')
			p->data[k - 1] = '\0';
		TN_GROW(p->line, alloc, p->n + 1);
		p->line[p->n] = p->data + start;
		if (p->line[p->n][0] && is_blank(p->line[p->n])) {
			fprintf(stderr, "%s:%zu: warning: whitespace-only line treated as blank\n",
				p->path, p->n + 1);
			p->line[p->n][0] = '\0';
		}
		p->n++;
		start = k + 1;
	}
}

static int at_end(const struct parser *p)
{
	return p->i >= p->n;
}

/* A line that ends a record: end of file or an empty line. */
static int at_gap(const struct parser *p)
{
	return at_end(p) || p->line[p->i][0] == '\0';
}

static int at_comment(const struct parser *p)
{
	return !at_end(p) && p->line[p->i][0] == '#';
}

/* Skip the empty and comment lines between records. */
static void skip_gap(struct parser *p)
{
	while (!at_end(p) && (at_gap(p) || at_comment(p)))
		p->i++;
}

static void tokenize(const char *s, struct slt_lines *out)
{
	size_t n;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return;
		n = strcspn(s, " \t");
		slt_lines_add(out, s, n);
		s += n;
	}
}

/* One-line commands must be followed by an empty line or a comment. */
static int expect_gap(struct parser *p)
{
	if (at_gap(p) || at_comment(p))
		return 0;
	return perr(p, p->i + 1, "a one-line command must be followed by an empty line");
}

static int is_result_sep(const char *s)
{
	size_t n = strlen(s);

	while (n > 4 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == 4 && !strncmp(s, "----", 4);
}

/* Read lines up to an empty line (and, when stop_at_sep, a ---- line). */
static int read_block(struct parser *p, struct slt_lines *out, int stop_at_sep)
{
	while (!at_gap(p)) {
		if (stop_at_sep && is_result_sep(p->line[p->i]))
			break;
		if (at_comment(p))
			return perr(p, p->i + 1,
				    "'#' line inside a record (put comments between records)");
		slt_lines_add(out, p->line[p->i], strlen(p->line[p->i]));
		p->i++;
	}
	return 0;
}

static char *join_lines(const struct slt_lines *l)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t k;

	for (k = 0; k < l->n; k++) {
		if (k)
			tn_buf_addc(&b, '\n');
		tn_buf_adds(&b, l->v[k]);
	}
	return tn_buf_detach(&b, NULL);
}

/* The SQL of a statement or query, then the lines after ---- if any. */
static int read_sql_and_result(struct parser *p, struct slt_record *rec)
{
	struct slt_lines sql = { 0 };
	int rc;

	p->i++;         /* past the command line */
	rc = read_block(p, &sql, 1);
	if (!rc && sql.n == 0)
		rc = perr(p, (size_t)rec->line, "%s without SQL", rec->args.v[0]);
	if (!rc) {
		rec->sql = join_lines(&sql);
		if (!at_gap(p)) {       /* stopped at ---- */
			rec->has_result = 1;
			p->i++;
			rc = read_block(p, &rec->result, 0);
		}
	}
	slt_lines_release(&sql);
	return rc;
}

static int parse_statement(struct parser *p, struct slt_record *rec)
{
	static const char *const expect[] = { "ok", "error", "maybe" };
	size_t k;
	int rc;

	if (rec->args.n < 2 || rec->args.n > 3)
		return perr(p, (size_t)rec->line, "usage: statement ok|error|maybe [connection]");
	for (k = 0; k < TN_ARRAY_LEN(expect); k++)
		if (!strcmp(rec->args.v[1], expect[k]))
			break;
	if (k == TN_ARRAY_LEN(expect))
		return perr(p, (size_t)rec->line, "unknown statement mode '%s' (ok, error, maybe)",
			    rec->args.v[1]);
	rec->expect = (enum slt_expect)k;
	if (rec->args.n == 3)
		rec->conn = tn_strdup(rec->args.v[2]);
	rc = read_sql_and_result(p, rec);
	if (!rc && rec->expect == SLT_EXPECT_OK && rec->has_result)
		rc = perr(p, (size_t)rec->line, "statement ok cannot have a ---- block");
	if (!rc && rec->expect == SLT_EXPECT_MAYBE && !rec->has_result)
		rc = perr(p, (size_t)rec->line,
			  "statement maybe needs the acceptable error after ----");
	return rc;
}

static int parse_sort(const char *s, enum slt_sort *out)
{
	static const struct { const char *name; enum slt_sort sort; } sorts[] = {
		{ "nosort", SLT_NOSORT }, { "rowsort", SLT_ROWSORT },
		{ "sort", SLT_ROWSORT }, { "valuesort", SLT_VALUESORT },
	};
	size_t k;

	for (k = 0; k < TN_ARRAY_LEN(sorts); k++) {
		if (!strcmp(s, sorts[k].name)) {
			*out = sorts[k].sort;
			return 1;
		}
	}
	return 0;
}

static int parse_query(struct parser *p, struct slt_record *rec)
{
	const char *types;

	if (rec->args.n < 2 || rec->args.n > 4)
		return perr(p, (size_t)rec->line,
			    "usage: query <types> [nosort|rowsort|valuesort|connection] [label]");
	types = rec->args.v[1];
	if (types[strspn(types, "TIR")] != '\0')
		return perr(p, (size_t)rec->line,
			    "bad column types '%s': one of T, I, R per column", types);
	rec->ncol = strlen(types);
	if (rec->args.n >= 3 && !parse_sort(rec->args.v[2], &rec->sort))
		rec->conn = tn_strdup(rec->args.v[2]);
	if (rec->args.n == 4)
		rec->label = tn_strdup(rec->args.v[3]);
	return read_sql_and_result(p, rec);
}

/* A whole number, or a ${var} to be substituted at run time. */
static int check_int_arg(struct parser *p, struct slt_record *rec, size_t k)
{
	struct tn_err e = TN_ERR_INIT;
	int64_t v;

	if (strstr(rec->args.v[k], "${"))
		return 0;
	if (tn_parse_int64(rec->args.v[k], &v, rec->args.v[0], &e))
		return perr(p, (size_t)rec->line, "%s", e.msg);
	if (v < 0 && rec->kind != SLT_LOOP)
		return perr(p, (size_t)rec->line, "%s: negative number", rec->args.v[0]);
	return 0;
}

static int parse_hash_threshold(struct parser *p, struct slt_record *rec)
{
	return check_int_arg(p, rec, 1);
}

static int parse_loop(struct parser *p, struct slt_record *rec)
{
	int rc = check_int_arg(p, rec, 2);

	if (!rc)
		rc = check_int_arg(p, rec, 3);
	if (!rc)
		slt_lines_add(&rec->names, rec->args.v[1], strlen(rec->args.v[1]));
	return rc;
}

/* Split "a,b,c" into `out`. */
static void split_commas(const char *s, struct slt_lines *out)
{
	size_t n;

	for (;;) {
		n = strcspn(s, ",");
		slt_lines_add(out, s, n);
		if (!s[n])
			return;
		s += n + 1;
	}
}

/* DuckDB's foreach presets (ForEachTokenReplace). */
static const char *const preset_signed[] = { "tinyint", "smallint", "integer", "bigint",
					      "hugeint", NULL };
static const char *const preset_unsigned[] = { "utinyint", "usmallint", "uinteger", "ubigint",
						"uhugeint", NULL };
static const char *const preset_float[] = { "float", "double", NULL };
static const char *const preset_other[] = { "bool", "interval", "varchar", NULL };

static const struct {
	const char *name;
	const char *const *part[4];
} presets[] = {
	{ "<signed>", { preset_signed } },
	{ "<unsigned>", { preset_unsigned } },
	{ "<integral>", { preset_signed, preset_unsigned } },
	{ "<numeric>", { preset_signed, preset_unsigned, preset_float } },
	{ "<alltypes>", { preset_signed, preset_unsigned, preset_float, preset_other } },
};

static int add_foreach_value(struct parser *p, struct slt_record *rec, const char *v)
{
	size_t k, j;
	const char *const *s;

	if (v[0] != '<') {
		slt_lines_add(&rec->values, v, strlen(v));
		return 0;
	}
	for (k = 0; k < TN_ARRAY_LEN(presets); k++) {
		if (strcmp(v, presets[k].name))
			continue;
		for (j = 0; j < 4 && presets[k].part[j]; j++)
			for (s = presets[k].part[j]; *s; s++)
				slt_lines_add(&rec->values, *s, strlen(*s));
		return 0;
	}
	return perr(p, (size_t)rec->line, "unknown foreach preset '%s'", v);
}

static int parse_foreach(struct parser *p, struct slt_record *rec)
{
	size_t k, nvals;
	int rc = 0;

	split_commas(rec->args.v[1], &rec->names);
	for (k = 2; !rc && k < rec->args.n; k++)
		rc = add_foreach_value(p, rec, rec->args.v[k]);
	if (rc || rec->names.n == 1)
		return rc;
	/* foreach a,b x,y z,w: every value must bind all names. */
	for (k = 0; k < rec->values.n; k++) {
		struct slt_lines parts = { 0 };
		split_commas(rec->values.v[k], &parts);
		nvals = parts.n;
		slt_lines_release(&parts);
		if (nvals != rec->names.n)
			return perr(p, (size_t)rec->line, "foreach value '%s' does not bind %zu names",
				    rec->values.v[k], rec->names.n);
	}
	return 0;
}

static int parse_mode(struct parser *p, struct slt_record *rec)
{
	static const char *const modes[] = { "skip", "unskip", "output_result", "output_hash",
					     "no_output" };
	size_t k;

	for (k = 0; k < TN_ARRAY_LEN(modes); k++)
		if (!strcmp(rec->args.v[1], modes[k]))
			return 0;
	return perr(p, (size_t)rec->line, "unknown mode '%s'", rec->args.v[1]);
}

static int parse_sleep(struct parser *p, struct slt_record *rec)
{
	static const char *const units[] = { "second", "seconds", "millisecond", "milliseconds",
					     "microsecond", "microseconds", "nanosecond",
					     "nanoseconds" };
	size_t k;
	int rc = check_int_arg(p, rec, 1);

	if (rc)
		return rc;
	for (k = 0; k < TN_ARRAY_LEN(units); k++)
		if (!strcmp(rec->args.v[2], units[k]))
			return 0;
	return perr(p, (size_t)rec->line, "unknown sleep unit '%s'", rec->args.v[2]);
}

/*
 * The commands. `fn` checks the arguments (and for statement and query
 * reads the rest of the record); `oneline` commands need an empty line
 * after them; `body` commands (loops) own the records up to endloop.
 */
static const struct command {
	const char *name;
	enum slt_kind kind;
	size_t min_args, max_args;   /* counting the command itself */
	parse_fn fn;
	int oneline, body;
} commands[] = {
	{ "statement", SLT_STATEMENT, 2, 3, parse_statement, 0, 0 },
	{ "query", SLT_QUERY, 2, 4, parse_query, 0, 0 },
	{ "hash-threshold", SLT_HASH_THRESHOLD, 2, 2, parse_hash_threshold, 1, 0 },
	{ "halt", SLT_HALT, 1, 1, NULL, 1, 0 },
	{ "require", SLT_REQUIRE, 2, 3, NULL, 1, 0 },
	{ "require-env", SLT_REQUIRE_ENV, 2, 3, NULL, 1, 0 },
	{ "loop", SLT_LOOP, 4, 4, parse_loop, 1, 1 },
	{ "foreach", SLT_FOREACH, 3, SIZE_MAX, parse_foreach, 1, 1 },
	{ "mode", SLT_MODE, 2, 2, parse_mode, 1, 0 },
	{ "restart", SLT_RESTART, 1, 2, NULL, 1, 0 },
	{ "reconnect", SLT_RECONNECT, 1, 1, NULL, 1, 0 },
	{ "load", SLT_LOAD, 1, 3, NULL, 1, 0 },
	{ "sleep", SLT_SLEEP, 3, 3, parse_sleep, 1, 0 },
};

static const struct command *find_command(const char *name)
{
	size_t k;

	for (k = 0; k < TN_ARRAY_LEN(commands); k++)
		if (!strcmp(name, commands[k].name))
			return &commands[k];
	return NULL;
}

static int parse_script(struct parser *p, struct slt_script *out, size_t loop_line);

/* skipif/onlyif lines; leaves rec->args as the tokens of the command line. */
static int parse_conds(struct parser *p, struct slt_record *rec)
{
	for (;;) {
		slt_lines_release(&rec->args);
		tokenize(p->line[p->i], &rec->args);
		if (strcmp(rec->args.v[0], "skipif") && strcmp(rec->args.v[0], "onlyif"))
			return 0;
		if (rec->args.n != 2)
			return perr(p, p->i + 1, "usage: %s <engine>", rec->args.v[0]);
		/* Few conditions per record: grow one at a time. */
		rec->cond = tn_realloc(rec->cond, (rec->ncond + 1) * sizeof(*rec->cond));
		rec->cond[rec->ncond].onlyif = !strcmp(rec->args.v[0], "onlyif");
		rec->cond[rec->ncond].engine = tn_strdup(rec->args.v[1]);
		rec->ncond++;
		p->i++;
		if (at_gap(p) || at_comment(p))
			return perr(p, p->i, "%s must be followed by a command", rec->args.v[0]);
	}
}

static int parse_command(struct parser *p, struct slt_record *rec)
{
	const struct command *c = find_command(rec->args.v[0]);
	int rc;

	rec->line = (int)p->i + 1;
	if (!c)
		return perr(p, p->i + 1, "unknown command '%s'", rec->args.v[0]);
	rec->kind = c->kind;
	if (rec->args.n < c->min_args || rec->args.n > c->max_args)
		return perr(p, p->i + 1, "wrong number of arguments to %s", c->name);
	if (c->body && rec->ncond)
		return perr(p, p->i + 1, "skipif/onlyif cannot guard a %s", c->name);
	rc = c->fn ? c->fn(p, rec) : 0;
	if (rc || !c->oneline)
		return rc;
	p->i++;
	rc = expect_gap(p);
	if (!rc && c->body)
		rc = parse_script(p, &rec->body, (size_t)rec->line);
	return rc;
}

static int parse_record(struct parser *p, struct slt_script *out)
{
	struct slt_record rec;
	int rc;

	memset(&rec, 0, sizeof(rec));
	rc = parse_conds(p, &rec);
	if (!rc)
		rc = parse_command(p, &rec);
	if (rc) {
		record_release(&rec);
		return rc;
	}
	TN_GROW(out->v, out->alloc, out->n + 1);
	out->v[out->n++] = rec;
	return 0;
}

/* 1 when the line at p->i is the command `name` (alone or with arguments). */
static int line_is(const struct parser *p, const char *name)
{
	const char *s = p->line[p->i];
	size_t n = strlen(name);

	return !strncmp(s, name, n) && (s[n] == '\0' || isspace((unsigned char)s[n]));
}

/* Records up to the end of the file, or up to `endloop` when loop_line > 0. */
static int parse_script(struct parser *p, struct slt_script *out, size_t loop_line)
{
	int rc;

	for (;;) {
		skip_gap(p);
		if (at_end(p))
			return loop_line ? perr(p, loop_line, "loop without endloop") : 0;
		if (line_is(p, "endloop")) {
			if (!loop_line)
				return perr(p, p->i + 1, "endloop without loop");
			p->i++;
			return expect_gap(p);
		}
		if (line_is(p, "concurrentloop") || line_is(p, "concurrentforeach"))
			return perr(p, p->i + 1, "concurrent loops are not supported by tarn-slt");
		rc = parse_record(p, out);
		if (rc)
			return rc;
	}
}

int slt_parse(const char *path, struct slt_script *out, struct tn_err *err)
{
	struct parser p;
	size_t len;
	int rc;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	p.path = path;
	p.err = err;
	rc = tn_fs_read_all(path, &p.data, &len, err);
	if (rc)
		return rc;
	split_lines(&p, len);
	rc = parse_script(&p, out, 0);
	tn_free(p.line);
	tn_free(p.data);
	return rc;
}
