/* hci-conn.h — the private side of struct hci_conn (hci-conn.c): one LE link's fields, its ACL
 * send queue under the controller's credits, its L2CAP reassembly and channels (l2cap.c), and
 * what the HCI core calls on it. The public face is otad/bt-hci.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/hci-pkt.h"
#include "bt/l2cap-pdu.h"
#include "otad/bt.h"

struct hci_conn_watch;
struct hci_dev;
struct l2cap;

struct hci_conn *hci_conn_new(struct hci_dev *hci, const struct hci_evt *ev);
struct hci_conn *hci_conn_find(struct hci_dev *hci, uint16_t handle);
void hci_conn_gone(struct hci_conn *c, uint8_t reason);
void hci_conn_acl_in(struct hci_dev *hci, const uint8_t *pkt, size_t len);
void hci_conn_le_event(struct hci_dev *hci, const struct hci_evt *ev);
void hci_conn_credits(struct hci_dev *hci, const struct hci_evt *ev);
void hci_conn_start(struct hci_conn *c); /* after Connection Complete: features, DLE, PHY */
void hci_acl_schedule(struct hci_dev *hci);
/* Appends ACL packets made for this link (bytes: the L2CAP frames they carry, headers included)
 * to its queue and sends what the controller's buffers take: 0, or -ENOTCONN (list freed). */
int hci_conn_queue_acl(struct hci_conn *c, struct acl_pkt *list, size_t bytes);
/* The controller's ACL payload size (0 once the link is gone). */
uint16_t hci_conn_acl_mtu(const struct hci_conn *c);
bool hci_conn_is_central(const struct hci_conn *c);
void hci_conn_encrypt_event(struct hci_dev *hci, const struct hci_evt *ev);

/* The central encrypts the link (LE Enable Encryption, Core 5.4 Vol 4 Part E 7.8.24) with ltk,
 * identified to the peripheral by ediv and rand (0 for an STK and a Secure Connections LTK);
 * level and key_size are the link's security once it is encrypted. The end (a refused command
 * too) reaches the encrypt watches. 0, -ENOTCONN, -EPERM on a peripheral, -ENOMEM. */
int hci_conn_encrypt(struct hci_conn *c, const uint8_t ltk[16], uint16_t ediv,
		     const uint8_t rand[8], uint8_t level, uint8_t key_size);
/* The peripheral answers the controller's LE Long Term Key Request (7.8.25, 7.8.26): with ltk,
 * or NULL for "no key" (the central then hears 0x06 PIN or Key Missing). */
int hci_conn_ltk_reply(struct hci_conn *c, const uint8_t *ltk, uint8_t level, uint8_t key_size);
/* The controller asks for the key of ediv and rand (7.7.65.5): answer hci_conn_ltk_reply(),
 * from the watch or later. A link without such a watch answers "no key" at once. */
typedef void (*hci_conn_ltk_fn)(struct hci_conn *c, uint16_t ediv, const uint8_t rand[8],
				void *user_data);
unsigned hci_conn_watch_ltk_request(struct hci_conn *c, hci_conn_ltk_fn fn, void *user_data,
				    otad_destroy_fn destroy);

struct hci_conn {
	unsigned ref;
	struct hci_dev *hci; /* NULL once gone */
	struct hci_conn *next;
	struct hci_conn_info info;
	bool from_adv;
	uint8_t disc_reason; /* hci_conn_disconnect() was asked, with this reason */

	struct hci_conn_callbacks cb; /* the owner's, told after the watches */
	void *user_data;
	otad_destroy_fn destroy;

	struct hci_conn_watch *watches; /* in the order they were made */
	unsigned watch_id;		/* the last id given */
	unsigned telling;		/* events being told: removed watches wait for the end */

	struct acl_pkt *txq_head, *txq_tail;
	size_t txq_bytes;
	unsigned in_flight;
	bool want_writable;

	/* security: what the link has, what the key being started will give it */
	uint8_t sec_level, key_size;
	bool encrypted;
	uint8_t pending_level, pending_key_size;

	struct l2cap_reasm reasm;
	struct l2cap *l2cap; /* its channels: l2cap.c's, NULL once the last ref went */
};
