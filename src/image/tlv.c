/* tlv.c — walks an MCUboot TLV area (info header, then {type, len, value} entries) with every
 * length treated as hostile: no read past the buffer, no wrap-around, always progress. */
#include "image/image-internal.h"
#include "util/bytes.h"

#include <errno.h>
#include <string.h>

static int fail(struct img_diag *d, enum img_err err, enum img_part part, bool prot, size_t off,
		uint32_t value, uint64_t limit)
{
	memset(d, 0, sizeof(*d));
	d->err = err;
	d->part = part;
	d->prot = prot;
	d->offset = off;
	d->value = value;
	d->limit = limit;
	return -EBADMSG;
}

int tlv_info_read(const uint8_t *buf, size_t len, size_t off, bool prot, uint16_t *ret_magic,
		  uint16_t *ret_tot, struct img_diag *d)
{
	if (off > len || len - off < IMG_TLV_INFO_SIZE)
		return fail(d, IMG_ERR_TLV_TRUNCATED, IMG_PART_INFO, prot, off, IMG_TLV_INFO_SIZE,
			    len);
	*ret_magic = get_le16(buf + off);
	*ret_tot = get_le16(buf + off + 2);
	return 0;
}

void tlv_iter_init(struct tlv_iter *it, const uint8_t *buf, size_t len, size_t off, uint16_t tot,
		   bool prot)
{
	*it = (struct tlv_iter){
		.buf = buf,
		.len = len,
		.pos = off + IMG_TLV_INFO_SIZE,
		.end = off + tot,
		.prot = prot,
	};
}

/* A piece [off, off + n) that does not fit: the file ending first is truncation (the area's
 * declared end lies past it too), otherwise the entry overruns its area. */
static int misfit(struct tlv_iter *it, struct img_diag *d, enum img_part part, uint16_t type,
		  size_t off, uint64_t n)
{
	int r;

	if (it->end > it->len && (uint64_t)off + n > it->len)
		r = fail(d, IMG_ERR_TLV_TRUNCATED, part, it->prot, off, (uint32_t)n, it->len);
	else
		r = fail(d, IMG_ERR_TLV_OVERRUN, part, it->prot, off, (uint32_t)n, it->end);
	d->tlv_type = type;
	return r;
}

int tlv_iter_next(struct tlv_iter *it, struct tlv_entry *e, struct img_diag *d)
{
	size_t avail_area, avail_file;
	uint16_t type, n;

	if (it->pos >= it->end)
		return 0;
	avail_area = it->end - it->pos;
	avail_file = it->pos <= it->len ? it->len - it->pos : 0;
	if (avail_area < IMG_TLV_HDR_SIZE || avail_file < IMG_TLV_HDR_SIZE)
		return misfit(it, d, IMG_PART_ENTRY_HDR, 0, it->pos, IMG_TLV_HDR_SIZE);

	type = get_le16(it->buf + it->pos);
	n = get_le16(it->buf + it->pos + 2);
	if (n > avail_area - IMG_TLV_HDR_SIZE || n > avail_file - IMG_TLV_HDR_SIZE) {
		/* value = the value's length: "entry 0x10 of 32 bytes" */
		int r = misfit(it, d, IMG_PART_ENTRY, type, it->pos,
			       (uint64_t)IMG_TLV_HDR_SIZE + n);

		d->value = n;
		return r;
	}
	*e = (struct tlv_entry){
		.type = type,
		.len = n,
		.off = it->pos,
		.val = it->pos + IMG_TLV_HDR_SIZE,
	};
	it->pos += IMG_TLV_HDR_SIZE + (size_t)n;
	return 1;
}
