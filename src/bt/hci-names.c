/* hci-names.c — names of HCI error codes (Core 5.4 Vol 1 Part F 1.3), of the HCI commands this
 * host sends (Vol 4 Part E 7) and of ATT error codes (Vol 3 Part F 3.4.1.1), for error texts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bt/hci-pkt.h"
#include "otad/bt.h"
#include "util/macro.h"

static const char *const hci_errors[] = {
	[0x00] = "Success",
	[0x01] = "Unknown HCI Command",
	[0x02] = "Unknown Connection Identifier",
	[0x03] = "Hardware Failure",
	[0x04] = "Page Timeout",
	[0x05] = "Authentication Failure",
	[0x06] = "PIN or Key Missing",
	[0x07] = "Memory Capacity Exceeded",
	[0x08] = "Connection Timeout",
	[0x09] = "Connection Limit Exceeded",
	[0x0a] = "Synchronous Connection Limit To A Device Exceeded",
	[0x0b] = "Connection Already Exists",
	[0x0c] = "Command Disallowed",
	[0x0d] = "Connection Rejected due to Limited Resources",
	[0x0e] = "Connection Rejected Due To Security Reasons",
	[0x0f] = "Connection Rejected due to Unacceptable BD_ADDR",
	[0x10] = "Connection Accept Timeout Exceeded",
	[0x11] = "Unsupported Feature or Parameter Value",
	[0x12] = "Invalid HCI Command Parameters",
	[0x13] = "Remote User Terminated Connection",
	[0x14] = "Remote Device Terminated Connection due to Low Resources",
	[0x15] = "Remote Device Terminated Connection due to Power Off",
	[0x16] = "Connection Terminated By Local Host",
	[0x17] = "Repeated Attempts",
	[0x18] = "Pairing Not Allowed",
	[0x19] = "Unknown LMP PDU",
	[0x1a] = "Unsupported Remote Feature",
	[0x1b] = "SCO Offset Rejected",
	[0x1c] = "SCO Interval Rejected",
	[0x1d] = "SCO Air Mode Rejected",
	[0x1e] = "Invalid LMP Parameters / Invalid LL Parameters",
	[0x1f] = "Unspecified Error",
	[0x20] = "Unsupported LMP Parameter Value / Unsupported LL Parameter Value",
	[0x21] = "Role Change Not Allowed",
	[0x22] = "LMP Response Timeout / LL Response Timeout",
	[0x23] = "LMP Error Transaction Collision / LL Procedure Collision",
	[0x24] = "LMP PDU Not Allowed",
	[0x25] = "Encryption Mode Not Acceptable",
	[0x26] = "Link Key cannot be Changed",
	[0x27] = "Requested QoS Not Supported",
	[0x28] = "Instant Passed",
	[0x29] = "Pairing With Unit Key Not Supported",
	[0x2a] = "Different Transaction Collision",
	[0x2c] = "QoS Unacceptable Parameter",
	[0x2d] = "QoS Rejected",
	[0x2e] = "Channel Classification Not Supported",
	[0x2f] = "Insufficient Security",
	[0x30] = "Parameter Out Of Mandatory Range",
	[0x32] = "Role Switch Pending",
	[0x34] = "Reserved Slot Violation",
	[0x35] = "Role Switch Failed",
	[0x36] = "Extended Inquiry Response Too Large",
	[0x37] = "Secure Simple Pairing Not Supported By Host",
	[0x38] = "Host Busy - Pairing",
	[0x39] = "Connection Rejected due to No Suitable Channel Found",
	[0x3a] = "Controller Busy",
	[0x3b] = "Unacceptable Connection Parameters",
	[0x3c] = "Advertising Timeout",
	[0x3d] = "Connection Terminated due to MIC Failure",
	[0x3e] = "Connection Failed to be Established / Synchronization Timeout",
	[0x40] = "Coarse Clock Adjustment Rejected but Will Try to Adjust Using Clock Dragging",
	[0x41] = "Type0 Submap Not Defined",
	[0x42] = "Unknown Advertising Identifier",
	[0x43] = "Limit Reached",
	[0x44] = "Operation Cancelled by Host",
	[0x45] = "Packet Too Long",
	[0x46] = "Too Late",
	[0x47] = "Too Early",
};

const char *hci_strerror(uint8_t status)
{
	if (status < ARRAY_SIZE(hci_errors) && hci_errors[status])
		return hci_errors[status];
	return "Unknown";
}

int hci_status_to_errno(uint8_t status)
{
	switch (status) {
	case 0x00:
		return 0;
	case 0x02: /* Unknown Connection Identifier */
		return -ENOTCONN;
	case 0x03: /* Hardware Failure: the controller is gone */
		return -ENODEV;
	case 0x05: /* Authentication Failure */
	case 0x06: /* PIN or Key Missing */
	case 0x0e: /* Rejected Due To Security Reasons */
	case 0x2f: /* Insufficient Security */
		return -EACCES;
	case 0x07: /* Memory Capacity Exceeded */
	case 0x09: /* Connection Limit Exceeded */
	case 0x0d: /* Rejected due to Limited Resources */
	case 0x14: /* Remote Device Terminated Connection due to Low Resources */
		return -ENOBUFS;
	case 0x08: /* Connection Timeout: supervision timeout, the peer went silent */
	case 0x10: /* Connection Accept Timeout Exceeded */
	case 0x22: /* LL Response Timeout */
		return -ETIMEDOUT;
	case 0x0c: /* Command Disallowed */
		return -EBUSY;
	case 0x11: /* Unsupported Feature or Parameter Value */
	case 0x1a: /* Unsupported Remote Feature */
		return -EOPNOTSUPP;
	case 0x12: /* Invalid HCI Command Parameters */
	case 0x1e: /* Invalid LL Parameters */
	case 0x30: /* Parameter Out Of Mandatory Range */
	case 0x3b: /* Unacceptable Connection Parameters */
		return -EINVAL;
	case 0x13: /* Remote User Terminated Connection */
		return -ECONNRESET;
	case 0x15: /* Remote Device Terminated Connection due to Power Off */
		return -EHOSTDOWN;
	case 0x16: /* Connection Terminated By Local Host */
		return -ECONNABORTED;
	case 0x3d: /* Connection Terminated due to MIC Failure */
		return -EBADMSG;
	case 0x3e: /* Connection Failed to be Established */
		return -ECONNREFUSED;
	default:
		return -EIO;
	}
}

static const struct {
	uint16_t opcode;
	const char *name;
} hci_commands[] = {
	{HCI_OP_DISCONNECT, "Disconnect"},
	{HCI_OP_SET_EVENT_MASK, "Set Event Mask"},
	{HCI_OP_RESET, "Reset"},
	{HCI_OP_READ_LOCAL_VERSION, "Read Local Version Information"},
	{HCI_OP_READ_LOCAL_COMMANDS, "Read Local Supported Commands"},
	{HCI_OP_READ_LOCAL_FEATURES, "Read Local Supported Features"},
	{HCI_OP_READ_BUFFER_SIZE, "Read Buffer Size"},
	{HCI_OP_READ_BD_ADDR, "Read BD_ADDR"},
	{HCI_OP_LE_SET_EVENT_MASK, "LE Set Event Mask"},
	{HCI_OP_LE_READ_BUFFER_SIZE, "LE Read Buffer Size"},
	{HCI_OP_LE_READ_LOCAL_FEATURES, "LE Read Local Supported Features"},
	{HCI_OP_LE_SET_ADV_PARAMS, "LE Set Advertising Parameters"},
	{HCI_OP_LE_SET_ADV_DATA, "LE Set Advertising Data"},
	{HCI_OP_LE_SET_SCAN_RSP_DATA, "LE Set Scan Response Data"},
	{HCI_OP_LE_SET_ADV_ENABLE, "LE Set Advertising Enable"},
	{HCI_OP_LE_SET_SCAN_PARAMS, "LE Set Scan Parameters"},
	{HCI_OP_LE_SET_SCAN_ENABLE, "LE Set Scan Enable"},
	{HCI_OP_LE_CREATE_CONN, "LE Create Connection"},
	{HCI_OP_LE_CREATE_CONN_CANCEL, "LE Create Connection Cancel"},
	{HCI_OP_LE_CONN_UPDATE, "LE Connection Update"},
	{HCI_OP_LE_READ_REMOTE_FEATURES, "LE Read Remote Features"},
	{HCI_OP_LE_READ_SUPPORTED_STATES, "LE Read Supported States"},
	{HCI_OP_LE_CONN_PARAM_REQ_REPLY, "LE Remote Connection Parameter Request Reply"},
	{HCI_OP_LE_CONN_PARAM_REQ_NEG_REPLY,
	 "LE Remote Connection Parameter Request Negative Reply"},
	{HCI_OP_LE_SET_DATA_LENGTH, "LE Set Data Length"},
	{HCI_OP_LE_SET_PHY, "LE Set PHY"},
	{HCI_OP_LE_SET_EXT_SCAN_PARAMS, "LE Set Extended Scan Parameters"},
	{HCI_OP_LE_SET_EXT_SCAN_ENABLE, "LE Set Extended Scan Enable"},
	{HCI_OP_LE_EXT_CREATE_CONN, "LE Extended Create Connection"},
	{HCI_OP_LE_READ_BUFFER_SIZE_V2, "LE Read Buffer Size v2"},
};

const char *hci_opcode_name(uint16_t opcode)
{
	for (size_t i = 0; i < ARRAY_SIZE(hci_commands); i++)
		if (hci_commands[i].opcode == opcode)
			return hci_commands[i].name;
	return "Unknown command";
}

void hci_format_failure(uint16_t opcode, uint8_t status, char *buf, size_t size)
{
	if (!strcmp(hci_opcode_name(opcode), "Unknown command"))
		snprintf(buf, size, "HCI command 0x%04x failed: 0x%02x %s", opcode, status,
			 hci_strerror(status));
	else
		snprintf(buf, size, "%s failed: 0x%02x %s", hci_opcode_name(opcode), status,
			 hci_strerror(status));
}

static const char *const att_errors[] = {
	[0x01] = "Invalid Handle",
	[0x02] = "Read Not Permitted",
	[0x03] = "Write Not Permitted",
	[0x04] = "Invalid PDU",
	[0x05] = "Insufficient Authentication",
	[0x06] = "Request Not Supported",
	[0x07] = "Invalid Offset",
	[0x08] = "Insufficient Authorization",
	[0x09] = "Prepare Queue Full",
	[0x0a] = "Attribute Not Found",
	[0x0b] = "Attribute Not Long",
	[0x0c] = "Encryption Key Size Too Short",
	[0x0d] = "Invalid Attribute Value Length",
	[0x0e] = "Unlikely Error",
	[0x0f] = "Insufficient Encryption",
	[0x10] = "Unsupported Group Type",
	[0x11] = "Insufficient Resources",
	[0x12] = "Database Out Of Sync",
	[0x13] = "Value Not Allowed",
};

const char *att_strerror(uint8_t ecode)
{
	/* Core Specification Supplement Part B 1.2: common profile and service error codes */
	switch (ecode) {
	case 0xfc:
		return "Write Request Rejected";
	case 0xfd:
		return "Client Characteristic Configuration Descriptor Improperly Configured";
	case 0xfe:
		return "Procedure Already in Progress";
	case 0xff:
		return "Out of Range";
	}
	if (ecode < ARRAY_SIZE(att_errors) && att_errors[ecode])
		return att_errors[ecode];
	if (ecode >= 0x80 && ecode <= 0x9f)
		return "Application Error";
	return "Unknown";
}
