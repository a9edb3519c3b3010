/* l2cap.c — the L2CAP channels of one LE link (Core 5.4 Vol 3 Part A): a registry of handlers
 * per fixed channel, the frames hci-conn.c reassembled routed by CID, the LE signaling channel
 * served here, the Security Manager's channel answered with "Pairing Not Supported" until a
 * Security Manager takes it, and frames cut into the link's ACL queue. */
#include <errno.h>
#include <stdlib.h>

#include "bt/hci-conn.h"
#include "bt/hci-dev.h"
#include "bt/l2cap.h"
#include "otad/bt.h"

struct l2cap_reg {
	struct l2cap_reg *next;
	unsigned id;
	uint16_t cid;
	bool removed; /* unregistered during a delivery: freed once it is over */
	l2cap_recv_fn fn;
	void *user_data;
	otad_destroy_fn destroy;
};

struct l2cap {
	struct l2cap_reg *regs;
	unsigned last_id;
	unsigned delivering; /* frames being delivered: removed registrations wait for the end */
};

static struct l2cap_reg *reg_by_cid(const struct l2cap *t, uint16_t cid)
{
	for (struct l2cap_reg *r = t->regs; r; r = r->next)
		if (r->cid == cid && !r->removed)
			return r;
	return NULL;
}

unsigned l2cap_register(struct hci_conn *c, uint16_t cid, l2cap_recv_fn fn, void *user_data,
			otad_destroy_fn destroy)
{
	struct l2cap *t = c->l2cap;
	struct l2cap_reg *r;

	/* 2.1: CID 0x0000 is the null identifier, never a channel */
	if (!t || !fn || cid == 0 || !hci_conn_is_connected(c) || reg_by_cid(t, cid))
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return 0;
	r->id = ++t->last_id;
	r->cid = cid;
	r->fn = fn;
	r->user_data = user_data;
	r->destroy = destroy;
	r->next = t->regs;
	t->regs = r;
	return r->id;
}

/* Frees the removed registrations (all of them with all = true), each destroy once. */
static void regs_prune(struct l2cap *t, bool all)
{
	for (struct l2cap_reg **pp = &t->regs; *pp;) {
		struct l2cap_reg *r = *pp;

		if (!all && !r->removed) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		if (r->destroy)
			r->destroy(r->user_data);
		free(r);
	}
}

bool l2cap_unregister(struct hci_conn *c, unsigned id)
{
	struct l2cap *t = c->l2cap;

	if (!t || id == 0)
		return false;
	for (struct l2cap_reg *r = t->regs; r; r = r->next) {
		if (r->id != id || r->removed)
			continue;
		r->removed = true;
		if (!t->delivering)
			regs_prune(t, false);
		return true;
	}
	return false;
}

unsigned l2cap_lookup(const struct hci_conn *c, uint16_t cid, l2cap_recv_fn fn,
		      void **ret_user_data)
{
	struct l2cap_reg *r = c->l2cap ? reg_by_cid(c->l2cap, cid) : NULL;

	if (!r || (fn && r->fn != fn))
		return 0;
	if (ret_user_data)
		*ret_user_data = r->user_data;
	return r->id;
}

int l2cap_send(struct hci_conn *c, uint16_t cid, const uint8_t *sdu, size_t len)
{
	struct acl_pkt *list;

	if (!hci_conn_is_connected(c))
		return -ENOTCONN;
	if (len > 0xffff) /* 3.1: the basic header's length field */
		return -EMSGSIZE;
	list = l2cap_fragment(c->info.handle, cid, sdu, len, hci_conn_acl_mtu(c), NULL);
	if (!list)
		return -ENOMEM;
	return hci_conn_queue_acl(c, list, L2CAP_HDR_LEN + len);
}

void l2cap_recv(struct hci_conn *c, uint16_t cid, const uint8_t *pdu, size_t len)
{
	struct l2cap *t = c->l2cap;
	struct l2cap_reg *r = t ? reg_by_cid(t, cid) : NULL;

	if (!r) {
		/* 2.1: nothing listens on this channel; LE has no reject for data frames */
		hci_debug(c->hci, "L2CAP: frame on unregistered CID 0x%04x (%zu bytes) dropped",
			  cid, len);
		return;
	}
	t->delivering++;
	r->fn(c, pdu, len, r->user_data);
	if (--t->delivering == 0)
		regs_prune(t, false);
}

/* ---- the fixed channels of every LE-U link (2.1, Table 2.3) ---- */

/* 4: LE signaling; Connection Parameter Update Requests a central accepts go to the controller. */
static void sig_recv(struct hci_conn *c, const uint8_t *pdu, size_t len, void *user_data)
{
	struct l2cap_conn_param prm;
	bool update = false;
	uint8_t out[64];
	size_t n;

	n = l2cap_sig_handle(pdu, len, hci_conn_is_central(c), out, sizeof(out), &prm, &update);
	if (n)
		(void)l2cap_send(c, L2CAP_CID_LE_SIGNALING, out, n);
	if (update) {
		struct hci_conn_params p = {prm.interval_min, prm.interval_max, prm.latency,
					    prm.timeout, 0};

		(void)hci_conn_update(c, &p);
	}
}

/* Vol 3 Part H 3.5.5: a host that does not pair refuses every Pairing or Security Request. */
static void smp_refuse(struct hci_conn *c, const uint8_t *pdu, size_t len, void *user_data)
{
	uint8_t out[2];
	size_t n = l2cap_smp_handle(pdu, len, out);

	if (n)
		(void)l2cap_send(c, L2CAP_CID_SMP, out, n);
}

unsigned l2cap_register_smp_refusal(struct hci_conn *c)
{
	return l2cap_register(c, L2CAP_CID_SMP, smp_refuse, NULL, NULL);
}

int l2cap_attach(struct hci_conn *c)
{
	c->l2cap = calloc(1, sizeof(*c->l2cap));
	if (!c->l2cap)
		return -ENOMEM;
	if (!l2cap_register(c, L2CAP_CID_LE_SIGNALING, sig_recv, NULL, NULL) ||
	    !l2cap_register_smp_refusal(c)) {
		l2cap_detach(c);
		return -ENOMEM;
	}
	return 0;
}

void l2cap_detach(struct hci_conn *c)
{
	struct l2cap *t = c->l2cap;

	if (!t)
		return;
	c->l2cap = NULL; /* a destroy that registers or unregisters finds no table */
	regs_prune(t, true);
	free(t);
}
