/* hcirelay.c — a relay in front of btvirt that holds HCI Disconnects and drops them with the
 * host's hangup (hcirelay.h). One child process, poll(), blocking writes (btvirt always reads). */
#include "lib/hcirelay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/testlib.h"

#define RELAY_PAIRS 8
#define H4_BUF	    (1 + 4 + 65535)

struct pair {
	int host, ctrl;
	uint8_t in[H4_BUF]; /* from the host, not yet passed on */
	size_t in_len;
	int64_t hold_until; /* ms; 0: nothing held */
	bool raw;	    /* not H4 as we know it: pass everything on */
};

struct relay {
	int listen_fd, log_fd;
	const char *upstream;
	unsigned hold_ms;
	struct pair pairs[RELAY_PAIRS];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void note(struct relay *rl, const char *what)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s Disconnect\n", what);

	(void)!write(rl->log_fd, line, (size_t)n);
}

static int unix_socket(const char *path, bool listen_on)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (listen_on ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0
		      : connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Length of the H4 packet at the start of buf (host to controller), 0 while incomplete, -1 for
 * a packet type the relay does not know (Core 5.4 Vol 4 Part A 2 and Part E 5.4). */
static long h4_len(const uint8_t *b, size_t n)
{
	size_t need;

	if (n < 1)
		return 0;
	switch (b[0]) {
	case 0x01: /* command: opcode, length */
	case 0x03: /* SCO: handle, length */
		need = n < 4 ? 0 : 4 + (size_t)b[3];
		break;
	case 0x02: /* ACL: handle, length LE16 */
		need = n < 5 ? 0 : 5 + (size_t)(b[3] | b[4] << 8);
		break;
	case 0x05: /* ISO: handle, length LE16 (14 bits) */
		need = n < 5 ? 0 : 5 + (size_t)((b[3] | b[4] << 8) & 0x3fff);
		break;
	default:
		return -1;
	}
	return need && n >= need ? (long)need : 0;
}

static bool is_disconnect(const uint8_t *b)
{
	return b[0] == 0x01 && b[1] == 0x06 && b[2] == 0x04; /* opcode 0x0406 */
}

static void pair_close(struct relay *rl, struct pair *p)
{
	if (p->hold_until)
		note(rl, "dropped");
	close(p->host);
	close(p->ctrl);
	memset(p, 0, sizeof(*p));
	p->host = p->ctrl = -1;
}

/* Passes on what the host sent, up to a Disconnect whose time has not come. */
static bool pair_pump(struct relay *rl, struct pair *p)
{
	size_t off = 0;
	long n;

	while (off < p->in_len) {
		n = p->raw ? (long)(p->in_len - off) : h4_len(p->in + off, p->in_len - off);
		if (n < 0) {
			p->raw = true;
			continue;
		}
		if (n == 0)
			break;
		if (!p->raw && is_disconnect(p->in + off)) {
			if (!p->hold_until) {
				p->hold_until = now_ms() + rl->hold_ms;
				note(rl, "held");
			}
			if (now_ms() < p->hold_until)
				break;
			p->hold_until = 0;
			note(rl, "forwarded");
		}
		if (!write_all(p->ctrl, p->in + off, (size_t)n))
			return false;
		off += (size_t)n;
	}
	memmove(p->in, p->in + off, p->in_len - off);
	p->in_len -= off;
	return true;
}

static void accept_host(struct relay *rl)
{
	int host = accept4(rl->listen_fd, NULL, NULL, SOCK_CLOEXEC), ctrl;

	if (host < 0)
		return;
	ctrl = unix_socket(rl->upstream, false);
	for (unsigned i = 0; ctrl >= 0 && i < RELAY_PAIRS; i++)
		if (rl->pairs[i].host < 0) {
			rl->pairs[i].host = host;
			rl->pairs[i].ctrl = ctrl;
			return;
		}
	close(host);
	if (ctrl >= 0)
		close(ctrl);
}

/* One side readable: the controller's bytes go to the host at once, the host's through the
 * pump. A hangup of either side closes both, at once. */
static void pair_io(struct relay *rl, struct pair *p, bool from_host)
{
	uint8_t buf[4096];
	ssize_t n;

	if (from_host) {
		n = read(p->host, p->in + p->in_len, sizeof(p->in) - p->in_len);
		if (n > 0) {
			p->in_len += (size_t)n;
			if (pair_pump(rl, p))
				return;
		}
	} else {
		n = read(p->ctrl, buf, sizeof(buf));
		if (n > 0 && write_all(p->host, buf, (size_t)n))
			return;
	}
	if (n < 0 && errno == EINTR)
		return;
	pair_close(rl, p);
}

static void relay_loop(struct relay *rl)
{
	for (;;) {
		struct pollfd pfd[1 + 2 * RELAY_PAIRS] = {{.fd = rl->listen_fd, .events = POLLIN}};
		int64_t wake = -1;

		for (unsigned i = 0; i < RELAY_PAIRS; i++) {
			struct pair *p = &rl->pairs[i];

			/* a full buffer waits for the held Disconnect's time */
			pfd[1 + 2 * i] = (struct pollfd){
				.fd = p->host, .events = p->in_len < sizeof(p->in) ? POLLIN : 0};
			pfd[2 + 2 * i] = (struct pollfd){.fd = p->ctrl, .events = POLLIN};
			if (p->hold_until && (wake < 0 || p->hold_until < wake))
				wake = p->hold_until;
		}
		if (poll(pfd, 1 + 2 * RELAY_PAIRS,
			 wake < 0 ? -1 : (int)(wake > now_ms() ? wake - now_ms() : 0)) < 0 &&
		    errno != EINTR)
			_exit(1);
		if (pfd[0].revents & POLLIN)
			accept_host(rl);
		for (unsigned i = 0; i < RELAY_PAIRS; i++) {
			struct pair *p = &rl->pairs[i];

			if (p->host >= 0 && pfd[1 + 2 * i].revents)
				pair_io(rl, p, true);
			if (p->host >= 0 && pfd[2 + 2 * i].revents)
				pair_io(rl, p, false);
			if (p->host >= 0 && p->hold_until && now_ms() >= p->hold_until &&
			    !pair_pump(rl, p))
				pair_close(rl, p);
		}
	}
}

int hci_relay_start(struct hci_relay *r, const char *upstream, unsigned hold_ms)
{
	static unsigned counter;
	static struct relay rl; /* the child's; large */
	char sock[256];
	int fd, log_fd;

	memset(r, 0, sizeof(*r));
	if (strncmp(upstream, "unix:", 5) != 0)
		return -EINVAL;
	snprintf(sock, sizeof(sock), "%s/hcirelay-%u.sock", tl_tmpdir(), counter);
	snprintf(r->log, sizeof(r->log), "%s/hcirelay-%u.log", tl_tmpdir(), counter++);
	snprintf(r->spec, sizeof(r->spec), "unix:%s", sock);
	log_fd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	fd = unix_socket(sock, true);
	if (fd < 0 || log_fd < 0) {
		int e = -errno;

		if (fd >= 0)
			close(fd);
		if (log_fd >= 0)
			close(log_fd);
		return e;
	}
	fflush(NULL);
	r->pid = fork();
	if (r->pid < 0) {
		close(fd);
		close(log_fd);
		return -errno;
	}
	if (r->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
		signal(SIGPIPE, SIG_IGN);
		rl.listen_fd = fd;
		rl.log_fd = log_fd;
		rl.upstream = upstream + 5;
		rl.hold_ms = hold_ms;
		for (unsigned i = 0; i < RELAY_PAIRS; i++)
			rl.pairs[i].host = rl.pairs[i].ctrl = -1;
		relay_loop(&rl);
		_exit(0);
	}
	close(fd);
	close(log_fd);
	return 0;
}

void hci_relay_stop(struct hci_relay *r)
{
	if (r->pid <= 0)
		return;
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
}

unsigned hci_relay_count(const struct hci_relay *r, const char *what)
{
	char *text = tl_read_file(r->log);
	unsigned n = 0;

	for (const char *p = text; p && (p = strstr(p, what)); p += strlen(what))
		n++;
	free(text);
	return n;
}
