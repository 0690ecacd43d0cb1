/*
 * store_s3_ops.c - the S3 backend: the store operations as S3 API calls
 * (PutObject, multipart upload, GetObject with ranges, HeadObject,
 * ListObjectsV2, DeleteObject, DeleteObjects) on top of store_s3_do(),
 * which owns the transport, the retries and the messages.
 *
 * What "success" means is checked here, beyond the status: a download has
 * the length the server announced and the caller expected, a range answer
 * covers exactly the bytes asked for, a 200 whose body is an S3 <Error>
 * (CompleteMultipartUpload, DeleteObjects) is a failure.
 */
#include "base/compat.h"
#include "store/store_s3_int.h"
#include "base/tn_mem.h"
#include "base/tn_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#define MAX_PARTS 10000    /* S3's limit */
#define DELETE_BATCH 1000  /* S3's limit per DeleteObjects */

static struct s3 *S(struct store *s)
{
	return (struct s3 *)s;
}

/* The object key in the bucket: the store's prefix, then `key`. */
static char *obj_key(struct s3 *s3, const char *key)
{
	return tn_xprintf("%s%s", s3->conf.prefix, key);
}

static char *encoded(const char *s)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);

	store_s3_uri_encode(&b, s, 0);
	return tn_buf_detach(&b, NULL);
}

/* ---- PUT ---- */

static int put_single(struct s3 *s3, const char *ok, int fd, int64_t size, struct tn_err *err)
{
	struct s3_req r;
	int rc;

	store_s3_req_init(&r, "PUT", ok);
	r.body_fd = fd;
	r.body_len = size;
	r.content_type = "application/octet-stream";
	rc = store_s3_do(s3, &r, err);
	store_s3_req_release(&r);
	return rc;
}

/* A multipart upload in flight; workers take part numbers from `next`. */
struct mp {
	struct s3 *s3;
	const char *key;
	char *upload_id, *qid; /* raw, and URI-encoded for queries */
	int fd;
	int64_t size, part_size;
	int nparts, next;
	char **etags;
	pthread_mutex_t mu;
	struct tn_err err;
};

static int mp_start(struct mp *m, struct tn_err *err)
{
	struct tn_buf id = TN_BUF_INIT(1024);
	struct s3_req r;
	int rc;

	store_s3_req_init(&r, "POST", m->key);
	r.query = "uploads=";
	r.xml = 1;
	r.content_type = "application/octet-stream";
	rc = store_s3_do(m->s3, &r, err);
	if (!rc && (store_xml_text(r.resp.buf, r.resp.len, "UploadId", &id) || !id.len)) {
		char *what = store_s3_what(m->s3, m->key);
		rc = tn_err_set(err, TN_EREMOTE, "s3: POST %s?uploads: the answer has no UploadId", what);
		tn_free(what);
	}
	if (!rc) {
		m->upload_id = tn_buf_detach(&id, NULL);
		m->qid = encoded(m->upload_id);
	}
	tn_buf_release(&id);
	store_s3_req_release(&r);
	return rc;
}

static int mp_part(struct mp *m, int i, struct tn_err *err)
{
	char *q = tn_xprintf("partNumber=%d&uploadId=%s", i + 1, m->qid);
	int64_t off = (int64_t)i * m->part_size;
	struct s3_req r;
	int rc;

	store_s3_req_init(&r, "PUT", m->key);
	r.query = q;
	r.body_fd = m->fd;
	r.body_off = off;
	r.body_len = m->size - off < m->part_size ? m->size - off : m->part_size;
	rc = store_s3_do(m->s3, &r, err);
	if (!rc && !r.etag[0]) {
		char *what = store_s3_what(m->s3, m->key);
		rc = tn_err_set(err, TN_EREMOTE, "s3: PUT %s part %d: the answer has no ETag", what, i + 1);
		tn_free(what);
	}
	if (!rc)
		m->etags[i] = tn_strdup(r.etag);
	store_s3_req_release(&r);
	tn_free(q);
	return rc;
}

static void *mp_worker(void *arg)
{
	struct mp *m = arg;

	for (;;) {
		struct tn_err e = TN_ERR_INIT;
		int i;

		pthread_mutex_lock(&m->mu);
		i = m->err.code ? m->nparts : m->next++;
		pthread_mutex_unlock(&m->mu);
		if (i >= m->nparts)
			return NULL;
		if (mp_part(m, i, &e)) {
			pthread_mutex_lock(&m->mu);
			tn_err_set(&m->err, e.code, "%s", e.msg);
			pthread_mutex_unlock(&m->mu);
		}
	}
}

static int mp_upload_parts(struct mp *m, int threads, struct tn_err *err)
{
	pthread_t tid[64];
	int i, started = 0;

	if (threads > m->nparts)
		threads = m->nparts;
	for (i = 1; i < threads && i < 64; i++)
		if (pthread_create(&tid[started], NULL, mp_worker, m) == 0)
			started++;
	mp_worker(m);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (m->err.code)
		return tn_err_set(err, m->err.code, "%s", m->err.msg);
	return 0;
}

static char *mp_complete_body(const struct mp *m)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	int i;

	tn_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload "
			"xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (i = 0; i < m->nparts; i++) {
		tn_buf_addf(&b, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
		store_xml_escape(&b, m->etags[i]);
		tn_buf_adds(&b, "</ETag></Part>");
	}
	tn_buf_adds(&b, "</CompleteMultipartUpload>");
	return tn_buf_detach(&b, NULL);
}

/* After a failed complete that was retried, the first try may have worked
 * and only its answer got lost: the object is then there, whole. */
static int mp_landed(struct mp *m)
{
	struct tn_err e = TN_ERR_INIT;
	struct s3_req r;
	int ok;

	store_s3_req_init(&r, "HEAD", m->key);
	r.ok_status = 404;
	ok = store_s3_do(m->s3, &r, &e) == 0 && r.status == 200 && r.length == m->size;
	store_s3_req_release(&r);
	return ok;
}

static int mp_complete(struct mp *m, struct tn_err *err)
{
	char *q = tn_xprintf("uploadId=%s", m->qid);
	char *body = mp_complete_body(m);
	struct tn_err e = TN_ERR_INIT;
	struct s3_req r;
	int rc;

	store_s3_req_init(&r, "POST", m->key);
	r.query = q;
	r.body_mem = body;
	r.body_len = (int64_t)strlen(body);
	r.content_type = "application/xml";
	r.xml = 1; /* S3 may answer 200 and put an <Error> in the body */
	rc = store_s3_do(m->s3, &r, &e);
	if (rc && r.attempts > 1 && mp_landed(m))
		rc = 0;
	if (rc)
		tn_err_set(err, e.code, "%s", e.msg);
	store_s3_req_release(&r);
	tn_free(body);
	tn_free(q);
	return rc;
}

/* Best effort: parts of an aborted upload cost money until deleted. */
static void mp_abort(struct mp *m)
{
	char *q = tn_xprintf("uploadId=%s", m->qid);
	struct tn_err e = TN_ERR_INIT;
	struct s3_req r;

	store_s3_req_init(&r, "DELETE", m->key);
	r.query = q;
	r.ok_status = 404;
	store_s3_do(m->s3, &r, &e);
	store_s3_req_release(&r);
	tn_free(q);
}

static int put_multipart(struct s3 *s3, const char *ok, int fd, int64_t size, struct tn_err *err)
{
	const struct store_opts *o = &s3->base.opts;
	struct mp m;
	int rc, i;

	memset(&m, 0, sizeof(m));
	m.s3 = s3;
	m.key = ok;
	m.fd = fd;
	m.size = size;
	m.part_size = o->part_size;
	/* Keep within S3's 10000 parts by growing the parts. */
	while ((size + m.part_size - 1) / m.part_size > MAX_PARTS)
		m.part_size *= 2;
	m.nparts = (int)((size + m.part_size - 1) / m.part_size);
	m.etags = tn_calloc((size_t)m.nparts, sizeof(char *));
	pthread_mutex_init(&m.mu, NULL);
	rc = mp_start(&m, err);
	if (!rc) {
		rc = mp_upload_parts(&m, o->threads, err);
		if (!rc)
			rc = mp_complete(&m, err);
		if (rc)
			mp_abort(&m);
	}
	for (i = 0; i < m.nparts; i++)
		tn_free(m.etags[i]);
	tn_free(m.etags);
	tn_free(m.upload_id);
	tn_free(m.qid);
	pthread_mutex_destroy(&m.mu);
	return rc;
}

static int s3_put_file(struct store *s, const char *key, const char *path, struct tn_err *err)
{
	struct s3 *s3 = S(s);
	char *ok = obj_key(s3, key);
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = tn_err_set(err, TN_EIO, "s3: cannot read %s to upload it: %s", path,
				fd < 0 ? strerror(errno) : "not a regular file");
		goto out;
	}
	if (st.st_size > s->opts.multipart_threshold)
		rc = put_multipart(s3, ok, fd, (int64_t)st.st_size, err);
	else
		rc = put_single(s3, ok, fd, (int64_t)st.st_size, err);
out:
	if (fd >= 0)
		close(fd);
	tn_free(ok);
	return rc;
}

/* ---- GET ---- */

static int check_download(struct s3 *s3, const struct s3_req *r, int fd, int64_t expect,
			  struct tn_err *err)
{
	char *what = store_s3_what(s3, r->key);
	struct stat st;
	int rc = 0;

	if (fstat(fd, &st) != 0 || st.st_size != r->got)
		rc = tn_err_set(err, TN_EIO, "s3: GET %s: the local copy has %lld bytes, %lld arrived",
				what, (long long)st.st_size, (long long)r->got);
	else if (r->length >= 0 && r->got != r->length)
		rc = tn_err_set(err, TN_EIO, "s3: GET %s: %lld bytes arrived, the server announced %lld",
				what, (long long)r->got, (long long)r->length);
	else if (expect >= 0 && r->got != expect)
		rc = tn_err_set(err, TN_EIO, "s3: GET %s: the object has %lld bytes, expected %lld "
				"(changed or damaged object, or a wrong answer)",
				what, (long long)r->got, (long long)expect);
	tn_free(what);
	return rc;
}

static int s3_get_file(struct store *s, const char *key, const char *path, int64_t expect_size,
		       struct tn_err *err)
{
	struct s3 *s3 = S(s);
	char *ok = obj_key(s3, key), *tmp = store_tmp_name(path);
	struct s3_req r;
	int fd, rc;

	store_s3_req_init(&r, "GET", ok);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		rc = tn_err_set(err, TN_EIO, "s3: cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	r.sink_fd = fd;
	r.size_hint = expect_size;
	rc = store_s3_do(s3, &r, err);
	if (!rc)
		rc = check_download(s3, &r, fd, expect_size, err);
	if (close(fd) != 0 && !rc)
		rc = tn_err_set(err, TN_EIO, "s3: cannot write %s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, path) != 0)
		rc = tn_err_set(err, TN_EIO, "s3: cannot rename %s to %s: %s", tmp, path, strerror(errno));
	if (rc)
		unlink(tmp);
out:
	store_s3_req_release(&r);
	tn_free(tmp);
	tn_free(ok);
	return rc;
}

/* "bytes 100-199/1000" -> first 100, last 199. */
static int parse_content_range(const char *v, int64_t *first, int64_t *last)
{
	long long a, b;

	if (sscanf(v, "bytes %lld-%lld/", &a, &b) != 2)
		return -1;
	*first = a;
	*last = b;
	return 0;
}

static int check_range(struct s3 *s3, const struct s3_req *r, int64_t off, size_t len,
		       struct tn_err *err)
{
	char *what = store_s3_what(s3, r->key);
	int64_t first = -1, last = -1;
	int rc = 0;

	if (r->status == 206) {
		if (parse_content_range(r->content_range, &first, &last) || first != off ||
		    last - first + 1 != r->got || r->got > (int64_t)len)
			rc = tn_err_set(err, TN_EREMOTE, "s3: GET %s: asked for bytes %lld-%lld, got %lld "
					"bytes with Content-Range '%s'", what, (long long)off,
					(long long)(off + (int64_t)len - 1), (long long)r->got,
					r->content_range);
	} else if (off != 0 || (r->length >= 0 && r->got != r->length)) {
		/* A 200 is the whole object: right only when it starts at 0 and fit. */
		rc = tn_err_set(err, TN_EREMOTE, "s3: GET %s: the server ignored the Range header "
				"(status %ld)", what, r->status);
	}
	tn_free(what);
	return rc;
}

static int s3_get_range(struct store *s, const char *key, int64_t off, void *buf, size_t len,
			size_t *got, struct tn_err *err)
{
	struct s3 *s3 = S(s);
	char *ok = obj_key(s3, key);
	struct s3_req r;
	int rc;

	store_s3_req_init(&r, "GET", ok);
	r.range_off = off;
	r.range_len = (int64_t)len;
	r.sink_mem = buf;
	r.sink_cap = len;
	r.ok_status = 416; /* the range starts at or past the end: 0 bytes */
	rc = store_s3_do(s3, &r, err);
	if (!rc && r.status != 416) {
		rc = check_range(s3, &r, off, len, err);
		if (!rc)
			*got = (size_t)r.got;
	}
	store_s3_req_release(&r);
	tn_free(ok);
	return rc;
}

/* ---- HEAD, DELETE ---- */

static int s3_head(struct store *s, const char *key, struct store_stat *st, struct tn_err *err)
{
	struct s3 *s3 = S(s);
	char *ok = obj_key(s3, key);
	struct s3_req r;
	int rc;

	store_s3_req_init(&r, "HEAD", ok);
	r.ok_status = 404;
	rc = store_s3_do(s3, &r, err);
	if (!rc && r.status != 404 && r.length < 0) {
		char *what = store_s3_what(s3, ok);
		rc = tn_err_set(err, TN_EREMOTE, "s3: HEAD %s: the answer has no Content-Length", what);
		tn_free(what);
	} else if (!rc && r.status != 404) {
		st->exists = 1;
		st->size = r.length;
	}
	store_s3_req_release(&r);
	tn_free(ok);
	return rc;
}

static int s3_del(struct store *s, const char *key, struct tn_err *err)
{
	struct s3 *s3 = S(s);
	char *ok = obj_key(s3, key);
	struct s3_req r;
	int rc;

	store_s3_req_init(&r, "DELETE", ok);
	r.ok_status = 404;
	rc = store_s3_do(s3, &r, err);
	store_s3_req_release(&r);
	tn_free(ok);
	return rc;
}

static char *delete_body(struct s3 *s3, const char *const *keys, size_t n)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	size_t i;

	tn_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete xmlns=\"http://s3.amazonaws"
			".com/doc/2006-03-01/\"><Quiet>true</Quiet>");
	for (i = 0; i < n; i++) {
		tn_buf_adds(&b, "<Object><Key>");
		store_xml_escape(&b, s3->conf.prefix);
		store_xml_escape(&b, keys[i]);
		tn_buf_adds(&b, "</Key></Object>");
	}
	tn_buf_adds(&b, "</Delete>");
	return tn_buf_detach(&b, NULL);
}

/* A DeleteObjects answer lists keys it could not delete as <Error>s. */
static int delete_errors(struct s3 *s3, const struct s3_req *r, struct tn_err *err)
{
	struct tn_buf key = TN_BUF_INIT(4096), code = TN_BUF_INIT(256), msg = TN_BUF_INIT(1024);
	const char *p = r->resp.buf, *body;
	size_t n = r->resp.len, used, blen, count = 0;
	int rc = 0;

	while ((used = store_xml_next(p, n, "Error", &body, &blen)) != 0) {
		if (count++ == 0) {
			store_xml_text(body, blen, "Key", &key);
			store_xml_text(body, blen, "Code", &code);
			store_xml_text(body, blen, "Message", &msg);
		}
		p += used;
		n -= used;
	}
	if (count) {
		char *what = store_s3_what(s3, key.buf);
		rc = tn_err_set(err, code.len && !strcmp(code.buf, "AccessDenied") ? TN_EINVAL : TN_EREMOTE,
				"s3: DELETE %s: %s: %s (%zu key%s of the batch not deleted)", what,
				code.buf, msg.buf, count, count == 1 ? "" : "s");
		tn_free(what);
	}
	tn_buf_release(&key);
	tn_buf_release(&code);
	tn_buf_release(&msg);
	return rc;
}

static int delete_batch(struct s3 *s3, const char *const *keys, size_t n, struct tn_err *err)
{
	char *body = delete_body(s3, keys, n);
	char md5[25];
	struct s3_req r;
	int rc;

	store_md5_base64(body, strlen(body), md5);
	store_s3_req_init(&r, "POST", NULL);
	r.query = "delete=";
	r.body_mem = body;
	r.body_len = (int64_t)strlen(body);
	r.content_md5 = md5; /* S3 requires it on DeleteObjects */
	r.content_type = "application/xml";
	r.xml = 1;
	rc = store_s3_do(s3, &r, err);
	if (!rc)
		rc = delete_errors(s3, &r, err);
	store_s3_req_release(&r);
	tn_free(body);
	return rc;
}

static int s3_del_many(struct store *s, const char *const *keys, size_t n, struct tn_err *err)
{
	size_t i;

	for (i = 0; i < n; i += DELETE_BATCH)
		if (delete_batch(S(s), keys + i, n - i < DELETE_BATCH ? n - i : DELETE_BATCH, err))
			return err->code;
	return 0;
}

/* ---- LIST ---- */

struct page {
	struct tn_buf token; /* next continuation token, "" at the end */
	int truncated;
};

static char *list_query(struct s3 *s3, const char *prefix, const char *token)
{
	char *p = tn_xprintf("%s%s", s3->conf.prefix, prefix), *ep = encoded(p), *et = NULL, *q;

	/* Sorted by name, as SigV4's canonical query (curl 7.88 signs it as is). */
	if (token && *token) {
		et = encoded(token);
		q = tn_xprintf("continuation-token=%s&list-type=2&max-keys=%d&prefix=%s", et,
			       s3->base.opts.list_page_size, ep);
	} else {
		q = tn_xprintf("list-type=2&max-keys=%d&prefix=%s", s3->base.opts.list_page_size, ep);
	}
	tn_free(p);
	tn_free(ep);
	tn_free(et);
	return q;
}

/* Call fn for each <Contents> of one ListBucketResult page. */
static int list_entries(struct s3 *s3, const struct s3_req *r, store_list_fn fn, void *arg,
			struct tn_err *err)
{
	struct tn_buf key = TN_BUF_INIT(STORE_MAX_KEY * 8), size = TN_BUF_INIT(64);
	size_t plen = strlen(s3->conf.prefix), used, blen, n = r->resp.len;
	const char *p = r->resp.buf, *body;
	int rc = 0;

	while (!rc && (used = store_xml_next(p, n, "Contents", &body, &blen)) != 0) {
		tn_buf_reset(&key);
		tn_buf_reset(&size);
		if (store_xml_text(body, blen, "Key", &key) || store_xml_text(body, blen, "Size", &size))
			rc = tn_err_set(err, TN_EREMOTE, "s3: list of s3://%s/%s: an entry without Key or Size",
					s3->conf.bucket, s3->conf.prefix);
		else if (key.len >= plen && !strncmp(key.buf, s3->conf.prefix, plen) && key.len > plen)
			rc = fn(arg, key.buf + plen, strtoll(size.buf, NULL, 10));
		p += used;
		n -= used;
	}
	tn_buf_release(&key);
	tn_buf_release(&size);
	return rc;
}

static int list_page(struct s3 *s3, const char *prefix, struct page *pg, store_list_fn fn,
		     void *arg, struct tn_err *err)
{
	char *q = list_query(s3, prefix, pg->token.buf);
	struct tn_buf trunc = TN_BUF_INIT(16);
	struct s3_req r;
	int rc;

	store_s3_req_init(&r, "GET", NULL);
	r.query = q;
	r.xml = 1;
	rc = store_s3_do(s3, &r, err);
	if (!rc) {
		tn_buf_reset(&pg->token);
		store_xml_text(r.resp.buf, r.resp.len, "IsTruncated", &trunc);
		pg->truncated = !strcmp(trunc.buf, "true");
		if (pg->truncated)
			store_xml_text(r.resp.buf, r.resp.len, "NextContinuationToken", &pg->token);
		if (pg->truncated && !pg->token.len)
			rc = tn_err_set(err, TN_EREMOTE, "s3: list of s3://%s/%s%s: a truncated page without "
					"NextContinuationToken", s3->conf.bucket, s3->conf.prefix, prefix);
	}
	if (!rc)
		rc = list_entries(s3, &r, fn, arg, err);
	tn_buf_release(&trunc);
	store_s3_req_release(&r);
	tn_free(q);
	return rc;
}

static int s3_list(struct store *s, const char *prefix, store_list_fn fn, void *arg,
		   struct tn_err *err)
{
	struct page pg = { TN_BUF_INIT(4096), 0 };
	int rc;

	do
		rc = list_page(S(s), prefix, &pg, fn, arg, err);
	while (!rc && pg.truncated);
	tn_buf_release(&pg.token);
	return rc;
}

/* ---- the handle ---- */

static char *s3_local_path(struct store *s, const char *key)
{
	(void)s;
	(void)key;
	return NULL;
}

static void s3_close(struct store *s)
{
	struct s3 *s3 = S(s);

	store_s3_teardown(s3);
	store_s3_conf_release(&s3->conf);
	tn_free(s3);
}

const struct store_ops store_s3_ops = {
	"s3",
	s3_put_file,
	s3_get_file,
	s3_get_range,
	s3_head,
	s3_list,
	s3_del,
	s3_del_many,
	s3_local_path,
	s3_close,
};

static const char *env_get(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

/* The .env text, NULL if there is none; a file that exists but cannot be
 * read is an error (its settings would be silently ignored otherwise). */
static int read_dotenv(const char *path, char **text, struct tn_err *err)
{
	struct tn_err e = TN_ERR_INIT;
	size_t n;

	*text = NULL;
	if (!path || !*path)
		return 0;
	if (tn_fs_read_all(path, text, &n, &e) == 0)
		return 0;
	if (e.code == TN_ENOTFOUND)
		return 0;
	return tn_err_set(err, e.code, "s3: settings file %s: %s", path, e.msg);
}

static void free_text(char *t)
{
	if (t)
		memset(t, 0, strlen(t)); /* it holds the secret key */
	tn_free(t);
}

int store_s3_open(struct store **out, const char *url, const struct store_opts *opts,
		  struct tn_err *err)
{
	struct s3 *s3;
	char *dotenv;
	int rc;

	*out = NULL;
	rc = read_dotenv(opts->env_file, &dotenv, err);
	if (rc)
		return rc;
	s3 = tn_calloc(1, sizeof(*s3));
	rc = store_s3_conf_load(&s3->conf, url, dotenv, env_get, NULL, err);
	free_text(dotenv);
	if (!rc)
		rc = store_s3_setup(s3, err);
	if (rc) {
		store_s3_conf_release(&s3->conf);
		tn_free(s3);
		return rc;
	}
	s3->base.ops = &store_s3_ops;
	s3->base.url = tn_xprintf("s3://%s/%s", s3->conf.bucket, s3->conf.prefix);
	*out = &s3->base;
	return 0;
}
