/* conn.h — otactl's synchronous face on the asynchronous layers: open a transport, send one SMP
 * request and run the loop until its answer. For the one-shot commands (echo, params, image ...). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "otad/smp-client.h"

struct conn {
	sd_event *event;
	struct tr *tr;
	struct smp_client *smp;
	uint64_t timeout_usec;
	unsigned signals; /* SIGINT/SIGTERM received */
	int link_err;	  /* why the link went down */
	/* last answer */
	int err;
	uint8_t body[4096];
	size_t body_len;
	struct smp_hdr hdr;
	char stray[256]; /* a transport note (TR_NOTE_MAX) */
};

/* Opens spec and waits for the link (timeout). Logs the cause and returns an exit code != 0 on
 * failure; EXIT_CANCELLED on SIGINT/SIGTERM. */
int conn_open(struct conn *c, const char *spec, const struct tr_options *o, uint64_t timeout_usec);
/* Sends a request and waits for its answer; on success the body is in c->body. Logs and returns
 * an exit code != 0 on failure (timeout, link, protocol, EXIT_CANCELLED on a signal). */
int conn_call(struct conn *c, enum smp_op op, uint16_t group, uint8_t id, const uint8_t *body,
	      size_t len, const char *what);
/* Lets go of the device (conn_release()) and frees everything. */
void conn_close(struct conn *c);

/* Counts SIGINT and SIGTERM in *count from the loop instead of dying at once, which would leave
 * a BLE device connected to nobody (tr_close()). 0 or -errno. */
int conn_watch_signals(sd_event *e, unsigned *count);
/* tr_close(), the loop run until it is done (bounded; a further signal in *signals stops the
 * wait), then tr_free(). Accepts NULL. */
void conn_release(sd_event *e, struct tr *t, const unsigned *signals);
