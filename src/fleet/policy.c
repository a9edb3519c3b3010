/* policy.c — which device gets its group's image, and when: the running version against the
 * group's (never a downgrade unless the group allows it) and the maintenance window. */
#include "otad/fleet.h"

#include <stdio.h>
#include <string.h>

static const char *const verdict_names[_FLEET_VERDICT_MAX] = {
	[FLEET_CURRENT] = "current",	 [FLEET_UPDATE] = "update",
	[FLEET_HOLD_NEWER] = "newer",	 [FLEET_HOLD_WINDOW] = "window",
	[FLEET_HOLD_IMAGE] = "no-image", [FLEET_UNKNOWN] = "unknown",
};

const char *fleet_verdict_name(enum fleet_verdict v)
{
	return (unsigned)v < _FLEET_VERDICT_MAX ? verdict_names[v] : "?";
}

bool fleet_window_open(const struct fleet_group *g, unsigned minute_of_day)
{
	if (g->n_windows == 0)
		return true;
	for (unsigned i = 0; i < g->n_windows; i++) {
		const struct fleet_window *w = &g->windows[i];

		if (w->start < w->end && minute_of_day >= w->start && minute_of_day < w->end)
			return true;
		if (w->start > w->end && (minute_of_day >= w->start || minute_of_day < w->end))
			return true;
	}
	return false;
}

void fleet_decide(const struct fleet_group *g, const char *running_version, unsigned minute_of_day,
		  struct fleet_decision *ret)
{
	struct img_version running;
	int cmp;

	if (!running_version || img_version_parse(running_version, &running) < 0) {
		ret->verdict = FLEET_UNKNOWN;
		snprintf(ret->reason, sizeof(ret->reason), "running version %s%s%s",
			 running_version ? "'" : "unknown", running_version ? running_version : "",
			 running_version ? "' is not a version" : "");
		return;
	}
	cmp = img_version_cmp(&running, &g->version);
	if (cmp == 0) {
		ret->verdict = FLEET_CURRENT;
		snprintf(ret->reason, sizeof(ret->reason), "runs %s, the version of group %s",
			 running_version, g->name);
		return;
	}
	if (cmp > 0 && !g->allow_downgrade) {
		ret->verdict = FLEET_HOLD_NEWER;
		snprintf(ret->reason, sizeof(ret->reason),
			 "runs %s, newer than group %s's %s: not downgraded (AllowDowngrade=no)",
			 running_version, g->name, g->version_text);
		return;
	}
	if (g->image_errno) {
		ret->verdict = FLEET_HOLD_IMAGE;
		snprintf(ret->reason, sizeof(ret->reason),
			 "runs %s, group %s wants %s: its image %s cannot be read (%s); put it "
			 "there and reload",
			 running_version, g->name, g->version_text, g->image,
			 strerror(g->image_errno));
		return;
	}
	if (!fleet_window_open(g, minute_of_day)) {
		ret->verdict = FLEET_HOLD_WINDOW;
		snprintf(ret->reason, sizeof(ret->reason),
			 "runs %s, group %s wants %s: waiting for the maintenance window",
			 running_version, g->name, g->version_text);
		return;
	}
	ret->verdict = FLEET_UPDATE;
	snprintf(ret->reason, sizeof(ret->reason), "runs %s, group %s wants %s%s", running_version,
		 g->name, g->version_text, cmp > 0 ? " (downgrade allowed)" : "");
}
