/* transport.h — one interface for every link that carries SMP packets: UDP, serial console
 * framing, BLE GATT. A transport sends and delivers whole SMP packets (it frames, fragments and
 * reassembles as its link needs) and reports link state. Everything runs on the caller's
 * sd-event loop; nothing blocks (except resolving a UDP host *name*, see below).
 *
 * Specs:  udp:HOST[:PORT]            IPv4, IPv6 ("udp:[::1]:1337"), default port 1337
 *         serial:PATH[@BAUD]         Zephyr "SMP over console" framing, default 115200 baud
 *         ble:ADDRESS[/public|/random]   mcumgr's SMP over GATT through the controller named
 *         ble:name=NAME                  by tr_options.hci (see below)
 *
 * UDP: one SMP packet per datagram on a connected socket. A HOST that is not a literal address
 * is resolved with a blocking getaddrinfo() inside tr_open() (/etc/hosts or DNS): pass literals
 * where that matters. An ICMP "port unreachable" (a device rebooting, or nothing listening at
 * all) is reported through discard() and the link stays up: UDP never reports TR_EVENT_DOWN on
 * its own; tr_peer_refused() tells the owner that nothing has answered yet.
 * tr_max_packet() is the path MTU of the route less the IP and UDP headers (1472 on Ethernet
 * IPv4, 1452 IPv6, ~64 KiB on loopback), so requests are never IP-fragmented.
 *
 * Serial: the tty is opened raw (no flow control, CLOCAL) at BAUD; PATH must not contain '@'
 * followed by digits. On a hangup or I/O error (USB device re-enumerated, pty master closed) the
 * transport reports TR_EVENT_DOWN and reopens PATH by name every 200 ms on its own, following a
 * re-pointed symlink, until reconnect_timeout; TR_EVENT_UP when it opens, or a second
 * TR_EVENT_DOWN with -ETIMEDOUT when it gives up (tr_reconnect() starts over).
 *
 * BLE (ble.c, on the bt/ layer): tr_options.hci names the controller (tty:PATH[@BAUD],
 * userchan:hciN, unix:PATH, tcp:HOST:PORT; see bt-hci.h), which the transport opens (resetting
 * it) and closes; or tr_options.hci_dev hands it one controller shared by many transports,
 * each with its own link. ADDRESS is "C0:11:22:33:44:55"; with
 * "/public" or "/random" only that address type matches, without it either does (the type is
 * taken from the advertisement). NAME is everything after "name=" (any bytes, at most 248),
 * compared with the device's complete local name (a shortened name matches as a prefix); a
 * name match also needs the SMP service UUID in the advertising data (Zephyr's smp_svr puts it
 * there), an address match does not.
 * tr_open() only checks the specs (-EINVAL) and starts: the controller is opened and
 * initialised, the device scanned for, connected (interval, latency and supervision timeout
 * below), its SMP characteristic discovered, the ATT MTU exchanged and notifications enabled,
 * then TR_EVENT_UP. Failures are retried until connect_timeout, except that a controller that
 * cannot be opened or initialised fails at once; giving up is TR_EVENT_DOWN (never preceded by
 * UP) with a discard() text naming the cause just before it: -ENXIO the device was not seen
 * advertising, -ENOENT no such controller path or no SMP characteristic on the device,
 * -EPROTO an ATT error during discovery, -ECONNREFUSED the connection failed to be
 * established (the last retried failure), -ETIMEDOUT seen but not connected in time.
 * tr_send() cuts a packet into Write Commands of ATT_MTU - 3 bytes; notifications are
 * reassembled by the SMP header's length (reasm.h). tr_max_packet() is the largest packet the
 * SMP header can describe (8 + 65535): the device's buf_size is the real limit and the update
 * engine sizes requests to it. tr_backlog() is what the host has queued and not yet handed to
 * the controller (its ACL buffers are counted by Number Of Completed Packets). A disconnection
 * is TR_EVENT_DOWN with the HCI reason as an errno (hci_status_to_errno(): 0x13 -> -ECONNRESET,
 * 0x08 -> -ETIMEDOUT, 0x15 -> -EHOSTDOWN, ...), named in a discard() text. tr_reconnect()
 * disconnects (if connected), scans again, and connects only once the device has been seen
 * advertising twice: seen, not looked at for settle, seen again within settle of looking again
 * (a peripheral restarting its advertising, e.g. about to reset, can accept a connection it then
 * drops); after reconnect_timeout: TR_EVENT_DOWN -ETIMEDOUT (or the last failure's errno).
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

#define TR_CONNECT_TIMEOUT_DEFAULT (10 * UINT64_C(1000000)) /* BLE connect_timeout_usec, usec */

struct hci_dev;

/* Zero means the default everywhere, so a zeroed struct (or NULL) is the defaults. */
struct tr_options {
	const char *hci; /* BLE: controller spec (tty:, userchan:, unix:, tcp:) */
	/* BLE: a controller to share instead (bt-hci.h; it wins over hci): the transport takes a
	 * ref, looks for its device through a scan watch, queues its connection request, and
	 * never resets, closes or frees the controller: tr_close() and tr_free() let go of its
	 * own link only. The owner frees its transports before the controller. */
	struct hci_dev *hci_dev;
	uint64_t reconnect_timeout_usec; /* how long reopening keeps trying; 0 = 60 s */
	/* BLE only */
	uint64_t connect_timeout_usec; /* tr_open(): find and connect the device; 0 = 10 s */
	uint64_t settle_usec;	       /* tr_reconnect(): the two sightings apart; 0 = 500 ms */
	uint16_t att_mtu;	       /* ATT_MTU asked for; 0 = 498 (23 = no exchange) */
	uint16_t conn_interval_min;    /* 1.25 ms units; 0 = 12 (15 ms) */
	uint16_t conn_interval_max;    /* 1.25 ms units; 0 = 24 (30 ms) */
	uint16_t conn_latency;	       /* connection events the device may skip; 0 */
	uint16_t supervision_timeout;  /* 10 ms units; 0 = 200 (2 s) */
	/* The link's security before SMP goes over it (enum sm_level of otad/bt-sm.h: 2 encrypted,
	 * 3 authenticated); 0: what the device asks for, paired on its ATT error (0x05, 0x0F); 1:
	 * no pairing at all. A pairing that fails, or a device that lost the key of an earlier
	 * pairing (this process's or bond_file's), ends the attempt for good with -EACCES /
	 * -EKEYREJECTED. */
	uint8_t security;
	bool has_passkey; /* the passkey the device displays or has fixed: we type it */
	uint32_t passkey; /* 0..999999 */
	/* The bond store (otad/bonds.h): a link to a bonded device encrypts with its stored key
	 * when security is asked for, a new bonding pairing is saved there (read and written per
	 * link). A store that does not parse ends the attempt for good (-EBADMSG), untouched.
	 * NULL: only the keys of this process's pairings are kept, in memory. */
	const char *bond_file;
	/* Pair anew instead of using a stored key (the device lost its bond: "PIN or Key
	 * Missing"); each pairing replaces the bond. */
	bool repair;
};

/* BLE: how the link is secured now (tr_security()). */
struct tr_security {
	uint8_t level;	  /* enum sm_level of otad/bt-sm.h; 1 not encrypted */
	uint8_t key_size; /* octets; 0 not encrypted */
	bool paired;	  /* this link paired (else: a stored key, or nothing) */
	bool bonded;	  /* the pairing gave keys to keep */
	char peer[32];	  /* "C0:11:22:33:44:55/public" */
	int bond_err;	  /* the bond could not be saved: -errno (bond_why says why) */
	char bond_why[256];
};

/* Parses spec and opens the link; o may be NULL. For UDP and serial the link is up when this
 * returns 0 (the first TR_EVENT_UP is still delivered from the loop, so owners have one code
 * path); BLE comes up asynchronously (TR_EVENT_UP, or TR_EVENT_DOWN when it gives up). Errors:
 * -EINVAL bad spec (unknown scheme, bad host, port or baud, BLE without o->hci_dev or a valid
 * o->hci), -EPROTONOSUPPORT a scheme not built in, -ENOENT no such path or host name, -ENOTTY
 * PATH is not a tty, other negative errno from the system. */
int tr_open(sd_event *e, const char *spec, const struct tr_options *o, struct tr **ret);

/* Whether spec is one tr_open() parses, without opening or resolving anything (nor checking a BLE
 * spec's controller): 0, or -EINVAL with what is wrong in why (size bytes, may be NULL): "port
 * 99999 is out of range (1..65535)", "not a transport (expected ...)". */
int tr_spec_check(const char *spec, char *why, size_t size);

/* One line for a message about tr_open(spec, o) failing with err, written into buf (size bytes)
 * and returned: what is wrong with a spec rejected with -EINVAL ("udp:h:99999: port 99999 is out
 * of range (1..65535)", "serial:/dev/ttyACM0@12345: 12345 baud is not a rate a tty can be set to
 * (...)", "not a transport: 'x' (expected ...)"), a host name without an address ("udp:h: host
 * not found ..."), else "cannot open SPEC: strerror". */
const char *tr_open_error(const char *spec, const struct tr_options *o, int err, char *buf,
			  size_t size);

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
 * advertised for a moment (a no-op while already doing so). TR_EVENT_DOWN then TR_EVENT_UP are
 * reported (no second DOWN when the link was already down). */
int tr_reconnect(struct tr *t);

bool tr_is_up(const struct tr *t);
/* UDP: the peer refused a datagram (ICMP port unreachable) and no packet has come from it since
 * tr_open(): nothing listens at that address, or not yet. Always false for serial and BLE. An
 * owner making first contact can give up at once; one waiting for a rebooting device it has
 * heard before must not (the flag stays false once anything arrived). */
bool tr_peer_refused(const struct tr *t);
/* BLE: the link's security (see struct tr_security); -EOPNOTSUPP for UDP and serial. */
int tr_security(const struct tr *t, struct tr_security *ret);
/* "udp:127.0.0.1:1337", "udp:[::1]:1337", "serial:/dev/ttyACM0@115200" — the canonical spec
 * (literal addresses normalised, default port and baud filled in; host names kept). */
const char *tr_describe(const struct tr *t);

#define TR_CLOSE_TIMEOUT_DEFAULT (2 * UINT64_C(1000000)) /* tr_close() bound, usec */

/* err 0: let go cleanly; -ETIMEDOUT: the bound passed first; another -errno: the link failed
 * meanwhile. */
typedef void (*tr_close_fn)(struct tr *t, int err, void *user_data);
/* Lets go of the link the way its device needs before tr_free(). BLE: every link to the device
 * is disconnected and the controller's confirmation awaited, at most timeout_usec (0: 2 s):
 * a controller closed with that Disconnect pending may drop it, and the device, connected to
 * nobody, stops advertising and cannot be found (hci_dev_close()). UDP and serial have nothing
 * to wait for. From this call on the transport is down, reports nothing to its callbacks and
 * refuses tr_send(); fn runs once, from the loop, and may tr_free() it. 0, or -EALREADY. */
int tr_close(struct tr *t, uint64_t timeout_usec, tr_close_fn fn, void *user_data);

/* Closes the link, whatever is pending (see tr_close() to let go cleanly first). Accepts NULL,
 * returns NULL. Never call it from inside one of t's callbacks (tr_close()'s fn excepted):
 * defer it (sd_event_add_defer) instead. */
struct tr *tr_free(struct tr *t);
