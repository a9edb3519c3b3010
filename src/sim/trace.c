/* trace.c — line-buffered event trace. */
#include "sim/trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct sim_trace {
	FILE *f;
};

int sim_trace_open(const char *path, struct sim_trace **ret)
{
	struct sim_trace *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->f = fopen(path, "we");
	if (!t->f) {
		int r = -errno;

		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

struct sim_trace *sim_trace_close(struct sim_trace *t)
{
	if (!t)
		return NULL;
	fclose(t->f);
	free(t);
	return NULL;
}

void sim_trace_event(struct sim_trace *t, const char *event, double real_s, const char *fmt, ...)
{
	va_list ap;

	if (!t)
		return;
	fprintf(t->f, "%s t=%.6f", event, real_s);
	if (fmt && *fmt) {
		fputc(' ', t->f);
		va_start(ap, fmt);
		vfprintf(t->f, fmt, ap);
		va_end(ap);
	}
	fputc('\n', t->f);
	fflush(t->f);
}
