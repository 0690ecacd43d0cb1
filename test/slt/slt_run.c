/*
 * slt_run.c: runs a parsed test file against an engine. Each record passes,
 * fails (reported as "file:line: what" with the SQL and the results) or is
 * skipped; the run goes on after a failure. Problems that make the rest of
 * the file meaningless (the engine cannot open, a restart fails) end it.
 */
#include "base/compat.h"
#include "slt.h"
#include "base/tn_mem.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_util.h"

#include <errno.h>
#include <inttypes.h>
#include <time.h>

/* Rows of expected and actual results shown for a wrong result. */
#define SHOW_ROWS 20
/* DuckDB's STANDARD_VECTOR_SIZE, for `require vector_size N`. */
#define VECTOR_SIZE 2048

struct var {
	char *name, *value;
	int loop;             /* a loop variable, shown in failure reports */
};

struct label {
	char *name, *hash;
	int line;
};

struct named_conn {
	char *name;           /* NULL = the default connection */
	struct slt_conn *c;
};

struct run {
	const struct slt_opts *o;
	const struct slt_engine_ops *ops;
	const char *path;
	struct slt_counts *cnt;
	struct slt_engine *eng;   /* opened on first use */
	struct named_conn *conn;
	size_t nconn, aconn;
	struct var *var;
	size_t nvar, avar;
	struct label *label;
	size_t nlabel, alabel;
	char *test_dir, *work_dir;
	int64_t hash_threshold;   /* 0 = hash only when the test asks (DuckDB) */
	int skip_depth;           /* mode skip nesting */
	int output_result, output_hash;
	int stop;                 /* halt, or the file cannot go on */
	char *skip_reason;        /* an unmet require: the rest is skipped */
};

/* A statement or query with its variables substituted. */
struct text {
	char *sql, *conn, *label;
	struct slt_lines result;
};

typedef void (*run_fn)(struct run *r, const struct slt_record *rec);

static void run_script(struct run *r, const struct slt_script *s);

/* ---- variables and substitution ---- */

static void push_var(struct run *r, const char *name, const char *value, int loop)
{
	TN_GROW(r->var, r->avar, r->nvar + 1);
	r->var[r->nvar].name = tn_strdup(name);
	r->var[r->nvar].value = tn_strdup(value);
	r->var[r->nvar].loop = loop;
	r->nvar++;
}

static void pop_vars(struct run *r, size_t keep)
{
	while (r->nvar > keep) {
		r->nvar--;
		tn_free(r->var[r->nvar].name);
		tn_free(r->var[r->nvar].value);
	}
}

/* The innermost binding wins, so nested loops may reuse a name. */
static const char *find_var(const struct run *r, const char *name, size_t len)
{
	size_t k;

	for (k = r->nvar; k-- > 0;)
		if (strlen(r->var[k].name) == len && !strncmp(r->var[k].name, name, len))
			return r->var[k].value;
	return NULL;
}

/* Add ${name} (when bound) at *s to b; returns 1 when it did. */
static int subst_var(const struct run *r, const char **s, struct tn_buf *b)
{
	const char *end = strchr(*s + 2, '}');
	const char *v;

	if (!end)
		return 0;
	v = find_var(r, *s + 2, (size_t)(end - (*s + 2)));
	if (!v)
		return 0;
	tn_buf_adds(b, v);
	*s = end + 1;
	return 1;
}

/* Replace ${var}, __TEST_DIR__ and __WORKING_DIRECTORY__; NULL stays NULL. */
static char *subst(const struct run *r, const char *s)
{
	const struct { const char *name; const char *value; } fixed[] = {
		{ "__TEST_DIR__", r->test_dir },
		{ "__WORKING_DIRECTORY__", r->work_dir },
	};
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t k, n;

	if (!s)
		return NULL;
	while (*s) {
		if (s[0] == '$' && s[1] == '{' && subst_var(r, &s, &b))
			continue;
		for (k = 0; k < TN_ARRAY_LEN(fixed); k++) {
			n = strlen(fixed[k].name);
			if (!strncmp(s, fixed[k].name, n)) {
				tn_buf_adds(&b, fixed[k].value);
				s += n;
				break;
			}
		}
		if (k == TN_ARRAY_LEN(fixed))
			tn_buf_addc(&b, *s++);
	}
	return tn_buf_detach(&b, NULL);
}

static void text_init(const struct run *r, const struct slt_record *rec, struct text *t)
{
	size_t k;
	char *line;

	memset(t, 0, sizeof(*t));
	t->sql = subst(r, rec->sql);
	t->conn = subst(r, rec->conn);
	t->label = subst(r, rec->label);
	for (k = 0; k < rec->result.n; k++) {
		line = subst(r, rec->result.v[k]);
		slt_lines_add(&t->result, line, strlen(line));
		tn_free(line);
	}
}

static void text_release(struct text *t)
{
	tn_free(t->sql);
	tn_free(t->conn);
	tn_free(t->label);
	slt_lines_release(&t->result);
}

/* ---- reporting ---- */

static void print_indented(const char *title, const char *s)
{
	size_t n;

	fprintf(stderr, "  %s:\n", title);
	for (;;) {
		n = strcspn(s, "\n");
		fprintf(stderr, "    %.*s\n", (int)n, s);
		if (!s[n])
			return;
		s += n + 1;
	}
}

static void report(struct run *r, const struct slt_record *rec, const char *sql,
		   const char *fmt, ...) TN_PRINTF(4, 5);

/* Count a failure and print "file:line: what", the loop variables and the SQL. */
static void report(struct run *r, const struct slt_record *rec, const char *sql,
		   const char *fmt, ...)
{
	const char *sep = " (";
	va_list ap;
	size_t k;

	r->cnt->failed++;
	fprintf(stderr, "%s:%d: ", r->path, rec ? rec->line : 0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	for (k = 0; k < r->nvar; k++) {
		if (!r->var[k].loop)
			continue;
		fprintf(stderr, "%s%s=%s", sep, r->var[k].name, r->var[k].value);
		sep = ", ";
	}
	fprintf(stderr, "%s\n", sep[0] == ',' ? ")" : "");
	if (sql)
		print_indented("sql", sql);
}

/* A failure after which the file cannot go on. */
static void fatal(struct run *r, const struct slt_record *rec, const char *what, const char *msg)
{
	report(r, rec, NULL, "%s: %s", what, msg);
	r->stop = 1;
}

static void show_values(const char *title, const struct slt_values *v)
{
	fprintf(stderr, "  %s (%zu rows):\n", title, v->nrows);
	slt_values_print(stderr, v, SHOW_ROWS, "    ");
}

static void pass(struct run *r)
{
	r->cnt->passed++;
}

/* ---- engine and connections ---- */

static int ensure_engine(struct run *r, const struct slt_record *rec)
{
	struct tn_err err = TN_ERR_INIT;

	if (r->eng)
		return 0;
	if (r->ops->open(&r->eng, r->test_dir, &err)) {
		fatal(r, rec, "cannot open engine", err.msg);
		return -1;
	}
	return 0;
}

static int same_name(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The connection called `name` (NULL = default), opened on first use. */
static struct slt_conn *get_conn(struct run *r, const struct slt_record *rec, const char *name)
{
	struct tn_err err = TN_ERR_INIT;
	struct slt_conn *c;
	size_t k;

	if (ensure_engine(r, rec))
		return NULL;
	for (k = 0; k < r->nconn; k++)
		if (same_name(r->conn[k].name, name))
			return r->conn[k].c;
	if (r->ops->connect(r->eng, &c, &err)) {
		fatal(r, rec, "cannot connect", err.msg);
		return NULL;
	}
	TN_GROW(r->conn, r->aconn, r->nconn + 1);
	r->conn[r->nconn].name = tn_strdup(name);
	r->conn[r->nconn].c = c;
	r->nconn++;
	return c;
}

static void close_conn(struct run *r, size_t k)
{
	r->ops->disconnect(r->conn[k].c);
	tn_free(r->conn[k].name);
	r->conn[k] = r->conn[--r->nconn];
}

static void close_conns(struct run *r)
{
	while (r->nconn)
		close_conn(r, r->nconn - 1);
}

/* ---- statement ---- */

/* Internal errors are bugs, never the error a test expects (DuckDB's rule too). */
static int never_expected(const struct tn_err *err)
{
	return err->code == TN_EINTERNAL || strstr(err->msg, "INTERNAL Error") != NULL;
}

static char *join_result(const struct text *t)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t k;

	for (k = 0; k < t->result.n; k++) {
		if (k)
			tn_buf_addc(&b, '\n');
		tn_buf_adds(&b, t->result.v[k]);
	}
	return tn_buf_detach(&b, NULL);
}

/* The statement failed as `err`: was that the error the test expects? */
static void check_error(struct run *r, const struct slt_record *rec, const struct text *t,
			const struct tn_err *err)
{
	struct tn_err rx = TN_ERR_INIT;
	char *want = join_result(t);
	int match = 0;

	if (never_expected(err))
		report(r, rec, t->sql, "internal error, never an expected error: %s", err->msg);
	else if (slt_text_matches(want, err->msg, 1, &match, &rx))
		report(r, rec, t->sql, "%s", rx.msg);
	else if (!match) {
		report(r, rec, t->sql, "wrong error");
		print_indented("expected error", want);
		print_indented("actual error", err->msg);
	} else
		pass(r);
	tn_free(want);
}

static void run_statement(struct run *r, const struct slt_record *rec)
{
	struct tn_err err = TN_ERR_INIT;
	struct slt_conn *c;
	struct text t;

	text_init(r, rec, &t);
	c = get_conn(r, rec, t.conn);
	if (!c)
		goto out;
	if (r->ops->exec(c, t.sql, NULL, &err) == 0) {
		if (rec->expect == SLT_EXPECT_ERROR)
			report(r, rec, t.sql, "statement succeeded, but an error was expected");
		else
			pass(r);
	} else if (rec->expect == SLT_EXPECT_OK) {
		report(r, rec, t.sql, "statement failed: %s", err.msg);
	} else {
		check_error(r, rec, &t, &err);
	}
out:
	text_release(&t);
}

/* ---- query ---- */

/* mode output_result / output_hash: print the record as it should be written. */
static void output(const struct run *r, const struct slt_record *rec, const struct text *t,
		   const struct slt_values *act)
{
	size_t k;
	char *h;

	for (k = 0; k < rec->args.n; k++)
		printf("%s%s", k ? " " : "", rec->args.v[k]);
	printf("\n%s\n----\n", t->sql);
	if (r->output_hash ||
	    (r->hash_threshold > 0 && act->nrows * act->ncol > (size_t)r->hash_threshold)) {
		h = slt_values_hash_line(act);
		printf("%s\n", h);
		tn_free(h);
	} else {
		slt_values_print(stdout, act, SIZE_MAX, "");
	}
	printf("\n");
}

/* The first query with a label records its hash; later ones must agree. */
static int check_label(struct run *r, const struct slt_record *rec, const struct text *t,
		       const struct slt_values *act)
{
	char *h = slt_values_hash_line(act);
	size_t k;

	for (k = 0; k < r->nlabel; k++) {
		if (strcmp(r->label[k].name, t->label))
			continue;
		if (!strcmp(r->label[k].hash, h)) {
			tn_free(h);
			return 1;
		}
		report(r, rec, t->sql, "labeled result [%s] does not agree with line %d",
		       t->label, r->label[k].line);
		fprintf(stderr, "  line %d: %s\n  here:    %s\n", r->label[k].line,
			r->label[k].hash, h);
		show_values("actual", act);
		tn_free(h);
		return 0;
	}
	TN_GROW(r->label, r->alabel, r->nlabel + 1);
	r->label[r->nlabel].name = tn_strdup(t->label);
	r->label[r->nlabel].hash = h;
	r->label[r->nlabel].line = rec->line;
	r->nlabel++;
	return 1;
}

static int check_hash(struct run *r, const struct slt_record *rec, const struct text *t,
		      const struct slt_values *act)
{
	char *h = slt_values_hash_line(act);
	int ok = !strcmp(h, t->result.v[0]);

	if (!ok) {
		report(r, rec, t->sql, "wrong result hash");
		fprintf(stderr, "  expected: %s\n  actual:   %s\n", t->result.v[0], h);
		show_values("actual", act);
	}
	tn_free(h);
	return ok;
}

/* Index of the first expected value that does not stand for the actual one, or SIZE_MAX. */
static size_t first_mismatch(const struct slt_values *exp, const struct slt_values *act,
			     struct tn_err *err)
{
	size_t k, n = act->nrows * act->ncol;

	for (k = 0; k < n; k++)
		if (!slt_value_equal(exp->v[k], act->v[k], act->kind[k % act->ncol], err))
			return k;
	return SIZE_MAX;
}

static int check_values(struct run *r, const struct slt_record *rec, const struct text *t,
			const struct slt_values *act)
{
	struct tn_err err = TN_ERR_INIT;
	struct slt_values exp;
	size_t k;

	if (slt_values_from_expected(&exp, &t->result, rec->ncol, act->nrows, &err)) {
		report(r, rec, t->sql, "%s", err.msg);
		show_values("actual", act);
		return 0;
	}
	slt_values_sort(&exp, rec->sort);
	k = SIZE_MAX;
	if (exp.nrows != act->nrows)
		report(r, rec, t->sql, "wrong row count: expected %zu, got %zu", exp.nrows,
		       act->nrows);
	else if ((k = first_mismatch(&exp, act, &err)) != SIZE_MAX && err.code)
		report(r, rec, t->sql, "%s", err.msg);
	else if (k != SIZE_MAX)
		report(r, rec, t->sql, "wrong value at row %zu column %zu: expected '%s', got '%s'",
		       k / act->ncol + 1, k % act->ncol + 1, exp.v[k], act->v[k]);
	if (exp.nrows == act->nrows && k == SIZE_MAX) {
		slt_values_release(&exp);
		return 1;
	}
	show_values("expected", &exp);
	show_values("actual", act);
	slt_values_release(&exp);
	return 0;
}

static void check_query(struct run *r, const struct slt_record *rec, const struct text *t,
			struct slt_values *act)
{
	if (act->ncol != rec->ncol) {
		report(r, rec, t->sql, "wrong column count: query %s expects %zu, got %zu",
		       rec->args.v[1], rec->ncol, act->ncol);
		show_values("actual", act);
		return;
	}
	slt_values_sort(act, rec->sort);
	if (r->output_result || r->output_hash)
		output(r, rec, t, act);
	if (t->label && !check_label(r, rec, t, act))
		return;
	/* A labeled query without ---- only has to agree with the label. */
	if (t->label && !rec->has_result) {
		pass(r);
		return;
	}
	if (t->result.n == 1 && slt_is_hash_line(t->result.v[0])) {
		if (check_hash(r, rec, t, act))
			pass(r);
	} else if (check_values(r, rec, t, act)) {
		pass(r);
	}
}

static void run_query(struct run *r, const struct slt_record *rec)
{
	struct tn_err err = TN_ERR_INIT;
	struct duck_result *res = NULL;
	struct slt_values act;
	struct slt_conn *c;
	struct text t;

	text_init(r, rec, &t);
	c = get_conn(r, rec, t.conn);
	if (!c)
		goto out;
	if (r->ops->exec(c, t.sql, &res, &err)) {
		report(r, rec, t.sql, "query failed: %s", err.msg);
	} else if (!res) {
		report(r, rec, t.sql, "query returned no result");
	} else {
		slt_values_from_result(&act, res);
		duck_result_free(res);
		check_query(r, rec, &t, &act);
		slt_values_release(&act);
	}
out:
	text_release(&t);
}

/* ---- commands ---- */

/* A number argument after substitution; a bad one ends the file. */
static int int_arg(struct run *r, const struct slt_record *rec, size_t k, int64_t *out)
{
	struct tn_err err = TN_ERR_INIT;
	char *s = subst(r, rec->args.v[k]);
	int rc = tn_parse_int64(s, out, rec->args.v[0], &err);

	tn_free(s);
	if (rc)
		fatal(r, rec, "bad argument", err.msg);
	return rc;
}

static void run_hash_threshold(struct run *r, const struct slt_record *rec)
{
	int64_t n;

	if (!int_arg(r, rec, 1, &n))
		r->hash_threshold = n;
}

static void run_halt(struct run *r, const struct slt_record *rec)
{
	TN_UNUSED(rec);
	r->stop = 1;
}

static int feature_ok(const struct run *r, const struct slt_record *rec)
{
	const char *f = rec->args.v[1];
	const char *const *p;
	int64_t n;
	struct tn_err err = TN_ERR_INIT;

	if (!strcmp(f, "vector_size"))
		return rec->args.n == 3 && !tn_parse_int64(rec->args.v[2], &n, f, &err) &&
		       n <= VECTOR_SIZE;
	if (!strcmp(f, "64bit"))
		return sizeof(void *) == 8;
	if (!strcmp(f, "notwindows"))
		return 1;       /* tarn-slt is POSIX only (regex.h, mkdtemp) */
	for (p = r->ops->features; *p; p++)
		if (!strcmp(f, *p))
			return 1;
	return 0;
}

static void run_require(struct run *r, const struct slt_record *rec)
{
	if (feature_ok(r, rec))
		return;
	r->skip_reason = tn_xprintf("require %s%s%s", rec->args.v[1], rec->args.n > 2 ? " " : "",
				    rec->args.n > 2 ? rec->args.v[2] : "");
}

static void run_require_env(struct run *r, const struct slt_record *rec)
{
	const char *name = rec->args.v[1];
	const char *v = getenv(name);

	if (v && (rec->args.n < 3 || !strcmp(v, rec->args.v[2]))) {
		push_var(r, name, v, 0);
		return;
	}
	r->skip_reason = tn_xprintf("require-env %s%s", name, v ? " (other value)" : " (not set)");
}

static void run_loop(struct run *r, const struct slt_record *rec)
{
	int64_t i, start, end;
	size_t depth = r->nvar;
	char num[32];

	if (int_arg(r, rec, 2, &start) || int_arg(r, rec, 3, &end))
		return;
	for (i = start; i < end && !r->stop; i++) {
		snprintf(num, sizeof(num), "%" PRId64, i);
		push_var(r, rec->names.v[0], num, 1);
		run_script(r, &rec->body);
		pop_vars(r, depth);
	}
}

/* Bind every name of `foreach a,b` to its part of one value "x,y". */
static void bind_foreach(struct run *r, const struct slt_record *rec, const char *value)
{
	struct slt_lines parts = { 0 };
	size_t k, n;

	if (rec->names.n == 1) {
		push_var(r, rec->names.v[0], value, 1);
		return;
	}
	for (;;) {
		n = strcspn(value, ",");
		slt_lines_add(&parts, value, n);
		if (!value[n])
			break;
		value += n + 1;
	}
	for (k = 0; k < rec->names.n && k < parts.n; k++)
		push_var(r, rec->names.v[k], parts.v[k], 1);
	slt_lines_release(&parts);
}

static void run_foreach(struct run *r, const struct slt_record *rec)
{
	size_t k, depth = r->nvar;

	for (k = 0; k < rec->values.n && !r->stop; k++) {
		bind_foreach(r, rec, rec->values.v[k]);
		run_script(r, &rec->body);
		pop_vars(r, depth);
	}
}

static void run_mode(struct run *r, const struct slt_record *rec)
{
	const char *m = rec->args.v[1];

	if (!strcmp(m, "skip"))
		r->skip_depth++;
	else if (!strcmp(m, "unskip"))
		r->skip_depth -= r->skip_depth > 0;
	else if (!strcmp(m, "output_result"))
		r->output_result = 1;
	else if (!strcmp(m, "output_hash"))
		r->output_hash = 1;
	else
		r->output_result = r->output_hash = 0;
}

/* restart and load: every connection goes, the engine reopens what it stored. */
static void run_restart(struct run *r, const struct slt_record *rec)
{
	struct tn_err err = TN_ERR_INIT;

	close_conns(r);
	if (r->eng && r->ops->restart(r->eng, &err))
		fatal(r, rec, "restart failed", err.msg);
}

static void run_reconnect(struct run *r, const struct slt_record *rec)
{
	size_t k;

	TN_UNUSED(rec);
	for (k = 0; k < r->nconn; k++) {
		if (!r->conn[k].name) {
			close_conn(r, k);
			return;
		}
	}
}

static void run_sleep(struct run *r, const struct slt_record *rec)
{
	static const struct { char unit; int64_t ns; } units[] = {
		{ 's', 1000000000 }, { 'm', 1000000 }, { 'u', 1000 }, { 'n', 1 } };
	struct timespec ts;
	int64_t n, ns = 1;
	size_t k;

	if (int_arg(r, rec, 1, &n))
		return;
	for (k = 0; k < TN_ARRAY_LEN(units); k++)
		if (rec->args.v[2][0] == units[k].unit)
			ns = units[k].ns;
	ts.tv_sec = (time_t)(n * ns / 1000000000);
	ts.tv_nsec = (long)(n * ns % 1000000000);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static const run_fn runners[SLT_KIND_COUNT] = {
	[SLT_STATEMENT] = run_statement,
	[SLT_QUERY] = run_query,
	[SLT_HASH_THRESHOLD] = run_hash_threshold,
	[SLT_HALT] = run_halt,
	[SLT_REQUIRE] = run_require,
	[SLT_REQUIRE_ENV] = run_require_env,
	[SLT_LOOP] = run_loop,
	[SLT_FOREACH] = run_foreach,
	[SLT_MODE] = run_mode,
	[SLT_RESTART] = run_restart,
	[SLT_RECONNECT] = run_reconnect,
	[SLT_LOAD] = run_restart,
	[SLT_SLEEP] = run_sleep,
};

/* ---- records ---- */

static int cond_skips(const struct run *r, const struct slt_record *rec)
{
	size_t k;
	int same;

	for (k = 0; k < rec->ncond; k++) {
		same = tn_strieq(rec->cond[k].engine, r->ops->name);
		if (rec->cond[k].onlyif ? !same : same)
			return 1;
	}
	return 0;
}

/*
 * Loops still run while skipping so that every skipped statement and query
 * is counted; mode commands run so that `mode unskip` is seen.
 */
static int skipped(const struct run *r, const struct slt_record *rec)
{
	int loop = rec->kind == SLT_LOOP || rec->kind == SLT_FOREACH;

	if (cond_skips(r, rec))
		return 1;
	if (r->skip_reason)
		return !loop && rec->kind != SLT_HALT;
	return r->skip_depth > 0 && !loop && rec->kind != SLT_MODE;
}

static void run_record(struct run *r, const struct slt_record *rec)
{
	if (skipped(r, rec)) {
		if (rec->kind == SLT_STATEMENT || rec->kind == SLT_QUERY)
			r->cnt->skipped++;
		return;
	}
	if (r->o->verbose)
		fprintf(stderr, "%s:%d: %s %s\n", r->path, rec->line, rec->args.v[0],
			rec->args.n > 1 ? rec->args.v[1] : "");
	runners[rec->kind](r, rec);
}

static void run_script(struct run *r, const struct slt_script *s)
{
	size_t k;

	for (k = 0; k < s->n && !r->stop; k++)
		run_record(r, &s->v[k]);
}

/* ---- files ---- */

/* A fresh __TEST_DIR__ under $TMPDIR (or /tmp); caller frees. */
static char *make_test_dir(struct tn_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = tn_xprintf("%s/tarn-slt-XXXXXX", tmp && *tmp ? tmp : "/tmp");

	if (mkdtemp(dir))
		return dir;
	tn_err_set(err, TN_EIO, "cannot create %s: %s", dir, strerror(errno));
	tn_free(dir);
	return NULL;
}

static void run_release(struct run *r)
{
	struct tn_err err = TN_ERR_INIT;
	size_t k;

	close_conns(r);
	if (r->eng)
		r->ops->close(r->eng);
	pop_vars(r, 0);
	tn_free(r->var);
	for (k = 0; k < r->nlabel; k++) {
		tn_free(r->label[k].name);
		tn_free(r->label[k].hash);
	}
	tn_free(r->label);
	tn_free(r->conn);
	if (r->test_dir && r->o->keep)
		fprintf(stderr, "%s: kept test directory %s\n", r->path, r->test_dir);
	else if (r->test_dir && tn_fs_remove_tree(r->test_dir, &err))
		fprintf(stderr, "%s: warning: %s\n", r->path, err.msg);
	tn_free(r->test_dir);
	tn_free(r->work_dir);
	tn_free(r->skip_reason);
}

void slt_run_file(const char *path, const struct slt_opts *o, struct slt_counts *cnt)
{
	struct tn_err err = TN_ERR_INIT;
	struct slt_script script;
	struct run r;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.ops = o->ops;
	r.path = path;
	r.cnt = cnt;
	if (slt_parse(path, &script, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		cnt->failed++;
		slt_script_release(&script);
		return;
	}
	r.test_dir = make_test_dir(&err);
	r.work_dir = tn_fs_abspath(".");
	if (!r.test_dir)
		report(&r, NULL, NULL, "%s", err.msg);
	else
		run_script(&r, &script);
	if (r.skip_reason)
		fprintf(stderr, "%s: skipped (%s)\n", path, r.skip_reason);
	run_release(&r);
	slt_script_release(&script);
}
