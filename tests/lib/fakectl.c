/* fakectl.c — the scripted controller of fakectl.h: a unix socket the host connects to, H4
 * packets read and written by the test. */
#include "lib/fakectl.h"

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

#include "bt/hci-pkt.h"
#include "lib/testlib.h"
#include "util/bytes.h"
#include "util/macro.h"

uint64_t fake_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_pkt(uint8_t type, const uint8_t *pkt, size_t len, void *user_data)
{
	struct fake *f = user_data;

	assert_true(f->qn < ARRAY_SIZE(f->q));
	assert_true(len <= sizeof(f->q[0].data));
	f->q[f->qn].type = type;
	memcpy(f->q[f->qn].data, pkt, len);
	f->q[f->qn].len = len;
	f->qn++;
}

/* Runs the loop and reads what the host wrote until a packet is there or ms passed. */
bool fake_pump(struct fake *f, unsigned ms)
{
	uint64_t end = fake_now_ms() + ms;

	do {
		struct pollfd p = {f->fd, POLLIN, 0};
		uint8_t buf[2048];

		sd_event_run(f->e, 5 * 1000);
		while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
			ssize_t n = read(f->fd, buf, sizeof(buf));

			if (n <= 0)
				break;
			h4_parser_feed(f->parser, buf, (size_t)n, on_pkt, NULL, f);
		}
		if (f->qn)
			return true;
	} while (fake_now_ms() < end);
	return false;
}

struct fake_pkt fake_next_pkt(struct fake *f)
{
	struct fake_pkt p;

	if (!f->qn && !fake_pump(f, 2000))
		fail_msg("the host sent nothing");
	p = f->q[0];
	memmove(f->q, f->q + 1, (f->qn - 1) * sizeof(f->q[0]));
	f->qn--;
	return p;
}

/* Expects a command with this opcode; returns its parameters in p (len = plen). */
struct fake_pkt fake_expect_cmd(struct fake *f, uint16_t opcode)
{
	struct fake_pkt p = fake_next_pkt(f);

	assert_int_equal(p.type, H4_CMD);
	if (get_le16(p.data) != opcode)
		fail_msg("expected command 0x%04x, got 0x%04x", opcode, get_le16(p.data));
	assert_int_equal(p.data[2], p.len - 3);
	memmove(p.data, p.data + 3, p.len - 3);
	p.len -= 3;
	return p;
}

void fake_send_raw(struct fake *f, const uint8_t *b, size_t len)
{
	assert_int_equal(write(f->fd, b, len), (ssize_t)len);
}

void fake_send_event(struct fake *f, uint8_t code, const uint8_t *params, uint8_t plen)
{
	uint8_t b[300] = {H4_EVT, code, plen};

	memcpy(b + 3, params, plen);
	fake_send_raw(f, b, 3u + plen);
}

void fake_send_acl(struct fake *f, uint16_t handle, const uint8_t *data, uint16_t len)
{
	uint8_t b[1 + 4 + 1024] = {H4_ACL};

	assert_true(len <= sizeof(b) - 5);
	put_le16(b + 1, (uint16_t)(handle | ACL_PB_START << 12));
	put_le16(b + 3, len);
	memcpy(b + 5, data, len);
	fake_send_raw(f, b, 5u + len);
}

void fake_cmd_complete(struct fake *f, uint16_t opcode, const uint8_t *ret, uint8_t len)
{
	uint8_t p[260] = {1};

	put_le16(p + 1, opcode);
	memcpy(p + 3, ret, len);
	fake_send_event(f, HCI_EV_CMD_COMPLETE, p, 3u + len);
}

void fake_cmd_status(struct fake *f, uint16_t opcode, uint8_t status)
{
	uint8_t p[4] = {status, 1};

	put_le16(p + 2, opcode);
	fake_send_event(f, HCI_EV_CMD_STATUS, p, 4);
}

void fake_ok(struct fake *f, uint16_t opcode)
{
	uint8_t z = 0;

	fake_cmd_complete(f, opcode, &z, 1);
}

void fake_on_ready(struct hci_dev *hci, int err, uint8_t status, void *user_data)
{
	struct fake *f = user_data;

	f->ready = true;
	f->ready_err = err;
	f->ready_status = status;
}

static void on_fatal(struct hci_dev *hci, int err, void *user_data)
{
	struct fake *f = user_data;

	f->fatal = true;
	f->fatal_err = err;
}

static void on_debug(const char *line, void *user_data)
{
	struct fake *f = user_data;

	f->debug_lines++;
	snprintf(f->last_debug, sizeof(f->last_debug), "%s", line);
	if (getenv("OTAD_BT_DEBUG"))
		fprintf(stderr, "%s\n", line);
}

int fake_setup(void **state)
{
	static const struct hci_dev_callbacks cb = {.ready = fake_on_ready, .fatal = on_fatal};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char spec[300];
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->parser = calloc(1, sizeof(*f->parser));
	assert_non_null(f->parser);
	assert_int_equal(sd_event_new(&f->e), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", tl_path("ctrl.sock"));
	unlink(sa.sun_path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 1), 0);
	snprintf(spec, sizeof(spec), "unix:%s", sa.sun_path);
	assert_int_equal(hci_dev_new(f->e, spec, &cb, f, NULL, &f->hci), 0);
	hci_dev_set_debug(f->hci, on_debug, f, NULL);
	f->fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(f->fd >= 0);
	*state = f;
	return 0;
}

int fake_teardown(void **state)
{
	struct fake *f = *state;

	if (!f)
		return 0; /* a test tore down itself */
	hci_dev_free(f->hci);
	close(f->fd);
	close(f->lfd);
	sd_event_unref(f->e);
	free(f->parser);
	free(f);
	return 0;
}

/* Answers the init sequence; checks the exact commands and masks. */
void fake_answer_init(struct fake *f, const struct fake_ctrl *c)
{
	uint8_t ret[80] = {0};
	struct fake_pkt p;

	p = fake_expect_cmd(f, HCI_OP_RESET); /* Core 5.4 Vol 4 Part E 7.3.2: 03 0c 00 */
	assert_int_equal(p.len, 0);
	fake_ok(f, HCI_OP_RESET);
	fake_expect_cmd(f, HCI_OP_READ_LOCAL_VERSION);
	memcpy(ret, (uint8_t[]){0, 0x0d, 0x34, 0x12, 0x0d, 0x59, 0x00, 0x01, 0x00}, 9);
	fake_cmd_complete(f, HCI_OP_READ_LOCAL_VERSION, ret, 9);
	fake_expect_cmd(f, HCI_OP_READ_LOCAL_COMMANDS);
	ret[0] = 0;
	memcpy(ret + 1, c->commands, 64);
	fake_cmd_complete(f, HCI_OP_READ_LOCAL_COMMANDS, ret, 65);
	fake_expect_cmd(f, HCI_OP_READ_LOCAL_FEATURES);
	memset(ret, 0, 9);
	ret[5] = 0x60; /* LE supported, BR/EDR not supported */
	fake_cmd_complete(f, HCI_OP_READ_LOCAL_FEATURES, ret, 9);
	fake_expect_cmd(f, HCI_OP_READ_BD_ADDR);
	memcpy(ret, (uint8_t[]){0, 0x66, 0x55, 0x44, 0x33, 0x22, 0xc1}, 7);
	fake_cmd_complete(f, HCI_OP_READ_BD_ADDR, ret, 7);
	p = fake_expect_cmd(f, HCI_OP_SET_EVENT_MASK);
	/* Disconnection Complete, Encryption Change, Read Remote Version, Hardware Error, Data
	 * Buffer Overflow, Encryption Key Refresh, LE Meta */
	assert_memory_equal(p.data, ((uint8_t[]){0x90, 0x88, 0x00, 0x02, 0x00, 0x80, 0x00, 0x20}),
			    8);
	fake_ok(f, HCI_OP_SET_EVENT_MASK);
	fake_expect_cmd(f, HCI_OP_LE_READ_LOCAL_FEATURES);
	ret[0] = 0;
	for (int i = 0; i < 8; i++)
		ret[1 + i] = (uint8_t)(c->le_features >> (8 * i));
	fake_cmd_complete(f, HCI_OP_LE_READ_LOCAL_FEATURES, ret, 9);
	p = fake_expect_cmd(f, HCI_OP_LE_SET_EVENT_MASK);
	assert_memory_equal(p.data, ((uint8_t[]){0x7f, 0x1a, 0, 0, 0, 0, 0, 0}), 8);
	fake_ok(f, HCI_OP_LE_SET_EVENT_MASK);
}

void fake_answer_le_buffers(struct fake *f, const struct fake_ctrl *c)
{
	uint8_t ret[4] = {0};

	fake_expect_cmd(f, HCI_OP_LE_READ_BUFFER_SIZE);
	put_le16(ret + 1, c->le_mtu);
	ret[3] = c->le_num;
	fake_cmd_complete(f, HCI_OP_LE_READ_BUFFER_SIZE, ret, 4);
}

void fake_wait_ready(struct fake *f)
{
	uint64_t end = fake_now_ms() + 2000;

	while (!f->ready && fake_now_ms() < end)
		sd_event_run(f->e, 10 * 1000);
	assert_true(f->ready);
}

void fake_bring_up(struct fake *f, const struct fake_ctrl *c)
{
	fake_answer_init(f, c);
	fake_answer_le_buffers(f, c);
	fake_wait_ready(f);
	assert_int_equal(f->ready_err, 0);
}

void fake_on_scan(struct hci_dev *hci, int err, const struct hci_adv_report *r, void *ud)
{
	struct fake *f = ud;

	assert_int_equal(err, 0);
	f->reports++;
	f->last_report = *r;
}

void fake_on_connect(struct hci_dev *hci, int err, uint8_t status, struct hci_conn *conn, void *ud)
{
	struct fake *f = ud;

	f->connect_done = true;
	f->connect_err = err;
	f->connect_status = status;
	f->conn = conn;
}

void fake_wait_connect(struct fake *f)
{
	for (uint64_t end = fake_now_ms() + 2000; !f->connect_done && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
	assert_true(f->connect_done);
}

void fake_conn_complete(struct fake *f, uint8_t status, uint16_t handle)
{
	/* 7.7.65.1: status, handle, role central, public peer, interval 40, latency 0,
	 * timeout 400, clock accuracy */
	uint8_t ev[19] = {HCI_LE_CONN_COMPLETE,
			  status,
			  0,
			  0,
			  f->peripheral ? 0x01 : 0x00,
			  0x00,
			  1,
			  2,
			  3,
			  4,
			  5,
			  6,
			  40,
			  0,
			  0,
			  0,
			  0x90,
			  0x01,
			  0};

	put_le16(ev + 2, handle);
	fake_send_event(f, HCI_EV_LE_META, ev, 19);
}

static void on_updated(struct hci_conn *c, void *ud)
{
	struct fake *f = ud;

	f->updates++;
}

static void on_disconnected(struct hci_conn *c, uint8_t reason, void *ud)
{
	struct fake *f = ud;

	f->disconnects++;
	f->reason = reason;
}

static const struct hci_conn_callbacks conn_cb = {.disconnected = on_disconnected,
						  .updated = on_updated};

void fake_connect_as_central(struct fake *f, uint16_t handle)
{
	struct bt_addr peer = {0, {1, 2, 3, 4, 5, 6}};

	assert_int_equal(hci_connect(f->hci, &peer, NULL, fake_on_connect, f, NULL), 0);
	fake_expect_cmd(f, HCI_OP_LE_CREATE_CONN);
	fake_cmd_status(f, HCI_OP_LE_CREATE_CONN, 0);
	fake_conn_complete(f, 0, handle);
	fake_wait_connect(f);
	assert_int_equal(f->connect_err, 0);
	hci_conn_set_callbacks(f->conn, &conn_cb, f, NULL);
}

static void on_accept(struct hci_dev *hci, int err, struct hci_conn *conn, void *ud)
{
	struct fake *f = ud;

	f->connect_done = true;
	f->connect_err = err;
	f->conn = conn;
}

void fake_connect_as_peripheral(struct fake *f, uint16_t handle)
{
	const struct hci_adv_params ap = {.name = "fake"};
	struct fake_pkt p;

	assert_int_equal(hci_adv_start(f->hci, &ap, on_accept, f, NULL), 0);
	do { /* parameters, data, scan response, enable */
		p = fake_next_pkt(f);
		assert_int_equal(p.type, H4_CMD);
		fake_ok(f, get_le16(p.data));
	} while (get_le16(p.data) != HCI_OP_LE_SET_ADV_ENABLE);
	f->connect_done = false;
	f->peripheral = true;
	fake_conn_complete(f, 0, handle);
	f->peripheral = false;
	fake_wait_connect(f);
	assert_int_equal(f->connect_err, 0);
	hci_conn_set_callbacks(f->conn, &conn_cb, f, NULL);
}
