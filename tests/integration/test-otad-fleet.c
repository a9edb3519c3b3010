/* test-otad-fleet.c — otad keeping a fleet current: four simulated devices in two groups (one
 * image local, one fetched over HTTP with its SHA-256 pin) are brought to their group's version,
 * a current device is left alone, a newer one is not downgraded, one outside its group's
 * maintenance window waits; a wrong pin fails the job before
 * anything is sent; malformed config files are refused with FILE:LINE at start and on reload
 * (the old config stays), a missing image is a warning that holds its group; `fleet status`
 * and `jobs` keep their columns; a corrupt job file is reported and not loaded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/otadctl.h"
#include "lib/simctl.h"
#include "util/fileio.h"
#include "util/hex.h"
#include "util/macro.h"

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

static void sim_start(struct tl_sim *s, const char *name, const char *version)
{
	const char *extra[] = {"--speed", SPEED, "--initial-version", version, NULL};

	assert_int_equal(tl_sim_start(s, name, "udp", extra), 0);
	tl_track(s->proc.pid);
}

static const char *make_image(const char *name, const char *version, char sha_hex[65])
{
	const char *path = tl_mkimage(name, version, "20k");
	_cleanup_free_ uint8_t *data = NULL;
	uint8_t sha[32];
	size_t len;

	assert_int_equal(read_full_file(path, 1024 * 1024, &data, &len), 0);
	SHA256(data, len, sha);
	if (sha_hex)
		hex_encode(sha, 32, sha_hex);
	return path;
}

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
	r = tl_run((char *const *)argv, tl_timeout(60000), out, &e);
	if (err)
		*err = e;
	else
		free(e);
	return r;
}

static int start_otad(struct tl_otad *d, const char *dir)
{
	char st[700], ca[700];

	snprintf(st, sizeof(st), "%s/state", dir);
	snprintf(ca, sizeof(ca), "%s/cache", dir);
	int r = tl_otad_start(d, bus.address, dir, st, ca, NULL);

	if (r >= 0) {
		tl_track(d->proc.pid);
		tl_track(d->drain_pid);
	}
	return r;
}

/* `otactl fleet status` until every needle is in it (or the deadline). */
static char *wait_fleet(const char *const *needles, int timeout_ms)
{
	char *out = NULL;

	for (int waited = 0; waited <= timeout_ms; waited += 200) {
		bool all = true;

		free(out);
		out = NULL;
		assert_int_equal(otactl(&out, NULL, "fleet", "status", NULL), 0);
		for (unsigned i = 0; needles[i]; i++)
			all = all && tl_contains(out, needles[i]);
		if (all)
			return out;
		usleep((useconds_t)tl_timeout(200) * 1000);
	}
	fail_msg("fleet status never showed all of it:\n%s", out);
	return NULL;
}

/* A daily window that starts in two hours: closed now. */
static const char *closed_window(void)
{
	static char buf[32];
	time_t t = time(NULL);
	struct tm tm;
	unsigned start;

	localtime_r(&t, &tm);
	start = (unsigned)((tm.tm_hour * 60 + tm.tm_min + 120) % 1440);
	snprintf(buf, sizeof(buf), "%02u:%02u-%02u:%02u", start / 60, start % 60,
		 (start + 60) % 1440 / 60, (start + 60) % 60);
	return buf;
}

static void test_fleet_is_brought_to_group_versions_never_downgraded(void **state)
{
	struct tl_sim a_old, a_cur, b_new, b_old, c_old;
	struct tl_otad d;
	struct tl_httpd h;
	char sha_b[65], conf[3000], *out;
	const char *dir = tl_path("fleet"), *img_a = make_image("a2.bin", "2.0.0", NULL);

	mkdir(tl_path("www"), 0755);
	make_image("www/b15.bin", "1.5.0", sha_b);
	assert_int_equal(tl_httpd_start(&h, tl_path("www"), 0), 0);
	sim_start(&a_old, "a-old", "1.0.0");
	sim_start(&a_cur, "a-cur", "2.0.0");
	sim_start(&b_new, "b-new", "3.0.0");
	sim_start(&b_old, "b-old", "1.0.0");
	sim_start(&c_old, "c-old", "1.0.0");
	tl_write_file(dir, "otad.conf",
		      "[Daemon]\nMaxJobs=2\nPollInterval=1s\nAllowInsecureHTTP=yes\n"
		      "[Update]\nResponseTimeout=1s\n");
	snprintf(conf, sizeof(conf),
		 "# group A: a local image\n[Group]\nName=alpha\nVersion=2.0.0\nImage=%s\n"
		 "MatchName=a-*\n\n"
		 "[Group]\nName=beta\nVersion=1.5.0\nImage=http://127.0.0.1:%u/b15.bin\n"
		 "SHA256=%s\nMaxParallel=1\n\n"
		 "[Device]\nName=a-old\nTransport=%s\n[Device]\nName=a-cur\nTransport=%s\n"
		 "[Device]\nName=b-new\nTransport=%s\nGroup=beta\n"
		 "[Device]\nName=b-old\nTransport=%s\nGroup=beta\n"
		 "# its window is closed now: it waits\n"
		 "[Group]\nName=gamma\nVersion=2.0.0\nImage=%s\nMaintenanceWindow=%s\n"
		 "[Device]\nName=c-old\nTransport=%s\nGroup=gamma\n",
		 img_a, h.port, sha_b, a_old.spec, a_cur.spec, b_new.spec, b_old.spec, img_a,
		 closed_window(), c_old.spec);
	tl_write_file(dir, "fleet.d/fleet.conf", conf);
	assert_int_equal(start_otad(&d, dir), 0);
	{
		const char *want[] = {
			"alpha        a-old                2.0.0      2.0.0      current",
			"alpha        a-cur                2.0.0      2.0.0      current",
			"beta         b-old                1.5.0      1.5.0      current",
			"beta         b-new                3.0.0      1.5.0      newer",
			"not downgraded",
			NULL};

		out = wait_fleet(want, tl_timeout(60000));
		free(out);
	}
	/* the two that needed it were updated, through a verified boot */
	assert_int_equal(tl_sim_count_events(&a_old, "boot", "result", "swap-test"), 1);
	assert_int_equal(tl_sim_count_events(&b_old, "boot", "result", "swap-test"), 1);
	/* the current one and the newer one were never touched */
	assert_int_equal(tl_sim_count_events(&a_cur, "upload", NULL, NULL), 0);
	assert_int_equal(tl_sim_count_events(&b_new, "upload", NULL, NULL), 0);
	assert_int_equal(tl_sim_count_events(&b_new, "state-write", NULL, NULL), 0);
	assert_int_equal(tl_sim_count_events(&c_old, "upload", NULL, NULL), 0);
	assert_int_equal(otactl(&out, NULL, "jobs", "--json", NULL), 0);
	assert_true(tl_contains(out, "\"device\":\"a-old\""));
	assert_true(tl_contains(out, "\"device\":\"b-old\""));
	assert_false(tl_contains(out, "\"device\":\"a-cur\""));
	assert_false(tl_contains(out, "\"device\":\"b-new\""));
	assert_false(tl_contains(out, "failed"));
	free(out);
	assert_int_equal(tl_otad_stop(&d), 0);
	tl_httpd_stop(&h);
	out = tl_read_file(h.log_path);
	assert_true(tl_contains(out, "GET /b15.bin range=-1 status=200"));
	free(out);
	tl_sim_stop(&a_old);
	tl_sim_stop(&a_cur);
	tl_sim_stop(&b_new);
	tl_sim_stop(&b_old);
	tl_sim_stop(&c_old);
}

static void test_wrong_pin_fails_the_job_before_anything_is_sent(void **state)
{
	struct tl_sim s;
	struct tl_otad d;
	struct tl_httpd h;
	char conf[2000], *out = NULL;
	const char *dir = tl_path("badpin");

	mkdir(tl_path("www2"), 0755);
	make_image("www2/c.bin", "2.0.0", NULL);
	assert_int_equal(tl_httpd_start(&h, tl_path("www2"), 0), 0);
	sim_start(&s, "badpin", "1.0.0");
	tl_write_file(dir, "otad.conf", "[Daemon]\nPollInterval=1s\nAllowInsecureHTTP=yes\n");
	snprintf(conf, sizeof(conf),
		 "[Group]\nName=g\nVersion=2.0.0\nImage=http://127.0.0.1:%u/c.bin\nSHA256=%064d\n"
		 "[Device]\nName=dev\nTransport=%s\nGroup=g\n",
		 h.port, 0, s.spec);
	tl_write_file(dir, "fleet.d/f.conf", conf);
	assert_int_equal(start_otad(&d, dir), 0);
	{
		const char *want[] = {"held after a failed update", NULL};

		out = wait_fleet(want, tl_timeout(30000));
		free(out);
	}
	assert_int_equal(otactl(&out, NULL, "watch", "1", NULL), 3); /* image failure */
	assert_true(tl_contains(out, "pinned 0000000000"));
	free(out);
	assert_int_equal(tl_sim_count_events(&s, "upload", NULL, NULL), 0);
	assert_int_equal(tl_otad_stop(&d), 0);
	tl_httpd_stop(&h);
	tl_sim_stop(&s);
}

static void test_malformed_config_refused_at_start_and_kept_on_reload(void **state)
{
	const char *dir = tl_path("badconf");
	char *argv[] = {(char *)tl_bin("otad"), "--check-config", "--config-dir", (char *)dir,
			NULL};
	struct tl_otad d;
	char *out = NULL, *err = NULL, path[900];

	tl_write_file(dir, "otad.conf", "[Daemon]\nMaxJobs=1\n");
	tl_write_file(dir, "fleet.d/10-ok.conf",
		      "[Group]\nName=g\nVersion=1.0.0\nImage=/srv/x.bin\n"
		      "[Device]\nName=keep-me\nTransport=udp:127.0.0.1:9\nGroup=g\n");
	tl_write_file(dir, "fleet.d/20-bad.conf", "[Group]\nName=h\nVersion=one\n");
	assert_int_equal(tl_run(argv, tl_timeout(10000), &out, &err), 1);
	assert_true(
		tl_contains(err, "fleet.d/20-bad.conf:3: Version=one: expected an image version"));
	free(out);
	free(err);
	/* otad itself refuses to start with it */
	assert_int_not_equal(start_otad(&d, dir), 0);
	err = tl_proc_stderr(&d.proc);
	assert_true(tl_contains(err, "20-bad.conf:3:"));
	assert_true(tl_contains(err, "refusing to start"));
	free(err);
	/* fixed: it starts; broken again: reload is refused and the old config stays */
	tl_write_file(dir, "fleet.d/20-bad.conf", "# nothing\n");
	assert_int_equal(tl_run(argv, tl_timeout(10000), &out, NULL), 0);
	assert_true(tl_contains(out, "is valid"));
	free(out);
	assert_int_equal(start_otad(&d, dir), 0);
	tl_write_file(dir, "fleet.d/20-bad.conf", "[Device]\nName=x\nTransport=udp:h\nGroup=zz\n");
	assert_int_equal(otactl(&out, &err, "reload", NULL), 11); /* EXIT_CONFIG, otactl(1) */
	snprintf(path, sizeof(path),
		 "otactl: reload refused, otad keeps its configuration: "
		 "%s/fleet.d/20-bad.conf:4: device 'x' names unknown group 'zz'\n",
		 dir);
	assert_string_equal(err, path);
	free(out);
	free(err);
	/* a glob that cannot work is an error too, with its line */
	tl_write_file(dir, "fleet.d/20-bad.conf",
		      "[Group]\nName=b\nVersion=1.0.0\n"
		      "Image=/srv/x.bin\nMatchName=sensor-[0-9\n");
	assert_int_equal(otactl(&out, &err, "reload", "--json", NULL), 11);
	assert_true(tl_contains(out, "{\"error\":{\"class\":\"config-invalid\","));
	assert_true(tl_contains(err, "20-bad.conf:5: MatchName=sensor-[0-9: 'sensor-[0-9' is not "
				     "a usable glob: '[' opens a set of characters that no ']' "
				     "closes"));
	free(out);
	free(err);
	/* a transport spec the device's jobs could never open: said at reload, not by each job */
	tl_write_file(dir, "fleet.d/20-bad.conf", "[Device]\nName=far\nTransport=udp:h:99999\n");
	assert_int_equal(otactl(&out, &err, "reload", NULL), 11);
	assert_true(tl_contains(err, "20-bad.conf:3: device 'far': Transport=udp:h:99999: port "
				     "99999 is out of range (1..65535)"));
	free(out);
	free(err);
	kill(d.proc.pid, SIGHUP); /* the same through SIGHUP: logged, still running */
	assert_int_equal(otactl(&out, NULL, "devices", NULL), 0);
	assert_true(tl_contains(out, "keep-me"));
	assert_false(tl_contains(out, "udp:h"));
	free(out);
	tl_write_file(dir, "fleet.d/20-bad.conf",
		      "[Device]\nName=x\nTransport=udp:127.0.0.1:10\nGroup=g\n");
	assert_int_equal(otactl(&out, NULL, "reload", NULL), 0);
	free(out);
	assert_int_equal(otactl(&out, NULL, "devices", NULL), 0);
	assert_true(tl_contains(out, "udp:127.0.0.1:10"));
	free(out);
	assert_int_equal(tl_otad_stop(&d), 0);
	err = tl_proc_stderr(&d.proc);
	assert_true(tl_contains(err, "reload refused, keeping the old configuration"));
	free(err);
}

/* A group whose image is not there: reload says so (and succeeds), the device is held with the
 * reason, no job starts. fleet status keeps its columns under long names and verdicts. */
static void test_missing_image_is_reported_at_reload_and_holds_its_group(void **state)
{
	const char *dir = tl_path("noimage");
	char conf[1200], want[900], *out = NULL, *err = NULL, *hdr, *row;
	struct tl_otad d;
	struct tl_sim s;
	size_t why;

	sim_start(&s, "noimage", "1.0.0");
	tl_write_file(dir, "otad.conf", "[Daemon]\nPollInterval=1s\n");
	tl_write_file(dir, "fleet.d/a.conf", "# nothing yet\n");
	assert_int_equal(start_otad(&d, dir), 0);
	snprintf(
		conf, sizeof(conf),
		"[Group]\nName=a-group-with-a-long-name\nVersion=2.0.0\nImage=%s/none.bin\n"
		"[Device]\nName=dev\nTransport=%s\nGroup=a-group-with-a-long-name\n"
		"[Device]\nName=gone\nTransport=serial:%s/no-tty\nGroup=a-group-with-a-long-name\n",
		dir, s.spec, dir);
	tl_write_file(dir, "fleet.d/a.conf", conf);
	assert_int_equal(otactl(&out, &err, "reload", NULL), 0);
	snprintf(want, sizeof(want),
		 "otactl: warning: %s/fleet.d/a.conf:4: group 'a-group-with-a-long-name': "
		 "Image=%s/none.bin cannot be read (No such file or directory); its devices are "
		 "not updated until it can and otad reloads\n",
		 dir, dir);
	assert_string_equal(err, want);
	assert_string_equal(out, "configuration reloaded\n");
	free(out);
	free(err);
	{
		const char *needles[] = {"no-image", "unreachable", NULL};

		out = wait_fleet(needles, tl_timeout(20000));
	}
	/* every row's WHY starts under the header's, however long the verdict before it */
	hdr = strstr(out, "GROUP");
	assert_non_null(hdr);
	why = (size_t)(strstr(hdr, "WHY") - hdr);
	for (row = strchr(hdr, '\n') + 1; *row; row = strchr(row, '\n') + 1) {
		assert_true(row[why - 1] == ' ');
		assert_true(strncmp(row + why, "runs 1.0.0, group", 17) == 0 ||
			    strncmp(row + why, "cannot open serial:", 19) == 0);
	}
	assert_true(tl_contains(out, "its image "));
	free(out);
	assert_int_equal(otactl(&out, NULL, "jobs", "--json", NULL), 0);
	assert_string_equal(out, "[]\n");
	free(out);
	assert_int_equal(tl_otad_stop(&d), 0);
	tl_sim_stop(&s);
}

static void test_corrupt_job_file_is_reported_and_not_loaded(void **state)
{
	const char *dir = tl_path("corrupt");
	struct tl_otad d;
	char path[700], *out = NULL, *err;

	tl_write_file(dir, "otad.conf", "[Daemon]\nPollInterval=0\n");
	snprintf(path, sizeof(path), "%s/state", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/state/jobs", dir);
	mkdir(path, 0755);
	tl_write_file(path, "3.job", "[Job]\nId=3\nDevice=d\nTransport=udp:127.0.0.1:9\nSourc");
	tl_write_file(path, "2.job",
		      "[Job]\nId=2\nDevice=d\nTransport=udp:127.0.0.1:9\nSource=/x.bin\n"
		      "State=succeeded\nStep=done\n");
	tl_write_file(path, "2.job.a1B2c3", "[Job]\nId=2\n"); /* a write cut before its rename */
	tl_write_file(path, "1.job",
		      "[Job]\nId=1\nDevice=a-device-with-a-name-longer-than-its-column\n"
		      "Transport=udp:127.0.0.1:9\nSource=/x.bin\nState=cancelled\nStep=confirm\n");
	assert_int_equal(start_otad(&d, dir), 0);
	err = tl_proc_stderr(&d.proc);
	assert_true(tl_contains(err, "3.job:5: expected Key=Value"));
	assert_true(tl_contains(err, "not loaded, moved to"));
	assert_true(tl_contains(err, "2.job.a1B2c3: removed"));
	free(err);
	assert_int_equal(otactl(&out, NULL, "jobs", "--json", NULL), 0);
	assert_true(tl_contains(out, "\"id\":2"));
	assert_false(tl_contains(out, "\"id\":3"));
	free(out);
	/* the table keeps its columns under a long device name: every row's IMAGE (and DONE)
	 * starts under the header's */
	assert_int_equal(otactl(&out, NULL, "jobs", NULL), 0);
	{
		const char *hdr = out, *row;
		size_t image = (size_t)(strstr(hdr, "IMAGE") - hdr);
		size_t done = (size_t)(strstr(hdr, "DONE") - hdr);
		unsigned rows = 0;

		for (row = strchr(hdr, '\n') + 1; *row; row = strchr(row, '\n') + 1, rows++) {
			assert_true(strncmp(row + image, "/x.bin\n", 7) == 0);
			assert_true(strncmp(row + done, "  0%", 4) == 0);
		}
		assert_int_equal(rows, 2);
		assert_true(tl_contains(out,
					" a-device-with-a-name-longer-than-its-column cancelled "));
	}
	free(out);
	/* a new job never reuses the corrupt one's id */
	{
		char addr[700];
		const char *argv[] = {"busctl",	     addr,	"call",
				      "org.otad1",   "/org/otad1", "org.otad1.Manager1",
				      "StartUpdate", "ssa{sv}",	    "udp:127.0.0.1:9",
				      tl_mkimage("corrupt.bin", "1.0.0", "4k"), "0", NULL};

		snprintf(addr, sizeof(addr), "--address=%s", bus.address);
		assert_int_equal(tl_run((char *const *)argv, tl_timeout(20000), &out, NULL), 0);
		assert_true(tl_contains(out, "o \"/org/otad1/job/4\""));
		free(out);
	}
	assert_int_equal(tl_otad_stop(&d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_fleet_is_brought_to_group_versions_never_downgraded,
					  tl_reap_tracked),
		cmocka_unit_test_teardown(test_wrong_pin_fails_the_job_before_anything_is_sent,
					  tl_reap_tracked),
		cmocka_unit_test_teardown(test_malformed_config_refused_at_start_and_kept_on_reload,
					  tl_reap_tracked),
		cmocka_unit_test_teardown(
			test_missing_image_is_reported_at_reload_and_holds_its_group,
			tl_reap_tracked),
		cmocka_unit_test_teardown(test_corrupt_job_file_is_reported_and_not_loaded,
					  tl_reap_tracked),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
