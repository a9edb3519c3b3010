/* fuzz-bt-codec.c — the pure codecs of src/bt/ that read what a controller or a peer sends: the
 * H4 framer, HCI events and advertising reports, ACL headers, L2CAP reassembly, the LE signaling
 * and SMP channels, ATT response entries, advertising data, and the address/UUID text parsers.
 * Input: a selector byte, then that codec's input. Invariants:
 *  - H4 framing does not depend on how the stream is cut;
 *  - every pointer a decoder hands out stays inside its input;
 *  - an SDU cut into ACL packets by l2cap_fragment() reassembles to itself;
 *  - a signaling answer fits its buffer, and an accepted parameter update is a valid one;
 *  - advertising data rebuilt from a parsed name or UUID parses back to it;
 *  - address and UUID strings that parse print back to something that parses the same. */
#include <errno.h>

#include "bt/att-pdu.h"
#include "bt/h4.h"
#include "bt/hci-pkt.h"
#include "bt/l2cap-pdu.h"
#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"
#include "fuzz.h"

static bool within(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
	return p >= buf && n <= len && p - buf <= (ptrdiff_t)(len - n);
}

/* ---- H4 ---- */

struct h4_log {
	uint64_t hash;
	unsigned n;
};

static void h4_pkt(uint8_t type, const uint8_t *pkt, size_t len, void *ud)
{
	struct h4_log *l = ud;

	l->n++;
	l->hash = (l->hash ^ type) * 0x100000001b3ULL;
	l->hash = (l->hash ^ len) * 0x100000001b3ULL;
	for (size_t i = 0; i < len; i++)
		l->hash = (l->hash ^ pkt[i]) * 0x100000001b3ULL;
	FUZZ_CHECK(h4_header_len(type) > 0 && len >= h4_header_len(type));
}

static struct h4_log h4_run(const uint8_t *s, size_t n, size_t chunk)
{
	struct h4_parser *p = calloc(1, sizeof(*p));
	struct h4_log l = {.hash = 0xcbf29ce484222325ULL};

	FUZZ_CHECK(p);
	for (size_t off = 0; off < n; off += chunk)
		h4_parser_feed(p, s + off, MIN(chunk, n - off), h4_pkt, NULL, &l);
	free(p);
	return l;
}

static void h4(struct fz *f)
{
	size_t chunk = 1 + fz_u8(f), n;
	const uint8_t *s = fz_rest(f, &n);
	struct h4_log whole = h4_run(s, n, n ? n : 1), cut = h4_run(s, n, chunk);

	FUZZ_CHECK(whole.n == cut.n && whole.hash == cut.hash);
}

/* ---- HCI events and advertising reports ---- */

static void adv_reports(const struct hci_evt *ev, const uint8_t *pkt, size_t len)
{
	const uint8_t *p = ev->adv.data;
	size_t left = ev->adv.len;

	for (unsigned i = 0; i < ev->adv.num; i++) {
		struct hci_raw_report r;
		struct adv_data ad;

		if (hci_adv_report_next(ev->adv.ext, &p, &left, &r) < 0)
			break;
		FUZZ_CHECK(within(r.data, r.data_len, pkt, len));
		FUZZ_CHECK(within(p, left, pkt, len));
		(void)hci_raw_report_connectable(ev->adv.ext, &r);
		(void)hci_raw_report_is_scan_rsp(ev->adv.ext, &r);
		if (adv_data_parse(r.data, r.data_len, &ad) == 0)
			FUZZ_CHECK(strlen(ad.name) <= ADV_NAME_MAX);
	}
}

static void event(struct fz *f)
{
	size_t len;
	const uint8_t *raw = fz_rest(f, &len);
	uint8_t *pkt = fz_dup(raw, len);
	struct hci_evt ev;
	int r = hci_evt_parse(pkt, len, &ev);

	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -ENOENT);
	if (r == 0 && ev.code == HCI_EV_CMD_COMPLETE)
		FUZZ_CHECK(within(ev.cmd_complete.ret, ev.cmd_complete.ret_len, pkt, len));
	if (r == 0 && ev.code == HCI_EV_NUM_COMP_PKTS)
		FUZZ_CHECK(within(ev.ncp.entries, (size_t)ev.ncp.num * 4, pkt, len));
	if (r == 0 && ev.code == HCI_EV_LE_META &&
	    (ev.subevent == HCI_LE_ADV_REPORT || ev.subevent == HCI_LE_EXT_ADV_REPORT)) {
		FUZZ_CHECK(within(ev.adv.data, ev.adv.len, pkt, len));
		adv_reports(&ev, pkt, len);
	}
	free(pkt);
}

/* ---- ACL, L2CAP and what runs on its fixed channels ---- */

static void channel(uint16_t cid, const uint8_t *pdu, size_t len, uint8_t out_size)
{
	uint8_t out[256], smp[2];
	struct l2cap_conn_param prm;
	bool has;
	size_t n;
	const uint8_t *first;
	size_t entries, elen;

	switch (cid) {
	case L2CAP_CID_LE_SIGNALING:
		for (int central = 0; central < 2; central++) {
			n = l2cap_sig_handle(pdu, len, central, out, out_size, &prm, &has);
			FUZZ_CHECK(n <= out_size);
			FUZZ_CHECK(!has || (central && l2cap_conn_param_valid(&prm)));
		}
		break;
	case L2CAP_CID_SMP:
		n = l2cap_smp_handle(pdu, len, smp);
		FUZZ_CHECK(n == 0 || n == 2);
		break;
	default:
		if (att_rsp_entries(pdu, len, &first, &entries, &elen) == 0) {
			FUZZ_CHECK(entries > 0 && within(first, entries * elen, pdu, len));
			for (size_t i = 0; i < entries; i++)
				(void)att_uuid_matches(first + i * elen + elen - 2, 2,
						       GATT_UUID_PRIMARY, NULL);
		}
		(void)att_opcode_is_request(len ? pdu[0] : 0);
		break;
	}
}

static void acl(struct fz *f)
{
	struct l2cap_reasm r = {0};
	uint8_t out_size = fz_u8(f);

	while (f->n) {
		size_t len, plen;
		const uint8_t *raw = fz_record(f, &len);
		uint8_t *pkt = fz_dup(raw, len);
		struct hci_acl a;
		uint16_t cid;
		const uint8_t *pdu;
		const char *why = NULL;
		int k;

		if (hci_acl_parse(pkt, len, &a) == 0) {
			FUZZ_CHECK(within(a.data, a.len, pkt, len));
			k = l2cap_reasm_push(&r, a.pb, a.data, a.len, &cid, &pdu, &plen, &why);
			FUZZ_CHECK(k == 1 || k == 0 || ((k == -EBADMSG) == (why != NULL)));
			if (k == 1)
				channel(cid, pdu, plen, out_size);
		}
		free(pkt);
	}
	l2cap_reasm_reset(&r);
}

/* l2cap_fragment() then l2cap_reasm_push() is the identity, for ACL sizes an LE controller may
 * have (Core 5.4 Vol 4 Part E 7.8.2: at least 27; the reassembler needs the whole basic header
 * in the start fragment, which holds from 4 bytes on). */
static void fragment(struct fz *f)
{
	uint16_t mtu = MAX(fz_u16(f), (uint16_t)27), cid = fz_u16(f), handle = fz_u16(f) & 0x0fff;
	size_t len;
	const uint8_t *sdu = fz_rest(f, &len);
	struct l2cap_reasm r = {0};
	struct acl_pkt *list, *p;
	unsigned count = 0, seen = 0;
	bool done = false;

	list = l2cap_fragment(handle, cid, sdu, len, mtu, &count);
	FUZZ_CHECK(list);
	FUZZ_CHECK(!list || count == DIV_ROUND_UP(len + L2CAP_HDR_LEN, mtu));
	for (p = list; p; p = p->next, seen++) {
		struct hci_acl a;
		uint16_t got_cid = 0;
		const uint8_t *pdu = NULL;
		size_t plen = 0;
		int k;

		FUZZ_CHECK(!done);
		FUZZ_CHECK(hci_acl_parse(p->data, p->len, &a) == 0);
		FUZZ_CHECK(a.handle == handle && a.len <= mtu);
		FUZZ_CHECK(a.pb == (seen ? ACL_PB_CONT : 0));
		k = l2cap_reasm_push(&r, a.pb, a.data, a.len, &got_cid, &pdu, &plen, NULL);
		FUZZ_CHECK(k == (p->next ? 0 : 1));
		if (k == 1) {
			FUZZ_CHECK(got_cid == cid && plen == len && !memcmp(pdu, sdu, len));
			done = true;
		}
	}
	FUZZ_CHECK(seen == count);
	acl_pkt_free_list(list);
	l2cap_reasm_reset(&r);
}

/* ---- advertising data ---- */

static void adv(struct fz *f)
{
	size_t len;
	const uint8_t *raw = fz_rest(f, &len);
	uint8_t *d = fz_dup(raw, len), out[31];
	struct adv_data a, b, m;
	size_t n;

	if (adv_data_parse(d, len, &a) < 0)
		FUZZ_CHECK(len > 0);
	FUZZ_CHECK(strlen(a.name) <= ADV_NAME_MAX && a.n_uuid128 <= ADV_MAX_UUID128);
	if (a.has_name && a.name[0]) {
		n = adv_build_scan_rsp(a.name, out);
		FUZZ_CHECK(n <= 31 && adv_data_parse(out, n, &b) == 0 && b.has_name);
		FUZZ_CHECK(!strncmp(a.name, b.name, 29) && strlen(b.name) <= 29);
		FUZZ_CHECK(b.name_complete == (strlen(a.name) <= 29));
	}
	if (a.n_uuid128) {
		n = adv_build_adv_data(&a.uuid128[0], out);
		FUZZ_CHECK(n <= 31 && adv_data_parse(out, n, &b) == 0);
		FUZZ_CHECK(adv_data_has_uuid128(&b, &a.uuid128[0]) && b.has_flags);
	}
	m = a;
	adv_data_merge(&m, &a);
	FUZZ_CHECK(m.n_uuid128 == a.n_uuid128);
	for (size_t i = 0; i < a.n_uuid128; i++)
		FUZZ_CHECK(adv_data_has_uuid128(&m, &a.uuid128[i]));
	free(d);
}

/* ---- text: addresses, UUIDs, names of codes ---- */

static void text(struct fz *f)
{
	size_t len;
	const uint8_t *raw = fz_rest(f, &len);
	char *s = malloc(len + 1), buf[BT_UUID_STRLEN];
	struct bt_addr a, a2;
	struct bt_uuid128 u, u2;

	FUZZ_CHECK(s);
	memcpy(s, raw, len);
	s[len] = 0;
	if (bt_addr_from_str(s, BT_ADDR_LE_RANDOM, &a) == 0) {
		bt_addr_to_str(&a, buf);
		FUZZ_CHECK(strlen(buf) == BT_ADDR_STRLEN - 1);
		FUZZ_CHECK(bt_addr_from_str(buf, BT_ADDR_LE_RANDOM, &a2) == 0 &&
			   bt_addr_equal(&a, &a2));
	}
	if (bt_uuid128_from_str(s, &u) == 0) {
		bt_uuid128_to_str(&u, buf);
		FUZZ_CHECK(strlen(buf) == BT_UUID_STRLEN - 1);
		FUZZ_CHECK(bt_uuid128_from_str(buf, &u2) == 0 && bt_uuid128_equal(&u, &u2));
	}
	for (size_t i = 0; i + 1 < len; i += 2) {
		FUZZ_CHECK(hci_strerror(raw[i]) && att_strerror(raw[i]));
		FUZZ_CHECK(hci_opcode_name(get_le16(raw + i)) && bt_addr_type_str(raw[i]));
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);

	switch (fz_u8(&f) % 6) {
	case 0:
		h4(&f);
		break;
	case 1:
		event(&f);
		break;
	case 2:
		acl(&f);
		break;
	case 3:
		fragment(&f);
		break;
	case 4:
		adv(&f);
		break;
	default:
		text(&f);
		break;
	}
	return 0;
}
