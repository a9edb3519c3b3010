/* update-request.c — StartUpdate(device, image, options): the request checked and bounded
 * before anything is kept, the image taken in (a caller's file opened only as that caller may,
 * or handed over as an fd, copied into the cache and checked), an ad hoc device for a transport
 * spec, then the job queued. */
#include "daemon/bus-error.h"
#include "daemon/caller.h"
#include "daemon/device.h"
#include "daemon/job.h"
#include "daemon/manager.h"
#include "otad/bt.h"
#include "otad/image.h"
#include "util/hex.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The bounds of a request: the strings fit the job record (nothing is cut short), an ad hoc
 * device's D-Bus path fits, and a flood of calls cannot grow otad without limit. */
#define MAX_DEVICE_LEN (sizeof(((struct job_record *)0)->device) - 1)
#define MAX_IMAGE_LEN  (sizeof(((struct job_record *)0)->source) - 1)
#define MAX_OPTIONS    16

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

static int check_strings(const char *name, const char *image, sd_bus_error *e)
{
	if (!*name || strlen(name) > MAX_DEVICE_LEN)
		return bus_error_set(e, BUS_ERR_INVALID_OPTION,
				     "device: 1 to %zu bytes (a fleet name, a transport spec or a "
				     "BLE address)",
				     MAX_DEVICE_LEN);
	if (!*image || strlen(image) > MAX_IMAGE_LEN)
		return bus_error_set(e, BUS_ERR_INVALID_OPTION,
				     "image: 1 to %zu bytes (an absolute path or an https:// URL)",
				     MAX_IMAGE_LEN);
	return 0;
}

/* A known device by name, else the transport spec of an ad hoc one in spec (*ret NULL). */
static int find_device(struct manager *m, const char *name, struct device **ret,
		       char spec[static MAX_DEVICE_LEN + 5], sd_bus_error *e)
{
	struct device *d = manager_find_device(m, name);

	if (!d && is_transport_spec(name))
		snprintf(spec, MAX_DEVICE_LEN + 5, "%s", name);
	else if (!d && is_ble_address(name))
		snprintf(spec, MAX_DEVICE_LEN + 5, "ble:%s", name);
	else if (!d)
		return bus_error_set(e, BUS_ERR_NO_SUCH_DEVICE,
				     "no device '%s' in the fleet files, and not a transport spec "
				     "(udp:HOST[:PORT], serial:PATH, ble:ADDRESS) or a BLE address",
				     name);
	if (!d)
		d = manager_find_device(m, spec);
	if (!d && is_ble_address(name))
		d = manager_find_ble_device(m, name); /* seen in a scan, listed by another name */
	*ret = d;
	return 0;
}

static int check_limits(struct manager *m, bool new_device, sd_bus_error *e)
{
	unsigned queued = 0, adhoc = 0;

	for (struct job *j = m->jobs; j; j = j->next)
		queued += j->rec.state == JOB_QUEUED && !j->rec.automatic;
	for (struct device *d = m->devices; d; d = d->next)
		adhoc += !d->listed && !d->scanned;
	if (queued >= OTAD_MAX_QUEUED_JOBS)
		return bus_error_set(e, BUS_ERR_LIMIT_REACHED,
				     "%u jobs wait already (at most %u started by hand)", queued,
				     OTAD_MAX_QUEUED_JOBS);
	if (new_device && adhoc >= OTAD_MAX_ADHOC_DEVICES)
		return bus_error_set(
			e, BUS_ERR_LIMIT_REACHED,
			"%u devices outside the fleet files have jobs already (at most "
			"%u): list them in a fleet file, or wait",
			adhoc, OTAD_MAX_ADHOC_DEVICES);
	return 0;
}

/* An ad hoc device lasts while its job does (manager_job_finished() drops it). */
static int add_adhoc_device(struct manager *m, const char *spec, struct device **ret)
{
	struct device *d;
	int r = device_new(m, spec, spec, &d);

	if (r < 0)
		return r;
	manager_add_device(m, d);
	*ret = d;
	return 0;
}

/* Defaults of a job started by hand: [Update], or the device's group. */
static void manual_defaults(struct manager *m, const struct device *d, const char *spec,
			    const char *image, struct job_record *rec)
{
	const struct fleet_group *g = d ? fleet_config_group(m->config, d->group) : NULL;
	const struct fleet_settings *s = &m->config->s;

	*rec = (struct job_record){.pace = g ? g->pace : s->pace,
				   .mode = g ? g->mode : s->mode,
				   .retries = g ? g->retries : s->retries};
	snprintf(rec->device, sizeof(rec->device), "%s", d ? d->name : spec);
	snprintf(rec->transport, sizeof(rec->transport), "%s", d ? d->transport : spec);
	snprintf(rec->source, sizeof(rec->source), "%s", image);
}

/* ---- options ------------------------------------------------------------------------------ */

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

static int read_pace_option(sd_bus_message *msg, const char *key, struct job_record *rec,
			    sd_bus_error *e)
{
	uint32_t u = 0;
	int r;

	if (strcmp(key, "rate") == 0) {
		/* the command line's and the fleet files' floor: 128 KiB at 1 B/s take 36 hours */
		r = read_u32_option(msg, key, &rec->pace.rate, e);
		if (r >= 0 && rec->pace.rate && rec->pace.rate < UPD_RATE_MIN)
			return bus_error_set(e, BUS_ERR_INVALID_OPTION,
					     "rate: 0 (unlimited) or at least %u bytes/s, not %" PRIu32,
					     UPD_RATE_MIN, rec->pace.rate);
		return r;
	}
	r = read_u32_option(msg, key, &u, e);
	if (r >= 0 && strcmp(key, "window") == 0 && u > UPD_WINDOW_MAX)
		return bus_error_set(e, BUS_ERR_INVALID_OPTION, "window: 0 (auto) to 32");
	if (r >= 0 && strcmp(key, "retries") == 0 && u > 100)
		return bus_error_set(e, BUS_ERR_INVALID_OPTION, "retries: 0 to 100");
	if (r >= 0 && strcmp(key, "window") == 0)
		rec->pace.window = u;
	else if (r >= 0)
		rec->retries = u;
	return r;
}

/* One entry of StartUpdate's options into rec. */
static int read_option(sd_bus_message *msg, const char *key, struct job_record *rec, int *ret_fd,
		       sd_bus_error *e)
{
	const char *s = NULL;
	uint8_t pin[32];
	int r, b = 0;

	if (strcmp(key, "rate") == 0 || strcmp(key, "window") == 0 || strcmp(key, "retries") == 0)
		return read_pace_option(msg, key, rec, e);
	if (strcmp(key, "fd") == 0)
		return read_fd_option(msg, ret_fd, e);
	if (strcmp(key, "mode") == 0) {
		r = read_string_option(msg, key, &s, e);
		if (r >= 0 && (!s || fleet_parse_mode(s, &rec->mode) < 0))
			return bus_error_set(e, BUS_ERR_INVALID_OPTION, "mode: test or confirm");
	} else if (strcmp(key, "sha256") == 0) {
		r = read_string_option(msg, key, &s, e);
		if (r >= 0 && (!s || strlen(s) != 64 || hex_decode(s, pin, 32) != 32))
			return bus_error_set(e, BUS_ERR_INVALID_OPTION, "sha256: 64 hex digits");
		if (r >= 0)
			hex_encode(pin, 32, rec->sha256);
	} else if (strcmp(key, "force") == 0) {
		r = sd_bus_message_read(msg, "v", "b", &b);
		if (r == -ENXIO || r == -EINVAL)
			return bus_error_set(e, BUS_ERR_INVALID_OPTION, "force takes a boolean");
		if (r >= 0)
			rec->force = b;
	} else {
		return bus_error_set(
			e, BUS_ERR_INVALID_OPTION,
			"unknown option '%.64s%s' (rate, window, mode, retries, sha256, "
			"force, fd)",
			key, strlen(key) > 64 ? "..." : "");
	}
	return r;
}

static int read_options(sd_bus_message *msg, struct job_record *rec, int *ret_fd, sd_bus_error *e)
{
	const char *key;
	unsigned n = 0;
	int r = sd_bus_message_enter_container(msg, 'a', "{sv}");

	while (r >= 0 && (r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		if (++n > MAX_OPTIONS)
			return bus_error_set(e, BUS_ERR_INVALID_OPTION, "at most %u options",
					     MAX_OPTIONS);
		r = sd_bus_message_read(msg, "s", &key);
		if (r >= 0)
			r = read_option(msg, key, rec, ret_fd, e);
		if (r >= 0)
			r = sd_bus_message_exit_container(msg);
	}
	return r < 0 ? r : sd_bus_message_exit_container(msg);
}

/* ---- the image ---------------------------------------------------------------------------- */

/* The image as an open file: into the cache, pinned by its SHA-256 (the daemon's sandbox may not
 * see the client's path, e.g. in /home), and checked there, so that a file which is no image is
 * refused now, by the name the caller gave, and never kept. */
static int import_image(struct manager *m, int fd, const char *name, struct job_record *rec,
			sd_bus_error *e)
{
	_cleanup_free_ char *path = NULL;
	struct img_file *f = NULL;
	struct img_diag diag = {0};
	char why[IMG_DIAG_MAX], hex[65];
	bool created = false;
	uint8_t sha[32];
	int r = fetch_import_fd(m->cache_dir, fd, m->config->s.max_image_size, &path, sha,
				&created);

	if (r < 0)
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE, "%s: %s", name,
				     r == -EFBIG    ? "larger than MaxImageSize="
				     : r == -EINVAL ? "not a regular file"
				     : r == -EBADF  ? "not open for reading"
						    : strerror(-r));
	hex_encode(sha, 32, hex);
	if (rec->sha256[0] && strcmp(rec->sha256, hex) != 0)
		r = bus_error_set(e, BUS_ERR_IMAGE_SOURCE, "%s: not the image sha256 pins", name);
	else if ((r = img_load_any(path, NULL, 0, &f, &diag)) < 0)
		r = bus_error_set(e, BUS_ERR_IMAGE_SOURCE, "%s: %s", name,
				  r == -EBADMSG ? img_diag_format(&diag, why, sizeof(why))
						: strerror(-r));
	img_file_free(f);
	if (r < 0) {
		if (created)
			unlink(path);
		return r;
	}
	snprintf(rec->sha256, sizeof(rec->sha256), "%s", hex);
	if (strlen(path) >= sizeof(rec->image))
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE, "cache path too long");
	snprintf(rec->image, sizeof(rec->image), "%s", path);
	return 0;
}

/* A path of the caller's: opened as the caller may, never as otad (which may read what the
 * caller may not). What the caller may not read is answered with its errno only: nothing of
 * the file, not even its size. */
static int open_callers_file(sd_bus_message *msg, const char *path, int *ret_fd, sd_bus_error *e)
{
	struct caller c;
	int r = caller_get(msg, &c);

	if (r < 0)
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE,
				     "%s: permission denied (the bus does not say who is calling: "
				     "%s); pass the file as the fd option",
				     path, strerror(-r));
	r = caller_open(&c, path);
	caller_done(&c);
	if (r == -EOPNOTSUPP)
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE,
				     "%s: permission denied (otad opens another user's files only "
				     "as that user, which it cannot here): pass the file as the fd "
				     "option, as otactl upload does",
				     path);
	if (r < 0)
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE, "%s: %s", path,
				     r == -EACCES || r == -EPERM ? "permission denied"
				     : r == -EINVAL		 ? "not a regular file"
								 : strerror(-r));
	*ret_fd = r;
	return 0;
}

static int take_image(struct manager *m, sd_bus_message *msg, const char *image, int fd,
		      struct job_record *rec, sd_bus_error *e)
{
	_cleanup_close_ int own = -1;
	enum fetch_kind kind;
	int r;

	if (fd >= 0)
		return import_image(m, fd, image, rec, e);
	r = fetch_classify(image, m->config->s.allow_http, &kind);
	if (r == -EPERM)
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE,
				     "%s: plain http is refused (AllowInsecureHTTP=no)", image);
	if (r < 0)
		return bus_error_set(e, BUS_ERR_IMAGE_SOURCE,
				     "%s: expected an absolute path or an https:// URL", image);
	if (kind != FETCH_LOCAL && !rec->sha256[0])
		return bus_error_set(e, BUS_ERR_INVALID_OPTION,
				     "%s: an image URL needs the sha256 option (its pin)", image);
	if (kind != FETCH_LOCAL)
		return 0; /* downloaded when the job starts */
	r = open_callers_file(msg, image, &own, e);
	return r < 0 ? r : import_image(m, own, image, rec, e);
}

int manager_method_start_update(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	struct manager *m = userdata;
	const char *name, *image;
	char spec[MAX_DEVICE_LEN + 5] = "";
	_cleanup_close_ int fd = -1;
	struct job_record rec;
	struct device *d = NULL;
	struct job *j = NULL;
	int r = sd_bus_message_read(msg, "ss", &name, &image);

	if (r >= 0)
		r = check_strings(name, image, e);
	if (r >= 0)
		r = find_device(m, name, &d, spec, e);
	if (r < 0)
		return r;
	if (d && d->job)
		return bus_error_set(e, BUS_ERR_DEVICE_BUSY, "device %s has job %s (%s)", d->name,
				     d->job->path, job_state_name(d->job->rec.state));
	r = check_limits(m, !d, e);
	if (r >= 0) {
		manual_defaults(m, d, spec, image, &rec);
		r = read_options(msg, &rec, &fd, e);
	}
	if (r >= 0)
		r = take_image(m, msg, image, fd, &rec, e);
	if (r < 0)
		return r;
	if (!d) {
		r = add_adhoc_device(m, spec, &d);
		if (r < 0)
			return r;
		r = manager_add_job(m, d, &rec, &j);
		if (r < 0)
			manager_remove_device(m, d);
	} else {
		r = manager_add_job(m, d, &rec, &j);
	}
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "o", j->path);
}
