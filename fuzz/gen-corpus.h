/* gen-corpus.h — what the seed corpus generator's files share: a byte builder and the writer of
 * one seed file (fuzz/corpus/<target>/<name>). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct seed {
	uint8_t d[8192];
	size_t n;
};

void seed_u8(struct seed *s, uint8_t v);
void seed_be16(struct seed *s, uint16_t v);
void seed_le16(struct seed *s, uint16_t v);
void seed_bytes(struct seed *s, const void *p, size_t n);
/* A BE16 length-prefixed record (fuzz.h fz_record). */
void seed_record(struct seed *s, const void *p, size_t n);
/* An SMP packet: header for op/group/id/seq (SMP v2) and the body. */
void seed_smp(struct seed *s, uint8_t op, uint16_t group, uint8_t id, uint8_t seq,
	      const uint8_t *body, size_t n);
/* Writes outdir/target/name; exits on failure. */
void seed_put(const char *target, const char *name, const struct seed *s);
void seed_put_raw(const char *target, const char *name, const void *p, size_t n);

/* Reads SOURCE_DIR/rel into buf (at most size bytes); exits on failure. */
size_t seed_read_file(const char *rel, uint8_t *buf, size_t size);

void gen_bt(void);
void gen_bt_sm(void);
void gen_files(void);
