/* smp.h — the Simple Management Protocol: 8-byte header, management error codes, and the CBOR
 * codecs of the OS (0) and image (1) groups, for both sides (otactl encodes requests and decodes
 * responses; otasim does the reverse).
 *
 * Source: Zephyr "SMP Protocol Specification" and "SMP groups 0/1" (docs.zephyrproject.org). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMP_HDR_SIZE 8

enum smp_op {
	SMP_OP_READ = 0,
	SMP_OP_READ_RSP = 1,
	SMP_OP_WRITE = 2,
	SMP_OP_WRITE_RSP = 3,
};

/* Header "Ver" field: 0 = original protocol (errors as {"rc": n}), 1 = SMP version 2 (errors as
 * {"err": {"group": g, "rc": r}}). We accept both in responses. */
enum smp_ver {
	SMP_VER_1 = 0,
	SMP_VER_2 = 1,
};

enum smp_group {
	SMP_GROUP_OS = 0,
	SMP_GROUP_IMAGE = 1,
};

enum smp_os_cmd {
	SMP_OS_ECHO = 0,
	SMP_OS_RESET = 5,
	SMP_OS_PARAMS = 6,
	SMP_OS_INFO = 7,
};

enum smp_img_cmd {
	SMP_IMG_STATE = 0,
	SMP_IMG_UPLOAD = 1,
	SMP_IMG_ERASE = 5,
	SMP_IMG_SLOT_INFO = 6,
};

struct smp_hdr {
	uint8_t op;    /* enum smp_op, 3 bits on the wire */
	uint8_t ver;   /* enum smp_ver, 2 bits */
	uint8_t flags;
	uint16_t len;  /* CBOR body length */
	uint16_t group;
	uint8_t seq;
	uint8_t id;
};

/* Byte 0 is res:3 | ver:2 | op:3 (MSB first); multi-byte fields big-endian. */
void smp_hdr_encode(const struct smp_hdr *h, uint8_t out[SMP_HDR_SIZE]);
/* -EBADMSG when fewer than 8 bytes or the reserved bits are set. Does not check len against
 * the buffer (a transport reassembles by it). */
int smp_hdr_decode(const uint8_t *buf, size_t len, struct smp_hdr *ret);

/* ---- Errors -------------------------------------------------------------------------------
 * A device's answer is never an errno. SMP v1 reports {"rc": n} with n from enum mgmt_err; SMP v2
 * reports {"err": {"group": g, "rc": r}} where r is in the group's own space (for group 1 see
 * enum img_mgmt_err). struct smp_err carries either form. */
enum mgmt_err {
	MGMT_ERR_EOK = 0,
	MGMT_ERR_EUNKNOWN = 1,
	MGMT_ERR_ENOMEM = 2,
	MGMT_ERR_EINVAL = 3,
	MGMT_ERR_ETIMEOUT = 4,
	MGMT_ERR_ENOENT = 5,
	MGMT_ERR_EBADSTATE = 6,
	MGMT_ERR_EMSGSIZE = 7,
	MGMT_ERR_ENOTSUP = 8,
	MGMT_ERR_ECORRUPT = 9,
	MGMT_ERR_EBUSY = 10,
	MGMT_ERR_EACCESSDENIED = 11,
	MGMT_ERR_UNSUPPORTED_TOO_OLD = 12,
	MGMT_ERR_UNSUPPORTED_TOO_NEW = 13,
	MGMT_ERR_EPERUSER = 256,
};

/* Group 1 (img_mgmt) v2 error codes, as Zephyr's enum img_mgmt_err_code_t. */
enum img_mgmt_err {
	IMG_MGMT_ERR_OK = 0,
	IMG_MGMT_ERR_UNKNOWN,
	IMG_MGMT_ERR_FLASH_CONFIG_QUERY_FAIL,
	IMG_MGMT_ERR_NO_IMAGE,
	IMG_MGMT_ERR_NO_TLVS,
	IMG_MGMT_ERR_INVALID_TLV,
	IMG_MGMT_ERR_TLV_MULTIPLE_HASHES_FOUND,
	IMG_MGMT_ERR_TLV_INVALID_SIZE,
	IMG_MGMT_ERR_HASH_NOT_FOUND,
	IMG_MGMT_ERR_NO_FREE_SLOT,
	IMG_MGMT_ERR_FLASH_OPEN_FAILED,
	IMG_MGMT_ERR_FLASH_READ_FAILED,
	IMG_MGMT_ERR_FLASH_WRITE_FAILED,
	IMG_MGMT_ERR_FLASH_ERASE_FAILED,
	IMG_MGMT_ERR_INVALID_SLOT,
	IMG_MGMT_ERR_NO_FREE_MEMORY,
	IMG_MGMT_ERR_FLASH_CONTEXT_ALREADY_SET,
	IMG_MGMT_ERR_FLASH_CONTEXT_NOT_SET,
	IMG_MGMT_ERR_FLASH_AREA_DEVICE_NULL,
	IMG_MGMT_ERR_INVALID_PAGE_OFFSET,
	IMG_MGMT_ERR_INVALID_OFFSET,
	IMG_MGMT_ERR_INVALID_LENGTH,
	IMG_MGMT_ERR_INVALID_IMAGE_HEADER,
	IMG_MGMT_ERR_INVALID_IMAGE_HEADER_MAGIC,
	IMG_MGMT_ERR_INVALID_HASH,
	IMG_MGMT_ERR_INVALID_FLASH_ADDRESS,
	IMG_MGMT_ERR_VERSION_GET_FAILED,
	IMG_MGMT_ERR_CURRENT_VERSION_IS_NEWER,
	IMG_MGMT_ERR_IMAGE_ALREADY_PENDING,
	IMG_MGMT_ERR_INVALID_IMAGE_VECTOR_TABLE,
	IMG_MGMT_ERR_INVALID_IMAGE_TOO_LARGE,
	IMG_MGMT_ERR_INVALID_IMAGE_DATA_OVERRUN,
	IMG_MGMT_ERR_IMAGE_CONFIRMATION_DENIED,
	IMG_MGMT_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED,
	IMG_MGMT_ERR_ACTIVE_SLOT_NOT_KNOWN,
};

struct smp_err {
	bool v2;        /* true: {"err":{group,rc}}; false: {"rc": n} or no error field at all */
	uint16_t group; /* v2 only */
	int32_t rc;     /* 0 = success (also when the response has no rc/err field) */
};

static inline bool smp_err_ok(const struct smp_err *e)
{
	return e->rc == 0;
}
/* "MGMT_ERR_ENOMEM", "IMG_MGMT_ERR_HASH_NOT_FOUND", or "rc=N" for unknown codes (static buffer
 * per thread is not used: unknown codes give the generic "MGMT_ERR_UNKNOWN_CODE"). */
const char *smp_err_name(const struct smp_err *e);
/* "out of memory", "hash not found", ... */
const char *smp_err_message(const struct smp_err *e);
/* "rc=6 (MGMT_ERR_EBADSTATE: bad state)" into buf; returns buf. */
char *smp_err_format(const struct smp_err *e, char *buf, size_t size);

/* ---- Request encoders ---------------------------------------------------------------------
 * Each writes the CBOR body (no SMP header) into buf and returns its length, or -ENOBUFS when
 * size is too small. Encoding uses libcbor's encoder functions straight into buf, without
 * building item trees (hot path for uploads). Maps are definite-length. */
int smp_echo_req_encode(uint8_t *buf, size_t size, const char *text);
int smp_reset_req_encode(uint8_t *buf, size_t size, bool force);
int smp_empty_req_encode(uint8_t *buf, size_t size); /* {}: params, state read, slot info */
/* {"hash": h, "confirm": c}; hash NULL means no hash (confirm the running image). */
int smp_state_write_req_encode(uint8_t *buf, size_t size, const uint8_t *hash, size_t hash_len,
			       bool confirm);
int smp_erase_req_encode(uint8_t *buf, size_t size, int slot); /* slot < 0: no "slot" key */

struct smp_upload_req {
	uint32_t off;
	const uint8_t *data; /* decoder: points into the decoded buffer (no copy) */
	size_t data_len;
	/* First chunk only (off == 0); has_first controls their presence in the encoding. */
	bool has_first;
	uint32_t image;
	uint32_t len;      /* whole image length */
	uint8_t sha[32];   /* SHA-256 of the whole image file */
	size_t sha_len;    /* 0 = no "sha" key */
	bool has_upgrade;
	bool upgrade;
};
int smp_upload_req_encode(uint8_t *buf, size_t size, const struct smp_upload_req *r);
/* Encoded body length of r with data_len image bytes: sizes chunks so that the whole request
 * fits the device's buffer (CBOR length headers grow at 24, 256, 65536). */
size_t smp_upload_req_encoded_len(const struct smp_upload_req *r, size_t data_len);
/* Largest data_len such that smp_upload_req_encoded_len(r, data_len) <= body_max (0 if none). */
size_t smp_upload_req_max_data(const struct smp_upload_req *r, size_t body_max);

/* ---- Response decoders --------------------------------------------------------------------
 * Each returns 0, or -EBADMSG with *ret_reason (if non-NULL) set to a static string naming what
 * was wrong ("upload response: 'off' is not an unsigned integer"). Unknown keys are skipped.
 * Definite and indefinite-length maps/arrays are both accepted (old mcumgr used TinyCBOR's
 * indefinite maps). Decoding never allocates on the heap. */
int smp_err_decode(const uint8_t *body, size_t len, struct smp_err *ret, const char **ret_reason);

struct smp_echo_rsp {
	struct smp_err err;
	char text[256]; /* "r", NUL-terminated, truncated */
};
int smp_echo_rsp_decode(const uint8_t *body, size_t len, struct smp_echo_rsp *ret,
			const char **ret_reason);

struct smp_params_rsp {
	struct smp_err err;
	uint32_t buf_size;
	uint32_t buf_count;
};
int smp_params_rsp_decode(const uint8_t *body, size_t len, struct smp_params_rsp *ret,
			  const char **ret_reason);

#define SMP_MAX_SLOTS 8
struct smp_slot_state {
	uint32_t image;
	uint32_t slot;
	char version[48];
	uint8_t hash[32];
	size_t hash_len;
	bool bootable, pending, confirmed, active, permanent;
};
struct smp_image_state {
	struct smp_err err;
	unsigned n_slots;
	struct smp_slot_state slots[SMP_MAX_SLOTS];
};
int smp_image_state_decode(const uint8_t *body, size_t len, struct smp_image_state *ret,
			   const char **ret_reason);
/* The entry for (image, slot), or NULL. */
const struct smp_slot_state *smp_image_state_find(const struct smp_image_state *s, uint32_t image,
						  uint32_t slot);

struct smp_upload_rsp {
	struct smp_err err;
	bool has_off;
	uint32_t off;   /* next offset the device expects */
	bool has_match; /* only on the last chunk, on devices built with image checking */
	bool match;
};
int smp_upload_rsp_decode(const uint8_t *body, size_t len, struct smp_upload_rsp *ret,
			  const char **ret_reason);

struct smp_slot_info_rsp {
	struct smp_err err;
	unsigned n;
	struct {
		uint32_t image, slot, size;
		bool has_max_image_size;
		uint32_t max_image_size;
	} slots[SMP_MAX_SLOTS];
};
int smp_slot_info_rsp_decode(const uint8_t *body, size_t len, struct smp_slot_info_rsp *ret,
			     const char **ret_reason);

/* ---- Server side (otasim): request decoders and response encoders -------------------------- */
int smp_upload_req_decode(const uint8_t *body, size_t len, struct smp_upload_req *ret,
			  const char **ret_reason);
struct smp_state_write_req {
	bool has_hash;
	uint8_t hash[32];
	size_t hash_len;
	bool confirm;
};
int smp_state_write_req_decode(const uint8_t *body, size_t len, struct smp_state_write_req *ret,
			       const char **ret_reason);
int smp_echo_req_decode(const uint8_t *body, size_t len, char *text, size_t text_size,
			const char **ret_reason);
int smp_reset_req_decode(const uint8_t *body, size_t len, bool *ret_force, const char **ret_reason);
int smp_erase_req_decode(const uint8_t *body, size_t len, int *ret_slot, const char **ret_reason);

/* Response encoders write the CBOR body. An error response is {"rc": n} for v1 requests and
 * {"err": {"group": g, "rc": r}} for v2 (smp_err.v2 selects). */
int smp_err_rsp_encode(uint8_t *buf, size_t size, const struct smp_err *e);
int smp_echo_rsp_encode(uint8_t *buf, size_t size, const char *text);
int smp_params_rsp_encode(uint8_t *buf, size_t size, uint32_t buf_size, uint32_t buf_count);
int smp_image_state_encode(uint8_t *buf, size_t size, const struct smp_image_state *s);
/* {"off": off} plus "match" when has_match; v1 devices also send "rc": 0. */
int smp_upload_rsp_encode(uint8_t *buf, size_t size, const struct smp_upload_rsp *r, bool v1_rc);
int smp_slot_info_rsp_encode(uint8_t *buf, size_t size, const struct smp_slot_info_rsp *r);
int smp_ok_rsp_encode(uint8_t *buf, size_t size, bool v1_rc); /* {} or {"rc":0} */
