/* fuzz-bt-host.c — the LE host of src/bt/ as a whole, fed by a controller that says whatever the
 * input says: HCI events (command flow, connections, advertising reports, credits) and ACL data
 * carrying L2CAP signaling, SMP and ATT to the GATT client (central) and server (peripheral).
 *
 * The host talks H4 over a unix socket to a scripted controller in this process, the way
 * tests/unit/test-bt-hci.c drives it. Input: a mode byte, then the controller's byte stream.
 *   mode bit 0: the controller answers every command itself (a complete init, Command Status or
 *               Complete for the rest, credits for every ACL packet) and the stream follows the
 *               init; without it the stream is all the host hears, init included.
 *   bit 1: advertise with a GATT server on each connection (otasim's side);
 *   bit 2: connect to a peer and run a GATT client on it (otactl's side);
 *   bit 3: scan;  bit 4: the controller has every LE feature and command (extended scanning,
 *   DLE, 2M PHY);  bit 5: tiny ACL buffers (27 bytes x 2).
 * Invariants: the event loop settles (no busy loop); scan reports, GATT values and MTUs are
 * within their limits; every object is freed (LeakSanitizer); with ASan, no read past a packet
 * (the H4 buffer beyond it is poisoned). */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bt/h4.h"
#include "bt/hci-pkt.h"
#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"
#include "fuzz.h"

#define LOOP_MAX   20000
#define STREAM_MAX 65536 /* well within a unix socket's buffer: written at once */

static char sock_path[108];
static int listen_fd = -1;

struct run {
	sd_event *e;
	struct hci_dev *hci;
	int fd; /* the controller's end */
	struct h4_parser *parser;
	uint8_t mode;
	bool ready;
	unsigned wrote; /* controller bytes written this round */
	struct hci_conn *conn;
	struct gatt_server *gs;
	struct gatt_client *gc;
	bool conn_gone;
};

enum {
	M_AUTO = 1,
	M_ADV = 2,
	M_CONNECT = 4,
	M_SCAN = 8,
	M_RICH = 16,
	M_TINY = 32,
};

/* ---- the controller ---- */

static void ctl_write(struct run *r, const uint8_t *b, size_t len)
{
	while (len) {
		ssize_t n = write(r->fd, b, len);

		FUZZ_CHECK(n > 0);
		b += n;
		len -= (size_t)n;
		r->wrote += (unsigned)n;
	}
}

static void ctl_event(struct run *r, uint8_t code, const uint8_t *p, uint8_t plen)
{
	uint8_t b[260] = {H4_EVT, code, plen};

	memcpy(b + 3, p, plen);
	ctl_write(r, b, 3u + plen);
}

static void ctl_complete(struct run *r, uint16_t op, const uint8_t *ret, uint8_t len)
{
	uint8_t p[255] = {1};

	put_le16(p + 1, op);
	memcpy(p + 3, ret, len);
	ctl_event(r, HCI_EV_CMD_COMPLETE, p, 3u + len);
}

/* Return parameters of a healthy controller (Core 5.4 Vol 4 Part E 7.4, 7.8). */
static uint8_t ctl_return(struct run *r, uint16_t op, uint8_t *ret)
{
	bool rich = r->mode & M_RICH, tiny = r->mode & M_TINY;

	memset(ret, 0, 80);
	switch (op) {
	case HCI_OP_READ_LOCAL_VERSION:
		ret[1] = 0x0d;
		return 9;
	case HCI_OP_READ_LOCAL_COMMANDS:
		memset(ret + 1, rich ? 0xff : 0x00, 64);
		return 65;
	case HCI_OP_READ_LOCAL_FEATURES:
		ret[5] = 0x60; /* LE supported, BR/EDR not supported */
		return 9;
	case HCI_OP_READ_BD_ADDR:
		memcpy(ret + 1, (uint8_t[]){0x66, 0x55, 0x44, 0x33, 0x22, 0xc1}, 6);
		return 7;
	case HCI_OP_LE_READ_LOCAL_FEATURES:
		memset(ret + 1, rich ? 0xff : 0x00, 8);
		return 9;
	case HCI_OP_LE_READ_BUFFER_SIZE:
	case HCI_OP_LE_READ_BUFFER_SIZE_V2:
		put_le16(ret + 1, tiny ? 27 : 251);
		ret[3] = tiny ? 2 : 4;
		return op == HCI_OP_LE_READ_BUFFER_SIZE ? 4 : 7;
	case HCI_OP_LE_SET_DATA_LENGTH:
	case HCI_OP_LE_CONN_PARAM_REQ_REPLY:
	case HCI_OP_LE_CONN_PARAM_REQ_NEG_REPLY:
		return 3; /* status, handle */
	default:
		return 1;
	}
}

static void ctl_answer(struct run *r, const uint8_t *cmd, size_t len)
{
	uint16_t op = get_le16(cmd);
	uint8_t ret[80], st[4] = {0, 1};

	switch (op) {
	case HCI_OP_DISCONNECT:
	case HCI_OP_LE_CREATE_CONN:
	case HCI_OP_LE_EXT_CREATE_CONN:
	case HCI_OP_LE_CONN_UPDATE:
	case HCI_OP_LE_READ_REMOTE_FEATURES:
	case HCI_OP_LE_SET_PHY:
		put_le16(st + 2, op);
		ctl_event(r, HCI_EV_CMD_STATUS, st, 4);
		return;
	default:
		ctl_complete(r, op, ret, ctl_return(r, op, ret));
	}
}

static void ctl_packet(uint8_t type, const uint8_t *pkt, size_t len, void *ud)
{
	struct run *r = ud;
	uint8_t ncp[5] = {1};

	if (!(r->mode & M_AUTO))
		return;
	if (type == H4_CMD && len >= 3) {
		ctl_answer(r, pkt, len);
	} else if (type == H4_ACL && len >= 4) {
		/* 7.7.19: the packet left the controller */
		put_le16(ncp + 1, get_le16(pkt) & 0x0fff);
		put_le16(ncp + 3, 1);
		ctl_event(r, HCI_EV_NUM_COMP_PKTS, ncp, 5);
	}
}

/* Reads what the host sent; true if anything. */
static bool ctl_read(struct run *r)
{
	uint8_t buf[4096];
	bool any = false;
	ssize_t n;

	while ((n = read(r->fd, buf, sizeof(buf))) > 0) {
		any = true;
		h4_parser_feed(r->parser, buf, (size_t)n, ctl_packet, NULL, r);
	}
	return any;
}

/* ---- the host's users ---- */

static void on_disconnected(struct hci_conn *c, uint8_t reason, void *ud)
{
	struct run *r = ud;

	r->conn_gone = true;
	r->conn = NULL;
}

static const struct hci_conn_callbacks conn_cb = {.disconnected = on_disconnected};

static void on_server_write(struct gatt_server *s, const uint8_t *v, size_t len, void *ud)
{
	FUZZ_CHECK(len <= 512);
	if (gatt_server_is_subscribed(s))
		(void)gatt_server_notify(s, v, MIN(len, gatt_server_max_notify(s)));
}

static const struct gatt_server_callbacks server_cb = {.write = on_server_write};

static void on_accept(struct hci_dev *hci, int err, struct hci_conn *conn, void *ud)
{
	struct run *r = ud;
	const struct gatt_server_params sp = {"otasim-fuzz", &bt_uuid_smp_service,
					      &bt_uuid_smp_char, 0};

	if (err || r->conn || r->gs || r->gc) /* one link at a time (a gone one not reaped) */
		return;
	r->conn = conn;
	hci_conn_set_callbacks(conn, &conn_cb, r, NULL);
	FUZZ_CHECK(gatt_server_new(conn, &sp, &server_cb, r, NULL, &r->gs) == 0);
}

static void on_client_ready(struct gatt_client *c, int err, uint8_t ecode, void *ud)
{
	static const uint8_t chunk[512];
	size_t max;

	if (getenv("OTAD_FUZZ_DEBUG"))
		fprintf(stderr, "GATT client ready: %d (ATT 0x%02x)\n", err, ecode);
	if (err)
		return;
	FUZZ_CHECK(gatt_client_mtu(c) >= ATT_MIN_MTU);
	max = gatt_client_max_write(c);
	FUZZ_CHECK(max + 3 == gatt_client_mtu(c) && max <= sizeof(chunk));
	FUZZ_CHECK(gatt_client_write(c, chunk, max) == 0);
}

/* A peer may notify more than ATT_MTU - 3 bytes (Core 5.4 Vol 3 Part F 3.2.9 forbids it); the
 * host passes it on, whole, and the SMP reassembly above copes. */
static void on_notify(struct gatt_client *c, const uint8_t *v, size_t len, void *ud)
{
	FUZZ_CHECK(v && len <= UINT16_MAX);
}

static const struct gatt_client_callbacks client_cb = {.ready = on_client_ready,
						       .notify = on_notify};

static void on_connect(struct hci_dev *hci, int err, uint8_t status, struct hci_conn *conn,
		       void *ud)
{
	struct run *r = ud;
	const struct gatt_client_params gp = {&bt_uuid_smp_service, &bt_uuid_smp_char, 0};

	if (err || r->conn || r->gs || r->gc) /* one link at a time (a gone one not reaped) */
		return;
	r->conn = conn;
	hci_conn_set_callbacks(conn, &conn_cb, r, NULL);
	FUZZ_CHECK(gatt_client_new(conn, &gp, &client_cb, r, NULL, &r->gc) == 0);
}

static void on_scan(struct hci_dev *hci, int err, const struct hci_adv_report *rep, void *ud)
{
	if (err)
		return;
	FUZZ_CHECK(strlen(rep->ad.name) <= ADV_NAME_MAX);
	FUZZ_CHECK(rep->ad.n_uuid128 <= ADV_MAX_UUID128);
}

/* Starts what the mode asks for, once the host is ready. */
static void on_ready(struct hci_dev *hci, int err, uint8_t status, void *ud)
{
	const struct bt_addr peer = {BT_ADDR_LE_RANDOM, {0x11, 0x22, 0x33, 0x44, 0x55, 0xc6}};
	const struct hci_adv_params ap = {.name = "otasim-fuzz", .uuid = &bt_uuid_smp_service};
	struct run *r = ud;

	r->ready = err == 0;
	if (!r->ready)
		return;
	if (r->mode & M_ADV)
		FUZZ_CHECK(hci_adv_start(r->hci, &ap, on_accept, r, NULL) == 0);
	if (r->mode & M_CONNECT)
		FUZZ_CHECK(hci_connect(r->hci, &peer, NULL, on_connect, r, NULL) == 0);
	if (r->mode & M_SCAN)
		FUZZ_CHECK(hci_scan_start(r->hci, NULL, on_scan, r, NULL) == 0);
}

static const struct hci_dev_callbacks dev_cb = {.ready = on_ready};

/* ---- one run ---- */

/* Frees what a link that went down left behind (outside every callback). */
static void reap(struct run *r)
{
	if (!r->conn_gone)
		return;
	r->conn_gone = false;
	r->gs = gatt_server_free(r->gs);
	r->gc = gatt_client_free(r->gc);
}

/* Runs the host and the controller until neither has anything left to do. */
static void settle(struct run *r)
{
	unsigned i;

	for (i = 0; i < LOOP_MAX; i++) {
		int k = sd_event_run(r->e, 0);

		FUZZ_CHECK(k >= 0);
		r->wrote = 0;
		reap(r);
		if (!ctl_read(r) && k == 0 && r->wrote == 0)
			break;
	}
	FUZZ_CHECK(i < LOOP_MAX); /* the event loop never went quiet */
}

static void on_debug(const char *line, void *ud)
{
	fprintf(stderr, "%s\n", line);
}

static void setup(struct run *r)
{
	char spec[128];

	snprintf(spec, sizeof(spec), "unix:%s", sock_path);
	FUZZ_CHECK(sd_event_new(&r->e) >= 0);
	r->parser = calloc(1, sizeof(*r->parser));
	FUZZ_CHECK(r->parser);
	FUZZ_CHECK(hci_dev_new(r->e, spec, &dev_cb, r, NULL, &r->hci) == 0);
	if (getenv("OTAD_FUZZ_DEBUG")) /* what the host dropped and why */
		hci_dev_set_debug(r->hci, on_debug, NULL, NULL);
	r->fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	FUZZ_CHECK(r->fd >= 0);
}

static void teardown(struct run *r)
{
	gatt_server_free(r->gs);
	gatt_client_free(r->gc);
	hci_dev_free(r->hci);
	close(r->fd);
	free(r->parser);
	sd_event_unref(r->e);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(sock_path, sizeof(sock_path), "/tmp/otad-fuzz-bt-%d.sock", (int)getpid());
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	unlink(sock_path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(listen_fd >= 0);
	FUZZ_CHECK(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	FUZZ_CHECK(listen(listen_fd, 4) == 0);
	return 0;
}

static void cleanup(void) __attribute__((destructor));
static void cleanup(void)
{
	if (listen_fd >= 0)
		unlink(sock_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct run r = {.mode = fz_u8(&f)};
	const uint8_t *stream;
	size_t n;

	if (listen_fd < 0)
		LLVMFuzzerInitialize(NULL, NULL);
	stream = fz_bytes(&f, STREAM_MAX, &n);
	setup(&r);
	if (r.mode & M_AUTO)
		settle(&r);
	ctl_write(&r, stream, n);
	settle(&r);
	teardown(&r);
	return 0;
}
