/* uploader.c — paced, pipelined SMP image upload driven by the device's "off" answers.
 *
 * Each request is tagged with an epoch. A rewind (the device expects an offset other than the one
 * we are at) or a restart starts a new epoch: answers to requests of older epochs still advance the
 * confirmed offset, but never trigger a second rewind. Requests are never forgotten while they may
 * sit in the device: the window counts them until they are answered or time out.
 *
 * With a window above one, the chunks after the first go out before the first is answered, so the
 * device is not idle for a round trip at the start. Until the first chunk's own answer says the
 * device took our upload, their answers may describe another upload the device had open: they
 * count only once the first chunk's answer opened the upload, in the same epoch. */
#include "update/uploader.h"
#include "util/macro.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RATE_SAMPLES   32
#define BUSY_PAUSE_USEC (200 * USEC_PER_MSEC)
#define MAX_BUSY       20

struct inflight {
	struct uploader *u;
	unsigned int id; /* 0: slot free */
	size_t off, len;
	unsigned epoch;
	bool speculative; /* sent before the first chunk's answer opened the upload */
};

struct uploader {
	sd_event *event;
	struct smp_client *smp;
	const struct img *img;
	struct uploader_config cfg;
	struct uploader_ops ops;
	void *user_data;
	struct pacer pacer;
	uint8_t *pkt;
	size_t next_off;
	unsigned epoch;
	unsigned restart_epoch; /* answers from before the device lost our upload mean nothing */
	bool opened;  /* the device took our first chunk: the upload is open there */
	bool link_up, running, finished;
	unsigned consecutive_timeouts, busy_count, zero_answers;
	struct inflight slots[UPD_WINDOW_MAX];
	sd_event_source *timer;
	struct uploader_stats st;
	struct {
		uint64_t t;
		size_t off;
	} samples[RATE_SAMPLES];
	unsigned n_samples, sample_head;
};

static uint64_t now_usec(struct uploader *u)
{
	uint64_t t = 0;

	sd_event_now(u->event, CLOCK_MONOTONIC, &t);
	return t;
}

static void note(struct uploader *u, int level, const char *fmt, ...) _printf_(3, 4);
static void note(struct uploader *u, int level, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (!u->ops.note)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	u->ops.note(level, text, u->user_data);
}

static void cancel_in_flight(struct uploader *u)
{
	for (unsigned i = 0; i < UPD_WINDOW_MAX; i++)
		if (u->slots[i].id)
			smp_client_cancel(u->smp, u->slots[i].id);
}

static void finish(struct uploader *u, int err, enum upd_fail fail, const char *fmt, ...)
	_printf_(4, 5);
static void finish(struct uploader *u, int err, enum upd_fail fail, const char *fmt, ...)
{
	char text[384] = "";
	va_list ap;

	if (u->finished)
		return;
	u->finished = true;
	u->running = false;
	u->st.end_usec = now_usec(u);
	sd_event_source_set_enabled(u->timer, SD_EVENT_OFF);
	cancel_in_flight(u);
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
	}
	if (u->ops.done)
		u->ops.done(err, fail, text, u->user_data);
}

static void pace_stats(struct uploader *u)
{
	unsigned window = pacer_window(&u->pacer);

	if (u->st.window && window != u->st.window)
		note(u, 7, "pace: window %u (was %u) at %zu bytes confirmed", window, u->st.window,
		     u->st.acked_off);
	u->st.window = window;
	u->st.peak_window = u->pacer.peak_window;
	u->st.rate_limit = pacer_rate(&u->pacer);
	u->st.backoffs = u->pacer.backoffs;
}

static void record_progress(struct uploader *u, size_t off)
{
	uint64_t now = now_usec(u);
	unsigned oldest;

	u->st.acked_off = off;
	pace_stats(u);
	u->samples[u->sample_head] = (typeof(u->samples[0])){ .t = now, .off = off };
	u->sample_head = (u->sample_head + 1) % RATE_SAMPLES;
	if (u->n_samples < RATE_SAMPLES)
		u->n_samples++;
	oldest = (u->sample_head + RATE_SAMPLES - u->n_samples) % RATE_SAMPLES;
	if (now > u->samples[oldest].t && off >= u->samples[oldest].off)
		u->st.rate = (double)(off - u->samples[oldest].off) * USEC_PER_SEC /
			     (double)(now - u->samples[oldest].t);
	if (u->ops.progress)
		u->ops.progress(u->user_data);
}

/* A new epoch starting at off: answers to earlier requests no longer steer the upload. */
static void restart_at(struct uploader *u, size_t off)
{
	u->epoch++;
	u->next_off = off;
}

static int arm_timer(struct uploader *u, uint64_t delay);
static void pump(struct uploader *u);

static void on_rsp(int err, const struct smp_rsp *rsp, void *user_data);

static struct inflight *free_slot(struct uploader *u)
{
	for (unsigned i = 0; i < UPD_WINDOW_MAX; i++)
		if (!u->slots[i].id)
			return &u->slots[i];
	return NULL;
}

/* Builds and sends the request at next_off. Returns 0, or -EAGAIN when it must wait. */
static int send_chunk(struct uploader *u)
{
	const struct img *img = u->img;
	struct smp_upload_req req = { .off = (uint32_t)u->next_off };
	struct inflight *slot = free_slot(u);
	size_t max_data, data_len;
	uint64_t timeout = u->cfg.rsp_timeout_usec;
	unsigned int id;
	int n, err = 0;

	if (!slot)
		return -EAGAIN;
	if (!u->opened)
		timeout += u->cfg.erase_timeout_usec; /* it waits behind the first chunk's erase */
	if (u->next_off == 0) {
		req.has_first = true;
		req.image = u->cfg.image;
		req.len = (uint32_t)img->len;
		memcpy(req.sha, img->file_sha, 32);
		req.sha_len = 32;
		req.has_upgrade = u->cfg.upgrade_only;
		req.upgrade = u->cfg.upgrade_only;
	}
	max_data = smp_upload_req_max_data(&req, u->cfg.body_max);
	if (u->cfg.chunk_max)
		max_data = MIN(max_data, u->cfg.chunk_max);
	if (max_data == 0) {
		finish(u, -EMSGSIZE, UPD_FAIL_CONFIG,
		       "an upload request does not fit the device's %zu-byte buffer",
		       u->cfg.body_max);
		return -EMSGSIZE;
	}
	data_len = MIN(max_data, img->len - u->next_off);
	req.data = img->data + u->next_off;
	req.data_len = data_len;
	n = smp_upload_req_encode(u->pkt + SMP_HDR_SIZE, u->cfg.body_max, &req);
	if (n < 0) {
		finish(u, n, UPD_FAIL_CONFIG, "cannot encode an upload request at off=%zu",
		       u->next_off);
		return n;
	}
	*slot = (struct inflight){ .u = u, .off = u->next_off, .len = data_len, .epoch = u->epoch,
				   .speculative = !u->opened && u->next_off > 0 };
	id = smp_client_send(u->smp, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, u->pkt,
			     (size_t)n, timeout, on_rsp, slot, NULL, &err);
	if (!id) {
		slot->u = NULL;
		if (err == -ENOTCONN || err == -EBUSY)
			return -EAGAIN; /* link down (event follows) / all sequence numbers busy */
		finish(u, err, UPD_FAIL_LINK, "sending the chunk at off=%zu failed: %s",
		       u->next_off, strerror(-err));
		return err;
	}
	slot->id = id;
	u->st.in_flight++;
	u->st.bytes_sent += data_len;
	u->st.chunk = MAX(u->st.chunk, data_len);
	u->next_off += data_len;
	pacer_sent(&u->pacer, data_len, now_usec(u));
	return 0;
}

static void pump(struct uploader *u)
{
	while (u->running && u->link_up && !u->finished) {
		/* Before the first answer: the whole window only on the first try (epoch 0); a
		 * resend of the first chunk goes alone, as the device may resume elsewhere. */
		unsigned limit = u->opened || u->epoch == 0 ? pacer_window(&u->pacer) : 1;
		uint64_t delay;

		if (u->st.in_flight >= limit || u->next_off >= u->img->len)
			return;
		if (tr_backlog(smp_client_transport(u->smp)) > 0)
			return; /* writable() resumes */
		delay = pacer_delay(&u->pacer, now_usec(u));
		if (delay) {
			arm_timer(u, delay);
			return;
		}
		if (send_chunk(u) < 0)
			return;
	}
}

static int on_timer(sd_event_source *s, uint64_t usec, void *user_data)
{
	pump(user_data);
	return 0;
}

static int arm_timer(struct uploader *u, uint64_t delay)
{
	uint64_t when = now_usec(u) + delay;

	if (!u->timer)
		return sd_event_add_time(u->event, &u->timer, CLOCK_MONOTONIC, when, 1, on_timer, u);
	sd_event_source_set_time(u->timer, when);
	return sd_event_source_set_enabled(u->timer, SD_EVENT_ONESHOT);
}

static void handle_timeout(struct uploader *u, const struct inflight *s)
{
	u->st.timeouts++;
	if (s->epoch == u->epoch)
		pacer_on_congestion(&u->pacer, u->st.rate);
	if (++u->consecutive_timeouts > u->cfg.max_timeouts) {
		finish(u, -ETIMEDOUT, UPD_FAIL_TIMEOUT,
		       "device stopped answering: %u upload requests in a row got no answer "
		       "(confirmed offset %zu of %zu)",
		       u->consecutive_timeouts, u->st.acked_off, u->img->len);
		return;
	}
	if (s->epoch != u->epoch)
		return;
	note(u, 5, "no answer to the chunk at off=%zu; resending from off=%zu", s->off,
	     u->opened ? u->st.acked_off : 0);
	restart_at(u, u->opened ? u->st.acked_off : 0);
}

static bool is_transient(const struct smp_err *e)
{
	if (e->v2)
		return e->group == SMP_GROUP_IMAGE && e->rc == IMG_MGMT_ERR_NO_FREE_MEMORY;
	return e->rc == MGMT_ERR_EBUSY || e->rc == MGMT_ERR_ENOMEM;
}

/* The device answered a chunk with an error. Busy / out of memory: pause and resend. */
static void handle_device_error(struct uploader *u, const struct inflight *s,
				const struct smp_err *e)
{
	char buf[128];

	if (is_transient(e) && ++u->busy_count <= MAX_BUSY) {
		if (s->epoch == u->epoch) {
			pacer_on_congestion(&u->pacer, u->st.rate);
			note(u, 5, "device busy at off=%zu (%s); pausing", s->off,
			     smp_err_format(e, buf, sizeof(buf)));
			restart_at(u, u->opened ? u->st.acked_off : 0);
			arm_timer(u, BUSY_PAUSE_USEC);
		}
		return;
	}
	finish(u, -EIO, UPD_FAIL_DEVICE, "device answered %s to the chunk at off=%zu",
	       smp_err_format(e, buf, sizeof(buf)), s->off);
}

/* off is the next offset the device expects after handling request s. */
static void handle_off(struct uploader *u, const struct inflight *s, size_t off,
		       const struct smp_upload_rsp *r)
{
	size_t end = s->off + s->len;

	if (off == 0 && s->off > 0 && u->opened) {
		if (s->epoch != u->epoch)
			return;
		/* Upload state lives in the device's RAM: it rebooted and forgot our upload. */
		u->st.restarts++;
		u->opened = false;
		note(u, 4, "device lost the upload at off=%zu (it rebooted?); starting again from 0",
		     s->off);
		restart_at(u, 0);
		u->restart_epoch = u->epoch;
		record_progress(u, 0);
		return;
	}
	if (s->epoch < u->restart_epoch)
		return;
	if (s->off == 0 && off > 0)
		u->opened = u->st.opened = true;
	if (off > u->st.acked_off) {
		u->zero_answers = 0;
		record_progress(u, off);
	}
	if (off == u->img->len) {
		u->st.has_match = r->has_match;
		u->st.match = r->match;
		finish(u, 0, UPD_FAIL_NONE, NULL);
		return;
	}
	if (off == end || s->epoch != u->epoch)
		return;
	if (off == 0 && ++u->zero_answers > 3) {
		finish(u, -EPROTO, UPD_FAIL_PROTOCOL,
		       "device keeps answering off=0 to the first chunk: it does not take the upload");
		return;
	}
	if (off < u->next_off) {
		u->st.rewinds++;
		note(u, 6, "device expects off=%zu, not %zu: rewinding", off, end);
	}
	restart_at(u, off); /* behind: rewind; ahead: the device resumed an earlier upload */
}

static void on_rsp(int err, const struct smp_rsp *rsp, void *user_data)
{
	struct inflight *slot = user_data;
	struct uploader *u = slot->u;
	struct inflight s = *slot;
	struct smp_upload_rsp r;
	const char *why = NULL;

	slot->id = 0;
	slot->u = NULL;
	u->st.in_flight--;
	if (u->finished || err == -ECANCELED || err == -ENOTCONN)
		return;
	if (s.speculative && (!u->opened || s.epoch != u->epoch)) {
		/* Sent behind a first chunk whose answer has not opened the upload (or that was
		 * sent again): the device may have taken it for another upload. The first chunk's
		 * own answer or timeout steers; a window of these timing out with it would also
		 * use up max_timeouts four at a time. Once the first chunk's answer opened the
		 * upload, the device, taking requests in order, answered these for ours. */
		u->st.timeouts += err == -ETIMEDOUT;
		pump(u);
		return;
	}
	if (err == -ETIMEDOUT)
		handle_timeout(u, &s);
	else if (err < 0)
		finish(u, err, UPD_FAIL_PROTOCOL,
		       "answer to the chunk at off=%zu does not match the request (op/group/id)",
		       s.off);
	else if (smp_upload_rsp_decode(rsp->body, rsp->body_len, &r, &why) < 0)
		finish(u, -EBADMSG, UPD_FAIL_PROTOCOL, "malformed answer to the chunk at off=%zu: %s",
		       s.off, why);
	else if (!smp_err_ok(&r.err))
		handle_device_error(u, &s, &r.err);
	else if (!r.has_off)
		finish(u, -EBADMSG, UPD_FAIL_PROTOCOL, "answer to the chunk at off=%zu has no 'off'",
		       s.off);
	else if (r.off > u->img->len)
		finish(u, -EBADMSG, UPD_FAIL_PROTOCOL,
		       "device expects off=%u, beyond the image's %zu bytes", r.off, u->img->len);
	else {
		u->consecutive_timeouts = 0;
		/* Round trips compare only between full-size data requests of the open upload. */
		/* Not those sent behind the first chunk: they waited for its erase. */
		if (s.off == 0 && r.off > 0 && !u->st.first_rtt_usec)
			u->st.first_rtt_usec = rsp->rtt_usec;
		pacer_on_ack(&u->pacer, rsp->rtt_usec,
			     s.off > 0 && s.len == u->st.chunk && s.epoch == u->epoch &&
				     !s.speculative,
			     s.epoch == u->epoch && r.off == s.off + s.len, u->st.rate);
		handle_off(u, &s, r.off, &r);
	}
	pace_stats(u);
	pump(u);
}

int uploader_new(sd_event *e, struct smp_client *c, const struct img *img,
		 const struct uploader_config *cfg, const struct uploader_ops *ops, void *user_data,
		 struct uploader **ret)
{
	struct uploader *u;

	if (!img->len || img->len > UINT32_MAX || cfg->body_max < 64)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->pkt = malloc(SMP_HDR_SIZE + cfg->body_max);
	if (!u->pkt) {
		free(u);
		return -ENOMEM;
	}
	u->event = sd_event_ref(e);
	u->smp = c;
	u->img = img;
	u->cfg = *cfg;
	if (!u->cfg.max_timeouts)
		u->cfg.max_timeouts = 8;
	if (ops)
		u->ops = *ops;
	u->user_data = user_data;
	u->st.total = img->len;
	u->link_up = true;
	*ret = u;
	return 0;
}

int uploader_start(struct uploader *u)
{
	uint64_t now = now_usec(u);
	struct pacer_config pc = u->cfg.pacer;

	pc.max_window = MIN(MAX(pc.max_window, 1u), UPD_WINDOW_MAX);
	pacer_init(&u->pacer, &pc, now);
	pace_stats(u);
	u->st.start_usec = now;
	u->running = true;
	record_progress(u, 0);
	pump(u);
	return 0;
}

void uploader_link_down(struct uploader *u)
{
	u->link_up = false;
}

void uploader_link_up(struct uploader *u)
{
	u->link_up = true;
	/* Re-send the first chunk with the same sha: the device answers where it is. */
	u->opened = false;
	restart_at(u, 0);
	pump(u);
}

void uploader_writable(struct uploader *u)
{
	pump(u);
}

void uploader_cancel(struct uploader *u)
{
	finish(u, -ECANCELED, UPD_FAIL_CANCELLED, "cancelled");
}

const struct uploader_stats *uploader_stats(const struct uploader *u)
{
	return &u->st;
}

struct uploader *uploader_free(struct uploader *u)
{
	if (!u)
		return NULL;
	u->finished = true;
	cancel_in_flight(u);
	sd_event_source_disable_unref(u->timer);
	sd_event_unref(u->event);
	free(u->pkt);
	free(u);
	return NULL;
}
