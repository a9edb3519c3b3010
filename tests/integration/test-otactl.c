/* test-otactl.c — otactl's one-shot commands against otasim (echo, params, reset, image list,
 * upload, test, confirm, erase, --json), its usage errors, and the progress bar on a terminal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/simctl.h"
#include "lib/testlib.h"

#define SPEED "20"

static void test_echo_params_and_json(void **state)
{
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", NULL };
	struct tl_sim sim;
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "cmds", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "echo", "hello device", NULL), 0);
	assert_string_equal(out, "hello device\n");
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "params", NULL), 0);
	assert_string_equal(out, "buf_size: 2048\nbuf_count: 4\n"); /* the lan profile's */
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "params", "--json", NULL), 0);
	assert_string_equal(out, "{\"buf_size\":2048,\"buf_count\":4}\n");
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "list", "--json", NULL), 0);
	assert_true(tl_contains(out, "{\"images\":[{\"image\":0,\"slot\":0,\"version\":\"1.0.0\""));
	assert_true(tl_contains(out, "\"active\":true"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* Upload only, then the manual test / reset / confirm path, then erase. */
static void test_manual_upload_test_reset_confirm_erase(void **state)
{
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", NULL };
	const char *img = tl_mkimage("manual.bin", "2.5.0", "12k");
	char hash[65] = "";
	struct tl_sim sim;
	char *out = NULL, *h;

	assert_int_equal(tl_sim_start(&sim, "manual", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "upload", img, NULL), 0);
	assert_true(tl_contains(out, "uploaded and verified"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", NULL, NULL), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "list", NULL), 0);
	h = strstr(out, "version: 2.5.0\n    hash: ");
	assert_non_null(h);
	memcpy(hash, h + strlen("version: 2.5.0\n    hash: "), 64);
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "test", hash, NULL), 0);
	assert_true(tl_contains(out, "pending"));
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "reset", NULL), 0);
	free(out);
	assert_int_equal(tl_sim_wait_event(&sim, "boot", "result", "swap-test", 20000), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "confirm", hash, NULL), 0);
	assert_true(tl_contains(out, "version: 2.5.0\n    hash: "));
	assert_true(tl_contains(out, "flags: bootable confirmed active"));
	free(out);
	/* Slot 1 now holds the old image; erase it. */
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "erase", NULL), 0);
	assert_string_equal(out, "slot 1 erased\n");
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "list", NULL), 0);
	assert_false(tl_contains(out, "slot 1"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_no_downgrade_is_refused_by_the_device(void **state)
{
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", "--initial-version", "3.0.0",
				NULL };
	const char *older = tl_mkimage("older.bin", "2.9.0", "8k");
	struct tl_sim sim;
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "nodown", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", older, "--no-downgrade", NULL), 6);
	assert_true(tl_contains(out, "IMG_MGMT_ERR_CURRENT_VERSION_IS_NEWER"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", NULL, NULL), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_usage_errors_exit_2(void **state)
{
	char *out = NULL;

	assert_int_equal(tl_otactl(&out, "udp:127.0.0.1:9", "frobnicate", NULL), 2);
	free(out);
	assert_int_equal(tl_otactl(&out, "udp:127.0.0.1:9", "update", "a", "--window", "0", NULL), 2);
	free(out);
	assert_int_equal(tl_otactl(&out, "udp:127.0.0.1:9", "update", "a", "--rate", "fast", NULL),
			 2);
	free(out);
	assert_int_equal(tl_otactl(&out, "nosuch:thing", "params", NULL), 2);
	free(out);
	assert_int_equal(tl_otactl(&out, "udp:127.0.0.1:99999", "update",
				tl_mkimage("usage.bin", "1.0.1", "4k"), NULL),
			 2);
	assert_true(tl_contains(out, "not a transport: 'udp:127.0.0.1:99999'"));
	free(out);
	assert_int_equal(tl_otactl(&out, "udp:127.0.0.1:9", "update", "/nonexistent.bin", NULL), 3);
	assert_true(tl_contains(out, "No such file"));
	free(out);
}

/* On a terminal: a redrawn bar with percent, rate and ETA (script(1) provides the pty). */
static void test_progress_bar_on_a_terminal(void **state)
{
	const char *extra[] = { "--speed", "4", NULL };
	const char *img = tl_mkimage("bar.bin", "2.6.0", "32k");
	struct tl_sim sim;
	char cmd[2048], *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "bar", "udp", extra), 0);
	snprintf(cmd, sizeof(cmd), "TERM=xterm %s -t %s image upload %s", tl_bin("otactl"),
		 sim.spec, img);
	char *argv[] = { "script", "-qec", cmd, "/dev/null", NULL };
	assert_int_equal(tl_run(argv, 120000, &out, NULL), 0);
	assert_true(tl_contains(out, "\r\033[K["));
	assert_true(tl_contains(out, "100%"));
	assert_true(tl_contains(out, "KiB/s ETA"));
	assert_true(tl_contains(out, "uploaded and verified"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_params_and_json),
		cmocka_unit_test(test_manual_upload_test_reset_confirm_erase),
		cmocka_unit_test(test_no_downgrade_is_refused_by_the_device),
		cmocka_unit_test(test_usage_errors_exit_2),
		cmocka_unit_test(test_progress_bar_on_a_terminal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
