/* json-reader.h — a strict RFC 8259 JSON reader for small documents (the nRF Connect SDK's
 * manifest.json): the whole text is parsed into a read-only tree, then queried.
 *
 * Why not a library: none of the project's dependencies (libbluetooth, libcbor, libsystemd 252,
 * libcurl, OpenSSL, cmocka) reads JSON — sd-json only became public in systemd 257 — and one
 * manifest of a few hundred bytes does not justify a new runtime dependency (json-c) in the
 * package, the cross build and the fuzz targets. What this reader must do is small and fully
 * specified: RFC 8259's grammar, UTF-8, a depth limit, and diagnostics with a line number.
 *
 * Stricter than the RFC where that makes answers unambiguous: duplicate member names, "\u0000"
 * and unpaired surrogates are rejected; a leading UTF-8 byte order mark is skipped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"

#define JR_MAX_DEPTH 32
#define JR_MAX_TEXT  (1024 * 1024) /* longer documents are -EFBIG */

enum jr_type {
	JR_NULL,
	JR_BOOL,
	JR_NUMBER,
	JR_STRING,
	JR_ARRAY,
	JR_OBJECT,
};

struct jr_doc;
struct jr_value;

/* Why a document was rejected: "line 3: expected ',' or '}' after an object member". */
struct jr_error {
	unsigned line; /* 1-based */
	unsigned col;  /* 1-based, in bytes */
	char msg[96];
};

/* Parses len bytes of text (no NUL needed). 0, -EBADMSG with err, -EFBIG, -ENOMEM. */
int jr_parse(const char *text, size_t len, struct jr_doc **ret, struct jr_error *err);
/* Accepts NULL, returns NULL. */
struct jr_doc *jr_doc_free(struct jr_doc *doc);
DEFINE_FREE_CLEANUP(struct jr_doc, jr_doc_free)

const struct jr_value *jr_root(const struct jr_doc *doc);
enum jr_type jr_type(const struct jr_value *v);
/* "null", "a boolean", "a number", "a string", "an array", "an object" (for messages). */
const char *jr_type_name(enum jr_type t);
/* Line of the value's first character. */
unsigned jr_line(const struct jr_value *v);

/* Members of an object / elements of an array; 0 for other types. */
size_t jr_count(const struct jr_value *v);
/* The i-th element (or member value), NULL past the end. */
const struct jr_value *jr_at(const struct jr_value *v, size_t i);
/* The member named key of an object, NULL if absent or v is not an object. */
const struct jr_value *jr_get(const struct jr_value *v, const char *key);
/* The member name of an object member value, NULL otherwise. */
const char *jr_key(const struct jr_value *v);

/* A string's decoded UTF-8 (NUL-terminated, no embedded NUL); NULL for other types. */
const char *jr_str(const struct jr_value *v);
bool jr_bool(const struct jr_value *v);
/* A number written as a non-negative integer (no fraction, no exponent): 0, -EDOM when it is
 * not one (another type, a fraction, a sign), -ERANGE above UINT64_MAX. */
int jr_u64(const struct jr_value *v, uint64_t *ret);
