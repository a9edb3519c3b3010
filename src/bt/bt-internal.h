/* bt-internal.h — what the files of src/bt/ share: wire constants, the pure packet codecs
 * (H4, HCI, L2CAP, ATT) that unit tests drive with byte vectors, and the private structs of
 * struct hci_dev / struct hci_conn / struct att. Nothing outside src/bt/ and its tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "otad/bt.h"
#include "util/bytes.h"
#include "util/macro.h"

/* ---- H4 (Core 5.4 Vol 4 Part A 2: packet indicators) ---- */
enum {
	H4_CMD = 0x01,
	H4_ACL = 0x02,
	H4_SCO = 0x03,
	H4_EVT = 0x04,
	H4_ISO = 0x05,
};

#define H4_MAX_PACKET (1 + 4 + 65535)

/* Reassembles H4 packets from a byte stream. */
struct h4_parser {
	size_t len;  /* bytes in buf */
	size_t need; /* total length of the packet being collected, 0 = header incomplete */
	uint8_t buf[H4_MAX_PACKET];
};
typedef void (*h4_packet_fn)(uint8_t type, const uint8_t *pkt, size_t len, void *user_data);
typedef void (*h4_garbage_fn)(const char *what, void *user_data);
/* Header length after the indicator for a packet type the host receives, 0 if unknown. */
size_t h4_header_len(uint8_t type);
/* Total packet length (indicator included) once the header is there, 0 if unknown type. */
size_t h4_packet_len(const uint8_t *buf);
void h4_parser_feed(struct h4_parser *p, const uint8_t *data, size_t len, h4_packet_fn fn,
		    h4_garbage_fn garbage, void *user_data);

/* ---- HCI driver ---- */
struct hci_driver;
struct hci_driver_callbacks {
	void (*packet)(uint8_t type, const uint8_t *pkt, size_t len, void *user_data);
	void (*garbage)(const char *what, void *user_data);
	void (*error)(int err, void *user_data); /* read/write failure or EOF: driver is dead */
	void (*drained)(void *user_data);	 /* output queue empty again */
};
int hci_driver_open(sd_event *e, const char *spec, const struct hci_driver_callbacks *cb,
		    void *user_data, struct hci_driver **ret);
/* Queues one packet (indicator + header + payload given as two pieces). */
int hci_driver_send(struct hci_driver *d, uint8_t type, const uint8_t *a, size_t alen,
		    const uint8_t *b, size_t blen);
size_t hci_driver_backlog(const struct hci_driver *d);
struct hci_driver *hci_driver_free(struct hci_driver *d);
/* Opens the HCI user channel of "hciN" (hci-userchan.c); 0 or -errno. */
int hci_userchan_open(const char *arg, int *ret_fd);
/* Parses "hciN" of "userchan:hciN"; 0 or -EINVAL. */
int hci_parse_userchan_spec(const char *arg, unsigned *ret_idx);
/* Parses "tty:PATH[@BAUD]" into path and baud (default 1000000); 0 or -EINVAL. */
int hci_parse_tty_spec(const char *arg, char *path, size_t size, unsigned *ret_baud);

/* ---- HCI opcodes (Core 5.4 Vol 4 Part E 7) ---- */
#define HCI_OP(ogf, ocf) ((uint16_t)((ogf) << 10 | (ocf)))
enum {
	HCI_OP_DISCONNECT = HCI_OP(0x01, 0x0006),
	HCI_OP_SET_EVENT_MASK = HCI_OP(0x03, 0x0001),
	HCI_OP_RESET = HCI_OP(0x03, 0x0003),
	HCI_OP_READ_LOCAL_VERSION = HCI_OP(0x04, 0x0001),
	HCI_OP_READ_LOCAL_COMMANDS = HCI_OP(0x04, 0x0002),
	HCI_OP_READ_LOCAL_FEATURES = HCI_OP(0x04, 0x0003),
	HCI_OP_READ_BUFFER_SIZE = HCI_OP(0x04, 0x0005),
	HCI_OP_READ_BD_ADDR = HCI_OP(0x04, 0x0009),
	HCI_OP_LE_SET_EVENT_MASK = HCI_OP(0x08, 0x0001),
	HCI_OP_LE_READ_BUFFER_SIZE = HCI_OP(0x08, 0x0002),
	HCI_OP_LE_READ_LOCAL_FEATURES = HCI_OP(0x08, 0x0003),
	HCI_OP_LE_SET_ADV_PARAMS = HCI_OP(0x08, 0x0006),
	HCI_OP_LE_SET_ADV_DATA = HCI_OP(0x08, 0x0008),
	HCI_OP_LE_SET_SCAN_RSP_DATA = HCI_OP(0x08, 0x0009),
	HCI_OP_LE_SET_ADV_ENABLE = HCI_OP(0x08, 0x000a),
	HCI_OP_LE_SET_SCAN_PARAMS = HCI_OP(0x08, 0x000b),
	HCI_OP_LE_SET_SCAN_ENABLE = HCI_OP(0x08, 0x000c),
	HCI_OP_LE_CREATE_CONN = HCI_OP(0x08, 0x000d),
	HCI_OP_LE_CREATE_CONN_CANCEL = HCI_OP(0x08, 0x000e),
	HCI_OP_LE_CONN_UPDATE = HCI_OP(0x08, 0x0013),
	HCI_OP_LE_READ_REMOTE_FEATURES = HCI_OP(0x08, 0x0016),
	HCI_OP_LE_CONN_PARAM_REQ_REPLY = HCI_OP(0x08, 0x0020),
	HCI_OP_LE_CONN_PARAM_REQ_NEG_REPLY = HCI_OP(0x08, 0x0021),
	HCI_OP_LE_SET_DATA_LENGTH = HCI_OP(0x08, 0x0022),
	HCI_OP_LE_SET_PHY = HCI_OP(0x08, 0x0032),
	HCI_OP_LE_SET_EXT_SCAN_PARAMS = HCI_OP(0x08, 0x0041),
	HCI_OP_LE_SET_EXT_SCAN_ENABLE = HCI_OP(0x08, 0x0042),
	HCI_OP_LE_EXT_CREATE_CONN = HCI_OP(0x08, 0x0043),
	HCI_OP_LE_READ_BUFFER_SIZE_V2 = HCI_OP(0x08, 0x0060),
};

/* Events (Core 5.4 Vol 4 Part E 7.7) */
enum {
	HCI_EV_DISCONN_COMPLETE = 0x05,
	HCI_EV_CMD_COMPLETE = 0x0e,
	HCI_EV_CMD_STATUS = 0x0f,
	HCI_EV_HW_ERROR = 0x10,
	HCI_EV_NUM_COMP_PKTS = 0x13,
	HCI_EV_DATA_BUF_OVERFLOW = 0x1a,
	HCI_EV_LE_META = 0x3e,
};
enum {
	HCI_LE_CONN_COMPLETE = 0x01,
	HCI_LE_ADV_REPORT = 0x02,
	HCI_LE_CONN_UPDATE_COMPLETE = 0x03,
	HCI_LE_REMOTE_FEATURES = 0x04,
	HCI_LE_CONN_PARAM_REQ = 0x06,
	HCI_LE_DATA_LEN_CHANGE = 0x07,
	HCI_LE_ENH_CONN_COMPLETE = 0x0a,
	HCI_LE_PHY_UPDATE = 0x0c,
	HCI_LE_EXT_ADV_REPORT = 0x0d,
};

/* HCI error codes used by the host itself (Core 5.4 Vol 1 Part F 1.3) */
enum {
	HCI_SUCCESS = 0x00,
	HCI_ERR_UNKNOWN_COMMAND = 0x01,
	HCI_ERR_UNKNOWN_CONN_ID = 0x02,
	HCI_ERR_CONN_TIMEOUT = 0x08,
	HCI_ERR_COMMAND_DISALLOWED = 0x0c,
	HCI_ERR_INVALID_PARAMS = 0x12,
	HCI_ERR_REMOTE_USER_TERM = 0x13,
	HCI_ERR_LOCAL_HOST_TERM = 0x16,
	HCI_ERR_UNSUPP_REMOTE_FEATURE = 0x1a,
	HCI_ERR_UNKNOWN_CONN_PARAMS = 0x3b,
	HCI_ERR_CONN_FAILED_TO_ESTABLISH = 0x3e,
};

/* Supported Commands bits (Core 5.4 Vol 4 Part E 6.27): octet * 8 + bit */
#define HCI_CMD_BIT(octet, bit) ((octet)*8 + (bit))
enum {
	HCI_CMDBIT_LE_SET_DATA_LENGTH = HCI_CMD_BIT(33, 6),
	HCI_CMDBIT_LE_SET_PHY = HCI_CMD_BIT(35, 6),
	HCI_CMDBIT_LE_SET_EXT_SCAN_PARAMS = HCI_CMD_BIT(37, 5),
	HCI_CMDBIT_LE_SET_EXT_SCAN_ENABLE = HCI_CMD_BIT(37, 6),
	HCI_CMDBIT_LE_EXT_CREATE_CONN = HCI_CMD_BIT(37, 7),
	HCI_CMDBIT_LE_READ_BUFFER_SIZE_V2 = HCI_CMD_BIT(41, 5),
};

/* LE features (Core 5.4 Vol 6 Part B 4.6) */
enum {
	LE_FEAT_CONN_PARAM_REQ = 1,
	LE_FEAT_DATA_LEN_EXT = 5,
	LE_FEAT_2M_PHY = 8,
	LE_FEAT_EXT_ADV = 12,
};

/* Event masks the host sets (Core 5.4 Vol 4 Part E 7.3.1 and 7.8.1) */
#define HCI_EVENT_MASK                                                                             \
	((1ULL << 4) | (1ULL << 7) | (1ULL << 11) | (1ULL << 15) | (1ULL << 25) | (1ULL << 47) |   \
	 (1ULL << 61))
#define HCI_LE_EVENT_MASK                                                                          \
	((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 3) | (1ULL << 5) | (1ULL << 6) |       \
	 (1ULL << 11) | (1ULL << 12))
#define HCI_LE_EVENT_MASK_EXT (HCI_LE_EVENT_MASK | (1ULL << 9)) /* + Enhanced Conn Complete */

/* ---- HCI packet codec (hci-pkt.c) ---- */

/* Writes a command packet (header + params, no H4 indicator); returns its length. */
size_t hci_cmd_build(uint16_t opcode, const uint8_t *params, uint8_t plen, uint8_t *out);

struct hci_le_create_conn {
	uint16_t scan_interval, scan_window;
	struct bt_addr peer;
	uint8_t own_addr_type;
	uint16_t interval_min, interval_max, latency, supervision_timeout;
};
size_t hci_le_create_conn_build(const struct hci_le_create_conn *c, uint8_t out[25]);
size_t hci_le_ext_create_conn_build(const struct hci_le_create_conn *c, uint8_t out[26]);
size_t hci_le_scan_params_build(bool active, uint16_t interval, uint16_t window, uint8_t out[7]);
size_t hci_le_ext_scan_params_build(bool active, uint16_t interval, uint16_t window,
				    uint8_t out[8]);
size_t hci_le_adv_params_build(uint16_t interval_min, uint16_t interval_max, uint8_t out[15]);
size_t hci_le_conn_update_build(uint16_t handle, uint16_t interval_min, uint16_t interval_max,
				uint16_t latency, uint16_t timeout, uint8_t out[14]);

/* A received event, decoded. Pointers point into the packet. */
struct hci_evt {
	uint8_t code;
	uint8_t subevent; /* LE Meta */
	union {
		struct {
			uint8_t ncmd;
			uint16_t opcode;
			uint8_t status; /* first return parameter, 0 when none */
			const uint8_t *ret;
			size_t ret_len;
		} cmd_complete;
		struct {
			uint8_t status, ncmd;
			uint16_t opcode;
		} cmd_status;
		struct {
			uint8_t status, reason;
			uint16_t handle;
		} disconn;
		struct {
			uint8_t num;
			const uint8_t *entries; /* num x (handle LE16, count LE16) */
		} ncp;
		struct {
			uint8_t code;
		} hw_error;
		struct {
			uint8_t status, role;
			uint16_t handle, interval, latency, supervision_timeout;
			struct bt_addr peer;
		} conn;
		struct {
			uint8_t num;
			bool ext;
			const uint8_t *data;
			size_t len;
		} adv;
		struct {
			uint8_t status;
			uint16_t handle, interval, latency, supervision_timeout;
		} conn_update;
		struct {
			uint8_t status;
			uint16_t handle;
			uint64_t features;
		} remote_features;
		struct {
			uint16_t handle, interval_min, interval_max, latency, timeout;
		} param_req;
		struct {
			uint16_t handle, tx_octets, tx_time, rx_octets, rx_time;
		} data_len;
		struct {
			uint8_t status, tx_phy, rx_phy;
			uint16_t handle;
		} phy;
	};
};
/* Decodes an event packet (header included, no indicator). 0, -EBADMSG when truncated or
 * inconsistent, -ENOENT for an event this host does not handle (not an error). */
int hci_evt_parse(const uint8_t *pkt, size_t len, struct hci_evt *ev);

/* One report of an (extended) advertising report event. */
struct hci_raw_report {
	uint16_t event_type; /* legacy: 0 ADV_IND .. 4 SCAN_RSP; extended: the bit field */
	struct bt_addr addr;
	int8_t rssi;
	const uint8_t *data;
	uint8_t data_len;
};
/* Takes the next report off p and len (Core 5.4 Vol 4 Part E 7.7.65.2 and .13); 0 or -EBADMSG. */
int hci_adv_report_next(bool ext, const uint8_t **p, size_t *len, struct hci_raw_report *ret);
bool hci_raw_report_connectable(bool ext, const struct hci_raw_report *r);
bool hci_raw_report_is_scan_rsp(bool ext, const struct hci_raw_report *r);

/* ACL data packet header (Core 5.4 Vol 4 Part E 5.4.2) */
enum { ACL_PB_CONT = 0x1, ACL_PB_START = 0x2 };
struct hci_acl {
	uint16_t handle;
	uint8_t pb;
	const uint8_t *data;
	uint16_t len;
};
/* 0 or -EBADMSG (shorter than its header, or the length field disagrees with len). */
int hci_acl_parse(const uint8_t *pkt, size_t len, struct hci_acl *ret);

/* ---- L2CAP (l2cap.c), Core 5.4 Vol 3 Part A ---- */
enum { L2CAP_CID_ATT = 0x0004, L2CAP_CID_LE_SIGNALING = 0x0005, L2CAP_CID_SMP = 0x0006 };
#define L2CAP_HDR_LEN 4

/* One ACL packet ready for the controller: ACL header + payload. */
struct acl_pkt {
	struct acl_pkt *next;
	uint16_t len; /* bytes in data */
	uint8_t data[];
};
/* Splits one L2CAP basic frame (header added here) into ACL packets of at most acl_mtu payload
 * bytes: the first with PB "start", the rest "continuing". Returns the list or NULL (-ENOMEM). */
struct acl_pkt *l2cap_fragment(uint16_t handle, uint16_t cid, const uint8_t *sdu, size_t len,
			       uint16_t acl_mtu, unsigned *ret_count);
void acl_pkt_free_list(struct acl_pkt *p);

struct l2cap_reasm {
	uint8_t *buf;
	size_t len;  /* collected */
	size_t need; /* whole frame incl. header, 0 = idle */
};
/* Feeds one ACL payload. Returns 1 with a complete frame (*ret_cid, *ret_pdu, *ret_len valid
 * until the next call), 0 when more fragments are needed, or a negative errno when the input
 * was dropped: -EBADMSG (continuation without start, start shorter than the basic header,
 * fragment overrunning the frame), -ENOMEM. why (may be NULL) names the drop. */
int l2cap_reasm_push(struct l2cap_reasm *r, uint8_t pb, const uint8_t *data, size_t len,
		     uint16_t *ret_cid, const uint8_t **ret_pdu, size_t *ret_len, const char **why);
void l2cap_reasm_reset(struct l2cap_reasm *r);

/* LE signaling (Vol 3 Part A 4): handles one C-frame on CID 5 and writes the answer (0 bytes
 * when none is due). central: whether we are central (only a central accepts Connection
 * Parameter Update Requests). On an accepted request *ret_update holds the parameters. */
struct l2cap_conn_param {
	uint16_t interval_min, interval_max, latency, timeout;
};
size_t l2cap_sig_handle(const uint8_t *pdu, size_t len, bool central, uint8_t *out, size_t out_size,
			struct l2cap_conn_param *ret_update, bool *ret_has_update);
bool l2cap_conn_param_valid(const struct l2cap_conn_param *p);
/* SMP channel (Vol 3 Part H 3.5.5): answers a Pairing/Security Request with Pairing Failed
 * "Pairing Not Supported". Returns the answer length (0 = none). */
size_t l2cap_smp_handle(const uint8_t *pdu, size_t len, uint8_t out[2]);

/* ---- ATT (att-pdu.c, att.c), Core 5.4 Vol 3 Part F ---- */
enum {
	ATT_ERROR_RSP = 0x01,
	ATT_MTU_REQ = 0x02,
	ATT_MTU_RSP = 0x03,
	ATT_FIND_INFO_REQ = 0x04,
	ATT_FIND_INFO_RSP = 0x05,
	ATT_FIND_BY_TYPE_REQ = 0x06,
	ATT_FIND_BY_TYPE_RSP = 0x07,
	ATT_READ_BY_TYPE_REQ = 0x08,
	ATT_READ_BY_TYPE_RSP = 0x09,
	ATT_READ_REQ = 0x0a,
	ATT_READ_RSP = 0x0b,
	ATT_READ_BLOB_REQ = 0x0c,
	ATT_READ_BY_GROUP_REQ = 0x10,
	ATT_READ_BY_GROUP_RSP = 0x11,
	ATT_WRITE_REQ = 0x12,
	ATT_WRITE_RSP = 0x13,
	ATT_NOTIFY = 0x1b,
	ATT_INDICATE = 0x1d,
	ATT_CONFIRM = 0x1e,
	ATT_WRITE_CMD = 0x52,
};
enum {
	ATT_ECODE_INVALID_HANDLE = 0x01,
	ATT_ECODE_READ_NOT_PERMITTED = 0x02,
	ATT_ECODE_WRITE_NOT_PERMITTED = 0x03,
	ATT_ECODE_INVALID_PDU = 0x04,
	ATT_ECODE_REQ_NOT_SUPP = 0x06,
	ATT_ECODE_ATTR_NOT_FOUND = 0x0a,
	ATT_ECODE_INVALID_VALUE_LEN = 0x0d,
	ATT_ECODE_UNLIKELY = 0x0e,
	ATT_ECODE_UNSUPP_GROUP_TYPE = 0x10,
};
#define GATT_UUID_PRIMARY  0x2800
#define GATT_UUID_CHARAC   0x2803
#define GATT_UUID_CCCD	   0x2902
#define GATT_UUID_GAP	   0x1800
#define GATT_UUID_DEV_NAME 0x2a00
#define GATT_CHRC_READ	   0x02
#define GATT_CHRC_WRITE_NR 0x04
#define GATT_CHRC_WRITE	   0x08
#define GATT_CHRC_NOTIFY   0x10
#define ATT_TIMEOUT_USEC   (30 * USEC_PER_SEC)

bool att_opcode_is_response(uint8_t op);
bool att_opcode_is_request(uint8_t op);
bool att_opcode_is_command(uint8_t op);
size_t att_error_build(uint8_t req, uint16_t handle, uint8_t ecode, uint8_t out[5]);
size_t att_mtu_build(uint8_t op, uint16_t mtu, uint8_t out[3]);
size_t att_range_build(uint8_t op, uint16_t start, uint16_t end, uint8_t out[5]);
size_t att_read_by_type_build(uint8_t op, uint16_t start, uint16_t end, uint16_t type16,
			      const struct bt_uuid128 *type128, uint8_t out[21]);
size_t att_find_by_type_build(uint16_t start, uint16_t end, uint16_t type, const uint8_t *value,
			      size_t vlen, uint8_t *out);
size_t att_handle_value_build(uint8_t op, uint16_t handle, const uint8_t *value, size_t len,
			      uint8_t *out);

/* Iterates the entries of a Read By Type / Read By Group Type / Find Information / Find By Type
 * Value response: *elen is the fixed entry length. 0 or -EBADMSG. */
int att_rsp_entries(const uint8_t *pdu, size_t len, const uint8_t **ret_first, size_t *ret_n,
		    size_t *ret_elen);
/* Compares a 2- or 16-byte UUID on the wire with a 16-bit one or a 128-bit one. */
bool att_uuid_matches(const uint8_t *wire, size_t len, uint16_t u16, const struct bt_uuid128 *u128);

struct att;
struct hci_conn;
/* Response to one request: err 0 and the PDU (an Error Response has err -EIO and ecode),
 * -ETIMEDOUT, -ENOTCONN (link lost or bearer dead), -ECANCELED. */
typedef void (*att_rsp_fn)(struct att *att, int err, uint8_t ecode, const uint8_t *pdu, size_t len,
			   void *user_data);
/* Server side: a request or command from the peer. Writes the answer into out (0 = none) and
 * returns its length. */
typedef size_t (*att_server_fn)(struct att *att, const uint8_t *pdu, size_t len, uint8_t *out,
				size_t out_size, void *user_data);
typedef void (*att_notify_fn)(struct att *att, uint16_t handle, const uint8_t *value, size_t len,
			      void *user_data);
typedef void (*att_event_fn)(struct att *att, int err, void *user_data); /* link down, writable */

struct att *att_new(struct hci_conn *conn, uint16_t our_mtu);
void att_free(struct att *att);
void att_recv(struct att *att, const uint8_t *pdu, size_t len);
void att_link_down(struct att *att);
void att_writable(struct att *att);
int att_request(struct att *att, const uint8_t *pdu, size_t len, att_rsp_fn fn, void *user_data);
int att_send(struct att *att, const uint8_t *pdu, size_t len); /* no response expected */
void att_cancel_all(struct att *att, void *user_data);
uint16_t att_get_mtu(const struct att *att);
void att_set_mtu(struct att *att, uint16_t mtu);
uint16_t att_get_our_mtu(const struct att *att);
void att_set_our_mtu(struct att *att, uint16_t mtu);
void att_set_server(struct att *att, att_server_fn fn, void *user_data);
void att_set_client(struct att *att, att_notify_fn notify, att_event_fn down, att_event_fn writable,
		    void *user_data);
void att_set_server_events(struct att *att, att_event_fn down, att_event_fn writable,
			   void *user_data);
struct hci_conn *att_get_conn(const struct att *att);
bool att_has_server(const struct att *att);
/* The transaction timeout is 30 s by the spec; tests shorten it. */
void att_set_timeout(struct att *att, uint64_t usec);
bool att_has_client(const struct att *att);

/* ---- hci_dev / hci_conn internals ---- */
struct hci_dev;
void hci_debug(struct hci_dev *hci, const char *fmt, ...) _printf_(2, 3);
/* Returns 1 when a (non-zero) status was turned into the last error text. */
void hci_format_failure(uint16_t opcode, uint8_t status, char *buf, size_t size);

typedef void (*hci_cmd_fn)(struct hci_dev *hci, uint8_t status, const uint8_t *ret, size_t ret_len,
			   void *user_data);
/* Queues a command; fn runs on its Command Complete or Command Status (ret NULL then), or with
 * status 0xff and -ETIMEDOUT-like semantics never: a command timeout kills the device. */
int hci_send_cmd(struct hci_dev *hci, uint16_t opcode, const uint8_t *params, uint8_t plen,
		 hci_cmd_fn fn, void *user_data);
bool hci_has_command(const struct hci_dev *hci, unsigned bit);
bool hci_has_le_feature(const struct hci_dev *hci, unsigned bit);
sd_event *hci_get_event(const struct hci_dev *hci);

/* hci-conn.c */
struct hci_conn *hci_conn_new(struct hci_dev *hci, const struct hci_evt *ev);
struct hci_conn *hci_conn_find(struct hci_dev *hci, uint16_t handle);
void hci_conn_gone(struct hci_conn *c, uint8_t reason);
void hci_conn_acl_in(struct hci_dev *hci, const uint8_t *pkt, size_t len);
void hci_conn_le_event(struct hci_dev *hci, const struct hci_evt *ev);
void hci_conn_credits(struct hci_dev *hci, const struct hci_evt *ev);
void hci_conn_start(struct hci_conn *c); /* after Connection Complete: features, DLE, PHY */
void hci_acl_schedule(struct hci_dev *hci);
int l2cap_send(struct hci_conn *c, uint16_t cid, const uint8_t *sdu, size_t len);
struct att *hci_conn_att(const struct hci_conn *c);
bool hci_conn_is_central(const struct hci_conn *c);

/* hci-scan.c / hci-adv.c / hci-dev.c shared state access */
void hci_scan_report_event(struct hci_dev *hci, const struct hci_evt *ev);
void hci_scan_abort(struct hci_dev *hci, int err);
void hci_adv_conn_event(struct hci_dev *hci, struct hci_conn *c);
void hci_adv_conn_ended(struct hci_dev *hci, struct hci_conn *c);
void hci_adv_abort(struct hci_dev *hci, int err);
void hci_connect_event(struct hci_dev *hci, const struct hci_evt *ev);
void hci_connect_abort(struct hci_dev *hci, int err);
/* hci_dev_close(): the owner of a pending attempt hears -ECANCELED now; the attempt itself
 * ends when the controller answers the cancel (a connection that won the race is dropped). */
void hci_connect_disown(struct hci_dev *hci);
/* hci_dev_close() is done once no link is left and no attempt is pending: checks that. */
void hci_close_check(struct hci_dev *hci);

/* ---- private structs of the HCI core (hci-dev.c, hci-conn.c, hci-scan.c, hci-adv.c) ---- */
struct hci_cmd {
	struct hci_cmd *next;
	uint16_t opcode;
	uint8_t plen;
	uint8_t params[255];
	hci_cmd_fn fn;
	void *user_data;
	uint64_t sent_usec;
};

#define HCI_SCAN_CACHE 16

struct hci_scan_entry {
	struct bt_addr addr;
	struct adv_data ad;
	uint64_t seen;
};

struct hci_dev {
	sd_event *event;
	struct hci_driver *drv;
	struct hci_dev_callbacks cb;
	void *user_data;
	otad_destroy_fn destroy;
	hci_debug_fn debug;
	void *debug_data;
	otad_destroy_fn debug_destroy;

	bool ready, dead, freeing;
	unsigned init_step;

	/* hci_dev_close(): waiting for the links to end */
	bool closing, close_done;
	int close_err;
	hci_close_fn close_fn;
	void *close_data;
	otad_destroy_fn close_destroy;
	sd_event_source *close_timer, *close_defer;
	char last_error[128];

	/* controller facts (init) */
	struct hci_dev_info info;
	uint8_t commands[64];
	uint8_t features[8];

	/* command flow control (Core 5.4 Vol 4 Part E 4.4) */
	struct hci_cmd *cmd_head, *cmd_tail; /* waiting to be sent */
	struct hci_cmd *sent;		     /* sent, waiting for complete/status */
	uint8_t cmd_credits;
	sd_event_source *cmd_timer;

	/* ACL flow control (Core 5.4 Vol 4 Part E 4.1.1) */
	uint16_t acl_mtu, acl_total, acl_free, acl_peak;
	struct hci_conn *conns;
	uint16_t rr_last; /* handle served last, for round robin */

	/* scanning */
	bool scanning, scan_wanted;
	struct hci_scan_params scan_params;
	hci_scan_fn scan_fn;
	void *scan_data;
	otad_destroy_fn scan_destroy;
	struct hci_scan_entry scan_cache[HCI_SCAN_CACHE];
	uint64_t scan_seq;

	/* advertising */
	bool adv_armed, adv_enabled, adv_busy;
	uint8_t adv_data[31], adv_data_len, scan_rsp[31], scan_rsp_len;
	uint16_t adv_interval_min, adv_interval_max;
	hci_accept_fn adv_fn;
	void *adv_user_data;
	otad_destroy_fn adv_destroy;

	/* connecting */
	bool connecting, connect_cancelled;
	struct bt_addr connect_peer;
	struct hci_conn_params connect_params;
	hci_connect_fn connect_fn;
	void *connect_data;
	otad_destroy_fn connect_destroy;
	sd_event_source *connect_timer;
	int connect_err; /* reported when the Connection Complete of a cancel arrives */
};

struct hci_conn {
	unsigned ref;
	struct hci_dev *hci; /* NULL once gone */
	struct hci_conn *next;
	struct hci_conn_info info;
	bool from_adv;
	uint8_t disc_reason; /* hci_conn_disconnect() was asked, with this reason */

	struct hci_conn_callbacks cb;
	void *user_data;
	otad_destroy_fn destroy;

	struct acl_pkt *txq_head, *txq_tail;
	size_t txq_bytes;
	unsigned in_flight;
	bool want_writable;

	struct l2cap_reasm reasm;
	struct att *att;
};
