/* att.c — the ATT bearer of one LE connection (Core 5.4 Vol 3 Part F 3.3): one request in
 * flight at a time with the 30 s transaction timeout, MTU exchange answered for both roles,
 * notifications and indications routed to the client side, requests and commands to the server
 * side (or answered as from an empty database when there is none). A request refused for want
 * of security is sent again once the link's Security Manager raised it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/att-pdu.h"
#include "bt/att.h"
#include "bt/hci-dev.h"
#include "bt/l2cap.h"
#include "otad/bt-hci.h"
#include "otad/bt-sm.h"
#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"

struct att_req {
	struct att_req *next;
	att_rsp_fn fn; /* NULL once cancelled: the response is still awaited, then dropped */
	void *user_data;
	bool raised;	    /* sent again after raising security: not a second time */
	uint8_t err_pdu[5]; /* the Error Response that asked for security */
	size_t len;
	uint8_t pdu[];
};

struct att {
	struct hci_conn *conn; /* owns us */
	uint16_t mtu, our_mtu;
	uint64_t timeout_usec;
	bool dead;
	struct att_req *pending;
	struct att_req *head, *tail;
	bool raising; /* pending waits for the Security Manager */
	sd_event_source *timer;

	unsigned down_watch;

	att_server_fn server;
	void *server_data;
	att_notify_fn notify;
	void *client_data;
};

static void fail_all(struct att *att, int err);

static void att_link_down(struct hci_conn *c, uint8_t reason, void *user_data)
{
	struct att *att = user_data;

	att->dead = true;
	fail_all(att, -ENOTCONN);
}

static void att_debug(struct att *att, const char *what, uint8_t op, size_t len)
{
	struct hci_dev *hci = hci_conn_get_dev(att->conn);

	if (hci)
		hci_debug(hci, "ATT: %s (opcode 0x%02x, %zu bytes)", what, op, len);
}

static struct att *att_new(struct hci_conn *conn, uint16_t our_mtu)
{
	struct att *att = calloc(1, sizeof(*att));

	if (!att)
		return NULL;
	att->conn = conn;
	att->mtu = ATT_MIN_MTU;
	att->our_mtu = our_mtu;
	att->timeout_usec = ATT_TIMEOUT_USEC;
	att->down_watch = hci_conn_watch_disconnect(conn, att_link_down, att, NULL);
	if (!att->down_watch) {
		free(att);
		return NULL;
	}
	return att;
}

static void fail_all(struct att *att, int err)
{
	struct att_req *list = att->pending;

	if (list)
		list->next = att->head;
	else
		list = att->head;
	att->pending = att->head = att->tail = NULL;
	att->raising = false;
	if (att->timer)
		sd_event_source_set_enabled(att->timer, SD_EVENT_OFF);
	while (list) {
		struct att_req *r = list;

		list = r->next;
		if (r->fn)
			r->fn(att, err, 0, NULL, 0, r->user_data);
		free(r);
	}
}

static void att_free(void *user_data)
{
	struct att *att = user_data;

	if (!att)
		return;
	att->dead = true;
	att->server = NULL;
	att->notify = NULL;
	hci_conn_unwatch(att->conn, att->down_watch);
	fail_all(att, -ECANCELED);
	sd_event_source_disable_unref(att->timer);
	free(att);
}

uint16_t att_get_mtu(const struct att *att)
{
	return att->mtu;
}

void att_set_mtu(struct att *att, uint16_t mtu)
{
	att->mtu = MAX(mtu, (uint16_t)ATT_MIN_MTU);
}

uint16_t att_get_our_mtu(const struct att *att)
{
	return att->our_mtu;
}

void att_set_our_mtu(struct att *att, uint16_t mtu)
{
	att->our_mtu = MAX(mtu, (uint16_t)ATT_MIN_MTU);
}

void att_set_timeout(struct att *att, uint64_t usec)
{
	att->timeout_usec = usec;
}

bool att_has_server(const struct att *att)
{
	return att->server != NULL;
}

bool att_has_client(const struct att *att)
{
	return att->notify != NULL;
}

struct hci_conn *att_get_conn(const struct att *att)
{
	return att->conn;
}

void att_set_server(struct att *att, att_server_fn fn, void *user_data)
{
	att->server = fn;
	att->server_data = user_data;
}

void att_set_client(struct att *att, att_notify_fn notify, void *user_data)
{
	att->notify = notify;
	att->client_data = user_data;
}

int att_send(struct att *att, const uint8_t *pdu, size_t len)
{
	if (att->dead)
		return -ENOTCONN;
	if (len > att->mtu)
		return -EMSGSIZE;
	return l2cap_send(att->conn, L2CAP_CID_ATT, pdu, len);
}

/* 3.3.3: a request not answered within 30 s ends the bearer; we drop the link. */
static int att_timeout(sd_event_source *s, uint64_t usec, void *user_data)
{
	struct att *att = user_data;

	att_debug(att, "transaction timeout, disconnecting",
		  att->pending ? att->pending->pdu[0] : 0, 0);
	att->dead = true;
	hci_conn_disconnect(att->conn, HCI_ERR_REMOTE_USER_TERM);
	fail_all(att, -ETIMEDOUT);
	return 0;
}

static void send_next(struct att *att)
{
	struct hci_dev *hci = hci_conn_get_dev(att->conn);
	uint64_t now;
	int r;

	while (!att->pending && att->head && !att->dead) {
		struct att_req *req = att->head;

		att->head = req->next;
		if (!att->head)
			att->tail = NULL;
		req->next = NULL;
		r = att_send(att, req->pdu, req->len);
		if (r < 0) {
			if (req->fn)
				req->fn(att, r, 0, NULL, 0, req->user_data);
			free(req);
			continue;
		}
		att->pending = req;
		if (!hci)
			return;
		if (!att->timer && sd_event_add_time(hci_get_event(hci), &att->timer,
						     CLOCK_MONOTONIC, 0, 0, att_timeout, att) < 0)
			return;
		sd_event_now(hci_get_event(hci), CLOCK_MONOTONIC, &now);
		sd_event_source_set_time(att->timer, now + att->timeout_usec);
		sd_event_source_set_enabled(att->timer, SD_EVENT_ONESHOT);
	}
}

int att_request(struct att *att, const uint8_t *pdu, size_t len, att_rsp_fn fn, void *user_data)
{
	struct att_req *req;

	if (att->dead)
		return -ENOTCONN;
	if (len > att->mtu || len == 0)
		return -EMSGSIZE;
	req = malloc(sizeof(*req) + len);
	if (!req)
		return -ENOMEM;
	req->next = NULL;
	req->fn = fn;
	req->user_data = user_data;
	req->raised = false;
	req->len = len;
	memcpy(req->pdu, pdu, len);
	if (att->tail)
		att->tail->next = req;
	else
		att->head = req;
	att->tail = req;
	send_next(att);
	return 0;
}

void att_cancel_all(struct att *att, void *user_data)
{
	for (struct att_req **pp = &att->head; *pp;) {
		struct att_req *r = *pp;

		if (r->user_data == user_data) {
			*pp = r->next;
			free(r);
		} else {
			pp = &r->next;
		}
	}
	att->tail = NULL;
	for (struct att_req *r = att->head; r; r = r->next)
		att->tail = r;
	if (att->pending && att->pending->user_data == user_data)
		att->pending->fn = NULL;
}

static void on_raised(struct sm *sm, int err, const struct sm_result *r, void *user_data)
{
	struct att *att = user_data;
	struct att_req *req = att->pending;

	if (!att->raising || !req)
		return; /* the bearer failed meanwhile */
	att->raising = false;
	att->pending = NULL;
	if (err == 0) {
		req->next = att->head; /* first again, in its place */
		att->head = req;
		if (!att->tail)
			att->tail = req;
		send_next(att);
		return;
	}
	if (req->fn)
		req->fn(att, -EIO, req->err_pdu[4], req->err_pdu, sizeof(req->err_pdu),
			req->user_data);
	free(req);
	send_next(att);
}

/* Vol 3 Part C 10.3.1, as BlueZ's bearer does: Insufficient Authentication, Encryption or
 * Encryption Key Size asks the client to raise the link's security and try again, once. */
static bool raise_security(struct att *att, struct att_req *req, const uint8_t *pdu)
{
	struct sm *sm = sm_from_conn(att->conn);
	uint8_t cur = hci_conn_security(att->conn), level;

	if (req->raised || !sm)
		return false;
	switch (pdu[4]) {
	case ATT_ECODE_INSUFF_AUTHEN:
		level = MAX((uint8_t)(cur + 1), (uint8_t)SM_LEVEL_AUTHENTICATED);
		break;
	case ATT_ECODE_INSUFF_ENC:
	case ATT_ECODE_INSUFF_KEY_SIZE:
		level = MAX((uint8_t)(cur + 1), (uint8_t)SM_LEVEL_UNAUTHENTICATED);
		break;
	default:
		return false;
	}
	if (level > SM_LEVEL_SC)
		return false;
	req->raised = true;
	memcpy(req->err_pdu, pdu, sizeof(req->err_pdu));
	if (sm_pair(sm, level, on_raised, att, NULL) < 0)
		return false;
	att->raising = true;
	att_debug(att, "request needs security, raising it", req->pdu[0], req->len);
	return true;
}

static void handle_response(struct att *att, const uint8_t *pdu, size_t len)
{
	struct att_req *req = att->pending;
	uint8_t req_op;
	bool error = pdu[0] == ATT_ERROR_RSP;

	if (!req || att->raising) {
		att_debug(att, "response without a request, dropped", pdu[0], len);
		return;
	}
	req_op = req->pdu[0];
	if (error ? (len < 5 || pdu[1] != req_op) : pdu[0] != req_op + 1) {
		att_debug(att, "response does not match the request, dropped", pdu[0], len);
		return;
	}
	sd_event_source_set_enabled(att->timer, SD_EVENT_OFF);
	if (error && raise_security(att, req, pdu))
		return;
	att->pending = NULL;
	if (req->fn) {
		if (error)
			req->fn(att, -EIO, pdu[4], pdu, len, req->user_data);
		else
			req->fn(att, 0, 0, pdu, len, req->user_data);
	}
	free(req);
	send_next(att);
}

/* 3.4.2: both sides use min(client Rx MTU, server Rx MTU), never below 23 */
static size_t handle_mtu_req(struct att *att, const uint8_t *pdu, size_t len, uint8_t *out)
{
	if (len != 3)
		return att_error_build(pdu[0], 0, ATT_ECODE_INVALID_PDU, out);
	att_set_mtu(att, MIN(get_le16(pdu + 1), att->our_mtu));
	return att_mtu_build(ATT_MTU_RSP, att->our_mtu, out);
}

/* Requests when no server is attached: an empty database. */
static size_t no_server(const uint8_t *pdu, size_t len, uint8_t *out)
{
	uint16_t start = len >= 3 ? get_le16(pdu + 1) : 0;

	switch (pdu[0]) {
	case ATT_FIND_INFO_REQ:
	case ATT_FIND_BY_TYPE_REQ:
	case ATT_READ_BY_TYPE_REQ:
	case ATT_READ_BY_GROUP_REQ:
		return att_error_build(pdu[0], start, ATT_ECODE_ATTR_NOT_FOUND, out);
	default:
		return att_error_build(pdu[0], 0, ATT_ECODE_REQ_NOT_SUPP, out);
	}
}

static void handle_incoming(struct att *att, const uint8_t *pdu, size_t len)
{
	uint8_t out[600]; /* >= GATT_DEFAULT_MTU and any answer we build */
	size_t n = 0;

	if (pdu[0] == ATT_MTU_REQ)
		n = handle_mtu_req(att, pdu, len, out);
	else if (att->server)
		n = att->server(att, pdu, len, out, MIN(sizeof(out), (size_t)att->mtu),
				att->server_data);
	else if (att_opcode_is_request(pdu[0]))
		n = no_server(pdu, len, out);
	else if (!att_opcode_is_command(pdu[0]))
		n = att_error_build(pdu[0], 0, ATT_ECODE_REQ_NOT_SUPP, out);
	else
		att_debug(att, "command without a server, dropped", pdu[0], len);
	if (n)
		att_send(att, out, n);
}

static void att_recv(struct hci_conn *conn, const uint8_t *pdu, size_t len, void *user_data)
{
	struct att *att = user_data;

	if (att->dead)
		return;
	if (len == 0) {
		att_debug(att, "empty PDU dropped", 0, 0);
		return;
	}
	if (att_opcode_is_response(pdu[0])) {
		handle_response(att, pdu, len);
		return;
	}
	switch (pdu[0]) {
	case ATT_NOTIFY:
	case ATT_INDICATE:
		if (len < 3) {
			att_debug(att, "truncated notification dropped", pdu[0], len);
			return;
		}
		if (pdu[0] == ATT_INDICATE) {
			uint8_t c = ATT_CONFIRM; /* 3.4.7.3 */

			att_send(att, &c, 1);
		}
		if (att->notify)
			att->notify(att, get_le16(pdu + 1), pdu + 3, len - 3, att->client_data);
		else
			att_debug(att, "notification without a client, dropped", pdu[0], len);
		return;
	case ATT_CONFIRM:
		return;
	}
	handle_incoming(att, pdu, len);
}

int att_attach(struct hci_conn *conn, struct att **ret)
{
	struct att *att;
	void *there;

	if (l2cap_lookup(conn, L2CAP_CID_ATT, att_recv, &there)) {
		*ret = there;
		return 0;
	}
	if (!hci_conn_is_connected(conn))
		return -ENOTCONN;
	if (l2cap_lookup(conn, L2CAP_CID_ATT, NULL, NULL))
		return -EBUSY;
	att = att_new(conn, GATT_DEFAULT_MTU);
	if (!att)
		return -ENOMEM;
	/* the channel owns the bearer from now on: att_free() with the link's last unref */
	if (!l2cap_register(conn, L2CAP_CID_ATT, att_recv, att, att_free)) {
		att_free(att);
		return -ENOMEM;
	}
	*ret = att;
	return 0;
}
