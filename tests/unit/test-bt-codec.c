/* test-bt-codec.c — the pure codecs of bt/: H4 framing, HCI commands/events/ACL, L2CAP
 * fragmentation, reassembly and signaling, ATT PDUs, advertising data, addresses, UUIDs and
 * error names. Byte vectors follow the Core 5.4 layouts; every decoder is also fed every
 * truncation of its input in an exactly sized heap buffer (ASan/valgrind catch over-reads). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/att-pdu.h"
#include "bt/h4.h"
#include "bt/hci-driver.h"
#include "bt/hci-pkt.h"
#include "bt/l2cap-pdu.h"
#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"

typedef void (*prefix_fn)(const uint8_t *buf, size_t len);

/* Calls fn with every prefix of pkt in a heap buffer of exactly that size. */
static void every_prefix(const uint8_t *pkt, size_t len, prefix_fn fn)
{
	for (size_t n = 0; n <= len; n++) {
		uint8_t *b = malloc(n ? n : 1);

		assert_non_null(b);
		memcpy(b, pkt, n);
		fn(b, n);
		free(b);
	}
}

/* ---- H4 ---- */

struct collected {
	uint8_t types[16];
	size_t lens[16];
	uint8_t data[16][300];
	unsigned n, garbage;
};

static void collect(uint8_t type, const uint8_t *pkt, size_t len, void *ud)
{
	struct collected *c = ud;

	assert_true(c->n < 16);
	c->types[c->n] = type;
	c->lens[c->n] = len;
	memcpy(c->data[c->n], pkt, len);
	c->n++;
}

static void garbage(const char *what, void *ud)
{
	struct collected *c = ud;

	c->garbage++;
}

static void test_h4_reassembles_at_every_split(void **state)
{
	/* Command Complete (Reset), an ACL packet, an empty event (plen 0) */
	const uint8_t stream[] = {0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00, 0x02, 0x2a,
				  0x20, 0x03, 0x00, 0xaa, 0xbb, 0xcc, 0x04, 0x10, 0x00};
	struct h4_parser *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	for (size_t split = 0; split <= sizeof(stream); split++) {
		struct collected c = {0};

		memset(p, 0, offsetof(struct h4_parser, buf));
		h4_parser_feed(p, stream, split, collect, garbage, &c);
		h4_parser_feed(p, stream + split, sizeof(stream) - split, collect, garbage, &c);
		assert_int_equal(c.n, 3);
		assert_int_equal(c.types[0], H4_EVT);
		assert_int_equal(c.lens[0], 6);
		assert_int_equal(c.types[1], H4_ACL);
		assert_int_equal(c.lens[1], 7);
		assert_memory_equal(c.data[1], stream + 8, 7);
		assert_int_equal(c.lens[2], 2);
		assert_int_equal(c.garbage, 0);
	}
	free(p);
}

static void test_h4_skips_garbage_before_a_packet(void **state)
{
	const uint8_t stream[] = {0x00, 0xff, 0x42, 0x04, 0x0f, 0x04, 0x00, 0x01, 0x0d, 0x20};
	struct h4_parser *p = calloc(1, sizeof(*p));
	struct collected c = {0};

	assert_non_null(p);
	h4_parser_feed(p, stream, sizeof(stream), collect, garbage, &c);
	assert_int_equal(c.garbage, 1); /* one line for the run of 3 bytes */
	assert_int_equal(c.n, 1);
	assert_int_equal(c.types[0], H4_EVT);
	assert_int_equal(h4_header_len(0x06), 0);
	free(p);
}

/* ---- HCI commands ---- */

static void test_hci_command_encoding(void **state)
{
	uint8_t out[40], p[26];
	struct hci_le_create_conn cc = {.scan_interval = 0x0060,
					.scan_window = 0x0030,
					.peer = {1, {0x11, 0x22, 0x33, 0x44, 0x55, 0xc6}},
					.interval_min = 0x18,
					.interval_max = 0x28,
					.latency = 0,
					.supervision_timeout = 0x01f4};

	/* Core 5.4 Vol 4 Part E 5.4.1: HCI_Reset is 03 0c 00 */
	assert_int_equal(hci_cmd_build(HCI_OP_RESET, NULL, 0, out), 3);
	assert_memory_equal(out, ((uint8_t[]){0x03, 0x0c, 0x00}), 3);
	/* LE Set Scan Enable (0x200c): enable, filter duplicates */
	assert_int_equal(hci_cmd_build(HCI_OP_LE_SET_SCAN_ENABLE, (uint8_t[]){1, 1}, 2, out), 5);
	assert_memory_equal(out, ((uint8_t[]){0x0c, 0x20, 0x02, 0x01, 0x01}), 5);
	assert_int_equal(hci_le_create_conn_build(&cc, p), 25);
	assert_memory_equal(p, ((uint8_t[]){0x60, 0x00, 0x30, 0x00, 0x00, 0x01, 0x11, 0x22, 0x33,
					    0x44, 0x55, 0xc6, 0x00, 0x18, 0x00, 0x28, 0x00, 0x00,
					    0x00, 0xf4, 0x01, 0x00, 0x00, 0x00, 0x00}),
			    25);
	/* 7.8.66: own type, filter, peer type, peer, PHYs, then one 16-byte PHY block */
	assert_int_equal(hci_le_ext_create_conn_build(&cc, p), 26);
	assert_memory_equal(p, ((uint8_t[]){0x00, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44, 0x55, 0xc6,
					    0x01, 0x60, 0x00, 0x30, 0x00, 0x18, 0x00, 0x28, 0x00,
					    0x00, 0x00, 0xf4, 0x01, 0x00, 0x00, 0x00, 0x00}),
			    26);
	assert_int_equal(hci_le_ext_scan_params_build(true, 0x60, 0x30, p), 8);
	assert_memory_equal(p, ((uint8_t[]){0, 0, 1, 1, 0x60, 0, 0x30, 0}), 8);
	assert_int_equal(hci_le_adv_params_build(0xa0, 0xf0, p), 15);
	assert_memory_equal(p, ((uint8_t[]){0xa0, 0, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0}),
			    15);
}

/* ---- HCI events ---- */

static void test_hci_events_decode(void **state)
{
	struct hci_evt ev;
	/* 7.7.19 with two handles, interleaved: 0x0040 x 2, 0x0041 x 1 */
	const uint8_t ncp[] = {0x13, 0x09, 0x02, 0x40, 0x00, 0x02, 0x00, 0x41, 0x00, 0x01, 0x00};
	/* 7.7.65.10 Enhanced Connection Complete, peripheral, random peer */
	const uint8_t enh[] = {0x3e, 0x1f, 0x0a, 0x00, 0x2a, 0x00, 0x01, 0x01, 1,    2,	   3,
			       4,    5,	   0xc6, 0,    0,    0,	   0,	 0,    0,    0,	   0,
			       0,    0,	   0,	 0,    0x18, 0x00, 0x02, 0x00, 0xf4, 0x01, 0x00};
	const uint8_t disc[] = {0x05, 0x04, 0x00, 0x2a, 0x00, 0x13};
	const uint8_t cs[] = {0x0f, 0x04, 0x0c, 0x01, 0x0d, 0x20};

	assert_int_equal(hci_evt_parse(ncp, sizeof(ncp), &ev), 0);
	assert_int_equal(ev.ncp.num, 2);
	assert_int_equal(get_le16(ev.ncp.entries + 4), 0x0041);
	assert_int_equal(get_le16(ev.ncp.entries + 6), 1);
	assert_int_equal(hci_evt_parse(enh, sizeof(enh), &ev), 0);
	assert_int_equal(ev.subevent, HCI_LE_ENH_CONN_COMPLETE);
	assert_int_equal(ev.conn.handle, 0x002a);
	assert_int_equal(ev.conn.role, HCI_ROLE_PERIPHERAL);
	assert_int_equal(ev.conn.peer.type, BT_ADDR_LE_RANDOM);
	assert_int_equal(ev.conn.interval, 0x18);
	assert_int_equal(ev.conn.latency, 2);
	assert_int_equal(ev.conn.supervision_timeout, 500);
	assert_int_equal(hci_evt_parse(disc, sizeof(disc), &ev), 0);
	assert_int_equal(ev.disconn.reason, 0x13);
	assert_int_equal(hci_evt_parse(cs, sizeof(cs), &ev), 0);
	assert_int_equal(ev.cmd_status.status, 0x0c);
	assert_int_equal(ev.cmd_status.opcode, HCI_OP_LE_CREATE_CONN);
	assert_int_equal(hci_evt_parse((uint8_t[]){0xff, 0x00}, 2, &ev), -ENOENT);
	assert_int_equal(hci_evt_parse(ncp, sizeof(ncp) - 1, &ev), -EBADMSG);
}

static void parse_fixed_prefix(const uint8_t *b, size_t n);

static void test_hci_security_events_decode(void **state)
{
	struct hci_evt ev;
	/* 7.7.8 Encryption Change: on, and failed with PIN or Key Missing */
	const uint8_t on[] = {0x08, 0x04, 0x00, 0x2a, 0x00, 0x01};
	const uint8_t missing[] = {0x08, 0x04, 0x06, 0x2a, 0x00, 0x00};
	/* 7.7.39 Encryption Key Refresh Complete */
	const uint8_t refresh[] = {0x30, 0x03, 0x00, 0x2a, 0x00};
	/* 7.7.65.5 LE Long Term Key Request: Rand 01..08, EDIV 0x1234 */
	const uint8_t ltk[] = {0x3e, 0x0d, 0x05, 0x2a, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 0x34, 0x12};
	const uint8_t *all[] = {on, refresh, ltk};
	const size_t lens[] = {sizeof(on), sizeof(refresh), sizeof(ltk)};

	assert_int_equal(hci_evt_parse(on, sizeof(on), &ev), 0);
	assert_int_equal(ev.encrypt.handle, 0x002a);
	assert_int_equal(ev.encrypt.status, 0);
	assert_true(ev.encrypt.enabled);
	assert_int_equal(hci_evt_parse(missing, sizeof(missing), &ev), 0);
	assert_int_equal(ev.encrypt.status, HCI_ERR_PIN_OR_KEY_MISSING);
	assert_false(ev.encrypt.enabled);
	assert_int_equal(hci_evt_parse(refresh, sizeof(refresh), &ev), 0);
	assert_int_equal(ev.code, HCI_EV_ENCRYPT_KEY_REFRESH);
	assert_true(ev.encrypt.enabled);
	assert_int_equal(hci_evt_parse(ltk, sizeof(ltk), &ev), 0);
	assert_int_equal(ev.subevent, HCI_LE_LTK_REQUEST);
	assert_int_equal(ev.ltk_req.handle, 0x002a);
	assert_int_equal(ev.ltk_req.ediv, 0x1234);
	assert_memory_equal(ev.ltk_req.rand, ((uint8_t[]){1, 2, 3, 4, 5, 6, 7, 8}), 8);
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		every_prefix(all[i], lens[i], parse_fixed_prefix);
	assert_int_equal(hci_evt_parse(ltk, sizeof(ltk) - 1, &ev), -EBADMSG);
}

/* A truncated event with its length field made consistent: must fail cleanly or decode. */
static void parse_fixed_prefix(const uint8_t *b, size_t n)
{
	struct hci_evt ev;
	uint8_t *c = malloc(n ? n : 1);
	int r;

	assert_non_null(c);
	memcpy(c, b, n);
	if (n >= 2)
		c[1] = (uint8_t)(n - 2);
	r = hci_evt_parse(c, n, &ev);
	assert_true(r == 0 || r == -EBADMSG || r == -ENOENT);
	if (r == 0 && (ev.subevent == HCI_LE_ADV_REPORT || ev.subevent == HCI_LE_EXT_ADV_REPORT)) {
		const uint8_t *p = ev.adv.data;
		size_t len = ev.adv.len;
		struct hci_raw_report rr;

		for (unsigned i = 0; i < ev.adv.num; i++)
			if (hci_adv_report_next(ev.adv.ext, &p, &len, &rr) < 0)
				break;
	}
	free(c);
	r = hci_evt_parse(b, n, &ev); /* length field as sent */
	assert_true(r == 0 || r == -EBADMSG || r == -ENOENT);
}

static void test_hci_events_survive_every_truncation(void **state)
{
	const uint8_t adv[] = {0x3e, 0x1a, 0x02, 0x01, 0x00, 0x00, 1,	 2,    3,   4,
			       5,    6,	   0x0e, 0x02, 0x01, 0x06, 0x0a, 0x09, 'o', 't',
			       'a',  's',  'i',	 'm',  '-',  'b',  'x',	 0xc4};
	const uint8_t ext[] = {0x3e, 0x1d, 0x0d, 0x01, 0x13, 0x00, 0x01, 1,    2,    3,	   4,
			       5,    6,	   0x01, 0x00, 0xff, 0x7f, 0xc4, 0x00, 0x00, 0x00, 0,
			       0,    0,	   0,	 0,    0,    0x03, 0x02, 0x01, 0x06};
	const uint8_t cc[] = {0x0e, 0x0a, 0x01, 0x09, 0x10, 0x00, 1, 2, 3, 4, 5, 6};
	const uint8_t conn[] = {0x3e, 0x13, 0x01, 0x00, 0x2a, 0x00, 0x00, 0x00, 1,    2,   3,
				4,    5,    6,	  0x28, 0x00, 0x00, 0x00, 0x90, 0x01, 0x00};
	const uint8_t *all[] = {adv, ext, cc, conn};
	const size_t lens[] = {sizeof(adv), sizeof(ext), sizeof(cc), sizeof(conn)};
	struct hci_evt ev;
	struct hci_raw_report rr;
	const uint8_t *p;
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		every_prefix(all[i], lens[i], parse_fixed_prefix);
	/* the full legacy and extended reports decode */
	assert_int_equal(hci_evt_parse(adv, sizeof(adv), &ev), 0);
	p = ev.adv.data;
	len = ev.adv.len;
	assert_int_equal(hci_adv_report_next(false, &p, &len, &rr), 0);
	assert_int_equal(rr.rssi, -60);
	assert_int_equal(rr.data_len, 14);
	assert_true(hci_raw_report_connectable(false, &rr));
	assert_int_equal(len, 0);
	assert_int_equal(hci_evt_parse(ext, sizeof(ext), &ev), 0);
	p = ev.adv.data;
	len = ev.adv.len;
	assert_int_equal(hci_adv_report_next(true, &p, &len, &rr), 0);
	assert_int_equal(rr.event_type, 0x13); /* legacy ADV_IND as extended report */
	assert_int_equal(rr.rssi, -60);
	assert_int_equal(rr.data_len, 3);
	assert_true(hci_raw_report_connectable(true, &rr));
	assert_false(hci_raw_report_is_scan_rsp(true, &rr));
}

static void acl_prefix(const uint8_t *b, size_t n)
{
	struct hci_acl acl;
	int r = hci_acl_parse(b, n, &acl);

	assert_true(r == 0 || r == -EBADMSG);
	if (r == 0)
		assert_int_equal(acl.len + 4u, n);
}

static void test_acl_header(void **state)
{
	/* handle 0x02a, PB 0b10 (start from the controller), 3 bytes */
	const uint8_t pkt[] = {0x2a, 0x20, 0x03, 0x00, 0xaa, 0xbb, 0xcc};
	struct hci_acl acl;

	assert_int_equal(hci_acl_parse(pkt, sizeof(pkt), &acl), 0);
	assert_int_equal(acl.handle, 0x2a);
	assert_int_equal(acl.pb, ACL_PB_START);
	assert_int_equal(acl.len, 3);
	every_prefix(pkt, sizeof(pkt), acl_prefix);
}

/* ---- L2CAP ---- */

static void test_l2cap_fragments_and_reassembles_every_size(void **state)
{
	uint8_t sdu[600];
	const uint16_t mtus[] = {27, 192, 251};

	for (size_t i = 0; i < sizeof(sdu); i++)
		sdu[i] = (uint8_t)(i * 13);
	for (size_t m = 0; m < ARRAY_SIZE(mtus); m++) {
		for (size_t len = 0; len <= sizeof(sdu); len += (len < 40 ? 1 : 37)) {
			unsigned n = 0, seen = 0;
			struct acl_pkt *list = l2cap_fragment(0x2a, 4, sdu, len, mtus[m], &n);
			struct l2cap_reasm r = {0};
			const uint8_t *pdu = NULL;
			size_t pdu_len = 0;
			uint16_t cid = 0;
			int res = 0;

			assert_non_null(list);
			assert_int_equal(n, DIV_ROUND_UP(len + 4, mtus[m]));
			for (struct acl_pkt *p = list; p; p = p->next, seen++) {
				struct hci_acl acl;

				assert_int_equal(hci_acl_parse(p->data, p->len, &acl), 0);
				assert_true(acl.len <= mtus[m]);
				assert_int_equal(acl.pb, seen ? ACL_PB_CONT : 0);
				res = l2cap_reasm_push(&r, acl.pb, acl.data, acl.len, &cid, &pdu,
						       &pdu_len, NULL);
				assert_int_equal(res, p->next ? 0 : 1);
			}
			assert_int_equal(seen, n);
			assert_int_equal(cid, 4);
			assert_int_equal(pdu_len, len);
			if (len)
				assert_memory_equal(pdu, sdu, len);
			acl_pkt_free_list(list);
			l2cap_reasm_reset(&r);
		}
	}
}

static void test_l2cap_reassembly_rejects_broken_sequences(void **state)
{
	struct l2cap_reasm r = {0};
	const uint8_t start[] = {0x06, 0x00, 0x04, 0x00, 0x52, 0x2a}; /* 6 of 10 bytes */
	const uint8_t *pdu;
	size_t len;
	uint16_t cid;
	const char *why;

	assert_int_equal(l2cap_reasm_push(&r, ACL_PB_CONT, start, 2, &cid, &pdu, &len, &why),
			 -EBADMSG);
	assert_non_null(why);
	assert_int_equal(l2cap_reasm_push(&r, ACL_PB_START, start, 3, &cid, &pdu, &len, &why),
			 -EBADMSG);
	assert_int_equal(l2cap_reasm_push(&r, ACL_PB_START, start, 6, &cid, &pdu, &len, &why), 0);
	/* overrun: 5 more where 4 fit */
	assert_int_equal(l2cap_reasm_push(&r, ACL_PB_CONT, start, 5, &cid, &pdu, &len, &why),
			 -EBADMSG);
	/* a new start replaces an incomplete frame */
	assert_int_equal(l2cap_reasm_push(&r, ACL_PB_START, start, 6, &cid, &pdu, &len, &why), 0);
	assert_int_equal(l2cap_reasm_push(&r, ACL_PB_START, start, 6, &cid, &pdu, &len, &why), 0);
	assert_non_null(why);
	assert_int_equal(l2cap_reasm_push(&r, ACL_PB_CONT, start, 4, &cid, &pdu, &len, &why), 1);
	assert_int_equal(len, 6);
	assert_int_equal(l2cap_reasm_push(&r, 0x3, start, 6, &cid, &pdu, &len, &why), -EBADMSG);
	l2cap_reasm_reset(&r);
}

static void sig_prefix(const uint8_t *b, size_t n)
{
	uint8_t out[64];
	struct l2cap_conn_param prm;
	bool upd;

	(void)l2cap_sig_handle(b, n, true, out, sizeof(out), &prm, &upd);
	(void)l2cap_sig_handle(b, n, false, out, sizeof(out), &prm, &upd);
	(void)l2cap_smp_handle(b, n, out);
}

static void test_l2cap_signaling(void **state)
{
	/* Vol 3 Part A 4.20: Connection Parameter Update Request, id 7, 24..40, 0, 400 */
	const uint8_t req[] = {0x12, 0x07, 0x08, 0x00, 0x18, 0x00,
			       0x28, 0x00, 0x00, 0x00, 0x90, 0x01};
	const uint8_t bad[] = {0x12, 0x08, 0x08, 0x00, 0x28, 0x00,
			       0x18, 0x00, 0x00, 0x00, 0x90, 0x01};
	const uint8_t unknown[] = {0x14, 0x09, 0x00, 0x00}; /* LE credit based conn req */
	struct l2cap_conn_param prm;
	uint8_t out[64];
	bool upd;

	assert_int_equal(l2cap_sig_handle(req, sizeof(req), true, out, sizeof(out), &prm, &upd), 6);
	assert_memory_equal(out, ((uint8_t[]){0x13, 0x07, 0x02, 0x00, 0x00, 0x00}), 6);
	assert_true(upd);
	assert_int_equal(prm.interval_min, 24);
	assert_int_equal(prm.timeout, 400);
	assert_int_equal(l2cap_sig_handle(bad, sizeof(bad), true, out, sizeof(out), &prm, &upd), 6);
	assert_memory_equal(out, ((uint8_t[]){0x13, 0x08, 0x02, 0x00, 0x01, 0x00}), 6);
	assert_false(upd);
	/* a peripheral does not take the request: Command Reject, not understood (4.1) */
	assert_int_equal(l2cap_sig_handle(req, sizeof(req), false, out, sizeof(out), &prm, &upd),
			 6);
	assert_memory_equal(out, ((uint8_t[]){0x01, 0x07, 0x02, 0x00, 0x00, 0x00}), 6);
	assert_int_equal(
		l2cap_sig_handle(unknown, sizeof(unknown), true, out, sizeof(out), &prm, &upd), 6);
	assert_memory_equal(out, ((uint8_t[]){0x01, 0x09, 0x02, 0x00, 0x00, 0x00}), 6);
	/* SMP Pairing Request: Pairing Failed, Pairing Not Supported */
	assert_int_equal(l2cap_smp_handle((uint8_t[]){0x01, 0x03, 0, 1, 0x10, 0, 0}, 7, out), 2);
	assert_memory_equal(out, ((uint8_t[]){0x05, 0x05}), 2);
	every_prefix(req, sizeof(req), sig_prefix);
	every_prefix(unknown, sizeof(unknown), sig_prefix);
}

/* ---- ATT ---- */

static void rsp_prefix(const uint8_t *b, size_t n)
{
	const uint8_t *e;
	size_t cnt, elen;

	if (att_rsp_entries(b, n, &e, &cnt, &elen) == 0)
		assert_true(e + cnt * elen <= b + n);
}

static void test_att_pdus(void **state)
{
	uint8_t out[40];
	const uint8_t *e;
	size_t n, elen;
	/* Read By Type Response with one 128-bit characteristic declaration (3.4.4.2) */
	uint8_t rbt[2 + 21] = {0x09, 21, 0x05, 0x00, 0x14, 0x06, 0x00};
	const uint8_t fi[] = {0x05, 0x01, 0x07, 0x00, 0x02, 0x29};

	memcpy(rbt + 7, bt_uuid_smp_char.b, 16);
	assert_int_equal(att_mtu_build(ATT_MTU_REQ, 498, out), 3);
	assert_memory_equal(out, ((uint8_t[]){0x02, 0xf2, 0x01}), 3);
	assert_int_equal(att_error_build(0x10, 0x0001, 0x0a, out), 5);
	assert_memory_equal(out, ((uint8_t[]){0x01, 0x10, 0x01, 0x00, 0x0a}), 5);
	assert_int_equal(att_find_by_type_build(1, 0xffff, 0x2800, bt_uuid_smp_service.b, 16, out),
			 23);
	assert_memory_equal(out, ((uint8_t[]){0x06, 0x01, 0x00, 0xff, 0xff, 0x00, 0x28, 0x84}), 8);
	assert_int_equal(att_read_by_type_build(ATT_READ_BY_TYPE_REQ, 4, 7, 0x2803, NULL, out), 7);
	assert_memory_equal(out, ((uint8_t[]){0x08, 0x04, 0x00, 0x07, 0x00, 0x03, 0x28}), 7);
	assert_int_equal(att_handle_value_build(ATT_WRITE_CMD, 6, (uint8_t *)"ab", 2, out), 5);
	assert_memory_equal(out, ((uint8_t[]){0x52, 0x06, 0x00, 'a', 'b'}), 5);
	assert_int_equal(att_rsp_entries(rbt, sizeof(rbt), &e, &n, &elen), 0);
	assert_int_equal(n, 1);
	assert_int_equal(elen, 21);
	assert_true(att_uuid_matches(e + 5, 16, 0, &bt_uuid_smp_char));
	assert_int_equal(att_rsp_entries(fi, sizeof(fi), &e, &n, &elen), 0);
	assert_true(att_uuid_matches(e + 2, 2, GATT_UUID_CCCD, NULL));
	every_prefix(rbt, sizeof(rbt), rsp_prefix);
	every_prefix(fi, sizeof(fi), rsp_prefix);
	assert_true(att_opcode_is_command(ATT_WRITE_CMD));
	assert_true(att_opcode_is_request(ATT_WRITE_REQ));
	assert_true(att_opcode_is_response(ATT_ERROR_RSP));
	assert_false(att_opcode_is_request(ATT_NOTIFY));
	/* a 16-bit UUID on the wire equals its 128-bit form on the Bluetooth base */
	{
		struct bt_uuid128 cccd128;

		assert_int_equal(
			bt_uuid128_from_str("00002902-0000-1000-8000-00805F9B34FB", &cccd128), 0);
		assert_true(att_uuid_matches((uint8_t[]){0x02, 0x29}, 2, 0, &cccd128));
		assert_true(att_uuid_matches(cccd128.b, 16, GATT_UUID_CCCD, NULL));
	}
}

/* ---- advertising data ---- */

static void adv_prefix(const uint8_t *b, size_t n)
{
	struct adv_data ad;
	int r = adv_data_parse(b, n, &ad);

	assert_true(r == 0 || r == -EBADMSG);
	assert_true(ad.n_uuid128 <= ADV_MAX_UUID128);
}

static void test_adv_data_build_parse_merge(void **state)
{
	uint8_t adv[31], rsp[31];
	size_t na = adv_build_adv_data(&bt_uuid_smp_service, adv);
	size_t nr = adv_build_scan_rsp("otasim", rsp);
	struct adv_data a, r;
	const char *longname = "a-name-that-is-longer-than-twenty-nine-bytes";

	/* flags: 02 01 06; Complete List of 128-bit Service UUIDs: 11 07 <uuid> */
	assert_int_equal(na, 21);
	assert_memory_equal(adv, ((uint8_t[]){0x02, 0x01, 0x06, 0x11, 0x07, 0x84, 0xaa}), 7);
	assert_int_equal(nr, 8);
	assert_memory_equal(rsp, ((uint8_t[]){0x07, 0x09, 'o', 't', 'a', 's', 'i', 'm'}), 8);
	assert_int_equal(adv_data_parse(adv, na, &a), 0);
	assert_false(a.has_name);
	assert_true(adv_data_has_uuid128(&a, &bt_uuid_smp_service));
	assert_int_equal(adv_data_parse(rsp, nr, &r), 0);
	adv_data_merge(&a, &r);
	assert_string_equal(a.name, "otasim");
	assert_true(a.name_complete);
	assert_int_equal(a.flags, 6);
	/* too long: shortened to 29 */
	nr = adv_build_scan_rsp(longname, rsp);
	assert_int_equal(nr, 31);
	assert_int_equal(rsp[1], 0x08);
	assert_int_equal(adv_data_parse(rsp, nr, &r), 0);
	assert_false(r.name_complete);
	assert_int_equal(strlen(r.name), 29);
	/* a structure running past the end keeps what came before */
	adv[3] = 30;
	assert_int_equal(adv_data_parse(adv, na, &a), -EBADMSG);
	assert_true(a.has_flags);
	adv[3] = 0x11;
	every_prefix(adv, na, adv_prefix);
	/* zero length ends the significant part */
	assert_int_equal(adv_data_parse((uint8_t[]){2, 1, 6, 0, 0xff, 0xff}, 6, &a), 0);
}

/* ---- addresses, UUIDs, names ---- */

static void test_addresses_uuids_and_names(void **state)
{
	struct bt_addr a;
	struct bt_uuid128 u;
	char s[BT_UUID_STRLEN], as[BT_ADDR_STRLEN], text[128];

	assert_int_equal(bt_addr_from_str("c0:11:22:33:44:5F", BT_ADDR_LE_RANDOM, &a), 0);
	assert_int_equal(a.b[5], 0xc0);
	assert_int_equal(a.b[0], 0x5f);
	assert_string_equal(bt_addr_to_str(&a, as), "C0:11:22:33:44:5F");
	assert_int_equal(bt_addr_from_str("C0:11:22:33:44", 0, &a), -EINVAL);
	assert_int_equal(bt_addr_from_str("C0-11-22-33-44-55", 0, &a), -EINVAL);
	assert_int_equal(bt_addr_from_str("G0:11:22:33:44:55", 0, &a), -EINVAL);
	assert_int_equal(bt_uuid128_from_str(BT_SMP_SERVICE_UUID_STR, &u), 0);
	assert_true(bt_uuid128_equal(&u, &bt_uuid_smp_service));
	assert_int_equal(bt_uuid128_from_str(BT_SMP_CHAR_UUID_STR, &u), 0);
	assert_true(bt_uuid128_equal(&u, &bt_uuid_smp_char));
	assert_string_equal(bt_uuid128_to_str(&bt_uuid_smp_char, s), BT_SMP_CHAR_UUID_STR);
	assert_int_equal(bt_uuid128_from_str("8D53DC1D1DB7-4CD3-868B-8A527460AA84-", &u), -EINVAL);
	assert_string_equal(hci_strerror(0x0c), "Command Disallowed");
	assert_string_equal(hci_strerror(0x3b), "Unacceptable Connection Parameters");
	assert_string_equal(hci_strerror(0xee), "Unknown");
	assert_string_equal(att_strerror(0x0a), "Attribute Not Found");
	assert_string_equal(att_strerror(0x80), "Application Error");
	hci_format_failure(HCI_OP_LE_CREATE_CONN, 0x0c, text, sizeof(text));
	assert_string_equal(text, "LE Create Connection failed: 0x0c Command Disallowed");
	hci_format_failure(0xfc00, 0x01, text, sizeof(text));
	assert_string_equal(text, "HCI command 0xfc00 failed: 0x01 Unknown HCI Command");
}

static void test_tty_spec(void **state)
{
	char path[64];
	unsigned baud;

	assert_int_equal(hci_parse_tty_spec("/dev/ttyACM0", path, sizeof(path), &baud), 0);
	assert_string_equal(path, "/dev/ttyACM0");
	assert_int_equal(baud, 1000000);
	assert_int_equal(hci_parse_tty_spec("/dev/ttyUSB1@115200", path, sizeof(path), &baud), 0);
	assert_int_equal(baud, 115200);
	assert_int_equal(hci_parse_tty_spec("/dev/ttyUSB1@12345", path, sizeof(path), &baud),
			 -EINVAL);
	assert_int_equal(hci_parse_tty_spec("@115200", path, sizeof(path), &baud), -EINVAL);
	assert_int_equal(hci_parse_tty_spec("/dev/x@", path, sizeof(path), &baud), -EINVAL);
}

static void test_controller_spec_syntax(void **state)
{
	static const char *const good[] = {
		"tty:/dev/ttyACM0",
		"tty:/dev/ttyUSB0@115200",
		"unix:/tmp/bt-server-le",
		"tcp:127.0.0.1:45550",
		"tcp:[::1]:1",
		"tcp:localhost:65535",
		"userchan:hci0",
		"userchan:hci12",
	};
	static const char *const bad[] = {
		"",	      "hci0",	       "tty:",	       "tty:/dev/x@9",	 "unix:",
		"tcp:host",   "tcp::1234",     "tcp:host:0",   "tcp:host:65536", "tcp:host:12x",
		"tcp:[]:1",   "userchan:",     "userchan:hci", "userchan:hcix",	 "userchan:0",
		"bogus:spec", "TTY:/dev/tty0",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(hci_spec_check(good[i]), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (hci_spec_check(bad[i]) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	}
	assert_int_equal(hci_spec_check(NULL), -EINVAL);
}

static void test_hci_reasons_as_errno(void **state)
{
	assert_int_equal(hci_status_to_errno(0x00), 0);
	assert_int_equal(hci_status_to_errno(0x13), -ECONNRESET);
	assert_int_equal(hci_status_to_errno(0x08), -ETIMEDOUT);
	assert_int_equal(hci_status_to_errno(0x22), -ETIMEDOUT);
	assert_int_equal(hci_status_to_errno(0x15), -EHOSTDOWN);
	assert_int_equal(hci_status_to_errno(0x16), -ECONNABORTED);
	assert_int_equal(hci_status_to_errno(0x3e), -ECONNREFUSED);
	assert_int_equal(hci_status_to_errno(0x03), -ENODEV);
	assert_int_equal(hci_status_to_errno(0x0c), -EBUSY);
	assert_int_equal(hci_status_to_errno(0x05), -EACCES);
	assert_int_equal(hci_status_to_errno(0x3b), -EINVAL);
	assert_int_equal(hci_status_to_errno(0x1f), -EIO);
	assert_int_equal(hci_status_to_errno(0xff), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_h4_reassembles_at_every_split),
		cmocka_unit_test(test_h4_skips_garbage_before_a_packet),
		cmocka_unit_test(test_hci_command_encoding),
		cmocka_unit_test(test_hci_events_decode),
		cmocka_unit_test(test_hci_events_survive_every_truncation),
		cmocka_unit_test(test_hci_security_events_decode),
		cmocka_unit_test(test_acl_header),
		cmocka_unit_test(test_l2cap_fragments_and_reassembles_every_size),
		cmocka_unit_test(test_l2cap_reassembly_rejects_broken_sequences),
		cmocka_unit_test(test_l2cap_signaling),
		cmocka_unit_test(test_att_pdus),
		cmocka_unit_test(test_adv_data_build_parse_merge),
		cmocka_unit_test(test_addresses_uuids_and_names),
		cmocka_unit_test(test_tty_spec),
		cmocka_unit_test(test_controller_spec_syntax),
		cmocka_unit_test(test_hci_reasons_as_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
