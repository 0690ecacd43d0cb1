/*
 * snapshot.c: `tarn snapshot`, dbt's SCD2 snapshots. A file
 * snapshots/NAME.sql holds a SELECT and its config:
 *
 *   {{ config(unique_key='id', strategy='timestamp', updated_at='updated_at',
 *             hard_deletes='invalidate', target_schema='snapshots') }}
 *   SELECT * FROM {{ source('bronze', 'customers') }}
 *
 * (strategy='check' with check_cols=['a', 'b'] or 'all' instead of
 * updated_at; dbt's older {% snapshot NAME %} ... {% endsnapshot %} block
 * is accepted too). The table keeps every version of every row with
 * dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to (NULL = current)
 * and dbt_is_deleted (check_cols='all' also keeps __tarn_row, the hash of
 * the row the next run compares with). Each run is one BEGIN ... COMMIT, one lake snapshot.
 */
#include "base/compat.h"
#include "transform/snapshot.h"
#include "transform/tmpl.h"
#include "engine/duck.h"
#include "lake/lake.h"
#include "lake/session.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <stdlib.h>
#include <time.h>

/* ---- the config, from a render that only collects ---- */

static int k_ref(void *arg, const char *name, struct tn_buf *out, struct tn_err *err)
{
	(void)arg;
	(void)err;
	tn_buf_adds(out, name);
	return 0;
}

static int k_source(void *arg, const char *s, const char *t, struct tn_buf *out, struct tn_err *err)
{
	(void)arg;
	(void)err;
	tn_buf_addf(out, "%s.%s", s, t);
	return 0;
}

static int k_var(void *arg, const char *name, const char *dflt, struct tn_buf *out, struct tn_err *err)
{
	(void)arg;
	(void)err;
	tn_buf_adds(out, dflt ? dflt : name);
	return 0;
}

static int k_config(void *arg, json_t *cfg, struct tn_err *err)
{
	(void)err;
	json_object_update(arg, cfg);
	return 0;
}

/* ---- SQL of one run ---- */

struct snap {
	const char *name;
	char *rel;           /* "schema"."name" */
	char *schema;
	char *key;           /* quoted key column */
	char *src;           /* the rendered SELECT */
	int check;           /* strategy check */
	char *upd;           /* quoted updated_at column (timestamp strategy) */
	char *changed;       /* "s.a IS DISTINCT FROM c.a OR ..." (check strategy) */
	char *hard;          /* ignore, invalidate, new_record */
	char now[40];        /* TIMESTAMP '...' of this run */
};

static void snap_free(struct snap *s)
{
	tn_free(s->rel);
	tn_free(s->schema);
	tn_free(s->key);
	tn_free(s->src);
	tn_free(s->upd);
	tn_free(s->changed);
	tn_free(s->hard);
}

static char *qid(const char *name)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);

	tn_buf_add_sqlid(&b, name);
	return tn_buf_detach(&b, NULL);
}

static int read_config(struct snap *s, json_t *cfg, const char *file, struct tn_err *err)
{
	const char *key = json_string_value(json_object_get(cfg, "unique_key"));
	const char *strategy = json_string_value(json_object_get(cfg, "strategy"));
	const char *upd = json_string_value(json_object_get(cfg, "updated_at"));
	const char *hard = json_string_value(json_object_get(cfg, "hard_deletes"));
	const char *schema = json_string_value(json_object_get(cfg, "target_schema"));
	json_t *cols = json_object_get(cfg, "check_cols");

	if (!schema)
		schema = json_string_value(json_object_get(cfg, "schema"));
	if (json_is_true(json_object_get(cfg, "invalidate_hard_deletes")) && !hard)
		hard = "invalidate";
	if (!key)
		return tn_err_set(err, TN_EINVAL, "%s: config(unique_key='...') is required", file);
	if (!strategy || (strcmp(strategy, "timestamp") && strcmp(strategy, "check")))
		return tn_err_set(err, TN_EINVAL, "%s: config(strategy=...) must be 'timestamp' or 'check'", file);
	if (!strcmp(strategy, "timestamp") && !upd)
		return tn_err_set(err, TN_EINVAL, "%s: strategy='timestamp' needs updated_at='column'", file);
	if (!strcmp(strategy, "check") && !json_is_array(cols) && !json_is_string(cols))
		return tn_err_set(err, TN_EINVAL, "%s: strategy='check' needs check_cols=['a', 'b'] or 'all'", file);
	if (hard && strcmp(hard, "ignore") && strcmp(hard, "invalidate") && strcmp(hard, "new_record"))
		return tn_err_set(err, TN_EINVAL, "%s: hard_deletes must be ignore, invalidate or new_record", file);
	s->schema = tn_strdup(schema ? schema : "snapshots");
	s->key = qid(key);
	s->check = !strcmp(strategy, "check");
	s->upd = upd ? qid(upd) : NULL;
	s->hard = tn_strdup(hard ? hard : "ignore");
	if (s->check) {
		struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
		size_t i;
		json_t *c;
		if (json_is_string(cols)) {
			/* 'all': the whole row, compared as one value */
			tn_buf_adds(&b, "s.__tarn_row IS DISTINCT FROM c.__tarn_row");
		} else {
			json_array_foreach(cols, i, c) {
				char *id = qid(json_string_value(c) ? json_string_value(c) : "");
				tn_buf_addf(&b, "%ss.%s IS DISTINCT FROM c.%s", i ? " OR " : "", id, id);
				tn_free(id);
			}
		}
		s->changed = tn_buf_detach(&b, NULL);
	}
	return 0;
}

/* The source rows with a __tarn_row value for check_cols='all'. */
static void src_rel(const struct snap *s, struct tn_buf *q)
{
	if (s->check && strstr(s->changed, "__tarn_row"))
		tn_buf_addf(q, "(SELECT *, md5(CAST(__tarn_src AS VARCHAR)) AS __tarn_row FROM (%s\n) AS __tarn_src)",
			    s->src);
	else
		tn_buf_addf(q, "(%s\n)", s->src);
}

/* When the new version starts: its updated_at, or the run's time. */
static const char *start_of(const struct snap *s, char *buf, size_t n, const char *alias)
{
	if (s->check)
		return s->now;
	snprintf(buf, n, "CAST(%s.%s AS TIMESTAMP)", alias, s->upd);
	return buf;
}

static int run_sql(struct session *ss, struct tn_buf *q, struct tn_err *err)
{
	int rc = session_exec(ss, q->buf, NULL, err);

	tn_buf_reset(q);
	return rc;
}

static int first_run(struct session *ss, struct snap *s, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	char b[256];
	const char *from = start_of(s, b, sizeof(b), "s");
	int rc;

	tn_buf_addf(&q, "CREATE TABLE %s AS SELECT s.*, md5(CAST(s.%s AS VARCHAR) || '|' || "
		    "CAST(%s AS VARCHAR)) AS dbt_scd_id, %s AS dbt_updated_at, %s AS dbt_valid_from, "
		    "CAST(NULL AS TIMESTAMP) AS dbt_valid_to, false AS dbt_is_deleted FROM ",
		    s->rel, s->key, from, from, from);
	src_rel(s, &q);
	tn_buf_adds(&q, " AS s");
	rc = run_sql(ss, &q, err);
	tn_buf_release(&q);
	return rc;
}

/* Later runs: hard deletes, close changed versions, insert new ones. */
static int next_run(struct session *ss, struct snap *s, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX), src = TN_BUF_INIT(TN_BUF_NOMAX);
	char b[256];
	const char *from = start_of(s, b, sizeof(b), "s");
	int rc = 0;

	src_rel(s, &src);
	if (!strcmp(s->hard, "new_record")) {
		/* a deleted key gets a last version flagged deleted */
		tn_buf_addf(&q, "INSERT INTO %s BY NAME SELECT c.* EXCLUDE (dbt_scd_id, dbt_updated_at, dbt_valid_from, "
			    "dbt_valid_to, dbt_is_deleted), md5(CAST(c.%s AS VARCHAR) || '|deleted|' || CAST(%s AS VARCHAR)) "
			    "AS dbt_scd_id, %s AS dbt_updated_at, %s AS dbt_valid_from, CAST(NULL AS TIMESTAMP) AS "
			    "dbt_valid_to, true AS dbt_is_deleted FROM %s AS c WHERE c.dbt_valid_to IS NULL AND NOT "
			    "c.dbt_is_deleted AND c.%s NOT IN (SELECT %s FROM %s AS s WHERE %s IS NOT NULL)",
			    s->rel, s->key, s->now, s->now, s->now, s->rel, s->key, s->key, src.buf, s->key);
		rc = run_sql(ss, &q, err);
	}
	if (!rc && strcmp(s->hard, "ignore")) {
		/* close the current version of keys gone from the source */
		tn_buf_addf(&q, "UPDATE %s SET dbt_valid_to = %s WHERE dbt_valid_to IS NULL AND NOT dbt_is_deleted AND "
			    "%s NOT IN (SELECT %s FROM %s AS s WHERE %s IS NOT NULL)", s->rel, s->now, s->key, s->key,
			    src.buf, s->key);
		rc = run_sql(ss, &q, err);
	}
	if (!rc) {
		/* close versions that changed, and deleted markers whose key is back */
		tn_buf_addf(&q, "UPDATE %s AS c SET dbt_valid_to = %s FROM %s AS s WHERE c.%s = s.%s AND "
			    "c.dbt_valid_to IS NULL AND (c.dbt_is_deleted OR ", s->rel, from, src.buf, s->key, s->key);
		if (s->check)
			tn_buf_addf(&q, "(%s))", s->changed);
		else
			tn_buf_addf(&q, "CAST(s.%s AS TIMESTAMP) > c.dbt_updated_at)", s->upd);
		rc = run_sql(ss, &q, err);
	}
	if (!rc) {
		/* a new version for every key without a current one */
		tn_buf_addf(&q, "INSERT INTO %s BY NAME SELECT s.*, md5(CAST(s.%s AS VARCHAR) || '|' "
			    "|| CAST(%s AS VARCHAR)) AS dbt_scd_id, %s AS dbt_updated_at, %s AS dbt_valid_from, "
			    "CAST(NULL AS TIMESTAMP) AS dbt_valid_to, false AS dbt_is_deleted FROM %s", s->rel, s->key, from,
			    from, from, src.buf);
		tn_buf_addf(&q, " AS s WHERE s.%s NOT IN (SELECT %s FROM %s WHERE dbt_valid_to IS NULL AND %s IS NOT NULL)",
			    s->key, s->key, s->rel, s->key);
		rc = run_sql(ss, &q, err);
	}
	tn_buf_release(&q);
	tn_buf_release(&src);
	return rc;
}

static int table_exists(struct session *ss, const struct snap *s, int *yes, struct tn_err *err)
{
	enum session_rel k;
	int rc = session_relation(ss, s->schema, s->name, &k, err);

	*yes = !rc && k != SESSION_REL_NONE;
	return rc;
}

int tf_snapshot_node(struct session *ss, const struct tf_project *p, size_t i, const char *run_id, int64_t *rows,
		     struct tn_err *err)
{
	const struct tf_node *n = &p->n[i];
	json_t *cfg = json_object();
	struct tmpl_env env = { cfg, NULL, 0, k_ref, k_source, k_var, k_config };
	struct tn_buf ignore = TN_BUF_INIT(TN_BUF_NOMAX), q = TN_BUF_INIT(TN_BUF_NOMAX);
	struct snap s;
	struct duck_result *r = NULL;
	char *msg = NULL;
	time_t now = time(NULL);
	struct tm tm;
	int rc, exists = 0;

	*rows = -1;
	memset(&s, 0, sizeof(s));
	s.name = n->name;
	gmtime_r(&now, &tm);
	strftime(s.now, sizeof(s.now), "TIMESTAMP '%Y-%m-%d %H:%M:%S'", &tm);
	rc = tmpl_render(&env, n->path, n->sql, &ignore, err);
	if (!rc)
		rc = read_config(&s, cfg, n->path, err);
	if (!rc)
		rc = tf_render_text(p, n->path, n->sql, &s.src, err);
	if (!rc) {
		tn_free(s.schema);
		s.schema = tn_strdup(n->schema);   /* as the graph has it, for ref() */
		s.rel = tf_relation(p, i);
		msg = tn_xprintf("tarn snapshot %s %s", run_id, n->name);
		session_set_commit_info(ss, "tarn", msg, NULL);
		rc = session_exec(ss, "BEGIN", NULL, err);
	}
	if (!rc) {
		tn_buf_adds(&q, "CREATE SCHEMA IF NOT EXISTS ");
		tn_buf_add_sqlid(&q, s.schema);
		rc = session_exec(ss, q.buf, NULL, err);
	}
	if (!rc)
		rc = table_exists(ss, &s, &exists, err);
	if (!rc)
		rc = exists ? next_run(ss, &s, err) : first_run(ss, &s, err);
	if (!rc) {
		tn_buf_reset(&q);
		tn_buf_addf(&q, "SELECT count(*) FROM %s", s.rel);
		rc = session_exec(ss, q.buf, &r, err);
		*rows = rc ? -1 : duck_result_int(r, 0, 0);
		duck_result_free(r);
	}
	if (!rc)
		rc = session_exec(ss, "COMMIT", NULL, err);
	if (rc && msg) {
		struct tn_err e = TN_ERR_INIT;
		session_exec(ss, "ROLLBACK", NULL, &e);
	}
	snap_free(&s);
	json_decref(cfg);
	tn_buf_release(&ignore);
	tn_buf_release(&q);
	tn_free(msg);
	return rc;
}

int tf_snapshot_run(struct session *ss, const struct tf_project *p, const char *only, tf_snap_event_fn *ev,
		    void *arg, int *failed, struct tn_err *err)
{
	char uuid[37], *run_id;
	size_t k;
	int found = 0;

	*failed = 0;
	tn_uuid7(uuid);
	run_id = tn_strndup(uuid, 13);
	/* in graph order: a snapshot may ref() another */
	for (k = 0; k < p->nn; k++) {
		size_t i = p->order[k];
		struct tn_err e2 = TN_ERR_INIT;
		double t0 = tn_mono();
		int64_t rows = -1;
		int rc;
		if (p->n[i].kind != TF_SNAPSHOT || (only && strcmp(only, p->n[i].name)))
			continue;
		found = 1;
		rc = tf_snapshot_node(ss, p, i, run_id, &rows, &e2);
		if (rc)
			(*failed)++;
		if (ev)
			ev(arg, p->n[i].name, rc ? e2.msg : NULL, rows, tn_mono() - t0);
	}
	tn_free(run_id);
	if (only && !found)
		return tn_err_set(err, TN_ENOTFOUND, "no snapshots/%s.sql in %s", only, p->root);
	return 0;
}
