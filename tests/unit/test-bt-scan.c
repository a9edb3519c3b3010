/* test-bt-scan.c — scanning as a service of one controller (hci-scan.c) against the scripted
 * controller: watches with their own filters over one report cache, the controller told only
 * what changes, watches removed while a report is told, scanning off with the last watch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "bt/hci-pkt.h"
#include "lib/fakectl.h"
#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"

static const struct fake_ctrl ctrl = {.le_mtu = 27, .le_num = 2};

struct watcher {
	struct fake *f;
	unsigned id;
	unsigned reports, errors, destroyed;
	struct hci_adv_report last;
	/* on its first report: remove this watch of the device */
	unsigned remove_id;
};

static void on_report(struct hci_dev *hci, int err, const struct hci_adv_report *r, void *ud)
{
	struct watcher *w = ud;

	if (err) {
		w->errors++;
		return;
	}
	w->reports++;
	w->last = *r;
	if (w->remove_id && w->reports == 1)
		assert_true(hci_scan_unwatch(hci, w->remove_id));
}

static void on_destroy(void *ud)
{
	((struct watcher *)ud)->destroyed++;
}

static void watch(struct fake *f, struct watcher *w, const struct hci_scan_params *p,
		  const struct hci_scan_filter *filter)
{
	w->f = f;
	assert_int_equal(hci_scan_watch(f->hci, p, filter, on_report, w, on_destroy, &w->id), 0);
	assert_true(w->id > 0);
}

/* Set Scan Parameters (active unless passive, interval, window) and Set Scan Enable 1. */
static void expect_scan_on(struct fake *f, bool active, uint16_t interval, uint16_t window)
{
	struct fake_pkt k = fake_expect_cmd(f, HCI_OP_LE_SET_SCAN_PARAMS);

	assert_int_equal(k.data[0], active);
	assert_int_equal(get_le16(k.data + 1), interval);
	assert_int_equal(get_le16(k.data + 3), window);
	fake_ok(f, HCI_OP_LE_SET_SCAN_PARAMS);
	k = fake_expect_cmd(f, HCI_OP_LE_SET_SCAN_ENABLE);
	assert_memory_equal(k.data, ((uint8_t[]){1, 0}), 2);
	fake_ok(f, HCI_OP_LE_SET_SCAN_ENABLE);
}

static void expect_scan_off(struct fake *f)
{
	struct fake_pkt k = fake_expect_cmd(f, HCI_OP_LE_SET_SCAN_ENABLE);

	assert_int_equal(k.data[0], 0);
	fake_ok(f, HCI_OP_LE_SET_SCAN_ENABLE);
}

/* One legacy report (7.7.65.2) appended to ev at *n: type, random address ..:..:last, AD. */
static void add_report(uint8_t *ev, size_t *n, uint8_t type, uint8_t last, const uint8_t *ad,
		       uint8_t len, int8_t rssi)
{
	uint8_t hdr[9] = {type, BT_ADDR_LE_RANDOM, 1, 2, 3, 4, 5, last, len};

	memcpy(ev + *n, hdr, sizeof(hdr));
	*n += sizeof(hdr);
	memcpy(ev + *n, ad, len);
	*n += len;
	ev[(*n)++] = (uint8_t)rssi;
	ev[1]++;
}

/* ADV_IND (flags + the SMP UUID) and SCAN_RSP ("dev") of ..:c6, then ADV_IND of ..:c7. */
static void send_three_reports(struct fake *f)
{
	uint8_t ev[200] = {HCI_LE_ADV_REPORT, 0}, ad[21] = {2, 1, 6, 17, 7};
	size_t n = 2;

	memcpy(ad + 5, bt_uuid_smp_service.b, 16);
	add_report(ev, &n, 0x00, 0xc6, ad, 21, -60);
	add_report(ev, &n, 0x04, 0xc6, (const uint8_t[]){4, 9, 'd', 'e', 'v'}, 5, -61);
	add_report(ev, &n, 0x00, 0xc7, (const uint8_t[]){2, 1, 6}, 3, -70);
	fake_send_event(f, HCI_EV_LE_META, ev, (uint8_t)n);
}

static void run_until(struct fake *f, const unsigned *counter, unsigned n)
{
	for (uint64_t end = fake_now_ms() + 1000; *counter < n && fake_now_ms() < end;)
		sd_event_run(f->e, 10 * 1000);
}

static void test_two_watches_share_one_scan_and_one_cache(void **state)
{
	struct fake *f = *state;
	const struct hci_scan_filter by_name = {.name = "dev", .uuid = &bt_uuid_smp_service};
	struct watcher a = {0}, b = {0};
	const struct hci_scan_seen *e;
	struct bt_addr addr;

	fake_bring_up(f, &ctrl);
	watch(f, &a, NULL, &by_name);
	expect_scan_on(f, true, 0x0060, 0x0030);
	watch(f, &b, NULL, NULL);
	assert_false(fake_pump(f, 100)); /* the same parameters: nothing to tell the controller */
	assert_true(hci_is_scanning(f->hci));

	send_three_reports(f);
	run_until(f, &b.reports, 3);
	assert_int_equal(b.reports, 3); /* no filter: everything */
	assert_int_equal(a.reports, 1); /* only the scan response completes the name */
	assert_true(a.last.scan_rsp);
	assert_string_equal(a.last.ad.name, "dev");
	assert_true(adv_data_has_uuid128(&a.last.ad, &bt_uuid_smp_service));
	assert_int_equal(hci_scan_watch_rejected(f->hci, a.id), 2);
	assert_int_equal(hci_scan_watch_rejected(f->hci, b.id), 0);

	/* the cache: merged AD, the last RSSI, the last report's AD */
	assert_int_equal(bt_addr_from_str("C6:05:04:03:02:01", BT_ADDR_LE_RANDOM, &addr), 0);
	e = hci_scan_lookup(f->hci, &addr);
	assert_non_null(e);
	assert_string_equal(e->ad.name, "dev");
	assert_int_equal(e->ad.flags, 6);
	assert_int_equal(e->rssi, -61);
	assert_true(e->connectable);
	assert_true(e->last_seen_usec > 0);
	assert_int_equal(e->data_len, 5);
	addr.type = BT_ADDR_LE_PUBLIC; /* the type is part of the address */
	assert_null(hci_scan_lookup(f->hci, &addr));

	assert_true(hci_scan_unwatch(f->hci, a.id));
	assert_true(hci_scan_unwatch(f->hci, b.id));
	assert_int_equal(a.destroyed, 1);
	assert_int_equal(b.destroyed, 1);
	assert_int_equal(a.errors + b.errors, 0);
	expect_scan_off(f);
}

static void test_watch_removed_during_a_report_hears_no_more(void **state)
{
	struct fake *f = *state;
	struct watcher a = {0}, b = {0}, c = {0};

	fake_bring_up(f, &ctrl);
	watch(f, &a, NULL, NULL);
	expect_scan_on(f, true, 0x0060, 0x0030);
	watch(f, &b, NULL, NULL);
	watch(f, &c, NULL, NULL);
	a.remove_id = b.id; /* a's first report removes b, which comes after a */
	c.remove_id = c.id; /* c removes itself */

	send_three_reports(f);
	run_until(f, &a.reports, 3);
	assert_int_equal(a.reports, 3);
	assert_int_equal(b.reports, 0);
	assert_int_equal(c.reports, 1);
	assert_int_equal(b.destroyed, 1);
	assert_int_equal(c.destroyed, 1);
	assert_false(hci_scan_unwatch(f->hci, b.id));
	assert_false(hci_scan_unwatch(f->hci, c.id));
	assert_false(fake_pump(f, 50)); /* a still watches: scanning goes on */
	assert_true(hci_scan_unwatch(f->hci, a.id));
	expect_scan_off(f);
}

static void test_scanning_stops_when_the_last_watch_goes(void **state)
{
	struct fake *f = *state;
	struct watcher a = {0}, b = {0};
	struct fake_pkt k;

	fake_bring_up(f, &ctrl);
	watch(f, &a, &(struct hci_scan_params){.passive = true}, NULL);
	expect_scan_on(f, false, 0x0060, 0x0030);
	/* an active watch: the controller scans actively from now on (parameters only change
	 * while scanning is off, 7.8.10) */
	watch(f, &b, &(struct hci_scan_params){.interval = 0x0040, .window = 0x0040}, NULL);
	expect_scan_off(f);
	expect_scan_on(f, true, 0x0040, 0x0040);
	assert_true(hci_scan_unwatch(f->hci, b.id));
	expect_scan_off(f); /* back to what a alone asks */
	expect_scan_on(f, false, 0x0060, 0x0030);
	assert_true(hci_scan_unwatch(f->hci, a.id));
	k = fake_expect_cmd(f, HCI_OP_LE_SET_SCAN_ENABLE);
	assert_int_equal(k.data[0], 0);
	fake_ok(f, HCI_OP_LE_SET_SCAN_ENABLE);
	assert_false(hci_is_scanning(f->hci));
	send_three_reports(f); /* late reports reach nobody */
	assert_false(fake_pump(f, 50));
	assert_int_equal(a.reports + b.reports, 0);
}

static void test_a_failed_scan_command_ends_every_watch(void **state)
{
	struct fake *f = *state;
	struct watcher a = {0}, b = {0};
	uint8_t st = HCI_ERR_COMMAND_DISALLOWED;

	fake_bring_up(f, &ctrl);
	watch(f, &a, NULL, NULL);
	watch(f, &b, NULL, NULL);
	fake_expect_cmd(f, HCI_OP_LE_SET_SCAN_PARAMS);
	fake_ok(f, HCI_OP_LE_SET_SCAN_PARAMS);
	fake_expect_cmd(f, HCI_OP_LE_SET_SCAN_ENABLE);
	fake_cmd_complete(f, HCI_OP_LE_SET_SCAN_ENABLE, &st, 1);
	run_until(f, &b.errors, 1);
	assert_int_equal(a.errors, 1);
	assert_int_equal(b.errors, 1);
	assert_int_equal(a.destroyed + b.destroyed, 2);
	assert_false(hci_is_scanning(f->hci));
	assert_string_equal(hci_dev_last_error(f->hci),
			    "LE Set Scan Enable failed: 0x0c Command Disallowed");
}

static void test_the_single_user_scan_is_one_watch_among_others(void **state)
{
	struct fake *f = *state;
	struct watcher a = {0};

	fake_bring_up(f, &ctrl);
	assert_int_equal(hci_scan_start(f->hci, NULL, fake_on_scan, f, NULL), 0);
	expect_scan_on(f, true, 0x0060, 0x0030);
	assert_int_equal(hci_scan_start(f->hci, NULL, fake_on_scan, f, NULL), -EBUSY);
	watch(f, &a, NULL, &(struct hci_scan_filter){.connectable = true});
	send_three_reports(f);
	run_until(f, &a.reports, 3);
	assert_int_equal(f->reports, 3);
	assert_int_equal(a.reports, 3); /* ADV_IND is connectable, its SCAN_RSP goes with it */
	assert_int_equal(hci_scan_stop(f->hci), 0);
	assert_int_equal(hci_scan_stop(f->hci), -EALREADY);
	assert_false(fake_pump(f, 50)); /* a still watches */
	assert_true(hci_is_scanning(f->hci));
	assert_true(hci_scan_unwatch(f->hci, a.id)); /* a lives on this stack */
	expect_scan_off(f);
}

static void test_filters(void **state)
{
	struct hci_adv_report r = {.connectable = true};
	struct hci_scan_filter f = {.by_addr = true};

	(void)state;
	assert_int_equal(bt_addr_from_str("C0:11:22:33:44:55", BT_ADDR_LE_RANDOM, &r.addr), 0);
	f.addr = r.addr;
	assert_true(hci_scan_filter_match(&f, &r));
	f.addr.type = BT_ADDR_LE_PUBLIC;
	assert_false(hci_scan_filter_match(&f, &r));
	f.any_type = true;
	assert_true(hci_scan_filter_match(&f, &r));
	f.addr.b[0] ^= 1;
	assert_false(hci_scan_filter_match(&f, &r));
	assert_true(hci_scan_filter_match(NULL, &r));

	f = (struct hci_scan_filter){.name = "sensor-12", .connectable = true};
	assert_false(hci_scan_filter_match(&f, &r)); /* no name yet */
	r.ad.has_name = true;
	snprintf(r.ad.name, sizeof(r.ad.name), "sensor-1");
	r.ad.name_complete = true;
	assert_false(hci_scan_filter_match(&f, &r));
	r.ad.name_complete = false; /* shortened: a prefix */
	assert_true(hci_scan_filter_match(&f, &r));
	r.connectable = false;
	assert_false(hci_scan_filter_match(&f, &r));
	r.scan_rsp = true;
	assert_true(hci_scan_filter_match(&f, &r));
	f.uuid = &bt_uuid_smp_service;
	assert_false(hci_scan_filter_match(&f, &r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_watches_share_one_scan_and_one_cache,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_watch_removed_during_a_report_hears_no_more,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_scanning_stops_when_the_last_watch_goes,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_a_failed_scan_command_ends_every_watch,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_the_single_user_scan_is_one_watch_among_others,
						fake_setup, fake_teardown),
		cmocka_unit_test(test_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
