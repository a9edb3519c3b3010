/* l2cap-pdu.h — L2CAP on LE (Core 5.4 Vol 3 Part A): fixed channel IDs, basic frames cut into
 * ACL packets and put back together, the LE signaling commands this host answers, and the
 * refusal of pairing on the SMP channel. Pure functions over buffers (l2cap-pdu.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/hci-pkt.h"

enum { L2CAP_CID_ATT = 0x0004, L2CAP_CID_LE_SIGNALING = 0x0005, L2CAP_CID_SMP = 0x0006 };
#define L2CAP_HDR_LEN 4

/* Splits one L2CAP basic frame (header added here) into ACL packets of at most acl_mtu payload
 * bytes: the first with PB "start", the rest "continuing". Returns the list or NULL (-ENOMEM). */
struct acl_pkt *l2cap_fragment(uint16_t handle, uint16_t cid, const uint8_t *sdu, size_t len,
			       uint16_t acl_mtu, unsigned *ret_count);

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
