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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "lib/otadctl.h"
#include "lib/simctl.h"
#include "otad/bus-api.h"

#define NOBODY 65534

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
	tl_write_file(dir, "otad.conf", "[Daemon]\nPollInterval=0\n");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_non_members_read_everything_and_change_nothing,
					  tl_reap_tracked),
	};

	if (getuid() != 0) {
		fprintf(stderr, "test-otad-access: needs root, to run callers as another user\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
