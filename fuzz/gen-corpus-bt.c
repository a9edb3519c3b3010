/* gen-corpus-bt.c — seeds of the bt/ targets: the packets of tests/unit/test-bt-codec.c and
 * test-bt-hci.c, and whole controller scripts for fuzz-bt-host: a central that discovers the SMP
 * characteristic and gets a notification, a peripheral serving a client, a scan, and a raw init
 * (Core 5.4 Vol 4 Part E 5.4 and 7.7 for the packet layouts). */
#include <string.h>

#include "bt/att-pdu.h"
#include "bt/h4.h"
#include "bt/hci-pkt.h"
#include "bt/l2cap-pdu.h"
#include "otad/bt.h"
#include "gen-corpus.h"

#define HANDLE 0x0040

static const uint8_t peer[6] = {0x55, 0x44, 0x33, 0x22, 0x11, 0xc6};

static void h4_event(struct seed *s, uint8_t code, const uint8_t *p, uint8_t plen)
{
	seed_u8(s, H4_EVT);
	seed_u8(s, code);
	seed_u8(s, plen);
	seed_bytes(s, p, plen);
}

static void h4_complete(struct seed *s, uint16_t op, const uint8_t *ret, uint8_t len)
{
	uint8_t p[80] = {1, (uint8_t)op, (uint8_t)(op >> 8)};

	memcpy(p + 3, ret, len);
	h4_event(s, HCI_EV_CMD_COMPLETE, p, 3u + len);
}

/* One ATT PDU in one ACL packet (PB "first automatically flushable" from the controller). */
static void h4_att(struct seed *s, uint16_t cid, const uint8_t *pdu, uint16_t len)
{
	seed_u8(s, H4_ACL);
	seed_le16(s, HANDLE | ACL_PB_START << 12);
	seed_le16(s, (uint16_t)(len + 4));
	seed_le16(s, len);
	seed_le16(s, cid);
	seed_bytes(s, pdu, len);
}

static void conn_complete(struct seed *s, uint8_t role)
{
	uint8_t p[19] = {HCI_LE_CONN_COMPLETE, 0x00, (uint8_t)HANDLE, 0x00, role, 0x01};

	memcpy(p + 6, peer, 6);
	p[12] = 0x18; /* interval 30 ms */
	p[16] = 0xf4; /* supervision timeout 5 s */
	p[17] = 0x01;
	h4_event(s, HCI_EV_LE_META, p, sizeof(p));
}

static void disconnect(struct seed *s)
{
	h4_event(s, HCI_EV_DISCONN_COMPLETE, (uint8_t[]){0x00, (uint8_t)HANDLE, 0x00, 0x13}, 4);
}

/* GATT client: MTU, service, characteristic, CCCD, subscribed, a notification. */
static void central_script(struct seed *s)
{
	uint8_t chr[23] = {ATT_READ_BY_TYPE_RSP, 21, 0x0b, 0x00, 0x14, 0x0c, 0x00};

	memcpy(chr + 7, bt_uuid_smp_char.b, 16);
	conn_complete(s, 0x00);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_MTU_RSP, 0xf7, 0x00}, 3);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_FIND_BY_TYPE_RSP, 0x0a, 0x00, 0x10, 0x00}, 5);
	h4_att(s, L2CAP_CID_ATT, chr, sizeof(chr));
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_ERROR_RSP, ATT_READ_BY_TYPE_REQ, 0x0c, 0x00, 0x0a},
	       5);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_FIND_INFO_RSP, 0x01, 0x0d, 0x00, 0x02, 0x29}, 6);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_WRITE_RSP}, 1);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_NOTIFY, 0x0c, 0x00, 0x09, 0x00, 0x00, 0x00}, 7);
	/* the peripheral asks for other connection parameters (Vol 3 Part A 4.20) */
	h4_att(s, L2CAP_CID_LE_SIGNALING,
	       (uint8_t[]){0x12, 0x01, 0x08, 0x00, 0x18, 0x00, 0x28, 0x00, 0x00, 0x00, 0xf4, 0x01},
	       12);
	disconnect(s);
}

/* GATT server: a client's discovery, subscription, writes; a pairing request. */
static void peripheral_script(struct seed *s)
{
	uint8_t find[23] = {ATT_FIND_BY_TYPE_REQ, 0x01, 0x00, 0xff, 0xff, 0x00, 0x28};

	memcpy(find + 7, bt_uuid_smp_service.b, 16);
	conn_complete(s, 0x01);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_MTU_REQ, 0xf7, 0x00}, 3);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_READ_BY_GROUP_REQ, 0x01, 0x00, 0xff, 0xff, 0x00,
					     0x28},
	       7);
	h4_att(s, L2CAP_CID_ATT, find, sizeof(find));
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_READ_BY_TYPE_REQ, 0x04, 0x00, 0x07, 0x00, 0x03,
					     0x28},
	       7);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_FIND_INFO_REQ, 0x07, 0x00, 0x07, 0x00}, 5);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_WRITE_REQ, 0x07, 0x00, 0x01, 0x00}, 5);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_WRITE_CMD, 0x06, 0x00, 0x09, 0x00, 0x00, 0x00}, 7);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_READ_REQ, 0x03, 0x00}, 3);
	h4_att(s, L2CAP_CID_ATT, (uint8_t[]){ATT_READ_BLOB_REQ, 0x03, 0x00, 0x02, 0x00}, 5);
	h4_att(s, L2CAP_CID_SMP, (uint8_t[]){0x01, 0x03, 0x00, 0x01, 0x10, 0x07, 0x07}, 7);
	disconnect(s);
}

/* Legacy reports: connectable with flags + the SMP service, then its scan response. */
static void adv_report(struct seed *s, uint8_t type, const uint8_t *ad, uint8_t len)
{
	uint8_t p[48] = {HCI_LE_ADV_REPORT, 1, type, 0x01};

	memcpy(p + 4, peer, 6);
	p[10] = len;
	memcpy(p + 11, ad, len);
	p[11 + len] = 0xc4; /* RSSI -60 */
	h4_event(s, HCI_EV_LE_META, p, (uint8_t)(12 + len));
}

static void scan_script(struct seed *s)
{
	uint8_t ad[21] = {2, 0x01, 0x06, 17, 0x07};
	static const char rsp[] = "\x07\x09otasim";

	memcpy(ad + 5, bt_uuid_smp_service.b, 16);
	adv_report(s, 0x00, ad, sizeof(ad));
	adv_report(s, 0x04, (const uint8_t *)rsp, sizeof(rsp) - 1);
}

/* Everything a healthy controller answers to the init sequence and to advertising. */
static void raw_init(struct seed *s)
{
	uint8_t ret[65] = {0};
	static const uint16_t ok[] = {HCI_OP_SET_EVENT_MASK, HCI_OP_LE_SET_EVENT_MASK};

	h4_complete(s, HCI_OP_RESET, ret, 1);
	ret[1] = 0x0d;
	h4_complete(s, HCI_OP_READ_LOCAL_VERSION, ret, 9);
	ret[1] = 0;
	h4_complete(s, HCI_OP_READ_LOCAL_COMMANDS, ret, 65);
	ret[5] = 0x60;
	h4_complete(s, HCI_OP_READ_LOCAL_FEATURES, ret, 9);
	ret[5] = 0;
	memcpy(ret + 1, peer, 6);
	h4_complete(s, HCI_OP_READ_BD_ADDR, ret, 7);
	memset(ret, 0, sizeof(ret));
	h4_complete(s, ok[0], ret, 1);
	h4_complete(s, HCI_OP_LE_READ_LOCAL_FEATURES, ret, 9);
	h4_complete(s, ok[1], ret, 1);
	ret[1] = 251;
	ret[3] = 4;
	h4_complete(s, HCI_OP_LE_READ_BUFFER_SIZE, ret, 4);
	memset(ret, 0, 4);
	h4_complete(s, HCI_OP_LE_SET_ADV_PARAMS, ret, 1);
	h4_complete(s, HCI_OP_LE_SET_ADV_DATA, ret, 1);
	h4_complete(s, HCI_OP_LE_SET_SCAN_RSP_DATA, ret, 1);
	h4_complete(s, HCI_OP_LE_SET_ADV_ENABLE, ret, 1);
}

static void gen_host(void)
{
	struct seed s = {0};

	seed_u8(&s, 0x01 | 0x04);
	central_script(&s);
	seed_put("bt-host", "central", &s);
	s.n = 0;
	seed_u8(&s, 0x01 | 0x04 | 0x10 | 0x20); /* every feature, tiny buffers */
	central_script(&s);
	seed_put("bt-host", "central-rich-tiny", &s);
	s.n = 0;
	seed_u8(&s, 0x01 | 0x02);
	peripheral_script(&s);
	seed_put("bt-host", "peripheral", &s);
	s.n = 0;
	seed_u8(&s, 0x01 | 0x08);
	scan_script(&s);
	seed_put("bt-host", "scan", &s);
	s.n = 0;
	seed_u8(&s, 0x02); /* the stream answers the init itself */
	raw_init(&s);
	peripheral_script(&s);
	seed_put("bt-host", "raw-init-peripheral", &s);
}

/* ---- fuzz-bt-codec: selector byte, then the codec's input ---- */

static void gen_codec(void)
{
	/* test-bt-codec.c: Command Complete (Reset), an ACL packet, an empty event */
	static const uint8_t h4[] = {0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00, 0x02, 0x2a,
				     0x20, 0x03, 0x00, 0xaa, 0xbb, 0xcc, 0x04, 0x10, 0x00};
	static const uint8_t acl_sig[] = {0x40, 0x20, 0x10, 0x00, 0x0c, 0x00, 0x05, 0x00, 0x12, 0x01,
					  0x08, 0x00, 0x18, 0x00, 0x28, 0x00, 0x00, 0x00, 0xf4, 0x01};
	uint8_t ad[21] = {2, 0x01, 0x06, 17, 0x07};
	struct seed s = {0};

	seed_u8(&s, 0);
	seed_u8(&s, 3);
	seed_bytes(&s, h4, sizeof(h4));
	seed_put("bt-codec", "h4", &s);

	s.n = 0;
	seed_u8(&s, 1);
	scan_script(&s);
	memmove(s.d + 1, s.d + 2, s.n - 2); /* the first event, without its H4 indicator */
	s.n = 1 + 2 + s.d[2];
	seed_put("bt-codec", "event-adv-report", &s);

	s.n = 0;
	seed_u8(&s, 2);
	seed_u8(&s, 64);
	seed_record(&s, acl_sig, sizeof(acl_sig));
	seed_record(&s, (uint8_t[]){0x40, 0x20, 0x06, 0x00, 0x05, 0x00, 0x04, 0x00, 0x05, 0x01},
		    10);
	seed_record(&s, (uint8_t[]){0x40, 0x10, 0x05, 0x00, 0x02, 0x00, 0x00, 0x28}, 8);
	seed_put("bt-codec", "acl-l2cap", &s);

	s.n = 0;
	seed_u8(&s, 3);
	seed_bytes(&s, (uint8_t[]){0x00, 0x1b, 0x00, 0x04, 0x00, 0x40}, 6);
	seed_bytes(&s, acl_sig, sizeof(acl_sig));
	seed_put("bt-codec", "fragment", &s);

	s.n = 0;
	seed_u8(&s, 4);
	memcpy(ad + 5, bt_uuid_smp_service.b, 16);
	seed_bytes(&s, ad, sizeof(ad));
	seed_bytes(&s, "\x07\x09otasim", 8);
	seed_put("bt-codec", "adv-data", &s);

	s.n = 0;
	seed_u8(&s, 5);
	seed_bytes(&s, BT_SMP_SERVICE_UUID_STR, strlen(BT_SMP_SERVICE_UUID_STR));
	seed_put("bt-codec", "text-uuid", &s);
	s.n = 0;
	seed_u8(&s, 5);
	seed_bytes(&s, "C6:11:22:33:44:55", 17);
	seed_put("bt-codec", "text-addr", &s);
}

void gen_bt(void)
{
	gen_codec();
	gen_host();
}
