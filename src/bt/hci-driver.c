/* hci-driver.c — HCI drivers: H4 over a tty, a unix or TCP stream socket, and the kernel's HCI
 * user channel, behind one interface (packets in, packets out) on sd-event. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "bt/h4.h"
#include "bt/hci-driver.h"
#include "otad/bt.h"
#include "util/macro.h"

struct out_buf {
	struct out_buf *next;
	size_t len, off;
	uint8_t data[];
};

struct hci_driver {
	int fd;
	bool stream; /* byte stream (tty, sockets) vs one packet per read/write (user channel) */
	bool connecting; /* TCP connect in progress */
	sd_event_source *io;
	struct hci_driver_callbacks cb;
	void *user_data;
	struct out_buf *out_head, *out_tail;
	size_t backlog;
	struct h4_parser parser;
};

static void h4_packet(uint8_t type, const uint8_t *pkt, size_t len, void *user_data)
{
	struct hci_driver *d = user_data;

	d->cb.packet(type, pkt, len, d->user_data);
}

static void h4_garbage(const char *what, void *user_data)
{
	struct hci_driver *d = user_data;

	if (d->cb.garbage)
		d->cb.garbage(what, d->user_data);
}

static void driver_fail(struct hci_driver *d, int err)
{
	d->io = sd_event_source_disable_unref(d->io);
	if (d->cb.error)
		d->cb.error(err, d->user_data);
}

/* Writes what the socket takes; -errno on a hard error. */
static int driver_flush(struct hci_driver *d)
{
	while (d->out_head) {
		struct out_buf *b = d->out_head;
		ssize_t n = write(d->fd, b->data + b->off, b->len - b->off);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		b->off += (size_t)n;
		d->backlog -= (size_t)n;
		if (b->off < b->len)
			return 0;
		d->out_head = b->next;
		if (!d->out_head)
			d->out_tail = NULL;
		free(b);
	}
	return 0;
}

static int driver_io(sd_event_source *s, int fd, uint32_t revents, void *user_data)
{
	struct hci_driver *d = user_data;
	uint8_t buf[4096];
	int r;

	if (d->connecting && (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			driver_fail(d, -err);
			return 0;
		}
		d->connecting = false;
	}
	if (revents & EPOLLIN) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			driver_fail(d, n == 0 ? -ECONNRESET : -errno);
			return 0;
		}
		if (n > 0)
			h4_parser_feed(&d->parser, buf, (size_t)n, h4_packet, h4_garbage, d);
		if (!d->io)
			return 0;
	} else if (revents & (EPOLLERR | EPOLLHUP)) {
		driver_fail(d, -ECONNRESET);
		return 0;
	}
	if (!d->connecting && d->out_head) {
		r = driver_flush(d);
		if (r < 0) {
			driver_fail(d, r);
			return 0;
		}
		if (!d->out_head && d->cb.drained)
			d->cb.drained(d->user_data);
	}
	if (d->io)
		sd_event_source_set_io_events(d->io, EPOLLIN | (d->out_head ? EPOLLOUT : 0));
	return 0;
}

int hci_driver_send(struct hci_driver *d, uint8_t type, const uint8_t *a, size_t alen,
		    const uint8_t *b, size_t blen)
{
	struct out_buf *o;
	int r;

	if (!d->io)
		return -ENOTCONN;
	o = malloc(sizeof(*o) + 1 + alen + blen);
	if (!o)
		return -ENOMEM;
	o->next = NULL;
	o->len = 1 + alen + blen;
	o->off = 0;
	o->data[0] = type;
	memcpy(o->data + 1, a, alen);
	if (blen)
		memcpy(o->data + 1 + alen, b, blen);
	if (d->out_tail)
		d->out_tail->next = o;
	else
		d->out_head = o;
	d->out_tail = o;
	d->backlog += o->len;
	if (!d->connecting) {
		r = driver_flush(d);
		if (r < 0)
			return r; /* the io source reports it too */
	}
	if (d->out_head)
		sd_event_source_set_io_events(d->io, EPOLLIN | EPOLLOUT);
	return 0;
}

size_t hci_driver_backlog(const struct hci_driver *d)
{
	return d->backlog;
}

struct hci_driver *hci_driver_free(struct hci_driver *d)
{
	if (!d)
		return NULL;
	sd_event_source_disable_unref(d->io);
	while (d->out_head) {
		struct out_buf *b = d->out_head;

		d->out_head = b->next;
		free(b);
	}
	if (d->fd >= 0)
		close(d->fd);
	free(d);
	return NULL;
}

static speed_t baud_to_speed(unsigned baud)
{
	static const struct {
		unsigned baud;
		speed_t speed;
	} map[] = {{9600, B9600},	{19200, B19200},     {38400, B38400},
		   {57600, B57600},	{115200, B115200},   {230400, B230400},
		   {460800, B460800},	{921600, B921600},   {1000000, B1000000},
		   {2000000, B2000000}, {3000000, B3000000}, {4000000, B4000000}};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].baud == baud)
			return map[i].speed;
	return 0;
}

int hci_parse_tty_spec(const char *arg, char *path, size_t size, unsigned *ret_baud)
{
	const char *at = strrchr(arg, '@');
	size_t len = at ? (size_t)(at - arg) : strlen(arg);
	unsigned long baud = 1000000;

	if (len == 0 || len >= size)
		return -EINVAL;
	if (at) {
		char *end;

		errno = 0;
		baud = strtoul(at + 1, &end, 10);
		if (errno || *end || end == at + 1 || !baud_to_speed((unsigned)baud))
			return -EINVAL;
	}
	memcpy(path, arg, len);
	path[len] = 0;
	*ret_baud = (unsigned)baud;
	return 0;
}

int hci_parse_userchan_spec(const char *arg, unsigned *ret_idx)
{
	unsigned long idx;
	char *end;

	if (strncmp(arg, "hci", 3) != 0)
		return -EINVAL;
	errno = 0;
	idx = strtoul(arg + 3, &end, 10);
	if (errno || *end || end == arg + 3 || idx > 0xfffe)
		return -EINVAL;
	*ret_idx = (unsigned)idx;
	return 0;
}

/* HOST:PORT (IPv6 literals in brackets), the port numeric. */
static int parse_tcp_spec(const char *arg, char *host, size_t size, const char **ret_port)
{
	const char *colon = strrchr(arg, ':');
	unsigned long port;
	char *end;

	if (!colon || colon == arg || (size_t)(colon - arg) >= size || !colon[1])
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return -EINVAL;
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	if (!host[0])
		return -EINVAL;
	*ret_port = colon + 1;
	return 0;
}

int hci_spec_check(const char *spec)
{
	char buf[256];
	unsigned u;
	const char *port;

	if (!spec)
		return -EINVAL;
	if (!strncmp(spec, "tty:", 4))
		return hci_parse_tty_spec(spec + 4, buf, sizeof(buf), &u);
	if (!strncmp(spec, "unix:", 5))
		return spec[5] && strlen(spec + 5) < sizeof(((struct sockaddr_un *)0)->sun_path)
			       ? 0
			       : -EINVAL;
	if (!strncmp(spec, "tcp:", 4))
		return parse_tcp_spec(spec + 4, buf, sizeof(buf), &port);
	if (!strncmp(spec, "userchan:", 9))
		return hci_parse_userchan_spec(spec + 9, &u);
	return -EINVAL;
}

/* H4 over a UART as Nordic's hci_uart sample expects: raw 8N1, RTS/CTS. */
static int open_tty(const char *arg, int *ret_fd)
{
	char path[256];
	unsigned baud;
	struct termios t;
	_cleanup_close_ int fd = -1;
	int r = hci_parse_tty_spec(arg, path, sizeof(path), &baud);

	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (tcgetattr(fd, &t) < 0)
		return -errno;
	cfmakeraw(&t);
	t.c_cflag |= CRTSCTS | CLOCAL | CREAD;
	t.c_cflag &= ~(tcflag_t)CSTOPB;
	if (cfsetspeed(&t, baud_to_speed(baud)) < 0 || tcsetattr(fd, TCSANOW, &t) < 0)
		return -errno;
	tcflush(fd, TCIOFLUSH);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int open_unix(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;

	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* tcp:HOST:PORT — numeric hosts resolve without blocking; names go through getaddrinfo. */
static int open_tcp(const char *arg, int *ret_fd, bool *ret_connecting)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	const char *port;
	char host[256];
	int fd, r;

	r = parse_tcp_spec(arg, host, sizeof(host), &port);
	if (r < 0)
		return r;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
		return -ENOENT; /* no such host */
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		freeaddrinfo(ai);
		return r;
	}
	r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (r < 0 && errno != EINPROGRESS) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_connecting = r < 0;
	*ret_fd = fd;
	return 0;
}

static int open_spec(const char *spec, int *ret_fd, bool *ret_stream, bool *ret_connecting)
{
	*ret_stream = true;
	*ret_connecting = false;
	if (!strncmp(spec, "tty:", 4))
		return open_tty(spec + 4, ret_fd);
	if (!strncmp(spec, "unix:", 5))
		return open_unix(spec + 5, ret_fd);
	if (!strncmp(spec, "tcp:", 4))
		return open_tcp(spec + 4, ret_fd, ret_connecting);
	if (!strncmp(spec, "userchan:", 9)) {
		*ret_stream = false;
		return hci_userchan_open(spec + 9, ret_fd);
	}
	return -EINVAL;
}

int hci_driver_open(sd_event *e, const char *spec, const struct hci_driver_callbacks *cb,
		    void *user_data, struct hci_driver **ret)
{
	struct hci_driver *d;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = -1;
	d->cb = *cb;
	d->user_data = user_data;
	r = open_spec(spec, &d->fd, &d->stream, &d->connecting);
	if (r < 0) {
		hci_driver_free(d);
		return r;
	}
	r = sd_event_add_io(e, &d->io, d->fd, EPOLLIN | (d->connecting ? EPOLLOUT : 0), driver_io,
			    d);
	if (r < 0) {
		hci_driver_free(d);
		return r;
	}
	*ret = d;
	return 0;
}
