/* test-sim-clock.c — otasim's model clock: callbacks in model-time order on one sd-event timer,
 * handed the model time they were scheduled for, model time running --speed times real time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "sim/clock.h"

struct rec {
	struct sim_clock *c;
	sd_event *e;
	uint64_t when[8];
	int order[8];
	unsigned n;
	uint64_t now_at_last;
};

struct cb {
	struct rec *r;
	int id;
};

static void on_event(uint64_t when, void *userdata)
{
	struct cb *cb = userdata;
	struct rec *r = cb->r;

	r->when[r->n] = when;
	r->order[r->n++] = cb->id;
	r->now_at_last = sim_clock_now(r->c);
	if (r->n == 4)
		sd_event_exit(r->e, 0);
}

static void test_callbacks_run_in_model_time_order(void **state)
{
	struct rec r = {0};
	struct cb cbs[5];
	uint64_t cancelled;
	struct timespec a, b;

	assert_int_equal(sd_event_new(&r.e), 0);
	/* 1000 times real time: 200 ms of model time pass in 0.2 ms */
	assert_int_equal(sim_clock_new(r.e, 1000.0, &r.c), 0);
	for (int i = 0; i < 5; i++)
		cbs[i] = (struct cb){.r = &r, .id = i};
	assert_true(sim_clock_at(r.c, 200000, on_event, &cbs[0]) > 0);
	assert_true(sim_clock_at(r.c, 50000, on_event, &cbs[1]) > 0);
	cancelled = sim_clock_at(r.c, 60000, on_event, &cbs[4]);
	assert_true(sim_clock_at(r.c, 100000, on_event, &cbs[2]) > 0);
	assert_true(sim_clock_at(r.c, 100000, on_event, &cbs[3]) > 0); /* same time: FIFO */
	sim_clock_cancel(r.c, cancelled);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(sd_event_loop(r.e), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.order[0], 1);
	assert_int_equal(r.order[1], 2);
	assert_int_equal(r.order[2], 3);
	assert_int_equal(r.order[3], 0);
	assert_int_equal(r.when[0], 50000);
	assert_int_equal(r.when[3], 200000);
	assert_true(r.now_at_last >= 200000);
	/* and it took about 0.2 ms of real time, not 200 ms */
	assert_true((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 100000000L);
	sim_clock_free(r.c);
	sd_event_unref(r.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_callbacks_run_in_model_time_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
