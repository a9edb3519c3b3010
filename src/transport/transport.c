/* transport.c — the transport interface: the spec parser that picks an implementation by scheme,
 * the public calls that forward to its vtable, and the base every implementation embeds (event
 * queue delivered from the loop, SMP header check on delivery). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport-internal.h"
#include "util/bytes.h"

#define SMP_HDR_LEN 8

struct tr_scheme {
	const char *name;
	/* NULL: recognised but not built in (yet). */
	int (*open)(sd_event *e, const char *addr, const struct tr_options *o, struct tr **ret);
	int (*check)(const char *addr, const struct tr_options *o, char *why, size_t size);
};

static int udp_check(const char *addr, const struct tr_options *o, char *why, size_t size)
{
	return tr_udp_check(addr, why, size);
}

static int serial_check(const char *addr, const struct tr_options *o, char *why, size_t size)
{
	return tr_serial_check(addr, why, size);
}

/* Add a link here. */
static const struct tr_scheme schemes[] = {
	{"udp", tr_udp_open, udp_check},
	{"serial", tr_serial_open, serial_check},
	{"ble", tr_ble_open, tr_ble_check},
};

static const struct tr_scheme *find_scheme(const char *spec, const char **ret_addr)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;

	if (!colon)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(schemes); i++) {
		const struct tr_scheme *s = &schemes[i];

		if (strlen(s->name) == (size_t)(colon - spec) &&
		    strncmp(spec, s->name, (size_t)(colon - spec)) == 0) {
			*ret_addr = colon + 1;
			return s;
		}
	}
	return NULL;
}

int tr_open(sd_event *e, const char *spec, const struct tr_options *o, struct tr **ret)
{
	const struct tr_scheme *s;
	const char *addr;

	if (!e || !spec || !ret)
		return -EINVAL;
	s = find_scheme(spec, &addr);
	if (!s)
		return -EINVAL;
	if (!s->open)
		return -EPROTONOSUPPORT;
	return s->open(e, addr, o, ret);
}

void tr_why_set(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

int tr_spec_check(const char *spec, char *why, size_t size)
{
	const char *addr = NULL;
	const struct tr_scheme *s = find_scheme(spec, &addr);

	if (!s)
		return tr_why(why, size, "not a transport (expected %s)", TR_SPEC_HELP);
	if (strcmp(s->name, "ble") == 0)
		return tr_ble_target_check(addr, why, size);
	return s->check(addr, NULL, why, size);
}

const char *tr_open_error(const char *spec, const struct tr_options *o, int err, char *buf,
			  size_t size)
{
	const char *addr = NULL;
	const struct tr_scheme *s = find_scheme(spec, &addr);
	char why[TR_NOTE_MAX] = "";

	if (!s) {
		snprintf(buf, size, "not a transport: '%s' (expected %s)", spec ? spec : "",
			 TR_SPEC_HELP);
		return buf;
	}
	if (err == -EINVAL && s->check(addr, o, why, sizeof(why)) < 0) {
		snprintf(buf, size, "%s: %s", spec, why);
		return buf;
	}
	/* udp.c: a host name without an address is -ENOENT, a resolver that did not answer
	 * -EAGAIN */
	if (strcmp(s->name, "udp") == 0 && err == -ENOENT)
		snprintf(buf, size, "%s: host not found (neither /etc/hosts nor DNS knows it)",
			 spec);
	else if (strcmp(s->name, "udp") == 0 && err == -EAGAIN)
		snprintf(buf, size, "%s: the host name cannot be resolved now (DNS did not answer)",
			 spec);
	else
		snprintf(buf, size, "cannot open %s: %s", spec, strerror(err < 0 ? -err : EIO));
	return buf;
}

bool tr_peer_refused(const struct tr *t)
{
	return t && t->refused && !t->heard;
}

static int on_defer(sd_event_source *s, void *userdata)
{
	struct tr *t = userdata;

	/* Entries queued by the callbacks below are delivered in this same pass. */
	while (t->pending_len > 0) {
		struct tr_pending p = t->pending[t->pending_head];

		t->pending_head = (t->pending_head + 1) % TR_PENDING_MAX;
		t->pending_len--;
		if (p.is_note) {
			if (t->cb.discard)
				t->cb.discard(t, p.note, t->user_data);
			continue;
		}
		if (p.up_on_dispatch)
			t->up = true;
		if (t->cb.event)
			t->cb.event(t, p.ev, p.err, t->user_data);
	}
	if (t->close_done && t->close_fn) {
		tr_close_fn fn = t->close_fn;

		t->close_fn = NULL;
		fn(t, t->close_err, t->close_data); /* may free t */
	}
	return 0;
}

int tr_init(struct tr *t, const struct tr_ops *ops, sd_event *e, const struct tr_options *o,
	    char *desc)
{
	int r;

	t->ops = ops;
	t->event = sd_event_ref(e);
	t->desc = desc;
	t->reconnect_timeout = o && o->reconnect_timeout_usec ? o->reconnect_timeout_usec
							      : TR_RECONNECT_TIMEOUT_DEFAULT;
	r = sd_event_add_defer(e, &t->defer, on_defer, t);
	if (r < 0)
		return r;
	/* Link events go before any I/O handler of the same iteration: UP precedes data. */
	r = sd_event_source_set_priority(t->defer, SD_EVENT_PRIORITY_IMPORTANT);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(t->defer, "tr-events");
	return sd_event_source_set_enabled(t->defer, SD_EVENT_OFF);
}

static struct tr_pending *pending_push(struct tr *t)
{
	struct tr_pending *p;

	/* Full only if the loop never runs while link state flips 16 times: keep the newest. */
	if (t->pending_len == TR_PENDING_MAX) {
		t->pending_head = (t->pending_head + 1) % TR_PENDING_MAX;
		t->pending_len--;
	}
	p = &t->pending[(t->pending_head + t->pending_len) % TR_PENDING_MAX];
	t->pending_len++;
	memset(p, 0, sizeof(*p));
	/* Cannot fail for a defer source that exists. */
	(void)sd_event_source_set_enabled(t->defer, SD_EVENT_ONESHOT);
	return p;
}

static void queue_event(struct tr *t, enum tr_event ev, int err, bool up_on_dispatch)
{
	struct tr_pending *p = pending_push(t);

	p->ev = ev;
	p->err = err;
	p->up_on_dispatch = up_on_dispatch;
}

void tr_link_up(struct tr *t)
{
	t->up = true;
	queue_event(t, TR_EVENT_UP, 0, false);
}

void tr_link_up_deferred(struct tr *t)
{
	queue_event(t, TR_EVENT_UP, 0, true);
}

void tr_link_down(struct tr *t, int err)
{
	t->up = false;
	queue_event(t, TR_EVENT_DOWN, err, false);
}

void tr_post_note(struct tr *t, const char *fmt, ...)
{
	struct tr_pending *p = pending_push(t);
	va_list ap;

	p->is_note = true;
	va_start(ap, fmt);
	vsnprintf(p->note, sizeof(p->note), fmt, ap);
	va_end(ap);
}

void tr_close_complete(struct tr *t, int err)
{
	if (!t->closing || t->close_done)
		return;
	t->close_done = true;
	t->close_err = err;
	(void)sd_event_source_set_enabled(t->defer, SD_EVENT_ONESHOT);
}

int tr_close(struct tr *t, uint64_t timeout_usec, tr_close_fn fn, void *user_data)
{
	if (t->closing)
		return -EALREADY;
	t->closing = true;
	t->close_fn = fn;
	t->close_data = user_data;
	tr_set_callbacks(t, NULL, NULL); /* nothing more to report, nor anyone to tell */
	t->pending_len = 0;
	t->up = false;
	if (t->ops->close)
		t->ops->close(t, timeout_usec ? timeout_usec : TR_CLOSE_TIMEOUT_DEFAULT);
	else
		tr_close_complete(t, 0);
	return 0;
}

void tr_emit_discard(struct tr *t, const char *fmt, ...)
{
	char what[TR_NOTE_MAX + 64];
	va_list ap;

	if (!t->cb.discard)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	t->cb.discard(t, what, t->user_data);
}

void tr_emit_packet(struct tr *t, const uint8_t *pkt, size_t len)
{
	size_t want;

	t->heard = true; /* something answers, even if not with SMP */
	if (len < SMP_HDR_LEN) {
		tr_emit_discard(t, "packet of %zu bytes is shorter than the %d-byte SMP header",
				len, SMP_HDR_LEN);
		return;
	}
	want = SMP_HDR_LEN + get_be16(pkt + 2);
	if (want != len) {
		tr_emit_discard(t, "packet of %zu bytes but its SMP header says %zu", len, want);
		return;
	}
	if (t->cb.recv)
		t->cb.recv(t, pkt, len, t->user_data);
}

void tr_emit_writable(struct tr *t)
{
	if (t->cb.writable)
		t->cb.writable(t, t->user_data);
}

void tr_emit_text(struct tr *t, const char *line, size_t len)
{
	if (t->cb.text)
		t->cb.text(t, line, len, t->user_data);
}

void tr_set_callbacks(struct tr *t, const struct tr_callbacks *cb, void *user_data)
{
	if (cb)
		t->cb = *cb;
	else
		memset(&t->cb, 0, sizeof(t->cb));
	t->user_data = user_data;
}

int tr_send(struct tr *t, const uint8_t *pkt, size_t len)
{
	if (!pkt || len == 0)
		return -EINVAL;
	if (len > t->ops->max_packet(t))
		return -EMSGSIZE;
	if (!t->up || t->closing)
		return -ENOTCONN;
	return t->ops->send(t, pkt, len);
}

size_t tr_max_packet(const struct tr *t)
{
	return t->ops->max_packet(t);
}

int tr_security(const struct tr *t, struct tr_security *ret)
{
	memset(ret, 0, sizeof(*ret));
	return t->ops->security ? t->ops->security(t, ret) : -EOPNOTSUPP;
}

size_t tr_frame_overhead(const struct tr *t)
{
	return t->ops->frame_overhead;
}

size_t tr_backlog(const struct tr *t)
{
	return t->ops->backlog(t);
}

int tr_reconnect(struct tr *t)
{
	if (t->closing)
		return -ENOTCONN;
	return t->ops->reconnect(t);
}

bool tr_is_up(const struct tr *t)
{
	return t->up;
}

const char *tr_describe(const struct tr *t)
{
	return t->desc;
}

struct tr *tr_free(struct tr *t)
{
	if (!t)
		return NULL;
	if (t->ops && t->ops->destroy)
		t->ops->destroy(t);
	sd_event_source_disable_unref(t->defer);
	sd_event_unref(t->event);
	free(t->desc);
	free(t);
	return NULL;
}
