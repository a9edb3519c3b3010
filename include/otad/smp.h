/* smp.h — the Simple Management Protocol: 8-byte header, management error codes, and the CBOR
 * codecs of the OS (0) and image (1) groups, for both sides (otactl encodes requests and decodes
 * responses; otasim does the reverse).
 *
 * Source: Zephyr "SMP Protocol Specification" and "SMP groups 0/1" (docs.zephyrproject.org),
 * checked against Zephyr's mcumgr sources (mgmt_defines.h, img_mgmt.h, os_mgmt.h, img_mgmt.c).
 *
 * Encoding: libcbor's encoder functions straight into the caller's buffer, definite-length
 * maps, no allocation. Decoding: definite and indefinite-length maps/arrays (old TinyCBOR-based
 * mcumgr, and zcbor unless built canonical, send indefinite ones), unknown keys skipped whatever
 * they hold, known keys type-checked, duplicate keys rejected, integers range-checked, no
 * allocation, nesting bounded. */
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

/* Byte 0 is res:3 | ver:2 | op:3 (MSB first); multi-byte fields big-endian. op and ver are
 * masked to their widths. */
void smp_hdr_encode(const struct smp_hdr *h, uint8_t out[SMP_HDR_SIZE]);
/* -EBADMSG when fewer than 8 bytes or the reserved bits are set. Does not check len against
 * the buffer (a transport reassembles by it), nor ver (2 and 3 are reserved; the caller
 * decides). */
int smp_hdr_decode(const uint8_t *buf, size_t len, struct smp_hdr *ret);

/* ---- Errors -------------------------------------------------------------------------------
 * A device's answer is never an errno. SMP v1 reports {"rc": n} with n from enum mgmt_err; SMP v2
 * reports {"err": {"group": g, "rc": r}} where r is in the group's own space (for group 1 see
 * enum img_mgmt_err, group 0 enum os_mgmt_err). struct smp_err carries either form.
 * Values checked against Zephyr's enum mcumgr_err_t (mgmt_defines.h). */
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

/* Group 1 (img_mgmt) v2 error codes, as Zephyr's enum img_mgmt_err_code_t (img_mgmt.h); the
 * values are on the wire, so they are spelled out. */
enum img_mgmt_err {
	IMG_MGMT_ERR_OK = 0,
	IMG_MGMT_ERR_UNKNOWN = 1,
	IMG_MGMT_ERR_FLASH_CONFIG_QUERY_FAIL = 2,
	IMG_MGMT_ERR_NO_IMAGE = 3,
	IMG_MGMT_ERR_NO_TLVS = 4,
	IMG_MGMT_ERR_INVALID_TLV = 5,
	IMG_MGMT_ERR_TLV_MULTIPLE_HASHES_FOUND = 6,
	IMG_MGMT_ERR_TLV_INVALID_SIZE = 7,
	IMG_MGMT_ERR_HASH_NOT_FOUND = 8,
	IMG_MGMT_ERR_NO_FREE_SLOT = 9,
	IMG_MGMT_ERR_FLASH_OPEN_FAILED = 10,
	IMG_MGMT_ERR_FLASH_READ_FAILED = 11,
	IMG_MGMT_ERR_FLASH_WRITE_FAILED = 12,
	IMG_MGMT_ERR_FLASH_ERASE_FAILED = 13,
	IMG_MGMT_ERR_INVALID_SLOT = 14,
	IMG_MGMT_ERR_NO_FREE_MEMORY = 15,
	IMG_MGMT_ERR_FLASH_CONTEXT_ALREADY_SET = 16,
	IMG_MGMT_ERR_FLASH_CONTEXT_NOT_SET = 17,
	IMG_MGMT_ERR_FLASH_AREA_DEVICE_NULL = 18,
	IMG_MGMT_ERR_INVALID_PAGE_OFFSET = 19,
	IMG_MGMT_ERR_INVALID_OFFSET = 20,
	IMG_MGMT_ERR_INVALID_LENGTH = 21,
	IMG_MGMT_ERR_INVALID_IMAGE_HEADER = 22,
	IMG_MGMT_ERR_INVALID_IMAGE_HEADER_MAGIC = 23,
	IMG_MGMT_ERR_INVALID_HASH = 24,
	IMG_MGMT_ERR_INVALID_FLASH_ADDRESS = 25,
	IMG_MGMT_ERR_VERSION_GET_FAILED = 26,
	IMG_MGMT_ERR_CURRENT_VERSION_IS_NEWER = 27,
	IMG_MGMT_ERR_IMAGE_ALREADY_PENDING = 28,
	IMG_MGMT_ERR_INVALID_IMAGE_VECTOR_TABLE = 29,
	IMG_MGMT_ERR_INVALID_IMAGE_TOO_LARGE = 30,
	IMG_MGMT_ERR_INVALID_IMAGE_DATA_OVERRUN = 31,
	IMG_MGMT_ERR_IMAGE_CONFIRMATION_DENIED = 32,
	IMG_MGMT_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED = 33,
	IMG_MGMT_ERR_ACTIVE_SLOT_NOT_KNOWN = 34,
};

/* Group 0 (os_mgmt) v2 error codes, as Zephyr's enum os_mgmt_err_code_t (os_mgmt.h). */
enum os_mgmt_err {
	OS_MGMT_ERR_OK = 0,
	OS_MGMT_ERR_UNKNOWN = 1,
	OS_MGMT_ERR_INVALID_FORMAT = 2,
	OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER = 3,
	OS_MGMT_ERR_RTC_NOT_SET = 4,
	OS_MGMT_ERR_RTC_COMMAND_FAILED = 5,
	OS_MGMT_ERR_QUERY_RESPONSE_VALUE_NOT_VALID = 6,
};

/* A v2 device still reports errors of SMP itself (not of a group) as {"rc": n}. When a response
 * holds both forms, a non-zero "err" wins; otherwise "rc" does. */
struct smp_err {
	bool v2;        /* true: {"err":{group,rc}}; false: {"rc": n} or no error field at all */
	uint16_t group; /* v2 only */
	int32_t rc;     /* 0 = success (also when the response has no rc/err field) */
};

static inline bool smp_err_ok(const struct smp_err *e)
{
	return e->rc == 0;
}
/* "MGMT_ERR_ENOMEM", "IMG_MGMT_ERR_HASH_NOT_FOUND", "OS_MGMT_ERR_RTC_NOT_SET"; v1 codes from 256
 * up give "MGMT_ERR_EPERUSER"; codes (or v2 groups) we do not know give "MGMT_ERR_UNKNOWN_CODE"
 * (a static string: use smp_err_format() to see the number). */
const char *smp_err_name(const struct smp_err *e);
/* "out of memory", "hash not found", ... */
const char *smp_err_message(const struct smp_err *e);
/* "rc=6 (MGMT_ERR_EBADSTATE: bad state)", or for v2
 * "group=1 rc=8 (IMG_MGMT_ERR_HASH_NOT_FOUND: hash not found)", into buf (truncated to size);
 * returns buf. */
char *smp_err_format(const struct smp_err *e, char *buf, size_t size);

/* ---- Request encoders ---------------------------------------------------------------------
 * Each writes the CBOR body (no SMP header) into buf and returns its length, or -ENOBUFS when
 * size is too small (nothing is written past size), or -EINVAL for arguments that cannot be
 * encoded. Encoding uses libcbor's encoder functions straight into buf, without building item
 * trees (hot path for uploads). Maps are definite-length. */
int smp_echo_req_encode(uint8_t *buf, size_t size, const char *text); /* {"d": text}; NULL = "" */
/* {"force": true} or {}. Zephyr's os_mgmt decodes "force" as a bool (its doc says int). */
int smp_reset_req_encode(uint8_t *buf, size_t size, bool force);
int smp_empty_req_encode(uint8_t *buf, size_t size); /* {}: params, state read, slot info */
/* {"hash": h, "confirm": c}; hash NULL means no hash (confirm the running image). hash is a
 * byte string (the doc's table says str; Zephyr decodes bstr); hash_len <= 32. */
int smp_state_write_req_encode(uint8_t *buf, size_t size, const uint8_t *hash, size_t hash_len,
			       bool confirm);
int smp_erase_req_encode(uint8_t *buf, size_t size, int slot); /* slot < 0: no "slot" key */

struct smp_upload_req {
	uint32_t off;
	const uint8_t *data; /* decoder: points into the decoded buffer (no copy) */
	size_t data_len;
	/* First chunk only (off == 0); has_first controls their presence in the encoding. The
	 * decoder sets has_first when "len" is present ("image" defaults to 0). */
	bool has_first;
	uint32_t image;
	uint32_t len;      /* whole image length */
	uint8_t sha[32];   /* SHA-256 of the whole image file */
	size_t sha_len;    /* 0 = no "sha" key; at most 32 (Zephyr accepts a shortened one) */
	bool has_upgrade;  /* independent of has_first; the spec wants it on the first chunk only */
	bool upgrade;
};
/* Key order, the one mcumgr (Apache mynewt-mcumgr/newtmgr nmxact ImageUploadReq) sends, with
 * "image" first as Zephyr's img_mgmt_client does:
 *   first chunk:  {"image", "off", "len", ["sha"], ["upgrade"], "data"}
 *   later chunks: {"off", ["upgrade"], "data"}
 * Servers look keys up by name (Zephyr's zcbor_map_decode_bulk), so order is not semantic;
 * "data" last keeps everything before the payload a fixed prefix. -EINVAL if sha_len > 32 or
 * data_len > 0 with data NULL. */
int smp_upload_req_encode(uint8_t *buf, size_t size, const struct smp_upload_req *r);
/* Exact encoded body length of r with data_len image bytes (r->data_len is ignored): sizes
 * chunks so that the whole request fits the device's buffer (CBOR heads grow at 24, 256,
 * 65536 and 2^32). */
size_t smp_upload_req_encoded_len(const struct smp_upload_req *r, size_t data_len);
/* Largest data_len such that smp_upload_req_encoded_len(r, data_len) <= body_max (0 if none). */
size_t smp_upload_req_max_data(const struct smp_upload_req *r, size_t body_max);

/* ---- Response decoders --------------------------------------------------------------------
 * Each returns 0, or -EBADMSG with *ret_reason (if non-NULL) set to a static string naming what
 * was wrong ("upload response: 'off' is not an unsigned integer", "truncated CBOR"). Unknown
 * keys are skipped. Definite and indefinite-length maps/arrays are both accepted (old mcumgr
 * used TinyCBOR's indefinite maps). Decoding never allocates on the heap.
 * Rules shared by all: the body is exactly one map (trailing bytes are an error); a known key
 * given twice is an error; a missing error field means rc 0; text is copied NUL-terminated and
 * truncated at a UTF-8 character boundary; byte strings longer than their buffer are an error;
 * known string fields must be definite-length. Fields a success needs ("r", "buf_size",
 * "buf_count", "slot", ...) are required only when the response carries no error. */
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
/* {"images": [{"image", "slot", "version", "hash", "bootable", "pending", "confirmed", "active",
 * "permanent"}, ...], "splitStatus"}: "slot" is required in each entry, "image" defaults to 0,
 * flags to false, hash_len 0 when absent; more than SMP_MAX_SLOTS entries is an error. */
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

/* Slot info (group 1 id 6, Zephyr CONFIG_MCUMGR_GRP_IMG_SLOT_INFO) is nested on the wire,
 *   {"images": [{"image": i, "slots": [{"slot": s, "size": z, "upload_image_id"?: u}, ...],
 *                "max_image_size"?: m}, ...]},
 * and flattened here: one entry per slot, carrying its image's number and max_image_size.
 * Zephyr (img_mgmt.c img_mgmt_slot_info) sends "upload_image_id" on the slots an upload may go
 * to (the image number to upload with), "max_image_size" with CONFIG_MCUMGR_GRP_IMG_TOO_LARGE_*
 * (the slot less MCUboot's trailer), and "rc" (a negative errno) instead of "size" for a slot
 * whose flash area it cannot open. Devices without the command answer MGMT_ERR_ENOTSUP.
 * The encoder groups consecutive entries of the same image back into one "images" element. */
struct smp_slot_info {
	uint32_t image, slot;
	uint32_t size;  /* bytes of the slot's flash area; 0 when rc != 0 */
	int32_t rc;     /* 0, or the device's error opening the slot ("rc" instead of "size") */
	bool has_upload_image_id;
	uint32_t upload_image_id;
	bool has_max_image_size; /* of the image, repeated in each of its slots */
	uint32_t max_image_size;
};
struct smp_slot_info_rsp {
	struct smp_err err;
	unsigned n;
	struct smp_slot_info slots[SMP_MAX_SLOTS];
};
int smp_slot_info_rsp_decode(const uint8_t *body, size_t len, struct smp_slot_info_rsp *ret,
			     const char **ret_reason);
/* The entry for (image, slot), or NULL. */
const struct smp_slot_info *smp_slot_info_find(const struct smp_slot_info_rsp *r, uint32_t image,
					       uint32_t slot);
/* The largest image an upload of image number `image` may carry: max_image_size where the device
 * reports it (*ret_slot_size false), else the size of the slot the upload goes to (the one whose
 * upload_image_id is image, else slot 1; *ret_slot_size true). -ENOENT when the image has no such
 * slot listed, -EIO when the device could not read that slot (its "rc"). */
int smp_slot_info_upload_max(const struct smp_slot_info_rsp *r, uint32_t image, uint32_t *ret_max,
			     bool *ret_slot_size);

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
/* text_size must be >= 1 (else -EINVAL). */
int smp_echo_req_decode(const uint8_t *body, size_t len, char *text, size_t text_size,
			const char **ret_reason);
/* "force" as a bool, or as an integer (> 0 = force) as the group 0 doc describes it. */
int smp_reset_req_decode(const uint8_t *body, size_t len, bool *ret_force, const char **ret_reason);
/* *ret_slot = -1 when "slot" is absent (Zephyr then erases the other slot, the doc says 1). */
int smp_erase_req_decode(const uint8_t *body, size_t len, int *ret_slot, const char **ret_reason);

/* Response encoders write the CBOR body. An error response is {"rc": n} for v1 requests and
 * {"err": {"group": g, "rc": r}} for v2 (smp_err.v2 selects; a v2 rc must be >= 0). Encoders of
 * structs that carry a struct smp_err write the error response instead when it is not ok.
 * Image state entries always carry "image" (Zephyr: on multi-image builds only) and all five
 * flags, and the map ends with "splitStatus": 0, as Zephyr without
 * CONFIG_MCUMGR_GRP_IMG_FRUGAL_LIST sends them. */
int smp_err_rsp_encode(uint8_t *buf, size_t size, const struct smp_err *e);
int smp_echo_rsp_encode(uint8_t *buf, size_t size, const char *text);
int smp_params_rsp_encode(uint8_t *buf, size_t size, uint32_t buf_size, uint32_t buf_count);
int smp_image_state_encode(uint8_t *buf, size_t size, const struct smp_image_state *s);
/* {"off": off} plus "match" when has_match; v1 devices also send "rc": 0 (first, as Zephyr's
 * CONFIG_MCUMGR_SMP_LEGACY_RC_BEHAVIOUR does). has_off false: no "off". */
int smp_upload_rsp_encode(uint8_t *buf, size_t size, const struct smp_upload_rsp *r, bool v1_rc);
int smp_slot_info_rsp_encode(uint8_t *buf, size_t size, const struct smp_slot_info_rsp *r);
int smp_ok_rsp_encode(uint8_t *buf, size_t size, bool v1_rc); /* {} or {"rc":0} */
