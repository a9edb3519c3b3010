/* bus-error.c — the one table of otad's D-Bus errors: name, errno, and the map that lets
 * sd-bus translate between them on both ends. */
#include "daemon/bus-error.h"
#include "otad/bus-api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static const sd_bus_error_map errors[] = {
	[BUS_ERR_NO_SUCH_DEVICE] = SD_BUS_ERROR_MAP(OTAD_ERROR_NO_SUCH_DEVICE, ENODEV),
	[BUS_ERR_NO_SUCH_JOB] = SD_BUS_ERROR_MAP(OTAD_ERROR_NO_SUCH_JOB, ENXIO),
	[BUS_ERR_DEVICE_BUSY] = SD_BUS_ERROR_MAP(OTAD_ERROR_DEVICE_BUSY, EBUSY),
	[BUS_ERR_INVALID_OPTION] = SD_BUS_ERROR_MAP(OTAD_ERROR_INVALID_OPTION, EINVAL),
	[BUS_ERR_IMAGE_SOURCE] = SD_BUS_ERROR_MAP(OTAD_ERROR_IMAGE_SOURCE, EPERM),
	[BUS_ERR_CONFIG_INVALID] = SD_BUS_ERROR_MAP(OTAD_ERROR_CONFIG_INVALID, EBADMSG),
	[BUS_ERR_JOB_FINISHED] = SD_BUS_ERROR_MAP(OTAD_ERROR_JOB_FINISHED, EALREADY),
	[BUS_ERR_LIMIT_REACHED] = SD_BUS_ERROR_MAP(OTAD_ERROR_LIMIT_REACHED, ENOBUFS),
	[_BUS_ERR_MAX] = SD_BUS_ERROR_MAP_END,
};

int bus_error_register(void)
{
	return sd_bus_error_add_map(errors);
}

int bus_error_set(sd_bus_error *e, enum bus_err which, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd_bus_error_set(e, errors[which].name, msg);
	return -errors[which].code;
}
