/* caller.c — a D-Bus caller's identity, and files opened as that caller may open them.
 *
 * The bus daemon records a connection's uid and groups from its socket (SO_PEERCRED,
 * SO_PEERGROUPS) when it connects; GetConnectionCredentials hands them out. sd-bus's own
 * sd_bus_query_sender_creds() would take the groups from /proc/PID, which a caller can race (the
 * PID may be another process by then): no basis for access. A path is then opened by a child
 * process that has taken on that uid and those groups, so the kernel judges every component as
 * it would for the caller, with no window between a check and the open. */
#include "daemon/caller.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define OPEN_TIMEOUT_MS 5000
#define NOGROUP		65534 /* the kernel's overflow gid: no group's files */

void caller_done(struct caller *c)
{
	free(c->gids);
	*c = (struct caller){0};
}

static int read_gids(sd_bus_message *reply, struct caller *c)
{
	const uint32_t *g;
	size_t size = 0;
	int r = sd_bus_message_enter_container(reply, 'v', "au");

	if (r >= 0)
		r = sd_bus_message_read_array(reply, 'u', (const void **)&g, &size);
	if (r < 0)
		return r;
	free(c->gids);
	c->n_gids = size / sizeof(*g);
	c->gids = calloc(c->n_gids ? c->n_gids : 1, sizeof(gid_t));
	if (!c->gids)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_gids; i++)
		c->gids[i] = g[i];
	return sd_bus_message_exit_container(reply);
}

static int read_creds(sd_bus_message *reply, struct caller *c)
{
	bool has_uid = false;
	const char *key;
	uint32_t uid;
	int r = sd_bus_message_enter_container(reply, 'a', "{sv}");

	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		r = sd_bus_message_read(reply, "s", &key);
		if (r >= 0 && strcmp(key, "UnixUserID") == 0) {
			r = sd_bus_message_read(reply, "v", "u", &uid);
			c->uid = uid;
			has_uid = r >= 0;
		} else if (r >= 0 && strcmp(key, "UnixGroupIDs") == 0) {
			r = read_gids(reply, c);
		} else if (r >= 0) {
			r = sd_bus_message_skip(reply, "v");
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
	}
	return r < 0 ? r : has_uid ? 0 : -ENODATA;
}

int caller_get(sd_bus_message *msg, struct caller *ret)
{
	const char *sender = sd_bus_message_get_sender(msg);
	sd_bus_message *reply = NULL;
	int r;

	*ret = (struct caller){0};
	if (!sender)
		return -ENODATA; /* not on a bus: nobody vouches for the peer */
	r = sd_bus_call_method(sd_bus_message_get_bus(msg), "org.freedesktop.DBus",
			       "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetConnectionCredentials", NULL, &reply, "s", sender);
	if (r >= 0)
		r = read_creds(reply, ret);
	sd_bus_message_unref(reply);
	if (r < 0)
		caller_done(ret);
	return r;
}

/* A regular file only: opening a device or a FIFO can block or act. */
static int open_regular(const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* The child's answer: an int (0 or -errno) and, with 0, the fd. */
static void send_result(int sock, int r)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	int code = r < 0 ? r : 0;
	struct iovec iov = {.iov_base = &code, .iov_len = sizeof(code)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (r >= 0) {
		struct cmsghdr *cm;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &r, sizeof(int));
	}
	(void)sendmsg(sock, &mh, MSG_NOSIGNAL);
}

static int recv_result(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	int code = -EIO, fd = -1;
	struct iovec iov = {.iov_base = &code, .iov_len = sizeof(code)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct pollfd p = {.fd = sock, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, OPEN_TIMEOUT_MS) <= 0)
		return -ETIMEDOUT; /* a hung file system: the child is killed */
	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(code))
		return -EIO;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (code == 0 && fd < 0)
		return -EIO;
	if (code < 0 && fd >= 0)
		close(fd);
	return code < 0 ? code : fd;
}

/* In the child: groups, then gid, then uid (after which nothing can be taken back). */
static _Noreturn void open_in_child(const struct caller *c, const char *path, int sock)
{
	gid_t gid = c->n_gids ? c->gids[0] : NOGROUP;
	int r = -EPERM;

	if (setgroups(c->n_gids, c->gids) == 0 && setresgid(gid, gid, gid) == 0 &&
	    setresuid(c->uid, c->uid, c->uid) == 0)
		r = open_regular(path);
	send_result(sock, r);
	_exit(0);
}

static int open_as(const struct caller *c, const char *path)
{
	int sv[2], r, status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0)
		open_in_child(c, path, sv[1]);
	close(sv[1]);
	r = recv_result(sv[0]);
	close(sv[0]);
	if (r == -ETIMEDOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return r;
}

int caller_open(const struct caller *c, const char *path)
{
	/* root may read what otad may; otad's own user is otad */
	if (c->uid == 0 || c->uid == geteuid())
		return open_regular(path);
	if (geteuid() != 0)
		return -EOPNOTSUPP;
	return open_as(c, path);
}
