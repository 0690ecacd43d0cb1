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
	if (!strcmp(what, "fsck"))
		return post || get ? fsck(s, c) : srv_send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "use POST");
	return srv_send_error(c, MHD_HTTP_NOT_FOUND, "not_found",
			      "no such admin endpoint: /v1/admin/backups, /v1/admin/fsck");
}
