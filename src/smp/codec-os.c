/* codec-os.c — CBOR bodies of the OS management group (0): echo, reset, mcumgr parameters.
 * Zephyr "SMP group 0" (doc/services/device_mgmt/smp_groups/smp_group_0.rst). */
#include <errno.h>
#include <string.h>

#include "otad/smp.h"
#include "smp/cbor-writer.h"
#include "smp/decoder.h"

/* ---- Echo (id 0): {"d": text} -> {"r": text} ------------------------------------------------ */

int smp_echo_req_encode(uint8_t *buf, size_t size, const char *text)
{
	struct cbor_writer w;

	if (!text)
		text = "";
	cw_init(&w, buf, size);
	cw_map(&w, 1);
	cw_key(&w, "d");
	cw_text(&w, text, strlen(text));
	return cw_finish(&w);
}

struct echo_req {
	char *text;
	size_t size;
};

static int decode_echo_text(struct cbor_reader *r, void *target, const struct smp_field *f,
			    const char **ret_reason)
{
	struct echo_req *t = target;
	struct cr_item it;

	if (smp_read_typed(r, CR_TEXT, f, &it, ret_reason) < 0)
		return -EBADMSG;
	smp_copy_text(t->text, t->size, it.data, it.len);
	return 0;
}

static const struct smp_field echo_req_fields[] = {
	SMP_CUSTOM("echo request", "d", "a text string", decode_echo_text),
};
static const struct smp_msg echo_req_msg = SMP_MSG("echo request", echo_req_fields);

int smp_echo_req_decode(const uint8_t *body, size_t len, char *text, size_t text_size,
			const char **ret_reason)
{
	struct echo_req t = {.text = text, .size = text_size};
	uint32_t seen;

	if (!text || text_size == 0)
		return -EINVAL;
	text[0] = '\0';
	if (smp_decode_body(body, len, &echo_req_msg, &t, &seen, ret_reason) < 0)
		return -EBADMSG;
	if (!(seen & 1u))
		return smp_bad(ret_reason, "echo request: 'd' missing");
	return 0;
}

int smp_echo_rsp_encode(uint8_t *buf, size_t size, const char *text)
{
	struct cbor_writer w;

	if (!text)
		text = "";
	cw_init(&w, buf, size);
	cw_map(&w, 1);
	cw_key(&w, "r");
	cw_text(&w, text, strlen(text));
	return cw_finish(&w);
}

enum { ECHO_RSP_R };
static const struct smp_field echo_rsp_fields[] = {
	[ECHO_RSP_R] = SMP_TEXT("echo response", "r", struct smp_echo_rsp, text),
	SMP_ERR_FIELDS("echo response", struct smp_echo_rsp, err),
};
static const struct smp_msg echo_rsp_msg = SMP_MSG("echo response", echo_rsp_fields);

int smp_echo_rsp_decode(const uint8_t *body, size_t len, struct smp_echo_rsp *ret,
			const char **ret_reason)
{
	uint32_t seen;

	*ret = (struct smp_echo_rsp){0};
	if (smp_decode_body(body, len, &echo_rsp_msg, ret, &seen, ret_reason) < 0)
		return -EBADMSG;
	if (smp_err_ok(&ret->err) && !(seen & 1u << ECHO_RSP_R))
		return smp_bad(ret_reason, "echo response: 'r' missing");
	return 0;
}

/* ---- Reset (id 5): {} or {"force": true} ---------------------------------------------------- */

int smp_reset_req_encode(uint8_t *buf, size_t size, bool force)
{
	struct cbor_writer w;

	cw_init(&w, buf, size);
	cw_map(&w, force ? 1 : 0);
	if (force) {
		cw_key(&w, "force");
		cw_bool(&w, true);
	}
	return cw_finish(&w);
}

/* Zephyr's os_mgmt takes a bool; its group 0 doc says "(int), force if > 0". Accept both. */
static int decode_force(struct cbor_reader *r, void *target, const struct smp_field *f,
			const char **ret_reason)
{
	struct cr_item it;

	if (cr_read(r, &it) < 0)
		return smp_bad(ret_reason, r->err);
	switch (it.type) {
	case CR_BOOL:
		*(bool *)target = it.b;
		return 0;
	case CR_UINT:
		*(bool *)target = it.u > 0;
		return 0;
	case CR_NEGINT:
		*(bool *)target = false;
		return 0;
	default:
		return smp_bad(ret_reason, f->bad_type);
	}
}

static const struct smp_field reset_req_fields[] = {
	SMP_CUSTOM("reset request", "force", "a boolean or an integer", decode_force),
};
static const struct smp_msg reset_req_msg = SMP_MSG("reset request", reset_req_fields);

int smp_reset_req_decode(const uint8_t *body, size_t len, bool *ret_force, const char **ret_reason)
{
	bool force = false;
	int r;

	r = smp_decode_body(body, len, &reset_req_msg, &force, NULL, ret_reason);
	*ret_force = force;
	return r;
}

/* ---- MCUmgr parameters (id 6): {"buf_size": n, "buf_count": n} ------------------------------ */

int smp_params_rsp_encode(uint8_t *buf, size_t size, uint32_t buf_size, uint32_t buf_count)
{
	struct cbor_writer w;

	cw_init(&w, buf, size);
	cw_map(&w, 2);
	cw_key(&w, "buf_size");
	cw_uint(&w, buf_size);
	cw_key(&w, "buf_count");
	cw_uint(&w, buf_count);
	return cw_finish(&w);
}

enum { PARAMS_BUF_SIZE, PARAMS_BUF_COUNT };
static const struct smp_field params_rsp_fields[] = {
	[PARAMS_BUF_SIZE] =
		SMP_U32("mcumgr parameters response", "buf_size", struct smp_params_rsp, buf_size),
	[PARAMS_BUF_COUNT] = SMP_U32("mcumgr parameters response", "buf_count",
				     struct smp_params_rsp, buf_count),
	SMP_ERR_FIELDS("mcumgr parameters response", struct smp_params_rsp, err),
};
static const struct smp_msg params_rsp_msg =
	SMP_MSG("mcumgr parameters response", params_rsp_fields);

int smp_params_rsp_decode(const uint8_t *body, size_t len, struct smp_params_rsp *ret,
			  const char **ret_reason)
{
	uint32_t seen;

	*ret = (struct smp_params_rsp){0};
	if (smp_decode_body(body, len, &params_rsp_msg, ret, &seen, ret_reason) < 0)
		return -EBADMSG;
	if (!smp_err_ok(&ret->err))
		return 0;
	if (!(seen & 1u << PARAMS_BUF_SIZE))
		return smp_bad(ret_reason, "mcumgr parameters response: 'buf_size' missing");
	if (!(seen & 1u << PARAMS_BUF_COUNT))
		return smp_bad(ret_reason, "mcumgr parameters response: 'buf_count' missing");
	return 0;
}
