/* decoder.c — the table-driven map decoder behind every SMP response and request decoder. */
#include <errno.h>
#include <string.h>

#include "smp/decoder.h"

/* Zero-copy fields need the payload in one piece; text copies follow the same rule. */
static const char reason_indef_string[] =
	"indefinite-length string where a definite-length one is required";

/* The two error forms, collected while the map is read and settled at its end. */
struct err_acc {
	struct smp_err v1, v2;
	bool has_v1, has_v2;
	size_t off;
};

struct err_map {
	uint32_t group;
	uint32_t rc;
};

static const struct smp_field err_map_fields[] = {
	SMP_U32("SMP error map", "group", struct err_map, group),
	SMP_U32("SMP error map", "rc", struct err_map, rc),
};
static const struct smp_msg err_map_msg = SMP_MSG("SMP error map", err_map_fields);

int smp_bad(const char **ret_reason, const char *why)
{
	if (ret_reason)
		*ret_reason = why;
	return -EBADMSG;
}

void smp_copy_text(char *dst, size_t cap, const uint8_t *src, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	if (n < len)
		while (n > 0 && (src[n] & 0xc0) == 0x80) /* UTF-8 continuation byte */
			n--;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

int smp_read_typed(struct cbor_reader *r, enum cr_type type, const struct smp_field *f,
		   struct cr_item *ret, const char **ret_reason)
{
	if (cr_read(r, ret) < 0)
		return smp_bad(ret_reason, r->err);
	if (ret->type != type)
		return smp_bad(ret_reason, f->bad_type);
	if ((type == CR_TEXT || type == CR_BYTES) && ret->indef)
		return smp_bad(ret_reason, reason_indef_string);
	return 0;
}

static int decode_entries(struct cbor_reader *r, const struct smp_msg *m,
			  const struct cr_item *head, void *target, uint32_t *ret_seen,
			  const char **ret_reason);

static int decode_rc(struct cbor_reader *r, const struct smp_field *f, struct err_acc *acc,
		     const char **ret_reason)
{
	struct cr_item it;

	if (cr_read(r, &it) < 0)
		return smp_bad(ret_reason, r->err);
	if (it.type != CR_UINT && it.type != CR_NEGINT)
		return smp_bad(ret_reason, f->bad_type);
	/* int32_t holds 0..2^31-1 and -1-(0..2^31-1) */
	if (it.u > INT32_MAX)
		return smp_bad(ret_reason, f->bad_value);
	acc->v1 = (struct smp_err){.rc = it.type == CR_UINT ? (int32_t)it.u : -1 - (int32_t)it.u};
	acc->has_v1 = true;
	acc->off = f->off;
	return 0;
}

/* decode_err, decode_value and decode_entries recurse only as deep as the message tables nest
 * (an "err" map holds no map), never as deep as the input does. */
/* NOLINTNEXTLINE(misc-no-recursion) */
static int decode_err(struct cbor_reader *r, const struct smp_field *f, struct err_acc *acc,
		      const char **ret_reason)
{
	struct cr_item head;
	struct err_map e = {0};
	uint32_t seen;

	if (smp_read_typed(r, CR_MAP, f, &head, ret_reason) < 0)
		return -EBADMSG;
	if (decode_entries(r, &err_map_msg, &head, &e, &seen, ret_reason) < 0)
		return -EBADMSG;
	/* "rc" may be left out when it is 0 (SMP protocol specification, minimal response);
	 * "group" may not. */
	if (!(seen & 1u) || e.group > UINT16_MAX || e.rc > INT32_MAX)
		return smp_bad(ret_reason, f->bad_value);
	acc->v2 = (struct smp_err){.v2 = true, .group = (uint16_t)e.group, .rc = (int32_t)e.rc};
	acc->has_v2 = true;
	acc->off = f->off;
	return 0;
}

static int decode_string(struct cbor_reader *r, const struct smp_field *f, uint8_t *t,
			 const char **ret_reason)
{
	struct cr_item it;
	enum cr_type type = f->kind == SF_TEXT ? CR_TEXT : CR_BYTES;

	if (smp_read_typed(r, type, f, &it, ret_reason) < 0)
		return -EBADMSG;
	switch (f->kind) {
	case SF_TEXT:
		smp_copy_text((char *)(t + f->off), f->cap, it.data, it.len);
		break;
	case SF_BYTES:
		if (it.len > f->cap)
			return smp_bad(ret_reason, f->bad_value);
		if (it.len > 0)
			memcpy(t + f->off, it.data, it.len);
		memcpy(t + f->len_off, &it.len, sizeof(size_t));
		break;
	default: /* SF_BYTES_REF: points into the caller's body */
		memcpy(t + f->off, &it.data, sizeof(it.data));
		memcpy(t + f->len_off, &it.len, sizeof(size_t));
		break;
	}
	return 0;
}

/* NOLINTNEXTLINE(misc-no-recursion): bounded by the tables, see decode_err() */
static int decode_value(struct cbor_reader *r, const struct smp_field *f, void *target,
			struct err_acc *acc, const char **ret_reason)
{
	uint8_t *t = target;
	struct cr_item it;

	switch (f->kind) {
	case SF_U32:
		if (smp_read_typed(r, CR_UINT, f, &it, ret_reason) < 0)
			return -EBADMSG;
		if (it.u > UINT32_MAX)
			return smp_bad(ret_reason, f->bad_value);
		*(uint32_t *)(t + f->off) = (uint32_t)it.u;
		return 0;
	case SF_BOOL:
		if (smp_read_typed(r, CR_BOOL, f, &it, ret_reason) < 0)
			return -EBADMSG;
		*(bool *)(t + f->off) = it.b;
		return 0;
	case SF_TEXT:
	case SF_BYTES:
	case SF_BYTES_REF:
		return decode_string(r, f, t, ret_reason);
	case SF_RC:
		return decode_rc(r, f, acc, ret_reason);
	case SF_ERR:
		return decode_err(r, f, acc, ret_reason);
	case SF_CUSTOM:
		return f->fn(r, target, f, ret_reason);
	}
	return smp_bad(ret_reason, f->bad_type);
}

static const struct smp_field *find_field(const struct smp_msg *m, const struct cr_item *key,
					  unsigned *ret_index)
{
	if (key->type != CR_TEXT || key->indef)
		return NULL;
	for (unsigned i = 0; i < m->n_fields; i++) {
		const char *k = m->fields[i].key;

		if (strlen(k) == key->len && memcmp(k, key->data, key->len) == 0) {
			*ret_index = i;
			return &m->fields[i];
		}
	}
	return NULL;
}

/* v2 "err" is the more specific answer, so a non-zero one wins over "rc"; a v1 "rc" wins over
 * an "err" that reports success. */
static void settle_err(const struct err_acc *acc, void *target)
{
	struct smp_err *e = (struct smp_err *)((uint8_t *)target + acc->off);

	if (acc->has_v2 && (acc->v2.rc != 0 || !acc->has_v1))
		*e = acc->v2;
	else if (acc->has_v1)
		*e = acc->v1;
}

/* NOLINTNEXTLINE(misc-no-recursion): bounded by the tables, see decode_err() */
static int decode_entries(struct cbor_reader *r, const struct smp_msg *m,
			  const struct cr_item *head, void *target, uint32_t *ret_seen,
			  const char **ret_reason)
{
	struct err_acc acc = {0};
	struct cr_iter iter;
	struct cr_item key;
	uint32_t seen = 0;
	int k;

	if (cr_iter_init(r, head, &iter) < 0)
		return smp_bad(ret_reason, r->err);
	while ((k = cr_iter_next(r, &iter)) > 0) {
		const struct smp_field *f;
		unsigned i;

		if (cr_read(r, &key) < 0)
			return smp_bad(ret_reason, r->err);
		f = find_field(m, &key, &i);
		if (!f) {
			/* Unknown, or not a definite text string (so none of ours): skip the rest
			 * of the key, then its value. */
			if (cr_skip_rest(r, &key) < 0 || cr_skip(r) < 0)
				return smp_bad(ret_reason, r->err);
			continue;
		}
		if (seen & (1u << i))
			return smp_bad(ret_reason, f->dup);
		seen |= 1u << i;
		if (decode_value(r, f, target, &acc, ret_reason) < 0)
			return -EBADMSG;
	}
	if (k < 0)
		return smp_bad(ret_reason, r->err);
	if (acc.has_v1 || acc.has_v2)
		settle_err(&acc, target);
	if (ret_seen)
		*ret_seen = seen;
	return 0;
}

int smp_decode_map(struct cbor_reader *r, const struct smp_msg *m, void *target, uint32_t *ret_seen,
		   const char **ret_reason)
{
	struct cr_item head;

	if (cr_read(r, &head) < 0)
		return smp_bad(ret_reason, r->err);
	if (head.type != CR_MAP)
		return smp_bad(ret_reason, m->not_map);
	return decode_entries(r, m, &head, target, ret_seen, ret_reason);
}

int smp_decode_body(const uint8_t *body, size_t len, const struct smp_msg *m, void *target,
		    uint32_t *ret_seen, const char **ret_reason)
{
	struct cbor_reader r;

	cr_init(&r, body, len);
	if (smp_decode_map(&r, m, target, ret_seen, ret_reason) < 0)
		return -EBADMSG;
	if (!cr_at_end(&r))
		return smp_bad(ret_reason, m->trailing);
	return 0;
}
