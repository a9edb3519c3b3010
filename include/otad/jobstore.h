/* jobstore.h — otad's persisted jobs: one small INI file per job, STATE_DIR/jobs/ID.job,
 * replaced atomically (temporary file, fsync, rename, fsync of the directory) at every change
 * worth keeping, so that a daemon killed at any instant restarts with each job either as it was
 * or as it became, never half-written. A file that does not parse is reported, moved aside to
 * ID.job.corrupt and not loaded; the temporary file of an interrupted write is removed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "otad/conf.h"
#include "otad/update.h"

enum job_state {
	JOB_QUEUED,  /* waiting for a free slot (MaxJobs, MaxParallel) */
	JOB_RUNNING, /* fetching the image or updating */
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_CANCELLED,
	_JOB_STATE_MAX,
};
const char *job_state_name(enum job_state s); /* "queued", "running", "succeeded", ... */
int job_state_from_name(const char *s, enum job_state *ret);
static inline bool job_state_finished(enum job_state s)
{
	return s >= JOB_SUCCEEDED;
}

struct job_record {
	uint32_t id;
	char device[128]; /* fleet name, or the transport spec for an ad-hoc device */
	char transport[256];
	char group[64];	   /* "" for jobs started by hand */
	char source[1024]; /* image as given: path or URL */
	char image[1024];  /* local file uploaded ("" until fetched) */
	char sha256[65];   /* pin of the image file, "" = none */
	char target_version[48];
	bool automatic; /* started by the fleet policy */
	enum job_state state;
	char step[16];	  /* "fetch" or upd_step_name() */
	char failure[16]; /* upd_fail_name() or "" */
	char error[512];
	uint64_t created, started, finished; /* CLOCK_REALTIME µs, 0 = not yet */
	uint64_t offset, total, bytes_sent;
	unsigned attempts;
	/* options */
	struct upd_pace pace;
	enum upd_mode mode;
	unsigned retries;
	bool force;
	/* result: the pace the last attempt used (for the per-device "last good pace") */
	struct upd_pace pace_used;
	/* From the reset step until the device is back: what a restarted otad needs to resume the
	 * job at its boot step (upd_job_resume_boot), the device being busy swapping meanwhile. */
	uint64_t boot_deadline; /* CLOCK_REALTIME µs; 0 = not at the boot step */
	uint64_t boot_timeout;	/* µs */
	bool boot_revert;	/* the reset sends the device back to its confirmed image */
	char image_hash[65];	/* SHA-256 TLV of the image, hex */
	char old_hash[65];	/* what ran before the reset, hex ("" = unknown) */
	char old_version[48];
};

/* The text of a job file, and back. Parse errors: -EBADMSG with "PATH:LINE: why". */
int job_record_format(const struct job_record *r, char **ret_text);
int job_record_parse(const char *path, const char *text, struct job_record *ret,
		     struct conf_error *err);

struct job_store;

/* Creates STATE_DIR/jobs when missing. */
int job_store_open(const char *state_dir, struct job_store **ret);
struct job_store *job_store_free(struct job_store *s);
int job_store_save(struct job_store *s, const struct job_record *r);
int job_store_remove(struct job_store *s, uint32_t id);

struct job_store_ops {
	void (*job)(const struct job_record *r, void *user_data);
	/* A file that was not loaded (corrupt, unreadable) or cleaned up; text says which and why.
	 */
	void (*problem)(const char *text, void *user_data);
};
/* Every job in id order. *ret_next_id: an id above all ids seen, loaded or not. Returns the
 * number loaded or a negative errno when the directory cannot be read. */
int job_store_load(struct job_store *s, const struct job_store_ops *ops, void *user_data,
		   uint32_t *ret_next_id);
