/* cmd-update.c — `otactl update FILE` and `otactl image upload FILE`: the update engine,
 * in-process, with progress on stdout and SIGINT/SIGTERM cancelling cleanly. */
#include "cli/commands.h"
#include "cli/exit-codes.h"
#include "cli/progress.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>

struct run {
	sd_event *event;
	struct upd_job *job;
	struct progress progress;
	int exit_code;
	bool done;
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

static void on_done(struct upd_job *j, const struct upd_result *res, void *ud)
{
	struct run *r = ud;

	progress_result(&r->progress, res);
	r->exit_code = exit_code_for(res->fail);
	r->done = true;
	sd_event_exit(r->event, 0);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct run *r = ud;

	upd_job_cancel(r->job);
	return 0;
}

int run_update(const char *image_path, enum upd_step stop_after)
{
	static const struct upd_callbacks cbs = {
		.step = on_step, .progress = on_progress, .note = on_note, .done = on_done,
	};
	struct run r = { .exit_code = EXIT_FAILURE_GENERIC };
	struct upd_params p = arg.params;
	sigset_t mask;
	int e;

	p.stop_after = stop_after;
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
	if (e < 0) {
		log_error_errno(e, "cannot create the job: %m");
		sd_event_unref(r.event);
		return EXIT_FAILURE_GENERIC;
	}
	upd_job_start(r.job);
	if (!r.done)
		sd_event_loop(r.event);
	upd_job_free(r.job);
	sd_event_unref(r.event);
	return r.exit_code;
}

int cmd_update(int argc, char **argv)
{
	if (argc != 2) {
		log_error("usage: otactl update FILE");
		return EXIT_USAGE;
	}
	return run_update(argv[1], UPD_STEP_DONE);
}
