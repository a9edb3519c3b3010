/* bus-api.h — otad's D-Bus interface: names, object paths, interfaces and error names, shared by
 * otad and its clients (otactl). See otad(8) for the methods and properties. */
#pragma once

#define OTAD_BUS_NAME		"org.otad1"
#define OTAD_MANAGER_PATH	"/org/otad1"
#define OTAD_JOB_PATH_PREFIX	"/org/otad1/job"    /* + "/" + decimal id */
#define OTAD_DEVICE_PATH_PREFIX "/org/otad1/device" /* + "/" + sd_bus_path_encode(name) */
#define OTAD_MANAGER_IFACE	"org.otad1.Manager1"
#define OTAD_JOB_IFACE		"org.otad1.Job1"
#define OTAD_DEVICE_IFACE	"org.otad1.Device1"

/* Method errors (otad answers these; errno is what sd_bus_error_get_errno() gives a client that
 * registered the same map). */
#define OTAD_ERROR_NO_SUCH_DEVICE "org.otad1.Error.NoSuchDevice"  /* ENODEV */
#define OTAD_ERROR_NO_SUCH_JOB	  "org.otad1.Error.NoSuchJob"	  /* ENXIO */
#define OTAD_ERROR_DEVICE_BUSY	  "org.otad1.Error.DeviceBusy"	  /* EBUSY */
#define OTAD_ERROR_INVALID_OPTION "org.otad1.Error.InvalidOption" /* EINVAL */
#define OTAD_ERROR_IMAGE_SOURCE	  "org.otad1.Error.ImageSource"	  /* EPERM */
#define OTAD_ERROR_CONFIG_INVALID "org.otad1.Error.ConfigInvalid" /* EBADMSG */
#define OTAD_ERROR_JOB_FINISHED	  "org.otad1.Error.JobFinished"	  /* EALREADY */
#define OTAD_ERROR_LIMIT_REACHED  "org.otad1.Error.LimitReached"  /* ENOBUFS */
