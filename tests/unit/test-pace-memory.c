/* test-pace-memory.c — the pace memory file: round trips, other devices' lines kept, entries
 * expiring and bounded in number, lines that do not parse reported and dropped, bad keys
 * refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/testlib.h"
#include "otad/update.h"
#include "util/fileio.h"

#define DAY (24ULL * 3600)

struct problems {
	unsigned n;
	char text[2048];
};

static void on_problem(const char *text, void *user_data)
{
	struct problems *p = user_data;
	size_t len = strlen(p->text);

	p->n++;
	snprintf(p->text + len, sizeof(p->text) - len, "%s\n", text);
}

static void write_text(const char *path, const char *text)
{
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

/* The used= of key's line, 0 when absent. */
static unsigned long long used_of(const char *text, const char *key)
{
	char pat[300];
	const char *l = text, *u;

	snprintf(pat, sizeof(pat), "%s ", key);
	while (l && strncmp(l, pat, strlen(pat)) != 0)
		l = (l = strchr(l, '\n')) ? l + 1 : NULL;
	u = l ? strstr(l, " used=") : NULL;
	return u && u < strchr(l, '\n') ? strtoull(u + 6, NULL, 10) : 0;
}

static void test_round_trip_keeps_other_devices(void **state)
{
	const char *path = tl_path("pace-rt");
	struct upd_pace_memory a = { .has_good = true, .good = { .window = 3, .rate = 0 },
				     .good_bps = 61234 };
	struct upd_pace_memory b = { .has_good = true, .good = { .window = 1, .rate = 24860 },
				     .good_bps = 16201, .has_refused = true,
				     .refused = { .window = 4 }, .refused_bps = 27623 };
	struct upd_pace_memory m;
	unsigned long long t0 = (unsigned long long)time(NULL), t;
	char *text;

	assert_int_equal(upd_pace_memory_load(path, "udp:a", &m, NULL, NULL), -ENOENT);
	assert_int_equal(upd_pace_memory_save(path, "udp:a", &a, NULL, NULL), 0);
	assert_int_equal(upd_pace_memory_save(path, "udp:b", &b, NULL, NULL), 0);
	a.good.window = 4;
	assert_int_equal(upd_pace_memory_save(path, "udp:a", &a, NULL, NULL), 0); /* keeps b */
	assert_int_equal(upd_pace_memory_load(path, "udp:b", &m, NULL, NULL), 0);
	assert_true(m.has_good && m.has_refused);
	assert_int_equal(m.good.window, 1);
	assert_int_equal(m.good.rate, 24860);
	assert_true(m.good_bps == 16201);
	assert_int_equal(m.refused.window, 4);
	assert_true(m.refused_bps == 27623);
	assert_int_equal(upd_pace_memory_load(path, "udp:a", &m, NULL, NULL), 0);
	assert_int_equal(m.good.window, 4);
	assert_false(m.has_refused);
	text = tl_read_file(path);
	assert_true(tl_contains(text, "udp:b good_window=1 good_rate=24860 good_bps=16201 "
				      "refused_window=4 refused_rate=0 refused_bps=27623 used="));
	assert_true(tl_contains(text, "\nudp:a good_window=4 good_rate=0 good_bps=61234 used="));
	t = used_of(text, "udp:a");
	assert_true(t >= t0 && t <= (unsigned long long)time(NULL));
	free(text);
}

static void test_malformed_lines_are_reported_and_dropped(void **state)
{
	const char *path = tl_path("pace-bad");
	struct upd_pace_memory m, n = { .has_good = true, .good = { .window = 1 } };
	struct problems p = { 0 };
	char *after;

	write_text(path, "udp:x good_window=lots\n"
			 "udp:y good_window=2 good_rate=0 good_bps=100\n"
			 "udp:z good_window=99 good_bps=1\n"
			 "udp:w color=blue\n"
			 "\x01\x02\xff garbage\n");
	assert_int_equal(upd_pace_memory_load(path, "udp:x", &m, on_problem, &p), -ENOENT);
	assert_int_equal(p.n, 4);
	assert_true(tl_contains(p.text, "pace-bad:1: udp:x: 'good_window=lots' is not one of"));
	assert_true(tl_contains(p.text, "pace-bad:3: udp:z: 'good_window=99'"));
	assert_true(tl_contains(p.text, "pace-bad:4: udp:w: 'color=blue'"));
	assert_true(tl_contains(p.text, "pace-bad:5: not a device key"));
	/* dropped from the file, not only skipped: the next reader finds nothing to report */
	after = tl_read_file(path);
	assert_false(tl_contains(after, "udp:x"));
	assert_false(tl_contains(after, "garbage"));
	assert_true(tl_contains(after, "udp:y good_window=2"));
	free(after);
	p.n = 0;
	assert_int_equal(upd_pace_memory_load(path, "udp:y", &m, on_problem, &p), 0);
	assert_int_equal(m.good.window, 2);
	assert_int_equal(upd_pace_memory_save(path, "udp:v", &n, on_problem, &p), 0);
	assert_int_equal(p.n, 0);
	after = tl_read_file(path);
	assert_true(tl_contains(after, "udp:v good_window=1 good_rate=0 good_bps=0 used="));
	free(after);
}

static void test_a_garbage_file_is_reported_and_replaced(void **state)
{
	const char *path = tl_path("pace-garbage");
	static const char bin[] = "\x7f" "ELF\x02\x01\x01\0\0\0\n\0\0udp:q good_window=1\n";
	struct upd_pace_memory m, n = { .has_good = true, .good = { .window = 2 } };
	struct problems p = { 0 };
	size_t big = 2 * 1024 * 1024;
	char *buf = malloc(big), *after;

	assert_int_equal(write_file_atomic(path, bin, sizeof(bin) - 1, 0644), 0);
	assert_int_equal(upd_pace_memory_load(path, "udp:q", &m, on_problem, &p), -ENOENT);
	assert_int_equal(p.n, 2); /* two lines with NUL bytes */
	assert_true(tl_contains(p.text, "pace-garbage:1: a NUL byte; dropped"));
	assert_true(tl_contains(p.text, "pace-garbage:2: a NUL byte; dropped"));
	after = tl_read_file(path);
	assert_string_equal(after, "");
	free(after);
	/* larger than any pace memory: reported, and the save starts afresh */
	assert_non_null(buf);
	memset(buf, 'a', big);
	assert_int_equal(write_file_atomic(path, buf, big, 0644), 0);
	free(buf);
	p = (struct problems){ 0 };
	assert_int_equal(upd_pace_memory_save(path, "udp:q", &n, on_problem, &p), 0);
	assert_int_equal(p.n, 1);
	assert_true(tl_contains(p.text, "pace-garbage: larger than 1048576 bytes"));
	after = tl_read_file(path);
	assert_true(tl_contains(after, "udp:q good_window=2"));
	assert_int_equal(strchr(after, '\n') - after + 1, (long)strlen(after)); /* one line */
	free(after);
}

static void test_unused_entries_expire(void **state)
{
	const char *path = tl_path("pace-old");
	unsigned long long now = (unsigned long long)time(NULL);
	struct upd_pace_memory m, n = { .has_good = true, .good = { .window = 1 } };
	struct problems p = { 0 };
	char text[512], *after;

	snprintf(text, sizeof(text),
		 "udp:127.0.0.1:40001 good_window=4 good_rate=0 good_bps=9000 used=%llu\n"
		 "udp:recent good_window=3 good_rate=0 good_bps=8000 used=%llu\n"
		 "udp:legacy good_window=2 good_rate=0 good_bps=7000\n",
		 now - UPD_PACE_MAX_AGE_SEC - DAY, now - 80 * DAY);
	write_text(path, text);
	assert_int_equal(upd_pace_memory_load(path, "udp:127.0.0.1:40001", &m, on_problem, &p),
			 -ENOENT);
	assert_int_equal(upd_pace_memory_load(path, "udp:recent", &m, on_problem, &p), 0);
	assert_int_equal(m.good.window, 3);
	/* a line written before entries had a time counts from now on */
	assert_int_equal(upd_pace_memory_load(path, "udp:legacy", &m, on_problem, &p), 0);
	assert_int_equal(m.good.window, 2);
	assert_int_equal(upd_pace_memory_save(path, "udp:new", &n, on_problem, &p), 0);
	assert_int_equal(p.n, 0); /* expiring is no problem to report */
	after = tl_read_file(path);
	assert_false(tl_contains(after, "40001"));
	assert_int_equal(used_of(after, "udp:recent"), now - 80 * DAY);
	assert_true(used_of(after, "udp:legacy") >= now);
	free(after);
}

static void test_entries_are_bounded_least_recently_used_first(void **state)
{
	const char *path = tl_path("pace-many");
	unsigned long long now = (unsigned long long)time(NULL);
	unsigned total = UPD_PACE_MAX_ENTRIES + 10, lines = 0;
	struct upd_pace_memory n = { .has_good = true, .good = { .window = 1 } };
	size_t size = (size_t)total * 80, len = 0;
	char *text = malloc(size), *after, key[32];

	assert_non_null(text);
	/* udp:k0 is the most recently used, udp:k<total-1> the least */
	for (unsigned i = 0; i < total; i++)
		len += (size_t)snprintf(text + len, size - len,
					"udp:k%u good_window=1 good_rate=0 good_bps=1 used=%llu\n", i,
					now - 1000 - i);
	write_text(path, text);
	free(text);
	assert_int_equal(upd_pace_memory_save(path, "udp:fresh", &n, NULL, NULL), 0);
	after = tl_read_file(path);
	for (const char *l = after; (l = strchr(l, '\n')); l++)
		lines++;
	assert_int_equal(lines, UPD_PACE_MAX_ENTRIES);
	assert_true(tl_contains(after, "\nudp:fresh "));
	assert_true(tl_contains(after, "udp:k0 "));
	snprintf(key, sizeof(key), "\nudp:k%u ", UPD_PACE_MAX_ENTRIES - 2);
	assert_true(tl_contains(after, key)); /* the oldest kept */
	snprintf(key, sizeof(key), "\nudp:k%u ", UPD_PACE_MAX_ENTRIES - 1);
	assert_false(tl_contains(after, key)); /* the newest dropped */
	free(after);
}

static void test_a_second_entry_for_a_key_is_dropped(void **state)
{
	const char *path = tl_path("pace-dup");
	unsigned long long now = (unsigned long long)time(NULL);
	struct upd_pace_memory m;
	struct problems p = { 0 };
	char text[256], *after;

	snprintf(text, sizeof(text),
		 "udp:d good_window=5 good_rate=0 good_bps=1 used=%llu\n"
		 "udp:d good_window=2 good_rate=0 good_bps=1 used=%llu\n",
		 now - 10, now - 20);
	write_text(path, text);
	assert_int_equal(upd_pace_memory_load(path, "udp:d", &m, on_problem, &p), 0);
	assert_int_equal(m.good.window, 5); /* the more recent one */
	assert_int_equal(p.n, 1);
	assert_true(tl_contains(p.text, "pace-dup:2: another entry for udp:d (line 1)"));
	after = tl_read_file(path);
	assert_false(tl_contains(after, "good_window=2"));
	free(after);
}

static void test_keys_with_spaces_are_refused(void **state)
{
	struct upd_pace_memory m = { 0 };

	assert_int_equal(upd_pace_memory_save(tl_path("pace-k"), "a b", &m, NULL, NULL), -EINVAL);
	assert_int_equal(upd_pace_memory_save(tl_path("pace-k"), "", &m, NULL, NULL), -EINVAL);
	assert_int_equal(upd_pace_memory_load(tl_path("pace-k"), "a\nb", &m, NULL, NULL), -EINVAL);
}

/* Only blanks and control characters disqualify a key: a name in UTF-8 was refused where char
 * is signed (x86) and accepted where it is not (ARM). Found by fuzz-pace-memory. */
static void test_keys_may_hold_utf8(void **state)
{
	const char *path = tl_path("pace-utf8"), *key = "ble:name=K\xc3\xbc" "che";
	struct upd_pace_memory a = { .has_good = true, .good = { .window = 2 }, .good_bps = 900 };
	struct upd_pace_memory m;

	assert_int_equal(upd_pace_memory_save(path, key, &a, NULL, NULL), 0);
	assert_int_equal(upd_pace_memory_load(path, key, &m, NULL, NULL), 0);
	assert_true(m.has_good && m.good.window == 2 && m.good_bps == 900);
	assert_int_equal(upd_pace_memory_load(path, "ble:name=K\x7f", &m, NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_keeps_other_devices),
		cmocka_unit_test(test_malformed_lines_are_reported_and_dropped),
		cmocka_unit_test(test_a_garbage_file_is_reported_and_replaced),
		cmocka_unit_test(test_unused_entries_expire),
		cmocka_unit_test(test_entries_are_bounded_least_recently_used_first),
		cmocka_unit_test(test_a_second_entry_for_a_key_is_dropped),
		cmocka_unit_test(test_keys_with_spaces_are_refused),
		cmocka_unit_test(test_keys_may_hold_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
