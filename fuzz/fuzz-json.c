/* fuzz-json.c — the JSON reader (src/util/json-reader.c) and what reads a dfu_application.zip's
 * manifest.json with it (src/image/manifest.c, img_manifest_parse). Input: the document's bytes
 * (exactly sized on the heap: a read past them is a heap overflow).
 * Invariants: jr_parse gives a tree or -EBADMSG with a line and column inside the text and a
 * message; every node of a tree is reachable by index and by key, strings are valid UTF-8
 * without NUL, numbers read as integers only when written as one; the tree written back as JSON
 * parses to the same tree; the manifest reader gives 1..16 entries in ascending, distinct image
 * numbers with file names, or -EBADMSG with IMG_ERR_MANIFEST, a line of the text and a reason. */
#include <errno.h>
#include <inttypes.h>

#include "fuzz.h"
#include "image/image-internal.h"
#include "util/json-reader.h"

struct text {
	char *p;
	size_t n, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->n + n + 1 > t->cap) {
		t->cap = (t->n + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		FUZZ_CHECK(t->p);
	}
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = 0;
}

static void put_string(struct text *t, const char *s)
{
	char esc[8];

	put(t, "\"", 1);
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\') {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)*s);
			put(t, esc, 6);
		} else {
			put(t, s, 1);
		}
	}
	put(t, "\"", 1);
}

/* Valid UTF-8 (RFC 3629), no NUL. */
static bool utf8_ok(const unsigned char *s)
{
	while (*s) {
		size_t n = *s < 0x80 ? 1 : *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : 2;
		uint32_t cp = n == 1 ? *s : *s & (0x3f >> (n - 1));

		if (n > 1 && (*s < 0xc2 || *s > 0xf4))
			return false;
		for (size_t i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n;
	}
	return true;
}

/* Checks v and writes it as JSON. Numbers keep what the reader keeps: an integer's value, or
 * that it is not one. */
/* NOLINTNEXTLINE(misc-no-recursion): the reader bounds the depth */
static void check_write(const struct jr_value *v, struct text *t, unsigned depth)
{
	uint64_t u;
	char num[32];
	int r;

	FUZZ_CHECK(depth <= JR_MAX_DEPTH + 1 && jr_line(v) >= 1);
	switch (jr_type(v)) {
	case JR_NULL:
		put(t, "null", 4);
		break;
	case JR_BOOL:
		put(t, jr_bool(v) ? "true" : "false", jr_bool(v) ? 4 : 5);
		break;
	case JR_NUMBER:
		r = jr_u64(v, &u);
		FUZZ_CHECK(r == 0 || r == -EDOM || r == -ERANGE);
		if (r == 0)
			snprintf(num, sizeof(num), "%" PRIu64, u);
		else
			snprintf(num, sizeof(num), "%s", r == -EDOM ? "-0.5e-1" : "18446744073709551616");
		put(t, num, strlen(num));
		break;
	case JR_STRING:
		FUZZ_CHECK(jr_str(v) && utf8_ok((const unsigned char *)jr_str(v)));
		put_string(t, jr_str(v));
		break;
	case JR_ARRAY:
	case JR_OBJECT:
		put(t, jr_type(v) == JR_ARRAY ? "[" : "{", 1);
		for (size_t i = 0; i < jr_count(v); i++) {
			const struct jr_value *c = jr_at(v, i);

			FUZZ_CHECK(c);
			if (i)
				put(t, ",", 1);
			if (jr_type(v) == JR_OBJECT) {
				FUZZ_CHECK(jr_key(c) && utf8_ok((const unsigned char *)jr_key(c)));
				FUZZ_CHECK(jr_get(v, jr_key(c)) == c); /* names are unique */
				put_string(t, jr_key(c));
				put(t, ":", 1);
			}
			check_write(c, t, depth + 1);
		}
		FUZZ_CHECK(!jr_at(v, jr_count(v)));
		put(t, jr_type(v) == JR_ARRAY ? "]" : "}", 1);
		break;
	}
}

/* NOLINTNEXTLINE(misc-no-recursion): the reader bounds the depth */
static bool same(const struct jr_value *a, const struct jr_value *b)
{
	uint64_t x = 0, y = 0;

	if (jr_type(a) != jr_type(b) || jr_count(a) != jr_count(b))
		return false;
	switch (jr_type(a)) {
	case JR_BOOL:
		return jr_bool(a) == jr_bool(b);
	case JR_NUMBER:
		return jr_u64(a, &x) == jr_u64(b, &y) && x == y;
	case JR_STRING:
		return strcmp(jr_str(a), jr_str(b)) == 0;
	case JR_ARRAY:
	case JR_OBJECT:
		for (size_t i = 0; i < jr_count(a); i++) {
			const struct jr_value *p = jr_at(a, i), *q = jr_at(b, i);

			if (jr_type(a) == JR_OBJECT && strcmp(jr_key(p), jr_key(q)) != 0)
				return false;
			if (!same(p, q))
				return false;
		}
		return true;
	default:
		return true;
	}
}

static unsigned line_count(const char *p, size_t n)
{
	unsigned lines = 1;

	for (size_t i = 0; i < n; i++)
		lines += p[i] == '\n';
	return lines;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = (char *)fz_dup(data, size);
	struct jr_doc *doc = NULL, *again = NULL;
	struct jr_error e;
	struct text t = {0};
	int r = jr_parse(text, size, &doc, &e);

	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM || r == -EFBIG);
	if (r == -EBADMSG) {
		FUZZ_CHECK(e.msg[0] && e.line >= 1 && e.line <= line_count(text, size));
		FUZZ_CHECK(e.col >= 1 && e.col <= size + 1);
	}
	if (r == 0) {
		FUZZ_CHECK(jr_root(doc));
		check_write(jr_root(doc), &t, 0);
		r = jr_parse(t.p, t.n, &again, &e);
		if (r < 0)
			fprintf(stderr, "rewritten: %s\nline %u col %u: %s\n", t.p, e.line, e.col,
				e.msg);
		FUZZ_CHECK(r == 0 && same(jr_root(doc), jr_root(again)));
		jr_doc_free(again);
		free(t.p);
	}
	jr_doc_free(doc);
	check_manifest(text, size);
	free(text);
	return 0;
}
