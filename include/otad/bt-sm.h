/* bt-sm.h — the Security Manager of one LE link (Core 5.4 Vol 3 Part H): pairing as initiator
 * (central) or responder (peripheral), LE Secure Connections (Just Works, Numeric Comparison,
 * Passkey Entry) and, where allowed, LE legacy pairing; key distribution, encryption and
 * re-encryption with a stored key. Include "otad/bt.h" and "otad/bt-hci.h".
 *
 * Keys are handed to the owner in a pairing's result and taken back (sm_set_ltk()) for the next
 * connection; nothing here stores or logs them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "otad/bt.h"

struct hci_conn;
struct sm;

#define SM_KEY_LEN 16 /* LTK, IRK, CSRK, TK, nonces, confirm values */

/* IO capabilities (Vol 3 Part H 3.5.1 Table 3.5) */
enum sm_io_cap {
	SM_IO_DISPLAY_ONLY = 0x00,
	SM_IO_DISPLAY_YES_NO = 0x01,
	SM_IO_KEYBOARD_ONLY = 0x02,
	SM_IO_NO_INPUT_NO_OUTPUT = 0x03,
	SM_IO_KEYBOARD_DISPLAY = 0x04,
};

/* LE security mode 1 (Vol 3 Part C 10.2.1); level 1 is an unencrypted link. */
enum sm_level {
	SM_LEVEL_NONE = 1,
	SM_LEVEL_UNAUTHENTICATED = 2, /* encrypted, Just Works */
	SM_LEVEL_AUTHENTICATED = 3,   /* encrypted, MITM protection */
	SM_LEVEL_SC = 4,	      /* authenticated LE Secure Connections, 128-bit key */
};

/* A long term key and what it gives a link. */
struct sm_ltk {
	uint8_t key[SM_KEY_LEN]; /* LSB first, octets past key_size zero */
	uint16_t ediv;		 /* legacy: EDIV and Rand identify it; Secure Connections: 0 */
	uint8_t rand[8];
	uint8_t key_size; /* 7..16 */
	bool authenticated;
	bool sc;
};

/* What one side sets up before pairing. */
struct sm_config {
	uint8_t io_cap;	      /* enum sm_io_cap */
	uint8_t level;	      /* the least a pairing must give (enum sm_level), 0: 2 */
	uint8_t min_key_size; /* 7..16, 0: 16; a smaller agreed size fails pairing */
	bool bonding;	      /* exchange keys to keep */
	bool legacy;	      /* accept LE legacy pairing (a peer without Secure Connections) */
	bool legacy_only;     /* offer no Secure Connections (a device built without them) */
	bool fixed_passkey;   /* this side displays passkey, not a random one */
	uint32_t passkey;     /* 0..999999 */
	/* our identity, distributed when bonding (the peer resolves our private addresses) */
	bool has_identity;
	uint8_t irk[SM_KEY_LEN];
	struct bt_addr identity;
};

/* Keys to keep from a bonding pairing. */
struct sm_keys {
	bool has_ltk;
	struct sm_ltk ltk; /* encrypts this link in these roles: the Secure Connections LTK, or
			    * the legacy LTK the peripheral distributed */
	bool has_irk;
	uint8_t irk[SM_KEY_LEN]; /* the peer's */
	struct bt_addr identity; /* the peer's identity address */
};

/* How a pairing or encryption ended. */
struct sm_result {
	uint8_t level;	  /* the link's level now (enum sm_level) */
	uint8_t key_size; /* octets, 0 unencrypted */
	bool paired;	  /* new keys (false: encrypted with a stored key) */
	bool bonded;	  /* keys holds keys to keep */
	struct sm_keys keys;
	/* err -EACCES: pairing failed with this Pairing Failed reason (enum sm_reason of
	 * bt/sm-pdu.h, sm_reason_str()), sent by the peer when remote is true */
	uint8_t reason;
	bool remote;
	/* err -EIO or -EKEYREJECTED: the controller's status (0x06 PIN or Key Missing: the peer
	 * has no key for the stored LTK, it lost its bond) */
	uint8_t hci_status;
	const char *why; /* one line for the owner to log: "passkey mismatch", ... */
};

/* err 0: the link is encrypted at r->level; -EACCES pairing failed (r->reason); -EKEYREJECTED
 * the stored key was refused (no new pairing was tried); -EIO encryption failed; -ETIMEDOUT no
 * answer within 30 s (Vol 3 Part H 3.4: no more SMP on this link); -ENOTCONN the link ended;
 * -ECANCELED sm_free(). */
typedef void (*sm_done_fn)(struct sm *sm, int err, const struct sm_result *r, void *user_data);

struct sm_callbacks {
	/* Show passkey to the user (the peer types it). May be NULL. */
	void (*passkey_display)(struct sm *sm, uint32_t passkey, void *user_data);
	/* Ask the user for the passkey the peer shows: answer sm_passkey_reply() (now or later);
	 * NULL: no keyboard (sm_config.fixed_passkey answers for it if set). */
	void (*passkey_request)(struct sm *sm, void *user_data);
	/* Numeric comparison: does the peer show value? Answer sm_confirm_reply(); NULL: yes. */
	void (*confirm_request)(struct sm *sm, uint32_t value, void *user_data);
	/* Every pairing or encryption ended, the peer's too (a Pairing Request to a peripheral,
	 * a Security Request to a central), told before sm_pair()'s fn. May be NULL. */
	void (*security_changed)(struct sm *sm, int err, const struct sm_result *r,
				 void *user_data);
};

/* The Security Manager of c (central or peripheral, from the link's role): takes the link's
 * SMP channel (from the responder that refuses pairing). -EBUSY when c has one already,
 * -ENOTCONN, -EINVAL for a bad config, -ENOMEM. */
int sm_new(struct hci_conn *c, const struct sm_config *cfg, const struct sm_callbacks *cb,
	   void *user_data, otad_destroy_fn destroy, struct sm **ret);
/* A pending sm_pair() gets -ECANCELED; the channel refuses pairing again. NULL-safe; never
 * from inside the Security Manager's own callbacks (defer it). */
struct sm *sm_free(struct sm *sm);
/* The Security Manager on c, or NULL. */
struct sm *sm_from_conn(struct hci_conn *c);
struct hci_conn *sm_get_conn(const struct sm *sm);

/* The key stored for this peer (NULL: none): a central encrypts with it instead of pairing, a
 * peripheral answers the controller's key requests with it. */
void sm_set_ltk(struct sm *sm, const struct sm_ltk *ltk);

/* Raises the link to level (enum sm_level): a central encrypts with the stored key when it
 * gives level (a refused key ends with -EKEYREJECTED, not a new pairing), else pairs; a
 * peripheral sends a Security Request. fn reports the end once. 0; -EALREADY when the link has
 * level already (fn not called); -EBUSY while another sm_pair() is pending; -ETIMEDOUT after an
 * SMP timeout; -ENOTCONN; -EINVAL. */
int sm_pair(struct sm *sm, uint8_t level, sm_done_fn fn, void *user_data, otad_destroy_fn destroy);
/* The user's answers to passkey_request (passkey > 999999: -EINVAL) and confirm_request (no:
 * pairing fails). -EALREADY when nothing asked. */
int sm_passkey_reply(struct sm *sm, uint32_t passkey);
int sm_confirm_reply(struct sm *sm, bool yes);
/* Fails a pairing in progress (Pairing Failed: Unspecified Reason, or Passkey Entry Failed /
 * Numeric Comparison Failed while the user is asked); its end is -ECANCELED. */
int sm_cancel(struct sm *sm);

/* For tests: the SMP timeout, 30 s by default (Vol 3 Part H 3.4). */
void sm_set_timeout(struct sm *sm, uint64_t usec);

/* "Confirm Value Failed" for 0x04, ... (the same text as sm_strerror of bt/sm-pdu.h) */
const char *sm_reason_str(uint8_t reason);
