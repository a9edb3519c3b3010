/* sm-keydist.c — phase 3 of pairing, key distribution over the encrypted link (Core 5.4 Vol 3
 * Part H 3.6): the responder's keys first, then the initiator's, each in the order Encryption
 * Information, Central Identification, Identity Information, Identity Address Information,
 * Signing Information. Secure Connections distribute no LTK (both derived it, 2.3.5.6.5); we
 * distribute no CSRK and discard one we get. */
#include <stdio.h>
#include <string.h>

#include "bt/sm-crypto.h"
#include "bt/sm-session-private.h"

void sm_keydist_setup(struct sm_session *s)
{
	/* 3.6.1: the Pairing Response's fields are what both distribute */
	uint8_t mask = SM_DIST_ID_KEY | SM_DIST_SIGN_KEY | (s->sc ? 0 : SM_DIST_ENC_KEY);
	uint8_t init = s->rsp.init_key_dist & mask, resp = s->rsp.resp_key_dist & mask;

	s->send_dist = s->p.initiator ? init : resp;
	s->recv_dist = s->p.initiator ? resp : init;
}

static void complete(struct sm_session *s)
{
	struct sm_result r = {
		.level = s->sec.level,
		.key_size = s->key_size,
		.paired = true,
		.bonded = s->bonded,
	};

	if (s->sc && s->bonded) {
		s->keys.has_ltk = true;
		s->keys.ltk = s->link_key;
	}
	if (s->bonded)
		r.keys = s->keys;
	sm_session_finish(s, 0, &r);
}

static bool send_keys(struct sm_session *s)
{
	struct sm_pdu p = {.code = SM_CENTRAL_IDENT};
	struct sm_ltk ltk = {.key_size = s->key_size, .authenticated = s->sec.authenticated};

	if (s->send_dist & SM_DIST_ENC_KEY) {
		/* 2.4.2.3 (legacy): a fresh random LTK, EDIV and Rand */
		if (!sm_session_rand(ltk.key, sizeof(ltk.key)) ||
		    !sm_session_rand(&ltk.ediv, sizeof(ltk.ediv)) ||
		    !sm_session_rand(ltk.rand, sizeof(ltk.rand)))
			return sm_session_fail(s, SM_ERR_UNSPECIFIED, "no random numbers");
		sm_session_mask_key(ltk.key, s->key_size);
		sm_session_send_value(s, SM_ENCRYPTION_INFO, ltk.key);
		p.central.ediv = ltk.ediv;
		memcpy(p.central.rand, ltk.rand, 8);
		sm_session_send(s, &p);
		if (!s->p.initiator) { /* the key the central will encrypt with */
			s->keys.has_ltk = true;
			s->keys.ltk = ltk;
		}
	}
	if (s->send_dist & SM_DIST_ID_KEY) {
		sm_session_send_value(s, SM_IDENTITY_INFO, s->p.cfg.irk);
		p = (struct sm_pdu){.code = SM_IDENTITY_ADDR_INFO, .identity = s->p.cfg.identity};
		sm_session_send(s, &p);
	}
	s->send_dist = 0;
	return true;
}

static void all_received(struct sm_session *s)
{
	if (s->p.initiator && !send_keys(s))
		return;
	complete(s);
}

void sm_keydist_start(struct sm_session *s)
{
	if (!s->p.initiator && !send_keys(s))
		return;
	if (s->recv_dist == 0)
		all_received(s);
}

static bool identity_valid(const struct bt_addr *a)
{
	/* 3.6.5: a public device address or a static random address */
	return a->type == BT_ADDR_LE_PUBLIC || sm_addr_is_static(a);
}

/* One key PDU in its place; false when it is out of order (pairing failed then). */
static bool take_key(struct sm_session *s, const struct sm_pdu *p)
{
	uint8_t *want = &s->recv_dist;

	switch (p->code) {
	case SM_ENCRYPTION_INFO:
		if (!(*want & SM_DIST_ENC_KEY) || s->got_enc_info)
			return false;
		s->got_enc_info = true;
		if (s->p.initiator)
			memcpy(s->keys.ltk.key, p->value, SM_KEY_LEN);
		return true;
	case SM_CENTRAL_IDENT:
		if (!(*want & SM_DIST_ENC_KEY) || !s->got_enc_info)
			return false;
		*want &= (uint8_t)~SM_DIST_ENC_KEY;
		if (s->p.initiator) { /* the initiator's own LTK serves only with roles reversed */
			s->keys.has_ltk = true;
			s->keys.ltk.ediv = p->central.ediv;
			memcpy(s->keys.ltk.rand, p->central.rand, 8);
			s->keys.ltk.key_size = s->key_size;
			s->keys.ltk.authenticated = s->sec.authenticated;
			sm_session_mask_key(s->keys.ltk.key, s->key_size);
		}
		return true;
	case SM_IDENTITY_INFO:
		if (!(*want & SM_DIST_ID_KEY) || (*want & SM_DIST_ENC_KEY) || s->got_id_info)
			return false;
		s->got_id_info = true;
		memcpy(s->keys.irk, p->value, SM_KEY_LEN);
		return true;
	case SM_IDENTITY_ADDR_INFO:
		if (!(*want & SM_DIST_ID_KEY) || !s->got_id_info)
			return false;
		*want &= (uint8_t)~SM_DIST_ID_KEY;
		s->keys.has_irk = true;
		s->keys.identity = p->identity;
		return true;
	case SM_SIGNING_INFO:
		if (!(*want & SM_DIST_SIGN_KEY) || (*want & (SM_DIST_ENC_KEY | SM_DIST_ID_KEY)))
			return false;
		*want &= (uint8_t)~SM_DIST_SIGN_KEY;
		return true;
	default:
		return false;
	}
}

void sm_keydist_recv(struct sm_session *s, const struct sm_pdu *p)
{
	if (!take_key(s, p)) {
		snprintf(s->why, sizeof(s->why), "unexpected %s during key distribution",
			 sm_code_str(p->code));
		sm_session_fail(s, SM_ERR_UNSPECIFIED, s->why);
		return;
	}
	if (p->code == SM_IDENTITY_ADDR_INFO && !identity_valid(&p->identity)) {
		sm_session_fail(s, SM_ERR_INVALID_PARAMS,
				"identity address is neither public nor static random");
		return;
	}
	if (s->recv_dist == 0)
		all_received(s);
}
