/* keys.h — the keys of each config section: one row per key (name, value parser, field). */
#pragma once

#include <stddef.h>

#include "otad/fleet.h"

/* Parses value into dst (a field of the section's struct). Returns 0, -ENOMEM, or another
 * negative errno with *why saying what is wrong. set: the daemon settings read so far. */
typedef int (*conf_parse_fn)(const char *value, void *dst, const struct fleet_settings *set,
			     const char **why);

struct conf_key {
	const char *key;
	conf_parse_fn parse;
	size_t offset;
};

extern const struct conf_key fleet_daemon_keys[]; /* [Daemon] into struct fleet_settings */
extern const struct conf_key fleet_update_keys[]; /* [Update] into struct fleet_settings */
extern const struct conf_key fleet_group_keys[];  /* [Group] into struct fleet_group */
extern const struct conf_key fleet_device_keys[]; /* [Device] into struct fleet_device */
