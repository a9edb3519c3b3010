/* btvirt.c — start and stop BlueZ's btvirt for a test, isolated in a private directory. */
#include "lib/btvirt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/testlib.h"

#define BTVIRT_PATH "/usr/bin/btvirt"

bool btvirt_available(void)
{
	return access(BTVIRT_PATH, X_OK) == 0 && access(OTAD_AFALG_SHIM, R_OK) == 0;
}

static bool can_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* Probing creates (and at close destroys) one emulated controller: harmless. */
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void child(const struct btvirt *b)
{
	int fd = open(b->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the test */
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	setenv("LD_PRELOAD", OTAD_AFALG_SHIM, 1);
	setenv("OTAD_BTVIRT_DIR", b->dir, 1);
	execl(BTVIRT_PATH, "btvirt", "-s", "-l0", (char *)NULL);
	_exit(127);
}

int btvirt_start(struct btvirt *b)
{
	static unsigned counter;
	char sock[300];
	struct timespec ts = {0, 20 * 1000 * 1000};

	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "%s/btvirt-%u", tl_tmpdir(), counter++);
	if (mkdir(b->dir, 0700) < 0)
		return -errno;
	snprintf(b->log, sizeof(b->log), "%s/btvirt.log", b->dir);
	snprintf(sock, sizeof(sock), "%s/bt-server-le", b->dir);
	if (strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	snprintf(b->spec, sizeof(b->spec), "unix:%s", sock);
	fflush(NULL);
	b->pid = fork();
	if (b->pid < 0)
		return -errno;
	if (b->pid == 0)
		child(b);
	for (int i = 0; i < 250; i++) {
		if (access(sock, F_OK) == 0 && can_connect(sock))
			return 0;
		if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
			b->pid = 0;
			return -ECHILD;
		}
		nanosleep(&ts, NULL);
	}
	btvirt_stop(b);
	return -ETIMEDOUT;
}

void btvirt_stop(struct btvirt *b)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	if (b->pid <= 0)
		return;
	kill(b->pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
			b->pid = 0;
			return;
		}
		nanosleep(&ts, NULL);
	}
	kill(b->pid, SIGKILL);
	waitpid(b->pid, NULL, 0);
	b->pid = 0;
}
