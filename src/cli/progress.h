/* progress.h — how otactl shows a job: a progress bar with rate and ETA when stdout is a
 * terminal, one line per state change otherwise, JSON lines with --json. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "otad/update.h"

enum progress_style {
	PROGRESS_BAR,   /* terminal: redraw one line */
	PROGRESS_LINES, /* pipes and logs: a line per step and per note */
	PROGRESS_JSON,  /* JSON lines: {"event":"step",...} */
};

struct progress {
	FILE *f;
	enum progress_style style;
	int verbosity;       /* notes at this syslog level and more urgent are shown */
	bool bar_drawn;
	unsigned last_percent; /* PROGRESS_LINES: one line per 10 % */
	enum upd_wait wait_shown; /* PROGRESS_LINES: the wait last reported, */
	unsigned wait_next;	  /* and the second of its next line */
};

void progress_init(struct progress *p, FILE *f, bool json, int verbosity);
void progress_step(struct progress *p, enum upd_step step, const struct upd_status *st);
void progress_update(struct progress *p, const struct upd_status *st);
void progress_note(struct progress *p, int level, const char *text);
void progress_result(struct progress *p, const struct upd_result *r);
