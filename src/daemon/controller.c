/* controller.c — otad's one BLE controller (Controller=), lent to one user at a time: the scan,
 * a BLE device's poll, or a BLE device's job. Each user opens the controller itself (hci_dev_new
 * for the scan, transport/ble for polls and jobs), and a tty or HCI user channel controller has
 * one user only, so the others wait here. It comes back once its user's link is let go of
 * (tr_close): queued BLE jobs go first, then waiting polls, then a wanted scan. UDP and serial
 * devices never wait for it. */
#include "daemon/device.h"
#include "daemon/manager.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const user_names[] = {
	[CTL_FREE] = "nobody",
	[CTL_SCAN] = "the scan",
	[CTL_POLL] = "the poll of ",
	[CTL_JOB] = "the update of ",
};

bool manager_controller_take(struct manager *m, enum ctl_user u, const char *who)
{
	if (m->ctl != CTL_FREE) {
		log_debug("controller: %s%s waits for %s%s", user_names[u], who, user_names[m->ctl],
			  m->ctl_who);
		return false;
	}
	m->ctl = u;
	snprintf(m->ctl_who, sizeof(m->ctl_who), "%s", who);
	log_debug("controller: lent to %s%s", user_names[u], who);
	return true;
}

static int on_controller_free(sd_event_source *s, void *userdata)
{
	struct manager *m = userdata;

	m->ctl_defer = sd_event_source_disable_unref(m->ctl_defer);
	if (m->ctl != CTL_FREE)
		return 0;
	manager_run_queue(m); /* a queued BLE job may take it */
	for (struct device *d = m->devices; d && m->ctl == CTL_FREE; d = d->next)
		if (d->poll_wanted) {
			d->poll_wanted = false;
			device_poll(d);
		}
	if (m->ctl == CTL_FREE && m->scan_wanted)
		manager_scan_ble(m, m->scan_forced);
	return 0;
}

void manager_controller_give_back(struct manager *m)
{
	if (m->ctl == CTL_FREE)
		return;
	log_debug("controller: given back by %s%s", user_names[m->ctl], m->ctl_who);
	m->ctl = CTL_FREE;
	m->ctl_who[0] = 0;
	/* from the loop: the one giving it back is often inside its own teardown */
	if (!m->ctl_defer && sd_event_add_defer(m->event, &m->ctl_defer, on_controller_free, m) < 0)
		log_error("controller: cannot schedule its next user");
}

static void on_link_let_go(struct tr *t, int err, void *user_data)
{
	struct manager *m = user_data;

	if (err)
		log_debug("controller: %s%s: its link ended %s", user_names[m->ctl], m->ctl_who,
			  err == -ETIMEDOUT ? "without the controller's confirmation"
					    : strerror(-err));
	m->ctl_closing = tr_free(t);
	manager_controller_give_back(m);
}

void manager_controller_give_back_after(struct manager *m, struct tr *t)
{
	if (t && !m->ctl_closing && tr_close(t, 0, on_link_let_go, m) == 0) {
		m->ctl_closing = t;
		return;
	}
	tr_free(t);
	manager_controller_give_back(m);
}
