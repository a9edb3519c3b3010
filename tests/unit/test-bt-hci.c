/* test-bt-hci.c — the HCI core against a scripted controller on a unix socket: exact command
 * bytes of the init sequence and its fallbacks, command and ACL flow control, connection
 * timeout and cancel, data length / PHY upgrade, ATT timeout, and garbage that must be
 * dropped without harm. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "bt/att.h"
#include "bt/h4.h"
#include "bt/hci-pkt.h"
#include "bt/l2cap.h"
#include "lib/fakectl.h"
#include "otad/bt.h"
#include "util/bytes.h"

static void test_init_falls_back_from_v2_and_to_shared_buffers(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 0, .le_num = 0};
	uint8_t ret[8] = {0};
	struct hci_flow fl;
	struct hci_dev_info info;
	char a[BT_ADDR_STRLEN];

	c.commands[41] = 0x20; /* LE Read Buffer Size v2 */
	fake_answer_init(f, &c);
	fake_expect_cmd(f, HCI_OP_LE_READ_BUFFER_SIZE_V2);
	fake_cmd_status(f, HCI_OP_LE_READ_BUFFER_SIZE_V2, HCI_ERR_UNKNOWN_COMMAND);
	fake_answer_le_buffers(f, &c); /* 0 x 0: shares the BR/EDR buffers */
	fake_expect_cmd(f, HCI_OP_READ_BUFFER_SIZE);
	put_le16(ret + 1, 251); /* 7.4.5: ACL length, SCO length, ACL count, SCO count */
	ret[3] = 0;
	put_le16(ret + 4, 4);
	fake_cmd_complete(f, HCI_OP_READ_BUFFER_SIZE, ret, 8);
	fake_wait_ready(f);
	assert_int_equal(f->ready_err, 0);
	hci_dev_get_flow(f->hci, &fl);
	assert_int_equal(fl.acl_mtu, 251);
	assert_int_equal(fl.acl_total, 4);
	assert_int_equal(fl.acl_free, 4);
	hci_dev_get_info(f->hci, &info);
	assert_string_equal(bt_addr_to_str(&info.addr, a), "C1:22:33:44:55:66");
	assert_int_equal(info.hci_version, 13);
	assert_int_equal(info.manufacturer, 0x0059);
	assert_false(info.ext_scan);
}

static void test_init_failure_is_named(void **state)
{
	struct fake *f = *state;
	uint8_t st = HCI_ERR_COMMAND_DISALLOWED;

	fake_expect_cmd(f, HCI_OP_RESET);
	fake_cmd_complete(f, HCI_OP_RESET, &st, 1);
	fake_wait_ready(f);
	assert_int_equal(f->ready_err, -EIO);
	assert_int_equal(f->ready_status, HCI_ERR_COMMAND_DISALLOWED);
	assert_string_equal(hci_dev_last_error(f->hci), "Reset failed: 0x0c Command Disallowed");
}

static void test_command_timeout_is_fatal(void **state)
{
	struct fake *f = *state;
	uint64_t end = fake_now_ms() + 8000;

	fake_expect_cmd(f, HCI_OP_RESET); /* and never answer */
	while (!f->ready && fake_now_ms() < end)
		sd_event_run(f->e, 50 * 1000);
	assert_true(f->ready);
	assert_int_equal(f->ready_err, -ETIMEDOUT);
	assert_string_equal(hci_dev_last_error(f->hci), "Reset: no answer from the controller");
}

static void test_command_credits_are_honoured(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 27, .le_num = 2};
	uint8_t p[4] = {0x00 /* status */, 0x00 /* no credits */};
	uint8_t nop[3] = {1, 0, 0};
	struct fake_pkt k;

	fake_bring_up(f, &c);
	assert_int_equal(hci_scan_start(f->hci, NULL, fake_on_scan, f, NULL), 0);
	k = fake_expect_cmd(f, HCI_OP_LE_SET_SCAN_PARAMS);
	/* 7.8.10: active, interval 0x0060, window 0x0030, public, accept all */
	assert_memory_equal(k.data, ((uint8_t[]){1, 0x60, 0, 0x30, 0, 0, 0}), 7);
	p[2] = 0x0b;
	p[3] = 0x20;
	put_le16(p + 1, HCI_OP_LE_SET_SCAN_PARAMS); /* Command Complete with 0 credits */
	{
		uint8_t cc[4] = {0, 0x0b, 0x20, 0};

		fake_send_event(f, HCI_EV_CMD_COMPLETE, cc, 4);
	}
	assert_false(fake_pump(f, 150)); /* Set Scan Enable must wait for a credit */
	fake_send_event(f, HCI_EV_CMD_COMPLETE, nop, 3); /* 7.7.14: opcode 0, one credit */
	k = fake_expect_cmd(f, HCI_OP_LE_SET_SCAN_ENABLE);
	assert_memory_equal(k.data, ((uint8_t[]){1, 0}), 2);
	fake_ok(f, HCI_OP_LE_SET_SCAN_ENABLE);
}

static void test_scan_reports_merge_adv_and_scan_response(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 27, .le_num = 2};
	char a[BT_ADDR_STRLEN];
	/* LE Advertising Report (7.7.65.2) with two reports: ADV_IND with flags and the SMP
	 * UUID, then its SCAN_RSP with the name, RSSI -60 and -61 */
	uint8_t ev[80] = {HCI_LE_ADV_REPORT, 2};
	size_t n = 2;

	fake_bring_up(f, &c);
	assert_int_equal(hci_scan_start(f->hci, NULL, fake_on_scan, f, NULL), 0);
	fake_expect_cmd(f, HCI_OP_LE_SET_SCAN_PARAMS);
	fake_ok(f, HCI_OP_LE_SET_SCAN_PARAMS);
	fake_expect_cmd(f, HCI_OP_LE_SET_SCAN_ENABLE);
	fake_ok(f, HCI_OP_LE_SET_SCAN_ENABLE);
	memcpy(ev + n, (uint8_t[]){0x00, 0x01, 1, 2, 3, 4, 5, 0xc6, 21, 2, 1, 6, 17, 7}, 14);
	n += 14;
	memcpy(ev + n, bt_uuid_smp_service.b, 16);
	n += 16;
	ev[n++] = (uint8_t)-60;
	memcpy(ev + n, (uint8_t[]){0x04, 0x01, 1, 2, 3, 4, 5, 0xc6, 5, 4, 9, 'd', 'e', 'v'}, 14);
	n += 14;
	ev[n++] = (uint8_t)-61;
	fake_send_event(f, HCI_EV_LE_META, ev, (uint8_t)n);
	for (uint64_t end = fake_now_ms() + 1000; f->reports < 2 && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
	assert_int_equal(f->reports, 2);
	assert_string_equal(bt_addr_to_str(&f->last_report.addr, a), "C6:05:04:03:02:01");
	assert_int_equal(f->last_report.addr.type, BT_ADDR_LE_RANDOM);
	assert_true(f->last_report.scan_rsp);
	assert_int_equal(f->last_report.rssi, -61);
	assert_string_equal(f->last_report.ad.name, "dev");
	assert_true(adv_data_has_uuid128(&f->last_report.ad, &bt_uuid_smp_service));
	assert_int_equal(f->last_report.ad.flags, 6);
}

static void test_connect_timeout_cancels_and_reports(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 27, .le_num = 2};
	const struct hci_conn_params cp = {.interval_min = 6,
					   .interval_max = 12,
					   .latency = 3,
					   .supervision_timeout = 100,
					   .timeout_usec = 200 * 1000};
	struct bt_addr peer;
	struct fake_pkt k;

	fake_bring_up(f, &c);
	assert_int_equal(bt_addr_from_str("06:05:04:03:02:01", BT_ADDR_LE_PUBLIC, &peer), 0);
	assert_int_equal(hci_connect(f->hci, &peer, &cp, fake_on_connect, f, NULL), 0);
	k = fake_expect_cmd(f, HCI_OP_LE_CREATE_CONN);
	/* 7.8.12: scan interval/window, filter 0, peer type+address, own type, interval
	 * 6..12, latency 3, supervision 100, CE 0..0 */
	assert_int_equal(k.len, 25);
	assert_memory_equal(k.data, ((uint8_t[]){0x60, 0, 0x60, 0, 0, 0, 1,   2, 3, 4, 5, 6, 0,
						 6,    0, 12,	0, 3, 0, 100, 0, 0, 0, 0, 0}),
			    25);
	fake_cmd_status(f, HCI_OP_LE_CREATE_CONN, 0);
	fake_expect_cmd(f, HCI_OP_LE_CREATE_CONN_CANCEL); /* after 200 ms */
	fake_ok(f, HCI_OP_LE_CREATE_CONN_CANCEL);
	fake_conn_complete(f, HCI_ERR_UNKNOWN_CONN_ID, 0); /* 7.8.13: how a cancel ends */
	fake_wait_connect(f);
	assert_int_equal(f->connect_err, -ETIMEDOUT);
	assert_int_equal(f->connect_status, HCI_ERR_UNKNOWN_CONN_ID);
	assert_null(f->conn);
}

static void test_acl_credits_per_connection_and_fragments(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 27, .le_num = 2};
	uint8_t sdu[100], ncp[5] = {1};
	struct fake_pkt k;
	struct hci_flow fl;

	fake_bring_up(f, &c);
	fake_connect_as_central(f, 0x0040);
	fake_expect_cmd(f, HCI_OP_LE_READ_REMOTE_FEATURES);
	for (size_t i = 0; i < sizeof(sdu); i++)
		sdu[i] = (uint8_t)i;
	/* 104 bytes with the L2CAP header: 27 + 27 + 27 + 23 */
	assert_int_equal(l2cap_send(f->conn, L2CAP_CID_ATT, sdu, sizeof(sdu)), 0);
	k = fake_next_pkt(f);
	assert_int_equal(k.type, H4_ACL);
	assert_memory_equal(k.data, ((uint8_t[]){0x40, 0x00, 27, 0, 100, 0, 4, 0, 0, 1, 2}), 11);
	k = fake_next_pkt(f);
	assert_memory_equal(k.data, ((uint8_t[]){0x40, 0x10, 27, 0, 23, 24}), 6);
	assert_false(fake_pump(f, 100)); /* two buffers, both used */
	hci_dev_get_flow(f->hci, &fl);
	assert_int_equal(fl.acl_free, 0);
	assert_int_equal(hci_conn_in_flight(f->conn), 2);
	assert_int_equal(hci_conn_queued_bytes(f->conn), 50);
	/* 7.7.19: one completed on 0x0040 */
	put_le16(ncp + 1, 0x0040);
	put_le16(ncp + 3, 1);
	fake_send_event(f, HCI_EV_NUM_COMP_PKTS, ncp, 5);
	k = fake_next_pkt(f);
	assert_memory_equal(k.data, ((uint8_t[]){0x40, 0x10, 27, 0, 50}), 5);
	assert_false(fake_pump(f, 100));
	/* credits for a handle we do not know are ignored, not added */
	put_le16(ncp + 1, 0x0041);
	put_le16(ncp + 3, 5);
	fake_send_event(f, HCI_EV_NUM_COMP_PKTS, ncp, 5);
	assert_false(fake_pump(f, 100));
	put_le16(ncp + 1, 0x0040);
	put_le16(ncp + 3, 2);
	fake_send_event(f, HCI_EV_NUM_COMP_PKTS, ncp, 5);
	k = fake_next_pkt(f);
	assert_memory_equal(k.data, ((uint8_t[]){0x40, 0x10, 23, 0, 77}), 5);
	assert_int_equal(hci_conn_queued_bytes(f->conn), 0);
	/* disconnection returns the packet still in the controller */
	fake_send_event(f, HCI_EV_DISCONN_COMPLETE, (uint8_t[]){0, 0x40, 0, 0x08}, 4);
	for (uint64_t end = fake_now_ms() + 1000; !f->disconnects && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
	assert_int_equal(f->reason, HCI_ERR_CONN_TIMEOUT);
	hci_dev_get_flow(f->hci, &fl);
	assert_int_equal(fl.acl_free, 2);
	assert_int_equal(fl.acl_peak, 2);
}

static void test_upgrades_data_length_and_phy_when_both_support(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 251, .le_num = 3};
	uint8_t ev[12] = {HCI_LE_REMOTE_FEATURES, 0, 0x41, 0x00, 0x21, 0x01};
	uint8_t dl[11] = {
		HCI_LE_DATA_LEN_CHANGE, 0x41, 0x00, 251, 0, 0x48, 0x08, 251, 0, 0x48, 0x08};
	struct fake_pkt k;
	struct hci_conn_info ci;

	c.commands[33] = 0x40; /* LE Set Data Length */
	c.commands[35] = 0x40; /* LE Set PHY */
	c.le_features = 1u << LE_FEAT_DATA_LEN_EXT | 1u << LE_FEAT_2M_PHY;
	fake_bring_up(f, &c);
	fake_connect_as_central(f, 0x0041);
	k = fake_expect_cmd(f, HCI_OP_LE_READ_REMOTE_FEATURES);
	assert_memory_equal(k.data, ((uint8_t[]){0x41, 0x00}), 2);
	fake_cmd_status(f, HCI_OP_LE_READ_REMOTE_FEATURES, 0);
	fake_send_event(f, HCI_EV_LE_META, ev, 12);	   /* remote: DLE (bit 5) and 2M (bit 8) */
	k = fake_expect_cmd(f, HCI_OP_LE_SET_DATA_LENGTH); /* 7.8.33: 251 octets, 2120 us */
	assert_memory_equal(k.data, ((uint8_t[]){0x41, 0x00, 251, 0x00, 0x48, 0x08}), 6);
	fake_ok(f, HCI_OP_LE_SET_DATA_LENGTH);
	k = fake_expect_cmd(f, HCI_OP_LE_SET_PHY); /* 7.8.49: prefer 2M both ways */
	assert_memory_equal(k.data, ((uint8_t[]){0x41, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00}), 7);
	fake_cmd_status(f, HCI_OP_LE_SET_PHY, 0);
	fake_send_event(f, HCI_EV_LE_META, dl, 11);
	fake_send_event(f, HCI_EV_LE_META, (uint8_t[]){HCI_LE_PHY_UPDATE, 0, 0x41, 0, 2, 2}, 6);
	for (uint64_t end = fake_now_ms() + 1000; f->updates < 2 && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
	hci_conn_get_info(f->conn, &ci);
	assert_int_equal(ci.tx_octets, 251);
	assert_int_equal(ci.tx_phy, 2);
	assert_int_equal(ci.rx_phy, 2);
}

static void test_invalid_remote_parameters_get_negative_reply(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 27, .le_num = 1};
	/* 7.7.65.6: interval 3200..6 (min > max) */
	uint8_t bad[11] = {HCI_LE_CONN_PARAM_REQ, 0x42, 0, 0x80, 0x0c, 6, 0, 0, 0, 200, 0};
	uint8_t good[11] = {HCI_LE_CONN_PARAM_REQ, 0x42, 0, 6, 0, 12, 0, 0, 0, 200, 0};
	struct fake_pkt k;

	fake_bring_up(f, &c);
	fake_connect_as_central(f, 0x0042);
	fake_expect_cmd(f, HCI_OP_LE_READ_REMOTE_FEATURES);
	fake_cmd_status(f, HCI_OP_LE_READ_REMOTE_FEATURES, 0);
	fake_send_event(f, HCI_EV_LE_META, bad, 11);
	k = fake_expect_cmd(f, HCI_OP_LE_CONN_PARAM_REQ_NEG_REPLY); /* 7.8.32 */
	assert_memory_equal(k.data, ((uint8_t[]){0x42, 0x00, 0x3b}), 3);
	fake_cmd_complete(f, HCI_OP_LE_CONN_PARAM_REQ_NEG_REPLY, (uint8_t[]){0, 0x42, 0}, 3);
	fake_send_event(f, HCI_EV_LE_META, good, 11);
	k = fake_expect_cmd(f, HCI_OP_LE_CONN_PARAM_REQ_REPLY); /* 7.8.31 */
	assert_memory_equal(k.data, ((uint8_t[]){0x42, 0, 6, 0, 12, 0, 0, 0, 200, 0, 0, 0, 0, 0}),
			    14);
}

static void on_gatt_ready(struct gatt_client *c, int err, uint8_t ecode, void *ud)
{
	struct fake *f = ud;

	f->gatt_done = true;
	f->gatt_err = err;
}

static void test_att_timeout_fails_discovery_and_disconnects(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 27, .le_num = 4};
	const struct gatt_client_params gp = {&bt_uuid_smp_service, &bt_uuid_smp_char, 0};
	const struct gatt_client_callbacks cb = {.ready = on_gatt_ready};
	struct gatt_client *gc;
	struct fake_pkt k;
	struct att *att;

	fake_bring_up(f, &c);
	fake_connect_as_central(f, 0x0043);
	fake_expect_cmd(f, HCI_OP_LE_READ_REMOTE_FEATURES);
	fake_cmd_status(f, HCI_OP_LE_READ_REMOTE_FEATURES, 0);
	assert_int_equal(att_attach(f->conn, &att), 0);
	att_set_timeout(att, 200 * 1000);
	assert_int_equal(gatt_client_new(f->conn, &gp, &cb, f, NULL, &gc), 0);
	k = fake_next_pkt(f); /* Exchange MTU Request, 498 (3.4.2.1) */
	assert_memory_equal(k.data, ((uint8_t[]){0x43, 0x00, 7, 0, 3, 0, 4, 0, 0x02, 0xf2, 0x01}),
			    11);
	k = fake_expect_cmd(f, HCI_OP_DISCONNECT); /* no answer in time: the bearer is dead */
	assert_memory_equal(k.data, ((uint8_t[]){0x43, 0x00, 0x13}), 3);
	assert_true(f->gatt_done);
	assert_int_equal(f->gatt_err, -ETIMEDOUT);
	assert_int_equal(gatt_client_write(gc, (const uint8_t *)"x", 1), -ENOTCONN);
	gatt_client_free(gc);
}

static void test_garbage_unknown_and_truncated_input_is_dropped(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 27, .le_num = 2};
	unsigned before;
	struct fake_pkt k;

	fake_bring_up(f, &c);
	fake_connect_as_central(f, 0x0044);
	fake_expect_cmd(f, HCI_OP_LE_READ_REMOTE_FEATURES);
	before = f->debug_lines;
	fake_send_raw(f, (uint8_t[]){0xff, 0x00, 0x99}, 3);		      /* no H4 indicator */
	fake_send_event(f, 0xfe, (uint8_t[]){1, 2, 3}, 3);		      /* unknown event */
	fake_send_event(f, HCI_EV_CMD_COMPLETE, (uint8_t[]){1, 0x03}, 2);     /* truncated */
	fake_send_event(f, HCI_EV_NUM_COMP_PKTS, (uint8_t[]){3, 0x44, 0}, 3); /* short array */
	fake_send_event(f, HCI_EV_LE_META, (uint8_t[]){0x7f}, 1);	      /* unknown subevent */
	fake_send_event(f, HCI_EV_LE_META, (uint8_t[]){HCI_LE_CONN_COMPLETE, 0}, 2);
	fake_send_event(f, HCI_EV_LE_META, (uint8_t[]){HCI_LE_ADV_REPORT, 1, 0, 0}, 4);
	fake_send_event(f, HCI_EV_CMD_COMPLETE, (uint8_t[]){1, 0x34, 0x12, 0}, 4); /* not sent */
	fake_send_raw(f, (uint8_t[]){H4_ACL, 0x99, 0x20, 2, 0, 1, 2}, 7); /* unknown handle */
	fake_send_raw(f, (uint8_t[]){H4_ACL, 0x44, 0x10, 2, 0, 1, 2}, 7); /* continuation first */
	fake_send_raw(f, (uint8_t[]){H4_ACL, 0x44, 0x20, 2, 0, 1, 2}, 7); /* start < L2CAP hdr */
	fake_send_raw(f, (uint8_t[]){H4_ACL, 0x44, 0x20, 5, 0, 0, 0, 4, 0, 9}, 10); /* overlong */
	fake_send_raw(f, (uint8_t[]){H4_ACL, 0x44, 0x20, 5, 0, 1, 0, 0x40, 0, 9}, 10); /* bad CID */
	fake_send_raw(f, (uint8_t[]){H4_SCO, 0x44, 0x00, 1, 0}, 5); /* unsupported type */
	for (uint64_t end = fake_now_ms() + 1000;
	     f->debug_lines < before + 14 && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
	assert_true(f->debug_lines >= before + 14);
	assert_false(f->fatal);
	assert_true(hci_dev_is_ready(f->hci));
	/* still working: an L2CAP signaling command we do not know gets a Command Reject */
	fake_send_raw(f, (uint8_t[]){H4_ACL, 0x44, 0x20, 8, 0, 4, 0, 5, 0, 0x0a, 0x05, 0, 0}, 13);
	k = fake_next_pkt(f);
	assert_int_equal(k.type, H4_ACL);
	assert_memory_equal(
		k.data, ((uint8_t[]){0x44, 0x00, 10, 0, 6, 0, 5, 0, 0x01, 0x05, 2, 0, 0, 0}), 14);
}

static void test_extended_scanning_and_connection_when_supported(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 251, .le_num = 2};
	struct bt_addr peer = {1, {1, 2, 3, 4, 5, 0xc6}};
	struct hci_dev_info info;
	struct fake_pkt k;
	/* 7.7.65.13: one report, legacy ADV_IND (0x13), random address, RSSI -70, flags */
	uint8_t ext[30] = {HCI_LE_EXT_ADV_REPORT,
			   1,
			   0x13,
			   0x00,
			   0x01,
			   1,
			   2,
			   3,
			   4,
			   5,
			   0xc6,
			   0x01,
			   0x00,
			   0xff,
			   0x7f,
			   (uint8_t)-70,
			   0,
			   0,
			   0,
			   0,
			   0,
			   0,
			   0,
			   0,
			   0,
			   3,
			   2,
			   1,
			   6};
	/* 7.7.65.10: Enhanced Connection Complete, central, handle 0x50 */
	uint8_t enh[31] = {HCI_LE_ENH_CONN_COMPLETE, 0, 0x50, 0, 0, 1, 1, 2, 3, 4, 5, 0xc6};

	c.le_features = 1u << LE_FEAT_EXT_ADV;
	c.commands[37] = 0xe0; /* Ext Scan Params, Ext Scan Enable, Ext Create Connection */
	fake_bring_up(f, &c);
	hci_dev_get_info(f->hci, &info);
	assert_true(info.ext_scan);
	assert_int_equal(hci_scan_start(f->hci, NULL, fake_on_scan, f, NULL), 0);
	k = fake_expect_cmd(f, HCI_OP_LE_SET_EXT_SCAN_PARAMS); /* 7.8.64 */
	assert_memory_equal(k.data, ((uint8_t[]){0, 0, 1, 1, 0x60, 0, 0x30, 0}), 8);
	fake_ok(f, HCI_OP_LE_SET_EXT_SCAN_PARAMS);
	k = fake_expect_cmd(f, HCI_OP_LE_SET_EXT_SCAN_ENABLE); /* 7.8.65 */
	assert_memory_equal(k.data, ((uint8_t[]){1, 0, 0, 0, 0, 0}), 6);
	fake_ok(f, HCI_OP_LE_SET_EXT_SCAN_ENABLE);
	fake_send_event(f, HCI_EV_LE_META, ext, 29);
	for (uint64_t end = fake_now_ms() + 1000; !f->reports && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
	assert_int_equal(f->reports, 1);
	assert_int_equal(f->last_report.rssi, -70);
	assert_true(f->last_report.connectable);
	assert_true(bt_addr_equal(&f->last_report.addr, &peer));
	assert_int_equal(hci_scan_stop(f->hci), 0);
	k = fake_expect_cmd(f, HCI_OP_LE_SET_EXT_SCAN_ENABLE);
	assert_int_equal(k.data[0], 0);
	fake_ok(f, HCI_OP_LE_SET_EXT_SCAN_ENABLE);
	assert_int_equal(hci_connect(f->hci, &peer, NULL, fake_on_connect, f, NULL), 0);
	k = fake_expect_cmd(f, HCI_OP_LE_EXT_CREATE_CONN); /* 7.8.66 */
	assert_int_equal(k.len, 26);
	assert_memory_equal(k.data, ((uint8_t[]){0, 0, 1, 1, 2, 3, 4, 5, 0xc6, 1}), 10);
	fake_cmd_status(f, HCI_OP_LE_EXT_CREATE_CONN, 0);
	put_le16(enh + 24, 24); /* interval after the two RPAs */
	put_le16(enh + 28, 400);
	fake_send_event(f, HCI_EV_LE_META, enh, 31);
	fake_wait_connect(f);
	assert_int_equal(f->connect_err, 0);
	assert_non_null(f->conn);
	{
		struct hci_conn_info ci;

		hci_conn_get_info(f->conn, &ci);
		assert_int_equal(ci.handle, 0x50);
		assert_int_equal(ci.interval, 24);
		assert_int_equal(ci.supervision_timeout, 400);
		assert_true(bt_addr_equal(&ci.peer, &peer));
	}
}

static void test_hardware_error_is_fatal(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 27, .le_num = 2};

	fake_bring_up(f, &c);
	fake_connect_as_central(f, 0x0045);
	fake_send_event(f, HCI_EV_HW_ERROR, (uint8_t[]){0x42}, 1);
	for (uint64_t end = fake_now_ms() + 1000; !f->fatal && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
	assert_true(f->fatal);
	assert_int_equal(f->fatal_err, -EIO);
	assert_int_equal(f->disconnects, 1);
	assert_string_equal(hci_dev_last_error(f->hci), "controller reported Hardware Error 0x42");
}

static void test_driver_specs(void **state)
{
	static const struct hci_dev_callbacks cb = {.ready = fake_on_ready};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	struct fake f = {0};
	struct hci_dev *hci = NULL;
	char spec[64];
	int lfd, r;

	assert_int_equal(sd_event_new(&f.e), 0);
	f.parser = calloc(1, sizeof(*f.parser));
	assert_non_null(f.parser);
	assert_int_equal(hci_dev_new(f.e, "bogus:x", &cb, &f, NULL, &hci), -EINVAL);
	assert_int_equal(hci_dev_new(f.e, "tcp:nohostport", &cb, &f, NULL, &hci), -EINVAL);
	assert_int_equal(hci_dev_new(f.e, "userchan:foo", &cb, &f, NULL, &hci), -EINVAL);
	assert_int_equal(hci_dev_new(f.e, "tty:/nonexistent/tty@115200", &cb, &f, NULL, &hci),
			 -ENOENT);
	assert_int_equal(hci_dev_new(f.e, "tty:/dev/null@12345", &cb, &f, NULL, &hci), -EINVAL);
	assert_int_equal(hci_dev_new(f.e, "unix:/nonexistent/sock", &cb, &f, NULL, &hci), -ENOENT);
	/* no Bluetooth in this kernel, or no hci99: either way a clean error */
	r = hci_dev_new(f.e, "userchan:hci99", &cb, &f, NULL, &hci);
	assert_true(r < 0);
	/* H4 over TCP: a non-blocking connect, then the init starts */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(hci_dev_new(f.e, spec, &cb, &f, NULL, &hci), 0);
	f.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(f.fd >= 0);
	fake_expect_cmd(&f, HCI_OP_RESET);
	hci_dev_free(hci);
	close(f.fd);
	close(lfd);
	free(f.parser);
	sd_event_unref(f.e);
}

/* A borrower of the device: what it is told, and what is left of the device after the owner
 * freed it while the borrower still holds a ref. */
struct borrower {
	unsigned told, destroyed;
	int err;
};

static void on_dev_state(struct hci_dev *hci, int err, void *ud)
{
	struct borrower *b = ud;

	b->told++;
	b->err = err;
}

static void on_borrower_destroy(void *ud)
{
	((struct borrower *)ud)->destroyed++;
}

static void on_owner_closed(struct hci_dev *hci, int err, void *ud)
{
	*(int *)ud = err;
}

static void test_a_borrower_outlives_the_owner_with_a_dead_device(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 27, .le_num = 2};
	struct borrower b = {0};
	struct bt_addr peer = {0};
	struct hci_dev *hci;
	int closed = 1;
	unsigned id;

	hci = hci_dev_ref(f->hci);
	assert_ptr_equal(hci, f->hci);
	assert_true(hci_dev_watch(hci, on_dev_state, &b, on_borrower_destroy) > 0);
	fake_bring_up(f, &c);
	assert_int_equal(b.told, 1);
	assert_int_equal(b.err, 0);

	/* the owner closes it: the borrower hears it first, then nothing more */
	assert_int_equal(hci_dev_close(f->hci, 100 * 1000, on_owner_closed, &closed, NULL), 0);
	assert_int_equal(b.told, 2);
	assert_int_equal(b.err, -ESHUTDOWN);
	for (uint64_t end = fake_now_ms() + 1000; closed == 1 && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
	assert_int_equal(closed, 0);

	hci_dev_free(f->hci); /* the owner lets go; the memory stays for the borrower */
	f->hci = NULL;
	assert_int_equal(b.destroyed, 1);
	assert_int_equal(b.told, 2);
	assert_false(hci_dev_is_ready(hci));
	assert_int_equal(hci_scan_watch(hci, NULL, NULL, fake_on_scan, f, NULL, &id), -EAGAIN);
	assert_int_equal(hci_connect_request(hci, &peer, NULL, fake_on_connect, f, NULL, &id),
			 -EAGAIN);
	assert_false(hci_scan_unwatch(hci, 1));
	assert_false(hci_connect_request_cancel(hci, 1));
	assert_false(hci_dev_unwatch(hci, 1));
	assert_null(hci_dev_unref(hci)); /* frees it (ASan/valgrind: no leak, no double free) */
}

static void test_a_borrower_hears_the_controller_fail(void **state)
{
	struct fake *f = *state;
	struct fake_ctrl c = {.le_mtu = 27, .le_num = 2};
	struct borrower b = {0}, gone = {0};
	unsigned id, mine;

	fake_bring_up(f, &c);
	mine = hci_dev_watch(f->hci, on_dev_state, &b, on_borrower_destroy);
	assert_true(mine > 0);
	id = hci_dev_watch(f->hci, on_dev_state, &gone, on_borrower_destroy);
	assert_true(hci_dev_unwatch(f->hci, id));
	assert_int_equal(gone.destroyed, 1);
	assert_false(hci_dev_unwatch(f->hci, id));
	shutdown(f->fd, SHUT_RDWR); /* the controller goes away */
	for (uint64_t end = fake_now_ms() + 1000; !f->fatal && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
	assert_true(f->fatal);
	assert_int_equal(b.told, 1);
	assert_true(b.err < 0);
	assert_int_equal(gone.told, 0);
	assert_true(hci_dev_unwatch(f->hci, mine)); /* b lives on this stack */
	assert_int_equal(b.destroyed, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_driver_specs),
		cmocka_unit_test_setup_teardown(
			test_a_borrower_outlives_the_owner_with_a_dead_device, fake_setup,
			fake_teardown),
		cmocka_unit_test_setup_teardown(test_a_borrower_hears_the_controller_fail,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_init_falls_back_from_v2_and_to_shared_buffers,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_init_failure_is_named, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_command_timeout_is_fatal, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_command_credits_are_honoured, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_scan_reports_merge_adv_and_scan_response,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_connect_timeout_cancels_and_reports,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_acl_credits_per_connection_and_fragments,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_upgrades_data_length_and_phy_when_both_support,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_remote_parameters_get_negative_reply,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_att_timeout_fails_discovery_and_disconnects,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_garbage_unknown_and_truncated_input_is_dropped,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(
			test_extended_scanning_and_connection_when_supported, fake_setup,
			fake_teardown),
		cmocka_unit_test_setup_teardown(test_hardware_error_is_fatal, fake_setup,
						fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
