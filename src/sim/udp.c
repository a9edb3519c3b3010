/* udp.c — UDP front end of the simulated device. */
#include "sim/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/macro.h"

#define UDP_MAX 65536

struct sim_udp {
	struct sim_server *server;
	struct sim_port *port;
	int fd;
	sd_event_source *io;
	char address[INET6_ADDRSTRLEN + 16];
	uint8_t buf[UDP_MAX];
};

static int parse_addr(const char *spec, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_DGRAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	_cleanup_free_ char *host = NULL;
	struct addrinfo *res = NULL;
	const char *port;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		host = strndup(spec + 1, (size_t)(end - spec - 1));
		port = end + 2;
	} else {
		const char *colon = strrchr(spec, ':');

		if (!colon)
			return -EINVAL;
		host = strndup(spec, (size_t)(colon - spec));
		port = colon + 1;
	}
	if (!host)
		return -ENOMEM;
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
		return -EINVAL;
	memcpy(ret, res->ai_addr, res->ai_addrlen);
	*ret_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void format_addr(struct sim_udp *u)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	char host[INET6_ADDRSTRLEN] = "?";

	memset(&sa, 0, sizeof(sa));
	if (getsockname(u->fd, (struct sockaddr *)&sa, &len) < 0)
		return;
	if (sa.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(u->address, sizeof(u->address), "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(u->address, sizeof(u->address), "%s:%u", host, ntohs(s4->sin_port));
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct sim_udp *u = userdata;

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(fd, u->buf, sizeof(u->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&peer, &plen);

		if (n < 0)
			return 0; /* EAGAIN, or an ICMP error from an earlier send: nothing to do */
		sim_server_receive(u->server, u->port, u->buf, (size_t)n, &peer, plen);
	}
}

static void on_send(const uint8_t *pkt, size_t len, const void *peer, size_t peer_len,
		    void *user_data)
{
	struct sim_udp *u = user_data;

	/* Lossy like the network: a full socket buffer loses the datagram. */
	(void)sendto(u->fd, pkt, len, MSG_DONTWAIT, peer, (socklen_t)peer_len);
}

int sim_udp_new(sd_event *e, struct sim_server *s, const char *addr, struct sim_udp **ret)
{
	static const struct sim_port_ops ops = {.send = on_send};
	struct sockaddr_storage sa;
	socklen_t salen;
	struct sim_udp *u;
	int r;

	r = parse_addr(addr, &sa, &salen);
	if (r < 0)
		return r;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->server = s;
	u->fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u->fd < 0 || bind(u->fd, (struct sockaddr *)&sa, salen) < 0) {
		r = -errno;
		sim_udp_free(u);
		return r;
	}
	format_addr(u);
	r = sd_event_add_io(e, &u->io, u->fd, EPOLLIN, on_io, u);
	if (r >= 0)
		r = sim_server_add_port(s, &ops, u, 0, &u->port);
	if (r < 0) {
		sim_udp_free(u);
		return r;
	}
	*ret = u;
	return 0;
}

struct sim_udp *sim_udp_free(struct sim_udp *u)
{
	if (!u)
		return NULL;
	sd_event_source_disable_unref(u->io);
	if (u->fd >= 0)
		close(u->fd);
	free(u);
	return NULL;
}

const char *sim_udp_address(const struct sim_udp *u)
{
	return u->address;
}
