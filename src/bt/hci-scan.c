/* hci-scan.c — LE scanning (Core 5.4 Vol 4 Part E 7.8.10/11, extended 7.8.64/65) as a service
 * of the device: watches with their own filters over one cache of reports, their AD parsed and
 * merged per address (advertising data + scan response); the controller scans while a watch
 * wants it and no connection attempt needs it paused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/hci-dev.h"
#include "bt/hci-pkt.h"
#include "otad/bt.h"
#include "util/macro.h"

/* A cache entry not heard for this long starts its merged AD afresh: a device that came back
 * (rebooted, another image) advertises what it says now. */
#define SCAN_STALE_USEC (10 * USEC_PER_SEC)

struct hci_scan_watch {
	struct hci_scan_watch *next;
	unsigned id;
	bool removed, fresh;
	struct hci_scan_params params;
	struct hci_scan_filter filter;
	char name[ADV_NAME_MAX + 1];
	struct bt_uuid128 uuid;
	unsigned rejected;
	hci_scan_fn fn;
	void *user_data;
	otad_destroy_fn destroy;
};

/* ---- filters ----------------------------------------------------------------------------- */

bool hci_scan_filter_match(const struct hci_scan_filter *f, const struct hci_adv_report *r)
{
	if (!f)
		return true;
	if (f->connectable && !r->connectable && !r->scan_rsp)
		return false;
	if (f->by_addr && ((!f->any_type && r->addr.type != f->addr.type) ||
			   memcmp(r->addr.b, f->addr.b, sizeof(f->addr.b)) != 0))
		return false;
	if (f->uuid && !adv_data_has_uuid128(&r->ad, f->uuid))
		return false;
	if (f->name) {
		/* A shortened name (one too long for the scan response) matches as a prefix. */
		size_t n = strlen(r->ad.name);

		if (!r->ad.has_name)
			return false;
		if (r->ad.name_complete ? strcmp(r->ad.name, f->name) != 0
					: !n || strncmp(r->ad.name, f->name, n) != 0)
			return false;
	}
	return true;
}

/* ---- the watches -------------------------------------------------------------------------- */

static bool watch_live(const struct hci_scan_watch *w)
{
	return !w->removed;
}

static void watches_reap(struct hci_dev *hci)
{
	for (struct hci_scan_watch **pp = &hci->scan_watches; *pp;) {
		struct hci_scan_watch *w = *pp;

		if (!w->removed) {
			w->fresh = false;
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		if (w->destroy)
			w->destroy(w->user_data);
		free(w);
	}
}

static void watch_remove(struct hci_dev *hci, struct hci_scan_watch *w)
{
	w->removed = true;
	if (w->id == hci->scan_legacy)
		hci->scan_legacy = 0;
	if (!hci->scan_telling)
		watches_reap(hci);
}

static struct hci_scan_watch *watch_find(const struct hci_dev *hci, unsigned id)
{
	for (struct hci_scan_watch *w = hci->scan_watches; w; w = w->next)
		if (w->id == id && watch_live(w))
			return w;
	return NULL;
}

void hci_scan_free_watches(struct hci_dev *hci)
{
	for (struct hci_scan_watch *w = hci->scan_watches; w; w = w->next)
		w->removed = true;
	hci->scan_legacy = 0;
	hci->scan_telling = 0;
	watches_reap(hci);
}

/* Every watch hears err (unless 0 or the device is being freed) and goes. */
void hci_scan_abort(struct hci_dev *hci, int err)
{
	hci->scan_telling++;
	for (struct hci_scan_watch *w = hci->scan_watches; w; w = w->next) {
		if (!watch_live(w))
			continue;
		watch_remove(hci, w);
		if (err && w->fn && !hci->freeing)
			w->fn(hci, err, NULL, w->user_data);
	}
	if (--hci->scan_telling == 0)
		watches_reap(hci);
}

/* ---- the controller's state --------------------------------------------------------------- */

bool hci_scan_pause_for_connect(const struct hci_dev *hci)
{
	unsigned bit = hci->scan_params.passive ? LE_STATE_PASSIVE_SCAN_INITIATING
						: LE_STATE_ACTIVE_SCAN_INITIATING;

	/* 7.8.27: without the combination the controller may refuse LE Create Connection while
	 * scanning (Zephyr's controller answers Command Disallowed) */
	return !((hci->le_states >> bit) & 1);
}

/* The union of what the watches ask; false when none wants scanning. */
static bool scan_wanted_params(const struct hci_dev *hci, struct hci_scan_params *ret)
{
	bool any = false;

	*ret = (struct hci_scan_params){.passive = true, .filter_duplicates = true};
	for (const struct hci_scan_watch *w = hci->scan_watches; w; w = w->next) {
		if (!watch_live(w))
			continue;
		if (!any || w->params.interval < ret->interval)
			ret->interval = w->params.interval;
		ret->window = MAX(ret->window, w->params.window);
		ret->passive = ret->passive && w->params.passive;
		ret->filter_duplicates = ret->filter_duplicates && w->params.filter_duplicates;
		any = true;
	}
	ret->window = MIN(ret->window, ret->interval);
	return any;
}

static void scan_result(struct hci_dev *hci, uint8_t status, const uint8_t *ret, size_t len,
			void *user_data)
{
	uint16_t op = (uint16_t)(uintptr_t)user_data;

	if (!status)
		return;
	if (op == HCI_OP_LE_SET_SCAN_ENABLE || op == HCI_OP_LE_SET_EXT_SCAN_ENABLE)
		hci->scan_on = false;
	else
		hci->scan_params_set = false;
	hci_scan_abort(hci, -EIO); /* hci_dev_last_error() says which command */
	hci_scan_update(hci);
}

static int scan_enable(struct hci_dev *hci, bool enable)
{
	uint8_t p[6] = {enable, hci->scan_params.filter_duplicates};
	uint16_t op =
		hci->info.ext_scan ? HCI_OP_LE_SET_EXT_SCAN_ENABLE : HCI_OP_LE_SET_SCAN_ENABLE;

	hci->scan_on = enable;
	/* 7.8.11: enable, filter duplicates; 7.8.65 adds duration and period (0 = until
	 * disabled) */
	return hci_send_cmd(hci, op, p, hci->info.ext_scan ? 6 : 2, scan_result,
			    (void *)(uintptr_t)op);
}

static int scan_set_params(struct hci_dev *hci, const struct hci_scan_params *sp)
{
	uint8_t params[8];
	uint16_t op;
	size_t n;

	hci->scan_params = *sp;
	hci->scan_params_set = true;
	if (hci->info.ext_scan) {
		op = HCI_OP_LE_SET_EXT_SCAN_PARAMS;
		n = hci_le_ext_scan_params_build(!sp->passive, sp->interval, sp->window, params);
	} else {
		op = HCI_OP_LE_SET_SCAN_PARAMS;
		n = hci_le_scan_params_build(!sp->passive, sp->interval, sp->window, params);
	}
	return hci_send_cmd(hci, op, params, (uint8_t)n, scan_result, (void *)(uintptr_t)op);
}

static bool params_equal(const struct hci_scan_params *a, const struct hci_scan_params *b)
{
	return a->passive == b->passive && a->interval == b->interval && a->window == b->window &&
	       a->filter_duplicates == b->filter_duplicates;
}

void hci_scan_update(struct hci_dev *hci)
{
	struct hci_scan_params sp;
	bool want = scan_wanted_params(hci, &sp), same;
	int r = 0;

	if (hci->dead || !hci->ready)
		return;
	if (want && hci->connect_q && hci_scan_pause_for_connect(hci))
		want = false; /* paused until the queue is empty */
	if (!want) {
		if (hci->scan_on)
			(void)scan_enable(hci, false);
		return;
	}
	same = hci->scan_params_set && params_equal(&sp, &hci->scan_params);
	if (hci->scan_on && same)
		return;
	/* 7.8.10: parameters cannot change while scanning */
	if (hci->scan_on)
		r = scan_enable(hci, false);
	if (r >= 0 && !same)
		r = scan_set_params(hci, &sp);
	if (r >= 0)
		r = scan_enable(hci, true);
	if (r < 0) {
		hci->scan_on = false;
		hci_scan_abort(hci, r);
	}
}

/* ---- watching ------------------------------------------------------------------------------ */

static void watch_set(struct hci_scan_watch *w, const struct hci_scan_params *p,
		      const struct hci_scan_filter *f)
{
	w->params = p ? *p : (struct hci_scan_params){0};
	if (!w->params.interval)
		w->params.interval = 0x0060;
	if (!w->params.window)
		w->params.window = MIN(w->params.interval, (uint16_t)0x0030);
	w->params.window = MIN(w->params.window, w->params.interval);
	if (!f)
		return;
	w->filter = *f;
	if (f->name) {
		snprintf(w->name, sizeof(w->name), "%s", f->name);
		w->filter.name = w->name;
	}
	if (f->uuid) {
		w->uuid = *f->uuid;
		w->filter.uuid = &w->uuid;
	}
}

int hci_scan_watch(struct hci_dev *hci, const struct hci_scan_params *p,
		   const struct hci_scan_filter *filter, hci_scan_fn fn, void *user_data,
		   otad_destroy_fn destroy, unsigned *ret_id)
{
	struct hci_scan_watch *w, **pp;

	if (!hci_dev_is_ready(hci))
		return -EAGAIN;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	watch_set(w, p, filter);
	w->id = ++hci->scan_watch_id ? hci->scan_watch_id : ++hci->scan_watch_id;
	w->fresh = hci->scan_telling > 0;
	w->fn = fn;
	w->user_data = user_data;
	w->destroy = destroy;
	for (pp = &hci->scan_watches; *pp; pp = &(*pp)->next)
		;
	*pp = w;
	*ret_id = w->id;
	hci_scan_update(hci);
	return 0;
}

bool hci_scan_unwatch(struct hci_dev *hci, unsigned id)
{
	struct hci_scan_watch *w = id ? watch_find(hci, id) : NULL;

	if (!w)
		return false;
	watch_remove(hci, w);
	hci_scan_update(hci);
	return true;
}

unsigned hci_scan_watch_rejected(const struct hci_dev *hci, unsigned id)
{
	const struct hci_scan_watch *w = watch_find(hci, id);

	return w ? w->rejected : 0;
}

int hci_scan_start(struct hci_dev *hci, const struct hci_scan_params *p, hci_scan_fn fn,
		   void *user_data, otad_destroy_fn destroy)
{
	int r;

	if (!hci_dev_is_ready(hci))
		return -EAGAIN;
	if (hci->scan_legacy)
		return -EBUSY;
	r = hci_scan_watch(hci, p, NULL, fn, user_data, destroy, &hci->scan_legacy);
	return r < 0 ? r : 0;
}

int hci_scan_stop(struct hci_dev *hci)
{
	return hci_scan_unwatch(hci, hci->scan_legacy) ? 0 : -EALREADY;
}

bool hci_is_scanning(const struct hci_dev *hci)
{
	for (const struct hci_scan_watch *w = hci->scan_watches; w; w = w->next)
		if (watch_live(w))
			return true;
	return false;
}

/* ---- reports ------------------------------------------------------------------------------ */

const struct hci_scan_seen *hci_scan_lookup(const struct hci_dev *hci, const struct bt_addr *a)
{
	for (size_t i = 0; i < HCI_SCAN_CACHE; i++) {
		const struct hci_scan_seen *e = &hci->scan_cache[i];

		if (e->seq && bt_addr_equal(&e->addr, a))
			return e;
	}
	return NULL;
}

static struct hci_scan_seen *cache_entry(struct hci_dev *hci, const struct bt_addr *a, uint64_t now)
{
	struct hci_scan_seen *e = (struct hci_scan_seen *)hci_scan_lookup(hci, a), *oldest;

	if (e) {
		if (now - e->last_seen_usec > SCAN_STALE_USEC)
			memset(&e->ad, 0, sizeof(e->ad));
		return e;
	}
	oldest = &hci->scan_cache[0];
	for (size_t i = 1; i < HCI_SCAN_CACHE; i++)
		if (hci->scan_cache[i].seq < oldest->seq)
			oldest = &hci->scan_cache[i];
	memset(oldest, 0, sizeof(*oldest));
	oldest->addr = *a;
	return oldest;
}

static void tell_report(struct hci_dev *hci, const struct hci_adv_report *rep)
{
	hci->scan_telling++;
	for (struct hci_scan_watch *w = hci->scan_watches; w && !hci->dead; w = w->next) {
		if (!watch_live(w) || w->fresh)
			continue;
		if (!hci_scan_filter_match(&w->filter, rep)) {
			w->rejected++;
			continue;
		}
		if (w->fn)
			w->fn(hci, 0, rep, w->user_data);
	}
	if (--hci->scan_telling == 0)
		watches_reap(hci);
}

static void scan_one(struct hci_dev *hci, bool ext, const struct hci_raw_report *raw)
{
	struct hci_adv_report rep = {0};
	struct hci_scan_seen *e;
	struct adv_data ad;
	char addr[BT_ADDR_STRLEN];
	uint64_t now = 0;

	(void)sd_event_now(hci->event, CLOCK_MONOTONIC, &now);
	if (adv_data_parse(raw->data, raw->data_len, &ad) < 0)
		hci_debug(hci, "HCI: advertising data of %s malformed, kept what parsed",
			  bt_addr_to_str(&raw->addr, addr));
	e = cache_entry(hci, &raw->addr, now);
	e->seq = ++hci->scan_seq;
	e->last_seen_usec = now;
	e->rssi = raw->rssi;
	adv_data_merge(&e->ad, &ad);
	memcpy(e->data, raw->data, raw->data_len);
	e->data_len = raw->data_len;
	rep.addr = raw->addr;
	rep.rssi = raw->rssi;
	rep.connectable = hci_raw_report_connectable(ext, raw);
	rep.scan_rsp = hci_raw_report_is_scan_rsp(ext, raw);
	if (!rep.scan_rsp)
		e->connectable = rep.connectable;
	rep.ad = e->ad;
	rep.data = raw->data;
	rep.data_len = raw->data_len;
	tell_report(hci, &rep);
}

void hci_scan_report_event(struct hci_dev *hci, const struct hci_evt *ev)
{
	const uint8_t *p = ev->adv.data;
	size_t len = ev->adv.len;

	for (unsigned i = 0; i < ev->adv.num; i++) {
		struct hci_raw_report raw;

		if (hci_adv_report_next(ev->adv.ext, &p, &len, &raw) < 0) {
			hci_debug(hci, "HCI: truncated advertising report %u of %u dropped", i + 1,
				  ev->adv.num);
			return;
		}
		if (!hci_is_scanning(hci))
			return; /* nobody watches (any more): late reports are dropped */
		scan_one(hci, ev->adv.ext, &raw);
	}
}
