/* test-otad.c — otad on a private dbus-daemon (with the real policy file) updating otasim devices:
 * an update started with otactl and one with `busctl call` whose progress is seen through
 * PropertiesChanged, SIGKILL mid-upload and a restart that resumes from the device's offset,
 * cancel, introspection, sd_notify. Who may call is test-otad-access's. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/otadctl.h"
#include "lib/simctl.h"

#define SPEED "20"

static struct tl_dbus bus;

static int setup(void **state)
{
	return tl_dbus_start(&bus);
}

static int teardown(void **state)
{
	tl_dbus_stop(&bus);
	return 0;
}

static int sim_start(struct tl_sim *s, const char *name, const char *const *extra)
{
	int r = tl_sim_start(s, name, "udp", extra);

	tl_track(s->proc.pid);
	return r;
}

/* otactl on our bus; exit code, stdout in *out (may be NULL), stderr in *err (may be NULL). */
static int otactl(char **out, char **err, ...)
{
	const char *argv[40];
	char addr[700];
	unsigned n = 0;
	va_list ap;
	char *e = NULL;
	int r;

	snprintf(addr, sizeof(addr), "--bus-address=%s", bus.address);
	argv[n++] = tl_bin("otactl");
	argv[n++] = addr;
	va_start(ap, err);
	for (const char *a; (a = va_arg(ap, const char *)) && n < 38;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	r = tl_run((char *const *)argv, tl_timeout(120000), out, &e);
	if (err)
		*err = e;
	else
		free(e);
	return r;
}

/* A fresh otad with an empty fleet (devices are named by transport spec). */
static void start_otad(struct tl_otad *d, const char *name, const char *main_conf)
{
	char dir[600], st[700], ca[700];

	snprintf(dir, sizeof(dir), "%s", tl_path(name));
	tl_write_file(dir, "otad.conf", main_conf ? main_conf : "[Daemon]\nPollInterval=0\n");
	snprintf(st, sizeof(st), "%s/state", dir);
	snprintf(ca, sizeof(ca), "%s/cache", dir);
	assert_int_equal(tl_otad_start(d, bus.address, dir, st, ca, NULL), 0);
	tl_track(d->proc.pid);
	tl_track(d->drain_pid);
}

static void restart_otad(struct tl_otad *d, const char *const *extra)
{
	char dir[600], st[700], ca[700];

	snprintf(dir, sizeof(dir), "%s", d->config_dir);
	snprintf(st, sizeof(st), "%s", d->state_dir);
	snprintf(ca, sizeof(ca), "%s", d->cache_dir);
	assert_int_equal(tl_otad_start(d, bus.address, dir, st, ca, extra), 0);
	tl_track(d->proc.pid);
	tl_track(d->drain_pid);
}

static void test_update_started_with_otactl_ends_in_verified_boot(void **state)
{
	struct tl_otad d;
	struct tl_sim sim;
	const char *extra[] = {"--speed", SPEED, NULL};
	const char *img = tl_mkimage("v2.bin", "2.0.0", "24k");
	char *out = NULL;

	assert_int_equal(sim_start(&sim, "otactl", extra), 0);
	start_otad(&d, "otactl", NULL);
	assert_int_equal(otactl(&out, NULL, "upload", sim.spec, img, NULL), 0);
	assert_true(tl_contains(out, "job /org/otad1/job/1"));
	assert_true(tl_contains(out, "upload: 100%"));
	assert_true(tl_contains(out, "done: device runs 2.0.0"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(otactl(&out, NULL, "jobs", NULL), 0);
	assert_true(tl_contains(out, "succeeded"));
	free(out);
	/* the same image again: nothing to do, and no second reset */
	assert_int_equal(otactl(&out, NULL, "upload", sim.spec, img, NULL), 0);
	assert_true(tl_contains(out, "already runs 2.0.0"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "reset", NULL, NULL), 1);
	assert_int_equal(tl_otad_stop(&d), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* ---- progress through PropertiesChanged --------------------------------------------------- */

struct seen {
	char path[64];
	uint64_t offsets[512];
	unsigned n_offsets;
	char state[32];
};

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct seen *s = userdata;
	const char *iface, *key, *str;
	uint64_t t;

	if (s->path[0] && strcmp(sd_bus_message_get_path(m), s->path) != 0)
		return 0;
	assert_true(sd_bus_message_read(m, "s", &iface) > 0);
	assert_true(sd_bus_message_enter_container(m, 'a', "{sv}") > 0);
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		assert_true(sd_bus_message_read(m, "s", &key) > 0);
		if (strcmp(key, "Offset") == 0) {
			assert_true(sd_bus_message_read(m, "v", "t", &t) > 0);
			if (s->n_offsets < 512)
				s->offsets[s->n_offsets++] = t;
		} else if (strcmp(key, "State") == 0) {
			assert_true(sd_bus_message_read(m, "v", "s", &str) > 0);
			snprintf(s->state, sizeof(s->state), "%s", str);
		} else {
			assert_true(sd_bus_message_skip(m, "v") >= 0);
		}
		sd_bus_message_exit_container(m);
	}
	return 0;
}

static sd_bus *connect_bus(void)
{
	sd_bus *b = NULL;

	assert_int_equal(sd_bus_new(&b), 0);
	assert_true(sd_bus_set_address(b, bus.address) >= 0);
	assert_true(sd_bus_set_bus_client(b, 1) >= 0);
	assert_true(sd_bus_start(b) >= 0);
	return b;
}

static void test_update_started_with_busctl_reports_progress_by_signal(void **state)
{
	struct tl_otad d;
	struct tl_sim sim;
	const char *extra[] = {"--speed", SPEED, NULL};
	const char *img = tl_mkimage("v3.bin", "3.0.0", "48k");
	struct seen seen = {.path = ""};
	char addr[700], *out = NULL;
	sd_bus *b = connect_bus();
	int r;

	assert_int_equal(sim_start(&sim, "busctl", extra), 0);
	start_otad(&d, "busctl", NULL);
	assert_true(sd_bus_add_match(b, NULL,
				     "type='signal',sender='org.otad1',member='PropertiesChanged',"
				     "path_namespace='/org/otad1/job'",
				     on_changed, &seen) >= 0);
	snprintf(addr, sizeof(addr), "--address=%s", bus.address);
	{
		char *argv[] = {"busctl",      addr,	     "call",
				"org.otad1",   "/org/otad1", "org.otad1.Manager1",
				"StartUpdate", "ssa{sv}",    sim.spec,
				(char *)img,   "1",	     "rate",
				"u",	       "32768",	     NULL};

		r = tl_run(argv, tl_timeout(20000), &out, NULL);
	}
	assert_int_equal(r, 0);
	assert_true(tl_contains(out, "o \"/org/otad1/job/1\""));
	free(out);
	snprintf(seen.path, sizeof(seen.path), "/org/otad1/job/1");
	for (int i = 0; i < tl_timeout(60000) / 50 && strcmp(seen.state, "succeeded") != 0 &&
			strcmp(seen.state, "failed") != 0;
	     i++) {
		while (sd_bus_process(b, NULL) > 0)
			;
		sd_bus_wait(b, 50 * 1000);
	}
	assert_string_equal(seen.state, "succeeded");
	/* progress came as it happened: several offsets, rising to the whole image */
	assert_true(seen.n_offsets >= 5);
	for (unsigned i = 1; i < seen.n_offsets; i++)
		assert_true(seen.offsets[i] >= seen.offsets[i - 1]);
	assert_true(seen.offsets[seen.n_offsets - 1] > 48 * 1024);
	sd_bus_flush_close_unref(b);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_otad_stop(&d), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* ---- SIGKILL mid-upload ------------------------------------------------------------------- */

static uint64_t max_upload_next(struct tl_sim *sim, size_t *ret_n)
{
	struct tl_event *ev = NULL;
	size_t n = 0;
	uint64_t m = 0;

	if (tl_trace_load(sim->trace, &ev, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(ev[i].name, "upload") == 0)
			m = tl_ev_u64(&ev[i], "next") > m ? tl_ev_u64(&ev[i], "next") : m;
	free(ev);
	if (ret_n)
		*ret_n = n;
	return m;
}

static void test_sigkill_mid_upload_then_restart_resumes_from_device_offset(void **state)
{
	struct tl_otad d;
	struct tl_sim sim;
	const char *extra[] = {"--speed", SPEED, NULL};
	const char *img = tl_mkimage("resume.bin", "4.0.0", "96k");
	struct tl_event *ev = NULL;
	size_t n = 0;
	unsigned from_zero = 0, resumed = 0;
	char *out = NULL;

	assert_int_equal(sim_start(&sim, "resume", extra), 0);
	start_otad(&d, "resume", NULL);
	{
		char addr[700];
		char *argv[] = {"busctl",      addr,	     "call",
				"org.otad1",   "/org/otad1", "org.otad1.Manager1",
				"StartUpdate", "ssa{sv}",    sim.spec,
				(char *)img,   "1",	     "rate",
				"u",	       "16384",	     NULL};

		snprintf(addr, sizeof(addr), "--address=%s", bus.address);
		assert_int_equal(tl_run(argv, tl_timeout(20000), NULL, NULL), 0);
	}
	for (int i = 0; i < tl_timeout(30000) / 20 && max_upload_next(&sim, NULL) < 32768; i++)
		usleep(20000);
	assert_true(max_upload_next(&sim, NULL) >= 32768);
	tl_otad_kill9(&d); /* mid-upload, no chance to save anything */
	assert_true(max_upload_next(&sim, NULL) < 96 * 1024);
	restart_otad(&d, NULL);
	assert_int_equal(otactl(&out, NULL, "watch", "1", NULL), 0);
	assert_true(tl_contains(out, "done: device runs 4.0.0"));
	free(out);
	/* the device saw one upload start (off 0 answered with the first chunk's end) and, after
	 * the restart, chunk 0 again answered with where it was: a resume, not a restart */
	assert_int_equal(tl_trace_load(sim.trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ev[i].name, "upload") != 0 || tl_ev_u64(&ev[i], "off") != 0)
			continue;
		if (tl_ev_u64(&ev[i], "next") >= 32768)
			resumed++;
		else
			from_zero++;
	}
	free(ev);
	assert_int_equal(from_zero, 1);
	assert_int_equal(resumed, 1);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_otad_stop(&d), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* A refusal is remembered before the retry runs: otad killed during the retry resumes it one
 * request at a time, below the refused pace, and the device refuses nothing more. */
static void test_sigkill_during_retry_after_refusal_stays_sequential(void **state)
{
	struct tl_otad d;
	struct tl_sim sim;
	const char *extra[] = {"--speed", SPEED, "--profile", "spi-lp-overrun", NULL};
	const char *img = tl_mkimage("refused.bin", "4.1.0", "64k");
	struct tl_event *ev = NULL;
	size_t n = 0;
	unsigned refused = 0, starts = 0, after = 0;
	char *out = NULL;

	assert_int_equal(sim_start(&sim, "refusing", extra), 0);
	start_otad(&d, "refusing", NULL);
	{
		char addr[700];
		char *argv[] = {"busctl",      addr,	     "call",
				"org.otad1",   "/org/otad1", "org.otad1.Manager1",
				"StartUpdate", "ssa{sv}",    sim.spec,
				(char *)img,   "1",	     "retries",
				"u",	       "2",	     NULL};

		snprintf(addr, sizeof(addr), "--address=%s", bus.address);
		assert_int_equal(tl_run(argv, tl_timeout(20000), NULL, NULL), 0);
	}
	/* the first attempt, adaptive from a fresh start, outruns the flash: wait for the
	 * refusal, then for the retry's first chunks, and kill otad in the middle of it */
	assert_int_equal(tl_sim_wait_event(&sim, "boot", "result", "refused", tl_timeout(60000)),
			 0);
	for (int i = 0; i < tl_timeout(30000) / 20 && after < 3; i++) {
		bool seen = false;

		usleep(20000);
		after = 0;
		assert_int_equal(tl_trace_load(sim.trace, &ev, &n), 0);
		for (size_t k = 0; k < n; k++) {
			seen |= strcmp(ev[k].name, "boot") == 0 && tl_ev_get(&ev[k], "result") &&
				strcmp(tl_ev_get(&ev[k], "result"), "refused") == 0;
			after += seen && strcmp(ev[k].name, "upload") == 0;
		}
		free(ev);
	}
	assert_true(after >= 3);
	tl_otad_kill9(&d);
	restart_otad(&d, NULL);
	assert_int_equal(otactl(&out, NULL, "watch", "1", NULL), 0);
	assert_true(tl_contains(out, "done: device runs 4.1.0"));
	free(out);
	assert_int_equal(tl_trace_load(sim.trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++) {
		const char *res = tl_ev_get(&ev[i], "result");

		if (strcmp(ev[i].name, "boot") == 0 && res && strcmp(res, "refused") == 0)
			refused++;
		if (strcmp(ev[i].name, "upload") != 0)
			continue;
		starts += tl_ev_u64(&ev[i], "off") == 0;
		if (refused)
			assert_int_equal(tl_ev_u64(&ev[i], "inflight"), 1);
	}
	free(ev);
	assert_int_equal(refused, 1);
	assert_true(starts >= 2); /* the first attempt, the retry (and its resume) */
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_otad_stop(&d), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* ---- SIGKILL while the device swaps --------------------------------------------------------- */

/* otad with a fleet file listing one device, answers timed out fast (0.5 s: three of them are
 * far shorter than the swap), polls only at start and after jobs. */
static void start_otad_listing(struct tl_otad *d, const char *name, const char *spec)
{
	char dir[600], st[700], ca[700], dev[800];

	snprintf(dir, sizeof(dir), "%s", tl_path(name));
	tl_write_file(dir, "otad.conf",
		      "[Daemon]\nPollInterval=0\n[Update]\nResponseTimeout=500ms\n");
	snprintf(dev, sizeof(dev), "[Device]\nName=%s\nTransport=%s\n", name, spec);
	snprintf(st, sizeof(st), "%s/fleet.d", dir);
	tl_write_file(st, "dev.conf", dev);
	snprintf(st, sizeof(st), "%s/state", dir);
	snprintf(ca, sizeof(ca), "%s/cache", dir);
	assert_int_equal(tl_otad_start(d, bus.address, dir, st, ca, NULL), 0);
	tl_track(d->proc.pid);
	tl_track(d->drain_pid);
}

/* `fleet status` until its line for the device has want (and not unreachable), at most ms. */
static bool fleet_status_shows(const char *want, int ms)
{
	for (int i = 0; i < tl_timeout(ms) / 100; i++) {
		char *out = NULL;
		bool ok = otactl(&out, NULL, "fleet", "status", NULL) == 0 && tl_contains(out, want) &&
			  !tl_contains(out, "unreachable");

		free(out);
		if (ok)
			return true;
		usleep(100000);
	}
	return false;
}

static void start_update_busctl(const char *device, const char *img)
{
	char addr[700];
	char *argv[] = {"busctl",
			"--address",
			addr,
			"call",
			"org.otad1",
			"/org/otad1",
			"org.otad1.Manager1",
			"StartUpdate",
			"ssa{sv}",
			(char *)device,
			(char *)img,
			"0",
			NULL};

	snprintf(addr, sizeof(addr), "%s", bus.address);
	assert_int_equal(tl_run(argv, tl_timeout(20000), NULL, NULL), 0);
}

/* The device swaps for seconds after the reset and answers nothing meanwhile: an otad killed
 * then must, once restarted, wait out the rest of the boot timeout and confirm the image (not
 * take the silence for a failure and leave it unconfirmed, to be reverted at the next reset). */
static void test_sigkill_during_boot_then_restart_confirms_the_image(void **state)
{
	struct tl_otad d;
	struct tl_sim sim;
	/* spi-lp at 4x: a 128 KiB image swaps in about 3 s */
	const char *extra[] = {"--speed", "4", "--profile", "spi-lp", NULL};
	const char *img = tl_mkimage("booting.bin", "5.0.0", "128k");
	char *out = NULL;

	assert_int_equal(sim_start(&sim, "booting", extra), 0);
	start_otad_listing(&d, "booting", sim.spec);
	assert_true(fleet_status_shows("1.0.0", 10000));
	start_update_busctl("booting", img);
	assert_int_equal(tl_sim_wait_event(&sim, "reset", "cause", "command", tl_timeout(60000)),
			 0);
	tl_otad_kill9(&d); /* the device is swapping now, for seconds */
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 0);
	restart_otad(&d, NULL);
	assert_int_equal(otactl(&out, NULL, "watch", "1", NULL), 0);
	assert_true(tl_contains(out, "done: device runs 5.0.0"));
	assert_true(tl_contains(out, "confirmed"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", "result", "confirm"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "reset", NULL, NULL), 1);
	assert_true(fleet_status_shows("5.0.0", 10000));
	assert_int_equal(tl_otad_stop(&d), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
	/* and MCUboot keeps it: no revert at the next power-on */
	assert_int_equal(sim_start(&sim, "booting", extra), 0);
	assert_int_equal(otactl(&out, NULL, "-t", sim.spec, "image", "list", NULL), 0);
	assert_true(tl_contains(out, "version: 5.0.0"));
	assert_true(tl_contains(out, "flags: bootable confirmed active"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* Job1's Wait property says boot within a few seconds, WaitLimit is limit and WaitElapsed
 * below it. */
static bool job_waits_for_boot(unsigned id, uint64_t limit)
{
	char addr[700], path[64], *out = NULL;
	char *argv[] = {"busctl", "--address",	    addr,   "get-property", "org.otad1",
			path,	  "org.otad1.Job1", "Wait", "WaitElapsed",  "WaitLimit",
			NULL};
	unsigned long long elapsed = 0, lim = 0;
	bool ok = false;

	snprintf(addr, sizeof(addr), "%s", bus.address);
	snprintf(path, sizeof(path), "/org/otad1/job/%u", id);
	for (int i = 0; i < tl_timeout(10000) / 100 && !ok; i++) {
		ok = tl_run(argv, tl_timeout(10000), &out, NULL) == 0 &&
		     sscanf(out, "s \"boot\"\nt %llu\nt %llu", &elapsed, &lim) == 2;
		free(out);
		if (!ok)
			usleep(100000);
	}
	return ok && lim == limit && elapsed < lim;
}

/* otad killed at the reset, and the device's port closed (its process stopped) while otad comes
 * back: the resumed boot wait hears nothing but ICMP port unreachable from a transport that has
 * heard nothing yet. That is a device rebooting, waited for within the boot timeout, not a "nothing
 * listens" failure; once the device is back its image is confirmed. */
static void test_sigkill_at_reset_then_refusals_during_the_resumed_boot_wait(void **state)
{
	struct tl_otad d;
	struct tl_sim sim;
	char port[64], *out = NULL;
	/* in real time: the swap lasts long enough (about 1 s) to be cut short by the stop */
	const char *extra[] = {"--speed", "1", "--profile", "lan", NULL};
	const char *again[] = {"--speed", "1", "--profile", "lan", "--udp", port, NULL};
	const char *verbose[] = {"-v", NULL};
	const char *img = tl_mkimage("closed.bin", "5.1.0", "32k");
	bool refused = false;

	assert_int_equal(sim_start(&sim, "closed", extra), 0);
	snprintf(port, sizeof(port), "%.63s", sim.spec + strlen("udp:"));
	start_otad_listing(&d, "closed", sim.spec);
	assert_true(fleet_status_shows("1.0.0", 10000));
	start_update_busctl("closed", img);
	assert_int_equal(tl_sim_wait_event(&sim, "reset", "cause", "command", tl_timeout(30000)),
			 0);
	tl_otad_kill9(&d);
	assert_int_equal(tl_sim_stop(&sim), 0); /* nothing listens on its port now */
	restart_otad(&d, verbose);
	/* -v: otad logs what the transport ignored, the refusals among it */
	for (int i = 0; i < tl_timeout(20000) / 50 && !refused; i++) {
		char *log = tl_read_file(d.proc.err_path);

		refused = log && tl_contains(log, "ICMP port unreachable");
		free(log);
		if (!refused)
			usleep(50000);
	}
	assert_true(refused);
	/* the job reports its wait: the boot, and the timeout in force (60 s for 32 KiB) */
	assert_true(job_waits_for_boot(1, 60 * 1000000ULL));
	assert_int_equal(sim_start(&sim, "closed", again), 0);
	assert_int_equal(otactl(&out, NULL, "watch", "1", NULL), 0);
	assert_true(tl_contains(out, "done: device runs 5.1.0"));
	assert_true(tl_contains(out, "confirmed"));
	free(out);
	/* power came back mid-swap: MCUboot finished it, nothing was refused or uploaded again */
	assert_int_equal(tl_sim_count_events(&sim, "boot", "resumed", "1"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_sim_count_events(&sim, "upload", NULL, NULL), 0);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", "result", "confirm"), 1);
	assert_int_equal(otactl(&out, NULL, "-t", sim.spec, "image", "list", NULL), 0);
	assert_true(tl_contains(out, "version: 5.1.0"));
	assert_true(tl_contains(out, "flags: bootable confirmed active"));
	free(out);
	assert_int_equal(tl_otad_stop(&d), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* A listed device that did not answer is polled again soon, not only at the next PollInterval=
 * (here none): fleet status stops saying unreachable once it answers. */
static void test_unreachable_device_is_polled_again_until_it_answers(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char udp[64], spec[80], *out = NULL;
	const char *extra[] = {"--speed", SPEED, "--udp", udp, NULL};
	struct tl_otad d;
	struct tl_sim sim;

	/* an address nothing answers at yet: the kernel's pick for a socket, closed again */
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	snprintf(udp, sizeof(udp), "127.0.0.1:%u", ntohs(a.sin_port));
	snprintf(spec, sizeof(spec), "udp:%s", udp);
	start_otad_listing(&d, "late", spec);
	for (int i = 0; i < tl_timeout(10000) / 100; i++) {
		bool seen;

		assert_int_equal(otactl(&out, NULL, "fleet", "status", NULL), 0);
		seen = tl_contains(out, "unreachable");
		free(out);
		if (seen)
			break;
		usleep(100000);
	}
	assert_int_equal(sim_start(&sim, "late", extra), 0);
	assert_true(fleet_status_shows("1.0.0", 15000));
	assert_int_equal(tl_otad_stop(&d), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* ---- cancel, listing, introspection, sd_notify -------------------------------------------- */

static void test_cancel_listing_introspection_and_notify(void **state)
{
	struct tl_otad d;
	struct tl_sim sim;
	const char *extra[] = {"--speed", SPEED, NULL};
	const char *img = tl_mkimage("cancel.bin", "5.0.0", "64k");
	char addr[700], *out = NULL, *err = NULL;

	assert_int_equal(sim_start(&sim, "cancel", extra), 0);
	setenv("WATCHDOG_USEC", "400000", 1);
	start_otad(&d, "cancel", NULL);
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(tl_otad_wait_notify(&d, "WATCHDOG=1", tl_timeout(5000)), 0);
	assert_true(tl_contains(d.notes, "STATUS=0 jobs running"));
	snprintf(addr, sizeof(addr), "--address=%s", bus.address);
	{
		char *argv[] = {"busctl",      addr,	     "call",
				"org.otad1",   "/org/otad1", "org.otad1.Manager1",
				"StartUpdate", "ssa{sv}",    sim.spec,
				(char *)img,   "2",	     "rate",
				"u",	       "4096",	     "window",
				"u",	       "1",	     NULL};

		assert_int_equal(tl_run(argv, tl_timeout(20000), NULL, NULL), 0);
	}
	assert_int_equal(tl_sim_wait_event(&sim, "upload", NULL, NULL, tl_timeout(20000)), 0);
	assert_int_equal(tl_otad_wait_notify(&d, "STATUS=1 job running", tl_timeout(5000)), 0);
	assert_int_equal(otactl(&out, NULL, "jobs", NULL), 0);
	assert_true(tl_contains(out, "running"));
	free(out);
	{
		char *argv[] = {"busctl",	    addr, "introspect", "org.otad1",
				"/org/otad1/job/1", NULL};

		assert_int_equal(tl_run(argv, tl_timeout(20000), &out, NULL), 0);
		assert_true(tl_contains(out, "org.otad1.Job1"));
		assert_true(tl_contains(out, ".BytesSent"));
		assert_true(tl_contains(out, ".Cancel"));
		free(out);
	}
	{
		char *argv[] = {"busctl", addr, "tree", "org.otad1", NULL};

		assert_int_equal(tl_run(argv, tl_timeout(20000), &out, NULL), 0);
		assert_true(tl_contains(out, "/org/otad1/job/1"));
		assert_true(tl_contains(out, "/org/otad1/device/"));
		free(out);
	}
	/* a second job for a busy device: refused, exit 12 (otactl(1)) */
	assert_int_equal(otactl(&out, &err, "upload", sim.spec, img, NULL), 12);
	assert_true(tl_contains(err, "has job /org/otad1/job/1"));
	free(out);
	free(err);
	assert_int_equal(otactl(&out, NULL, "cancel", "1", NULL), 0);
	free(out);
	assert_int_equal(otactl(&out, NULL, "watch", "1", NULL), 10);
	assert_true(tl_contains(out, "cancelled"));
	free(out);
	/* too late: exit 12, the job's end named; in JSON the same as an error object */
	assert_int_equal(otactl(&out, &err, "cancel", "1", NULL), 12);
	assert_string_equal(err, "otactl: cancel: job 1 already ended (cancelled): nothing to "
				 "cancel\n");
	free(out);
	free(err);
	assert_int_equal(otactl(&out, &err, "cancel", "1", "--json", NULL), 12);
	assert_string_equal(out,
			    "{\"error\":{\"class\":\"conflict\",\"message\":\"cancel: job 1 "
			    "already ended (cancelled): nothing to cancel\",\"exit_code\":12}}\n");
	free(out);
	free(err);
	assert_int_equal(otactl(&out, &err, "watch", "77", NULL), 2);
	assert_string_equal(err, "otactl: no job 77\n");
	free(out);
	free(err);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", NULL, NULL), 0);
	assert_int_equal(tl_otad_stop(&d), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_bad_requests_get_named_errors(void **state)
{
	struct tl_otad d;
	char addr[700], *out = NULL, *err = NULL;

	start_otad(&d, "errors", NULL);
	snprintf(addr, sizeof(addr), "--address=%s", bus.address);
	{
		char *argv[] = {"busctl",      addr,	     "call",
				"org.otad1",   "/org/otad1", "org.otad1.Manager1",
				"StartUpdate", "ssa{sv}",    "nosuch",
				"/x.bin",      "0",	     NULL};

		assert_int_not_equal(tl_run(argv, tl_timeout(20000), &out, &err), 0);
		assert_true(tl_contains(err, "no device 'nosuch'"));
		free(out);
		free(err);
	}
	{
		char *argv[] = {"busctl",
				addr,
				"call",
				"org.otad1",
				"/org/otad1",
				"org.otad1.Manager1",
				"StartUpdate",
				"ssa{sv}",
				"udp:127.0.0.1:9",
				"http://127.0.0.1/x.bin",
				"0",
				NULL};

		assert_int_not_equal(tl_run(argv, tl_timeout(20000), &out, &err), 0);
		assert_true(tl_contains(err, "plain http is refused"));
		free(out);
		free(err);
	}
	{
		char *argv[] = {"busctl",      addr,	     "call",
				"org.otad1",   "/org/otad1", "org.otad1.Manager1",
				"StartUpdate", "ssa{sv}",    "udp:127.0.0.1:9",
				"/x.bin",      "1",	     "colour",
				"s",	       "red",	     NULL};

		assert_int_not_equal(tl_run(argv, tl_timeout(20000), &out, &err), 0);
		assert_true(tl_contains(err, "unknown option 'colour'"));
		free(out);
		free(err);
	}
	/* a rate below otactl's --rate floor, as the command line and the fleet files refuse it */
	for (unsigned i = 0; i < 2; i++) {
		char *argv[] = {"busctl",
				addr,
				"call",
				"org.otad1",
				"/org/otad1",
				"org.otad1.Manager1",
				"StartUpdate",
				"ssa{sv}",
				"udp:127.0.0.1:9",
				"/x.bin",
				"1",
				"rate",
				"u",
				i ? "512" : "511",
				NULL};

		assert_int_not_equal(tl_run(argv, tl_timeout(20000), &out, &err), 0);
		assert_true(
			i ? !tl_contains(err, "rate")
			  : tl_contains(err,
					"rate: 0 (unlimited) or at least 512 bytes/s, not 511"));
		free(out);
		free(err);
	}
	assert_int_equal(otactl(&out, &err, "upload", "nosuch", "/etc/hostname", NULL), 2);
	free(out);
	free(err);
	assert_int_equal(tl_otad_stop(&d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_update_started_with_otactl_ends_in_verified_boot,
					  tl_reap_tracked),
		cmocka_unit_test_teardown(
			test_update_started_with_busctl_reports_progress_by_signal,
			tl_reap_tracked),
		cmocka_unit_test_teardown(
			test_sigkill_mid_upload_then_restart_resumes_from_device_offset,
			tl_reap_tracked),
		cmocka_unit_test_teardown(test_sigkill_during_retry_after_refusal_stays_sequential,
					  tl_reap_tracked),
		cmocka_unit_test_teardown(test_sigkill_during_boot_then_restart_confirms_the_image,
					  tl_reap_tracked),
		cmocka_unit_test_teardown(
			test_sigkill_at_reset_then_refusals_during_the_resumed_boot_wait,
			tl_reap_tracked),
		cmocka_unit_test_teardown(test_unreachable_device_is_polled_again_until_it_answers,
					  tl_reap_tracked),
		cmocka_unit_test_teardown(test_cancel_listing_introspection_and_notify,
					  tl_reap_tracked),
		cmocka_unit_test_teardown(test_bad_requests_get_named_errors, tl_reap_tracked),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
