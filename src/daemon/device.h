/* device.h — a device otad knows: listed in a fleet file or named in StartUpdate; its slots as
 * last polled (an image state read over its transport), the policy's verdict, its D-Bus object
 * (device-bus.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "otad/fleet.h"
#include "otad/smp-client.h"
#include "otad/smp.h"
#include "util/macro.h"

struct manager;
struct job;

struct device {
	struct manager *m;
	struct device *next;
	char *name;
	char *transport;
	char *address; /* BLE address, or the transport spec */
	char *group;   /* group name, NULL = none */
	char path[512];
	bool listed;	    /* in a fleet file (else ad hoc, from StartUpdate, or scanned) */
	bool scanned;	    /* found by a BLE scan (scan.c) */
	int16_t rssi;	    /* BLE; 0 = unknown */
	uint64_t last_seen; /* CLOCK_REALTIME µs of the last answer or advertisement */
	uint8_t adv[62];    /* BLE: last advertising data + scan response, for MatchAdvertised= */
	size_t adv_len;
	struct smp_image_state slots;
	bool has_slots;
	char target[48];  /* the group's version */
	char verdict[16]; /* fleet_verdict_name() */
	char status[240]; /* one line: what the policy decided and why, or the poll error */
	struct job *job;  /* queued or running */
	/* after a failed fleet job: not again before hold_until for the same version */
	uint64_t hold_until;
	char failed_version[48];
	/* poll in progress */
	struct tr *tr;
	struct smp_client *smp;
	unsigned poll_id;
	bool polling;
	bool poll_ok;	    /* the last poll read the slots */
	bool poll_wanted;   /* BLE: waits for the controller */
	bool poll_ctl;	    /* BLE: this poll holds the controller */
	uint64_t polled_at; /* CLOCK_MONOTONIC µs the last poll started; 0 = never */
	sd_event_source *poll_close;
	/* unreachable: polled again soon (doubling up to PollInterval=), not only at the next
	 * PollInterval= */
	sd_event_source *poll_retry;
	uint64_t retry_usec; /* the next delay; 0 = the first */
};

int device_new(struct manager *m, const char *name, const char *transport, struct device **ret);
struct device *device_free(struct device *d);
/* Reads the slots over the device's transport (asynchronous; manager_device_polled() follows).
 * A BLE device's poll waits while another user holds the controller (controller.c). */
void device_poll(struct device *d);
/* Version slot 0 runs, or NULL. */
const char *device_running_version(const struct device *d);
void device_set_status(struct device *d, const char *verdict, const char *fmt, ...) _printf_(3, 4);
int device_set_group(struct device *d, const char *group);

/* device-bus.c */
int device_bus_register(struct manager *m);
void device_bus_emit(struct device *d, const char *prop, ...);
void device_bus_added(struct device *d);
void device_bus_removed(struct device *d);
