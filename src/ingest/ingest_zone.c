/*
 * ingest_zone.c: reading the raw zone back: `ingest ls`, `ingest prune`
 * and the version a load reads.
 */
#include "base/compat.h"
#include "ingest/ingest.h"
#include "ingest/ingest_int.h"
#include "ingest/manifest.h"
#include "base/tn_buf.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>

/* Dataset folders of the raw zone, sorted; hidden entries (.tmp, .lock)
 * are not datasets. A missing zone is an empty one. */
static int datasets(const char *raw, char ***out, size_t *n, struct tn_err *err)
{
	DIR *d = opendir(raw);
	struct dirent *e;
	size_t alloc = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return tn_err_set(err, TN_EIO, "cannot read the raw zone %s: %s", raw, strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		char *path;
		if (e->d_name[0] == '.')
			continue;
		path = tn_xprintf("%s%s", raw, e->d_name);
		if (tn_fs_is_dir(path)) {
			TN_GROW(*out, alloc, *n + 1);
			(*out)[(*n)++] = tn_strdup(e->d_name);
		}
		tn_free(path);
	}
	closedir(d);
	for (size_t i = 1; i < *n; i++) {
		/* insertion sort: a raw zone has tens of datasets, not millions */
		char *x = (*out)[i];
		size_t k = i;
		for (; k > 0 && strcmp((*out)[k - 1], x) > 0; k--)
			(*out)[k] = (*out)[k - 1];
		(*out)[k] = x;
	}
	return 0;
}

static void free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		tn_free(v[i]);
	tn_free(v);
}

/* ---- ls ---- */

void ingest_listing_add(struct ingest_listing *l, const char *raw, const struct manifest *m,
			const struct manifest_version *v)
{
	struct ingest_entry *e;
	size_t i;

	TN_GROW(l->e, l->alloc, l->n + 1);
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	e->dataset = tn_strdup(m->name);
	e->version = tn_strdup(v->id);
	e->path = tn_xprintf("%s%s/%s", raw, m->name, v->id);
	e->created = tn_strdup(v->created);
	e->source = tn_strdup(v->source);
	e->latest = m->latest && !strcmp(m->latest, v->id);
	e->nfiles = v->nfiles;
	for (i = 0; i < v->nfiles; i++)
		e->bytes += v->files[i].size;
}

int ingest_list(struct lake *lk, int all, struct ingest_listing *out, struct tn_err *err)
{
	char *raw = ingest_raw_root(lk), **ds = NULL;
	size_t i, k, n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (ingest_zone_remote(lk)) {
		rc = ingest_s3_list(lk, raw, all, out, err);
		tn_free(raw);
		if (rc)
			ingest_listing_release(out);
		return rc;
	}
	rc = datasets(raw, &ds, &n, err);
	for (i = 0; !rc && i < n; i++) {
		char *mpath = ingest_manifest_path(raw, ds[i]);
		struct manifest m;
		rc = manifest_read(mpath, &m, err);
		if (rc == TN_ENOTFOUND) {
			/* A folder without a manifest is not a dataset (yet). */
			tn_err_clear(err);
			rc = 0;
		} else if (!rc) {
			for (k = 0; k < m.n; k++)
				if (all || (m.latest && !strcmp(m.latest, m.v[k].id)))
					ingest_listing_add(out, raw, &m, &m.v[k]);
		}
		manifest_release(&m);
		tn_free(mpath);
	}
	free_list(ds, n);
	tn_free(raw);
	if (rc)
		ingest_listing_release(out);
	return rc;
}

void ingest_listing_release(struct ingest_listing *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++) {
		tn_free(l->e[i].dataset);
		tn_free(l->e[i].version);
		tn_free(l->e[i].path);
		tn_free(l->e[i].created);
		tn_free(l->e[i].source);
	}
	tn_free(l->e);
	memset(l, 0, sizeof(*l));
}

/* ---- prune ---- */

struct prune {
	int dry_run;
	ingest_prune_fn *fn;
	void *arg;
};

static int remove_dir(const struct prune *p, const char *path, const char *why, struct tn_err *err)
{
	if (p->fn)
		p->fn(p->arg, path, why);
	return p->dry_run ? 0 : tn_fs_remove_tree(path, err);
}

/* Version folders on disk: <ds>/<day>/<time> whose names make an id. */
static int disk_versions(const char *dsdir, char ***ids, size_t *n, struct tn_err *err)
{
	char **days = NULL;
	size_t nd = 0, i, alloc = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	/* datasets() lists non-hidden subfolders, which is what we need here too. */
	{
		char *slashed = tn_xprintf("%s/", dsdir);
		rc = datasets(slashed, &days, &nd, err);
		tn_free(slashed);
	}
	for (i = 0; !rc && i < nd; i++) {
		char *daydir = tn_xprintf("%s/%s/", dsdir, days[i]), **times = NULL;
		size_t nt = 0, k;
		rc = datasets(daydir, &times, &nt, err);
		for (k = 0; !rc && k < nt; k++) {
			char *id = tn_xprintf("%s/%s", days[i], times[k]);
			if (manifest_id_valid(id)) {
				TN_GROW(*ids, alloc, *n + 1);
				(*ids)[(*n)++] = id;
			} else {
				tn_free(id);
			}
		}
		free_list(times, nt);
		tn_free(daydir);
	}
	free_list(days, nd);
	return rc;
}

/* Remove day folders left with nothing in them. */
static void prune_days(const struct prune *p, const char *dsdir)
{
	struct tn_err ignore = TN_ERR_INIT;
	char **days = NULL, *slashed = tn_xprintf("%s/", dsdir);
	size_t nd = 0, i;

	if (datasets(slashed, &days, &nd, &ignore) == 0) {
		for (i = 0; i < nd; i++) {
			char *day = tn_xprintf("%s/%s", dsdir, days[i]);
			if (strlen(days[i]) == 10 && ingest_tree_empty(day))
				remove_dir(p, day, "empty day folder", &ignore);
			tn_free(day);
		}
	}
	free_list(days, nd);
	tn_free(slashed);
}

static int prune_dataset(const struct prune *p, const char *raw, const char *name, struct tn_err *err)
{
	char *dsdir = tn_xprintf("%s%s", raw, name), *mpath = ingest_manifest_path(raw, name);
	char **ids = NULL;
	size_t n = 0, i;
	struct manifest m;
	int rc = manifest_read(mpath, &m, err), changed = 0;

	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);
		rc = 0;
		goto out;
	}
	if (!rc)
		rc = disk_versions(dsdir, &ids, &n, err);
	for (i = 0; !rc && i < n; i++) {
		char *vdir = tn_xprintf("%s/%s", dsdir, ids[i]);
		if (ingest_tree_empty(vdir)) {
			rc = remove_dir(p, vdir, "empty version", err);
			changed |= manifest_remove(&m, ids[i]);
		}
		tn_free(vdir);
	}
	/* Entries whose folder is gone point at nothing. */
	for (i = m.n; !rc && i-- > 0;) {
		char *vdir = tn_xprintf("%s/%s", dsdir, m.v[i].id);
		if (!tn_fs_exists(vdir)) {
			if (p->fn)
				p->fn(p->arg, vdir, "missing version folder (manifest entry dropped)");
			changed |= manifest_remove(&m, m.v[i].id);
		}
		tn_free(vdir);
	}
	if (!rc && changed && !p->dry_run)
		rc = manifest_write(mpath, &m, err);
	if (!rc)
		prune_days(p, dsdir);
out:
	manifest_release(&m);
	free_list(ids, n);
	tn_free(dsdir);
	tn_free(mpath);
	return rc;
}

/* Staging folders are named <pid>-<uuid>; one whose process is gone is
 * the leftover of a crash. */
static int prune_staging(const struct prune *p, const char *raw, struct tn_err *err)
{
	char *tmp = tn_xprintf("%s" INGEST_TMP_DIR "/", raw), **v = NULL;
	size_t n = 0, i;
	int rc = datasets(tmp, &v, &n, err);

	for (i = 0; !rc && i < n; i++) {
		long pid = strtol(v[i], NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
			char *path = tn_xprintf("%s%s", tmp, v[i]);
			rc = remove_dir(p, path, "staging folder of an ingestion that did not finish", err);
			tn_free(path);
		}
	}
	free_list(v, n);
	tn_free(tmp);
	return rc;
}

int ingest_prune(struct lake *lk, int dry_run, ingest_prune_fn *fn, void *arg, struct tn_err *err)
{
	struct prune p = { dry_run, fn, arg };
	char *raw = ingest_raw_root(lk), **ds = NULL;
	size_t n = 0, i;
	int fd = -1, rc, remote = ingest_zone_remote(lk);

	if (!remote && !tn_fs_is_dir(raw)) {
		tn_free(raw);
		return 0;
	}
	rc = ingest_lock(raw, &fd, err);
	if (!rc && remote)
		rc = ingest_s3_prune(lk, raw, dry_run, fn, arg, err);
	else if (!rc)
		rc = datasets(raw, &ds, &n, err);
	for (i = 0; !rc && i < n; i++)
		rc = prune_dataset(&p, raw, ds[i], err);
	if (!rc)
		rc = prune_staging(&p, raw, err);
	ingest_unlock(fd);
	free_list(ds, n);
	tn_free(raw);
	return rc;
}

/* ---- the version a load reads ---- */

static void known_versions(struct tn_buf *b, const struct manifest *m)
{
	size_t i, from = m->n > 5 ? m->n - 5 : 0;

	for (i = m->n; i-- > from;)
		tn_buf_addf(b, "%s%s", i + 1 == m->n ? "" : ", ", m->v[i].id);
	if (from)
		tn_buf_adds(b, ", ...");
}

int ingest_open_version(struct lake *lk, const char *dataset, const char *id, struct manifest *m,
			char **dir, char **version, struct tn_err *err)
{
	char *raw = ingest_raw_root(lk), *name = ingest_slug(dataset), *mpath = NULL;
	const struct manifest_version *v;
	int rc = 0;

	*dir = *version = NULL;
	manifest_init(m, NULL);
	if (!name) {
		rc = tn_err_set(err, TN_EINVAL, "'%s' is not a dataset name", dataset);
		goto out;
	}
	mpath = ingest_manifest_path(raw, name);
	manifest_release(m);
	if (ingest_zone_remote(lk))
		rc = ingest_s3_get_manifest(lk, raw, name, m, err);
	else
		rc = manifest_read(mpath, m, err);
	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);
		rc = tn_err_set(err, TN_ENOTFOUND, "no dataset %s in the raw zone %s (see `tarn ingest ls`)",
				name, ingest_zone_remote(lk) ? "raw/ of the bucket" : raw);
		goto out;
	}
	if (rc)
		goto out;
	v = manifest_find(m, id ? id : "latest");
	if (!v) {
		struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
		known_versions(&b, m);
		if (!m->n)
			rc = tn_err_set(err, TN_ENOTFOUND, "dataset %s has no version yet (tarn ingest dataset "
					"SOURCE --name %s)", name, name);
		else
			rc = tn_err_set(err, TN_ENOTFOUND, "dataset %s has no version %s (it has %s)", name,
					id ? id : "latest", b.buf);
		tn_buf_release(&b);
		goto out;
	}
	if (ingest_zone_remote(lk))
		rc = ingest_s3_fetch_version(lk, raw, name, v->id, dir, err);
	else
		*dir = tn_xprintf("%s%s/%s", raw, name, v->id);
	if (!rc)
		*version = tn_strdup(v->id);
out:
	tn_free(mpath);
	tn_free(name);
	tn_free(raw);
	return rc;
}
