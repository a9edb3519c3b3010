/* h4.c — the H4 stream framer (Core 5.4 Vol 4 Part A): packets found in a byte stream by their
 * indicator and header, bytes without a valid indicator reported and dropped. */
#include <stdio.h>
#include <string.h>

#include "bt/h4.h"
#include "util/bytes.h"
#include "util/macro.h"

/* Under AddressSanitizer the unused part of the reassembly buffer is poisoned while a packet is
 * handed out, so a decoder reading past the end of a packet is caught as it would be with an
 * exactly sized buffer (fuzz/fuzz-bt-host.c relies on it). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H4_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define H4_ASAN 1
#endif
#ifdef H4_ASAN
#include <sanitizer/asan_interface.h>
#define h4_poison(p, n)	  ASAN_POISON_MEMORY_REGION(p, n)
#define h4_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define h4_poison(p, n)	  ((void)(p), (void)(n))
#define h4_unpoison(p, n) ((void)(p), (void)(n))
#endif

size_t h4_header_len(uint8_t type)
{
	switch (type) {
	case H4_CMD: /* opcode, length */
	case H4_SCO: /* handle, length */
		return 3;
	case H4_ACL: /* handle+flags, LE16 length */
	case H4_ISO: /* handle+flags, 14-bit length */
		return 4;
	case H4_EVT: /* code, length */
		return 2;
	default:
		return 0;
	}
}

size_t h4_packet_len(const uint8_t *buf)
{
	switch (buf[0]) {
	case H4_CMD:
	case H4_SCO:
		return 1 + 3 + buf[3];
	case H4_ACL:
		return 1 + 4 + get_le16(buf + 3);
	case H4_ISO:
		return 1 + 4 + (get_le16(buf + 3) & 0x3fff);
	case H4_EVT:
		return 1 + 2 + buf[2];
	default:
		return 0;
	}
}

static void h4_report_garbage(size_t *dropped, h4_garbage_fn garbage, void *user_data)
{
	char what[80];

	if (!*dropped)
		return;
	snprintf(what, sizeof(what), "H4: %zu byte(s) with no valid packet indicator dropped",
		 *dropped);
	*dropped = 0;
	if (garbage)
		garbage(what, user_data);
}

void h4_parser_feed(struct h4_parser *p, const uint8_t *data, size_t len, h4_packet_fn fn,
		    h4_garbage_fn garbage, void *user_data)
{
	size_t dropped = 0;

	while (len > 0) {
		size_t want, n;

		if (p->len == 0) {
			if (h4_header_len(data[0]) == 0) {
				dropped++;
				data++;
				len--;
				continue;
			}
			h4_report_garbage(&dropped, garbage, user_data);
		}
		want = p->need ? p->need : 1 + h4_header_len(p->len ? p->buf[0] : data[0]);
		n = MIN(len, want - p->len);
		memcpy(p->buf + p->len, data, n);
		p->len += n;
		data += n;
		len -= n;
		if (p->len < want)
			continue;
		if (!p->need) {
			p->need = h4_packet_len(p->buf);
			if (p->len < p->need)
				continue;
		}
		h4_poison(p->buf + p->len, sizeof(p->buf) - p->len);
		fn(p->buf[0], p->buf + 1, p->len - 1, user_data);
		h4_unpoison(p->buf + p->len, sizeof(p->buf) - p->len);
		p->len = 0;
		p->need = 0;
	}
	h4_report_garbage(&dropped, garbage, user_data);
}
