/* store.h — the device's persistent state (docs/otasim.md "State file"): FILE holds key=value
 * metadata (slot trailers, counters, profile), replaced atomically on every change; FILE.flash
 * holds both slots' bytes, memory-mapped like flash. Without a path everything lives in memory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MCUboot swap types (bootutil_public.h BOOT_SWAP_TYPE_*), kept in a trailer's swap_info. */
enum sim_swap_type {
	SIM_SWAP_NONE = 1,
	SIM_SWAP_TEST = 2,
	SIM_SWAP_PERM = 3,
	SIM_SWAP_REVERT = 4,
};

/* One slot's image trailer, MCUboot's fields reduced to what decides a boot: a field that is
 * false is erased (0xff on flash, BOOT_FLAG_UNSET / BOOT_MAGIC_UNSET). */
struct sim_trailer {
	bool magic;
	bool image_ok;
	bool copy_done;
	uint8_t swap_type; /* enum sim_swap_type, 0 = erased */
};

struct sim_counters {
	uint64_t boots, swaps, refusals, reverts;
};

struct sim_store_meta {
	char profile[32];
	uint32_t slot_size;
	struct sim_trailer trailer[2];
	struct sim_counters counters;
	/* enum sim_swap_type of the swap MCUboot was doing when the power went (the swap status
	 * in its trailer), 0 = none: the next boot finishes it */
	uint8_t swapping;
};

/* Pure parser of FILE's text. -EBADMSG with the 1-based line (0 = the file as a whole, e.g. a
 * missing key) and a static reason. */
int sim_store_parse(const char *text, struct sim_store_meta *ret, unsigned *ret_line,
		    const char **ret_why);
/* The text sim_store_parse() reads back; malloc'd. */
char *sim_store_format(const struct sim_store_meta *m);

struct sim_store;
/* path NULL: a new device in memory. Otherwise opens path and path.flash; when path does not
 * exist a new device is created (*ret_created). A file that does not parse, or a flash file of
 * the wrong size, is refused: -EBADMSG / -EINVAL with a message in err ("state.txt:3: ..."). */
int sim_store_open(const char *path, const char *profile, uint32_t slot_size,
		   struct sim_store **ret, bool *ret_created, char *err, size_t err_size);
struct sim_store *sim_store_free(struct sim_store *s);

uint8_t *sim_store_flash(struct sim_store *s);
struct sim_store_meta *sim_store_meta(struct sim_store *s);
/* Writes the metadata (atomically). No-op in memory. */
int sim_store_save(struct sim_store *s);
/* msync()s the flash and saves the metadata. */
int sim_store_sync(struct sim_store *s);
