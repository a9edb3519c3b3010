/* simctl.c — otasim as a test fixture. */
#include "lib/simctl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tl_sim_start(struct tl_sim *s, const char *name, const char *kind, const char *const *extra)
{
	const char *argv[64];
	char line[256];
	unsigned n = 0;
	bool udp = strcmp(kind, "udp") == 0;
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->trace, sizeof(s->trace), "%s/%s.trace", tl_tmpdir(), name);
	snprintf(s->state, sizeof(s->state), "%s/%s.state", tl_tmpdir(), name);
	argv[n++] = tl_bin("otasim");
	if (udp) {
		argv[n++] = "--udp";
		argv[n++] = "127.0.0.1:0";
	} else {
		argv[n++] = "--serial";
	}
	argv[n++] = "--trace";
	argv[n++] = s->trace;
	argv[n++] = "--state";
	argv[n++] = s->state;
	for (unsigned i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	r = tl_spawn(&s->proc, (char *const *)argv);
	if (r < 0)
		return r;
	r = tl_proc_read_line(&s->proc, line, sizeof(line), 20000);
	if (r >= 0 && udp && strncmp(line, "udp: ", 5) == 0)
		snprintf(s->spec, sizeof(s->spec), "udp:%s", line + 5);
	else if (r >= 0 && !udp && strncmp(line, "pty: ", 5) == 0)
		snprintf(s->spec, sizeof(s->spec), "serial:%s", line + 5);
	else if (r >= 0)
		r = -EPROTO;
	if (r < 0) { /* never leave a half-started simulator behind */
		tl_proc_kill(&s->proc, SIGKILL);
		(void)tl_proc_wait(&s->proc, 5000);
		return r;
	}
	return 0;
}

int tl_sim_stop(struct tl_sim *s)
{
	tl_proc_kill(&s->proc, SIGTERM);
	return tl_proc_wait(&s->proc, 20000);
}

size_t tl_sim_count_events(struct tl_sim *s, const char *name, const char *key, const char *value)
{
	struct tl_event *ev = NULL;
	size_t n = 0, count = 0;

	if (tl_trace_load(s->trace, &ev, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *v = key ? tl_ev_get(&ev[i], key) : NULL;

		if (strcmp(ev[i].name, name) == 0 && (!key || (v && strcmp(v, value) == 0)))
			count++;
	}
	free(ev);
	return count;
}

int tl_sim_wait_event(struct tl_sim *s, const char *name, const char *key, const char *value,
		      int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (tl_sim_count_events(s, name, key, value) > 0)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}
