/*
 * pins.c - `tarn export pins`: each table is copied by DuckDB into a
 * staging folder of the lake, hashed (XXH64, as pins does), moved into its
 * version folder on the board, described by data.txt, and finally listed
 * in the board's _pins.yaml. Format notes: shared/ref/pins-board-format.md.
 */
#include "base/compat.h"
#include "share/pins.h"
#include "share/digest.h"
#include "share/export.h"
#include "share/outdir.h"
#include "share/share_int.h"
#include "share/yamlw.h"
#include "base/tn_fs.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"

#include <time.h>

#define DATA_TXT "data.txt"

struct pin_spec {
	char *schema, *table, *pin;
};

/* pins' "created": UTC to the second, 20221215T180351Z. */
static void compact_time(int64_t us, char out[64])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int pin_name_ok(const char *pin)
{
	return outdir_name_ok(pin) && strcmp(pin, PINS_MANIFEST) != 0;
}

/* "SCHEMA.TABLE[=PIN]" or "TABLE[=PIN]". */
static int parse_spec(const char *arg, struct pin_spec *sp, struct tn_err *err)
{
	const char *eq = strchr(arg, '='), *end = eq ? eq : arg + strlen(arg);
	const char *dot = memchr(arg, '.', (size_t)(end - arg));

	memset(sp, 0, sizeof(*sp));
	sp->schema = dot ? tn_strndup(arg, (size_t)(dot - arg)) : tn_strdup("main");
	sp->table = dot ? tn_strndup(dot + 1, (size_t)(end - dot - 1)) : tn_strndup(arg, (size_t)(end - arg));
	sp->pin = tn_strdup(eq ? eq + 1 : sp->table);
	if (!*sp->schema || !*sp->table)
		return tn_err_set(err, TN_EINVAL, "'%s' is not SCHEMA.TABLE[=PIN]", arg);
	if (!pin_name_ok(sp->pin))
		return tn_err_set(err, TN_EINVAL, "'%s' cannot be a pin name: use 1 to %d letters, digits, "
				  "'_', '-' or '.', not starting with '.' (name the pin with %s.%s=PIN)",
				  sp->pin, OUTDIR_NAME_MAX, sp->schema, sp->table);
	return 0;
}

static void spec_release(struct pin_spec *sp)
{
	tn_free(sp->schema);
	tn_free(sp->table);
	tn_free(sp->pin);
}

static int parse_specs(const struct pins_opts *o, struct pin_spec *specs, struct tn_err *err)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; !rc && i < o->ntables; i++) {
		rc = parse_spec(o->tables[i], &specs[i], err);
		for (j = 0; !rc && j < i; j++)
			if (!strcmp(specs[i].pin, specs[j].pin))
				rc = tn_err_set(err, TN_EINVAL, "two tables would both be pin '%s'; name one "
						"with SCHEMA.TABLE=PIN", specs[i].pin);
	}
	return rc;
}

/* ---- data.txt ---- */

struct pin_file {
	const char *pin, *file, *type, *created;
	const struct digest *d;
	int64_t rows, snapshot;
};

static void user_meta(struct yamlw *w, const struct share_table *t, const struct pin_file *f)
{
	char *source = tn_xprintf("%s.%s", t->schema, t->name);
	size_t i;

	yamlw_str(w, "user");
	yamlw_map_begin(w);
	yamlw_kv_str(w, "source", source);
	yamlw_kv_int(w, "snapshot", f->snapshot);
	yamlw_str(w, "columns");
	yamlw_map_begin(w);
	for (i = 0; i < t->ncols; i++)
		yamlw_kv_str(w, t->cols[i].name, t->cols[i].comment);
	yamlw_map_end(w);
	yamlw_map_end(w);
	tn_free(source);
}

/* The fields R's standard_meta writes, in its order, then `user`. */
static int data_txt(const struct share_table *t, const struct pin_file *f, char **text, size_t *len,
		    struct tn_err *err)
{
	struct yamlw *w = yamlw_new();
	char *title = tn_xprintf("%s: a pinned %lld x %zu data frame", f->pin, (long long)f->rows, t->ncols);
	int rc;

	yamlw_map_begin(w);
	yamlw_kv_str(w, "file", f->file);
	yamlw_kv_int(w, "file_size", f->d->size);
	yamlw_kv_str(w, "pin_hash", f->d->xxh64);
	yamlw_kv_str(w, "type", f->type);
	yamlw_kv_str(w, "title", title);
	yamlw_kv_str(w, "description", t->comment);
	yamlw_kv_str(w, "tags", NULL);
	yamlw_kv_str(w, "urls", NULL);
	yamlw_kv_str(w, "created", f->created);
	yamlw_kv_int(w, "api_version", 1);
	user_meta(w, t, f);
	yamlw_map_end(w);
	rc = yamlw_finish(w, text, len, err);
	yamlw_free(w);
	tn_free(title);
	return rc;
}

/* ---- versions on the board ---- */

/* The complete versions of a pin (those with a data.txt), oldest first. */
static int pin_versions(struct outdir *board, const char *pin, char ***out, size_t *n, struct tn_err *err)
{
	char **all = NULL;
	size_t na = 0, i;
	int rc = outdir_list(board, pin, 1, &all, &na, err);

	*out = tn_calloc(na, sizeof(**out));
	*n = 0;
	for (i = 0; !rc && i < na; i++) {
		char *key = tn_xprintf("%s/%s/%s", pin, all[i], DATA_TXT);
		int yes = 0;
		rc = outdir_exists(board, key, &yes, err);
		if (!rc && yes)
			(*out)[(*n)++] = tn_strdup(all[i]);
		tn_free(key);
	}
	outdir_names_free(all, na);
	return rc;
}

/* Whether the newest version of `pin` holds a file with this XXH64. */
static int same_as_newest(struct outdir *board, const char *pin, const char *hash, int *same,
			  struct tn_err *err)
{
	char **versions = NULL, *text = NULL, *key;
	size_t n = 0, len;
	int rc = pin_versions(board, pin, &versions, &n, err);

	*same = 0;
	if (!rc && n) {
		key = tn_xprintf("%s/%s/%s", pin, versions[n - 1], DATA_TXT);
		rc = outdir_get(board, key, &text, &len, err);
		*same = !rc && strstr(text, hash) != NULL;
		tn_free(key);
		tn_free(text);
	}
	outdir_names_free(versions, n);
	return rc;
}

/* Move the staged data file into its version folder, then data.txt. */
static int place_version(struct outdir *board, const char *staged, const struct share_table *t,
			 const struct pin_file *f, const char *version, struct tn_err *err)
{
	char *dir = tn_xprintf("%s/%s", f->pin, version), *key, *text = NULL;
	size_t len = 0;
	int yes = 0, placed_before, rc = outdir_exists(board, dir, &yes, err);

	if (!rc && yes)
		rc = tn_err_set(err, TN_ECONFLICT, "pin %s already has a version %s (a second write in one "
				"second); try again", f->pin, version);
	placed_before = rc != 0;
	key = tn_xprintf("%s/%s", dir, f->file);
	if (!rc)
		rc = outdir_import(board, staged, key, err);
	tn_free(key);
	if (!rc)
		rc = data_txt(t, f, &text, &len, err);
	key = tn_xprintf("%s/%s", dir, DATA_TXT);
	if (!rc)
		rc = outdir_put(board, key, text, len, err);
	if (rc && !placed_before) {
		/* A version folder without data.txt trips readers that list folders. */
		struct tn_err ignore = TN_ERR_INIT;
		outdir_remove(board, dir, &ignore);
	}
	tn_free(key);
	tn_free(text);
	tn_free(dir);
	return rc;
}

struct pin_ctx {
	struct session *s;
	struct outdir *stage_od, *board;
	char *stage;
	const char *type;
	int64_t snapshot;
	int force;
};

static int write_one(struct pin_ctx *cx, const struct pin_spec *sp, struct share_table *t,
		     struct pins_result *res, struct tn_err *err)
{
	char created[64], *file = tn_xprintf("%s.%s", sp->pin, cx->type), *key, *path, *version = NULL;
	struct pin_file f = { sp->pin, file, cx->type, created, NULL, 0, cx->snapshot };
	struct digest d;
	int rc;

	memset(&d, 0, sizeof(d));
	key = tn_xprintf("%s/%s", cx->stage, file);
	path = outdir_path(cx->stage_od, key);
	rc = share_copy(cx->s, t, -1, cx->snapshot, cx->type, path, &f.rows, err);
	if (!rc)
		rc = digest_file(path, DIGEST_XXH64 | DIGEST_SYNC, &d, err);
	f.d = &d;
	if (!rc && !cx->force)
		rc = same_as_newest(cx->board, sp->pin, d.xxh64, &res->unchanged, err);
	compact_time(tn_now_us(), created);
	if (!rc)
		version = tn_xprintf("%s-%.5s", created, d.xxh64);
	if (!rc && !res->unchanged)
		rc = place_version(cx->board, path, t, &f, version, err);
	res->version = version;
	res->rows = f.rows;
	res->bytes = rc ? 0 : d.size;
	tn_free(path);
	tn_free(key);
	tn_free(file);
	return rc;
}

static int pin_table(struct pin_ctx *cx, const struct pin_spec *sp, struct pins_result *res,
		     struct tn_err *err)
{
	struct share_table t;
	int rc = share_table_load(cx->s, sp->schema, sp->table, &t, err);

	res->pin = tn_strdup(sp->pin);
	res->table = tn_xprintf("%s.%s", sp->schema, sp->table);
	if (!rc)
		rc = write_one(cx, sp, &t, res, err);
	if (!rc && res->unchanged) {
		/* Report the version that already holds this data. */
		char **versions = NULL;
		size_t n = 0;
		rc = pin_versions(cx->board, sp->pin, &versions, &n, err);
		tn_free(res->version);
		res->version = n ? tn_strdup(versions[n - 1]) : NULL;
		outdir_names_free(versions, n);
	}
	share_table_release(&t);
	return rc;
}

/* ---- _pins.yaml ---- */

static int manifest_yaml(struct outdir *board, char **text, size_t *len, struct tn_err *err)
{
	struct yamlw *w = yamlw_new();
	char **pins = NULL, **versions = NULL;
	size_t np = 0, nv = 0, i, j;
	int rc = outdir_list(board, "", 1, &pins, &np, err);

	yamlw_map_begin(w);
	for (i = 0; !rc && i < np; i++) {
		rc = pin_versions(board, pins[i], &versions, &nv, err);
		if (!rc && nv) {
			yamlw_str(w, pins[i]);
			yamlw_seq_begin(w);
			for (j = 0; j < nv; j++) {
				char *rel = tn_xprintf("%s/%s/", pins[i], versions[j]);
				yamlw_str(w, rel);
				tn_free(rel);
			}
			yamlw_seq_end(w);
		}
		outdir_names_free(versions, nv);
		versions = NULL;
		nv = 0;
	}
	yamlw_map_end(w);
	if (!rc)
		rc = yamlw_finish(w, text, len, err);
	yamlw_free(w);
	outdir_names_free(pins, np);
	return rc;
}

/* Rewrite _pins.yaml from what is on the board, under the board's lock. */
static int refresh_manifest(struct outdir *board, struct tn_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int lock = -1, rc = outdir_lock(board, "", &lock, err);

	if (!rc)
		rc = manifest_yaml(board, &text, &len, err);
	if (!rc)
		rc = outdir_put(board, PINS_MANIFEST, text, len, err);
	outdir_unlock(lock);
	tn_free(text);
	return rc;
}

/* ---- the command ---- */

static int pin_all(struct pin_ctx *cx, const struct pin_spec *specs, size_t n, struct pins_result *res,
		   struct tn_err *err)
{
	size_t i;
	int rc = session_exec(cx->s, "BEGIN", NULL, err);   /* one snapshot for every pin */

	if (!rc)
		rc = share_snapshot(cx->s, -1, &cx->snapshot, err);
	for (i = 0; !rc && i < n; i++)
		rc = pin_table(cx, &specs[i], &res[i], err);
	if (session_in_txn(cx->s)) {
		struct tn_err ignore = TN_ERR_INIT;
		session_exec(cx->s, "ROLLBACK", NULL, &ignore);   /* read only */
	}
	return rc;
}

static int open_dirs(struct pin_ctx *cx, const char *lake_dir, const char *board, struct tn_err *err)
{
	char *root = tn_fs_join(lake_dir, EXPORT_DIR), *stage = NULL;
	int rc = outdir_open(&cx->stage_od, root, 1, err);

	if (!rc)
		rc = outdir_stage(cx->stage_od, &stage, err);
	if (!rc) {
		/* A board in a bucket keeps its temp files and locks here. */
		char *work = tn_fs_join(root, ".boards");
		rc = outdir_open_url(&cx->board, board, work, err);
		tn_free(work);
	}
	cx->stage = stage;
	tn_free(root);
	return rc;
}

static void close_dirs(struct pin_ctx *cx)
{
	struct tn_err ignore = TN_ERR_INIT;

	if (cx->stage)
		outdir_remove(cx->stage_od, cx->stage, &ignore);
	tn_free(cx->stage);
	outdir_close(cx->board);
	outdir_close(cx->stage_od);
}

int pins_write(struct session *s, const char *lake_dir, const char *board, const struct pins_opts *o,
	       struct pins_result **out, size_t *n, struct tn_err *err)
{
	struct pin_ctx cx = { s, NULL, NULL, NULL, o->type ? o->type : "parquet", -1, o->force };
	struct pin_spec *specs = tn_calloc(o->ntables, sizeof(*specs));
	size_t i;
	int rc = 0;

	*out = tn_calloc(o->ntables, sizeof(**out));
	*n = o->ntables;
	if (strcmp(cx.type, "parquet") && strcmp(cx.type, "csv"))
		rc = tn_err_set(err, TN_EINVAL, "pins of type '%s' are not supported: use parquet or csv", cx.type);
	if (!rc)
		rc = parse_specs(o, specs, err);
	if (!rc)
		rc = open_dirs(&cx, lake_dir, board, err);
	if (!rc)
		rc = pin_all(&cx, specs, o->ntables, *out, err);
	/* Versions written before an error are complete: list them anyway. */
	if (cx.board) {
		struct tn_err merr = TN_ERR_INIT;
		int mrc = refresh_manifest(cx.board, &merr);
		if (!rc && mrc)
			rc = tn_err_set(err, merr.code, "%s", merr.msg);
	}
	close_dirs(&cx);
	for (i = 0; i < o->ntables; i++)
		spec_release(&specs[i]);
	tn_free(specs);
	return rc;
}

void pins_results_free(struct pins_result *r, size_t n)
{
	size_t i;

	for (i = 0; r && i < n; i++) {
		tn_free(r[i].pin);
		tn_free(r[i].table);
		tn_free(r[i].version);
	}
	tn_free(r);
}
