/* build.c — writes an MCUboot image laid out as imgtool's "sign" does (scripts/imgtool/image.py
 * create/add_header): header, zeroed header padding, a deterministic payload, protected TLVs, then
 * SHA256, KEYHASH and the signature. For otasim, the tests and the demo. */
#include "image/image-internal.h"
#include "util/bytes.h"
#include "util/macro.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_HDR_SIZE  0x200 /* Zephyr's CONFIG_ROM_START_OFFSET with MCUboot */
#define PROT_SEC_CNT_SIZE (IMG_TLV_INFO_SIZE + IMG_TLV_HDR_SIZE + 4)

/* Payload byte stream of a seed: a 32-bit counter through a mixing function (the finaliser of
 * MurmurHash3), four bytes per step. Any seed, 0 included, gives a non-trivial stream. */
static void fill_payload(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t ctr = seed;

	for (size_t i = 0; i < n; i += 4) {
		uint32_t z = (ctr += 0x9e3779b9U);
		uint8_t w[4];

		z = (z ^ (z >> 16)) * 0x85ebca6bU;
		z = (z ^ (z >> 13)) * 0xc2b2ae35U;
		z ^= z >> 16;
		put_le32(w, z);
		memcpy(p + i, w, MIN(n - i, sizeof(w)));
	}
}

static void put_header(uint8_t *p, const struct img_build_opts *o, uint16_t hdr_size,
		       uint16_t prot_size)
{
	put_le32(p + 0, IMG_MAGIC);
	put_le32(p + 4, o->load_addr);
	put_le16(p + 8, hdr_size);
	put_le16(p + 10, prot_size);
	put_le32(p + 12, (uint32_t)o->payload_size);
	put_le32(p + 16, o->flags);
	p[20] = o->version.major;
	p[21] = o->version.minor;
	put_le16(p + 22, o->version.revision);
	put_le32(p + 24, o->version.build);
	put_le32(p + 28, 0);
}

/* Appends one entry {u8 type, u8 0, u16 len, value} at p; returns its size. */
static size_t put_tlv(uint8_t *p, uint8_t type, const void *val, uint16_t len)
{
	p[0] = type;
	p[1] = 0;
	put_le16(p + 2, len);
	memcpy(p + IMG_TLV_HDR_SIZE, val, len);
	return IMG_TLV_HDR_SIZE + (size_t)len;
}

/* TLV area after the hashed region at off: SHA256, then KEYHASH and the signature when signed. */
static int put_tlv_area(uint8_t *buf, size_t off, EVP_PKEY *key, size_t *ret_end)
{
	uint8_t hash[IMG_HASH_LEN], key_hash[IMG_HASH_LEN], sig[IMG_SIG_MAX];
	size_t pos = off + IMG_TLV_INFO_SIZE, sig_len;
	int r;

	r = img_sha256(buf, off, hash);
	if (r < 0)
		return r;
	pos += put_tlv(buf + pos, IMG_TLV_SHA256, hash, IMG_HASH_LEN);
	if (key) {
		r = img_key_hash(key, key_hash);
		if (r >= 0)
			r = img_sign_hash(key, hash, sig, &sig_len);
		if (r < 0)
			return r;
		pos += put_tlv(buf + pos, IMG_TLV_KEYHASH, key_hash, IMG_HASH_LEN);
		pos += put_tlv(buf + pos,
			       img_key_type(key) == IMG_SIG_ED25519 ? IMG_TLV_ED25519
								    : IMG_TLV_ECDSA_SIG,
			       sig, (uint16_t)sig_len);
	}
	put_le16(buf + off, IMG_TLV_INFO_MAGIC);
	put_le16(buf + off + 2, (uint16_t)(pos - off));
	*ret_end = pos;
	return 0;
}

int img_build(const struct img_build_opts *o, uint8_t **ret, size_t *ret_len)
{
	_cleanup_(pkey_freep) EVP_PKEY *key = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	uint16_t hdr_size, prot_size;
	size_t off, max, end;
	int r;

	if (!o || !ret || !ret_len)
		return -EINVAL;
	hdr_size = o->hdr_size ? o->hdr_size : DEFAULT_HDR_SIZE;
	if (hdr_size < IMG_HEADER_SIZE || o->payload_size > UINT32_MAX - hdr_size)
		return -EINVAL;
	if (o->key_pem) {
		key = img_key_load(o->key_pem, o->key_pem_len, true);
		if (!key || img_key_type(key) == IMG_SIG_OTHER)
			return -EINVAL;
	}
	prot_size = o->security_counter ? PROT_SEC_CNT_SIZE : 0;

	off = hdr_size + o->payload_size;
	max = off + prot_size + IMG_TLV_INFO_SIZE + IMG_TLV_HDR_SIZE + IMG_HASH_LEN +
	      2 * IMG_TLV_HDR_SIZE + IMG_HASH_LEN + IMG_SIG_MAX;
	buf = calloc(1, max);
	if (!buf)
		return -ENOMEM;
	put_header(buf, o, hdr_size, prot_size);
	fill_payload(buf + hdr_size, o->payload_size, o->seed);
	if (prot_size) {
		uint8_t cnt[4];

		/* imgtool: the protected area holds SEC_CNT as a little-endian u32. */
		put_le32(cnt, o->security_counter);
		put_le16(buf + off, IMG_TLV_PROT_MAGIC);
		put_le16(buf + off + 2, prot_size);
		put_tlv(buf + off + IMG_TLV_INFO_SIZE, IMG_TLV_SEC_CNT, cnt, sizeof(cnt));
		off += prot_size;
	}
	r = put_tlv_area(buf, off, key, &end);
	if (r < 0)
		return r;
	*ret_len = end;
	*ret = TAKE_PTR(buf);
	return 0;
}
