/* test-bt-btvirt.c — two instances of the bt/ host on BlueZ's controller emulator: a central
 * and a peripheral find each other, connect, run GATT over fragmented ACL under the
 * emulator's one-buffer flow control, disconnect with reasons, reconnect, and name the
 * controller's refusals. Every wait is bounded. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt/att.h"
#include "bt/hci-dev.h"
#include "bt/hci-pkt.h"
#include "bt/l2cap.h"
#include "lib/btvirt.h"
#include "lib/testlib.h"
#include "otad/bt.h"

#define PERIPH_NAME "otasim-bt-test"

struct node {
	const char *role;
	struct hci_dev *hci;
	bool ready;
	int ready_err;
	struct hci_conn *conn;
	unsigned connects, disconnects;
	uint8_t reason;
	int connect_err;
	int accept_err;
	uint8_t connect_status;
	bool connect_done;
	struct gatt_client *gc;
	struct gatt_server *gs;
	uint16_t client_mtu; /* MTU the gatt client asks for */
	bool gatt_ready;
	int gatt_err;
	uint8_t gatt_ecode;
	bool subscribed;
	uint8_t rx[65536];
	size_t rx_len;
	unsigned rx_count;
	unsigned writable;
	unsigned updates;
	bool count_only; /* bulk: hash what arrives instead of keeping it */
	uint64_t rx_total, rx_hash;
	char cmd_error[160];
	uint8_t cmd_status;
	/* scanning */
	bool found;
	struct hci_adv_report seen;
	/* raw command result */
	bool raw_done;
	uint8_t raw_status;
};

struct fx {
	sd_event *e;
	struct btvirt bv;
	struct node c, p;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define WAIT_FOR(f, cond, ms)                                                                      \
	do {                                                                                       \
		uint64_t _end = now_ms() + (ms);                                                   \
		while (!(cond)) {                                                                  \
			if (now_ms() > _end)                                                       \
				fail_msg("timed out waiting for: %s", #cond);                      \
			sd_event_run((f)->e, 20 * 1000);                                           \
		}                                                                                  \
	} while (0)

static void on_debug(const char *line, void *user_data)
{
	struct node *n = user_data;

	if (getenv("OTAD_BT_DEBUG"))
		fprintf(stderr, "[%s] %s\n", n->role, line);
}

static void on_ready(struct hci_dev *hci, int err, uint8_t status, void *user_data)
{
	struct node *n = user_data;

	n->ready = true;
	n->ready_err = err;
}

static void on_cmd_error(struct hci_dev *hci, uint16_t opcode, uint8_t status, const char *text,
			 void *user_data)
{
	struct node *n = user_data;

	snprintf(n->cmd_error, sizeof(n->cmd_error), "%s", text);
	n->cmd_status = status;
}

static void on_disconnected(struct hci_conn *c, uint8_t reason, void *user_data)
{
	struct node *n = user_data;

	n->disconnects++;
	n->reason = reason;
	n->conn = NULL;
	n->gatt_ready = false;
	n->gc = gatt_client_free(n->gc);
	n->gs = gatt_server_free(n->gs);
}

static void on_conn_writable(struct hci_conn *c, void *user_data)
{
	struct node *n = user_data;

	n->writable++;
}

static void on_updated(struct hci_conn *c, void *user_data)
{
	struct node *n = user_data;

	n->updates++;
}

static const struct hci_conn_callbacks conn_cb = {
	.disconnected = on_disconnected,
	.writable = on_conn_writable,
	.updated = on_updated,
};

/* ---- peripheral: GATT server ---- */

static void on_server_write(struct gatt_server *s, const uint8_t *v, size_t len, void *user_data)
{
	struct node *n = user_data;

	if (n->count_only) {
		for (size_t i = 0; i < len; i++)
			n->rx_hash = (n->rx_hash ^ v[i]) * 0x100000001b3ULL; /* FNV-1a */
		n->rx_total += len;
		return;
	}
	assert_true(n->rx_len + len <= sizeof(n->rx));
	memcpy(n->rx + n->rx_len, v, len);
	n->rx_len += len;
	n->rx_count++;
}

static void on_subscribed(struct gatt_server *s, bool enabled, void *user_data)
{
	struct node *n = user_data;

	n->subscribed = enabled;
}

static const struct gatt_server_callbacks server_cb = {
	.write = on_server_write,
	.subscribed = on_subscribed,
};

static void on_accept(struct hci_dev *hci, int err, struct hci_conn *conn, void *user_data)
{
	struct node *n = user_data;
	const struct gatt_server_params sp = {PERIPH_NAME, &bt_uuid_smp_service, &bt_uuid_smp_char,
					      0};

	if (err) { /* advertising ended: the device died */
		n->accept_err = err;
		return;
	}
	n->connects++;
	n->conn = conn;
	hci_conn_set_callbacks(conn, &conn_cb, n, NULL);
	assert_int_equal(gatt_server_new(conn, &sp, &server_cb, n, NULL, &n->gs), 0);
}

/* ---- central: GATT client ---- */

static void on_client_ready(struct gatt_client *c, int err, uint8_t ecode, void *user_data)
{
	struct node *n = user_data;

	n->gatt_ready = err == 0;
	n->gatt_err = err;
	n->gatt_ecode = ecode;
}

static void on_notify(struct gatt_client *c, const uint8_t *v, size_t len, void *user_data)
{
	struct node *n = user_data;

	assert_true(n->rx_len + len <= sizeof(n->rx));
	memcpy(n->rx + n->rx_len, v, len);
	n->rx_len += len;
	n->rx_count++;
}

static const struct gatt_client_callbacks client_cb = {
	.ready = on_client_ready,
	.notify = on_notify,
};

static void on_connect(struct hci_dev *hci, int err, uint8_t status, struct hci_conn *conn,
		       void *user_data)
{
	struct node *n = user_data;
	const struct gatt_client_params gp = {&bt_uuid_smp_service, &bt_uuid_smp_char,
					      n->client_mtu};

	n->connect_done = true;
	n->connect_err = err;
	n->connect_status = status;
	if (err)
		return;
	n->connects++;
	n->conn = conn;
	n->gatt_err = 1; /* pending */
	hci_conn_set_callbacks(conn, &conn_cb, n, NULL);
	assert_int_equal(gatt_client_new(conn, &gp, &client_cb, n, NULL, &n->gc), 0);
}

static void on_scan(struct hci_dev *hci, int err, const struct hci_adv_report *r, void *user_data)
{
	struct node *n = user_data;

	assert_int_equal(err, 0);
	if (r->ad.has_name && !strcmp(r->ad.name, PERIPH_NAME) &&
	    adv_data_has_uuid128(&r->ad, &bt_uuid_smp_service)) {
		n->found = true;
		n->seen = *r;
	}
}

/* ---- fixture ---- */

static int setup(void **state)
{
	static const struct hci_dev_callbacks cb = {.ready = on_ready, .cmd_error = on_cmd_error};
	struct fx *f;

	if (!btvirt_available())
		skip();
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(sd_event_new(&f->e), 0);
	assert_int_equal(btvirt_start(&f->bv), 0);
	f->c.role = "central";
	f->p.role = "peripheral";
	assert_int_equal(hci_dev_new(f->e, f->bv.spec, &cb, &f->c, NULL, &f->c.hci), 0);
	hci_dev_set_debug(f->c.hci, on_debug, &f->c, NULL);
	assert_int_equal(hci_dev_new(f->e, f->bv.spec, &cb, &f->p, NULL, &f->p.hci), 0);
	hci_dev_set_debug(f->p.hci, on_debug, &f->p, NULL);
	WAIT_FOR(f, f->c.ready && f->p.ready, 5000);
	assert_int_equal(f->c.ready_err, 0);
	assert_int_equal(f->p.ready_err, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	gatt_client_free(f->c.gc);
	gatt_server_free(f->p.gs);
	hci_dev_free(f->c.hci);
	hci_dev_free(f->p.hci);
	btvirt_stop(&f->bv);
	sd_event_unref(f->e);
	free(f);
	return 0;
}

static void advertise(struct fx *f)
{
	const struct hci_adv_params ap = {.name = PERIPH_NAME, .uuid = &bt_uuid_smp_service};

	assert_int_equal(hci_adv_start(f->p.hci, &ap, on_accept, &f->p, NULL), 0);
	WAIT_FOR(f, f->p.hci->sent == NULL && f->p.hci->cmd_head == NULL, 2000);
	assert_true(hci_is_advertising(f->p.hci));
}

static void scan_for_peripheral(struct fx *f)
{
	f->c.found = false;
	assert_int_equal(hci_scan_start(f->c.hci, NULL, on_scan, &f->c, NULL), 0);
	WAIT_FOR(f, f->c.found, 3000);
	assert_int_equal(hci_scan_stop(f->c.hci), 0);
}

/* Central connects to what it found and brings GATT up. */
static void connect_gatt(struct fx *f)
{
	f->c.connect_done = false;
	assert_int_equal(hci_connect(f->c.hci, &f->c.seen.addr, NULL, on_connect, &f->c, NULL), 0);
	WAIT_FOR(f, f->c.connect_done, 3000);
	assert_int_equal(f->c.connect_err, 0);
	WAIT_FOR(f, f->c.gatt_ready || f->c.gatt_err <= 0, 5000);
	assert_int_equal(f->c.gatt_err, 0);
	assert_true(f->p.subscribed);
}

static void test_init_reads_emulator_buffers(void **state)
{
	struct fx *f = *state;
	struct hci_flow fl;
	struct hci_dev_info info;
	char a[BT_ADDR_STRLEN];

	hci_dev_get_flow(f->c.hci, &fl);
	/* btvirt's LE controller: 192-byte ACL buffers, one of them (emulator/btdev.c) */
	assert_int_equal(fl.acl_mtu, 192);
	assert_int_equal(fl.acl_total, 1);
	assert_int_equal(fl.acl_free, 1);
	hci_dev_get_info(f->c.hci, &info);
	print_message("btvirt LE controller: %s, HCI version %u, manufacturer %u, LE features "
		      "0x%016llx, ext scan %d, DLE %d, 2M %d\n",
		      bt_addr_to_str(&info.addr, a), info.hci_version, info.manufacturer,
		      (unsigned long long)info.le_features, info.ext_scan, info.data_len_ext,
		      info.le_2m_phy);
	assert_int_not_equal(memcmp(info.addr.b, "\0\0\0\0\0\0", 6), 0);
}

static void test_central_finds_peripheral_by_name_and_smp_uuid(void **state)
{
	struct fx *f = *state;
	struct hci_dev_info pinfo;

	advertise(f);
	scan_for_peripheral(f);
	hci_dev_get_info(f->p.hci, &pinfo);
	assert_true(bt_addr_equal(&f->c.seen.addr, &pinfo.addr));
	assert_true(f->c.seen.ad.name_complete);
	assert_true(f->c.seen.ad.has_flags);
	assert_int_equal(f->c.seen.ad.flags, ADV_FLAG_LE_GENERAL_DISC | ADV_FLAG_NO_BREDR);
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static void test_gatt_writes_and_notifications_span_acl_packets(void **state)
{
	struct fx *f = *state;
	uint8_t buf[512], all[16 * 512];
	size_t total = 0;
	struct hci_flow fl;
	struct hci_conn_info ci;

	advertise(f);
	scan_for_peripheral(f);
	connect_gatt(f);
	assert_int_equal(gatt_client_mtu(f->c.gc), GATT_DEFAULT_MTU);
	WAIT_FOR(f, gatt_server_mtu(f->p.gs) == GATT_DEFAULT_MTU, 1000);
	hci_conn_get_info(f->c.conn, &ci);
	print_message("connection: interval %u, latency %u, timeout %u, tx %u octets, PHY %u\n",
		      ci.interval, ci.latency, ci.supervision_timeout, ci.tx_octets, ci.tx_phy);

	/* 495-byte values: ATT 498 + L2CAP 4 = 502 bytes = 3 ACL packets of <= 192 */
	assert_int_equal(gatt_client_max_write(f->c.gc), 495);
	assert_int_equal(gatt_client_write(f->c.gc, buf, 496), -EMSGSIZE);
	for (unsigned i = 0; i < 16; i++) {
		size_t len = i % 2 ? 495 : 1 + i * 30;

		fill(buf, len, i);
		memcpy(all + total, buf, len);
		total += len;
		assert_int_equal(gatt_client_write(f->c.gc, buf, len), 0);
	}
	assert_true(gatt_client_backlog(f->c.gc) > 0);
	WAIT_FOR(f, f->p.rx_len == total, 5000);
	assert_memory_equal(f->p.rx, all, total);
	assert_int_equal(f->p.rx_count, 16);
	WAIT_FOR(f, gatt_client_backlog(f->c.gc) == 0, 1000);
	assert_true(f->c.writable > 0);

	/* and back: notifications of the full size */
	total = 0;
	for (unsigned i = 0; i < 8; i++) {
		fill(buf, 495, 100 + i);
		memcpy(all + total, buf, 495);
		total += 495;
		assert_int_equal(gatt_server_notify(f->p.gs, buf, 495), 0);
	}
	assert_int_equal(gatt_server_notify(f->p.gs, buf, 496), -EMSGSIZE);
	WAIT_FOR(f, f->c.rx_len == total, 5000);
	assert_memory_equal(f->c.rx, all, total);

	/* never more ACL packets in the controller than it has buffers */
	hci_dev_get_flow(f->c.hci, &fl);
	assert_int_equal(fl.acl_peak, 1);
	hci_dev_get_flow(f->p.hci, &fl);
	assert_int_equal(fl.acl_peak, 1);
	WAIT_FOR(f, hci_conn_in_flight(f->c.conn) == 0, 1000);
	hci_dev_get_flow(f->c.hci, &fl);
	assert_int_equal(fl.acl_free, 1);
}

static void test_mtu_23_client_works(void **state)
{
	struct fx *f = *state;
	uint8_t buf[20];

	f->c.client_mtu = ATT_MIN_MTU;
	advertise(f);
	scan_for_peripheral(f);
	connect_gatt(f);
	assert_int_equal(gatt_client_mtu(f->c.gc), 23);
	assert_int_equal(gatt_client_max_write(f->c.gc), 20);
	fill(buf, 20, 7);
	assert_int_equal(gatt_client_write(f->c.gc, buf, 20), 0);
	assert_int_equal(gatt_server_notify(f->p.gs, buf, 20), 0);
	WAIT_FOR(f, f->p.rx_len == 20 && f->c.rx_len == 20, 3000);
	assert_memory_equal(f->p.rx, buf, 20);
	assert_memory_equal(f->c.rx, buf, 20);
}

static void test_disconnect_reason_readvertise_and_reconnect(void **state)
{
	struct fx *f = *state;
	uint8_t buf[300];

	advertise(f);
	scan_for_peripheral(f);
	connect_gatt(f);
	assert_false(hci_is_advertising(f->p.hci)); /* stopped by the connection */
	assert_int_equal(hci_conn_disconnect(f->c.conn, 0), 0);
	WAIT_FOR(f, f->c.disconnects == 1 && f->p.disconnects == 1, 3000);
	assert_int_equal(f->c.reason, HCI_ERR_REMOTE_USER_TERM);
	assert_int_equal(f->p.reason, HCI_ERR_REMOTE_USER_TERM);
	assert_string_equal(hci_strerror(f->p.reason), "Remote User Terminated Connection");

	/* the peripheral advertises again by itself; the central finds it and reconnects */
	WAIT_FOR(f, hci_is_advertising(f->p.hci) && !f->p.hci->sent, 2000);
	scan_for_peripheral(f);
	connect_gatt(f);
	assert_int_equal(f->c.connects, 2);
	assert_int_equal(f->p.connects, 2);
	fill(buf, sizeof(buf), 3);
	assert_int_equal(gatt_client_write(f->c.gc, buf, sizeof(buf)), 0);
	WAIT_FOR(f, f->p.rx_len == sizeof(buf), 3000);
	assert_memory_equal(f->p.rx, buf, sizeof(buf));
}

struct closing {
	struct node *n;
	bool done;
	int err;
	unsigned disconnects; /* the node's, when the close reported */
};

static void on_closed(struct hci_dev *hci, int err, void *user_data)
{
	struct closing *cl = user_data;

	cl->done = true;
	cl->err = err;
	cl->disconnects = cl->n->disconnects;
	cl->n->hci = hci_dev_free(hci); /* allowed from here */
}

/* Closing the central ends its link, confirmed by the controller, before the close reports and
 * the device is freed: the peripheral hears of it and advertises again. A command in flight
 * does not hold the Disconnect back. */
static void test_closing_the_central_disconnects_the_peripheral(void **state)
{
	struct fx *f = *state;
	struct closing cl = {.n = &f->c};

	advertise(f);
	scan_for_peripheral(f);
	connect_gatt(f);
	assert_int_equal(hci_conn_update(f->c.conn, &(struct hci_conn_params){12, 24, 0, 300, 0}),
			 0);
	f->c.gc = gatt_client_free(f->c.gc);
	assert_int_equal(hci_dev_close(f->c.hci, 2 * USEC_PER_SEC, on_closed, &cl, NULL), 0);
	assert_int_equal(hci_dev_close(f->c.hci, 2 * USEC_PER_SEC, on_closed, &cl, NULL),
			 -EALREADY);
	assert_false(cl.done); /* from the loop, not from inside the call */
	WAIT_FOR(f, cl.done, 3000);
	assert_int_equal(cl.err, 0);
	assert_int_equal(cl.disconnects, 1); /* the link's callback ran first */
	assert_int_equal(f->c.reason, HCI_ERR_REMOTE_USER_TERM);
	WAIT_FOR(f, f->p.disconnects == 1, 3000);
	assert_int_equal(f->p.reason, HCI_ERR_REMOTE_USER_TERM);
	WAIT_FOR(f, hci_is_advertising(f->p.hci), 2000); /* and it advertises again */

	/* a device with no link, advertising: done at once, from the loop */
	cl = (struct closing){.n = &f->p};
	assert_int_equal(hci_dev_close(f->p.hci, 2 * USEC_PER_SEC, on_closed, &cl, NULL), 0);
	assert_false(cl.done);
	WAIT_FOR(f, cl.done, 1000);
	assert_int_equal(cl.err, 0);
	assert_null(f->p.hci);
}

/* A controller that never confirms (btvirt stopped): the close gives up at its bound. */
static void test_closing_is_bounded(void **state)
{
	struct fx *f = *state;
	struct closing cl = {.n = &f->c};

	advertise(f);
	scan_for_peripheral(f);
	connect_gatt(f);
	assert_int_equal(kill(f->bv.pid, SIGSTOP), 0);
	assert_int_equal(hci_dev_close(f->c.hci, 200 * USEC_PER_MSEC, on_closed, &cl, NULL), 0);
	WAIT_FOR(f, cl.done, 3000);
	assert_int_equal(kill(f->bv.pid, SIGCONT), 0);
	assert_int_equal(cl.err, -ETIMEDOUT);
	assert_int_equal(cl.disconnects, 0);
}

static void test_connect_to_silent_address_fails_with_named_error(void **state)
{
	struct fx *f = *state;
	struct bt_addr nobody;

	assert_int_equal(bt_addr_from_str("00:11:22:33:44:55", BT_ADDR_LE_PUBLIC, &nobody), 0);
	assert_int_equal(hci_connect(f->c.hci, &nobody, NULL, on_connect, &f->c, NULL), 0);
	assert_int_equal(hci_connect(f->c.hci, &nobody, NULL, on_connect, &f->c, NULL), -EBUSY);
	WAIT_FOR(f, f->c.connect_done, 3000);
	/* btvirt fails at once where a radio would wait: 0x3e, named */
	assert_int_equal(f->c.connect_err, -EIO);
	assert_int_equal(f->c.connect_status, HCI_ERR_CONN_FAILED_TO_ESTABLISH);
	assert_true(tl_contains(
		hci_dev_last_error(f->c.hci),
		"LE Create Connection failed: 0x3e Connection Failed to be Established"));
	assert_string_equal(f->c.cmd_error, hci_dev_last_error(f->c.hci));
}

static void on_raw(struct hci_dev *hci, uint8_t status, const uint8_t *ret, size_t len, void *ud)
{
	struct node *n = ud;

	n->raw_done = true;
	n->raw_status = status;
}

static void test_controller_refusals_are_named(void **state)
{
	struct fx *f = *state;
	uint8_t params[15];

	/* a random own address that was never set: Invalid HCI Command Parameters at enable */
	hci_le_adv_params_build(160, 240, params);
	params[5] = BT_ADDR_LE_RANDOM;
	assert_int_equal(hci_send_cmd(f->p.hci, HCI_OP_LE_SET_ADV_PARAMS, params, 15, NULL, NULL),
			 0);
	params[0] = 1;
	assert_int_equal(hci_send_cmd(f->p.hci, HCI_OP_LE_SET_ADV_ENABLE, params, 1, on_raw, &f->p),
			 0);
	WAIT_FOR(f, f->p.raw_done, 2000);
	assert_int_equal(f->p.raw_status, HCI_ERR_INVALID_PARAMS);
	assert_string_equal(
		f->p.cmd_error,
		"LE Set Advertising Enable failed: 0x12 Invalid HCI Command Parameters");

	/* a command this controller lacks: its Command Status names it */
	f->c.raw_done = false;
	assert_int_equal(
		hci_send_cmd(f->c.hci, HCI_OP_LE_READ_BUFFER_SIZE_V2, NULL, 0, on_raw, &f->c), 0);
	WAIT_FOR(f, f->c.raw_done, 2000);
	assert_string_equal(f->c.cmd_error,
			    "LE Read Buffer Size v2 failed: 0x01 Unknown HCI Command");

	/* scanning disabled twice: Command Disallowed */
	f->c.raw_done = false;
	params[0] = 0;
	params[1] = 0;
	assert_int_equal(
		hci_send_cmd(f->c.hci, HCI_OP_LE_SET_SCAN_ENABLE, params, 2, on_raw, &f->c), 0);
	WAIT_FOR(f, f->c.raw_done, 2000);
	assert_string_equal(f->c.cmd_error, "LE Set Scan Enable failed: 0x0c Command Disallowed");
	assert_true(hci_dev_is_ready(f->c.hci)); /* refusals do not kill the device */
}

static void test_client_without_service_reports_not_found(void **state)
{
	struct fx *f = *state;
	const struct bt_uuid128 other = {{1, 2, 3}};
	const struct gatt_client_params gp = {&other, &bt_uuid_smp_char, 0};

	advertise(f);
	scan_for_peripheral(f);
	connect_gatt(f);
	gatt_client_free(f->c.gc);
	f->c.gc = NULL;
	f->c.gatt_err = 1;
	assert_int_equal(gatt_client_new(f->c.conn, &gp, &client_cb, &f->c, NULL, &f->c.gc), 0);
	WAIT_FOR(f, f->c.gatt_err <= 0, 3000);
	assert_int_equal(f->c.gatt_err, -ENOENT);
}

static void test_emulator_death_is_fatal_and_reported(void **state)
{
	struct fx *f = *state;

	advertise(f);
	scan_for_peripheral(f);
	connect_gatt(f);
	btvirt_stop(&f->bv);
	WAIT_FOR(f, f->c.disconnects == 1 && f->p.disconnects == 1, 3000);
	assert_int_equal(f->c.reason, 0x03); /* Hardware Failure: the controller is gone */
	assert_int_equal(f->p.reason, 0x03);
	assert_int_equal(f->p.accept_err, -ENOTCONN); /* advertising ended with the device */
	assert_false(hci_dev_is_ready(f->c.hci));
	assert_true(tl_contains(hci_dev_last_error(f->c.hci), "HCI driver failed"));
	assert_int_equal(hci_scan_start(f->c.hci, NULL, on_scan, &f->c, NULL), -EAGAIN);
}

static void test_connection_parameter_requests_are_answered(void **state)
{
	struct fx *f = *state;
	const struct hci_conn_params cp = {
		.interval_min = 12, .interval_max = 24, .latency = 2, .supervision_timeout = 300};
	struct hci_conn_info ci;
	/* L2CAP Connection Parameter Update Request (Core 5.4 Vol 3 Part A 4.20) from the
	 * peripheral: interval 8..16, latency 0, timeout 200 */
	const uint8_t req[] = {0x12, 0x07, 0x08, 0x00, 0x08, 0x00,
			       0x10, 0x00, 0x00, 0x00, 0xc8, 0x00};

	advertise(f);
	scan_for_peripheral(f);
	connect_gatt(f);
	/* LE Connection Update from the central: btvirt (Connection Parameters Request
	 * procedure) asks the peripheral's host, which replies (7.8.31) */
	assert_int_equal(hci_conn_update(f->c.conn, &cp), 0);
	WAIT_FOR(f, f->c.updates == 1 && f->p.updates == 1, 3000);
	hci_conn_get_info(f->p.conn, &ci);
	assert_int_equal(ci.interval, 12);
	assert_int_equal(ci.latency, 2);
	assert_int_equal(ci.supervision_timeout, 300);

	/* the peripheral's L2CAP request: the central accepts and updates the link */
	assert_int_equal(l2cap_send(f->p.conn, L2CAP_CID_LE_SIGNALING, req, sizeof(req)), 0);
	WAIT_FOR(f, f->c.updates == 2 && f->p.updates == 2, 3000);
	hci_conn_get_info(f->c.conn, &ci);
	assert_int_equal(ci.interval, 8);
	assert_int_equal(ci.latency, 0);
	assert_int_equal(ci.supervision_timeout, 200);
}

struct raw_rsp {
	bool done;
	int err;
	uint8_t pdu[600];
	size_t len;
};

static void on_att_rsp(struct att *att, int err, uint8_t ecode, const uint8_t *pdu, size_t len,
		       void *user_data)
{
	struct raw_rsp *r = user_data;

	r->done = true;
	r->err = err;
	r->len = len;
	if (len)
		memcpy(r->pdu, pdu, len);
}

/* Sends one ATT request from the central and checks the peripheral's exact answer. */
static void att_roundtrip(struct fx *f, const uint8_t *req, size_t len, const uint8_t *want,
			  size_t want_len)
{
	struct raw_rsp r = {0};
	struct att *att;

	assert_int_equal(att_attach(f->c.conn, &att), 0);
	assert_int_equal(att_request(att, req, len, on_att_rsp, &r), 0);
	WAIT_FOR(f, r.done, 3000);
	assert_int_equal(r.len, want_len);
	assert_memory_equal(r.pdu, want, want_len);
}

static void test_gatt_server_answers_discovery_and_reads(void **state)
{
	struct fx *f = *state;
	uint8_t want[64];
	size_t n;

	advertise(f);
	scan_for_peripheral(f);
	connect_gatt(f);
	/* Read By Group Type, primary services (Core 5.4 Vol 3 Part F 3.4.4.9): one entry
	 * length per response, so GAP first, then the SMP service */
	att_roundtrip(f, (uint8_t[]){0x10, 0x01, 0x00, 0xff, 0xff, 0x00, 0x28}, 7,
		      (uint8_t[]){0x11, 0x06, 0x01, 0x00, 0x03, 0x00, 0x00, 0x18}, 8);
	memcpy(want, (uint8_t[]){0x11, 0x14, 0x04, 0x00, 0x07, 0x00}, 6);
	memcpy(want + 6, bt_uuid_smp_service.b, 16);
	att_roundtrip(f, (uint8_t[]){0x10, 0x04, 0x00, 0xff, 0xff, 0x00, 0x28}, 7, want, 22);
	att_roundtrip(f, (uint8_t[]){0x10, 0x08, 0x00, 0xff, 0xff, 0x00, 0x28}, 7,
		      (uint8_t[]){0x01, 0x10, 0x08, 0x00, 0x0a}, 5);
	/* Find By Type Value (3.4.3.3): the SMP service by its UUID; type 0x0000 is no type here
	 * (the characteristic value's is 128-bit, which this request cannot name) */
	memcpy(want, (uint8_t[]){0x06, 0x01, 0x00, 0xff, 0xff, 0x00, 0x28}, 7);
	memcpy(want + 7, bt_uuid_smp_service.b, 16);
	att_roundtrip(f, want, 23, (uint8_t[]){0x07, 0x04, 0x00, 0x07, 0x00}, 5);
	att_roundtrip(f, (uint8_t[]){0x06, 0x01, 0x00, 0xff, 0xff, 0x00, 0x00}, 7,
		      (uint8_t[]){0x01, 0x06, 0x01, 0x00, 0x0a}, 5);
	/* Read By Type, Device Name */
	memcpy(want, (uint8_t[]){0x09, 2 + 14, 0x03, 0x00}, 4);
	memcpy(want + 4, PERIPH_NAME, 14);
	att_roundtrip(f, (uint8_t[]){0x08, 0x01, 0x00, 0xff, 0xff, 0x00, 0x2a}, 7, want, 18);
	/* Find Information: 16-bit types up to the 128-bit characteristic value */
	att_roundtrip(f, (uint8_t[]){0x04, 0x01, 0x00, 0xff, 0xff}, 5,
		      (uint8_t[]){0x05, 0x01, 0x01, 0x00, 0x00, 0x28, 0x02, 0x00, 0x03, 0x28, 0x03,
				  0x00, 0x00, 0x2a, 0x04, 0x00, 0x00, 0x28, 0x05, 0x00, 0x03, 0x28},
		      22);
	memcpy(want, (uint8_t[]){0x05, 0x02, 0x06, 0x00}, 4);
	memcpy(want + 4, bt_uuid_smp_char.b, 16);
	att_roundtrip(f, (uint8_t[]){0x04, 0x06, 0x00, 0x06, 0x00}, 5, want, 20);
	/* reads: value not readable, blob of the name, CCCD on, bad handle */
	att_roundtrip(f, (uint8_t[]){0x0a, 0x06, 0x00}, 3,
		      (uint8_t[]){0x01, 0x0a, 0x06, 0x00, 0x02}, 5);
	n = strlen(PERIPH_NAME) - 7;
	want[0] = 0x0d;
	memcpy(want + 1, &PERIPH_NAME[7], n);
	att_roundtrip(f, (uint8_t[]){0x0c, 0x03, 0x00, 0x07, 0x00}, 5, want, 1 + n);
	att_roundtrip(f, (uint8_t[]){0x0a, 0x07, 0x00}, 3, (uint8_t[]){0x0b, 0x01, 0x00}, 3);
	att_roundtrip(f, (uint8_t[]){0x0a, 0x99, 0x00}, 3,
		      (uint8_t[]){0x01, 0x0a, 0x99, 0x00, 0x01}, 5);
	/* writes: the name is read-only; an unsupported request is refused by name */
	att_roundtrip(f, (uint8_t[]){0x12, 0x03, 0x00, 'x'}, 4,
		      (uint8_t[]){0x01, 0x12, 0x03, 0x00, 0x03}, 5);
	att_roundtrip(f, (uint8_t[]){0x20, 0x01, 0x00, 0x03, 0x00}, 5,
		      (uint8_t[]){0x01, 0x20, 0x00, 0x00, 0x06}, 5);
	assert_string_equal(att_strerror(0x06), "Request Not Supported");
	/* CCCD off by Write Request */
	att_roundtrip(f, (uint8_t[]){0x12, 0x07, 0x00, 0x00, 0x00}, 5, (uint8_t[]){0x13}, 1);
	assert_false(f->p.subscribed);
	assert_int_equal(gatt_server_notify(f->p.gs, (uint8_t *)"x", 1), -EPIPE);
}

static void test_bulk_writes_throughput(void **state)
{
	struct fx *f = *state;
	const unsigned count = 400;
	uint8_t buf[495];
	uint64_t hash = 0xcbf29ce484222325ULL, t0, ms;
	struct hci_flow fl;

	advertise(f);
	scan_for_peripheral(f);
	connect_gatt(f);
	f->p.count_only = true;
	f->p.rx_hash = hash;
	t0 = now_ms();
	for (unsigned i = 0; i < count; i++) {
		fill(buf, sizeof(buf), i);
		for (size_t k = 0; k < sizeof(buf); k++)
			hash = (hash ^ buf[k]) * 0x100000001b3ULL;
		assert_int_equal(gatt_client_write(f->c.gc, buf, sizeof(buf)), 0);
		/* pace on the host backlog the way the transport will */
		WAIT_FOR(f, gatt_client_backlog(f->c.gc) < 2 * sizeof(buf), 2000);
	}
	WAIT_FOR(f, f->p.rx_total == (uint64_t)count * sizeof(buf), 10000);
	ms = now_ms() - t0;
	assert_true(f->p.rx_hash == hash);
	hci_dev_get_flow(f->c.hci, &fl);
	assert_int_equal(fl.acl_peak, 1);
	print_message("bulk: %u Write Commands of %zu bytes (%u ACL packets each) in %llu ms\n",
		      count, sizeof(buf), 3u, (unsigned long long)ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_reads_emulator_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_central_finds_peripheral_by_name_and_smp_uuid,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_gatt_writes_and_notifications_span_acl_packets,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mtu_23_client_works, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk_writes_throughput, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_reason_readvertise_and_reconnect,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_closing_the_central_disconnects_the_peripheral,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_closing_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_connect_to_silent_address_fails_with_named_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_controller_refusals_are_named, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_without_service_reports_not_found,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_gatt_server_answers_discovery_and_reads, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_connection_parameter_requests_are_answered,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_emulator_death_is_fatal_and_reported, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
