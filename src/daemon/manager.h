/* manager.h — otad's manager: the config, the devices, the jobs and the scheduler that joins
 * them (manager.c), and its D-Bus face (manager-bus.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "otad/conf.h"
#include "otad/fetch.h"
#include "otad/fleet.h"
#include "otad/jobstore.h"
#include "otad/transport.h"

struct device;
struct job;
struct scan;

/* Who holds the BLE controller (controller.c). */
enum ctl_user {
	CTL_FREE,
	CTL_SCAN, /* a scan (scan.c) */
	CTL_POLL, /* a BLE device's slots being read */
	CTL_JOB,  /* a BLE device's update */
};

enum bus_kind {
	BUS_SYSTEM,
	BUS_USER,
	BUS_ADDRESS,
};

struct manager_options {
	const char *config_dir, *state_dir, *cache_dir; /* NULL: config's or systemd's defaults */
	enum bus_kind bus;
	const char *bus_address;
};

struct manager {
	sd_event *event;
	sd_bus *bus;
	char *config_dir, *state_dir, *cache_dir;
	char *pace_path; /* STATE_DIR/pace: each device's last good (and refused) pace */
	char *bond_path; /* STATE_DIR/bonds: the BLE bond store (otad/bonds.h) */
	struct fleet_config *config;
	struct fetcher *fetcher;
	struct job_store *store;
	struct device *devices;
	struct job *jobs; /* in id order */
	uint32_t next_job_id;
	unsigned n_running;
	sd_event_source *poll_timer, *watchdog_timer, *schedule_defer;
	/* BLE: one user of the controller at a time; the others wait (controller.c) */
	enum ctl_user ctl;
	char ctl_who[64];
	sd_event_source *ctl_defer;
	struct tr *ctl_closing; /* its last user's link, let go of before the next user */
	struct scan *scan; /* running */
	bool scan_wanted;  /* waits for the controller */
	bool scan_forced;  /* by Scan(): every group member's slots are read after it */
	sd_event_source *scan_timer;
	uint64_t watchdog_usec, last_status;
};

/* Loads the config (errors in *err as FILE:LINE), opens the state and cache directories. */
int manager_new(sd_event *e, const struct manager_options *o, struct manager **ret,
		struct conf_error *err);
struct manager *manager_free(struct manager *m);
/* Loads persisted jobs (unfinished ones resume), starts polling, tells systemd it is ready. */
int manager_start(struct manager *m);
/* Re-reads the config; on an error the old one stays and *err says why. */
int manager_reload(struct manager *m, struct conf_error *err);
/* Polls every listed device now and, with a controller, scans for BLE devices (Scan()). */
void manager_scan(struct manager *m);
/* Starts a BLE scan, or marks one wanted until the controller is free. No-op without
 * Controller= or while one runs. */
void manager_scan_ble(struct manager *m, bool forced);

/* scheduler.c: persisted jobs back into the queue (unfinished ones resume). */
int manager_load_jobs(struct manager *m);

/* For devices and jobs. */
void manager_schedule(struct manager *m); /* starts queued jobs where limits allow (deferred) */
void manager_device_polled(struct manager *m, struct device *d); /* policy after a poll */
void manager_job_finished(struct manager *m, struct job *j);
void manager_notify_status(struct manager *m, bool force);
struct device *manager_find_device(struct manager *m, const char *name);
/* A BLE device by its address ("AA:BB:CC:DD:EE:FF", any case): a scanned one, or one whose
 * transport is ble:ADDRESS[/TYPE]. */
struct device *manager_find_ble_device(struct manager *m, const char *address);
void manager_add_device(struct manager *m, struct device *d);
/* Drops d (its object goes from the bus; jobs of the history forget it) and frees it. */
void manager_remove_device(struct manager *m, struct device *d);
/* The group of d under the current config (name, address, advertised data), and its version. */
void manager_assign_group(struct manager *m, struct device *d);
struct job *manager_find_job(struct manager *m, uint32_t id);
/* Creates and queues a job (ids, persistence, bus object). */
int manager_add_job(struct manager *m, struct device *d, const struct job_record *rec,
		    struct job **ret);
uint64_t manager_realtime(void);
/* Starts queued jobs now (manager_schedule() defers to this). */
void manager_run_queue(struct manager *m);

/* controller.c: the BLE controller lent to one user at a time. Each user opens it itself (the
 * scan through bt/, polls and jobs through transport/ble), and a tty or HCI user channel
 * controller takes one user only. */
static inline bool transport_is_ble(const char *spec)
{
	return spec && strncmp(spec, "ble:", 4) == 0;
}
/* true: the controller is free and now lent to who; false: someone else holds it. */
bool manager_controller_take(struct manager *m, enum ctl_user u, const char *who);
/* Gives it back; the next waiter gets it from the loop: queued BLE jobs first, then waiting
 * polls (in device order), then a wanted scan. */
void manager_controller_give_back(struct manager *m);
/* The same, once t (its user's transport, taken over; NULL: none) let go of its link: a BLE
 * device is left disconnected and advertising again before the controller is lent to the next
 * user, not in a link the controller dropped (tr_close()). */
void manager_controller_give_back_after(struct manager *m, struct tr *t);

/* manager-bus.c */
int manager_bus_connect(struct manager *m, enum bus_kind kind, const char *address);

/* update-request.c: StartUpdate. Bounds of what callers may pile up: jobs started by hand that
 * wait, and devices known only from StartUpdate (each lasts while its job does). */
#define OTAD_MAX_QUEUED_JOBS   128
#define OTAD_MAX_ADHOC_DEVICES 64
int manager_method_start_update(sd_bus_message *msg, void *userdata, sd_bus_error *e);
