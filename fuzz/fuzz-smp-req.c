/* fuzz-smp-req.c — every request decoder of include/otad/smp.h: what otasim (and any device built
 * on these codecs) reads from a client. Input: a mode byte, two bytes of sizes, then the CBOR
 * body. Every decoder runs on the body; one that decodes is encoded again and decoded once more,
 * and both must agree. The upload request's size arithmetic (encoded_len, max_data) is checked
 * against the encoder on every decoded request. */
#include <errno.h>

#include "fuzz.h"
#include "otad/smp.h"

#define OUT_MAX 70000 /* "data" may be as long as the input */

static uint8_t out[OUT_MAX];

static void check_result(int r, const char *why)
{
	FUZZ_CHECK(r == 0 || r == -EBADMSG);
	FUZZ_CHECK(r == 0 || why);
}

/* smp_upload_req_max_data(body_max) is the largest data length whose request fits body_max. */
static void upload_sizes(const struct smp_upload_req *a, size_t body_max)
{
	size_t d = smp_upload_req_max_data(a, body_max);

	if (d > 0)
		FUZZ_CHECK(smp_upload_req_encoded_len(a, d) <= body_max);
	FUZZ_CHECK(smp_upload_req_encoded_len(a, d + 1) > body_max ||
		   (d == 0 && smp_upload_req_encoded_len(a, 0) > body_max));
}

static void upload(const uint8_t *b, size_t n, size_t body_max)
{
	struct smp_upload_req a, c;
	const char *why = NULL;
	int r = smp_upload_req_decode(b, n, &a, &why), len;

	check_result(r, why);
	if (r < 0)
		return;
	FUZZ_CHECK(a.sha_len <= sizeof(a.sha));
	FUZZ_CHECK(a.data_len == 0 || (a.data >= b && a.data + a.data_len <= b + n));
	len = smp_upload_req_encode(out, sizeof(out), &a);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK((size_t)len == smp_upload_req_encoded_len(&a, a.data_len));
	FUZZ_CHECK(smp_upload_req_decode(out, (size_t)len, &c, NULL) == 0);
	FUZZ_CHECK(a.off == c.off && a.has_first == c.has_first && a.data_len == c.data_len);
	FUZZ_CHECK(a.data_len == 0 || !memcmp(a.data, c.data, a.data_len));
	/* "image" and "sha" are encoded with the first chunk only. */
	if (a.has_first)
		FUZZ_CHECK(a.image == c.image && a.len == c.len && a.sha_len == c.sha_len &&
			   !memcmp(a.sha, c.sha, a.sha_len));
	FUZZ_CHECK(a.has_upgrade == c.has_upgrade && (!a.has_upgrade || a.upgrade == c.upgrade));
	upload_sizes(&a, body_max);
}

static void state_write(const uint8_t *b, size_t n)
{
	struct smp_state_write_req a, c;
	const char *why = NULL;
	int r = smp_state_write_req_decode(b, n, &a, &why), len;

	check_result(r, why);
	if (r < 0)
		return;
	FUZZ_CHECK(a.hash_len <= sizeof(a.hash) && (a.has_hash || a.hash_len == 0));
	len = smp_state_write_req_encode(out, sizeof(out), a.has_hash ? a.hash : NULL, a.hash_len,
					 a.confirm);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(smp_state_write_req_decode(out, (size_t)len, &c, NULL) == 0);
	FUZZ_CHECK(a.has_hash == c.has_hash && a.hash_len == c.hash_len && a.confirm == c.confirm);
	FUZZ_CHECK(!memcmp(a.hash, c.hash, a.hash_len));
}

static void echo(const uint8_t *b, size_t n, size_t text_size)
{
	char *text = malloc(text_size), again[300];
	const char *why = NULL;
	int r, len;

	FUZZ_CHECK(text);
	r = smp_echo_req_decode(b, n, text, text_size, &why);
	check_result(r, why);
	if (r == 0) {
		FUZZ_CHECK(strlen(text) < text_size);
		len = smp_echo_req_encode(out, sizeof(out), text);
		FUZZ_CHECK(len > 0);
		FUZZ_CHECK(smp_echo_req_decode(out, (size_t)len, again, sizeof(again), NULL) == 0);
		FUZZ_CHECK(!strcmp(text, again));
	}
	free(text);
}

static void reset(const uint8_t *b, size_t n)
{
	const char *why = NULL;
	bool force = false, again = false;
	int r = smp_reset_req_decode(b, n, &force, &why), len;

	check_result(r, why);
	if (r < 0)
		return;
	len = smp_reset_req_encode(out, sizeof(out), force);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(smp_reset_req_decode(out, (size_t)len, &again, NULL) == 0 && again == force);
}

static void erase(const uint8_t *b, size_t n)
{
	const char *why = NULL;
	int slot, again, r = smp_erase_req_decode(b, n, &slot, &why), len;

	check_result(r, why);
	if (r < 0)
		return;
	FUZZ_CHECK(slot >= -1);
	len = smp_erase_req_encode(out, sizeof(out), slot);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(smp_erase_req_decode(out, (size_t)len, &again, NULL) == 0 && again == slot);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	size_t text_size = 1 + fz_u8(&f) % 256, body_max = fz_u16(&f), n;
	const uint8_t *body = fz_rest(&f, &n);

	upload(body, n, body_max);
	state_write(body, n);
	echo(body, n, text_size);
	reset(body, n);
	erase(body, n);
	return 0;
}
