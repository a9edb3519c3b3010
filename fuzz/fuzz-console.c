/* fuzz-console.c — the serial console frame decoder (include/otad/console.h), what otactl reads
 * from a tty and otasim from its pty. Input: a chunk size byte, then the byte stream.
 * Invariants:
 *  - the decoder's output (packets, discards, text lines) does not depend on how the stream is
 *    cut: one piece, chunks of the given size, and single bytes give the same events;
 *  - every packet fits CONSOLE_PKT_MAX, every text piece CONSOLE_TEXT_MAX;
 *  - a decoded packet encoded again decodes to itself, with nothing discarded;
 *  - the stream itself, taken as a packet, encodes into lines of at most 127 bytes of the size
 *    console_encoded_size() announces, and decodes back to itself;
 *  - a callback may reset the decoder at any point. */
#include <errno.h>

#include "fuzz.h"
#include "otad/console.h"

struct log {
	uint64_t hash;
	unsigned packets, discards, texts;
	bool reset_on_packet;
	struct console_decoder *d;
	/* round trip: the one packet expected */
	const uint8_t *want;
	size_t want_len;
};

static void mix(struct log *l, uint8_t kind, const void *p, size_t n)
{
	const uint8_t *b = p;

	/* FNV-1a over a kind byte, the length and the bytes. */
	l->hash = (l->hash ^ kind) * 0x100000001b3ULL;
	l->hash = (l->hash ^ n) * 0x100000001b3ULL;
	for (size_t i = 0; i < n; i++)
		l->hash = (l->hash ^ b[i]) * 0x100000001b3ULL;
}

static void roundtrip(const uint8_t *pkt, size_t len);

static void on_packet(const uint8_t *pkt, size_t len, void *ud)
{
	struct log *l = ud;

	FUZZ_CHECK(len <= CONSOLE_PKT_MAX);
	l->packets++;
	mix(l, 'p', pkt, len);
	if (l->want) {
		FUZZ_CHECK(len == l->want_len && !memcmp(pkt, l->want, len));
		return;
	}
	if (l->reset_on_packet && (len == 0 || pkt[0] & 1))
		console_decoder_reset(l->d);
	else
		roundtrip(pkt, len);
}

static void on_discard(const char *why, void *ud)
{
	struct log *l = ud;

	FUZZ_CHECK(why && strlen(why) < 192);
	l->discards++;
	mix(l, 'd', why, strlen(why));
	if (l->reset_on_packet && l->discards % 3 == 0)
		console_decoder_reset(l->d);
}

static void on_text(const char *line, size_t len, void *ud)
{
	struct log *l = ud;

	FUZZ_CHECK(len <= CONSOLE_TEXT_MAX);
	l->texts++;
	mix(l, 't', line, len);
}

static const struct console_decoder_ops ops = {
	.packet = on_packet,
	.discard = on_discard,
	.text = on_text,
};

/* Decodes the stream fed in pieces of chunk bytes (0: all at once). */
static struct log decode(const uint8_t *s, size_t n, size_t chunk, bool resets)
{
	struct log l = {.hash = 0xcbf29ce484222325ULL, .reset_on_packet = resets};

	l.d = console_decoder_new(&ops, &l);
	FUZZ_CHECK(l.d);
	if (!chunk)
		chunk = n ? n : 1;
	for (size_t off = 0; off < n; off += chunk)
		console_decoder_feed(l.d, s + off, n - off < chunk ? n - off : chunk);
	console_decoder_free(l.d);
	return l;
}

/* pkt encoded and decoded again is pkt alone; the lines are within the limits. */
static void roundtrip(const uint8_t *pkt, size_t len)
{
	size_t size = console_encoded_size(len), line = 0;
	uint8_t *enc = malloc(size);
	struct log l = {.want = pkt, .want_len = len};
	ssize_t r;

	FUZZ_CHECK(enc);
	FUZZ_CHECK(console_encode(pkt, len, enc, size - 1) == -ENOBUFS);
	r = console_encode(pkt, len, enc, size);
	FUZZ_CHECK(r >= 0 && (size_t)r == size);
	for (size_t i = 0; i < size; i++) {
		line++;
		if (enc[i] == '\n') {
			FUZZ_CHECK(line <= CONSOLE_LINE_MAX);
			line = 0;
		}
	}
	FUZZ_CHECK(line == 0);
	l.d = console_decoder_new(&ops, &l);
	FUZZ_CHECK(l.d);
	console_decoder_feed(l.d, enc, size);
	FUZZ_CHECK(l.packets == 1 && l.discards == 0 && l.texts == 0);
	console_decoder_free(l.d);
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	size_t chunk = 1 + fz_u8(&f), n;
	const uint8_t *s = fz_rest(&f, &n);
	struct log whole = decode(s, n, 0, false);
	struct log cut = decode(s, n, chunk, false);
	struct log bytes = decode(s, n, 1, false);

	FUZZ_CHECK(whole.hash == cut.hash && whole.hash == bytes.hash);
	decode(s, n, chunk, true);
	if (n <= CONSOLE_PKT_MAX)
		roundtrip(s, n);
	else
		FUZZ_CHECK(console_encode(s, n, NULL, 0) == -EMSGSIZE);
	return 0;
}
