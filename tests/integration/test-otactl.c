/* test-otactl.c — otactl's one-shot commands against otasim (echo, params, reset, image list,
 * upload, test, confirm, erase, --json), its usage errors and their messages, devices that cannot
 * be reached, --json's error object for every command, and the progress bar on a terminal. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/simctl.h"
#include "lib/testlib.h"
#include "util/json-doc.h"

#define SPEED "20"

static void test_echo_params_and_json(void **state)
{
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", NULL };
	struct tl_sim sim;
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "cmds", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "echo", "hello device", NULL), 0);
	assert_string_equal(out, "hello device\n");
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "echo", "hello device", "--json", NULL), 0);
	assert_string_equal(out, "{\"echo\":\"hello device\"}\n");
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "params", NULL), 0);
	assert_string_equal(out, "buf_size: 2048\nbuf_count: 4\n"); /* the lan profile's */
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "params", "--json", NULL), 0);
	assert_string_equal(out, "{\"buf_size\":2048,\"buf_count\":4}\n");
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "list", "--json", NULL), 0);
	assert_true(tl_contains(out, "{\"images\":[{\"image\":0,\"slot\":0,\"version\":\"1.0.0\""));
	assert_true(tl_contains(out, "\"active\":true"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* Upload only, then the manual test / reset / confirm path, then erase. */
static void test_manual_upload_test_reset_confirm_erase(void **state)
{
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", NULL };
	const char *img = tl_mkimage("manual.bin", "2.5.0", "12k");
	char hash[65] = "";
	struct tl_sim sim;
	char *out = NULL, *h;

	assert_int_equal(tl_sim_start(&sim, "manual", "udp", extra), 0);
	/* the smallest --chunk: the first request holds exactly the image header */
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "upload", img, "--chunk", "32", NULL),
			 0);
	assert_true(tl_contains(out, "uploaded and verified"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", NULL, NULL), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "list", NULL), 0);
	h = strstr(out, "version: 2.5.0\n    hash: ");
	assert_non_null(h);
	memcpy(hash, h + strlen("version: 2.5.0\n    hash: "), 64);
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "test", hash, NULL), 0);
	assert_true(tl_contains(out, "pending"));
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "reset", "--json", NULL), 0);
	assert_string_equal(out, "{\"reset\":true}\n");
	free(out);
	assert_int_equal(tl_sim_wait_event(&sim, "boot", "result", "swap-test", 20000), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "confirm", hash, NULL), 0);
	assert_true(tl_contains(out, "version: 2.5.0\n    hash: "));
	assert_true(tl_contains(out, "flags: bootable confirmed active"));
	free(out);
	/* Slot 1 now holds the old image; erase it. */
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "erase", NULL), 0);
	assert_string_equal(out, "slot 1 erased\n");
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "erase", "--json", NULL), 0);
	assert_string_equal(out, "{\"erased\":true}\n");
	free(out);
	assert_int_equal(tl_otactl(&out, sim.spec, "image", "list", NULL), 0);
	assert_false(tl_contains(out, "slot 1"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

static void test_no_downgrade_is_refused_by_the_device(void **state)
{
	const char *extra[] = { "--speed", SPEED, "--profile", "lan", "--initial-version", "3.0.0",
				NULL };
	const char *older = tl_mkimage("older.bin", "2.9.0", "8k");
	struct tl_sim sim;
	char *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "nodown", "udp", extra), 0);
	assert_int_equal(tl_otactl(&out, sim.spec, "update", older, "--no-downgrade", NULL), 6);
	assert_true(tl_contains(out,
				"failed (device, during upload): upload: device answered "
				"group=1 rc=27 (IMG_MGMT_ERR_CURRENT_VERSION_IS_NEWER: running "
				"image is newer than the upload) to the chunk at off=0\n"));
	free(out);
	assert_int_equal(tl_sim_count_events(&sim, "state-write", NULL, NULL), 0);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

/* otactl with args (NULL-terminated, no -t added); exit code, stdout and stderr (malloc'd). */
static int run(char **out, char **err, const char *const *args)
{
	const char *argv[24] = {tl_bin("otactl")};
	size_t n = 1;

	for (; args[n - 1] && n < 23; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	return tl_run((char *const *)argv, tl_timeout(120000), out, err);
}

/* A UDP port on 127.0.0.1 nothing listens on (bound, then closed). */
static const char *closed_udp_spec(void)
{
	static char spec[64];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", ntohs(sa.sin_port));
	return spec;
}

#define TRY "Try 'otactl --help'.\n"

/* Each bad command line exits 2 with one line saying what is wrong and what would be right. */
static void test_usage_errors_say_what_is_wrong(void **state)
{
	static const struct {
		const char *args[8];
		const char *err;
	} cases[] = {
		{{"-t", "udp:127.0.0.1:9", "frobnicate"},
		 "otactl: unknown command 'frobnicate'\n" TRY},
		{{"-t", "udp:127.0.0.1:9", "update", "a", "--window", "0"},
		 "otactl: --window is auto or 1..32, not '0'\n" TRY},
		{{"-t", "udp:127.0.0.1:9", "update", "a", "--rate", "fast"},
		 "otactl: --rate is auto or bytes per second like 20k, not 'fast'\n" TRY},
		{{"-t", "udp:127.0.0.1:9", "update", "a", "--rate", "1"},
		 "otactl: --rate 1 is 1 byte per second: 128 KiB would take 36 h 24 min; give auto "
		 "or at least 512 (did you mean 1k?)\n" TRY},
		{{"-t", "udp:127.0.0.1:9", "update", "a", "--chunk", "31"},
		 "otactl: --chunk takes 32..65536 bytes (the first request must carry the whole "
		 "32-byte image header), not '31'\n" TRY},
		{{"-t", "udp:127.0.0.1:9", "update", "a", "--timeout", "0"},
		 "otactl: --timeout must be longer than 0 (e.g. 5, 500ms, 2min)\n" TRY},
		{{"--connect-timeout", "soon", "scan"},
		 "otactl: --connect-timeout takes a duration like 5, 500ms or 2min, not "
		 "'soon'\n" TRY},
		{{"cancel", "-1"},
		 "otactl: '-1' is not an option: job numbers and the other numbers otactl takes "
		 "are "
		 "not negative (put -- before an argument that starts with '-')\n" TRY},
		{{"--frobnicate", "jobs"}, "otactl: unknown option '--frobnicate'\n" TRY},
		{{"-t", "nosuch:thing", "params"},
		 "otactl: not a transport: 'nosuch:thing' (expected udp:HOST[:PORT], "
		 "serial:PATH[@BAUD] or ble:ADDRESS|name=NAME)\n"},
		{{"-t", "udp:h:99999", "params"},
		 "otactl: udp:h:99999: port 99999 is out of range (1..65535)\n"},
		{{"-t", "udp:h:0", "params"},
		 "otactl: udp:h:0: port 0 is out of range (1..65535)\n"},
		{{"-t", "serial:/dev/null@12345", "params"},
		 "otactl: serial:/dev/null@12345: 12345 baud is not a rate a tty can be set to "
		 "(1200, "
		 "2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, "
		 "921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, "
		 "4000000)\n"},
	};
	char *out = NULL, *err = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(run(&out, &err, cases[i].args), 2);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("%s ...: stderr\n%s\nexpected\n%s", cases[i].args[0], err,
				 cases[i].err);
		free(out);
		free(err);
	}
	/* the update engine says the same about a spec, as its result */
	assert_int_equal(tl_otactl(&out, "udp:127.0.0.1:99999", "update",
				   tl_mkimage("usage.bin", "1.0.1", "4k"), NULL),
			 2);
	assert_true(tl_contains(out, "failed (config, during connect): udp:127.0.0.1:99999: port "
				     "99999 is out of range (1..65535)\n"));
	free(out);
	assert_int_equal(tl_otactl(&out, "udp:127.0.0.1:9", "update", "/nonexistent.bin", NULL), 3);
	assert_true(tl_contains(out, "No such file"));
	free(out);
}

/* What cannot be reached says so at once: a host without an address, a port nobody listens on
 * (ICMP port unreachable, within a 10 min --timeout). A long fixed-rate upload is announced. */
static void test_unreachable_devices_fail_at_once_with_the_reason(void **state)
{
	const char *closed = closed_udp_spec();
	const char *img = tl_mkimage("far.bin", "2.0.0", "64k");
	const char *host[] = {"-t", "udp:nonexistent.invalid", "params", NULL};
	const char *params[] = {"-t", closed, "params", "--timeout", "10min", NULL};
	const char *update[] = {"-t", closed, "update", img, "--timeout", "10min", NULL};
	const char *slow[] = {"-t", closed, "update", img, "--rate", "512", NULL};
	char want[256], *out = NULL, *err = NULL;

	assert_int_equal(run(&out, &err, host), 4);
	if (strcmp(err, "otactl: udp:nonexistent.invalid: host not found (neither /etc/hosts nor "
			"DNS knows it)\n") != 0 &&
	    strcmp(err, "otactl: udp:nonexistent.invalid: the host name cannot be resolved now "
			"(DNS did not answer)\n") != 0)
		fail_msg("stderr: %s", err);
	free(out);
	free(err);
	assert_int_equal(run(&out, &err, params), 4);
	snprintf(want, sizeof(want),
		 "otactl: params: %s: nothing listens (ICMP port unreachable)\n", closed);
	assert_string_equal(err, want);
	free(out);
	free(err);
	assert_int_equal(run(&out, &err, update), 4);
	snprintf(want, sizeof(want),
		 "failed (link, during query): %s: nothing listens (ICMP port unreachable)\n",
		 closed);
	assert_true(tl_contains(out, want));
	free(out);
	free(err);
	assert_int_equal(run(&out, &err, slow), 4);
	assert_true(tl_contains(err, "otactl: at --rate 512 the upload of 66088 bytes takes at "
				     "least 2 min 9 s\n"));
	free(out);
	free(err);
}

/* Every line on stdout is one JSON value; the last holds the error (class, message, exit code)
 * when the command failed. Returns that error object's message (malloc'd). */
static char *json_error_of(const char *out, int code)
{
	struct json_object *e = NULL, *v = NULL;
	const char *line = out;
	struct jd_doc *doc = NULL;
	struct jd_error je;
	uint64_t n = 0;
	char *msg;

	assert_true(out[0] != 0);
	while (*line) {
		const char *nl = strchr(line, '\n');

		assert_non_null(nl);
		doc = jd_doc_free(doc);
		if (jd_parse(line, (size_t)(nl - line), &doc, &je) < 0)
			fail_msg("not JSON (%s): %.*s", je.msg, (int)(nl - line), line);
		line = nl + 1;
	}
	assert_true(jd_get(jd_root(doc), "error", &e));
	assert_non_null(e);
	assert_true(jd_get(e, "exit_code", &v));
	assert_int_equal(jd_u64(v, &n), 0);
	assert_int_equal(n, code);
	assert_true(jd_get(e, "class", &v) && jd_str(v));
	assert_true(jd_get(e, "message", &v) && jd_str(v));
	msg = strdup(jd_str(v));
	jd_doc_free(doc);
	return msg;
}

static void test_json_failures_are_json_for_every_command(void **state)
{
	const char *closed = closed_udp_spec();
	const char *img = tl_mkimage("json.bin", "2.0.0", "4k");
	char bus[700];
	const char *hash = "0000000000000000000000000000000000000000000000000000000000000000";
	/* message: the start of the error's message; with spec, followed by "SPEC: nothing
	 * listens (ICMP port unreachable)" */
	const struct {
		const char *args[9];
		int code;
		const char *message;
		bool spec;
	} cases[] = {
		{{"-t", closed, "echo", "hi", "--json"}, 4, "echo: ", true},
		{{"-t", closed, "reset", "--json"}, 4, "reset: ", true},
		{{"-t", closed, "params", "--json"}, 4, "params: ", true},
		{{"-t", closed, "image", "list", "--json"}, 4, "image state: ", true},
		{{"-t", closed, "image", "test", hash, "--json"}, 4, "image state: ", true},
		{{"-t", closed, "image", "confirm", "--json"}, 4, "image state: ", true},
		{{"-t", closed, "image", "erase", "--json"}, 4, "image erase: ", true},
		{{"-t", closed, "image", "upload", img, "--json"}, 4, "", true},
		{{"-t", closed, "update", img, "--json"}, 4, "", true},
		{{"-t", closed, "image", "--json"}, 2, "usage: otactl image list"},
		{{"--json", "--rate", "1", "update", "x"}, 2, "--rate 1 is 1 byte per second"},
		{{"--hci", "tcp:nohost", "scan", "--json"}, 2, "--hci 'tcp:nohost' is not"},
		{{bus, "jobs", "--json"}, 4, "cannot connect to the bus otad is on"},
		{{bus, "devices", "--json"}, 4, "cannot connect to the bus otad is on"},
		{{bus, "fleet", "status", "--json"}, 4, "cannot connect to the bus otad is on"},
		{{bus, "reload", "--json"}, 4, "cannot connect to the bus otad is on"},
		{{bus, "cancel", "1", "--json"}, 4, "cannot connect to the bus otad is on"},
		{{bus, "watch", "1", "--json"}, 4, "cannot connect to the bus otad is on"},
		{{bus, "upload", closed, img, "--json"}, 4, "", true},
	};
	char want[256], *out = NULL, *err = NULL, *msg;

	snprintf(bus, sizeof(bus), "--bus-address=unix:path=%s", tl_path("no-bus"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(run(&out, &err, cases[i].args), cases[i].code);
		msg = json_error_of(out, cases[i].code);
		snprintf(want, sizeof(want), "%s%s%s", cases[i].message,
			 cases[i].spec ? closed : "",
			 cases[i].spec ? ": nothing listens (ICMP port unreachable)" : "");
		if (!strstr(msg, want))
			fail_msg("%s %s: message '%s' lacks '%s'", cases[i].args[0],
				 cases[i].args[2], msg, want);
		free(msg);
		free(out);
		free(err);
	}
}

/* On a terminal: a redrawn bar with percent, rate and ETA (script(1) provides the pty). */
static void test_progress_bar_on_a_terminal(void **state)
{
	const char *extra[] = { "--speed", "4", NULL };
	const char *img = tl_mkimage("bar.bin", "2.6.0", "32k");
	struct tl_sim sim;
	char cmd[2048], *out = NULL;

	assert_int_equal(tl_sim_start(&sim, "bar", "udp", extra), 0);
	snprintf(cmd, sizeof(cmd), "TERM=xterm %s -t %s image upload %s", tl_bin("otactl"),
		 sim.spec, img);
	char *argv[] = { "script", "-qec", cmd, "/dev/null", NULL };
	assert_int_equal(tl_run(argv, 120000, &out, NULL), 0);
	assert_true(tl_contains(out, "\r\033[K["));
	assert_true(tl_contains(out, "100%"));
	assert_true(tl_contains(out, "KiB/s ETA"));
	assert_true(tl_contains(out, "uploaded and verified"));
	free(out);
	assert_int_equal(tl_sim_stop(&sim), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_params_and_json),
		cmocka_unit_test(test_manual_upload_test_reset_confirm_erase),
		cmocka_unit_test(test_no_downgrade_is_refused_by_the_device),
		cmocka_unit_test(test_usage_errors_say_what_is_wrong),
		cmocka_unit_test(test_unreachable_devices_fail_at_once_with_the_reason),
		cmocka_unit_test(test_json_failures_are_json_for_every_command),
		cmocka_unit_test(test_progress_bar_on_a_terminal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
