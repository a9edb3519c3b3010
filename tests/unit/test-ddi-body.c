/* test-ddi-body.c — what otad sends a DDI server (src/ddi/body.c), byte for byte: feedback with
 * progress and details (the shape of hawkBit's DdiActionFeedback), a cancel answer, configData,
 * and what is refused; and the decisions of src/ddi/plan.c: outcomes, backoff, the polling
 * sleep, ids that may go into a URL. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/ddi.h"

/* 2024-03-05 06:07:08 UTC */
#define NOW ((time_t)1709618828)

static void feedback_is(const struct ddi_feedback *fb, const char *want)
{
	char *body = NULL;

	assert_int_equal(ddi_feedback_json(fb, NOW, &body), 0);
	assert_string_equal(body, want);
	free(body);
}

static void test_feedback_progress_and_result(void **state)
{
	static const char *const details[] = {"upload: 40960 of 131072 bytes", "a \"quoted\" / \\",
					      NULL};
	struct ddi_feedback fb = {.action = "42",
				  .execution = DDI_EXEC_PROCEEDING,
				  .progress_cnt = 2,
				  .progress_of = 6,
				  .details = details};

	feedback_is(&fb, "{\"id\":\"42\",\"time\":\"20240305T060708\",\"status\":{\"execution\":"
			 "\"proceeding\",\"result\":{\"finished\":\"none\",\"progress\":{\"cnt\":2,"
			 "\"of\":6}},\"details\":[\"upload: 40960 of 131072 bytes\",\"a "
			 "\\\"quoted\\\" / \\\\\"]}}");
	fb = (struct ddi_feedback){.action = "42", .execution = DDI_EXEC_DOWNLOADED};
	feedback_is(&fb, "{\"id\":\"42\",\"time\":\"20240305T060708\",\"status\":{\"execution\":"
			 "\"downloaded\",\"result\":{\"finished\":\"none\"}}}");
	fb = (struct ddi_feedback){
		.action = "42",
		.execution = DDI_EXEC_CLOSED,
		.finished = DDI_FINISHED_FAILURE,
		.details = (const char *const[]){"refused: bootloader kept 1.0.0", NULL}};
	feedback_is(&fb, "{\"id\":\"42\",\"time\":\"20240305T060708\",\"status\":{\"execution\":"
			 "\"closed\",\"result\":{\"finished\":\"failure\"},\"details\":[\"refused: "
			 "bootloader kept 1.0.0\"]}}");
	fb.finished = DDI_FINISHED_SUCCESS;
	fb.details = NULL;
	fb.progress_cnt = fb.progress_of = 6;
	feedback_is(&fb, "{\"id\":\"42\",\"time\":\"20240305T060708\",\"status\":{\"execution\":"
			 "\"closed\",\"result\":{\"finished\":\"success\",\"progress\":{\"cnt\":6,"
			 "\"of\":6}}}}");
}

static void test_feedback_details_cut_at_a_character(void **state)
{
	char detail[DDI_DETAIL_MAX + 10], *body = NULL, want[DDI_DETAIL_MAX + 200];
	const char *details[] = {detail, NULL};
	struct ddi_feedback fb = {
		.action = "1", .execution = DDI_EXEC_PROCEEDING, .details = details};

	/* 511 'a' then a two-byte character across the limit: cut before it */
	memset(detail, 'a', DDI_DETAIL_MAX - 1);
	strcpy(detail + DDI_DETAIL_MAX - 1, "\xc3\xa9xyz");
	assert_int_equal(ddi_feedback_json(&fb, NOW, &body), 0);
	snprintf(want, sizeof(want), "\"details\":[\"%.*s\"]", DDI_DETAIL_MAX - 1, detail);
	assert_non_null(strstr(body, want));
	free(body);
}

static void test_feedback_refused(void **state)
{
	struct ddi_feedback fb = {.action = "42", .execution = DDI_EXEC_CLOSED};
	char *body = NULL;

	assert_int_equal(ddi_feedback_json(&fb, NOW, &body), -EINVAL); /* closed without a result */
	fb = (struct ddi_feedback){.action = "4/2", .execution = DDI_EXEC_PROCEEDING};
	assert_int_equal(ddi_feedback_json(&fb, NOW, &body), -EINVAL);
	fb = (struct ddi_feedback){.execution = DDI_EXEC_PROCEEDING};
	assert_int_equal(ddi_feedback_json(&fb, NOW, &body), -EINVAL);
	fb = (struct ddi_feedback){.action = "1",
				   .execution = DDI_EXEC_PROCEEDING,
				   .progress_cnt = 7,
				   .progress_of = 6};
	assert_int_equal(ddi_feedback_json(&fb, NOW, &body), -EINVAL);
	fb.execution = (enum ddi_execution)99;
	fb.progress_cnt = 1;
	assert_int_equal(ddi_feedback_json(&fb, NOW, &body), -EINVAL);
	assert_null(body);
}

static void test_execution_names_and_finality(void **state)
{
	static const char *const names[] = {"proceeding", "scheduled", "resumed",  "download",
					    "downloaded", "closed",    "canceled", "rejected"};

	for (int e = DDI_EXEC_PROCEEDING; e <= DDI_EXEC_REJECTED; e++) {
		assert_string_equal(ddi_execution_name((enum ddi_execution)e), names[e]);
		assert_int_equal(ddi_execution_final((enum ddi_execution)e), e >= DDI_EXEC_CLOSED);
	}
	assert_string_equal(ddi_finished_name(DDI_FINISHED_SUCCESS), "success");
	assert_string_equal(ddi_finished_name(DDI_FINISHED_NONE), "none");
}

static void test_config_data(void **state)
{
	char value[DDI_ATTR_VALUE_MAX + 20], key[DDI_ATTR_KEY_MAX + 2], *body = NULL;
	struct ddi_attr attrs[] = {{"version", "2.1.0"},
				   {"hash", "0b1ee2a7"},
				   {"mode", "swap-using-offset"},
				   {"address", "udp:192.0.2.10"},
				   {"gateway", "gw-\"hall\"/1"}};

	assert_int_equal(ddi_config_json(attrs, 5, &body), 0);
	assert_string_equal(body, "{\"mode\":\"merge\",\"data\":{\"version\":\"2.1.0\",\"hash\":"
				  "\"0b1ee2a7\",\"mode\":\"swap-using-offset\",\"address\":"
				  "\"udp:192.0.2.10\",\"gateway\":\"gw-\\\"hall\\\"/1\"}}");
	free(body);
	assert_int_equal(ddi_config_json(NULL, 0, &body), 0);
	assert_string_equal(body, "{\"mode\":\"merge\",\"data\":{}}");
	free(body);
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = 0;
	attrs[0].value = value;
	assert_int_equal(ddi_config_json(attrs, 1, &body), 0);
	assert_int_equal(strlen(body), strlen("{\"mode\":\"merge\",\"data\":{\"version\":\"\"}}") +
					       DDI_ATTR_VALUE_MAX);
	free(body);
	body = NULL;
	attrs[1].key = "version";
	assert_int_equal(ddi_config_json(attrs, 2, &body), -EINVAL); /* twice */
	attrs[1].key = "";
	assert_int_equal(ddi_config_json(attrs, 2, &body), -EINVAL);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = 0;
	attrs[1].key = key;
	assert_int_equal(ddi_config_json(attrs, 2, &body), -EINVAL);
	assert_null(body);
}

static void test_outcomes(void **state)
{
	assert_int_equal(ddi_outcome_of(0, 200), DDI_OUTCOME_OK);
	assert_int_equal(ddi_outcome_of(0, 204), DDI_OUTCOME_OK);
	assert_int_equal(ddi_outcome_of(-ETIMEDOUT, 0), DDI_OUTCOME_RETRY);
	assert_int_equal(ddi_outcome_of(-ECONNREFUSED, 0), DDI_OUTCOME_RETRY);
	assert_int_equal(ddi_outcome_of(-EFBIG, 0), DDI_OUTCOME_RETRY);
	assert_int_equal(ddi_outcome_of(0, 500), DDI_OUTCOME_RETRY);
	assert_int_equal(ddi_outcome_of(0, 503), DDI_OUTCOME_RETRY);
	assert_int_equal(ddi_outcome_of(0, 429), DDI_OUTCOME_RETRY);
	assert_int_equal(ddi_outcome_of(0, 408), DDI_OUTCOME_RETRY);
	assert_int_equal(ddi_outcome_of(0, 409), DDI_OUTCOME_RETRY);
	assert_int_equal(ddi_outcome_of(0, 401), DDI_OUTCOME_AUTH);
	assert_int_equal(ddi_outcome_of(0, 403), DDI_OUTCOME_AUTH);
	assert_int_equal(ddi_outcome_of(0, 404), DDI_OUTCOME_GONE);
	assert_int_equal(ddi_outcome_of(0, 410), DDI_OUTCOME_GONE);
	assert_int_equal(ddi_outcome_of(0, 400), DDI_OUTCOME_REFUSED);
	assert_int_equal(ddi_outcome_of(0, 415), DDI_OUTCOME_REFUSED);
	assert_int_equal(ddi_outcome_of(0, 302), DDI_OUTCOME_REFUSED);
}

static void test_backoff_doubles_up_to_its_cap(void **state)
{
	static const uint64_t want[] = {100, 100, 200, 400, 800, 1000, 1000};

	for (unsigned i = 1; i < 7; i++)
		assert_int_equal(ddi_backoff_usec(i, 100, 1000), want[i]);
	assert_int_equal(ddi_backoff_usec(1000000, 100, 1000), 1000); /* no overflow */
	assert_true(ddi_backoff_usec(64, 5000000, UINT64_MAX / 2) == UINT64_MAX / 2);
	assert_true(ddi_backoff_usec(70, 3, UINT64_MAX) == UINT64_MAX);
}

static void test_sleep_is_hh_mm_ss(void **state)
{
	uint64_t u = 1;

	assert_int_equal(ddi_sleep_parse("00:00:01", &u), 0);
	assert_true(u == 1000000);
	assert_int_equal(ddi_sleep_parse("12:00:00", &u), 0);
	assert_true(u == 12ULL * 3600 * 1000000);
	assert_int_equal(ddi_sleep_parse("100:59:59", &u), 0);
	assert_true(u == (100ULL * 3600 + 59 * 60 + 59) * 1000000);
	assert_int_equal(ddi_sleep_parse("00:00:00", &u), 0);
	assert_true(u == 0);
	assert_int_equal(ddi_sleep_parse("00:60:00", &u), -EINVAL);
	assert_int_equal(ddi_sleep_parse("00:00:60", &u), -EINVAL);
	assert_int_equal(ddi_sleep_parse("5:00", &u), -EINVAL);
	assert_int_equal(ddi_sleep_parse("00:5:00", &u), -EINVAL);
	assert_int_equal(ddi_sleep_parse(":00:00", &u), -EINVAL);
	assert_int_equal(ddi_sleep_parse("00:00:00 ", &u), -EINVAL);
	assert_int_equal(ddi_sleep_parse("-1:00:00", &u), -EINVAL);
	assert_int_equal(ddi_sleep_parse("", &u), -EINVAL);
}

static void test_ids_fit_a_path_segment(void **state)
{
	assert_true(ddi_id_valid("42", DDI_ID_MAX, false));
	assert_true(ddi_id_valid("a-b_c.d~e", DDI_ID_MAX, false));
	assert_false(ddi_id_valid("", DDI_ID_MAX, false));
	assert_false(ddi_id_valid("..", DDI_ID_MAX, false));
	assert_false(ddi_id_valid("a/b", DDI_ID_MAX, false));
	assert_false(ddi_id_valid("a b", DDI_ID_MAX, false));
	assert_false(ddi_id_valid("a%20", DDI_ID_MAX, false));
	assert_false(ddi_id_valid("a?b", DDI_ID_MAX, false));
	assert_false(ddi_id_valid("c4:5b:be:01:02:03", DDI_ID_MAX, false));
	assert_true(ddi_id_valid("c4:5b:be:01:02:03", DDI_CID_MAX, true));
	assert_true(ddi_id_valid("sensor@hall-2", DDI_CID_MAX, true));
	assert_false(ddi_id_valid("sensor#2", DDI_CID_MAX, true));
	assert_false(ddi_id_valid("abc", 2, true));
	assert_string_equal(ddi_link_name(DDI_LINK_UNAUTHORIZED), "unauthorized");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feedback_progress_and_result),
		cmocka_unit_test(test_feedback_details_cut_at_a_character),
		cmocka_unit_test(test_feedback_refused),
		cmocka_unit_test(test_execution_names_and_finality),
		cmocka_unit_test(test_config_data),
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_backoff_doubles_up_to_its_cap),
		cmocka_unit_test(test_sleep_is_hh_mm_ss),
		cmocka_unit_test(test_ids_fit_a_path_segment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
