/*
 * hash: SHA-256 of files and byte streams, as lowercase hex. The only file
 * of the ingest layer that includes OpenSSL (EVP digests). Reads stream in
 * fixed chunks, so memory stays flat for any file size.
 */
#ifndef HASH_H
#define HASH_H

#include <stddef.h>
#include <stdint.h>
#include "base/tn_err.h"

#define HASH_HEX_LEN 65 /* 64 hex digits and the NUL */

/* A running SHA-256: hash_new, hash_add as bytes arrive, hash_end. */
struct hash;
struct hash *hash_new(void);
void hash_add(struct hash *h, const void *p, size_t n);
/* Write the digest as hex and free `h`. */
void hash_end(struct hash *h, char out[HASH_HEX_LEN]);
/* Free `h` without a digest (error paths); NULL is fine. */
void hash_free(struct hash *h);

/* SHA-256 and size of the file at `path`. TN_EIO names the path. */
int hash_file(const char *path, char out[HASH_HEX_LEN], int64_t *size, struct tn_err *err);

#endif
