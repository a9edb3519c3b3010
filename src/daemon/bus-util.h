/* bus-util.h — sd-bus helpers of the D-Bus faces: property getters by field offset (the vtable
 * row's offset is added to the object pointer), PropertiesChanged from a name list, and the
 * node lists of the fallback vtables' enumerators. */
#pragma once

#include <stdarg.h>
#include <systemd/sd-bus.h>

/* char array field */
int bus_prop_get_chars(sd_bus *bus, const char *path, const char *iface, const char *prop,
		       sd_bus_message *reply, void *userdata, sd_bus_error *e);
/* char * field (NULL = "") */
int bus_prop_get_strp(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *e);
int bus_prop_get_u64(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *e);
/* unsigned / uint32_t field */
int bus_prop_get_u32(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *e);
int bus_prop_get_bool(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *e);

/* Emits PropertiesChanged for the NULL-terminated names after first (no bus: nothing). */
void bus_emit_changed(sd_bus *bus, const char *path, const char *iface, const char *first,
		      va_list ap);

/* Node enumerators: the object paths of a linked list of objects, each holding its char array
 * path at path_off and its next pointer at next_off, as a NULL-terminated copy for sd-bus (which
 * frees it). 0 or -ENOMEM. */
int bus_node_list(const void *first, size_t next_off, size_t path_off, char ***ret);
