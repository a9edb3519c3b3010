/* test-pace-memory.c — the pace memory file: round trips, other devices' lines kept, malformed
 * entries rejected, bad keys refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/testlib.h"
#include "otad/update.h"
#include "util/fileio.h"

static void test_round_trip_keeps_other_devices(void **state)
{
	const char *path = tl_path("pace-rt");
	struct upd_pace_memory a = { .has_good = true, .good = { .window = 3, .rate = 0 },
				     .good_bps = 61234 };
	struct upd_pace_memory b = { .has_good = true, .good = { .window = 1, .rate = 24860 },
				     .good_bps = 16201, .has_refused = true,
				     .refused = { .window = 4 }, .refused_bps = 27623 };
	struct upd_pace_memory m;
	char *text;

	assert_int_equal(upd_pace_memory_load(path, "udp:a", &m), -ENOENT);
	assert_int_equal(upd_pace_memory_save(path, "udp:a", &a), 0);
	assert_int_equal(upd_pace_memory_save(path, "udp:b", &b), 0);
	a.good.window = 4;
	assert_int_equal(upd_pace_memory_save(path, "udp:a", &a), 0); /* replaces, keeps b */
	assert_int_equal(upd_pace_memory_load(path, "udp:b", &m), 0);
	assert_true(m.has_good && m.has_refused);
	assert_int_equal(m.good.window, 1);
	assert_int_equal(m.good.rate, 24860);
	assert_true(m.good_bps == 16201);
	assert_int_equal(m.refused.window, 4);
	assert_true(m.refused_bps == 27623);
	assert_int_equal(upd_pace_memory_load(path, "udp:a", &m), 0);
	assert_int_equal(m.good.window, 4);
	assert_false(m.has_refused);
	text = tl_read_file(path);
	assert_string_equal(text, "udp:b good_window=1 good_rate=24860 good_bps=16201 "
				  "refused_window=4 refused_rate=0 refused_bps=27623\n"
				  "udp:a good_window=4 good_rate=0 good_bps=61234\n");
	free(text);
}

static void test_malformed_entry_is_rejected_and_others_survive(void **state)
{
	const char *path = tl_path("pace-bad");
	static const char text[] = "udp:x good_window=lots\n"
				   "udp:y good_window=2 good_rate=0 good_bps=100\n"
				   "udp:z good_window=99 good_bps=1\n"
				   "udp:w color=blue\n";
	struct upd_pace_memory m, n = { .has_good = true, .good = { .window = 1 } };
	char *after;

	assert_int_equal(write_file_atomic(path, text, sizeof(text) - 1, 0644), 0);
	assert_int_equal(upd_pace_memory_load(path, "udp:x", &m), -EBADMSG);
	assert_int_equal(upd_pace_memory_load(path, "udp:z", &m), -EBADMSG); /* window > 32 */
	assert_int_equal(upd_pace_memory_load(path, "udp:w", &m), -EBADMSG);
	assert_int_equal(upd_pace_memory_load(path, "udp:y", &m), 0);
	assert_int_equal(m.good.window, 2);
	/* Saving another key rewrites the file without judging the other lines. */
	assert_int_equal(upd_pace_memory_save(path, "udp:v", &n), 0);
	after = tl_read_file(path);
	assert_true(tl_contains(after, "udp:x good_window=lots\n"));
	assert_true(tl_contains(after, "udp:v good_window=1 good_rate=0 good_bps=0\n"));
	free(after);
}

static void test_keys_with_spaces_are_refused(void **state)
{
	struct upd_pace_memory m = { 0 };

	assert_int_equal(upd_pace_memory_save(tl_path("pace-k"), "a b", &m), -EINVAL);
	assert_int_equal(upd_pace_memory_save(tl_path("pace-k"), "", &m), -EINVAL);
	assert_int_equal(upd_pace_memory_load(tl_path("pace-k"), "a\nb", &m), -EINVAL);
}

/* Only blanks and control characters disqualify a key: a name in UTF-8 was refused where char
 * is signed (x86) and accepted where it is not (ARM). Found by fuzz-pace-memory. */
static void test_keys_may_hold_utf8(void **state)
{
	const char *path = tl_path("pace-utf8"), *key = "ble:name=K\xc3\xbc" "che";
	struct upd_pace_memory a = { .has_good = true, .good = { .window = 2 }, .good_bps = 900 };
	struct upd_pace_memory m;

	assert_int_equal(upd_pace_memory_save(path, key, &a), 0);
	assert_int_equal(upd_pace_memory_load(path, key, &m), 0);
	assert_true(m.has_good && m.good.window == 2 && m.good_bps == 900);
	assert_int_equal(upd_pace_memory_load(path, "ble:name=K\x7f", &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_keeps_other_devices),
		cmocka_unit_test(test_malformed_entry_is_rejected_and_others_survive),
		cmocka_unit_test(test_keys_with_spaces_are_refused),
		cmocka_unit_test(test_keys_may_hold_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
