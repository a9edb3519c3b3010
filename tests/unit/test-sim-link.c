/* test-sim-link.c — otasim's link model: FIFO serialisation per direction plus latency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sim/link.h"

static void test_packet_arrives_after_serialisation_and_latency(void **state)
{
	struct sim_link l;
	struct sim_transfer t;

	sim_link_init(&l, 15000, 65536);
	sim_link_send(&l, SIM_UPLINK, 1000, 2048, &t);
	assert_int_equal(t.start, 1000);
	assert_int_equal(t.end, 1000 + 31250); /* 2048 B at 64 KiB/s */
	assert_int_equal(t.arrival, 1000 + 31250 + 15000);
}

static void test_fifo_queues_behind_previous_packet(void **state)
{
	struct sim_link l;
	struct sim_transfer a, b, c;

	sim_link_init(&l, 500, 1000000);
	sim_link_send(&l, SIM_UPLINK, 0, 1000, &a);   /* 1 ms on the air */
	sim_link_send(&l, SIM_UPLINK, 200, 500, &b);  /* waits for a */
	sim_link_send(&l, SIM_UPLINK, 5000, 100, &c); /* link idle again */
	assert_int_equal(a.end, 1000);
	assert_int_equal(b.start, 1000);
	assert_int_equal(b.end, 1500);
	assert_int_equal(b.arrival, 2000);
	assert_int_equal(c.start, 5000);
	assert_int_equal(c.arrival, 5000 + 100 + 500);
}

static void test_directions_are_independent(void **state)
{
	struct sim_link l;
	struct sim_transfer up, down;

	sim_link_init(&l, 0, 1000);
	sim_link_send(&l, SIM_UPLINK, 0, 1000, &up);	/* busy for 1 s */
	sim_link_send(&l, SIM_DOWNLINK, 10, 10, &down); /* not behind the uplink */
	assert_int_equal(up.end, 1000000);
	assert_int_equal(down.start, 10);
	assert_int_equal(down.end, 10010);
}

static void test_serialisation_rounds_up(void **state)
{
	struct sim_link l;

	sim_link_init(&l, 0, 3000000);
	assert_int_equal(sim_link_serialisation_us(&l, 1), 1);
	assert_int_equal(sim_link_serialisation_us(&l, 3), 1);
	assert_int_equal(sim_link_serialisation_us(&l, 4), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packet_arrives_after_serialisation_and_latency),
		cmocka_unit_test(test_fifo_queues_behind_previous_packet),
		cmocka_unit_test(test_directions_are_independent),
		cmocka_unit_test(test_serialisation_rounds_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
