/* test-pacer.c — the window and token bucket of the upload pacer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "update/pacer.h"
#include "util/macro.h"

static void test_window_is_capped_by_device_buffers(void **state)
{
	struct pacer p;
	struct upd_pace pace = { .window = 8 };

	pacer_init(&p, &pace, 4, 0);
	assert_int_equal(pacer_window(&p), 4);
	pace.window = 2;
	pacer_init(&p, &pace, 4, 0);
	assert_int_equal(pacer_window(&p), 2);
	pace.window = UPD_WINDOW_AUTO;
	pacer_init(&p, &pace, 3, 0);
	assert_int_equal(pacer_window(&p), 3);
	pacer_init(&p, &pace, 0, 0); /* a device reporting no buffers still gets one request */
	assert_int_equal(pacer_window(&p), 1);
}

static void test_unlimited_rate_never_delays(void **state)
{
	struct pacer p;
	struct upd_pace pace = { .rate = 0, .window = 1 };

	pacer_init(&p, &pace, 4, 1000);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(pacer_delay(&p, 1000), 0);
		pacer_sent(&p, 4096, 1000);
	}
}

/* Property: sending as early as allowed, the bytes of sends i..j-1 never exceed
 * rate * (t_j - t_i), for every pair, and the long-run rate reaches the limit. */
static void test_rate_cap_holds_between_any_two_sends(void **state)
{
	static const size_t sizes[] = { 1900, 300, 2400, 17, 2400, 2400, 800 };
	struct pacer p;
	struct upd_pace pace = { .rate = 10000, .window = 4 };
	uint64_t t = 5000000, times[200];
	size_t bytes[200];

	pacer_init(&p, &pace, 4, t);
	for (int i = 0; i < 200; i++) {
		uint64_t d = pacer_delay(&p, t);

		t += d;
		assert_int_equal(pacer_delay(&p, t), 0);
		times[i] = t;
		bytes[i] = sizes[i % ARRAY_SIZE(sizes)];
		pacer_sent(&p, bytes[i], t);
		t += (uint64_t)(i % 3) * 7000; /* sometimes the window, not the rate, holds us */
	}
	for (int i = 0; i < 200; i++) {
		size_t sum = 0;

		for (int j = i + 1; j < 200; j++) {
			sum += bytes[j - 1];
			assert_true((double)sum <= 10000.0 * (double)(times[j] - times[i]) / 1e6 + 1e-6);
		}
	}
	/* Close to the limit over the run (the pauses above only cost a little). */
	size_t total = 0;
	for (int i = 0; i < 199; i++)
		total += bytes[i];
	assert_true((double)total / ((double)(times[199] - times[0]) / 1e6) > 8000.0);
}

static void test_idle_time_gives_no_burst_credit(void **state)
{
	struct pacer p;
	struct upd_pace pace = { .rate = 1000, .window = 1 };

	pacer_init(&p, &pace, 1, 0);
	pacer_sent(&p, 500, 0);
	/* A long pause must not allow a burst afterwards. */
	assert_int_equal(pacer_delay(&p, 10 * USEC_PER_SEC), 0);
	pacer_sent(&p, 1000, 10 * USEC_PER_SEC);
	assert_true(pacer_delay(&p, 10 * USEC_PER_SEC) >= USEC_PER_SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_is_capped_by_device_buffers),
		cmocka_unit_test(test_unlimited_rate_never_delays),
		cmocka_unit_test(test_rate_cap_holds_between_any_two_sends),
		cmocka_unit_test(test_idle_time_gives_no_burst_credit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
