/* manifest.c: the dataset record in memory, checked on the way in. */
#include "base/compat.h"
#include "ingest/manifest.h"
#include "ingest/jdoc.h"
#include "ingest/unpack.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"

#include <time.h>

void manifest_init(struct manifest *m, const char *name)
{
	memset(m, 0, sizeof(*m));
	m->name = tn_strdup(name ? name : "");
}

static void version_release(struct manifest_version *v)
{
	size_t i;

	for (i = 0; i < v->nfiles; i++)
		tn_free(v->files[i].path);
	tn_free(v->files);
	tn_free(v->id);
	tn_free(v->created);
	tn_free(v->source);
}

void manifest_release(struct manifest *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		version_release(&m->v[i]);
	tn_free(m->v);
	tn_free(m->name);
	tn_free(m->latest);
	memset(m, 0, sizeof(*m));
}

struct manifest_version *manifest_add(struct manifest *m, const char *id, const char *created,
				      const char *source)
{
	struct manifest_version *v;
	size_t at;

	for (at = 0; at < m->n && strcmp(m->v[at].id, id) < 0; at++)
		;
	if (at < m->n && !strcmp(m->v[at].id, id))
		return NULL;
	TN_GROW(m->v, m->alloc, m->n + 1);
	memmove(&m->v[at + 1], &m->v[at], (m->n - at) * sizeof(*m->v));
	m->n++;
	v = &m->v[at];
	memset(v, 0, sizeof(*v));
	v->id = tn_strdup(id);
	v->created = tn_strdup(created);
	v->source = tn_strdup(source);
	tn_free(m->latest);
	m->latest = tn_strdup(m->v[m->n - 1].id);
	return v;
}

void manifest_add_file(struct manifest_version *v, const char *path, int64_t size, const char *sha256)
{
	struct manifest_file *f;

	TN_GROW(v->files, v->alloc, v->nfiles + 1);
	f = &v->files[v->nfiles++];
	f->path = tn_strdup(path);
	f->size = size;
	snprintf(f->sha256, sizeof(f->sha256), "%s", sha256);
}

const struct manifest_version *manifest_find(const struct manifest *m, const char *id)
{
	size_t i;

	if (!strcmp(id, "latest")) {
		if (!m->latest)
			return NULL;
		id = m->latest;
	}
	for (i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].id, id))
			return &m->v[i];
	return NULL;
}

int manifest_remove(struct manifest *m, const char *id)
{
	size_t i;

	for (i = 0; i < m->n && strcmp(m->v[i].id, id); i++)
		;
	if (i == m->n)
		return 0;
	/* `id` may be the version's own string, freed just below. */
	int was_latest = m->latest && !strcmp(m->latest, id);
	version_release(&m->v[i]);
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
	if (was_latest) {
		tn_free(m->latest);
		m->latest = m->n ? tn_strdup(m->v[m->n - 1].id) : NULL;
	}
	return 1;
}

const struct manifest_file *manifest_file_find(const struct manifest_version *v, const char *path)
{
	size_t i;

	for (i = 0; i < v->nfiles; i++)
		if (!strcmp(v->files[i].path, path))
			return &v->files[i];
	return NULL;
}

/* ---- ids ---- */

static void utc(int64_t ms, struct tm *tm)
{
	time_t t = (time_t)(ms / 1000);

	gmtime_r(&t, tm);
}

/* The compiler cannot see that struct tm fields are small, so format into
 * a roomy buffer and copy the fixed-width result. */
static void stamp(int64_t ms, const char *fmt, char *out, size_t n)
{
	char tmp[96];
	struct tm tm;

	utc(ms, &tm);
	snprintf(tmp, sizeof(tmp), fmt, (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	snprintf(out, n, "%.*s", (int)(n - 1), tmp);
}

void manifest_id(int64_t ms, char out[MANIFEST_ID_LEN])
{
	stamp(ms, "%04d_%02d_%02d/%02d_%02d_%02d_%03d", out, MANIFEST_ID_LEN);
}

void manifest_created(int64_t ms, char out[MANIFEST_CREATED_LEN])
{
	stamp(ms, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", out, MANIFEST_CREATED_LEN);
}

int manifest_id_valid(const char *id)
{
	static const char shape[] = "dddd_dd_dd/dd_dd_dd_ddd";
	size_t i;

	for (i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? (id[i] < '0' || id[i] > '9') : id[i] != shape[i])
			return 0;
	}
	return id[i] == '\0';
}

/* ---- checking what was read ---- */

static int name_valid(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int sha_valid(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

/* A file path must already be in the safe form unpack_member_path makes. */
static int path_valid(const char *p)
{
	struct tn_err ignore = TN_ERR_INIT;
	char *clean = NULL;
	int ok = unpack_member_path(p, &clean, &ignore) == 0 && clean && !strcmp(clean, p);

	tn_free(clean);
	return ok;
}

static int check_version(const struct manifest_version *v, struct tn_err *err)
{
	size_t i;

	if (!manifest_id_valid(v->id))
		return tn_err_set(err, TN_EINVAL, "version \"%.60s\" is not of the form YYYY_MM_DD/HH_mm_SS_sss",
				  v->id);
	for (i = 0; i < v->nfiles; i++) {
		const struct manifest_file *f = &v->files[i];
		if (!path_valid(f->path))
			return tn_err_set(err, TN_EINVAL, "version %s: file path \"%.200s\" is not a plain "
					  "relative path", v->id, f->path);
		if (f->size < 0 || !sha_valid(f->sha256))
			return tn_err_set(err, TN_EINVAL, "version %s: file %s has a bad size or sha256",
					  v->id, f->path);
	}
	return 0;
}

static int check(const struct manifest *m, struct tn_err *err)
{
	size_t i;
	int rc = 0;

	if (!name_valid(m->name))
		return tn_err_set(err, TN_EINVAL, "the dataset name \"%.100s\" is not snake case", m->name);
	for (i = 0; !rc && i < m->n; i++)
		rc = check_version(&m->v[i], err);
	if (!rc && m->latest && !manifest_find(m, m->latest))
		rc = tn_err_set(err, TN_EINVAL, "\"latest\" names version %.60s, which is not listed",
				m->latest);
	return rc;
}

int manifest_parse(const char *text, size_t len, struct manifest *m, struct tn_err *err)
{
	int rc = jdoc_manifest_parse(text, len, m, err);

	return rc ? rc : check(m, err);
}

char *manifest_format(const struct manifest *m)
{
	return jdoc_manifest_format(m);
}

int manifest_read(const char *path, struct manifest *m, struct tn_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = tn_fs_read_all(path, &text, &len, err);

	manifest_init(m, NULL);
	if (rc)
		return rc;
	rc = manifest_parse(text, len, m, err);
	if (rc)
		tn_err_prefix(err, "%s (fix or restore the file)", path);
	tn_free(text);
	return rc;
}

int manifest_write(const char *path, const struct manifest *m, struct tn_err *err)
{
	char *text = manifest_format(m);
	int rc = tn_fs_write_atomic(path, text, strlen(text), err);

	tn_free(text);
	return rc;
}
