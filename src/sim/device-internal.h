/* device-internal.h — the device's state, shared by device.c (img_mgmt) and mcuboot.c. */
#pragma once

#include "sim/device.h"

#define SIM_TRAILER_SLOT 1 /* the slot uploads go to */

struct sim_upload_state {
	bool open;    /* g_img_mgmt_state.area_id != -1 */
	uint32_t off; /* next expected offset; 0 when closed */
	uint32_t len;
	uint8_t sha[32];
	size_t sha_len;
	/* stream flash: one page buffered in RAM */
	uint8_t *buf;
	size_t fill;
	uint32_t buf_start;
	uint32_t erased_end; /* progressive erase: sectors below this are erased */
};

struct sim_device {
	struct sim_profile p;
	struct sim_store *store;
	struct sim_store_meta *meta;
	struct sim_flash flash;
	struct sim_prng *prng;
	char *key_pem;
	size_t key_pem_len;
	struct sim_device_ops ops;
	void *user_data;
	struct sim_upload_state up;
};

void sim_device_log(struct sim_device *d, char level, const char *fmt, ...)
	__attribute__((__format__(printf, 3, 4)));
/* A reset loses RAM: the open upload and its buffered page. */
void sim_device_reset_ram(struct sim_device *d);
/* Persists the trailers; reports a failure as a log line. */
void sim_device_save(struct sim_device *d);
/* Records a flash operation of d ticks in w (a page program of slot 1 when len > 0). */
void sim_work_add(struct sim_work *w, uint64_t d, uint32_t off, uint32_t len);

/* MCUboot's swap type from both trailers (bootutil_public.c boot_swap_tables). */
enum sim_swap_type sim_device_swap_type(const struct sim_device *d);
/* Bytes of the image in a slot from its header and TLV info, clamped to the slot: what a parser
 * needs to see (leftovers of a longer old image follow it). */
size_t sim_device_slot_extent(const struct sim_device *d, unsigned slot);
