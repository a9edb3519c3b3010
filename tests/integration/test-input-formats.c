/* test-input-formats.c — otactl update with the image as Intel HEX and as a dfu_application.zip
 * against otasim (the device boots the same hash as from the .bin); a two-image zip is updated
 * image by image (otasim, like a single-image nRF52840, has no slot for image 1, and says so);
 * --image-num picks one image; a broken zip fails before anything is sent. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/imgfile.h"
#include "lib/simctl.h"
#include "lib/testlib.h"
#include "util/hex.h"

static const char *const extra[] = {"--speed", "20", "--profile", "lan", NULL};

/* The device's slot 0 hash must be img's, confirmed and active. */
static void expect_running(struct tl_sim *sim, const struct tl_image *img)
{
	char hash[65], *out = NULL;

	hex_encode(img->hash, 32, hash);
	assert_int_equal(tl_otactl(&out, sim->spec, "image", "list", NULL), 0);
	if (!tl_contains(out, hash))
		fail_msg("slot 0 does not run %s:\n%s", hash, out);
	assert_true(tl_contains(out, "flags: bootable confirmed active"));
	free(out);
}

static void test_update_from_hex_and_zip_boots_the_same_hash(void **state)
{
	struct tl_image v2, v3;
	const char *hex = tl_path("v2.hex"), *zip = tl_path("v3.zip");
	struct tl_sim sim;
	char *out = NULL;

	assert_int_equal(tl_image_make(&v2, "2.0.0", 20000, 21), 0);
	assert_int_equal(tl_image_make(&v3, "3.0.0", 24000, 22), 0);
	tl_write_hex(hex, v2.data, v2.len, 0x10000, "\r\n");
	{
		const char *man = tl_manifest_one("zephyr.signed.bin", v3.len);
		struct tl_member m[] = {{"manifest.json", man, strlen(man)},
					{"zephyr.signed.bin", v3.data, v3.len}};

		tl_write_zip(zip, m, 2, false);
	}
	assert_int_equal(tl_sim_start(&sim, "formats", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", hex, NULL), 0);
	assert_true(tl_contains(out, "done: "));
	free(out);
	expect_running(&sim, &v2);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", zip, NULL), 0);
	assert_false(tl_contains(out, "== image")); /* one image: no sequence headers */
	free(out);
	expect_running(&sim, &v3);
	assert_int_equal(tl_sim_stop(&sim), 0);
	tl_image_done(&v2);
	tl_image_done(&v3);
}

static void write_two_image_zip(const char *path, const struct tl_image *app,
				const struct tl_image *net)
{
	static const char man[] =
		"{\"format-version\": 0, \"files\": ["
		"{\"type\": \"application\", \"image_index\": \"1\", \"file\": \"net.bin\"},"
		"{\"type\": \"application\", \"image_index\": \"0\", \"file\": \"app.bin\"}]}";
	struct tl_member m[] = {{"manifest.json", man, strlen(man)},
				{"app.bin", app->data, app->len},
				{"net.bin", net->data, net->len}};

	tl_write_zip(path, m, 3, false);
}

/* Image 0 first, with the whole verified flow; then image 1, which this device (one image pair,
 * as Zephyr with CONFIG_MCUMGR_GRP_IMG_UPDATABLE_IMAGE_NUMBER=1) refuses at the first chunk. */
static void test_two_image_zip_updates_image_by_image(void **state)
{
	struct tl_image app, net;
	const char *zip = tl_path("two.zip");
	struct tl_sim sim;
	char *out = NULL;

	assert_int_equal(tl_image_make(&app, "4.0.0", 16000, 31), 0);
	assert_int_equal(tl_image_make(&net, "1.1.0", 12000, 32), 0);
	write_two_image_zip(zip, &app, &net);
	assert_int_equal(tl_sim_start(&sim, "two", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", zip, NULL), 6); /* device error */
	assert_true(tl_contains(out, "== image 0 (app.bin), 1 of 2\n"));
	assert_true(tl_contains(out, "== image 1 (net.bin), 2 of 2\n"));
	assert_true(strstr(out, "done: ") < strstr(out, "== image 1"));
	assert_true(tl_contains(out, "failed (device, during upload)"));
	free(out);
	expect_running(&sim, &app);
	/* The second job's first chunk named image 1: refused with IMG_MGMT_ERR_NO_FREE_SLOT. */
	assert_true(tl_sim_count_events(&sim, "upload", "rc", "9") >= 1);

	/* --json: an "image" event before each job. */
	assert_int_equal(tl_otactl(&out, sim.spec, "update", zip, "--json", NULL), 6);
	assert_true(tl_contains(out, "{\"event\":\"image\",\"image\":0,\"file\":\"app.bin\","
				     "\"index\":1,\"count\":2}"));
	assert_true(tl_contains(out, "\"already_running\":true"));
	assert_true(tl_contains(out, "{\"event\":\"image\",\"image\":1,\"file\":\"net.bin\","
				     "\"index\":2,\"count\":2}"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
	tl_image_done(&app);
	tl_image_done(&net);
}

static void test_image_num_picks_one_image_of_a_zip(void **state)
{
	struct tl_image app, net;
	const char *zip = tl_path("pick.zip");
	struct tl_sim sim;
	char *out = NULL;

	assert_int_equal(tl_image_make(&app, "5.0.0", 14000, 41), 0);
	assert_int_equal(tl_image_make(&net, "1.2.0", 10000, 42), 0);
	write_two_image_zip(zip, &app, &net);
	assert_int_equal(tl_sim_start(&sim, "pick", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", zip, "--image-num", "0", NULL), 0);
	assert_false(tl_contains(out, "== image"));
	free(out);
	expect_running(&sim, &app);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", zip, "--image-num", "2", NULL), 2);
	assert_true(tl_contains(out, "holds images 0, 1, not image 2"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
	tl_image_done(&app);
	tl_image_done(&net);
}

/* A broken zip fails in the image step, naming the cause, and nothing reaches the device. */
static void test_broken_zip_fails_before_anything_is_sent(void **state)
{
	static const char man[] = "{\"files\": [{\"file\": \"app.bin\", \"image_index\": [0]}]}";
	struct tl_image app;
	const char *zip = tl_path("broken.zip");
	struct tl_sim sim;
	char *out = NULL;

	assert_int_equal(tl_image_make(&app, "6.0.0", 8000, 51), 0);
	{
		struct tl_member m[] = {{"manifest.json", man, strlen(man)},
					{"app.bin", app.data, app.len}};

		tl_write_zip(zip, m, 2, false);
	}
	assert_int_equal(tl_sim_start(&sim, "broken", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", zip, NULL), 3); /* image */
	assert_true(tl_contains(out, "manifest.json line 1: files[0].image_index: expected a "
				     "number or a decimal string, got an array"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "rsp", NULL, NULL), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
	tl_image_done(&app);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_from_hex_and_zip_boots_the_same_hash),
		cmocka_unit_test(test_two_image_zip_updates_image_by_image),
		cmocka_unit_test(test_image_num_picks_one_image_of_a_zip),
		cmocka_unit_test(test_broken_zip_fails_before_anything_is_sent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
