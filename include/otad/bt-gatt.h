/* bt-gatt.h — GATT over the ATT fixed channel of one LE connection. Include "otad/bt.h".
 *
 * gatt_client (central side): exchanges the MTU, finds one primary service and one of its
 * characteristics by 128-bit UUID, enables notifications on its CCCD, then writes values with
 * Write Command and delivers notifications. That is all mcumgr's SMP transport needs.
 *
 * gatt_server (peripheral side): a fixed database — GAP (Device Name) and one primary service
 * with one characteristic (write without response + notify) and its CCCD — answering discovery,
 * CCCD writes and Write Commands, and sending notifications.
 *
 * The first client or server of a link brings up its ATT bearer, which both share and which
 * lasts as long as the connection; until then the peer's ATT PDUs are dropped, so create them in
 * the connect or accept callback. When there is a client but no server, the peer's discovery
 * finds an empty database.
 *
 * ATT errors are not errno: callbacks get err (-EIO for "the peer answered an ATT error") and the
 * ATT error code separately (att_strerror). A request the peer refuses for want of security
 * (0x05, 0x0F, 0x0C) is sent again once the link's Security Manager (otad/bt-sm.h, if the link
 * has one) raised its level; when that fails, the request ends with the peer's error. Requests time
 * out after 30 s (Core 5.4 Vol 3 Part F 3.3.3); after a timeout the bearer is dead and the link is
 * disconnected. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/bt.h"

struct gatt_client;
struct gatt_server;
struct hci_conn;

/* The ATT_MTU this host asks for and offers. 498 = 2 x 251 - 4: one full ATT PDU plus the
 * 4-byte L2CAP header fills exactly two LL PDUs of the maximum data length (251), as Zephyr's
 * SMP sample does; 512 would only add a runt third LL PDU. */
#define GATT_DEFAULT_MTU 498
#define ATT_MIN_MTU	 23 /* Core 5.4 Vol 3 Part F 3.2.8, LE */

struct gatt_client_params {
	const struct bt_uuid128 *service; /* e.g. &bt_uuid_smp_service */
	const struct bt_uuid128 *chr;	  /* e.g. &bt_uuid_smp_char */
	uint16_t mtu;			  /* 0 = GATT_DEFAULT_MTU; 23 = no MTU exchange */
};

struct gatt_client_callbacks {
	/* Discovery ended. err 0: writes and notifications work now. -EIO: the peer answered an
	 * ATT error (att_ecode, att_strerror) to a request we had to succeed; -ENOENT: no such
	 * service or characteristic, or it lacks write-without-response/notify/CCCD; -ETIMEDOUT:
	 * no ATT response in 30 s; -ENOTCONN: link lost. */
	void (*ready)(struct gatt_client *c, int err, uint8_t att_ecode, void *user_data);
	/* A notification of the characteristic; value valid during the call. */
	void (*notify)(struct gatt_client *c, const uint8_t *value, size_t len, void *user_data);
	/* The host queue of the link drained (gatt_client_backlog() == 0). May be NULL. */
	void (*writable)(struct gatt_client *c, void *user_data);
};

/* Starts discovery on conn (takes a ref on it). Returns 0, -EBUSY when conn already has a
 * client (or something other than ATT holds its channel), -ENOTCONN, -ENOMEM. */
int gatt_client_new(struct hci_conn *conn, const struct gatt_client_params *p,
		    const struct gatt_client_callbacks *cb, void *user_data,
		    otad_destroy_fn destroy, struct gatt_client **ret);
struct gatt_client *gatt_client_free(struct gatt_client *c);

/* Write Command of one value (<= gatt_client_max_write()); copied before return.
 * -EMSGSIZE, -ENOTCONN, -EAGAIN before ready. */
int gatt_client_write(struct gatt_client *c, const uint8_t *value, size_t len);
uint16_t gatt_client_mtu(const struct gatt_client *c);
size_t gatt_client_max_write(const struct gatt_client *c); /* mtu - 3 */
size_t gatt_client_backlog(const struct gatt_client *c);   /* bytes not yet in the controller */
bool gatt_client_is_ready(const struct gatt_client *c);
uint16_t gatt_client_value_handle(const struct gatt_client *c);

struct gatt_server_params {
	const char *device_name;	  /* GAP Device Name (0x2A00) */
	const struct bt_uuid128 *service; /* e.g. &bt_uuid_smp_service */
	const struct bt_uuid128 *chr;	  /* e.g. &bt_uuid_smp_char */
	uint16_t mtu;			  /* our receive MTU; 0 = GATT_DEFAULT_MTU */
	/* The characteristic and its CCCD need a link at this level (enum sm_level of
	 * otad/bt-sm.h; 0 or 1: none), as Zephyr's BT_GATT_PERM_*_ENCRYPT / _AUTHEN: before, a
	 * request is answered Insufficient Authentication (0x05, level 3 and up) or Insufficient
	 * Encryption (0x0F), a Write Command is dropped, and nothing is notified. */
	uint8_t security;
};

struct gatt_server_callbacks {
	/* A Write Command (or Write Request) to the characteristic value. */
	void (*write)(struct gatt_server *s, const uint8_t *value, size_t len, void *user_data);
	/* The client wrote the CCCD: notifications on or off. May be NULL. */
	void (*subscribed)(struct gatt_server *s, bool enabled, void *user_data);
	/* The host queue drained. May be NULL. */
	void (*writable)(struct gatt_server *s, void *user_data);
};

/* Serves the database on conn (takes a ref on it). -EBUSY when conn already has a server (or
 * something other than ATT holds its channel). */
int gatt_server_new(struct hci_conn *conn, const struct gatt_server_params *p,
		    const struct gatt_server_callbacks *cb, void *user_data,
		    otad_destroy_fn destroy, struct gatt_server **ret);
struct gatt_server *gatt_server_free(struct gatt_server *s);

/* Handle Value Notification (<= gatt_server_max_notify()). -EMSGSIZE, -ENOTCONN, -EPIPE when
 * the client has not enabled notifications, -EACCES when the link lacks the security the
 * characteristic needs. */
int gatt_server_notify(struct gatt_server *s, const uint8_t *value, size_t len);
uint16_t gatt_server_mtu(const struct gatt_server *s);
size_t gatt_server_max_notify(const struct gatt_server *s); /* mtu - 3 */
size_t gatt_server_backlog(const struct gatt_server *s);
bool gatt_server_is_subscribed(const struct gatt_server *s);
