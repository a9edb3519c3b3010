/* scheduler.c — the manager's job queue: persisted jobs back at start, new jobs (by hand or from
 * the fleet policy after a poll), starting them within MaxJobs / one per device / MaxParallel per
 * group / one BLE job while nothing else holds the controller, and the bounded history of
 * finished ones. */
#include "daemon/device.h"
#include "daemon/job.h"
#include "daemon/manager.h"
#include "util/hex.h"
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void append_job(struct manager *m, struct job *j)
{
	struct job **p = &m->jobs;

	while (*p)
		p = &(*p)->next;
	*p = j;
}

static void drop_job(struct manager *m, struct job *j)
{
	for (struct job **p = &m->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	job_bus_removed(j);
	job_store_remove(m->store, j->rec.id);
	job_free(j);
}

/* ---- loading ------------------------------------------------------------------------------ */

/* An unfinished job on an ad hoc device brings the device back, as when the job was started; a
 * finished one stays in the history without it. */
static struct device *stored_job_device(struct manager *m, const struct job_record *r)
{
	struct device *d = manager_find_device(m, r->device);

	if (d || job_state_finished(r->state) || device_new(m, r->device, r->transport, &d) < 0)
		return d;
	manager_add_device(m, d);
	return d;
}

static void on_stored_job(const struct job_record *r, void *user_data)
{
	struct manager *m = user_data;
	struct device *d = stored_job_device(m, r);
	struct job_record rec = *r;
	struct job *j;

	if (!d && !job_state_finished(rec.state))
		return;
	if (d && !job_state_finished(rec.state) && d->job) {
		rec.state = JOB_FAILED; /* one job per device: the older one goes on */
		snprintf(rec.error, sizeof(rec.error), "device %s has job %" PRIu32 " already",
			 rec.device, d->job->rec.id);
	} else if (!job_state_finished(rec.state)) {
		/* the daemon stopped or died under it: back in the queue, it resumes from the
		 * device's offset (the device keeps the upload open) */
		rec.state = JOB_QUEUED;
		log_info("job %" PRIu32 " (%s): resuming (was at %s, %" PRIu64 "/%" PRIu64 ")",
			 rec.id, rec.device, rec.step[0] ? rec.step : "start", rec.offset,
			 rec.total);
	}
	if (job_new(m, d, &rec, &j) < 0)
		return;
	append_job(m, j);
	if (d && job_is_active(j))
		d->job = j;
	job_bus_added(j);
}

static void on_store_problem(const char *text, void *user_data)
{
	log_error("job store: %s", text);
}

int manager_load_jobs(struct manager *m)
{
	static const struct job_store_ops ops = {.job = on_stored_job, .problem = on_store_problem};
	int r = job_store_load(m->store, &ops, m, &m->next_job_id);

	if (r > 0)
		log_info("%d job%s loaded from %s/jobs", r, r == 1 ? "" : "s", m->state_dir);
	return r < 0 ? r : 0;
}

/* ---- the queue ---------------------------------------------------------------------------- */

int manager_add_job(struct manager *m, struct device *d, const struct job_record *rec,
		    struct job **ret)
{
	struct job_record r = *rec;
	struct job *j;
	int e;

	r.id = m->next_job_id;
	r.created = manager_realtime();
	r.state = JOB_QUEUED;
	e = job_new(m, d, &r, &j);
	if (e < 0)
		return e;
	m->next_job_id++;
	append_job(m, j);
	d->job = j;
	job_save(j);
	job_bus_added(j);
	device_bus_emit(d, "Job", NULL);
	job_log(j, LOG_LVL_INFO, "queued: %s%s%s", r.source,
		r.automatic ? ", by the policy of group " : "", r.automatic ? r.group : "");
	manager_schedule(m);
	if (ret)
		*ret = j;
	return 0;
}

static unsigned running_in_group(struct manager *m, const char *group)
{
	unsigned n = 0;

	for (struct job *j = m->jobs; j; j = j->next)
		n += j->rec.state == JOB_RUNNING && group[0] && strcmp(j->rec.group, group) == 0;
	return n;
}

static void prune_history(struct manager *m)
{
	unsigned finished = 0;

	for (struct job *j = m->jobs; j; j = j->next)
		finished += job_state_finished(j->rec.state);
	for (struct job *j = m->jobs, *next; j && finished > m->config->s.history; j = next) {
		next = j->next;
		if (job_state_finished(j->rec.state)) {
			drop_job(m, j);
			finished--;
		}
	}
}

static unsigned minute_of_day(void)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	return (unsigned)(tm.tm_hour * 60 + tm.tm_min);
}

void manager_run_queue(struct manager *m)
{
	prune_history(m);
	for (struct job *j = m->jobs; j && m->n_running < m->config->s.max_jobs; j = j->next) {
		const struct fleet_group *g = fleet_config_group(m->config, j->rec.group);

		if (j->rec.state != JOB_QUEUED)
			continue;
		if (g && g->max_parallel && running_in_group(m, g->name) >= g->max_parallel)
			continue;
		/* a fleet job waits for its group's window, even once queued */
		if (j->rec.automatic && g && !fleet_window_open(g, minute_of_day()))
			continue;
		/* a BLE job holds the controller from start to end: the others wait */
		if (transport_is_ble(j->rec.transport)) {
			if (!manager_controller_take(m, CTL_JOB, j->rec.device))
				continue;
			j->holds_controller = true;
		}
		m->n_running++;
		j->counted = true;
		job_start(j); /* may finish at once: manager_job_finished() defers to here again */
	}
	manager_notify_status(m, true);
}

static int on_schedule(sd_event_source *s, void *userdata)
{
	struct manager *m = userdata;

	m->schedule_defer = sd_event_source_disable_unref(m->schedule_defer);
	manager_run_queue(m);
	return 0;
}

void manager_schedule(struct manager *m)
{
	if (!m->schedule_defer)
		(void)sd_event_add_defer(m->event, &m->schedule_defer, on_schedule, m);
}

void manager_job_finished(struct manager *m, struct job *j)
{
	struct device *d = j->device;

	if (j->counted) {
		m->n_running--;
		j->counted = false;
	}
	if (j->holds_controller) {
		j->holds_controller = false;
		manager_controller_give_back_after(m, TAKE_PTR(j->tr));
	}
	j->tr = tr_free(j->tr);
	if (d && d->job == j) {
		d->job = NULL;
		device_bus_emit(d, "Job", NULL);
		if (j->rec.automatic && j->rec.state == JOB_FAILED) {
			d->hold_until = manager_realtime() + m->config->s.retry_delay_usec;
			snprintf(d->failed_version, sizeof(d->failed_version), "%s",
				 j->rec.target_version);
		}
		if (d->listed || d->scanned)
			device_poll(d); /* what it runs now, and whether it needs more */
		else
			manager_remove_device(m, d); /* ad hoc: it lasted while its job did */
	}
	manager_schedule(m);
}

/* ---- policy after a poll ------------------------------------------------------------------ */

static void schedule_fleet_job(struct manager *m, struct device *d, const struct fleet_group *g)
{
	struct job_record rec = {
		.automatic = true, .mode = g->mode, .retries = g->retries, .pace = g->pace};
	int r;

	snprintf(rec.device, sizeof(rec.device), "%s", d->name);
	snprintf(rec.transport, sizeof(rec.transport), "%s", d->transport);
	snprintf(rec.group, sizeof(rec.group), "%s", g->name);
	snprintf(rec.source, sizeof(rec.source), "%s", g->image);
	snprintf(rec.target_version, sizeof(rec.target_version), "%s", g->version_text);
	if (g->has_sha256)
		hex_encode(g->sha256, 32, rec.sha256);
	r = manager_add_job(m, d, &rec, NULL);
	if (r < 0)
		log_error_errno(r, "%s: cannot queue the update: %m", d->name);
}

void manager_device_polled(struct manager *m, struct device *d)
{
	const struct fleet_group *g = fleet_config_group(m->config, d->group);
	struct fleet_decision dec;

	if (!d->poll_ok || d->job)
		return;
	if (!g) {
		device_set_status(d, "none", "runs %s; in no group",
				  device_running_version(d) ? device_running_version(d) : "?");
		return;
	}
	fleet_decide(g, device_running_version(d), minute_of_day(), &dec);
	if (dec.verdict == FLEET_UPDATE && d->hold_until > manager_realtime() &&
	    strcmp(d->failed_version, g->version_text) == 0) {
		device_set_status(d, "held", "%s; held after a failed update (RetryDelay=)",
				  dec.reason);
		return;
	}
	device_set_status(d, fleet_verdict_name(dec.verdict), "%s", dec.reason);
	if (dec.verdict == FLEET_UPDATE)
		schedule_fleet_job(m, d, g);
}
