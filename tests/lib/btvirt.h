/* btvirt.h — BlueZ's controller emulator for tests. Each client that connects to
 * btvirt_spec() gets a new emulated LE controller speaking H4; the controllers of one btvirt
 * see each other (advertising, scanning, connections, ACL data).
 *
 * Isolation: btvirt binds fixed paths (/tmp/bt-server-le, ...). It runs with the AF_ALG shim
 * preloaded (lib/afalg-shim.c), which also rewrites those paths into a private directory of the
 * test ($OTAD_BTVIRT_DIR), so parallel tests never share an emulator and no privilege
 * (namespaces, mounts) is needed. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct btvirt {
	pid_t pid;
	char dir[256];
	char spec[320]; /* "unix:DIR/bt-server-le" */
	char log[300];	/* btvirt's stdout+stderr */
};

/* Whether btvirt is installed (tests skip when not). */
bool btvirt_available(void);
/* Starts btvirt with the shim in a fresh directory under tl_tmpdir() and waits (at most 5 s)
 * until its LE server socket accepts. 0 or -errno. */
int btvirt_start(struct btvirt *b);
/* SIGTERM, then SIGKILL after 2 s; reaps it. Safe to call twice. */
void btvirt_stop(struct btvirt *b);
