/* test-ble.c — otactl and otasim over emulated Bluetooth LE (BlueZ's btvirt): scan, the whole
 * verified update (reset and re-found re-advertising device included), a link lost mid-upload
 * resumed at the device's offset, a device reboot mid-upload, MTU 23 and a negotiated MTU, and
 * the errors of a wrong controller or an absent device with their exit codes. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/btvirt.h"
#include "lib/hcirelay.h"
#include "lib/simctl.h"
#include "lib/testlib.h"
#include "util/macro.h"

#define SPEED "20" /* model 20x real time */

struct fx {
	struct btvirt bv;
	struct hci_relay relay;
	struct tl_sim sim;
	bool sim_running;
};

static int setup(void **state)
{
	struct fx *f;
	int r;

	if (!btvirt_available())
		skip();
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	r = btvirt_start(&f->bv);
	if (r < 0)
		fail_msg("btvirt: %s (log %s)", strerror(-r), f->bv.log);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	if (f->sim_running)
		tl_sim_stop(&f->sim);
	hci_relay_stop(&f->relay);
	btvirt_stop(&f->bv);
	free(f);
	return tl_reap_tracked(state);
}

static void start_sim(struct fx *f, const char *name, const char *const *extra)
{
	assert_int_equal(tl_sim_start_ble(&f->sim, name, f->bv.spec, extra), 0);
	f->sim_running = true;
}

static void stop_sim(struct fx *f)
{
	f->sim_running = false;
	assert_int_equal(tl_sim_stop(&f->sim), 0);
}

/* otactl ARGS... (NULL-terminated); exit code, stdout and stderr (may be NULL). */
static int otactl(char **out, char **err, ...)
{
	const char *argv[40];
	unsigned n = 0;
	char *e = NULL;
	va_list ap;
	int r;

	argv[n++] = tl_bin("otactl");
	va_start(ap, err);
	for (const char *a; (a = va_arg(ap, const char *)) && n < 38;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	r = tl_run((char *const *)argv, 120000, out, &e);
	if (e && *e && !err)
		fprintf(stderr, "otactl stderr: %s\n", e);
	if (err)
		*err = e;
	else
		free(e);
	return r;
}

static unsigned count(const struct tl_sim *s, const char *name, const char *key, const char *val)
{
	return (unsigned)tl_sim_count_events((struct tl_sim *)s, name, key, val);
}

static void test_scan_lists_the_peripheral_with_its_smp_service(void **state)
{
	struct fx *f = *state;
	char *out = NULL, want[128];

	start_sim(f, "otasim-scan", NULL);
	assert_int_equal(
		otactl(&out, NULL, "--hci", f->bv.spec, "scan", "--timeout", "500ms", NULL), 0);
	snprintf(want, sizeof(want), "%s  public     -  yes  otasim-scan", f->sim.ble_addr);
	assert_true(tl_contains(out, "ADDRESS            TYPE    RSSI  SMP  NAME"));
	assert_true(tl_contains(out, want));
	free(out);
	assert_int_equal(otactl(&out, NULL, "--hci", f->bv.spec, "scan", "--timeout", "500ms",
				"--json", NULL),
			 0);
	snprintf(want, sizeof(want),
		 "{\"address\":\"%s\",\"type\":\"public\",\"name\":\"otasim-scan\",\"rssi\":null,"
		 "\"smp\":true,\"connectable\":true}",
		 f->sim.ble_addr);
	assert_true(tl_contains(out, want));
	free(out);
}

static void test_update_over_ble_ends_in_verified_confirmed_boot(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--speed", SPEED, NULL};
	const char *img = tl_mkimage("ble-v2.bin", "2.0.0", "40k");
	char spec[64], *out = NULL, *log;

	start_sim(f, "otasim-upd", extra);
	assert_int_equal(
		otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "update", img, NULL), 0);
	assert_true(tl_contains(out, "done: device runs 2.0.0"));
	assert_true(tl_contains(out, "confirmed"));
	free(out);
	/* MCUboot swapped at the reset; the device was found again advertising after it and the
	 * image confirmed over the new connection */
	assert_int_equal(count(&f->sim, "boot", "result", "swap-test"), 1);
	assert_int_equal(count(&f->sim, "reset", "cause", "command"), 1);
	assert_int_equal(count(&f->sim, "state-write", "result", "confirm"), 1);
	/* by address too, with $OTACTL_HCI */
	snprintf(spec, sizeof(spec), "ble:%s/public", f->sim.ble_addr);
	setenv("OTACTL_HCI", f->bv.spec, 1);
	assert_int_equal(otactl(&out, NULL, "-t", spec, "image", "list", NULL), 0);
	unsetenv("OTACTL_HCI");
	assert_true(tl_contains(out, "version: 2.0.0"));
	assert_true(tl_contains(out, "flags: bootable confirmed active"));
	free(out);
	stop_sim(f);
	log = tl_proc_stderr(&f->sim.proc);
	assert_true(tl_contains(log, "ble: notifications enabled (ATT MTU 498)"));
	free(log);
}

/* The first upload event after the link was lost: a resume (off 0 answered with the device's
 * offset), and nothing written twice. */
static void assert_resumed_after_disconnect(const struct tl_sim *s)
{
	struct tl_event *ev;
	size_t n, i, writes_at_0 = 0;
	bool after = false, checked = false;

	assert_int_equal(tl_trace_load(s->trace, &ev, &n), 0);
	for (i = 0; i < n; i++) {
		const char *res = tl_ev_get(&ev[i], "result");

		if (!strcmp(ev[i].name, "disconnect") && tl_ev_get(&ev[i], "cause") &&
		    !strcmp(tl_ev_get(&ev[i], "cause"), "fault"))
			after = true;
		if (strcmp(ev[i].name, "upload") != 0)
			continue;
		if (tl_ev_u64(&ev[i], "off") == 0 && res && !strcmp(res, "ok"))
			writes_at_0++;
		if (after && !checked) {
			checked = true;
			assert_int_equal(tl_ev_u64(&ev[i], "off"), 0);
			assert_string_equal(res, "ignored");
			assert_true(tl_ev_u64(&ev[i], "next") > 16000);
		}
	}
	free(ev);
	assert_true(checked);
	assert_int_equal(writes_at_0, 1); /* never started again from 0 */
}

static void test_link_lost_mid_upload_resumes_at_the_devices_offset(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--speed", SPEED, "--disconnect-at", "16000", NULL};
	const char *img = tl_mkimage("ble-disc.bin", "3.0.0", "40k");
	char *out = NULL;

	start_sim(f, "otasim-disc", extra);
	assert_int_equal(otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "update", img,
				"-v", NULL),
			 0);
	assert_true(tl_contains(out, "lost (Connection reset by peer); reconnecting"));
	assert_true(tl_contains(out, "done: device runs 3.0.0"));
	assert_false(tl_contains(out, "lost the upload"));
	free(out);
	assert_int_equal(count(&f->sim, "disconnect", "cause", "fault"), 1);
	assert_true(count(&f->sim, "drop", "reason", "disconnect") >= 1);
	assert_resumed_after_disconnect(&f->sim);
	assert_int_equal(count(&f->sim, "boot", "result", "swap-test"), 1);
}

static unsigned count_first_chunks_written(const struct tl_sim *s)
{
	struct tl_event *ev;
	size_t n;
	unsigned c = 0;

	assert_int_equal(tl_trace_load(s->trace, &ev, &n), 0);
	for (size_t i = 0; i < n; i++) {
		const char *res = tl_ev_get(&ev[i], "result");

		c += !strcmp(ev[i].name, "upload") && tl_ev_u64(&ev[i], "off") == 0 && res &&
		     !strcmp(res, "ok");
	}
	free(ev);
	return c;
}

static void test_device_reboot_mid_upload_restarts_from_zero(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--speed", SPEED, "--reboot-at", "12000", NULL};
	const char *img = tl_mkimage("ble-reboot.bin", "3.1.0", "32k");
	char *out = NULL;

	start_sim(f, "otasim-reboot", extra);
	assert_int_equal(otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "update", img,
				"-v", NULL),
			 0);
	assert_true(tl_contains(out, "lost (Host is down); reconnecting")); /* 0x15 power off */
	assert_true(tl_contains(out, "done: device runs 3.1.0"));
	free(out);
	assert_int_equal(count(&f->sim, "upload", "result", "reboot"), 1);
	/* the device forgot the upload: the first chunk after the reconnect opened a new one */
	assert_int_equal(count_first_chunks_written(&f->sim), 2);
	/* the reboot dropped the link; at the reset command the client had hung up already */
	assert_int_equal(count(&f->sim, "disconnect", "cause", "reset"), 1);
}

static void test_mtu_23_carries_packets_in_many_writes_and_notifications(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--speed", SPEED, "--att-mtu", "23", NULL};
	const char *img = tl_mkimage("ble-mtu.bin", "4.0.0", "12k");
	char *out = NULL, *log;

	start_sim(f, "otasim-mtu23", extra);
	/* 2475-byte requests: 124 Write Commands each; the image list answer: several
	 * notifications of 20 bytes */
	assert_int_equal(
		otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "update", img, NULL), 0);
	assert_true(tl_contains(out, "done: device runs 4.0.0"));
	free(out);
	assert_int_equal(
		otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "image", "list", NULL),
		0);
	assert_true(tl_contains(out, "version: 4.0.0"));
	free(out);
	assert_int_equal(count(&f->sim, "drop", NULL, NULL), 0);
	stop_sim(f);
	log = tl_proc_stderr(&f->sim.proc);
	assert_true(tl_contains(log, "ble: notifications enabled (ATT MTU 23)"));
	assert_false(tl_contains(log, "write dropped"));
	free(log);
}

static void test_wrong_controller_and_absent_device_exit_codes(void **state)
{
	struct fx *f = *state;
	const char *img = tl_mkimage("ble-none.bin", "5.0.0", "8k");
	char missing[300], *out = NULL, *err = NULL;

	/* no controller at all, or not a controller spec: usage (2) */
	assert_int_equal(otactl(&out, &err, "-t", "ble:name=x", "echo", "hi", NULL), 2);
	assert_true(tl_contains(err, "BLE needs a controller: give --hci SPEC or $OTACTL_HCI"));
	free(out);
	free(err);
	assert_int_equal(
		otactl(&out, &err, "--hci", "bogus:x", "-t", "ble:name=x", "echo", "hi", NULL), 2);
	assert_true(tl_contains(err, "--hci 'bogus:x' is not a controller spec"));
	free(out);
	free(err);
	assert_int_equal(otactl(&out, &err, "--hci", "tcp:nohost", "scan", NULL), 2);
	free(out);
	free(err);
	assert_int_equal(
		otactl(&out, &err, "--hci", f->bv.spec, "-t", "ble:00:11:22", "echo", "hi", NULL),
		2);
	free(out);
	free(err);
	/* a controller that is not there: link (4), named */
	snprintf(missing, sizeof(missing), "unix:%s/no-controller", tl_tmpdir());
	assert_int_equal(
		otactl(&out, &err, "--hci", missing, "-t", "ble:name=x", "echo", "hi", NULL), 4);
	assert_true(tl_contains(err, "cannot reach ble:name=x: controller unix:"));
	assert_true(tl_contains(err, "No such file or directory"));
	free(out);
	free(err);
	assert_int_equal(otactl(&out, &err, "--hci", missing, "scan", NULL), 4);
	assert_true(tl_contains(err, "cannot open the controller unix:"));
	free(out);
	free(err);
	/* no such device: link (4) after --connect-timeout, for one-shot commands and update */
	assert_int_equal(otactl(&out, &err, "--hci", f->bv.spec, "-t", "ble:name=nobody",
				"--connect-timeout", "300ms", "echo", "hi", NULL),
			 4);
	assert_true(tl_contains(err, "cannot reach ble:name=nobody: not seen advertising the SMP "
				     "service within 0.3 s"));
	free(out);
	free(err);
	assert_int_equal(otactl(&out, NULL, "--hci", f->bv.spec, "-t", "ble:C0:11:22:33:44:55",
				"--connect-timeout", "300ms", "update", img, NULL),
			 4);
	assert_true(tl_contains(out, "failed (link, during connect): cannot reach "
				     "ble:C0:11:22:33:44:55: not seen advertising within 0.3 s"));
	free(out);
}

/* How many links otasim saw end. */
static unsigned disconnects_logged(const struct tl_sim *s)
{
	char *log = tl_proc_stderr(&s->proc);
	unsigned n = 0;

	for (const char *p = log; p && (p = strstr(p, "ble: disconnected: ")); p++)
		n++;
	free(log);
	return n;
}

/* The device heard its n-th link end (within a bound): it advertises again. */
static void wait_disconnects(const struct tl_sim *s, unsigned n)
{
	for (int ms = 0; disconnects_logged(s) < n; ms += 10) {
		if (ms > tl_timeout(3000))
			fail_msg("command %u: the device never heard its link end: it stays "
				 "connected to nobody (%u disconnections logged)",
				 n, disconnects_logged(s));
		usleep(10000);
	}
}

/* Short commands one after the other, through a controller that drops a Disconnect still
 * pending when its host closes: each one ends its link before otactl exits, so the device
 * advertises again and the next command finds it. */
static void test_short_commands_in_a_row_each_find_the_device_advertising(void **state)
{
	struct fx *f = *state;
	char *out = NULL, *err = NULL;

	start_sim(f, "otasim-row", NULL);
	assert_int_equal(hci_relay_start(&f->relay, f->bv.spec, 50), 0);
	for (unsigned i = 0; i < 20; i++) {
		int r = i % 2 ? otactl(&out, &err, "--hci", f->relay.spec, "-t", f->sim.spec,
				       "--connect-timeout", "3s", "image", "list", NULL)
			      : otactl(&out, &err, "--hci", f->relay.spec, "-t", f->sim.spec,
				       "--connect-timeout", "3s", "echo", "again", NULL);

		if (r != 0)
			fail_msg("command %u: exit %d: %s", i + 1, r, err);
		assert_true(tl_contains(out, i % 2 ? "version: 1.0.0" : "again\n"));
		free(out);
		free(err);
		wait_disconnects(&f->sim, i + 1);
	}
	/* every Disconnect reached the device, none was lost with otactl's hangup */
	assert_int_equal(hci_relay_count(&f->relay, "forwarded"), 20);
	assert_int_equal(hci_relay_count(&f->relay, "dropped"), 0);
}

/* SIGTERM during echo, SIGINT during an upload, each while the device holds the request (its
 * answer is lost): otactl exits "cancelled" after ending its link, and the next command finds
 * the device. */
static void test_interrupted_commands_leave_the_device_advertising(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--drop-response", "1,2", NULL};
	const char *img = tl_mkimage("ble-int.bin", "2.1.0", "24k");
	char *echo_argv[] = {NULL,	  "--hci", f->relay.spec, "-t",	  "ble:name=otasim-int",
			     "--timeout", "20s",   "echo",	  "lost", NULL};
	char *upload_argv[] = {NULL,	    "--hci", f->relay.spec, "-t",     "ble:name=otasim-int",
			       "--timeout", "20s",   "image",	    "upload", (char *)img,
			       NULL};
	char *out = NULL, *err = NULL;

	start_sim(f, "otasim-int", extra);
	assert_int_equal(hci_relay_start(&f->relay, f->bv.spec, 50), 0);
	echo_argv[0] = upload_argv[0] = (char *)tl_bin("otactl");
	for (unsigned i = 0; i < 2; i++) {
		struct tl_proc ctl;

		assert_int_equal(tl_spawn(&ctl, i ? upload_argv : echo_argv), 0);
		tl_track(ctl.pid);
		for (int ms = 0; count(&f->sim, "drop", "reason", "fault") < i + 1; ms += 10) {
			assert_true(ms < tl_timeout(10000));
			usleep(10000);
		}
		tl_proc_kill(&ctl, i ? SIGINT : SIGTERM);
		assert_int_equal(tl_proc_wait(&ctl, tl_timeout(10000)), 10); /* cancelled */
		err = tl_proc_stderr(&ctl);
		assert_true(i || tl_contains(err, "echo: interrupted"));
		free(err);
		wait_disconnects(&f->sim, i + 1);
	}
	assert_int_equal(otactl(&out, &err, "--hci", f->relay.spec, "-t", f->sim.spec,
				"--connect-timeout", "3s", "echo", "found", NULL),
			 0);
	assert_string_equal(out, "found\n");
	free(out);
	free(err);
	assert_int_equal(hci_relay_count(&f->relay, "dropped"), 0);
}

/* otasim is told to stop (SIGTERM) just as its controller goes away with a link up: letting go
 * of the link at shutdown finds the controller dead, and that is logged through the device
 * model, which must still be there. The simulator is frozen while both happen, so the SIGTERM
 * is read before the controller's hangup, every time. */
static void test_otasim_exits_cleanly_when_the_controller_dies_at_shutdown(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--drop-response", "1", NULL}; /* otactl waits, connected */
	char *argv[] = {NULL,	     "--hci", f->bv.spec, "-t", "ble:name=otasim-down",
			"--timeout", "20s",   "echo",	  "hi", NULL};
	struct tl_proc ctl;
	char *log;

	argv[0] = (char *)tl_bin("otactl");
	start_sim(f, "otasim-down", extra);
	assert_int_equal(tl_spawn(&ctl, argv), 0);
	tl_track(ctl.pid);
	assert_int_equal(tl_sim_wait_event(&f->sim, "drop", "reason", "fault", tl_timeout(10000)),
			 0);
	tl_proc_kill(&f->sim.proc, SIGSTOP);
	tl_proc_kill(&f->sim.proc, SIGTERM);
	btvirt_stop(&f->bv);
	tl_proc_kill(&f->sim.proc, SIGCONT);
	f->sim_running = false;
	assert_int_equal(tl_proc_wait(&f->sim.proc, tl_timeout(20000)), 0);
	log = tl_proc_stderr(&f->sim.proc);
	assert_true(tl_contains(log, "ble: disconnected: 0x03 Hardware Failure"));
	free(log);
	assert_int_equal(tl_proc_wait(&ctl, tl_timeout(20000)), 4); /* its controller is gone too */
}

/* otasim ARGS... (NULL-terminated); exit code and stderr. */
static int otasim(char **err, ...)
{
	const char *argv[20];
	unsigned n = 0;
	va_list ap;

	argv[n++] = tl_bin("otasim");
	va_start(ap, err);
	for (const char *a; (a = va_arg(ap, const char *)) && n < 18;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return tl_run((char *const *)argv, 20000, NULL, err);
}

static void test_otasim_ble_options_are_checked(void **state)
{
	struct fx *f = *state;
	char missing[300], *err = NULL;

	assert_int_equal(otasim(&err, "--ble", NULL), 2);
	assert_true(tl_contains(err, "--ble needs a controller: --hci SPEC"));
	free(err);
	assert_int_equal(otasim(&err, "--udp", "127.0.0.1:0", "--hci", f->bv.spec, NULL), 2);
	assert_true(tl_contains(err, "need --ble"));
	free(err);
	assert_int_equal(otasim(&err, "--ble", "--hci", "tty:", NULL), 2);
	assert_true(tl_contains(err, "invalid --hci"));
	free(err);
	assert_int_equal(otasim(&err, "--ble", "--hci", f->bv.spec, "--att-mtu", "22", NULL), 2);
	free(err);
	assert_int_equal(otasim(&err, "--udp", "127.0.0.1:0", "--disconnect-at", "100", NULL), 2);
	free(err);
	snprintf(missing, sizeof(missing), "unix:%s/no-controller", tl_tmpdir());
	assert_int_equal(otasim(&err, "--ble", "--hci", missing, NULL), 1);
	assert_true(tl_contains(err, "--ble: controller unix:"));
	assert_true(tl_contains(err, "No such file or directory"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan_lists_the_peripheral_with_its_smp_service,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_update_over_ble_ends_in_verified_confirmed_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_link_lost_mid_upload_resumes_at_the_devices_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_reboot_mid_upload_restarts_from_zero,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_mtu_23_carries_packets_in_many_writes_and_notifications, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_wrong_controller_and_absent_device_exit_codes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_otasim_ble_options_are_checked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_otasim_exits_cleanly_when_the_controller_dies_at_shutdown, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_short_commands_in_a_row_each_find_the_device_advertising, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_interrupted_commands_leave_the_device_advertising, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
