/* pty.h — otasim's serial front end: a pseudo-terminal in raw mode speaking Zephyr's SMP console
 * framing (include/otad/console.h), optionally behind a symlink like /dev/serial/by-id. With
 * re-enumeration a device reset closes the pty (the client sees a hangup) and the device comes
 * back on a new one, the symlink re-pointed: a USB CDC ACM device re-enumerating. With the shell,
 * the UART is the console of Zephyr's shell transport (sim/shell.h): boot output, the prompt and
 * log messages among the answers. Without it, the dedicated SMP UART transport: frames only. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "sim/server.h"

struct sim_pty;

struct sim_pty_ops {
	/* A (new) pty is open at path. May be NULL. */
	void (*opened)(const char *path, void *user_data);
	/* Console input that was not SMP, or a broken frame: why. May be NULL. */
	void (*discard)(const char *why, void *user_data);
};

struct sim_pty_params {
	const char *link_path; /* may be NULL */
	bool reenumerate;
	bool shell;
};

/* Opens the first pty at once. */
int sim_pty_new(sd_event *e, struct sim_server *s, const struct sim_pty_params *params,
		const struct sim_pty_ops *ops, void *user_data, struct sim_pty **ret);
struct sim_pty *sim_pty_free(struct sim_pty *p);
/* "/dev/pts/7", or NULL while re-enumerating. */
const char *sim_pty_path(const struct sim_pty *p);
