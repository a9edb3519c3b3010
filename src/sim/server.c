/* server.c — the device on the event loop: link, buffers, the SMP worker, faults, resets.
 * docs/otasim.md "Link model", "Device: buffers and processing", "Fault flags". */
#include "sim/server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/clock.h"
#include "sim/link.h"
#include "sim/mgmt.h"
#include "sim/overrun.h"
#include "util/hex.h"
#include "util/macro.h"

struct sim_port {
	struct sim_server *server;
	struct sim_port_ops ops;
	void *user_data;
	size_t overhead;
	unsigned epoch; /* bumped at each disconnection: older requests belong to a dead link */
	struct sim_port *next;
};

/* A request from its reception to its response's delivery (or its drop). */
struct req {
	struct req *next; /* in one FIFO: stalled or waiting for the worker */
	struct req *all_prev, *all_next;
	struct sim_port *port;
	uint8_t *pkt; /* request, then response */
	size_t len;
	uint8_t peer[SIM_PEER_MAX];
	size_t peer_len;
	unsigned seq, inflight;
	unsigned epoch; /* the port's epoch at reception */
	bool corrupt, has_buffer;
	bool dup;	/* the --dup-response fault: delivered twice */
	bool lost;	/* the --drop-request fault: never arrives */
	uint64_t event; /* pending clock event */
};

struct fifo {
	struct req *head, *tail;
};

struct sim_server {
	sd_event *event;
	struct sim_clock *clock;
	struct sim_device *dev;
	struct sim_profile p;
	struct sim_trace *trace;
	struct sim_faults faults;
	struct sim_server_ops ops;
	void *user_data;
	struct sim_port *ports;
	struct sim_link link;
	struct sim_overrun overrun;
	struct req *all;
	struct fifo stalled, queue;
	struct req *working; /* the request the worker is busy with */
	uint64_t work_start;
	struct sim_work work;
	bool work_corrupt; /* the overrun fault damaged the current request's pages */
	struct sim_mgmt mgmt;
	struct sim_boot boot;
	uint8_t *rsp_buf;   /* buf_size: the device's response net_buf */
	unsigned held;	    /* buffers held */
	unsigned inflight;  /* received from clients, neither answered nor dropped */
	uint64_t requests;  /* requests sent by clients, for --drop-request */
	uint64_t responses; /* responses produced, for --drop-response / --mute-after */
	uint64_t log_time;  /* model time stamped on device log lines */
	bool down, halted, muted, mute_fired;
	uint32_t reboot_fired, disconnect_fired, link_loss_fired; /* bit i: offset i fired */
	uint64_t link_lost_until; /* model time: the link loss fault carries nothing before */
	uint64_t boot_event, reset_event, swap_event;
};

static void fifo_push(struct fifo *f, struct req *r)
{
	r->next = NULL;
	if (f->tail)
		f->tail->next = r;
	else
		f->head = r;
	f->tail = r;
}

static struct req *fifo_pop(struct fifo *f)
{
	struct req *r = f->head;

	if (r) {
		f->head = r->next;
		if (!f->head)
			f->tail = NULL;
		r->next = NULL;
	}
	return r;
}

static void slog(struct sim_server *s, char level, const char *fmt, ...) _printf_(3, 4);
static void slog(struct sim_server *s, char level, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (!s->ops.log)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	s->ops.log(level, s->log_time, text, s->user_data);
}

static double real_s(struct sim_server *s)
{
	return sim_clock_real_seconds(s->clock);
}

static void req_free(struct sim_server *s, struct req *r)
{
	if (!r)
		return;
	if (r->event)
		sim_clock_cancel(s->clock, r->event);
	if (r->all_prev)
		r->all_prev->all_next = r->all_next;
	else
		s->all = r->all_next;
	if (r->all_next)
		r->all_next->all_prev = r->all_prev;
	free(r->pkt);
	free(r);
}

/* The request leaves without an answer: traced and logged with why. */
static void drop(struct sim_server *s, struct req *r, const char *reason)
{
	sim_trace_event(s->trace, "drop", real_s(s), "seq=%u reason=%s", r->seq, reason);
	slog(s, 'W', "smp: request seq=%u (%zu bytes) dropped: %s", r->seq, r->len, reason);
	if (r->has_buffer && s->held > 0)
		s->held--;
	if (s->inflight > 0)
		s->inflight--;
	req_free(s, r);
}

static void start_work(struct sim_server *s, uint64_t when);
static void reboot(struct sim_server *s, uint64_t when, const char *cause);

/* The request came over a link that has since gone away. */
static bool stale(const struct req *r)
{
	return r->epoch != r->port->epoch;
}

/* A buffer came free: a stalled request takes it (BLE flow control lets it in). */
static void release_buffer(struct sim_server *s, struct req *r)
{
	struct req *next;

	if (r->has_buffer && s->held > 0)
		s->held--;
	r->has_buffer = false;
	if (s->held < s->p.buf_count && (next = fifo_pop(&s->stalled))) {
		next->has_buffer = true;
		s->held++;
		fifo_push(&s->queue, next);
	}
}

static void on_arrival(uint64_t when, void *userdata);
static void on_done(uint64_t when, void *userdata);
static void on_delivered(uint64_t when, void *userdata);
static void on_reset(uint64_t when, void *userdata);

static struct req *req_new(struct sim_server *s, struct sim_port *port, const uint8_t *pkt,
			   size_t len, const void *peer, size_t peer_len)
{
	struct req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->pkt = malloc(len);
	if (!r->pkt) {
		free(r);
		return NULL;
	}
	memcpy(r->pkt, pkt, len);
	r->len = len;
	r->port = port;
	r->peer_len = MIN(peer_len, sizeof(r->peer));
	if (peer)
		memcpy(r->peer, peer, r->peer_len);
	r->seq = len >= 7 ? pkt[6] : 0;
	r->epoch = port->epoch;
	r->all_next = s->all;
	if (s->all)
		s->all->all_prev = r;
	s->all = r;
	return r;
}

static bool is_listed(const uint32_t *list, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

void sim_server_receive(struct sim_server *s, struct sim_port *port, const uint8_t *pkt, size_t len,
			const void *peer, size_t peer_len)
{
	uint64_t now = sim_clock_now(s->clock);
	struct sim_transfer t;
	struct req *r;

	if (len == 0)
		return;
	r = req_new(s, port, pkt, len, peer, peer_len);
	if (!r) {
		s->log_time = now;
		slog(s, 'E', "out of memory: request lost");
		return;
	}
	r->inflight = ++s->inflight;
	sim_link_send(&s->link, SIM_UPLINK, now, len, &t);
	r->lost = is_listed(s->faults.drop_request, s->faults.n_drop_request, ++s->requests);
	if (s->p.overrun && !r->lost && sim_overrun_reception(&s->overrun, t.arrival - (t.end - t.start),
						  t.arrival, (uint32_t)len) < 0) {
		s->log_time = now;
		slog(s, 'E', "out of memory: reception not recorded for the overrun fault");
	}
	r->event = sim_clock_at(s->clock, t.arrival, on_arrival, r);
	if (!r->event)
		drop(s, r, "oom");
}

static void on_arrival(uint64_t when, void *userdata)
{
	struct req *r = userdata;
	struct sim_server *s = r->port->server;

	r->event = 0;
	s->log_time = when;
	if (stale(r)) {
		drop(s, r, "disconnect");
		return;
	}
	if (r->lost) {
		drop(s, r, "fault");
		return;
	}
	if (s->muted) {
		drop(s, r, "mute");
		return;
	}
	if (when < s->link_lost_until) {
		drop(s, r, "link-loss");
		return;
	}
	if (s->down) {
		drop(s, r, "down");
		return;
	}
	/* Zephyr drops what does not fit its net_buf */
	if (r->len > s->p.buf_size - r->port->overhead) {
		drop(s, r, "too-big");
		return;
	}
	if (s->held >= s->p.buf_count) {
		if (s->p.overrun) {
			r->corrupt = true; /* accepted anyway: it overwrites a buffer in use */
		} else if (s->p.on_full == SIM_FULL_STALL) {
			fifo_push(&s->stalled, r);
			return;
		} else {
			drop(s, r, "no-buffer");
			return;
		}
	}
	r->has_buffer = true;
	s->held++;
	fifo_push(&s->queue, r);
	if (!s->working)
		start_work(s, when);
}

static void start_work(struct sim_server *s, uint64_t when)
{
	struct req *r;

	if (s->down || !(r = fifo_pop(&s->queue)))
		return;
	s->log_time = when;
	s->working = r;
	s->work_start = when;
	sim_work_reset(&s->work);
	s->work.duration = s->p.cpu_us;
	sim_mgmt_begin(s->dev, r->pkt, r->len, r->corrupt, &s->work, s->rsp_buf, s->p.buf_size,
		       &s->mgmt);
	r->event = sim_clock_at(s->clock, when + s->work.duration, on_done, r);
	if (!r->event) {
		s->working = NULL;
		drop(s, r, "oom");
	}
}

/* The overrun fault's verdict on the pages this request programmed, now that every reception
 * overlapping them is known. */
static bool apply_overrun(struct sim_server *s)
{
	bool corrupted = false;

	if (!s->p.overrun)
		return false;
	for (size_t i = 0; i < s->work.n_pages; i++) {
		const struct sim_page_op *op = &s->work.pages[i];
		uint64_t b = s->work_start + op->start, e = s->work_start + op->end;

		sim_overrun_forget(&s->overrun, b);
		if (sim_overrun_corrupts(&s->overrun, b, e)) {
			sim_device_corrupt(s->dev, op->off, op->len);
			corrupted = true;
		}
	}
	return corrupted;
}

static const char *upload_result(const struct sim_mgmt *m, bool corrupt)
{
	switch (m->upload.result) {
	case SIM_UPLOAD_OK:
		return corrupt ? "corrupt" : "ok";
	case SIM_UPLOAD_IGNORED:
		return "ignored";
	default:
		return "error";
	}
}

static bool covers(const struct sim_mgmt *m, uint32_t off)
{
	return m->upload.result == SIM_UPLOAD_OK && m->data_len > 0 && m->off <= off &&
	       off - m->off < m->data_len;
}

/* Whether this chunk covers one of the offsets that has not fired yet; marks it fired. */
static bool fires(const struct sim_mgmt *m, const struct sim_fault_offsets *f, uint32_t *fired,
		  uint32_t *ret_off)
{
	for (size_t i = 0; i < f->n; i++)
		if (!(*fired & (UINT32_C(1) << i)) && covers(m, f->off[i])) {
			*fired |= UINT32_C(1) << i;
			*ret_off = f->off[i];
			return true;
		}
	return false;
}

static void trace_done(struct sim_server *s, struct req *r, const char *result)
{
	const struct sim_mgmt *m = &s->mgmt;
	static const char *const states[] = {"test", "permanent", "confirm", "error"};
	char hex[65];

	switch (m->kind) {
	case SIM_MGMT_UPLOAD: {
		/* the last chunk: what slot 1 now holds, for checks of what was tested later */
		char written[80] = "";
		uint8_t md[32];

		if (m->upload.last && sim_device_slot_sha(s->dev, 1, m->upload.len, md) == 0)
			snprintf(written, sizeof(written), " written=%s", hex_encode(md, 32, hex));
		sim_trace_event(s->trace, "upload", real_s(s),
				"seq=%u off=%u len=%u inflight=%u expected=%u result=%s next=%u "
				"rc=%d work_ms=%.3f%s",
				r->seq, m->off, m->data_len, r->inflight, m->upload.expected,
				result, m->upload.off, m->rc, (double)s->work.duration / 1e3,
				written);
		break;
	}
	case SIM_MGMT_STATE_WRITE:
		sim_trace_event(s->trace, "state-write", real_s(s),
				"seq=%u hash=%s confirm=%d rc=%d result=%s", r->seq,
				m->has_hash ? hex_encode(m->hash, 32, hex) : "-", m->confirm, m->rc,
				states[m->rc ? SIM_STATE_ERROR : m->state]);
		break;
	case SIM_MGMT_ERASE:
		sim_trace_event(s->trace, "erase", real_s(s), "seq=%u rc=%d", r->seq, m->rc);
		break;
	default:
		break;
	}
}

/* The worker is done with r: the response goes onto the downlink (or the fault eats it). */
static void respond(struct sim_server *s, struct req *r, uint64_t when)
{
	const struct sim_mgmt *m = &s->mgmt;
	struct sim_transfer t;
	uint8_t *copy;
	uint64_t n;

	if (!m->has_hdr || m->rsp_len == 0) {
		drop(s, r, "malformed");
		return;
	}
	if (s->muted) {
		drop(s, r, "mute");
		return;
	}
	n = ++s->responses;
	if (s->faults.has_mute_after && n > s->faults.mute_after) {
		s->muted = true;
		drop(s, r, "mute");
		return;
	}
	if (is_listed(s->faults.drop_response, s->faults.n_drop_response, n)) {
		drop(s, r, "fault");
		return;
	}
	r->dup = is_listed(s->faults.dup_response, s->faults.n_dup_response, n);
	if (when < s->link_lost_until) {
		drop(s, r, "link-loss");
		return;
	}
	if (stale(r)) {
		drop(s, r, "disconnect");
		return;
	}
	copy = malloc(m->rsp_len);
	if (!copy) {
		drop(s, r, "oom");
		return;
	}
	memcpy(copy, m->rsp, m->rsp_len);
	free(r->pkt);
	r->pkt = copy;
	r->len = m->rsp_len;
	sim_link_send(&s->link, SIM_DOWNLINK, when, r->len, &t);
	r->event = sim_clock_at(s->clock, t.arrival, on_delivered, r);
	if (!r->event)
		drop(s, r, "oom");
}

/* The request's work is over (image check included): trace, faults, answer, next. */
static void on_complete(uint64_t when, void *userdata)
{
	struct req *r = userdata;
	struct sim_server *s = r->port->server;
	struct sim_mgmt *m = &s->mgmt;
	bool corrupt = s->work_corrupt, fault_reboot = false, reset;
	uint32_t off;

	r->event = 0;
	s->working = NULL;
	s->log_time = when;
	if (m->kind == SIM_MGMT_UPLOAD && fires(m, &s->faults.reboot_at, &s->reboot_fired, &off)) {
		fault_reboot = true;
		trace_done(s, r, "reboot");
	} else {
		trace_done(s, r, m->kind == SIM_MGMT_UPLOAD ? upload_result(m, corrupt) : NULL);
	}
	if (m->kind == SIM_MGMT_UPLOAD && s->faults.has_mute_at && !s->mute_fired &&
	    covers(m, s->faults.mute_at)) {
		s->mute_fired = s->muted = true;
		slog(s, 'W', "fault: muted after writing offset %u", s->faults.mute_at);
	}
	if (m->kind == SIM_MGMT_UPLOAD &&
	    fires(m, &s->faults.link_loss_at, &s->link_loss_fired, &off)) {
		s->link_lost_until = when + s->faults.link_loss_us;
		sim_trace_event(s->trace, "link-loss", real_s(s), "off=%u ms=%.3f", off,
				(double)s->faults.link_loss_us / 1e3);
		slog(s, 'W', "fault: link lost after writing offset %u", off);
	}
	if (m->kind == SIM_MGMT_UPLOAD &&
	    fires(m, &s->faults.disconnect_at, &s->disconnect_fired, &off)) {
		slog(s, 'W', "fault: link dropped after writing offset %u", off);
		sim_server_port_disconnected(s, r->port, "fault");
		if (r->port->ops.disconnect)
			r->port->ops.disconnect(r->port->user_data);
	}
	reset = m->reset;
	release_buffer(s, r);
	if (fault_reboot) {
		drop(s, r, "fault");
		reboot(s, when, "fault");
		return;
	}
	respond(s, r, when);
	if (reset) {
		/* os_mgmt_reset(): k_work_reschedule() of the reset, CONFIG_MCUMGR_GRP_OS_RESET_MS
		 */
		if (s->reset_event)
			sim_clock_cancel(s->clock, s->reset_event);
		s->reset_event = sim_clock_at(s->clock, when + s->p.reset_delay_us, on_reset, s);
	}
	start_work(s, when);
}

/* The flash work scheduled at the start is over: the overrun fault decides about the pages
 * now; a last chunk's image check then reads the slot, which takes its own time. */
static void on_done(uint64_t when, void *userdata)
{
	struct req *r = userdata;
	struct sim_server *s = r->port->server;
	uint64_t before = s->work.duration;

	r->event = 0;
	s->log_time = when;
	s->work_corrupt = apply_overrun(s) || r->corrupt;
	sim_mgmt_finish(s->dev, &s->work, &s->mgmt);
	if (s->work.duration == before) {
		on_complete(when, r);
		return;
	}
	r->event = sim_clock_at(s->clock, when + s->work.duration - before, on_complete, r);
	if (!r->event) {
		s->working = NULL;
		release_buffer(s, r);
		drop(s, r, "oom");
		start_work(s, when);
	}
}

static void on_reset(uint64_t when, void *userdata)
{
	struct sim_server *s = userdata;

	s->reset_event = 0;
	reboot(s, when, "command");
}

static void on_delivered(uint64_t when, void *userdata)
{
	struct req *r = userdata;
	struct sim_server *s = r->port->server;

	r->event = 0;
	s->log_time = when;
	if (stale(r)) {
		drop(s, r, "disconnect");
		return;
	}
	if (when < s->link_lost_until) {
		drop(s, r, "link-loss");
		return;
	}
	if (s->inflight > 0)
		s->inflight--;
	for (int copy = 0; copy < 1 + r->dup; copy++) {
		sim_trace_event(s->trace, "rsp", real_s(s), "seq=%u group=%u id=%u len=%zu%s",
				r->seq, r->len >= 8 ? (unsigned)(r->pkt[4] << 8 | r->pkt[5]) : 0,
				r->len >= 8 ? r->pkt[7] : 0, r->len, copy ? " dup=1" : "");
		r->port->ops.send(r->pkt, r->len, r->peer, r->peer_len, r->port->user_data);
	}
	req_free(s, r);
}

static void trace_boot(struct sim_server *s)
{
	const struct sim_boot *b = &s->boot;
	char hex[65];

	sim_trace_event(s->trace, "boot", real_s(s), "result=%s version=%u.%u.%u hash=%s%s",
			sim_boot_result_name(b->result), b->version.major, b->version.minor,
			b->version.revision, b->has_hash ? hex_encode(b->hash, 32, hex) : "-",
			b->resumed ? " resumed=1" : "");
}

static void on_up(uint64_t when, void *userdata)
{
	struct sim_server *s = userdata;

	s->boot_event = 0;
	s->log_time = when;
	s->down = false;
	trace_boot(s);
	if (s->ops.up)
		s->ops.up(s->user_data);
	for (struct sim_port *p = s->ports; p; p = p->next)
		if (p->ops.up)
			p->ops.up(p->user_data);
}

static void on_swap_done(uint64_t when, void *userdata)
{
	struct sim_server *s = userdata;

	s->swap_event = 0;
	s->log_time = when;
	sim_device_swap_done(s->dev);
}

/* MCUboot runs; the device comes up when it is done (or never, without a bootable image). The
 * trace's boot event is written when the application runs. Until its swap is over, otasim
 * stopped (a power loss) leaves the swap for the next start to finish. */
static void boot(struct sim_server *s, uint64_t when)
{
	sim_device_boot(s->dev, &s->boot);
	if (s->boot.swap_end)
		s->swap_event = sim_clock_at(s->clock, when + s->boot.swap_end, on_swap_done, s);
	if (s->boot.result == SIM_BOOT_HALT) {
		s->halted = true;
		trace_boot(s);
		return;
	}
	s->boot_event = sim_clock_at(s->clock, when + s->boot.duration, on_up, s);
}

/* Everything in RAM is lost: queued and stalled requests, the one being processed, the reset
 * timer. Responses already on the air still arrive. */
static void reboot(struct sim_server *s, uint64_t when, const char *cause)
{
	struct req *r;

	s->log_time = when;
	sim_trace_event(s->trace, "reset", real_s(s), "cause=%s", cause);
	slog(s, 'I', "reset (%s)", cause);
	s->down = true;
	if (s->reset_event) {
		sim_clock_cancel(s->clock, s->reset_event);
		s->reset_event = 0;
	}
	if (s->working) {
		r = s->working;
		s->working = NULL;
		drop(s, r, "down");
	}
	while ((r = fifo_pop(&s->queue)))
		drop(s, r, "down");
	while ((r = fifo_pop(&s->stalled)))
		drop(s, r, "down");
	s->held = 0;
	for (struct sim_port *p = s->ports; p; p = p->next)
		if (p->ops.down)
			p->ops.down(p->user_data);
	boot(s, when);
}

/* Takes the requests of port out of f, onto *out (linked by next). */
static void fifo_take_port(struct fifo *f, const struct sim_port *port, struct req **out)
{
	struct fifo keep = {0};
	struct req *r;

	while ((r = fifo_pop(f))) {
		if (r->port == port) {
			r->next = *out;
			*out = r;
		} else {
			fifo_push(&keep, r);
		}
	}
	*f = keep;
}

void sim_server_port_disconnected(struct sim_server *s, struct sim_port *port, const char *cause)
{
	uint64_t now = sim_clock_now(s->clock);
	struct req *gone = NULL, *next;

	s->log_time = now;
	port->epoch++;
	sim_trace_event(s->trace, "disconnect", real_s(s), "cause=%s", cause);
	slog(s, 'I', "smp: link disconnected (%s)", cause);
	fifo_take_port(&s->queue, port, &gone);
	fifo_take_port(&s->stalled, port, &gone);
	for (; gone; gone = next) {
		next = gone->next;
		drop(s, gone, "disconnect");
	}
	/* Buffers freed: requests of other ports waiting for one get in. (Requests wait for a
	 * buffer only while the worker is busy, so it picks them up when it is done.) */
	while (s->held < s->p.buf_count && (next = fifo_pop(&s->stalled))) {
		next->has_buffer = true;
		s->held++;
		fifo_push(&s->queue, next);
	}
}

void sim_server_power_on(struct sim_server *s)
{
	s->log_time = sim_clock_now(s->clock);
	s->down = true;
	boot(s, s->log_time);
}

bool sim_server_is_up(const struct sim_server *s)
{
	return !s->down;
}

uint64_t sim_server_now(struct sim_server *s)
{
	return sim_clock_now(s->clock);
}

static void device_log(char level, const char *text, void *user_data)
{
	struct sim_server *s = user_data;

	if (s->ops.log)
		s->ops.log(level, s->log_time, text, s->user_data);
	for (struct sim_port *p = s->ports; p; p = p->next)
		if (p->ops.console)
			p->ops.console(level, text, s->log_time, s->down, p->user_data);
}

int sim_server_new(sd_event *e, double speed, struct sim_device *dev, struct sim_trace *trace,
		   const struct sim_faults *faults, const struct sim_server_ops *ops,
		   void *user_data, struct sim_server **ret)
{
	struct sim_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->event = sd_event_ref(e);
	s->dev = dev;
	s->p = *sim_device_profile(dev);
	s->trace = trace;
	if (faults)
		s->faults = *faults;
	if (ops)
		s->ops = *ops;
	s->user_data = user_data;
	sim_link_init(&s->link, s->p.latency_us, s->p.bandwidth);
	sim_overrun_init(&s->overrun, s->p.safe_rate);
	s->rsp_buf = malloc(s->p.buf_size);
	if (!s->rsp_buf) {
		sim_server_free(s);
		return -ENOMEM;
	}
	r = sim_clock_new(e, speed, &s->clock);
	if (r < 0) {
		sim_server_free(s);
		return r;
	}
	sim_device_set_log(dev, device_log, s);
	*ret = s;
	return 0;
}

struct sim_server *sim_server_free(struct sim_server *s)
{
	if (!s)
		return NULL;
	while (s->all)
		req_free(s, s->all);
	while (s->ports) {
		struct sim_port *p = s->ports;

		s->ports = p->next;
		free(p);
	}
	if (s->dev)
		sim_device_set_log(s->dev, NULL, NULL);
	sim_clock_free(s->clock);
	sim_overrun_done(&s->overrun);
	sim_work_done(&s->work);
	free(s->rsp_buf);
	sd_event_unref(s->event);
	free(s);
	return NULL;
}

int sim_server_add_port(struct sim_server *s, const struct sim_port_ops *ops, void *user_data,
			size_t frame_overhead, struct sim_port **ret)
{
	struct sim_port *p = calloc(1, sizeof(*p)), **tail = &s->ports;

	if (!p)
		return -ENOMEM;
	p->server = s;
	p->ops = *ops;
	p->user_data = user_data;
	p->overhead = frame_overhead;
	while (*tail)
		tail = &(*tail)->next;
	*tail = p;
	if (ret)
		*ret = p;
	return 0;
}
