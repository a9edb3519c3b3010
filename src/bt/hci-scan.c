/* hci-scan.c — LE scanning (Core 5.4 Vol 4 Part E 7.8.10/11, extended 7.8.64/65): reports
 * decoded, their AD parsed and merged per address (advertising data + scan response). */
#include <errno.h>
#include <string.h>

#include "bt/hci-dev.h"
#include "bt/hci-pkt.h"
#include "otad/bt.h"
#include "util/macro.h"

static void scan_end(struct hci_dev *hci, int err)
{
	hci_scan_fn fn = hci->scan_fn;
	otad_destroy_fn destroy = hci->scan_destroy;
	void *data = hci->scan_data;

	hci->scan_fn = NULL;
	hci->scan_destroy = NULL;
	hci->scan_wanted = false;
	if (fn && err && !hci->freeing)
		fn(hci, err, NULL, data);
	if (destroy)
		destroy(data);
}

void hci_scan_abort(struct hci_dev *hci, int err)
{
	hci->scanning = false;
	scan_end(hci, err);
}

static void scan_result(struct hci_dev *hci, uint8_t status, const uint8_t *ret, size_t len,
			void *user_data)
{
	uint16_t op = (uint16_t)(uintptr_t)user_data;

	if (status) {
		hci->scanning = false;
		if (hci->scan_wanted)
			scan_end(hci, -EIO);
		return;
	}
	if (op == HCI_OP_LE_SET_SCAN_ENABLE || op == HCI_OP_LE_SET_EXT_SCAN_ENABLE)
		hci->scanning = hci->scan_wanted;
}

static int scan_enable(struct hci_dev *hci, bool enable)
{
	uint8_t p[6] = {enable, hci->scan_params.filter_duplicates};
	uint16_t op =
		hci->info.ext_scan ? HCI_OP_LE_SET_EXT_SCAN_ENABLE : HCI_OP_LE_SET_SCAN_ENABLE;

	/* 7.8.11: enable, filter duplicates; 7.8.65 adds duration and period (0 = until
	 * disabled) */
	return hci_send_cmd(hci, op, p, hci->info.ext_scan ? 6 : 2, scan_result,
			    (void *)(uintptr_t)op);
}

int hci_scan_start(struct hci_dev *hci, const struct hci_scan_params *p, hci_scan_fn fn,
		   void *user_data, otad_destroy_fn destroy)
{
	struct hci_scan_params sp = p ? *p : (struct hci_scan_params){0};
	uint8_t params[8];
	uint16_t op;
	size_t n;
	int r;

	if (!hci_dev_is_ready(hci))
		return -EAGAIN;
	if (hci->scan_wanted)
		return -EBUSY;
	if (!sp.interval)
		sp.interval = 0x0060;
	if (!sp.window)
		sp.window = MIN(sp.interval, (uint16_t)0x0030);
	hci->scan_params = sp;
	if (hci->info.ext_scan) {
		op = HCI_OP_LE_SET_EXT_SCAN_PARAMS;
		n = hci_le_ext_scan_params_build(!sp.passive, sp.interval, sp.window, params);
	} else {
		op = HCI_OP_LE_SET_SCAN_PARAMS;
		n = hci_le_scan_params_build(!sp.passive, sp.interval, sp.window, params);
	}
	r = hci_send_cmd(hci, op, params, (uint8_t)n, scan_result, (void *)(uintptr_t)op);
	if (r < 0)
		return r;
	r = scan_enable(hci, true);
	if (r < 0)
		return r;
	memset(hci->scan_cache, 0, sizeof(hci->scan_cache));
	hci->scan_wanted = true;
	hci->scan_fn = fn;
	hci->scan_data = user_data;
	hci->scan_destroy = destroy;
	return 0;
}

int hci_scan_stop(struct hci_dev *hci)
{
	if (!hci->scan_wanted)
		return -EALREADY;
	hci->scan_wanted = false;
	hci->scanning = false;
	scan_end(hci, 0);
	return hci->dead ? 0 : scan_enable(hci, false);
}

bool hci_is_scanning(const struct hci_dev *hci)
{
	return hci->scan_wanted;
}

static struct hci_scan_entry *cache_entry(struct hci_dev *hci, const struct bt_addr *a)
{
	struct hci_scan_entry *oldest = &hci->scan_cache[0];

	for (size_t i = 0; i < HCI_SCAN_CACHE; i++) {
		struct hci_scan_entry *e = &hci->scan_cache[i];

		if (e->seen && bt_addr_equal(&e->addr, a))
			return e;
		if (e->seen < oldest->seen)
			oldest = e;
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->addr = *a;
	return oldest;
}

static void scan_one(struct hci_dev *hci, bool ext, const struct hci_raw_report *raw)
{
	struct hci_adv_report rep = {0};
	struct hci_scan_entry *e;
	struct adv_data ad;
	char addr[BT_ADDR_STRLEN];

	if (adv_data_parse(raw->data, raw->data_len, &ad) < 0)
		hci_debug(hci, "HCI: advertising data of %s malformed, kept what parsed",
			  bt_addr_to_str(&raw->addr, addr));
	e = cache_entry(hci, &raw->addr);
	e->seen = ++hci->scan_seq;
	adv_data_merge(&e->ad, &ad);
	rep.addr = raw->addr;
	rep.rssi = raw->rssi;
	rep.connectable = hci_raw_report_connectable(ext, raw);
	rep.scan_rsp = hci_raw_report_is_scan_rsp(ext, raw);
	rep.ad = e->ad;
	rep.data = raw->data;
	rep.data_len = raw->data_len;
	hci->scan_fn(hci, 0, &rep, hci->scan_data);
}

void hci_scan_report_event(struct hci_dev *hci, const struct hci_evt *ev)
{
	const uint8_t *p = ev->adv.data;
	size_t len = ev->adv.len;

	for (unsigned i = 0; i < ev->adv.num; i++) {
		struct hci_raw_report raw;

		if (hci_adv_report_next(ev->adv.ext, &p, &len, &raw) < 0) {
			hci_debug(hci, "HCI: truncated advertising report %u of %u dropped", i + 1,
				  ev->adv.num);
			return;
		}
		if (!hci->scan_fn)
			return; /* not scanning (any more): late reports are dropped */
		scan_one(hci, ev->adv.ext, &raw);
	}
}
