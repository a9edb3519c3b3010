/* att-pdu.h — ATT PDUs (Core 5.4 Vol 3 Part F 3.4): opcodes, error codes, the GATT attribute
 * types and characteristic properties this host uses (Vol 3 Part G 3), and the pure builders and
 * response parsers of att-pdu.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/bt.h"

enum {
	ATT_ERROR_RSP = 0x01,
	ATT_MTU_REQ = 0x02,
	ATT_MTU_RSP = 0x03,
	ATT_FIND_INFO_REQ = 0x04,
	ATT_FIND_INFO_RSP = 0x05,
	ATT_FIND_BY_TYPE_REQ = 0x06,
	ATT_FIND_BY_TYPE_RSP = 0x07,
	ATT_READ_BY_TYPE_REQ = 0x08,
	ATT_READ_BY_TYPE_RSP = 0x09,
	ATT_READ_REQ = 0x0a,
	ATT_READ_RSP = 0x0b,
	ATT_READ_BLOB_REQ = 0x0c,
	ATT_READ_BY_GROUP_REQ = 0x10,
	ATT_READ_BY_GROUP_RSP = 0x11,
	ATT_WRITE_REQ = 0x12,
	ATT_WRITE_RSP = 0x13,
	ATT_NOTIFY = 0x1b,
	ATT_INDICATE = 0x1d,
	ATT_CONFIRM = 0x1e,
	ATT_WRITE_CMD = 0x52,
};
enum {
	ATT_ECODE_INVALID_HANDLE = 0x01,
	ATT_ECODE_READ_NOT_PERMITTED = 0x02,
	ATT_ECODE_WRITE_NOT_PERMITTED = 0x03,
	ATT_ECODE_INVALID_PDU = 0x04,
	ATT_ECODE_INSUFF_AUTHEN = 0x05,
	ATT_ECODE_REQ_NOT_SUPP = 0x06,
	ATT_ECODE_ATTR_NOT_FOUND = 0x0a,
	ATT_ECODE_INSUFF_KEY_SIZE = 0x0c,
	ATT_ECODE_INVALID_VALUE_LEN = 0x0d,
	ATT_ECODE_UNLIKELY = 0x0e,
	ATT_ECODE_INSUFF_ENC = 0x0f,
	ATT_ECODE_UNSUPP_GROUP_TYPE = 0x10,
};
#define GATT_UUID_PRIMARY  0x2800
#define GATT_UUID_CHARAC   0x2803
#define GATT_UUID_CCCD	   0x2902
#define GATT_UUID_GAP	   0x1800
#define GATT_UUID_DEV_NAME 0x2a00
#define GATT_CHRC_READ	   0x02
#define GATT_CHRC_WRITE_NR 0x04
#define GATT_CHRC_WRITE	   0x08
#define GATT_CHRC_NOTIFY   0x10

bool att_opcode_is_response(uint8_t op);
bool att_opcode_is_request(uint8_t op);
bool att_opcode_is_command(uint8_t op);
size_t att_error_build(uint8_t req, uint16_t handle, uint8_t ecode, uint8_t out[5]);
size_t att_mtu_build(uint8_t op, uint16_t mtu, uint8_t out[3]);
size_t att_range_build(uint8_t op, uint16_t start, uint16_t end, uint8_t out[5]);
size_t att_read_by_type_build(uint8_t op, uint16_t start, uint16_t end, uint16_t type16,
			      const struct bt_uuid128 *type128, uint8_t out[21]);
size_t att_find_by_type_build(uint16_t start, uint16_t end, uint16_t type, const uint8_t *value,
			      size_t vlen, uint8_t *out);
size_t att_handle_value_build(uint8_t op, uint16_t handle, const uint8_t *value, size_t len,
			      uint8_t *out);

/* Iterates the entries of a Read By Type / Read By Group Type / Find Information / Find By Type
 * Value response: *elen is the fixed entry length. 0 or -EBADMSG. */
int att_rsp_entries(const uint8_t *pdu, size_t len, const uint8_t **ret_first, size_t *ret_n,
		    size_t *ret_elen);
/* Compares a 2- or 16-byte UUID on the wire with a 16-bit one or a 128-bit one. */
bool att_uuid_matches(const uint8_t *wire, size_t len, uint16_t u16, const struct bt_uuid128 *u128);
