/*
 * session: runs SQL against a lake. Lake DDL/DML statements are turned into
 * catalog changes inside one SQLite write transaction; the commit point is
 * that transaction's COMMIT, which also inserts the new snapshot row. Reads
 * run in DuckDB over views ("the mirror") that list the files of the
 * snapshot being read, rebuilt whenever the snapshot changes.
 */
#include "base/compat.h"
#include "lake/session_int.h"
#include "base/tn_mem.h"
#include "base/tn_fs.h"
#include "base/tn_util.h"

#include <signal.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/*
 * Automatic retry. A commit that fails because of the catalog itself (the
 * write lock timed out, SQLite was busy, PostgreSQL reported a
 * serialization failure, a deadlock, or a unique violation because a
 * writer that does not take tarn's lock used the same id) never became
 * visible, so it can run again on the newest snapshot: an autocommit
 * statement is re-run, and a BEGIN ... COMMIT is replayed from its recorded
 * statements when it holds only lake writes (no SELECT whose result the
 * caller saw, nothing run in DuckDB alone). Exponential backoff with
 * jitter, within TARN_COMMIT_RETRIES attempts (default 10) and
 * TARN_COMMIT_RETRY_MS milliseconds (default 60000). Conflicts found by
 * the lake's own rules (sess_check_conflict) are real and never retried.
 */
struct sess_retry {
	char **stmts;           /* statements of the open transaction, as given */
	size_t n, alloc;
	int replayable;         /* only lake writes so far */
	int injected;           /* TARN_TEST_COMMIT_CONFLICTS used so far */
	uint64_t rng;
};

#define RETRY_DEFAULT 10
#define RETRY_BUDGET_MS 60000
#define RETRY_BASE_MS 4
#define RETRY_CAP_MS 1000

void sess_crashpoint(const char *name)
{
	const char *cp = getenv("TARN_CRASHPOINT");

	if (cp && !strcmp(cp, name)) {
		fflush(NULL);
		raise(SIGKILL);
	}
}

void sess_pausepoint(const char *name)
{
	const char *pp = getenv("TARN_PAUSEPOINT"), *ms = getenv("TARN_PAUSE_MS");

	if (pp && !strcmp(pp, name)) {
		long n = ms ? strtol(ms, NULL, 10) : 1000;
		struct timespec ts = { n / 1000, (n % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static int read_inline_limit(struct session *s, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(s->cat, "SELECT value FROM ducklake_metadata WHERE key = "
				      "'data_inlining_row_limit' AND scope IS NULL", &st, err);

	s->inline_limit = LAKE_INLINE_DEFAULT;
	if (rc)
		return rc;
	if (catalog_step(st, err) == 1 && catalog_col_text(st, 0))
		rc = tn_parse_int64(catalog_col_text(st, 0), &s->inline_limit, "data_inlining_row_limit", err);
	catalog_finalize(st);
	return rc;
}

int session_open(struct session **out, struct lake *lk, struct tn_err *err)
{
	struct session *s = tn_calloc(1, sizeof(*s));
	int64_t limit = -1;
	int rc, took;

	*out = NULL;
	s->lk = lk;
	s->mirror_snap = -1;
	s->last_commit = -1;
	s->retry = tn_calloc(1, sizeof(*s->retry));
	s->retry->rng = (uint64_t)tn_now_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s;
	tn_buf_init(&s->changes, TN_BUF_NOMAX);
	tn_buf_init(&s->theirs, TN_BUF_NOMAX);
	/* The first session takes what lake_open just opened and read. */
	s->cat = lake_take_catalog(lk, &limit);
	took = s->cat != NULL;
	rc = took ? 0 : catalog_open(&s->cat, lk->catalog_path, 0, err);
	if (!rc && !(s->duck = lake_take_duck(lk)))
		rc = duck_open(&s->duck, NULL, err);
	/* Data files never change, so their footers can be cached; UTC makes
	 * timestamptz statistics and output the same on every machine. */
	if (!rc)
		rc = duck_exec(s->duck, "SET parquet_metadata_cache = true; SET TimeZone = 'UTC'; "
				       "CREATE SCHEMA __tarn_tt; CREATE SCHEMA __tarn_scratch;", err);
	if (!rc && took)
		s->inline_limit = limit >= 0 ? limit : LAKE_INLINE_DEFAULT;
	else if (!rc)
		rc = read_inline_limit(s, err);
	if (rc) {
		session_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static void drop_files(struct session *s, size_t from)
{
	struct tn_err ignore = TN_ERR_INIT;
	size_t i;

	for (i = from; i < s->nfiles; i++) {
		files_remove(s->lk, s->files[i], &ignore);
		tn_free(s->files[i]);
	}
	s->nfiles = from;
}

static void forget_inlined_tables(struct session *s)
{
	size_t i;

	for (i = 0; i < s->ninl_known; i++)
		tn_free(s->inl_known[i]);
	s->ninl_known = 0;
}

static void end_write(struct session *s, int committed)
{
	size_t i;

	if (committed) {
		for (i = 0; i < s->nfiles; i++)
			tn_free(s->files[i]);
		s->nfiles = 0;
	} else {
		catalog_rollback(s->cat);
		drop_files(s, 0);
	}
	s->wtxn = 0;
	s->schema_changed = 0;
	tn_buf_reset(&s->changes);
	/* After a rollback the views may show what never happened, and views
	 * built during the write show it half done. Otherwise they show an
	 * older snapshot, which the next read brings up to date from
	 * snapshot_changes, table by table. */
	if (!committed || s->mirror_snap == s->new_snap)
		s->mirror_dirty = 1;
	s->mirror_behind = s->txn_wrote = 0;
	/* A rollback may have undone the creation of inlined-data tables. */
	if (!committed)
		forget_inlined_tables(s);
	/* The commit's author and message belong to it alone. */
	tn_free(s->author);
	tn_free(s->message);
	tn_free(s->extra);
	s->author = s->message = s->extra = NULL;
}

static void lazy_clear(struct session *s);

void session_close(struct session *s)
{
	size_t i;

	if (!s)
		return;
	ddl_unstage(s);
	if (s->wtxn)
		end_write(s, 0);
	for (i = 0; i < s->nmirrored; i++)
		tn_free(s->mirrored[i]);
	tn_free(s->mirrored);
	lazy_clear(s);
	for (i = 0; i < s->ntt; i++)
		tn_free(s->ttviews[i]);
	tn_free(s->ttviews);
	tn_free(s->files);
	if (s->retry) {
		for (i = 0; i < s->retry->n; i++)
			tn_free(s->retry->stmts[i]);
		tn_free(s->retry->stmts);
		tn_free(s->retry);
	}
	forget_inlined_tables(s);
	tn_free(s->inl_known);
	session_set_commit_info(s, NULL, NULL, NULL);
	tn_buf_release(&s->changes);
	tn_buf_release(&s->theirs);
	duck_close(s->duck);
	catalog_close(s->cat);
	tn_free(s);
}

int session_in_txn(const struct session *s)
{
	return s->in_txn;
}

struct duck *session_duck(struct session *s)
{
	return s->duck;
}

/* The changes_made of the snapshots committed by others since this
 * transaction's snapshot, as one comma-separated list. */
static int load_their_changes(struct session *s, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc;

	tn_buf_reset(&s->theirs);
	rc = catalog_prepare(s->cat, "SELECT snapshot_id, changes_made FROM ducklake_snapshot_changes "
				     "WHERE snapshot_id > ? AND snapshot_id <= ? ORDER BY snapshot_id", &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, s->read_snap);
	catalog_bind_int(st, 2, s->base.id);
	while ((rc = catalog_step(st, err)) == 1) {
		const char *c = catalog_col_text(st, 1);
		if (c && *c)
			tn_buf_addf(&s->theirs, "%s%s", s->theirs.len ? "," : "", c);
	}
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

/* Does the comma-separated changes_made `list` hold `kind:table_id`? */
static int has_change(const char *list, const char *kind, int64_t table_id)
{
	char needle[96];
	const char *p;
	size_t n;

	n = (size_t)snprintf(needle, sizeof(needle), "%s:%lld", kind, (long long)table_id);
	for (p = list; (p = strstr(p, needle)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* Did they make a change `kind` ("inserted_into_table", ...) to table id? */
static int they_did(struct session *s, const char *kind, int64_t table_id)
{
	return has_change(s->theirs.buf, kind, table_id);
}

/* The first of their snapshots that made that change (for the message), or -1. */
static int64_t their_snapshot(struct session *s, const char *kind, int64_t table_id)
{
	struct tn_err ignore = TN_ERR_INIT;
	struct catalog_stmt *st;
	int64_t found = -1;

	if (catalog_prepare(s->cat, "SELECT snapshot_id, changes_made FROM ducklake_snapshot_changes "
				    "WHERE snapshot_id > ? AND snapshot_id <= ? ORDER BY snapshot_id", &st, &ignore))
		return -1;
	catalog_bind_int(st, 1, s->read_snap);
	catalog_bind_int(st, 2, s->base.id);
	while (found < 0 && catalog_step(st, &ignore) == 1)
		if (catalog_col_text(st, 1) && has_change(catalog_col_text(st, 1), kind, table_id))
			found = catalog_col_int(st, 0);
	catalog_finalize(st);
	return found;
}

/*
 * The conflict rules of a transaction that began at an older snapshot than
 * the newest (what others committed meanwhile decides):
 *   append (INSERT, COPY):  conflicts when they dropped or altered the table;
 *   delete (DELETE, UPDATE): also when they inserted into or deleted from it
 *                            (their rows or deletes may be the ones we meant);
 *   DDL (ALTER, DROP, COMMENT): when they changed the table in any way.
 * Creating a name they created, or writing into a schema they dropped,
 * fails on its own ("already exists", "does not exist").
 */
int sess_check_conflict(struct session *s, int64_t table_id, const char *table, enum sess_op op,
			struct tn_err *err)
{
	static const char *const appends[] = { "dropped_table", "altered_table", NULL };
	static const char *const deletes[] = { "dropped_table", "altered_table", "inserted_into_table",
					       "inlined_insert", "deleted_from_table", NULL };
	const char *const *kinds = op == SESS_OP_APPEND ? appends : deletes;
	size_t i;

	if (!s->in_txn || !s->wtxn || s->base.id == s->read_snap)
		return 0;
	for (i = 0; kinds[i]; i++)
		if (they_did(s, kinds[i], table_id))
			return tn_err_set(err, TN_ECONFLICT,
					  "transaction conflict: table %s was changed (%s) by snapshot %lld, "
					  "committed after this transaction began at snapshot %lld; ROLLBACK and "
					  "run it again", table, kinds[i],
					  (long long)their_snapshot(s, kinds[i], table_id), (long long)s->read_snap);
	return 0;
}

int sess_write_begin(struct session *s, struct tn_err *err)
{
	int rc;

	if (s->wtxn)
		return 0;
	rc = catalog_begin(s->cat, 1, err);
	if (rc)
		return rc;
	rc = meta_latest(s->cat, &s->base, err);
	/* Others committed since this transaction began: it goes on from the
	 * newest snapshot, and each of its writes is checked against what
	 * they changed (sess_check_conflict); appends and other tables are fine. */
	if (!rc && s->in_txn && s->base.id != s->read_snap)
		rc = load_their_changes(s, err);
	if (rc) {
		catalog_rollback(s->cat);
		return rc;
	}
	s->wtxn = 1;
	s->new_snap = s->base.id + 1;
	s->next_catalog_id = s->base.next_catalog_id;
	s->next_file_id = s->base.next_file_id;
	s->schema_changed = 0;
	tn_buf_reset(&s->changes);
	return 0;
}

void sess_change(struct session *s, const char *fmt, ...)
{
	struct tn_buf e = TN_BUF_INIT(TN_BUF_NOMAX);
	va_list ap;
	const char *p;
	size_t n;

	va_start(ap, fmt);
	tn_buf_vaddf(&e, fmt, ap);
	va_end(ap);
	/* Each entry once: look for it between commas. */
	for (p = s->changes.buf; (p = strstr(p, e.buf)) != NULL; p += e.len) {
		n = (size_t)(p - s->changes.buf);
		if ((n == 0 || p[-1] == ',') && (p[e.len] == ',' || p[e.len] == '\0'))
			goto out;
	}
	if (s->changes.len)
		tn_buf_addc(&s->changes, ',');
	tn_buf_add(&s->changes, e.buf, e.len);
out:
	tn_buf_release(&e);
}

void sess_track_file(struct session *s, const char *path)
{
	TN_GROW(s->files, s->afiles, s->nfiles + 1);
	s->files[s->nfiles++] = tn_strdup(path);
}

/* Tests of the retry: TARN_TEST_COMMIT_CONFLICTS=N makes the first N
 * commits of this process fail as a busy catalog would. */
static int inject_conflict(struct session *s, struct tn_err *err)
{
	const char *v = getenv("TARN_TEST_COMMIT_CONFLICTS");

	if (!v || s->retry->injected >= atol(v))
		return 0;
	s->retry->injected++;
	return tn_err_set(err, TN_ECONFLICT, "catalog %s: commit: injected conflict %d "
			  "(TARN_TEST_COMMIT_CONFLICTS)", catalog_path(s->cat), s->retry->injected);
}

/* The commit point: the snapshot row and its changes, then COMMIT. */
static int commit_write(struct session *s, struct tn_err *err)
{
	struct catalog_stmt *st;
	char now[40];
	int rc;

	s->last_commit = -1;

	if (!s->wtxn)
		return 0;
	if (s->changes.len == 0) {
		/* Nothing changed (e.g. an INSERT of no rows): no snapshot. */
		end_write(s, 0);
		return 0;
	}
	lake_format_time(tn_now_us(), now);
	rc = catalog_prepare(s->cat, "INSERT INTO ducklake_snapshot VALUES (?, ?, ?, ?, ?)", &st, err);
	if (!rc) {
		catalog_bind_int(st, 1, s->new_snap);
		catalog_bind_text(st, 2, now);
		catalog_bind_int(st, 3, s->base.schema_version + (s->schema_changed ? 1 : 0));
		catalog_bind_int(st, 4, s->next_catalog_id);
		catalog_bind_int(st, 5, s->next_file_id);
		rc = catalog_step(st, err);
		catalog_finalize(st);
	}
	if (rc >= 0)
		rc = catalog_prepare(s->cat, "INSERT INTO ducklake_snapshot_changes VALUES (?, ?, ?, ?, ?)",
				     &st, err);
	if (!rc) {
		catalog_bind_int(st, 1, s->new_snap);
		catalog_bind_text(st, 2, s->changes.buf);
		catalog_bind_text(st, 3, s->author);
		catalog_bind_text(st, 4, s->message);
		catalog_bind_text(st, 5, s->extra);
		rc = catalog_step(st, err);
		catalog_finalize(st);
	}
	if (rc < 0) {
		end_write(s, 0);
		return rc;
	}
	sess_crashpoint("before_catalog_commit");
	rc = inject_conflict(s, err);
	if (!rc)
		rc = catalog_commit(s->cat, err);
	if (rc) {
		end_write(s, 0);
		return rc;
	}
	sess_crashpoint("after_catalog_commit");
	s->last_commit = s->new_snap;
	end_write(s, 1);
	return 0;
}

int64_t session_last_commit(const struct session *s)
{
	return s->last_commit;
}

void session_set_gate(struct session *s, session_gate_fn *fn, void *arg)
{
	s->gate = fn;
	s->gate_arg = arg;
}

void session_set_commit_info(struct session *s, const char *author, const char *message,
			     const char *extra)
{
	tn_free(s->author);
	tn_free(s->message);
	tn_free(s->extra);
	s->author = tn_strdup(author);
	s->message = tn_strdup(message);
	s->extra = tn_strdup(extra);
}

int sess_read_snapshot(struct session *s, int64_t *n, struct tn_err *err)
{
	struct lk_snap snap;
	int rc;

	if (s->wtxn) {
		*n = s->new_snap;
		return 0;
	}
	if (s->in_txn) {
		*n = s->read_snap;
		return 0;
	}
	rc = meta_latest(s->cat, &snap, err);
	*n = snap.id;
	return rc;
}

int sess_count_result(struct session *s, int64_t n, struct duck_result **res, struct tn_err *err)
{
	if (!res)
		return 0;
	return duck_count_result(s->duck, n, res, err);
}

int sess_table(struct session *s, const struct sql_name *nm, struct lk_table **t, int files,
	       struct tn_err *err)
{
	int64_t n;
	int rc = sess_read_snapshot(s, &n, err);

	if (!rc)
		rc = meta_table(s->lk, s->cat, nm->schema, nm->name, n, t, err);
	if (!rc && files)
		rc = meta_load_files(s->lk, s->cat, *t, err);
	if (!rc && files)
		rc = files_fetch(s->lk, *t, err);
	if (rc && *t) {
		meta_table_free(*t);
		*t = NULL;
	}
	return rc;
}

/* ---- the DuckDB mirror of the lake ---- */

static void mirror_note(struct session *s, char *drop_sql)
{
	for (size_t i = 0; i < s->nmirrored; i++)
		if (!strcmp(s->mirrored[i], drop_sql)) {
			tn_free(drop_sql);   /* a view made again */
			return;
		}
	TN_GROW(s->mirrored, s->amirrored, s->nmirrored + 1);
	s->mirrored[s->nmirrored++] = drop_sql;
}

static void mirror_clear(struct session *s)
{
	struct tn_err ignore = TN_ERR_INIT;
	size_t i;

	/* Views first (they were noted after their schemas), then schemas. */
	for (i = s->nmirrored; i-- > 0;) {
		duck_exec(s->duck, s->mirrored[i], &ignore);
		tn_err_clear(&ignore);
		tn_free(s->mirrored[i]);
	}
	s->nmirrored = 0;
}

struct sess_lazy {
	int64_t id;
	char *schema, *name;
	int built;  /* 0: the view is a row-less stand-in */
};

static void lazy_clear(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nlazy; i++) {
		tn_free(s->lazy[i].schema);
		tn_free(s->lazy[i].name);
	}
	tn_free(s->lazy);
	s->lazy = NULL;
	s->nlazy = s->alazy = 0;
}

static void lazy_note(struct session *s, const struct lk_table *t, int built)
{
	size_t i;

	for (i = 0; i < s->nlazy && s->lazy[i].id != t->id; i++)
		;
	if (i == s->nlazy) {
		TN_GROW(s->lazy, s->alazy, s->nlazy + 1);
		s->lazy[i].id = t->id;
		s->lazy[i].schema = tn_strdup(t->schema);
		s->lazy[i].name = tn_strdup(t->name);
		s->nlazy++;
	}
	s->lazy[i].built = built;
}

/* The view of one table at snapshot n; `lazy`: a row-less stand-in with
 * the table's columns, built for real by mirror_build when read. */
static int mirror_table(struct session *s, int64_t table_id, int64_t n, int note, int lazy,
			struct tn_err *err)
{
	struct tn_buf sql = TN_BUF_INIT(TN_BUF_NOMAX), name = TN_BUF_INIT(TN_BUF_NOMAX);
	struct lk_table *t = NULL;
	int rc = meta_table_by_id(s->lk, s->cat, table_id, n, &t, err);

	if (!rc && !lazy)
		rc = meta_load_files(s->lk, s->cat, t, err);
	if (!rc && !lazy)
		rc = files_fetch(s->lk, t, err);
	if (!rc)
		lazy_note(s, t, !lazy);
	if (!rc) {
		tn_buf_add_sqlid(&name, t->schema);
		tn_buf_addc(&name, '.');
		tn_buf_add_sqlid(&name, t->name);
		tn_buf_addf(&sql, "CREATE OR REPLACE VIEW %s AS ", name.buf);
		rc = scan_sql(t, 0, &sql, err);
	}
	if (!rc)
		rc = duck_exec(s->duck, sql.buf, err);
	if (!rc && note)
		mirror_note(s, tn_xprintf("DROP VIEW IF EXISTS %s", name.buf));
	if (rc)
		tn_err_prefix(err, "reading table %lld", (long long)table_id);
	tn_buf_release(&sql);
	tn_buf_release(&name);
	meta_table_free(t);
	return rc;
}

static int mirror_schemas(struct session *s, int64_t n, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(s->cat, "SELECT schema_name FROM ducklake_schema WHERE begin_snapshot <= ?1 "
					 "AND (end_snapshot IS NULL OR end_snapshot > ?1)", &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, n);
	while (!rc && (rc = catalog_step(st, err)) == 1) {
		struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
		const char *name = catalog_col_text(st, 0);
		rc = 0;
		if (tn_strieq(name, LAKE_DEFAULT_SCHEMA))
			continue;
		tn_buf_adds(&q, "CREATE SCHEMA IF NOT EXISTS ");
		tn_buf_add_sqlid(&q, name);
		rc = duck_exec(s->duck, q.buf, err);
		tn_buf_reset(&q);
		tn_buf_adds(&q, "DROP SCHEMA IF EXISTS ");
		tn_buf_add_sqlid(&q, name);
		tn_buf_adds(&q, " CASCADE");
		mirror_note(s, tn_buf_detach(&q, NULL));
	}
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

static int collect_ids(struct session *s, const char *sql, int64_t n, int64_t **ids, size_t *nids,
		       struct tn_err *err)
{
	struct catalog_stmt *st;
	size_t alloc = 0;
	int rc = catalog_prepare(s->cat, sql, &st, err);

	*ids = NULL;
	*nids = 0;
	if (rc)
		return rc;
	catalog_bind_int(st, 1, n);
	while ((rc = catalog_step(st, err)) == 1) {
		TN_GROW(*ids, alloc, *nids + 1);
		(*ids)[(*nids)++] = catalog_col_int(st, 0);
	}
	catalog_finalize(st);
	return rc;
}

/* Lake views, in passes: a view can only be created after those it reads. */
static int mirror_views(struct session *s, int64_t n, struct tn_err *err)
{
	struct catalog_stmt *st;
	char **sqls = NULL, **drops = NULL;
	size_t nv = 0, alloc = 0, alloc2 = 0, i, left, pass;
	int rc = catalog_prepare(s->cat, "SELECT s.schema_name, v.view_name, v.sql FROM ducklake_view v JOIN "
					 "ducklake_schema s ON s.schema_id = v.schema_id WHERE v.begin_snapshot <= ?1 "
					 "AND (v.end_snapshot IS NULL OR v.end_snapshot > ?1)", &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, n);
	while ((rc = catalog_step(st, err)) == 1) {
		struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX), nm = TN_BUF_INIT(TN_BUF_NOMAX);
		tn_buf_add_sqlid(&nm, catalog_col_text(st, 0));
		tn_buf_addc(&nm, '.');
		tn_buf_add_sqlid(&nm, catalog_col_text(st, 1));
		tn_buf_addf(&q, "CREATE OR REPLACE VIEW %s AS %s", nm.buf, catalog_col_text(st, 2));
		TN_GROW(sqls, alloc, nv + 1);
		TN_GROW(drops, alloc2, nv + 1);
		sqls[nv] = tn_buf_detach(&q, NULL);
		drops[nv++] = tn_xprintf("DROP VIEW IF EXISTS %s", nm.buf);
		tn_buf_release(&nm);
	}
	catalog_finalize(st);
	for (pass = 0, left = nv; rc == 0 && left > 0 && pass <= nv; pass++) {
		for (i = 0; i < nv; i++) {
			struct tn_err e = TN_ERR_INIT;
			if (!sqls[i] || duck_exec(s->duck, sqls[i], &e))
				continue;
			tn_free(sqls[i]);
			sqls[i] = NULL;
			mirror_note(s, drops[i]);
			drops[i] = NULL;
			left--;
		}
	}
	for (i = 0; i < nv; i++) {
		tn_free(sqls[i]);
		tn_free(drops[i]);
	}
	tn_free(sqls);
	tn_free(drops);
	return rc;
}

/* Every table's row-less stand-in at snapshot n, from two catalog queries
 * and one DuckDB call (a lake of many tables opens in one round trip, not
 * two per table). Nonzero when that did not work out: the caller then goes
 * table by table, which names the table at fault. */
static int stand_ins(struct session *s, int64_t n)
{
	struct tn_buf sql = TN_BUF_INIT(TN_BUF_NOMAX), name = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err e = TN_ERR_INIT;
	struct lk_table **t = NULL;
	size_t nt = 0, i;
	int rc = meta_tables_at(s->lk, s->cat, n, &t, &nt, &e);

	for (i = 0; !rc && i < nt; i++) {
		tn_buf_adds(&sql, "CREATE OR REPLACE VIEW ");
		tn_buf_add_sqlid(&sql, t[i]->schema);
		tn_buf_addc(&sql, '.');
		tn_buf_add_sqlid(&sql, t[i]->name);
		tn_buf_adds(&sql, " AS ");
		rc = scan_sql(t[i], 0, &sql, &e);
		tn_buf_adds(&sql, ";\n");
	}
	if (!rc && nt)
		rc = duck_exec(s->duck, sql.buf, &e);
	for (i = 0; !rc && i < nt; i++) {
		lazy_note(s, t[i], 0);
		tn_buf_reset(&name);
		tn_buf_add_sqlid(&name, t[i]->schema);
		tn_buf_addc(&name, '.');
		tn_buf_add_sqlid(&name, t[i]->name);
		mirror_note(s, tn_xprintf("DROP VIEW IF EXISTS %s", name.buf));
	}
	for (i = 0; i < nt; i++)
		meta_table_free(t[i]);
	tn_free(t);
	tn_buf_release(&sql);
	tn_buf_release(&name);
	return rc;
}

static int mirror_full(struct session *s, int64_t n, int lazy, struct tn_err *err)
{
	int64_t *ids;
	size_t nids, i;
	int rc;

	mirror_clear(s);
	lazy_clear(s);
	rc = mirror_schemas(s, n, err);
	if (!rc && lazy && stand_ins(s, n) == 0)
		return mirror_views(s, n, err);
	if (!rc)
		rc = collect_ids(s, "SELECT table_id FROM ducklake_table WHERE begin_snapshot <= ?1 AND "
				    "(end_snapshot IS NULL OR end_snapshot > ?1)", n, &ids, &nids, err);
	if (rc)
		return rc;
	for (i = 0; !rc && i < nids; i++)
		rc = mirror_table(s, ids[i], n, 1, lazy, err);
	tn_free(ids);
	if (!rc)
		rc = mirror_views(s, n, err);
	return rc;
}

/* What changed in (from, to], table by table. */
struct changes {
	int64_t *ids;        /* tables to rebuild (data, columns, comments, new) */
	int *renew;          /* per id: its name may have changed (drop the old view first) */
	size_t n, alloc;
	int64_t *dropped;    /* tables dropped */
	size_t ndropped, adropped;
	int64_t *vdropped;   /* views dropped */
	size_t nvdropped, avdropped;
	int views;           /* lake views were created, dropped or altered */
	int full;            /* something else changed (schemas ...): rebuild all */
};

static void changes_add(struct changes *c, int64_t id, int renew)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ids[i] == id) {
			c->renew[i] |= renew;
			return;
		}
	if (c->n == c->alloc) {
		size_t a = c->alloc;
		TN_GROW(c->ids, c->alloc, c->n + 1);
		TN_GROW(c->renew, a, c->n + 1);
	}
	c->ids[c->n] = id;
	c->renew[c->n++] = renew;
}

static void changes_release(struct changes *c)
{
	tn_free(c->ids);
	tn_free(c->renew);
	tn_free(c->dropped);
	tn_free(c->vdropped);
}

static int changes_dropped(const struct changes *c, int64_t id)
{
	for (size_t i = 0; i < c->ndropped; i++)
		if (c->dropped[i] == id)
			return 1;
	return 0;
}

/* One changes_made list. Tables created in the range are found by their
 * begin_snapshot (changes name them, not their ids). */
static void parse_changes(struct changes *c, const char *p)
{
	static const struct { const char *kind; int renew; } data[] = {
		{ "inserted_into_table:", 0 }, { "deleted_from_table:", 0 }, { "inlined_insert:", 0 },
		{ "altered_table:", 1 }, { "compacted_table:", 0 },
	};

	while (p && *p) {
		const char *colon = strchr(p, ':');
		size_t k, len = colon ? (size_t)(colon - p) + 1 : 0;
		char *end = NULL;
		long long id;
		if (colon && (!strncmp(p, "created_table:", len) || !strncmp(p, "created_view:", len))) {
			/* skip the quoted "schema"."name" (quotes doubled inside) */
			const char *q = colon + 1;
			int in = 0;
			for (; *q && (in || *q != ','); q++)
				if (*q == '"')
					in = !in;
			p = *q == ',' ? q + 1 : q;
			c->views |= len == sizeof("created_view:") - 1;
			continue;
		}
		if (colon && (!strncmp(p, "dropped_view:", len) || !strncmp(p, "altered_view:", len))) {
			id = strtoll(colon + 1, &end, 10);
			c->views = 1;
			if (p[0] == 'd') {
				TN_GROW(c->vdropped, c->avdropped, c->nvdropped + 1);
				c->vdropped[c->nvdropped++] = id;
			}
			p = *end == ',' ? end + 1 : end;
			continue;
		}
		for (k = 0; colon && k < TN_ARRAY_LEN(data) && strncmp(p, data[k].kind, len); k++)
			;
		if (colon && !strncmp(p, "dropped_table:", len)) {
			id = strtoll(colon + 1, &end, 10);
			TN_GROW(c->dropped, c->adropped, c->ndropped + 1);
			c->dropped[c->ndropped++] = id;
		} else if (colon && k < TN_ARRAY_LEN(data)) {
			id = strtoll(colon + 1, &end, 10);
			changes_add(c, id, data[k].renew);
		} else {
			/* anything else (views, schemas, ...): noted, then skipped */
			const char *q = colon ? colon + 1 : p;
			int in = 0;
			c->full = 1;
			for (; *q && (in || *q != ','); q++)
				if (*q == '"')
					in = !in;
			p = *q == ',' ? q + 1 : q;
			continue;
		}
		p = *end == ',' ? end + 1 : end;
	}
}

static int changed_tables(struct session *s, int64_t from, int64_t to, struct changes *c, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(s->cat, "SELECT changes_made FROM ducklake_snapshot_changes "
					 "WHERE snapshot_id > ? AND snapshot_id <= ?", &st, err);

	memset(c, 0, sizeof(*c));
	if (rc)
		return rc;
	catalog_bind_int(st, 1, from);
	catalog_bind_int(st, 2, to);
	while (!c->full && (rc = catalog_step(st, err)) == 1)
		parse_changes(c, catalog_col_text(st, 0));
	catalog_finalize(st);
	if (rc < 0 || c->full)
		return rc < 0 ? rc : 0;
	rc = catalog_prepare(s->cat, "SELECT table_id FROM ducklake_table WHERE begin_snapshot > ? AND "
				     "begin_snapshot <= ?", &st, err);
	if (rc)
		return rc;
	catalog_bind_int(st, 1, from);
	catalog_bind_int(st, 2, to);
	while ((rc = catalog_step(st, err)) == 1)
		changes_add(c, catalog_col_int(st, 0), 1);
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

int sess_reads_changed(struct session *s, int64_t from, int64_t to, const int64_t *ids, size_t n, int all,
		       int *changed, struct tn_err *err)
{
	struct changes c;
	size_t i, k;
	int rc;

	*changed = 0;
	if (to == from)
		return 0;
	if (all) {
		*changed = 1;
		return 0;
	}
	rc = changed_tables(s, from, to, &c, err);
	for (i = 0; !rc && !*changed && i < n; i++) {
		for (k = 0; k < c.n && !*changed; k++)
			*changed = c.ids[k] == ids[i];
		for (k = 0; k < c.ndropped && !*changed; k++)
			*changed = c.dropped[k] == ids[i];
	}
	changes_release(&c);
	return rc;
}

/* Drop the view of the table with this id, if the mirror has one, and
 * forget it: it was dropped, or may have a new name. */
static int unmirror(struct session *s, int64_t id, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;
	int rc;

	for (i = 0; i < s->nlazy && s->lazy[i].id != id; i++)
		;
	if (i == s->nlazy)
		return 0;
	tn_buf_adds(&q, "DROP VIEW IF EXISTS ");
	tn_buf_add_sqlid(&q, s->lazy[i].schema);
	tn_buf_addc(&q, '.');
	tn_buf_add_sqlid(&q, s->lazy[i].name);
	rc = duck_exec(s->duck, q.buf, err);
	tn_buf_release(&q);
	tn_free(s->lazy[i].schema);
	tn_free(s->lazy[i].name);
	s->lazy[i] = s->lazy[--s->nlazy];
	return rc;
}

/* Bring the views from snapshot `from` to `to` table by table: dropped
 * and renamed tables lose their old view first, then every changed table
 * still there at `to` gets its view again. */
static int apply_changes(struct session *s, const struct changes *c, int64_t to, int lazy, struct tn_err *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < c->ndropped; i++)
		rc = unmirror(s, c->dropped[i], err);
	for (i = 0; !rc && i < c->n; i++)
		if (c->renew[i] && !changes_dropped(c, c->ids[i]))
			rc = unmirror(s, c->ids[i], err);
	for (i = 0; !rc && i < c->n; i++)
		if (!changes_dropped(c, c->ids[i]))
			rc = mirror_table(s, c->ids[i], to, c->renew[i], lazy, err);
	return rc;
}

/* Lake views created, dropped or altered: the dropped ones go by name
 * (their catalog rows are still there, ended), then every current one is
 * made again (CREATE OR REPLACE), in an order that binds. */
static int follow_views(struct session *s, const struct changes *c, int64_t to, struct tn_err *err)
{
	struct catalog_stmt *st;
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < c->nvdropped; i++) {
		rc = catalog_prepare(s->cat, "SELECT s.schema_name, v.view_name FROM ducklake_view v JOIN "
					     "ducklake_schema s ON s.schema_id = v.schema_id WHERE v.view_id = ?", &st, err);
		if (rc)
			break;
		catalog_bind_int(st, 1, c->vdropped[i]);
		while ((rc = catalog_step(st, err)) == 1) {
			struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
			struct tn_err ignore = TN_ERR_INIT;
			tn_buf_adds(&q, "DROP VIEW IF EXISTS ");
			tn_buf_add_sqlid(&q, catalog_col_text(st, 0));
			tn_buf_addc(&q, '.');
			tn_buf_add_sqlid(&q, catalog_col_text(st, 1));
			duck_exec(s->duck, q.buf, &ignore);
			tn_buf_release(&q);
		}
		catalog_finalize(st);
		rc = rc < 0 ? rc : 0;
	}
	return rc ? rc : mirror_views(s, to, err);
}

/* Bring the DuckDB views to the snapshot reads see. Inside a write
 * transaction that has not written yet, that snapshot holds exactly the
 * committed one it started from (s->base), so the views follow that one
 * and stay usable after COMMIT; once it has written (`own`), reads must
 * see its writes and the views are rebuilt at the pending snapshot, again
 * after each later write (mirror_behind). */
static int refresh(struct session *s, int lazy, struct tn_err *err)
{
	struct changes c;
	int64_t n, to;
	int rc, full = 0, own;

	rc = sess_read_snapshot(s, &n, err);
	if (rc)
		return rc;
	if (n == s->mirror_snap && !s->mirror_dirty && !s->mirror_behind)
		return 0;
	/* changes made by the running statement itself (CREATE OR REPLACE
	 * ending the old table before its query runs) do not count: the
	 * query reads what was there before it */
	own = s->wtxn && s->txn_wrote;
	to = s->wtxn && !own ? s->base.id : n;
	memset(&c, 0, sizeof(c));
	if (s->mirror_dirty || s->mirror_snap < 0 || to < s->mirror_snap ||
	    (own && (s->mirror_behind || s->mirror_snap != n))) {
		full = 1;
	} else if (to > s->mirror_snap) {
		rc = changed_tables(s, s->mirror_snap, to, &c, err);
		full = c.full;
	}
	if (!rc && !full)
		rc = apply_changes(s, &c, to, lazy, err);
	if (!rc && !full && c.views)
		rc = follow_views(s, &c, to, err);
	changes_release(&c);
	if (!rc && full)
		rc = mirror_full(s, to, lazy, err);
	if (rc) {
		s->mirror_dirty = 1;
		return rc;
	}
	s->mirror_snap = to;
	s->mirror_dirty = 0;
	if (full)
		s->mirror_behind = 0;   /* rebuilt with the transaction's own writes */
	return 0;
}

/* Build the stand-in views: entry i, or every one (i == nlazy). */
static int mirror_build(struct session *s, size_t only, struct tn_err *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < s->nlazy; i++) {
		if (s->lazy[i].built || (only < s->nlazy && i != only))
			continue;
		rc = mirror_table(s, s->lazy[i].id, s->mirror_snap, 0, 0, err);
	}
	if (rc)
		s->mirror_dirty = 1;
	return rc;
}

int sess_refresh_mirror(struct session *s, struct tn_err *err)
{
	int rc = refresh(s, 0, err);

	return rc ? rc : mirror_build(s, s->nlazy, err);
}

struct need {
	struct session *s;
	int unknown;          /* a reference to something not a lake table */
	int64_t *ids;         /* the lake tables referenced (sess_mirror_reads) */
	size_t n, alloc;
	struct tn_err *err;
};

/* One table reference of a query: build its view if it is a stand-in.
 * An unqualified name may mean any schema (SET schema): all of them. */
static int need_ref(void *arg, const char *schema, const char *name)
{
	struct need *nd = arg;
	struct session *s = nd->s;
	size_t i;
	int found = 0, rc = 0;

	for (i = 0; !rc && i < s->nlazy; i++) {
		if (!tn_strieq(s->lazy[i].name, name) || (schema && !tn_strieq(s->lazy[i].schema, schema)))
			continue;
		found = 1;
		TN_GROW(nd->ids, nd->alloc, nd->n + 1);
		nd->ids[nd->n++] = s->lazy[i].id;
		if (!s->lazy[i].built)
			rc = mirror_build(s, i, nd->err);
	}
	if (!found)
		nd->unknown = 1;
	return rc;
}

/* reads: also when every view is built, learn what the query reads. */
static int mirror_for(struct session *s, const char *sql, struct need *nd, int reads)
{
	size_t i;
	int rc = refresh(s, 1, nd->err), known = 0;

	for (i = 0; !rc && i < s->nlazy && s->lazy[i].built; i++)
		;
	if (rc || (i == s->nlazy && !reads))
		return rc;   /* nothing left to build */
	if (s->query_is_select)
		rc = tt_table_refs(s, sql, need_ref, nd, &known, nd->err);
	/* A lake view, a temp view, a statement DuckDB will not show us: any
	 * table may be read. */
	if (!known)
		nd->unknown = 1;
	if (!rc && nd->unknown)
		rc = mirror_build(s, s->nlazy, nd->err);
	return rc;
}

int sess_mirror_for(struct session *s, const char *sql, struct tn_err *err)
{
	struct need nd = { s, 0, NULL, 0, 0, err };
	int rc = mirror_for(s, sql, &nd, 0);

	tn_free(nd.ids);
	return rc;
}

int sess_mirror_reads(struct session *s, const char *sql, int64_t **ids, size_t *n, int *all, struct tn_err *err)
{
	struct need nd = { s, 0, NULL, 0, 0, err };
	int was = s->query_is_select, rc;

	s->query_is_select = 1;
	rc = mirror_for(s, sql, &nd, 1);
	s->query_is_select = was;
	*ids = nd.ids;
	*n = nd.n;
	*all = nd.unknown;
	return rc;
}

int sess_mirror_for_select(struct session *s, const char *sql, struct tn_err *err)
{
	int was = s->query_is_select, rc;

	s->query_is_select = 1;
	rc = sess_mirror_for(s, sql, err);
	s->query_is_select = was;
	return rc;
}

/* ---- statements ---- */

/* DuckDB's C API renders nested and time-zone values as empty text; such
 * columns are cast to VARCHAR by DuckDB itself, in a second run of the query. */
static int cast_column(struct duck_result *r, size_t i)
{
	const char *t = duck_result_typename(r, i);

	return duck_result_kind(r, i) == DUCK_KIND_NESTED || strstr(t, "WITH TIME ZONE") ||
	       !strcmp(t, "UUID") || !strcmp(t, "BIT") || !strcmp(t, "BIGNUM") || !strcmp(t, "UNION") ||
	       !strcmp(t, "ARRAY");
}

static int needs_text(struct duck_result *r)
{
	return !duck_result_readable(r);
}

static int requery_as_text(struct session *s, const char *sql, struct duck_result **r, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i, n = duck_result_ncols(*r);
	int rc;

	tn_buf_adds(&q, "SELECT ");
	for (i = 0; i < n; i++) {
		int cast = cast_column(*r, i);
		tn_buf_addf(&q, "%s%s__tarn_q%zu%s AS ", i ? ", " : "", cast ? "CAST(" : "", i,
			    cast ? " AS VARCHAR)" : "");
		tn_buf_add_sqlid(&q, duck_result_name(*r, i));
	}
	tn_buf_addf(&q, " FROM (%s) AS __tarn_q(", sql);
	for (i = 0; i < n; i++)
		tn_buf_addf(&q, "%s__tarn_q%zu", i ? ", " : "", i);
	tn_buf_addc(&q, ')');
	duck_result_free(*r);
	*r = NULL;
	rc = duck_query(s->duck, q.buf, r, err);
	tn_buf_release(&q);
	return rc;
}

static int run_query(struct session *s, const char *sql, struct duck_result **res, struct tn_err *err)
{
	char *rewritten = NULL;
	struct duck_result *r = NULL;
	int rc;

	rc = intro_prepare(s, sql, err);
	if (!rc)
		rc = tt_rewrite(s, sql, &rewritten, err);
	/* A query that now reads only snapshot views needs no stand-ins. */
	if (!rc && !(rewritten && s->tt_only))
		rc = sess_mirror_for(s, rewritten ? rewritten : sql, err);
	if (!rc)
		rc = duck_query(s->duck, rewritten ? rewritten : sql, &r, err);
	if (!rc && s->query_is_select && needs_text(r))
		rc = requery_as_text(s, rewritten ? rewritten : sql, &r, err);
	tn_free(rewritten);
	if (res)
		*res = r;
	else
		duck_result_free(r);
	return rc;
}

/* Passthrough statements run in the session's DuckDB. Creating persistent
 * objects there would silently vanish with the session, so refuse them. */
static int check_passthrough(const char *sql, struct tn_err *err)
{
	char w1[32] = "", w2[32] = "", w3[32] = "";

	if (sscanf(sql, "%31s %31s %31s", w1, w2, w3) < 1)
		return 0;
	if (!tn_strieq(w1, "CREATE"))
		return 0;
	if (tn_strieq(w2, "OR") && tn_strieq(w3, "REPLACE")) {
		char w4[32] = "";
		if (sscanf(sql, "%*s %*s %*s %31s", w4) == 1)
			snprintf(w2, sizeof(w2), "%s", w4);
	}
	if (tn_strieq(w2, "TEMP") || tn_strieq(w2, "TEMPORARY") || tn_strieq(w2, "SECRET"))
		return 0;
	return tn_err_set(err, TN_EUNSUPPORTED,
			  "CREATE %s is not stored in the lake; use CREATE TEMP %s for this session only",
			  w2, w2);
}

static int explicit_temp(const struct sql_name *nm)
{
	return (nm->schema && tn_strieq(nm->schema, "temp")) || (nm->catalog && tn_strieq(nm->catalog, "temp"));
}

static int is_temp_table(struct session *s, const struct sql_name *nm)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct tn_err ignore = TN_ERR_INIT;
	int64_t n = 0;

	if (nm->schema)
		return 0;
	tn_buf_adds(&q, "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ");
	tn_buf_add_sqlstr(&q, nm->name);
	duck_query_int(s->duck, q.buf, &n, &ignore);
	tn_buf_release(&q);
	return n > 0;
}

static int run_write(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err)
{
	switch (st->kind) {
	case SQL_INSERT:
		return write_insert(s, st, rows, err);
	case SQL_DELETE:
		return write_delete(s, st, rows, err);
	case SQL_UPDATE:
		return write_update(s, st, rows, err);
	case SQL_COPY_FROM:
		return write_copy(s, st, rows, err);
	case SQL_MERGE:
		return write_merge(s, st, rows, err);
	default:
		*rows = 0;
		return ddl_exec(s, st, rows, err);
	}
}

/* ---- automatic retry (see struct sess_retry) ---- */

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	n = strtol(v, &end, 10);
	return *end || n < 0 ? def : n;
}

/* A conflict the catalog itself reported (its messages start "catalog "),
 * which a new attempt on the newest snapshot gets past. */
static int retryable(int rc, const struct tn_err *e)
{
	return rc == TN_ECONFLICT && !strncmp(e->msg, "catalog ", 8);
}

/* Wait before retry number `attempt` (0-based): RETRY_BASE_MS doubled each
 * time up to RETRY_CAP_MS, half of it random so writers that collided
 * spread out. Nonzero when the budget allows no more attempts. */
static int retry_wait(struct session *s, int attempt, double t0)
{
	long max = env_long("TARN_COMMIT_RETRIES", RETRY_DEFAULT);
	long budget = env_long("TARN_COMMIT_RETRY_MS", RETRY_BUDGET_MS);
	double cap = RETRY_BASE_MS * (double)(1u << (attempt < 16 ? attempt : 16)), ms;
	struct timespec ts;
	uint64_t x = s->retry->rng;

	if (attempt >= max)
		return -1;
	if (cap > RETRY_CAP_MS)
		cap = RETRY_CAP_MS;
	x ^= x << 13;   /* xorshift64: jitter needs no quality */
	x ^= x >> 7;
	x ^= x << 17;
	s->retry->rng = x;
	ms = cap / 2 + (double)(x % 1000000) / 1e6 * cap / 2;
	if ((tn_mono() - t0) * 1000 + ms > (double)budget)
		return -1;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
	nanosleep(&ts, NULL);
	return 0;
}

static int retry_give_up(struct tn_err *err, const struct tn_err *last, int attempts, double t0)
{
	if (attempts <= 1)
		return tn_err_set(err, last->code, "%s", last->msg);
	return tn_err_set(err, last->code, "%s (gave up after %d attempts in %.1f s: raise TARN_COMMIT_RETRIES "
			  "or TARN_COMMIT_RETRY_MS, or find what holds the catalog's write lock)", last->msg,
			  attempts, tn_mono() - t0);
}

/* The commit's author and message outlive a failed attempt (end_write
 * forgets them). */
struct commit_info {
	char *author, *message, *extra;
};

static void info_save(struct session *s, struct commit_info *ci)
{
	ci->author = tn_strdup(s->author);
	ci->message = tn_strdup(s->message);
	ci->extra = tn_strdup(s->extra);
}

static void info_release(struct commit_info *ci)
{
	tn_free(ci->author);
	tn_free(ci->message);
	tn_free(ci->extra);
}

static int autocommit_once(struct session *s, struct sql_stmt *st, int64_t *rows, struct tn_err *err)
{
	int rc;

	ddl_stage(s, st);   /* the slow part of a CREATE TABLE AS, before the lock */
	rc = s->gate ? s->gate(s->gate_arg, err) : 0;
	if (!rc)
		rc = sess_write_begin(s, err);
	if (!rc)
		rc = run_write(s, st, rows, err);
	ddl_unstage(s);
	if (rc) {
		if (s->wtxn)
			end_write(s, 0);
		return rc;
	}
	return commit_write(s, err);
}

/* CREATE SCHEMA IF NOT EXISTS of a schema that exists changes nothing: it
 * need not wait for the catalog's write lock. */
static int schema_exists_already(struct session *s, struct sql_stmt *st)
{
	struct tn_err e = TN_ERR_INIT;
	int64_t n, id;
	int found = 0;

	return st->kind == SQL_CREATE_SCHEMA && st->if_not_exists && !s->wtxn &&
	       !sess_read_snapshot(s, &n, &e) && !meta_schema_id(s->cat, st->target.name, n, &id, &found, &e) &&
	       found;
}

/* An autocommit statement: a failed attempt left nothing, so run it again. */
static int autocommit(struct session *s, struct sql_stmt *st, struct duck_result **res, struct tn_err *err)
{
	struct tn_err e = TN_ERR_INIT;
	struct commit_info ci;
	double t0 = tn_mono();
	int64_t rows = 0;
	int rc, attempt = 0;

	info_save(s, &ci);
	for (;;) {
		rows = 0;
		rc = autocommit_once(s, st, &rows, &e);
		if (!retryable(rc, &e) || retry_wait(s, attempt, t0))
			break;
		attempt++;
		tn_err_clear(&e);
		session_set_commit_info(s, ci.author, ci.message, ci.extra);
	}
	info_release(&ci);
	if (rc)
		return retry_give_up(err, &e, attempt + 1, t0);
	return sess_count_result(s, rows, res, err);
}

/* The first write of a transaction waits for the catalog's write lock;
 * nothing has happened yet when that fails. */
static int write_begin_retry(struct session *s, struct tn_err *err)
{
	struct tn_err e = TN_ERR_INIT;
	double t0 = tn_mono();
	int rc, attempt = 0;

	for (;;) {
		rc = sess_write_begin(s, &e);
		if (!retryable(rc, &e) || retry_wait(s, attempt, t0))
			break;
		attempt++;
		tn_err_clear(&e);
	}
	return rc ? retry_give_up(err, &e, attempt + 1, t0) : 0;
}

static void txn_log_reset(struct session *s)
{
	size_t i;

	for (i = 0; i < s->retry->n; i++)
		tn_free(s->retry->stmts[i]);
	s->retry->n = 0;
	s->retry->replayable = 1;
}

static void txn_log_add(struct session *s, const char *text)
{
	TN_GROW(s->retry->stmts, s->retry->alloc, s->retry->n + 1);
	s->retry->stmts[s->retry->n++] = tn_strdup(text);
}

/* One write statement: autocommit, or a savepoint inside BEGIN ... COMMIT
 * so a failed statement leaves the transaction as it was before it. */
static int write_stmt(struct session *s, struct sql_stmt *st, struct duck_result **res,
		      struct tn_err *err)
{
	size_t nfiles, nchanges;
	int64_t rows = 0, cat_id, file_id;
	int rc, schema_changed;

	if (schema_exists_already(s, st))
		return sess_count_result(s, 0, res, err);
	if (!s->in_txn)
		return autocommit(s, st, res, err);
	if (!s->wtxn)
		ddl_stage(s, st);   /* the slow part of a CREATE TABLE AS, before the lock */
	rc = !s->wtxn && s->gate ? s->gate(s->gate_arg, err) : 0;
	if (!rc)
		rc = write_begin_retry(s, err);
	if (rc) {
		ddl_unstage(s);
		return rc;
	}
	nfiles = s->nfiles;
	nchanges = s->changes.len;
	cat_id = s->next_catalog_id;
	file_id = s->next_file_id;
	schema_changed = s->schema_changed;
	rc = catalog_savepoint(s->cat, "tarn_stmt", err);
	if (!rc)
		rc = run_write(s, st, &rows, err);
	ddl_unstage(s);
	if (rc) {
		catalog_rollback_to(s->cat, "tarn_stmt");
		forget_inlined_tables(s);
		drop_files(s, nfiles);
		tn_buf_truncate(&s->changes, nchanges);
		s->next_catalog_id = cat_id;
		s->next_file_id = file_id;
		s->schema_changed = schema_changed;
	} else {
		rc = catalog_release(s->cat, "tarn_stmt", err);
	}
	/* reads later in the transaction must see this write: they rebuild
	 * the views; after COMMIT, snapshot_changes bring them up to date */
	if (!rc && (s->changes.len != nchanges || s->schema_changed != schema_changed))
		s->mirror_behind = s->txn_wrote = 1;
	return rc ? rc : sess_count_result(s, rows, res, err);
}

static int exec_stmt(struct session *s, const char *text, struct duck_result **res, struct tn_err *err);

/* Run the recorded statements again in a new transaction on the newest
 * snapshot (the failed commit left nothing behind). */
static int replay(struct session *s, struct tn_err *err)
{
	struct lk_snap snap;
	size_t i;
	int rc = meta_latest(s->cat, &snap, err);

	if (rc)
		return rc;
	s->in_txn = 1;
	s->read_snap = snap.id;
	s->mirror_dirty = 1;
	for (i = 0; !rc && i < s->retry->n; i++)
		rc = exec_stmt(s, s->retry->stmts[i], NULL, err);
	s->in_txn = 0;
	if (rc) {
		if (s->wtxn)
			end_write(s, 0);
		tn_err_prefix(err, "replaying the transaction after a commit conflict, statement %zu", i);
	}
	return rc;
}

/* COMMIT, replaying the whole transaction when the catalog refused it for
 * a reason a new attempt gets past and the transaction only wrote. */
static int commit_txn(struct session *s, struct tn_err *err)
{
	struct tn_err e = TN_ERR_INIT;
	struct commit_info ci;
	double t0 = tn_mono();
	int rc, attempt = 0;

	info_save(s, &ci);
	rc = commit_write(s, &e);
	while (retryable(rc, &e) && s->retry->replayable && s->retry->n && !retry_wait(s, attempt, t0)) {
		attempt++;
		tn_err_clear(&e);
		session_set_commit_info(s, ci.author, ci.message, ci.extra);
		rc = replay(s, &e);
		if (!rc)
			rc = commit_write(s, &e);
	}
	info_release(&ci);
	if (rc && retryable(rc, &e) && !s->retry->replayable)
		tn_err_prefix(&e, "the transaction was rolled back and, since it read data or ran statements "
			      "in DuckDB alone, not replayed: run it again");
	if (rc)
		rc = retry_give_up(err, &e, attempt + 1, t0);
	txn_log_reset(s);
	return rc;
}

static int txn_stmt(struct session *s, enum sql_kind kind, struct tn_err *err)
{
	struct lk_snap snap;
	int rc;

	switch (kind) {
	case SQL_BEGIN:
		if (s->in_txn)
			return tn_err_set(err, TN_EINVAL, "cannot start a transaction within a transaction");
		rc = meta_latest(s->cat, &snap, err);
		if (rc)
			return rc;
		s->in_txn = 1;
		s->read_snap = snap.id;
		txn_log_reset(s);
		return 0;
	case SQL_COMMIT:
		if (!s->in_txn)
			return tn_err_set(err, TN_EINVAL, "cannot commit - no transaction is active");
		s->in_txn = 0;
		return commit_txn(s, err);
	default:
		if (!s->in_txn)
			return tn_err_set(err, TN_EINVAL, "cannot rollback - no transaction is active");
		s->in_txn = 0;
		if (s->wtxn)
			end_write(s, 0);
		s->mirror_dirty = 1;
		txn_log_reset(s);
		return 0;
	}
}

/* CALL tarn_set_commit_message('author', 'message' [, 'extra']): the
 * author and message of the next commit, as DuckLake's set_commit_message. */
static int commit_message_call(struct session *s, const char *sql, int *handled, struct tn_err *err)
{
	static const char head[] = "tarn_set_commit_message";
	struct duck_result *r = NULL;
	const char *p = sql;
	char *q, *v[3] = { NULL, NULL, NULL };
	size_t i;
	int rc;

	*handled = 0;
	if (strncasecmp(p, "CALL", 4))
		return 0;
	for (p += 4; *p == ' ' || *p == '\t' || *p == '\n'; p++)
		;
	if (strncasecmp(p, head, sizeof(head) - 1))
		return 0;
	*handled = 1;
	p += sizeof(head) - 1;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	{
		const char *close = strrchr(p, ')');
		if (*p != '(' || !close)
			return tn_err_set(err, TN_EINVAL, "usage: CALL tarn_set_commit_message('author', 'message' [, 'extra'])");
		/* The arguments become a select list: evaluated by DuckDB, never pasted. */
		q = tn_xprintf("SELECT %.*s", (int)(close - p - 1), p + 1);
	}
	rc = duck_query(s->duck, q, &r, err);
	tn_free(q);
	if (!rc && (duck_result_ncols(r) < 2 || duck_result_ncols(r) > 3 || duck_result_nrows(r) != 1))
		rc = tn_err_set(err, TN_EINVAL, "usage: CALL tarn_set_commit_message('author', 'message' [, 'extra'])");
	for (i = 0; !rc && i < duck_result_ncols(r); i++)
		v[i] = duck_result_text(r, i, 0);
	if (!rc)
		session_set_commit_info(s, v[0], v[1], v[2]);
	for (i = 0; i < 3; i++)
		tn_free(v[i]);
	duck_result_free(r);
	return rc;
}

static int exec_stmt(struct session *s, const char *text, struct duck_result **res, struct tn_err *err)
{
	struct sql_stmt *st = NULL;
	int rc = sqlparse_parse(text, &st, err);

	if (rc)
		return rc;
	switch (st->kind) {
	case SQL_QUERY:
		s->retry->replayable = 0;   /* the caller saw what it read */
		s->query_is_select = 1;
		rc = run_query(s, st->text, res, err);
		s->query_is_select = 0;
		break;
	case SQL_PASSTHROUGH: {
		int handled;
		rc = commit_message_call(s, st->text, &handled, err);
		if (rc || handled)
			break;
		s->retry->replayable = 0;   /* DuckDB state a replay would repeat */
		rc = check_passthrough(st->text, err);
		if (!rc)
			rc = run_query(s, st->text, res, err);
		break;
	}
	case SQL_BEGIN:
	case SQL_COMMIT:
	case SQL_ROLLBACK:
		rc = txn_stmt(s, st->kind, err);
		break;
	case SQL_INSERT:
	case SQL_DELETE:
	case SQL_UPDATE:
	case SQL_COPY_FROM:
	case SQL_MERGE:
		/* A session's TEMP tables live in DuckDB only: when the name is not
		 * a lake table, DuckDB runs the statement. */
		if (explicit_temp(&st->target)) {
			s->retry->replayable = 0;
			rc = run_query(s, st->text, res, err);
			break;
		}
		rc = write_stmt(s, st, res, err);
		if (rc == TN_ENOTFOUND && is_temp_table(s, &st->target)) {
			tn_err_clear(err);
			s->retry->replayable = 0;
			rc = run_query(s, st->text, res, err);
		}
		break;
	default:
		rc = write_stmt(s, st, res, err);
		break;
	}
	sqlparse_free(st);
	return rc;
}

/* A statement, recorded when it succeeds inside BEGIN ... COMMIT (for a replay). */
static int exec_one(struct session *s, const char *text, struct duck_result **res, struct tn_err *err)
{
	int in_txn = s->in_txn, rc = exec_stmt(s, text, res, err);

	if (!rc && in_txn && s->in_txn)
		txn_log_add(s, text);
	return rc;
}

int session_exec(struct session *s, const char *sql, struct duck_result **res, struct tn_err *err)
{
	char **stmts = NULL;
	size_t n = 0, i;
	int rc;

	if (res)
		*res = NULL;
	rc = sqlparse_split(sql, &stmts, &n, err);
	for (i = 0; !rc && i < n; i++) {
		if (res) {
			duck_result_free(*res);
			*res = NULL;
		}
		rc = exec_one(s, stmts[i], res, err);
	}
	sqlparse_free_list(stmts, n);
	return rc;
}
