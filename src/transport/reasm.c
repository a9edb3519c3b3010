/* reasm.c — SMP packets from BLE slices by the header's length (include/otad/reasm.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/reasm.h"
#include "util/bytes.h"
#include "util/macro.h"

/* Byte 0 of the SMP header: res:3 ver:2 op:3 from the most significant bit. */
#define SMP_RES_MASK 0xe0

struct reasm {
	struct reasm_params p;
	struct reasm_ops ops;
	void *user_data;
	uint8_t *buf;
	size_t cap;
	size_t len;	 /* bytes collected */
	size_t need;	 /* whole packet once the header is in, 0 before */
	unsigned resets; /* bumped by reasm_reset(): a callback reset the rest of the slice */
};

struct reasm *reasm_new(const struct reasm_params *p, const struct reasm_ops *ops, void *user_data)
{
	struct reasm *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (p)
		r->p = *p;
	if (!r->p.max_packet || r->p.max_packet > REASM_MAX_PACKET)
		r->p.max_packet = REASM_MAX_PACKET;
	r->p.max_packet = MAX(r->p.max_packet, (size_t)REASM_HDR_LEN);
	if (ops)
		r->ops = *ops;
	r->user_data = user_data;
	return r;
}

struct reasm *reasm_free(struct reasm *r)
{
	if (!r)
		return NULL;
	free(r->buf);
	free(r);
	return NULL;
}

void reasm_reset(struct reasm *r)
{
	r->len = r->need = 0;
	r->resets++;
}

size_t reasm_pending(const struct reasm *r)
{
	return r->len;
}

static void discard(struct reasm *r, const char *fmt, ...) _printf_(2, 3);
static void discard(struct reasm *r, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	r->len = r->need = 0;
	if (!r->ops.discard)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	r->ops.discard(why, r->user_data);
}

static int reserve(struct reasm *r, size_t n)
{
	uint8_t *b;

	if (n <= r->cap)
		return 0;
	b = realloc(r->buf, n);
	if (!b)
		return -ENOMEM;
	r->buf = b;
	r->cap = n;
	return 0;
}

/* The header is complete in buf: check it and size the packet. false: dropped. */
static bool header_done(struct reasm *r)
{
	size_t total = REASM_HDR_LEN + get_be16(r->buf + 2);

	if (r->buf[0] & SMP_RES_MASK) {
		discard(r, "not an SMP header (reserved bits set in 0x%02x)", r->buf[0]);
		return false;
	}
	if (total > r->p.max_packet) {
		discard(r, "SMP header announces %zu bytes, more than the %zu accepted", total,
			r->p.max_packet);
		return false;
	}
	if (reserve(r, total) < 0) {
		discard(r, "out of memory for an SMP packet of %zu bytes", total);
		return false;
	}
	r->need = total;
	return true;
}

/* A packet is complete: hand it out and go idle. */
static void deliver(struct reasm *r)
{
	size_t n = r->need;

	r->len = r->need = 0;
	if (r->ops.packet)
		r->ops.packet(r->buf, n, r->user_data);
}

void reasm_feed(struct reasm *r, const uint8_t *slice, size_t len)
{
	size_t take, excess;
	unsigned resets;

	if (len == 0)
		return;
	if (r->len == 0 && r->p.strict && len < REASM_HDR_LEN)
		return discard(r, "slice of %zu bytes cannot start an SMP packet (header is %d)",
			       len, REASM_HDR_LEN);
	if (r->len < REASM_HDR_LEN) {
		if (reserve(r, REASM_HDR_LEN) < 0)
			return discard(r, "out of memory for an SMP header");
		take = MIN(len, REASM_HDR_LEN - r->len);
		memcpy(r->buf + r->len, slice, take);
		r->len += take;
		slice += take;
		len -= take;
		if (r->len < REASM_HDR_LEN)
			return;
		if (!header_done(r))
			return;
	}
	take = MIN(len, r->need - r->len);
	excess = len - take;
	if (excess && r->p.strict)
		return discard(r,
			       "slice runs %zu bytes past the end of a %zu-byte SMP packet: "
			       "packet dropped",
			       excess, r->need);
	memcpy(r->buf + r->len, slice, take);
	r->len += take;
	if (r->len < r->need)
		return;
	resets = r->resets;
	take = r->need;
	deliver(r);
	if (excess && resets == r->resets)
		discard(r,
			"%zu bytes after the end of a %zu-byte SMP packet in its last slice "
			"dropped",
			excess, take);
}
