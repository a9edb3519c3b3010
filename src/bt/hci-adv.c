/* hci-adv.c — legacy connectable undirected advertising for the peripheral role (Core 5.4
 * Vol 4 Part E 7.8.5-9), accepting connections and advertising again when they end. */
#include <errno.h>
#include <string.h>

#include "bt/hci-conn.h"
#include "bt/hci-dev.h"
#include "bt/hci-pkt.h"
#include "otad/bt.h"

static void adv_end(struct hci_dev *hci, int err)
{
	hci_accept_fn fn = hci->adv_fn;
	otad_destroy_fn destroy = hci->adv_destroy;
	void *data = hci->adv_user_data;

	hci->adv_armed = false;
	hci->adv_fn = NULL;
	hci->adv_destroy = NULL;
	if (fn && err && !hci->freeing)
		fn(hci, err, NULL, data);
	if (destroy)
		destroy(data);
}

void hci_adv_abort(struct hci_dev *hci, int err)
{
	hci->adv_enabled = false;
	if (hci->adv_armed)
		adv_end(hci, err);
}

static void adv_result(struct hci_dev *hci, uint8_t status, const uint8_t *ret, size_t len,
		       void *user_data)
{
	uint16_t op = (uint16_t)(uintptr_t)user_data;

	if (status) {
		hci->adv_enabled = false;
		if (hci->adv_armed)
			adv_end(hci, -EIO);
		return;
	}
	if (op == HCI_OP_LE_SET_ADV_ENABLE)
		hci_debug(hci, "HCI: advertising %s", hci->adv_enabled ? "on" : "off");
}

static int adv_cmd(struct hci_dev *hci, uint16_t op, const uint8_t *p, uint8_t plen)
{
	return hci_send_cmd(hci, op, p, plen, adv_result, (void *)(uintptr_t)op);
}

static int adv_set_enable(struct hci_dev *hci, bool enable)
{
	uint8_t p = enable;

	hci->adv_enabled = enable;
	return adv_cmd(hci, HCI_OP_LE_SET_ADV_ENABLE, &p, 1);
}

int hci_adv_start(struct hci_dev *hci, const struct hci_adv_params *p, hci_accept_fn fn,
		  void *user_data, otad_destroy_fn destroy)
{
	uint8_t params[15], data[32] = {0}, rsp[32] = {0};
	int r;

	if (!hci_dev_is_ready(hci))
		return -EAGAIN;
	if (hci->adv_armed)
		return -EBUSY;
	hci->adv_interval_min = p->interval_min ? p->interval_min : 160;
	hci->adv_interval_max = p->interval_max ? p->interval_max : 240;
	if (hci->adv_interval_min > hci->adv_interval_max)
		return -EINVAL;
	hci_le_adv_params_build(hci->adv_interval_min, hci->adv_interval_max, params);
	/* 7.8.7 / 7.8.8: length, then 31 bytes (unused part zero) */
	data[0] = (uint8_t)adv_build_adv_data(p->uuid, data + 1);
	rsp[0] = (uint8_t)adv_build_scan_rsp(p->name, rsp + 1);
	r = adv_cmd(hci, HCI_OP_LE_SET_ADV_PARAMS, params, 15);
	if (r >= 0)
		r = adv_cmd(hci, HCI_OP_LE_SET_ADV_DATA, data, 32);
	if (r >= 0)
		r = adv_cmd(hci, HCI_OP_LE_SET_SCAN_RSP_DATA, rsp, 32);
	if (r >= 0)
		r = adv_set_enable(hci, true);
	if (r < 0)
		return r;
	hci->adv_armed = true;
	hci->adv_fn = fn;
	hci->adv_user_data = user_data;
	hci->adv_destroy = destroy;
	return 0;
}

int hci_adv_stop(struct hci_dev *hci)
{
	bool was_enabled = hci->adv_enabled;

	if (!hci->adv_armed)
		return -EALREADY;
	adv_end(hci, 0);
	if (was_enabled && !hci->dead)
		return adv_set_enable(hci, false);
	hci->adv_enabled = false;
	return 0;
}

bool hci_is_advertising(const struct hci_dev *hci)
{
	return hci->adv_armed && hci->adv_enabled;
}

void hci_adv_conn_event(struct hci_dev *hci, struct hci_conn *c)
{
	/* 7.8.9: advertising stops when a connection is created */
	hci->adv_enabled = false;
	c->from_adv = true;
	if (!hci->adv_fn) {
		hci_debug(hci,
			  "HCI: connection 0x%03x as peripheral while not advertising, "
			  "disconnecting",
			  c->info.handle);
		hci_conn_disconnect(c, HCI_ERR_REMOTE_USER_TERM);
		return;
	}
	hci->adv_fn(hci, 0, c, hci->adv_user_data);
}

void hci_adv_conn_ended(struct hci_dev *hci, struct hci_conn *c)
{
	if (!hci->adv_armed || hci->dead || hci->adv_enabled)
		return;
	for (struct hci_conn *o = hci->conns; o; o = o->next)
		if (o->from_adv)
			return; /* still connected as peripheral */
	hci_debug(hci, "HCI: peripheral connection ended, advertising again");
	adv_set_enable(hci, true);
}
