/* hash.c: SHA-256 through OpenSSL's EVP interface. */
#include "base/compat.h"
#include "base/tn_util.h"
#include "ingest/hash.h"
#include "base/tn_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <openssl/evp.h>

struct hash {
	EVP_MD_CTX *ctx;
};

struct hash *hash_new(void)
{
	struct hash *h = tn_calloc(1, sizeof(*h));

	h->ctx = EVP_MD_CTX_new();
	/* Like tn_malloc: a digest context is a small internal allocation. */
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		fputs("tarn: cannot initialise SHA-256 (OpenSSL)\n", stderr);
		abort();
	}
	return h;
}

void hash_add(struct hash *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->ctx, p, n);
}

void hash_end(struct hash *h, char out[HASH_HEX_LEN])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_DigestFinal_ex(h->ctx, d, &n);
	tn_hex(d, n, out);
	hash_free(h);
}

void hash_free(struct hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	tn_free(h);
}

int hash_file(const char *path, char out[HASH_HEX_LEN], int64_t *size, struct tn_err *err)
{
	static const size_t chunk = 1 << 20;
	struct hash *h;
	char *buf;
	int64_t total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return tn_err_set(err, TN_EIO, "cannot read %s: %s", path, strerror(errno));
	h = hash_new();
	buf = tn_malloc(chunk);
	while ((n = read(fd, buf, chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			tn_free(buf);
			hash_free(h);
			return tn_err_set(err, TN_EIO, "cannot read %s: %s", path, strerror(e));
		}
		hash_add(h, buf, (size_t)n);
		total += n;
	}
	close(fd);
	tn_free(buf);
	hash_end(h, out);
	if (size)
		*size = total;
	return 0;
}
