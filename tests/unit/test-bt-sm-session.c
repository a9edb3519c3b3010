/* test-bt-sm-session.c — two pairing sessions (src/bt/sm-session.c), an initiator and a
 * responder, wired to each other through a queue that plays the link and the controllers'
 * encryption: every method of LE Secure Connections and of LE legacy pairing, key distribution
 * both ways, and the failures (wrong passkey, rejected comparison, key size, security level,
 * legacy refused, malformed and out-of-order PDUs, an invalid public key), with the PDUs a
 * scripted peer sees checked byte for byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bt/sm-crypto.h"
#include "bt/sm-p256.h"
#include "bt/sm-pdu.h"
#include "bt/sm-session.h"
#include "otad/bt-sm.h"

struct side {
	struct sm_session *s;
	struct side *peer;
	bool initiator;
	/* what the session did */
	bool done;
	int err;
	struct sm_result r;
	char why[96];
	unsigned sent[16]; /* PDUs sent, by code */
	uint8_t last[SM_PDU_MAX];
	size_t last_len;
	bool shown, asked_passkey, asked_confirm;
	uint32_t passkey, compare;
	bool encrypt_asked;
	struct sm_ltk enc_key;
	/* how the user answers */
	bool type_peer_passkey; /* type what the peer displayed */
	uint32_t typed;
	bool reject;
	bool scripted; /* no session: the test reads last[] */
};

/* The link: PDUs in flight, in order; an encryption request as the last entry. */
struct msg {
	struct side *to;
	uint8_t pdu[SM_PDU_MAX];
	size_t len;
	bool encrypt; /* the controllers encrypt: the responder's key request, both told */
};
static struct msg queue[256];
static unsigned q_head, q_tail;

static void q_push(struct side *to, const uint8_t *pdu, size_t len, bool encrypt)
{
	struct msg *m = &queue[q_tail++ % 256];

	assert_true(q_tail - q_head < 256);
	m->to = to;
	if (len)
		memcpy(m->pdu, pdu, len);
	m->len = len;
	m->encrypt = encrypt;
}

static void on_send(const uint8_t *pdu, size_t len, void *ud)
{
	struct side *me = ud;

	assert_true(len >= 1 && len <= SM_PDU_MAX);
	if (pdu[0] < 16)
		me->sent[pdu[0]]++;
	memcpy(me->last, pdu, len);
	me->last_len = len;
	if (!me->peer->scripted)
		q_push(me->peer, pdu, len, false);
}

static void on_encrypt(const struct sm_ltk *key, void *ud)
{
	struct side *me = ud;

	assert_true(me->initiator);
	me->encrypt_asked = true;
	me->enc_key = *key;
	q_push(me->peer, NULL, 0, true);
}

static void on_display(uint32_t passkey, void *ud)
{
	struct side *me = ud;

	me->shown = true;
	me->passkey = passkey;
}

static void on_passkey_request(void *ud)
{
	struct side *me = ud;

	me->asked_passkey = true; /* answered by pump() */
}

static void on_confirm_request(uint32_t value, void *ud)
{
	struct side *me = ud;

	me->asked_confirm = true;
	me->compare = value;
}

static void on_done(int err, const struct sm_result *r, void *ud)
{
	struct side *me = ud;

	assert_false(me->done);
	me->done = true;
	me->err = err;
	me->r = *r;
	snprintf(me->why, sizeof(me->why), "%s", r->why ? r->why : "");
}

static const struct sm_session_ops ops = {
	.send = on_send,
	.encrypt = on_encrypt,
	.passkey_display = on_display,
	.passkey_request = on_passkey_request,
	.confirm_request = on_confirm_request,
	.done = on_done,
};

static const struct bt_addr addr_i = {BT_ADDR_LE_PUBLIC, {0x66, 0x55, 0x44, 0x33, 0x22, 0xc1}};
static const struct bt_addr addr_r = {BT_ADDR_LE_RANDOM, {0x01, 0x02, 0x03, 0x04, 0x05, 0xc6}};

static void make(struct side *me, struct side *peer, bool initiator, const struct sm_config *cfg)
{
	struct sm_session_params p = {.initiator = initiator, .ia = addr_i, .ra = addr_r};

	p.cfg = *cfg;
	if (!p.cfg.level)
		p.cfg.level = SM_LEVEL_UNAUTHENTICATED;
	if (!p.cfg.min_key_size)
		p.cfg.min_key_size = 16;
	me->peer = peer;
	me->initiator = initiator;
	assert_int_equal(sm_session_new(&p, &ops, me, &me->s), 0);
}

static void answer_user(struct side *me)
{
	if (me->asked_passkey && me->peer->shown) {
		me->asked_passkey = false;
		assert_int_equal(sm_session_passkey(me->s, me->type_peer_passkey ? me->peer->passkey
										 : me->typed),
				 0);
	} else if (me->asked_passkey && !me->type_peer_passkey && me->typed) {
		me->asked_passkey = false; /* both input: the user types one passkey twice */
		assert_int_equal(sm_session_passkey(me->s, me->typed), 0);
	} else if (me->asked_confirm) {
		me->asked_confirm = false;
		assert_int_equal(sm_session_confirm(me->s, !me->reject), 0);
	}
}

/* Delivers what is in flight and answers the users until nothing moves. */
static void pump(struct side *a, struct side *b)
{
	for (unsigned guard = 0; guard < 1000; guard++) {
		if (q_head != q_tail) {
			struct msg m = queue[q_head++ % 256];
			struct sm_ltk k;
			static const uint8_t zero[8];

			if (!m.encrypt) {
				sm_session_recv(m.to->s, m.pdu, m.len);
				continue;
			}
			/* the responder's controller asks for the key: the same as the
			 * initiator's, or the encryption fails (MIC failure) */
			if (!sm_session_ltk(m.to->s, 0, zero, &k) ||
			    memcmp(k.key, m.to->peer->enc_key.key, 16) != 0) {
				sm_session_encrypted(m.to->peer->s, 0x3d, 0);
				continue;
			}
			sm_session_encrypted(m.to->s, 0, k.key_size);
			sm_session_encrypted(m.to->peer->s, 0, k.key_size);
			continue;
		}
		if (a->asked_passkey || a->asked_confirm)
			answer_user(a);
		else if (b->asked_passkey || b->asked_confirm)
			answer_user(b);
		else
			return;
	}
	fail_msg("pairing did not settle");
}

static int setup(void **state)
{
	q_head = q_tail = 0;
	return 0;
}

struct pair {
	struct side i, r;
};

static void run(struct pair *p, const struct sm_config *ci, const struct sm_config *cr)
{
	make(&p->i, &p->r, true, ci);
	make(&p->r, &p->i, false, cr);
	assert_int_equal(sm_session_start(p->i.s), 0);
	pump(&p->i, &p->r);
	assert_true(p->i.done);
	assert_true(p->r.done);
}

static void end(struct pair *p)
{
	p->i.s = sm_session_free(p->i.s);
	p->r.s = sm_session_free(p->r.s);
}

static struct sm_config identity(uint8_t io, uint8_t seed)
{
	struct sm_config c = {.io_cap = io, .bonding = true, .has_identity = true};

	memset(c.irk, seed, sizeof(c.irk));
	c.identity =
		seed == 0x11 ? addr_i : (struct bt_addr){BT_ADDR_LE_PUBLIC, {seed, 2, 3, 4, 5, 6}};
	return c;
}

static void assert_paired(struct pair *p, uint8_t level)
{
	assert_int_equal(p->i.err, 0);
	assert_int_equal(p->r.err, 0);
	assert_int_equal(p->i.r.level, level);
	assert_int_equal(p->r.r.level, level);
	assert_int_equal(p->i.r.key_size, 16);
	assert_true(p->i.r.paired);
	assert_true(p->i.encrypt_asked);
	/* both keep the same LTK, the one the link was encrypted with */
	assert_true(p->i.r.keys.has_ltk);
	assert_true(p->r.r.keys.has_ltk);
	assert_memory_equal(p->i.r.keys.ltk.key, p->r.r.keys.ltk.key, 16);
	assert_int_equal(p->i.r.keys.ltk.ediv, p->r.r.keys.ltk.ediv);
	assert_memory_equal(p->i.r.keys.ltk.rand, p->r.r.keys.ltk.rand, 8);
}

static void test_sc_just_works_distributes_identities_both_ways(void **state)
{
	struct sm_config ci = identity(SM_IO_NO_INPUT_NO_OUTPUT, 0x11);
	struct sm_config cr = identity(SM_IO_NO_INPUT_NO_OUTPUT, 0x22);
	struct pair p = {0};

	run(&p, &ci, &cr);
	assert_paired(&p, SM_LEVEL_UNAUTHENTICATED);
	assert_true(p.i.r.keys.ltk.sc);
	assert_false(p.i.r.keys.ltk.authenticated);
	assert_memory_equal(p.i.enc_key.key, p.i.r.keys.ltk.key, 16);
	/* Secure Connections: no Encryption Information, no EDIV/Rand */
	assert_int_equal(p.r.sent[SM_ENCRYPTION_INFO] + p.i.sent[SM_ENCRYPTION_INFO], 0);
	assert_int_equal(p.i.r.keys.ltk.ediv, 0);
	/* each got the other's IRK and identity address */
	assert_true(p.i.r.keys.has_irk);
	assert_memory_equal(p.i.r.keys.irk, cr.irk, 16);
	assert_memory_equal(&p.i.r.keys.identity, &cr.identity, sizeof(cr.identity));
	assert_true(p.r.r.keys.has_irk);
	assert_memory_equal(p.r.r.keys.irk, ci.irk, 16);
	assert_memory_equal(&p.r.r.keys.identity, &ci.identity, sizeof(ci.identity));
	assert_int_equal(p.i.sent[SM_PAIRING_CONFIRM], 0); /* the responder commits alone */
	assert_int_equal(p.r.sent[SM_PAIRING_CONFIRM], 1);
	assert_false(p.i.shown || p.r.shown);
	end(&p);
}

static void test_sc_numeric_comparison_shows_one_value_on_both(void **state)
{
	struct sm_config ci = {
		.io_cap = SM_IO_DISPLAY_YES_NO, .bonding = true, .level = SM_LEVEL_AUTHENTICATED};
	struct sm_config cr = {.io_cap = SM_IO_KEYBOARD_DISPLAY, .bonding = true};
	struct pair p = {0};

	run(&p, &ci, &cr);
	assert_paired(&p, SM_LEVEL_SC);
	assert_int_equal(p.i.compare, p.r.compare);
	assert_true(p.i.compare <= 999999);
	assert_true(p.i.r.keys.ltk.authenticated);
	assert_false(p.i.r.keys.has_irk); /* nobody had an identity to give */
	end(&p);
}

static void test_sc_numeric_comparison_rejected_fails_both(void **state)
{
	struct sm_config ci = {.io_cap = SM_IO_DISPLAY_YES_NO, .level = SM_LEVEL_AUTHENTICATED};
	struct sm_config cr = {.io_cap = SM_IO_DISPLAY_YES_NO};
	struct pair p = {0};

	p.r.reject = true;
	run(&p, &ci, &cr);
	assert_int_equal(p.r.err, -EACCES);
	assert_int_equal(p.r.r.reason, SM_ERR_NUMERIC_COMPARISON_FAILED);
	assert_false(p.r.r.remote);
	assert_int_equal(p.i.err, -EACCES);
	assert_int_equal(p.i.r.reason, SM_ERR_NUMERIC_COMPARISON_FAILED);
	assert_true(p.i.r.remote);
	assert_false(p.i.encrypt_asked);
	end(&p);
}

static void test_sc_passkey_responder_displays_initiator_types(void **state)
{
	struct sm_config ci = {
		.io_cap = SM_IO_KEYBOARD_ONLY, .bonding = true, .level = SM_LEVEL_SC};
	struct sm_config cr = {.io_cap = SM_IO_DISPLAY_ONLY,
			       .bonding = true,
			       .fixed_passkey = true,
			       .passkey = 123456};
	struct pair p = {0};

	p.i.type_peer_passkey = true;
	run(&p, &ci, &cr);
	assert_paired(&p, SM_LEVEL_SC);
	assert_true(p.r.shown);
	assert_int_equal(p.r.passkey, 123456);
	/* 2.3.5.6.3: twenty rounds, one confirm and one random each way per bit */
	assert_int_equal(p.i.sent[SM_PAIRING_CONFIRM], 20);
	assert_int_equal(p.r.sent[SM_PAIRING_RANDOM], 20);
	end(&p);
}

static void test_sc_passkey_initiator_displays_random_passkey(void **state)
{
	struct sm_config ci = {.io_cap = SM_IO_KEYBOARD_DISPLAY, .level = SM_LEVEL_AUTHENTICATED};
	struct sm_config cr = {.io_cap = SM_IO_KEYBOARD_ONLY};
	struct pair p = {0};

	p.r.type_peer_passkey = true;
	run(&p, &ci, &cr);
	assert_int_equal(p.i.err, 0);
	assert_int_equal(p.r.err, 0);
	assert_true(p.i.shown);
	assert_true(p.i.passkey <= 999999);
	assert_int_equal(p.i.r.level, SM_LEVEL_SC);
	assert_false(p.i.r.bonded); /* no bonding asked: no keys to keep */
	assert_false(p.i.r.keys.has_ltk);
	end(&p);
}

static void test_sc_wrong_passkey_fails_at_the_first_wrong_bit(void **state)
{
	struct sm_config ci = {.io_cap = SM_IO_KEYBOARD_ONLY, .level = SM_LEVEL_AUTHENTICATED};
	struct sm_config cr = {
		.io_cap = SM_IO_DISPLAY_ONLY, .fixed_passkey = true, .passkey = 123456};
	struct pair p = {0};

	p.i.typed = 123456 ^ 0x8; /* bit 3 differs: the fourth round fails */
	run(&p, &ci, &cr);
	/* the responder sees the initiator's commitment fail and says so at once */
	assert_int_equal(p.r.err, -EACCES);
	assert_int_equal(p.r.r.reason, SM_ERR_CONFIRM_VALUE_FAILED);
	assert_string_equal(p.r.why, "confirm value mismatch: wrong passkey");
	assert_int_equal(p.i.err, -EACCES);
	assert_int_equal(p.i.r.reason, SM_ERR_CONFIRM_VALUE_FAILED);
	assert_true(p.i.r.remote);
	assert_int_equal(p.i.sent[SM_PAIRING_CONFIRM], 4);
	assert_int_equal(p.r.sent[SM_PAIRING_RANDOM], 3);
	assert_int_equal(p.r.sent[SM_PAIRING_FAILED], 1);
	assert_false(p.i.encrypt_asked);
	end(&p);
}

static void test_sc_passkey_both_input(void **state)
{
	struct sm_config ci = {.io_cap = SM_IO_KEYBOARD_ONLY, .level = SM_LEVEL_AUTHENTICATED};
	struct sm_config cr = {.io_cap = SM_IO_KEYBOARD_ONLY};
	struct pair p = {0};

	p.i.typed = p.r.typed = 654321;
	run(&p, &ci, &cr);
	assert_int_equal(p.i.err, 0);
	assert_int_equal(p.r.err, 0);
	assert_int_equal(p.r.r.level, SM_LEVEL_SC);
	end(&p);
}

static void test_legacy_just_works_distributes_the_responders_ltk(void **state)
{
	struct sm_config ci = identity(SM_IO_NO_INPUT_NO_OUTPUT, 0x11);
	struct sm_config cr = identity(SM_IO_NO_INPUT_NO_OUTPUT, 0x22);
	struct pair p = {0};

	ci.legacy = true;
	cr.legacy_only = true;
	run(&p, &ci, &cr);
	assert_paired(&p, SM_LEVEL_UNAUTHENTICATED);
	assert_false(p.i.r.keys.ltk.sc);
	/* the link ran on the STK; the LTK kept is the one the responder sent */
	assert_memory_not_equal(p.i.enc_key.key, p.i.r.keys.ltk.key, 16);
	assert_int_equal(p.r.sent[SM_ENCRYPTION_INFO], 1);
	assert_int_equal(p.r.sent[SM_CENTRAL_IDENT], 1);
	assert_int_equal(p.i.sent[SM_ENCRYPTION_INFO], 0);
	assert_int_equal(p.i.sent[SM_PAIRING_PUBLIC_KEY], 0);
	assert_true(p.i.r.keys.has_irk);
	assert_true(p.r.r.keys.has_irk);
	end(&p);
}

static void test_legacy_passkey_and_wrong_passkey(void **state)
{
	struct sm_config ci = {.io_cap = SM_IO_KEYBOARD_ONLY,
			       .legacy = true,
			       .bonding = true,
			       .level = SM_LEVEL_AUTHENTICATED};
	struct sm_config cr = {.io_cap = SM_IO_DISPLAY_ONLY,
			       .legacy_only = true,
			       .bonding = true,
			       .fixed_passkey = true,
			       .passkey = 999999};
	struct pair p = {0}, q = {0};

	p.i.type_peer_passkey = true;
	run(&p, &ci, &cr);
	assert_paired(&p, SM_LEVEL_AUTHENTICATED);
	assert_true(p.i.r.keys.ltk.authenticated);
	end(&p);

	q_head = q_tail = 0;
	q.i.typed = 1;
	run(&q, &ci, &cr);
	assert_int_equal(q.r.err, -EACCES);
	assert_int_equal(q.r.r.reason, SM_ERR_CONFIRM_VALUE_FAILED);
	assert_int_equal(q.i.r.reason, SM_ERR_CONFIRM_VALUE_FAILED);
	assert_true(q.i.r.remote);
	end(&q);
}

static void test_legacy_refused_unless_allowed(void **state)
{
	struct sm_config ci = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT};
	struct sm_config cr = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT, .legacy_only = true};
	struct pair p = {0};

	run(&p, &ci, &cr);
	assert_int_equal(p.i.err, -EACCES);
	assert_int_equal(p.i.r.reason, SM_ERR_AUTH_REQUIREMENTS);
	assert_string_equal(p.i.why,
			    "peer has no LE Secure Connections, legacy pairing not allowed");
	assert_true(p.r.r.remote);
	end(&p);
}

static void test_level_not_reachable_fails_auth_requirements(void **state)
{
	/* the device wants MITM protection, the gateway has no IO: Just Works is all there is */
	struct sm_config ci = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT};
	struct sm_config cr = {.io_cap = SM_IO_DISPLAY_ONLY, .level = SM_LEVEL_AUTHENTICATED};
	struct pair p = {0};

	run(&p, &ci, &cr);
	assert_int_equal(p.r.err, -EACCES);
	assert_int_equal(p.r.r.reason, SM_ERR_AUTH_REQUIREMENTS);
	assert_string_equal(p.r.why, "Just Works gives security level 2, 3 required");
	assert_int_equal(p.i.r.reason, SM_ERR_AUTH_REQUIREMENTS);
	assert_true(p.i.r.remote);
	assert_int_equal(p.r.sent[SM_PAIRING_RESPONSE], 0);
	end(&p);
}

/* ---- scripted peers: exact bytes ---- */

static void script(struct side *me, struct side *peer, bool initiator, const struct sm_config *c)
{
	peer->scripted = true;
	make(me, peer, initiator, c);
}

static void test_responder_answers_request_byte_exact(void **state)
{
	struct sm_config c = identity(SM_IO_DISPLAY_YES_NO, 0x22);
	struct side me = {0}, peer = {0};
	/* KeyboardDisplay, no OOB, bonding + MITM + SC, 16 octets, initiator offers EncKey, IdKey
	 * and SignKey and asks for all three */
	const uint8_t req[] = {0x01, 0x04, 0x00, 0x0d, 0x10, 0x07, 0x07};

	script(&me, &peer, false, &c);
	sm_session_recv(me.s, req, sizeof(req));
	assert_false(me.done);
	/* DisplayYesNo, bonding + SC (no MITM of its own), 16; no CSRK either way */
	assert_int_equal(me.last_len, 7);
	assert_memory_equal(me.last, ((uint8_t[]){0x02, 0x01, 0x00, 0x09, 0x10, 0x03, 0x03}), 7);
	sm_session_free(me.s);
}

static void test_initiator_request_byte_exact(void **state)
{
	struct sm_config c = {
		.io_cap = SM_IO_KEYBOARD_DISPLAY, .bonding = true, .level = SM_LEVEL_AUTHENTICATED};
	struct side me = {0}, peer = {0};

	script(&me, &peer, true, &c);
	assert_int_equal(sm_session_start(me.s), 0);
	assert_int_equal(sm_session_start(me.s), -EALREADY);
	/* no identity of ours to give: we ask for the responder's LTK and identity only */
	assert_memory_equal(me.last, ((uint8_t[]){0x01, 0x04, 0x00, 0x0d, 0x10, 0x00, 0x03}), 7);
	sm_session_free(me.s);
}

static void expect_failed(struct side *me, uint8_t reason, const char *why)
{
	assert_true(me->done);
	assert_int_equal(me->err, -EACCES);
	assert_int_equal(me->r.reason, reason);
	assert_false(me->r.remote);
	assert_int_equal(me->last_len, 2);
	assert_int_equal(me->last[0], SM_PAIRING_FAILED);
	assert_int_equal(me->last[1], reason);
	if (why)
		assert_string_equal(me->why, why);
}

static void test_key_size_below_minimum_refused(void **state)
{
	struct sm_config c = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT};
	struct side me = {0}, peer = {0}, ini = {0}, rpeer = {0};

	/* responder: an initiator offering 7 octets */
	script(&me, &peer, false, &c);
	sm_session_recv(me.s, (uint8_t[]){0x01, 0x03, 0x00, 0x09, 0x07, 0x00, 0x00}, 7);
	expect_failed(&me, SM_ERR_ENC_KEY_SIZE, "key size 7 octets, at least 16 required");
	sm_session_free(me.s);

	/* initiator: a responder answering 10 of 16, allowed down to 12 */
	c.min_key_size = 12;
	script(&ini, &rpeer, true, &c);
	assert_int_equal(sm_session_start(ini.s), 0);
	sm_session_recv(ini.s, (uint8_t[]){0x02, 0x03, 0x00, 0x09, 0x0a, 0x00, 0x00}, 7);
	expect_failed(&ini, SM_ERR_ENC_KEY_SIZE, "key size 10 octets, at least 12 required");
	sm_session_free(ini.s);
}

static void test_malformed_and_unexpected_pdus_fail_with_a_reason(void **state)
{
	struct sm_config c = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT};
	struct side a = {0}, pa = {0}, b = {0}, pb = {0}, d = {0}, pd = {0};

	script(&a, &pa, false, &c);
	sm_session_recv(a.s, (uint8_t[]){0x01, 0x03, 0x00}, 3);
	expect_failed(&a, SM_ERR_INVALID_PARAMS, NULL);
	assert_true(strstr(a.why, "Pairing Request") != NULL);
	/* nothing more after the end */
	a.last_len = 0;
	sm_session_recv(a.s, (uint8_t[]){0x01, 0x03, 0x00, 0x09, 0x10, 0x00, 0x00}, 7);
	assert_int_equal(a.last_len, 0);
	sm_session_free(a.s);

	script(&b, &pb, false, &c);
	sm_session_recv(
		b.s, (uint8_t[]){0x04, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, 17);
	expect_failed(&b, SM_ERR_UNSPECIFIED, "unexpected Pairing Random");
	sm_session_free(b.s);

	script(&d, &pd, false, &c);
	sm_session_recv(d.s, (uint8_t[]){0x7f, 0}, 2);
	expect_failed(&d, SM_ERR_CMD_NOT_SUPPORTED, NULL);
	sm_session_free(d.s);
}

static void test_public_key_off_the_curve_fails(void **state)
{
	struct sm_config c = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT};
	struct side me = {0}, peer = {0};
	uint8_t pk[65] = {SM_PAIRING_PUBLIC_KEY};

	script(&me, &peer, false, &c);
	sm_session_recv(me.s, (uint8_t[]){0x01, 0x03, 0x00, 0x09, 0x10, 0x00, 0x00}, 7);
	assert_int_equal(me.last[0], SM_PAIRING_RESPONSE);
	memset(pk + 1, 0x01, 64); /* (0x0101..., 0x0101...) is no point of P-256 */
	sm_session_recv(me.s, pk, sizeof(pk));
	expect_failed(&me, SM_ERR_DHKEY_CHECK_FAILED, "peer's public key is not on P-256");
	sm_session_free(me.s);
}

static void test_peer_failure_ends_with_its_reason(void **state)
{
	struct sm_config c = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT};
	struct side me = {0}, peer = {0};

	script(&me, &peer, true, &c);
	assert_int_equal(sm_session_start(me.s), 0);
	me.last_len = 0;
	sm_session_recv(me.s, (uint8_t[]){SM_PAIRING_FAILED, SM_ERR_PAIRING_NOT_SUPPORTED}, 2);
	assert_true(me.done);
	assert_int_equal(me.err, -EACCES);
	assert_int_equal(me.r.reason, SM_ERR_PAIRING_NOT_SUPPORTED);
	assert_true(me.r.remote);
	assert_string_equal(me.why, "the peer failed pairing: Pairing Not Supported");
	assert_int_equal(me.last_len, 0); /* no Pairing Failed answers a Pairing Failed */
	sm_session_free(me.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sc_just_works_distributes_identities_both_ways, setup),
		cmocka_unit_test_setup(test_sc_numeric_comparison_shows_one_value_on_both, setup),
		cmocka_unit_test_setup(test_sc_numeric_comparison_rejected_fails_both, setup),
		cmocka_unit_test_setup(test_sc_passkey_responder_displays_initiator_types, setup),
		cmocka_unit_test_setup(test_sc_passkey_initiator_displays_random_passkey, setup),
		cmocka_unit_test_setup(test_sc_wrong_passkey_fails_at_the_first_wrong_bit, setup),
		cmocka_unit_test_setup(test_sc_passkey_both_input, setup),
		cmocka_unit_test_setup(test_legacy_just_works_distributes_the_responders_ltk,
				       setup),
		cmocka_unit_test_setup(test_legacy_passkey_and_wrong_passkey, setup),
		cmocka_unit_test_setup(test_legacy_refused_unless_allowed, setup),
		cmocka_unit_test_setup(test_level_not_reachable_fails_auth_requirements, setup),
		cmocka_unit_test_setup(test_responder_answers_request_byte_exact, setup),
		cmocka_unit_test_setup(test_initiator_request_byte_exact, setup),
		cmocka_unit_test_setup(test_key_size_below_minimum_refused, setup),
		cmocka_unit_test_setup(test_malformed_and_unexpected_pdus_fail_with_a_reason,
				       setup),
		cmocka_unit_test_setup(test_public_key_off_the_curve_fails, setup),
		cmocka_unit_test_setup(test_peer_failure_ends_with_its_reason, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
