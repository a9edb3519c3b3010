/* fuzz-smp-rsp.c — the SMP header and every response decoder of include/otad/smp.h: what otactl
 * reads from a device. Input: one SMP packet (8-byte header, CBOR body). Every decoder runs on the
 * body whatever the header says (a device may answer anything to anything). A body that decodes
 * is encoded again and decoded once more: both decodings must agree, and encoding the second
 * must give the same bytes as encoding the first. */
#include <errno.h>

#include "fuzz.h"
#include "otad/smp.h"

#define OUT_MAX 4096

static bool err_same(const struct smp_err *a, const struct smp_err *b)
{
	if (a->rc != b->rc)
		return false;
	return a->rc == 0 || (a->v2 == b->v2 && (!a->v2 || a->group == b->group));
}

static void check_err_text(const struct smp_err *e)
{
	char buf[160], tiny[8];

	FUZZ_CHECK(smp_err_name(e) && smp_err_message(e));
	FUZZ_CHECK(smp_err_format(e, buf, sizeof(buf)) == buf && strlen(buf) < sizeof(buf));
	FUZZ_CHECK(smp_err_format(e, tiny, sizeof(tiny)) == tiny && strlen(tiny) < sizeof(tiny));
}

/* A decoder's result: 0, or -EBADMSG with a reason. */
static void check_result(int r, const char *why)
{
	FUZZ_CHECK(r == 0 || r == -EBADMSG);
	FUZZ_CHECK(r == 0 || why);
}

static void hdr(const uint8_t *data, size_t size)
{
	struct smp_hdr h;
	uint8_t out[SMP_HDR_SIZE];

	if (smp_hdr_decode(data, size, &h) < 0)
		return;
	smp_hdr_encode(&h, out);
	FUZZ_CHECK(memcmp(out, data, SMP_HDR_SIZE) == 0);
}

static void err_only(const uint8_t *b, size_t n)
{
	struct smp_err a, c;
	const char *why = NULL;
	uint8_t out[OUT_MAX];
	int r = smp_err_decode(b, n, &a, &why), len;

	check_result(r, why);
	if (r < 0)
		return;
	check_err_text(&a);
	len = a.rc == 0 ? smp_ok_rsp_encode(out, sizeof(out), false)
			: smp_err_rsp_encode(out, sizeof(out), &a);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(smp_err_decode(out, (size_t)len, &c, NULL) == 0);
	FUZZ_CHECK(err_same(&a, &c));
}

static void echo(const uint8_t *b, size_t n)
{
	struct smp_echo_rsp a, c;
	const char *why = NULL;
	uint8_t out[OUT_MAX];
	int r = smp_echo_rsp_decode(b, n, &a, &why), len;

	check_result(r, why);
	if (r < 0)
		return;
	FUZZ_CHECK(strlen(a.text) < sizeof(a.text));
	len = smp_err_ok(&a.err) ? smp_echo_rsp_encode(out, sizeof(out), a.text)
				 : smp_err_rsp_encode(out, sizeof(out), &a.err);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(smp_echo_rsp_decode(out, (size_t)len, &c, NULL) == 0);
	FUZZ_CHECK(err_same(&a.err, &c.err));
	FUZZ_CHECK(!smp_err_ok(&a.err) || strcmp(a.text, c.text) == 0);
}

static void params(const uint8_t *b, size_t n)
{
	struct smp_params_rsp a, c;
	const char *why = NULL;
	uint8_t out[OUT_MAX];
	int r = smp_params_rsp_decode(b, n, &a, &why), len;

	check_result(r, why);
	if (r < 0)
		return;
	len = smp_err_ok(&a.err) ? smp_params_rsp_encode(out, sizeof(out), a.buf_size, a.buf_count)
				 : smp_err_rsp_encode(out, sizeof(out), &a.err);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(smp_params_rsp_decode(out, (size_t)len, &c, NULL) == 0);
	FUZZ_CHECK(err_same(&a.err, &c.err));
	FUZZ_CHECK(!smp_err_ok(&a.err) ||
		   (a.buf_size == c.buf_size && a.buf_count == c.buf_count));
}

static bool slot_same(const struct smp_slot_state *a, const struct smp_slot_state *c)
{
	return a->image == c->image && a->slot == c->slot && !strcmp(a->version, c->version) &&
	       a->hash_len == c->hash_len && !memcmp(a->hash, c->hash, a->hash_len) &&
	       a->bootable == c->bootable && a->pending == c->pending &&
	       a->confirmed == c->confirmed && a->active == c->active &&
	       a->permanent == c->permanent;
}

static void state(const uint8_t *b, size_t n)
{
	struct smp_image_state a, c;
	const char *why = NULL;
	uint8_t out[OUT_MAX], again[OUT_MAX];
	int r = smp_image_state_decode(b, n, &a, &why), len, len2;

	check_result(r, why);
	if (r < 0)
		return;
	FUZZ_CHECK(a.n_slots <= SMP_MAX_SLOTS);
	for (unsigned i = 0; i < a.n_slots; i++) {
		FUZZ_CHECK(a.slots[i].hash_len <= sizeof(a.slots[i].hash));
		FUZZ_CHECK(strlen(a.slots[i].version) < sizeof(a.slots[i].version));
		FUZZ_CHECK(smp_image_state_find(&a, a.slots[i].image, a.slots[i].slot));
	}
	len = smp_image_state_encode(out, sizeof(out), &a);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(smp_image_state_decode(out, (size_t)len, &c, NULL) == 0);
	FUZZ_CHECK(err_same(&a.err, &c.err));
	if (!smp_err_ok(&a.err))
		return;
	FUZZ_CHECK(a.n_slots == c.n_slots);
	for (unsigned i = 0; i < a.n_slots; i++)
		FUZZ_CHECK(slot_same(&a.slots[i], &c.slots[i]));
	len2 = smp_image_state_encode(again, sizeof(again), &c);
	FUZZ_CHECK(len2 == len && !memcmp(out, again, (size_t)len));
}

static void upload(const uint8_t *b, size_t n, bool v1_rc)
{
	struct smp_upload_rsp a, c;
	const char *why = NULL;
	uint8_t out[OUT_MAX];
	int r = smp_upload_rsp_decode(b, n, &a, &why), len;

	check_result(r, why);
	if (r < 0)
		return;
	len = smp_upload_rsp_encode(out, sizeof(out), &a, v1_rc);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(smp_upload_rsp_decode(out, (size_t)len, &c, NULL) == 0);
	FUZZ_CHECK(err_same(&a.err, &c.err));
	if (!smp_err_ok(&a.err))
		return;
	FUZZ_CHECK(a.has_off == c.has_off && (!a.has_off || a.off == c.off));
	FUZZ_CHECK(a.has_match == c.has_match && (!a.has_match || a.match == c.match));
}

static void slot_info(const uint8_t *b, size_t n)
{
	struct smp_slot_info_rsp a, c;
	const char *why = NULL;
	uint8_t out[OUT_MAX], again[OUT_MAX];
	int r = smp_slot_info_rsp_decode(b, n, &a, &why), len, len2;

	check_result(r, why);
	if (r < 0)
		return;
	FUZZ_CHECK(a.n <= SMP_MAX_SLOTS);
	len = smp_slot_info_rsp_encode(out, sizeof(out), &a);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(smp_slot_info_rsp_decode(out, (size_t)len, &c, NULL) == 0);
	FUZZ_CHECK(err_same(&a.err, &c.err));
	if (!smp_err_ok(&a.err))
		return;
	/* Consecutive entries of one image share its max_image_size once encoded: compare the
	 * rest, then require the encoding to be stable. */
	FUZZ_CHECK(a.n == c.n);
	for (unsigned i = 0; i < a.n; i++)
		FUZZ_CHECK(a.slots[i].image == c.slots[i].image &&
			   a.slots[i].slot == c.slots[i].slot && a.slots[i].size == c.slots[i].size &&
			   a.slots[i].rc == c.slots[i].rc &&
			   a.slots[i].has_upload_image_id == c.slots[i].has_upload_image_id &&
			   a.slots[i].upload_image_id == c.slots[i].upload_image_id);
	len2 = smp_slot_info_rsp_encode(again, sizeof(again), &c);
	FUZZ_CHECK(len2 == len && !memcmp(out, again, (size_t)len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *body;
	size_t n;

	hdr(data, size);
	if (size < SMP_HDR_SIZE)
		return 0;
	body = data + SMP_HDR_SIZE;
	n = size - SMP_HDR_SIZE;
	err_only(body, n);
	echo(body, n);
	params(body, n);
	state(body, n);
	upload(body, n, data[1] & 1); /* flags byte: whether a v1 device adds "rc": 0 */
	slot_info(body, n);
	return 0;
}
