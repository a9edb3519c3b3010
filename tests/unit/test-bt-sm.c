/* test-bt-sm.c — the Security Manager's pure parts (src/bt/sm-*.c): the toolbox against the
 * Core 5.4 sample data (Vol 3 Part H Appendix D, the c1/s1 examples of 2.2.3/2.2.4, the P-256
 * data sets of Vol 2 Part G 7.1.2, whose key A is the debug key of Vol 3 Part H 2.3.5.6.1),
 * public key validation, random addresses, every PDU byte for byte with every wrong length and
 * reserved value, the pairing method of every cell of Tables 2.6 to 2.8, key sizes and security
 * levels. Sample values are written MSB-first as the spec prints them; le() reverses them into
 * the LSB-first order of the code and of the wire. */
#include <ctype.h>
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/sm-crypto.h"
#include "bt/sm-p256.h"

/* MSB-first hex of exactly n octets (spaces ignored) into out, LSB-first. */
static void le(const char *hex, uint8_t *out, size_t n)
{
	size_t i = 0;

	for (const char *p = hex; *p; p++) {
		unsigned v;

		if (*p == ' ')
			continue;
		assert_true(isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]));
		assert_true(i < n);
		assert_int_equal(sscanf(p, "%2x", &v), 1);
		out[n - 1 - i++] = (uint8_t)v;
		p++;
	}
	assert_int_equal(i, n);
}

static void assert_le(const uint8_t *got, const char *want_hex, size_t n)
{
	uint8_t want[80];

	le(want_hex, want, n);
	assert_memory_equal(got, want, n);
}

/* A public key X || Y from the spec's two MSB-first coordinates. */
static void pub_le(const char *x, const char *y, uint8_t out[SM_P256_PUBLIC_LEN])
{
	le(x, out, 32);
	le(y, out + 32, 32);
}

static struct bt_addr addr(uint8_t type, const char *hex)
{
	struct bt_addr a = {.type = type};

	le(hex, a.b, 6);
	return a;
}

/* ---- AES, AES-CMAC and the functions of 2.2 ---- */

static void test_e_is_fips197_aes128(void **state)
{
	uint8_t k[16], in[16], out[16];

	/* FIPS-197 Appendix C.1 */
	le("00010203 04050607 08090a0b 0c0d0e0f", k, 16);
	le("00112233 44556677 8899aabb ccddeeff", in, 16);
	assert_int_equal(sm_e(k, in, out), 0);
	assert_le(out, "69c4e0d8 6a7b0430 d8cdb780 70b4c55a", 16);
}

static void test_aes_cmac_matches_d1(void **state)
{
	/* D.1 (RFC 4493 4): the four examples, messages of 0, 16, 40 and 64 octets */
	static const char *const msg = "6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c "
				       "9eb76fac 45af8e51 30c81c46 a35ce411 e5fbc119 1a0a52ef "
				       "f69f2445 df4f9b17 ad2b417b e66c3710";
	static const struct {
		size_t len;
		const char *mac;
	} ex[] = {
		{0, "bb1d6929 e9593728 7fa37d12 9b756746"},
		{16, "070a16b4 6b4d4144 f79bdd9d d04a287c"},
		{40, "dfa66747 de9ae630 30ca3261 1497c827"},
		{64, "51f0bebf 7e3b9d92 fc497417 79363cfe"},
	};
	uint8_t k[16], all[64], m[64], mac[16];

	le("2b7e1516 28aed2a6 abf71588 09cf4f3c", k, 16);
	le(msg, all, 64);
	for (size_t i = 0; i < ARRAY_SIZE(ex); i++) {
		/* the first len octets of the MSB-first message are the last len of all[] */
		memcpy(m, all + 64 - ex[i].len, ex[i].len);
		assert_int_equal(sm_aes_cmac(k, m, ex[i].len, mac), 0);
		assert_le(mac, ex[i].mac, 16);
	}
}

/* libcrypto's CMAC of the MSB-first message, for messages longer than the examples */
static void reference_cmac(const uint8_t key_le[16], const uint8_t *m_le, size_t len,
			   uint8_t out_le[16])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0),
		OSSL_PARAM_construct_end(),
	};
	uint8_t k[16], m[300], t[16];
	size_t n;

	assert_true(len <= sizeof(m));
	for (size_t i = 0; i < 16; i++)
		k[i] = key_le[15 - i];
	for (size_t i = 0; i < len; i++)
		m[i] = m_le[len - 1 - i];
	assert_int_equal(EVP_MAC_init(ctx, k, 16, params), 1);
	assert_int_equal(EVP_MAC_update(ctx, m, len), 1);
	assert_int_equal(EVP_MAC_final(ctx, t, &n, sizeof(t)), 1);
	for (size_t i = 0; i < 16; i++)
		out_le[i] = t[15 - i];
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

static void test_aes_cmac_of_any_length_reverses_the_whole_message(void **state)
{
	uint8_t k[16], m[300], got[16], want[16];

	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)(0xa5 ^ i);
	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(m); len += 13) {
		assert_int_equal(sm_aes_cmac(k, m, len, got), 0);
		reference_cmac(k, m, len, want);
		assert_memory_equal(got, want, 16);
	}
}

static void test_ah_matches_d7(void **state)
{
	uint8_t irk[16], r[3], hash[3];

	le("ec0234a3 57c8ad05 341010a6 0a397d9b", irk, 16);
	le("708194", r, 3);
	assert_int_equal(sm_ah(irk, r, hash), 0);
	assert_le(hash, "0dfbaa", 3);
}

static void test_c1_and_s1_match_legacy_examples(void **state)
{
	/* 2.2.3: k 0, r, preq 0x07071000000101, pres 0x05000800000302, iat 1, ia A1A2A3A4A5A6,
	 * rat 0, ra B1B2B3B4B5B6 */
	struct bt_addr ia = addr(BT_ADDR_LE_RANDOM, "a1a2a3a4a5a6");
	struct bt_addr ra = addr(BT_ADDR_LE_PUBLIC, "b1b2b3b4b5b6");
	uint8_t k[16] = {0}, r[16], preq[7], pres[7], out[16], r1[16], r2[16];

	le("5783d521 56ad6f0e 6388274e c6702ee0", r, 16);
	le("07071000000101", preq, 7);
	le("05000800000302", pres, 7);
	assert_int_equal(preq[0], 0x01); /* as sent: the Pairing Request code first */
	assert_int_equal(sm_c1(k, r, preq, pres, &ia, &ra, out), 0);
	assert_le(out, "1e1e3fef 878988ea d2a74dc5 bef13b86", 16);

	/* 2.2.4: r1 = 0x000F0E0D0C0B0A091122334455667788, r2 = 0x010203040506070899AABBCCDDEEFF00
	 */
	le("000f0e0d 0c0b0a09 11223344 55667788", r1, 16);
	le("01020304 05060708 99aabbcc ddeeff00", r2, 16);
	assert_int_equal(sm_s1(k, r1, r2, out), 0);
	assert_le(out, "9a1fe1f0 e8b0f49b 5b4216ae 796da062", 16);
}

/* Appendix D's shared operands: PKax, PKbx, Na (N1), Nb (N2), the addresses */
#define D_PKAX	 "20b003d2 f297be2c 5e2c83a7 e9f9a5b9 eff49111 acf4fddb cc030148 0e359de6"
#define D_PKBX	 "55188b3d 32f6bb9a 900afcfb eed4e72a 59cb9ac2 f19d7cfb 6b4fdd49 f47fc5fd"
#define D_NA	 "d5cb8454 d177733e ffffb2ec 712baeab"
#define D_NB	 "a6e8e7cc 25a75f6e 216583f7 ff3dc4cf"
#define D_DHKEY	 "ec0234a3 57c8ad05 341010a6 0a397d9b 99796b13 b4f866f1 868d34f3 73bfa698"
#define D_MACKEY "2965f176 a1084a02 fd3f6a20 ce636e20"

static void test_f4_matches_d2(void **state)
{
	uint8_t u[32], v[32], x[16], out[16];

	le(D_PKAX, u, 32);
	le(D_PKBX, v, 32);
	le(D_NA, x, 16);
	assert_int_equal(sm_f4(u, v, x, 0x00, out), 0);
	assert_le(out, "f2c916f1 07a9bd1c f1eda1be a974872d", 16);
}

static void test_f5_matches_d3(void **state)
{
	/* A1 0x00561237 37bfce, A2 0x00a71370 2dcfc1: public addresses */
	struct bt_addr a1 = addr(BT_ADDR_LE_PUBLIC, "56123737bfce");
	struct bt_addr a2 = addr(BT_ADDR_LE_PUBLIC, "a713702dcfc1");
	uint8_t w[32], n1[16], n2[16], mackey[16], ltk[16];

	le(D_DHKEY, w, 32);
	le(D_NA, n1, 16);
	le(D_NB, n2, 16);
	assert_int_equal(sm_f5(w, n1, n2, &a1, &a2, mackey, ltk), 0);
	assert_le(mackey, D_MACKEY, 16);
	assert_le(ltk, "69867911 69d7cd23 980522b5 94750a38", 16);
}

static void test_f6_matches_d4(void **state)
{
	struct bt_addr a1 = addr(BT_ADDR_LE_PUBLIC, "56123737bfce");
	struct bt_addr a2 = addr(BT_ADDR_LE_PUBLIC, "a713702dcfc1");
	uint8_t w[16], n1[16], n2[16], r[16], io[3], out[16];

	le(D_MACKEY, w, 16);
	le(D_NA, n1, 16);
	le(D_NB, n2, 16);
	le("12a3343b b453bb54 08da42d2 0c2d0fc8", r, 16);
	le("010102", io, 3); /* AuthReq 01, OOB 01, IO capability 02 */
	assert_int_equal(sm_f6(w, n1, n2, r, io, &a1, &a2, out), 0);
	assert_le(out, "e3c47398 9cd0e8c5 d26c0b09 da958f61", 16);
}

static void test_g2_matches_d5(void **state)
{
	uint8_t u[32], v[32], x[16], y[16];
	uint32_t val = 0;

	le(D_PKAX, u, 32);
	le(D_PKBX, v, 32);
	le(D_NA, x, 16);
	le(D_NB, y, 16);
	assert_int_equal(sm_g2(u, v, x, y, &val), 0);
	/* g2 = 0x2f9ed5ba; 0x2f9ed5ba mod 10^6 = 938554 */
	assert_int_equal(val, 0x2f9ed5ba % 1000000);
	assert_int_equal(val, 938554);
}

static void test_h6_h7_match_d6_d8(void **state)
{
	uint8_t w[16], key_id[4], salt[16], out[16];

	le("ec0234a3 57c8ad05 341010a6 0a397d9b", w, 16);
	le("6c656272", key_id, 4); /* "lebr" */
	assert_int_equal(sm_h6(w, key_id, out), 0);
	assert_le(out, "2d9ae102 e76dc91c e8d3a9e2 80b16399", 16);
	le("00000000 00000000 00000000 746d7031", salt, 16); /* "tmp1" */
	assert_int_equal(sm_h7(salt, w, out), 0);
	assert_le(out, "fb173597 c6a3c0ec d2998c2a 75a57011", 16);
}

/* ---- P-256 ---- */

#define DEBUG_PRIV "3f49f6d4 a3c55f38 74c9b3e3 d2103f50 4aff607b eb40b799 5899b8a6 cd3c1abd"
#define DEBUG_X	   D_PKAX
#define DEBUG_Y	   "dc809c49 652aeb6d 63329abf 5a52155c 766345c2 8fed3024 741c8ed0 1589d28b"
#define B1_PRIV	   D_PKBX /* Vol 2 Part G 7.1.2.1: private key B */
#define B1_X	   "1ea1f0f0 1faf1d96 09592284 f19e4c00 47b58afd 8615a69f 559077b2 2faaa190"
#define B1_Y	   "4c55f33e 429dad37 7356703a 9ab85160 472d1130 e28e3676 5f89aff9 15b1214a"

static struct sm_p256_key *key_of(const char *priv_hex)
{
	struct sm_p256_key *k = NULL;
	uint8_t d[32];

	le(priv_hex, d, 32);
	assert_int_equal(sm_p256_key_from_private(d, &k), 0);
	assert_non_null(k);
	return k;
}

static void test_debug_key_gives_the_debug_public_key(void **state)
{
	_cleanup_(sm_p256_key_freep) struct sm_p256_key *k = key_of(DEBUG_PRIV);
	uint8_t want[64], d[32];

	le(DEBUG_PRIV, d, 32);
	assert_memory_equal(sm_p256_debug_private, d, 32);
	pub_le(DEBUG_X, DEBUG_Y, want);
	assert_memory_equal(sm_p256_key_public(k), want, 64);
	assert_true(sm_p256_is_debug(want));
	assert_int_equal(sm_p256_check_public(want), 0);
}

static void check_data_set(const char *a_priv, const char *ax, const char *ay, const char *b_priv,
			   const char *bx, const char *by, const char *dhkey)
{
	_cleanup_(sm_p256_key_freep) struct sm_p256_key *a = key_of(a_priv), *b = key_of(b_priv);
	uint8_t pa[64], pb[64], dh[32];

	pub_le(ax, ay, pa);
	pub_le(bx, by, pb);
	assert_memory_equal(sm_p256_key_public(a), pa, 64);
	assert_memory_equal(sm_p256_key_public(b), pb, 64);
	assert_int_equal(sm_p256_dhkey(a, pb, dh), 0);
	assert_le(dh, dhkey, 32);
	memset(dh, 0, sizeof(dh));
	assert_int_equal(sm_p256_dhkey(b, pa, dh), 0);
	assert_le(dh, dhkey, 32);
}

static void test_dhkey_matches_p256_sample_data(void **state)
{
	/* Data set 1: A is the debug key, and its DHKey is Appendix D's W */
	check_data_set(DEBUG_PRIV, DEBUG_X, DEBUG_Y, B1_PRIV, B1_X, B1_Y, D_DHKEY);
	check_data_set("06a51669 3c9aa31a 6084545d 0c5db641 b48572b9 7203ddff b7ac73f7 d0457663",
		       "2c31a47b 5779809e f44cb5ea af5c3e43 d5f8faad 4a8794cb 987e9b03 745c78dd",
		       "91951218 3898dfbe cd52e240 8e43871f d0211091 17bd3ed4 eaf84377 43715d4f",
		       "529aa067 0d72cd64 97502ed4 73502b03 7e8803b5 c60829a5 a3caa219 505530ba",
		       "f465e43f f23d3f1b 9dc7dfc0 4da87581 84dbc966 204796ec cf0d6cf5 e16500cc",
		       "0201d048 bcbbd899 eeefc424 164e33c2 01c2b010 ca6b4d43 a8a155ca d8ecb279",
		       "ab85843a 2f6d883f 62e5684b 38e30733 5fe6e194 5ecd1960 4105c6f2 3221eb69");
}

#define P256_P "ffffffff 00000001 00000000 00000000 00000000 ffffffff ffffffff ffffffff"
#define ZERO32 "00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
#define ONES32 "ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff"
/* (0, Y0) is a point of the curve */
#define Y0 "66485c78 0e2f83d7 2433bd5d 84a06bb6 541c2af3 1dae8717 28bf856a 174f93f4"

static void test_invalid_public_keys_are_rejected(void **state)
{
	_cleanup_(sm_p256_key_freep) struct sm_p256_key *k = key_of(B1_PRIV);
	static const struct {
		const char *x, *y;
	} bad[] = {
		/* CVE-2018-5383: Y zeroed, a point of order 2 on another curve */
		{DEBUG_X, ZERO32},
		/* Y off by one */
		{DEBUG_X,
		 "dc809c49 652aeb6d 63329abf 5a52155c 766345c2 8fed3024 741c8ed0 1589d28c"},
		{ZERO32, ZERO32},
		/* X = p is 0 modulo p, but no field element: (p, Y0) is not (0, Y0) */
		{P256_P, Y0},
		{DEBUG_X, P256_P},
		{ONES32, ONES32},
	};
	uint8_t pub[64], dh[32] = {0}, zero[32] = {0};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		pub_le(bad[i].x, bad[i].y, pub);
		assert_int_equal(sm_p256_check_public(pub), -EINVAL);
		assert_int_equal(sm_p256_dhkey(k, pub, dh), -EINVAL);
		assert_memory_equal(dh, zero, 32);
	}
	pub_le(ZERO32, Y0, pub);
	assert_int_equal(sm_p256_check_public(pub), 0);
	assert_int_equal(sm_p256_dhkey(k, pub, dh), 0);
}

static void test_own_x_coordinate_is_refused(void **state)
{
	_cleanup_(sm_p256_key_freep) struct sm_p256_key *b = key_of(B1_PRIV),
							*d = key_of(DEBUG_PRIV);
	uint8_t pub[64], dh[32];

	/* our key reflected back, and its negation (X, p - Y) */
	assert_int_equal(sm_p256_dhkey(b, sm_p256_key_public(b), dh), -EEXIST);
	pub_le(B1_X, "b3aa0cc0 bd6252c9 8ca98fc5 6547ae9f b8d2eed0 1d71c989 a0765006 ea4edeb5",
	       pub);
	assert_int_equal(sm_p256_check_public(pub), 0);
	assert_int_equal(sm_p256_dhkey(b, pub, dh), -EEXIST);
	/* two devices in debug mode share the debug key */
	assert_int_equal(sm_p256_dhkey(d, sm_p256_key_public(d), dh), 0);
	assert_false(sm_p256_is_debug(sm_p256_key_public(b)));
}

static void test_private_key_range(void **state)
{
	struct sm_p256_key *k = NULL;
	uint8_t d[32] = {0}, g_neg[64];

	assert_int_equal(sm_p256_key_from_private(d, &k), -EINVAL);
	le("ffffffff 00000000 ffffffff ffffffff bce6faad a7179e84 f3b9cac2 fc632551", d, 32);
	assert_int_equal(sm_p256_key_from_private(d, &k), -EINVAL); /* n */
	assert_null(k);
	/* n - 1 gives -G = (Gx, p - Gy) */
	le("ffffffff 00000000 ffffffff ffffffff bce6faad a7179e84 f3b9cac2 fc632550", d, 32);
	assert_int_equal(sm_p256_key_from_private(d, &k), 0);
	pub_le("6b17d1f2 e12c4247 f8bce6e5 63a440f2 77037d81 2deb33a0 f4a13945 d898c296",
	       "b01cbd1c 01e58065 711814b5 83f061e9 d431cca9 94cea131 3449bf97 c840ae0a", g_neg);
	assert_memory_equal(sm_p256_key_public(k), g_neg, 64);
	assert_null(sm_p256_key_free(k));
	assert_null(sm_p256_key_free(NULL));
}

static void test_fresh_keys_agree_on_the_dhkey(void **state)
{
	_cleanup_(sm_p256_key_freep) struct sm_p256_key *a = NULL, *b = NULL;
	uint8_t dh_a[32], dh_b[32];

	assert_int_equal(sm_p256_key_new(&a), 0);
	assert_int_equal(sm_p256_key_new(&b), 0);
	assert_memory_not_equal(sm_p256_key_public(a), sm_p256_key_public(b), 64);
	assert_int_equal(sm_p256_check_public(sm_p256_key_public(a)), 0);
	assert_false(sm_p256_is_debug(sm_p256_key_public(a)));
	assert_int_equal(sm_p256_dhkey(a, sm_p256_key_public(b), dh_a), 0);
	assert_int_equal(sm_p256_dhkey(b, sm_p256_key_public(a), dh_b), 0);
	assert_memory_equal(dh_a, dh_b, 32);
}

/* ---- Random addresses ---- */

static void test_rpa_of_d7_resolves(void **state)
{
	uint8_t irk[16], other[16], prand[3];
	struct bt_addr rpa, a;

	le("ec0234a3 57c8ad05 341010a6 0a397d9b", irk, 16);
	memcpy(other, irk, 16);
	other[0] ^= 1;
	/* prand 0x708194 above hash 0x0dfbaa: 70:81:94:0D:FB:AA */
	le("708194", prand, 3);
	assert_int_equal(sm_rpa_from_prand(irk, prand, &rpa), 0);
	a = addr(BT_ADDR_LE_RANDOM, "7081940dfbaa");
	assert_true(bt_addr_equal(&rpa, &a));
	assert_true(sm_addr_is_rpa(&a));
	assert_int_equal(sm_rpa_resolve(irk, &a), 1);
	assert_int_equal(sm_rpa_resolve(other, &a), 0);
	a.b[0] ^= 0x01; /* a hash bit */
	assert_int_equal(sm_rpa_resolve(irk, &a), 0);
	a.b[0] ^= 0x01;
	a.type = BT_ADDR_LE_PUBLIC;
	assert_int_equal(sm_rpa_resolve(irk, &a), 0);
}

static void test_rpa_round_trip(void **state)
{
	uint8_t irk[16], other[16];
	struct bt_addr a, b;

	for (size_t i = 0; i < 16; i++) {
		irk[i] = (uint8_t)(i * 17 + 1);
		other[i] = (uint8_t)(i * 17 + 2);
	}
	for (int i = 0; i < 200; i++) {
		assert_int_equal(sm_rpa_generate(irk, &a), 0);
		assert_int_equal(a.type, BT_ADDR_LE_RANDOM);
		assert_int_equal(a.b[5] & 0xc0, 0x40);
		assert_true(sm_addr_is_rpa(&a));
		assert_false(sm_addr_is_static(&a));
		assert_int_equal(sm_rpa_resolve(irk, &a), 1);
		assert_int_equal(sm_rpa_resolve(other, &a), 0);
	}
	assert_int_equal(sm_rpa_generate(irk, &b), 0);
	assert_false(bt_addr_equal(&a, &b)); /* 2^-22 to fail */
}

static void test_rpa_prand_rules(void **state)
{
	static const char *const bad[] = {
		"000001", /* top bits 00: non-resolvable */
		"c00001", /* 11: static */
		"800001", /* 10: reserved */
		"400000", /* random part all zeros */
		"7fffff", /* all ones */
	};
	uint8_t irk[16] = {1}, prand[3];
	struct bt_addr a = {0};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		le(bad[i], prand, 3);
		assert_int_equal(sm_rpa_from_prand(irk, prand, &a), -EINVAL);
	}
	le("400001", prand, 3);
	assert_int_equal(sm_rpa_from_prand(irk, prand, &a), 0);
	le("7ffffe", prand, 3);
	assert_int_equal(sm_rpa_from_prand(irk, prand, &a), 0);
}

static void test_static_addresses(void **state)
{
	struct bt_addr a;

	for (int i = 0; i < 200; i++) {
		assert_int_equal(sm_static_addr_generate(&a), 0);
		assert_int_equal(a.type, BT_ADDR_LE_RANDOM);
		assert_int_equal(a.b[5] & 0xc0, 0xc0);
		assert_true(sm_addr_is_static(&a));
		assert_false(sm_addr_is_rpa(&a));
	}
	a = addr(BT_ADDR_LE_RANDOM, "ffffffffffff");
	assert_false(sm_addr_is_static(&a));
	a = addr(BT_ADDR_LE_RANDOM, "c00000000000");
	assert_false(sm_addr_is_static(&a));
	a = addr(BT_ADDR_LE_RANDOM, "c00000000001");
	assert_true(sm_addr_is_static(&a));
	a = addr(BT_ADDR_LE_RANDOM, "fffffffffffe");
	assert_true(sm_addr_is_static(&a));
	a.type = BT_ADDR_LE_PUBLIC;
	assert_false(sm_addr_is_static(&a));
	a = addr(BT_ADDR_LE_RANDOM, "7fffffffffff");
	assert_false(sm_addr_is_static(&a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e_is_fips197_aes128),
		cmocka_unit_test(test_aes_cmac_matches_d1),
		cmocka_unit_test(test_aes_cmac_of_any_length_reverses_the_whole_message),
		cmocka_unit_test(test_ah_matches_d7),
		cmocka_unit_test(test_c1_and_s1_match_legacy_examples),
		cmocka_unit_test(test_f4_matches_d2),
		cmocka_unit_test(test_f5_matches_d3),
		cmocka_unit_test(test_f6_matches_d4),
		cmocka_unit_test(test_g2_matches_d5),
		cmocka_unit_test(test_h6_h7_match_d6_d8),
		cmocka_unit_test(test_debug_key_gives_the_debug_public_key),
		cmocka_unit_test(test_dhkey_matches_p256_sample_data),
		cmocka_unit_test(test_invalid_public_keys_are_rejected),
		cmocka_unit_test(test_own_x_coordinate_is_refused),
		cmocka_unit_test(test_private_key_range),
		cmocka_unit_test(test_fresh_keys_agree_on_the_dhkey),
		cmocka_unit_test(test_rpa_of_d7_resolves),
		cmocka_unit_test(test_rpa_round_trip),
		cmocka_unit_test(test_rpa_prand_rules),
		cmocka_unit_test(test_static_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
