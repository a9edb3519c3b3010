/* console.c — Zephyr's "SMP over console" framing: a line encoder and a streaming decoder that
 * survives any byte stream. The format and its sources are described in otad/console.h. */
#include "otad/console.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "util/bytes.h"
#include "util/macro.h"

#define MARKER_LEN 2
/* Per line: marker + base64 + '\n' <= 127, in whole 4-character groups: 124 characters carrying
 * 93 bytes. The mcumgr Go client and the smp Python package cut lines at this size; Zephyr's
 * own encoder (serial_util.c) stays within it too. */
#define LINE_B64_MAX ((CONSOLE_LINE_MAX - MARKER_LEN - 1) / 4 * 4)
#define LINE_RAW_MAX (LINE_B64_MAX / 4 * 3)

static const uint8_t marker_pkt[MARKER_LEN] = {0x06, 0x09};
static const uint8_t marker_frag[MARKER_LEN] = {0x04, 0x14};

/* CRC-16/XMODEM, MSB first, four bits at a time: tab[i] is the CRC register after shifting the
 * nibble i through poly 0x1021. Source: Zephyr serial_util.c mcumgr_serial_calc_crc() =
 * crc16_itu_t(0x0000, ...), which its sys/crc.h documents as CRC-16/XMODEM for seed 0. */
static const uint16_t crc_nibble_tab[16] = {
	0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
	0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
};

uint16_t console_crc16(const uint8_t *buf, size_t len, uint16_t crc)
{
	for (size_t i = 0; i < len; i++) {
		crc = (uint16_t)(crc << 4) ^ crc_nibble_tab[(crc >> 12) ^ (buf[i] >> 4)];
		crc = (uint16_t)(crc << 4) ^ crc_nibble_tab[(crc >> 12) ^ (buf[i] & 0x0f)];
	}
	return crc;
}

size_t console_encoded_size(size_t pkt_len)
{
	size_t b64 = DIV_ROUND_UP(pkt_len + CONSOLE_OVERHEAD, 3) * 4;

	return b64 + DIV_ROUND_UP(b64, LINE_B64_MAX) * (MARKER_LEN + 1);
}

/* The encoded stream is <len><pkt><crc>; copy n bytes of it starting at off. */
static void gather(uint8_t *dst, size_t off, size_t n, const uint8_t head[2], const uint8_t *pkt,
		   size_t len, const uint8_t tail[2])
{
	for (size_t i = 0; i < n; i++, off++) {
		if (off < 2)
			dst[i] = head[off];
		else if (off < 2 + len)
			dst[i] = pkt[off - 2];
		else
			dst[i] = tail[off - 2 - len];
	}
}

ssize_t console_encode(const uint8_t *pkt, size_t len, uint8_t *out, size_t size)
{
	uint8_t head[2], tail[2], raw[LINE_RAW_MAX];
	size_t total = len + CONSOLE_OVERHEAD, off = 0;
	uint8_t *p = out;

	if (len > CONSOLE_PKT_MAX)
		return -EMSGSIZE;
	if (size < console_encoded_size(len))
		return -ENOBUFS;

	put_be16(head, (uint16_t)(len + 2));
	put_be16(tail, console_crc16(pkt, len, 0));
	while (off < total) {
		size_t n = MIN(total - off, (size_t)LINE_RAW_MAX);
		int m;

		gather(raw, off, n, head, pkt, len, tail);
		memcpy(p, off == 0 ? marker_pkt : marker_frag, MARKER_LEN);
		/* EVP_EncodeBlock NUL-terminates: the NUL lands where the newline goes. */
		m = EVP_EncodeBlock(p + MARKER_LEN, raw, (int)n);
		p += MARKER_LEN + m;
		*p++ = '\n';
		off += n;
	}
	return p - out;
}

/* What the bytes of the current line are: text, or a frame whose marker was seen. */
enum line_kind {
	LINE_TEXT,
	LINE_START, /* after 0x06 0x09 */
	LINE_CONT,  /* after 0x04 0x14 */
};

struct console_decoder {
	struct console_decoder_ops ops;
	void *user_data;
	unsigned generation; /* bumped by reset: a feed in progress stops */

	uint8_t line[CONSOLE_TEXT_MAX];
	size_t line_len;
	enum line_kind kind;
	uint8_t prev;	/* the line's byte before this one: half a marker? */
	bool text_cont; /* the line is text whose first part was already delivered */
	bool skipping;	/* an overlong frame: drop bytes up to the newline or the next marker */

	bool in_packet;
	size_t pkt_want; /* the length field: packet + CRC */
	size_t pkt_have;
	uint8_t pkt[CONSOLE_PKT_MAX + 2];
};

struct console_decoder *console_decoder_new(const struct console_decoder_ops *ops, void *user_data)
{
	struct console_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (ops)
		d->ops = *ops;
	d->user_data = user_data;
	return d;
}

struct console_decoder *console_decoder_free(struct console_decoder *d)
{
	free(d);
	return NULL;
}

static void line_clear(struct console_decoder *d)
{
	d->line_len = 0;
	d->kind = LINE_TEXT;
	d->prev = 0;
	d->text_cont = false;
	d->skipping = false;
}

void console_decoder_reset(struct console_decoder *d)
{
	d->generation++;
	line_clear(d);
	d->in_packet = false;
}

_printf_(2, 3) static void report(struct console_decoder *d, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	if (!d->ops.discard)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	d->ops.discard(why, d->user_data);
}

static void text(struct console_decoder *d, const uint8_t *l, size_t n)
{
	if (d->ops.text)
		d->ops.text((const char *)l, n, d->user_data);
}

/* Ends the partial packet; returns a suffix for a discard reason naming what was lost. */
static const char *drop_packet(struct console_decoder *d, char *buf, size_t size)
{
	if (!d->in_packet)
		return "";
	d->in_packet = false;
	snprintf(buf, size, "; dropped partial packet (%zu of %zu bytes)", d->pkt_have,
		 d->pkt_want);
	return buf;
}

static bool is_b64(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Strict base64: whole groups, '=' only as the last one or two characters. EVP_DecodeBlock is
 * lenient ('=' anywhere decodes as zero bits, whitespace is trimmed) and counts padding in its
 * result, so validate first and subtract the padding. Returns bytes or -EINVAL. */
static int b64_decode(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t pad = 0;
	int r;

	if (n % 4 != 0)
		return -EINVAL;
	if (n == 0)
		return 0;
	while (pad < 2 && in[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!is_b64(in[i]))
			return -EINVAL;
	r = EVP_DecodeBlock(out, in, (int)n);
	if (r < 0 || (size_t)r < pad)
		return -EINVAL;
	return r - (int)pad;
}

static void append(struct console_decoder *d, const uint8_t *data, size_t n)
{
	uint16_t got, calc;

	if (d->pkt_have + n > d->pkt_want) {
		report(d, "frame overruns the length field: %zu bytes for a length of %zu",
		       d->pkt_have + n, d->pkt_want);
		d->in_packet = false;
		return;
	}
	memcpy(d->pkt + d->pkt_have, data, n);
	d->pkt_have += n;
	if (d->pkt_have < d->pkt_want)
		return;

	d->in_packet = false;
	got = get_be16(d->pkt + d->pkt_want - 2);
	calc = console_crc16(d->pkt, d->pkt_want - 2, 0);
	if (got != calc) {
		report(d, "CRC mismatch: got 0x%04x, computed 0x%04x", got, calc);
		return;
	}
	if (d->ops.packet)
		d->ops.packet(d->pkt, d->pkt_want - 2, d->user_data);
}

static void start_frame(struct console_decoder *d, const uint8_t *b64, size_t n)
{
	uint8_t raw[LINE_RAW_MAX + 3];
	char lost[96];
	size_t want;
	int r;

	if (d->in_packet)
		report(d, "start frame inside a packet%s", drop_packet(d, lost, sizeof(lost)));
	r = b64_decode(b64, n, raw);
	if (r < 0) {
		report(d, "invalid base64 in start frame");
		return;
	}
	if (r < 2) {
		report(d, "start frame too short for the length field (%d bytes)", r);
		return;
	}
	want = get_be16(raw);
	if (want < 2) {
		report(d, "length %zu is shorter than the CRC", want);
		return;
	}
	if (want - 2 > CONSOLE_PKT_MAX) {
		report(d, "length %zu exceeds %d", want - 2, CONSOLE_PKT_MAX);
		return;
	}
	d->in_packet = true;
	d->pkt_want = want;
	d->pkt_have = 0;
	append(d, raw + 2, (size_t)r - 2);
}

static void continuation_frame(struct console_decoder *d, const uint8_t *b64, size_t n)
{
	uint8_t raw[LINE_RAW_MAX + 3];
	char lost[96];
	int r;

	if (!d->in_packet) {
		report(d, "continuation frame without a start frame");
		return;
	}
	r = b64_decode(b64, n, raw);
	if (r < 0) {
		report(d, "invalid base64 in continuation frame%s",
		       drop_packet(d, lost, sizeof(lost)));
		return;
	}
	append(d, raw, (size_t)r);
}

static enum line_kind marker_kind(uint8_t a, uint8_t b)
{
	if (a == marker_pkt[0] && b == marker_pkt[1])
		return LINE_START;
	if (a == marker_frag[0] && b == marker_frag[1])
		return LINE_CONT;
	return LINE_TEXT;
}

static void overlong_frame(struct console_decoder *d, size_t n)
{
	char lost[96];

	report(d, "line longer than %d bytes (%s%zu)%s", CONSOLE_LINE_MAX,
	       d->skipping ? "over " : "", n, drop_packet(d, lost, sizeof(lost)));
}

/* A marker completed on this line. Zephyr's shell transport writes its frames straight to the
 * UART, past the shell's own output: a frame follows the prompt ("\e[1;32muart:~$ \e[m") or a
 * log message without newline on the same line. What came before the marker is text; a frame
 * that was still open lost its newline (a device reset, bytes dropped) and is dropped. */
static void frame_begins(struct console_decoder *d, enum line_kind kind)
{
	unsigned gen = d->generation;
	size_t n = d->line_len ? d->line_len - 1 : 0; /* the marker's first byte is the last */
	char lost[96];

	if (d->skipping) {
		/* the overlong frame was reported when it overflowed */
	} else if (d->kind != LINE_TEXT) {
		report(d, "frame cut short by a new frame marker%s",
		       d->kind == LINE_CONT ? drop_packet(d, lost, sizeof(lost)) : "");
	} else {
		while (n > 0 && d->line[n - 1] == '\r')
			n--;
		if (n > 0)
			text(d, d->line, n);
	}
	if (d->generation != gen)
		return; /* a callback reset the decoder */
	line_clear(d);
	d->kind = kind;
}

static void end_line(struct console_decoder *d)
{
	uint8_t *l = d->line;
	size_t n = d->line_len;
	enum line_kind kind = d->kind;
	bool skipped = d->skipping;

	line_clear(d);
	if (skipped)
		return;
	while (n > 0 && l[n - 1] == '\r')
		n--;
	if (kind == LINE_TEXT)
		text(d, l, n);
	else if (MARKER_LEN + n + 1 > CONSOLE_LINE_MAX)
		overlong_frame(d, MARKER_LEN + n + 1);
	else if (kind == LINE_START)
		start_frame(d, l, n);
	else
		continuation_frame(d, l, n);
}

/* The line buffer is full and the line goes on. */
static void line_full(struct console_decoder *d)
{
	if (d->kind != LINE_TEXT) {
		d->skipping = true;
		overlong_frame(d, MARKER_LEN + d->line_len);
	} else {
		text(d, d->line, d->line_len);
		d->text_cont = true;
	}
	d->line_len = 0;
}

void console_decoder_feed(struct console_decoder *d, const uint8_t *buf, size_t len)
{
	unsigned gen = d->generation;

	for (size_t i = 0; i < len && d->generation == gen; i++) {
		uint8_t c = buf[i], prev = d->prev;
		enum line_kind kind;

		d->prev = c;
		if (c == '\n') {
			end_line(d);
			continue;
		}
		kind = marker_kind(prev, c);
		if (kind != LINE_TEXT) {
			frame_begins(d, kind);
			continue;
		}
		if (d->skipping)
			continue;
		if (d->line_len == sizeof(d->line)) {
			line_full(d);
			if (d->generation != gen || d->skipping)
				continue;
		}
		d->line[d->line_len++] = c;
	}
}
