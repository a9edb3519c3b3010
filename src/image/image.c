/* image.c — parses and checks an MCUboot image: header, protected TLV area, TLV area, the SHA-256
 * TLV against the data.
 * Source: MCUboot docs/design.md "Image format" and "Protected TLVs", bootutil/image.h, tlv.c. */
#include "image/image-internal.h"
#include "util/bytes.h"
#include "util/hex.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Header field offsets (bootutil/image.h struct image_header, little-endian). */
#define HDR_OFF_MAGIC	  0
#define HDR_OFF_LOAD_ADDR 4
#define HDR_OFF_HDR_SIZE  8
#define HDR_OFF_PROT_SIZE 10
#define HDR_OFF_IMG_SIZE  12
#define HDR_OFF_FLAGS	  16
#define HDR_OFF_VERSION	  20

#define IMG_F_ENCRYPTED (IMG_F_ENCRYPTED_AES128 | IMG_F_ENCRYPTED_AES256)

static int fail(struct img_diag *d, enum img_err err, size_t off, uint32_t value, uint64_t limit)
{
	memset(d, 0, sizeof(*d));
	d->err = err;
	d->offset = off;
	d->value = value;
	d->limit = limit;
	return -EBADMSG;
}

static int parse_header(const uint8_t *buf, size_t len, struct img_info *info, struct img_diag *d)
{
	uint32_t magic;

	if (len < IMG_HEADER_SIZE)
		return fail(d, IMG_ERR_TRUNCATED_HEADER, 0, (uint32_t)len, IMG_HEADER_SIZE);
	magic = get_le32(buf + HDR_OFF_MAGIC);
	if (magic != IMG_MAGIC)
		return fail(d, IMG_ERR_BAD_MAGIC, HDR_OFF_MAGIC, magic, IMG_MAGIC);

	info->load_addr = get_le32(buf + HDR_OFF_LOAD_ADDR);
	info->hdr_size = get_le16(buf + HDR_OFF_HDR_SIZE);
	info->protect_tlv_size = get_le16(buf + HDR_OFF_PROT_SIZE);
	info->img_size = get_le32(buf + HDR_OFF_IMG_SIZE);
	info->flags = get_le32(buf + HDR_OFF_FLAGS);
	info->version.major = buf[HDR_OFF_VERSION];
	info->version.minor = buf[HDR_OFF_VERSION + 1];
	info->version.revision = get_le16(buf + HDR_OFF_VERSION + 2);
	info->version.build = get_le32(buf + HDR_OFF_VERSION + 4);

	if (info->hdr_size < IMG_HEADER_SIZE)
		return fail(d, IMG_ERR_BAD_HDR_SIZE, HDR_OFF_HDR_SIZE, info->hdr_size,
			    IMG_HEADER_SIZE);
	if (info->hdr_size > len)
		return fail(d, IMG_ERR_BAD_HDR_SIZE, HDR_OFF_HDR_SIZE, info->hdr_size, len);
	/* imgtool hashes the plaintext and then encrypts: the hash cannot be checked here. */
	if (info->flags & IMG_F_ENCRYPTED)
		return fail(d, IMG_ERR_ENCRYPTED, HDR_OFF_FLAGS, info->flags, 0);
	/* u16 + u32 + u16 cannot wrap in 64 bits. */
	if ((uint64_t)info->hdr_size + info->img_size > len)
		return fail(d, IMG_ERR_TRUNCATED_PAYLOAD, info->hdr_size, info->img_size, len);
	return 0;
}

/* What the walk over both areas found. */
struct scan {
	unsigned n_hash;
	bool other_hash; /* SHA-384/512 */
	size_t hash_off;
};

static int scan_entry(const uint8_t *buf, const struct tlv_entry *e, struct scan *s,
		      struct img_info *info, struct img_diag *d)
{
	switch (e->type) {
	case IMG_TLV_SHA256:
		if (++s->n_hash > 1)
			return fail(d, IMG_ERR_MULTIPLE_HASHES, e->off, s->n_hash, s->hash_off);
		if (e->len != IMG_HASH_LEN)
			return fail(d, IMG_ERR_HASH_LEN, e->off, e->len, IMG_HASH_LEN);
		s->hash_off = e->off;
		memcpy(info->hash, buf + e->val, IMG_HASH_LEN);
		break;
	case IMG_TLV_SHA384:
	case IMG_TLV_SHA512:
		s->other_hash = true;
		break;
	case IMG_TLV_KEYHASH:
		if (e->len != IMG_HASH_LEN)
			return fail(d, IMG_ERR_TLV_LEN, e->off, e->len, IMG_HASH_LEN);
		if (!info->has_key_hash && info->sig_type == IMG_SIG_NONE) {
			info->has_key_hash = true;
			memcpy(info->key_hash, buf + e->val, IMG_HASH_LEN);
		}
		break;
	case IMG_TLV_SEC_CNT:
		if (e->len != 4)
			return fail(d, IMG_ERR_TLV_LEN, e->off, e->len, 4);
		info->has_security_counter = true;
		info->security_counter = get_le32(buf + e->val);
		break;
	case IMG_TLV_ECDSA_SIG:
	case IMG_TLV_ED25519:
	case IMG_TLV_RSA2048_PSS:
	case IMG_TLV_ECDSA224:
	case IMG_TLV_RSA3072_PSS:
		if (info->sig_type != IMG_SIG_NONE)
			break; /* several signatures: info describes the first */
		info->sig_type = e->type == IMG_TLV_ECDSA_SIG ? IMG_SIG_ECDSA_P256
				 : e->type == IMG_TLV_ED25519 ? IMG_SIG_ED25519
							      : IMG_SIG_OTHER;
		info->sig_off = e->val;
		info->sig_len = e->len;
		break;
	default:
		break;
	}
	return 0;
}

static int walk(const uint8_t *buf, size_t len, size_t off, uint16_t tot, bool prot, struct scan *s,
		struct img_info *info, struct img_diag *d)
{
	struct tlv_iter it;
	struct tlv_entry e;
	int r;

	tlv_iter_init(&it, buf, len, off, tot, prot);
	while ((r = tlv_iter_next(&it, &e, d)) > 0) {
		r = scan_entry(buf, &e, s, info, d);
		if (r < 0) {
			d->prot = prot;
			d->tlv_type = e.type;
			return r;
		}
	}
	return r;
}

/* Protected area (present iff protect_tlv_size != 0), then the TLV area. */
static int parse_tlvs(const uint8_t *buf, size_t len, struct img_info *info, struct scan *s,
		      struct img_diag *d)
{
	size_t off = (size_t)info->hdr_size + info->img_size;
	uint16_t magic, tot;
	int r;

	if (info->protect_tlv_size != 0) {
		r = tlv_info_read(buf, len, off, true, &magic, &tot, d);
		if (r < 0)
			return r;
		if (magic != IMG_TLV_PROT_MAGIC)
			r = fail(d, IMG_ERR_PROT_TLV_MAGIC, off, magic, IMG_TLV_PROT_MAGIC);
		else if (tot != info->protect_tlv_size || tot < IMG_TLV_INFO_SIZE)
			r = fail(d, IMG_ERR_PROT_TLV_SIZE, off, tot, info->protect_tlv_size);
		if (r < 0) {
			d->prot = true;
			return r;
		}
		r = walk(buf, len, off, tot, true, s, info, d);
		if (r < 0)
			return r;
		off += tot;
	}
	info->hashed_len = off;

	r = tlv_info_read(buf, len, off, false, &magic, &tot, d);
	if (r < 0)
		return r;
	/* bootutil tlv.c: a protected area the header does not declare is an error. */
	if (magic == IMG_TLV_PROT_MAGIC)
		return fail(d, IMG_ERR_PROT_TLV_SIZE, off, tot, info->protect_tlv_size);
	if (magic != IMG_TLV_INFO_MAGIC)
		return fail(d, IMG_ERR_TLV_MAGIC, off, magic, IMG_TLV_INFO_MAGIC);
	if (tot < IMG_TLV_INFO_SIZE)
		return fail(d, IMG_ERR_TLV_SIZE, off, tot, IMG_TLV_INFO_SIZE);
	r = walk(buf, len, off, tot, false, s, info, d);
	if (r < 0)
		return r;
	info->total_len = off + tot;
	return 0;
}

static int parse(const uint8_t *buf, size_t len, struct img_info *info, struct img_diag *d,
		 bool check_hash)
{
	struct scan s = {0};
	uint8_t hash[IMG_HASH_LEN];
	int r;

	memset(info, 0, sizeof(*info));
	memset(d, 0, sizeof(*d));
	if (!buf && len > 0)
		return -EINVAL;
	r = parse_header(buf, len, info, d);
	if (r < 0)
		return r;
	r = parse_tlvs(buf, len, info, &s, d);
	if (r < 0)
		return r;
	if (s.n_hash == 0)
		return fail(d, s.other_hash ? IMG_ERR_HASH_UNSUPPORTED : IMG_ERR_NO_HASH,
			    info->hashed_len, 0, 0);
	info->hash_off = s.hash_off;
	/* Flash dumps carry erased (0xff) bytes after the image; anything else is not ours. */
	for (size_t i = info->total_len; i < len; i++)
		if (buf[i] != 0xff)
			return fail(d, IMG_ERR_TRAILING_DATA, i, buf[i], info->total_len);
	if (!check_hash)
		return 0;

	/* design.md: the hash covers header, payload and the protected TLV area. */
	r = img_sha256(buf, info->hashed_len, hash);
	if (r < 0)
		return r;
	return img_check_hash(info, hash, info->hash_off, d);
}

int img_check_hash(const struct img_info *info, const uint8_t computed[IMG_HASH_LEN],
		   size_t tlv_off, struct img_diag *d)
{
	if (memcmp(computed, info->hash, IMG_HASH_LEN) != 0) {
		fail(d, IMG_ERR_HASH_MISMATCH, tlv_off, 0, info->hashed_len);
		memcpy(d->tlv_hash, info->hash, IMG_HASH_LEN);
		memcpy(d->data_hash, computed, IMG_HASH_LEN);
		return -EBADMSG;
	}
	return 0;
}

int img_parse(const uint8_t *buf, size_t len, struct img_info *info, struct img_diag *diag)
{
	struct img_info i;
	struct img_diag d;

	return parse(buf, len, info ? info : &i, diag ? diag : &d, true);
}

int img_parse_no_hash(const uint8_t *buf, size_t len, struct img_info *info, struct img_diag *diag)
{
	struct img_info i;
	struct img_diag d;

	return parse(buf, len, info ? info : &i, diag ? diag : &d, false);
}
