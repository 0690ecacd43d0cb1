/*
 * load.c: `tarn load`: a raw dataset version into bronze tables.
 *
 * Plan first, then one transaction. Planning reads every file's shape
 * (DESCRIBE over DuckDB's reader, after sniff_csv for CSV), groups files by
 * shape and checks the target tables, so most mistakes are reported before
 * anything is written. The transaction then creates or alters the tables
 * and runs one INSERT ... BY NAME per file. When something fails, the
 * transaction is rolled back and, for CSV, the file is scanned once more
 * with DuckDB's store_rejects to name the first bad line, column and value.
 */
#include "base/compat.h"
#include "ingest/load.h"
#include "ingest/load_int.h"
#include "ingest/hash.h"
#include "ingest/ingest.h"
#include "ingest/manifest.h"
#include "lake/session.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <strings.h>
#include <time.h>

#define MAX_FILES_IN_MESSAGE 10
#define PROV_FILE "_source_file"
#define PROV_TIME "_ingested_at"

enum ffmt { FF_CSV, FF_JSON, FF_PARQUET };

struct col {
	char *name, *type;
};

struct lfile {
	char *rel;          /* path inside the version folder */
	char *abs;
	char *src;          /* _source_file: "<dataset>/<version>/<rel>" */
	char sha[HASH_HEX_LEN];
	enum ffmt fmt;
	int latin1;         /* read with encoding='latin-1' */
	char *dialect;      /* forced read_csv options, or NULL */
	struct col *cols;
	size_t ncols;
	char *shape;        /* columns and types, one per line: the grouping key */
	size_t target;
};

struct target {
	char *schema, *table;
	size_t *files, nfiles;
	int exists;
	struct load_table *rep;
};

struct ld {
	struct session *s;
	const struct load_opts *o;
	char *dataset, *version, *dir;
	struct manifest m;
	char now[32];       /* _ingested_at, UTC */
	char tag[16];       /* makes this load's temp table names unique */
	struct lfile *f;
	size_t nf, falloc;
	struct target *t;
	size_t nt, talloc;
	struct load_report *rep;
	size_t failed;      /* index of the file whose statement failed, or nf */
};

/* ---- files ---- */

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcasecmp(s + n - k, suffix);
}

/* The reader for a file, by its name (".gz" read through by DuckDB). */
static int file_format(const char *rel, enum ffmt *fmt)
{
	static const struct { const char *ext; enum ffmt fmt; } known[] = {
		{ ".csv", FF_CSV }, { ".tsv", FF_CSV }, { ".tab", FF_CSV }, { ".json", FF_JSON },
		{ ".jsonl", FF_JSON }, { ".ndjson", FF_JSON }, { ".parquet", FF_PARQUET },
	};
	char *name = tn_strdup(rel);
	size_t i, n = strlen(name);
	int ok = 0;

	if (ends_with(name, ".gz"))
		name[n - 3] = '\0';
	for (i = 0; i < TN_ARRAY_LEN(known) && !ok; i++) {
		if (ends_with(name, known[i].ext) && !(known[i].fmt == FF_PARQUET && ends_with(rel, ".gz"))) {
			*fmt = known[i].fmt;
			ok = 1;
		}
	}
	tn_free(name);
	return ok;
}

static void free_cols(struct col *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		tn_free(c[i].name);
		tn_free(c[i].type);
	}
	tn_free(c);
}

static void ld_release(struct ld *l)
{
	size_t i;

	for (i = 0; i < l->nf; i++) {
		struct lfile *f = &l->f[i];
		tn_free(f->rel);
		tn_free(f->abs);
		tn_free(f->src);
		tn_free(f->dialect);
		tn_free(f->shape);
		free_cols(f->cols, f->ncols);
	}
	tn_free(l->f);
	for (i = 0; i < l->nt; i++) {
		tn_free(l->t[i].schema);
		tn_free(l->t[i].table);
		tn_free(l->t[i].files);
	}
	tn_free(l->t);
	manifest_release(&l->m);
	tn_free(l->dataset);
	tn_free(l->version);
	tn_free(l->dir);
}

/* The file's SHA-256: from the manifest, else (a hand-filled version)
 * computed now. */
static int file_sha(struct ld *l, struct lfile *f, struct tn_err *err)
{
	const struct manifest_version *v = manifest_find(&l->m, l->version);
	const struct manifest_file *mf = v ? manifest_file_find(v, f->rel) : NULL;

	if (mf) {
		memcpy(f->sha, mf->sha256, sizeof(f->sha));
		return 0;
	}
	return hash_file(f->abs, f->sha, NULL, err);
}

static int list_files(struct ld *l, struct tn_err *err)
{
	char **rel = NULL;
	size_t n = 0, i;
	int rc = ingest_files(l->dir, &rel, &n, err);

	for (i = 0; !rc && i < n; i++) {
		struct lfile *f;
		enum ffmt fmt;
		struct tn_err ignore = TN_ERR_INIT;
		int64_t size = 0;
		char *abs = tn_xprintf("%s/%s", l->dir, rel[i]);
		tn_fs_size(abs, &size, &ignore);
		if (!file_format(rel[i], &fmt)) {
			load_note(l->o->note, l->o->note_arg, "skipped %s: not CSV, TSV, JSON, NDJSON or Parquet",
				  rel[i]);
		} else if (size == 0) {
			load_note(l->o->note, l->o->note_arg, "skipped %s: the file is empty", rel[i]);
		} else {
			TN_GROW(l->f, l->falloc, l->nf + 1);
			f = &l->f[l->nf++];
			memset(f, 0, sizeof(*f));
			f->rel = tn_strdup(rel[i]);
			f->abs = abs;
			abs = NULL;
			f->src = tn_xprintf("%s/%s/%s", l->dataset, l->version, rel[i]);
			f->fmt = fmt;
			rc = file_sha(l, f, err);
		}
		tn_free(abs);
	}
	for (i = 0; i < n; i++)
		tn_free(rel[i]);
	tn_free(rel);
	if (!rc && l->nf == 0)
		rc = tn_err_set(err, TN_EINVAL, "version %s of dataset %s has no CSV, TSV, JSON or Parquet "
				"file to load (%s)", l->version, l->dataset, l->dir);
	return rc;
}

/* ---- reading one file ---- */

/* The name of a per-file temp table of this load ("__tarn_rej_<tag>_3"). */
static void add_temp_name(struct tn_buf *q, const struct ld *l, const char *kind, size_t i)
{
	tn_buf_addf(q, "__tarn_%s_%s_%zu", kind, l->tag, i);
}

/* DuckDB's reader for file i. With a `kind` ("rej" for loads, "diag" for
 * the diagnosis), bad CSV rows are kept in temp tables __tarn_<kind>_... and
 * __tarn_<kind>scan_... instead of failing the scan. */
static void add_reader(struct tn_buf *q, const struct ld *l, size_t i, const char *kind)
{
	const struct lfile *f = &l->f[i];

	switch (f->fmt) {
	case FF_JSON:
		tn_buf_adds(q, "read_json(");
		tn_buf_add_sqlstr(q, f->abs);
		tn_buf_adds(q, ")");
		return;
	case FF_PARQUET:
		tn_buf_adds(q, "read_parquet(");
		tn_buf_add_sqlstr(q, f->abs);
		tn_buf_adds(q, ")");
		return;
	case FF_CSV:
		break;
	}
	tn_buf_adds(q, "read_csv(");
	tn_buf_add_sqlstr(q, f->abs);
	if (f->latin1)
		tn_buf_adds(q, ", encoding = 'latin-1'");
	if (f->dialect)
		tn_buf_addf(q, ", %s", f->dialect);
	if (kind) {
		char scan[16];
		snprintf(scan, sizeof(scan), "%sscan", kind);
		tn_buf_adds(q, ", store_rejects = true, rejects_table = '");
		add_temp_name(q, l, kind, i);
		tn_buf_adds(q, "', rejects_scan = '");
		add_temp_name(q, l, scan, i);
		tn_buf_adds(q, "'");
	}
	tn_buf_adds(q, ")");
}

/* SELECT * [, provenance] FROM <reader>. */
static void add_select(struct tn_buf *q, const struct ld *l, size_t i, const char *kind)
{
	tn_buf_adds(q, "SELECT *");
	if (l->o->provenance) {
		tn_buf_adds(q, ", ");
		tn_buf_add_sqlstr(q, l->f[i].src);
		tn_buf_adds(q, " AS " PROV_FILE ", TIMESTAMP '");
		tn_buf_adds(q, l->now);
		tn_buf_adds(q, "' AS " PROV_TIME);
	}
	tn_buf_adds(q, " FROM ");
	add_reader(q, l, i, kind);
}

static const char *rej_kind(const struct ld *l, size_t i)
{
	return l->o->reject && l->f[i].fmt == FF_CSV ? "rej" : NULL;
}

static int is_encoding_error(const struct tn_err *err)
{
	return strstr(err->msg, "not utf-8 encoded") || strstr(err->msg, "Invalid unicode");
}

/* sniff_csv's answer as text ("(empty)" means none). */
static char *cell(struct duck_result *r, size_t col)
{
	char *v = duck_result_text(r, col, 0);

	if (v && !strcmp(v, "(empty)")) {
		tn_free(v);
		v = tn_strdup("");
	}
	return v ? v : tn_strdup("");
}

/* The first line of a plain (not gzip'd) file, for the dialect check;
 * owned, or NULL. A UTF-8 BOM is dropped. */
static char *first_line(const char *path)
{
	char buf[65536];
	size_t n;
	FILE *fp;
	char *p;

	if (ends_with(path, ".gz") || !(fp = fopen(path, "rb")))
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	p = !strncmp(buf, "\xef\xbb\xbf", 3) ? buf + 3 : buf;
	return tn_strndup(p, strcspn(p, "\r\n"));
}

/* The delimiter the first line uses most, of the usual ones; 0 if none. */
static char usual_delimiter(const char *line)
{
	static const char cands[] = ",\t;|";
	size_t i, best_n = 0, n;
	const char *p;
	char best = 0;

	for (i = 0; line && cands[i]; i++) {
		for (n = 0, p = line; *p; p++)
			n += *p == cands[i];
		if (n > best_n) {
			best_n = n;
			best = cands[i];
		}
	}
	return best;
}

/*
 * DuckDB's sniffer copes with ragged rows by guessing: it may skip the
 * first lines as a preamble, or settle on a delimiter the header does not
 * even contain and read every line as one text column. Either way rows
 * vanish or turn to mush without an error. So when it skipped lines, or
 * its delimiter is absent from a header that has a usual one, read from
 * line 1 with that delimiter (the sniffer still picks quoting, header and
 * types): a ragged row then is a bad row, an error or a reject.
 */
static void check_dialect(struct ld *l, struct lfile *f, int64_t skipped, const char *delim)
{
	char *line = first_line(f->abs), d = delim && *delim ? *delim : 0, u = usual_delimiter(line);
	int absent = line && u && (!d || !strchr(line, d));
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	char ds[2] = { 0, 0 };

	if (skipped > 0 || absent) {
		ds[0] = absent ? u : d;
		tn_buf_adds(&b, "skip = 0, delim = ");
		tn_buf_add_sqlstr(&b, ds);
		f->dialect = tn_buf_detach(&b, NULL);
		if (skipped > 0)
			load_note(l->o->note, l->o->note_arg, "%s: the first %lld lines do not look like the "
				  "rest; reading from line 1 so no row is dropped", f->rel, (long long)skipped);
	}
	tn_free(line);
}

static int sniff(struct ld *l, size_t i, struct tn_err *err)
{
	struct lfile *f = &l->f[i];
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	int rc;

	for (;;) {
		tn_buf_reset(&q);
		tn_buf_adds(&q, "SELECT \"SkipRows\", \"Delimiter\" FROM sniff_csv(");
		tn_buf_add_sqlstr(&q, f->abs);
		tn_buf_adds(&q, f->latin1 ? ", encoding = 'latin-1')" : ")");
		rc = load_exec(l->s, &q, &r, err);
		if (!rc || f->latin1 || !is_encoding_error(err))
			break;
		tn_err_clear(err);
		f->latin1 = 1;
	}
	if (!rc && duck_result_nrows(r) > 0) {
		char *delim = cell(r, 1);
		check_dialect(l, f, duck_result_int(r, 0, 0), delim);
		tn_free(delim);
	}
	duck_result_free(r);
	tn_buf_release(&q);
	return rc;
}

/* Names and types of the file's columns (provenance included). */
static int shape(struct ld *l, size_t i, struct tn_err *err)
{
	struct lfile *f = &l->f[i];
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX), key = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	uint64_t k, n;
	int rc;

	tn_buf_adds(&q, "DESCRIBE ");
	add_select(&q, l, i, rej_kind(l, i));
	rc = load_exec(l->s, &q, &r, err);
	n = rc ? 0 : duck_result_nrows(r);
	f->cols = tn_calloc(n ? n : 1, sizeof(*f->cols));
	for (k = 0; k < n; k++) {
		struct col *c = &f->cols[f->ncols++];
		c->name = duck_result_text(r, 0, k);
		c->type = duck_result_text(r, 1, k);
		if (!c->name || !c->type) {
			rc = tn_err_set(err, TN_EINTERNAL, "DESCRIBE of %s gave no column name", f->rel);
			break;
		}
		tn_buf_addf(&key, "%s %s\n", c->name, c->type);
	}
	f->shape = tn_buf_detach(&key, NULL);
	duck_result_free(r);
	tn_buf_release(&q);
	return rc;
}

/* Count how often a provenance column name shows up: a file that has
 * its own _source_file would collide with ours. */
static int check_provenance(const struct ld *l, const struct lfile *f, struct tn_err *err)
{
	size_t k, seen = 0;

	if (!l->o->provenance)
		return 0;
	for (k = 0; k < f->ncols; k++)
		if (tn_strieq(f->cols[k].name, PROV_FILE) || tn_strieq(f->cols[k].name, PROV_TIME))
			seen++;
	if (seen > 2)
		return tn_err_set(err, TN_ECONFLICT, "%s has its own %s or %s column; load it with "
				  "--no-provenance", f->rel, PROV_FILE, PROV_TIME);
	return 0;
}

/* ---- naming the bad row ---- */

/* From 'Could not convert string "abc" to 'BIGINT'': the value and type. */
static int conversion_parts(const char *msg, char **value, char **type)
{
	const char *p = strstr(msg, "Could not convert string \""), *q, *t;

	*value = *type = NULL;
	if (!p)
		return 0;
	p += strlen("Could not convert string \"");
	q = strstr(p, "\" to '");
	if (!q)
		return 0;
	t = q + strlen("\" to '");
	*value = tn_strndup(p, (size_t)(q - p));
	*type = tn_strndup(t, strcspn(t, "'"));
	return 1;
}

static void bad_row_message(struct ld *l, size_t i, struct duck_result *r, struct tn_err *err)
{
	const struct lfile *f = &l->f[i];
	char *line = duck_result_text(r, 0, 0), *col = duck_result_text(r, 1, 0);
	char *msg = duck_result_text(r, 2, 0), *raw = duck_result_text(r, 3, 0), *value, *type;
	const char *hint = "fix the file, or pass --reject to load the other rows and keep this one "
			   "in a rejects table";

	if (msg)
		load_trim_message(msg);
	/* A row with too many or too few fields has no one bad column. */
	if (msg && col && strstr(msg, "Expected Number of Columns")) {
		tn_free(col);
		col = NULL;
	}
	if (msg && col && conversion_parts(msg, &value, &type)) {
		tn_err_set(err, TN_EINVAL, "%s line %s, column %s: value \"%.200s\" is not a %s (the type "
			   "DuckDB inferred from the first rows); nothing was loaded: %s", f->src,
			   line ? line : "?", col, value, type, hint);
		tn_free(value);
		tn_free(type);
	} else {
		tn_err_set(err, TN_EINVAL, "%s line %s%s%s: %s (the line: \"%.120s\"); nothing was loaded: %s",
			   f->src, line ? line : "?", col ? ", column " : "", col ? col : "",
			   msg ? msg : "bad row", raw ? raw : "", hint);
	}
	tn_free(line);
	tn_free(col);
	tn_free(msg);
	tn_free(raw);
}

/*
 * After a failed read of CSV file i: scan it again keeping bad rows aside
 * (every column converted, nothing materialised) and replace `err` with
 * one naming the first bad line. Keeps `err` when the scan finds none.
 */
static void diagnose(struct ld *l, size_t i, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err ignore = TN_ERR_INIT, e2 = TN_ERR_INIT;
	struct duck_result *r = NULL;

	if (l->f[i].fmt != FF_CSV)
		return;
	tn_buf_adds(&q, "SELECT max(length(CAST(COLUMNS(*) AS VARCHAR))) FROM ");
	add_reader(&q, l, i, "diag");
	if (load_exec(l->s, &q, NULL, &ignore))
		goto out;
	tn_buf_reset(&q);
	tn_buf_adds(&q, "SELECT CAST(line AS VARCHAR), column_name, error_message, csv_line FROM temp.main.");
	add_temp_name(&q, l, "diag", i);
	tn_buf_adds(&q, " ORDER BY line LIMIT 1");
	if (load_exec(l->s, &q, &r, &ignore) || duck_result_nrows(r) == 0)
		goto out;
	bad_row_message(l, i, r, &e2);
	*err = e2;
out:
	duck_result_free(r);
	tn_buf_release(&q);
}

/* Name the file in a message from DuckDB that does not. */
static void about_file(struct tn_err *err, const struct lfile *f)
{
	load_trim_message(err->msg);
	if (!strstr(err->msg, f->src))
		tn_err_prefix(err, "%s", f->src);
}

/* Plan one file: sniff (CSV), then its shape. */
static int plan_file(struct ld *l, size_t i, struct tn_err *err)
{
	struct lfile *f = &l->f[i];
	int rc = f->fmt == FF_CSV ? sniff(l, i, err) : 0;

	if (!rc)
		rc = shape(l, i, err);
	if (rc && f->fmt == FF_CSV && !f->latin1 && is_encoding_error(err)) {
		tn_err_clear(err);
		f->latin1 = 1;
		free_cols(f->cols, f->ncols);
		f->cols = NULL;
		f->ncols = 0;
		tn_free(f->shape);
		f->shape = NULL;
		rc = shape(l, i, err);
	}
	if (rc) {
		diagnose(l, i, err);
		about_file(err, f);
		return rc;
	}
	return check_provenance(l, f, err);
}

/* ---- targets ---- */

static struct target *add_target(struct ld *l, const char *schema, const char *table)
{
	struct target *t;

	TN_GROW(l->t, l->talloc, l->nt + 1);
	t = &l->t[l->nt++];
	memset(t, 0, sizeof(*t));
	t->schema = tn_strdup(schema);
	t->table = tn_strdup(table);
	return t;
}

static void target_add_file(struct target *t, size_t i)
{
	t->files = tn_realloc(t->files, (t->nfiles + 1) * sizeof(*t->files));
	t->files[t->nfiles++] = i;
}

static int name_taken(const struct ld *l, const char *table)
{
	size_t i;

	for (i = 0; i < l->nt; i++)
		if (tn_strieq(l->t[i].table, table))
			return 1;
	return 0;
}

/* A table name from a file: its base name without extensions, snake case. */
static char *table_from_file(const struct ld *l, const char *rel)
{
	const char *base = strrchr(rel, '/');
	char *stemmed = tn_strdup(base ? base + 1 : rel), *dot = strchr(stemmed, '.'), *slug;

	if (dot && dot != stemmed)
		*dot = '\0';
	slug = ingest_slug(stemmed);
	tn_free(stemmed);
	return slug ? slug : tn_strdup(l->dataset);
}

/* --table [SCHEMA.]TABLE: everything goes there. */
static int explicit_target(struct ld *l, struct tn_err *err)
{
	const char *t = l->o->table, *dot = strchr(t, '.');
	struct target *tg;
	char *schema;
	size_t i;

	if (!*t || (dot && (dot == t || !dot[1] || strchr(dot + 1, '.'))))
		return tn_err_set(err, TN_EINVAL, "--table '%s' is not TABLE or SCHEMA.TABLE", t);
	schema = dot ? tn_strndup(t, (size_t)(dot - t)) : tn_strdup(LOAD_DEFAULT_SCHEMA);
	tg = add_target(l, schema, dot ? dot + 1 : t);
	tn_free(schema);
	for (i = 0; i < l->nf; i++)
		target_add_file(tg, i);
	return 0;
}

/* One table per shape, in the order shapes first appear. */
static void group_targets(struct ld *l)
{
	size_t i, k, ngroups = 0;
	size_t *group = tn_calloc(l->nf, sizeof(*group));

	for (i = 0; i < l->nf; i++) {
		for (k = 0; k < i && strcmp(l->f[k].shape, l->f[i].shape); k++)
			;
		group[i] = k < i ? group[k] : ngroups++;
	}
	for (k = 0; k < ngroups; k++) {
		size_t first = 0, count = 0, n = 2;
		char *name, *unique;
		for (i = l->nf; i-- > 0;)
			if (group[i] == k) {
				first = i;
				count++;
			}
		/* Several files of one shape are parts of one thing: the dataset. */
		name = count > 1 && ngroups == 1 ? tn_strdup(l->dataset) : table_from_file(l, l->f[first].rel);
		unique = tn_strdup(name);
		while (name_taken(l, unique)) {
			tn_free(unique);
			unique = tn_xprintf("%s_%zu", name, n++);
		}
		{
			struct target *t = add_target(l, LOAD_DEFAULT_SCHEMA, unique);
			for (i = 0; i < l->nf; i++)
				if (group[i] == k)
					target_add_file(t, i);
		}
		tn_free(name);
		tn_free(unique);
	}
	tn_free(group);
}

static int check_targets(struct ld *l, struct tn_err *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < l->nt; i++) {
		struct target *t = &l->t[i];
		rc = load_table_exists(l->s, t->schema, t->table, &t->exists, err);
		if (!rc && t->exists && l->o->mode == LOAD_CREATE)
			rc = tn_err_set(err, TN_ECONFLICT, "table %s.%s exists already; pass --mode append to "
					"add the rows or --mode replace to replace the table (nothing was loaded)",
					t->schema, t->table);
	}
	return rc;
}

/* ---- table definitions ---- */

/* "<table>_rejects"; owned. */
static char *rejects_table(const struct target *t)
{
	return tn_xprintf("%s" LOAD_REJECTS_SUFFIX, t->table);
}

/* Rank of an integer type (0: not one), by width. */
static int int_rank(const char *t)
{
	static const char *const ints[] = { "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT" };
	size_t i;

	for (i = 0; i < TN_ARRAY_LEN(ints); i++)
		if (!strcmp(t, ints[i]))
			return (int)i + 1;
	return 0;
}

enum fit { FIT_OK, FIT_WIDEN, FIT_NO };

/* Can values of type `in` go into a column of type `have`? FIT_WIDEN: only
 * after the column is widened to `in` (which DuckLake allows). */
static enum fit type_fit(const char *have, const char *in)
{
	int rh = int_rank(have), ri = int_rank(in);

	if (!strcmp(have, in) || !strcmp(have, "VARCHAR"))
		return FIT_OK;
	if (rh && ri)
		return ri <= rh ? FIT_OK : FIT_WIDEN;
	if (!strcmp(have, "DOUBLE") && (ri || !strcmp(in, "FLOAT")))
		return FIT_OK;
	if (!strcmp(have, "FLOAT") && !strcmp(in, "DOUBLE"))
		return FIT_WIDEN;
	if (!strcmp(have, "TIMESTAMP") && !strcmp(in, "DATE"))
		return FIT_OK;
	return FIT_NO;
}

/* CREATE [OR REPLACE] TABLE t AS <one row-less SELECT per distinct shape,
 * UNION ALL BY NAME>, so DuckDB picks the column types. */
static int create_table(struct ld *l, struct target *t, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i, k, parts = 0;
	int rc;

	tn_buf_addf(&q, "CREATE %sTABLE ", t->exists ? "OR REPLACE " : "");
	load_add_name(&q, t->schema, t->table);
	tn_buf_adds(&q, " AS SELECT * FROM (");
	for (i = 0; i < t->nfiles; i++) {
		const struct lfile *f = &l->f[t->files[i]];
		for (k = 0; k < i && strcmp(l->f[t->files[k]].shape, f->shape); k++)
			;
		if (k < i)
			continue;
		tn_buf_adds(&q, parts++ ? " UNION ALL BY NAME (SELECT * FROM (" : "(SELECT * FROM (");
		add_select(&q, l, t->files[i], rej_kind(l, t->files[i]));
		tn_buf_adds(&q, ") LIMIT 0)");
	}
	tn_buf_adds(&q, ")");
	rc = load_exec(l->s, &q, NULL, err);
	tn_buf_release(&q);
	return rc;
}

static int alter(struct ld *l, struct target *t, const char *what, const char *col, const char *type,
		 struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	tn_buf_adds(&q, "ALTER TABLE ");
	load_add_name(&q, t->schema, t->table);
	tn_buf_addf(&q, " %s ", what);
	tn_buf_add_sqlid(&q, col);
	tn_buf_addf(&q, " %s%s", !strcmp(what, "ALTER COLUMN") ? "TYPE " : "", type);
	rc = load_exec(l->s, &q, NULL, err);
	tn_buf_release(&q);
	if (!rc)
		load_note(l->o->note, l->o->note_arg, "%s.%s: %s %s %s", t->schema, t->table,
			  !strcmp(what, "ALTER COLUMN") ? "widened column" : "added column", col, type);
	return rc;
}

static int table_columns(struct ld *l, struct target *t, struct col **cols, size_t *n, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX), name = TN_BUF_INIT(TN_BUF_NOMAX);
	struct duck_result *r = NULL;
	uint64_t k;
	int rc;

	tn_buf_addf(&name, "%s.%s", t->schema, t->table);
	tn_buf_adds(&q, "SELECT column_name, column_type FROM tarn_columns(");
	tn_buf_add_sqlstr(&q, name.buf);
	tn_buf_adds(&q, ") ORDER BY column_id");
	rc = load_exec(l->s, &q, &r, err);
	*n = 0;
	*cols = tn_calloc(rc ? 1 : duck_result_nrows(r) + 1, sizeof(**cols));
	for (k = 0; !rc && k < duck_result_nrows(r); k++) {
		(*cols)[*n].name = duck_result_text(r, 0, k);
		(*cols)[*n].type = duck_result_text(r, 1, k);
		(*n)++;
	}
	duck_result_free(r);
	tn_buf_release(&q);
	tn_buf_release(&name);
	return rc;
}

static struct col *find_col(struct col *cols, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tn_strieq(cols[i].name, name))
			return &cols[i];
	return NULL;
}

/* --mode append on a table that exists: new columns are added, narrower
 * columns widened, anything else that does not fit is an error. */
static int evolve(struct ld *l, struct target *t, struct tn_err *err)
{
	struct col *have = NULL;
	size_t nhave = 0, i, k;
	int rc = table_columns(l, t, &have, &nhave, err);

	for (i = 0; !rc && i < t->nfiles; i++) {
		const struct lfile *f = &l->f[t->files[i]];
		for (k = 0; !rc && k < f->ncols; k++) {
			const struct col *c = &f->cols[k];
			struct col *h = find_col(have, nhave, c->name);
			if (!h) {
				rc = alter(l, t, "ADD COLUMN", c->name, c->type, err);
				have = tn_realloc(have, (nhave + 1) * sizeof(*have));
				have[nhave].name = tn_strdup(c->name);
				have[nhave++].type = tn_strdup(c->type);
				continue;
			}
			switch (type_fit(h->type, c->type)) {
			case FIT_OK:
				break;
			case FIT_WIDEN:
				rc = alter(l, t, "ALTER COLUMN", h->name, c->type, err);
				tn_free(h->type);
				h->type = tn_strdup(c->type);
				break;
			case FIT_NO:
				rc = tn_err_set(err, TN_EINVAL, "column %s of %s.%s is %s, but %s has %s values "
						"for it; load into another table (--table) or replace the table "
						"(--mode replace); nothing was loaded", h->name, t->schema,
						t->table, h->type, f->src, c->type);
				break;
			}
		}
	}
	free_cols(have, nhave);
	return rc;
}

static int define_targets(struct ld *l, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i, k;
	int rc = 0;

	for (i = 0; !rc && i < l->nt; i++) {
		struct target *t = &l->t[i];
		for (k = 0; k < i && strcmp(l->t[k].schema, t->schema); k++)
			;
		if (k == i) {
			tn_buf_reset(&q);
			tn_buf_adds(&q, "CREATE SCHEMA IF NOT EXISTS ");
			tn_buf_add_sqlid(&q, t->schema);
			rc = load_exec(l->s, &q, NULL, err);
		}
		if (rc)
			break;
		if (t->exists && l->o->mode == LOAD_APPEND) {
			rc = evolve(l, t, err);
			continue;
		}
		rc = create_table(l, t, err);
		if (!rc && t->exists) {
			/* Replaced data makes the old rejects meaningless. */
			tn_buf_reset(&q);
			char *rej = rejects_table(t);
			tn_buf_adds(&q, "DROP TABLE IF EXISTS ");
			load_add_name(&q, t->schema, rej);
			rc = load_exec(l->s, &q, NULL, err);
			tn_free(rej);
		}
	}
	tn_buf_release(&q);
	return rc;
}

/* ---- rows ---- */

/* Move the bad rows DuckDB kept aside for file i into <table>_rejects. */
static int keep_rejects(struct ld *l, struct target *t, size_t i, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX), from = TN_BUF_INIT(TN_BUF_NOMAX);
	char *rej = rejects_table(t);
	int64_t n = 0;
	int rc;

	/* Each scan of the file (planning, the INSERT) records its rejects:
	 * DISTINCT keeps one of each. */
	tn_buf_adds(&from, "(SELECT DISTINCT line, column_idx, column_name, error_message, csv_line "
		    "FROM temp.main.");
	add_temp_name(&from, l, "rej", i);
	tn_buf_adds(&from, ")");
	tn_buf_addf(&q, "SELECT count(*) FROM %s", from.buf);
	rc = load_int(l->s, &q, &n, err);
	if (!rc && n > 0) {
		tn_buf_reset(&q);
		tn_buf_adds(&q, "CREATE TABLE IF NOT EXISTS ");
		load_add_name(&q, t->schema, rej);
		tn_buf_adds(&q, " (" PROV_FILE " VARCHAR, line BIGINT, column_name VARCHAR, reason VARCHAR, "
			    "raw_line VARCHAR, " PROV_TIME " TIMESTAMP)");
		rc = load_exec(l->s, &q, NULL, err);
	}
	if (!rc && n > 0) {
		tn_buf_reset(&q);
		tn_buf_adds(&q, "INSERT INTO ");
		load_add_name(&q, t->schema, rej);
		tn_buf_adds(&q, " SELECT ");
		tn_buf_add_sqlstr(&q, l->f[i].src);
		tn_buf_addf(&q, ", CAST(line AS BIGINT), column_name, error_message, csv_line, TIMESTAMP '%s' "
			    "FROM %s ORDER BY line, column_idx", l->now, from.buf);
		rc = load_exec(l->s, &q, NULL, err);
	}
	if (!rc && n > 0) {
		t->rep->rejected += n;
		if (!t->rep->rejects)
			t->rep->rejects = tn_xprintf("%s.%s", t->schema, rej);
	}
	tn_free(rej);
	tn_buf_release(&q);
	tn_buf_release(&from);
	return rc;
}

static int insert_once(struct ld *l, struct target *t, size_t i, int64_t *rows, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	tn_buf_adds(&q, "INSERT INTO ");
	load_add_name(&q, t->schema, t->table);
	tn_buf_adds(&q, " BY NAME ");
	add_select(&q, l, i, rej_kind(l, i));
	rc = load_int(l->s, &q, rows, err);
	tn_buf_release(&q);
	return rc;
}

/* One file into its table. A Latin-1 byte past the sniffer's sample shows
 * up only now: the statement is undone by the session, so read again. */
static int insert_file(struct ld *l, struct target *t, size_t i, struct tn_err *err)
{
	struct lfile *f = &l->f[i];
	int64_t rows = 0;
	int rc = insert_once(l, t, i, &rows, err);

	if (rc && f->fmt == FF_CSV && !f->latin1 && is_encoding_error(err)) {
		tn_err_clear(err);
		f->latin1 = 1;
		rc = insert_once(l, t, i, &rows, err);
	}
	if (rc) {
		l->failed = i;
		return rc;
	}
	t->rep->rows += rows;
	t->rep->nfiles++;
	return rej_kind(l, i) ? keep_rejects(l, t, i, err) : 0;
}

static int load_rows(struct ld *l, struct tn_err *err)
{
	size_t i, k;
	int rc = 0;

	for (i = 0; !rc && i < l->nt; i++) {
		struct target *t = &l->t[i];
		t->rep = load_report_add(l->rep, t->schema, t->table);
		for (k = 0; !rc && k < t->nfiles; k++)
			rc = insert_file(l, t, t->files[k], err);
	}
	return rc;
}

/* ---- the commit ---- */

/* Message: dataset, version, tables, and each file with its SHA-256
 * (the first few; all of them in the extra text, one per line). */
static void commit_info(struct ld *l)
{
	struct tn_buf msg = TN_BUF_INIT(TN_BUF_NOMAX), extra = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i, k;

	tn_buf_addf(&msg, "tarn load %s %s into ", l->dataset, l->version);
	for (i = 0; i < l->nt; i++)
		tn_buf_addf(&msg, "%s%s.%s", i ? ", " : "", l->t[i].schema, l->t[i].table);
	tn_buf_adds(&msg, ":");
	for (i = 0; i < l->nt; i++) {
		for (k = 0; k < l->t[i].nfiles; k++) {
			const struct lfile *f = &l->f[l->t[i].files[k]];
			tn_buf_addf(&extra, "%s sha256:%s %s.%s\n", f->src, f->sha, l->t[i].schema, l->t[i].table);
		}
	}
	for (i = 0; i < l->nf && i < MAX_FILES_IN_MESSAGE; i++)
		tn_buf_addf(&msg, " %s sha256:%s%s", l->f[i].rel, l->f[i].sha, i + 1 < l->nf ? ";" : "");
	if (l->nf > MAX_FILES_IN_MESSAGE)
		tn_buf_addf(&msg, " and %zu more files (see the extra info)", l->nf - MAX_FILES_IN_MESSAGE);
	session_set_commit_info(l->s, l->o->author, msg.buf, extra.buf);
	tn_buf_release(&msg);
	tn_buf_release(&extra);
}

static int transaction(struct ld *l, struct tn_err *err)
{
	int rc;

	commit_info(l);
	rc = session_exec(l->s, "BEGIN", NULL, err);
	if (!rc)
		rc = define_targets(l, err);
	if (!rc)
		rc = load_rows(l, err);
	if (!rc)
		rc = session_exec(l->s, "COMMIT", NULL, err);
	if (rc) {
		load_rollback(l->s);
		session_set_commit_info(l->s, NULL, NULL, NULL);
	}
	return rc;
}

/* Temp tables of this load die with it, not with the session. DROP of a
 * temp table is plain DuckDB, not lake SQL, so it goes to DuckDB itself. */
static void drop_temps(struct ld *l)
{
	static const char *const kinds[] = { "rej", "rejscan", "diag", "diagscan" };
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err ignore = TN_ERR_INIT;
	size_t i, k;

	for (i = 0; i < l->nf; i++) {
		if (l->f[i].fmt != FF_CSV)
			continue;
		for (k = 0; k < TN_ARRAY_LEN(kinds); k++) {
			tn_buf_adds(&q, "DROP TABLE IF EXISTS temp.main.");
			add_temp_name(&q, l, kinds[k], i);
			tn_buf_adds(&q, ";");
		}
	}
	if (q.len && !q.failed)
		duck_exec(session_duck(l->s), q.buf, &ignore);
	tn_buf_release(&q);
}

static void start(struct ld *l, struct session *s, const struct load_opts *o, struct load_report *rep)
{
	char uuid[37];
	struct tm tm;
	int64_t ms = tn_now_us() / 1000;
	time_t secs = (time_t)(ms / 1000);

	memset(l, 0, sizeof(*l));
	memset(rep, 0, sizeof(*rep));
	l->s = s;
	l->o = o;
	l->rep = rep;
	manifest_init(&l->m, NULL);
	gmtime_r(&secs, &tm);
	strftime(l->now, sizeof(l->now), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(l->now + strlen(l->now), sizeof(l->now) - strlen(l->now), ".%03d", (int)(ms % 1000));
	tn_uuid7(uuid);
	/* The random tail of a UUIDv7, without its dash. */
	snprintf(l->tag, sizeof(l->tag), "%.4s%.8s", uuid + 19, uuid + 24);
}

int load_dataset(struct session *s, struct lake *lk, const struct load_opts *o,
		 struct load_report *rep, struct tn_err *err)
{
	struct ld l;
	size_t i;
	int rc;

	start(&l, s, o, rep);
	if (session_in_txn(s)) {
		rc = tn_err_set(err, TN_EINVAL, "a load is its own transaction: COMMIT or ROLLBACK first");
		goto out;
	}
	l.dataset = ingest_slug(o->dataset);
	manifest_release(&l.m);
	rc = ingest_open_version(lk, o->dataset, o->version, &l.m, &l.dir, &l.version, err);
	if (!rc)
		rc = list_files(&l, err);
	for (i = 0; !rc && i < l.nf; i++)
		rc = plan_file(&l, i, err);
	if (!rc && o->table)
		rc = explicit_target(&l, err);
	else if (!rc)
		group_targets(&l);
	if (!rc)
		rc = check_targets(&l, err);
	l.failed = l.nf;
	if (!rc)
		rc = transaction(&l, err);
	if (rc && l.failed < l.nf) {
		diagnose(&l, l.failed, err);
		about_file(err, &l.f[l.failed]);
	}
	if (!rc)
		rep->version = tn_strdup(l.version);
out:
	drop_temps(&l);
	ld_release(&l);
	if (rc)
		load_report_release(rep);
	return rc;
}
