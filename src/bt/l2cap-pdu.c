/* l2cap-pdu.c — L2CAP on LE (Core 5.4 Vol 3 Part A): basic frames cut into ACL packets and put
 * back together, the LE signaling channel (connection parameter update, Command Reject for
 * the rest) and a refusal of pairing on the SMP channel. Pure functions over buffers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/l2cap-pdu.h"
#include "util/bytes.h"
#include "util/macro.h"

/* LE signaling codes (Vol 3 Part A 4) */
enum {
	SIG_COMMAND_REJECT = 0x01,
	SIG_CONN_PARAM_REQ = 0x12,
	SIG_CONN_PARAM_RSP = 0x13,
};

struct acl_pkt *l2cap_fragment(uint16_t handle, uint16_t cid, const uint8_t *sdu, size_t len,
			       uint16_t acl_mtu, unsigned *ret_count)
{
	struct acl_pkt *head = NULL, **tail = &head;
	size_t total = L2CAP_HDR_LEN + len, off = 0;
	unsigned n = 0;

	if (acl_mtu == 0)
		return NULL;
	while (off < total) {
		size_t chunk = MIN((size_t)acl_mtu, total - off);
		struct acl_pkt *p = malloc(sizeof(*p) + 4 + chunk);
		uint8_t *d;

		if (!p) {
			acl_pkt_free_list(head);
			return NULL;
		}
		p->next = NULL;
		p->len = (uint16_t)(4 + chunk);
		/* Vol 4 Part E 5.4.2: PB 0b00 "first non-flushable" from the host on LE,
		 * 0b01 continuing */
		put_le16(p->data, (uint16_t)(handle | (off ? ACL_PB_CONT : 0x0) << 12));
		put_le16(p->data + 2, (uint16_t)chunk);
		d = p->data + 4;
		for (size_t i = 0, n_copy; i < chunk; i += n_copy, off += n_copy) {
			if (off < L2CAP_HDR_LEN) {
				/* Vol 3 Part A 3.1: length LE16 (payload only), channel ID LE16 */
				uint8_t hdr[L2CAP_HDR_LEN];

				put_le16(hdr, (uint16_t)len);
				put_le16(hdr + 2, cid);
				n_copy = MIN(L2CAP_HDR_LEN - off, chunk - i);
				memcpy(d + i, hdr + off, n_copy);
			} else {
				n_copy = chunk - i;
				memcpy(d + i, sdu + (off - L2CAP_HDR_LEN), n_copy);
			}
		}
		*tail = p;
		tail = &p->next;
		n++;
	}
	if (ret_count)
		*ret_count = n;
	return head;
}

void l2cap_reasm_reset(struct l2cap_reasm *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->need = 0;
}

static int reasm_start(struct l2cap_reasm *r, const uint8_t *data, size_t len, const char **why)
{
	size_t need;

	if (r->need)
		*why = "start fragment while a frame was incomplete: old frame dropped";
	l2cap_reasm_reset(r);
	if (len < L2CAP_HDR_LEN) {
		*why = "start fragment shorter than the L2CAP header, dropped";
		return -EBADMSG;
	}
	need = L2CAP_HDR_LEN + (size_t)get_le16(data);
	if (len > need) {
		*why = "start fragment longer than its L2CAP frame, dropped";
		return -EBADMSG;
	}
	r->buf = malloc(need);
	if (!r->buf)
		return -ENOMEM;
	r->need = need;
	return 0;
}

int l2cap_reasm_push(struct l2cap_reasm *r, uint8_t pb, const uint8_t *data, size_t len,
		     uint16_t *ret_cid, const uint8_t **ret_pdu, size_t *ret_len, const char **why)
{
	const char *dummy;
	int err;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (pb == ACL_PB_CONT) {
		if (!r->need) {
			*why = "continuation fragment without a start, dropped";
			return -EBADMSG;
		}
		if (r->len + len > r->need) {
			l2cap_reasm_reset(r);
			*why = "continuation overruns the L2CAP frame, frame dropped";
			return -EBADMSG;
		}
	} else if (pb == 0x00 || pb == ACL_PB_START) {
		err = reasm_start(r, data, len, why);
		if (err < 0)
			return err;
	} else {
		*why = "ACL packet with reserved packet boundary flag, dropped";
		return -EBADMSG;
	}
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	if (r->len < r->need)
		return 0;
	*ret_cid = get_le16(r->buf + 2);
	*ret_pdu = r->buf + L2CAP_HDR_LEN;
	*ret_len = r->need - L2CAP_HDR_LEN;
	/* the frame stays in buf until the next push; mark idle */
	r->len = r->need = 0;
	return 1;
}

bool l2cap_conn_param_valid(const struct l2cap_conn_param *p)
{
	/* Vol 3 Part A 4.20 / Vol 4 Part E 7.8.12 ranges; the supervision timeout (10 ms units)
	 * must exceed (1 + latency) * interval_max * 2 (1.25 ms units) */
	if (p->interval_min < 6 || p->interval_max > 3200 || p->interval_min > p->interval_max)
		return false;
	if (p->latency > 499 || p->timeout < 10 || p->timeout > 3200)
		return false;
	return (uint32_t)p->timeout * 4 > (1u + p->latency) * p->interval_max;
}

static size_t sig_build(uint8_t code, uint8_t ident, const uint8_t *data, uint16_t len,
			uint8_t *out, size_t out_size)
{
	if (out_size < 4u + len)
		return 0;
	out[0] = code;
	out[1] = ident;
	put_le16(out + 2, len);
	memcpy(out + 4, data, len);
	return 4u + len;
}

size_t l2cap_sig_handle(const uint8_t *pdu, size_t len, bool central, uint8_t *out, size_t out_size,
			struct l2cap_conn_param *ret_update, bool *ret_has_update)
{
	uint8_t code, ident, data[2];
	uint16_t dlen;

	*ret_has_update = false;
	if (len < 4)
		return 0; /* not even a command header: nothing to answer */
	code = pdu[0];
	ident = pdu[1];
	dlen = get_le16(pdu + 2);
	if (ident == 0 || (size_t)dlen + 4 > len)
		return 0; /* identifier 0 is invalid (4.0); truncated commands are dropped */
	switch (code) {
	case SIG_CONN_PARAM_REQ: /* 4.20: only a central accepts it */
		if (!central || dlen < 8)
			break;
		ret_update->interval_min = get_le16(pdu + 4);
		ret_update->interval_max = get_le16(pdu + 6);
		ret_update->latency = get_le16(pdu + 8);
		ret_update->timeout = get_le16(pdu + 10);
		*ret_has_update = l2cap_conn_param_valid(ret_update);
		put_le16(data, *ret_has_update ? 0x0000 : 0x0001); /* 4.21: accepted/rejected */
		return sig_build(SIG_CONN_PARAM_RSP, ident, data, 2, out, out_size);
	case SIG_COMMAND_REJECT:
	case SIG_CONN_PARAM_RSP:
		return 0; /* we send no requests these could answer */
	}
	put_le16(data, 0x0000); /* 4.1: Command not understood */
	return sig_build(SIG_COMMAND_REJECT, ident, data, 2, out, out_size);
}

size_t l2cap_smp_handle(const uint8_t *pdu, size_t len, uint8_t out[2])
{
	/* Vol 3 Part H 3.5.1 Pairing Request (0x01), 3.6.7 Security Request (0x0b) */
	if (len < 1 || (pdu[0] != 0x01 && pdu[0] != 0x0b))
		return 0;
	out[0] = 0x05; /* Pairing Failed */
	out[1] = 0x05; /* Pairing Not Supported */
	return 2;
}
