/*
 * export_ls.c - `tarn export ls` and `tarn export prune`: both read the
 * manifests; prune edits a manifest first and deletes folders after it,
 * so a manifest never lists a version whose files are gone.
 */
#include "base/compat.h"
#include "share/export.h"
#include "share/outdir.h"
#include "share/share_int.h"
#include "lake/lake.h"
#include "store/store.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <time.h>
#include <jansson.h>

/* Staging folders older than this were left by a crashed export. */
#define STALE_STAGE_US (24LL * 3600 * 1000000)

int share_open_exports(struct lake *lk, int create, struct outdir **od, struct tn_err *err)
{
	char *root = tn_fs_join(lake_dir(lk), EXPORT_DIR);
	struct store *st = lake_store(lk);
	int rc;

	if (st && !strcmp(store_kind(st), "s3"))
		rc = outdir_open_store(od, st, 0, EXPORT_DIR "/", root, err);
	else
		rc = outdir_open(od, root, create, err);
	tn_free(root);
	return rc;
}

static int open_exports(struct lake *lk, struct outdir **od, struct tn_err *err)
{
	int rc = share_open_exports(lk, 0, od, err);

	if (rc == TN_ENOTFOUND) {
		tn_err_clear(err);   /* no exports yet: nothing to list or prune */
		*od = NULL;
		return 0;
	}
	return rc;
}

static void version_fill(struct export_version *v, const char *domain, const char *dataset,
			 const json_t *e, const char *latest)
{
	const char *name = share_json_get_str(e, "version");

	memset(v, 0, sizeof(*v));
	v->domain = tn_strdup(domain);
	v->dataset = tn_strdup(dataset);
	v->version = tn_strdup(name ? name : "");
	v->created = tn_strdup(share_json_get_str(e, "created") ? share_json_get_str(e, "created") : "");
	v->format = tn_strdup(share_json_get_str(e, "format") ? share_json_get_str(e, "format") : "");
	v->snapshot = share_json_get_int(e, "snapshot");
	v->rows = share_json_get_int(e, "rows");
	v->bytes = share_json_get_int(e, "bytes");
	v->files = (int64_t)json_array_size(json_object_get(e, "files"));
	v->latest = name && latest && !strcmp(name, latest);
}

static void push_version(struct export_version **out, size_t *n, size_t *alloc, const char *domain,
			 const char *dataset, const json_t *e, const char *latest)
{
	TN_GROW(*out, *alloc, *n + 1);
	version_fill(&(*out)[(*n)++], domain, dataset, e, latest);
}

/* Versions of one dataset's manifest, oldest first (version names sort by time). */
static int cmp_entries(const void *a, const void *b)
{
	const char *x = share_json_get_str(*(json_t *const *)a, "version");
	const char *y = share_json_get_str(*(json_t *const *)b, "version");

	return strcmp(x ? x : "", y ? y : "");
}

static json_t **sorted_entries(json_t *m, size_t *n)
{
	json_t *versions = json_object_get(m, "versions"), *e, **out;
	size_t i;

	*n = json_array_size(versions);
	out = tn_calloc(*n, sizeof(*out));
	json_array_foreach(versions, i, e)
		out[i] = e;
	if (*n)
		qsort(out, *n, sizeof(*out), cmp_entries);
	return out;
}

static int list_dataset(struct outdir *od, const char *domain, const char *dataset, int all,
			struct export_version **out, size_t *n, size_t *alloc, struct tn_err *err)
{
	char *key = tn_xprintf("%s/%s/%s", domain, dataset, EXPORT_MANIFEST);
	json_t *m = NULL, **entries = NULL;
	size_t i, ne = 0;
	int rc = share_json_load(od, key, &m, err);

	if (!rc && m) {
		const char *latest = share_json_get_str(m, "latest");
		entries = sorted_entries(m, &ne);
		for (i = 0; i < ne; i++) {
			const char *name = share_json_get_str(entries[i], "version");
			if (all || (name && latest && !strcmp(name, latest)))
				push_version(out, n, alloc, domain, dataset, entries[i], latest);
		}
	}
	tn_free(entries);
	json_decref(m);
	tn_free(key);
	return rc;
}

/* Call fn for every dataset folder that matches the filters. */
typedef int dataset_fn(struct outdir *od, const char *domain, const char *dataset, void *arg,
		       struct tn_err *err);

static int each_dataset(struct outdir *od, const char *domain, const char *dataset, dataset_fn *fn,
			void *arg, struct tn_err *err)
{
	char **doms = NULL, **sets = NULL;
	size_t nd = 0, ns = 0, i, j;
	int rc = outdir_list(od, "", 1, &doms, &nd, err);

	for (i = 0; !rc && i < nd; i++) {
		if ((domain && strcmp(domain, doms[i])) || !outdir_name_ok(doms[i]))
			continue;
		rc = outdir_list(od, doms[i], 1, &sets, &ns, err);
		for (j = 0; !rc && j < ns; j++)
			if (!dataset || !strcmp(dataset, sets[j]))
				rc = fn(od, doms[i], sets[j], arg, err);
		outdir_names_free(sets, ns);
		sets = NULL;
		ns = 0;
	}
	outdir_names_free(doms, nd);
	return rc;
}

struct list_arg {
	int all;
	struct export_version *out;
	size_t n, alloc;
};

static int list_one(struct outdir *od, const char *domain, const char *dataset, void *arg,
		    struct tn_err *err)
{
	struct list_arg *a = arg;

	return list_dataset(od, domain, dataset, a->all, &a->out, &a->n, &a->alloc, err);
}

int export_list(struct lake *lk, const char *domain, const char *dataset, int all,
		struct export_version **out, size_t *n, struct tn_err *err)
{
	struct list_arg a = { all, NULL, 0, 0 };
	struct outdir *od = NULL;
	int rc = open_exports(lk, &od, err);

	if (!rc && od)
		rc = each_dataset(od, domain, dataset, list_one, &a, err);
	outdir_close(od);
	if (rc) {
		export_versions_free(a.out, a.n);
		a.out = NULL;
		a.n = 0;
	}
	*out = a.out;
	*n = a.n;
	return rc;
}

void export_versions_free(struct export_version *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		tn_free(v[i].domain);
		tn_free(v[i].dataset);
		tn_free(v[i].version);
		tn_free(v[i].created);
		tn_free(v[i].format);
	}
	tn_free(v);
}

/* ---- prune ---- */

/* The UTC time a version folder name stands for, in microseconds; -1 when
 * the name is not YYYY_MM_DD/HH_mm_SS_sss. */
static int64_t version_time(const char *name)
{
	struct tm tm;
	int ms = 0, used = 0;

	memset(&tm, 0, sizeof(tm));
	if (!name || sscanf(name, "%4d_%2d_%2d/%2d_%2d_%2d_%3d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &used) != 7 || name[used])
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000000 + ms * 1000;
}

struct prune_arg {
	const struct export_prune_opts *o;
	int64_t now;
	struct export_version *out;
	size_t n, alloc;
};

/* Whether the rules select entry i of n (oldest first). */
static int selected(const struct prune_arg *a, const json_t *e, size_t i, size_t n, const char *latest)
{
	const char *name = share_json_get_str(e, "version");
	int64_t t = version_time(name);

	if (!name || (latest && !strcmp(name, latest)) || i + 1 == n)
		return 0;
	if (a->o->keep >= 0 && (int64_t)(n - i) <= a->o->keep)
		return 0;
	if (a->o->older_than >= 0 && (t < 0 || t > a->now - a->o->older_than * 1000000))
		return 0;
	return 1;
}

/* Remove the entries named in `gone` from the manifest's list. */
static void drop_entries(json_t *m, struct export_version *gone, size_t ngone)
{
	json_t *versions = json_object_get(m, "versions");
	size_t i, j;

	for (i = json_array_size(versions); i-- > 0;) {
		const char *name = share_json_get_str(json_array_get(versions, i), "version");
		for (j = 0; name && j < ngone; j++)
			if (!strcmp(gone[j].version, name)) {
				json_array_remove(versions, i);
				break;
			}
	}
}

/* Delete the folders of the pruned versions, and date folders left empty. */
static int remove_folders(struct outdir *od, const char *domain, const char *dataset,
			  const struct export_version *gone, size_t ngone, struct tn_err *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < ngone; i++) {
		char *key = tn_xprintf("%s/%s/%s", domain, dataset, gone[i].version);
		char *slash = strrchr(key, '/');
		rc = outdir_remove(od, key, err);
		*slash = '\0';   /* the YYYY_MM_DD folder */
		if (!rc)
			rc = outdir_remove_empty(od, key, err);
		tn_free(key);
	}
	return rc;
}

static int prune_manifest(struct outdir *od, const char *domain, const char *dataset, const char *key,
			  struct prune_arg *a, struct tn_err *err)
{
	json_t *m = NULL, **entries = NULL;
	size_t i, ne = 0, first = a->n;
	int rc = share_json_load(od, key, &m, err);

	if (rc || !m)
		return rc;
	entries = sorted_entries(m, &ne);
	for (i = 0; i < ne; i++)
		if (selected(a, entries[i], i, ne, share_json_get_str(m, "latest")))
			push_version(&a->out, &a->n, &a->alloc, domain, dataset, entries[i],
				     share_json_get_str(m, "latest"));
	if (!a->o->dry_run && a->n > first) {
		drop_entries(m, a->out + first, a->n - first);
		rc = share_json_save(od, key, m, err);
		if (!rc)
			rc = remove_folders(od, domain, dataset, a->out + first, a->n - first, err);
	}
	tn_free(entries);
	json_decref(m);
	return rc;
}

static int prune_one(struct outdir *od, const char *domain, const char *dataset, void *arg,
		     struct tn_err *err)
{
	char *dkey = tn_xprintf("%s/%s", domain, dataset);
	char *key = tn_xprintf("%s/%s", dkey, EXPORT_MANIFEST);
	int lock = -1, rc = outdir_lock(od, dkey, &lock, err);

	if (!rc)
		rc = prune_manifest(od, domain, dataset, key, arg, err);
	outdir_unlock(lock);
	tn_free(key);
	tn_free(dkey);
	return rc;
}

/* Milliseconds since the epoch in a UUIDv7's first 48 bits; -1 if not one. */
static int64_t uuid7_ms(const char *s)
{
	int64_t ms = 0;
	int i;

	if (strlen(s) != 36 || s[8] != '-')
		return -1;
	for (i = 0; i < 13; i++) {
		char c = s[i];
		if (i == 8)
			continue;
		if (c >= '0' && c <= '9')
			ms = ms * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			ms = ms * 16 + (c - 'a' + 10);
		else
			return -1;
	}
	return ms;
}

static int remove_stale_stages(struct outdir *od, int64_t now, struct tn_err *err)
{
	char **names = NULL;
	size_t n = 0, i;
	int rc = outdir_list(od, ".staging", 1, &names, &n, err);

	for (i = 0; !rc && i < n; i++) {
		int64_t ms = uuid7_ms(names[i]);
		char *key;
		if (ms < 0 || ms * 1000 > now - STALE_STAGE_US)
			continue;
		key = tn_xprintf(".staging/%s", names[i]);
		rc = outdir_remove(od, key, err);
		tn_free(key);
	}
	outdir_names_free(names, n);
	return rc;
}

int export_prune(struct lake *lk, const struct export_prune_opts *o,
		 struct export_version **removed, size_t *n, struct tn_err *err)
{
	struct prune_arg a = { o, tn_now_us(), NULL, 0, 0 };
	struct outdir *od = NULL;
	int rc = open_exports(lk, &od, err);

	if (!rc && od)
		rc = each_dataset(od, o->domain, o->dataset, prune_one, &a, err);
	if (!rc && od && !o->dry_run)
		rc = remove_stale_stages(od, a.now, err);
	outdir_close(od);
	*removed = a.out;
	*n = a.n;
	return rc;
}
