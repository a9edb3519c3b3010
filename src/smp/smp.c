/* smp.c — the SMP header, management error codes (names, messages, formatting), and the
 * error-only and empty bodies shared by every group. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "otad/smp.h"
#include "smp/cbor-writer.h"
#include "smp/decoder.h"
#include "util/bytes.h"
#include "util/macro.h"

/* SMP Protocol Specification, "Frame: the envelope": byte 0 is Res(7..5) Ver(4..3) OP(2..0). */
#define SMP_HDR_RES_MASK  0xe0
#define SMP_HDR_VER_SHIFT 3
#define SMP_HDR_VER_MASK  0x03
#define SMP_HDR_OP_MASK	  0x07

void smp_hdr_encode(const struct smp_hdr *h, uint8_t out[SMP_HDR_SIZE])
{
	out[0] = (uint8_t)((h->ver & SMP_HDR_VER_MASK) << SMP_HDR_VER_SHIFT |
			   (h->op & SMP_HDR_OP_MASK));
	out[1] = h->flags;
	put_be16(out + 2, h->len);
	put_be16(out + 4, h->group);
	out[6] = h->seq;
	out[7] = h->id;
}

int smp_hdr_decode(const uint8_t *buf, size_t len, struct smp_hdr *ret)
{
	if (!buf || len < SMP_HDR_SIZE || (buf[0] & SMP_HDR_RES_MASK))
		return -EBADMSG;
	*ret = (struct smp_hdr){
		.op = buf[0] & SMP_HDR_OP_MASK,
		.ver = (buf[0] >> SMP_HDR_VER_SHIFT) & SMP_HDR_VER_MASK,
		.flags = buf[1],
		.len = get_be16(buf + 2),
		.group = get_be16(buf + 4),
		.seq = buf[6],
		.id = buf[7],
	};
	return 0;
}

/* ---- Error codes ---------------------------------------------------------------------------- */

struct err_desc {
	const char *name;
	const char *msg;
};

static const struct err_desc mgmt_errs[] = {
	[MGMT_ERR_EOK] = {"MGMT_ERR_EOK", "success"},
	[MGMT_ERR_EUNKNOWN] = {"MGMT_ERR_EUNKNOWN", "unknown error"},
	[MGMT_ERR_ENOMEM] = {"MGMT_ERR_ENOMEM", "out of memory"},
	[MGMT_ERR_EINVAL] = {"MGMT_ERR_EINVAL", "invalid value"},
	[MGMT_ERR_ETIMEOUT] = {"MGMT_ERR_ETIMEOUT", "timed out"},
	[MGMT_ERR_ENOENT] = {"MGMT_ERR_ENOENT", "no such entry"},
	[MGMT_ERR_EBADSTATE] = {"MGMT_ERR_EBADSTATE", "bad state"},
	[MGMT_ERR_EMSGSIZE] = {"MGMT_ERR_EMSGSIZE", "response too large"},
	[MGMT_ERR_ENOTSUP] = {"MGMT_ERR_ENOTSUP", "not supported"},
	[MGMT_ERR_ECORRUPT] = {"MGMT_ERR_ECORRUPT", "corrupt"},
	[MGMT_ERR_EBUSY] = {"MGMT_ERR_EBUSY", "busy"},
	[MGMT_ERR_EACCESSDENIED] = {"MGMT_ERR_EACCESSDENIED", "access denied"},
	[MGMT_ERR_UNSUPPORTED_TOO_OLD] = {"MGMT_ERR_UNSUPPORTED_TOO_OLD",
					  "SMP version too old for the device"},
	[MGMT_ERR_UNSUPPORTED_TOO_NEW] = {"MGMT_ERR_UNSUPPORTED_TOO_NEW",
					  "SMP version too new for the device"},
};

static const struct err_desc os_errs[] = {
	[OS_MGMT_ERR_OK] = {"OS_MGMT_ERR_OK", "success"},
	[OS_MGMT_ERR_UNKNOWN] = {"OS_MGMT_ERR_UNKNOWN", "unknown error"},
	[OS_MGMT_ERR_INVALID_FORMAT] = {"OS_MGMT_ERR_INVALID_FORMAT", "invalid format"},
	[OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER] = {"OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER",
						"query not recognized"},
	[OS_MGMT_ERR_RTC_NOT_SET] = {"OS_MGMT_ERR_RTC_NOT_SET", "RTC not set"},
	[OS_MGMT_ERR_RTC_COMMAND_FAILED] = {"OS_MGMT_ERR_RTC_COMMAND_FAILED", "RTC command failed"},
	[OS_MGMT_ERR_QUERY_RESPONSE_VALUE_NOT_VALID] =
		{"OS_MGMT_ERR_QUERY_RESPONSE_VALUE_NOT_VALID", "no valid value for the query"},
};

#define IMG_ERR(code, text) [IMG_MGMT_ERR_##code] = {"IMG_MGMT_ERR_" #code, text}
static const struct err_desc img_errs[] = {
	IMG_ERR(OK, "success"),
	IMG_ERR(UNKNOWN, "unknown error"),
	IMG_ERR(FLASH_CONFIG_QUERY_FAIL, "flash area configuration query failed"),
	IMG_ERR(NO_IMAGE, "no image in the slot"),
	IMG_ERR(NO_TLVS, "image has no TLV area"),
	IMG_ERR(INVALID_TLV, "invalid TLV"),
	IMG_ERR(TLV_MULTIPLE_HASHES_FOUND, "image has more than one hash TLV"),
	IMG_ERR(TLV_INVALID_SIZE, "TLV has an invalid size"),
	IMG_ERR(HASH_NOT_FOUND, "hash not found"),
	IMG_ERR(NO_FREE_SLOT, "no free slot"),
	IMG_ERR(FLASH_OPEN_FAILED, "flash area open failed"),
	IMG_ERR(FLASH_READ_FAILED, "flash read failed"),
	IMG_ERR(FLASH_WRITE_FAILED, "flash write failed"),
	IMG_ERR(FLASH_ERASE_FAILED, "flash erase failed"),
	IMG_ERR(INVALID_SLOT, "invalid slot"),
	IMG_ERR(NO_FREE_MEMORY, "out of heap memory"),
	IMG_ERR(FLASH_CONTEXT_ALREADY_SET, "flash context already set"),
	IMG_ERR(FLASH_CONTEXT_NOT_SET, "flash context not set"),
	IMG_ERR(FLASH_AREA_DEVICE_NULL, "flash area has no device"),
	IMG_ERR(INVALID_PAGE_OFFSET, "invalid page offset"),
	IMG_ERR(INVALID_OFFSET, "missing or invalid offset"),
	IMG_ERR(INVALID_LENGTH, "missing or invalid length"),
	IMG_ERR(INVALID_IMAGE_HEADER, "image shorter than its header"),
	IMG_ERR(INVALID_IMAGE_HEADER_MAGIC, "bad image header magic"),
	IMG_ERR(INVALID_HASH, "invalid hash"),
	IMG_ERR(INVALID_FLASH_ADDRESS, "image load address does not match the slot"),
	IMG_ERR(VERSION_GET_FAILED, "cannot read the running image's version"),
	IMG_ERR(CURRENT_VERSION_IS_NEWER, "running image is newer than the upload"),
	IMG_ERR(IMAGE_ALREADY_PENDING, "an image is already pending"),
	IMG_ERR(INVALID_IMAGE_VECTOR_TABLE, "invalid image vector table"),
	IMG_ERR(INVALID_IMAGE_TOO_LARGE, "image too large for the slot"),
	IMG_ERR(INVALID_IMAGE_DATA_OVERRUN, "more data than the announced image length"),
	IMG_ERR(IMAGE_CONFIRMATION_DENIED, "image confirmation denied"),
	IMG_ERR(IMAGE_SETTING_TEST_TO_ACTIVE_DENIED, "the active slot cannot be set for test"),
	IMG_ERR(ACTIVE_SLOT_NOT_KNOWN, "active slot unknown"),
};
#undef IMG_ERR

static const struct err_desc err_peruser = {"MGMT_ERR_EPERUSER", "application-defined error"};
static const struct err_desc err_unknown = {"MGMT_ERR_UNKNOWN_CODE", "unknown error code"};

static const struct err_desc *lookup(const struct err_desc *table, size_t n, int32_t rc)
{
	if (rc < 0 || (size_t)rc >= n || !table[rc].name)
		return &err_unknown;
	return &table[rc];
}

static const struct err_desc *describe(const struct smp_err *e)
{
	if (!e->v2) {
		if (e->rc >= MGMT_ERR_EPERUSER)
			return &err_peruser;
		return lookup(mgmt_errs, ARRAY_SIZE(mgmt_errs), e->rc);
	}
	switch (e->group) {
	case SMP_GROUP_OS:
		return lookup(os_errs, ARRAY_SIZE(os_errs), e->rc);
	case SMP_GROUP_IMAGE:
		return lookup(img_errs, ARRAY_SIZE(img_errs), e->rc);
	default: /* a group whose codes we do not know; 0 is success in every group */
		return e->rc == 0 ? &mgmt_errs[MGMT_ERR_EOK] : &err_unknown;
	}
}

const char *smp_err_name(const struct smp_err *e)
{
	return describe(e)->name;
}

const char *smp_err_message(const struct smp_err *e)
{
	return describe(e)->msg;
}

char *smp_err_format(const struct smp_err *e, char *buf, size_t size)
{
	const struct err_desc *d = describe(e);

	if (!buf || size == 0)
		return buf;
	if (e->v2)
		snprintf(buf, size, "group=%u rc=%" PRId32 " (%s: %s)", e->group, e->rc, d->name,
			 d->msg);
	else
		snprintf(buf, size, "rc=%" PRId32 " (%s: %s)", e->rc, d->name, d->msg);
	return buf;
}

/* ---- Error-only bodies ---------------------------------------------------------------------- */

struct err_only {
	struct smp_err err;
};

static const struct smp_field err_only_fields[] = {
	SMP_ERR_FIELDS("SMP response", struct err_only, err),
};
static const struct smp_msg err_only_msg = SMP_MSG("SMP response", err_only_fields);

int smp_err_decode(const uint8_t *body, size_t len, struct smp_err *ret, const char **ret_reason)
{
	struct err_only t = {0};
	int r;

	r = smp_decode_body(body, len, &err_only_msg, &t, NULL, ret_reason);
	*ret = t.err;
	return r;
}

int smp_err_rsp_encode(uint8_t *buf, size_t size, const struct smp_err *e)
{
	struct cbor_writer w;

	cw_init(&w, buf, size);
	if (e->v2) {
		/* SMP v2 "err" -> "rc" is an unsigned group code. */
		if (e->rc < 0)
			return -EINVAL;
		cw_map(&w, 1);
		cw_key(&w, "err");
		cw_map(&w, 2);
		cw_key(&w, "group");
		cw_uint(&w, e->group);
		cw_key(&w, "rc");
		cw_uint(&w, (uint64_t)e->rc);
	} else {
		cw_map(&w, 1);
		cw_key(&w, "rc");
		cw_int(&w, e->rc);
	}
	return cw_finish(&w);
}

int smp_ok_rsp_encode(uint8_t *buf, size_t size, bool v1_rc)
{
	struct cbor_writer w;

	cw_init(&w, buf, size);
	cw_map(&w, v1_rc ? 1 : 0);
	if (v1_rc) {
		cw_key(&w, "rc");
		cw_uint(&w, 0);
	}
	return cw_finish(&w);
}

int smp_empty_req_encode(uint8_t *buf, size_t size)
{
	return smp_ok_rsp_encode(buf, size, false);
}
