/* test-bt-sm-pdu.c — the Security Manager's PDUs and pairing decisions (src/bt/sm-pdu.c,
 * sm-method.c): every PDU of Core 5.4 Vol 3 Part H 3.5 and 3.6 byte for byte both ways, every
 * wrong length and reserved value rejected with a reason, RFU bits ignored; the pairing method of
 * every cell of Tables 2.6, 2.7 and 2.8; passkey roles; key sizes; security levels. Decoders read
 * exactly sized heap copies (ASan and valgrind catch a read past the PDU). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "bt/sm-method.h"
#include "bt/sm-pdu.h"
#include "util/macro.h"

static int decode(const uint8_t *b, size_t len, struct sm_pdu *ret, const char **why)
{
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, b, len);
	r = sm_pdu_decode(copy, len, ret, why);
	free(copy);
	return r;
}

#define V16                                                                                        \
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,  \
		0xff
#define V16_VAL                                                                                    \
	{                                                                                          \
		V16                                                                                \
	}
#define V64 V16, V16, V16, V16

static const struct pdu_case {
	uint8_t b[SM_PDU_MAX];
	size_t len;
	struct sm_pdu pdu;
} cases[] = {
	/* 2.2.3's preq: DisplayYesNo, no OOB, no bonding, 16 octets, EncKey|IdKey|SignKey both */
	{{0x01, 0x01, 0x00, 0x00, 0x10, 0x07, 0x07},
	 7,
	 {.code = SM_PAIRING_REQUEST,
	  .pairing = {SM_IO_DISPLAY_YES_NO, SM_OOB_NOT_PRESENT, 0x00, 16, 0x07, 0x07}}},
	/* KeyboardDisplay, OOB, bonding + MITM + SC + keypress + CT2, 7 octets, all four keys */
	{{0x01, 0x04, 0x01, 0x3d, 0x07, 0x0f, 0x0f},
	 7,
	 {.code = SM_PAIRING_REQUEST,
	  .pairing = {SM_IO_KEYBOARD_DISPLAY, SM_OOB_PRESENT,
		      SM_AUTH_BONDING | SM_AUTH_MITM | SM_AUTH_SC | SM_AUTH_KEYPRESS | SM_AUTH_CT2,
		      7, 0x0f, 0x0f}}},
	/* 2.2.3's pres: NoInputNoOutput, 8 octets, responder distributes EncKey|SignKey */
	{{0x02, 0x03, 0x00, 0x00, 0x08, 0x00, 0x05},
	 7,
	 {.code = SM_PAIRING_RESPONSE,
	  .pairing = {SM_IO_NO_INPUT_NO_OUTPUT, SM_OOB_NOT_PRESENT, 0x00, 8, 0x00, 0x05}}},
	{{0x03, V16}, 17, {.code = SM_PAIRING_CONFIRM, .value = V16_VAL}},
	{{0x04, V16}, 17, {.code = SM_PAIRING_RANDOM, .value = V16_VAL}},
	{{0x05, 0x04}, 2, {.code = SM_PAIRING_FAILED, .reason = SM_ERR_CONFIRM_VALUE_FAILED}},
	{{0x06, V16}, 17, {.code = SM_ENCRYPTION_INFO, .value = V16_VAL}},
	{{0x07, 0x34, 0x12, 1, 2, 3, 4, 5, 6, 7, 8},
	 11,
	 {.code = SM_CENTRAL_IDENT, .central = {0x1234, {1, 2, 3, 4, 5, 6, 7, 8}}}},
	{{0x08, V16}, 17, {.code = SM_IDENTITY_INFO, .value = V16_VAL}},
	{{0x09, 0x00, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00},
	 8,
	 {.code = SM_IDENTITY_ADDR_INFO,
	  .identity = {BT_ADDR_LE_PUBLIC, {0x55, 0x44, 0x33, 0x22, 0x11, 0x00}}}},
	{{0x09, 0x01, 0x55, 0x44, 0x33, 0x22, 0x11, 0xc6},
	 8,
	 {.code = SM_IDENTITY_ADDR_INFO,
	  .identity = {BT_ADDR_LE_RANDOM, {0x55, 0x44, 0x33, 0x22, 0x11, 0xc6}}}},
	{{0x0a, V16}, 17, {.code = SM_SIGNING_INFO, .value = V16_VAL}},
	{{0x0b, 0x0d},
	 2,
	 {.code = SM_SECURITY_REQUEST, .auth_req = SM_AUTH_BONDING | SM_AUTH_MITM | SM_AUTH_SC}},
	{{0x0c, V64}, 65, {.code = SM_PAIRING_PUBLIC_KEY, .public_key = {V64}}},
	{{0x0d, V16}, 17, {.code = SM_PAIRING_DHKEY_CHECK, .value = V16_VAL}},
	{{0x0e, 0x01}, 2, {.code = SM_KEYPRESS_NOTIFY, .keypress = SM_KEYPRESS_DIGIT_ENTERED}},
};

/* The code and the member it selects (padding and the union's other bytes aside). */
static void assert_pdu_equal(const struct sm_pdu *a, const struct sm_pdu *b)
{
	assert_int_equal(a->code, b->code);
	switch (a->code) {
	case SM_PAIRING_REQUEST:
	case SM_PAIRING_RESPONSE:
		assert_memory_equal(&a->pairing, &b->pairing, sizeof(a->pairing));
		break;
	case SM_PAIRING_FAILED:
		assert_int_equal(a->reason, b->reason);
		break;
	case SM_CENTRAL_IDENT:
		assert_int_equal(a->central.ediv, b->central.ediv);
		assert_memory_equal(a->central.rand, b->central.rand, 8);
		break;
	case SM_IDENTITY_ADDR_INFO:
		assert_true(bt_addr_equal(&a->identity, &b->identity));
		break;
	case SM_SECURITY_REQUEST:
		assert_int_equal(a->auth_req, b->auth_req);
		break;
	case SM_PAIRING_PUBLIC_KEY:
		assert_memory_equal(a->public_key, b->public_key, 64);
		break;
	case SM_KEYPRESS_NOTIFY:
		assert_int_equal(a->keypress, b->keypress);
		break;
	default:
		assert_memory_equal(a->value, b->value, 16);
		break;
	}
}

static void test_every_pdu_round_trips_exact_bytes(void **state)
{
	bool seen[15] = {false};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct pdu_case *c = &cases[i];
		uint8_t out[SM_PDU_MAX];
		struct sm_pdu p;
		const char *why = NULL;

		memset(&p, 0xa5, sizeof(p));
		assert_int_equal(decode(c->b, c->len, &p, &why), 0);
		assert_null(why);
		assert_int_equal(p.code, c->b[0]);
		assert_pdu_equal(&p, &c->pdu);
		assert_int_equal(sm_pdu_len(p.code), c->len);
		memset(out, 0x5a, sizeof(out));
		assert_int_equal(sm_pdu_encode(&c->pdu, out), c->len);
		assert_memory_equal(out, c->b, c->len);
		seen[c->b[0]] = true;
	}
	for (uint8_t code = SM_PAIRING_REQUEST; code <= SM_KEYPRESS_NOTIFY; code++)
		assert_true(seen[code]);
}

static void test_every_wrong_length_is_rejected(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct pdu_case *c = &cases[i];
		uint8_t longer[SM_PDU_MAX + 1];
		struct sm_pdu p = {0}, untouched = {0};
		const char *why = NULL;

		for (size_t n = 1; n < c->len; n++) {
			why = NULL;
			assert_int_equal(decode(c->b, n, &p, &why), -EBADMSG);
			assert_non_null(why);
			/* "Pairing Request: not 7 octets" */
			assert_non_null(strstr(why, sm_code_str(c->b[0])));
			assert_non_null(strstr(why, "octets"));
		}
		memcpy(longer, c->b, c->len);
		longer[c->len] = 0;
		assert_int_equal(decode(longer, c->len + 1, &p, &why), -EBADMSG);
		assert_non_null(strstr(why, sm_code_str(c->b[0])));
		assert_memory_equal(&p, &untouched, sizeof(p));
	}
	assert_int_equal(decode((uint8_t[]){SM_PAIRING_FAILED}, 0, NULL, NULL), -EBADMSG);
}

static void test_reserved_values_are_rejected(void **state)
{
	static const struct {
		uint8_t b[8];
		size_t len;
		const char *why;
	} bad[] = {
		{{0x01, 0x05, 0x00, 0x00, 0x10, 0x00, 0x00},
		 7,
		 "Pairing Request: reserved IO capability"},
		{{0x02, 0xff, 0x00, 0x00, 0x10, 0x00, 0x00},
		 7,
		 "Pairing Response: reserved IO capability"},
		{{0x01, 0x03, 0x02, 0x00, 0x10, 0x00, 0x00},
		 7,
		 "Pairing Request: reserved OOB data flag"},
		{{0x02, 0x03, 0xff, 0x00, 0x10, 0x00, 0x00},
		 7,
		 "Pairing Response: reserved OOB data flag"},
		{{0x01, 0x03, 0x00, 0x02, 0x10, 0x00, 0x00},
		 7,
		 "Pairing Request: reserved Bonding_Flags"},
		{{0x02, 0x03, 0x00, 0x03, 0x10, 0x00, 0x00},
		 7,
		 "Pairing Response: reserved Bonding_Flags"},
		{{0x0b, 0x0e}, 2, "Security Request: reserved Bonding_Flags"},
		{{0x0e, 0x05}, 2, "Pairing Keypress Notification: reserved notification type"},
		{{0x09, 0x02, 1, 2, 3, 4, 5, 0xc6},
		 8,
		 "Identity Address Information: reserved address type"},
		/* a resolvable private address, and a static one with an all-ones random part */
		{{0x09, 0x01, 1, 2, 3, 4, 5, 0x46},
		 8,
		 "Identity Address Information: random address not static"},
		{{0x09, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		 8,
		 "Identity Address Information: random address not static"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct sm_pdu p = {0}, untouched = {0};
		const char *why = NULL;

		assert_int_equal(decode(bad[i].b, bad[i].len, &p, &why), -EBADMSG);
		assert_string_equal(why, bad[i].why);
		assert_memory_equal(&p, &untouched, sizeof(p));
	}
}

static void test_rfu_bits_are_ignored_and_any_reason_accepted(void **state)
{
	static const uint8_t req[] = {0x01, 0x01, 0x00, 0xc5, 0x10, 0xf7, 0xf3};
	static const uint8_t sec[] = {0x0b, 0xc1};
	uint8_t out[SM_PDU_MAX];
	struct sm_pdu p;

	assert_int_equal(decode(req, sizeof(req), &p, NULL), 0);
	assert_int_equal(p.pairing.auth_req, SM_AUTH_BONDING | SM_AUTH_MITM);
	assert_int_equal(p.pairing.init_key_dist, 0x07);
	assert_int_equal(p.pairing.resp_key_dist, 0x03);
	assert_int_equal(sm_pdu_encode(&p, out), 7);
	assert_memory_equal(out, ((uint8_t[]){0x01, 0x01, 0x00, 0x05, 0x10, 0x07, 0x03}), 7);
	assert_int_equal(decode(sec, sizeof(sec), &p, NULL), 0);
	assert_int_equal(p.auth_req, SM_AUTH_BONDING);
	/* max key sizes out of 7..16 are sm_key_size()'s to refuse, with their own reason */
	assert_int_equal(decode((uint8_t[]){0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, 7, &p, NULL),
			 0);
	assert_int_equal(p.pairing.max_key_size, 0);
	/* reasons added by later spec versions still mean the pairing failed */
	for (unsigned r = 0; r <= 0xff; r++) {
		assert_int_equal(decode((uint8_t[]){0x05, (uint8_t)r}, 2, &p, NULL), 0);
		assert_int_equal(p.reason, r);
	}
}

static void test_unknown_codes(void **state)
{
	struct sm_pdu p = {.code = 0x0f};
	uint8_t out[SM_PDU_MAX];
	const char *why = NULL;

	for (unsigned code = 0; code <= 0xff; code++) {
		uint8_t b[SM_PDU_MAX] = {(uint8_t)code};

		if (code >= SM_PAIRING_REQUEST && code <= SM_KEYPRESS_NOTIFY)
			continue;
		why = NULL;
		assert_int_equal(decode(b, 17, &p, &why), -EOPNOTSUPP);
		assert_string_equal(why, "unknown SMP command code");
		assert_int_equal(sm_pdu_len((uint8_t)code), 0);
		assert_string_equal(sm_code_str((uint8_t)code), "Unknown");
	}
	p.code = 0x0f;
	assert_int_equal(sm_pdu_encode(&p, out), 0);
	p.code = 0x00;
	assert_int_equal(sm_pdu_encode(&p, out), 0);
}

static void test_reason_and_code_names(void **state)
{
	assert_string_equal(sm_strerror(SM_ERR_PASSKEY_ENTRY_FAILED), "Passkey Entry Failed");
	assert_string_equal(sm_strerror(SM_ERR_CONFIRM_VALUE_FAILED), "Confirm Value Failed");
	assert_string_equal(sm_strerror(SM_ERR_PAIRING_NOT_SUPPORTED), "Pairing Not Supported");
	assert_string_equal(sm_strerror(SM_ERR_DHKEY_CHECK_FAILED), "DHKey Check Failed");
	assert_string_equal(sm_strerror(SM_ERR_KEY_REJECTED), "Key Rejected");
	for (unsigned r = 0x01; r <= SM_ERR_KEY_REJECTED; r++)
		assert_string_not_equal(sm_strerror((uint8_t)r), "Unknown");
	assert_string_equal(sm_strerror(0x00), "Unknown");
	assert_string_equal(sm_strerror(0x10), "Unknown");
	assert_string_equal(sm_strerror(0xff), "Unknown");
	assert_string_equal(sm_code_str(SM_PAIRING_PUBLIC_KEY), "Pairing Public Key");
	assert_string_equal(sm_code_str(SM_CENTRAL_IDENT), "Central Identification");
}

static void test_iocap_of_f6(void **state)
{
	/* Appendix D.4: IOcap 0x010102 is AuthReq 01, OOB 01, IO capability 02 */
	const struct sm_pairing p = {.io_cap = 0x02, .oob = 0x01, .auth_req = 0x01};
	uint8_t io[3];

	sm_pairing_iocap(&p, io);
	assert_memory_equal(io, ((uint8_t[]){0x02, 0x01, 0x01}), 3);
}

/* ---- Pairing method: Tables 2.6, 2.7, 2.8 ---- */

#define JW SM_METHOD_JUST_WORKS
#define ID SM_METHOD_PASSKEY_INITIATOR_DISPLAYS
#define RD SM_METHOD_PASSKEY_RESPONDER_DISPLAYS
#define BI SM_METHOD_PASSKEY_BOTH_INPUT
#define NC SM_METHOD_NUMERIC_COMPARISON
#define OB SM_METHOD_OOB
#define IO 99 /* Tables 2.6/2.7: "use IO capabilities" (or MITM-less Just Works) */

/* Table 2.8 as the spec lays it out: a row per responder IO capability, a column per
 * initiator's (DisplayOnly, DisplayYesNo, KeyboardOnly, NoInputNoOutput, KeyboardDisplay). */
static const enum sm_method table_legacy[5][5] = {
	{JW, JW, RD, JW, RD}, {JW, JW, RD, JW, RD}, {ID, ID, BI, JW, ID},
	{JW, JW, JW, JW, JW}, {ID, ID, RD, JW, ID},
};
static const enum sm_method table_sc[5][5] = {
	{JW, JW, RD, JW, RD}, {JW, NC, RD, JW, NC}, {ID, ID, BI, JW, ID},
	{JW, JW, JW, JW, JW}, {ID, NC, RD, JW, NC},
};
/* Table 2.6 (legacy) and 2.7 (SC): [initiator OOB][responder OOB] */
static const int oob_legacy[2][2] = {{IO, IO}, {IO, OB}};
static const int oob_sc[2][2] = {{IO, OB}, {OB, OB}};

static void test_method_of_every_cell(void **state)
{
	unsigned checked = 0;

	for (uint8_t ii = 0; ii < 5; ii++)
		for (uint8_t ri = 0; ri < 5; ri++)
			for (unsigned f = 0; f < 64; f++) {
				bool oob_i = f & 1, oob_r = f & 2, mitm_i = f & 4, mitm_r = f & 8;
				bool sc_i = f & 16, sc_r = f & 32, sc = sc_i && sc_r;
				struct sm_pairing req = {
					.io_cap = ii,
					.oob = oob_i,
					/* bonding and keypress change nothing */
					.auth_req = (uint8_t)((mitm_i ? SM_AUTH_MITM : 0) |
							      (sc_i ? SM_AUTH_SC : 0) |
							      (f & 1 ? SM_AUTH_BONDING : 0)),
					.max_key_size = 16,
				};
				struct sm_pairing rsp = {
					.io_cap = ri,
					.oob = oob_r,
					.auth_req = (uint8_t)((mitm_r ? SM_AUTH_MITM : 0) |
							      (sc_r ? SM_AUTH_SC : 0) |
							      (f & 2 ? SM_AUTH_KEYPRESS : 0)),
					.max_key_size = 16,
				};
				int want = (sc ? oob_sc : oob_legacy)[oob_i][oob_r];

				if (want == IO && !mitm_i && !mitm_r)
					want = JW;
				else if (want == IO)
					want = (int)(sc ? table_sc : table_legacy)[ri][ii];
				assert_int_equal(sm_pairing_is_sc(&req, &rsp), sc);
				assert_int_equal(sm_pairing_method(&req, &rsp), want);
				checked++;
			}
	assert_int_equal(checked, 5 * 5 * 64);
}

static void test_reserved_io_capability_is_just_works(void **state)
{
	struct sm_pairing req = {.io_cap = 0x05, .auth_req = SM_AUTH_MITM | SM_AUTH_SC};
	struct sm_pairing rsp = {.io_cap = SM_IO_KEYBOARD_DISPLAY, .auth_req = SM_AUTH_MITM};

	assert_int_equal(sm_pairing_method(&req, &rsp), SM_METHOD_JUST_WORKS);
	req.io_cap = SM_IO_KEYBOARD_ONLY;
	rsp.io_cap = 0xff;
	assert_int_equal(sm_pairing_method(&req, &rsp), SM_METHOD_JUST_WORKS);
}

static void test_passkey_roles(void **state)
{
	assert_int_equal(sm_method_passkey_role(ID, true), SM_PASSKEY_DISPLAY);
	assert_int_equal(sm_method_passkey_role(ID, false), SM_PASSKEY_INPUT);
	assert_int_equal(sm_method_passkey_role(RD, true), SM_PASSKEY_INPUT);
	assert_int_equal(sm_method_passkey_role(RD, false), SM_PASSKEY_DISPLAY);
	assert_int_equal(sm_method_passkey_role(BI, true), SM_PASSKEY_INPUT);
	assert_int_equal(sm_method_passkey_role(BI, false), SM_PASSKEY_INPUT);
	for (int m = JW; m <= OB; m++) {
		if (m == ID || m == RD || m == BI)
			continue;
		assert_int_equal(sm_method_passkey_role(m, true), SM_PASSKEY_NONE);
		assert_int_equal(sm_method_passkey_role(m, false), SM_PASSKEY_NONE);
	}
	assert_false(sm_method_authenticated(JW));
	for (int m = ID; m <= OB; m++)
		assert_true(sm_method_authenticated(m));
	assert_string_equal(sm_method_str(NC), "Numeric Comparison");
	assert_string_equal(sm_method_str(ID), "Passkey Entry (initiator displays)");
}

static void test_key_size(void **state)
{
	static const struct {
		uint8_t a, b;
		int r, size;
	} cases_ks[] = {
		{16, 16, 0, 16},     {7, 16, 0, 7},	    {16, 7, 0, 7},
		{10, 12, 0, 10},     {7, 7, 0, 7},	    {6, 16, -EINVAL, 0},
		{16, 6, -EINVAL, 0}, {17, 16, -EINVAL, 0},  {16, 17, -EINVAL, 0},
		{0, 0, -EINVAL, 0},  {255, 16, -EINVAL, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases_ks); i++) {
		uint8_t size = 0;

		assert_int_equal(sm_key_size(cases_ks[i].a, cases_ks[i].b, &size), cases_ks[i].r);
		assert_int_equal(size, cases_ks[i].size);
	}
}

static void test_security_level(void **state)
{
	struct sm_security s;

	s = sm_security_of(JW, true, 16);
	assert_int_equal(s.level, SM_LEVEL_UNAUTHENTICATED);
	assert_false(s.authenticated);
	assert_true(s.sc);
	assert_int_equal(s.key_size, 16);
	s = sm_security_of(JW, false, 7);
	assert_int_equal(s.level, SM_LEVEL_UNAUTHENTICATED);
	s = sm_security_of(ID, false, 16);
	assert_int_equal(s.level, SM_LEVEL_AUTHENTICATED);
	assert_true(s.authenticated);
	assert_false(s.sc);
	s = sm_security_of(OB, false, 16);
	assert_int_equal(s.level, SM_LEVEL_AUTHENTICATED);
	s = sm_security_of(NC, true, 16);
	assert_int_equal(s.level, SM_LEVEL_SC);
	s = sm_security_of(RD, true, 16);
	assert_int_equal(s.level, SM_LEVEL_SC);
	/* level 4 needs a 128-bit key */
	s = sm_security_of(NC, true, 15);
	assert_int_equal(s.level, SM_LEVEL_AUTHENTICATED);
	assert_int_equal(s.key_size, 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_pdu_round_trips_exact_bytes),
		cmocka_unit_test(test_every_wrong_length_is_rejected),
		cmocka_unit_test(test_reserved_values_are_rejected),
		cmocka_unit_test(test_rfu_bits_are_ignored_and_any_reason_accepted),
		cmocka_unit_test(test_unknown_codes),
		cmocka_unit_test(test_reason_and_code_names),
		cmocka_unit_test(test_iocap_of_f6),
		cmocka_unit_test(test_method_of_every_cell),
		cmocka_unit_test(test_reserved_io_capability_is_just_works),
		cmocka_unit_test(test_passkey_roles),
		cmocka_unit_test(test_key_size),
		cmocka_unit_test(test_security_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
