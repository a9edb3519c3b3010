/* test-sim-device.c — otasim's device model without sockets: Zephyr img_mgmt upload semantics,
 * image state, erase, and MCUboot at reset (swap, refusal, revert), timed in model time. */
#include <errno.h>
#include <openssl/sha.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/testlib.h"
#include "otad/image.h"
#include "sim/device.h"
#include "sim/store.h"
#include "util/fileio.h"
#include "util/macro.h"

#define SLOT	(64 * 1024)
#define PAYLOAD (20 * 1024)
#define CHUNK	1000

struct fx {
	struct sim_profile p;
	struct sim_store *store;
	struct sim_prng prng;
	struct sim_device *d;
	struct sim_work w;
	char log[16384];
	size_t log_len;
	uint8_t *img; /* the update: 2.0.0 */
	size_t img_len;
	uint8_t sha[32];
	uint8_t hash[32]; /* its SHA-256 TLV */
	uint8_t factory_hash[32];
};

static void on_log(char level, const char *text, void *user_data)
{
	struct fx *x = user_data;
	int n = snprintf(x->log + x->log_len, sizeof(x->log) - x->log_len, "%c: %s\n", level, text);

	if (n > 0 && x->log_len + (size_t)n < sizeof(x->log))
		x->log_len += (size_t)n;
}

static uint8_t *build(const char *version, size_t payload, uint32_t seed, const char *key_rel,
		      size_t *ret_len)
{
	struct img_build_opts o = {.payload_size = payload, .seed = seed};
	uint8_t *img = NULL, *key = NULL;
	size_t key_len = 0;
	char path[1024];

	assert_int_equal(img_version_parse(version, &o.version), 0);
	if (key_rel) {
		snprintf(path, sizeof(path), "%s/tests/data/keys/%s", OTAD_SOURCE_DIR, key_rel);
		assert_int_equal(read_full_file(path, 65536, &key, &key_len), 0);
		o.key_pem = (const char *)key;
		o.key_pem_len = key_len;
	}
	assert_int_equal(img_build(&o, &img, ret_len), 0);
	free(key);
	return img;
}

static struct fx *fx_new(const char *profile, const char *key_rel)
{
	struct sim_device_ops ops = {.log = on_log};
	struct fx *x = calloc(1, sizeof(*x));
	uint8_t *key = NULL, *factory;
	size_t key_len = 0, flen;
	struct img_info info;
	char path[1024];

	assert_non_null(x);
	x->p = *sim_profile_find(profile);
	x->p.slot_size = SLOT;
	sim_prng_seed(&x->prng, 1);
	assert_int_equal(sim_store_open(NULL, x->p.name, SLOT, &x->store, NULL, NULL, 0), 0);
	if (key_rel) {
		snprintf(path, sizeof(path), "%s/tests/data/keys/%s", OTAD_SOURCE_DIR, key_rel);
		assert_int_equal(read_full_file(path, 65536, &key, &key_len), 0);
	}
	assert_int_equal(
		sim_device_new(&x->p, x->store, &x->prng, (char *)key, key_len, &ops, x, &x->d), 0);
	free(key);
	factory = build("1.0.0", 8192, 7, key_rel, &flen);
	assert_int_equal(sim_device_flash_factory(x->d, factory, flen), 0);
	assert_int_equal(img_parse(factory, flen, &info, NULL), 0);
	memcpy(x->factory_hash, info.hash, 32);
	free(factory);
	x->img = build("2.0.0", PAYLOAD, 9, key_rel, &x->img_len);
	SHA256(x->img, x->img_len, x->sha);
	assert_int_equal(img_parse(x->img, x->img_len, &info, NULL), 0);
	memcpy(x->hash, info.hash, 32);
	return x;
}

static int setup(void **state)
{
	*state = fx_new("lan", NULL);
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	sim_work_done(&x->w);
	sim_device_free(x->d);
	sim_store_free(x->store);
	free(x->img);
	free(x);
	return 0;
}

/* One upload request of len bytes at off; the first chunk carries len/sha/image. */
static void chunk_of(struct fx *x, const uint8_t *img, size_t img_len, const uint8_t *sha,
		     uint32_t off, size_t len, struct sim_upload *ret)
{
	struct smp_upload_req r = {.off = off, .data = img + off, .data_len = len};

	if (off == 0) {
		r.has_first = true;
		r.len = (uint32_t)img_len;
		memcpy(r.sha, sha, 32);
		r.sha_len = 32;
	}
	sim_work_reset(&x->w);
	sim_device_upload(x->d, &r, &x->w, ret);
	sim_device_upload_check(x->d, ret, &x->w);
}

static void chunk(struct fx *x, uint32_t off, size_t len, struct sim_upload *ret)
{
	chunk_of(x, x->img, x->img_len, x->sha, off, len, ret);
}

static void upload_all(struct fx *x)
{
	struct sim_upload u;
	uint32_t off = 0;

	while (off < x->img_len) {
		size_t n = x->img_len - off < CHUNK ? x->img_len - off : CHUNK;

		chunk(x, off, n, &u);
		assert_int_equal(u.rc, 0);
		assert_int_equal(u.result, SIM_UPLOAD_OK);
		assert_int_equal(u.expected, off);
		off += (uint32_t)n;
		assert_int_equal(u.off, off);
		assert_int_equal(u.last, off == x->img_len);
	}
}

static const struct smp_slot_state *slot_state(struct fx *x, unsigned slot,
					       struct smp_image_state *st)
{
	sim_device_state_read(x->d, st);
	for (unsigned i = 0; i < st->n_slots; i++)
		if (st->slots[i].slot == slot)
			return &st->slots[i];
	return NULL;
}

static uint16_t state_write(struct fx *x, const uint8_t *hash, bool confirm,
			    enum sim_state_write_result *ret)
{
	struct smp_state_write_req r = {.confirm = confirm};
	enum sim_state_write_result dummy;

	if (hash) {
		r.has_hash = true;
		memcpy(r.hash, hash, 32);
		r.hash_len = 32;
	}
	sim_work_reset(&x->w);
	return sim_device_state_write(x->d, &r, &x->w, ret ? ret : &dummy);
}

/* A reset, MCUboot's swap through to its end (the application runs). */
static enum sim_boot_result boot(struct fx *x, struct sim_boot *b)
{
	struct sim_boot tmp;

	if (!b)
		b = &tmp;
	sim_device_boot(x->d, b);
	if (b->swap_end)
		sim_device_swap_done(x->d);
	return b->result;
}

static void test_upload_sequence_fills_slot1_and_state_lists_it(void **state)
{
	struct fx *x = *state;
	struct smp_image_state st;
	const struct smp_slot_state *s0, *s1;

	assert_null(slot_state(x, 1, &st)); /* empty slot: not listed */
	upload_all(x);
	assert_memory_equal(sim_flash_slot(sim_device_flash(x->d), 1), x->img, x->img_len);
	s1 = slot_state(x, 1, &st);
	assert_non_null(s1);
	assert_string_equal(s1->version, "2.0.0");
	assert_memory_equal(s1->hash, x->hash, 32);
	assert_false(s1->pending || s1->confirmed || s1->active || s1->permanent);
	assert_true(s1->bootable);
	s0 = slot_state(x, 0, &st);
	assert_true(s0->active && s0->confirmed && !s0->pending);
	assert_memory_equal(s0->hash, x->factory_hash, 32);
	/* the upload is closed after its last chunk */
	assert_false(sim_device_upload_open(x->d, NULL));
}

static void test_first_chunk_erases_image_sectors_without_progressive_erase(void **state)
{
	struct fx *x = *state;
	struct sim_upload u;
	uint64_t erase_all = (PAYLOAD / 4096 + 1 + 1) * x->p.erase_typ_us;

	/* empty slot: the emptiness scan reads it all, nothing to erase */
	chunk(x, 0, CHUNK, &u);
	assert_int_equal(u.result, SIM_UPLOAD_OK);
	assert_true(x->w.duration < x->p.erase_typ_us);
	assert_true(x->w.duration >= sim_flash_read_us(sim_device_flash(x->d), SLOT));
	/* not empty any more: the next first chunk erases every sector of len, and the trailer's */
	chunk_of(x, x->img, x->img_len, (const uint8_t *)"other sha, other upload.........", 0,
		 CHUNK, &u);
	assert_int_equal(u.result, SIM_UPLOAD_OK);
	assert_true(x->w.duration >= erase_all);
	assert_non_null(strstr(x->log, "I: Erased 0x6000 bytes of image slot\n"));
	/* a middle chunk only programs pages: 1000 bytes fill 3 pages of 256 after the 1000 */
	chunk_of(x, x->img, x->img_len, (const uint8_t *)"other sha, other upload.........", CHUNK,
		 CHUNK, &u);
	assert_int_equal(u.result, SIM_UPLOAD_OK);
	assert_int_equal(x->w.n_pages, 4);
	assert_true(x->w.duration < x->p.erase_typ_us);
}

static void test_progressive_erase_erases_each_sector_before_its_first_page(void **state)
{
	struct fx *x = fx_new("internal", NULL);
	struct sim_upload u;
	unsigned erases = 0;

	for (uint32_t off = 0; off < x->img_len; off += CHUNK) {
		size_t n = x->img_len - off < CHUNK ? x->img_len - off : CHUNK;
		uint64_t pages = 0;

		chunk(x, off, n, &u);
		assert_int_equal(u.result, SIM_UPLOAD_OK);
		for (size_t i = 0; i < x->w.n_pages; i++)
			pages += x->w.pages[i].end - x->w.pages[i].start;
		/* internal flash: no tail; what is not programming or CPU-free is erasing */
		erases += (unsigned)((x->w.duration - pages) / x->p.erase_typ_us);
	}
	/* 20 KiB + header and TLVs span 6 sectors, plus the trailer's at the end */
	assert_int_equal(erases, DIV_ROUND_UP(x->img_len, 4096) + 1);
	assert_int_equal(u.has_match, true);
	assert_true(u.match);
	teardown((void **)&x);
}

static void test_resume_with_same_sha_answers_current_offset(void **state)
{
	struct fx *x = *state;
	struct sim_upload u;
	uint8_t before[3 * CHUNK];

	chunk(x, 0, CHUNK, &u);
	chunk(x, CHUNK, CHUNK, &u);
	chunk(x, 2 * CHUNK, CHUNK, &u);
	memcpy(before, sim_flash_slot(sim_device_flash(x->d), 1), sizeof(before));
	chunk(x, 0, CHUNK, &u);
	assert_int_equal(u.result, SIM_UPLOAD_IGNORED);
	assert_int_equal(u.rc, 0);
	assert_int_equal(u.off, 3 * CHUNK);
	assert_true(x->w.duration < x->p.erase_typ_us); /* no erase */
	assert_memory_equal(before, sim_flash_slot(sim_device_flash(x->d), 1), sizeof(before));
	chunk(x, 3 * CHUNK, CHUNK, &u);
	assert_int_equal(u.result, SIM_UPLOAD_OK);
	assert_int_equal(u.off, 4 * CHUNK);
}

static void test_first_chunk_with_other_sha_restarts_upload(void **state)
{
	struct fx *x = *state;
	size_t other_len;
	uint8_t *other = build("3.0.0", PAYLOAD, 11, NULL, &other_len), sha[32];
	struct sim_upload u;

	SHA256(other, other_len, sha);
	chunk(x, 0, CHUNK, &u);
	chunk(x, CHUNK, CHUNK, &u);
	chunk_of(x, other, other_len, sha, 0, CHUNK, &u);
	assert_int_equal(u.result, SIM_UPLOAD_OK);
	assert_int_equal(u.off, CHUNK);
	/* the old upload's offset is gone */
	chunk(x, 2 * CHUNK, CHUNK, &u);
	assert_int_equal(u.result, SIM_UPLOAD_IGNORED);
	assert_int_equal(u.off, CHUNK);
	free(other);
}

static void test_wrong_offset_is_ignored_and_answered_with_expected(void **state)
{
	struct fx *x = *state;
	struct sim_upload u;

	chunk(x, 5 * CHUNK, CHUNK, &u); /* nothing open: expected 0 */
	assert_int_equal(u.result, SIM_UPLOAD_IGNORED);
	assert_int_equal(u.rc, 0);
	assert_int_equal(u.off, 0);
	chunk(x, 0, CHUNK, &u);
	chunk(x, 2 * CHUNK, CHUNK, &u); /* a lost chunk */
	assert_int_equal(u.result, SIM_UPLOAD_IGNORED);
	assert_int_equal(u.expected, CHUNK);
	assert_int_equal(u.off, CHUNK);
	assert_int_equal(sim_flash_slot(sim_device_flash(x->d), 1)[2 * CHUNK], 0xff);
}

static void test_reboot_loses_upload_state(void **state)
{
	struct fx *x = *state;
	struct sim_upload u;

	chunk(x, 0, CHUNK, &u);
	chunk(x, CHUNK, CHUNK, &u);
	assert_int_equal(boot(x, NULL), SIM_BOOT_NONE);
	chunk(x, 2 * CHUNK, CHUNK, &u);
	assert_int_equal(u.result, SIM_UPLOAD_IGNORED);
	assert_int_equal(u.off, 0);
	/* and the same sha no longer resumes: it starts over */
	chunk(x, 0, CHUNK, &u);
	assert_int_equal(u.result, SIM_UPLOAD_OK);
	assert_int_equal(u.off, CHUNK);
}

static void test_first_chunk_refusals(void **state)
{
	struct fx *x = *state;
	struct smp_upload_req r = {.off = 0,
				   .data = x->img,
				   .data_len = CHUNK,
				   .has_first = true,
				   .len = SLOT + 1,
				   .sha_len = 32};
	uint8_t bad[CHUNK];
	struct sim_upload u;

	memcpy(r.sha, x->sha, 32);
	sim_device_upload(x->d, &r, &x->w, &u);
	assert_int_equal(u.result, SIM_UPLOAD_ERROR);
	assert_int_equal(u.rc, IMG_MGMT_ERR_INVALID_IMAGE_TOO_LARGE);
	/* what reaches into the trailer's sector is too large too (TOO_LARGE_SYSBUILD)... */
	r.len = SLOT - 4096 + 1;
	sim_device_upload(x->d, &r, &x->w, &u);
	assert_int_equal(u.rc, IMG_MGMT_ERR_INVALID_IMAGE_TOO_LARGE);
	assert_non_null(strstr(x->log, "E: Upload too large for slot (with end offset): 61441 > "
				       "61440\n"));
	/* ...and what ends before it is taken */
	r.len = SLOT - 4096;
	sim_device_upload(x->d, &r, &x->w, &u);
	assert_int_equal(u.rc, 0);
	assert_int_equal(u.result, SIM_UPLOAD_OK);
	memcpy(bad, x->img, CHUNK);
	bad[0] ^= 0xff;
	r.data = bad;
	r.len = (uint32_t)x->img_len;
	sim_device_upload(x->d, &r, &x->w, &u);
	assert_int_equal(u.rc, IMG_MGMT_ERR_INVALID_IMAGE_HEADER_MAGIC);
	r.data = x->img;
	r.data_len = 16;
	sim_device_upload(x->d, &r, &x->w, &u);
	assert_int_equal(u.rc, IMG_MGMT_ERR_INVALID_IMAGE_HEADER);
	r.data_len = CHUNK;
	r.has_first = false;
	sim_device_upload(x->d, &r, &x->w, &u);
	assert_int_equal(u.rc, IMG_MGMT_ERR_INVALID_LENGTH);
	/* an error closes an open upload */
	chunk(x, 0, CHUNK, &u);
	r.has_first = true;
	r.data = bad;
	sim_device_upload(x->d, &r, &x->w, &u);
	assert_false(sim_device_upload_open(x->d, NULL));
}

static void test_upgrade_only_refuses_older_or_same_version(void **state)
{
	struct fx *x = *state;
	size_t old_len;
	uint8_t *old = build("1.0.0", 4096, 3, NULL, &old_len), sha[32];
	struct smp_upload_req r = {.off = 0,
				   .data = old,
				   .data_len = CHUNK,
				   .has_first = true,
				   .len = (uint32_t)old_len,
				   .sha_len = 32,
				   .has_upgrade = true,
				   .upgrade = true};
	struct sim_upload u;

	SHA256(old, old_len, sha);
	memcpy(r.sha, sha, 32);
	sim_device_upload(x->d, &r, &x->w, &u);
	assert_int_equal(u.rc, IMG_MGMT_ERR_CURRENT_VERSION_IS_NEWER);
	r.data = x->img;
	r.len = (uint32_t)x->img_len;
	memcpy(r.sha, x->sha, 32);
	sim_device_upload(x->d, &r, &x->w, &u);
	assert_int_equal(u.rc, 0);
	free(old);
}

static void test_data_past_len_is_an_overrun(void **state)
{
	struct fx *x = *state;
	struct smp_upload_req r = {.off = CHUNK, .data = x->img, .data_len = x->img_len};
	struct sim_upload u;

	chunk(x, 0, CHUNK, &u);
	sim_device_upload(x->d, &r, &x->w, &u);
	assert_int_equal(u.rc, IMG_MGMT_ERR_INVALID_IMAGE_DATA_OVERRUN);
	assert_false(sim_device_upload_open(x->d, NULL));
}

static void test_pending_slot_refuses_new_upload_and_erase(void **state)
{
	struct fx *x = *state;
	struct sim_upload u;

	upload_all(x);
	assert_int_equal(state_write(x, x->hash, false, NULL), 0);
	chunk(x, 0, CHUNK, &u);
	assert_int_equal(u.result, SIM_UPLOAD_ERROR);
	assert_int_equal(u.rc, IMG_MGMT_ERR_NO_FREE_SLOT);
	sim_work_reset(&x->w);
	assert_int_equal(sim_device_erase(x->d, -1, &x->w), IMG_MGMT_ERR_NO_FREE_SLOT);
	sim_work_reset(&x->w);
	assert_int_equal(sim_device_erase(x->d, 0, &x->w), IMG_MGMT_ERR_NO_FREE_SLOT);
	assert_int_equal(sim_device_erase(x->d, 2, &x->w), IMG_MGMT_ERR_INVALID_SLOT);
}

static void test_erase_empties_slot1_taking_a_whole_slot_erase(void **state)
{
	struct fx *x = *state;

	upload_all(x);
	sim_work_reset(&x->w);
	assert_int_equal(sim_device_erase(x->d, -1, &x->w), 0);
	assert_true(x->w.duration >= (SLOT / 4096) * x->p.erase_typ_us);
	for (size_t i = 0; i < SLOT; i++)
		assert_int_equal(sim_flash_slot(sim_device_flash(x->d), 1)[i], 0xff);
	sim_work_reset(&x->w);
	assert_int_equal(sim_device_erase(x->d, 1, &x->w), 0); /* already empty: no erase */
	assert_true(x->w.duration < x->p.erase_typ_us);
}

static void test_image_state_after_test_permanent_and_confirm(void **state)
{
	struct fx *x = *state;
	struct smp_image_state st;
	const struct smp_slot_state *s;
	enum sim_state_write_result res;
	uint8_t nohash[32] = {1, 2, 3};

	upload_all(x);
	assert_int_equal(state_write(x, x->factory_hash, false, &res),
			 IMG_MGMT_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED);
	assert_int_equal(state_write(x, nohash, false, &res), IMG_MGMT_ERR_HASH_NOT_FOUND);
	assert_int_equal(state_write(x, NULL, false, &res), IMG_MGMT_ERR_INVALID_HASH);
	assert_int_equal(state_write(x, NULL, true, &res), 0); /* confirm the running image */
	assert_int_equal(res, SIM_STATE_CONFIRM);
	assert_int_equal(state_write(x, x->hash, false, &res), 0);
	assert_int_equal(res, SIM_STATE_TEST);
	s = slot_state(x, 1, &st);
	assert_true(s->pending && !s->permanent && !s->confirmed && !s->active);
	assert_true(slot_state(x, 0, &st)->confirmed);
	/* testing it again is a no-op; making it permanent now is not allowed */
	assert_int_equal(state_write(x, x->hash, false, &res), 0);
	assert_int_equal(state_write(x, x->hash, true, &res), IMG_MGMT_ERR_IMAGE_ALREADY_PENDING);
	assert_int_equal(state_write(x, NULL, true, &res), IMG_MGMT_ERR_IMAGE_ALREADY_PENDING);
	assert_true(sim_store_meta(x->store)->trailer[1].magic);
}

static void test_permanent_sets_pending_and_permanent(void **state)
{
	struct fx *x = *state;
	struct smp_image_state st;
	enum sim_state_write_result res;
	const struct smp_slot_state *s;

	upload_all(x);
	assert_int_equal(state_write(x, x->hash, true, &res), 0);
	assert_int_equal(res, SIM_STATE_PERMANENT);
	s = slot_state(x, 1, &st);
	assert_true(s->pending && s->permanent);
	assert_int_equal(boot(x, NULL), SIM_BOOT_SWAP_PERM);
	s = slot_state(x, 0, &st);
	assert_string_equal(s->version, "2.0.0");
	assert_true(s->active && s->confirmed);
	assert_int_equal(boot(x, NULL), SIM_BOOT_NONE); /* no revert after a permanent swap */
	assert_string_equal(slot_state(x, 0, &st)->version, "2.0.0");
}

static void test_boot_swaps_valid_test_image_then_confirm_keeps_it(void **state)
{
	struct fx *x = *state;
	struct smp_image_state st;
	const struct smp_slot_state *s;
	struct sim_boot b;

	upload_all(x);
	assert_int_equal(state_write(x, x->hash, false, NULL), 0);
	assert_int_equal(boot(x, &b), SIM_BOOT_SWAP_TEST);
	assert_true(b.has_hash);
	assert_memory_equal(b.hash, x->hash, 32);
	assert_int_equal(b.version.major, 2);
	/* the swap costs three erases and three copies per sector the images use */
	assert_true(b.duration > x->p.boot_us + 6 * 3 * x->p.erase_typ_us);
	assert_non_null(strstr(x->log, "I: Swap type: test\n"));
	assert_non_null(strstr(x->log, "I: Starting swap using scratch algorithm.\n"));
	s = slot_state(x, 0, &st);
	assert_true(s->active && !s->confirmed);
	assert_memory_equal(s->hash, x->hash, 32);
	s = slot_state(x, 1, &st);
	assert_true(s->confirmed && !s->pending); /* the old image is what a revert brings back */
	assert_memory_equal(s->hash, x->factory_hash, 32);
	/* uploading over the revert image is refused until the test image is confirmed */
	{
		struct sim_upload u;

		chunk(x, 0, CHUNK, &u);
		assert_int_equal(u.rc, IMG_MGMT_ERR_NO_FREE_SLOT);
	}
	assert_int_equal(state_write(x, NULL, true, NULL), 0);
	assert_true(slot_state(x, 0, &st)->confirmed);
	assert_int_equal(boot(x, NULL), SIM_BOOT_NONE);
	assert_memory_equal(slot_state(x, 0, &st)->hash, x->hash, 32);
}

static void test_boot_reverts_unconfirmed_test_image(void **state)
{
	struct fx *x = *state;
	struct smp_image_state st;
	const struct smp_slot_state *s;

	upload_all(x);
	assert_int_equal(state_write(x, x->hash, false, NULL), 0);
	assert_int_equal(boot(x, NULL), SIM_BOOT_SWAP_TEST);
	assert_int_equal(boot(x, NULL), SIM_BOOT_REVERT);
	assert_non_null(strstr(x->log, "I: Swap type: revert\n"));
	s = slot_state(x, 0, &st);
	assert_true(s->active && s->confirmed);
	assert_memory_equal(s->hash, x->factory_hash, 32);
	s = slot_state(x, 1, &st);
	assert_memory_equal(s->hash, x->hash, 32);
	assert_false(s->pending || s->confirmed);
	assert_int_equal(boot(x, NULL), SIM_BOOT_NONE);
	assert_int_equal(sim_store_meta(x->store)->counters.reverts, 1);
}

/* Power lost while MCUboot swaps (before sim_device_swap_done): the swap status makes the next
 * boot finish the swap and run the test image, not revert it; once that boot's swap is over, the
 * reset after it reverts as usual. The state file keeps the swap under way. */
static void test_power_loss_during_the_swap_finishes_it_at_the_next_boot(void **state)
{
	struct fx *x = *state;
	struct smp_image_state st;
	struct sim_boot b;

	upload_all(x);
	assert_int_equal(state_write(x, x->hash, false, NULL), 0);
	sim_device_boot(x->d, &b); /* ... and the power goes before the swap's end */
	assert_int_equal(b.result, SIM_BOOT_SWAP_TEST);
	assert_false(b.resumed);
	assert_true(b.swap_end > 0 && b.swap_end < b.duration);
	assert_int_equal(sim_store_meta(x->store)->swapping, SIM_SWAP_TEST);
	assert_int_equal(boot(x, &b), SIM_BOOT_SWAP_TEST);
	assert_true(b.resumed);
	assert_true(b.duration > x->p.boot_us + 6 * 3 * x->p.erase_typ_us); /* the swap again */
	assert_memory_equal(b.hash, x->hash, 32);
	assert_non_null(strstr(x->log, "W: Resuming an interrupted swap (swap type: test)\n"));
	assert_true(slot_state(x, 0, &st)->active && !slot_state(x, 0, &st)->confirmed);
	assert_memory_equal(slot_state(x, 0, &st)->hash, x->hash, 32);
	assert_int_equal(sim_store_meta(x->store)->swapping, 0);
	assert_int_equal(sim_store_meta(x->store)->counters.swaps, 1);
	assert_int_equal(boot(x, &b), SIM_BOOT_REVERT);
	assert_false(b.resumed);
	assert_memory_equal(slot_state(x, 0, &st)->hash, x->factory_hash, 32);
}

static void test_boot_refuses_corrupted_image_erases_slot1_keeps_old(void **state)
{
	struct fx *x = *state;
	struct smp_image_state st;
	const struct smp_slot_state *s;
	struct sim_boot b;

	upload_all(x);
	/* a payload page damaged on its way to flash; the TLV still carries the right hash */
	sim_device_corrupt(x->d, 4096, 256);
	s = slot_state(x, 1, &st);
	assert_non_null(s);
	assert_memory_equal(s->hash, x->hash, 32);
	assert_int_equal(state_write(x, x->hash, false, NULL), 0);
	assert_int_equal(boot(x, &b), SIM_BOOT_REFUSED);
	assert_non_null(strstr(x->log, "E: Image in the secondary slot is not valid!\n"));
	for (size_t i = 0; i < SLOT; i++)
		assert_int_equal(sim_flash_slot(sim_device_flash(x->d), 1)[i], 0xff);
	assert_false(sim_store_meta(x->store)->trailer[1].magic);
	s = slot_state(x, 0, &st);
	assert_true(s->active && s->confirmed);
	assert_memory_equal(s->hash, x->factory_hash, 32);
	assert_memory_equal(b.hash, x->factory_hash, 32);
	assert_null(slot_state(x, 1, &st));
	assert_int_equal(sim_store_meta(x->store)->counters.refusals, 1);
	assert_int_equal(boot(x, NULL), SIM_BOOT_NONE);
}

/* An image larger than the slot less its trailer, put there behind img_mgmt's back: MCUboot
 * refuses it (bootutil_img_validate: TLVs beyond the image size) and keeps the old image, it
 * never swaps in what it cannot hold. */
static void test_boot_refuses_image_too_large_for_the_slot(void **state)
{
	struct fx *x = *state;
	struct sim_trailer *t = &sim_store_meta(x->store)->trailer[1];
	size_t len;
	uint8_t *big = build("3.0.0", SLOT - 4096, 11, NULL, &len);
	struct smp_image_state st;
	struct sim_boot b;

	assert_true(len > SLOT - 4096 && len < SLOT);
	memcpy(sim_flash_slot(sim_device_flash(x->d), 1), big, len);
	*t = (struct sim_trailer){.magic = true, .swap_type = SIM_SWAP_TEST};
	assert_int_equal(boot(x, &b), SIM_BOOT_REFUSED);
	assert_non_null(strstr(x->log, "E: Image in the secondary slot is not valid!\n"));
	assert_memory_equal(b.hash, x->factory_hash, 32);
	assert_memory_equal(slot_state(x, 0, &st)->hash, x->factory_hash, 32);
	assert_null(slot_state(x, 1, &st)); /* erased, as for any invalid image */
	assert_false(t->magic);
	assert_int_equal(sim_store_meta(x->store)->counters.swaps, 0);
	/* the largest image that fits swaps as any other */
	free(big);
	big = build("3.0.1", 8192, 12, NULL, &len);
	memcpy(sim_flash_slot(sim_device_flash(x->d), 1), big, len);
	*t = (struct sim_trailer){.magic = true, .swap_type = SIM_SWAP_TEST};
	assert_int_equal(boot(x, NULL), SIM_BOOT_SWAP_TEST);
	free(big);
}

static void test_slot_info_names_the_upload_slot_and_largest_image(void **state)
{
	struct fx *x = *state;
	struct smp_slot_info_rsp si;
	uint32_t max = 0;
	bool slot_size = true;

	sim_device_slot_info(x->d, &si);
	assert_int_equal(si.n, 2);
	assert_false(si.slots[0].has_upload_image_id);
	assert_true(si.slots[1].has_upload_image_id);
	assert_int_equal(si.slots[1].upload_image_id, 0);
	assert_int_equal(si.slots[1].size, SLOT);
	assert_int_equal(smp_slot_info_upload_max(&si, 0, &max, &slot_size), 0);
	assert_int_equal(max, SLOT - 4096);
	assert_false(slot_size);
	assert_int_equal(sim_device_max_image(x->d), SLOT - 4096);
}

static void test_boot_checks_signature_with_key(void **state)
{
	struct fx *x = fx_new("lan", "ec-p256.pem");
	size_t other_len;
	uint8_t *other = build("2.1.0", PAYLOAD, 10, "ec-p256-other.pem", &other_len);

	/* signed with the device's key: swapped */
	upload_all(x);
	assert_int_equal(state_write(x, x->hash, false, NULL), 0);
	assert_int_equal(boot(x, NULL), SIM_BOOT_SWAP_TEST);
	assert_int_equal(state_write(x, NULL, true, NULL), 0);
	/* signed with another key: refused */
	free(x->img);
	x->img = other;
	x->img_len = other_len;
	SHA256(x->img, x->img_len, x->sha);
	{
		struct img_info info;

		assert_int_equal(img_parse(x->img, x->img_len, &info, NULL), 0);
		memcpy(x->hash, info.hash, 32);
	}
	upload_all(x);
	assert_int_equal(state_write(x, x->hash, false, NULL), 0);
	assert_int_equal(boot(x, NULL), SIM_BOOT_REFUSED);
	teardown((void **)&x);
}

static void test_image_check_reports_match_and_mismatch(void **state)
{
	struct fx *x = fx_new("spi-hp", NULL);
	struct sim_upload u;
	uint32_t off = 0;

	upload_all(x); /* upload_all checks every chunk; the last one carries match */
	chunk(x, 0, CHUNK, &u);
	/* the slot already holds this image: answered complete at once */
	assert_int_equal(u.off, x->img_len);
	assert_true(u.last && u.has_match && u.match);
	/* damage a page while uploading again (new sha forces a rewrite) */
	x->sha[0] ^= 1;
	while (off < x->img_len) {
		size_t n = x->img_len - off < CHUNK ? x->img_len - off : CHUNK;

		chunk(x, off, n, &u);
		if (off == 0)
			sim_device_corrupt(x->d, 100, 1);
		off += (uint32_t)n;
	}
	assert_true(u.last && u.has_match);
	assert_false(u.match); /* against the modified sha anyway; and the data are damaged */
	assert_non_null(strstr(x->log, "E: Uploaded image sha256 hash verification failed"));
	teardown((void **)&x);
}

static void test_no_match_without_image_check(void **state)
{
	struct fx *x = *state;
	struct sim_upload u;

	upload_all(x);
	chunk(x, 0, CHUNK, &u);
	assert_false(u.has_match);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_upload_sequence_fills_slot1_and_state_lists_it),
		T(test_first_chunk_erases_image_sectors_without_progressive_erase),
		cmocka_unit_test(test_progressive_erase_erases_each_sector_before_its_first_page),
		T(test_resume_with_same_sha_answers_current_offset),
		T(test_first_chunk_with_other_sha_restarts_upload),
		T(test_wrong_offset_is_ignored_and_answered_with_expected),
		T(test_reboot_loses_upload_state),
		T(test_first_chunk_refusals),
		T(test_upgrade_only_refuses_older_or_same_version),
		T(test_data_past_len_is_an_overrun),
		T(test_pending_slot_refuses_new_upload_and_erase),
		T(test_erase_empties_slot1_taking_a_whole_slot_erase),
		T(test_image_state_after_test_permanent_and_confirm),
		T(test_permanent_sets_pending_and_permanent),
		T(test_boot_swaps_valid_test_image_then_confirm_keeps_it),
		T(test_boot_reverts_unconfirmed_test_image),
		T(test_power_loss_during_the_swap_finishes_it_at_the_next_boot),
		T(test_boot_refuses_corrupted_image_erases_slot1_keeps_old),
		T(test_boot_refuses_image_too_large_for_the_slot),
		T(test_slot_info_names_the_upload_slot_and_largest_image),
		cmocka_unit_test(test_boot_checks_signature_with_key),
		cmocka_unit_test(test_image_check_reports_match_and_mismatch),
		T(test_no_match_without_image_check),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
