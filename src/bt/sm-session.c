/* sm-session.c — one pairing procedure as initiator or responder (Core 5.4 Vol 3 Part H 2.3 to
 * 2.4, 3.5, 3.6): phase 1 (feature exchange), phase 2 (LE Secure Connections over P-256 with
 * f4/f5/f6/g2, or LE legacy with c1/s1), the encryption the initiator starts, phase 3 (key
 * distribution). Key distribution lives in sm-keydist.c. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/sm-crypto.h"
#include "bt/sm-method.h"
#include "bt/sm-p256.h"
#include "bt/sm-pdu.h"
#include "bt/sm-session-private.h"
#include "util/macro.h"

#define PASSKEY_ROUNDS 20 /* 2.3.5.6.3: one round per bit of the 20-bit passkey */

/* ---- plumbing ---- */

bool sm_session_rand(void *buf, size_t n)
{
	return RAND_bytes(buf, (int)n) == 1;
}

void sm_session_mask_key(uint8_t key[SM_KEY_LEN], uint8_t key_size)
{
	/* 2.3.4: a key shorter than 128 bits keeps its least significant octets */
	if (key_size < SM_KEY_LEN)
		memset(key + key_size, 0, SM_KEY_LEN - key_size);
}

void sm_session_send(struct sm_session *s, const struct sm_pdu *p)
{
	uint8_t out[SM_PDU_MAX];
	size_t n = sm_pdu_encode(p, out);

	if (n)
		s->ops.send(out, n, s->user_data);
}

void sm_session_send_value(struct sm_session *s, uint8_t code, const uint8_t v[16])
{
	struct sm_pdu p = {.code = code};

	memcpy(p.value, v, 16);
	sm_session_send(s, &p);
}

void sm_session_finish(struct sm_session *s, int err, const struct sm_result *r)
{
	if (s->state == ST_DONE)
		return;
	s->state = ST_DONE;
	s->asking_passkey = s->asking_confirm = false;
	s->ops.done(err, r, s->user_data);
}

/* Ends the pairing on our side: Pairing Failed with reason (3.5.5). Always returns false. */
bool sm_session_fail(struct sm_session *s, uint8_t reason, const char *why)
{
	struct sm_pdu p = {.code = SM_PAIRING_FAILED, .reason = reason};
	struct sm_result r = {.level = SM_LEVEL_NONE, .reason = reason, .why = why};

	if (s->state == ST_DONE)
		return false;
	if (why != s->why)
		snprintf(s->why, sizeof(s->why), "%s", why);
	r.why = s->why;
	sm_session_send(s, &p);
	sm_session_finish(s, -EACCES, &r);
	return false;
}

static bool unexpected(struct sm_session *s, uint8_t code)
{
	snprintf(s->why, sizeof(s->why), "unexpected %s", sm_code_str(code));
	return sm_session_fail(s, SM_ERR_UNSPECIFIED, s->why);
}

/* ---- phase 1: Pairing Request and Response (3.5.1, 3.5.2) ---- */

static uint8_t our_auth_req(const struct sm_session *s, uint8_t peer_auth)
{
	uint8_t a = s->p.cfg.legacy_only ? 0 : SM_AUTH_SC;

	if (s->p.cfg.bonding && (s->p.initiator || (peer_auth & SM_AUTH_BONDING)))
		a |= SM_AUTH_BONDING;
	if (s->p.cfg.level >= SM_LEVEL_AUTHENTICATED)
		a |= SM_AUTH_MITM;
	return a;
}

/* The method, key size and security both PDUs agree on; false when pairing failed. */
static bool negotiate(struct sm_session *s)
{
	const struct sm_config *cfg = &s->p.cfg;
	uint8_t ks;

	if (sm_key_size(s->req.max_key_size, s->rsp.max_key_size, &ks) < 0)
		return sm_session_fail(s, SM_ERR_ENC_KEY_SIZE, "maximum key size outside 7..16");
	if (ks < cfg->min_key_size) {
		snprintf(s->why, sizeof(s->why), "key size %u octets, at least %u required", ks,
			 cfg->min_key_size);
		return sm_session_fail(s, SM_ERR_ENC_KEY_SIZE, s->why);
	}
	s->key_size = ks;
	s->sc = sm_pairing_is_sc(&s->req, &s->rsp);
	if (!s->sc && !cfg->legacy && !cfg->legacy_only)
		return sm_session_fail(
			s, SM_ERR_AUTH_REQUIREMENTS,
			"peer has no LE Secure Connections, legacy pairing not allowed");
	s->method = sm_pairing_method(&s->req, &s->rsp);
	if (s->method == SM_METHOD_OOB)
		return sm_session_fail(s, SM_ERR_OOB_NOT_AVAILABLE, "no out of band data");
	s->sec = sm_security_of(s->method, s->sc, ks);
	if (s->sec.level < cfg->level) {
		snprintf(s->why, sizeof(s->why), "%s gives security level %u, %u required",
			 sm_method_str(s->method), s->sec.level, cfg->level);
		return sm_session_fail(s, SM_ERR_AUTH_REQUIREMENTS, s->why);
	}
	s->bonded = (s->req.auth_req & s->rsp.auth_req & SM_AUTH_BONDING_MASK) == SM_AUTH_BONDING;
	sm_keydist_setup(s);
	return true;
}

int sm_session_start(struct sm_session *s)
{
	struct sm_pdu p = {.code = SM_PAIRING_REQUEST};
	uint8_t dist = s->p.cfg.bonding ? SM_DIST_ENC_KEY | SM_DIST_ID_KEY : 0;

	if (!s->p.initiator || s->state != ST_IDLE)
		return -EALREADY;
	p.pairing = (struct sm_pairing){
		.io_cap = s->p.cfg.io_cap,
		.oob = SM_OOB_NOT_PRESENT,
		.auth_req = our_auth_req(s, 0),
		.max_key_size = 16,
		/* ours: the identity; an LTK of ours would serve only with roles reversed */
		.init_key_dist = s->p.cfg.bonding && s->p.cfg.has_identity ? SM_DIST_ID_KEY : 0,
		.resp_key_dist = dist,
	};
	s->req = p.pairing;
	s->preq_len = sm_pdu_encode(&p, s->preq);
	s->state = ST_RSP;
	s->ops.send(s->preq, s->preq_len, s->user_data);
	return 0;
}

static void got_request(struct sm_session *s, const struct sm_pdu *in, const uint8_t *raw)
{
	struct sm_pdu p = {.code = SM_PAIRING_RESPONSE};
	uint8_t ours = SM_DIST_ENC_KEY | (s->p.cfg.has_identity ? SM_DIST_ID_KEY : 0);

	if (s->p.initiator || s->state != ST_IDLE) {
		unexpected(s, in->code);
		return;
	}
	memcpy(s->preq, raw, SM_PAIRING_LEN);
	s->req = in->pairing;
	p.pairing = (struct sm_pairing){
		.io_cap = s->p.cfg.io_cap,
		.oob = SM_OOB_NOT_PRESENT,
		.auth_req = our_auth_req(s, in->pairing.auth_req),
		.max_key_size = 16,
		/* 3.6.1: what the initiator offers and asks for, of what we know (no CSRK) */
		.init_key_dist = in->pairing.init_key_dist & (SM_DIST_ENC_KEY | SM_DIST_ID_KEY),
		.resp_key_dist = in->pairing.resp_key_dist & ours,
	};
	if (!(p.pairing.auth_req & SM_AUTH_BONDING))
		p.pairing.init_key_dist = p.pairing.resp_key_dist = 0;
	s->rsp = p.pairing;
	if (!negotiate(s))
		return;
	sm_pdu_encode(&p, s->pres);
	s->ops.send(s->pres, SM_PAIRING_LEN, s->user_data);
	if (s->sc) {
		s->state = ST_PUBKEY;
		return;
	}
	s->state = ST_CONFIRM;
	sm_legacy_begin(s);
}

static void got_response(struct sm_session *s, const struct sm_pdu *in, const uint8_t *raw)
{
	if (!s->p.initiator || s->state != ST_RSP) {
		unexpected(s, in->code);
		return;
	}
	memcpy(s->pres, raw, SM_PAIRING_LEN);
	s->rsp = in->pairing;
	/* 3.6.1: the responder may only take away from the distribution asked for */
	if ((s->rsp.init_key_dist & ~s->req.init_key_dist) ||
	    (s->rsp.resp_key_dist & ~s->req.resp_key_dist)) {
		sm_session_fail(s, SM_ERR_INVALID_PARAMS,
				"response distributes keys not asked for");
		return;
	}
	if (!negotiate(s))
		return;
	if (s->sc) {
		s->state = ST_PUBKEY;
		sm_sc_send_public_key(s);
		return;
	}
	s->state = ST_CONFIRM;
	sm_legacy_begin(s);
}

/* ---- passkeys (2.3.5.3, 2.3.5.6.3) ---- */

/* Gets the passkey of a Passkey Entry method: displayed here, or asked for. The caller goes on
 * once s->passkey_known (sm_session_passkey() may come later). */
void sm_session_setup_passkey(struct sm_session *s)
{
	enum sm_passkey_role role = sm_method_passkey_role(s->method, s->p.initiator);
	uint32_t r = 0;

	if (role == SM_PASSKEY_DISPLAY) {
		if (s->p.cfg.fixed_passkey)
			r = s->p.cfg.passkey;
		else if (!sm_session_rand(&r, sizeof(r)))
			r = 0;
		s->passkey = r % 1000000;
		s->passkey_known = true;
		s->ops.passkey_display(s->passkey, s->user_data);
		return;
	}
	s->asking_passkey = true;
	s->ops.passkey_request(s->user_data);
}

int sm_session_passkey(struct sm_session *s, uint32_t passkey)
{
	if (!s->asking_passkey)
		return -EALREADY;
	if (passkey > 999999)
		return -EINVAL;
	s->asking_passkey = false;
	s->passkey = passkey;
	s->passkey_known = true;
	if (s->sc)
		sm_sc_passkey_ready(s);
	else
		sm_legacy_passkey_ready(s);
	return 0;
}

int sm_session_confirm(struct sm_session *s, bool yes)
{
	if (!s->asking_confirm)
		return -EALREADY;
	s->asking_confirm = false;
	if (!yes) {
		sm_session_fail(s, SM_ERR_NUMERIC_COMPARISON_FAILED, "numeric comparison rejected");
		return 0;
	}
	sm_sc_confirmed(s);
	return 0;
}

bool sm_session_asking(const struct sm_session *s)
{
	return s->asking_passkey || s->asking_confirm;
}

void sm_session_abort(struct sm_session *s, uint8_t reason)
{
	struct sm_pdu p = {.code = SM_PAIRING_FAILED, .reason = reason};
	struct sm_result r = {.level = SM_LEVEL_NONE, .reason = reason, .why = "cancelled"};

	if (s->state == ST_DONE)
		return;
	if (s->state != ST_IDLE)
		sm_session_send(s, &p);
	sm_session_finish(s, -ECANCELED, &r);
}

/* ---- PDUs in ---- */

static void got_failed(struct sm_session *s, uint8_t reason)
{
	struct sm_result r = {.level = SM_LEVEL_NONE, .reason = reason, .remote = true};

	snprintf(s->why, sizeof(s->why), "the peer failed pairing: %s", sm_strerror(reason));
	r.why = s->why;
	sm_session_finish(s, -EACCES, &r);
}

void sm_session_recv(struct sm_session *s, const uint8_t *pdu, size_t len)
{
	const char *why = NULL;
	struct sm_pdu p;
	int r;

	if (s->state == ST_DONE)
		return;
	r = sm_pdu_decode(pdu, len, &p, &why);
	if (r == -EOPNOTSUPP) {
		/* 3.3: a reserved code fails pairing with Command Not Supported */
		sm_session_fail(s, SM_ERR_CMD_NOT_SUPPORTED, why ? why : "unknown command");
		return;
	}
	if (r < 0) {
		sm_session_fail(s, SM_ERR_INVALID_PARAMS, why ? why : "malformed PDU");
		return;
	}
	switch (p.code) {
	case SM_PAIRING_REQUEST:
		got_request(s, &p, pdu);
		break;
	case SM_PAIRING_RESPONSE:
		got_response(s, &p, pdu);
		break;
	case SM_PAIRING_FAILED:
		got_failed(s, p.reason);
		break;
	case SM_PAIRING_CONFIRM:
	case SM_PAIRING_RANDOM:
		if (s->state == ST_IDLE || s->state == ST_RSP || s->state == ST_PUBKEY)
			unexpected(s, p.code);
		else if (s->sc)
			sm_sc_recv(s, &p);
		else
			sm_legacy_recv(s, &p);
		break;
	case SM_PAIRING_PUBLIC_KEY:
	case SM_PAIRING_DHKEY_CHECK:
		if (s->sc && s->state != ST_IDLE && s->state != ST_RSP)
			sm_sc_recv(s, &p);
		else
			unexpected(s, p.code);
		break;
	case SM_SECURITY_REQUEST:
	case SM_KEYPRESS_NOTIFY:
		break; /* 3.6.7: a pairing in progress ignores a Security Request */
	default:
		if (s->state == ST_KEYS) {
			sm_keydist_recv(s, &p);
		} else if (s->state == ST_ENCRYPT && s->n_early < ARRAY_SIZE(s->early)) {
			memcpy(s->early[s->n_early], pdu, len);
			s->early_len[s->n_early++] = (uint8_t)len;
		} else {
			unexpected(s, p.code);
		}
		break;
	}
}

/* ---- encryption ---- */

void sm_session_encrypted(struct sm_session *s, uint8_t status, uint8_t key_size)
{
	struct sm_result r = {.level = SM_LEVEL_NONE, .hci_status = status};

	if (s->state != ST_ENCRYPT)
		return;
	if (status) {
		snprintf(s->why, sizeof(s->why), "encryption failed: HCI status 0x%02x", status);
		r.why = s->why;
		sm_session_finish(s, -EIO, &r);
		return;
	}
	s->state = ST_KEYS;
	sm_keydist_start(s);
	for (unsigned i = 0; i < s->n_early && s->state == ST_KEYS; i++)
		sm_session_recv(s, s->early[i], s->early_len[i]);
	s->n_early = 0;
}

bool sm_session_ltk(const struct sm_session *s, uint16_t ediv, const uint8_t rand[8],
		    struct sm_ltk *ret)
{
	static const uint8_t zero[8];

	/* 2.4.4.1 (STK) and 2.3.5.6.5 (LTK of Secure Connections): EDIV and Rand are 0 */
	if (s->p.initiator || s->state != ST_ENCRYPT || ediv != 0 || memcmp(rand, zero, 8) != 0)
		return false;
	*ret = s->link_key;
	return true;
}

/* ---- lifetime ---- */

int sm_session_new(const struct sm_session_params *p, const struct sm_session_ops *ops,
		   void *user_data, struct sm_session **ret)
{
	struct sm_session *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->p = *p;
	s->ops = *ops;
	s->user_data = user_data;
	s->state = ST_IDLE;
	*ret = s;
	return 0;
}

struct sm_session *sm_session_free(struct sm_session *s)
{
	if (!s)
		return NULL;
	sm_p256_key_free(s->key);
	/* the keys and nonces are secrets: wipe them before the memory goes back */
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
	return NULL;
}
