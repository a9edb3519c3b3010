/* pty.c — pseudo-terminal front end with SMP console framing, bare or on the shell's console. */
#include "sim/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "otad/console.h"
#include "sim/shell.h"
#include "util/macro.h"

#define OUT_MAX (1024 * 1024) /* what a client that stopped reading may leave unread */

struct sim_pty {
	sd_event *event;
	struct sim_server *server;
	struct sim_port *port;
	char *link_path;
	bool reenumerate;
	bool has_shell;
	struct sim_shell shell;
	struct sim_pty_ops ops;
	void *user_data;
	int master, slave;
	sd_event_source *io;
	char path[64];
	struct console_decoder *decoder;
	uint8_t *out;
	size_t out_len, out_cap;
};

static void on_packet(const uint8_t *pkt, size_t len, void *user_data)
{
	struct sim_pty *p = user_data;

	sim_server_receive(p->server, p->port, pkt, len, NULL, 0);
}

static void on_discard(const char *why, void *user_data)
{
	struct sim_pty *p = user_data;

	if (p->ops.discard)
		p->ops.discard(why, p->user_data);
}

static int flush_out(struct sim_pty *p)
{
	while (p->out_len > 0) {
		ssize_t n = write(p->master, p->out, p->out_len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			p->out_len = 0; /* the pty is gone; so is what we had for it */
			return -errno;
		}
		memmove(p->out, p->out + n, p->out_len - (size_t)n);
		p->out_len -= (size_t)n;
	}
	return sd_event_source_set_io_events(p->io, EPOLLIN | (p->out_len ? EPOLLOUT : 0));
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct sim_pty *p = userdata;
	uint8_t buf[4096];

	if (revents & EPOLLOUT)
		(void)flush_out(p);
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n <= 0)
				break;
			console_decoder_feed(p->decoder, buf, (size_t)n);
		}
	}
	return 0;
}

static void close_pty(struct sim_pty *p)
{
	p->io = sd_event_source_disable_unref(p->io);
	if (p->master >= 0)
		close(p->master);
	if (p->slave >= 0)
		close(p->slave);
	p->master = p->slave = -1;
	p->path[0] = 0;
	p->out_len = 0;
	console_decoder_reset(p->decoder);
	if (p->link_path)
		(void)unlink(p->link_path);
}

/* Points link_path at the pty: a new symlink renamed over the old one. */
static int update_link(struct sim_pty *p)
{
	_cleanup_free_ char *tmp = NULL;

	if (!p->link_path)
		return 0;
	if (asprintf(&tmp, "%s.new", p->link_path) < 0)
		return -ENOMEM;
	(void)unlink(tmp);
	if (symlink(p->path, tmp) < 0 || rename(tmp, p->link_path) < 0) {
		int r = -errno;

		(void)unlink(tmp);
		return r;
	}
	return 0;
}

static int open_pty(struct sim_pty *p)
{
	struct termios t;
	int r;

	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (p->master < 0)
		return -errno;
	if (grantpt(p->master) < 0 || unlockpt(p->master) < 0 ||
	    ptsname_r(p->master, p->path, sizeof(p->path)) != 0)
		goto fail;
	/* Our own slave descriptor keeps the master from seeing a hangup whenever the client
	 * closes its end, and lets us set raw mode before anyone opens it. */
	p->slave = open(p->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0 || tcgetattr(p->slave, &t) < 0)
		goto fail;
	cfmakeraw(&t);
	if (tcsetattr(p->slave, TCSANOW, &t) < 0)
		goto fail;
	r = sd_event_add_io(p->event, &p->io, p->master, EPOLLIN, on_io, p);
	if (r < 0) {
		close_pty(p);
		return r;
	}
	r = update_link(p);
	if (r < 0) {
		close_pty(p);
		return r;
	}
	if (p->ops.opened)
		p->ops.opened(p->path, p->user_data);
	return 0;
fail:
	r = -errno;
	close_pty(p);
	return r;
}

/* Room for need more bytes in the output queue; false when unplugged, when nobody reads (what
 * the device writes then is lost) or out of memory. */
static bool out_room(struct sim_pty *p, size_t need)
{
	size_t cap;
	uint8_t *o;

	if (p->master < 0 || p->out_len + need > OUT_MAX)
		return false;
	if (p->out_len + need <= p->out_cap)
		return true;
	cap = MAX(p->out_cap * 2, p->out_len + need);
	o = realloc(p->out, cap);
	if (!o)
		return false;
	p->out = o;
	p->out_cap = cap;
	return true;
}

static void shell_write(const void *data, size_t len, void *user_data)
{
	struct sim_pty *p = user_data;

	if (!out_room(p, len))
		return;
	memcpy(p->out + p->out_len, data, len);
	p->out_len += len;
}

static void on_send(const uint8_t *pkt, size_t len, const void *peer, size_t peer_len,
		    void *user_data)
{
	struct sim_pty *p = user_data;
	ssize_t n;

	if (p->has_shell) {
		if (out_room(p, sim_shell_answer_max(len)) &&
		    sim_shell_answer(&p->shell, sim_server_now(p->server), pkt, len) >= 0)
			(void)flush_out(p);
		return;
	}
	if (!out_room(p, console_encoded_size(len)))
		return;
	n = console_encode(pkt, len, p->out + p->out_len, p->out_cap - p->out_len);
	if (n < 0)
		return;
	p->out_len += (size_t)n;
	(void)flush_out(p);
}

static void on_console(char level, const char *text, uint64_t model_us, bool booting,
		       void *user_data)
{
	struct sim_pty *p = user_data;

	if (!p->has_shell || p->master < 0)
		return;
	if (booting)
		sim_shell_mcuboot(&p->shell, level, text);
	else
		sim_shell_log(&p->shell, model_us, level, "mcumgr_img_grp", text, true);
	(void)flush_out(p);
}

static void on_down(void *user_data)
{
	struct sim_pty *p = user_data;

	if (p->reenumerate)
		close_pty(p); /* USB disconnect: the tty and its by-id link disappear */
}

static void on_up(void *user_data)
{
	struct sim_pty *p = user_data;

	if (p->reenumerate && p->master < 0)
		(void)open_pty(p);
	if (p->has_shell && p->master >= 0) {
		sim_shell_started(&p->shell, sim_server_now(p->server));
		(void)flush_out(p);
	}
}

int sim_pty_new(sd_event *e, struct sim_server *s, const struct sim_pty_params *params,
		const struct sim_pty_ops *ops, void *user_data, struct sim_pty **ret)
{
	static const struct console_decoder_ops dops = {
		.packet = on_packet,
		.discard = on_discard,
	};
	static const struct sim_port_ops pops = {
		.send = on_send, .down = on_down, .up = on_up, .console = on_console};
	struct sim_pty *p = calloc(1, sizeof(*p));
	const char *link_path = params->link_path;
	int r;

	if (!p)
		return -ENOMEM;
	p->master = p->slave = -1;
	p->event = sd_event_ref(e);
	p->server = s;
	p->reenumerate = params->reenumerate;
	p->has_shell = params->shell;
	sim_shell_init(&p->shell, shell_write, p);
	if (ops)
		p->ops = *ops;
	p->user_data = user_data;
	p->decoder = console_decoder_new(&dops, p);
	if (!p->decoder || (link_path && !(p->link_path = strdup(link_path)))) {
		sim_pty_free(p);
		return -ENOMEM;
	}
	r = sim_server_add_port(s, &pops, p, CONSOLE_OVERHEAD, &p->port);
	if (r >= 0)
		r = open_pty(p);
	if (r < 0) {
		sim_pty_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

struct sim_pty *sim_pty_free(struct sim_pty *p)
{
	if (!p)
		return NULL;
	if (p->decoder)
		close_pty(p);
	console_decoder_free(p->decoder);
	free(p->link_path);
	free(p->out);
	sd_event_unref(p->event);
	free(p);
	return NULL;
}

const char *sim_pty_path(const struct sim_pty *p)
{
	return p->path[0] ? p->path : NULL;
}
