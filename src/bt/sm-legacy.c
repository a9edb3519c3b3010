/* sm-legacy.c — phase 2 of LE legacy pairing (Core 5.4 Vol 3 Part H 2.3.5.2 to 2.3.5.5): the TK
 * (0 for Just Works, the passkey), the confirm values of c1, the STK of s1. Used only where the
 * owner allows legacy pairing: Just Works and a six-digit passkey give no protection against a
 * passive eavesdropper of the pairing. */
#include <stdio.h>
#include <string.h>

#include "bt/sm-crypto.h"
#include "bt/sm-session-private.h"
#include "util/bytes.h"

static bool fail_crypto(struct sm_session *s)
{
	return sm_session_fail(s, SM_ERR_UNSPECIFIED, "cryptographic function failed");
}

static bool unexpected(struct sm_session *s, uint8_t code)
{
	snprintf(s->why, sizeof(s->why), "unexpected %s", sm_code_str(code));
	return sm_session_fail(s, SM_ERR_UNSPECIFIED, s->why);
}

static int confirm_of(struct sm_session *s, const uint8_t r[16], uint8_t out[16])
{
	return sm_c1(s->tk, r, s->preq, s->pres, &s->p.ia, &s->p.ra, out);
}

static bool send_confirm(struct sm_session *s)
{
	uint8_t c[16];

	if (!sm_session_rand(s->nonce, sizeof(s->nonce)) || confirm_of(s, s->nonce, c) < 0)
		return fail_crypto(s);
	s->sent_confirm = true;
	sm_session_send_value(s, SM_PAIRING_CONFIRM, c);
	return true;
}

void sm_legacy_passkey_ready(struct sm_session *s)
{
	/* 2.3.5.3: the TK is the passkey, zero-padded to 128 bits */
	memset(s->tk, 0, sizeof(s->tk));
	put_le32(s->tk, s->passkey);
	if (s->state != ST_CONFIRM || s->sent_confirm)
		return;
	if (s->p.initiator)
		send_confirm(s);
	else if (s->have_peer_confirm && send_confirm(s))
		s->state = ST_RANDOM;
}

void sm_legacy_begin(struct sm_session *s)
{
	if (s->method == SM_METHOD_JUST_WORKS) {
		s->passkey = 0; /* 2.3.5.2: TK 0 */
		s->passkey_known = true;
		sm_legacy_passkey_ready(s);
		return;
	}
	sm_session_setup_passkey(s);
	if (s->passkey_known)
		sm_legacy_passkey_ready(s);
}

static void got_confirm(struct sm_session *s, const uint8_t v[16])
{
	if (s->state != ST_CONFIRM || s->have_peer_confirm ||
	    (s->p.initiator && !s->sent_confirm)) {
		unexpected(s, SM_PAIRING_CONFIRM);
		return;
	}
	memcpy(s->peer_confirm, v, 16);
	s->have_peer_confirm = true;
	if (!s->p.initiator) {
		if (s->passkey_known && !s->sent_confirm && send_confirm(s))
			s->state = ST_RANDOM;
		return;
	}
	s->state = ST_RANDOM;
	sm_session_send_value(s, SM_PAIRING_RANDOM, s->nonce);
}

static void got_random(struct sm_session *s, const uint8_t v[16])
{
	const uint8_t *mrand, *srand;
	uint8_t c[16], stk[SM_KEY_LEN];

	if (s->state != ST_RANDOM) {
		unexpected(s, SM_PAIRING_RANDOM);
		return;
	}
	memcpy(s->peer_nonce, v, 16);
	if (confirm_of(s, s->peer_nonce, c) < 0) {
		fail_crypto(s);
		return;
	}
	if (memcmp(c, s->peer_confirm, 16) != 0) {
		sm_session_fail(s, SM_ERR_CONFIRM_VALUE_FAILED,
				s->method == SM_METHOD_JUST_WORKS
					? "confirm value mismatch"
					: "confirm value mismatch: wrong passkey");
		return;
	}
	if (!s->p.initiator)
		sm_session_send_value(s, SM_PAIRING_RANDOM, s->nonce);
	mrand = s->p.initiator ? s->nonce : s->peer_nonce;
	srand = s->p.initiator ? s->peer_nonce : s->nonce;
	/* 2.4.4.1: STK = s1(TK, Srand, Mrand), shortened to the key size */
	if (sm_s1(s->tk, srand, mrand, stk) < 0) {
		fail_crypto(s);
		return;
	}
	sm_session_mask_key(stk, s->key_size);
	s->link_key =
		(struct sm_ltk){.key_size = s->key_size, .authenticated = s->sec.authenticated};
	memcpy(s->link_key.key, stk, SM_KEY_LEN);
	s->state = ST_ENCRYPT;
	if (s->p.initiator)
		s->ops.encrypt(&s->link_key, s->user_data);
}

void sm_legacy_recv(struct sm_session *s, const struct sm_pdu *p)
{
	if (p->code == SM_PAIRING_CONFIRM)
		got_confirm(s, p->value);
	else if (p->code == SM_PAIRING_RANDOM)
		got_random(s, p->value);
	else
		unexpected(s, p->code);
}
