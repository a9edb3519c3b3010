/* hci-pkt.h — HCI packets (Core 5.4 Vol 4 Part E 5 and 7): opcodes, events, error codes,
 * supported-command and LE feature bits, the event masks the host sets, and the pure codecs of
 * hci-pkt.c: command parameters built, events and ACL data decoded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/bt.h"

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
	HCI_OP_LE_ENABLE_ENCRYPTION = HCI_OP(0x08, 0x0019),
	HCI_OP_LE_LTK_REQ_REPLY = HCI_OP(0x08, 0x001a),
	HCI_OP_LE_LTK_REQ_NEG_REPLY = HCI_OP(0x08, 0x001b),
	HCI_OP_LE_READ_SUPPORTED_STATES = HCI_OP(0x08, 0x001c),
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
	HCI_EV_ENCRYPT_CHANGE = 0x08,
	HCI_EV_CMD_COMPLETE = 0x0e,
	HCI_EV_CMD_STATUS = 0x0f,
	HCI_EV_HW_ERROR = 0x10,
	HCI_EV_NUM_COMP_PKTS = 0x13,
	HCI_EV_DATA_BUF_OVERFLOW = 0x1a,
	HCI_EV_ENCRYPT_KEY_REFRESH = 0x30,
	HCI_EV_LE_META = 0x3e,
};
enum {
	HCI_LE_CONN_COMPLETE = 0x01,
	HCI_LE_ADV_REPORT = 0x02,
	HCI_LE_CONN_UPDATE_COMPLETE = 0x03,
	HCI_LE_REMOTE_FEATURES = 0x04,
	HCI_LE_LTK_REQUEST = 0x05,
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
	HCI_ERR_PIN_OR_KEY_MISSING = 0x06,
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
	HCI_CMDBIT_LE_READ_SUPPORTED_STATES = HCI_CMD_BIT(28, 3),
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

/* LE Supported States (Core 5.4 Vol 4 Part E 7.8.27): the scanning + initiating combinations */
enum {
	LE_STATE_PASSIVE_SCAN_INITIATING = 22,
	LE_STATE_ACTIVE_SCAN_INITIATING = 23,
};

/* Event masks the host sets (Core 5.4 Vol 4 Part E 7.3.1 and 7.8.1) */
#define HCI_EVENT_MASK                                                                             \
	((1ULL << 4) | (1ULL << 7) | (1ULL << 11) | (1ULL << 15) | (1ULL << 25) | (1ULL << 47) |   \
	 (1ULL << 61))
#define HCI_LE_EVENT_MASK                                                                          \
	((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 3) | (1ULL << 4) | (1ULL << 5) |       \
	 (1ULL << 6) | (1ULL << 11) | (1ULL << 12))
#define HCI_LE_EVENT_MASK_EXT (HCI_LE_EVENT_MASK | (1ULL << 9)) /* + Enhanced Conn Complete */

/* ---- codecs (hci-pkt.c) ---- */

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
		struct {
			uint8_t status;
			uint16_t handle;
			bool enabled; /* Key Refresh Complete: true */
		} encrypt;
		struct {
			uint16_t handle, ediv;
			uint8_t rand[8];
		} ltk_req;
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

/* One ACL packet for the controller, ACL header included (what l2cap_fragment() makes and a
 * connection's send queue holds). */
struct acl_pkt {
	struct acl_pkt *next;
	uint16_t len; /* bytes in data */
	uint8_t data[];
};
void acl_pkt_free_list(struct acl_pkt *p);

/* Writes "LE Create Connection failed: 0x0c Command Disallowed" (hci-names.c). */
void hci_format_failure(uint16_t opcode, uint8_t status, char *buf, size_t size);
