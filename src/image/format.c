/* format.c — an image file in whichever form a build hands out: a signed MCUboot binary, the
 * same as Intel HEX, or an nRF Connect SDK dfu_application.zip of one or more images. The format
 * is told by content, not by the file name. */
#include "image/image-internal.h"
#include "util/bytes.h"
#include "util/fileio.h"
#include "util/macro.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Intel HEX is ~2.8 times the bytes it holds; a zip is no larger than its members. */
#define MAX_INPUT_SIZE (3 * (size_t)IMG_MAX_FILE_SIZE)

const char *img_format_name(enum img_format f)
{
	switch (f) {
	case IMG_FORMAT_BIN:
		return "MCUboot binary";
	case IMG_FORMAT_IHEX:
		return "Intel HEX";
	case IMG_FORMAT_ZIP:
		return "zip";
	}
	return "?";
}

struct img_file *img_file_free(struct img_file *f)
{
	if (!f)
		return NULL;
	for (size_t i = 0; i < f->n; i++)
		img_free(f->entries[i].img);
	free(f->entries);
	free(f);
	return NULL;
}

DEFINE_FREE_CLEANUP(struct img_file, img_file_free)

const struct img_file_entry *img_file_find(const struct img_file *f, uint32_t image)
{
	for (size_t i = 0; f && i < f->n; i++)
		if (f->entries[i].image == image)
			return &f->entries[i];
	return NULL;
}

struct img_file_entry *img_file_select(struct img_file *f, uint32_t image)
{
	if (!f || f->n == 0)
		return NULL;
	if (f->n == 1)
		return &f->entries[0];
	return (struct img_file_entry *)img_file_find(f, image);
}

static enum img_format detect(const uint8_t *buf, size_t len)
{
	size_t i = 0;

	if (len >= 4 && get_le32(buf) == IMG_MAGIC)
		return IMG_FORMAT_BIN;
	/* A local file header, or the end of central directory of an empty archive. */
	if (len >= 4 && (memcmp(buf, "PK\3\4", 4) == 0 || memcmp(buf, "PK\5\6", 4) == 0))
		return IMG_FORMAT_ZIP;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i < len && buf[i] == ':')
		return IMG_FORMAT_IHEX;
	return IMG_FORMAT_BIN; /* img_parse() says what is wrong with it */
}

static int load_single(uint8_t *buf, size_t len, enum img_format fmt, const char *key_pem,
		       size_t key_pem_len, struct img_file *f, struct img_diag *d)
{
	uint8_t *data = buf;
	uint32_t addr = 0;
	int r;

	if (fmt == IMG_FORMAT_IHEX) {
		r = img_ihex_decode((const char *)buf, len, &data, &len, &addr, d);
		free(buf);
		if (r < 0)
			return r;
	} else if (len > IMG_MAX_FILE_SIZE) {
		free(buf);
		return -EFBIG;
	}
	f->entries = calloc(1, sizeof(*f->entries));
	if (!f->entries) {
		free(data);
		return -ENOMEM;
	}
	f->format = fmt;
	f->entries[0].addr = addr;
	r = img_from_buffer(data, len, key_pem, key_pem_len, &f->entries[0].img, d);
	if (r < 0)
		return r;
	f->n = 1;
	return 0;
}

int img_load_any(const char *path, const char *key_pem, size_t key_pem_len, struct img_file **ret,
		 struct img_diag *diag)
{
	_cleanup_(img_file_freep) struct img_file *f = NULL;
	struct img_diag dummy;
	struct img_diag *d = diag ? diag : &dummy;
	uint8_t *buf;
	size_t len;
	int r;

	memset(d, 0, sizeof(*d));
	if (!path || !ret)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	r = read_full_file(path, MAX_INPUT_SIZE, &buf, &len);
	if (r < 0)
		return r;
	if (detect(buf, len) == IMG_FORMAT_ZIP) {
		r = img_zip_load(buf, len, key_pem, key_pem_len, f, d);
		free(buf);
	} else {
		r = load_single(buf, len, detect(buf, len), key_pem, key_pem_len, f, d);
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(f);
	return 0;
}
