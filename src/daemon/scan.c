/* scan.c — otad's BLE scan: open the controller, listen actively for ScanDuration=, merge what
 * each advertiser said (address, name, RSSI, advertising data and scan response), then make each
 * one a device (or update the one it is), find its group by name, address or advertised data,
 * and read the slots of the group members (the policy follows the poll as for listed devices).
 * A device in no group is only listed: nothing connects to it. Scanned devices not heard for an
 * hour are dropped. */
#include "daemon/scan.h"
#include "daemon/device.h"
#include "daemon/manager.h"
#include "otad/bt.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCAN_MAX_SEEN 256
/* A scanned device not heard for this long is dropped (phones rotate random addresses: the list
 * would only grow), unless a job or a poll has it. */
#define SCAN_FORGET_USEC (3600 * USEC_PER_SEC)

struct seen {
	struct bt_addr addr;
	struct adv_data ad; /* merged over the reports */
	int8_t rssi;	    /* 127: unknown */
	uint8_t data[62];   /* advertising data, then scan response (as MatchAdvertised= sees) */
	uint8_t adv_len, rsp_len;
	uint64_t when; /* CLOCK_REALTIME µs of the last report */
};

struct scan {
	struct manager *m;
	bool forced;
	char *spec; /* the controller */
	struct hci_dev *hci;
	sd_event_source *timer, *end;
	struct seen *seen;
	size_t n_seen;
	bool failed;
};

struct scan *scan_free(struct scan *s)
{
	if (!s)
		return NULL;
	sd_event_source_disable_unref(s->timer);
	sd_event_source_disable_unref(s->end);
	hci_dev_free(s->hci);
	free(s->spec);
	free(s->seen);
	free(s);
	return NULL;
}

/* ---- applying what was heard ------------------------------------------------------------- */

/* The advertised name is the device's name when it is printable and not taken already. */
static bool usable_name(struct manager *m, const struct adv_data *ad)
{
	if (!ad->has_name || !ad->name[0] || manager_find_device(m, ad->name))
		return false;
	for (const char *p = ad->name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* The device a listed ble:name=NAME transport names. */
static struct device *find_by_name(struct manager *m, const struct adv_data *ad)
{
	for (struct device *d = m->devices; ad->has_name && d; d = d->next)
		if (strncmp(d->transport, "ble:name=", 9) == 0 &&
		    strcmp(d->transport + 9, ad->name) == 0)
			return d;
	return NULL;
}

static struct device *device_for(struct manager *m, const struct seen *s, const char *addr)
{
	char spec[64];
	struct device *d = manager_find_ble_device(m, addr);
	char *a;

	if (d || (d = find_by_name(m, &s->ad)))
		return d;
	snprintf(spec, sizeof(spec), "ble:%s%s", addr,
		 s->addr.type == BT_ADDR_LE_RANDOM ? "/random" : "");
	if (device_new(m, usable_name(m, &s->ad) ? s->ad.name : addr, spec, &d) < 0)
		return NULL;
	if (!(a = strdup(addr))) {
		device_free(d);
		return NULL;
	}
	free(d->address);
	d->address = a; /* without the type: as MatchAddress= lists it */
	d->scanned = true;
	manager_add_device(m, d);
	log_info("%s: seen advertising as %s", d->name, spec);
	return d;
}

static bool wants_poll(const struct scan *s, const struct device *d, uint64_t now)
{
	const struct fleet_settings *set = &s->m->config->s;

	if (!d->group || d->listed || d->job || d->polling)
		return false; /* listed devices are polled at PollInterval= anyway */
	return s->forced || !d->polled_at ||
	       (set->poll_interval_usec && now - d->polled_at >= set->poll_interval_usec);
}

static void apply(struct scan *s, const struct seen *e, uint64_t now)
{
	char addr[BT_ADDR_STRLEN];
	struct device *d = device_for(s->m, e, bt_addr_to_str(&e->addr, addr));

	if (!d) {
		log_error("scan: cannot add %s: %s", addr, strerror(ENOMEM));
		return;
	}
	if (e->rssi != 127)
		d->rssi = (int16_t)e->rssi; /* dBm, negative */
	d->last_seen = e->when;
	d->adv_len = (size_t)e->adv_len + e->rsp_len;
	memcpy(d->adv, e->data, d->adv_len);
	device_bus_emit(d, "RSSI", "LastSeen", NULL);
	manager_assign_group(s->m, d);
	if (!d->group && !d->listed && !d->has_slots)
		device_set_status(d, "none", "seen advertising; in no group");
	if (wants_poll(s, d, now))
		device_poll(d); /* waits for the controller: the scan still holds it */
}

static void forget_unheard(struct manager *m)
{
	uint64_t now = manager_realtime();

	for (struct device *d = m->devices, *next; d; d = next) {
		next = d->next;
		if (d->scanned && !d->listed && !d->job && !d->polling && !d->poll_wanted &&
		    d->last_seen + SCAN_FORGET_USEC < now) {
			log_info("%s: not heard for an hour, forgotten", d->name);
			manager_remove_device(m, d);
		}
	}
}

static int on_end(sd_event_source *src, void *userdata)
{
	struct scan *s = userdata;
	struct manager *m = s->m;
	uint64_t now = 0;

	s->end = sd_event_source_disable_unref(s->end);
	(void)hci_scan_stop(s->hci);
	s->hci = hci_dev_free(s->hci); /* the controller is closed before the next user opens it */
	sd_event_now(m->event, CLOCK_MONOTONIC, &now);
	if (!s->failed)
		log_info("scan: %zu BLE device%s heard", s->n_seen, s->n_seen == 1 ? "" : "s");
	for (size_t i = 0; i < s->n_seen; i++)
		apply(s, &s->seen[i], now);
	forget_unheard(m);
	manager_scan_done(m); /* frees s */
	return 0;
}

/* Never frees the controller from inside its own callbacks (bt.h): ends from the loop. */
static void end_soon(struct scan *s)
{
	if (!s->end && sd_event_add_defer(s->m->event, &s->end, on_end, s) < 0)
		log_error("scan: cannot end the scan");
}

static void fail(struct scan *s, int err, const char *what)
{
	const char *text = s->hci ? hci_dev_last_error(s->hci) : "";

	log_error("scan: controller %s %s: %s", s->spec, what,
		  text[0] ? text : strerror(err < 0 ? -err : EIO));
	s->failed = true;
	end_soon(s);
}

/* ---- listening ---------------------------------------------------------------------------- */

static struct seen *seen_for(struct scan *s, const struct bt_addr *a)
{
	struct seen *n;

	for (size_t i = 0; i < s->n_seen; i++)
		if (bt_addr_equal(&s->seen[i].addr, a))
			return &s->seen[i];
	if (s->n_seen == SCAN_MAX_SEEN)
		return NULL;
	n = realloc(s->seen, (s->n_seen + 1) * sizeof(*n));
	if (!n)
		return NULL;
	s->seen = n;
	n = &s->seen[s->n_seen++];
	*n = (struct seen){.addr = *a, .rssi = 127};
	return n;
}

static void on_report(struct hci_dev *hci, int err, const struct hci_adv_report *r, void *ud)
{
	struct scan *s = ud;
	struct seen *e;
	size_t len;

	if (err) {
		fail(s, err, "stopped scanning");
		return;
	}
	e = seen_for(s, &r->addr);
	if (!e)
		return;
	e->ad = r->ad; /* the host merges a device's reports */
	if (r->rssi != 127)
		e->rssi = r->rssi;
	e->when = manager_realtime();
	/* Core 5.4 Vol 6 Part B 2.3.1: AdvData and ScanRspData are at most 31 bytes each */
	len = r->data_len < 31 ? r->data_len : 31;
	if (r->scan_rsp) {
		memcpy(e->data + e->adv_len, r->data, len);
		e->rsp_len = (uint8_t)len;
	} else {
		memmove(e->data + len, e->data + e->adv_len, e->rsp_len);
		memcpy(e->data, r->data, len);
		e->adv_len = (uint8_t)len;
	}
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	end_soon(userdata);
	return 0;
}

static void on_ready(struct hci_dev *hci, int err, uint8_t status, void *ud)
{
	struct scan *s = ud;
	const struct hci_scan_params p = {0}; /* active: names are in scan responses */
	uint64_t now = 0;
	int r;

	if (err) {
		fail(s, err, "did not initialise");
		return;
	}
	r = hci_scan_start(hci, &p, on_report, s, NULL);
	if (r < 0) {
		fail(s, r, "cannot scan");
		return;
	}
	sd_event_now(s->m->event, CLOCK_MONOTONIC, &now);
	if (sd_event_add_time(s->m->event, &s->timer, CLOCK_MONOTONIC,
			      now + s->m->config->s.scan_duration_usec, 0, on_timer, s) < 0)
		fail(s, -ENOMEM, "cannot time the scan");
}

static void on_fatal(struct hci_dev *hci, int err, void *ud)
{
	fail(ud, err, "failed");
}

int scan_new(struct manager *m, bool forced, struct scan **ret)
{
	static const struct hci_dev_callbacks cb = {.ready = on_ready, .fatal = on_fatal};
	struct scan *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->m = m;
	s->forced = forced;
	s->spec = strdup(m->config->s.controller ? m->config->s.controller : "");
	if (!s->spec) {
		free(s);
		return -ENOMEM;
	}
	r = hci_dev_new(m->event, s->spec, &cb, s, NULL, &s->hci);
	if (r < 0) {
		s->hci = NULL;
		scan_free(s);
		return r;
	}
	*ret = s;
	return 0;
}
