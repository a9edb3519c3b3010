/* test-testlib.c — the harness itself: a child that dies from a signal the test did not send has
 * crashed, and that fails the test even when nobody looks at its exit status; a child the test
 * kills is not a crash. Each case runs in a copy of this program, whose verdict is checked. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/testlib.h"

#define CHILD_ENV "OTAD_TESTLIB_CASE"

/* ---- the cases, run in the copy ----------------------------------------------------------- */

static void case_crash_ignored_result(void **state)
{
	char *argv[] = {"sh", "-c", "ulimit -c 0; kill -SEGV $$", NULL};
	struct tl_proc p;

	assert_int_equal(tl_spawn(&p, argv), 0);
	(void)tl_proc_wait(&p, 5000); /* like a teardown that does not check */
}

static void case_killed_by_the_test(void **state)
{
	char *argv[] = {"sleep", "30", NULL};
	struct tl_proc p;

	assert_int_equal(tl_spawn(&p, argv), 0);
	tl_proc_kill(&p, SIGKILL);
	assert_int_equal(tl_proc_wait(&p, 5000), 128 + SIGKILL);
	assert_int_equal(tl_spawn(&p, argv), 0);
	tl_proc_kill(&p, SIGTERM);
	assert_int_equal(tl_proc_wait(&p, 5000), 128 + SIGTERM);
}

/* Stopped and continued by the test, then dead from a signal it did not send. */
static void case_crash_after_stop_and_continue(void **state)
{
	char *argv[] = {"sh", "-c", "ulimit -c 0; sleep 0.2; kill -ABRT $$", NULL};
	struct tl_proc p;

	assert_int_equal(tl_spawn(&p, argv), 0);
	tl_proc_kill(&p, SIGSTOP);
	tl_proc_kill(&p, SIGCONT);
	assert_int_equal(tl_proc_wait(&p, 5000), 128 + SIGABRT);
}

static int run_case(const char *name)
{
	const struct CMUnitTest crash[] = {cmocka_unit_test(case_crash_ignored_result)};
	const struct CMUnitTest killed[] = {cmocka_unit_test(case_killed_by_the_test)};
	const struct CMUnitTest abrt[] = {cmocka_unit_test(case_crash_after_stop_and_continue)};

	if (!strcmp(name, "crash"))
		return cmocka_run_group_tests(crash, NULL, NULL);
	if (!strcmp(name, "killed"))
		return cmocka_run_group_tests(killed, NULL, NULL);
	return cmocka_run_group_tests(abrt, NULL, NULL);
}

/* ---- the checks ---------------------------------------------------------------------------- */

/* Runs this program on one case: its exit status, and what it printed. */
static int copy(const char *name, char **ret_out)
{
	char *argv[] = {(char *)tl_bin("test-testlib"), NULL};
	char *out = NULL, *err = NULL;
	int r;

	setenv(CHILD_ENV, name, 1);
	r = tl_run(argv, tl_timeout(30000), &out, &err);
	unsetenv(CHILD_ENV);
	if (asprintf(ret_out, "%s%s", out ? out : "", err ? err : "") < 0)
		*ret_out = NULL;
	free(out);
	free(err);
	return r;
}

static void test_a_child_dying_from_an_unsent_signal_fails_the_test(void **state)
{
	char *out = NULL;

	assert_int_not_equal(copy("crash", &out), 0);
	assert_true(tl_contains(out, "sh died from signal 11 (Segmentation fault)"));
	assert_true(tl_contains(out, "sh crashed: signal 11"));
	assert_true(tl_contains(out, "[  FAILED  ] 1 test(s)"));
	free(out);
	assert_int_not_equal(copy("abort", &out), 0);
	assert_true(tl_contains(out, "sh crashed: signal 6 (Aborted)"));
	free(out);
}

static void test_a_child_the_test_killed_is_no_crash(void **state)
{
	char *out = NULL;

	assert_int_equal(copy("killed", &out), 0);
	assert_false(tl_contains(out, "crashed"));
	assert_true(tl_contains(out, "[  PASSED  ] 1 test(s)"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_child_dying_from_an_unsent_signal_fails_the_test),
		cmocka_unit_test(test_a_child_the_test_killed_is_no_crash),
	};
	const char *name = getenv(CHILD_ENV);

	if (name)
		return run_case(name);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
