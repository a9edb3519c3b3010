/* clock.c — model clock and agenda: a binary min-heap ordered by (model time, sequence) drives
 * one CLOCK_MONOTONIC sd-event source. */
#include "sim/clock.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "util/macro.h"

struct entry {
	uint64_t when, id;
	sim_clock_fn fn; /* NULL: cancelled */
	void *user_data;
};

struct sim_clock {
	sd_event *event;
	sd_event_source *timer;
	double speed;
	uint64_t t0; /* CLOCK_MONOTONIC usec at start */
	struct entry *heap;
	size_t n, cap;
	uint64_t next_id;
};

static uint64_t mono_now(struct sim_clock *c)
{
	uint64_t u;

	if (sd_event_now(c->event, CLOCK_MONOTONIC, &u) < 0) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		u = (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_USEC;
	}
	return u;
}

static uint64_t real_of(const struct sim_clock *c, uint64_t model)
{
	return c->t0 + (uint64_t)ceil((double)model / c->speed);
}

uint64_t sim_clock_now(struct sim_clock *c)
{
	uint64_t now = mono_now(c);

	return now <= c->t0 ? 0 : (uint64_t)((double)(now - c->t0) * c->speed);
}

double sim_clock_real_seconds(struct sim_clock *c)
{
	uint64_t now = mono_now(c);

	return now <= c->t0 ? 0.0 : (double)(now - c->t0) / 1e6;
}

double sim_clock_speed(const struct sim_clock *c)
{
	return c->speed;
}

static bool before(const struct entry *a, const struct entry *b)
{
	return a->when < b->when || (a->when == b->when && a->id < b->id);
}

static void swap_entries(struct entry *a, struct entry *b)
{
	struct entry t = *a;

	*a = *b;
	*b = t;
}

static void sift_up(struct sim_clock *c, size_t i)
{
	while (i > 0 && before(&c->heap[i], &c->heap[(i - 1) / 2])) {
		swap_entries(&c->heap[i], &c->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

static void sift_down(struct sim_clock *c, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < c->n && before(&c->heap[l], &c->heap[m]))
			m = l;
		if (r < c->n && before(&c->heap[r], &c->heap[m]))
			m = r;
		if (m == i)
			return;
		swap_entries(&c->heap[i], &c->heap[m]);
		i = m;
	}
}

static struct entry pop(struct sim_clock *c)
{
	struct entry top = c->heap[0];

	c->heap[0] = c->heap[--c->n];
	sift_down(c, 0);
	return top;
}

static void rearm(struct sim_clock *c)
{
	while (c->n > 0 && !c->heap[0].fn)
		(void)pop(c);
	if (c->n == 0) {
		(void)sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
		return;
	}
	(void)sd_event_source_set_time(c->timer, real_of(c, c->heap[0].when));
	(void)sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct sim_clock *c = userdata;
	uint64_t now = mono_now(c);

	while (c->n > 0 && real_of(c, c->heap[0].when) <= now) {
		struct entry e = pop(c);

		if (e.fn)
			e.fn(e.when, e.user_data);
	}
	rearm(c);
	return 0;
}

int sim_clock_new(sd_event *e, double speed, struct sim_clock **ret)
{
	struct sim_clock *c;
	int r;

	if (!(speed > 0))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->event = sd_event_ref(e);
	c->speed = speed;
	c->t0 = mono_now(c);
	r = sd_event_add_time(e, &c->timer, CLOCK_MONOTONIC, c->t0, 1, on_timer, c);
	if (r < 0) {
		sim_clock_free(c);
		return r;
	}
	(void)sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	*ret = c;
	return 0;
}

struct sim_clock *sim_clock_free(struct sim_clock *c)
{
	if (!c)
		return NULL;
	sd_event_source_disable_unref(c->timer);
	sd_event_unref(c->event);
	free(c->heap);
	free(c);
	return NULL;
}

uint64_t sim_clock_at(struct sim_clock *c, uint64_t when, sim_clock_fn fn, void *user_data)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct entry *h = realloc(c->heap, cap * sizeof(*h));

		if (!h)
			return 0;
		c->heap = h;
		c->cap = cap;
	}
	c->heap[c->n] =
		(struct entry){.when = when, .id = ++c->next_id, .fn = fn, .user_data = user_data};
	sift_up(c, c->n++);
	rearm(c);
	return c->next_id;
}

void sim_clock_cancel(struct sim_clock *c, uint64_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->heap[i].id == id) {
			c->heap[i].fn = NULL;
			break;
		}
	rearm(c);
}
