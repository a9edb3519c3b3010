/* test-bt-l2cap.c — the L2CAP channels of one LE link against the scripted controller
 * (lib/fakectl.h): frames routed by CID to the one registration there, frames nobody registered
 * for dropped, registration and unregistration (during a delivery too, destroy exactly once, at
 * the connection's last unref at the latest), the SMP channel's refusal of pairing until a
 * Security Manager takes it, the ATT bearer on its channel. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "bt/att.h"
#include "bt/l2cap.h"
#include "lib/fakectl.h"
#include "otad/bt.h"

static const struct fake_ctrl ctrl = {.le_mtu = 27, .le_num = 2};

#define WAIT_FOR(f, cond)                                                                          \
	do {                                                                                       \
		for (uint64_t end_ = fake_now_ms() + 1000; !(cond) && fake_now_ms() < end_;)       \
			sd_event_run((f)->e, 10 * 1000);                                           \
		assert_true(cond);                                                                 \
	} while (0)

/* One registration: what it heard, and what it does when it hears a frame. */
struct chan {
	uint16_t cid;
	unsigned id;
	unsigned frames, destroyed;
	uint8_t pdu[64];
	size_t len;
	/* during a frame: unregister these, register add on add->cid */
	struct chan *remove[2];
	struct chan *add;
	unsigned destroyed_inside; /* destroys of the removed ones that ran inside the handler */
};

static void on_destroy(void *user_data)
{
	struct chan *ch = user_data;

	ch->destroyed++;
}

static void on_frame(struct hci_conn *c, const uint8_t *pdu, size_t len, void *user_data)
{
	struct chan *ch = user_data;

	ch->frames++;
	assert_true(len <= sizeof(ch->pdu));
	memcpy(ch->pdu, pdu, len);
	ch->len = len;
	for (size_t i = 0; i < 2; i++)
		if (ch->remove[i])
			assert_true(l2cap_unregister(c, ch->remove[i]->id));
	for (size_t i = 0; i < 2; i++)
		if (ch->remove[i])
			ch->destroyed_inside += ch->remove[i]->destroyed;
	if (ch->add) {
		ch->add->id = l2cap_register(c, ch->add->cid, on_frame, ch->add, on_destroy);
		assert_int_not_equal(ch->add->id, 0);
	}
}

static void other_fn(struct hci_conn *c, const uint8_t *pdu, size_t len, void *user_data)
{
}

static void reg(struct fake *f, struct chan *ch)
{
	ch->id = l2cap_register(f->conn, ch->cid, on_frame, ch, on_destroy);
	assert_int_not_equal(ch->id, 0);
}

/* A frame from the peer on cid: basic header, then the payload. */
static void frame(struct fake *f, uint16_t handle, uint16_t cid, const uint8_t *p, uint16_t len)
{
	uint8_t b[64] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)cid, (uint8_t)(cid >> 8)};

	assert_true(len <= sizeof(b) - 4);
	memcpy(b + 4, p, len);
	fake_send_acl(f, handle, b, (uint16_t)(4 + len));
}

static void up(struct fake *f, uint16_t handle)
{
	fake_bring_up(f, &ctrl);
	fake_connect_as_central(f, handle);
	fake_expect_cmd(f, HCI_OP_LE_READ_REMOTE_FEATURES);
}

static void disconnect_complete(struct fake *f, uint16_t handle, uint8_t reason)
{
	uint8_t p[4] = {0, (uint8_t)handle, (uint8_t)(handle >> 8), reason}; /* 7.7.5 */

	fake_send_event(f, HCI_EV_DISCONN_COMPLETE, p, 4);
	WAIT_FOR(f, f->disconnects == 1);
}

static void test_frames_reach_the_registration_of_their_cid(void **state)
{
	struct fake *f = *state;
	struct chan a = {.cid = 0x0040}, b = {.cid = 0x0041}, dup = {.cid = 0x0041};
	void *ud = NULL;
	unsigned lines;

	up(f, 0x0040);
	reg(f, &a);
	reg(f, &b);
	assert_int_not_equal(a.id, b.id);
	/* one handler per channel; no null CID, no handler without a function */
	assert_int_equal(l2cap_register(f->conn, 0x0041, on_frame, &dup, on_destroy), 0);
	assert_int_equal(l2cap_register(f->conn, 0x0000, on_frame, &dup, on_destroy), 0);
	assert_int_equal(l2cap_register(f->conn, 0x0042, NULL, &dup, on_destroy), 0);
	/* the LE signaling channel is served by L2CAP itself */
	assert_int_equal(l2cap_register(f->conn, L2CAP_CID_LE_SIGNALING, on_frame, &dup, NULL), 0);
	assert_int_equal(dup.destroyed, 0);
	assert_int_equal(l2cap_lookup(f->conn, 0x0041, NULL, &ud), b.id);
	assert_ptr_equal(ud, &b);
	assert_int_equal(l2cap_lookup(f->conn, 0x0041, on_frame, NULL), b.id);
	assert_int_equal(l2cap_lookup(f->conn, 0x0041, other_fn, NULL), 0);
	assert_int_equal(l2cap_lookup(f->conn, 0x0042, NULL, NULL), 0);

	frame(f, 0x0040, 0x0041, (uint8_t[]){0xde, 0xad, 0xbe, 0xef}, 4);
	WAIT_FOR(f, b.frames == 1);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.pdu, ((uint8_t[]){0xde, 0xad, 0xbe, 0xef}), 4);
	assert_int_equal(a.frames, 0);

	/* nobody on 0x0042, nor on ATT's channel (no bearer attached): dropped, named */
	lines = f->debug_lines;
	frame(f, 0x0040, 0x0042, (uint8_t[]){1, 2, 3}, 3);
	WAIT_FOR(f, f->debug_lines > lines);
	assert_string_equal(f->last_debug,
			    "L2CAP: frame on unregistered CID 0x0042 (3 bytes) dropped");
	lines = f->debug_lines;
	frame(f, 0x0040, L2CAP_CID_ATT, (uint8_t[]){0x02, 0xf7, 0x00}, 3); /* Exchange MTU */
	WAIT_FOR(f, f->debug_lines > lines);
	assert_string_equal(f->last_debug,
			    "L2CAP: frame on unregistered CID 0x0004 (3 bytes) dropped");
	assert_false(fake_pump(f, 50));
	assert_int_equal(a.frames + b.frames, 1);
	assert_int_equal(a.destroyed + b.destroyed + dup.destroyed, 0);
	assert_true(l2cap_unregister(f->conn, a.id));
	assert_true(l2cap_unregister(f->conn, b.id));
	assert_int_equal(a.destroyed + b.destroyed, 2);
}

static void test_unregistering_frees_the_channel_and_destroys_once(void **state)
{
	struct fake *f = *state;
	struct chan a = {.cid = 0x0040}, b = {.cid = 0x0040};

	up(f, 0x0041);
	reg(f, &a);
	assert_true(l2cap_unregister(f->conn, a.id));
	assert_int_equal(a.destroyed, 1);
	assert_false(l2cap_unregister(f->conn, a.id));
	assert_false(l2cap_unregister(f->conn, 0));
	assert_int_equal(a.destroyed, 1);
	assert_int_equal(l2cap_lookup(f->conn, 0x0040, NULL, NULL), 0);
	/* the channel is free again: the next registration gets its frames, the old one none */
	reg(f, &b);
	assert_int_not_equal(b.id, a.id);
	frame(f, 0x0041, 0x0040, (uint8_t[]){7}, 1);
	WAIT_FOR(f, b.frames == 1);
	assert_int_equal(a.frames, 0);
	assert_true(l2cap_unregister(f->conn, b.id));
	assert_int_equal(b.destroyed, 1);
}

static void test_unregistering_during_a_delivery_is_safe(void **state)
{
	struct fake *f = *state;
	struct chan a = {.cid = 0x0040}, other = {.cid = 0x0041}, next = {.cid = 0x0040};

	up(f, 0x0042);
	reg(f, &a);
	reg(f, &other);
	/* a, hearing a frame, removes itself and another channel's handler, and hands its own
	 * channel to next */
	a.remove[0] = &a;
	a.remove[1] = &other;
	a.add = &next;
	frame(f, 0x0042, 0x0040, (uint8_t[]){1}, 1);
	WAIT_FOR(f, a.frames == 1);
	/* the destroys waited for the handler to return, then ran once each */
	assert_int_equal(a.destroyed_inside, 0);
	assert_int_equal(a.destroyed, 1);
	assert_int_equal(other.destroyed, 1);
	assert_int_equal(l2cap_lookup(f->conn, 0x0040, NULL, NULL), next.id);
	assert_int_equal(l2cap_lookup(f->conn, 0x0041, NULL, NULL), 0);
	frame(f, 0x0042, 0x0040, (uint8_t[]){2}, 1);
	frame(f, 0x0042, 0x0041, (uint8_t[]){3}, 1);
	WAIT_FOR(f, next.frames == 1);
	assert_int_equal(next.pdu[0], 2);
	assert_int_equal(a.frames + other.frames, 1);
	assert_int_equal(next.destroyed, 0);
	assert_true(l2cap_unregister(f->conn, next.id));
	assert_int_equal(next.destroyed, 1);
}

static void test_registrations_end_with_the_connections_last_unref(void **state)
{
	struct fake *f = *state;
	struct chan a = {.cid = 0x0040}, late = {.cid = 0x0041};
	static uint8_t big[0x10000];
	struct hci_conn *c;

	up(f, 0x0043);
	c = hci_conn_ref(f->conn);
	reg(f, &a);
	assert_int_equal(l2cap_send(c, 0x0040, big, sizeof(big)), -EMSGSIZE);
	disconnect_complete(f, 0x0043, HCI_ERR_CONN_TIMEOUT);
	/* the link ended: the registration stays with the connection, nothing new is taken */
	assert_int_equal(a.destroyed, 0);
	assert_int_equal(l2cap_lookup(c, 0x0040, NULL, NULL), a.id);
	assert_int_equal(l2cap_register(c, 0x0041, on_frame, &late, on_destroy), 0);
	assert_int_equal(l2cap_send(c, 0x0040, big, 1), -ENOTCONN);
	hci_conn_unref(c);
	assert_int_equal(a.destroyed, 1);
	assert_int_equal(late.destroyed, 0);
}

/* Pairing Failed (Vol 3 Part H 3.5.5), Pairing Not Supported (0x05), on CID 6 of handle 0x44. */
static void expect_pairing_not_supported(struct fake *f)
{
	struct fake_pkt k = fake_next_pkt(f);

	assert_int_equal(k.type, H4_ACL);
	assert_int_equal(k.len, 10);
	assert_memory_equal(k.data, ((uint8_t[]){0x44, 0x00, 6, 0, 2, 0, 6, 0, 0x05, 0x05}), 10);
}

static void test_smp_channel_refuses_pairing_until_a_security_manager_takes_it(void **state)
{
	struct fake *f = *state;
	const uint8_t preq[7] = {0x01, 0x03, 0x00, 0x01, 0x10, 0x07, 0x07}; /* 3.5.1 */
	struct chan sm = {.cid = L2CAP_CID_SMP};
	unsigned seat;

	up(f, 0x0044);
	frame(f, 0x0044, L2CAP_CID_SMP, preq, sizeof(preq));
	expect_pairing_not_supported(f);
	frame(f, 0x0044, L2CAP_CID_SMP, (uint8_t[]){0x0b, 0x01}, 2); /* Security Request, 3.6.7 */
	expect_pairing_not_supported(f);
	/* anything else on the channel is not a request to refuse */
	fake_send_event(f, HCI_EV_NUM_COMP_PKTS, (uint8_t[]){1, 0x44, 0x00, 2, 0}, 5);
	frame(f, 0x0044, L2CAP_CID_SMP, (uint8_t[]){0x05, 0x08}, 2); /* Pairing Failed */
	frame(f, 0x0044, L2CAP_CID_SMP, (uint8_t[]){0}, 0);	     /* empty */
	assert_false(fake_pump(f, 50));

	/* the seat is taken by a registration; the Security Manager unregisters it, then sits */
	seat = l2cap_lookup(f->conn, L2CAP_CID_SMP, NULL, NULL);
	assert_int_not_equal(seat, 0);
	assert_int_equal(l2cap_register(f->conn, L2CAP_CID_SMP, on_frame, &sm, on_destroy), 0);
	assert_true(l2cap_unregister(f->conn, seat));
	reg(f, &sm);
	frame(f, 0x0044, L2CAP_CID_SMP, preq, sizeof(preq));
	WAIT_FOR(f, sm.frames == 1);
	assert_int_equal(sm.len, sizeof(preq));
	assert_memory_equal(sm.pdu, preq, sizeof(preq));
	assert_false(fake_pump(f, 50)); /* the refusal is gone */
	assert_true(l2cap_unregister(f->conn, sm.id));
	assert_int_equal(sm.destroyed, 1);
}

static void test_att_bearer_sits_on_its_channel_once(void **state)
{
	struct fake *f = *state;
	struct chan raw = {.cid = L2CAP_CID_ATT};
	struct att *att = NULL, *again = NULL;
	void *ud = NULL;
	struct fake_pkt k;

	up(f, 0x0045);
	/* someone else holds the channel: no bearer */
	reg(f, &raw);
	assert_int_equal(att_attach(f->conn, &att), -EBUSY);
	assert_true(l2cap_unregister(f->conn, raw.id));
	assert_int_equal(att_attach(f->conn, &att), 0);
	assert_int_equal(att_attach(f->conn, &again), 0);
	assert_ptr_equal(att, again);
	assert_int_not_equal(l2cap_lookup(f->conn, L2CAP_CID_ATT, NULL, &ud), 0);
	assert_ptr_equal(ud, att);
	/* its frames reach it: Exchange MTU 247 answered with our 498 (3.4.2) */
	frame(f, 0x0045, L2CAP_CID_ATT, (uint8_t[]){0x02, 0xf7, 0x00}, 3);
	k = fake_next_pkt(f);
	assert_int_equal(k.type, H4_ACL);
	assert_int_equal(k.len, 11);
	assert_memory_equal(k.data, ((uint8_t[]){0x45, 0x00, 7, 0, 3, 0, 4, 0, 0x03, 0xf2, 0x01}),
			    11);
	assert_int_equal(att_get_mtu(att), 247);
	assert_int_equal(raw.frames, 0);
	/* the link's end leaves it to the last unref (LeakSanitizer and valgrind check the free) */
	disconnect_complete(f, 0x0045, HCI_ERR_REMOTE_USER_TERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frames_reach_the_registration_of_their_cid,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(
			test_unregistering_frees_the_channel_and_destroys_once, fake_setup,
			fake_teardown),
		cmocka_unit_test_setup_teardown(test_unregistering_during_a_delivery_is_safe,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(
			test_registrations_end_with_the_connections_last_unref, fake_setup,
			fake_teardown),
		cmocka_unit_test_setup_teardown(
			test_smp_channel_refuses_pairing_until_a_security_manager_takes_it,
			fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_att_bearer_sits_on_its_channel_once,
						fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
