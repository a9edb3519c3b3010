/* verify.c — checks an image's signature with a given key, the way MCUboot's image_validate.c
 * does: each signature TLV is checked with the key named by the KEYHASH (or PUBKEY) TLV before
 * it; the image passes when one whose key is ours verifies over the SHA-256 hash. */
#include "image/image-internal.h"
#include "util/macro.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <string.h>

struct verifier {
	const uint8_t *buf;
	EVP_PKEY *key;
	enum img_sig_type key_type;
	uint8_t key_hash[IMG_HASH_LEN];
	uint8_t *spki;
	size_t spki_len;
	int key_tlv; /* since the last signature: -1 none, 0 another key, 1 ours */
	size_t key_off;
	uint8_t image_key_hash[IMG_HASH_LEN];
	bool pure;
	struct img_diag best; /* the most telling reason so far */
};

static void spki_freep(uint8_t **p)
{
	OPENSSL_free(*p);
}

/* The more a reason says about our key and this image, the more it is worth reporting. */
static int rank(enum img_err err)
{
	switch (err) {
	case IMG_ERR_BAD_SIGNATURE:
		return 5;
	case IMG_ERR_SIG_UNSUPPORTED:
		return 4;
	case IMG_ERR_KEY_MISMATCH:
		return 3;
	case IMG_ERR_NO_KEY_HASH:
		return 2;
	default:
		return 1;
	}
}

static void note(struct verifier *v, enum img_err err, const struct tlv_entry *e)
{
	if (rank(err) <= rank(v->best.err))
		return;
	memset(&v->best, 0, sizeof(v->best));
	v->best.err = err;
	v->best.offset = e->off;
	v->best.value = e->len;
	v->best.tlv_type = e->type;
	if (err == IMG_ERR_KEY_MISMATCH) {
		v->best.offset = v->key_off;
		memcpy(v->best.tlv_hash, v->image_key_hash, IMG_HASH_LEN);
		memcpy(v->best.data_hash, v->key_hash, IMG_HASH_LEN);
	}
}

static bool compatible(const struct verifier *v, uint16_t type)
{
	if (v->pure)
		return false;
	return (type == IMG_TLV_ECDSA_SIG && v->key_type == IMG_SIG_ECDSA_P256) ||
	       (type == IMG_TLV_ED25519 && v->key_type == IMG_SIG_ED25519);
}

/* Returns 1 when this signature verifies, 0 to go on, <0 errno. */
static int on_signature(struct verifier *v, const uint8_t hash[IMG_HASH_LEN],
			const struct tlv_entry *e)
{
	int key_tlv = v->key_tlv, r;

	v->key_tlv = -1;
	if (key_tlv < 0) {
		note(v, IMG_ERR_NO_KEY_HASH, e);
		return 0;
	}
	if (key_tlv == 0) {
		note(v, IMG_ERR_KEY_MISMATCH, e);
		return 0;
	}
	if (!compatible(v, e->type)) {
		note(v, IMG_ERR_SIG_UNSUPPORTED, e);
		return 0;
	}
	r = img_verify_hash(v->key, hash, v->buf + e->val, e->len);
	if (r == 0)
		note(v, IMG_ERR_BAD_SIGNATURE, e);
	return r;
}

static void on_key(struct verifier *v, const struct tlv_entry *e)
{
	const uint8_t *val = v->buf + e->val;
	uint8_t h[IMG_HASH_LEN];

	if (e->type == IMG_TLV_KEYHASH) {
		v->key_tlv = e->len == IMG_HASH_LEN && memcmp(val, v->key_hash, IMG_HASH_LEN) == 0;
		if (e->len == IMG_HASH_LEN)
			memcpy(h, val, IMG_HASH_LEN);
		else
			memset(h, 0, sizeof(h));
	} else {
		/* imgtool --public-key-format full: the SubjectPublicKeyInfo DER itself. */
		v->key_tlv = e->len == v->spki_len && memcmp(val, v->spki, v->spki_len) == 0;
		if (img_sha256(val, e->len, h) < 0)
			memset(h, 0, sizeof(h));
	}
	if (!v->key_tlv && v->key_off == 0) {
		v->key_off = e->off;
		memcpy(v->image_key_hash, h, IMG_HASH_LEN);
	}
}

static int walk(struct verifier *v, const struct img_info *info)
{
	struct tlv_iter it;
	struct tlv_entry e;
	struct img_diag d;
	uint16_t magic, tot;
	int r;

	/* info->total_len bounds every read: buf holds at least that much after img_parse(). */
	r = tlv_info_read(v->buf, info->total_len, info->hashed_len, false, &magic, &tot, &d);
	if (r < 0)
		return -EINVAL;
	tlv_iter_init(&it, v->buf, info->total_len, info->hashed_len, tot, false);
	while ((r = tlv_iter_next(&it, &e, &d)) > 0) {
		switch (e.type) {
		case IMG_TLV_KEYHASH:
		case IMG_TLV_PUBKEY:
			on_key(v, &e);
			break;
		case IMG_TLV_SIG_PURE:
			v->pure = true;
			break;
		case IMG_TLV_RSA2048_PSS:
		case IMG_TLV_ECDSA224:
		case IMG_TLV_ECDSA_SIG:
		case IMG_TLV_RSA3072_PSS:
		case IMG_TLV_ED25519:
			r = on_signature(v, info->hash, &e);
			if (r != 0)
				return r;
			break;
		default:
			break;
		}
	}
	return r < 0 ? -EINVAL : 0;
}

int img_verify_signature(const uint8_t *buf, const struct img_info *info, const char *key_pem,
			 size_t key_pem_len, struct img_diag *diag)
{
	_cleanup_(pkey_freep) EVP_PKEY *key = NULL;
	_cleanup_(spki_freep) uint8_t *spki = NULL;
	struct verifier v = {.buf = buf, .key_tlv = -1};
	struct img_diag dummy;
	struct img_diag *d = diag ? diag : &dummy;
	int r;

	memset(d, 0, sizeof(*d));
	if (!buf || !info)
		return -EINVAL;
	key = img_key_load(key_pem, key_pem_len, false);
	if (!key) {
		d->err = IMG_ERR_BAD_KEY;
		d->value = key_pem_len > UINT32_MAX ? UINT32_MAX : (uint32_t)key_pem_len;
		return -EINVAL;
	}
	v.key = key;
	v.key_type = img_key_type(key);
	if (v.key_type == IMG_SIG_OTHER) {
		d->err = IMG_ERR_SIG_UNSUPPORTED;
		return -EBADMSG;
	}
	r = img_key_hash(key, v.key_hash);
	if (r >= 0)
		r = img_key_spki(key, &spki, &v.spki_len);
	if (r < 0)
		return r;
	v.spki = spki;

	v.best.err = IMG_ERR_NO_SIGNATURE;
	v.best.offset = info->hashed_len;
	r = walk(&v, info);
	if (r < 0)
		return r;
	if (r > 0)
		return 0;
	*d = v.best;
	return -EBADMSG;
}
