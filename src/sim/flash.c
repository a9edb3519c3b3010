/* flash.c — NOR flash array and its timing (MX25R6435F datasheet: tSE, tPP typical and maximum). */
#include "sim/flash.h"

#include <string.h>

void sim_flash_init(struct sim_flash *f, const struct sim_profile *p, uint8_t *mem,
		    struct sim_prng *prng)
{
	*f = (struct sim_flash){
		.mem = mem,
		.slot_size = p->slot_size,
		.sector_size = p->sector_size,
		.page_size = p->page_size,
		.erase_typ_us = p->erase_typ_us,
		.erase_max_us = p->erase_max_us,
		.prog_typ_us = p->prog_typ_us,
		.prog_max_us = p->prog_max_us,
		.tail_permille = p->tail_permille,
		.read_rate = p->read_rate,
		.prng = prng,
	};
}

/* Typical, except that tail_permille of the operations draw uniformly in [typ, max]. */
static uint64_t draw(struct sim_flash *f, uint64_t typ, uint64_t max)
{
	if (sim_prng_below(f->prng, 1000) >= f->tail_permille)
		return typ;
	return typ + (uint64_t)(sim_prng_unit(f->prng) * (double)(max - typ));
}

uint64_t sim_flash_erase_time(struct sim_flash *f)
{
	return draw(f, f->erase_typ_us, f->erase_max_us);
}

uint64_t sim_flash_program_time(struct sim_flash *f)
{
	return draw(f, f->prog_typ_us, f->prog_max_us);
}

uint64_t sim_flash_erase_sector(struct sim_flash *f, unsigned slot, uint32_t sector)
{
	uint32_t off = sector * f->sector_size;

	if (slot >= SIM_SLOTS || off >= f->slot_size)
		return 0;
	memset(sim_flash_slot(f, slot) + off, 0xff, f->sector_size);
	return draw(f, f->erase_typ_us, f->erase_max_us);
}

uint64_t sim_flash_erase_range(struct sim_flash *f, unsigned slot, uint32_t off, uint32_t len)
{
	uint64_t d = 0;

	if (len == 0)
		return 0;
	for (uint32_t s = off / f->sector_size; s <= (off + len - 1) / f->sector_size; s++)
		d += sim_flash_erase_sector(f, slot, s);
	return d;
}

uint64_t sim_flash_program(struct sim_flash *f, unsigned slot, uint32_t off, const uint8_t *data,
			   size_t len)
{
	uint8_t *p;

	if (slot >= SIM_SLOTS || off >= f->slot_size || len > f->slot_size - off)
		return 0;
	p = sim_flash_slot(f, slot) + off;
	for (size_t i = 0; i < len; i++)
		p[i] &= data[i];
	return draw(f, f->prog_typ_us, f->prog_max_us);
}

uint64_t sim_flash_read_us(const struct sim_flash *f, size_t len)
{
	return (uint64_t)((double)len * 1e6 / (double)f->read_rate);
}

size_t sim_flash_erased_run(const struct sim_flash *f, unsigned slot, uint32_t off, size_t len)
{
	const uint8_t *p = sim_flash_slot(f, slot) + off;
	size_t i = 0;

	if (off >= f->slot_size)
		return 0;
	len = len < f->slot_size - off ? len : f->slot_size - off;
	while (i < len && p[i] == 0xff)
		i++;
	return i;
}

void sim_flash_clear_bits(struct sim_flash *f, unsigned slot, uint32_t off, size_t len,
			  unsigned nbits)
{
	uint8_t *p = sim_flash_slot(f, slot) + off;

	if (len == 0 || off >= f->slot_size || len > f->slot_size - off)
		return;
	for (unsigned i = 0; i < nbits; i++)
		/* A cleared bit that was already 0 changes nothing: look for a set one. */
		for (unsigned tries = 0; tries < 64; tries++) {
			uint64_t bit = sim_prng_below(f->prng, (uint64_t)len * 8);
			uint8_t mask = (uint8_t)(1u << (bit % 8));

			if (p[bit / 8] & mask) {
				p[bit / 8] &= (uint8_t)~mask;
				break;
			}
		}
}
