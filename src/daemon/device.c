/* device.c — devices otad knows, and the poll that reads their slots: open the transport, one
 * image state read, close. */
#include "daemon/device.h"
#include "daemon/manager.h"
#include "otad/bus-api.h"
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int device_new(struct manager *m, const char *name, const char *transport, struct device **ret)
{
	_cleanup_free_ char *enc = NULL;
	struct device *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->m = m;
	d->name = strdup(name);
	d->transport = strdup(transport);
	/* a BLE device is known by its address; others by their transport spec */
	d->address = strdup(strncmp(transport, "ble:", 4) == 0 ? transport + 4 : transport);
	if (!d->name || !d->transport || !d->address) {
		device_free(d);
		return -ENOMEM;
	}
	r = sd_bus_path_encode(OTAD_DEVICE_PATH_PREFIX, name, &enc);
	if (r < 0 || strlen(enc) >= sizeof(d->path)) {
		device_free(d);
		return r < 0 ? r : -ENAMETOOLONG;
	}
	snprintf(d->path, sizeof(d->path), "%s", enc);
	snprintf(d->verdict, sizeof(d->verdict), "unknown");
	snprintf(d->status, sizeof(d->status), "not polled yet");
	*ret = d;
	return 0;
}

static void poll_close_now(struct device *d)
{
	if (d->poll_id)
		smp_client_cancel(d->smp, d->poll_id);
	d->poll_id = 0;
	d->smp = smp_client_free(d->smp);
	d->poll_close = sd_event_source_disable_unref(d->poll_close);
	d->polling = false;
	if (d->poll_ctl) {
		d->poll_ctl = false;
		manager_controller_give_back_after(d->m, TAKE_PTR(d->tr));
	}
	d->tr = tr_free(d->tr);
}

struct device *device_free(struct device *d)
{
	if (!d)
		return NULL;
	poll_close_now(d);
	sd_event_source_disable_unref(d->poll_retry);
	free(d->name);
	free(d->transport);
	free(d->address);
	free(d->group);
	free(d);
	return NULL;
}

int device_set_group(struct device *d, const char *group)
{
	char *g = NULL;

	if (group && !(g = strdup(group)))
		return -ENOMEM;
	free(d->group);
	d->group = g;
	return 0;
}

void device_set_status(struct device *d, const char *verdict, const char *fmt, ...)
{
	char text[sizeof(d->status)], fields[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (strcmp(text, d->status) == 0 && strcmp(verdict, d->verdict) == 0)
		return;
	snprintf(d->status, sizeof(d->status), "%s", text);
	snprintf(d->verdict, sizeof(d->verdict), "%s", verdict);
	device_bus_emit(d, "Status", "Verdict", "TargetVersion", NULL);
	snprintf(fields, sizeof(fields), "DEVICE=%s\nOTAD_VERDICT=%s", d->name, verdict);
	log_fields(strcmp(verdict, "unreachable") == 0 ? LOG_LVL_WARN : LOG_LVL_INFO, fields,
		   "%s: %s", d->name, text);
}

const char *device_running_version(const struct device *d)
{
	const struct smp_slot_state *s;

	if (!d->has_slots)
		return NULL;
	s = smp_image_state_find(&d->slots, 0, 0);
	return s && s->version[0] ? s->version : NULL;
}

#define RETRY_FIRST_USEC (5 * USEC_PER_SEC)
#define RETRY_MAX_USEC	 (300 * USEC_PER_SEC) /* with PollInterval=0 */

static int on_poll_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	device_poll(userdata);
	return 0;
}

/* A device that did not answer (swapping after a reset, out of range, switched off) is read
 * again after 5 s, then at doubling intervals up to PollInterval=: its status must not say
 * unreachable for a whole PollInterval= once it answers again. */
static void schedule_retry(struct device *d)
{
	uint64_t cap = d->m->config->s.poll_interval_usec ? d->m->config->s.poll_interval_usec
							    : RETRY_MAX_USEC;
	uint64_t now = 0;

	if (!d->listed && !d->scanned)
		return;
	d->retry_usec = d->retry_usec ? MIN(2 * d->retry_usec, cap) : MIN(RETRY_FIRST_USEC, cap);
	sd_event_now(d->m->event, CLOCK_MONOTONIC, &now);
	if (!d->poll_retry) {
		if (sd_event_add_time(d->m->event, &d->poll_retry, CLOCK_MONOTONIC,
				      now + d->retry_usec, USEC_PER_SEC / 10, on_poll_retry, d) < 0)
			return;
	} else {
		sd_event_source_set_time(d->poll_retry, now + d->retry_usec);
	}
	sd_event_source_set_enabled(d->poll_retry, SD_EVENT_ONESHOT);
}

/* Closing frees the transport: never from inside its callbacks, hence the defer. */
static int on_poll_close(sd_event_source *s, void *userdata)
{
	struct device *d = userdata;

	poll_close_now(d);
	if (d->poll_ok) {
		d->retry_usec = 0;
		if (d->poll_retry)
			sd_event_source_set_enabled(d->poll_retry, SD_EVENT_OFF);
	} else {
		schedule_retry(d);
	}
	manager_device_polled(d->m, d);
	return 0;
}

static void poll_end(struct device *d)
{
	if (!d->poll_close && sd_event_add_defer(d->m->event, &d->poll_close, on_poll_close, d) < 0)
		d->polling = false;
}

static void on_poll_rsp(int err, const struct smp_rsp *rsp, void *user_data)
{
	struct device *d = user_data;
	struct smp_image_state st;
	const char *why = NULL;
	char buf[128];

	d->poll_id = 0;
	if (err == -ECANCELED)
		return;
	if (err < 0) {
		device_set_status(d, "unreachable", "unreachable: %s",
				  err == -ETIMEDOUT ? "no answer" : strerror(-err));
	} else if (smp_image_state_decode(rsp->body, rsp->body_len, &st, &why) < 0) {
		device_set_status(d, "unreachable", "malformed image state: %s", why);
	} else if (!smp_err_ok(&st.err)) {
		device_set_status(d, "unreachable", "image state: device answered %s",
				  smp_err_format(&st.err, buf, sizeof(buf)));
	} else {
		d->slots = st;
		d->has_slots = true;
		d->poll_ok = true;
		d->last_seen = manager_realtime();
		device_bus_emit(d, "Slots", "Version", "LastSeen", NULL);
	}
	poll_end(d);
}

static void on_poll_event(enum tr_event ev, int err, void *user_data)
{
	struct device *d = user_data;
	uint8_t body[8];
	int n = smp_empty_req_encode(body, sizeof(body)), e = 0;

	if (!d->polling || d->poll_close)
		return;
	if (ev == TR_EVENT_DOWN) {
		device_set_status(d, "unreachable", "unreachable: link down (%s)",
				  strerror(err < 0 ? -err : EIO));
		poll_end(d);
		return;
	}
	if (d->poll_id)
		return;
	d->poll_id = smp_client_request(d->smp, SMP_OP_READ, SMP_GROUP_IMAGE, SMP_IMG_STATE, body,
					(size_t)n, d->m->config->s.rsp_timeout_usec, on_poll_rsp, d,
					NULL, &e);
	if (!d->poll_id) {
		device_set_status(d, "unreachable", "unreachable: %s", strerror(-e));
		poll_end(d);
	}
}

static const struct smp_client_ops poll_ops = {.event = on_poll_event};

void device_poll(struct device *d)
{
	struct tr_options o = {.hci = d->m->config->s.controller, .bond_file = d->m->bond_path};
	int r;

	if (d->polling || d->job)
		return;
	if (transport_is_ble(d->transport)) {
		if (!manager_controller_take(d->m, CTL_POLL, d->name)) {
			d->poll_wanted = true;
			return;
		}
		d->poll_ctl = true;
	}
	d->poll_wanted = false;
	d->polling = true;
	d->poll_ok = false;
	sd_event_now(d->m->event, CLOCK_MONOTONIC, &d->polled_at);
	r = tr_open(d->m->event, d->transport, &o, &d->tr);
	if (r >= 0)
		r = smp_client_new(d->m->event, d->tr, &poll_ops, d, &d->smp);
	if (r < 0) {
		device_set_status(d, "unreachable", "cannot open %s: %s", d->transport,
				  strerror(-r));
		poll_end(d);
	}
}
