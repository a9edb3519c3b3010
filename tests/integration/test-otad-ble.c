/* test-otad-ble.c — otad scanning over a BLE controller (BlueZ's btvirt): two otasim --ble
 * peripherals are heard and become Device1 objects with their advertised name, address and
 * LastSeen; the one a group matches by name glob is read over BLE and brought to the group's
 * version through a verified boot, the other is never connected to; Scan() answers at once; the
 * controller is lent to one user at a time (a scan waits for the BLE update) while a UDP member
 * of the same group is updated beside it; each BLE user lets go of its link before the next; a
 * device that needs encryption is paired by the first job and encrypted with the bond (in
 * STATE_DIR/bonds, mode 0600) by the next, after an otad restart; a bond store that does not
 * parse fails the job naming its line, and is left as it is. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "lib/btvirt.h"
#include "lib/hcirelay.h"
#include "lib/otadctl.h"
#include "lib/simctl.h"
#include "otad/bus-api.h"

#define SPEED "20"

struct fx {
	struct tl_dbus bus;
	struct btvirt bv;
	struct tl_sim sensor, other, udp;
	struct tl_otad otad;
	struct hci_relay relay;
	bool sensor_up, other_up, udp_up, otad_up;
};

static int setup(void **state)
{
	struct fx *f;
	int r;

	if (!btvirt_available())
		skip();
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	*state = f;
	assert_int_equal(tl_dbus_start(&f->bus), 0);
	r = btvirt_start(&f->bv);
	if (r < 0)
		fail_msg("btvirt: %s (log %s)", strerror(-r), f->bv.log);
	return 0;
}

/* What a failed test left running is stopped by pid (the fixture outlives the test). */
static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	if (f->otad_up)
		tl_otad_kill9(&f->otad);
	if (f->sensor_up)
		tl_sim_stop(&f->sensor);
	if (f->other_up)
		tl_sim_stop(&f->other);
	if (f->udp_up)
		tl_sim_stop(&f->udp);
	hci_relay_stop(&f->relay);
	btvirt_stop(&f->bv);
	tl_dbus_stop(&f->bus);
	free(f);
	return 0;
}

static unsigned count_of(const char *s, const char *needle)
{
	unsigned n = 0;

	for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static int otactl(struct fx *f, char **out, ...)
{
	const char *argv[40];
	char addr[700];
	unsigned n = 0;
	va_list ap;
	int r;

	snprintf(addr, sizeof(addr), "--bus-address=%s", f->bus.address);
	argv[n++] = tl_bin("otactl");
	argv[n++] = addr;
	va_start(ap, out);
	for (const char *a; (a = va_arg(ap, const char *)) && n < 38;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	r = tl_run((char *const *)argv, tl_timeout(60000), out, NULL);
	return r;
}

/* `otactl fleet status` until every needle is in it (or the deadline). */
static char *wait_fleet(struct fx *f, const char *const *needles, int timeout_ms)
{
	char *out = NULL;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		bool all = true;

		free(out);
		out = NULL;
		assert_int_equal(otactl(f, &out, "fleet", "status", NULL), 0);
		for (unsigned i = 0; needles[i]; i++)
			all = all && tl_contains(out, needles[i]);
		if (all)
			return out;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			break;
		usleep(300 * 1000);
	}
	fail_msg("fleet status never showed all of it:\n%s\notad said:\n%s", out,
		 tl_proc_stderr(&f->otad.proc));
	return NULL;
}

static sd_bus *connect_bus(struct fx *f)
{
	sd_bus *b = NULL;

	assert_int_equal(sd_bus_new(&b), 0);
	assert_true(sd_bus_set_address(b, f->bus.address) >= 0);
	assert_true(sd_bus_set_bus_client(b, 1) >= 0);
	assert_true(sd_bus_start(b) >= 0);
	return b;
}

static char *device_path(const char *name)
{
	char *p = NULL;

	assert_true(sd_bus_path_encode(OTAD_DEVICE_PATH_PREFIX, name, &p) >= 0);
	return p;
}

static char *get_string(sd_bus *b, const char *path, const char *prop)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *v = NULL;
	int r = sd_bus_get_property_string(b, OTAD_BUS_NAME, path, OTAD_DEVICE_IFACE, prop, &e, &v);

	if (r < 0)
		fail_msg("%s %s: %s", path, prop, e.message ? e.message : strerror(-r));
	return v;
}

static uint64_t get_u64(sd_bus *b, const char *path, const char *prop)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint64_t v = 0;

	assert_true(sd_bus_get_property_trivial(b, OTAD_BUS_NAME, path, OTAD_DEVICE_IFACE, prop, &e,
						't', &v) >= 0);
	return v;
}

static void start_sims(struct fx *f)
{
	const char *extra[] = {"--speed", SPEED, "--initial-version", "1.0.0", NULL};

	assert_int_equal(tl_sim_start_ble(&f->sensor, "sensor-1", f->bv.spec, extra), 0);
	f->sensor_up = true;
	assert_int_equal(tl_sim_start_ble(&f->other, "valve-1", f->bv.spec, extra), 0);
	f->other_up = true;
	assert_int_equal(tl_sim_start(&f->udp, "sensor-udp", "udp", extra), 0);
	f->udp_up = true;
}

static void start_otad(struct fx *f, const char *dir)
{
	const char *extra[] = {"--verbose", NULL}; /* the controller's lending is logged */
	char st[700], ca[700];

	snprintf(st, sizeof(st), "%s/state", dir);
	snprintf(ca, sizeof(ca), "%s/cache", dir);
	assert_int_equal(tl_otad_start(&f->otad, f->bus.address, dir, st, ca, extra), 0);
	f->otad_up = true;
}

/* From otad's log: the controller was never lent while lent (every "lent to" is followed by its
 * "given back" before the next), scans happened, and one had to wait for the BLE update. */
static void check_controller_lent_to_one(struct fx *f)
{
	char *log = tl_proc_stderr(&f->otad.proc), *line, *save = NULL;
	unsigned scans = 0, updates = 0;
	bool held = false;

	assert_non_null(log);
	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "controller: lent to ")) {
			if (held)
				fail_msg("lent twice: %s", line);
			held = true;
			scans += strstr(line, "lent to the scan") != NULL;
			updates += strstr(line, "lent to the update of sensor-1") != NULL;
		} else if (strstr(line, "controller: given back by ")) {
			assert_true(held);
			held = false;
		}
	}
	free(log);
	log = tl_proc_stderr(&f->otad.proc);
	assert_int_equal(updates, 1);
	assert_true(scans >= 2);
	assert_true(tl_contains(log, "controller: the scan waits for the update of sensor-1"));
	free(log);
}

static void test_scanned_device_matched_by_name_is_updated_other_left_alone(void **state)
{
	struct fx *f = *state;
	const char *dir = tl_path("ble-fleet"), *img = tl_mkimage("sensor2.bin", "2.0.0", "20k");
	char *sensor_path = device_path("sensor-1"), *other_path = device_path("valve-1");
	char conf[1500], *out, *v;
	sd_bus *b;

	start_sims(f);
	/* the scan has a controller of its own on the emulator (otasim has another) */
	snprintf(conf, sizeof(conf),
		 "[Daemon]\nController=%s\nScanInterval=500ms\nScanDuration=300ms\n"
		 "PollInterval=0\n",
		 f->bv.spec);
	tl_write_file(dir, "otad.conf", conf);
	/* a listed UDP member of the same group is updated beside the BLE one, never waiting */
	snprintf(conf, sizeof(conf),
		 "[Group]\nName=sensors\nVersion=2.0.0\nImage=%s\nMatchName=sensor-*\n"
		 "[Device]\nName=sensor-udp\nTransport=%s\n",
		 img, f->udp.spec);
	tl_write_file(dir, "fleet.d/sensors.conf", conf);
	start_otad(f, dir);
	{
		const char *want[] = {
			"sensors      sensor-1             2.0.0      2.0.0      current",
			"sensors      sensor-udp           2.0.0      2.0.0      current",
			"-            valve-1              ?          -          none", NULL};

		out = wait_fleet(f, want, tl_timeout(60000));
		free(out);
	}
	/* MCUboot swapped to the tested image and it was confirmed after the boot check */
	assert_int_equal(tl_sim_count_events(&f->sensor, "boot", "result", "swap-test"), 1);
	assert_true(tl_sim_count_events(&f->sensor, "state-write", NULL, NULL) >= 2);
	assert_int_equal(tl_sim_count_events(&f->udp, "boot", "result", "swap-test"), 1);
	/* the device no group matches was only heard: nothing ever asked it anything */
	assert_int_equal(tl_sim_count_events(&f->other, "rsp", NULL, NULL), 0);
	assert_int_equal(tl_sim_count_events(&f->other, "upload", NULL, NULL), 0);

	/* Device1 of each, from the advertisement */
	b = connect_bus(f);
	v = get_string(b, sensor_path, "Name");
	assert_string_equal(v, "sensor-1");
	free(v);
	v = get_string(b, sensor_path, "Address");
	assert_string_equal(v, f->sensor.ble_addr);
	free(v);
	v = get_string(b, sensor_path, "Group");
	assert_string_equal(v, "sensors");
	free(v);
	v = get_string(b, sensor_path, "Version");
	assert_string_equal(v, "2.0.0");
	free(v);
	v = get_string(b, other_path, "Address");
	assert_string_equal(v, f->other.ble_addr);
	free(v);
	v = get_string(b, other_path, "Verdict");
	assert_string_equal(v, "none");
	free(v);
	{
		sd_bus_error e = SD_BUS_ERROR_NULL;
		int16_t rssi = 1;
		uint64_t seen = get_u64(b, other_path, "LastSeen"), now;

		/* btvirt reports no RSSI: 0 = unknown */
		assert_true(sd_bus_get_property_trivial(b, OTAD_BUS_NAME, sensor_path,
							OTAD_DEVICE_IFACE, "RSSI", &e, 'n',
							&rssi) >= 0);
		assert_int_equal(rssi, 0);
		assert_true(seen > 0);
		/* Scan() answers at once; the scan after it hears valve-1 again */
		assert_true(sd_bus_call_method(b, OTAD_BUS_NAME, OTAD_MANAGER_PATH,
					       OTAD_MANAGER_IFACE, "Scan", &e, NULL, "") >= 0);
		for (int i = 0; i < tl_timeout(15000) / 100; i++) {
			now = get_u64(b, other_path, "LastSeen");
			if (now > seen)
				break;
			usleep(100 * 1000);
		}
		assert_true(now > seen);
	}
	sd_bus_flush_close_unref(b);

	/* otactl devices lists both with their BLE addresses */
	assert_int_equal(otactl(f, &out, "devices", NULL), 0);
	assert_true(tl_contains(out, "sensor-1"));
	assert_true(tl_contains(out, f->sensor.ble_addr));
	assert_true(tl_contains(out, "valve-1"));
	assert_true(tl_contains(out, f->other.ble_addr));
	free(out);
	assert_int_equal(otactl(f, &out, "jobs", "--json", NULL), 0);
	assert_true(tl_contains(out, "\"device\":\"sensor-1\""));
	assert_true(tl_contains(out, "\"device\":\"sensor-udp\""));
	assert_false(tl_contains(out, "valve-1"));
	assert_false(tl_contains(out, "failed"));
	free(out);

	f->otad_up = false;
	assert_int_equal(tl_otad_stop(&f->otad), 0);
	check_controller_lent_to_one(f);
	f->udp_up = f->sensor_up = f->other_up = false;
	assert_int_equal(tl_sim_stop(&f->udp), 0);
	assert_int_equal(tl_sim_stop(&f->sensor), 0);
	assert_int_equal(tl_sim_stop(&f->other), 0);
	free(sensor_path);
	free(other_path);
}

/* Each job lets go of its link before the controller is lent again: through a controller that
 * drops a Disconnect still pending when its host closes it (tests/lib/hcirelay.h), a job that
 * closed at once would leave the device connected to nobody, never advertising, and the next
 * job on it would fail "not seen advertising". */
static void test_updates_in_a_row_leave_the_device_advertising(void **state)
{
	struct fx *f = *state;
	const char *dir = tl_path("ble-row"), *ver[] = {"2.0.0", "3.0.0"};
	const char *extra[] = {"--speed", SPEED, "--initial-version", "1.0.0", NULL};
	char conf[800], spec[64], name[32], want[64], *out = NULL;

	assert_int_equal(tl_sim_start_ble(&f->sensor, "sensor-1", f->bv.spec, extra), 0);
	f->sensor_up = true;
	assert_int_equal(hci_relay_start(&f->relay, f->bv.spec, 50), 0);
	snprintf(conf, sizeof(conf), "[Daemon]\nController=%s\nScanInterval=0\nPollInterval=0\n",
		 f->relay.spec);
	tl_write_file(dir, "otad.conf", conf);
	start_otad(f, dir);
	snprintf(spec, sizeof(spec), "ble:%s", f->sensor.ble_addr);
	for (unsigned i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "row%u.bin", i);
		snprintf(want, sizeof(want), "done: device runs %s", ver[i]);
		if (otactl(f, &out, "upload", spec, tl_mkimage(name, ver[i], "8k"), NULL) != 0 ||
		    !tl_contains(out, want))
			fail_msg("update %u to %s:\n%s\notad said:\n%s", i + 1, ver[i], out,
				 tl_proc_stderr(&f->otad.proc));
		free(out);
		out = NULL;
	}
	assert_int_equal(tl_sim_count_events(&f->sensor, "boot", "result", "swap-test"), 2);
	/* both jobs' Disconnects reached the controller, none was lost with its socket */
	assert_true(hci_relay_count(&f->relay, "forwarded") >= 2);
	assert_int_equal(hci_relay_count(&f->relay, "dropped"), 0);
	f->otad_up = false;
	assert_int_equal(tl_otad_stop(&f->otad), 0);
	f->sensor_up = false;
	assert_int_equal(tl_sim_stop(&f->sensor), 0);
}

/* A device that needs an encrypted link: the first job pairs (on the device's ATT error) and
 * keeps the bond in STATE_DIR/bonds; the next job, after an otad restart, encrypts with it. */
static void test_a_bond_outlives_an_otad_restart(void **state)
{
	struct fx *f = *state;
	const char *dir = tl_path("ble-bond"), *ver[] = {"2.0.0", "3.0.0"};
	const char *extra[] = {"--speed", SPEED, "--initial-version", "1.0.0", "--security",
			       "encrypt", NULL};
	char conf[800], spec[64], name[32], want[64], bonds[800], *out = NULL, *log;
	struct stat st;

	assert_int_equal(tl_sim_start_ble(&f->sensor, "sensor-1", f->bv.spec, extra), 0);
	f->sensor_up = true;
	/* the scan at each start holds the controller: short */
	snprintf(conf, sizeof(conf),
		 "[Daemon]\nController=%s\nScanInterval=0\nScanDuration=300ms\nPollInterval=0\n",
		 f->bv.spec);
	tl_write_file(dir, "otad.conf", conf);
	snprintf(spec, sizeof(spec), "ble:%s", f->sensor.ble_addr);
	snprintf(bonds, sizeof(bonds), "%s/state/bonds", dir);
	for (unsigned i = 0; i < 2; i++) {
		start_otad(f, dir);
		snprintf(name, sizeof(name), "bond%u.bin", i);
		snprintf(want, sizeof(want), "done: device runs %s", ver[i]);
		if (otactl(f, &out, "upload", spec, tl_mkimage(name, ver[i], "8k"), NULL) != 0 ||
		    !tl_contains(out, want))
			fail_msg("update %u to %s:\n%s\notad said:\n%s", i + 1, ver[i], out,
				 tl_proc_stderr(&f->otad.proc));
		free(out);
		out = NULL;
		f->otad_up = false;
		assert_int_equal(tl_otad_stop(&f->otad), 0);
		assert_int_equal(stat(bonds, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	/* a store that does not parse fails the job, named, and stays as it was */
	snprintf(conf, sizeof(conf), "%s/state", dir);
	tl_write_file(conf, "bonds", "format 1\nbond C0:11:22:33:44:55 level=2\n");
	start_otad(f, dir);
	assert_true(otactl(f, &out, "upload", spec, tl_mkimage("bond2.bin", "4.0.0", "8k"), NULL) !=
		    0);
	if (!tl_contains(out, "bonds:2: a bond starts with") || !tl_contains(out, "left as it is"))
		fail_msg("%s", out);
	free(out);
	out = tl_read_file(bonds);
	assert_string_equal(out, "format 1\nbond C0:11:22:33:44:55 level=2\n");
	free(out);
	f->otad_up = false;
	assert_int_equal(tl_otad_stop(&f->otad), 0);
	f->sensor_up = false;
	assert_int_equal(tl_sim_stop(&f->sensor), 0);
	log = tl_proc_stderr(&f->sensor.proc);
	/* paired once; every other link (after each reset, the second otad's) by the bond */
	assert_int_equal(count_of(log, "ble: link encrypted, security level 2 (bonded)"), 1);
	assert_true(count_of(log, "ble: link encrypted, security level 2 (bond)") >= 3);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_scanned_device_matched_by_name_is_updated_other_left_alone, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_updates_in_a_row_leave_the_device_advertising,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_bond_outlives_an_otad_restart, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
