/* fuzz-image-file.c — an image file in any of the formats otactl and the fleet accept
 * (src/image/format.c, img_load_any): a signed MCUboot binary, the same as Intel HEX, or an nRF
 * Connect SDK dfu_application.zip read with libzip (src/image/zip.c) with its manifest.json
 * (src/image/manifest.c). Input: the file's bytes, written to a file and loaded from there.
 * Invariants: a load gives 1..16 images in ascending, distinct image numbers, each of which
 * img_parse() accepts as it is, or -EBADMSG with a diagnosis that formats without truncation
 * (for a HEX file, on one of its lines), or -EFBIG; a binary's image is the file itself, a HEX
 * file's the bytes img_ihex_decode() gives; only a zip numbers its images; img_file_find and
 * img_file_select find what the file holds. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "image/image-internal.h"
#include "otad/image.h"

static char dir[64], path[96];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(dir, sizeof(dir), "/tmp/otad-fuzz-imgfile-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/image", dir);
	FUZZ_CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
	return 0;
}

static void cleanup(void) __attribute__((destructor));
static void cleanup(void)
{
	if (!dir[0])
		return;
	unlink(path);
	rmdir(dir);
}

static unsigned line_count(const uint8_t *p, size_t n)
{
	unsigned lines = 1;

	for (size_t i = 0; i < n; i++)
		lines += p[i] == '\n';
	return lines;
}

static void check_diag(const struct img_diag *d, const uint8_t *data, size_t size)
{
	char buf[IMG_DIAG_MAX];

	FUZZ_CHECK(img_strerror(d->err));
	FUZZ_CHECK(img_diag_format(d, buf, sizeof(buf)) == buf);
	FUZZ_CHECK(strlen(buf) + 1 < sizeof(buf));
	if (d->err == IMG_ERR_IHEX || d->err == IMG_ERR_ZIP || d->err == IMG_ERR_MANIFEST)
		FUZZ_CHECK(d->text[0]);
	if (d->err == IMG_ERR_IHEX)
		FUZZ_CHECK(d->line >= 1 && d->line <= line_count(data, size) && !d->where[0]);
	if (d->err == IMG_ERR_MANIFEST)
		FUZZ_CHECK(strcmp(d->where, "manifest.json") == 0);
}

static void check_file(struct img_file *f, const uint8_t *data, size_t size)
{
	struct img_info info;
	struct img_diag dd;
	uint8_t *hex = NULL;
	size_t hex_len = 0;
	uint32_t addr = 0;

	FUZZ_CHECK(f->n >= 1 && f->n <= IMG_MANIFEST_MAX_ENTRIES && f->entries);
	FUZZ_CHECK(f->numbered == (f->format == IMG_FORMAT_ZIP));
	FUZZ_CHECK(img_format_name(f->format)[0] != '?');
	for (size_t i = 0; i < f->n; i++) {
		const struct img_file_entry *e = &f->entries[i];

		FUZZ_CHECK(e->img && img_parse(e->img->data, e->img->len, &info, NULL) == 0);
		FUZZ_CHECK(info.total_len == e->img->info.total_len);
		FUZZ_CHECK(i == 0 || f->entries[i - 1].image < e->image);
		FUZZ_CHECK(e->image <= IMG_IMAGE_NUM_MAX);
		FUZZ_CHECK(img_file_find(f, e->image) == e);
		FUZZ_CHECK(f->n > 1 || img_file_select(f, 99) == e);
		FUZZ_CHECK(img_file_select(f, e->image) == e);
		FUZZ_CHECK((f->format == IMG_FORMAT_ZIP) == (e->name[0] != 0));
	}
	if (f->format == IMG_FORMAT_BIN)
		FUZZ_CHECK(f->entries[0].img->len == size &&
			   memcmp(f->entries[0].img->data, data, size) == 0);
	if (f->format == IMG_FORMAT_IHEX) {
		FUZZ_CHECK(img_ihex_decode((const char *)data, size, &hex, &hex_len, &addr, &dd) ==
			   0);
		FUZZ_CHECK(hex_len == f->entries[0].img->len && addr == f->entries[0].addr &&
			   memcmp(hex, f->entries[0].img->data, hex_len) == 0);
		free(hex);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_file *f = NULL;
	struct img_diag d;
	int fd, r;

	if (!dir[0])
		LLVMFuzzerInitialize(NULL, NULL);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size);
	close(fd);
	r = img_load_any(path, NULL, 0, &f, &d);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EFBIG || r == -ENOMEM);
	if (r == -EBADMSG)
		check_diag(&d, data, size);
	if (r == 0)
		check_file(f, data, size);
	img_file_free(f);
	return 0;
}
