/*
 * sqlparse.c - tarn's reader for the statement heads DuckDB will not hand out.
 *
 * A lexer that follows DuckDB's (PostgreSQL's) scanner closely enough to find
 * statement boundaries and bracket depth, then one small parser per statement
 * kind. Expressions are never interpreted: they are cut out of the source as
 * exact text (from their first token to their last, so a trailing comment can
 * never swallow what a caller appends) and handed back to DuckDB later.
 */
#include "base/compat.h"
#include "lake/sqlparse.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"
#include <strings.h>

/* ------------------------------------------------------------------ lexer */

enum tok_kind {
	TOK_WORD,       /* unquoted identifier or keyword */
	TOK_QUOTED,     /* "quoted identifier" */
	TOK_STRING,     /* 'string' */
	TOK_ESTRING,    /* E'string' with backslash escapes */
	TOK_DOLLAR,     /* $tag$string$tag$ */
	TOK_NUMBER,
	TOK_PARAM,      /* $1, $name */
	TOK_OP          /* operator or punctuation, incl. ( ) [ ] { } , ; . */
};

struct tok {
	enum tok_kind kind;
	size_t start, end;      /* byte offsets into the source, end exclusive */
	int depth;              /* bracket depth; an opener and its closer share it */
};

struct lexer {
	const char *s;
	size_t pos;
	int depth;
};

/* PostgreSQL's operator characters; a run of them is one operator token. */
static const char op_chars[] = "+-*/<>=~!@#%^&|`?";

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (unsigned char)c >= 0x80;
}

static int is_ident_char(int c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

static int is_op_char(int c)
{
	return c && strchr(op_chars, c) != NULL;
}

static int line_of(const char *s, size_t off)
{
	int line = 1;
	size_t i;

	for (i = 0; i < off && s[i]; i++)
		if (s[i] == '\n')
			line++;
	return line;
}

static int unterminated(const struct lexer *lx, const char *what, size_t start, struct tn_err *err)
{
	return tn_err_set(err, TN_EINVAL, "unterminated %s starting at line %d", what,
			  line_of(lx->s, start));
}

/* DuckDB's scanner (from PostgreSQL) nests block comments: it runs
 * "select /" "* a /" "* b *" "/ 1 *" "/ 2" as "select 2", so we must too. */
static int skip_block_comment(struct lexer *lx, struct tn_err *err)
{
	const char *s = lx->s;
	size_t start = lx->pos, i = lx->pos + 2;
	int nest = 1;

	while (s[i]) {
		if (s[i] == '/' && s[i + 1] == '*') {
			nest++;
			i += 2;
		} else if (s[i] == '*' && s[i + 1] == '/') {
			i += 2;
			if (--nest == 0) {
				lx->pos = i;
				return 0;
			}
		} else {
			i++;
		}
	}
	return unterminated(lx, "/* comment", start, err);
}

static int skip_space(struct lexer *lx, struct tn_err *err)
{
	const char *s = lx->s;
	int rc;

	for (;;) {
		if (is_space(s[lx->pos])) {
			lx->pos++;
		} else if (s[lx->pos] == '-' && s[lx->pos + 1] == '-') {
			while (s[lx->pos] && s[lx->pos] != '\n')
				lx->pos++;
		} else if (s[lx->pos] == '/' && s[lx->pos + 1] == '*') {
			rc = skip_block_comment(lx, err);
			if (rc)
				return rc;
		} else {
			return 0;
		}
	}
}

/* A quote-delimited token from lx->pos (at the opening quote) on; a doubled
 * quote stands for itself, and with `backslash` so does \<any>. */
static int lex_quoted(struct lexer *lx, char q, int backslash, const char *what, size_t start,
		      struct tn_err *err)
{
	const char *s = lx->s;
	size_t i = lx->pos + 1;

	for (;;) {
		if (!s[i])
			return unterminated(lx, what, start, err);
		if (backslash && s[i] == '\\' && s[i + 1]) {
			i += 2;
		} else if (s[i] == q && s[i + 1] == q) {
			i += 2;
		} else if (s[i] == q) {
			lx->pos = i + 1;
			return 0;
		} else {
			i++;
		}
	}
}

/* Length of the "$tag$" opening a dollar quote at s (s[0] == '$'), or 0. */
static size_t dollar_tag_len(const char *s)
{
	size_t i = 1;

	if (is_ident_start(s[1])) {
		i = 2;
		while (is_ident_char(s[i]) && s[i] != '$')
			i++;
	}
	return s[i] == '$' ? i + 1 : 0;
}

static int lex_dollar(struct lexer *lx, size_t taglen, struct tn_err *err)
{
	const char *s = lx->s;
	size_t start = lx->pos, i = lx->pos + taglen;

	for (; s[i]; i++) {
		if (s[i] == '$' && strncmp(s + i, s + start, taglen) == 0) {
			lx->pos = i + taglen;
			return 0;
		}
	}
	return unterminated(lx, "dollar-quoted string", start, err);
}

/* $1 or $name (DuckDB's named parameters); a lone '$' is an operator. */
static enum tok_kind lex_param(struct lexer *lx)
{
	const char *s = lx->s;
	size_t i = lx->pos + 1;

	if (!is_digit(s[i]) && !is_ident_start(s[i])) {
		lx->pos = i;
		return TOK_OP;
	}
	while (is_ident_char(s[i]) && s[i] != '$')
		i++;
	lx->pos = i;
	return TOK_PARAM;
}

static void lex_number(struct lexer *lx)
{
	const char *s = lx->s;
	size_t i = lx->pos;

	while (is_digit(s[i]) || s[i] == '_' || s[i] == '.')
		i++;
	if ((s[i] == 'e' || s[i] == 'E') &&
	    (is_digit(s[i + 1]) || ((s[i + 1] == '+' || s[i + 1] == '-') && is_digit(s[i + 2]))))
		i += 2;
	/* the rest of 1e10, 0x1F, 1_000: harmless to take as one token */
	while (is_ident_char(s[i]) && s[i] != '$')
		i++;
	lx->pos = i;
}

/* An operator run, cut the way PostgreSQL cuts it: never across the start of
 * a comment, and "=-" is "=" then "-" unless the run has one of ~!@#%^&|`?. */
static void lex_operator(struct lexer *lx)
{
	const char *s = lx->s;
	size_t start = lx->pos, i = lx->pos + 1, k;
	int special = 0;

	while (is_op_char(s[i]) && !(s[i] == '-' && s[i + 1] == '-') &&
	       !(s[i] == '/' && s[i + 1] == '*'))
		i++;
	for (k = start; k < i; k++)
		if (strchr("~!@#%^&|`?", s[k]))
			special = 1;
	while (!special && i - start > 1 && (s[i - 1] == '+' || s[i - 1] == '-'))
		i--;
	lx->pos = i;
}

/* Punctuation, ':' forms and bytes we do not know: one token each. */
static void lex_punct(struct lexer *lx)
{
	const char *s = lx->s;
	size_t i = lx->pos;

	if (s[i] == ':' && (s[i + 1] == ':' || s[i + 1] == '='))
		lx->pos = i + 2;
	else
		lx->pos = i + 1;
}

static void track_depth(struct lexer *lx, struct tok *t)
{
	char c = lx->s[t->start];

	t->depth = lx->depth;
	if (t->kind != TOK_OP || t->end - t->start != 1)
		return;
	if (c == '(' || c == '[' || c == '{') {
		lx->depth++;
	} else if ((c == ')' || c == ']' || c == '}') && lx->depth > 0) {
		lx->depth--;
		t->depth = lx->depth;
	}
}

static int lex_body(struct lexer *lx, struct tok *t, struct tn_err *err)
{
	const char *s = lx->s;
	char c = s[lx->pos];
	size_t taglen;

	t->kind = TOK_OP;
	if ((c == 'E' || c == 'e') && s[lx->pos + 1] == '\'') {
		t->kind = TOK_ESTRING;
		lx->pos++;
		return lex_quoted(lx, '\'', 1, "string literal", t->start, err);
	}
	if (is_ident_start(c)) {
		while (is_ident_char(s[lx->pos]))
			lx->pos++;
		t->kind = TOK_WORD;
	} else if (c == '\'') {
		t->kind = TOK_STRING;
		return lex_quoted(lx, '\'', 0, "string literal", t->start, err);
	} else if (c == '"') {
		t->kind = TOK_QUOTED;
		return lex_quoted(lx, '"', 0, "quoted identifier", t->start, err);
	} else if (c == '$' && (taglen = dollar_tag_len(s + lx->pos)) > 0) {
		t->kind = TOK_DOLLAR;
		return lex_dollar(lx, taglen, err);
	} else if (c == '$') {
		t->kind = lex_param(lx);
	} else if (is_digit(c) || (c == '.' && is_digit(s[lx->pos + 1]))) {
		t->kind = TOK_NUMBER;
		lex_number(lx);
	} else if (is_op_char(c)) {
		lex_operator(lx);
	} else {
		lex_punct(lx);
	}
	return 0;
}

/* The next token: 1 with *t filled, 0 at the end, or a negative TN_E* code. */
static int lex_next(struct lexer *lx, struct tok *t, struct tn_err *err)
{
	int rc = skip_space(lx, err);

	if (rc)
		return rc;
	if (!lx->s[lx->pos])
		return 0;
	t->start = lx->pos;
	rc = lex_body(lx, t, err);
	if (rc)
		return rc;
	t->end = lx->pos;
	track_depth(lx, t);
	return 1;
}

static void lexer_init(struct lexer *lx, const char *s)
{
	lx->s = s;
	lx->pos = 0;
	lx->depth = 0;
}

static int tok_is_semicolon(const char *s, const struct tok *t)
{
	return t->kind == TOK_OP && t->end - t->start == 1 && s[t->start] == ';';
}

/* -------------------------------------------------------------- splitting */

static void push_stmt(char ***v, size_t *n, size_t *alloc, const char *s, size_t from, size_t to)
{
	TN_GROW(*v, *alloc, *n + 1);
	(*v)[(*n)++] = tn_strndup(s + from, to - from);
}

int sqlparse_split(const char *sql, char ***stmts, size_t *n, struct tn_err *err)
{
	struct lexer lx;
	struct tok t;
	char **v = NULL;
	size_t nv = 0, alloc = 0, first = 0, last = 0;
	int rc, have = 0;

	*stmts = NULL;
	*n = 0;
	if (!sql)
		return tn_err_set(err, TN_EINVAL, "no SQL given");
	lexer_init(&lx, sql);
	while ((rc = lex_next(&lx, &t, err)) > 0) {
		if (tok_is_semicolon(sql, &t)) {
			if (have)
				push_stmt(&v, &nv, &alloc, sql, first, last);
			have = 0;
			continue;
		}
		if (!have)
			first = t.start;
		have = 1;
		last = t.end;
	}
	if (rc < 0) {
		sqlparse_free_list(v, nv);
		return rc;
	}
	if (have)
		push_stmt(&v, &nv, &alloc, sql, first, last);
	*stmts = v;
	*n = nv;
	return 0;
}

void sqlparse_free_list(char **stmts, size_t n)
{
	size_t i;

	if (!stmts)
		return;
	for (i = 0; i < n; i++)
		tn_free(stmts[i]);
	tn_free(stmts);
}

int sqlparse_is_complete(const char *sql)
{
	struct lexer lx;
	struct tok t;
	int rc, semi = 0;

	if (!sql)
		return 0;
	lexer_init(&lx, sql);
	/* an unterminated quote or comment makes lex_next fail: not complete */
	while ((rc = lex_next(&lx, &t, NULL)) > 0)
		semi = tok_is_semicolon(sql, &t);
	return rc == 0 && semi;
}

/* ------------------------------------------------------------ the parser */

struct parser {
	const char *src;
	struct tok *toks;
	size_t ntoks, pos;
	const char *what;          /* statement head for messages: "CREATE TABLE" */
	struct sql_stmt *st;
	struct tn_err *err;
};

/* DuckDB 1.4's reserved and type_function keywords (duckdb_keywords()):
 * never a bare table, column or alias name, though any word may follow a '.'. */
static const char *const not_names[] = {
	"ALL", "ANALYSE", "ANALYZE", "AND", "ANY", "ARRAY", "AS", "ASC", "ASYMMETRIC", "BOTH",
	"CASE", "CAST", "CHECK", "COLLATE", "COLUMN", "CONSTRAINT", "CREATE", "DEFAULT",
	"DEFERRABLE", "DESC", "DESCRIBE", "DISTINCT", "DO", "ELSE", "END", "EXCEPT", "FALSE",
	"FETCH", "FOR", "FOREIGN", "FROM", "GROUP", "HAVING", "IN", "INITIALLY", "INTERSECT",
	"INTO", "LAMBDA", "LATERAL", "LEADING", "LIMIT", "NOT", "NULL", "OFFSET", "ON", "ONLY",
	"OR", "ORDER", "PIVOT", "PIVOT_LONGER", "PIVOT_WIDER", "PLACING", "PRIMARY", "QUALIFY",
	"REFERENCES", "RETURNING", "SELECT", "SHOW", "SOME", "SUMMARIZE", "SYMMETRIC", "TABLE",
	"THEN", "TO", "TRAILING", "TRUE", "UNION", "UNIQUE", "UNPIVOT", "USING", "VARIADIC",
	"WHEN", "WHERE", "WINDOW", "WITH",
	"ANTI", "ASOF", "AT", "AUTHORIZATION", "BINARY", "BY", "COLLATION", "COLUMNS",
	"CONCURRENTLY", "CROSS", "FREEZE", "FULL", "GENERATED", "GLOB", "ILIKE", "INNER", "IS",
	"ISNULL", "JOIN", "LEFT", "LIKE", "MAP", "NATURAL", "NOTNULL", "OUTER", "OVERLAPS",
	"POSITIONAL", "RIGHT", "SEMI", "SIMILAR", "STRUCT", "TABLESAMPLE", "TRY_CAST", "UNPACK",
	"VERBOSE", NULL
};

/* Words that start a query, wherever a query may stand. */
static const char *const query_heads[] = {
	"SELECT", "WITH", "FROM", "VALUES", "TABLE", "PIVOT", "UNPIVOT", NULL
};

/* Where a column type ends in ADD COLUMN / ALTER COLUMN … TYPE. */
static const char *const type_stops[] = {
	"DEFAULT", "NOT", "NULL", "PRIMARY", "UNIQUE", "CHECK", "REFERENCES", "COLLATE",
	"CONSTRAINT", "GENERATED", "AS", "USING", NULL
};

/* Column constraints other than NULL / NOT NULL / DEFAULT. */
static const char *const constraint_words[] = {
	"PRIMARY", "UNIQUE", "CHECK", "REFERENCES", "COLLATE", "CONSTRAINT", "GENERATED", "AS",
	NULL
};

static int word_at(const struct parser *p, size_t i, const char *kw)
{
	const struct tok *t;
	size_t n = strlen(kw);

	if (i >= p->ntoks)
		return 0;
	t = &p->toks[i];
	return t->kind == TOK_WORD && t->end - t->start == n &&
	       strncasecmp(p->src + t->start, kw, n) == 0;
}

static int word_in(const struct parser *p, size_t i, const char *const *words)
{
	for (; *words; words++)
		if (word_at(p, i, *words))
			return 1;
	return 0;
}

static int op_at(const struct parser *p, size_t i, const char *op)
{
	const struct tok *t;
	size_t n = strlen(op);

	if (i >= p->ntoks)
		return 0;
	t = &p->toks[i];
	return t->kind == TOK_OP && t->end - t->start == n && memcmp(p->src + t->start, op, n) == 0;
}

/* "IF NOT EXISTS": each space-separated word in turn from token i. */
static int phrase_at(const struct parser *p, size_t i, const char *phrase)
{
	char w[32];
	const char *sp;
	size_t n;

	while (*phrase) {
		sp = strchr(phrase, ' ');
		n = sp ? (size_t)(sp - phrase) : strlen(phrase);
		if (n >= sizeof(w))
			return 0;
		memcpy(w, phrase, n);
		w[n] = '\0';
		if (!word_at(p, i++, w))
			return 0;
		phrase += sp ? n + 1 : n;
	}
	return 1;
}

static int peek(const struct parser *p, const char *kw)
{
	return word_at(p, p->pos, kw);
}

static int accept_kw(struct parser *p, const char *kw)
{
	if (!word_at(p, p->pos, kw))
		return 0;
	p->pos++;
	return 1;
}

static int accept_phrase(struct parser *p, const char *phrase)
{
	const char *c;

	if (!phrase_at(p, p->pos, phrase))
		return 0;
	p->pos++;
	for (c = phrase; *c; c++)
		if (*c == ' ')
			p->pos++;
	return 1;
}

static int accept_op(struct parser *p, const char *op)
{
	if (!op_at(p, p->pos, op))
		return 0;
	p->pos++;
	return 1;
}

static int at_end(const struct parser *p)
{
	return p->pos >= p->ntoks;
}

static int ident_at(const struct parser *p, size_t i)
{
	if (i >= p->ntoks)
		return 0;
	if (p->toks[i].kind == TOK_QUOTED)
		return 1;
	return p->toks[i].kind == TOK_WORD && !word_in(p, i, not_names);
}

/* A name part after a '.': keywords are fine there. */
static int label_at(const struct parser *p, size_t i)
{
	return i < p->ntoks && (p->toks[i].kind == TOK_WORD || p->toks[i].kind == TOK_QUOTED);
}

static int is_string_tok(const struct parser *p, size_t i)
{
	return i < p->ntoks && (p->toks[i].kind == TOK_STRING || p->toks[i].kind == TOK_ESTRING ||
				p->toks[i].kind == TOK_DOLLAR);
}

/* The matching closer of the opener at token i. */
static size_t match_close(const struct parser *p, size_t i)
{
	size_t j;

	for (j = i + 1; j < p->ntoks; j++)
		if (p->toks[j].depth == p->toks[i].depth)
			return j;
	return p->ntoks;      /* not reached: brackets were checked balanced */
}

/* The first token from `from` on at depth 0 that is one of `stops`. */
static size_t find_stop(const struct parser *p, size_t from, const char *const *stops)
{
	size_t i;

	for (i = from; i < p->ntoks; i++)
		if (p->toks[i].depth == 0 && word_in(p, i, stops))
			return i;
	return p->ntoks;
}

/* Exact source text of tokens [from, to): inner comments kept. */
static char *span(const struct parser *p, size_t from, size_t to)
{
	if (from >= to)
		return NULL;
	return tn_strndup(p->src + p->toks[from].start, p->toks[to - 1].end - p->toks[from].start);
}

/* ---------------------------------------------------------------- errors */

/* `n` bytes of source squeezed to single spaces, keeping the tail when long:
 * the tail is what sits next to the error. */
static void squeeze_tail(const char *s, size_t n, char *out, size_t outsz)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i, keep = outsz - 4, from = 0;

	for (i = 0; i < n; i++) {
		if (!is_space(s[i]))
			tn_buf_addc(&b, s[i]);
		else if (b.len && b.buf[b.len - 1] != ' ')
			tn_buf_addc(&b, ' ');
	}
	if (b.len > outsz - 1) {
		from = b.len - keep;
		while (from < b.len && ((unsigned char)b.buf[from] & 0xC0) == 0x80)
			from++;     /* do not start inside a UTF-8 sequence */
		snprintf(out, outsz, "...%s", b.buf + from);
	} else {
		snprintf(out, outsz, "%s", b.buf);
	}
	tn_buf_release(&b);
}

static void describe_tok(const struct parser *p, char *out, size_t outsz)
{
	const struct tok *t;
	char text[48];
	int line;

	if (at_end(p)) {
		snprintf(out, outsz, "end of statement");
		return;
	}
	t = &p->toks[p->pos];
	squeeze_tail(p->src + t->start, t->end - t->start, text, sizeof(text));
	line = line_of(p->src, t->start);
	if (line > 1)
		snprintf(out, outsz, "'%s' at line %d", text, line);
	else
		snprintf(out, outsz, "'%s'", text);
}

/* "UPDATE: expected SET after UPDATE t, found 'WHERE'" */
static int expected(struct parser *p, const char *what)
{
	char before[72], found[80];
	size_t end = p->pos ? p->toks[p->pos - 1].end : 0;

	squeeze_tail(p->src, end, before, sizeof(before));
	describe_tok(p, found, sizeof(found));
	return tn_err_set(p->err, TN_EINVAL, "%s: expected %s after %s, found %s", p->what, what,
			  before, found);
}

static int fail(struct parser *p, enum tn_code code, const char *fmt, ...) TN_PRINTF(3, 4);

static int fail(struct parser *p, enum tn_code code, const char *fmt, ...)
{
	char msg[sizeof(p->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return tn_err_set(p->err, code, "%s", msg);
}

static int expect_end(struct parser *p, const char *what)
{
	return at_end(p) ? 0 : expected(p, what);
}

/* RETURNING at depth 0 from `from` on: tarn's DML answers with a count only. */
static int reject_returning(struct parser *p, size_t from)
{
	static const char *const ret[] = { "RETURNING", NULL };

	if (find_stop(p, from, ret) == p->ntoks)
		return 0;
	return fail(p, TN_EUNSUPPORTED,
		    "%s … RETURNING is not supported; run a SELECT after the statement instead",
		    p->what);
}

/* ----------------------------------------------------- names and strings */

/* Text between the quotes of s[0..n), a doubled quote standing for one. */
static char *unquote(const char *s, size_t n, char q)
{
	char *out = tn_malloc(n), *o = out;
	size_t i;

	for (i = 1; i + 1 < n; i++) {
		*o++ = s[i];
		if (s[i] == q && s[i + 1] == q)
			i++;
	}
	*o = '\0';
	return out;
}

static char *ident_text(const struct parser *p, size_t i)
{
	const struct tok *t = &p->toks[i];

	if (t->kind == TOK_QUOTED)
		return unquote(p->src + t->start, t->end - t->start, '"');
	return tn_strndup(p->src + t->start, t->end - t->start);
}

static int parse_ident(struct parser *p, char **out, const char *what)
{
	if (!ident_at(p, p->pos))
		return expected(p, what);
	*out = ident_text(p, p->pos++);
	return 0;
}

/* A dotted name of at most `max` parts into parts[], *n of them. */
static int parse_parts(struct parser *p, char **parts, size_t max, size_t *n, const char *what)
{
	size_t first = p->pos;
	char text[72];

	*n = 0;
	for (;;) {
		if (!(*n ? label_at(p, p->pos) : ident_at(p, p->pos)))
			return expected(p, *n ? "a name after '.'" : what);
		if (*n == max) {
			while (label_at(p, p->pos) || op_at(p, p->pos, "."))
				p->pos++;
			squeeze_tail(p->src + p->toks[first].start,
				     p->toks[p->pos - 1].end - p->toks[first].start, text, sizeof(text));
			return fail(p, TN_EINVAL, "%s: name %s has too many parts (at most %zu)",
				    p->what, text, max);
		}
		parts[(*n)++] = ident_text(p, p->pos++);
		if (!accept_op(p, "."))
			return 0;
	}
}

static void free_parts(char **parts, size_t n)
{
	while (n)
		tn_free(parts[--n]);
}

/* [catalog.][schema.]name */
static int parse_name(struct parser *p, struct sql_name *nm, const char *what)
{
	char *parts[3];
	size_t n;
	int rc = parse_parts(p, parts, 3, &n, what);

	if (rc) {
		free_parts(parts, n);
		return rc;
	}
	nm->name = parts[n - 1];
	nm->schema = n >= 2 ? parts[n - 2] : NULL;
	nm->catalog = n >= 3 ? parts[n - 3] : NULL;
	return 0;
}

/* [catalog.]schema: a schema's own name goes to nm->name. */
static int parse_schema_name(struct parser *p, struct sql_name *nm)
{
	char *parts[2];
	size_t n;
	int rc = parse_parts(p, parts, 2, &n, "a schema name");

	if (rc) {
		free_parts(parts, n);
		return rc;
	}
	nm->name = parts[n - 1];
	nm->catalog = n == 2 ? parts[0] : NULL;
	return 0;
}

/* ( a, b, "c" ) into st->columns */
static int parse_column_list(struct parser *p)
{
	struct sql_stmt *st = p->st;
	size_t alloc = 0;
	int rc;

	if (!accept_op(p, "("))
		return expected(p, "'('");
	do {
		TN_GROW(st->columns, alloc, st->ncolumns + 1);
		st->columns[st->ncolumns] = NULL;
		rc = parse_ident(p, &st->columns[st->ncolumns], "a column name");
		if (rc)
			return rc;
		st->ncolumns++;
	} while (accept_op(p, ","));
	return accept_op(p, ")") ? 0 : expected(p, "',' or ')'");
}

static int hex_value(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One backslash escape of an E'' string at s[i] (after the '\'), as DuckDB
 * reads them; returns the number of bytes read, 0 if DuckDB would refuse. */
static size_t unescape_one(const char *s, size_t i, size_t end, char *o)
{
	static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
	const char *m = strchr(from, s[i]);
	size_t k = 0;
	int v = 0;

	if (s[i] == 'x' && i + 1 < end && hex_value(s[i + 1]) >= 0) {
		for (k = 1; k <= 2 && i + k < end && hex_value(s[i + k]) >= 0; k++)
			v = v * 16 + hex_value(s[i + k]);
	} else if (s[i] >= '0' && s[i] <= '7') {
		for (k = 0; k < 3 && i + k < end && s[i + k] >= '0' && s[i + k] <= '7'; k++)
			v = v * 8 + (s[i + k] - '0');
	} else if (s[i] == 'u' || s[i] == 'U') {
		return 0;             /* DuckDB: "unicode_to_utf8 NOT IMPLEMENTED" */
	} else {
		*o = m && *m ? to[m - from] : s[i];
		return 1;
	}
	*o = (char)v;
	return v ? k : 0;     /* a NUL byte would cut the string short */
}

/* The value of E'…' (s[0..n) with the E); NULL if DuckDB would refuse it. */
static char *unescape_e(const char *s, size_t n)
{
	char *out = tn_malloc(n), *o = out;
	size_t i = 2, end = n - 1, k;

	while (i < end) {
		if (s[i] == '\'') {           /* '' */
			*o++ = '\'';
			i += 2;
		} else if (s[i] != '\\') {
			*o++ = s[i++];
		} else {
			k = unescape_one(s, i + 1, end, o++);
			if (!k) {
				tn_free(out);
				return NULL;
			}
			i += 1 + k;
		}
	}
	*o = '\0';
	return out;
}

static char *string_value(const struct parser *p, size_t i)
{
	const struct tok *t = &p->toks[i];
	const char *s = p->src + t->start;
	size_t n = t->end - t->start, tag;

	if (t->kind == TOK_ESTRING)
		return unescape_e(s, n);
	if (t->kind == TOK_STRING)
		return unquote(s, n, '\'');
	tag = dollar_tag_len(s);
	return tn_strndup(s + tag, n - 2 * tag);
}

/* 'a' <newline> 'b' is 'ab' in DuckDB, as in PostgreSQL. */
static int continues_string(const struct parser *p, size_t i)
{
	const char *gap;
	size_t k;

	if (i >= p->ntoks || p->toks[i].kind != TOK_STRING || p->toks[i - 1].kind == TOK_DOLLAR)
		return 0;
	gap = p->src + p->toks[i - 1].end;
	for (k = 0; gap + k < p->src + p->toks[i].start; k++) {
		if (gap[k] == '\n')
			return 1;
		if (!is_space(gap[k]))
			return 0;
	}
	return 0;
}

/* A string literal (possibly continued over lines) into *out. */
static int parse_string(struct parser *p, char **out, const char *what)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	char *v;

	if (!is_string_tok(p, p->pos))
		return expected(p, what);
	do {
		v = string_value(p, p->pos);
		if (!v) {
			tn_buf_release(&b);
			return fail(p, TN_EINVAL,
				    "%s: bad escape in E'' string at line %d (\\u and NUL escapes are not allowed)",
				    p->what, line_of(p->src, p->toks[p->pos].start));
		}
		tn_buf_adds(&b, v);
		tn_free(v);
		p->pos++;
	} while (continues_string(p, p->pos));
	*out = tn_buf_detach(&b, NULL);
	return 0;
}

/* --------------------------------------------------- queries and simple */

static int query_at(const struct parser *p, size_t i)
{
	return word_in(p, i, query_heads) || op_at(p, i, "(");
}

/* Index of the statement after WITH's CTE list, or ntoks if it does not
 * look like one: WITH [RECURSIVE] n [(cols)] [USING KEY (k)] AS
 * [[NOT] MATERIALIZED] (q) [, …] */
static size_t after_ctes(const struct parser *p, size_t i)
{
	if (word_at(p, ++i, "RECURSIVE"))
		i++;
	for (;;) {
		if (!ident_at(p, i++))
			return p->ntoks;
		if (op_at(p, i, "("))
			i = match_close(p, i) + 1;
		if (phrase_at(p, i, "USING KEY") && op_at(p, i + 2, "("))
			i = match_close(p, i + 2) + 1;
		if (!word_at(p, i++, "AS"))
			return p->ntoks;
		if (word_at(p, i, "NOT"))
			i++;
		if (word_at(p, i, "MATERIALIZED"))
			i++;
		if (!op_at(p, i, "("))
			return p->ntoks;
		i = match_close(p, i) + 1;
		if (!op_at(p, i, ","))
			return i;
		i++;
	}
}

static int parse_query(struct parser *p)
{
	static const char *const writes[] = { "INSERT", "UPDATE", "DELETE", "MERGE" };
	size_t main, i;

	p->st->kind = SQL_QUERY;
	if (!word_at(p, 0, "WITH"))
		return 0;
	main = after_ctes(p, 0);
	for (i = 0; i < TN_ARRAY_LEN(writes); i++)
		if (word_at(p, main, writes[i]))
			return fail(p, TN_EUNSUPPORTED, "WITH … %s is not supported; put the WITH inside "
				    "the statement's query or WHERE subquery instead", writes[i]);
	return 0;
}

static int parse_passthrough(struct parser *p)
{
	struct sql_stmt *st = p->st;

	st->kind = SQL_PASSTHROUGH;
	st->if_exists = st->if_not_exists = st->or_replace = st->cascade = 0;
	return 0;
}

/* BEGIN / COMMIT / ROLLBACK take TRANSACTION or WORK and nothing else. */
static int parse_txn(struct parser *p, enum sql_kind kind)
{
	char found[80];

	p->st->kind = kind;
	if (!accept_kw(p, "TRANSACTION"))
		accept_kw(p, "WORK");
	if (at_end(p))
		return 0;
	describe_tok(p, found, sizeof(found));
	return fail(p, TN_EUNSUPPORTED,
		    "%s: transaction options and savepoints are not supported (found %s); use plain %s",
		    p->what, found, p->what);
}

static int parse_begin(struct parser *p)
{
	return parse_txn(p, SQL_BEGIN);
}

static int parse_start(struct parser *p)
{
	if (!peek(p, "TRANSACTION"))
		return expected(p, "TRANSACTION");
	p->what = "START TRANSACTION";
	return parse_txn(p, SQL_BEGIN);
}

static int parse_commit(struct parser *p)
{
	return parse_txn(p, SQL_COMMIT);
}

static int parse_rollback(struct parser *p)
{
	return parse_txn(p, SQL_ROLLBACK);
}

/* ----------------------------------------------------------------- CREATE */

/* The query of CREATE TABLE AS / CREATE VIEW: the rest of the statement. */
static int query_body(struct parser *p)
{
	if (!query_at(p, p->pos))
		return expected(p, "a query (SELECT, WITH, FROM, VALUES, TABLE or '(')");
	p->st->body = span(p, p->pos, p->ntoks);
	p->pos = p->ntoks;
	return 0;
}

static int create_table(struct parser *p)
{
	struct sql_stmt *st = p->st;
	size_t close;
	int rc;

	p->what = "CREATE TABLE";
	st->if_not_exists = accept_phrase(p, "IF NOT EXISTS");
	if (st->or_replace && st->if_not_exists)
		return fail(p, TN_EINVAL, "CREATE TABLE: OR REPLACE and IF NOT EXISTS cannot be used together");
	rc = parse_name(p, &st->target, "a table name");
	if (rc)
		return rc;
	if (op_at(p, p->pos, "(")) {
		close = match_close(p, p->pos);
		if (!word_at(p, close + 1, "AS")) {
			st->kind = SQL_CREATE_TABLE;
			st->body = span(p, p->pos, close + 1);
			p->pos = close + 1;
			return expect_end(p, "end of statement");
		}
		rc = parse_column_list(p);   /* CREATE TABLE t (a, b) AS … */
		if (rc)
			return rc;
	}
	if (!accept_kw(p, "AS"))
		return expected(p, "'(' or AS");
	st->kind = SQL_CREATE_TABLE_AS;
	return query_body(p);
}

static int create_view(struct parser *p)
{
	struct sql_stmt *st = p->st;
	int rc;

	p->what = "CREATE VIEW";
	st->kind = SQL_CREATE_VIEW;
	st->if_not_exists = accept_phrase(p, "IF NOT EXISTS");
	if (st->or_replace && st->if_not_exists)
		return fail(p, TN_EINVAL, "CREATE VIEW: OR REPLACE and IF NOT EXISTS cannot be used together");
	rc = parse_name(p, &st->target, "a view name");
	if (!rc && op_at(p, p->pos, "("))
		rc = parse_column_list(p);
	if (rc)
		return rc;
	if (!accept_kw(p, "AS"))
		return expected(p, st->ncolumns ? "AS" : "column aliases or AS");
	return query_body(p);
}

static int create_schema(struct parser *p)
{
	struct sql_stmt *st = p->st;
	int rc;

	p->what = "CREATE SCHEMA";
	st->kind = SQL_CREATE_SCHEMA;
	st->if_not_exists = accept_phrase(p, "IF NOT EXISTS");
	rc = parse_schema_name(p, &st->target);
	return rc ? rc : expect_end(p, "end of statement");
}

static int parse_create(struct parser *p)
{
	p->what = "CREATE";
	p->st->or_replace = accept_phrase(p, "OR REPLACE");
	if (accept_kw(p, "TABLE"))
		return create_table(p);
	if (accept_kw(p, "VIEW"))
		return create_view(p);
	if (accept_kw(p, "SCHEMA"))
		return create_schema(p);
	/* TEMP/TEMPORARY objects, MACRO, FUNCTION, SEQUENCE, TYPE, INDEX, SECRET …:
	 * they live in the session's DuckDB, not in the lake */
	return parse_passthrough(p);
}

/* ------------------------------------------------------------------- DROP */

static int parse_drop(struct parser *p)
{
	struct sql_stmt *st = p->st;
	int rc;

	if (accept_kw(p, "TABLE")) {
		p->what = "DROP TABLE";
		st->kind = SQL_DROP_TABLE;
	} else if (accept_kw(p, "VIEW")) {
		p->what = "DROP VIEW";
		st->kind = SQL_DROP_VIEW;
	} else if (accept_kw(p, "SCHEMA")) {
		p->what = "DROP SCHEMA";
		st->kind = SQL_DROP_SCHEMA;
	} else {
		return parse_passthrough(p);
	}
	st->if_exists = accept_phrase(p, "IF EXISTS");
	if (st->kind == SQL_DROP_SCHEMA)
		rc = parse_schema_name(p, &st->target);
	else
		rc = parse_name(p, &st->target, st->kind == SQL_DROP_VIEW ? "a view name" : "a table name");
	if (rc)
		return rc;
	if (op_at(p, p->pos, ","))
		return fail(p, TN_EUNSUPPORTED, "%s: only one object can be dropped per statement; "
			    "use one DROP per object", p->what);
	if (accept_kw(p, "CASCADE"))
		st->cascade = 1;
	else
		accept_kw(p, "RESTRICT");
	return expect_end(p, "CASCADE, RESTRICT or end of statement");
}

/* ------------------------------------------------------------ ALTER TABLE */

/* The column an ALTER TABLE action works on; a.b would be a struct field. */
static int alter_column_name(struct parser *p)
{
	int rc = parse_ident(p, &p->st->column, "a column name");

	if (rc)
		return rc;
	if (op_at(p, p->pos, "."))
		return fail(p, TN_EUNSUPPORTED, "ALTER TABLE: changing a field inside a STRUCT column "
			    "(%s.…) is not supported; rewrite the whole column", p->st->column);
	return 0;
}

/* A column type: every token up to a constraint keyword at depth 0, so
 * STRUCT(a INT), DECIMAL(18,3), INT[] and DOUBLE PRECISION all fit. */
static int column_type(struct parser *p)
{
	size_t end = find_stop(p, p->pos, type_stops);

	if (end == p->pos)
		return expected(p, "a column type");
	p->st->type = span(p, p->pos, end);
	p->pos = end;
	return 0;
}

/* Where DEFAULT's expression ends: at NULL / NOT NULL (not IS [NOT] NULL)
 * or another constraint, at depth 0. */
static size_t default_end(const struct parser *p, size_t from)
{
	size_t i;

	for (i = from + 1; i < p->ntoks; i++) {
		if (p->toks[i].depth != 0 || word_at(p, i - 1, "IS"))
			continue;
		if (word_at(p, i, "NOT") && word_at(p, i + 1, "NULL"))
			return i;
		if (word_at(p, i, "NULL") && !word_at(p, i - 1, "NOT"))
			return i;
		if (word_in(p, i, constraint_words))
			return i;
	}
	return p->ntoks;
}

static int default_clause(struct parser *p)
{
	size_t end;

	if (p->st->default_expr)
		return fail(p, TN_EINVAL, "%s: DEFAULT given twice", p->what);
	if (at_end(p))
		return expected(p, "an expression");
	end = default_end(p, p->pos);
	p->st->default_expr = span(p, p->pos, end);
	p->pos = end;
	return 0;
}

/* [DEFAULT expr] [NOT NULL | NULL], in any order */
static int column_constraints(struct parser *p)
{
	int rc;

	while (!at_end(p)) {
		if (accept_kw(p, "DEFAULT")) {
			rc = default_clause(p);
			if (rc)
				return rc;
		} else if (accept_phrase(p, "NOT NULL")) {
			p->st->not_null = 1;
		} else if (accept_kw(p, "NULL")) {
			continue;            /* explicitly nullable: the default */
		} else if (word_in(p, p->pos, constraint_words)) {
			return fail(p, TN_EUNSUPPORTED, "ALTER TABLE … ADD COLUMN: %.*s is not supported; "
				    "lake columns take only DEFAULT and NOT NULL",
				    (int)(p->toks[p->pos].end - p->toks[p->pos].start),
				    p->src + p->toks[p->pos].start);
		} else {
			return expected(p, "DEFAULT, NOT NULL or end of statement");
		}
	}
	return 0;
}

static int alter_add(struct parser *p)
{
	static const char *const table_constraints[] = {
		"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN", NULL
	};
	int rc;

	if (word_in(p, p->pos, table_constraints))
		return fail(p, TN_EUNSUPPORTED, "ALTER TABLE … ADD %.*s: constraints are not supported "
			    "on lake tables (only NOT NULL)",
			    (int)(p->toks[p->pos].end - p->toks[p->pos].start),
			    p->src + p->toks[p->pos].start);
	p->st->alter = SQL_ALTER_ADD_COLUMN;
	accept_kw(p, "COLUMN");
	p->st->if_not_exists = accept_phrase(p, "IF NOT EXISTS");
	rc = alter_column_name(p);
	if (!rc)
		rc = column_type(p);
	return rc ? rc : column_constraints(p);
}

static int alter_drop(struct parser *p)
{
	int rc;

	if (peek(p, "CONSTRAINT"))
		return fail(p, TN_EUNSUPPORTED, "ALTER TABLE … DROP CONSTRAINT is not supported: "
			    "lake tables have no constraints other than NOT NULL");
	p->st->alter = SQL_ALTER_DROP_COLUMN;
	accept_kw(p, "COLUMN");
	p->st->column_if_exists = accept_phrase(p, "IF EXISTS");
	rc = alter_column_name(p);
	if (rc)
		return rc;
	if (accept_kw(p, "CASCADE"))
		p->st->cascade = 1;
	else
		accept_kw(p, "RESTRICT");
	return 0;
}

static int alter_rename(struct parser *p)
{
	int rc;

	/* RENAME TO x renames the table; RENAME [COLUMN] a TO b a column
	 * (RENAME "to" TO b, with a column called "to", is the odd one out) */
	if (!peek(p, "COLUMN") && peek(p, "TO") && !word_at(p, p->pos + 2, "TO")) {
		p->pos++;
		p->st->alter = SQL_ALTER_RENAME_TABLE;
		rc = parse_ident(p, &p->st->new_name, "a new table name");
		if (!rc && op_at(p, p->pos, "."))
			return fail(p, TN_EUNSUPPORTED, "ALTER TABLE … RENAME TO: a table cannot move to "
				    "another schema; give a name without a schema");
		return rc;
	}
	accept_kw(p, "COLUMN");
	p->st->alter = SQL_ALTER_RENAME_COLUMN;
	rc = alter_column_name(p);
	if (rc)
		return rc;
	if (!accept_kw(p, "TO"))
		return expected(p, "TO");
	return parse_ident(p, &p->st->new_name, "a new column name");
}

/* ALTER [COLUMN] c [SET DATA] TYPE t */
static int alter_type(struct parser *p)
{
	int rc;

	p->st->alter = SQL_ALTER_COLUMN_TYPE;
	rc = column_type(p);
	if (rc)
		return rc;
	if (peek(p, "USING"))
		return fail(p, TN_EUNSUPPORTED, "ALTER TABLE … TYPE … USING is not supported; add a new "
			    "column, fill it with UPDATE, drop the old column and rename the new one");
	if (peek(p, "COLLATE"))
		return fail(p, TN_EUNSUPPORTED, "ALTER TABLE … TYPE … COLLATE is not supported");
	return 0;
}

static int alter_column(struct parser *p)
{
	struct sql_stmt *st = p->st;
	int rc;

	accept_kw(p, "COLUMN");
	rc = alter_column_name(p);
	if (rc)
		return rc;
	if (accept_kw(p, "TYPE") || accept_phrase(p, "SET DATA TYPE"))
		return alter_type(p);
	if (accept_phrase(p, "SET DEFAULT")) {
		st->alter = SQL_ALTER_SET_DEFAULT;
		if (at_end(p))
			return expected(p, "an expression");
		st->default_expr = span(p, p->pos, p->ntoks);
		p->pos = p->ntoks;
	} else if (accept_phrase(p, "DROP DEFAULT")) {
		st->alter = SQL_ALTER_DROP_DEFAULT;
	} else if (accept_phrase(p, "SET NOT NULL")) {
		st->alter = SQL_ALTER_SET_NOT_NULL;
	} else if (accept_phrase(p, "DROP NOT NULL")) {
		st->alter = SQL_ALTER_DROP_NOT_NULL;
	} else {
		return expected(p, "TYPE, SET DATA TYPE, SET DEFAULT, DROP DEFAULT, SET NOT NULL or DROP NOT NULL");
	}
	return 0;
}

static int alter_options(struct parser *p)
{
	return fail(p, TN_EUNSUPPORTED, "ALTER TABLE … %.*s: table options (partitioning, sort order) "
		    "are not supported yet",
		    (int)(p->toks[p->pos - 1].end - p->toks[p->pos - 1].start),
		    p->src + p->toks[p->pos - 1].start);
}

static const struct alter_action {
	const char *word;
	int (*fn)(struct parser *p);
} alter_actions[] = {
	{ "ADD", alter_add },
	{ "DROP", alter_drop },
	{ "RENAME", alter_rename },
	{ "ALTER", alter_column },
	{ "SET", alter_options },
	{ "RESET", alter_options },
};

static int alter_table(struct parser *p)
{
	size_t i;
	int rc;

	p->what = "ALTER TABLE";
	p->st->kind = SQL_ALTER_TABLE;
	p->st->if_exists = accept_phrase(p, "IF EXISTS");
	rc = parse_name(p, &p->st->target, "a table name");
	if (rc)
		return rc;
	/* a comma at depth 0 can only separate several actions */
	for (i = p->pos; i < p->ntoks; i++)
		if (p->toks[i].depth == 0 && op_at(p, i, ","))
			return fail(p, TN_EUNSUPPORTED, "ALTER TABLE: only one change per statement is "
				    "supported; split it into several ALTER TABLE statements");
	for (i = 0; i < TN_ARRAY_LEN(alter_actions); i++) {
		if (accept_kw(p, alter_actions[i].word)) {
			rc = alter_actions[i].fn(p);
			return rc ? rc : expect_end(p, "end of statement");
		}
	}
	return expected(p, "ADD, DROP, RENAME or ALTER");
}

static int parse_alter(struct parser *p)
{
	p->what = "ALTER";
	if (peek(p, "VIEW"))
		return fail(p, TN_EUNSUPPORTED, "ALTER VIEW is not supported; use CREATE OR REPLACE VIEW");
	if (accept_kw(p, "TABLE"))
		return alter_table(p);
	return parse_passthrough(p);      /* ALTER SEQUENCE, ALTER DATABASE … */
}

/* ------------------------------------------------------------- COMMENT ON */

/* [catalog.][schema.]table.column */
static int comment_column(struct parser *p)
{
	struct sql_stmt *st = p->st;
	char *parts[4];
	size_t n;
	int rc = parse_parts(p, parts, 4, &n, "table.column");

	if (!rc && n < 2)
		rc = expected(p, "'.' and a column name");
	if (rc) {
		free_parts(parts, n);
		return rc;
	}
	st->column = parts[n - 1];
	st->target.name = parts[n - 2];
	st->target.schema = n >= 3 ? parts[n - 3] : NULL;
	st->target.catalog = n >= 4 ? parts[n - 4] : NULL;
	return 0;
}

static int comment_target(struct parser *p)
{
	struct sql_stmt *st = p->st;

	if (accept_kw(p, "TABLE")) {
		st->comment_on = SQL_COMMENT_TABLE;
		return parse_name(p, &st->target, "a table name");
	}
	if (accept_kw(p, "VIEW")) {
		st->comment_on = SQL_COMMENT_VIEW;
		return parse_name(p, &st->target, "a view name");
	}
	if (accept_kw(p, "SCHEMA")) {
		st->comment_on = SQL_COMMENT_SCHEMA;
		return parse_schema_name(p, &st->target);
	}
	st->comment_on = SQL_COMMENT_COLUMN;
	p->pos++;          /* COLUMN, checked by the caller */
	return comment_column(p);
}

static int parse_comment(struct parser *p)
{
	static const char *const lake_targets[] = { "TABLE", "VIEW", "SCHEMA", "COLUMN", NULL };
	int rc;

	p->what = "COMMENT ON";
	if (!accept_kw(p, "ON"))
		return expected(p, "ON");
	if (!word_in(p, p->pos, lake_targets))
		return parse_passthrough(p);      /* COMMENT ON MACRO, SEQUENCE … */
	p->st->kind = SQL_COMMENT;
	rc = comment_target(p);
	if (rc)
		return rc;
	if (!accept_kw(p, "IS"))
		return expected(p, "IS");
	if (!accept_kw(p, "NULL")) {
		rc = parse_string(p, &p->st->comment, "a string literal or NULL");
		if (rc)
			return rc;
	}
	return expect_end(p, "end of statement");
}

/* ----------------------------------------------------------------- INSERT */

static int insert_unsupported_tail(struct parser *p)
{
	size_t i;

	for (i = p->pos; i < p->ntoks; i++) {
		if (p->toks[i].depth != 0 || !phrase_at(p, i, "ON CONFLICT"))
			continue;
		/* a join's "ON conflict.x = …" is not the clause */
		if (op_at(p, i + 2, "(") || word_at(p, i + 2, "DO") || word_at(p, i + 2, "ON"))
			return fail(p, TN_EUNSUPPORTED, "INSERT … ON CONFLICT is not supported (MERGE INTO "
				    "is not available yet); use DELETE then INSERT in one transaction");
	}
	return reject_returning(p, p->pos);
}

/* INSERT INTO t (SELECT …) has a query in parentheses, not a column list */
static int paren_query_at(const struct parser *p, size_t i)
{
	return op_at(p, i, "(") && query_at(p, i + 1);
}

static int insert_source(struct parser *p)
{
	int rc;

	if (accept_phrase(p, "DEFAULT VALUES")) {
		rc = insert_unsupported_tail(p);
		return rc ? rc : expect_end(p, "end of statement");
	}
	if (!query_at(p, p->pos))
		return expected(p, "VALUES, SELECT, WITH, FROM, TABLE, '(' or DEFAULT VALUES");
	rc = insert_unsupported_tail(p);
	if (rc)
		return rc;
	p->st->body = span(p, p->pos, p->ntoks);
	p->pos = p->ntoks;
	return 0;
}

static int parse_insert(struct parser *p)
{
	struct sql_stmt *st = p->st;
	int rc;

	p->what = "INSERT";
	st->kind = SQL_INSERT;
	if (peek(p, "OR"))
		return fail(p, TN_EUNSUPPORTED, "INSERT OR REPLACE / INSERT OR IGNORE is not supported "
			    "(MERGE INTO is not available yet); use DELETE then INSERT in one transaction");
	if (!accept_kw(p, "INTO"))
		return expected(p, "INTO");
	rc = parse_name(p, &st->target, "a table name");
	if (rc)
		return rc;
	if (peek(p, "AS"))
		return fail(p, TN_EUNSUPPORTED, "INSERT INTO … AS alias is not supported; drop the alias");
	if (accept_kw(p, "BY")) {
		if (accept_kw(p, "NAME"))
			st->by_name = 1;
		else if (!accept_kw(p, "POSITION"))
			return expected(p, "NAME or POSITION");
	}
	if (op_at(p, p->pos, "(") && !paren_query_at(p, p->pos)) {
		rc = parse_column_list(p);
		if (rc)
			return rc;
	}
	return insert_source(p);
}

/* COPY t [(cols)] FROM …: rows into a lake table. COPY (query) TO … and
 * COPY t TO … read and are DuckDB's own. body = "FROM …" to the end. */
static int parse_copy(struct parser *p)
{
	static const char *const ends[] = { "FROM", "TO", NULL };
	struct sql_stmt *st = p->st;
	size_t at;
	int rc;

	if (op_at(p, p->pos, "("))
		return parse_passthrough(p);
	at = find_stop(p, p->pos, ends);
	if (at >= p->ntoks || !word_at(p, at, "FROM"))
		return parse_passthrough(p);   /* COPY t TO …: DuckDB reads the view */
	st->kind = SQL_COPY_FROM;
	rc = parse_name(p, &st->target, "a table name");
	if (!rc && op_at(p, p->pos, "("))
		rc = parse_column_list(p);
	if (rc)
		return rc;
	if (!peek(p, "FROM"))
		return expected(p, "FROM");
	st->body = span(p, p->pos, p->ntoks);
	p->pos = p->ntoks;
	return 0;
}

/* MERGE INTO t [[AS] a] USING …: body = "USING …" to the end. */
static int parse_merge(struct parser *p)
{
	struct sql_stmt *st = p->st;
	int rc;

	st->kind = SQL_MERGE;
	if (!accept_kw(p, "INTO"))
		return expected(p, "INTO");
	rc = parse_name(p, &st->target, "a table name");
	if (rc)
		return rc;
	if (accept_kw(p, "AS"))
		rc = parse_ident(p, &st->alias, "an alias");
	else if (ident_at(p, p->pos) && !peek(p, "USING"))
		st->alias = ident_text(p, p->pos++);
	if (rc)
		return rc;
	if (!peek(p, "USING"))
		return expected(p, "USING");
	st->body = span(p, p->pos, p->ntoks);
	p->pos = p->ntoks;
	return 0;
}

/* --------------------------------------------------------- DELETE, UPDATE */

/* [AS] alias, where a bare word that starts the next clause is no alias */
static int parse_alias(struct parser *p, const char *next_clause)
{
	if (accept_kw(p, "AS"))
		return parse_ident(p, &p->st->alias, "an alias");
	if (ident_at(p, p->pos) && !peek(p, next_clause))
		p->st->alias = ident_text(p, p->pos++);
	return 0;
}

/* A clause running to the next depth-0 `stops` word: into *out. */
static int clause_text(struct parser *p, char **out, const char *const *stops, const char *what)
{
	size_t end = find_stop(p, p->pos, stops);

	if (end == p->pos)
		return expected(p, what);
	*out = span(p, p->pos, end);
	p->pos = end;
	return 0;
}

static int where_clause(struct parser *p)
{
	static const char *const none[] = { NULL };

	if (!accept_kw(p, "WHERE"))
		return 0;
	return clause_text(p, &p->st->body, none, "a condition");
}

static int parse_delete(struct parser *p)
{
	static const char *const using_stops[] = { "WHERE", NULL };
	struct sql_stmt *st = p->st;
	int rc;

	p->what = "DELETE";
	st->kind = SQL_DELETE;
	if (!accept_kw(p, "FROM"))
		return expected(p, "FROM");
	rc = reject_returning(p, p->pos);
	if (!rc)
		rc = parse_name(p, &st->target, "a table name");
	if (!rc)
		rc = parse_alias(p, "USING");
	if (!rc && accept_kw(p, "USING"))
		rc = clause_text(p, &st->from, using_stops, "a table");
	if (!rc)
		rc = where_clause(p);
	return rc ? rc : expect_end(p, "USING, WHERE or end of statement");
}

static int parse_truncate(struct parser *p)
{
	int rc;

	p->what = "TRUNCATE";
	p->st->kind = SQL_DELETE;
	accept_kw(p, "TABLE");
	rc = parse_name(p, &p->st->target, "a table name");
	return rc ? rc : expect_end(p, "end of statement");
}

/* End of one SET expression: a depth-0 ',' or WHERE, or FROM that is not
 * part of IS [NOT] DISTINCT FROM. */
static size_t set_expr_end(const struct parser *p, size_t from)
{
	size_t i;

	for (i = from; i < p->ntoks; i++) {
		if (p->toks[i].depth != 0)
			continue;
		if (op_at(p, i, ",") || word_at(p, i, "WHERE"))
			return i;
		if (word_at(p, i, "FROM") && !word_at(p, i - 1, "DISTINCT"))
			return i;
	}
	return p->ntoks;
}

static int update_set(struct parser *p, size_t *alloc)
{
	struct sql_stmt *st = p->st;
	struct sql_set *set;
	size_t end;
	int rc;

	if (op_at(p, p->pos, "("))
		return fail(p, TN_EUNSUPPORTED, "UPDATE … SET (a, b) = (…) is not supported; assign "
			    "each column: SET a = …, b = …");
	TN_GROW(st->sets, *alloc, st->nsets + 1);
	set = &st->sets[st->nsets++];
	set->column = set->expr = NULL;
	rc = parse_ident(p, &set->column, "a column name");
	if (rc)
		return rc;
	if (!accept_op(p, "="))
		return expected(p, "'='");
	end = set_expr_end(p, p->pos);
	if (end == p->pos)
		return expected(p, "an expression");
	set->expr = span(p, p->pos, end);
	p->pos = end;
	return 0;
}

static int parse_update(struct parser *p)
{
	static const char *const from_stops[] = { "WHERE", NULL };
	struct sql_stmt *st = p->st;
	size_t alloc = 0;
	int rc;

	p->what = "UPDATE";
	st->kind = SQL_UPDATE;
	rc = reject_returning(p, p->pos);
	if (!rc)
		rc = parse_name(p, &st->target, "a table name");
	if (!rc)
		rc = parse_alias(p, "SET");
	if (rc)
		return rc;
	if (!accept_kw(p, "SET"))
		return expected(p, "SET");
	do {
		rc = update_set(p, &alloc);
		if (rc)
			return rc;
	} while (accept_op(p, ","));
	if (accept_kw(p, "FROM"))
		rc = clause_text(p, &st->from, from_stops, "a table");
	if (!rc)
		rc = where_clause(p);
	return rc ? rc : expect_end(p, "FROM, WHERE or end of statement");
}

/* -------------------------------------------------------------- dispatch */

static const struct head {
	const char *word;
	int (*fn)(struct parser *p);
} heads[] = {
	{ "SELECT", parse_query }, { "WITH", parse_query }, { "FROM", parse_query },
	{ "VALUES", parse_query }, { "TABLE", parse_query }, { "PIVOT", parse_query },
	{ "UNPIVOT", parse_query },
	{ "BEGIN", parse_begin }, { "START", parse_start }, { "COMMIT", parse_commit },
	{ "END", parse_commit }, { "ROLLBACK", parse_rollback }, { "ABORT", parse_rollback },
	{ "CREATE", parse_create }, { "DROP", parse_drop }, { "ALTER", parse_alter },
	{ "COMMENT", parse_comment }, { "INSERT", parse_insert }, { "DELETE", parse_delete },
	{ "TRUNCATE", parse_truncate }, { "UPDATE", parse_update }, { "COPY", parse_copy },
	{ "MERGE", parse_merge },
};

static int dispatch(struct parser *p)
{
	size_t i;

	if (op_at(p, 0, "("))
		return parse_query(p);
	for (i = 0; i < TN_ARRAY_LEN(heads); i++) {
		if (word_at(p, 0, heads[i].word)) {
			p->what = heads[i].word;
			p->pos = 1;
			return heads[i].fn(p);
		}
	}
	return parse_passthrough(p);   /* SET, PRAGMA, SHOW, COPY, ATTACH, … */
}

static int bracket_line(const struct parser *p, size_t i)
{
	return line_of(p->src, p->toks[i].start);
}

/* Every ( [ { closed by its own kind, so depths can be trusted. */
static int check_brackets(struct parser *p)
{
	static const char open[] = "([{", close[] = ")]}";
	size_t *stack = tn_malloc((p->ntoks + 1) * sizeof(*stack)), n = 0, i;
	const char *c;
	int rc = 0;

	for (i = 0; i < p->ntoks && !rc; i++) {
		if (p->toks[i].kind != TOK_OP || p->toks[i].end - p->toks[i].start != 1)
			continue;
		if (strchr(open, p->src[p->toks[i].start])) {
			stack[n++] = i;
		} else if ((c = strchr(close, p->src[p->toks[i].start])) != NULL) {
			if (!n)
				rc = fail(p, TN_EINVAL, "unbalanced '%c' at line %d", *c, bracket_line(p, i));
			else if (p->src[p->toks[stack[--n]].start] != open[c - close])
				rc = fail(p, TN_EINVAL, "'%c' at line %d does not match '%c' at line %d", *c,
					  bracket_line(p, i), p->src[p->toks[stack[n]].start],
					  bracket_line(p, stack[n]));
		}
	}
	if (!rc && n)
		rc = fail(p, TN_EINVAL, "'%c' at line %d is never closed", p->src[p->toks[stack[n - 1]].start],
			  bracket_line(p, stack[n - 1]));
	tn_free(stack);
	return rc;
}

/* Tokens of the statement, trailing ';' dropped; one statement only. */
static int tokenize(struct parser *p)
{
	struct lexer lx;
	struct tok t;
	size_t alloc = 0, i;
	int rc;

	lexer_init(&lx, p->src);
	while ((rc = lex_next(&lx, &t, p->err)) > 0) {
		TN_GROW(p->toks, alloc, p->ntoks + 1);
		p->toks[p->ntoks++] = t;
	}
	if (rc < 0)
		return rc;
	while (p->ntoks && tok_is_semicolon(p->src, &p->toks[p->ntoks - 1]))
		p->ntoks--;
	if (!p->ntoks)
		return tn_err_set(p->err, TN_EINVAL, "empty statement");
	for (i = 0; i < p->ntoks; i++)
		if (tok_is_semicolon(p->src, &p->toks[i]))
			return tn_err_set(p->err, TN_EINVAL, "more than one statement (';' at line %d); "
					  "split the script with sqlparse_split first",
					  line_of(p->src, p->toks[i].start));
	return check_brackets(p);
}

int sqlparse_parse(const char *stmt, struct sql_stmt **out, struct tn_err *err)
{
	struct parser p = { 0 };
	int rc;

	*out = NULL;
	if (!stmt)
		return tn_err_set(err, TN_EINVAL, "no SQL statement given");
	p.src = stmt;
	p.err = err;
	p.what = "SQL";
	rc = tokenize(&p);
	if (rc)
		goto out;
	p.st = tn_calloc(1, sizeof(*p.st));
	p.st->text = span(&p, 0, p.ntoks);
	rc = dispatch(&p);
	if (rc) {
		sqlparse_free(p.st);
		goto out;
	}
	*out = p.st;
out:
	tn_free(p.toks);
	return rc;
}

static void release_name(struct sql_name *nm)
{
	tn_free(nm->catalog);
	tn_free(nm->schema);
	tn_free(nm->name);
}

void sqlparse_free(struct sql_stmt *st)
{
	size_t i;

	if (!st)
		return;
	tn_free(st->text);
	release_name(&st->target);
	tn_free(st->body);
	for (i = 0; i < st->ncolumns; i++)
		tn_free(st->columns[i]);
	tn_free(st->columns);
	tn_free(st->alias);
	for (i = 0; i < st->nsets; i++) {
		tn_free(st->sets[i].column);
		tn_free(st->sets[i].expr);
	}
	tn_free(st->sets);
	tn_free(st->from);
	tn_free(st->column);
	tn_free(st->new_name);
	tn_free(st->type);
	tn_free(st->default_expr);
	tn_free(st->comment);
	tn_free(st);
}
