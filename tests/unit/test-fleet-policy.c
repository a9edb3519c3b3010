/* test-fleet-policy.c — who gets the group's image: versions, downgrades, maintenance windows,
 * a group whose image file is missing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "otad/fleet.h"

static struct fleet_group group(const char *version, bool downgrade)
{
	struct fleet_group g = {.name = "g", .allow_downgrade = downgrade};

	assert_int_equal(img_version_parse(version, &g.version), 0);
	img_version_format(&g.version, g.version_text, sizeof(g.version_text));
	return g;
}

static enum fleet_verdict decide(const struct fleet_group *g, const char *running, unsigned min)
{
	struct fleet_decision d;

	fleet_decide(g, running, min, &d);
	assert_true(d.reason[0]);
	return d.verdict;
}

static void test_same_version_is_left_alone(void **state)
{
	struct fleet_group g = group("2.0.0", false);

	assert_int_equal(decide(&g, "2.0.0", 0), FLEET_CURRENT);
	g = group("2.0.0+3", false);
	assert_int_equal(decide(&g, "2.0.0.3", 0), FLEET_CURRENT); /* img_mgmt's form */
}

static void test_older_version_is_updated(void **state)
{
	struct fleet_group g = group("2.0.0", false);

	assert_int_equal(decide(&g, "1.9.9", 0), FLEET_UPDATE);
	assert_int_equal(decide(&g, "1.0.0", 0), FLEET_UPDATE);
	g = group("2.0.0+3", false);
	assert_int_equal(decide(&g, "2.0.0.2", 0), FLEET_UPDATE);
}

static void test_newer_version_is_never_downgraded_unless_allowed(void **state)
{
	struct fleet_group g = group("2.0.0", false);
	struct fleet_decision d;

	fleet_decide(&g, "3.0.0", 0, &d);
	assert_int_equal(d.verdict, FLEET_HOLD_NEWER);
	assert_non_null(strstr(d.reason, "not downgraded"));
	g = group("2.0.0", true);
	assert_int_equal(decide(&g, "3.0.0", 0), FLEET_UPDATE);
}

static void test_group_without_its_image_holds_what_needs_it(void **state)
{
	struct fleet_group g = group("2.0.0", false);
	struct fleet_decision d;

	g.image = "/srv/fw.bin";
	g.image_errno = ENOENT;
	fleet_decide(&g, "1.0.0", 0, &d);
	assert_int_equal(d.verdict, FLEET_HOLD_IMAGE);
	assert_string_equal(fleet_verdict_name(d.verdict), "no-image");
	assert_string_equal(d.reason, "runs 1.0.0, group g wants 2.0.0: its image /srv/fw.bin "
				      "cannot be read (No such file or directory); put it there "
				      "and reload");
	/* a device already current, or newer, is what it was */
	assert_int_equal(decide(&g, "2.0.0", 0), FLEET_CURRENT);
	assert_int_equal(decide(&g, "3.0.0", 0), FLEET_HOLD_NEWER);
}

static void test_unknown_version_is_not_updated(void **state)
{
	struct fleet_group g = group("2.0.0", true);

	assert_int_equal(decide(&g, NULL, 0), FLEET_UNKNOWN);
	assert_int_equal(decide(&g, "bogus", 0), FLEET_UNKNOWN);
}

static void test_maintenance_window_holds_updates_outside(void **state)
{
	struct fleet_group g = group("2.0.0", false);

	assert_int_equal(fleet_parse_window("02:00-04:00", &g.windows[0]), 0);
	assert_int_equal(fleet_parse_window("22:00-01:00", &g.windows[1]), 0); /* over midnight */
	g.n_windows = 2;
	assert_int_equal(decide(&g, "1.0.0", 1 * 60 + 59), FLEET_HOLD_WINDOW);
	assert_int_equal(decide(&g, "1.0.0", 3 * 60), FLEET_UPDATE);
	assert_int_equal(decide(&g, "1.0.0", 23 * 60 + 30), FLEET_UPDATE);
}

static void test_window_edges(void **state)
{
	struct fleet_group g = group("2.0.0", false);

	assert_int_equal(fleet_parse_window("02:00-04:00", &g.windows[0]), 0);
	assert_int_equal(fleet_parse_window("22:00-01:00", &g.windows[1]), 0);
	g.n_windows = 2;
	assert_true(fleet_window_open(&g, 2 * 60));
	assert_true(fleet_window_open(&g, 4 * 60 - 1));
	assert_false(fleet_window_open(&g, 4 * 60));
	assert_false(fleet_window_open(&g, 12 * 60));
	assert_true(fleet_window_open(&g, 23 * 60));
	assert_true(fleet_window_open(&g, 0));
	assert_false(fleet_window_open(&g, 60));
	assert_int_equal(decide(&g, "1.0.0", 12 * 60), FLEET_HOLD_WINDOW);
	assert_int_equal(decide(&g, "2.0.0", 12 * 60), FLEET_CURRENT);
	assert_int_equal(decide(&g, "3.0.0", 12 * 60), FLEET_HOLD_NEWER);
	g.n_windows = 0;
	assert_true(fleet_window_open(&g, 12 * 60));
}

static void test_window_syntax(void **state)
{
	struct fleet_window w;

	assert_int_equal(fleet_parse_window("00:00-24:00", &w), 0);
	assert_int_equal(w.end, 1440);
	assert_int_equal(fleet_parse_window("2:00-4:00", &w), 0);
	assert_int_equal(fleet_parse_window("02:00-02:00", &w), -EINVAL);
	assert_int_equal(fleet_parse_window("02:60-03:00", &w), -EINVAL);
	assert_int_equal(fleet_parse_window("24:30-01:00", &w), -EINVAL);
	assert_int_equal(fleet_parse_window("02:00", &w), -EINVAL);
	assert_int_equal(fleet_parse_window("02:00-03:00x", &w), -EINVAL);
	assert_int_equal(fleet_parse_window("2:30-23:59", &w), 0);
	assert_int_equal(w.start, 150);
	assert_int_equal(w.end, 23 * 60 + 59);
	for (const char *const *bad = (const char *const[]){"", "02:00-", "-04:00", "02:00-04:00 ",
			" 02:00-04:00", "25:00-02:00", "02:0-04:00", "002:00-04:00", "02-04",
			"02:00~04:00", "a2:00-04:00", "02:00-04:00-05:00", "+2:00-04:00", NULL};
	     *bad; bad++)
		assert_int_equal(fleet_parse_window(*bad, &w), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_version_is_left_alone),
		cmocka_unit_test(test_older_version_is_updated),
		cmocka_unit_test(test_newer_version_is_never_downgraded_unless_allowed),
		cmocka_unit_test(test_group_without_its_image_holds_what_needs_it),
		cmocka_unit_test(test_unknown_version_is_not_updated),
		cmocka_unit_test(test_maintenance_window_holds_updates_outside),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_window_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
