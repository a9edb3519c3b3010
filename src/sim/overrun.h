/* overrun.h — the overrun fault (nRF52840 anomaly 198, docs/otasim.md "Overrun fault"): a page
 * program over [s, e] is corrupted when the reception of some packet overlaps it and the bytes
 * that arrived in the window before e, over the window, exceed the safe rate. Pure: fed with
 * receptions in arrival order, asked about program intervals. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_OVERRUN_WINDOW_US 200000

struct sim_rx {
	uint64_t start, end; /* reception on the device's radio; end = arrival */
	uint32_t bytes;
};

struct sim_overrun {
	uint64_t safe_rate; /* bytes/s */
	struct sim_rx *rx;  /* [head, n) live, ordered by end */
	size_t head, n, cap;
};

void sim_overrun_init(struct sim_overrun *o, uint64_t safe_rate);
void sim_overrun_done(struct sim_overrun *o);
/* Records a reception; end must not precede the previous one's. -ENOMEM. */
int sim_overrun_reception(struct sim_overrun *o, uint64_t start, uint64_t end, uint32_t bytes);
/* Forgets receptions that cannot matter to programs starting at or after t. */
void sim_overrun_forget(struct sim_overrun *o, uint64_t t);
/* Reception rate (bytes/s) over the window ending at e. */
double sim_overrun_rate(const struct sim_overrun *o, uint64_t e);
/* Whether a page program over [s, e] is corrupted. */
bool sim_overrun_corrupts(const struct sim_overrun *o, uint64_t s, uint64_t e);
