/* simctl.h — start and stop otasim for a test: the device under test, over UDP or a pty. */
#pragma once

#include "lib/testlib.h"

struct tl_sim {
	struct tl_proc proc;
	char spec[300];	 /* transport spec for otactl: "udp:127.0.0.1:N" or "serial:/dev/pts/N" */
	char trace[512]; /* trace file path */
	char state[512]; /* state file path (kept across restarts of the same device) */
	char name[64];
};

/* Starts otasim with "--udp 127.0.0.1:0" (kind "udp") or "--serial" (kind "serial"), a trace and
 * a state file named after name in tl_tmpdir(), plus extra args (NULL-terminated, may be NULL).
 * Waits for its ready line(s). Returns 0 or -errno. */
int tl_sim_start(struct tl_sim *s, const char *name, const char *kind, const char *const *extra);
/* SIGTERM and wait; returns otasim's exit code. */
int tl_sim_stop(struct tl_sim *s);

/* Polls s's trace until an event called name with key=value (key NULL: any such event) is there,
 * at most timeout_ms. Returns 0 or -ETIMEDOUT. */
int tl_sim_wait_event(struct tl_sim *s, const char *name, const char *key, const char *value,
		      int timeout_ms);
/* Number of such events in s's trace now. */
size_t tl_sim_count_events(struct tl_sim *s, const char *name, const char *key, const char *value);
