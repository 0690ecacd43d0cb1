/*
 * digest: the checksums that exports and pins boards publish, computed in
 * one pass over a file: SHA-256 (OpenSSL EVP; export manifests) and XXH64
 * with seed 0 (libxxhash; the pins `pin_hash`, which R's digest and
 * Python's xxhash compute the same way). This module owns both libraries
 * for the share layer. Thread-safe (no shared state).
 */
#ifndef DIGEST_H
#define DIGEST_H

#include <stdint.h>
#include "base/tn_err.h"

struct digest {
	int64_t size;        /* bytes */
	char sha256[65];     /* lowercase hex */
	char xxh64[17];      /* lowercase hex, 16 digits */
};

/* What digest_file computes (or-ed); a hash not asked for is left "". */
#define DIGEST_SHA256 1
#define DIGEST_XXH64 2
/* Also fsync the file, on a second thread while the hashes are computed,
 * so that making it durable afterwards costs (almost) nothing extra. */
#define DIGEST_SYNC 4

/* Read the file at `path` once and fill *d with what `what` asks for;
 * TN_ENOTFOUND or TN_EIO. */
int digest_file(const char *path, unsigned what, struct digest *d, struct tn_err *err);

#endif
