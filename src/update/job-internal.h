/* job-internal.h — the update job's state, shared by job.c (lifecycle, requests, link events,
 * waits) and the steps of the verified update: query.c (what the device holds, what to do
 * about it), flow.c (upload, verify, test, confirm, retry) and boot.c (reset, boot check). */
#pragma once

#include <stdarg.h>

#include "util/macro.h"

#include "otad/smp-client.h"
#include "otad/update.h"
#include "update/uploader.h"

#define QUERY_TRIES 3

struct upd_job;
typedef void (*job_rsp_fn)(struct upd_job *j, int err, const struct smp_rsp *rsp);

/* The one non-upload request in flight; resent on timeout or after the link comes back. */
struct job_req {
	unsigned int id;
	enum smp_op op;
	uint16_t group;
	uint8_t cmd;
	uint8_t body[96];
	size_t len;
	uint64_t timeout_usec;
	unsigned tries_left;
	bool waiting_link; /* to be resent when the link is up again */
	job_rsp_fn handler;
};

struct upd_job {
	sd_event *event;
	char *spec;
	char *image_path;
	struct img_file *file; /* loaded by the caller (upd_job_set_file), else NULL */
	struct upd_params p;
	struct upd_callbacks cb;
	void *user_data;

	struct img *img;
	struct tr *tr;
	struct smp_client *smp;
	struct uploader *up;

	enum upd_step step;
	struct upd_status st;
	struct upd_result res;
	struct upd_pace pace;
	enum smp_ver ver;

	uint32_t buf_size, buf_count;
	bool has_old;
	uint8_t old_hash[32];
	char old_version[48];

	/* The guard of every state write: set only by a successful verify (slot 1 read back with our
	 * hash, match not false) or by seeing the device run our image after reset. */
	bool slot1_verified;
	bool boot_verified;
	bool force_upload;
	bool fit_checked;            /* slot info read (or not supported): the upload may go */
	bool slot1_pending;          /* verify saw our image in slot 1 already marked for boot */
	bool confirm_earlier;        /* confirming an image an earlier run tested and booted */
	bool refused_here;           /* this job saw a refusal: later attempts stay below it */
	struct upd_pace refused_pace;
	double refused_bps;
	bool link_up;
	bool cancelled;
	bool finished;
	bool reconnecting;

	struct job_req req;
	sd_event_source *timer;
	void (*timer_cb)(struct upd_job *j);
	sd_event_source *defer;
	sd_event_source *tick;       /* once a second while a wait lasts */
	uint64_t wait_start;
	/* boot step */
	uint64_t boot_timeout;       /* in force for this reset */
	uint64_t boot_start, boot_deadline;
	bool boot_revert;            /* --force: the reset sends the device back to its confirmed image */
	bool boot_pre_reset;         /* the last answer was from before the reset */
	unsigned reset_resends;
	uint64_t erase_per_sector;   /* measured at the first chunk, 0 = not */
	bool resume;                 /* start at the boot step (upd_job_resume_boot) */
	struct upd_boot_resume resume_info;
	uint64_t last_progress;
	char boot_problem[160];
	char last_stray[256]; /* what the device sent that matched no request, for timeouts */
};

uint64_t job_now(struct upd_job *j);
void job_note(struct upd_job *j, int level, const char *fmt, ...) _printf_(3, 4);
void job_enter(struct upd_job *j, enum upd_step step);
void job_fail(struct upd_job *j, int err, enum upd_fail fail, const char *fmt, ...)
	_printf_(4, 5);
void job_succeed(struct upd_job *j, const char *fmt, ...) _printf_(2, 3);
int job_request(struct upd_job *j, enum smp_op op, uint16_t group, uint8_t cmd,
		const uint8_t *body, size_t len, uint64_t timeout_usec, unsigned tries,
		job_rsp_fn handler);
/* Calls fn after delay (one timer per job). */
int job_after(struct upd_job *j, uint64_t delay_usec, void (*fn)(struct upd_job *j));
/* A wait that began at start (CLOCK_MONOTONIC) and may last limit: reported through the progress
 * callback once a second until job_wait_end(). */
void job_wait_begin(struct upd_job *j, enum upd_wait what, uint64_t start, uint64_t limit);
void job_wait_end(struct upd_job *j);

/* query.c: mcumgr params, image state and what to do about it, slot info */
void flow_query(struct upd_job *j);
/* After the reset of --force that sends the device back to its confirmed image: false while it
 * still answers as before the reset, else queries it again. */
bool query_reverted(struct upd_job *j, const struct smp_image_state *st);

/* flow.c: upload, verify, test and confirm (the only image state writes), retry */
bool flow_decode_state(struct upd_job *j, int err, const struct smp_rsp *rsp, const char *what,
		       struct smp_image_state *st);
void flow_read_state(struct upd_job *j, job_rsp_fn handler);
bool flow_is_ours(const struct upd_job *j, const struct smp_slot_state *s);
char *flow_short_hash(const uint8_t *h, size_t len, char buf[17]); /* 16 hex digits */
void flow_record_running(struct upd_job *j, const struct smp_slot_state *s0);
void flow_start_upload(struct upd_job *j);
void flow_upload_done(struct upd_job *j, int err, enum upd_fail fail, const char *text);
void flow_verify(struct upd_job *j);
void flow_confirm(struct upd_job *j);
void flow_learn(struct upd_job *j, bool booted);
void flow_retry_or_fail(struct upd_job *j, enum upd_fail fail, const char *fmt, ...)
	_printf_(3, 4);

/* boot.c: reset, the wait for the device, the boot check */
void flow_reset(struct upd_job *j, bool revert);
void flow_boot_poll(struct upd_job *j);
void flow_link_up(struct upd_job *j);
void flow_resume_boot(struct upd_job *j);
