/* target.c — one controllerId (ddi.h, struct ddi_target): the poll, and the feedback queue.
 *
 * A poll is a chain of requests, one at a time: the controller base, then what its links ask
 * for: configData (when the attributes changed or the server asks), cancelAction (a request not
 * announced yet), deploymentBase (an action not fetched yet, a changed link, or one that may not
 * be installed yet: its maintenance window can open without the link changing). A failed step
 * ends the poll and the next one waits for the backoff; a poll that went through waits for the
 * server's sleep. Feedback has its own lane, in order, one at a time, each retried until the
 * server takes it or refuses it. */
#include "ddi/ddi-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum step {
	STEP_IDLE,
	STEP_BASE,
	STEP_CONFIG,
	STEP_CANCEL,
	STEP_DEPLOYMENT,
};

struct feedback {
	struct feedback *next;
	char action[DDI_ID_MAX + 1];
	enum ddi_execution execution;
	bool cancel_answer; /* to cancelAction/ACTION/feedback */
	char *body;
};

/* What was announced of a deployment: its action and handling. */
struct announced {
	bool any;
	char action[DDI_ID_MAX + 1];
	enum ddi_handling download, update;
	enum ddi_window window;
};

struct ddi_target {
	struct ddi_client *c;
	char *cid;
	struct ddi_target_ops ops;
	void *user_data;
	otad_destroy_fn destroy;
	/* the poll */
	sd_event_source *timer;
	uint64_t next_poll;
	enum step step;
	unsigned req;
	struct ddi_base base;
	unsigned failures;
	uint64_t sleep_usec;
	bool refresh, refresh_pending, poll_again, problem_now;
	char *problem;
	char *attrs, *attrs_taken; /* configData bodies: wanted, and what the server took */
	struct ddi_deployment *deployment;
	char deployment_tag[DDI_TAG_MAX + 1];
	struct announced announced;
	char cancel_said[DDI_ID_MAX + 1];
	/* the feedback lane */
	struct feedback *queue;
	unsigned fb_req, fb_failures;
	sd_event_source *fb_timer;
};

static void poll_step(struct ddi_target *t);

static void schedule(struct ddi_target *t, uint64_t delay)
{
	uint64_t now = 0;

	sd_event_now(ddi_client_event(t->c), CLOCK_MONOTONIC, &now);
	t->next_poll = now + delay;
	sd_event_source_set_time(t->timer, t->next_poll);
	sd_event_source_set_enabled(t->timer, SD_EVENT_ONESHOT);
}

static void set_problem(struct ddi_target *t, const char *why)
{
	t->problem_now = true;
	if (t->problem && strcmp(t->problem, why) == 0)
		return;
	free(t->problem);
	t->problem = strdup(why);
	if (t->ops.problem)
		t->ops.problem(t, why, t->user_data);
}

/* The poll ends; the next one after the backoff (or the slow pace for a refused token). */
static void poll_failed(struct ddi_target *t, enum ddi_outcome o, const char *problem)
{
	const struct ddi_options *opt = ddi_client_options(t->c);

	if (problem)
		set_problem(t, problem);
	t->failures++;
	t->step = STEP_IDLE;
	schedule(t, o == DDI_OUTCOME_AUTH ? opt->backoff_max_usec
					  : ddi_backoff_usec(t->failures, opt->backoff_min_usec,
							     opt->backoff_max_usec));
}

static void poll_done(struct ddi_target *t)
{
	const struct ddi_options *opt = ddi_client_options(t->c);
	uint64_t sleep = t->sleep_usec ? t->sleep_usec : opt->poll_usec;

	t->failures = 0;
	t->step = STEP_IDLE;
	t->refresh = false;
	if (!t->problem_now && t->problem) {
		free(t->problem);
		t->problem = NULL;
		if (t->ops.problem)
			t->ops.problem(t, NULL, t->user_data);
	}
	schedule(t, t->poll_again ? 0 : MAX(sleep, opt->min_poll_usec));
	t->poll_again = false;
}

/* The outcome of an answer; the poll ends unless it is OK (or GONE, when gone_ok). */
static enum ddi_outcome answer_ok(struct ddi_target *t, int err, const struct fetch_answer *a,
				  const char *why, bool gone_ok)
{
	enum ddi_outcome o = ddi_outcome_of(err, a ? a->status : 0);

	t->req = 0;
	if (o == DDI_OUTCOME_OK || (o == DDI_OUTCOME_GONE && gone_ok))
		return o;
	poll_failed(t, o, o == DDI_OUTCOME_GONE || o == DDI_OUTCOME_REFUSED ? why : NULL);
	return o;
}

static void on_base(int err, const struct fetch_answer *a, const char *why, void *user_data)
{
	struct ddi_target *t = user_data;
	char problem[600];

	if (answer_ok(t, err, a, why, false) != DDI_OUTCOME_OK)
		return;
	if (ddi_base_parse(a->body, a->body_len, &t->base, problem, sizeof(problem)) < 0) {
		poll_failed(t, DDI_OUTCOME_RETRY, problem);
		return;
	}
	t->sleep_usec = t->base.sleep_usec;
	if (!t->base.cancel[0])
		t->cancel_said[0] = 0;
	t->step = STEP_CONFIG;
	poll_step(t);
}

static void on_config(int err, const struct fetch_answer *a, const char *why, void *user_data)
{
	struct ddi_target *t = user_data;
	char problem[700];
	enum ddi_outcome o = ddi_outcome_of(err, a ? a->status : 0);

	t->req = 0;
	if (o == DDI_OUTCOME_RETRY || o == DDI_OUTCOME_AUTH) {
		poll_failed(t, o, NULL);
		return;
	}
	if (o != DDI_OUTCOME_OK) {
		/* refused: not sent again until the attributes change */
		snprintf(problem, sizeof(problem), "configData refused: %s", why);
		set_problem(t, problem);
	}
	free(t->attrs_taken);
	t->attrs_taken = t->attrs ? strdup(t->attrs) : NULL;
	t->step = STEP_CANCEL;
	poll_step(t);
}

static void on_cancel(int err, const struct fetch_answer *a, const char *why, void *user_data)
{
	struct ddi_target *t = user_data;
	char stop[DDI_ID_MAX + 1], problem[600];
	enum ddi_outcome o = answer_ok(t, err, a, why, true);

	if (o != DDI_OUTCOME_OK && o != DDI_OUTCOME_GONE)
		return;
	if (o == DDI_OUTCOME_OK) {
		if (ddi_cancel_parse(a->body, a->body_len, stop, problem, sizeof(problem)) < 0) {
			poll_failed(t, DDI_OUTCOME_RETRY, problem);
			return;
		}
		snprintf(t->cancel_said, sizeof(t->cancel_said), "%s", t->base.cancel);
		if (t->ops.cancel)
			t->ops.cancel(t, stop, t->user_data);
	}
	t->step = STEP_DEPLOYMENT;
	poll_step(t);
}

static bool announce_needed(const struct ddi_target *t, const struct ddi_deployment *d)
{
	const struct announced *n = &t->announced;

	return t->refresh || !n->any || strcmp(n->action, d->action) != 0 ||
	       n->download != d->download || n->update != d->update || n->window != d->window;
}

static void on_deployment(int err, const struct fetch_answer *a, const char *why, void *user_data)
{
	struct ddi_target *t = user_data;
	struct ddi_deployment *d = NULL;
	char problem[600];
	enum ddi_outcome o = answer_ok(t, err, a, why, true);

	if (o == DDI_OUTCOME_GONE) {
		poll_done(t); /* cancelled or closed meanwhile */
		return;
	}
	if (o != DDI_OUTCOME_OK)
		return;
	if (ddi_deployment_parse(a->body, a->body_len, &d, problem, sizeof(problem)) < 0) {
		poll_failed(t, DDI_OUTCOME_RETRY, problem);
		return;
	}
	ddi_deployment_free(t->deployment);
	t->deployment = d;
	snprintf(t->deployment_tag, sizeof(t->deployment_tag), "%s", t->base.deployment_tag);
	if (announce_needed(t, d)) {
		t->announced = (struct announced){.any = true,
						  .download = d->download,
						  .update = d->update,
						  .window = d->window};
		snprintf(t->announced.action, sizeof(t->announced.action), "%s", d->action);
		if (t->ops.deployment)
			t->ops.deployment(t, d, t->user_data);
	}
	poll_done(t);
}

static bool fetch_needed(const struct ddi_target *t)
{
	const struct ddi_deployment *d = t->deployment;

	return t->refresh || !d || strcmp(d->action, t->base.deployment) != 0 ||
	       strcmp(t->deployment_tag, t->base.deployment_tag) != 0 ||
	       !ddi_deployment_may_download(d) || !ddi_deployment_may_install(d);
}

/* The next request of the poll, or its end. */
static void poll_step(struct ddi_target *t)
{
	char suffix[DDI_ID_MAX + 32];
	int err = 0;

	for (;;) {
		switch (t->step) {
		case STEP_IDLE:
			return;
		case STEP_BASE:
			t->req = ddi_client_send(t->c, "GET", t->cid, NULL, NULL, on_base, t, &err);
			break;
		case STEP_CONFIG:
			if (t->attrs && (t->base.config_requested || !t->attrs_taken ||
					 strcmp(t->attrs, t->attrs_taken) != 0)) {
				t->req = ddi_client_send(t->c, "PUT", t->cid, "configData",
							 t->attrs, on_config, t, &err);
				break;
			}
			t->step = STEP_CANCEL;
			continue;
		case STEP_CANCEL:
			if (t->base.cancel[0] && strcmp(t->base.cancel, t->cancel_said) != 0) {
				snprintf(suffix, sizeof(suffix), "cancelAction/%s", t->base.cancel);
				t->req = ddi_client_send(t->c, "GET", t->cid, suffix, NULL,
							 on_cancel, t, &err);
				break;
			}
			t->step = STEP_DEPLOYMENT;
			continue;
		case STEP_DEPLOYMENT:
			if (t->base.deployment[0] && fetch_needed(t)) {
				snprintf(suffix, sizeof(suffix), "deploymentBase/%s",
					 t->base.deployment);
				t->req = ddi_client_send(t->c, "GET", t->cid, suffix, NULL,
							 on_deployment, t, &err);
				break;
			}
			poll_done(t);
			return;
		}
		if (!t->req)
			poll_failed(t, DDI_OUTCOME_RETRY, NULL); /* out of memory: later */
		return;
	}
}

static int on_timer(sd_event_source *s, uint64_t usec, void *user_data)
{
	struct ddi_target *t = user_data;

	t->next_poll = 0;
	t->problem_now = false;
	t->refresh = t->refresh_pending;
	t->refresh_pending = false;
	t->step = STEP_BASE;
	poll_step(t);
	return 0;
}

/* ---- Feedback ----------------------------------------------------------------------------- */

static void fb_kick(struct ddi_target *t);

static void fb_pop(struct ddi_target *t)
{
	struct feedback *f = t->queue;

	t->queue = f->next;
	free(f->body);
	free(f);
}

static int on_fb_timer(sd_event_source *s, uint64_t usec, void *user_data)
{
	struct ddi_target *t = user_data;

	t->fb_timer = sd_event_source_disable_unref(t->fb_timer);
	fb_kick(t);
	return 0;
}

static void fb_retry(struct ddi_target *t, enum ddi_outcome o)
{
	const struct ddi_options *opt = ddi_client_options(t->c);
	uint64_t now = 0, delay;

	t->fb_failures++;
	delay = o == DDI_OUTCOME_AUTH ? opt->backoff_max_usec
				      : ddi_backoff_usec(t->fb_failures, opt->backoff_min_usec,
							 opt->backoff_max_usec);
	sd_event_now(ddi_client_event(t->c), CLOCK_MONOTONIC, &now);
	if (sd_event_add_time(ddi_client_event(t->c), &t->fb_timer, CLOCK_MONOTONIC, now + delay,
			      1000, on_fb_timer, t) < 0)
		t->fb_timer = NULL; /* sent again with the next feedback */
}

static void on_fb(int err, const struct fetch_answer *a, const char *why, void *user_data)
{
	struct ddi_target *t = user_data;
	struct feedback *f = t->queue;
	enum ddi_outcome o = ddi_outcome_of(err, a ? a->status : 0);
	bool final = f->cancel_answer || ddi_execution_final(f->execution);
	int result = 0;

	t->fb_req = 0;
	if (o == DDI_OUTCOME_RETRY || o == DDI_OUTCOME_AUTH) {
		fb_retry(t, o);
		return;
	}
	t->fb_failures = 0;
	if (o == DDI_OUTCOME_GONE)
		result = a && a->status == 410 ? -ESTALE : -ENOENT;
	else if (o == DDI_OUTCOME_REFUSED)
		result = -EBADMSG;
	t->queue = f->next; /* off the queue before the owner hears of it */
	if (final && t->ops.delivered)
		t->ops.delivered(t, f->action, f->execution, result, why, t->user_data);
	free(f->body);
	free(f);
	if (final && t->step == STEP_IDLE)
		schedule(t, 0); /* what comes next */
	else if (final)
		t->poll_again = true;
	fb_kick(t);
}

static void fb_kick(struct ddi_target *t)
{
	struct feedback *f = t->queue;
	char suffix[DDI_ID_MAX + 32];
	int err = 0;

	if (!f || t->fb_req || t->fb_timer)
		return;
	snprintf(suffix, sizeof(suffix), "%s/%s/feedback",
		 f->cancel_answer ? "cancelAction" : "deploymentBase", f->action);
	t->fb_req = ddi_client_send(t->c, "POST", t->cid, suffix, f->body, on_fb, t, &err);
	if (!t->fb_req)
		fb_retry(t, DDI_OUTCOME_RETRY);
}

static int enqueue(struct ddi_target *t, const struct ddi_feedback *fb, bool cancel_answer)
{
	struct feedback *f, **p;
	bool final = cancel_answer || ddi_execution_final(fb->execution);
	char *body = NULL;
	int r = ddi_feedback_json(fb, time(NULL), &body);

	if (r < 0)
		return r;
	/* progress still waiting at the tail (not in flight) gives way to newer progress */
	for (p = &t->queue; *p && (*p)->next; p = &(*p)->next)
		;
	if (!final && *p && (*p != t->queue || !t->fb_req) && !(*p)->cancel_answer &&
	    (*p)->execution == fb->execution && !ddi_execution_final((*p)->execution) &&
	    strcmp((*p)->action, fb->action) == 0) {
		free((*p)->body);
		(*p)->body = body;
		return 0;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		free(body);
		return -ENOMEM;
	}
	*f = (struct feedback){
		.execution = fb->execution, .cancel_answer = cancel_answer, .body = body};
	snprintf(f->action, sizeof(f->action), "%s", fb->action);
	for (p = &t->queue; *p; p = &(*p)->next)
		;
	*p = f;
	fb_kick(t);
	return 0;
}

int ddi_target_feedback(struct ddi_target *t, const struct ddi_feedback *fb)
{
	return enqueue(t, fb, false);
}

int ddi_target_answer_cancel(struct ddi_target *t, const char *action, bool canceled,
			     const char *detail)
{
	const char *details[] = {detail, NULL};
	struct ddi_feedback fb = {.action = action,
				  .execution = canceled ? DDI_EXEC_CLOSED : DDI_EXEC_REJECTED,
				  .finished = canceled ? DDI_FINISHED_SUCCESS : DDI_FINISHED_NONE,
				  .details = detail ? details : NULL};

	return enqueue(t, &fb, true);
}

/* ---- The target ----------------------------------------------------------------------------- */

int ddi_target_new(struct ddi_client *c, const char *controller_id,
		   const struct ddi_target_ops *ops, void *user_data, otad_destroy_fn destroy,
		   struct ddi_target **ret)
{
	struct ddi_target *t;
	int r;

	if (!ddi_id_valid(controller_id, DDI_CID_MAX, true))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->c = c;
	t->ops = *ops;
	t->cid = strdup(controller_id);
	r = t->cid ? ddi_client_add_target(c, t, t->cid) : -ENOMEM;
	if (r < 0) {
		free(t->cid);
		free(t);
		return r;
	}
	r = sd_event_add_time(ddi_client_event(c), &t->timer, CLOCK_MONOTONIC, 0, 1000, on_timer,
			      t);
	if (r < 0) {
		ddi_target_free(t);
		return r;
	}
	t->user_data = user_data;
	t->destroy = destroy;
	schedule(t, 0);
	*ret = t;
	return 0;
}

struct ddi_target *ddi_target_free(struct ddi_target *t)
{
	if (!t)
		return NULL;
	ddi_client_cancel_request(t->c, t->req);
	ddi_client_cancel_request(t->c, t->fb_req);
	while (t->queue)
		fb_pop(t);
	sd_event_source_disable_unref(t->timer);
	sd_event_source_disable_unref(t->fb_timer);
	ddi_client_remove_target(t->c, t);
	if (t->destroy)
		t->destroy(t->user_data);
	ddi_deployment_free(t->deployment);
	free(t->problem);
	free(t->attrs);
	free(t->attrs_taken);
	free(t->cid);
	free(t);
	return NULL;
}

const char *ddi_target_controller_id(const struct ddi_target *t)
{
	return t->cid;
}

const struct ddi_deployment *ddi_target_deployment(const struct ddi_target *t)
{
	return t->deployment;
}

uint64_t ddi_target_next_poll(const struct ddi_target *t)
{
	return t->step == STEP_IDLE ? t->next_poll : 0;
}

int ddi_target_set_attributes(struct ddi_target *t, const struct ddi_attr *attrs, size_t n)
{
	char *body = NULL;
	int r = ddi_config_json(attrs, n, &body);

	if (r < 0)
		return r;
	if (n == 0) { /* hawkBit takes no empty configData: nothing to send */
		free(body);
		body = NULL;
	}
	free(t->attrs);
	t->attrs = body;
	return 0;
}

void ddi_target_refresh(struct ddi_target *t)
{
	t->refresh_pending = true;
	if (t->step != STEP_IDLE)
		t->poll_again = true;
	else
		schedule(t, 0);
}
