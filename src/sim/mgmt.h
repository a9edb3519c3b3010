/* mgmt.h — the device's SMP server: decodes one request packet with the smp codecs, runs it on
 * the device model, encodes the response the way Zephyr's smp.c does (header, v1/v2 error forms,
 * "not supported" for what is not built in). No I/O: the server times and carries the bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otad/smp.h"
#include "sim/device.h"

enum sim_mgmt_kind {
	SIM_MGMT_OTHER,
	SIM_MGMT_UPLOAD,
	SIM_MGMT_STATE_WRITE,
	SIM_MGMT_ERASE,
	SIM_MGMT_RESET,
};

struct sim_mgmt {
	enum sim_mgmt_kind kind;
	bool has_hdr; /* false: not an SMP packet, nothing is answered */
	struct smp_hdr hdr;
	bool reset; /* os_mgmt reset: reboot after the reset delay */
	int32_t rc; /* the answered error (group rc in v2 form, else mgmt rc), 0 = none */
	/* upload */
	struct sim_upload upload;
	uint32_t off; /* request's "off" */
	uint32_t data_len;
	/* state write */
	enum sim_state_write_result state;
	bool has_hash, confirm;
	uint8_t hash[32];
	/* the response, header included */
	size_t rsp_len;
	uint8_t *rsp; /* caller's buffer */
	size_t rsp_size;
};

/* Decodes and runs pkt (header + body) on d at the start of the worker's turn, and encodes the
 * response into rsp (rsp_size: the device's net_buf size) -- except for uploads, whose response
 * sim_mgmt_finish() encodes after the image check. corrupt: the request's buffer was overwritten
 * while it waited (the upload data is damaged before it is written). */
void sim_mgmt_begin(struct sim_device *d, const uint8_t *pkt, size_t len, bool corrupt,
		    struct sim_work *w, uint8_t *rsp, size_t rsp_size, struct sim_mgmt *ret);
void sim_mgmt_finish(struct sim_device *d, struct sim_work *w, struct sim_mgmt *m);

/* Zephyr's img_mgmt_translate_error_code(): group 1 code to the SMP v1 rc. */
int32_t sim_mgmt_img_err_to_v1(uint16_t err);
