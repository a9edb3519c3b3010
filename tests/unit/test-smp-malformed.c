/* test-smp-malformed.c — every decoder against broken input: each valid message truncated at
 * every byte, and deterministic random mutations. The rule under test: 0 or -EBADMSG with a
 * reason, never a crash, never a read past the body (bodies are exact-size heap copies, so
 * ASan and valgrind see one). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otad/smp.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* One decoder behind a common signature (each wrapper calls the real one with its own type). */
typedef int (*decode_fn)(const uint8_t *body, size_t len, const char **ret_reason);

static int dec_err(const uint8_t *b, size_t n, const char **why)
{
	struct smp_err e;

	return smp_err_decode(b, n, &e, why);
}
static int dec_echo_rsp(const uint8_t *b, size_t n, const char **why)
{
	struct smp_echo_rsp r;

	return smp_echo_rsp_decode(b, n, &r, why);
}
static int dec_params(const uint8_t *b, size_t n, const char **why)
{
	struct smp_params_rsp r;

	return smp_params_rsp_decode(b, n, &r, why);
}
static int dec_state(const uint8_t *b, size_t n, const char **why)
{
	struct smp_image_state r;

	return smp_image_state_decode(b, n, &r, why);
}
static int dec_upload_rsp(const uint8_t *b, size_t n, const char **why)
{
	struct smp_upload_rsp r;

	return smp_upload_rsp_decode(b, n, &r, why);
}
static int dec_slot_info(const uint8_t *b, size_t n, const char **why)
{
	struct smp_slot_info_rsp r;

	return smp_slot_info_rsp_decode(b, n, &r, why);
}
static int dec_upload_req(const uint8_t *b, size_t n, const char **why)
{
	struct smp_upload_req r;

	return smp_upload_req_decode(b, n, &r, why);
}
static int dec_state_write(const uint8_t *b, size_t n, const char **why)
{
	struct smp_state_write_req r;

	return smp_state_write_req_decode(b, n, &r, why);
}
static int dec_echo_req(const uint8_t *b, size_t n, const char **why)
{
	char text[16];

	return smp_echo_req_decode(b, n, text, sizeof(text), why);
}
static int dec_reset(const uint8_t *b, size_t n, const char **why)
{
	bool force;

	return smp_reset_req_decode(b, n, &force, why);
}
static int dec_erase(const uint8_t *b, size_t n, const char **why)
{
	int slot;

	return smp_erase_req_decode(b, n, &slot, why);
}

static const decode_fn all_decoders[] = {
	dec_err,	dec_echo_rsp,	 dec_params,   dec_state, dec_upload_rsp, dec_slot_info,
	dec_upload_req, dec_state_write, dec_echo_req, dec_reset, dec_erase,
};

struct sample {
	const char *name;
	decode_fn decode;
	uint8_t body[512];
	size_t len;
};

/* Valid messages, built with our encoders plus hand-written ones in the shapes devices send. */
static size_t build_samples(struct sample *s, size_t max)
{
	static const uint8_t sha[32] = {1, 2, 3};
	static const uint8_t data[40] = {9, 8, 7};
	static const uint8_t indef_state[] = {
		0xbf, 0x66, 'i', 'm',  'a',  'g', 'e', 's',  0x9f, 0xbf, 0x64, 's',
		'l',  'o',  't', 0x00, 0x67, 'v', 'e', 'r',  's',  'i',	 'o',  'n',
		0x63, '1',  '.', '0',  0x64, 'h', 'a', 's',  'h',  0x42, 0xab, 0xcd,
		0x66, 'a',  'c', 't',  'i',  'v', 'e', 0xf5, 0xff, 0xff, 0x6b, 's',
		'p',  'l',  'i', 't',  'S',  't', 'a', 't',  'u',  's',	 0x00, 0xff};
	static const uint8_t v2_err[] = {0xbf, 0x63, 'e',  'r',	 'r', 0xbf, 0x65, 'g',	'r', 'o',
					 'u',  'p',  0x01, 0x62, 'r', 'c',  0x03, 0xff, 0xff};
	struct smp_image_state st = {.n_slots = 2};
	struct smp_slot_info_rsp si = {.n = 3};
	struct smp_upload_req up = {.data = data,
				    .data_len = sizeof(data),
				    .has_first = true,
				    .len = 100000,
				    .sha_len = 32,
				    .has_upgrade = true};
	size_t n = 0;
	int k;

	memcpy(up.sha, sha, sizeof(sha));
	for (unsigned i = 0; i < 2; i++) {
		st.slots[i] = (struct smp_slot_state){.slot = i,
						      .version = "1.2.3.4",
						      .hash_len = 32,
						      .bootable = true,
						      .active = !i};
		si.slots[i].slot = i;
		si.slots[i].size = 0x60000;
		si.slots[i].has_max_image_size = true;
		si.slots[i].max_image_size = 0x5f000;
	}
	si.slots[2].image = 1;
	si.slots[2].size = 300;

#define ADD(nm, fn, expr)                                                                          \
	do {                                                                                       \
		assert_true(n < max);                                                              \
		s[n].name = nm;                                                                    \
		s[n].decode = fn;                                                                  \
		k = (expr);                                                                        \
		assert_true(k > 0);                                                                \
		s[n].len = (size_t)k;                                                              \
		n++;                                                                               \
	} while (0)
#define ADD_BYTES(nm, fn, arr) ADD(nm, fn, (memcpy(s[n].body, arr, sizeof(arr)), (int)sizeof(arr)))

	ADD("v1 error", dec_err, smp_err_rsp_encode(s[n].body, 512, &(struct smp_err){.rc = 6}));
	ADD_BYTES("v2 error (indefinite)", dec_err, v2_err);
	ADD("echo response", dec_echo_rsp, smp_echo_rsp_encode(s[n].body, 512, "hello"));
	ADD("params response", dec_params, smp_params_rsp_encode(s[n].body, 512, 2475, 4));
	ADD("image state", dec_state, smp_image_state_encode(s[n].body, 512, &st));
	ADD_BYTES("image state (indefinite)", dec_state, indef_state);
	ADD("upload response", dec_upload_rsp,
	    smp_upload_rsp_encode(
		    s[n].body, 512,
		    &(struct smp_upload_rsp){
			    .has_off = true, .off = 70000, .has_match = true, .match = true},
		    true));
	ADD("slot info", dec_slot_info, smp_slot_info_rsp_encode(s[n].body, 512, &si));
	ADD("upload request", dec_upload_req, smp_upload_req_encode(s[n].body, 512, &up));
	ADD("state write", dec_state_write,
	    smp_state_write_req_encode(s[n].body, 512, sha, 32, true));
	ADD("echo request", dec_echo_req, smp_echo_req_encode(s[n].body, 512, "ping"));
	ADD("reset request", dec_reset, smp_reset_req_encode(s[n].body, 512, true));
	ADD("erase request", dec_erase, smp_erase_req_encode(s[n].body, 512, 1));
#undef ADD_BYTES
#undef ADD
	return n;
}

static int decode_copy(decode_fn fn, const uint8_t *b, size_t len, const char **why)
{
	uint8_t *p = malloc(len ? len : 1);
	int r;

	assert_non_null(p);
	if (len)
		memcpy(p, b, len);
	*why = NULL;
	r = fn(p, len, why);
	free(p);
	return r;
}

static void test_samples_are_valid(void **state)
{
	struct sample s[16];
	size_t n = build_samples(s, N(s));

	for (size_t i = 0; i < n; i++) {
		const char *why;

		if (decode_copy(s[i].decode, s[i].body, s[i].len, &why) != 0)
			fail_msg("%s: %s", s[i].name, why);
	}
}

static void test_every_truncation_of_every_message_is_rejected(void **state)
{
	struct sample s[16];
	size_t n = build_samples(s, N(s));

	for (size_t i = 0; i < n; i++)
		for (size_t len = 0; len < s[i].len; len++) {
			const char *why;
			int r = decode_copy(s[i].decode, s[i].body, len, &why);

			if (r != -EBADMSG)
				fail_msg("%s cut to %zu of %zu bytes: %d", s[i].name, len, s[i].len,
					 r);
			assert_non_null(why);
		}
}

/* Every decoder sees every sample (mostly the wrong message): never a crash, always a reason. */
static void test_every_decoder_on_every_message_and_its_prefixes(void **state)
{
	struct sample s[16];
	size_t n = build_samples(s, N(s));

	for (size_t d = 0; d < N(all_decoders); d++)
		for (size_t i = 0; i < n; i++)
			for (size_t len = 0; len <= s[i].len; len++) {
				const char *why;
				int r = decode_copy(all_decoders[d], s[i].body, len, &why);

				assert_true(r == 0 || r == -EBADMSG);
				if (r < 0)
					assert_non_null(why);
			}
}

static uint32_t rng_next(uint32_t *x)
{
	/* xorshift32: deterministic, so a failure reproduces */
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static size_t mutate(uint8_t *b, size_t len, size_t cap, uint32_t *rng)
{
	static const uint8_t interesting[] = {0x00, 0x17, 0x18, 0x1b, 0x1f, 0x40, 0x5b,
					      0x5f, 0x7b, 0x7f, 0x9b, 0x9f, 0xbb, 0xbf,
					      0xc1, 0xdb, 0xf4, 0xf5, 0xf8, 0xfb, 0xff};
	unsigned edits = 1 + rng_next(rng) % 4;

	for (unsigned e = 0; e < edits && len > 0; e++) {
		size_t at = rng_next(rng) % len;

		switch (rng_next(rng) % 5) {
		case 0:
			b[at] ^= (uint8_t)(1u << (rng_next(rng) % 8));
			break;
		case 1:
			b[at] = interesting[rng_next(rng) % N(interesting)];
			break;
		case 2:
			b[at] = (uint8_t)rng_next(rng);
			break;
		case 3: /* delete a byte */
			memmove(b + at, b + at + 1, len - at - 1);
			len--;
			break;
		default: /* insert a byte */
			if (len < cap) {
				memmove(b + at + 1, b + at, len - at);
				b[at] = interesting[rng_next(rng) % N(interesting)];
				len++;
			}
			break;
		}
	}
	return len;
}

static void test_random_mutations_give_zero_or_ebadmsg_never_a_crash(void **state)
{
	struct sample s[16];
	size_t n = build_samples(s, N(s));
	uint32_t rng = 0x2545f491;
	unsigned rejected = 0, total = 0;

	for (unsigned round = 0; round < 3000; round++)
		for (size_t i = 0; i < n; i++) {
			uint8_t b[600];
			size_t len;
			const char *why;
			int r;

			memcpy(b, s[i].body, s[i].len);
			len = mutate(b, s[i].len, sizeof(b), &rng);
			r = decode_copy(s[i].decode, b, len, &why);
			assert_true(r == 0 || r == -EBADMSG);
			if (r < 0) {
				assert_non_null(why);
				rejected++;
			}
			total++;
		}
	/* most mutations break something; some (a changed value byte) do not */
	assert_true(rejected > total / 4);
	assert_true(rejected < total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_are_valid),
		cmocka_unit_test(test_every_truncation_of_every_message_is_rejected),
		cmocka_unit_test(test_every_decoder_on_every_message_and_its_prefixes),
		cmocka_unit_test(test_random_mutations_give_zero_or_ebadmsg_never_a_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
