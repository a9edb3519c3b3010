/* gen-corpus-bt-sm.c — seeds of fuzz-bt-sm: one of each SMP PDU (tests/unit/test-bt-sm-pdu.c's
 * vectors, through sm_pdu_encode), the P-256 public keys of tests/unit/test-bt-sm.c (the debug
 * key, a key of the Vol 2 Part G 7.1.2 sample data, an invalid-curve point) and Pairing
 * Request/Response pairs of each method. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/sm-p256.h"
#include "bt/sm-pdu.h"
#include "gen-corpus.h"

static void put_pdu(const char *name, const struct sm_pdu *p)
{
	struct seed s = {0};
	uint8_t b[SM_PDU_MAX];
	size_t n = sm_pdu_encode(p, b);

	if (!n) {
		fprintf(stderr, "gen-corpus: no PDU for %s\n", name);
		exit(1);
	}
	seed_u8(&s, 0);
	seed_bytes(&s, b, n);
	seed_put("bt-sm", name, &s);
}

static void gen_pdus(const uint8_t pub[SM_P256_PUBLIC_LEN])
{
	static const uint8_t v[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	static const uint8_t value_codes[] = {SM_PAIRING_CONFIRM, SM_PAIRING_RANDOM,
					      SM_ENCRYPTION_INFO, SM_IDENTITY_INFO,
					      SM_SIGNING_INFO,	  SM_PAIRING_DHKEY_CHECK};
	struct sm_pdu p = {.code = SM_PAIRING_REQUEST,
			   .pairing = {SM_IO_KEYBOARD_DISPLAY, SM_OOB_NOT_PRESENT,
				       SM_AUTH_BONDING | SM_AUTH_MITM | SM_AUTH_SC | SM_AUTH_CT2,
				       16, SM_DIST_ENC_KEY | SM_DIST_ID_KEY,
				       SM_DIST_ENC_KEY | SM_DIST_ID_KEY}};
	char name[32];

	put_pdu("pairing-request", &p);
	p.code = SM_PAIRING_RESPONSE;
	p.pairing.io_cap = SM_IO_NO_INPUT_NO_OUTPUT;
	put_pdu("pairing-response", &p);
	for (size_t i = 0; i < sizeof(value_codes); i++) {
		p = (struct sm_pdu){.code = value_codes[i]};
		memcpy(p.value, v, 16);
		snprintf(name, sizeof(name), "value-%02x", value_codes[i]);
		put_pdu(name, &p);
	}
	put_pdu("pairing-failed",
		&(struct sm_pdu){.code = SM_PAIRING_FAILED, .reason = SM_ERR_DHKEY_CHECK_FAILED});
	put_pdu("central-ident", &(struct sm_pdu){.code = SM_CENTRAL_IDENT,
						  .central = {0x1234, {1, 2, 3, 4, 5, 6}}});
	put_pdu("identity-addr",
		&(struct sm_pdu){
			.code = SM_IDENTITY_ADDR_INFO,
			.identity = {BT_ADDR_LE_RANDOM, {0x55, 0x44, 0x33, 0x22, 0x11, 0xc6}}});
	put_pdu("security-request",
		&(struct sm_pdu){.code = SM_SECURITY_REQUEST, .auth_req = SM_AUTH_BONDING});
	put_pdu("keypress", &(struct sm_pdu){.code = SM_KEYPRESS_NOTIFY, .keypress = 1});
	p = (struct sm_pdu){.code = SM_PAIRING_PUBLIC_KEY};
	memcpy(p.public_key, pub, 64);
	put_pdu("public-key", &p);
}

static void put_key(const char *name, const uint8_t pub[SM_P256_PUBLIC_LEN])
{
	struct seed s = {0};

	seed_u8(&s, 1);
	seed_bytes(&s, pub, SM_P256_PUBLIC_LEN);
	seed_put("bt-sm", name, &s);
}

static void gen_keys(const uint8_t debug_pub[SM_P256_PUBLIC_LEN])
{
	/* Vol 2 Part G 7.1.2.1, private key B: 0x55188b3d ... f47fc5fd */
	static const uint8_t b_priv[SM_P256_PRIVATE_LEN] = {
		0xfd, 0xc5, 0x7f, 0xf4, 0x49, 0xdd, 0x4f, 0x6b, 0xfb, 0x7c, 0x9d,
		0xf1, 0xc2, 0x9a, 0xcb, 0x59, 0x2a, 0xe7, 0xd4, 0xee, 0xfb, 0xfc,
		0x0a, 0x90, 0x9a, 0xbb, 0xf6, 0x32, 0x3d, 0x8b, 0x18, 0x55};
	struct sm_p256_key *k = NULL;
	uint8_t pub[SM_P256_PUBLIC_LEN];

	put_key("key-debug", debug_pub);
	if (sm_p256_key_from_private(b_priv, &k) < 0) {
		fprintf(stderr, "gen-corpus: P-256 key\n");
		exit(1);
	}
	put_key("key-sample-b", sm_p256_key_public(k));
	sm_p256_key_free(k);
	memcpy(pub, debug_pub, 32);
	memset(pub + 32, 0, 32); /* CVE-2018-5383: Y = 0 */
	put_key("key-invalid-curve", pub);
}

static void put_pair(const char *name, uint8_t io_i, uint8_t io_r, uint8_t auth, uint8_t oob)
{
	struct sm_pdu req = {.code = SM_PAIRING_REQUEST,
			     .pairing = {io_i, oob, auth, 16, SM_DIST_ENC_KEY, SM_DIST_ENC_KEY}};
	struct sm_pdu rsp = {.code = SM_PAIRING_RESPONSE,
			     .pairing = {io_r, oob, auth, 16, SM_DIST_ENC_KEY, SM_DIST_ENC_KEY}};
	struct seed s = {0};
	uint8_t b[SM_PDU_MAX];

	seed_u8(&s, 2);
	seed_bytes(&s, b, sm_pdu_encode(&req, b));
	seed_bytes(&s, b, sm_pdu_encode(&rsp, b));
	seed_put("bt-sm", name, &s);
}

void gen_bt_sm(void)
{
	struct sm_p256_key *debug = NULL;

	if (sm_p256_key_from_private(sm_p256_debug_private, &debug) < 0) {
		fprintf(stderr, "gen-corpus: P-256 debug key\n");
		exit(1);
	}
	gen_pdus(sm_p256_key_public(debug));
	gen_keys(sm_p256_key_public(debug));
	sm_p256_key_free(debug);
	put_pair("method-just-works", SM_IO_NO_INPUT_NO_OUTPUT, SM_IO_KEYBOARD_DISPLAY,
		 SM_AUTH_BONDING | SM_AUTH_SC, SM_OOB_NOT_PRESENT);
	put_pair("method-numeric", SM_IO_KEYBOARD_DISPLAY, SM_IO_DISPLAY_YES_NO,
		 SM_AUTH_BONDING | SM_AUTH_MITM | SM_AUTH_SC, SM_OOB_NOT_PRESENT);
	put_pair("method-passkey-legacy", SM_IO_KEYBOARD_ONLY, SM_IO_DISPLAY_ONLY,
		 SM_AUTH_BONDING | SM_AUTH_MITM, SM_OOB_NOT_PRESENT);
	put_pair("method-oob", SM_IO_DISPLAY_ONLY, SM_IO_DISPLAY_ONLY, SM_AUTH_MITM,
		 SM_OOB_PRESENT);
}
