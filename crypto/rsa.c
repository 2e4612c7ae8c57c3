/* rsa.c - RSA key objects, generation, and the OAEP / PKCS#1 v1.5 / raw operations.
 * Import and export live in rsa_pem.c. Operations that need randomness (padding, blinding
 * of private operations) borrow the process DRBG for the duration of one call. */
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "crypto/crypto.h"
#include "crypto/internal.h"
#include "crypto/rsa.h"

#define MAX_MOD 1024 /* bytes: RSA-8192 */

struct cry_rsa *cry_rsa_alloc(void)
{
	struct cry_rsa *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	if (wc_InitRsaKey(&k->key, NULL) != 0) {
		free(k);
		return NULL;
	}
	return k;
}

void cry_rsa_free(struct cry_rsa *k)
{
	if (!k)
		return;
	wc_FreeRsaKey(&k->key); /* zeroes the private integers */
	cry_wipe(k, sizeof(*k));
	free(k);
}

struct cry_rsa *cry_rsa_generate(unsigned bits)
{
	struct cry_rsa *k;
	WC_RNG *rng;
	int rc;

	if (bits != 2048 && bits != 4096)
		return NULL;
	k = cry_rsa_alloc();
	if (!k)
		return NULL;
	rng = cry_rng_lock();
	rc = rng ? wc_MakeRsaKey(&k->key, (int)bits, WC_RSA_EXPONENT, rng) : -1;
	cry_rng_unlock();
	if (rc != 0) {
		cry_rsa_free(k);
		return NULL;
	}
	k->priv = 1;
	return k;
}

int cry_rsa_is_private(const struct cry_rsa *k)
{
	return k && k->priv;
}

size_t cry_rsa_size(const struct cry_rsa *k)
{
	int n = k ? wc_RsaEncryptSize(&k->key) : 0;

	return n > 0 ? (size_t)n : 0;
}

int cry_rsa_modexp(const struct cry_rsa *k, uint8_t *n, size_t *nlen, uint8_t *e, size_t *elen)
{
	if (!k || !n || !nlen || !e || !elen || *nlen > UINT32_MAX || *elen > UINT32_MAX)
		return -1;
	word32 ns = (word32)*nlen, es = (word32)*elen;
	/* wolfSSL's API takes a non-const key but does not change it. */
	if (wc_RsaFlattenPublicKey((RsaKey *)&k->key, e, &es, n, &ns) != 0)
		return -1;
	*nlen = ns;
	*elen = es;
	return 0;
}

unsigned cry_rsa_bits(const struct cry_rsa *k)
{
	uint8_t n[MAX_MOD], e[16];
	size_t nl = sizeof(n), el = sizeof(e);

	if (cry_rsa_modexp(k, n, &nl, e, &el) < 0 || nl == 0)
		return 0;
	unsigned bits = (unsigned)nl * 8;
	for (uint8_t top = n[0]; !(top & 0x80) && bits > 0; top = (uint8_t)(top << 1))
		bits--;
	return bits;
}

int cry_rsa_public_equal(const struct cry_rsa *a, const struct cry_rsa *b)
{
	uint8_t na[MAX_MOD], ea[16], nb[MAX_MOD], eb[16];
	size_t nal = sizeof(na), eal = sizeof(ea), nbl = sizeof(nb), ebl = sizeof(eb);

	if (cry_rsa_modexp(a, na, &nal, ea, &eal) < 0 || cry_rsa_modexp(b, nb, &nbl, eb, &ebl) < 0)
		return 0;
	return nal == nbl && eal == ebl && memcmp(na, nb, nal) == 0 && memcmp(ea, eb, eal) == 0;
}

static int mgf_id(enum cry_mgf mgf)
{
	switch (mgf) {
	case CRY_MGF1_SHA1: return WC_MGF1SHA1;
	case CRY_MGF1_SHA256: return WC_MGF1SHA256;
	}
	return -1;
}

/* pad: WC_RSA_OAEP_PAD or WC_RSA_PKCSV15_PAD; mgf ignored for v1.5. */
static ssize_t pub_encrypt(struct cry_rsa *k, int pad, int mgf, const void *in, size_t len,
			   uint8_t *out, size_t outcap)
{
	WC_RNG *rng;
	int rc;

	if (!k || !out || (len && !in) || len > UINT32_MAX || outcap < cry_rsa_size(k) ||
	    outcap > UINT32_MAX)
		return -1;
	rng = cry_rng_lock();
	rc = rng ? wc_RsaPublicEncrypt_ex(in, (word32)len, out, (word32)outcap, &k->key, rng, pad,
					  pad == WC_RSA_OAEP_PAD ? WC_HASH_TYPE_SHA256 : WC_HASH_TYPE_NONE,
					  pad == WC_RSA_OAEP_PAD ? mgf : WC_MGF1NONE, NULL, 0)
		 : -1;
	cry_rng_unlock();
	return rc > 0 ? (ssize_t)rc : -1;
}

static ssize_t priv_decrypt(struct cry_rsa *k, int pad, int mgf, const void *in, size_t len,
			    uint8_t *out, size_t outcap)
{
	WC_RNG *rng;
	int rc;

	if (!k || !k->priv || !in || !out || len != cry_rsa_size(k) || outcap > UINT32_MAX)
		return -1;
	rng = cry_rng_lock();
	/* Blinding of the private operation draws from the key's RNG. */
	rc = rng ? wc_RsaSetRNG(&k->key, rng) : -1;
	if (rc == 0)
		rc = wc_RsaPrivateDecrypt_ex(in, (word32)len, out, (word32)outcap, &k->key, pad,
					     pad == WC_RSA_OAEP_PAD ? WC_HASH_TYPE_SHA256 : WC_HASH_TYPE_NONE,
					     pad == WC_RSA_OAEP_PAD ? mgf : WC_MGF1NONE, NULL, 0);
	k->key.rng = NULL; /* the DRBG is only lent for this call */
	cry_rng_unlock();
	return rc >= 0 ? (ssize_t)rc : -1;
}

ssize_t cry_rsa_oaep_encrypt(struct cry_rsa *k, enum cry_mgf mgf, const void *in, size_t len,
			     uint8_t *out, size_t outcap)
{
	int m = mgf_id(mgf);

	return m < 0 ? -1 : pub_encrypt(k, WC_RSA_OAEP_PAD, m, in, len, out, outcap);
}

ssize_t cry_rsa_oaep_decrypt(struct cry_rsa *k, enum cry_mgf mgf, const void *in, size_t len,
			     uint8_t *out, size_t outcap)
{
	int m = mgf_id(mgf);

	return m < 0 ? -1 : priv_decrypt(k, WC_RSA_OAEP_PAD, m, in, len, out, outcap);
}

ssize_t cry_rsa_pkcs1_encrypt(struct cry_rsa *k, const void *in, size_t len, uint8_t *out,
			      size_t outcap)
{
	return pub_encrypt(k, WC_RSA_PKCSV15_PAD, WC_MGF1NONE, in, len, out, outcap);
}

ssize_t cry_rsa_pkcs1_decrypt(struct cry_rsa *k, const void *in, size_t len, uint8_t *out,
			      size_t outcap)
{
	return priv_decrypt(k, WC_RSA_PKCSV15_PAD, WC_MGF1NONE, in, len, out, outcap);
}

/* 1 when the big-endian number in (exactly the modulus length) is below the modulus. */
static int below_modulus(const struct cry_rsa *k, const uint8_t *in, size_t len)
{
	uint8_t n[MAX_MOD], e[16];
	size_t nl = sizeof(n), el = sizeof(e);

	if (cry_rsa_modexp(k, n, &nl, e, &el) < 0 || nl != len)
		return 0;
	return memcmp(in, n, len) < 0;
}

static int raw(struct cry_rsa *k, int type, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t *tmp;
	WC_RNG *rng;
	word32 outsz;
	int rc;

	if (!k || !in || !out || len == 0 || len != cry_rsa_size(k) || !below_modulus(k, in, len))
		return -1;
	/* wc_RsaDirect takes a non-const input; work on a copy so the caller's stays intact. */
	tmp = malloc(len);
	if (!tmp)
		return -1;
	memcpy(tmp, in, len);
	outsz = (word32)len;
	rng = cry_rng_lock();
	rc = rng ? wc_RsaSetRNG(&k->key, rng) : -1;
	if (rc == 0)
		rc = wc_RsaDirect(tmp, (word32)len, out, &outsz, &k->key, type, rng);
	k->key.rng = NULL; /* the DRBG is only lent for this call */
	cry_rng_unlock();
	cry_wipe(tmp, len);
	free(tmp);
	if (rc < 0)
		return -1;
	/* wolfSSL may return fewer bytes for a small result: left-pad to k bytes. */
	if ((size_t)rc < len) {
		memmove(out + (len - (size_t)rc), out, (size_t)rc);
		memset(out, 0, len - (size_t)rc);
	}
	return 0;
}

int cry_rsa_raw_public(struct cry_rsa *k, const uint8_t *in, size_t len, uint8_t *out)
{
	return raw(k, RSA_PUBLIC_ENCRYPT, in, len, out);
}

int cry_rsa_raw_private(struct cry_rsa *k, const uint8_t *in, size_t len, uint8_t *out)
{
	if (!k || !k->priv)
		return -1;
	return raw(k, RSA_PRIVATE_DECRYPT, in, len, out);
}
