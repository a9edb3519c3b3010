/* gatt-client.c — the GATT client of one characteristic (Core 5.4 Vol 3 Part G 4): MTU
 * exchange, primary service discovery by UUID (4.4.2), characteristic discovery (4.6.1),
 * descriptor discovery (4.7.1), CCCD write (4.12.3), then Write Commands (4.9.1) and
 * notifications (4.10). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/att-pdu.h"
#include "bt/att.h"
#include "bt/hci-dev.h"
#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"

enum client_state { ST_MTU, ST_SERVICE, ST_CHARS, ST_DESCS, ST_CCCD, ST_READY, ST_FAILED };

struct gatt_client {
	struct hci_conn *conn;
	struct att *att;
	struct bt_uuid128 service, chr;
	uint16_t want_mtu;
	enum client_state state;
	uint16_t svc_start, svc_end, next, value_handle, chr_end, cccd;
	uint8_t props;
	unsigned down_watch, writable_watch;
	struct gatt_client_callbacks cb;
	void *user_data;
	otad_destroy_fn destroy;
};

static void client_step(struct gatt_client *c);

static void client_debug(struct gatt_client *c, const char *what)
{
	struct hci_dev *hci = hci_conn_get_dev(c->conn);

	if (hci)
		hci_debug(hci, "GATT client: %s", what);
}

static void client_fail(struct gatt_client *c, int err, uint8_t ecode)
{
	if (c->state == ST_READY || c->state == ST_FAILED)
		return;
	c->state = ST_FAILED;
	if (c->cb.ready)
		c->cb.ready(c, err, ecode, c->user_data);
}

static void client_request(struct gatt_client *c, const uint8_t *pdu, size_t len);

static void on_mtu(struct gatt_client *c, const uint8_t *pdu, size_t len)
{
	if (len == 3)
		att_set_mtu(c->att, MIN(get_le16(pdu + 1), c->want_mtu));
	c->state = ST_SERVICE;
	c->next = 0x0001;
}

static int on_service(struct gatt_client *c, const uint8_t *pdu, size_t len)
{
	const uint8_t *e;
	size_t n, elen;

	if (att_rsp_entries(pdu, len, &e, &n, &elen) < 0)
		return -EBADMSG;
	c->svc_start = get_le16(e);
	c->svc_end = get_le16(e + 2);
	if (c->svc_end < c->svc_start)
		return -EBADMSG;
	c->state = ST_CHARS;
	c->next = c->svc_start;
	return 0;
}

/* Characteristic declarations: handle, properties, value handle, UUID (3.3.1) */
static int on_chars(struct gatt_client *c, const uint8_t *pdu, size_t len)
{
	const uint8_t *e;
	size_t n, elen;
	uint16_t h = 0;

	if (att_rsp_entries(pdu, len, &e, &n, &elen) < 0 || (elen != 7 && elen != 21))
		return -EBADMSG;
	for (size_t i = 0; i < n; i++, e += elen) {
		h = get_le16(e);
		if (h < c->next || h > c->svc_end)
			return -EBADMSG;
		if (c->value_handle && !c->chr_end) {
			c->chr_end = h - 1;
			break;
		}
		if (!c->value_handle && att_uuid_matches(e + 5, elen - 5, 0, &c->chr)) {
			c->props = e[2];
			c->value_handle = get_le16(e + 3);
		}
	}
	if (c->chr_end || h >= c->svc_end)
		c->state = ST_DESCS;
	c->next = h + 1;
	return 0;
}

static int on_descs(struct gatt_client *c, const uint8_t *pdu, size_t len)
{
	const uint8_t *e;
	size_t n, elen;
	uint16_t h = 0;

	if (att_rsp_entries(pdu, len, &e, &n, &elen) < 0)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++, e += elen) {
		h = get_le16(e);
		if (h < c->next)
			return -EBADMSG;
		if (att_uuid_matches(e + 2, elen - 2, GATT_UUID_CCCD, NULL)) {
			c->cccd = h;
			c->state = ST_CCCD;
			return 0;
		}
	}
	c->next = h + 1;
	return 0;
}

/* Attribute Not Found ends a discovery loop (4.4.2, 4.6.1, 4.7.1). */
static int on_not_found(struct gatt_client *c)
{
	switch (c->state) {
	case ST_CHARS:
		c->state = ST_DESCS;
		return 0;
	default: /* no such service, or no CCCD */
		return -ENOENT;
	}
}

static void client_rsp(struct att *att, int err, uint8_t ecode, const uint8_t *pdu, size_t len,
		       void *user_data)
{
	struct gatt_client *c = user_data;
	int r = 0;

	if (err == -EIO && c->state == ST_MTU && ecode == ATT_ECODE_REQ_NOT_SUPP) {
		on_mtu(c, NULL, 0); /* the server keeps 23 */
	} else if (err == -EIO && ecode == ATT_ECODE_ATTR_NOT_FOUND) {
		r = on_not_found(c);
	} else if (err) {
		client_fail(c, err, ecode);
		return;
	} else {
		switch (c->state) {
		case ST_MTU:
			on_mtu(c, pdu, len);
			break;
		case ST_SERVICE:
			r = on_service(c, pdu, len);
			break;
		case ST_CHARS:
			r = on_chars(c, pdu, len);
			break;
		case ST_DESCS:
			r = on_descs(c, pdu, len);
			break;
		case ST_CCCD:
			c->state = ST_READY;
			if (c->cb.ready)
				c->cb.ready(c, 0, 0, c->user_data);
			return;
		default:
			return;
		}
	}
	if (r == -EBADMSG)
		client_debug(c, "malformed discovery response");
	if (r < 0) {
		client_fail(c, r == -EBADMSG ? -EIO : r, r == -EBADMSG ? ATT_ECODE_INVALID_PDU : 0);
		return;
	}
	client_step(c);
}

static void client_request(struct gatt_client *c, const uint8_t *pdu, size_t len)
{
	int r = att_request(c->att, pdu, len, client_rsp, c);

	if (r < 0)
		client_fail(c, r, 0);
}

static void client_step(struct gatt_client *c)
{
	uint8_t pdu[32];
	size_t n;

	switch (c->state) {
	case ST_SERVICE:
		n = att_find_by_type_build(0x0001, 0xffff, GATT_UUID_PRIMARY, c->service.b, 16,
					   pdu);
		break;
	case ST_CHARS:
		n = att_read_by_type_build(ATT_READ_BY_TYPE_REQ, c->next, c->svc_end,
					   GATT_UUID_CHARAC, NULL, pdu);
		break;
	case ST_DESCS:
		if (!c->value_handle)
			return client_fail(c, -ENOENT, 0);
		if (!(c->props & GATT_CHRC_WRITE_NR) || !(c->props & GATT_CHRC_NOTIFY)) {
			client_debug(c, "characteristic lacks write-without-response or notify");
			return client_fail(c, -ENOENT, 0);
		}
		if (!c->chr_end)
			c->chr_end = c->svc_end;
		if (c->next <= c->value_handle)
			c->next = c->value_handle + 1;
		if (c->next > c->chr_end || c->next == 0)
			return client_fail(c, -ENOENT, 0); /* no CCCD */
		n = att_range_build(ATT_FIND_INFO_REQ, c->next, c->chr_end, pdu);
		break;
	case ST_CCCD: {
		const uint8_t on[2] = {0x01, 0x00}; /* 3.3.3.3: notifications */

		n = att_handle_value_build(ATT_WRITE_REQ, c->cccd, on, 2, pdu);
		break;
	}
	default:
		return;
	}
	client_request(c, pdu, n);
}

static void client_notify(struct att *att, uint16_t handle, const uint8_t *value, size_t len,
			  void *user_data)
{
	struct gatt_client *c = user_data;

	if (c->state != ST_READY || handle != c->value_handle) {
		client_debug(c, "notification of another handle, dropped");
		return;
	}
	if (c->cb.notify)
		c->cb.notify(c, value, len, c->user_data);
}

static void client_down(struct hci_conn *conn, uint8_t reason, void *user_data)
{
	client_fail(user_data, -ENOTCONN, 0);
}

static void client_writable(struct hci_conn *conn, void *user_data)
{
	struct gatt_client *c = user_data;

	if (c->state == ST_READY && c->cb.writable)
		c->cb.writable(c, c->user_data);
}

int gatt_client_new(struct hci_conn *conn, const struct gatt_client_params *p,
		    const struct gatt_client_callbacks *cb, void *user_data,
		    otad_destroy_fn destroy, struct gatt_client **ret)
{
	struct att *att;
	struct gatt_client *c;
	uint8_t pdu[3];
	int r;

	if (!hci_conn_is_connected(conn))
		return -ENOTCONN;
	r = att_attach(conn, &att);
	if (r < 0)
		return r;
	if (att_has_client(att))
		return -EBUSY;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->conn = hci_conn_ref(conn);
	c->att = att;
	c->service = *p->service;
	c->chr = *p->chr;
	c->want_mtu = p->mtu ? MIN(p->mtu, (uint16_t)517) : GATT_DEFAULT_MTU;
	c->want_mtu = MAX(c->want_mtu, (uint16_t)ATT_MIN_MTU);
	c->down_watch = hci_conn_watch_disconnect(conn, client_down, c, NULL);
	c->writable_watch = hci_conn_watch_writable(conn, client_writable, c, NULL);
	if (!c->down_watch || !c->writable_watch) {
		hci_conn_unwatch(conn, c->down_watch);
		hci_conn_unwatch(conn, c->writable_watch);
		hci_conn_unref(c->conn);
		free(c);
		return -ENOMEM;
	}
	c->cb = *cb;
	c->user_data = user_data;
	c->destroy = destroy;
	att_set_client(att, client_notify, c);
	*ret = c;
	if (c->want_mtu > ATT_MIN_MTU) {
		att_set_our_mtu(att, c->want_mtu);
		c->state = ST_MTU;
		client_request(c, pdu, att_mtu_build(ATT_MTU_REQ, c->want_mtu, pdu));
	} else {
		c->state = ST_SERVICE;
		client_step(c);
	}
	return 0;
}

struct gatt_client *gatt_client_free(struct gatt_client *c)
{
	if (!c)
		return NULL;
	att_cancel_all(c->att, c);
	att_set_client(c->att, NULL, NULL);
	hci_conn_unwatch(c->conn, c->down_watch);
	hci_conn_unwatch(c->conn, c->writable_watch);
	hci_conn_unref(c->conn);
	if (c->destroy)
		c->destroy(c->user_data);
	free(c);
	return NULL;
}

int gatt_client_write(struct gatt_client *c, const uint8_t *value, size_t len)
{
	uint8_t pdu[520];

	if (c->state == ST_FAILED || !hci_conn_is_connected(c->conn))
		return -ENOTCONN;
	if (c->state != ST_READY)
		return -EAGAIN;
	if (len > gatt_client_max_write(c))
		return -EMSGSIZE;
	return att_send(c->att, pdu,
			att_handle_value_build(ATT_WRITE_CMD, c->value_handle, value, len, pdu));
}

uint16_t gatt_client_mtu(const struct gatt_client *c)
{
	return att_get_mtu(c->att);
}

size_t gatt_client_max_write(const struct gatt_client *c)
{
	return att_get_mtu(c->att) - 3u;
}

size_t gatt_client_backlog(const struct gatt_client *c)
{
	return hci_conn_queued_bytes(c->conn);
}

bool gatt_client_is_ready(const struct gatt_client *c)
{
	return c->state == ST_READY && hci_conn_is_connected(c->conn);
}

uint16_t gatt_client_value_handle(const struct gatt_client *c)
{
	return c->value_handle;
}
