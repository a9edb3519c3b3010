/* serial.c — the serial transport: a raw, non-blocking tty speaking Zephyr's "SMP over console"
 * framing (console.h), with an output queue drained on EPOLLOUT, and reopening of PATH by name
 * (a /dev/serial/by-id symlink may point to a new tty) after a hangup or tr_reconnect(). */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "otad/console.h"
#include "transport/transport-internal.h"
#include "util/parse.h"

#define SERIAL_BAUD_DEFAULT 115200
#define SERIAL_RETRY_USEC   (200 * USEC_PER_MSEC)
/* Encoded bytes queued beyond this are refused with -ENOBUFS: the owner is not pacing. */
#define SERIAL_BACKLOG_MAX (256 * 1024)
#define SERIAL_RX_CHUNK	   4096

struct tr_serial {
	struct tr tr;
	char *path;
	unsigned baud;
	speed_t speed;
	int fd;
	sd_event_source *io;
	unsigned generation; /* bumped when fd closes: handlers stop using the old one */

	sd_event_source *retry;
	uint64_t retry_deadline;
	int retry_err;

	struct console_decoder *dec;
	uint8_t *out;
	size_t out_off, out_len, out_size;
};

static const struct {
	unsigned baud;
	speed_t speed;
} bauds[] = {
	{1200, B1200},	     {2400, B2400},	  {4800, B4800},       {9600, B9600},
	{19200, B19200},     {38400, B38400},	  {57600, B57600},     {115200, B115200},
	{230400, B230400},   {460800, B460800},	  {500000, B500000},   {576000, B576000},
	{921600, B921600},   {1000000, B1000000}, {1152000, B1152000}, {1500000, B1500000},
	{2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000}, {3500000, B3500000},
	{4000000, B4000000},
};

static struct tr_serial *to_serial(struct tr *t)
{
	return (struct tr_serial *)t;
}

static size_t serial_max_packet(const struct tr *t)
{
	return CONSOLE_PKT_MAX;
}

static size_t serial_backlog(const struct tr *t)
{
	const struct tr_serial *s = (const struct tr_serial *)t;

	return s->out_len - s->out_off;
}

static void serial_close(struct tr_serial *s)
{
	s->io = sd_event_source_disable_unref(s->io);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->generation++;
	s->out_off = s->out_len = 0;
	console_decoder_reset(s->dec);
}

static void serial_start_retry(struct tr_serial *s);

/* Hangup or I/O error: report it and start reopening PATH. */
static void serial_lost(struct tr_serial *s, int err)
{
	serial_close(s);
	tr_link_down(&s->tr, err);
	serial_start_retry(s);
}

/* Writes what the tty takes now. Returns 1 when the queue is empty, 0 when bytes remain
 * (EPOLLOUT is then on), negative errno on a write error. */
static int serial_flush(struct tr_serial *s)
{
	while (s->out_off < s->out_len) {
		ssize_t n = write(s->fd, s->out + s->out_off, s->out_len - s->out_off);

		if (n > 0) {
			s->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		return n < 0 ? -errno : -EIO;
	}
	if (s->out_off < s->out_len)
		return sd_event_source_set_io_events(s->io, EPOLLIN | EPOLLOUT) < 0 ? -EIO : 0;
	s->out_off = s->out_len = 0;
	(void)sd_event_source_set_io_events(s->io, EPOLLIN);
	return 1;
}

static int queue_reserve(struct tr_serial *s, size_t n)
{
	size_t used = s->out_len - s->out_off, size;
	uint8_t *p;

	if (used + n > SERIAL_BACKLOG_MAX)
		return -ENOBUFS;
	if (s->out_off > 0) {
		memmove(s->out, s->out + s->out_off, used);
		s->out_off = 0;
		s->out_len = used;
	}
	if (s->out_len + n <= s->out_size)
		return 0;
	size = MAX(s->out_size * 2, s->out_len + n);
	p = realloc(s->out, size);
	if (!p)
		return -ENOMEM;
	s->out = p;
	s->out_size = size;
	return 0;
}

static int serial_send(struct tr *t, const uint8_t *pkt, size_t len)
{
	struct tr_serial *s = to_serial(t);
	bool was_empty = s->out_off == s->out_len;
	ssize_t n;
	int r;

	r = queue_reserve(s, console_encoded_size(len));
	if (r < 0)
		return r;
	n = console_encode(pkt, len, s->out + s->out_len, s->out_size - s->out_len);
	if (n < 0)
		return (int)n;
	s->out_len += (size_t)n;
	if (!was_empty)
		return 0; /* EPOLLOUT is on and drains the queue in order */
	r = serial_flush(s);
	if (r < 0) {
		serial_lost(s, r);
		return r;
	}
	return 0;
}

static void serial_read(struct tr_serial *s, uint32_t revents)
{
	uint8_t buf[SERIAL_RX_CHUNK];
	unsigned gen = s->generation;

	for (unsigned i = 0; i < 8; i++) {
		ssize_t n = read(s->fd, buf, sizeof(buf));

		if (n > 0) {
			console_decoder_feed(s->dec, buf, (size_t)n);
			if (s->generation != gen)
				return; /* a callback reconnected: the fd is gone */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* Level-triggered HUP with nothing to read would spin: it is a hangup. */
			if (revents & (EPOLLHUP | EPOLLERR))
				serial_lost(s, -EPIPE);
			return;
		}
		/* EOF on a tty is a hangup (pty master closed, USB device gone). */
		serial_lost(s, n == 0 ? -EPIPE : -errno);
		return;
	}
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct tr_serial *s = userdata;
	unsigned gen = s->generation;
	int r;

	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		serial_read(s, revents);
	if (s->generation != gen || !(revents & EPOLLOUT))
		return 0;
	r = serial_flush(s);
	if (r < 0)
		serial_lost(s, r);
	else if (r == 1)
		tr_emit_writable(&s->tr);
	return 0;
}

static void on_packet(const uint8_t *pkt, size_t len, void *userdata)
{
	tr_emit_packet(userdata, pkt, len);
}

static void on_discard(const char *why, void *userdata)
{
	tr_emit_discard(userdata, "%s", why);
}

static void on_text(const char *line, size_t len, void *userdata)
{
	tr_emit_text(userdata, line, len);
}

static const struct console_decoder_ops decoder_ops = {
	.packet = on_packet,
	.discard = on_discard,
	.text = on_text,
};

static int serial_configure(int fd, speed_t speed)
{
	struct termios tio;

	if (tcgetattr(fd, &tio) < 0)
		return -errno;
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag &= ~(tcflag_t)CRTSCTS;
	tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	/* VMIN 1: a non-blocking read with nothing buffered says EAGAIN, so 0 means hangup. */
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (cfsetispeed(&tio, speed) < 0 || cfsetospeed(&tio, speed) < 0)
		return -errno;
	if (tcsetattr(fd, TCSANOW, &tio) < 0)
		return -errno;
	return 0;
}

/* Opens PATH by name (following a symlink that may have been re-pointed). */
static int serial_open_fd(struct tr_serial *s)
{
	int fd, r;

	fd = open(s->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = serial_configure(fd, s->speed);
	if (r >= 0)
		r = sd_event_add_io(s->tr.event, &s->io, fd, EPOLLIN, on_io, s);
	if (r < 0) {
		close(fd);
		return r;
	}
	(void)sd_event_source_set_description(s->io, "tr-serial");
	s->fd = fd;
	return 0;
}

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct tr_serial *s = userdata;
	int r;

	r = serial_open_fd(s);
	if (r >= 0) {
		tr_link_up(&s->tr);
		return 0;
	}
	s->retry_err = r;
	if (usec >= s->retry_deadline) {
		tr_emit_discard(&s->tr, "gave up reopening %s: %s", s->path, strerror(-r));
		tr_link_down(&s->tr, -ETIMEDOUT);
		return 0;
	}
	(void)sd_event_source_set_time_relative(src, SERIAL_RETRY_USEC);
	(void)sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	return 0;
}

static void serial_start_retry(struct tr_serial *s)
{
	struct timespec ts;
	uint64_t now;
	int r;

	if (sd_event_now(s->tr.event, CLOCK_MONOTONIC, &now) < 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_USEC;
	}
	s->retry_deadline = now + s->tr.reconnect_timeout;
	if (!s->retry) {
		r = sd_event_add_time_relative(s->tr.event, &s->retry, CLOCK_MONOTONIC,
					       SERIAL_RETRY_USEC, 10 * USEC_PER_MSEC, on_retry, s);
		if (r < 0) {
			tr_post_note(&s->tr, "cannot schedule reopening %s: %s", s->path,
				     strerror(-r));
			return;
		}
		(void)sd_event_source_set_description(s->retry, "tr-serial-retry");
		return;
	}
	(void)sd_event_source_set_time_relative(s->retry, SERIAL_RETRY_USEC);
	(void)sd_event_source_set_enabled(s->retry, SD_EVENT_ONESHOT);
}

static int serial_reconnect(struct tr *t)
{
	struct tr_serial *s = to_serial(t);

	serial_close(s);
	if (t->up)
		tr_link_down(t, -ECONNRESET);
	serial_start_retry(s);
	return s->retry ? 0 : -ENOMEM;
}

static void serial_destroy(struct tr *t)
{
	struct tr_serial *s = to_serial(t);

	s->retry = sd_event_source_disable_unref(s->retry);
	s->io = sd_event_source_disable_unref(s->io);
	if (s->fd >= 0)
		close(s->fd);
	console_decoder_free(s->dec);
	free(s->out);
	free(s->path);
}

static const struct tr_ops serial_ops = {
	.send = serial_send,
	.max_packet = serial_max_packet,
	.frame_overhead = CONSOLE_OVERHEAD,
	.backlog = serial_backlog,
	.reconnect = serial_reconnect,
	.destroy = serial_destroy,
};

/* PATH[@BAUD]; the baud must be one the kernel has a constant for. why (may be NULL) says what
 * is wrong. */
static int parse_path(const char *addr, char **ret_path, unsigned *ret_baud, speed_t *ret_speed,
		      char *why, size_t why_size)
{
	const char *at = strrchr(addr, '@');
	uint32_t baud = SERIAL_BAUD_DEFAULT;
	char list[256];
	size_t i, n = 0;

	if (at) {
		if (parse_u32(at + 1, &baud) < 0)
			return tr_why(why, why_size, "baud '%s' is not a number", at + 1);
	} else {
		at = addr + strlen(addr);
	}
	if (at == addr)
		return tr_why(why, why_size, "no path (serial:PATH[@BAUD])");
	for (i = 0; i < ARRAY_SIZE(bauds); i++)
		if (bauds[i].baud == baud)
			break;
	if (i == ARRAY_SIZE(bauds)) {
		for (size_t k = 0; k < ARRAY_SIZE(bauds) && n < sizeof(list); k++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%u", k ? ", " : "",
					      bauds[k].baud);
		return tr_why(why, why_size,
			      "%" PRIu32 " baud is not a rate a tty can be set to (%s)", baud,
			      list);
	}
	*ret_path = strndup(addr, (size_t)(at - addr));
	if (!*ret_path)
		return -ENOMEM;
	*ret_baud = baud;
	*ret_speed = bauds[i].speed;
	return 0;
}

int tr_serial_check(const char *addr, char *why, size_t size)
{
	_cleanup_free_ char *path = NULL;
	unsigned baud;
	speed_t speed;

	return parse_path(addr, &path, &baud, &speed, why, size);
}

int tr_serial_open(sd_event *e, const char *addr, const struct tr_options *o, struct tr **ret)
{
	_cleanup_(tr_freep) struct tr *t = NULL;
	struct tr_serial *s;
	char *desc = NULL;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	t = &s->tr;
	t->ops = &serial_ops;
	s->fd = -1;
	r = parse_path(addr, &s->path, &s->baud, &s->speed, NULL, 0);
	if (r < 0)
		return r;
	if (asprintf(&desc, "serial:%s@%u", s->path, s->baud) < 0)
		return -ENOMEM;
	r = tr_init(t, &serial_ops, e, o, desc);
	if (r < 0)
		return r;
	s->dec = console_decoder_new(&decoder_ops, t);
	if (!s->dec)
		return -ENOMEM;
	r = serial_open_fd(s);
	if (r < 0)
		return r;
	tr_link_up(t);
	*ret = TAKE_PTR(t);
	return 0;
}
