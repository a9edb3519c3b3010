/* otadctl.h — otad as a test fixture: a private dbus-daemon whose policy includes the real
 * dbus/org.otad1.conf, otad started on it with its sd_notify messages captured, and a tiny HTTP
 * server for image downloads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/testlib.h"

struct tl_dbus {
	struct tl_proc proc;
	char address[600];
	unsigned otad_gid; /* of the group the policy names "otad" */
};
/* A private bus in tl_tmpdir() configured as the system bus is (its default policy copied
 * from dbus's system.conf), with dbus/org.otad1.conf included as installed. Where the machine
 * has no group otad, the bus sees one (a mount namespace with its own /etc/group). */
int tl_dbus_start(struct tl_dbus *b);
void tl_dbus_stop(struct tl_dbus *b);

struct tl_otad {
	struct tl_proc proc;
	int notify_fd;
	char notify_path[512], notes_path[600];
	int drain_pid;
	char config_dir[512], state_dir[512], cache_dir[512];
	char notes[8192]; /* the last sd_notify messages, one per line */
};
/* Starts otad on address with the given directories (extra args NULL-terminated, may be NULL)
 * and waits for READY=1. Returns 0, or -errno (*d->proc holds the exit when it died). */
int tl_otad_start(struct tl_otad *d, const char *address, const char *config_dir,
		  const char *state_dir, const char *cache_dir, const char *const *extra);
/* Reads notify messages until one contains text (or timeout). */
int tl_otad_wait_notify(struct tl_otad *d, const char *text, int timeout_ms);
/* SIGTERM and wait: otad's exit code. */
int tl_otad_stop(struct tl_otad *d);
void tl_otad_kill9(struct tl_otad *d);

/* Writes text to dir/name (creating dir and dir/fleet.d). Returns the path. */
const char *tl_write_file(const char *dir, const char *name, const char *text);

/* HTTP/1.1 GET server on 127.0.0.1 serving files of dir, with Range: bytes=N- support; each
 * request logged to log_path as "GET /name range=N status=S auth=A" (A the Authorization
 * header, "-" for none). cut_after > 0: the first response is cut (connection closed) after that
 * many body bytes. For request tests, any method: /echo answers 200 with "METHOD /echo\nauth=A\n
 * type=CONTENT-TYPE\n\nBODY", /status/N answers status N ("Retry-After: 7", body "status N"),
 * /stall never answers, /big sends 2 MiB. */
struct tl_httpd {
	int pid;
	unsigned port;
	char log_path[512];
};
int tl_httpd_start(struct tl_httpd *h, const char *dir, size_t cut_after);
void tl_httpd_stop(struct tl_httpd *h);
