/* fuzz-smp-client.c — the SMP client's packet handling (src/smp/client.c): matching whatever a
 * device sends to the requests in flight, with link events and cancellations in between. The
 * link is a fake transport (the transport base without a socket), so every received packet goes
 * through tr_emit_packet() as a real link's would. Input: a sequence of operations (send a
 * request, deliver raw bytes, answer a request in flight with a fuzzed body, cancel, link down
 * or up, run the loop). Each answered body is decoded as the update flow would decode it.
 * Invariants: every request's callback and destroy run exactly once (at the latest when the
 * client is freed); a successful answer carries the request's sequence number, op + 1, group
 * and id, and a body of the header's length; a failure without a response has no rsp. */
#include <errno.h>

#include "fuzz.h"
#include "otad/smp-client.h"
#include "otad/smp.h"
#include "transport/transport-internal.h"

#define MAX_REQ 64

struct req {
	unsigned int id;
	uint8_t seq, op, cmd;
	uint16_t group;
	unsigned calls, destroys;
	bool sent;
};

struct fake {
	struct tr base;
	uint8_t last[SMP_HDR_SIZE];
	bool fail_send;
};

static int fake_send(struct tr *t, const uint8_t *pkt, size_t len)
{
	struct fake *f = (struct fake *)t;

	FUZZ_CHECK(len >= SMP_HDR_SIZE);
	if (f->fail_send)
		return -EIO;
	memcpy(f->last, pkt, SMP_HDR_SIZE);
	return 0;
}

static size_t fake_max_packet(const struct tr *t)
{
	return 2048;
}

static size_t fake_backlog(const struct tr *t)
{
	return 0;
}

static int fake_reconnect(struct tr *t)
{
	tr_link_down(t, -ECONNRESET);
	tr_link_up(t);
	return 0;
}

static const struct tr_ops fake_ops = {
	.send = fake_send,
	.max_packet = fake_max_packet,
	.backlog = fake_backlog,
	.reconnect = fake_reconnect,
};

/* What the update flow does with a body: the decoder of its group and command. */
static void decode_body(uint16_t group, uint8_t id, const uint8_t *b, size_t n)
{
	union {
		struct smp_err err;
		struct smp_echo_rsp echo;
		struct smp_params_rsp params;
		struct smp_image_state state;
		struct smp_upload_rsp upload;
		struct smp_slot_info_rsp slots;
	} u;
	const char *why = NULL;
	int r;

	if (group == SMP_GROUP_OS && id == SMP_OS_ECHO)
		r = smp_echo_rsp_decode(b, n, &u.echo, &why);
	else if (group == SMP_GROUP_OS && id == SMP_OS_PARAMS)
		r = smp_params_rsp_decode(b, n, &u.params, &why);
	else if (group == SMP_GROUP_IMAGE && id == SMP_IMG_STATE)
		r = smp_image_state_decode(b, n, &u.state, &why);
	else if (group == SMP_GROUP_IMAGE && id == SMP_IMG_UPLOAD)
		r = smp_upload_rsp_decode(b, n, &u.upload, &why);
	else if (group == SMP_GROUP_IMAGE && id == SMP_IMG_SLOT_INFO)
		r = smp_slot_info_rsp_decode(b, n, &u.slots, &why);
	else
		r = smp_err_decode(b, n, &u.err, &why);
	FUZZ_CHECK(r == 0 || (r == -EBADMSG && why));
}

static void on_rsp(int err, const struct smp_rsp *rsp, void *ud)
{
	struct req *q = ud;

	q->calls++;
	FUZZ_CHECK(q->calls == 1 && q->destroys == 0);
	if (err == 0 || err == -EBADMSG) {
		FUZZ_CHECK(rsp && rsp->hdr.seq == q->seq && rsp->body_len <= 2048);
	} else {
		FUZZ_CHECK(!rsp);
		FUZZ_CHECK(err == -ECANCELED || err == -ENOTCONN || err == -ETIMEDOUT);
	}
	if (err)
		return;
	FUZZ_CHECK(rsp->hdr.op == q->op + 1 && rsp->hdr.group == q->group &&
		   rsp->hdr.id == q->cmd && rsp->hdr.len == rsp->body_len);
	decode_body(q->group, q->cmd, rsp->body, rsp->body_len);
}

static void on_destroy(void *ud)
{
	struct req *q = ud;

	q->destroys++;
	FUZZ_CHECK(q->destroys == 1 && (q->calls == 1 || !q->sent));
}

static void on_stray(const char *why, void *ud)
{
	FUZZ_CHECK(why && *why);
}

static const struct smp_client_ops client_ops = {.stray = on_stray};

struct run {
	sd_event *e;
	struct fake *t;
	struct smp_client *c;
	struct req reqs[MAX_REQ];
	unsigned n;
};

static void send_req(struct run *r, struct fz *f)
{
	struct req *q = &r->reqs[r->n];
	size_t len;
	const uint8_t *body;
	int err = 0;

	q->op = fz_bool(f) ? SMP_OP_WRITE : SMP_OP_READ;
	q->group = fz_u8(f) & 3;
	q->cmd = fz_u8(f) & 7;
	body = fz_bytes(f, fz_u8(f), &len);
	r->t->fail_send = (fz_u8(f) & 0x0f) == 0x0f;
	r->n++;
	q->id = smp_client_request(r->c, q->op, q->group, q->cmd, body, len, 0, on_rsp, q,
				   on_destroy, &err);
	FUZZ_CHECK((q->id > 0) == (err == 0));
	if (!q->id) {
		FUZZ_CHECK(q->destroys == 1 && q->calls == 0);
		return;
	}
	q->sent = true;
	q->seq = r->t->last[6];
}

/* A response to request k in flight, possibly with its header bent. */
static void answer(struct run *r, struct fz *f)
{
	uint8_t pkt[SMP_HDR_SIZE + 1024];
	struct req *q;
	struct smp_hdr h;
	uint8_t bend = fz_u8(f);
	const uint8_t *body;
	size_t len;

	if (!r->n)
		return;
	q = &r->reqs[fz_u8(f) % r->n];
	h = (struct smp_hdr){.op = q->op + 1, .ver = fz_u8(f) & 1, .group = q->group,
			     .seq = q->seq, .id = q->cmd};
	body = fz_bytes(f, fz_u16(f) % 1024, &len);
	h.len = (uint16_t)len;
	if (bend & 1)
		h.op = bend >> 5;
	if (bend & 2)
		h.id ^= 1;
	smp_hdr_encode(&h, pkt);
	memcpy(pkt + SMP_HDR_SIZE, body, len);
	/* A length that disagrees with the header never reaches the client. */
	tr_emit_packet(&r->t->base, pkt, SMP_HDR_SIZE + len - (bend & 4 ? len > 0 : 0));
}

static void step(struct run *r, struct fz *f)
{
	const uint8_t *raw;
	size_t len;

	switch (fz_u8(f) % 7) {
	case 0:
		if (r->n < MAX_REQ)
			send_req(r, f);
		break;
	case 1:
		raw = fz_record(f, &len);
		tr_emit_packet(&r->t->base, raw, len);
		break;
	case 2:
		answer(r, f);
		break;
	case 3:
		if (r->n)
			smp_client_cancel(r->c, r->reqs[fz_u8(f) % r->n].id);
		break;
	case 4:
		tr_link_down(&r->t->base, -EPIPE);
		break;
	case 5:
		tr_link_up(&r->t->base);
		break;
	default:
		while (sd_event_run(r->e, 0) > 0)
			;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct run r = {0};

	FUZZ_CHECK(sd_event_new(&r.e) >= 0);
	r.t = calloc(1, sizeof(*r.t));
	FUZZ_CHECK(r.t);
	FUZZ_CHECK(tr_init(&r.t->base, &fake_ops, r.e, NULL, strdup("fake:")) >= 0);
	tr_link_up(&r.t->base);
	FUZZ_CHECK(smp_client_new(r.e, &r.t->base, &client_ops, NULL, &r.c) == 0);
	if (fz_bool(&f))
		smp_client_set_version(r.c, SMP_VER_1);
	while (f.n)
		step(&r, &f);
	smp_client_free(r.c);
	tr_free(&r.t->base);
	sd_event_unref(r.e);
	for (unsigned i = 0; i < r.n; i++)
		FUZZ_CHECK(r.reqs[i].destroys == 1 && r.reqs[i].calls == (r.reqs[i].sent ? 1 : 0));
	return 0;
}
