/* test-smp-upload-size.c — smp_upload_req_encoded_len() and smp_upload_req_max_data() against
 * the real encoder output, around every place a CBOR head grows (24, 256, 65536, 2^32). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "otad/smp.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Integers on both sides of each head-size step (RFC 8949 3.1). */
static const uint32_t ints[] = {
	0, 1, 23, 24, 25, 255, 256, 257, 65535, 65536, 65537, 0xfffffffe, 0xffffffff,
};
static const size_t sha_lens[] = {0, 1, 23, 24, 31, 32};
static const size_t data_lens[] = {0, 1, 22, 23, 24, 25, 254, 255, 256, 257};

static uint8_t *data_buf(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i ^ 0x5a);
	return p;
}

/* The encoder's real output length for r with data_len bytes. */
static size_t real_len(struct smp_upload_req r, const uint8_t *data, size_t data_len, uint8_t *buf,
		       size_t size)
{
	int n;

	r.data = data;
	r.data_len = data_len;
	n = smp_upload_req_encode(buf, size, &r);
	assert_true(n > 0);
	return (size_t)n;
}

static void test_encoded_len_equals_encoder_output_for_every_field_boundary(void **state)
{
	static uint8_t buf[1024];
	uint8_t *data = data_buf(300);
	unsigned checked = 0;

	for (unsigned v = 0; v < 4; v++)
		for (size_t s = 0; s < N(sha_lens); s++)
			for (size_t o = 0; o < N(ints); o++)
				for (size_t l = 0; l < N(ints); l++)
					for (size_t d = 0; d < N(data_lens); d++) {
						struct smp_upload_req r = {
							.off = ints[o],
							.has_first = v & 1,
							.image = ints[(o + l) % N(ints)],
							.len = ints[l],
							.sha_len = sha_lens[s],
							.has_upgrade = v & 2,
							.upgrade = o & 1,
						};
						size_t want = real_len(r, data, data_lens[d], buf,
								       sizeof(buf));

						assert_int_equal(smp_upload_req_encoded_len(
									 &r, data_lens[d]),
								 want);
						checked++;
					}
	assert_true(checked > 10000);
	free(data);
}

static void test_encoded_len_equals_encoder_output_for_every_data_length(void **state)
{
	const size_t max = 70000;
	uint8_t *data = data_buf(max);
	uint8_t *buf = malloc(max + 128);
	struct smp_upload_req r = {
		.off = 0x10000, .has_first = true, .len = 0x123456, .sha_len = 32};

	assert_non_null(buf);
	/* every length up to 1100, then both sides of 65536 */
	for (size_t d = 0; d < max; d = d < 1100 ? d + 1 : d < 65500 ? 65500 : d + 1) {
		if (d > 65600)
			break;
		assert_int_equal(smp_upload_req_encoded_len(&r, d),
				 real_len(r, data, d, buf, max + 128));
	}
	free(buf);
	free(data);
}

/* Beyond 2^32 we cannot allocate the data, but the byte string head is all that changes:
 * compare with what libcbor's encoder writes for that head. */
static void test_encoded_len_data_head_at_2_pow_32(void **state)
{
	const struct smp_upload_req r = {.off = 5};
	const uint64_t lens[] = {0xfffffffeull, 0xffffffffull, 0x100000000ull, 0x100000001ull};
	size_t base = smp_upload_req_encoded_len(&r, 0) - 1; /* without the 1-byte head of h'' */

	if (sizeof(size_t) < 8)
		skip();
	for (size_t i = 0; i < N(lens); i++) {
		unsigned char head[16];
		size_t head_len = cbor_encode_bytestring_start((size_t)lens[i], head, sizeof(head));

		assert_true(head_len > 0);
		assert_int_equal(smp_upload_req_encoded_len(&r, (size_t)lens[i]),
				 base + head_len + (size_t)lens[i]);
	}
}

static void test_encoded_len_saturates_instead_of_wrapping(void **state)
{
	const struct smp_upload_req r = {.off = 1, .has_first = true, .sha_len = 32};

	assert_int_equal(smp_upload_req_encoded_len(&r, SIZE_MAX), SIZE_MAX);
	assert_int_equal(smp_upload_req_encoded_len(&r, SIZE_MAX - 20), SIZE_MAX);
}

static void assert_max_data_is_largest_fit(const struct smp_upload_req *r, size_t body_max)
{
	size_t d = smp_upload_req_max_data(r, body_max);

	if (smp_upload_req_encoded_len(r, 0) > body_max) {
		assert_int_equal(d, 0);
		return;
	}
	assert_true(smp_upload_req_encoded_len(r, d) <= body_max);
	assert_true(smp_upload_req_encoded_len(r, d + 1) > body_max);
}

static void test_max_data_is_the_largest_fitting_length_for_every_budget(void **state)
{
	const struct smp_upload_req reqs[] = {
		{.off = 0},
		{.off = 0, .has_first = true, .len = 400000, .sha_len = 32},
		{.off = 0x10000, .has_upgrade = true},
		{.off = 0xffffffff,
		 .has_first = true,
		 .image = 24,
		 .len = 0xffffffff,
		 .sha_len = 24},
	};

	for (size_t i = 0; i < N(reqs); i++)
		for (size_t body_max = 0; body_max < 70000; body_max++)
			assert_max_data_is_largest_fit(&reqs[i], body_max);
}

/* The same property where the head grows from 5 to 9 bytes (needs a 64-bit size_t). */
static void test_max_data_at_the_2_pow_32_head_step(void **state)
{
	const struct smp_upload_req r = {.off = 1, .has_first = true, .len = 7, .sha_len = 32};
	size_t fixed;

	if (sizeof(size_t) < 8)
		skip();
	fixed = smp_upload_req_encoded_len(&r, 0) - 1;
	for (size_t k = 0; k < 16; k++) {
		size_t body_max = fixed + 5 + 0xffffffffull - 4 + k;

		assert_max_data_is_largest_fit(&r, body_max);
	}
	assert_int_equal(smp_upload_req_max_data(&r, fixed + 5 + 0xffffffffull + 3), 0xffffffffull);
	assert_int_equal(smp_upload_req_max_data(&r, fixed + 9 + 0x100000000ull), 0x100000000ull);
}

/* Chunks sized by max_data fill the budget through the real encoder; one byte more fails. */
static void test_max_data_chunks_encode_within_budget_and_one_more_does_not(void **state)
{
	const size_t budgets[] = {24,	25,    40,    60,    61,    62,	   63,	  64,
				  100,	120,   300,   301,   302,   303,   384,	  498,
				  2475, 65536, 65540, 65541, 65542, 65543, 65544, 66000};
	uint8_t *data = data_buf(70000);
	uint8_t *buf = malloc(70000);

	assert_non_null(buf);
	for (unsigned v = 0; v < 2; v++)
		for (size_t i = 0; i < N(budgets); i++) {
			struct smp_upload_req r = {.off = v ? 0 : 4096,
						   .data = data,
						   .has_first = v,
						   .len = 200000,
						   .sha_len = 32};
			size_t d = smp_upload_req_max_data(&r, budgets[i]);

			if (d == 0 && smp_upload_req_encoded_len(&r, 0) > budgets[i])
				continue;
			r.data_len = d;
			assert_true(smp_upload_req_encode(buf, budgets[i], &r) > 0);
			assert_true((size_t)smp_upload_req_encode(buf, budgets[i], &r) <=
				    budgets[i]);
			r.data_len = d + 1;
			assert_int_equal(smp_upload_req_encode(buf, budgets[i], &r), -ENOBUFS);
		}
	free(buf);
	free(data);
}

static void test_max_data_is_zero_when_nothing_fits(void **state)
{
	const struct smp_upload_req r = {.has_first = true, .len = 100, .sha_len = 32};
	size_t empty = smp_upload_req_encoded_len(&r, 0);

	assert_int_equal(smp_upload_req_max_data(&r, 0), 0);
	assert_int_equal(smp_upload_req_max_data(&r, empty - 1), 0);
	assert_int_equal(smp_upload_req_max_data(&r, empty), 0);
	assert_int_equal(smp_upload_req_max_data(&r, empty + 1), 1);
	/* 23 bytes keep a 1-byte head; 24 need 2, so budget empty+23 still gives 23 */
	assert_int_equal(smp_upload_req_max_data(&r, empty + 23), 23);
	assert_int_equal(smp_upload_req_max_data(&r, empty + 24), 23);
	assert_int_equal(smp_upload_req_max_data(&r, empty + 25), 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoded_len_equals_encoder_output_for_every_field_boundary),
		cmocka_unit_test(test_encoded_len_equals_encoder_output_for_every_data_length),
		cmocka_unit_test(test_encoded_len_data_head_at_2_pow_32),
		cmocka_unit_test(test_encoded_len_saturates_instead_of_wrapping),
		cmocka_unit_test(test_max_data_is_the_largest_fitting_length_for_every_budget),
		cmocka_unit_test(test_max_data_at_the_2_pow_32_head_step),
		cmocka_unit_test(test_max_data_chunks_encode_within_budget_and_one_more_does_not),
		cmocka_unit_test(test_max_data_is_zero_when_nothing_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
