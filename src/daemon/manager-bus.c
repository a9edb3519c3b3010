/* manager-bus.c — org.otad1.Manager1 on /org/otad1: StartUpdate, Scan, ListJobs, ListDevices,
 * Reload; the bus connection, the object manager and the name. Who may call is the D-Bus policy's
 * business (org.otad1.conf): methods are marked unprivileged for sd-bus. */
#include "daemon/bus-error.h"
#include "daemon/device.h"
#include "daemon/job.h"
#include "daemon/manager.h"
#include "otad/bt.h"
#include "otad/bus-api.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

static bool is_transport_spec(const char *s)
{
	return strncmp(s, "udp:", 4) == 0 || strncmp(s, "serial:", 7) == 0 ||
	       strncmp(s, "ble:", 4) == 0;
}

static bool is_ble_address(const char *s)
{
	struct bt_addr a;

	return bt_addr_from_str(s, BT_ADDR_LE_PUBLIC, &a) == 0;
}

/* A fleet device by name, else an ad hoc one for a transport spec or a BLE address. */
static int resolve_device(struct manager *m, const char *name, struct device **ret, sd_bus_error *e)
{
	char spec[300];
	struct device *d = manager_find_device(m, name);
	int r;

	if (d) {
		*ret = d;
		return 0;
	}
	if (is_transport_spec(name))
		snprintf(spec, sizeof(spec), "%s", name);
	else if (is_ble_address(name))
		snprintf(spec, sizeof(spec), "ble:%s", name);
	else
		return bus_error_set(e, BUS_ERR_NO_SUCH_DEVICE,
				     "no device '%s' in the fleet files, and not a transport spec "
				     "(udp:HOST[:PORT], serial:PATH, ble:ADDRESS) or a BLE address",
				     name);
	d = manager_find_device(m, spec);
	if (!d && is_ble_address(name))
		d = manager_find_ble_device(m, name); /* seen in a scan, listed by another name */
	if (d) {
		*ret = d;
		return 0;
	}
	r = device_new(m, spec, spec, &d);
	if (r < 0)
		return r;
	for (struct device **p = &m->devices;; p = &(*p)->next)
		if (!*p) {
			*p = d;
			break;
		}
	device_bus_added(d);
	*ret = d;
	return 0;
}

static int read_u32_option(sd_bus_message *msg, const char *key, uint32_t *ret, sd_bus_error *e)
{
	char type;
	const char *contents;
	int r = sd_bus_message_peek_type(msg, &type, &contents);

	if (r < 0)
		return r;
	if (strcmp(contents, "u") == 0)
		return sd_bus_message_read(msg, "v", "u", ret);
	if (strcmp(contents, "t") == 0) {
		uint64_t v;

		r = sd_bus_message_read(msg, "v", "t", &v);
		if (r >= 0 && v > UINT32_MAX)
			return bus_error_set(e, BUS_ERR_INVALID_OPTION, "%s: too large", key);
		*ret = (uint32_t)v;
		return r;
	}
	return bus_error_set(e, BUS_ERR_INVALID_OPTION, "option %s takes an unsigned integer", key);
}

static int read_string_option(sd_bus_message *msg, const char *key, const char **ret,
			      sd_bus_error *e)
{
	const char *contents;
	char type;
	int r = sd_bus_message_peek_type(msg, &type, &contents);

	if (r < 0)
		return r;
	if (strcmp(contents, "s") != 0)
		return bus_error_set(e, BUS_ERR_INVALID_OPTION, "option %s takes a string", key);
	return sd_bus_message_read(msg, "v", "s", ret);
}

/* One entry of StartUpdate's options into rec. */
static int read_fd_option(sd_bus_message *msg, int *ret_fd, sd_bus_error *e)
{
	int fd, r = sd_bus_message_read(msg, "v", "h", &fd);

	if (r == -ENXIO || r == -EINVAL)
		return bus_error_set(e, BUS_ERR_INVALID_OPTION, "fd takes a file descriptor (h)");
	if (r < 0)
		return r;
	if (*ret_fd >= 0)
		close(*ret_fd);
	*ret_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3); /* the message owns fd */
	return *ret_fd < 0 ? -errno : 0;
}

static int read_option(sd_bus_message *msg, const char *key, struct job_record *rec, int *ret_fd,
		       sd_bus_error *e)
{
	const char *s = NULL;
	uint32_t u = 0;
	int r, b = 0;

	if (strcmp(key, "rate") == 0) {
		r = read_u32_option(msg, key, &rec->pace.rate, e);
	} else if (strcmp(key, "window") == 0) {
		r = read_u32_option(msg, key, &u, e);
		if (r >= 0 && u > UPD_WINDOW_MAX)
			return bus_error_set(e, BUS_ERR_INVALID_OPTION, "window: 0 (auto) to 32");
		if (r >= 0)
			rec->pace.window = u;
	} else if (strcmp(key, "retries") == 0) {
		r = read_u32_option(msg, key, &u, e);
		if (r >= 0 && u > 100)
			return bus_error_set(e, BUS_ERR_INVALID_OPTION, "retries: 0 to 100");
		if (r >= 0)
			rec->retries = u;
	} else if (strcmp(key, "mode") == 0) {
		r = read_string_option(msg, key, &s, e);
		if (r >= 0 && (!s || fleet_parse_mode(s, &rec->mode) < 0))
			return bus_error_set(e, BUS_ERR_INVALID_OPTION, "mode: test or confirm");
	} else if (strcmp(key, "sha256") == 0) {
		uint8_t pin[32];

		r = read_string_option(msg, key, &s, e);
		if (r >= 0 && (!s || strlen(s) != 64 || hex_decode(s, pin, 32) != 32))
			return bus_error_set(e, BUS_ERR_INVALID_OPTION, "sha256: 64 hex digits");
		if (r >= 0)
			hex_encode(pin, 32, rec->sha256);
	} else if (strcmp(key, "fd") == 0) {
		r = read_fd_option(msg, ret_fd, e);
	} else if (strcmp(key, "force") == 0) {
		r = sd_bus_message_read(msg, "v", "b", &b);
		if (r == -ENXIO || r == -EINVAL)
			return bus_error_set(e, BUS_ERR_INVALID_OPTION, "force takes a boolean");
		if (r >= 0)
			rec->force = b;
	} else {
		return bus_error_set(e, BUS_ERR_INVALID_OPTION,
				     "unknown option '%s' (rate, window, mode, retries, sha256, "
				     "force)",
				     key);
	}
	return r;
}

static int read_options(sd_bus_message *msg, struct job_record *rec, int *ret_fd, sd_bus_error *e)
{
	const char *key;
	int r = sd_bus_message_enter_container(msg, 'a', "{sv}");

	while (r >= 0 && (r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		r = sd_bus_message_read(msg, "s", &key);
		if (r >= 0)
			r = read_option(msg, key, rec, ret_fd, e);
		if (r >= 0)
			r = sd_bus_message_exit_container(msg);
	}
	return r < 0 ? r : sd_bus_message_exit_container(msg);
}

/* Defaults of a job started by hand: [Update], or the device's group. */
static void manual_defaults(struct manager *m, struct device *d, const char *image,
			    struct job_record *rec)
{
	const struct fleet_group *g = fleet_config_group(m->config, d->group);
	const struct fleet_settings *s = &m->config->s;

	*rec = (struct job_record){.pace = g ? g->pace : s->pace,
				   .mode = g ? g->mode : s->mode,
				   .retries = g ? g->retries : s->retries};
	snprintf(rec->device, sizeof(rec->device), "%s", d->name);
	snprintf(rec->transport, sizeof(rec->transport), "%s", d->transport);
	snprintf(rec->source, sizeof(rec->source), "%s", image);
}

static int check_image(struct manager *m, const char *image, const struct job_record *rec,
		       sd_bus_error *e)
{
	enum fetch_kind kind;
	int r = fetch_classify(image, m->config->s.allow_http, &kind);

	if (r == -EPERM)
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE,
				     "%s: plain http is refused (AllowInsecureHTTP=no)", image);
	if (r < 0)
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE,
				     "%s: expected an absolute path or an https:// URL", image);
	if (kind != FETCH_LOCAL && !rec->sha256[0])
		return bus_error_set(e, BUS_ERR_INVALID_OPTION,
				     "%s: an image URL needs the sha256 option (its pin)", image);
	if (strlen(image) >= sizeof(rec->source))
		return bus_error_set(e, BUS_ERR_INVALID_OPTION, "image name too long");
	return 0;
}

/* The image came as an open file: into the cache, pinned by its SHA-256 (the daemon's sandbox
 * may not see the client's path, e.g. in /home). */
static int import_image(struct manager *m, int fd, struct job_record *rec, sd_bus_error *e)
{
	_cleanup_free_ char *path = NULL;
	uint8_t sha[32];
	int r = fetch_import_fd(m->cache_dir, fd, m->config->s.max_image_size, &path, sha, NULL);

	if (r < 0)
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE, "cannot take the image from fd: %s",
				     r == -EFBIG ? "larger than MaxImageSize=" : strerror(-r));
	if (rec->sha256[0] && strcmp(rec->sha256, hex_encode(sha, 32, (char[65]){0})) != 0)
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE,
				     "the image is not the one sha256 pins");
	hex_encode(sha, 32, rec->sha256);
	if (strlen(path) >= sizeof(rec->image))
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE, "cache path too long");
	snprintf(rec->image, sizeof(rec->image), "%s", path);
	return 0;
}

static int method_start_update(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	struct manager *m = userdata;
	const char *name, *image;
	_cleanup_close_ int fd = -1;
	struct job_record rec;
	struct device *d = NULL;
	struct job *j = NULL;
	int r = sd_bus_message_read(msg, "ss", &name, &image);

	if (r < 0)
		return r;
	r = resolve_device(m, name, &d, e);
	if (r < 0 || !d)
		return r < 0 ? r : -ENODEV;
	if (d->job)
		return bus_error_set(e, BUS_ERR_DEVICE_BUSY, "device %s has job %s (%s)", d->name,
				     d->job->path, job_state_name(d->job->rec.state));
	manual_defaults(m, d, image, &rec);
	r = read_options(msg, &rec, &fd, e);
	if (r >= 0 && fd >= 0)
		r = import_image(m, fd, &rec, e);
	else if (r >= 0)
		r = check_image(m, image, &rec, e);
	if (r < 0)
		return r;
	r = manager_add_job(m, d, &rec, &j);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "o", j->path);
}

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
		SD_BUS_RESULT("o", job), method_start_update, SD_BUS_VTABLE_UNPRIVILEGED),
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
