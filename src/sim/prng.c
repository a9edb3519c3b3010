/* prng.c — xoshiro256** (Blackman & Vigna, 2018), seeded with splitmix64 as its authors advise. */
#include "sim/prng.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void sim_prng_seed(struct sim_prng *p, uint64_t seed)
{
	for (unsigned i = 0; i < 4; i++)
		p->s[i] = splitmix64(&seed);
}

uint64_t sim_prng_next(struct sim_prng *p)
{
	uint64_t *s = p->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t sim_prng_below(struct sim_prng *p, uint64_t n)
{
	uint64_t limit, v;

	if (n == 0)
		return 0;
	/* Rejection sampling: no modulo bias. */
	limit = UINT64_MAX - UINT64_MAX % n;
	do
		v = sim_prng_next(p);
	while (v >= limit);
	return v % n;
}

double sim_prng_unit(struct sim_prng *p)
{
	return (double)(sim_prng_next(p) >> 11) * 0x1.0p-53;
}
