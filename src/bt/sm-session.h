/* sm-session.h — one pairing procedure (Core 5.4 Vol 3 Part H 2.3 to 2.4, 3.5, 3.6), initiator
 * or responder: the Pairing Request/Response exchange, LE Secure Connections (P-256 keys,
 * Just Works, Numeric Comparison, Passkey Entry) and LE legacy pairing, the encryption it asks
 * for, and key distribution. A pure state machine: PDUs, encryption results and the user's
 * answers go in, PDUs and requests come out through ops; no I/O, no clock (the SMP timeout is the
 * caller's, sm.c). Two sessions wired to each other pair. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/bt-sm.h"
#include "otad/bt.h"

struct sm_session;

struct sm_session_ops {
	/* One SMP PDU to queue on the channel. */
	void (*send)(const uint8_t *pdu, size_t len, void *user_data);
	/* Initiator: encrypt the link with key (an STK or the Secure Connections LTK, EDIV and Rand
	 * 0), then call sm_session_encrypted(). */
	void (*encrypt)(const struct sm_ltk *key, void *user_data);
	void (*passkey_display)(uint32_t passkey, void *user_data);
	/* answer sm_session_passkey() */
	void (*passkey_request)(void *user_data);
	/* answer sm_session_confirm() */
	void (*confirm_request)(uint32_t value, void *user_data);
	/* The end, once (err as sm_done_fn's; level, key_size and keys filled on success). Nothing
	 * else is called after it; the session may be freed from inside. */
	void (*done)(int err, const struct sm_result *r, void *user_data);
};

struct sm_session_params {
	bool initiator;
	struct bt_addr ia, ra; /* the initiator's and responder's addresses on this link */
	struct sm_config cfg;  /* normalised: level, min_key_size set */
	/* a Security Request's AuthReq to honour (initiator): asks for MITM, bonding */
	uint8_t peer_auth_req;
};

int sm_session_new(const struct sm_session_params *p, const struct sm_session_ops *ops,
		   void *user_data, struct sm_session **ret);
struct sm_session *sm_session_free(struct sm_session *s);

/* Initiator: sends the Pairing Request. */
int sm_session_start(struct sm_session *s);
/* A PDU from the peer; a responder's session starts with the Pairing Request. */
void sm_session_recv(struct sm_session *s, const uint8_t *pdu, size_t len);
/* The link's encryption with the session's key ended: status 0 or the HCI code. */
void sm_session_encrypted(struct sm_session *s, uint8_t status, uint8_t key_size);
/* Responder: the key for the controller's LE Long Term Key Request (EDIV and Rand 0 during
 * pairing). false when the session has none (yet). */
bool sm_session_ltk(const struct sm_session *s, uint16_t ediv, const uint8_t rand[8],
		    struct sm_ltk *ret);
/* The user's answers: -EALREADY when not asked, -EINVAL for a passkey above 999999. */
int sm_session_passkey(struct sm_session *s, uint32_t passkey);
int sm_session_confirm(struct sm_session *s, bool yes);
/* Fails the pairing with reason (Pairing Failed sent), done(-ECANCELED). */
void sm_session_abort(struct sm_session *s, uint8_t reason);
/* True while the session waits for the user. */
bool sm_session_asking(const struct sm_session *s);
