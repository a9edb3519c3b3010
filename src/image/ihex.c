/* ihex.c — Intel HEX to bytes (Intel's "Hexadecimal Object File Format Specification", rev. A,
 * 1988): records ':' count addr16 type data checksum, types 00 data, 01 end of file, 02 extended
 * segment address, 03 start segment address, 04 extended linear address, 05 start linear
 * address. A signed MCUboot image as hex (zephyr.signed.hex, imgtool's --hex output) is one
 * contiguous block at its slot's flash address, so gaps and overlaps are errors here, not
 * something to fill with 0xff. */
#include "image/image-internal.h"
#include "util/macro.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	REC_DATA = 0x00,
	REC_EOF = 0x01,
	REC_EXT_SEGMENT = 0x02,
	REC_START_SEGMENT = 0x03,
	REC_EXT_LINEAR = 0x04,
	REC_START_LINEAR = 0x05,
};

struct ihex_rec {
	uint64_t addr;
	size_t off; /* of its bytes in the data buffer */
	uint8_t len;
	unsigned line;
};

struct ihex {
	struct ihex_rec *recs;
	size_t n, cap;
	uint8_t *data;
	size_t data_len, data_cap;
	uint32_t base;	   /* from the last 02/04 record */
	unsigned eof_line; /* 0 until the end-of-file record */
	struct img_diag *d;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One record line (without its line ending) to bytes: count, addr hi, addr lo, type, data...,
 * checksum. Returns the number of bytes. */
static int decode_line(struct ihex *h, const char *s, size_t n, unsigned line, uint8_t *b)
{
	size_t nb;

	if (s[0] != ':')
		return img_diag_set(h->d, IMG_ERR_IHEX, line, "a record starts with ':', not '%c'",
				    s[0] >= 0x20 && s[0] < 0x7f ? s[0] : '?');
	if (n < 11 || (n - 1) % 2)
		return img_diag_set(h->d, IMG_ERR_IHEX, line,
				    "record of %zu characters: too short or an odd number of hex "
				    "digits",
				    n);
	nb = (n - 1) / 2;
	if (nb > 5 + 255)
		return img_diag_set(h->d, IMG_ERR_IHEX, line, "record longer than 255 data bytes");
	for (size_t i = 0; i < nb; i++) {
		int hi = hexval(s[1 + 2 * i]), lo = hexval(s[2 + 2 * i]);

		if (hi < 0 || lo < 0)
			return img_diag_set(h->d, IMG_ERR_IHEX, line,
					    "'%c' at column %zu is not a hex digit",
					    hi < 0 ? s[1 + 2 * i] : s[2 + 2 * i],
					    hi < 0 ? 2 + 2 * i : 3 + 2 * i);
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	if (nb != (size_t)b[0] + 5)
		return img_diag_set(h->d, IMG_ERR_IHEX, line,
				    "byte count %u does not match the record's %zu data bytes",
				    b[0], nb - 5);
	return (int)nb;
}

static int check_sum(struct ihex *h, const uint8_t *b, size_t nb, unsigned line)
{
	uint8_t sum = 0;

	for (size_t i = 0; i + 1 < nb; i++)
		sum = (uint8_t)(sum + b[i]);
	if ((uint8_t)(sum + b[nb - 1]) != 0)
		return img_diag_set(h->d, IMG_ERR_IHEX, line,
				    "bad checksum 0x%02x (expected 0x%02x)", b[nb - 1],
				    (uint8_t)(0x100 - sum));
	return 0;
}

static int add_data(struct ihex *h, const uint8_t *b, unsigned line)
{
	uint16_t off16 = (uint16_t)(b[1] << 8 | b[2]);
	uint8_t len = b[0];

	if (len == 0)
		return 0;
	if ((uint32_t)off16 + len > 0x10000)
		return img_diag_set(h->d, IMG_ERR_IHEX, line,
				    "data record at 0x%04x crosses the end of its 64 KiB segment",
				    off16);
	if (h->data_len + len > IMG_MAX_FILE_SIZE)
		return -EFBIG;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		struct ihex_rec *r = reallocarray(h->recs, cap, sizeof(*r));

		if (!r)
			return -ENOMEM;
		h->recs = r;
		h->cap = cap;
	}
	if (h->data_len + len > h->data_cap) {
		size_t cap = MAX(h->data_cap * 2, (size_t)64 * 1024);
		uint8_t *p = realloc(h->data, cap);

		if (!p)
			return -ENOMEM;
		h->data = p;
		h->data_cap = cap;
	}
	h->recs[h->n++] = (struct ihex_rec){
		.addr = (uint64_t)h->base + off16, .off = h->data_len, .len = len, .line = line};
	memcpy(h->data + h->data_len, b + 4, len);
	h->data_len += len;
	return 0;
}

static int need_len(struct ihex *h, const uint8_t *b, uint8_t want, unsigned line)
{
	if (b[0] == want)
		return 0;
	return img_diag_set(h->d, IMG_ERR_IHEX, line,
			    "record type %02x needs %u data bytes, not %u", b[3], want, b[0]);
}

static int do_record(struct ihex *h, const uint8_t *b, unsigned line)
{
	int r;

	switch (b[3]) {
	case REC_DATA:
		return add_data(h, b, line);
	case REC_EOF:
		r = need_len(h, b, 0, line);
		if (r == 0)
			h->eof_line = line;
		return r;
	case REC_EXT_SEGMENT:
	case REC_EXT_LINEAR:
		r = need_len(h, b, 2, line);
		if (r == 0)
			h->base = (uint32_t)(b[4] << 8 | b[5]) << (b[3] == REC_EXT_LINEAR ? 16 : 4);
		return r;
	case REC_START_SEGMENT:
	case REC_START_LINEAR:
		return need_len(h, b, 4, line); /* an entry point: nothing to place */
	default:
		return img_diag_set(h->d, IMG_ERR_IHEX, line, "unknown record type %02x", b[3]);
	}
}

static int rec_cmp(const void *a, const void *b)
{
	const struct ihex_rec *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Records sorted by address must tile one block: no byte twice, none missing. */
static int assemble(struct ihex *h, uint8_t **ret, size_t *ret_len, uint32_t *ret_addr)
{
	uint8_t *out;
	size_t pos = 0;

	if (h->n == 0 || !h->data)
		return img_diag_set(h->d, IMG_ERR_IHEX, h->eof_line, "no data records");
	qsort(h->recs, h->n, sizeof(*h->recs), rec_cmp);
	for (size_t i = 1; i < h->n; i++) {
		const struct ihex_rec *p = &h->recs[i - 1], *c = &h->recs[i];
		uint64_t end = p->addr + p->len;

		if (c->addr < end)
			return img_diag_set(
				h->d, IMG_ERR_IHEX, c->line,
				"data at 0x%08llx overlaps line %u's (0x%08llx..0x%08llx)",
				(unsigned long long)c->addr, p->line, (unsigned long long)p->addr,
				(unsigned long long)end - 1);
		if (c->addr > end)
			return img_diag_set(
				h->d, IMG_ERR_IHEX, c->line,
				"gap of %llu bytes before 0x%08llx: a signed image is one "
				"contiguous block (is this a merged hex with the bootloader?)",
				(unsigned long long)(c->addr - end), (unsigned long long)c->addr);
	}
	out = malloc(h->data_len);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < h->n; i++) {
		memcpy(out + pos, h->data + h->recs[i].off, h->recs[i].len);
		pos += h->recs[i].len;
	}
	*ret = out;
	*ret_len = pos;
	*ret_addr = (uint32_t)h->recs[0].addr;
	return 0;
}

static int parse_lines(struct ihex *h, const char *text, size_t len)
{
	uint8_t b[5 + 255] = {0};
	unsigned line = 0;
	int r;

	for (size_t pos = 0; pos < len;) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + (nl ? 1 : 0);
		line++;
		while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == 0)
			continue; /* blank lines carry nothing */
		if (h->eof_line)
			return img_diag_set(h->d, IMG_ERR_IHEX, line,
					    "record after the end-of-file record of line %u",
					    h->eof_line);
		r = decode_line(h, s, n, line, b);
		if (r < 0)
			return r;
		r = check_sum(h, b, (size_t)r, line);
		if (r < 0)
			return r;
		r = do_record(h, b, line);
		if (r < 0)
			return r;
	}
	if (!h->eof_line)
		return img_diag_set(h->d, IMG_ERR_IHEX, line, "no end-of-file record (type 01)");
	if (h->n == 0)
		return img_diag_set(h->d, IMG_ERR_IHEX, h->eof_line, "no data records");
	return 0;
}

int img_ihex_decode(const char *text, size_t len, uint8_t **ret, size_t *ret_len,
		    uint32_t *ret_addr, struct img_diag *d)
{
	struct ihex h = {.d = d};
	int r;

	r = parse_lines(&h, text, len);
	if (r == 0)
		r = assemble(&h, ret, ret_len, ret_addr);
	free(h.recs);
	free(h.data);
	return r;
}
