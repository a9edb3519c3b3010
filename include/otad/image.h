/* image.h — MCUboot images: parse and check a file (header, protected and unprotected TLV
 * areas, SHA-256, signature), and build one (otasim mkimage, tests, demo).
 *
 * Layout (little-endian): 32-byte header | pad to hdr_size | payload (img_size) | protected TLV
 * area (magic 0x6908, protect_tlv_size bytes, absent when 0) | TLV area (magic 0x6907). The
 * SHA-256 TLV covers header + payload + protected TLV area. A signature TLV signs that hash.
 *
 * Source: MCUboot docs/design.md "Image Format" and bootutil/image.h (github:mcu-tools/mcuboot). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMG_MAGIC           0x96f3b83dU
#define IMG_HEADER_SIZE     32
#define IMG_TLV_INFO_MAGIC  0x6907
#define IMG_TLV_PROT_MAGIC  0x6908
#define IMG_TLV_INFO_SIZE   4 /* magic u16, total length u16 (including these 4 bytes) */
#define IMG_TLV_HDR_SIZE    4 /* type u8, pad u8, len u16 */

enum img_tlv_type {
	IMG_TLV_KEYHASH = 0x01,
	IMG_TLV_PUBKEY = 0x02,
	IMG_TLV_SHA256 = 0x10,
	IMG_TLV_SHA384 = 0x11, /* recognised, not supported */
	IMG_TLV_SHA512 = 0x12, /* recognised, not supported */
	IMG_TLV_RSA2048_PSS = 0x20,
	IMG_TLV_ECDSA224 = 0x21,
	IMG_TLV_ECDSA_SIG = 0x22, /* ECDSA P-256 (or P-384), DER signature of the hash */
	IMG_TLV_RSA3072_PSS = 0x23,
	IMG_TLV_ED25519 = 0x24,
	IMG_TLV_SIG_PURE = 0x25, /* signature over the image, not its hash: not verifiable */
	IMG_TLV_ENC_RSA2048 = 0x30,
	IMG_TLV_ENC_KW = 0x31,
	IMG_TLV_ENC_EC256 = 0x32,
	IMG_TLV_ENC_X25519 = 0x33,
	IMG_TLV_ENC_X25519_SHA512 = 0x34,
	IMG_TLV_DEPENDENCY = 0x40,
	IMG_TLV_SEC_CNT = 0x50,
	IMG_TLV_BOOT_RECORD = 0x60,
};

/* Header flags (bootutil/image.h). */
#define IMG_F_PIC             0x00000001U
#define IMG_F_ENCRYPTED_AES128 0x00000004U
#define IMG_F_ENCRYPTED_AES256 0x00000008U
#define IMG_F_NON_BOOTABLE    0x00000010U
#define IMG_F_RAM_LOAD        0x00000020U
#define IMG_F_ROM_FIXED       0x00000100U

struct img_version {
	uint8_t major;
	uint8_t minor;
	uint16_t revision;
	uint32_t build;
};

enum img_sig_type {
	IMG_SIG_NONE = 0,
	IMG_SIG_ECDSA_P256,
	IMG_SIG_ED25519,
	IMG_SIG_OTHER, /* RSA etc.: recognised, not verifiable here */
};

struct img_info {
	uint32_t load_addr;
	uint16_t hdr_size;
	uint16_t protect_tlv_size;
	uint32_t img_size;
	uint32_t flags;
	struct img_version version;
	size_t hashed_len;   /* hdr_size + img_size + protect_tlv_size */
	size_t total_len;    /* through the end of the TLV area */
	uint8_t hash[32];    /* SHA-256 TLV as stored (checked against the data by img_parse) */
	size_t hash_off;     /* offset of that TLV entry (its 4-byte header) in the file */
	bool has_key_hash;
	uint8_t key_hash[32];
	enum img_sig_type sig_type;
	size_t sig_off;      /* offset of the signature TLV's value in the buffer */
	size_t sig_len;
	bool has_security_counter; /* protected IMG_TLV_SEC_CNT */
	uint32_t security_counter;
};

/* Why an image was rejected. img_diag_format() turns it into one line naming the cause and where.
 * Values are stable: new reasons are appended. */
enum img_err {
	IMG_OK = 0,
	IMG_ERR_TRUNCATED_HEADER,   /* fewer than 32 bytes */
	IMG_ERR_BAD_MAGIC,          /* value = magic found */
	IMG_ERR_BAD_HDR_SIZE,       /* hdr_size < 32 or beyond the file */
	IMG_ERR_TRUNCATED_PAYLOAD,  /* file ends inside the payload */
	IMG_ERR_PROT_TLV_MAGIC,     /* protected TLV area doesn't start with 0x6908 */
	IMG_ERR_PROT_TLV_SIZE,      /* its length disagrees with protect_tlv_size */
	IMG_ERR_TLV_MAGIC,          /* TLV area doesn't start with 0x6907; value = found */
	IMG_ERR_TLV_TRUNCATED,      /* a TLV area or entry runs past the end of the file */
	IMG_ERR_TLV_OVERRUN,        /* an entry runs past the end of its area */
	IMG_ERR_NO_HASH,            /* no SHA-256 TLV */
	IMG_ERR_MULTIPLE_HASHES,
	IMG_ERR_HASH_LEN,           /* SHA-256 TLV not 32 bytes */
	IMG_ERR_HASH_MISMATCH,      /* computed SHA-256 differs from the TLV */
	IMG_ERR_TRAILING_DATA,      /* bytes after the TLV area */
	IMG_ERR_ENCRYPTED,          /* encrypted images are not supported */
	IMG_ERR_NO_SIGNATURE,       /* a key was given but the image is unsigned */
	IMG_ERR_KEY_MISMATCH,       /* key hash TLV doesn't match the given key */
	IMG_ERR_BAD_SIGNATURE,      /* signature does not verify */
	IMG_ERR_SIG_UNSUPPORTED,    /* signature type we cannot verify with this key */
	IMG_ERR_TLV_SIZE,           /* TLV area's total length is below its 4-byte info header */
	IMG_ERR_TLV_LEN,            /* KEYHASH (32) or SEC_CNT (4) entry of the wrong length */
	IMG_ERR_HASH_UNSUPPORTED,   /* only a SHA-384/512 TLV: not supported */
	IMG_ERR_NO_KEY_HASH,        /* signature TLV without a KEYHASH/PUBKEY TLV before it */
	IMG_ERR_BAD_KEY,            /* key PEM unreadable (img_verify_signature returns -EINVAL) */
	IMG_ERR_IHEX,               /* Intel HEX file: text says what, line where */
	IMG_ERR_ZIP,                /* zip archive: text says what */
	IMG_ERR_MANIFEST,           /* the zip's manifest.json: text says what, line where */
};

/* Which part of a TLV area a diagnostic is about (TLV_TRUNCATED, TLV_OVERRUN). */
enum img_part {
	IMG_PART_NONE = 0,
	IMG_PART_INFO,      /* the 4-byte area info header */
	IMG_PART_ENTRY_HDR, /* a 4-byte entry header */
	IMG_PART_ENTRY,     /* an entry's value (tlv_type, value = its length) */
};

struct img_diag {
	enum img_err err;
	size_t offset;     /* where in the file */
	uint32_t value;    /* what was found (magic, length, flags) */
	uint64_t limit;    /* what it was checked against (file length, area end, expected) */
	enum img_part part;
	uint16_t tlv_type; /* the entry's type, when part is IMG_PART_ENTRY */
	bool prot;         /* in the protected TLV area */
	/* HASH_MISMATCH: SHA-256 TLV vs hash of the data. KEY_MISMATCH: the image's key hash vs
	 * the given key's. */
	uint8_t tlv_hash[32];
	uint8_t data_hash[32];
	/* Image files (img_load_any): the part of the file the diagnostic is about ("app.bin" in a
	 * zip; "" = the file itself), the 1-based line (IHEX, MANIFEST; 0 = none), and for IHEX, ZIP
	 * and MANIFEST what is wrong, in words. */
	char where[96];
	unsigned line;
	char text[200];
};

/* Enough for every message img_diag_format() writes. */
#define IMG_DIAG_MAX 448

const char *img_strerror(enum img_err err);
/* "bad magic 0x12345678 at offset 0 (expected 0x96f3b83d)" into buf (IMG_DIAG_MAX fits every
 * message; shorter buffers truncate); returns buf. */
char *img_diag_format(const struct img_diag *d, char *buf, size_t size);

/* Parses buf and checks structure and the SHA-256 TLV against the data. Returns 0, or -EBADMSG
 * with *diag set (-ENOMEM if hashing fails). Pointers in info (sig_off) refer to buf. Trailing
 * 0xff padding after the TLV area is accepted (flash dumps); other trailing bytes are
 * IMG_ERR_TRAILING_DATA. TLV entry types are read as MCUboot's current bootutil does, as one LE
 * u16 (imgtool writes u8 type + zero pad byte). info and diag may be NULL. */
int img_parse(const uint8_t *buf, size_t len, struct img_info *info, struct img_diag *diag);

/* Same as img_parse but does not compute the hash: what a device does when it reports a slot's
 * "hash" (read from the TLV, never recomputed). */
int img_parse_no_hash(const uint8_t *buf, size_t len, struct img_info *info, struct img_diag *diag);

/* Verifies the signature TLV with a PEM public (or private) key: ECDSA P-256 over the SHA-256
 * hash, or Ed25519 of the 32-byte hash, as MCUboot does; checks the key hash TLV against the
 * key's SubjectPublicKeyInfo DER when present. info must come from img_parse() of buf (the
 * walk is bounded by info->total_len). Several KEYHASH+signature pairs are allowed: the one
 * whose key hash matches the key must verify. Returns 0, -EBADMSG with diag, or -EINVAL
 * (IMG_ERR_BAD_KEY) when key_pem is not a readable key. */
int img_verify_signature(const uint8_t *buf, const struct img_info *info, const char *key_pem,
			 size_t key_pem_len, struct img_diag *diag);

/* "1.2.3" or "1.2.3.4" when build != 0 — the format Zephyr's img_mgmt reports (imgtool writes
 * the build as "1.2.3+4"). Returns buf. */
char *img_version_format(const struct img_version *v, char *buf, size_t size);
/* Accepts "1", "1.2", "1.2.3", "1.2.3.4" and "1.2.3+4" (decimal, no sign, no leading zeros, as
 * imgtool). Returns 0, -EINVAL, or -ERANGE when a part exceeds its field (255, 255, 65535,
 * 2^32-1). */
int img_version_parse(const char *s, struct img_version *ret);
/* <0, 0, >0 ordering major, minor, revision, then build. */
int img_version_cmp(const struct img_version *a, const struct img_version *b);

/* ---- Building images ---------------------------------------------------------------------- */
struct img_build_opts {
	struct img_version version;
	size_t payload_size;   /* img_size */
	uint32_t seed;         /* payload bytes are a deterministic function of seed */
	uint16_t hdr_size;     /* 0 = 0x200 (Zephyr's default) */
	uint32_t load_addr;
	uint32_t flags;
	uint32_t security_counter; /* != 0: add a protected IMG_TLV_SEC_CNT */
	const char *key_pem;   /* private key PEM (EC P-256 or Ed25519); NULL = unsigned */
	size_t key_pem_len;
};
/* Layout as imgtool's: header, zero padding to hdr_size, payload, protected TLV area
 * (SEC_CNT) when security_counter != 0, TLV area with SHA256 then, when signed, KEYHASH
 * (SHA-256 of the key's SubjectPublicKeyInfo DER) and ECDSA_SIG (DER) or ED25519.
 * Returns 0 and a malloc'd image in *ret, or a negative errno (-EINVAL bad key or options). */
int img_build(const struct img_build_opts *o, uint8_t **ret, size_t *ret_len);

/* Loaded image file: the bytes plus their parsed info and the SHA-256 of the whole file (the
 * upload request's "sha"). */
struct img {
	uint8_t *data;
	size_t len;
	struct img_info info;
	uint8_t file_sha[32];
};
/* Reads and parses path (img_parse). -EBADMSG with diag on a malformed image, other negative
 * errno for I/O (-ENOENT; -EFBIG beyond IMG_MAX_FILE_SIZE). key_pem non-NULL: also
 * img_verify_signature(). */
#define IMG_MAX_FILE_SIZE (64U * 1024 * 1024)
int img_load(const char *path, const char *key_pem, size_t key_pem_len, struct img **ret,
	     struct img_diag *diag);
/* Accepts NULL; returns NULL. */
struct img *img_free(struct img *i);

/* ---- Image files in any format (format.c) ------------------------------------------------- */
enum img_format {
	IMG_FORMAT_BIN,  /* a signed MCUboot image as imgtool writes it (zephyr.signed.bin) */
	IMG_FORMAT_IHEX, /* the same bytes as Intel HEX (zephyr.signed.hex): one contiguous block */
	IMG_FORMAT_ZIP,  /* nRF Connect SDK dfu_application.zip: manifest.json + MCUboot images */
};
const char *img_format_name(enum img_format f); /* "MCUboot binary", "Intel HEX", "zip" */

struct img_file_entry {
	uint32_t image; /* SMP image number: the manifest's image_index; 0 for .bin and .hex */
	char name[96];  /* member of the zip, "" otherwise */
	uint32_t addr;  /* IHEX: flash address of the first byte (the slot); 0 otherwise */
	struct img *img;
};

struct img_file {
	enum img_format format;
	bool numbered; /* the file says which image number each image is (a zip's manifest) */
	size_t n;      /* >= 1 */
	struct img_file_entry *entries; /* ascending image numbers, each at most once */
};

/* Reads path, tells its format by content (MCUboot magic, "PK\3\4", ':' records), and loads
 * every MCUboot image it holds, each checked as img_load() does (and with key_pem when given).
 * Returns 0, -EBADMSG with diag (diag->where names the zip member or manifest.json; a caller
 * prefixes the path), -EFBIG, -ENOMEM, or another negative errno from reading path. */
int img_load_any(const char *path, const char *key_pem, size_t key_pem_len,
		 struct img_file **ret, struct img_diag *diag);
/* Accepts NULL; returns NULL. */
struct img_file *img_file_free(struct img_file *f);
/* The entry for SMP image number image, NULL if the file has none. */
const struct img_file_entry *img_file_find(const struct img_file *f, uint32_t image);
/* Which image an update of image number `image` takes from f: the only one of a single-image
 * file (whatever its number), else the one numbered `image`. NULL when a multi-image file has
 * no such image. */
struct img_file_entry *img_file_select(struct img_file *f, uint32_t image);
