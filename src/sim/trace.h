/* trace.h — the trace file of docs/otasim.md: one event per line, "event t=<real s> key=value
 * ...", flushed per line so that a test or a benchmark can read it while otasim runs. */
#pragma once

#include "util/macro.h"

struct sim_trace;

/* Creates (truncates) path. */
int sim_trace_open(const char *path, struct sim_trace **ret);
struct sim_trace *sim_trace_close(struct sim_trace *t);
/* Writes "event t=%.6f " then the formatted keys and a newline. t may be NULL (no trace). */
void sim_trace_event(struct sim_trace *t, const char *event, double real_s, const char *fmt, ...)
	_printf_(4, 5);
