/* test-pacer.c — the upload pacer: fixed window and token bucket, and the adaptive window and rate
 * driven by answers from a modelled pipe (a bottleneck stage plus a fixed round trip). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "update/pacer.h"
#include "util/macro.h"

static struct pacer_config fixed(unsigned window, uint32_t rate, unsigned buffers)
{
	return (struct pacer_config){ .pace = { .window = window, .rate = rate },
				      .max_window = buffers };
}

static void test_window_is_capped_by_device_buffers(void **state)
{
	struct pacer p;
	struct pacer_config c = fixed(8, 0, 4);

	pacer_init(&p, &c, 0);
	assert_int_equal(pacer_window(&p), 4);
	c = fixed(2, 0, 4);
	pacer_init(&p, &c, 0);
	assert_int_equal(pacer_window(&p), 2);
	c = fixed(3, 0, 0); /* a device reporting no buffers still gets one request */
	pacer_init(&p, &c, 0);
	assert_int_equal(pacer_window(&p), 1);
}

static void test_unlimited_rate_never_delays(void **state)
{
	struct pacer p;
	struct pacer_config c = fixed(1, 0, 4);

	pacer_init(&p, &c, 1000);
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
	struct pacer_config c = fixed(4, 10000, 4);
	uint64_t t = 5000000, times[200];
	size_t bytes[200], total = 0;

	pacer_init(&p, &c, t);
	for (int i = 0; i < 200; i++) {
		t += pacer_delay(&p, t);
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
	for (int i = 0; i < 199; i++)
		total += bytes[i];
	assert_true((double)total / ((double)(times[199] - times[0]) / 1e6) > 8000.0);
}

static void test_idle_time_gives_no_burst_credit(void **state)
{
	struct pacer p;
	struct pacer_config c = fixed(1, 1000, 1);

	pacer_init(&p, &c, 0);
	pacer_sent(&p, 500, 0);
	assert_int_equal(pacer_delay(&p, 10 * USEC_PER_SEC), 0);
	pacer_sent(&p, 1000, 10 * USEC_PER_SEC);
	assert_true(pacer_delay(&p, 10 * USEC_PER_SEC) >= USEC_PER_SEC);
}

/* A pipe: each request occupies the bottleneck for service_us (queueing FIFO behind earlier
 * ones), plus a fixed delay_us of propagation and processing. Runs n answers and returns the
 * delivery rate (requests per second) of the second half; tracks the largest window. */
struct pipe {
	uint64_t service_us, delay_us;
	unsigned peak_window, peak_queue;
};

static double run_pipe(struct pacer *p, struct pipe *pp, unsigned n)
{
	uint64_t now = 0, free_at = 0, done[64], sent[64];
	unsigned in_flight = 0, acked = 0;
	uint64_t half_t = 0;

	while (acked < n) {
		while (in_flight < pacer_window(p) && pacer_delay(p, now) == 0) {
			uint64_t start = MAX(now, free_at);

			free_at = start + pp->service_us;
			sent[in_flight] = now;
			done[in_flight++] = free_at + pp->delay_us;
			pacer_sent(p, 2000, now);
			pp->peak_queue = MAX(pp->peak_queue, (unsigned)((free_at - now) / pp->service_us));
		}
		pp->peak_window = MAX(pp->peak_window, pacer_window(p));
		now = done[0]; /* FIFO: the oldest answers first */
		pacer_on_ack(p, now - sent[0], true, true, 0);
		memmove(done, done + 1, --in_flight * sizeof(done[0]));
		memmove(sent, sent + 1, in_flight * sizeof(sent[0]));
		if (++acked == n / 2)
			half_t = now;
	}
	return (double)(n - n / 2) * 1e6 / (double)(now - half_t);
}

static void test_adaptive_window_fills_the_pipe_without_a_long_queue(void **state)
{
	/* Link-like bottleneck: 37 ms per request, 63 ms fixed: 2.7 requests fill it. */
	struct pipe pp = { .service_us = 37000, .delay_us = 63000 };
	struct pacer p;
	struct pacer_config c = { .pace = { .window = UPD_WINDOW_AUTO }, .max_window = 16 };
	double rate;

	pacer_init(&p, &c, 0);
	assert_int_equal(pacer_window(&p), 1); /* starts conservatively */
	rate = run_pipe(&p, &pp, 400);
	assert_true(rate >= 0.95 * 1e6 / 37000.0); /* the bottleneck is kept busy */
	assert_true(pp.peak_window >= 3);
	assert_true(pp.peak_window <= 6); /* and no deeper than a couple of waiting requests */
	assert_true(pp.peak_queue <= 4);
}

/* Answers at a flat round trip (no queue anywhere): the window doubles per round until the
 * buffers bound it; after a back-off it grows by one per round again. */
static void test_slow_start_doubles_until_the_first_back_off(void **state)
{
	struct pacer p;
	struct pacer_config c = { .pace = { .window = UPD_WINDOW_AUTO }, .max_window = 8 };
	unsigned acks = 0;

	pacer_init(&p, &c, 0);
	while (pacer_window(&p) < 8 && acks < 100) {
		pacer_on_ack(&p, 50000, true, true, 0);
		acks++;
	}
	assert_int_equal(pacer_window(&p), 8);
	assert_int_equal(acks, 1 + 2 + 4); /* 1 -> 2 -> 4 -> 8, a round each */
	pacer_on_congestion(&p, 0);
	assert_int_equal(pacer_window(&p), 4);
	for (unsigned i = 0; i < 4; i++)
		pacer_on_ack(&p, 50000, true, true, 0);
	assert_int_equal(pacer_window(&p), 5); /* one more, not double */
}

/* The first chunk's answer (no round-trip sample: it waited for the erase) still grows the
 * window; an answer that did not take its request's bytes (a rewind) does not. */
static void test_slow_start_counts_requests_taken_not_samples(void **state)
{
	struct pacer p;
	struct pacer_config c = { .pace = { .window = UPD_WINDOW_AUTO }, .max_window = 4,
				  .start_window = 2 };

	pacer_init(&p, &c, 0);
	pacer_on_ack(&p, 400000, false, false, 0); /* rewind */
	assert_int_equal(pacer_window(&p), 2);
	pacer_on_ack(&p, 400000, false, true, 0); /* the first chunk, after its erase */
	assert_int_equal(pacer_window(&p), 3);
	pacer_on_ack(&p, 390000, false, true, 0); /* the one sent behind it */
	assert_int_equal(pacer_window(&p), 4);
	pacer_on_ack(&p, 400000, false, true, 0); /* past the buffers: no further */
	assert_int_equal(pacer_window(&p), 4);
	c.max_window = 8;
	pacer_init(&p, &c, 0);
	pacer_on_congestion(&p, 0); /* after a back-off: no sample, no growth */
	pacer_on_ack(&p, 400000, false, true, 0);
	assert_int_equal(pacer_window(&p), 1);
}

static void test_adaptive_window_never_exceeds_buffers_or_ceiling(void **state)
{
	struct pipe pp = { .service_us = 1000, .delay_us = 50000 }; /* wants ~50 in flight */
	struct pacer p;
	struct pacer_config c = { .pace = { .window = UPD_WINDOW_AUTO }, .max_window = 4 };

	pacer_init(&p, &c, 0);
	run_pipe(&p, &pp, 300);
	assert_int_equal(pp.peak_window, 4);
	c.ceiling_window = 1; /* a remembered refusal: one request at a time */
	c.start_window = 4;
	pp.peak_window = 0;
	pacer_init(&p, &c, 0);
	run_pipe(&p, &pp, 100);
	assert_int_equal(pp.peak_window, 1);
}

static void test_adaptive_start_from_remembered_window(void **state)
{
	struct pacer p;
	struct pacer_config c = { .pace = { .window = UPD_WINDOW_AUTO }, .max_window = 4,
				  .start_window = 3 };

	pacer_init(&p, &c, 0);
	assert_int_equal(pacer_window(&p), 3);
}

static void test_congestion_halves_window_and_caps_rate_then_recovers(void **state)
{
	struct pipe pp = { .service_us = 10000, .delay_us = 40000 };
	struct pacer p;
	struct pacer_config c = { .pace = { .window = UPD_WINDOW_AUTO, .auto_rate = true },
				  .max_window = 8 };
	uint32_t cap;

	pacer_init(&p, &c, 0);
	assert_int_equal(pacer_rate(&p), 0);
	run_pipe(&p, &pp, 200);
	unsigned w = pacer_window(&p);
	assert_true(w >= 4);
	pacer_on_congestion(&p, 100000.0);
	assert_int_equal(pacer_window(&p), w / 2);
	cap = pacer_rate(&p);
	assert_int_equal(cap, 75000);
	/* Each quiet round raises the cap by a tenth... */
	for (unsigned i = 0; i < pacer_window(&p); i++)
		pacer_on_ack(&p, 60000, true, true, 74000.0);
	assert_int_equal(pacer_rate(&p), 82500);
	/* ...and a cap far above what is delivered is dropped. */
	for (int r = 0; r < 20 && pacer_rate(&p); r++)
		for (unsigned i = 0; i < pacer_window(&p); i++)
			pacer_on_ack(&p, 60000, true, true, 50000.0);
	assert_int_equal(pacer_rate(&p), 0);
	assert_int_equal(p.backoffs, 1);
}

/* A timeout before anything was delivered (a lost first request) says nothing about the rate:
 * the window halves, and the rate is not capped at the floor. With a cap, the cap halves. */
static void test_congestion_before_any_delivery_halves_the_window_only(void **state)
{
	struct pacer p;
	struct pacer_config c = { .pace = { .window = UPD_WINDOW_AUTO, .auto_rate = true },
				  .max_window = 4, .start_window = 4 };

	pacer_init(&p, &c, 0);
	pacer_on_congestion(&p, 0);
	assert_int_equal(pacer_window(&p), 2);
	assert_int_equal(pacer_rate(&p), 0);
	c.start_rate = 20000;
	pacer_init(&p, &c, 0);
	pacer_on_congestion(&p, 0);
	assert_int_equal(pacer_rate(&p), 10000);
}

static void test_rate_ceiling_is_never_exceeded(void **state)
{
	struct pacer p;
	struct pacer_config c = { .pace = { .window = UPD_WINDOW_AUTO, .auto_rate = true },
				  .max_window = 4, .start_rate = 5000, .ceiling_rate = 9000 };

	pacer_init(&p, &c, 0);
	assert_int_equal(pacer_rate(&p), 5000);
	for (int r = 0; r < 50; r++)
		for (unsigned i = 0; i < pacer_window(&p); i++)
			pacer_on_ack(&p, 60000, true, true, 1000.0);
	assert_int_equal(pacer_rate(&p), 9000);
	pacer_on_congestion(&p, 0.0);
	assert_true(pacer_rate(&p) <= 9000 && pacer_rate(&p) > 0);
}

static void test_fixed_pacing_ignores_feedback(void **state)
{
	struct pacer p;
	struct pacer_config c = fixed(3, 20000, 4);

	pacer_init(&p, &c, 0);
	for (int i = 0; i < 50; i++)
		pacer_on_ack(&p, 1000 + (uint64_t)i * 1000, true, true, 1e6);
	pacer_on_congestion(&p, 1000.0);
	assert_int_equal(pacer_window(&p), 3);
	assert_int_equal(pacer_rate(&p), 20000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_is_capped_by_device_buffers),
		cmocka_unit_test(test_unlimited_rate_never_delays),
		cmocka_unit_test(test_rate_cap_holds_between_any_two_sends),
		cmocka_unit_test(test_idle_time_gives_no_burst_credit),
		cmocka_unit_test(test_adaptive_window_fills_the_pipe_without_a_long_queue),
		cmocka_unit_test(test_slow_start_doubles_until_the_first_back_off),
		cmocka_unit_test(test_slow_start_counts_requests_taken_not_samples),
		cmocka_unit_test(test_adaptive_window_never_exceeds_buffers_or_ceiling),
		cmocka_unit_test(test_adaptive_start_from_remembered_window),
		cmocka_unit_test(test_congestion_halves_window_and_caps_rate_then_recovers),
		cmocka_unit_test(test_congestion_before_any_delivery_halves_the_window_only),
		cmocka_unit_test(test_rate_ceiling_is_never_exceeded),
		cmocka_unit_test(test_fixed_pacing_ignores_feedback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
