/* test-ddi.c — the DDI client (src/ddi/) against the test DDI server (tests/lib/ddi-server.py,
 * a hawkBit DDI v1 server written from the API reference, over HTTPS with a CA made at its
 * start): two devices behind one gateway token, each with its own controllerId, deployment,
 * download and feedback; polling at the server's sleep; attributes sent when they change;
 * cancellation accepted and rejected; a maintenance window; a download cut and resumed; a final
 * feedback sent twice; and each server failure (503, bad JSON, a stall, a closed connection, 401)
 * with its backoff, counted in the server's log. The server checks every request it receives;
 * no test ends with a violation, and no message of the client ever holds the token or a part of
 * it: not when the server echoes it at length, not when a download link carries it, not when it
 * is short or a part of the mark put in its place. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/ddictl.h"
#include "otad/ddi.h"
#include "util/hex.h"
#include "util/json-doc.h"
#include "util/macro.h"

#define TOKEN  "gw-T0k3n-5ecret-4f1c9a"
#define TENANT "DEFAULT"

static struct tl_ddi srv;
static char whys[65536]; /* every message the client gave, for the token check */

static void keep_why(const char *why)
{
	size_t n = strlen(whys);

	if (why)
		snprintf(whys + n, sizeof(whys) - n, "%s\n", why);
}

/* ---- What a target reported ---- */

struct rec {
	unsigned deployments, cancels, delivered, problems, cleared;
	char action[DDI_ID_MAX + 1], cancel[DDI_ID_MAX + 1];
	bool may_install, may_download;
	char delivered_action[8][DDI_ID_MAX + 1];
	enum ddi_execution delivered_exec[8];
	int delivered_err[8];
	char problem[600];
};

static void on_deployment(struct ddi_target *t, const struct ddi_deployment *d, void *ud)
{
	struct rec *r = ud;

	r->deployments++;
	snprintf(r->action, sizeof(r->action), "%s", d->action);
	r->may_install = ddi_deployment_may_install(d);
	r->may_download = ddi_deployment_may_download(d);
	assert_ptr_equal(ddi_target_deployment(t), d);
}

static void on_cancel(struct ddi_target *t, const char *action, void *ud)
{
	struct rec *r = ud;

	r->cancels++;
	snprintf(r->cancel, sizeof(r->cancel), "%s", action);
}

static void on_delivered(struct ddi_target *t, const char *action, enum ddi_execution e, int err,
			 const char *why, void *ud)
{
	struct rec *r = ud;

	keep_why(why);
	assert_true(r->delivered < 8);
	snprintf(r->delivered_action[r->delivered], DDI_ID_MAX + 1, "%s", action);
	r->delivered_exec[r->delivered] = e;
	r->delivered_err[r->delivered++] = err;
}

static void on_problem(struct ddi_target *t, const char *why, void *ud)
{
	struct rec *r = ud;

	keep_why(why);
	if (!why) {
		r->cleared++;
		return;
	}
	r->problems++;
	snprintf(r->problem, sizeof(r->problem), "%s", why);
}

static const struct ddi_target_ops ops = {
	.deployment = on_deployment,
	.cancel = on_cancel,
	.delivered = on_delivered,
	.problem = on_problem,
};

/* ---- The client and its loop ---- */

struct links {
	unsigned changes;
	enum ddi_link state[16];
	char why[16][600];
};

static void on_link(struct ddi_client *c, enum ddi_link link, const char *why, void *ud)
{
	struct links *l = ud;

	keep_why(why);
	if (l->changes < 16) {
		l->state[l->changes] = link;
		snprintf(l->why[l->changes], sizeof(l->why[0]), "%s", why);
	}
	l->changes++;
}

struct fixture {
	sd_event *e;
	struct ddi_client *c;
	struct links links;
};

/* A client with its own cache directory (name), for downloads that are no cache hit, trusting
 * the CA file ca (NULL: the system's store). */
static void client_start_ca(struct fixture *f, const char *token, const char *name, const char *ca)
{
	struct ddi_options o = {.server = srv.url,
				.tenant = TENANT,
				.token = token,
				.ca_file = ca,
				.cache_dir = tl_path(name),
				/* a stall ends here; longer under valgrind */
				.request_timeout_usec = (uint64_t)tl_timeout(1000) * 1000,
				.backoff_min_usec = 100 * 1000,
				.backoff_max_usec = 800 * 1000};
	char why[300];

	memset(f, 0, sizeof(*f));
	mkdir(tl_path(name), 0755);
	assert_int_equal(sd_event_new(&f->e), 0);
	if (ddi_client_new(f->e, &o, &f->c, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	ddi_client_set_link_handler(f->c, on_link, &f->links, NULL);
}

static void client_start(struct fixture *f, const char *token, const char *name)
{
	client_start_ca(f, token, name, srv.ca);
}

/* Whether text holds a part of token (6 bytes or more, as a message cut through it would). */
static bool holds_part_of(const char *text, const char *token)
{
	size_t n = strlen(token), part = MIN(n, (size_t)6);

	for (size_t i = 0; i + part <= n; i++) {
		char window[16];

		snprintf(window, sizeof(window), "%.*s", (int)part, token + i);
		if (strstr(text, window))
			return true;
	}
	return false;
}

static void client_stop(struct fixture *f)
{
	ddi_client_free(f->c);
	sd_event_unref(f->e);
	if (holds_part_of(whys, TOKEN))
		fail_msg("a message holds the token or a part of it:\n%s", whys);
	tl_ddi_assert_no_violations(&srv);
}

static struct ddi_target *target(struct fixture *f, const char *cid, struct rec *r)
{
	struct ddi_target *t = NULL;

	memset(r, 0, sizeof(*r));
	assert_int_equal(ddi_target_new(f->c, cid, &ops, r, NULL, &t), 0);
	return t;
}

static uint64_t now_usec(struct fixture *f)
{
	uint64_t now = 0;

	sd_event_now(f->e, CLOCK_MONOTONIC, &now);
	return now;
}

/* Runs the loop until *flag reaches want (bounded: fails after timeout_ms). */
#define RUN_UNTIL(f, cond, timeout_ms)                                                             \
	do {                                                                                       \
		uint64_t _end = now_usec(f) + (uint64_t)tl_timeout(timeout_ms) * 1000;             \
		while (!(cond)) {                                                                  \
			assert_true(sd_event_run((f)->e, 10 * 1000) >= 0);                         \
			if (now_usec(f) > _end)                                                    \
				fail_msg("timed out waiting for %s", #cond);                       \
		}                                                                                  \
	} while (0)

/* ---- Files and the server's view ---- */

static uint8_t app_sha[32];

static int group_setup(void **state)
{
	uint8_t *data = malloc(64 * 1024);
	FILE *f = fopen(tl_path("app.bin"), "w");

	for (size_t i = 0; i < 64 * 1024; i++)
		data[i] = (uint8_t)(i * 13 + i / 509);
	SHA256(data, 64 * 1024, app_sha);
	fwrite(data, 1, 64 * 1024, f);
	fclose(f);
	free(data);
	f = fopen(tl_path("app.hex"), "w");
	fputs(":00000001FF\n", f);
	fclose(f);
	f = fopen(tl_path("notes.txt"), "w");
	fputs("release notes\n", f);
	fclose(f);
	return tl_ddi_start(&srv, TENANT, TOKEN);
}

static int group_teardown(void **state)
{
	tl_ddi_stop(&srv);
	return 0;
}

static char *deploy(const char *cid, const char *extra)
{
	char *a = tl_ddi_cmd(&srv, "deploy %s %s", cid, extra);

	assert_non_null(a);
	if (strncmp(a, "ok ", 3) != 0)
		fail_msg("deploy: %s", a);
	memmove(a, a + 3, strlen(a + 3) + 1);
	return a;
}

static __attribute__((format(printf, 1, 2))) void cmd_ok(const char *fmt, ...)
{
	char line[1024], *r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r = tl_ddi_cmd(&srv, "%s", line);

	assert_non_null(r);
	assert_string_equal(r, "ok");
	free(r);
}

/* The server's record of an action (json-c; the caller frees the doc). */
static struct json_object *action_state(const char *id, struct jd_doc **doc)
{
	char *a = tl_ddi_cmd(&srv, "action %s", id);

	assert_non_null(a);
	assert_int_equal(jd_parse(a, strlen(a), doc, NULL), 0);
	free(a);
	return jd_root(*doc);
}

static const char *member_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	assert_true(jd_get(o, key, &v));
	return jd_str(v) ? jd_str(v) : "null";
}

/* "execution/finished cnt/of" of each feedback the server took for the action, joined. */
static void feedback_list(struct json_object *o, const char *key, char *out, size_t size)
{
	struct json_object *list, *p, *v;
	size_t len = 0;

	out[0] = 0;
	assert_true(jd_get(o, key, &list));
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *fb = json_object_array_get_idx(list, i);

		len += (size_t)snprintf(out + len, size - len, "%s%s/%s", i ? " " : "",
					member_str(fb, "execution"), member_str(fb, "finished"));
		if (jd_get(fb, "progress", &p) && p) {
			uint64_t cnt = 0, of = 0;

			assert_true(jd_get(p, "cnt", &v) && jd_u64(v, &cnt) == 0);
			assert_true(jd_get(p, "of", &v) && jd_u64(v, &of) == 0);
			len += (size_t)snprintf(out + len, size - len, " %llu/%llu",
						(unsigned long long)cnt, (unsigned long long)of);
		}
	}
}

static void feedback(struct ddi_target *t, const char *action, enum ddi_execution e,
		     enum ddi_finished fin, unsigned cnt, unsigned of, const char *detail)
{
	const char *details[] = {detail, NULL};
	struct ddi_feedback fb = {.action = action,
				  .execution = e,
				  .finished = fin,
				  .progress_cnt = cnt,
				  .progress_of = of,
				  .details = detail ? details : NULL};

	assert_int_equal(ddi_target_feedback(t, &fb), 0);
}

struct download {
	bool done;
	int err;
	char path[600], why[400];
};

static void on_download(int err, const char *path, const char *why, void *ud)
{
	struct download *d = ud;

	d->done = true;
	d->err = err;
	keep_why(why);
	snprintf(d->path, sizeof(d->path), "%s", path ? path : "");
	snprintf(d->why, sizeof(d->why), "%s", why ? why : "");
}

/* Picks the deployment's artifact and downloads it: its path in the cache. */
static struct download download(struct fixture *f, struct ddi_target *t)
{
	const struct ddi_artifact *a = NULL;
	struct download d = {0};
	char why[300];
	int err = 0;

	assert_non_null(ddi_target_deployment(t));
	if (ddi_deployment_pick(ddi_target_deployment(t), false, &a, why, sizeof(why)) < 0)
		fail_msg("%s", why);
	assert_true(ddi_client_download(f->c, a, on_download, &d, NULL, &err) > 0);
	RUN_UNTIL(f, d.done, 5000);
	return d;
}

/* ---- The cases ---- */

/* One gateway token, two controllerIds: each gets its own deployment, downloads its own
 * artifact and reports its own feedback sequence, and the server keeps them apart. */
static void test_two_devices_behind_one_gateway(void **state)
{
	struct ddi_attr attrs1[] = {{"version", "1.0.0"},
				    {"mode", "swap-using-offset"},
				    {"address", "udp:192.0.2.10"},
				    {"gateway", "gw-hall-2"}};
	struct ddi_attr attrs2[] = {
		{"version", "0.9.1"}, {"rssi", "-67"}, {"gateway", "gw-hall-2"}};
	char files1[1300], files2[1300], list[600], *a1, *a2, *ctl;
	struct ddi_target *t1, *t2;
	struct jd_doc *doc;
	struct json_object *o;
	struct download d;
	struct fixture f;
	struct rec r1, r2;
	struct stat st;

	snprintf(files1, sizeof(files1), "file=%s file=%s", tl_path("app.bin"),
		 tl_path("notes.txt"));
	snprintf(files2, sizeof(files2), "file=%s", tl_path("app.hex"));
	a1 = deploy("sensor-1", files1);
	a2 = deploy("sensor-2", files2);
	client_start(&f, TOKEN, "cache-two");
	t1 = target(&f, "sensor-1", &r1);
	t2 = target(&f, "sensor-2", &r2);
	assert_int_equal(ddi_target_set_attributes(t1, attrs1, 4), 0);
	assert_int_equal(ddi_target_set_attributes(t2, attrs2, 3), 0);
	RUN_UNTIL(&f, r1.deployments == 1 && r2.deployments == 1, 5000);
	assert_string_equal(r1.action, a1);
	assert_string_equal(r2.action, a2);
	assert_true(r1.may_install && r1.may_download);
	/* sensor-1: the .bin of two files, downloaded with the token and pinned */
	d = download(&f, t1);
	if (d.err)
		fail_msg("%s", d.why);
	{
		char hex[65];

		assert_non_null(strstr(d.path, hex_encode(app_sha, 32, hex)));
	}
	assert_int_equal(stat(d.path, &st), 0);
	assert_int_equal(st.st_size, 64 * 1024);
	feedback(t1, a1, DDI_EXEC_PROCEEDING, DDI_FINISHED_NONE, 1, 4, "download");
	feedback(t1, a1, DDI_EXEC_DOWNLOADED, DDI_FINISHED_NONE, 0, 0, NULL);
	feedback(t1, a1, DDI_EXEC_PROCEEDING, DDI_FINISHED_NONE, 2, 4, "upload");
	feedback(t1, a1, DDI_EXEC_PROCEEDING, DDI_FINISHED_NONE, 3, 4, "test, reset");
	feedback(t1, a1, DDI_EXEC_CLOSED, DDI_FINISHED_SUCCESS, 4, 4, "running 1.0.1");
	/* sensor-2: its .hex, then refused by the bootloader */
	d = download(&f, t2);
	assert_int_equal(d.err, 0);
	feedback(t2, a2, DDI_EXEC_PROCEEDING, DDI_FINISHED_NONE, 1, 3, "download");
	feedback(t2, a2, DDI_EXEC_DOWNLOADED, DDI_FINISHED_NONE, 0, 0, NULL);
	feedback(t2, a2, DDI_EXEC_CLOSED, DDI_FINISHED_FAILURE, 0, 0,
		 "refused: Image in the secondary slot is not valid!");
	RUN_UNTIL(&f, r1.delivered == 1 && r2.delivered == 1, 5000);
	assert_string_equal(r1.delivered_action[0], a1);
	assert_int_equal(r1.delivered_exec[0], DDI_EXEC_CLOSED);
	assert_int_equal(r1.delivered_err[0], 0);
	assert_int_equal(r2.delivered_err[0], 0);

	o = action_state(a1, &doc);
	assert_string_equal(member_str(o, "state"), "closed");
	assert_string_equal(member_str(o, "result"), "success");
	feedback_list(o, "feedback", list, sizeof(list));
	/* 2/4 waited behind the others when 3/4 came: replaced by it */
	assert_string_equal(list, "proceeding/none 1/4 downloaded/none proceeding/none 3/4 "
				  "closed/success 4/4");
	jd_doc_free(doc);
	o = action_state(a2, &doc);
	assert_string_equal(member_str(o, "result"), "failure");
	feedback_list(o, "feedback", list, sizeof(list));
	assert_string_equal(list, "proceeding/none 1/3 downloaded/none closed/failure");
	jd_doc_free(doc);
	/* each controller's own attributes; one download each */
	ctl = tl_ddi_cmd(&srv, "controller sensor-1");
	assert_non_null(strstr(ctl, "\"version\": \"1.0.0\", \"mode\": \"swap-using-offset\", "
				    "\"address\": \"udp:192.0.2.10\", \"gateway\": \"gw-hall-2\""));
	assert_null(strstr(ctl, "rssi"));
	free(ctl);
	ctl = tl_ddi_cmd(&srv, "controller sensor-2");
	assert_non_null(strstr(ctl, "\"version\": \"0.9.1\", \"rssi\": \"-67\""));
	free(ctl);
	assert_int_equal(tl_ddi_count(&srv, "download", "sensor-1"), 1);
	assert_int_equal(tl_ddi_count(&srv, "download", "sensor-2"), 1);
	assert_int_equal(tl_ddi_count(&srv, "feedback", "sensor-1"), 4);
	assert_int_equal(f.links.changes, 0); /* the server answered all along */
	free(a1);
	free(a2);
	client_stop(&f);
}

/* Runs until the target has scheduled its next poll after n more polls; the delay to it. */
static uint64_t next_poll_after(struct fixture *f, struct ddi_target *t, uint64_t *last)
{
	uint64_t np;

	RUN_UNTIL(f, (np = ddi_target_next_poll(t)) && np != *last, 5000);
	*last = np;
	/* both clocks are the loop's time of the iteration that scheduled it */
	return np - now_usec(f);
}

static void test_polls_at_the_servers_sleep(void **state)
{
	uint64_t last = 0;
	struct ddi_target *t;
	struct fixture f;
	struct rec r;
	long n;

	cmd_ok("sleep %s", "00:00:02");
	client_start(&f, TOKEN, "cache-sleep");
	t = target(&f, "sleep-1", &r);
	next_poll_after(&f, t, &last); /* at once (before the loop ran: its clock is not set) */
	assert_true(next_poll_after(&f, t, &last) == 2 * 1000 * 1000);
	cmd_ok("sleep %s", "00:00:01");
	ddi_target_refresh(t);
	assert_true(next_poll_after(&f, t, &last) == 0);
	assert_true(next_poll_after(&f, t, &last) == 1000 * 1000);
	n = tl_ddi_count(&srv, "base", "sleep-1");
	assert_true(next_poll_after(&f, t, &last) == 1000 * 1000); /* polled once more */
	assert_int_equal(tl_ddi_count(&srv, "base", "sleep-1"), n + 1);
	assert_int_equal(tl_ddi_count(&srv, "deployment", "sleep-1"), 0);
	client_stop(&f);
}

/* configData goes out when the attributes change (and when the server asks), not every poll. */
static void test_attributes_sent_when_they_change(void **state)
{
	struct ddi_attr a[] = {{"version", "1.0.0"}, {"hash", "0b1ee2a7"}};
	uint64_t last = 0;
	struct ddi_target *t;
	struct fixture f;
	struct rec r;
	char *ctl;

	client_start(&f, TOKEN, "cache-attrs");
	t = target(&f, "attrs-1", &r);
	assert_int_equal(ddi_target_set_attributes(t, a, 2), 0);
	next_poll_after(&f, t, &last);
	next_poll_after(&f, t, &last);
	assert_int_equal(tl_ddi_count(&srv, "config", "attrs-1"), 1);
	ddi_target_refresh(t);
	next_poll_after(&f, t, &last);
	next_poll_after(&f, t, &last);
	assert_int_equal(tl_ddi_count(&srv, "config", "attrs-1"), 1);
	a[0].value = "1.0.1";
	assert_int_equal(ddi_target_set_attributes(t, a, 2), 0);
	ddi_target_refresh(t);
	next_poll_after(&f, t, &last);
	next_poll_after(&f, t, &last);
	assert_int_equal(tl_ddi_count(&srv, "config", "attrs-1"), 2);
	assert_int_equal(ddi_target_set_attributes(t, a, 2), 0); /* the same again */
	ddi_target_refresh(t);
	next_poll_after(&f, t, &last);
	next_poll_after(&f, t, &last);
	assert_int_equal(tl_ddi_count(&srv, "config", "attrs-1"), 2);
	ctl = tl_ddi_cmd(&srv, "controller attrs-1");
	assert_non_null(strstr(ctl, "\"version\": \"1.0.1\", \"hash\": \"0b1ee2a7\""));
	free(ctl);
	assert_int_equal(ddi_target_set_attributes(t, (struct ddi_attr[]){{"", "x"}}, 1), -EINVAL);
	client_stop(&f);
}

static void test_cancel_before_and_during_the_upload(void **state)
{
	char files[700], list[300], *a, *b;
	struct ddi_target *t;
	struct jd_doc *doc;
	struct json_object *o;
	struct fixture f;
	struct rec r;

	snprintf(files, sizeof(files), "file=%s", tl_path("app.bin"));
	a = deploy("cancel-1", files);
	client_start(&f, TOKEN, "cache-cancel");
	t = target(&f, "cancel-1", &r);
	RUN_UNTIL(&f, r.deployments == 1, 5000);
	/* before anything was done: accepted */
	cmd_ok("cancel %s", a);
	ddi_target_refresh(t);
	RUN_UNTIL(&f, r.cancels == 1, 5000);
	assert_string_equal(r.cancel, a);
	assert_int_equal(ddi_target_answer_cancel(t, a, true, "canceled before the upload"), 0);
	RUN_UNTIL(&f, r.delivered == 1, 5000);
	assert_int_equal(r.delivered_exec[0], DDI_EXEC_CLOSED);
	assert_int_equal(r.delivered_err[0], 0);
	o = action_state(a, &doc);
	assert_string_equal(member_str(o, "state"), "canceled");
	feedback_list(o, "cancel_feedback", list, sizeof(list));
	assert_string_equal(list, "closed/success");
	jd_doc_free(doc);

	/* during the upload, past the point of no return: rejected, then finished */
	b = deploy("cancel-1", files);
	ddi_target_refresh(t);
	RUN_UNTIL(&f, r.deployments == 2, 5000);
	assert_string_equal(r.action, b);
	feedback(t, b, DDI_EXEC_DOWNLOADED, DDI_FINISHED_NONE, 0, 0, NULL);
	feedback(t, b, DDI_EXEC_PROCEEDING, DDI_FINISHED_NONE, 3, 4, "test, reset");
	cmd_ok("cancel %s", b);
	ddi_target_refresh(t);
	RUN_UNTIL(&f, r.cancels == 2, 5000);
	assert_string_equal(r.cancel, b);
	assert_int_equal(ddi_target_answer_cancel(t, b, false, "past the point of no return"), 0);
	RUN_UNTIL(&f, r.delivered == 2, 5000);
	assert_int_equal(r.delivered_exec[1], DDI_EXEC_REJECTED);
	assert_int_equal(r.delivered_err[1], 0);
	feedback(t, b, DDI_EXEC_CLOSED, DDI_FINISHED_SUCCESS, 4, 4, NULL);
	RUN_UNTIL(&f, r.delivered == 3, 5000);
	assert_int_equal(r.delivered_err[2], 0);
	o = action_state(b, &doc);
	assert_string_equal(member_str(o, "state"), "closed");
	assert_string_equal(member_str(o, "result"), "success");
	feedback_list(o, "cancel_feedback", list, sizeof(list));
	assert_string_equal(list, "rejected/none");
	jd_doc_free(doc);
	/* each request said once; the open action after the refusal is not announced again */
	assert_int_equal(r.cancels, 2);
	assert_int_equal(r.deployments, 2);
	assert_int_equal(tl_ddi_count(&srv, "cancel", "cancel-1"), 2);
	free(a);
	free(b);
	client_stop(&f);
}

static void test_maintenance_window(void **state)
{
	uint64_t last = 0;
	char files[700], *a;
	struct ddi_target *t;
	struct fixture f;
	struct rec r;

	snprintf(files, sizeof(files), "file=%s window=unavailable", tl_path("app.bin"));
	a = deploy("window-1", files);
	client_start(&f, TOKEN, "cache-window");
	t = target(&f, "window-1", &r);
	RUN_UNTIL(&f, r.deployments == 1, 5000);
	assert_true(r.may_download);
	assert_false(r.may_install); /* download now, install in the window */
	next_poll_after(&f, t, &last);
	next_poll_after(&f, t, &last); /* the next poll, at the server's sleep */
	/* fetched again each poll (its window may open), announced once */
	assert_true(tl_ddi_count(&srv, "deployment", "window-1") >= 2);
	assert_int_equal(r.deployments, 1);
	cmd_ok("window %s %s", a, "available");
	RUN_UNTIL(&f, r.deployments == 2, 5000);
	assert_true(r.may_install);
	free(a);
	client_stop(&f);
}

static void test_download_cut_short_is_resumed(void **state)
{
	char files[700], *a, hex[65];
	struct ddi_target *t;
	struct download d;
	struct fixture f;
	struct rec r;

	snprintf(files, sizeof(files), "file=%s", tl_path("app.bin"));
	a = deploy("resume-1", files);
	cmd_ok("fail cut 1 %s", "download");
	client_start(&f, TOKEN, "cache-resume");
	t = target(&f, "resume-1", &r);
	RUN_UNTIL(&f, r.deployments == 1, 5000);
	d = download(&f, t);
	if (d.err)
		fail_msg("%s", d.why);
	assert_non_null(strstr(d.path, hex_encode(app_sha, 32, hex)));
	assert_int_equal(tl_ddi_count(&srv, "download", "resume-1"), 2);
	{
		char *log = tl_read_file(srv.log);

		assert_non_null(strstr(log, "\"kind\": \"download\", \"cid\": \"resume-1\", "
					    "\"status\": -206"));
		assert_non_null(strstr(log, "\"kind\": \"download\", \"cid\": \"resume-1\", "
					    "\"status\": 206"));
		free(log);
	}
	free(a);
	client_stop(&f);
}

/* A final feedback sent again (as a restarted gateway would) is taken once: 410 the second
 * time, reported as -ESTALE. */
static void test_final_feedback_twice_is_taken_once(void **state)
{
	char files[700], *a;
	struct ddi_target *t;
	struct jd_doc *doc;
	struct json_object *o, *v;
	struct fixture f;
	struct rec r;
	uint64_t late = 0;

	snprintf(files, sizeof(files), "file=%s", tl_path("app.bin"));
	a = deploy("twice-1", files);
	client_start(&f, TOKEN, "cache-twice");
	t = target(&f, "twice-1", &r);
	RUN_UNTIL(&f, r.deployments == 1, 5000);
	feedback(t, a, DDI_EXEC_DOWNLOADED, DDI_FINISHED_NONE, 0, 0, NULL);
	feedback(t, a, DDI_EXEC_CLOSED, DDI_FINISHED_SUCCESS, 0, 0, NULL);
	feedback(t, a, DDI_EXEC_CLOSED, DDI_FINISHED_SUCCESS, 0, 0, NULL);
	RUN_UNTIL(&f, r.delivered == 2, 5000);
	assert_int_equal(r.delivered_err[0], 0);
	assert_int_equal(r.delivered_err[1], -ESTALE);
	o = action_state(a, &doc);
	assert_string_equal(member_str(o, "result"), "success");
	assert_true(jd_get(o, "late", &v) && jd_u64(v, &late) == 0);
	assert_int_equal(late, 1);
	jd_doc_free(doc);
	free(a);
	client_stop(&f);
}

/* Feedback the server fails on is sent again after the backoff, in order, and reported once. */
static void test_feedback_retried_while_the_server_fails(void **state)
{
	char files[700], list[300], *a;
	struct ddi_target *t;
	struct jd_doc *doc;
	struct fixture f;
	struct rec r;

	snprintf(files, sizeof(files), "file=%s", tl_path("app.bin"));
	a = deploy("retry-1", files);
	client_start(&f, TOKEN, "cache-retry");
	t = target(&f, "retry-1", &r);
	RUN_UNTIL(&f, r.deployments == 1, 5000);
	cmd_ok("fail 503 2 %s", "feedback");
	feedback(t, a, DDI_EXEC_DOWNLOADED, DDI_FINISHED_NONE, 0, 0, NULL);
	feedback(t, a, DDI_EXEC_CLOSED, DDI_FINISHED_SUCCESS, 0, 0, NULL);
	RUN_UNTIL(&f, r.delivered == 1, 5000);
	assert_int_equal(r.delivered_err[0], 0);
	assert_int_equal(tl_ddi_count(&srv, "feedback", "retry-1"), 4);
	feedback_list(action_state(a, &doc), "feedback", list, sizeof(list));
	assert_string_equal(list, "downloaded/none closed/success");
	jd_doc_free(doc);
	assert_int_equal(f.links.changes, 2);
	assert_int_equal(f.links.state[0], DDI_LINK_FAILING);
	assert_non_null(strstr(f.links.why[0], "HTTP 503: injected 503 (GatewayToken (token))"));
	assert_int_equal(f.links.state[1], DDI_LINK_OK);
	free(a);
	client_stop(&f);
}

/* 503s, bad JSON, a stall, a closed connection, an HTML page: each ends the poll, the next waits
 * for the backoff (exactly min, 2 min, 4 min, ...), the link or the target says it once, and the
 * server sees no more requests than that. */
static void test_server_failures_back_off(void **state)
{
	uint64_t last = 0;
	struct ddi_target *t;
	struct fixture f;
	struct rec r;

	cmd_ok("fail 503 4 %s", "base");
	client_start(&f, TOKEN, "cache-fail");
	t = target(&f, "fail-1", &r);
	next_poll_after(&f, t, &last);
	assert_true(next_poll_after(&f, t, &last) == 100 * 1000);
	assert_true(next_poll_after(&f, t, &last) == 200 * 1000);
	assert_true(next_poll_after(&f, t, &last) == 400 * 1000);
	assert_true(next_poll_after(&f, t, &last) == 800 * 1000);
	assert_true(next_poll_after(&f, t, &last) == 1000 * 1000); /* through: the sleep */
	assert_int_equal(tl_ddi_count(&srv, "base", "fail-1"), 5);
	assert_int_equal(f.links.changes, 2);
	assert_int_equal(f.links.state[0], DDI_LINK_FAILING);
	assert_non_null(strstr(f.links.why[0], "/DEFAULT/controller/v1/fail-1: HTTP 503"));
	assert_int_equal(f.links.state[1], DDI_LINK_OK);

	/* answers that are no controller base: the target's problem, said once, then cleared */
	cmd_ok("fail badjson 2 %s", "base");
	ddi_target_refresh(t);
	assert_true(next_poll_after(&f, t, &last) == 0);
	assert_true(next_poll_after(&f, t, &last) == 100 * 1000);
	assert_true(next_poll_after(&f, t, &last) == 200 * 1000);
	assert_true(next_poll_after(&f, t, &last) == 1000 * 1000);
	assert_int_equal(r.problems, 1);
	if (!strstr(r.problem,
		    "controller base: not JSON: line 1 column 58: unexpected end of data"))
		fail_msg("%s", r.problem);
	assert_int_equal(r.cleared, 1);
	assert_int_equal(f.links.changes, 2); /* the server did answer */

	/* no answer at all: a stall (the request times out) and a closed connection */
	cmd_ok("fail stall 1 %s", "base");
	cmd_ok("fail close 1 %s", "base");
	cmd_ok("fail html 1 %s", "base");
	ddi_target_refresh(t);
	assert_true(next_poll_after(&f, t, &last) == 0);
	assert_true(next_poll_after(&f, t, &last) == 100 * 1000);
	assert_true(next_poll_after(&f, t, &last) == 200 * 1000);
	assert_true(next_poll_after(&f, t, &last) == 400 * 1000);
	assert_true(next_poll_after(&f, t, &last) == 1000 * 1000);
	assert_int_equal(f.links.changes, 4);
	assert_int_equal(f.links.state[2], DDI_LINK_FAILING);
	assert_non_null(strstr(f.links.why[2], "timed out"));
	assert_int_equal(f.links.state[3], DDI_LINK_OK);
	assert_int_equal(r.problems, 2);
	assert_non_null(strstr(r.problem, "controller base: not JSON: line 1 column 1"));
	assert_int_equal(tl_ddi_count(&srv, "base", "fail-1"), 5 + 3 + 4);
	client_stop(&f);
}

/* A refused token: said once, retried at the slow pace, never repeated in a message. */
static void test_unauthorized_is_said_once_and_retried_slowly(void **state)
{
	static const char wrong[] = "not-the-gateway-token-77";
	uint64_t last = 0;
	struct ddi_target *t;
	struct fixture f;
	struct rec r;

	client_start(&f, wrong, "cache-auth");
	t = target(&f, "auth-1", &r);
	next_poll_after(&f, t, &last);
	assert_true(next_poll_after(&f, t, &last) == 800 * 1000);
	assert_true(next_poll_after(&f, t, &last) == 800 * 1000);
	assert_true(next_poll_after(&f, t, &last) == 800 * 1000);
	assert_int_equal(tl_ddi_count(&srv, "base", "auth-1"), 3);
	assert_int_equal(f.links.changes, 1);
	assert_int_equal(f.links.state[0], DDI_LINK_UNAUTHORIZED);
	/* the server echoed the header it got: the client says "(token)" instead */
	assert_non_null(strstr(f.links.why[0], "HTTP 401: bad credentials: GatewayToken (token)"));
	assert_int_equal(r.problems, 0);
	assert_null(strstr(whys, wrong));
	assert_int_equal(ddi_client_link(f.c), DDI_LINK_UNAUTHORIZED);
	client_stop(&f);
}

/* A server that echoes the credentials in a long message (up to the longest the client takes
 * whole): every copy comes out as "(token)", none cut into a part of the token. */
static void test_token_echoed_at_length_is_redacted_whole(void **state)
{
	struct ddi_target *t;
	struct fixture f;
	struct rec r;
	const char *p;
	unsigned copies = 0;

	cmd_ok("fail echo 1 %s", "base");
	client_start(&f, TOKEN, "cache-echo");
	t = target(&f, "echo-1", &r);
	RUN_UNTIL(&f, f.links.changes == 1, 5000);
	assert_int_equal(f.links.state[0], DDI_LINK_UNAUTHORIZED);
	for (p = f.links.why[0]; (p = strstr(p, "GatewayToken (token), ")); p++)
		copies++;
	/* "credentials refused: " and as many whole copies as fit in 400 bytes */
	assert_int_equal(copies, (400 - 21) / (strlen("GatewayToken " TOKEN ", ")));
	assert_false(holds_part_of(f.links.why[0], TOKEN));
	ddi_target_free(t);
	client_stop(&f);
}

/* Tokens that are short, or a part of the mark that replaces them: redacted, no loop. */
static void test_short_tokens_are_redacted(void **state)
{
	static const char *const tokens[] = {"token", "o", "ab", "(", "en)"};

	for (size_t i = 0; i < ARRAY_SIZE(tokens); i++) {
		char rest[600], *m;
		struct fixture f;
		struct rec r;

		client_start(&f, tokens[i], "cache-short");
		target(&f, "short-1", &r);
		RUN_UNTIL(&f, f.links.changes == 1, 5000);
		assert_int_equal(f.links.state[0], DDI_LINK_UNAUTHORIZED);
		assert_non_null(strstr(f.links.why[0], "HTTP 401"));
		/* what is left without the marks holds the token nowhere */
		snprintf(rest, sizeof(rest), "%s", f.links.why[0]);
		while ((m = strstr(rest, "(token)")))
			memmove(m, m + 7, strlen(m + 7) + 1);
		if (strstr(rest, tokens[i]))
			fail_msg("\"%s\" in \"%s\"", tokens[i], f.links.why[0]);
		ddi_client_free(f.c);
		sd_event_unref(f.e);
	}
	tl_ddi_assert_no_violations(&srv);
}

/* A download link that carries the token (a server's signed link): the download's message
 * says "(token)" for it. */
static void test_token_in_a_download_link_is_redacted(void **state)
{
	char files[700], *a;
	struct ddi_target *t;
	struct download d;
	struct fixture f;
	struct rec r;

	snprintf(files, sizeof(files), "file=%s linkquery=token", tl_path("app.bin"));
	a = deploy("link-1", files);
	cmd_ok("fail 403 1 %s", "download");
	client_start(&f, TOKEN, "cache-link");
	t = target(&f, "link-1", &r);
	RUN_UNTIL(&f, r.deployments == 1, 5000);
	d = download(&f, t);
	assert_int_equal(d.err, -EACCES);
	if (!strstr(d.why, "/artifacts/app.bin?t=(token): HTTP 403"))
		fail_msg("%s", d.why);
	free(a);
	client_stop(&f);
}

/* The server's certificate is checked: against the system's store (which does not hold the
 * test CA) no request reaches it, and the link says why. */
static void test_server_not_signed_by_a_trusted_ca_is_refused(void **state)
{
	struct fixture f;
	struct rec r;

	client_start_ca(&f, TOKEN, "cache-ca", NULL);
	target(&f, "ca-1", &r);
	RUN_UNTIL(&f, f.links.changes == 1, 5000);
	assert_int_equal(f.links.state[0], DDI_LINK_FAILING);
	if (!strstr(f.links.why[0], "certificate"))
		fail_msg("%s", f.links.why[0]);
	assert_int_equal(tl_ddi_count(&srv, "base", "ca-1"), 0);
	assert_int_equal(r.deployments, 0);
	client_stop(&f);
}

static void test_options_and_ids_refused(void **state)
{
	struct ddi_options o = {.server = "http://127.0.0.1:1",
				.tenant = TENANT,
				.token = TOKEN,
				.cache_dir = "/tmp"};
	struct ddi_client *c = NULL;
	struct ddi_target *t = NULL;
	struct rec r;
	char why[300];
	sd_event *e = NULL;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(ddi_client_new(e, &o, &c, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "Server=http://127.0.0.1:1: expected an https:// URL"));
	o.server = "https://127.0.0.1:1/";
	o.tenant = "a/b";
	assert_int_equal(ddi_client_new(e, &o, &c, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "Tenant=a/b"));
	o.tenant = TENANT;
	o.token = "two words";
	assert_int_equal(ddi_client_new(e, &o, &c, why, sizeof(why)), -EINVAL);
	assert_null(strstr(why, "two words"));
	o.token = TOKEN;
	assert_int_equal(ddi_client_new(e, &o, &c, why, sizeof(why)), 0);
	assert_int_equal(ddi_target_new(c, "a b", &ops, &r, NULL, &t), -EINVAL);
	assert_int_equal(ddi_target_new(c, "dup", &ops, &r, NULL, &t), 0);
	assert_int_equal(ddi_target_new(c, "dup", &ops, &r, NULL, &t), -EEXIST);
	ddi_client_free(c); /* frees the target left */
	sd_event_unref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_devices_behind_one_gateway),
		cmocka_unit_test(test_polls_at_the_servers_sleep),
		cmocka_unit_test(test_attributes_sent_when_they_change),
		cmocka_unit_test(test_cancel_before_and_during_the_upload),
		cmocka_unit_test(test_maintenance_window),
		cmocka_unit_test(test_download_cut_short_is_resumed),
		cmocka_unit_test(test_final_feedback_twice_is_taken_once),
		cmocka_unit_test(test_feedback_retried_while_the_server_fails),
		cmocka_unit_test(test_server_failures_back_off),
		cmocka_unit_test(test_unauthorized_is_said_once_and_retried_slowly),
		cmocka_unit_test(test_token_echoed_at_length_is_redacted_whole),
		cmocka_unit_test(test_short_tokens_are_redacted),
		cmocka_unit_test(test_token_in_a_download_link_is_redacted),
		cmocka_unit_test(test_server_not_signed_by_a_trusted_ca_is_refused),
		cmocka_unit_test(test_options_and_ids_refused),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
