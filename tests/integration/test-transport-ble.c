/* test-transport-ble.c — the BLE transport against a peripheral of the bt/ host played by the
 * test, both on BlueZ's controller emulator: specs, finding the device by name and address,
 * SMP packets cut into Write Commands and reassembled from notifications at MTU 498 and 23,
 * backlog and writable(), disconnection reasons, the settle rule of tr_reconnect(), and every
 * way of not coming up (no controller, no device, no SMP characteristic). Bounded waits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/btvirt.h"
#include "lib/testlib.h"
#include "otad/bt.h"
#include "otad/transport.h"
#include "util/macro.h"

#define NAME	"smp-dev-1"
#define OBS_MAX 64

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

/* The device: a peripheral with the SMP GATT database, collecting what is written. */
struct periph {
	struct hci_dev *hci;
	bool ready;
	struct hci_conn *conn;
	struct gatt_server *gs;
	const struct bt_uuid128 *chr; /* characteristic served */
	uint16_t mtu;
	bool subscribed;
	unsigned connects, disconnects;
	uint64_t connected_ms;
	uint8_t rx[8192];
	size_t rx_len;
	size_t writes, max_write;
};

/* The transport's owner. */
struct obs {
	struct tr *t;
	unsigned up, down;
	int down_err;
	size_t npkt;
	uint8_t pkt[OBS_MAX][4096];
	size_t pkt_len[OBS_MAX];
	size_t ndiscard;
	char discard[OBS_MAX][300];
	unsigned writable;
};

struct fx {
	sd_event *e;
	struct btvirt bv;
	struct periph p;
	struct obs o;
	struct tr_options opt;
};

/* ---- peripheral ---------------------------------------------------------------------------- */

static void p_ready(struct hci_dev *hci, int err, uint8_t status, void *user_data)
{
	struct periph *p = user_data;

	assert_int_equal(err, 0);
	p->ready = true;
}

static void p_disconnected(struct hci_conn *c, uint8_t reason, void *user_data)
{
	struct periph *p = user_data;

	p->disconnects++;
	p->conn = NULL;
	p->subscribed = false;
	p->gs = gatt_server_free(p->gs);
}

static void p_write(struct gatt_server *s, const uint8_t *v, size_t len, void *user_data)
{
	struct periph *p = user_data;

	assert_true(p->rx_len + len <= sizeof(p->rx));
	memcpy(p->rx + p->rx_len, v, len);
	p->rx_len += len;
	p->writes++;
	if (len > p->max_write)
		p->max_write = len;
}

static void p_subscribed(struct gatt_server *s, bool enabled, void *user_data)
{
	((struct periph *)user_data)->subscribed = enabled;
}

static void p_accept(struct hci_dev *hci, int err, struct hci_conn *conn, void *user_data)
{
	static const struct hci_conn_callbacks cb = {.disconnected = p_disconnected};
	static const struct gatt_server_callbacks scb = {.write = p_write,
							 .subscribed = p_subscribed};
	struct periph *p = user_data;
	const struct gatt_server_params sp = {NAME, &bt_uuid_smp_service, p->chr, p->mtu};

	if (err)
		return;
	p->connects++;
	p->connected_ms = now_ms();
	p->conn = conn;
	hci_conn_set_callbacks(conn, &cb, p, NULL);
	assert_int_equal(gatt_server_new(conn, &sp, &scb, p, NULL, &p->gs), 0);
}

static void advertise(struct fx *f)
{
	const struct hci_adv_params ap = {.name = NAME, .uuid = &bt_uuid_smp_service};

	assert_int_equal(hci_adv_start(f->p.hci, &ap, p_accept, &f->p, NULL), 0);
}

/* Notifies buf cut to the negotiated MTU, as Zephyr's smp_bt_tx_pkt does. */
static void notify_sliced(struct periph *p, const uint8_t *buf, size_t len)
{
	size_t max = gatt_server_max_notify(p->gs);

	for (size_t off = 0; off < len; off += max)
		assert_int_equal(gatt_server_notify(p->gs, buf + off, MIN(max, len - off)), 0);
}

/* ---- transport owner ------------------------------------------------------------------------ */

static void o_recv(struct tr *t, const uint8_t *pkt, size_t len, void *user_data)
{
	struct obs *o = user_data;

	if (o->npkt < OBS_MAX && len <= sizeof(o->pkt[0])) {
		memcpy(o->pkt[o->npkt], pkt, len);
		o->pkt_len[o->npkt] = len;
	}
	o->npkt++;
}

static void o_event(struct tr *t, enum tr_event ev, int err, void *user_data)
{
	struct obs *o = user_data;

	if (ev == TR_EVENT_UP) {
		o->up++;
		assert_true(tr_is_up(t));
	} else {
		o->down++;
		o->down_err = err;
	}
}

static void o_writable(struct tr *t, void *user_data)
{
	((struct obs *)user_data)->writable++;
}

static void o_discard(struct tr *t, const char *what, void *user_data)
{
	struct obs *o = user_data;

	if (getenv("OTAD_BT_DEBUG"))
		fprintf(stderr, "discard: %s\n", what);
	if (o->ndiscard < OBS_MAX)
		snprintf(o->discard[o->ndiscard], sizeof(o->discard[0]), "%s", what);
	o->ndiscard++;
}

static const struct tr_callbacks obs_cb = {
	.recv = o_recv, .event = o_event, .writable = o_writable, .discard = o_discard};

static bool discarded(const struct obs *o, const char *needle)
{
	for (size_t i = 0; i < o->ndiscard && i < OBS_MAX; i++)
		if (strstr(o->discard[i], needle))
			return true;
	return false;
}

static void open_tr(struct fx *f, const char *spec)
{
	assert_int_equal(tr_open(f->e, spec, &f->opt, &f->o.t), 0);
	tr_set_callbacks(f->o.t, &obs_cb, &f->o);
}

/* ---- fixture -------------------------------------------------------------------------------- */

static int setup(void **state)
{
	static const struct hci_dev_callbacks cb = {.ready = p_ready};
	struct fx *f;

	if (!btvirt_available())
		skip();
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(sd_event_new(&f->e), 0);
	assert_int_equal(btvirt_start(&f->bv), 0);
	f->p.chr = &bt_uuid_smp_char;
	assert_int_equal(hci_dev_new(f->e, f->bv.spec, &cb, &f->p, NULL, &f->p.hci), 0);
	WAIT_FOR(f, f->p.ready, 5000);
	f->opt.hci = f->bv.spec;
	f->opt.connect_timeout_usec = 3 * USEC_PER_SEC;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	tr_free(f->o.t);
	gatt_server_free(f->p.gs);
	hci_dev_free(f->p.hci);
	btvirt_stop(&f->bv);
	sd_event_unref(f->e);
	free(f);
	return 0;
}

static void make_pkt(uint8_t *p, size_t len, uint8_t op, uint8_t seq)
{
	p[0] = op;
	p[1] = 0;
	p[2] = (uint8_t)((len - 8) >> 8);
	p[3] = (uint8_t)(len - 8);
	p[4] = 0;
	p[5] = 1;
	p[6] = seq;
	p[7] = 1;
	for (size_t i = 8; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seq);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_specs_are_checked_and_described(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"ble:",
		"ble:name=",
		"ble:C0:11:22:33:44",
		"ble:C0:11:22:33:44:55:66",
		"ble:C0:11:22:33:44:5Z",
		"ble:C0:11:22:33:44:55/",
		"ble:C0:11:22:33:44:55/static",
	};
	struct tr_options bad_hci = {.hci = "bogus:x"};
	struct tr *t = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tr_open(f->e, bad[i], &f->opt, &t) != -EINVAL)
			fail_msg("\"%s\" not rejected", bad[i]);
	assert_int_equal(tr_open(f->e, "ble:name=x", NULL, &t), -EINVAL);
	assert_int_equal(tr_open(f->e, "ble:name=x", &bad_hci, &t), -EINVAL);
	assert_null(t);
	assert_int_equal(tr_open(f->e, "ble:c0:11:22:33:44:55/random", &f->opt, &t), 0);
	assert_string_equal(tr_describe(t), "ble:C0:11:22:33:44:55/random");
	assert_false(tr_is_up(t));
	assert_int_equal(tr_max_packet(t), 8 + 65535);
	assert_int_equal(tr_frame_overhead(t), 0);
	assert_int_equal(tr_backlog(t), 0);
	assert_int_equal(tr_send(t, (const uint8_t *)"12345678", 8), -ENOTCONN);
	t = tr_free(t);
	assert_int_equal(tr_open(f->e, "ble:name=a b/c:d=e", &f->opt, &t), 0);
	assert_string_equal(tr_describe(t), "ble:name=a b/c:d=e");
	tr_free(t);
}

static void test_finds_by_name_and_carries_packets_at_mtu_498(void **state)
{
	struct fx *f = *state;
	uint8_t req[2475], rsp[1100], small[20];

	advertise(f);
	open_tr(f, "ble:name=" NAME);
	WAIT_FOR(f, f->o.up == 1, 5000);
	assert_true(f->p.subscribed);
	assert_int_equal(gatt_server_mtu(f->p.gs), 498);

	/* a whole Zephyr-sample buffer: five Write Commands of <= 495 bytes */
	make_pkt(req, sizeof(req), 0x0a, 1);
	assert_int_equal(tr_send(f->o.t, req, sizeof(req)), 0);
	assert_true(tr_backlog(f->o.t) > 0); /* btvirt takes one ACL packet at a time */
	WAIT_FOR(f, f->p.rx_len == sizeof(req), 5000);
	assert_memory_equal(f->p.rx, req, sizeof(req));
	assert_int_equal(f->p.writes, 5);
	assert_int_equal(f->p.max_write, 495);
	WAIT_FOR(f, f->o.writable > 0, 2000);
	assert_int_equal(tr_backlog(f->o.t), 0);

	/* a response in three notifications, then a small one */
	make_pkt(rsp, sizeof(rsp), 0x0b, 1);
	make_pkt(small, sizeof(small), 0x0b, 2);
	notify_sliced(&f->p, rsp, sizeof(rsp));
	notify_sliced(&f->p, small, sizeof(small));
	WAIT_FOR(f, f->o.npkt == 2, 3000);
	assert_int_equal(f->o.pkt_len[0], sizeof(rsp));
	assert_memory_equal(f->o.pkt[0], rsp, sizeof(rsp));
	assert_int_equal(f->o.pkt_len[1], sizeof(small));
	assert_memory_equal(f->o.pkt[1], small, sizeof(small));
	assert_int_equal(f->o.ndiscard, 0);
	assert_int_equal(tr_send(f->o.t, req, 65544), -EMSGSIZE);
}

static void test_finds_by_address_at_mtu_23_and_drops_garbage(void **state)
{
	struct fx *f = *state;
	struct hci_dev_info info;
	char spec[64], a[BT_ADDR_STRLEN];
	uint8_t req[300], rsp[90];
	const uint8_t garbage[] = {0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77};

	f->p.mtu = 23; /* the device accepts no more */
	advertise(f);
	hci_dev_get_info(f->p.hci, &info);
	snprintf(spec, sizeof(spec), "ble:%s/public", bt_addr_to_str(&info.addr, a));
	open_tr(f, spec);
	WAIT_FOR(f, f->o.up == 1, 5000);
	assert_int_equal(gatt_server_mtu(f->p.gs), 23);

	make_pkt(req, sizeof(req), 0x0a, 2);
	assert_int_equal(tr_send(f->o.t, req, sizeof(req)), 0);
	WAIT_FOR(f, f->p.rx_len == sizeof(req), 5000);
	assert_memory_equal(f->p.rx, req, sizeof(req));
	assert_int_equal(f->p.writes, 15); /* 300 / 20 */
	assert_int_equal(f->p.max_write, 20);

	notify_sliced(&f->p, garbage, sizeof(garbage));
	make_pkt(rsp, sizeof(rsp), 0x0b, 2);
	notify_sliced(&f->p, rsp, sizeof(rsp)); /* five notifications */
	WAIT_FOR(f, f->o.npkt == 1, 3000);
	assert_memory_equal(f->o.pkt[0], rsp, sizeof(rsp));
	assert_true(discarded(&f->o, "notification: not an SMP header"));
}

static void test_disconnect_reason_and_reconnect_after_settle(void **state)
{
	struct fx *f = *state;
	uint8_t req[100];
	uint64_t t0;

	f->opt.settle_usec = 300 * USEC_PER_MSEC;
	advertise(f);
	open_tr(f, "ble:name=" NAME);
	WAIT_FOR(f, f->o.up == 1, 5000);
	assert_int_equal(f->p.connects, 1);

	/* the device drops the link: DOWN with the reason as errno, named */
	assert_int_equal(hci_conn_disconnect(f->p.conn, 0x15), 0);
	WAIT_FOR(f, f->o.down == 1, 3000);
	assert_int_equal(f->o.down_err, -EHOSTDOWN);
	assert_false(tr_is_up(f->o.t));
	assert_true(discarded(&f->o, "link to "));
	assert_true(discarded(&f->o, "0x15 Remote Device Terminated Connection due to Power Off"));
	assert_int_equal(tr_send(f->o.t, req, sizeof(req)), -ENOTCONN);

	/* back: seen advertising, seen again settle later, then connected */
	t0 = now_ms();
	assert_int_equal(tr_reconnect(f->o.t), 0);
	assert_int_equal(tr_reconnect(f->o.t), 0); /* already on its way */
	WAIT_FOR(f, f->o.up == 2, 5000);
	assert_int_equal(f->p.connects, 2);
	assert_true(f->p.connected_ms - t0 >= 300);
	assert_int_equal(f->o.down, 1);
	make_pkt(req, sizeof(req), 0x0a, 3);
	assert_int_equal(tr_send(f->o.t, req, sizeof(req)), 0);
	WAIT_FOR(f, f->p.rx_len == sizeof(req), 3000);

	/* tr_reconnect() while up: DOWN (-ECONNRESET) at once, then UP again */
	assert_int_equal(tr_reconnect(f->o.t), 0);
	assert_false(tr_is_up(f->o.t));
	WAIT_FOR(f, f->o.down == 2, 1000);
	assert_int_equal(f->o.down_err, -ECONNRESET);
	WAIT_FOR(f, f->o.up == 3, 5000);
	assert_int_equal(f->p.connects, 3);
	assert_int_equal(f->p.disconnects, 2);
}

static void test_reconnect_gives_up_when_the_device_stays_away(void **state)
{
	struct fx *f = *state;

	f->opt.reconnect_timeout_usec = 500 * USEC_PER_MSEC;
	advertise(f);
	open_tr(f, "ble:name=" NAME);
	WAIT_FOR(f, f->o.up == 1, 5000);
	assert_int_equal(hci_adv_stop(f->p.hci), 0); /* it will not come back */
	assert_int_equal(hci_conn_disconnect(f->p.conn, 0), 0);
	WAIT_FOR(f, f->o.down == 1, 3000);
	assert_int_equal(f->o.down_err, -ECONNRESET);
	assert_int_equal(tr_reconnect(f->o.t), 0);
	WAIT_FOR(f, f->o.down == 2, 3000);
	assert_int_equal(f->o.down_err, -ETIMEDOUT);
	assert_true(discarded(&f->o, "not seen advertising the SMP service within 0.5 s"));
	assert_int_equal(f->o.up, 1);
}

static void test_absent_device_is_down_with_enxio(void **state)
{
	struct fx *f = *state;
	uint64_t t0 = now_ms();

	f->opt.connect_timeout_usec = 400 * USEC_PER_MSEC;
	advertise(f); /* another device is around */
	open_tr(f, "ble:name=nobody");
	WAIT_FOR(f, f->o.down == 1, 3000);
	assert_true(now_ms() - t0 >= 400);
	assert_int_equal(f->o.down_err, -ENXIO);
	assert_int_equal(f->o.up, 0);
	assert_true(discarded(&f->o, "not seen advertising the SMP service within 0.4 s ("));
}

static void test_missing_controller_is_down_at_once(void **state)
{
	struct fx *f = *state;
	char spec[300];

	snprintf(spec, sizeof(spec), "unix:%s/nothing-here", tl_tmpdir());
	f->opt.hci = spec;
	open_tr(f, "ble:name=" NAME);
	WAIT_FOR(f, f->o.down == 1, 1000);
	assert_int_equal(f->o.down_err, -ENOENT);
	assert_true(discarded(&f->o, "controller unix:"));
	assert_true(discarded(&f->o, "No such file or directory"));
}

static void test_device_without_smp_characteristic_is_refused(void **state)
{
	struct fx *f = *state;
	static const struct bt_uuid128 other = {{9, 8, 7, 6, 5, 4, 3, 2, 1}};

	f->p.chr = &other;
	advertise(f);
	open_tr(f, "ble:name=" NAME);
	WAIT_FOR(f, f->o.down == 1, 5000);
	assert_int_equal(f->o.down_err, -ENOENT);
	assert_int_equal(f->o.up, 0);
	assert_true(discarded(&f->o, "has no SMP characteristic"));
	WAIT_FOR(f, f->p.disconnects == 1, 3000); /* and the link is dropped */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_specs_are_checked_and_described, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_finds_by_name_and_carries_packets_at_mtu_498,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_finds_by_address_at_mtu_23_and_drops_garbage,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_reason_and_reconnect_after_settle,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_gives_up_when_the_device_stays_away,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_device_is_down_with_enxio, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_controller_is_down_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_device_without_smp_characteristic_is_refused,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
