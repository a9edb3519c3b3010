/* test-smp.c — SMP header, error codes, error bodies, the OS group codecs, and the decoding rules
 * every decoder shares (indefinite maps, unknown keys, types, duplicates, ranges, nesting).
 * Expected bytes are written out by hand from RFC 8949 and the Zephyr SMP specification. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/smp.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* CBOR text keys (RFC 8949 3.1, major type 3 with the length in the head byte). */
#define K_RC	0x62, 'r', 'c'
#define K_ERR	0x63, 'e', 'r', 'r'
#define K_GROUP 0x65, 'g', 'r', 'o', 'u', 'p'
#define K_OFF	0x63, 'o', 'f', 'f'
#define K_MATCH 0x65, 'm', 'a', 't', 'c', 'h'

static void assert_encoded(int n, const uint8_t *got, const uint8_t *want, size_t want_len)
{
	assert_int_equal(n, (int)want_len);
	assert_memory_equal(got, want, want_len);
}

/* Decoders get an exact-size heap copy so that ASan/valgrind see any read past the body. */
static uint8_t *dup_body(const uint8_t *b, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	if (len)
		memcpy(p, b, len);
	return p;
}

static int upload_rsp(const uint8_t *b, size_t len, struct smp_upload_rsp *rsp, const char **why)
{
	uint8_t *p = dup_body(b, len);
	int r;

	*why = NULL;
	r = smp_upload_rsp_decode(p, len, rsp, why);
	free(p);
	return r;
}

static void assert_upload_rsp_rejected(const uint8_t *b, size_t len, const char *why_want)
{
	struct smp_upload_rsp rsp;
	const char *why;

	assert_int_equal(upload_rsp(b, len, &rsp, &why), -EBADMSG);
	assert_non_null(why);
	assert_string_equal(why, why_want);
}

/* ---- Header ---------------------------------------------------------------------------------- */

static void test_hdr_encode_golden_bytes(void **state)
{
	const struct smp_hdr h = {.op = SMP_OP_WRITE,
				  .ver = SMP_VER_2,
				  .len = 0x0123,
				  .group = 1,
				  .seq = 0x42,
				  .id = 1};
	uint8_t out[SMP_HDR_SIZE];

	smp_hdr_encode(&h, out);
	/* 0x0a = res 000 | ver 01 | op 010 */
	assert_memory_equal(out,
			    ((const uint8_t[]){0x0a, 0x00, 0x01, 0x23, 0x00, 0x01, 0x42, 0x01}), 8);
}

static void test_hdr_encode_masks_op_and_ver_to_their_widths(void **state)
{
	const struct smp_hdr h = {.op = 0xff, .ver = 0xff, .flags = 0x80, .group = 0xabcd};
	uint8_t out[SMP_HDR_SIZE];

	smp_hdr_encode(&h, out);
	assert_int_equal(out[0], 0x1f);
	assert_int_equal(out[1], 0x80);
	assert_int_equal(out[4], 0xab);
	assert_int_equal(out[5], 0xcd);
}

static void test_hdr_decode_golden_bytes(void **state)
{
	const uint8_t in[] = {0x09, 0x00, 0x00, 0x05, 0x00, 0x01, 0x07, 0x06};
	struct smp_hdr h;

	assert_int_equal(smp_hdr_decode(in, sizeof(in), &h), 0);
	assert_int_equal(h.op, SMP_OP_READ_RSP);
	assert_int_equal(h.ver, SMP_VER_2);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.len, 5);
	assert_int_equal(h.group, SMP_GROUP_IMAGE);
	assert_int_equal(h.seq, 7);
	assert_int_equal(h.id, SMP_OS_PARAMS);
}

static void test_hdr_decode_rejects_reserved_bits_and_short_input(void **state)
{
	uint8_t in[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	struct smp_hdr h;

	assert_int_equal(smp_hdr_decode(in, sizeof(in), &h), 0);
	for (int bit = 5; bit < 8; bit++) {
		in[0] = (uint8_t)(0x01 | 1u << bit);
		assert_int_equal(smp_hdr_decode(in, sizeof(in), &h), -EBADMSG);
	}
	in[0] = 0x01;
	assert_int_equal(smp_hdr_decode(in, 7, &h), -EBADMSG);
	assert_int_equal(smp_hdr_decode(NULL, 8, &h), -EBADMSG);
}

static void test_hdr_roundtrip_every_op_and_version(void **state)
{
	for (unsigned op = 0; op < 8; op++)
		for (unsigned ver = 0; ver < 4; ver++) {
			const struct smp_hdr in = {.op = op,
						   .ver = ver,
						   .flags = 3,
						   .len = 0xfffe,
						   .group = 0x8001,
						   .seq = 255,
						   .id = 9};
			uint8_t buf[SMP_HDR_SIZE];
			struct smp_hdr out;

			smp_hdr_encode(&in, buf);
			assert_int_equal(smp_hdr_decode(buf, sizeof(buf), &out), 0);
			assert_int_equal(out.op, in.op);
			assert_int_equal(out.ver, in.ver);
			assert_int_equal(out.flags, in.flags);
			assert_int_equal(out.len, in.len);
			assert_int_equal(out.group, in.group);
			assert_int_equal(out.seq, in.seq);
			assert_int_equal(out.id, in.id);
		}
}

/* ---- Error codes ----------------------------------------------------------------------------- */

/* The numbers are on the wire: Zephyr's enum mcumgr_err_t and img_mgmt_err_code_t. */
static void test_error_enums_have_zephyr_wire_values(void **state)
{
	assert_int_equal(MGMT_ERR_EBADSTATE, 6);
	assert_int_equal(MGMT_ERR_ENOTSUP, 8);
	assert_int_equal(MGMT_ERR_EACCESSDENIED, 11);
	assert_int_equal(MGMT_ERR_UNSUPPORTED_TOO_NEW, 13);
	assert_int_equal(MGMT_ERR_EPERUSER, 256);
	assert_int_equal(IMG_MGMT_ERR_FLASH_CONFIG_QUERY_FAIL, 2);
	assert_int_equal(IMG_MGMT_ERR_HASH_NOT_FOUND, 8);
	assert_int_equal(IMG_MGMT_ERR_NO_FREE_SLOT, 9);
	assert_int_equal(IMG_MGMT_ERR_FLASH_ERASE_FAILED, 13);
	assert_int_equal(IMG_MGMT_ERR_INVALID_OFFSET, 20);
	assert_int_equal(IMG_MGMT_ERR_INVALID_HASH, 24);
	assert_int_equal(IMG_MGMT_ERR_IMAGE_ALREADY_PENDING, 28);
	assert_int_equal(IMG_MGMT_ERR_INVALID_IMAGE_VECTOR_TABLE, 29);
	assert_int_equal(IMG_MGMT_ERR_INVALID_IMAGE_TOO_LARGE, 30);
	assert_int_equal(IMG_MGMT_ERR_ACTIVE_SLOT_NOT_KNOWN, 34);
	assert_int_equal(OS_MGMT_ERR_QUERY_RESPONSE_VALUE_NOT_VALID, 6);
}

static void test_err_name_and_message_for_every_v1_code(void **state)
{
	static const char *const names[] = {
		"MGMT_ERR_EOK",
		"MGMT_ERR_EUNKNOWN",
		"MGMT_ERR_ENOMEM",
		"MGMT_ERR_EINVAL",
		"MGMT_ERR_ETIMEOUT",
		"MGMT_ERR_ENOENT",
		"MGMT_ERR_EBADSTATE",
		"MGMT_ERR_EMSGSIZE",
		"MGMT_ERR_ENOTSUP",
		"MGMT_ERR_ECORRUPT",
		"MGMT_ERR_EBUSY",
		"MGMT_ERR_EACCESSDENIED",
		"MGMT_ERR_UNSUPPORTED_TOO_OLD",
		"MGMT_ERR_UNSUPPORTED_TOO_NEW",
	};

	for (int32_t rc = 0; rc < 14; rc++) {
		const struct smp_err e = {.rc = rc};

		assert_string_equal(smp_err_name(&e), names[rc]);
		assert_true(strlen(smp_err_message(&e)) > 0);
	}
	assert_string_equal(smp_err_message(&(struct smp_err){.rc = 2}), "out of memory");
	assert_string_equal(smp_err_message(&(struct smp_err){.rc = 6}), "bad state");
}

static void test_err_name_for_every_v2_image_and_os_code(void **state)
{
	static const char *const img[] = {
		"OK",
		"UNKNOWN",
		"FLASH_CONFIG_QUERY_FAIL",
		"NO_IMAGE",
		"NO_TLVS",
		"INVALID_TLV",
		"TLV_MULTIPLE_HASHES_FOUND",
		"TLV_INVALID_SIZE",
		"HASH_NOT_FOUND",
		"NO_FREE_SLOT",
		"FLASH_OPEN_FAILED",
		"FLASH_READ_FAILED",
		"FLASH_WRITE_FAILED",
		"FLASH_ERASE_FAILED",
		"INVALID_SLOT",
		"NO_FREE_MEMORY",
		"FLASH_CONTEXT_ALREADY_SET",
		"FLASH_CONTEXT_NOT_SET",
		"FLASH_AREA_DEVICE_NULL",
		"INVALID_PAGE_OFFSET",
		"INVALID_OFFSET",
		"INVALID_LENGTH",
		"INVALID_IMAGE_HEADER",
		"INVALID_IMAGE_HEADER_MAGIC",
		"INVALID_HASH",
		"INVALID_FLASH_ADDRESS",
		"VERSION_GET_FAILED",
		"CURRENT_VERSION_IS_NEWER",
		"IMAGE_ALREADY_PENDING",
		"INVALID_IMAGE_VECTOR_TABLE",
		"INVALID_IMAGE_TOO_LARGE",
		"INVALID_IMAGE_DATA_OVERRUN",
		"IMAGE_CONFIRMATION_DENIED",
		"IMAGE_SETTING_TEST_TO_ACTIVE_DENIED",
		"ACTIVE_SLOT_NOT_KNOWN",
	};
	static const char *const os[] = {
		"OK",
		"UNKNOWN",
		"INVALID_FORMAT",
		"QUERY_YIELDS_NO_ANSWER",
		"RTC_NOT_SET",
		"RTC_COMMAND_FAILED",
		"QUERY_RESPONSE_VALUE_NOT_VALID",
	};
	char want[64];

	for (int32_t rc = 0; rc < (int32_t)(sizeof(img) / sizeof(img[0])); rc++) {
		const struct smp_err e = {.v2 = true, .group = SMP_GROUP_IMAGE, .rc = rc};

		snprintf(want, sizeof(want), "IMG_MGMT_ERR_%s", img[rc]);
		assert_string_equal(smp_err_name(&e), want);
		assert_true(strlen(smp_err_message(&e)) > 0);
		assert_string_not_equal(smp_err_message(&e), "unknown error code");
	}
	for (int32_t rc = 0; rc < (int32_t)(sizeof(os) / sizeof(os[0])); rc++) {
		const struct smp_err e = {.v2 = true, .group = SMP_GROUP_OS, .rc = rc};

		snprintf(want, sizeof(want), "OS_MGMT_ERR_%s", os[rc]);
		assert_string_equal(smp_err_name(&e), want);
		assert_string_not_equal(smp_err_message(&e), "unknown error code");
	}
}

static void test_err_name_v1_peruser_and_unknown_codes(void **state)
{
	assert_string_equal(smp_err_name(&(struct smp_err){.rc = 256}), "MGMT_ERR_EPERUSER");
	assert_string_equal(smp_err_name(&(struct smp_err){.rc = 1000}), "MGMT_ERR_EPERUSER");
	assert_string_equal(smp_err_name(&(struct smp_err){.rc = 14}), "MGMT_ERR_UNKNOWN_CODE");
	assert_string_equal(smp_err_name(&(struct smp_err){.rc = 255}), "MGMT_ERR_UNKNOWN_CODE");
	assert_string_equal(smp_err_name(&(struct smp_err){.rc = -1}), "MGMT_ERR_UNKNOWN_CODE");
	assert_string_equal(smp_err_message(&(struct smp_err){.rc = 14}), "unknown error code");
}

static void test_err_name_v2_uses_the_group_code_space(void **state)
{
	const struct smp_err img8 = {.v2 = true, .group = SMP_GROUP_IMAGE, .rc = 8};
	const struct smp_err os4 = {.v2 = true, .group = SMP_GROUP_OS, .rc = 4};

	assert_string_equal(smp_err_name(&img8), "IMG_MGMT_ERR_HASH_NOT_FOUND");
	assert_string_equal(smp_err_message(&img8), "hash not found");
	assert_string_equal(smp_err_name(&os4), "OS_MGMT_ERR_RTC_NOT_SET");
	/* The same rc in v1 is another error. */
	assert_string_equal(smp_err_name(&(struct smp_err){.rc = 8}), "MGMT_ERR_ENOTSUP");
	assert_string_equal(smp_err_name(&(struct smp_err){.v2 = true, .group = 1, .rc = 34}),
			    "IMG_MGMT_ERR_ACTIVE_SLOT_NOT_KNOWN");
	assert_string_equal(smp_err_name(&(struct smp_err){.v2 = true, .group = 1, .rc = 35}),
			    "MGMT_ERR_UNKNOWN_CODE");
	assert_string_equal(smp_err_name(&(struct smp_err){.v2 = true, .group = 0, .rc = 7}),
			    "MGMT_ERR_UNKNOWN_CODE");
	assert_string_equal(smp_err_name(&(struct smp_err){.v2 = true, .group = 9, .rc = 3}),
			    "MGMT_ERR_UNKNOWN_CODE");
	assert_string_equal(smp_err_name(&(struct smp_err){.v2 = true, .group = 9, .rc = 0}),
			    "MGMT_ERR_EOK");
}

static void test_err_format_v1_v2_unknown_and_truncated(void **state)
{
	char buf[96];

	assert_string_equal(smp_err_format(&(struct smp_err){.rc = 6}, buf, sizeof(buf)),
			    "rc=6 (MGMT_ERR_EBADSTATE: bad state)");
	assert_string_equal(smp_err_format(&(struct smp_err){.v2 = true, .group = 1, .rc = 8}, buf,
					   sizeof(buf)),
			    "group=1 rc=8 (IMG_MGMT_ERR_HASH_NOT_FOUND: hash not found)");
	assert_string_equal(smp_err_format(&(struct smp_err){.rc = 99}, buf, sizeof(buf)),
			    "rc=99 (MGMT_ERR_UNKNOWN_CODE: unknown error code)");
	assert_string_equal(smp_err_format(&(struct smp_err){.rc = -3}, buf, sizeof(buf)),
			    "rc=-3 (MGMT_ERR_UNKNOWN_CODE: unknown error code)");
	assert_string_equal(smp_err_format(&(struct smp_err){.rc = 6}, buf, 8), "rc=6 (M");
	assert_ptr_equal(smp_err_format(&(struct smp_err){.rc = 6}, buf, 0), buf);
}

/* ---- Error bodies ---------------------------------------------------------------------------- */

static int err_decode(const uint8_t *b, size_t len, struct smp_err *e, const char **why)
{
	uint8_t *p = dup_body(b, len);
	int r;

	*why = NULL;
	memset(e, 0x5a, sizeof(*e));
	r = smp_err_decode(p, len, e, why);
	free(p);
	return r;
}

static void test_err_decode_v1_rc(void **state)
{
	struct smp_err e;
	const char *why;

	assert_int_equal(err_decode(BYTES(0xa1, K_RC, 0x06), &e, &why), 0);
	assert_false(e.v2);
	assert_int_equal(e.rc, 6);
	/* negative integers: 0x20 is -1, 0x3a 7f ff ff ff is INT32_MIN */
	assert_int_equal(err_decode(BYTES(0xa1, K_RC, 0x20), &e, &why), 0);
	assert_int_equal(e.rc, -1);
	assert_int_equal(err_decode(BYTES(0xa1, K_RC, 0x3a, 0x7f, 0xff, 0xff, 0xff), &e, &why), 0);
	assert_int_equal(e.rc, INT32_MIN);
}

static void test_err_decode_v2_err_map(void **state)
{
	struct smp_err e;
	const char *why;

	assert_int_equal(err_decode(BYTES(0xa1, K_ERR, 0xa2, K_GROUP, 0x01, K_RC, 0x08), &e, &why),
			 0);
	assert_true(e.v2);
	assert_int_equal(e.group, 1);
	assert_int_equal(e.rc, 8);
	/* "rc" is left out when it is 0 */
	assert_int_equal(err_decode(BYTES(0xa1, K_ERR, 0xa1, K_GROUP, 0x19, 0xff, 0xff), &e, &why),
			 0);
	assert_true(e.v2);
	assert_int_equal(e.group, 0xffff);
	assert_true(smp_err_ok(&e));
}

static void test_err_decode_missing_error_field_means_success(void **state)
{
	struct smp_err e;
	const char *why;

	assert_int_equal(err_decode(BYTES(0xa0), &e, &why), 0);
	assert_false(e.v2);
	assert_int_equal(e.rc, 0);
	assert_int_equal(err_decode(BYTES(0xa1, K_OFF, 0x05), &e, &why), 0);
	assert_false(e.v2);
	assert_int_equal(e.rc, 0);
}

static void test_err_decode_nonzero_err_wins_over_rc(void **state)
{
	struct smp_err e;
	const char *why;

	assert_int_equal(err_decode(BYTES(0xa2, K_RC, 0x00, K_ERR, 0xa2, K_GROUP, 0x01, K_RC, 0x03),
				    &e, &why),
			 0);
	assert_true(e.v2);
	assert_int_equal(e.rc, 3);
	assert_int_equal(err_decode(BYTES(0xa2, K_ERR, 0xa2, K_GROUP, 0x01, K_RC, 0x05, K_RC, 0x06),
				    &e, &why),
			 0);
	assert_true(e.v2);
	assert_int_equal(e.rc, 5);
	/* an "err" reporting success does not hide a v1 failure */
	assert_int_equal(err_decode(BYTES(0xa2, K_RC, 0x06, K_ERR, 0xa2, K_GROUP, 0x01, K_RC, 0x00),
				    &e, &why),
			 0);
	assert_false(e.v2);
	assert_int_equal(e.rc, 6);
}

static void test_err_decode_rejects_malformed_error_fields(void **state)
{
	static const char bad_err[] =
		"SMP response: 'err' needs 'group' (0..65535) and 'rc' (0..2^31-1)";
	struct smp_err e;
	const char *why;

	assert_int_equal(err_decode(BYTES(0xa1, K_RC, 0x61, 'x'), &e, &why), -EBADMSG);
	assert_string_equal(why, "SMP response: 'rc' is not an integer");
	assert_int_equal(err_decode(BYTES(0xa1, K_RC, 0x1a, 0x80, 0, 0, 0), &e, &why), -EBADMSG);
	assert_string_equal(why, "SMP response: 'rc' is out of range");
	assert_int_equal(err_decode(BYTES(0xa1, K_RC, 0x3a, 0x80, 0, 0, 0), &e, &why), -EBADMSG);
	assert_string_equal(why, "SMP response: 'rc' is out of range");
	assert_int_equal(err_decode(BYTES(0xa1, K_ERR, 0x01), &e, &why), -EBADMSG);
	assert_string_equal(why, "SMP response: 'err' is not a map");
	assert_int_equal(err_decode(BYTES(0xa1, K_ERR, 0xa1, K_RC, 0x01), &e, &why), -EBADMSG);
	assert_string_equal(why, bad_err);
	assert_int_equal(err_decode(BYTES(0xa1, K_ERR, 0xa1, K_GROUP, 0x1a, 0, 1, 0, 0), &e, &why),
			 -EBADMSG);
	assert_string_equal(why, bad_err);
	assert_int_equal(
		err_decode(BYTES(0xa1, K_ERR, 0xa2, K_GROUP, 0x01, K_RC, 0x1a, 0x80, 0, 0, 0), &e,
			   &why),
		-EBADMSG);
	assert_string_equal(why, bad_err);
	assert_int_equal(err_decode(BYTES(0xa1, K_ERR, 0xa1, K_GROUP, 0x20), &e, &why), -EBADMSG);
	assert_string_equal(why, "SMP error map: 'group' is not an unsigned integer");
}

static void test_err_rsp_encode_v1_and_v2(void **state)
{
	uint8_t buf[32];

	assert_encoded(smp_err_rsp_encode(buf, sizeof(buf), &(struct smp_err){.rc = 8}), buf,
		       BYTES(0xa1, K_RC, 0x08));
	assert_encoded(smp_err_rsp_encode(buf, sizeof(buf), &(struct smp_err){.rc = -2}), buf,
		       BYTES(0xa1, K_RC, 0x21));
	assert_encoded(smp_err_rsp_encode(buf, sizeof(buf),
					  &(struct smp_err){.v2 = true, .group = 1, .rc = 30}),
		       buf, BYTES(0xa1, K_ERR, 0xa2, K_GROUP, 0x01, K_RC, 0x18, 0x1e));
	assert_int_equal(
		smp_err_rsp_encode(buf, sizeof(buf), &(struct smp_err){.v2 = true, .rc = -1}),
		-EINVAL);
}

static void test_err_rsp_roundtrip_v1_and_v2(void **state)
{
	const struct smp_err in[] = {
		{.rc = 0},
		{.rc = 6},
		{.rc = -100000},
		{.rc = INT32_MAX},
		{.rc = 256},
		{.v2 = true, .group = 1, .rc = 34},
		{.v2 = true, .group = 0xffff, .rc = INT32_MAX},
	};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		uint8_t buf[32];
		struct smp_err out;
		const char *why;
		int n = smp_err_rsp_encode(buf, sizeof(buf), &in[i]);

		assert_true(n > 0);
		assert_int_equal(err_decode(buf, (size_t)n, &out, &why), 0);
		assert_int_equal(out.v2, in[i].v2);
		assert_int_equal(out.group, in[i].group);
		assert_int_equal(out.rc, in[i].rc);
	}
}

static void test_ok_and_empty_bodies(void **state)
{
	uint8_t buf[8];

	assert_encoded(smp_ok_rsp_encode(buf, sizeof(buf), false), buf, BYTES(0xa0));
	assert_encoded(smp_ok_rsp_encode(buf, sizeof(buf), true), buf, BYTES(0xa1, K_RC, 0x00));
	assert_encoded(smp_empty_req_encode(buf, sizeof(buf)), buf, BYTES(0xa0));
	assert_int_equal(smp_empty_req_encode(buf, 0), -ENOBUFS);
	assert_int_equal(smp_empty_req_encode(NULL, 0), -ENOBUFS);
}

/* ---- Shared decoding rules, shown on the upload response ------------------------------------- */

static void test_upload_rsp_decodes_off_and_match(void **state)
{
	struct smp_upload_rsp rsp;
	const char *why;

	assert_int_equal(
		upload_rsp(BYTES(0xa2, K_OFF, 0x19, 0x10, 0x00, K_MATCH, 0xf5), &rsp, &why), 0);
	assert_true(rsp.has_off);
	assert_int_equal(rsp.off, 4096);
	assert_true(rsp.has_match);
	assert_true(rsp.match);
	assert_true(smp_err_ok(&rsp.err));

	assert_int_equal(upload_rsp(BYTES(0xa1, K_OFF, 0x1a, 0xff, 0xff, 0xff, 0xff), &rsp, &why),
			 0);
	assert_int_equal(rsp.off, UINT32_MAX);
	assert_false(rsp.has_match);
}

static void test_upload_rsp_v2_error_decodes_group_and_rc(void **state)
{
	struct smp_upload_rsp rsp;
	const char *why;

	assert_int_equal(
		upload_rsp(BYTES(0xa1, K_ERR, 0xa2, K_GROUP, 0x01, K_RC, 0x18, 0x1e), &rsp, &why),
		0);
	assert_true(rsp.err.v2);
	assert_int_equal(rsp.err.group, SMP_GROUP_IMAGE);
	assert_int_equal(rsp.err.rc, IMG_MGMT_ERR_INVALID_IMAGE_TOO_LARGE);
	assert_false(rsp.has_off);
}

static void test_upload_rsp_v1_legacy_rc_zero_with_off(void **state)
{
	struct smp_upload_rsp rsp;
	const char *why;

	assert_int_equal(upload_rsp(BYTES(0xa2, K_RC, 0x00, K_OFF, 0x18, 0x20), &rsp, &why), 0);
	assert_false(rsp.err.v2);
	assert_int_equal(rsp.err.rc, 0);
	assert_int_equal(rsp.off, 32);
	assert_int_equal(upload_rsp(BYTES(0xa1, K_RC, 0x03), &rsp, &why), 0);
	assert_int_equal(rsp.err.rc, MGMT_ERR_EINVAL);
	assert_false(rsp.has_off);
}

static void test_decoders_accept_indefinite_length_maps(void **state)
{
	struct smp_upload_rsp rsp;
	const char *why;

	/* old TinyCBOR-based mcumgr: 0xbf ... 0xff */
	assert_int_equal(
		upload_rsp(BYTES(0xbf, K_RC, 0x00, K_OFF, 0x19, 0x02, 0x00, 0xff), &rsp, &why), 0);
	assert_int_equal(rsp.off, 512);
	assert_int_equal(upload_rsp(BYTES(0xbf, K_ERR, 0xbf, K_GROUP, 0x01, K_RC, 0x09, 0xff, 0xff),
				    &rsp, &why),
			 0);
	assert_true(rsp.err.v2);
	assert_int_equal(rsp.err.rc, IMG_MGMT_ERR_NO_FREE_SLOT);
	assert_int_equal(upload_rsp(BYTES(0xbf, 0xff), &rsp, &why), 0);
	assert_false(rsp.has_off);
}

static void test_decoders_skip_unknown_keys_whatever_they_hold(void **state)
{
	struct smp_upload_rsp rsp;
	const char *why;

	assert_int_equal(
		upload_rsp(BYTES(0xbf,
				 /* "x": {"y": [1, [2, {"z": h'00'}], "s"], "i": [_ 1, 2]} */
				 0x61, 'x', 0xa2, 0x61, 'y', 0x83, 0x01, 0x82, 0x02, 0xa1, 0x61,
				 'z', 0x41, 0x00, 0x61, 's', 0x61, 'i', 0x9f, 0x01, 0x02, 0xff,
				 /* "t": 1(1700000000), a tagged value */
				 0x61, 't', 0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00,
				 /* "f": 1.5 (half float), "n": null, "u": undefined */
				 0x61, 'f', 0xf9, 0x3e, 0x00, 0x61, 'n', 0xf6, 0x61, 'u', 0xf7,
				 /* 5: -6, an integer key */
				 0x05, 0x25,
				 /* (_ "o", "ff"): 7, an indefinite-length key, not ours */
				 0x7f, 0x61, 'o', 0x62, 'f', 'f', 0xff, 0x07,
				 /* "rsn": (_ "oo", "ps"), "d": 1.0 (double) */
				 0x63, 'r', 's', 'n', 0x7f, 0x62, 'o', 'o', 0x62, 'p', 's', 0xff,
				 0x61, 'd', 0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, K_OFF, 0x07, 0xff),
			   &rsp, &why),
		0);
	assert_true(rsp.has_off);
	assert_int_equal(rsp.off, 7);
}

static void test_decoders_reject_wrong_typed_known_keys(void **state)
{
	assert_upload_rsp_rejected(BYTES(0xa1, K_OFF, 0x61, '7'),
				   "upload response: 'off' is not an unsigned integer");
	assert_upload_rsp_rejected(BYTES(0xa1, K_OFF, 0x20),
				   "upload response: 'off' is not an unsigned integer");
	assert_upload_rsp_rejected(BYTES(0xa1, K_OFF, 0xc2, 0x41, 0x01),
				   "upload response: 'off' is not an unsigned integer");
	assert_upload_rsp_rejected(BYTES(0xa1, K_OFF, 0xf6),
				   "upload response: 'off' is not an unsigned integer");
	assert_upload_rsp_rejected(BYTES(0xa1, K_MATCH, 0x01),
				   "upload response: 'match' is not a boolean");
}

static void test_decoders_reject_integers_above_uint32(void **state)
{
	assert_upload_rsp_rejected(BYTES(0xa1, K_OFF, 0x1b, 0, 0, 0, 1, 0, 0, 0, 0),
				   "upload response: 'off' is out of range");
}

static void test_decoders_reject_duplicate_keys(void **state)
{
	assert_upload_rsp_rejected(BYTES(0xa2, K_OFF, 0x01, K_OFF, 0x02),
				   "upload response: duplicate key 'off'");
	assert_upload_rsp_rejected(BYTES(0xa2, K_RC, 0x01, K_RC, 0x01),
				   "upload response: duplicate key 'rc'");
}

static void test_decoders_reject_non_map_bodies_and_trailing_bytes(void **state)
{
	assert_upload_rsp_rejected(BYTES(0x80), "upload response: not a CBOR map");
	assert_upload_rsp_rejected(BYTES(0x63, 'o', 'f', 'f'), "upload response: not a CBOR map");
	assert_upload_rsp_rejected(BYTES(0xa0, 0x00),
				   "upload response: trailing bytes after the map");
	assert_upload_rsp_rejected(NULL, 0, "truncated CBOR");
}

static void test_decoders_reject_truncated_and_reserved_bytes(void **state)
{
	assert_upload_rsp_rejected(BYTES(0xa1, K_OFF), "truncated CBOR");
	assert_upload_rsp_rejected(BYTES(0xa1, K_OFF, 0x19, 0x10), "truncated CBOR");
	assert_upload_rsp_rejected(BYTES(0xbf, K_OFF, 0x01), "truncated CBOR");
	assert_upload_rsp_rejected(BYTES(0xa1, 0x61, 'x', 0x1c),
				   "malformed CBOR (reserved or unassigned initial byte)");
	assert_upload_rsp_rejected(BYTES(0xa1, 0x61, 'x', 0xff),
				   "malformed CBOR (break outside an indefinite-length item)");
	/* an indefinite map with a key and no value */
	assert_upload_rsp_rejected(BYTES(0xbf, 0x61, 'x', 0xff),
				   "malformed CBOR (break outside an indefinite-length item)");
	/* a byte string chunk inside an indefinite text string */
	assert_upload_rsp_rejected(BYTES(0xa1, 0x61, 'x', 0x7f, 0x41, 0x00, 0xff),
				   "malformed CBOR (bad chunk in indefinite-length string)");
}

static void test_decoders_reject_absurd_lengths(void **state)
{
	/* a map, an array and strings claiming far more than the body holds */
	assert_upload_rsp_rejected(BYTES(0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
				   "truncated CBOR (container longer than the message)");
	assert_upload_rsp_rejected(BYTES(0xa1, 0x61, 'x', 0x9a, 0x00, 0x01, 0x00, 0x00, 0x01),
				   "truncated CBOR (container longer than the message)");
	assert_upload_rsp_rejected(
		BYTES(0xa1, 0x61, 'x', 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00),
		"truncated CBOR");
	assert_upload_rsp_rejected(BYTES(0xa1, 0x7a, 0x7f, 0xff, 0xff, 0xff, 'o', 0x00),
				   "truncated CBOR");
	assert_upload_rsp_rejected(BYTES(0xa2, K_OFF, 0x01), "truncated CBOR");
}

static void test_decoders_bound_nesting_depth(void **state)
{
	uint8_t body[64];
	struct smp_upload_rsp rsp;
	const char *why;
	size_t n;

	/* {"x": [[[...]]]}: 16 nested arrays are skipped, 17 are refused */
	for (unsigned depth = 15; depth <= 17; depth++) {
		n = 0;
		body[n++] = 0xa1;
		body[n++] = 0x61;
		body[n++] = 'x';
		for (unsigned i = 0; i < depth - 1; i++)
			body[n++] = 0x81;
		body[n++] = 0x80;
		if (depth <= 16) {
			assert_int_equal(upload_rsp(body, n, &rsp, &why), 0);
		} else {
			assert_int_equal(upload_rsp(body, n, &rsp, &why), -EBADMSG);
			assert_string_equal(why, "CBOR nested too deeply");
		}
	}
	/* tags count as levels too: 40 nested tags */
	n = 0;
	body[n++] = 0xa1;
	body[n++] = 0x61;
	body[n++] = 'x';
	for (unsigned i = 0; i < 40; i++)
		body[n++] = 0xc1;
	body[n++] = 0x00;
	assert_int_equal(upload_rsp(body, n, &rsp, &why), -EBADMSG);
	assert_string_equal(why, "CBOR nested too deeply");
}

static void test_decoder_reason_may_be_null(void **state)
{
	struct smp_upload_rsp rsp;

	assert_int_equal(smp_upload_rsp_decode(BYTES(0x80), &rsp, NULL), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_encode_golden_bytes),
		cmocka_unit_test(test_hdr_encode_masks_op_and_ver_to_their_widths),
		cmocka_unit_test(test_hdr_decode_golden_bytes),
		cmocka_unit_test(test_hdr_decode_rejects_reserved_bits_and_short_input),
		cmocka_unit_test(test_hdr_roundtrip_every_op_and_version),
		cmocka_unit_test(test_error_enums_have_zephyr_wire_values),
		cmocka_unit_test(test_err_name_and_message_for_every_v1_code),
		cmocka_unit_test(test_err_name_for_every_v2_image_and_os_code),
		cmocka_unit_test(test_err_name_v1_peruser_and_unknown_codes),
		cmocka_unit_test(test_err_name_v2_uses_the_group_code_space),
		cmocka_unit_test(test_err_format_v1_v2_unknown_and_truncated),
		cmocka_unit_test(test_err_decode_v1_rc),
		cmocka_unit_test(test_err_decode_v2_err_map),
		cmocka_unit_test(test_err_decode_missing_error_field_means_success),
		cmocka_unit_test(test_err_decode_nonzero_err_wins_over_rc),
		cmocka_unit_test(test_err_decode_rejects_malformed_error_fields),
		cmocka_unit_test(test_err_rsp_encode_v1_and_v2),
		cmocka_unit_test(test_err_rsp_roundtrip_v1_and_v2),
		cmocka_unit_test(test_ok_and_empty_bodies),
		cmocka_unit_test(test_upload_rsp_decodes_off_and_match),
		cmocka_unit_test(test_upload_rsp_v2_error_decodes_group_and_rc),
		cmocka_unit_test(test_upload_rsp_v1_legacy_rc_zero_with_off),
		cmocka_unit_test(test_decoders_accept_indefinite_length_maps),
		cmocka_unit_test(test_decoders_skip_unknown_keys_whatever_they_hold),
		cmocka_unit_test(test_decoders_reject_wrong_typed_known_keys),
		cmocka_unit_test(test_decoders_reject_integers_above_uint32),
		cmocka_unit_test(test_decoders_reject_duplicate_keys),
		cmocka_unit_test(test_decoders_reject_non_map_bodies_and_trailing_bytes),
		cmocka_unit_test(test_decoders_reject_truncated_and_reserved_bytes),
		cmocka_unit_test(test_decoders_reject_absurd_lengths),
		cmocka_unit_test(test_decoders_bound_nesting_depth),
		cmocka_unit_test(test_decoder_reason_may_be_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
