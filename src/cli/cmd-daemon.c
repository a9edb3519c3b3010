/* cmd-daemon.c — otactl's commands that talk to otad over D-Bus: upload (falls back to the
 * in-process engine with --direct or when no otad runs), jobs, watch, cancel, devices, fleet
 * status, reload. */
#include "cli/commands.h"
#include "cli/daemon-client.h"
#include "cli/exit-codes.h"
#include "otad/bus-api.h"
#include "util/json.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct client_opts client_opts;

int client_bus_open(sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	if (client_opts.bus == CLIENT_BUS_SYSTEM)
		return sd_bus_open_system(ret);
	if (client_opts.bus == CLIENT_BUS_USER)
		return sd_bus_open_user(ret);
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, client_opts.address);
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

int client_call_failed(const char *what, const sd_bus_error *e, int r)
{
	const char *name = e && e->name ? e->name : "";

	log_error("%s: %s", what, e && e->message ? e->message : strerror(-r));
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED)) {
		log_error("only root and members of group otad may control otad");
		return EXIT_FAILURE_GENERIC;
	}
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT))
		return EXIT_USAGE; /* no such job */
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
		return EXIT_LINK;
	if (strcmp(name, OTAD_ERROR_IMAGE_SOURCE) == 0)
		return EXIT_IMAGE;
	if (strcmp(name, OTAD_ERROR_CONFIG_INVALID) == 0)
		return EXIT_CONFIG;
	if (strcmp(name, OTAD_ERROR_JOB_FINISHED) == 0 || strcmp(name, OTAD_ERROR_DEVICE_BUSY) == 0 ||
	    strcmp(name, OTAD_ERROR_LIMIT_REACHED) == 0)
		return EXIT_CONFLICT;
	if (strcmp(name, OTAD_ERROR_NO_SUCH_DEVICE) == 0 ||
	    strcmp(name, OTAD_ERROR_NO_SUCH_JOB) == 0 ||
	    strcmp(name, OTAD_ERROR_INVALID_OPTION) == 0)
		return EXIT_USAGE;
	return EXIT_FAILURE_GENERIC;
}

/* {"k1":"v1","k2":"v2"} on a line. */
static void print_json_str(const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct json j;

	json_init(&j, stdout);
	json_begin_object(&j, NULL);
	json_str(&j, k1, v1);
	json_str(&j, k2, v2);
	json_end_object(&j);
	json_end_line(&j);
}

static sd_bus *open_or_log(void)
{
	sd_bus *bus = NULL;
	int r = client_bus_open(&bus);

	if (r < 0)
		log_error_errno(r, "cannot connect to the bus otad is on: %m");
	return bus;
}

/* ---- upload ------------------------------------------------------------------------------- */

static bool is_spec(const char *s)
{
	return strncmp(s, "udp:", 4) == 0 || strncmp(s, "serial:", 7) == 0 ||
	       strncmp(s, "ble:", 4) == 0;
}

static int upload_direct(const char *device, const char *image)
{
	int r;

	if (!is_spec(device)) {
		log_error("%s: without otad a device is a transport spec (udp:HOST[:PORT], "
			  "serial:PATH, ble:ADDRESS)",
			  device);
		return EXIT_USAGE;
	}
	arg.transport = device;
	r = check_link_args(false);
	if (r != 0)
		return -r;
	if (!strncmp(device, "ble:", 4) && (r = cli_check_bonds()) != 0)
		return r;
	return run_update(image, UPD_STEP_DONE);
}

static int append_options(sd_bus_message *m, int image_fd)
{
	const struct upd_params *p = &arg.params;
	int r = sd_bus_message_open_container(m, 'a', "{sv}");

	if (r >= 0 && p->pace.rate)
		r = sd_bus_message_append(m, "{sv}", "rate", "u", p->pace.rate);
	if (r >= 0 && p->pace.window)
		r = sd_bus_message_append(m, "{sv}", "window", "u", p->pace.window);
	if (r >= 0 && arg.mode_given)
		r = sd_bus_message_append(m, "{sv}", "mode", "s",
					  p->mode == UPD_MODE_CONFIRM ? "confirm" : "test");
	if (r >= 0 && arg.retries_given)
		r = sd_bus_message_append(m, "{sv}", "retries", "u", p->retries);
	if (r >= 0 && p->force)
		r = sd_bus_message_append(m, "{sv}", "force", "b", 1);
	if (r >= 0 && client_opts.sha256)
		r = sd_bus_message_append(m, "{sv}", "sha256", "s", client_opts.sha256);
	/* the file itself: otad's sandbox may not see our path (ProtectHome=, PrivateTmp=) */
	if (r >= 0 && image_fd >= 0)
		r = sd_bus_message_append(m, "{sv}", "fd", "h", image_fd);
	return r < 0 ? r : sd_bus_message_close_container(m);
}

/* 0 with the job's path, -ESRCH when no otad owns the name, or an exit code > 0 (logged). */
static int start_update(sd_bus *bus, const char *device, const char *image, int image_fd,
			char **ret_path)
{
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *path;
	int r = sd_bus_message_new_method_call(bus, &m, OTAD_BUS_NAME, OTAD_MANAGER_PATH,
					       OTAD_MANAGER_IFACE, "StartUpdate");

	if (r >= 0)
		r = sd_bus_message_append(m, "ss", device, image);
	if (r >= 0)
		r = append_options(m, image_fd);
	if (r >= 0)
		r = sd_bus_call(bus, m, 0, &e, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r >= 0 && !(*ret_path = strdup(path)))
		r = -ENOMEM;
	if (r < 0 && !sd_bus_error_is_set(&e))
		sd_bus_error_set_errno(&e, r);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	if (r < 0) {
		bool no_daemon = sd_bus_error_has_name(&e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
				 sd_bus_error_has_name(&e, SD_BUS_ERROR_NAME_HAS_NO_OWNER);

		r = no_daemon ? -ESRCH : client_call_failed("StartUpdate", &e, r);
	}
	sd_bus_error_free(&e);
	return r < 0 ? r : r > 0 && !*ret_path ? r : 0;
}

int cmd_upload(int argc, char **argv)
{
	char image[PATH_MAX], *path = NULL;
	_cleanup_close_ int fd = -1;
	struct follower *f = NULL;
	sd_bus *bus = NULL;
	int r;

	if (argc != 3) {
		log_error("usage: otactl upload DEVICE IMAGE");
		return EXIT_USAGE;
	}
	if (client_opts.direct)
		return upload_direct(argv[1], argv[2]);
	if (strstr(argv[2], "://"))
		snprintf(image, sizeof(image), "%s", argv[2]);
	else if (!realpath(argv[2], image) || (fd = open(image, O_RDONLY | O_CLOEXEC)) < 0)
		return log_error_errno(-errno, "%s: %m", argv[2]), EXIT_IMAGE;
	r = client_bus_open(&bus);
	if (r >= 0 && (r = follower_new(bus, true, &f)) < 0) {
		sd_bus_unref(bus);
		return log_error_errno(r, "cannot subscribe to otad's signals: %m"), EXIT_LINK;
	}
	if (r >= 0)
		r = start_update(bus, argv[1], image, fd, &path);
	else
		r = -ESRCH; /* no bus, no daemon */
	if (r != 0)
		f = follower_free(f);
	if (r == -ESRCH) {
		sd_bus_unref(bus);
		if (!is_spec(argv[1])) {
			log_error("otad is not running, and %s is not a transport spec", argv[1]);
			return EXIT_LINK;
		}
		log_info("otad is not running: updating %s in-process", argv[1]);
		return upload_direct(argv[1], image);
	}
	if (r > 0) {
		sd_bus_unref(bus);
		return r;
	}
	if (arg.json)
		print_json_str("event", "job", "path", path);
	else
		printf("job %s\n", path);
	r = follower_run(f, path, false);
	follower_free(f);
	free(path);
	sd_bus_flush_close_unref(bus);
	return r;
}

/* ---- tables ------------------------------------------------------------------------------- */

/* rows x cols cells, row 0 the header: every column but the last padded to its widest cell (at
 * least min[c]), one space apart; nothing is cut. */
static void print_table(const char *const *cells, size_t rows, size_t cols, const int *min)
{
	int width[8] = {0};

	for (size_t c = 0; c < cols && c < ARRAY_SIZE(width); c++) {
		width[c] = min[c];
		for (size_t r = 0; r < rows; r++)
			width[c] = MAX(width[c], (int)strlen(cells[r * cols + c]));
	}
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			printf(c + 1 < cols ? "%-*s " : "%-*s\n", c + 1 < cols ? width[c] : 0,
			       cells[r * cols + c]);
}

/* ---- jobs, watch, cancel -------------------------------------------------------------------- */

/* Calls a Manager1 method without arguments; *ret_reply on success. Returns 0 or an exit code. */
static int call_manager(sd_bus *bus, const char *method, sd_bus_message **ret_reply)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = sd_bus_call_method(bus, OTAD_BUS_NAME, OTAD_MANAGER_PATH, OTAD_MANAGER_IFACE,
				   method, &e, ret_reply, "");

	r = r < 0 ? client_call_failed(method, &e, r) : 0;
	sd_bus_error_free(&e);
	return r;
}

static void json_job(struct json *j, uint32_t id, const char *device, const char *image,
		     const char *state, const char *step, uint64_t off, uint64_t total)
{
	json_begin_object(j, NULL);
	json_u64(j, "id", id);
	json_str(j, "device", device);
	json_str(j, "image", image);
	json_str(j, "state", state);
	json_str(j, "step", step);
	json_u64(j, "offset", off);
	json_u64(j, "total", total);
	json_end_object(j);
}

#define JOBS_COLS 6

/* One row of the jobs table: the message's strings, the numbers formatted. */
struct job_row {
	char id[12], done[8];
	const char *device, *state, *step, *image;
};

/* The table, its columns as wide as their widest cell: a long device name pushes the columns
 * after it, all rows alike. */
static int print_jobs(const struct job_row *rows, size_t n)
{
	static const char *const hdr[JOBS_COLS] = {"  ID", "DEVICE", "STATE",
						   "STEP", "DONE",   "IMAGE"};
	static const int min[JOBS_COLS] = {4, 20, 10, 8, 4, 0};
	_cleanup_free_ const char **cells = calloc((n + 1) * JOBS_COLS, sizeof(*cells));

	if (!cells) {
		log_error("out of memory");
		return EXIT_FAILURE_GENERIC;
	}
	memcpy(cells, hdr, sizeof(hdr));
	for (size_t i = 0; i < n; i++) {
		const char *row[JOBS_COLS] = {rows[i].id,   rows[i].device, rows[i].state,
					      rows[i].step, rows[i].done,   rows[i].image};

		memcpy(cells + (i + 1) * JOBS_COLS, row, sizeof(row));
	}
	print_table(cells, n + 1, JOBS_COLS, min);
	return 0;
}

int cmd_jobs(int argc, char **argv)
{
	sd_bus *bus = open_or_log();
	sd_bus_message *reply = NULL;
	_cleanup_free_ struct job_row *rows = NULL;
	const char *path, *device, *image, *state, *step;
	uint64_t off, total;
	uint32_t id;
	size_t n = 0;
	struct json j;
	int r;

	if (!bus)
		return EXIT_LINK;
	r = call_manager(bus, "ListJobs", &reply);
	if (r == 0 && sd_bus_message_enter_container(reply, 'a', "(uosssstt)") < 0)
		r = EXIT_PROTOCOL;
	json_init(&j, stdout);
	if (r == 0 && arg.json)
		json_begin_array(&j, NULL);
	while (r == 0 && sd_bus_message_read(reply, "(uosssstt)", &id, &path, &device, &image,
					     &state, &step, &off, &total) > 0) {
		struct job_row *more;

		if (arg.json) {
			json_job(&j, id, device, image, state, step, off, total);
			continue;
		}
		more = realloc(rows, (n + 1) * sizeof(*rows));
		if (!more) {
			log_error("out of memory");
			r = EXIT_FAILURE_GENERIC;
			break;
		}
		rows = more;
		rows[n] = (struct job_row){
			.device = device, .state = state, .step = step, .image = image};
		/* the numbers right-aligned in their columns */
		snprintf(rows[n].id, sizeof(rows[n].id), "%4" PRIu32, id);
		snprintf(rows[n].done, sizeof(rows[n].done), "%3u%%",
			 total ? (unsigned)(off * 100 / total) : 0);
		n++;
	}
	if (r == 0 && arg.json) {
		json_end_array(&j);
		json_end_line(&j);
	} else if (r == 0) {
		r = print_jobs(rows, n);
	}
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return r;
}

/* "12" or "/org/otad1/job/12". */
static int job_path(const char *arg_job, char *buf, size_t size)
{
	uint32_t id;

	if (strncmp(arg_job, OTAD_JOB_PATH_PREFIX "/", strlen(OTAD_JOB_PATH_PREFIX) + 1) == 0) {
		snprintf(buf, size, "%s", arg_job);
		return 0;
	}
	if (parse_u32(arg_job, &id) < 0) {
		log_error("not a job: '%s' (a number, as `otactl jobs` lists them)", arg_job);
		return EXIT_USAGE;
	}
	snprintf(buf, size, "%s/%" PRIu32, OTAD_JOB_PATH_PREFIX, id);
	return 0;
}

/* What watch and cancel share: one JOB argument, its object path, a bus to otad. 0, or the exit
 * code (logged). */
static int job_command(int argc, char **argv, const char *verb, char *path, size_t size,
		       sd_bus **ret_bus)
{
	int r;

	if (argc != 2) {
		log_error("usage: otactl %s JOB", verb);
		return EXIT_USAGE;
	}
	r = job_path(argv[1], path, size);
	if (r)
		return r;
	*ret_bus = open_or_log();
	return *ret_bus ? 0 : EXIT_LINK;
}

int cmd_watch(int argc, char **argv)
{
	char path[128];
	sd_bus *bus;
	int r;

	r = job_command(argc, argv, "watch", path, sizeof(path), &bus);
	if (r)
		return r;
	r = client_follow_job(bus, path, false);
	sd_bus_flush_close_unref(bus);
	return r;
}

int cmd_cancel(int argc, char **argv)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char path[128];
	sd_bus *bus;
	int r;

	r = job_command(argc, argv, "cancel", path, sizeof(path), &bus);
	if (r)
		return r;
	r = sd_bus_call_method(bus, OTAD_BUS_NAME, path, OTAD_JOB_IFACE, "Cancel", &e, NULL, "");
	if (r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_OBJECT))
		log_error("no job %s", argv[1]), r = EXIT_USAGE;
	else if (r < 0)
		r = client_call_failed("cancel", &e, r);
	else if (arg.json)
		print_json_str("job", path, "cancel", "requested"), r = 0;
	else
		printf("cancel requested for job %s\n", argv[1]), r = 0;
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return r;
}

/* ---- devices, fleet status, reload ---------------------------------------------------------- */

struct device_row {
	const char *name, *path, *address, *group, *version, *target, *verdict, *status;
};

static void json_device(struct json *j, const struct device_row *d)
{
	json_begin_object(j, NULL);
	json_str(j, "name", d->name);
	json_str(j, "address", d->address);
	json_str(j, "group", d->group);
	json_str(j, "version", d->version);
	json_str(j, "target", d->target);
	json_str(j, "verdict", d->verdict);
	json_str(j, "status", d->status);
	json_end_object(j);
}

#define FLEET_COLS   6
#define DEVICES_COLS 4

/* One table row of d into cells. */
static void device_cells(const struct device_row *d, bool fleet, const char **cells)
{
	const char *group = d->group[0] ? d->group : "-", *runs = d->version[0] ? d->version : "?";

	if (fleet) {
		const char *row[FLEET_COLS] = {group,	   d->name,
					       runs,	   d->target[0] ? d->target : "-",
					       d->verdict, d->status};

		memcpy(cells, row, sizeof(row));
	} else {
		const char *row[DEVICES_COLS] = {d->name, runs, group, d->address};

		memcpy(cells, row, sizeof(row));
	}
}

static int print_devices(const struct device_row *rows, size_t n, bool fleet)
{
	static const char *const fleet_hdr[FLEET_COLS] = {"GROUP", "DEVICE",  "RUNS",
							  "WANTS", "VERDICT", "WHY"};
	static const char *const dev_hdr[DEVICES_COLS] = {"DEVICE", "VERSION", "GROUP", "ADDRESS"};
	static const int fleet_min[FLEET_COLS] = {12, 20, 10, 10, 8, 0};
	static const int dev_min[DEVICES_COLS] = {20, 10, 12, 0};
	size_t cols = fleet ? FLEET_COLS : DEVICES_COLS;
	_cleanup_free_ const char **cells = calloc((n + 1) * cols, sizeof(*cells));

	if (!cells) {
		log_error("out of memory");
		return EXIT_FAILURE_GENERIC;
	}
	memcpy(cells, fleet ? fleet_hdr : dev_hdr, cols * sizeof(*cells));
	for (size_t i = 0; i < n; i++)
		device_cells(&rows[i], fleet, cells + (i + 1) * cols);
	print_table(cells, n + 1, cols, fleet ? fleet_min : dev_min);
	return 0;
}

static int list_devices(bool fleet)
{
	sd_bus *bus = open_or_log();
	sd_bus_message *reply = NULL;
	_cleanup_free_ struct device_row *rows = NULL;
	struct device_row d;
	size_t n = 0;
	struct json j;
	int r;

	if (!bus)
		return EXIT_LINK;
	r = call_manager(bus, "ListDevices", &reply);
	if (r == 0 && sd_bus_message_enter_container(reply, 'a', "(sossssss)") < 0)
		r = EXIT_PROTOCOL;
	while (r == 0 &&
	       sd_bus_message_read(reply, "(sossssss)", &d.name, &d.path, &d.address, &d.group,
				   &d.version, &d.target, &d.verdict, &d.status) > 0) {
		struct device_row *more = realloc(rows, (n + 1) * sizeof(*rows));

		if (!more) {
			log_error("out of memory");
			r = EXIT_FAILURE_GENERIC;
			break;
		}
		rows = more;
		rows[n++] = d;
	}
	if (r == 0 && arg.json) {
		json_init(&j, stdout);
		json_begin_array(&j, NULL);
		for (size_t i = 0; i < n; i++)
			json_device(&j, &rows[i]);
		json_end_array(&j);
		json_end_line(&j);
	} else if (r == 0) {
		r = print_devices(rows, n, fleet);
	}
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return r;
}

int cmd_devices(int argc, char **argv)
{
	if (argc != 1) {
		log_error("usage: otactl devices");
		return EXIT_USAGE;
	}
	return list_devices(false);
}

int cmd_fleet(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "status") != 0) {
		log_error("usage: otactl fleet status");
		return EXIT_USAGE;
	}
	return list_devices(true);
}

/* Reload's answer: the warnings of the new configuration, on stderr or in the JSON object. */
static int print_reload(sd_bus_message *reply)
{
	const char *w;
	struct json j;
	int r = sd_bus_message_enter_container(reply, 'a', "s");

	if (r < 0)
		return log_error_errno(r, "malformed answer from otad: %m"), EXIT_PROTOCOL;
	json_init(&j, stdout);
	if (arg.json) {
		json_begin_object(&j, NULL);
		json_bool(&j, "reloaded", true);
		json_begin_array(&j, "warnings");
	}
	while (sd_bus_message_read(reply, "s", &w) > 0) {
		if (arg.json)
			json_str(&j, NULL, w);
		else
			log_warning("warning: %s", w);
	}
	if (arg.json) {
		json_end_array(&j);
		json_end_object(&j);
		json_end_line(&j);
	} else {
		printf("configuration reloaded\n");
	}
	return 0;
}

int cmd_reload(int argc, char **argv)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus;
	int r;

	if (argc != 1) {
		log_error("usage: otactl reload");
		return EXIT_USAGE;
	}
	bus = open_or_log();
	if (!bus)
		return EXIT_LINK;
	r = sd_bus_call_method(bus, OTAD_BUS_NAME, OTAD_MANAGER_PATH, OTAD_MANAGER_IFACE, "Reload",
			       &e, &reply, "");
	if (r < 0 && sd_bus_error_has_name(&e, OTAD_ERROR_CONFIG_INVALID)) {
		log_error("reload refused, otad keeps its configuration: %s", e.message);
		r = EXIT_CONFIG;
	} else if (r < 0) {
		r = client_call_failed("reload", &e, r);
	} else {
		r = print_reload(reply);
	}
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return r;
}
