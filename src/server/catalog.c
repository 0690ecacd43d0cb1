/*
 * catalog.c: the read-only catalog endpoints (tables, a table's columns
 * and snapshots, snapshots, raw datasets, exports) and POST /v1/exports.
 * Catalog reads run on the reader's session whatever the caller's role;
 * a name from the URL only ever reaches SQL as a quoted literal.
 */
#include "base/compat.h"
#include "server/srv_int.h"
#include "engine/duck.h"
#include "ingest/ingest.h"
#include "lake/session.h"
#include "share/export.h"
#include "base/tn_mem.h"

#include <stdio.h>
#include <stdlib.h>

static enum MHD_Result read_sql(struct srv *s, struct MHD_Connection *c, const char *sql, int not_found_if_empty)
{
	struct tn_err err = TN_ERR_INIT;
	struct duck_result *r = NULL;
	int timed_out;

	if (srv_exec(s, SRV_ROLE_READER, sql, &r, &timed_out, &err))
		return srv_send_error(c, timed_out ? MHD_HTTP_GATEWAY_TIMEOUT : MHD_HTTP_BAD_REQUEST,
				      timed_out ? "timeout" : "sql_error", err.msg);
	if (not_found_if_empty && (!r || duck_result_nrows(r) == 0)) {
		duck_result_free(r);
		return srv_send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such table (see GET /v1/tables)");
	}
	return srv_send_result(s, c, r, 0);
}

/* GET /v1/tables, /v1/tables/{schema}.{table}[/snapshots]. */
enum MHD_Result srv_tables(struct srv *s, struct MHD_Connection *c, const char *rest)
{
	struct tn_buf q = TN_BUF_INIT(TN_BUF_NOMAX);
	const char *slash = rest ? strchr(rest, '/') : NULL;
	char *name;
	enum MHD_Result rc;

	if (!rest)
		return read_sql(s, c, "SELECT * FROM tarn_tables() ORDER BY schema_name, table_name", 0);
	name = slash ? tn_strndup(rest, (size_t)(slash - rest)) : tn_strdup(rest);
	if (!*name || strlen(name) > 512 || (slash && strcmp(slash, "/snapshots"))) {
		tn_free(name);
		return srv_send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "use /v1/tables/SCHEMA.TABLE[/snapshots]");
	}
	if (slash) {
		tn_buf_adds(&q, "SELECT snapshot_id, snapshot_time, author, commit_message, changes FROM tarn_snapshots() "
			    "WHERE list_contains(regexp_extract_all(changes, '[a-z_]+:(\\d+)', 1), (SELECT CAST(table_id "
			    "AS VARCHAR) FROM tarn_tables() WHERE schema_name || '.' || table_name = ");
		tn_buf_add_sqlstr(&q, name);
		tn_buf_adds(&q, ")) ORDER BY snapshot_id");
	} else {
		/* columns with types and comments, and the table's stats beside them */
		tn_buf_adds(&q, "SELECT c.*, t.row_count AS table_rows, t.file_count AS table_files, t.size_bytes AS table_bytes "
			    "FROM tarn_columns(");
		tn_buf_add_sqlstr(&q, name);
		tn_buf_adds(&q, ") c, (SELECT * FROM tarn_tables() WHERE schema_name || '.' || table_name = ");
		tn_buf_add_sqlstr(&q, name);
		tn_buf_adds(&q, ") t");
	}
	rc = read_sql(s, c, q.buf, !slash);
	tn_buf_release(&q);
	tn_free(name);
	return rc;
}

enum MHD_Result srv_snapshots(struct srv *s, struct MHD_Connection *c)
{
	return read_sql(s, c, "SELECT * FROM tarn_snapshots() ORDER BY snapshot_id", 0);
}

/* GET /v1/datasets: the raw zone, every version. */
enum MHD_Result srv_datasets(struct srv *s, struct MHD_Connection *c)
{
	struct ingest_listing l;
	struct tn_err err = TN_ERR_INIT;
	json_t *a;
	size_t i;

	pthread_mutex_lock(&s->ingest_mu);
	i = (size_t)ingest_list(s->lk, 1, &l, &err);
	pthread_mutex_unlock(&s->ingest_mu);
	if (i)
		return srv_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "raw_zone", err.msg);
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:b,s:I,s:I}", "dataset", l.e[i].dataset,
						   "version", l.e[i].version, "created", l.e[i].created ? l.e[i].created : "",
						   "latest", l.e[i].latest, "files", (json_int_t)l.e[i].nfiles,
						   "bytes", (json_int_t)l.e[i].bytes));
	ingest_listing_release(&l);
	return srv_send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "versions", a));
}

/* GET /v1/exports[?all=1]. */
enum MHD_Result srv_exports_get(struct srv *s, struct MHD_Connection *c)
{
	const char *all = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "all");
	struct export_version *v = NULL;
	struct tn_err err = TN_ERR_INIT;
	size_t n = 0, i;
	json_t *a;

	if (export_list(s->lk, NULL, NULL, all && strcmp(all, "0"), &v, &n, &err))
		return srv_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "exports", err.msg);
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:b}", "domain", v[i].domain,
						   "dataset", v[i].dataset, "version", v[i].version, "created",
						   v[i].created ? v[i].created : "", "format", v[i].format ? v[i].format : "",
						   "snapshot", (json_int_t)v[i].snapshot, "files", (json_int_t)v[i].files,
						   "rows", (json_int_t)v[i].rows, "bytes", (json_int_t)v[i].bytes,
						   "latest", v[i].latest));
	export_versions_free(v, n);
	return srv_send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "exports", a));
}

/* POST /v1/exports {"domain", "schema", "tables", "format", "at"}. */
enum MHD_Result srv_exports_post(struct srv *s, struct MHD_Connection *c, struct srv_req *rq)
{
	json_t *body = rq->body.len ? json_loadb(rq->body.buf, rq->body.len, 0, NULL) : NULL;
	json_t *tables = json_object_get(body, "tables"), *at = json_object_get(body, "at"), *t;
	struct export_opts o;
	struct export_info info;
	struct tn_err err = TN_ERR_INIT;
	struct session *ss;
	enum MHD_Result rc;
	size_t i;

	memset(&o, 0, sizeof(o));
	memset(&info, 0, sizeof(info));
	o.domain = json_string_value(json_object_get(body, "domain"));
	o.schema = json_string_value(json_object_get(body, "schema"));
	o.format = json_string_value(json_object_get(body, "format"));
	o.at = json_is_integer(at) ? json_integer_value(at) : -1;
	if (!o.domain || !o.schema || (tables && !json_is_array(tables)) || (at && !json_is_integer(at))) {
		json_decref(body);
		return srv_send_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", "the body must be JSON like {\"domain\": "
				      "\"sales\", \"schema\": \"gold\", \"tables\": [\"t\"], \"format\": \"parquet\", "
				      "\"at\": 12}");
	}
	if (json_array_size(tables)) {
		o.tables = tn_calloc(json_array_size(tables), sizeof(char *));
		json_array_foreach(tables, i, t)
			if (json_is_string(t))
				o.tables[o.ntables++] = (char *)json_string_value(t);
	}
	ss = srv_session(s, 0, &err);
	if (!ss)
		rc = srv_send_no_session(s, c, err.msg);
	else if (export_dataset(ss, s->lk, &o, &info, &err))
		rc = srv_send_error(c, err.code == TN_ENOTFOUND ? MHD_HTTP_NOT_FOUND : err.code == TN_EINVAL ?
				    MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR, "export_failed", err.msg);
	else
		rc = srv_send_json(c, MHD_HTTP_CREATED, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "domain", o.domain,
								  "dataset", info.dataset, "version", info.version,
								  "snapshot", (json_int_t)info.snapshot, "files",
								  (json_int_t)info.nfiles, "rows", (json_int_t)info.rows,
								  "bytes", (json_int_t)info.bytes));
	export_info_release(&info);
	tn_free(o.tables);
	json_decref(body);
	return rc;
}
