/* link.c — FIFO link timing (docs/otasim.md "Link model"). */
#include "sim/link.h"

void sim_link_init(struct sim_link *l, uint64_t latency_us, uint64_t bandwidth)
{
	*l = (struct sim_link){.latency_us = latency_us, .bandwidth = bandwidth ? bandwidth : 1};
}

uint64_t sim_link_serialisation_us(const struct sim_link *l, size_t n)
{
	/* Rounded up: a packet never takes zero time on the air. */
	return ((uint64_t)n * 1000000 + l->bandwidth - 1) / l->bandwidth;
}

void sim_link_send(struct sim_link *l, enum sim_dir dir, uint64_t now, size_t n,
		   struct sim_transfer *ret)
{
	uint64_t start = now > l->free_at[dir] ? now : l->free_at[dir];

	ret->start = start;
	ret->end = start + sim_link_serialisation_us(l, n);
	ret->arrival = ret->end + l->latency_us;
	l->free_at[dir] = ret->end;
}
