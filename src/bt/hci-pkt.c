/* hci-pkt.c — HCI command parameter encoders and event / ACL decoders: pure functions over
 * buffers, checked byte by byte against Core 5.4 Vol 4 Part E 5.4 and 7. */
#include <errno.h>
#include <string.h>

#include "bt/hci-pkt.h"
#include "util/bytes.h"
#include "util/macro.h"

size_t hci_cmd_build(uint16_t opcode, const uint8_t *params, uint8_t plen, uint8_t *out)
{
	/* Core 5.4 Vol 4 Part E 5.4.1: opcode LE16, parameter length, parameters */
	put_le16(out, opcode);
	out[2] = plen;
	if (plen)
		memcpy(out + 3, params, plen);
	return 3 + (size_t)plen;
}

/* Core 5.4 Vol 4 Part E 7.8.12 */
size_t hci_le_create_conn_build(const struct hci_le_create_conn *c, uint8_t out[25])
{
	put_le16(out + 0, c->scan_interval);
	put_le16(out + 2, c->scan_window);
	out[4] = 0x00; /* initiator filter policy: use the peer address */
	out[5] = c->peer.type;
	memcpy(out + 6, c->peer.b, 6);
	out[12] = c->own_addr_type;
	put_le16(out + 13, c->interval_min);
	put_le16(out + 15, c->interval_max);
	put_le16(out + 17, c->latency);
	put_le16(out + 19, c->supervision_timeout);
	put_le16(out + 21, 0x0000); /* min CE length */
	put_le16(out + 23, 0x0000); /* max CE length */
	return 25;
}

/* Core 5.4 Vol 4 Part E 7.8.66: one PHY (LE 1M) in Initiating_PHYs */
size_t hci_le_ext_create_conn_build(const struct hci_le_create_conn *c, uint8_t out[26])
{
	out[0] = 0x00; /* initiator filter policy */
	out[1] = c->own_addr_type;
	out[2] = c->peer.type;
	memcpy(out + 3, c->peer.b, 6);
	out[9] = 0x01; /* Initiating_PHYs: LE 1M */
	put_le16(out + 10, c->scan_interval);
	put_le16(out + 12, c->scan_window);
	put_le16(out + 14, c->interval_min);
	put_le16(out + 16, c->interval_max);
	put_le16(out + 18, c->latency);
	put_le16(out + 20, c->supervision_timeout);
	put_le16(out + 22, 0x0000);
	put_le16(out + 24, 0x0000);
	return 26;
}

/* Core 5.4 Vol 4 Part E 7.8.10 */
size_t hci_le_scan_params_build(bool active, uint16_t interval, uint16_t window, uint8_t out[7])
{
	out[0] = active ? 0x01 : 0x00;
	put_le16(out + 1, interval);
	put_le16(out + 3, window);
	out[5] = 0x00; /* own address type: public */
	out[6] = 0x00; /* accept all advertising packets */
	return 7;
}

/* Core 5.4 Vol 4 Part E 7.8.64: LE 1M only */
size_t hci_le_ext_scan_params_build(bool active, uint16_t interval, uint16_t window, uint8_t out[8])
{
	out[0] = 0x00; /* own address type */
	out[1] = 0x00; /* filter policy */
	out[2] = 0x01; /* Scanning_PHYs: LE 1M */
	out[3] = active ? 0x01 : 0x00;
	put_le16(out + 4, interval);
	put_le16(out + 6, window);
	return 8;
}

/* Core 5.4 Vol 4 Part E 7.8.5: ADV_IND, public address, all channels, no filter */
size_t hci_le_adv_params_build(uint16_t interval_min, uint16_t interval_max, uint8_t out[15])
{
	memset(out, 0, 15);
	put_le16(out + 0, interval_min);
	put_le16(out + 2, interval_max);
	out[4] = 0x00;	/* ADV_IND: connectable and scannable undirected */
	out[5] = 0x00;	/* own address type: public */
	out[13] = 0x07; /* channels 37, 38, 39 */
	out[14] = 0x00; /* process scan and connection requests from all */
	return 15;
}

/* Core 5.4 Vol 4 Part E 7.8.18 (and the same layout for 7.8.31 Reply) */
size_t hci_le_conn_update_build(uint16_t handle, uint16_t interval_min, uint16_t interval_max,
				uint16_t latency, uint16_t timeout, uint8_t out[14])
{
	put_le16(out + 0, handle);
	put_le16(out + 2, interval_min);
	put_le16(out + 4, interval_max);
	put_le16(out + 6, latency);
	put_le16(out + 8, timeout);
	put_le16(out + 10, 0x0000);
	put_le16(out + 12, 0x0000);
	return 14;
}

static int parse_conn_complete(const uint8_t *p, size_t len, bool enhanced, struct hci_evt *ev)
{
	/* 7.7.65.1: 18 bytes; 7.7.65.10 adds two RPAs (12 bytes) before the interval */
	size_t off = enhanced ? 12 : 0;

	if (len < 18 + off)
		return -EBADMSG;
	ev->conn.status = p[0];
	ev->conn.handle = get_le16(p + 1) & 0x0fff;
	ev->conn.role = p[3];
	ev->conn.peer.type = p[4] & 0x01; /* identity address types 2/3 map to 0/1 */
	memcpy(ev->conn.peer.b, p + 5, 6);
	ev->conn.interval = get_le16(p + 11 + off);
	ev->conn.latency = get_le16(p + 13 + off);
	ev->conn.supervision_timeout = get_le16(p + 15 + off);
	return 0;
}

/* Subevents about an established link's parameters. */
static int parse_le_link(const uint8_t *p, size_t len, struct hci_evt *ev)
{
	switch (ev->subevent) {
	case HCI_LE_CONN_PARAM_REQ: /* 7.7.65.6 */
		if (len < 10)
			return -EBADMSG;
		ev->param_req.handle = get_le16(p) & 0x0fff;
		ev->param_req.interval_min = get_le16(p + 2);
		ev->param_req.interval_max = get_le16(p + 4);
		ev->param_req.latency = get_le16(p + 6);
		ev->param_req.timeout = get_le16(p + 8);
		return 0;
	case HCI_LE_DATA_LEN_CHANGE: /* 7.7.65.7 */
		if (len < 10)
			return -EBADMSG;
		ev->data_len.handle = get_le16(p) & 0x0fff;
		ev->data_len.tx_octets = get_le16(p + 2);
		ev->data_len.tx_time = get_le16(p + 4);
		ev->data_len.rx_octets = get_le16(p + 6);
		ev->data_len.rx_time = get_le16(p + 8);
		return 0;
	case HCI_LE_PHY_UPDATE: /* 7.7.65.12 */
		if (len < 5)
			return -EBADMSG;
		ev->phy.status = p[0];
		ev->phy.handle = get_le16(p + 1) & 0x0fff;
		ev->phy.tx_phy = p[3];
		ev->phy.rx_phy = p[4];
		return 0;
	default:
		return -ENOENT;
	}
}

static int parse_le_meta(const uint8_t *p, size_t len, struct hci_evt *ev)
{
	if (len < 1)
		return -EBADMSG;
	ev->subevent = p[0];
	p++;
	len--;
	switch (ev->subevent) {
	case HCI_LE_CONN_COMPLETE:
		return parse_conn_complete(p, len, false, ev);
	case HCI_LE_ENH_CONN_COMPLETE:
		return parse_conn_complete(p, len, true, ev);
	case HCI_LE_ADV_REPORT:
	case HCI_LE_EXT_ADV_REPORT:
		if (len < 1)
			return -EBADMSG;
		ev->adv.num = p[0];
		ev->adv.ext = ev->subevent == HCI_LE_EXT_ADV_REPORT;
		ev->adv.data = p + 1;
		ev->adv.len = len - 1;
		return 0;
	case HCI_LE_CONN_UPDATE_COMPLETE: /* 7.7.65.3 */
		if (len < 9)
			return -EBADMSG;
		ev->conn_update.status = p[0];
		ev->conn_update.handle = get_le16(p + 1) & 0x0fff;
		ev->conn_update.interval = get_le16(p + 3);
		ev->conn_update.latency = get_le16(p + 5);
		ev->conn_update.supervision_timeout = get_le16(p + 7);
		return 0;
	case HCI_LE_REMOTE_FEATURES: /* 7.7.65.4 */
		if (len < 11)
			return -EBADMSG;
		ev->remote_features.status = p[0];
		ev->remote_features.handle = get_le16(p + 1) & 0x0fff;
		ev->remote_features.features = (uint64_t)get_le32(p + 3) | (uint64_t)get_le32(p + 7)
										   << 32;
		return 0;
	case HCI_LE_LTK_REQUEST: /* 7.7.65.5 */
		if (len < 12)
			return -EBADMSG;
		ev->ltk_req.handle = get_le16(p) & 0x0fff;
		memcpy(ev->ltk_req.rand, p + 2, 8);
		ev->ltk_req.ediv = get_le16(p + 10);
		return 0;
	case HCI_LE_CONN_PARAM_REQ:
	case HCI_LE_DATA_LEN_CHANGE:
	case HCI_LE_PHY_UPDATE:
		return parse_le_link(p, len, ev);
	default:
		return -ENOENT;
	}
}

int hci_evt_parse(const uint8_t *pkt, size_t len, struct hci_evt *ev)
{
	const uint8_t *p;
	size_t plen;

	memset(ev, 0, sizeof(*ev));
	/* Core 5.4 Vol 4 Part E 5.4.4: code, parameter length, parameters */
	if (len < 2 || (size_t)pkt[1] + 2 != len)
		return -EBADMSG;
	ev->code = pkt[0];
	p = pkt + 2;
	plen = pkt[1];
	switch (ev->code) {
	case HCI_EV_CMD_COMPLETE: /* 7.7.14 */
		if (plen < 3)
			return -EBADMSG;
		ev->cmd_complete.ncmd = p[0];
		ev->cmd_complete.opcode = get_le16(p + 1);
		ev->cmd_complete.ret = p + 3;
		ev->cmd_complete.ret_len = plen - 3;
		ev->cmd_complete.status = plen > 3 ? p[3] : 0;
		return 0;
	case HCI_EV_CMD_STATUS: /* 7.7.15 */
		if (plen < 4)
			return -EBADMSG;
		ev->cmd_status.status = p[0];
		ev->cmd_status.ncmd = p[1];
		ev->cmd_status.opcode = get_le16(p + 2);
		return 0;
	case HCI_EV_DISCONN_COMPLETE: /* 7.7.5 */
		if (plen < 4)
			return -EBADMSG;
		ev->disconn.status = p[0];
		ev->disconn.handle = get_le16(p + 1) & 0x0fff;
		ev->disconn.reason = p[3];
		return 0;
	case HCI_EV_ENCRYPT_CHANGE: /* 7.7.8 */
		if (plen < 4)
			return -EBADMSG;
		ev->encrypt.status = p[0];
		ev->encrypt.handle = get_le16(p + 1) & 0x0fff;
		ev->encrypt.enabled = p[3] != 0;
		return 0;
	case HCI_EV_ENCRYPT_KEY_REFRESH: /* 7.7.39 */
		if (plen < 3)
			return -EBADMSG;
		ev->encrypt.status = p[0];
		ev->encrypt.handle = get_le16(p + 1) & 0x0fff;
		ev->encrypt.enabled = true;
		return 0;
	case HCI_EV_NUM_COMP_PKTS: /* 7.7.19: arrays interleaved per handle (Vol 4 Part E 5.2) */
		if (plen < 1 || plen < 1 + (size_t)p[0] * 4)
			return -EBADMSG;
		ev->ncp.num = p[0];
		ev->ncp.entries = p + 1;
		return 0;
	case HCI_EV_HW_ERROR: /* 7.7.16 */
		if (plen < 1)
			return -EBADMSG;
		ev->hw_error.code = p[0];
		return 0;
	case HCI_EV_LE_META: /* 7.7.65 */
		return parse_le_meta(p, plen, ev);
	default:
		return -ENOENT;
	}
}

int hci_adv_report_next(bool ext, const uint8_t **p, size_t *len, struct hci_raw_report *r)
{
	const uint8_t *d = *p;
	size_t need;

	memset(r, 0, sizeof(*r));
	if (!ext) {
		/* 7.7.65.2: type, addr type, addr[6], data len, data, RSSI */
		if (*len < 10 || *len < 10 + (size_t)d[8])
			return -EBADMSG;
		r->event_type = d[0];
		r->addr.type = d[1] & 0x01;
		memcpy(r->addr.b, d + 2, 6);
		r->data_len = d[8];
		r->data = d + 9;
		r->rssi = (int8_t)d[9 + d[8]];
		need = 10 + (size_t)d[8];
	} else {
		/* 7.7.65.13: type LE16, addr type, addr[6], primary PHY, secondary PHY, SID,
		 * TX power, RSSI, periodic interval LE16, direct addr type, direct addr[6],
		 * data len, data */
		if (*len < 24 || *len < 24 + (size_t)d[23])
			return -EBADMSG;
		r->event_type = get_le16(d);
		r->addr.type = d[2] & 0x01;
		memcpy(r->addr.b, d + 3, 6);
		r->rssi = (int8_t)d[13];
		r->data_len = d[23];
		r->data = d + 24;
		need = 24 + (size_t)d[23];
	}
	if (r->data_len > 31 && !ext)
		return -EBADMSG;
	*p += need;
	*len -= need;
	return 0;
}

bool hci_raw_report_connectable(bool ext, const struct hci_raw_report *r)
{
	if (ext)
		return r->event_type & 0x0001;
	return r->event_type == 0x00 || r->event_type == 0x01; /* ADV_IND, ADV_DIRECT_IND */
}

bool hci_raw_report_is_scan_rsp(bool ext, const struct hci_raw_report *r)
{
	if (ext)
		return r->event_type & 0x0008;
	return r->event_type == 0x04;
}

int hci_acl_parse(const uint8_t *pkt, size_t len, struct hci_acl *ret)
{
	/* Core 5.4 Vol 4 Part E 5.4.2: handle:12 PB:2 BC:2, data total length LE16 */
	if (len < 4 || (size_t)get_le16(pkt + 2) + 4 != len)
		return -EBADMSG;
	ret->handle = get_le16(pkt) & 0x0fff;
	ret->pb = (pkt[1] >> 4) & 0x03;
	ret->len = get_le16(pkt + 2);
	ret->data = pkt + 4;
	return 0;
}

void acl_pkt_free_list(struct acl_pkt *p)
{
	while (p) {
		struct acl_pkt *next = p->next;

		free(p);
		p = next;
	}
}
