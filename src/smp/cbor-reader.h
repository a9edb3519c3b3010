/* cbor-reader.h — a small pull reader over libcbor's streaming decoder: one item head at a time,
 * definite and indefinite containers, skipping of whole (nested) items, zero-copy strings.
 * Private to src/smp/. Never allocates; nesting is bounded by CR_MAX_DEPTH. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

/* Levels of nesting cr_skip() follows in one skipped value, itself included (a tag counts as a
 * level). */
#define CR_MAX_DEPTH 16

enum cr_type {
	CR_UINT,
	CR_NEGINT, /* value -1 - u */
	CR_BYTES,
	CR_TEXT,
	CR_ARRAY,
	CR_MAP,
	CR_TAG,
	CR_BOOL,
	CR_NULL,
	CR_UNDEFINED,
	CR_FLOAT,
	CR_BREAK,
};

struct cr_item {
	enum cr_type type;
	bool indef;	     /* strings, arrays and maps of indefinite length */
	bool b;		     /* CR_BOOL */
	uint64_t u;	     /* CR_UINT/CR_NEGINT argument, CR_TAG number, container count */
	const uint8_t *data; /* definite CR_BYTES/CR_TEXT: points into the input */
	size_t len;
};

struct cbor_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	const char *err; /* why the last call failed (static string) */
	struct cbor_callbacks cb;
};

/* A container being walked: remaining entries of a definite one, or "until break". */
struct cr_iter {
	bool indef;
	uint64_t left;
};

void cr_init(struct cbor_reader *r, const uint8_t *buf, size_t len);
static inline bool cr_at_end(const struct cbor_reader *r)
{
	return r->pos >= r->len;
}

/* Reads one item head (and the payload of a definite string). 0 or -EBADMSG with r->err set. */
int cr_read(struct cbor_reader *r, struct cr_item *ret);
/* Skips one complete item, nested containers and tags included. */
int cr_skip(struct cbor_reader *r);
/* Skips what follows the head just read by cr_read(): a tag's item, the chunks of an
 * indefinite-length string, the entries of a container; nothing for other items. */
int cr_skip_rest(struct cbor_reader *r, const struct cr_item *head);

/* Starts walking the array or map whose head is it (entries are key/value pairs for maps).
 * A definite container claiming more entries than bytes remain is rejected here. */
int cr_iter_init(struct cbor_reader *r, const struct cr_item *it, struct cr_iter *ret);
/* 1 when another entry follows, 0 at the end (the break of an indefinite container is
 * consumed), -EBADMSG on truncated input. */
int cr_iter_next(struct cbor_reader *r, struct cr_iter *iter);

/* Error helpers: record why and return -EBADMSG. */
int cr_fail(struct cbor_reader *r, const char *why);
