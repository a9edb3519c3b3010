/* overrun.c — reception log and the corruption rule of the overrun fault. */
#include "sim/overrun.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sim_overrun_init(struct sim_overrun *o, uint64_t safe_rate)
{
	*o = (struct sim_overrun){.safe_rate = safe_rate};
}

void sim_overrun_done(struct sim_overrun *o)
{
	free(o->rx);
	*o = (struct sim_overrun){.safe_rate = o->safe_rate};
}

int sim_overrun_reception(struct sim_overrun *o, uint64_t start, uint64_t end, uint32_t bytes)
{
	if (o->head > 0 && o->head == o->n)
		o->head = o->n = 0;
	if (o->n == o->cap) {
		struct sim_rx *nrx;
		size_t live = o->n - o->head;

		if (o->head > o->cap / 2) { /* compact instead of growing */
			memmove(o->rx, o->rx + o->head, live * sizeof(*o->rx));
			o->head = 0;
			o->n = live;
		} else {
			size_t cap = o->cap ? o->cap * 2 : 64;

			nrx = realloc(o->rx, cap * sizeof(*nrx));
			if (!nrx)
				return -ENOMEM;
			o->rx = nrx;
			o->cap = cap;
		}
	}
	o->rx[o->n++] = (struct sim_rx){.start = start, .end = end, .bytes = bytes};
	return 0;
}

void sim_overrun_forget(struct sim_overrun *o, uint64_t t)
{
	/* A reception matters while it can overlap a program starting at t (end > t) or count in
	 * the rate window of a program ending after t (end > t - window). */
	uint64_t keep_from = t > SIM_OVERRUN_WINDOW_US ? t - SIM_OVERRUN_WINDOW_US : 0;

	while (o->head < o->n && o->rx[o->head].end < keep_from)
		o->head++;
}

double sim_overrun_rate(const struct sim_overrun *o, uint64_t e)
{
	uint64_t from = e > SIM_OVERRUN_WINDOW_US ? e - SIM_OVERRUN_WINDOW_US : 0;
	uint64_t bytes = 0;

	for (size_t i = o->head; i < o->n; i++)
		if (o->rx[i].end > from && o->rx[i].end <= e)
			bytes += o->rx[i].bytes;
	return (double)bytes * 1e6 / SIM_OVERRUN_WINDOW_US;
}

bool sim_overrun_corrupts(const struct sim_overrun *o, uint64_t s, uint64_t e)
{
	bool overlap = false;

	for (size_t i = o->head; i < o->n && !overlap; i++)
		overlap = o->rx[i].start < e && o->rx[i].end > s;
	return overlap && sim_overrun_rate(o, e) > (double)o->safe_rate;
}
