/* test-smp-img.c — image management group (1) codecs: image state read/write, upload request
 * and response, erase, slot info. Golden bytes written by hand (RFC 8949, Zephyr SMP group 1);
 * round trips through both the client and the server side codecs. */
#include <errno.h>
#include <limits.h>
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

#define K_IMAGES    0x66, 'i', 'm', 'a', 'g', 'e', 's'
#define K_IMAGE	    0x65, 'i', 'm', 'a', 'g', 'e'
#define K_SLOT	    0x64, 's', 'l', 'o', 't'
#define K_SLOTS	    0x65, 's', 'l', 'o', 't', 's'
#define K_SIZE	    0x64, 's', 'i', 'z', 'e'
#define K_VERSION   0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n'
#define K_HASH	    0x64, 'h', 'a', 's', 'h'
#define K_BOOTABLE  0x68, 'b', 'o', 'o', 't', 'a', 'b', 'l', 'e'
#define K_PENDING   0x67, 'p', 'e', 'n', 'd', 'i', 'n', 'g'
#define K_CONFIRMED 0x69, 'c', 'o', 'n', 'f', 'i', 'r', 'm', 'e', 'd'
#define K_ACTIVE    0x66, 'a', 'c', 't', 'i', 'v', 'e'
#define K_PERMANENT 0x69, 'p', 'e', 'r', 'm', 'a', 'n', 'e', 'n', 't'
#define K_SPLIT	    0x6b, 's', 'p', 'l', 'i', 't', 'S', 't', 'a', 't', 'u', 's'
#define K_CONFIRM   0x67, 'c', 'o', 'n', 'f', 'i', 'r', 'm'
#define K_OFF	    0x63, 'o', 'f', 'f'
#define K_LEN	    0x63, 'l', 'e', 'n'
#define K_SHA	    0x63, 's', 'h', 'a'
#define K_DATA	    0x64, 'd', 'a', 't', 'a'
#define K_UPGRADE   0x67, 'u', 'p', 'g', 'r', 'a', 'd', 'e'
#define K_MATCH	    0x65, 'm', 'a', 't', 'c', 'h'
#define K_RC	    0x62, 'r', 'c'
#define K_ERR	    0x63, 'e', 'r', 'r'
#define K_GROUP	    0x65, 'g', 'r', 'o', 'u', 'p'
#define K_MAX	    0x6e, 'm', 'a', 'x', '_', 'i', 'm', 'a', 'g', 'e', '_', 's', 'i', 'z', 'e'
#define K_UPLOAD_ID 0x6f, 'u', 'p', 'l', 'o', 'a', 'd', '_', 'i', 'm', 'a', 'g', 'e', '_', 'i', 'd'

/* A 32-byte hash, 0x00..0x1f, and its CBOR byte string head (0x58 0x20: length 32). */
#define H32                                                                                        \
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,  \
		0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,      \
		0x1c, 0x1d, 0x1e, 0x1f
static const uint8_t h32[32] = {H32};

/* Decodes a body given as bytes from an exact-size heap copy (sanitizers see over-reads). */
#define DEC(fn, ret, why, ...)                                                                     \
	({                                                                                         \
		const uint8_t b_[] = {__VA_ARGS__};                                                \
		uint8_t *p_ = malloc(sizeof(b_));                                                  \
		int r_;                                                                            \
		assert_non_null(p_);                                                               \
		memcpy(p_, b_, sizeof(b_));                                                        \
		*(why) = NULL;                                                                     \
		r_ = fn(p_, sizeof(b_), ret, why);                                                 \
		free(p_);                                                                          \
		r_;                                                                                \
	})

#define ASSERT_REJECTED(fn, ret, want, ...)                                                        \
	do {                                                                                       \
		const char *w_;                                                                    \
		assert_int_equal(DEC(fn, ret, &w_, __VA_ARGS__), -EBADMSG);                        \
		assert_non_null(w_);                                                               \
		assert_string_equal(w_, want);                                                     \
	} while (0)

static void assert_encoded(int n, const uint8_t *got, const uint8_t *want, size_t want_len)
{
	assert_int_equal(n, (int)want_len);
	assert_memory_equal(got, want, want_len);
}

/* ---- Image state ----------------------------------------------------------------------------- */

static void test_image_state_decodes_zephyr_style_indefinite_response(void **state)
{
	struct smp_image_state s;
	const struct smp_slot_state *e;
	const char *why;

	/* What a single-image Zephyr device sends (zcbor, not canonical: indefinite maps),
	 * slot 1 pending for test. */
	assert_int_equal(DEC(smp_image_state_decode, &s, &why, 0xbf, K_IMAGES, 0x9f, 0xbf, K_SLOT,
			     0x00, K_VERSION, 0x65, '1', '.', '2', '.', '3', K_HASH, 0x58, 0x20,
			     H32, K_BOOTABLE, 0xf5, K_PENDING, 0xf4, K_CONFIRMED, 0xf5, K_ACTIVE,
			     0xf5, K_PERMANENT, 0xf4, 0xff, 0xbf, K_SLOT, 0x01, K_VERSION, 0x67,
			     '1', '.', '3', '.', '0', '.', '7', K_HASH, 0x58, 0x20, H32, K_BOOTABLE,
			     0xf5, K_PENDING, 0xf5, K_CONFIRMED, 0xf4, K_ACTIVE, 0xf4, K_PERMANENT,
			     0xf4, 0xff, 0xff, K_SPLIT, 0x00, 0xff),
			 0);
	assert_true(smp_err_ok(&s.err));
	assert_int_equal(s.n_slots, 2);

	e = smp_image_state_find(&s, 0, 0);
	assert_non_null(e);
	assert_string_equal(e->version, "1.2.3");
	assert_int_equal(e->hash_len, 32);
	assert_memory_equal(e->hash, h32, 32);
	assert_true(e->bootable && e->confirmed && e->active);
	assert_false(e->pending || e->permanent);

	e = smp_image_state_find(&s, 0, 1);
	assert_non_null(e);
	assert_ptr_equal(e, &s.slots[1]);
	assert_string_equal(e->version, "1.3.0.7");
	assert_true(e->pending && e->bootable);
	assert_false(e->confirmed || e->active || e->permanent);

	assert_null(smp_image_state_find(&s, 1, 0));
	assert_null(smp_image_state_find(&s, 0, 2));
}

static void test_image_state_entry_defaults_when_fields_are_absent(void **state)
{
	struct smp_image_state s;
	const char *why;

	assert_int_equal(DEC(smp_image_state_decode, &s, &why, 0xa1, K_IMAGES, 0x81, 0xa2, K_IMAGE,
			     0x01, K_SLOT, 0x01),
			 0);
	assert_int_equal(s.n_slots, 1);
	assert_int_equal(s.slots[0].image, 1);
	assert_int_equal(s.slots[0].slot, 1);
	assert_string_equal(s.slots[0].version, "");
	assert_int_equal(s.slots[0].hash_len, 0);
	assert_false(s.slots[0].bootable || s.slots[0].active);
}

static void test_image_state_encode_golden_bytes(void **state)
{
	struct smp_image_state s = {
		.n_slots = 1,
		.slots = {{.slot = 1, .version = "1.0", .bootable = true, .pending = true}},
	};
	uint8_t buf[128];

	assert_encoded(smp_image_state_encode(buf, sizeof(buf), &s), buf,
		       BYTES(0xa2, K_IMAGES, 0x81, 0xa8, K_IMAGE, 0x00, K_SLOT, 0x01, K_VERSION,
			     0x63, '1', '.', '0', K_BOOTABLE, 0xf5, K_PENDING, 0xf5, K_CONFIRMED,
			     0xf4, K_ACTIVE, 0xf4, K_PERMANENT, 0xf4, K_SPLIT, 0x00));
}

static void test_image_state_roundtrip_multi_image(void **state)
{
	struct smp_image_state in = {.n_slots = 4}, out;
	uint8_t buf[1024];
	const char *why;
	int n;

	for (unsigned i = 0; i < 4; i++) {
		struct smp_slot_state *e = &in.slots[i];

		e->image = i / 2;
		e->slot = i % 2;
		snprintf(e->version, sizeof(e->version), "%u.%u.%u.%u", 255, i, 65535, 4294967295u);
		e->hash_len = i == 3 ? 0 : 32;
		memcpy(e->hash, h32, 32);
		e->hash[0] = (uint8_t)i;
		e->bootable = true;
		e->active = i % 2 == 0;
		e->confirmed = i == 0;
		e->pending = i == 1;
		e->permanent = i == 3;
	}
	n = smp_image_state_encode(buf, sizeof(buf), &in);
	assert_true(n > 0);
	assert_int_equal(smp_image_state_decode(buf, (size_t)n, &out, &why), 0);
	assert_int_equal(out.n_slots, 4);
	for (unsigned i = 0; i < 4; i++) {
		const struct smp_slot_state *a = &in.slots[i], *b = &out.slots[i];

		assert_int_equal(a->image, b->image);
		assert_int_equal(a->slot, b->slot);
		assert_string_equal(a->version, b->version);
		assert_int_equal(a->hash_len, b->hash_len);
		assert_memory_equal(a->hash, b->hash, a->hash_len);
		assert_int_equal(a->bootable, b->bootable);
		assert_int_equal(a->pending, b->pending);
		assert_int_equal(a->confirmed, b->confirmed);
		assert_int_equal(a->active, b->active);
		assert_int_equal(a->permanent, b->permanent);
	}
}

static void test_image_state_encode_rejects_bad_input_and_writes_errors(void **state)
{
	struct smp_image_state s = {.n_slots = SMP_MAX_SLOTS + 1};
	uint8_t buf[64];

	assert_int_equal(smp_image_state_encode(buf, sizeof(buf), &s), -EINVAL);
	s.n_slots = 1;
	s.slots[0].hash_len = 33;
	assert_int_equal(smp_image_state_encode(buf, sizeof(buf), &s), -EINVAL);
	s.err = (struct smp_err){.v2 = true, .group = 1, .rc = IMG_MGMT_ERR_NO_IMAGE};
	assert_encoded(smp_image_state_encode(buf, sizeof(buf), &s), buf,
		       BYTES(0xa1, K_ERR, 0xa2, K_GROUP, 0x01, K_RC, 0x03));
}

static void test_image_state_truncates_long_version(void **state)
{
	struct smp_image_state s;
	const char *why;

	/* 50 characters into char[48] */
	assert_int_equal(DEC(smp_image_state_decode, &s, &why, 0xa1, K_IMAGES, 0x81, 0xa2, K_SLOT,
			     0x00, K_VERSION, 0x78, 50, '0', '1', '2', '3', '4', '5', '6', '7', '8',
			     '9', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '1', '2',
			     '3', '4', '5', '6', '7', '8', '9', '0', '1', '2', '3', '4', '5', '6',
			     '7', '8', '9', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
			 0);
	assert_int_equal(strlen(s.slots[0].version), 47);
	assert_memory_equal(s.slots[0].version, "01234567890123456789012345678901234567890123456",
			    47);
}

static void test_image_state_rejects_malformed_responses(void **state)
{
	struct smp_image_state s;

	ASSERT_REJECTED(smp_image_state_decode, &s, "image state: 'images' is not an array", 0xa1,
			K_IMAGES, 0xa0);
	ASSERT_REJECTED(smp_image_state_decode, &s, "image state: 'images' missing", 0xa0);
	ASSERT_REJECTED(smp_image_state_decode, &s, "image state entry: not a CBOR map", 0xa1,
			K_IMAGES, 0x81, 0x01);
	ASSERT_REJECTED(smp_image_state_decode, &s, "image state entry: 'slot' missing", 0xa1,
			K_IMAGES, 0x81, 0xa1, K_VERSION, 0x61, '1');
	ASSERT_REJECTED(smp_image_state_decode, &s,
			"image state entry: 'version' is not a text string", 0xa1, K_IMAGES, 0x81,
			0xa2, K_SLOT, 0x00, K_VERSION, 0x41, '1');
	ASSERT_REJECTED(smp_image_state_decode, &s, "image state entry: 'hash' is too long", 0xa1,
			K_IMAGES, 0x81, 0xa2, K_SLOT, 0x00, K_HASH, 0x58, 33, H32, 0x20);
	ASSERT_REJECTED(smp_image_state_decode, &s,
			"image state entry: 'hash' is not a byte string", 0xa1, K_IMAGES, 0x81,
			0xa2, K_SLOT, 0x00, K_HASH, 0x61, 'h');
	ASSERT_REJECTED(smp_image_state_decode, &s,
			"image state entry: 'bootable' is not a boolean", 0xa1, K_IMAGES, 0x81,
			0xa2, K_SLOT, 0x00, K_BOOTABLE, 0x01);
	ASSERT_REJECTED(smp_image_state_decode, &s,
			"image state entry: 'slot' is not an unsigned integer", 0xa1, K_IMAGES,
			0x81, 0xa1, K_SLOT, 0x20);
	ASSERT_REJECTED(smp_image_state_decode, &s, "image state entry: duplicate key 'slot'", 0xa1,
			K_IMAGES, 0x81, 0xa2, K_SLOT, 0x00, K_SLOT, 0x01);
	ASSERT_REJECTED(smp_image_state_decode, &s, "image state: more than 8 entries in 'images'",
			0xa1, K_IMAGES, 0x89, 0xa1, K_SLOT, 0, 0xa1, K_SLOT, 1, 0xa1, K_SLOT, 0,
			0xa1, K_SLOT, 1, 0xa1, K_SLOT, 0, 0xa1, K_SLOT, 1, 0xa1, K_SLOT, 0, 0xa1,
			K_SLOT, 1, 0xa1, K_SLOT, 0);
}

static void test_image_state_error_response_needs_no_images(void **state)
{
	struct smp_image_state s;
	const char *why;

	assert_int_equal(DEC(smp_image_state_decode, &s, &why, 0xa1, K_ERR, 0xa2, K_GROUP, 0x01,
			     K_RC, 0x18, IMG_MGMT_ERR_IMAGE_ALREADY_PENDING),
			 0);
	assert_true(s.err.v2);
	assert_int_equal(s.err.rc, IMG_MGMT_ERR_IMAGE_ALREADY_PENDING);
	assert_int_equal(s.n_slots, 0);
}

/* ---- Image state write ----------------------------------------------------------------------- */

static void test_state_write_req_golden_bytes(void **state)
{
	uint8_t buf[64];

	assert_encoded(smp_state_write_req_encode(buf, sizeof(buf), h32, 32, false), buf,
		       BYTES(0xa2, K_HASH, 0x58, 0x20, H32, K_CONFIRM, 0xf4));
	assert_encoded(smp_state_write_req_encode(buf, sizeof(buf), NULL, 0, true), buf,
		       BYTES(0xa1, K_CONFIRM, 0xf5));
	assert_int_equal(smp_state_write_req_encode(buf, sizeof(buf), h32, 33, false), -EINVAL);
}

static void test_state_write_req_roundtrip_and_errors(void **state)
{
	struct smp_state_write_req req;
	uint8_t buf[64];
	const char *why;
	int n;

	n = smp_state_write_req_encode(buf, sizeof(buf), h32, 32, false);
	assert_int_equal(smp_state_write_req_decode(buf, (size_t)n, &req, &why), 0);
	assert_true(req.has_hash);
	assert_int_equal(req.hash_len, 32);
	assert_memory_equal(req.hash, h32, 32);
	assert_false(req.confirm);

	n = smp_state_write_req_encode(buf, sizeof(buf), NULL, 0, true);
	assert_int_equal(smp_state_write_req_decode(buf, (size_t)n, &req, &why), 0);
	assert_false(req.has_hash);
	assert_true(req.confirm);

	ASSERT_REJECTED(smp_state_write_req_decode, &req,
			"image state write request: 'hash' is too long", 0xa1, K_HASH, 0x58, 33,
			H32, 0x20);
	ASSERT_REJECTED(smp_state_write_req_decode, &req,
			"image state write request: 'confirm' is not a boolean", 0xa1, K_CONFIRM,
			0x01);
}

/* ---- Upload request -------------------------------------------------------------------------- */

static void test_upload_req_first_chunk_golden_bytes(void **state)
{
	const uint8_t data[] = {1, 2, 3, 4, 5};
	struct smp_upload_req r = {.off = 0,
				   .data = data,
				   .data_len = 5,
				   .has_first = true,
				   .image = 0,
				   .len = 0x1234,
				   .sha_len = 32};
	uint8_t buf[128];
	int n;

	memcpy(r.sha, h32, 32);
	n = smp_upload_req_encode(buf, sizeof(buf), &r);
	/* {"image": 0, "off": 0, "len": 4660, "sha": h'00..1f', "data": h'0102030405'} */
	assert_encoded(n, buf,
		       BYTES(0xa5, K_IMAGE, 0x00, K_OFF, 0x00, K_LEN, 0x19, 0x12, 0x34, K_SHA, 0x58,
			     0x20, H32, K_DATA, 0x45, 1, 2, 3, 4, 5));
	assert_int_equal(smp_upload_req_encoded_len(&r, 5), (size_t)n);
}

static void test_upload_req_later_chunk_golden_bytes(void **state)
{
	const uint8_t data[] = {0xaa, 0xbb, 0xcc};
	const struct smp_upload_req r = {
		.off = 512, .data = data, .data_len = 3, .len = 9, .sha_len = 32};
	uint8_t buf[32];

	/* first-chunk fields stay out even when set */
	assert_encoded(smp_upload_req_encode(buf, sizeof(buf), &r), buf,
		       BYTES(0xa2, K_OFF, 0x19, 0x02, 0x00, K_DATA, 0x43, 0xaa, 0xbb, 0xcc));
}

static void test_upload_req_upgrade_without_sha_golden_bytes(void **state)
{
	const struct smp_upload_req r = {
		.has_first = true, .image = 1, .len = 100, .has_upgrade = true, .upgrade = true};
	uint8_t buf[64];

	assert_encoded(smp_upload_req_encode(buf, sizeof(buf), &r), buf,
		       BYTES(0xa5, K_IMAGE, 0x01, K_OFF, 0x00, K_LEN, 0x18, 0x64, K_UPGRADE, 0xf5,
			     K_DATA, 0x40));
}

static void test_upload_req_encode_rejects_bad_input_and_small_buffers(void **state)
{
	const uint8_t data[8] = {0};
	struct smp_upload_req r = {.has_first = true, .sha_len = 33};
	uint8_t buf[128];
	size_t full;

	assert_int_equal(smp_upload_req_encode(buf, sizeof(buf), &r), -EINVAL);
	r.sha_len = 32;
	r.data_len = 1;
	assert_int_equal(smp_upload_req_encode(buf, sizeof(buf), &r), -EINVAL);
	r.data = data;
	r.data_len = sizeof(data);
	full = smp_upload_req_encoded_len(&r, r.data_len);
	for (size_t size = 0; size < full; size++) {
		memset(buf, 0xa5, sizeof(buf));
		assert_int_equal(smp_upload_req_encode(buf, size, &r), -ENOBUFS);
		for (size_t i = size; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xa5);
	}
	assert_int_equal(smp_upload_req_encode(buf, full, &r), (int)full);
}

static void test_upload_req_decode_is_zero_copy_and_order_independent(void **state)
{
	/* Zephyr's img_mgmt_client order: image, data, off, len, sha (4 bytes: a short sha) */
	const uint8_t body[] = {0xa5, K_IMAGE, 0x00, K_DATA, 0x42, 0xde, 0xad, K_OFF, 0x00, K_LEN,
				0x19, 0x01,    0x00, K_SHA,  0x44, 1,	 2,    3,     4};
	struct smp_upload_req r;
	const char *why;

	assert_int_equal(smp_upload_req_decode(body, sizeof(body), &r, &why), 0);
	assert_ptr_equal(r.data, body + 14);
	assert_int_equal(r.data_len, 2);
	assert_true(r.has_first);
	assert_int_equal(r.len, 256);
	assert_int_equal(r.sha_len, 4);
	assert_memory_equal(r.sha, ((const uint8_t[]){1, 2, 3, 4}), 4);
	assert_false(r.has_upgrade);
}

static void test_upload_req_roundtrip_client_to_server(void **state)
{
	static uint8_t data[300];
	uint8_t buf[512];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	for (unsigned v = 0; v < 16; v++) {
		struct smp_upload_req in = {
			.off = v & 1 ? 0 : 70000,
			.data = data,
			.data_len = v * 19,
			.has_first = v & 2,
			.image = v,
			.len = 123456,
			.sha_len = v & 4 ? 32 : 0,
			.has_upgrade = v & 8,
			.upgrade = v & 1,
		};
		struct smp_upload_req out;
		const char *why;
		int n;

		memcpy(in.sha, h32, 32);
		n = smp_upload_req_encode(buf, sizeof(buf), &in);
		assert_int_equal(n, (int)smp_upload_req_encoded_len(&in, in.data_len));
		assert_int_equal(smp_upload_req_decode(buf, (size_t)n, &out, &why), 0);
		assert_int_equal(out.off, in.off);
		assert_int_equal(out.data_len, in.data_len);
		assert_ptr_equal(out.data, buf + n - in.data_len);
		assert_memory_equal(out.data, data, in.data_len);
		assert_int_equal(out.has_first, in.has_first);
		assert_int_equal(out.has_upgrade, in.has_upgrade);
		if (in.has_first) {
			assert_int_equal(out.image, in.image);
			assert_int_equal(out.len, in.len);
			assert_int_equal(out.sha_len, in.sha_len);
			assert_memory_equal(out.sha, in.sha, in.sha_len);
		}
		if (in.has_upgrade)
			assert_int_equal(out.upgrade, in.upgrade);
	}
}

static void test_upload_req_decode_rejects_malformed_requests(void **state)
{
	struct smp_upload_req r;

	ASSERT_REJECTED(smp_upload_req_decode, &r, "upload request: 'off' missing", 0xa1, K_DATA,
			0x40);
	ASSERT_REJECTED(smp_upload_req_decode, &r, "upload request: 'data' missing", 0xa1, K_OFF,
			0x00);
	ASSERT_REJECTED(smp_upload_req_decode, &r, "upload request: 'data' is not a byte string",
			0xa2, K_OFF, 0x00, K_DATA, 0x60);
	ASSERT_REJECTED(smp_upload_req_decode, &r,
			"indefinite-length string where a definite-length one is required", 0xa2,
			K_OFF, 0x00, K_DATA, 0x5f, 0x41, 0x00, 0xff);
	ASSERT_REJECTED(smp_upload_req_decode, &r, "upload request: 'sha' is too long", 0xa2, K_OFF,
			0x00, K_SHA, 0x58, 33, H32, 0x20);
	ASSERT_REJECTED(smp_upload_req_decode, &r, "upload request: 'len' is out of range", 0xa2,
			K_OFF, 0x00, K_LEN, 0x1b, 0, 0, 0, 1, 0, 0, 0, 0);
	ASSERT_REJECTED(smp_upload_req_decode, &r, "upload request: 'off' is out of range", 0xa1,
			K_OFF, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	ASSERT_REJECTED(smp_upload_req_decode, &r, "upload request: 'upgrade' is not a boolean",
			0xa1, K_UPGRADE, 0xf6);
}

/* ---- Upload response ------------------------------------------------------------------------- */

static void test_upload_rsp_encode_golden_bytes(void **state)
{
	struct smp_upload_rsp r = {.has_off = true, .off = 4096};
	uint8_t buf[32];

	assert_encoded(smp_upload_rsp_encode(buf, sizeof(buf), &r, false), buf,
		       BYTES(0xa1, K_OFF, 0x19, 0x10, 0x00));
	assert_encoded(smp_upload_rsp_encode(buf, sizeof(buf), &r, true), buf,
		       BYTES(0xa2, K_RC, 0x00, K_OFF, 0x19, 0x10, 0x00));
	r.has_match = true;
	assert_encoded(smp_upload_rsp_encode(buf, sizeof(buf), &r, false), buf,
		       BYTES(0xa2, K_OFF, 0x19, 0x10, 0x00, K_MATCH, 0xf4));
	r.err = (struct smp_err){.rc = MGMT_ERR_EBADSTATE};
	assert_encoded(smp_upload_rsp_encode(buf, sizeof(buf), &r, true), buf,
		       BYTES(0xa1, K_RC, 0x06));
	r.err = (struct smp_err){.v2 = true, .group = 1, .rc = IMG_MGMT_ERR_FLASH_WRITE_FAILED};
	assert_encoded(smp_upload_rsp_encode(buf, sizeof(buf), &r, false), buf,
		       BYTES(0xa1, K_ERR, 0xa2, K_GROUP, 0x01, K_RC, 0x0c));
	assert_encoded(smp_upload_rsp_encode(buf, sizeof(buf), &(struct smp_upload_rsp){0}, false),
		       buf, BYTES(0xa0));
}

static void test_upload_rsp_roundtrip_server_to_client(void **state)
{
	for (unsigned v = 0; v < 8; v++) {
		const struct smp_upload_rsp in = {
			.has_off = v & 1, .off = 0xfedcba98, .has_match = v & 2, .match = v & 4};
		struct smp_upload_rsp out;
		uint8_t buf[32];
		const char *why;
		int n = smp_upload_rsp_encode(buf, sizeof(buf), &in, v & 4);

		assert_true(n > 0);
		assert_int_equal(smp_upload_rsp_decode(buf, (size_t)n, &out, &why), 0);
		assert_true(smp_err_ok(&out.err));
		assert_int_equal(out.has_off, in.has_off);
		assert_int_equal(out.has_match, in.has_match);
		if (in.has_off)
			assert_int_equal(out.off, in.off);
		if (in.has_match)
			assert_int_equal(out.match, in.match);
	}
}

/* ---- Erase ----------------------------------------------------------------------------------- */

static void test_erase_req_golden_bytes_and_roundtrip(void **state)
{
	uint8_t buf[16];
	const char *why;
	int slot, n;

	assert_encoded(smp_erase_req_encode(buf, sizeof(buf), -1), buf, BYTES(0xa0));
	assert_encoded(smp_erase_req_encode(buf, sizeof(buf), 1), buf, BYTES(0xa1, K_SLOT, 0x01));
	for (int in = -1; in < 3; in++) {
		n = smp_erase_req_encode(buf, sizeof(buf), in);
		assert_int_equal(smp_erase_req_decode(buf, (size_t)n, &slot, &why), 0);
		assert_int_equal(slot, in);
	}
	n = smp_erase_req_encode(buf, sizeof(buf), INT_MAX);
	assert_int_equal(smp_erase_req_decode(buf, (size_t)n, &slot, &why), 0);
	assert_int_equal(slot, INT_MAX);
}

static void test_erase_req_decode_rejects_bad_slot(void **state)
{
	int slot;

	ASSERT_REJECTED(smp_erase_req_decode, &slot, "image erase request: 'slot' is out of range",
			0xa1, K_SLOT, 0x1a, 0x80, 0x00, 0x00, 0x00);
	ASSERT_REJECTED(smp_erase_req_decode, &slot,
			"image erase request: 'slot' is not an unsigned integer", 0xa1, K_SLOT,
			0xf5);
}

/* ---- Slot info ------------------------------------------------------------------------------- */

static void test_slot_info_decodes_nested_response_into_flat_slots(void **state)
{
	struct smp_slot_info_rsp r;
	const char *why;

	/* {"images": [{"image": 0, "slots": [{"slot": 0, "size": 0x60000},
	 *   {"slot": 1, "size": 0x60000, "upload_image_id": 2}], "max_image_size": 0x5f000}]} */
	assert_int_equal(DEC(smp_slot_info_rsp_decode, &r, &why, 0xa1, K_IMAGES, 0x81, 0xa3,
			     K_IMAGE, 0x00, K_SLOTS, 0x82, 0xa2, K_SLOT, 0x00, K_SIZE, 0x1a, 0x00,
			     0x06, 0x00, 0x00, 0xa3, K_SLOT, 0x01, K_SIZE, 0x1a, 0x00, 0x06, 0x00,
			     0x00, K_UPLOAD_ID, 0x02, K_MAX, 0x1a, 0x00, 0x05, 0xf0, 0x00),
			 0);
	assert_true(smp_err_ok(&r.err));
	assert_int_equal(r.n, 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(r.slots[i].image, 0);
		assert_int_equal(r.slots[i].slot, i);
		assert_int_equal(r.slots[i].size, 0x60000);
		assert_int_equal(r.slots[i].rc, 0);
		assert_true(r.slots[i].has_max_image_size);
		assert_int_equal(r.slots[i].max_image_size, 0x5f000);
	}
	assert_false(r.slots[0].has_upload_image_id);
	assert_true(r.slots[1].has_upload_image_id);
	assert_int_equal(r.slots[1].upload_image_id, 2);
	assert_ptr_equal(smp_slot_info_find(&r, 0, 1), &r.slots[1]);
	assert_null(smp_slot_info_find(&r, 1, 1));
}

/* Zephyr puts "rc" (flash_area_open()'s negative errno) where it could not read a slot's size. */
static void test_slot_info_slot_it_cannot_open_carries_rc_instead_of_size(void **state)
{
	struct smp_slot_info_rsp r;
	const char *why;
	uint32_t max = 0;
	bool slot_size = false;

	/* {"images": [{"image": 0, "slots": [{"slot": 0, "size": 0x1000},
	 *   {"slot": 1, "rc": -2, "upload_image_id": 0}]}]} */
	assert_int_equal(DEC(smp_slot_info_rsp_decode, &r, &why, 0xa1, K_IMAGES, 0x81, 0xa2,
			     K_IMAGE, 0x00, K_SLOTS, 0x82, 0xa2, K_SLOT, 0x00, K_SIZE, 0x19, 0x10,
			     0x00, 0xa3, K_SLOT, 0x01, K_RC, 0x21, K_UPLOAD_ID, 0x00),
			 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.slots[1].rc, -2);
	assert_int_equal(r.slots[1].size, 0);
	assert_int_equal(smp_slot_info_upload_max(&r, 0, &max, &slot_size), -EIO);
	/* and the encoder writes it back the same way */
	{
		uint8_t buf[128];

		assert_encoded(smp_slot_info_rsp_encode(buf, sizeof(buf), &r), buf,
			       BYTES(0xa1, K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x82, 0xa2,
				     K_SLOT, 0x00, K_SIZE, 0x19, 0x10, 0x00, 0xa3, K_SLOT, 0x01,
				     K_RC, 0x21, K_UPLOAD_ID, 0x00));
	}
}

static void test_slot_info_upload_max_prefers_max_image_size_then_the_upload_slot(void **state)
{
	struct smp_slot_info_rsp r = {
		.n = 4,
		.slots = {{.image = 0, .slot = 0, .size = 0x76000},
			  {.image = 0, .slot = 1, .size = 0x76000},
			  {.image = 1, .slot = 0, .size = 0x30000, .has_max_image_size = true,
			   .max_image_size = 0x2f000},
			  {.image = 1, .slot = 1, .size = 0x30000, .has_max_image_size = true,
			   .max_image_size = 0x2f000}},
	};
	uint32_t max = 0;
	bool slot_size = false;

	/* no max_image_size: the size of slot 1 */
	assert_int_equal(smp_slot_info_upload_max(&r, 0, &max, &slot_size), 0);
	assert_int_equal(max, 0x76000);
	assert_true(slot_size);
	/* the slot whose upload_image_id names the image, not slot 1 */
	r.slots[0].size = 0x50000;
	r.slots[0].has_upload_image_id = true;
	r.slots[0].upload_image_id = 0;
	assert_int_equal(smp_slot_info_upload_max(&r, 0, &max, &slot_size), 0);
	assert_int_equal(max, 0x50000);
	assert_int_equal(smp_slot_info_upload_max(&r, 1, &max, &slot_size), 0);
	assert_int_equal(max, 0x2f000);
	assert_false(slot_size);
	assert_int_equal(smp_slot_info_upload_max(&r, 2, &max, &slot_size), -ENOENT);
}

static void test_slot_info_image_number_may_follow_its_slots(void **state)
{
	struct smp_slot_info_rsp r;
	const char *why;

	assert_int_equal(DEC(smp_slot_info_rsp_decode, &r, &why, 0xbf, K_IMAGES, 0x9f, 0xbf,
			     K_SLOTS, 0x81, 0xa2, K_SLOT, 0x00, K_SIZE, 0x19, 0x10, 0x00, K_IMAGE,
			     0x01, 0xff, 0xa2, K_IMAGE, 0x02, K_SLOTS, 0x80, 0xff, 0xff),
			 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.slots[0].image, 1);
	assert_int_equal(r.slots[0].size, 4096);
	assert_false(r.slots[0].has_max_image_size);
}

static void test_slot_info_encode_golden_bytes(void **state)
{
	struct smp_slot_info_rsp r = {.n = 2,
				      .slots = {{.image = 0, .slot = 0, .size = 0x8000},
						{.image = 0, .slot = 1, .size = 0x8000}}};
	uint8_t buf[128];

	assert_encoded(smp_slot_info_rsp_encode(buf, sizeof(buf), &r), buf,
		       BYTES(0xa1, K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x82, 0xa2, K_SLOT,
			     0x00, K_SIZE, 0x19, 0x80, 0x00, 0xa2, K_SLOT, 0x01, K_SIZE, 0x19, 0x80,
			     0x00));
	/* what otasim answers: upload_image_id on the slot an upload goes to, and the image's
	 * max_image_size (the slot less MCUboot's trailer sector) */
	r.slots[1].has_upload_image_id = true;
	r.slots[0].has_max_image_size = r.slots[1].has_max_image_size = true;
	r.slots[0].max_image_size = r.slots[1].max_image_size = 0x7000;
	assert_encoded(smp_slot_info_rsp_encode(buf, sizeof(buf), &r), buf,
		       BYTES(0xa1, K_IMAGES, 0x81, 0xa3, K_IMAGE, 0x00, K_SLOTS, 0x82, 0xa2, K_SLOT,
			     0x00, K_SIZE, 0x19, 0x80, 0x00, 0xa3, K_SLOT, 0x01, K_SIZE, 0x19, 0x80,
			     0x00, K_UPLOAD_ID, 0x00, K_MAX, 0x19, 0x70, 0x00));
	/* too small a buffer: nothing past it, -ENOBUFS */
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(smp_slot_info_rsp_encode(buf, 20, &r), -ENOBUFS);
	assert_int_equal(buf[20], 0xee);
}

static void test_slot_info_roundtrip_groups_slots_by_image(void **state)
{
	struct smp_slot_info_rsp in = {.n = 5}, out;
	uint8_t buf[512];
	const char *why;
	int n;

	for (unsigned i = 0; i < in.n; i++) {
		in.slots[i].image = i < 2 ? 0 : i < 4 ? 1 : 2;
		in.slots[i].slot = i % 2;
		in.slots[i].size = 0x1000u << i;
		in.slots[i].has_max_image_size = in.slots[i].image == 1;
		in.slots[i].max_image_size = in.slots[i].has_max_image_size ? 0xffffffff : 0;
		in.slots[i].has_upload_image_id = i % 2 == 1;
		in.slots[i].upload_image_id = i % 2 == 1 ? in.slots[i].image : 0;
	}
	n = smp_slot_info_rsp_encode(buf, sizeof(buf), &in);
	assert_true(n > 0);
	assert_int_equal(smp_slot_info_rsp_decode(buf, (size_t)n, &out, &why), 0);
	assert_int_equal(out.n, in.n);
	for (unsigned i = 0; i < in.n; i++) {
		assert_int_equal(out.slots[i].image, in.slots[i].image);
		assert_int_equal(out.slots[i].slot, in.slots[i].slot);
		assert_int_equal(out.slots[i].size, in.slots[i].size);
		assert_int_equal(out.slots[i].has_max_image_size, in.slots[i].has_max_image_size);
		assert_int_equal(out.slots[i].max_image_size, in.slots[i].max_image_size);
		assert_int_equal(out.slots[i].has_upload_image_id, in.slots[i].has_upload_image_id);
		assert_int_equal(out.slots[i].upload_image_id, in.slots[i].upload_image_id);
	}
	in.n = SMP_MAX_SLOTS + 1;
	assert_int_equal(smp_slot_info_rsp_encode(buf, sizeof(buf), &in), -EINVAL);
	in.err = (struct smp_err){.rc = MGMT_ERR_ENOTSUP};
	assert_encoded(smp_slot_info_rsp_encode(buf, sizeof(buf), &in), buf,
		       BYTES(0xa1, K_RC, 0x08));
}

static void test_slot_info_rejects_malformed_responses(void **state)
{
#define SLOT0 0xa2, K_SLOT, 0x00, K_SIZE, 0x00
	struct smp_slot_info_rsp r;

	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info: 'images' missing", 0xa0);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info: 'images' is not an array", 0xa1,
			K_IMAGES, 0xa0);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info image: 'image' missing", 0xa1,
			K_IMAGES, 0x81, 0xa1, K_SLOTS, 0x80);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info image: 'slots' missing", 0xa1,
			K_IMAGES, 0x81, 0xa1, K_IMAGE, 0x00);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info image: 'slots' is not an array",
			0xa1, K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x00);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info slot: 'size' missing", 0xa1,
			K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x81, 0xa1, K_SLOT, 0x00);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info slot: 'slot' missing", 0xa1,
			K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x81, 0xa1, K_SIZE, 0x00);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info: more than 8 slots", 0xa1,
			K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x89, SLOT0, SLOT0, SLOT0,
			SLOT0, SLOT0, SLOT0, SLOT0, SLOT0, SLOT0);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info slot: 'size' missing", 0xa1,
			K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x81, 0xa2, K_SLOT, 0x00, K_RC,
			0x00); /* an "rc" of 0 says the slot was read: then its size must be there */
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info slot: 'size' is out of range",
			0xa1, K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x81, 0xa2, K_SLOT, 0x00,
			K_SIZE, 0x1b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r,
			"slot info slot: 'upload_image_id' is not an unsigned integer", 0xa1,
			K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x81, 0xa3, K_SLOT, 0x01,
			K_SIZE, 0x00, K_UPLOAD_ID, 0x20);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info slot: 'rc' is not an integer",
			0xa1, K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x81, 0xa2, K_SLOT, 0x01,
			K_RC, 0xf4);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r,
			"slot info image: 'max_image_size' is not an unsigned integer", 0xa1,
			K_IMAGES, 0x81, 0xa3, K_IMAGE, 0x00, K_SLOTS, 0x80, K_MAX, 0x61, 'x');
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info slot: duplicate key 'size'",
			0xa1, K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x81, 0xa3, K_SLOT, 0x00,
			K_SIZE, 0x00, K_SIZE, 0x01);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info slot: not a CBOR map", 0xa1,
			K_IMAGES, 0x81, 0xa2, K_IMAGE, 0x00, K_SLOTS, 0x81, 0x00);
	ASSERT_REJECTED(smp_slot_info_rsp_decode, &r, "slot info: trailing bytes after the map",
			0xa1, K_IMAGES, 0x80, 0x00);
	{
		const char *why;

		/* truncated in the middle of a slot: rejected, never read past the end */
		assert_int_equal(DEC(smp_slot_info_rsp_decode, &r, &why, 0xa1, K_IMAGES, 0x81, 0xa2,
				     K_IMAGE, 0x00, K_SLOTS, 0x81, 0xa2, K_SLOT, 0x00, K_SIZE, 0x1a,
				     0x00),
				 -EBADMSG);
		assert_non_null(why);
		/* the device's "not supported": an error, no images needed */
		assert_int_equal(DEC(smp_slot_info_rsp_decode, &r, &why, 0xa1, K_RC, 0x08), 0);
		assert_int_equal(r.err.rc, MGMT_ERR_ENOTSUP);
		assert_int_equal(r.n, 0);
	}
#undef SLOT0
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_state_decodes_zephyr_style_indefinite_response),
		cmocka_unit_test(test_image_state_entry_defaults_when_fields_are_absent),
		cmocka_unit_test(test_image_state_encode_golden_bytes),
		cmocka_unit_test(test_image_state_roundtrip_multi_image),
		cmocka_unit_test(test_image_state_encode_rejects_bad_input_and_writes_errors),
		cmocka_unit_test(test_image_state_truncates_long_version),
		cmocka_unit_test(test_image_state_rejects_malformed_responses),
		cmocka_unit_test(test_image_state_error_response_needs_no_images),
		cmocka_unit_test(test_state_write_req_golden_bytes),
		cmocka_unit_test(test_state_write_req_roundtrip_and_errors),
		cmocka_unit_test(test_upload_req_first_chunk_golden_bytes),
		cmocka_unit_test(test_upload_req_later_chunk_golden_bytes),
		cmocka_unit_test(test_upload_req_upgrade_without_sha_golden_bytes),
		cmocka_unit_test(test_upload_req_encode_rejects_bad_input_and_small_buffers),
		cmocka_unit_test(test_upload_req_decode_is_zero_copy_and_order_independent),
		cmocka_unit_test(test_upload_req_roundtrip_client_to_server),
		cmocka_unit_test(test_upload_req_decode_rejects_malformed_requests),
		cmocka_unit_test(test_upload_rsp_encode_golden_bytes),
		cmocka_unit_test(test_upload_rsp_roundtrip_server_to_client),
		cmocka_unit_test(test_erase_req_golden_bytes_and_roundtrip),
		cmocka_unit_test(test_erase_req_decode_rejects_bad_slot),
		cmocka_unit_test(test_slot_info_decodes_nested_response_into_flat_slots),
		cmocka_unit_test(test_slot_info_image_number_may_follow_its_slots),
		cmocka_unit_test(test_slot_info_slot_it_cannot_open_carries_rc_instead_of_size),
		cmocka_unit_test(test_slot_info_upload_max_prefers_max_image_size_then_the_upload_slot),
		cmocka_unit_test(test_slot_info_encode_golden_bytes),
		cmocka_unit_test(test_slot_info_roundtrip_groups_slots_by_image),
		cmocka_unit_test(test_slot_info_rejects_malformed_responses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
