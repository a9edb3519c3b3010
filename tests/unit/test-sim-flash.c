/* test-sim-flash.c — otasim's NOR flash model: erase/program semantics and timing by seed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "sim/flash.h"
#include "sim/prng.h"
#include "sim/profile.h"

struct fixture {
	struct sim_profile p;
	struct sim_prng prng;
	struct sim_flash f;
	uint8_t *mem;
};

static int setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->p = *sim_profile_find("spi-lp");
	x->p.slot_size = 16 * 4096;
	x->mem = malloc(2 * (size_t)x->p.slot_size);
	assert_non_null(x->mem);
	memset(x->mem, 0xff, 2 * (size_t)x->p.slot_size);
	sim_prng_seed(&x->prng, 1);
	sim_flash_init(&x->f, &x->p, x->mem, &x->prng);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *x = *state;

	free(x->mem);
	free(x);
	return 0;
}

static void test_program_clears_bits_only(void **state)
{
	struct fixture *x = *state;
	const uint8_t a[4] = {0xf0, 0x0f, 0xaa, 0xff}, b[4] = {0x3c, 0xff, 0x55, 0x00};
	uint8_t *s1 = sim_flash_slot(&x->f, 1);

	sim_flash_program(&x->f, 1, 256, a, 4);
	assert_memory_equal(s1 + 256, a, 4);
	/* Writing over unerased flash ANDs: 0xf0 & 0x3c = 0x30, 0xaa & 0x55 = 0 */
	sim_flash_program(&x->f, 1, 256, b, 4);
	assert_int_equal(s1[256], 0x30);
	assert_int_equal(s1[257], 0x0f);
	assert_int_equal(s1[258], 0x00);
	assert_int_equal(s1[259], 0x00);
	/* Slot 0 untouched */
	assert_int_equal(sim_flash_slot(&x->f, 0)[256], 0xff);
}

static void test_erase_sets_sector_to_ff(void **state)
{
	struct fixture *x = *state;
	uint8_t zero[256] = {0};
	uint8_t *s1 = sim_flash_slot(&x->f, 1);

	for (uint32_t off = 4096 - 256; off < 3 * 4096; off += 256)
		sim_flash_program(&x->f, 1, off, zero, sizeof(zero));
	sim_flash_erase_sector(&x->f, 1, 1);
	assert_int_equal(s1[4096 - 1], 0x00);
	for (uint32_t i = 4096; i < 2 * 4096; i++)
		assert_int_equal(s1[i], 0xff);
	assert_int_equal(s1[2 * 4096], 0x00);
	assert_int_equal(sim_flash_erased_run(&x->f, 1, 4096, 8192), 4096);
	/* An erase range covers every sector it touches */
	sim_flash_erase_range(&x->f, 1, 100, 5000);
	assert_int_equal(sim_flash_erased_run(&x->f, 1, 0, 3 * 4096), 2 * 4096);
}

static void test_timing_typical_with_tail_up_to_worst(void **state)
{
	struct fixture *x = *state;
	uint8_t page[256];
	unsigned slow_erase = 0, slow_prog = 0;

	memset(page, 0, sizeof(page));
	for (unsigned i = 0; i < 4000; i++) {
		uint64_t e = sim_flash_erase_sector(&x->f, 1, i % 16);
		uint64_t p = sim_flash_program(&x->f, 1, (i % 16) * 4096, page, 256);

		assert_true(e >= x->p.erase_typ_us && e <= x->p.erase_max_us);
		assert_true(p >= x->p.prog_typ_us && p <= x->p.prog_max_us);
		slow_erase += e > x->p.erase_typ_us;
		slow_prog += p > x->p.prog_typ_us;
	}
	/* 5 % tail: 200 expected out of 4000 each */
	assert_in_range(slow_erase, 140, 260);
	assert_in_range(slow_prog, 140, 260);
}

static uint64_t run_sequence(uint64_t seed, struct fixture *x)
{
	uint8_t page[256] = {0};
	uint64_t total = 0;

	sim_prng_seed(&x->prng, seed);
	for (unsigned i = 0; i < 500; i++)
		total = total * 31 + sim_flash_erase_sector(&x->f, 1, i % 16) +
			sim_flash_program(&x->f, 1, 0, page, 256);
	return total;
}

static void test_timing_is_deterministic_by_seed(void **state)
{
	struct fixture *x = *state;
	uint64_t a = run_sequence(7, x), b = run_sequence(7, x), c = run_sequence(8, x);

	assert_true(a == b);
	assert_true(a != c);
}

static void test_read_time_follows_read_rate(void **state)
{
	struct fixture *x = *state;

	/* spi-lp reads 512 KiB/s: 64 KiB take 125 ms */
	assert_int_equal(sim_flash_read_us(&x->f, 64 * 1024), 125000);
}

static void test_clear_bits_changes_exactly_n_bits(void **state)
{
	struct fixture *x = *state;
	uint8_t *s1 = sim_flash_slot(&x->f, 1);
	unsigned ones = 0;

	sim_flash_clear_bits(&x->f, 1, 512, 256, 5);
	for (unsigned i = 512; i < 768; i++)
		ones += (unsigned)__builtin_popcount(s1[i]);
	assert_int_equal(ones, 256 * 8 - 5);
	assert_int_equal(s1[511], 0xff);
	assert_int_equal(s1[768], 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_program_clears_bits_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_sets_sector_to_ff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timing_typical_with_tail_up_to_worst, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timing_is_deterministic_by_seed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_time_follows_read_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_bits_changes_exactly_n_bits, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
