/* test-image-format.c — image files in every input format: a signed image written as .bin,
 * Intel HEX and a dfu_application.zip (written here with libzip) loads to the same bytes and
 * hashes; multi-image manifests map to image numbers; every malformed hex, zip and manifest is
 * rejected with a diagnostic naming what and where. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/imgfile.h"
#include "lib/testlib.h"
#include "image/image-internal.h"
#include "otad/image.h"
#include "util/fileio.h"

struct buf {
	uint8_t *p;
	size_t len;
};

static struct buf fixture(const char *rel)
{
	char path[512];
	struct buf b;

	snprintf(path, sizeof(path), "%s/tests/data/%s", OTAD_SOURCE_DIR, rel);
	assert_int_equal(read_full_file(path, 1 << 20, &b.p, &b.len), 0);
	return b;
}

/* A signed image of size payload bytes (EC P-256, the test key). */
static struct buf signed_image(size_t payload, uint32_t seed)
{
	struct buf key = fixture("keys/ec-p256.pem"), b;
	struct img_build_opts o = {
		.version = {1, 4, 2, 7},
		.payload_size = payload,
		.seed = seed,
		.key_pem = (const char *)key.p,
		.key_pem_len = key.len,
	};

	assert_int_equal(img_build(&o, &b.p, &b.len), 0);
	free(key.p);
	return b;
}

static struct img_file *load_ok(const char *path, const char *key)
{
	struct img_file *f = NULL;
	struct img_diag d;
	char line[IMG_DIAG_MAX];
	struct buf k = {0};
	int r;

	if (key)
		k = fixture(key);
	r = img_load_any(path, (const char *)k.p, k.len, &f, &d);
	free(k.p);
	if (r < 0)
		fail_msg("%s: %d %s", path, r,
			 r == -EBADMSG ? img_diag_format(&d, line, sizeof(line)) : strerror(-r));
	return f;
}

/* Loads path, expects -EBADMSG with err and a diagnostic containing want. */
static void load_bad(const char *path, enum img_err err, const char *want)
{
	struct img_file *f = NULL;
	struct img_diag d;
	char line[IMG_DIAG_MAX];
	int r = img_load_any(path, NULL, 0, &f, &d);

	assert_null(f);
	if (r != -EBADMSG)
		fail_msg("%s: expected -EBADMSG, got %d", path, r);
	img_diag_format(&d, line, sizeof(line));
	if (d.err != err || !strstr(line, want))
		fail_msg("%s: got %s \"%s\", want %s with \"%s\"", path, img_strerror(d.err), line,
			 img_strerror(err), want);
}

static void expect_same(const struct img_file *f, enum img_format fmt, const struct buf *b)
{
	struct img_file *ref = NULL;
	const struct img *a;
	char path[512];

	assert_int_equal(f->format, fmt);
	assert_int_equal(f->n, 1);
	a = f->entries[0].img;
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->p, b->len);
	/* The same image hash (the SHA-256 TLV a device reports) and upload "sha" as the .bin. */
	snprintf(path, sizeof(path), "%s", tl_path("ref.bin"));
	tl_write_bytes(path, b->p, b->len);
	ref = load_ok(path, NULL);
	assert_memory_equal(a->info.hash, ref->entries[0].img->info.hash, 32);
	assert_memory_equal(a->file_sha, ref->entries[0].img->file_sha, 32);
	assert_int_equal(a->info.img_size, ref->entries[0].img->info.img_size);
	img_file_free(ref);
}

static void round_trip(const struct buf *b, const char *key)
{
	const char *bin = tl_path("app.bin"), *hex = tl_path("app.hex");
	const char *crlf = tl_path("app-crlf.hex"), *zip = tl_path("app.zip");
	const char *man = tl_manifest_one("zephyr.signed.bin", b->len);
	struct tl_member m[] = {{"manifest.json", man, strlen(man)},
				{"zephyr.signed.bin", b->p, b->len}};
	struct img_file *f;

	tl_write_bytes(bin, b->p, b->len);
	f = load_ok(bin, key);
	expect_same(f, IMG_FORMAT_BIN, b);
	assert_false(f->numbered);
	img_file_free(f);

	tl_write_hex(hex, b->p, b->len, 0xfc00,
		     "\n"); /* crosses 0x10000: an extended linear address record */
	f = load_ok(hex, key);
	expect_same(f, IMG_FORMAT_IHEX, b);
	assert_int_equal(f->entries[0].addr, 0xfc00);
	img_file_free(f);
	tl_write_hex(crlf, b->p, b->len, 0xc000, "\r\n");
	f = load_ok(crlf, key);
	expect_same(f, IMG_FORMAT_IHEX, b);
	img_file_free(f);

	tl_write_zip(zip, m, 2, false);
	f = load_ok(zip, key);
	expect_same(f, IMG_FORMAT_ZIP, b);
	assert_true(f->numbered);
	assert_int_equal(f->entries[0].image, 0);
	assert_string_equal(f->entries[0].name, "zephyr.signed.bin");
	img_file_free(f);
}

static void test_formats_round_trip_to_the_same_image(void **state)
{
	struct buf b = signed_image(70000, 3), fx = fixture("image/imgtool-ecdsa-p256.bin");

	round_trip(&b, "keys/ec-p256.pem");
	round_trip(&fx, "keys/ec-p256.pem"); /* imgtool's own signed image */
	free(b.p);
	free(fx.p);
}

static void test_zip_maps_manifest_entries_to_image_numbers(void **state)
{
	struct buf app = signed_image(4000, 1), net = signed_image(3000, 2);
	static const char man[] = "{\"format-version\": 1, \"files\": ["
				  "{\"type\": \"application\", \"image_index\": 1, \"file\": "
				  "\"net_core_app_update.bin\"},"
				  "{\"type\": \"application\", \"image_index\": \"0\", \"file\": "
				  "\"app_update.bin\"}]}";
	struct tl_member m[] = {{"manifest.json", man, strlen(man)},
				{"app_update.bin", app.p, app.len},
				{"net_core_app_update.bin", net.p, net.len}};
	const char *zip = tl_path("multi.zip");
	struct img_file *f;

	tl_write_zip(zip, m, 3, false);
	f = load_ok(zip, NULL);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->entries[0].image, 0); /* ascending image numbers */
	assert_string_equal(f->entries[0].name, "app_update.bin");
	assert_int_equal(f->entries[0].img->len, app.len);
	assert_int_equal(f->entries[1].image, 1);
	assert_string_equal(f->entries[1].name, "net_core_app_update.bin");
	assert_memory_equal(f->entries[1].img->data, net.p, net.len);
	assert_ptr_equal(img_file_find(f, 1), &f->entries[1]);
	assert_null(img_file_find(f, 2));
	/* An update of image N takes image N of a multi-image file, and nothing else. */
	assert_ptr_equal(img_file_select(f, 0), &f->entries[0]);
	assert_ptr_equal(img_file_select(f, 1), &f->entries[1]);
	assert_null(img_file_select(f, 3));
	img_file_free(f);
	free(app.p);
	free(net.p);
}

static void hex_case(const char *text, const char *want)
{
	const char *path = tl_path("bad.hex");

	tl_write_bytes(path, text, strlen(text));
	load_bad(path, IMG_ERR_IHEX, want);
}

static void test_hex_malformed_names_line_and_cause(void **state)
{
	/* Each case breaks one rule; the good records around it are valid. */
	hex_case(":0400000001020304F2\n:0400040005060708DF\n:00000001FF\n",
		 "line 2: bad checksum 0xdf (expected 0xde)");
	hex_case(":0400000001020304F2\n:00000006FA\n:00000001FF\n",
		 "line 2: unknown record type 06");
	hex_case(":0400000001020304F2\n:0400040005060G08DE\n:00000001FF\n",
		 "line 2: 'G' at column 15 is not a hex digit");
	hex_case(":0500000001020304F2\n:00000001FF\n",
		 "line 1: byte count 5 does not match the record's 4 data bytes");
	hex_case(":0400000001020304F2\n0400040005060708DE\n:00000001FF\n",
		 "line 2: a record starts with ':', not '0'");
	hex_case(":0400000001020304F2\n:040004000506070\n:00000001FF\n",
		 "line 2: record of 16 characters: too short or an odd number");
	hex_case(":0400000001020304F2\n:0400040005060708DE\n", "line 2: no end-of-file record");
	hex_case(":0400000001020304F2\n:00000001FF\n:0400040005060708DE\n",
		 "line 3: record after the end-of-file record of line 2");
	hex_case(":0100000100FE\n", "line 1: record type 01 needs 0 data bytes, not 1");
	hex_case(":03000004000102F6\n:00000001FF\n", "line 1: record type 04 needs 2 data bytes");
	hex_case(":00000001FF\n", "line 1: no data records");
	hex_case(":0400000001020304F2\n:0400100005060708D2\n:00000001FF\n",
		 "line 2: gap of 12 bytes before 0x00000010");
	hex_case(":0400000001020304F2\n:0400020005060708E0\n:00000001FF\n",
		 "line 2: data at 0x00000002 overlaps line 1's (0x00000000..0x00000003)");
	hex_case(":02FFFF000102FD\n:00000001FF\n",
		 "line 1: data record at 0xffff crosses the end of its 64 KiB segment");
	/* The same record twice: an overlap, found wherever the duplicate sits. */
	hex_case(":0400040005060708DE\n:0400000001020304F2\n:0400040005060708DE\n:00000001FF\n",
		 "line 3: data at 0x00000004 overlaps line 1's");
}

/* Segment addressing (02), start address records (03/05), lowercase digits, blank lines and
 * CRLF are all accepted; the bytes land where the records say. */
static void test_hex_addressing_records(void **state)
{
	static const char text[] = ":020000021000ec\r\n\r\n:0400000001020304f2\r\n"
				   ":0400040005060708de\r\n:040000050000C00037\r\n:00000001FF\r\n";
	static const uint8_t want[] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct img_diag d = {0};
	uint8_t *out = NULL;
	size_t len = 0;
	uint32_t addr = 0;
	const char *path = tl_path("seg.hex");

	assert_int_equal(img_ihex_decode(text, strlen(text), &out, &len, &addr, &d), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(addr, 0x10000); /* segment 0x1000 << 4 */
	free(out);
	/* Through img_load_any the bytes are no MCUboot image, which is what it says next. */
	tl_write_bytes(path, text, strlen(text));
	load_bad(path, IMG_ERR_TRUNCATED_HEADER, "file has 8 bytes");
}

static void zip_case(const struct tl_member *m, size_t n, enum img_err err, const char *want)
{
	const char *path = tl_path("bad.zip");

	tl_write_zip(path, m, n, false);
	load_bad(path, err, want);
}

static void test_zip_and_manifest_malformed_name_the_cause(void **state)
{
	struct buf app = signed_image(2000, 5);
	static const char notjson[] = "{\"files\": [\n  {\"file\": \"a.bin\",}\n]}";
	static const char idx_obj[] =
		"{\"files\": [\n{\"file\": \"a.bin\",\n \"image_index\": {}}]}";
	static const char idx_str[] =
		"{\"files\": [{\"file\": \"a.bin\", \"image_index\": \"x\"}]}";
	static const char idx_big[] = "{\"files\": [{\"file\": \"a.bin\", \"image_index\": 16}]}";
	static const char files_str[] = "{\n\"files\": \"a.bin\"}";
	static const char no_files[] = "{\"format-version\": 0}";
	static const char fv_str[] = "{\"format-version\": \"0\", \"files\": []}";
	static const char empty[] = "{\"files\": []}";
	static const char top_arr[] = "[]";
	static const char entry_num[] = "{\"files\": [7]}";
	static const char entry_null[] = "{\n\"files\": [null]}"; /* the line of the array */
	static const char no_file[] = "{\"files\": [{\"image_index\": 0}]}";
	static const char file_num[] = "{\"files\": [{\"file\": 5}]}";
	static const char type_num[] = "{\"files\": [{\"file\": \"a.bin\", \"type\": 1}]}";
	static const char size_str[] = "{\"files\": [{\"file\": \"a.bin\", \"size\": \"9\"}]}";
	static const char missing[] = "{\"files\": [\n{\"file\": \"b.bin\"}]}";
	static const char dup[] = "{\"files\": [{\"file\": \"a.bin\", \"image_index\": 0},\n"
				  "{\"file\": \"c.bin\", \"image_index\": \"0\"}]}";
	static const char noidx[] = "{\"files\": [{\"file\": \"a.bin\", \"image_index\": 0},\n"
				    "{\"file\": \"c.bin\"}]}";
	char sized[128];
	struct tl_member m[3] = {
		{"manifest.json", NULL, 0}, {"a.bin", app.p, app.len}, {"c.bin", app.p, app.len}};

#define CASE(text, err, want)                                                                      \
	do {                                                                                       \
		m[0].p = (text);                                                                   \
		m[0].len = strlen(text);                                                           \
		zip_case(m, 3, (err), (want));                                                     \
	} while (0)
	CASE(notjson, IMG_ERR_MANIFEST,
	     "manifest.json line 2: not valid JSON: unexpected '}' (column 20)");
	CASE(idx_obj, IMG_ERR_MANIFEST,
	     "manifest.json line 3: files[0].image_index: expected a number or a decimal string, "
	     "got an object");
	CASE(idx_str, IMG_ERR_MANIFEST, "files[0].image_index: \"x\" is not an image number");
	CASE(idx_big, IMG_ERR_MANIFEST, "image 16 is out of range (0..15)");
	CASE(files_str, IMG_ERR_MANIFEST, "line 2: files: expected an array, got a string");
	CASE(no_files, IMG_ERR_MANIFEST, "no \"files\" array");
	CASE(fv_str, IMG_ERR_MANIFEST, "format-version: expected a number, got a string");
	CASE(empty, IMG_ERR_MANIFEST, "files: 0 entries");
	CASE(top_arr, IMG_ERR_MANIFEST, "expected an object at the top, got an array");
	CASE(entry_num, IMG_ERR_MANIFEST, "files[0]: expected an object, got a number");
	CASE(entry_null, IMG_ERR_MANIFEST,
	     "manifest.json line 2: files[0]: expected an object, got null");
	CASE(no_file, IMG_ERR_MANIFEST, "files[0] has no \"file\"");
	CASE(file_num, IMG_ERR_MANIFEST, "files[0].file: expected a string, got a number");
	CASE(type_num, IMG_ERR_MANIFEST, "files[0].type: expected a string, got a number");
	CASE(size_str, IMG_ERR_MANIFEST, "files[0].size: expected a non-negative integer");
	CASE(missing, IMG_ERR_MANIFEST,
	     "manifest.json line 2: image 0 is \"b.bin\", which the zip does not contain");
	CASE(dup, IMG_ERR_MANIFEST, "files[0] (a.bin) and files[1] (c.bin) are both image 0");
	CASE(noidx, IMG_ERR_MANIFEST, "files[1] (c.bin) has no \"image_index\"");
	snprintf(sized, sizeof(sized), "{\"files\": [{\"file\": \"a.bin\", \"size\": %zu}]}",
		 app.len + 1);
	CASE(sized, IMG_ERR_MANIFEST, "size of a.bin is");
	/* A member that is not an MCUboot image: named, with the image layer's reason. */
	m[1].p = "not an image at all, just text";
	m[1].len = strlen(m[1].p);
	CASE("{\"files\": [{\"file\": \"a.bin\"}]}", IMG_ERR_TRUNCATED_HEADER, "a.bin: truncated");
	m[1].p = "\x3d\xb8\xf3\x97 this has the wrong magic, and enough bytes for a header";
	m[1].len = strlen(m[1].p);
	CASE("{\"files\": [{\"file\": \"a.bin\"}]}", IMG_ERR_BAD_MAGIC, "a.bin: bad magic");
#undef CASE
	/* No manifest at all. */
	zip_case(&m[1], 1, IMG_ERR_ZIP, "no manifest.json");
	free(app.p);
}

/* Damage to the archive itself: a flipped byte in a stored member (its CRC), a truncated file,
 * and a signature with the wrong key, each named. */
static void test_zip_damage_is_detected(void **state)
{
	struct buf app = signed_image(6000, 9), z, key = fixture("keys/ec-p256-other.pem");
	const char *man = tl_manifest_one("app.bin", app.len), *path = tl_path("damaged.zip");
	struct tl_member m[] = {{"manifest.json", man, strlen(man)}, {"app.bin", app.p, app.len}};
	struct img_file *f = NULL;
	struct img_diag d;
	char line[IMG_DIAG_MAX];
	uint8_t *at;

	tl_write_zip(path, m, 2, true);
	assert_int_equal(read_full_file(path, 1 << 20, &z.p, &z.len), 0);
	at = memmem(z.p, z.len, app.p + 0x200, 64); /* the payload, stored as is */
	assert_non_null(at);
	at[10] ^= 0x01;
	tl_write_bytes(path, z.p, z.len);
	load_bad(path, IMG_ERR_ZIP, "app.bin: CRC error");

	tl_write_bytes(path, z.p, z.len / 2);
	load_bad(path, IMG_ERR_ZIP, "not a valid zip archive");

	tl_write_zip(path, m, 2, false);
	assert_int_equal(img_load_any(path, (const char *)key.p, key.len, &f, &d), -EBADMSG);
	assert_null(f);
	assert_int_equal(d.err, IMG_ERR_KEY_MISMATCH);
	assert_non_null(strstr(img_diag_format(&d, line, sizeof(line)), "app.bin: key mismatch"));
	free(z.p);
	free(key.p);
	free(app.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats_round_trip_to_the_same_image),
		cmocka_unit_test(test_zip_maps_manifest_entries_to_image_numbers),
		cmocka_unit_test(test_hex_malformed_names_line_and_cause),
		cmocka_unit_test(test_hex_addressing_records),
		cmocka_unit_test(test_zip_and_manifest_malformed_name_the_cause),
		cmocka_unit_test(test_zip_damage_is_detected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
