/* sm-session-private.h — the fields of struct sm_session and the calls between the files that
 * run its phases: sm-session.c (phase 1, PDUs in, passkeys), sm-sc.c (LE Secure Connections),
 * sm-legacy.c (LE legacy pairing), sm-keydist.c (phase 3). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/sm-method.h"
#include "bt/sm-p256.h"
#include "bt/sm-pdu.h"
#include "bt/sm-session.h"

enum sm_state {
	ST_IDLE,    /* responder: waiting for the Pairing Request; initiator: not started */
	ST_RSP,	    /* initiator: waiting for the Pairing Response */
	ST_PUBKEY,  /* waiting for the peer's public key */
	ST_CONFIRM, /* waiting for the peer's Pairing Confirm */
	ST_RANDOM,  /* waiting for the peer's Pairing Random */
	ST_CHECK,   /* waiting for the peer's DHKey Check */
	ST_ENCRYPT, /* waiting for the link to be encrypted with link_key */
	ST_KEYS,    /* key distribution */
	ST_DONE,
};

struct sm_session {
	struct sm_session_params p;
	struct sm_session_ops ops;
	void *user_data;
	enum sm_state state;
	char why[96];

	/* phase 1 */
	uint8_t preq[SM_PDU_MAX], pres[SM_PDU_MAX];
	size_t preq_len;
	struct sm_pairing req, rsp;
	enum sm_method method;
	bool sc, bonded;
	uint8_t key_size;
	struct sm_security sec;

	/* phase 2 */
	struct sm_p256_key *key;
	uint8_t peer_pk[SM_P256_PUBLIC_LEN];
	uint8_t dhkey[SM_DHKEY_LEN];
	uint8_t nonce[16], peer_nonce[16], peer_confirm[16], peer_check[16];
	bool have_peer_confirm, have_peer_check, sent_confirm;
	uint32_t passkey;
	bool passkey_known, asking_passkey, asking_confirm, confirmed;
	unsigned round;		/* Passkey Entry round, 0..19 */
	uint8_t tk[SM_KEY_LEN]; /* legacy */
	uint8_t mackey[SM_KEY_LEN];
	struct sm_ltk link_key; /* what the link is encrypted with: the STK or the LTK */

	/* phase 3: what is still to come from the peer, what we send */
	uint8_t recv_dist, send_dist;
	bool got_enc_info, got_id_info;
	struct sm_keys keys;
	/* key PDUs that came before our side saw the link encrypted (HCI events and ACL data
	 * take separate paths), taken once it is */
	uint8_t early[6][SM_PDU_MAX];
	uint8_t early_len[6];
	unsigned n_early;
};

bool sm_session_rand(void *buf, size_t n);
void sm_session_mask_key(uint8_t key[SM_KEY_LEN], uint8_t key_size);
void sm_session_send(struct sm_session *s, const struct sm_pdu *p);
void sm_session_send_value(struct sm_session *s, uint8_t code, const uint8_t v[16]);
void sm_session_finish(struct sm_session *s, int err, const struct sm_result *r);
bool sm_session_fail(struct sm_session *s, uint8_t reason, const char *why);
void sm_session_setup_passkey(struct sm_session *s);

/* sm-sc.c */
void sm_sc_send_public_key(struct sm_session *s);
void sm_sc_recv(struct sm_session *s, const struct sm_pdu *p);
void sm_sc_passkey_ready(struct sm_session *s);
void sm_sc_confirmed(struct sm_session *s);

/* sm-legacy.c */
void sm_legacy_begin(struct sm_session *s);
void sm_legacy_recv(struct sm_session *s, const struct sm_pdu *p);
void sm_legacy_passkey_ready(struct sm_session *s);

/* sm-keydist.c */
void sm_keydist_setup(struct sm_session *s);
void sm_keydist_start(struct sm_session *s);
void sm_keydist_recv(struct sm_session *s, const struct sm_pdu *p);
