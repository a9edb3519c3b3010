/* test-ble-shared.c — one controller, many links: this process opens ONE controller of BlueZ's
 * emulator and hands it to two BLE transports, each finding and connecting its own otasim --ble
 * peripheral (a scan watch and a queued connection request each). SMP echo and image state
 * requests run on both links at the same time; closing one transport lets go of its link only
 * (the device hears it end) while the other link goes on through the same controller. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/btvirt.h"
#include "lib/simctl.h"
#include "lib/testlib.h"
#include "otad/bt.h"
#include "otad/smp-client.h"
#include "otad/smp.h"
#include "otad/transport.h"
#include "util/macro.h"

#define ROUNDS 12 /* echo + image state requests per link, all sent before any answer */

struct link {
	const char *name;
	struct tl_sim sim;
	bool sim_running;
	struct tr *t;
	struct smp_client *c;
	unsigned up, down;
	int down_err;
	bool closed;
	int close_err;
	unsigned echoes, states, failures;
};

struct fx {
	sd_event *e;
	struct btvirt bv;
	struct hci_dev *hci;
	bool ready;
	int ready_err;
	struct link l[2];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define WAIT_FOR(f, cond, ms)                                                                      \
	do {                                                                                       \
		uint64_t _end = now_ms() + (uint64_t)tl_timeout(ms);                               \
		while (!(cond)) {                                                                  \
			if (now_ms() > _end)                                                       \
				fail_msg("timed out waiting for: %s", #cond);                      \
			sd_event_run((f)->e, 20 * 1000);                                           \
		}                                                                                  \
	} while (0)

static void on_ready(struct hci_dev *hci, int err, uint8_t status, void *user_data)
{
	struct fx *f = user_data;

	f->ready = true;
	f->ready_err = err;
}

static void on_debug(const char *line, void *user_data)
{
	if (getenv("OTAD_BT_DEBUG"))
		fprintf(stderr, "%s\n", line);
}

static int setup(void **state)
{
	static const struct hci_dev_callbacks cb = {.ready = on_ready};
	const char *extra[] = {"--speed", "20", NULL};
	struct fx *f;
	int r;

	if (!btvirt_available())
		skip();
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	*state = f;
	r = btvirt_start(&f->bv);
	if (r < 0)
		fail_msg("btvirt: %s (log %s)", strerror(-r), f->bv.log);
	f->l[0].name = "shared-a";
	f->l[1].name = "shared-b";
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tl_sim_start_ble(&f->l[i].sim, f->l[i].name, f->bv.spec, extra),
				 0);
		f->l[i].sim_running = true;
	}
	assert_int_equal(sd_event_new(&f->e), 0);
	assert_int_equal(hci_dev_new(f->e, f->bv.spec, &cb, f, NULL, &f->hci), 0);
	hci_dev_set_debug(f->hci, on_debug, NULL, NULL);
	WAIT_FOR(f, f->ready, 5000);
	assert_int_equal(f->ready_err, 0);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	for (int i = 0; i < 2 && getenv("OTAD_BT_DEBUG"); i++) {
		char *log = tl_proc_stderr(&f->l[i].sim.proc);

		fprintf(stderr, "--- %s (up %u down %u err %d):\n%s\n", f->l[i].name, f->l[i].up,
			f->l[i].down, f->l[i].down_err, log ? log : "");
		free(log);
	}
	for (int i = 0; i < 2; i++) {
		f->l[i].c = smp_client_free(f->l[i].c);
		f->l[i].t = tr_free(f->l[i].t);
	}
	hci_dev_free(f->hci);
	sd_event_unref(f->e);
	for (int i = 0; i < 2; i++)
		if (f->l[i].sim_running)
			tl_sim_stop(&f->l[i].sim);
	btvirt_stop(&f->bv);
	free(f);
	return tl_reap_tracked(state);
}

static void on_event(enum tr_event ev, int err, void *user_data)
{
	struct link *l = user_data;

	if (ev == TR_EVENT_UP) {
		l->up++;
	} else {
		l->down++;
		l->down_err = err;
	}
}

static void open_link(struct fx *f, struct link *l)
{
	static const struct smp_client_ops ops = {.event = on_event};
	struct tr_options o = {.hci_dev = f->hci};
	char spec[64];

	snprintf(spec, sizeof(spec), "ble:name=%s", l->name);
	assert_int_equal(tr_open(f->e, spec, &o, &l->t), 0);
	assert_int_equal(smp_client_new(f->e, l->t, &ops, l, &l->c), 0);
}

/* One answer: what it carried. */
struct call {
	struct fx *f;
	struct link *l;
	bool echo;
	char text[32];
};

static void on_answer(int err, const struct smp_rsp *rsp, void *user_data)
{
	struct call *k = user_data;
	struct link *l = k->l;
	const char *why = NULL;

	if (err) {
		l->failures++;
		return;
	}
	if (k->echo) {
		struct smp_echo_rsp e;

		if (smp_echo_rsp_decode(rsp->body, rsp->body_len, &e, &why) == 0 &&
		    smp_err_ok(&e.err) && !strcmp(e.text, k->text))
			l->echoes++;
		else
			l->failures++;
	} else {
		struct smp_image_state s;

		if (smp_image_state_decode(rsp->body, rsp->body_len, &s, &why) == 0 &&
		    smp_err_ok(&s.err) && smp_image_state_find(&s, 0, 0))
			l->states++;
		else
			l->failures++;
	}
}

/* Sends n echo and n image state requests on l without waiting for any answer. */
static void send_requests(struct fx *f, struct link *l, struct call *calls, unsigned n)
{
	for (unsigned i = 0; i < 2 * n; i++) {
		struct call *k = &calls[i];
		uint8_t body[64];
		int e = 0, len = 0;

		*k = (struct call){.f = f, .l = l, .echo = i % 2 == 0};
		snprintf(k->text, sizeof(k->text), "%s-%u", l->name, i);
		if (k->echo)
			len = smp_echo_req_encode(body, sizeof(body), k->text);
		assert_true(len >= 0);
		assert_true(smp_client_request(l->c, k->echo ? SMP_OP_WRITE : SMP_OP_READ,
					       k->echo ? SMP_GROUP_OS : SMP_GROUP_IMAGE,
					       k->echo ? SMP_OS_ECHO : SMP_IMG_STATE, body,
					       (size_t)len, 10 * USEC_PER_SEC, on_answer, k, NULL,
					       &e) > 0);
	}
}

static void on_closed(struct tr *t, int err, void *user_data)
{
	struct link *l = user_data;

	l->closed = true;
	l->close_err = err;
}

/* otasim logged its n-th link end. */
static unsigned disconnects_logged(struct tl_sim *s)
{
	char *log = tl_proc_stderr(&s->proc);
	unsigned n = 0;

	for (const char *p = log; p && (p = strstr(p, "ble: disconnected: ")); p++)
		n++;
	free(log);
	return n;
}

static void wait_disconnects(struct link *l, unsigned n)
{
	for (int ms = 0; disconnects_logged(&l->sim) < n; ms += 10) {
		if (ms > tl_timeout(3000))
			fail_msg("%s never heard its link end", l->name);
		usleep(10000);
	}
}

static void test_two_devices_at_once_through_one_controller(void **state)
{
	struct fx *f = *state;
	struct link *a = &f->l[0], *b = &f->l[1];
	struct call calls_a[2 * ROUNDS], calls_b[2 * ROUNDS], more[4];
	struct hci_dev_info info;

	/* BlueZ's emulator takes LE Create Connection while scanning (emulator/btdev.c) and says
	 * so in its LE Supported States: scanning goes on while a link is being made */
	hci_dev_get_info(f->hci, &info);
	assert_true(info.scan_while_connecting);
	open_link(f, a);
	open_link(f, b);
	WAIT_FOR(f, a->up && b->up, 15000);
	assert_int_equal(a->down + b->down, 0);
	assert_true(hci_dev_is_ready(f->hci));

	/* both links busy at once */
	send_requests(f, a, calls_a, ROUNDS);
	send_requests(f, b, calls_b, ROUNDS);
	WAIT_FOR(f,
		 a->echoes + a->states + a->failures == 2 * ROUNDS &&
			 b->echoes + b->states + b->failures == 2 * ROUNDS,
		 20000);
	assert_int_equal(a->failures + b->failures, 0);
	assert_int_equal(a->echoes, ROUNDS);
	assert_int_equal(b->states, ROUNDS);
	/* Both links stayed up throughout. Whether their answers interleave depends on how the
	 * two simulators are scheduled (under valgrind one may well finish first): the overlap
	 * in time is the benchmark's to measure, not a test's to assert. */
	assert_int_equal(a->down + b->down, 0);

	/* a lets go of its own link: the device hears it end; b's link stays up */
	assert_int_equal(tr_close(a->t, 0, on_closed, a), 0);
	WAIT_FOR(f, a->closed, 5000);
	assert_int_equal(a->close_err, 0);
	wait_disconnects(a, 1);
	a->c = smp_client_free(a->c);
	a->t = tr_free(a->t);
	assert_true(hci_dev_is_ready(f->hci)); /* neither closed nor reset */
	send_requests(f, b, more, 2);
	WAIT_FOR(f, b->echoes + b->states + b->failures == 2 * ROUNDS + 4, 10000);
	assert_int_equal(b->failures, 0);
	assert_int_equal(b->down, 0);
	assert_int_equal(disconnects_logged(&b->sim), 0);

	/* and b lets go too, the controller still the owner's */
	assert_int_equal(tr_close(b->t, 0, on_closed, b), 0);
	WAIT_FOR(f, b->closed, 5000);
	assert_int_equal(b->close_err, 0);
	assert_true(hci_dev_is_ready(f->hci));
}

static void on_owner_closed(struct hci_dev *hci, int err, void *user_data)
{
	*(int *)user_data = err;
}

/* tr_free() without tr_close() drops the transport's own link (and tells the controller); the
 * owner closing the controller then ends every borrower's link. */
static void test_a_freed_transport_drops_its_link_only(void **state)
{
	struct fx *f = *state;
	struct link *a = &f->l[0], *b = &f->l[1];
	struct call calls[4];
	int closed = 1;

	open_link(f, a);
	open_link(f, b);
	WAIT_FOR(f, a->up && b->up, 15000);
	a->c = smp_client_free(a->c);
	a->t = tr_free(a->t);
	wait_disconnects(a, 1);
	send_requests(f, b, calls, 2);
	WAIT_FOR(f, b->echoes + b->states + b->failures == 4, 10000);
	assert_int_equal(b->failures, 0);
	assert_int_equal(disconnects_logged(&b->sim), 0);

	assert_int_equal(hci_dev_close(f->hci, 2 * USEC_PER_SEC, on_owner_closed, &closed, NULL),
			 0);
	WAIT_FOR(f, closed != 1 && b->down, 5000);
	assert_int_equal(closed, 0);
	assert_int_equal(b->down, 1);
	wait_disconnects(b, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_devices_at_once_through_one_controller,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_freed_transport_drops_its_link_only, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
