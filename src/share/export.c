/*
 * export.c - `tarn export dataset`: the tables of a schema, read at one
 * snapshot, written by DuckDB's COPY into a staging folder, checksummed,
 * then published as a new version folder and recorded in the dataset's
 * manifest.json.
 *
 * Order of visibility: the version folder appears in one rename (in a
 * bucket: every file uploaded), then the manifest that names it is replaced; a crash between them leaves a folder
 * the manifest does not list (and `export ls` does not show), never a
 * manifest entry without its files.
 */
#include "base/compat.h"
#include "share/export.h"
#include "share/digest.h"
#include "share/outdir.h"
#include "share/share_int.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <time.h>
#include <unistd.h>
#include <jansson.h>

/* A name made safe for one folder or file name: letters, digits, '_', '-'
 * and '.' are kept, anything else becomes '_', no leading '.'. Owned. */
static char *safe_name(const char *name)
{
	char *out = tn_strndup(name, strnlen(name, OUTDIR_NAME_MAX)), *p;

	for (p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '.'))
			*p = '_';
	if (out[0] == '.' || !out[0]) {
		char *fixed = tn_xprintf("_%s", out);
		tn_free(out);
		out = fixed;
	}
	return out;
}

/* "YYYY_MM_DD/HH_mm_SS_sss" for UTC time `us`. */
static void version_name(int64_t us, char out[64])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d_%02d_%02d/%02d_%02d_%02d_%03d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us / 1000 % 1000));
}

static json_t *columns_json(const struct share_table *t)
{
	json_t *cols = json_array();
	size_t i;

	for (i = 0; i < t->ncols; i++)
		json_array_append_new(cols, json_pack("{s:o, s:o, s:o}",
				"name", share_json_str(t->cols[i].name),
				"type", share_json_str(t->cols[i].type),
				"comment", share_json_str(t->cols[i].comment)));
	return cols;
}

static json_t *file_json(const struct share_table *t, const char *file, const struct digest *d,
			 int64_t rows)
{
	return json_pack("{s:o, s:o, s:o, s:I, s:s, s:I, s:o, s:o}",
			 "schema", share_json_str(t->schema), "table", share_json_str(t->name),
			 "file", share_json_str(file), "size", (json_int_t)d->size,
			 "sha256", d->sha256, "rows", (json_int_t)rows,
			 "comment", share_json_str(t->comment), "columns", columns_json(t));
}

/* The tables to export: o->tables, or every table of the schema. */
static int pick_tables(struct session *s, const struct export_opts *o, char ***names, size_t *n,
		       struct tn_err *err)
{
	size_t i;

	if (!o->tables)
		return share_schema_tables(s, o->schema, names, n, err);
	*names = tn_calloc(o->ntables, sizeof(**names));
	*n = o->ntables;
	for (i = 0; i < o->ntables; i++)
		(*names)[i] = tn_strdup(o->tables[i]);
	return 0;
}

/* The file of one table must not be the file of another ("a b" and "a_b"). */
static int check_unique(json_t *files, const char *file, struct tn_err *err)
{
	size_t i;
	json_t *f;

	json_array_foreach(files, i, f)
		if (!strcmp(share_json_get_str(f, "file"), file))
			return tn_err_set(err, TN_EINVAL, "two tables would both be written to %s; "
					  "export them separately with --tables", file);
	return 0;
}

/* COPY one table into the stage and describe it in `files`. */
static int export_table(struct session *s, struct outdir *od, const char *stage, const char *name,
			const struct export_opts *o, int64_t snap, json_t *files, struct export_info *info,
			struct tn_err *err)
{
	struct share_table t;
	struct digest d;
	char *base = NULL, *file = NULL, *key = NULL, *path = NULL;
	int64_t rows = 0;
	int exists = 1, rc = share_table_load(s, o->schema, name, &t, err);

	/* With --at and no --tables, tables made after that snapshot are left out. */
	if (!rc && o->at >= 0 && !o->tables)
		rc = share_table_at(s, &t, o->at, &exists, err);
	/* After a schema change the file has the columns of that snapshot. */
	if (!rc && exists && o->at >= 0)
		rc = share_table_columns_at(s, &t, o->at, err);
	if (rc || !exists) {
		share_table_release(&t);
		return rc;
	}
	base = safe_name(t.name);
	file = tn_xprintf("%s.%s", base, o->format);
	rc = check_unique(files, file, err);
	key = tn_xprintf("%s/%s", stage, file);
	path = outdir_path(od, key);
	if (!rc)
		rc = share_copy(s, &t, o->at, snap, o->format, path, &rows, err);
	if (!rc)
		rc = digest_file(path, DIGEST_SHA256 | DIGEST_SYNC, &d, err);
	if (!rc) {
		json_array_append_new(files, file_json(&t, file, &d, rows));
		info->nfiles++;
		info->rows += rows;
		info->bytes += d.size;
	}
	tn_free(path);
	tn_free(key);
	tn_free(file);
	tn_free(base);
	share_table_release(&t);
	return rc;
}

static int export_all(struct session *s, struct outdir *od, const char *stage, const struct export_opts *o,
		      int64_t snap, json_t *files, struct export_info *info, struct tn_err *err)
{
	char **names = NULL;
	size_t n = 0, i;
	int rc = pick_tables(s, o, &names, &n, err);

	for (i = 0; !rc && i < n; i++)
		rc = export_table(s, od, stage, names[i], o, snap, files, info, err);
	share_names_free(names, n);
	return rc;
}

/* Rename the stage to a fresh version folder; two exports in one
 * millisecond get the next millisecond. */
static int publish_version(struct outdir *od, const char *stage, const char *dataset_key,
			   char version[64], int64_t *created, struct tn_err *err)
{
	int tries, rc = TN_ECONFLICT;

	for (tries = 0; rc == TN_ECONFLICT && tries < 1000; tries++) {
		char *to;
		*created = tn_now_us();
		version_name(*created, version);
		to = tn_xprintf("%s/%s", dataset_key, version);
		tn_err_clear(err);
		rc = outdir_publish(od, stage, to, err);
		tn_free(to);
		if (rc == TN_ECONFLICT)
			usleep(1000);
	}
	return rc;
}

/* Add the version to the dataset's manifest (created on first export). */
static int record_version(struct outdir *od, const char *dataset_key, const struct export_opts *o,
			  const char *dataset, json_t *entry, struct tn_err *err)
{
	char *key = tn_xprintf("%s/%s", dataset_key, EXPORT_MANIFEST);
	json_t *m = NULL, *versions;
	int rc = share_json_load(od, key, &m, err);

	if (!rc && !m)
		m = json_pack("{s:i, s:o, s:o, s:o, s:o, s:[]}", "manifest_version", 1,
			      "domain", share_json_str(o->domain), "dataset", share_json_str(dataset),
			      "schema", share_json_str(o->schema), "latest", json_null(), "versions");
	versions = m ? json_object_get(m, "versions") : NULL;
	if (!rc && !json_is_array(versions))
		rc = tn_err_set(err, TN_EINVAL, "%s/%s has no \"versions\" list; restore it from a copy "
				"or remove it", outdir_root(od), key);
	if (!rc) {
		json_object_set(m, "latest", json_object_get(entry, "version"));
		json_array_append(versions, entry);
		rc = share_json_save(od, key, m, err);
	}
	json_decref(m);
	tn_free(key);
	return rc;
}

static json_t *version_json(const char *version, int64_t created, const struct export_opts *o,
			    int64_t snap, json_t *files, const struct export_info *info)
{
	char iso[64];

	share_iso_time(created, iso);
	return json_pack("{s:s, s:s, s:s, s:I, s:o, s:s, s:I, s:I, s:O}",
			 "version", version, "path", version, "created", iso, "snapshot", (json_int_t)snap,
			 "at", o->at >= 0 ? json_integer(o->at) : json_null(), "format", o->format,
			 "rows", (json_int_t)info->rows, "bytes", (json_int_t)info->bytes, "files", files);
}

/* Publish the stage and record it, under the dataset's lock. */
static int publish(struct outdir *od, const char *stage, const char *dataset_key, const struct export_opts *o,
		   int64_t snap, json_t *files, struct export_info *info, struct tn_err *err)
{
	char version[64];
	int64_t created = 0;
	json_t *entry;
	int lock = -1;
	int rc = outdir_lock(od, dataset_key, &lock, err);

	if (!rc)
		rc = publish_version(od, stage, dataset_key, version, &created, err);
	if (rc) {
		outdir_unlock(lock);
		return rc;
	}
	entry = version_json(version, created, o, snap, files, info);
	rc = record_version(od, dataset_key, o, info->dataset, entry, err);
	if (rc) {
		/* Unrecorded files help nobody: take the version back. */
		char *key = tn_xprintf("%s/%s", dataset_key, version);
		struct tn_err ignore = TN_ERR_INIT;
		outdir_remove(od, key, &ignore);
		tn_free(key);
	}
	json_decref(entry);
	outdir_unlock(lock);
	info->version = tn_strdup(version);
	return rc;
}

static int check_opts(const struct export_opts *o, struct tn_err *err)
{
	if (!outdir_name_ok(o->domain))
		return tn_err_set(err, TN_EINVAL, "'%s' cannot be a domain folder: use 1 to %d letters, "
				  "digits, '_', '-' or '.', not starting with '.'", o->domain, OUTDIR_NAME_MAX);
	if (!share_format_ok(o->format))
		return tn_err_set(err, TN_EINVAL, "unknown export format '%s': use parquet, csv or json",
				  o->format);
	return 0;
}

/* The export proper, inside BEGIN … ROLLBACK so every table is read at the
 * same snapshot even while others commit. */
static int run_export(struct session *s, struct outdir *od, const struct export_opts *o,
		      struct export_info *info, struct tn_err *err)
{
	char *stage = NULL, *dataset_key = tn_xprintf("%s/%s", o->domain, info->dataset);
	json_t *files = json_array();
	int rc = outdir_stage(od, &stage, err);

	if (!rc)
		rc = share_snapshot(s, o->at, &info->snapshot, err);
	if (!rc)
		rc = export_all(s, od, stage, o, info->snapshot, files, info, err);
	if (!rc)
		rc = publish(od, stage, dataset_key, o, info->snapshot, files, info, err);
	if (rc && stage) {
		struct tn_err ignore = TN_ERR_INIT;
		outdir_remove(od, stage, &ignore);
	}
	if (!rc)
		info->path = tn_xprintf("%s/%s/%s", outdir_root(od), dataset_key, info->version);
	json_decref(files);
	tn_free(dataset_key);
	tn_free(stage);
	return rc;
}

int export_dataset(struct session *s, struct lake *lk, const struct export_opts *o_in,
		   struct export_info *info, struct tn_err *err)
{
	struct export_opts o = *o_in;
	struct outdir *od = NULL;
	int rc;

	memset(info, 0, sizeof(*info));
	if (!o.format)
		o.format = "parquet";
	rc = check_opts(&o, err);
	if (rc)
		return rc;
	info->dataset = safe_name(o.schema);
	rc = share_open_exports(lk, 1, &od, err);
	if (!rc)
		rc = session_exec(s, "BEGIN", NULL, err);
	if (!rc) {
		struct tn_err ignore = TN_ERR_INIT;
		rc = run_export(s, od, &o, info, err);
		session_exec(s, "ROLLBACK", NULL, &ignore);   /* nothing was written to the lake */
	}
	outdir_close(od);
	return rc;
}

void export_info_release(struct export_info *info)
{
	tn_free(info->dataset);
	tn_free(info->version);
	tn_free(info->path);
	memset(info, 0, sizeof(*info));
}
