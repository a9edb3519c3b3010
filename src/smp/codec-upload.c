/* codec-upload.c — image upload (group 1, id 1) request and response bodies. The request
 * encoder runs once per chunk: one pass into the caller's buffer, no allocation, and its size
 * is computable in advance so chunks fill the device's buffer exactly.
 * Zephyr "SMP group 1", Image upload; key order per smp_upload_req_encode() in otad/smp.h. */
#include <errno.h>
#include <string.h>

#include "otad/smp.h"
#include "smp/cbor-writer.h"
#include "smp/decoder.h"

/* An encoded text key shorter than 24 bytes: one head byte plus its characters. */
#define KEY_SIZE(k) (sizeof(k))

static size_t upload_entries(const struct smp_upload_req *r)
{
	size_t n = 2; /* "off", "data" */

	if (r->has_first)
		n += r->sha_len > 0 ? 3 : 2; /* "image", "len", ["sha"] */
	if (r->has_upgrade)
		n++;
	return n;
}

size_t smp_upload_req_encoded_len(const struct smp_upload_req *r, size_t data_len)
{
	size_t n = cbor_head_size(upload_entries(r));

	if (r->has_first) {
		n += KEY_SIZE("image") + cbor_head_size(r->image);
		n += KEY_SIZE("len") + cbor_head_size(r->len);
		if (r->sha_len > 0)
			n += KEY_SIZE("sha") + cbor_head_size(r->sha_len) + r->sha_len;
	}
	n += KEY_SIZE("off") + cbor_head_size(r->off);
	if (r->has_upgrade)
		n += KEY_SIZE("upgrade") + 1;
	n += KEY_SIZE("data") + cbor_head_size(data_len);
	if (data_len > SIZE_MAX - n)
		return SIZE_MAX;
	return n + data_len;
}

size_t smp_upload_req_max_data(const struct smp_upload_req *r, size_t body_max)
{
	/* RFC 8949 3.1: a byte string head is 1 byte up to length 23, then 2, 3, 5, 9 bytes. */
	static const struct {
		size_t head;
		uint64_t lo, hi;
	} classes[] = {
		{1, 0, 23},
		{2, 24, UINT8_MAX},
		{3, UINT8_MAX + 1, UINT16_MAX},
		{5, UINT16_MAX + 1, UINT32_MAX},
		{9, (uint64_t)UINT32_MAX + 1, UINT64_MAX},
	};
	/* Everything but the data byte string's head and payload. */
	size_t fixed = smp_upload_req_encoded_len(r, 0) - 1;
	size_t best = 0;

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		uint64_t cand;

		if (body_max < fixed + classes[i].head)
			break;
		cand = body_max - fixed - classes[i].head;
		if (cand > classes[i].hi)
			cand = classes[i].hi;
		if (cand >= classes[i].lo && cand > best)
			best = (size_t)cand;
	}
	return best;
}

int smp_upload_req_encode(uint8_t *buf, size_t size, const struct smp_upload_req *r)
{
	struct cbor_writer w;

	if (r->sha_len > sizeof(r->sha) || (r->data_len > 0 && !r->data))
		return -EINVAL;

	cw_init(&w, buf, size);
	cw_map(&w, upload_entries(r));
	if (r->has_first) {
		cw_key(&w, "image");
		cw_uint(&w, r->image);
	}
	cw_key(&w, "off");
	cw_uint(&w, r->off);
	if (r->has_first) {
		cw_key(&w, "len");
		cw_uint(&w, r->len);
		if (r->sha_len > 0) {
			cw_key(&w, "sha");
			cw_bytes(&w, r->sha, r->sha_len);
		}
	}
	if (r->has_upgrade) {
		cw_key(&w, "upgrade");
		cw_bool(&w, r->upgrade);
	}
	cw_key(&w, "data");
	cw_bytes(&w, r->data, r->data_len);
	return cw_finish(&w);
}

enum { UP_IMAGE, UP_LEN, UP_OFF, UP_SHA, UP_UPGRADE, UP_DATA };
static const struct smp_field upload_req_fields[] = {
	[UP_IMAGE] = SMP_U32("upload request", "image", struct smp_upload_req, image),
	[UP_LEN] = SMP_U32("upload request", "len", struct smp_upload_req, len),
	[UP_OFF] = SMP_U32("upload request", "off", struct smp_upload_req, off),
	[UP_SHA] = SMP_BYTES("upload request", "sha", struct smp_upload_req, sha, sha_len),
	[UP_UPGRADE] = SMP_BOOL("upload request", "upgrade", struct smp_upload_req, upgrade),
	[UP_DATA] = SMP_BYTES_REF("upload request", "data", struct smp_upload_req, data, data_len),
};
static const struct smp_msg upload_req_msg = SMP_MSG("upload request", upload_req_fields);

int smp_upload_req_decode(const uint8_t *body, size_t len, struct smp_upload_req *ret,
			  const char **ret_reason)
{
	uint32_t seen;

	*ret = (struct smp_upload_req){0};
	if (smp_decode_body(body, len, &upload_req_msg, ret, &seen, ret_reason) < 0)
		return -EBADMSG;
	if (!(seen & 1u << UP_OFF))
		return smp_bad(ret_reason, "upload request: 'off' missing");
	if (!(seen & 1u << UP_DATA))
		return smp_bad(ret_reason, "upload request: 'data' missing");
	ret->has_first = seen & 1u << UP_LEN;
	ret->has_upgrade = seen & 1u << UP_UPGRADE;
	return 0;
}

int smp_upload_rsp_encode(uint8_t *buf, size_t size, const struct smp_upload_rsp *r, bool v1_rc)
{
	struct cbor_writer w;

	if (!smp_err_ok(&r->err))
		return smp_err_rsp_encode(buf, size, &r->err);

	cw_init(&w, buf, size);
	cw_map(&w, (size_t)v1_rc + r->has_off + r->has_match);
	if (v1_rc) {
		cw_key(&w, "rc");
		cw_uint(&w, 0);
	}
	if (r->has_off) {
		cw_key(&w, "off");
		cw_uint(&w, r->off);
	}
	if (r->has_match) {
		cw_key(&w, "match");
		cw_bool(&w, r->match);
	}
	return cw_finish(&w);
}

enum { UPR_OFF, UPR_MATCH };
static const struct smp_field upload_rsp_fields[] = {
	[UPR_OFF] = SMP_U32("upload response", "off", struct smp_upload_rsp, off),
	[UPR_MATCH] = SMP_BOOL("upload response", "match", struct smp_upload_rsp, match),
	SMP_ERR_FIELDS("upload response", struct smp_upload_rsp, err),
};
static const struct smp_msg upload_rsp_msg = SMP_MSG("upload response", upload_rsp_fields);

int smp_upload_rsp_decode(const uint8_t *body, size_t len, struct smp_upload_rsp *ret,
			  const char **ret_reason)
{
	uint32_t seen;

	*ret = (struct smp_upload_rsp){0};
	if (smp_decode_body(body, len, &upload_rsp_msg, ret, &seen, ret_reason) < 0)
		return -EBADMSG;
	ret->has_off = seen & 1u << UPR_OFF;
	ret->has_match = seen & 1u << UPR_MATCH;
	return 0;
}
