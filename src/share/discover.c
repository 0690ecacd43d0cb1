/*
 * discover.c - SQL for listing and searching the catalog. "Last change"
 * comes from ducklake_snapshot_changes as tarn_snapshots() shows it:
 * entries "kind:<id>" name objects by id, "created_table:"s"."t"" by name.
 */
#include "base/compat.h"
#include "share/discover.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

/* The newest snapshot that names each object, by id and by creation. */
static const char last_change_sql[] =
	"WITH snaps AS (SELECT snapshot_id, snapshot_time, changes FROM tarn_snapshots()), "
	"by_id AS (SELECT CAST(id AS BIGINT) AS id, max(snapshot_id) AS snap FROM ("
	" SELECT snapshot_id, unnest(regexp_extract_all(changes, '(?:^|,)[a-z_]+:([0-9]+)', 1)) AS id"
	" FROM snaps) GROUP BY 1), "
	"objs AS (SELECT t.*, greatest(b.snap, (SELECT max(s.snapshot_id) FROM snaps s WHERE contains("
	" s.changes, 'created_' || t.kind || ':\"' || replace(t.schema_name, '\"', '\"\"') || '\".\"' ||"
	" replace(t.table_name, '\"', '\"\"') || '\"'))) AS last_snapshot"
	" FROM tarn_tables() t LEFT JOIN by_id b ON b.id = t.table_id) ";

int discover_ls_sql(const char *schema, char **sql, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	int rc;

	tn_buf_adds(&q, last_change_sql);
	tn_buf_adds(&q, "SELECT o.schema_name, o.table_name AS name, o.kind, o.comment AS description, "
		    "o.row_count AS rows, o.size_bytes AS bytes, o.column_count AS columns, o.last_snapshot, "
		    "s.snapshot_time AS last_change FROM objs o LEFT JOIN snaps s ON s.snapshot_id = "
		    "o.last_snapshot");
	if (schema) {
		tn_buf_adds(&q, " WHERE o.schema_name = ");
		tn_buf_add_sqlstr(&q, schema);
	}
	tn_buf_adds(&q, " ORDER BY o.schema_name, o.table_name");
	rc = tn_buf_check(&q, err);
	*sql = rc ? NULL : tn_buf_detach(&q, NULL);
	tn_buf_release(&q);
	return rc;
}

/* Tables and views, then the columns of every table. */
static const char objects_sql[] =
	"objs AS (SELECT kind, schema_name, table_name, NULL::VARCHAR AS column_name, "
	" NULL::VARCHAR AS column_type, comment AS description FROM tarn_tables() "
	"UNION ALL SELECT 'column', c.schema_name, c.table_name, c.column_name, c.column_type, c.comment "
	" FROM tarn_tables() t, tarn_columns(t.schema_name || '.' || t.table_name) c "
	" WHERE t.kind = 'table' AND c.schema_name = t.schema_name AND c.table_name = t.table_name), ";

/* Per object and word: how well the word matches. */
static const char score_sql[] =
	"hits AS (SELECT o.*, w.w, "
	" CASE WHEN lower(coalesce(o.column_name, o.table_name)) = w.w THEN 10 "
	"  WHEN contains(lower(coalesce(o.column_name, o.table_name)), w.w) THEN 5 ELSE 0 END + "
	" CASE WHEN contains(lower(coalesce(o.description, '')), w.w) THEN 3 ELSE 0 END AS own, "
	" CASE WHEN o.column_name IS NOT NULL AND contains(lower(o.table_name), w.w) THEN 2 ELSE 0 END AS ctx "
	" FROM objs o, words w) "
	"SELECT kind, schema_name, table_name, column_name, column_type, description, "
	" count(*) FILTER (WHERE own > 0) AS matched, sum(own + ctx)::BIGINT AS score "
	"FROM hits GROUP BY ALL HAVING sum(own) > 0 "
	"ORDER BY matched DESC, score DESC, schema_name, table_name, column_name NULLS FIRST";

int discover_search_sql(char **words, size_t nwords, char **sql, struct tn_err *err)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i, used = 0;
	int rc;

	*sql = NULL;
	tn_buf_adds(&q, "WITH words(w) AS (VALUES ");
	for (i = 0; i < nwords; i++) {
		if (!*words[i])
			continue;
		tn_buf_adds(&q, used++ ? ", (lower(" : "(lower(");
		tn_buf_add_sqlstr(&q, words[i]);
		tn_buf_adds(&q, "))");
	}
	if (!used) {
		tn_buf_release(&q);
		return tn_err_set(err, TN_EINVAL, "give at least one word to search for");
	}
	tn_buf_adds(&q, "), ");
	tn_buf_adds(&q, objects_sql);
	tn_buf_adds(&q, score_sql);
	rc = tn_buf_check(&q, err);
	if (!rc)
		*sql = tn_buf_detach(&q, NULL);
	tn_buf_release(&q);
	return rc;
}
