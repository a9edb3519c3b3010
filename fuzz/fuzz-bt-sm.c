/* fuzz-bt-sm.c — what a peer's Security Manager sends us (src/bt/sm-pdu.c, sm-method.c,
 * sm-p256.c): SMP PDUs, the public key of a Pairing Public Key PDU, and the pairing decisions made
 * from two Pairing Request/Response PDUs. Input: a selector byte, then
 *  0: one SMP PDU — decoding it succeeds only at the code's exact length, names a reason when it
 *     fails, and a decoded PDU encodes to the input (RFU bits cleared) and decodes to itself;
 *  1: a 64-octet public key — the DHKey with the private key 1 is the peer's X coordinate for
 *     every key sm_p256_check_public() accepts, and no DHKey comes of a key it refuses;
 *  2: two 7-octet PDUs — when both decode as pairing PDUs, the method, key size and security
 *     level they give are consistent with each other (roles, authentication, levels 2..4). */
#include <errno.h>

#include "bt/sm-method.h"
#include "bt/sm-p256.h"
#include "bt/sm-pdu.h"
#include "fuzz.h"

static void pdu(struct fz *f)
{
	size_t len, n;
	const uint8_t *in = fz_rest(f, &len);
	uint8_t *b = fz_dup(in, len), out[SM_PDU_MAX];
	struct sm_pdu p, q;
	const char *why = NULL;
	int r = sm_pdu_decode(b, len, &p, &why);

	if (r < 0) {
		FUZZ_CHECK(why && *why);
		FUZZ_CHECK(r == -EBADMSG || r == -EOPNOTSUPP);
		FUZZ_CHECK((r == -EOPNOTSUPP) == (len > 0 && sm_pdu_len(b[0]) == 0));
		free(b);
		return;
	}
	FUZZ_CHECK(len == sm_pdu_len(b[0]) && p.code == b[0]);
	n = sm_pdu_encode(&p, out);
	FUZZ_CHECK(n == len);
	for (size_t i = 0; i < n; i++) {
		uint8_t rfu = 0;

		if ((p.code == SM_PAIRING_REQUEST || p.code == SM_PAIRING_RESPONSE) && i == 3)
			rfu = SM_AUTH_RFU;
		else if ((p.code == SM_PAIRING_REQUEST || p.code == SM_PAIRING_RESPONSE) && i >= 5)
			rfu = SM_DIST_RFU;
		else if (p.code == SM_SECURITY_REQUEST && i == 1)
			rfu = SM_AUTH_RFU;
		FUZZ_CHECK(out[i] == (b[i] & (uint8_t)~rfu));
	}
	FUZZ_CHECK(sm_pdu_decode(out, n, &q, NULL) == 0);
	FUZZ_CHECK(sm_pdu_encode(&q, b) == n && memcmp(b, out, n) == 0);
	(void)sm_strerror(p.reason);
	(void)sm_code_str(p.code);
	free(b);
}

static void public_key(struct fz *f)
{
	static const uint8_t one[SM_P256_PRIVATE_LEN] = {1};
	uint8_t pub[SM_P256_PUBLIC_LEN] = {0}, dh[SM_DHKEY_LEN];
	struct sm_p256_key *k = NULL;
	size_t n;
	const uint8_t *in = fz_bytes(f, sizeof(pub), &n);
	int valid, r;

	memcpy(pub, in, n);
	valid = sm_p256_check_public(pub);
	FUZZ_CHECK(valid == 0 || valid == -EINVAL);
	FUZZ_CHECK(sm_p256_key_from_private(one, &k) == 0);
	r = sm_p256_dhkey(k, pub, dh);
	if (valid < 0)
		FUZZ_CHECK(r == valid);
	else if (memcmp(pub, sm_p256_key_public(k), 32) == 0)
		FUZZ_CHECK(r == -EEXIST); /* the generator itself, or its negation */
	else
		FUZZ_CHECK(r == 0 && memcmp(dh, pub, SM_DHKEY_LEN) == 0); /* 1 * P = P */
	sm_p256_key_free(k);
}

static void decisions(struct fz *f)
{
	struct sm_pdu req, rsp;
	size_t n1, n2;
	const uint8_t *a = fz_bytes(f, SM_PAIRING_LEN, &n1), *b = fz_bytes(f, SM_PAIRING_LEN, &n2);
	enum sm_method m;
	struct sm_security s;
	uint8_t size = 0;

	if (sm_pdu_decode(a, n1, &req, NULL) < 0 || sm_pdu_decode(b, n2, &rsp, NULL) < 0 ||
	    req.code != SM_PAIRING_REQUEST || rsp.code != SM_PAIRING_RESPONSE)
		return;
	m = sm_pairing_method(&req.pairing, &rsp.pairing);
	FUZZ_CHECK(m >= SM_METHOD_JUST_WORKS && m <= SM_METHOD_OOB);
	if (m == SM_METHOD_NUMERIC_COMPARISON)
		FUZZ_CHECK(sm_pairing_is_sc(&req.pairing, &rsp.pairing));
	if (m != SM_METHOD_OOB && m != SM_METHOD_JUST_WORKS)
		FUZZ_CHECK((req.pairing.auth_req | rsp.pairing.auth_req) & SM_AUTH_MITM);
	FUZZ_CHECK((sm_method_passkey_role(m, true) == SM_PASSKEY_NONE) ==
		   (sm_method_passkey_role(m, false) == SM_PASSKEY_NONE));
	if (sm_key_size(req.pairing.max_key_size, rsp.pairing.max_key_size, &size) < 0)
		return;
	FUZZ_CHECK(size >= 7 && size <= 16);
	FUZZ_CHECK(size <= req.pairing.max_key_size && size <= rsp.pairing.max_key_size);
	s = sm_security_of(m, sm_pairing_is_sc(&req.pairing, &rsp.pairing), size);
	FUZZ_CHECK(s.level >= SM_LEVEL_UNAUTHENTICATED && s.level <= SM_LEVEL_SC);
	FUZZ_CHECK(s.authenticated == (s.level >= SM_LEVEL_AUTHENTICATED));
	FUZZ_CHECK(s.level != SM_LEVEL_SC || (s.sc && s.key_size == 16));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);

	switch (fz_u8(&f) % 3) {
	case 0:
		pdu(&f);
		break;
	case 1:
		public_key(&f);
		break;
	default:
		decisions(&f);
		break;
	}
	return 0;
}
