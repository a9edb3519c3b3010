/* test-smp-os.c — OS management group (0) codecs: echo, reset, mcumgr parameters.
 * Expected bytes are written out by hand from RFC 8949 and Zephyr's SMP group 0 page. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otad/smp.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

#define K_D	    0x61, 'd'
#define K_R	    0x61, 'r'
#define K_RC	    0x62, 'r', 'c'
#define K_FORCE	    0x65, 'f', 'o', 'r', 'c', 'e'
#define K_BUF_SIZE  0x68, 'b', 'u', 'f', '_', 's', 'i', 'z', 'e'
#define K_BUF_COUNT 0x69, 'b', 'u', 'f', '_', 'c', 'o', 'u', 'n', 't'

static void assert_encoded(int n, const uint8_t *got, const uint8_t *want, size_t want_len)
{
	assert_int_equal(n, (int)want_len);
	assert_memory_equal(got, want, want_len);
}

/* ---- Echo, reset, parameters ------------------------------------------------------- */

static void test_echo_req_golden_bytes(void **state)
{
	uint8_t buf[16];

	assert_encoded(smp_echo_req_encode(buf, sizeof(buf), "hi"), buf,
		       BYTES(0xa1, K_D, 0x62, 'h', 'i'));
	assert_encoded(smp_echo_req_encode(buf, sizeof(buf), NULL), buf, BYTES(0xa1, K_D, 0x60));
	assert_int_equal(smp_echo_req_encode(buf, 4, "hi"), -ENOBUFS);
}

static void test_echo_rsp_golden_bytes_and_roundtrip(void **state)
{
	uint8_t buf[300];
	char text[200];
	struct smp_echo_rsp rsp;
	const char *why;
	int n;

	assert_encoded(smp_echo_rsp_encode(buf, sizeof(buf), "ok"), buf,
		       BYTES(0xa1, K_R, 0x62, 'o', 'k'));
	memset(text, 'e', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	n = smp_echo_rsp_encode(buf, sizeof(buf), text);
	assert_int_equal(n, 1 + 2 + 2 + 199);
	assert_int_equal(smp_echo_rsp_decode(buf, (size_t)n, &rsp, &why), 0);
	assert_string_equal(rsp.text, text);
	assert_true(smp_err_ok(&rsp.err));
}

static void test_echo_rsp_truncates_long_text_at_a_character_boundary(void **state)
{
	uint8_t body[320];
	struct smp_echo_rsp rsp;
	const char *why;
	size_t n = 0;

	/* {"r": 254 x 'a' then "é" (c3 a9)}: 256 bytes do not fit 255 + NUL, and the cut must
	 * not leave half of the é */
	body[n++] = 0xa1;
	body[n++] = 0x61;
	body[n++] = 'r';
	body[n++] = 0x79;
	body[n++] = 0x01;
	body[n++] = 0x00;
	memset(body + n, 'a', 254);
	n += 254;
	body[n++] = 0xc3;
	body[n++] = 0xa9;
	assert_int_equal(smp_echo_rsp_decode(body, n, &rsp, &why), 0);
	assert_int_equal(strlen(rsp.text), 254);

	/* 253 x 'a' + é fits exactly */
	body[4] = 0x00; /* length 255, with a 2-byte argument (valid, if not minimal) */
	body[5] = 0xff;
	memmove(body + 6, body + 7, 255);
	n--;
	assert_int_equal(smp_echo_rsp_decode(body, n, &rsp, &why), 0);
	assert_int_equal(strlen(rsp.text), 255);
	assert_memory_equal(rsp.text + 253, "\xc3\xa9", 2);
}

static void test_echo_rsp_requires_r_unless_error(void **state)
{
	struct smp_echo_rsp rsp;
	const char *why;

	assert_int_equal(smp_echo_rsp_decode(BYTES(0xa0), &rsp, &why), -EBADMSG);
	assert_string_equal(why, "echo response: 'r' missing");
	assert_int_equal(smp_echo_rsp_decode(BYTES(0xa1, K_RC, 0x08), &rsp, &why), 0);
	assert_int_equal(rsp.err.rc, MGMT_ERR_ENOTSUP);
	assert_int_equal(smp_echo_rsp_decode(BYTES(0xa1, K_R, 0x41, 'x'), &rsp, &why), -EBADMSG);
	assert_string_equal(why, "echo response: 'r' is not a text string");
	assert_int_equal(smp_echo_rsp_decode(BYTES(0xa1, K_R, 0x7f, 0x61, 'x', 0xff), &rsp, &why),
			 -EBADMSG);
	assert_string_equal(why,
			    "indefinite-length string where a definite-length one is required");
}

static void test_echo_req_decode_server_side(void **state)
{
	uint8_t buf[32];
	char text[4];
	const char *why;
	int n = smp_echo_req_encode(buf, sizeof(buf), "hello");

	assert_int_equal(smp_echo_req_decode(buf, (size_t)n, text, sizeof(text), &why), 0);
	assert_string_equal(text, "hel");
	assert_int_equal(smp_echo_req_decode(buf, (size_t)n, text, 0, &why), -EINVAL);
	assert_int_equal(smp_echo_req_decode(BYTES(0xa0), text, sizeof(text), &why), -EBADMSG);
	assert_string_equal(why, "echo request: 'd' missing");
	assert_int_equal(smp_echo_req_decode(BYTES(0xa1, K_D, 0x01), text, sizeof(text), &why),
			 -EBADMSG);
	assert_string_equal(why, "echo request: 'd' is not a text string");
}

static void test_reset_req_golden_bytes(void **state)
{
	uint8_t buf[16];

	assert_encoded(smp_reset_req_encode(buf, sizeof(buf), false), buf, BYTES(0xa0));
	assert_encoded(smp_reset_req_encode(buf, sizeof(buf), true), buf,
		       BYTES(0xa1, K_FORCE, 0xf5));
}

static void test_reset_req_decode_accepts_bool_and_integer_force(void **state)
{
	bool force;
	const char *why;

	assert_int_equal(smp_reset_req_decode(BYTES(0xa0), &force, &why), 0);
	assert_false(force);
	assert_int_equal(smp_reset_req_decode(BYTES(0xa1, K_FORCE, 0xf5), &force, &why), 0);
	assert_true(force);
	assert_int_equal(smp_reset_req_decode(BYTES(0xa1, K_FORCE, 0x01), &force, &why), 0);
	assert_true(force);
	assert_int_equal(smp_reset_req_decode(BYTES(0xa1, K_FORCE, 0x00), &force, &why), 0);
	assert_false(force);
	assert_int_equal(smp_reset_req_decode(BYTES(0xa1, K_FORCE, 0x20), &force, &why), 0);
	assert_false(force);
	assert_int_equal(smp_reset_req_decode(BYTES(0xa1, K_FORCE, 0x60), &force, &why), -EBADMSG);
	assert_string_equal(why, "reset request: 'force' is not a boolean or an integer");
}

static void test_params_rsp_golden_bytes_and_decode(void **state)
{
	uint8_t buf[32];
	struct smp_params_rsp rsp;
	const char *why;
	int n;

	n = smp_params_rsp_encode(buf, sizeof(buf), 2475, 4);
	assert_encoded(n, buf, BYTES(0xa2, K_BUF_SIZE, 0x19, 0x09, 0xab, K_BUF_COUNT, 0x04));
	assert_int_equal(smp_params_rsp_decode(buf, (size_t)n, &rsp, &why), 0);
	assert_int_equal(rsp.buf_size, 2475);
	assert_int_equal(rsp.buf_count, 4);
	assert_true(smp_err_ok(&rsp.err));
}

static void test_params_rsp_not_supported_needs_no_fields(void **state)
{
	struct smp_params_rsp rsp;
	const char *why;

	/* older devices: {"rc": 8} */
	assert_int_equal(smp_params_rsp_decode(BYTES(0xa1, K_RC, 0x08), &rsp, &why), 0);
	assert_int_equal(rsp.err.rc, MGMT_ERR_ENOTSUP);
	assert_int_equal(smp_params_rsp_decode(BYTES(0xa1, K_BUF_SIZE, 0x01), &rsp, &why),
			 -EBADMSG);
	assert_string_equal(why, "mcumgr parameters response: 'buf_count' missing");
	assert_int_equal(smp_params_rsp_decode(BYTES(0xa1, K_BUF_COUNT, 0x01), &rsp, &why),
			 -EBADMSG);
	assert_string_equal(why, "mcumgr parameters response: 'buf_size' missing");
}

static void test_encoders_never_write_past_size(void **state)
{
	for (size_t size = 0; size < 24; size++) {
		uint8_t buf[64];
		int n;

		memset(buf, 0xa5, sizeof(buf));
		n = smp_params_rsp_encode(buf, size, 2475, 4);
		assert_int_equal(n, -ENOBUFS);
		for (size_t i = size; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xa5);
		memset(buf, 0xa5, sizeof(buf));
		if (size < 5) {
			assert_int_equal(smp_echo_req_encode(buf, size, "hi"), -ENOBUFS);
			for (size_t i = size; i < sizeof(buf); i++)
				assert_int_equal(buf[i], 0xa5);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_req_golden_bytes),
		cmocka_unit_test(test_echo_rsp_golden_bytes_and_roundtrip),
		cmocka_unit_test(test_echo_rsp_truncates_long_text_at_a_character_boundary),
		cmocka_unit_test(test_echo_rsp_requires_r_unless_error),
		cmocka_unit_test(test_echo_req_decode_server_side),
		cmocka_unit_test(test_reset_req_golden_bytes),
		cmocka_unit_test(test_reset_req_decode_accepts_bool_and_integer_force),
		cmocka_unit_test(test_params_rsp_golden_bytes_and_decode),
		cmocka_unit_test(test_params_rsp_not_supported_needs_no_fields),
		cmocka_unit_test(test_encoders_never_write_past_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
