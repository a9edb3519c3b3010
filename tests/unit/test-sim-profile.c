/* test-sim-profile.c — otasim's profiles and their theoretical bottleneck. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/profile.h"

static void test_default_profile_is_spi_lp(void **state)
{
	const struct sim_profile *p = sim_profile_get(0);

	assert_string_equal(p->name, "spi-lp");
	assert_int_equal(p->buf_size, 2475);
	assert_int_equal(p->buf_count, 4);
	assert_int_equal(p->erase_typ_us, 58000);
	assert_int_equal(p->prog_max_us, 10000);
	assert_false(p->progressive_erase);
	assert_false(p->image_check);
	assert_null(sim_profile_find("nope"));
	for (size_t i = 0; i < sim_profile_count(); i++)
		assert_int_equal(sim_profile_check(sim_profile_get(i), NULL), 0);
}

/* 256 KiB in requests of 2475 - 26 = 2449 image bytes: 108 of them, 107 after the first. */
#define IMG	 262144.0
#define CHUNK	 2449.0
#define REST	 (IMG - CHUNK)
#define REQUESTS 108.0

static void test_bottleneck_link_bound_with_full_erase(void **state)
{
	struct sim_bottleneck b;
	/* Expected page program: 3.2 ms, and 5 % of pages draw in [3.2, 10] ms (mean +0.17 ms) */
	double page = 0.00337 / 256, cpu = 0.0003, bw = 65536;
	double link = (REST + 107 * 26) / bw, flash = 107 * cpu + REST * page;
	/* The first request: over the air, CPU, its pages, and the erase of 64 image sectors and
	 * the trailer's, 58 ms each plus the tail's mean (5 % of 201 ms) */
	double first = (CHUNK + 26) / bw + cpu + CHUNK * page + 65 * 0.06805;

	sim_profile_bottleneck(sim_profile_find("spi-lp"), 256 * 1024, &b);
	assert_true(fabs(b.flash_rate - REST / flash) < 1);
	assert_true(fabs(b.link_rate - REST / link) < 1);
	assert_true(b.link_rate < b.flash_rate);
	assert_true(b.rate == b.link_rate);
	assert_string_equal(b.stage, "link");
	/* Three more requests cross the link into buffers during the erase; a 30 ms round trip */
	assert_true(fabs(b.seconds - (0.030 + first + link - 3 * 2475 / bw + 18 / bw)) < 1e-9);
	assert_true(fabs(b.fixed_s - (b.seconds - IMG / b.rate)) < 1e-9);
}

static void test_bottleneck_flash_bound_with_progressive_erase(void **state)
{
	struct sim_bottleneck b;
	/* internal flash timing has no tail: 1.4 ms per 256-byte page, 85 ms per sector */
	double page = 0.0014 / 256, cpu = 0.0003, bw = 65536, erase = 0.085, check = IMG / 2097152;
	double flash = 107 * cpu + REST * page + 63 * erase;
	/* The first request erases the first sector and reads the slot back (is the image there
	 * already?); the last reads it back again (the image check) and erases the trailer. */
	double first = (CHUNK + 26) / bw + cpu + CHUNK * page + erase + check;
	double last = check + erase + 18 / bw;

	sim_profile_bottleneck(sim_profile_find("internal"), 256 * 1024, &b);
	assert_true(fabs(b.flash_rate - REST / flash) < 1);
	assert_string_equal(b.stage, "flash");
	assert_true(b.rate == b.flash_rate);
	assert_true(fabs(b.seconds - (0.030 + first + flash + last)) < 1e-9);
}

static void test_bottleneck_overrun_is_best_safe_way(void **state)
{
	struct sim_profile p = *sim_profile_find("spi-lp-overrun");
	struct sim_bottleneck b;
	double c = 2475 - SIM_UPLOAD_OVERHEAD;
	/* one request at a time: link both ways, latency, CPU, expected page programs */
	double seq = c / (2475.0 / 65536 + 0.030 + 0.0003 + c / 256 * 0.00337 + 18.0 / 65536);

	sim_profile_bottleneck(&p, 256 * 1024, &b);
	assert_true(fabs(b.seq_rate - seq) < 1);
	assert_string_equal(b.stage, "sequential");
	assert_true(b.rate == b.seq_rate);
	/* a generous safe rate wins over sequential, capped by the pipeline */
	p.safe_rate = 60 * 1024;
	sim_profile_bottleneck(&p, 256 * 1024, &b);
	assert_string_equal(b.stage, "safe rate");
	assert_true(b.rate == 60 * 1024);
	p.safe_rate = 1024 * 1024;
	sim_profile_bottleneck(&p, 256 * 1024, &b);
	assert_true(b.rate == b.link_rate);
}

static void test_print_lists_parameters_and_bottleneck(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	sim_profile_print(sim_profile_find("spi-lp-overrun"), false, f);
	fclose(f);
	assert_non_null(strstr(buf, "spi-lp-overrun\n"));
	assert_non_null(strstr(buf, "buf_size 2475, buf_count 4"));
	assert_non_null(strstr(buf, "erase 58.0/460.0 ms"));
	assert_non_null(strstr(buf, "overrun above 8.0 KiB/s"));
	assert_non_null(strstr(buf, "bottleneck (256 KiB image):"));
	assert_non_null(strstr(buf, "sequential"));
	free(buf);
}

static void test_check_rejects_nonsense(void **state)
{
	struct sim_profile p = *sim_profile_get(0);
	const char *why = NULL;

	p.buf_count = 0;
	assert_int_equal(sim_profile_check(&p, &why), -22);
	assert_non_null(why);
	p = *sim_profile_get(0);
	p.slot_size = 5000;
	assert_int_equal(sim_profile_check(&p, &why), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_profile_is_spi_lp),
		cmocka_unit_test(test_bottleneck_link_bound_with_full_erase),
		cmocka_unit_test(test_bottleneck_flash_bound_with_progressive_erase),
		cmocka_unit_test(test_bottleneck_overrun_is_best_safe_way),
		cmocka_unit_test(test_print_lists_parameters_and_bottleneck),
		cmocka_unit_test(test_check_rejects_nonsense),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
