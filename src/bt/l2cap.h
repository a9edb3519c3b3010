/* l2cap.h — the L2CAP channels of one LE link (l2cap.c, Core 5.4 Vol 3 Part A): the layers above
 * register a handler per fixed channel on the connection (ATT on 0x0004, the Security Manager on
 * 0x0006), the LE signaling channel (0x0005) is served here, whole frames from hci-conn.c are
 * routed by CID, and l2cap_send() cuts frames into the link's ACL queue. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/l2cap-pdu.h"
#include "otad/common.h"

struct hci_conn;

/* One frame on the channel: the information payload, without the basic header. The handler may
 * unregister itself or others, register, send and disconnect; the link stays valid throughout. */
typedef void (*l2cap_recv_fn)(struct hci_conn *c, const uint8_t *pdu, size_t len, void *user_data);

/* Takes cid on c: its frames go to fn from now on. Returns the registration's id, or 0 (destroy
 * not called) when cid has a handler already (one per channel: to take a channel, unregister the
 * one there first), cid is 0, fn is NULL, the link has ended, or no memory. destroy(user_data)
 * runs once: at l2cap_unregister() or with the connection's last unref (registrations outlive
 * the link; no frame comes after it ended).
 * Every link starts with two registrations: the LE signaling channel, and on the SMP channel a
 * responder that refuses pairing (Pairing Failed "Pairing Not Supported") until a Security
 * Manager replaces it. */
unsigned l2cap_register(struct hci_conn *c, uint16_t cid, l2cap_recv_fn fn, void *user_data,
			otad_destroy_fn destroy);
/* Removes a registration: its channel is free at once; while a frame is being delivered, its
 * destroy waits until the delivery is over. false when no registration has this id. */
bool l2cap_unregister(struct hci_conn *c, unsigned id);
/* The registration on cid: its id (0: none, or fn given and not the registration's) and, with
 * ret_user_data, its user_data. */
unsigned l2cap_lookup(const struct hci_conn *c, uint16_t cid, l2cap_recv_fn fn,
		      void **ret_user_data);
/* Puts the responder that refuses pairing back on the SMP channel (a Security Manager that
 * leaves): its id, 0 when the channel is taken. */
unsigned l2cap_register_smp_refusal(struct hci_conn *c);
/* Sends one frame on cid (basic header added): 0, -ENOTCONN, -EMSGSIZE (more than 65535 bytes),
 * -ENOMEM. The frame waits in the link's queue for the controller's buffers. */
int l2cap_send(struct hci_conn *c, uint16_t cid, const uint8_t *sdu, size_t len);

/* hci-conn.c's side: the table of a new link with the fixed channels every LE-U link carries
 * (0, -ENOMEM), a frame reassembled from ACL (dropped when nobody registered its CID), and the
 * table's end at the last unref. */
int l2cap_attach(struct hci_conn *c);
void l2cap_recv(struct hci_conn *c, uint16_t cid, const uint8_t *pdu, size_t len);
void l2cap_detach(struct hci_conn *c);
