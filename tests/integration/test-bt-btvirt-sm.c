/* test-bt-btvirt-sm.c — LE security between two instances of the bt/ host on BlueZ's controller
 * emulator, which encrypts LE links (LE Start Encryption, LTK requests): a GATT server whose
 * characteristic needs encryption or authentication refuses the client (ATT 0x0F / 0x05, no
 * notification, Write Commands dropped) until the client's Security Manager paired on demand
 * (Just Works, Passkey Entry) and the refused request went again; a wrong passkey fails at once;
 * a stored key re-encrypts the next link without pairing, and a peer that lost it is reported,
 * not paired again. Every wait is bounded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt/att-pdu.h"
#include "bt/att.h"
#include "bt/hci-dev.h"
#include "bt/sm-pdu.h"
#include "lib/btvirt.h"
#include "lib/testlib.h"
#include "otad/bt-sm.h"
#include "otad/bt.h"

#define PERIPH_NAME "otasim-sm-test"

struct node {
	const char *role;
	struct hci_dev *hci;
	bool ready;
	struct hci_conn *conn;
	unsigned disconnects;
	struct sm_config sm_cfg;
	bool with_sm;
	struct sm *sm;
	bool has_ltk; /* the key to hand the next link's Security Manager */
	struct sm_ltk ltk;
	unsigned changes;
	int change_err;
	struct sm_result change;
	uint32_t type; /* passkey the user types, 0: none asked */
	bool asked;
	/* GATT */
	uint8_t security; /* server: what the characteristic needs */
	struct gatt_client *gc;
	struct gatt_server *gs;
	bool gatt_done;
	int gatt_err;
	uint8_t gatt_ecode;
	uint64_t gatt_ms;
	bool subscribed;
	unsigned writes, notifies;
	bool found;
	struct hci_adv_report seen;
	bool connect_done;
	int connect_err;
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

	assert_int_equal(err, 0);
	n->ready = true;
}

static void on_disconnected(struct hci_conn *c, uint8_t reason, void *user_data)
{
	struct node *n = user_data;

	n->disconnects++;
	n->conn = NULL;
	n->gc = gatt_client_free(n->gc);
	n->gs = gatt_server_free(n->gs);
	n->sm = sm_free(n->sm);
}

static const struct hci_conn_callbacks conn_cb = {.disconnected = on_disconnected};

/* ---- Security Managers ---- */

static void on_changed(struct sm *sm, int err, const struct sm_result *r, void *user_data)
{
	struct node *n = user_data;

	n->changes++;
	n->change_err = err;
	n->change = *r;
	n->change.why = NULL;
	if (err == 0 && r->bonded && r->keys.has_ltk) {
		n->has_ltk = true;
		n->ltk = r->keys.ltk;
	}
}

static void on_passkey_request(struct sm *sm, void *user_data)
{
	struct node *n = user_data;

	n->asked = true;
	assert_int_equal(sm_passkey_reply(sm, n->type), 0);
}

static const struct sm_callbacks sm_cb = {
	.passkey_request = on_passkey_request,
	.security_changed = on_changed,
};

static void attach_sm(struct node *n, struct hci_conn *conn)
{
	if (!n->with_sm)
		return;
	assert_int_equal(sm_new(conn, &n->sm_cfg, &sm_cb, n, NULL, &n->sm), 0);
	if (n->has_ltk)
		sm_set_ltk(n->sm, &n->ltk);
}

/* ---- peripheral ---- */

static void on_server_write(struct gatt_server *s, const uint8_t *v, size_t len, void *user_data)
{
	struct node *n = user_data;

	n->writes++;
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
	struct gatt_server_params sp = {PERIPH_NAME, &bt_uuid_smp_service, &bt_uuid_smp_char, 0,
					n->security};

	if (err)
		return;
	n->conn = conn;
	hci_conn_set_callbacks(conn, &conn_cb, n, NULL);
	attach_sm(n, conn);
	assert_int_equal(gatt_server_new(conn, &sp, &server_cb, n, NULL, &n->gs), 0);
}

/* ---- central ---- */

static void on_client_ready(struct gatt_client *c, int err, uint8_t ecode, void *user_data)
{
	struct node *n = user_data;

	n->gatt_done = true;
	n->gatt_err = err;
	n->gatt_ecode = ecode;
	n->gatt_ms = now_ms();
}

static void on_notify(struct gatt_client *c, const uint8_t *v, size_t len, void *user_data)
{
	struct node *n = user_data;

	n->notifies++;
}

static const struct gatt_client_callbacks client_cb = {.ready = on_client_ready,
						       .notify = on_notify};

static void on_connect(struct hci_dev *hci, int err, uint8_t status, struct hci_conn *conn,
		       void *user_data)
{
	struct node *n = user_data;
	const struct gatt_client_params gp = {&bt_uuid_smp_service, &bt_uuid_smp_char, 0};

	n->connect_done = true;
	n->connect_err = err;
	if (err)
		return;
	n->conn = conn;
	hci_conn_set_callbacks(conn, &conn_cb, n, NULL);
	attach_sm(n, conn);
	assert_int_equal(gatt_client_new(conn, &gp, &client_cb, n, NULL, &n->gc), 0);
}

static void on_scan(struct hci_dev *hci, int err, const struct hci_adv_report *r, void *user_data)
{
	struct node *n = user_data;

	if (!err && r->ad.has_name && !strcmp(r->ad.name, PERIPH_NAME)) {
		n->found = true;
		n->seen = *r;
	}
}

/* ---- fixture ---- */

static int setup(void **state)
{
	static const struct hci_dev_callbacks cb = {.ready = on_ready};
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
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sm_free(f->c.sm);
	sm_free(f->p.sm);
	gatt_client_free(f->c.gc);
	gatt_server_free(f->p.gs);
	hci_dev_free(f->c.hci);
	hci_dev_free(f->p.hci);
	btvirt_stop(&f->bv);
	sd_event_unref(f->e);
	free(f);
	return 0;
}

/* Advertise, find, connect, and wait for the GATT client's end of discovery. */
static void connect(struct fx *f)
{
	const struct hci_adv_params ap = {.name = PERIPH_NAME, .uuid = &bt_uuid_smp_service};

	if (!hci_is_advertising(f->p.hci))
		assert_int_equal(hci_adv_start(f->p.hci, &ap, on_accept, &f->p, NULL), 0);
	f->c.found = false;
	assert_int_equal(hci_scan_start(f->c.hci, NULL, on_scan, &f->c, NULL), 0);
	WAIT_FOR(f, f->c.found, 3000);
	assert_int_equal(hci_scan_stop(f->c.hci), 0);
	f->c.connect_done = f->c.gatt_done = false;
	assert_int_equal(hci_connect(f->c.hci, &f->c.seen.addr, NULL, on_connect, &f->c, NULL), 0);
	WAIT_FOR(f, f->c.connect_done, 3000);
	assert_int_equal(f->c.connect_err, 0);
	WAIT_FOR(f, f->c.gatt_done, 8000);
}

static void disconnect(struct fx *f)
{
	unsigned d = f->p.disconnects;

	assert_int_equal(hci_conn_disconnect(f->c.conn, 0), 0);
	WAIT_FOR(f, f->p.disconnects > d && f->c.conn == NULL, 3000);
}

static void expect_secured(struct fx *f, uint8_t level)
{
	uint8_t v[] = {1, 2, 3};

	assert_int_equal(f->c.gatt_err, 0);
	assert_true(f->p.subscribed);
	assert_int_equal(hci_conn_security(f->c.conn), level);
	assert_int_equal(hci_conn_security(f->p.conn), level);
	/* both ways now: the write reaches the server, the notification the client */
	assert_int_equal(gatt_client_write(f->c.gc, v, sizeof(v)), 0);
	assert_int_equal(gatt_server_notify(f->p.gs, v, sizeof(v)), 0);
	WAIT_FOR(f, f->p.writes == 1 && f->c.notifies == 1, 2000);
}

static void test_encrypt_permission_pairs_just_works_on_demand(void **state)
{
	struct fx *f = *state;

	f->p.security = SM_LEVEL_UNAUTHENTICATED;
	f->c.with_sm = f->p.with_sm = true;
	f->c.sm_cfg = (struct sm_config){.io_cap = SM_IO_NO_INPUT_NO_OUTPUT, .bonding = true};
	f->p.sm_cfg = (struct sm_config){.io_cap = SM_IO_NO_INPUT_NO_OUTPUT, .bonding = true};
	connect(f);
	expect_secured(f, SM_LEVEL_UNAUTHENTICATED);
	assert_int_equal(f->c.changes, 1);
	assert_int_equal(f->p.changes, 1);
	assert_true(f->c.change.paired);
	assert_true(f->c.has_ltk);
	assert_memory_equal(f->c.ltk.key, f->p.ltk.key, 16);

	/* the next link: the stored keys encrypt it, nothing is paired again */
	disconnect(f);
	connect(f);
	expect_secured(f, SM_LEVEL_UNAUTHENTICATED);
	assert_int_equal(f->c.changes, 2);
	assert_int_equal(f->c.change_err, 0);
	assert_false(f->c.change.paired);
}

static void test_authenticated_permission_pairs_with_the_passkey(void **state)
{
	struct fx *f = *state;

	f->p.security = SM_LEVEL_AUTHENTICATED;
	f->c.with_sm = f->p.with_sm = true;
	f->c.sm_cfg = (struct sm_config){.io_cap = SM_IO_KEYBOARD_ONLY};
	f->p.sm_cfg = (struct sm_config){.io_cap = SM_IO_DISPLAY_ONLY,
					 .fixed_passkey = true,
					 .passkey = 123456,
					 .level = SM_LEVEL_AUTHENTICATED};
	f->c.type = 123456;
	connect(f);
	assert_true(f->c.asked);
	expect_secured(f, SM_LEVEL_SC);
}

static void test_wrong_passkey_fails_at_once(void **state)
{
	struct fx *f = *state;
	uint64_t t0;

	f->p.security = SM_LEVEL_AUTHENTICATED;
	f->c.with_sm = f->p.with_sm = true;
	f->c.sm_cfg = (struct sm_config){.io_cap = SM_IO_KEYBOARD_ONLY};
	f->p.sm_cfg = (struct sm_config){.io_cap = SM_IO_DISPLAY_ONLY,
					 .fixed_passkey = true,
					 .passkey = 123456,
					 .level = SM_LEVEL_AUTHENTICATED};
	f->c.type = 123457;
	t0 = now_ms();
	connect(f);
	/* the refused request ends with the device's error, the pairing with its reason */
	assert_int_equal(f->c.gatt_err, -EIO);
	assert_int_equal(f->c.gatt_ecode, ATT_ECODE_INSUFF_AUTHEN);
	assert_int_equal(f->c.changes, 1);
	assert_int_equal(f->c.change_err, -EACCES);
	assert_int_equal(f->c.change.reason, SM_ERR_CONFIRM_VALUE_FAILED);
	assert_true(f->c.change.remote);
	assert_int_equal(f->p.change.reason, SM_ERR_CONFIRM_VALUE_FAILED);
	assert_int_equal(hci_conn_security(f->c.conn), SM_LEVEL_NONE);
	assert_false(f->p.subscribed);
	assert_true(f->c.gatt_ms - t0 < 5000);
}

static void test_without_security_nothing_gets_through(void **state)
{
	struct fx *f = *state;
	struct att *att;
	uint8_t wc[] = {ATT_WRITE_CMD, 0, 0, 0xaa};

	f->p.security = SM_LEVEL_UNAUTHENTICATED;
	f->p.with_sm = true;
	f->p.sm_cfg = (struct sm_config){.io_cap = SM_IO_NO_INPUT_NO_OUTPUT};
	connect(f); /* a central without Security Manager: the error stands */
	assert_int_equal(f->c.gatt_err, -EIO);
	assert_int_equal(f->c.gatt_ecode, ATT_ECODE_INSUFF_ENC);
	assert_false(f->p.subscribed);
	/* a Write Command to the value is dropped, and nothing is notified */
	assert_int_equal(att_attach(f->c.conn, &att), 0);
	wc[1] = (uint8_t)gatt_client_value_handle(f->c.gc);
	if (!wc[1])
		wc[1] = 6; /* the server's value handle (gatt-server.c H_CHR) */
	assert_int_equal(att_send(att, wc, sizeof(wc)), 0);
	assert_int_equal(gatt_server_notify(f->p.gs, wc, 1), -EPIPE);
	for (uint64_t end = now_ms() + 300; now_ms() < end;)
		sd_event_run(f->e, 20 * 1000);
	assert_int_equal(f->p.writes, 0);
}

static void test_lost_bond_is_reported_not_repaired(void **state)
{
	struct fx *f = *state;

	f->p.security = SM_LEVEL_UNAUTHENTICATED;
	f->c.with_sm = f->p.with_sm = true;
	f->c.sm_cfg = (struct sm_config){.io_cap = SM_IO_NO_INPUT_NO_OUTPUT, .bonding = true};
	f->p.sm_cfg = (struct sm_config){.io_cap = SM_IO_NO_INPUT_NO_OUTPUT, .bonding = true};
	connect(f);
	assert_int_equal(f->c.gatt_err, 0);
	disconnect(f);
	/* the device forgot its keys; the gateway kept them */
	f->p.has_ltk = false;
	connect(f);
	assert_int_equal(f->c.change_err, -EKEYREJECTED);
	assert_int_equal(f->c.change.hci_status, 0x06);
	assert_int_equal(f->c.gatt_err, -EIO);
	assert_int_equal(f->c.gatt_ecode, ATT_ECODE_INSUFF_ENC);
	assert_int_equal(f->p.changes, 1); /* no second pairing */
	assert_int_equal(hci_conn_security(f->c.conn), SM_LEVEL_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_encrypt_permission_pairs_just_works_on_demand,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_authenticated_permission_pairs_with_the_passkey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_passkey_fails_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_security_nothing_gets_through, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lost_bond_is_reported_not_repaired, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
