/* att-pdu.c — ATT PDU builders and response parsers (Core 5.4 Vol 3 Part F 3.4): pure
 * functions over buffers. */
#include <errno.h>
#include <string.h>

#include "bt/att-pdu.h"
#include "util/bytes.h"

bool att_opcode_is_command(uint8_t op)
{
	return op & 0x40; /* 3.3.1: Command Flag */
}

bool att_opcode_is_response(uint8_t op)
{
	switch (op) {
	case ATT_ERROR_RSP:
	case ATT_MTU_RSP:
	case ATT_FIND_INFO_RSP:
	case ATT_FIND_BY_TYPE_RSP:
	case ATT_READ_BY_TYPE_RSP:
	case ATT_READ_RSP:
	case 0x0d: /* Read Blob Response */
	case 0x0f: /* Read Multiple Response */
	case ATT_READ_BY_GROUP_RSP:
	case ATT_WRITE_RSP:
	case 0x17: /* Prepare Write Response */
	case 0x19: /* Execute Write Response */
	case 0x21: /* Read Multiple Variable Length Response */
		return true;
	default:
		return false;
	}
}

bool att_opcode_is_request(uint8_t op)
{
	switch (op) {
	case ATT_MTU_REQ:
	case ATT_FIND_INFO_REQ:
	case ATT_FIND_BY_TYPE_REQ:
	case ATT_READ_BY_TYPE_REQ:
	case ATT_READ_REQ:
	case ATT_READ_BLOB_REQ:
	case 0x0e: /* Read Multiple Request */
	case ATT_READ_BY_GROUP_REQ:
	case ATT_WRITE_REQ:
	case 0x16: /* Prepare Write Request */
	case 0x18: /* Execute Write Request */
	case 0x20: /* Read Multiple Variable Length Request */
		return true;
	default:
		return false;
	}
}

size_t att_error_build(uint8_t req, uint16_t handle, uint8_t ecode, uint8_t out[5])
{
	out[0] = ATT_ERROR_RSP; /* 3.4.1.1 */
	out[1] = req;
	put_le16(out + 2, handle);
	out[4] = ecode;
	return 5;
}

size_t att_mtu_build(uint8_t op, uint16_t mtu, uint8_t out[3])
{
	out[0] = op; /* 3.4.2.1 / 3.4.2.2 */
	put_le16(out + 1, mtu);
	return 3;
}

size_t att_range_build(uint8_t op, uint16_t start, uint16_t end, uint8_t out[5])
{
	out[0] = op;
	put_le16(out + 1, start);
	put_le16(out + 3, end);
	return 5;
}

size_t att_read_by_type_build(uint8_t op, uint16_t start, uint16_t end, uint16_t type16,
			      const struct bt_uuid128 *type128, uint8_t out[21])
{
	/* 3.4.4.1 / 3.4.4.9: start, end, 2- or 16-byte attribute type */
	att_range_build(op, start, end, out);
	if (type128) {
		memcpy(out + 5, type128->b, 16);
		return 21;
	}
	put_le16(out + 5, type16);
	return 7;
}

size_t att_find_by_type_build(uint16_t start, uint16_t end, uint16_t type, const uint8_t *value,
			      size_t vlen, uint8_t *out)
{
	/* 3.4.3.3: start, end, 16-bit type, value */
	att_range_build(ATT_FIND_BY_TYPE_REQ, start, end, out);
	put_le16(out + 5, type);
	memcpy(out + 7, value, vlen);
	return 7 + vlen;
}

size_t att_handle_value_build(uint8_t op, uint16_t handle, const uint8_t *value, size_t len,
			      uint8_t *out)
{
	/* Write Request/Command 3.4.5.1/3.4.5.3, Notification 3.4.7.1: opcode, handle, value */
	out[0] = op;
	put_le16(out + 1, handle);
	if (len)
		memcpy(out + 3, value, len);
	return 3 + len;
}

int att_rsp_entries(const uint8_t *pdu, size_t len, const uint8_t **ret_first, size_t *ret_n,
		    size_t *ret_elen)
{
	size_t elen, hdr;

	if (len < 2)
		return -EBADMSG;
	switch (pdu[0]) {
	case ATT_READ_BY_TYPE_RSP:  /* 3.4.4.2: length, {handle, value} */
	case ATT_READ_BY_GROUP_RSP: /* 3.4.4.10: length, {handle, end, value} */
		elen = pdu[1];
		hdr = 2;
		if (elen < (pdu[0] == ATT_READ_BY_TYPE_RSP ? 2u : 4u))
			return -EBADMSG;
		break;
	case ATT_FIND_INFO_RSP: /* 3.4.3.2: format 1 = 16-bit UUIDs, 2 = 128-bit */
		if (pdu[1] != 1 && pdu[1] != 2)
			return -EBADMSG;
		elen = pdu[1] == 1 ? 4 : 18;
		hdr = 2;
		break;
	case ATT_FIND_BY_TYPE_RSP: /* 3.4.3.4: {found handle, group end handle} */
		elen = 4;
		hdr = 1;
		break;
	default:
		return -EBADMSG;
	}
	if (len <= hdr || (len - hdr) % elen)
		return -EBADMSG;
	*ret_first = pdu + hdr;
	*ret_n = (len - hdr) / elen;
	*ret_elen = elen;
	return 0;
}

bool att_uuid_matches(const uint8_t *wire, size_t len, uint16_t u16, const struct bt_uuid128 *u128)
{
	/* Vol 3 Part B 2.5.1: a 16-bit UUID is 0000xxxx-0000-1000-8000-00805F9B34FB */
	static const uint8_t base[16] = {0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00, 0x00, 0x80,
					 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	uint8_t full[16];

	if (len == 2) {
		if (!u128)
			return get_le16(wire) == u16;
		memcpy(full, base, 16);
		put_le16(full + 12, get_le16(wire));
		return memcmp(full, u128->b, 16) == 0;
	}
	if (len != 16)
		return false;
	if (u128)
		return memcmp(wire, u128->b, 16) == 0;
	memcpy(full, base, 16);
	put_le16(full + 12, u16);
	return memcmp(full, wire, 16) == 0;
}
