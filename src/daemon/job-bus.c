/* job-bus.c — org.otad1.Job1: one object per job under /org/otad1/job/ID (a fallback vtable with
 * a node enumerator, so introspection and the object manager list them). */
#include "daemon/bus-error.h"
#include "daemon/bus-util.h"
#include "daemon/job.h"
#include "daemon/manager.h"
#include "otad/bus-api.h"
#include "util/parse.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define J(f) offsetof(struct job, rec.f)

static int get_state(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	struct job *j = userdata;

	return sd_bus_message_append(reply, "s", job_state_name(j->rec.state));
}

static int get_progress(sd_bus *bus, const char *path, const char *iface, const char *prop,
			sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	struct job *j = userdata;
	double p = j->rec.state == JOB_SUCCEEDED ? 1.0
		   : j->rec.total		 ? (double)j->rec.offset / (double)j->rec.total
						 : 0.0;

	return sd_bus_message_append(reply, "d", p);
}

static int get_rate(sd_bus *bus, const char *path, const char *iface, const char *prop,
		    sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	struct job *j = userdata;

	return sd_bus_message_append(reply, "d", job_is_active(j) ? j->rate : 0.0);
}

static int get_window(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	struct job *j = userdata;

	return sd_bus_message_append(reply, "u",
				     (uint32_t)(j->window ? j->window : j->rec.pace_used.window));
}

static int get_wait(sd_bus *bus, const char *path, const char *iface, const char *prop,
		    sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	struct job *j = userdata;
	bool on = job_is_active(j) && j->wait != UPD_WAIT_NONE;

	if (strcmp(prop, "Wait") == 0)
		return sd_bus_message_append(reply, "s",
					     !on			  ? ""
					     : j->wait == UPD_WAIT_ERASE ? "erase"
									  : "boot");
	return sd_bus_message_append(reply, "t",
				     !on ? 0 : prop[4] == 'E' ? j->wait_usec : j->wait_limit_usec);
}

static int get_error(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	struct job *j = userdata;

	return sd_bus_message_append(reply, "s", j->rec.failure[0] ? j->rec.error : "");
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	struct job *j = userdata;

	if (job_cancel(j) == -EALREADY)
		return bus_error_set(e, BUS_ERR_JOB_FINISHED,
				     "job %u already ended (%s): nothing to cancel", j->rec.id,
				     job_state_name(j->rec.state));
	job_log(j, 5, "cancel requested over D-Bus");
	return sd_bus_reply_method_return(msg, NULL);
}

static const sd_bus_vtable job_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Id", "u", bus_prop_get_u32, J(id), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Device", "s", bus_prop_get_chars, J(device), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Transport", "s", bus_prop_get_chars, J(transport),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Image", "s", bus_prop_get_chars, J(source), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Group", "s", bus_prop_get_chars, J(group), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("TargetVersion", "s", bus_prop_get_chars, J(target_version),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Automatic", "b", bus_prop_get_bool, J(automatic),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Step", "s", bus_prop_get_chars, J(step),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Attempt", "u", bus_prop_get_u32, J(attempts),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Offset", "t", bus_prop_get_u64, J(offset),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Total", "t", bus_prop_get_u64, J(total),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("BytesSent", "t", bus_prop_get_u64, J(bytes_sent),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Progress", "d", get_progress, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Rate", "d", get_rate, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Window", "u", get_window, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Wait", "s", get_wait, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("WaitElapsed", "t", get_wait, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("WaitLimit", "t", get_wait, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Failure", "s", bus_prop_get_chars, J(failure),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Error", "s", get_error, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Message", "s", bus_prop_get_chars, J(error),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Created", "t", bus_prop_get_u64, J(created), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Finished", "t", bus_prop_get_u64, J(finished),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD("Cancel", "", "", method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

static int job_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		    sd_bus_error *e)
{
	struct manager *m = userdata;
	size_t n = strlen(OTAD_JOB_PATH_PREFIX);
	uint32_t id;
	struct job *j;

	if (strncmp(path, OTAD_JOB_PATH_PREFIX "/", n + 1) != 0 || parse_u32(path + n + 1, &id) < 0)
		return 0;
	j = manager_find_job(m, id);
	if (!j)
		return 0;
	*found = j;
	return 1;
}

static int job_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
			 sd_bus_error *e)
{
	struct manager *m = userdata;

	return bus_node_list(m->jobs, offsetof(struct job, next), offsetof(struct job, path),
			     nodes);
}

int job_bus_register(struct manager *m)
{
	int r = sd_bus_add_fallback_vtable(m->bus, NULL, OTAD_JOB_PATH_PREFIX, OTAD_JOB_IFACE,
					   job_vtable, job_find, m);

	if (r < 0)
		return r;
	return sd_bus_add_node_enumerator(m->bus, NULL, OTAD_JOB_PATH_PREFIX, job_enumerate, m);
}

void job_bus_emit(struct job *j, const char *prop, ...)
{
	va_list ap;

	va_start(ap, prop);
	bus_emit_changed(j->m->bus, j->path, OTAD_JOB_IFACE, prop, ap);
	va_end(ap);
}

void job_bus_added(struct job *j)
{
	if (j->m->bus)
		(void)sd_bus_emit_object_added(j->m->bus, j->path);
}

void job_bus_removed(struct job *j)
{
	if (j->m->bus)
		(void)sd_bus_emit_object_removed(j->m->bus, j->path);
}
