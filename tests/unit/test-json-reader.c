/* test-json-reader.c — the strict JSON reader: a manifest-shaped document, every value type,
 * escapes and UTF-8, and one rejected document per rule with the line it names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json-reader.h"

static struct jr_doc *parse_ok(const char *text)
{
	struct jr_doc *d = NULL;
	struct jr_error e;
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1); /* exactly len bytes: ASan sees any read past the end */
	int r;

	assert_non_null(copy);
	memcpy(copy, text, len);
	r = jr_parse(copy, len, &d, &e);
	free(copy);
	if (r < 0)
		fail_msg("rejected (%d) at %u:%u: %s", r, e.line, e.col, e.msg);
	return d;
}

/* Expects a rejection naming want at line. */
static void parse_bad(const char *text, unsigned line, const char *want)
{
	struct jr_doc *d = NULL;
	struct jr_error e;
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, text, len);
	r = jr_parse(copy, len, &d, &e);
	free(copy);
	if (r != -EBADMSG)
		fail_msg("%s: expected -EBADMSG, got %d", text, r);
	assert_null(d);
	if (!strstr(e.msg, want) || e.line != line)
		fail_msg("%s: got \"%s\" at line %u, want \"%s\" at line %u", text, e.msg, e.line,
			 want, line);
}

static void test_json_reads_a_manifest(void **state)
{
	struct jr_doc *d = parse_ok("{\n"
				    "  \"format-version\": 0,\n"
				    "  \"time\": 1700000000,\n"
				    "  \"files\": [\n"
				    "    {\"type\": \"application\", \"image_index\": \"0\",\n"
				    "     \"size\": 123456, \"file\": \"app.bin\",\n"
				    "     \"load_address\": 49152, \"nested\": {\"a\": [1, [2]]}}\n"
				    "  ],\n"
				    "  \"name\": \"demo\"\n"
				    "}\n");
	const struct jr_value *root = jr_root(d), *files, *f;
	uint64_t u;

	assert_int_equal(jr_type(root), JR_OBJECT);
	assert_int_equal(jr_count(root), 4);
	files = jr_get(root, "files");
	assert_int_equal(jr_type(files), JR_ARRAY);
	assert_int_equal(jr_line(files), 4);
	assert_int_equal(jr_count(files), 1);
	f = jr_at(files, 0);
	assert_non_null(f);
	assert_null(jr_at(files, 1));
	assert_string_equal(jr_str(jr_get(f, "file")), "app.bin");
	assert_string_equal(jr_str(jr_get(f, "image_index")), "0");
	assert_int_equal(jr_u64(jr_get(f, "size"), &u), 0);
	assert_int_equal(u, 123456);
	assert_int_equal(jr_line(jr_get(f, "size")), 6);
	assert_string_equal(jr_key(jr_get(f, "size")), "size");
	assert_int_equal(jr_u64(jr_get(f, "image_index"), &u), -EDOM); /* a string */
	assert_null(jr_get(f, "absent"));
	assert_null(jr_get(files, "file")); /* not an object */
	assert_int_equal(jr_count(jr_get(jr_get(f, "nested"), "a")), 2);
	assert_string_equal(jr_str(jr_get(root, "name")), "demo");
	jr_doc_free(d);
}

static void test_json_scalars_and_numbers(void **state)
{
	struct jr_doc *d = parse_ok("[true, false, null, 0, -1, 1.5, 2e3, 18446744073709551615,"
				    " 18446744073709551616, \"\", {}, []]");
	const struct jr_value *a = jr_root(d);
	uint64_t u;

	assert_int_equal(jr_count(a), 12);
	assert_true(jr_bool(jr_at(a, 0)));
	assert_int_equal(jr_type(jr_at(a, 1)), JR_BOOL);
	assert_false(jr_bool(jr_at(a, 1)));
	assert_int_equal(jr_type(jr_at(a, 2)), JR_NULL);
	assert_int_equal(jr_u64(jr_at(a, 3), &u), 0);
	assert_int_equal(u, 0);
	assert_int_equal(jr_u64(jr_at(a, 4), &u), -EDOM);
	assert_int_equal(jr_u64(jr_at(a, 5), &u), -EDOM);
	assert_int_equal(jr_u64(jr_at(a, 6), &u), -EDOM);
	assert_int_equal(jr_u64(jr_at(a, 7), &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(jr_u64(jr_at(a, 8), &u), -ERANGE);
	assert_string_equal(jr_str(jr_at(a, 9)), "");
	assert_int_equal(jr_type(jr_at(a, 10)), JR_OBJECT);
	assert_int_equal(jr_count(jr_at(a, 10)), 0);
	assert_int_equal(jr_count(jr_at(a, 11)), 0);
	assert_string_equal(jr_type_name(JR_OBJECT), "an object");
	jr_doc_free(d);

	d = parse_ok("\xef\xbb\xbf 42 "); /* a byte order mark is skipped */
	assert_int_equal(jr_u64(jr_root(d), &u), 0);
	assert_int_equal(u, 42);
	jr_doc_free(d);
}

static void test_json_string_escapes_and_utf8(void **state)
{
	struct jr_doc *d =
		parse_ok("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\\ud83d\\ude00\","
			 " \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]");
	const struct jr_value *a = jr_root(d);

	assert_string_equal(jr_str(jr_at(a, 0)), "a\"b\\c/d\b\f\n\r\t");
	assert_string_equal(jr_str(jr_at(a, 1)), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	assert_string_equal(jr_str(jr_at(a, 2)), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	jr_doc_free(d);
}

static void test_json_rejects_with_line(void **state)
{
	parse_bad("", 1, "empty document");
	parse_bad("  \n ", 2, "empty document");
	parse_bad("{\"a\": 1,\n\"b\": 2\n\"c\": 3}", 3, "expected ',' or '}'");
	parse_bad("[1,\n2,\n]", 3, "unexpected ']'");
	parse_bad("[1 2]", 1, "expected ',' or ']'");
	parse_bad("{\"a\" 1}", 1, "expected ':'");
	parse_bad("{a: 1}", 1, "member name in quotes");
	parse_bad("{\"a\": 1, \"a\": 2}", 1, "duplicate member \"a\"");
	parse_bad("{\"a\": tru}", 1, "unexpected 't'");
	parse_bad("[01]", 1, "leading zero");
	parse_bad("[-]", 1, "needs digits");
	parse_bad("[1.]", 1, "after '.'");
	parse_bad("[1e]", 1, "exponent");
	parse_bad("[+1]", 1, "unexpected '+'");
	parse_bad("\"abc", 1, "not terminated");
	parse_bad("\"a\nb\"", 1, "control character 0x0a");
	parse_bad("\"\\x\"", 1, "unknown escape");
	parse_bad("\"\\u12g4\"", 1, "four hex digits");
	parse_bad("\"\\u0000\"", 1, "\\u0000");
	parse_bad("\"\\ud800\"", 1, "unpaired surrogate");
	parse_bad("\"\\ude00\"", 1, "unpaired surrogate");
	parse_bad("\"\\ud800\\u0041\"", 1, "unpaired surrogate");
	parse_bad("\"\xc0\xaf\"", 1, "invalid UTF-8");	       /* overlong '/' */
	parse_bad("\"\xed\xa0\x80\"", 1, "invalid UTF-8");     /* encoded surrogate */
	parse_bad("\"\xf4\x90\x80\x80\"", 1, "invalid UTF-8"); /* above U+10FFFF */
	parse_bad("\"\xe2\x82\"", 1, "invalid UTF-8");	       /* truncated */
	parse_bad("{} {}", 1, "after the document");
	parse_bad("[1,", 1, "document ends");
	parse_bad("{\"a\":", 1, "document ends");
	parse_bad("[\x01]", 1, "byte 0x01");
}

static void test_json_depth_is_bounded(void **state)
{
	char deep[2 * (JR_MAX_DEPTH + 1) + 1], ok[2 * JR_MAX_DEPTH + 1];
	struct jr_doc *d;

	memset(deep, '[', JR_MAX_DEPTH + 1);
	memset(deep + JR_MAX_DEPTH + 1, ']', JR_MAX_DEPTH + 1);
	deep[sizeof(deep) - 1] = 0;
	parse_bad(deep, 1, "nested deeper");
	memset(ok, '[', JR_MAX_DEPTH);
	memset(ok + JR_MAX_DEPTH, ']', JR_MAX_DEPTH);
	ok[sizeof(ok) - 1] = 0;
	d = parse_ok(ok);
	jr_doc_free(d);
}

static void test_json_too_large_and_many_members(void **state)
{
	struct jr_doc *d = NULL;
	size_t n = 1100, len = 0;
	char *text = malloc(n * 16 + 4);

	assert_int_equal(jr_parse("1", JR_MAX_TEXT + 1, &d, NULL), -EFBIG);
	assert_non_null(text);
	text[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "%s\"k%zu\":0", i ? "," : "", i);
	text[len++] = '}';
	text[len] = 0;
	parse_bad(text, 1, "more than 1024 members");
	free(text);
	assert_null(jr_doc_free(NULL));
}

/* Every prefix of a valid document is rejected cleanly (no crash, no read past the end). */
static void test_json_every_truncation_is_rejected(void **state)
{
	static const char doc[] = "{\"files\":[{\"file\":\"a\\u00e9.bin\",\"size\":12,\"x\":[true,"
				  "null,-1.5e3]}],\"n\":\"\xe2\x82\xac\"}";
	size_t len = sizeof(doc) - 1;

	for (size_t i = 0; i < len; i++) {
		struct jr_doc *d = NULL;
		char *copy = malloc(i ? i : 1);

		assert_non_null(copy);
		memcpy(copy, doc, i);
		assert_int_equal(jr_parse(copy, i, &d, NULL), -EBADMSG);
		assert_null(d);
		free(copy);
	}
	jr_doc_free(parse_ok(doc));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_reads_a_manifest),
		cmocka_unit_test(test_json_scalars_and_numbers),
		cmocka_unit_test(test_json_string_escapes_and_utf8),
		cmocka_unit_test(test_json_rejects_with_line),
		cmocka_unit_test(test_json_depth_is_bounded),
		cmocka_unit_test(test_json_too_large_and_many_members),
		cmocka_unit_test(test_json_every_truncation_is_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
