/* fuzz-reasm.c — SMP reassembly from BLE slices (src/transport/reasm.c), both rule sets: the
 * client's (notifications from a device) and Zephyr's strict one (otasim's Write Commands).
 * Input: a mode byte, then either slices (BE16 length-prefixed) fed as they are, or packets
 * that are sliced the way mcumgr senders slice them.
 *   mode bit 0: strict rules; bit 1: slice packets (else raw slices); bit 2: a callback resets
 *   the reassembler after some packets; bits 3-7: the slice size (ATT_MTU - 3).
 * Invariants: every delivered packet is one SMP packet (reserved bits clear, 8 + its header's
 * length, within max_packet); packets sliced as mcumgr does come out unchanged, one for one, with
 * nothing discarded; a discard always says why. */
#include "fuzz.h"
#include "otad/reasm.h"
#include "util/macro.h"

#define MAX_PACKET 2475 /* Zephyr's SMP sample buffer */

struct run {
	struct reasm *r;
	bool resets;
	unsigned packets, discards;
	/* packets expected, when slicing */
	const uint8_t *want[256];
	size_t want_len[256];
	unsigned n_want;
};

static void on_packet(const uint8_t *pkt, size_t len, void *ud)
{
	struct run *run = ud;

	FUZZ_CHECK(len >= REASM_HDR_LEN && len <= MAX_PACKET);
	FUZZ_CHECK(len == REASM_HDR_LEN + ((size_t)pkt[2] << 8 | pkt[3]) && !(pkt[0] & 0xe0));
	if (run->n_want) {
		FUZZ_CHECK(run->packets < run->n_want);
		FUZZ_CHECK(len == run->want_len[run->packets] &&
			   !memcmp(pkt, run->want[run->packets], len));
	}
	run->packets++;
	if (run->resets && (pkt[1] & 1))
		reasm_reset(run->r);
}

static void on_discard(const char *why, void *ud)
{
	struct run *run = ud;

	FUZZ_CHECK(why && *why);
	run->discards++;
}

static const struct reasm_ops ops = {.packet = on_packet, .discard = on_discard};

/* Packets from the input, each cut into slices of `slice` bytes, a new slice per packet. */
static void sliced(struct run *run, struct fz *f, size_t slice)
{
	static uint8_t pkts[256][MAX_PACKET];

	while (f->n && run->n_want < 256) {
		uint8_t *p = pkts[run->n_want];
		size_t body_len = fz_u16(f) % (MAX_PACKET - REASM_HDR_LEN + 1), got;
		const uint8_t *body;

		p[0] = fz_u8(f) & 0x1f; /* ver and op; reserved bits clear */
		p[1] = fz_u8(f);
		body = fz_bytes(f, body_len, &got);
		p[2] = (uint8_t)(got >> 8);
		p[3] = (uint8_t)got;
		memset(p + 4, 0, 4);
		memcpy(p + REASM_HDR_LEN, body, got);
		run->want[run->n_want] = p;
		run->want_len[run->n_want++] = REASM_HDR_LEN + got;
	}
	for (unsigned i = 0; i < run->n_want; i++)
		for (size_t off = 0; off < run->want_len[i]; off += slice)
			reasm_feed(run->r, run->want[i] + off, MIN(slice, run->want_len[i] - off));
	FUZZ_CHECK(run->packets == run->n_want && run->discards == 0);
	FUZZ_CHECK(reasm_pending(run->r) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t mode = fz_u8(&f);
	const struct reasm_params p = {.max_packet = MAX_PACKET, .strict = mode & 1};
	/* 20: ATT_MTU 23 less the opcode and handle; the strict rules need the header whole */
	size_t slice = REASM_HDR_LEN + (size_t)(mode >> 3) * 16;
	struct run run = {.resets = (mode & 4) && !(mode & 2)};

	run.r = reasm_new(&p, &ops, &run);
	FUZZ_CHECK(run.r);
	if (mode & 2) {
		sliced(&run, &f, slice);
	} else {
		while (f.n) {
			size_t len;
			const uint8_t *raw = fz_record(&f, &len);
			uint8_t *s = fz_dup(raw, len);

			reasm_feed(run.r, s, len);
			FUZZ_CHECK(reasm_pending(run.r) < MAX_PACKET);
			free(s);
		}
	}
	reasm_free(run.r);
	return 0;
}
