/* test-fetch-plan.c — the download's decisions: sources allowed, what an HTTP answer's body means
 * for the partial file, and what follows each way a transfer can end. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "otad/fetch.h"

static void test_sources_are_classified_and_http_refused_unless_allowed(void **state)
{
	enum fetch_kind k;

	assert_int_equal(fetch_classify("/srv/a.bin", false, &k), 0);
	assert_int_equal(k, FETCH_LOCAL);
	assert_int_equal(fetch_classify("https://h/a.bin", false, &k), 0);
	assert_int_equal(k, FETCH_HTTPS);
	assert_int_equal(fetch_classify("http://h/a.bin", false, &k), -EPERM);
	assert_int_equal(fetch_classify("http://h/a.bin", true, &k), 0);
	assert_int_equal(k, FETCH_HTTP);
	assert_int_equal(fetch_classify("ftp://h/a.bin", true, &k), -EPROTONOSUPPORT);
	assert_int_equal(fetch_classify("file:///etc/passwd", true, &k), -EPROTONOSUPPORT);
	assert_int_equal(fetch_classify("a.bin", true, &k), -EINVAL);
	assert_int_equal(fetch_classify("https://", true, &k), -EPROTONOSUPPORT);
}

static void test_body_of_each_answer(void **state)
{
	assert_int_equal(fetch_body_action(200, 0), FETCH_BODY_APPEND);
	assert_int_equal(fetch_body_action(206, 1000), FETCH_BODY_APPEND);
	/* the server ignored our Range: it sends everything, what we had must go */
	assert_int_equal(fetch_body_action(200, 1000), FETCH_BODY_RESTART);
	assert_int_equal(fetch_body_action(404, 0), FETCH_BODY_DISCARD);
	assert_int_equal(fetch_body_action(500, 1000), FETCH_BODY_DISCARD);
	assert_int_equal(fetch_body_action(416, 1000), FETCH_BODY_DISCARD);
}

static enum fetch_next next(int err, long code, uint64_t have, bool too_big, unsigned attempt)
{
	struct fetch_outcome o = {
		.transfer_err = err, .http_code = code, .have = have, .too_big = too_big};

	return fetch_after_transfer(&o, attempt, 4);
}

static void test_what_follows_a_transfer(void **state)
{
	struct fetch_outcome o = {.http_code = 404};

	assert_int_equal(next(0, 200, 5000, false, 1), FETCH_NEXT_VERIFY);
	assert_int_equal(next(0, 206, 5000, false, 2), FETCH_NEXT_VERIFY);
	/* cut mid-way: resume, until the attempts run out */
	assert_int_equal(next(-EIO, 200, 3000, false, 1), FETCH_NEXT_RESUME);
	assert_int_equal(next(-ETIMEDOUT, 206, 3000, false, 3), FETCH_NEXT_RESUME);
	assert_int_equal(next(-EIO, 206, 3000, false, 4), FETCH_NEXT_FAIL);
	assert_int_equal(next(-ECONNREFUSED, 0, 0, false, 1), FETCH_NEXT_RESUME);
	/* asked past the end: what we have may be whole */
	assert_int_equal(next(0, 416, 5000, false, 2), FETCH_NEXT_VERIFY);
	assert_int_equal(next(0, 404, 0, false, 1), FETCH_NEXT_FAIL);
	assert_int_equal(next(0, 403, 0, false, 1), FETCH_NEXT_FAIL);
	assert_int_equal(next(0, 503, 0, false, 1), FETCH_NEXT_RESUME);
	assert_int_equal(next(-EIO, 200, 9000, true, 1), FETCH_NEXT_FAIL);
	assert_int_equal(fetch_outcome_errno(&o), -ENOENT);
	o = (struct fetch_outcome){.too_big = true};
	assert_int_equal(fetch_outcome_errno(&o), -EFBIG);
	o = (struct fetch_outcome){.http_code = 401};
	assert_int_equal(fetch_outcome_errno(&o), -EACCES);
	o = (struct fetch_outcome){.transfer_err = -ETIMEDOUT};
	assert_int_equal(fetch_outcome_errno(&o), -ETIMEDOUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sources_are_classified_and_http_refused_unless_allowed),
		cmocka_unit_test(test_body_of_each_answer),
		cmocka_unit_test(test_what_follows_a_transfer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
