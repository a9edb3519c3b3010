/* bt-hci.h — one LE controller: the HCI driver under it, its init, scanning, advertising,
 * connections and the ACL credits the controller has. Include "otad/bt.h".
 *
 * Controller specs:
 *   tty:/dev/ttyACM0[@BAUD]  H4 over a UART, raw, 8N1, RTS/CTS, default 1000000 baud (nRF hci_uart)
 *   userchan:hciN            the kernel's HCI user channel: exclusive raw access to hciN. The
 * kernel must have the device down ("btmgmt -i hciN power off" / "hciconfig hciN down") and no
 * other user; needs CAP_NET_ADMIN. unix:PATH, tcp:HOST:PORT H4 over a stream socket (emulators:
 * btvirt's /tmp/bt-server-le)
 *
 * Errors of controller commands are HCI status codes, not errno: a callback that can fail because
 * of the controller gets both (err = -EIO and status = the HCI code); the text of the last failure
 * ("LE Create Connection failed: 0x0c Command Disallowed") is hci_dev_last_error(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "otad/bt.h"

struct hci_dev;
struct hci_conn;

typedef void (*hci_debug_fn)(const char *line, void *user_data);

struct hci_dev_callbacks {
	/* Init finished. err 0: ready. -EIO: a command of the init sequence failed (status and
	 * hci_dev_last_error() say which); -ETIMEDOUT: the controller stopped answering; other
	 * -errno: the driver failed. After a failure the device is unusable: free it. */
	void (*ready)(struct hci_dev *hci, int err, uint8_t status, void *user_data);
	/* The driver failed (socket EOF, tty unplugged, write error) or the controller reported a
	 * Hardware Error event: every connection is gone (disconnected callbacks ran), nothing more
	 * will happen. May be NULL. */
	void (*fatal)(struct hci_dev *hci, int err, void *user_data);
	/* Any controller command failed; text as hci_dev_last_error(). May be NULL. */
	void (*cmd_error)(struct hci_dev *hci, uint16_t opcode, uint8_t status, const char *text,
			  void *user_data);
};

/* Opens the driver named by spec and starts the init sequence (Core 5.4 Vol 4 Part E: Reset,
 * versions, features, commands, BD_ADDR, event masks, buffer sizes); cb->ready reports the end.
 * Returns 0, -EINVAL for a bad spec, or the driver's -errno. */
int hci_dev_new(sd_event *e, const char *spec, const struct hci_dev_callbacks *cb, void *user_data,
		otad_destroy_fn destroy, struct hci_dev **ret);
/* Checks the syntax of a controller spec without opening anything: 0 or -EINVAL. */
int hci_spec_check(const char *spec);
/* err 0: every link ended (the controller confirmed each with Disconnection Complete);
 * -ETIMEDOUT: the bound passed first; another -errno: the controller failed meanwhile. */
typedef void (*hci_close_fn)(struct hci_dev *hci, int err, void *user_data);
/* Lets go of the controller's links before closing it: tells its state watches -ESHUTDOWN,
 * stops scanning (every scan watch removed: destroy only), advertising and the connection
 * requests (each callback gets -ECANCELED now), sends HCI Disconnect (through command
 * flow control; the reason given to hci_conn_disconnect() or 0x13) for every link still up and
 * waits for each Disconnection Complete, at most timeout_usec. A controller let go of with a
 * command pending may drop it (BlueZ's emulator when its socket closes, a USB dongle at a reset):
 * the peer then stays connected to nobody, not advertising, until its supervision timeout or
 * longer. The links' disconnected callbacks run as they end; from now on neither fatal nor
 * ready is called: fn reports the end, once, from the loop, and may free the device; nothing
 * else may be started on it. A device that is dead or has no link finishes at once (next loop
 * iteration). 0, -EALREADY when closing already, or -errno (nothing started). */
int hci_dev_close(struct hci_dev *hci, uint64_t timeout_usec, hci_close_fn fn, void *user_data,
		  otad_destroy_fn destroy);
/* Tells the controller to drop every connection still up (HCI Disconnect written at once,
 * past command flow control, with the reason given to hci_conn_disconnect() or 0x13: nothing
 * reads the answer) — a dongle would otherwise keep the link until its supervision timeout —
 * then closes the driver; a controller may drop that last command (see hci_dev_close(), which
 * waits for the links to end first). No callback runs but the destroys (a pending close's, the
 * watches', the connection requests'); borrowers keep the memory until their unref. Accepts
 * NULL, returns NULL. */
struct hci_dev *hci_dev_free(struct hci_dev *hci);
/* Sharing: the creator owns the device (hci_dev_close(), hci_dev_free()); every other user
 * (each BLE transport given it) borrows it with hci_dev_ref() and lets go with hci_dev_unref(),
 * and never resets, closes or frees it: it only ends what it started (its scan watches, its
 * connection requests, its links). hci_dev_free() by the owner ends the device for everyone
 * (links gone, watches and requests destroyed); a borrower still holding a ref then sees a
 * dead device (hci_dev_is_ready() false, calls fail) until its unref frees the memory. Both
 * accept NULL; unref returns NULL. */
struct hci_dev *hci_dev_ref(struct hci_dev *hci);
struct hci_dev *hci_dev_unref(struct hci_dev *hci);

/* A borrower's view of the device's state changes: fn(hci, 0) when the device becomes ready,
 * fn(hci, err < 0) when it fails (init failed, driver failure, Hardware Error) or its owner
 * closes it (-ESHUTDOWN: let go of your links). Nothing is told of a state the device is in
 * already (check hci_dev_is_ready() first), nor anything after an error. Id 0: no memory.
 * destroy runs once, on hci_dev_unwatch() or when the device is freed. Told in the order
 * made, before the owner's ready/fatal callbacks. */
typedef void (*hci_dev_state_fn)(struct hci_dev *hci, int err, void *user_data);
unsigned hci_dev_watch(struct hci_dev *hci, hci_dev_state_fn fn, void *user_data,
		       otad_destroy_fn destroy);
bool hci_dev_unwatch(struct hci_dev *hci, unsigned id);

/* One line per dropped/unknown/garbage packet and per protocol decision, for the owner to log. */
void hci_dev_set_debug(struct hci_dev *hci, hci_debug_fn fn, void *user_data,
		       otad_destroy_fn destroy);

bool hci_dev_is_ready(const struct hci_dev *hci);
/* "LE Create Connection failed: 0x0c Command Disallowed", or "" when nothing failed yet. */
const char *hci_dev_last_error(const struct hci_dev *hci);

struct hci_dev_info {
	struct bt_addr addr; /* our public address (Read BD_ADDR) */
	uint8_t hci_version; /* Core 5.4 Assigned Numbers: 9 = 5.0, 13 = 5.4 */
	uint16_t manufacturer;
	uint64_t le_features; /* LE Read Local Supported Features, bit n = Vol 6 Part B 4.6 */
	bool ext_scan;	      /* extended scanning/create connection will be used */
	bool data_len_ext;    /* LE Data Packet Length Extension supported */
	bool le_2m_phy;	      /* LE 2M PHY supported */
	/* LE Supported States has active scanning with initiating (7.8.27): scanning goes on
	 * during LE Create Connection; otherwise it pauses for it */
	bool scan_while_connecting;
};
void hci_dev_get_info(const struct hci_dev *hci, struct hci_dev_info *ret);

/* ACL flow control (Core 5.4 Vol 4 Part E 4.1.1): the host never has more ACL packets in the
 * controller than it has buffers; credits come back with Number Of Completed Packets. */
struct hci_flow {
	uint16_t acl_mtu;   /* largest ACL payload the controller takes (fragment size) */
	uint16_t acl_total; /* controller's ACL buffers */
	uint16_t acl_free;  /* buffers free now */
	uint16_t acl_peak;  /* most packets ever in the controller at once (<= acl_total) */
};
void hci_dev_get_flow(const struct hci_dev *hci, struct hci_flow *ret);

/* ---- Scanning (central) ---- */

struct hci_scan_params {
	bool passive;		/* default active: scan responses carry the name */
	uint16_t interval;	/* 0.625 ms units; 0 = 0x0060 (60 ms) */
	uint16_t window;	/* 0.625 ms units; 0 = 0x0030 (30 ms) */
	bool filter_duplicates; /* let the controller drop repeated reports */
};

/* One advertising or scan response report, merged with what earlier reports of the same
 * address said (name from the scan response, UUIDs from the advertising data). */
struct hci_adv_report {
	struct bt_addr addr;
	int8_t rssi; /* dBm; 127 when the controller does not know */
	bool connectable;
	bool scan_rsp;	     /* this report is a scan response */
	struct adv_data ad;  /* parsed and merged AD (name, flags, 128-bit UUIDs) */
	const uint8_t *data; /* raw AD of this PDU, valid during the callback */
	size_t data_len;
};

/* err 0 with a report; err < 0 (r NULL): scanning ended because a command failed (-EIO with
 * hci_dev_last_error()), or the device died. */
typedef void (*hci_scan_fn)(struct hci_dev *hci, int err, const struct hci_adv_report *r,
			    void *user_data);

/* Scanning is a service of the device shared by its watchers (the fleet scan, each transport
 * looking for its device, `otactl scan`): each watch has its own filter and callback, every
 * report goes through one cache, and the controller scans while at least one watch exists and
 * no connection attempt needs it to pause (a controller whose LE Supported States lack
 * scanning with initiating gets scanning off for the LE Create Connection and on again
 * after). The controller's parameters are the watches' union: active if any watch asks,
 * duplicates filtered only if all do, the shortest interval, the longest window. */
struct hci_scan_filter {
	bool by_addr;	     /* only reports from addr */
	struct bt_addr addr; /* with by_addr */
	bool any_type;	     /* with by_addr: either address type */
	const char *name;    /* only this complete local name (a shortened one as a prefix) */
	const struct bt_uuid128 *uuid; /* only with this 128-bit service UUID */
	bool connectable;	       /* only connectable advertising or its scan responses */
};
/* Whether report r passes filter f (NULL passes everything). */
bool hci_scan_filter_match(const struct hci_scan_filter *f, const struct hci_adv_report *r);

/* Adds a watch: fn hears each report its filter (copied; NULL = all) passes, from the loop.
 * On err < 0 (a scan command failed, the device died) every watch is told once and removed.
 * Returns an id > 0, or -EAGAIN before ready, -ENOMEM. A watch made while a report is being
 * told hears the next one; one removed meanwhile hears nothing more. destroy runs once. */
int hci_scan_watch(struct hci_dev *hci, const struct hci_scan_params *p,
		   const struct hci_scan_filter *filter, hci_scan_fn fn, void *user_data,
		   otad_destroy_fn destroy, unsigned *ret_id);
/* Removes a watch (its destroy runs); scanning stops with the last one. false: no such id. */
bool hci_scan_unwatch(struct hci_dev *hci, unsigned id);
/* Reports a watch's filter let through / turned away so far (for "seen N other devices"). */
unsigned hci_scan_watch_rejected(const struct hci_dev *hci, unsigned id);

/* What the cache knows of one address: the AD merged over its reports (advertising data and
 * scan responses), the last RSSI, when it was last heard (CLOCK_MONOTONIC usec) and the raw
 * AD of its last report. */
struct hci_scan_seen {
	struct bt_addr addr;
	struct adv_data ad;
	int8_t rssi;
	bool connectable;
	uint64_t last_seen_usec;
	uint8_t data[255]; /* the last report's AD (an extended report carries up to 255 bytes) */
	uint8_t data_len;
	uint64_t seq; /* 0: free */
};
/* The cache entry of addr (type compared), or NULL. Valid until the next report. */
const struct hci_scan_seen *hci_scan_lookup(const struct hci_dev *hci, const struct bt_addr *a);

/* One watch without a filter, the way a single user scans: hci_scan_watch() kept in the
 * device. -EBUSY when that watch exists already, -EAGAIN before ready. */
int hci_scan_start(struct hci_dev *hci, const struct hci_scan_params *p, hci_scan_fn fn,
		   void *user_data, otad_destroy_fn destroy);
/* Removes the watch of hci_scan_start(); its destroy runs. 0 or -EALREADY. */
int hci_scan_stop(struct hci_dev *hci);
/* Some watch wants scanning (it may be paused for a connection attempt). */
bool hci_is_scanning(const struct hci_dev *hci);

/* ---- Connecting (central) ---- */

struct hci_conn_params {
	uint16_t interval_min;	      /* 1.25 ms units; 0 = 24 (30 ms) */
	uint16_t interval_max;	      /* 1.25 ms units; 0 = 40 (50 ms) */
	uint16_t latency;	      /* connection events the peripheral may skip */
	uint16_t supervision_timeout; /* 10 ms units; 0 = 400 (4 s) */
	uint64_t timeout_usec;	      /* LE Create Connection Cancel after this; 0 = 10 s */
};

/* err 0: conn is up (we are central). -EIO: the controller refused or failed (status: 0x3e
 * Connection Failed to be Established, 0x0c Command Disallowed, 0x12 Invalid HCI Command
 * Parameters, ...); -ETIMEDOUT: nothing connected in time (cancelled); -ECANCELED:
 * hci_connect_cancel(); -ENOTCONN: the device died. */
typedef void (*hci_connect_fn)(struct hci_dev *hci, int err, uint8_t status, struct hci_conn *conn,
			       void *user_data);

/* Connection requests are queued: a controller has one initiator, so one LE Create
 * Connection is in flight at a time and the others wait in the order they were made; each
 * request's timeout_usec counts from when its command is sent. A failure of one does not hold
 * up the next. Returns an id > 0 in *ret_id and 0, or -EAGAIN before ready, -ENOMEM. */
int hci_connect_request(struct hci_dev *hci, const struct bt_addr *peer,
			const struct hci_conn_params *p, hci_connect_fn fn, void *user_data,
			otad_destroy_fn destroy, unsigned *ret_id);
/* Withdraws a request: fn is not called, destroy runs now. One waiting leaves the queue; the
 * one in flight gets LE Create Connection Cancel, and a connection that wins the race is
 * disconnected by the host. false: no such request (done already). */
bool hci_connect_request_cancel(struct hci_dev *hci, unsigned id);
/* Requests waiting or in flight. */
unsigned hci_connect_pending(const struct hci_dev *hci);

/* One attempt the way a single user connects: hci_connect_request(), -EBUSY while any request
 * is waiting or in flight. */
int hci_connect(struct hci_dev *hci, const struct bt_addr *peer, const struct hci_conn_params *p,
		hci_connect_fn fn, void *user_data, otad_destroy_fn destroy);
/* Cancels the attempt of hci_connect(); its callback gets -ECANCELED (or the connection if it
 * won). -EALREADY when there is none. */
int hci_connect_cancel(struct hci_dev *hci);

/* ---- Advertising (peripheral) ---- */

struct hci_adv_params {
	const char *name; /* in the scan response (shortened when > 29 bytes) */
	const struct bt_uuid128
		*uuid;	       /* 128-bit service UUID in the advertising data; may be NULL */
	uint16_t interval_min; /* 0.625 ms units; 0 = 160 (100 ms) */
	uint16_t interval_max; /* 0.625 ms units; 0 = 240 (150 ms) */
};

/* err 0: a central connected (we are peripheral); err < 0: advertising could not be enabled
 * (-EIO, status in hci_dev_last_error()) or the device died; conn is NULL then. */
typedef void (*hci_accept_fn)(struct hci_dev *hci, int err, struct hci_conn *conn, void *user_data);

/* Connectable undirected legacy advertising. The controller stops advertising when a central
 * connects; the host advertises again when that connection ends, until hci_adv_stop().
 * -EBUSY when already advertising, -EINVAL when the data does not fit 31 bytes. */
int hci_adv_start(struct hci_dev *hci, const struct hci_adv_params *p, hci_accept_fn fn,
		  void *user_data, otad_destroy_fn destroy);
int hci_adv_stop(struct hci_dev *hci);
bool hci_is_advertising(const struct hci_dev *hci);

/* ---- Connections ---- */

enum hci_role { HCI_ROLE_CENTRAL = 0x00, HCI_ROLE_PERIPHERAL = 0x01 };

struct hci_conn_callbacks {
	/* The link is gone. reason is the HCI code: 0x13 Remote User Terminated Connection, 0x16
	 * Connection Terminated By Local Host, 0x08 Connection Timeout, ... (hci_strerror). */
	void (*disconnected)(struct hci_conn *c, uint8_t reason, void *user_data);
	/* Host queue of this connection drained (hci_conn_queued_bytes() == 0). May be NULL. */
	void (*writable)(struct hci_conn *c, void *user_data);
	/* Connection parameters, data length or PHY changed (hci_conn_get_info). May be NULL. */
	void (*updated)(struct hci_conn *c, void *user_data);
};
void hci_conn_set_callbacks(struct hci_conn *c, const struct hci_conn_callbacks *cb,
			    void *user_data, otad_destroy_fn destroy);

/* Watches: any number of parties (ATT, a GATT client or server, the Security Manager, the
 * transport) watch the same link, each with its own registration. A watch gets an id (0: no
 * memory, or the link is gone already); its destroy runs once, when it is removed by
 * hci_conn_unwatch() or with the connection's last unref. Watches hear an event in the order
 * they were made, before the callbacks of hci_conn_set_callbacks(). One made while an event is
 * being told hears the next one; one removed meanwhile hears nothing more, and its destroy runs
 * once the event has been told. Unlike the disconnected callback, a disconnect watch also hears
 * the end of the link in hci_dev_free(). */
typedef void (*hci_conn_disconnect_fn)(struct hci_conn *c, uint8_t reason, void *user_data);
typedef void (*hci_conn_writable_fn)(struct hci_conn *c, void *user_data);
/* The link is gone (reason as the disconnected callback's). */
unsigned hci_conn_watch_disconnect(struct hci_conn *c, hci_conn_disconnect_fn fn, void *user_data,
				   otad_destroy_fn destroy);
/* The host queue of the link drained (as the writable callback). */
unsigned hci_conn_watch_writable(struct hci_conn *c, hci_conn_writable_fn fn, void *user_data,
				 otad_destroy_fn destroy);
/* Encryption started, refreshed or failed: status is the HCI code (0x06 PIN or Key Missing: the
 * peer has no key for what we offered); encrypted the link's state now, hci_conn_security() up to
 * date. */
typedef void (*hci_conn_encrypt_fn)(struct hci_conn *c, uint8_t status, bool encrypted,
				    void *user_data);
unsigned hci_conn_watch_encrypt(struct hci_conn *c, hci_conn_encrypt_fn fn, void *user_data,
				otad_destroy_fn destroy);
/* false when no watch has this id. */
bool hci_conn_unwatch(struct hci_conn *c, unsigned id);

struct hci_conn_info {
	uint16_t handle;
	uint8_t role; /* enum hci_role */
	struct bt_addr peer;
	uint16_t interval; /* 1.25 ms units */
	uint16_t latency;
	uint16_t supervision_timeout; /* 10 ms units */
	uint16_t tx_octets;	      /* LL payload, 27 until Data Length Change */
	uint16_t rx_octets;
	uint8_t tx_phy, rx_phy;	  /* 1 = 1M, 2 = 2M, 3 = Coded */
	uint64_t remote_features; /* 0 until LE Read Remote Features completed */
	bool connected;
};
void hci_conn_get_info(const struct hci_conn *c, struct hci_conn_info *ret);
struct hci_dev *hci_conn_get_dev(const struct hci_conn *c);
bool hci_conn_is_connected(const struct hci_conn *c);

/* The link's security, LE security mode 1 (Core 5.4 Vol 3 Part C 10.2.1; enum sm_level of
 * otad/bt-sm.h): 1 unencrypted, 2 encrypted with an unauthenticated key, 3 authenticated, 4
 * authenticated LE Secure Connections with a 128-bit key. The key size in octets, 0 unencrypted. */
uint8_t hci_conn_security(const struct hci_conn *c);
uint8_t hci_conn_key_size(const struct hci_conn *c);

/* Disconnect (Core 5.4 Vol 4 Part E 7.1.6); reason 0 = 0x13 Remote User Terminated Connection.
 * The disconnected callback reports the end. -ENOTCONN when already gone. */
int hci_conn_disconnect(struct hci_conn *c, uint8_t reason);
/* LE Connection Update (central) with new parameters (timeout_usec ignored). */
int hci_conn_update(struct hci_conn *c, const struct hci_conn_params *p);

/* Flow-control state of this connection, for pacing. */
size_t hci_conn_queued_bytes(const struct hci_conn *c); /* ACL payload in the host queue */
unsigned hci_conn_in_flight(const struct hci_conn *c);	/* ACL packets in the controller */

/* Connections are owned by their hci_dev until the disconnected callback returned; a ref keeps
 * the struct (not the link) alive past that. */
struct hci_conn *hci_conn_ref(struct hci_conn *c);
struct hci_conn *hci_conn_unref(struct hci_conn *c);
