/* device.c — Zephyr img_mgmt over the simulated flash: upload (inspect, resume, erase, stream
 * flash writes, image check), image state read/write, erase, slot info.
 * Source: zephyr subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c, img_mgmt_state.c and
 * zephyr_img_mgmt.c; mcuboot boot/bootutil/src/bootutil_public.c (boot_set_next). */
#include "sim/device-internal.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/macro.h"

/* Byte offsets in the MCUboot image header (bootutil/image.h struct image_header). */
#define HDR_HDR_SIZE  8
#define HDR_PROT_SIZE 10
#define HDR_IMG_SIZE  12
#define HDR_VERSION   20

void sim_work_reset(struct sim_work *w)
{
	w->duration = 0;
	w->n_pages = 0;
	w->oom = false;
}

void sim_work_done(struct sim_work *w)
{
	free(w->pages);
	*w = (struct sim_work){0};
}

void sim_work_add(struct sim_work *w, uint64_t d, uint32_t off, uint32_t len)
{
	if (len > 0) {
		if (w->n_pages == w->cap_pages) {
			size_t cap = w->cap_pages ? w->cap_pages * 2 : 32;
			struct sim_page_op *p = realloc(w->pages, cap * sizeof(*p));

			if (!p) {
				w->oom = true;
				w->duration += d;
				return;
			}
			w->pages = p;
			w->cap_pages = cap;
		}
		w->pages[w->n_pages++] = (struct sim_page_op){
			.start = w->duration, .end = w->duration + d, .off = off, .len = len};
	}
	w->duration += d;
}

void sim_device_log(struct sim_device *d, char level, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (!d->ops.log)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	d->ops.log(level, text, d->user_data);
}

void sim_device_save(struct sim_device *d)
{
	int r = sim_store_save(d->store);

	if (r < 0)
		sim_device_log(d, 'E', "state file not written: %s", strerror(-r));
}

int sim_device_new(const struct sim_profile *p, struct sim_store *store, struct sim_prng *prng,
		   const char *key_pem, size_t key_pem_len, const struct sim_device_ops *ops,
		   void *user_data, struct sim_device **ret)
{
	struct sim_device *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->p = *p;
	d->store = store;
	d->meta = sim_store_meta(store);
	d->prng = prng;
	d->up.buf = malloc(p->page_size);
	if (!d->up.buf)
		return sim_device_free(d), -ENOMEM;
	if (key_pem) {
		d->key_pem = malloc(key_pem_len + 1);
		if (!d->key_pem)
			return sim_device_free(d), -ENOMEM;
		memcpy(d->key_pem, key_pem, key_pem_len);
		d->key_pem[key_pem_len] = 0;
		d->key_pem_len = key_pem_len;
	}
	if (ops)
		d->ops = *ops;
	d->user_data = user_data;
	sim_flash_init(&d->flash, &d->p, sim_store_flash(store), prng);
	*ret = d;
	return 0;
}

struct sim_device *sim_device_free(struct sim_device *d)
{
	if (!d)
		return NULL;
	free(d->up.buf);
	free(d->key_pem);
	free(d);
	return NULL;
}

const struct sim_profile *sim_device_profile(const struct sim_device *d)
{
	return &d->p;
}

struct sim_flash *sim_device_flash(struct sim_device *d)
{
	return &d->flash;
}

int sim_device_flash_factory(struct sim_device *d, const uint8_t *img, size_t len)
{
	uint8_t *s0 = sim_flash_slot(&d->flash, 0);

	if (len > d->p.slot_size - d->p.sector_size)
		return -EINVAL;
	memset(s0, 0xff, d->p.slot_size);
	memcpy(s0, img, len);
	d->meta->trailer[0] = (struct sim_trailer){0};
	return 0;
}

enum sim_swap_type sim_device_swap_type(const struct sim_device *d)
{
	const struct sim_trailer *pri = &d->meta->trailer[0], *sec = &d->meta->trailer[1];

	if (sec->magic)
		return sec->image_ok ? SIM_SWAP_PERM : SIM_SWAP_TEST;
	if (pri->magic && !pri->image_ok && pri->copy_done)
		return SIM_SWAP_REVERT;
	return SIM_SWAP_NONE;
}

size_t sim_device_slot_extent(const struct sim_device *d, unsigned slot)
{
	const uint8_t *s = sim_flash_slot(&d->flash, slot);
	size_t size = d->p.slot_size, off;

	off = (size_t)get_le16(s + HDR_HDR_SIZE) + get_le32(s + HDR_IMG_SIZE) +
	      get_le16(s + HDR_PROT_SIZE);
	if (off + IMG_TLV_INFO_SIZE > size)
		return size;
	if (get_le16(s + off) == IMG_TLV_INFO_MAGIC)
		off += get_le16(s + off + 2);
	return MIN(off, size);
}

int sim_device_slot_image(struct sim_device *d, unsigned slot, struct img_info *ret)
{
	struct img_diag diag;

	if (get_le32(sim_flash_slot(&d->flash, slot)) != IMG_MAGIC)
		return -EBADMSG;
	return img_parse_no_hash(sim_flash_slot(&d->flash, slot), sim_device_slot_extent(d, slot),
				 ret, &diag);
}

/* ---- Which slot boots next (img_mgmt_state.c img_mgmt_get_next_boot_slot) ------------------ */
enum next_boot { NEXT_NORMAL, NEXT_TEST, NEXT_REVERT };

static unsigned next_boot_slot(const struct sim_device *d, enum next_boot *ret_type)
{
	switch (sim_device_swap_type(d)) {
	case SIM_SWAP_PERM:
		*ret_type = NEXT_NORMAL;
		return 1;
	case SIM_SWAP_REVERT:
		*ret_type = NEXT_REVERT;
		return 1;
	case SIM_SWAP_TEST:
		*ret_type = NEXT_TEST;
		return 1;
	default:
		*ret_type = NEXT_NORMAL;
		return 0;
	}
}

/* img_mgmt_slot_in_use(): the running slot, or one that a reset would swap in or back. */
static bool slot_in_use(const struct sim_device *d, unsigned slot)
{
	enum next_boot type;
	unsigned nbs = next_boot_slot(d, &type);

	if (slot == nbs && type == NEXT_REVERT)
		return true;
	if ((slot == nbs && type == NEXT_TEST) || (nbs != 0 && type == NEXT_NORMAL))
		return true;
	return slot == 0;
}

/* ---- Upload --------------------------------------------------------------------------------- */
static void close_upload(struct sim_device *d)
{
	struct sim_upload_state *u = &d->up;
	uint8_t *buf = u->buf;

	*u = (struct sim_upload_state){.buf = buf};
}

void sim_device_reset_ram(struct sim_device *d)
{
	close_upload(d);
}

/* img_mgmt_vercmp() without the build number (CONFIG_MCUMGR_GRP_IMG_VERSION_CMP_USE_BUILD_NUMBER
 * is off by default). */
static int vercmp(const struct img_version *a, const uint8_t *hdr_ver)
{
	uint16_t rev = get_le16(hdr_ver + 2);

	if (a->major != hdr_ver[0])
		return a->major < hdr_ver[0] ? -1 : 1;
	if (a->minor != hdr_ver[1])
		return a->minor < hdr_ver[1] ? -1 : 1;
	if (a->revision != rev)
		return a->revision < rev ? -1 : 1;
	return 0;
}

/* img_mgmt_upload_inspect() for a first chunk. Sets *resume for a re-sent first chunk of the
 * open upload, *erase when the slot is not empty (no progressive erase). */
static uint16_t inspect_first(struct sim_device *d, const struct smp_upload_req *r,
			      struct sim_work *w, bool *resume, bool *erase)
{
	const struct sim_upload_state *u = &d->up;

	if (r->data_len < IMG_HEADER_SIZE)
		return IMG_MGMT_ERR_INVALID_IMAGE_HEADER;
	if (!r->has_first)
		return IMG_MGMT_ERR_INVALID_LENGTH;
	if (get_le32(r->data) != IMG_MAGIC)
		return IMG_MGMT_ERR_INVALID_IMAGE_HEADER_MAGIC;
	/* One image pair (CONFIG_MCUMGR_GRP_IMG_UPDATABLE_IMAGE_NUMBER=1): img_mgmt finds no
	 * slot for any other image number (img_mgmt_get_unused_slot_area_id). */
	if (r->image != 0)
		return IMG_MGMT_ERR_NO_FREE_SLOT;
	if (r->sha_len > sizeof(u->sha))
		return IMG_MGMT_ERR_INVALID_HASH;
	if (r->sha_len > 0 && u->open && u->sha_len == r->sha_len &&
	    memcmp(u->sha, r->sha, r->sha_len) == 0) {
		*resume = true;
		return 0;
	}
	if (slot_in_use(d, 1))
		return IMG_MGMT_ERR_NO_FREE_SLOT;
	/* zephyr_img_mgmt.c with CONFIG_MCUMGR_GRP_IMG_TOO_LARGE_SYSBUILD (sysbuild's default for
	 * the swap modes): the slot less MCUboot's trailer (CONFIG_MCUBOOT_UPDATE_FOOTER_SIZE, one
	 * sector here), what slot info reports as max_image_size */
	if (r->len > sim_device_max_image(d)) {
		sim_device_log(d, 'E', "Upload too large for slot (with end offset): %u > %u", r->len,
			       sim_device_max_image(d));
		return IMG_MGMT_ERR_INVALID_IMAGE_TOO_LARGE;
	}
	if (r->has_upgrade && r->upgrade) {
		struct img_info cur;

		if (sim_device_slot_image(d, 0, &cur) < 0)
			return IMG_MGMT_ERR_VERSION_GET_FAILED;
		if (vercmp(&cur.version, r->data + HDR_VERSION) >= 0)
			return IMG_MGMT_ERR_CURRENT_VERSION_IS_NEWER;
	}
	if (!d->p.progressive_erase) {
		/* img_mgmt_flash_check_empty(): reads until the first non-erased word */
		size_t run = sim_flash_erased_run(&d->flash, 1, 0, d->p.slot_size);

		sim_work_add(w, sim_flash_read_us(&d->flash, MIN(run + 64, (size_t)d->p.slot_size)),
			     0, 0);
		*erase = run < d->p.slot_size;
	}
	return 0;
}

static bool slot_matches(struct sim_device *d, uint32_t len, const uint8_t *sha, size_t sha_len,
			 struct sim_work *w)
{
	uint8_t md[SHA256_DIGEST_LENGTH];

	if (sha_len != sizeof(md) || len > d->p.slot_size)
		return false;
	sim_work_add(w, sim_flash_read_us(&d->flash, len), 0, 0);
	SHA256(sim_flash_slot(&d->flash, 1), len, md);
	return memcmp(md, sha, sizeof(md)) == 0;
}

/* The image trailer lives in the slot's last sector; its flags are kept in the state file. */
static void erase_trailer(struct sim_device *d, struct sim_work *w)
{
	uint32_t sector = d->p.slot_size / d->p.sector_size - 1;

	sim_work_add(w, sim_flash_erase_sector(&d->flash, 1, sector), 0, 0);
	if (d->meta->trailer[1].magic || d->meta->trailer[1].image_ok ||
	    d->meta->trailer[1].copy_done || d->meta->trailer[1].swap_type) {
		d->meta->trailer[1] = (struct sim_trailer){0};
		sim_device_save(d);
	}
	sim_device_log(d, 'I', "Erased 0x%x bytes of image slot trailer", d->p.sector_size);
}

/* img_mgmt_erase_image_data(0, len): the sectors holding len bytes, then the trailer's. */
static void erase_image(struct sim_device *d, uint32_t len, struct sim_work *w)
{
	uint32_t end = (uint32_t)DIV_ROUND_UP(MAX(len, 1u), d->p.sector_size) * d->p.sector_size;

	for (uint32_t s = 0; s < end / d->p.sector_size; s++)
		sim_work_add(w, sim_flash_erase_sector(&d->flash, 1, s), 0, 0);
	sim_device_log(d, 'I', "Erased 0x%x bytes of image slot", end);
	if (end <= d->p.slot_size - d->p.sector_size)
		erase_trailer(d, w);
	else
		d->meta->trailer[1] = (struct sim_trailer){0};
}

/* stream_flash: programs the buffered bytes, erasing sectors first when progressive. */
static void program_buffer(struct sim_device *d, struct sim_work *w)
{
	struct sim_upload_state *u = &d->up;
	uint32_t end = u->buf_start + (uint32_t)u->fill;

	if (u->fill == 0)
		return;
	if (d->p.progressive_erase)
		for (; u->erased_end < end; u->erased_end += d->p.sector_size)
			sim_work_add(w,
				     sim_flash_erase_sector(&d->flash, 1,
							    u->erased_end / d->p.sector_size),
				     0, 0);
	sim_work_add(w, sim_flash_program(&d->flash, 1, u->buf_start, u->buf, u->fill),
		     u->buf_start, (uint32_t)u->fill);
	u->buf_start = end;
	u->fill = 0;
}

static void stream_write(struct sim_device *d, const uint8_t *data, size_t len, struct sim_work *w)
{
	struct sim_upload_state *u = &d->up;

	while (len > 0) {
		size_t n = MIN(d->p.page_size - u->fill, len);

		memcpy(u->buf + u->fill, data, n);
		u->fill += n;
		data += n;
		len -= n;
		if (u->fill == d->p.page_size)
			program_buffer(d, w);
	}
}

/* The last chunk: flush the partial page; progressive erase also erases the trailer now. */
static void stream_flush(struct sim_device *d, struct sim_work *w)
{
	program_buffer(d, w);
	if (d->p.progressive_erase && d->up.erased_end <= d->p.slot_size - d->p.sector_size)
		erase_trailer(d, w);
}

static void open_upload(struct sim_device *d, const struct smp_upload_req *r)
{
	struct sim_upload_state *u = &d->up;

	close_upload(d);
	u->open = true;
	u->len = r->len;
	u->sha_len = r->sha_len;
	memcpy(u->sha, r->sha, r->sha_len);
}

/* Opens a new upload from a first chunk. false: answered already (resume, or already there). */
static bool first_chunk(struct sim_device *d, const struct smp_upload_req *r, struct sim_work *w,
			struct sim_upload *ret)
{
	bool resume = false, erase = false;

	ret->rc = inspect_first(d, r, w, &resume, &erase);
	if (ret->rc != 0 || resume)
		return false;
	open_upload(d, r);
	if (d->p.image_check && slot_matches(d, r->len, r->sha, r->sha_len, w)) {
		/* The slot already holds this image: done without writing */
		ret->off = ret->len = r->len;
		ret->last = ret->has_match = ret->match = true;
		close_upload(d);
		return false;
	}
	if (!d->p.progressive_erase && erase)
		erase_image(d, r->len, w);
	return true;
}

void sim_device_upload(struct sim_device *d, const struct smp_upload_req *r, struct sim_work *w,
		       struct sim_upload *ret)
{
	struct sim_upload_state *u = &d->up;

	memset(ret, 0, sizeof(*ret));
	ret->expected = u->off;
	if (r->off == 0) {
		if (!first_chunk(d, r, w, ret)) {
			ret->result = ret->rc	  ? SIM_UPLOAD_ERROR
				      : ret->last ? SIM_UPLOAD_OK
						  : SIM_UPLOAD_IGNORED;
			if (ret->rc) {
				close_upload(d);
				sim_device_log(d, 'E', "Image upload inspect failed: %u", ret->rc);
			} else if (!ret->last) {
				ret->off = u->off;
			}
			return;
		}
	} else if (!u->open || r->off != u->off) {
		ret->result = SIM_UPLOAD_IGNORED; /* answered with the offset expected */
		ret->off = u->off;
		return;
	} else if ((uint64_t)r->off + r->data_len > u->len) {
		close_upload(d);
		ret->rc = IMG_MGMT_ERR_INVALID_IMAGE_DATA_OVERRUN;
		ret->result = SIM_UPLOAD_ERROR;
		sim_device_log(d, 'E', "Image upload inspect failed: %u", ret->rc);
		return;
	}
	if (r->data_len > 0) {
		bool last = u->off + r->data_len == u->len;

		stream_write(d, r->data, r->data_len, w);
		u->off += (uint32_t)r->data_len;
		if (last)
			stream_flush(d, w);
	}
	ret->result = SIM_UPLOAD_OK;
	ret->off = u->off;
	if (u->off == u->len) {
		ret->last = true;
		ret->len = u->len;
		if (d->p.image_check) {
			ret->check = true;
			ret->sha_len = u->sha_len;
			memcpy(ret->sha, u->sha, u->sha_len);
		}
		close_upload(d);
	}
}

void sim_device_upload_check(struct sim_device *d, struct sim_upload *u, struct sim_work *w)
{
	if (!u->check)
		return;
	u->check = false;
	u->has_match = true;
	u->match = slot_matches(d, u->len, u->sha, u->sha_len, w);
	if (!u->match)
		sim_device_log(d, 'E', "Uploaded image sha256 hash verification failed");
}

int sim_device_slot_sha(struct sim_device *d, unsigned slot, uint32_t len, uint8_t ret[32])
{
	if (slot > 1 || len > d->p.slot_size)
		return -EINVAL;
	SHA256(sim_flash_slot(&d->flash, slot), len, ret);
	return 0;
}

void sim_device_corrupt(struct sim_device *d, uint32_t off, uint32_t len)
{
	sim_flash_clear_bits(&d->flash, 1, off, len, 1 + (unsigned)sim_prng_below(d->prng, 8));
}

bool sim_device_upload_open(const struct sim_device *d, uint32_t *ret_off)
{
	if (ret_off)
		*ret_off = d->up.off;
	return d->up.open;
}

/* ---- Image state ---------------------------------------------------------------------------- */
#define F_ACTIVE    0x1
#define F_PENDING   0x2
#define F_CONFIRMED 0x4
#define F_PERMANENT 0x8

/* img_mgmt_state_read(): flags of the active slot (0) and the other one (1). */
static void state_flags(const struct sim_device *d, unsigned flags[2])
{
	enum next_boot type;
	unsigned nbs = next_boot_slot(d, &type);

	flags[0] = F_ACTIVE | (type != NEXT_REVERT ? F_CONFIRMED : 0);
	flags[1] = 0;
	if (nbs != 0) {
		if (type == NEXT_NORMAL)
			flags[1] = F_PENDING | F_PERMANENT;
		else if (type == NEXT_REVERT)
			flags[1] = F_CONFIRMED;
		else
			flags[1] = F_PENDING;
	}
}

void sim_device_state_read(struct sim_device *d, struct smp_image_state *ret)
{
	unsigned flags[2];

	memset(ret, 0, sizeof(*ret));
	state_flags(d, flags);
	for (unsigned slot = 0; slot < SIM_SLOTS; slot++) {
		struct smp_slot_state *s = &ret->slots[ret->n_slots];
		struct img_info info;

		if (sim_device_slot_image(d, slot, &info) < 0)
			continue; /* img_mgmt_read_info() failed: the slot is not listed */
		s->image = 0;
		s->slot = slot;
		img_version_format(&info.version, s->version, sizeof(s->version));
		memcpy(s->hash, info.hash, sizeof(info.hash));
		s->hash_len = sizeof(info.hash);
		s->bootable = !(info.flags & IMG_F_NON_BOOTABLE);
		s->pending = flags[slot] & F_PENDING;
		s->confirmed = flags[slot] & F_CONFIRMED;
		s->active = flags[slot] & F_ACTIVE;
		s->permanent = flags[slot] & F_PERMANENT;
		ret->n_slots++;
	}
}

/* img_mgmt_find_by_hash(): the slot whose SHA-256 TLV is hash, or -1. */
static int find_by_hash(struct sim_device *d, const uint8_t *hash)
{
	for (unsigned slot = 0; slot < SIM_SLOTS; slot++) {
		struct img_info info;

		if (sim_device_slot_image(d, slot, &info) == 0 &&
		    memcmp(info.hash, hash, sizeof(info.hash)) == 0)
			return (int)slot;
	}
	return -1;
}

/* img_mgmt_set_next_boot_slot() for the swap modes: what may change given the next boot. */
static uint16_t check_next_boot(const struct sim_device *d, unsigned slot, bool confirm,
				bool *ret_noop)
{
	enum next_boot type;
	unsigned nbs = next_boot_slot(d, &type);

	*ret_noop = false;
	if (!confirm && slot == 0)
		return IMG_MGMT_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED;
	switch (type) {
	case NEXT_TEST:
		*ret_noop = !confirm && slot == nbs;
		return *ret_noop ? 0 : IMG_MGMT_ERR_IMAGE_ALREADY_PENDING;
	case NEXT_NORMAL:
		if (confirm && slot == nbs)
			return *ret_noop = true, 0;
		if ((slot == 0 && nbs != 0) || (!confirm && slot != 0 && slot == nbs))
			return IMG_MGMT_ERR_IMAGE_ALREADY_PENDING;
		return 0;
	case NEXT_REVERT:
		if (confirm && slot == nbs)
			return *ret_noop = true, 0;
		return confirm ? 0 : IMG_MGMT_ERR_IMAGE_ALREADY_PENDING;
	}
	return IMG_MGMT_ERR_UNKNOWN;
}

/* boot_set_next(): writes trailer fields (each a flash write of the trailer). */
static void set_next(struct sim_device *d, unsigned slot, bool confirm, struct sim_work *w)
{
	struct sim_trailer *t = &d->meta->trailer[slot];

	if (slot == 0) {
		if (t->magic && !t->image_ok) {
			t->image_ok = true;
			sim_work_add(w, sim_flash_program_time(&d->flash), 0, 0);
		}
	} else if (!t->magic) {
		t->magic = true;
		t->image_ok = confirm;
		t->swap_type = confirm ? SIM_SWAP_PERM : SIM_SWAP_TEST;
		for (unsigned i = 0; i < (confirm ? 3u : 2u); i++)
			sim_work_add(w, sim_flash_program_time(&d->flash), 0, 0);
	}
	sim_device_save(d);
}

uint16_t sim_device_state_write(struct sim_device *d, const struct smp_state_write_req *r,
				struct sim_work *w, enum sim_state_write_result *ret)
{
	bool noop;
	uint16_t rc;
	int slot;

	*ret = SIM_STATE_ERROR;
	if (!r->has_hash || r->hash_len == 0) {
		if (!r->confirm)
			return IMG_MGMT_ERR_INVALID_HASH; /* a test without a hash */
		slot = 0;
	} else if (r->hash_len != 32) {
		return IMG_MGMT_ERR_INVALID_HASH;
	} else {
		slot = find_by_hash(d, r->hash);
		if (slot < 0)
			return IMG_MGMT_ERR_HASH_NOT_FOUND;
	}
	rc = check_next_boot(d, (unsigned)slot, r->confirm, &noop);
	if (rc != 0)
		return rc;
	if (!noop)
		set_next(d, (unsigned)slot, r->confirm, w);
	*ret = slot == 0 ? SIM_STATE_CONFIRM : r->confirm ? SIM_STATE_PERMANENT : SIM_STATE_TEST;
	return 0;
}

/* img_mgmt_erase(): refuses a slot in use, erases the whole slot unless already empty. */
uint16_t sim_device_erase(struct sim_device *d, int slot, struct sim_work *w)
{
	struct img_info info;
	size_t run;

	if (slot < 0)
		slot = 1;
	if (slot >= SIM_SLOTS)
		return IMG_MGMT_ERR_INVALID_SLOT;
	if (sim_device_slot_image(d, (unsigned)slot, &info) == 0 && slot_in_use(d, (unsigned)slot))
		return IMG_MGMT_ERR_NO_FREE_SLOT;
	run = sim_flash_erased_run(&d->flash, (unsigned)slot, 0, d->p.slot_size);
	sim_work_add(w, sim_flash_read_us(&d->flash, MIN(run + 64, (size_t)d->p.slot_size)), 0, 0);
	if (run < d->p.slot_size)
		sim_work_add(w, sim_flash_erase_range(&d->flash, (unsigned)slot, 0, d->p.slot_size),
			     0, 0);
	if (slot == 1) {
		d->meta->trailer[1] = (struct sim_trailer){0};
		sim_device_save(d);
	}
	close_upload(d);
	return 0;
}

uint32_t sim_device_max_image(const struct sim_device *d)
{
	return d->p.slot_size - d->p.sector_size;
}

/* img_mgmt_slot_info(): both slots' sizes, upload_image_id on the slot an upload goes to (not
 * the running one), and max_image_size (CONFIG_MCUMGR_GRP_IMG_TOO_LARGE_SYSBUILD). */
void sim_device_slot_info(struct sim_device *d, struct smp_slot_info_rsp *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->n = SIM_SLOTS;
	for (unsigned slot = 0; slot < SIM_SLOTS; slot++) {
		ret->slots[slot].image = 0;
		ret->slots[slot].slot = slot;
		ret->slots[slot].size = d->p.slot_size;
		ret->slots[slot].has_upload_image_id = slot == SIM_TRAILER_SLOT;
		ret->slots[slot].has_max_image_size = true;
		ret->slots[slot].max_image_size = sim_device_max_image(d);
	}
}

struct sim_prng *sim_device_prng(struct sim_device *d)
{
	return d->prng;
}

void sim_device_set_log(struct sim_device *d, void (*log)(char, const char *, void *),
			void *user_data)
{
	d->ops.log = log;
	d->user_data = user_data;
}
