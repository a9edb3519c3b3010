/* imgfile.h — writing an image in the other input formats, for tests: Intel HEX records and a
 * dfu_application.zip (written with libzip) with the manifest the nRF Connect SDK writes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes len bytes as Intel HEX: 16-byte data records from addr, an extended linear address
 * record (04) whenever the upper 16 bits change, the end-of-file record; lines end with eol. */
void tl_write_hex(const char *path, const uint8_t *p, size_t len, uint32_t addr, const char *eol);

struct tl_member {
	const char *name;
	const void *p;
	size_t len;
};
/* A zip of the members; store: uncompressed (a test can find and flip their bytes), else
 * deflated. Fails the test on error. */
void tl_write_zip(const char *path, const struct tl_member *m, size_t n, bool store);

/* The manifest.json generate_zip.py writes for one application image (static buffer). */
const char *tl_manifest_one(const char *file, size_t size);

void tl_write_bytes(const char *path, const void *p, size_t len);
