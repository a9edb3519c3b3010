/* json-doc.h — a JSON text read with json-c into its object tree, plus what json-c does not
 * keep: the line each value starts on (for "manifest.json line 7: ..." diagnostics), and the
 * checks a document from outside gets before anyone reads it.
 *
 * json-c parses (strict mode, UTF-8 checked, nesting bounded); the text is then walked once
 * beside the tree to give every object, array, string, number and boolean its line. Rejected on
 * top of json-c's own rules: text after the document, a member name twice in one object (json-c
 * would keep the last one silently), and strings holding "\u0000" (nobody downstream can carry
 * them). A leading UTF-8 byte order mark is skipped. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"

#define JD_MAX_DEPTH 32
#define JD_MAX_TEXT  (1024 * 1024) /* longer documents are -EFBIG */

struct jd_doc;

/* Why a document was rejected: line 3, column 9, "unexpected character ','". */
struct jd_error {
	unsigned line; /* 1-based */
	unsigned col;  /* 1-based, in bytes */
	char msg[96];
};

/* Parses len bytes of text (no NUL needed). 0, -EBADMSG with err (may be NULL), -EFBIG,
 * -ENOMEM. */
int jd_parse(const char *text, size_t len, struct jd_doc **ret, struct jd_error *err);
/* Accepts NULL, returns NULL. */
struct jd_doc *jd_doc_free(struct jd_doc *doc);
DEFINE_FREE_CLEANUP(struct jd_doc, jd_doc_free)

/* The root value; json-c's NULL when the document is the literal null. */
struct json_object *jd_root(const struct jd_doc *doc);
/* The line v starts on; 0 for a value not in this document, and for null (json-c's null is
 * the NULL pointer, which has no identity to look up). */
unsigned jd_line(const struct jd_doc *doc, const struct json_object *v);

/* "null", "a boolean", "a number", "a string", "an array", "an object" (for messages). */
const char *jd_type_name(const struct json_object *v);
/* The member key of object o (NULL for another type or when absent); a member whose value is
 * null is present, with *ret NULL. */
bool jd_get(const struct json_object *o, const char *key, struct json_object **ret);
/* A string's UTF-8 (NUL-terminated, no NUL inside); NULL for other types. */
const char *jd_str(const struct json_object *v);
/* A number written as a non-negative integer: 0, -EDOM when v is not one (another type, a
 * fraction, an exponent, a sign). json-c saturates integers above UINT64_MAX to UINT64_MAX. */
int jd_u64(const struct json_object *v, uint64_t *ret);
