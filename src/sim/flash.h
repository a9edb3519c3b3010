/* flash.h — the NOR flash holding both image slots: erase sets a sector to 0xff, programming can
 * only clear bits (flash &= data), each operation takes a typical time except a tail share that
 * draws up to the worst case. The bytes live elsewhere (the mmap'ed state file or memory). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/prng.h"
#include "sim/profile.h"

#define SIM_SLOTS 2

struct sim_flash {
	uint8_t *mem; /* SIM_SLOTS * slot_size bytes, not owned */
	uint32_t slot_size, sector_size, page_size;
	uint64_t erase_typ_us, erase_max_us, prog_typ_us, prog_max_us;
	uint32_t tail_permille;
	uint64_t read_rate;
	struct sim_prng *prng; /* not owned */
};

void sim_flash_init(struct sim_flash *f, const struct sim_profile *p, uint8_t *mem,
		    struct sim_prng *prng);

static inline uint8_t *sim_flash_slot(const struct sim_flash *f, unsigned slot)
{
	return f->mem + (size_t)slot * f->slot_size;
}

/* Erases one sector (0xff); returns its duration in model microseconds. */
uint64_t sim_flash_erase_sector(struct sim_flash *f, unsigned slot, uint32_t sector);
/* Erases every sector overlapping [off, off + len); returns the total duration. */
uint64_t sim_flash_erase_range(struct sim_flash *f, unsigned slot, uint32_t off, uint32_t len);
/* Programs len bytes (within one page) at off: flash &= data. Returns the duration. */
uint64_t sim_flash_program(struct sim_flash *f, unsigned slot, uint32_t off, const uint8_t *data,
			   size_t len);
/* Durations drawn for one sector erase / page program without touching the array (the
 * bootloader's swap copies through its own buffers). */
uint64_t sim_flash_erase_time(struct sim_flash *f);
uint64_t sim_flash_program_time(struct sim_flash *f);
/* Duration of reading (and hashing) len bytes. */
uint64_t sim_flash_read_us(const struct sim_flash *f, size_t len);
/* Length of the erased (0xff) run starting at off, at most len: what an "is it empty" scan reads
 * before it stops. */
size_t sim_flash_erased_run(const struct sim_flash *f, unsigned slot, uint32_t off, size_t len);
/* Clears nbits random bits within [off, off + len): what a corrupted transfer leaves behind. */
void sim_flash_clear_bits(struct sim_flash *f, unsigned slot, uint32_t off, size_t len,
			  unsigned nbits);
