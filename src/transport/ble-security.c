/* ble-security.c — LE security for the BLE transport (ble-security.h): the Security Manager of
 * each link, the stored key of the device (bond store or this process's pairing), saving a new
 * bond, and what a failed pairing is told as. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt/sm-pdu.h"
#include "otad/bonds.h"
#include "transport/ble-security.h"
#include "util/macro.h"

DEFINE_FREE_CLEANUP(struct bond_store, bond_store_free)

int ble_sec_init(struct ble_sec *s, struct tr *tr, const struct tr_options *o)
{
	s->tr = tr;
	s->level = o->security;
	s->has_passkey = o->has_passkey;
	s->passkey = o->passkey;
	s->repair = o->repair;
	if (o->bond_file && !(s->bond_file = strdup(o->bond_file)))
		return -ENOMEM;
	return 0;
}

/* The key to encrypt the link to peer with: this process's pairing, else the store's. 1 found,
 * 0 none (or --repair), -EBADMSG and the like when the store cannot be read (s->why). */
static int stored_key(struct ble_sec *s, const struct bt_addr *peer, struct sm_ltk *ret)
{
	_cleanup_(bond_store_freep) struct bond_store *st = NULL;
	const struct bond *b;
	char why[TR_NOTE_MAX - 80];
	int r;

	if (s->repair)
		return 0;
	if (s->has_ltk && bt_addr_equal(&s->ltk_peer, peer)) {
		*ret = s->ltk;
		return 1;
	}
	if (!s->bond_file)
		return 0;
	r = bond_store_load(s->bond_file, &st, why, sizeof(why));
	if (r < 0) {
		snprintf(s->why, sizeof(s->why),
			 "bond store %s; left as it is: mend it, or move it away and pair again",
			 why);
		return r;
	}
	b = bond_store_find(st, peer);
	if (!b)
		return 0;
	*ret = b->ltk;
	return 1;
}

static int put_bond(struct bond_store *st, void *user_data)
{
	return bond_store_put(st, user_data);
}

/* A bonding pairing's keys into the store (read again under its lock: another process may
 * have added bonds since); the failure is told in s->now. */
static void save_bond(struct ble_sec *s, const struct sm_result *r)
{
	struct bond b = {.peer = s->peer, .ltk = r->keys.ltk, .level = r->level};
	int e;

	/* Vol 3 Part H 3.6.4: a peer that gave its identity is kept under it (the same address
	 * unless it uses resolvable private ones, which its IRK ties to it) */
	if (r->keys.has_irk)
		b.peer = r->keys.identity;
	b.has_irk = r->keys.has_irk;
	memcpy(b.irk, r->keys.irk, sizeof(b.irk));
	b.created = (uint64_t)time(NULL);
	e = bond_store_update(s->bond_file, put_bond, &b, s->now.bond_why, sizeof(s->now.bond_why));
	explicit_bzero(&b, sizeof(b));
	s->now.bond_err = e;
	if (e < 0 && !s->now.bond_why[0])
		snprintf(s->now.bond_why, sizeof(s->now.bond_why), "cannot save the bond in %s: %s",
			 s->bond_file, strerror(-e));
	if (e < 0)
		tr_post_note(s->tr, "%s", s->now.bond_why);
}

static void on_sm_passkey(struct sm *sm, void *user_data)
{
	struct ble_sec *b = user_data;

	if (b->has_passkey) {
		(void)sm_passkey_reply(sm, b->passkey);
		return;
	}
	b->err = -EACCES;
	snprintf(b->why, sizeof(b->why),
		 "pairing with %s needs the passkey it displays: give --passkey N",
		 tr_describe(b->tr));
	(void)sm_cancel(sm);
}

static void on_sm_changed(struct sm *sm, int err, const struct sm_result *r, void *user_data)
{
	struct ble_sec *b = user_data;
	const char *who = tr_describe(b->tr);

	b->now.level = r->level;
	b->now.key_size = r->key_size;
	if (err == 0) {
		b->err = 0;
		b->now.paired = b->now.paired || r->paired;
		b->now.bonded = b->now.bonded || r->bonded;
		if (r->bonded && r->keys.has_ltk) {
			b->has_ltk = true;
			b->ltk = r->keys.ltk;
			b->ltk_peer = b->peer;
			if (b->bond_file && r->paired)
				save_bond(b, r);
		}
		tr_post_note(b->tr, "link to %s encrypted (security level %u%s)", who, r->level,
			     r->paired ? ", paired" : ", stored key");
		return;
	}
	if (b->err) /* the first cause (no passkey) stands */
		return;
	b->err = err == -EKEYREJECTED || err == -EACCES ? err : -EACCES;
	if (err == -EKEYREJECTED)
		snprintf(b->why, sizeof(b->why),
			 "%s has lost the key of our pairing: %s; not pairing again unless told to "
			 "(--repair)",
			 who, r->why);
	else if (err == -EACCES && r->reason == SM_ERR_CONFIRM_VALUE_FAILED)
		snprintf(b->why, sizeof(b->why), "pairing with %s failed: %s (wrong passkey)", who,
			 r->why);
	else if (err == -EACCES && r->reason == SM_ERR_AUTH_REQUIREMENTS && !b->has_passkey)
		snprintf(b->why, sizeof(b->why),
			 "pairing with %s needs the passkey it displays (%s): give --passkey N",
			 who, r->why);
	else if (err == -EACCES)
		snprintf(b->why, sizeof(b->why), "pairing with %s failed: %s (%s)", who, r->why,
			 sm_reason_str(r->reason));
	else
		snprintf(b->why, sizeof(b->why), "pairing with %s failed: %s%s%s", who,
			 strerror(-err), r->why && *r->why ? ": " : "", r->why ? r->why : "");
}

int ble_sec_attach(struct ble_sec *s, struct hci_conn *c, const struct bt_addr *peer,
		   sm_done_fn secured, void *user_data)
{
	static const struct sm_callbacks cb = {.passkey_request = on_sm_passkey,
					       .security_changed = on_sm_changed};
	/* a typed passkey, or Just Works; bonding keeps the key for the next link of ours */
	struct sm_config cfg = {
		.io_cap = s->has_passkey ? SM_IO_KEYBOARD_ONLY : SM_IO_NO_INPUT_NO_OUTPUT,
		.bonding = true,
	};
	char a[BT_ADDR_STRLEN];
	struct sm_ltk ltk;
	int r, found;

	s->err = 0;
	s->why[0] = 0;
	s->peer = *peer;
	s->now = (struct tr_security){.level = SM_LEVEL_NONE};
	snprintf(s->now.peer, sizeof(s->now.peer), "%s/%s", bt_addr_to_str(peer, a),
		 bt_addr_type_str(peer->type));
	if (s->level == SM_LEVEL_NONE)
		return -EALREADY; /* no Security Manager: the device's ATT errors stand */
	ble_sec_bury(s);
	found = stored_key(s, peer, &ltk);
	if (found < 0) {
		s->err = -EBADMSG;
		return found;
	}
	r = sm_new(c, &cfg, &cb, s, NULL, &s->sm);
	if (r == 0 && found)
		sm_set_ltk(s->sm, &ltk);
	explicit_bzero(&ltk, sizeof(ltk));
	if (r < 0)
		return r;
	if (s->level < SM_LEVEL_UNAUTHENTICATED)
		return -EALREADY;
	return sm_pair(s->sm, s->level, secured, user_data, NULL);
}

void ble_sec_bury(struct ble_sec *s)
{
	if (!s->sm)
		return;
	sm_free(s->dead);
	s->dead = TAKE_PTR(s->sm);
}

void ble_sec_reap(struct ble_sec *s)
{
	s->dead = sm_free(s->dead);
}

void ble_sec_free(struct ble_sec *s)
{
	s->sm = sm_free(s->sm);
	s->dead = sm_free(s->dead);
	explicit_bzero(&s->ltk, sizeof(s->ltk));
	free(s->bond_file);
	s->bond_file = NULL;
}
