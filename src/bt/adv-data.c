/* adv-data.c — advertising data: AD structures (Core 5.4 Vol 3 Part C 11, Core Specification
 * Supplement Part A 1) parsed into struct adv_data and built for our own advertising. */
#include <errno.h>
#include <string.h>

#include "otad/bt.h"
#include "util/macro.h"

/* Assigned Numbers 2.3: AD types */
enum {
	AD_FLAGS = 0x01,
	AD_UUID128_SOME = 0x06,
	AD_UUID128_ALL = 0x07,
	AD_NAME_SHORT = 0x08,
	AD_NAME_COMPLETE = 0x09,
};

static void add_uuid(struct adv_data *ad, const struct bt_uuid128 *u)
{
	if (adv_data_has_uuid128(ad, u) || ad->n_uuid128 >= ADV_MAX_UUID128)
		return;
	ad->uuid128[ad->n_uuid128++] = *u;
}

static void set_name(struct adv_data *ad, const uint8_t *s, size_t len, bool complete)
{
	len = MIN(len, (size_t)ADV_NAME_MAX);
	memcpy(ad->name, s, len);
	ad->name[len] = 0;
	ad->has_name = true;
	ad->name_complete = complete;
}

static void parse_one(struct adv_data *ad, uint8_t type, const uint8_t *v, size_t len)
{
	switch (type) {
	case AD_FLAGS:
		if (len >= 1) {
			ad->has_flags = true;
			ad->flags = v[0];
		}
		break;
	case AD_UUID128_SOME:
	case AD_UUID128_ALL:
		for (size_t i = 0; i + 16 <= len; i += 16) {
			struct bt_uuid128 u;

			memcpy(u.b, v + i, 16);
			add_uuid(ad, &u);
		}
		break;
	case AD_NAME_SHORT:
	case AD_NAME_COMPLETE:
		set_name(ad, v, len, type == AD_NAME_COMPLETE);
		break;
	default:
		break;
	}
}

int adv_data_parse(const uint8_t *data, size_t len, struct adv_data *ret)
{
	size_t i = 0;

	memset(ret, 0, sizeof(*ret));
	while (i < len) {
		uint8_t l = data[i];

		if (l == 0)
			break; /* early termination of the significant part */
		if (i + 1 + l > len)
			return -EBADMSG;
		parse_one(ret, data[i + 1], data + i + 2, (size_t)l - 1);
		i += 1 + (size_t)l;
	}
	return 0;
}

void adv_data_merge(struct adv_data *dst, const struct adv_data *src)
{
	if (src->has_flags) {
		dst->has_flags = true;
		dst->flags = src->flags;
	}
	if (src->has_name && (!dst->has_name || src->name_complete || !dst->name_complete)) {
		memcpy(dst->name, src->name, sizeof(dst->name));
		dst->has_name = true;
		dst->name_complete = src->name_complete;
	}
	for (size_t i = 0; i < src->n_uuid128; i++)
		add_uuid(dst, &src->uuid128[i]);
}

bool adv_data_has_uuid128(const struct adv_data *ad, const struct bt_uuid128 *u)
{
	for (size_t i = 0; i < ad->n_uuid128; i++)
		if (bt_uuid128_equal(&ad->uuid128[i], u))
			return true;
	return false;
}

size_t adv_build_adv_data(const struct bt_uuid128 *uuid, uint8_t out[31])
{
	size_t n = 0;

	out[n++] = 2;
	out[n++] = AD_FLAGS;
	out[n++] = ADV_FLAG_LE_GENERAL_DISC | ADV_FLAG_NO_BREDR;
	if (uuid) {
		out[n++] = 17;
		out[n++] = AD_UUID128_ALL;
		memcpy(out + n, uuid->b, 16);
		n += 16;
	}
	return n;
}

size_t adv_build_scan_rsp(const char *name, uint8_t out[31])
{
	size_t len = name ? strlen(name) : 0;
	bool complete = len <= 29;

	if (!len)
		return 0;
	len = MIN(len, (size_t)29);
	out[0] = (uint8_t)(len + 1);
	out[1] = complete ? AD_NAME_COMPLETE : AD_NAME_SHORT;
	/* AD names carry no NUL (CSS Part A 1.2) */
	memcpy(out + 2, name, len); /* NOLINT(bugprone-not-null-terminated-result) */
	return len + 2;
}
