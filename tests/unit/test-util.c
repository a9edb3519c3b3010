/* test-util.c — parsers, hex, atomic file writes, JSON writer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/testlib.h"
#include "util/fileio.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/parse.h"

static void test_parse_size_accepts_suffixes_and_rejects_junk(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("20k", &v), 0);
	assert_int_equal(v, 20480);
	assert_int_equal(parse_size("2M", &v), 0);
	assert_int_equal(v, 2 * 1024 * 1024);
	assert_int_equal(parse_size("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("-1", &v), -EINVAL);
	assert_int_equal(parse_size("10kb", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(parse_size("18014398509481984M", &v), -ERANGE);
}

static void test_parse_usec_units(void **state)
{
	uint64_t v;

	assert_int_equal(parse_usec("5", &v), 0);
	assert_int_equal(v, 5000000);
	assert_int_equal(parse_usec("250ms", &v), 0);
	assert_int_equal(v, 250000);
	assert_int_equal(parse_usec("2min", &v), 0);
	assert_int_equal(v, 120000000);
	assert_int_equal(parse_usec("3h", &v), -EINVAL);
}

static void test_parse_u32_range(void **state)
{
	uint32_t v;

	assert_int_equal(parse_u32("4294967295", &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(parse_u32("4294967296", &v), -ERANGE);
	assert_int_equal(parse_u32("12a", &v), -EINVAL);
}

static void test_hex_roundtrip_and_rejects_odd(void **state)
{
	const uint8_t in[] = { 0x00, 0xab, 0xff, 0x10 };
	uint8_t out[4];
	char s[9];

	assert_string_equal(hex_encode(in, 4, s), "00abff10");
	assert_int_equal(hex_decode("00ABff10", out, sizeof(out)), 4);
	assert_memory_equal(in, out, 4);
	assert_int_equal(hex_decode("abc", out, sizeof(out)), -EINVAL);
	assert_int_equal(hex_decode("zz", out, sizeof(out)), -EINVAL);
	assert_int_equal(hex_decode("0011223344", out, sizeof(out)), -EINVAL);
}

static void test_write_file_atomic_replaces_and_leaves_no_temp(void **state)
{
	const char *path = tl_path("atomic.txt");
	uint8_t *buf;
	size_t len;
	char *listing;
	struct stat st;

	assert_int_equal(write_file_atomic(path, "old", 3, 0600), 0);
	assert_int_equal(write_file_atomic(path, "new content", 11, 0640), 0);
	assert_int_equal(read_full_file(path, 1024, &buf, &len), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(buf, "new content", 11);
	free(buf);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(read_full_file(path, 5, &buf, &len), -EFBIG);
	/* No atomic.txt.XXXXXX left behind. */
	char *argv[] = { "sh", "-c", "ls \"$0\" | grep -c 'atomic.txt.' || true", (char *)tl_tmpdir(), NULL };
	assert_int_equal(tl_run(argv, 5000, &listing, NULL), 0);
	assert_string_equal(listing, "0\n");
	free(listing);
	assert_int_equal(write_file_atomic("/nonexistent-dir/x", "a", 1, 0600), -ENOENT);
}

static void test_json_writer_escapes(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct json j;

	json_init(&j, f);
	json_begin_object(&j, NULL);
	json_str(&j, "s", "a\"b\\c\n\x01");
	json_u64(&j, "n", 42);
	json_begin_array(&j, "a");
	json_bool(&j, NULL, true);
	json_str(&j, NULL, NULL);
	json_end_array(&j);
	json_end_object(&j);
	json_end_line(&j);
	fclose(f);
	assert_string_equal(text, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":42,\"a\":[true,null]}\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_accepts_suffixes_and_rejects_junk),
		cmocka_unit_test(test_parse_usec_units),
		cmocka_unit_test(test_parse_u32_range),
		cmocka_unit_test(test_hex_roundtrip_and_rejects_odd),
		cmocka_unit_test(test_write_file_atomic_replaces_and_leaves_no_temp),
		cmocka_unit_test(test_json_writer_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
