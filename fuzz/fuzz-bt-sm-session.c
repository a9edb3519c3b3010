/* fuzz-bt-sm-session.c — the pairing state machine (src/bt/sm-session.c, sm-sc.c, sm-legacy.c,
 * sm-keydist.c) driven by a peer that sends anything, in any order, with encryption results and
 * the user's answers in between. Input: two configuration bytes (role, IO capabilities, legacy,
 * bonding, identity; level and least key size), then events, each a selector byte:
 *  0: a PDU from the peer (a length byte, then that many bytes);
 *  1: the link's encryption ended (a status byte);
 *  2: the user typed a passkey (four bytes); 3: the user answered the comparison (a byte);
 *  4: the controller asked for the key of EDIV/Rand 0.
 * Invariants: every PDU the session sends decodes and fits; the end comes once and nothing is
 * sent, asked or encrypted after it; our Pairing Failed carries the reason the end reports; a
 * success comes only after a successful encryption, at a level the configuration asked for and a
 * key size it accepts; only an initiator encrypts, only a responder has a key to give. */
#include <errno.h>

#include "bt/sm-pdu.h"
#include "bt/sm-session.h"
#include "fuzz.h"

struct run {
	struct sm_session *s;
	bool initiator, done, encrypted, asked_passkey, asked_confirm;
	int err;
	uint8_t failed_reason; /* the reason of the Pairing Failed we sent, 0 none */
	struct sm_session_params p;
};

static void on_send(const uint8_t *pdu, size_t len, void *ud)
{
	struct run *r = ud;
	struct sm_pdu p;

	FUZZ_CHECK(!r->done);
	FUZZ_CHECK(len >= 1 && len <= SM_PDU_MAX);
	FUZZ_CHECK(sm_pdu_decode(pdu, len, &p, NULL) == 0);
	if (p.code == SM_PAIRING_FAILED) {
		FUZZ_CHECK(!r->failed_reason);
		r->failed_reason = p.reason;
	}
}

static void on_encrypt(const struct sm_ltk *key, void *ud)
{
	struct run *r = ud;

	FUZZ_CHECK(!r->done && r->initiator);
	FUZZ_CHECK(key->key_size >= r->p.cfg.min_key_size && key->key_size <= 16);
	for (unsigned i = key->key_size; i < 16; i++)
		FUZZ_CHECK(key->key[i] == 0);
}

static void on_display(uint32_t passkey, void *ud)
{
	struct run *r = ud;

	FUZZ_CHECK(!r->done && passkey <= 999999);
}

static void on_passkey_request(void *ud)
{
	struct run *r = ud;

	FUZZ_CHECK(!r->done);
	r->asked_passkey = true;
}

static void on_confirm_request(uint32_t value, void *ud)
{
	struct run *r = ud;

	FUZZ_CHECK(!r->done && value <= 999999);
	r->asked_confirm = true;
}

static void on_done(int err, const struct sm_result *res, void *ud)
{
	struct run *r = ud;

	FUZZ_CHECK(!r->done);
	r->done = true;
	r->err = err;
	FUZZ_CHECK(res->why || err == 0);
	if (r->failed_reason)
		FUZZ_CHECK((err == -EACCES || err == -ECANCELED) &&
			   res->reason == r->failed_reason);
	if (err == 0) {
		FUZZ_CHECK(r->encrypted && !r->failed_reason);
		FUZZ_CHECK(res->level >= r->p.cfg.level && res->level <= SM_LEVEL_SC);
		FUZZ_CHECK(res->key_size >= r->p.cfg.min_key_size && res->key_size <= 16);
	}
}

static const struct sm_session_ops ops = {
	.send = on_send,
	.encrypt = on_encrypt,
	.passkey_display = on_display,
	.passkey_request = on_passkey_request,
	.confirm_request = on_confirm_request,
	.done = on_done,
};

static void configure(struct fz *f, struct run *r)
{
	uint8_t a = fz_u8(f), b = fz_u8(f);

	r->initiator = a & 1;
	r->p = (struct sm_session_params){
		.initiator = r->initiator,
		.ia = {BT_ADDR_LE_PUBLIC, {1, 2, 3, 4, 5, 6}},
		.ra = {BT_ADDR_LE_RANDOM, {6, 5, 4, 3, 2, 0xc1}},
	};
	r->p.cfg = (struct sm_config){
		.io_cap = (uint8_t)((a >> 1 & 7) % 5),
		.legacy = a & 0x10,
		.legacy_only = a & 0x20,
		.bonding = a & 0x40,
		.has_identity = a & 0x80,
		.identity = {BT_ADDR_LE_PUBLIC, {1, 2, 3, 4, 5, 6}},
		.level = (uint8_t)(SM_LEVEL_UNAUTHENTICATED + (b & 3) % 3),
		.min_key_size = (uint8_t)(7 + (b >> 2 & 15) % 10),
		.fixed_passkey = b & 0x40,
		.passkey = 123456,
	};
}

static void event(struct fz *f, struct run *r)
{
	static const uint8_t zero[8];
	uint8_t buf[256];
	const uint8_t *in;
	struct sm_ltk k;
	size_t len;
	int rc;

	switch (fz_u8(f) % 5) {
	case 0:
		in = fz_bytes(f, fz_u8(f), &len);
		memcpy(buf, in, len); /* exactly len bytes: a read past them is caught */
		sm_session_recv(r->s, buf, len);
		break;
	case 1:
		buf[0] = fz_u8(f);
		if (!r->done && buf[0] == 0)
			r->encrypted = true;
		sm_session_encrypted(r->s, buf[0], 16);
		break;
	case 2:
		rc = sm_session_passkey(r->s, fz_u32(f) % 1100000);
		FUZZ_CHECK(rc == 0 || rc == -EALREADY || rc == -EINVAL);
		break;
	case 3:
		rc = sm_session_confirm(r->s, fz_bool(f));
		FUZZ_CHECK(rc == 0 || rc == -EALREADY);
		break;
	case 4:
		if (sm_session_ltk(r->s, 0, zero, &k))
			FUZZ_CHECK(!r->initiator && !r->done);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct run r = {0};

	configure(&f, &r);
	FUZZ_CHECK(sm_session_new(&r.p, &ops, &r, &r.s) == 0);
	if (r.initiator)
		FUZZ_CHECK(sm_session_start(r.s) == 0);
	for (unsigned i = 0; f.n && i < 512; i++)
		event(&f, &r);
	sm_session_free(r.s);
	return 0;
}
