/* update.h — the verified update flow (DESIGN.md "The update flow"): check the image locally,
 * connect, read the device's parameters and slots, upload with paced pipelining, verify what
 * landed, test (or confirm), reset, wait for the device, check that slot 0 runs our hash, confirm.
 *
 * A device is never told to test or confirm an image whose slot-1 hash was not read back equal
 * to ours (and, where the device reports "match", whose "match" was true). The post-reset check
 * is the verdict: a device that comes back on its old image means the bootloader refused ours.
 *
 * One upd_job per device; it owns its transport and SMP client. Everything runs on the caller's
 * sd-event loop. The library never logs: it reports through upd_callbacks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "otad/image.h"
#include "otad/transport.h"

enum upd_step {
	UPD_STEP_IMAGE,   /* parse and check the image file */
	UPD_STEP_CONNECT, /* open the transport */
	UPD_STEP_QUERY,   /* mcumgr params + image state */
	UPD_STEP_UPLOAD,
	UPD_STEP_VERIFY,  /* slot 1 lists our hash; "match" was true where reported */
	UPD_STEP_TEST,    /* image state write: test (confirm=false) or confirm (mode confirm) */
	UPD_STEP_RESET,
	UPD_STEP_BOOT,    /* wait for the device, read state: slot 0 active must carry our hash */
	UPD_STEP_CONFIRM, /* test mode: confirm the running image */
	UPD_STEP_DONE,
	_UPD_STEP_MAX,
};
const char *upd_step_name(enum upd_step s); /* "image", "connect", ... */

/* Why a job failed; one class per exit code of otactl (see otactl(1)). */
enum upd_fail {
	UPD_FAIL_NONE = 0,
	UPD_FAIL_IMAGE,     /* the local image is malformed or its signature is bad */
	UPD_FAIL_LINK,      /* transport could not be opened / was lost for good */
	UPD_FAIL_TIMEOUT,   /* device stopped answering */
	UPD_FAIL_DEVICE,    /* device answered with an SMP error */
	UPD_FAIL_PROTOCOL,  /* malformed or unexpected response */
	UPD_FAIL_VERIFY,    /* slot 1 does not hold our hash, or match=false */
	UPD_FAIL_REFUSED,   /* bootloader refused the image: device came back on the old one */
	UPD_FAIL_CANCELLED,
	UPD_FAIL_CONFIG,    /* bad parameters */
	UPD_FAIL_SECURITY,  /* BLE: pairing failed, or the device lost the key of our pairing */
	_UPD_FAIL_MAX,
};
const char *upd_fail_name(enum upd_fail f); /* "image", "link", "timeout", ... */

enum upd_mode {
	UPD_MODE_TEST,    /* test, reset, check, then confirm (MCUboot reverts if we never confirm) */
	UPD_MODE_CONFIRM, /* permanent before reset, then check */
};

#define UPD_WINDOW_AUTO 0 /* window chosen by the pacer (issue: adaptive pacing) */
#define UPD_WINDOW_MAX  32u
/* The slowest fixed rate, bytes/s: a retry after a refusal never goes below it, and the command
 * line and the fleet files refuse less (a typing mistake: 128 KiB at 1 B/s take 36 hours). */
#define UPD_RATE_MIN 512u

struct upd_pace {
	uint32_t rate;   /* image bytes per second, 0 = unlimited */
	unsigned window; /* requests in flight, UPD_WINDOW_AUTO = adaptive; never above buf_count */
	bool auto_rate;  /* adaptive rate */
};

/* What a caller remembers about a device (or a fleet group) between updates: the pace of its
 * last verified boot, and the pace at which its bootloader last refused an image. The adaptive
 * pacer starts from the good pace and never goes back to the refused one: after a refusal the
 * device is updated strictly one request at a time (nothing arrives while its flash programs),
 * at most at 90 % of the refused rate. */
struct upd_pace_memory {
	bool has_good;
	struct upd_pace good; /* window used (its peak), rate cap in force (0 = none) */
	double good_bps;      /* image bytes/s it achieved */
	bool has_refused;
	struct upd_pace refused;
	double refused_bps;
};

struct upd_params {
	struct upd_pace pace;        /* window UPD_WINDOW_AUTO / auto_rate adapt (the default) */
	struct upd_pace_memory memory; /* starting point and ceilings of the adaptive pacer */
	size_t chunk_max;            /* cap on image bytes per request; 0 = largest that fits */
	enum upd_mode mode;
	unsigned retries;            /* extra attempts after a bootloader refusal */
	uint32_t image;              /* SMP image number (0 = the application); see upd_job_new */
	uint64_t rsp_timeout_usec;   /* per request; 0 = 5 s */
	uint64_t erase_timeout_usec; /* extra allowance for the first chunk; 0 = estimated from len */
	/* Device back after reset. 0 = from the image and the device: a swap moves every sector of
	 * the image, so 10 s plus 1 s per 4 KiB of it (six times the erase of a sector where the
	 * first chunk showed a slower one), and never less than 60 s (upd_boot_timeout()). */
	uint64_t boot_timeout_usec;
	unsigned max_timeouts;       /* consecutive timeouts before giving up; 0 = 8 */
	/* Upload even when slot 1 holds the image; reset a device that runs another image
	 * unconfirmed back to its confirmed one first (see otactl(1) "DEVICE STATES"). */
	bool force;
	bool upgrade_only;           /* send "upgrade": true (device refuses older versions) */
	enum upd_step stop_after;    /* 0 or UPD_STEP_DONE = whole flow; UPD_STEP_VERIFY = upload only */
	const char *key_pem;         /* verify the image signature before anything is sent */
	size_t key_pem_len;
	struct tr_options tr;
};

/* What a step waits for when nothing else moves. */
enum upd_wait {
	UPD_WAIT_NONE,
	UPD_WAIT_ERASE, /* the first chunk's answer: the device erases slot 1 before it answers */
	UPD_WAIT_BOOT,	/* the device back after the reset (swapping, booting, re-advertising) */
};

struct upd_status {
	enum upd_step step;
	unsigned attempt;     /* 1-based */
	size_t off;           /* device-confirmed offset */
	size_t total;
	uint64_t bytes_sent;  /* image bytes put on the wire, retransmissions included */
	uint64_t elapsed_usec; /* since the upload of this attempt started */
	double rate;          /* recent confirmed image bytes/s */
	unsigned window;      /* current window (adaptive: what the pacer chose) */
	uint32_t rate_limit;  /* current limit, 0 = unlimited */
	unsigned in_flight;
	unsigned rewinds, timeouts, restarts;
	size_t chunk;         /* image bytes per request */
	uint32_t buf_size, buf_count; /* what the device reported (or the defaults) */
	enum upd_wait wait;   /* reported once a second while it lasts */
	uint64_t wait_usec;       /* how long it has lasted */
	uint64_t wait_limit_usec; /* how long it may last before the step fails */
	/* From the reset step on, what a caller needs to resume the job at the boot step after a
	 * restart (upd_job_resume_boot): the boot timeout in force, whether the reset is the one of
	 * --force sending the device back to its confirmed image, and what ran before it. */
	uint64_t boot_timeout_usec;
	bool boot_revert;
	bool has_old;
	uint8_t old_hash[32];
	char old_version[48];
	uint8_t image_hash[32]; /* the image's SHA-256 TLV, once it is loaded */
};

struct upd_result {
	int err;              /* 0 on success, else negative errno */
	enum upd_fail fail;
	enum upd_step step;   /* where it ended */
	char message[512];    /* one line: what happened, with the cause */
	unsigned attempts;
	bool already_running; /* slot 0 already ran the image: nothing done */
	bool upload_skipped;  /* slot 1 already held it */
	double avg_rate;      /* image bytes/s of the last upload */
	uint64_t upload_usec;         /* the last attempt's upload */
	uint64_t upload_usec_total;   /* every attempt's upload, refused ones included */
	struct upd_pace pace; /* pace of the last attempt (what produced the result) */
	struct upd_pace_memory memory; /* params.memory updated with what this job learned */
	char version[48];     /* version the device runs at the end, if known */
	uint8_t hash[32];     /* slot 0 hash at the end, if known */
	bool has_hash;
};

struct upd_job;

struct upd_callbacks {
	/* Entered a step. */
	void (*step)(struct upd_job *j, enum upd_step step, const struct upd_status *st, void *ud);
	/* Upload progress, at most every 100 ms and at the end. */
	void (*progress)(struct upd_job *j, const struct upd_status *st, void *ud);
	/* Something worth a log line (retransmit, rewind, refusal, retry); level as syslog. */
	void (*note)(struct upd_job *j, int level, const char *text, void *ud);
	/* Learned something about the device's pace before the end (a refusal, before the retry):
	 * remember it now, so that a crash or kill before done() does not lose it. May be NULL. */
	void (*learned)(struct upd_job *j, const struct upd_pace_memory *m, void *ud);
	/* Finished: result->fail says how. The job may be freed from here. */
	void (*done)(struct upd_job *j, const struct upd_result *result, void *ud);
};

/* Creates a job updating the device at transport spec with the image at image_path: a signed
 * MCUboot .bin, its Intel HEX, or a dfu_application.zip (img_load_any). A single-image file is
 * the image to update; a multi-image zip gives image p->image. A zip's manifest decides the SMP
 * image number (a one-image zip of image 1 updates image 1). Nothing happens before
 * upd_job_start(). */
int upd_job_new(sd_event *e, const char *spec, const char *image_path,
		const struct upd_params *p, const struct upd_callbacks *cb, void *user_data,
		struct upd_job **ret);
/* The image file as the caller already loaded it (img_load_any with p->key_pem): the job takes
 * its image from f instead of reading image_path again (which still names it in messages). The
 * entry it takes is moved out of f, which must stay until upd_job_start() returns. */
void upd_job_set_file(struct upd_job *j, struct img_file *f);
int upd_job_start(struct upd_job *j);
/* A job that was at its reset or boot step when its caller stopped (status as the step callback
 * reported it): the device may be swapping and not answer for a while. */
struct upd_boot_resume {
	uint64_t remaining_usec; /* of the boot timeout; the engine waits at least a few seconds */
	uint64_t timeout_usec;   /* the boot timeout that was in force */
	bool revert;
	bool has_old;
	uint8_t old_hash[32];
	char old_version[48];
	uint8_t hash[32]; /* the image's SHA-256 TLV: the file must still be that image */
	unsigned attempt; /* 1-based, 0 = 1 */
};
/* Starts the job at the boot step instead of the query: it waits out the rest of the boot
 * timeout for the device, then judges (our image running, the old one back: a refusal) and
 * confirms as usual. Call before upd_job_start(). */
void upd_job_resume_boot(struct upd_job *j, const struct upd_boot_resume *r);
/* Stops what is in flight; done() follows with UPD_FAIL_CANCELLED (never mid-way through a
 * state write: a test/confirm already sent is seen through). */
void upd_job_cancel(struct upd_job *j);
const struct upd_status *upd_job_status(const struct upd_job *j);
/* After done(): the job's transport, handed to the caller (the job's SMP client is gone; NULL
 * when the job had none), to let go of with tr_close() before tr_free(): a BLE device is then
 * left disconnected and advertising, not in a link its controller dropped. */
struct tr *upd_job_take_transport(struct upd_job *j);
/* Accepts NULL, returns NULL. Safe from inside done(). */
struct upd_job *upd_job_free(struct upd_job *j);

/* Defaults: adaptive window and rate, test mode, 2 retries, 5 s answer timeout, the boot timeout
 * from the image and the device. */
void upd_params_init(struct upd_params *p);
/* The default boot timeout for an image of len bytes; erase_usec_per_sector: what the device
 * took per 4 KiB sector to erase slot 1 before its first answer (0 = not measured). */
uint64_t upd_boot_timeout(size_t len, uint64_t erase_usec_per_sector);

/* Pace memory file: one line per device key (a transport spec, a group name), written
 * atomically. An entry not saved for UPD_PACE_MAX_AGE_SEC is gone, and at most
 * UPD_PACE_MAX_ENTRIES stay (a save drops the least recently saved). A line that does not parse
 * (or a file that cannot be one) is reported through problem ("PATH:LINE: why", problem may be
 * NULL) and dropped; a load that dropped anything rewrites the file without it (a failure to
 * do so is reported too, the load goes on). Load: 0, -ENOENT when the file or the key is
 * absent, -EINVAL for a key with blanks or control characters, or the error reading the file.
 * Save: 0 or a negative errno. */
#define UPD_PACE_MAX_AGE_SEC (90ULL * 24 * 3600)
#define UPD_PACE_MAX_ENTRIES 2048
typedef void (*upd_pace_problem_fn)(const char *text, void *user_data);
int upd_pace_memory_load(const char *path, const char *key, struct upd_pace_memory *ret,
			 upd_pace_problem_fn problem, void *user_data);
int upd_pace_memory_save(const char *path, const char *key, const struct upd_pace_memory *m,
			 upd_pace_problem_fn problem, void *user_data);
