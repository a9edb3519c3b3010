/* device-bus.c — org.otad1.Device1: one object per device under /org/otad1/device/NAME (name
 * escaped with sd_bus_path_encode), as a fallback vtable with a node enumerator. */
#include "daemon/bus-util.h"
#include "daemon/device.h"
#include "daemon/job.h"
#include "daemon/manager.h"
#include "otad/bus-api.h"
#include "util/hex.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define D(f) offsetof(struct device, f)

static int get_rssi(sd_bus *bus, const char *path, const char *iface, const char *prop,
		    sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	struct device *d = userdata;

	return sd_bus_message_append(reply, "n", d->rssi);
}

static int get_version(sd_bus *bus, const char *path, const char *iface, const char *prop,
		       sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	const char *v = device_running_version(userdata);

	return sd_bus_message_append(reply, "s", v ? v : "");
}

static int get_job(sd_bus *bus, const char *path, const char *iface, const char *prop,
		   sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	struct device *d = userdata;

	return sd_bus_message_append(reply, "o", d->job ? d->job->path : "/");
}

static int get_slots(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	struct device *d = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "(uussbbbbb)");

	for (unsigned i = 0; r >= 0 && d->has_slots && i < d->slots.n_slots; i++) {
		const struct smp_slot_state *s = &d->slots.slots[i];
		char hash[65];

		r = sd_bus_message_append(reply, "(uussbbbbb)", s->image, s->slot, s->version,
					  hex_encode(s->hash, s->hash_len, hash), s->bootable,
					  s->pending, s->confirmed, s->active, s->permanent);
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static const sd_bus_vtable device_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Name", "s", bus_prop_get_strp, D(name), SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Address", "s", bus_prop_get_strp, D(address),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Transport", "s", bus_prop_get_strp, D(transport),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("RSSI", "n", get_rssi, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("LastSeen", "t", bus_prop_get_u64, D(last_seen),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Group", "s", bus_prop_get_strp, D(group),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Listed", "b", bus_prop_get_bool, D(listed),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Version", "s", get_version, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("TargetVersion", "s", bus_prop_get_chars, D(target),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Verdict", "s", bus_prop_get_chars, D(verdict),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Status", "s", bus_prop_get_chars, D(status),
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Slots", "a(uussbbbbb)", get_slots, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Job", "o", get_job, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END,
};

static int device_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
		       void **found, sd_bus_error *e)
{
	struct manager *m = userdata;

	for (struct device *d = m->devices; d; d = d->next)
		if (strcmp(d->path, path) == 0) {
			*found = d;
			return 1;
		}
	return 0;
}

static int device_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes,
			    sd_bus_error *e)
{
	struct manager *m = userdata;

	return bus_node_list(m->devices, offsetof(struct device, next),
			     offsetof(struct device, path), nodes);
}

int device_bus_register(struct manager *m)
{
	int r = sd_bus_add_fallback_vtable(m->bus, NULL, OTAD_DEVICE_PATH_PREFIX, OTAD_DEVICE_IFACE,
					   device_vtable, device_find, m);

	if (r < 0)
		return r;
	return sd_bus_add_node_enumerator(m->bus, NULL, OTAD_DEVICE_PATH_PREFIX, device_enumerate,
					  m);
}

void device_bus_emit(struct device *d, const char *prop, ...)
{
	va_list ap;

	va_start(ap, prop);
	bus_emit_changed(d->m->bus, d->path, OTAD_DEVICE_IFACE, prop, ap);
	va_end(ap);
}

void device_bus_added(struct device *d)
{
	if (d->m->bus)
		(void)sd_bus_emit_object_added(d->m->bus, d->path);
}

void device_bus_removed(struct device *d)
{
	if (d->m->bus)
		(void)sd_bus_emit_object_removed(d->m->bus, d->path);
}
