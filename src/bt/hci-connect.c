/* hci-connect.c — initiating LE connections (Core 5.4 Vol 4 Part E 7.8.12/13, extended
 * 7.8.66): requests queued in order, one LE Create Connection in flight (a controller has one
 * initiator), each with a host-side timeout that cancels it; scanning paused around it when the
 * controller cannot scan while initiating. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/hci-conn.h"
#include "bt/hci-dev.h"
#include "bt/hci-pkt.h"
#include "otad/bt.h"
#include "util/macro.h"

struct hci_connect_req {
	struct hci_connect_req *next;
	unsigned id;
	bool disowned; /* its owner let go: nothing is told, a connection that wins is dropped */
	struct bt_addr peer;
	struct hci_conn_params params;
	hci_connect_fn fn;
	void *user_data;
	otad_destroy_fn destroy;
};

static void start_next(struct hci_dev *hci);

static void req_disown(struct hci_connect_req *q)
{
	otad_destroy_fn destroy = q->destroy;

	q->disowned = true;
	q->fn = NULL;
	q->destroy = NULL;
	if (destroy)
		destroy(q->user_data);
}

/* Takes q out of the queue, tells its owner (unless disowned or freeing) and frees it. */
static void req_end(struct hci_dev *hci, struct hci_connect_req *q, int err, uint8_t status,
		    struct hci_conn *c)
{
	for (struct hci_connect_req **pp = &hci->connect_q; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	if (q->id == hci->connect_legacy)
		hci->connect_legacy = 0;
	if (q->fn && !hci->freeing)
		q->fn(hci, err, status, c, q->user_data);
	if (q->destroy)
		q->destroy(q->user_data);
	free(q);
}

/* The attempt in flight ended: its owner hears it, the next one starts (or scanning goes on). */
static void connect_finish(struct hci_dev *hci, int err, uint8_t status, struct hci_conn *c)
{
	struct hci_connect_req *q = hci->connect_q;

	hci->connecting = false;
	hci->connect_timer = sd_event_source_disable_unref(hci->connect_timer);
	if (q)
		req_end(hci, q, err, status, c);
	hci_close_check(hci);
	start_next(hci);
}

void hci_connect_abort(struct hci_dev *hci, int err)
{
	hci->connecting = false;
	hci->connect_timer = sd_event_source_disable_unref(hci->connect_timer);
	while (hci->connect_q)
		req_end(hci, hci->connect_q, err, 0, NULL);
}

void hci_connect_free_queue(struct hci_dev *hci)
{
	hci_connect_abort(hci, -ECANCELED); /* hci->freeing: destroys only */
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

/* Sends LE Create Connection for q (the head of the queue). */
static int send_create(struct hci_dev *hci, struct hci_connect_req *q)
{
	const struct hci_conn_params *cp = &q->params;
	struct hci_le_create_conn cc = {.scan_interval = 0x0060, .scan_window = 0x0060};
	uint8_t params[26];
	uint64_t now = 0;
	size_t n;
	int r;

	cc.peer = q->peer;
	cc.interval_min = cp->interval_min ? cp->interval_min : 24;
	cc.interval_max = cp->interval_max ? cp->interval_max : 40;
	cc.latency = cp->latency;
	cc.supervision_timeout = cp->supervision_timeout ? cp->supervision_timeout : 400;
	if (hci->info.ext_scan)
		n = hci_le_ext_create_conn_build(&cc, params);
	else
		n = hci_le_create_conn_build(&cc, params);
	(void)sd_event_now(hci->event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(hci->event, &hci->connect_timer, CLOCK_MONOTONIC,
			      now + (cp->timeout_usec ? cp->timeout_usec : 10 * USEC_PER_SEC), 0,
			      connect_timeout, hci);
	if (r < 0)
		return r;
	r = hci_send_cmd(hci,
			 hci->info.ext_scan ? HCI_OP_LE_EXT_CREATE_CONN : HCI_OP_LE_CREATE_CONN,
			 params, (uint8_t)n, connect_result, NULL);
	if (r < 0) {
		hci->connect_timer = sd_event_source_disable_unref(hci->connect_timer);
		return r;
	}
	hci->connecting = true;
	hci->connect_cancelled = false;
	hci->connect_err = 0;
	return 0;
}

static void start_next(struct hci_dev *hci)
{
	while (!hci->connecting && hci->connect_q && hci_dev_is_ready(hci)) {
		struct hci_connect_req *q = hci->connect_q;
		int r;

		if (q->disowned) { /* cancelled while waiting (hci_dev_close()) */
			req_end(hci, q, -ECANCELED, 0, NULL);
			continue;
		}
		hci_scan_update(hci); /* pauses scanning first where needed */
		r = send_create(hci, q);
		if (r < 0)
			req_end(hci, q, r, 0, NULL);
	}
	if (!hci->connect_q)
		hci_scan_update(hci); /* resumes scanning */
}

int hci_connect_request(struct hci_dev *hci, const struct bt_addr *peer,
			const struct hci_conn_params *p, hci_connect_fn fn, void *user_data,
			otad_destroy_fn destroy, unsigned *ret_id)
{
	struct hci_connect_req *q, **pp;

	if (!hci_dev_is_ready(hci) || hci->closing)
		return -EAGAIN;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->id = ++hci->connect_id ? hci->connect_id : ++hci->connect_id;
	q->peer = *peer;
	q->params = p ? *p : (struct hci_conn_params){0};
	q->fn = fn;
	q->user_data = user_data;
	q->destroy = destroy;
	for (pp = &hci->connect_q; *pp; pp = &(*pp)->next)
		;
	*pp = q;
	*ret_id = q->id;
	start_next(hci);
	return 0;
}

static struct hci_connect_req *req_find(const struct hci_dev *hci, unsigned id)
{
	for (struct hci_connect_req *q = hci->connect_q; q; q = q->next)
		if (q->id == id && !q->disowned)
			return q;
	return NULL;
}

bool hci_connect_request_cancel(struct hci_dev *hci, unsigned id)
{
	struct hci_connect_req *q = id ? req_find(hci, id) : NULL;

	if (!q)
		return false;
	if (q->id == hci->connect_legacy)
		hci->connect_legacy = 0;
	req_disown(q);
	if (q != hci->connect_q || !hci->connecting) {
		req_end(hci, q, -ECANCELED, 0, NULL);
		if (!hci->connect_q)
			hci_scan_update(hci);
	} else if (send_cancel(hci, -ECANCELED) < 0) {
		connect_finish(hci, -ECANCELED, 0, NULL);
	}
	return true;
}

unsigned hci_connect_pending(const struct hci_dev *hci)
{
	unsigned n = 0;

	for (const struct hci_connect_req *q = hci->connect_q; q; q = q->next)
		n += !q->disowned;
	return n;
}

int hci_connect(struct hci_dev *hci, const struct bt_addr *peer, const struct hci_conn_params *p,
		hci_connect_fn fn, void *user_data, otad_destroy_fn destroy)
{
	if (!hci_dev_is_ready(hci))
		return -EAGAIN;
	if (hci->connect_q)
		return -EBUSY;
	return hci_connect_request(hci, peer, p, fn, user_data, destroy, &hci->connect_legacy);
}

int hci_connect_cancel(struct hci_dev *hci)
{
	struct hci_connect_req *q = hci->connect_legacy ? req_find(hci, hci->connect_legacy) : NULL;

	if (!q)
		return -EALREADY;
	if (q != hci->connect_q || !hci->connecting) {
		req_end(hci, q, -ECANCELED, 0, NULL);
		start_next(hci);
		return 0;
	}
	return send_cancel(hci, -ECANCELED);
}

/* hci_dev_close(): every owner hears -ECANCELED now; the attempt in flight ends when the
 * controller answers its cancel. */
void hci_connect_disown(struct hci_dev *hci)
{
	struct hci_connect_req *head = hci->connecting ? hci->connect_q : NULL;

	while (hci->connect_q && hci->connect_q != head)
		req_end(hci, hci->connect_q, -ECANCELED, 0, NULL);
	if (head) {
		while (head->next)
			req_end(hci, head->next, -ECANCELED, 0, NULL);
		if (head->fn && !hci->freeing)
			head->fn(hci, -ECANCELED, 0, NULL, head->user_data);
		head->fn = NULL;
		req_disown(head);
	}
	if (hci->connecting && send_cancel(hci, -ECANCELED) < 0)
		connect_finish(hci, -ECANCELED, 0, NULL);
}

void hci_connect_event(struct hci_dev *hci, const struct hci_evt *ev)
{
	struct hci_conn *c;
	uint16_t op = hci->info.ext_scan ? HCI_OP_LE_EXT_CREATE_CONN : HCI_OP_LE_CREATE_CONN;
	bool drop;

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
	/* a connection that won the race with the cancel of a disowned attempt goes */
	drop = hci->closing || (hci->connect_q && hci->connect_q->disowned);
	hci_conn_ref(c);
	connect_finish(hci, 0, 0, c);
	if (c->hci && drop)
		hci_conn_disconnect(c, HCI_ERR_REMOTE_USER_TERM);
	else if (c->hci)
		hci_conn_start(c);
	hci_conn_unref(c);
}
