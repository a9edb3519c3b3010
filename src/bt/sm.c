/* sm.c — the Security Manager of one LE link (Core 5.4 Vol 3 Part H): owns the SMP channel
 * (L2CAP CID 0x0006), runs a pairing session (sm-session.c) as initiator or responder, encrypts
 * the link with the HCI commands of hci-conn.c, answers the controller's key requests, handles
 * the Security Request, and keeps the SMP timeout (3.4). Ends are reported from the loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/hci-conn.h"
#include "bt/hci-dev.h"
#include "bt/l2cap.h"
#include "bt/sm-pdu.h"
#include "bt/sm-session.h"
#include "otad/bt-hci.h"
#include "otad/bt-sm.h"
#include "otad/bt.h"
#include "util/macro.h"

#define SM_TIMEOUT_USEC (30 * USEC_PER_SEC) /* 3.4 */

enum sm_op {
	OP_NONE,
	OP_PAIRING,    /* a session runs */
	OP_ENCRYPTING, /* central: encrypting with the stored key */
	OP_SECREQ,     /* peripheral: Security Request sent, waiting for the central */
};

struct sm {
	struct hci_conn *conn;
	unsigned chan, disc_watch, enc_watch, ltk_watch;
	struct sm_config cfg;
	struct sm_callbacks cb;
	void *user_data;
	otad_destroy_fn destroy;

	enum sm_op op;
	uint8_t want_level;
	struct sm_session *sess;
	bool has_ltk, timed_out;
	struct sm_ltk ltk;
	sd_event_source *timer, *defer;
	uint64_t timeout_usec;

	/* sm_pair()'s caller */
	sm_done_fn fn;
	void *fn_data;
	otad_destroy_fn fn_destroy;

	/* the end to report from the loop */
	bool reporting;
	int err;
	struct sm_result res;
	char why[96];
};

static uint8_t level_of(const struct sm_ltk *k)
{
	if (!k->authenticated)
		return SM_LEVEL_UNAUTHENTICATED;
	return k->sc && k->key_size == 16 ? SM_LEVEL_SC : SM_LEVEL_AUTHENTICATED;
}

static void timer_stop(struct sm *sm)
{
	if (sm->timer)
		sd_event_source_set_enabled(sm->timer, SD_EVENT_OFF);
}

static int on_timeout(sd_event_source *es, uint64_t usec, void *user_data);

/* 3.4: the timer restarts with every SMP command queued or received during a procedure */
static void timer_restart(struct sm *sm)
{
	struct hci_dev *hci = hci_conn_get_dev(sm->conn);
	uint64_t now;

	if (!hci || sm->op == OP_NONE)
		return;
	if (!sm->timer && sd_event_add_time(hci_get_event(hci), &sm->timer, CLOCK_MONOTONIC, 0, 0,
					    on_timeout, sm) < 0)
		return;
	sd_event_now(hci_get_event(hci), CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(sm->timer, now + sm->timeout_usec);
	sd_event_source_set_enabled(sm->timer, SD_EVENT_ONESHOT);
}

static int on_report(sd_event_source *es, void *user_data)
{
	struct sm *sm = user_data;
	sm_done_fn fn = sm->fn;
	void *data = sm->fn_data;
	otad_destroy_fn destroy = sm->fn_destroy;

	sd_event_source_set_enabled(es, SD_EVENT_OFF);
	sm->sess = sm_session_free(sm->sess);
	sm->fn = NULL;
	sm->fn_data = NULL;
	sm->fn_destroy = NULL;
	/* the owner hears first, then the caller, who may start the next pairing: it finds
	 * everything of this one gone */
	if (sm->cb.security_changed)
		sm->cb.security_changed(sm, sm->err, &sm->res, sm->user_data);
	sm->reporting = false;
	if (fn)
		fn(sm, sm->err, &sm->res, data);
	if (destroy)
		destroy(data);
	return 0;
}

/* The end of the current procedure, told from the loop. */
static void op_end(struct sm *sm, int err, const struct sm_result *r)
{
	sm->op = OP_NONE;
	timer_stop(sm);
	if (sm->reporting)
		return;
	sm->err = err;
	sm->res = *r;
	snprintf(sm->why, sizeof(sm->why), "%s", r->why ? r->why : "");
	sm->res.why = sm->why;
	sm->res.level = hci_conn_security(sm->conn);
	sm->res.key_size = hci_conn_key_size(sm->conn);
	if (err == 0 && r->bonded && r->keys.has_ltk) {
		sm->has_ltk = true;
		sm->ltk = r->keys.ltk;
	}
	sm->reporting = true;
	sd_event_source_set_enabled(sm->defer, SD_EVENT_ONESHOT);
}

static void op_fail(struct sm *sm, int err, const char *why, uint8_t hci_status)
{
	struct sm_result r = {.level = SM_LEVEL_NONE, .hci_status = hci_status, .why = why};

	op_end(sm, err, &r);
}

static int on_timeout(sd_event_source *es, uint64_t usec, void *user_data)
{
	struct sm *sm = user_data;

	/* 3.4: the procedure failed, and no SMP command goes over this link any more */
	sm->timed_out = true;
	op_fail(sm, -ETIMEDOUT, "no answer from the peer's Security Manager within 30 s", 0);
	return 0;
}

/* ---- the session's needs ---- */

static void sess_send(const uint8_t *pdu, size_t len, void *user_data)
{
	struct sm *sm = user_data;

	if (sm->timed_out)
		return;
	(void)l2cap_send(sm->conn, L2CAP_CID_SMP, pdu, len);
	timer_restart(sm);
}

static void sess_encrypt(const struct sm_ltk *key, void *user_data)
{
	struct sm *sm = user_data;
	int r = hci_conn_encrypt(sm->conn, key->key, key->ediv, key->rand, level_of(key),
				 key->key_size);

	if (r < 0)
		op_fail(sm, r, "could not start encryption", 0);
}

static void sess_display(uint32_t passkey, void *user_data)
{
	struct sm *sm = user_data;

	if (sm->cb.passkey_display)
		sm->cb.passkey_display(sm, passkey, sm->user_data);
}

static void sess_passkey_request(void *user_data)
{
	struct sm *sm = user_data;

	if (sm->cb.passkey_request)
		sm->cb.passkey_request(sm, sm->user_data);
	else if (sm->cfg.fixed_passkey)
		(void)sm_session_passkey(sm->sess, sm->cfg.passkey);
	else
		sm_session_abort(sm->sess, SM_ERR_PASSKEY_ENTRY_FAILED);
}

static void sess_confirm_request(uint32_t value, void *user_data)
{
	struct sm *sm = user_data;

	if (sm->cb.confirm_request)
		sm->cb.confirm_request(sm, value, sm->user_data);
	else
		(void)sm_session_confirm(sm->sess, true);
}

static void sess_done(int err, const struct sm_result *r, void *user_data)
{
	op_end(user_data, err, r);
}

static const struct sm_session_ops sess_ops = {
	.send = sess_send,
	.encrypt = sess_encrypt,
	.passkey_display = sess_display,
	.passkey_request = sess_passkey_request,
	.confirm_request = sess_confirm_request,
	.done = sess_done,
};

static int session_begin(struct sm *sm, uint8_t level)
{
	struct sm_session_params p = {.initiator = hci_conn_is_central(sm->conn), .cfg = sm->cfg};
	struct hci_dev_info info;
	struct hci_conn_info ci;
	int r;

	hci_dev_get_info(hci_conn_get_dev(sm->conn), &info);
	hci_conn_get_info(sm->conn, &ci);
	info.addr.type = BT_ADDR_LE_PUBLIC; /* the host connects and advertises as public */
	p.ia = p.initiator ? info.addr : ci.peer;
	p.ra = p.initiator ? ci.peer : info.addr;
	if (level > p.cfg.level)
		p.cfg.level = level;
	sm->sess = sm_session_free(sm->sess);
	r = sm_session_new(&p, &sess_ops, sm, &sm->sess);
	if (r < 0)
		return r;
	sm->op = OP_PAIRING;
	timer_restart(sm);
	return p.initiator ? sm_session_start(sm->sess) : 0;
}

static int encrypt_stored(struct sm *sm)
{
	int r = hci_conn_encrypt(sm->conn, sm->ltk.key, sm->ltk.ediv, sm->ltk.rand,
				 level_of(&sm->ltk), sm->ltk.key_size);

	if (r == 0)
		sm->op = OP_ENCRYPTING;
	return r;
}

/* ---- events of the link ---- */

static void on_security_request(struct sm *sm, uint8_t auth_req)
{
	/* 2.4.6: the central encrypts with the key it has, or pairs */
	uint8_t level = auth_req & SM_AUTH_MITM ? SM_LEVEL_AUTHENTICATED : SM_LEVEL_UNAUTHENTICATED;

	if (sm->op != OP_NONE || hci_conn_security(sm->conn) >= level)
		return;
	if (sm->has_ltk && level_of(&sm->ltk) >= level) {
		if (encrypt_stored(sm) < 0)
			op_fail(sm, -EIO, "could not start encryption", 0);
		return;
	}
	if (session_begin(sm, level) < 0)
		op_fail(sm, -ENOMEM, "could not start pairing", 0);
}

static void sm_recv(struct hci_conn *c, const uint8_t *pdu, size_t len, void *user_data)
{
	struct sm *sm = user_data;

	if (sm->timed_out || len == 0)
		return; /* 3.4: nothing more on this link after a timeout */
	if (sm->op == OP_PAIRING && sm->sess) {
		timer_restart(sm);
		sm_session_recv(sm->sess, pdu, len);
		return;
	}
	if (pdu[0] == SM_PAIRING_REQUEST && !hci_conn_is_central(c) &&
	    (sm->op == OP_NONE || sm->op == OP_SECREQ)) {
		if (session_begin(sm, 0) == 0)
			sm_session_recv(sm->sess, pdu, len);
		return;
	}
	if (pdu[0] == SM_SECURITY_REQUEST && len == 2 && hci_conn_is_central(c)) {
		on_security_request(sm, pdu[1]);
		return;
	}
	if (pdu[0] == SM_PAIRING_FAILED && len == 2 && sm->op == OP_SECREQ) {
		struct sm_result r = {.level = SM_LEVEL_NONE,
				      .reason = pdu[1],
				      .remote = true,
				      .why = "the central refused the Security Request"};

		op_end(sm, -EACCES, &r);
		return;
	}
	hci_debug(hci_conn_get_dev(c), "SMP: %s (%zu bytes) outside a pairing dropped",
		  sm_code_str(pdu[0]), len);
}

static void on_encrypt(struct hci_conn *c, uint8_t status, bool encrypted, void *user_data)
{
	struct sm *sm = user_data;
	struct sm_result r = {.hci_status = status};

	if (sm->op == OP_PAIRING && sm->sess) {
		sm_session_encrypted(sm->sess, status, hci_conn_key_size(c));
		return;
	}
	if (sm->op == OP_ENCRYPTING && status) {
		op_fail(sm, status == HCI_ERR_PIN_OR_KEY_MISSING ? -EKEYREJECTED : -EIO,
			status == HCI_ERR_PIN_OR_KEY_MISSING
				? "the peer has no key for our bond (PIN or Key Missing)"
				: "encryption failed",
			status);
		return;
	}
	if (status || !encrypted)
		return;
	/* a stored key: ours (central), or the central's choice (peripheral) */
	if (sm->op == OP_ENCRYPTING || sm->op == OP_SECREQ || sm->op == OP_NONE)
		op_end(sm, 0, &r);
}

static void on_ltk_request(struct hci_conn *c, uint16_t ediv, const uint8_t rand[8],
			   void *user_data)
{
	struct sm *sm = user_data;
	struct sm_ltk k;

	if (sm->op == OP_PAIRING && sm->sess && sm_session_ltk(sm->sess, ediv, rand, &k)) {
		(void)hci_conn_ltk_reply(c, k.key, level_of(&k), k.key_size);
		return;
	}
	if (sm->has_ltk && sm->ltk.ediv == ediv && memcmp(sm->ltk.rand, rand, 8) == 0) {
		(void)hci_conn_ltk_reply(c, sm->ltk.key, level_of(&sm->ltk), sm->ltk.key_size);
		return;
	}
	(void)hci_conn_ltk_reply(c, NULL, 0, 0); /* the central hears PIN or Key Missing */
}

static void on_disconnect(struct hci_conn *c, uint8_t reason, void *user_data)
{
	struct sm *sm = user_data;

	if (sm->op != OP_NONE)
		op_fail(sm, -ENOTCONN, "the link ended", 0);
}

/* ---- API ---- */

int sm_new(struct hci_conn *c, const struct sm_config *cfg, const struct sm_callbacks *cb,
	   void *user_data, otad_destroy_fn destroy, struct sm **ret)
{
	struct sm *sm;
	unsigned old;

	if (!hci_conn_is_connected(c))
		return -ENOTCONN;
	if (cfg->io_cap > SM_IO_KEYBOARD_DISPLAY || cfg->level > SM_LEVEL_SC ||
	    (cfg->min_key_size && (cfg->min_key_size < 7 || cfg->min_key_size > 16)) ||
	    cfg->passkey > 999999)
		return -EINVAL;
	if (sm_from_conn(c))
		return -EBUSY;
	sm = calloc(1, sizeof(*sm));
	if (!sm)
		return -ENOMEM;
	sm->conn = hci_conn_ref(c);
	sm->cfg = *cfg;
	if (!sm->cfg.level)
		sm->cfg.level = SM_LEVEL_UNAUTHENTICATED;
	if (!sm->cfg.min_key_size)
		sm->cfg.min_key_size = 16;
	if (cb)
		sm->cb = *cb;
	sm->timeout_usec = SM_TIMEOUT_USEC;
	if (sd_event_add_defer(hci_get_event(hci_conn_get_dev(c)), &sm->defer, on_report, sm) < 0) {
		hci_conn_unref(sm->conn);
		free(sm);
		return -ENOMEM;
	}
	sd_event_source_set_enabled(sm->defer, SD_EVENT_OFF);
	/* the channel's seat: take it from the responder that refuses pairing */
	old = l2cap_lookup(c, L2CAP_CID_SMP, NULL, NULL);
	if (old)
		l2cap_unregister(c, old);
	sm->chan = l2cap_register(c, L2CAP_CID_SMP, sm_recv, sm, NULL);
	sm->disc_watch = hci_conn_watch_disconnect(c, on_disconnect, sm, NULL);
	sm->enc_watch = hci_conn_watch_encrypt(c, on_encrypt, sm, NULL);
	sm->ltk_watch = hci_conn_watch_ltk_request(c, on_ltk_request, sm, NULL);
	if (!sm->chan || !sm->disc_watch || !sm->enc_watch || !sm->ltk_watch) {
		sm_free(sm);
		return -ENOMEM;
	}
	sm->user_data = user_data;
	sm->destroy = destroy;
	*ret = sm;
	return 0;
}

struct sm *sm_free(struct sm *sm)
{
	struct sm_result r = {.level = SM_LEVEL_NONE, .why = "cancelled"};

	if (!sm)
		return NULL;
	if (sm->fn) {
		sm_done_fn fn = sm->fn;

		sm->fn = NULL;
		fn(sm, -ECANCELED, &r, sm->fn_data);
	}
	if (sm->fn_destroy)
		sm->fn_destroy(sm->fn_data);
	if (sm->chan && l2cap_unregister(sm->conn, sm->chan) && hci_conn_is_connected(sm->conn))
		l2cap_register_smp_refusal(sm->conn);
	if (sm->disc_watch)
		hci_conn_unwatch(sm->conn, sm->disc_watch);
	if (sm->enc_watch)
		hci_conn_unwatch(sm->conn, sm->enc_watch);
	if (sm->ltk_watch)
		hci_conn_unwatch(sm->conn, sm->ltk_watch);
	sd_event_source_unref(sm->timer);
	sd_event_source_unref(sm->defer);
	sm_session_free(sm->sess);
	hci_conn_unref(sm->conn);
	if (sm->destroy)
		sm->destroy(sm->user_data);
	explicit_bzero(sm, sizeof(*sm)); /* the stored key */
	free(sm);
	return NULL;
}

struct sm *sm_from_conn(struct hci_conn *c)
{
	void *ud = NULL;

	return l2cap_lookup(c, L2CAP_CID_SMP, sm_recv, &ud) ? ud : NULL;
}

struct hci_conn *sm_get_conn(const struct sm *sm)
{
	return sm->conn;
}

void sm_set_ltk(struct sm *sm, const struct sm_ltk *ltk)
{
	sm->has_ltk = ltk != NULL;
	if (ltk)
		sm->ltk = *ltk;
	else
		explicit_bzero(&sm->ltk, sizeof(sm->ltk));
}

static int secure_request(struct sm *sm, uint8_t level)
{
	struct sm_pdu p = {.code = SM_SECURITY_REQUEST};
	uint8_t out[SM_PDU_MAX];
	size_t n;

	p.auth_req = (sm->cfg.legacy_only ? 0 : SM_AUTH_SC) |
		     (sm->cfg.bonding ? SM_AUTH_BONDING : 0) |
		     (level >= SM_LEVEL_AUTHENTICATED ? SM_AUTH_MITM : 0);
	n = sm_pdu_encode(&p, out);
	sm->op = OP_SECREQ;
	sess_send(out, n, sm);
	return 0;
}

int sm_pair(struct sm *sm, uint8_t level, sm_done_fn fn, void *user_data, otad_destroy_fn destroy)
{
	int r = 0;

	if (level < SM_LEVEL_UNAUTHENTICATED || level > SM_LEVEL_SC)
		return -EINVAL;
	if (sm->timed_out)
		return -ETIMEDOUT;
	if (!hci_conn_is_connected(sm->conn))
		return -ENOTCONN;
	if (sm->fn)
		return -EBUSY;
	if (hci_conn_security(sm->conn) >= level && sm->op == OP_NONE)
		return -EALREADY;
	if (sm->op == OP_NONE) {
		if (!hci_conn_is_central(sm->conn))
			r = secure_request(sm, level);
		else if (sm->has_ltk && level_of(&sm->ltk) >= level)
			r = encrypt_stored(sm);
		else
			r = session_begin(sm, level);
		if (r < 0)
			return r;
	}
	/* a procedure under way (the peer's) ends for this caller too */
	sm->want_level = level;
	sm->fn = fn;
	sm->fn_data = user_data;
	sm->fn_destroy = destroy;
	return 0;
}

int sm_passkey_reply(struct sm *sm, uint32_t passkey)
{
	return sm->op == OP_PAIRING && sm->sess ? sm_session_passkey(sm->sess, passkey) : -EALREADY;
}

int sm_confirm_reply(struct sm *sm, bool yes)
{
	return sm->op == OP_PAIRING && sm->sess ? sm_session_confirm(sm->sess, yes) : -EALREADY;
}

int sm_cancel(struct sm *sm)
{
	if (sm->op == OP_PAIRING && sm->sess) {
		uint8_t reason = SM_ERR_UNSPECIFIED;

		if (sm_session_asking(sm->sess))
			reason = SM_ERR_PASSKEY_ENTRY_FAILED;
		sm_session_abort(sm->sess, reason);
		return 0;
	}
	if (sm->op == OP_NONE)
		return -EALREADY;
	op_fail(sm, -ECANCELED, "cancelled", 0);
	return 0;
}

void sm_set_timeout(struct sm *sm, uint64_t usec)
{
	sm->timeout_usec = usec;
}

const char *sm_reason_str(uint8_t reason)
{
	return sm_strerror(reason);
}
