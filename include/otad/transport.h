/* transport.h — one interface for every link that carries SMP packets: UDP, serial console
 * framing, BLE GATT. A transport sends and delivers whole SMP packets (it frames, fragments and
 * reassembles as its link needs) and reports link state. Everything runs on the caller's
 * sd-event loop; nothing blocks (except resolving a UDP host *name*, see below).
 *
 * Specs:  udp:HOST[:PORT]            IPv4, IPv6 ("udp:[::1]:1337"), default port 1337
 *         serial:PATH[@BAUD]         Zephyr "SMP over console" framing, default 115200 baud
 *         ble:ADDRESS | ble:name=NAME (bt/ layer, --hci SPEC in tr_options; not yet built:
 *                                     tr_open() answers -EPROTONOSUPPORT)
 *
 * UDP: one SMP packet per datagram on a connected socket. A HOST that is not a literal address
 * is resolved with a blocking getaddrinfo() inside tr_open() (/etc/hosts or DNS): pass literals
 * where that matters. An ICMP "port unreachable" (a device rebooting) is reported through
 * discard() and the link stays up: UDP never reports TR_EVENT_DOWN on its own.
 * tr_max_packet() is the path MTU of the route less the IP and UDP headers (1472 on Ethernet
 * IPv4, 1452 IPv6, ~64 KiB on loopback), so requests are never IP-fragmented.
 *
 * Serial: the tty is opened raw (no flow control, CLOCAL) at BAUD; PATH must not contain '@'
 * followed by digits. On a hangup or I/O error (USB device re-enumerated, pty master closed) the
 * transport reports TR_EVENT_DOWN and reopens PATH by name every 200 ms on its own, following a
 * re-pointed symlink, until reconnect_timeout; TR_EVENT_UP when it opens, or a second
 * TR_EVENT_DOWN with -ETIMEDOUT when it gives up (tr_reconnect() starts over).
 *
 * Events are always delivered from the loop, in order, never from inside a tr_* call;
 * tr_is_up() is the current state, which an event still queued may lag.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct tr;

/* For error messages about a spec tr_open() rejected with -EINVAL. */
#define TR_SPEC_HELP "udp:HOST[:PORT], serial:PATH[@BAUD] or ble:ADDRESS|name=NAME"

enum tr_event {
	TR_EVENT_UP,   /* link usable (opened, reconnected) */
	TR_EVENT_DOWN, /* link lost; err is a negative errno naming why (-EPIPE hangup, -EIO,
			* -ECONNRESET after tr_reconnect(), -ETIMEDOUT reopening gave up) */
};

struct tr_callbacks {
	/* One whole SMP packet (header + body, len bytes; its header's length agrees with len).
	 * Valid only during the call. */
	void (*recv)(struct tr *t, const uint8_t *pkt, size_t len, void *user_data);
	void (*event)(struct tr *t, enum tr_event ev, int err, void *user_data);
	/* The send backlog drained to zero (see tr_backlog()). May be NULL. */
	void (*writable)(struct tr *t, void *user_data);
	/* Something was discarded (bad CRC, garbage line, truncated packet) or a transient link
	 * error was absorbed (ICMP port unreachable); text says what. Debug aid for the owner to
	 * log; may be NULL. */
	void (*discard)(struct tr *t, const char *what, void *user_data);
	/* Serial: a console line that is not SMP (the device's log output, e.g. MCUboot's boot
	 * messages), without its newline; may hold any byte. May be NULL. */
	void (*text)(struct tr *t, const char *line, size_t len, void *user_data);
};

struct tr_options {
	const char *hci;		 /* BLE: controller spec (tty:, userchan:, unix:, tcp:) */
	uint64_t reconnect_timeout_usec; /* how long reopening keeps trying; 0 = 60 s */
};

/* Parses spec and opens the link; o may be NULL. For UDP and serial the link is up when this
 * returns 0 (the first TR_EVENT_UP is still delivered from the loop, so owners have one code
 * path); BLE comes up asynchronously. Errors: -EINVAL bad spec (unknown scheme, bad host, port
 * or baud), -EPROTONOSUPPORT a scheme not built in, -ENOENT no such path or host name,
 * -ENOTTY PATH is not a tty, other negative errno from the system. */
int tr_open(sd_event *e, const char *spec, const struct tr_options *o, struct tr **ret);

/* Replaces the callbacks (cb may be NULL: none); user_data is not owned. */
void tr_set_callbacks(struct tr *t, const struct tr_callbacks *cb, void *user_data);

/* Sends one whole SMP packet. The bytes are copied or consumed before return (the caller may
 * reuse pkt at once). Returns 0 when handed to the OS/queued, -EINVAL for an empty packet,
 * -EMSGSIZE when longer than tr_max_packet(), -ENOTCONN when the link is down, -ENOBUFS when
 * the backlog is full (the owner ignored tr_backlog()), other negative errno on I/O failure.
 * May be called from inside the transport's callbacks. */
int tr_send(struct tr *t, const uint8_t *pkt, size_t len);

/* Largest SMP packet (header included) one tr_send() may carry. */
size_t tr_max_packet(const struct tr *t);

/* Bytes of framing the device's receive buffer holds besides the SMP packet itself (serial: the
 * 2-byte length and the CRC16 = 4; UDP/BLE: 0). The device's buf_size less this is the largest
 * request it accepts. */
size_t tr_frame_overhead(const struct tr *t);

/* Bytes accepted by tr_send() and not yet written to the OS / given to the controller. Pacing
 * waits for 0 before sending more so that a slow line never hides a queue; writable() fires when
 * it drops to 0 (from the loop; a tr_send() that hands everything to the OS at once leaves it 0
 * without writable()). A link going down drops the queue. */
size_t tr_backlog(const struct tr *t);

/* The device is about to reset (or the link was lost): drop the link and bring it back the way
 * this transport's device comes back. UDP: nothing to reopen, the socket stays usable; DOWN
 * (-ECONNRESET) and UP are still both reported. Serial: close, then reopen PATH (often a
 * /dev/serial/by-id symlink that now points to a new tty) every 200 ms until it opens or
 * reconnect_timeout passes. BLE: disconnect, scan for the device again, connect after it has
 * advertised for a moment. TR_EVENT_DOWN then TR_EVENT_UP are reported (no second DOWN when the
 * link was already down). */
int tr_reconnect(struct tr *t);

bool tr_is_up(const struct tr *t);
/* "udp:127.0.0.1:1337", "udp:[::1]:1337", "serial:/dev/ttyACM0@115200" — the canonical spec
 * (literal addresses normalised, default port and baud filled in; host names kept). */
const char *tr_describe(const struct tr *t);

/* Closes the link, whatever is pending. Accepts NULL, returns NULL. Never call it from inside one
 * of t's callbacks: defer it (sd_event_add_defer) instead. */
struct tr *tr_free(struct tr *t);
