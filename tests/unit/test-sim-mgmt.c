/* test-sim-mgmt.c — otasim's SMP dispatch, bytes in and bytes out: response headers, the error
 * forms of Zephyr's smp.c for both protocol versions, what is not answered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "otad/image.h"
#include "otad/smp.h"
#include "sim/device.h"
#include "sim/mgmt.h"
#include "sim/store.h"

struct fx {
	struct sim_profile p;
	struct sim_store *store;
	struct sim_prng prng;
	struct sim_device *d;
	struct sim_work w;
	struct sim_mgmt m;
	uint8_t rsp[2048];
};

static int setup(void **state)
{
	struct img_build_opts o = {.version = {.major = 1}, .payload_size = 4096, .seed = 1};
	struct fx *x = calloc(1, sizeof(*x));
	uint8_t *img;
	size_t len;

	assert_non_null(x);
	x->p = *sim_profile_find("lan");
	x->p.slot_size = 32768;
	sim_prng_seed(&x->prng, 1);
	assert_int_equal(sim_store_open(NULL, "lan", x->p.slot_size, &x->store, NULL, NULL, 0), 0);
	assert_int_equal(sim_device_new(&x->p, x->store, &x->prng, NULL, 0, NULL, NULL, &x->d), 0);
	assert_int_equal(img_build(&o, &img, &len), 0);
	assert_int_equal(sim_device_flash_factory(x->d, img, len), 0);
	free(img);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	sim_work_done(&x->w);
	sim_device_free(x->d);
	sim_store_free(x->store);
	free(x);
	return 0;
}

/* Runs one packet (header fields + body) and returns the response length (0: none). */
static size_t run(struct fx *x, uint8_t ver, uint8_t op, uint16_t group, uint8_t id,
		  const uint8_t *body, size_t len, size_t claimed_len)
{
	struct smp_hdr h = {.op = op,
			    .ver = ver,
			    .len = (uint16_t)claimed_len,
			    .group = group,
			    .seq = 0x42,
			    .id = id};
	uint8_t pkt[512];

	smp_hdr_encode(&h, pkt);
	memcpy(pkt + SMP_HDR_SIZE, body, len);
	sim_work_reset(&x->w);
	sim_mgmt_begin(x->d, pkt, SMP_HDR_SIZE + len, false, &x->w, x->rsp, sizeof(x->rsp), &x->m);
	sim_mgmt_finish(x->d, &x->w, &x->m);
	return x->m.rsp_len;
}

static void test_response_header_mirrors_request(void **state)
{
	struct fx *x = *state;
	const uint8_t echo[] = {0xa1, 0x61, 'd', 0x62, 'h', 'i'};
	const uint8_t want[] = {0x0b, 0x00, 0x00, 0x06, 0x00, 0x00, 0x42,
				0x00, 0xa1, 0x61, 'r',	0x62, 'h',  'i'};

	assert_int_equal(run(x, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, echo,
			     sizeof(echo), sizeof(echo)),
			 sizeof(want));
	assert_memory_equal(x->rsp, want, sizeof(want));
}

static void test_not_supported_is_rc8_in_both_versions(void **state)
{
	struct fx *x = *state;
	const uint8_t empty[] = {0xa0};
	const uint8_t rc8[] = {0xa1, 0x62, 'r', 'c', 0x08};

	/* os info is not built in */
	assert_int_equal(run(x, SMP_VER_2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, empty, 1, 1),
			 SMP_HDR_SIZE + sizeof(rc8));
	assert_memory_equal(x->rsp + SMP_HDR_SIZE, rc8, sizeof(rc8));
	assert_int_equal(x->rsp[0], 0x09); /* read response, version 2 */
	/* reading the upload command: no such handler */
	run(x, SMP_VER_1, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, empty, 1, 1);
	assert_memory_equal(x->rsp + SMP_HDR_SIZE, rc8, sizeof(rc8));
	/* an unknown group */
	run(x, SMP_VER_2, SMP_OP_READ, 64, 0, empty, 1, 1);
	assert_memory_equal(x->rsp + SMP_HDR_SIZE, rc8, sizeof(rc8));
}

/* Slot info as Zephyr's img_mgmt_slot_info() encodes it, and "not supported" from a build
 * without CONFIG_MCUMGR_GRP_IMG_SLOT_INFO (older devices). */
static void test_slot_info_answered_unless_not_built_in(void **state)
{
	struct fx *x = *state;
	const uint8_t empty[] = {0xa0};
	const uint8_t rc8[] = {0xa1, 0x62, 'r', 'c', 0x08};
	const uint8_t want[] = {
		0xa1, 0x66, 'i', 'm', 'a', 'g', 'e', 's', 0x81, 0xa3, 0x65, 'i', 'm', 'a', 'g', 'e',
		0x00, 0x65, 's', 'l', 'o', 't', 's', 0x82, 0xa2, 0x64, 's', 'l', 'o', 't', 0x00, 0x64,
		's', 'i', 'z', 'e', 0x19, 0x80, 0x00, 0xa3, 0x64, 's', 'l', 'o', 't', 0x01, 0x64, 's',
		'i', 'z', 'e', 0x19, 0x80, 0x00, 0x6f, 'u', 'p', 'l', 'o', 'a', 'd', '_', 'i', 'm',
		'a', 'g', 'e', '_', 'i', 'd', 0x00, 0x6e, 'm', 'a', 'x', '_', 'i', 'm', 'a', 'g', 'e',
		'_', 's', 'i', 'z', 'e', 0x19, 0x70, 0x00};
	struct sim_device *d;

	assert_int_equal(run(x, SMP_VER_2, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_SLOT_INFO, empty,
			     1, 1),
			 SMP_HDR_SIZE + sizeof(want));
	assert_memory_equal(x->rsp + SMP_HDR_SIZE, want, sizeof(want));
	/* writing it is no command */
	run(x, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_SLOT_INFO, empty, 1, 1);
	assert_memory_equal(x->rsp + SMP_HDR_SIZE, rc8, sizeof(rc8));
	x->p.slot_info = false;
	assert_int_equal(sim_device_new(&x->p, x->store, &x->prng, NULL, 0, NULL, NULL, &d), 0);
	sim_device_free(x->d);
	x->d = d;
	assert_int_equal(run(x, SMP_VER_2, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_SLOT_INFO, empty,
			     1, 1),
			 SMP_HDR_SIZE + sizeof(rc8));
	assert_memory_equal(x->rsp + SMP_HDR_SIZE, rc8, sizeof(rc8));
}

static void test_image_error_v2_form_and_v1_translation(void **state)
{
	struct fx *x = *state;
	uint8_t body[64], hash[32] = {7};
	int n = smp_state_write_req_encode(body, sizeof(body), hash, 32, false);
	struct smp_err e;
	size_t len;

	len = run(x, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n,
		  (size_t)n);
	assert_int_equal(smp_err_decode(x->rsp + SMP_HDR_SIZE, len - SMP_HDR_SIZE, &e, NULL), 0);
	assert_true(e.v2);
	assert_int_equal(e.group, SMP_GROUP_IMAGE);
	assert_int_equal(e.rc, IMG_MGMT_ERR_HASH_NOT_FOUND);
	/* v1: img_mgmt_translate_error_code() sends HASH_NOT_FOUND as MGMT_ERR_EUNKNOWN */
	len = run(x, SMP_VER_1, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n,
		  (size_t)n);
	assert_int_equal(smp_err_decode(x->rsp + SMP_HDR_SIZE, len - SMP_HDR_SIZE, &e, NULL), 0);
	assert_false(e.v2);
	assert_int_equal(e.rc, MGMT_ERR_EUNKNOWN);
	assert_int_equal(x->rsp[0], 0x03); /* write response, version 1 */
	assert_int_equal(sim_mgmt_img_err_to_v1(IMG_MGMT_ERR_NO_FREE_SLOT), MGMT_ERR_EBADSTATE);
	assert_int_equal(sim_mgmt_img_err_to_v1(IMG_MGMT_ERR_INVALID_LENGTH), MGMT_ERR_EINVAL);
	assert_int_equal(sim_mgmt_img_err_to_v1(IMG_MGMT_ERR_INVALID_IMAGE_TOO_LARGE),
			 MGMT_ERR_EUNKNOWN);
}

static void test_smp_level_errors(void **state)
{
	struct fx *x = *state;
	const uint8_t junk[] = {0xff, 0x00, 0x13};
	const uint8_t rc3[] = {0xa1, 0x62, 'r', 'c', 0x03};
	const uint8_t rc9[] = {0xa1, 0x62, 'r', 'c', 0x09};
	const uint8_t rc13[] = {0xa1, 0x62, 'r', 'c', 0x0d};
	const uint8_t empty[] = {0xa0};

	/* a body that does not decode */
	run(x, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, junk, sizeof(junk),
	    sizeof(junk));
	assert_memory_equal(x->rsp + SMP_HDR_SIZE, rc3, sizeof(rc3));
	/* a header announcing more than the packet holds */
	run(x, SMP_VER_2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, empty, 1, 10);
	assert_memory_equal(x->rsp + SMP_HDR_SIZE, rc9, sizeof(rc9));
	/* a protocol version from the future */
	run(x, 2, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, empty, 1, 1);
	assert_memory_equal(x->rsp + SMP_HDR_SIZE, rc13, sizeof(rc13));
	/* not even a header: nothing to answer */
	sim_mgmt_begin(x->d, junk, sizeof(junk), false, &x->w, x->rsp, sizeof(x->rsp), &x->m);
	assert_false(x->m.has_hdr);
	assert_int_equal(x->m.rsp_len, 0);
}

static void test_v1_upload_answer_carries_rc0(void **state)
{
	struct fx *x = *state;
	struct smp_upload_req r = {.off = 9}; /* nothing open: answered with off 0 */
	struct smp_upload_rsp u;
	uint8_t body[64];
	int n;
	size_t len;

	r.data = body;
	r.data_len = 4;
	n = smp_upload_req_encode(body + 16, sizeof(body) - 16, &r);
	assert_true(n > 0);
	len = run(x, SMP_VER_1, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, body + 16, (size_t)n,
		  (size_t)n);
	assert_int_equal(smp_upload_rsp_decode(x->rsp + SMP_HDR_SIZE, len - SMP_HDR_SIZE, &u, NULL),
			 0);
	assert_true(u.has_off);
	assert_int_equal(u.off, 0);
	assert_non_null(memmem(x->rsp + SMP_HDR_SIZE, len - SMP_HDR_SIZE, "\x62rc\x00", 4));
	assert_int_equal(x->m.kind, SIM_MGMT_UPLOAD);
	assert_int_equal(x->m.upload.result, SIM_UPLOAD_IGNORED);
	/* v2: no "rc" */
	len = run(x, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, body + 16, (size_t)n,
		  (size_t)n);
	assert_null(memmem(x->rsp + SMP_HDR_SIZE, len - SMP_HDR_SIZE, "\x62rc", 3));
}

static void test_reset_is_answered_then_requested(void **state)
{
	struct fx *x = *state;
	const uint8_t empty[] = {0xa0};

	assert_int_equal(run(x, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, empty, 1, 1),
			 SMP_HDR_SIZE + 1);
	assert_true(x->m.reset);
	assert_int_equal(x->m.kind, SIM_MGMT_RESET);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_response_header_mirrors_request),
		T(test_not_supported_is_rc8_in_both_versions),
		T(test_slot_info_answered_unless_not_built_in),
		T(test_image_error_v2_form_and_v1_translation),
		T(test_smp_level_errors),
		T(test_v1_upload_answer_carries_rc0),
		T(test_reset_is_answered_then_requested),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
