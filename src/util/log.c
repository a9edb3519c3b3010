/* log.c — stderr or journal logging for the binaries. */
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

static int max_level = LOG_LVL_INFO;
static const char *log_prefix;
static int use_journal;
static void (*observer)(int level, const char *msg);

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

void log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

void log_open_journal(void)
{
	use_journal = 1;
}

void log_set_observer(void (*fn)(int level, const char *msg))
{
	observer = fn;
}

/* fields: "KEY=value" lines separated by '\n' (e.g. "DEVICE=sensor-1\nJOB=3"), or NULL. */
static void send_journal(int level, int err, const char *fields, const char *msg)
{
	char m[1100], prio[16], errno_field[24], copy[512];
	struct iovec iov[12];
	unsigned n = 0;

	snprintf(m, sizeof(m), "MESSAGE=%s", msg);
	snprintf(prio, sizeof(prio), "PRIORITY=%d", level);
	iov[n++] = (struct iovec){ m, strlen(m) };
	iov[n++] = (struct iovec){ prio, strlen(prio) };
	if (err) {
		snprintf(errno_field, sizeof(errno_field), "ERRNO=%d", err);
		iov[n++] = (struct iovec){ errno_field, strlen(errno_field) };
	}
	snprintf(copy, sizeof(copy), "%s", fields ? fields : "");
	for (char *save = NULL, *f = strtok_r(copy, "\n", &save); f && n < ARRAY_SIZE(iov);
	     f = strtok_r(NULL, "\n", &save))
		iov[n++] = (struct iovec){ f, strlen(f) };
	sd_journal_sendv(iov, (int)n);
}

int log_internal(int level, int err, const char *fields, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	if (err < 0)
		err = -err;
	if (level > max_level)
		return -err;
	va_start(ap, fmt);
	errno = err; /* for %m */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (use_journal)
		send_journal(level, err, fields, msg);
	else if (log_prefix)
		fprintf(stderr, "%s: %s\n", log_prefix, msg);
	else
		fprintf(stderr, "%s\n", msg);
	if (observer)
		observer(level, msg);
	errno = saved;
	return -err;
}
