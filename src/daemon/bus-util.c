/* bus-util.c — property getters by offset and PropertiesChanged helpers. */
#include "daemon/bus-util.h"
#include "util/macro.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int bus_prop_get_chars(sd_bus *bus, const char *path, const char *iface, const char *prop,
		       sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	return sd_bus_message_append_basic(reply, 's', userdata);
}

int bus_prop_get_strp(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	const char *s = *(char **)userdata;

	return sd_bus_message_append_basic(reply, 's', s ? s : "");
}

int bus_prop_get_u64(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	return sd_bus_message_append_basic(reply, 't', userdata);
}

int bus_prop_get_u32(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	uint32_t v = *(unsigned *)userdata;

	return sd_bus_message_append_basic(reply, 'u', &v);
}

int bus_prop_get_bool(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	int v = *(bool *)userdata;

	return sd_bus_message_append_basic(reply, 'b', &v);
}

void bus_emit_changed(sd_bus *bus, const char *path, const char *iface, const char *first,
		      va_list ap)
{
	char *names[24];
	unsigned n = 0;

	if (!bus || !first)
		return;
	names[n++] = (char *)first;
	for (const char *s; n < ARRAY_SIZE(names) - 1 && (s = va_arg(ap, const char *));)
		names[n++] = (char *)s;
	names[n] = NULL;
	(void)sd_bus_emit_properties_changed_strv(bus, path, iface, names);
}

int bus_node_list(const void *first, size_t next_off, size_t path_off, char ***ret)
{
#define NEXT(o) (*(const void *const *)((const char *)(o) + next_off))
	size_t n = 0, i = 0;
	char **l;

	for (const void *o = first; o; o = NEXT(o))
		n++;
	l = calloc(n + 1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	for (const void *o = first; o; o = NEXT(o))
		if (!(l[i++] = strdup((const char *)o + path_off))) {
			for (size_t k = 0; k < i; k++)
				free(l[k]);
			free(l);
			return -ENOMEM;
		}
#undef NEXT
	*ret = l;
	return 0;
}
