/*
 * store_crypto.c - the only file of tarn that includes OpenSSL: the two
 * digests the store needs (SHA-256 for cache file names, MD5 for the
 * Content-MD5 header S3 requires on DeleteObjects).
 */
#include "base/compat.h"
#include "store/store_s3_int.h"

#include <openssl/evp.h>

void store_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (i = 0; i < len && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

void store_md5_base64(const void *p, size_t n, char out[25])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_Digest(p, n, md, &len, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, (int)len);
	out[24] = '\0';
}
