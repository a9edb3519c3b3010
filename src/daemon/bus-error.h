/* bus-error.h — otad's D-Bus errors, all from one table (bus-error.c). */
#pragma once

#include <systemd/sd-bus.h>

#include "util/macro.h"

enum bus_err {
	BUS_ERR_NO_SUCH_DEVICE,
	BUS_ERR_NO_SUCH_JOB,
	BUS_ERR_DEVICE_BUSY,
	BUS_ERR_INVALID_OPTION,
	BUS_ERR_IMAGE_SOURCE,
	BUS_ERR_CONFIG_INVALID,
	BUS_ERR_JOB_FINISHED,
	BUS_ERR_LIMIT_REACHED,
	_BUS_ERR_MAX,
};

/* Registers the name <-> errno map with sd-bus (once, at start). */
int bus_error_register(void);
/* Sets e to the table's error with a formatted message; returns the negative errno of the row
 * (what a method handler returns). */
int bus_error_set(sd_bus_error *e, enum bus_err which, const char *fmt, ...) _printf_(3, 4);
