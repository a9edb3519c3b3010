/* mcuboot.c — what MCUboot does at reset in swap-using-scratch mode: read both trailers, pick
 * the swap type, validate the secondary image (refuse and erase it when invalid), swap, finalise
 * the trailers, validate the primary image and jump to it.
 * Source: mcuboot boot/bootutil/src/loader.c (boot_validate_slot, boot_validated_swap_type,
 * boot_perform_update), bootutil_public.c (boot_swap_tables), swap_scratch.c, boot/zephyr/main.c
 * (the log lines). */
#include "sim/device-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/macro.h"

/* Where slot 0 starts in the nRF52840's flash (after a 48 KiB MCUboot). */
#define SLOT0_ADDRESS 0xc000

/* bootutil's flag encodings as BOOT_LOG_SWAP_STATE prints them. */
#define BOOT_FLAG_SET	1
#define BOOT_FLAG_UNSET 3

static const char *swap_type_name(enum sim_swap_type t)
{
	switch (t) {
	case SIM_SWAP_TEST:
		return "test";
	case SIM_SWAP_PERM:
		return "perm";
	case SIM_SWAP_REVERT:
		return "revert";
	default:
		return "none";
	}
}

const char *sim_boot_result_name(enum sim_boot_result r)
{
	static const char *const names[] = {
		[SIM_BOOT_NONE] = "none",
		[SIM_BOOT_SWAP_TEST] = "swap-test",
		[SIM_BOOT_SWAP_PERM] = "swap-permanent",
		[SIM_BOOT_REFUSED] = "refused",
		[SIM_BOOT_REVERT] = "revert",
		[SIM_BOOT_HALT] = "halt",
	};

	return (size_t)r < ARRAY_SIZE(names) ? names[r] : "?";
}

static void log_trailer(struct sim_device *d, const char *area, const struct sim_trailer *t)
{
	sim_device_log(d, 'I', "%s: magic=%s, swap_type=0x%x, copy_done=0x%x, image_ok=0x%x", area,
		       t->magic ? "good" : "unset", t->swap_type ? t->swap_type : SIM_SWAP_NONE,
		       t->copy_done ? BOOT_FLAG_SET : BOOT_FLAG_UNSET,
		       t->image_ok ? BOOT_FLAG_SET : BOOT_FLAG_UNSET);
}

/* boot_validate_slot(): header, TLVs, SHA-256 recomputed, signature with the configured key, and
 * the image inside what the slot holds: boot_check_header_valid() wants header, image and
 * protected TLVs within the slot, bootutil_img_validate() the TLV area's end within
 * bootutil_max_image_size() (the slot less its trailer). Returns 1 valid, 0 no bootable image
 * there (erased header or non-bootable), -1 invalid. */
static int validate(struct sim_device *d, unsigned slot, struct img_info *info, uint64_t *dur)
{
	const uint8_t *s = sim_flash_slot(&d->flash, slot);
	size_t extent = sim_device_slot_extent(d, slot);
	struct img_diag diag;

	/* boot_check_header_erased() or IMAGE_F_NON_BOOTABLE in the header's flags */
	if (get_le32(s) == 0xffffffffU || (get_le32(s + 16) & IMG_F_NON_BOOTABLE))
		return 0;
	*dur += sim_flash_read_us(&d->flash, extent);
	if (img_parse(s, extent, info, &diag) < 0 || extent > sim_device_max_image(d))
		return -1;
	if (d->key_pem && img_verify_signature(s, info, d->key_pem, d->key_pem_len, &diag) < 0)
		return -1;
	return 1;
}

/* The sectors a swap moves: every one either image uses, the trailer's excepted. */
static uint32_t swap_sectors(const struct sim_device *d)
{
	size_t used = MAX(sim_device_slot_extent(d, 0), sim_device_slot_extent(d, 1));
	uint32_t sectors = (uint32_t)DIV_ROUND_UP(used, d->p.sector_size);

	return MIN(sectors, d->p.slot_size / d->p.sector_size - 1);
}

/* swap_run() with scratch: for every sector, three erases and three copies, plus the trailer
 * sectors' status writes, which the per-sector cost dominates. */
static uint64_t swap_time(struct sim_device *d, uint32_t sectors)
{
	uint32_t pages = d->p.sector_size / d->p.page_size;
	uint64_t dur = 0;

	for (uint32_t s = 0; s < sectors + 1; s++) {
		for (unsigned k = 0; k < 3; k++)
			dur += sim_flash_erase_time(&d->flash);
		for (uint32_t p = 0; p < 3 * pages; p++)
			dur += sim_flash_program_time(&d->flash);
	}
	return dur;
}

static uint64_t swap_slots(struct sim_device *d)
{
	uint32_t sectors = swap_sectors(d);
	uint8_t *a = sim_flash_slot(&d->flash, 0), *b = sim_flash_slot(&d->flash, 1);

	for (size_t i = 0; i < (size_t)sectors * d->p.sector_size; i++) {
		uint8_t t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
	return swap_time(d, sectors);
}

static enum sim_boot_result swap_result(enum sim_swap_type type)
{
	return type == SIM_SWAP_REVERT ? SIM_BOOT_REVERT
	       : type == SIM_SWAP_TEST ? SIM_BOOT_SWAP_TEST
				       : SIM_BOOT_SWAP_PERM;
}

/* boot_perform_update(): swap, then the trailers a finished swap leaves. */
static enum sim_boot_result perform_update(struct sim_device *d, enum sim_swap_type type,
					   uint64_t *dur)
{
	struct sim_trailer *pri = &d->meta->trailer[0], *sec = &d->meta->trailer[1];

	sim_device_log(d, 'I', "Starting swap using scratch algorithm.");
	*dur += swap_slots(d);
	*pri = (struct sim_trailer){
		.magic = true,
		.copy_done = true,
		/* swap_set_image_ok() for perm and revert: no revert after those */
		.image_ok = type != SIM_SWAP_TEST,
		.swap_type = (uint8_t)type,
	};
	*sec = (struct sim_trailer){0};
	d->meta->swapping = (uint8_t)type; /* until sim_device_swap_done() */
	if (type == SIM_SWAP_REVERT)
		d->meta->counters.reverts++;
	else
		d->meta->counters.swaps++;
	return swap_result(type);
}

/* boot_complete_partial_swap(): the swap status in the trailers says a swap was cut short by a
 * power loss; MCUboot finishes it (the sectors left, here all of them again: an upper bound) and
 * boots its result, with the trailers the swap leaves: a test image is still on test. The slots
 * already hold what the finished swap holds. */
static enum sim_boot_result resume_swap(struct sim_device *d, uint64_t *dur)
{
	enum sim_swap_type type = (enum sim_swap_type)d->meta->swapping;

	sim_device_log(d, 'W', "Resuming an interrupted swap (swap type: %s)",
		       swap_type_name(type));
	*dur += swap_time(d, swap_sectors(d));
	return swap_result(type);
}

/* boot_validated_swap_type() and the update itself. */
static enum sim_boot_result upgrade(struct sim_device *d, enum sim_swap_type type, uint64_t *dur)
{
	struct img_info info;
	int v = validate(d, 1, &info, dur);

	if (v == 0) {
		/* swap_scramble_trailer_sectors(): an erased image leaves no trailer behind */
		d->meta->trailer[1] = (struct sim_trailer){0};
		return SIM_BOOT_NONE;
	}
	if (v < 0) {
		sim_device_log(d, 'E', "Image in the secondary slot is not valid!");
		/* boot_scramble_slot(): erase it to prevent further attempts */
		*dur += sim_flash_erase_range(&d->flash, 1, 0, d->p.slot_size);
		d->meta->trailer[1] = (struct sim_trailer){0};
		d->meta->counters.refusals++;
		return SIM_BOOT_REFUSED;
	}
	return perform_update(d, type, dur);
}

void sim_device_boot(struct sim_device *d, struct sim_boot *ret)
{
	enum sim_swap_type type;
	struct img_info info;
	uint64_t dur = d->p.boot_us;

	memset(ret, 0, sizeof(*ret));
	sim_device_reset_ram(d);
	sim_device_log(d, 'I', "Starting bootloader");
	log_trailer(d, "Primary image", &d->meta->trailer[0]);
	log_trailer(d, "Secondary image", &d->meta->trailer[1]);
	sim_device_log(d, 'I', "Boot source: none");
	if (d->meta->swapping) {
		ret->resumed = true;
		ret->result = resume_swap(d, &dur);
	} else {
		type = sim_device_swap_type(d);
		sim_device_log(d, 'I', "Swap type: %s", swap_type_name(type));
		ret->result = type == SIM_SWAP_NONE ? SIM_BOOT_NONE : upgrade(d, type, &dur);
	}
	if (d->meta->swapping)
		ret->swap_end = dur;
	d->meta->counters.boots++;
	if (validate(d, 0, &info, &dur) != 1) {
		sim_device_log(d, 'E', "Image in the primary slot is not valid!");
		sim_device_log(d, 'E', "Unable to find bootable image");
		ret->result = SIM_BOOT_HALT;
	} else {
		sim_device_log(d, 'I', "Bootloader chainload address offset: 0x%x", SLOT0_ADDRESS);
		sim_device_log(d, 'I', "Image version: v%u.%u.%u", info.version.major,
			       info.version.minor, info.version.revision);
		sim_device_log(d, 'I', "Jumping to the first image slot");
		ret->version = info.version;
		memcpy(ret->hash, info.hash, sizeof(ret->hash));
		ret->has_hash = true;
	}
	sim_device_save(d);
	ret->duration = dur;
}

void sim_device_swap_done(struct sim_device *d)
{
	if (!d->meta->swapping)
		return;
	d->meta->swapping = 0;
	sim_device_save(d);
}

int sim_device_validate_slot(struct sim_device *d, unsigned slot, char *why, size_t why_size)
{
	const uint8_t *s = sim_flash_slot(&d->flash, slot);
	size_t extent = sim_device_slot_extent(d, slot);
	struct img_info info;
	struct img_diag diag = {0};
	int r;

	r = img_parse(s, extent, &info, &diag);
	if (r >= 0 && d->key_pem)
		r = img_verify_signature(s, &info, d->key_pem, d->key_pem_len, &diag);
	if (r < 0 && why)
		img_diag_format(&diag, why, why_size);
	return r < 0 ? -EBADMSG : 0;
}
