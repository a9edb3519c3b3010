/* ble.c — the BLE transport: mcumgr's SMP over GATT (Zephyr smp_bt.c) on the bt/ host. Finds the
 * device by address or name (a scan watch of the controller), connects (a queued connection
 * request), secures the link where asked or where the device demands it (bt-sm.h), discovers
 * the SMP characteristic, sends each SMP packet as Write Commands of ATT_MTU - 3 bytes and
 * reassembles notifications by the SMP header's length. Reconnects the way a rebooting BLE
 * device comes back: look again, connect once it has been seen advertising twice, settle apart
 * (transport.h). The controller is its own (tr_options.hci: opened, closed) or borrowed
 * (tr_options.hci_dev: shared with others, only its own link let go). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/bt-sm.h"
#include "otad/bt.h"
#include "otad/reasm.h"
#include "transport/ble-security.h"
#include "transport/transport-internal.h"

#define BLE_SETTLE_DEFAULT   (500 * USEC_PER_MSEC)
#define BLE_RETRY_USEC	     (200 * USEC_PER_MSEC)
#define BLE_CONN_ATTEMPT_MAX (5 * USEC_PER_SEC)
/* Bytes queued in the host beyond this are refused with -ENOBUFS: the owner is not pacing. */
#define BLE_BACKLOG_MAX (256 * 1024)

enum ble_state {
	BLE_IDLE,	 /* down; nothing in progress */
	BLE_CONTROLLER,	 /* the controller initialises */
	BLE_SCANNING,	 /* looking for the device */
	BLE_SETTLING,	 /* seen once (reconnect): looking again after settle */
	BLE_CONNECTING,	 /* LE Create Connection */
	BLE_SECURING,	 /* the security asked for, before GATT */
	BLE_DISCOVERING, /* GATT: MTU, service, characteristic, CCCD */
	BLE_UP,
	BLE_CLOSING, /* tr_reconnect() disconnected: waiting for the Disconnection Complete */
	BLE_WAITING, /* a failed attempt: trying again after BLE_RETRY_USEC */
	BLE_CLOSED,  /* tr_close(): letting go of the controller, for good */
};

struct ble_target {
	bool by_name;
	char name[ADV_NAME_MAX + 1];
	struct bt_addr addr;
	bool any_type; /* no "/public" or "/random": either matches */
};

struct tr_ble {
	struct tr tr;
	struct ble_target target;
	char *hci_spec;
	bool shared;	     /* hci is borrowed: never reset, closed or freed here */
	unsigned hci_watch;  /* shared: the device's ready/dead watch */
	unsigned scan_watch; /* looking for the device */
	unsigned conn_req;   /* the connection request waiting or in flight */
	struct hci_conn_params conn_params;
	uint16_t att_mtu;
	uint64_t connect_timeout, settle;

	enum ble_state state;
	bool ever_up;	   /* failures of the first open are final for the controller */
	bool reconnecting; /* the settle rule applies */
	bool confirming;   /* seen once, looked again: a sighting now connects */
	bool in_send;
	struct hci_dev *hci;
	struct hci_conn *conn;
	struct gatt_client *gc;
	struct sm *sm;
	struct reasm *rx;
	struct bt_addr peer;

	struct ble_sec sec; /* the link's Security Manager, the key of our pairing */

	sd_event_source *deadline; /* the attempt gives up */
	sd_event_source *step;	   /* settle, confirm window, retry */
	sd_event_source *reap;	   /* frees what died inside its own callbacks */
	struct hci_dev *dead_hci;
	struct gatt_client *dead_gc;

	uint64_t attempt_timeout;
	unsigned seen_others; /* reports that did not match, for the give-up text */
	bool seen;	      /* the device was seen in this attempt */
	int last_err;	      /* the last failure of this attempt */
	char last_why[TR_NOTE_MAX];
};

static struct tr_ble *to_ble(struct tr *t)
{
	return (struct tr_ble *)t;
}

static void ble_step(struct tr_ble *b);
static void scan_start(struct tr_ble *b);
static void scan_stop(struct tr_ble *b);

/* ---- spec ------------------------------------------------------------------------------- */

/* "ADDRESS[/public|/random]" or "name=NAME"; why says what is wrong (may be NULL). */
static int parse_target(const char *s, struct ble_target *ret, char *why, size_t why_size)
{
	const char *slash;
	char addr[BT_ADDR_STRLEN];
	uint8_t type = BT_ADDR_LE_PUBLIC;
	size_t n;

	memset(ret, 0, sizeof(*ret));
	if (!strncmp(s, "name=", 5)) {
		if (!s[5] || strlen(s + 5) > ADV_NAME_MAX)
			return tr_why(why, why_size, "a device name is 1..%d bytes", ADV_NAME_MAX);
		ret->by_name = true;
		memcpy(ret->name, s + 5, strlen(s + 5) + 1); /* length checked above */
		return 0;
	}
	slash = strchr(s, '/');
	if (slash && !strcmp(slash + 1, "random"))
		type = BT_ADDR_LE_RANDOM;
	else if (slash && strcmp(slash + 1, "public") != 0)
		return tr_why(why, why_size, "address type '%s' is neither public nor random",
			      slash + 1);
	ret->any_type = !slash;
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == BT_ADDR_STRLEN - 1) {
		memcpy(addr, s, n);
		addr[n] = 0;
		if (bt_addr_from_str(addr, type, &ret->addr) == 0)
			return 0;
	}
	return tr_why(why, why_size,
		      "not a device address like C0:11:22:33:44:55[/public|/random] or name=NAME");
}

int tr_ble_target_check(const char *addr, char *why, size_t size)
{
	struct ble_target target;

	return parse_target(addr, &target, why, size);
}

int tr_ble_check(const char *addr, const struct tr_options *o, char *why, size_t size)
{
	struct ble_target target;

	if (!o || (!o->hci && !o->hci_dev))
		return tr_why(why, size, "BLE needs a controller to go through");
	if (!o->hci_dev && hci_spec_check(o->hci) < 0)
		return tr_why(why, size,
			      "controller '%s' is not tty:PATH[@BAUD], userchan:hciN, unix:PATH "
			      "or tcp:HOST:PORT",
			      o->hci);
	return parse_target(addr, &target, why, size);
}

static char *describe(const struct ble_target *t)
{
	char a[BT_ADDR_STRLEN], *d = NULL;
	int r;

	if (t->by_name)
		r = asprintf(&d, "ble:name=%s", t->name);
	else
		r = asprintf(&d, "ble:%s%s%s", bt_addr_to_str(&t->addr, a), t->any_type ? "" : "/",
			     t->any_type ? "" : bt_addr_type_str(t->addr.type));
	return r < 0 ? NULL : d;
}

static void target_filter(const struct ble_target *t, struct hci_scan_filter *ret)
{
	*ret = (struct hci_scan_filter){.connectable = true};
	if (t->by_name) {
		ret->name = t->name;
		ret->uuid = &bt_uuid_smp_service;
		return;
	}
	ret->by_addr = true;
	ret->addr = t->addr;
	ret->any_type = t->any_type;
}

/* ---- timers and reaping ------------------------------------------------------------------ */

static uint64_t now_usec(struct tr_ble *b)
{
	uint64_t t = 0;

	sd_event_now(b->tr.event, CLOCK_MONOTONIC, &t);
	return t;
}

static int on_reap(sd_event_source *s, void *userdata)
{
	struct tr_ble *b = userdata;

	b->dead_gc = gatt_client_free(b->dead_gc);
	ble_sec_reap(&b->sec);
	b->dead_hci = hci_dev_free(b->dead_hci);
	return 0;
}

/* Frees the GATT client and/or controller from the loop, never inside their own callbacks. */
static void bury(struct tr_ble *b, bool gc, bool hci)
{
	if (gc && b->gc) {
		gatt_client_free(b->dead_gc);
		b->dead_gc = TAKE_PTR(b->gc);
	}
	if (gc) /* the link's Security Manager goes with its GATT client */
		ble_sec_bury(&b->sec);
	if (hci && b->hci && !b->shared) {
		hci_dev_free(b->dead_hci);
		b->dead_hci = TAKE_PTR(b->hci);
		b->conn = NULL;
		b->scan_watch = b->conn_req = 0;
	}
	(void)sd_event_source_set_enabled(b->reap, SD_EVENT_ONESHOT);
}

static int arm(struct tr_ble *b, sd_event_source *s, uint64_t when)
{
	int r = sd_event_source_set_time(s, when);

	return r < 0 ? r : sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* Stops whatever the attempt is doing with the controller (scan, connection attempt). */
static void stop_activity(struct tr_ble *b)
{
	(void)sd_event_source_set_enabled(b->step, SD_EVENT_OFF);
	scan_stop(b);
	if (b->hci && b->conn_req)
		(void)hci_connect_request_cancel(b->hci, b->conn_req);
	b->conn_req = 0;
}

/* Abandons the connection of a failed attempt: no more callbacks from it, and it is dropped. */
static void drop_conn(struct tr_ble *b)
{
	bury(b, true, false);
	if (!b->conn)
		return;
	hci_conn_set_callbacks(b->conn, NULL, NULL, NULL);
	(void)hci_conn_disconnect(b->conn, 0);
	b->conn = NULL;
}

/* ---- giving up, retrying ----------------------------------------------------------------- */

static void give_up(struct tr_ble *b, int err, const char *why)
{
	stop_activity(b);
	(void)sd_event_source_set_enabled(b->deadline, SD_EVENT_OFF);
	drop_conn(b);
	b->state = BLE_IDLE;
	b->reconnecting = b->confirming = false;
	reasm_reset(b->rx);
	tr_post_note(&b->tr, "%s", why);
	tr_link_down(&b->tr, err);
}

/* A failure of this attempt: remembered for the give-up text, retried unless final. */
static void attempt_failed(struct tr_ble *b, int err, bool final, const char *fmt, ...)
	_printf_(4, 5);
static void attempt_failed(struct tr_ble *b, int err, bool final, const char *fmt, ...)
{
	va_list ap;

	b->last_err = err;
	va_start(ap, fmt);
	vsnprintf(b->last_why, sizeof(b->last_why), fmt, ap);
	va_end(ap);
	if (final) {
		give_up(b, err, b->last_why);
		return;
	}
	stop_activity(b);
	drop_conn(b);
	b->state = BLE_WAITING;
	if (arm(b, b->step, now_usec(b) + BLE_RETRY_USEC) < 0)
		give_up(b, err, b->last_why);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct tr_ble *b = userdata;
	char why[TR_NOTE_MAX + 64];
	unsigned others;

	if (b->state == BLE_CLOSED) { /* the link was not confirmed gone in time */
		tr_close_complete(&b->tr, -ETIMEDOUT);
		return 0;
	}
	others = b->seen_others +
		 (b->scan_watch && b->hci ? hci_scan_watch_rejected(b->hci, b->scan_watch) : 0);
	if (b->last_err) {
		snprintf(why, sizeof(why), "gave up after %.1f s: %s",
			 (double)b->attempt_timeout / USEC_PER_SEC, b->last_why);
		give_up(b, b->last_err, why);
		return 0;
	}
	if (b->seen)
		snprintf(why, sizeof(why), "seen advertising, but not connected within %.1f s",
			 (double)b->attempt_timeout / USEC_PER_SEC);
	else
		snprintf(why, sizeof(why),
			 "not seen advertising%s within %.1f s (%u other report%s)",
			 b->target.by_name ? " the SMP service" : "",
			 (double)b->attempt_timeout / USEC_PER_SEC, others, others == 1 ? "" : "s");
	give_up(b, b->seen || b->ever_up ? -ETIMEDOUT : -ENXIO, why);
	return 0;
}

/* A new attempt (open or reconnect) with its own deadline; 0 or -errno (then given up). */
static int attempt_begin(struct tr_ble *b, uint64_t timeout, bool reconnecting)
{
	b->reconnecting = reconnecting;
	b->confirming = false;
	b->seen = false;
	b->seen_others = 0;
	b->last_err = 0;
	b->last_why[0] = 0;
	b->attempt_timeout = timeout;
	if (arm(b, b->deadline, now_usec(b) + timeout) < 0) {
		give_up(b, -ENOMEM, "cannot arm a timer");
		return -ENOMEM;
	}
	return 0;
}

/* ---- GATT and the link --------------------------------------------------------------------- */

static void on_notify(struct gatt_client *c, const uint8_t *value, size_t len, void *user_data)
{
	struct tr_ble *b = user_data;

	if (b->state == BLE_UP)
		reasm_feed(b->rx, value, len);
}

static void on_gatt_writable(struct gatt_client *c, void *user_data)
{
	struct tr_ble *b = user_data;

	/* Inside tr_send() the owner is still queueing: it reads tr_backlog() after. */
	if (b->state == BLE_UP && !b->in_send)
		tr_emit_writable(&b->tr);
}

static void on_gatt_ready(struct gatt_client *c, int err, uint8_t ecode, void *user_data)
{
	struct tr_ble *b = user_data;
	char a[BT_ADDR_STRLEN];

	bt_addr_to_str(&b->peer, a);
	if (b->state != BLE_DISCOVERING || err == -ENOTCONN)
		return; /* on -ENOTCONN the disconnected callback follows and says why */
	if (err == -ENOENT) {
		attempt_failed(b, -ENOENT, true,
			       "%s has no SMP characteristic (service " BT_SMP_SERVICE_UUID_STR
			       " with write without response, notify and a CCCD)",
			       a);
		return;
	}
	if (err == -EIO && b->sec.err) {
		attempt_failed(b, b->sec.err, true, "%s", b->sec.why);
		return;
	}
	if (err == -EIO && (ecode == 0x05 || ecode == 0x0f || ecode == 0x0c)) {
		attempt_failed(b, -EACCES, true,
			       "%s refuses SMP on this link: ATT error 0x%02x %s, and the link's "
			       "security (level %u) could not be raised",
			       a, ecode, att_strerror(ecode), hci_conn_security(b->conn));
		return;
	}
	if (err == -EIO) {
		attempt_failed(b, -EPROTO, true, "GATT discovery on %s failed: ATT error 0x%02x %s",
			       a, ecode, att_strerror(ecode));
		return;
	}
	if (err) {
		attempt_failed(b, err, false, "GATT discovery on %s failed: %s", a, strerror(-err));
		return;
	}
	(void)sd_event_source_set_enabled(b->deadline, SD_EVENT_OFF);
	reasm_reset(b->rx);
	b->state = BLE_UP;
	b->ever_up = true;
	b->reconnecting = b->confirming = false;
	tr_link_up(&b->tr);
}

static void on_disconnected(struct hci_conn *conn, uint8_t reason, void *user_data)
{
	struct tr_ble *b = user_data;
	int err = hci_status_to_errno(reason);
	char a[BT_ADDR_STRLEN];

	if (conn != b->conn)
		return;
	bt_addr_to_str(&b->peer, a);
	b->conn = NULL;
	reasm_reset(b->rx);
	/* Freeing the client here is allowed: this is the connection's callback, not its own. */
	b->gc = gatt_client_free(b->gc);
	bury(b, true, false); /* the Security Manager, from the loop */
	switch (b->state) {
	case BLE_UP:
		b->state = BLE_IDLE;
		tr_post_note(&b->tr, "link to %s lost: 0x%02x %s", a, reason, hci_strerror(reason));
		tr_link_down(&b->tr, err);
		break;
	case BLE_CLOSING:
		ble_step(b);
		break;
	case BLE_CLOSED: /* tr_close() of a borrower: its link is gone */
		(void)sd_event_source_set_enabled(b->deadline, SD_EVENT_OFF);
		tr_close_complete(&b->tr, 0);
		break;
	case BLE_DISCOVERING:
	case BLE_SECURING:
		attempt_failed(b, err, false, "%s disconnected during %s: 0x%02x %s", a,
			       b->state == BLE_SECURING ? "pairing" : "GATT discovery", reason,
			       hci_strerror(reason));
		break;
	default:
		break;
	}
}

static const struct hci_conn_callbacks conn_callbacks = {
	.disconnected = on_disconnected,
};

static void gatt_begin(struct tr_ble *b)
{
	static const struct gatt_client_callbacks gatt_callbacks = {
		.ready = on_gatt_ready,
		.notify = on_notify,
		.writable = on_gatt_writable,
	};
	struct gatt_client_params gp = {&bt_uuid_smp_service, &bt_uuid_smp_char, b->att_mtu};
	char a[BT_ADDR_STRLEN];
	int r;

	b->state = BLE_DISCOVERING;
	r = gatt_client_new(b->conn, &gp, &gatt_callbacks, b, NULL, &b->gc);
	if (r < 0)
		attempt_failed(b, r, false, "GATT on %s: %s", bt_addr_to_str(&b->peer, a),
			       strerror(-r));
}

/* ---- security ------------------------------------------------------------------------------ */

static void on_secured(struct sm *sm, int err, const struct sm_result *r, void *user_data)
{
	struct tr_ble *b = user_data;

	if (b->state != BLE_SECURING || sm != b->sec.sm)
		return;
	if (err) {
		attempt_failed(b, b->sec.err ? b->sec.err : err, err != -ENOTCONN, "%s",
			       b->sec.why[0] ? b->sec.why : strerror(-err));
		return;
	}
	gatt_begin(b);
}

/* The link's Security Manager, and the security asked for up front. -EALREADY: none to wait
 * for. */
static int security_begin(struct tr_ble *b)
{
	int r = ble_sec_attach(&b->sec, b->conn, &b->peer, on_secured, b);

	if (r == 0)
		b->state = BLE_SECURING;
	return r;
}

static void on_connect(struct hci_dev *hci, int err, uint8_t status, struct hci_conn *conn,
		       void *user_data)
{
	struct tr_ble *b = user_data;
	char a[BT_ADDR_STRLEN];
	int r;

	b->conn_req = 0;
	bt_addr_to_str(&b->peer, a);
	if (b->state != BLE_CONNECTING) { /* cancelled; a connection that won the race goes */
		if (!err && conn)
			(void)hci_conn_disconnect(conn, 0);
		return;
	}
	if (err) {
		attempt_failed(b, status ? hci_status_to_errno(status) : err, false,
			       "connecting to %s failed: %s", a,
			       status ? hci_dev_last_error(hci) : strerror(-err));
		return;
	}
	b->conn = conn;
	hci_conn_set_callbacks(conn, &conn_callbacks, b, NULL);
	r = security_begin(b);
	if (r == -EALREADY)
		gatt_begin(b);
	else if (r < 0 && b->sec.err) /* the bond store: a file for the user to mend */
		attempt_failed(b, b->sec.err, true, "%s", b->sec.why);
	else if (r < 0)
		attempt_failed(b, r, false, "Security Manager on %s: %s", a, strerror(-r));
}

/* ---- scanning ----------------------------------------------------------------------------- */

static void connect_peer(struct tr_ble *b)
{
	uint64_t left = 0, now = now_usec(b);
	struct hci_conn_params p = b->conn_params;
	char a[BT_ADDR_STRLEN];
	int r;

	(void)sd_event_source_get_time(b->deadline, &left);
	p.timeout_usec = left > now ? MIN(left - now, BLE_CONN_ATTEMPT_MAX) : BLE_RETRY_USEC;
	scan_stop(b);
	b->state = BLE_CONNECTING;
	r = hci_connect_request(b->hci, &b->peer, &p, on_connect, b, NULL, &b->conn_req);
	if (r < 0)
		attempt_failed(b, r, false, "connecting to %s: %s", bt_addr_to_str(&b->peer, a),
			       strerror(-r));
}

static void on_report(struct hci_dev *hci, int err, const struct hci_adv_report *r, void *user_data)
{
	struct tr_ble *b = user_data;

	if (err) {
		b->scan_watch = 0; /* removed by the controller */
		if (b->state == BLE_SCANNING || b->state == BLE_SETTLING)
			attempt_failed(b, err, false, "scanning failed: %s",
				       hci_dev_last_error(hci));
		return;
	}
	if (b->state != BLE_SCANNING)
		return;
	b->seen = true;
	b->peer = r->addr;
	if (!b->reconnecting || b->confirming) {
		connect_peer(b);
		return;
	}
	/* First sighting after a gap: look again after settle. */
	scan_stop(b);
	b->state = BLE_SETTLING;
	if (arm(b, b->step, now_usec(b) + b->settle) < 0)
		give_up(b, -ENOMEM, "cannot arm a timer");
}

static void scan_start(struct tr_ble *b)
{
	const struct hci_scan_params sp = {0}; /* active: the name is in the scan response */
	struct hci_scan_filter filter;
	int r;

	b->state = BLE_SCANNING;
	if (b->scan_watch)
		return;
	target_filter(&b->target, &filter);
	r = hci_scan_watch(b->hci, &sp, &filter, on_report, b, NULL, &b->scan_watch);
	if (r < 0) {
		b->scan_watch = 0;
		attempt_failed(b, r, false, "cannot scan: %s", strerror(-r));
	}
}

/* Stops looking; what the filter turned away is kept for the give-up text. */
static void scan_stop(struct tr_ble *b)
{
	if (!b->scan_watch)
		return;
	if (b->hci)
		b->seen_others += hci_scan_watch_rejected(b->hci, b->scan_watch);
	if (b->hci)
		(void)hci_scan_unwatch(b->hci, b->scan_watch);
	b->scan_watch = 0;
}

static int on_step(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct tr_ble *b = userdata;

	switch (b->state) {
	case BLE_SETTLING: /* look again: a sighting within settle confirms */
		b->confirming = true;
		scan_start(b);
		if (b->state == BLE_SCANNING && arm(b, b->step, usec + b->settle) < 0)
			give_up(b, -ENOMEM, "cannot arm a timer");
		break;
	case BLE_SCANNING: /* not confirmed: it went away; the next sighting is a first one */
		b->confirming = false;
		break;
	case BLE_WAITING:
		ble_step(b);
		break;
	default:
		break;
	}
	return 0;
}

/* ---- the controller ----------------------------------------------------------------------- */

static void on_hci_ready(struct hci_dev *hci, int err, uint8_t status, void *user_data)
{
	struct tr_ble *b = user_data;
	const char *text = hci_dev_last_error(hci);

	if (err) {
		bury(b, false, true);
		if (b->state == BLE_CONTROLLER)
			attempt_failed(b, err, !b->ever_up, "controller %s: %s", b->hci_spec,
				       text[0] ? text : strerror(-err));
		return;
	}
	if (b->state == BLE_CONTROLLER)
		ble_step(b);
}

static void on_hci_fatal(struct hci_dev *hci, int err, void *user_data)
{
	struct tr_ble *b = user_data;
	const char *text = hci_dev_last_error(hci);
	char why[TR_NOTE_MAX + 256];

	snprintf(why, sizeof(why), "controller %s failed: %s", b->hci_spec,
		 text[0] ? text : strerror(-err));
	bury(b, true, true);
	if (b->state == BLE_IDLE)
		return;
	if (b->state == BLE_UP) { /* the disconnected callback has reported the link */
		b->state = BLE_IDLE;
		return;
	}
	attempt_failed(b, err, false, "%s", why);
}

/* A borrowed controller became ready, failed, or its owner closes it. */
static void on_shared_state(struct hci_dev *hci, int err, void *user_data)
{
	struct tr_ble *b = user_data;
	char why[TR_NOTE_MAX];

	if (!err) {
		if (b->state == BLE_CONTROLLER)
			ble_step(b);
		return;
	}
	b->scan_watch = b->conn_req = 0; /* the device ended them */
	snprintf(why, sizeof(why), "controller failed: %s",
		 hci_dev_last_error(hci)[0] ? hci_dev_last_error(hci) : strerror(-err));
	switch (b->state) {
	case BLE_IDLE:
	case BLE_CLOSED:
	case BLE_UP: /* the link's end reports it (or will: the owner disconnects it) */
		break;
	default:
		attempt_failed(b, err, err == -ESHUTDOWN, "%s", why);
		break;
	}
}

static void open_controller(struct tr_ble *b)
{
	static const struct hci_dev_callbacks cb = {.ready = on_hci_ready, .fatal = on_hci_fatal};
	int r;

	b->state = BLE_CONTROLLER;
	r = hci_dev_new(b->tr.event, b->hci_spec, &cb, b, NULL, &b->hci);
	if (r < 0) {
		b->hci = NULL;
		attempt_failed(b, r, !b->ever_up, "controller %s: %s", b->hci_spec, strerror(-r));
	}
}

/* Does what the attempt needs next: controller, then scanning. */
static void ble_step(struct tr_ble *b)
{
	if (!b->hci) {
		open_controller(b);
		return;
	}
	if (!hci_dev_is_ready(b->hci)) {
		b->state = BLE_CONTROLLER;
		return; /* on_hci_ready continues */
	}
	scan_start(b);
}

/* ---- tr_ops ------------------------------------------------------------------------------ */

static int ble_send(struct tr *t, const uint8_t *pkt, size_t len)
{
	struct tr_ble *b = to_ble(t);
	size_t max, off, n;
	int r = 0;

	if (b->state != BLE_UP || !b->gc || !gatt_client_is_ready(b->gc))
		return -ENOTCONN;
	if (gatt_client_backlog(b->gc) + len > BLE_BACKLOG_MAX)
		return -ENOBUFS;
	max = gatt_client_max_write(b->gc);
	b->in_send = true;
	for (off = 0; off < len; off += n) {
		n = MIN(max, len - off);
		r = gatt_client_write(b->gc, pkt + off, n);
		if (r < 0)
			break;
	}
	b->in_send = false;
	if (r < 0 && off > 0) {
		/* Part of the packet is out: the device's reassembly is now out of step. */
		tr_post_note(t, "a partial SMP packet was sent (%s); disconnecting", strerror(-r));
		(void)hci_conn_disconnect(b->conn, 0);
	}
	return r < 0 ? r : 0;
}

static size_t ble_max_packet(const struct tr *t)
{
	return REASM_MAX_PACKET;
}

static size_t ble_backlog(const struct tr *t)
{
	const struct tr_ble *b = (const struct tr_ble *)t;

	return b->state == BLE_UP && b->gc ? gatt_client_backlog(b->gc) : 0;
}

static int ble_reconnect(struct tr *t)
{
	struct tr_ble *b = to_ble(t);
	uint64_t timeout = t->reconnect_timeout;

	switch (b->state) {
	case BLE_UP:
		tr_link_down(t, -ECONNRESET);
		b->state = BLE_CLOSING;
		reasm_reset(b->rx);
		if (attempt_begin(b, timeout, true) < 0)
			return 0;
		if (!b->conn || hci_conn_disconnect(b->conn, 0) < 0) {
			drop_conn(b);
			ble_step(b);
		}
		return 0;
	case BLE_IDLE:
		if (attempt_begin(b, timeout, true) == 0)
			ble_step(b);
		return 0;
	default:
		return 0; /* already on its way back */
	}
}

static void on_hci_closed(struct hci_dev *hci, int err, void *user_data)
{
	struct tr_ble *b = user_data;

	tr_close_complete(&b->tr, err);
}

/* The controller disconnects every link and says when each is gone (hci_dev_close()): only
 * then may it be closed, or the device may never hear of it. */
static void ble_close(struct tr *t, uint64_t timeout_usec)
{
	struct tr_ble *b = to_ble(t);

	stop_activity(b);
	(void)sd_event_source_set_enabled(b->deadline, SD_EVENT_OFF);
	b->state = BLE_CLOSED;
	b->gc = gatt_client_free(b->gc);
	bury(b, true, false);
	reasm_reset(b->rx);
	if (!b->shared) {
		if (!b->hci || hci_dev_close(b->hci, timeout_usec, on_hci_closed, b, NULL) < 0)
			tr_close_complete(t, 0);
		return;
	}
	/* A borrower lets go of its own link only, and waits for the controller to confirm it. */
	if (!b->conn || hci_conn_disconnect(b->conn, 0) < 0 ||
	    arm(b, b->deadline, now_usec(b) + timeout_usec) < 0)
		tr_close_complete(t, 0);
}

static void ble_destroy(struct tr *t)
{
	struct tr_ble *b = to_ble(t);

	b->state = BLE_IDLE;
	gatt_client_free(b->gc);
	gatt_client_free(b->dead_gc);
	ble_sec_free(&b->sec);
	if (b->shared) {
		stop_activity(b);
		if (b->hci_watch)
			(void)hci_dev_unwatch(b->hci, b->hci_watch);
		if (b->conn) { /* its own link only */
			hci_conn_set_callbacks(b->conn, NULL, NULL, NULL);
			(void)hci_conn_disconnect(b->conn, 0);
			b->conn = NULL;
		}
		hci_dev_unref(b->hci);
	} else {
		hci_dev_free(b->hci); /* it also tells the controller to drop the link */
	}
	hci_dev_free(b->dead_hci);
	reasm_free(b->rx);
	sd_event_source_disable_unref(b->deadline);
	sd_event_source_disable_unref(b->step);
	sd_event_source_disable_unref(b->reap);
	free(b->hci_spec);
}

static int ble_security(const struct tr *t, struct tr_security *ret)
{
	const struct tr_ble *b = (const struct tr_ble *)t;

	if (b->state != BLE_UP)
		return -ENOTCONN;
	*ret = b->sec.now;
	return 0;
}

static const struct tr_ops ble_ops = {
	.send = ble_send,
	.max_packet = ble_max_packet,
	.frame_overhead = 0,
	.backlog = ble_backlog,
	.reconnect = ble_reconnect,
	.close = ble_close,
	.destroy = ble_destroy,
	.security = ble_security,
};

/* ---- open -------------------------------------------------------------------------------- */

static void on_rx_packet(const uint8_t *pkt, size_t len, void *user_data)
{
	tr_emit_packet(user_data, pkt, len);
}

static void on_rx_discard(const char *why, void *user_data)
{
	tr_emit_discard(user_data, "notification: %s", why);
}

static int set_options(struct tr_ble *b, const struct tr_options *o)
{
	b->connect_timeout = o->connect_timeout_usec ?: TR_CONNECT_TIMEOUT_DEFAULT;
	b->settle = o->settle_usec ?: BLE_SETTLE_DEFAULT;
	b->att_mtu = o->att_mtu;
	b->conn_params = (struct hci_conn_params){
		.interval_min = o->conn_interval_min ?: 12,
		.interval_max = o->conn_interval_max ?: 24,
		.latency = o->conn_latency,
		.supervision_timeout = o->supervision_timeout ?: 200,
	};
	b->conn_params.interval_max = MAX(b->conn_params.interval_max, b->conn_params.interval_min);
	return ble_sec_init(&b->sec, &b->tr, o);
}

static int add_sources(struct tr_ble *b, sd_event *e)
{
	int r;

	r = sd_event_add_time(e, &b->deadline, CLOCK_MONOTONIC, UINT64_MAX, 0, on_deadline, b);
	if (r >= 0)
		r = sd_event_add_time(e, &b->step, CLOCK_MONOTONIC, UINT64_MAX, 0, on_step, b);
	if (r >= 0)
		r = sd_event_add_defer(e, &b->reap, on_reap, b);
	if (r >= 0)
		r = sd_event_source_set_enabled(b->reap, SD_EVENT_OFF);
	return r;
}

int tr_ble_open(sd_event *e, const char *addr, const struct tr_options *o, struct tr **ret)
{
	static const struct reasm_ops rx_ops = {.packet = on_rx_packet, .discard = on_rx_discard};
	_cleanup_(tr_freep) struct tr *t = NULL;
	struct ble_target target;
	struct tr_ble *b;
	int r;

	if (!o || (!o->hci_dev && hci_spec_check(o->hci) < 0) ||
	    parse_target(addr, &target, NULL, 0) < 0)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	t = &b->tr;
	t->ops = &ble_ops;
	b->target = target;
	r = tr_init(t, &ble_ops, e, o, describe(&target));
	if (r < 0)
		return r;
	b->hci_spec = strdup(o->hci_dev ? "(shared)" : o->hci);
	b->rx = reasm_new(NULL, &rx_ops, t);
	if (!t->desc || !b->hci_spec || !b->rx)
		return -ENOMEM;
	if (o->hci_dev) {
		b->shared = true;
		b->hci = hci_dev_ref(o->hci_dev);
		b->hci_watch = hci_dev_watch(b->hci, on_shared_state, b, NULL);
		if (!b->hci_watch)
			return -ENOMEM;
	}
	r = set_options(b, o);
	if (r >= 0)
		r = add_sources(b, e);
	if (r < 0)
		return r;
	if (attempt_begin(b, b->connect_timeout, false) == 0)
		ble_step(b);
	*ret = TAKE_PTR(t);
	return 0;
}
