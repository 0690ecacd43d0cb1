/*
 * initsql.c - the DuckDB init script. DuckLake's documented form for a
 * SQLite catalog is ATTACH 'ducklake:sqlite:<file>' AS name (DATA_PATH
 * '<path>'); paths go in as SQL string literals. CREATE SECRET takes
 * constant expressions since DuckDB 1.1, and the duckdb CLI provides
 * getenv(), which is how the secret reads the environment at start-up.
 */
#include "base/compat.h"
#include "share/initsql.h"
#include "base/tn_buf.h"
#include "base/tn_mem.h"

/* Each S3 option of the secret and the expression that computes it from
 * the environment, following tarn's own reading of the S3_* variables
 * (region us-east-1 by default, path-style URLs for a custom endpoint). */
static const struct {
	const char *option, *expr;
} s3_options[] = {
	{ "KEY_ID", "getenv('S3_ACCESS_KEY_ID')" },
	{ "SECRET", "getenv('S3_SECRET_ACCESS_KEY')" },
	{ "SESSION_TOKEN", "getenv('S3_SESSION_TOKEN')" },
	{ "REGION", "coalesce(nullif(getenv('S3_REGION'), ''), 'us-east-1')" },
	{ "ENDPOINT", "coalesce(nullif(regexp_replace(getenv('S3_ENDPOINT'), '^https?://|/+$', '', 'g'), ''), "
		      "'s3.amazonaws.com')" },
	{ "URL_STYLE", "CASE WHEN lower(getenv('S3_URL_STYLE')) = 'path' OR (getenv('S3_URL_STYLE') = '' "
		       "AND getenv('S3_ENDPOINT') <> '') THEN 'path' ELSE 'vhost' END" },
	{ "USE_SSL", "NOT (getenv('S3_ENDPOINT') LIKE 'http://%' OR lower(getenv('S3_USE_SSL')) IN "
		     "('false', '0', 'no', 'off'))" },
};

/* "s3://bucket/" of an s3:// data path, for the secret's scope. */
static char *bucket_scope(const char *data_path)
{
	const char *b = data_path + 5, *slash = strchr(b, '/');

	return tn_xprintf("s3://%.*s/", (int)(slash ? slash - b : (long)strlen(b)), b);
}

static void add_s3_secret(struct tn_buf *b, const char *data_path)
{
	char *scope = bucket_scope(data_path);
	size_t i;

	tn_buf_adds(b, "INSTALL httpfs;\nLOAD httpfs;\n\n"
		    "-- S3 credentials come from the environment of the duckdb process, as for tarn:\n"
		    "-- S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY [, S3_SESSION_TOKEN, S3_REGION, S3_ENDPOINT,\n"
		    "-- S3_URL_STYLE, S3_USE_SSL]. duckdb does not read .env: export them first\n"
		    "-- (e.g. set -a; . ./.env; set +a). Nothing secret is stored in this file.\n"
		    "CREATE OR REPLACE SECRET tarn_lake_s3 (\n\tTYPE s3,\n\tPROVIDER config,\n");
	for (i = 0; i < TN_ARRAY_LEN(s3_options); i++)
		tn_buf_addf(b, "\t%s %s,\n", s3_options[i].option, s3_options[i].expr);
	tn_buf_adds(b, "\tSCOPE ");
	tn_buf_add_sqlstr(b, scope);
	tn_buf_adds(b, "\n);\n\n");
	tn_free(scope);
}

/* Drop "password=…" words from a libpq conninfo string. */
static void strip_conninfo(struct tn_buf *b, const char *conn)
{
	const char *p = conn;

	while (*p) {
		size_t sp = strspn(p, " \t"), len;
		p += sp;
		len = strcspn(p, " \t");
		if (len && strncmp(p, "password=", 9)) {
			if (b->len)
				tn_buf_addc(b, ' ');
			tn_buf_add(b, p, len);
		}
		p += len;
	}
}

/* Drop ":password" from the authority and "password=" from the query of a URI. */
static void strip_uri(struct tn_buf *b, const char *uri)
{
	const char *auth = strstr(uri, "://") + 3, *end = auth + strcspn(auth, "/?#");
	const char *at = memchr(auth, '@', (size_t)(end - auth));
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	const char *q, *p;
	int first = 1;

	tn_buf_add(b, uri, (size_t)((colon ? colon : end) - uri));
	if (colon)
		tn_buf_add(b, at, (size_t)(end - at));
	q = end + strcspn(end, "?#");
	tn_buf_add(b, end, (size_t)(q - end));
	for (p = *q == '?' ? q + 1 : q; *p && *p != '#';) {
		size_t len = strcspn(p, "&#");
		if (len && strncmp(p, "password=", 9)) {
			tn_buf_addc(b, first ? '?' : '&');
			tn_buf_add(b, p, len);
			first = 0;
		}
		p += len + (p[len] == '&');
	}
	tn_buf_adds(b, p);   /* a fragment, if any */
}

char *initsql_strip_password(const char *conn)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);

	if (strstr(conn, "://"))
		strip_uri(&b, conn);
	else
		strip_conninfo(&b, conn);
	return tn_buf_detach(&b, NULL);
}

static int is_postgres(const char *catalog)
{
	return !strncmp(catalog, "postgres://", 11) || !strncmp(catalog, "postgresql://", 13) ||
	       !strncmp(catalog, "postgres:", 9);
}

/* The ATTACH target: ducklake:sqlite:<file> or ducklake:postgres:<conn>. */
static char *attach_uri(const char *catalog)
{
	char *conn, *uri;

	if (!is_postgres(catalog))
		return tn_xprintf("ducklake:sqlite:%s", catalog);
	conn = initsql_strip_password(strncmp(catalog, "postgres:", 9) || !strncmp(catalog, "postgres://", 11)
				      ? catalog : catalog + 9);
	uri = tn_xprintf("ducklake:postgres:%s", conn);
	tn_free(conn);
	return uri;
}

int initsql_render(const char *catalog, const char *data_path, char **text, struct tn_err *err)
{
	struct tn_buf b = TN_BUF_INIT(TN_BUF_NOMAX);
	const char *ext = is_postgres(catalog) ? "postgres" : "sqlite";
	char *uri = attach_uri(catalog);
	int rc;

	*text = NULL;
	tn_buf_adds(&b, "-- DuckDB init script for a tarn lake, written by `tarn tools generate-init-sql`.\n"
		    "-- Open the lake read-write with: duckdb -init <this file>\n");
	if (is_postgres(catalog))
		tn_buf_adds(&b, "-- The catalog's password is not stored here: set PGPASSWORD or use ~/.pgpass.\n");
	tn_buf_addf(&b, "INSTALL ducklake;\nINSTALL %s;\nLOAD ducklake;\nLOAD %s;\n\n", ext, ext);
	if (!strncmp(data_path, "s3://", 5))
		add_s3_secret(&b, data_path);
	tn_buf_adds(&b, "ATTACH ");
	tn_buf_add_sqlstr(&b, uri);
	tn_buf_adds(&b, " AS " INITSQL_ALIAS " (DATA_PATH ");
	tn_buf_add_sqlstr(&b, data_path);
	tn_buf_adds(&b, ");\nUSE " INITSQL_ALIAS ";\n");
	rc = tn_buf_check(&b, err);
	if (!rc)
		*text = tn_buf_detach(&b, NULL);
	tn_buf_release(&b);
	tn_free(uri);
	return rc;
}
