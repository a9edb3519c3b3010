/* transport-internal.h — what every transport shares: the vtable, the base struct embedded as the
 * first member of each implementation, the scheme openers, and the helpers that report to the
 * owner (events queued for the loop; packets, discards and writable() from loop handlers). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/transport.h"
#include "util/macro.h"

#define TR_RECONNECT_TIMEOUT_DEFAULT (60 * USEC_PER_SEC)

struct tr_ops {
	int (*send)(struct tr *t, const uint8_t *pkt, size_t len);
	size_t (*max_packet)(const struct tr *t);
	size_t frame_overhead;
	size_t (*backlog)(const struct tr *t);
	int (*reconnect)(struct tr *t);
	/* tr_close(): lets go of the link, then calls tr_close_complete() (from the loop, or
	 * inside this call). NULL: nothing to wait for. */
	void (*close)(struct tr *t, uint64_t timeout_usec);
	/* Releases the implementation's resources; the base and the allocation are freed after. */
	void (*destroy)(struct tr *t);
	/* tr_security(); NULL: -EOPNOTSUPP. */
	int (*security)(const struct tr *t, struct tr_security *ret);
};

#define TR_NOTE_MAX    256
#define TR_PENDING_MAX 16

struct tr_pending {
	bool is_note;	     /* a discard() text instead of an event */
	bool up_on_dispatch; /* set tr_is_up() when the event is delivered, not when queued */
	enum tr_event ev;
	int err;
	char note[TR_NOTE_MAX];
};

struct tr {
	const struct tr_ops *ops;
	sd_event *event;
	struct tr_callbacks cb;
	void *user_data;
	char *desc;
	bool up;
	bool refused; /* UDP: the peer answered a datagram with ICMP port unreachable */
	bool heard;   /* a packet arrived since tr_open() */
	uint64_t reconnect_timeout; /* usec */

	/* Events and notes raised outside the loop's handlers wait here for the defer source. */
	sd_event_source *defer;
	struct tr_pending pending[TR_PENDING_MAX];
	unsigned pending_head, pending_len;

	/* tr_close(): its callback, delivered by the same defer source */
	bool closing, close_done;
	int close_err;
	tr_close_fn close_fn;
	void *close_data;
};

DEFINE_FREE_CLEANUP(struct tr, tr_free)

/* Scheme openers: addr is the spec after "scheme:". Each allocates its struct with the base
 * first, calls tr_init() and returns the base. */
int tr_udp_open(sd_event *e, const char *addr, const struct tr_options *o, struct tr **ret);
int tr_serial_open(sd_event *e, const char *addr, const struct tr_options *o, struct tr **ret);
int tr_ble_open(sd_event *e, const char *addr, const struct tr_options *o, struct tr **ret);

/* Why addr (the spec after "scheme:") is not one the opener accepts: 0 when it parses, else
 * -EINVAL with what is wrong in why (size bytes, no spec in it: "port 99999 is out of range
 * (1..65535)"). Only parses: nothing is resolved or opened. */
int tr_udp_check(const char *addr, char *why, size_t size);
int tr_serial_check(const char *addr, char *why, size_t size);
int tr_ble_check(const char *addr, const struct tr_options *o, char *why, size_t size);
/* The BLE target alone, without the controller tr_ble_check() also needs. */
int tr_ble_target_check(const char *addr, char *why, size_t size);

/* snprintf() into why when why is not NULL; tr_why() is -EINVAL, for "return tr_why(...)". */
void tr_why_set(char *why, size_t size, const char *fmt, ...) _printf_(3, 4);
#define tr_why(why, size, ...) (tr_why_set((why), (size), __VA_ARGS__), -EINVAL)

/* Takes desc (malloc'd). The link starts down; call tr_link_up() once it is open. */
int tr_init(struct tr *t, const struct tr_ops *ops, sd_event *e, const struct tr_options *o,
	    char *desc);

/* Link state changes: the state is set now, the event is delivered from the loop in order. */
void tr_link_up(struct tr *t);
void tr_link_down(struct tr *t, int err);
/* Queues TR_EVENT_UP and sets the state only when it is delivered (a link that stayed usable). */
void tr_link_up_deferred(struct tr *t);
/* A discard() text raised outside a loop handler (inside tr_send()): delivered from the loop. */
void tr_post_note(struct tr *t, const char *fmt, ...) _printf_(2, 3);
/* The close is over (ops->close): tr_close()'s callback runs from the loop. Once only. */
void tr_close_complete(struct tr *t, int err);

/* From loop handlers only: report to the owner now. */
void tr_emit_discard(struct tr *t, const char *fmt, ...) _printf_(2, 3);
/* Checks the SMP header (8 bytes, its length agrees with len) and hands the packet to recv(),
 * or reports why not via discard(). */
void tr_emit_packet(struct tr *t, const uint8_t *pkt, size_t len);
void tr_emit_writable(struct tr *t);
void tr_emit_text(struct tr *t, const char *line, size_t len);
