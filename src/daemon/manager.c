/* manager.c — otad's core: the config, the devices it lists, the jobs (persisted, resumed after a
 * restart), the scheduler (MaxJobs, one job per device, MaxParallel per group, maintenance
 * windows through the policy), polling, reload, and what systemd is told (READY, STATUS,
 * WATCHDOG). Its D-Bus face is manager-bus.c. */
#include "daemon/manager.h"
#include "daemon/device.h"
#include "daemon/job.h"
#include "daemon/scan.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <systemd/sd-daemon.h>
#include <time.h>

uint64_t manager_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t now_mono(struct manager *m)
{
	uint64_t t = 0;

	sd_event_now(m->event, CLOCK_MONOTONIC, &t);
	return t;
}

/* Command line, else otad.conf, else what systemd hands over (first of a ':' list), else the
 * default. */
static int pick_dir(const char *arg, const char *conf, const char *env, const char *def, char **ret)
{
	const char *e = getenv(env);
	char *v;

	if (arg)
		v = strdup(arg);
	else if (conf)
		v = strdup(conf);
	else if (e && *e)
		v = strndup(e, strcspn(e, ":"));
	else
		v = strdup(def);
	if (!v)
		return -ENOMEM;
	*ret = v;
	return 0;
}

struct device *manager_find_device(struct manager *m, const char *name)
{
	for (struct device *d = m->devices; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

struct job *manager_find_job(struct manager *m, uint32_t id)
{
	for (struct job *j = m->jobs; j; j = j->next)
		if (j->rec.id == id)
			return j;
	return NULL;
}

struct device *manager_find_ble_device(struct manager *m, const char *address)
{
	size_t n = strlen(address);

	for (struct device *d = m->devices; d; d = d->next) {
		const char *a = d->transport + 4; /* ble:ADDRESS[/TYPE] */

		if (transport_is_ble(d->transport) && strncasecmp(a, address, n) == 0 &&
		    (a[n] == 0 || a[n] == '/'))
			return d;
	}
	return NULL;
}

void manager_add_device(struct manager *m, struct device *d)
{
	struct device **p = &m->devices;

	while (*p)
		p = &(*p)->next;
	*p = d;
	device_bus_added(d);
}

void manager_remove_device(struct manager *m, struct device *d)
{
	for (struct device **p = &m->devices; *p; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
	for (struct job *j = m->jobs; j; j = j->next)
		if (j->device == d)
			j->device = NULL; /* finished jobs stay in the history without it */
	device_bus_removed(d);
	device_free(d);
}

void manager_assign_group(struct manager *m, struct device *d)
{
	const struct fleet_group *g =
		fleet_config_group_for(m->config, d->name, d->address, d->adv, d->adv_len);

	device_set_group(d, g ? g->name : NULL);
	snprintf(d->target, sizeof(d->target), "%s", g ? g->version_text : "");
	device_bus_emit(d, "Group", "TargetVersion", NULL);
}

/* Devices of the fleet files: new ones added, changed ones updated, gone ones dropped (kept
 * while a job runs on them). */
static int sync_devices(struct manager *m)
{
	for (size_t i = 0; i < m->config->n_devices; i++) {
		const struct fleet_device *fd = &m->config->devices[i];
		struct device *d = manager_find_device(m, fd->name);
		char *t;

		if (!d) {
			int r = device_new(m, fd->name, fd->transport, &d);

			if (r < 0)
				return r;
			manager_add_device(m, d);
		} else if (strcmp(d->transport, fd->transport) != 0) {
			if (!(t = strdup(fd->transport)))
				return -ENOMEM;
			free(d->transport);
			d->transport = t;
			device_bus_emit(d, "Transport", NULL);
		}
		d->listed = true;
	}
	for (struct device *d = m->devices, *next; d; d = next) {
		next = d->next;
		if (d->listed && !fleet_config_device(m->config, d->name)) {
			d->listed = false;
			if (!d->job)
				manager_remove_device(m, d);
		}
	}
	for (struct device *d = m->devices; d; d = d->next)
		manager_assign_group(m, d);
	return 0;
}

static int make_fetcher(struct manager *m, struct fetcher **ret)
{
	const struct fleet_settings *s = &m->config->s;
	struct fetch_options o = {
		.cache_dir = m->cache_dir,
		.max_size = s->max_image_size,
		.allow_http = s->allow_http,
		.ca_file = s->ca_file,
	};

	return fetcher_new(m->event, &o, ret);
}

int manager_new(sd_event *e, const struct manager_options *o, struct manager **ret,
		struct conf_error *err)
{
	struct manager *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->event = sd_event_ref(e);
	m->next_job_id = 1;
	r = pick_dir(o->config_dir, NULL, "CONFIGURATION_DIRECTORY", "/etc/otad", &m->config_dir);
	if (r >= 0)
		r = fleet_config_load(m->config_dir, &m->config, err);
	if (r >= 0)
		r = pick_dir(o->state_dir, m->config->s.state_dir, "STATE_DIRECTORY",
			     "/var/lib/otad", &m->state_dir);
	if (r >= 0)
		r = pick_dir(o->cache_dir, m->config->s.cache_dir, "CACHE_DIRECTORY",
			     "/var/cache/otad", &m->cache_dir);
	if (r >= 0 && asprintf(&m->pace_path, "%s/pace", m->state_dir) < 0)
		r = -ENOMEM;
	if (r >= 0 && asprintf(&m->bond_path, "%s/bonds", m->state_dir) < 0)
		r = -ENOMEM;
	if (r >= 0 && (r = mkdir_p(m->cache_dir, 0750)) < 0)
		conf_error_set(err, m->cache_dir, 0, "cannot create: %s", strerror(-r));
	if (r >= 0 && (r = job_store_open(m->state_dir, &m->store)) < 0)
		conf_error_set(err, m->state_dir, 0, "cannot open the job store: %s", strerror(-r));
	if (r >= 0)
		r = make_fetcher(m, &m->fetcher);
	if (r >= 0)
		r = sync_devices(m);
	if (r < 0) {
		manager_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

struct manager *manager_free(struct manager *m)
{
	if (!m)
		return NULL;
	/* jobs keep their state on disk: a running job resumes at the next start */
	while (m->jobs) {
		struct job *j = m->jobs;

		m->jobs = j->next;
		job_free(j);
	}
	while (m->devices) {
		struct device *d = m->devices;

		m->devices = d->next;
		device_free(d);
	}
	m->scan = scan_free(m->scan);
	fetcher_free(m->fetcher);
	job_store_free(m->store);
	fleet_config_free(m->config);
	sd_event_source_disable_unref(m->poll_timer);
	sd_event_source_disable_unref(m->watchdog_timer);
	sd_event_source_disable_unref(m->schedule_defer);
	sd_event_source_disable_unref(m->scan_timer);
	sd_event_source_disable_unref(m->ctl_defer);
	tr_free(m->ctl_closing);
	sd_bus_flush_close_unref(m->bus);
	sd_event_unref(m->event);
	free(m->config_dir);
	free(m->state_dir);
	free(m->cache_dir);
	free(m->pace_path);
	free(m->bond_path);
	free(m);
	return NULL;
}

/* ---- systemd: status and watchdog -------------------------------------------------------- */

void manager_notify_status(struct manager *m, bool force)
{
	char status[512];
	unsigned queued = 0, running = 0;
	size_t len = 0;
	uint64_t now = now_mono(m);

	if (!force && now - m->last_status < 500 * USEC_PER_MSEC)
		return;
	m->last_status = now;
	for (struct job *j = m->jobs; j; j = j->next) {
		queued += j->rec.state == JOB_QUEUED;
		running += j->rec.state == JOB_RUNNING;
	}
	len = (size_t)snprintf(status, sizeof(status), "%u job%s running, %u queued", running,
			       running == 1 ? "" : "s", queued);
	for (struct job *j = m->jobs; j && len < sizeof(status) - 64; j = j->next) {
		if (j->rec.state != JOB_RUNNING)
			continue;
		len += (size_t)snprintf(
			status + len, sizeof(status) - len, "; %s %s %u%%", j->rec.device,
			j->rec.step,
			j->rec.total ? (unsigned)(j->rec.offset * 100 / j->rec.total) : 0);
	}
	sd_notifyf(0, "STATUS=%s", status);
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	/* from the loop: a stuck loop stops these and systemd restarts us */
	sd_notify(0, "WATCHDOG=1");
	sd_event_source_set_time(s, usec + m->watchdog_usec / 2);
	return 0;
}

static int setup_watchdog(struct manager *m)
{
	if (sd_watchdog_enabled(0, &m->watchdog_usec) <= 0)
		return 0;
	return sd_event_add_time(m->event, &m->watchdog_timer, CLOCK_MONOTONIC, now_mono(m), 1000,
				 on_watchdog, m) < 0
		       ? -ENOMEM
		       : sd_event_source_set_enabled(m->watchdog_timer, SD_EVENT_ON);
}

/* ---- polling, scanning, signals, start, reload ------------------------------------------- */

static void poll_listed(struct manager *m)
{
	for (struct device *d = m->devices; d; d = d->next)
		if (d->listed)
			device_poll(d);
}

void manager_scan(struct manager *m)
{
	poll_listed(m);
	manager_scan_ble(m, true);
}

void manager_scan_ble(struct manager *m, bool forced)
{
	int r;

	if (!m->config->s.controller || m->scan)
		return;
	m->scan_forced = m->scan_forced || forced;
	if (!manager_controller_take(m, CTL_SCAN, "")) {
		m->scan_wanted = true; /* controller.c starts it once the controller is free */
		return;
	}
	m->scan_wanted = false;
	r = scan_new(m, m->scan_forced, &m->scan);
	m->scan_forced = false;
	if (r < 0) {
		m->scan = NULL;
		log_error_errno(r, "scan: cannot open the controller %s: %m",
				m->config->s.controller);
		manager_controller_give_back(m);
	}
}

void manager_scan_done(struct manager *m)
{
	m->scan = scan_free(m->scan);
	manager_controller_give_back(m);
}

static int on_scan_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	manager_scan_ble(m, false);
	if (m->config->s.scan_interval_usec)
		sd_event_source_set_time(s, usec + m->config->s.scan_interval_usec);
	else
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
	return 0;
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	poll_listed(m);
	manager_schedule(m); /* queued fleet jobs whose window has opened */
	if (m->config->s.poll_interval_usec)
		sd_event_source_set_time(s, usec + m->config->s.poll_interval_usec);
	else
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
	return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct conf_error err = {""};

	if (manager_reload(userdata, &err) < 0)
		log_error("reload refused, keeping the old configuration: %s", err.text);
	return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct manager *m = userdata;

	sd_notify(0, "STOPPING=1\nSTATUS=stopping; unfinished jobs resume at the next start");
	log_info("stopping on signal %u", si->ssi_signo);
	return sd_event_exit(m->event, 0);
}

static int setup_signals(struct manager *m)
{
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = sd_event_add_signal(m->event, NULL, SIGTERM, on_sigterm, m);
	if (r >= 0)
		r = sd_event_add_signal(m->event, NULL, SIGINT, on_sigterm, m);
	if (r >= 0)
		r = sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m);
	return r;
}

static void log_warnings(const struct fleet_config *c)
{
	for (size_t i = 0; i < c->n_warnings; i++)
		log_warning("%s", c->warnings[i]);
}

int manager_start(struct manager *m)
{
	int r = manager_load_jobs(m);

	if (r < 0)
		return log_error_errno(r, "cannot read the job store in %s: %m", m->state_dir);
	r = setup_signals(m);
	if (r >= 0)
		r = setup_watchdog(m);
	if (r >= 0)
		r = sd_event_add_time(m->event, &m->poll_timer, CLOCK_MONOTONIC, now_mono(m), 1000,
				      on_poll_timer, m);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->poll_timer, SD_EVENT_ON);
	/* the first scan at once (it is a no-op without Controller=), then every ScanInterval= */
	if (r >= 0)
		r = sd_event_add_time(m->event, &m->scan_timer, CLOCK_MONOTONIC, now_mono(m), 1000,
				      on_scan_timer, m);
	if (r >= 0)
		r = sd_event_source_set_enabled(m->scan_timer, SD_EVENT_ON);
	if (r < 0)
		return log_error_errno(r, "cannot set up the event loop: %m");
	manager_schedule(m);
	log_warnings(m->config);
	log_info("otad %s ready: %zu device%s, %zu group%s, state in %s%s%s", OTAD_VERSION,
		 m->config->n_devices, m->config->n_devices == 1 ? "" : "s", m->config->n_groups,
		 m->config->n_groups == 1 ? "" : "s", m->state_dir,
		 m->config->s.controller ? ", BLE on " : "",
		 m->config->s.controller ? m->config->s.controller : "");
	sd_notify(0, "READY=1");
	manager_notify_status(m, true);
	return 0;
}

int manager_reload(struct manager *m, struct conf_error *err)
{
	struct fleet_config *c = NULL, *old = m->config;
	struct fetcher *f = NULL;
	bool fetching = false;
	int r = fleet_config_load(m->config_dir, &c, err);

	if (r < 0)
		return r;
	m->config = c;
	for (struct job *j = m->jobs; j; j = j->next)
		fetching = fetching || j->fetch_id;
	/* new download settings apply now unless a download is under way */
	if (!fetching && make_fetcher(m, &f) >= 0) {
		fetcher_free(m->fetcher);
		m->fetcher = f;
	}
	r = sync_devices(m);
	fleet_config_free(old);
	if (r < 0)
		return log_error_errno(r, "reload: %m");
	if (m->poll_timer && c->s.poll_interval_usec) {
		sd_event_source_set_time(m->poll_timer, now_mono(m));
		sd_event_source_set_enabled(m->poll_timer, SD_EVENT_ON);
	}
	if (m->scan_timer && c->s.scan_interval_usec && c->s.controller) {
		sd_event_source_set_time(m->scan_timer, now_mono(m));
		sd_event_source_set_enabled(m->scan_timer, SD_EVENT_ON);
	}
	log_warnings(c);
	log_info("configuration reloaded: %zu devices, %zu groups", c->n_devices, c->n_groups);
	manager_schedule(m);
	return 0;
}
