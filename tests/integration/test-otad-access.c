/* test-otad-access.c — who may do what with otad, on a private bus configured as the system bus
 * with the shipped policy: users outside group otad read (otactl jobs, devices, fleet status,
 * watch) and change nothing; a caller's image path is opened only as that caller may; every
 * request is bounded (queued jobs, ad hoc devices, string lengths). The callers are real
 * processes of another user (nobody), with and without the group. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "lib/otadctl.h"
#include "lib/simctl.h"
#include "otad/bus-api.h"

#define NOBODY 65534
/* otad(8)'s bounds */
#define MAX_QUEUED_JOBS	  128
#define MAX_ADHOC_DEVICES 64

static struct tl_dbus bus;
static char ctl_addr[700], busctl_addr[700]; /* the bus, as otactl and busctl take it */

static int setup(void **state)
{
	int r = tl_dbus_start(&bus);

	snprintf(ctl_addr, sizeof(ctl_addr), "--bus-address=%s", bus.address);
	snprintf(busctl_addr, sizeof(busctl_addr), "--address=%s", bus.address);

	chmod(tl_tmpdir(), 0755); /* nobody reaches the bus socket and the images in there */
	return r;
}

static int teardown(void **state)
{
	tl_dbus_stop(&bus);
	return 0;
}

/* argv as nobody (uid and gid 65534), in group otad when member; exit code. */
static int run_as_nobody(bool member, char **out, char **err, const char *const *cmd)
{
	char groups[32];
	const char *argv[32] = {"setpriv", "--reuid=65534", "--regid=65534", groups};
	unsigned n = 4;

	if (member)
		snprintf(groups, sizeof(groups), "--groups=%u", bus.otad_gid);
	else
		snprintf(groups, sizeof(groups), "--clear-groups");
	for (unsigned i = 0; cmd[i] && n < 31; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	return tl_run((char *const *)argv, tl_timeout(60000), out, err);
}

/* otactl as root; exit code. */
static int otactl(char **out, char **err, const char *a1, const char *a2, const char *a3)
{
	const char *argv[] = {tl_bin("otactl"), ctl_addr, a1, a2, a3, NULL};

	return tl_run((char *const *)argv, tl_timeout(60000), out, err);
}

static void start_otad(struct tl_otad *d, const char *name, const char *fleet)
{
	char dir[600], st[700], ca[700];

	snprintf(dir, sizeof(dir), "%s", tl_path(name));
	tl_write_file(dir, "otad.conf", "[Daemon]\nPollInterval=0\nMaxJobs=1\n");
	if (fleet)
		tl_write_file(dir, "fleet.d/devices.conf", fleet);
	snprintf(st, sizeof(st), "%s/state", dir);
	snprintf(ca, sizeof(ca), "%s/cache", dir);
	assert_int_equal(tl_otad_start(d, bus.address, dir, st, ca, NULL), 0);
	tl_track(d->proc.pid);
	tl_track(d->drain_pid);
}

static void expect_denied(const char *const *cmd)
{
	char *out = NULL, *err = NULL;

	assert_int_not_equal(run_as_nobody(false, &out, &err, cmd), 0);
	if (!tl_contains(err, "Access denied") && !tl_contains(err, "AccessDenied"))
		fail_msg("%s %s: not refused by the policy: %s", cmd[3], cmd[6] ? cmd[6] : "",
			 err ? err : "");
	free(out);
	free(err);
}

static void test_non_members_read_everything_and_change_nothing(void **state)
{
	struct tl_otad d;
	struct tl_sim sim;
	const char *extra[] = {"--speed", "20", NULL};
	const char *img = tl_mkimage("read.bin", "2.0.0", "16k");
	char fleet[512], *out = NULL, *err = NULL;

	assert_int_equal(tl_sim_start(&sim, "read", "udp", extra), 0);
	tl_track(sim.proc.pid);
	snprintf(fleet, sizeof(fleet), "[Device]\nName=sensor\nTransport=%s\n", sim.spec);
	start_otad(&d, "read", fleet);
	if (otactl(&out, &err, "upload", "sensor", img) != 0)
		fail_msg("otactl upload: %s", err);
	free(out);
	free(err);
	{
		const char *jobs[] = {tl_bin("otactl"), ctl_addr, "jobs", NULL};
		const char *devices[] = {tl_bin("otactl"), ctl_addr, "devices", NULL};
		const char *fleet_status[] = {tl_bin("otactl"), ctl_addr, "fleet", "status", NULL};
		const char *watch[] = {tl_bin("otactl"), ctl_addr, "watch", "1", NULL};
		const char *get[] = {
			"busctl",	    busctl_addr,      "get-property", "org.otad1",
			"/org/otad1/job/1", "org.otad1.Job1", "State",	      NULL};

		assert_int_equal(run_as_nobody(false, &out, &err, jobs), 0);
		assert_true(tl_contains(out, "sensor") && tl_contains(out, "succeeded"));
		free(out);
		free(err);
		assert_int_equal(run_as_nobody(false, &out, &err, devices), 0);
		assert_true(tl_contains(out, "sensor") && tl_contains(out, "2.0.0"));
		free(out);
		free(err);
		assert_int_equal(run_as_nobody(false, &out, &err, fleet_status), 0);
		assert_true(tl_contains(out, "sensor"));
		free(out);
		free(err);
		assert_int_equal(run_as_nobody(false, &out, &err, watch), 0);
		assert_true(tl_contains(out, "done: device runs 2.0.0"));
		free(out);
		free(err);
		assert_int_equal(run_as_nobody(false, &out, &err, get), 0);
		assert_true(tl_contains(out, "s \"succeeded\""));
		free(out);
		free(err);
	}
	{
		const char *start[] = {"busctl",      busctl_addr,  "call",
				       "org.otad1",   "/org/otad1", "org.otad1.Manager1",
				       "StartUpdate", "ssa{sv}",    "sensor",
				       img,	      "0",	    NULL};
		const char *scan[] = {"busctl",	    busctl_addr,	  "call", "org.otad1",
				      "/org/otad1", "org.otad1.Manager1", "Scan", NULL};
		const char *reload[] = {"busctl",     busctl_addr,	    "call",   "org.otad1",
					"/org/otad1", "org.otad1.Manager1", "Reload", NULL};
		const char *cancel[] = {"busctl",	    busctl_addr,      "call",	"org.otad1",
					"/org/otad1/job/1", "org.otad1.Job1", "Cancel", NULL};
		const char *set[] = {"busctl",	  busctl_addr,	"set-property",
				     "org.otad1", "/org/otad1", "org.otad1.Manager1",
				     "MaxJobs",	  "u",		"9",
				     NULL};
		const char *ctl[] = {tl_bin("otactl"), ctl_addr, "reload", NULL};

		expect_denied(start);
		expect_denied(scan);
		expect_denied(reload);
		expect_denied(cancel);
		expect_denied(set);
		assert_int_equal(run_as_nobody(false, &out, &err, ctl), 1);
		assert_true(tl_contains(err, "only root and members of group otad"));
		free(out);
		free(err);
	}
	/* nothing changed: one job, and root may still */
	assert_int_equal(otactl(&out, NULL, "jobs", NULL, NULL), 0);
	assert_false(tl_contains(out, "\n   2 "));
	free(out);
	assert_int_equal(otactl(&out, NULL, "reload", NULL, NULL), 0);
	free(out);
	assert_int_equal(tl_otad_stop(&d), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* ---- a caller's image file ------------------------------------------------------------- */

/* StartUpdate(device, image, {fd} when fd >= 0) from a child process that is nobody in group
 * otad (an fd it holds was opened before, as root). Returns 0 with the job's path in ret, or
 * not 0 with the error's name and message in ret. */
static int start_update_as_member(const char *device, const char *image, int fd, char *ret,
				  size_t size)
{
	int p[2], status = 0;
	ssize_t n, len = 0;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		gid_t g = bus.otad_gid;
		sd_bus_error e = SD_BUS_ERROR_NULL;
		sd_bus_message *m = NULL, *reply = NULL;
		const char *path = NULL;
		sd_bus *b = NULL;
		int r = -EPERM;

		close(p[0]);
		if (setgroups(1, &g) == 0 && setresgid(NOBODY, NOBODY, NOBODY) == 0 &&
		    setresuid(NOBODY, NOBODY, NOBODY) == 0)
			r = sd_bus_new(&b);
		if (r >= 0)
			r = sd_bus_set_address(b, bus.address);
		if (r >= 0)
			r = sd_bus_set_bus_client(b, 1);
		if (r >= 0)
			r = sd_bus_start(b);
		if (r >= 0)
			r = sd_bus_message_new_method_call(b, &m, OTAD_BUS_NAME, OTAD_MANAGER_PATH,
							   OTAD_MANAGER_IFACE, "StartUpdate");
		if (r >= 0)
			r = sd_bus_message_append(m, "ss", device, image);
		if (r >= 0)
			r = sd_bus_message_open_container(m, 'a', "{sv}");
		if (r >= 0 && fd >= 0)
			r = sd_bus_message_append(m, "{sv}", "fd", "h", fd);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
		if (r >= 0)
			r = sd_bus_call(b, m, 0, &e, &reply);
		if (r >= 0)
			r = sd_bus_message_read(reply, "o", &path);
		if (r >= 0)
			dprintf(p[1], "%s", path);
		else
			dprintf(p[1], "%s: %s", e.name ? e.name : "",
				e.message ? e.message : strerror(-r));
		sd_bus_error_free(&e);
		sd_bus_message_unref(m);
		sd_bus_message_unref(reply);
		sd_bus_flush_close_unref(b);
		close(p[1]);
		_exit(r < 0);
	}
	close(p[1]);
	while (len + 1 < (ssize_t)size && (n = read(p[0], ret + len, size - (size_t)len - 1)) > 0)
		len += n;
	ret[len] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void watch_succeeds(const char *job, const char *version)
{
	char *out = NULL, want[64];

	assert_int_equal(otactl(&out, NULL, "watch", strrchr(job, '/') + 1, NULL), 0);
	snprintf(want, sizeof(want), "done: device runs %s", version);
	assert_true(tl_contains(out, want));
	free(out);
}

static unsigned files_in(const char *dir)
{
	const char *argv[] = {"ls", "-A", dir, NULL};
	char *out = NULL;
	unsigned n = 0;

	assert_int_equal(tl_run((char *const *)argv, 10000, &out, NULL), 0);
	for (const char *c = out; *c; c++)
		n += *c == '\n';
	free(out);
	return n;
}

static void test_a_callers_path_is_opened_only_as_the_caller_may(void **state)
{
	struct tl_otad d;
	struct tl_sim sim;
	const char *extra[] = {"--speed", "20", NULL};
	const char *shadow =
		tl_write_file(tl_tmpdir(), "shadow", "root:$6$s3cr3t$xyz:19000:0:99999:7:::\n");
	const char *open_img = tl_mkimage("member-2.bin", "2.0.0", "16k");
	char fleet[512], ret[1024], secret_img[700];
	int fd;

	snprintf(secret_img, sizeof(secret_img), "%s", tl_mkimage("member-3.bin", "3.0.0", "16k"));
	assert_int_equal(chmod(shadow, 0600), 0);
	assert_int_equal(chmod(secret_img, 0600), 0);
	assert_int_equal(chmod(open_img, 0644), 0);
	assert_int_equal(tl_sim_start(&sim, "member", "udp", extra), 0);
	tl_track(sim.proc.pid);
	snprintf(fleet, sizeof(fleet), "[Device]\nName=sensor\nTransport=%s\n", sim.spec);
	start_otad(&d, "member", fleet);
	/* root's file: refused with the errno the caller would get, and nothing of the file */
	assert_int_not_equal(start_update_as_member("sensor", shadow, -1, ret, sizeof(ret)), 0);
	assert_true(tl_contains(ret, OTAD_ERROR_IMAGE_SOURCE));
	/* the whole message: the name it was given, then the kernel's answer */
	assert_true(strlen(ret) > 25 &&
		    strcmp(ret + strlen(ret) - 25, "shadow: permission denied") == 0);
	assert_false(tl_contains(ret, "magic") || tl_contains(ret, "746f6f72") ||
		     tl_contains(ret, "s3cr3t"));
	assert_int_not_equal(start_update_as_member("sensor", secret_img, -1, ret, sizeof(ret)), 0);
	assert_true(tl_contains(ret, "member-3.bin: permission denied"));
	assert_int_equal(files_in(d.cache_dir), 0); /* nothing of either was copied */
	/* a file the caller may read, by path; one it holds open, by fd (its path is only a name)
	 */
	assert_int_equal(start_update_as_member("sensor", open_img, -1, ret, sizeof(ret)), 0);
	watch_succeeds(ret, "2.0.0");
	fd = open(secret_img, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(start_update_as_member("sensor", secret_img, fd, ret, sizeof(ret)), 0);
	close(fd);
	watch_succeeds(ret, "3.0.0");
	assert_int_equal(tl_otad_stop(&d), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* otactl upload hands its file over as an fd: a file that is no image is refused at once, by
 * the name the user gave, and its copy does not stay in otad's cache. */
static void test_rejected_upload_names_the_users_file_and_leaves_no_copy(void **state)
{
	struct tl_otad d;
	const char *broken = tl_write_file(tl_tmpdir(), "broken.bin",
					   "this is not an image, and it is long enough to have "
					   "a header: its magic is wrong\n");
	char *out = NULL, *err = NULL;

	start_otad(&d, "broken", NULL);
	assert_int_equal(otactl(&out, &err, "upload", "udp:127.0.0.1:9", broken), 3);
	assert_true(tl_contains(err, broken));
	assert_true(tl_contains(err, "bad magic"));
	assert_false(tl_contains(err, d.cache_dir));
	free(out);
	free(err);
	assert_int_equal(files_in(d.cache_dir), 0);
	/* and no job, no device were left behind by the refusal */
	assert_int_equal(otactl(&out, NULL, "jobs", NULL, NULL), 0);
	assert_false(tl_contains(out, "broken.bin"));
	free(out);
	assert_int_equal(otactl(&out, NULL, "devices", NULL, NULL), 0);
	assert_false(tl_contains(out, "udp:127.0.0.1:9"));
	free(out);
	assert_int_equal(tl_otad_stop(&d), 0);
}

/* ---- bounds ------------------------------------------------------------------------------- */

/* StartUpdate as root: n_opts "rate" entries, then key (if not NULL) as one more. Returns 0 or
 * the negative errno; the error in *e. */
static int start_update(sd_bus *b, const char *device, const char *image, unsigned n_opts,
			const char *key, sd_bus_error *e)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(b, &m, OTAD_BUS_NAME, OTAD_MANAGER_PATH,
					       OTAD_MANAGER_IFACE, "StartUpdate");

	sd_bus_error_free(e);
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", device, image);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	for (unsigned i = 0; r >= 0 && i < n_opts; i++)
		r = sd_bus_message_append(m, "{sv}", "rate", "u", 1000);
	if (r >= 0 && key)
		r = sd_bus_message_append(m, "{sv}", key, "u", 1);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_call(b, m, 0, e, NULL);
	sd_bus_message_unref(m);
	return r < 0 ? r : 0;
}

static void expect_refused(sd_bus *b, const char *device, const char *image, unsigned n_opts,
			   const char *key, const char *name, const char *text)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;

	assert_true(start_update(b, device, image, n_opts, key, &e) < 0);
	if (!sd_bus_error_has_name(&e, name) || !tl_contains(e.message, text))
		fail_msg("expected %s (%s), got %s: %s", name, text, e.name, e.message);
	assert_true(strlen(e.message) < 600); /* what was too long is not echoed */
	sd_bus_error_free(&e);
}

static unsigned count_devices(sd_bus *b)
{
	sd_bus_message *reply = NULL;
	unsigned n = 0;

	assert_true(sd_bus_call_method(b, OTAD_BUS_NAME, OTAD_MANAGER_PATH, OTAD_MANAGER_IFACE,
				       "ListDevices", NULL, &reply, "") >= 0);
	assert_true(sd_bus_message_enter_container(reply, 'a', "(sossssss)") > 0);
	while (sd_bus_message_skip(reply, "(sossssss)") > 0)
		n++;
	sd_bus_message_unref(reply);
	return n;
}

static void test_every_request_is_bounded(void **state)
{
	const unsigned listed = MAX_QUEUED_JOBS + 1;
	const char *img = tl_mkimage("bounds.bin", "2.0.0", "8k");
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sd_bus_error e = SD_BUS_ERROR_NULL;
	socklen_t sl = sizeof(sa);
	size_t size = (size_t)listed * 64, len = 0;
	char *fleet = malloc(size), *huge = malloc(100 * 1024 + 1), spec[64];
	unsigned port;
	struct tl_otad d;
	sd_bus *b = NULL;
	int sink = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* the devices: a port that takes every request and never answers, so jobs wait */
	assert_true(sink >= 0 && fleet && huge);
	assert_int_equal(bind(sink, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(sink, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	for (unsigned i = 0; i < listed; i++)
		len += (size_t)snprintf(fleet + len, size - len,
					"[Device]\nName=d%u\nTransport=udp:127.0.0.1:%u\n", i,
					port);
	start_otad(&d, "bounds", fleet);
	free(fleet);
	assert_true(sd_bus_new(&b) >= 0 && sd_bus_set_address(b, bus.address) >= 0 &&
		    sd_bus_set_bus_client(b, 1) >= 0 && sd_bus_start(b) >= 0);

	/* strings: nothing is cut short or taken whole, whatever its length */
	memset(huge, 'a', 100 * 1024);
	huge[100 * 1024] = 0;
	memcpy(huge, "udp:", 4);
	expect_refused(b, huge, img, 0, NULL, OTAD_ERROR_INVALID_OPTION, "device: 1 to 127 bytes");
	huge[128] = 0;
	expect_refused(b, huge, img, 0, NULL, OTAD_ERROR_INVALID_OPTION, "device: 1 to 127 bytes");
	huge[128] = 'a';
	huge[0] = '/';
	expect_refused(b, "d0", huge, 0, NULL, OTAD_ERROR_INVALID_OPTION, "image: 1 to 1023 bytes");
	expect_refused(b, "d0", img, 0, huge, OTAD_ERROR_INVALID_OPTION, "unknown option '/dp:aaa");
	expect_refused(b, "d0", img, 17, NULL, OTAD_ERROR_INVALID_OPTION, "at most 16 options");
	free(huge);

	/* devices outside the fleet files: each lasts while its job does, and only so many */
	for (unsigned i = 0; i < MAX_ADHOC_DEVICES; i++) {
		snprintf(spec, sizeof(spec), "udp:127.0.0.%u:%u", i + 1, port);
		if (start_update(b, spec, img, 0, NULL, &e) < 0)
			fail_msg("%s: %s", spec, e.message);
	}
	snprintf(spec, sizeof(spec), "udp:127.0.1.1:%u", port);
	expect_refused(b, spec, img, 0, NULL, OTAD_ERROR_LIMIT_REACHED,
		       "devices outside the fleet");
	{
		char *err = NULL;

		assert_int_equal(otactl(NULL, &err, "upload", spec, img), 12);
		assert_true(tl_contains(err, "at most 64"));
		free(err);
	}
	assert_int_equal(count_devices(b), listed + MAX_ADHOC_DEVICES);

	/* jobs that wait: the ad hoc ones wait too (MaxJobs=1), fill up with listed devices */
	for (unsigned i = 0; i < listed; i++) {
		char name[16];
		int r;

		snprintf(name, sizeof(name), "d%u", i);
		r = start_update(b, name, img, 0, NULL, &e);
		if (r < 0 && sd_bus_error_has_name(&e, OTAD_ERROR_LIMIT_REACHED)) {
			assert_true(tl_contains(e.message, "jobs wait already (at most 128"));
			assert_int_equal(i, MAX_QUEUED_JOBS - MAX_ADHOC_DEVICES + 1);
			break;
		}
		if (r < 0)
			fail_msg("%s: %s", name, e.message);
		assert_true(i + 1 < listed);
	}
	sd_bus_error_free(&e);

	/* a cancelled job takes its ad hoc device with it */
	{
		const char *argv[] = {tl_bin("otactl"), ctl_addr, "cancel", "2", NULL};

		assert_int_equal(tl_run((char *const *)argv, tl_timeout(20000), NULL, NULL), 0);
	}
	assert_int_equal(count_devices(b), listed + MAX_ADHOC_DEVICES - 1);
	sd_bus_flush_close_unref(b);
	close(sink);
	assert_int_equal(tl_otad_stop(&d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_non_members_read_everything_and_change_nothing,
					  tl_reap_tracked),
		cmocka_unit_test_teardown(test_a_callers_path_is_opened_only_as_the_caller_may,
					  tl_reap_tracked),
		cmocka_unit_test_teardown(
			test_rejected_upload_names_the_users_file_and_leaves_no_copy,
			tl_reap_tracked),
		cmocka_unit_test_teardown(test_every_request_is_bounded, tl_reap_tracked),
	};

	if (getuid() != 0) {
		fprintf(stderr, "test-otad-access: needs root, to run callers as another user\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
