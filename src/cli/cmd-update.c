/* cmd-update.c — `otactl update FILE` and `otactl image upload FILE`: the update engine,
 * in-process, with progress on stdout and SIGINT/SIGTERM cancelling cleanly. */
#include "cli/commands.h"
#include "cli/conn.h"
#include "cli/exit-codes.h"
#include "cli/progress.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "util/fileio.h"
#include "util/json.h"

struct run {
	char pace_path[PATH_MAX]; /* "" = no pace memory */
	const char *pace_key;
	sd_event *event;
	struct upd_job *job;
	struct progress progress;
	int exit_code;
	bool done;
	unsigned signals;
};

static void on_step(struct upd_job *j, enum upd_step step, const struct upd_status *st, void *ud)
{
	struct run *r = ud;

	progress_step(&r->progress, step, st);
}

static void on_progress(struct upd_job *j, const struct upd_status *st, void *ud)
{
	struct run *r = ud;

	progress_update(&r->progress, st);
}

static void on_note(struct upd_job *j, int level, const char *text, void *ud)
{
	struct run *r = ud;

	progress_note(&r->progress, level, text);
}

static void on_pace_problem(const char *text, void *user_data)
{
	log_warning("pace memory: %s", text);
}

/* Remembers what the job learned about the device's pace (a verified boot, a refusal). */
static void save_pace(struct run *r, const struct upd_pace_memory *m)
{
	_cleanup_free_ char *dir = NULL;
	int e;

	if (!r->pace_path[0] || (!m->has_good && !m->has_refused))
		return;
	dir = strdup(r->pace_path);
	e = dir ? mkdir_p(dirname(dir), 0755) : -ENOMEM;
	if (e >= 0)
		e = upd_pace_memory_save(r->pace_path, r->pace_key, m, on_pace_problem, NULL);
	if (e < 0)
		log_warning_errno(e, "cannot remember the pace in %s: %m", r->pace_path);
}

/* A refusal is remembered before the retry: a killed otactl does not try that pace again. */
static void on_learned(struct upd_job *j, const struct upd_pace_memory *m, void *ud)
{
	save_pace(ud, m);
}

static void on_done(struct upd_job *j, const struct upd_result *res, void *ud)
{
	struct run *r = ud;

	save_pace(r, &res->memory);
	progress_result(&r->progress, res);
	r->exit_code = exit_code_for(res->fail);
	r->done = true;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct run *r = ud;

	r->signals++;
	if (r->job && !r->done)
		upd_job_cancel(r->job);
	return 0;
}

/* Where the pace memory lives; false when none is used (fixed pacing, --no-pace-memory). */
static bool pace_path(char *buf, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	bool adaptive = arg.params.pace.window == UPD_WINDOW_AUTO || arg.params.pace.auto_rate;

	if (arg.no_pace_memory || !adaptive)
		return false;
	if (arg.pace_file)
		return snprintf(buf, size, "%s", arg.pace_file) < (int)size;
	if (state && state[0] == '/')
		return snprintf(buf, size, "%s/otad/pace", state) < (int)size;
	if (home && home[0] == '/')
		return snprintf(buf, size, "%s/.local/state/otad/pace", home) < (int)size;
	return false;
}

static void load_pace(struct run *r, struct upd_params *p)
{
	int e;

	if (!pace_path(r->pace_path, sizeof(r->pace_path))) {
		r->pace_path[0] = 0;
		return;
	}
	r->pace_key = arg.pace_key ? arg.pace_key : arg.transport;
	e = upd_pace_memory_load(r->pace_path, r->pace_key, &p->memory, on_pace_problem, NULL);
	if (e < 0 && e != -ENOENT)
		log_warning("cannot read the pace memory %s: %s", r->pace_path, strerror(-e));
	if (e < 0)
		p->memory = (struct upd_pace_memory){ 0 };
	else if (p->memory.has_refused)
		log_info("pace memory: %s refused an image at %.0f B/s (window %u): staying below it",
			 r->pace_key, p->memory.refused_bps, p->memory.refused.window);
	else if (p->memory.has_good)
		log_info("pace memory: starting %s at window %u (%.0f B/s last time)", r->pace_key,
			 p->memory.good.window, p->memory.good_bps);
}

/* One job: image number `image` of the file, from f when the caller loaded it (else NULL). */
static int run_one(const char *image_path, struct img_file *f, enum upd_step stop_after,
		   uint32_t image)
{
	static const struct upd_callbacks cbs = {
		.step = on_step, .progress = on_progress, .note = on_note, .learned = on_learned,
		.done = on_done,
	};
	struct run r = { .exit_code = EXIT_FAILURE_GENERIC };
	struct upd_params p = arg.params;
	struct tr *t;
	sigset_t mask;
	int e;

	p.stop_after = stop_after;
	p.image = image;
	load_pace(&r, &p);
	progress_init(&r.progress, stdout, arg.json, arg.verbosity);
	e = sd_event_default(&r.event);
	if (e < 0)
		return log_error_errno(e, "cannot create the event loop: %m"), EXIT_FAILURE_GENERIC;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sd_event_add_signal(r.event, NULL, SIGINT, on_signal, &r);
	sd_event_add_signal(r.event, NULL, SIGTERM, on_signal, &r);
	e = upd_job_new(r.event, arg.transport, image_path, &p, &cbs, &r, &r.job);
	if (e >= 0 && f)
		upd_job_set_file(r.job, f);
	if (e < 0) {
		log_error_errno(e, "cannot create the job: %m");
		sd_event_unref(r.event);
		return EXIT_FAILURE_GENERIC;
	}
	upd_job_start(r.job);
	while (!r.done)
		if (sd_event_run(r.event, UINT64_MAX) < 0)
			break;
	/* the device is let go of before otactl exits: a BLE link ends, confirmed */
	t = upd_job_take_transport(r.job);
	r.job = upd_job_free(r.job);
	conn_release(r.event, t, &r.signals);
	sd_event_unref(r.event);
	return r.exit_code;
}

const char *format_duration(uint64_t seconds, char *buf, size_t size)
{
	if (seconds >= 3600)
		snprintf(buf, size, "%" PRIu64 " h %" PRIu64 " min", seconds / 3600,
			 seconds % 3600 / 60);
	else if (seconds >= 60)
		snprintf(buf, size, "%" PRIu64 " min %" PRIu64 " s", seconds / 60, seconds % 60);
	else
		snprintf(buf, size, "%" PRIu64 " s", seconds);
	return buf;
}

/* A fixed rate decides how long the upload takes at least: said before a long one starts. */
static void announce_duration(const struct img *img)
{
	char took[32];
	uint64_t s;

	if (arg.params.pace.auto_rate || !arg.params.pace.rate || !img)
		return;
	s = img->len / arg.params.pace.rate;
	if (s >= 60)
		log_notice("at --rate %" PRIu32 " the upload of %zu bytes takes at least %s",
			   arg.params.pace.rate, img->len, format_duration(s, took, sizeof(took)));
}

/* Before each image of a multi-image file: which one, of how many. */
static void announce(const struct img_file_entry *e, size_t i, size_t n)
{
	struct json j;

	if (arg.json) {
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_str(&j, "event", "image");
		json_u64(&j, "image", e->image);
		json_str(&j, "file", e->name);
		json_u64(&j, "index", i + 1);
		json_u64(&j, "count", n);
		json_end_object(&j);
		json_end_line(&j);
		return;
	}
	printf("== image %u (%s), %zu of %zu\n", e->image, e->name, i + 1, n);
	fflush(stdout);
}

/* A multi-image zip (nRF5340: application and network core) is updated one image at a time, in
 * ascending image numbers, each with the whole verified flow (upload, verify, test, reset, boot
 * check, confirm) before the next; the first failure stops the sequence. --image-num picks one
 * image. Images that depend on each other (MCUboot dependency TLVs) need one reset for both,
 * which this does not do. */
int run_update(const char *image_path, enum upd_step stop_after)
{
	struct img_file *f = NULL;
	int code = EXIT_OK;

	/* read, parsed and hashed once: the jobs take their image from f */
	if (img_load_any(image_path, arg.params.key_pem, arg.params.key_pem_len, &f, NULL) < 0)
		return run_one(image_path, NULL, stop_after, arg.params.image); /* it reports why */
	if (arg.image_num_set || f->n == 1) {
		const struct img_file_entry *e = img_file_select(f, arg.params.image);

		announce_duration(e ? e->img : NULL);
		code = run_one(image_path, f, stop_after, arg.params.image);
		img_file_free(f);
		return code;
	}
	for (size_t i = 0; i < f->n && code == EXIT_OK; i++) {
		announce(&f->entries[i], i, f->n);
		announce_duration(f->entries[i].img);
		code = run_one(image_path, f, stop_after, f->entries[i].image);
		if (code != EXIT_OK && i + 1 < f->n)
			log_error("image %u failed: not updating image%s %u%s", f->entries[i].image,
				  i + 2 < f->n ? "s" : "", f->entries[i + 1].image,
				  i + 2 < f->n ? " and after" : "");
	}
	img_file_free(f);
	return code;
}

int cmd_update(int argc, char **argv)
{
	if (argc != 2) {
		log_error("usage: otactl update FILE");
		return EXIT_USAGE;
	}
	return run_update(argv[1], UPD_STEP_DONE);
}
