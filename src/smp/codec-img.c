/* codec-img.c — CBOR bodies of the image management group (1) but upload: image state read
 * and write, erase, slot info. Zephyr "SMP group 1" (smp_group_1.rst) and img_mgmt_state.c. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "otad/smp.h"
#include "smp/cbor-writer.h"
#include "smp/decoder.h"

/* ---- Image state write request (id 0, write): {"hash": h, "confirm": c} --------------------- */

int smp_state_write_req_encode(uint8_t *buf, size_t size, const uint8_t *hash, size_t hash_len,
			       bool confirm)
{
	struct cbor_writer w;

	if (hash && hash_len > 32)
		return -EINVAL;
	cw_init(&w, buf, size);
	cw_map(&w, hash ? 2 : 1);
	if (hash) {
		cw_key(&w, "hash");
		cw_bytes(&w, hash, hash_len);
	}
	cw_key(&w, "confirm");
	cw_bool(&w, confirm);
	return cw_finish(&w);
}

enum { SW_HASH, SW_CONFIRM };
static const struct smp_field state_write_fields[] = {
	[SW_HASH] = SMP_BYTES("image state write request", "hash", struct smp_state_write_req, hash,
			      hash_len),
	[SW_CONFIRM] = SMP_BOOL("image state write request", "confirm", struct smp_state_write_req,
				confirm),
};
static const struct smp_msg state_write_msg =
	SMP_MSG("image state write request", state_write_fields);

int smp_state_write_req_decode(const uint8_t *body, size_t len, struct smp_state_write_req *ret,
			       const char **ret_reason)
{
	uint32_t seen;

	*ret = (struct smp_state_write_req){0};
	if (smp_decode_body(body, len, &state_write_msg, ret, &seen, ret_reason) < 0)
		return -EBADMSG;
	ret->has_hash = seen & 1u << SW_HASH;
	return 0;
}

/* ---- Image state (id 0 response) ------------------------------------------------------------- */

enum { ST_SLOT = 1 };
static const struct smp_field slot_state_fields[] = {
	SMP_U32("image state entry", "image", struct smp_slot_state, image),
	[ST_SLOT] = SMP_U32("image state entry", "slot", struct smp_slot_state, slot),
	SMP_TEXT("image state entry", "version", struct smp_slot_state, version),
	SMP_BYTES("image state entry", "hash", struct smp_slot_state, hash, hash_len),
	SMP_BOOL("image state entry", "bootable", struct smp_slot_state, bootable),
	SMP_BOOL("image state entry", "pending", struct smp_slot_state, pending),
	SMP_BOOL("image state entry", "confirmed", struct smp_slot_state, confirmed),
	SMP_BOOL("image state entry", "active", struct smp_slot_state, active),
	SMP_BOOL("image state entry", "permanent", struct smp_slot_state, permanent),
};
static const struct smp_msg slot_state_msg = SMP_MSG("image state entry", slot_state_fields);

static int decode_state_images(struct cbor_reader *r, void *target, const struct smp_field *f,
			       const char **ret_reason)
{
	struct smp_image_state *s = target;
	struct cr_item head;
	struct cr_iter iter;
	uint32_t seen;
	int k;

	if (smp_read_typed(r, CR_ARRAY, f, &head, ret_reason) < 0)
		return -EBADMSG;
	if (cr_iter_init(r, &head, &iter) < 0)
		return smp_bad(ret_reason, r->err);
	while ((k = cr_iter_next(r, &iter)) > 0) {
		if (s->n_slots >= SMP_MAX_SLOTS)
			return smp_bad(ret_reason, "image state: more than 8 entries in 'images'");
		if (smp_decode_map(r, &slot_state_msg, &s->slots[s->n_slots], &seen, ret_reason) <
		    0)
			return -EBADMSG;
		if (!(seen & 1u << ST_SLOT))
			return smp_bad(ret_reason, "image state entry: 'slot' missing");
		s->n_slots++;
	}
	return k < 0 ? smp_bad(ret_reason, r->err) : 0;
}

enum { ST_IMAGES };
static const struct smp_field image_state_fields[] = {
	[ST_IMAGES] = SMP_CUSTOM("image state", "images", "an array", decode_state_images),
	SMP_ERR_FIELDS("image state", struct smp_image_state, err),
};
static const struct smp_msg image_state_msg = SMP_MSG("image state", image_state_fields);

int smp_image_state_decode(const uint8_t *body, size_t len, struct smp_image_state *ret,
			   const char **ret_reason)
{
	uint32_t seen;

	*ret = (struct smp_image_state){0};
	if (smp_decode_body(body, len, &image_state_msg, ret, &seen, ret_reason) < 0)
		return -EBADMSG;
	if (smp_err_ok(&ret->err) && !(seen & 1u << ST_IMAGES))
		return smp_bad(ret_reason, "image state: 'images' missing");
	return 0;
}

const struct smp_slot_state *smp_image_state_find(const struct smp_image_state *s, uint32_t image,
						  uint32_t slot)
{
	for (unsigned i = 0; i < s->n_slots && i < SMP_MAX_SLOTS; i++)
		if (s->slots[i].image == image && s->slots[i].slot == slot)
			return &s->slots[i];
	return NULL;
}

static void encode_slot_state(struct cbor_writer *w, const struct smp_slot_state *e)
{
	cw_map(w, e->hash_len > 0 ? 9 : 8);
	cw_key(w, "image");
	cw_uint(w, e->image);
	cw_key(w, "slot");
	cw_uint(w, e->slot);
	cw_key(w, "version");
	cw_text(w, e->version, strnlen(e->version, sizeof(e->version)));
	if (e->hash_len > 0) {
		cw_key(w, "hash");
		cw_bytes(w, e->hash, e->hash_len);
	}
	cw_key(w, "bootable");
	cw_bool(w, e->bootable);
	cw_key(w, "pending");
	cw_bool(w, e->pending);
	cw_key(w, "confirmed");
	cw_bool(w, e->confirmed);
	cw_key(w, "active");
	cw_bool(w, e->active);
	cw_key(w, "permanent");
	cw_bool(w, e->permanent);
}

int smp_image_state_encode(uint8_t *buf, size_t size, const struct smp_image_state *s)
{
	struct cbor_writer w;

	if (!smp_err_ok(&s->err))
		return smp_err_rsp_encode(buf, size, &s->err);
	if (s->n_slots > SMP_MAX_SLOTS)
		return -EINVAL;
	for (unsigned i = 0; i < s->n_slots; i++)
		if (s->slots[i].hash_len > sizeof(s->slots[i].hash))
			return -EINVAL;

	cw_init(&w, buf, size);
	cw_map(&w, 2);
	cw_key(&w, "images");
	cw_array(&w, s->n_slots);
	for (unsigned i = 0; i < s->n_slots; i++)
		encode_slot_state(&w, &s->slots[i]);
	cw_key(&w, "splitStatus"); /* always 0: Zephyr has no split images */
	cw_uint(&w, 0);
	return cw_finish(&w);
}

/* ---- Image erase (id 5): {} or {"slot": n} -------------------------------------------------- */

int smp_erase_req_encode(uint8_t *buf, size_t size, int slot)
{
	struct cbor_writer w;

	cw_init(&w, buf, size);
	cw_map(&w, slot >= 0 ? 1 : 0);
	if (slot >= 0) {
		cw_key(&w, "slot");
		cw_uint(&w, (uint64_t)slot);
	}
	return cw_finish(&w);
}

struct erase_req {
	uint32_t slot;
};

static const struct smp_field erase_req_fields[] = {
	SMP_U32("image erase request", "slot", struct erase_req, slot),
};
static const struct smp_msg erase_req_msg = SMP_MSG("image erase request", erase_req_fields);

int smp_erase_req_decode(const uint8_t *body, size_t len, int *ret_slot, const char **ret_reason)
{
	struct erase_req t = {0};
	uint32_t seen;

	*ret_slot = -1;
	if (smp_decode_body(body, len, &erase_req_msg, &t, &seen, ret_reason) < 0)
		return -EBADMSG;
	if (!(seen & 1u))
		return 0;
	if (t.slot > INT_MAX)
		return smp_bad(ret_reason, erase_req_fields[0].bad_value);
	*ret_slot = (int)t.slot;
	return 0;
}

/* ---- Slot info (id 6) ------------------------------------------------------------------------ */

/* One element of "images" while it is decoded; its slots go straight into rsp. */
struct slot_info_image {
	uint32_t image;
	uint32_t max_image_size;
	struct smp_slot_info_rsp *rsp;
};

struct slot_info_slot {
	uint32_t slot;
	uint32_t size;
	uint32_t upload_image_id;
	struct smp_err err; /* "rc": the device could not open the slot */
};

enum { SIS_SLOT, SIS_SIZE, SIS_UPLOAD_ID, SIS_RC };
static const struct smp_field si_slot_fields[] = {
	[SIS_SLOT] = SMP_U32("slot info slot", "slot", struct slot_info_slot, slot),
	[SIS_SIZE] = SMP_U32("slot info slot", "size", struct slot_info_slot, size),
	[SIS_UPLOAD_ID] = SMP_U32("slot info slot", "upload_image_id", struct slot_info_slot,
				  upload_image_id),
	[SIS_RC] = {.key = "rc",
		    .kind = SF_RC,
		    .off = offsetof(struct slot_info_slot, err),
		    SMP_FIELD_REASONS_("slot info slot", "rc", "an integer")},
};
static const struct smp_msg si_slot_msg = SMP_MSG("slot info slot", si_slot_fields);

/* One element of "slots" into the next entry of rsp. */
static int decode_si_slot(struct cbor_reader *r, struct smp_slot_info_rsp *rsp,
			  const char **ret_reason)
{
	struct slot_info_slot s = {0};
	struct smp_slot_info *e;
	uint32_t seen;

	if (rsp->n >= SMP_MAX_SLOTS)
		return smp_bad(ret_reason, "slot info: more than 8 slots");
	if (smp_decode_map(r, &si_slot_msg, &s, &seen, ret_reason) < 0)
		return -EBADMSG;
	if (!(seen & 1u << SIS_SLOT))
		return smp_bad(ret_reason, "slot info slot: 'slot' missing");
	if (!(seen & 1u << SIS_SIZE) && (!(seen & 1u << SIS_RC) || s.err.rc == 0))
		return smp_bad(ret_reason, "slot info slot: 'size' missing");
	e = &rsp->slots[rsp->n++];
	*e = (struct smp_slot_info){
		.slot = s.slot,
		.size = seen & 1u << SIS_SIZE ? s.size : 0,
		.rc = seen & 1u << SIS_SIZE ? 0 : s.err.rc,
		.has_upload_image_id = seen & 1u << SIS_UPLOAD_ID,
		.upload_image_id = s.upload_image_id,
	};
	return 0;
}

static int decode_si_slots(struct cbor_reader *r, void *target, const struct smp_field *f,
			   const char **ret_reason)
{
	struct slot_info_image *img = target;
	struct cr_item head;
	struct cr_iter iter;
	int k;

	if (smp_read_typed(r, CR_ARRAY, f, &head, ret_reason) < 0)
		return -EBADMSG;
	if (cr_iter_init(r, &head, &iter) < 0)
		return smp_bad(ret_reason, r->err);
	while ((k = cr_iter_next(r, &iter)) > 0)
		if (decode_si_slot(r, img->rsp, ret_reason) < 0)
			return -EBADMSG;
	return k < 0 ? smp_bad(ret_reason, r->err) : 0;
}

enum { SII_IMAGE, SII_SLOTS, SII_MAX };
static const struct smp_field si_image_fields[] = {
	[SII_IMAGE] = SMP_U32("slot info image", "image", struct slot_info_image, image),
	[SII_SLOTS] = SMP_CUSTOM("slot info image", "slots", "an array", decode_si_slots),
	[SII_MAX] = SMP_U32("slot info image", "max_image_size", struct slot_info_image,
			    max_image_size),
};
static const struct smp_msg si_image_msg = SMP_MSG("slot info image", si_image_fields);

static int decode_si_images(struct cbor_reader *r, void *target, const struct smp_field *f,
			    const char **ret_reason)
{
	struct smp_slot_info_rsp *rsp = target;
	struct cr_item head;
	struct cr_iter iter;
	int k;

	if (smp_read_typed(r, CR_ARRAY, f, &head, ret_reason) < 0)
		return -EBADMSG;
	if (cr_iter_init(r, &head, &iter) < 0)
		return smp_bad(ret_reason, r->err);
	while ((k = cr_iter_next(r, &iter)) > 0) {
		struct slot_info_image img = {.rsp = rsp};
		unsigned first = rsp->n;
		uint32_t seen;

		/* "image" and "max_image_size" may follow "slots": fill them in afterwards. */
		if (smp_decode_map(r, &si_image_msg, &img, &seen, ret_reason) < 0)
			return -EBADMSG;
		if (!(seen & 1u << SII_IMAGE))
			return smp_bad(ret_reason, "slot info image: 'image' missing");
		if (!(seen & 1u << SII_SLOTS))
			return smp_bad(ret_reason, "slot info image: 'slots' missing");
		for (unsigned i = first; i < rsp->n; i++) {
			rsp->slots[i].image = img.image;
			rsp->slots[i].has_max_image_size = seen & 1u << SII_MAX;
			rsp->slots[i].max_image_size = img.max_image_size;
		}
	}
	return k < 0 ? smp_bad(ret_reason, r->err) : 0;
}

enum { SI_IMAGES };
static const struct smp_field slot_info_fields[] = {
	[SI_IMAGES] = SMP_CUSTOM("slot info", "images", "an array", decode_si_images),
	SMP_ERR_FIELDS("slot info", struct smp_slot_info_rsp, err),
};
static const struct smp_msg slot_info_msg = SMP_MSG("slot info", slot_info_fields);

int smp_slot_info_rsp_decode(const uint8_t *body, size_t len, struct smp_slot_info_rsp *ret,
			     const char **ret_reason)
{
	uint32_t seen;

	*ret = (struct smp_slot_info_rsp){0};
	if (smp_decode_body(body, len, &slot_info_msg, ret, &seen, ret_reason) < 0)
		return -EBADMSG;
	if (smp_err_ok(&ret->err) && !(seen & 1u << SI_IMAGES))
		return smp_bad(ret_reason, "slot info: 'images' missing");
	return 0;
}

const struct smp_slot_info *smp_slot_info_find(const struct smp_slot_info_rsp *r, uint32_t image,
					       uint32_t slot)
{
	for (unsigned i = 0; i < r->n && i < SMP_MAX_SLOTS; i++)
		if (r->slots[i].image == image && r->slots[i].slot == slot)
			return &r->slots[i];
	return NULL;
}

int smp_slot_info_upload_max(const struct smp_slot_info_rsp *r, uint32_t image, uint32_t *ret_max,
			     bool *ret_slot_size)
{
	const struct smp_slot_info *s = NULL;

	for (unsigned i = 0; i < r->n && i < SMP_MAX_SLOTS && !s; i++)
		if (r->slots[i].image == image && r->slots[i].has_upload_image_id &&
		    r->slots[i].upload_image_id == image)
			s = &r->slots[i];
	if (!s)
		s = smp_slot_info_find(r, image, 1);
	if (!s)
		return -ENOENT;
	if (s->has_max_image_size) {
		*ret_max = s->max_image_size;
		*ret_slot_size = false;
		return 0;
	}
	if (s->rc != 0)
		return -EIO;
	*ret_max = s->size;
	*ret_slot_size = true;
	return 0;
}

/* Entries [first, first + n) share one image. */
static unsigned image_run(const struct smp_slot_info_rsp *r, unsigned first)
{
	unsigned n = 1;

	while (first + n < r->n && r->slots[first + n].image == r->slots[first].image)
		n++;
	return n;
}

static void encode_si_slot(struct cbor_writer *w, const struct smp_slot_info *s)
{
	cw_map(w, 2 + s->has_upload_image_id);
	cw_key(w, "slot");
	cw_uint(w, s->slot);
	if (s->rc != 0) {
		cw_key(w, "rc");
		cw_int(w, s->rc);
	} else {
		cw_key(w, "size");
		cw_uint(w, s->size);
	}
	if (s->has_upload_image_id) {
		cw_key(w, "upload_image_id");
		cw_uint(w, s->upload_image_id);
	}
}

static void encode_si_image(struct cbor_writer *w, const struct smp_slot_info_rsp *r,
			    unsigned first, unsigned n)
{
	bool has_max = r->slots[first].has_max_image_size;

	cw_map(w, has_max ? 3 : 2);
	cw_key(w, "image");
	cw_uint(w, r->slots[first].image);
	cw_key(w, "slots");
	cw_array(w, n);
	for (unsigned i = first; i < first + n; i++)
		encode_si_slot(w, &r->slots[i]);
	if (has_max) {
		cw_key(w, "max_image_size");
		cw_uint(w, r->slots[first].max_image_size);
	}
}

int smp_slot_info_rsp_encode(uint8_t *buf, size_t size, const struct smp_slot_info_rsp *r)
{
	struct cbor_writer w;
	unsigned groups = 0;

	if (!smp_err_ok(&r->err))
		return smp_err_rsp_encode(buf, size, &r->err);
	if (r->n > SMP_MAX_SLOTS)
		return -EINVAL;
	for (unsigned i = 0; i < r->n; i += image_run(r, i))
		groups++;

	cw_init(&w, buf, size);
	cw_map(&w, 1);
	cw_key(&w, "images");
	cw_array(&w, groups);
	for (unsigned i = 0, n; i < r->n; i += n) {
		n = image_run(r, i);
		encode_si_image(&w, r, i, n);
	}
	return cw_finish(&w);
}
