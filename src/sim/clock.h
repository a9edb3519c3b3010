/* clock.h — the model clock: model time runs --speed times faster than CLOCK_MONOTONIC from the
 * moment the clock is created, and callbacks run at model times in (time, order of scheduling)
 * order, all on one sd-event timer with 1 us accuracy. A callback is handed the model time it
 * was scheduled for, so the model does not depend on how late the loop wakes. */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

struct sim_clock;
typedef void (*sim_clock_fn)(uint64_t when, void *user_data);

int sim_clock_new(sd_event *e, double speed, struct sim_clock **ret);
struct sim_clock *sim_clock_free(struct sim_clock *c);

/* Model microseconds since the clock started (at the loop's current iteration). */
uint64_t sim_clock_now(struct sim_clock *c);
/* Real seconds since the clock started (for traces). */
double sim_clock_real_seconds(struct sim_clock *c);
double sim_clock_speed(const struct sim_clock *c);

/* Runs fn(when, user_data) at model time when (at once, from the loop, if when has passed).
 * Returns an id > 0 for sim_clock_cancel(), or 0 when out of memory. */
uint64_t sim_clock_at(struct sim_clock *c, uint64_t when, sim_clock_fn fn, void *user_data);
/* Forgets a scheduled callback; unknown or already run ids are ignored. */
void sim_clock_cancel(struct sim_clock *c, uint64_t id);
