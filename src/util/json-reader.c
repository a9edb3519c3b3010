/* json-reader.c — strict RFC 8259 JSON into a read-only tree (see json-reader.h for why the
 * project has its own). Recursive descent, bounded depth; values live in one array, decoded
 * strings in one arena sized from the text, so nothing is allocated per value. */
#include "util/json-reader.h"
#include "util/macro.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define JR_MAX_MEMBERS 1024 /* per object: bounds the duplicate-name check */

struct jr_value {
	enum jr_type type;
	unsigned line;
	bool b;
	bool is_uint;  /* JR_NUMBER written as a non-negative integer */
	bool overflow; /* ... above UINT64_MAX */
	uint64_t u;
	const char *key; /* member name, in the arena */
	const char *s;	 /* JR_STRING, in the arena */
	size_t count;
	uint32_t first, next; /* indices while parsing; 0 = none (index 0 is the root) */
	const struct jr_value *first_p, *next_p;
};

struct jr_doc {
	struct jr_value *v;
	size_t n, cap;
	char *arena; /* decoded strings never outgrow their text: len + 1 bytes suffice */
	size_t arena_used, arena_size;
};

struct parser {
	const char *p, *end;
	const char *line_start;
	unsigned line;
	unsigned depth;
	struct jr_doc *doc;
	struct jr_error *err;
};

static int fail(struct parser *ps, const char *fmt, ...) _printf_(2, 3);
static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	ps->err->line = ps->line;
	ps->err->col = (unsigned)(ps->p - ps->line_start) + 1;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int peek(const struct parser *ps)
{
	return ps->p < ps->end ? (unsigned char)*ps->p : -1;
}

static void skip_ws(struct parser *ps)
{
	for (; ps->p < ps->end; ps->p++) {
		char c = *ps->p;

		if (c == '\n') {
			ps->line++;
			ps->line_start = ps->p + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			return;
		}
	}
}

static int new_value(struct parser *ps, enum jr_type type, uint32_t *ret)
{
	struct jr_doc *d = ps->doc;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct jr_value *v = reallocarray(d->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n] = (struct jr_value){.type = type, .line = ps->line};
	*ret = (uint32_t)d->n++;
	return 0;
}

static void put_utf8(char *out, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		out[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (char)(0xc0 | (cp >> 6));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*n)++] = (char)(0xe0 | (cp >> 12));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | (cp >> 18));
		out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

static int hex4(struct parser *ps, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++, ps->p++) {
		int c = peek(ps);

		if (c >= '0' && c <= '9')
			v = v * 16 + (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v * 16 + (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return fail(ps, "\\u needs four hex digits");
	}
	*ret = v;
	return 0;
}

/* After "\u": one code point, a surrogate pair taken whole. */
static int unicode_escape(struct parser *ps, uint32_t *ret)
{
	uint32_t hi, lo;
	int r;

	r = hex4(ps, &hi);
	if (r < 0)
		return r;
	if (hi == 0)
		return fail(ps, "\\u0000 is not allowed in a string");
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(ps, "unpaired surrogate \\u%04x", (unsigned)hi);
	if (hi < 0xd800 || hi > 0xdbff) {
		*ret = hi;
		return 0;
	}
	if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
		return fail(ps, "unpaired surrogate \\u%04x", (unsigned)hi);
	ps->p += 2;
	r = hex4(ps, &lo);
	if (r < 0)
		return r;
	if (lo < 0xdc00 || lo > 0xdfff)
		return fail(ps, "unpaired surrogate \\u%04x", (unsigned)hi);
	*ret = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

static int escape(struct parser *ps, char *out, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	uint32_t cp = 0;
	int c, r;

	ps->p++; /* the backslash */
	c = peek(ps);
	if (c == 'u') {
		ps->p++;
		r = unicode_escape(ps, &cp);
		if (r < 0)
			return r;
		put_utf8(out, n, cp);
		return 0;
	}
	e = c > 0 ? strchr(from, c) : NULL;
	if (!e)
		return fail(ps, "unknown escape in a string");
	out[(*n)++] = to[e - from];
	ps->p++;
	return 0;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates), 0 if none. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	uint32_t cp;

	if (p[0] < 0xc2 || p[0] > 0xf4 || avail < n)
		return 0;
	cp = p[0] & (0x3f >> (n - 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int parse_string(struct parser *ps, const char **ret)
{
	struct jr_doc *d = ps->doc;
	char *out = d->arena + d->arena_used;
	size_t n = 0, u;
	int r;

	ps->p++; /* the opening quote */
	for (;;) {
		int c = peek(ps);

		if (c < 0)
			return fail(ps, "string not terminated");
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(ps, "control character 0x%02x in a string", (unsigned)c);
		if (c == '\\') {
			r = escape(ps, out, &n);
			if (r < 0)
				return r;
			continue;
		}
		u = c < 0x80 ? 1
			     : utf8_len((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
		if (u == 0)
			return fail(ps, "invalid UTF-8 in a string");
		memcpy(out + n, ps->p, u);
		n += u;
		ps->p += u;
	}
	ps->p++;
	out[n] = 0;
	d->arena_used += n + 1;
	*ret = out;
	return 0;
}

static int digits(struct parser *ps, bool *ret_overflow, uint64_t *ret)
{
	const char *start = ps->p;
	uint64_t v = 0;

	for (; peek(ps) >= '0' && peek(ps) <= '9'; ps->p++) {
		unsigned dgt = (unsigned)(*ps->p - '0');

		if (v > (UINT64_MAX - dgt) / 10)
			*ret_overflow = true;
		v = v * 10 + dgt;
	}
	*ret = v;
	return ps->p > start ? 0 : -1;
}

static int parse_number(struct parser *ps, struct jr_value *v)
{
	bool neg = false, frac = false, exp = false, ovf = false;
	uint64_t u;

	if (peek(ps) == '-') {
		neg = true;
		ps->p++;
	}
	if (peek(ps) == '0' && ps->end - ps->p > 1 && ps->p[1] >= '0' && ps->p[1] <= '9')
		return fail(ps, "leading zero in a number");
	if (digits(ps, &ovf, &v->u) < 0)
		return fail(ps, "a number needs digits");
	if (peek(ps) == '.') {
		ps->p++;
		frac = true;
		if (digits(ps, &ovf, &u) < 0)
			return fail(ps, "a number needs digits after '.'");
	}
	if (peek(ps) == 'e' || peek(ps) == 'E') {
		ps->p++;
		exp = true;
		if (peek(ps) == '+' || peek(ps) == '-')
			ps->p++;
		if (digits(ps, &ovf, &u) < 0)
			return fail(ps, "a number needs digits in its exponent");
	}
	v->is_uint = !neg && !frac && !exp;
	v->overflow = v->is_uint && ovf;
	return 0;
}

static int parse_literal(struct parser *ps, struct jr_value *v)
{
	static const struct {
		const char *word;
		enum jr_type type;
		bool b;
	} lit[] = {{"true", JR_BOOL, true}, {"false", JR_BOOL, false}, {"null", JR_NULL}};

	for (size_t i = 0; i < ARRAY_SIZE(lit); i++) {
		size_t n = strlen(lit[i].word);

		if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, lit[i].word, n) == 0) {
			v->type = lit[i].type;
			v->b = lit[i].b;
			ps->p += n;
			return 0;
		}
	}
	if (peek(ps) < 0)
		return fail(ps, "document ends where a value should be");
	if (peek(ps) >= 0x21 && peek(ps) < 0x7f)
		return fail(ps, "unexpected '%c' where a value should be", *ps->p);
	return fail(ps, "unexpected byte 0x%02x where a value should be", (unsigned)peek(ps));
}

/* NOLINTNEXTLINE(misc-no-recursion): depth <= JR_MAX_DEPTH, checked in parse_value() */
static int parse_value(struct parser *ps, uint32_t *ret);

/* Appends child to parent's children; *last is the previous child (0 = none yet). */
static void link_child(struct jr_doc *d, uint32_t parent, uint32_t *last, uint32_t child)
{
	if (*last)
		d->v[*last].next = child;
	else
		d->v[parent].first = child;
	d->v[parent].count++;
	*last = child;
}

/* NOLINTNEXTLINE(misc-no-recursion): depth <= JR_MAX_DEPTH */
static int parse_array(struct parser *ps, uint32_t self)
{
	uint32_t last = 0, child = 0;
	int r;

	ps->p++;
	skip_ws(ps);
	if (peek(ps) == ']') {
		ps->p++;
		return 0;
	}
	for (;;) {
		r = parse_value(ps, &child);
		if (r < 0)
			return r;
		link_child(ps->doc, self, &last, child);
		skip_ws(ps);
		if (peek(ps) == ']') {
			ps->p++;
			return 0;
		}
		if (peek(ps) != ',')
			return fail(ps, "expected ',' or ']' after an array element");
		ps->p++;
		skip_ws(ps);
	}
}

/* NOLINTNEXTLINE(misc-no-recursion): depth <= JR_MAX_DEPTH */
static int parse_member(struct parser *ps, uint32_t self, uint32_t *last)
{
	const struct jr_doc *d = ps->doc;
	const char *key = ""; /* set by parse_string() */
	uint32_t child = 0;
	int r;

	if (peek(ps) != '"')
		return fail(ps, "expected a member name in quotes");
	r = parse_string(ps, &key);
	if (r < 0)
		return r;
	if (d->v[self].count >= JR_MAX_MEMBERS)
		return fail(ps, "more than %d members in one object", JR_MAX_MEMBERS);
	for (uint32_t i = d->v[self].count ? d->v[self].first : 0; i; i = d->v[i].next)
		if (strcmp(d->v[i].key, key) == 0)
			return fail(ps, "duplicate member \"%.40s\"", key);
	skip_ws(ps);
	if (peek(ps) != ':')
		return fail(ps, "expected ':' after member name \"%.40s\"", key);
	ps->p++;
	skip_ws(ps);
	r = parse_value(ps, &child);
	if (r < 0)
		return r;
	ps->doc->v[child].key = key;
	link_child(ps->doc, self, last, child);
	return 0;
}

/* NOLINTNEXTLINE(misc-no-recursion): depth <= JR_MAX_DEPTH */
static int parse_object(struct parser *ps, uint32_t self)
{
	uint32_t last = 0;
	int r;

	ps->p++;
	skip_ws(ps);
	if (peek(ps) == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		r = parse_member(ps, self, &last);
		if (r < 0)
			return r;
		skip_ws(ps);
		if (peek(ps) == '}') {
			ps->p++;
			return 0;
		}
		if (peek(ps) != ',')
			return fail(ps, "expected ',' or '}' after an object member");
		ps->p++;
		skip_ws(ps);
	}
}

/* NOLINTNEXTLINE(misc-no-recursion): containers nest at most JR_MAX_DEPTH deep */
static int parse_value(struct parser *ps, uint32_t *ret)
{
	int c = peek(ps), r;
	enum jr_type t = c == '['			      ? JR_ARRAY
			 : c == '{'			      ? JR_OBJECT
			 : c == '"'			      ? JR_STRING
			 : c == '-' || (c >= '0' && c <= '9') ? JR_NUMBER
							      : JR_NULL;
	uint32_t self;

	r = new_value(ps, t, &self);
	if (r < 0)
		return r;
	*ret = self;
	switch (t) {
	case JR_ARRAY:
	case JR_OBJECT:
		if (++ps->depth > JR_MAX_DEPTH)
			return fail(ps, "nested deeper than %d levels", JR_MAX_DEPTH);
		r = t == JR_ARRAY ? parse_array(ps, self) : parse_object(ps, self);
		ps->depth--;
		return r;
	case JR_STRING:
		return parse_string(ps, &ps->doc->v[self].s);
	case JR_NUMBER:
		return parse_number(ps, &ps->doc->v[self]);
	default:
		return parse_literal(ps, &ps->doc->v[self]);
	}
}

/* Indices to pointers, now that the array no longer moves. */
static void finish_links(struct jr_doc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		d->v[i].first_p = d->v[i].count ? &d->v[d->v[i].first] : NULL;
		d->v[i].next_p = d->v[i].next ? &d->v[d->v[i].next] : NULL;
	}
}

struct jr_doc *jr_doc_free(struct jr_doc *doc)
{
	if (!doc)
		return NULL;
	free(doc->v);
	free(doc->arena);
	free(doc);
	return NULL;
}

int jr_parse(const char *text, size_t len, struct jr_doc **ret, struct jr_error *err)
{
	_cleanup_(jr_doc_freep) struct jr_doc *d = NULL;
	struct jr_error dummy;
	struct parser ps = {.p = text, .end = text + len, .line_start = text, .line = 1};
	uint32_t root;
	int r;

	ps.err = err ? err : &dummy;
	*ps.err = (struct jr_error){0};
	if (len > JR_MAX_TEXT)
		return -EFBIG;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->arena_size = len + 1;
	d->arena = malloc(d->arena_size);
	if (!d->arena)
		return -ENOMEM;
	ps.doc = d;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		ps.p = ps.line_start = text + 3;
	skip_ws(&ps);
	if (ps.p == ps.end)
		return fail(&ps, "empty document");
	r = parse_value(&ps, &root);
	if (r < 0)
		return r;
	skip_ws(&ps);
	if (ps.p != ps.end)
		return fail(&ps, "unexpected data after the document");
	finish_links(d);
	*ret = TAKE_PTR(d);
	return 0;
}

const struct jr_value *jr_root(const struct jr_doc *doc)
{
	return doc && doc->n ? &doc->v[0] : NULL;
}

enum jr_type jr_type(const struct jr_value *v)
{
	return v ? v->type : JR_NULL;
}

const char *jr_type_name(enum jr_type t)
{
	static const char *const names[] = {
		[JR_NULL] = "null",	  [JR_BOOL] = "a boolean", [JR_NUMBER] = "a number",
		[JR_STRING] = "a string", [JR_ARRAY] = "an array", [JR_OBJECT] = "an object",
	};

	return (unsigned)t < ARRAY_SIZE(names) ? names[t] : "?";
}

unsigned jr_line(const struct jr_value *v)
{
	return v ? v->line : 0;
}

size_t jr_count(const struct jr_value *v)
{
	return v && (v->type == JR_ARRAY || v->type == JR_OBJECT) ? v->count : 0;
}

const struct jr_value *jr_at(const struct jr_value *v, size_t i)
{
	const struct jr_value *c;

	if (i >= jr_count(v))
		return NULL;
	for (c = v->first_p; c && i > 0; i--)
		c = c->next_p;
	return c;
}

const struct jr_value *jr_get(const struct jr_value *v, const char *key)
{
	if (!v || v->type != JR_OBJECT)
		return NULL;
	for (const struct jr_value *c = v->first_p; c; c = c->next_p)
		if (strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

const char *jr_key(const struct jr_value *v)
{
	return v ? v->key : NULL;
}

const char *jr_str(const struct jr_value *v)
{
	return v && v->type == JR_STRING ? v->s : NULL;
}

bool jr_bool(const struct jr_value *v)
{
	return v && v->type == JR_BOOL && v->b;
}

int jr_u64(const struct jr_value *v, uint64_t *ret)
{
	if (!v || v->type != JR_NUMBER || !v->is_uint)
		return -EDOM;
	if (v->overflow)
		return -ERANGE;
	*ret = v->u;
	return 0;
}
