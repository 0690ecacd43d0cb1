/*
 * admin.c: the admin role's endpoints under /v1/admin/: catalog backups
 * (take one, list them), a consistency check, and maintenance (compact,
 * expire, clean up). They work on the lake handle the whole server shares
 * and that is not meant for two such calls at once, so they run one at a
 * time under admin_mu; queries and commits of other callers go on.
 */
#include "base/compat.h"
#include "server/srv_int.h"
#include "lake/backup.h"
#include "lake/lake.h"
#include "lake/maint.h"
#include "lake/session.h"
#include "base/tn_mem.h"

#include <string.h>

static json_t *entry_json(const struct backup_entry *e)
{
	return json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:b}", "version", e->version, "created", e->created,
			 "path", e->path, "bytes", (json_int_t)e->size, "snapshot", (json_int_t)e->snapshot,
			 "sha256", e->sha256, "catalog", e->catalog, "latest", e->latest);
}

static enum MHD_Result backups_get(struct srv *s, struct MHD_Connection *c)
{
	struct tn_err err = TN_ERR_INIT;
	struct backup_entry *all = NULL;
	json_t *list;
	size_t n = 0;
	int rc;

	pthread_mutex_lock(&s->admin_mu);
	rc = backup_list(lake_dir(s->lk), lake_store(s->lk), &all, &n, &err);
	pthread_mutex_unlock(&s->admin_mu);
	if (rc)
		return srv_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "backup_failed", err.msg);
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, entry_json(&all[i]));
	backup_entries_free(all, n);
	return srv_send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "backups", list));
}

static enum MHD_Result backups_post(struct srv *s, struct MHD_Connection *c)
{
	struct tn_err err = TN_ERR_INIT;
	struct backup_entry e;
	enum MHD_Result mrc;
	int rc;

	memset(&e, 0, sizeof(e));
	pthread_mutex_lock(&s->admin_mu);
	rc = backup_take(s->lk, &e, &err);
	pthread_mutex_unlock(&s->admin_mu);
	if (rc)
		return srv_send_error(c, rc == TN_EREMOTE ? MHD_HTTP_BAD_GATEWAY : MHD_HTTP_INTERNAL_SERVER_ERROR,
				      "backup_failed", err.msg);
	mrc = srv_send_json(c, MHD_HTTP_CREATED, entry_json(&e));
	backup_entry_release(&e);
	return mrc;
}

static json_t *strings(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* 200 whether or not the lake is consistent: "ok" says which. */
static enum MHD_Result fsck(struct srv *s, struct MHD_Connection *c)
{
	struct tn_err err = TN_ERR_INIT;
	struct lake_fsck_report r;
	json_t *j;
	int rc;

	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&s->admin_mu);
	rc = lake_fsck(s->lk, &r, &err);
	pthread_mutex_unlock(&s->admin_mu);
	if (rc)
		return srv_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "fsck_failed", err.msg);
	j = json_pack("{s:b,s:I,s:I,s:I,s:o,s:o}", "ok", r.nproblems == 0, "snapshots", (json_int_t)r.snapshots,
		      "tables", (json_int_t)r.tables, "files", (json_int_t)r.files, "problems",
		      strings(r.problems, r.nproblems), "orphans", strings(r.orphans, r.norphans));
	lake_fsck_report_release(&r);
	return srv_send_json(c, MHD_HTTP_OK, j);
}

/* POST /v1/admin/maintenance {"action": "compact"|"expire"|"cleanup"|"all",
 * "table", "min_files", "older_than", "keep", "dry_run"}. */
static enum MHD_Result maintenance(struct srv *s, struct MHD_Connection *c, struct srv_req *rq)
{
	static const char *const acts[] = { "compact", "expire", "cleanup", "all" };
	json_error_t je;
	json_t *b = rq->body.len ? json_loadb(rq->body.buf, rq->body.len, 0, &je) : json_object();
	const char *act = json_string_value(json_object_get(b, "action"));
	const char *table = json_string_value(json_object_get(b, "table"));
	const char *older = json_string_value(json_object_get(b, "older_than"));
	json_t *keep = json_object_get(b, "keep"), *minf = json_object_get(b, "min_files");
	struct maint_expire_opts eo = { 0, 1, json_is_true(json_object_get(b, "dry_run")) };
	struct maint_report rep;
	struct tn_err err = TN_ERR_INIT;
	struct session *ss = NULL;
	enum MHD_Result mrc;
	size_t i;
	int rc = 0;

	for (i = 0; act && i < 4 && strcmp(act, acts[i]); i++)
		;
	if (!act || i == 4 || (keep && (!json_is_integer(keep) || json_integer_value(keep) < 1)) ||
	    (minf && (!json_is_integer(minf) || json_integer_value(minf) < 1))) {
		json_decref(b);
		return srv_send_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", "the body must be JSON like {\"action\": "
				      "\"compact|expire|cleanup|all\", \"table\": \"s.t\", \"min_files\": 2, "
				      "\"older_than\": \"7d\", \"keep\": 1, \"dry_run\": false}");
	}
	if (older && maint_parse_when(older, &eo.older_than_us, &err)) {
		json_decref(b);
		return srv_send_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", err.msg);
	}
	if (keep)
		eo.keep_last = (long)json_integer_value(keep);
	memset(&rep, 0, sizeof(rep));
	if (i == 0 || i == 3) {
		ss = srv_session(s, 0, &err);
		if (!ss) {
			json_decref(b);
			return srv_send_no_session(s, c, err.msg);
		}
		session_set_commit_info(ss, rq->who, NULL, NULL);
	}
	pthread_mutex_lock(&s->admin_mu);
	if (ss)
		rc = maint_compact(ss, table, minf ? (long)json_integer_value(minf) : 2, eo.dry_run, &rep, &err);
	if (!rc && (i == 1 || i == 3))
		rc = maint_expire(s->lk, &eo, &rep, &err);
	if (!rc && (i == 2 || i == 3))
		rc = maint_cleanup(s->lk, eo.older_than_us, eo.dry_run, &rep, &err);
	pthread_mutex_unlock(&s->admin_mu);
	if (!rc && rep.tables_compacted && !eo.dry_run)
		srv_count(s, &s->commits, (uint64_t)rep.tables_compacted);
	mrc = rc ? srv_send_error(c, rc == TN_ENOTFOUND ? MHD_HTTP_NOT_FOUND : rc == TN_ECONFLICT ? MHD_HTTP_CONFLICT :
				  MHD_HTTP_INTERNAL_SERVER_ERROR, "maintenance_failed", err.msg)
		 : srv_send_json(c, MHD_HTTP_OK, json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I}", "action", acts[i],
						      "dry_run", eo.dry_run, "tables_compacted",
						      (json_int_t)rep.tables_compacted, "files_compacted",
						      (json_int_t)rep.files_compacted, "snapshots_expired",
						      (json_int_t)rep.snapshots_expired, "files_scheduled",
						      (json_int_t)rep.files_scheduled, "files_deleted",
						      (json_int_t)rep.files_deleted, "bytes_freed",
						      (json_int_t)rep.bytes_freed));
	json_decref(b);
	return mrc;
}

enum MHD_Result srv_admin(struct srv *s, struct MHD_Connection *c, struct srv_req *rq, const char *what,
			  const char *method)
{
	int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");

	if (rq->role != SRV_ROLE_ADMIN) {
		srv_count(s, &s->refused, 1);
		return srv_send_error(c, MHD_HTTP_FORBIDDEN, "forbidden",
				      "backups, fsck and maintenance need an admin token");
	}
	if (!strcmp(what, "backups"))
		return get ? backups_get(s, c) : post ? backups_post(s, c)
			   : srv_send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "use GET or POST");
	if (!strcmp(what, "maintenance"))
		return post ? maintenance(s, c, rq)
			    : srv_send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "use POST");
	if (!strcmp(what, "fsck"))
		return post || get ? fsck(s, c) : srv_send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "use POST");
	return srv_send_error(c, MHD_HTTP_NOT_FOUND, "not_found",
			      "no such admin endpoint: /v1/admin/backups, /v1/admin/fsck, /v1/admin/maintenance");
}
