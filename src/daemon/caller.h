/* caller.h — who called otad over D-Bus, as the bus daemon recorded it when the caller
 * connected, and opening a file only as that caller may (caller.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "util/macro.h"

struct caller {
	uid_t uid;
	gid_t *gids; /* primary and supplementary groups; NULL when the bus did not say */
	size_t n_gids;
};

/* The sender of msg: GetConnectionCredentials' UnixUserID and UnixGroupIDs. */
int caller_get(sd_bus_message *msg, struct caller *ret);
void caller_done(struct caller *c);

/* Opens path read-only as c would: the kernel checks every component with c's uid and groups
 * (a child process takes them on; otad itself when c is root or otad's own user). A regular
 * file only. Returns an fd, or -errno as c would have got it (-EACCES, -ENOENT, ...); -EINVAL
 * not a regular file; -ETIMEDOUT when the open hangs (5 s); -EOPNOTSUPP when otad cannot take
 * on another user's identity (it does not run as root): the caller must hand the file over as an
 * fd. */
int caller_open(const struct caller *c, const char *path);
