/* imgfile.c — Intel HEX and dfu_application.zip writers for tests (see imgfile.h). */
#include "lib/imgfile.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <zip.h>

void tl_write_bytes(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void put_record(FILE *f, uint8_t type, uint16_t addr, const uint8_t *d, size_t n,
		       const char *eol)
{
	unsigned sum = (unsigned)n + (addr >> 8) + (addr & 0xff) + type;

	fprintf(f, ":%02zX%04X%02X", n, addr, type);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%02X", d[i]);
		sum += d[i];
	}
	fprintf(f, "%02X%s", (0x100 - (sum & 0xff)) & 0xff, eol);
}

void tl_write_hex(const char *path, const uint8_t *p, size_t len, uint32_t addr, const char *eol)
{
	FILE *f = fopen(path, "w");
	uint32_t upper = UINT32_MAX;

	assert_non_null(f);
	for (size_t off = 0; off < len;) {
		uint32_t a = addr + (uint32_t)off;
		size_t n = len - off < 16 ? len - off : 16;

		if (n > 0x10000 - (a & 0xffff))
			n = 0x10000 - (a & 0xffff);
		if (a >> 16 != upper) {
			uint8_t u[2] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16)};

			upper = a >> 16;
			put_record(f, 0x04, 0, u, 2, eol);
		}
		put_record(f, 0x00, (uint16_t)a, p + off, n, eol);
		off += n;
	}
	put_record(f, 0x01, 0, NULL, 0, eol);
	assert_int_equal(fclose(f), 0);
}

void tl_write_zip(const char *path, const struct tl_member *m, size_t n, bool store)
{
	int err = 0;
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);

	assert_non_null(z);
	for (size_t i = 0; i < n; i++) {
		zip_source_t *s = zip_source_buffer(z, m[i].p, m[i].len, 0);
		zip_int64_t idx;

		assert_non_null(s);
		idx = zip_file_add(z, m[i].name, s, ZIP_FL_ENC_UTF_8);
		assert_true(idx >= 0);
		assert_int_equal(zip_set_file_compression(z, (zip_uint64_t)idx,
							  store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 0),
				 0);
	}
	assert_int_equal(zip_close(z), 0);
}

const char *tl_manifest_one(const char *file, size_t size)
{
	static char m[1024];

	snprintf(m, sizeof(m),
		 "{\n    \"format-version\": 0,\n    \"time\": 1700000000,\n    \"files\": [\n"
		 "        {\n            \"type\": \"application\",\n"
		 "            \"board\": \"nrf52840dk_nrf52840\",\n"
		 "            \"soc\": \"nRF52840_QIAA\",\n            \"load_address\": 49152,\n"
		 "            \"image_index\": \"0\",\n            \"slot_index_primary\": \"1\",\n"
		 "            \"slot_index_secondary\": \"2\",\n"
		 "            \"version_MCUBOOT\": \"1.4.2+7\",\n            \"size\": %zu,\n"
		 "            \"file\": \"%s\",\n            \"modtime\": 1700000000\n        }\n"
		 "    ],\n    \"name\": \"sensor\"\n}\n",
		 size, file);
	return m;
}
