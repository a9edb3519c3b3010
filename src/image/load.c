/* load.c — an image file in memory: its bytes, their parse, and the SHA-256 of the whole file that
 * an SMP upload request carries as "sha". */
#include "image/image-internal.h"
#include "util/fileio.h"
#include "util/macro.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct img *img_free(struct img *i)
{
	if (!i)
		return NULL;
	free(i->data);
	free(i);
	return NULL;
}

DEFINE_FREE_CLEANUP(struct img, img_free)

int img_from_buffer(uint8_t *data, size_t len, const char *key_pem, size_t key_pem_len,
		    struct img **ret, struct img_diag *d)
{
	_cleanup_(img_freep) struct img *i = calloc(1, sizeof(*i));
	uint8_t hash[IMG_HASH_LEN];
	int r;

	if (!i) {
		free(data);
		return -ENOMEM;
	}
	i->data = data;
	i->len = len;
	/* Structure first, then one SHA-256 pass gives both the image hash (header, payload,
	 * protected TLVs) and the whole-file hash an upload request carries. */
	r = img_parse_no_hash(i->data, i->len, &i->info, d);
	if (r < 0)
		return r;
	r = img_sha256_prefix(i->data, i->info.hashed_len, i->len, hash, i->file_sha);
	if (r < 0)
		return r;
	r = img_check_hash(&i->info, hash, i->info.hash_off, d);
	if (r < 0)
		return r;
	if (key_pem) {
		r = img_verify_signature(i->data, &i->info, key_pem, key_pem_len, d);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(i);
	return 0;
}

int img_load(const char *path, const char *key_pem, size_t key_pem_len, struct img **ret,
	     struct img_diag *diag)
{
	struct img_diag dummy;
	struct img_diag *d = diag ? diag : &dummy;
	uint8_t *data;
	size_t len;
	int r;

	memset(d, 0, sizeof(*d));
	if (!path || !ret)
		return -EINVAL;
	r = read_full_file(path, IMG_MAX_FILE_SIZE, &data, &len);
	if (r < 0)
		return r;
	return img_from_buffer(data, len, key_pem, key_pem_len, ret, d);
}
