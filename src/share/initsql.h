/*
 * initsql: an init script for the stock `duckdb` command line
 * (`duckdb -init local/init.sql`) that installs and loads the ducklake
 * extension and attaches the lake read-write as `lake`, the catalog being
 * the lake's SQLite file or its PostgreSQL database. When the data path is on S3 it also creates an
 * S3 secret whose every value is read with getenv() from the S3_*
 * variables tarn itself uses, so no credential is ever written into the
 * file. Pure functions; thread-safe.
 */
#ifndef INITSQL_H
#define INITSQL_H

#include "base/tn_err.h"

/* The ATTACH alias the script gives the lake. */
#define INITSQL_ALIAS "lake"

/*
 * The script for the lake whose catalog is the SQLite file `catalog` (an
 * absolute path) or a PostgreSQL catalog ("postgres://…", "postgresql://…"
 * or "postgres:<conninfo>"; any password in it is left out: duckdb's
 * postgres extension reads PGPASSWORD or ~/.pgpass like every libpq
 * client), and whose data path is `data_path` (an absolute folder or
 * s3://bucket/prefix/). *text is owned (tn_free).
 */
int initsql_render(const char *catalog, const char *data_path, char **text, struct tn_err *err);

/* `conn` without its password: "postgres://u:pw@h/db" -> "postgres://u@h/db",
 * "host=h password=pw" -> "host=h"; ?password=… is dropped too. Owned. */
char *initsql_strip_password(const char *conn);

#endif
