/* sm-crypto.c — the Security Manager's toolbox (Core 5.4 Vol 3 Part H 2.2) and LE random
 * addresses (Vol 6 Part B 1.3.2): AES-128 and AES-CMAC are libcrypto's (EVP), the rest is the
 * spec's arrangement of their inputs. Values are LSB-first (sm-crypto.h): each AES or CMAC call
 * gets its operands reversed into the MSB-first order the algorithms are defined on. */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "bt/sm-crypto.h"
#include "util/bytes.h"
#include "util/macro.h"

DEFINE_FREE_CLEANUP(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)
DEFINE_FREE_CLEANUP(EVP_MAC, EVP_MAC_free)
DEFINE_FREE_CLEANUP(EVP_MAC_CTX, EVP_MAC_CTX_free)

static void reverse(uint8_t *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

int sm_e(const uint8_t key[SM_KEY_LEN], const uint8_t in[16], uint8_t out[16])
{
	_cleanup_(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t k[SM_KEY_LEN], b[16], enc[16];
	int n = 0;
	bool ok;

	if (!c)
		return -ENOMEM;
	reverse(k, key, sizeof(k));
	reverse(b, in, sizeof(b));
	ok = EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, k, NULL) == 1 &&
	     EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	     EVP_EncryptUpdate(c, enc, &n, b, (int)sizeof(b)) == 1 && n == (int)sizeof(enc);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(b, sizeof(b));
	if (!ok)
		return -EIO;
	reverse(out, enc, sizeof(enc));
	OPENSSL_cleanse(enc, sizeof(enc));
	return 0;
}

/* Feeds msg reversed to the MAC, from its last octet back to its first, a chunk at a time. */
static int cmac_update_reversed(EVP_MAC_CTX *ctx, const uint8_t *msg, size_t len)
{
	uint8_t chunk[64];
	int r = 0;

	while (len && r == 0) {
		size_t n = MIN(len, sizeof(chunk));

		reverse(chunk, msg + len - n, n);
		len -= n;
		if (EVP_MAC_update(ctx, chunk, n) != 1)
			r = -EIO;
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	return r;
}

int sm_aes_cmac(const uint8_t key[SM_KEY_LEN], const uint8_t *msg, size_t len,
		uint8_t out[SM_KEY_LEN])
{
	_cleanup_(EVP_MAC_freep) EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	_cleanup_(EVP_MAC_CTX_freep) EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0),
		OSSL_PARAM_construct_end(),
	};
	uint8_t k[SM_KEY_LEN], tag[SM_KEY_LEN];
	size_t n = 0;
	int r;

	if (!mac)
		return -EIO;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx)
		return -ENOMEM;
	reverse(k, key, sizeof(k));
	r = EVP_MAC_init(ctx, k, sizeof(k), params) == 1 ? 0 : -EIO;
	OPENSSL_cleanse(k, sizeof(k));
	if (r < 0)
		return r;
	r = cmac_update_reversed(ctx, msg, len);
	if (r < 0)
		return r;
	if (EVP_MAC_final(ctx, tag, &n, sizeof(tag)) != 1 || n != sizeof(tag))
		return -EIO;
	reverse(out, tag, sizeof(tag));
	OPENSSL_cleanse(tag, sizeof(tag));
	return 0;
}

int sm_ah(const uint8_t irk[SM_KEY_LEN], const uint8_t r[3], uint8_t out[3])
{
	/* r' = padding (104 zero bits) || r; ah = e(k, r') mod 2^24 */
	uint8_t rp[16] = {r[0], r[1], r[2]}, enc[16];
	int err = sm_e(irk, rp, enc);

	if (err < 0)
		return err;
	memcpy(out, enc, 3);
	return 0;
}

static void put_addr56(uint8_t *p, const struct bt_addr *a)
{
	/* A1/A2 of f5 and f6: the address type (0x00 public, 0x01 random) above the address */
	memcpy(p, a->b, 6);
	p[6] = a->type == BT_ADDR_LE_RANDOM ? 0x01 : 0x00;
}

int sm_c1(const uint8_t k[SM_KEY_LEN], const uint8_t r[16], const uint8_t preq[7],
	  const uint8_t pres[7], const struct bt_addr *ia, const struct bt_addr *ra,
	  uint8_t out[16])
{
	/* p1 = pres || preq || rat' || iat'; p2 = padding (32 bits) || ia || ra;
	 * c1 = e(k, e(k, r XOR p1) XOR p2). LSB-first, iat' is p1's octet 0, ra starts p2. */
	uint8_t p1[16], p2[16] = {0}, t[16];
	int err;

	p1[0] = ia->type == BT_ADDR_LE_RANDOM ? 0x01 : 0x00;
	p1[1] = ra->type == BT_ADDR_LE_RANDOM ? 0x01 : 0x00;
	memcpy(p1 + 2, preq, 7);
	memcpy(p1 + 9, pres, 7);
	memcpy(p2, ra->b, 6);
	memcpy(p2 + 6, ia->b, 6);
	for (size_t i = 0; i < 16; i++)
		t[i] = r[i] ^ p1[i];
	err = sm_e(k, t, t);
	if (err < 0)
		return err;
	for (size_t i = 0; i < 16; i++)
		t[i] ^= p2[i];
	err = sm_e(k, t, out);
	OPENSSL_cleanse(t, sizeof(t));
	return err;
}

int sm_s1(const uint8_t k[SM_KEY_LEN], const uint8_t r1[16], const uint8_t r2[16],
	  uint8_t out[SM_KEY_LEN])
{
	/* r' = r1' || r2', the least significant 64 bits of each, r1' the more significant */
	uint8_t rp[16];
	int err;

	memcpy(rp, r2, 8);
	memcpy(rp + 8, r1, 8);
	err = sm_e(k, rp, out);
	OPENSSL_cleanse(rp, sizeof(rp));
	return err;
}

int sm_f4(const uint8_t u[32], const uint8_t v[32], const uint8_t x[16], uint8_t z, uint8_t out[16])
{
	/* f4 = AES-CMAC_X(U || V || Z): LSB-first, Z comes first */
	uint8_t m[65];

	m[0] = z;
	memcpy(m + 1, v, 32);
	memcpy(m + 33, u, 32);
	return sm_aes_cmac(x, m, sizeof(m), out);
}

int sm_f5(const uint8_t w[32], const uint8_t n1[16], const uint8_t n2[16], const struct bt_addr *a1,
	  const struct bt_addr *a2, uint8_t ret_mackey[SM_KEY_LEN], uint8_t ret_ltk[SM_KEY_LEN])
{
	/* SALT 0x6C888391 AAF5A538 60370BDB 5A6083BE, LSB-first */
	static const uint8_t salt[SM_KEY_LEN] = {0xbe, 0x83, 0x60, 0x5a, 0xdb, 0x0b, 0x37, 0x60,
						 0x38, 0xa5, 0xf5, 0xaa, 0x91, 0x83, 0x88, 0x6c};
	/* Counter || keyID "btle" || N1 || N2 || A1 || A2 || Length 256, LSB-first */
	uint8_t t[SM_KEY_LEN], m[53];
	int err;

	err = sm_aes_cmac(salt, w, 32, t);
	if (err < 0)
		return err;
	put_le16(m, 256);
	put_addr56(m + 2, a2);
	put_addr56(m + 9, a1);
	memcpy(m + 16, n2, 16);
	memcpy(m + 32, n1, 16);
	put_le32(m + 48, 0x62746c65); /* "btle" */
	m[52] = 0;
	err = sm_aes_cmac(t, m, sizeof(m), ret_mackey);
	if (err >= 0) {
		m[52] = 1;
		err = sm_aes_cmac(t, m, sizeof(m), ret_ltk);
	}
	OPENSSL_cleanse(t, sizeof(t));
	return err;
}

int sm_f6(const uint8_t w[SM_KEY_LEN], const uint8_t n1[16], const uint8_t n2[16],
	  const uint8_t r[16], const uint8_t io_cap[3], const struct bt_addr *a1,
	  const struct bt_addr *a2, uint8_t out[16])
{
	/* f6 = AES-CMAC_W(N1 || N2 || R || IOcap || A1 || A2), LSB-first */
	uint8_t m[65];

	put_addr56(m, a2);
	put_addr56(m + 7, a1);
	memcpy(m + 14, io_cap, 3);
	memcpy(m + 17, r, 16);
	memcpy(m + 33, n2, 16);
	memcpy(m + 49, n1, 16);
	return sm_aes_cmac(w, m, sizeof(m), out);
}

int sm_g2(const uint8_t u[32], const uint8_t v[32], const uint8_t x[16], const uint8_t y[16],
	  uint32_t *ret)
{
	/* g2 = AES-CMAC_X(U || V || Y) mod 2^32; the displayed value is g2 mod 10^6 */
	uint8_t m[80], mac[16];
	int err;

	memcpy(m, y, 16);
	memcpy(m + 16, v, 32);
	memcpy(m + 48, u, 32);
	err = sm_aes_cmac(x, m, sizeof(m), mac);
	if (err < 0)
		return err;
	*ret = get_le32(mac) % 1000000;
	return 0;
}

int sm_h6(const uint8_t w[SM_KEY_LEN], const uint8_t key_id[4], uint8_t out[SM_KEY_LEN])
{
	return sm_aes_cmac(w, key_id, 4, out);
}

int sm_h7(const uint8_t salt[SM_KEY_LEN], const uint8_t w[SM_KEY_LEN], uint8_t out[SM_KEY_LEN])
{
	return sm_aes_cmac(salt, w, SM_KEY_LEN, out);
}

/* ---- Random device addresses ---- */

/* The random part of n octets whose last one carries the two sub-type bits on top. */
static bool random_part_ok(const uint8_t *p, size_t n)
{
	bool zeros = (p[n - 1] & 0x3f) == 0, ones = (p[n - 1] & 0x3f) == 0x3f;

	for (size_t i = 0; i + 1 < n; i++) {
		zeros = zeros && p[i] == 0x00;
		ones = ones && p[i] == 0xff;
	}
	return !zeros && !ones;
}

bool sm_addr_is_static(const struct bt_addr *a)
{
	return a->type == BT_ADDR_LE_RANDOM && (a->b[5] & 0xc0) == 0xc0 && random_part_ok(a->b, 6);
}

bool sm_addr_is_rpa(const struct bt_addr *a)
{
	return a->type == BT_ADDR_LE_RANDOM && (a->b[5] & 0xc0) == 0x40;
}

int sm_static_addr_generate(struct bt_addr *ret)
{
	struct bt_addr a = {.type = BT_ADDR_LE_RANDOM};

	/* An invalid draw has a chance of 2^-45: a few tries are never all invalid. */
	for (int i = 0; i < 4; i++) {
		if (RAND_bytes(a.b, sizeof(a.b)) != 1)
			return -EIO;
		a.b[5] |= 0xc0;
		if (sm_addr_is_static(&a)) {
			*ret = a;
			return 0;
		}
	}
	return -EIO;
}

int sm_rpa_from_prand(const uint8_t irk[SM_KEY_LEN], const uint8_t prand[3], struct bt_addr *ret)
{
	struct bt_addr a = {.type = BT_ADDR_LE_RANDOM};
	int err;

	if ((prand[2] & 0xc0) != 0x40 || !random_part_ok(prand, 3))
		return -EINVAL;
	memcpy(a.b + 3, prand, 3);
	err = sm_ah(irk, prand, a.b);
	if (err < 0)
		return err;
	*ret = a;
	return 0;
}

int sm_rpa_generate(const uint8_t irk[SM_KEY_LEN], struct bt_addr *ret)
{
	uint8_t prand[3];

	/* An invalid draw has a chance of 2^-21 */
	for (int i = 0; i < 4; i++) {
		if (RAND_bytes(prand, sizeof(prand)) != 1)
			return -EIO;
		prand[2] = (prand[2] & 0x3f) | 0x40;
		if (random_part_ok(prand, 3))
			return sm_rpa_from_prand(irk, prand, ret);
	}
	return -EIO;
}

int sm_rpa_resolve(const uint8_t irk[SM_KEY_LEN], const struct bt_addr *a)
{
	uint8_t hash[3];
	int err;

	if (!sm_addr_is_rpa(a))
		return 0;
	err = sm_ah(irk, a->b + 3, hash);
	if (err < 0)
		return err;
	return CRYPTO_memcmp(hash, a->b, 3) == 0;
}
