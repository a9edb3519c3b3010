/* job.c — one update job: fetch the image (pinned), check its version against the group's, run
 * the verified update engine, keep the record current on disk and on the bus. */
#include "daemon/job.h"
#include "daemon/device.h"
#include "daemon/manager.h"
#include "otad/bus-api.h"
#include "util/hex.h"
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAVE_INTERVAL_USEC (1 * USEC_PER_SEC)

int job_new(struct manager *m, struct device *d, const struct job_record *rec, struct job **ret)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->m = m;
	j->device = d;
	j->rec = *rec;
	snprintf(j->path, sizeof(j->path), "%s/%" PRIu32, OTAD_JOB_PATH_PREFIX, rec->id);
	*ret = j;
	return 0;
}

struct job *job_free(struct job *j)
{
	if (!j)
		return NULL;
	if (j->fetch_id)
		fetcher_cancel(j->m->fetcher, j->fetch_id);
	upd_job_free(j->upd);
	tr_free(j->tr);
	if (j->device && j->device->job == j)
		j->device->job = NULL;
	free(j);
	return NULL;
}

bool job_is_active(const struct job *j)
{
	return !job_state_finished(j->rec.state);
}

void job_log(struct job *j, int level, const char *fmt, ...)
{
	char msg[700], fields[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(fields, sizeof(fields), "JOB=%" PRIu32 "\nDEVICE=%s\nOTAD_JOB_STATE=%s", j->rec.id,
		 j->rec.device, job_state_name(j->rec.state));
	log_fields(level, fields, "job %" PRIu32 " (%s): %s", j->rec.id, j->rec.device, msg);
}

void job_save(struct job *j)
{
	int r = job_store_save(j->m->store, &j->rec);

	if (r < 0)
		job_log(j, LOG_LVL_ERR, "cannot save the job state: %s", strerror(-r));
	j->last_save = manager_realtime();
}

static void job_finish(struct job *j, enum job_state state, const char *failure, const char *fmt,
		       ...) _printf_(4, 5);
static void job_finish(struct job *j, enum job_state state, const char *failure, const char *fmt,
		       ...)
{
	va_list ap;

	j->rec.state = state;
	j->rec.finished = manager_realtime();
	snprintf(j->rec.failure, sizeof(j->rec.failure), "%s", failure);
	va_start(ap, fmt);
	vsnprintf(j->rec.error, sizeof(j->rec.error), fmt, ap);
	va_end(ap);
	job_save(j);
	job_log(j, state == JOB_SUCCEEDED ? LOG_LVL_NOTICE : LOG_LVL_ERR, "%s: %s",
		job_state_name(state), j->rec.error);
	job_bus_emit(j, "State", "Step", "Failure", "Error", "Message", "Finished", "Offset",
		     "BytesSent", "Progress", NULL);
	manager_job_finished(j->m, j); /* may free j */
}

/* ---- engine callbacks ------------------------------------------------------------------- */

#define RESET_ANSWER_USEC (2 * USEC_PER_SEC) /* the engine's wait for the reset's answer */

/* From the reset until the device is back the record says how to resume there (a restart during
 * the swap must not take the device's silence for a failure); cleared in every other step. */
static void remember_boot(struct job *j, enum upd_step step, const struct upd_status *st)
{
	struct job_record *r = &j->rec;

	if (step != UPD_STEP_RESET && step != UPD_STEP_BOOT) {
		r->boot_deadline = 0;
		return;
	}
	r->boot_timeout = st->boot_timeout_usec;
	r->boot_deadline = manager_realtime() +
			   (step == UPD_STEP_RESET ? st->boot_timeout_usec + RESET_ANSWER_USEC
			    : st->wait_limit_usec > st->wait_usec
				    ? st->wait_limit_usec - st->wait_usec
				    : 0);
	r->boot_revert = st->boot_revert;
	hex_encode(st->image_hash, 32, r->image_hash);
	if (st->has_old)
		hex_encode(st->old_hash, 32, r->old_hash);
	else
		r->old_hash[0] = 0;
	snprintf(r->old_version, sizeof(r->old_version), "%s", st->has_old ? st->old_version : "");
}

static void on_step(struct upd_job *u, enum upd_step step, const struct upd_status *st, void *ud)
{
	struct job *j = ud;

	remember_boot(j, step, st);
	snprintf(j->rec.step, sizeof(j->rec.step), "%s", upd_step_name(step));
	j->rec.attempts = st->attempt;
	j->rec.total = st->total;
	job_log(j, LOG_LVL_INFO, "%s", upd_step_name(step));
	job_bus_emit(j, "Step", "Attempt", "Total", NULL);
	job_save(j);
	manager_notify_status(j->m, true);
}

static void on_progress(struct upd_job *u, const struct upd_status *st, void *ud)
{
	struct job *j = ud;

	j->rec.offset = st->off;
	j->rec.total = st->total;
	j->rec.bytes_sent = st->bytes_sent;
	j->rate = st->rate;
	j->window = st->window;
	job_bus_emit(j, "Offset", "BytesSent", "Progress", "Rate", "Window", NULL);
	if (st->wait != UPD_WAIT_NONE || j->wait != UPD_WAIT_NONE) {
		j->wait = st->wait;
		j->wait_usec = st->wait_usec;
		j->wait_limit_usec = st->wait_limit_usec;
		job_bus_emit(j, "Wait", "WaitElapsed", "WaitLimit", NULL);
	}
	if (manager_realtime() - j->last_save >= SAVE_INTERVAL_USEC)
		job_save(j);
	manager_notify_status(j->m, false);
}

static void on_note(struct upd_job *u, int level, const char *text, void *ud)
{
	job_log(ud, level, "%s", text);
}

/* What the device runs after a successful job, until the next poll reads all of its slots. */
static void note_running(struct device *d, const struct upd_result *res)
{
	struct smp_slot_state *s = (struct smp_slot_state *)smp_image_state_find(&d->slots, 0, 0);

	if (!d->has_slots || !s) {
		d->slots = (struct smp_image_state){.n_slots = 1};
		s = &d->slots.slots[0];
		s->active = s->confirmed = s->bootable = true;
	}
	d->has_slots = true;
	memcpy(s->version, res->version, sizeof(s->version));
	s->version[sizeof(s->version) - 1] = 0;
	if (res->has_hash) {
		memcpy(s->hash, res->hash, 32);
		s->hash_len = 32;
	}
	device_bus_emit(d, "Version", "Slots", NULL);
}

static void on_pace_problem(const char *text, void *user_data)
{
	job_log(user_data, LOG_LVL_WARN, "pace memory: %s", text);
}

/* What the engine learned about the device's pace (a verified boot, a refusal), remembered for
 * its next update (adaptive pacing only). */
static void save_pace(struct job *j, const struct upd_pace_memory *m)
{
	int r;

	if (j->rec.pace.window != UPD_WINDOW_AUTO || (!m->has_good && !m->has_refused))
		return;
	r = upd_pace_memory_save(j->m->pace_path, j->rec.device, m, on_pace_problem, j);
	if (r < 0)
		job_log(j, LOG_LVL_WARN, "cannot remember the pace in %s: %s", j->m->pace_path,
			strerror(-r));
}

/* A refusal is remembered before the retry: an otad killed during it resumes below that pace. */
static void on_learned(struct upd_job *u, const struct upd_pace_memory *m, void *ud)
{
	save_pace(ud, m);
}

static void on_done(struct upd_job *u, const struct upd_result *result, void *ud)
{
	struct job *j = ud;
	struct device *d = j->device;
	struct upd_result copy = *result, *res = &copy; /* result lives in the engine's job */

	j->tr = upd_job_take_transport(j->upd);
	j->upd = upd_job_free(j->upd);
	j->rec.pace_used = res->pace;
	save_pace(j, &res->memory);
	if (res->fail == UPD_FAIL_NONE && d && res->version[0])
		note_running(d, res);
	if (res->fail == UPD_FAIL_NONE)
		job_finish(j, JOB_SUCCEEDED, "", "%s", res->message);
	else
		job_finish(j, res->fail == UPD_FAIL_CANCELLED ? JOB_CANCELLED : JOB_FAILED,
			   upd_fail_name(res->fail), "%s", res->message);
}

static const struct upd_callbacks upd_cbs = {
	.step = on_step,
	.progress = on_progress,
	.note = on_note,
	.learned = on_learned,
	.done = on_done,
};

/* ---- start ------------------------------------------------------------------------------ */

/* The image file, loaded here so that every message names it as given (a path, a URL), never
 * by its copy in the cache; a fleet job's image must be the version its group names. */
static int load_image(struct job *j, struct img_file **ret)
{
	struct img_file *f = NULL;
	const struct img_file_entry *e;
	struct img_diag diag = {0};
	char have[48], why[IMG_DIAG_MAX];
	int r = img_load_any(j->rec.image, NULL, 0, &f, &diag);

	if (r < 0) {
		job_finish(j, JOB_FAILED, "image", "%s: %s", j->rec.source,
			   r == -EBADMSG ? img_diag_format(&diag, why, sizeof(why)) : strerror(-r));
		return r;
	}
	e = img_file_select(f, 0);
	if (j->rec.target_version[0] && e) {
		img_version_format(&e->img->info.version, have, sizeof(have));
		if (strcmp(have, j->rec.target_version) != 0) {
			img_file_free(f);
			job_finish(j, JOB_FAILED, "config",
				   "%s holds version %s, the group says %s", j->rec.source, have,
				   j->rec.target_version);
			return -EBADMSG;
		}
	}
	*ret = f;
	return 0;
}

/* otad stopped while the device was resetting or swapping: the engine starts at the boot step
 * with what is left of the boot timeout, and judges and confirms as usual. */
static void resume_at_boot(struct job *j)
{
	struct upd_boot_resume r = {
		.timeout_usec = j->rec.boot_timeout,
		.revert = j->rec.boot_revert,
		.attempt = j->rec.attempts,
	};
	uint64_t now = manager_realtime();

	j->resume_boot = false;
	if (hex_decode(j->rec.image_hash, r.hash, 32) != 32) {
		job_log(j, LOG_LVL_WARN, "the record holds no image hash: starting from the query");
		return;
	}
	r.has_old = hex_decode(j->rec.old_hash, r.old_hash, 32) == 32;
	snprintf(r.old_version, sizeof(r.old_version), "%s", j->rec.old_version);
	r.remaining_usec = j->rec.boot_deadline > now ? j->rec.boot_deadline - now : 0;
	job_log(j, LOG_LVL_NOTICE,
		"stopped during the device's reset or boot: resuming at the boot step, %.0f s of "
		"the boot timeout left",
		(double)r.remaining_usec / USEC_PER_SEC);
	upd_job_resume_boot(j->upd, &r);
}

static void begin_update(struct job *j)
{
	const struct fleet_settings *s = &j->m->config->s;
	struct img_file *f = NULL;
	struct upd_params p;
	int r;

	if (load_image(j, &f) < 0)
		return;
	upd_params_init(&p);
	p.pace = j->rec.pace;
	p.mode = j->rec.mode;
	p.retries = j->rec.retries;
	p.force = j->rec.force;
	p.rsp_timeout_usec = s->rsp_timeout_usec;
	p.boot_timeout_usec = s->boot_timeout_usec;
	p.tr.hci = s->controller;
	p.tr.bond_file = j->m->bond_path; /* a device bonded before is not paired again */
	/* adaptive pacing starts from the device's last good pace (STATE_DIR/pace) */
	if (p.pace.window == UPD_WINDOW_AUTO &&
	    upd_pace_memory_load(j->m->pace_path, j->rec.device, &p.memory, on_pace_problem, j) < 0)
		p.memory = (struct upd_pace_memory){0};
	/* the engine takes the image from f; the path it is given only names it */
	r = upd_job_new(j->m->event, j->rec.transport, j->rec.source, &p, &upd_cbs, j, &j->upd);
	if (r < 0) {
		img_file_free(f);
		job_finish(j, JOB_FAILED, "config", "cannot create the update: %s", strerror(-r));
		return;
	}
	upd_job_set_file(j->upd, f);
	if (j->resume_boot)
		resume_at_boot(j);
	upd_job_start(j->upd); /* failures come through on_done */
	img_file_free(f);
}

static void on_fetched(int err, const char *path, const char *why, void *user_data)
{
	struct job *j = user_data;

	j->fetch_id = 0;
	if (err < 0) {
		job_finish(j, JOB_FAILED, "image", "image %s: %s", j->rec.source,
			   why ? why : strerror(-err));
		return;
	}
	snprintf(j->rec.image, sizeof(j->rec.image), "%s", path);
	job_save(j);
	begin_update(j);
}

void job_start(struct job *j)
{
	uint8_t pin[32];
	bool has_pin = j->rec.sha256[0] && hex_decode(j->rec.sha256, pin, 32) == 32;
	int err = 0;

	j->rec.state = JOB_RUNNING;
	if (!j->rec.started)
		j->rec.started = manager_realtime();
	j->resume_boot = j->rec.boot_deadline && (strcmp(j->rec.step, "reset") == 0 ||
						  strcmp(j->rec.step, "boot") == 0);
	snprintf(j->rec.step, sizeof(j->rec.step), "fetch");
	job_save(j);
	job_log(j, LOG_LVL_INFO, "started: %s to %s", j->rec.source, j->rec.transport);
	job_bus_emit(j, "State", "Step", NULL);
	/* once fetched (or handed over as a file), the cached copy, still checked against the pin
	 */
	j->fetch_id = fetcher_get(j->m->fetcher, j->rec.image[0] ? j->rec.image : j->rec.source,
				  has_pin ? pin : NULL, on_fetched, j, NULL, &err);
	if (!j->fetch_id)
		job_finish(j, JOB_FAILED, "image", "image %s: %s", j->rec.source,
			   err == -EPERM ? "plain http is not allowed (AllowInsecureHTTP=)"
					 : strerror(-err));
}

int job_cancel(struct job *j)
{
	if (job_state_finished(j->rec.state))
		return -EALREADY;
	if (j->upd) {
		upd_job_cancel(j->upd); /* on_done follows */
		return 0;
	}
	if (j->fetch_id) {
		fetcher_cancel(j->m->fetcher, j->fetch_id);
		j->fetch_id = 0;
		job_finish(j, JOB_CANCELLED, "cancelled", "cancelled while fetching the image");
		return 0;
	}
	job_finish(j, JOB_CANCELLED, "cancelled", "cancelled while %s",
		   job_state_name(j->rec.state));
	return 0;
}
