/* fuzz-image.c — the MCUboot image parser and signature check of src/image/ (img_parse,
 * img_parse_no_hash, img_verify_signature with a fixed key), what otactl runs on every image file
 * it is given and otasim on every slot it boots. Input: a mode byte, then the image.
 *   mode bit 0: repair the SHA-256 TLV before the full parse (so mutations get past the hash
 *               check into the signature check); bits 1-2: the key (EC P-256, Ed25519, an
 *               unreadable PEM).
 * Invariants: img_parse fails exactly where img_parse_no_hash does, or on the hash alone; what
 * they report agrees; the areas they report lie inside the input; a repaired image parses; every
 * diagnostic formats without truncation; the version formats into something that parses back to
 * it. */
#include <errno.h>

#include "fuzz.h"
#include "image/image-internal.h"
#include "otad/image.h"

/* tests/data/keys/ec-p256.pub.pem and ed25519.pub.pem: the keys of the signed seeds. */
static const char key_ec[] = "-----BEGIN PUBLIC KEY-----\n"
			     "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEut/hXFIb+uXTM0joVysjbyNG0FiX\n"
			     "eGcjnUsJcGwIPClIM6FaY1Ne0tqiV+qKs4eEzhvY5L54ssMDuuZmfhaY1A==\n"
			     "-----END PUBLIC KEY-----\n";
static const char key_ed[] = "-----BEGIN PUBLIC KEY-----\n"
			     "MCowBQYDK2VwAyEAyHdj7SIXfZDScNDERWFjX1PhW5oKfYn2xtg9GElDOdo=\n"
			     "-----END PUBLIC KEY-----\n";
static const char key_bad[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";

static void check_diag(const struct img_diag *d)
{
	char buf[IMG_DIAG_MAX];

	FUZZ_CHECK(img_strerror(d->err));
	FUZZ_CHECK(img_diag_format(d, buf, sizeof(buf)) == buf);
	FUZZ_CHECK(strlen(buf) + 1 < sizeof(buf)); /* IMG_DIAG_MAX fits every message */
}

static void check_info(const struct img_info *i, const uint8_t *buf, size_t len)
{
	struct img_version v;
	char s[64];

	FUZZ_CHECK(i->hdr_size >= IMG_HEADER_SIZE);
	FUZZ_CHECK(i->hashed_len ==
		   (size_t)i->hdr_size + i->img_size + i->protect_tlv_size);
	FUZZ_CHECK(i->hashed_len < i->total_len && i->total_len <= len);
	/* In a TLV area; the protected one too: MCUboot walks both (an image signed there can
	 * never verify, as the signature would sign itself). */
	FUZZ_CHECK(i->sig_type == IMG_SIG_NONE ||
		   (i->sig_off >= (size_t)i->hdr_size + i->img_size &&
		    i->sig_off + i->sig_len <= i->total_len));
	for (size_t k = i->total_len; k < len; k++)
		FUZZ_CHECK(buf[k] == 0xff);
	img_version_format(&i->version, s, sizeof(s));
	FUZZ_CHECK(img_version_parse(s, &v) == 0 && img_version_cmp(&v, &i->version) == 0);
}

/* Writes the SHA-256 of the hashed region into the SHA-256 TLV of the unprotected area.
 * Returns false when there is none to repair. */
static bool repair_hash(uint8_t *buf, size_t len, const struct img_info *i)
{
	struct tlv_iter it;
	struct tlv_entry e;
	struct img_diag d;

	tlv_iter_init(&it, buf, len, i->hashed_len, (uint16_t)(i->total_len - i->hashed_len),
		      false);
	while (tlv_iter_next(&it, &e, &d) > 0) {
		if (e.type != IMG_TLV_SHA256)
			continue;
		FUZZ_CHECK(e.len == IMG_HASH_LEN && e.val + IMG_HASH_LEN <= len);
		FUZZ_CHECK(img_sha256(buf, i->hashed_len, buf + e.val) == 0);
		return true;
	}
	return false;
}

static void verify(const uint8_t *buf, const struct img_info *i, unsigned key)
{
	const char *pem = key == 0 ? key_ec : key == 1 ? key_ed : key_bad;
	struct img_diag d;
	int r = img_verify_signature(buf, i, pem, strlen(pem), &d);

	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EINVAL || r == -ENOMEM);
	FUZZ_CHECK((r == -EINVAL) == (key > 1));
	if (r == -EBADMSG)
		check_diag(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t mode = fz_u8(&f);
	size_t len;
	const uint8_t *raw = fz_rest(&f, &len);
	uint8_t *buf = fz_dup(raw, len);
	struct img_info a, b;
	struct img_diag da, db;
	int ra = img_parse_no_hash(buf, len, &a, &da);
	int rb = img_parse(buf, len, &b, &db);

	FUZZ_CHECK(ra == 0 || ra == -EBADMSG);
	if (ra < 0) {
		check_diag(&da);
		FUZZ_CHECK(rb == ra && db.err == da.err && db.offset == da.offset);
		goto out;
	}
	check_info(&a, buf, len);
	FUZZ_CHECK(rb == 0 || (rb == -EBADMSG && db.err == IMG_ERR_HASH_MISMATCH));
	if (rb < 0)
		check_diag(&db);
	else
		FUZZ_CHECK(b.total_len == a.total_len && !memcmp(a.hash, b.hash, sizeof(a.hash)));
	if (rb < 0 && (mode & 1) && repair_hash(buf, len, &a)) {
		rb = img_parse(buf, len, &b, &db);
		FUZZ_CHECK(rb == 0);
	}
	if (rb == 0)
		verify(buf, &b, (mode >> 1) % 3);
out:
	free(buf);
	return 0;
}
