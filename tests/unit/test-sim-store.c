/* test-sim-store.c — otasim's state file: round trip, reopen, refusal of what does not parse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/testlib.h"
#include "sim/store.h"

#define SLOT 8192

static void test_format_parse_round_trip(void **state)
{
	struct sim_store_meta m = {.profile = "spi-lp-overrun", .slot_size = 483328}, back;
	const char *why = NULL;
	unsigned line = 99;
	char *text;

	m.trailer[0] =
		(struct sim_trailer){.magic = true, .copy_done = true, .swap_type = SIM_SWAP_TEST};
	m.trailer[1] =
		(struct sim_trailer){.magic = true, .image_ok = true, .swap_type = SIM_SWAP_PERM};
	m.counters = (struct sim_counters){.boots = 7, .swaps = 3, .refusals = 2, .reverts = 1};
	m.swapping = SIM_SWAP_REVERT;
	text = sim_store_format(&m);
	assert_non_null(text);
	assert_int_equal(sim_store_parse(text, &back, &line, &why), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	free(text);
}

static void expect_refused(const char *text, unsigned want_line, const char *want_why)
{
	struct sim_store_meta m;
	const char *why = NULL;
	unsigned line = 99;

	assert_int_equal(sim_store_parse(text, &m, &line, &why), -EBADMSG);
	assert_int_equal(line, want_line);
	assert_non_null(why);
	assert_non_null(strstr(why, want_why));
}

#define GOOD_TRAILERS                                                                              \
	"slot0.magic=0\nslot0.image_ok=0\nslot0.copy_done=0\nslot0.swap_type=unset\n"              \
	"slot1.magic=0\nslot1.image_ok=0\nslot1.copy_done=0\nslot1.swap_type=unset\n"

static void test_parse_refuses_with_line_and_reason(void **state)
{
	expect_refused("format=1\nslot_size=8192\n# ok\n\nslot0.magic=2\n", 5, "0 or 1");
	expect_refused("format=1\nbogus\n", 2, "key=value");
	expect_refused("format=1\nslot_size=1\nslot_size=2\n", 3, "twice");
	expect_refused("format=2\n", 1, "format");
	expect_refused("format=1\ncolour=blue\n", 2, "unknown key");
	expect_refused("format=1\nslot_size=-4\n", 2, "unsigned");
	expect_refused("format=1\nslot0.swap_type=sideways\n", 2, "swap_type");
	/* whole-file problems have line 0 */
	expect_refused("format=1\nslot_size=8192\n", 0, "missing");
	expect_refused("format=1\nslot_size=8192\n" GOOD_TRAILERS "boots=x\n", 11, "unsigned");
}

static void test_open_creates_then_reopens_same_device(void **state)
{
	const char *path = tl_path("dev1.state");
	struct sim_store *s = NULL;
	char err[256] = "";
	bool created = false;
	uint8_t *flash;

	assert_int_equal(sim_store_open(path, "spi-lp", SLOT, &s, &created, err, sizeof(err)), 0);
	assert_true(created);
	flash = sim_store_flash(s);
	assert_int_equal(flash[0], 0xff);
	assert_int_equal(flash[2 * SLOT - 1], 0xff);
	memcpy(flash + 100, "firmware", 8);
	memcpy(flash + SLOT + 5, "upload", 6);
	sim_store_meta(s)->trailer[1].magic = true;
	sim_store_meta(s)->counters.boots = 3;
	assert_int_equal(sim_store_sync(s), 0);
	sim_store_free(s);

	s = NULL;
	assert_int_equal(sim_store_open(path, "spi-lp", SLOT, &s, &created, err, sizeof(err)), 0);
	assert_false(created);
	flash = sim_store_flash(s);
	assert_memory_equal(flash + 100, "firmware", 8);
	assert_memory_equal(flash + SLOT + 5, "upload", 6);
	assert_true(sim_store_meta(s)->trailer[1].magic);
	assert_false(sim_store_meta(s)->trailer[0].magic);
	assert_int_equal(sim_store_meta(s)->counters.boots, 3);
	assert_string_equal(sim_store_meta(s)->profile, "spi-lp");
	sim_store_free(s);
}

static void test_open_refuses_malformed_file_and_keeps_it(void **state)
{
	const char *path = tl_path("bad.state");
	const char *text = "format=1\nslot_size=8192\nslot0.magic=maybe\n";
	struct sim_store *s = NULL;
	char err[256] = "", *after;
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(sim_store_open(path, "spi-lp", SLOT, &s, NULL, err, sizeof(err)),
			 -EBADMSG);
	assert_null(s);
	assert_non_null(strstr(err, "bad.state:3: flag is not 0 or 1"));
	after = tl_read_file(path);
	assert_string_equal(after, text);
	free(after);
}

static void test_open_refuses_wrong_slot_size_or_flash_file(void **state)
{
	const char *path = tl_path("dev2.state");
	struct sim_store *s = NULL;
	char err[256] = "", flash_path[600];

	assert_int_equal(sim_store_open(path, "lan", SLOT, &s, NULL, err, sizeof(err)), 0);
	assert_int_equal(sim_store_save(s), 0);
	sim_store_free(s);
	s = NULL;
	assert_int_equal(sim_store_open(path, "lan", 2 * SLOT, &s, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "does not match"));
	snprintf(flash_path, sizeof(flash_path), "%s.flash", path);
	assert_int_equal(truncate(flash_path, 100), 0);
	err[0] = 0;
	assert_int_equal(sim_store_open(path, "lan", SLOT, &s, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expected 16384"));
	unlink(flash_path);
	err[0] = 0;
	assert_int_equal(sim_store_open(path, "lan", SLOT, &s, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, ".flash"));
}

static void test_memory_store_needs_no_file(void **state)
{
	struct sim_store *s = NULL;
	bool created = false;

	assert_int_equal(sim_store_open(NULL, "lan", SLOT, &s, &created, NULL, 0), 0);
	assert_true(created);
	assert_int_equal(sim_store_flash(s)[SLOT], 0xff);
	assert_int_equal(sim_store_save(s), 0);
	sim_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse_round_trip),
		cmocka_unit_test(test_parse_refuses_with_line_and_reason),
		cmocka_unit_test(test_open_creates_then_reopens_same_device),
		cmocka_unit_test(test_open_refuses_malformed_file_and_keeps_it),
		cmocka_unit_test(test_open_refuses_wrong_slot_size_or_flash_file),
		cmocka_unit_test(test_memory_store_needs_no_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
