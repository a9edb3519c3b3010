/* ddictl.c — the test DDI server as a fixture (ddictl.h): started with python3 from the source
 * tree, commanded over its unix socket. */
#include "lib/ddictl.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

int tl_ddi_start(struct tl_ddi *s, const char *tenant, const char *token)
{
	static unsigned n;
	char script[600], port_path[600], *port = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/ddi-%u", tl_tmpdir(), n++);
	if (mkdir(s->dir, 0755) < 0)
		return -errno;
	snprintf(script, sizeof(script), "%s/tests/lib/ddi-server.py", OTAD_SOURCE_DIR);
	snprintf(s->ca, sizeof(s->ca), "%s/ca.pem", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/requests.log", s->dir);
	if (snprintf(s->control, sizeof(s->control), "%s/control", s->dir) >=
	    (int)sizeof(s->control))
		return -ENAMETOOLONG;
	snprintf(port_path, sizeof(port_path), "%s/port", s->dir);
	{
		char *argv[] = {"python3",	script,	   "--dir",	  s->dir, "--tenant",
				(char *)tenant, "--token", (char *)token, NULL};

		r = tl_spawn(&s->proc, argv);
	}
	if (r < 0)
		return r;
	tl_track(s->proc.pid);
	/* certificates first (openssl), then it listens and writes its port */
	for (int i = 0; i < 200 && !(port = tl_read_file(port_path)); i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		if (kill(s->proc.pid, 0) < 0)
			break;
		nanosleep(&ts, NULL);
	}
	if (!port) {
		char *err = tl_proc_stderr(&s->proc);

		fprintf(stderr, "ddi-server.py did not start: %s\n", err ? err : "");
		free(err);
		tl_ddi_stop(s);
		return -ETIMEDOUT;
	}
	s->port = (unsigned)atoi(port);
	free(port);
	snprintf(s->url, sizeof(s->url), "https://127.0.0.1:%u", s->port);
	return 0;
}

void tl_ddi_stop(struct tl_ddi *s)
{
	if (s->proc.pid > 0) {
		tl_proc_kill(&s->proc, SIGTERM);
		tl_proc_wait(&s->proc, 5000);
	}
	s->proc.pid = 0;
}

char *tl_ddi_cmd(struct tl_ddi *s, const char *fmt, ...)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char line[2048], *answer = NULL;
	size_t len = 0, cap = 0;
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return NULL;
	line[n++] = '\n';
	memcpy(sa.sun_path, s->control, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, line, (size_t)n) != n) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		char c;

		if (read(fd, &c, 1) != 1 || c == '\n')
			break;
		if (len + 2 > cap) {
			cap = cap ? cap * 2 : 256;
			answer = realloc(answer, cap);
			if (!answer)
				abort();
		}
		answer[len++] = c;
		answer[len] = 0;
	}
	close(fd);
	return answer ? answer : strdup("");
}

long tl_ddi_count(struct tl_ddi *s, const char *kind, const char *cid)
{
	char *a = tl_ddi_cmd(s, "count %s %s", kind, cid ? cid : "");
	long n = a ? strtol(a, NULL, 10) : -1;

	free(a);
	return n;
}

void tl_ddi_assert_no_violations(struct tl_ddi *s)
{
	char *a = tl_ddi_cmd(s, "violations");

	assert_non_null(a);
	if (strcmp(a, "[]") != 0)
		fail_msg("the DDI server found: %s", a);
	free(a);
}
