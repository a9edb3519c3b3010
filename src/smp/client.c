/* client.c — SMP requests over a transport: sequence numbers, response matching, timeouts.
 *
 * Responses are matched by sequence number only; op, group and id are then checked. A sequence
 * number whose request timed out is quarantined for a while so that a late answer to it is never
 * taken for the answer to a newer request that reused the number. */
#include "otad/smp-client.h"
#include "util/macro.h"

#include <errno.h>
#include <string.h>

#define DEFAULT_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define QUARANTINE_MAX_USEC  (30 * USEC_PER_SEC)

struct pending {
	struct pending *next, *prev;
	unsigned int id;
	uint8_t seq;
	uint8_t op;
	uint16_t group;
	uint8_t cmd;
	uint64_t sent_usec;
	uint64_t timeout_usec;
	uint64_t deadline;
	smp_rsp_fn cb;
	void *user_data;
	otad_destroy_fn destroy;
	uint8_t *owned; /* smp_client_request's copy */
};

struct smp_client {
	sd_event *event;
	struct tr *tr;
	struct smp_client_ops ops;
	void *user_data;
	enum smp_ver ver;
	uint8_t next_seq;
	unsigned int next_id;
	struct pending *head, *tail;
	struct pending *by_seq[256];
	uint64_t quarantine_until[256];
	unsigned int n_pending;
	sd_event_source *timer;
};

static uint64_t now_usec(struct smp_client *c)
{
	uint64_t t = 0;

	sd_event_now(c->event, CLOCK_MONOTONIC, &t);
	return t;
}

static void unlink_pending(struct smp_client *c, struct pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		c->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		c->tail = p->prev;
	if (c->by_seq[p->seq] == p)
		c->by_seq[p->seq] = NULL;
	c->n_pending--;
}

/* Removes p and runs its callback, then its destroy. p must be linked. A request that ends
 * without its answer (timeout, cancel, link down) may still be answered later: its sequence
 * number is not reused until well after that answer could arrive. */
static void complete(struct smp_client *c, struct pending *p, int err, const struct smp_rsp *rsp)
{
	unlink_pending(c, p);
	if (!rsp)
		c->quarantine_until[p->seq] =
			now_usec(c) + MIN(2 * p->timeout_usec, QUARANTINE_MAX_USEC);
	if (p->cb)
		p->cb(err, rsp, p->user_data);
	if (p->destroy)
		p->destroy(p->user_data);
	free(p->owned);
	free(p);
}

static int arm_timer(struct smp_client *c);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct smp_client *c = userdata;
	uint64_t now = now_usec(c);

	for (;;) {
		struct pending *p = c->head;

		while (p && p->deadline > now)
			p = p->next;
		if (!p)
			break;
		complete(c, p, -ETIMEDOUT, NULL);
	}
	arm_timer(c);
	return 0;
}

static int arm_timer(struct smp_client *c)
{
	uint64_t earliest = UINT64_MAX;

	for (struct pending *p = c->head; p; p = p->next)
		earliest = MIN(earliest, p->deadline);
	if (earliest == UINT64_MAX)
		return c->timer ? sd_event_source_set_enabled(c->timer, SD_EVENT_OFF) : 0;
	if (!c->timer)
		return sd_event_add_time(c->event, &c->timer, CLOCK_MONOTONIC, earliest, 1, on_timer,
					 c);
	sd_event_source_set_time(c->timer, earliest);
	return sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static void stray(struct smp_client *c, const char *why)
{
	if (c->ops.stray)
		c->ops.stray(why, c->user_data);
}

static void on_recv(struct tr *t, const uint8_t *pkt, size_t len, void *userdata)
{
	struct smp_client *c = userdata;
	struct smp_rsp rsp = { 0 };
	struct pending *p;

	if (smp_hdr_decode(pkt, len, &rsp.hdr) < 0)
		return stray(c, "packet shorter than an SMP header or with reserved bits set");
	if (rsp.hdr.op != SMP_OP_READ_RSP && rsp.hdr.op != SMP_OP_WRITE_RSP)
		return stray(c, "packet is not a response");
	p = c->by_seq[rsp.hdr.seq];
	if (!p)
		return stray(c, "response with no request pending under its sequence number");
	rsp.body = pkt + SMP_HDR_SIZE;
	rsp.body_len = len - SMP_HDR_SIZE;
	rsp.rtt_usec = now_usec(c) - p->sent_usec;
	if ((size_t)rsp.hdr.len != rsp.body_len || rsp.hdr.op != p->op + 1 ||
	    rsp.hdr.group != p->group || rsp.hdr.id != p->cmd) {
		complete(c, p, -EBADMSG, &rsp);
		arm_timer(c);
		return;
	}
	complete(c, p, 0, &rsp);
	arm_timer(c);
}

static void fail_all(struct smp_client *c, int err)
{
	while (c->head)
		complete(c, c->head, err, NULL);
	arm_timer(c);
}

static void on_event(struct tr *t, enum tr_event ev, int err, void *userdata)
{
	struct smp_client *c = userdata;

	if (ev == TR_EVENT_DOWN)
		fail_all(c, -ENOTCONN);
	if (c->ops.event)
		c->ops.event(ev, err, c->user_data);
}

static void on_writable(struct tr *t, void *userdata)
{
	struct smp_client *c = userdata;

	if (c->ops.writable)
		c->ops.writable(c->user_data);
}

static void on_discard(struct tr *t, const char *what, void *userdata)
{
	stray(userdata, what);
}

static const struct tr_callbacks client_tr_callbacks = {
	.recv = on_recv,
	.event = on_event,
	.writable = on_writable,
	.discard = on_discard,
};

int smp_client_new(sd_event *e, struct tr *t, const struct smp_client_ops *ops, void *user_data,
		   struct smp_client **ret)
{
	struct smp_client *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->event = sd_event_ref(e);
	c->tr = t;
	if (ops)
		c->ops = *ops;
	c->user_data = user_data;
	c->ver = SMP_VER_2;
	c->next_id = 1;
	tr_set_callbacks(t, &client_tr_callbacks, c);
	*ret = c;
	return 0;
}

struct smp_client *smp_client_free(struct smp_client *c)
{
	if (!c)
		return NULL;
	fail_all(c, -ECANCELED);
	if (c->tr)
		tr_set_callbacks(c->tr, &(struct tr_callbacks){ 0 }, NULL);
	sd_event_source_disable_unref(c->timer);
	sd_event_unref(c->event);
	free(c);
	return NULL;
}

void smp_client_set_version(struct smp_client *c, enum smp_ver ver)
{
	c->ver = ver;
}

static int alloc_seq(struct smp_client *c, uint64_t now, uint8_t *ret)
{
	for (unsigned i = 0; i < 256; i++) {
		uint8_t s = (uint8_t)(c->next_seq + i);

		if (c->by_seq[s] || c->quarantine_until[s] > now)
			continue;
		c->next_seq = (uint8_t)(s + 1);
		*ret = s;
		return 0;
	}
	return -EBUSY;
}

unsigned int smp_client_send(struct smp_client *c, enum smp_op op, uint16_t group, uint8_t id,
			     uint8_t *pkt, size_t body_len, uint64_t timeout_usec, smp_rsp_fn cb,
			     void *user_data, otad_destroy_fn destroy, int *ret_err)
{
	struct smp_hdr h = { .op = op, .ver = c->ver, .len = (uint16_t)body_len, .group = group,
			     .id = id };
	uint64_t now = now_usec(c);
	struct pending *p;
	int r;

	if (body_len > UINT16_MAX || (op != SMP_OP_READ && op != SMP_OP_WRITE)) {
		r = -EINVAL;
		goto fail;
	}
	r = alloc_seq(c, now, &h.seq);
	if (r < 0)
		goto fail;
	p = calloc(1, sizeof(*p));
	if (!p) {
		r = -ENOMEM;
		goto fail;
	}
	smp_hdr_encode(&h, pkt);
	r = tr_send(c->tr, pkt, SMP_HDR_SIZE + body_len);
	if (r < 0) {
		free(p);
		goto fail;
	}
	*p = (struct pending){ .id = c->next_id++, .seq = h.seq, .op = op, .group = group,
			       .cmd = id, .sent_usec = now, .cb = cb, .user_data = user_data,
			       .destroy = destroy };
	if (c->next_id == 0)
		c->next_id = 1;
	p->timeout_usec = timeout_usec ? timeout_usec : DEFAULT_TIMEOUT_USEC;
	p->deadline = now + p->timeout_usec;
	p->prev = c->tail;
	if (c->tail)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
	c->by_seq[h.seq] = p;
	c->n_pending++;
	arm_timer(c);
	if (ret_err)
		*ret_err = 0;
	return p->id;
fail:
	/* Not queued: destroy still runs exactly once, as for a completed request. */
	if (destroy)
		destroy(user_data);
	if (ret_err)
		*ret_err = r;
	return 0;
}

unsigned int smp_client_request(struct smp_client *c, enum smp_op op, uint16_t group, uint8_t id,
				const uint8_t *body, size_t body_len, uint64_t timeout_usec,
				smp_rsp_fn cb, void *user_data, otad_destroy_fn destroy,
				int *ret_err)
{
	_cleanup_free_ uint8_t *pkt = malloc(SMP_HDR_SIZE + body_len);

	if (!pkt) {
		if (destroy)
			destroy(user_data);
		if (ret_err)
			*ret_err = -ENOMEM;
		return 0;
	}
	if (body_len)
		memcpy(pkt + SMP_HDR_SIZE, body, body_len);
	/* The transport copied or consumed pkt before returning: it can go at once. */
	return smp_client_send(c, op, group, id, pkt, body_len, timeout_usec, cb, user_data,
			       destroy, ret_err);
}

bool smp_client_cancel(struct smp_client *c, unsigned int id)
{
	for (struct pending *p = c->head; p; p = p->next) {
		if (p->id != id)
			continue;
		complete(c, p, -ECANCELED, NULL);
		arm_timer(c);
		return true;
	}
	return false;
}

void smp_client_cancel_all(struct smp_client *c)
{
	fail_all(c, -ECANCELED);
}

unsigned int smp_client_pending(const struct smp_client *c)
{
	return c->n_pending;
}

struct tr *smp_client_transport(const struct smp_client *c)
{
	return c->tr;
}
