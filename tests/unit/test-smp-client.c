/* test-smp-client.c — request/response matching over a real UDP link: sequence numbers,
 * timeouts and late answers, mismatched answers, cancellation, destroy-once. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "otad/smp-client.h"
#include "util/macro.h"

struct fixture {
	sd_event *e;
	int dev; /* the "device" side socket */
	struct tr *tr;
	struct smp_client *c;
	struct sockaddr_in peer;
	unsigned strays, destroyed;
	int last_err;
	unsigned answers;
	struct smp_hdr last_hdr;
};

static void on_stray(const char *why, void *ud)
{
	struct fixture *f = ud;

	f->strays++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct smp_client_ops ops = { .stray = on_stray };
	char spec[64];

	assert_int_equal(sd_event_new(&f->e), 0);
	f->dev = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(f->dev, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(f->dev, (struct sockaddr *)&a, &alen), 0);
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", ntohs(a.sin_port));
	assert_int_equal(tr_open(f->e, spec, NULL, &f->tr), 0);
	assert_int_equal(smp_client_new(f->e, f->tr, &ops, f, &f->c), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	smp_client_free(f->c);
	tr_free(f->tr);
	close(f->dev);
	sd_event_unref(f->e);
	free(f);
	return 0;
}

static void run_for(struct fixture *f, uint64_t usec)
{
	uint64_t start, now;

	sd_event_now(f->e, CLOCK_MONOTONIC, &start);
	do {
		sd_event_run(f->e, 10000);
		sd_event_now(f->e, CLOCK_MONOTONIC, &now);
	} while (now - start < usec);
}

/* Reads one request at the device; returns its header. */
static struct smp_hdr device_recv(struct fixture *f)
{
	uint8_t buf[512];
	socklen_t len = sizeof(f->peer);
	struct smp_hdr h;
	ssize_t n = -1;

	for (int i = 0; i < 200 && n < 0; i++) {
		n = recvfrom(f->dev, buf, sizeof(buf), 0, (struct sockaddr *)&f->peer, &len);
		if (n < 0)
			run_for(f, 5000);
	}
	assert_true(n >= SMP_HDR_SIZE);
	assert_int_equal(smp_hdr_decode(buf, (size_t)n, &h), 0);
	return h;
}

static void device_answer(struct fixture *f, struct smp_hdr h, uint8_t op, uint8_t id)
{
	uint8_t buf[16] = { 0 };

	h.op = op;
	h.id = id;
	h.len = 1;
	smp_hdr_encode(&h, buf);
	buf[SMP_HDR_SIZE] = 0xa0; /* {} */
	sendto(f->dev, buf, SMP_HDR_SIZE + 1, 0, (struct sockaddr *)&f->peer, sizeof(f->peer));
}

static void on_rsp(int err, const struct smp_rsp *rsp, void *ud)
{
	struct fixture *f = ud;

	f->last_err = err;
	f->answers++;
	if (rsp)
		f->last_hdr = rsp->hdr;
}

static void on_destroy(void *ud)
{
	struct fixture *f = ud;

	f->destroyed++;
}

static unsigned send_params(struct fixture *f, uint64_t timeout)
{
	static const uint8_t body[] = { 0xa0 };
	int err = 0;
	unsigned id = smp_client_request(f->c, SMP_OP_READ, SMP_GROUP_OS, SMP_OS_PARAMS, body, 1,
					 timeout, on_rsp, f, on_destroy, &err);

	assert_int_equal(err, 0);
	assert_true(id > 0);
	return id;
}

static void test_answer_is_matched_by_sequence_number(void **state)
{
	struct fixture *f = *state;
	struct smp_hdr h;

	send_params(f, USEC_PER_SEC);
	h = device_recv(f);
	assert_int_equal(h.op, SMP_OP_READ);
	assert_int_equal(h.ver, SMP_VER_2);
	device_answer(f, h, SMP_OP_READ_RSP, SMP_OS_PARAMS);
	run_for(f, 50000);
	assert_int_equal(f->answers, 1);
	assert_int_equal(f->last_err, 0);
	assert_int_equal(f->last_hdr.seq, h.seq);
	assert_int_equal(f->destroyed, 1);
	assert_int_equal(smp_client_pending(f->c), 0);
}

static void test_late_answer_after_timeout_never_matches_a_newer_request(void **state)
{
	struct fixture *f = *state;
	struct smp_hdr first, second;

	send_params(f, 50000);
	first = device_recv(f);
	run_for(f, 120000);
	assert_int_equal(f->answers, 1);
	assert_int_equal(f->last_err, -ETIMEDOUT);
	send_params(f, USEC_PER_SEC);
	second = device_recv(f);
	assert_int_not_equal(first.seq, second.seq);
	device_answer(f, first, SMP_OP_READ_RSP, SMP_OS_PARAMS); /* late */
	run_for(f, 50000);
	assert_int_equal(f->strays, 1);
	assert_int_equal(f->answers, 1);
	device_answer(f, second, SMP_OP_READ_RSP, SMP_OS_PARAMS);
	run_for(f, 50000);
	assert_int_equal(f->answers, 2);
	assert_int_equal(f->last_err, 0);
	assert_int_equal(f->destroyed, 2);
}

static void test_answer_for_another_command_is_bad_message(void **state)
{
	struct fixture *f = *state;
	struct smp_hdr h;

	send_params(f, USEC_PER_SEC);
	h = device_recv(f);
	device_answer(f, h, SMP_OP_READ_RSP, SMP_OS_ECHO);
	run_for(f, 50000);
	assert_int_equal(f->answers, 1);
	assert_int_equal(f->last_err, -EBADMSG);
}

static void test_cancel_and_free_run_callbacks_and_destroy_once(void **state)
{
	struct fixture *f = *state;
	unsigned id = send_params(f, USEC_PER_SEC);

	send_params(f, USEC_PER_SEC);
	assert_int_equal(smp_client_pending(f->c), 2);
	assert_true(smp_client_cancel(f->c, id));
	assert_false(smp_client_cancel(f->c, id));
	assert_int_equal(f->last_err, -ECANCELED);
	assert_int_equal(f->destroyed, 1);
	f->c = smp_client_free(f->c);
	assert_int_equal(f->answers, 2);
	assert_int_equal(f->destroyed, 2);
}

static void test_sequence_numbers_wrap_without_reusing_pending_ones(void **state)
{
	struct fixture *f = *state;
	uint8_t seen[256] = { 0 };

	/* 300 requests, each answered in turn: numbers wrap around 255. */
	for (int i = 0; i < 300; i++) {
		struct smp_hdr h;

		send_params(f, USEC_PER_SEC);
		h = device_recv(f);
		seen[h.seq]++;
		device_answer(f, h, SMP_OP_READ_RSP, SMP_OS_PARAMS);
		run_for(f, 2000);
	}
	assert_int_equal(f->answers, 300);
	for (int s = 0; s < 256; s++)
		assert_true(seen[s] >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answer_is_matched_by_sequence_number, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_late_answer_after_timeout_never_matches_a_newer_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_for_another_command_is_bad_message, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_free_run_callbacks_and_destroy_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence_numbers_wrap_without_reusing_pending_ones,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
