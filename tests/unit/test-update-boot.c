/* test-update-boot.c — the default boot timeout (boot.c upd_boot_timeout): a swap moves every
 * sector of the image, so the wait for a healthy device grows with the image and with the erase
 * time the device showed, and never drops below 60 s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>

#include "otad/update.h"

#define S(x) ((uint64_t)(x) * 1000000u)

static void test_small_images_get_the_60_s_floor(void **state)
{
	assert_int_equal(upd_boot_timeout(1, 0), S(60));
	assert_int_equal(upd_boot_timeout(24 * 1024, 0), S(60));
	assert_int_equal(upd_boot_timeout(50 * 4096, 0), S(60)); /* 10 s + 50 sectors */
}

static void test_large_images_get_one_second_per_sector(void **state)
{
	/* 51 sectors: 61 s */
	assert_int_equal(upd_boot_timeout(50 * 4096 + 1, 0), S(61));
	/* the largest image of an nRF52840 DK slot (0x75000 bytes, 117 sectors): the issue's
	 * spi-lp swap of 60.5 s fits, twice over */
	assert_int_equal(upd_boot_timeout(0x75000, 0), S(127));
}

static void test_a_slower_erase_seen_at_the_first_chunk_raises_it(void **state)
{
	/* 300 ms per sector erased before the first answer: six times that per sector swapped */
	assert_int_equal(upd_boot_timeout(100 * 4096, 300000), S(10) + 100 * 1800000ull);
	/* a fast one changes nothing */
	assert_int_equal(upd_boot_timeout(100 * 4096, 20000), S(110));
}

static void test_the_default_is_derived_not_fixed(void **state)
{
	struct upd_params p;

	upd_params_init(&p);
	assert_int_equal(p.boot_timeout_usec, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_images_get_the_60_s_floor),
		cmocka_unit_test(test_large_images_get_one_second_per_sector),
		cmocka_unit_test(test_a_slower_erase_seen_at_the_first_chunk_raises_it),
		cmocka_unit_test(test_the_default_is_derived_not_fixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
