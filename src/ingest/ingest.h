/*
 * ingest: the raw zone, where datasets land as they came, one dated
 * version folder per ingestion:
 *
 *   <raw>/<dataset>/manifest.json
 *   <raw>/<dataset>/YYYY_MM_DD/HH_mm_SS_sss/...files...   (UTC, ms)
 *
 * <raw> is ingest_raw_root(): <lake dir>/raw/ for now (docs/ingestion.md).
 * An ingestion fills a private staging folder (<raw>/.tmp/<pid>-<uuid>/),
 * unpacks archives there, hashes every file, then under a lock on the raw
 * zone moves the folder to its version path (failing, changing nothing,
 * when that exact millisecond exists) and rewrites the manifest last. Any
 * failure removes the staging folder: a failed ingestion leaves nothing.
 *
 * Dataset names are snake case (ingest_slug), so no name can leave <raw>;
 * archive members are checked the same way (unpack.h).
 * Not thread-safe; several processes may ingest at once (the lock).
 */
#ifndef INGEST_H
#define INGEST_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"
#include "ingest/fetch.h"

struct lake;

#define INGEST_MAX_NAME 100  /* bytes of a dataset name */

/* Where the raw zone of `lk` lives (ends with '/'); owned. The one place
 * that decides it, so the zone can move (to a bucket) later. */
char *ingest_raw_root(const struct lake *lk);

/* A name in snake case: ASCII letters and digits kept (lower case), a
 * word break at camelCase humps, every other run of characters one '_',
 * no '_' at either end, at most INGEST_MAX_NAME bytes. Owned; NULL when
 * nothing is left (no letter or digit). "Your Dataset Name" ->
 * "your_dataset_name", "titanic-Dataset.v2" -> "titanic_dataset_v2". */
char *ingest_slug(const char *s);

/* Warnings that do not stop an ingestion (a skipped link ...). */
typedef void ingest_note_fn(void *arg, const char *msg);

struct ingest_opts {
	const char *name;             /* --name; NULL: from the source */
	fetch_progress_fn *progress;  /* download progress, or NULL */
	void *progress_arg;
	ingest_note_fn *note;         /* or NULL */
	void *note_arg;
	const char *source;           /* what the manifest records as the source;
				       * NULL: the source itself (URLs redacted) */
};

/*
 * Land `source` as a new version: a local file, a folder (recursively), an
 * http(s) URL, https://www.kaggle.com/datasets/<owner>/<dataset> or
 * https://huggingface.co/datasets/<owner>/<dataset>. Zip and gzip files
 * are unpacked. On success *path is the version folder (owned).
 * Environment: TARN_KAGGLE_URL, KAGGLE_USERNAME/KAGGLE_KEY (or
 * ~/.kaggle/kaggle.json), TARN_HF_URL, HF_TOKEN (see remote.h).
 */
int ingest_dataset(struct lake *lk, const char *source, const struct ingest_opts *o, char **path,
		   struct tn_err *err);

/* A new, empty version of dataset `name` (slugged) for files added by
 * hand; *path is its folder (owned). */
int ingest_manual(struct lake *lk, const char *name, char **path, struct tn_err *err);

/* One version, as `ingest ls` shows it. */
struct ingest_entry {
	char *dataset, *version, *path, *created, *source;  /* path: absolute folder */
	int latest;
	size_t nfiles;
	int64_t bytes;
};

struct ingest_listing {
	size_t n, alloc;
	struct ingest_entry *e;
};

/* Every dataset's latest version (all = 0) or every version (all = 1),
 * by dataset name then version. */
int ingest_list(struct lake *lk, int all, struct ingest_listing *out, struct tn_err *err);
void ingest_listing_release(struct ingest_listing *l);

/* Called for each folder prune removes (or would remove, with dry_run). */
typedef void ingest_prune_fn(void *arg, const char *path, const char *why);

/*
 * Remove version folders that hold no file (and their manifest entries),
 * day folders left empty, and staging folders of ingestions that died
 * (their process is gone). dry_run: report only.
 */
int ingest_prune(struct lake *lk, int dry_run, ingest_prune_fn *fn, void *arg, struct tn_err *err);

/*
 * For load: read the manifest of `dataset` (slugged), pick version `id`
 * (NULL or "latest" for the latest) and return its folder (owned) and id.
 * TN_ENOTFOUND with the known datasets/versions named when absent.
 */
struct manifest;
int ingest_open_version(struct lake *lk, const char *dataset, const char *id, struct manifest *m,
			char **dir, char **version, struct tn_err *err);

/* Every regular file under `dir` as a path relative to it, sorted in
 * byte order; *files is owned (free each string, then the array). */
int ingest_files(const char *dir, char ***files, size_t *n, struct tn_err *err);

/* Test hook: when TARN_TEST_NOW_MS is set, versions are stamped with that
 * time instead of the clock (to make two ingestions share a millisecond). */
int64_t ingest_now_ms(void);

#endif
