/* simctl.c — otasim as a test fixture. */
#include "lib/simctl.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "otad/console.h"
#include "otad/image.h"

int tl_sim_start(struct tl_sim *s, const char *name, const char *kind, const char *const *extra)
{
	const char *argv[64];
	char line[256];
	unsigned n = 0;
	bool udp = strcmp(kind, "udp") == 0, addr_given = false;
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->trace, sizeof(s->trace), "%s/%s.trace", tl_tmpdir(), name);
	snprintf(s->state, sizeof(s->state), "%s/%s.state", tl_tmpdir(), name);
	argv[n++] = tl_bin("otasim");
	for (unsigned i = 0; extra && extra[i]; i++)
		addr_given |= strcmp(extra[i], "--udp") == 0;
	if (udp && !addr_given) {
		argv[n++] = "--udp";
		argv[n++] = "127.0.0.1:0";
	} else if (!udp) {
		argv[n++] = "--serial";
	}
	argv[n++] = "--trace";
	argv[n++] = s->trace;
	argv[n++] = "--state";
	argv[n++] = s->state;
	for (unsigned i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	r = tl_spawn(&s->proc, (char *const *)argv);
	if (r < 0)
		return r;
	r = tl_proc_read_line(&s->proc, line, sizeof(line), 20000);
	if (r >= 0 && udp && strncmp(line, "udp: ", 5) == 0)
		snprintf(s->spec, sizeof(s->spec), "udp:%s", line + 5);
	else if (r >= 0 && !udp && strncmp(line, "pty: ", 5) == 0)
		snprintf(s->spec, sizeof(s->spec), "serial:%s", line + 5);
	else if (r >= 0)
		r = -EPROTO;
	if (r < 0) { /* never leave a half-started simulator behind */
		tl_proc_kill(&s->proc, SIGKILL);
		(void)tl_proc_wait(&s->proc, 5000);
		return r;
	}
	return 0;
}

int tl_sim_start_ble(struct tl_sim *s, const char *name, const char *hci, const char *const *extra)
{
	const char *argv[64];
	char line[256], want[128];
	unsigned n = 0;
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->trace, sizeof(s->trace), "%s/%s.trace", tl_tmpdir(), name);
	snprintf(s->state, sizeof(s->state), "%s/%s.state", tl_tmpdir(), name);
	argv[n++] = tl_bin("otasim");
	argv[n++] = "--ble";
	argv[n++] = "--hci";
	argv[n++] = hci;
	argv[n++] = "--name";
	argv[n++] = name;
	argv[n++] = "--trace";
	argv[n++] = s->trace;
	argv[n++] = "--state";
	argv[n++] = s->state;
	for (unsigned i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	r = tl_spawn(&s->proc, (char *const *)argv);
	if (r < 0)
		return r;
	r = tl_proc_read_line(&s->proc, line, sizeof(line), 20000);
	snprintf(want, sizeof(want), "ble: %s ", name);
	if (r >= 0 && strncmp(line, want, strlen(want)) == 0) {
		snprintf(s->ble_addr, sizeof(s->ble_addr), "%s", line + strlen(want));
		snprintf(s->spec, sizeof(s->spec), "ble:name=%s", name);
	} else if (r >= 0) {
		r = -EPROTO;
	}
	if (r < 0) {
		tl_proc_kill(&s->proc, SIGKILL);
		(void)tl_proc_wait(&s->proc, 5000);
		return r;
	}
	return 0;
}

int tl_sim_stop(struct tl_sim *s)
{
	char *err;
	size_t len;
	int r;

	tl_proc_kill(&s->proc, SIGTERM);
	r = tl_proc_wait(&s->proc, 20000);
	if (r == 0 || r == 128 + SIGTERM)
		return r;
	/* Why it did not stop cleanly is in its last words, not in the exit code. */
	err = tl_proc_stderr(&s->proc);
	len = err ? strlen(err) : 0;
	fprintf(stderr, "otasim %s exited %d; the end of its stderr:\n%s\n", s->spec, r,
		err ? err + (len > 2000 ? len - 2000 : 0) : "(none)");
	free(err);
	return r;
}

size_t tl_sim_count_events(struct tl_sim *s, const char *name, const char *key, const char *value)
{
	struct tl_event *ev = NULL;
	size_t n = 0, count = 0;

	if (tl_trace_load(s->trace, &ev, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *v = key ? tl_ev_get(&ev[i], key) : NULL;

		if (strcmp(ev[i].name, name) == 0 && (!key || (v && strcmp(v, value) == 0)))
			count++;
	}
	free(ev);
	return count;
}

int tl_sim_wait_event(struct tl_sim *s, const char *name, const char *key, const char *value,
		      int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (tl_sim_count_events(s, name, key, value) > 0)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* ---- Raw SMP client ------------------------------------------------------------------------- */
struct tl_client {
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
	struct tl_client *c = user_data;
	unsigned i = (c->q_head + c->q_n) % 8;

	if (c->q_n < 8 && len <= sizeof(c->q[0])) {
		memcpy(c->q[i], pkt, len);
		c->q_len[i] = len;
		c->q_n++;
	}
}

struct tl_client *tl_client_udp(const char *spec)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res = NULL;
	const char *colon = strrchr(spec, ':');
	struct tl_client *c;
	char host[128];

	if (!colon || strncmp(spec, "udp:", 4) != 0 || colon < spec + 4)
		return NULL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec - 4), spec + 4);
	if (host[0] == '[') { /* [::1] */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = 0;
	}
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c) {
		c->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0 || connect(c->fd, res->ai_addr, res->ai_addrlen) < 0) {
			tl_client_free(c);
			c = NULL;
		}
	}
	freeaddrinfo(res);
	return c;
}

struct tl_client *tl_client_serial(const char *path)
{
	static const struct console_decoder_ops ops = {.packet = on_console_packet};
	struct tl_client *c = calloc(1, sizeof(*c));
	struct termios t;

	if (!c)
		return NULL;
	c->serial = true;
	c->fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	c->dec = console_decoder_new(&ops, c);
	if (c->fd < 0 || !c->dec) {
		int saved = errno;

		tl_client_free(c);
		errno = saved;
		return NULL;
	}
	if (tcgetattr(c->fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(c->fd, TCSANOW, &t);
	}
	return c;
}

void tl_client_free(struct tl_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	console_decoder_free(c->dec);
	free(c);
}

int tl_client_send(struct tl_client *c, uint8_t ver, uint8_t op, uint16_t group, uint8_t id,
		   const uint8_t *body, size_t len, uint8_t *ret_seq)
{
	struct smp_hdr h = {.op = op,
			    .ver = ver,
			    .len = (uint16_t)len,
			    .group = group,
			    .seq = c->seq++,
			    .id = id};
	size_t framed_size = console_encoded_size(SMP_HDR_SIZE + len) + 16;
	uint8_t *pkt = malloc(SMP_HDR_SIZE + len), *framed = NULL;
	ssize_t n, want;
	int r = 0;

	if (!pkt || len > UINT16_MAX) {
		free(pkt);
		return -ENOMEM;
	}
	smp_hdr_encode(&h, pkt);
	memcpy(pkt + SMP_HDR_SIZE, body, len);
	if (ret_seq)
		*ret_seq = h.seq;
	if (c->serial) {
		framed = malloc(framed_size);
		want = framed ? console_encode(pkt, SMP_HDR_SIZE + len, framed, framed_size) : -1;
		n = want > 0 ? write(c->fd, framed, (size_t)want) : -1;
	} else {
		want = (ssize_t)(SMP_HDR_SIZE + len);
		n = send(c->fd, pkt, (size_t)want, 0);
	}
	if (n < 0 || n != want)
		r = -EIO;
	free(framed);
	free(pkt);
	return r;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tl_client_recv(struct tl_client *c, uint8_t *pkt, size_t size, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int64_t left = deadline - mono_ms();
		uint8_t buf[8192];
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
		if ((p.revents & (POLLHUP | POLLERR)) && !(p.revents & POLLIN))
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

int tl_client_call(struct tl_client *c, uint8_t ver, uint8_t op, uint16_t group, uint8_t id,
		   const uint8_t *body, size_t len, uint8_t *rsp, size_t rsp_size, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	uint8_t seq, pkt[CONSOLE_PKT_MAX + 100];
	int r = tl_client_send(c, ver, op, group, id, body, len, &seq);

	while (r >= 0) {
		struct smp_hdr h;
		int64_t left = deadline - mono_ms();
		int n = tl_client_recv(c, pkt, sizeof(pkt), left > 0 ? (int)left : 0);

		if (n < 0)
			return n;
		if (smp_hdr_decode(pkt, (size_t)n, &h) < 0 || h.seq != seq)
			continue; /* a late answer to something earlier */
		if (h.op != (op == SMP_OP_READ ? SMP_OP_READ_RSP : SMP_OP_WRITE_RSP) ||
		    h.group != group || h.id != id || h.ver != ver ||
		    h.len != (size_t)n - SMP_HDR_SIZE || h.len > rsp_size)
			return -EPROTO;
		memcpy(rsp, pkt + SMP_HDR_SIZE, h.len);
		return h.len;
	}
	return r;
}

/* ---- Commands ------------------------------------------------------------------------------- */
int tl_smp_echo(struct tl_client *c, const char *text, int timeout_ms)
{
	size_t size = strlen(text) + 64;
	uint8_t *body = malloc(size), *rsp = malloc(size);
	struct smp_echo_rsp e;
	int n = body && rsp ? smp_echo_req_encode(body, size, text) : -ENOMEM;

	if (n >= 0)
		n = tl_client_call(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_ECHO, body,
				   (size_t)n, rsp, size, timeout_ms);
	/* the decoder keeps the first 255 bytes; the response is as long as the request */
	if (n >= 0 && (smp_echo_rsp_decode(rsp, (size_t)n, &e, NULL) < 0 || !smp_err_ok(&e.err) ||
		       strncmp(e.text, text, sizeof(e.text) - 1) != 0 || (size_t)n < strlen(text)))
		n = -EPROTO;
	free(body);
	free(rsp);
	return n < 0 ? n : 0;
}

int tl_smp_image_state(struct tl_client *c, struct smp_image_state *ret, int timeout_ms)
{
	uint8_t body[8], rsp[2048];
	int n = smp_empty_req_encode(body, sizeof(body));

	n = tl_client_call(c, SMP_VER_2, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_STATE, body,
			   (size_t)n, rsp, sizeof(rsp), timeout_ms);
	if (n < 0)
		return n;
	if (smp_image_state_decode(rsp, (size_t)n, ret, NULL) < 0 || !smp_err_ok(&ret->err))
		return -EPROTO;
	return 0;
}

int tl_smp_state_write(struct tl_client *c, const uint8_t *hash, bool confirm, int timeout_ms)
{
	uint8_t body[128], rsp[2048];
	struct smp_image_state st;
	int n = smp_state_write_req_encode(body, sizeof(body), hash, hash ? 32 : 0, confirm);

	if (n < 0)
		return n;
	n = tl_client_call(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_STATE, body,
			   (size_t)n, rsp, sizeof(rsp), timeout_ms);
	if (n < 0)
		return n;
	if (smp_image_state_decode(rsp, (size_t)n, &st, NULL) < 0 || !smp_err_ok(&st.err))
		return -EPROTO;
	return 0;
}

int tl_smp_reset(struct tl_client *c, int timeout_ms)
{
	uint8_t body[32], rsp[64];
	struct smp_err e;
	int n = smp_reset_req_encode(body, sizeof(body), false);

	n = tl_client_call(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_OS, SMP_OS_RESET, body, (size_t)n,
			   rsp, sizeof(rsp), timeout_ms);
	if (n < 0)
		return n;
	return smp_err_decode(rsp, (size_t)n, &e, NULL) < 0 || !smp_err_ok(&e) ? -EPROTO : 0;
}

int tl_smp_wait_up(struct tl_client *c, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 200)
		if (tl_smp_echo(c, "up?", 200) == 0)
			return 0;
	return -ETIMEDOUT;
}

/* ---- Images and uploads --------------------------------------------------------------------- */
int tl_image_make(struct tl_image *img, const char *version, size_t payload, uint32_t seed)
{
	struct img_build_opts o = {.payload_size = payload, .seed = seed};
	struct img_info info;
	int r;

	memset(img, 0, sizeof(*img));
	r = img_version_parse(version, &o.version);
	if (r >= 0)
		r = img_build(&o, &img->data, &img->len);
	if (r >= 0)
		r = img_parse(img->data, img->len, &info, NULL);
	if (r < 0) {
		tl_image_done(img);
		return r;
	}
	memcpy(img->hash, info.hash, 32);
	SHA256(img->data, img->len, img->sha);
	return 0;
}

void tl_image_done(struct tl_image *img)
{
	free(img->data);
	img->data = NULL;
}

static void upload_req(const struct tl_image *img, uint32_t off, struct smp_upload_req *r)
{
	memset(r, 0, sizeof(*r));
	r->off = off;
	if (off == 0) {
		r->has_first = true;
		r->len = (uint32_t)img->len;
		memcpy(r->sha, img->sha, 32);
		r->sha_len = 32;
	}
}

size_t tl_upload_chunk_len(const struct tl_image *img, uint32_t off, size_t body_max)
{
	struct smp_upload_req r;
	size_t n;

	upload_req(img, off, &r);
	n = smp_upload_req_max_data(&r, body_max);
	return img->len - off < n ? img->len - off : n;
}

size_t tl_upload_encode(const struct tl_image *img, uint32_t off, size_t body_max, uint8_t *buf,
			size_t size)
{
	struct smp_upload_req r;
	int n;

	upload_req(img, off, &r);
	r.data_len = tl_upload_chunk_len(img, off, body_max);
	r.data = img->data + off;
	n = smp_upload_req_encode(buf, size, &r);
	return n > 0 && (size_t)n <= body_max ? (size_t)n : 0;
}

int tl_upload_sequential(struct tl_client *c, const struct tl_image *img, size_t body_max,
			 struct smp_upload_rsp *last, int timeout_ms)
{
	uint8_t *body = malloc(body_max), rsp[256];
	uint32_t off = 0;
	int requests = 0, r = 0;

	if (!body)
		return -ENOMEM;
	while (off < img->len && r >= 0) {
		size_t n = tl_upload_encode(img, off, body_max, body, body_max);

		r = n ? tl_client_call(c, SMP_VER_2, SMP_OP_WRITE, SMP_GROUP_IMAGE, SMP_IMG_UPLOAD,
				       body, n, rsp, sizeof(rsp), timeout_ms)
		      : -EINVAL;
		if (r >= 0 && (smp_upload_rsp_decode(rsp, (size_t)r, last, NULL) < 0 ||
			       !smp_err_ok(&last->err) || !last->has_off || last->off <= off))
			r = -EPROTO;
		if (r >= 0) {
			off = last->off;
			requests++;
		}
	}
	free(body);
	return r < 0 ? r : requests;
}

const char *tl_mkimage(const char *name, const char *version, const char *size)
{
	const char *path = tl_path(name);
	char *argv[] = {(char *)tl_bin("otasim"),
			"mkimage",
			"--version",
			(char *)version,
			"--size",
			(char *)size,
			(char *)path,
			NULL};
	char *err = NULL;
	int r = tl_run(argv, tl_timeout(20000), NULL, &err);

	if (r != 0) {
		fprintf(stderr, "otasim mkimage failed (%d): %s\n", r, err ? err : "");
		abort();
	}
	free(err);
	return path;
}

int tl_otactl(char **out, const char *spec, ...)
{
	const char *argv[48];
	unsigned n = 0;
	va_list ap;
	char *err = NULL;
	int r;

	argv[n++] = tl_bin("otactl");
	argv[n++] = "-t";
	argv[n++] = spec;
	va_start(ap, spec);
	for (const char *a; (a = va_arg(ap, const char *)) && n < 46;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	r = tl_run((char *const *)argv, 240000, out, &err);
	if (err && *err)
		fprintf(stderr, "otactl stderr: %s\n", err);
	free(err);
	return r;
}
