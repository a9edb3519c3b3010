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
#include "util/json-doc.h"
#include "util/macro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The line of v, or of the object holding it when v is null (json-c's null has no node). */
static unsigned line_of(const struct jd_doc *doc, const struct json_object *v,
			const struct json_object *parent)
{
	unsigned line = jd_line(doc, v);

	return line ? line : jd_line(doc, parent);
}

static int wrong_type(const struct jd_doc *doc, const struct json_object *v,
		      const struct json_object *f, size_t i, const char *field, const char *want,
		      struct img_diag *d)
{
	return img_diag_set(d, IMG_ERR_MANIFEST, line_of(doc, v, f),
			    "files[%zu].%s: expected %s, got %s", i, field, want, jd_type_name(v));
}

/* "image_index": a non-negative number or a decimal string, 0..IMG_IMAGE_NUM_MAX. */
static int image_number(const struct jd_doc *doc, const struct json_object *v,
			const struct json_object *f, size_t i, uint32_t *ret, struct img_diag *d)
{
	const char *s = jd_str(v);
	uint64_t u = 0;

	if (s) {
		if (!*s || strlen(s) > 3 || strspn(s, "0123456789") != strlen(s))
			return img_diag_set(
				d, IMG_ERR_MANIFEST, jd_line(doc, v),
				"files[%zu].image_index: \"%.20s\" is not an image number", i, s);
		u = strtoull(s, NULL, 10);
	} else if (jd_u64(v, &u) < 0) {
		return wrong_type(doc, v, f, i, "image_index", "a number or a decimal string", d);
	}
	if (u > IMG_IMAGE_NUM_MAX)
		return img_diag_set(d, IMG_ERR_MANIFEST, jd_line(doc, v),
				    "files[%zu].image_index: image %llu is out of range (0..%d)", i,
				    (unsigned long long)u, IMG_IMAGE_NUM_MAX);
	*ret = (uint32_t)u;
	return 0;
}

/* Optional members we do not use must still have the type the SDK writes. */
static int check_optional(const struct jd_doc *doc, const struct json_object *f, size_t i,
			  struct img_diag *d)
{
	static const char *const strings[] = {"type", "board", "soc", "version_MCUBOOT"};
	struct json_object *v;

	for (size_t k = 0; k < ARRAY_SIZE(strings); k++)
		if (jd_get(f, strings[k], &v) && !jd_str(v))
			return wrong_type(doc, v, f, i, strings[k], "a string", d);
	return 0;
}

static int parse_entry(const struct jd_doc *doc, const struct json_object *f,
		       const struct json_object *files, size_t i, size_t n,
		       struct img_manifest_entry *e, struct img_diag *d)
{
	struct json_object *file, *idx, *size;
	int r;

	if (!json_object_is_type(f, json_type_object))
		return img_diag_set(d, IMG_ERR_MANIFEST, line_of(doc, f, files),
				    "files[%zu]: expected an object, got %s", i, jd_type_name(f));
	e->line = jd_line(doc, f);
	if (!jd_get(f, "file", &file))
		return img_diag_set(d, IMG_ERR_MANIFEST, e->line, "files[%zu] has no \"file\"", i);
	if (!jd_str(file))
		return wrong_type(doc, file, f, i, "file", "a string", d);
	if (!*jd_str(file) || strlen(jd_str(file)) >= sizeof(e->file))
		return img_diag_set(d, IMG_ERR_MANIFEST, jd_line(doc, file),
				    "files[%zu].file: empty or longer than %zu bytes", i,
				    sizeof(e->file) - 1);
	snprintf(e->file, sizeof(e->file), "%s", jd_str(file));
	if (jd_get(f, "image_index", &idx)) {
		r = image_number(doc, idx, f, i, &e->image, d);
		if (r < 0)
			return r;
	} else if (n > 1) {
		return img_diag_set(d, IMG_ERR_MANIFEST, e->line,
				    "files[%zu] (%s) has no \"image_index\": needed when the zip "
				    "holds several images",
				    i, e->file);
	}
	if (jd_get(f, "size", &size)) {
		if (jd_u64(size, &e->size) < 0)
			return wrong_type(doc, size, f, i, "size", "a non-negative integer", d);
		e->has_size = true;
	}
	return check_optional(doc, f, i, d);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct img_manifest_entry *x = a, *y = b;

	return x->image < y->image ? -1 : x->image > y->image;
}

static int parse_files(const struct jd_doc *doc, const struct json_object *files,
		       struct img_manifest_entry *es, size_t n, struct img_diag *d)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		r = parse_entry(doc, json_object_array_get_idx(files, i), files, i, n, &es[i], d);
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

/* The top level: an object with a "files" array of 1..IMG_MANIFEST_MAX_ENTRIES. */
static int find_files(const struct jd_doc *doc, struct json_object **ret, struct img_diag *d)
{
	struct json_object *root = jd_root(doc), *fv, *files;
	size_t n;

	if (!json_object_is_type(root, json_type_object))
		return img_diag_set(d, IMG_ERR_MANIFEST, line_of(doc, root, NULL) ?: 1,
				    "expected an object at the top, got %s", jd_type_name(root));
	if (jd_get(root, "format-version", &fv) && !json_object_is_type(fv, json_type_int) &&
	    !json_object_is_type(fv, json_type_double))
		return img_diag_set(d, IMG_ERR_MANIFEST, line_of(doc, fv, root),
				    "format-version: expected a number, got %s", jd_type_name(fv));
	if (!jd_get(root, "files", &files))
		return img_diag_set(d, IMG_ERR_MANIFEST, 1, "no \"files\" array");
	if (!json_object_is_type(files, json_type_array))
		return img_diag_set(d, IMG_ERR_MANIFEST, line_of(doc, files, root),
				    "files: expected an array, got %s", jd_type_name(files));
	n = json_object_array_length(files);
	if (n == 0 || n > IMG_MANIFEST_MAX_ENTRIES)
		return img_diag_set(d, IMG_ERR_MANIFEST, jd_line(doc, files),
				    "files: %zu entries (expected 1..%d)", n,
				    IMG_MANIFEST_MAX_ENTRIES);
	*ret = files;
	return 0;
}

int img_manifest_parse(const char *text, size_t len, struct img_manifest_entry **ret, size_t *ret_n,
		       struct img_diag *d)
{
	_cleanup_(jd_doc_freep) struct jd_doc *doc = NULL;
	_cleanup_free_ struct img_manifest_entry *es = NULL;
	struct json_object *files = NULL;
	struct jd_error e;
	size_t n;
	int r;

	r = jd_parse(text, len, &doc, &e);
	if (r == -EBADMSG)
		return img_diag_set(d, IMG_ERR_MANIFEST, e.line, "not valid JSON: %s (column %u)",
				    e.msg, e.col);
	if (r < 0)
		return r == -EFBIG ? img_diag_set(d, IMG_ERR_MANIFEST, 0, "larger than 1 MiB") : r;
	r = find_files(doc, &files, d);
	if (r < 0)
		return r;
	n = json_object_array_length(files);
	es = calloc(n, sizeof(*es));
	if (!es)
		return -ENOMEM;
	r = parse_files(doc, files, es, n, d);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(es);
	*ret_n = n;
	return 0;
}
