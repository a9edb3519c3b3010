/* image-internal.h — what the image/ files share: the TLV area walker, SHA-256, and the key
 * operations (load, key hash, sign, verify) over OpenSSL's EVP API. */
#pragma once

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/image.h"

#define IMG_HASH_LEN 32
#define IMG_SIG_MAX  128 /* ECDSA P-256 DER is at most 72 bytes, Ed25519 64 */

/* ---- TLV areas (tlv.c) ---------------------------------------------------------------------- */

/* One entry. imgtool writes {u8 type, u8 0, u16 len}; current bootutil reads the first two bytes
 * as one little-endian u16 type (bootutil/image.h struct image_tlv), so a non-zero pad byte makes
 * an unknown type here too. */
struct tlv_entry {
	uint16_t type;
	uint16_t len;
	size_t off; /* of the entry header */
	size_t val; /* of the value */
};

struct tlv_iter {
	const uint8_t *buf;
	size_t len; /* bytes present in buf */
	size_t pos; /* next entry header */
	size_t end; /* end of the area as declared; may lie past len in a truncated file */
	bool prot;
};

/* Reads the 4-byte info header {u16 magic, u16 total} at off. -EBADMSG (TLV_TRUNCATED) when the
 * file ends inside it. */
int tlv_info_read(const uint8_t *buf, size_t len, size_t off, bool prot, uint16_t *ret_magic,
		  uint16_t *ret_tot, struct img_diag *d);
/* Iterates the entries of the area whose info header is at off and declares tot bytes. */
void tlv_iter_init(struct tlv_iter *it, const uint8_t *buf, size_t len, size_t off, uint16_t tot,
		   bool prot);
/* 1 with *e filled, 0 at the end of the area, -EBADMSG (TLV_TRUNCATED or TLV_OVERRUN) with d. */
int tlv_iter_next(struct tlv_iter *it, struct tlv_entry *e, struct img_diag *d);

/* ---- hashing and keys (sign.c) ------------------------------------------------------------- */

int img_sha256(const void *buf, size_t len, uint8_t out[IMG_HASH_LEN]);
/* One pass over buf: the SHA-256 of its first prefix_len bytes and of all len bytes. */
int img_sha256_prefix(const void *buf, size_t prefix_len, size_t len,
		      uint8_t out_prefix[IMG_HASH_LEN], uint8_t out_all[IMG_HASH_LEN]);
/* -EBADMSG with an IMG_ERR_HASH_MISMATCH diagnosis when computed is not the stored hash. */
int img_check_hash(const struct img_info *info, const uint8_t computed[IMG_HASH_LEN],
		   size_t tlv_off, struct img_diag *d);

/* PEM (not NUL-terminated) to a key: a public key, or a private one (any PEM when !private_only).
 * Never prompts for a passphrase: encrypted keys fail. NULL when unreadable. */
EVP_PKEY *img_key_load(const char *pem, size_t pem_len, bool private_only);
/* IMG_SIG_ECDSA_P256, IMG_SIG_ED25519 or IMG_SIG_OTHER (any other type or curve). */
enum img_sig_type img_key_type(EVP_PKEY *key);
/* The SubjectPublicKeyInfo DER of the key: what imgtool embeds and hashes for the KEYHASH TLV
 * (scripts/imgtool/keys/ecdsa.py and ed25519.py get_public_bytes()). OPENSSL_free() it. */
int img_key_spki(EVP_PKEY *key, uint8_t **ret, size_t *ret_len);
int img_key_hash(EVP_PKEY *key, uint8_t out[IMG_HASH_LEN]);
/* Signs the 32-byte image hash: ECDSA P-256 with SHA-256 as the digest (DER output, what imgtool's
 * ECDSA sign of the hashed region yields), or Ed25519 with the hash as the message.
 * sig must hold IMG_SIG_MAX bytes. */
int img_sign_hash(EVP_PKEY *key, const uint8_t hash[IMG_HASH_LEN], uint8_t *sig, size_t *sig_len);
/* 1 valid, 0 invalid (including malformed signatures), <0 errno. */
int img_verify_hash(EVP_PKEY *key, const uint8_t hash[IMG_HASH_LEN], const uint8_t *sig,
		    size_t sig_len);

static inline void pkey_freep(EVP_PKEY **p)
{
	EVP_PKEY_free(*p);
}
static inline void pkey_ctx_freep(EVP_PKEY_CTX **p)
{
	EVP_PKEY_CTX_free(*p);
}
static inline void md_ctx_freep(EVP_MD_CTX **p)
{
	EVP_MD_CTX_free(*p);
}

/* ---- image files (load.c, format.c, ihex.c, manifest.c, zip.c) ------------------------------ */

/* Fills d (err, line, text from fmt) and returns -EBADMSG. */
int img_diag_set(struct img_diag *d, enum img_err err, unsigned line, const char *fmt, ...)
	__attribute__((__format__(printf, 4, 5)));
/* Checks data as img_load() does and, on success, hands it to a new img (*ret owns it; on
 * failure data is freed). */
int img_from_buffer(uint8_t *data, size_t len, const char *key_pem, size_t key_pem_len,
		    struct img **ret, struct img_diag *d);

/* Intel HEX text to the contiguous bytes it describes (malloc'd) and their first address.
 * -EBADMSG (IMG_ERR_IHEX with the line), -EFBIG beyond IMG_MAX_FILE_SIZE, -ENOMEM. */
int img_ihex_decode(const char *text, size_t len, uint8_t **ret, size_t *ret_len,
		    uint32_t *ret_addr, struct img_diag *d);

/* One image of a dfu_application.zip manifest. */
struct img_manifest_entry {
	char file[96];
	uint32_t image;
	bool has_size;
	uint64_t size;
	unsigned line; /* of the entry in manifest.json */
};
#define IMG_MANIFEST_MAX_ENTRIES 16
#define IMG_IMAGE_NUM_MAX        15 /* highest SMP image number accepted (as otactl --image-num) */
/* manifest.json to its entries (malloc'd array, ascending image numbers). -EBADMSG
 * (IMG_ERR_MANIFEST with the line), -ENOMEM. */
int img_manifest_parse(const char *text, size_t len, struct img_manifest_entry **ret,
		       size_t *ret_n, struct img_diag *d);

/* Fills f (format, numbered, entries) from a zip archive in memory. */
int img_zip_load(const uint8_t *buf, size_t len, const char *key_pem, size_t key_pem_len,
		 struct img_file *f, struct img_diag *d);
