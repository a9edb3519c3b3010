/* sm-method.c — the pairing method, key size and resulting security of a pairing (Core 5.4
 * Vol 3 Part H 2.3.4, 2.3.5.1; Vol 3 Part C 10.2.1), from the Pairing Request and Response. */
#include <errno.h>

#include "bt/sm-method.h"

bool sm_pairing_is_sc(const struct sm_pairing *preq, const struct sm_pairing *pres)
{
	return (preq->auth_req & SM_AUTH_SC) && (pres->auth_req & SM_AUTH_SC);
}

static bool has_keyboard(uint8_t io)
{
	return io == SM_IO_KEYBOARD_ONLY || io == SM_IO_KEYBOARD_DISPLAY;
}

static bool can_confirm(uint8_t io)
{
	/* a display and a yes/no input: what numeric comparison needs on each side */
	return io == SM_IO_DISPLAY_YES_NO || io == SM_IO_KEYBOARD_DISPLAY;
}

/* Table 2.8, from both IO capabilities (valid ones: 0x00..0x04). */
static enum sm_method io_method(uint8_t init, uint8_t resp, bool sc)
{
	if (init > SM_IO_KEYBOARD_DISPLAY || resp > SM_IO_KEYBOARD_DISPLAY ||
	    init == SM_IO_NO_INPUT_NO_OUTPUT || resp == SM_IO_NO_INPUT_NO_OUTPUT)
		return SM_METHOD_JUST_WORKS;
	if (sc && can_confirm(init) && can_confirm(resp))
		return SM_METHOD_NUMERIC_COMPARISON;
	if (!has_keyboard(init) && !has_keyboard(resp))
		return SM_METHOD_JUST_WORKS; /* two displays, no way to enter a passkey */
	if (init == SM_IO_KEYBOARD_ONLY && resp == SM_IO_KEYBOARD_ONLY)
		return SM_METHOD_PASSKEY_BOTH_INPUT;
	/* Every other side has a display: a keyboard-only side inputs, the other displays */
	if (init == SM_IO_KEYBOARD_ONLY)
		return SM_METHOD_PASSKEY_RESPONDER_DISPLAYS;
	if (resp == SM_IO_KEYBOARD_ONLY)
		return SM_METHOD_PASSKEY_INITIATOR_DISPLAYS;
	/* At least one KeyboardDisplay, and the other side has a display: the side without a
	 * keyboard displays; two KeyboardDisplay sides: the initiator displays */
	if (!has_keyboard(resp))
		return SM_METHOD_PASSKEY_RESPONDER_DISPLAYS;
	return SM_METHOD_PASSKEY_INITIATOR_DISPLAYS;
}

enum sm_method sm_pairing_method(const struct sm_pairing *preq, const struct sm_pairing *pres)
{
	bool sc = sm_pairing_is_sc(preq, pres);
	bool oob_i = preq->oob == SM_OOB_PRESENT, oob_r = pres->oob == SM_OOB_PRESENT;

	/* Table 2.6 (legacy): OOB when both have the data; Table 2.7 (SC): when either has the
	 * peer's. Authentication requirements are ignored then. */
	if (sc ? (oob_i || oob_r) : (oob_i && oob_r))
		return SM_METHOD_OOB;
	if (!((preq->auth_req | pres->auth_req) & SM_AUTH_MITM))
		return SM_METHOD_JUST_WORKS;
	return io_method(preq->io_cap, pres->io_cap, sc);
}

enum sm_passkey_role sm_method_passkey_role(enum sm_method m, bool initiator)
{
	switch (m) {
	case SM_METHOD_PASSKEY_INITIATOR_DISPLAYS:
		return initiator ? SM_PASSKEY_DISPLAY : SM_PASSKEY_INPUT;
	case SM_METHOD_PASSKEY_RESPONDER_DISPLAYS:
		return initiator ? SM_PASSKEY_INPUT : SM_PASSKEY_DISPLAY;
	case SM_METHOD_PASSKEY_BOTH_INPUT:
		return SM_PASSKEY_INPUT;
	default:
		return SM_PASSKEY_NONE;
	}
}

bool sm_method_authenticated(enum sm_method m)
{
	return m != SM_METHOD_JUST_WORKS;
}

const char *sm_method_str(enum sm_method m)
{
	switch (m) {
	case SM_METHOD_JUST_WORKS:
		return "Just Works";
	case SM_METHOD_PASSKEY_INITIATOR_DISPLAYS:
		return "Passkey Entry (initiator displays)";
	case SM_METHOD_PASSKEY_RESPONDER_DISPLAYS:
		return "Passkey Entry (responder displays)";
	case SM_METHOD_PASSKEY_BOTH_INPUT:
		return "Passkey Entry (both input)";
	case SM_METHOD_NUMERIC_COMPARISON:
		return "Numeric Comparison";
	case SM_METHOD_OOB:
		return "Out of Band";
	}
	return "Unknown";
}

int sm_key_size(uint8_t init_max, uint8_t resp_max, uint8_t *ret)
{
	/* 2.3.4: 7 to 16 octets; 3.5.1: each Maximum Encryption Key Size within that range */
	if (init_max < 7 || init_max > 16 || resp_max < 7 || resp_max > 16)
		return -EINVAL;
	*ret = init_max < resp_max ? init_max : resp_max;
	return 0;
}

struct sm_security sm_security_of(enum sm_method m, bool sc, uint8_t key_size)
{
	struct sm_security s = {
		.level = SM_LEVEL_UNAUTHENTICATED,
		.authenticated = sm_method_authenticated(m),
		.sc = sc,
		.key_size = key_size,
	};

	if (s.authenticated)
		s.level = sc && key_size == 16 ? SM_LEVEL_SC : SM_LEVEL_AUTHENTICATED;
	return s;
}
