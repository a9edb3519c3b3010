/* hci-conn.c — LE connections: ACL flow control by Number Of Completed Packets with per-
 * connection accounting, ACL reassembled into L2CAP frames for l2cap.c, watches, disconnection,
 * connection parameter requests, and the data length / PHY upgrade after connecting. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/h4.h"
#include "bt/hci-conn.h"
#include "bt/hci-dev.h"
#include "bt/hci-driver.h"
#include "bt/hci-pkt.h"
#include "bt/l2cap.h"
#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"

#define LE_MAX_TX_OCTETS 251  /* Core 5.4 Vol 6 Part B 4.5.10 */
#define LE_MAX_TX_TIME	 2120 /* 251 octets on LE 1M, microseconds */

struct hci_conn *hci_conn_find(struct hci_dev *hci, uint16_t handle)
{
	for (struct hci_conn *c = hci->conns; c; c = c->next)
		if (c->info.handle == handle)
			return c;
	return NULL;
}

struct hci_conn *hci_conn_new(struct hci_dev *hci, const struct hci_evt *ev)
{
	struct hci_conn *c;

	if (hci_conn_find(hci, ev->conn.handle)) {
		hci_debug(hci, "HCI: Connection Complete for handle 0x%03x already in use, dropped",
			  ev->conn.handle);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ref = 1; /* the hci_dev's, dropped when the link is gone */
	c->hci = hci;
	c->info.handle = ev->conn.handle;
	c->info.role = ev->conn.role;
	c->info.peer = ev->conn.peer;
	c->info.interval = ev->conn.interval;
	c->info.latency = ev->conn.latency;
	c->info.supervision_timeout = ev->conn.supervision_timeout;
	c->info.tx_octets = c->info.rx_octets = 27; /* Vol 6 Part B 4.5.10 defaults */
	c->info.tx_phy = c->info.rx_phy = 1;
	c->info.connected = true;
	c->sec_level = 1;
	if (l2cap_attach(c) < 0) {
		free(c);
		return NULL;
	}
	c->next = hci->conns;
	hci->conns = c;
	return c;
}

static void conn_cmd_result(struct hci_dev *hci, uint8_t status, const uint8_t *ret, size_t len,
			    void *user_data)
{
	/* failures are named through cmd_error / last_error; nothing else to undo */
}

static int conn_cmd(struct hci_conn *c, uint16_t op, const uint8_t *p, uint8_t plen)
{
	if (!c->hci)
		return -ENOTCONN;
	return hci_send_cmd(c->hci, op, p, plen, conn_cmd_result, NULL);
}

void hci_conn_start(struct hci_conn *c)
{
	uint8_t p[2];

	/* Features first: data length and PHY upgrades need both sides' support (7.8.21) */
	if (c->info.role != HCI_ROLE_CENTRAL)
		return;
	put_le16(p, c->info.handle);
	conn_cmd(c, HCI_OP_LE_READ_REMOTE_FEATURES, p, 2);
}

static void conn_upgrade(struct hci_conn *c)
{
	struct hci_dev *hci = c->hci;
	uint8_t p[7];

	if (hci->info.data_len_ext && (c->info.remote_features >> LE_FEAT_DATA_LEN_EXT) & 1) {
		put_le16(p, c->info.handle); /* 7.8.33 */
		put_le16(p + 2, LE_MAX_TX_OCTETS);
		put_le16(p + 4, LE_MAX_TX_TIME);
		conn_cmd(c, HCI_OP_LE_SET_DATA_LENGTH, p, 6);
	} else {
		hci_debug(hci, "HCI: handle 0x%03x: data length extension not supported by %s",
			  c->info.handle, hci->info.data_len_ext ? "the peer" : "the controller");
	}
	if (hci->info.le_2m_phy && (c->info.remote_features >> LE_FEAT_2M_PHY) & 1) {
		put_le16(p, c->info.handle); /* 7.8.49 */
		p[2] = 0x00;		     /* ALL_PHYS: we state TX and RX preferences */
		p[3] = 0x02;		     /* TX: LE 2M */
		p[4] = 0x02;		     /* RX: LE 2M */
		put_le16(p + 5, 0x0000);
		conn_cmd(c, HCI_OP_LE_SET_PHY, p, 7);
	} else {
		hci_debug(hci, "HCI: handle 0x%03x: LE 2M PHY not supported by %s", c->info.handle,
			  hci->info.le_2m_phy ? "the peer" : "the controller");
	}
}

static void conn_param_request(struct hci_conn *c, const struct hci_evt *ev)
{
	struct l2cap_conn_param prm = {ev->param_req.interval_min, ev->param_req.interval_max,
				       ev->param_req.latency, ev->param_req.timeout};
	uint8_t p[14];

	if (!l2cap_conn_param_valid(&prm)) {
		put_le16(p, c->info.handle); /* 7.8.32 */
		p[2] = HCI_ERR_UNKNOWN_CONN_PARAMS;
		hci_debug(c->hci, "HCI: handle 0x%03x: connection parameter request rejected",
			  c->info.handle);
		conn_cmd(c, HCI_OP_LE_CONN_PARAM_REQ_NEG_REPLY, p, 3);
		return;
	}
	hci_le_conn_update_build(c->info.handle, prm.interval_min, prm.interval_max, prm.latency,
				 prm.timeout, p); /* 7.8.31 has the same layout */
	conn_cmd(c, HCI_OP_LE_CONN_PARAM_REQ_REPLY, p, 14);
}

static void conn_ltk_request(struct hci_conn *c, const struct hci_evt *ev);

static void conn_updated(struct hci_conn *c)
{
	if (c->cb.updated)
		c->cb.updated(c, c->user_data);
}

/* The connection handle an LE subevent is about; false for subevents handled elsewhere. */
static bool le_event_handle(const struct hci_evt *ev, uint16_t *ret)
{
	switch (ev->subevent) {
	case HCI_LE_CONN_UPDATE_COMPLETE:
		*ret = ev->conn_update.handle;
		return true;
	case HCI_LE_REMOTE_FEATURES:
		*ret = ev->remote_features.handle;
		return true;
	case HCI_LE_CONN_PARAM_REQ:
		*ret = ev->param_req.handle;
		return true;
	case HCI_LE_DATA_LEN_CHANGE:
		*ret = ev->data_len.handle;
		return true;
	case HCI_LE_PHY_UPDATE:
		*ret = ev->phy.handle;
		return true;
	case HCI_LE_LTK_REQUEST:
		*ret = ev->ltk_req.handle;
		return true;
	default:
		return false;
	}
}

void hci_conn_le_event(struct hci_dev *hci, const struct hci_evt *ev)
{
	uint16_t handle;
	struct hci_conn *c;

	if (!le_event_handle(ev, &handle)) {
		hci_debug(hci, "HCI: unhandled LE subevent 0x%02x dropped", ev->subevent);
		return;
	}
	c = hci_conn_find(hci, handle);
	if (!c) {
		hci_debug(hci, "HCI: LE subevent 0x%02x for unknown handle 0x%03x dropped",
			  ev->subevent, handle);
		return;
	}
	switch (ev->subevent) {
	case HCI_LE_CONN_UPDATE_COMPLETE:
		if (ev->conn_update.status) {
			hci_debug(hci, "HCI: connection update failed: 0x%02x %s",
				  ev->conn_update.status, hci_strerror(ev->conn_update.status));
			return;
		}
		c->info.interval = ev->conn_update.interval;
		c->info.latency = ev->conn_update.latency;
		c->info.supervision_timeout = ev->conn_update.supervision_timeout;
		conn_updated(c);
		break;
	case HCI_LE_REMOTE_FEATURES:
		if (ev->remote_features.status == 0)
			c->info.remote_features = ev->remote_features.features;
		conn_upgrade(c);
		break;
	case HCI_LE_CONN_PARAM_REQ:
		conn_param_request(c, ev);
		break;
	case HCI_LE_DATA_LEN_CHANGE:
		c->info.tx_octets = ev->data_len.tx_octets;
		c->info.rx_octets = ev->data_len.rx_octets;
		conn_updated(c);
		break;
	case HCI_LE_PHY_UPDATE:
		if (ev->phy.status == 0) {
			c->info.tx_phy = ev->phy.tx_phy;
			c->info.rx_phy = ev->phy.rx_phy;
			conn_updated(c);
		}
		break;
	case HCI_LE_LTK_REQUEST:
		conn_ltk_request(c, ev);
		break;
	}
}

/* ---- watches ---- */

enum watch_kind { WATCH_DISCONNECT, WATCH_WRITABLE, WATCH_ENCRYPT, WATCH_LTK_REQUEST };

struct hci_conn_watch {
	struct hci_conn_watch *next;
	unsigned id;
	enum watch_kind kind;
	bool removed;
	union {
		hci_conn_disconnect_fn disconnect;
		hci_conn_writable_fn writable;
		hci_conn_encrypt_fn encrypt;
		hci_conn_ltk_fn ltk;
		void *any;
	} fn;
	void *user_data;
	otad_destroy_fn destroy;
};

/* What an event tells its watches. */
struct watch_event {
	uint8_t status; /* disconnect: the reason */
	bool encrypted;
	uint16_t ediv;
	const uint8_t *rand;
};

static unsigned watch_add(struct hci_conn *c, enum watch_kind kind, void *fn, void *user_data,
			  otad_destroy_fn destroy)
{
	struct hci_conn_watch *w, **pp;

	if (!c->hci || !fn)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return 0;
	w->id = ++c->watch_id;
	w->kind = kind;
	w->fn.any = fn;
	w->user_data = user_data;
	w->destroy = destroy;
	for (pp = &c->watches; *pp; pp = &(*pp)->next)
		;
	*pp = w;
	return w->id;
}

unsigned hci_conn_watch_disconnect(struct hci_conn *c, hci_conn_disconnect_fn fn, void *user_data,
				   otad_destroy_fn destroy)
{
	return watch_add(c, WATCH_DISCONNECT, (void *)fn, user_data, destroy);
}

unsigned hci_conn_watch_writable(struct hci_conn *c, hci_conn_writable_fn fn, void *user_data,
				 otad_destroy_fn destroy)
{
	return watch_add(c, WATCH_WRITABLE, (void *)fn, user_data, destroy);
}

unsigned hci_conn_watch_encrypt(struct hci_conn *c, hci_conn_encrypt_fn fn, void *user_data,
				otad_destroy_fn destroy)
{
	return watch_add(c, WATCH_ENCRYPT, (void *)fn, user_data, destroy);
}

unsigned hci_conn_watch_ltk_request(struct hci_conn *c, hci_conn_ltk_fn fn, void *user_data,
				    otad_destroy_fn destroy)
{
	return watch_add(c, WATCH_LTK_REQUEST, (void *)fn, user_data, destroy);
}

/* Frees the removed watches (all of them with all = true), each destroy once. */
static void watches_prune(struct hci_conn *c, bool all)
{
	for (struct hci_conn_watch **pp = &c->watches; *pp;) {
		struct hci_conn_watch *w = *pp;

		if (!all && !w->removed) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		if (w->destroy)
			w->destroy(w->user_data);
		free(w);
	}
}

bool hci_conn_unwatch(struct hci_conn *c, unsigned id)
{
	for (struct hci_conn_watch *w = c->watches; w; w = w->next) {
		if (w->id != id || w->removed)
			continue;
		w->removed = true;
		if (!c->telling)
			watches_prune(c, false);
		return true;
	}
	return false;
}

static bool has_watch(const struct hci_conn *c, enum watch_kind kind)
{
	for (const struct hci_conn_watch *w = c->watches; w; w = w->next)
		if (!w->removed && w->kind == kind)
			return true;
	return false;
}

static void watch_call(struct hci_conn *c, struct hci_conn_watch *w, const struct watch_event *ev)
{
	switch (w->kind) {
	case WATCH_DISCONNECT:
		w->fn.disconnect(c, ev->status, w->user_data);
		break;
	case WATCH_WRITABLE:
		if (c->hci) /* a watch before this one may have ended the link */
			w->fn.writable(c, w->user_data);
		break;
	case WATCH_ENCRYPT:
		if (c->hci)
			w->fn.encrypt(c, ev->status, ev->encrypted, w->user_data);
		break;
	case WATCH_LTK_REQUEST:
		if (c->hci)
			w->fn.ltk(c, ev->ediv, ev->rand, w->user_data);
		break;
	}
}

/* Tells the watches of one kind, in order; those made meanwhile (ids after last) wait for the
 * next event. The caller holds a ref on c. */
static void watches_tell(struct hci_conn *c, enum watch_kind kind, const struct watch_event *ev)
{
	unsigned last = c->watch_id;

	c->telling++;
	for (struct hci_conn_watch *w = c->watches; w; w = w->next) {
		if (w->removed || w->kind != kind || w->id > last)
			continue;
		watch_call(c, w, ev);
	}
	if (--c->telling == 0)
		watches_prune(c, false);
}

/* ---- encryption (Core 5.4 Vol 4 Part E 7.8.24 to 7.8.26, 7.7.8, 7.7.39) ---- */

static void conn_encrypted(struct hci_conn *c, uint8_t status, bool encrypted)
{
	if (status == 0 && encrypted) {
		c->sec_level = c->pending_level ? c->pending_level : 2;
		c->key_size = c->pending_key_size ? c->pending_key_size : 16;
	} else if (status == 0) {
		c->sec_level = 1;
		c->key_size = 0;
	}
	c->encrypted = c->sec_level > 1;
	hci_conn_ref(c);
	watches_tell(c, WATCH_ENCRYPT,
		     &(struct watch_event){.status = status, .encrypted = c->encrypted});
	hci_conn_unref(c);
}

void hci_conn_encrypt_event(struct hci_dev *hci, const struct hci_evt *ev)
{
	struct hci_conn *c = hci_conn_find(hci, ev->encrypt.handle);

	if (!c) {
		hci_debug(hci, "HCI: encryption event for unknown handle 0x%03x dropped",
			  ev->encrypt.handle);
		return;
	}
	if (ev->encrypt.status)
		hci_debug(hci, "HCI: handle 0x%03x: encryption failed: 0x%02x %s", c->info.handle,
			  ev->encrypt.status, hci_strerror(ev->encrypt.status));
	conn_encrypted(c, ev->encrypt.status, ev->encrypt.enabled);
}

static void encrypt_cmd_result(struct hci_dev *hci, uint8_t status, const uint8_t *ret, size_t len,
			       void *user_data)
{
	struct hci_conn *c = hci_conn_find(hci, (uint16_t)(uintptr_t)user_data);

	/* Command Status: a refused start is the encryption's end, no event follows */
	if (c && status)
		conn_encrypted(c, status, false);
}

int hci_conn_encrypt(struct hci_conn *c, const uint8_t ltk[16], uint16_t ediv,
		     const uint8_t rand[8], uint8_t level, uint8_t key_size)
{
	uint8_t p[28];

	if (!hci_conn_is_connected(c))
		return -ENOTCONN;
	if (!hci_conn_is_central(c))
		return -EPERM; /* 7.8.24: the central starts encryption */
	put_le16(p, c->info.handle);
	memcpy(p + 2, rand, 8);
	put_le16(p + 10, ediv);
	memcpy(p + 12, ltk, 16);
	c->pending_level = level;
	c->pending_key_size = key_size;
	return hci_send_cmd(c->hci, HCI_OP_LE_ENABLE_ENCRYPTION, p, 28, encrypt_cmd_result,
			    (void *)(uintptr_t)c->info.handle);
}

int hci_conn_ltk_reply(struct hci_conn *c, const uint8_t *ltk, uint8_t level, uint8_t key_size)
{
	uint8_t p[18];

	if (!hci_conn_is_connected(c))
		return -ENOTCONN;
	put_le16(p, c->info.handle);
	if (!ltk)
		return conn_cmd(c, HCI_OP_LE_LTK_REQ_NEG_REPLY, p, 2);
	memcpy(p + 2, ltk, 16);
	c->pending_level = level;
	c->pending_key_size = key_size;
	return conn_cmd(c, HCI_OP_LE_LTK_REQ_REPLY, p, 18);
}

static void conn_ltk_request(struct hci_conn *c, const struct hci_evt *ev)
{
	if (!has_watch(c, WATCH_LTK_REQUEST)) {
		/* 7.7.65.5: no Security Manager, no key */
		(void)hci_conn_ltk_reply(c, NULL, 0, 0);
		return;
	}
	hci_conn_ref(c);
	watches_tell(c, WATCH_LTK_REQUEST,
		     &(struct watch_event){.ediv = ev->ltk_req.ediv, .rand = ev->ltk_req.rand});
	hci_conn_unref(c);
}

uint8_t hci_conn_security(const struct hci_conn *c)
{
	return c->sec_level ? c->sec_level : 1;
}

uint8_t hci_conn_key_size(const struct hci_conn *c)
{
	return c->key_size;
}

/* ---- ACL out: credits (Core 5.4 Vol 4 Part E 4.1.1) ---- */

static struct hci_conn *next_with_data(struct hci_dev *hci)
{
	struct hci_conn *first = NULL;

	/* Round robin by handle: the lowest handle above the last served, else the lowest. */
	for (struct hci_conn *c = hci->conns; c; c = c->next) {
		if (!c->txq_head)
			continue;
		if (c->info.handle > hci->rr_last)
			return c;
		if (!first || c->info.handle < first->info.handle)
			first = c;
	}
	return first;
}

static void notify_writable(struct hci_dev *hci)
{
	for (struct hci_conn *c = hci->conns; c;) {
		struct hci_conn *next = c->next;

		if (c->want_writable && !c->txq_head && c->hci) {
			c->want_writable = false;
			hci_conn_ref(c);
			watches_tell(c, WATCH_WRITABLE, &(struct watch_event){0});
			if (c->cb.writable && c->hci)
				c->cb.writable(c, c->user_data);
			next = c->next;
			hci_conn_unref(c);
		}
		c = next;
	}
}

void hci_acl_schedule(struct hci_dev *hci)
{
	bool drained = false;

	while (!hci->dead && hci->acl_free > 0) {
		struct hci_conn *c = next_with_data(hci);
		struct acl_pkt *p;
		int r;

		if (!c)
			break;
		p = c->txq_head;
		c->txq_head = p->next;
		if (!c->txq_head)
			c->txq_tail = NULL;
		c->txq_bytes -= p->len - 4u;
		hci->rr_last = c->info.handle;
		r = hci_driver_send(hci->drv, H4_ACL, p->data, p->len, NULL, 0);
		free(p);
		if (r < 0)
			break; /* the driver reports its failure itself */
		hci->acl_free--;
		c->in_flight++;
		hci->acl_peak = MAX(hci->acl_peak, (uint16_t)(hci->acl_total - hci->acl_free));
		if (!c->txq_head)
			drained = true;
	}
	if (drained)
		notify_writable(hci);
}

void hci_conn_credits(struct hci_dev *hci, const struct hci_evt *ev)
{
	for (unsigned i = 0; i < ev->ncp.num; i++) {
		uint16_t handle = get_le16(ev->ncp.entries + i * 4) & 0x0fff;
		uint16_t count = get_le16(ev->ncp.entries + i * 4 + 2);
		struct hci_conn *c = hci_conn_find(hci, handle);

		if (!c) {
			/* 4.3: packets of a closed handle were returned at disconnection */
			hci_debug(hci, "HCI: %u completed packet(s) for unknown handle 0x%03x",
				  count, handle);
			continue;
		}
		if (count > c->in_flight) {
			hci_debug(hci, "HCI: controller completed %u packet(s) on 0x%03x, %u sent",
				  count, handle, c->in_flight);
			count = (uint16_t)c->in_flight;
		}
		c->in_flight -= count;
		hci->acl_free += count;
	}
	hci_acl_schedule(hci);
}

uint16_t hci_conn_acl_mtu(const struct hci_conn *c)
{
	return c->hci ? c->hci->acl_mtu : 0;
}

int hci_conn_queue_acl(struct hci_conn *c, struct acl_pkt *list, size_t bytes)
{
	struct acl_pkt *last;

	if (!hci_conn_is_connected(c)) {
		acl_pkt_free_list(list);
		return -ENOTCONN;
	}
	for (last = list; last->next; last = last->next)
		;
	if (c->txq_tail)
		c->txq_tail->next = list;
	else
		c->txq_head = list;
	c->txq_tail = last;
	c->txq_bytes += bytes;
	c->want_writable = true;
	hci_acl_schedule(c->hci);
	return 0;
}

/* ---- ACL in ---- */

void hci_conn_acl_in(struct hci_dev *hci, const uint8_t *pkt, size_t len)
{
	struct hci_acl acl;
	struct hci_conn *c;
	const uint8_t *pdu;
	const char *why = NULL;
	size_t pdu_len;
	uint16_t cid;
	int r;

	if (hci_acl_parse(pkt, len, &acl) < 0) {
		hci_debug(hci, "HCI: malformed ACL packet (%zu bytes) dropped", len);
		return;
	}
	c = hci_conn_find(hci, acl.handle);
	if (!c) {
		hci_debug(hci, "HCI: ACL data for unknown handle 0x%03x dropped", acl.handle);
		return;
	}
	r = l2cap_reasm_push(&c->reasm, acl.pb, acl.data, acl.len, &cid, &pdu, &pdu_len, &why);
	if (r < 0)
		hci_debug(hci, "L2CAP: handle 0x%03x: %s", acl.handle, why ? why : "dropped");
	if (r <= 0)
		return;
	hci_conn_ref(c); /* a handler may drop the owner's ref */
	l2cap_recv(c, cid, pdu, pdu_len);
	hci_conn_unref(c);
}

/* ---- lifetime ---- */

void hci_conn_gone(struct hci_conn *c, uint8_t reason)
{
	struct hci_dev *hci = c->hci;

	for (struct hci_conn **pp = &hci->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	/* Core 5.4 Vol 4 Part E 4.3: the controller flushed this handle's packets */
	hci->acl_free += c->in_flight;
	c->in_flight = 0;
	acl_pkt_free_list(c->txq_head);
	c->txq_head = c->txq_tail = NULL;
	c->txq_bytes = 0;
	c->info.connected = false;
	l2cap_reasm_reset(&c->reasm);
	hci_debug(hci, "HCI: handle 0x%03x disconnected: 0x%02x %s", c->info.handle, reason,
		  hci_strerror(reason));
	watches_tell(c, WATCH_DISCONNECT,
		     &(struct watch_event){.status = reason}); /* hci_dev's ref */
	if (c->cb.disconnected && !hci->freeing)
		c->cb.disconnected(c, reason, c->user_data);
	c->hci = NULL;
	if (c->from_adv)
		hci_adv_conn_ended(hci, c);
	hci_conn_unref(c);
	if (!hci->dead)
		hci_acl_schedule(hci);
	hci_close_check(hci);
}

struct hci_conn *hci_conn_ref(struct hci_conn *c)
{
	if (c)
		c->ref++;
	return c;
}

struct hci_conn *hci_conn_unref(struct hci_conn *c)
{
	if (!c || --c->ref > 0)
		return NULL;
	acl_pkt_free_list(c->txq_head);
	l2cap_detach(c); /* before the watches: a channel's destroy may unwatch */
	watches_prune(c, true);
	l2cap_reasm_reset(&c->reasm);
	if (c->destroy)
		c->destroy(c->user_data);
	free(c);
	return NULL;
}

void hci_conn_set_callbacks(struct hci_conn *c, const struct hci_conn_callbacks *cb,
			    void *user_data, otad_destroy_fn destroy)
{
	if (c->destroy)
		c->destroy(c->user_data);
	c->cb = cb ? *cb : (struct hci_conn_callbacks){0};
	c->user_data = user_data;
	c->destroy = destroy;
}

void hci_conn_get_info(const struct hci_conn *c, struct hci_conn_info *ret)
{
	*ret = c->info;
}

struct hci_dev *hci_conn_get_dev(const struct hci_conn *c)
{
	return c->hci;
}

bool hci_conn_is_connected(const struct hci_conn *c)
{
	return c->hci && c->info.connected;
}

bool hci_conn_is_central(const struct hci_conn *c)
{
	return c->info.role == HCI_ROLE_CENTRAL;
}

int hci_conn_disconnect(struct hci_conn *c, uint8_t reason)
{
	uint8_t p[3];

	if (!hci_conn_is_connected(c))
		return -ENOTCONN;
	put_le16(p, c->info.handle); /* Core 5.4 Vol 4 Part E 7.1.6 */
	p[2] = reason ? reason : HCI_ERR_REMOTE_USER_TERM;
	c->disc_reason = p[2];
	return conn_cmd(c, HCI_OP_DISCONNECT, p, 3);
}

int hci_conn_update(struct hci_conn *c, const struct hci_conn_params *prm)
{
	uint8_t p[14];

	if (!hci_conn_is_connected(c))
		return -ENOTCONN;
	hci_le_conn_update_build(c->info.handle, prm->interval_min, prm->interval_max, prm->latency,
				 prm->supervision_timeout, p);
	return conn_cmd(c, HCI_OP_LE_CONN_UPDATE, p, 14);
}

size_t hci_conn_queued_bytes(const struct hci_conn *c)
{
	return c->txq_bytes;
}

unsigned hci_conn_in_flight(const struct hci_conn *c)
{
	return c->in_flight;
}
