/* cbor-writer.c — bounded CBOR writer over libcbor's encoder functions. */
#include <errno.h>
#include <limits.h>

#include <cbor.h>

#include "smp/cbor-writer.h"

static unsigned char *at(const struct cbor_writer *w)
{
	return w->buf ? w->buf + w->pos : NULL;
}

/* libcbor's encoders write all of an item head or nothing and return 0 when it does not fit. */
static void advance(struct cbor_writer *w, size_t n)
{
	if (n == 0)
		w->full = true;
	else
		w->pos += n;
}

void cw_map(struct cbor_writer *w, size_t entries)
{
	if (!w->full)
		advance(w, cbor_encode_map_start(entries, at(w), w->size - w->pos));
}

void cw_array(struct cbor_writer *w, size_t items)
{
	if (!w->full)
		advance(w, cbor_encode_array_start(items, at(w), w->size - w->pos));
}

void cw_uint(struct cbor_writer *w, uint64_t v)
{
	if (!w->full)
		advance(w, cbor_encode_uint(v, at(w), w->size - w->pos));
}

void cw_int(struct cbor_writer *w, int64_t v)
{
	if (w->full)
		return;
	if (v >= 0)
		advance(w, cbor_encode_uint((uint64_t)v, at(w), w->size - w->pos));
	else /* RFC 8949 3.1, major type 1: the argument is -1 - v */
		advance(w, cbor_encode_negint((uint64_t)(-(v + 1)), at(w), w->size - w->pos));
}

void cw_bool(struct cbor_writer *w, bool v)
{
	if (!w->full)
		advance(w, cbor_encode_bool(v, at(w), w->size - w->pos));
}

static void payload(struct cbor_writer *w, const void *p, size_t len)
{
	if (w->full)
		return;
	if (len > w->size - w->pos) {
		w->full = true;
		return;
	}
	if (len > 0)
		memcpy(at(w), p, len);
	w->pos += len;
}

void cw_text(struct cbor_writer *w, const char *s, size_t len)
{
	if (!w->full)
		advance(w, cbor_encode_string_start(len, at(w), w->size - w->pos));
	payload(w, s, len);
}

void cw_bytes(struct cbor_writer *w, const void *p, size_t len)
{
	if (!w->full)
		advance(w, cbor_encode_bytestring_start(len, at(w), w->size - w->pos));
	payload(w, p, len);
}

int cw_finish(const struct cbor_writer *w)
{
	if (w->full || w->pos > INT_MAX)
		return -ENOBUFS;
	return (int)w->pos;
}
