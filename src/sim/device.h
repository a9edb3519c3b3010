/* device.h — the simulated device's behaviour, without I/O: Zephyr's img_mgmt and os_mgmt
 * semantics over the NOR flash of both slots, and MCUboot's boot (swap, refusal, revert). Every
 * operation returns the model time the device spends on it (and, for uploads, when each page of
 * slot 1 was programmed, for the overrun fault); the server turns that into events.
 *
 * Sources: zephyr subsys/mgmt/mcumgr/grp/img_mgmt/src/{img_mgmt.c, img_mgmt_state.c,
 * zephyr_img_mgmt.c}; mcuboot boot/bootutil/src/{loader.c, bootutil_public.c, swap_scratch.c}. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/image.h"
#include "otad/smp.h"
#include "sim/flash.h"
#include "sim/profile.h"
#include "sim/store.h"

struct sim_device;

/* A page program of slot 1 during one request, in model us from the request's start. */
struct sim_page_op {
	uint64_t start, end;
	uint32_t off, len;
};

/* What one request costs. Reused from request to request (one SMP worker). */
struct sim_work {
	uint64_t duration;
	struct sim_page_op *pages;
	size_t n_pages, cap_pages;
	bool oom; /* a page op could not be recorded (the overrun model misses it) */
};
void sim_work_reset(struct sim_work *w);
void sim_work_done(struct sim_work *w);

struct sim_device_ops {
	/* A log line of the device or its bootloader: level 'I', 'W' or 'E', text without "I: ".
	 * May be NULL. */
	void (*log)(char level, const char *text, void *user_data);
};

/* The store (flash bytes + trailers) and prng are borrowed. key_pem (may be NULL) is what
 * MCUboot verifies signatures with; copied. */
int sim_device_new(const struct sim_profile *p, struct sim_store *store, struct sim_prng *prng,
		   const char *key_pem, size_t key_pem_len, const struct sim_device_ops *ops,
		   void *user_data, struct sim_device **ret);
struct sim_device *sim_device_free(struct sim_device *d);

const struct sim_profile *sim_device_profile(const struct sim_device *d);
struct sim_flash *sim_device_flash(struct sim_device *d);

/* Writes a factory image into slot 0 (erasing what is there) with erased trailers: what a
 * programmer leaves. -EINVAL when it does not fit. */
int sim_device_flash_factory(struct sim_device *d, const uint8_t *img, size_t len);

/* ---- img_mgmt upload ------------------------------------------------------------------------ */
enum sim_upload_result {
	SIM_UPLOAD_OK,	    /* data taken */
	SIM_UPLOAD_IGNORED, /* wrong offset, or resumed: answered with the expected offset */
	SIM_UPLOAD_ERROR,   /* rc != 0 */
};

struct sim_upload {
	enum sim_upload_result result;
	uint16_t rc;	   /* enum img_mgmt_err (group 1), 0 = success */
	uint32_t expected; /* offset the device expected before this request */
	uint32_t off;	   /* answered "off" */
	bool last;	   /* this chunk completed the image (the upload is closed) */
	bool has_match, match;
	/* image check pending for sim_device_upload_check() */
	bool check;
	uint32_t len; /* of the image, on the last chunk */
	uint8_t sha[32];
	size_t sha_len;
};
/* Processes one upload request (img_mgmt_upload + img_mgmt_upload_inspect). */
void sim_device_upload(struct sim_device *d, const struct smp_upload_req *r, struct sim_work *w,
		       struct sim_upload *ret);
/* The image check of a last chunk (CONFIG_IMG_ENABLE_IMAGE_CHECK): SHA-256 over the written
 * slot against the request's sha. Done after the overrun model had its say about the pages. */
void sim_device_upload_check(struct sim_device *d, struct sim_upload *u, struct sim_work *w);
/* SHA-256 of the first len bytes of a slot as they are now, at no model cost (for the trace). */
int sim_device_slot_sha(struct sim_device *d, unsigned slot, uint32_t len, uint8_t ret[32]);
/* Clears random bits in [off, off + len) of slot 1: a page programmed with corrupted data. */
void sim_device_corrupt(struct sim_device *d, uint32_t off, uint32_t len);
/* Whether an upload is open, and at which offset. */
bool sim_device_upload_open(const struct sim_device *d, uint32_t *ret_off);

/* ---- img_mgmt state, erase, slot info ------------------------------------------------------- */
void sim_device_state_read(struct sim_device *d, struct smp_image_state *ret);

enum sim_state_write_result {
	SIM_STATE_TEST,
	SIM_STATE_PERMANENT,
	SIM_STATE_CONFIRM,
	SIM_STATE_ERROR,
};
/* Returns rc (enum img_mgmt_err, 0 = success) and what was done. Persists trailer changes. */
uint16_t sim_device_state_write(struct sim_device *d, const struct smp_state_write_req *r,
				struct sim_work *w, enum sim_state_write_result *ret);
/* slot < 0: the other slot (1). Returns rc (enum img_mgmt_err). */
uint16_t sim_device_erase(struct sim_device *d, int slot, struct sim_work *w);
void sim_device_slot_info(struct sim_device *d, struct smp_slot_info_rsp *ret);
/* The largest image a slot holds: the slot less the sector of MCUboot's trailer. */
uint32_t sim_device_max_image(const struct sim_device *d);

/* ---- reset and MCUboot ---------------------------------------------------------------------- */
enum sim_boot_result {
	SIM_BOOT_NONE,
	SIM_BOOT_SWAP_TEST,
	SIM_BOOT_SWAP_PERM,
	SIM_BOOT_REFUSED,
	SIM_BOOT_REVERT,
	SIM_BOOT_HALT, /* no bootable image: the device stays down */
};
const char *sim_boot_result_name(enum sim_boot_result r);

struct sim_boot {
	enum sim_boot_result result;
	uint64_t duration;	    /* from reset to the application running */
	struct img_version version; /* slot 0 after boot */
	uint8_t hash[32];	    /* slot 0's SHA-256 TLV after boot */
	bool has_hash;
	bool resumed;	   /* the swap a power loss interrupted, finished */
	uint64_t swap_end; /* from reset to the end of the swap, 0 = none */
};
/* A reset or power-on: RAM state (the open upload) is lost, MCUboot runs. Persists the trailers,
 * and that a swap is under way until sim_device_swap_done(): a power loss before that leaves it
 * for the next boot to finish, as MCUboot's swap status does. */
void sim_device_boot(struct sim_device *d, struct sim_boot *ret);
/* ret->swap_end after the reset: the swap is over (a power loss now finds it done). */
void sim_device_swap_done(struct sim_device *d);

/* Parses a slot's image as img_mgmt does (structure only, hash as stored). 0 or -EBADMSG. */
int sim_device_slot_image(struct sim_device *d, unsigned slot, struct img_info *ret);

struct sim_prng *sim_device_prng(struct sim_device *d);
/* Replaces the log callback (the server stamps lines with its model time). */
void sim_device_set_log(struct sim_device *d, void (*log)(char, const char *, void *),
			void *user_data);

/* Validates a slot as MCUboot would (hash recomputed, signature with the key). 0, or -EBADMSG
 * with why ("bad magic 0xffffffff at offset 0 ..."). */
int sim_device_validate_slot(struct sim_device *d, unsigned slot, char *why, size_t why_size);
