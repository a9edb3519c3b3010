/* json-doc.c — json-c's tree of a JSON text, with the line of every value (json-doc.h).
 *
 * json-c parses and validates. The walk afterwards steps over a text json-c accepted: only the
 * structural bytes ({ } [ ] : , and whitespace) are looked at, every value is paired with its
 * node in the tree (members in json-c's insertion order, which is the text's order unless a name
 * repeats: a repeat is found by counting and rejected), strings are skipped to their closing
 * quote and other tokens to the next structural byte. */
#include "util/json-doc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jd_pos {
	const struct json_object *v;
	unsigned line;
};

struct jd_doc {
	struct json_object *root;
	struct jd_pos *pos;
	size_t n_pos, cap_pos;
};

struct walk {
	const char *t;
	size_t n, p;
	size_t line_p; /* lines are counted up to here */
	unsigned line;
	struct jd_doc *doc;
	struct jd_error *err;
};

static unsigned line_at(struct walk *w, size_t p)
{
	for (; w->line_p < p; w->line_p++)
		w->line += w->t[w->line_p] == '\n';
	return w->line;
}

static void skip_ws(struct walk *w)
{
	while (w->p < w->n && strchr(" \t\r\n", w->t[w->p]) && w->t[w->p])
		w->p++;
}

/* At a '"': past the closing quote (json-c checked that there is one). */
static void skip_string(struct walk *w)
{
	for (w->p++; w->p < w->n && w->t[w->p] != '"'; w->p++)
		if (w->t[w->p] == '\\')
			w->p++;
	w->p++;
}

static int record(struct walk *w, const struct json_object *v, unsigned line)
{
	struct jd_doc *d = w->doc;

	if (!v)
		return 0;
	if (d->n_pos == d->cap_pos) {
		size_t cap = d->cap_pos ? d->cap_pos * 2 : 64;
		struct jd_pos *p = realloc(d->pos, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		d->pos = p;
		d->cap_pos = cap;
	}
	d->pos[d->n_pos++] = (struct jd_pos){.v = v, .line = line};
	return 0;
}

/* Where p is: line and column, counted afresh (an error may lie before where the walk
 * counted to). */
static void locate(const struct walk *w, size_t p, struct jd_error *e)
{
	size_t sol = 0;

	e->line = 1;
	for (size_t i = 0; i < p; i++)
		if (w->t[i] == '\n') {
			e->line++;
			sol = i + 1;
		}
	e->col = (unsigned)(p - sol) + 1;
}

static _printf_(3, 4) int fail(struct walk *w, size_t p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (w->err) {
		locate(w, p, w->err);
		vsnprintf(w->err->msg, sizeof(w->err->msg), fmt, ap);
	}
	va_end(ap);
	return -EBADMSG;
}

static int walk_value(struct walk *w, const struct json_object *v, unsigned depth);

/* The decoded name of the member at w->p (json-c decodes it), or NULL. */
static struct json_object *member_name(struct walk *w)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *key = NULL;
	size_t k = w->p;

	skip_string(w);
	if (tok)
		key = json_tokener_parse_ex(tok, w->t + k, (int)(w->p - k));
	json_tokener_free(tok);
	if (!json_object_is_type(key, json_type_string)) {
		json_object_put(key);
		return NULL;
	}
	return key;
}

/* A member name that appears twice in the object at start, for the message; only on this
 * error path, so the quadratic search does not matter. */
/* NOLINTNEXTLINE(misc-no-recursion): json-c bounds the depth (JD_MAX_DEPTH) */
static void find_repeat(const struct walk *w, size_t start, unsigned depth, char *out, size_t size)
{
	struct json_object *seen = json_object_new_array(), *key;
	struct walk r = *w;

	snprintf(out, size, "?");
	r.err = NULL;
	for (r.p = start + 1; seen;) {
		skip_ws(&r);
		if (r.t[r.p] == '}')
			break;
		if (r.t[r.p] == ',') {
			r.p++;
			skip_ws(&r);
		}
		key = member_name(&r);
		if (!key)
			break;
		for (size_t i = 0; i < json_object_array_length(seen); i++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(seen, i)),
				   json_object_get_string(key)) == 0) {
				snprintf(out, size, "%s", json_object_get_string(key));
				json_object_put(key);
				json_object_put(seen);
				return;
			}
		json_object_array_add(seen, key);
		skip_ws(&r);
		r.p++; /* ':' */
		if (walk_value(&r, NULL, depth + 1) < 0)
			break;
	}
	json_object_put(seen);
}

/* NOLINTNEXTLINE(misc-no-recursion): json-c bounds the depth (JD_MAX_DEPTH) */
static int walk_object(struct walk *w, const struct json_object *v, unsigned depth)
{
	struct json_object_iterator it = json_object_iter_init_default(), end = it;
	size_t start = w->p, count = 0;
	int r;

	if (v) {
		it = json_object_iter_begin((struct json_object *)v);
		end = json_object_iter_end(v);
	}
	for (w->p++;;) {
		const struct json_object *member = NULL;

		skip_ws(w);
		if (w->t[w->p] == '}')
			break;
		if (w->t[w->p] == ',') {
			w->p++;
			skip_ws(w);
		}
		skip_string(w); /* the member name */
		skip_ws(w);
		w->p++; /* ':' */
		if (v && !json_object_iter_equal(&it, &end)) {
			member = json_object_iter_peek_value(&it);
			json_object_iter_next(&it);
		}
		r = walk_value(w, member, depth + 1);
		if (r < 0)
			return r;
		count++;
	}
	w->p++;
	if (v && count != (size_t)json_object_object_length(v)) {
		char name[64];

		find_repeat(w, start, depth, name, sizeof(name));
		return fail(w, start, "duplicate member \"%.40s\" in an object", name);
	}
	return 0;
}

/* NOLINTNEXTLINE(misc-no-recursion): json-c bounds the depth (JD_MAX_DEPTH) */
static int walk_array(struct walk *w, const struct json_object *v, unsigned depth)
{
	size_t i = 0;
	int r;

	for (w->p++;; i++) {
		skip_ws(w);
		if (w->t[w->p] == ']')
			break;
		if (w->t[w->p] == ',') {
			w->p++;
			skip_ws(w);
		}
		r = walk_value(w, v ? json_object_array_get_idx(v, i) : NULL, depth + 1);
		if (r < 0)
			return r;
	}
	w->p++;
	return 0;
}

/* The node json-c made for the value at w->p, or NULL when the text and the tree disagree (a
 * repeated member name shifts the pairing; that object is rejected once walked). */
static const struct json_object *pair(const struct json_object *v, char c)
{
	enum json_type t = json_object_get_type(v);

	if ((c == '{' && t == json_type_object) || (c == '[' && t == json_type_array) ||
	    (c == '"' && t == json_type_string) ||
	    (c != '{' && c != '[' && c != '"' && t != json_type_object && t != json_type_array &&
	     t != json_type_string))
		return v;
	return NULL;
}

/* NOLINTNEXTLINE(misc-no-recursion): json-c bounds the depth (JD_MAX_DEPTH) */
static int walk_value(struct walk *w, const struct json_object *v, unsigned depth)
{
	size_t start;
	char c;
	int r;

	skip_ws(w);
	if (w->p >= w->n || depth > JD_MAX_DEPTH + 1)
		return fail(w, w->p, "%s", "the document ends early");
	start = w->p;
	c = w->t[start];
	v = pair(v, c);
	r = record(w, v, line_at(w, start) + 1);
	if (r < 0)
		return r;
	switch (c) {
	case '{':
		return walk_object(w, v, depth);
	case '[':
		return walk_array(w, v, depth);
	case '"':
		skip_string(w);
		if (v && (size_t)json_object_get_string_len(v) !=
				 strlen(json_object_get_string((struct json_object *)v)))
			return fail(w, start, "%s", "a string holds \\u0000");
		return 0;
	default:
		while (w->p < w->n && !strchr(",]} \t\r\n", w->t[w->p]))
			w->p++;
		return 0;
	}
}

static int pos_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct jd_pos *)a)->v;
	uintptr_t y = (uintptr_t)((const struct jd_pos *)b)->v;

	return x < y ? -1 : x > y;
}

/* json-c's verdict on the text from w->p, as a message at a line and column. */
static int tokener_error(struct walk *w, struct json_tokener *tok, bool at_end)
{
	enum json_tokener_error e = json_tokener_get_error(tok);
	size_t at = at_end ? w->n : MIN(w->p + json_tokener_get_parse_end(tok), w->n);
	unsigned char c;
	char what[16];

	skip_ws(w);
	if (w->p >= w->n)
		return fail(w, w->p, "%s", "empty document");
	if (e != json_tokener_error_parse_unexpected || at >= w->n)
		return fail(w, at, "%s", json_tokener_error_desc(e));
	c = (unsigned char)w->t[at];
	if (c > 0x20 && c < 0x7f)
		snprintf(what, sizeof(what), "'%c'", c);
	else
		snprintf(what, sizeof(what), "byte 0x%02x", c);
	return fail(w, at, "unexpected %s", what);
}

static struct json_object *tokenize(struct walk *w, int *ret)
{
	struct json_tokener *tok = json_tokener_new_ex(JD_MAX_DEPTH);
	struct json_object *root;
	size_t n = w->n - w->p;
	bool at_end = false;

	*ret = -ENOMEM;
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, w->t + w->p, (int)n);
	/* a number at the very end is complete only once json-c sees the input end */
	if (!root && json_tokener_get_error(tok) == json_tokener_continue &&
	    json_tokener_get_parse_end(tok) == n) {
		root = json_tokener_parse_ex(tok, "", 1);
		at_end = true;
	}
	*ret = 0;
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(root);
		root = NULL;
		*ret = tokener_error(w, tok, at_end);
	}
	json_tokener_free(tok);
	return root;
}

int jd_parse(const char *text, size_t len, struct jd_doc **ret, struct jd_error *err)
{
	_cleanup_(jd_doc_freep) struct jd_doc *doc = NULL;
	struct walk w = {.t = text, .n = len, .err = err};
	int r;

	*ret = NULL;
	if (len > JD_MAX_TEXT)
		return -EFBIG;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		w.p = w.line_p = 3; /* a byte order mark (RFC 8259 section 8.1) */
	doc = calloc(1, sizeof(*doc));
	if (!doc)
		return -ENOMEM;
	w.doc = doc;
	doc->root = tokenize(&w, &r);
	if (r < 0)
		return r;
	r = walk_value(&w, doc->root, 0);
	if (r < 0)
		return r;
	if (doc->pos)
		qsort(doc->pos, doc->n_pos, sizeof(*doc->pos), pos_cmp);
	*ret = TAKE_PTR(doc);
	return 0;
}

struct jd_doc *jd_doc_free(struct jd_doc *doc)
{
	if (!doc)
		return NULL;
	json_object_put(doc->root);
	free(doc->pos);
	free(doc);
	return NULL;
}

struct json_object *jd_root(const struct jd_doc *doc)
{
	return doc->root;
}

unsigned jd_line(const struct jd_doc *doc, const struct json_object *v)
{
	struct jd_pos key = {.v = v}, *p;

	if (!v || !doc->n_pos)
		return 0;
	p = bsearch(&key, doc->pos, doc->n_pos, sizeof(key), pos_cmp);
	return p ? p->line : 0;
}

const char *jd_type_name(const struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
	case json_type_int:
		return "a number";
	case json_type_string:
		return "a string";
	case json_type_array:
		return "an array";
	case json_type_object:
		return "an object";
	case json_type_null:
	default:
		return "null";
	}
}

bool jd_get(const struct json_object *o, const char *key, struct json_object **ret)
{
	*ret = NULL;
	return json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, ret);
}

const char *jd_str(const struct json_object *v)
{
	return json_object_is_type(v, json_type_string)
		       ? json_object_get_string((struct json_object *)v)
		       : NULL;
}

int jd_u64(const struct json_object *v, uint64_t *ret)
{
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -EDOM;
	*ret = json_object_get_uint64(v);
	return 0;
}
