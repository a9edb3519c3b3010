/* sm-p256.h — the P-256 key pair of LE Secure Connections pairing (Core 5.4 Vol 3 Part H 2.3.5.6)
 * and its Diffie-Hellman key, over libcrypto's EVP_PKEY.
 *
 * Byte order, as the Pairing Public Key PDU (3.5.6) carries it and like sm-crypto.h: a public key
 * is 64 octets, X then Y, each coordinate LSB-first; a private key and the DHKey are 32 octets
 * LSB-first. The DHKey is the X coordinate of the shared point, the W of f5 (sm_f5()).
 *
 * A peer's public key is checked before it is used (sm_p256_check_public): both coordinates below
 * the field prime and the point on the curve. Without that check a peer can send a point of small
 * order on another curve and learn the DHKey from the few values it can take (the invalid curve
 * attack, CVE-2018-5383). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/macro.h"

#define SM_P256_PUBLIC_LEN  64
#define SM_P256_PRIVATE_LEN 32
#define SM_DHKEY_LEN	    32

/* A private key and its public key. */
struct sm_p256_key;

/* A fresh random key pair; 0, -ENOMEM or -EIO. */
int sm_p256_key_new(struct sm_p256_key **ret);
/* The key pair of a given private scalar (LSB-first), e.g. the debug key below; -EINVAL unless
 * 0 < scalar < the group order. */
int sm_p256_key_from_private(const uint8_t priv[SM_P256_PRIVATE_LEN], struct sm_p256_key **ret);
struct sm_p256_key *sm_p256_key_free(struct sm_p256_key *k);
DEFINE_FREE_CLEANUP(struct sm_p256_key, sm_p256_key_free)

/* The public key as the Pairing Public Key PDU carries it. */
const uint8_t *sm_p256_key_public(const struct sm_p256_key *k);

/* 0 when pub is a point of P-256 (coordinates below p, on the curve), -EINVAL when it is not,
 * -ENOMEM. */
int sm_p256_check_public(const uint8_t pub[SM_P256_PUBLIC_LEN]);

/* The DHKey of our key and the peer's public key, after sm_p256_check_public(): -EINVAL for a
 * peer key that is no point of the curve; -EEXIST for a peer key with our own X coordinate (our
 * key reflected back, or its negation: a peer that pairs with us through ourselves, as in
 * CVE-2020-26558's passkey impersonation; pairing shall fail then), unless both are the debug
 * key, which two devices in debug mode share. */
int sm_p256_dhkey(const struct sm_p256_key *k, const uint8_t peer[SM_P256_PUBLIC_LEN],
		  uint8_t ret_dhkey[SM_DHKEY_LEN]);

/* The debug key pair of 2.3.5.6.1: a device in debug mode uses it so that an air sniffer can
 * decrypt the link. A peer offering the debug public key gives no secrecy (sm_p256_is_debug). */
extern const uint8_t sm_p256_debug_private[SM_P256_PRIVATE_LEN];
bool sm_p256_is_debug(const uint8_t pub[SM_P256_PUBLIC_LEN]);
