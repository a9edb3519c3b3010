/* att.h — the ATT bearer of one LE connection (att.c, Core 5.4 Vol 3 Part F 3.3) on its fixed
 * channel 0x0004: requests one at a time with the transaction timeout, commands, notifications
 * to the client side, requests and commands to the server side. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"

#define ATT_TIMEOUT_USEC (30 * USEC_PER_SEC) /* 3.3.3 */

struct att;
struct hci_conn;
/* Response to one request: err 0 and the PDU (an Error Response has err -EIO and ecode),
 * -ETIMEDOUT, -ENOTCONN (link lost or bearer dead), -ECANCELED. */
typedef void (*att_rsp_fn)(struct att *att, int err, uint8_t ecode, const uint8_t *pdu, size_t len,
			   void *user_data);
/* Server side: a request or command from the peer. Writes the answer into out (0 = none) and
 * returns its length. */
typedef size_t (*att_server_fn)(struct att *att, const uint8_t *pdu, size_t len, uint8_t *out,
				size_t out_size, void *user_data);
typedef void (*att_notify_fn)(struct att *att, uint16_t handle, const uint8_t *value, size_t len,
			      void *user_data);

/* The bearer on conn's ATT channel: the one there, else a new one registered on it (l2cap.h),
 * which the GATT client and server of the link share and which lives until the connection's
 * last unref. 0, -ENOTCONN (a new one on a link that ended), -EBUSY (another handler holds the
 * channel), -ENOMEM. */
int att_attach(struct hci_conn *conn, struct att **ret);
int att_request(struct att *att, const uint8_t *pdu, size_t len, att_rsp_fn fn, void *user_data);
int att_send(struct att *att, const uint8_t *pdu, size_t len); /* no response expected */
void att_cancel_all(struct att *att, void *user_data);
uint16_t att_get_mtu(const struct att *att);
void att_set_mtu(struct att *att, uint16_t mtu);
uint16_t att_get_our_mtu(const struct att *att);
void att_set_our_mtu(struct att *att, uint16_t mtu);
void att_set_server(struct att *att, att_server_fn fn, void *user_data);
/* Notifications and indications go to notify (NULL: dropped). The link's own events are watched
 * on the hci_conn (hci_conn_watch_disconnect(), hci_conn_watch_writable()). */
void att_set_client(struct att *att, att_notify_fn notify, void *user_data);
struct hci_conn *att_get_conn(const struct att *att);
bool att_has_server(const struct att *att);
/* The transaction timeout is 30 s by the spec; tests shorten it. */
void att_set_timeout(struct att *att, uint64_t usec);
bool att_has_client(const struct att *att);
