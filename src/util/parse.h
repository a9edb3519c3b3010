/* parse.h — strict parsers for numbers given on command lines and in config files. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Decimal unsigned integer, whole string, no sign, no overflow. */
int parse_u64(const char *s, uint64_t *ret);
int parse_u32(const char *s, uint32_t *ret);

/* A size or rate with an optional k/K (x1024) or M (x1024*1024) suffix, e.g. "20k". */
int parse_size(const char *s, uint64_t *ret);

/* A duration: plain number = seconds; suffixes us, ms, s, min. */
int parse_usec(const char *s, uint64_t *ret);

/* "yes"/"no"/"true"/"false"/"1"/"0"/"on"/"off". */
int parse_bool(const char *s, bool *ret);
