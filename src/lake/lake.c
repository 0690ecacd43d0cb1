/*
 * lake: creating and opening a lake. A lake folder holds the SQLite catalog
 * (DuckLake 1.0 tables, so stock DuckDB with the ducklake extension can
 * attach it) and, by default, the data folder.
 */
#include "base/compat.h"
#include "lake/lake_int.h"
#include "base/tn_mem.h"
#include "base/tn_fs.h"
#include "base/tn_util.h"
#include "store/store.h"

#include <time.h>
#include <sys/stat.h>

/* DuckLake 1.0 catalog tables, column order as the spec has it (positional
 * inserts by other writers depend on it). */
static const char *ddl =
	"CREATE TABLE ducklake_metadata(key VARCHAR NOT NULL, value VARCHAR NOT NULL, scope VARCHAR, scope_id BIGINT);"
	"CREATE TABLE ducklake_snapshot(snapshot_id BIGINT PRIMARY KEY, snapshot_time TIMESTAMPTZ, schema_version BIGINT, next_catalog_id BIGINT, next_file_id BIGINT);"
	"CREATE TABLE ducklake_snapshot_changes(snapshot_id BIGINT PRIMARY KEY, changes_made VARCHAR, author VARCHAR, commit_message VARCHAR, commit_extra_info VARCHAR);"
	"CREATE TABLE ducklake_schema(schema_id BIGINT PRIMARY KEY, schema_uuid UUID, begin_snapshot BIGINT, end_snapshot BIGINT, schema_name VARCHAR, path VARCHAR, path_is_relative BOOLEAN);"
	"CREATE TABLE ducklake_table(table_id BIGINT, table_uuid UUID, begin_snapshot BIGINT, end_snapshot BIGINT, schema_id BIGINT, table_name VARCHAR, path VARCHAR, path_is_relative BOOLEAN);"
	"CREATE TABLE ducklake_view(view_id BIGINT, view_uuid UUID, begin_snapshot BIGINT, end_snapshot BIGINT, schema_id BIGINT, view_name VARCHAR, dialect VARCHAR, sql VARCHAR, column_aliases VARCHAR);"
	"CREATE TABLE ducklake_tag(object_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, key VARCHAR, value VARCHAR);"
	"CREATE TABLE ducklake_column_tag(table_id BIGINT, column_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, key VARCHAR, value VARCHAR);"
	"CREATE TABLE ducklake_data_file(data_file_id BIGINT PRIMARY KEY, table_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, file_order BIGINT, path VARCHAR, path_is_relative BOOLEAN, file_format VARCHAR, record_count BIGINT, file_size_bytes BIGINT, footer_size BIGINT, row_id_start BIGINT, partition_id BIGINT, encryption_key VARCHAR, mapping_id BIGINT, partial_max BIGINT);"
	"CREATE TABLE ducklake_file_column_stats(data_file_id BIGINT, table_id BIGINT, column_id BIGINT, column_size_bytes BIGINT, value_count BIGINT, null_count BIGINT, min_value VARCHAR, max_value VARCHAR, contains_nan BOOLEAN, extra_stats VARCHAR);"
	"CREATE TABLE ducklake_file_variant_stats(data_file_id BIGINT, table_id BIGINT, column_id BIGINT, variant_path VARCHAR, shredded_type VARCHAR, column_size_bytes BIGINT, value_count BIGINT, null_count BIGINT, min_value VARCHAR, max_value VARCHAR, contains_nan BOOLEAN, extra_stats VARCHAR);"
	"CREATE TABLE ducklake_delete_file(delete_file_id BIGINT PRIMARY KEY, table_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, data_file_id BIGINT, path VARCHAR, path_is_relative BOOLEAN, format VARCHAR, delete_count BIGINT, file_size_bytes BIGINT, footer_size BIGINT, encryption_key VARCHAR, partial_max BIGINT);"
	"CREATE TABLE ducklake_column(column_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, table_id BIGINT, column_order BIGINT, column_name VARCHAR, column_type VARCHAR, initial_default VARCHAR, default_value VARCHAR, nulls_allowed BOOLEAN, parent_column BIGINT, default_value_type VARCHAR, default_value_dialect VARCHAR);"
	"CREATE TABLE ducklake_table_stats(table_id BIGINT, record_count BIGINT, next_row_id BIGINT, file_size_bytes BIGINT);"
	"CREATE TABLE ducklake_table_column_stats(table_id BIGINT, column_id BIGINT, contains_null BOOLEAN, contains_nan BOOLEAN, min_value VARCHAR, max_value VARCHAR, extra_stats VARCHAR);"
	"CREATE TABLE ducklake_partition_info(partition_id BIGINT, table_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT);"
	"CREATE TABLE ducklake_partition_column(partition_id BIGINT, table_id BIGINT, partition_key_index BIGINT, column_id BIGINT, transform VARCHAR);"
	"CREATE TABLE ducklake_file_partition_value(data_file_id BIGINT, table_id BIGINT, partition_key_index BIGINT, partition_value VARCHAR);"
	"CREATE TABLE ducklake_files_scheduled_for_deletion(data_file_id BIGINT, path VARCHAR, path_is_relative BOOLEAN, schedule_start TIMESTAMPTZ);"
	"CREATE TABLE ducklake_inlined_data_tables(table_id BIGINT, table_name VARCHAR, schema_version BIGINT);"
	"CREATE TABLE ducklake_column_mapping(mapping_id BIGINT, table_id BIGINT, type VARCHAR);"
	"CREATE TABLE ducklake_name_mapping(mapping_id BIGINT, column_id BIGINT, source_name VARCHAR, target_field_id BIGINT, parent_column BIGINT, is_partition BOOLEAN);"
	"CREATE TABLE ducklake_schema_versions(begin_snapshot BIGINT, schema_version BIGINT, table_id BIGINT);"
	"CREATE TABLE ducklake_macro(schema_id BIGINT, macro_id BIGINT, macro_name VARCHAR, begin_snapshot BIGINT, end_snapshot BIGINT);"
	"CREATE TABLE ducklake_macro_impl(macro_id BIGINT, impl_id BIGINT, dialect VARCHAR, sql VARCHAR, type VARCHAR);"
	"CREATE TABLE ducklake_macro_parameters(macro_id BIGINT, impl_id BIGINT, column_id BIGINT, parameter_name VARCHAR, parameter_type VARCHAR, default_value VARCHAR, default_value_type VARCHAR);"
	"CREATE TABLE ducklake_sort_info(sort_id BIGINT, table_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT);"
	"CREATE TABLE ducklake_sort_expression(sort_id BIGINT, table_id BIGINT, sort_key_index BIGINT, expression VARCHAR, dialect VARCHAR, sort_direction VARCHAR, null_order VARCHAR);"
	/* Indexes are allowed by the format and keep planning fast as metadata grows. */
	"CREATE INDEX tarn_data_file_table ON ducklake_data_file(table_id, end_snapshot);"
	"CREATE INDEX tarn_delete_file_table ON ducklake_delete_file(table_id, data_file_id);"
	"CREATE INDEX tarn_column_table ON ducklake_column(table_id, column_id);"
	"CREATE INDEX tarn_table_name ON ducklake_table(table_name, table_id);"
	"CREATE INDEX tarn_file_stats ON ducklake_file_column_stats(table_id, column_id, data_file_id);";

const char *lake_catalog_ddl(void)
{
	return ddl;
}

/*
 * The indexes that let planning skip files by their statistics without
 * reading every row (meta_load_files_bounded): integer min and max per
 * table and column, the widest file (max - min) so that a range scan on
 * min has a lower end, and files by the snapshot that added them. They are
 * expression indexes, so each backend spells them its own way.
 */
int lake_catalog_indexes(struct catalog *cat, struct tn_err *err)
{
	char *mn = catalog_int_of(cat, "min_value"), *mx = catalog_int_of(cat, "max_value");
	char *q = tn_xprintf("CREATE INDEX IF NOT EXISTS tarn_stats_int ON ducklake_file_column_stats"
			     "(table_id, column_id, %s, %s);"
			     "CREATE INDEX IF NOT EXISTS tarn_stats_span ON ducklake_file_column_stats"
			     "(table_id, column_id, (%s - %s));"
			     "CREATE INDEX IF NOT EXISTS tarn_data_file_begin ON ducklake_data_file"
			     "(table_id, begin_snapshot)", mn, mx, mx, mn);
	int rc = catalog_exec(cat, q, err);

	tn_free(q);
	tn_free(mn);
	tn_free(mx);
	return rc;
}

char *lake_schema_path(const char *data_path, const char *name, const char *uuid)
{
	const char *p;
	int plain = *name != '\0' && strlen(name) < 200;

	for (p = name; plain && *p; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			*p == '_' || *p == '-';
	if (!plain)
		name = uuid;
	/* A lake in a bucket follows the lab's layout: the default schema in
	 * stage/, every other schema in marts/<schema>/. */
	if (!strncmp(data_path, "s3://", 5) && !strcmp(name, "main"))
		return tn_strdup("stage/");
	if (!strncmp(data_path, "s3://", 5))
		return tn_xprintf("marts/%s/", name);
	return tn_xprintf("%s/", name);
}

void lake_format_time(int64_t us, char out[40])
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	char tmp[128];

	gmtime_r(&secs, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
	memcpy(out, tmp, 39);
	out[39] = '\0';
}

static int insert_meta(struct catalog *cat, const char *k, const char *v, struct tn_err *err)
{
	struct catalog_stmt *st;
	int rc = catalog_prepare(cat, "INSERT INTO ducklake_metadata VALUES (?, ?, NULL, NULL)", &st, err);

	if (rc)
		return rc;
	catalog_bind_text(st, 1, k);
	catalog_bind_text(st, 2, v);
	rc = catalog_step(st, err);
	catalog_finalize(st);
	return rc < 0 ? rc : 0;
}

int lake_create_catalog(struct catalog *cat, const char *data_path, int64_t inline_limit,
			struct tn_err *err)
{
	struct catalog_stmt *st = NULL;
	char uuid[37], now[40];
	int rc;

	rc = catalog_begin(cat, 1, err);
	if (rc)
		return rc;
	rc = catalog_exec(cat, ddl, err);
	if (!rc)
		rc = lake_catalog_indexes(cat, err);
	if (!rc)
		rc = insert_meta(cat, "version", LAKE_FORMAT_VERSION, err);
	if (!rc)
		rc = insert_meta(cat, "created_by", "tarn " TARN_VERSION, err);
	if (!rc)
		rc = insert_meta(cat, "data_path", data_path, err);
	if (!rc)
		rc = insert_meta(cat, "encrypted", "false", err);
	if (!rc && inline_limit >= 0) {
		char v[32];
		snprintf(v, sizeof(v), "%lld", (long long)inline_limit);
		rc = insert_meta(cat, "data_inlining_row_limit", v, err);
	}
	lake_format_time(tn_now_us(), now);
	if (!rc)
		rc = catalog_prepare(cat, "INSERT INTO ducklake_snapshot VALUES (0, ?, 0, 1, 0)", &st, err);
	if (!rc) {
		catalog_bind_text(st, 1, now);
		rc = catalog_step(st, err);
		catalog_finalize(st);
		st = NULL;
	}
	if (rc >= 0)
		rc = catalog_exec(cat, "INSERT INTO ducklake_snapshot_changes VALUES "
				       "(0, 'created_schema:\"main\"', NULL, NULL, NULL)", err);
	tn_uuid7(uuid);
	if (!rc)
		rc = catalog_prepare(cat, "INSERT INTO ducklake_schema VALUES (0, ?, 0, NULL, 'main', ?, true)",
				     &st, err);
	if (!rc) {
		char *sp = lake_schema_path(data_path, "main", uuid);
		catalog_bind_text(st, 1, uuid);
		catalog_bind_text(st, 2, sp);
		tn_free(sp);
		rc = catalog_step(st, err);
		catalog_finalize(st);
	}
	if (rc < 0) {
		catalog_rollback(cat);
		return rc;
	}
	return catalog_commit(cat, err);
}

static char *with_slash(const char *p)
{
	size_t n = strlen(p);
	return (n && p[n - 1] == '/') ? tn_strdup(p) : tn_xprintf("%s/", p);
}

/* Open the data path's store once, so a bad path or bucket fails init
 * rather than the first write (a listing proves the bucket and keys work). */
static int count_one(void *arg, const char *key, int64_t size)
{
	(void)key;
	(void)size;
	(*(int *)arg)++;
	return 1; /* one is enough */
}

static int check_store(const char *data, struct tn_err *err)
{
	struct store *st = NULL;
	int n = 0, rc = store_open(&st, data, NULL, err);

	if (!rc)
		rc = store_list(st, "", count_one, &n, err);
	if (rc == 1)
		rc = 0;
	store_close(st);
	return rc;
}

static int is_server_uri(const char *c)
{
	return !strncmp(c, "postgres://", 11) || !strncmp(c, "postgresql://", 13) || !strncmp(c, "postgres:", 9);
}

/* A catalog on a server must be empty of DuckLake tables to become a lake. */
static int check_empty(struct catalog *cat, const char *what, struct tn_err *err)
{
	char **cols = NULL;
	size_t n = 0;
	struct tn_err e = TN_ERR_INIT;
	int rc = catalog_table_columns(cat, "ducklake_metadata", &cols, &n, &e);

	catalog_columns_free(cols, n);
	if (rc == TN_ENOTFOUND)
		return 0;
	if (rc)
		return tn_err_set(err, e.code, "%s", e.msg);
	return tn_err_set(err, TN_ECONFLICT, "%s already holds a lake; use another database "
			  "(or schema) for a new lake", what);
}

static char *resolve_data_path(const char *abs, const struct lake_init_opts *opts, struct tn_err *err)
{
	char *tmp, *data;

	if (opts && opts->data_path && !strncmp(opts->data_path, "s3://", 5))
		return with_slash(opts->data_path);
	if (opts && opts->data_path && strstr(opts->data_path, "://")) {
		tn_err_set(err, TN_EUNSUPPORTED, "data path %s: use a local folder or s3://bucket/prefix/",
			   opts->data_path);
		return NULL;
	}
	tmp = opts && opts->data_path ? tn_fs_abspath(opts->data_path) : tn_fs_join(abs, "data");
	data = with_slash(tmp);
	tn_free(tmp);
	return data;
}

/* Undo a failed init: a later init must find no catalog. */
static void remove_catalog_files(const char *catp, const char *urlp)
{
	struct tn_err ignore = TN_ERR_INIT;
	char *wal = tn_xprintf("%s-wal", catp), *shm = tn_xprintf("%s-shm", catp);

	tn_fs_remove(catp, &ignore);
	tn_fs_remove(wal, &ignore);
	tn_fs_remove(shm, &ignore);
	tn_fs_remove(urlp, &ignore);
	tn_free(wal);
	tn_free(shm);
}

int lake_init(const char *dir, const struct lake_init_opts *opts, struct tn_err *err)
{
	char *abs = tn_fs_abspath(dir);
	char *catp = tn_fs_join(abs, LAKE_CATALOG_FILE), *urlp = tn_fs_join(abs, LAKE_CATALOG_URL);
	const char *server = opts && opts->catalog && *opts->catalog ? opts->catalog : NULL;
	char *data = NULL;
	struct catalog *cat = NULL;
	int rc = 0;

	if (tn_fs_exists(catp) || tn_fs_exists(urlp)) {
		rc = tn_err_set(err, TN_ECONFLICT, "%s already holds a lake; pick another folder", abs);
		goto out;
	}
	if (server && !is_server_uri(server)) {
		rc = tn_err_set(err, TN_EINVAL, "catalog %s: use postgres://user@host:port/database "
				"(or leave it out for a SQLite catalog in the lake folder)", server);
		goto out;
	}
	data = resolve_data_path(abs, opts, err);
	if (!data)
		rc = err->code;
	if (!rc)
		rc = tn_fs_mkdirs(abs, err);
	if (!rc)
		rc = check_store(data, err);
	if (!rc)
		rc = catalog_open(&cat, server ? server : catp, 1, err);
	if (!rc && server)
		rc = check_empty(cat, catalog_path(cat), err);
	if (!rc)
		rc = lake_create_catalog(cat, data, opts ? opts->inline_limit : -1, err);
	/* The folder names its server catalog; 0600, since a URI may carry a password. */
	if (!rc && server)
		rc = tn_fs_write_private(urlp, server, strlen(server), err);
	catalog_close(cat);
	if (rc) {
		if (!tn_fs_exists(catp) || !server)
			remove_catalog_files(catp, urlp);
		goto out;
	}
	if (!server)
		rc = tn_fs_sync_file(catp, err);
out:
	tn_free(abs);
	tn_free(catp);
	tn_free(urlp);
	tn_free(data);
	return rc;
}

/* The lake-wide settings (ducklake_metadata, scope NULL) in one query,
 * checked: a DuckLake catalog of the version tarn reads, with a data path. */
static int read_metadata(struct lake *lk, struct catalog *cat, char **dp, struct tn_err *err)
{
	struct tn_err perr = TN_ERR_INIT;
	struct catalog_stmt *st;
	char *v = NULL;
	int rc;

	*dp = NULL;
	lk->inline_limit = -1;
	rc = catalog_prepare(cat, "SELECT key, value FROM ducklake_metadata WHERE scope IS NULL", &st, &perr);
	while (!rc && (rc = catalog_step(st, &perr)) == 1) {
		const char *k = catalog_col_text(st, 0), *val = catalog_col_text(st, 1);
		rc = 0;
		if (!k || !val)
			continue;
		if (!strcmp(k, "version") && !v)
			v = tn_strdup(val);
		else if (!strcmp(k, "data_path") && !*dp)
			*dp = tn_strdup(val);
		else if (!strcmp(k, "data_inlining_row_limit"))
			rc = tn_parse_int64(val, &lk->inline_limit, "data_inlining_row_limit", &perr);
	}
	catalog_finalize(st);
	if (rc < 0)
		rc = tn_err_set(err, TN_EINVAL, "%s is not a DuckLake catalog (%s); is --lake pointing at "
				"the right folder?", catalog_path(cat), perr.msg);
	else if (!v || strcmp(v, LAKE_FORMAT_VERSION))
		rc = tn_err_set(err, TN_EUNSUPPORTED, "catalog %s has DuckLake version %s; tarn reads version %s",
				catalog_path(cat), v ? v : "(none)", LAKE_FORMAT_VERSION);
	else if (!*dp)
		rc = tn_err_set(err, TN_EINTERNAL, "catalog %s has no data_path", catalog_path(cat));
	tn_free(v);
	return rc;
}

static void *open_duck(void *arg)
{
	struct lake *lk = arg;

	lk->duck_rc = duck_open(&lk->spare_duck, NULL, &lk->duck_err);
	return NULL;
}

struct duck *lake_take_duck(struct lake *lk)
{
	int one = 1;
	struct duck *d;

	if (!__atomic_compare_exchange_n(&lk->duck_state, &one, 2, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return NULL;
	pthread_join(lk->duck_thread, NULL);
	d = lk->duck_rc ? NULL : lk->spare_duck;
	lk->spare_duck = NULL;
	return d;
}

static int open_lake(struct lake **out, const char *dir, int warm, struct tn_err *err);

int lake_open(struct lake **out, const char *dir, struct tn_err *err)
{
	return open_lake(out, dir, 0, err);
}

int lake_open_warm(struct lake **out, const char *dir, struct tn_err *err)
{
	return open_lake(out, dir, 1, err);
}

static int open_lake(struct lake **out, const char *dir, int warm, struct tn_err *err)
{
	struct lake *lk = tn_calloc(1, sizeof(*lk));
	struct catalog *cat = NULL;
	char *dp = NULL;
	int rc;

	*out = NULL;
	lk->dir = tn_fs_abspath(dir);
	lk->catalog_path = tn_fs_join(lk->dir, LAKE_CATALOG_FILE);
	if (!tn_fs_exists(lk->catalog_path)) {
		/* A lake whose catalog lives on a server names it in catalog.url. */
		char *urlp = tn_fs_join(lk->dir, LAKE_CATALOG_URL), *uri = NULL;
		size_t n;
		struct tn_err e = TN_ERR_INIT;
		if (!tn_fs_read_all(urlp, &uri, &n, &e)) {
			while (n && (uri[n - 1] == '\n' || uri[n - 1] == ' '))
				uri[--n] = '\0';
			tn_free(lk->catalog_path);
			lk->catalog_path = uri;
		}
		tn_free(urlp);
	}
	if (!tn_fs_exists(lk->catalog_path) && !is_server_uri(lk->catalog_path)) {
		rc = tn_err_set(err, TN_ENOTFOUND,
				"no lake at %s (run `tarn init %s`, or pass --lake DIR / set TARN_LAKE)",
				lk->dir, dir);
		goto fail;
	}
	/* DuckDB takes milliseconds to start: on another core meanwhile. */
	if (warm && !pthread_create(&lk->duck_thread, NULL, open_duck, lk))
		lk->duck_state = 1;
	rc = catalog_open(&cat, lk->catalog_path, 0, err);
	if (!rc)
		rc = read_metadata(lk, cat, &dp, err);
	if (rc) {
		catalog_close(cat);
		goto fail;
	}
	lk->spare_cat = cat;
	lk->spare_at = tn_mono();
	if (!strncmp(dp, "s3://", 5)) {
		lk->data_path = with_slash(dp);
	} else if (strstr(dp, "://")) {
		rc = tn_err_set(err, TN_EUNSUPPORTED, "lake %s keeps its data at %s, which this build "
				"cannot reach (local folders and s3:// only)", lk->dir, dp);
		goto fail;
	} else {
		/* A relative data path is relative to the catalog's folder. */
		char *j = dp[0] == '/' ? tn_strdup(dp) : tn_fs_join(lk->dir, dp);
		lk->data_path = with_slash(j);
		tn_free(j);
	}
	rc = store_open(&lk->store, lk->data_path, NULL, err);
	if (rc)
		goto fail;
	lk->remote = strcmp(store_kind(lk->store), "local") != 0;
	lk->tmp_dir = tn_fs_join(lk->dir, ".tmp");
	tn_free(dp);
	*out = lk;
	return 0;
fail:
	tn_free(dp);
	lake_close(lk);
	return rc;
}

struct catalog *lake_take_catalog(struct lake *lk, int64_t *inline_limit)
{
	struct catalog *cat = __atomic_exchange_n(&lk->spare_cat, NULL, __ATOMIC_ACQ_REL);

	/* An old connection may have been dropped by the server meanwhile. */
	if (cat && tn_mono() - lk->spare_at > 5.0) {
		catalog_close(cat);
		cat = NULL;
	}
	*inline_limit = lk->inline_limit;
	return cat;
}

void lake_release_catalog(struct lake *lk)
{
	catalog_close(__atomic_exchange_n(&lk->spare_cat, NULL, __ATOMIC_ACQ_REL));
}

void lake_close(struct lake *lk)
{
	if (!lk)
		return;
	duck_close(lake_take_duck(lk));
	catalog_close(lk->spare_cat);
	store_close(lk->store);
	tn_free(lk->dir);
	tn_free(lk->catalog_path);
	tn_free(lk->data_path);
	tn_free(lk->tmp_dir);
	tn_free(lk);
}

const char *lake_dir(const struct lake *lk)
{
	return lk->dir;
}

const char *lake_data_path(const struct lake *lk)
{
	return lk->data_path;
}

struct store *lake_store(const struct lake *lk)
{
	return lk->store;
}
