/* test-image-sign.c — image signatures: keys generated with OpenSSL, ECDSA P-256 and Ed25519
 * images built and verified, every way a signature check fails, and images signed by MCUboot's
 * imgtool (tests/data/image) parsed, verified and reproduced byte for byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/testlib.h"
#include "otad/image.h"
#include "util/bytes.h"
#include "util/fileio.h"

struct key {
	EVP_PKEY *pkey;
	char *priv; /* PEM */
	size_t priv_len;
	char *pub;
	size_t pub_len;
	uint8_t hash[32]; /* SHA-256 of the SubjectPublicKeyInfo DER */
};

struct buf {
	uint8_t *p;
	size_t len;
};

static char *bio_text(BIO *bio, size_t *ret_len)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	char *s = malloc((size_t)n + 1);

	assert_non_null(s);
	memcpy(s, data, (size_t)n);
	s[n] = 0;
	*ret_len = (size_t)n;
	return s;
}

static void key_new(struct key *k, const char *type, const char *curve)
{
	BIO *a = BIO_new(BIO_s_mem()), *b = BIO_new(BIO_s_mem());
	unsigned char *der = NULL;
	int n;

	k->pkey = curve ? EVP_PKEY_Q_keygen(NULL, NULL, type, curve)
			: EVP_PKEY_Q_keygen(NULL, NULL, type);
	assert_non_null(k->pkey);
	assert_int_equal(PEM_write_bio_PrivateKey(a, k->pkey, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(PEM_write_bio_PUBKEY(b, k->pkey), 1);
	k->priv = bio_text(a, &k->priv_len);
	k->pub = bio_text(b, &k->pub_len);
	BIO_free(a);
	BIO_free(b);
	n = i2d_PUBKEY(k->pkey, &der);
	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, (size_t)n, k->hash, NULL, EVP_sha256(), NULL), 1);
	OPENSSL_free(der);
}

static void key_free(struct key *k)
{
	EVP_PKEY_free(k->pkey);
	free(k->priv);
	free(k->pub);
}

static struct key ec, ec2, ed;

static int setup(void **state)
{
	key_new(&ec, "EC", "P-256");
	key_new(&ec2, "EC", "P-256");
	key_new(&ed, "ED25519", NULL);
	return 0;
}

static int teardown(void **state)
{
	key_free(&ec);
	key_free(&ec2);
	key_free(&ed);
	return 0;
}

static struct buf build_signed(const struct key *k, size_t payload, uint32_t sec_cnt)
{
	struct img_build_opts o = {
		.version = {2, 0, 1, 0},
		.payload_size = payload,
		.seed = 42,
		.hdr_size = 32,
		.security_counter = sec_cnt,
		.key_pem = k ? k->priv : NULL,
		.key_pem_len = k ? k->priv_len : 0,
	};
	struct buf b;

	assert_int_equal(img_build(&o, &b.p, &b.len), 0);
	return b;
}

static int verify(const struct buf *b, const char *pem, size_t pem_len, struct img_diag *d)
{
	struct img_info info;
	int r = img_parse(b->p, b->len, &info, d);

	if (r < 0)
		return r;
	return img_verify_signature(b->p, &info, pem, pem_len, d);
}

static void expect_verify_err(const struct buf *b, const struct key *k, enum img_err err,
			      struct img_diag *d)
{
	char line[IMG_DIAG_MAX];
	int r = verify(b, k->pub, k->pub_len, d);

	if (r != -EBADMSG || d->err != err)
		fail_msg("expected %s, got %d %s: %s", img_strerror(err), r, img_strerror(d->err),
			 img_diag_format(d, line, sizeof(line)));
}

/* ---- good signatures ---------------------------------------------------------------------- */

static void check_signed_roundtrip(const struct key *k, enum img_sig_type type, uint32_t sec)
{
	struct buf b = build_signed(k, 500, sec);
	struct img_info info;
	struct img_diag d;
	size_t t = 32 + 500 + (sec ? 12 : 0);

	assert_int_equal(img_parse(b.p, b.len, &info, &d), 0);
	assert_int_equal(info.sig_type, type);
	assert_true(info.has_key_hash);
	assert_memory_equal(info.key_hash, k->hash, 32);
	/* imgtool order: SHA256, KEYHASH, signature */
	assert_int_equal(b.p[t + 4], IMG_TLV_SHA256);
	assert_int_equal(b.p[t + 40], IMG_TLV_KEYHASH);
	assert_memory_equal(b.p + t + 44, k->hash, 32);
	assert_int_equal(b.p[t + 76],
			 type == IMG_SIG_ED25519 ? IMG_TLV_ED25519 : IMG_TLV_ECDSA_SIG);
	assert_int_equal(info.sig_off, t + 80);
	assert_int_equal(info.sig_len, get_le16(b.p + t + 78));
	assert_int_equal(info.sig_off + info.sig_len, b.len);
	if (type == IMG_SIG_ED25519)
		assert_int_equal(info.sig_len, 64);
	else
		assert_int_equal(b.p[info.sig_off], 0x30); /* DER SEQUENCE */

	/* private and public PEM both verify */
	assert_int_equal(img_verify_signature(b.p, &info, k->priv, k->priv_len, &d), 0);
	assert_int_equal(img_verify_signature(b.p, &info, k->pub, k->pub_len, &d), 0);
	assert_int_equal(d.err, IMG_OK);
	free(b.p);
}

static void test_ecdsa_p256_signed_image_verifies(void **state)
{
	check_signed_roundtrip(&ec, IMG_SIG_ECDSA_P256, 0);
	check_signed_roundtrip(&ec, IMG_SIG_ECDSA_P256, 3);
}

static void test_ed25519_signed_image_verifies(void **state)
{
	check_signed_roundtrip(&ed, IMG_SIG_ED25519, 0);
	check_signed_roundtrip(&ed, IMG_SIG_ED25519, 3);
}

/* ---- failures ----------------------------------------------------------------------------- */

static void test_tampered_payload_is_a_hash_mismatch(void **state)
{
	struct buf b = build_signed(&ec, 500, 0);
	struct img_info info;
	struct img_diag d;

	b.p[100] ^= 0x40;
	expect_verify_err(&b, &ec, IMG_ERR_HASH_MISMATCH, &d);
	/* The signature covers the hash TLV, not the data: skipping the hash check (as a device
	 * reporting its slot does) leaves the signature valid. Only the hash catches this. */
	assert_int_equal(img_parse_no_hash(b.p, b.len, &info, &d), 0);
	assert_int_equal(img_verify_signature(b.p, &info, ec.pub, ec.pub_len, &d), 0);
	free(b.p);
}

static void test_rehashed_tampered_payload_fails_signature(void **state)
{
	struct buf b = build_signed(&ed, 500, 0);
	struct img_diag d;

	b.p[100] ^= 0x40;
	assert_int_equal(EVP_Digest(b.p, 532, b.p + 532 + 8, NULL, EVP_sha256(), NULL), 1);
	expect_verify_err(&b, &ed, IMG_ERR_BAD_SIGNATURE, &d);
	assert_int_equal(d.tlv_type, IMG_TLV_ED25519);
	free(b.p);
}

static void test_tampered_signature_rejected(void **state)
{
	const struct key *keys[] = {&ec, &ed};
	char line[IMG_DIAG_MAX];

	for (size_t i = 0; i < 2; i++) {
		struct buf b = build_signed(keys[i], 100, 0);
		struct img_info info;
		struct img_diag d;

		assert_int_equal(img_parse(b.p, b.len, &info, &d), 0);
		/* last byte: still well-formed DER for ECDSA, a wrong value */
		b.p[b.len - 1] ^= 0x01;
		expect_verify_err(&b, keys[i], IMG_ERR_BAD_SIGNATURE, &d);
		assert_int_equal(d.offset, info.sig_off - 4);
		img_diag_format(&d, line, sizeof(line));
		assert_non_null(strstr(line, "does not verify with the given key"));
		b.p[b.len - 1] ^= 0x01;
		/* first byte: for ECDSA no longer a DER SEQUENCE */
		b.p[info.sig_off] ^= 0x01;
		expect_verify_err(&b, keys[i], IMG_ERR_BAD_SIGNATURE, &d);
		b.p[info.sig_off] ^= 0x01;
		assert_int_equal(verify(&b, keys[i]->pub, keys[i]->pub_len, &d), 0);
		free(b.p);
	}
}

static void test_wrong_key_is_a_key_mismatch(void **state)
{
	struct buf b = build_signed(&ec, 100, 0);
	struct img_diag d;

	expect_verify_err(&b, &ec2, IMG_ERR_KEY_MISMATCH, &d);
	assert_memory_equal(d.tlv_hash, ec.hash, 32);
	assert_memory_equal(d.data_hash, ec2.hash, 32);
	assert_int_equal(d.offset, 32 + 100 + 40);
	expect_verify_err(&b, &ed, IMG_ERR_KEY_MISMATCH, &d);
	free(b.p);
}

static void test_unsigned_image_with_key_has_no_signature(void **state)
{
	struct buf b = build_signed(NULL, 100, 0);
	char line[IMG_DIAG_MAX];
	struct img_diag d;

	expect_verify_err(&b, &ec, IMG_ERR_NO_SIGNATURE, &d);
	assert_string_equal(img_diag_format(&d, line, sizeof(line)),
			    "image is not signed: no signature TLV in the TLV area at offset 132");
	free(b.p);
}

static void test_signature_type_not_matching_key_is_unsupported(void **state)
{
	struct buf b = build_signed(&ec, 100, 0);
	struct img_diag d;

	b.p[32 + 100 + 76] = IMG_TLV_ED25519;
	expect_verify_err(&b, &ec, IMG_ERR_SIG_UNSUPPORTED, &d);
	b.p[32 + 100 + 76] = IMG_TLV_RSA2048_PSS;
	expect_verify_err(&b, &ec, IMG_ERR_SIG_UNSUPPORTED, &d);
	assert_int_equal(d.tlv_type, IMG_TLV_RSA2048_PSS);
	free(b.p);
}

static void test_signature_without_key_hash(void **state)
{
	struct buf b = build_signed(&ed, 100, 0);
	struct img_diag d;

	b.p[32 + 100 + 40] = 0x77; /* KEYHASH becomes an unknown TLV */
	expect_verify_err(&b, &ed, IMG_ERR_NO_KEY_HASH, &d);
	free(b.p);
}

static void test_unusable_keys(void **state)
{
	struct buf b = build_signed(&ec, 100, 0);
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	BIO *bio = BIO_new(BIO_s_mem());
	struct img_info info;
	struct img_diag d;
	size_t n;
	char *pem;

	assert_int_equal(img_parse(b.p, b.len, &info, &d), 0);
	assert_int_equal(img_verify_signature(b.p, &info, "garbage", 7, &d), -EINVAL);
	assert_int_equal(d.err, IMG_ERR_BAD_KEY);
	assert_int_equal(img_verify_signature(b.p, &info, ec.pub, ec.pub_len / 2, &d), -EINVAL);
	assert_int_equal(img_verify_signature(b.p, &info, NULL, 0, &d), -EINVAL);

	/* an encrypted key fails without prompting for a passphrase */
	assert_int_equal(
		PEM_write_bio_PKCS8PrivateKey(bio, ec.pkey, EVP_aes_128_cbc(), "pw", 2, NULL, NULL),
		1);
	pem = bio_text(bio, &n);
	assert_int_equal(img_verify_signature(b.p, &info, pem, n, &d), -EINVAL);
	free(pem);

	for (size_t i = 0; i < 2; i++) {
		EVP_PKEY *other = i ? p384 : rsa;

		assert_non_null(other);
		(void)BIO_reset(bio);
		assert_int_equal(PEM_write_bio_PUBKEY(bio, other), 1);
		pem = bio_text(bio, &n);
		assert_int_equal(img_verify_signature(b.p, &info, pem, n, &d), -EBADMSG);
		assert_int_equal(d.err, IMG_ERR_SIG_UNSUPPORTED);
		free(pem);
	}
	/* and img_build refuses to sign with them */
	(void)BIO_reset(bio);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, p384, NULL, NULL, 0, NULL, NULL), 1);
	pem = bio_text(bio, &n);
	{
		struct img_build_opts o = {.payload_size = 4, .key_pem = pem, .key_pem_len = n};
		uint8_t *out = NULL;
		size_t len;

		assert_int_equal(img_build(&o, &out, &len), -EINVAL);
		o.key_pem = ec.pub; /* a public key cannot sign */
		o.key_pem_len = ec.pub_len;
		assert_int_equal(img_build(&o, &out, &len), -EINVAL);
		assert_null(out);
	}
	free(pem);
	BIO_free(bio);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
	free(b.p);
}

/* Appends entries to b's TLV area (adjusting its total). */
static void append_tlv(struct buf *b, size_t tlv_off, uint8_t type, const void *val, uint16_t n)
{
	uint8_t *p = realloc(b->p, b->len + 4 + n);

	assert_non_null(p);
	b->p = p;
	p[b->len] = type;
	p[b->len + 1] = 0;
	put_le16(p + b->len + 2, n);
	memcpy(p + b->len + 4, val, n);
	b->len += 4 + (size_t)n;
	put_le16(p + tlv_off + 2, (uint16_t)(b->len - tlv_off));
}

static void test_second_signature_pair_is_checked(void **state)
{
	struct buf b = build_signed(&ec, 100, 0);
	size_t t = 32 + 100;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	uint8_t sig[64];
	size_t n = sizeof(sig);
	struct key other;
	struct img_diag d;

	/* KEYHASH + Ed25519 signature of the hash, as a second signer would add */
	assert_int_equal(EVP_DigestSignInit(m, NULL, NULL, NULL, ed.pkey), 1);
	assert_int_equal(EVP_DigestSign(m, sig, &n, b.p + t + 8, 32), 1);
	EVP_MD_CTX_free(m);
	append_tlv(&b, t, IMG_TLV_KEYHASH, ed.hash, 32);
	append_tlv(&b, t, IMG_TLV_ED25519, sig, 64);

	assert_int_equal(verify(&b, ec.pub, ec.pub_len, &d), 0);
	assert_int_equal(verify(&b, ed.pub, ed.pub_len, &d), 0);
	expect_verify_err(&b, &ec2, IMG_ERR_KEY_MISMATCH, &d);
	/* a bad second signature is reported as such, not as a key mismatch */
	b.p[b.len - 3] ^= 0x10;
	expect_verify_err(&b, &ed, IMG_ERR_BAD_SIGNATURE, &d);
	assert_int_equal(verify(&b, ec.pub, ec.pub_len, &d), 0);

	/* a pure signature (over the image, not the hash) cannot be checked here */
	key_new(&other, "ED25519", NULL);
	free(b.p);
	b = build_signed(NULL, 100, 0);
	append_tlv(&b, t, IMG_TLV_SIG_PURE, "\x01", 1);
	append_tlv(&b, t, IMG_TLV_KEYHASH, other.hash, 32);
	append_tlv(&b, t, IMG_TLV_ED25519, sig, 64);
	expect_verify_err(&b, &other, IMG_ERR_SIG_UNSUPPORTED, &d);
	key_free(&other);
	free(b.p);
}

/* MCUboot image_validate.c forgets the key after each signature: a signature TLV with no key TLV
 * of its own is not checked with the previous pair's key. */
static void test_signature_uses_only_the_key_tlv_before_it(void **state)
{
	struct buf b = build_signed(&ec, 100, 0);
	struct img_info info;
	struct img_diag d;
	uint8_t sig[80];
	size_t n;

	assert_int_equal(img_parse(b.p, b.len, &info, &d), 0);
	n = info.sig_len;
	memcpy(sig, b.p + info.sig_off, n);
	b.p[b.len - 1] ^= 0x01;
	append_tlv(&b, 32 + 100, IMG_TLV_ECDSA_SIG, sig, (uint16_t)n);
	expect_verify_err(&b, &ec, IMG_ERR_BAD_SIGNATURE, &d);
	free(b.p);
}

/* ---- imgtool fixtures --------------------------------------------------------------------- */

static struct buf fixture(const char *rel)
{
	char path[512];
	struct buf b;

	snprintf(path, sizeof(path), "%s/tests/data/%s", OTAD_SOURCE_DIR, rel);
	assert_int_equal(read_full_file(path, 1 << 20, &b.p, &b.len), 0);
	return b;
}

static void check_fixture(const char *image, const char *good_key, const char *bad_key,
			  enum img_sig_type type)
{
	struct buf b = fixture(image), good = fixture(good_key), bad = fixture(bad_key);
	struct img_info info;
	struct img_diag d;

	assert_int_equal(img_parse(b.p, b.len, &info, &d), 0);
	assert_int_equal(info.sig_type, type);
	assert_int_equal(info.version.major, 1);
	assert_int_equal(info.version.minor, 2);
	assert_int_equal(info.version.revision, 3);
	assert_int_equal(info.version.build, 4);
	assert_int_equal(info.hdr_size, 32);
	assert_int_equal(info.img_size, 64);
	assert_int_equal(img_verify_signature(b.p, &info, (char *)good.p, good.len, &d), 0);
	assert_int_equal(img_verify_signature(b.p, &info, (char *)bad.p, bad.len, &d), -EBADMSG);
	assert_int_equal(d.err, IMG_ERR_KEY_MISMATCH);
	b.p[40] ^= 1;
	assert_int_equal(img_parse(b.p, b.len, &info, &d), -EBADMSG);
	assert_int_equal(d.err, IMG_ERR_HASH_MISMATCH);
	free(b.p);
	free(good.p);
	free(bad.p);
}

static void test_imgtool_signed_images_verify(void **state)
{
	check_fixture("image/imgtool-ecdsa-p256.bin", "keys/ec-p256.pem", "keys/ec-p256-other.pem",
		      IMG_SIG_ECDSA_P256);
	check_fixture("image/imgtool-ecdsa-p256.bin", "keys/ec-p256.pub.pem", "keys/ed25519.pem",
		      IMG_SIG_ECDSA_P256);
	check_fixture("image/imgtool-ecdsa-p256-padsig.bin", "keys/ec-p256.pub.pem",
		      "keys/ec-p256-other.pem", IMG_SIG_ECDSA_P256);
	check_fixture("image/imgtool-ed25519.bin", "keys/ed25519.pub.pem", "keys/ec-p256.pem",
		      IMG_SIG_ED25519);
	check_fixture("image/imgtool-ed25519-seccnt.bin", "keys/ed25519.pem", "keys/ec-p256.pem",
		      IMG_SIG_ED25519);
	check_fixture("image/imgtool-ed25519-pubkey.bin", "keys/ed25519.pem", "keys/ec-p256.pem",
		      IMG_SIG_ED25519);
}

static void check_build_matches(const char *image, const char *key, uint32_t sec_cnt)
{
	struct buf want = fixture(image), k = {0}, got;
	struct img_build_opts o = {
		.version = {1, 2, 3, 4},
		.payload_size = 64,
		.seed = 7,
		.hdr_size = 32,
		.security_counter = sec_cnt,
	};

	if (key) {
		k = fixture(key);
		o.key_pem = (const char *)k.p;
		o.key_pem_len = k.len;
	}
	assert_int_equal(img_build(&o, &got.p, &got.len), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.p, want.p, want.len);
	free(got.p);
	free(want.p);
	free(k.p);
}

static void test_build_is_byte_identical_to_imgtool(void **state)
{
	check_build_matches("image/imgtool-unsigned.bin", NULL, 0);
	check_build_matches("image/imgtool-ed25519.bin", "keys/ed25519.pem", 0);
	check_build_matches("image/imgtool-ed25519-seccnt.bin", "keys/ed25519.pem", 9);
}

static void test_build_ecdsa_layout_matches_imgtool(void **state)
{
	struct buf want = fixture("image/imgtool-ecdsa-p256.bin"), k = fixture("keys/ec-p256.pem");
	struct img_build_opts o = {
		.version = {1, 2, 3, 4},
		.payload_size = 64,
		.seed = 7,
		.hdr_size = 32,
		.key_pem = (const char *)k.p,
		.key_pem_len = k.len,
	};
	struct buf got;

	/* ECDSA signatures are randomised: all but the signature TLV's length and value match */
	assert_int_equal(img_build(&o, &got.p, &got.len), 0);
	assert_memory_equal(got.p, want.p, 96 + 2);	    /* through the TLV magic */
	assert_memory_equal(got.p + 100, want.p + 100, 72); /* SHA256 and KEYHASH entries */
	assert_int_equal(got.p[172], IMG_TLV_ECDSA_SIG);
	assert_int_equal(want.p[172], IMG_TLV_ECDSA_SIG);
	assert_int_equal(got.len, 176 + get_le16(got.p + 174));
	assert_int_equal(get_le16(got.p + 98), got.len - 96);
	free(got.p);
	free(want.p);
	free(k.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecdsa_p256_signed_image_verifies),
		cmocka_unit_test(test_ed25519_signed_image_verifies),
		cmocka_unit_test(test_tampered_payload_is_a_hash_mismatch),
		cmocka_unit_test(test_rehashed_tampered_payload_fails_signature),
		cmocka_unit_test(test_tampered_signature_rejected),
		cmocka_unit_test(test_wrong_key_is_a_key_mismatch),
		cmocka_unit_test(test_unsigned_image_with_key_has_no_signature),
		cmocka_unit_test(test_signature_type_not_matching_key_is_unsupported),
		cmocka_unit_test(test_signature_without_key_hash),
		cmocka_unit_test(test_unusable_keys),
		cmocka_unit_test(test_second_signature_pair_is_checked),
		cmocka_unit_test(test_signature_uses_only_the_key_tlv_before_it),
		cmocka_unit_test(test_imgtool_signed_images_verify),
		cmocka_unit_test(test_build_is_byte_identical_to_imgtool),
		cmocka_unit_test(test_build_ecdsa_layout_matches_imgtool),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
