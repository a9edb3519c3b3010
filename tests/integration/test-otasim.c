/* test-otasim.c — the real otasim over UDP and over its pty, spoken to in raw SMP with the smp and
 * console codecs: commands, a whole update with swap, a corrupted one refused by MCUboot, state
 * across restarts, the trace, the fault flags and USB-style re-enumeration. Every wait is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <netdb.h>

#include "lib/simctl.h"
#include "lib/testlib.h"
#include "otad/console.h"
#include "otad/image.h"
#include "otad/smp.h"
#include "util/fileio.h"

#define TIMEOUT	 3000 /* ms for an answer that must come */
#define SILENCE	 400  /* ms that prove an answer does not come */
#define SPEED	 "20"
#define BUF_SIZE 2475
#define IMG_SIZE (20 * 1024)

/* ---- A raw SMP client over UDP or a pty ------------------------------------------------------ */
struct client {
	int fd;
	bool serial;
	uint8_t seq;
	struct console_decoder *dec;
	/* packets the console decoder produced, not yet handed out */
	uint8_t q[8][CONSOLE_PKT_MAX];
	size_t q_len[8];
	unsigned q_head, q_n;
};

static void on_console_packet(const uint8_t *pkt, size_t len, void *user_data)
{
	struct client *c = user_data;
	unsigned i = (c->q_head + c->q_n) % 8;

	if (c->q_n < 8 && len <= sizeof(c->q[0])) {
		memcpy(c->q[i], pkt, len);
		c->q_len[i] = len;
		c->q_n++;
	}
}

static void client_open_udp(struct client *c, const char *spec)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res;
	char host[128];
	const char *colon = strrchr(spec, ':');

	memset(c, 0, sizeof(*c));
	assert_non_null(colon);
	assert_true(strncmp(spec, "udp:", 4) == 0);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec - 4), spec + 4);
	assert_int_equal(getaddrinfo(host, colon + 1, &hints, &res), 0);
	c->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(connect(c->fd, res->ai_addr, res->ai_addrlen), 0);
	freeaddrinfo(res);
}

static int client_open_serial(struct client *c, const char *path)
{
	static const struct console_decoder_ops ops = {.packet = on_console_packet};
	struct termios t;

	memset(c, 0, sizeof(*c));
	c->serial = true;
	c->fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (c->fd < 0)
		return -errno;
	if (tcgetattr(c->fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(c->fd, TCSANOW, &t);
	}
	c->dec = console_decoder_new(&ops, c);
	assert_non_null(c->dec);
	return 0;
}

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->dec = console_decoder_free(c->dec);
}

static void client_send(struct client *c, uint8_t ver, uint8_t op, uint16_t group, uint8_t id,
			const uint8_t *body, size_t len, uint8_t *ret_seq)
{
	struct smp_hdr h = {.op = op,
			    .ver = ver,
			    .len = (uint16_t)len,
			    .group = group,
			    .seq = c->seq++,
			    .id = id};
	uint8_t pkt[70000];
	static uint8_t framed[200000];

	smp_hdr_encode(&h, pkt);
	memcpy(pkt + SMP_HDR_SIZE, body, len);
	if (ret_seq)
		*ret_seq = h.seq;
	if (c->serial) {
		ssize_t n = console_encode(pkt, SMP_HDR_SIZE + len, framed, sizeof(framed));

		assert_true(n > 0);
		assert_int_equal(write(c->fd, framed, (size_t)n), n);
	} else {
		assert_int_equal(send(c->fd, pkt, SMP_HDR_SIZE + len, 0),
				 (ssize_t)(SMP_HDR_SIZE + len));
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One response packet within timeout_ms: its length, -ETIMEDOUT, or -EIO (pty hung up). */
static int client_recv(struct client *c, uint8_t *pkt, size_t size, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		uint8_t buf[8192];
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (c->q_n > 0) {
			size_t len = c->q_len[c->q_head] < size ? c->q_len[c->q_head] : size;

			memcpy(pkt, c->q[c->q_head], len);
			c->q_head = (c->q_head + 1) % 8;
			c->q_n--;
			return (int)len;
		}
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (p.revents & (POLLHUP | POLLERR) && !(p.revents & POLLIN))
			return -EIO;
		n = c->serial ? read(c->fd, buf, sizeof(buf)) : recv(c->fd, pkt, size, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		if (!c->serial)
			return (int)n;
		console_decoder_feed(c->dec, buf, (size_t)n);
	}
}

/* Sends a request and waits for the response with its sequence number; copies the body out.
 * Returns the body length, or -ETIMEDOUT / -EIO. */
static int call_ver(struct client *c, uint8_t ver, uint8_t op, uint16_t group, uint8_t id,
		    const uint8_t *body, size_t len, uint8_t *rsp, size_t rsp_size, int timeout)
{
	int64_t deadline = now_ms() + timeout;
	uint8_t seq, pkt[CONSOLE_PKT_MAX + 100];

	client_send(c, ver, op, group, id, body, len, &seq);
	for (;;) {
		struct smp_hdr h;
		int64_t left = deadline - now_ms();
		int n = client_recv(c, pkt, sizeof(pkt), left > 0 ? (int)left : 0);

		if (n < 0)
			return n;
		if (smp_hdr_decode(pkt, (size_t)n, &h) < 0 || h.seq != seq)
			continue; /* a late answer to something earlier */
		assert_int_equal(h.op, op == SMP_OP_READ ? SMP_OP_READ_RSP : SMP_OP_WRITE_RSP);
		assert_int_equal(h.group, group);
		assert_int_equal(h.id, id);
		assert_int_equal(h.ver, ver);
		assert_int_equal(h.len, (size_t)n - SMP_HDR_SIZE);
		assert_true(h.len <= rsp_size);
		memcpy(rsp, pkt + SMP_HDR_SIZE, h.len);
		return h.len;
	}
}

static int call(struct client *c, uint8_t op, uint16_t group, uint8_t id, const uint8_t *body,
		size_t len, uint8_t *rsp, size_t rsp_size, int timeout)
{
	return call_ver(c, SMP_VER_2, op, group, id, body, len, rsp, rsp_size, timeout);
}

static int echo(struct client *c, const char *text, int timeout)
{
	uint8_t body[4096], rsp[4096];
	struct smp_echo_rsp e;
	int n = smp_echo_req_encode(body, sizeof(body), text);

	assert_true(n > 0);
	n = call(c, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body, (size_t)n, rsp, sizeof(rsp),
		 timeout);
	if (n < 0)
		return n;
	assert_int_equal(smp_echo_rsp_decode(rsp, (size_t)n, &e, NULL), 0);
	/* the decoder keeps the first 255 bytes of the text */
	assert_int_equal(strncmp(e.text, text, sizeof(e.text) - 1), 0);
	/* the whole text came back: the response is {"r": text}, as long as the request */
	assert_true((size_t)n >= strlen(text));
	return 0;
}

static void image_state(struct client *c, struct smp_image_state *st)
{
	uint8_t body[16], rsp[2048];
	int n = smp_empty_req_encode(body, sizeof(body));

	n = call(c, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n, rsp, sizeof(rsp),
		 TIMEOUT);
	assert_true(n > 0);
	assert_int_equal(smp_image_state_decode(rsp, (size_t)n, st, NULL), 0);
	assert_true(smp_err_ok(&st->err));
}

static void state_write(struct client *c, const uint8_t *hash, bool confirm)
{
	uint8_t body[128], rsp[2048];
	struct smp_image_state st;
	int n = smp_state_write_req_encode(body, sizeof(body), hash, hash ? 32 : 0, confirm);

	n = call(c, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n, rsp, sizeof(rsp),
		 TIMEOUT);
	assert_true(n > 0);
	assert_int_equal(smp_image_state_decode(rsp, (size_t)n, &st, NULL), 0);
	assert_true(smp_err_ok(&st.err));
}

static void reset(struct client *c)
{
	uint8_t body[32], rsp[64];
	int n = smp_reset_req_encode(body, sizeof(body), false);

	n = call(c, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, body, (size_t)n, rsp, sizeof(rsp),
		 TIMEOUT);
	assert_true(n >= 0);
}

struct image {
	uint8_t *data;
	size_t len;
	uint8_t sha[32];  /* of the file */
	uint8_t hash[32]; /* its SHA-256 TLV */
};

static void make_image(struct image *img, const char *version, uint32_t seed)
{
	struct img_build_opts o = {.payload_size = IMG_SIZE, .seed = seed};
	struct img_info info;

	assert_int_equal(img_version_parse(version, &o.version), 0);
	assert_int_equal(img_build(&o, &img->data, &img->len), 0);
	assert_int_equal(img_parse(img->data, img->len, &info, NULL), 0);
	memcpy(img->hash, info.hash, 32);
	SHA256(img->data, img->len, img->sha);
}

/* The upload request for the chunk at off, sized so the whole request fits body_max. */
static size_t encode_chunk(const struct image *img, uint32_t off, size_t body_max, uint8_t *buf,
			   size_t size)
{
	struct smp_upload_req r = {.off = off};
	size_t n;

	if (off == 0) {
		r.has_first = true;
		r.len = (uint32_t)img->len;
		memcpy(r.sha, img->sha, 32);
		r.sha_len = 32;
	}
	n = smp_upload_req_max_data(&r, body_max);
	r.data_len = img->len - off < n ? img->len - off : n;
	r.data = img->data + off;
	n = (size_t)smp_upload_req_encode(buf, size, &r);
	assert_true(n > 0 && n <= body_max);
	return n;
}

static size_t chunk_data(const struct image *img, uint32_t off, size_t body_max)
{
	struct smp_upload_req r = {.off = off,
				   .has_first = off == 0,
				   .len = (uint32_t)img->len,
				   .sha_len = off == 0 ? 32 : 0};
	size_t n = smp_upload_req_max_data(&r, body_max);

	return img->len - off < n ? img->len - off : n;
}

/* Window 1: each chunk waits for its answer and follows the device's "off". */
static unsigned upload_sequential(struct client *c, const struct image *img, size_t overhead,
				  struct smp_upload_rsp *last)
{
	size_t body_max = BUF_SIZE - overhead - SMP_HDR_SIZE;
	unsigned requests = 0;
	uint32_t off = 0;

	while (off < img->len) {
		uint8_t body[BUF_SIZE], rsp[256];
		size_t n = encode_chunk(img, off, body_max, body, sizeof(body));
		int r = call(c, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, body, n, rsp,
			     sizeof(rsp), TIMEOUT);

		assert_true(r > 0);
		assert_int_equal(smp_upload_rsp_decode(rsp, (size_t)r, last, NULL), 0);
		assert_true(smp_err_ok(&last->err));
		assert_true(last->has_off);
		assert_true(last->off > off);
		off = last->off;
		requests++;
	}
	assert_int_equal(off, img->len);
	return requests;
}

/* window requests in flight, sent as fast as the socket takes them. */
static void upload_pipelined(struct client *c, const struct image *img, unsigned window)
{
	size_t body_max = BUF_SIZE - SMP_HDR_SIZE;
	uint32_t off = 0, acked = 0;
	unsigned inflight = 0;

	while (acked < img->len) {
		uint8_t body[BUF_SIZE], pkt[512];
		struct smp_upload_rsp u;
		struct smp_hdr h;
		int r;

		if (off < img->len && inflight < window) {
			size_t n = encode_chunk(img, off, body_max, body, sizeof(body));

			client_send(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD,
				    body, n, NULL);
			off += (uint32_t)chunk_data(img, off, body_max);
			inflight++;
			continue;
		}
		r = client_recv(c, pkt, sizeof(pkt), TIMEOUT);
		assert_true(r > 0);
		assert_int_equal(smp_hdr_decode(pkt, (size_t)r, &h), 0);
		assert_int_equal(smp_upload_rsp_decode(pkt + SMP_HDR_SIZE, h.len, &u, NULL), 0);
		assert_true(smp_err_ok(&u.err));
		acked = u.off;
		inflight--;
	}
}

static const struct smp_slot_state *find_slot(const struct smp_image_state *st, uint32_t slot)
{
	return smp_image_state_find(st, 0, slot);
}

static void start(struct tl_sim *sim, const char *name, const char *kind, const char *const *more)
{
	const char *extra[32] = {"--speed", SPEED};
	unsigned n = 2;

	for (unsigned i = 0; more && more[i] && n < 31; i++)
		extra[n++] = more[i];
	extra[n] = NULL;
	assert_int_equal(tl_sim_start(sim, name, kind, extra), 0);
}

static void stop(struct tl_sim *sim)
{
	assert_int_equal(tl_sim_stop(sim), 0); /* SIGTERM: clean exit */
}

static struct client *client_new(void)
{
	struct client *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	return c;
}

static void test_udp_echo_params_state_slot_info(void **state)
{
	struct client *c = client_new();
	uint8_t body[64], rsp[1024];
	struct smp_params_rsp p;
	struct smp_image_state st;
	struct smp_slot_info_rsp si;
	struct smp_err e;
	const struct smp_slot_state *s0;
	struct tl_sim sim;
	int n;

	start(&sim, "cmds", "udp", NULL);
	client_open_udp(c, sim.spec);
	assert_int_equal(echo(c, "hello", TIMEOUT), 0);
	n = smp_empty_req_encode(body, sizeof(body));
	n = call(c, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, body, (size_t)n, rsp, sizeof(rsp),
		 TIMEOUT);
	assert_int_equal(smp_params_rsp_decode(rsp, (size_t)n, &p, NULL), 0);
	assert_int_equal(p.buf_size, BUF_SIZE);
	assert_int_equal(p.buf_count, 4);
	image_state(c, &st);
	assert_int_equal(st.n_slots, 1);
	s0 = find_slot(&st, 0);
	assert_non_null(s0);
	assert_string_equal(s0->version, "1.0.0");
	assert_true(s0->active && s0->confirmed && s0->bootable && !s0->pending);
	assert_int_equal(s0->hash_len, 32);
	n = smp_empty_req_encode(body, sizeof(body));
	n = call(c, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_SLOT_INFO, body, (size_t)n, rsp,
		 sizeof(rsp), TIMEOUT);
	assert_int_equal(smp_slot_info_rsp_decode(rsp, (size_t)n, &si, NULL), 0);
	assert_int_equal(si.n, 2);
	assert_int_equal(si.slots[1].size, 0x76000);
	/* not built in: os info answers "not supported" as {"rc": 8}, even to v2 */
	n = smp_empty_req_encode(body, sizeof(body));
	n = call(c, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_INFO, body, (size_t)n, rsp, sizeof(rsp),
		 TIMEOUT);
	assert_int_equal(smp_err_decode(rsp, (size_t)n, &e, NULL), 0);
	assert_false(e.v2);
	assert_int_equal(e.rc, MGMT_ERR_ENOTSUP);
	/* SMP v1 request: v1 answer */
	n = smp_echo_req_encode(body, sizeof(body), "old");
	n = call_ver(c, SMP_VER_1, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body, (size_t)n, rsp,
		     sizeof(rsp), TIMEOUT);
	assert_true(n > 0);
	/* a v2 image error comes as {"err": {"group": 1, "rc": 8}} */
	{
		uint8_t hash[32] = {9};

		n = smp_state_write_req_encode(body, sizeof(body), hash, 32, false);
		n = call(c, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_STATE, body, (size_t)n, rsp,
			 sizeof(rsp), TIMEOUT);
		assert_int_equal(smp_err_decode(rsp, (size_t)n, &e, NULL), 0);
		assert_true(e.v2);
		assert_int_equal(e.group, SMP_GROUP_IMAGE);
		assert_int_equal(e.rc, IMG_MGMT_ERR_HASH_NOT_FOUND);
	}
	client_close(c);
	free(c);
	stop(&sim);
}

/* After a reset: echo until the device answers again (bounded). */
static void wait_up(struct client *c)
{
	for (int i = 0; i < 50; i++)
		if (echo(c, "up?", 200) == 0)
			return;
	fail_msg("the device did not come back");
}

/* A complete update: upload, check the state, test, reset, swap, confirm. Returns the number
 * of upload requests. */
static unsigned update_and_swap(struct tl_sim *sim, struct client *c, size_t overhead)
{
	unsigned requests;
	struct smp_image_state st;
	struct smp_upload_rsp last;
	const struct smp_slot_state *s;
	struct image img;
	uint8_t factory[32];

	make_image(&img, "2.0.0", 42);
	image_state(c, &st);
	memcpy(factory, find_slot(&st, 0)->hash, 32);
	requests = upload_sequential(c, &img, overhead, &last);
	assert_false(last.has_match); /* spi-lp is built without image check */
	image_state(c, &st);
	s = find_slot(&st, 1);
	assert_non_null(s);
	assert_memory_equal(s->hash, img.hash, 32);
	assert_string_equal(s->version, "2.0.0");
	state_write(c, img.hash, false);
	image_state(c, &st);
	assert_true(find_slot(&st, 1)->pending);
	reset(c);
	assert_int_equal(tl_sim_wait_event(sim, "boot", "result", "swap-test", 10000), 0);
	wait_up(c);
	image_state(c, &st);
	s = find_slot(&st, 0);
	assert_memory_equal(s->hash, img.hash, 32);
	assert_true(s->active && !s->confirmed);
	s = find_slot(&st, 1);
	assert_memory_equal(s->hash, factory, 32);
	assert_true(s->confirmed);
	state_write(c, NULL, true);
	image_state(c, &st);
	assert_true(find_slot(&st, 0)->confirmed);
	free(img.data);
	return requests;
}

static void test_udp_update_swaps_and_traces(void **state)
{
	struct client *c = client_new();
	struct tl_event *ev = NULL;
	struct tl_sim sim;
	size_t n = 0, uploads = 0, requests;

	start(&sim, "update", "udp", NULL);
	client_open_udp(c, sim.spec);
	requests = update_and_swap(&sim, c, 0);
	/* the documented trace keys */
	assert_int_equal(tl_trace_load(sim.trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++) {
		const struct tl_event *e = &ev[i];

		assert_non_null(tl_ev_get(e, "t"));
		if (strcmp(e->name, "upload") == 0) {
			static const char *const keys[] = {"seq",      "off",	   "len",
							   "inflight", "expected", "result"};

			for (size_t k = 0; k < 6; k++)
				assert_non_null(tl_ev_get(e, keys[k]));
			assert_string_equal(tl_ev_get(e, "result"), "ok");
			assert_int_equal(tl_ev_u64(e, "inflight"), 1); /* window 1 */
			assert_int_equal(tl_ev_u64(e, "off"), tl_ev_u64(e, "expected"));
			uploads++;
		} else if (strcmp(e->name, "rsp") == 0) {
			assert_non_null(tl_ev_get(e, "seq"));
			assert_non_null(tl_ev_get(e, "group"));
			assert_non_null(tl_ev_get(e, "id"));
			assert_non_null(tl_ev_get(e, "len"));
		} else if (strcmp(e->name, "state-write") == 0) {
			assert_non_null(tl_ev_get(e, "hash"));
			assert_non_null(tl_ev_get(e, "confirm"));
			assert_non_null(tl_ev_get(e, "rc"));
			assert_non_null(tl_ev_get(e, "result"));
		} else if (strcmp(e->name, "boot") == 0) {
			assert_non_null(tl_ev_get(e, "result"));
			assert_non_null(tl_ev_get(e, "version"));
			assert_int_equal(strlen(tl_ev_get(e, "hash")), 64);
		}
	}
	assert_int_equal(uploads, requests);
	free(ev);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", "result", "test"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", "result", "confirm"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "reset", "cause", "command"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "none"), 1);
	client_close(c);
	free(c);
	stop(&sim);
}

static void test_pty_commands_and_update(void **state)
{
	struct client *c = client_new();
	struct smp_image_state st;
	struct tl_sim sim;

	start(&sim, "serial", "serial", NULL);
	assert_true(strncmp(sim.spec, "serial:/dev/pts/", 16) == 0);
	assert_int_equal(client_open_serial(c, sim.spec + 7), 0);
	assert_int_equal(echo(c, "over the console", TIMEOUT), 0);
	image_state(c, &st);
	assert_true(find_slot(&st, 0)->active);
	/* requests sized for a 2475-byte buffer less the console's 4 bytes of framing */
	update_and_swap(&sim, c, CONSOLE_OVERHEAD);
	client_close(c);
	free(c);
	stop(&sim);
}

static void test_pty_request_filling_buffer_without_framing_room_is_dropped(void **state)
{
	struct client *c = client_new();
	struct tl_sim sim;
	char text[BUF_SIZE];

	start(&sim, "serial-big", "serial", NULL);
	assert_int_equal(client_open_serial(c, sim.spec + 7), 0);
	/* {"d": text} + header = exactly buf_size: fits over UDP, not with the console's 4 bytes */
	memset(text, 'x', sizeof(text));
	text[BUF_SIZE - SMP_HDR_SIZE - 6] = 0;
	assert_int_equal(echo(c, text, SILENCE), -ETIMEDOUT);
	assert_int_equal(tl_sim_wait_event(&sim, "drop", "reason", "too-big", TIMEOUT), 0);
	text[BUF_SIZE - SMP_HDR_SIZE - 6 - CONSOLE_OVERHEAD] = 0;
	assert_int_equal(echo(c, text, TIMEOUT), 0);
	client_close(c);
	free(c);
	stop(&sim);
}

static void test_overrun_pipelined_upload_is_refused_by_bootloader(void **state)
{
	const char *const more[] = {"--profile", "spi-lp-overrun", NULL};
	struct client *c = client_new();
	struct smp_image_state st;
	const struct smp_slot_state *s;
	struct image img;
	struct tl_sim sim;
	uint8_t factory[32];
	char *err;

	start(&sim, "overrun", "udp", more);
	client_open_udp(c, sim.spec);
	image_state(c, &st);
	memcpy(factory, find_slot(&st, 0)->hash, 32);
	make_image(&img, "2.0.0", 43);
	upload_pipelined(c, &img, 4);
	assert_true(tl_sim_count_events(&sim, "upload", "result", "corrupt") > 0);
	/* the upload reported success and the reported hash is the TLV's: all looks fine */
	image_state(c, &st);
	s = find_slot(&st, 1);
	assert_non_null(s);
	assert_memory_equal(s->hash, img.hash, 32);
	state_write(c, img.hash, false);
	reset(c);
	assert_int_equal(tl_sim_wait_event(&sim, "boot", "result", "refused", 10000), 0);
	wait_up(c);
	image_state(c, &st);
	assert_int_equal(st.n_slots, 1); /* slot 1 erased */
	s = find_slot(&st, 0);
	assert_memory_equal(s->hash, factory, 32);
	assert_true(s->active && s->confirmed);
	client_close(c);
	free(c);
	stop(&sim);
	err = tl_proc_stderr(&sim.proc);
	assert_true(tl_contains(err, "E: Image in the secondary slot is not valid!"));
	free(err);
	free(img.data);
}

static void test_overrun_sequential_upload_is_safe(void **state)
{
	const char *const more[] = {"--profile", "spi-lp-overrun", NULL};
	struct client *c = client_new();
	struct tl_sim sim;

	start(&sim, "overrun-seq", "udp", more);
	client_open_udp(c, sim.spec);
	update_and_swap(&sim, c, 0);
	assert_int_equal(tl_sim_count_events(&sim, "upload", "result", "corrupt"), 0);
	client_close(c);
	free(c);
	stop(&sim);
}

static void test_restart_with_same_state_keeps_slots_not_upload(void **state)
{
	struct client *c = client_new();
	struct smp_image_state st;
	struct smp_upload_rsp last, u;
	struct image img;
	struct tl_sim sim;
	uint8_t body[BUF_SIZE], rsp[256];
	int n;

	start(&sim, "restart", "udp", NULL);
	client_open_udp(c, sim.spec);
	make_image(&img, "3.1.4", 44);
	upload_sequential(c, &img, 0, &last);
	client_close(c);
	stop(&sim);

	start(&sim, "restart", "udp", NULL);
	client_open_udp(c, sim.spec);
	image_state(c, &st);
	assert_int_equal(st.n_slots, 2);
	assert_memory_equal(find_slot(&st, 1)->hash, img.hash, 32);
	assert_string_equal(find_slot(&st, 1)->version, "3.1.4");
	/* an upload in progress did not survive: a middle chunk is answered with off 0 */
	n = (int)encode_chunk(&img, 4096, BUF_SIZE - SMP_HDR_SIZE, body, sizeof(body));
	n = call(c, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, body, (size_t)n, rsp,
		 sizeof(rsp), TIMEOUT);
	assert_int_equal(smp_upload_rsp_decode(rsp, (size_t)n, &u, NULL), 0);
	assert_int_equal(u.off, 0);
	client_close(c);
	free(c);
	stop(&sim);
	free(img.data);
}

static void test_drop_response_fault(void **state)
{
	const char *const more[] = {"--drop-response", "2,4", NULL};
	struct client *c = client_new();
	struct tl_sim sim;

	start(&sim, "drop", "udp", more);
	client_open_udp(c, sim.spec);
	assert_int_equal(echo(c, "one", TIMEOUT), 0);
	assert_int_equal(echo(c, "two", SILENCE), -ETIMEDOUT);
	assert_int_equal(echo(c, "three", TIMEOUT), 0);
	assert_int_equal(echo(c, "four", SILENCE), -ETIMEDOUT);
	assert_int_equal(echo(c, "five", TIMEOUT), 0);
	assert_int_equal(tl_sim_count_events(&sim, "drop", "reason", "fault"), 2);
	client_close(c);
	free(c);
	stop(&sim);
}

static void test_reboot_at_fault_loses_upload(void **state)
{
	const char *const more[] = {"--reboot-at", "3000", NULL};
	struct client *c = client_new();
	uint8_t body[BUF_SIZE], rsp[256];
	struct smp_upload_rsp u;
	struct image img;
	struct tl_sim sim;
	uint32_t off = 0;
	int n;

	start(&sim, "reboot-at", "udp", more);
	client_open_udp(c, sim.spec);
	make_image(&img, "2.0.0", 45);
	for (;;) { /* answered chunks until the one covering 3000, which is not answered */
		size_t len = chunk_data(&img, off, BUF_SIZE - SMP_HDR_SIZE);
		bool covers = off <= 3000 && 3000 < off + len;

		n = (int)encode_chunk(&img, off, BUF_SIZE - SMP_HDR_SIZE, body, sizeof(body));
		n = call(c, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, body, (size_t)n, rsp,
			 sizeof(rsp), covers ? SILENCE : TIMEOUT);
		if (covers)
			break;
		assert_int_equal(smp_upload_rsp_decode(rsp, (size_t)n, &u, NULL), 0);
		off = u.off;
	}
	assert_int_equal(n, -ETIMEDOUT);
	assert_int_equal(tl_sim_count_events(&sim, "upload", "result", "reboot"), 1);
	assert_int_equal(tl_sim_wait_event(&sim, "reset", "cause", "fault", TIMEOUT), 0);
	wait_up(c);
	assert_int_equal(tl_sim_count_events(&sim, "boot", NULL, NULL), 2);
	n = (int)encode_chunk(&img, off + (uint32_t)chunk_data(&img, off, BUF_SIZE - SMP_HDR_SIZE),
			      BUF_SIZE - SMP_HDR_SIZE, body, sizeof(body));
	n = call(c, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, body, (size_t)n, rsp,
		 sizeof(rsp), TIMEOUT);
	assert_int_equal(smp_upload_rsp_decode(rsp, (size_t)n, &u, NULL), 0);
	assert_int_equal(u.off, 0);
	client_close(c);
	free(c);
	stop(&sim);
	free(img.data);
}

static void test_mute_at_and_mute_after(void **state)
{
	const char *const at[] = {"--mute-at", "100", NULL};
	const char *const after[] = {"--mute-after", "2", NULL};
	struct client *c = client_new();
	uint8_t body[BUF_SIZE], rsp[256];
	struct image img;
	struct tl_sim sim;
	int n;

	start(&sim, "mute-at", "udp", at);
	client_open_udp(c, sim.spec);
	make_image(&img, "2.0.0", 46);
	assert_int_equal(echo(c, "before", TIMEOUT), 0);
	n = (int)encode_chunk(&img, 0, BUF_SIZE - SMP_HDR_SIZE, body, sizeof(body));
	n = call(c, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, body, (size_t)n, rsp,
		 sizeof(rsp), SILENCE);
	assert_int_equal(n, -ETIMEDOUT);
	assert_int_equal(echo(c, "after", SILENCE), -ETIMEDOUT);
	assert_true(tl_sim_count_events(&sim, "drop", "reason", "mute") >= 2);
	client_close(c);
	stop(&sim); /* still alive, exits cleanly */

	start(&sim, "mute-after", "udp", after);
	client_open_udp(c, sim.spec);
	assert_int_equal(echo(c, "1", TIMEOUT), 0);
	assert_int_equal(echo(c, "2", TIMEOUT), 0);
	assert_int_equal(echo(c, "3", SILENCE), -ETIMEDOUT);
	client_close(c);
	free(c);
	stop(&sim);
	free(img.data);
}

static void test_reenumerate_moves_symlink(void **state)
{
	const char *link = tl_path("ttyACM-otasim");
	const char *const more[] = {"--serial-link", link, "--reenumerate", NULL};
	struct client *c = client_new(), *c2 = client_new();
	char before[256] = "", after[256] = "", line[256];
	uint8_t pkt[512];
	struct tl_sim sim;
	ssize_t n;

	start(&sim, "reenum", "serial", more);
	n = readlink(link, before, sizeof(before) - 1);
	assert_true(n > 0);
	assert_string_equal(before, sim.spec + 7);
	assert_int_equal(client_open_serial(c, link), 0);
	assert_int_equal(echo(c, "first tty", TIMEOUT), 0);
	reset(c);
	/* the old tty hangs up */
	assert_int_equal(client_recv(c, pkt, sizeof(pkt), TIMEOUT), -EIO);
	/* and the device comes back on another one, announced on stdout and by the link */
	assert_int_equal(tl_proc_read_line(&sim.proc, line, sizeof(line), 10000), 0);
	assert_true(strncmp(line, "pty: /dev/pts/", 14) == 0);
	n = readlink(link, after, sizeof(after) - 1);
	assert_true(n > 0);
	assert_string_equal(after, line + 5);
	assert_string_not_equal(after, before);
	assert_int_equal(client_open_serial(c2, link), 0);
	assert_int_equal(echo(c2, "second tty", TIMEOUT), 0);
	client_close(c);
	client_close(c2);
	free(c);
	free(c2);
	stop(&sim);
}

static void test_malformed_state_file_is_refused_with_line(void **state)
{
	const char *path = tl_path("broken.state");
	char *argv[] = {
		(char *)tl_bin("otasim"), "--udp", "127.0.0.1:0", "--state", (char *)path, NULL};
	char *out = NULL, *err = NULL, *after;
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("format=1\nslot_size=twelve\n", f);
	fclose(f);
	assert_int_equal(tl_run(argv, 20000, &out, &err), 1);
	assert_true(tl_contains(err, "broken.state:2:"));
	assert_string_equal(out, "");
	after = tl_read_file(path);
	assert_string_equal(after, "format=1\nslot_size=twelve\n"); /* never overwritten */
	free(after);
	free(out);
	free(err);
}

static void test_list_profiles_and_mkimage(void **state)
{
	const char *out_path = tl_path("mk.bin");
	char *list[] = {(char *)tl_bin("otasim"), "--list-profiles", NULL};
	char *mk[] = {(char *)tl_bin("otasim"),
		      "mkimage",
		      "--version",
		      "1.2.3+4",
		      "--size",
		      "10k",
		      "--seed",
		      "5",
		      (char *)out_path,
		      NULL};
	static const char *const names[] = {"spi-lp (default)", "spi-lp-overrun", "spi-hp",
					    "internal", "lan"};
	struct img *img = NULL;
	struct img_diag diag;
	char *out = NULL;

	assert_int_equal(tl_run(list, 20000, &out, NULL), 0);
	for (size_t i = 0; i < 5; i++)
		assert_true(tl_contains(out, names[i]));
	assert_true(tl_contains(out, "bottleneck (256 KiB image)"));
	free(out);
	assert_int_equal(tl_run(mk, 20000, NULL, NULL), 0);
	assert_int_equal(img_load(out_path, NULL, 0, &img, &diag), 0);
	assert_int_equal(img->info.img_size, 10240);
	assert_int_equal(img->info.version.revision, 3);
	assert_int_equal(img->info.version.build, 4);
	img_free(img);
}

/* An upload's first chunk keeps the worker busy (the emptiness scan of the slot) while echo
 * requests pile up: a drop profile loses what finds no buffer, a stall profile makes it wait. */
static unsigned answered_during_busy_worker(const char *name, const char *profile,
					    size_t *ret_dropped, struct tl_sim *sim)
{
	/* slow enough that the echos surely arrive while the scan runs (29 ms real on lan) */
	const char *const more[] = {"--profile", profile, "--speed", "4", NULL};
	struct client *c = client_new();
	uint8_t body[BUF_SIZE], echo_body[64], pkt[4096];
	unsigned answered = 0;
	struct image img;
	int n;

	start(sim, name, "udp", more);
	client_open_udp(c, sim->spec);
	make_image(&img, "2.0.0", 50);
	n = (int)encode_chunk(&img, 0, 2048 - SMP_HDR_SIZE, body, sizeof(body));
	client_send(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD, body, (size_t)n,
		    NULL);
	n = smp_echo_req_encode(echo_body, sizeof(echo_body), "x");
	for (int i = 0; i < 7; i++)
		client_send(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, echo_body,
			    (size_t)n, NULL);
	while (client_recv(c, pkt, sizeof(pkt), answered ? SILENCE : TIMEOUT) > 0)
		answered++;
	*ret_dropped = tl_sim_count_events(sim, "drop", "reason", "no-buffer");
	client_close(c);
	free(c);
	stop(sim);
	free(img.data);
	return answered;
}

static void test_full_buffers_drop_or_stall(void **state)
{
	struct tl_sim sim;
	size_t dropped;
	unsigned answered;

	/* lan: 4 buffers of 2048, a full pool drops (the chunk holds one, 3 echos fit) */
	answered = answered_during_busy_worker("bufs-drop", "lan", &dropped, &sim);
	assert_int_equal(answered, 4);
	assert_int_equal(dropped, 4);
	/* spi-lp: link-layer flow control, everything is answered eventually */
	answered = answered_during_busy_worker("bufs-stall", "spi-lp", &dropped, &sim);
	assert_int_equal(answered, 8);
	assert_int_equal(dropped, 0);
}

/* The model times of the flash operations of one sequential upload, from the trace. */
static void upload_work_times(const char *name, const char *seed, char *out, size_t size)
{
	const char *const more[] = {"--seed", seed, NULL};
	struct client *c = client_new();
	struct smp_upload_rsp last;
	struct tl_event *ev = NULL;
	struct image img;
	struct tl_sim sim;
	size_t n = 0, used = 0;

	start(&sim, name, "udp", more);
	client_open_udp(c, sim.spec);
	make_image(&img, "2.0.0", 51);
	upload_sequential(c, &img, 0, &last);
	client_close(c);
	free(c);
	stop(&sim);
	assert_int_equal(tl_trace_load(sim.trace, &ev, &n), 0);
	out[0] = 0;
	for (size_t i = 0; i < n && used + 32 < size; i++)
		if (strcmp(ev[i].name, "upload") == 0)
			used += (size_t)snprintf(out + used, size - used, "%s ",
						 tl_ev_get(&ev[i], "work_ms"));
	free(ev);
	free(img.data);
}

static void test_same_seed_same_flash_timing(void **state)
{
	char a[1024], b[1024], c[1024];

	upload_work_times("seed-a", "7", a, sizeof(a));
	upload_work_times("seed-b", "7", b, sizeof(b));
	upload_work_times("seed-c", "8", c, sizeof(c));
	assert_true(strlen(a) > 20);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
}

static void test_image_check_answers_match_after_reading_slot(void **state)
{
	const char *const more[] = {"--profile", "spi-hp", NULL};
	struct client *c = client_new();
	struct smp_upload_rsp last;
	struct tl_event *ev = NULL;
	const struct tl_event *final = NULL;
	struct image img;
	struct tl_sim sim;
	size_t n = 0;

	start(&sim, "match", "udp", more);
	client_open_udp(c, sim.spec);
	make_image(&img, "2.0.0", 52);
	upload_sequential(c, &img, 0, &last);
	assert_true(last.has_match);
	assert_true(last.match);
	client_close(c);
	free(c);
	stop(&sim);
	assert_int_equal(tl_trace_load(sim.trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ev[i].name, "upload") == 0)
			final = &ev[i];
	assert_non_null(final);
	/* the last chunk's work includes hashing the image at 1 MiB/s (20 ms for 21 KB) */
	assert_true(tl_ev_double(final, "work_ms") > 1000.0 * (double)img.len / (1024 * 1024));
	free(ev);
	free(img.data);
}

static void test_key_refuses_unsigned_factory_image(void **state)
{
	const char *img = tl_path("unsigned.bin");
	char key[1024];
	char *mk[] = {(char *)tl_bin("otasim"),
		      "mkimage",
		      "--version",
		      "1.0.0",
		      "--size",
		      "4k",
		      (char *)img,
		      NULL};
	char *argv[] = {(char *)tl_bin("otasim"), "--udp",     "127.0.0.1:0", "--key", key,
			"--initial-image",	  (char *)img, NULL};
	char *out = NULL, *err = NULL;

	snprintf(key, sizeof(key), "%s/tests/data/keys/ec-p256.pub.pem", OTAD_SOURCE_DIR);
	assert_int_equal(tl_run(mk, 20000, NULL, NULL), 0);
	assert_int_equal(tl_run(argv, 20000, &out, &err), 1);
	assert_true(tl_contains(err, "does not pass MCUboot's validation"));
	assert_string_equal(out, "");
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_echo_params_state_slot_info),
		cmocka_unit_test(test_udp_update_swaps_and_traces),
		cmocka_unit_test(test_pty_commands_and_update),
		cmocka_unit_test(test_pty_request_filling_buffer_without_framing_room_is_dropped),
		cmocka_unit_test(test_overrun_pipelined_upload_is_refused_by_bootloader),
		cmocka_unit_test(test_overrun_sequential_upload_is_safe),
		cmocka_unit_test(test_restart_with_same_state_keeps_slots_not_upload),
		cmocka_unit_test(test_drop_response_fault),
		cmocka_unit_test(test_reboot_at_fault_loses_upload),
		cmocka_unit_test(test_mute_at_and_mute_after),
		cmocka_unit_test(test_reenumerate_moves_symlink),
		cmocka_unit_test(test_malformed_state_file_is_refused_with_line),
		cmocka_unit_test(test_list_profiles_and_mkimage),
		cmocka_unit_test(test_full_buffers_drop_or_stall),
		cmocka_unit_test(test_same_seed_same_flash_timing),
		cmocka_unit_test(test_image_check_answers_match_after_reading_slot),
		cmocka_unit_test(test_key_refuses_unsigned_factory_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
