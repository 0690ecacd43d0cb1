/*
 * digest.c - SHA-256 and XXH64 of a file in one read. Large reads keep the
 * cost of hashing close to the cost of the hash functions themselves.
 */
#include "base/compat.h"
#include "base/tn_util.h"
#include "share/digest.h"
#include "base/tn_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <xxhash.h>

#define CHUNK (1 << 20)

/* Feed the whole of fd to the hashes asked for (NULL ones are skipped). */
static int hash_fd(int fd, EVP_MD_CTX *sha, XXH64_state_t *xx, int64_t *size)
{
	unsigned char *buf = tn_malloc(CHUNK);
	ssize_t n;
	int rc = 0;

	*size = 0;
	while ((n = read(fd, buf, CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -1;
			break;
		}
		if ((sha && EVP_DigestUpdate(sha, buf, (size_t)n) != 1) ||
		    (xx && XXH64_update(xx, buf, (size_t)n) != XXH_OK)) {
			rc = -2;
			break;
		}
		*size += n;
	}
	tn_free(buf);
	return rc;
}

struct syncer {
	int fd, rc, err;
};

static void *sync_main(void *arg)
{
	struct syncer *sy = arg;

	sy->rc = fsync(sy->fd);
	sy->err = errno;
	return NULL;
}

static int start_hashes(unsigned what, EVP_MD_CTX **sha, XXH64_state_t **xx)
{
	*sha = (what & DIGEST_SHA256) ? EVP_MD_CTX_new() : NULL;
	*xx = (what & DIGEST_XXH64) ? XXH64_createState() : NULL;
	if ((what & DIGEST_SHA256) && (!*sha || EVP_DigestInit_ex(*sha, EVP_sha256(), NULL) != 1))
		return -1;
	if ((what & DIGEST_XXH64) && (!*xx || XXH64_reset(*xx, 0) != XXH_OK))
		return -1;
	return 0;
}

static int finish_hashes(EVP_MD_CTX *sha, XXH64_state_t *xx, struct digest *d)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (sha && EVP_DigestFinal_ex(sha, md, &mdlen) != 1)
		return -1;
	if (sha)
		tn_hex(md, mdlen, d->sha256);
	if (xx)
		snprintf(d->xxh64, sizeof(d->xxh64), "%016llx", (unsigned long long)XXH64_digest(xx));
	return 0;
}

/* Hash fd, with an fsync of it running meanwhile when `sync`. */
static int hash_and_sync(const char *path, int fd, int sync, EVP_MD_CTX *sha, XXH64_state_t *xx,
			 struct digest *d, struct tn_err *err)
{
	struct syncer sy = { fd, 0, 0 };
	pthread_t th;
	int started = sync && pthread_create(&th, NULL, sync_main, &sy) == 0;
	int h = hash_fd(fd, sha, xx, &d->size), rc = 0;

	if (sync && !started)
		sync_main(&sy);
	if (started)
		pthread_join(th, NULL);
	if (h)
		rc = tn_err_set(err, TN_EIO, "cannot hash %s: %s", path,
				h == -1 ? strerror(errno) : "the hash library failed");
	if (!rc && sync && sy.rc)
		rc = tn_err_set(err, TN_EIO, "fsync %s failed: %s", path, strerror(sy.err));
	return rc;
}

int digest_file(const char *path, unsigned what, struct digest *d, struct tn_err *err)
{
	EVP_MD_CTX *sha = NULL;
	XXH64_state_t *xx = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	memset(d, 0, sizeof(*d));
	if (fd < 0)
		rc = tn_err_set(err, errno == ENOENT ? TN_ENOTFOUND : TN_EIO, "cannot read %s: %s", path,
				strerror(errno));
	else if (start_hashes(what, &sha, &xx))
		rc = tn_err_set(err, TN_EINTERNAL, "cannot start hashing %s (OpenSSL or xxhash failed)", path);
	if (!rc)
		rc = hash_and_sync(path, fd, (what & DIGEST_SYNC) != 0, sha, xx, d, err);
	if (!rc && finish_hashes(sha, xx, d))
		rc = tn_err_set(err, TN_EINTERNAL, "cannot finish the SHA-256 of %s", path);
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(sha);
	XXH64_freeState(xx);
	return rc;
}
