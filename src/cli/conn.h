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
	/* last answer */
	int err;
	uint8_t body[4096];
	size_t body_len;
	struct smp_hdr hdr;
	char stray[128];
};

/* Opens spec and waits for the link (timeout). Logs the cause and returns an exit code != 0 on
 * failure. */
int conn_open(struct conn *c, const char *spec, const struct tr_options *o, uint64_t timeout_usec);
/* Sends a request and waits for its answer; on success the body is in c->body. Logs and returns
 * an exit code != 0 on failure (timeout, link, protocol). */
int conn_call(struct conn *c, enum smp_op op, uint16_t group, uint8_t id, const uint8_t *body,
	      size_t len, const char *what);
void conn_close(struct conn *c);
