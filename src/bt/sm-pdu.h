/* sm-pdu.h — the Security Manager Protocol's PDUs on L2CAP CID 0x0006 (Core 5.4 Vol 3 Part H 3.3
 * to 3.6): codes, field values, reason codes, and one decoder and one encoder for all of them.
 * Pure functions over buffers. Multi-octet fields are LSB-first on the wire and stay so here
 * (keys, values, Rand, addresses: the order sm-crypto.h takes); EDIV is a number. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/bt-sm.h"
#include "otad/bt.h"

#define SM_PDU_MAX     65 /* Pairing Public Key: code + 64 */
#define SM_PAIRING_LEN 7  /* Pairing Request/Response: the preq/pres of sm_c1() */

/* 3.3 Table 3.4 */
enum sm_code {
	SM_PAIRING_REQUEST = 0x01,
	SM_PAIRING_RESPONSE = 0x02,
	SM_PAIRING_CONFIRM = 0x03,
	SM_PAIRING_RANDOM = 0x04,
	SM_PAIRING_FAILED = 0x05,
	SM_ENCRYPTION_INFO = 0x06,
	SM_CENTRAL_IDENT = 0x07,
	SM_IDENTITY_INFO = 0x08,
	SM_IDENTITY_ADDR_INFO = 0x09,
	SM_SIGNING_INFO = 0x0a,
	SM_SECURITY_REQUEST = 0x0b,
	SM_PAIRING_PUBLIC_KEY = 0x0c,
	SM_PAIRING_DHKEY_CHECK = 0x0d,
	SM_KEYPRESS_NOTIFY = 0x0e,
};

/* 3.5.1 Table 3.5: enum sm_io_cap of otad/bt-sm.h; 0x05-0xff reserved */

/* 3.5.1 Table 3.6 (OOB data flag); 0x02-0xff reserved */
enum {
	SM_OOB_NOT_PRESENT = 0x00,
	SM_OOB_PRESENT = 0x01,
};

/* 3.5.1 Figure 3.3 (AuthReq): Bonding_Flags in bits 0-1 (00 no bonding, 01 bonding, 1x
 * reserved), then MITM, SC, Keypress, CT2; bits 6-7 RFU. */
enum {
	SM_AUTH_BONDING = 0x01,
	SM_AUTH_MITM = 0x04,
	SM_AUTH_SC = 0x08,
	SM_AUTH_KEYPRESS = 0x10,
	SM_AUTH_CT2 = 0x20,
};
#define SM_AUTH_BONDING_MASK 0x03
#define SM_AUTH_RFU	     0xc0

/* 3.6.1 Figure 3.11 (Initiator/Responder Key Distribution); bits 4-7 RFU */
enum {
	SM_DIST_ENC_KEY = 0x01,	 /* LTK + EDIV/Rand (legacy), or the LTK derived (SC) */
	SM_DIST_ID_KEY = 0x02,	 /* IRK + identity address */
	SM_DIST_SIGN_KEY = 0x04, /* CSRK */
	SM_DIST_LINK_KEY = 0x08, /* BR/EDR link key derivation */
};
#define SM_DIST_RFU 0xf0

/* 3.5.5 Table 3.7: the reason of Pairing Failed */
enum sm_reason {
	SM_ERR_PASSKEY_ENTRY_FAILED = 0x01,
	SM_ERR_OOB_NOT_AVAILABLE = 0x02,
	SM_ERR_AUTH_REQUIREMENTS = 0x03,
	SM_ERR_CONFIRM_VALUE_FAILED = 0x04,
	SM_ERR_PAIRING_NOT_SUPPORTED = 0x05,
	SM_ERR_ENC_KEY_SIZE = 0x06,
	SM_ERR_CMD_NOT_SUPPORTED = 0x07,
	SM_ERR_UNSPECIFIED = 0x08,
	SM_ERR_REPEATED_ATTEMPTS = 0x09,
	SM_ERR_INVALID_PARAMS = 0x0a,
	SM_ERR_DHKEY_CHECK_FAILED = 0x0b,
	SM_ERR_NUMERIC_COMPARISON_FAILED = 0x0c,
	SM_ERR_BREDR_PAIRING_IN_PROGRESS = 0x0d,
	SM_ERR_CROSS_TRANSPORT_NOT_ALLOWED = 0x0e,
	SM_ERR_KEY_REJECTED = 0x0f,
};

/* 3.5.8 Table 3.8 (Notification Type); 0x05-0xff reserved */
enum sm_keypress {
	SM_KEYPRESS_STARTED = 0x00,
	SM_KEYPRESS_DIGIT_ENTERED = 0x01,
	SM_KEYPRESS_DIGIT_ERASED = 0x02,
	SM_KEYPRESS_CLEARED = 0x03,
	SM_KEYPRESS_COMPLETED = 0x04,
};

/* Pairing Request and Pairing Response (3.5.1, 3.5.2) */
struct sm_pairing {
	uint8_t io_cap;	      /* enum sm_io_cap */
	uint8_t oob;	      /* SM_OOB_* */
	uint8_t auth_req;     /* SM_AUTH_* */
	uint8_t max_key_size; /* 7..16 (sm_key_size(), sm-method.h) */
	uint8_t init_key_dist;
	uint8_t resp_key_dist;
};

/* Central Identification (3.6.3): what identifies a legacy LTK at the next encryption */
struct sm_central_ident {
	uint16_t ediv;
	uint8_t rand[8];
};

/* One decoded PDU: code says which member holds its fields. */
struct sm_pdu {
	uint8_t code; /* enum sm_code */
	union {
		struct sm_pairing pairing; /* Pairing Request, Pairing Response */
		/* Pairing Confirm, Pairing Random, DHKey Check: the value; Encryption,
		 * Identity and Signing Information: the LTK, IRK and CSRK */
		uint8_t value[16];
		uint8_t reason;	  /* Pairing Failed: enum sm_reason */
		uint8_t auth_req; /* Security Request */
		struct sm_central_ident central;
		struct bt_addr identity; /* Identity Address Information: public or static */
		uint8_t public_key[64];	 /* Pairing Public Key: X || Y (sm-p256.h) */
		uint8_t keypress;	 /* Keypress Notification: enum sm_keypress */
	};
};

/* Decodes one PDU. 0; -EBADMSG for a length other than the code's or a reserved field value;
 * -EOPNOTSUPP for an unknown code (the peer is answered Command Not Supported, 3.4). *ret_reason
 * (if non-NULL) then names what was wrong: "Pairing Request: 6 octets, want 7". RFU bits
 * (AuthReq 6-7, key distribution 4-7) are cleared: a receiver ignores bits reserved for future use.
 * A Pairing Failed reason is any octet: later spec versions add reasons (sm_strerror). */
int sm_pdu_decode(const uint8_t *pdu, size_t len, struct sm_pdu *ret, const char **ret_reason);
/* Writes p->code's PDU into out; its length, 0 for an unknown code. Fields go out as given. */
size_t sm_pdu_encode(const struct sm_pdu *p, uint8_t out[SM_PDU_MAX]);
/* The length of code's PDU (code octet included), 0 for an unknown code. */
size_t sm_pdu_len(uint8_t code);

/* {IO capability, OOB flag, AuthReq} of a Pairing Request/Response: the IOcap of sm_f6(). */
void sm_pairing_iocap(const struct sm_pairing *p, uint8_t out[3]);

/* "Pairing Request", ..., "Unknown" */
const char *sm_code_str(uint8_t code);
/* "Confirm Value Failed" for 0x04, ..., "Unknown" for reserved reasons */
const char *sm_strerror(uint8_t reason);
