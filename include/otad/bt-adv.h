/* bt-adv.h — advertising data (Core 5.4 Vol 3 Part C 11, Core Specification Supplement Part A):
 * the AD structures this host reads (flags, names, 128-bit service UUIDs) and writes. Pure
 * functions over buffers. Include "otad/bt.h". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/bt.h"

/* CSS Part A 1.3: Flags bits */
#define ADV_FLAG_LE_LIMITED_DISC 0x01
#define ADV_FLAG_LE_GENERAL_DISC 0x02
#define ADV_FLAG_NO_BREDR	 0x04

#define ADV_MAX_UUID128 8
#define ADV_NAME_MAX	248 /* Core 5.4 Vol 3 Part C 12.1: device name up to 248 bytes */

struct adv_data {
	bool has_flags;
	uint8_t flags;
	bool has_name;
	bool name_complete;	     /* Complete (0x09) vs Shortened (0x08) Local Name */
	char name[ADV_NAME_MAX + 1]; /* NUL-terminated; bytes as sent */
	size_t n_uuid128;
	struct bt_uuid128 uuid128[ADV_MAX_UUID128]; /* complete or incomplete lists, merged */
};

/* Parses AD structures. Stops at a zero length (significant part ends, Vol 3 Part C 11) and
 * ignores types it does not know. Returns 0, or -EBADMSG when a structure runs past len (what
 * came before it is kept in ret). */
int adv_data_parse(const uint8_t *data, size_t len, struct adv_data *ret);

/* Adds what src has and dst lacks (name, flags, UUIDs) to dst: a scan response completes the
 * advertising data of the same device. A complete name replaces a shortened one. */
void adv_data_merge(struct adv_data *dst, const struct adv_data *src);

bool adv_data_has_uuid128(const struct adv_data *ad, const struct bt_uuid128 *u);

/* Builds advertising data: flags (general discoverable, no BR/EDR) and, when uuid is not NULL,
 * the Complete List of 128-bit Service UUIDs. Returns the length (<= 31). */
size_t adv_build_adv_data(const struct bt_uuid128 *uuid, uint8_t out[31]);
/* Builds the scan response: the Complete Local Name, or a Shortened Local Name cut to 29 bytes.
 * Returns the length (<= 31). */
size_t adv_build_scan_rsp(const char *name, uint8_t out[31]);
