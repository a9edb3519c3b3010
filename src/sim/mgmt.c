/* mgmt.c — SMP request dispatch of the simulated device.
 * Source: zephyr subsys/mgmt/mcumgr/smp/src/smp.c (smp_handle_single_req, smp_build_err_rsp,
 * smp_add_cmd_err), grp/img_mgmt/src/img_mgmt.c (img_mgmt_translate_error_code),
 * grp/os_mgmt/src/os_mgmt.c. */
#include "sim/mgmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"

int32_t sim_mgmt_img_err_to_v1(uint16_t err)
{
	switch (err) {
	case IMG_MGMT_ERR_OK:
		return MGMT_ERR_EOK;
	case IMG_MGMT_ERR_NO_IMAGE:
	case IMG_MGMT_ERR_NO_TLVS:
		return MGMT_ERR_ENOENT;
	case IMG_MGMT_ERR_NO_FREE_SLOT:
	case IMG_MGMT_ERR_CURRENT_VERSION_IS_NEWER:
	case IMG_MGMT_ERR_IMAGE_ALREADY_PENDING:
		return MGMT_ERR_EBADSTATE;
	case IMG_MGMT_ERR_NO_FREE_MEMORY:
		return MGMT_ERR_ENOMEM;
	case IMG_MGMT_ERR_INVALID_SLOT:
	case IMG_MGMT_ERR_INVALID_PAGE_OFFSET:
	case IMG_MGMT_ERR_INVALID_OFFSET:
	case IMG_MGMT_ERR_INVALID_LENGTH:
	case IMG_MGMT_ERR_INVALID_IMAGE_HEADER:
	case IMG_MGMT_ERR_INVALID_HASH:
	case IMG_MGMT_ERR_INVALID_FLASH_ADDRESS:
		return MGMT_ERR_EINVAL;
	default:
		return MGMT_ERR_EUNKNOWN;
	}
}

/* Writes header + body; the body encoder's -ENOBUFS becomes MGMT_ERR_EMSGSIZE. */
static void put_rsp(struct sim_mgmt *m, int body_len);

/* put_rsp() falls back to put_mgmt_err() once: an error that does not fit either is dropped. */
/* NOLINTNEXTLINE(misc-no-recursion) */
static void put_mgmt_err(struct sim_mgmt *m, int32_t rc)
{
	struct smp_err e = {.v2 = false, .rc = rc};

	m->rc = rc;
	put_rsp(m, smp_err_rsp_encode(m->rsp + SMP_HDR_SIZE, m->rsp_size - SMP_HDR_SIZE, &e));
}

/* NOLINTNEXTLINE(misc-no-recursion): one level, see put_mgmt_err() */
static void put_rsp(struct sim_mgmt *m, int body_len)
{
	struct smp_hdr h = m->hdr;

	if (body_len < 0) {
		if (m->rc == MGMT_ERR_EMSGSIZE) { /* not even the error fits */
			m->rsp_len = 0;
			return;
		}
		put_mgmt_err(m, MGMT_ERR_EMSGSIZE);
		return;
	}
	h.op = h.op == SMP_OP_READ ? SMP_OP_READ_RSP : SMP_OP_WRITE_RSP;
	h.ver = MIN(h.ver, (uint8_t)SMP_VER_2);
	h.flags = 0;
	h.len = (uint16_t)body_len;
	smp_hdr_encode(&h, m->rsp);
	m->rsp_len = SMP_HDR_SIZE + (size_t)body_len;
}

/* A group 1 error: {"err": {"group": 1, "rc": r}} for v2, translated {"rc": n} for v1. */
static void put_img_err(struct sim_mgmt *m, uint16_t err)
{
	struct smp_err e = {.v2 = true, .group = SMP_GROUP_IMAGE, .rc = err};

	if (m->hdr.ver == SMP_VER_1) {
		put_mgmt_err(m, sim_mgmt_img_err_to_v1(err));
		return;
	}
	m->rc = err;
	put_rsp(m, smp_err_rsp_encode(m->rsp + SMP_HDR_SIZE, m->rsp_size - SMP_HDR_SIZE, &e));
}

static uint8_t *body_buf(struct sim_mgmt *m)
{
	return m->rsp + SMP_HDR_SIZE;
}

static size_t body_size(struct sim_mgmt *m)
{
	return m->rsp_size - SMP_HDR_SIZE;
}

static void os_echo(struct sim_mgmt *m, const uint8_t *body)
{
	/* the text is never longer than the body it came in */
	_cleanup_free_ char *text = malloc((size_t)m->hdr.len + 1);

	if (!text) {
		put_mgmt_err(m, MGMT_ERR_ENOMEM);
		return;
	}
	if (smp_echo_req_decode(body, m->hdr.len, text, (size_t)m->hdr.len + 1, NULL) < 0) {
		put_mgmt_err(m, MGMT_ERR_EINVAL);
		return;
	}
	put_rsp(m, smp_echo_rsp_encode(body_buf(m), body_size(m), text));
}

static void os_group(struct sim_device *d, struct sim_mgmt *m, const uint8_t *body)
{
	const struct sim_profile *p = sim_device_profile(d);
	bool write = m->hdr.op == SMP_OP_WRITE, force = false;

	switch (m->hdr.id) {
	case SMP_OS_ECHO:
		os_echo(m, body);
		return;
	case SMP_OS_RESET:
		if (!write)
			break;
		if (smp_reset_req_decode(body, m->hdr.len, &force, NULL) < 0) {
			put_mgmt_err(m, MGMT_ERR_EINVAL);
			return;
		}
		m->kind = SIM_MGMT_RESET;
		m->reset = true;
		put_rsp(m, smp_ok_rsp_encode(body_buf(m), body_size(m), m->hdr.ver == SMP_VER_1));
		return;
	case SMP_OS_PARAMS:
		if (write)
			break;
		put_rsp(m, smp_params_rsp_encode(body_buf(m), body_size(m), p->buf_size,
						 p->buf_count));
		return;
	}
	put_mgmt_err(m, MGMT_ERR_ENOTSUP);
}

static void put_state(struct sim_device *d, struct sim_mgmt *m)
{
	struct smp_image_state st;

	sim_device_state_read(d, &st);
	put_rsp(m, smp_image_state_encode(body_buf(m), body_size(m), &st));
}

static void img_state_write(struct sim_device *d, struct sim_mgmt *m, const uint8_t *body,
			    struct sim_work *w)
{
	struct smp_state_write_req r;
	uint16_t rc;

	m->kind = SIM_MGMT_STATE_WRITE;
	m->state = SIM_STATE_ERROR;
	if (smp_state_write_req_decode(body, m->hdr.len, &r, NULL) < 0) {
		put_mgmt_err(m, MGMT_ERR_EINVAL);
		return;
	}
	m->confirm = r.confirm;
	m->has_hash = r.has_hash && r.hash_len == sizeof(m->hash);
	if (m->has_hash)
		memcpy(m->hash, r.hash, sizeof(m->hash));
	rc = sim_device_state_write(d, &r, w, &m->state);
	if (rc != 0)
		put_img_err(m, rc);
	else
		put_state(d, m);
}

static void img_erase(struct sim_device *d, struct sim_mgmt *m, const uint8_t *body,
		      struct sim_work *w)
{
	int slot = -1;
	uint16_t rc;

	m->kind = SIM_MGMT_ERASE;
	if (smp_erase_req_decode(body, m->hdr.len, &slot, NULL) < 0) {
		put_mgmt_err(m, MGMT_ERR_EINVAL);
		return;
	}
	rc = sim_device_erase(d, slot, w);
	if (rc != 0)
		put_img_err(m, rc);
	else
		put_rsp(m, smp_ok_rsp_encode(body_buf(m), body_size(m), m->hdr.ver == SMP_VER_1));
}

static void img_upload(struct sim_device *d, struct sim_mgmt *m, const uint8_t *body, bool corrupt,
		       struct sim_work *w)
{
	_cleanup_free_ uint8_t *copy = NULL;
	struct smp_upload_req r;

	m->kind = SIM_MGMT_UPLOAD;
	if (smp_upload_req_decode(body, m->hdr.len, &r, NULL) < 0) {
		m->upload.result = SIM_UPLOAD_ERROR;
		put_mgmt_err(m, MGMT_ERR_EINVAL);
		return;
	}
	m->off = r.off;
	m->data_len = (uint32_t)r.data_len;
	if (corrupt && r.data_len > 0) {
		/* another request overwrote this one's buffer: flip bits of the image data */
		copy = malloc(r.data_len);
		if (copy) {
			memcpy(copy, r.data, r.data_len);
			for (unsigned i = 0; i < 8; i++)
				copy[sim_prng_below(sim_device_prng(d), r.data_len)] ^=
					(uint8_t)(1u << (i % 8));
			r.data = copy;
		}
	}
	sim_device_upload(d, &r, w, &m->upload);
}

static void img_group(struct sim_device *d, struct sim_mgmt *m, const uint8_t *body, bool corrupt,
		      struct sim_work *w)
{
	bool write = m->hdr.op == SMP_OP_WRITE;
	struct smp_slot_info_rsp si;

	switch (m->hdr.id) {
	case SMP_IMG_STATE:
		if (write)
			img_state_write(d, m, body, w);
		else
			put_state(d, m);
		return;
	case SMP_IMG_UPLOAD:
		if (!write)
			break;
		img_upload(d, m, body, corrupt, w);
		return;
	case SMP_IMG_ERASE:
		if (!write)
			break;
		img_erase(d, m, body, w);
		return;
	case SMP_IMG_SLOT_INFO:
		if (write || !sim_device_profile(d)->slot_info)
			break; /* built without CONFIG_MCUMGR_GRP_IMG_SLOT_INFO: not supported */
		sim_device_slot_info(d, &si);
		put_rsp(m, smp_slot_info_rsp_encode(body_buf(m), body_size(m), &si));
		return;
	}
	put_mgmt_err(m, MGMT_ERR_ENOTSUP);
}

void sim_mgmt_begin(struct sim_device *d, const uint8_t *pkt, size_t len, bool corrupt,
		    struct sim_work *w, uint8_t *rsp, size_t rsp_size, struct sim_mgmt *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->rsp = rsp;
	ret->rsp_size = rsp_size;
	if (rsp_size < SMP_HDR_SIZE + 8 || smp_hdr_decode(pkt, len, &ret->hdr) < 0)
		return; /* smp_read_hdr() failed: nothing to answer */
	ret->has_hdr = true;
	if (ret->hdr.ver > SMP_VER_2) {
		put_mgmt_err(ret, MGMT_ERR_UNSUPPORTED_TOO_NEW);
		return;
	}
	if (len - SMP_HDR_SIZE < ret->hdr.len) {
		put_mgmt_err(ret, MGMT_ERR_ECORRUPT); /* the buffer lacks part of the message */
		return;
	}
	if (ret->hdr.op != SMP_OP_READ && ret->hdr.op != SMP_OP_WRITE) {
		put_mgmt_err(ret, MGMT_ERR_ENOTSUP);
		return;
	}
	if (ret->hdr.group == SMP_GROUP_OS)
		os_group(d, ret, pkt + SMP_HDR_SIZE);
	else if (ret->hdr.group == SMP_GROUP_IMAGE)
		img_group(d, ret, pkt + SMP_HDR_SIZE, corrupt, w);
	else
		put_mgmt_err(ret, MGMT_ERR_ENOTSUP);
}

void sim_mgmt_finish(struct sim_device *d, struct sim_work *w, struct sim_mgmt *m)
{
	struct sim_upload *u = &m->upload;
	struct smp_upload_rsp r = {0};

	if (m->kind != SIM_MGMT_UPLOAD || m->rsp_len > 0)
		return;
	sim_device_upload_check(d, u, w);
	if (u->result == SIM_UPLOAD_ERROR) {
		put_img_err(m, u->rc);
		return;
	}
	r.has_off = true;
	r.off = u->off;
	r.has_match = u->has_match;
	r.match = u->match;
	put_rsp(m, smp_upload_rsp_encode(body_buf(m), body_size(m), &r, m->hdr.ver == SMP_VER_1));
}
