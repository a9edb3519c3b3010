/* log.c — stderr or journal logging for the binaries. */
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

static int max_level = LOG_LVL_INFO;
static const char *log_prefix;
static int use_journal;

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
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", level, err ? "ERRNO=%i" : NULL, err,
				NULL);
	else if (log_prefix)
		fprintf(stderr, "%s: %s\n", log_prefix, msg);
	else
		fprintf(stderr, "%s\n", msg);
	errno = saved;
	(void)fields;
	return -err;
}
