/* ble-security.c — LE security for the BLE transport (ble-security.h): the Security Manager of
 * each link, the key of this process's pairing, and what a failed pairing is told as. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bt/sm-pdu.h"
#include "transport/ble-security.h"
#include "util/macro.h"

void ble_sec_init(struct ble_sec *s, struct tr *tr, const struct tr_options *o)
{
	s->tr = tr;
	s->level = o->security;
	s->has_passkey = o->has_passkey;
	s->passkey = o->passkey;
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

	if (err == 0) {
		b->err = 0;
		if (r->bonded && r->keys.has_ltk) {
			b->has_ltk = true;
			b->ltk = r->keys.ltk;
			b->ltk_peer = b->peer;
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
			 "%s has lost the key of our pairing (%s); not pairing again", who, r->why);
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
	int r;

	s->err = 0;
	s->why[0] = 0;
	s->peer = *peer;
	if (s->level == SM_LEVEL_NONE)
		return -EALREADY; /* no Security Manager: the device's ATT errors stand */
	ble_sec_bury(s);
	r = sm_new(c, &cfg, &cb, s, NULL, &s->sm);
	if (r < 0)
		return r;
	if (s->has_ltk && !memcmp(&s->ltk_peer, peer, sizeof(*peer)))
		sm_set_ltk(s->sm, &s->ltk);
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
}
