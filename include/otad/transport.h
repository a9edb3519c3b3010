/* transport.h — one interface for every link that carries SMP packets: UDP, serial console
 * framing, BLE GATT. A transport sends and delivers whole SMP packets (it frames, fragments and
 * reassembles as its link needs) and reports link state. Everything runs on the caller's
 * sd-event loop; nothing blocks.
 *
 * Specs:  udp:HOST[:PORT]            IPv4, IPv6 ("udp:[::1]:1337"), default port 1337
 *         serial:PATH[@BAUD]         Zephyr "SMP over console" framing, default 115200 baud
 *         ble:ADDRESS | ble:name=NAME (bt/ layer, --hci SPEC in tr_options)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct tr;

enum tr_event {
	TR_EVENT_UP,   /* link usable (opened, reconnected) */
	TR_EVENT_DOWN, /* link lost; err is a negative errno naming why */
};

struct tr_callbacks {
	/* One whole SMP packet (header + body, len bytes). Valid only during the call. */
	void (*recv)(struct tr *t, const uint8_t *pkt, size_t len, void *user_data);
	void (*event)(struct tr *t, enum tr_event ev, int err, void *user_data);
	/* The send backlog drained to zero (see tr_backlog()). May be NULL. */
	void (*writable)(struct tr *t, void *user_data);
	/* Something was discarded (bad CRC, garbage line, truncated packet); text says what.
	 * Debug aid for the owner to log; may be NULL. */
	void (*discard)(struct tr *t, const char *what, void *user_data);
};

struct tr_options {
	const char *hci;             /* BLE: controller spec (tty:, userchan:, unix:, tcp:) */
	uint64_t reconnect_timeout_usec; /* how long tr_reconnect() keeps trying; 0 = 60 s */
};

/* Parses spec and opens the link. For UDP and serial the link is up when this returns 0 (the
 * first TR_EVENT_UP is still delivered from the loop, so owners have one code path); BLE comes
 * up asynchronously. Errors: -EINVAL bad spec (unknown scheme, bad port/baud), -ENOENT etc. */
int tr_open(sd_event *e, const char *spec, const struct tr_options *o, struct tr **ret);

/* Replaces the callbacks; user_data is not owned. */
void tr_set_callbacks(struct tr *t, const struct tr_callbacks *cb, void *user_data);

/* Sends one whole SMP packet. The bytes are copied or consumed before return (the caller may
 * reuse pkt at once). Returns 0 when handed to the OS/queued, -EMSGSIZE when longer than
 * tr_max_packet(), -ENOTCONN when the link is down, other negative errno on I/O failure. */
int tr_send(struct tr *t, const uint8_t *pkt, size_t len);

/* Largest SMP packet (header included) one tr_send() may carry. */
size_t tr_max_packet(const struct tr *t);

/* Bytes of framing the device's receive buffer holds besides the SMP packet itself (serial: the
 * 2-byte length and the CRC16 = 4; UDP/BLE: 0). The device's buf_size less this is the largest
 * request it accepts. */
size_t tr_frame_overhead(const struct tr *t);

/* Bytes accepted by tr_send() and not yet written to the OS / given to the controller. Pacing
 * waits for 0 before sending more so that a slow line never hides a queue; writable() fires when
 * it drops to 0. */
size_t tr_backlog(const struct tr *t);

/* The device is about to reset (or the link was lost): drop the link and bring it back the way
 * this transport's device comes back. UDP: nothing to reopen, stays up. Serial: close, then
 * reopen PATH (often a /dev/serial/by-id symlink that now points to a new tty) every 200 ms until
 * it opens. BLE: disconnect, scan for the device again, connect after it has advertised for a
 * moment. TR_EVENT_DOWN then TR_EVENT_UP are reported. */
int tr_reconnect(struct tr *t);

bool tr_is_up(const struct tr *t);
/* "udp:127.0.0.1:1337", "serial:/dev/ttyACM0@115200" — the canonical spec. */
const char *tr_describe(const struct tr *t);

/* Closes the link. Accepts NULL, returns NULL. Never call it from inside one of t's callbacks:
 * defer it (sd_event_add_defer) instead. */
struct tr *tr_free(struct tr *t);
