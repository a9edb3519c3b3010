/* job.c — an update job's lifecycle: image, transport, SMP client, the one request in flight
 * (with resend on timeout and after a link loss), link events, the waits it reports, and
 * completion. The steps of the verified update itself are in query.c, flow.c and boot.c. */
#include "update/job-internal.h"
#include "util/macro.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const step_names[_UPD_STEP_MAX] = {
	[UPD_STEP_IMAGE] = "image",   [UPD_STEP_CONNECT] = "connect", [UPD_STEP_QUERY] = "query",
	[UPD_STEP_UPLOAD] = "upload", [UPD_STEP_VERIFY] = "verify",   [UPD_STEP_TEST] = "test",
	[UPD_STEP_RESET] = "reset",   [UPD_STEP_BOOT] = "boot",       [UPD_STEP_CONFIRM] = "confirm",
	[UPD_STEP_DONE] = "done",
};

static const char *const fail_names[_UPD_FAIL_MAX] = {
	[UPD_FAIL_NONE] = "none",         [UPD_FAIL_IMAGE] = "image",
	[UPD_FAIL_LINK] = "link",         [UPD_FAIL_TIMEOUT] = "timeout",
	[UPD_FAIL_DEVICE] = "device",     [UPD_FAIL_PROTOCOL] = "protocol",
	[UPD_FAIL_VERIFY] = "verify",     [UPD_FAIL_REFUSED] = "refused",
	[UPD_FAIL_CANCELLED] = "cancelled", [UPD_FAIL_CONFIG] = "config",
	[UPD_FAIL_SECURITY] = "security",
};

const char *upd_step_name(enum upd_step s)
{
	return (unsigned)s < _UPD_STEP_MAX ? step_names[s] : "?";
}

const char *upd_fail_name(enum upd_fail f)
{
	return (unsigned)f < _UPD_FAIL_MAX ? fail_names[f] : "?";
}

void upd_params_init(struct upd_params *p)
{
	*p = (struct upd_params){
		.pace = { .rate = 0, .window = UPD_WINDOW_AUTO, .auto_rate = true },
		.mode = UPD_MODE_TEST,
		.retries = 2,
		.rsp_timeout_usec = 5 * USEC_PER_SEC,
		.max_timeouts = 8,
		.stop_after = UPD_STEP_DONE,
	};
}

uint64_t job_now(struct upd_job *j)
{
	uint64_t t = 0;

	sd_event_now(j->event, CLOCK_MONOTONIC, &t);
	return t;
}

void job_note(struct upd_job *j, int level, const char *fmt, ...)
{
	char text[384];
	va_list ap;

	if (!j->cb.note)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	j->cb.note(j, level, text, j->user_data);
}

void job_enter(struct upd_job *j, enum upd_step step)
{
	j->step = step;
	j->st.step = step;
	if (j->cb.step)
		j->cb.step(j, step, &j->st, j->user_data);
}

static int on_defer_done(sd_event_source *s, void *userdata)
{
	struct upd_job *j = userdata;

	if (j->cb.done)
		j->cb.done(j, &j->res, j->user_data); /* may free j */
	return 0;
}

_printf_(4, 0) static void finish(struct upd_job *j, int err, enum upd_fail fail, const char *fmt,
				   va_list ap)
{
	if (j->finished)
		return;
	j->finished = true;
	j->res.err = err;
	j->res.fail = fail;
	j->res.step = j->step;
	j->res.attempts = j->st.attempt;
	if (!j->res.upload_usec)
		j->res.pace = j->pace;
	vsnprintf(j->res.message, sizeof(j->res.message), fmt, ap);
	if (j->req.id)
		smp_client_cancel(j->smp, j->req.id);
	if (j->timer)
		sd_event_source_set_enabled(j->timer, SD_EVENT_OFF);
	if (j->tick)
		sd_event_source_set_enabled(j->tick, SD_EVENT_OFF);
	if (j->up)
		uploader_cancel(j->up);
	/* Report from the loop, never from inside a transport or client callback. */
	if (sd_event_add_defer(j->event, &j->defer, on_defer_done, j) < 0 && j->cb.done)
		j->cb.done(j, &j->res, j->user_data);
}

void job_fail(struct upd_job *j, int err, enum upd_fail fail, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	finish(j, err < 0 ? err : -EIO, fail, fmt, ap);
	va_end(ap);
}

void job_succeed(struct upd_job *j, const char *fmt, ...)
{
	va_list ap;

	job_enter(j, UPD_STEP_DONE);
	va_start(ap, fmt);
	finish(j, 0, UPD_FAIL_NONE, fmt, ap);
	va_end(ap);
}

static void send_req(struct upd_job *j);

static void on_req_rsp(int err, const struct smp_rsp *rsp, void *user_data)
{
	struct upd_job *j = user_data;

	j->req.id = 0;
	if (j->finished || err == -ECANCELED)
		return;
	if ((err == -ETIMEDOUT || err == -ENOTCONN) && j->req.tries_left > 0) {
		j->req.tries_left--;
		if (err == -ENOTCONN || !j->link_up)
			j->req.waiting_link = true; /* resent by the link-up handler */
		else
			send_req(j);
		return;
	}
	j->req.handler(j, err, rsp);
}

static void send_req(struct upd_job *j)
{
	int err = 0;

	j->req.waiting_link = false;
	j->req.id = smp_client_request(j->smp, j->req.op, j->req.group, j->req.cmd, j->req.body,
				       j->req.len, j->req.timeout_usec, on_req_rsp, j, NULL, &err);
	if (!j->req.id) {
		if (err == -ENOTCONN) {
			j->req.waiting_link = true;
			return;
		}
		j->req.handler(j, err, NULL);
	}
}

int job_request(struct upd_job *j, enum smp_op op, uint16_t group, uint8_t cmd,
		const uint8_t *body, size_t len, uint64_t timeout_usec, unsigned tries,
		job_rsp_fn handler)
{
	if (len > sizeof(j->req.body))
		return -ENOBUFS;
	j->req = (struct job_req){ .op = op, .group = group, .cmd = cmd, .len = len,
				   .timeout_usec = timeout_usec, .tries_left = tries ? tries - 1 : 0,
				   .handler = handler };
	memcpy(j->req.body, body, len);
	send_req(j);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct upd_job *j = userdata;

	if (!j->finished && j->timer_cb)
		j->timer_cb(j);
	return 0;
}

int job_after(struct upd_job *j, uint64_t delay_usec, void (*fn)(struct upd_job *j))
{
	uint64_t when = job_now(j) + delay_usec;

	j->timer_cb = fn;
	if (!j->timer)
		return sd_event_add_time(j->event, &j->timer, CLOCK_MONOTONIC, when, 1000, on_timer,
					 j);
	sd_event_source_set_time(j->timer, when);
	return sd_event_source_set_enabled(j->timer, SD_EVENT_ONESHOT);
}

/* ---- waits: reported once a second, so that a silent device does not look stuck ---------- */

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct upd_job *j = userdata;
	uint64_t now = job_now(j);

	if (j->finished || j->st.wait == UPD_WAIT_NONE)
		return 0;
	j->st.wait_usec = now > j->wait_start ? now - j->wait_start : 0;
	sd_event_source_set_time(s, usec + USEC_PER_SEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	if (j->cb.progress)
		j->cb.progress(j, &j->st, j->user_data);
	return 0;
}

void job_wait_begin(struct upd_job *j, enum upd_wait what, uint64_t start, uint64_t limit)
{
	uint64_t now = job_now(j);

	j->wait_start = start;
	j->st.wait = what;
	j->st.wait_usec = now > start ? now - start : 0;
	j->st.wait_limit_usec = limit;
	if (!j->tick) {
		if (sd_event_add_time(j->event, &j->tick, CLOCK_MONOTONIC, now + USEC_PER_SEC,
				      USEC_PER_MSEC, on_tick, j) < 0)
			return; /* no reports: the wait itself goes on */
	} else {
		sd_event_source_set_time(j->tick, now + USEC_PER_SEC);
	}
	sd_event_source_set_enabled(j->tick, SD_EVENT_ONESHOT);
}

void job_wait_end(struct upd_job *j)
{
	if (j->st.wait == UPD_WAIT_NONE)
		return;
	j->st.wait = UPD_WAIT_NONE;
	j->st.wait_usec = j->st.wait_limit_usec = 0;
	if (j->tick)
		sd_event_source_set_enabled(j->tick, SD_EVENT_OFF);
}

static void on_link_event(enum tr_event ev, int err, void *user_data)
{
	struct upd_job *j = user_data;

	if (j->finished)
		return;
	if (ev == TR_EVENT_DOWN) {
		bool was_up = j->link_up;

		j->link_up = false;
		if (j->up)
			uploader_link_down(j->up);
		/* BLE: a failed pairing, a lost bond (transport.h): the device is there and
		 * refuses us, in the boot step too */
		bool sec = err == -EACCES || err == -EKEYREJECTED;

		/* The link never came up, or bringing it back gave up (the transport's last
		 * discard text says why): nothing will. Waiting for a rebooting device is the
		 * boot step's business, bounded by its own deadline. */
		if (!was_up && (sec || (j->step != UPD_STEP_RESET && j->step != UPD_STEP_BOOT))) {
			job_fail(j, err, sec ? UPD_FAIL_SECURITY : UPD_FAIL_LINK, "cannot reach %s: %s",
				 tr_describe(j->tr),
				 j->last_stray[0] ? j->last_stray : strerror(err < 0 ? -err : EIO));
			return;
		}
		if (was_up && j->step != UPD_STEP_RESET && j->step != UPD_STEP_BOOT)
			job_note(j, 4, "link to %s lost (%s); reconnecting", tr_describe(j->tr),
				 strerror(err < 0 ? -err : EIO));
		if (was_up) /* what the transport says from now on is about getting it back */
			j->last_stray[0] = 0;
		/* Get it back the way this transport's device comes back (reopen, rescan). */
		if (tr_reconnect(j->tr) < 0)
			job_fail(j, err, UPD_FAIL_LINK, "link to %s lost and cannot be reopened",
				 tr_describe(j->tr));
		return;
	}
	j->link_up = true;
	if (j->step == UPD_STEP_CONNECT) {
		flow_query(j);
		return;
	}
	if (j->req.waiting_link)
		send_req(j);
	if (j->step == UPD_STEP_BOOT)
		return; /* boot polling keeps its own rhythm */
	if (j->up)
		uploader_link_up(j->up);
	flow_link_up(j);
}

static void on_writable(void *user_data)
{
	struct upd_job *j = user_data;

	if (j->up)
		uploader_writable(j->up);
}

static void on_stray(const char *why, void *user_data)
{
	struct upd_job *j = user_data;

	snprintf(j->last_stray, sizeof(j->last_stray), "%s", why);
	job_note(j, 7, "ignored from the device: %s", why);
	/* First contact refused and nothing ever heard: nothing listens there, and waiting out
	 * the query's timeouts would not change that. Later steps have heard the device, so a
	 * refusal while it reboots is waited for by the boot step. */
	if (j->step == UPD_STEP_QUERY && !j->finished && tr_peer_refused(j->tr))
		job_fail(j, -ECONNREFUSED, UPD_FAIL_LINK,
			 "%s: nothing listens (ICMP port unreachable)", tr_describe(j->tr));
}

static const struct smp_client_ops client_ops = {
	.event = on_link_event,
	.writable = on_writable,
	.stray = on_stray,
};

int upd_job_new(sd_event *e, const char *spec, const char *image_path,
		const struct upd_params *p, const struct upd_callbacks *cb, void *user_data,
		struct upd_job **ret)
{
	struct upd_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->spec = strdup(spec);
	j->image_path = strdup(image_path);
	if (!j->spec || !j->image_path) {
		free(j->spec);
		free(j->image_path);
		free(j);
		return -ENOMEM;
	}
	j->event = sd_event_ref(e);
	j->p = *p;
	if (!j->p.rsp_timeout_usec)
		j->p.rsp_timeout_usec = 5 * USEC_PER_SEC;
	if (!j->p.stop_after)
		j->p.stop_after = UPD_STEP_DONE;
	if (cb)
		j->cb = *cb;
	j->user_data = user_data;
	j->pace = p->pace;
	j->res.memory = p->memory; /* unchanged unless the job learns something */
	j->ver = SMP_VER_2;
	j->st.attempt = 1;
	*ret = j;
	return 0;
}

static int open_link(struct upd_job *j)
{
	int r;

	job_enter(j, UPD_STEP_CONNECT);
	r = tr_open(j->event, j->spec, &j->p.tr, &j->tr);
	if (r < 0) {
		char why[512];

		job_fail(j, r, r == -EINVAL ? UPD_FAIL_CONFIG : UPD_FAIL_LINK, "%s",
			 tr_open_error(j->spec, &j->p.tr, r, why, sizeof(why)));
		return r;
	}
	r = smp_client_new(j->event, j->tr, &client_ops, j, &j->smp);
	if (r < 0) {
		job_fail(j, r, UPD_FAIL_LINK, "cannot set up SMP on %s: %s", j->spec, strerror(-r));
		return r;
	}
	return 0; /* TR_EVENT_UP starts the query */
}

/* Takes the image to update from the file: the only one of a .bin, .hex or single-image zip, or
 * image p.image of a multi-image zip. A zip's manifest says which image number it is. */
static int take_image(struct upd_job *j, struct img_file *f)
{
	struct img_file_entry *e = img_file_select(f, j->p.image);
	char have[64] = "";
	size_t n = 0;

	if (!e) {
		for (size_t i = 0; i < f->n && n < sizeof(have); i++)
			n += (size_t)snprintf(have + n, sizeof(have) - n, "%s%u", i ? ", " : "",
					      f->entries[i].image);
		job_fail(j, -ENOENT, UPD_FAIL_CONFIG, "%s holds images %s, not image %u",
			 j->image_path, have, j->p.image);
		return -ENOENT;
	}
	if (f->numbered) {
		if (e->image != j->p.image || f->n > 1)
			job_note(j, 6, "%s: image %u is %s", j->image_path, e->image, e->name);
		j->p.image = e->image;
	}
	j->img = e->img;
	e->img = NULL;
	return 0;
}

void upd_job_set_file(struct upd_job *j, struct img_file *f)
{
	j->file = f;
}

void upd_job_resume_boot(struct upd_job *j, const struct upd_boot_resume *r)
{
	j->resume = true;
	j->resume_info = *r;
}

int upd_job_start(struct upd_job *j)
{
	struct img_diag diag = { 0 };
	struct img_file *f = j->file, *loaded = NULL;
	char why[IMG_DIAG_MAX];
	int r;

	job_enter(j, UPD_STEP_IMAGE);
	j->file = NULL;
	if (!f) {
		r = img_load_any(j->image_path, j->p.key_pem, j->p.key_pem_len, &loaded, &diag);
		if (r == -EBADMSG) {
			job_fail(j, r, UPD_FAIL_IMAGE, "%s: %s", j->image_path,
				 img_diag_format(&diag, why, sizeof(why)));
			return 0;
		}
		if (r < 0) {
			job_fail(j, r, UPD_FAIL_IMAGE, "%s: %s", j->image_path, strerror(-r));
			return 0;
		}
		f = loaded;
	}
	r = take_image(j, f);
	img_file_free(loaded);
	if (r < 0)
		return 0;
	j->st.total = j->img->len;
	memcpy(j->st.image_hash, j->img->info.hash, sizeof(j->st.image_hash));
	if (j->resume && j->resume_info.attempt)
		j->st.attempt = j->resume_info.attempt;
	if (open_link(j) >= 0 && j->resume)
		flow_resume_boot(j); /* the device may be swapping: the link comes when it does */
	return 0;
}

void upd_job_cancel(struct upd_job *j)
{
	if (j->finished || j->cancelled)
		return;
	j->cancelled = true;
	/* A state write already sent is seen through; flow.c stops after its answer. */
	if (j->req.id && (j->step == UPD_STEP_TEST || j->step == UPD_STEP_CONFIRM))
		return;
	job_fail(j, -ECANCELED, UPD_FAIL_CANCELLED, "cancelled during %s", upd_step_name(j->step));
}

const struct upd_status *upd_job_status(const struct upd_job *j)
{
	return &j->st;
}

struct tr *upd_job_take_transport(struct upd_job *j)
{
	j->up = uploader_free(j->up);	  /* it holds requests of the client */
	j->smp = smp_client_free(j->smp); /* it lets go of the transport's callbacks */
	return TAKE_PTR(j->tr);
}

struct upd_job *upd_job_free(struct upd_job *j)
{
	if (!j)
		return NULL;
	j->finished = true;
	uploader_free(j->up);
	smp_client_free(j->smp);
	tr_free(j->tr);
	img_free(j->img);
	sd_event_source_disable_unref(j->timer);
	sd_event_source_disable_unref(j->tick);
	sd_event_source_disable_unref(j->defer);
	sd_event_unref(j->event);
	free(j->spec);
	free(j->image_path);
	free(j);
	return NULL;
}
