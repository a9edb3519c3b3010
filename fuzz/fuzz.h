/* fuzz.h — what every fuzz target shares: the libFuzzer entry points, a reader that takes
 * structured values off the input (splits, modes, lengths), and FUZZ_CHECK for invariants. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant beyond "no crash": a violation aborts, which libFuzzer reports as a crash and
 * saves the input. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__,     \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Takes values off the front of the input; past the end every value is 0 (so a short input is
 * still a valid, if dull, one). */
struct fz {
	const uint8_t *p;
	size_t n;
};

static inline struct fz fz_init(const uint8_t *data, size_t size)
{
	return (struct fz){.p = data, .n = size};
}

static inline uint8_t fz_u8(struct fz *f)
{
	uint8_t v = 0;

	if (f->n) {
		v = *f->p++;
		f->n--;
	}
	return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t hi = fz_u8(f);

	return (uint16_t)(hi << 8 | fz_u8(f));
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t hi = fz_u16(f);

	return hi << 16 | fz_u16(f);
}

static inline bool fz_bool(struct fz *f)
{
	return fz_u8(f) & 1;
}

/* Up to n bytes (fewer at the end of the input); *ret_len says how many. */
static inline const uint8_t *fz_bytes(struct fz *f, size_t n, size_t *ret_len)
{
	const uint8_t *p = f->p;

	if (n > f->n)
		n = f->n;
	f->p += n;
	f->n -= n;
	*ret_len = n;
	return p;
}

/* A length-prefixed record (BE16 length), for inputs that are a sequence of packets. */
static inline const uint8_t *fz_record(struct fz *f, size_t *ret_len)
{
	return fz_bytes(f, fz_u16(f), ret_len);
}

/* The rest of the input. */
static inline const uint8_t *fz_rest(struct fz *f, size_t *ret_len)
{
	return fz_bytes(f, f->n, ret_len);
}

/* A heap copy of exactly len bytes (ASan then sees any read past it); never NULL. */
static inline uint8_t *fz_dup(const uint8_t *p, size_t len)
{
	uint8_t *b = calloc(1, len ? len : 1);

	if (!b)
		abort();
	if (len)
		memcpy(b, p, len);
	return b;
}
