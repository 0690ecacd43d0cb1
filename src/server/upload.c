/*
 * upload.c: POST /v1/datasets/{name}/files. The body (raw, named by
 * ?filename=, or multipart/form-data, named by each part) is streamed
 * piece by piece into files in a staging folder of the server's own; only
 * when the whole body has arrived is the folder handed to ingest_dataset,
 * which lands it as a new raw version the way `tarn ingest` does (its own
 * staging, then publish under the raw zone's lock). A body over the limit,
 * a malformed one or a client that goes away leaves nothing: the staging
 * folder is removed and the raw zone was never touched.
 */
#include "base/compat.h"
#include "server/srv_int.h"
#include "ingest/ingest.h"
#include "ingest/load.h"
#include "lake/session.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#define PREFIX "/v1/datasets/"
#define SUFFIX "/files"
/* Body bytes read and dropped after a refusal before the connection is cut. */
#define DRAIN_MAX (64ULL << 20)

struct srv_upload {
	struct srv *s;
	char *dir;                 /* staging folder, removed at the end */
	char *dataset;
	char *load;                /* ?load=schema.table, or NULL */
	enum load_mode mode;
	struct MHD_PostProcessor *pp;  /* multipart bodies */
	int fd;                    /* the file being written, or -1 */
	uint64_t cur_bytes;        /* bytes of that file */
	char **names;              /* files written, in order */
	size_t n, alloc;
	uint64_t bytes;            /* body bytes so far */
	uint64_t file_bytes;       /* bytes written to files */
	unsigned status;           /* first failure, 0 = none */
	char code[32];
	char msg[512];
};

int srv_is_upload(const char *url, const char *method)
{
	size_t n = strlen(url);

	return !strcmp(method, "POST") && !strncmp(url, PREFIX, strlen(PREFIX)) && n > strlen(PREFIX SUFFIX) &&
	       !strcmp(url + n - strlen(SUFFIX), SUFFIX);
}

static void fail(struct srv_upload *u, unsigned status, const char *code, const char *fmt, ...)
	TN_PRINTF(4, 5);
static void fail(struct srv_upload *u, unsigned status, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (u->status)
		return;
	u->status = status;
	snprintf(u->code, sizeof(u->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof(u->msg), fmt, ap);
	va_end(ap);
}

/* A file name is one plain component: no '/', '\', NUL or control
 * character, not hidden, not "." or "..", at most 255 bytes. */
static int file_name_ok(const char *name, size_t len)
{
	size_t i;

	if (!name || !len || len > 255 || strlen(name) != len || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '/' || name[i] == '\\')
			return 0;
	return 1;
}

static void close_file(struct srv_upload *u)
{
	if (u->fd >= 0 && close(u->fd) != 0)
		fail(u, MHD_HTTP_INTERNAL_SERVER_ERROR, "io", "cannot write the upload: %s", strerror(errno));
	u->fd = -1;
}

static int open_file(struct srv_upload *u, const char *name)
{
	char *path;
	size_t i;

	close_file(u);
	if (!file_name_ok(name, strlen(name))) {
		fail(u, MHD_HTTP_BAD_REQUEST, "bad_file_name", "'%.100s' is not a plain file name (no '/', '\\', "
		     "'..', leading '.' or control characters)", name);
		return -1;
	}
	for (i = 0; i < u->n; i++)
		if (!strcmp(u->names[i], name)) {
			fail(u, MHD_HTTP_BAD_REQUEST, "duplicate_file", "two parts are named '%.100s'", name);
			return -1;
		}
	path = tn_fs_join(u->dir, name);
	u->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	tn_free(path);
	if (u->fd < 0) {
		fail(u, MHD_HTTP_INTERNAL_SERVER_ERROR, "io", "cannot stage the upload: %s", strerror(errno));
		return -1;
	}
	TN_GROW(u->names, u->alloc, u->n + 1);
	u->names[u->n++] = tn_strdup(name);
	u->cur_bytes = 0;
	return 0;
}

static int write_all(struct srv_upload *u, const char *data, size_t size)
{
	while (size) {
		ssize_t w = write(u->fd, data, size);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fail(u, MHD_HTTP_INSUFFICIENT_STORAGE, "io", "cannot write the upload: %s", strerror(errno));
			return -1;
		}
		data += w;
		size -= (size_t)w;
		u->cur_bytes += (uint64_t)w;
		u->file_bytes += (uint64_t)w;
	}
	return 0;
}

/* libmicrohttpd's multipart parser hands over each part in pieces. */
static enum MHD_Result part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
			    const char *ctype, const char *enc, const char *data, uint64_t off, size_t size)
{
	struct srv_upload *u = cls;

	(void)kind;
	(void)ctype;
	(void)enc;
	if (u->status)
		return MHD_NO;
	if (!filename) {
		fail(u, MHD_HTTP_BAD_REQUEST, "bad_multipart", "part '%.100s' has no filename; every part must be "
		     "a file (Content-Disposition: form-data; name=\"file\"; filename=\"x.csv\")", key ? key : "");
		return MHD_NO;
	}
	/* a new part starts at offset 0 (an empty part may come twice) */
	if (off == 0 && (u->fd < 0 || u->cur_bytes > 0 || strcmp(u->names[u->n - 1], filename)) &&
	    open_file(u, filename))
		return MHD_NO;
	return size && write_all(u, data, size) ? MHD_NO : MHD_YES;
}

static int dataset_ok(const char *name)
{
	char *slug = ingest_slug(name);
	int ok = slug && !strcmp(slug, name);

	tn_free(slug);
	return ok;
}

static const char *arg(struct MHD_Connection *c, const char *key, size_t *len)
{
	const char *v = NULL;

	*len = 0;
	if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, key, strlen(key), &v, len) != MHD_YES)
		return NULL;
	return v;
}

static enum MHD_Result refuse(struct MHD_Connection *c, struct srv_req *rq, unsigned status, const char *code,
			      const char *msg)
{
	rq->answered = 1;
	return srv_send_error(c, status, code, msg);
}

enum MHD_Result srv_upload_start(struct srv *s, struct MHD_Connection *c, const char *url, struct srv_req *rq)
{
	const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *fname, *load, *mode;
	size_t flen, llen, mlen;
	char *name, uuid[37];
	struct srv_upload *u;
	struct tn_err err = TN_ERR_INIT;

	if (rq->role < SRV_ROLE_WRITER)
		return refuse(c, rq, MHD_HTTP_FORBIDDEN, "forbidden", "uploading needs a writer or admin token");
	name = tn_strndup(url + strlen(PREFIX), strlen(url) - strlen(PREFIX SUFFIX));
	if (!dataset_ok(name)) {
		char *slug = ingest_slug(name);
		char msg[300];
		snprintf(msg, sizeof(msg), "a dataset name is snake case: letters, digits and '_'%s%s%s",
			 slug ? " (try '" : "", slug ? slug : "", slug ? "')" : "");
		tn_free(slug);
		tn_free(name);
		return refuse(c, rq, MHD_HTTP_BAD_REQUEST, "bad_dataset_name", msg);
	}
	if (clen && strtoull(clen, NULL, 10) > (unsigned long long)s->o->max_upload) {
		tn_free(name);
		return refuse(c, rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
			      "the upload is over the server's limit (--max-upload-mb)");
	}
	load = arg(c, "load", &llen);
	mode = arg(c, "mode", &mlen);
	if ((load && (!llen || strlen(load) != llen || llen > 200)) ||
	    (mode && strcmp(mode, "append") && strcmp(mode, "replace") && strcmp(mode, "create"))) {
		tn_free(name);
		return refuse(c, rq, MHD_HTTP_BAD_REQUEST, "bad_request",
			      "use ?load=SCHEMA.TABLE and ?mode=create|append|replace");
	}
	u = tn_calloc(1, sizeof(*u));
	u->s = s;
	u->fd = -1;
	u->dataset = name;
	u->load = load ? tn_strdup(load) : NULL;
	u->mode = !mode || !strcmp(mode, "create") ? LOAD_CREATE : !strcmp(mode, "append") ? LOAD_APPEND : LOAD_REPLACE;
	tn_uuid7(uuid);
	u->dir = tn_xprintf("%s/up-%s", s->tmp, uuid);
	rq->up = u;
	if (tn_fs_mkdirs(u->dir, &err))
		return refuse(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "io", err.msg);
	if (ctype && !strncasecmp(ctype, "multipart/form-data", 19)) {
		u->pp = MHD_create_post_processor(c, 64 * 1024, part, u);
		if (!u->pp)
			return refuse(c, rq, MHD_HTTP_BAD_REQUEST, "bad_multipart",
				      "a multipart/form-data body needs a boundary in its Content-Type");
		return MHD_YES;
	}
	fname = arg(c, "filename", &flen);
	if (!fname)
		return refuse(c, rq, MHD_HTTP_BAD_REQUEST, "bad_request", "a raw body needs ?filename=NAME "
			      "(or send multipart/form-data)");
	if (!file_name_ok(fname, flen))
		return refuse(c, rq, MHD_HTTP_BAD_REQUEST, "bad_file_name", "?filename= must be a plain file name "
			      "(no '/', '\\', '..', leading '.', NUL or control characters)");
	if (open_file(u, fname))
		return refuse(c, rq, u->status, u->code, u->msg);
	return MHD_YES;
}

enum MHD_Result srv_upload_data(struct srv *s, struct MHD_Connection *c, struct srv_req *rq, const char *data,
				size_t size)
{
	struct srv_upload *u = rq->up;
	struct tn_err ignore = TN_ERR_INIT;

	(void)c;
	if (rq->answered)
		return MHD_YES;   /* refused already: read nothing more into files */
	u->bytes += size;
	if (u->status)
		/* libmicrohttpd answers once the body is read: drain a while, then hang up */
		return u->bytes > (uint64_t)s->o->max_upload + DRAIN_MAX ? MHD_NO : MHD_YES;
	if (u->bytes > (uint64_t)s->o->max_upload)
		fail(u, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "the upload is over the server's limit "
		     "(--max-upload-mb); nothing was kept");
	else if (u->pp)
		MHD_post_process(u->pp, data, size);
	else
		write_all(u, data, size);
	if (u->status) {
		/* keep nothing from here on */
		close_file(u);
		tn_fs_remove_tree(u->dir, &ignore);
	}
	return MHD_YES;
}

/* "YYYY_MM_DD/HH_mm_SS_sss" from a version folder path or URL. */
static const char *version_of(const char *path)
{
	const char *p = path + strlen(path);
	int slashes = 0;

	while (p > path && slashes < 2)
		if (*--p == '/')
			slashes++;
	return slashes == 2 ? p + 1 : path;
}

static enum MHD_Result answer(struct srv *s, struct MHD_Connection *c, struct srv_req *rq, const char *path)
{
	struct srv_upload *u = rq->up;
	struct load_report rep;
	struct load_opts lo;
	struct tn_err err = TN_ERR_INIT;
	struct session *ss;
	json_t *files = json_array(), *loaded = json_array(), *out;
	size_t i;

	for (i = 0; i < u->n; i++)
		json_array_append_new(files, json_string(u->names[i]));
	out = json_pack("{s:s,s:s,s:o,s:I}", "dataset", u->dataset, "version", version_of(path), "files", files,
			"bytes", (json_int_t)u->file_bytes);
	if (!u->load) {
		json_decref(loaded);
		return srv_send_json(c, MHD_HTTP_CREATED, out);
	}
	memset(&rep, 0, sizeof(rep));
	memset(&lo, 0, sizeof(lo));
	lo.dataset = u->dataset;
	lo.version = version_of(path);
	lo.table = u->load;
	lo.mode = u->mode;
	lo.author = rq->who;
	ss = srv_session(s, 0, &err);
	if (!ss || load_dataset(ss, s->lk, &lo, &rep, &err)) {
		/* the files stay as a raw version; say which, so a retry can load it */
		json_object_set_new(out, "error", json_pack("{s:s,s:s}", "code", "load_failed", "message", err.msg));
		json_decref(loaded);
		load_report_release(&rep);
		return srv_send_json(c, MHD_HTTP_UNPROCESSABLE_CONTENT, out);
	}
	srv_count(s, &s->commits, 1);
	for (i = 0; i < rep.n; i++)
		json_array_append_new(loaded, json_pack("{s:s,s:I,s:I,s:I}", "table", rep.t[i].name, "rows",
							(json_int_t)rep.t[i].rows, "files", (json_int_t)rep.t[i].nfiles,
							"rejected", (json_int_t)rep.t[i].rejected));
	load_report_release(&rep);
	json_object_set_new(out, "loaded", loaded);
	return srv_send_json(c, MHD_HTTP_CREATED, out);
}

enum MHD_Result srv_upload_finish(struct srv *s, struct MHD_Connection *c, struct srv_req *rq)
{
	struct srv_upload *u = rq->up;
	struct ingest_opts io;
	struct tn_err err = TN_ERR_INIT;
	char *path = NULL, *source;
	enum MHD_Result rc;
	int irc;

	if (u->pp) {
		if (MHD_destroy_post_processor(u->pp) != MHD_YES)
			fail(u, MHD_HTTP_BAD_REQUEST, "bad_multipart", "the multipart body is malformed or cut short "
			     "(no closing boundary)");
		u->pp = NULL;
	}
	close_file(u);
	if (!u->status && !u->n)
		fail(u, MHD_HTTP_BAD_REQUEST, "no_file", "the body holds no file");
	if (u->status)
		return refuse(c, rq, u->status, u->code, u->msg);
	memset(&io, 0, sizeof(io));
	io.name = u->dataset;
	/* the staging folder is gone once published: record who sent it */
	source = tn_xprintf("http upload by %s", rq->who);
	io.source = source;
	pthread_mutex_lock(&s->ingest_mu);
	irc = ingest_dataset(s->lk, u->dir, &io, &path, &err);
	pthread_mutex_unlock(&s->ingest_mu);
	tn_free(source);
	if (irc)
		return refuse(c, rq, irc == TN_EINVAL ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR,
			      "ingest_failed", err.msg);
	srv_count(s, &s->uploads, 1);
	srv_count(s, &s->upload_bytes, u->bytes);
	rc = answer(s, c, rq, path);
	rq->answered = 1;
	tn_free(path);
	return rc;
}

void srv_upload_free(struct srv_upload *u)
{
	struct tn_err ignore = TN_ERR_INIT;
	size_t i;

	if (!u)
		return;
	if (u->pp)
		MHD_destroy_post_processor(u->pp);
	if (u->fd >= 0)
		close(u->fd);
	if (u->dir && tn_fs_exists(u->dir))
		tn_fs_remove_tree(u->dir, &ignore);
	for (i = 0; i < u->n; i++)
		tn_free(u->names[i]);
	tn_free(u->names);
	tn_free(u->dir);
	tn_free(u->dataset);
	tn_free(u->load);
	tn_free(u);
}
