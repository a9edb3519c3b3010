/* test-ble-security.c — otactl and otasim over emulated Bluetooth LE (BlueZ's btvirt) with LE
 * security: a device whose SMP characteristic needs encryption (Just Works) or authentication
 * (its fixed passkey), paired on demand from its ATT error or up front with --security; the
 * whole verified update, whose reconnect after the reset re-encrypts with the key of the
 * pairing; a wrong passkey failing at once with its exit code; --security none refused by such
 * a device; the options checked. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/btvirt.h"
#include "lib/simctl.h"
#include "lib/testlib.h"

#define SPEED	      "20"
#define EXIT_SECURITY 13 /* otactl(1) */

struct fx {
	struct btvirt bv;
	struct tl_sim sim;
	bool sim_running;
};

static int setup(void **state)
{
	static unsigned n;
	char dir[64];
	struct fx *f;
	int r;

	if (!btvirt_available())
		skip();
	/* bonds per case: btvirt gives each case's device the same address */
	snprintf(dir, sizeof(dir), "state-%u", n++);
	setenv("XDG_STATE_HOME", tl_path(dir), 1);
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
	btvirt_stop(&f->bv);
	free(f);
	return tl_reap_tracked(state);
}

static void start_sim(struct fx *f, const char *name, const char *const *extra)
{
	assert_int_equal(tl_sim_start_ble(&f->sim, name, f->bv.spec, extra), 0);
	f->sim_running = true;
}

/* otasim's stderr after it stopped. */
static char *stop_sim(struct fx *f)
{
	f->sim_running = false;
	assert_int_equal(tl_sim_stop(&f->sim), 0);
	return tl_proc_stderr(&f->sim.proc);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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
	return tl_run((char *const *)argv, 10000, NULL, err);
}

static void test_encrypt_just_works_on_demand_and_up_front(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--speed", SPEED, "--security", "encrypt", NULL};
	const char *img = tl_mkimage("sec-enc.bin", "1.1.0", "8k");
	char *out = NULL, *log;

	start_sim(f, "otasim-enc", extra);
	/* no --security: the device's ATT error asks for it */
	assert_int_equal(
		otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "echo", "hello", NULL),
		0);
	assert_true(tl_contains(out, "hello"));
	free(out);
	assert_int_equal(otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "--security",
				"encrypt", "image", "upload", img, NULL),
			 0);
	free(out);
	assert_true(tl_sim_count_events(&f->sim, "upload", "result", "ok") > 0);
	log = stop_sim(f);
	assert_true(tl_contains(log, "ble: link encrypted, security level 2 (bonded)"));
	free(log);
}

static void test_authenticated_passkey_update_reencrypts_after_the_reset(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--speed",   SPEED,    "--security", "authenticated",
			       "--passkey", "123456", NULL};
	const char *img = tl_mkimage("sec-auth.bin", "2.0.0", "8k");
	char *out = NULL, *log;

	start_sim(f, "otasim-auth", extra);
	assert_int_equal(otactl(&out, NULL, "-t", f->sim.spec, "--hci", f->bv.spec, "--passkey",
				"123456", "update", img, NULL),
			 0);
	assert_true(tl_contains(out, "done: device runs 2.0.0"));
	free(out);
	log = stop_sim(f);
	assert_true(tl_contains(log, "ble: passkey 123456"));
	/* paired once (level 4: Secure Connections, authenticated), then the same key after
	 * the reset, without a second pairing */
	assert_true(tl_contains(log, "ble: link encrypted, security level 4 (bonded)"));
	assert_true(tl_contains(log, "ble: link encrypted, security level 4 (bond)"));
	assert_false(tl_contains(log, "pairing failed"));
	free(log);
}

static void test_wrong_passkey_fails_at_once_with_its_exit_code(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--security", "authenticated", "--passkey", "123456", NULL};
	char *err = NULL, *log;
	uint64_t t0;

	start_sim(f, "otasim-wrong", extra);
	t0 = now_ms();
	assert_int_equal(otactl(NULL, &err, "-t", f->sim.spec, "--hci", f->bv.spec, "--passkey",
				"123457", "--security", "authenticated", "echo", "x", NULL),
			 EXIT_SECURITY);
	assert_true(now_ms() - t0 < 5000); /* no retry, no timeout: the device said no */
	assert_true(tl_contains(err,
				"pairing with ble:name=otasim-wrong failed: "
				"the peer failed pairing: Confirm Value Failed (wrong passkey)"));
	free(err);
	/* on demand (no --security) the same */
	assert_int_equal(otactl(NULL, &err, "-t", f->sim.spec, "--hci", f->bv.spec, "--passkey",
				"654321", "echo", "x", NULL),
			 EXIT_SECURITY);
	assert_true(tl_contains(err, "(wrong passkey)"));
	free(err);
	/* nor without a passkey to give */
	assert_int_equal(
		otactl(NULL, &err, "-t", f->sim.spec, "--hci", f->bv.spec, "echo", "x", NULL),
		EXIT_SECURITY);
	assert_true(tl_contains(err, "give --passkey N"));
	free(err);
	log = stop_sim(f);
	assert_true(tl_contains(log, "ble: pairing failed: confirm value mismatch: wrong passkey"));
	free(log);
}

static void test_security_none_is_refused_by_a_device_that_needs_it(void **state)
{
	struct fx *f = *state;
	const char *extra[] = {"--security", "encrypt", NULL};
	char *err = NULL;

	start_sim(f, "otasim-none", extra);
	assert_int_equal(otactl(NULL, &err, "-t", f->sim.spec, "--hci", f->bv.spec, "--security",
				"none", "echo", "x", NULL),
			 EXIT_SECURITY);
	assert_true(tl_contains(err, "refuses SMP on this link: ATT error 0x0f"));
	free(err);
}

static void test_security_options_are_checked(void **state)
{
	struct fx *f = *state;
	char *err = NULL;

	assert_int_equal(otasim(&err, "--ble", "--hci", f->bv.spec, "--security", "high", NULL), 2);
	assert_true(tl_contains(err, "invalid --security (encrypt, authenticated) 'high'"));
	free(err);
	assert_int_equal(otasim(&err, "--ble", "--hci", f->bv.spec, "--passkey", "1234567", NULL),
			 2);
	assert_true(tl_contains(err, "invalid --passkey (0..999999)"));
	free(err);
	assert_int_equal(otasim(&err, "--ble", "--hci", f->bv.spec, "--io-caps", "mouse", NULL), 2);
	assert_true(tl_contains(err, "invalid --io-caps"));
	free(err);
	assert_int_equal(otasim(&err, "--udp", "127.0.0.1:0", "--security", "encrypt", NULL), 2);
	assert_true(tl_contains(err, "need --ble"));
	free(err);
	assert_int_equal(
		otactl(NULL, &err, "-t", "udp:127.0.0.1", "--passkey", "1", "echo", "x", NULL), 2);
	assert_true(tl_contains(err, "--security, --passkey and --repair are for BLE devices"));
	free(err);
	assert_int_equal(otactl(NULL, &err, "-t", "ble:name=x", "--hci", f->bv.spec, "--security",
				"authenticated", "echo", "x", NULL),
			 2);
	assert_true(tl_contains(err, "--security authenticated needs --passkey N"));
	free(err);
	assert_int_equal(otactl(NULL, &err, "-t", "ble:name=x", "--hci", f->bv.spec, "--security",
				"max", "echo", "x", NULL),
			 2);
	assert_true(tl_contains(err, "--security takes none, encrypt or authenticated"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_encrypt_just_works_on_demand_and_up_front,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_authenticated_passkey_update_reencrypts_after_the_reset, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_wrong_passkey_fails_at_once_with_its_exit_code,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_security_none_is_refused_by_a_device_that_needs_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_security_options_are_checked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
