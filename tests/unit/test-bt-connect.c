/* test-bt-connect.c — queued connection requests (hci-connect.c) against the scripted
 * controller: one LE Create Connection in flight, the rest in order, a failure not holding up
 * the next, withdrawing a waiting or the in-flight request, and scanning paused around it on a
 * controller that cannot scan while initiating (kept on where LE Supported States allow). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "bt/hci-pkt.h"
#include "lib/fakectl.h"
#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"

static const struct fake_ctrl ctrl = {.le_mtu = 27, .le_num = 2};

struct req {
	unsigned id;
	unsigned done, destroyed;
	int err;
	uint8_t status;
	struct hci_conn *conn;
	unsigned order; /* when it ended, counted over all requests */
};

static unsigned ended;

static void on_connect(struct hci_dev *hci, int err, uint8_t status, struct hci_conn *conn,
		       void *ud)
{
	struct req *q = ud;

	q->done++;
	q->err = err;
	q->status = status;
	q->conn = conn;
	q->order = ++ended;
}

static void on_destroy(void *ud)
{
	((struct req *)ud)->destroyed++;
}

/* Requests a connection to 06:05:04:03:02:<last>. */
static void request(struct fake *f, struct req *q, uint8_t last)
{
	struct bt_addr peer = {BT_ADDR_LE_PUBLIC, {last, 2, 3, 4, 5, 6}};

	assert_int_equal(
		hci_connect_request(f->hci, &peer, NULL, on_connect, q, on_destroy, &q->id), 0);
	assert_true(q->id > 0);
}

/* The next command is op; LE Read Remote Features of a new link on the way is answered. */
static struct fake_pkt expect(struct fake *f, uint16_t op)
{
	for (;;) {
		struct fake_pkt p = fake_next_pkt(f);
		uint16_t got = get_le16(p.data);

		assert_int_equal(p.type, H4_CMD);
		if (got == HCI_OP_LE_READ_REMOTE_FEATURES && op != got) {
			fake_cmd_status(f, got, 0);
			continue;
		}
		if (got != op)
			fail_msg("expected command 0x%04x, got 0x%04x", op, got);
		memmove(p.data, p.data + 3, p.len - 3);
		p.len -= 3;
		return p;
	}
}

/* LE Create Connection for the peer ending in last (7.8.12: peer address at offset 6). */
static void expect_create(struct fake *f, uint8_t last)
{
	struct fake_pkt k = expect(f, HCI_OP_LE_CREATE_CONN);

	assert_int_equal(k.data[6], last);
	fake_cmd_status(f, HCI_OP_LE_CREATE_CONN, 0);
}

static void run_until(struct fake *f, const unsigned *counter)
{
	for (uint64_t end = fake_now_ms() + 1000; !*counter && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
	assert_true(*counter);
}

static void test_one_create_connection_in_flight_the_rest_in_order(void **state)
{
	struct fake *f = *state;
	struct req a = {0}, b = {0}, c = {0};

	ended = 0;
	fake_bring_up(f, &ctrl);
	request(f, &a, 0xa1);
	request(f, &b, 0xb2);
	request(f, &c, 0xc3);
	assert_int_equal(hci_connect_pending(f->hci), 3);
	expect_create(f, 0xa1);
	assert_false(fake_pump(f, 100)); /* b and c wait */
	assert_int_equal(hci_connect(f->hci, &(struct bt_addr){0}, NULL, fake_on_connect, f, NULL),
			 -EBUSY);

	fake_conn_complete(f, 0, 0x0041);
	run_until(f, &a.done);
	assert_int_equal(a.err, 0);
	assert_non_null(a.conn);
	expect_create(f, 0xb2);
	fake_conn_complete(f, 0, 0x0042);
	run_until(f, &b.done);
	expect_create(f, 0xc3);
	fake_conn_complete(f, 0, 0x0043);
	run_until(f, &c.done);
	assert_int_equal(a.order * 100 + b.order * 10 + c.order, 123);
	assert_int_equal(a.destroyed + b.destroyed + c.destroyed, 3);
	assert_int_equal(hci_connect_pending(f->hci), 0);
}

static void test_a_failed_request_does_not_hold_up_the_next(void **state)
{
	struct fake *f = *state;
	struct req a = {0}, b = {0}, c = {0};

	ended = 0;
	fake_bring_up(f, &ctrl);
	request(f, &a, 0xa1);
	request(f, &b, 0xb2);
	request(f, &c, 0xc3);
	expect(f, HCI_OP_LE_CREATE_CONN);
	fake_cmd_status(f, HCI_OP_LE_CREATE_CONN, HCI_ERR_COMMAND_DISALLOWED); /* refused */
	run_until(f, &a.done);
	assert_int_equal(a.err, -EIO);
	assert_int_equal(a.status, HCI_ERR_COMMAND_DISALLOWED);
	expect_create(f, 0xb2);
	fake_conn_complete(f, HCI_ERR_CONN_FAILED_TO_ESTABLISH, 0); /* failed on air */
	run_until(f, &b.done);
	assert_int_equal(b.err, -EIO);
	assert_int_equal(b.status, HCI_ERR_CONN_FAILED_TO_ESTABLISH);
	assert_null(b.conn);
	expect_create(f, 0xc3);
	fake_conn_complete(f, 0, 0x0043);
	run_until(f, &c.done);
	assert_int_equal(c.err, 0);
}

static void test_withdrawing_a_waiting_and_the_in_flight_request(void **state)
{
	struct fake *f = *state;
	struct req a = {0}, b = {0}, c = {0};
	struct fake_pkt k;

	ended = 0;
	fake_bring_up(f, &ctrl);
	request(f, &a, 0xa1);
	request(f, &b, 0xb2);
	request(f, &c, 0xc3);
	expect_create(f, 0xa1);

	assert_true(hci_connect_request_cancel(f->hci, b.id)); /* waiting: just goes */
	assert_int_equal(b.destroyed, 1);
	assert_false(hci_connect_request_cancel(f->hci, b.id));
	assert_false(fake_pump(f, 50));

	assert_true(hci_connect_request_cancel(f->hci, a.id)); /* in flight: cancelled */
	assert_int_equal(a.destroyed, 1);
	assert_int_equal(hci_connect_pending(f->hci), 1);
	expect(f, HCI_OP_LE_CREATE_CONN_CANCEL);
	fake_ok(f, HCI_OP_LE_CREATE_CONN_CANCEL);
	fake_conn_complete(f, HCI_ERR_UNKNOWN_CONN_ID, 0); /* 7.8.13: how a cancel ends */
	expect_create(f, 0xc3);
	assert_int_equal(a.done + b.done, 0); /* withdrawn requests are never told */

	/* c withdrawn too, but its connection wins the race with the cancel: dropped */
	assert_true(hci_connect_request_cancel(f->hci, c.id));
	expect(f, HCI_OP_LE_CREATE_CONN_CANCEL);
	fake_conn_complete(f, 0, 0x0043);
	fake_ok(f, HCI_OP_LE_CREATE_CONN_CANCEL);
	k = expect(f, HCI_OP_DISCONNECT);
	assert_int_equal(get_le16(k.data), 0x0043);
	assert_int_equal(c.done, 0);
	assert_int_equal(c.destroyed, 1);
	assert_int_equal(hci_connect_pending(f->hci), 0);
}

static void scan_watch(struct fake *f, unsigned *id)
{
	assert_int_equal(hci_scan_watch(f->hci, NULL, NULL, fake_on_scan, f, NULL, id), 0);
	expect(f, HCI_OP_LE_SET_SCAN_PARAMS);
	fake_ok(f, HCI_OP_LE_SET_SCAN_PARAMS);
	expect(f, HCI_OP_LE_SET_SCAN_ENABLE);
	fake_ok(f, HCI_OP_LE_SET_SCAN_ENABLE);
}

static void expect_scan_enable(struct fake *f, uint8_t on)
{
	struct fake_pkt k = expect(f, HCI_OP_LE_SET_SCAN_ENABLE);

	assert_int_equal(k.data[0], on);
	fake_ok(f, HCI_OP_LE_SET_SCAN_ENABLE);
}

static void test_scanning_pauses_for_the_queue_and_resumes(void **state)
{
	struct fake *f = *state;
	struct req a = {0}, b = {0};
	struct hci_dev_info info;
	unsigned id;

	ended = 0;
	fake_bring_up(f, &ctrl); /* no LE Supported States: scanning and initiating apart */
	hci_dev_get_info(f->hci, &info);
	assert_false(info.scan_while_connecting);
	scan_watch(f, &id);
	request(f, &a, 0xa1);
	request(f, &b, 0xb2);
	expect_scan_enable(f, 0);
	expect_create(f, 0xa1);
	fake_conn_complete(f, HCI_ERR_CONN_FAILED_TO_ESTABLISH, 0);
	expect_create(f, 0xb2); /* still paused between the two */
	fake_conn_complete(f, 0, 0x0042);
	expect_scan_enable(f, 1); /* the queue is empty: on again */
	run_until(f, &b.done);
	assert_true(hci_is_scanning(f->hci));
	assert_true(hci_scan_unwatch(f->hci, id));
	expect_scan_enable(f, 0);
}

static void test_scanning_goes_on_where_the_controller_can_do_both(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = ctrl;
	uint8_t states[9] = {0};
	struct hci_dev_info info;
	struct req a = {0};
	unsigned id;

	ended = 0;
	c.commands[28] = 0x08; /* LE Read Supported States */
	fake_answer_init(f, &c);
	expect(f, HCI_OP_LE_READ_SUPPORTED_STATES);
	states[1 + 2] = 0x80; /* bit 23: Active Scanning and Initiating */
	fake_cmd_complete(f, HCI_OP_LE_READ_SUPPORTED_STATES, states, 9);
	fake_answer_le_buffers(f, &c);
	fake_wait_ready(f);
	assert_int_equal(f->ready_err, 0);
	hci_dev_get_info(f->hci, &info);
	assert_true(info.scan_while_connecting);

	scan_watch(f, &id);
	request(f, &a, 0xa1);
	expect_create(f, 0xa1); /* no Set Scan Enable before it */
	fake_conn_complete(f, 0, 0x0041);
	run_until(f, &a.done);
	while (fake_pump(f, 100)) { /* nothing but the new link's LE Read Remote Features */
		struct fake_pkt k = fake_next_pkt(f);

		assert_int_equal(get_le16(k.data), HCI_OP_LE_READ_REMOTE_FEATURES);
		fake_cmd_status(f, HCI_OP_LE_READ_REMOTE_FEATURES, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_one_create_connection_in_flight_the_rest_in_order, fake_setup,
			fake_teardown),
		cmocka_unit_test_setup_teardown(test_a_failed_request_does_not_hold_up_the_next,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(
			test_withdrawing_a_waiting_and_the_in_flight_request, fake_setup,
			fake_teardown),
		cmocka_unit_test_setup_teardown(test_scanning_pauses_for_the_queue_and_resumes,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(
			test_scanning_goes_on_where_the_controller_can_do_both, fake_setup,
			fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
