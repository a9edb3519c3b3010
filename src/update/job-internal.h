/* job-internal.h — the update job's state, shared by job.c (lifecycle, requests, link events) and
 * flow.c (the steps of the verified update). */
#pragma once

#include <stdarg.h>

#include "util/macro.h"

#include "otad/smp-client.h"
#include "otad/update.h"
#include "update/uploader.h"

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
	uint64_t boot_deadline;
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

/* flow.c */
void flow_query(struct upd_job *j);
void flow_upload_done(struct upd_job *j, int err, enum upd_fail fail, const char *text);
void flow_boot_poll(struct upd_job *j);
void flow_link_up(struct upd_job *j);
