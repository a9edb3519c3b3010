/* sm-pdu.c — Security Manager Protocol PDUs (Core 5.4 Vol 3 Part H 3.5 pairing, 3.6 key
 * distribution) decoded and encoded, and the names of codes and Pairing Failed reasons. */
#include <errno.h>
#include <string.h>

#include "bt/sm-crypto.h"
#include "bt/sm-pdu.h"
#include "util/bytes.h"
#include "util/macro.h"

/* 3.3 Table 3.4; each PDU has one fixed length, code octet included */
static const struct {
	const char *name;
	uint8_t len;
	const char *bad_len;
} codes[] = {
	[SM_PAIRING_REQUEST] = {"Pairing Request", 7, "Pairing Request: not 7 octets"},
	[SM_PAIRING_RESPONSE] = {"Pairing Response", 7, "Pairing Response: not 7 octets"},
	[SM_PAIRING_CONFIRM] = {"Pairing Confirm", 17, "Pairing Confirm: not 17 octets"},
	[SM_PAIRING_RANDOM] = {"Pairing Random", 17, "Pairing Random: not 17 octets"},
	[SM_PAIRING_FAILED] = {"Pairing Failed", 2, "Pairing Failed: not 2 octets"},
	[SM_ENCRYPTION_INFO] = {"Encryption Information", 17,
				"Encryption Information: not 17 octets"},
	[SM_CENTRAL_IDENT] = {"Central Identification", 11,
			      "Central Identification: not 11 octets"},
	[SM_IDENTITY_INFO] = {"Identity Information", 17, "Identity Information: not 17 octets"},
	[SM_IDENTITY_ADDR_INFO] = {"Identity Address Information", 8,
				   "Identity Address Information: not 8 octets"},
	[SM_SIGNING_INFO] = {"Signing Information", 17, "Signing Information: not 17 octets"},
	[SM_SECURITY_REQUEST] = {"Security Request", 2, "Security Request: not 2 octets"},
	[SM_PAIRING_PUBLIC_KEY] = {"Pairing Public Key", 65, "Pairing Public Key: not 65 octets"},
	[SM_PAIRING_DHKEY_CHECK] = {"Pairing DHKey Check", 17,
				    "Pairing DHKey Check: not 17 octets"},
	[SM_KEYPRESS_NOTIFY] = {"Pairing Keypress Notification", 2,
				"Pairing Keypress Notification: not 2 octets"},
};

/* 3.5.5 Table 3.7 */
static const char *const reasons[] = {
	[SM_ERR_PASSKEY_ENTRY_FAILED] = "Passkey Entry Failed",
	[SM_ERR_OOB_NOT_AVAILABLE] = "OOB Not Available",
	[SM_ERR_AUTH_REQUIREMENTS] = "Authentication Requirements",
	[SM_ERR_CONFIRM_VALUE_FAILED] = "Confirm Value Failed",
	[SM_ERR_PAIRING_NOT_SUPPORTED] = "Pairing Not Supported",
	[SM_ERR_ENC_KEY_SIZE] = "Encryption Key Size",
	[SM_ERR_CMD_NOT_SUPPORTED] = "Command Not Supported",
	[SM_ERR_UNSPECIFIED] = "Unspecified Reason",
	[SM_ERR_REPEATED_ATTEMPTS] = "Repeated Attempts",
	[SM_ERR_INVALID_PARAMS] = "Invalid Parameters",
	[SM_ERR_DHKEY_CHECK_FAILED] = "DHKey Check Failed",
	[SM_ERR_NUMERIC_COMPARISON_FAILED] = "Numeric Comparison Failed",
	[SM_ERR_BREDR_PAIRING_IN_PROGRESS] = "BR/EDR Pairing In Progress",
	[SM_ERR_CROSS_TRANSPORT_NOT_ALLOWED] =
		"Cross-transport Key Derivation/Generation Not Allowed",
	[SM_ERR_KEY_REJECTED] = "Key Rejected",
};

size_t sm_pdu_len(uint8_t code)
{
	return code < ARRAY_SIZE(codes) ? codes[code].len : 0;
}

const char *sm_code_str(uint8_t code)
{
	return sm_pdu_len(code) ? codes[code].name : "Unknown";
}

const char *sm_strerror(uint8_t reason)
{
	if (reason < ARRAY_SIZE(reasons) && reasons[reason])
		return reasons[reason];
	return "Unknown";
}

void sm_pairing_iocap(const struct sm_pairing *p, uint8_t out[3])
{
	/* 2.2.8: IOcap = AuthReq || OOB data flag || IO capability, MSB-first */
	out[0] = p->io_cap;
	out[1] = p->oob;
	out[2] = p->auth_req;
}

static int fail(const char **ret_reason, const char *why, int err)
{
	if (ret_reason)
		*ret_reason = why;
	return err;
}

static bool auth_req_ok(uint8_t v)
{
	/* Bonding_Flags 10 and 11 are reserved */
	return (v & SM_AUTH_BONDING_MASK) <= SM_AUTH_BONDING;
}

static int decode_pairing(const uint8_t *b, struct sm_pairing *p, const char **ret_reason)
{
	bool rsp = b[0] == SM_PAIRING_RESPONSE;

	if (b[1] > SM_IO_KEYBOARD_DISPLAY)
		return fail(ret_reason,
			    rsp ? "Pairing Response: reserved IO capability"
				: "Pairing Request: reserved IO capability",
			    -EBADMSG);
	if (b[2] > SM_OOB_PRESENT)
		return fail(ret_reason,
			    rsp ? "Pairing Response: reserved OOB data flag"
				: "Pairing Request: reserved OOB data flag",
			    -EBADMSG);
	if (!auth_req_ok(b[3]))
		return fail(ret_reason,
			    rsp ? "Pairing Response: reserved Bonding_Flags"
				: "Pairing Request: reserved Bonding_Flags",
			    -EBADMSG);
	/* The key size is checked by sm_key_size(): out of range it fails pairing with
	 * Encryption Key Size, not Invalid Parameters. */
	*p = (struct sm_pairing){
		.io_cap = b[1],
		.oob = b[2],
		.auth_req = b[3] & (uint8_t)~SM_AUTH_RFU,
		.max_key_size = b[4],
		.init_key_dist = b[5] & (uint8_t)~SM_DIST_RFU,
		.resp_key_dist = b[6] & (uint8_t)~SM_DIST_RFU,
	};
	return 0;
}

static int decode_identity(const uint8_t *b, struct bt_addr *a, const char **ret_reason)
{
	/* 3.6.5: 0x00 public, 0x01 random; a random identity address is a static one */
	if (b[1] > BT_ADDR_LE_RANDOM)
		return fail(ret_reason, "Identity Address Information: reserved address type",
			    -EBADMSG);
	a->type = b[1];
	memcpy(a->b, b + 2, 6);
	if (a->type == BT_ADDR_LE_RANDOM && !sm_addr_is_static(a))
		return fail(ret_reason, "Identity Address Information: random address not static",
			    -EBADMSG);
	return 0;
}

static int decode_body(const uint8_t *b, struct sm_pdu *p, const char **ret_reason)
{
	switch (b[0]) {
	case SM_PAIRING_REQUEST:
	case SM_PAIRING_RESPONSE:
		return decode_pairing(b, &p->pairing, ret_reason);
	case SM_PAIRING_FAILED:
		p->reason = b[1];
		return 0;
	case SM_CENTRAL_IDENT:
		p->central.ediv = get_le16(b + 1);
		memcpy(p->central.rand, b + 3, 8);
		return 0;
	case SM_IDENTITY_ADDR_INFO:
		return decode_identity(b, &p->identity, ret_reason);
	case SM_SECURITY_REQUEST:
		if (!auth_req_ok(b[1]))
			return fail(ret_reason, "Security Request: reserved Bonding_Flags",
				    -EBADMSG);
		p->auth_req = b[1] & (uint8_t)~SM_AUTH_RFU;
		return 0;
	case SM_PAIRING_PUBLIC_KEY:
		memcpy(p->public_key, b + 1, 64);
		return 0;
	case SM_KEYPRESS_NOTIFY:
		if (b[1] > SM_KEYPRESS_COMPLETED)
			return fail(ret_reason,
				    "Pairing Keypress Notification: reserved notification type",
				    -EBADMSG);
		p->keypress = b[1];
		return 0;
	default: /* Confirm, Random, DHKey Check, LTK, IRK, CSRK: one 128-bit value */
		memcpy(p->value, b + 1, 16);
		return 0;
	}
}

int sm_pdu_decode(const uint8_t *pdu, size_t len, struct sm_pdu *ret, const char **ret_reason)
{
	struct sm_pdu p = {0};
	size_t want;
	int err;

	if (len == 0)
		return fail(ret_reason, "empty SMP PDU", -EBADMSG);
	want = sm_pdu_len(pdu[0]);
	if (!want)
		return fail(ret_reason, "unknown SMP command code", -EOPNOTSUPP);
	if (len != want)
		return fail(ret_reason, codes[pdu[0]].bad_len, -EBADMSG);
	p.code = pdu[0];
	err = decode_body(pdu, &p, ret_reason);
	if (err < 0)
		return err;
	*ret = p;
	return 0;
}

size_t sm_pdu_encode(const struct sm_pdu *p, uint8_t out[SM_PDU_MAX])
{
	size_t len = sm_pdu_len(p->code);

	if (!len)
		return 0;
	out[0] = p->code;
	switch (p->code) {
	case SM_PAIRING_REQUEST:
	case SM_PAIRING_RESPONSE:
		out[1] = p->pairing.io_cap;
		out[2] = p->pairing.oob;
		out[3] = p->pairing.auth_req;
		out[4] = p->pairing.max_key_size;
		out[5] = p->pairing.init_key_dist;
		out[6] = p->pairing.resp_key_dist;
		break;
	case SM_PAIRING_FAILED:
		out[1] = p->reason;
		break;
	case SM_CENTRAL_IDENT:
		put_le16(out + 1, p->central.ediv);
		memcpy(out + 3, p->central.rand, 8);
		break;
	case SM_IDENTITY_ADDR_INFO:
		out[1] = p->identity.type;
		memcpy(out + 2, p->identity.b, 6);
		break;
	case SM_SECURITY_REQUEST:
		out[1] = p->auth_req;
		break;
	case SM_PAIRING_PUBLIC_KEY:
		memcpy(out + 1, p->public_key, 64);
		break;
	case SM_KEYPRESS_NOTIFY:
		out[1] = p->keypress;
		break;
	default:
		memcpy(out + 1, p->value, 16);
		break;
	}
	return len;
}
