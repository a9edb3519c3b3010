/* sm-sc.c — phase 2 of LE Secure Connections pairing (Core 5.4 Vol 3 Part H 2.3.5.6): public
 * key exchange, authentication stage 1 (Just Works / Numeric Comparison 2.3.5.6.2, Passkey Entry
 * 2.3.5.6.3) and stage 2 (f5, the DHKey checks of f6, 2.3.5.6.5). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bt/sm-crypto.h"
#include "bt/sm-session-private.h"
#include "util/bytes.h"

static const uint8_t *local_x(const struct sm_session *s)
{
	return sm_p256_key_public(s->key); /* X is the first half */
}

/* PKax, PKbx, Na, Nb: the initiator's and responder's */
static const uint8_t *pka(const struct sm_session *s)
{
	return s->p.initiator ? local_x(s) : s->peer_pk;
}
static const uint8_t *pkb(const struct sm_session *s)
{
	return s->p.initiator ? s->peer_pk : local_x(s);
}
static const uint8_t *na(const struct sm_session *s)
{
	return s->p.initiator ? s->nonce : s->peer_nonce;
}
static const uint8_t *nb(const struct sm_session *s)
{
	return s->p.initiator ? s->peer_nonce : s->nonce;
}

static bool is_passkey(const struct sm_session *s)
{
	return sm_method_passkey_role(s->method, true) != SM_PASSKEY_NONE;
}

/* z of f4 in Passkey Entry round i: 0x80 | r_i (2.3.5.6.3) */
static uint8_t round_bit(const struct sm_session *s)
{
	return is_passkey(s) ? (uint8_t)(0x80 | ((s->passkey >> s->round) & 1)) : 0;
}

static bool fail_crypto(struct sm_session *s)
{
	return sm_session_fail(s, SM_ERR_UNSPECIFIED, "cryptographic function failed");
}

static bool unexpected(struct sm_session *s, uint8_t code)
{
	snprintf(s->why, sizeof(s->why), "unexpected %s", sm_code_str(code));
	return sm_session_fail(s, SM_ERR_UNSPECIFIED, s->why);
}

static bool ensure_key(struct sm_session *s)
{
	return s->key || sm_p256_key_new(&s->key) == 0 || fail_crypto(s);
}

void sm_sc_send_public_key(struct sm_session *s)
{
	struct sm_pdu p = {.code = SM_PAIRING_PUBLIC_KEY};

	if (!ensure_key(s))
		return;
	memcpy(p.public_key, sm_p256_key_public(s->key), SM_P256_PUBLIC_LEN);
	sm_session_send(s, &p);
}

/* Our confirm value: Just Works / Numeric Comparison (responder only) or this passkey round. */
static bool send_confirm(struct sm_session *s)
{
	uint8_t c[16];

	if (!sm_session_rand(s->nonce, sizeof(s->nonce)) ||
	    sm_f4(local_x(s), s->peer_pk, s->nonce, round_bit(s), c) < 0)
		return fail_crypto(s);
	s->sent_confirm = true;
	sm_session_send_value(s, SM_PAIRING_CONFIRM, c);
	return true;
}

/* The peer's confirm value against its nonce: f4(its X, our X, its nonce, z). */
static bool check_confirm(struct sm_session *s)
{
	uint8_t c[16];

	if (sm_f4(s->peer_pk, local_x(s), s->peer_nonce, round_bit(s), c) < 0)
		return fail_crypto(s);
	if (memcmp(c, s->peer_confirm, 16) != 0)
		return sm_session_fail(s, SM_ERR_CONFIRM_VALUE_FAILED,
				       is_passkey(s) ? "confirm value mismatch: wrong passkey"
						     : "confirm value mismatch");
	return true;
}

static void got_public_key(struct sm_session *s, const uint8_t pk[SM_P256_PUBLIC_LEN])
{
	int r;

	if (s->state != ST_PUBKEY) {
		unexpected(s, SM_PAIRING_PUBLIC_KEY);
		return;
	}
	/* 2.3.5.6.1: a key off the curve fails pairing (the invalid curve attack) */
	if (sm_p256_check_public(pk) < 0) {
		sm_session_fail(s, SM_ERR_DHKEY_CHECK_FAILED, "peer's public key is not on P-256");
		return;
	}
	memcpy(s->peer_pk, pk, SM_P256_PUBLIC_LEN);
	if (!s->p.initiator)
		sm_sc_send_public_key(s);
	if (s->state == ST_DONE || !ensure_key(s))
		return;
	r = sm_p256_dhkey(s->key, pk, s->dhkey);
	if (r == -EEXIST) {
		sm_session_fail(s, SM_ERR_DHKEY_CHECK_FAILED, "peer's public key is our own");
		return;
	}
	if (r < 0) {
		fail_crypto(s);
		return;
	}
	s->state = ST_CONFIRM;
	if (!is_passkey(s)) {
		/* 2.3.5.6.2: the responder commits to its nonce first */
		if (!s->p.initiator && send_confirm(s))
			s->state = ST_RANDOM;
		return;
	}
	s->round = 0;
	sm_session_setup_passkey(s);
	if (s->state == ST_CONFIRM && s->passkey_known)
		sm_sc_passkey_ready(s);
}

void sm_sc_passkey_ready(struct sm_session *s)
{
	if (s->state != ST_CONFIRM || s->sent_confirm || !s->passkey_known)
		return;
	if (s->p.initiator) {
		send_confirm(s);
		return;
	}
	if (s->have_peer_confirm && send_confirm(s))
		s->state = ST_RANDOM;
}

static void got_confirm(struct sm_session *s, const uint8_t v[16])
{
	if (s->state != ST_CONFIRM || s->have_peer_confirm) {
		unexpected(s, SM_PAIRING_CONFIRM);
		return;
	}
	memcpy(s->peer_confirm, v, 16);
	s->have_peer_confirm = true;
	if (!s->p.initiator) {
		/* Passkey Entry: the initiator's commitment first, then ours */
		if (!is_passkey(s))
			unexpected(s, SM_PAIRING_CONFIRM);
		else
			sm_sc_passkey_ready(s);
		return;
	}
	if (is_passkey(s) && !s->sent_confirm) {
		unexpected(s, SM_PAIRING_CONFIRM);
		return;
	}
	if (!is_passkey(s) && !sm_session_rand(s->nonce, sizeof(s->nonce))) {
		fail_crypto(s);
		return;
	}
	s->state = ST_RANDOM;
	sm_session_send_value(s, SM_PAIRING_RANDOM, s->nonce);
}

/* After stage 1: numeric comparison asks the user, Just Works and Passkey Entry go on. */
static void stage1_done(struct sm_session *s)
{
	uint32_t v;

	s->state = ST_CHECK;
	if (s->method != SM_METHOD_NUMERIC_COMPARISON) {
		sm_sc_confirmed(s);
		return;
	}
	if (sm_g2(pka(s), pkb(s), na(s), nb(s), &v) < 0) {
		fail_crypto(s);
		return;
	}
	s->asking_confirm = true;
	s->ops.confirm_request(v, s->user_data);
}

static void next_round(struct sm_session *s)
{
	s->round++;
	s->have_peer_confirm = s->sent_confirm = false;
	if (s->round < 20) {
		s->state = ST_CONFIRM;
		if (s->p.initiator)
			send_confirm(s);
		return;
	}
	stage1_done(s);
}

static void got_random(struct sm_session *s, const uint8_t v[16])
{
	if (s->state != ST_RANDOM) {
		unexpected(s, SM_PAIRING_RANDOM);
		return;
	}
	memcpy(s->peer_nonce, v, 16);
	/* the responder checks Cai (Passkey Entry) before it reveals its nonce; the initiator
	 * checks the responder's commitment against the nonce now revealed */
	if ((s->p.initiator || is_passkey(s)) && !check_confirm(s))
		return;
	if (!s->p.initiator)
		sm_session_send_value(s, SM_PAIRING_RANDOM, s->nonce);
	if (is_passkey(s))
		next_round(s);
	else
		stage1_done(s);
}

/* f5: MacKey and the LTK; r of f6: the passkey, or 0 (2.3.5.6.5). */
static bool stage2_keys(struct sm_session *s, uint8_t r[16])
{
	uint8_t ltk[SM_KEY_LEN];

	memset(r, 0, 16);
	if (is_passkey(s))
		put_le32(r, s->passkey);
	if (sm_f5(s->dhkey, na(s), nb(s), &s->p.ia, &s->p.ra, s->mackey, ltk) < 0)
		return fail_crypto(s);
	sm_session_mask_key(ltk, s->key_size);
	s->link_key = (struct sm_ltk){
		.key_size = s->key_size, .authenticated = s->sec.authenticated, .sc = true};
	memcpy(s->link_key.key, ltk, SM_KEY_LEN);
	return true;
}

/* Ea = f6(MacKey, Na, Nb, r, IOcapA, A, B) or Eb = f6(MacKey, Nb, Na, r, IOcapB, B, A). */
static bool check_value(struct sm_session *s, bool initiators, const uint8_t r[16], uint8_t out[16])
{
	uint8_t io[3];

	sm_pairing_iocap(initiators ? &s->req : &s->rsp, io);
	if (initiators ? sm_f6(s->mackey, na(s), nb(s), r, io, &s->p.ia, &s->p.ra, out)
		       : sm_f6(s->mackey, nb(s), na(s), r, io, &s->p.ra, &s->p.ia, out))
		return fail_crypto(s);
	return true;
}

/* The responder checks Ea, then answers Eb. */
static void responder_check(struct sm_session *s)
{
	uint8_t r[16], e[16];

	if (!stage2_keys(s, r) || !check_value(s, true, r, e))
		return;
	if (memcmp(e, s->peer_check, 16) != 0) {
		sm_session_fail(s, SM_ERR_DHKEY_CHECK_FAILED, "DHKey check value mismatch");
		return;
	}
	if (!check_value(s, false, r, e))
		return;
	s->state = ST_ENCRYPT;
	sm_session_send_value(s, SM_PAIRING_DHKEY_CHECK, e);
}

void sm_sc_confirmed(struct sm_session *s)
{
	uint8_t r[16], e[16];

	if (s->state != ST_CHECK)
		return;
	s->confirmed = true;
	if (!s->p.initiator) {
		if (s->have_peer_check)
			responder_check(s);
		return;
	}
	if (stage2_keys(s, r) && check_value(s, true, r, e))
		sm_session_send_value(s, SM_PAIRING_DHKEY_CHECK, e);
}

static void got_check(struct sm_session *s, const uint8_t v[16])
{
	uint8_t r[16], e[16];

	if (s->state != ST_CHECK || s->have_peer_check || (s->p.initiator && !s->confirmed)) {
		unexpected(s, SM_PAIRING_DHKEY_CHECK);
		return;
	}
	memcpy(s->peer_check, v, 16);
	s->have_peer_check = true;
	if (!s->p.initiator) {
		if (s->confirmed)
			responder_check(s);
		return;
	}
	memset(r, 0, sizeof(r));
	if (is_passkey(s))
		put_le32(r, s->passkey);
	if (!check_value(s, false, r, e))
		return;
	if (memcmp(e, v, 16) != 0) {
		sm_session_fail(s, SM_ERR_DHKEY_CHECK_FAILED, "DHKey check value mismatch");
		return;
	}
	s->state = ST_ENCRYPT;
	s->ops.encrypt(&s->link_key, s->user_data);
}

void sm_sc_recv(struct sm_session *s, const struct sm_pdu *p)
{
	switch (p->code) {
	case SM_PAIRING_PUBLIC_KEY:
		got_public_key(s, p->public_key);
		break;
	case SM_PAIRING_CONFIRM:
		got_confirm(s, p->value);
		break;
	case SM_PAIRING_RANDOM:
		got_random(s, p->value);
		break;
	case SM_PAIRING_DHKEY_CHECK:
		got_check(s, p->value);
		break;
	default:
		unexpected(s, p->code);
		break;
	}
}
