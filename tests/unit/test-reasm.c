/* test-reasm.c — SMP packets reassembled from BLE slices: every split position, every slice
 * size, header split across slices, garbage and oversize headers followed by a good packet,
 * bytes past the end, the strict (Zephyr device) rules, reset mid-packet. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/reasm.h"

#define CAP_MAX 64

struct cap {
	size_t npkt;
	uint8_t pkt[CAP_MAX][600];
	size_t pkt_len[CAP_MAX];
	size_t ndiscard;
	char discard[CAP_MAX][192];
	struct reasm *r;
	bool reset_on_packet;
};

static void cap_packet(const uint8_t *pkt, size_t len, void *user_data)
{
	struct cap *c = user_data;

	if (c->npkt < CAP_MAX) {
		c->pkt_len[c->npkt] = len;
		if (len <= sizeof(c->pkt[0]))
			memcpy(c->pkt[c->npkt], pkt, len);
	}
	c->npkt++;
	if (c->reset_on_packet)
		reasm_reset(c->r);
}

static void cap_discard(const char *why, void *user_data)
{
	struct cap *c = user_data;

	if (c->ndiscard < CAP_MAX)
		snprintf(c->discard[c->ndiscard], sizeof(c->discard[0]), "%s", why);
	c->ndiscard++;
}

static const struct reasm_ops ops = {.packet = cap_packet, .discard = cap_discard};

static struct reasm *new_reasm(struct cap *c, size_t max, bool strict)
{
	const struct reasm_params p = {.max_packet = max, .strict = strict};

	memset(c, 0, sizeof(*c));
	c->r = reasm_new(&p, &ops, c);
	assert_non_null(c->r);
	return c->r;
}

/* An SMP v2 write-response-like packet of len bytes (header included). */
static size_t make_packet(uint8_t *buf, size_t len, uint8_t seq)
{
	assert_true(len >= 8);
	buf[0] = 0x0b; /* ver 1, op 3 */
	buf[1] = 0;
	buf[2] = (uint8_t)((len - 8) >> 8);
	buf[3] = (uint8_t)(len - 8);
	buf[4] = 0;
	buf[5] = 1;
	buf[6] = seq;
	buf[7] = 1;
	for (size_t i = 8; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + seq);
	return len;
}

static void assert_packet(const struct cap *c, size_t i, const uint8_t *want, size_t len)
{
	assert_true(c->npkt > i);
	assert_int_equal(c->pkt_len[i], len);
	assert_memory_equal(c->pkt[i], want, len);
}

/* Feeds buf in slices of at most slice bytes, as a sender cutting to ATT_MTU - 3 does. */
static void feed_sliced(struct reasm *r, const uint8_t *buf, size_t len, size_t slice)
{
	for (size_t off = 0; off < len; off += slice)
		reasm_feed(r, buf + off, len - off < slice ? len - off : slice);
}

static bool contains(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

static void test_split_at_every_position_gives_the_packet(void **state)
{
	uint8_t pkt[100];
	size_t n = make_packet(pkt, sizeof(pkt), 1);
	struct cap c;

	for (size_t p = 1; p < n; p++) {
		struct reasm *r = new_reasm(&c, 0, false);

		reasm_feed(r, pkt, p);
		assert_int_equal(c.npkt, 0);
		assert_int_equal(reasm_pending(r), p);
		reasm_feed(r, pkt + p, n - p);
		assert_int_equal(c.npkt, 1);
		assert_int_equal(c.ndiscard, 0);
		assert_packet(&c, 0, pkt, n);
		assert_int_equal(reasm_pending(r), 0);
		reasm_free(r);
	}
}

static void test_every_slice_size_gives_every_packet(void **state)
{
	uint8_t pkt[3][300];
	size_t len[3] = {8, 21, 300};
	struct cap c;

	for (size_t i = 0; i < 3; i++)
		make_packet(pkt[i], len[i], (uint8_t)i);
	/* MTU 23 (20-byte values) .. whole packets; each packet starts a slice */
	for (size_t slice = 1; slice <= 300; slice++) {
		struct reasm *r = new_reasm(&c, 0, false);

		for (size_t i = 0; i < 3; i++)
			feed_sliced(r, pkt[i], len[i], slice);
		assert_int_equal(c.ndiscard, 0);
		assert_int_equal(c.npkt, 3);
		for (size_t i = 0; i < 3; i++)
			assert_packet(&c, i, pkt[i], len[i]);
		reasm_free(r);
	}
}

static void test_header_only_packet_is_delivered_alone(void **state)
{
	uint8_t pkt[8];
	struct cap c;
	struct reasm *r = new_reasm(&c, 0, true);

	make_packet(pkt, 8, 9);
	reasm_feed(r, pkt, 8);
	assert_int_equal(c.npkt, 1);
	assert_packet(&c, 0, pkt, 8);
	reasm_feed(r, NULL, 0); /* empty slices are nothing */
	assert_int_equal(c.npkt, 1);
	assert_int_equal(c.ndiscard, 0);
	reasm_free(r);
}

static void test_garbage_is_dropped_and_the_next_packet_survives(void **state)
{
	const uint8_t garbage[20] = {0xff, 0x00, 0x00, 0x04, 1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t pkt[40];
	struct cap c;
	struct reasm *r = new_reasm(&c, 0, false);

	make_packet(pkt, sizeof(pkt), 3);
	reasm_feed(r, garbage, sizeof(garbage));
	assert_int_equal(c.ndiscard, 1);
	assert_true(contains(c.discard[0], "reserved bits set in 0xff"));
	assert_int_equal(reasm_pending(r), 0);
	reasm_feed(r, pkt, 20);
	reasm_feed(r, pkt + 20, 20);
	assert_int_equal(c.npkt, 1);
	assert_packet(&c, 0, pkt, sizeof(pkt));
	reasm_free(r);
}

static void test_oversize_header_is_dropped_at_once(void **state)
{
	uint8_t big[20], pkt[30];
	struct cap c;
	struct reasm *r = new_reasm(&c, 2475, false);

	make_packet(big, sizeof(big), 4);
	big[2] = 0x10; /* announces 8 + 0x100c bytes */
	reasm_feed(r, big, sizeof(big));
	assert_int_equal(c.npkt, 0);
	assert_int_equal(c.ndiscard, 1);
	assert_true(contains(c.discard[0], "announces 4116 bytes, more than the 2475 accepted"));
	/* its continuation slices are examined as starts: garbage again, never a packet */
	memset(big, 0xee, sizeof(big));
	reasm_feed(r, big, sizeof(big));
	assert_int_equal(c.ndiscard, 2);
	make_packet(pkt, sizeof(pkt), 5);
	reasm_feed(r, pkt, sizeof(pkt));
	assert_int_equal(c.npkt, 1);
	assert_packet(&c, 0, pkt, sizeof(pkt));
	reasm_free(r);
}

static void test_largest_packet_the_header_can_announce(void **state)
{
	static uint8_t pkt[REASM_MAX_PACKET];
	struct cap c;
	struct reasm *r = new_reasm(&c, 0, false);

	memset(pkt, 0x5a, sizeof(pkt));
	pkt[0] = 0x0b;
	pkt[2] = pkt[3] = 0xff;
	feed_sliced(r, pkt, sizeof(pkt), 495);
	assert_int_equal(c.npkt, 1);
	assert_int_equal(c.pkt_len[0], REASM_MAX_PACKET);
	assert_int_equal(c.ndiscard, 0);
	reasm_free(r);
}

static void test_bytes_past_the_end_are_dropped_packet_kept(void **state)
{
	uint8_t buf[60];
	struct cap c;
	struct reasm *r = new_reasm(&c, 0, false);

	make_packet(buf, 40, 6);
	memset(buf + 40, 0x0b, 20);
	reasm_feed(r, buf, 20);
	reasm_feed(r, buf + 20, 40); /* 20 of the packet, 20 more */
	assert_int_equal(c.npkt, 1);
	assert_packet(&c, 0, buf, 40);
	assert_int_equal(c.ndiscard, 1);
	assert_true(contains(c.discard[0], "20 bytes after the end of a 40-byte SMP packet"));
	assert_int_equal(reasm_pending(r), 0);
	reasm_free(r);
}

static void test_strict_rules_are_zephyrs(void **state)
{
	uint8_t pkt[40], buf[60];
	struct cap c;
	struct reasm *r = new_reasm(&c, 0, true);

	make_packet(pkt, sizeof(pkt), 7);
	/* a first slice shorter than the header is dropped (-ENODATA in Zephyr) */
	reasm_feed(r, pkt, 5);
	assert_int_equal(c.ndiscard, 1);
	assert_true(contains(c.discard[0], "slice of 5 bytes cannot start an SMP packet"));
	assert_int_equal(reasm_pending(r), 0);
	/* a slice running past the end drops the whole packet (-EOVERFLOW) */
	memcpy(buf, pkt, 40);
	memset(buf + 40, 0, 20);
	reasm_feed(r, buf, 20);
	reasm_feed(r, buf + 20, 40);
	assert_int_equal(c.npkt, 0);
	assert_int_equal(c.ndiscard, 2);
	assert_true(contains(c.discard[1], "runs 20 bytes past the end of a 40-byte SMP packet"));
	/* and on the first slice too */
	reasm_feed(r, buf, 41);
	assert_int_equal(c.ndiscard, 3);
	/* split anywhere from the header on still works */
	for (size_t p = 8; p < sizeof(pkt); p++) {
		reasm_feed(r, pkt, p);
		reasm_feed(r, pkt + p, sizeof(pkt) - p);
	}
	assert_int_equal(c.npkt, sizeof(pkt) - 8);
	assert_int_equal(c.ndiscard, 3);
	reasm_free(r);
}

static void test_reset_drops_a_partial_packet(void **state)
{
	uint8_t pkt[50], other[30];
	struct cap c;
	struct reasm *r = new_reasm(&c, 0, false);

	make_packet(pkt, sizeof(pkt), 8);
	make_packet(other, sizeof(other), 9);
	reasm_feed(r, pkt, 25);
	assert_int_equal(reasm_pending(r), 25);
	reasm_reset(r); /* the link went down */
	assert_int_equal(reasm_pending(r), 0);
	reasm_feed(r, other, sizeof(other));
	assert_int_equal(c.npkt, 1);
	assert_packet(&c, 0, other, sizeof(other));
	assert_int_equal(c.ndiscard, 0);
	reasm_free(r);
}

static void test_reset_from_the_callback_drops_the_rest_silently(void **state)
{
	uint8_t buf[70];
	struct cap c;
	struct reasm *r = new_reasm(&c, 0, false);

	c.reset_on_packet = true;
	make_packet(buf, 40, 1);
	memset(buf + 40, 0x0b, 30);
	reasm_feed(r, buf, sizeof(buf));
	assert_int_equal(c.npkt, 1);
	assert_int_equal(c.ndiscard, 0);
	reasm_free(r);
}

static void test_new_and_free_accept_defaults_and_null(void **state)
{
	struct reasm *r = reasm_new(NULL, NULL, NULL);
	uint8_t pkt[30];

	assert_non_null(r);
	make_packet(pkt, sizeof(pkt), 2);
	reasm_feed(r, pkt, sizeof(pkt)); /* no callbacks: nothing to tell */
	assert_int_equal(reasm_pending(r), 0);
	assert_null(reasm_free(r));
	assert_null(reasm_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_at_every_position_gives_the_packet),
		cmocka_unit_test(test_every_slice_size_gives_every_packet),
		cmocka_unit_test(test_header_only_packet_is_delivered_alone),
		cmocka_unit_test(test_garbage_is_dropped_and_the_next_packet_survives),
		cmocka_unit_test(test_oversize_header_is_dropped_at_once),
		cmocka_unit_test(test_largest_packet_the_header_can_announce),
		cmocka_unit_test(test_bytes_past_the_end_are_dropped_packet_kept),
		cmocka_unit_test(test_strict_rules_are_zephyrs),
		cmocka_unit_test(test_reset_drops_a_partial_packet),
		cmocka_unit_test(test_reset_from_the_callback_drops_the_rest_silently),
		cmocka_unit_test(test_new_and_free_accept_defaults_and_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
