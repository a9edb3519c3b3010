/* sm-crypto.h — the Security Manager's cryptographic toolbox (Core 5.4 Vol 3 Part H 2.2) and the
 * LE random device addresses built on it (Vol 6 Part B 1.3.2), over libcrypto's AES and CMAC.
 *
 * Byte order: every value here is LSB-first (least significant octet at index 0), the order in
 * which SMP PDUs (Vol 3 Part H 3.3) and HCI carry them, so PDU fields go in and out unchanged.
 * The specification writes its functions and its sample data (Appendix D) MSB-first, and AES
 * (FIPS-197) and AES-CMAC (RFC 4493) are defined on MSB-first octet strings: each function
 * reverses its operands around the AES and CMAC calls. A test feeding the spec's sample data
 * reverses each value first.
 *
 * Every function returns 0 or a negative errno: -ENOMEM when libcrypto could not allocate,
 * -EIO when a libcrypto operation failed otherwise, -EINVAL for an argument the spec forbids.
 * Nothing logs; nothing keeps state between calls. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/bt-sm.h" /* SM_KEY_LEN */
#include "otad/bt.h"

/* Security function e (2.2.1): AES-128 encryption of one block with key. out may alias in. */
int sm_e(const uint8_t key[SM_KEY_LEN], const uint8_t in[16], uint8_t out[16]);

/* AES-CMAC (2.2.5, RFC 4493) of msg (len octets, any length) with key. In this file's order:
 * msg is the RFC's message with its octets reversed, and so are key and out. */
int sm_aes_cmac(const uint8_t key[SM_KEY_LEN], const uint8_t *msg, size_t len,
		uint8_t out[SM_KEY_LEN]);

/* Random address hash ah (2.2.2): the 24-bit hash of prand r under an IRK. */
int sm_ah(const uint8_t irk[SM_KEY_LEN], const uint8_t r[3], uint8_t out[3]);

/* LE legacy pairing confirm value c1 (2.2.3). preq and pres are the Pairing Request and
 * Response PDUs as sent, code octet first (sm-pdu.h SM_PAIRING_LEN); ia/ra the initiator's and
 * responder's addresses with their types (iat, rat). */
int sm_c1(const uint8_t k[SM_KEY_LEN], const uint8_t r[16], const uint8_t preq[7],
	  const uint8_t pres[7], const struct bt_addr *ia, const struct bt_addr *ra,
	  uint8_t out[16]);

/* LE legacy pairing STK s1 (2.2.4): from the TK and the responder's (r1) and initiator's (r2)
 * random values, whose least significant 64 bits it uses. */
int sm_s1(const uint8_t k[SM_KEY_LEN], const uint8_t r1[16], const uint8_t r2[16],
	  uint8_t out[SM_KEY_LEN]);

/* LE Secure Connections confirm value f4 (2.2.6): u, v are P-256 X coordinates (the first half
 * of a 64-octet public key, sm-p256.h), x a nonce, z 0 or 0x80|passkey bit. */
int sm_f4(const uint8_t u[32], const uint8_t v[32], const uint8_t x[16], uint8_t z,
	  uint8_t out[16]);

/* LE Secure Connections key generation f5 (2.2.7): MacKey and LTK from the DHKey w, the
 * initiator's (n1) and responder's (n2) nonces and addresses (a1, a2, with their types). */
int sm_f5(const uint8_t w[32], const uint8_t n1[16], const uint8_t n2[16], const struct bt_addr *a1,
	  const struct bt_addr *a2, uint8_t ret_mackey[SM_KEY_LEN], uint8_t ret_ltk[SM_KEY_LEN]);

/* LE Secure Connections check value f6 (2.2.8), for the DHKey Check PDU. io_cap is
 * {IO capability, OOB flag, AuthReq} of the side computing it (sm_pairing_iocap(), sm-pdu.h):
 * that is, LSB-first the spec's AuthReq || OOB || IOcap. r is 0, the passkey or the OOB value. */
int sm_f6(const uint8_t w[SM_KEY_LEN], const uint8_t n1[16], const uint8_t n2[16],
	  const uint8_t r[16], const uint8_t io_cap[3], const struct bt_addr *a1,
	  const struct bt_addr *a2, uint8_t out[16]);

/* Numeric comparison value g2 (2.2.9): *ret is the six-digit number both sides display,
 * (g2 mod 2^32) mod 10^6, 0..999999. u, v: initiator's and responder's X; x, y: Na, Nb. */
int sm_g2(const uint8_t u[32], const uint8_t v[32], const uint8_t x[16], const uint8_t y[16],
	  uint32_t *ret);

/* Link key conversion h6 (2.2.10): AES-CMAC of the 4-octet key_id ("lebr" is 72 62 65 6c in
 * this order) under w. */
int sm_h6(const uint8_t w[SM_KEY_LEN], const uint8_t key_id[4], uint8_t out[SM_KEY_LEN]);
/* Link key conversion h7 (2.2.11): AES-CMAC of w under salt. */
int sm_h7(const uint8_t salt[SM_KEY_LEN], const uint8_t w[SM_KEY_LEN], uint8_t out[SM_KEY_LEN]);

/* ---- Random device addresses (Vol 6 Part B 1.3.2; LSB-first like struct bt_addr) ----
 * The two most significant bits of b[5] give the sub-type: 11 static, 01 resolvable private,
 * 00 non-resolvable private. The random part (the bits below those two, of the whole address
 * for a static one, of prand for a resolvable one) shall be neither all zeros nor all ones. */

/* A random static address: a fresh random one in *ret (type BT_ADDR_LE_RANDOM). */
int sm_static_addr_generate(struct bt_addr *ret);
/* True for a random address of the static sub-type with a valid random part. */
bool sm_addr_is_static(const struct bt_addr *a);

/* A resolvable private address under irk (1.3.2.2): b[3..5] = prand, b[0..2] = ah(irk, prand).
 * sm_rpa_generate draws prand; sm_rpa_from_prand takes one (-EINVAL if its top bits are not 01
 * or its random part is all zeros or all ones). */
int sm_rpa_generate(const uint8_t irk[SM_KEY_LEN], struct bt_addr *ret);
int sm_rpa_from_prand(const uint8_t irk[SM_KEY_LEN], const uint8_t prand[3], struct bt_addr *ret);
/* True for a random address of the resolvable private sub-type. */
bool sm_addr_is_rpa(const struct bt_addr *a);
/* Resolution (1.3.2.3): 1 when a is a resolvable private address generated from irk, 0 when it
 * is not (another IRK, another sub-type, a public address), <0 errno. */
int sm_rpa_resolve(const uint8_t irk[SM_KEY_LEN], const struct bt_addr *a);
