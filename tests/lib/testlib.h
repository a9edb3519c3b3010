/* testlib.h — helpers for tests that start real programs: temporary directories, child
 * processes with captured output and timeouts, the trace format of otasim. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Path of a built binary ("otasim", "otactl"). */
const char *tl_bin(const char *name);
/* Fresh private directory under $TMPDIR (removed at exit unless OTAD_KEEP_TMP is set). */
const char *tl_tmpdir(void);
/* tl_tmpdir()/name, in a static ring of buffers. */
const char *tl_path(const char *name);

struct tl_proc {
	pid_t pid;
	char name[64];	  /* argv[0]'s base name, for messages */
	uint64_t sent;	  /* signals tl_proc_kill() sent (bit n = signal n) */
	int out_fd;       /* child's stdout (pipe), -1 when not captured */
	char err_path[512]; /* child's stderr goes to this file */
	char buf[8192];   /* line buffer for tl_proc_read_line */
	size_t buf_len;
};

/* Starts argv[0] (a tl_bin() path or a program in PATH) with stdout piped and stderr to a file in
 * the test's directory. When $OTAD_TEST_WRAPPER is set (e.g. "valgrind --error-exitcode=99 -q"),
 * our own binaries run under it. Returns 0 or -errno. */
int tl_spawn(struct tl_proc *p, char *const argv[]);
/* Reads one line of the child's stdout (without newline); -ETIMEDOUT, -EPIPE at EOF. */
int tl_proc_read_line(struct tl_proc *p, char *line, size_t size, int timeout_ms);
/* Waits for exit; returns the exit code (128+sig when killed by a signal the test sent with
 * tl_proc_kill()), or -ETIMEDOUT after killing it. A child that died from any other signal
 * crashed (SIGSEGV, SIGABRT of a failed assertion or sanitizer): that fails the running test,
 * whether or not the caller looks at the result, with the tail of the child's stderr. */
int tl_proc_wait(struct tl_proc *p, int timeout_ms);
/* Sends sig to the child and notes it: dying from it is then the test's doing, not a crash. */
void tl_proc_kill(struct tl_proc *p, int sig);
/* Whole stderr of the child so far (malloc'd). */
char *tl_proc_stderr(const struct tl_proc *p);

/* ms, or six times as long when our programs run under $OTAD_TEST_WRAPPER (valgrind). */
int tl_timeout(int ms);

/* What a failed test left running is stopped before the next one: tl_track() notes a child's
 * pid, tl_reap_tracked() (a cmocka teardown) SIGKILLs and reaps those never waited for — by pid,
 * as the test's own structures lived on its stack. */
void tl_track(pid_t pid);
int tl_reap_tracked(void **state);

/* Runs argv to completion with a timeout; captures stdout and stderr (malloc'd, may be NULL
 * pointers if not wanted). Returns the exit code, or -ETIMEDOUT. */
int tl_run(char *const argv[], int timeout_ms, char **ret_out, char **ret_err);

/* Trace of otasim (docs/otasim.md): one event per line, "name key=value ...". */
struct tl_event {
	char name[24];
	unsigned n;
	char keys[16][24];
	char vals[16][80];
};
int tl_trace_load(const char *path, struct tl_event **ret, size_t *ret_n);
const char *tl_ev_get(const struct tl_event *e, const char *key);      /* NULL if absent */
uint64_t tl_ev_u64(const struct tl_event *e, const char *key);         /* 0 if absent */
double tl_ev_double(const struct tl_event *e, const char *key);

/* Reads a whole file (malloc'd, NUL-terminated) or NULL. */
char *tl_read_file(const char *path);
bool tl_contains(const char *haystack, const char *needle);
