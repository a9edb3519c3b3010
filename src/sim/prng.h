/* prng.h — the simulator's one source of randomness: xoshiro256** seeded through splitmix64, so
 * that a run with the same --seed and the same inputs is the same run. */
#pragma once

#include <stdint.h>

struct sim_prng {
	uint64_t s[4];
};

void sim_prng_seed(struct sim_prng *p, uint64_t seed);
uint64_t sim_prng_next(struct sim_prng *p);
/* Uniform in [0, n); n == 0 gives 0. */
uint64_t sim_prng_below(struct sim_prng *p, uint64_t n);
/* Uniform in [0, 1). */
double sim_prng_unit(struct sim_prng *p);
