/* cmd-scan.c — `otactl scan`: the BLE devices the --hci controller hears within --timeout:
 * address, address type, name, RSSI, and whether they advertise the SMP service. */
#include "cli/commands.h"
#include "cli/exit-codes.h"
#include "otad/bt.h"
#include "util/json.h"
#include "util/log.h"
#include "util/macro.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SCAN_MAX 256

struct seen {
	struct bt_addr addr;
	char name[ADV_NAME_MAX + 1];
	int8_t rssi; /* 127: unknown */
	bool smp, connectable;
};

struct scan {
	sd_event *event;
	struct hci_dev *hci;
	sd_event_source *timer;
	struct seen dev[SCAN_MAX];
	size_t n;
	int exit_code;
};

static struct seen *find_or_add(struct scan *s, const struct bt_addr *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (bt_addr_equal(&s->dev[i].addr, a))
			return &s->dev[i];
	if (s->n == SCAN_MAX)
		return NULL;
	s->dev[s->n] = (struct seen){.addr = *a, .rssi = 127};
	return &s->dev[s->n++];
}

static void on_report(struct hci_dev *hci, int err, const struct hci_adv_report *r, void *ud)
{
	struct scan *s = ud;
	struct seen *d;

	if (err) {
		log_error("scanning failed: %s", hci_dev_last_error(hci));
		s->exit_code = EXIT_LINK;
		sd_event_exit(s->event, 0);
		return;
	}
	d = find_or_add(s, &r->addr);
	if (!d)
		return;
	if (r->ad.has_name)
		snprintf(d->name, sizeof(d->name), "%s", r->ad.name);
	if (r->rssi != 127)
		d->rssi = r->rssi;
	d->smp |= adv_data_has_uuid128(&r->ad, &bt_uuid_smp_service);
	d->connectable |= r->connectable;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *ud)
{
	struct scan *s = ud;

	(void)hci_scan_stop(s->hci);
	s->exit_code = EXIT_OK;
	return sd_event_exit(s->event, 0);
}

static void on_ready(struct hci_dev *hci, int err, uint8_t status, void *ud)
{
	struct scan *s = ud;
	const struct hci_scan_params p = {0}; /* active: names are in scan responses */
	uint64_t now;
	int r;

	if (err) {
		log_error("controller %s: %s", arg.params.tr.hci,
			  hci_dev_last_error(hci)[0] ? hci_dev_last_error(hci) : strerror(-err));
		sd_event_exit(s->event, 0);
		return;
	}
	r = hci_scan_start(hci, &p, on_report, s, NULL);
	sd_event_now(s->event, CLOCK_MONOTONIC, &now);
	if (r >= 0)
		r = sd_event_add_time(s->event, &s->timer, CLOCK_MONOTONIC, now + arg.timeout_usec,
				      0, on_timer, s);
	if (r < 0) {
		log_error_errno(r, "cannot scan: %m");
		sd_event_exit(s->event, 0);
	}
}

static void on_fatal(struct hci_dev *hci, int err, void *ud)
{
	struct scan *s = ud;

	log_error("controller %s failed: %s", arg.params.tr.hci, hci_dev_last_error(hci));
	s->exit_code = EXIT_LINK;
	sd_event_exit(s->event, 0);
}

static void print(const struct scan *s)
{
	char a[BT_ADDR_STRLEN], rssi[8];
	struct json j;

	if (!arg.json)
		printf("%-17s  %-6s  %4s  %-3s  %s\n", "ADDRESS", "TYPE", "RSSI", "SMP", "NAME");
	for (size_t i = 0; i < s->n; i++) {
		const struct seen *d = &s->dev[i];

		bt_addr_to_str(&d->addr, a);
		if (!arg.json) {
			snprintf(rssi, sizeof(rssi), "%d", d->rssi);
			printf("%-17s  %-6s  %4s  %-3s  %s\n", a, bt_addr_type_str(d->addr.type),
			       d->rssi == 127 ? "-" : rssi, d->smp ? "yes" : "no", d->name);
			continue;
		}
		json_init(&j, stdout);
		json_begin_object(&j, NULL);
		json_str(&j, "address", a);
		json_str(&j, "type", bt_addr_type_str(d->addr.type));
		json_str(&j, "name", d->name[0] ? d->name : NULL);
		if (d->rssi != 127)
			json_i64(&j, "rssi", d->rssi);
		else
			json_str(&j, "rssi", NULL);
		json_bool(&j, "smp", d->smp);
		json_bool(&j, "connectable", d->connectable);
		json_end_object(&j);
		json_end_line(&j);
	}
	fflush(stdout);
}

int cmd_scan(int argc, char **argv)
{
	static const struct hci_dev_callbacks cb = {.ready = on_ready, .fatal = on_fatal};
	static struct scan s; /* 256 names: not on the stack */
	int r;

	if (argc != 1) {
		log_error("usage: otactl scan [--timeout S] [--json]");
		return EXIT_USAGE;
	}
	s.exit_code = EXIT_LINK;
	r = sd_event_default(&s.event);
	if (r < 0)
		return log_error_errno(r, "cannot create the event loop: %m"), EXIT_FAILURE_GENERIC;
	r = hci_dev_new(s.event, arg.params.tr.hci, &cb, &s, NULL, &s.hci);
	if (r < 0) {
		log_error_errno(r, "cannot open the controller %s: %m", arg.params.tr.hci);
	} else {
		sd_event_loop(s.event);
		if (s.exit_code == EXIT_OK)
			print(&s);
	}
	sd_event_source_disable_unref(s.timer);
	hci_dev_free(s.hci);
	sd_event_unref(s.event);
	return s.exit_code;
}
