/* test-transport.c — tr_open's spec parser, the UDP transport against real loopback sockets and
 * the serial transport against real pty pairs (the test plays the device on the master side,
 * decoding and answering with the console codec): traffic, discards, backlog and writable(),
 * hangup and reopen through a re-pointed symlink. Every wait has a deadline. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/testlib.h"
#include "otad/console.h"
#include "otad/transport.h"

/* SMP v2 echo request {"d": "hello"} (see test-console.c) and a response-shaped packet. */
static const uint8_t echo_req[] = {0x0a, 0x00, 0x00, 0x09, 0x00, 0x00, 0x42, 0x00, 0xa1,
				   0x61, 0x64, 0x65, 'h',  'e',	 'l',  'l',  'o'};
static const uint8_t echo_rsp[] = {0x0b, 0x00, 0x00, 0x09, 0x00, 0x00, 0x42, 0x00, 0xa1,
				   0x61, 0x72, 0x65, 'h',  'e',	 'l',  'l',  'o'};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Builds an SMP-shaped packet of len bytes (header length consistent) with a pattern body. */
static void make_pkt(uint8_t *p, size_t len, uint8_t seed)
{
	memset(p, 0, 8);
	p[0] = 0x0a;
	p[2] = (uint8_t)((len - 8) >> 8);
	p[3] = (uint8_t)(len - 8);
	p[5] = 1;
	p[6] = seed;
	for (size_t i = 8; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

/* ---- the owner's view ---------------------------------------------------------------------- */

#define OBS_MAX 64
struct obs {
	struct tr *t;
	char seq[64]; /* events in order: 'U' / 'D' */
	int down_err[8];
	unsigned ups, downs, writable;
	size_t npkt;
	uint8_t *pkt[OBS_MAX];
	size_t pkt_len[OBS_MAX];
	size_t ndiscard;
	char discard[OBS_MAX][256];
	size_t ntext;
	char text[OBS_MAX][CONSOLE_TEXT_MAX + 1];
	bool answer_in_recv;	/* tr_send() an answer from inside recv() */
	bool reconnect_on_down; /* tr_reconnect() from inside event(DOWN), like the update job */
};

static void obs_recv(struct tr *t, const uint8_t *pkt, size_t len, void *userdata)
{
	struct obs *o = userdata;

	if (o->npkt < OBS_MAX) {
		o->pkt[o->npkt] = malloc(len);
		memcpy(o->pkt[o->npkt], pkt, len);
		o->pkt_len[o->npkt] = len;
	}
	o->npkt++;
	if (o->answer_in_recv)
		assert_int_equal(tr_send(t, echo_req, sizeof(echo_req)), 0);
}

static void obs_event(struct tr *t, enum tr_event ev, int err, void *userdata)
{
	struct obs *o = userdata;
	size_t n = strlen(o->seq);

	if (n + 1 < sizeof(o->seq))
		o->seq[n] = ev == TR_EVENT_UP ? 'U' : 'D';
	if (ev == TR_EVENT_UP) {
		o->ups++;
		assert_int_equal(err, 0);
		return;
	}
	if (o->downs < 8)
		o->down_err[o->downs] = err;
	o->downs++;
	assert_true(err < 0);
	if (o->reconnect_on_down)
		assert_int_equal(tr_reconnect(t), 0);
}

static void obs_writable(struct tr *t, void *userdata)
{
	((struct obs *)userdata)->writable++;
}

static void obs_discard(struct tr *t, const char *what, void *userdata)
{
	struct obs *o = userdata;

	if (o->ndiscard < OBS_MAX)
		snprintf(o->discard[o->ndiscard], sizeof(o->discard[0]), "%s", what);
	o->ndiscard++;
}

static void obs_text(struct tr *t, const char *line, size_t len, void *userdata)
{
	struct obs *o = userdata;

	if (o->ntext < OBS_MAX) {
		memcpy(o->text[o->ntext], line, len);
		o->text[o->ntext][len] = 0;
	}
	o->ntext++;
}

static const struct tr_callbacks obs_cb = {
	.recv = obs_recv,
	.event = obs_event,
	.writable = obs_writable,
	.discard = obs_discard,
	.text = obs_text,
};

static void obs_clear_packets(struct obs *o)
{
	for (size_t i = 0; i < o->npkt && i < OBS_MAX; i++)
		free(o->pkt[i]);
	o->npkt = 0;
}

static void obs_done(struct obs *o)
{
	obs_clear_packets(o);
	o->t = tr_free(o->t);
}

static bool obs_discarded(const struct obs *o, const char *needle)
{
	for (size_t i = 0; i < o->ndiscard && i < OBS_MAX; i++)
		if (strstr(o->discard[i], needle))
			return true;
	return false;
}

static int obs_open(struct obs *o, sd_event *e, const char *spec, const struct tr_options *opt)
{
	int r;

	memset(o, 0, sizeof(*o));
	r = tr_open(e, spec, opt, &o->t);
	if (r < 0)
		return r;
	tr_set_callbacks(o->t, &obs_cb, o);
	return 0;
}

/* ---- the device side of a pty -------------------------------------------------------------- */

struct dev {
	int master;
	char slave[128];
	bool reading;
	struct console_decoder *dec;
	size_t npkt;
	uint8_t *pkt[OBS_MAX];
	size_t pkt_len[OBS_MAX];
	size_t ndiscard;
};

static void dev_packet(const uint8_t *pkt, size_t len, void *userdata)
{
	struct dev *d = userdata;

	if (d->npkt < OBS_MAX) {
		d->pkt[d->npkt] = malloc(len);
		memcpy(d->pkt[d->npkt], pkt, len);
		d->pkt_len[d->npkt] = len;
	}
	d->npkt++;
}

static void dev_discard(const char *why, void *userdata)
{
	((struct dev *)userdata)->ndiscard++;
}

static const struct console_decoder_ops dev_ops = {.packet = dev_packet, .discard = dev_discard};

static void dev_open_pty(struct dev *d)
{
	d->master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	assert_true(d->master >= 0);
	assert_int_equal(grantpt(d->master), 0);
	assert_int_equal(unlockpt(d->master), 0);
	assert_int_equal(ptsname_r(d->master, d->slave, sizeof(d->slave)), 0);
}

/* Points link at the current slave, atomically (rename over the old symlink). */
static void dev_link(struct dev *d, const char *link)
{
	char tmp[4200];

	snprintf(tmp, sizeof(tmp), "%s.new", link);
	unlink(tmp);
	assert_int_equal(symlink(d->slave, tmp), 0);
	assert_int_equal(rename(tmp, link), 0);
}

static void dev_init(struct dev *d, const char *link)
{
	memset(d, 0, sizeof(*d));
	d->reading = true;
	d->dec = console_decoder_new(&dev_ops, d);
	assert_non_null(d->dec);
	dev_open_pty(d);
	dev_link(d, link);
}

static void dev_clear(struct dev *d)
{
	for (size_t i = 0; i < d->npkt && i < OBS_MAX; i++)
		free(d->pkt[i]);
	d->npkt = 0;
}

static void dev_done(struct dev *d)
{
	dev_clear(d);
	if (d->master >= 0)
		close(d->master);
	console_decoder_free(d->dec);
}

/* Reads what the transport wrote (EIO while no slave is open is fine). */
static void dev_pump(struct dev *d)
{
	uint8_t buf[4096];
	ssize_t n;

	if (!d || !d->reading || d->master < 0)
		return;
	while ((n = read(d->master, buf, sizeof(buf))) > 0)
		console_decoder_feed(d->dec, buf, (size_t)n);
}

static void dev_write_raw(struct dev *d, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t end = now_ms() + 2000;

	while (len > 0) {
		ssize_t n = write(d->master, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		assert_true(n < 0 && errno == EAGAIN);
		assert_true(now_ms() < end);
		poll(&(struct pollfd){.fd = d->master, .events = POLLOUT}, 1, 50);
	}
}

static void dev_send(struct dev *d, const uint8_t *pkt, size_t len)
{
	uint8_t buf[8192];
	ssize_t n = console_encode(pkt, len, buf, sizeof(buf));

	assert_true(n > 0);
	dev_write_raw(d, buf, (size_t)n);
}

/* Runs the loop (and the device) until expr holds or ms pass; evaluates to expr. */
#define WAIT(e, d, expr, ms)                                                                       \
	({                                                                                         \
		uint64_t _end = now_ms() + (ms);                                                   \
		bool _ok;                                                                          \
		for (;;) {                                                                         \
			dev_pump(d);                                                               \
			if ((_ok = (expr)) || now_ms() >= _end)                                    \
				break;                                                             \
			assert_true(sd_event_run((e), 5 * 1000) >= 0);                             \
		}                                                                                  \
		_ok;                                                                               \
	})

static sd_event *new_loop(void)
{
	sd_event *e = NULL;

	assert_int_equal(sd_event_new(&e), 0);
	return e;
}

/* ---- spec parser --------------------------------------------------------------------------- */

/* Each bad spec is -EINVAL, and tr_open_error() names what is wrong in it. */
static void test_open_rejects_bad_specs_and_says_why(void **state)
{
	static const struct {
		const char *spec, *why;
	} bad[] = {
		{"udp:", "udp:: no host (udp:HOST[:PORT])"},
		{"udp:host:99999", "udp:host:99999: port 99999 is out of range (1..65535)"},
		{"udp:[::1", "udp:[::1: '[' without its ']' (udp:[IPV6]:PORT)"},
		{"serial:/dev/x@12345",
		 "serial:/dev/x@12345: 12345 baud is not a rate a tty can be "
		 "set to (1200, 2400, 4800, 9600, 19200, 38400, 57600, "
		 "115200, 230400, 460800, 500000, 576000, 921600, 1000000, "
		 "1152000, 1500000, 2000000, 2500000, 3000000, 3500000, "
		 "4000000)"},
		{"foo:bar", "not a transport: 'foo:bar' (expected " TR_SPEC_HELP ")"},
		{"udp:127.0.0.1:0", "udp:127.0.0.1:0: port 0 is out of range (1..65535)"},
		{"udp:::1", "udp:::1: an IPv6 address goes in brackets (udp:[::1]:1337)"},
		{"udp:[::1]x", "udp:[::1]x: 'x' after ']' (expected :PORT)"},
		{"udp:[::1]:", "udp:[::1]:: port '' is not a number (1..65535)"},
		{"udp:1.2.3.4:-1", "udp:1.2.3.4:-1: port '-1' is not a number (1..65535)"},
		{"udp:[]:1337", "udp:[]:1337: no host (udp:HOST[:PORT])"},
		{"serial:", "serial:: no path (serial:PATH[@BAUD])"},
		{"serial:@115200", "serial:@115200: no path (serial:PATH[@BAUD])"},
		{"serial:/dev/x@", "serial:/dev/x@: baud '' is not a number"},
		{"serial:/dev/x@fast", "serial:/dev/x@fast: baud 'fast' is not a number"},
		{"", "not a transport: '' (expected " TR_SPEC_HELP ")"},
		{"udp", "not a transport: 'udp' (expected " TR_SPEC_HELP ")"},
		{"UDP:127.0.0.1", "not a transport: 'UDP:127.0.0.1' (expected " TR_SPEC_HELP ")"},
		/* BLE needs a controller (test-transport-ble.c) */
		{"ble:C0:11:22:33:44:55", "ble:C0:11:22:33:44:55: BLE needs a controller to go "
					  "through"},
	};
	sd_event *e = new_loop();
	struct tr *t = NULL;
	char why[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tr_open(e, bad[i].spec, NULL, &t) != -EINVAL)
			fail_msg("\"%s\" not rejected with -EINVAL", bad[i].spec);
		assert_string_equal(tr_open_error(bad[i].spec, NULL, -EINVAL, why, sizeof(why)),
				    bad[i].why);
		/* tr_spec_check(): the same, without the spec (and without the controller) */
		if (strncmp(bad[i].spec, "ble:", 4) == 0) {
			assert_int_equal(tr_spec_check(bad[i].spec, why, sizeof(why)), 0);
		} else if (strncmp(bad[i].why, "not a transport", 15) == 0) {
			assert_int_equal(tr_spec_check(bad[i].spec, why, sizeof(why)), -EINVAL);
			assert_string_equal(why, "not a transport (expected " TR_SPEC_HELP ")");
		} else {
			assert_int_equal(tr_spec_check(bad[i].spec, why, sizeof(why)), -EINVAL);
			assert_string_equal(why,
					    bad[i].why + strlen(bad[i].spec) + 2); /* "SPEC: " */
		}
	}
	assert_int_equal(tr_spec_check("ble:C0:11:22", why, sizeof(why)), -EINVAL);
	assert_true(strstr(why, "not a device address") != NULL);
	assert_int_equal(tr_spec_check("ble:name=sensor-1", NULL, 0), 0);
	assert_int_equal(tr_spec_check("udp:h", NULL, 0), 0);
	assert_int_equal(tr_spec_check("serial:/dev/ttyACM0@115200", NULL, 0), 0);
	assert_null(t);
	/* A host name that resolves to nothing (or a resolver that does not answer), a missing tty:
	 * what tr_open() said, in words. */
	assert_string_equal(tr_open_error("udp:h.invalid", NULL, -EAGAIN, why, sizeof(why)),
			    "udp:h.invalid: the host name cannot be resolved now (DNS did not "
			    "answer)");
	assert_string_equal(
		tr_open_error("udp:nonexistent.invalid", NULL, -ENOENT, why, sizeof(why)),
		"udp:nonexistent.invalid: host not found (neither /etc/hosts nor DNS "
		"knows it)");
	assert_string_equal(tr_open_error("serial:/nonexistent", NULL, -ENOENT, why, sizeof(why)),
			    "cannot open serial:/nonexistent: No such file or directory");
	sd_event_unref(e);
}

/* ---- UDP ----------------------------------------------------------------------------------- */

/* A bound loopback socket playing the device; returns its port. */
static int udp_server(int family, uint16_t port, uint16_t *ret_port)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(port);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(port);
		sl = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret_port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					     : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* Receives one datagram (waiting up to 1 s) and remembers the peer for udp_reply(). */
static struct sockaddr_storage peer;
static socklen_t peer_len;

static ssize_t udp_recv(int fd, uint8_t *buf, size_t size)
{
	if (poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, 1000) != 1)
		return -ETIMEDOUT;
	peer_len = sizeof(peer);
	return recvfrom(fd, buf, size, 0, (struct sockaddr *)&peer, &peer_len);
}

static void udp_reply(int fd, const void *buf, size_t len)
{
	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&peer, peer_len), (ssize_t)len);
}

static void udp_roundtrip(int family)
{
	sd_event *e = new_loop();
	uint8_t buf[4096], big[2048];
	size_t big_len;
	uint16_t port;
	char spec[64];
	struct obs o;
	int srv = udp_server(family, 0, &port);

	if (srv < 0 && family == AF_INET6) {
		sd_event_unref(e);
		skip();
	}
	assert_true(srv >= 0);
	if (family == AF_INET6)
		snprintf(spec, sizeof(spec), "udp:[::1]:%u", port);
	else
		snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", port);
	assert_int_equal(obs_open(&o, e, spec, NULL), 0);
	assert_string_equal(tr_describe(o.t), spec);
	/* Up at once, but the first UP comes from the loop. */
	assert_true(tr_is_up(o.t));
	assert_int_equal(o.ups, 0);
	assert_true(WAIT(e, NULL, o.ups == 1, 1000));
	assert_int_equal(tr_frame_overhead(o.t), 0);
	/* Loopback's path MTU is 64 KiB: 2 KiB requests go in one datagram. qemu-user (the arm64
	 * tests) does not emulate IP_MTU: there the IPv4 fallback, 1472, is what it gets. */
	if (getenv("OTAD_TEST_EMULATED") && family == AF_INET)
		assert_int_equal(tr_max_packet(o.t), 1472);
	else
		assert_true(tr_max_packet(o.t) >= 2048);
	assert_true(tr_max_packet(o.t) <= 65507);

	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), 0);
	assert_int_equal(tr_backlog(o.t), 0);
	assert_int_equal(udp_recv(srv, buf, sizeof(buf)), sizeof(echo_req));
	assert_memory_equal(buf, echo_req, sizeof(echo_req));

	big_len = tr_max_packet(o.t) < sizeof(big) ? tr_max_packet(o.t) : sizeof(big);
	make_pkt(big, big_len, 7);
	assert_int_equal(tr_send(o.t, big, big_len), 0);
	assert_int_equal(udp_recv(srv, buf, sizeof(buf)), big_len);
	assert_memory_equal(buf, big, big_len);

	/* The device answers; the owner answers back from inside recv(). */
	o.answer_in_recv = true;
	udp_reply(srv, echo_rsp, sizeof(echo_rsp));
	assert_true(WAIT(e, NULL, o.npkt == 1, 1000));
	assert_int_equal(o.pkt_len[0], sizeof(echo_rsp));
	assert_memory_equal(o.pkt[0], echo_rsp, sizeof(echo_rsp));
	assert_int_equal(udp_recv(srv, buf, sizeof(buf)), sizeof(echo_req));
	assert_int_equal(o.ndiscard, 0);
	assert_int_equal(o.downs, 0);

	close(srv);
	obs_done(&o);
	sd_event_unref(e);
}

static void test_udp_roundtrip_ipv4(void **state)
{
	udp_roundtrip(AF_INET);
}

static void test_udp_roundtrip_ipv6(void **state)
{
	udp_roundtrip(AF_INET6);
}

static void test_udp_defaults_and_names(void **state)
{
	sd_event *e = new_loop();
	struct tr *t = NULL;

	assert_int_equal(tr_open(e, "udp:127.0.0.1", NULL, &t), 0);
	assert_string_equal(tr_describe(t), "udp:127.0.0.1:1337");
	t = tr_free(t);
	/* Literal addresses are normalised; names are kept as given. */
	assert_int_equal(tr_open(e, "udp:[0:0::1]:99", NULL, &t), 0);
	assert_string_equal(tr_describe(t), "udp:[::1]:99");
	t = tr_free(t);
	assert_int_equal(tr_open(e, "udp:localhost:1234", NULL, &t), 0);
	assert_string_equal(tr_describe(t), "udp:localhost:1234");
	t = tr_free(t);
	sd_event_unref(e);
}

static void test_udp_discards_short_and_mismatched(void **state)
{
	sd_event *e = new_loop();
	uint8_t buf[64], bad[20];
	uint16_t port;
	char spec[64];
	struct obs o;
	int srv = udp_server(AF_INET, 0, &port);

	assert_true(srv >= 0);
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", port);
	assert_int_equal(obs_open(&o, e, spec, NULL), 0);
	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), 0);
	assert_true(udp_recv(srv, buf, sizeof(buf)) > 0);

	udp_reply(srv, "\x0b\x00\x00\x00\x00", 5);
	make_pkt(bad, sizeof(bad), 1);
	bad[3] = 30; /* header says 8 + 30, datagram has 20 */
	udp_reply(srv, bad, sizeof(bad));
	udp_reply(srv, echo_rsp, sizeof(echo_rsp));
	assert_true(WAIT(e, NULL, o.npkt == 1, 1000));
	assert_memory_equal(o.pkt[0], echo_rsp, sizeof(echo_rsp));
	assert_int_equal(o.ndiscard, 2);
	assert_string_equal(o.discard[0],
			    "packet of 5 bytes is shorter than the 8-byte SMP header");
	assert_string_equal(o.discard[1], "packet of 20 bytes but its SMP header says 38");

	assert_int_equal(tr_send(o.t, echo_req, 0), -EINVAL);
	assert_int_equal(tr_send(o.t, echo_req, tr_max_packet(o.t) + 1), -EMSGSIZE);
	close(srv);
	obs_done(&o);
	sd_event_unref(e);
}

static void test_udp_port_unreachable_stays_up(void **state)
{
	sd_event *e = new_loop();
	size_t n;
	uint8_t buf[64];
	uint16_t port;
	char spec[64];
	struct obs o;
	int srv = udp_server(AF_INET, 0, &port);

	/* Nothing listens on port any more: the "device" is rebooting. */
	assert_true(srv >= 0);
	close(srv);
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", port);
	assert_int_equal(obs_open(&o, e, spec, NULL), 0);
	assert_true(WAIT(e, NULL, o.ups == 1, 1000));
	assert_false(tr_peer_refused(o.t));
	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), 0);
	assert_true(WAIT(e, NULL, obs_discarded(&o, "ICMP port unreachable"), 1000));
	assert_true(tr_peer_refused(o.t)); /* refused, nothing heard: nobody listens */
	/* Once more: the pending error may now surface in send() instead. */
	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), 0);
	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), 0);
	WAIT(e, NULL, false, 100);
	assert_true(tr_is_up(o.t));
	assert_int_equal(o.downs, 0);

	/* The device is back on the same port: traffic flows. */
	srv = udp_server(AF_INET, port, &port);
	assert_true(srv >= 0);
	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), 0);
	assert_int_equal(udp_recv(srv, buf, sizeof(buf)), sizeof(echo_req));
	udp_reply(srv, echo_rsp, sizeof(echo_rsp));
	assert_true(WAIT(e, NULL, o.npkt == 1, 1000));
	/* Heard once: a later refusal (the device rebooting) is not "nobody listens". */
	close(srv);
	n = o.ndiscard;
	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), 0);
	assert_true(WAIT(e, NULL, o.ndiscard > n, 1000));
	assert_false(tr_peer_refused(o.t));
	obs_done(&o);
	sd_event_unref(e);
}

static void test_udp_reconnect_reports_down_then_up_once(void **state)
{
	sd_event *e = new_loop();
	struct obs o;

	assert_int_equal(obs_open(&o, e, "udp:127.0.0.1:9", NULL), 0);
	assert_true(WAIT(e, NULL, o.ups == 1, 1000));
	/* An owner that reconnects on every DOWN (as the update job does) must not loop. */
	o.reconnect_on_down = true;
	assert_int_equal(tr_reconnect(o.t), 0);
	assert_false(tr_is_up(o.t));
	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), -ENOTCONN);
	assert_int_equal(tr_reconnect(o.t), 0);
	assert_true(WAIT(e, NULL, o.ups == 2, 1000));
	WAIT(e, NULL, false, 100);
	assert_string_equal(o.seq, "UDU");
	assert_int_equal(o.down_err[0], -ECONNRESET);
	assert_true(tr_is_up(o.t));
	obs_done(&o);
	sd_event_unref(e);
}

/* ---- serial over a pty --------------------------------------------------------------------- */

static void test_serial_rejects_bad_paths(void **state)
{
	sd_event *e = new_loop();
	const char *file = tl_path("not-a-tty");
	char spec[4200];
	struct tr *t = NULL;
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	fclose(f);
	snprintf(spec, sizeof(spec), "serial:%s", file);
	assert_int_equal(tr_open(e, spec, NULL, &t), -ENOTTY);
	assert_int_equal(tr_open(e, "serial:/nonexistent/ttyACM0", NULL, &t), -ENOENT);
	assert_int_equal(tr_open(e, "serial:/nonexistent/ttyACM0@9600", NULL, &t), -ENOENT);
	assert_null(t);
	sd_event_unref(e);
}

static void test_serial_roundtrip_over_pty(void **state)
{
	sd_event *e = new_loop();
	const char *link = tl_path("tty-roundtrip");
	uint8_t big[CONSOLE_PKT_MAX], out[256];
	char spec[4200], want[4300];
	struct obs o;
	struct dev d;
	ssize_t n;

	dev_init(&d, link);
	snprintf(spec, sizeof(spec), "serial:%s@921600", link);
	assert_int_equal(obs_open(&o, e, spec, NULL), 0);
	assert_string_equal(tr_describe(o.t), spec);
	assert_int_equal(o.ups, 0);
	assert_true(WAIT(e, &d, o.ups == 1, 1000));
	assert_int_equal(tr_frame_overhead(o.t), CONSOLE_OVERHEAD);
	assert_int_equal(tr_max_packet(o.t), CONSOLE_PKT_MAX);

	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), 0);
	make_pkt(big, sizeof(big), 3);
	assert_int_equal(tr_send(o.t, big, sizeof(big)), 0);
	assert_true(WAIT(e, &d, d.npkt == 2, 2000));
	assert_int_equal(d.pkt_len[0], sizeof(echo_req));
	assert_memory_equal(d.pkt[0], echo_req, sizeof(echo_req));
	assert_int_equal(d.pkt_len[1], sizeof(big));
	assert_memory_equal(d.pkt[1], big, sizeof(big));
	assert_int_equal(d.ndiscard, 0);

	/* The device prints a log line, then answers; the owner answers back from recv(). */
	o.answer_in_recv = true;
	dev_write_raw(&d, "*** Booting Zephyr OS ***\r\n", 27);
	dev_send(&d, echo_rsp, sizeof(echo_rsp));
	assert_true(WAIT(e, &d, o.npkt == 1 && d.npkt == 3, 1000));
	assert_memory_equal(o.pkt[0], echo_rsp, sizeof(echo_rsp));
	assert_int_equal(o.ntext, 1);
	assert_string_equal(o.text[0], "*** Booting Zephyr OS ***");
	o.answer_in_recv = false;

	/* A frame with a bad CRC is discarded with its reason; the next packet still arrives. */
	n = console_encode(echo_rsp, sizeof(echo_rsp), out, sizeof(out));
	assert_true(n > 4);
	out[n - 3] = out[n - 3] == 'A' ? 'B' : 'A';
	dev_write_raw(&d, out, (size_t)n);
	dev_send(&d, echo_rsp, sizeof(echo_rsp));
	assert_true(WAIT(e, &d, o.npkt == 2, 1000));
	assert_int_equal(o.ndiscard, 1);
	snprintf(want, sizeof(want), "CRC mismatch: got 0x");
	assert_non_null(strstr(o.discard[0], want));
	assert_int_equal(o.downs, 0);

	obs_done(&o);
	dev_done(&d);
	sd_event_unref(e);
}

static void test_serial_backlog_drains_and_fires_writable(void **state)
{
	sd_event *e = new_loop();
	const char *link = tl_path("tty-backlog");
	uint8_t pkt[CONSOLE_PKT_MAX];
	char spec[4200];
	size_t sent = 0;
	struct obs o;
	struct dev d;

	dev_init(&d, link);
	snprintf(spec, sizeof(spec), "serial:%s", link);
	assert_int_equal(obs_open(&o, e, spec, NULL), 0);
	assert_true(WAIT(e, &d, o.ups == 1, 1000));

	/* The device does not read: the pty fills and writes go partial. */
	d.reading = false;
	while (tr_backlog(o.t) == 0) {
		assert_true(sent < OBS_MAX);
		make_pkt(pkt, sizeof(pkt), (uint8_t)sent);
		assert_int_equal(tr_send(o.t, pkt, sizeof(pkt)), 0);
		sent++;
	}
	/* Queued behind the backlog, in order. */
	make_pkt(pkt, sizeof(pkt), (uint8_t)sent);
	assert_int_equal(tr_send(o.t, pkt, sizeof(pkt)), 0);
	sent++;
	WAIT(e, &d, false, 100);
	assert_true(tr_backlog(o.t) > 0);
	assert_int_equal(o.writable, 0);

	d.reading = true;
	assert_true(WAIT(e, &d, o.writable == 1, 3000));
	assert_int_equal(tr_backlog(o.t), 0);
	assert_true(WAIT(e, &d, d.npkt == sent, 1000));
	for (size_t i = 0; i < sent; i++) {
		make_pkt(pkt, sizeof(pkt), (uint8_t)i);
		assert_int_equal(d.pkt_len[i], sizeof(pkt));
		assert_memory_equal(d.pkt[i], pkt, sizeof(pkt));
	}
	assert_int_equal(d.ndiscard, 0);
	WAIT(e, &d, false, 50);
	assert_int_equal(o.writable, 1);

	obs_done(&o);
	dev_done(&d);
	sd_event_unref(e);
}

static void test_serial_hangup_then_reopen_through_symlink(void **state)
{
	sd_event *e = new_loop();
	const char *link = tl_path("tty-by-id");
	char spec[4200];
	struct obs o;
	struct dev d;

	dev_init(&d, link);
	snprintf(spec, sizeof(spec), "serial:%s", link);
	assert_int_equal(obs_open(&o, e, spec, NULL), 0);
	assert_true(WAIT(e, &d, o.ups == 1, 1000));

	/* A partial packet is in flight when the device goes away. */
	dev_write_raw(&d,
		      "\x06\x09"
		      "AH4KAAB0AAGa\n",
		      15);
	/* The USB device re-enumerates: its tty hangs up and udev removes the by-id link (else
	 * the link could point at a pts number another pty reuses). */
	close(d.master);
	d.master = -1;
	assert_int_equal(unlink(link), 0);
	assert_true(WAIT(e, &d, o.downs == 1, 2000));
	assert_true(o.down_err[0] == -EPIPE || o.down_err[0] == -EIO);
	assert_false(tr_is_up(o.t));
	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), -ENOTCONN);
	/* Still gone a while later: the link points at a dead tty. */
	WAIT(e, &d, false, 450);
	assert_int_equal(o.ups, 1);

	/* It comes back as a new tty; the by-id link is re-pointed. */
	dev_open_pty(&d);
	dev_link(&d, link);
	assert_true(WAIT(e, &d, o.ups == 2, 2000));
	assert_string_equal(o.seq, "UDU");
	assert_true(tr_is_up(o.t));

	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), 0);
	assert_true(WAIT(e, &d, d.npkt == 1, 1000));
	assert_memory_equal(d.pkt[0], echo_req, sizeof(echo_req));
	dev_send(&d, echo_rsp, sizeof(echo_rsp));
	assert_true(WAIT(e, &d, o.npkt == 1, 1000));
	assert_memory_equal(o.pkt[0], echo_rsp, sizeof(echo_rsp));
	/* The partial packet died with the old link: no discard for it. */
	assert_int_equal(o.ndiscard, 0);

	obs_done(&o);
	dev_done(&d);
	sd_event_unref(e);
}

static void test_serial_reopen_gives_up_after_timeout(void **state)
{
	sd_event *e = new_loop();
	const char *link = tl_path("tty-timeout");
	struct tr_options opt = {.reconnect_timeout_usec = 600 * 1000};
	char spec[4200];
	struct obs o;
	struct dev d;

	dev_init(&d, link);
	snprintf(spec, sizeof(spec), "serial:%s", link);
	assert_int_equal(obs_open(&o, e, spec, &opt), 0);
	assert_true(WAIT(e, &d, o.ups == 1, 1000));
	close(d.master);
	d.master = -1;
	assert_int_equal(unlink(link), 0);
	assert_true(WAIT(e, &d, o.downs == 2, 3000));
	assert_int_equal(o.down_err[1], -ETIMEDOUT);
	assert_true(obs_discarded(&o, "gave up reopening"));
	/* Not before the timeout. */
	assert_string_equal(o.seq, "UDD");

	/* tr_reconnect() starts over; the device is back. */
	dev_open_pty(&d);
	dev_link(&d, link);
	assert_int_equal(tr_reconnect(o.t), 0);
	assert_true(WAIT(e, &d, o.ups == 2, 2000));
	assert_string_equal(o.seq, "UDDU");
	obs_done(&o);
	dev_done(&d);
	sd_event_unref(e);
}

static void test_serial_explicit_reconnect(void **state)
{
	sd_event *e = new_loop();
	const char *link = tl_path("tty-reconnect");
	uint8_t pkt[300], line[512];
	char spec[4200];
	uint64_t t0;
	ssize_t n;
	struct obs o;
	struct dev d;

	dev_init(&d, link);
	snprintf(spec, sizeof(spec), "serial:%s", link);
	assert_int_equal(obs_open(&o, e, spec, NULL), 0);
	assert_true(WAIT(e, &d, o.ups == 1, 1000));
	/* A packet cut short by the reset: its first line only. */
	make_pkt(pkt, sizeof(pkt), 5);
	n = console_encode(pkt, sizeof(pkt), line, sizeof(line));
	assert_true(n > 0);
	dev_write_raw(&d, line, (size_t)((uint8_t *)memchr(line, '\n', (size_t)n) - line) + 1);
	WAIT(e, &d, false, 100);

	/* The owner reconnects on every DOWN, as the update job does: no loop. */
	o.reconnect_on_down = true;
	t0 = now_ms();
	assert_int_equal(tr_reconnect(o.t), 0);
	assert_false(tr_is_up(o.t));
	assert_int_equal(o.downs, 0); /* never from inside the call */
	assert_true(WAIT(e, &d, o.ups == 2, 2000));
	/* Reopened after the 200 ms retry period, not at once. */
	assert_true(now_ms() - t0 >= 150);
	WAIT(e, &d, false, 100);
	assert_string_equal(o.seq, "UDU");
	assert_int_equal(o.down_err[0], -ECONNRESET);

	assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), 0);
	assert_true(WAIT(e, &d, d.npkt == 1, 1000));
	/* The half packet from before the reconnect is forgotten, not reported or glued. */
	dev_send(&d, echo_rsp, sizeof(echo_rsp));
	assert_true(WAIT(e, &d, o.npkt == 1, 1000));
	assert_memory_equal(o.pkt[0], echo_rsp, sizeof(echo_rsp));
	assert_int_equal(o.ndiscard, 0);
	obs_done(&o);
	dev_done(&d);
	sd_event_unref(e);
}

static void on_closed(struct tr *t, int err, void *userdata)
{
	int *ret = userdata;

	*ret = err;
	tr_free(t); /* allowed from here */
}

/* tr_close() on links with nothing to wait for: reported from the loop, never inside the call;
 * nothing reaches the owner after it, nothing can be sent, and the callback may free. */
static void test_close_reports_from_the_loop_and_silences(void **state)
{
	sd_event *e = new_loop();
	const char *link = tl_path("tty-close");
	char spec[4200];
	struct obs o;
	struct dev d;
	int closed;

	dev_init(&d, link);
	snprintf(spec, sizeof(spec), "serial:%s", link);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(obs_open(&o, e, i ? spec : "udp:127.0.0.1:9", NULL), 0);
		closed = 1;
		/* the first UP is still queued: it is never delivered */
		assert_int_equal(tr_close(o.t, 0, on_closed, &closed), 0);
		assert_int_equal(closed, 1);
		assert_false(tr_is_up(o.t));
		assert_int_equal(tr_send(o.t, echo_req, sizeof(echo_req)), -ENOTCONN);
		assert_int_equal(tr_reconnect(o.t), -ENOTCONN);
		assert_int_equal(tr_close(o.t, 0, on_closed, &closed), -EALREADY);
		assert_true(WAIT(e, &d, closed == 0, 1000));
		assert_int_equal(o.ups, 0);
		assert_int_equal(o.downs, 0);
		o.t = NULL; /* freed by on_closed */
		obs_done(&o);
	}
	dev_done(&d);
	sd_event_unref(e);
}

static void test_free_with_work_pending(void **state)
{
	sd_event *e = new_loop();
	const char *link = tl_path("tty-free");
	uint8_t pkt[CONSOLE_PKT_MAX];
	char spec[4200];
	struct tr *t = NULL;
	struct dev d;

	/* Serial: queued output, a pending UP, then a pending reopen timer. */
	dev_init(&d, link);
	d.reading = false;
	snprintf(spec, sizeof(spec), "serial:%s", link);
	assert_int_equal(tr_open(e, spec, NULL, &t), 0);
	make_pkt(pkt, sizeof(pkt), 9);
	for (int i = 0; i < 40 && tr_backlog(t) == 0; i++)
		assert_int_equal(tr_send(t, pkt, sizeof(pkt)), 0);
	assert_true(tr_backlog(t) > 0);
	t = tr_free(t);
	assert_int_equal(tr_open(e, spec, NULL, &t), 0);
	assert_int_equal(tr_reconnect(t), 0);
	t = tr_free(t);
	/* UDP: a pending UP and a sent datagram. */
	assert_int_equal(tr_open(e, "udp:127.0.0.1:9", NULL, &t), 0);
	assert_int_equal(tr_send(t, echo_req, sizeof(echo_req)), 0);
	t = tr_free(t);
	assert_null(tr_free(NULL));
	/* Nothing left behind fires. */
	assert_true(sd_event_run(e, 50 * 1000) >= 0);
	dev_done(&d);
	sd_event_unref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_rejects_bad_specs_and_says_why),
		cmocka_unit_test(test_udp_roundtrip_ipv4),
		cmocka_unit_test(test_udp_roundtrip_ipv6),
		cmocka_unit_test(test_udp_defaults_and_names),
		cmocka_unit_test(test_udp_discards_short_and_mismatched),
		cmocka_unit_test(test_udp_port_unreachable_stays_up),
		cmocka_unit_test(test_udp_reconnect_reports_down_then_up_once),
		cmocka_unit_test(test_serial_rejects_bad_paths),
		cmocka_unit_test(test_serial_roundtrip_over_pty),
		cmocka_unit_test(test_serial_backlog_drains_and_fires_writable),
		cmocka_unit_test(test_serial_hangup_then_reopen_through_symlink),
		cmocka_unit_test(test_serial_reopen_gives_up_after_timeout),
		cmocka_unit_test(test_serial_explicit_reconnect),
		cmocka_unit_test(test_close_reports_from_the_loop_and_silences),
		cmocka_unit_test(test_free_with_work_pending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
