/* cbor-writer.h — encodes CBOR straight into a caller's buffer with libcbor's encoder functions
 * (cbor_encode_*), no item trees, no allocation. Private to src/smp/.
 *
 * Calls never write past the buffer: the first item that does not fit marks the writer full,
 * and every later call does nothing; cw_finish() then reports -ENOBUFS. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cbor_writer {
	uint8_t *buf;
	size_t size;
	size_t pos;
	bool full;
};

static inline void cw_init(struct cbor_writer *w, uint8_t *buf, size_t size)
{
	*w = (struct cbor_writer){.buf = buf, .size = buf ? size : 0};
}

void cw_map(struct cbor_writer *w, size_t entries);
void cw_array(struct cbor_writer *w, size_t items);
void cw_uint(struct cbor_writer *w, uint64_t v);
void cw_int(struct cbor_writer *w, int64_t v);
void cw_bool(struct cbor_writer *w, bool v);
void cw_text(struct cbor_writer *w, const char *s, size_t len);
void cw_bytes(struct cbor_writer *w, const void *p, size_t len);

/* A text string key from a C string. */
static inline void cw_key(struct cbor_writer *w, const char *key)
{
	cw_text(w, key, strlen(key));
}

/* Bytes written, or -ENOBUFS when something did not fit. */
int cw_finish(const struct cbor_writer *w);

/* Encoded size of a CBOR head whose argument is v (RFC 8949 3.1): 1, 2, 3, 5 or 9 bytes. */
static inline size_t cbor_head_size(uint64_t v)
{
	return v < 24 ? 1 : v <= UINT8_MAX ? 2 : v <= UINT16_MAX ? 3 : v <= UINT32_MAX ? 5 : 9;
}
