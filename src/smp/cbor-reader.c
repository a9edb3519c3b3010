/* cbor-reader.c — pull reader over cbor_stream_decode(): the streaming decoder reports one item
 * head per call through callbacks; we turn that into a struct cr_item and keep the position. */
#include <errno.h>

#include "smp/cbor-reader.h"

/* RFC 8949 3.2.1: the "break" stop code ends indefinite-length items. */
#define CBOR_BREAK 0xff

static void on_uint8(void *ctx, uint8_t v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_UINT, .u = v};
}
static void on_uint16(void *ctx, uint16_t v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_UINT, .u = v};
}
static void on_uint32(void *ctx, uint32_t v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_UINT, .u = v};
}
static void on_uint64(void *ctx, uint64_t v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_UINT, .u = v};
}
static void on_negint8(void *ctx, uint8_t v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_NEGINT, .u = v};
}
static void on_negint16(void *ctx, uint16_t v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_NEGINT, .u = v};
}
static void on_negint32(void *ctx, uint32_t v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_NEGINT, .u = v};
}
static void on_negint64(void *ctx, uint64_t v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_NEGINT, .u = v};
}
static void on_bytes(void *ctx, cbor_data data, size_t len)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_BYTES, .data = data, .len = len};
}
static void on_bytes_indef(void *ctx)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_BYTES, .indef = true};
}
static void on_text(void *ctx, cbor_data data, size_t len)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_TEXT, .data = data, .len = len};
}
static void on_text_indef(void *ctx)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_TEXT, .indef = true};
}
static void on_array(void *ctx, size_t n)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_ARRAY, .u = n};
}
static void on_array_indef(void *ctx)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_ARRAY, .indef = true};
}
static void on_map(void *ctx, size_t n)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_MAP, .u = n};
}
static void on_map_indef(void *ctx)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_MAP, .indef = true};
}
static void on_tag(void *ctx, uint64_t v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_TAG, .u = v};
}
static void on_float(void *ctx, float v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_FLOAT};
}
static void on_double(void *ctx, double v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_FLOAT};
}
static void on_undefined(void *ctx)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_UNDEFINED};
}
static void on_null(void *ctx)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_NULL};
}
static void on_bool(void *ctx, bool v)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_BOOL, .b = v};
}
static void on_break(void *ctx)
{
	*(struct cr_item *)ctx = (struct cr_item){.type = CR_BREAK};
}

void cr_init(struct cbor_reader *r, const uint8_t *buf, size_t len)
{
	*r = (struct cbor_reader){.buf = buf, .len = buf ? len : 0};

	/* Start from libcbor's no-op set so that a callback added by a newer libcbor is never
	 * NULL, then take every one we know. (libcbor 0.8's member comments are swapped for
	 * the string and container pairs; the types are what counts.) */
	r->cb = cbor_empty_callbacks;
	r->cb.uint8 = on_uint8;
	r->cb.uint16 = on_uint16;
	r->cb.uint32 = on_uint32;
	r->cb.uint64 = on_uint64;
	r->cb.negint8 = on_negint8;
	r->cb.negint16 = on_negint16;
	r->cb.negint32 = on_negint32;
	r->cb.negint64 = on_negint64;
	r->cb.byte_string = on_bytes;
	r->cb.byte_string_start = on_bytes_indef;
	r->cb.string = on_text;
	r->cb.string_start = on_text_indef;
	r->cb.array_start = on_array;
	r->cb.indef_array_start = on_array_indef;
	r->cb.map_start = on_map;
	r->cb.indef_map_start = on_map_indef;
	r->cb.tag = on_tag;
	r->cb.float2 = on_float;
	r->cb.float4 = on_float;
	r->cb.float8 = on_double;
	r->cb.undefined = on_undefined;
	r->cb.null = on_null;
	r->cb.boolean = on_bool;
	r->cb.indef_break = on_break;
}

int cr_fail(struct cbor_reader *r, const char *why)
{
	r->err = why;
	return -EBADMSG;
}

/* Reads any head, break included. */
static int read_raw(struct cbor_reader *r, struct cr_item *ret)
{
	struct cbor_decoder_result res;

	/* Anything a callback we did not install could report is treated as a simple value. */
	*ret = (struct cr_item){.type = CR_UNDEFINED};
	if (r->pos >= r->len)
		return cr_fail(r, "truncated CBOR");

	res = cbor_stream_decode(r->buf + r->pos, r->len - r->pos, &r->cb, ret);
	if (res.status == CBOR_DECODER_NEDATA)
		return cr_fail(r, "truncated CBOR");
	if (res.status != CBOR_DECODER_FINISHED || res.read == 0 || res.read > r->len - r->pos)
		return cr_fail(r, "malformed CBOR (reserved or unassigned initial byte)");
	r->pos += res.read;
	return 0;
}

int cr_read(struct cbor_reader *r, struct cr_item *ret)
{
	if (read_raw(r, ret) < 0)
		return -EBADMSG;
	/* Breaks are consumed only by cr_iter_next() and the string-chunk walk below. */
	if (ret->type == CR_BREAK)
		return cr_fail(r, "malformed CBOR (break outside an indefinite-length item)");
	return 0;
}

int cr_iter_init(struct cbor_reader *r, const struct cr_item *it, struct cr_iter *ret)
{
	size_t avail = r->len - r->pos;

	*ret = (struct cr_iter){.indef = it->indef, .left = it->u};
	if (it->indef)
		return 0;
	/* Every array element takes at least one byte, every map entry two. */
	if (it->type == CR_MAP ? it->u > avail / 2 : it->u > avail)
		return cr_fail(r, "truncated CBOR (container longer than the message)");
	return 0;
}

int cr_iter_next(struct cbor_reader *r, struct cr_iter *iter)
{
	if (!iter->indef) {
		if (iter->left == 0)
			return 0;
		iter->left--;
		return 1;
	}
	if (r->pos >= r->len)
		return cr_fail(r, "truncated CBOR");
	if (r->buf[r->pos] == CBOR_BREAK) {
		r->pos++;
		return 0;
	}
	return 1;
}

/* RFC 8949 3.2.3: the chunks of an indefinite-length string are definite strings of the same
 * major type, up to a break. */
static int skip_chunks(struct cbor_reader *r, enum cr_type type)
{
	struct cr_item chunk;

	for (;;) {
		if (r->pos >= r->len)
			return cr_fail(r, "truncated CBOR");
		if (r->buf[r->pos] == CBOR_BREAK) {
			r->pos++;
			return 0;
		}
		if (cr_read(r, &chunk) < 0)
			return -EBADMSG;
		if (chunk.type != type || chunk.indef)
			return cr_fail(r, "malformed CBOR (bad chunk in indefinite-length string)");
	}
}

static int skip_at(struct cbor_reader *r, unsigned depth);

/* The rest of an item whose head it is: its tagged item, string chunks or container entries. */
/* NOLINTNEXTLINE(misc-no-recursion): depth < CR_MAX_DEPTH, checked in skip_at() */
static int skip_rest_at(struct cbor_reader *r, const struct cr_item *it, unsigned depth)
{
	struct cr_iter iter;
	int k;

	switch (it->type) {
	case CR_TAG:
		return skip_at(r, depth + 1);
	case CR_BYTES:
	case CR_TEXT:
		return it->indef ? skip_chunks(r, it->type) : 0;
	case CR_ARRAY:
	case CR_MAP:
		if (cr_iter_init(r, it, &iter) < 0)
			return -EBADMSG;
		while ((k = cr_iter_next(r, &iter)) > 0) {
			if (skip_at(r, depth + 1) < 0)
				return -EBADMSG;
			if (it->type == CR_MAP && skip_at(r, depth + 1) < 0)
				return -EBADMSG;
		}
		return k;
	default:
		return 0;
	}
}

/* NOLINTNEXTLINE(misc-no-recursion): depth < CR_MAX_DEPTH */
static int skip_at(struct cbor_reader *r, unsigned depth)
{
	struct cr_item it;

	if (depth >= CR_MAX_DEPTH)
		return cr_fail(r, "CBOR nested too deeply");
	if (cr_read(r, &it) < 0)
		return -EBADMSG;
	return skip_rest_at(r, &it, depth);
}

int cr_skip(struct cbor_reader *r)
{
	return skip_at(r, 0);
}

int cr_skip_rest(struct cbor_reader *r, const struct cr_item *head)
{
	return skip_rest_at(r, head, 0);
}
