/* fuzz-upload.c — the upload engine (src/update/uploader.c) driven by whatever a device answers:
 * offsets ahead, behind, zero or past the end, errors, busy, missing fields, answers out of order
 * or twice, and link losses. The engine runs on the SMP client over a fake transport (no socket),
 * with a fixed window and no rate limit, so it is deterministic. Input: a config byte (window,
 * request size), then operations (answer the oldest or any request in flight, answer again, link
 * down and up).
 * Invariants: every request is an upload request of this image (data equal to the image at its
 * offset, within it; "len" and "sha" with the first chunk only); no more requests in flight than
 * the window; done() at most once and nothing sent after it; success only once the device
 * confirmed the whole image. */
#include <errno.h>
#include <openssl/sha.h>

#include "fuzz.h"
#include "otad/image.h"
#include "otad/smp-client.h"
#include "transport/transport-internal.h"
#include "update/uploader.h"

#define MAX_OUT 64

struct req {
	uint8_t seq;
	uint32_t off, len;
};

struct run;
struct fake {
	struct tr base; /* first: tr_free() frees the fake */
	struct run *run;
};

struct run {
	struct fake *t;
	sd_event *e;
	struct smp_client *c;
	struct uploader *u;
	struct img img;
	unsigned window;
	struct req out[MAX_OUT]; /* sent, not answered (the device may answer them) */
	unsigned n_out;
	struct req last; /* the last one answered (for a duplicate answer) */
	unsigned dones;
	int err;
};

static uint8_t *image;
static size_t image_len;
static uint8_t image_sha[32];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct img_build_opts o = {.version = {.major = 3}, .payload_size = 2000, .seed = 5};

	FUZZ_CHECK(img_build(&o, &image, &image_len) == 0);
	SHA256(image, image_len, image_sha);
	return 0;
}

/* Every request the engine sends is checked here. */
static int fake_send(struct tr *t, const uint8_t *pkt, size_t len)
{
	struct run *r = ((struct fake *)t)->run;
	struct smp_upload_req q;
	struct smp_hdr h;

	FUZZ_CHECK(r->dones == 0);
	FUZZ_CHECK(smp_hdr_decode(pkt, len, &h) == 0 && h.len == len - SMP_HDR_SIZE);
	FUZZ_CHECK(h.op == SMP_OP_WRITE && h.group == SMP_GROUP_IMAGE && h.id == SMP_IMG_UPLOAD);
	FUZZ_CHECK(smp_upload_req_decode(pkt + SMP_HDR_SIZE, h.len, &q, NULL) == 0);
	FUZZ_CHECK(q.off < image_len && q.data_len > 0 && q.data_len <= image_len - q.off);
	FUZZ_CHECK(!memcmp(q.data, image + q.off, q.data_len));
	FUZZ_CHECK(q.has_first == (q.off == 0));
	if (q.has_first)
		FUZZ_CHECK(q.len == image_len && q.sha_len == 32 && !memcmp(q.sha, image_sha, 32));
	FUZZ_CHECK(r->n_out < MAX_OUT);
	r->out[r->n_out++] = (struct req){.seq = h.seq, .off = q.off, .len = (uint32_t)q.data_len};
	FUZZ_CHECK(r->n_out <= r->window);
	return 0;
}

static size_t fake_max_packet(const struct tr *t)
{
	return 4096;
}

static size_t fake_backlog(const struct tr *t)
{
	return 0;
}

static int fake_reconnect(struct tr *t)
{
	return 0;
}

static const struct tr_ops fake_ops = {
	.send = fake_send,
	.max_packet = fake_max_packet,
	.backlog = fake_backlog,
	.reconnect = fake_reconnect,
};

static void on_done(int err, enum upd_fail fail, const char *text, void *ud)
{
	struct run *r = ud;

	r->dones++;
	r->err = err;
	if (getenv("OTAD_FUZZ_DEBUG"))
		fprintf(stderr, "done: %d %s (confirmed %zu of %zu)\n", err, text,
			uploader_stats(r->u)->acked_off, image_len);
	FUZZ_CHECK(r->dones == 1 && text);
	if (err == 0)
		FUZZ_CHECK(uploader_stats(r->u)->acked_off == image_len);
}

static const struct uploader_ops up_ops = {.done = on_done};

/* The body a device answers with: kind picks the offset and the error form. */
static int answer_body(struct fz *f, const struct req *q, uint8_t *b, size_t size)
{
	struct smp_upload_rsp a = {.has_off = true, .off = q->off + q->len};
	uint8_t kind = fz_u8(f);

	switch (kind % 8) {
	case 1:
		a.off = 0; /* the device rebooted and lost the upload */
		break;
	case 2:
		a.off = q->off; /* it wants this chunk again */
		break;
	case 3:
		a.off = fz_u32(f) % (uint32_t)(image_len + 2); /* anywhere, or just past the end */
		break;
	case 4:
		a.err = (struct smp_err){.rc = fz_u8(f) % 12}; /* busy, no memory, ... */
		break;
	case 5:
		a.has_off = false;
		break;
	case 6:
		return smp_echo_rsp_encode(b, size, "not an upload");
	default:
		break;
	}
	if (a.off == image_len) {
		a.has_match = kind & 0x10;
		a.match = kind & 0x20;
	}
	return smp_upload_rsp_encode(b, size, &a, kind & 0x40);
}

static void answer(struct run *r, struct fz *f, unsigned k)
{
	uint8_t pkt[SMP_HDR_SIZE + 256];
	struct req q = r->out[k];
	struct smp_hdr h = {.op = SMP_OP_WRITE_RSP, .ver = SMP_VER_2, .group = SMP_GROUP_IMAGE,
			    .seq = q.seq, .id = SMP_IMG_UPLOAD};
	int n;

	/* The client matches answers by sequence number: whatever is in flight under q's is
	 * answered now (a duplicate of an old answer may hit a newer request). */
	for (unsigned i = 0; i < r->n_out;)
		if (r->out[i].seq == q.seq)
			memmove(&r->out[i], &r->out[i + 1], (--r->n_out - i) * sizeof(r->out[0]));
		else
			i++;
	r->last = q;
	n = answer_body(f, &q, pkt + SMP_HDR_SIZE, sizeof(pkt) - SMP_HDR_SIZE);
	FUZZ_CHECK(n > 0);
	h.len = (uint16_t)n;
	smp_hdr_encode(&h, pkt);
	tr_emit_packet(&r->t->base, pkt, SMP_HDR_SIZE + (size_t)n);
}

static void step(struct run *r, struct fz *f)
{
	switch (fz_u8(f) % 6) {
	case 0:
	case 1: /* in order, mostly */
		if (r->n_out)
			answer(r, f, 0);
		break;
	case 2: /* any one */
		if (r->n_out)
			answer(r, f, fz_u8(f) % r->n_out);
		break;
	case 3: /* the last answer again: a duplicate */
		if (r->n_out < MAX_OUT) {
			r->out[r->n_out++] = r->last;
			answer(r, f, r->n_out - 1);
		}
		break;
	case 4: /* the link drops: requests in flight fail, the engine pauses */
		tr_link_down(&r->t->base, -EPIPE);
		uploader_link_down(r->u);
		while (sd_event_run(r->e, 0) > 0)
			;
		r->n_out = 0;
		break;
	default:
		tr_link_up(&r->t->base);
		while (sd_event_run(r->e, 0) > 0)
			;
		uploader_link_up(r->u);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t cfg_byte = fz_u8(&f);
	struct uploader_config cfg = {.rsp_timeout_usec = 3600 * USEC_PER_SEC,
				      .body_max = 64 + fz_u8(&f) * 4};
	struct run *r = calloc(1, sizeof(*r));

	if (!image)
		LLVMFuzzerInitialize(NULL, NULL);
	FUZZ_CHECK(r);
	r->window = 1 + cfg_byte % 4;
	cfg.pacer.pace.window = r->window;
	cfg.pacer.max_window = 4;
	cfg.chunk_max = cfg_byte & 0x10 ? 100 : 0;
	r->img = (struct img){.data = image, .len = image_len};
	memcpy(r->img.file_sha, image_sha, 32);
	FUZZ_CHECK(sd_event_new(&r->e) >= 0);
	r->t = calloc(1, sizeof(*r->t));
	FUZZ_CHECK(r->t);
	r->t->run = r;
	FUZZ_CHECK(tr_init(&r->t->base, &fake_ops, r->e, NULL, strdup("fake:")) >= 0);
	tr_link_up(&r->t->base);
	FUZZ_CHECK(smp_client_new(r->e, &r->t->base, NULL, NULL, &r->c) == 0);
	FUZZ_CHECK(uploader_new(r->e, r->c, &r->img, &cfg, &up_ops, r, &r->u) == 0);
	FUZZ_CHECK(uploader_start(r->u) == 0);
	while (f.n && !r->dones)
		step(r, &f);
	uploader_free(r->u);
	smp_client_free(r->c);
	tr_free(&r->t->base);
	sd_event_unref(r->e);
	free(r);
	return 0;
}
