/*
 * manifest: the record of one raw dataset, raw/<dataset>/manifest.json:
 * its name, its versions (folder, creation time in UTC, source, files
 * with size and SHA-256) and the latest one. The file is replaced
 * atomically (temp file, fsync, rename), so readers always see valid JSON;
 * the version folder is in place before the manifest names it.
 *
 * A version id is its folder relative to the dataset, "YYYY_MM_DD/
 * HH_mm_SS_sss" (UTC, milliseconds), so ids sort by time. Everything read
 * back is checked (ids, file paths), so a hand-edited manifest cannot
 * point outside its dataset folder.
 */
#ifndef MANIFEST_H
#define MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"
#include "ingest/hash.h"

#define MANIFEST_FILE "manifest.json"
#define MANIFEST_FORMAT 1
#define MANIFEST_ID_LEN 24      /* "2024_05_01/12_00_00_000" and the NUL */
#define MANIFEST_CREATED_LEN 25 /* "2024-05-01T12:00:00.000Z" and the NUL */

struct manifest_file {
	char *path;                /* relative to the version folder, '/'-separated */
	int64_t size;
	char sha256[HASH_HEX_LEN];
};

struct manifest_version {
	char *id;                  /* "2024_05_01/12_00_00_000" */
	char *created;             /* "2024-05-01T12:00:00.000Z" */
	char *source;              /* "manual", a local path or a URL (no credentials) */
	size_t nfiles, alloc;
	struct manifest_file *files;
};

struct manifest {
	char *name;                /* the dataset name (snake case) */
	char *latest;              /* id of the newest version, or NULL */
	size_t n, alloc;
	struct manifest_version *v;  /* sorted by id, oldest first */
};

void manifest_init(struct manifest *m, const char *name);
void manifest_release(struct manifest *m);

/* Read and check `path`. TN_ENOTFOUND when there is none; TN_EINVAL,
 * naming the file and the problem, when it is not a valid manifest. */
int manifest_read(const char *path, struct manifest *m, struct tn_err *err);
/* Replace `path` atomically with `m` as JSON. */
int manifest_write(const char *path, const struct manifest *m, struct tn_err *err);

/* Parse / produce the JSON text (manifest_read/write without the file). */
int manifest_parse(const char *text, size_t len, struct manifest *m, struct tn_err *err);
char *manifest_format(const struct manifest *m);   /* owned */

/* Add a version (strings copied) and make `latest` the newest id. Returns
 * the new version, borrowed; NULL if the id is there already. */
struct manifest_version *manifest_add(struct manifest *m, const char *id, const char *created,
				      const char *source);
void manifest_add_file(struct manifest_version *v, const char *path, int64_t size,
		       const char *sha256);
/* The version with `id` ("latest" = the latest), borrowed, or NULL. */
const struct manifest_version *manifest_find(const struct manifest *m, const char *id);
/* Drop version `id` (and fix `latest`); 0 if it was not there. */
int manifest_remove(struct manifest *m, const char *id);
/* The file `path` of a version, or NULL. */
const struct manifest_file *manifest_file_find(const struct manifest_version *v, const char *path);

/* Version ids and creation times from milliseconds since the epoch (UTC). */
void manifest_id(int64_t ms, char out[MANIFEST_ID_LEN]);
void manifest_created(int64_t ms, char out[MANIFEST_CREATED_LEN]);
/* 1 when `id` is a well-formed version id (digits in the right places). */
int manifest_id_valid(const char *id);

#endif
