/* test-json-doc.c — JSON documents read with json-c (src/util/json-doc.c): a manifest-shaped
 * document with the line of every value, every value type, escapes and UTF-8, and one rejected
 * document per rule with the line and column it names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json-doc.h"

static struct jd_doc *parse_ok(const char *text)
{
	struct jd_doc *d = NULL;
	struct jd_error e;
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1); /* exactly len bytes: ASan sees any read past the end */
	int r;

	assert_non_null(copy);
	memcpy(copy, text, len);
	r = jd_parse(copy, len, &d, &e);
	free(copy);
	if (r < 0)
		fail_msg("rejected (%d) at %u:%u: %s", r, e.line, e.col, e.msg);
	return d;
}

/* Expects a rejection naming want at line:col (col 0: any column). */
static void parse_bad(const char *text, unsigned line, unsigned col, const char *want)
{
	struct jd_doc *d = NULL;
	struct jd_error e;
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, text, len);
	r = jd_parse(copy, len, &d, &e);
	free(copy);
	if (r != -EBADMSG)
		fail_msg("%s: expected -EBADMSG, got %d", text, r);
	assert_null(d);
	if (!strstr(e.msg, want) || e.line != line || (col && e.col != col))
		fail_msg("%s: got \"%s\" at %u:%u, want \"%s\" at %u:%u", text, e.msg, e.line,
			 e.col, want, line, col);
}

static void test_json_reads_a_manifest_with_lines(void **state)
{
	struct jd_doc *d = parse_ok("{\n"
				    "  \"format-version\": 0,\n"
				    "  \"time\": 1700000000,\n"
				    "  \"files\": [\n"
				    "    {\"type\": \"application\", \"image_index\": \"0\",\n"
				    "     \"size\": 123456, \"file\": \"app.bin\",\n"
				    "     \"load_address\": 49152, \"nested\": {\"a\": [1, [2]]}}\n"
				    "  ],\n"
				    "  \"flag\":\n    true, \"none\": null,\n"
				    "  \"name\": \"demo\"\n"
				    "}\n");
	struct json_object *root = jd_root(d), *files, *f, *v, *a;
	uint64_t u;

	assert_true(json_object_is_type(root, json_type_object));
	assert_int_equal(jd_line(d, root), 1);
	assert_int_equal(json_object_object_length(root), 6);
	assert_true(jd_get(root, "files", &files));
	assert_int_equal(jd_line(d, files), 4);
	assert_int_equal(json_object_array_length(files), 1);
	f = json_object_array_get_idx(files, 0);
	assert_int_equal(jd_line(d, f), 5);
	assert_true(jd_get(f, "file", &v));
	assert_string_equal(jd_str(v), "app.bin");
	assert_int_equal(jd_line(d, v), 6);
	assert_true(jd_get(f, "image_index", &v));
	assert_string_equal(jd_str(v), "0");
	assert_int_equal(jd_u64(v, &u), -EDOM); /* a string */
	assert_int_equal(jd_line(d, v), 5);
	assert_true(jd_get(f, "size", &v));
	assert_int_equal(jd_u64(v, &u), 0);
	assert_int_equal(u, 123456);
	assert_int_equal(jd_line(d, v), 6);
	assert_true(jd_get(f, "nested", &v));
	assert_true(jd_get(v, "a", &a));
	assert_int_equal(json_object_array_length(a), 2);
	assert_int_equal(jd_line(d, json_object_array_get_idx(a, 1)), 7);
	assert_true(jd_get(root, "flag", &v));
	assert_int_equal(jd_line(d, v), 10);   /* where the value starts, not its name */
	assert_true(jd_get(root, "none", &v)); /* present, null */
	assert_null(v);
	assert_int_equal(jd_line(d, v), 0);
	assert_false(jd_get(f, "absent", &v));
	assert_false(jd_get(files, "file", &v)); /* not an object */
	assert_null(jd_str(files));
	assert_int_equal(jd_line(d, json_object_array_get_idx(files, 0)), 5);
	jd_doc_free(d);
}

static void test_json_scalars_and_numbers(void **state)
{
	struct jd_doc *d = parse_ok("[true, false, null, 0, -1, 1.5, 2e3, 18446744073709551615,"
				    " \"\", {}, []]");
	struct json_object *a = jd_root(d);
	uint64_t u;

	assert_int_equal(json_object_array_length(a), 11);
	assert_true(json_object_get_boolean(json_object_array_get_idx(a, 0)));
	assert_string_equal(jd_type_name(json_object_array_get_idx(a, 1)), "a boolean");
	assert_string_equal(jd_type_name(json_object_array_get_idx(a, 2)), "null");
	assert_int_equal(jd_u64(json_object_array_get_idx(a, 3), &u), 0);
	assert_int_equal(u, 0);
	assert_int_equal(jd_u64(json_object_array_get_idx(a, 4), &u), -EDOM);
	assert_int_equal(jd_u64(json_object_array_get_idx(a, 5), &u), -EDOM);
	assert_int_equal(jd_u64(json_object_array_get_idx(a, 6), &u), -EDOM);
	assert_int_equal(jd_u64(json_object_array_get_idx(a, 7), &u), 0);
	assert_true(u == UINT64_MAX);
	assert_string_equal(jd_str(json_object_array_get_idx(a, 8)), "");
	assert_string_equal(jd_type_name(json_object_array_get_idx(a, 9)), "an object");
	assert_string_equal(jd_type_name(json_object_array_get_idx(a, 10)), "an array");
	assert_string_equal(jd_type_name(json_object_array_get_idx(a, 5)), "a number");
	jd_doc_free(d);

	d = parse_ok("\xef\xbb\xbf 42"); /* a byte order mark is skipped; a number at the end */
	assert_int_equal(jd_u64(jd_root(d), &u), 0);
	assert_int_equal(u, 42);
	assert_int_equal(jd_line(d, jd_root(d)), 1);
	jd_doc_free(d);
	d = parse_ok("null");
	assert_null(jd_root(d));
	jd_doc_free(d);
}

static void test_json_string_escapes_and_utf8(void **state)
{
	struct jd_doc *d =
		parse_ok("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\\ud83d\\ude00\","
			 " \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\", {\"k\\u0041\": \"]}\"}, 7]");
	struct json_object *a = jd_root(d), *v;

	assert_string_equal(jd_str(json_object_array_get_idx(a, 0)), "a\"b\\c/d\b\f\n\r\t");
	assert_string_equal(jd_str(json_object_array_get_idx(a, 1)),
			    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	assert_string_equal(jd_str(json_object_array_get_idx(a, 2)),
			    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* a structural byte inside a string does not end the value the walk is in */
	assert_true(jd_get(json_object_array_get_idx(a, 3), "kA", &v));
	assert_string_equal(jd_str(v), "]}");
	assert_int_equal(jd_line(d, json_object_array_get_idx(a, 4)), 1);
	jd_doc_free(d);
}

static void test_json_rejects_with_line_and_column(void **state)
{
	parse_bad("", 1, 1, "empty document");
	parse_bad("  \n ", 2, 2, "empty document");
	parse_bad("{\"a\": 1,\n\"b\": 2\n\"c\": 3}", 3, 1, "object value separator");
	parse_bad("[1,\n2,\n]", 3, 1, "unexpected ']'");
	parse_bad("[1 2]", 1, 4, "array value separator");
	parse_bad("{\"a\" 1}", 1, 0, "separator ':'");
	parse_bad("{a: 1}", 1, 2, "quoted object property name");
	parse_bad("{\"x\": [],\n \"a\": 1, \"b\": {\"a\": 2}, \"a\": 2}", 1, 1,
		  "duplicate member \"a\"");
	parse_bad("{\"o\":\n {\"k\": 1, \"k\": 1}}", 2, 2, "duplicate member \"k\"");
	parse_bad("{\"a\": tru}", 1, 0, "boolean expected");
	parse_bad("[01]", 1, 0, "number expected");
	parse_bad("[-]", 1, 0, "number expected");
	parse_bad("[+1]", 1, 2, "unexpected '+'");
	parse_bad("\"abc", 1, 0, "unexpected end of data");
	parse_bad("\"\\x\"", 1, 0, "invalid string sequence");
	parse_bad("[\"a\", \"b\\u0000c\"]", 1, 7, "\\u0000");
	parse_bad("\"\xe2\x82\"", 1, 0, "invalid utf-8");
	parse_bad("\"\xff\"", 1, 0, "invalid utf-8");
	parse_bad("{} {}", 1, 4, "unexpected '{'");
	parse_bad("[1,", 1, 4, "unexpected end of data");
	parse_bad("{\"a\":", 1, 0, "unexpected end of data");
	parse_bad("[\x01]", 1, 2, "byte 0x01");
	parse_bad("/* c */ 1", 1, 1, "unexpected '/'");
	parse_bad("['a']", 1, 2, "unexpected '''");
}

static void test_json_depth_is_bounded(void **state)
{
	char deep[2 * (JD_MAX_DEPTH + 1) + 1], ok[2 * JD_MAX_DEPTH + 1];
	struct jd_doc *d;

	memset(deep, '[', JD_MAX_DEPTH + 1);
	memset(deep + JD_MAX_DEPTH + 1, ']', JD_MAX_DEPTH + 1);
	deep[sizeof(deep) - 1] = 0;
	parse_bad(deep, 1, 0, "nesting too deep");
	memset(ok, '[', JD_MAX_DEPTH);
	memset(ok + JD_MAX_DEPTH, ']', JD_MAX_DEPTH);
	ok[sizeof(ok) - 1] = 0;
	d = parse_ok(ok);
	jd_doc_free(d);
}

static void test_json_too_large_and_many_members(void **state)
{
	struct jd_doc *d = NULL;
	size_t n = 5000, len = 0;
	char *text = malloc(n * 24 + 4);
	struct json_object *v;

	assert_int_equal(jd_parse("1", JD_MAX_TEXT + 1, &d, NULL), -EFBIG);
	assert_non_null(text);
	text[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "%s\n\"k%zu\":[%zu]", i ? "," : "", i, i);
	text[len++] = '}';
	text[len] = 0;
	d = parse_ok(text);
	assert_true(jd_get(jd_root(d), "k4321", &v));
	assert_int_equal(jd_line(d, v), 4323);
	assert_int_equal(jd_line(d, json_object_array_get_idx(v, 0)), 4323);
	jd_doc_free(d);
	free(text);
	assert_null(jd_doc_free(NULL));
}

/* Every prefix of a valid document is rejected cleanly (no crash, no read past the end). */
static void test_json_every_truncation_is_rejected(void **state)
{
	static const char doc[] = "{\"files\":[{\"file\":\"a\\u00e9.bin\",\"size\":12,\"x\":[true,"
				  "null,-1.5e3]}],\"n\":\"\xe2\x82\xac\"}";
	size_t len = sizeof(doc) - 1;

	for (size_t i = 0; i < len; i++) {
		struct jd_doc *d = NULL;
		struct jd_error e;
		char *copy = malloc(i ? i : 1);

		assert_non_null(copy);
		memcpy(copy, doc, i);
		assert_int_equal(jd_parse(copy, i, &d, &e), -EBADMSG);
		assert_null(d);
		assert_true(e.line == 1 && e.col >= 1 && e.col <= i + 1);
		free(copy);
	}
	jd_doc_free(parse_ok(doc));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_reads_a_manifest_with_lines),
		cmocka_unit_test(test_json_scalars_and_numbers),
		cmocka_unit_test(test_json_string_escapes_and_utf8),
		cmocka_unit_test(test_json_rejects_with_line_and_column),
		cmocka_unit_test(test_json_depth_is_bounded),
		cmocka_unit_test(test_json_too_large_and_many_members),
		cmocka_unit_test(test_json_every_truncation_is_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
