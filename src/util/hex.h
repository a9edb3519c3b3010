/* hex.h — lowercase hex encoding of hashes and byte strings. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Writes 2*len hex digits and a NUL to out (size >= 2*len+1). Returns out. */
char *hex_encode(const uint8_t *buf, size_t len, char *out);

/* Decodes exactly 2*max_len or fewer hex digits (whole string); returns the byte count or -EINVAL. */
int hex_decode(const char *s, uint8_t *out, size_t max_len);
