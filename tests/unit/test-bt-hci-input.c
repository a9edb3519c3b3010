/* test-bt-hci-input.c — the HCI core against a controller that answers badly: the inputs
 * fuzz/fuzz-bt-host found mishandled, each replayed as exact bytes through a scripted controller
 * on a unix socket (as test-bt-hci.c drives it), with the behaviour the host must show. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bt/h4.h"
#include "bt/hci-pkt.h"
#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"
#include "lib/testlib.h"

struct ctl {
	sd_event *e;
	int lfd, fd;
	struct hci_dev *hci;
	struct h4_parser *parser;
	uint16_t ops[32]; /* opcodes of the commands the host sent, not yet taken */
	unsigned n_ops;
	bool ready;
	int ready_err;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_pkt(uint8_t type, const uint8_t *pkt, size_t len, void *user_data)
{
	struct ctl *c = user_data;

	if (type != H4_CMD)
		return;
	assert_true(len >= 3 && c->n_ops < ARRAY_SIZE(c->ops));
	c->ops[c->n_ops++] = get_le16(pkt);
}

/* The next command the host sends; fails the test after 2 s of silence. */
static uint16_t next_cmd(struct ctl *c)
{
	uint64_t end = now_ms() + 2000;
	uint16_t op;

	while (!c->n_ops && now_ms() < end) {
		struct pollfd p = {c->fd, POLLIN, 0};
		uint8_t buf[1024];
		ssize_t n;

		sd_event_run(c->e, 5 * 1000);
		if (poll(&p, 1, 0) == 1 && (n = read(c->fd, buf, sizeof(buf))) > 0)
			h4_parser_feed(c->parser, buf, (size_t)n, on_pkt, NULL, c);
	}
	if (!c->n_ops)
		fail_msg("the host sent nothing");
	op = c->ops[0];
	memmove(c->ops, c->ops + 1, --c->n_ops * sizeof(c->ops[0]));
	return op;
}

static void send_raw(struct ctl *c, const uint8_t *b, size_t len)
{
	assert_int_equal(write(c->fd, b, len), (ssize_t)len);
}

/* Command Complete with ncmd 1 and the return parameters given (none: len 0). */
static void complete(struct ctl *c, uint16_t op, const uint8_t *ret, uint8_t len)
{
	uint8_t b[300] = {H4_EVT, HCI_EV_CMD_COMPLETE, (uint8_t)(3 + len), 1, (uint8_t)op,
			  (uint8_t)(op >> 8)};

	if (len)
		memcpy(b + 6, ret, len);
	send_raw(c, b, 6u + len);
}

static void expect_and_complete(struct ctl *c, uint16_t op, const uint8_t *ret, uint8_t len)
{
	uint16_t got = next_cmd(c);

	if (got != op)
		fail_msg("expected command 0x%04x, got 0x%04x", op, got);
	complete(c, op, ret, len);
}

static void on_ready(struct hci_dev *hci, int err, uint8_t status, void *user_data)
{
	struct ctl *c = user_data;

	c->ready = true;
	c->ready_err = err;
}

static void wait_ready(struct ctl *c)
{
	uint64_t end = now_ms() + 2000;

	while (!c->ready && now_ms() < end)
		sd_event_run(c->e, 10 * 1000);
	assert_true(c->ready);
}

static int setup(void **state)
{
	static const struct hci_dev_callbacks cb = {.ready = on_ready};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ctl *c = calloc(1, sizeof(*c));
	char spec[300];

	assert_non_null(c);
	c->parser = calloc(1, sizeof(*c->parser));
	assert_non_null(c->parser);
	assert_int_equal(sd_event_new(&c->e), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", tl_path("ctrl-input.sock"));
	unlink(sa.sun_path);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->lfd >= 0);
	assert_int_equal(bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(c->lfd, 1), 0);
	snprintf(spec, sizeof(spec), "unix:%s", sa.sun_path);
	assert_int_equal(hci_dev_new(c->e, spec, &cb, c, NULL, &c->hci), 0);
	c->fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c->fd >= 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctl *c = *state;

	hci_dev_free(c->hci);
	close(c->fd);
	close(c->lfd);
	sd_event_unref(c->e);
	free(c->parser);
	free(c);
	return 0;
}

/* Command Complete for Read Local Supported Commands and Read Local Supported Features without
 * any return parameter (not even the status): the host must not read the bitmaps from the bytes
 * after the event (they held an earlier packet's 0xff filler, which announced every command:
 * LE Read Buffer Size v2 would follow). It goes on knowing no command and no feature.
 * fuzz-regressions/bt-host/init-command-complete-without-return-parameters. */
static void test_init_survives_command_complete_without_return_parameters(void **state)
{
	struct ctl *c = *state;
	uint8_t filler[2 + 255], ret[9] = {0}, buf[4] = {0, 251, 0, 4};
	struct hci_dev_info info;

	expect_and_complete(c, HCI_OP_RESET, ret, 1);
	expect_and_complete(c, HCI_OP_READ_LOCAL_VERSION, ret, 9);
	filler[0] = H4_EVT;
	filler[1] = 0xff; /* vendor event: dropped, but it was in the buffer */
	memset(filler + 2, 0xff, sizeof(filler) - 2);
	filler[2] = 0xfe;
	send_raw(c, filler, 3 + 0xfe);
	expect_and_complete(c, HCI_OP_READ_LOCAL_COMMANDS, NULL, 0);
	send_raw(c, filler, 3 + 0xfe);
	expect_and_complete(c, HCI_OP_READ_LOCAL_FEATURES, NULL, 0);
	expect_and_complete(c, HCI_OP_READ_BD_ADDR, ret, 7);
	expect_and_complete(c, HCI_OP_SET_EVENT_MASK, ret, 1);
	expect_and_complete(c, HCI_OP_LE_READ_LOCAL_FEATURES, ret, 9);
	expect_and_complete(c, HCI_OP_LE_SET_EVENT_MASK, ret, 1);
	expect_and_complete(c, HCI_OP_LE_READ_BUFFER_SIZE, buf, 4);
	wait_ready(c);
	assert_int_equal(c->ready_err, 0);
	hci_dev_get_info(c->hci, &info);
	assert_false(info.ext_scan || info.data_len_ext || info.le_2m_phy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_init_survives_command_complete_without_return_parameters, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
