/* manifest.c — the manifest.json of an nRF Connect SDK dfu_application.zip: which member holds
 * which MCUboot image. Written by the SDK's scripts/bootloader/generate_zip.py:
 *   {"format-version": 0, "time": ..., "name": ...,
 *    "files": [{"type": "application", "board": ..., "soc": ..., "load_address": 49152,
 *               "image_index": "0", "slot_index_primary": "1", "slot_index_secondary": "2",
 *               "version_MCUBOOT": "1.2.3+0", "size": 123456, "file": "app.bin",
 *               "modtime": ...}, ...]}
 * generate_zip.py keeps values as the build passed them (strings) unless they start with "0x",
 * so "image_index" is usually the string "0"; other tools write a number: both are accepted.
 * image_index is the MCUboot image (SMP "image" number): 0 the application, 1 e.g. the
 * nRF5340 network core. Fields we do not use are only checked for being valid JSON. */
#include "image/image-internal.h"
#include "util/json-reader.h"
#include "util/macro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wrong_type(struct img_diag *d, const struct jr_value *v, size_t i, const char *field,
		      const char *want)
{
	return img_diag_set(d, IMG_ERR_MANIFEST, jr_line(v), "files[%zu].%s: expected %s, got %s",
			    i, field, want, jr_type_name(jr_type(v)));
}

/* "image_index": a non-negative number or a decimal string, 0..IMG_IMAGE_NUM_MAX. */
static int image_number(const struct jr_value *v, size_t i, uint32_t *ret, struct img_diag *d)
{
	const char *s = jr_str(v);
	uint64_t u = 0;

	if (s) {
		if (!*s || strlen(s) > 3 || strspn(s, "0123456789") != strlen(s))
			return img_diag_set(
				d, IMG_ERR_MANIFEST, jr_line(v),
				"files[%zu].image_index: \"%.20s\" is not an image number", i, s);
		u = strtoull(s, NULL, 10);
	} else if (jr_u64(v, &u) < 0) {
		return wrong_type(d, v, i, "image_index", "a number or a decimal string");
	}
	if (u > IMG_IMAGE_NUM_MAX)
		return img_diag_set(d, IMG_ERR_MANIFEST, jr_line(v),
				    "files[%zu].image_index: image %llu is out of range (0..%d)", i,
				    (unsigned long long)u, IMG_IMAGE_NUM_MAX);
	*ret = (uint32_t)u;
	return 0;
}

/* Optional members we do not use must still have the type the SDK writes. */
static int check_optional(const struct jr_value *f, size_t i, struct img_diag *d)
{
	static const char *const strings[] = {"type", "board", "soc", "version_MCUBOOT"};
	const struct jr_value *v;

	for (size_t k = 0; k < ARRAY_SIZE(strings); k++) {
		v = jr_get(f, strings[k]);
		if (v && jr_type(v) != JR_STRING)
			return wrong_type(d, v, i, strings[k], "a string");
	}
	return 0;
}

static int parse_entry(const struct jr_value *f, size_t i, size_t n, struct img_manifest_entry *e,
		       struct img_diag *d)
{
	const struct jr_value *file = jr_get(f, "file"), *idx = jr_get(f, "image_index");
	const struct jr_value *size = jr_get(f, "size");
	int r;

	if (jr_type(f) != JR_OBJECT)
		return img_diag_set(d, IMG_ERR_MANIFEST, jr_line(f),
				    "files[%zu]: expected an object, got %s", i,
				    jr_type_name(jr_type(f)));
	e->line = jr_line(f);
	if (!file)
		return img_diag_set(d, IMG_ERR_MANIFEST, jr_line(f), "files[%zu] has no \"file\"",
				    i);
	if (!jr_str(file))
		return wrong_type(d, file, i, "file", "a string");
	if (!*jr_str(file) || strlen(jr_str(file)) >= sizeof(e->file))
		return img_diag_set(d, IMG_ERR_MANIFEST, jr_line(file),
				    "files[%zu].file: empty or longer than %zu bytes", i,
				    sizeof(e->file) - 1);
	snprintf(e->file, sizeof(e->file), "%s", jr_str(file));
	if (idx) {
		r = image_number(idx, i, &e->image, d);
		if (r < 0)
			return r;
	} else if (n > 1) {
		return img_diag_set(d, IMG_ERR_MANIFEST, jr_line(f),
				    "files[%zu] (%s) has no \"image_index\": needed when the zip "
				    "holds several images",
				    i, e->file);
	}
	if (size) {
		if (jr_u64(size, &e->size) < 0)
			return wrong_type(d, size, i, "size", "a non-negative integer");
		e->has_size = true;
	}
	return check_optional(f, i, d);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct img_manifest_entry *x = a, *y = b;

	return x->image < y->image ? -1 : x->image > y->image;
}

static int parse_files(const struct jr_value *files, struct img_manifest_entry *es, size_t n,
		       struct img_diag *d)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		r = parse_entry(jr_at(files, i), i, n, &es[i], d);
		if (r < 0)
			return r;
		for (size_t k = 0; k < i; k++)
			if (es[k].image == es[i].image)
				return img_diag_set(d, IMG_ERR_MANIFEST, es[i].line,
						    "files[%zu] (%s) and files[%zu] (%s) are both "
						    "image %u",
						    k, es[k].file, i, es[i].file, es[i].image);
	}
	qsort(es, n, sizeof(*es), entry_cmp);
	return 0;
}

int img_manifest_parse(const char *text, size_t len, struct img_manifest_entry **ret, size_t *ret_n,
		       struct img_diag *d)
{
	_cleanup_(jr_doc_freep) struct jr_doc *doc = NULL;
	_cleanup_free_ struct img_manifest_entry *es = NULL;
	const struct jr_value *root, *files, *fv;
	struct jr_error e;
	size_t n;
	int r;

	r = jr_parse(text, len, &doc, &e);
	if (r == -EBADMSG)
		return img_diag_set(d, IMG_ERR_MANIFEST, e.line, "not valid JSON: %s (column %u)",
				    e.msg, e.col);
	if (r < 0)
		return r == -EFBIG ? img_diag_set(d, IMG_ERR_MANIFEST, 0, "larger than 1 MiB") : r;
	root = jr_root(doc);
	if (jr_type(root) != JR_OBJECT)
		return img_diag_set(d, IMG_ERR_MANIFEST, jr_line(root),
				    "expected an object at the top, got %s",
				    jr_type_name(jr_type(root)));
	fv = jr_get(root, "format-version");
	if (fv && jr_type(fv) != JR_NUMBER)
		return img_diag_set(d, IMG_ERR_MANIFEST, jr_line(fv),
				    "format-version: expected a number, got %s",
				    jr_type_name(jr_type(fv)));
	files = jr_get(root, "files");
	if (!files)
		return img_diag_set(d, IMG_ERR_MANIFEST, 1, "no \"files\" array");
	if (jr_type(files) != JR_ARRAY)
		return img_diag_set(d, IMG_ERR_MANIFEST, jr_line(files),
				    "files: expected an array, got %s",
				    jr_type_name(jr_type(files)));
	n = jr_count(files);
	if (n == 0 || n > IMG_MANIFEST_MAX_ENTRIES)
		return img_diag_set(d, IMG_ERR_MANIFEST, jr_line(files),
				    "files: %zu entries (expected 1..%d)", n,
				    IMG_MANIFEST_MAX_ENTRIES);
	es = calloc(n, sizeof(*es));
	if (!es)
		return -ENOMEM;
	r = parse_files(files, es, n, d);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(es);
	*ret_n = n;
	return 0;
}
