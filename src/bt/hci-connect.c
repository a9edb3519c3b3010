/* hci-connect.c — initiating LE connections (Core 5.4 Vol 4 Part E 7.8.12/13, extended
 * 7.8.66) with a host-side timeout that cancels the attempt. */
#include <errno.h>
#include <string.h>

#include "bt/hci-conn.h"
#include "bt/hci-dev.h"
#include "bt/hci-pkt.h"
#include "otad/bt.h"
#include "util/macro.h"

static void connect_finish(struct hci_dev *hci, int err, uint8_t status, struct hci_conn *c)
{
	hci_connect_fn fn = hci->connect_fn;
	otad_destroy_fn destroy = hci->connect_destroy;
	void *data = hci->connect_data;

	hci->connecting = false;
	hci->connect_fn = NULL;
	hci->connect_destroy = NULL;
	hci->connect_timer = sd_event_source_disable_unref(hci->connect_timer);
	if (fn && !hci->freeing)
		fn(hci, err, status, c, data);
	if (destroy)
		destroy(data);
	hci_close_check(hci);
}

void hci_connect_abort(struct hci_dev *hci, int err)
{
	if (hci->connecting)
		connect_finish(hci, err, 0, NULL);
}

static void connect_result(struct hci_dev *hci, uint8_t status, const uint8_t *ret, size_t len,
			   void *user_data)
{
	if (status && hci->connecting)
		connect_finish(hci, -EIO, status, NULL);
}

static void cancel_result(struct hci_dev *hci, uint8_t status, const uint8_t *ret, size_t len,
			  void *user_data)
{
	/* 7.8.13: Command Disallowed when no creation is pending: no Connection Complete
	 * follows, so the attempt ends here */
	if (status && hci->connecting)
		connect_finish(hci, hci->connect_err, status, NULL);
}

static int send_cancel(struct hci_dev *hci, int err)
{
	if (!hci->connecting)
		return -EALREADY;
	if (hci->connect_cancelled)
		return 0;
	hci->connect_cancelled = true;
	hci->connect_err = err;
	return hci_send_cmd(hci, HCI_OP_LE_CREATE_CONN_CANCEL, NULL, 0, cancel_result, NULL);
}

static int connect_timeout(sd_event_source *s, uint64_t usec, void *user_data)
{
	struct hci_dev *hci = user_data;

	hci_debug(hci, "HCI: connection attempt timed out, cancelling");
	if (send_cancel(hci, -ETIMEDOUT) < 0)
		connect_finish(hci, -ETIMEDOUT, 0, NULL);
	return 0;
}

int hci_connect_cancel(struct hci_dev *hci)
{
	return send_cancel(hci, -ECANCELED);
}

void hci_connect_disown(struct hci_dev *hci)
{
	hci_connect_fn fn = hci->connect_fn;
	otad_destroy_fn destroy = hci->connect_destroy;
	void *data = hci->connect_data;

	if (!hci->connecting)
		return;
	hci->connect_fn = NULL;
	hci->connect_destroy = NULL;
	if (fn)
		fn(hci, -ECANCELED, 0, NULL, data);
	if (destroy)
		destroy(data);
	if (hci->connecting && send_cancel(hci, -ECANCELED) < 0)
		connect_finish(hci, -ECANCELED, 0, NULL);
}

int hci_connect(struct hci_dev *hci, const struct bt_addr *peer, const struct hci_conn_params *p,
		hci_connect_fn fn, void *user_data, otad_destroy_fn destroy)
{
	struct hci_conn_params cp = p ? *p : (struct hci_conn_params){0};
	struct hci_le_create_conn cc = {.scan_interval = 0x0060, .scan_window = 0x0060};
	uint8_t params[26];
	uint64_t now;
	size_t n;
	int r;

	if (!hci_dev_is_ready(hci))
		return -EAGAIN;
	if (hci->connecting)
		return -EBUSY;
	cc.peer = *peer;
	cc.interval_min = cp.interval_min ? cp.interval_min : 24;
	cc.interval_max = cp.interval_max ? cp.interval_max : 40;
	cc.latency = cp.latency;
	cc.supervision_timeout = cp.supervision_timeout ? cp.supervision_timeout : 400;
	if (hci->info.ext_scan)
		n = hci_le_ext_create_conn_build(&cc, params);
	else
		n = hci_le_create_conn_build(&cc, params);
	r = hci_send_cmd(hci,
			 hci->info.ext_scan ? HCI_OP_LE_EXT_CREATE_CONN : HCI_OP_LE_CREATE_CONN,
			 params, (uint8_t)n, connect_result, NULL);
	if (r < 0)
		return r;
	sd_event_now(hci->event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(hci->event, &hci->connect_timer, CLOCK_MONOTONIC,
			      now + (cp.timeout_usec ? cp.timeout_usec : 10 * USEC_PER_SEC), 0,
			      connect_timeout, hci);
	if (r < 0)
		return r;
	hci->connecting = true;
	hci->connect_cancelled = false;
	hci->connect_err = 0;
	hci->connect_peer = *peer;
	hci->connect_params = cp;
	hci->connect_fn = fn;
	hci->connect_data = user_data;
	hci->connect_destroy = destroy;
	return 0;
}

void hci_connect_event(struct hci_dev *hci, const struct hci_evt *ev)
{
	struct hci_conn *c;
	uint16_t op = hci->info.ext_scan ? HCI_OP_LE_EXT_CREATE_CONN : HCI_OP_LE_CREATE_CONN;

	if (!hci->connecting) {
		hci_debug(hci, "HCI: Connection Complete (status 0x%02x) nobody waits for%s",
			  ev->conn.status, ev->conn.status ? ", dropped" : ", disconnecting");
		if (ev->conn.status == 0 && (c = hci_conn_new(hci, ev)))
			hci_conn_disconnect(c, HCI_ERR_REMOTE_USER_TERM);
		return;
	}
	if (ev->conn.status) {
		/* 7.8.13: a cancelled attempt ends with Unknown Connection Identifier */
		if (!hci->connect_cancelled) {
			hci_format_failure(op, ev->conn.status, hci->last_error,
					   sizeof(hci->last_error));
			if (hci->cb.cmd_error)
				hci->cb.cmd_error(hci, op, ev->conn.status, hci->last_error,
						  hci->user_data);
		}
		connect_finish(hci, hci->connect_cancelled ? hci->connect_err : -EIO,
			       ev->conn.status, NULL);
		return;
	}
	c = hci_conn_new(hci, ev);
	if (!c) {
		connect_finish(hci, -ENOMEM, 0, NULL);
		return;
	}
	hci_conn_ref(c);
	connect_finish(hci, 0, 0, c);
	if (c->hci && hci->closing)
		hci_conn_disconnect(c, HCI_ERR_REMOTE_USER_TERM); /* won the race with the cancel */
	else if (c->hci)
		hci_conn_start(c);
	hci_conn_unref(c);
}
