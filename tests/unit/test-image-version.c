/* test-image-version.c — image versions: Zephyr's text form, imgtool's "+build" input, ranges,
 * malformed strings, and ordering. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "otad/image.h"

static void expect_parse(const char *s, unsigned major, unsigned minor, unsigned rev,
			 uint32_t build)
{
	struct img_version v;

	if (img_version_parse(s, &v) != 0)
		fail_msg("\"%s\" rejected", s);
	assert_int_equal(v.major, major);
	assert_int_equal(v.minor, minor);
	assert_int_equal(v.revision, rev);
	assert_int_equal(v.build, build);
}

static void expect_reject(const char *s, int err)
{
	struct img_version v = {9, 9, 9, 9};
	int r = img_version_parse(s, &v);

	if (r != err)
		fail_msg("\"%s\": %d, expected %d", s, r, err);
	assert_int_equal(v.major, 9); /* untouched on failure */
}

static void test_version_parse_accepts_every_form(void **state)
{
	expect_parse("1", 1, 0, 0, 0);
	expect_parse("1.2", 1, 2, 0, 0);
	expect_parse("1.2.3", 1, 2, 3, 0);
	expect_parse("1.2.3.4", 1, 2, 3, 4);
	expect_parse("1.2.3+4", 1, 2, 3, 4);
	expect_parse("0.0.0", 0, 0, 0, 0);
	expect_parse("0.0.0+0", 0, 0, 0, 0);
	expect_parse("255.255.65535.4294967295", 255, 255, 65535, 4294967295U);
	expect_parse("10.20.300+4000", 10, 20, 300, 4000);
}

static void test_version_parse_rejects_out_of_range(void **state)
{
	expect_reject("256", -ERANGE);
	expect_reject("1.256", -ERANGE);
	expect_reject("1.2.65536", -ERANGE);
	expect_reject("1.2.3.4294967296", -ERANGE);
	expect_reject("1.2.3+99999999999999999999", -ERANGE);
}

static void test_version_parse_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"",	     ".",	  "1.",	   ".1",	"1..2",	     "1.2.3.", "1.2.3.4.5",
		"1.2.3+4.5", "1.2.3+4+5", "1+2",   "1.2+3",	"1.2.3.4+5", "v1.2.3", "1.2.3 ",
		" 1",	     "-1",	  "+1",	   "1.-2",	"01.2.3",    "1.02",   "1.2.03",
		"1.2.3+04",  "0x10",	  "1,2,3", "1.2.3-rc1", "1.2.3+",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_reject(bad[i], -EINVAL);
	assert_int_equal(img_version_parse(NULL, &(struct img_version){0}), -EINVAL);
}

static void test_version_format_appends_build_only_when_nonzero(void **state)
{
	char buf[32];

	assert_string_equal(img_version_format(&(struct img_version){1, 2, 3, 0}, buf, 32),
			    "1.2.3");
	assert_string_equal(img_version_format(&(struct img_version){1, 2, 3, 4}, buf, 32),
			    "1.2.3.4");
	assert_string_equal(img_version_format(&(struct img_version){0, 0, 0, 0}, buf, 32),
			    "0.0.0");
	assert_string_equal(
		img_version_format(&(struct img_version){255, 255, 65535, 4294967295U}, buf, 32),
		"255.255.65535.4294967295");
	/* truncates, NUL-terminated */
	assert_string_equal(img_version_format(&(struct img_version){10, 2, 3, 0}, buf, 4), "10.");
}

static void test_version_format_parse_roundtrip(void **state)
{
	static const struct img_version vs[] = {
		{0, 0, 0, 0}, {1, 0, 0, 1}, {9, 8, 7, 6}, {255, 0, 65535, 0}, {3, 14, 159, 26535},
	};
	struct img_version back;
	char buf[32];

	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		assert_int_equal(img_version_parse(img_version_format(&vs[i], buf, 32), &back), 0);
		assert_int_equal(img_version_cmp(&vs[i], &back), 0);
	}
}

static void test_version_cmp_orders_fields_in_turn(void **state)
{
	static const struct img_version ordered[] = {
		{0, 0, 0, 0}, {0, 0, 0, 1},   {0, 0, 0, 4294967295U},
		{0, 0, 1, 0}, {0, 0, 256, 0}, {0, 0, 65535, 0},
		{0, 1, 0, 0}, {0, 255, 0, 0}, {1, 0, 0, 0},
		{1, 2, 3, 4}, {2, 0, 0, 0},   {255, 255, 65535, 4294967295U},
	};
	const size_t n = sizeof(ordered) / sizeof(ordered[0]);

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int c = img_version_cmp(&ordered[i], &ordered[j]);

			if ((i < j && c >= 0) || (i == j && c != 0) || (i > j && c <= 0))
				fail_msg("cmp(%zu, %zu) = %d", i, j, c);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_parse_accepts_every_form),
		cmocka_unit_test(test_version_parse_rejects_out_of_range),
		cmocka_unit_test(test_version_parse_rejects_malformed),
		cmocka_unit_test(test_version_format_appends_build_only_when_nonzero),
		cmocka_unit_test(test_version_format_parse_roundtrip),
		cmocka_unit_test(test_version_cmp_orders_fields_in_turn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
