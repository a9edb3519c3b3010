/* fuzz-json.c — JSON documents read with json-c (src/util/json-doc.c, jd_parse) and what reads a
 * dfu_application.zip's manifest.json with them (src/image/manifest.c, img_manifest_parse).
 * Input: the document's bytes (exactly sized on the heap: a read past them is a heap overflow).
 * Invariants: jd_parse gives a tree or -EBADMSG with a line and column inside the text and a
 * message; every value but null has a line of the text, and lines never decrease in document
 * order; strings hold no NUL; the tree written back by json-c parses to the same tree; the
 * manifest reader gives 1..16 entries in ascending, distinct image numbers with file names, or
 * -EBADMSG with IMG_ERR_MANIFEST, a line of the text and a reason. */
#include <errno.h>
#include <math.h>

#include "fuzz.h"
#include "image/image-internal.h"
#include "util/json-doc.h"

static unsigned line_count(const char *p, size_t n)
{
	unsigned lines = 1;

	for (size_t i = 0; i < n; i++)
		lines += p[i] == '\n';
	return lines;
}

/* Checks the lines of v and its children: inside the text, never before the previous value. */
/* NOLINTNEXTLINE(misc-no-recursion): the reader bounds the depth */
static void check_lines(const struct jd_doc *d, struct json_object *v, unsigned *last,
			unsigned lines, unsigned depth)
{
	unsigned line = jd_line(d, v);

	FUZZ_CHECK(depth <= JD_MAX_DEPTH + 1);
	if (!v)
		return;
	FUZZ_CHECK(line >= 1 && line <= lines && line >= *last);
	*last = line;
	if (json_object_is_type(v, json_type_string))
		FUZZ_CHECK(strlen(jd_str(v)) == (size_t)json_object_get_string_len(v));
	if (json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			check_lines(d, json_object_array_get_idx(v, i), last, lines, depth + 1);
	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, child)
		{
			FUZZ_CHECK(key);
			check_lines(d, child, last, lines, depth + 1);
		}
	}
}

/* json_object_equal(), with NaN equal to NaN (json-c reads "NaN"). */
/* NOLINTNEXTLINE(misc-no-recursion): the reader bounds the depth */
static bool same(struct json_object *a, struct json_object *b)
{
	if (json_object_get_type(a) != json_object_get_type(b))
		return false;
	switch (json_object_get_type(a)) {
	case json_type_double:
		return (isnan(json_object_get_double(a)) && isnan(json_object_get_double(b))) ||
		       json_object_get_double(a) == json_object_get_double(b);
	case json_type_array:
		if (json_object_array_length(a) != json_object_array_length(b))
			return false;
		for (size_t i = 0; i < json_object_array_length(a); i++)
			if (!same(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
				return false;
		return true;
	case json_type_object:
		if (json_object_object_length(a) != json_object_object_length(b))
			return false;
		json_object_object_foreach(a, key, child)
		{
			struct json_object *other;

			if (!jd_get(b, key, &other) || !same(child, other))
				return false;
		}
		return true;
	default:
		return json_object_equal(a, b);
	}
}

static void check_manifest(const char *text, size_t len)
{
	struct img_manifest_entry *es = NULL;
	struct img_diag d;
	char buf[IMG_DIAG_MAX];
	size_t n = 0;
	int r;

	memset(&d, 0, sizeof(d));
	r = img_manifest_parse(text, len, &es, &n, &d);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
	if (r == -EBADMSG) {
		FUZZ_CHECK(d.err == IMG_ERR_MANIFEST && d.text[0]);
		FUZZ_CHECK(d.line >= 1 && d.line <= line_count(text, len));
		FUZZ_CHECK(img_diag_format(&d, buf, sizeof(buf)) == buf);
		FUZZ_CHECK(strlen(buf) + 1 < sizeof(buf));
	}
	if (r < 0)
		return;
	FUZZ_CHECK(n >= 1 && n <= IMG_MANIFEST_MAX_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(es[i].file[0] && strlen(es[i].file) < sizeof(es[i].file));
		FUZZ_CHECK(es[i].image <= IMG_IMAGE_NUM_MAX && es[i].line >= 1);
		FUZZ_CHECK(i == 0 || es[i - 1].image < es[i].image);
	}
	free(es);
}

static void check_rewrite(struct jd_doc *doc)
{
	struct jd_doc *again = NULL;
	struct jd_error e;
	size_t n = 0;
	const char *t = json_object_to_json_string_length(jd_root(doc), JSON_C_TO_STRING_PLAIN, &n);
	int r;

	if (!t)
		return; /* out of memory */
	r = jd_parse(t, n, &again, &e);
	if (r < 0)
		fprintf(stderr, "rewritten: %s\nline %u col %u: %s\n", t, e.line, e.col, e.msg);
	FUZZ_CHECK(r == 0 || r == -ENOMEM);
	if (r == 0)
		FUZZ_CHECK(same(jd_root(doc), jd_root(again)));
	jd_doc_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = (char *)fz_dup(data, size);
	struct jd_doc *doc = NULL;
	struct jd_error e;
	unsigned last = 0, lines = line_count(text, size);
	int r = jd_parse(text, size, &doc, &e);

	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM || r == -EFBIG);
	if (r == -EBADMSG) {
		FUZZ_CHECK(e.msg[0] && e.line >= 1 && e.line <= lines);
		FUZZ_CHECK(e.col >= 1 && e.col <= size + 1);
	}
	if (r == 0) {
		check_lines(doc, jd_root(doc), &last, lines, 0);
		check_rewrite(doc);
	}
	jd_doc_free(doc);
	check_manifest(text, size);
	free(text);
	return 0;
}
