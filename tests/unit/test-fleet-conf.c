/* test-fleet-conf.c — the INI parser and the config loader: what they accept, and every error
 * naming its file and line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/testlib.h"
#include "otad/fleet.h"

static void test_parser_reads_sections_keys_comments_and_continuations(void **state)
{
	struct conf_file *f = NULL;
	struct conf_error err = {""};
	const char *text = "# comment\n; another\n\n[Daemon]\n  MaxJobs = 3  \nName=a b\\\n c\n"
			   "[Group]\nEmpty=\n";

	assert_int_equal(conf_parse("x.conf", text, &f, &err), 0);
	assert_int_equal(f->n_sections, 2);
	assert_string_equal(f->sections[0].name, "Daemon");
	assert_int_equal(f->sections[0].line, 4);
	assert_int_equal(f->sections[0].n_entries, 2);
	assert_string_equal(f->sections[0].entries[0].key, "MaxJobs");
	assert_string_equal(f->sections[0].entries[0].value, "3");
	assert_int_equal(f->sections[0].entries[0].line, 5);
	assert_string_equal(f->sections[0].entries[1].value, "a b  c");
	assert_int_equal(f->sections[0].entries[1].line, 6);
	assert_string_equal(f->sections[1].entries[0].value, "");
	assert_int_equal(f->sections[1].entries[0].line, 9);
	conf_file_free(f);
}

static void expect_parse_error(const char *text, const char *msg)
{
	struct conf_file *f = NULL;
	struct conf_error err = {""};

	assert_int_equal(conf_parse("x.conf", text, &f, &err), -EBADMSG);
	assert_null(f);
	if (!strstr(err.text, msg))
		fail_msg("expected '%s' in '%s'", msg, err.text);
}

static void test_parser_errors_name_file_and_line(void **state)
{
	expect_parse_error("Key=1\n", "x.conf:1: assignment 'Key=' outside of any section");
	expect_parse_error("[A]\n\n[B\n", "x.conf:3: section header without closing ']'");
	expect_parse_error("[A]\njust words\n", "x.conf:2: expected Key=Value");
	expect_parse_error("[A]\n=value\n", "x.conf:2: invalid key name");
	expect_parse_error("[A]\nKe y=1\n", "x.conf:2: invalid key name 'Ke y'");
	expect_parse_error("[A/b]\n", "x.conf:1: invalid section name");
}

/* ---- config files in a directory --------------------------------------------------------- */

static const char *write_conf(const char *dir, const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fleet.d", dir);
	mkdir(dir, 0755);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return dir;
}

static const char *good_fleet =
	"[Group]\nName=sensors\nVersion=2.0.0\nImage=/srv/fw/sensor.bin\nMatchName=sensor-*\n"
	"MaintenanceWindow=02:00-04:00 22:30-23:00\nRate=8k\nWindow=2\nMaxParallel=1\n"
	"\n[Group]\nName=gw\nVersion=1.5.0+3\nAllowDowngrade=yes\nMode=confirm\n"
	"Image=https://fw.example.com/gw.bin\n"
	"SHA256=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
	"MatchAddress=C0:11:22:33:44:55\n"
	"\n[Device]\nName=sensor-1\nTransport=udp:127.0.0.1:1337\n"
	"[Device]\nName=bridge\nTransport=serial:/dev/ttyACM0\nGroup=gw\n";

static void test_config_loads_settings_groups_devices(void **state)
{
	const char *dir = tl_path("good");
	struct fleet_config *c = NULL;
	struct conf_error err = {""};
	const struct fleet_group *g;

	write_conf(dir, "otad.conf",
		   "[Daemon]\nMaxJobs=4\nPollInterval=10s\nHistory=7\n[Update]\nRetries=3\n");
	write_conf(dir, "fleet.d/10-fleet.conf", good_fleet);
	write_conf(dir, "fleet.d/ignored.txt", "garbage");
	assert_int_equal(fleet_config_load(dir, &c, &err), 0);
	assert_int_equal(c->s.max_jobs, 4);
	assert_int_equal(c->s.poll_interval_usec, 10000000);
	assert_int_equal(c->s.history, 7);
	assert_int_equal(c->n_groups, 2);
	assert_int_equal(c->n_devices, 2);
	g = fleet_config_group(c, "sensors");
	assert_non_null(g);
	assert_int_equal(g->retries, 3); /* [Update] default */
	assert_int_equal(g->pace.rate, 8192);
	assert_int_equal(g->pace.window, 2);
	assert_int_equal(g->n_windows, 2);
	assert_int_equal(g->windows[1].start, 22 * 60 + 30);
	assert_false(g->image_is_url);
	g = fleet_config_group(c, "gw");
	assert_true(g->image_is_url && g->has_sha256 && g->allow_downgrade);
	assert_int_equal(g->mode, UPD_MODE_CONFIRM);
	assert_string_equal(g->version_text, "1.5.0.3");
	assert_ptr_equal(fleet_config_group_for(c, "sensor-1", "udp:127.0.0.1:1337", NULL, 0),
			 fleet_config_group(c, "sensors"));
	assert_ptr_equal(fleet_config_group_for(c, "bridge", NULL, NULL, 0), g);
	assert_ptr_equal(fleet_config_group_for(c, "x", "c0:11:22:33:44:55", NULL, 0), g);
	assert_null(fleet_config_group_for(c, "other", "udp:1.2.3.4", NULL, 0));
	fleet_config_free(c);
}

static void test_missing_config_dir_gives_defaults(void **state)
{
	struct fleet_config *c = NULL;
	struct conf_error err = {""};

	assert_int_equal(fleet_config_load(tl_path("nothing-here"), &c, &err), 0);
	assert_int_equal(c->s.max_jobs, 2);
	assert_int_equal(c->n_groups, 0);
	fleet_config_free(c);
}

static void expect_config_error(const char *main_text, const char *fleet_text, const char *msg)
{
	static unsigned n;
	char name[32];
	const char *dir;
	struct fleet_config *c = NULL;
	struct conf_error err = {""};

	snprintf(name, sizeof(name), "bad%u", n++);
	dir = tl_path(name);
	if (main_text)
		write_conf(dir, "otad.conf", main_text);
	if (fleet_text)
		write_conf(dir, "fleet.d/f.conf", fleet_text);
	assert_int_equal(fleet_config_load(dir, &c, &err), -EBADMSG);
	assert_null(c);
	if (!strstr(err.text, msg) || !strstr(err.text, dir))
		fail_msg("expected '%s' in '%s'", msg, err.text);
}

#define GROUP "[Group]\nName=g\nVersion=1.0.0\nImage=/x.bin\n"

static void test_config_errors_name_file_and_line(void **state)
{
	expect_config_error("[Daemon]\nMaxJobs=0\n", NULL, "otad.conf:2: MaxJobs=0: expected");
	expect_config_error("[Daemon]\nPollInterval=soon\n", NULL, "otad.conf:2: PollInterval=");
	expect_config_error("[Daemon]\nFoo=1\n", NULL, "otad.conf:2: unknown key 'Foo' in section");
	expect_config_error("\n[Demon]\n", NULL, "otad.conf:2: unknown section [Demon]");
	expect_config_error("[Update]\nWindow=99\n", NULL, "otad.conf:2: Window=99");
	expect_config_error("[Update]\nMode=yolo\n", NULL, "otad.conf:2: Mode=yolo");
	expect_config_error(NULL, "[Group]\nVersion=1.0.0\nImage=/x\n",
			    "f.conf:1: [Group] without Name=");
	expect_config_error(NULL, "\n[Group]\nName=g\nImage=/x\n",
			    "f.conf:2: group 'g' has no Version=");
	expect_config_error(NULL, "[Group]\nName=g\nVersion=1.0.0\n",
			    "f.conf:1: group 'g' has no Image=");
	expect_config_error(NULL, GROUP "Version=1.x\n", "f.conf:5: Version=1.x");
	expect_config_error(NULL, GROUP "SHA256=abc\n", "f.conf:5: SHA256=abc");
	expect_config_error(NULL, GROUP "MaintenanceWindow=25:00-02:00\n", "f.conf:5: Maintenance");
	expect_config_error(NULL, GROUP "AllowDowngrade=maybe\n", "f.conf:5: AllowDowngrade=");
	expect_config_error(NULL, GROUP "Image=relative.bin\n", "f.conf:5: Image=relative.bin");
	expect_config_error(NULL, "[Group]\nName=g\nVersion=1.0.0\nImage=https://h/x\n",
			    "f.conf:1: group 'g': an image URL needs SHA256=");
	expect_config_error(NULL, GROUP "Image=http://h/x\n",
			    "f.conf:5: Image=http://h/x: plain http");
	expect_config_error(NULL, GROUP GROUP, "f.conf:5: group 'g' is already defined");
	expect_config_error(
		NULL, "[Device]\nName=d\nTransport=tcp:x\n",
		"f.conf:3: device 'd': Transport=tcp:x: not a transport (expected udp:");
	/* parsed as the transport will, so that reload says it, not the device's first job */
	expect_config_error(
		NULL, "[Device]\nTransport=udp:h:99999\nName=d\n",
		"f.conf:2: device 'd': Transport=udp:h:99999: port 99999 is out of range "
		"(1..65535)");
	expect_config_error(NULL, "[Device]\nName=d\nTransport=udp:h:0\n",
			    "f.conf:3: device 'd': Transport=udp:h:0: port 0");
	expect_config_error(
		NULL, "[Device]\nName=d\nTransport=serial:/dev/ttyACM0@12345\n",
		"f.conf:3: device 'd': Transport=serial:/dev/ttyACM0@12345: 12345 baud");
	expect_config_error(NULL, "[Device]\nName=d\nTransport=ble:C0:11:22\n",
			    "f.conf:3: device 'd': Transport=ble:C0:11:22: not a device address");
	expect_config_error(NULL, "[Device]\nName=d\n", "f.conf:1: device 'd' has no Transport=");
	expect_config_error(NULL, "[Device]\nName=d\nTransport=udp:h\nGroup=nope\n",
			    "f.conf:4: device 'd' names unknown group 'nope'");
	expect_config_error(NULL, "[Fleet]\n", "f.conf:1: unknown section [Fleet]");
	expect_config_error(NULL, GROUP "Colour=red\n", "f.conf:5: unknown key 'Colour'");
	expect_config_error(NULL, GROUP "Rate=1\n",
			    "f.conf:5: Rate=1: expected bytes per second like 8k, at least 512 "
			    "(0 = unlimited)");
}

/* fnmatch(3) takes anything; a MatchName= it would never match as meant is refused. */
static void test_malformed_globs_are_config_errors(void **state)
{
	static const struct {
		const char *value, *glob, *why;
	} bad[] = {
		{"[", "[",
		 "'[' opens a set of characters that no ']' closes (write \\[ for a "
		 "literal '[')"},
		{"sensor-[0-9", "sensor-[0-9", "'[' opens a set of characters that no ']' closes"},
		{"[]", "[]", "'[' opens a set of characters that no ']' closes"},
		{"[!]", "[!]", "'[' opens a set of characters that no ']' closes"},
		{"s[[:digit:]", "s[[:digit:]", "'[' opens a set of characters that no ']' closes"},
		{"s[[:digits:]]", "s[[:digits:]]", "unknown character class in [[:...:]]"},
		{"s[z-a]", "s[z-a]",
		 "a range in [...] goes from its lower to its higher end (a-z, "
		 "not z-a): this one matches nothing"},
		/* (at the end of the line a '\\' would continue it) */
		{"sensor\\ x", "sensor\\", "ends in a lone '\\', which matches nothing"},
	};
	char text[256], msg[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), GROUP "MatchName=ok-* %s\n", bad[i].value);
		snprintf(msg, sizeof(msg),
			 "f.conf:5: MatchName=ok-* %s: '%s' is not a usable glob: %s", bad[i].value,
			 bad[i].glob, bad[i].why);
		expect_config_error(NULL, text, msg);
	}
}

static void test_good_globs_load(void **state)
{
	const char *dir = tl_path("globs");
	struct fleet_config *c = NULL;
	struct conf_error err = {""};

	write_conf(dir, "fleet.d/a.conf",
		   GROUP "MatchName=sensor-[0-9]* []x]* [!a-c]? [[:alpha:]]-* \\[lit\\] a[-z]\n");
	assert_int_equal(fleet_config_load(dir, &c, &err), 0);
	assert_int_equal(c->groups[0].n_match_names, 6);
	assert_non_null(fleet_config_group_for(c, "sensor-12", NULL, NULL, 0));
	assert_non_null(fleet_config_group_for(c, "[lit]", NULL, NULL, 0));
	fleet_config_free(c);
}

/* A local image that is not there is said at load, not when a job fails on it. */
static void test_missing_image_file_is_a_warning(void **state)
{
	const char *dir = tl_path("noimg");
	const char *img = tl_path("noimg/here.bin");
	struct fleet_config *c = NULL;
	struct conf_error err = {""};
	char text[1024], want[1024];

	snprintf(text, sizeof(text),
		 "[Group]\nName=a\nVersion=1.0.0\nImage=%s/missing.bin\n"
		 "[Group]\nName=b\nVersion=1.0.0\nImage=%s\n"
		 "[Group]\nName=c\nVersion=1.0.0\nImage=%s\n",
		 dir, img, dir);
	write_conf(dir, "fleet.d/a.conf", text);
	write_conf(dir, "here.bin", "x");
	assert_int_equal(fleet_config_load(dir, &c, &err), 0);
	assert_int_equal(c->n_warnings, 2);
	snprintf(want, sizeof(want),
		 "%s/fleet.d/a.conf:4: group 'a': Image=%s/missing.bin cannot be read (No such "
		 "file or directory); its devices are not updated until it can and otad reloads",
		 dir, dir);
	assert_string_equal(c->warnings[0], want);
	snprintf(want, sizeof(want),
		 "%s/fleet.d/a.conf:12: group 'c': Image=%s cannot be read (Is a directory); its "
		 "devices are not updated until it can and otad reloads",
		 dir, dir);
	assert_string_equal(c->warnings[1], want);
	assert_int_equal(fleet_config_group(c, "a")->image_errno, ENOENT);
	assert_int_equal(fleet_config_group(c, "b")->image_errno, 0);
	assert_int_equal(fleet_config_group(c, "c")->image_errno, EISDIR);
	fleet_config_free(c);
}

static void test_http_allowed_when_configured(void **state)
{
	const char *dir = tl_path("http");
	struct fleet_config *c = NULL;
	struct conf_error err = {""};

	write_conf(dir, "otad.conf", "[Daemon]\nAllowInsecureHTTP=yes\n");
	write_conf(dir, "fleet.d/a.conf",
		   "[Group]\nName=g\nVersion=1.0.0\nImage=http://127.0.0.1:8/x\nSHA256="
		   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
	assert_int_equal(fleet_config_load(dir, &c, &err), 0);
	fleet_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parser_reads_sections_keys_comments_and_continuations),
		cmocka_unit_test(test_parser_errors_name_file_and_line),
		cmocka_unit_test(test_config_loads_settings_groups_devices),
		cmocka_unit_test(test_missing_config_dir_gives_defaults),
		cmocka_unit_test(test_config_errors_name_file_and_line),
		cmocka_unit_test(test_malformed_globs_are_config_errors),
		cmocka_unit_test(test_good_globs_load),
		cmocka_unit_test(test_missing_image_file_is_a_warning),
		cmocka_unit_test(test_http_allowed_when_configured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
