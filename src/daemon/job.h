/* job.h — one update job in otad: its record (persisted), the image fetch, the engine's job,
 * and its D-Bus object (job-bus.c). */
#pragma once

#include "otad/jobstore.h"
#include "otad/update.h"
#include "util/macro.h"

struct manager;
struct device;

struct job {
	struct manager *m;
	struct job *next;
	struct device *device;
	struct job_record rec;
	char path[64];
	struct upd_job *upd;
	struct tr *tr; /* once the engine is done: its link, for the scheduler to let go of */
	unsigned fetch_id;
	double rate;
	unsigned window;
	enum upd_wait wait; /* what the engine waits for, with how long so far and its limit */
	uint64_t wait_usec, wait_limit_usec;
	bool resume_boot; /* restarted at the reset or boot step: resume the engine there */
	uint64_t last_save, last_emit;
	bool counted;	       /* in manager->n_running */
	bool holds_controller; /* a BLE job: lent the controller (controller.c) */
};

int job_new(struct manager *m, struct device *d, const struct job_record *rec, struct job **ret);
struct job *job_free(struct job *j);
/* Fetches the image and runs the update; the manager calls it when limits allow. */
void job_start(struct job *j);
/* -EALREADY when finished. */
int job_cancel(struct job *j);
/* Persists the record (logs a failure; the job goes on). */
void job_save(struct job *j);
/* Structured log line with JOB= and DEVICE=. */
void job_log(struct job *j, int level, const char *fmt, ...) _printf_(3, 4);
/* "fleet" when the policy started it. */
bool job_is_active(const struct job *j);

/* job-bus.c */
int job_bus_register(struct manager *m);
void job_bus_emit(struct job *j, const char *prop, ...); /* NULL-terminated property names */
void job_bus_added(struct job *j);
void job_bus_removed(struct job *j);
