/* zip.c — an nRF Connect SDK dfu_application.zip: manifest.json names the member holding each
 * MCUboot image and its image number (manifest.c). The archive is read with libzip, from memory
 * (the file is read once), with its consistency checks on and every member's CRC checked. */
#include "image/image-internal.h"
#include "util/macro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#define MANIFEST_NAME	  "manifest.json"
#define MANIFEST_MAX_SIZE (1024 * 1024)

static inline void zip_discardp(zip_t **z)
{
	if (*z)
		zip_discard(*z);
}

static int zip_fail(struct img_diag *d, const char *what, zip_error_t *ze)
{
	return img_diag_set(d, IMG_ERR_ZIP, 0, "%s: %s", what, zip_error_strerror(ze));
}

/* The member at index, whole and CRC-checked (libzip checks when the read reaches its end). */
static int read_member(zip_t *z, zip_int64_t index, const char *name, size_t max, uint8_t **ret,
		       size_t *ret_len, struct img_diag *d)
{
	_cleanup_free_ uint8_t *buf = NULL;
	zip_stat_t st;
	zip_file_t *zf;
	size_t size, got = 0;
	zip_int64_t n;

	if (zip_stat_index(z, (zip_uint64_t)index, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
		return zip_fail(d, name, zip_get_error(z));
	if (st.size > max)
		return img_diag_set(d, IMG_ERR_ZIP, 0, "%s: %llu bytes, more than the %zu allowed",
				    name, (unsigned long long)st.size, max);
	size = (size_t)st.size;
	buf = malloc(size + 1);
	if (!buf)
		return -ENOMEM;
	zf = zip_fopen_index(z, (zip_uint64_t)index, 0);
	if (!zf)
		return zip_fail(d, name, zip_get_error(z));
	do {
		n = zip_fread(zf, buf + got, size + 1 - got);
		if (n > 0)
			got += (size_t)n;
	} while (n > 0 && got <= size);
	if (n < 0) {
		int r = zip_fail(d, name, zip_file_get_error(zf));

		zip_fclose(zf);
		return r;
	}
	zip_fclose(zf);
	if (got != size)
		return img_diag_set(d, IMG_ERR_ZIP, 0, "%s: %zu bytes where the directory says %zu",
				    name, got, size);
	buf[size] = 0;
	*ret = TAKE_PTR(buf);
	*ret_len = size;
	return 0;
}

static int read_manifest(zip_t *z, struct img_manifest_entry **ret, size_t *ret_n,
			 struct img_diag *d)
{
	_cleanup_free_ uint8_t *text = NULL;
	zip_int64_t index = zip_name_locate(z, MANIFEST_NAME, 0);
	size_t len = 0;
	int r;

	if (index < 0)
		return img_diag_set(d, IMG_ERR_ZIP, 0,
				    "no " MANIFEST_NAME " (an nRF Connect SDK dfu_application.zip "
				    "has one naming its images)");
	r = read_member(z, index, MANIFEST_NAME, MANIFEST_MAX_SIZE, &text, &len, d);
	if (r < 0)
		return r;
	r = img_manifest_parse((const char *)text, len, ret, ret_n, d);
	if (r == -EBADMSG)
		snprintf(d->where, sizeof(d->where), "%s", MANIFEST_NAME);
	return r;
}

static int load_entry(zip_t *z, const struct img_manifest_entry *m, const char *key, size_t key_len,
		      struct img_file_entry *e, struct img_diag *d)
{
	zip_int64_t index = zip_name_locate(z, m->file, 0);
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if (index < 0) {
		snprintf(d->where, sizeof(d->where), "%s", MANIFEST_NAME);
		return img_diag_set(d, IMG_ERR_MANIFEST, m->line,
				    "image %u is \"%s\", which the zip does not contain", m->image,
				    m->file);
	}
	r = read_member(z, index, m->file, IMG_MAX_FILE_SIZE, &data, &len, d);
	if (r < 0)
		return r;
	if (m->has_size && m->size != len) {
		free(data);
		snprintf(d->where, sizeof(d->where), "%s", MANIFEST_NAME);
		return img_diag_set(d, IMG_ERR_MANIFEST, m->line,
				    "size of %s is %llu, the zip holds %zu bytes", m->file,
				    (unsigned long long)m->size, len);
	}
	r = img_from_buffer(data, len, key, key_len, &e->img, d);
	if (r == -EBADMSG)
		snprintf(d->where, sizeof(d->where), "%s", m->file);
	if (r < 0)
		return r;
	e->image = m->image;
	snprintf(e->name, sizeof(e->name), "%s", m->file);
	return 0;
}

static int open_archive(const uint8_t *buf, size_t len, zip_t **ret, struct img_diag *d)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *z;
	int r;

	zip_error_init(&ze);
	src = zip_source_buffer_create(buf, len, 0, &ze);
	if (!src) {
		zip_error_fini(&ze);
		return -ENOMEM;
	}
	z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!z) {
		zip_source_free(src);
		r = zip_error_code_zip(&ze) == ZIP_ER_MEMORY
			    ? -ENOMEM
			    : zip_fail(d, "not a valid zip archive", &ze);
		zip_error_fini(&ze);
		return r;
	}
	zip_error_fini(&ze);
	*ret = z;
	return 0;
}

int img_zip_load(const uint8_t *buf, size_t len, const char *key_pem, size_t key_pem_len,
		 struct img_file *f, struct img_diag *d)
{
	_cleanup_(zip_discardp) zip_t *z = NULL;
	_cleanup_free_ struct img_manifest_entry *m = NULL;
	size_t n = 0;
	int r;

	r = open_archive(buf, len, &z, d);
	if (r < 0)
		return r;
	r = read_manifest(z, &m, &n, d);
	if (r < 0)
		return r;
	if (n == 0) /* img_manifest_parse() never returns that */
		return img_diag_set(d, IMG_ERR_MANIFEST, 0, "no images");
	f->entries = calloc(n, sizeof(*f->entries));
	if (!f->entries)
		return -ENOMEM;
	f->format = IMG_FORMAT_ZIP;
	f->numbered = true;
	for (size_t i = 0; i < n; i++) {
		r = load_entry(z, &m[i], key_pem, key_pem_len, &f->entries[i], d);
		if (r < 0)
			return r;
		f->n++;
	}
	return 0;
}
