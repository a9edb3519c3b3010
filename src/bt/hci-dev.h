/* hci-dev.h — the private side of struct hci_dev (hci-dev.c): its fields, shared with the files
 * that run parts of it (hci-conn.c, hci-scan.c, hci-adv.c, hci-connect.c), its command queue
 * under command flow control, and the calls between those files. The public face is
 * otad/bt-hci.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "bt/hci-pkt.h"
#include "otad/bt.h"
#include "util/macro.h"

struct hci_conn;
struct hci_dev;
struct hci_driver;

void hci_debug(struct hci_dev *hci, const char *fmt, ...) _printf_(2, 3);

typedef void (*hci_cmd_fn)(struct hci_dev *hci, uint8_t status, const uint8_t *ret, size_t ret_len,
			   void *user_data);
/* Queues a command; fn runs on its Command Complete or Command Status (ret NULL then). A
 * command the controller never answers kills the device (fatal, -ETIMEDOUT) and fn never runs. */
int hci_send_cmd(struct hci_dev *hci, uint16_t opcode, const uint8_t *params, uint8_t plen,
		 hci_cmd_fn fn, void *user_data);
bool hci_has_command(const struct hci_dev *hci, unsigned bit);
bool hci_has_le_feature(const struct hci_dev *hci, unsigned bit);
sd_event *hci_get_event(const struct hci_dev *hci);

/* hci-scan.c, hci-adv.c, hci-connect.c: events and ends dispatched by hci-dev.c */
void hci_scan_report_event(struct hci_dev *hci, const struct hci_evt *ev);
void hci_scan_abort(struct hci_dev *hci, int err);
/* Scanning follows its watchers and the connection queue: on when some watcher wants it and
 * no Create Connection needs it paused (hci_scan_pause_for_connect()); sends what changes. */
void hci_scan_update(struct hci_dev *hci);
/* Whether a Create Connection may be in flight while scanning (LE Supported States). */
bool hci_scan_pause_for_connect(const struct hci_dev *hci);
/* Watches of the device itself (ready, dead), and their memory. */
void hci_dev_tell_watches(struct hci_dev *hci, int err);
void hci_scan_free_watches(struct hci_dev *hci);
void hci_connect_free_queue(struct hci_dev *hci);
void hci_adv_conn_event(struct hci_dev *hci, struct hci_conn *c);
void hci_adv_conn_ended(struct hci_dev *hci, struct hci_conn *c);
void hci_adv_abort(struct hci_dev *hci, int err);
void hci_connect_event(struct hci_dev *hci, const struct hci_evt *ev);
void hci_connect_abort(struct hci_dev *hci, int err);
/* hci_dev_close(): the owner of a pending attempt hears -ECANCELED now; the attempt itself
 * ends when the controller answers the cancel (a connection that won the race is dropped). */
void hci_connect_disown(struct hci_dev *hci);
/* hci_dev_close() is done once no link is left and no attempt is pending: checks that. */
void hci_close_check(struct hci_dev *hci);

/* ---- fields ---- */
struct hci_cmd {
	struct hci_cmd *next;
	uint16_t opcode;
	uint8_t plen;
	uint8_t params[255];
	hci_cmd_fn fn;
	void *user_data;
	uint64_t sent_usec;
};

#define HCI_SCAN_CACHE 64

struct hci_scan_watch;
struct hci_connect_req;
struct hci_dev_watch;

struct hci_dev {
	unsigned ref;
	sd_event *event;
	struct hci_driver *drv;
	struct hci_dev_callbacks cb;
	void *user_data;
	otad_destroy_fn destroy;
	hci_debug_fn debug;
	void *debug_data;
	otad_destroy_fn debug_destroy;

	bool ready, dead, freeing;
	unsigned init_step;
	struct hci_dev_watch *watches; /* hci_dev_watch(): ready and dead */
	unsigned watch_id, watch_telling;
	bool watch_told_err;

	/* hci_dev_close(): waiting for the links to end */
	bool closing, close_done;
	int close_err;
	hci_close_fn close_fn;
	void *close_data;
	otad_destroy_fn close_destroy;
	sd_event_source *close_timer, *close_defer;
	char last_error[128];

	/* controller facts (init) */
	struct hci_dev_info info;
	uint8_t commands[64];
	uint8_t features[8];
	uint64_t le_states; /* LE Read Supported States (7.8.27); 0 when not read */

	/* command flow control (Core 5.4 Vol 4 Part E 4.4) */
	struct hci_cmd *cmd_head, *cmd_tail; /* waiting to be sent */
	struct hci_cmd *sent;		     /* sent, waiting for complete/status */
	uint8_t cmd_credits;
	sd_event_source *cmd_timer;

	/* ACL flow control (Core 5.4 Vol 4 Part E 4.1.1) */
	uint16_t acl_mtu, acl_total, acl_free, acl_peak;
	struct hci_conn *conns;
	uint16_t rr_last; /* handle served last, for round robin */

	/* scanning: watchers over one report cache */
	bool scan_on;			    /* what the host last told the controller */
	bool scan_params_set;		    /* scan_params were told and taken */
	struct hci_scan_params scan_params; /* the parameters it was told */
	struct hci_scan_watch *scan_watches;
	unsigned scan_watch_id, scan_telling;
	unsigned scan_legacy; /* the watch of hci_scan_start() */
	struct hci_scan_seen scan_cache[HCI_SCAN_CACHE];
	uint64_t scan_seq;

	/* advertising */
	bool adv_armed, adv_enabled, adv_busy;
	uint8_t adv_data[31], adv_data_len, scan_rsp[31], scan_rsp_len;
	uint16_t adv_interval_min, adv_interval_max;
	hci_accept_fn adv_fn;
	void *adv_user_data;
	otad_destroy_fn adv_destroy;

	/* connecting: requests in order, the first one in flight while connecting */
	bool connecting, connect_cancelled;
	struct hci_connect_req *connect_q;
	unsigned connect_id;	 /* the last id given */
	unsigned connect_legacy; /* the request of hci_connect() */
	sd_event_source *connect_timer;
	int connect_err; /* reported when the Connection Complete of a cancel arrives */
};
