/* manager-bus.c — org.otad1.Manager1 on /org/otad1: Scan, ListJobs, ListDevices, Reload (and
 * StartUpdate, update-request.c); the bus connection, the object manager and the name. Who may
 * call is the D-Bus policy's business (org.otad1.conf): methods are marked unprivileged for
 * sd-bus. */
#include "daemon/bus-error.h"
#include "daemon/device.h"
#include "daemon/job.h"
#include "daemon/manager.h"
#include "otad/bus-api.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int method_scan(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	manager_scan(userdata);
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_list_jobs(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	struct manager *m = userdata;
	sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(msg, &reply);

	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(uosssstt)");
	for (struct job *j = m->jobs; r >= 0 && j; j = j->next)
		r = sd_bus_message_append(reply, "(uosssstt)", j->rec.id, j->path, j->rec.device,
					  j->rec.source, job_state_name(j->rec.state), j->rec.step,
					  j->rec.offset, j->rec.total);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int method_list_devices(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	struct manager *m = userdata;
	sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(msg, &reply);

	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(sossssss)");
	for (struct device *d = m->devices; r >= 0 && d; d = d->next) {
		const char *v = device_running_version(d);

		r = sd_bus_message_append(reply, "(sossssss)", d->name, d->path, d->address,
					  d->group ? d->group : "", v ? v : "", d->target,
					  d->verdict, d->status);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

/* What the new configuration will not do (an image that is not there), for the caller to show. */
static int reply_warnings(sd_bus_message *msg, const struct fleet_config *c)
{
	sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(msg, &reply);

	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "s");
	for (size_t i = 0; r >= 0 && i < c->n_warnings; i++)
		r = sd_bus_message_append(reply, "s", c->warnings[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	struct conf_error err = {""};
	struct manager *m = userdata;
	int r = manager_reload(m, &err);

	if (r == -EBADMSG) {
		log_error("reload refused, keeping the old configuration: %s", err.text);
		return bus_error_set(e, BUS_ERR_CONFIG_INVALID, "%s", err.text);
	}
	if (r < 0)
		return r;
	return reply_warnings(msg, m->config);
}

static int get_counts(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	struct manager *m = userdata;
	uint32_t n = 0;

	if (strcmp(prop, "MaxJobs") == 0)
		n = m->config->s.max_jobs;
	else
		for (struct job *j = m->jobs; j; j = j->next)
			n += j->rec.state ==
			     (strcmp(prop, "RunningJobs") == 0 ? JOB_RUNNING : JOB_QUEUED);
	return sd_bus_message_append(reply, "u", n);
}

static int get_version(sd_bus *bus, const char *path, const char *iface, const char *prop,
		       sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	return sd_bus_message_append(reply, "s", OTAD_VERSION);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("MaxJobs", "u", get_counts, 0, 0),
	SD_BUS_PROPERTY("RunningJobs", "u", get_counts, 0, 0),
	SD_BUS_PROPERTY("QueuedJobs", "u", get_counts, 0, 0),
	SD_BUS_METHOD_WITH_ARGS(
		"StartUpdate", SD_BUS_ARGS("s", device, "s", image, "a{sv}", options),
		SD_BUS_RESULT("o", job), manager_method_start_update, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Scan", "", "", method_scan, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ListJobs", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(uosssstt)", jobs),
				method_list_jobs, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ListDevices", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("a(sossssss)", devices), method_list_devices,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", warnings),
				method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

static int open_bus(enum bus_kind kind, const char *address, sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	if (kind == BUS_SYSTEM)
		return sd_bus_open_system(ret);
	if (kind == BUS_USER)
		return sd_bus_open_user(ret);
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

int manager_bus_connect(struct manager *m, enum bus_kind kind, const char *address)
{
	int r = bus_error_register();

	if (r >= 0)
		r = open_bus(kind, address, &m->bus);
	if (r < 0)
		return log_error_errno(r, "cannot connect to the %s bus: %m",
				       kind == BUS_SYSTEM ? "system"
				       : kind == BUS_USER ? "user"
							  : address);
	r = sd_bus_add_object_vtable(m->bus, NULL, OTAD_MANAGER_PATH, OTAD_MANAGER_IFACE,
				     manager_vtable, m);
	if (r >= 0)
		r = job_bus_register(m);
	if (r >= 0)
		r = device_bus_register(m);
	if (r >= 0)
		r = sd_bus_add_object_manager(m->bus, NULL, OTAD_MANAGER_PATH);
	if (r >= 0)
		r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "cannot publish the D-Bus objects: %m");
	r = sd_bus_request_name(m->bus, OTAD_BUS_NAME, 0);
	if (r < 0)
		return log_error_errno(r,
				       "cannot own the name %s (is another otad running, or does "
				       "the D-Bus policy not allow it?): %m",
				       OTAD_BUS_NAME);
	return 0;
}
