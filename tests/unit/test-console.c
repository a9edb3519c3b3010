/* test-console.c — the SMP-over-console codec: CRC variant, golden frames, line limits, the
 * decoder under random splits, Zephyr-device-style framing, and every malformed input followed
 * by a good packet (the decoder resynchronises). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/console.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* CRC-16/XMODEM the textbook way, one bit at a time: an independent reference for the library's
 * nibble table. */
static uint16_t ref_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

static uint32_t rng_state = 0x12345678;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Counts go on past CAP_MAX; only the first CAP_MAX items are kept. */
#define CAP_MAX 64
struct cap {
	size_t npkt;
	uint8_t *pkt[CAP_MAX];
	size_t pkt_len[CAP_MAX];
	size_t ntext;
	char *text[CAP_MAX];
	size_t text_len[CAP_MAX];
	size_t ndiscard;
	char discard[CAP_MAX][192];
	struct console_decoder *d;
	bool reset_on_packet;
};

static void cap_packet(const uint8_t *pkt, size_t len, void *userdata)
{
	struct cap *c = userdata;

	if (c->npkt < CAP_MAX) {
		c->pkt[c->npkt] = malloc(len + 1);
		memcpy(c->pkt[c->npkt], pkt, len);
		c->pkt_len[c->npkt] = len;
	}
	c->npkt++;
	if (c->reset_on_packet)
		console_decoder_reset(c->d);
}

static void cap_discard(const char *why, void *userdata)
{
	struct cap *c = userdata;

	if (c->ndiscard < CAP_MAX)
		snprintf(c->discard[c->ndiscard], sizeof(c->discard[0]), "%s", why);
	c->ndiscard++;
}

static void cap_text(const char *line, size_t len, void *userdata)
{
	struct cap *c = userdata;

	if (c->ntext < CAP_MAX) {
		c->text[c->ntext] = malloc(len + 1);
		memcpy(c->text[c->ntext], line, len);
		c->text[c->ntext][len] = 0;
		c->text_len[c->ntext] = len;
	}
	c->ntext++;
}

static const struct console_decoder_ops cap_ops = {
	.packet = cap_packet,
	.discard = cap_discard,
	.text = cap_text,
};

static void cap_init(struct cap *c)
{
	memset(c, 0, sizeof(*c));
	c->d = console_decoder_new(&cap_ops, c);
	assert_non_null(c->d);
}

static void cap_clear(struct cap *c)
{
	for (size_t i = 0; i < c->npkt && i < CAP_MAX; i++)
		free(c->pkt[i]);
	for (size_t i = 0; i < c->ntext && i < CAP_MAX; i++)
		free(c->text[i]);
	c->npkt = c->ntext = c->ndiscard = 0;
}

static void cap_done(struct cap *c)
{
	cap_clear(c);
	console_decoder_free(c->d);
}

static void feed_str(struct cap *c, const char *s)
{
	console_decoder_feed(c->d, (const uint8_t *)s, strlen(s));
}

/* Encodes with the library into a malloc'd buffer. */
static uint8_t *encode(const uint8_t *pkt, size_t len, size_t *ret_n)
{
	size_t size = console_encoded_size(len);
	uint8_t *out = malloc(size);
	ssize_t n = console_encode(pkt, len, out, size);

	assert_int_equal(n, (ssize_t)size);
	*ret_n = (size_t)n;
	return out;
}

/* SMP v2 echo request {"d": "hello"}: write (op 2) | version 1 << 3 = 0x0a, flags 0, length 9,
 * group 0 (OS), seq 0x42, id 0 (echo); CBOR a1 61 64 65 68 65 6c 6c 6f. */
static const uint8_t echo_req[] = {0x0a, 0x00, 0x00, 0x09, 0x00, 0x00, 0x42, 0x00, 0xa1,
				   0x61, 0x64, 0x65, 'h',  'e',	 'l',  'l',  'o'};

/* ---- CRC ----------------------------------------------------------------------------------- */

static void test_crc16_is_xmodem(void **state)
{
	uint8_t buf[1000];

	/* CRC-16/XMODEM check value (reveng catalogue). */
	assert_int_equal(console_crc16((const uint8_t *)"123456789", 9, 0), 0x31c3);
	assert_int_equal(ref_crc16((const uint8_t *)"123456789", 9), 0x31c3);
	/* Published with the smp Python package's encode() example ("...et4=" = 0x7a 0xde). */
	assert_int_equal(console_crc16((const uint8_t *)"Hello, world!", 13, 0), 0x7ade);
	assert_int_equal(console_crc16(NULL, 0, 0), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rng();
	for (size_t n = 0; n < sizeof(buf); n += 37) {
		assert_int_equal(console_crc16(buf, n, 0), ref_crc16(buf, n));
		/* Continuing from a previous value equals one pass. */
		assert_int_equal(
			console_crc16(buf + n / 2, n - n / 2, console_crc16(buf, n / 2, 0)),
			ref_crc16(buf, n));
	}
}

/* ---- encoder ------------------------------------------------------------------------------- */

static void test_encode_hello_world_matches_published_frame(void **state)
{
	/* The smp Python package documents encode(b"Hello, world!") as this single line. */
	static const char want[] = "\x06\x09"
				   "AA9IZWxsbywgd29ybGQhet4=\n";
	size_t n;
	uint8_t *out = encode((const uint8_t *)"Hello, world!", 13, &n);

	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
	free(out);
}

static void test_encode_echo_request_golden(void **state)
{
	/* By hand: len = 17 + 2 = 0x0013; CRC-16/XMODEM of echo_req = 0x4619; base64 of
	 * 00 13 | 0a 00 00 09 00 00 42 00 a1 61 64 65 68 65 6c 6c 6f | 46 19 (21 bytes, no pad). */
	static const char want[] = "\x06\x09"
				   "ABMKAAAJAABCAKFhZGVoZWxsb0YZ\n";
	size_t n;
	uint8_t *out;

	assert_int_equal(ref_crc16(echo_req, sizeof(echo_req)), 0x4619);
	out = encode(echo_req, sizeof(echo_req), &n);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
	free(out);
}

static void test_encode_1k_packet_into_continuation_lines(void **state)
{
	uint8_t pkt[1024], *out, *p;
	size_t n, lines = 0, b64_total = 0;
	struct cap c;

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7 + 3);
	out = encode(pkt, sizeof(pkt), &n);
	/* 1028 framed bytes -> 1372 base64 characters -> 12 lines (11 of 124 + one of 8). */
	for (p = out; p < out + n;) {
		uint8_t *nl = memchr(p, '\n', (size_t)(out + n - p));
		size_t len, b64;

		assert_non_null(nl);
		len = (size_t)(nl - p) + 1;
		b64 = len - 3;
		assert_true(len <= CONSOLE_LINE_MAX);
		assert_int_equal(b64 % 4, 0);
		if (lines == 0)
			assert_memory_equal(p, "\x06\x09", 2);
		else
			assert_memory_equal(p, "\x04\x14", 2);
		/* Padding only at the very end of the packet. */
		if (nl + 1 < out + n)
			assert_null(memchr(p, '=', len));
		b64_total += b64;
		lines++;
		p = nl + 1;
	}
	assert_int_equal(lines, 12);
	assert_int_equal(b64_total, 1372);
	assert_int_equal(n, 1372 + 12 * 3);

	cap_init(&c);
	console_decoder_feed(c.d, out, n);
	assert_int_equal(c.ndiscard, 0);
	assert_int_equal(c.npkt, 1);
	assert_int_equal(c.pkt_len[0], sizeof(pkt));
	assert_memory_equal(c.pkt[0], pkt, sizeof(pkt));
	cap_done(&c);
	free(out);
}

static void test_encode_sizes_and_errors(void **state)
{
	static uint8_t pkt[CONSOLE_PKT_MAX + 1];
	static uint8_t out[8192];

	/* Every size: the result equals console_encoded_size() and every line fits. */
	for (size_t len = 0; len <= CONSOLE_PKT_MAX; len += (len < 300 ? 1 : 97)) {
		ssize_t n = console_encode(pkt, len, out, sizeof(out));
		uint8_t *p = out, *nl;

		assert_int_equal(n, (ssize_t)console_encoded_size(len));
		while ((nl = memchr(p, '\n', (size_t)(out + n - p)))) {
			assert_true(nl - p + 1 <= CONSOLE_LINE_MAX);
			p = nl + 1;
		}
		assert_ptr_equal(p, out + n);
	}
	/* 93 framed bytes fill one line exactly (127 bytes); 94 need a second. */
	assert_int_equal(console_encoded_size(89), 127);
	assert_int_equal(console_encoded_size(90), 127 + 7);
	assert_int_equal(console_encode(pkt, CONSOLE_PKT_MAX + 1, out, sizeof(out)), -EMSGSIZE);
	assert_int_equal(console_encode(pkt, 100, out, console_encoded_size(100) - 1), -ENOBUFS);
	assert_int_equal(console_encode(pkt, 100, out, 0), -ENOBUFS);
}

/* ---- decoder: good input ------------------------------------------------------------------- */

static void test_decode_published_python_frames(void **state)
{
	/* The smp Python package's decode() example: a 124-byte image upload request in 15
	 * frames of 12 base64 characters each, and its encode(line_length=8) example. */
	static const char *const lines[] = {
		"AH4KAAB0AAGa", "AaZjbGVuDWNv", "ZmYYKmNzaGFM", "dHJ1c3QgbWUg", "YnJvZGRhdGFY",
		"QAABAgMEBQYH", "CAkKCwwNDg8Q", "ERITFBUWFxgZ", "GhscHR4fICEi", "IyQlJicoKSor",
		"LC0uLzAxMjM0", "NTY3ODk6Ozw9", "Pj9laW1hZ2UA", "Z3VwZ3JhZGX0", "q4g=",
	};
	static const char small[] = "\x06\x09"
				    "AA9I\n\x04\x14ZWxs\n\x04\x14"
				    "bywg\n\x04\x14"
				    "d29y\n\x04\x14"
				    "bGQh\n\x04\x14"
				    "et4=\n";
	static const uint8_t hdr[] = {0x0a, 0x00, 0x00, 0x74, 0x00, 0x01, 0x9a, 0x01};
	struct cap c;
	char buf[64];

	cap_init(&c);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s\n", i == 0 ? "\x06\x09" : "\x04\x14", lines[i]);
		feed_str(&c, buf);
		assert_int_equal(c.npkt, i + 1 == sizeof(lines) / sizeof(lines[0]) ? 1 : 0);
	}
	assert_int_equal(c.ndiscard, 0);
	assert_int_equal(c.pkt_len[0], 124);
	assert_memory_equal(c.pkt[0], hdr, sizeof(hdr));
	assert_non_null(memmem(c.pkt[0], 124, "trust me bro", 12));
	cap_clear(&c);

	feed_str(&c, small);
	assert_int_equal(c.ndiscard, 0);
	assert_int_equal(c.npkt, 1);
	assert_int_equal(c.pkt_len[0], 13);
	assert_memory_equal(c.pkt[0], "Hello, world!", 13);
	cap_done(&c);
}

/* Zephyr's device-side layout (serial_util.c mcumgr_serial_tx_pkt), re-derived here: 3-byte
 * groups base64'd one at a time; the first line carries the length, data[0] and up to 90 more
 * bytes (127 bytes on the wire), later lines 90 bytes (123 on the wire: its max_input is not
 * restored after the first line); the CRC never splits across lines, so a line ends early by
 * one byte when the CRC would not fit; with two data bytes left the tail is "XXXX" "YY==". */
static void b64_group(const uint8_t *raw, size_t n, uint8_t **p)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t v =
		(uint32_t)raw[0] << 16 | (n > 1 ? (uint32_t)raw[1] << 8 : 0) | (n > 2 ? raw[2] : 0);

	*(*p)++ = (uint8_t)a[v >> 18 & 63];
	*(*p)++ = (uint8_t)a[v >> 12 & 63];
	*(*p)++ = n > 1 ? (uint8_t)a[v >> 6 & 63] : '=';
	*(*p)++ = n > 2 ? (uint8_t)a[v & 63] : '=';
}

static size_t zephyr_encode(const uint8_t *data, size_t len, uint8_t *out)
{
	uint16_t crc = ref_crc16(data, len);
	size_t off = 0, max_input = (127 - 3) / 4 * 3;
	uint8_t *p = out, raw[3];
	bool first = true, last = false;

	while (off < len) {
		long rem;
		size_t todo;

		*p++ = first ? 0x06 : 0x04;
		*p++ = first ? 0x09 : 0x14;
		if (first) {
			raw[0] = (uint8_t)((len + 2) >> 8);
			raw[1] = (uint8_t)(len + 2);
			raw[2] = data[0];
			b64_group(raw, 3, &p);
			off++;
			max_input -= 3;
		}
		todo = len - off < max_input ? len - off : max_input;
		rem = (long)max_input - (long)(len - off);
		if (rem == 0 || rem == 1) {
			todo--;
			last = false;
		} else if (rem >= 2) {
			last = true;
		}
		for (; todo >= 3; todo -= 3, off += 3)
			b64_group(data + off, 3, &p);
		if (last) {
			size_t left = len - off;

			if (left == 0) {
				raw[0] = (uint8_t)(crc >> 8), raw[1] = (uint8_t)crc;
				b64_group(raw, 2, &p);
			} else if (left == 1) {
				raw[0] = data[off++], raw[1] = (uint8_t)(crc >> 8),
				raw[2] = (uint8_t)crc;
				b64_group(raw, 3, &p);
			} else {
				raw[0] = data[off++], raw[1] = data[off++],
				raw[2] = (uint8_t)(crc >> 8);
				b64_group(raw, 3, &p);
				raw[0] = (uint8_t)crc;
				b64_group(raw, 1, &p);
			}
		}
		*p++ = '\n';
		first = false;
	}
	return (size_t)(p - out);
}

static void test_decode_zephyr_device_framing(void **state)
{
	static uint8_t pkt[2048], out[4096];
	struct cap c;

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)rng();
	cap_init(&c);
	for (size_t len = 1; len <= sizeof(pkt); len += len < 200 ? 1 : 61) {
		size_t n = zephyr_encode(pkt, len, out);

		console_decoder_feed(c.d, out, n);
		assert_int_equal(c.ndiscard, 0);
		assert_int_equal(c.npkt, 1);
		assert_int_equal(c.pkt_len[0], len);
		assert_memory_equal(c.pkt[0], pkt, len);
		cap_clear(&c);
	}
	cap_done(&c);
}

static void test_decode_any_split_with_interleaved_text(void **state)
{
	static const size_t sizes[] = {1,  2,  3,  4,	5,   8,	  17,	88,   89,   90, 91,
				       92, 93, 94, 180, 181, 182, 1024, 2475, 4096, 7};
	static const char *const texts[] = {"*** Booting Zephyr OS build v3.5.0 ***",
					    "[00:00:01.000,000] <inf> app: hello", "",
					    "I: Image in the secondary slot is not valid!"};
	static uint8_t stream[65536], pkt[4096 + 32];
	size_t n = 0;
	struct cap c;

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)rng();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const char *t = texts[i % 4];
		size_t m;

		if (i % 2) {
			m = zephyr_encode(pkt + i, sizes[i], stream + n);
		} else {
			ssize_t r =
				console_encode(pkt + i, sizes[i], stream + n, sizeof(stream) - n);

			assert_true(r > 0);
			m = (size_t)r;
		}
		n += m;
		/* Log lines between packets, with CRLF on some. */
		memcpy(stream + n, t, strlen(t));
		n += strlen(t);
		if (i % 3 == 0)
			stream[n++] = '\r';
		stream[n++] = '\n';
	}

	cap_init(&c);
	for (unsigned round = 0; round < 50; round++) {
		size_t off = 0;

		while (off < n) {
			size_t chunk = round == 0 ? 1 : 1 + rng() % 300;

			if (chunk > n - off)
				chunk = n - off;
			console_decoder_feed(c.d, stream + off, chunk);
			off += chunk;
		}
		assert_int_equal(c.ndiscard, 0);
		assert_int_equal(c.npkt, sizeof(sizes) / sizeof(sizes[0]));
		assert_int_equal(c.ntext, sizeof(sizes) / sizeof(sizes[0]));
		for (size_t i = 0; i < c.npkt; i++) {
			assert_int_equal(c.pkt_len[i], sizes[i]);
			assert_memory_equal(c.pkt[i], pkt + i, sizes[i]);
			assert_string_equal(c.text[i], texts[i % 4]);
		}
		cap_clear(&c);
	}
	cap_done(&c);
}

static void test_decode_text_between_frames_keeps_packet(void **state)
{
	uint8_t pkt[300], *out, *second;
	size_t n;
	struct cap c;

	memset(pkt, 0x5a, sizeof(pkt));
	out = encode(pkt, sizeof(pkt), &n);
	second = (uint8_t *)memchr(out, '\n', n) + 1;
	cap_init(&c);
	console_decoder_feed(c.d, out, (size_t)(second - out));
	/* A log line (with a NUL) in the middle of a packet, as a device prints it. */
	console_decoder_feed(c.d, (const uint8_t *)"log\0line\r\n", 10);
	console_decoder_feed(c.d, second, (size_t)(out + n - second));
	assert_int_equal(c.ndiscard, 0);
	assert_int_equal(c.ntext, 1);
	assert_int_equal(c.text_len[0], 8);
	assert_memory_equal(c.text[0], "log\0line", 8);
	assert_int_equal(c.npkt, 1);
	assert_memory_equal(c.pkt[0], pkt, sizeof(pkt));
	cap_done(&c);
	free(out);
}

static void test_decode_long_text_line_in_pieces(void **state)
{
	char line[1001];
	size_t total = 0;
	struct cap c;

	memset(line, 'x', 1000);
	line[1000] = '\n';
	cap_init(&c);
	console_decoder_feed(c.d, (const uint8_t *)line, sizeof(line));
	assert_int_equal(c.ndiscard, 0);
	assert_true(c.ntext >= 4);
	for (size_t i = 0; i < c.ntext; i++) {
		assert_true(c.text_len[i] <= CONSOLE_TEXT_MAX);
		total += c.text_len[i];
	}
	assert_int_equal(total, 1000);
	cap_done(&c);
}

/* ---- decoder: Zephyr's shell transport ----------------------------------------------------- */

/* What smp_svr built with CONFIG_MCUMGR_TRANSPORT_SHELL prints once booted: its prompt ends no
 * line, and the frame of the first answer follows it on the same line. */
static const char shell_prompt[] = "\x1b[m\r\n\r\n\x1b[1;32muart:~$ \x1b[m";
/* The echo request's frame (test_encode_echo_request_golden). */
static const char echo_frame[] = "\x06\x09"
				 "ABMKAAAJAABCAKFhZGVoZWxsb0YZ\n";

static void test_decode_frame_right_after_the_shell_prompt(void **state)
{
	struct cap c;

	cap_init(&c);
	feed_str(&c, "*** Booting Zephyr OS build v3.7.0 ***\r\n");
	feed_str(&c, shell_prompt);
	feed_str(&c, echo_frame);
	assert_int_equal(c.ndiscard, 0);
	assert_int_equal(c.npkt, 1);
	assert_int_equal(c.pkt_len[0], sizeof(echo_req));
	assert_memory_equal(c.pkt[0], echo_req, sizeof(echo_req));
	assert_int_equal(c.ntext, 4);
	assert_string_equal(c.text[0], "*** Booting Zephyr OS build v3.7.0 ***");
	assert_string_equal(c.text[1], "\x1b[m");
	assert_string_equal(c.text[2], "");
	assert_string_equal(c.text[3], "\x1b[1;32muart:~$ \x1b[m");
	cap_clear(&c);
	/* the same a byte at a time, and after a "\n\r" line end (only CRs before the marker) */
	for (const char *p = shell_prompt; *p; p++)
		console_decoder_feed(c.d, (const uint8_t *)p, 1);
	for (const char *p = echo_frame; *p; p++)
		console_decoder_feed(c.d, (const uint8_t *)p, 1);
	feed_str(&c, "\r");
	feed_str(&c, echo_frame);
	assert_int_equal(c.ndiscard, 0);
	assert_int_equal(c.npkt, 2);
	assert_int_equal(c.ntext, 3);
	assert_string_equal(c.text[2], "\x1b[1;32muart:~$ \x1b[m");
	cap_done(&c);
}

/* The shell's log backend prints a message by erasing the prompt, writing the message and
 * printing the prompt again (shell_log_backend.c process_log_msg); SMP frames go straight to the
 * UART in between. A message between two frames of one packet leaves the second frame after the
 * reprinted prompt; a message without newline leaves the frame right after its text. */
static void test_decode_shell_log_messages_between_and_before_frames(void **state)
{
	static const char erase[] = "\x1b[8D\x1b[J", reprompt[] = "\x1b[1;32muart:~$ \x1b[m";
	uint8_t pkt[150], *out, *second;
	size_t n;
	struct cap c;

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 3);
	out = encode(pkt, sizeof(pkt), &n);
	second = (uint8_t *)memchr(out, '\n', n) + 1;
	cap_init(&c);
	feed_str(&c, shell_prompt);
	console_decoder_feed(c.d, out, (size_t)(second - out));
	feed_str(&c, erase);
	feed_str(&c, "[00:00:02.000,000] <inf> app: tick\r\n");
	feed_str(&c, reprompt);
	console_decoder_feed(c.d, second, (size_t)(out + n - second));
	feed_str(&c, erase);
	feed_str(&c, "app: no newline");
	feed_str(&c, reprompt);
	feed_str(&c, echo_frame);
	assert_int_equal(c.ndiscard, 0);
	assert_int_equal(c.npkt, 2);
	assert_int_equal(c.pkt_len[0], sizeof(pkt));
	assert_memory_equal(c.pkt[0], pkt, sizeof(pkt));
	assert_memory_equal(c.pkt[1], echo_req, sizeof(echo_req));
	assert_int_equal(c.ntext, 6);
	assert_string_equal(c.text[3], "\x1b[8D\x1b[J[00:00:02.000,000] <inf> app: tick");
	assert_string_equal(c.text[4], "\x1b[1;32muart:~$ \x1b[m");
	assert_string_equal(c.text[5], "\x1b[8D\x1b[Japp: no newline\x1b[1;32muart:~$ \x1b[m");
	cap_done(&c);
	free(out);
}

/* A marker after text that filled the line buffer: the text comes in pieces, none of them
 * with the marker's first byte. */
static void test_decode_marker_after_a_long_text(void **state)
{
	char line[CONSOLE_TEXT_MAX + 2];

	for (size_t len = CONSOLE_TEXT_MAX - 1; len <= CONSOLE_TEXT_MAX + 1; len++) {
		size_t total = 0;
		struct cap c;

		memset(line, 'x', len);
		cap_init(&c);
		console_decoder_feed(c.d, (const uint8_t *)line, len);
		feed_str(&c, echo_frame);
		assert_int_equal(c.ndiscard, 0);
		assert_int_equal(c.npkt, 1);
		for (size_t i = 0; i < c.ntext; i++) {
			assert_null(memchr(c.text[i], 0x06, c.text_len[i]));
			total += c.text_len[i];
		}
		assert_int_equal(total, len);
		cap_done(&c);
	}
}

static void test_decode_frame_cut_short_by_a_new_marker(void **state)
{
	uint8_t pkt[150], *out, *second;
	size_t n;
	struct cap c;

	cap_init(&c);
	/* a start frame that lost its end (the device reset), then a whole one on the same line */
	feed_str(&c, "\x06\x09"
		     "ABMKAAAJ");
	feed_str(&c, echo_frame);
	assert_int_equal(c.ndiscard, 1);
	assert_string_equal(c.discard[0], "frame cut short by a new frame marker");
	assert_int_equal(c.npkt, 1);
	assert_memory_equal(c.pkt[0], echo_req, sizeof(echo_req));
	assert_int_equal(c.ntext, 0);
	cap_clear(&c);
	/* a continuation cut short: its packet is lost, the next one decodes */
	memset(pkt, 7, sizeof(pkt));
	out = encode(pkt, sizeof(pkt), &n);
	second = (uint8_t *)memchr(out, '\n', n) + 1;
	console_decoder_feed(c.d, out, (size_t)(second - out));
	feed_str(&c, "\x04\x14"
		     "QUJD");
	console_decoder_feed(c.d, second, (size_t)(out + n - second));
	assert_int_equal(c.npkt, 0);
	assert_int_equal(c.ndiscard, 2);
	assert_string_equal(c.discard[0], "frame cut short by a new frame marker; dropped partial "
					  "packet (91 of 152 bytes)");
	assert_string_equal(c.discard[1], "continuation frame without a start frame");
	cap_clear(&c);
	console_decoder_feed(c.d, out, n);
	assert_int_equal(c.npkt, 1);
	assert_memory_equal(c.pkt[0], pkt, sizeof(pkt));
	cap_done(&c);
	free(out);
}

/* A long session as the shell transport prints it (prompt, log messages with and without
 * newline before and inside packets, Zephyr's and our line layouts), fed in random pieces. */
static void test_decode_shell_session_any_split(void **state)
{
	static const char *const noise[] = {
		"\x1b[8D\x1b[J[00:00:01.000,000] <inf> app: tick\r\n\x1b[1;32muart:~$ \x1b[m",
		"\x1b[8D\x1b[Japp: no newline\x1b[1;32muart:~$ \x1b[m",
		"",
	};
	static const size_t sizes[] = {1, 17, 89, 90, 93, 94, 181, 500, 2475, 4096, 8};
	static uint8_t stream[65536], pkt[4096 + 16], one[8192];
	size_t n = 0;
	struct cap c;

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)rng();
	memcpy(stream, shell_prompt, strlen(shell_prompt));
	n += strlen(shell_prompt);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const char *before = noise[i % 3], *inside = noise[(i + 1) % 3];
		size_t m = i % 2 ? zephyr_encode(pkt + i, sizes[i], one)
				 : (size_t)console_encode(pkt + i, sizes[i], one, sizeof(one));
		uint8_t *nl = (uint8_t *)memchr(one, '\n', m) + 1;

		memcpy(stream + n, before, strlen(before));
		n += strlen(before);
		memcpy(stream + n, one, (size_t)(nl - one)); /* the first frame */
		n += (size_t)(nl - one);
		if (nl < one + m) { /* a message between the first two frames */
			memcpy(stream + n, inside, strlen(inside));
			n += strlen(inside);
		}
		memcpy(stream + n, nl, (size_t)(one + m - nl));
		n += (size_t)(one + m - nl);
	}
	cap_init(&c);
	for (unsigned round = 0; round < 30; round++) {
		for (size_t off = 0, chunk; off < n; off += chunk) {
			chunk = round == 0 ? 1 : 1 + rng() % 300;
			chunk = chunk > n - off ? n - off : chunk;
			console_decoder_feed(c.d, stream + off, chunk);
		}
		assert_int_equal(c.ndiscard, 0);
		assert_int_equal(c.npkt, sizeof(sizes) / sizeof(sizes[0]));
		for (size_t i = 0; i < c.npkt; i++) {
			assert_int_equal(c.pkt_len[i], sizes[i]);
			assert_memory_equal(c.pkt[i], pkt + i, sizes[i]);
		}
		for (size_t i = 0; i < c.ntext && i < CAP_MAX; i++)
			assert_null(memchr(c.text[i], 0x06, c.text_len[i]));
		cap_clear(&c);
	}
	cap_done(&c);
}

/* ---- decoder: malformed input, then a good packet ------------------------------------------ */

struct bad_case {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	const char *why; /* substring of the one discard reason; NULL: no discard, one text */
};

#define BAD(n, s, w)                                                                               \
	{                                                                                          \
		n, (const uint8_t *)(s), sizeof(s) - 1, w                                          \
	}

static void test_decode_malformed_then_resync(void **state)
{
	static uint8_t overlong[200], huge[5000],
		nul_frame[] = "\x06\x09"
			      "AB\0D\n";
	uint8_t good_pkt[200], *good, *bad_crc, *partial;
	size_t good_n, bad_n, partial_n;
	char lenbuf[64];
	struct cap c;

	/* Frame lines past the 127-byte limit. */
	overlong[0] = 0x06, overlong[1] = 0x09;
	memset(overlong + 2, 'A', sizeof(overlong) - 3);
	overlong[sizeof(overlong) - 1] = '\n';
	huge[0] = 0x04, huge[1] = 0x14;
	memset(huge + 2, 'Q', sizeof(huge) - 3);
	huge[sizeof(huge) - 1] = '\n';

	for (size_t i = 0; i < sizeof(good_pkt); i++)
		good_pkt[i] = (uint8_t)(i ^ 0xa5);
	good = encode(good_pkt, sizeof(good_pkt), &good_n);
	/* Same packet, the CRC's base64 changed (204 framed bytes: no padding, the last group is
	 * the packet's last byte and the CRC). */
	bad_crc = encode(good_pkt, sizeof(good_pkt), &bad_n);
	bad_crc[bad_n - 3] = bad_crc[bad_n - 3] == 'A' ? 'B' : 'A'; /* still base64 */
	/* The first line of the good packet only (a packet cut short by a device reset). */
	partial = encode(good_pkt, sizeof(good_pkt), &partial_n);
	partial_n = (size_t)((uint8_t *)memchr(partial, '\n', partial_n) - partial) + 1;
	/* A start frame whose length field (5 + 2) is shorter than the data it carries. */
	snprintf(lenbuf, sizeof(lenbuf), "\x06\x09%s\n", "AAdoZWxsbyB3b3JsZA==");

	const struct bad_case cases[] = {
		BAD("garbage line is text", "\x01\x02\xff garbage\n", NULL),
		BAD("bad base64 char",
		    "\x06\x09"
		    "AB$D\n",
		    "invalid base64 in start frame"),
		BAD("pad in the middle",
		    "\x06\x09"
		    "AA=AAAAA\n",
		    "invalid base64"),
		BAD("base64 not whole groups",
		    "\x06\x09"
		    "AAEAA\n",
		    "invalid base64"),
		BAD("three pad chars",
		    "\x06\x09"
		    "A===\n",
		    "invalid base64"),
		BAD("continuation without start",
		    "\x04\x14"
		    "AAAA\n",
		    "continuation frame without a start frame"),
		BAD("start frame too short",
		    "\x06\x09"
		    "AA==\n",
		    "too short for the length field"),
		BAD("empty start frame", "\x06\x09\n", "too short for the length field"),
		BAD("length too big",
		    "\x06\x09"
		    "IAAA\n",
		    "length 8190 exceeds 4096"),
		BAD("length below CRC",
		    "\x06\x09"
		    "AAE=\n",
		    "shorter than the CRC"),
		{"NUL in frame", nul_frame, sizeof(nul_frame) - 1, "invalid base64"},
		{"overlong frame line", overlong, sizeof(overlong), "line longer than 127 bytes"},
		{"huge frame line", huge, sizeof(huge), "line longer than 127 bytes"},
		{"bad CRC", bad_crc, bad_n, "CRC mismatch: got 0x"},
		{"length overrun", (const uint8_t *)lenbuf, strlen(lenbuf),
		 "overruns the length field"},
		/* A packet cut short, then a new start frame: the old one is dropped (reported
		 * when the good packet's start frame arrives). */
		{"start inside a packet", partial, partial_n,
		 "start frame inside a packet; dropped partial packet (91 of 202 bytes)"},
	};

	cap_init(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *bc = &cases[i];

		console_decoder_feed(c.d, bc->bytes, bc->len);
		console_decoder_feed(c.d, good, good_n);
		if (bc->why) {
			if (c.ndiscard != 1 || !strstr(c.discard[0], bc->why))
				fail_msg("%s: want one discard \"%s\", got %zu: \"%s\"", bc->name,
					 bc->why, c.ndiscard, c.ndiscard ? c.discard[0] : "");
			assert_int_equal(c.ntext, 0);
		} else {
			assert_int_equal(c.ndiscard, 0);
			assert_int_equal(c.ntext, 1);
		}
		if (c.npkt != 1)
			fail_msg("%s: good packet not decoded after it", bc->name);
		assert_int_equal(c.pkt_len[0], sizeof(good_pkt));
		assert_memory_equal(c.pkt[0], good_pkt, sizeof(good_pkt));
		cap_clear(&c);
	}
	cap_done(&c);
	free(good);
	free(bad_crc);
	free(partial);
}

static void test_decode_bad_continuation_drops_packet(void **state)
{
	uint8_t pkt[300], *out, *second;
	size_t n;
	struct cap c;

	memset(pkt, 1, sizeof(pkt));
	out = encode(pkt, sizeof(pkt), &n);
	second = (uint8_t *)memchr(out, '\n', n) + 1;
	cap_init(&c);
	console_decoder_feed(c.d, out, (size_t)(second - out));
	feed_str(&c, "\x04\x14"
		     "AB*D\n");
	/* The rest of the packet is now continuation without a start. */
	console_decoder_feed(c.d, second, (size_t)(out + n - second));
	assert_int_equal(c.npkt, 0);
	assert_true(c.ndiscard >= 2);
	assert_non_null(strstr(c.discard[0], "invalid base64 in continuation frame; dropped "
					     "partial packet (91 of 302 bytes)"));
	assert_non_null(strstr(c.discard[1], "continuation frame without a start frame"));
	cap_clear(&c);
	console_decoder_feed(c.d, out, n);
	assert_int_equal(c.npkt, 1);
	cap_done(&c);
	free(out);
}

static void test_decode_reset_drops_partial_and_stops_feed(void **state)
{
	uint8_t pkt[300], *out, *second, both[64];
	size_t n, a_n, b_n;
	uint8_t *a, *b;
	struct cap c;

	memset(pkt, 2, sizeof(pkt));
	out = encode(pkt, sizeof(pkt), &n);
	second = (uint8_t *)memchr(out, '\n', n) + 1;
	cap_init(&c);
	console_decoder_feed(c.d, out, (size_t)(second - out));
	console_decoder_reset(c.d);
	console_decoder_feed(c.d, second, (size_t)(out + n - second));
	assert_int_equal(c.npkt, 0);
	assert_non_null(strstr(c.discard[0], "continuation frame without a start frame"));
	cap_clear(&c);

	/* A packet callback that resets: the rest of that feed is dropped. */
	a = encode((const uint8_t *)"first", 5, &a_n);
	b = encode((const uint8_t *)"second", 6, &b_n);
	memcpy(both, a, a_n);
	memcpy(both + a_n, b, b_n);
	c.reset_on_packet = true;
	console_decoder_feed(c.d, both, a_n + b_n);
	assert_int_equal(c.npkt, 1);
	assert_memory_equal(c.pkt[0], "first", 5);
	c.reset_on_packet = false;
	console_decoder_feed(c.d, b, b_n);
	assert_int_equal(c.npkt, 2);
	assert_memory_equal(c.pkt[1], "second", 6);
	assert_int_equal(c.ndiscard, 0);
	cap_done(&c);
	free(a);
	free(b);
	free(out);
}

static void test_decode_random_garbage_never_crashes(void **state)
{
	static uint8_t buf[1 << 16];
	uint8_t *good;
	size_t good_n;
	struct cap c;

	good = encode(echo_req, sizeof(echo_req), &good_n);
	cap_init(&c);
	for (unsigned round = 0; round < 20; round++) {
		/* Bytes biased towards what the decoder reacts to. */
		static const uint8_t alphabet[] = {0x06, 0x09, 0x04, 0x14, '\n', '\r', '=',
						   'A',	 '/',  '+',  0,	   'z',	 '9',  0xff};
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = round % 2 ? (uint8_t)rng() : alphabet[rng() % sizeof(alphabet)];
		console_decoder_feed(c.d, buf, sizeof(buf));
		cap_clear(&c);
		/* A newline ends whatever line the garbage left open; then a good packet. */
		feed_str(&c, "\n");
		console_decoder_feed(c.d, good, good_n);
		assert_int_equal(c.npkt, 1);
		assert_memory_equal(c.pkt[0], echo_req, sizeof(echo_req));
		cap_clear(&c);
	}
	cap_done(&c);
	free(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc16_is_xmodem),
		cmocka_unit_test(test_encode_hello_world_matches_published_frame),
		cmocka_unit_test(test_encode_echo_request_golden),
		cmocka_unit_test(test_encode_1k_packet_into_continuation_lines),
		cmocka_unit_test(test_encode_sizes_and_errors),
		cmocka_unit_test(test_decode_published_python_frames),
		cmocka_unit_test(test_decode_zephyr_device_framing),
		cmocka_unit_test(test_decode_any_split_with_interleaved_text),
		cmocka_unit_test(test_decode_text_between_frames_keeps_packet),
		cmocka_unit_test(test_decode_long_text_line_in_pieces),
		cmocka_unit_test(test_decode_frame_right_after_the_shell_prompt),
		cmocka_unit_test(test_decode_shell_log_messages_between_and_before_frames),
		cmocka_unit_test(test_decode_marker_after_a_long_text),
		cmocka_unit_test(test_decode_frame_cut_short_by_a_new_marker),
		cmocka_unit_test(test_decode_shell_session_any_split),
		cmocka_unit_test(test_decode_malformed_then_resync),
		cmocka_unit_test(test_decode_bad_continuation_drops_packet),
		cmocka_unit_test(test_decode_reset_drops_partial_and_stops_feed),
		cmocka_unit_test(test_decode_random_garbage_never_crashes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
