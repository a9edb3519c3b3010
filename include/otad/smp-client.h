/* smp-client.h — SMP requests over a transport: sequence numbers, matching responses to requests,
 * per-request timeouts, cancellation. It owns the transport's callbacks and forwards link events.
 *
 * Style of BlueZ's bt_att: a send returns an unsigned int id (0 = not queued) that can be
 * cancelled; every callback takes user_data, and destroy(user_data) runs exactly once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "otad/common.h"
#include "otad/smp.h"
#include "otad/transport.h"

struct smp_client;

struct smp_rsp {
	struct smp_hdr hdr;
	const uint8_t *body; /* CBOR body, hdr.len bytes; valid during the callback only */
	size_t body_len;
	uint64_t rtt_usec;   /* send to receive, for pacing */
};

/* err: 0 = a response arrived (the device's own rc is inside the body, see smp_err_decode);
 * -ETIMEDOUT = no response within the timeout; -ENOTCONN = link went down while waiting;
 * -ECANCELED = cancelled (smp_client_cancel / free); -EBADMSG = a response with this sequence
 * number had the wrong op/group/id or a length that disagrees with its header. */
typedef void (*smp_rsp_fn)(int err, const struct smp_rsp *rsp, void *user_data);

struct smp_client_ops {
	void (*event)(enum tr_event ev, int err, void *user_data); /* forwarded link events */
	void (*writable)(void *user_data);                         /* transport backlog drained */
	/* A received packet matched no pending request (late, duplicate, unknown seq, garbage);
	 * why says which. May be NULL. */
	void (*stray)(const char *why, void *user_data);
};

int smp_client_new(sd_event *e, struct tr *t, const struct smp_client_ops *ops, void *user_data,
		   struct smp_client **ret);
/* Frees pending requests (their callbacks run with -ECANCELED). Does not free the transport.
 * Accepts NULL, returns NULL. Not from inside one of its own callbacks. */
struct smp_client *smp_client_free(struct smp_client *c);

/* Header version used for requests; default SMP_VER_2. */
void smp_client_set_version(struct smp_client *c, enum smp_ver ver);

/* Sends one request. pkt has SMP_HDR_SIZE bytes of headroom followed by body_len bytes of CBOR
 * body; the client writes the header (op, version, group, id, fresh seq) into pkt[0..7] and hands
 * pkt to the transport without copying it. timeout_usec 0 = the client's default (5 s).
 * Returns the request id (> 0), or 0 with errno-style *ret_err when it could not be sent. */
unsigned int smp_client_send(struct smp_client *c, enum smp_op op, uint16_t group, uint8_t id,
			     uint8_t *pkt, size_t body_len, uint64_t timeout_usec, smp_rsp_fn cb,
			     void *user_data, otad_destroy_fn destroy, int *ret_err);
/* Convenience for small requests: copies body into an internal buffer. */
unsigned int smp_client_request(struct smp_client *c, enum smp_op op, uint16_t group, uint8_t id,
				const uint8_t *body, size_t body_len, uint64_t timeout_usec,
				smp_rsp_fn cb, void *user_data, otad_destroy_fn destroy,
				int *ret_err);

bool smp_client_cancel(struct smp_client *c, unsigned int id);
void smp_client_cancel_all(struct smp_client *c);
unsigned int smp_client_pending(const struct smp_client *c);
struct tr *smp_client_transport(const struct smp_client *c);
