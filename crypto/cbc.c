/* cbc.c - AES-CBC and AES-ECB with PKCS#7 padding, checked strictly on decryption.
 * The padding check looks at all 16 final bytes whatever their value, so its time does
 * not tell a padding oracle which byte was wrong. */
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/aes.h>

#include "crypto/crypto.h"

#define BLK 16

static int key_ok(const uint8_t *key, size_t keylen)
{
	return key && (keylen == 16 || keylen == 24 || keylen == 32);
}

/* Copies in to out and appends 1..16 padding bytes; returns the padded length. */
static size_t pad(const void *in, size_t len, uint8_t *out)
{
	size_t n = BLK - len % BLK;

	if (len)
		memmove(out, in, len);
	memset(out + len, (int)n, n);
	return len + n;
}

/* 0xff when a < b, else 0; a, b <= 255. */
static uint8_t lt_mask(unsigned a, unsigned b)
{
	return (uint8_t)(0 - ((a - b) >> (sizeof(unsigned) * 8 - 1)));
}

/* Returns the plaintext length, or -1 for bad padding, without an early exit. */
static ssize_t unpad(const uint8_t *pt, size_t len)
{
	unsigned p = pt[len - 1];
	uint8_t bad = 0;

	bad |= (uint8_t)~lt_mask(0, p);        /* p == 0 */
	bad |= (uint8_t)~lt_mask(p, BLK + 1);  /* p > 16 */
	for (unsigned i = 0; i < BLK; i++) {
		uint8_t in_pad = lt_mask(i, p);
		bad |= in_pad & (uint8_t)(pt[len - 1 - i] ^ p);
	}
	if (bad)
		return -1;
	return (ssize_t)(len - p);
}

/* ECB block by block: the static wolfSSL is built without wc_AesEcb*, but with AES
 * direct (one block) which is what ECB is. */
static int ecb(Aes *aes, int enc, uint8_t *out, const uint8_t *in, size_t len)
{
	for (size_t i = 0; i < len; i += BLK) {
		int rc = enc ? wc_AesEncryptDirect(aes, out + i, in + i)
			     : wc_AesDecryptDirect(aes, out + i, in + i);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int set_key(Aes *aes, const uint8_t *key, size_t keylen, const uint8_t *iv, int dir)
{
	if (wc_AesInit(aes, NULL, INVALID_DEVID) != 0)
		return -1;
	if (wc_AesSetKey(aes, key, (word32)keylen, iv, dir) != 0) {
		wc_AesFree(aes);
		return -1;
	}
	return 0;
}

static ssize_t aes_pad_encrypt(int cbc, const uint8_t *key, size_t keylen, const uint8_t *iv,
			       const void *in, size_t len, uint8_t *out)
{
	Aes aes;
	ssize_t rc = -1;
	size_t n;

	if (!key_ok(key, keylen) || (cbc && !iv) || !out || (len && !in) ||
	    len > UINT32_MAX - BLK)
		return -1;
	if (set_key(&aes, key, keylen, iv, AES_ENCRYPTION) < 0)
		return -1;
	n = pad(in, len, out);
	if ((cbc ? wc_AesCbcEncrypt(&aes, out, out, (word32)n)
		 : ecb(&aes, 1, out, out, n)) != 0) {
		cry_wipe(out, n);
		goto out;
	}
	rc = (ssize_t)n;
out:
	wc_AesFree(&aes);
	cry_wipe(&aes, sizeof(aes));
	return rc;
}

static ssize_t aes_pad_decrypt(int cbc, const uint8_t *key, size_t keylen, const uint8_t *iv,
			       const void *in, size_t len, uint8_t *out)
{
	Aes aes;
	ssize_t rc = -1;

	if (!key_ok(key, keylen) || (cbc && !iv) || !in || !out || len == 0 || len % BLK ||
	    len > UINT32_MAX)
		return -1;
	if (set_key(&aes, key, keylen, iv, AES_DECRYPTION) < 0)
		return -1;
	if ((cbc ? wc_AesCbcDecrypt(&aes, out, in, (word32)len)
		 : ecb(&aes, 0, out, in, len)) != 0)
		goto fail;
	rc = unpad(out, len);
	if (rc < 0)
		goto fail;
	goto out;
fail:
	cry_wipe(out, len);
	rc = -1;
out:
	wc_AesFree(&aes);
	cry_wipe(&aes, sizeof(aes));
	return rc;
}

ssize_t cry_cbc_encrypt(const uint8_t *key, size_t keylen, const uint8_t iv[16],
			const void *in, size_t len, uint8_t *out)
{
	return aes_pad_encrypt(1, key, keylen, iv, in, len, out);
}

ssize_t cry_cbc_decrypt(const uint8_t *key, size_t keylen, const uint8_t iv[16],
			const void *in, size_t len, uint8_t *out)
{
	return aes_pad_decrypt(1, key, keylen, iv, in, len, out);
}

ssize_t cry_ecb_encrypt(const uint8_t *key, size_t keylen, const void *in, size_t len, uint8_t *out)
{
	return aes_pad_encrypt(0, key, keylen, NULL, in, len, out);
}

ssize_t cry_ecb_decrypt(const uint8_t *key, size_t keylen, const void *in, size_t len, uint8_t *out)
{
	return aes_pad_decrypt(0, key, keylen, NULL, in, len, out);
}
