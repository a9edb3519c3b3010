/* sign.c — image signatures with OpenSSL's EVP API: keys from PEM, the KEYHASH imgtool embeds,
 * signing and verifying the image hash, and img_verify_signature() over the TLV area.
 * Sources: MCUboot scripts/imgtool/image.py (create: KEYHASH = SHA-256 of get_public_bytes(),
 * then the signature), keys/ecdsa.py (ECDSA with SHA-256, DER, old images zero-padded to 72
 * bytes), keys/ed25519.py (sign_digest: Ed25519 over the 32-byte hash), bootutil image_validate.c
 * (each signature is checked with the key named by the key TLV before it). */
#include "image/image-internal.h"
#include "util/bytes.h"
#include "util/macro.h"

#include <errno.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

static void bio_freep(BIO **p)
{
	BIO_free(*p);
}

/* Never prompt on a terminal for the passphrase of an encrypted PEM. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

EVP_PKEY *img_key_load(const char *pem, size_t pem_len, bool private_only)
{
	_cleanup_(bio_freep) BIO *bio = NULL;
	EVP_PKEY *key = NULL;

	if (!pem || pem_len == 0 || pem_len > INT_MAX)
		return NULL;
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	if (!bio)
		return NULL;
	if (!private_only)
		key = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	if (!key) {
		(void)BIO_reset(bio);
		key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	}
	ERR_clear_error();
	return key;
}

enum img_sig_type img_key_type(EVP_PKEY *key)
{
	char group[64];
	size_t n = 0;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		return IMG_SIG_ED25519;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(key, group, sizeof(group), &n) == 1 &&
		    strcmp(group, SN_X9_62_prime256v1) == 0)
			return IMG_SIG_ECDSA_P256;
		ERR_clear_error();
		return IMG_SIG_OTHER;
	default:
		return IMG_SIG_OTHER;
	}
}

int img_key_spki(EVP_PKEY *key, uint8_t **ret, size_t *ret_len)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(key, &der);

	if (n <= 0) {
		ERR_clear_error();
		return -ENOMEM;
	}
	*ret = der;
	*ret_len = (size_t)n;
	return 0;
}

int img_key_hash(EVP_PKEY *key, uint8_t out[IMG_HASH_LEN])
{
	uint8_t *der;
	size_t n;
	int r;

	r = img_key_spki(key, &der, &n);
	if (r < 0)
		return r;
	r = img_sha256(der, n, out);
	OPENSSL_free(der);
	return r;
}

int img_sign_hash(EVP_PKEY *key, const uint8_t hash[IMG_HASH_LEN], uint8_t *sig, size_t *sig_len)
{
	_cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *pctx = NULL;
	_cleanup_(md_ctx_freep) EVP_MD_CTX *mctx = NULL;
	size_t n = IMG_SIG_MAX;
	int ok = 0;

	switch (img_key_type(key)) {
	case IMG_SIG_ECDSA_P256:
		/* ECDSA-with-SHA-256 over the hashed region == ECDSA of its SHA-256 digest. */
		pctx = EVP_PKEY_CTX_new(key, NULL);
		ok = pctx && EVP_PKEY_sign_init(pctx) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) == 1 &&
		     EVP_PKEY_sign(pctx, sig, &n, hash, IMG_HASH_LEN) == 1;
		break;
	case IMG_SIG_ED25519:
		/* imgtool sign_digest(): the 32-byte hash is the Ed25519 message. */
		mctx = EVP_MD_CTX_new();
		ok = mctx && EVP_DigestSignInit(mctx, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestSign(mctx, sig, &n, hash, IMG_HASH_LEN) == 1;
		break;
	default:
		return -EINVAL;
	}
	if (!ok) {
		ERR_clear_error();
		return -EIO;
	}
	*sig_len = n;
	return 0;
}

/* Old imgtool (MCUboot < 1.5) padded ECDSA DER signatures with zeros to 72 bytes; like imgtool's
 * verify, use the length the DER SEQUENCE header declares, provided only zeros follow. */
static size_t ecdsa_der_len(const uint8_t *sig, size_t len)
{
	size_t n;

	if (len < 2 || sig[0] != 0x30 || sig[1] >= 0x80)
		return len;
	n = (size_t)sig[1] + 2;
	if (n >= len)
		return len;
	for (size_t i = n; i < len; i++)
		if (sig[i] != 0)
			return len;
	return n;
}

int img_verify_hash(EVP_PKEY *key, const uint8_t hash[IMG_HASH_LEN], const uint8_t *sig,
		    size_t sig_len)
{
	_cleanup_(pkey_ctx_freep) EVP_PKEY_CTX *pctx = NULL;
	_cleanup_(md_ctx_freep) EVP_MD_CTX *mctx = NULL;
	int r;

	switch (img_key_type(key)) {
	case IMG_SIG_ECDSA_P256:
		pctx = EVP_PKEY_CTX_new(key, NULL);
		if (!pctx || EVP_PKEY_verify_init(pctx) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) != 1) {
			ERR_clear_error();
			return -ENOMEM;
		}
		r = EVP_PKEY_verify(pctx, sig, ecdsa_der_len(sig, sig_len), hash, IMG_HASH_LEN);
		break;
	case IMG_SIG_ED25519:
		if (sig_len != 64)
			return 0;
		mctx = EVP_MD_CTX_new();
		if (!mctx || EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, key) != 1) {
			ERR_clear_error();
			return -ENOMEM;
		}
		r = EVP_DigestVerify(mctx, sig, sig_len, hash, IMG_HASH_LEN);
		break;
	default:
		return -EINVAL;
	}
	ERR_clear_error();
	/* OpenSSL answers a malformed signature with a negative value, not 0: both are invalid. */
	return r == 1;
}
