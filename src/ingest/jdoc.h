/*
 * jdoc: every JSON document the ingest layer reads or writes — the
 * manifest, Kaggle's kaggle.json, the Hugging Face dataset listing. The
 * only file of the ingest layer that includes jansson; the callers deal in
 * C structs and strings.
 */
#ifndef JDOC_H
#define JDOC_H

#include <stddef.h>
#include "base/tn_err.h"

struct manifest;

/* JSON text to manifest (fields only; manifest.c checks the values). */
int jdoc_manifest_parse(const char *text, size_t len, struct manifest *m, struct tn_err *err);
/* Manifest to indented JSON text ending in a newline; owned. */
char *jdoc_manifest_format(const struct manifest *m);

/* {"username": ..., "key": ...}: both owned on success. The message of an
 * error never includes the key. */
int jdoc_kaggle_creds(const char *text, size_t len, char **user, char **key, struct tn_err *err);

/* The file names of a Hugging Face /api/datasets/<id> answer
 * ("siblings": [{"rfilename": ...}]): *names is an owned array of owned
 * strings (free each, then the array). */
int jdoc_hf_files(const char *text, size_t len, char ***names, size_t *n, struct tn_err *err);

#endif
