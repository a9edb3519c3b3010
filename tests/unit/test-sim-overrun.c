/* test-sim-overrun.c — otasim's overrun fault: corruption needs a reception overlapping the page
 * program and a reception rate above the safe rate. Arrivals come from the link model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sim/link.h"
#include "sim/overrun.h"
#include "sim/profile.h"

#define SAFE	 (8 * 1024)
#define CPU	 300
#define PROG	 3200
#define CHUNK	 2449
#define REQ_SIZE (CHUNK + SIM_UPLOAD_OVERHEAD)

static void rx(struct sim_overrun *o, const struct sim_link *l, const struct sim_transfer *t,
	       size_t n)
{
	assert_int_equal(
		sim_overrun_reception(o, t->arrival - (t->end - t->start), t->arrival, (uint32_t)n),
		0);
}

/* Window 1: the client sends the next request when the previous response arrived. The device
 * programs its pages between the request's arrival and its response. */
static void test_window1_sequential_never_corrupts(void **state)
{
	struct sim_overrun o;
	struct sim_link l;
	uint64_t now = 0;
	unsigned programs = 0, over_rate = 0;

	sim_overrun_init(&o, SAFE);
	sim_link_init(&l, 15000, 64 * 1024);
	for (unsigned k = 0; k < 100; k++) {
		struct sim_transfer req, rsp;
		uint64_t t;

		sim_link_send(&l, SIM_UPLINK, now, REQ_SIZE, &req);
		rx(&o, &l, &req, REQ_SIZE);
		t = req.arrival + CPU;
		for (unsigned p = 0; p < CHUNK / 256; p++, t += PROG) {
			sim_overrun_forget(&o, t);
			assert_false(sim_overrun_corrupts(&o, t, t + PROG));
			over_rate += sim_overrun_rate(&o, t + PROG) > SAFE;
			programs++;
		}
		sim_link_send(&l, SIM_DOWNLINK, t, SIM_UPLOAD_RSP_SIZE, &rsp);
		now = rsp.arrival;
	}
	assert_int_equal(programs, 900);
	/* The rate alone is above the safe rate most of the time: only the overlap rule saves it */
	assert_true(over_rate > 800);
	sim_overrun_done(&o);
}

/* Pipelined: requests keep arriving while the flash programs. The device decides about a page
 * once the program is over, when every reception that overlaps it is known. */
static unsigned pipelined_corruptions(uint64_t gap_us)
{
	struct sim_transfer req[60];
	struct sim_overrun o;
	struct sim_link l;
	uint64_t busy_until = 0;
	unsigned corrupt = 0;

	sim_overrun_init(&o, SAFE);
	sim_link_init(&l, 15000, 64 * 1024);
	for (unsigned k = 0; k < 60; k++) {
		sim_link_send(&l, SIM_UPLINK, k * gap_us, REQ_SIZE, &req[k]);
		rx(&o, &l, &req[k], REQ_SIZE);
	}
	for (unsigned k = 0; k < 60; k++) {
		uint64_t t = (req[k].arrival > busy_until ? req[k].arrival : busy_until) + CPU;

		for (unsigned p = 0; p < CHUNK / 256; p++, t += PROG) {
			sim_overrun_forget(&o, t);
			corrupt += sim_overrun_corrupts(&o, t, t + PROG);
		}
		busy_until = t;
	}
	sim_overrun_done(&o);
	return corrupt;
}

static void test_overlapping_arrivals_above_safe_rate_corrupt(void **state)
{
	/* As fast as the link goes: 64 KiB/s */
	assert_true(pipelined_corruptions(0) > 100);
}

static void test_overlapping_arrivals_below_safe_rate_do_not_corrupt(void **state)
{
	/* One 2475-byte request every 400 ms: 6 KiB/s, requests still arrive during programming */
	assert_int_equal(pipelined_corruptions(400000), 0);
}

static void test_rate_counts_arrivals_in_window_before_end(void **state)
{
	struct sim_overrun o;

	sim_overrun_init(&o, SAFE);
	assert_int_equal(sim_overrun_reception(&o, 0, 1000, 1000), 0);
	assert_int_equal(sim_overrun_reception(&o, 100000, 150000, 2000), 0);
	/* window (50 ms, 250 ms]: only the second */
	assert_true(sim_overrun_rate(&o, 250000) == 2000.0 / 0.2);
	/* window (0, 200 ms]: both (arrival 1 ms is inside) */
	assert_true(sim_overrun_rate(&o, 200000) == 3000.0 / 0.2);
	/* a reception ending exactly when a program starts does not overlap it */
	assert_false(sim_overrun_corrupts(&o, 150000, 160000));
	sim_overrun_done(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window1_sequential_never_corrupts),
		cmocka_unit_test(test_overlapping_arrivals_above_safe_rate_corrupt),
		cmocka_unit_test(test_overlapping_arrivals_below_safe_rate_do_not_corrupt),
		cmocka_unit_test(test_rate_counts_arrivals_in_window_before_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
