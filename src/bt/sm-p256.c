/* sm-p256.c — P-256 key pairs, public key checks and the DHKey of LE Secure Connections
 * (Core 5.4 Vol 3 Part H 2.3.5.6): keys and ECDH are libcrypto's EVP_PKEY; the point checks use
 * its EC_GROUP/EC_POINT arithmetic. Octets are LSB-first per coordinate (sm-p256.h); libcrypto
 * takes the uncompressed SEC1 point 04 || X || Y, MSB-first. */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#include "bt/sm-p256.h"

DEFINE_FREE_CLEANUP(BIGNUM, BN_clear_free)
DEFINE_FREE_CLEANUP(BN_CTX, BN_CTX_free)
DEFINE_FREE_CLEANUP(EC_GROUP, EC_GROUP_free)
DEFINE_FREE_CLEANUP(EC_POINT, EC_POINT_clear_free)
DEFINE_FREE_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_FREE_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
DEFINE_FREE_CLEANUP(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
DEFINE_FREE_CLEANUP(OSSL_PARAM, OSSL_PARAM_free)

#define SEC1_LEN (1 + SM_P256_PUBLIC_LEN)

struct sm_p256_key {
	EVP_PKEY *pkey;
	uint8_t pub[SM_P256_PUBLIC_LEN];
};

/* 2.3.5.6.1: private 0x3f49f6d4 a3c55f38 74c9b3e3 d2103f50 4aff607b eb40b799 5899b8a6 cd3c1abd */
const uint8_t sm_p256_debug_private[SM_P256_PRIVATE_LEN] = {
	0xbd, 0x1a, 0x3c, 0xcd, 0xa6, 0xb8, 0x99, 0x58, 0x99, 0xb7, 0x40,
	0xeb, 0x7b, 0x60, 0xff, 0x4a, 0x50, 0x3f, 0x10, 0xd2, 0xe3, 0xb3,
	0xc9, 0x74, 0x38, 0x5f, 0xc5, 0xa3, 0xd4, 0xf6, 0x49, 0x3f};

/* X 0x20b003d2 f297be2c 5e2c83a7 e9f9a5b9 eff49111 acf4fddb cc030148 0e359de6,
 * Y 0xdc809c49 652aeb6d 63329abf 5a52155c 766345c2 8fed3024 741c8ed0 1589d28b */
static const uint8_t debug_public[SM_P256_PUBLIC_LEN] = {
	0xe6, 0x9d, 0x35, 0x0e, 0x48, 0x01, 0x03, 0xcc, 0xdb, 0xfd, 0xf4, 0xac, 0x11,
	0x91, 0xf4, 0xef, 0xb9, 0xa5, 0xf9, 0xe9, 0xa7, 0x83, 0x2c, 0x5e, 0x2c, 0xbe,
	0x97, 0xf2, 0xd2, 0x03, 0xb0, 0x20, 0x8b, 0xd2, 0x89, 0x15, 0xd0, 0x8e, 0x1c,
	0x74, 0x24, 0x30, 0xed, 0x8f, 0xc2, 0x45, 0x63, 0x76, 0x5c, 0x15, 0x52, 0x5a,
	0xbf, 0x9a, 0x32, 0x63, 0x6d, 0xeb, 0x2a, 0x65, 0x49, 0x9c, 0x80, 0xdc};

static void reverse(uint8_t *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

static void to_sec1(const uint8_t pub[SM_P256_PUBLIC_LEN], uint8_t out[SEC1_LEN])
{
	out[0] = 0x04; /* SEC1 2.3.3: uncompressed */
	reverse(out + 1, pub, 32);
	reverse(out + 33, pub + 32, 32);
}

static int from_sec1(const uint8_t *p, size_t len, uint8_t pub[SM_P256_PUBLIC_LEN])
{
	if (len != SEC1_LEN || p[0] != 0x04)
		return -EIO;
	reverse(pub, p + 1, 32);
	reverse(pub + 32, p + 33, 32);
	return 0;
}

bool sm_p256_is_debug(const uint8_t pub[SM_P256_PUBLIC_LEN])
{
	return memcmp(pub, debug_public, SM_P256_PUBLIC_LEN) == 0;
}

const uint8_t *sm_p256_key_public(const struct sm_p256_key *k)
{
	return k->pub;
}

struct sm_p256_key *sm_p256_key_free(struct sm_p256_key *k)
{
	if (!k)
		return NULL;
	EVP_PKEY_free(k->pkey);
	free(k);
	return NULL;
}

static int point_check(const EC_GROUP *g, const uint8_t pub[SM_P256_PUBLIC_LEN], BN_CTX *bc)
{
	_cleanup_(BN_clear_freep) BIGNUM *p = BN_new(), *x = BN_lebin2bn(pub, 32, NULL),
					 *y = BN_lebin2bn(pub + 32, 32, NULL);
	_cleanup_(EC_POINT_clear_freep) EC_POINT *pt = EC_POINT_new(g);
	bool on_curve;

	if (!p || !x || !y || !pt)
		return -ENOMEM;
	if (EC_GROUP_get_curve(g, p, NULL, NULL, bc) != 1)
		return -EIO;
	/* SEC1 3.2.2.1: each coordinate an integer in [0, p-1]; libcrypto would reduce one above */
	if (BN_cmp(x, p) >= 0 || BN_cmp(y, p) >= 0)
		return -EINVAL;
	/* An affine point is never the point at infinity; the curve's cofactor is 1, so a point on
	 * it has the group's prime order. */
	ERR_set_mark();
	on_curve = EC_POINT_set_affine_coordinates(g, pt, x, y, bc) == 1 &&
		   EC_POINT_is_on_curve(g, pt, bc) == 1;
	ERR_pop_to_mark();
	return on_curve ? 0 : -EINVAL;
}

int sm_p256_check_public(const uint8_t pub[SM_P256_PUBLIC_LEN])
{
	_cleanup_(EC_GROUP_freep) EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	_cleanup_(BN_CTX_freep) BN_CTX *bc = BN_CTX_new();

	if (!g || !bc)
		return -ENOMEM;
	return point_check(g, pub, bc);
}

/* An EVP_PKEY of the point sec1 and, when priv is given, its private scalar. */
static int pkey_build(const BIGNUM *priv, const uint8_t sec1[SEC1_LEN], EVP_PKEY **ret)
{
	_cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx =
		EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	_cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;

	if (!bld || !ctx)
		return -ENOMEM;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1,
					    0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, sec1, SEC1_LEN) != 1 ||
	    (priv && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1))
		return -ENOMEM;
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!params)
		return -ENOMEM;
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, ret, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
		return -EIO;
	return 0;
}

static int key_wrap(EVP_PKEY **pkey, const uint8_t sec1[SEC1_LEN], size_t len,
		    struct sm_p256_key **ret)
{
	struct sm_p256_key *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return -ENOMEM;
	err = from_sec1(sec1, len, k->pub);
	if (err < 0) {
		free(k);
		return err;
	}
	k->pkey = TAKE_PTR(*pkey);
	*ret = k;
	return 0;
}

int sm_p256_key_new(struct sm_p256_key **ret)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	uint8_t sec1[SEC1_LEN];
	size_t len = 0;

	if (!pk)
		return -ENOMEM;
	if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, sec1, sizeof(sec1),
					    &len) != 1)
		return -EIO;
	return key_wrap(&pk, sec1, len, ret);
}

int sm_p256_key_from_private(const uint8_t priv[SM_P256_PRIVATE_LEN], struct sm_p256_key **ret)
{
	_cleanup_(EC_GROUP_freep) EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	_cleanup_(BN_CTX_freep) BN_CTX *bc = BN_CTX_new();
	_cleanup_(BN_clear_freep) BIGNUM *d = BN_lebin2bn(priv, SM_P256_PRIVATE_LEN, NULL);
	_cleanup_(EC_POINT_clear_freep) EC_POINT *pt = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = NULL;
	uint8_t sec1[SEC1_LEN];
	size_t len;
	int err;

	if (!g || !bc || !d)
		return -ENOMEM;
	BN_set_flags(d, BN_FLG_CONSTTIME);
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(g)) >= 0)
		return -EINVAL;
	pt = EC_POINT_new(g);
	if (!pt)
		return -ENOMEM;
	if (EC_POINT_mul(g, pt, d, NULL, NULL, bc) != 1)
		return -EIO;
	len = EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, sec1, sizeof(sec1), bc);
	if (len != sizeof(sec1))
		return -EIO;
	err = pkey_build(d, sec1, &pk);
	if (err < 0)
		return err;
	return key_wrap(&pk, sec1, len, ret);
}

static int derive(EVP_PKEY *own, EVP_PKEY *peer, uint8_t ret_dhkey[SM_DHKEY_LEN])
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(own, NULL);
	uint8_t secret[SM_DHKEY_LEN];
	size_t len = sizeof(secret);

	if (!ctx)
		return -ENOMEM;
	if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
	    EVP_PKEY_derive(ctx, secret, &len) != 1 || len != sizeof(secret))
		return -EIO;
	/* The shared secret is the X coordinate, MSB-first (SEC1 3.3.1) */
	reverse(ret_dhkey, secret, sizeof(secret));
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
}

int sm_p256_dhkey(const struct sm_p256_key *k, const uint8_t peer[SM_P256_PUBLIC_LEN],
		  uint8_t ret_dhkey[SM_DHKEY_LEN])
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = NULL;
	uint8_t sec1[SEC1_LEN];
	int err;

	err = sm_p256_check_public(peer);
	if (err < 0)
		return err;
	if (memcmp(peer, k->pub, 32) == 0 && !(sm_p256_is_debug(peer) && sm_p256_is_debug(k->pub)))
		return -EEXIST;
	to_sec1(peer, sec1);
	err = pkey_build(NULL, sec1, &pk);
	if (err < 0)
		return err;
	return derive(k->pkey, pk, ret_dhkey);
}
