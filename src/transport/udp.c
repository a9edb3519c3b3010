/* udp.c — the UDP transport: one SMP packet per datagram on a connected, non-blocking socket
 * (Zephyr smp_udp, port 1337). The link has no state of its own: ICMP errors from a device that
 * is rebooting are reported through discard() and the transport stays up. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/transport-internal.h"
#include "util/parse.h"

#define UDP_PORT_DEFAULT 1337
/* Largest UDP payload over IPv4 (65535 - 20 - 8); IPv6 (without jumbograms) allows 65527. */
#define UDP_PAYLOAD_MAX 65507
#define UDP_RX_SIZE	65536
/* Queued datagrams beyond this are refused with -ENOBUFS: the owner is not pacing. */
#define UDP_BACKLOG_MAX (1024 * 1024)

struct udp_dgram {
	struct udp_dgram *next;
	size_t len;
	uint8_t data[];
};

struct tr_udp {
	struct tr tr;
	int fd;
	sd_event_source *io;
	size_t max_packet;
	struct udp_dgram *q_head, **q_tail;
	size_t q_bytes;
	uint8_t *rx;
};

static struct tr_udp *to_udp(struct tr *t)
{
	return (struct tr_udp *)t;
}

static size_t udp_max_packet(const struct tr *t)
{
	return ((const struct tr_udp *)t)->max_packet;
}

static size_t udp_backlog(const struct tr *t)
{
	return ((const struct tr_udp *)t)->q_bytes;
}

static void queue_pop(struct tr_udp *u)
{
	struct udp_dgram *d = u->q_head;

	u->q_head = d->next;
	if (!u->q_head)
		u->q_tail = &u->q_head;
	u->q_bytes -= d->len;
	free(d);
}

static int queue_push(struct tr_udp *u, const uint8_t *pkt, size_t len)
{
	struct udp_dgram *d;

	if (u->q_bytes + len > UDP_BACKLOG_MAX)
		return -ENOBUFS;
	d = malloc(sizeof(*d) + len);
	if (!d)
		return -ENOMEM;
	d->next = NULL;
	d->len = len;
	memcpy(d->data, pkt, len);
	*u->q_tail = d;
	u->q_tail = &d->next;
	u->q_bytes += len;
	return sd_event_source_set_io_events(u->io, EPOLLIN | EPOLLOUT);
}

static int udp_send(struct tr *t, const uint8_t *pkt, size_t len)
{
	struct tr_udp *u = to_udp(t);

	if (u->q_head)
		return queue_push(u, pkt, len);
	for (unsigned attempt = 0; attempt < 4; attempt++) {
		if (send(u->fd, pkt, len, MSG_NOSIGNAL) >= 0)
			return 0;
		switch (errno) {
		case EINTR:
			continue;
		case EAGAIN:
		case ENOBUFS:
			return queue_push(u, pkt, len);
		case ECONNREFUSED:
			/* The pending error of an earlier datagram (ICMP port unreachable): Linux
			 * fails this send without sending it, so send again. */
			t->refused = true;
			tr_post_note(
				t, "an earlier datagram to %s was refused (ICMP port unreachable)",
				t->desc);
			continue;
		default:
			return -errno;
		}
	}
	return -ECONNREFUSED;
}

/* EPOLLOUT: the socket buffer has room again. */
static void udp_flush(struct tr_udp *u)
{
	unsigned refused = 0;

	while (u->q_head) {
		if (send(u->fd, u->q_head->data, u->q_head->len, MSG_NOSIGNAL) >= 0) {
			queue_pop(u);
			refused = 0;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == ENOBUFS)
			return;
		/* Each refusal consumes one pending ICMP error: retry, but not forever. */
		if (errno == ECONNREFUSED && ++refused < 4) {
			u->tr.refused = true;
			tr_emit_discard(&u->tr,
					"an earlier datagram to %s was refused "
					"(ICMP port unreachable)",
					u->tr.desc);
			continue;
		}
		tr_emit_discard(&u->tr, "queued datagram of %zu bytes to %s dropped: %s",
				u->q_head->len, u->tr.desc, strerror(errno));
		queue_pop(u);
	}
	(void)sd_event_source_set_io_events(u->io, EPOLLIN);
	tr_emit_writable(&u->tr);
}

static void udp_receive(struct tr_udp *u)
{
	/* A bounded batch per wakeup keeps one busy socket from starving the loop. */
	for (unsigned i = 0; i < 32; i++) {
		ssize_t n = recv(u->fd, u->rx, UDP_RX_SIZE, MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			if (errno == ECONNREFUSED) {
				u->tr.refused = true;
				tr_emit_discard(&u->tr,
						"%s refused a datagram (ICMP port unreachable: "
						"nothing listening, device rebooting?)",
						u->tr.desc);
			} else {
				tr_emit_discard(&u->tr, "receive from %s failed: %s", u->tr.desc,
						strerror(errno));
			}
			continue;
		}
		if (n > UDP_RX_SIZE) {
			tr_emit_discard(&u->tr, "datagram of %zd bytes truncated", n);
			continue;
		}
		tr_emit_packet(&u->tr, u->rx, (size_t)n);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct tr_udp *u = userdata;

	if (revents & EPOLLOUT)
		udp_flush(u);
	if (revents & (EPOLLIN | EPOLLERR))
		udp_receive(u);
	return 0;
}

/* Nothing to reopen: the socket stays connected. Still report DOWN then UP so owners have one
 * code path; no second cycle while one is being reported (an owner that reconnects on DOWN
 * must not loop). */
static int udp_reconnect(struct tr *t)
{
	if (!t->up)
		return 0;
	tr_link_down(t, -ECONNRESET);
	tr_link_up_deferred(t);
	return 0;
}

static void udp_destroy(struct tr *t)
{
	struct tr_udp *u = to_udp(t);

	while (u->q_head)
		queue_pop(u);
	sd_event_source_disable_unref(u->io);
	if (u->fd >= 0)
		close(u->fd);
	free(u->rx);
}

static const struct tr_ops udp_ops = {
	.send = udp_send,
	.max_packet = udp_max_packet,
	.frame_overhead = 0,
	.backlog = udp_backlog,
	.reconnect = udp_reconnect,
	.destroy = udp_destroy,
};

/* HOST[:PORT] with IPv6 literals in brackets. A bare IPv6 address (two colons or more) is
 * refused: "::1:1337" would be ambiguous. why (may be NULL) says what is wrong. */
static int parse_addr(const char *addr, char **ret_host, char *ret_port, size_t port_size,
		      char *why, size_t why_size)
{
	const char *host = addr, *host_end, *port = NULL;
	uint32_t p = UDP_PORT_DEFAULT;

	if (addr[0] == '[') {
		host = addr + 1;
		host_end = strchr(host, ']');
		if (!host_end)
			return tr_why(why, why_size, "'[' without its ']' (udp:[IPV6]:PORT)");
		if (host_end[1] == ':')
			port = host_end + 2;
		else if (host_end[1] != '\0')
			return tr_why(why, why_size, "'%s' after ']' (expected :PORT)",
				      host_end + 1);
	} else {
		host_end = strchr(addr, ':');
		if (host_end) {
			port = host_end + 1;
			if (strchr(port, ':'))
				return tr_why(why, why_size,
					      "an IPv6 address goes in brackets (udp:[::1]:1337)");
		} else {
			host_end = addr + strlen(addr);
		}
	}
	if (host_end == host)
		return tr_why(why, why_size, "no host (udp:HOST[:PORT])");
	if (port && parse_u32(port, &p) < 0)
		return tr_why(why, why_size, "port '%s' is not a number (1..65535)", port);
	if (port && (p == 0 || p > 65535))
		return tr_why(why, why_size, "port %" PRIu32 " is out of range (1..65535)", p);
	*ret_host = strndup(host, (size_t)(host_end - host));
	if (!*ret_host)
		return -ENOMEM;
	snprintf(ret_port, port_size, "%" PRIu32, p);
	return 0;
}

int tr_udp_check(const char *addr, char *why, size_t size)
{
	_cleanup_free_ char *host = NULL;
	char port[8];

	return parse_addr(addr, &host, port, sizeof(port), why, size);
}

static int addrinfo_error(int r)
{
	switch (r) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
	case EAI_FAMILY:
	case EAI_ADDRFAMILY:
		return -ENOENT;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_SYSTEM:
		return -errno;
	default:
		return -EIO;
	}
}

/* Literal addresses never block (AI_NUMERICHOST); only a host name falls through to a plain,
 * blocking getaddrinfo(). */
static int resolve(const char *host, const char *port, bool *ret_numeric, struct addrinfo **ret)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_protocol = IPPROTO_UDP,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	int r;

	r = getaddrinfo(host, port, &hints, ret);
	*ret_numeric = r == 0;
	if (r == EAI_NONAME) {
		hints.ai_flags = AI_NUMERICSERV;
		r = getaddrinfo(host, port, &hints, ret);
	}
	return r == 0 ? 0 : addrinfo_error(r);
}

/* Payload that fits the route's path MTU without IP fragmentation. */
static size_t path_payload(int fd, int family)
{
	int mtu = 0;
	socklen_t sl = sizeof(mtu);
	size_t hdr = family == AF_INET6 ? 40 + 8 : 20 + 8;
	size_t fallback = family == AF_INET6 ? 1452 : 1472;

	if (family == AF_INET6)
		(void)getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &sl);
	else
		(void)getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &sl);
	if (mtu <= (int)hdr)
		return fallback;
	return MIN((size_t)mtu - hdr, (size_t)UDP_PAYLOAD_MAX);
}

static int connect_any(const struct addrinfo *ai, int *ret_fd, int *ret_family,
		       struct sockaddr_storage *ret_sa)
{
	int r = -ENOENT;

	for (; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);

		if (fd < 0) {
			r = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			r = -errno;
			close(fd);
			continue;
		}
		*ret_fd = fd;
		*ret_family = ai->ai_family;
		memcpy(ret_sa, ai->ai_addr, ai->ai_addrlen);
		return 0;
	}
	return r;
}

static char *describe(const char *host, const char *port, bool numeric,
		      const struct sockaddr_storage *sa, int family)
{
	char h[NI_MAXHOST];
	char *desc = NULL;
	socklen_t sl =
		family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int r;

	if (numeric && getnameinfo((const struct sockaddr *)sa, sl, h, sizeof(h), NULL, 0,
				   NI_NUMERICHOST) == 0)
		host = h;
	if (family == AF_INET6 && numeric)
		r = asprintf(&desc, "udp:[%s]:%s", host, port);
	else
		r = asprintf(&desc, strchr(host, ':') ? "udp:[%s]:%s" : "udp:%s:%s", host, port);
	return r < 0 ? NULL : desc;
}

int tr_udp_open(sd_event *e, const char *addr, const struct tr_options *o, struct tr **ret)
{
	_cleanup_(tr_freep) struct tr *t = NULL;
	_cleanup_free_ char *host = NULL;
	struct addrinfo *ai = NULL;
	struct sockaddr_storage sa;
	struct tr_udp *u;
	char port[8];
	bool numeric;
	int r, fd = -1, family = AF_UNSPEC;

	r = parse_addr(addr, &host, port, sizeof(port), NULL, 0);
	if (r < 0)
		return r;
	r = resolve(host, port, &numeric, &ai);
	if (r < 0)
		return r;
	r = connect_any(ai, &fd, &family, &sa);
	freeaddrinfo(ai);
	if (r < 0)
		return r;

	u = calloc(1, sizeof(*u));
	if (!u) {
		close(fd);
		return -ENOMEM;
	}
	t = &u->tr;
	t->ops = &udp_ops;
	u->fd = fd;
	u->q_tail = &u->q_head;
	r = tr_init(t, &udp_ops, e, o, describe(host, port, numeric, &sa, family));
	if (r < 0)
		return r;
	u->rx = malloc(UDP_RX_SIZE);
	if (!t->desc || !u->rx)
		return -ENOMEM;
	u->max_packet = path_payload(fd, family);
	r = sd_event_add_io(e, &u->io, fd, EPOLLIN, on_io, u);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(u->io, "tr-udp");
	tr_link_up(t);
	*ret = TAKE_PTR(t);
	return 0;
}
