/* sha256.c — SHA-256 of image bytes, with libcrypto's SHA256_Init/Update/Final.
 *
 * Not through EVP: the first EVP digest of a process initialises OpenSSL 3's provider machinery
 * and reads openssl.cnf, about 6 M instructions (callgrind) — more than hashing a 200 KiB image,
 * and paid by every otactl run. The low-level functions run the same block code without it.
 * They are deprecated since OpenSSL 3.0 (and there in every 3.x); where a libcrypto drops them,
 * EVP_Digest is the replacement, at that start-up cost. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "image/image-internal.h"

#include <errno.h>
#include <openssl/sha.h>

int img_sha256(const void *buf, size_t len, uint8_t out[IMG_HASH_LEN])
{
	SHA256_CTX c;

	if (SHA256_Init(&c) != 1 || SHA256_Update(&c, buf, len) != 1 || SHA256_Final(out, &c) != 1)
		return -ENOMEM;
	return 0;
}

int img_sha256_prefix(const void *buf, size_t prefix_len, size_t len,
		      uint8_t out_prefix[IMG_HASH_LEN], uint8_t out_all[IMG_HASH_LEN])
{
	SHA256_CTX prefix, all;

	if (prefix_len > len || SHA256_Init(&prefix) != 1 ||
	    SHA256_Update(&prefix, buf, prefix_len) != 1)
		return -EINVAL;
	all = prefix; /* the state after the prefix goes on over the rest */
	if (SHA256_Final(out_prefix, &prefix) != 1 ||
	    SHA256_Update(&all, (const uint8_t *)buf + prefix_len, len - prefix_len) != 1 ||
	    SHA256_Final(out_all, &all) != 1)
		return -ENOMEM;
	return 0;
}
