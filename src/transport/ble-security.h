/* ble-security.h — the BLE transport's side of LE security (ble.c): each link's Security
 * Manager (bt-sm.h) set up from the options (--security, --passkey, --repair), the stored key
 * of the device (the bond store, bonds.h, or this process's pairing) handed to it, a new bond
 * saved, and the text of a pairing that failed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "otad/bt-sm.h"
#include "otad/bt.h"
#include "otad/transport.h"
#include "transport/transport-internal.h"

struct ble_sec {
	struct tr *tr; /* for notes and the device's name */
	uint8_t level; /* tr_options.security */
	bool has_passkey;
	uint32_t passkey;
	char *bond_file; /* NULL: no store */
	bool repair;
	struct sm *sm, *dead; /* the link's; one that waits for the loop to free it */
	struct bt_addr peer;  /* the link's device */
	bool has_ltk;	      /* from this process's pairing with ltk_peer */
	struct sm_ltk ltk;
	struct bt_addr ltk_peer;
	struct tr_security now; /* the link's, for tr_security() */
	int err; /* this link's pairing or encryption failed: -EACCES, -EKEYREJECTED, -EBADMSG */
	char why[TR_NOTE_MAX];
};

/* 0 or -ENOMEM. */
int ble_sec_init(struct ble_sec *s, struct tr *tr, const struct tr_options *o);
/* A Security Manager on c (none with security 1), given the stored key for peer. 0: the
 * security asked for is being raised, secured(…, user_data) reports the end; -EALREADY:
 * nothing to wait for (the device's ATT errors raise it later); -EBADMSG: the bond store does
 * not parse (s->why says where); -errno. */
int ble_sec_attach(struct ble_sec *s, struct hci_conn *c, const struct bt_addr *peer,
		   sm_done_fn secured, void *user_data);
/* The link's Security Manager goes (freed by ble_sec_reap(), from the loop). */
void ble_sec_bury(struct ble_sec *s);
void ble_sec_reap(struct ble_sec *s);
void ble_sec_free(struct ble_sec *s);
