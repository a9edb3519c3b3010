/* test-fetch.c — the libcurl image source on sd-event against a local HTTP server: a download
 * checked against its pin, a wrong pin refused (nothing left in the cache), a download cut
 * mid-way resumed with a Range request, a cache hit, plain http refused unless allowed, 404, the
 * size limit, local files, and one download shared by two requests; a download with an
 * Authorization header; HTTP requests with their answers in memory (method, headers and body
 * out; status, body, type and Retry-After back; timeouts, size bound, refused schemes, cancel). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/otadctl.h"
#include "otad/fetch.h"
#include "util/hex.h"

#define IMAGE_SIZE (300 * 1024)

struct result {
	int err;
	bool done;
	char path[600];
	char why[400];
};

static void on_done(int err, const char *path, const char *why, void *user_data)
{
	struct result *r = user_data;

	r->done = true;
	r->err = err;
	snprintf(r->path, sizeof(r->path), "%s", path ? path : "");
	snprintf(r->why, sizeof(r->why), "%s", why ? why : "");
}

static uint8_t sha[32];
static char www[600], cache[600];

static int setup(void **state)
{
	uint8_t *data = malloc(IMAGE_SIZE);
	FILE *f;

	snprintf(www, sizeof(www), "%s", tl_path("www"));
	snprintf(cache, sizeof(cache), "%s", tl_path("cache"));
	mkdir(www, 0755);
	mkdir(cache, 0755);
	for (size_t i = 0; i < IMAGE_SIZE; i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	SHA256(data, IMAGE_SIZE, sha);
	f = fopen(tl_path("www/app.bin"), "w");
	fwrite(data, 1, IMAGE_SIZE, f);
	fclose(f);
	free(data);
	return 0;
}

/* Runs one request to completion (bounded). */
static struct result fetch(struct fetch_options *o, const char *src, const uint8_t *pin)
{
	struct result r = {0};
	struct fetcher *f = NULL;
	sd_event *e = NULL;
	int err = 0;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fetcher_new(e, o, &f), 0);
	if (!fetcher_get(f, src, pin, on_done, &r, NULL, &err)) {
		r.done = true;
		r.err = err;
	}
	for (int i = 0; i < 2000 && !r.done; i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	assert_true(r.done);
	fetcher_free(f);
	sd_event_unref(e);
	return r;
}

static char *url(const struct tl_httpd *h, const char *name)
{
	static char buf[200];

	snprintf(buf, sizeof(buf), "http://127.0.0.1:%u/%s", h->port, name);
	return buf;
}

static void clear_cache(void)
{
	char hex[65], p[700];

	hex_encode(sha, 32, hex);
	snprintf(p, sizeof(p), "%s/%s.img", cache, hex);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s.part", cache, hex);
	unlink(p);
}

static void test_download_with_good_pin_lands_in_cache(void **state)
{
	struct fetch_options o = {.cache_dir = cache, .allow_http = true};
	struct tl_httpd h;
	struct result r;
	struct stat st;

	clear_cache();
	assert_int_equal(tl_httpd_start(&h, www, 0), 0);
	r = fetch(&o, url(&h, "app.bin"), sha);
	assert_int_equal(r.err, 0);
	assert_non_null(strstr(r.path, cache));
	assert_int_equal(stat(r.path, &st), 0);
	assert_int_equal(st.st_size, IMAGE_SIZE);
	/* a second request is a cache hit: the server sees nothing */
	r = fetch(&o, url(&h, "app.bin"), sha);
	assert_int_equal(r.err, 0);
	tl_httpd_stop(&h);
	char *log = tl_read_file(h.log_path);
	assert_null(strstr(strstr(log, "GET") + 3, "GET")); /* exactly one request */
	free(log);
}

static void test_download_with_bad_pin_is_refused_and_not_kept(void **state)
{
	struct fetch_options o = {.cache_dir = cache, .allow_http = true};
	uint8_t wrong[32];
	char hex[65], p[700];
	struct tl_httpd h;
	struct result r;

	memcpy(wrong, sha, 32);
	wrong[0] ^= 1;
	assert_int_equal(tl_httpd_start(&h, www, 0), 0);
	r = fetch(&o, url(&h, "app.bin"), wrong);
	tl_httpd_stop(&h);
	assert_int_equal(r.err, -EBADMSG);
	assert_non_null(strstr(r.why, "pinned"));
	hex_encode(wrong, 32, hex);
	snprintf(p, sizeof(p), "%s/%s.img", cache, hex);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/%s.part", cache, hex);
	assert_int_equal(access(p, F_OK), -1);
}

static void test_interrupted_download_resumes_with_range(void **state)
{
	struct fetch_options o = {
		.cache_dir = cache, .allow_http = true, .retry_delay_usec = 50000};
	struct tl_httpd h;
	struct result r;
	char *log;

	clear_cache();
	assert_int_equal(tl_httpd_start(&h, www, 100000), 0); /* first answer cut at 100000 */
	r = fetch(&o, url(&h, "app.bin"), sha);
	tl_httpd_stop(&h);
	if (r.err != 0)
		fail_msg("%d %s", r.err, r.why);
	log = tl_read_file(h.log_path);
	assert_non_null(strstr(log, "GET /app.bin range=-1 status=200"));
	assert_non_null(strstr(log, "GET /app.bin range=100000 status=206"));
	free(log);
}

static void test_partial_file_from_an_earlier_run_is_continued(void **state)
{
	struct fetch_options o = {.cache_dir = cache, .allow_http = true, .max_attempts = 1};
	struct tl_httpd h;
	struct result r;
	char *log;

	clear_cache();
	/* one attempt only: the cut leaves a partial file and the request fails */
	assert_int_equal(tl_httpd_start(&h, www, 70000), 0);
	r = fetch(&o, url(&h, "app.bin"), sha);
	assert_int_not_equal(r.err, 0);
	assert_non_null(strstr(r.why, "70000 bytes kept"));
	/* a later request (a restarted daemon) continues from there */
	r = fetch(&o, url(&h, "app.bin"), sha);
	tl_httpd_stop(&h);
	if (r.err != 0)
		fail_msg("%d %s", r.err, r.why);
	log = tl_read_file(h.log_path);
	assert_non_null(strstr(log, "range=70000 status=206"));
	free(log);
}

static void test_plain_http_refused_unless_allowed(void **state)
{
	struct fetch_options o = {.cache_dir = cache};
	struct result r = fetch(&o, "http://127.0.0.1:1/app.bin", sha);

	assert_int_equal(r.err, -EPERM);
	r = fetch(&o, "ftp://127.0.0.1/app.bin", sha);
	assert_int_equal(r.err, -EPROTONOSUPPORT);
	r = fetch(&o, "https://127.0.0.1:1/app.bin", NULL); /* a URL needs its pin */
	assert_int_equal(r.err, -EINVAL);
}

static void test_missing_file_and_size_limit(void **state)
{
	struct fetch_options o = {.cache_dir = cache, .allow_http = true};
	struct tl_httpd h;
	struct result r;

	clear_cache();
	assert_int_equal(tl_httpd_start(&h, www, 0), 0);
	r = fetch(&o, url(&h, "nope.bin"), sha);
	assert_int_equal(r.err, -ENOENT);
	assert_non_null(strstr(r.why, "HTTP 404"));
	o.max_size = 100 * 1024;
	r = fetch(&o, url(&h, "app.bin"), sha);
	if (r.err != -EFBIG)
		fail_msg("%d %s", r.err, r.why);
	tl_httpd_stop(&h);
}

static void test_local_files_checked_against_pin(void **state)
{
	struct fetch_options o = {0};
	uint8_t wrong[32] = {0};
	struct result r = fetch(&o, tl_path("www/app.bin"), sha);

	assert_int_equal(r.err, 0);
	assert_string_equal(r.path, tl_path("www/app.bin"));
	r = fetch(&o, tl_path("www/app.bin"), wrong);
	assert_int_equal(r.err, -EBADMSG);
	r = fetch(&o, tl_path("www/missing.bin"), NULL);
	assert_int_equal(r.err, -ENOENT);
	r = fetch(&o, "relative.bin", NULL);
	assert_int_equal(r.err, -EINVAL);
}

static void test_two_requests_share_one_download_and_cancel_is_quiet(void **state)
{
	struct fetch_options o = {.cache_dir = cache, .allow_http = true};
	struct result a = {0}, b = {0}, c = {0};
	struct fetcher *f = NULL;
	struct tl_httpd h;
	sd_event *e = NULL;
	unsigned ida, idb, idc;
	int err = 0;
	char *log;

	clear_cache();
	assert_int_equal(tl_httpd_start(&h, www, 0), 0);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fetcher_new(e, &o, &f), 0);
	ida = fetcher_get(f, url(&h, "app.bin"), sha, on_done, &a, NULL, &err);
	idb = fetcher_get(f, url(&h, "app.bin"), sha, on_done, &b, NULL, &err);
	idc = fetcher_get(f, url(&h, "app.bin"), sha, on_done, &c, NULL, &err);
	assert_true(ida && idb && idc);
	assert_true(fetcher_cancel(f, idc));
	assert_false(fetcher_cancel(f, idc));
	for (int i = 0; i < 2000 && !(a.done && b.done); i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	assert_int_equal(a.err, 0);
	assert_int_equal(b.err, 0);
	assert_false(c.done); /* a cancelled request is never called back */
	fetcher_free(f);
	sd_event_unref(e);
	tl_httpd_stop(&h);
	log = tl_read_file(h.log_path);
	assert_null(strstr(strstr(log, "GET") + 3, "GET"));
	free(log);
}

static void test_image_handed_over_as_fd_is_cached_under_its_sha(void **state)
{
	char *path = NULL, hex[65];
	uint8_t got[32];
	bool created = true;
	int fd = open(tl_path("www/app.bin"), O_RDONLY | O_CLOEXEC), p[2], o;

	assert_true(fd >= 0);
	assert_int_equal(fetch_import_fd(cache, fd, 0, &path, got, &created), 0);
	assert_memory_equal(got, sha, 32);
	assert_non_null(strstr(path, hex_encode(sha, 32, hex)));
	assert_int_equal(access(path, R_OK), 0);
	free(path);
	assert_int_equal(fetch_import_fd(cache, fd, 0, &path, got, &created), 0);
	assert_false(created); /* the same file again: the cached copy */
	free(path);
	assert_int_equal(fetch_import_fd(cache, fd, 1000, &path, got, NULL), -EFBIG);
	close(fd);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fetch_import_fd(cache, p[0], 0, &path, got, NULL), -EINVAL);
	close(p[0]);
	close(p[1]);
	/* an fd that may not read says nothing, not even that the file is too large */
	o = open(tl_path("www/app.bin"), O_PATH | O_CLOEXEC);
	assert_int_equal(fetch_import_fd(cache, o, 1000, &path, got, NULL), -EBADF);
	close(o);
	o = open(tl_path("www/app.bin"), O_WRONLY | O_CLOEXEC);
	assert_int_equal(fetch_import_fd(cache, o, 1000, &path, got, NULL), -EBADF);
	close(o);
}

struct answer {
	bool done;
	int err, destroyed;
	long status;
	char body[600], type[100], why[400];
	uint64_t retry_after;
};

static void on_answer(int err, const struct fetch_answer *a, const char *why, void *user_data)
{
	struct answer *r = user_data;

	r->done = true;
	r->err = err;
	snprintf(r->why, sizeof(r->why), "%s", why);
	if (!a)
		return;
	assert_int_equal(strlen(a->body), a->body_len);
	r->status = a->status;
	snprintf(r->body, sizeof(r->body), "%s", a->body);
	snprintf(r->type, sizeof(r->type), "%s", a->content_type ? a->content_type : "-");
	r->retry_after = a->retry_after_usec;
}

static void on_answer_destroy(void *user_data)
{
	((struct answer *)user_data)->destroyed++;
}

/* Runs one request to completion (bounded); 0 with *ret_err when it was refused at once. */
static struct answer request(const struct fetch_options *o, const struct fetch_request *q)
{
	struct answer r = {0};
	struct fetcher *f = NULL;
	sd_event *e = NULL;
	int err = 0;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fetcher_new(e, o, &f), 0);
	if (!fetcher_request(f, q, on_answer, &r, on_answer_destroy, &err)) {
		r.done = true;
		r.err = err;
		r.destroyed = 1;
	}
	for (int i = 0; i < 2000 && !r.done; i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	assert_true(r.done);
	assert_int_equal(r.destroyed, 1); /* once the answer is in */
	fetcher_free(f);
	sd_event_unref(e);
	return r;
}

static void test_request_sends_method_headers_and_body(void **state)
{
	static const char *const headers[] = {"Authorization: GatewayToken s3cret",
					      "Content-Type: application/json", NULL};
	struct fetch_options o = {.allow_http = true};
	struct fetch_request q = {
		.method = "POST", .headers = headers, .body = "{\"a\":1}", .body_len = 7};
	struct tl_httpd h;
	struct answer r;
	char *log;

	assert_int_equal(tl_httpd_start(&h, www, 0), 0);
	q.url = url(&h, "echo");
	r = request(&o, &q);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "POST /echo\nauth=GatewayToken s3cret\n"
				    "type=application/json\n\n{\"a\":1}");
	assert_string_equal(r.type, "text/plain");
	assert_null(strstr(r.why, "s3cret"));
	q.method = "PUT";
	r = request(&o, &q);
	assert_string_equal(r.body, "PUT /echo\nauth=GatewayToken s3cret\n"
				    "type=application/json\n\n{\"a\":1}");
	q = (struct fetch_request){.url = url(&h, "echo")}; /* GET, no headers, no body */
	r = request(&o, &q);
	assert_string_equal(r.body, "GET /echo\nauth=-\ntype=-\n\n");
	tl_httpd_stop(&h);
	log = tl_read_file(h.log_path);
	assert_non_null(strstr(log, "POST /echo range=-1 status=200 auth=GatewayToken s3cret"));
	assert_non_null(strstr(log, "PUT /echo"));
	free(log);
}

static void test_request_hands_over_any_status_with_retry_after(void **state)
{
	struct fetch_options o = {.allow_http = true};
	struct fetch_request q = {0};
	struct tl_httpd h;
	struct answer r;

	assert_int_equal(tl_httpd_start(&h, www, 0), 0);
	q.url = url(&h, "status/503");
	r = request(&o, &q);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "status 503");
	assert_true(r.retry_after == 7 * 1000000ULL);
	assert_non_null(strstr(r.why, "HTTP 503"));
	q.url = url(&h, "status/401");
	r = request(&o, &q);
	assert_int_equal(r.status, 401);
	tl_httpd_stop(&h);
}

static void test_request_fails_on_stall_size_and_refusal(void **state)
{
	struct fetch_options o = {.allow_http = true};
	struct fetch_request q = {.timeout_usec = 300000};
	struct tl_httpd h;
	struct answer r;

	assert_int_equal(tl_httpd_start(&h, www, 0), 0);
	q.url = url(&h, "stall");
	r = request(&o, &q);
	assert_int_equal(r.err, -ETIMEDOUT);
	assert_non_null(strstr(r.why, "/stall"));
	tl_httpd_stop(&h);
	assert_int_equal(tl_httpd_start(&h, www, 0), 0);
	q = (struct fetch_request){.url = url(&h, "big")};
	r = request(&o, &q);
	assert_int_equal(r.err, -EFBIG);
	assert_non_null(strstr(r.why, "larger than 1048576 bytes"));
	q.max_answer = 3 * 1024 * 1024;
	r = request(&o, &q);
	assert_int_equal(r.err, 0);
	tl_httpd_stop(&h);
	q = (struct fetch_request){.url = "http://127.0.0.1:1/x"};
	r = request(&o, &q);
	assert_int_equal(r.err, -ECONNREFUSED);
	o.allow_http = false;
	r = request(&o, &q);
	assert_int_equal(r.err, -EPERM);
	q.url = "ftp://127.0.0.1/x";
	r = request(&o, &q);
	assert_int_equal(r.err, -EPROTONOSUPPORT);
	q.url = "https://127.0.0.1:1/x";
	q.method = "get";
	r = request(&o, &q);
	assert_int_equal(r.err, -EINVAL);
}

static void test_request_cancelled_is_never_answered(void **state)
{
	struct fetch_options o = {.allow_http = true};
	struct fetch_request q = {0};
	struct answer r = {0};
	struct fetcher *f = NULL;
	struct tl_httpd h;
	sd_event *e = NULL;
	unsigned id;
	int err = 0;

	assert_int_equal(tl_httpd_start(&h, www, 0), 0);
	q.url = url(&h, "stall");
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fetcher_new(e, &o, &f), 0);
	id = fetcher_request(f, &q, on_answer, &r, on_answer_destroy, &err);
	assert_true(id > 0);
	for (int i = 0; i < 20; i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	assert_true(fetcher_cancel(f, id));
	assert_int_equal(r.destroyed, 1);
	assert_false(fetcher_cancel(f, id));
	for (int i = 0; i < 20; i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	assert_false(r.done);
	/* one left running when the fetcher goes: destroyed, not answered */
	memset(&r, 0, sizeof(r));
	assert_true(fetcher_request(f, &q, on_answer, &r, on_answer_destroy, &err) > 0);
	fetcher_free(f);
	assert_int_equal(r.destroyed, 1);
	assert_false(r.done);
	sd_event_unref(e);
	tl_httpd_stop(&h);
}

static void test_download_sends_its_headers(void **state)
{
	static const char *const headers[] = {"Authorization: GatewayToken s3cret", NULL};
	struct fetch_options o = {.cache_dir = cache, .allow_http = true};
	struct result r = {0};
	struct fetcher *f = NULL;
	struct tl_httpd h;
	sd_event *e = NULL;
	int err = 0;
	char *log;

	clear_cache();
	assert_int_equal(tl_httpd_start(&h, www, 100000), 0); /* cut: the resumed attempt too */
	o.retry_delay_usec = 50000;
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(fetcher_new(e, &o, &f), 0);
	assert_true(fetcher_get_with_headers(f, url(&h, "app.bin"), sha, headers, on_done, &r, NULL,
					     &err) > 0);
	for (int i = 0; i < 2000 && !r.done; i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	assert_int_equal(r.err, 0);
	fetcher_free(f);
	sd_event_unref(e);
	tl_httpd_stop(&h);
	log = tl_read_file(h.log_path);
	assert_non_null(strstr(log, "range=-1 status=200 auth=GatewayToken s3cret"));
	assert_non_null(strstr(log, "range=100000 status=206 auth=GatewayToken s3cret"));
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_download_with_good_pin_lands_in_cache),
		cmocka_unit_test(test_download_with_bad_pin_is_refused_and_not_kept),
		cmocka_unit_test(test_interrupted_download_resumes_with_range),
		cmocka_unit_test(test_partial_file_from_an_earlier_run_is_continued),
		cmocka_unit_test(test_plain_http_refused_unless_allowed),
		cmocka_unit_test(test_missing_file_and_size_limit),
		cmocka_unit_test(test_local_files_checked_against_pin),
		cmocka_unit_test(test_two_requests_share_one_download_and_cancel_is_quiet),
		cmocka_unit_test(test_image_handed_over_as_fd_is_cached_under_its_sha),
		cmocka_unit_test(test_request_sends_method_headers_and_body),
		cmocka_unit_test(test_request_hands_over_any_status_with_retry_after),
		cmocka_unit_test(test_request_fails_on_stall_size_and_refusal),
		cmocka_unit_test(test_request_cancelled_is_never_answered),
		cmocka_unit_test(test_download_sends_its_headers),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
