/* pacer.h — how fast the upload may go: requests in flight (window) and image bytes per second
 * (a token bucket), fixed or adaptive. Pure: every call takes the clock value, nothing does I/O.
 *
 * Token bucket: no burst credit. Sending n bytes at t costs n tokens and the next send waits until
 * the balance is back to zero, so between any two sends i < j the bytes of sends i..j-1 never
 * exceed rate * (t_j - t_i).
 *
 * Adaptive window (delay-based, after TCP Vegas): the smallest round-trip time of a full-size
 * request is the path without queueing; window * (1 - base/srtt) estimates how many requests wait
 * in a queue somewhere (link, device). Once per round (a window's worth of answers) the window
 * grows while fewer than PACER_QUEUE_LOW requests wait and shrinks when more than PACER_QUEUE_HIGH
 * do: the slowest stage stays busy, latency stays within a couple of requests of flat, and the
 * device never holds more than it has buffers for. Two waiting requests, not one: a flash whose
 * service time swings (a sector erase, then page programs) idles with one. Until a round ends with
 * a request waiting (or the first back-off) the window doubles instead of growing by one, as TCP's
 * slow start does, so a healthy device is not left idle for a round per step. Answers with no
 * round trip to compare (the first chunk's, which waited for the erase, and those of the chunks
 * sent behind it) end no round; in slow start each adds one to the window.
 *
 * Timeouts and busy answers halve the window and cap the rate at what was delivered
 * (multiplicative back-off); the cap then grows by a tenth per quiet round and is dropped once it
 * no longer binds. Ceilings (from a remembered bootloader refusal) are never exceeded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/update.h"

#define PACER_QUEUE_LOW  2.0
#define PACER_QUEUE_HIGH 3.5

struct pacer_config {
	struct upd_pace pace;   /* requested: window UPD_WINDOW_AUTO and/or auto_rate adapt */
	unsigned max_window;    /* device buffers (buf_count) */
	unsigned start_window;  /* adaptive start; 0 = 1 */
	uint32_t start_rate;    /* adaptive rate: initial cap, 0 = none */
	unsigned ceiling_window; /* never above; 0 = none */
	uint32_t ceiling_rate;  /* never above; 0 = none */
};

struct pacer {
	bool auto_window, auto_rate;
	unsigned max_window;    /* min(buffers, ceiling) */
	uint32_t ceiling_rate;
	unsigned window;
	uint32_t rate;          /* current cap, 0 = unlimited */
	double balance;         /* tokens (bytes); negative = debt */
	uint64_t last_usec;
	uint64_t base_rtt;      /* usec, smallest full-size round trip */
	double srtt;            /* usec, smoothed */
	unsigned acks_in_round;
	bool slow_start;        /* doubling until the first queue or back-off */
	unsigned peak_window;
	unsigned grows, shrinks, backoffs;
};

void pacer_init(struct pacer *p, const struct pacer_config *cfg, uint64_t now);
/* Microseconds until more may be sent (0 = now). */
uint64_t pacer_delay(struct pacer *p, uint64_t now);
void pacer_sent(struct pacer *p, size_t bytes, uint64_t now);
unsigned pacer_window(const struct pacer *p);
uint32_t pacer_rate(const struct pacer *p);
/* An answer to a request sent rtt_usec ago; full = a full-size data request (the ones whose
 * round trips compare); took = the device took the request's bytes (its answer moved the
 * upload on). delivery_rate: recent confirmed bytes/s. */
void pacer_on_ack(struct pacer *p, uint64_t rtt_usec, bool full, bool took,
		  double delivery_rate);
/* No answer in time, or the device answered busy / out of memory. */
void pacer_on_congestion(struct pacer *p, double delivery_rate);
