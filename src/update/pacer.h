/* pacer.h — how fast the upload may go: requests in flight (window) and image bytes per second
 * (a token bucket). Pure: every call takes the clock value, nothing here does I/O.
 *
 * The bucket holds no burst credit: sending n bytes at t costs n tokens and the next send waits
 * until the balance is back to zero, so between any two sends i < j the bytes of sends i..j-1
 * never exceed rate * (t_j - t_i). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/update.h"

struct pacer {
	uint32_t rate;      /* bytes/s, 0 = unlimited */
	unsigned window;    /* current window */
	unsigned max_window; /* device buffers (buf_count), never exceeded */
	double balance;     /* tokens (bytes); negative = debt */
	uint64_t last_usec;
};

/* window UPD_WINDOW_AUTO is taken as max_window until the adaptive pacer exists. */
void pacer_init(struct pacer *p, const struct upd_pace *pace, unsigned max_window, uint64_t now);
/* Microseconds until `bytes` more may be sent (0 = now). */
uint64_t pacer_delay(struct pacer *p, uint64_t now);
void pacer_sent(struct pacer *p, size_t bytes, uint64_t now);
unsigned pacer_window(const struct pacer *p);
