/* sm-method.h — what a Pairing Request and Response agree on (Core 5.4 Vol 3 Part H 2.3): the
 * pairing method (2.3.5.1, Tables 2.6 to 2.8), the encryption key size (2.3.4) and the security
 * the resulting keys give (the LE security mode 1 levels of Vol 3 Part C 10.2.1). Pure functions
 * of the two PDUs' fields (sm-pdu.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bt/sm-pdu.h"

enum sm_method {
	SM_METHOD_JUST_WORKS,
	SM_METHOD_PASSKEY_INITIATOR_DISPLAYS, /* the responder inputs */
	SM_METHOD_PASSKEY_RESPONDER_DISPLAYS, /* the initiator inputs */
	SM_METHOD_PASSKEY_BOTH_INPUT,	      /* both keyboards, the user types one passkey twice */
	SM_METHOD_NUMERIC_COMPARISON,	      /* Secure Connections only */
	SM_METHOD_OOB,
};

/* True when both sides set the SC flag: LE Secure Connections pairing, else LE legacy. */
bool sm_pairing_is_sc(const struct sm_pairing *preq, const struct sm_pairing *pres);

/* The method of 2.3.5.1 from the initiator's Pairing Request and the responder's Response:
 * out of band data (legacy: both sides have it; SC: either side has the peer's) wins; else
 * without MITM on either side Just Works; else the IO capabilities of Table 2.8, with numeric
 * comparison in the cells SC gives it. A reserved IO capability counts as NoInputNoOutput (the
 * decoder rejects it before). */
enum sm_method sm_pairing_method(const struct sm_pairing *preq, const struct sm_pairing *pres);

/* Passkey Entry roles: what the user does on one side. */
enum sm_passkey_role {
	SM_PASSKEY_NONE,    /* not a passkey method */
	SM_PASSKEY_DISPLAY, /* this side generates and shows the passkey */
	SM_PASSKEY_INPUT,   /* the user types the passkey here */
};
enum sm_passkey_role sm_method_passkey_role(enum sm_method m, bool initiator);

/* Whether the method protects against a man in the middle: all but Just Works. */
bool sm_method_authenticated(enum sm_method m);
/* "Just Works", "Passkey Entry (initiator displays)", ... */
const char *sm_method_str(enum sm_method m);

/* The encryption key size (2.3.4): the smaller of both maximums. -EINVAL when either is
 * outside 7..16 (fail pairing with SM_ERR_ENC_KEY_SIZE). */
int sm_key_size(uint8_t init_max, uint8_t resp_max, uint8_t *ret);

/* The levels: enum sm_level of otad/bt-sm.h. */

/* What a pairing's keys give a link. */
struct sm_security {
	uint8_t level; /* enum sm_level */
	bool authenticated;
	bool sc;
	uint8_t key_size;
};

/* The security of keys made by method m, with Secure Connections or not, of key_size octets. */
struct sm_security sm_security_of(enum sm_method m, bool sc, uint8_t key_size);
