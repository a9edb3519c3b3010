/* fuzz-ihex.c — the Intel HEX reader of the image files (src/image/ihex.c, img_ihex_decode):
 * zephyr.signed.hex as a build hands it out, or whatever else a user passes to otactl. Input: a
 * mode byte, then the rest.
 *   mode bit 0 clear: the rest is HEX text, decoded as it is;
 *   mode bit 0 set:   the rest is bytes, written as HEX by the encoder below and decoded back;
 *   bits 1-2: the address of the encoded bytes (0, a Zephyr slot, one 2 bytes below a 64 KiB
 *             boundary, one near the top of the 32-bit space); bit 3: CRLF line ends;
 *   bits 4-7: data records of at most 1 + 16 * N bytes (255 at most).
 * Invariants: a decode gives bytes and an address, or -EBADMSG with an IMG_ERR_IHEX diagnosis
 * whose line is one of the text's (none for a text of blanks only) and whose text says what (and which formats without
 * truncation), or -EFBIG; decoded bytes written again as HEX decode to the same bytes at the
 * same address; the HEX of any bytes (a valid image among them) decodes to exactly those bytes. */
#include <errno.h>

#include "fuzz.h"
#include "image/image-internal.h"
#include "otad/image.h"

static const uint32_t bases[4] = {0, 0xc000, 0x1fffe, 0xfffff000};

struct text {
	char *p;
	size_t n, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->n + n + 1 > t->cap) {
		t->cap = (t->n + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		FUZZ_CHECK(t->p);
	}
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = 0;
}

static void put_record(struct text *t, uint8_t type, uint16_t addr, const uint8_t *d, size_t n,
		       const char *eol)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned sum = (unsigned)n + (addr >> 8) + (addr & 0xff) + type;
	uint8_t b[4] = {(uint8_t)n, (uint8_t)(addr >> 8), (uint8_t)addr, type};
	char s[2];

	put(t, ":", 1);
	for (size_t i = 0; i < n; i++)
		sum += d[i];
	for (size_t i = 0; i < 4 + n + 1; i++) {
		uint8_t v = i < 4 ? b[i] : i < 4 + n ? d[i - 4] : (uint8_t)(0x100 - (sum & 0xff));

		s[0] = hex[v >> 4];
		s[1] = hex[v & 15];
		put(t, s, 2);
	}
	put(t, eol, strlen(eol));
}

/* As imgtool (intelhex) writes it: data records of at most rec bytes that never cross a 64 KiB
 * boundary, an extended linear address record whenever the upper 16 bits change, EOF. */
static void encode(struct text *t, const uint8_t *p, size_t len, uint32_t addr, size_t rec,
		   const char *eol)
{
	uint32_t upper = UINT32_MAX;

	for (size_t off = 0; off < len;) {
		uint32_t a = addr + (uint32_t)off;
		size_t n = len - off < rec ? len - off : rec;

		if (n > 0x10000 - (a & 0xffff))
			n = 0x10000 - (a & 0xffff);
		if (a >> 16 != upper) {
			uint8_t u[2] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16)};

			upper = a >> 16;
			put_record(t, 0x04, 0, u, 2, eol);
		}
		put_record(t, 0x00, (uint16_t)a, p + off, n, eol);
		off += n;
	}
	put_record(t, 0x01, 0, NULL, 0, eol);
}

static unsigned line_count(const char *p, size_t n)
{
	unsigned lines = 1;

	for (size_t i = 0; i < n; i++)
		lines += p[i] == '\n';
	return lines;
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

static void check_diag(const struct img_diag *d, const char *text, size_t len)
{
	char buf[IMG_DIAG_MAX];

	FUZZ_CHECK(d->err == IMG_ERR_IHEX && d->text[0]);
	FUZZ_CHECK(d->line <= line_count(text, len));
	/* no line only for a text without records (img_load_any never takes one for HEX) */
	FUZZ_CHECK(d->line >= 1 || blank(text, len));
	FUZZ_CHECK(img_diag_format(d, buf, sizeof(buf)) == buf);
	FUZZ_CHECK(strlen(buf) + 1 < sizeof(buf));
}

/* Decodes text (exactly len bytes on the heap); 0 with *ret, or the error. */
static int decode(const char *text, size_t len, uint8_t **ret, size_t *ret_len, uint32_t *ret_addr)
{
	char *copy = (char *)fz_dup((const uint8_t *)text, len);
	struct img_diag d;
	int r;

	memset(&d, 0, sizeof(d));
	*ret = NULL;
	r = img_ihex_decode(copy, len, ret, ret_len, ret_addr, &d);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EFBIG || r == -ENOMEM);
	if (r == -EBADMSG)
		check_diag(&d, copy, len);
	if (r == 0)
		FUZZ_CHECK(*ret && *ret_len > 0 && (uint64_t)*ret_addr + *ret_len <= 0x100000000ull);
	free(copy);
	return r;
}

static void round_trip(const uint8_t *p, size_t len, uint32_t addr, size_t rec, const char *eol)
{
	struct text t = {0};
	uint8_t *back;
	size_t back_len;
	uint32_t back_addr;

	encode(&t, p, len, addr, rec, eol);
	FUZZ_CHECK(decode(t.p, t.n, &back, &back_len, &back_addr) == 0);
	FUZZ_CHECK(back_len == len && back_addr == addr && memcmp(back, p, len) == 0);
	free(back);
	free(t.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t mode = fz_u8(&f);
	size_t len, out_len, rec = 1 + (size_t)(mode >> 4) * 16;
	const uint8_t *rest = fz_rest(&f, &len);
	const char *eol = mode & 8 ? "\r\n" : "\n";
	uint32_t addr = bases[(mode >> 1) & 3], out_addr;
	uint8_t *out;

	if (rec > 255)
		rec = 255;
	if (mode & 1) {
		if (len == 0)
			return 0;
		/* the block must fit below 4 GiB */
		if ((uint64_t)addr + len > 0x100000000ull)
			addr = 0;
		round_trip(rest, len, addr, rec, eol);
		return 0;
	}
	if (decode((const char *)rest, len, &out, &out_len, &out_addr) == 0) {
		round_trip(out, out_len, out_addr, rec, eol);
		free(out);
	}
	return 0;
}
