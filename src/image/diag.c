/* diag.c — names why an image was rejected: a short reason (img_strerror) and one line with the
 * cause and where it is in the file (img_diag_format). */
#include "image/image-internal.h"
#include "util/hex.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *img_strerror(enum img_err err)
{
	static const char *const names[] = {
		[IMG_OK] = "ok",
		[IMG_ERR_TRUNCATED_HEADER] = "truncated header",
		[IMG_ERR_BAD_MAGIC] = "bad magic",
		[IMG_ERR_BAD_HDR_SIZE] = "bad header size",
		[IMG_ERR_TRUNCATED_PAYLOAD] = "truncated payload",
		[IMG_ERR_PROT_TLV_MAGIC] = "bad protected TLV magic",
		[IMG_ERR_PROT_TLV_SIZE] = "bad protected TLV size",
		[IMG_ERR_TLV_MAGIC] = "bad TLV magic",
		[IMG_ERR_TLV_TRUNCATED] = "TLV area truncated",
		[IMG_ERR_TLV_OVERRUN] = "TLV entry overruns its area",
		[IMG_ERR_NO_HASH] = "no SHA-256 TLV",
		[IMG_ERR_MULTIPLE_HASHES] = "more than one SHA-256 TLV",
		[IMG_ERR_HASH_LEN] = "bad SHA-256 TLV length",
		[IMG_ERR_HASH_MISMATCH] = "SHA-256 mismatch",
		[IMG_ERR_TRAILING_DATA] = "trailing data",
		[IMG_ERR_ENCRYPTED] = "encrypted image",
		[IMG_ERR_NO_SIGNATURE] = "image is not signed",
		[IMG_ERR_KEY_MISMATCH] = "signed with another key",
		[IMG_ERR_BAD_SIGNATURE] = "bad signature",
		[IMG_ERR_SIG_UNSUPPORTED] = "unsupported signature",
		[IMG_ERR_TLV_SIZE] = "bad TLV area size",
		[IMG_ERR_TLV_LEN] = "bad TLV length",
		[IMG_ERR_HASH_UNSUPPORTED] = "unsupported hash",
		[IMG_ERR_NO_KEY_HASH] = "signature without key hash",
		[IMG_ERR_BAD_KEY] = "unreadable key",
		[IMG_ERR_IHEX] = "malformed Intel HEX",
		[IMG_ERR_ZIP] = "malformed zip",
		[IMG_ERR_MANIFEST] = "malformed manifest",
	};

	if ((unsigned)err >= sizeof(names) / sizeof(names[0]) || !names[err])
		return "unknown image error";
	return names[err];
}

static const char *area(const struct img_diag *d)
{
	return d->prot ? "protected TLV area" : "TLV area";
}

static const char *sig_name(uint32_t type)
{
	switch (type) {
	case IMG_TLV_ECDSA_SIG:
		return "ECDSA";
	case IMG_TLV_ED25519:
		return "Ed25519";
	case IMG_TLV_RSA2048_PSS:
		return "RSA-2048";
	case IMG_TLV_RSA3072_PSS:
		return "RSA-3072";
	case IMG_TLV_ECDSA224:
		return "ECDSA P-224";
	case IMG_TLV_SIG_PURE:
		return "pure (whole-image)";
	default:
		return "unknown";
	}
}

static void fmt_tlv(const struct img_diag *d, char *buf, size_t size)
{
	size_t off = d->offset;
	uint64_t lim = d->limit;

	if (d->err == IMG_ERR_TLV_TRUNCATED && d->part == IMG_PART_ENTRY)
		snprintf(buf, size,
			 "%s truncated at offset %zu: entry 0x%02x of %" PRIu32
			 " bytes runs past end of file (%" PRIu64 " bytes)",
			 area(d), off, d->tlv_type, d->value, lim);
	else if (d->err == IMG_ERR_TLV_TRUNCATED)
		snprintf(buf, size,
			 "%s truncated at offset %zu: %s of 4 bytes runs past end of file (%" PRIu64
			 " bytes)",
			 area(d), off, d->part == IMG_PART_INFO ? "info header" : "entry header",
			 lim);
	else if (d->part == IMG_PART_ENTRY)
		snprintf(buf, size,
			 "%s entry 0x%02x at offset %zu: %" PRIu32
			 " bytes of value run past the end of the area at %" PRIu64,
			 area(d), d->tlv_type, off, d->value, lim);
	else
		snprintf(buf, size,
			 "%s entry header at offset %zu runs past the end of the area at %" PRIu64,
			 area(d), off, lim);
}

static void fmt_hashes(const struct img_diag *d, char *buf, size_t size)
{
	char a[2 * IMG_HASH_LEN + 1], b[2 * IMG_HASH_LEN + 1];

	hex_encode(d->tlv_hash, IMG_HASH_LEN, a);
	hex_encode(d->data_hash, IMG_HASH_LEN, b);
	if (d->err == IMG_ERR_HASH_MISMATCH)
		snprintf(buf, size,
			 "SHA-256 mismatch: TLV at offset %zu says %s, data (%" PRIu64
			 " bytes) hashes to %s",
			 d->offset, a, d->limit, b);
	else
		snprintf(buf, size,
			 "key mismatch: image signed with key hash %s (TLV at offset %zu), the "
			 "given "
			 "key hashes to %s",
			 a, d->offset, b);
}

static bool fmt_header(const struct img_diag *d, char *buf, size_t size)
{
	switch (d->err) {
	case IMG_ERR_TRUNCATED_HEADER:
		snprintf(buf, size, "truncated header: file has %" PRIu32 " bytes (need %d)",
			 d->value, IMG_HEADER_SIZE);
		return true;
	case IMG_ERR_BAD_MAGIC:
		snprintf(buf, size, "bad magic 0x%08" PRIx32 " at offset %zu (expected 0x%08x)",
			 d->value, d->offset, IMG_MAGIC);
		return true;
	case IMG_ERR_BAD_HDR_SIZE:
		if (d->value < IMG_HEADER_SIZE)
			snprintf(buf, size,
				 "bad header size %" PRIu32 " at offset %zu (minimum %d)", d->value,
				 d->offset, IMG_HEADER_SIZE);
		else
			snprintf(buf, size,
				 "bad header size %" PRIu32
				 " at offset %zu: runs past end of file (%" PRIu64 " bytes)",
				 d->value, d->offset, d->limit);
		return true;
	case IMG_ERR_TRUNCATED_PAYLOAD:
		snprintf(buf, size,
			 "payload truncated: %" PRIu32
			 " bytes from offset %zu run past end of file (%" PRIu64 " bytes)",
			 d->value, d->offset, d->limit);
		return true;
	case IMG_ERR_ENCRYPTED:
		snprintf(buf, size,
			 "encrypted image (flags 0x%08" PRIx32
			 " at offset %zu): its hash cannot be checked, not supported",
			 d->value, d->offset);
		return true;
	default:
		return false;
	}
}

static bool fmt_area(const struct img_diag *d, char *buf, size_t size)
{
	switch (d->err) {
	case IMG_ERR_PROT_TLV_MAGIC:
	case IMG_ERR_TLV_MAGIC:
		snprintf(buf, size,
			 "bad %s magic 0x%04" PRIx32 " at offset %zu (expected 0x%04" PRIx64 ")",
			 d->err == IMG_ERR_TLV_MAGIC ? "TLV" : "protected TLV", d->value, d->offset,
			 d->limit);
		return true;
	case IMG_ERR_PROT_TLV_SIZE:
		snprintf(buf, size,
			 "protected TLV area at offset %zu declares %" PRIu32
			 " bytes, the header's protect_tlv_size says %" PRIu64,
			 d->offset, d->value, d->limit);
		return true;
	case IMG_ERR_TLV_SIZE:
		snprintf(buf, size,
			 "TLV area at offset %zu declares %" PRIu32
			 " bytes, less than its 4-byte info header",
			 d->offset, d->value);
		return true;
	case IMG_ERR_TRAILING_DATA:
		snprintf(buf, size,
			 "trailing data: byte 0x%02" PRIx32
			 " at offset %zu after the TLV area (ends at %" PRIu64
			 "); only 0xff padding is accepted",
			 d->value, d->offset, d->limit);
		return true;
	default:
		return false;
	}
}

static bool fmt_entries(const struct img_diag *d, char *buf, size_t size)
{
	switch (d->err) {
	case IMG_ERR_NO_HASH:
		snprintf(buf, size, "no SHA-256 TLV (0x10) in the TLV area at offset %zu",
			 d->offset);
		return true;
	case IMG_ERR_HASH_UNSUPPORTED:
		snprintf(buf, size,
			 "TLV area at offset %zu has only a SHA-384/512 hash; only SHA-256 is "
			 "supported",
			 d->offset);
		return true;
	case IMG_ERR_MULTIPLE_HASHES:
		snprintf(buf, size,
			 "second SHA-256 TLV at offset %zu (the first is at offset %" PRIu64 ")",
			 d->offset, d->limit);
		return true;
	case IMG_ERR_HASH_LEN:
	case IMG_ERR_TLV_LEN:
		snprintf(buf, size,
			 "TLV 0x%02x at offset %zu has %" PRIu32 " bytes (expected %" PRIu64 ")",
			 d->tlv_type, d->offset, d->value, d->limit);
		return true;
	default:
		return false;
	}
}

static bool fmt_signature(const struct img_diag *d, char *buf, size_t size)
{
	switch (d->err) {
	case IMG_ERR_NO_SIGNATURE:
		snprintf(buf, size,
			 "image is not signed: no signature TLV in the TLV area at offset %zu",
			 d->offset);
		return true;
	case IMG_ERR_BAD_SIGNATURE:
		snprintf(buf, size,
			 "bad signature: %s signature TLV at offset %zu (%" PRIu32
			 " bytes) does not verify with the given key",
			 sig_name(d->tlv_type), d->offset, d->value);
		return true;
	case IMG_ERR_SIG_UNSUPPORTED:
		if (d->tlv_type)
			snprintf(buf, size,
				 "unsupported signature: %s signature TLV 0x%02x at offset %zu "
				 "cannot be "
				 "verified with the given key",
				 sig_name(d->tlv_type), d->tlv_type, d->offset);
		else
			snprintf(buf, size,
				 "unsupported key: only EC P-256 and Ed25519 keys can verify "
				 "images");
		return true;
	case IMG_ERR_NO_KEY_HASH:
		snprintf(buf, size,
			 "%s signature TLV at offset %zu has no KEYHASH or PUBKEY TLV before it",
			 sig_name(d->tlv_type), d->offset);
		return true;
	case IMG_ERR_BAD_KEY:
		snprintf(buf, size,
			 "unreadable key: not a PEM public or private key (%" PRIu32 " bytes)",
			 d->value);
		return true;
	default:
		return false;
	}
}

static void fmt_image(const struct img_diag *d, char *buf, size_t size)
{
	switch (d->err) {
	case IMG_OK:
		snprintf(buf, size, "ok");
		break;
	case IMG_ERR_TLV_TRUNCATED:
	case IMG_ERR_TLV_OVERRUN:
		fmt_tlv(d, buf, size);
		break;
	case IMG_ERR_HASH_MISMATCH:
	case IMG_ERR_KEY_MISMATCH:
		fmt_hashes(d, buf, size);
		break;
	case IMG_ERR_IHEX:
	case IMG_ERR_ZIP:
	case IMG_ERR_MANIFEST:
		snprintf(buf, size, "%s", d->text);
		break;
	default:
		if (!fmt_header(d, buf, size) && !fmt_area(d, buf, size) &&
		    !fmt_entries(d, buf, size) && !fmt_signature(d, buf, size))
			snprintf(buf, size, "%s at offset %zu", img_strerror(d->err), d->offset);
		break;
	}
}

char *img_diag_format(const struct img_diag *d, char *buf, size_t size)
{
	int n = 0;

	if (!buf || size == 0)
		return buf;
	buf[0] = 0;
	/* "app.bin: bad magic ...", "manifest.json line 4: ...", "line 12: bad checksum ..." */
	if (d->where[0] && d->line)
		n = snprintf(buf, size, "%.*s line %u: ", (int)sizeof(d->where), d->where, d->line);
	else if (d->where[0])
		n = snprintf(buf, size, "%.*s: ", (int)sizeof(d->where), d->where);
	else if (d->line)
		n = snprintf(buf, size, "line %u: ", d->line);
	if (n < 0 || (size_t)n >= size)
		return buf;
	fmt_image(d, buf + n, size - (size_t)n);
	return buf;
}

int img_diag_set(struct img_diag *d, enum img_err err, unsigned line, const char *fmt, ...)
{
	va_list ap;

	d->err = err;
	d->line = line;
	va_start(ap, fmt);
	vsnprintf(d->text, sizeof(d->text), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}
