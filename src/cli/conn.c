/* conn.c — one request at a time over the event loop, for otactl's one-shot commands, and the
 * way every command lets go of its device: signals wait for the loop, the link is closed. */
#include "cli/conn.h"
#include "cli/exit-codes.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

struct wait_state {
	bool done;
	bool up;
	bool ended; /* the link came up, or gave up coming up */
};

static struct wait_state wait_state;

static void on_event(enum tr_event ev, int err, void *user_data)
{
	struct conn *c = user_data;

	wait_state.up = ev == TR_EVENT_UP;
	wait_state.ended = true;
	if (ev == TR_EVENT_DOWN)
		c->link_err = err ? err : -ENOTCONN;
}

static void on_stray(const char *why, void *user_data)
{
	struct conn *c = user_data;

	snprintf(c->stray, sizeof(c->stray), "%s", why);
	log_debug("ignored from the device: %s", why);
	/* Nothing ever answered and the port is closed: waiting for the timeout changes nothing. */
	if (tr_peer_refused(c->tr) && !wait_state.done) {
		c->err = -ECONNREFUSED;
		wait_state.done = true;
	}
}

static const struct smp_client_ops conn_ops = { .event = on_event, .stray = on_stray };

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	unsigned *count = userdata;

	(*count)++;
	return 0;
}

int conn_watch_signals(sd_event *e, unsigned *count)
{
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	r = sd_event_add_signal(e, NULL, SIGINT, on_signal, count);
	if (r >= 0)
		r = sd_event_add_signal(e, NULL, SIGTERM, on_signal, count);
	return r < 0 ? r : 0;
}

/* -ETIMEDOUT, -EINTR on a signal, or another -errno of the loop. */
static int run_until(struct conn *c, bool *flag, uint64_t timeout_usec)
{
	uint64_t start, now;

	sd_event_now(c->event, CLOCK_MONOTONIC, &start);
	while (!*flag) {
		int r;

		if (c->signals)
			return -EINTR;
		sd_event_now(c->event, CLOCK_MONOTONIC, &now);
		if (now - start > timeout_usec)
			return -ETIMEDOUT;
		r = sd_event_run(c->event, timeout_usec - (now - start));
		if (r < 0)
			return r;
	}
	return 0;
}

static int interrupted(const char *what)
{
	log_error("%s: interrupted", what);
	return EXIT_CANCELLED;
}

int conn_open(struct conn *c, const char *spec, const struct tr_options *o, uint64_t timeout_usec)
{
	uint64_t ble_timeout = o && o->connect_timeout_usec ? o->connect_timeout_usec
							    : TR_CONNECT_TIMEOUT_DEFAULT;
	int r;

	memset(c, 0, sizeof(*c));
	c->timeout_usec = timeout_usec;
	r = sd_event_default(&c->event);
	if (r >= 0)
		r = conn_watch_signals(c->event, &c->signals);
	if (r < 0)
		return log_error_errno(r, "cannot create the event loop: %m"), EXIT_FAILURE_GENERIC;
	r = tr_open(c->event, spec, o, &c->tr);
	if (r < 0) {
		char why[512];

		log_error("%s", tr_open_error(spec, o, r, why, sizeof(why)));
		return r == -EINVAL ? EXIT_USAGE : EXIT_LINK;
	}
	r = smp_client_new(c->event, c->tr, &conn_ops, c, &c->smp);
	if (r < 0)
		return log_error_errno(r, "cannot set up SMP: %m"), EXIT_FAILURE_GENERIC;
	wait_state = (struct wait_state){ 0 };
	/* A BLE link gives up by itself after its connect timeout (and says why). */
	if (strncmp(spec, "ble:", 4) == 0)
		timeout_usec = MAX(timeout_usec, ble_timeout + USEC_PER_SEC);
	r = run_until(c, &wait_state.ended, timeout_usec);
	if (r == -EINTR)
		return interrupted(spec);
	if (r < 0) {
		log_error_errno(r, "%s did not come up: %m", spec);
		return EXIT_LINK;
	}
	if (!wait_state.up) {
		log_error("cannot reach %s: %s", tr_describe(c->tr),
			  c->stray[0] ? c->stray : strerror(c->link_err < 0 ? -c->link_err : EIO));
		/* BLE: pairing failed, or the device lost our key (transport.h) */
		if (c->link_err == -EACCES || c->link_err == -EKEYREJECTED)
			return EXIT_SECURITY;
		return EXIT_LINK;
	}
	return 0;
}

static void on_rsp(int err, const struct smp_rsp *rsp, void *user_data)
{
	struct conn *c = user_data;

	c->err = err;
	if (err == 0) {
		c->hdr = rsp->hdr;
		c->body_len = MIN(rsp->body_len, sizeof(c->body));
		memcpy(c->body, rsp->body, c->body_len);
	}
	wait_state.done = true;
}

int conn_call(struct conn *c, enum smp_op op, uint16_t group, uint8_t id, const uint8_t *body,
	      size_t len, const char *what)
{
	int r, err = 0;

	wait_state.done = false;
	c->err = 0;
	if (!smp_client_request(c->smp, op, group, id, body, len, c->timeout_usec, on_rsp, c, NULL,
				&err)) {
		log_error_errno(err, "%s: cannot send the request: %m", what);
		return EXIT_LINK;
	}
	r = run_until(c, &wait_state.done, c->timeout_usec + USEC_PER_SEC);
	if (r == -EINTR)
		return interrupted(what);
	if (r < 0 || c->err == -ETIMEDOUT) {
		log_error("%s: no answer from %s within %.1f s%s%s", what, tr_describe(c->tr),
			  (double)c->timeout_usec / USEC_PER_SEC,
			  c->stray[0] ? "; ignored from the device: " : "", c->stray);
		return EXIT_TIMEOUT;
	}
	if (c->err == -ECONNREFUSED) {
		log_error("%s: %s: nothing listens (ICMP port unreachable)", what,
			  tr_describe(c->tr));
		return EXIT_LINK;
	}
	if (c->err == -ENOTCONN) {
		log_error("%s: link to %s lost%s%s", what, tr_describe(c->tr),
			  c->link_err ? ": " : "", c->link_err ? strerror(-c->link_err) : "");
		return EXIT_LINK;
	}
	if (c->err < 0) {
		log_error("%s: the answer does not match the request (op/group/id)", what);
		return EXIT_PROTOCOL;
	}
	return 0;
}

static void on_closed(struct tr *t, int err, void *user_data)
{
	bool *closed = user_data;

	if (err == -ETIMEDOUT)
		log_debug("%s: the controller did not confirm the disconnection in time",
			  tr_describe(t));
	*closed = true;
}

void conn_release(sd_event *e, struct tr *t, const unsigned *signals)
{
	uint64_t now = 0, end;
	unsigned seen = *signals;
	bool closed = false;

	if (!t)
		return;
	sd_event_now(e, CLOCK_MONOTONIC, &now);
	end = now + TR_CLOSE_TIMEOUT_DEFAULT + USEC_PER_SEC; /* tr_close() is bounded itself */
	if (tr_close(t, 0, on_closed, &closed) == 0)
		while (!closed && *signals == seen && now < end) {
			if (sd_event_run(e, end - now) < 0)
				break;
			sd_event_now(e, CLOCK_MONOTONIC, &now);
		}
	tr_free(t);
}

void conn_close(struct conn *c)
{
	c->smp = smp_client_free(c->smp);
	if (c->event)
		conn_release(c->event, TAKE_PTR(c->tr), &c->signals);
	c->event = sd_event_unref(c->event);
}
