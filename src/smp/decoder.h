/* decoder.h — table-driven decoding of SMP CBOR maps: each message is a table of known keys
 * with their type and where the value goes; unknown keys are skipped, a known key with the wrong
 * type, a value out of range or a key given twice is an error. Private to src/smp/.
 *
 * Every reason string is built at compile time from the message name and the key, e.g.
 * SMP_U32("upload response", "off", ...) -> "upload response: 'off' is not an unsigned integer".
 * Duplicate keys are rejected (not "last wins"): a message that says two different things is
 * not one we want to act on. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/smp.h"
#include "smp/cbor-reader.h"

enum smp_field_kind {
	SF_U32,	      /* unsigned integer <= UINT32_MAX -> uint32_t */
	SF_BOOL,      /* true/false -> bool */
	SF_TEXT,      /* text string -> char[cap], NUL-terminated, truncated to fit */
	SF_BYTES,     /* byte string -> uint8_t[cap] plus size_t length at len_off; longer: error */
	SF_BYTES_REF, /* byte string -> const uint8_t * plus size_t length at len_off, no copy */
	SF_RC,	      /* SMP v1 "rc": integer within int32_t -> struct smp_err */
	SF_ERR,	      /* SMP v2 "err": {"group": uint16, "rc": uint} -> struct smp_err */
	SF_CUSTOM,    /* fn() reads the value itself */
};

struct smp_field;
typedef int (*smp_field_fn)(struct cbor_reader *r, void *target, const struct smp_field *f,
			    const char **ret_reason);

struct smp_field {
	const char *key;
	enum smp_field_kind kind;
	size_t off;	/* of the value in the target struct */
	size_t len_off; /* SF_BYTES/SF_BYTES_REF: of the size_t length */
	size_t cap;	/* SF_TEXT/SF_BYTES: capacity of the array */
	const char *bad_type;
	const char *bad_value;
	const char *dup;
	smp_field_fn fn;
};

/* One message: its fields and the reasons that are not about a single field. */
struct smp_msg {
	const struct smp_field *fields;
	unsigned n_fields; /* at most 32 */
	const char *not_map;
	const char *trailing;
};

/* NOLINTBEGIN(bugprone-macro-parentheses): type and member names go to offsetof() */
#define SMP_FIELD_REASONS_(MSG, KEY, WHAT)                                                         \
	.bad_type = MSG ": '" KEY "' is not " WHAT,                                                \
	.bad_value = MSG ": '" KEY "' is out of range", .dup = MSG ": duplicate key '" KEY "'"

#define SMP_U32(MSG, KEY, type, member)                                                            \
	{                                                                                          \
		.key = KEY, .kind = SF_U32, .off = offsetof(type, member),                         \
		SMP_FIELD_REASONS_(MSG, KEY, "an unsigned integer")                                \
	}
#define SMP_BOOL(MSG, KEY, type, member)                                                           \
	{                                                                                          \
		.key = KEY, .kind = SF_BOOL, .off = offsetof(type, member),                        \
		SMP_FIELD_REASONS_(MSG, KEY, "a boolean")                                          \
	}
#define SMP_TEXT(MSG, KEY, type, member)                                                           \
	{                                                                                          \
		.key = KEY, .kind = SF_TEXT, .off = offsetof(type, member),                        \
		.cap = sizeof(((type *)0)->member), SMP_FIELD_REASONS_(MSG, KEY, "a text string")  \
	}
#define SMP_BYTES(MSG, KEY, type, member, len_member)                                              \
	{                                                                                          \
		.key = KEY, .kind = SF_BYTES, .off = offsetof(type, member),                       \
		.len_off = offsetof(type, len_member), .cap = sizeof(((type *)0)->member),         \
		.bad_type = MSG ": '" KEY "' is not a byte string",                                \
		.bad_value = MSG ": '" KEY "' is too long", .dup = MSG ": duplicate key '" KEY "'" \
	}
#define SMP_BYTES_REF(MSG, KEY, type, member, len_member)                                          \
	{                                                                                          \
		.key = KEY, .kind = SF_BYTES_REF, .off = offsetof(type, member),                   \
		.len_off = offsetof(type, len_member),                                             \
		SMP_FIELD_REASONS_(MSG, KEY, "a byte string")                                      \
	}
#define SMP_CUSTOM(MSG, KEY, WHAT, fn_)                                                            \
	{                                                                                          \
		.key = KEY, .kind = SF_CUSTOM, .fn = fn_, SMP_FIELD_REASONS_(MSG, KEY, WHAT)       \
	}
/* The two error forms every response may carry, decoded into type.member (struct smp_err). */
#define SMP_ERR_FIELDS(MSG, type, member)                                                          \
	{.key = "rc",                                                                              \
	 .kind = SF_RC,                                                                            \
	 .off = offsetof(type, member),                                                            \
	 SMP_FIELD_REASONS_(MSG, "rc", "an integer")},                                             \
	{                                                                                          \
		.key = "err", .kind = SF_ERR, .off = offsetof(type, member),                       \
		.bad_type = MSG ": 'err' is not a map",                                            \
		.bad_value = MSG ": 'err' needs 'group' (0..65535) and 'rc' (0..2^31-1)",          \
		.dup = MSG ": duplicate key 'err'"                                                 \
	}

#define SMP_MSG(MSG, fields_)                                                                      \
	{                                                                                          \
		.fields = fields_, .n_fields = sizeof(fields_) / sizeof((fields_)[0]),             \
		.not_map = MSG ": not a CBOR map",                                                 \
		.trailing = MSG ": trailing bytes after the map"                                   \
	}
/* NOLINTEND(bugprone-macro-parentheses) */

/* Decodes the map at the reader's position into target. *ret_seen gets bit i set for each
 * fields[i] present. Returns 0 or -EBADMSG with *ret_reason set. */
int smp_decode_map(struct cbor_reader *r, const struct smp_msg *m, void *target, uint32_t *ret_seen,
		   const char **ret_reason);
/* A whole body: exactly one map and nothing after it. */
int smp_decode_body(const uint8_t *body, size_t len, const struct smp_msg *m, void *target,
		    uint32_t *ret_seen, const char **ret_reason);

/* For SF_CUSTOM functions: reads the head of the value and requires type (else bad_type). */
int smp_read_typed(struct cbor_reader *r, enum cr_type type, const struct smp_field *f,
		   struct cr_item *ret, const char **ret_reason);
/* Copies a text string into dst[cap] (cap >= 1), NUL-terminated; when it must be shortened it is
 * cut before a partial UTF-8 sequence, never inside one. */
void smp_copy_text(char *dst, size_t cap, const uint8_t *src, size_t len);
/* Sets *ret_reason (when non-NULL) and returns -EBADMSG. */
int smp_bad(const char **ret_reason, const char *why);
