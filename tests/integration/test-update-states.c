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
#include <unistd.h>

#include "lib/simctl.h"
#include "lib/testlib.h"
#include "otad/image.h"
#include "util/hex.h"

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
	/* --json: the result's error object names the class of exit code 3 */
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--json", NULL), 3);
	assert_true(tl_contains(out, "\"error\":{\"class\":\"image\",\"message\":\""));
	assert_true(tl_contains(out, want));
	assert_true(tl_contains(out, "\"exit_code\":3}"));
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

/* ---- states a device is left in between two updates ------------------------------------- */

/* The image's SHA-256 TLV in hex: what the device lists, what `image test` takes. */
static const char *hash_of(const char *path, char hex[65])
{
	struct img_diag diag;
	struct img *img = NULL;

	assert_int_equal(img_load(path, NULL, 0, &img, &diag), 0);
	hex_encode(img->info.hash, 32, hex);
	img_free(img);
	return hex;
}

static void wait_boots(struct tl_sim *sim, size_t n)
{
	for (int i = 0; i < tl_timeout(20000) / 20; i++) {
		if (tl_sim_count_events(sim, "boot", NULL, NULL) >= n)
			return;
		usleep(20000);
	}
	fail_msg("the device did not boot %zu times", n);
}

/* What another tool (or a cancelled update) leaves: the image in slot 1 marked for test, then
 * (reset) running unconfirmed. */
static void stage(struct tl_sim *sim, const char *img, bool reset)
{
	char hex[65], *out = NULL;
	size_t boots = tl_sim_count_events(sim, "boot", NULL, NULL);

	assert_int_equal(tl_otactl(&out, sim->spec, "image", "upload", img, NULL), 0);
	free(out);
	assert_int_equal(tl_otactl(&out, sim->spec, "image", "test", hash_of(img, hex), NULL), 0);
	free(out);
	if (!reset)
		return;
	assert_int_equal(tl_otactl(&out, sim->spec, "reset", NULL), 0);
	free(out);
	wait_boots(sim, boots + 1);
}

/* Slot 0 runs another image unconfirmed: slot 1 is kept for the revert (Zephyr answers an upload
 * IMG_MGMT_ERR_NO_FREE_SLOT). Without --force the job says what the device runs, what its next
 * reset does and what to do; with --force it resets the device back to its confirmed image
 * first, then updates it. */
static void test_unconfirmed_other_image_is_explained_and_force_reverts_first(void **state)
{
	struct tl_sim sim;
	const char *extra[] = {"--speed", SPEED, "--profile", "lan", NULL};
	const char *tested = tl_mkimage("tested.bin", "2.0.0", "12k");
	const char *img = tl_mkimage("wanted.bin", "3.0.0", "12k");
	size_t uploads;
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "unconfirmed", "udp", extra), 0);
	stage(&sim, tested, true);
	uploads = tl_sim_count_events(&sim, "upload", NULL, NULL);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, NULL), 6);
	assert_true(tl_contains(out, "device runs 2.0.0 ("));
	assert_true(tl_contains(out, "unconfirmed: at its next reset MCUboot goes back to 1.0.0"));
	assert_true(tl_contains(out, "otactl reset"));
	assert_true(tl_contains(out, "otactl image confirm"));
	assert_true(tl_contains(out, "update --force does the reset first"));
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--json", NULL), 6);
	assert_true(tl_contains(out, "\"error\":{\"class\":\"device\",\"message\":\"device "
				     "runs 2.0.0 ("));
	assert_true(tl_contains(out, "\"exit_code\":6}"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "upload", NULL, NULL), uploads);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--force", NULL), 0);
	assert_true(tl_contains(out, "resetting it to go back to 1.0.0"));
	assert_true(tl_contains(out, "device went back to 1.0.0"));
	assert_true(tl_contains(out, "done: device runs 3.0.0"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "revert"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 2);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* The image asked for runs unconfirmed (tested earlier, never confirmed): confirmed, and said so;
 * then --force of the image that runs says plainly that there is nothing to install (today's
 * devices answer IMG_MGMT_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED to testing it). */
static void test_image_running_unconfirmed_is_confirmed_and_force_of_it_says_so(void **state)
{
	struct tl_sim sim;
	const char *extra[] = {"--speed", SPEED, "--profile", "lan", NULL};
	const char *img = tl_mkimage("mine.bin", "2.2.0", "12k");
	size_t uploads, writes;
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "mine-unconfirmed", "udp", extra), 0);
	stage(&sim, img, true);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, NULL), 0);
	assert_true(tl_contains(out, "device runs 2.2.0 (") && tl_contains(out, "unconfirmed"));
	assert_true(
		tl_contains(out, "confirmed (it ran unconfirmed, tested by an earlier update)"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", "result", "confirm"), 1);
	uploads = tl_sim_count_events(&sim, "upload", NULL, NULL);
	writes = tl_sim_count_events(&sim, "state-write", NULL, NULL);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--force", NULL), 0);
	assert_true(tl_contains(out, "already runs 2.2.0"));
	assert_true(tl_contains(out, "--force does not install the image that runs again"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "upload", NULL, NULL), uploads);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", NULL, NULL), writes);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* Slot 1 holds another image marked for test: not ours to drop, with or without --force; the
 * message says what the next reset does and what the user can do. */
static void test_other_image_pending_is_explained_and_left_alone(void **state)
{
	struct tl_sim sim;
	const char *extra[] = {"--speed", SPEED, "--profile", "lan", NULL};
	const char *other = tl_mkimage("pending.bin", "4.0.0", "12k");
	const char *img = tl_mkimage("later.bin", "5.0.0", "12k");
	size_t uploads;
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "pending-other", "udp", extra), 0);
	stage(&sim, other, false);
	uploads = tl_sim_count_events(&sim, "upload", NULL, NULL);
	for (int force = 0; force < 2; force++) {
		assert_int_equal(
			tl_otactl(&out, sim.spec, "update", img, force ? "--force" : NULL, NULL),
			6);
		assert_true(tl_contains(out, "slot 1 holds 4.0.0 ("));
		assert_true(tl_contains(out, "marked for a test boot: at its next reset MCUboot "
					     "swaps it in"));
		assert_true(tl_contains(out, "otactl image erase"));
		assert_true(tl_contains(out, "otactl reset"));
		free(out);
	}
	assert_int_equal(tl_sim_count_events(&sim, "upload", NULL, NULL), uploads);
	assert_int_equal(tl_sim_count_events(&sim, "reset", NULL, NULL), 0);
	/* and the erase, refused by this device, says why */
	{
		char *argv[] = {(char *)tl_bin("otactl"), "-t", sim.spec, "image", "erase", NULL};
		char *err = NULL;

		assert_int_equal(tl_run(argv, tl_timeout(20000), &out, &err), 6);
		assert_true(tl_contains(err, "IMG_MGMT_ERR_NO_FREE_SLOT"));
		assert_true(tl_contains(err, "slot 1 holds 4.0.0, marked for a test boot: MCUboot "
					     "swaps it in at the next reset"));
		free(out);
		free(err);
	}
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* Our image already in slot 1 and marked (an earlier run stopped after its test): no upload, no
 * second marking (which img_mgmt refuses in confirm mode: IMG_MGMT_ERR_IMAGE_ALREADY_PENDING),
 * the reset, the boot check, the confirmation. */
static void test_image_pending_already_is_booted_without_marking_again(void **state)
{
	struct tl_sim sim;
	const char *extra[] = {"--speed", SPEED, "--profile", "lan", NULL};
	const char *img = tl_mkimage("marked.bin", "6.0.0", "12k");
	size_t uploads, writes;
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "pending-mine", "udp", extra), 0);
	stage(&sim, img, false);
	uploads = tl_sim_count_events(&sim, "upload", NULL, NULL);
	writes = tl_sim_count_events(&sim, "state-write", NULL, NULL);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--mode", "confirm", NULL), 0);
	assert_true(
		tl_contains(out, "marked for a test boot; skipping the upload and the marking"));
	assert_true(tl_contains(out, "done: device runs 6.0.0"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "upload", NULL, NULL), uploads);
	/* one state write: the confirmation after the boot */
	assert_int_equal(tl_sim_count_events(&sim, "state-write", NULL, NULL), writes + 1);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", "result", "confirm"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* ---- the waits -------------------------------------------------------------------------- */

/* The first chunk waits behind the erase of slot 1, the boot step for the swap: both are reported
 * with how long they lasted and their limit, the boot's derived from the image (10 s + 1 s per
 * 4 KiB sector, at least 60 s). Terminal output and lines show them from the same events. */
static void test_erase_and_boot_waits_are_reported_with_their_limits(void **state)
{
	struct tl_sim sim;
	/* spi-lp at 5x: the swap of 65 sectors takes about 5 s */
	const char *extra[] = {"--speed", "5", "--profile", "spi-lp", NULL};
	const char *img = tl_mkimage("waits.bin", "7.0.0", "256k");
	long sectors = (file_size(img) + 4095) / 4096;
	char *out = NULL, want[96];
	const char *boot;

	assert_int_equal(tl_sim_start(&sim, "waits", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--json", "--no-pace-memory",
				   NULL),
			 0);
	/* the erase allowance: 5 s answer timeout + 5 s + 0.5 s per sector */
	snprintf(want, sizeof(want), "\"wait\":\"erase\",\"wait_seconds\":");
	assert_true(tl_contains(out, want));
	snprintf(want, sizeof(want), "\"wait_limit_seconds\":%g}", 10.0 + 0.5 * (double)sectors);
	assert_true(tl_contains(out, want));
	boot = strstr(out, "\"step\":\"boot\"");
	assert_non_null(boot);
	assert_true(tl_contains(boot, "\"wait\":\"boot\",\"wait_seconds\":1"));
	snprintf(want, sizeof(want), "\"wait_limit_seconds\":%ld}", 10 + sectors);
	assert_true(sectors > 50 && tl_contains(boot, want));
	assert_true(tl_contains(out, "\"event\":\"result\",\"ok\":true"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_too_large_for_the_slot_is_refused_before_upload),
		cmocka_unit_test(test_device_without_slot_info_is_updated_without_the_check),
		cmocka_unit_test(test_unconfirmed_other_image_is_explained_and_force_reverts_first),
		cmocka_unit_test(
			test_image_running_unconfirmed_is_confirmed_and_force_of_it_says_so),
		cmocka_unit_test(test_other_image_pending_is_explained_and_left_alone),
		cmocka_unit_test(test_image_pending_already_is_booted_without_marking_again),
		cmocka_unit_test(test_erase_and_boot_waits_are_reported_with_their_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
