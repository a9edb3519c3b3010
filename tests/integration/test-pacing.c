/* test-pacing.c — adaptive pacing seen from the device's trace: the window stays within the
 * device's buffers, an overrun device ends in a verified boot, the attempt after a refusal is
 * slower, and the next update starts from the remembered pace. Functional, never timed. */
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
#include "util/macro.h"

#define SPEED "20"

/* Per upload attempt (attempts are separated by resets): the largest inflight, the number of
 * data requests and corrupted ones. */
struct attempt {
	unsigned max_inflight, requests, corrupt;
};

static unsigned attempts(const char *trace, struct attempt *a, unsigned max)
{
	struct tl_event *ev;
	size_t n;
	unsigned k = 0;
	bool in_upload = false;

	memset(a, 0, max * sizeof(*a));
	assert_int_equal(tl_trace_load(trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ev[i].name, "reset") == 0 && in_upload) {
			in_upload = false;
			k++;
		}
		if (strcmp(ev[i].name, "upload") != 0 || k >= max)
			continue;
		in_upload = true;
		a[k].requests++;
		a[k].max_inflight = MAX(a[k].max_inflight, (unsigned)tl_ev_u64(&ev[i], "inflight"));
		if (strcmp(tl_ev_get(&ev[i], "result") ?: "", "corrupt") == 0)
			a[k].corrupt++;
	}
	free(ev);
	return k + (in_upload ? 1 : 0);
}

static void test_adaptive_window_grows_but_never_beyond_device_buffers(void **state)
{
	struct tl_sim sim;
	const char *extra[] = { "--speed", SPEED, "--buf-count", "3", NULL };
	const char *img = tl_mkimage("bufs.bin", "2.0.0", "48k");
	struct attempt a[4];
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "bufs", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--pace-key", "bufs", NULL), 0);
	assert_true(tl_contains(out, "done: device runs 2.0.0"));
	free(out);
	assert_int_equal(attempts(sim.trace, a, 4), 1);
	assert_int_equal(a[0].max_inflight, 3); /* grew from 2 up to the device's 3 buffers */
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_overrun_device_ends_in_verified_boot_then_remembered_pace_is_safe(void **state)
{
	const char *extra[] = { "--speed", SPEED, "--profile", "spi-lp-overrun", NULL };
	const char *img = tl_mkimage("ovr.bin", "3.0.0", "48k");
	const char *img2 = tl_mkimage("ovr2.bin", "3.1.0", "48k");
	struct attempt a[4];
	struct tl_sim sim;
	char *out = NULL;

	/* First update of this device: adaptive pacing pipelines, the flash is corrupted, MCUboot
	 * refuses; the next attempt is strictly sequential and boots. */
	assert_int_equal(tl_sim_start(&sim, "ovr", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--pace-key", "ovr", NULL), 0);
	assert_true(tl_contains(out, "bootloader refused the image"));
	assert_true(tl_contains(out, "done: device runs 3.0.0"));
	assert_true(tl_contains(out, "2 attempts"));
	free(out);
	assert_int_equal(attempts(sim.trace, a, 4), 2);
	assert_true(a[0].max_inflight > 1);
	assert_true(a[0].corrupt > 0);
	assert_int_equal(a[1].max_inflight, 1); /* slower after the refusal */
	assert_int_equal(a[1].corrupt, 0);
	assert_int_equal(tl_sim_stop(&sim), 0);

	/* The next update of the same device (same pace key, same state) starts from the
	 * remembered pace: one attempt, never pipelined, nothing corrupted. */
	assert_int_equal(tl_sim_start(&sim, "ovr", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img2, "--pace-key", "ovr", "-v", NULL), 0);
	assert_true(tl_contains(out, "done: device runs 3.1.0"));
	assert_true(tl_contains(out, "1 attempt,"));
	free(out);
	assert_int_equal(attempts(sim.trace, a, 4), 1); /* a restarted otasim traces anew */
	assert_int_equal(a[0].max_inflight, 1);
	assert_int_equal(a[0].corrupt, 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* The window of the first upload progress event: the pacer's starting point. */
static int first_upload_window(const char *json)
{
	const char *p = strstr(json, "\"event\":\"progress\",\"step\":\"upload\"");
	const char *w = p ? strstr(p, "\"window\":") : NULL;

	return w ? atoi(w + strlen("\"window\":")) : -1;
}

static void test_remembered_good_window_is_the_starting_point(void **state)
{
	const char *extra[] = { "--speed", SPEED, NULL };
	const char *img = tl_mkimage("good.bin", "4.0.0", "48k");
	const char *img2 = tl_mkimage("good2.bin", "4.1.0", "48k");
	const char *pace = tl_path("good.pace");
	struct tl_sim sim;
	char *out = NULL, *memory;

	assert_int_equal(tl_sim_start(&sim, "good", "udp", extra), 0);
	/* Nothing remembered: a fresh start at two requests in flight. */
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--pace-key", "good", "--pace-file",
				   pace, "--json", NULL),
			 0);
	assert_int_equal(first_upload_window(out), 2);
	free(out);
	memory = tl_read_file(pace);
	assert_true(tl_contains(memory, "good good_window=4 "));
	assert_false(tl_contains(memory, "refused"));
	free(memory);
	/* The second run starts where the first one ended. */
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img2, "--pace-key", "good",
				   "--pace-file", pace, "--json", NULL),
			 0);
	assert_int_equal(first_upload_window(out), 4);
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_fixed_pacing_leaves_the_memory_alone(void **state)
{
	const char *extra[] = { "--speed", SPEED, NULL };
	const char *img = tl_mkimage("fixed.bin", "5.0.0", "16k");
	const char *pace = tl_path("fixed.pace");
	struct tl_sim sim;
	char *out = NULL, *memory;

	assert_int_equal(tl_sim_start(&sim, "fixed", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", img, "--window", "2", "--rate", "64k",
				"--pace-file", pace, NULL),
			 0);
	free(out);
	memory = tl_read_file(pace);
	assert_null(memory);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* The device's confirmed offset after its n-th upload request (1-based). */
static unsigned long long nth_upload_next(const char *trace, unsigned n)
{
	struct tl_event *ev;
	size_t count;
	unsigned long long next = 0;

	assert_int_equal(tl_trace_load(trace, &ev, &count), 0);
	for (size_t i = 0; i < count && n; i++)
		if (strcmp(ev[i].name, "upload") == 0 && --n == 0)
			next = tl_ev_u64(&ev[i], "next");
	free(ev);
	return next;
}

/* The first chunk's answer and that of the chunk sent behind it carry no round-trip sample (they
 * waited for the erase), yet each adds one to the window in slow start: 2 -> 3 -> 4 at once,
 * not a round of samples later. */
static void test_slow_start_grows_on_the_first_answers(void **state)
{
	const char *extra[] = { "--speed", SPEED, NULL };
	const char *img = tl_mkimage("ramp.bin", "6.0.0", "48k");
	const char *pace = tl_path("ramp.pace");
	struct tl_sim sim;
	char *out = NULL, want[96];

	assert_int_equal(tl_sim_start(&sim, "ramp", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "-vv", "image", "upload", img, "--pace-file",
				   pace, NULL),
			 0);
	snprintf(want, sizeof(want), "pace: window 3 (was 2) at %llu bytes confirmed\n",
		 nth_upload_next(sim.trace, 1));
	assert_true(tl_contains(out, want));
	snprintf(want, sizeof(want), "pace: window 4 (was 3) at %llu bytes confirmed\n",
		 nth_upload_next(sim.trace, 2));
	assert_true(tl_contains(out, want));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adaptive_window_grows_but_never_beyond_device_buffers),
		cmocka_unit_test(test_overrun_device_ends_in_verified_boot_then_remembered_pace_is_safe),
		cmocka_unit_test(test_remembered_good_window_is_the_starting_point),
		cmocka_unit_test(test_fixed_pacing_leaves_the_memory_alone),
		cmocka_unit_test(test_slow_start_grows_on_the_first_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
