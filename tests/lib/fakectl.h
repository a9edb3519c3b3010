/* fakectl.h — a scripted controller for the LE host's unit tests: the host (a real hci_dev)
 * talks H4 over a unix socket to the test, which reads each command and packet the host wrote
 * and answers with exact bytes (events, ACL data). Also records what the host reported: init,
 * fatal errors, debug lines, a connection attempt's end, scan reports, disconnects, updates.
 * cmocka assertions inside: use from cmocka tests only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "bt/h4.h"
#include "otad/bt.h"

struct fake_pkt {
	uint8_t type;
	uint8_t data[1100];
	size_t len;
};

struct fake {
	sd_event *e;
	int lfd, fd;
	struct hci_dev *hci;
	struct h4_parser *parser;
	struct fake_pkt q[64];
	unsigned qn;
	bool ready;
	int ready_err;
	uint8_t ready_status;
	bool fatal;
	int fatal_err;
	unsigned debug_lines;
	char last_debug[256];
	/* connect */
	bool connect_done;
	bool peripheral; /* fake_conn_complete() reports role peripheral */
	int connect_err;
	uint8_t connect_status;
	struct hci_conn *conn;
	unsigned updates;
	uint8_t reason;
	unsigned disconnects;
	/* gatt */
	int gatt_err;
	bool gatt_done;
	/* scan */
	unsigned reports;
	struct hci_adv_report last_report;
};

/* What the controller reports during init. */
struct fake_ctrl {
	uint8_t commands[64];
	uint64_t le_features;
	uint16_t le_mtu;
	uint8_t le_num;
};

uint64_t fake_now_ms(void);
/* cmocka setup/teardown: a controller socket and an hci_dev on it (init not answered yet).
 * A test that tears down itself sets *state to NULL. */
int fake_setup(void **state);
int fake_teardown(void **state);
/* Runs the loop and reads what the host wrote until a packet is there or ms passed. */
bool fake_pump(struct fake *f, unsigned ms);
/* The next packet the host wrote (fails the test after 2 s without one). */
struct fake_pkt fake_next_pkt(struct fake *f);
/* Expects a command with this opcode; returns its parameters in data (len = plen). */
struct fake_pkt fake_expect_cmd(struct fake *f, uint16_t opcode);
void fake_send_raw(struct fake *f, const uint8_t *b, size_t len);
void fake_send_event(struct fake *f, uint8_t code, const uint8_t *params, uint8_t plen);
/* ACL data from the peer on handle, one packet with PB "start" (the L2CAP frame as given). */
void fake_send_acl(struct fake *f, uint16_t handle, const uint8_t *data, uint16_t len);
void fake_cmd_complete(struct fake *f, uint16_t opcode, const uint8_t *ret, uint8_t len);
void fake_cmd_status(struct fake *f, uint16_t opcode, uint8_t status);
/* Command Complete with status 0 and nothing else. */
void fake_ok(struct fake *f, uint16_t opcode);
/* Answers the init sequence up to LE Set Event Mask; checks the exact commands and masks. */
void fake_answer_init(struct fake *f, const struct fake_ctrl *c);
void fake_answer_le_buffers(struct fake *f, const struct fake_ctrl *c);
void fake_wait_ready(struct fake *f);
/* The whole init, answered; ready with err 0. */
void fake_bring_up(struct fake *f, const struct fake_ctrl *c);
/* LE Connection Complete (central, peer 06:05:04:03:02:01, interval 40, timeout 400). */
void fake_conn_complete(struct fake *f, uint8_t status, uint16_t handle);
void fake_wait_connect(struct fake *f);
/* hci_connect() answered with a connection on handle; f->conn holds it, with callbacks that
 * count disconnects and updates. */
void fake_connect_as_central(struct fake *f, uint16_t handle);
/* Advertising started and a central connected on handle: f->conn is that link (we are
 * peripheral), with the same callbacks. */
void fake_connect_as_peripheral(struct fake *f, uint16_t handle);

/* Callbacks that record into the struct fake given as user data. */
void fake_on_scan(struct hci_dev *hci, int err, const struct hci_adv_report *r, void *ud);
void fake_on_connect(struct hci_dev *hci, int err, uint8_t status, struct hci_conn *conn, void *ud);
void fake_on_ready(struct hci_dev *hci, int err, uint8_t status, void *user_data);
