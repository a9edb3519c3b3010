/* test-image.c — MCUboot image parsing and building: round trips, golden bytes, one broken file
 * per rejection reason with its diagnostic, truncation at every length, hostile mutations, and
 * loading files (the upload "sha"). Signatures are in test-image-sign.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/testlib.h"
#include "otad/image.h"
#include "util/bytes.h"
#include "util/fileio.h"
#include "util/hex.h"

struct buf {
	uint8_t *p;
	size_t len;
};

static void sha256(const void *p, size_t n, uint8_t out[32])
{
	assert_int_equal(EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL), 1);
}

static struct buf build(size_t payload, uint16_t hdr_size, uint32_t sec_cnt)
{
	struct img_build_opts o = {
		.version = {1, 2, 3, 4},
		.payload_size = payload,
		.seed = 7,
		.hdr_size = hdr_size,
		.security_counter = sec_cnt,
	};
	struct buf b;

	assert_int_equal(img_build(&o, &b.p, &b.len), 0);
	return b;
}

/* Parses a copy of exactly len bytes, so ASan/valgrind see any read past the end. */
static int parse_exact(const uint8_t *p, size_t len, struct img_info *info, struct img_diag *d)
{
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, p, len);
	r = img_parse(copy, len, info, d);
	free(copy);
	return r;
}

/* Parses b, expects err, and returns the diagnostic line for further checks. */
static const char *expect_err(const struct buf *b, enum img_err err, struct img_diag *d)
{
	static char line[IMG_DIAG_MAX];
	struct img_info info;

	assert_int_equal(parse_exact(b->p, b->len, &info, d), -EBADMSG);
	if (d->err != err)
		fail_msg("expected %s, got %s: %s", img_strerror(err), img_strerror(d->err),
			 img_diag_format(d, line, sizeof(line)));
	return img_diag_format(d, line, sizeof(line));
}

static void expect_line(const char *line, const char *want)
{
	if (!strstr(line, want))
		fail_msg("diagnostic \"%s\" lacks \"%s\"", line, want);
}

/* Offsets of an unsigned image without protected TLVs: TLV info, SHA entry, hash value. */
static size_t tlv_off(const struct buf *b)
{
	return (size_t)get_le16(b->p + 8) + get_le16(b->p + 10) + get_le32(b->p + 12);
}

/* ---- round trips -------------------------------------------------------------------------- */

static void check_roundtrip(size_t payload, uint16_t hdr_size, uint32_t sec_cnt)
{
	struct buf b = build(payload, hdr_size, sec_cnt);
	uint16_t hs = hdr_size ? hdr_size : 0x200;
	size_t prot = sec_cnt ? 12 : 0;
	struct img_info info;
	struct img_diag d;
	uint8_t h[32];

	assert_int_equal(parse_exact(b.p, b.len, &info, &d), 0);
	assert_int_equal(d.err, IMG_OK);
	assert_false(d.prot);
	assert_int_equal(info.hdr_size, hs);
	assert_int_equal(info.img_size, payload);
	assert_int_equal(info.protect_tlv_size, prot);
	assert_int_equal(info.hashed_len, hs + payload + prot);
	assert_int_equal(info.total_len, b.len);
	assert_int_equal(b.len, info.hashed_len + 4 + 4 + 32);
	assert_int_equal(info.version.major, 1);
	assert_int_equal(info.version.minor, 2);
	assert_int_equal(info.version.revision, 3);
	assert_int_equal(info.version.build, 4);
	assert_int_equal(info.has_security_counter, sec_cnt != 0);
	assert_int_equal(info.security_counter, sec_cnt);
	assert_false(info.has_key_hash);
	assert_int_equal(info.sig_type, IMG_SIG_NONE);
	sha256(b.p, info.hashed_len, h);
	assert_memory_equal(info.hash, h, 32);
	/* header padding is zeroed, as the Zephyr build leaves it for imgtool */
	for (size_t i = 32; i < hs; i++)
		assert_int_equal(b.p[i], 0);
	free(b.p);
}

static void test_build_parse_roundtrip_header_sizes_and_payloads(void **state)
{
	static const uint16_t hdr_sizes[] = {32, 33, 64, 0, 0x1000, 0xffff};
	static const size_t payloads[] = {0, 1, 3, 4, 1000, 70000};

	for (size_t i = 0; i < sizeof(hdr_sizes) / sizeof(hdr_sizes[0]); i++)
		for (size_t j = 0; j < sizeof(payloads) / sizeof(payloads[0]); j++) {
			check_roundtrip(payloads[j], hdr_sizes[i], 0);
			check_roundtrip(payloads[j], hdr_sizes[i], 0xdeadbeef);
		}
}

static void test_build_keeps_header_fields_and_is_deterministic(void **state)
{
	struct img_build_opts o = {
		.version = {255, 254, 65535, 4294967295U},
		.payload_size = 100,
		.seed = 1,
		.hdr_size = 64,
		.load_addr = 0x12345678,
		.flags = IMG_F_RAM_LOAD,
	};
	struct buf a, b, c;
	struct img_info info;
	struct img_diag d;

	assert_int_equal(img_build(&o, &a.p, &a.len), 0);
	assert_int_equal(img_build(&o, &b.p, &b.len), 0);
	o.seed = 2;
	assert_int_equal(img_build(&o, &c.p, &c.len), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.p, b.p, a.len);
	assert_memory_not_equal(a.p + 64, c.p + 64, 100);

	assert_int_equal(img_parse(a.p, a.len, &info, &d), 0);
	assert_int_equal(info.load_addr, 0x12345678);
	assert_int_equal(info.flags, IMG_F_RAM_LOAD);
	assert_int_equal(info.version.major, 255);
	assert_int_equal(info.version.minor, 254);
	assert_int_equal(info.version.revision, 65535);
	assert_int_equal(info.version.build, 4294967295U);
	free(a.p);
	free(b.p);
	free(c.p);
}

static void test_build_default_header_size_is_0x200(void **state)
{
	struct buf b = build(10, 0, 0);

	assert_int_equal(get_le16(b.p + 8), 0x200);
	assert_int_equal(b.len, 0x200 + 10 + 40);
	free(b.p);
}

static void test_build_rejects_bad_options(void **state)
{
	struct img_build_opts o = {.payload_size = 10, .hdr_size = 31};
	uint8_t *p = NULL;
	size_t n;

	assert_int_equal(img_build(&o, &p, &n), -EINVAL);
	o.hdr_size = 32;
	o.payload_size = (size_t)UINT32_MAX;
	assert_int_equal(img_build(&o, &p, &n), -EINVAL);
	o.payload_size = 10;
	o.key_pem = "not a key";
	o.key_pem_len = strlen(o.key_pem);
	assert_int_equal(img_build(&o, &p, &n), -EINVAL);
	assert_null(p);
	assert_int_equal(img_build(NULL, &p, &n), -EINVAL);
}

/* ---- golden bytes ------------------------------------------------------------------------- */

/* Hand-assembled from MCUboot docs/design.md: header (hdr_size 32, protect_tlv_size 12,
 * img_size 4, version 1.2.3+4, load_addr 0x10000), payload de ad be ef, protected area with
 * SEC_CNT 42, TLV area with SHA256 of the first 48 bytes (computed once with Python hashlib). */
static const uint8_t golden[] = {
	0x3d, 0xb8, 0xf3, 0x96, 0x00, 0x00, 0x01, 0x00, 0x20, 0x00, 0x0c, 0x00,
	0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x00,
	0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,				/* header */
	0xde, 0xad, 0xbe, 0xef,							/* payload */
	0x08, 0x69, 0x0c, 0x00, 0x50, 0x00, 0x04, 0x00, 0x2a, 0x00, 0x00, 0x00, /* protected */
	0x07, 0x69, 0x28, 0x00, 0x10, 0x00, 0x20, 0x00, /* TLV info, SHA256 entry header */
	0x97, 0xe2, 0x40, 0xc1, 0x94, 0x8c, 0x6f, 0x4a, 0x2e, 0x81, 0x3f, 0x54,
	0x83, 0xc0, 0x9b, 0x4b, 0xde, 0xab, 0x3b, 0xfb, 0xfc, 0x2b, 0xf8, 0x17,
	0x42, 0xef, 0x21, 0x58, 0xf7, 0x1b, 0x54, 0x0d,
};

static void test_golden_image_fields(void **state)
{
	struct img_info info;
	struct img_diag d;

	assert_int_equal(sizeof(golden), 88);
	assert_int_equal(parse_exact(golden, sizeof(golden), &info, &d), 0);
	assert_int_equal(info.load_addr, 0x10000);
	assert_int_equal(info.hdr_size, 32);
	assert_int_equal(info.protect_tlv_size, 12);
	assert_int_equal(info.img_size, 4);
	assert_int_equal(info.flags, 0);
	assert_int_equal(info.version.major, 1);
	assert_int_equal(info.version.minor, 2);
	assert_int_equal(info.version.revision, 3);
	assert_int_equal(info.version.build, 4);
	assert_int_equal(info.hashed_len, 48);
	assert_int_equal(info.total_len, 88);
	assert_true(info.has_security_counter);
	assert_int_equal(info.security_counter, 42);
	assert_memory_equal(info.hash, golden + 56, 32);
	assert_false(info.has_key_hash);
	assert_int_equal(info.sig_type, IMG_SIG_NONE);
}

static void test_golden_header_bytes_from_build(void **state)
{
	static const uint8_t want_hdr[32] = {
		0x3d, 0xb8, 0xf3, 0x96, /* magic 0x96f3b83d LE */
		0x78, 0x56, 0x34, 0x12, /* load_addr */
		0x40, 0x00,		/* hdr_size 64 */
		0x0c, 0x00,		/* protect_tlv_size 12 */
		0x10, 0x00, 0x00, 0x00, /* img_size 16 */
		0x20, 0x00, 0x00, 0x00, /* flags RAM_LOAD */
		0x01, 0x02, 0x03, 0x01, /* 1.2.259 */
		0x04, 0x03, 0x02, 0x01, /* build 0x01020304 */
		0x00, 0x00, 0x00, 0x00, /* pad */
	};
	static const uint8_t want_prot[12] = {0x08, 0x69, 0x0c, 0x00, 0x50, 0x00,
					      0x04, 0x00, 0x44, 0x33, 0x22, 0x11};
	static const uint8_t want_tlv[8] = {0x07, 0x69, 0x28, 0x00, 0x10, 0x00, 0x20, 0x00};
	struct img_build_opts o = {
		.version = {1, 2, 0x0103, 0x01020304},
		.payload_size = 16,
		.hdr_size = 64,
		.load_addr = 0x12345678,
		.flags = IMG_F_RAM_LOAD,
		.security_counter = 0x11223344,
	};
	uint8_t *p, h[32];
	size_t n;

	assert_int_equal(img_build(&o, &p, &n), 0);
	assert_int_equal(n, 64 + 16 + 12 + 40);
	assert_memory_equal(p, want_hdr, 32);
	assert_memory_equal(p + 80, want_prot, 12);
	assert_memory_equal(p + 92, want_tlv, 8);
	sha256(p, 92, h);
	assert_memory_equal(p + 100, h, 32);
	free(p);
}

/* ---- one broken file per reason ----------------------------------------------------------- */

static void test_rejects_bad_magic(void **state)
{
	struct buf b = build(16, 32, 0);
	struct img_diag d;

	put_le32(b.p, 0x12345678);
	assert_string_equal(expect_err(&b, IMG_ERR_BAD_MAGIC, &d),
			    "bad magic 0x12345678 at offset 0 (expected 0x96f3b83d)");
	assert_int_equal(d.offset, 0);
	assert_int_equal(d.value, 0x12345678);
	free(b.p);
}

static void test_rejects_truncated_header(void **state)
{
	struct buf b = build(16, 32, 0);
	struct img_diag d;

	b.len = 31;
	expect_line(expect_err(&b, IMG_ERR_TRUNCATED_HEADER, &d), "31 bytes (need 32)");
	assert_int_equal(d.value, 31);
	assert_int_equal(img_parse(NULL, 0, NULL, &d), -EBADMSG);
	assert_int_equal(d.err, IMG_ERR_TRUNCATED_HEADER);
	free(b.p);
}

static void test_rejects_header_size_too_small_and_too_large(void **state)
{
	struct buf b = build(16, 32, 0);
	struct img_diag d;

	put_le16(b.p + 8, 31);
	expect_line(expect_err(&b, IMG_ERR_BAD_HDR_SIZE, &d),
		    "bad header size 31 at offset 8 (minimum 32)");
	put_le16(b.p + 8, 0);
	expect_err(&b, IMG_ERR_BAD_HDR_SIZE, &d);
	assert_int_equal(d.value, 0);
	put_le16(b.p + 8, 0xffff);
	expect_line(expect_err(&b, IMG_ERR_BAD_HDR_SIZE, &d),
		    "bad header size 65535 at offset 8: runs past end of file (88 bytes)");
	free(b.p);
}

static void test_rejects_truncated_payload(void **state)
{
	struct buf b = build(1000, 32, 0);
	struct img_diag d;

	b.len = 500;
	expect_line(
		expect_err(&b, IMG_ERR_TRUNCATED_PAYLOAD, &d),
		"payload truncated: 1000 bytes from offset 32 run past end of file (500 bytes)");
	b.len = 1072;
	put_le32(b.p + 12, 0xffffffff);
	expect_err(&b, IMG_ERR_TRUNCATED_PAYLOAD, &d);
	assert_int_equal(d.value, 0xffffffff);
	assert_int_equal(d.offset, 32);
	free(b.p);
}

static void test_rejects_bad_protected_tlv_magic(void **state)
{
	struct buf b = build(16, 32, 5);
	struct img_diag d;

	put_le16(b.p + 48, 0x6907);
	assert_string_equal(expect_err(&b, IMG_ERR_PROT_TLV_MAGIC, &d),
			    "bad protected TLV magic 0x6907 at offset 48 (expected 0x6908)");
	assert_true(d.prot);
	free(b.p);
}

static void test_rejects_bad_protected_tlv_size(void **state)
{
	struct buf b = build(16, 32, 5);
	struct img_diag d;

	/* the area says 16, the header 12 */
	put_le16(b.p + 50, 16);
	expect_line(expect_err(&b, IMG_ERR_PROT_TLV_SIZE, &d),
		    "protected TLV area at offset 48 declares 16 bytes, the header's "
		    "protect_tlv_size says 12");
	/* the header says 0 but the area is there */
	put_le16(b.p + 50, 12);
	put_le16(b.p + 10, 0);
	expect_err(&b, IMG_ERR_PROT_TLV_SIZE, &d);
	assert_int_equal(d.value, 12);
	assert_int_equal(d.limit, 0);
	/* both say 2: below the info header */
	put_le16(b.p + 10, 2);
	put_le16(b.p + 50, 2);
	expect_err(&b, IMG_ERR_PROT_TLV_SIZE, &d);
	free(b.p);
}

static void test_rejects_bad_tlv_magic_and_size(void **state)
{
	struct buf b = build(16, 32, 0);
	size_t t = tlv_off(&b);
	struct img_diag d;

	put_le16(b.p + t, 0xffff);
	assert_string_equal(expect_err(&b, IMG_ERR_TLV_MAGIC, &d),
			    "bad TLV magic 0xffff at offset 48 (expected 0x6907)");
	put_le16(b.p + t, 0x6907);
	put_le16(b.p + t + 2, 3);
	expect_line(expect_err(&b, IMG_ERR_TLV_SIZE, &d),
		    "TLV area at offset 48 declares 3 bytes, less than its 4-byte info header");
	free(b.p);
}

static void test_rejects_truncated_tlv_area(void **state)
{
	struct buf b = build(16, 32, 0);
	struct img_diag d;

	/* inside the SHA-256 value */
	b.len = 80;
	assert_string_equal(expect_err(&b, IMG_ERR_TLV_TRUNCATED, &d),
			    "TLV area truncated at offset 52: entry 0x10 of 32 bytes runs past end "
			    "of file (80 bytes)");
	assert_int_equal(d.part, IMG_PART_ENTRY);
	assert_int_equal(d.tlv_type, IMG_TLV_SHA256);
	/* inside the info header, and right at its start */
	b.len = 50;
	expect_line(expect_err(&b, IMG_ERR_TLV_TRUNCATED, &d), "info header of 4 bytes");
	assert_int_equal(d.offset, 48);
	b.len = 48;
	expect_err(&b, IMG_ERR_TLV_TRUNCATED, &d);
	assert_int_equal(d.part, IMG_PART_INFO);
	/* the area declares more than the file holds: the next entry header is missing */
	b.len = 88;
	put_le16(b.p + 50, 40 + 36);
	expect_line(expect_err(&b, IMG_ERR_TLV_TRUNCATED, &d),
		    "TLV area truncated at offset 88: entry header of 4 bytes");
	free(b.p);
}

static void test_rejects_truncated_protected_area(void **state)
{
	struct buf b = build(16, 32, 5);
	struct img_diag d;

	b.len = 57;
	expect_line(expect_err(&b, IMG_ERR_TLV_TRUNCATED, &d),
		    "protected TLV area truncated at offset 52: entry 0x50 of 4 bytes");
	assert_true(d.prot);
	free(b.p);
}

static void test_rejects_tlv_entry_overrun(void **state)
{
	struct buf b = build(16, 32, 0);
	struct img_diag d;
	uint8_t *p;

	/* SHA entry claims 33 bytes in a 40-byte area that ends the file */
	put_le16(b.p + 54, 33);
	assert_string_equal(expect_err(&b, IMG_ERR_TLV_OVERRUN, &d),
			    "TLV area entry 0x10 at offset 52: 33 bytes of value run past the end "
			    "of the area at 88");
	/* same with 0xff padding after it: still the area's end, not the file's */
	p = realloc(b.p, 100);
	assert_non_null(p);
	b.p = p;
	memset(b.p + 88, 0xff, 12);
	b.len = 100;
	expect_err(&b, IMG_ERR_TLV_OVERRUN, &d);
	/* an area two bytes longer than its entries: a partial entry header */
	put_le16(b.p + 54, 32);
	put_le16(b.p + 50, 42);
	expect_line(expect_err(&b, IMG_ERR_TLV_OVERRUN, &d),
		    "TLV area entry header at offset 88 runs past the end of the area at 90");
	/* a protected entry running into the TLV area */
	free(b.p);
	b = build(16, 32, 5);
	put_le16(b.p + 54, 5);
	expect_err(&b, IMG_ERR_TLV_OVERRUN, &d);
	assert_true(d.prot);
	assert_int_equal(d.tlv_type, IMG_TLV_SEC_CNT);
	free(b.p);
}

static void test_rejects_missing_hash(void **state)
{
	struct buf b = build(16, 32, 0);
	struct img_diag d;

	b.p[52] = 0x77;
	expect_line(expect_err(&b, IMG_ERR_NO_HASH, &d), "no SHA-256 TLV (0x10)");
	/* a non-zero pad byte makes a 16-bit type, as current bootutil reads it */
	b.p[52] = IMG_TLV_SHA256;
	b.p[53] = 1;
	expect_err(&b, IMG_ERR_NO_HASH, &d);
	/* only SHA-384 */
	b.p[53] = 0;
	b.p[52] = IMG_TLV_SHA384;
	expect_line(expect_err(&b, IMG_ERR_HASH_UNSUPPORTED, &d), "only SHA-256 is supported");
	free(b.p);
}

/* b's hashed region followed by a TLV area made of n entries {type, len} (values from fill). */
static struct buf with_tlvs(const struct buf *b, size_t hashed, const uint8_t (*ent)[2], size_t n)
{
	struct buf o;
	size_t pos = hashed + 4;

	o.p = calloc(1, hashed + 4 + n * (4 + 255));
	assert_non_null(o.p);
	memcpy(o.p, b->p, hashed);
	for (size_t i = 0; i < n; i++) {
		o.p[pos] = ent[i][0];
		put_le16(o.p + pos + 2, ent[i][1]);
		if (ent[i][0] == IMG_TLV_SHA256 && ent[i][1] == 32)
			sha256(o.p, hashed, o.p + pos + 4);
		pos += 4 + ent[i][1];
	}
	put_le16(o.p + hashed, IMG_TLV_INFO_MAGIC);
	put_le16(o.p + hashed + 2, (uint16_t)(pos - hashed));
	o.len = pos;
	return o;
}

static void test_rejects_two_hashes_and_bad_lengths(void **state)
{
	static const uint8_t two[][2] = {{IMG_TLV_SHA256, 32}, {IMG_TLV_SHA256, 32}};
	static const uint8_t short_hash[][2] = {{IMG_TLV_SHA256, 31}};
	static const uint8_t keyhash[][2] = {{IMG_TLV_SHA256, 32}, {IMG_TLV_KEYHASH, 20}};
	static const uint8_t ok[][2] = {{0x77, 3}, {IMG_TLV_SHA256, 32}, {0xa0, 0}};
	struct buf b = build(16, 32, 0), t;
	struct img_diag d;

	t = with_tlvs(&b, 48, two, 2);
	expect_line(expect_err(&t, IMG_ERR_MULTIPLE_HASHES, &d),
		    "second SHA-256 TLV at offset 88 (the first is at offset 52)");
	free(t.p);
	t = with_tlvs(&b, 48, short_hash, 1);
	assert_string_equal(expect_err(&t, IMG_ERR_HASH_LEN, &d),
			    "TLV 0x10 at offset 52 has 31 bytes (expected 32)");
	free(t.p);
	t = with_tlvs(&b, 48, keyhash, 2);
	expect_line(expect_err(&t, IMG_ERR_TLV_LEN, &d), "TLV 0x01 at offset 88 has 20 bytes");
	free(t.p);
	/* unknown and empty entries around the hash are fine */
	t = with_tlvs(&b, 48, ok, 3);
	assert_int_equal(img_parse(t.p, t.len, NULL, &d), 0);
	free(t.p);
	/* a security counter of 3 bytes */
	free(b.p);
	b = build(16, 32, 5);
	put_le16(b.p + 54, 3);
	put_le16(b.p + 50, 11);
	put_le16(b.p + 10, 11);
	expect_err(&b, IMG_ERR_TLV_LEN, &d);
	assert_int_equal(d.tlv_type, IMG_TLV_SEC_CNT);
	assert_true(d.prot);
	free(b.p);
}

static void test_rejects_hash_mismatch_after_one_flipped_byte(void **state)
{
	struct buf b = build(1000, 64, 9);
	char want[65], got[65], line[IMG_DIAG_MAX];
	struct img_info info;
	struct img_diag d;
	uint8_t orig[32], now[32];

	assert_int_equal(img_parse(b.p, b.len, &info, &d), 0);
	memcpy(orig, info.hash, 32);
	b.p[64 + 500] ^= 0x01;
	sha256(b.p, 64 + 1000 + 12, now);
	expect_err(&b, IMG_ERR_HASH_MISMATCH, &d);
	assert_memory_equal(d.tlv_hash, orig, 32);
	assert_memory_equal(d.data_hash, now, 32);
	assert_int_equal(d.offset, 64 + 1000 + 12 + 4);
	snprintf(line, sizeof(line),
		 "SHA-256 mismatch: TLV at offset 1080 says %s, data (1076 bytes) hashes to %s",
		 hex_encode(orig, 32, want), hex_encode(now, 32, got));
	assert_string_equal(img_diag_format(&d, (char[IMG_DIAG_MAX]){0}, IMG_DIAG_MAX), line);
	/* img_parse_no_hash reads the TLV as a device does and does not notice */
	assert_int_equal(img_parse_no_hash(b.p, b.len, &info, &d), 0);
	assert_memory_equal(info.hash, orig, 32);
	b.p[64 + 500] ^= 0x01;

	/* the header and the protected area are covered too */
	b.p[20] ^= 0x80;
	expect_err(&b, IMG_ERR_HASH_MISMATCH, &d);
	b.p[20] ^= 0x80;
	b.p[64 + 1000 + 8] ^= 0x01;
	expect_err(&b, IMG_ERR_HASH_MISMATCH, &d);
	b.p[64 + 1000 + 8] ^= 0x01;
	assert_int_equal(img_parse(b.p, b.len, &info, &d), 0);
	free(b.p);
}

static void test_trailing_ff_padding_accepted_other_bytes_rejected(void **state)
{
	struct buf b = build(16, 32, 0);
	struct img_info info;
	struct img_diag d;
	uint8_t *p = realloc(b.p, 88 + 64);

	assert_non_null(p);
	b.p = p;
	memset(b.p + 88, 0xff, 64);
	b.len = 88 + 64;
	assert_int_equal(parse_exact(b.p, b.len, &info, &d), 0);
	assert_int_equal(info.total_len, 88);
	b.p[88 + 5] = 0x00;
	assert_string_equal(
		expect_err(&b, IMG_ERR_TRAILING_DATA, &d),
		"trailing data: byte 0x00 at offset 93 after the TLV area (ends at 88); "
		"only 0xff padding is accepted");
	free(b.p);
}

static void test_rejects_encrypted_flag(void **state)
{
	struct img_build_opts o = {.payload_size = 16, .hdr_size = 32};
	struct buf b;
	struct img_diag d;

	o.flags = IMG_F_ENCRYPTED_AES128;
	assert_int_equal(img_build(&o, &b.p, &b.len), 0);
	expect_line(expect_err(&b, IMG_ERR_ENCRYPTED, &d),
		    "encrypted image (flags 0x00000004 at offset 16)");
	free(b.p);
	o.flags = IMG_F_ENCRYPTED_AES256 | IMG_F_RAM_LOAD;
	assert_int_equal(img_build(&o, &b.p, &b.len), 0);
	expect_err(&b, IMG_ERR_ENCRYPTED, &d);
	assert_int_equal(d.value, IMG_F_ENCRYPTED_AES256 | IMG_F_RAM_LOAD);
	free(b.p);
}

/* ---- hostile input ------------------------------------------------------------------------ */

static void check_every_truncation(const struct buf *b)
{
	char line[IMG_DIAG_MAX];
	struct img_info info;
	struct img_diag d;

	for (size_t n = 0; n < b->len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		assert_non_null(copy);
		memcpy(copy, b->p, n);
		if (img_parse(copy, n, &info, &d) != -EBADMSG || d.err == IMG_OK)
			fail_msg("truncation to %zu of %zu bytes accepted", n, b->len);
		assert_true(img_diag_format(&d, line, sizeof(line))[0] != 0);
		assert_int_equal(img_parse_no_hash(copy, n, &info, &d), -EBADMSG);
		free(copy);
	}
	assert_int_equal(parse_exact(b->p, b->len, &info, &d), 0);
}

static void test_truncation_at_every_length_is_rejected(void **state)
{
	struct buf b = build(40, 32, 0);

	check_every_truncation(&b);
	free(b.p);
	b = build(40, 48, 77);
	check_every_truncation(&b);
	free(b.p);
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Random byte and length-field changes: never a crash, an over-read (ASan) or a hang; any
 * rejection carries a reason. */
static void test_random_mutations_never_crash(void **state)
{
	static const size_t fields[] = {8,  9,	10, 11, 12, 13, 14, 15, 16, 48, 49,
					50, 51, 52, 53, 54, 55, 58, 59, 62, 63, 64};
	struct buf b = build(16, 32, 3);
	uint32_t s = 0x1234567;
	struct img_info info;
	struct img_diag d;

	for (unsigned iter = 0; iter < 20000; iter++) {
		uint8_t *m = malloc(b.len);
		size_t len = b.len - (rnd(&s) % 4 == 0 ? rnd(&s) % b.len : 0);
		int r;

		assert_non_null(m);
		memcpy(m, b.p, b.len);
		for (unsigned k = 1 + rnd(&s) % 3; k > 0; k--) {
			size_t at = rnd(&s) % 2
					    ? fields[rnd(&s) % (sizeof(fields) / sizeof(fields[0]))]
					    : rnd(&s) % b.len;
			m[at] = rnd(&s) % 3 == 0 ? 0xff : (uint8_t)rnd(&s);
		}
		r = img_parse(m, len, &info, &d);
		assert_true(r == 0 || (r == -EBADMSG && d.err != IMG_OK));
		if (r == 0)
			assert_true(info.total_len <= len && info.hashed_len <= info.total_len);
		free(m);
	}
	free(b.p);
}

/* ---- files -------------------------------------------------------------------------------- */

static void test_load_reports_whole_file_sha(void **state)
{
	struct buf b = build(300, 32, 0);
	const char *path = tl_path("img.bin");
	struct img *i = NULL;
	struct img_diag d;
	uint8_t *p, h[32];

	/* with flash padding, the file's SHA differs from the image's hash TLV */
	p = realloc(b.p, b.len + 100);
	assert_non_null(p);
	b.p = p;
	memset(b.p + b.len, 0xff, 100);
	b.len += 100;
	assert_int_equal(write_file_atomic(path, b.p, b.len, 0644), 0);
	assert_int_equal(img_load(path, NULL, 0, &i, &d), 0);
	assert_int_equal(i->len, b.len);
	assert_memory_equal(i->data, b.p, b.len);
	sha256(b.p, b.len, h);
	assert_memory_equal(i->file_sha, h, 32);
	sha256(b.p, 32 + 300, h);
	assert_memory_equal(i->info.hash, h, 32);
	assert_memory_not_equal(i->file_sha, i->info.hash, 32);
	assert_int_equal(i->data[i->info.hash_off], IMG_TLV_SHA256); /* the entry: type, pad, len */
	assert_memory_equal(i->data + i->info.hash_off + IMG_TLV_HDR_SIZE, i->info.hash, 32);
	assert_null(img_free(i));
	assert_null(img_free(NULL));
	free(b.p);
}

static void test_load_errors(void **state)
{
	struct buf b = build(16, 32, 0);
	const char *path = tl_path("bad.bin");
	struct img *i = NULL;
	struct img_diag d;

	assert_int_equal(img_load(tl_path("missing.bin"), NULL, 0, &i, &d), -ENOENT);
	assert_int_equal(img_load(tl_tmpdir(), NULL, 0, &i, &d), -EISDIR);
	b.p[40] ^= 1;
	assert_int_equal(write_file_atomic(path, b.p, b.len, 0644), 0);
	assert_int_equal(img_load(path, NULL, 0, &i, &d), -EBADMSG);
	assert_int_equal(d.err, IMG_ERR_HASH_MISMATCH);
	assert_null(i);
	free(b.p);
}

static void test_strerror_and_format_cover_every_reason(void **state)
{
	char line[IMG_DIAG_MAX];
	struct img_diag d = {0};

	for (int e = IMG_OK; e <= IMG_ERR_BAD_KEY; e++) {
		d.err = (enum img_err)e;
		assert_string_not_equal(img_strerror(d.err), "unknown image error");
		assert_true(strlen(img_diag_format(&d, line, sizeof(line))) > 1);
	}
	assert_string_equal(img_strerror((enum img_err)999), "unknown image error");
	/* a short buffer truncates, never overflows */
	d.err = IMG_ERR_BAD_MAGIC;
	assert_string_equal(img_diag_format(&d, line, 4), "bad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_parse_roundtrip_header_sizes_and_payloads),
		cmocka_unit_test(test_build_keeps_header_fields_and_is_deterministic),
		cmocka_unit_test(test_build_default_header_size_is_0x200),
		cmocka_unit_test(test_build_rejects_bad_options),
		cmocka_unit_test(test_golden_image_fields),
		cmocka_unit_test(test_golden_header_bytes_from_build),
		cmocka_unit_test(test_rejects_bad_magic),
		cmocka_unit_test(test_rejects_truncated_header),
		cmocka_unit_test(test_rejects_header_size_too_small_and_too_large),
		cmocka_unit_test(test_rejects_truncated_payload),
		cmocka_unit_test(test_rejects_bad_protected_tlv_magic),
		cmocka_unit_test(test_rejects_bad_protected_tlv_size),
		cmocka_unit_test(test_rejects_bad_tlv_magic_and_size),
		cmocka_unit_test(test_rejects_truncated_tlv_area),
		cmocka_unit_test(test_rejects_truncated_protected_area),
		cmocka_unit_test(test_rejects_tlv_entry_overrun),
		cmocka_unit_test(test_rejects_missing_hash),
		cmocka_unit_test(test_rejects_two_hashes_and_bad_lengths),
		cmocka_unit_test(test_rejects_hash_mismatch_after_one_flipped_byte),
		cmocka_unit_test(test_trailing_ff_padding_accepted_other_bytes_rejected),
		cmocka_unit_test(test_rejects_encrypted_flag),
		cmocka_unit_test(test_truncation_at_every_length_is_rejected),
		cmocka_unit_test(test_random_mutations_never_crash),
		cmocka_unit_test(test_load_reports_whole_file_sha),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_strerror_and_format_cover_every_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
