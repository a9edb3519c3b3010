/* testlib.c — child processes, temporary directories and trace parsing for tests. */
#include "lib/testlib.h"
#include "util/macro.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[PATH_MAX];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void tmpdir_cleanup(void)
{
	if (tmpdir[0] && !getenv("OTAD_KEEP_TMP"))
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tl_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (tmpdir[0])
		return tmpdir;
	snprintf(tmpdir, sizeof(tmpdir), "%s/otad-test-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		abort();
	}
	atexit(tmpdir_cleanup);
	/* Programs the test starts keep their state (otactl's pace memory) here, not in $HOME. */
	char state[PATH_MAX + 8];
	snprintf(state, sizeof(state), "%s/state", tmpdir);
	setenv("XDG_STATE_HOME", state, 1);
	return tmpdir;
}

const char *tl_path(const char *name)
{
	static char ring[8][PATH_MAX];
	static unsigned i;
	char *p = ring[i++ % 8];

	snprintf(p, PATH_MAX, "%s/%s", tl_tmpdir(), name);
	return p;
}

const char *tl_bin(const char *name)
{
	static char ring[4][PATH_MAX];
	static unsigned i;
	char *p = ring[i++ % 4];

	snprintf(p, PATH_MAX, "%s/%s", OTAD_BIN_DIR, name);
	return p;
}

static bool is_our_binary(const char *path)
{
	return strncmp(path, OTAD_BIN_DIR "/", strlen(OTAD_BIN_DIR) + 1) == 0;
}

/* argv with $OTAD_TEST_WRAPPER's words in front (our binaries only). */
static char **wrap_argv(char *const argv[], char **ret_wrapper_copy)
{
	const char *w = getenv("OTAD_TEST_WRAPPER");
	size_t n = 0, nw = 0;
	char **out, *copy = NULL;

	while (argv[n])
		n++;
	if (w && *w && is_our_binary(argv[0])) {
		copy = strdup(w);
		for (char *s = copy; *s; s++)
			if (*s != ' ' && (s == copy || s[-1] == ' ' || s[-1] == 0))
				nw++;
	}
	out = calloc(n + nw + 1, sizeof(char *));
	if (!out)
		abort();
	nw = 0;
	if (copy)
		for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " "))
			out[nw++] = tok;
	for (size_t i = 0; i < n; i++)
		out[nw + i] = argv[i];
	*ret_wrapper_copy = copy;
	return out;
}

int tl_spawn(struct tl_proc *p, char *const argv[])
{
	static unsigned counter;
	int pipefd[2];
	char *wcopy;
	char **av;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s",
		 strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
	snprintf(p->err_path, sizeof(p->err_path), "%s/stderr-%d-%u.log", tl_tmpdir(), getpid(),
		 counter++);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	av = wrap_argv(argv, &wcopy);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		free(av);
		free(wcopy);
		return r;
	}
	if (pid == 0) {
		int efd = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		dup2(pipefd[1], 1);
		if (efd >= 0)
			dup2(efd, 2);
		setpgid(0, 0);
		execvp(av[0], av);
		fprintf(stderr, "exec %s: %s\n", av[0], strerror(errno));
		_exit(127);
	}
	free(av);
	free(wcopy);
	close(pipefd[1]);
	p->pid = pid;
	p->out_fd = pipefd[0];
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tl_proc_read_line(struct tl_proc *p, char *line, size_t size, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(p->buf, '\n', p->buf_len);
		struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };
		ssize_t n;
		int64_t left;

		if (nl) {
			size_t len = (size_t)(nl - p->buf);

			snprintf(line, size, "%.*s", (int)len, p->buf);
			memmove(p->buf, nl + 1, p->buf_len - len - 1);
			p->buf_len -= len + 1;
			return 0;
		}
		if (p->buf_len == sizeof(p->buf))
			p->buf_len = 0; /* overlong line: drop it */
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(p->out_fd, p->buf + p->buf_len, sizeof(p->buf) - p->buf_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		p->buf_len += (size_t)n;
	}
}

/* The child died from a signal nobody sent it: show why and fail the test. */
static void crashed(const struct tl_proc *p, int sig)
{
	char *err = tl_read_file(p->err_path);
	size_t len = err ? strlen(err) : 0;
	const char *tail = err ? err + (len > 2000 ? len - 2000 : 0) : "";

	fprintf(stderr, "%s died from signal %d (%s); the end of its stderr (%s):\n%s\n", p->name,
		sig, strsignal(sig), p->err_path, tail);
	free(err);
	fail_msg("%s crashed: signal %d (%s)", p->name, sig, strsignal(sig));
}

int tl_proc_wait(struct tl_proc *p, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int status;

	if (p->pid <= 0)
		return -ECHILD;
	for (;;) {
		pid_t r = waitpid(p->pid, &status, WNOHANG);

		if (r == p->pid)
			break;
		if (r < 0)
			return -errno;
		if (now_ms() >= deadline) {
			kill(-p->pid, SIGKILL);
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			p->pid = 0;
			if (p->out_fd >= 0)
				close(p->out_fd);
			p->out_fd = -1;
			return -ETIMEDOUT;
		}
		usleep(5000);
	}
	p->pid = 0;
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (!(p->sent & UINT64_C(1) << WTERMSIG(status)))
		crashed(p, WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

void tl_proc_kill(struct tl_proc *p, int sig)
{
	if (p->pid <= 0)
		return;
	if (sig > 0 && sig < 64)
		p->sent |= UINT64_C(1) << sig;
	kill(p->pid, sig);
}

char *tl_read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	buf[len] = 0;
	return buf;
}

char *tl_proc_stderr(const struct tl_proc *p)
{
	return tl_read_file(p->err_path);
}

int tl_run(char *const argv[], int timeout_ms, char **ret_out, char **ret_err)
{
	struct tl_proc p;
	char *out = NULL;
	size_t len = 0, cap = 0;
	int64_t deadline = now_ms() + timeout_ms;
	int r = tl_spawn(&p, argv);

	if (r < 0)
		return r;
	/* Drain stdout until EOF so the child never blocks on a full pipe. */
	for (;;) {
		struct pollfd pfd = { .fd = p.out_fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			out = realloc(out, cap);
			if (!out)
				abort();
		}
		n = read(p.out_fd, out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (!out)
		out = calloc(1, 1);
	out[len] = 0;
	r = tl_proc_wait(&p, (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 1));
	if (ret_out)
		*ret_out = out;
	else
		free(out);
	if (ret_err)
		*ret_err = tl_proc_stderr(&p);
	return r;
}

bool tl_contains(const char *haystack, const char *needle)
{
	return haystack && strstr(haystack, needle);
}

static void parse_event(char *line, struct tl_event *e)
{
	char *save = NULL, *tok = strtok_r(line, " \t", &save);

	memset(e, 0, sizeof(*e));
	if (!tok)
		return;
	snprintf(e->name, sizeof(e->name), "%s", tok);
	while ((tok = strtok_r(NULL, " \t", &save)) && e->n < 16) {
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		*eq = 0;
		snprintf(e->keys[e->n], sizeof(e->keys[0]), "%s", tok);
		snprintf(e->vals[e->n], sizeof(e->vals[0]), "%s", eq + 1);
		e->n++;
	}
}

int tl_trace_load(const char *path, struct tl_event **ret, size_t *ret_n)
{
	char *text = tl_read_file(path), *save = NULL;
	struct tl_event *ev = NULL;
	size_t n = 0, cap = 0;

	if (!text)
		return -errno;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			ev = realloc(ev, cap * sizeof(*ev));
			if (!ev)
				abort();
		}
		parse_event(line, &ev[n]);
		if (ev[n].name[0])
			n++;
	}
	free(text);
	*ret = ev;
	*ret_n = n;
	return 0;
}

const char *tl_ev_get(const struct tl_event *e, const char *key)
{
	for (unsigned i = 0; i < e->n; i++)
		if (strcmp(e->keys[i], key) == 0)
			return e->vals[i];
	return NULL;
}

uint64_t tl_ev_u64(const struct tl_event *e, const char *key)
{
	const char *v = tl_ev_get(e, key);

	return v ? strtoull(v, NULL, 10) : 0;
}

double tl_ev_double(const struct tl_event *e, const char *key)
{
	const char *v = tl_ev_get(e, key);

	return v ? strtod(v, NULL) : 0.0;
}

int tl_timeout(int ms)
{
	const char *w = getenv("OTAD_TEST_WRAPPER");

	return w && *w ? ms * 6 : ms;
}

static pid_t tracked[16];
static unsigned n_tracked;

void tl_track(pid_t pid)
{
	if (pid > 0 && n_tracked < ARRAY_SIZE(tracked))
		tracked[n_tracked++] = pid;
}

int tl_reap_tracked(void **state)
{
	for (unsigned i = 0; i < n_tracked; i++) {
		int st;

		/* still our child, never reaped: the test did not get to stop it */
		if (waitpid(tracked[i], &st, WNOHANG) == 0) {
			kill(tracked[i], SIGKILL);
			waitpid(tracked[i], &st, 0);
		}
	}
	n_tracked = 0;
	return 0;
}
