/* daemon-client.h — otactl's D-Bus side: talking to otad (org.otad1) and following a job with the
 * same progress output as the in-process engine. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

enum client_bus {
	CLIENT_BUS_SYSTEM,
	CLIENT_BUS_USER,
	CLIENT_BUS_ADDRESS,
};

struct client_opts {
	enum client_bus bus;
	const char *address;
	bool direct; /* --direct: the in-process engine, never the daemon */
	const char *sha256;
};
extern struct client_opts client_opts;

/* Connects to the bus the options name. Returns 0 or -errno (not logged). */
int client_bus_open(sd_bus **ret);
/* Logs a failed call: the error's message, and a hint for access denied. Returns an exit code. */
int client_call_failed(const char *what, const sd_bus_error *e, int r);
/* Follows the job at path until it ends; cancel_on_interrupt: SIGINT/SIGTERM cancel the job
 * (upload) instead of only detaching (watch). Returns otactl's exit code for the result. */
int client_follow_job(sd_bus *bus, const char *path, bool cancel_on_interrupt);
/* The same in two steps, for a job not started yet: subscribe, start it, then run. */
struct follower;
int follower_new(sd_bus *bus, bool cancel_on_interrupt, struct follower **ret);
int follower_run(struct follower *f, const char *path, bool read_first);
struct follower *follower_free(struct follower *f);

int cmd_upload(int argc, char **argv);
int cmd_jobs(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_fleet(int argc, char **argv);
int cmd_reload(int argc, char **argv);
