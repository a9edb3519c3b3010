/* hci-dev.c — the HCI core of one controller: driver I/O, the init sequence, command flow
 * control by Num_HCI_Command_Packets, event dispatch and the controller's facts. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/h4.h"
#include "bt/hci-conn.h"
#include "bt/hci-dev.h"
#include "bt/hci-driver.h"
#include "bt/hci-pkt.h"
#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"

#define HCI_CMD_TIMEOUT_USEC (5 * USEC_PER_SEC)

enum init_step {
	INIT_RESET,
	INIT_READ_VERSION,
	INIT_READ_COMMANDS,
	INIT_READ_FEATURES,
	INIT_READ_BD_ADDR,
	INIT_SET_EVENT_MASK,
	INIT_LE_READ_FEATURES,
	INIT_LE_SET_EVENT_MASK,
	INIT_LE_READ_STATES,
	INIT_LE_READ_BUFFER_SIZE,
	INIT_READ_BUFFER_SIZE,
	INIT_DONE,
};

static void init_next(struct hci_dev *hci);
static void hci_fatal(struct hci_dev *hci, int err);
static void close_finish(struct hci_dev *hci, int err);

void hci_debug(struct hci_dev *hci, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!hci->debug)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hci->debug(line, hci->debug_data);
}

void hci_dev_set_debug(struct hci_dev *hci, hci_debug_fn fn, void *user_data,
		       otad_destroy_fn destroy)
{
	if (hci->debug_destroy)
		hci->debug_destroy(hci->debug_data);
	hci->debug = fn;
	hci->debug_data = user_data;
	hci->debug_destroy = destroy;
}

sd_event *hci_get_event(const struct hci_dev *hci)
{
	return hci->event;
}

bool hci_has_command(const struct hci_dev *hci, unsigned bit)
{
	return bit / 8 < sizeof(hci->commands) && (hci->commands[bit / 8] >> (bit % 8)) & 1;
}

bool hci_has_le_feature(const struct hci_dev *hci, unsigned bit)
{
	return (hci->info.le_features >> bit) & 1;
}

/* ---- command flow control (Core 5.4 Vol 4 Part E 4.4) ---- */

static void cmd_timer_update(struct hci_dev *hci);

static int cmd_timeout(sd_event_source *s, uint64_t usec, void *user_data)
{
	struct hci_dev *hci = user_data;

	snprintf(hci->last_error, sizeof(hci->last_error), "%s: no answer from the controller",
		 hci->sent ? hci_opcode_name(hci->sent->opcode) : "HCI command");
	hci_fatal(hci, -ETIMEDOUT);
	return 0;
}

static void cmd_timer_update(struct hci_dev *hci)
{
	if (!hci->sent) {
		if (hci->cmd_timer)
			sd_event_source_set_enabled(hci->cmd_timer, SD_EVENT_OFF);
		return;
	}
	if (!hci->cmd_timer) {
		if (sd_event_add_time(hci->event, &hci->cmd_timer, CLOCK_MONOTONIC, 0, 0,
				      cmd_timeout, hci) < 0)
			return;
	}
	sd_event_source_set_time(hci->cmd_timer, hci->sent->sent_usec + HCI_CMD_TIMEOUT_USEC);
	sd_event_source_set_enabled(hci->cmd_timer, SD_EVENT_ONESHOT);
}

static void cmd_pump(struct hci_dev *hci)
{
	while (!hci->dead && hci->cmd_credits > 0 && hci->cmd_head) {
		struct hci_cmd *c = hci->cmd_head;
		uint8_t hdr[3];
		struct hci_cmd **tail;
		int r;

		hci->cmd_head = c->next;
		if (!hci->cmd_head)
			hci->cmd_tail = NULL;
		c->next = NULL;
		put_le16(hdr, c->opcode);
		hdr[2] = c->plen;
		r = hci_driver_send(hci->drv, H4_CMD, hdr, 3, c->params, c->plen);
		if (r < 0) {
			snprintf(hci->last_error, sizeof(hci->last_error), "sending %s failed: %s",
				 hci_opcode_name(c->opcode), strerror(-r));
			free(c);
			hci_fatal(hci, r);
			return;
		}
		sd_event_now(hci->event, CLOCK_MONOTONIC, &c->sent_usec);
		for (tail = &hci->sent; *tail; tail = &(*tail)->next)
			;
		*tail = c;
		hci->cmd_credits--;
	}
	cmd_timer_update(hci);
}

int hci_send_cmd(struct hci_dev *hci, uint16_t opcode, const uint8_t *params, uint8_t plen,
		 hci_cmd_fn fn, void *user_data)
{
	struct hci_cmd *c;

	if (hci->dead)
		return -ENOTCONN;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->opcode = opcode;
	c->plen = plen;
	if (plen)
		memcpy(c->params, params, plen);
	c->fn = fn;
	c->user_data = user_data;
	if (hci->cmd_tail)
		hci->cmd_tail->next = c;
	else
		hci->cmd_head = c;
	hci->cmd_tail = c;
	cmd_pump(hci);
	return 0;
}

static struct hci_cmd *cmd_take_sent(struct hci_dev *hci, uint16_t opcode)
{
	for (struct hci_cmd **pp = &hci->sent; *pp; pp = &(*pp)->next) {
		struct hci_cmd *c = *pp;

		if (c->opcode == opcode) {
			*pp = c->next;
			return c;
		}
	}
	return NULL;
}

static void cmd_done(struct hci_dev *hci, uint8_t ncmd, uint16_t opcode, uint8_t status,
		     const uint8_t *ret, size_t ret_len)
{
	struct hci_cmd *c;

	/* Num_HCI_Command_Packets is the number the host may send now (7.7.14) */
	hci->cmd_credits = ncmd;
	if (opcode == 0x0000) { /* controller ready for commands, answers nothing */
		cmd_pump(hci);
		return;
	}
	c = cmd_take_sent(hci, opcode);
	if (!c) {
		hci_debug(hci, "HCI: answer to 0x%04x (%s) that was not sent, dropped", opcode,
			  hci_opcode_name(opcode));
		cmd_pump(hci);
		return;
	}
	if (status) {
		hci_format_failure(opcode, status, hci->last_error, sizeof(hci->last_error));
		if (hci->cb.cmd_error)
			hci->cb.cmd_error(hci, opcode, status, hci->last_error, hci->user_data);
	}
	if (c->fn && !hci->dead)
		c->fn(hci, status, ret, ret_len, c->user_data);
	free(c);
	cmd_pump(hci);
}

static void cmd_free_all(struct hci_dev *hci)
{
	struct hci_cmd *lists[2] = {hci->cmd_head, hci->sent};

	for (int i = 0; i < 2; i++)
		while (lists[i]) {
			struct hci_cmd *c = lists[i];

			lists[i] = c->next;
			free(c);
		}
	hci->cmd_head = hci->cmd_tail = hci->sent = NULL;
}

/* ---- events ---- */

static void handle_le_meta(struct hci_dev *hci, const struct hci_evt *ev)
{
	switch (ev->subevent) {
	case HCI_LE_CONN_COMPLETE:
	case HCI_LE_ENH_CONN_COMPLETE:
		if (ev->conn.status == 0 && ev->conn.role == HCI_ROLE_PERIPHERAL) {
			struct hci_conn *c = hci_conn_new(hci, ev);

			if (c)
				hci_adv_conn_event(hci, c);
		} else {
			hci_connect_event(hci, ev);
		}
		break;
	case HCI_LE_ADV_REPORT:
	case HCI_LE_EXT_ADV_REPORT:
		hci_scan_report_event(hci, ev);
		break;
	default:
		hci_conn_le_event(hci, ev);
		break;
	}
}

static void handle_event(struct hci_dev *hci, const uint8_t *pkt, size_t len)
{
	struct hci_evt ev;
	struct hci_conn *c;
	int r = hci_evt_parse(pkt, len, &ev);

	if (r == -ENOENT) {
		hci_debug(hci, "HCI: unhandled event 0x%02x%s (%zu bytes) dropped", pkt[0],
			  pkt[0] == HCI_EV_LE_META ? " (LE subevent)" : "", len);
		return;
	}
	if (r < 0) {
		hci_debug(hci, "HCI: malformed event 0x%02x (%zu bytes) dropped", len ? pkt[0] : 0,
			  len);
		return;
	}
	switch (ev.code) {
	case HCI_EV_CMD_COMPLETE:
		cmd_done(hci, ev.cmd_complete.ncmd, ev.cmd_complete.opcode, ev.cmd_complete.status,
			 ev.cmd_complete.ret, ev.cmd_complete.ret_len);
		break;
	case HCI_EV_CMD_STATUS:
		cmd_done(hci, ev.cmd_status.ncmd, ev.cmd_status.opcode, ev.cmd_status.status, NULL,
			 0);
		break;
	case HCI_EV_DISCONN_COMPLETE:
		c = hci_conn_find(hci, ev.disconn.handle);
		if (ev.disconn.status || !c)
			hci_debug(hci, "HCI: Disconnection Complete status 0x%02x handle 0x%03x%s",
				  ev.disconn.status, ev.disconn.handle, c ? "" : " (unknown)");
		else
			hci_conn_gone(c, ev.disconn.reason);
		break;
	case HCI_EV_ENCRYPT_CHANGE:
	case HCI_EV_ENCRYPT_KEY_REFRESH:
		hci_conn_encrypt_event(hci, &ev);
		break;
	case HCI_EV_NUM_COMP_PKTS:
		hci_conn_credits(hci, &ev);
		break;
	case HCI_EV_HW_ERROR:
		snprintf(hci->last_error, sizeof(hci->last_error),
			 "controller reported Hardware Error 0x%02x", ev.hw_error.code);
		hci_fatal(hci, -EIO);
		break;
	case HCI_EV_LE_META:
		handle_le_meta(hci, &ev);
		break;
	}
}

static void drv_packet(uint8_t type, const uint8_t *pkt, size_t len, void *user_data)
{
	struct hci_dev *hci = user_data;

	if (hci->dead)
		return;
	if (type == H4_EVT)
		handle_event(hci, pkt, len);
	else if (type == H4_ACL)
		hci_conn_acl_in(hci, pkt, len);
	else
		hci_debug(hci, "HCI: packet type 0x%02x (%zu bytes) dropped", type, len);
}

static void drv_garbage(const char *what, void *user_data)
{
	hci_debug(user_data, "%s", what);
}

static void drv_error(int err, void *user_data)
{
	struct hci_dev *hci = user_data;

	snprintf(hci->last_error, sizeof(hci->last_error), "HCI driver failed: %s", strerror(-err));
	hci_fatal(hci, err);
}

static void drv_drained(void *user_data)
{
}

static void hci_fatal(struct hci_dev *hci, int err)
{
	bool was_ready = hci->ready;

	if (hci->dead)
		return;
	hci->dead = true;
	hci->ready = false;
	hci_debug(hci, "HCI: device failed: %s", hci->last_error);
	cmd_free_all(hci);
	cmd_timer_update(hci);
	hci_scan_abort(hci, -ENOTCONN);
	hci_adv_abort(hci, -ENOTCONN);
	hci_connect_abort(hci, -ENOTCONN);
	while (hci->conns)
		hci_conn_gone(hci->conns, 0x03); /* Hardware Failure */
	hci_dev_tell_watches(hci, err);
	if (hci->closing) {
		close_finish(hci, err); /* the owner let go: the close reports it */
	} else if (!was_ready && hci->init_step < INIT_DONE) {
		hci->init_step = INIT_DONE;
		if (hci->cb.ready)
			hci->cb.ready(hci, err, 0, hci->user_data);
	} else if (hci->cb.fatal) {
		hci->cb.fatal(hci, err, hci->user_data);
	}
}

/* ---- init sequence ---- */

static void init_failed(struct hci_dev *hci, uint8_t status)
{
	hci->init_step = INIT_DONE;
	hci->dead = true;
	hci_dev_tell_watches(hci, -EIO);
	if (hci->cb.ready)
		hci->cb.ready(hci, -EIO, status, hci->user_data);
}

static void init_buffers(struct hci_dev *hci, uint16_t op, const uint8_t *ret, size_t len)
{
	if (op == HCI_OP_READ_BUFFER_SIZE && len >= 8) { /* 7.4.5: shared BR/EDR buffers */
		hci->acl_mtu = get_le16(ret + 1);
		hci->acl_total = get_le16(ret + 4);
	} else if (op != HCI_OP_READ_BUFFER_SIZE && len >= 4) { /* 7.8.2 (v1 and v2) */
		hci->acl_mtu = get_le16(ret + 1);
		hci->acl_total = ret[3];
	}
	hci->acl_free = hci->acl_total;
}

static void init_result(struct hci_dev *hci, uint8_t status, const uint8_t *ret, size_t len,
			void *user_data)
{
	uint16_t op = (uint16_t)(uintptr_t)user_data;

	if (status && op == HCI_OP_LE_READ_BUFFER_SIZE_V2) {
		hci_debug(hci, "HCI: LE Read Buffer Size v2 failed, using v1");
		hci_send_cmd(hci, HCI_OP_LE_READ_BUFFER_SIZE, NULL, 0, init_result,
			     (void *)(uintptr_t)HCI_OP_LE_READ_BUFFER_SIZE);
		return;
	}
	if (status)
		return init_failed(hci, status);
	switch (op) {
	case HCI_OP_READ_LOCAL_VERSION: /* 7.4.1 */
		if (len >= 9) {
			hci->info.hci_version = ret[1];
			hci->info.manufacturer = get_le16(ret + 5);
		}
		break;
	case HCI_OP_READ_LOCAL_COMMANDS: /* 7.4.2; without return parameters: none known */
		if (len >= 1)
			memcpy(hci->commands, ret + 1, MIN(len - 1, sizeof(hci->commands)));
		break;
	case HCI_OP_READ_LOCAL_FEATURES: /* 7.4.3 */
		if (len >= 1)
			memcpy(hci->features, ret + 1, MIN(len - 1, sizeof(hci->features)));
		break;
	case HCI_OP_READ_BD_ADDR: /* 7.4.6 */
		if (len >= 7)
			memcpy(hci->info.addr.b, ret + 1, 6);
		break;
	case HCI_OP_LE_READ_LOCAL_FEATURES: /* 7.8.3 */
		if (len >= 9)
			hci->info.le_features =
				(uint64_t)get_le32(ret + 1) | (uint64_t)get_le32(ret + 5) << 32;
		break;
	case HCI_OP_LE_READ_SUPPORTED_STATES: /* 7.8.27 */
		if (len >= 9)
			hci->le_states = (uint64_t)get_le32(ret + 1) | (uint64_t)get_le32(ret + 5)
									       << 32;
		break;
	case HCI_OP_LE_READ_BUFFER_SIZE:
	case HCI_OP_LE_READ_BUFFER_SIZE_V2:
	case HCI_OP_READ_BUFFER_SIZE:
		init_buffers(hci, op, ret, len);
		/* 7.8.2: zero LE buffers mean the LE traffic shares Read Buffer Size's */
		if (op != HCI_OP_READ_BUFFER_SIZE && (!hci->acl_mtu || !hci->acl_total))
			break;
		hci->init_step = INIT_READ_BUFFER_SIZE;
		break;
	}
	hci->init_step++;
	init_next(hci);
}

static void init_finish(struct hci_dev *hci)
{
	struct hci_dev_info *i = &hci->info;

	if (!hci->acl_mtu || !hci->acl_total) {
		snprintf(hci->last_error, sizeof(hci->last_error),
			 "controller reports no ACL buffers (%u x %u)", hci->acl_total,
			 hci->acl_mtu);
		hci->init_step = INIT_DONE;
		hci->dead = true;
		hci_dev_tell_watches(hci, -ENOBUFS);
		if (hci->cb.ready)
			hci->cb.ready(hci, -ENOBUFS, 0, hci->user_data);
		return;
	}
	i->ext_scan = hci_has_le_feature(hci, LE_FEAT_EXT_ADV) &&
		      hci_has_command(hci, HCI_CMDBIT_LE_SET_EXT_SCAN_PARAMS) &&
		      hci_has_command(hci, HCI_CMDBIT_LE_SET_EXT_SCAN_ENABLE) &&
		      hci_has_command(hci, HCI_CMDBIT_LE_EXT_CREATE_CONN);
	i->data_len_ext = hci_has_le_feature(hci, LE_FEAT_DATA_LEN_EXT) &&
			  hci_has_command(hci, HCI_CMDBIT_LE_SET_DATA_LENGTH);
	i->le_2m_phy = hci_has_le_feature(hci, LE_FEAT_2M_PHY) &&
		       hci_has_command(hci, HCI_CMDBIT_LE_SET_PHY);
	i->scan_while_connecting = (hci->le_states >> LE_STATE_ACTIVE_SCAN_INITIATING) & 1;
	hci->ready = true;
	hci_debug(hci, "HCI: ready: version %u, manufacturer %u, LE ACL %u x %u bytes%s%s%s%s",
		  i->hci_version, i->manufacturer, hci->acl_total, hci->acl_mtu,
		  i->ext_scan ? ", extended scanning" : "", i->data_len_ext ? ", DLE" : "",
		  i->le_2m_phy ? ", 2M PHY" : "",
		  i->scan_while_connecting ? ", scanning while connecting" : "");
	hci_dev_tell_watches(hci, 0);
	if (hci->cb.ready)
		hci->cb.ready(hci, 0, 0, hci->user_data);
}

static void init_next(struct hci_dev *hci)
{
	uint8_t p[8];
	uint16_t op;
	uint8_t plen = 0;

	if (hci->init_step == INIT_LE_READ_STATES &&
	    !hci_has_command(hci, HCI_CMDBIT_LE_READ_SUPPORTED_STATES))
		hci->init_step++; /* optional (7.8.27): scanning paused for every connection then */
	switch (hci->init_step) {
	case INIT_RESET:
		op = HCI_OP_RESET;
		break;
	case INIT_READ_VERSION:
		op = HCI_OP_READ_LOCAL_VERSION;
		break;
	case INIT_READ_COMMANDS:
		op = HCI_OP_READ_LOCAL_COMMANDS;
		break;
	case INIT_READ_FEATURES:
		op = HCI_OP_READ_LOCAL_FEATURES;
		break;
	case INIT_READ_BD_ADDR:
		op = HCI_OP_READ_BD_ADDR;
		break;
	case INIT_SET_EVENT_MASK: /* 7.3.1 */
		op = HCI_OP_SET_EVENT_MASK;
		put_le32(p, (uint32_t)HCI_EVENT_MASK);
		put_le32(p + 4, (uint32_t)(HCI_EVENT_MASK >> 32));
		plen = 8;
		break;
	case INIT_LE_READ_FEATURES:
		op = HCI_OP_LE_READ_LOCAL_FEATURES;
		break;
	case INIT_LE_READ_STATES:
		op = HCI_OP_LE_READ_SUPPORTED_STATES;
		break;
	case INIT_LE_SET_EVENT_MASK: /* 7.8.1 */
		op = HCI_OP_LE_SET_EVENT_MASK;
		put_le32(p, (uint32_t)HCI_LE_EVENT_MASK_EXT);
		put_le32(p + 4, (uint32_t)(HCI_LE_EVENT_MASK_EXT >> 32));
		plen = 8;
		break;
	case INIT_LE_READ_BUFFER_SIZE:
		op = hci_has_command(hci, HCI_CMDBIT_LE_READ_BUFFER_SIZE_V2)
			     ? HCI_OP_LE_READ_BUFFER_SIZE_V2
			     : HCI_OP_LE_READ_BUFFER_SIZE;
		break;
	case INIT_READ_BUFFER_SIZE:
		op = HCI_OP_READ_BUFFER_SIZE;
		break;
	default:
		init_finish(hci);
		return;
	}
	if (hci_send_cmd(hci, op, p, plen, init_result, (void *)(uintptr_t)op) < 0)
		hci_fatal(hci, -ENOMEM);
}

/* ---- watches of the device ---- */

struct hci_dev_watch {
	struct hci_dev_watch *next;
	unsigned id;
	bool removed;
	hci_dev_state_fn fn;
	void *user_data;
	otad_destroy_fn destroy;
};

static void dev_watch_free(struct hci_dev_watch *w)
{
	if (w->destroy)
		w->destroy(w->user_data);
	free(w);
}

static void dev_watches_reap(struct hci_dev *hci)
{
	for (struct hci_dev_watch **pp = &hci->watches; *pp;) {
		struct hci_dev_watch *w = *pp;

		if (w->removed) {
			*pp = w->next;
			dev_watch_free(w);
		} else {
			pp = &w->next;
		}
	}
}

static void dev_watches_free(struct hci_dev *hci)
{
	for (struct hci_dev_watch *w = hci->watches; w; w = w->next)
		w->removed = true;
	dev_watches_reap(hci);
}

void hci_dev_tell_watches(struct hci_dev *hci, int err)
{
	if (hci->watch_told_err || hci->freeing)
		return;
	hci->watch_told_err = err < 0;
	hci->watch_telling++;
	for (struct hci_dev_watch *w = hci->watches; w; w = w->next)
		if (!w->removed && w->fn)
			w->fn(hci, err, w->user_data);
	if (--hci->watch_telling == 0)
		dev_watches_reap(hci);
}

unsigned hci_dev_watch(struct hci_dev *hci, hci_dev_state_fn fn, void *user_data,
		       otad_destroy_fn destroy)
{
	struct hci_dev_watch *w = calloc(1, sizeof(*w)), **pp;

	if (!w)
		return 0;
	w->id = ++hci->watch_id ? hci->watch_id : ++hci->watch_id;
	w->fn = fn;
	w->user_data = user_data;
	w->destroy = destroy;
	for (pp = &hci->watches; *pp; pp = &(*pp)->next)
		;
	*pp = w;
	return w->id;
}

bool hci_dev_unwatch(struct hci_dev *hci, unsigned id)
{
	for (struct hci_dev_watch *w = hci->watches; w; w = w->next) {
		if (w->id != id || w->removed)
			continue;
		w->removed = true;
		if (!hci->watch_telling)
			dev_watches_reap(hci);
		return true;
	}
	return false;
}

/* ---- object ---- */

int hci_dev_new(sd_event *e, const char *spec, const struct hci_dev_callbacks *cb, void *user_data,
		otad_destroy_fn destroy, struct hci_dev **ret)
{
	static const struct hci_driver_callbacks drv_cb = {
		.packet = drv_packet,
		.garbage = drv_garbage,
		.error = drv_error,
		.drained = drv_drained,
	};
	struct hci_dev *hci;
	int r;

	hci = calloc(1, sizeof(*hci));
	if (!hci)
		return -ENOMEM;
	hci->ref = 1;
	hci->event = sd_event_ref(e);
	if (cb)
		hci->cb = *cb;
	hci->cmd_credits = 1; /* Core 5.4 Vol 4 Part E 4.4: one command before the first event */
	hci->info.addr.type = BT_ADDR_LE_PUBLIC;
	r = hci_driver_open(e, spec, &drv_cb, hci, &hci->drv);
	if (r < 0) {
		sd_event_unref(hci->event);
		free(hci);
		return r;
	}
	hci->user_data = user_data;
	hci->destroy = destroy;
	init_next(hci);
	*ret = hci;
	return 0;
}

/* The Disconnect for handle went to the controller already. */
static bool disconnect_sent(const struct hci_dev *hci, uint16_t handle)
{
	for (const struct hci_cmd *c = hci->sent; c; c = c->next)
		if (c->opcode == HCI_OP_DISCONNECT && get_le16(c->params) == handle)
			return true;
	return false;
}

/* A controller outlives this host: a dongle keeps a link up until the supervision timeout, and
 * BlueZ's emulator drops a vanished client's links without telling the peer. So tell it to
 * drop ours (Core 5.4 Vol 4 Part E 7.1.6), at once, past command flow control: nothing will
 * read the answer. */
static void disconnect_all_now(struct hci_dev *hci)
{
	for (struct hci_conn *c = hci->conns; c; c = c->next) {
		uint8_t hdr[3], p[3];

		if (!c->info.connected || disconnect_sent(hci, c->info.handle))
			continue;
		put_le16(hdr, HCI_OP_DISCONNECT);
		hdr[2] = sizeof(p);
		put_le16(p, c->info.handle);
		p[2] = c->disc_reason ? c->disc_reason : HCI_ERR_REMOTE_USER_TERM;
		(void)hci_driver_send(hci->drv, H4_CMD, hdr, sizeof(hdr), p, sizeof(p));
	}
}

/* ---- letting go ---- */

static void close_finish(struct hci_dev *hci, int err)
{
	if (!hci->closing || hci->close_done || hci->freeing)
		return;
	hci->close_done = true;
	hci->close_err = err;
	(void)sd_event_source_set_enabled(hci->close_timer, SD_EVENT_OFF);
	(void)sd_event_source_set_enabled(hci->close_defer, SD_EVENT_ONESHOT);
}

void hci_close_check(struct hci_dev *hci)
{
	if (hci->closing && !hci->conns && !hci->connecting) {
		hci_debug(hci, "HCI: closing: no link left");
		close_finish(hci, 0);
	}
}

static int on_close_timeout(sd_event_source *s, uint64_t usec, void *user_data)
{
	struct hci_dev *hci = user_data;
	unsigned n = 0;

	for (const struct hci_conn *c = hci->conns; c; c = c->next)
		n++;
	hci_debug(hci, "HCI: closing: %u link(s)%s not confirmed gone in time", n,
		  hci->connecting ? " and a connection attempt" : "");
	close_finish(hci, -ETIMEDOUT);
	return 0;
}

static int on_close_done(sd_event_source *s, void *user_data)
{
	struct hci_dev *hci = user_data;
	otad_destroy_fn destroy = hci->close_destroy;
	hci_close_fn fn = hci->close_fn;
	void *data = hci->close_data;

	hci->close_fn = NULL;
	hci->close_destroy = NULL;
	if (fn)
		fn(hci, hci->close_err, data); /* may free hci */
	if (destroy)
		destroy(data);
	return 0;
}

/* Ends everything the controller does for us; the links end with Disconnection Complete. */
static void close_activity(struct hci_dev *hci)
{
	unsigned n = 0;

	hci_scan_abort(hci, 0);
	hci_scan_update(hci); /* off */
	if (hci->adv_armed)
		(void)hci_adv_stop(hci);
	hci_connect_disown(hci);
	for (struct hci_conn *c = hci->conns, *next; c && !hci->dead; c = next) {
		next = c->next;
		if (c->info.connected && !c->disc_reason) {
			(void)hci_conn_disconnect(c, 0);
			n++;
		}
	}
	hci_debug(hci, "HCI: closing: disconnecting %u link(s)", n);
}

int hci_dev_close(struct hci_dev *hci, uint64_t timeout_usec, hci_close_fn fn, void *user_data,
		  otad_destroy_fn destroy)
{
	uint64_t now = 0;
	int r;

	if (hci->closing)
		return -EALREADY;
	(void)sd_event_now(hci->event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_defer(hci->event, &hci->close_defer, on_close_done, hci);
	if (r >= 0)
		r = sd_event_source_set_enabled(hci->close_defer, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time(hci->event, &hci->close_timer, CLOCK_MONOTONIC,
				      now + timeout_usec, 0, on_close_timeout, hci);
	if (r < 0) {
		hci->close_defer = sd_event_source_disable_unref(hci->close_defer);
		return r;
	}
	hci->closing = true;
	hci->cb.ready = NULL; /* the close reports the end */
	hci->cb.fatal = NULL;
	hci->close_fn = fn;
	hci->close_data = user_data;
	hci->close_destroy = destroy;
	hci_dev_tell_watches(hci, -ESHUTDOWN); /* borrowers let go of their links now */
	if (!hci->dead)
		close_activity(hci);
	if (hci->dead)
		close_finish(hci, 0);
	hci_close_check(hci);
	return 0;
}

/* Ends the device for every user; the memory stays until the last ref goes. */
static void dev_teardown(struct hci_dev *hci)
{
	if (!hci->dead)
		disconnect_all_now(hci);
	hci->dead = true;
	hci->freeing = true;
	hci->cb = (struct hci_dev_callbacks){0};
	cmd_free_all(hci);
	hci_scan_abort(hci, -ECANCELED);
	hci_adv_abort(hci, -ECANCELED);
	hci_connect_abort(hci, -ECANCELED);
	while (hci->conns)
		hci_conn_gone(hci->conns, HCI_ERR_LOCAL_HOST_TERM);
	hci->cmd_timer = sd_event_source_disable_unref(hci->cmd_timer);
	hci->close_timer = sd_event_source_disable_unref(hci->close_timer);
	hci->close_defer = sd_event_source_disable_unref(hci->close_defer);
	if (hci->close_destroy)
		hci->close_destroy(hci->close_data);
	hci->drv = hci_driver_free(hci->drv);
	if (hci->destroy)
		hci->destroy(hci->user_data);
	hci->destroy = NULL;
	if (hci->debug_destroy)
		hci->debug_destroy(hci->debug_data);
	hci->debug = NULL;
	hci->debug_destroy = NULL;
	dev_watches_free(hci);
	hci_scan_free_watches(hci);
	hci_connect_free_queue(hci);
}

struct hci_dev *hci_dev_free(struct hci_dev *hci)
{
	if (!hci)
		return NULL;
	dev_teardown(hci);
	return hci_dev_unref(hci);
}

struct hci_dev *hci_dev_ref(struct hci_dev *hci)
{
	if (hci)
		hci->ref++;
	return hci;
}

struct hci_dev *hci_dev_unref(struct hci_dev *hci)
{
	if (!hci || --hci->ref > 0)
		return NULL;
	if (!hci->freeing)
		dev_teardown(hci); /* the last user let go without hci_dev_free() */
	sd_event_unref(hci->event);
	free(hci);
	return NULL;
}

bool hci_dev_is_ready(const struct hci_dev *hci)
{
	return hci->ready && !hci->dead;
}

const char *hci_dev_last_error(const struct hci_dev *hci)
{
	return hci->last_error;
}

void hci_dev_get_info(const struct hci_dev *hci, struct hci_dev_info *ret)
{
	*ret = hci->info;
}

void hci_dev_get_flow(const struct hci_dev *hci, struct hci_flow *ret)
{
	ret->acl_mtu = hci->acl_mtu;
	ret->acl_total = hci->acl_total;
	ret->acl_free = hci->acl_free;
	ret->acl_peak = hci->acl_peak;
}
