/* test-bt-conn.c — one LE link of the host against the scripted controller (lib/fakectl.h):
 * the watches several layers keep on the same connection (link down, writable): order, removal
 * while an event is told, destroy exactly once. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "bt/hci-pkt.h"
#include "bt/l2cap.h"
#include "lib/fakectl.h"
#include "otad/bt.h"

static const struct fake_ctrl ctrl = {.le_mtu = 27, .le_num = 2};

/* One watch: what it heard goes into the shared log, as its name. */
struct watch {
	char name;
	char *log; /* shared, 64 bytes */
	struct fake *f;
	unsigned id;
	unsigned destroyed;
	unsigned owner_told_before; /* the owner's disconnected callbacks that ran before this */
	uint8_t reason;
	/* during the event: remove these, make a new watch */
	struct watch *remove[2];
	struct watch *add;
	unsigned destroyed_at_once; /* destroys of the removed ones that ran inside the event */
};

static void log_name(struct watch *w)
{
	size_t n = strlen(w->log);

	assert_true(n + 1 < 64);
	w->log[n] = w->name;
	w->log[n + 1] = '\0';
}

static void on_destroy(void *user_data)
{
	struct watch *w = user_data;

	w->destroyed++;
}

static void on_down(struct hci_conn *c, uint8_t reason, void *user_data);

static void act(struct watch *w, struct hci_conn *c)
{
	for (size_t i = 0; i < 2; i++)
		if (w->remove[i])
			assert_true(hci_conn_unwatch(c, w->remove[i]->id));
	for (size_t i = 0; i < 2; i++)
		if (w->remove[i])
			w->destroyed_at_once += w->remove[i]->destroyed;
	if (w->add)
		w->add->id = hci_conn_watch_disconnect(c, on_down, w->add, on_destroy);
}

static void on_down(struct hci_conn *c, uint8_t reason, void *user_data)
{
	struct watch *w = user_data;

	log_name(w);
	w->reason = reason;
	w->owner_told_before = w->f->disconnects;
	act(w, c);
}

static void on_writable(struct hci_conn *c, void *user_data)
{
	struct watch *w = user_data;

	log_name(w);
	assert_int_equal(hci_conn_queued_bytes(c), 0);
	act(w, c);
}

static void disconnect_complete(struct fake *f, uint16_t handle, uint8_t reason)
{
	uint8_t p[4] = {0, (uint8_t)handle, (uint8_t)(handle >> 8), reason}; /* 7.7.5 */

	fake_send_event(f, HCI_EV_DISCONN_COMPLETE, p, 4);
	for (uint64_t end = fake_now_ms() + 1000; !f->disconnects && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
	assert_int_equal(f->disconnects, 1);
}

static void up(struct fake *f, uint16_t handle)
{
	fake_bring_up(f, &ctrl);
	fake_connect_as_central(f, handle);
	fake_expect_cmd(f, HCI_OP_LE_READ_REMOTE_FEATURES);
}

static void test_link_down_reaches_every_watch_in_order(void **state)
{
	struct fake *f = *state;
	char log[64] = "";
	struct watch w[3] = {{'a', log, f}, {'b', log, f}, {'c', log, f}};
	struct watch wr = {'w', log, f};

	up(f, 0x0040);
	for (size_t i = 0; i < 3; i++) {
		w[i].id = hci_conn_watch_disconnect(f->conn, on_down, &w[i], on_destroy);
		assert_int_not_equal(w[i].id, 0);
	}
	wr.id = hci_conn_watch_writable(f->conn, on_writable, &wr, on_destroy);
	assert_int_not_equal(wr.id, 0);
	disconnect_complete(f, 0x0040, HCI_ERR_CONN_TIMEOUT);
	/* each once, in the order made, before the owner's callback; writable ones hear nothing */
	assert_string_equal(log, "abc");
	/* nobody else held the connection: its last unref, as the link ended, ran every destroy */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(w[i].reason, HCI_ERR_CONN_TIMEOUT);
		assert_int_equal(w[i].owner_told_before, 0);
		assert_int_equal(w[i].destroyed, 1);
	}
	assert_int_equal(wr.destroyed, 1);
}

static void test_unwatch_while_the_link_goes_down_is_safe(void **state)
{
	struct fake *f = *state;
	char log[64] = "";
	struct watch a = {'a', log, f}, b = {'b', log, f}, c = {'c', log, f}, d = {'d', log, f};

	up(f, 0x0041);
	hci_conn_ref(f->conn);
	a.id = hci_conn_watch_disconnect(f->conn, on_down, &a, on_destroy);
	b.id = hci_conn_watch_disconnect(f->conn, on_down, &b, on_destroy);
	c.id = hci_conn_watch_disconnect(f->conn, on_down, &c, on_destroy);
	/* a removes b (not told yet) and itself, and makes d */
	a.remove[0] = &b;
	a.remove[1] = &a;
	a.add = &d;
	disconnect_complete(f, 0x0041, HCI_ERR_REMOTE_USER_TERM);
	/* b removed before its turn hears nothing; d, made meanwhile, waits for a next event */
	assert_string_equal(log, "ac");
	assert_int_not_equal(d.id, 0);
	/* removed during the event: destroyed once it was told, exactly once */
	assert_int_equal(a.destroyed_at_once, 0);
	assert_int_equal(a.destroyed, 1);
	assert_int_equal(b.destroyed, 1);
	assert_int_equal(c.destroyed, 0);
	assert_false(hci_conn_unwatch(f->conn, a.id));
	assert_false(hci_conn_unwatch(f->conn, b.id));
	assert_int_equal(a.destroyed, 1);
	assert_true(hci_conn_unwatch(f->conn, c.id));
	assert_int_equal(c.destroyed, 1);
	/* a gone link takes no new watch */
	assert_int_equal(hci_conn_watch_disconnect(f->conn, on_down, &b, on_destroy), 0);
	hci_conn_unref(f->conn); /* the last: d's destroy */
	assert_int_equal(d.destroyed, 1);
	assert_int_equal(c.destroyed, 1);
}

static void test_writable_reaches_watches_when_the_queue_drains(void **state)
{
	struct fake *f = *state;
	char log[64] = "";
	struct watch x = {'x', log, f}, y = {'y', log, f}, down = {'d', log, f};
	const uint8_t sdu[40] = {0};

	up(f, 0x0042);
	down.id = hci_conn_watch_disconnect(f->conn, on_down, &down, on_destroy);
	x.id = hci_conn_watch_writable(f->conn, on_writable, &x, on_destroy);
	y.id = hci_conn_watch_writable(f->conn, on_writable, &y, on_destroy);
	x.remove[0] = &x; /* heard once, then gone */
	/* 44 bytes with the L2CAP header: 27 + 17, both buffers free: the queue drains at once */
	assert_int_equal(l2cap_send(f->conn, L2CAP_CID_ATT, sdu, sizeof(sdu)), 0);
	assert_string_equal(log, "xy");
	assert_int_equal(x.destroyed, 1);
	assert_int_equal(fake_next_pkt(f).type, H4_ACL);
	assert_int_equal(fake_next_pkt(f).type, H4_ACL);
	/* both buffers are in the controller now: the next frame waits, nobody hears writable */
	assert_int_equal(l2cap_send(f->conn, L2CAP_CID_ATT, sdu, 10), 0);
	assert_string_equal(log, "xy");
	fake_send_event(f, HCI_EV_NUM_COMP_PKTS, (uint8_t[]){1, 0x42, 0x00, 1, 0}, 5);
	fake_next_pkt(f);
	assert_string_equal(log, "xyy");
	assert_int_equal(y.destroyed, 0);
	assert_int_equal(down.destroyed, 0);
	assert_true(hci_conn_unwatch(f->conn, y.id));
	assert_true(hci_conn_unwatch(f->conn, down.id));
	assert_int_equal(y.destroyed + down.destroyed, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link_down_reaches_every_watch_in_order,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_unwatch_while_the_link_goes_down_is_safe,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_writable_reaches_watches_when_the_queue_drains,
						fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
