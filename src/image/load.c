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

int img_load(const char *path, const char *key_pem, size_t key_pem_len, struct img **ret,
	     struct img_diag *diag)
{
	_cleanup_(img_freep) struct img *i = NULL;
	struct img_diag dummy;
	struct img_diag *d = diag ? diag : &dummy;
	uint8_t hash[IMG_HASH_LEN];
	int r;

	memset(d, 0, sizeof(*d));
	if (!path || !ret)
		return -EINVAL;
	i = calloc(1, sizeof(*i));
	if (!i)
		return -ENOMEM;
	r = read_full_file(path, IMG_MAX_FILE_SIZE, &i->data, &i->len);
	if (r < 0)
		return r;
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
