/* follow.c — `otactl upload` / `watch`: a job of otad followed through PropertiesChanged and
 * shown by progress.c exactly as an in-process update. */
#include "cli/commands.h"
#include "cli/daemon-client.h"
#include "cli/exit-codes.h"
#include "cli/progress.h"
#include "otad/bus-api.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

struct job_view {
	sd_bus *bus;
	sd_event *event;
	const char *path;
	struct progress progress;
	struct upd_status st;
	char state[16], step[16], failure[16], message[512];
	bool cancel_on_interrupt, interrupted, seen_step, done;
	unsigned last_attempt;
	int exit_code;
};

static enum upd_step step_from_name(const char *s)
{
	for (unsigned i = 0; i < _UPD_STEP_MAX; i++)
		if (strcmp(s, upd_step_name((enum upd_step)i)) == 0)
			return (enum upd_step)i;
	return UPD_STEP_IMAGE; /* "fetch": before the image step */
}

static enum upd_fail fail_from_name(const char *s)
{
	for (unsigned i = 0; i < _UPD_FAIL_MAX; i++)
		if (strcmp(s, upd_fail_name((enum upd_fail)i)) == 0)
			return (enum upd_fail)i;
	return s[0] ? UPD_FAIL_CONFIG : UPD_FAIL_NONE;
}

static int read_str(sd_bus_message *m, char *buf, size_t size)
{
	const char *s;
	int r = sd_bus_message_read(m, "v", "s", &s);

	if (r >= 0)
		snprintf(buf, size, "%s", s);
	return r;
}

/* One entry of Job1's properties into v; *what gets 's' for a step change, 'p' for progress. */
static int read_prop(sd_bus_message *m, const char *key, struct job_view *v, char *what)
{
	uint64_t t;
	uint32_t u;
	int r;

	if (strcmp(key, "Step") == 0) {
		r = read_str(m, v->step, sizeof(v->step));
		*what = 's';
	} else if (strcmp(key, "State") == 0) {
		r = read_str(m, v->state, sizeof(v->state));
	} else if (strcmp(key, "Failure") == 0) {
		r = read_str(m, v->failure, sizeof(v->failure));
	} else if (strcmp(key, "Message") == 0) {
		r = read_str(m, v->message, sizeof(v->message));
	} else if (strcmp(key, "Offset") == 0 || strcmp(key, "Total") == 0 ||
		   strcmp(key, "BytesSent") == 0) {
		r = sd_bus_message_read(m, "v", "t", &t);
		if (key[0] == 'O') {
			v->st.off = (size_t)t;
			if (!*what)
				*what = 'p';
		} else if (key[0] == 'T') {
			v->st.total = (size_t)t;
		} else {
			v->st.bytes_sent = t;
		}
	} else if (strcmp(key, "Wait") == 0) {
		char w[16] = "";

		r = read_str(m, w, sizeof(w));
		v->st.wait = strcmp(w, "erase") == 0  ? UPD_WAIT_ERASE
			     : strcmp(w, "boot") == 0 ? UPD_WAIT_BOOT
						      : UPD_WAIT_NONE;
		if (!*what)
			*what = 'w';
	} else if (strcmp(key, "WaitElapsed") == 0) {
		r = sd_bus_message_read(m, "v", "t", &v->st.wait_usec);
	} else if (strcmp(key, "WaitLimit") == 0) {
		r = sd_bus_message_read(m, "v", "t", &v->st.wait_limit_usec);
	} else if (strcmp(key, "Rate") == 0) {
		r = sd_bus_message_read(m, "v", "d", &v->st.rate);
	} else if (strcmp(key, "Window") == 0 || strcmp(key, "Attempt") == 0) {
		r = sd_bus_message_read(m, "v", "u", &u);
		if (key[0] == 'W')
			v->st.window = u;
		else
			v->st.attempt = u;
	} else {
		r = sd_bus_message_skip(m, "v");
	}
	return r;
}

static int read_props(sd_bus_message *m, struct job_view *v, char *what)
{
	const char *key;
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");

	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = sd_bus_message_read(m, "s", &key);
		if (r >= 0)
			r = read_prop(m, key, v, what);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

static void finish(struct job_view *v)
{
	struct upd_result res = {.fail = fail_from_name(v->failure)};

	if (v->done)
		return;
	v->done = true;
	res.step = step_from_name(v->step);
	res.attempts = v->st.attempt;
	snprintf(res.message, sizeof(res.message), "%s", v->message);
	if (strcmp(v->state, "cancelled") == 0)
		res.fail = UPD_FAIL_CANCELLED;
	progress_result(&v->progress, &res);
	v->exit_code = exit_code_for(res.fail);
	sd_event_exit(v->event, 0);
}

static void render(struct job_view *v, char what)
{
	enum upd_step step = step_from_name(v->step);

	/* signals queued before GetAll's answer are older than what it said */
	if (what == 's' && v->seen_step && step < v->st.step && v->st.attempt <= v->last_attempt)
		what = 0;
	v->seen_step = v->seen_step || what == 's';
	v->last_attempt = v->st.attempt;
	if (what == 's' && strcmp(v->step, "done") != 0) {
		v->st.step = step_from_name(v->step);
		if (strcmp(v->step, "fetch") == 0)
			fprintf(v->progress.f, "fetch\n");
		else
			progress_step(&v->progress, v->st.step, &v->st);
	} else if ((what == 'p' && strcmp(v->step, "upload") == 0) ||
		   (what == 'w' && v->st.wait != UPD_WAIT_NONE)) {
		/* the upload, or a wait (the erase, the boot) with its limit */
		progress_update(&v->progress, &v->st);
	}
	if (strcmp(v->state, "succeeded") == 0 || strcmp(v->state, "failed") == 0 ||
	    strcmp(v->state, "cancelled") == 0)
		finish(v);
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct job_view *v = userdata;
	const char *iface;
	char what = 0;

	if (!v->path || strcmp(sd_bus_message_get_path(m), v->path) != 0 ||
	    sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, OTAD_JOB_IFACE) != 0)
		return 0;
	if (read_props(m, v, &what) >= 0)
		render(v, what);
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct job_view *v = userdata;
	sd_bus_error e = SD_BUS_ERROR_NULL;

	if (!v->cancel_on_interrupt || v->interrupted) {
		fprintf(stderr, "otactl: no longer following %s; the job goes on in otad\n",
			v->path);
		v->exit_code = EXIT_CANCELLED;
		return sd_event_exit(v->event, 0);
	}
	v->interrupted = true;
	if (sd_bus_call_method(v->bus, OTAD_BUS_NAME, v->path, OTAD_JOB_IFACE, "Cancel", &e, NULL,
			       "") < 0)
		log_error("cannot cancel %s: %s", v->path, e.message ? e.message : "?");
	sd_bus_error_free(&e);
	return 0;
}

static int initial_state(struct job_view *v)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	char what = 's';
	int r = sd_bus_call_method(v->bus, OTAD_BUS_NAME, v->path,
				   "org.freedesktop.DBus.Properties", "GetAll", &e, &reply, "s",
				   OTAD_JOB_IFACE);

	if (r < 0) {
		if (sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
			log_error("no job %s", v->path + strlen(OTAD_JOB_PATH_PREFIX "/"));
			r = EXIT_USAGE;
		} else {
			r = client_call_failed(v->path, &e, r);
		}
		sd_bus_error_free(&e);
		return r;
	}
	r = read_props(reply, v, &what);
	sd_bus_message_unref(reply);
	if (r < 0)
		return log_error_errno(r, "malformed answer from otad: %m"), EXIT_PROTOCOL;
	render(v, what);
	return 0;
}

struct follower {
	struct job_view v;
	sd_bus_slot *match;
};

int follower_new(sd_bus *bus, bool cancel_on_interrupt, struct follower **ret)
{
	struct follower *f = calloc(1, sizeof(*f));
	sigset_t mask;
	int r;

	if (!f)
		return -ENOMEM;
	f->v = (struct job_view){.bus = bus,
				 .exit_code = EXIT_FAILURE_GENERIC,
				 .cancel_on_interrupt = cancel_on_interrupt};
	progress_init(&f->v.progress, stdout, arg.json, arg.verbosity);
	r = sd_event_default(&f->v.event);
	if (r < 0) {
		free(f);
		return r;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sd_event_add_signal(f->v.event, NULL, SIGINT, on_signal, &f->v);
	sd_event_add_signal(f->v.event, NULL, SIGTERM, on_signal, &f->v);
	/* every job's changes, filtered by path in on_changed: subscribed before the job exists,
	 * nothing it says can be missed */
	r = sd_bus_add_match(
		bus, &f->match,
		"type='signal',sender='" OTAD_BUS_NAME "',"
		"interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
		"path_namespace='" OTAD_JOB_PATH_PREFIX "'",
		on_changed, &f->v);
	if (r < 0) {
		follower_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

struct follower *follower_free(struct follower *f)
{
	if (!f)
		return NULL;
	sd_bus_slot_unref(f->match);
	sd_event_unref(f->v.event);
	free(f);
	return NULL;
}

int follower_run(struct follower *f, const char *path, bool read_first)
{
	struct job_view *v = &f->v;
	int r;

	v->path = path;
	r = sd_bus_attach_event(v->bus, v->event, 0);
	if (r < 0)
		return log_error_errno(r, "cannot follow %s: %m", path), EXIT_FAILURE_GENERIC;
	r = read_first ? initial_state(v) : 0;
	if (r == 0 && !v->done)
		sd_event_loop(v->event);
	if (r > 0)
		v->exit_code = r;
	sd_bus_detach_event(v->bus);
	return v->exit_code;
}

int client_follow_job(sd_bus *bus, const char *path, bool cancel_on_interrupt)
{
	struct follower *f = NULL;
	int r = follower_new(bus, cancel_on_interrupt, &f);

	if (r < 0)
		return log_error_errno(r, "cannot follow %s: %m", path), EXIT_FAILURE_GENERIC;
	r = follower_run(f, path, true);
	follower_free(f);
	return r;
}
