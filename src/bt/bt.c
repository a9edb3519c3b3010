/* bt.c — LE device addresses and 128-bit UUIDs: parsing, printing, comparing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "otad/bt.h"

/* 8D53DC1D-1DB7-4CD3-868B-8A527460AA84, little-endian */
const struct bt_uuid128 bt_uuid_smp_service = {{0x84, 0xaa, 0x60, 0x74, 0x52, 0x8a, 0x8b, 0x86,
						0xd3, 0x4c, 0xb7, 0x1d, 0x1d, 0xdc, 0x53, 0x8d}};
/* DA2E7828-FBCE-4E01-AE9E-261174997C48, little-endian */
const struct bt_uuid128 bt_uuid_smp_char = {{0x48, 0x7c, 0x99, 0x74, 0x11, 0x26, 0x9e, 0xae, 0x01,
					     0x4e, 0xce, 0xfb, 0x28, 0x78, 0x2e, 0xda}};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Two hex digits at s into *ret. */
static bool hexbyte(const char *s, uint8_t *ret)
{
	int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

	if (hi < 0 || lo < 0)
		return false;
	*ret = (uint8_t)(hi << 4 | lo);
	return true;
}

int bt_addr_from_str(const char *s, uint8_t type, struct bt_addr *ret)
{
	struct bt_addr a = {.type = type};

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (!hexbyte(s + i * 3, &a.b[5 - i]))
			return -EINVAL;
		if (i < 5 && s[i * 3 + 2] != ':')
			return -EINVAL;
	}
	*ret = a;
	return 0;
}

char *bt_addr_to_str(const struct bt_addr *a, char *buf)
{
	snprintf(buf, BT_ADDR_STRLEN, "%02X:%02X:%02X:%02X:%02X:%02X", a->b[5], a->b[4], a->b[3],
		 a->b[2], a->b[1], a->b[0]);
	return buf;
}

bool bt_addr_equal(const struct bt_addr *a, const struct bt_addr *b)
{
	return a->type == b->type && memcmp(a->b, b->b, 6) == 0;
}

const char *bt_addr_type_str(uint8_t type)
{
	return type == BT_ADDR_LE_PUBLIC   ? "public"
	       : type == BT_ADDR_LE_RANDOM ? "random"
					   : "unknown";
}

/* Canonical text is big-endian: character pair i (dashes skipped) is byte 15 - i. */
int bt_uuid128_from_str(const char *s, struct bt_uuid128 *ret)
{
	struct bt_uuid128 u;
	size_t pos = 0;

	if (!s || strlen(s) != 36)
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
			if (s[pos] != '-')
				return -EINVAL;
			pos++;
		}
		if (!hexbyte(s + pos, &u.b[15 - i]))
			return -EINVAL;
		pos += 2;
	}
	*ret = u;
	return 0;
}

char *bt_uuid128_to_str(const struct bt_uuid128 *u, char *buf)
{
	const uint8_t *b = u->b;

	snprintf(buf, BT_UUID_STRLEN,
		 "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[15],
		 b[14], b[13], b[12], b[11], b[10], b[9], b[8], b[7], b[6], b[5], b[4], b[3], b[2],
		 b[1], b[0]);
	return buf;
}

bool bt_uuid128_equal(const struct bt_uuid128 *a, const struct bt_uuid128 *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}
