/*
 * fsck: the consistency check every test ends with. Problems make a lake
 * inconsistent (a gap in snapshot ids, a referenced file missing or of the
 * wrong size, a dangling id); orphans (files no snapshot refers to, e.g.
 * from a crash before the commit point) are only listed.
 */
#include "base/compat.h"
#include "lake/lake_int.h"
#include "base/tn_mem.h"
#include "base/tn_fs.h"
#include "store/store.h"

#include <dirent.h>
#include <sys/stat.h>

static void problem(struct lake_fsck_report *rep, char *msg)
{
	rep->problems = tn_realloc(rep->problems, (rep->nproblems + 1) * sizeof(char *));
	rep->problems[rep->nproblems++] = msg;
}

/* Each check is a query returning one message per problem row. */
static const char *checks[] = {
	/* contiguous from the oldest kept one (expiry forgets the older ones) */
	"SELECT 'snapshot ids are not contiguous: ' || count(*) || ' snapshots, ids ' || min(snapshot_id) "
	"|| '..' || max(snapshot_id) FROM ducklake_snapshot HAVING count(*) <> max(snapshot_id) - min(snapshot_id) + 1",
	"SELECT 'snapshot ' || s.snapshot_id || ' has no snapshot_changes row' FROM ducklake_snapshot s "
	"WHERE NOT EXISTS (SELECT 1 FROM ducklake_snapshot_changes c WHERE c.snapshot_id = s.snapshot_id)",
	"SELECT 'schema_version goes down at snapshot ' || b.snapshot_id FROM ducklake_snapshot a JOIN "
	"ducklake_snapshot b ON b.snapshot_id = a.snapshot_id + 1 WHERE b.schema_version < a.schema_version",
	"SELECT 'data file ' || f.data_file_id || ' belongs to unknown table ' || f.table_id FROM ducklake_data_file f "
	"WHERE NOT EXISTS (SELECT 1 FROM ducklake_table t WHERE t.table_id = f.table_id)",
	"SELECT 'delete file ' || d.delete_file_id || ' points at unknown data file ' || d.data_file_id "
	"FROM ducklake_delete_file d WHERE NOT EXISTS (SELECT 1 FROM ducklake_data_file f WHERE f.data_file_id = d.data_file_id)",
	"SELECT 'data file ' || data_file_id || ' has ' || count(*) || ' live delete files' FROM ducklake_delete_file "
	"WHERE end_snapshot IS NULL GROUP BY data_file_id HAVING count(*) > 1",
	"SELECT 'column ' || c.column_id || ' belongs to unknown table ' || c.table_id FROM ducklake_column c "
	"WHERE NOT EXISTS (SELECT 1 FROM ducklake_table t WHERE t.table_id = c.table_id) GROUP BY 1",
	"SELECT 'table ' || t.table_id || ' is in unknown schema ' || t.schema_id FROM ducklake_table t "
	"WHERE NOT EXISTS (SELECT 1 FROM ducklake_schema s WHERE s.schema_id = t.schema_id) GROUP BY 1",
	"SELECT 'id ' || max(data_file_id) || ' is not below next_file_id ' || (SELECT max(next_file_id) FROM "
	"ducklake_snapshot) FROM (SELECT data_file_id FROM ducklake_data_file UNION ALL SELECT delete_file_id FROM "
	"ducklake_delete_file) AS ids HAVING max(data_file_id) >= (SELECT max(next_file_id) FROM ducklake_snapshot)",
	"SELECT 'snapshot ' || begin_snapshot || ' is referenced but does not exist' FROM (SELECT begin_snapshot FROM "
	"ducklake_data_file UNION SELECT begin_snapshot FROM ducklake_table UNION SELECT begin_snapshot FROM "
	"ducklake_column) AS refs WHERE begin_snapshot > (SELECT max(snapshot_id) FROM ducklake_snapshot)",
};

static int run_checks(struct catalog *cat, struct lake_fsck_report *rep, struct tn_err *err)
{
	struct catalog_stmt *st;
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < TN_ARRAY_LEN(checks); i++) {
		rc = catalog_prepare(cat, checks[i], &st, err);
		while (!rc && (rc = catalog_step(st, err)) == 1) {
			problem(rep, tn_strdup(catalog_col_text(st, 0)));
			rc = 0;
		}
		catalog_finalize(st);
		rc = rc < 0 ? rc : 0;
	}
	return rc;
}

struct refs {
	char **paths;
	size_t n, alloc;
};

/* Files expiry scheduled for deletion are known, not orphans (their
 * paths are stored whole). */
static int scheduled_files(struct catalog *cat, struct refs *refs, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(cat, "SELECT path FROM ducklake_files_scheduled_for_deletion", &st, err);

	while (!rc && (rc = catalog_step(st, err)) == 1) {
		rc = 0;
		TN_GROW(refs->paths, refs->alloc, refs->n + 1);
		refs->paths[refs->n++] = catalog_col_dup(st, 0);
	}
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

/* What a remote store holds, listed once: keys (sorted) and sizes. */
struct listing {
	char **keys;
	int64_t *sizes;
	size_t n, alloc, asz;
};

static int list_one(void *arg, const char *key, int64_t size)
{
	struct listing *l = arg;

	TN_GROW(l->keys, l->alloc, l->n + 1);
	TN_GROW(l->sizes, l->asz, l->n + 1);
	l->keys[l->n] = tn_strdup(key);
	l->sizes[l->n++] = size;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Size of a lake file: from the file system, or from the store's listing. */
static int size_of(struct lake *lk, const struct listing *l, const char *path, int64_t *size)
{
	struct tn_err e = TN_ERR_INIT;
	const char *key;
	char **hit;

	if (!lk->remote)
		return tn_fs_size(path, size, &e);
	key = files_key(lk, path);
	hit = key && l->n ? bsearch(&key, l->keys, l->n, sizeof(char *), cmp_key) : NULL;
	if (!hit)
		return TN_ENOTFOUND;
	*size = l->sizes[hit - l->keys];
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every referenced file: present, of its recorded size (when some snapshot sees it). */
static int check_files(struct lake *lk, struct catalog *cat, const struct listing *l,
		       struct lake_fsck_report *rep, struct refs *refs, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(cat,
		"SELECT f.path, f.path_is_relative, f.file_size_bytes, f.begin_snapshot, f.end_snapshot, "
		"(SELECT sp.path || tp.path FROM ducklake_table tp JOIN ducklake_schema sp ON sp.schema_id = tp.schema_id "
		" WHERE tp.table_id = f.table_id ORDER BY tp.begin_snapshot DESC LIMIT 1), 'data' FROM ducklake_data_file f "
		"UNION ALL SELECT d.path, d.path_is_relative, d.file_size_bytes, d.begin_snapshot, d.end_snapshot, "
		"(SELECT sp.path || tp.path FROM ducklake_table tp JOIN ducklake_schema sp ON sp.schema_id = tp.schema_id "
		" WHERE tp.table_id = d.table_id ORDER BY tp.begin_snapshot DESC LIMIT 1), 'delete' FROM ducklake_delete_file d",
		&st, err);

	if (rc)
		return rc;
	while ((rc = catalog_step(st, err)) == 1) {
		const char *rel = catalog_col_text(st, 0), *tdir = catalog_col_text(st, 5);
		int live = catalog_col_is_null(st, 4) || catalog_col_int(st, 4) > catalog_col_int(st, 3);
		char *dir = tn_xprintf("%s%s", lk->data_path, tdir ? tdir : "");
		char *path = meta_resolve(dir, rel ? rel : "", (int)catalog_col_int(st, 1));
		int64_t size = 0;

		tn_free(dir);
		if (live && size_of(lk, l, path, &size))
			problem(rep, tn_xprintf("%s file %s is missing", catalog_col_text(st, 6), path));
		else if (live && size != catalog_col_int(st, 2))
			problem(rep, tn_xprintf("%s file %s has %lld bytes, the catalog says %lld",
						catalog_col_text(st, 6), path, (long long)size,
						(long long)catalog_col_int(st, 2)));
		if (live)
			rep->files++;
		TN_GROW(refs->paths, refs->alloc, refs->n + 1);
		refs->paths[refs->n++] = path;
	}
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

static void find_orphans(const char *root, const char *dir, struct refs *refs, struct lake_fsck_report *rep)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.')
			continue;
		p = tn_fs_join(dir, e->d_name);
		if (tn_fs_is_dir(p)) {
			find_orphans(root, p, refs, rep);
		} else if (n > 8 && !strcmp(e->d_name + n - 8, ".parquet") &&
			   (!refs->n || !bsearch(&p, refs->paths, refs->n, sizeof(char *), cmp_str))) {
			rep->orphans = tn_realloc(rep->orphans, (rep->norphans + 1) * sizeof(char *));
			rep->orphans[rep->norphans++] = tn_strdup(p + strlen(root));
		}
		tn_free(p);
	}
	closedir(d);
}

static void remote_orphans(struct lake *lk, const struct listing *l, struct refs *refs,
			   struct lake_fsck_report *rep)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		size_t n = strlen(l->keys[i]);
		char *path;
		if (n < 8 || strcmp(l->keys[i] + n - 8, ".parquet"))
			continue;
		path = tn_xprintf("%s%s", store_url(lk->store), l->keys[i]);
		if (!refs->n || !bsearch(&path, refs->paths, refs->n, sizeof(char *), cmp_str)) {
			rep->orphans = tn_realloc(rep->orphans, (rep->norphans + 1) * sizeof(char *));
			rep->orphans[rep->norphans++] = tn_strdup(l->keys[i]);
		}
		tn_free(path);
	}
}

int lake_fsck(struct lake *lk, struct lake_fsck_report *rep, struct tn_err *err)
{
	struct catalog *cat = NULL;
	struct listing l = { NULL, NULL, 0, 0, 0 };
	struct refs refs = { NULL, 0, 0 };
	char *integrity = NULL;
	size_t i;
	int rc;

	memset(rep, 0, sizeof(*rep));
	rc = catalog_open(&cat, lk->catalog_path, 0, err);
	if (!rc)
		rc = catalog_integrity(cat, &integrity, err);
	if (!rc && integrity && strcmp(integrity, "ok"))
		problem(rep, tn_xprintf("catalog database: %s", integrity));
	if (!rc)
		rc = run_checks(cat, rep, err);
	if (!rc)
		rc = catalog_get_int(cat, "SELECT count(*) FROM ducklake_snapshot", &rep->snapshots, NULL, err, 0);
	if (!rc)
		rc = catalog_get_int(cat, "SELECT count(DISTINCT table_id) FROM ducklake_table WHERE end_snapshot IS NULL",
				     &rep->tables, NULL, err, 0);
	if (!rc && lk->remote) {
		rc = store_list(lk->store, "", list_one, &l, err);
		/* store_list gives keys in byte order, which is what bsearch needs. */
	}
	if (!rc)
		rc = check_files(lk, cat, &l, rep, &refs, err);
	if (!rc)
		rc = scheduled_files(cat, &refs, err);
	if (!rc && lk->remote) {
		if (refs.n)
			qsort(refs.paths, refs.n, sizeof(char *), cmp_str);
		remote_orphans(lk, &l, &refs, rep);
	} else if (!rc) {
		char *root = tn_strdup(lk->data_path);
		size_t n = strlen(root);
		if (n > 1 && root[n - 1] == '/')
			root[n - 1] = '\0';
		if (refs.n)
			qsort(refs.paths, refs.n, sizeof(char *), cmp_str);
		find_orphans(lk->data_path, root, &refs, rep);
		tn_free(root);
	}
	for (i = 0; i < refs.n; i++)
		tn_free(refs.paths[i]);
	tn_free(refs.paths);
	for (i = 0; i < l.n; i++)
		tn_free(l.keys[i]);
	tn_free(l.keys);
	tn_free(l.sizes);
	tn_free(integrity);
	catalog_close(cat);
	return rc;
}

void lake_fsck_report_release(struct lake_fsck_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nproblems; i++)
		tn_free(rep->problems[i]);
	for (i = 0; i < rep->norphans; i++)
		tn_free(rep->orphans[i]);
	tn_free(rep->problems);
	tn_free(rep->orphans);
	memset(rep, 0, sizeof(*rep));
}
