/* test-ble-bonds.c — otactl's bond store over emulated Bluetooth LE (BlueZ's btvirt) with
 * otasim demanding an encrypted link: `pair` keeps the bond, a later otactl process
 * re-encrypts with it instead of pairing; `bonds` lists it without its key; `unpair` removes
 * it; a device that lost its bonds at a reset (otasim --forget-bonds) fails with exit 13 and
 * the way out, which --repair takes, also within an update through that reset; a garbage or
 * truncated bond file is named and left alone; the file is private (0600) and replaced
 * atomically; the options checked. */
#include <dirent.h>
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

#include "lib/btvirt.h"
#include "lib/simctl.h"
#include "lib/testlib.h"
#include "util/fileio.h"

#define SPEED	      "20"
#define EXIT_SECURITY 13 /* otactl(1) */

struct fx {
	struct btvirt bv;
	struct tl_sim sim;
	bool sim_running;
	char state[512], bonds[600];
};

static int setup(void **state)
{
	static unsigned n;
	struct fx *f;
	int r;

	if (!btvirt_available())
		skip();
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	/* a state directory per case: btvirt gives the device the same address every time */
	snprintf(f->state, sizeof(f->state), "%s", tl_path(""));
	snprintf(f->state + strlen(f->state), sizeof(f->state) - strlen(f->state), "state-%u", n++);
	snprintf(f->bonds, sizeof(f->bonds), "%s/otad/bonds", f->state);
	setenv("XDG_STATE_HOME", f->state, 1);
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
	btvirt_stop(&f->bv);
	free(f);
	return tl_reap_tracked(state);
}

static void start_sim(struct fx *f, const char *name, const char *const *extra)
{
	assert_int_equal(tl_sim_start_ble(&f->sim, name, f->bv.spec, extra), 0);
	f->sim_running = true;
}

static char *stop_sim(struct fx *f)
{
	f->sim_running = false;
	assert_int_equal(tl_sim_stop(&f->sim), 0);
	return tl_proc_stderr(&f->sim.proc);
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
	r = tl_run((char *const *)argv, 60000, out, &e);
	if (e && *e && !err)
		fprintf(stderr, "otactl stderr: %s\n", e);
	if (err)
		*err = e;
	else
		free(e);
	return r;
}

static unsigned count(const char *s, const char *needle)
{
	unsigned n = 0;

	for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The bond file's directory holds nothing but it: no temporary file left behind. */
static void assert_only_the_bond_file(const struct fx *f)
{
	char dir[620];
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/otad", f->state);
	dp = opendir(dir);
	assert_non_null(dp);
	while ((d = readdir(dp)))
		if (d->d_name[0] != '.')
			assert_string_equal(d->d_name, "bonds");
	closedir(dp);
}

static void test_pair_keeps_a_bond_that_a_new_process_encrypts_with(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--speed", SPEED, "--security", "encrypt", NULL};
	char *out = NULL, *file, *log, ltk[40] = "", want[64];
	struct stat st;
	const char *k;

	start_sim(f, "otasim-bond", extra);
	assert_int_equal(otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "pair", NULL),
			 0);
	snprintf(want, sizeof(want), "paired with %s/public", f->sim.ble_addr);
	assert_true(tl_contains(out, want));
	assert_true(tl_contains(out, "security level 2, key size 16; bond kept in"));
	free(out);
	/* private, whole, alone */
	assert_int_equal(stat(f->bonds, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_only_the_bond_file(f);
	file = tl_read_file(f->bonds);
	assert_non_null(file);
	snprintf(want, sizeof(want), "bond %s/public level=2 key_size=16", f->sim.ble_addr);
	assert_true(tl_contains(file, want));
	k = strstr(file, "ltk=");
	assert_non_null(k);
	memcpy(ltk, k + 4, 32);
	free(file);

	/* a new process: the stored key, no pairing */
	assert_int_equal(
		otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "echo", "again", NULL),
		0);
	assert_true(tl_contains(out, "again"));
	free(out);
	assert_int_equal(otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "pair", NULL),
			 0);
	assert_true(tl_contains(out, "is bonded already"));
	free(out);

	/* listed, never with the key */
	assert_int_equal(otactl(&out, NULL, "bonds", NULL), 0);
	snprintf(want, sizeof(want), "%s/public", f->sim.ble_addr);
	assert_true(tl_contains(out, want));
	assert_true(tl_contains(out, "ADDRESS"));
	assert_false(tl_contains(out, ltk));
	free(out);
	assert_int_equal(otactl(&out, NULL, "bonds", "--json", NULL), 0);
	snprintf(want, sizeof(want), "\"address\":\"%s\"", f->sim.ble_addr);
	assert_true(tl_contains(out, want));
	assert_true(tl_contains(out, "\"level\":2"));
	assert_true(tl_contains(out, "\"key_size\":16"));
	assert_false(tl_contains(out, ltk));
	free(out);

	/* the in-process upload of the daemon command too, by address */
	snprintf(want, sizeof(want), "ble:%s", f->sim.ble_addr);
	assert_int_equal(otactl(&out, NULL, "--hci", f->bv.spec, "upload", "--direct", want,
				tl_mkimage("bonds-direct.bin", "1.0.1", "8k"), NULL),
			 0);
	free(out);

	log = stop_sim(f);
	assert_int_equal(count(log, "ble: link encrypted, security level 2 (bonded)"), 1);
	/* echo, pair, and the upload before and after its reset */
	assert_int_equal(count(log, "ble: link encrypted, security level 2 (bond)"), 4);
	free(log);

	/* unpair: gone from the store and the list */
	assert_int_equal(otactl(&out, NULL, "unpair", "--json", f->sim.ble_addr, NULL), 0);
	snprintf(want, sizeof(want), "{\"removed\":\"%s\"}", f->sim.ble_addr);
	assert_true(tl_contains(out, want));
	free(out);
	assert_int_equal(otactl(&out, NULL, "bonds", NULL), 0);
	assert_true(tl_contains(out, "no bonds in"));
	free(out);
	file = tl_read_file(f->bonds);
	assert_false(tl_contains(file, "bond "));
	free(file);
	assert_int_equal(otactl(NULL, &out, "unpair", f->sim.ble_addr, NULL), 2);
	assert_true(tl_contains(out, "no bond with"));
	free(out);
}

static void test_a_device_that_lost_its_bond_fails_until_repair(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--speed", SPEED, "--security", "encrypt", "--forget-bonds", NULL};
	char *out = NULL, *err = NULL, *log, *before, *after;
	size_t boots;

	start_sim(f, "otasim-forget", extra);
	assert_int_equal(otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "pair", NULL),
			 0);
	free(out);
	boots = tl_sim_count_events(&f->sim, "boot", NULL, NULL);
	assert_int_equal(otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "reset", NULL),
			 0);
	free(out);
	for (int i = 0; i < 500 && tl_sim_count_events(&f->sim, "boot", NULL, NULL) == boots; i++)
		usleep(10000); /* until it has booted: it forgets at boot */
	assert_true(tl_sim_count_events(&f->sim, "boot", NULL, NULL) > boots);
	before = tl_read_file(f->bonds);
	/* the device answers our key with PIN or Key Missing: no new pairing behind our back */
	assert_int_equal(
		otactl(NULL, &err, "-t", f->sim.spec, "--hci", f->bv.spec, "echo", "x", NULL),
		EXIT_SECURITY);
	assert_true(tl_contains(err, "has lost the key of our pairing"));
	assert_true(tl_contains(err, "PIN or Key Missing"));
	assert_true(tl_contains(err, "--repair"));
	free(err);
	after = tl_read_file(f->bonds);
	assert_string_equal(before, after); /* the bond stays until it is replaced */
	free(after);
	/* --repair pairs again and replaces the bond */
	assert_int_equal(otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "--repair",
				"echo", "repaired", NULL),
			 0);
	assert_true(tl_contains(out, "repaired"));
	free(out);
	after = tl_read_file(f->bonds);
	assert_string_not_equal(before, after);
	assert_int_equal(count(after, "bond "), 1);
	free(after);
	free(before);
	assert_int_equal(
		otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "echo", "y", NULL), 0);
	free(out);
	log = stop_sim(f);
	assert_true(tl_contains(log, "ble: 1 bond lost at boot (--forget-bonds)"));
	assert_int_equal(count(log, "ble: link encrypted, security level 2 (bonded)"), 2);
	/* the reset command, and the echo after --repair */
	assert_int_equal(count(log, "ble: link encrypted, security level 2 (bond)"), 2);
	free(log);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp;
	char dir[620];

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = 0;
	assert_int_equal(mkdir_p(dir, 0700), 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_a_garbage_bond_file_is_named_and_left_alone(void **state)
{
	static const char *const cases[][2] = {
		{"format 1\nbond C0:11:22:33:44:55 level=2\n", ":2: a bond starts with"},
		{"format 1\nidentity C3:11:22:33:44:55 irk=00", "truncated"},
		{"\x7f"
		 "ELF\x02\x01",
		 "not a bond store"},
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err = NULL, *now;

		write_file(f->bonds, cases[i][0]);
		assert_int_equal(otactl(NULL, &err, "-t", "ble:name=nobody", "--hci", f->bv.spec,
					"echo", "x", NULL),
				 1);
		assert_true(tl_contains(err, f->bonds));
		assert_true(tl_contains(err, cases[i][1]));
		assert_true(tl_contains(err, "move it away"));
		free(err);
		assert_int_equal(otactl(NULL, &err, "bonds", NULL), 1);
		assert_true(tl_contains(err, cases[i][1]));
		free(err);
		now = tl_read_file(f->bonds);
		assert_string_equal(now, cases[i][0]);
		free(now);
	}
}

/* One otactl process through the reset: its key is refused after it, --repair pairs again. */
static void test_an_update_through_a_reset_that_loses_the_bond(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--speed", SPEED, "--security", "encrypt", "--forget-bonds", NULL};
	const char *img = tl_mkimage("bonds-forget.bin", "1.2.0", "8k");
	char *out = NULL, *err = NULL, *log;

	start_sim(f, "otasim-update-lost", extra);
	assert_int_equal(
		otactl(&out, &err, "-t", f->sim.spec, "--hci", f->bv.spec, "update", img, NULL),
		EXIT_SECURITY);
	assert_true(tl_contains(out, "failed (security, during boot)"));
	assert_true(tl_contains(out, "has lost the key of our pairing: the peer has no key for our "
				     "bond (PIN or Key Missing); not pairing again unless told to "
				     "(--repair)"));
	free(out);
	free(err);
	log = stop_sim(f);
	assert_int_equal(count(log, "security level 2 (bonded)"), 1);
	free(log);

	start_sim(f, "otasim-update-repair", extra);
	assert_int_equal(otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "--repair",
				"update", img, NULL),
			 0);
	assert_true(tl_contains(out, "done: device runs 1.2.0"));
	free(out);
	log = stop_sim(f);
	assert_true(tl_contains(log, "ble: 1 bond lost at boot (--forget-bonds)"));
	assert_int_equal(count(log, "security level 2 (bonded)"), 2); /* before and after */
	assert_int_equal(count(log, "security level 2 (bond)"), 0);
	free(log);
}

static void test_the_options_are_checked(void **state)
{
	struct fx *f = *state;
	char *err = NULL;

	assert_int_equal(otactl(NULL, &err, "-t", "udp:127.0.0.1", "--repair", "echo", "x", NULL),
			 2);
	assert_true(tl_contains(err, "--repair are for BLE devices"));
	free(err);
	assert_int_equal(otactl(NULL, &err, "-t", "udp:127.0.0.1", "pair", NULL), 2);
	assert_true(tl_contains(err, "pair (a BLE device)"));
	free(err);
	assert_int_equal(otactl(NULL, &err, "unpair", "C0:11:22", NULL), 2);
	assert_true(tl_contains(err, "usage: otactl unpair ADDRESS"));
	free(err);
	assert_int_equal(otactl(NULL, &err, "bonds", "x", NULL), 2);
	free(err);
	assert_int_equal(tl_run((char *const[]){(char *)tl_bin("otasim"), "--udp", "127.0.0.1:0",
						"--forget-bonds", NULL},
				10000, NULL, &err),
			 2);
	assert_true(tl_contains(err, "--forget-bonds need --ble"));
	free(err);
	(void)f;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_pair_keeps_a_bond_that_a_new_process_encrypts_with, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_device_that_lost_its_bond_fails_until_repair,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_garbage_bond_file_is_named_and_left_alone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_update_through_a_reset_that_loses_the_bond,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_options_are_checked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
