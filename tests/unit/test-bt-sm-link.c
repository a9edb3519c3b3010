/* test-bt-sm-link.c — the Security Manager on a link (src/bt/sm.c) against the scripted
 * controller (lib/fakectl.h), the peer's Security Manager played by a pairing session of its own
 * (sm-session.c) behind the controller: the host pairs as central and as peripheral, encrypts
 * with LE Enable Encryption and answers LE Long Term Key Requests, sets the link's level from
 * the Encryption Change, re-encrypts with a stored key (and reports a lost bond without pairing
 * again), starts on a Security Request (pairing, or the stored key), times out after the SMP
 * timeout, and gives the channel back to the responder that refuses pairing when it goes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bt/hci-pkt.h"
#include "bt/l2cap-pdu.h"
#include "bt/sm-pdu.h"
#include "bt/sm-session.h"
#include "lib/fakectl.h"
#include "otad/bt-hci.h"
#include "otad/bt-sm.h"
#include "otad/bt.h"
#include "util/bytes.h"

static const struct fake_ctrl ctrl = {.le_mtu = 100, .le_num = 4}; /* whole PDUs */
#define HANDLE 0x0042

/* The peer behind the controller. */
struct peer {
	struct fake *f;
	struct sm_session *s; /* NULL: the test scripts the peer's PDUs itself */
	bool initiator;
	bool done;
	int err;
	struct sm_result r;
	uint32_t shown;
	bool has_shown;
	uint32_t type; /* what the peer's user types */
	struct sm_ltk enc_key;
	/* what the host sent */
	uint8_t pdu[8][SM_PDU_MAX];
	size_t pdu_len[8];
	unsigned n_pdu;
	unsigned enable_encryption, ltk_replies, ltk_neg_replies;
	uint8_t enc_params[28], ltk_reply[16];
	uint8_t enc_status; /* the Encryption Change status the controller reports */
};

/* The host's side: what sm.c reported. */
struct host {
	struct sm *sm;
	bool done;
	int err;
	struct sm_result r;
	char why[96];
	unsigned changes;
	int change_err;
	uint8_t change_level;
	bool asked;
	uint32_t reply; /* typed at passkey_request, 0: leave it unanswered */
	uint32_t shown;
};

static void peer_send(const uint8_t *pdu, size_t len, void *ud)
{
	struct peer *p = ud;
	uint8_t b[4 + SM_PDU_MAX] = {(uint8_t)len, 0, L2CAP_CID_SMP, 0};

	memcpy(b + 4, pdu, len);
	fake_send_acl(p->f, HANDLE, b, (uint16_t)(4 + len));
}

static void encryption_change(struct fake *f, uint8_t status, bool enabled)
{
	uint8_t ev[4] = {status, HANDLE & 0xff, HANDLE >> 8, enabled}; /* 7.7.8 */

	fake_send_event(f, HCI_EV_ENCRYPT_CHANGE, ev, 4);
}

static void peer_encrypt(const struct sm_ltk *key, void *ud)
{
	struct peer *p = ud;
	uint8_t ev[13] = {HCI_LE_LTK_REQUEST, HANDLE & 0xff, HANDLE >> 8}; /* 7.7.65.5: 0, 0 */

	/* the peer is central: its controller starts encryption, ours asks the host for a key */
	p->enc_key = *key;
	fake_send_event(p->f, HCI_EV_LE_META, ev, 13);
}

static void peer_display(uint32_t passkey, void *ud)
{
	struct peer *p = ud;

	p->shown = passkey;
	p->has_shown = true;
}

static void peer_passkey_request(void *ud)
{
	struct peer *p = ud;

	assert_int_equal(sm_session_passkey(p->s, p->type), 0);
}

static void peer_confirm(uint32_t value, void *ud)
{
	struct peer *p = ud;

	assert_int_equal(sm_session_confirm(p->s, true), 0);
}

static void peer_done(int err, const struct sm_result *r, void *ud)
{
	struct peer *p = ud;

	p->done = true;
	p->err = err;
	p->r = *r;
}

static const struct sm_session_ops peer_ops = {
	.send = peer_send,
	.encrypt = peer_encrypt,
	.passkey_display = peer_display,
	.passkey_request = peer_passkey_request,
	.confirm_request = peer_confirm,
	.done = peer_done,
};

static void peer_make(struct peer *p, struct fake *f, bool initiator, const struct sm_config *cfg)
{
	struct hci_conn_info ci;
	struct sm_session_params sp = {.initiator = initiator, .cfg = *cfg};
	struct bt_addr us = {BT_ADDR_LE_PUBLIC, {0, 0x66, 0x55, 0x44, 0x33, 0x22}};

	hci_conn_get_info(f->conn, &ci);
	/* fakectl's controller: our public address c1:22:33:44:55:66 read as b[0..5] */
	memcpy(us.b, (uint8_t[]){0x66, 0x55, 0x44, 0x33, 0x22, 0xc1}, 6);
	sp.ia = initiator ? ci.peer : us;
	sp.ra = initiator ? us : ci.peer;
	if (!sp.cfg.level)
		sp.cfg.level = SM_LEVEL_UNAUTHENTICATED;
	if (!sp.cfg.min_key_size)
		sp.cfg.min_key_size = 16;
	p->f = f;
	p->initiator = initiator;
	assert_int_equal(sm_session_new(&sp, &peer_ops, p, &p->s), 0);
}

static void host_done(struct sm *sm, int err, const struct sm_result *r, void *ud)
{
	struct host *h = ud;

	assert_false(h->done);
	h->done = true;
	h->err = err;
	h->r = *r;
	snprintf(h->why, sizeof(h->why), "%s", r->why ? r->why : "");
}

static void host_changed(struct sm *sm, int err, const struct sm_result *r, void *ud)
{
	struct host *h = ud;

	h->changes++;
	h->change_err = err;
	h->change_level = r->level;
	if (!h->done) { /* a procedure the peer started: keep its result too */
		h->r = *r;
		snprintf(h->why, sizeof(h->why), "%s", r->why ? r->why : "");
	}
}

static void host_passkey_request(struct sm *sm, void *ud)
{
	struct host *h = ud;

	h->asked = true;
	if (h->reply)
		assert_int_equal(sm_passkey_reply(sm, h->reply), 0);
}

static void host_display(struct sm *sm, uint32_t passkey, void *ud)
{
	struct host *h = ud;

	h->shown = passkey;
}

static const struct sm_callbacks host_cb = {
	.passkey_display = host_display,
	.passkey_request = host_passkey_request,
	.security_changed = host_changed,
};

/* One packet from the host, played against the peer. */
static void handle(struct fake *f, struct peer *p, const struct fake_pkt *pkt)
{
	uint16_t op;

	if (pkt->type == H4_ACL) {
		uint8_t ncp[5] = {1, HANDLE & 0xff, HANDLE >> 8, 1, 0}; /* 7.7.19 */
		const uint8_t *pdu = pkt->data + 8;
		size_t len = pkt->len - 8;

		fake_send_event(f, HCI_EV_NUM_COMP_PKTS, ncp, 5);
		assert_int_equal(get_le16(pkt->data + 6), L2CAP_CID_SMP);
		if (p->n_pdu < 8) {
			memcpy(p->pdu[p->n_pdu], pdu, len);
			p->pdu_len[p->n_pdu++] = len;
		}
		if (p->s)
			sm_session_recv(p->s, pdu, len);
		return;
	}
	assert_int_equal(pkt->type, H4_CMD);
	op = get_le16(pkt->data);
	if (op == HCI_OP_LE_ENABLE_ENCRYPTION) {
		struct sm_ltk k;

		p->enable_encryption++;
		memcpy(p->enc_params, pkt->data + 3, 28);
		fake_cmd_status(f, op, 0);
		/* the peer's controller asks its host for the key of EDIV and Rand */
		if (p->s && sm_session_ltk(p->s, get_le16(pkt->data + 13), pkt->data + 5, &k) &&
		    memcmp(k.key, pkt->data + 15, 16) == 0) {
			encryption_change(f, 0, true);
			sm_session_encrypted(p->s, 0, k.key_size);
		} else {
			encryption_change(f, p->enc_status ? p->enc_status : 0x06, false);
		}
		return;
	}
	if (op == HCI_OP_LE_LTK_REQ_REPLY) {
		p->ltk_replies++;
		memcpy(p->ltk_reply, pkt->data + 5, 16);
		fake_cmd_complete(f, op, (uint8_t[]){0, HANDLE & 0xff, HANDLE >> 8}, 3);
		if (p->s && memcmp(p->ltk_reply, p->enc_key.key, 16) == 0) {
			encryption_change(f, 0, true);
			sm_session_encrypted(p->s, 0, p->enc_key.key_size);
		}
		return;
	}
	if (op == HCI_OP_LE_LTK_REQ_NEG_REPLY) {
		p->ltk_neg_replies++;
		fake_cmd_complete(f, op, (uint8_t[]){0, HANDLE & 0xff, HANDLE >> 8}, 3);
		return;
	}
	fake_ok(f, op);
}

/* Plays the controller and the peer until cond holds (2 s at most). */
#define DRIVE(f, p, cond)                                                                          \
	do {                                                                                       \
		for (uint64_t end_ = fake_now_ms() + 2000; !(cond) && fake_now_ms() < end_;) {     \
			if (fake_pump((f), 10)) {                                                  \
				struct fake_pkt pk_ = fake_next_pkt(f);                            \
				handle((f), (p), &pk_);                                            \
			}                                                                          \
		}                                                                                  \
		assert_true(cond);                                                                 \
	} while (0)

static void up_central(struct fake *f)
{
	fake_bring_up(f, &ctrl);
	fake_connect_as_central(f, HANDLE);
	fake_expect_cmd(f, HCI_OP_LE_READ_REMOTE_FEATURES);
	/* the peer's features never come: no data length or PHY upgrade to answer */
	fake_cmd_status(f, HCI_OP_LE_READ_REMOTE_FEATURES, 0);
}

static void host_make(struct fake *f, struct host *h, const struct sm_config *cfg)
{
	assert_int_equal(sm_new(f->conn, cfg, &host_cb, h, NULL, &h->sm), 0);
	assert_ptr_equal(sm_from_conn(f->conn), h->sm);
}

static void test_central_pairs_just_works_and_encrypts(void **state)
{
	struct fake *f = *state;
	struct sm_config hc = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT, .bonding = true};
	struct sm_config pc = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT, .bonding = true};
	struct host h = {0};
	struct peer p = {0};
	struct sm *again;

	up_central(f);
	host_make(f, &h, &hc);
	assert_int_equal(sm_new(f->conn, &hc, NULL, NULL, NULL, &again), -EBUSY);
	peer_make(&p, f, false, &pc);
	assert_int_equal(hci_conn_security(f->conn), SM_LEVEL_NONE);
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_UNAUTHENTICATED, host_done, &h, NULL), 0);
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_UNAUTHENTICATED, host_done, &h, NULL), -EBUSY);
	DRIVE(f, &p, h.done);
	assert_int_equal(h.err, 0);
	assert_true(p.done);
	assert_int_equal(p.err, 0);
	/* the Pairing Request: NoInputNoOutput, bonding + SC, 16 octets, LTK and IRK asked */
	assert_int_equal(p.pdu_len[0], 7);
	assert_memory_equal(p.pdu[0], ((uint8_t[]){0x01, 0x03, 0x00, 0x09, 0x10, 0x00, 0x03}), 7);
	/* LE Enable Encryption: Rand 0, EDIV 0 (7.8.24), the LTK both derived */
	assert_int_equal(p.enable_encryption, 1);
	assert_int_equal(get_le16(p.enc_params), HANDLE);
	assert_memory_equal(p.enc_params + 2, ((uint8_t[10]){0}), 10);
	assert_memory_equal(p.enc_params + 12, p.r.keys.ltk.key, 16);
	/* the link's level from the Encryption Change; keys for the caller to keep */
	assert_int_equal(h.r.level, SM_LEVEL_UNAUTHENTICATED);
	assert_int_equal(hci_conn_security(f->conn), SM_LEVEL_UNAUTHENTICATED);
	assert_int_equal(hci_conn_key_size(f->conn), 16);
	assert_true(h.r.paired);
	assert_true(h.r.bonded);
	assert_true(h.r.keys.has_ltk);
	assert_memory_equal(h.r.keys.ltk.key, p.r.keys.ltk.key, 16);
	assert_int_equal(h.changes, 1);
	/* what the link has is not asked for again */
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_UNAUTHENTICATED, host_done, &h, NULL), -EALREADY);
	sm_session_free(p.s);
	sm_free(h.sm);
}

static void test_central_passkey_entry(void **state)
{
	struct fake *f = *state;
	struct sm_config hc = {.io_cap = SM_IO_KEYBOARD_ONLY};
	struct sm_config pc = {.io_cap = SM_IO_DISPLAY_ONLY,
			       .fixed_passkey = true,
			       .passkey = 123456,
			       .level = SM_LEVEL_AUTHENTICATED};
	struct host h = {.reply = 123456};
	struct peer p = {0};

	up_central(f);
	host_make(f, &h, &hc);
	peer_make(&p, f, false, &pc);
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_AUTHENTICATED, host_done, &h, NULL), 0);
	DRIVE(f, &p, h.done);
	assert_true(h.asked);
	assert_int_equal(h.err, 0);
	assert_int_equal(h.r.level, SM_LEVEL_SC);
	assert_int_equal(hci_conn_security(f->conn), SM_LEVEL_SC);
	assert_false(h.r.bonded);
	sm_session_free(p.s);
	sm_free(h.sm);
}

static void test_central_wrong_passkey_fails_at_once(void **state)
{
	struct fake *f = *state;
	struct sm_config hc = {.io_cap = SM_IO_KEYBOARD_ONLY};
	struct sm_config pc = {
		.io_cap = SM_IO_DISPLAY_ONLY, .fixed_passkey = true, .passkey = 123456};
	struct host h = {.reply = 123457}; /* bit 0 differs: the first round fails */
	struct peer p = {0};

	up_central(f);
	host_make(f, &h, &hc);
	peer_make(&p, f, false, &pc);
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_AUTHENTICATED, host_done, &h, NULL), 0);
	DRIVE(f, &p, h.done);
	assert_int_equal(h.err, -EACCES);
	assert_int_equal(h.r.reason, SM_ERR_CONFIRM_VALUE_FAILED);
	assert_true(h.r.remote);
	assert_string_equal(sm_reason_str(h.r.reason), "Confirm Value Failed");
	assert_int_equal(p.enable_encryption, 0);
	assert_int_equal(hci_conn_security(f->conn), SM_LEVEL_NONE);
	/* Request, Public Key, one Confirm, one Random: no second try */
	assert_int_equal(p.n_pdu, 4);
	sm_session_free(p.s);
	sm_free(h.sm);
}

static void test_stored_key_reencrypts_and_a_lost_bond_is_reported(void **state)
{
	struct fake *f = *state;
	struct sm_config hc = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT, .bonding = true};
	struct sm_ltk k = {.ediv = 0x1234,
			   .rand = {1, 2, 3, 4, 5, 6, 7, 8},
			   .key_size = 16,
			   .authenticated = true,
			   .sc = false};
	struct host h = {0};
	struct peer p = {0};

	memset(k.key, 0xab, 16);
	up_central(f);
	host_make(f, &h, &hc);
	sm_set_ltk(h.sm, &k);
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_AUTHENTICATED, host_done, &h, NULL), 0);
	/* the peer has no key: its controller answers PIN or Key Missing */
	DRIVE(f, &p, h.done);
	assert_int_equal(p.enable_encryption, 1);
	assert_int_equal(get_le16(p.enc_params + 10), 0x1234);
	assert_memory_equal(p.enc_params + 2, k.rand, 8);
	assert_memory_equal(p.enc_params + 12, k.key, 16);
	assert_int_equal(h.err, -EKEYREJECTED);
	assert_int_equal(h.r.hci_status, 0x06);
	assert_false(h.r.paired);
	assert_int_equal(p.n_pdu, 0); /* no silent new pairing */
	assert_int_equal(hci_conn_security(f->conn), SM_LEVEL_NONE);
	sm_free(h.sm);
}

static void test_stored_key_gives_the_level_without_pairing(void **state)
{
	struct fake *f = *state;
	struct sm_config hc = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT, .bonding = true};
	struct sm_config pc = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT, .bonding = true};
	struct host h = {0};
	struct peer p = {0};
	struct sm_session *keep;

	/* pair once, keep the peer's session for its key */
	up_central(f);
	host_make(f, &h, &hc);
	peer_make(&p, f, false, &pc);
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_UNAUTHENTICATED, host_done, &h, NULL), 0);
	DRIVE(f, &p, h.done);
	assert_int_equal(h.err, 0);
	sm_free(h.sm);
	keep = p.s;
	p.s = NULL;

	/* the next link: the stored key encrypts, nothing goes over SMP */
	memset(&h, 0, sizeof(h));
	host_make(f, &h, &hc);
	sm_set_ltk(h.sm, &p.r.keys.ltk);
	p.n_pdu = 0;
	p.enable_encryption = 0;
	encryption_change(f, 0, false); /* 7.7.8 enabled = 0: the link is clear again */
	fake_pump(f, 50);
	assert_int_equal(hci_conn_security(f->conn), SM_LEVEL_NONE);
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_UNAUTHENTICATED, host_done, &h, NULL), 0);
	p.enc_status = 0;
	for (uint64_t end = fake_now_ms() + 2000; !h.done && fake_now_ms() < end;) {
		if (fake_pump(f, 10)) {
			struct fake_pkt pk = fake_next_pkt(f);

			if (pk.type == H4_CMD && get_le16(pk.data) == HCI_OP_LE_ENABLE_ENCRYPTION) {
				p.enable_encryption++;
				assert_memory_equal(pk.data + 15, p.r.keys.ltk.key, 16);
				fake_cmd_status(f, HCI_OP_LE_ENABLE_ENCRYPTION, 0);
				encryption_change(f, 0, true);
			} else {
				handle(f, &p, &pk);
			}
		}
	}
	assert_true(h.done);
	assert_int_equal(h.err, 0);
	assert_false(h.r.paired);
	assert_int_equal(h.r.level, SM_LEVEL_UNAUTHENTICATED);
	assert_int_equal(p.enable_encryption, 1);
	assert_int_equal(p.n_pdu, 0);
	sm_session_free(keep);
	sm_free(h.sm);
}

static void test_smp_timeout_ends_smp_on_the_link(void **state)
{
	struct fake *f = *state;
	struct sm_config hc = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT};
	struct host h = {0};
	struct peer p = {0}; /* scripted: never answers */
	uint64_t t0;

	up_central(f);
	host_make(f, &h, &hc);
	sm_set_timeout(h.sm, 200 * 1000);
	t0 = fake_now_ms();
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_UNAUTHENTICATED, host_done, &h, NULL), 0);
	DRIVE(f, &p, h.done);
	assert_true(fake_now_ms() - t0 >= 200);
	assert_int_equal(h.err, -ETIMEDOUT);
	assert_int_equal(p.n_pdu, 1);
	/* 3.4: no SMP command on this link any more, either way */
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_UNAUTHENTICATED, host_done, &h, NULL), -ETIMEDOUT);
	peer_send((uint8_t[]){SM_SECURITY_REQUEST, SM_AUTH_BONDING}, 2, &(struct peer){.f = f});
	assert_false(fake_pump(f, 100));
	sm_free(h.sm);
}

static void test_security_request_starts_pairing(void **state)
{
	struct fake *f = *state;
	struct sm_config hc = {.io_cap = SM_IO_DISPLAY_YES_NO, .bonding = true};
	struct host h = {0};
	struct peer p = {0};

	up_central(f);
	host_make(f, &h, &hc);
	/* the peripheral asks for MITM protection and bonding (3.6.7) */
	peer_send((uint8_t[]){SM_SECURITY_REQUEST, SM_AUTH_BONDING | SM_AUTH_MITM | SM_AUTH_SC}, 2,
		  &(struct peer){.f = f});
	DRIVE(f, &p, p.n_pdu == 1);
	assert_memory_equal(p.pdu[0], ((uint8_t[]){0x01, 0x01, 0x00, 0x0d, 0x10, 0x00, 0x03}), 7);
	/* the peripheral refuses: the procedure it asked for ends there */
	peer_send((uint8_t[]){SM_PAIRING_FAILED, SM_ERR_PAIRING_NOT_SUPPORTED}, 2,
		  &(struct peer){.f = f});
	DRIVE(f, &p, h.changes == 1);
	assert_int_equal(h.change_err, -EACCES);
	assert_int_equal(h.r.reason, SM_ERR_PAIRING_NOT_SUPPORTED);
	sm_free(h.sm);
}

static void test_security_request_reencrypts_with_the_stored_key(void **state)
{
	struct fake *f = *state;
	struct sm_config hc = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT, .bonding = true};
	struct sm_ltk k = {.ediv = 0xbeef,
			   .rand = {8, 7, 6, 5, 4, 3, 2, 1},
			   .key_size = 16,
			   .authenticated = true};
	struct host h = {0};
	struct peer p = {0};
	struct fake_pkt pk;

	memset(k.key, 0x5a, 16);
	up_central(f);
	host_make(f, &h, &hc);
	sm_set_ltk(h.sm, &k);
	/* 2.4.6: a Security Request asking for MITM; the stored key is authenticated: it serves,
	 * no pairing */
	peer_send((uint8_t[]){SM_SECURITY_REQUEST, SM_AUTH_BONDING | SM_AUTH_MITM}, 2,
		  &(struct peer){.f = f});
	pk = fake_expect_cmd(f, HCI_OP_LE_ENABLE_ENCRYPTION);
	assert_memory_equal(pk.data + 2, k.rand, 8);
	assert_int_equal(get_le16(pk.data + 10), 0xbeef);
	assert_memory_equal(pk.data + 12, k.key, 16);
	fake_cmd_status(f, HCI_OP_LE_ENABLE_ENCRYPTION, 0);
	encryption_change(f, 0, true);
	DRIVE(f, &p, h.changes == 1);
	assert_int_equal(h.change_err, 0);
	assert_int_equal(h.change_level, SM_LEVEL_AUTHENTICATED);
	assert_false(h.r.paired);
	assert_int_equal(p.n_pdu, 0);
	/* the link has what was asked: a second request changes nothing */
	peer_send((uint8_t[]){SM_SECURITY_REQUEST, SM_AUTH_BONDING | SM_AUTH_MITM}, 2,
		  &(struct peer){.f = f});
	assert_false(fake_pump(f, 100));
	sm_free(h.sm);
}

static void test_peripheral_pairs_with_its_fixed_passkey(void **state)
{
	struct fake *f = *state;
	struct sm_config hc = {.io_cap = SM_IO_DISPLAY_ONLY,
			       .bonding = true,
			       .level = SM_LEVEL_AUTHENTICATED,
			       .fixed_passkey = true,
			       .passkey = 123456};
	struct sm_config pc = {.io_cap = SM_IO_KEYBOARD_ONLY, .bonding = true};
	struct host h = {0};
	struct peer p = {.type = 123456};
	uint8_t rand[8] = {9};

	fake_bring_up(f, &ctrl);
	fake_connect_as_peripheral(f, HANDLE);
	host_make(f, &h, &hc);
	peer_make(&p, f, true, &pc);
	/* a peripheral asks with a Security Request */
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_AUTHENTICATED, host_done, &h, NULL), 0);
	DRIVE(f, &p, p.n_pdu == 1);
	assert_memory_equal(p.pdu[0], ((uint8_t[]){SM_SECURITY_REQUEST, 0x0d}), 2);
	assert_int_equal(sm_session_start(p.s), 0);
	DRIVE(f, &p, h.done && p.done);
	assert_int_equal(h.shown, 123456);
	assert_int_equal(h.err, 0);
	assert_int_equal(p.err, 0);
	assert_int_equal(p.ltk_replies, 1);
	assert_memory_equal(p.ltk_reply, p.enc_key.key, 16);
	assert_int_equal(h.r.level, SM_LEVEL_SC);
	assert_int_equal(hci_conn_security(f->conn), SM_LEVEL_SC);
	assert_true(h.r.keys.has_ltk);
	/* a key request for a key it does not have: "no key" */
	uint8_t ev[13] = {HCI_LE_LTK_REQUEST, HANDLE & 0xff, HANDLE >> 8};

	memcpy(ev + 3, rand, 8);
	fake_send_event(f, HCI_EV_LE_META, ev, 13);
	DRIVE(f, &p, p.ltk_neg_replies == 1);
	/* the one it has: the central re-encrypts with EDIV 0, Rand 0 */
	memset(ev + 3, 0, 10);
	fake_send_event(f, HCI_EV_LE_META, ev, 13);
	DRIVE(f, &p, p.ltk_replies == 2);
	assert_memory_equal(p.ltk_reply, p.enc_key.key, 16);
	sm_session_free(p.s);
	sm_free(h.sm);
}

static void test_freeing_gives_the_channel_back(void **state)
{
	struct fake *f = *state;
	struct sm_config hc = {.io_cap = SM_IO_NO_INPUT_NO_OUTPUT};
	struct host h = {0};
	struct peer p = {0};

	fake_bring_up(f, &ctrl);
	fake_connect_as_peripheral(f, HANDLE);
	host_make(f, &h, &hc);
	assert_int_equal(sm_pair(h.sm, SM_LEVEL_UNAUTHENTICATED, host_done, &h, NULL), 0);
	DRIVE(f, &p, p.n_pdu == 1); /* Security Request */
	sm_free(h.sm);
	assert_true(h.done);
	assert_int_equal(h.err, -ECANCELED);
	assert_null(sm_from_conn(f->conn));
	peer_send((uint8_t[]){0x01, 0x03, 0x00, 0x09, 0x10, 0x00, 0x00}, 7, &(struct peer){.f = f});
	DRIVE(f, &p, p.n_pdu == 2);
	assert_memory_equal(p.pdu[1], ((uint8_t[]){SM_PAIRING_FAILED, 0x05}), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_central_pairs_just_works_and_encrypts,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_central_passkey_entry, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_central_wrong_passkey_fails_at_once,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(
			test_stored_key_reencrypts_and_a_lost_bond_is_reported, fake_setup,
			fake_teardown),
		cmocka_unit_test_setup_teardown(test_stored_key_gives_the_level_without_pairing,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_smp_timeout_ends_smp_on_the_link, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_security_request_starts_pairing, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(
			test_security_request_reencrypts_with_the_stored_key, fake_setup,
			fake_teardown),
		cmocka_unit_test_setup_teardown(test_peripheral_pairs_with_its_fixed_passkey,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_freeing_gives_the_channel_back, fake_setup,
						fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
