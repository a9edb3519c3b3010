/* ble.c — BLE peripheral front end of the simulated device (Zephyr smp_svr over smp_bt). */
#include "sim/ble.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otad/bt-sm.h"
#include "otad/bt.h"
#include "otad/reasm.h"
#include "util/macro.h"

/* Core 5.4 Vol 1 Part F: the reasons a host may give for disconnecting. */
#define REASON_POWER_OFF 0x15 /* the device resets */
#define REASON_USER_TERM 0x13 /* the --disconnect-at fault */
#define SIM_BONDS	 4    /* Zephyr's CONFIG_BT_MAX_PAIRED default is 1; a few for tests */

struct sim_bond {
	struct bt_addr peer;
	struct sm_ltk ltk;
};

struct sim_ble {
	sd_event *event;
	struct sim_server *server;
	struct sim_port *port;
	char *name;
	uint16_t att_mtu;
	struct sim_ble_ops ops;
	void *user_data;

	struct hci_dev *hci;
	bool hci_ready, device_up;
	char address[BT_ADDR_STRLEN];
	struct hci_conn *conn;
	struct gatt_server *gs;
	struct sm *sm;
	struct sm_config sm_cfg;
	bool smp;
	uint8_t security;
	struct sim_bond bonds[SIM_BONDS];
	unsigned n_bonds, next_bond;
	bool forget_bonds;
	bool closing; /* we disconnect (reset, fault): the link's traffic is over */
	struct reasm *rx;
};

static void blog(struct sim_ble *b, char level, const char *fmt, ...) _printf_(3, 4);
static void blog(struct sim_ble *b, char level, const char *fmt, ...)
{
	char text[300];
	va_list ap;

	if (!b->ops.log)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	b->ops.log(level, text, b->user_data);
}

static void on_accept(struct hci_dev *hci, int err, struct hci_conn *conn, void *user_data);

static void advertise(struct sim_ble *b)
{
	const struct hci_adv_params ap = {.name = b->name, .uuid = &bt_uuid_smp_service};
	int r;

	if (!b->hci_ready || !hci_dev_is_ready(b->hci) || !b->device_up || b->conn ||
	    hci_is_advertising(b->hci))
		return;
	r = hci_adv_start(b->hci, &ap, on_accept, b, NULL);
	if (r < 0 && r != -EBUSY)
		blog(b, 'E', "ble: cannot advertise: %s", strerror(-r));
}

/* We end the link (reset, fault): its traffic is over from now on. */
static void hang_up(struct sim_ble *b, uint8_t reason)
{
	reasm_reset(b->rx);
	if (!b->conn || b->closing)
		return;
	b->closing = true;
	if (hci_conn_disconnect(b->conn, reason) < 0)
		blog(b, 'W', "ble: disconnect: %s", hci_dev_last_error(b->hci));
}

/* ---- GATT ------------------------------------------------------------------------------- */

static void on_write(struct gatt_server *s, const uint8_t *value, size_t len, void *user_data)
{
	struct sim_ble *b = user_data;

	if (b->closing || s != b->gs)
		return; /* the link is going: like Zephyr, nothing of it is processed any more */
	reasm_feed(b->rx, value, len);
}

static void on_subscribed(struct gatt_server *s, bool enabled, void *user_data)
{
	struct sim_ble *b = user_data;

	blog(b, 'I', "ble: notifications %s (ATT MTU %u)", enabled ? "enabled" : "disabled",
	     gatt_server_mtu(s));
}

static void on_disconnected(struct hci_conn *conn, uint8_t reason, void *user_data)
{
	struct sim_ble *b = user_data;
	bool ours = b->closing;

	if (conn != b->conn)
		return;
	b->gs = gatt_server_free(b->gs); /* the connection's callback: allowed */
	b->sm = sm_free(b->sm);
	b->conn = NULL;
	b->closing = false;
	reasm_reset(b->rx);
	blog(b, 'I', "ble: disconnected: 0x%02x %s", reason, hci_strerror(reason));
	/* When we hung up, whoever made us did tell the server already. */
	if (!ours)
		sim_server_port_disconnected(b->server, b->port, "central");
	advertise(b); /* hci_adv resumes by itself while armed; this covers a start deferred */
}

/* ---- security ---------------------------------------------------------------------------- */

static struct sim_bond *bond_of(struct sim_ble *b, const struct bt_addr *peer)
{
	for (unsigned i = 0; i < b->n_bonds; i++)
		if (!memcmp(&b->bonds[i].peer, peer, sizeof(*peer)))
			return &b->bonds[i];
	return NULL;
}

static void on_passkey_display(struct sm *sm, uint32_t passkey, void *user_data)
{
	blog(user_data, 'I', "ble: passkey %06u", passkey); /* Zephyr's auth_passkey_display */
}

static void on_security(struct sm *sm, int err, const struct sm_result *r, void *user_data)
{
	struct sim_ble *b = user_data;
	struct hci_conn_info ci;
	struct sim_bond *bond;

	if (err) {
		blog(b, 'W', "ble: pairing failed: %s",
		     r->why && *r->why ? r->why : strerror(-err));
		return;
	}
	blog(b, 'I', "ble: link encrypted, security level %u (%s)", r->level,
	     r->paired ? (r->bonded ? "bonded" : "paired") : "bond");
	if (!r->bonded || !r->keys.has_ltk)
		return;
	hci_conn_get_info(sm_get_conn(sm), &ci);
	bond = bond_of(b, &ci.peer);
	if (!bond) { /* the oldest gives way */
		bond = &b->bonds[b->next_bond];
		b->next_bond = (b->next_bond + 1) % SIM_BONDS;
		b->n_bonds = MIN(b->n_bonds + 1, (unsigned)SIM_BONDS);
	}
	bond->peer = ci.peer;
	bond->ltk = r->keys.ltk;
}

static int attach_sm(struct sim_ble *b, struct hci_conn *conn, const struct bt_addr *peer)
{
	static const struct sm_callbacks cb = {.passkey_display = on_passkey_display,
					       .security_changed = on_security};
	struct sim_bond *bond = bond_of(b, peer);
	int r;

	if (!b->smp)
		return 0;
	r = sm_new(conn, &b->sm_cfg, &cb, b, NULL, &b->sm);
	if (r == 0 && bond)
		sm_set_ltk(b->sm, &bond->ltk);
	return r;
}

int sim_ble_io_cap_from_str(const char *s)
{
	static const char *const names[] = {
		[SM_IO_DISPLAY_ONLY] = "display",
		[SM_IO_DISPLAY_YES_NO] = "yesno",
		[SM_IO_KEYBOARD_ONLY] = "keyboard",
		[SM_IO_NO_INPUT_NO_OUTPUT] = "none",
		[SM_IO_KEYBOARD_DISPLAY] = "keyboard-display",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -EINVAL;
}

static void on_accept(struct hci_dev *hci, int err, struct hci_conn *conn, void *user_data)
{
	static const struct hci_conn_callbacks conn_cb = {.disconnected = on_disconnected};
	static const struct gatt_server_callbacks gatt_cb = {.write = on_write,
							     .subscribed = on_subscribed};
	struct sim_ble *b = user_data;
	struct gatt_server_params gp = {b->name, &bt_uuid_smp_service, &bt_uuid_smp_char,
					b->att_mtu, b->security};
	struct hci_conn_info ci;
	char a[BT_ADDR_STRLEN];
	int r;

	if (err) {
		if (!b->hci_ready)
			return; /* the controller died: fatal says so */
		blog(b, 'E', "ble: advertising failed: %s", hci_dev_last_error(hci));
		return;
	}
	hci_conn_get_info(conn, &ci);
	if (b->conn || !b->device_up) {
		blog(b, 'W', "ble: connection from %s refused", bt_addr_to_str(&ci.peer, a));
		(void)hci_conn_disconnect(conn, REASON_USER_TERM);
		return;
	}
	b->conn = conn;
	b->closing = false;
	reasm_reset(b->rx);
	hci_conn_set_callbacks(conn, &conn_cb, b, NULL);
	r = attach_sm(b, conn, &ci.peer);
	if (r < 0) {
		blog(b, 'E', "ble: Security Manager: %s", strerror(-r));
		hang_up(b, REASON_USER_TERM);
		return;
	}
	r = gatt_server_new(conn, &gp, &gatt_cb, b, NULL, &b->gs);
	if (r < 0) {
		blog(b, 'E', "ble: GATT server: %s", strerror(-r));
		hang_up(b, REASON_USER_TERM);
		return;
	}
	blog(b, 'I', "ble: connected to %s", bt_addr_to_str(&ci.peer, a));
}

/* ---- the port --------------------------------------------------------------------------- */

/* A response reached the client: notifications of ATT_MTU - 3 (Zephyr smp_bt_tx_pkt). */
static void port_send(const uint8_t *pkt, size_t len, const void *peer, size_t peer_len,
		      void *user_data)
{
	struct sim_ble *b = user_data;
	size_t max;
	int r = 0;

	if (!b->gs || b->closing) /* the server drops answers to a dead link before this */
		return;
	if (!gatt_server_is_subscribed(b->gs)) {
		blog(b, 'W', "ble: response of %zu bytes dropped: notifications are off", len);
		return;
	}
	max = gatt_server_max_notify(b->gs);
	for (size_t off = 0; off < len && r >= 0; off += max)
		r = gatt_server_notify(b->gs, pkt + off, MIN(max, len - off));
	if (r < 0)
		blog(b, 'W', "ble: notification failed: %s", strerror(-r));
}

static void port_down(void *user_data)
{
	struct sim_ble *b = user_data;
	bool linked = b->conn && !b->closing;

	b->device_up = false;
	if (b->hci_ready) /* also when armed while connected: no advertising after the link */
		(void)hci_adv_stop(b->hci);
	if (linked) {
		sim_server_port_disconnected(b->server, b->port, "reset");
		hang_up(b, REASON_POWER_OFF);
	}
}

static void port_up(void *user_data)
{
	struct sim_ble *b = user_data;

	if (b->forget_bonds && b->n_bonds) { /* the RAM that held them was reset */
		explicit_bzero(b->bonds, sizeof(b->bonds));
		blog(b, 'W', "ble: %u bond%s lost at boot (--forget-bonds)", b->n_bonds,
		     b->n_bonds == 1 ? "" : "s");
		b->n_bonds = b->next_bond = 0;
	}
	b->device_up = true;
	advertise(b);
}

static void port_disconnect(void *user_data)
{
	hang_up(user_data, REASON_USER_TERM);
}

/* ---- controller ------------------------------------------------------------------------- */

static void on_ready(struct hci_dev *hci, int err, uint8_t status, void *user_data)
{
	struct sim_ble *b = user_data;
	struct hci_dev_info info;
	char why[200];

	if (err) {
		snprintf(why, sizeof(why), "controller: %s",
			 hci_dev_last_error(hci)[0] ? hci_dev_last_error(hci) : strerror(-err));
		if (b->ops.fatal)
			b->ops.fatal(why, b->user_data);
		return;
	}
	b->hci_ready = true;
	hci_dev_get_info(hci, &info);
	bt_addr_to_str(&info.addr, b->address);
	if (b->ops.ready)
		b->ops.ready(b->address, b->user_data);
	advertise(b);
}

static void on_fatal(struct hci_dev *hci, int err, void *user_data)
{
	struct sim_ble *b = user_data;
	char why[200];

	b->hci_ready = false;
	snprintf(why, sizeof(why), "controller failed: %s", hci_dev_last_error(hci));
	if (b->ops.fatal)
		b->ops.fatal(why, b->user_data);
}

static void on_rx_packet(const uint8_t *pkt, size_t len, void *user_data)
{
	struct sim_ble *b = user_data;

	sim_server_receive(b->server, b->port, pkt, len, NULL, 0);
}

static void on_rx_discard(const char *why, void *user_data)
{
	blog(user_data, 'W', "ble: write dropped: %s", why);
}

int sim_ble_new(sd_event *e, struct sim_server *s, const struct sim_ble_params *p,
		const struct sim_ble_ops *ops, void *user_data, struct sim_ble **ret)
{
	static const struct hci_dev_callbacks hci_cb = {.ready = on_ready, .fatal = on_fatal};
	static const struct sim_port_ops port_ops = {
		.send = port_send, .down = port_down, .up = port_up, .disconnect = port_disconnect};
	static const struct reasm_ops rx_ops = {.packet = on_rx_packet, .discard = on_rx_discard};
	/* Zephyr's reassembly; a packet larger than buf_size is dropped by the server, traced */
	const struct reasm_params rp = {.strict = true};
	struct sim_ble *b;
	int r;

	if (hci_spec_check(p->hci) < 0 || !p->name || !*p->name ||
	    (p->att_mtu && (p->att_mtu < ATT_MIN_MTU || p->att_mtu > 517)) ||
	    p->security > SM_LEVEL_SC || p->io_cap > SM_IO_KEYBOARD_DISPLAY || p->passkey > 999999)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->event = sd_event_ref(e);
	b->server = s;
	b->att_mtu = p->att_mtu;
	b->smp = p->smp;
	b->security = p->security;
	b->forget_bonds = p->forget_bonds;
	/* Zephyr's defaults: bondable, legacy pairing accepted (no CONFIG_BT_SMP_SC_ONLY); what
	 * the characteristic needs is checked by the GATT server, not at pairing */
	b->sm_cfg = (struct sm_config){.io_cap = p->io_cap,
				       .bonding = true,
				       .legacy = true,
				       .min_key_size = 7,
				       .fixed_passkey = p->fixed_passkey,
				       .passkey = p->passkey};
	if (ops)
		b->ops = *ops;
	b->user_data = user_data;
	b->name = strdup(p->name);
	b->rx = reasm_new(&rp, &rx_ops, b);
	r = b->name && b->rx ? 0 : -ENOMEM;
	if (r == 0)
		r = sim_server_add_port(s, &port_ops, b, 0, &b->port);
	if (r == 0)
		r = hci_dev_new(e, p->hci, &hci_cb, b, NULL, &b->hci);
	if (r < 0) {
		b->hci = NULL;
		sim_ble_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

struct sim_ble *sim_ble_free(struct sim_ble *b)
{
	if (!b)
		return NULL;
	if (b->conn && hci_conn_is_connected(b->conn))
		(void)hci_conn_disconnect(b->conn, REASON_POWER_OFF);
	gatt_server_free(b->gs);
	sm_free(b->sm);
	hci_dev_free(b->hci);
	reasm_free(b->rx);
	sd_event_unref(b->event);
	free(b->name);
	explicit_bzero(b->bonds, sizeof(b->bonds));
	free(b);
	return NULL;
}
