/* gatt-server.c — a fixed GATT database for the peripheral role (Core 5.4 Vol 3 Part G 3):
 * GAP with the Device Name, and one primary service with one characteristic (write without
 * response + notify) and its CCCD. Answers discovery, reads, CCCD writes and Write Commands,
 * with the security the characteristic needs (Vol 3 Part C 10.3). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt/att-pdu.h"
#include "bt/att.h"
#include "otad/bt-sm.h"
#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"

enum { PERM_READ = 1, PERM_WRITE = 2 };
enum {
	H_GAP = 1,
	H_NAME_DECL,
	H_NAME,
	H_SVC,
	H_CHR_DECL,
	H_CHR,
	H_CCCD,
	H_LAST = H_CCCD,
};

struct gatt_attr {
	uint16_t type16; /* 0: the characteristic's 128-bit UUID */
	uint8_t perm;
	const uint8_t *value;
	size_t len;
};

struct gatt_server {
	struct hci_conn *conn;
	struct att *att;
	struct bt_uuid128 service, chr;
	char *name;
	uint8_t gap_uuid[2], name_decl[5], chr_decl[19], cccd[2];
	struct gatt_attr attrs[H_LAST + 1];
	uint8_t security; /* what H_CHR and H_CCCD need */
	unsigned writable_watch;
	struct gatt_server_callbacks cb;
	void *user_data;
	otad_destroy_fn destroy;
};

static void build_db(struct gatt_server *s)
{
	struct gatt_attr *a = s->attrs;

	put_le16(s->gap_uuid, GATT_UUID_GAP);
	s->name_decl[0] = GATT_CHRC_READ; /* 3.3.1: properties, value handle, UUID */
	put_le16(s->name_decl + 1, H_NAME);
	put_le16(s->name_decl + 3, GATT_UUID_DEV_NAME);
	s->chr_decl[0] = GATT_CHRC_WRITE_NR | GATT_CHRC_NOTIFY;
	put_le16(s->chr_decl + 1, H_CHR);
	memcpy(s->chr_decl + 3, s->chr.b, 16);
	a[H_GAP] = (struct gatt_attr){GATT_UUID_PRIMARY, PERM_READ, s->gap_uuid, 2};
	a[H_NAME_DECL] = (struct gatt_attr){GATT_UUID_CHARAC, PERM_READ, s->name_decl, 5};
	a[H_NAME] = (struct gatt_attr){GATT_UUID_DEV_NAME, PERM_READ, (const uint8_t *)s->name,
				       strlen(s->name)};
	a[H_SVC] = (struct gatt_attr){GATT_UUID_PRIMARY, PERM_READ, s->service.b, 16};
	a[H_CHR_DECL] = (struct gatt_attr){GATT_UUID_CHARAC, PERM_READ, s->chr_decl, 19};
	a[H_CHR] = (struct gatt_attr){0, PERM_WRITE, NULL, 0};
	a[H_CCCD] = (struct gatt_attr){GATT_UUID_CCCD, PERM_READ | PERM_WRITE, s->cccd, 2};
}

/* 0, or the ATT error for an access to h on this link: Zephyr's order, authentication first */
static uint8_t access_error(const struct gatt_server *s, uint16_t h)
{
	uint8_t level = hci_conn_security(s->conn);

	if ((h != H_CHR && h != H_CCCD) || s->security <= SM_LEVEL_NONE)
		return 0;
	if (s->security >= SM_LEVEL_AUTHENTICATED && level < s->security)
		return ATT_ECODE_INSUFF_AUTHEN;
	if (level < SM_LEVEL_UNAUTHENTICATED)
		return ATT_ECODE_INSUFF_ENC;
	return 0;
}

static uint16_t group_end(uint16_t h)
{
	return h == H_GAP ? H_NAME : H_LAST;
}

/* The attribute type on the wire: 2 bytes, or 16 for the characteristic value. */
static size_t attr_type(const struct gatt_server *s, uint16_t h, uint8_t out[16])
{
	if (s->attrs[h].type16) {
		put_le16(out, s->attrs[h].type16);
		return 2;
	}
	memcpy(out, s->chr.b, 16);
	return 16;
}

static bool type_matches(const struct gatt_server *s, uint16_t h, const uint8_t *t, size_t tlen)
{
	uint8_t mine[16];
	size_t n = attr_type(s, h, mine);

	if (n == 2)
		return att_uuid_matches(t, tlen, get_le16(mine), NULL);
	return att_uuid_matches(t, tlen, 0, &s->chr);
}

/* Checks start/end of a range request: 0 or the error (3.4.3.1 etc.) */
static size_t check_range(const uint8_t *pdu, size_t len, size_t min_len, uint16_t *start,
			  uint16_t *end, uint8_t *out)
{
	if (len < min_len)
		return att_error_build(pdu[0], 0, ATT_ECODE_INVALID_PDU, out);
	*start = get_le16(pdu + 1);
	*end = get_le16(pdu + 3);
	if (*start == 0 || *start > *end)
		return att_error_build(pdu[0], *start, ATT_ECODE_INVALID_HANDLE, out);
	return 0;
}

static size_t read_by_group(struct gatt_server *s, const uint8_t *pdu, size_t len, uint8_t *out,
			    size_t mtu)
{
	uint16_t start = 0, end = 0;
	size_t n = check_range(pdu, len, 7, &start, &end, out), elen = 0;

	if (n)
		return n;
	if (len != 7 && len != 21)
		return att_error_build(pdu[0], 0, ATT_ECODE_INVALID_PDU, out);
	if (!att_uuid_matches(pdu + 5, len - 5, GATT_UUID_PRIMARY, NULL))
		return att_error_build(pdu[0], start,
				       att_uuid_matches(pdu + 5, len - 5, 0x2801, NULL)
					       ? ATT_ECODE_ATTR_NOT_FOUND
					       : ATT_ECODE_UNSUPP_GROUP_TYPE,
				       out);
	out[0] = ATT_READ_BY_GROUP_RSP; /* 3.4.4.10 */
	n = 2;
	for (int h = start; h <= MIN(end, (uint16_t)H_LAST); h++) {
		const struct gatt_attr *a = &s->attrs[h];

		if (a->type16 != GATT_UUID_PRIMARY)
			continue;
		if (elen && 4 + a->len != elen)
			break;
		if (n + 4 + a->len > mtu)
			break;
		elen = 4 + a->len;
		put_le16(out + n, h);
		put_le16(out + n + 2, group_end(h));
		memcpy(out + n + 4, a->value, a->len);
		n += elen;
	}
	if (!elen)
		return att_error_build(pdu[0], start, ATT_ECODE_ATTR_NOT_FOUND, out);
	out[1] = (uint8_t)elen;
	return n;
}

static size_t find_by_type(struct gatt_server *s, const uint8_t *pdu, size_t len, uint8_t *out,
			   size_t mtu)
{
	uint16_t start = 0, end = 0;
	size_t n = check_range(pdu, len, 7, &start, &end, out);

	if (n)
		return n;
	out[0] = ATT_FIND_BY_TYPE_RSP; /* 3.4.3.4 */
	n = 1;
	for (int h = start; h <= MIN(end, (uint16_t)H_LAST) && n + 4 <= mtu; h++) {
		const struct gatt_attr *a = &s->attrs[h];

		/* the request's type is a 16-bit UUID: never the characteristic value's */
		if (!a->type16 || a->type16 != get_le16(pdu + 5) || a->len != len - 7 ||
		    memcmp(a->value, pdu + 7, a->len) != 0)
			continue;
		put_le16(out + n, h);
		put_le16(out + n + 2, a->type16 == GATT_UUID_PRIMARY ? group_end(h) : h);
		n += 4;
	}
	if (n == 1)
		return att_error_build(pdu[0], start, ATT_ECODE_ATTR_NOT_FOUND, out);
	return n;
}

static size_t read_by_type(struct gatt_server *s, const uint8_t *pdu, size_t len, uint8_t *out,
			   size_t mtu)
{
	uint16_t start = 0, end = 0;
	size_t n = check_range(pdu, len, 7, &start, &end, out), elen = 0;

	if (n)
		return n;
	if (len != 7 && len != 21)
		return att_error_build(pdu[0], 0, ATT_ECODE_INVALID_PDU, out);
	out[0] = ATT_READ_BY_TYPE_RSP; /* 3.4.4.2 */
	n = 2;
	for (int h = start; h <= MIN(end, (uint16_t)H_LAST); h++) {
		const struct gatt_attr *a = &s->attrs[h];
		size_t cap = MIN(mtu - 4, (size_t)253);
		size_t vlen = MIN(a->len, cap);

		if (!type_matches(s, h, pdu + 5, len - 5))
			continue;
		if (!(a->perm & PERM_READ) || access_error(s, (uint16_t)h)) {
			if (!elen)
				return att_error_build(pdu[0], h,
						       a->perm & PERM_READ
							       ? access_error(s, (uint16_t)h)
							       : ATT_ECODE_READ_NOT_PERMITTED,
						       out);
			break;
		}
		if ((elen && 2 + vlen != elen) || n + 2 + vlen > mtu)
			break;
		elen = 2 + vlen;
		put_le16(out + n, h);
		memcpy(out + n + 2, a->value, vlen);
		n += elen;
	}
	if (!elen)
		return att_error_build(pdu[0], start, ATT_ECODE_ATTR_NOT_FOUND, out);
	out[1] = (uint8_t)elen;
	return n;
}

static size_t find_info(struct gatt_server *s, const uint8_t *pdu, size_t len, uint8_t *out,
			size_t mtu)
{
	uint16_t start = 0, end = 0;
	size_t n = check_range(pdu, len, 5, &start, &end, out), tlen = 0;
	uint8_t t[16];

	if (n)
		return n;
	out[0] = ATT_FIND_INFO_RSP; /* 3.4.3.2 */
	n = 2;
	for (int h = start; h <= MIN(end, (uint16_t)H_LAST); h++) {
		size_t l = attr_type(s, h, t);

		if ((tlen && l != tlen) || n + 2 + l > mtu)
			break;
		tlen = l;
		put_le16(out + n, h);
		memcpy(out + n + 2, t, l);
		n += 2 + l;
	}
	if (!tlen)
		return att_error_build(pdu[0], start, ATT_ECODE_ATTR_NOT_FOUND, out);
	out[1] = tlen == 2 ? 1 : 2;
	return n;
}

static size_t read_value(struct gatt_server *s, const uint8_t *pdu, size_t len, uint8_t *out,
			 size_t mtu)
{
	size_t want = pdu[0] == ATT_READ_BLOB_REQ ? 5 : 3;
	uint16_t h, off;
	const struct gatt_attr *a;

	if (len != want)
		return att_error_build(pdu[0], 0, ATT_ECODE_INVALID_PDU, out);
	h = get_le16(pdu + 1);
	off = want == 5 ? get_le16(pdu + 3) : 0;
	if (h == 0 || h > H_LAST)
		return att_error_build(pdu[0], h, ATT_ECODE_INVALID_HANDLE, out);
	a = &s->attrs[h];
	if (!(a->perm & PERM_READ))
		return att_error_build(pdu[0], h, ATT_ECODE_READ_NOT_PERMITTED, out);
	if (access_error(s, h))
		return att_error_build(pdu[0], h, access_error(s, h), out);
	if (off > a->len)
		return att_error_build(pdu[0], h, 0x07 /* Invalid Offset */, out);
	out[0] = pdu[0] + 1; /* Read Response 3.4.4.4, Read Blob Response 3.4.4.6 */
	memcpy(out + 1, a->value + off, MIN(a->len - off, mtu - 1));
	return 1 + MIN(a->len - off, mtu - 1);
}

static size_t write_value(struct gatt_server *s, const uint8_t *pdu, size_t len, uint8_t *out)
{
	bool cmd = pdu[0] == ATT_WRITE_CMD;
	uint16_t h;

	if (len < 3)
		return cmd ? 0 : att_error_build(pdu[0], 0, ATT_ECODE_INVALID_PDU, out);
	h = get_le16(pdu + 1);
	if (access_error(s, h)) /* 3.4.5.3: a Write Command is dropped without an answer */
		return cmd ? 0 : att_error_build(pdu[0], h, access_error(s, h), out);
	if (h == H_CHR) {
		if (s->cb.write)
			s->cb.write(s, pdu + 3, len - 3, s->user_data);
	} else if (h == H_CCCD) {
		if (len != 5)
			return cmd ? 0
				   : att_error_build(pdu[0], h, ATT_ECODE_INVALID_VALUE_LEN, out);
		memcpy(s->cccd, pdu + 3, 2);
		if (s->cb.subscribed)
			s->cb.subscribed(s, s->cccd[0] & 0x01, s->user_data);
	} else if (!cmd) {
		return att_error_build(pdu[0], h,
				       h == 0 || h > H_LAST ? ATT_ECODE_INVALID_HANDLE
							    : ATT_ECODE_WRITE_NOT_PERMITTED,
				       out);
	}
	if (cmd)
		return 0;
	out[0] = ATT_WRITE_RSP; /* 3.4.5.2 */
	return 1;
}

static size_t server_handle(struct att *att, const uint8_t *pdu, size_t len, uint8_t *out,
			    size_t mtu, void *user_data)
{
	struct gatt_server *s = user_data;

	switch (pdu[0]) {
	case ATT_READ_BY_GROUP_REQ:
		return read_by_group(s, pdu, len, out, mtu);
	case ATT_FIND_BY_TYPE_REQ:
		return find_by_type(s, pdu, len, out, mtu);
	case ATT_READ_BY_TYPE_REQ:
		return read_by_type(s, pdu, len, out, mtu);
	case ATT_FIND_INFO_REQ:
		return find_info(s, pdu, len, out, mtu);
	case ATT_READ_REQ:
	case ATT_READ_BLOB_REQ:
		return read_value(s, pdu, len, out, mtu);
	case ATT_WRITE_REQ:
	case ATT_WRITE_CMD:
		return write_value(s, pdu, len, out);
	}
	if (att_opcode_is_command(pdu[0]))
		return 0; /* 3.4.7: unknown commands are ignored */
	return att_error_build(pdu[0], 0, ATT_ECODE_REQ_NOT_SUPP, out);
}

static void server_writable(struct hci_conn *conn, void *user_data)
{
	struct gatt_server *s = user_data;

	if (s->cb.writable)
		s->cb.writable(s, s->user_data);
}

int gatt_server_new(struct hci_conn *conn, const struct gatt_server_params *p,
		    const struct gatt_server_callbacks *cb, void *user_data,
		    otad_destroy_fn destroy, struct gatt_server **ret)
{
	struct att *att;
	struct gatt_server *s;
	int r;

	if (!hci_conn_is_connected(conn))
		return -ENOTCONN;
	r = att_attach(conn, &att);
	if (r < 0)
		return r;
	if (att_has_server(att))
		return -EBUSY;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->name = strndup(p->device_name ? p->device_name : "", ADV_NAME_MAX);
	s->writable_watch = hci_conn_watch_writable(conn, server_writable, s, NULL);
	if (!s->name || !s->writable_watch) {
		hci_conn_unwatch(conn, s->writable_watch);
		free(s->name);
		free(s);
		return -ENOMEM;
	}
	s->conn = hci_conn_ref(conn);
	s->att = att;
	s->service = *p->service;
	s->chr = *p->chr;
	s->security = p->security;
	s->cb = *cb;
	s->user_data = user_data;
	s->destroy = destroy;
	build_db(s);
	att_set_our_mtu(att, p->mtu ? MIN(p->mtu, (uint16_t)517) : GATT_DEFAULT_MTU);
	att_set_server(att, server_handle, s);
	*ret = s;
	return 0;
}

struct gatt_server *gatt_server_free(struct gatt_server *s)
{
	if (!s)
		return NULL;
	att_set_server(s->att, NULL, NULL);
	hci_conn_unwatch(s->conn, s->writable_watch);
	hci_conn_unref(s->conn);
	if (s->destroy)
		s->destroy(s->user_data);
	free(s->name);
	free(s);
	return NULL;
}

int gatt_server_notify(struct gatt_server *s, const uint8_t *value, size_t len)
{
	uint8_t pdu[520];

	if (!hci_conn_is_connected(s->conn))
		return -ENOTCONN;
	if (!gatt_server_is_subscribed(s))
		return -EPIPE;
	if (access_error(s, H_CHR))
		return -EACCES;
	if (len > gatt_server_max_notify(s))
		return -EMSGSIZE;
	return att_send(s->att, pdu, att_handle_value_build(ATT_NOTIFY, H_CHR, value, len, pdu));
}

uint16_t gatt_server_mtu(const struct gatt_server *s)
{
	return att_get_mtu(s->att);
}

size_t gatt_server_max_notify(const struct gatt_server *s)
{
	return att_get_mtu(s->att) - 3u;
}

size_t gatt_server_backlog(const struct gatt_server *s)
{
	return hci_conn_queued_bytes(s->conn);
}

bool gatt_server_is_subscribed(const struct gatt_server *s)
{
	return s->cccd[0] & 0x01;
}
