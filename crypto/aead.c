/* aead.c - AES-256-GCM with a key that is scheduled once and used for many messages. */
#include <stdlib.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/aes.h>

#include "crypto/crypto.h"

struct cry_aead {
	Aes aes; /* holds the expanded key and the GHASH table: per-packet cost is just GCM */
};

struct cry_aead *cry_aead_new(const uint8_t key[CRY_AES256_KEY_LEN])
{
	struct cry_aead *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (wc_AesInit(&a->aes, NULL, INVALID_DEVID) != 0) {
		free(a);
		return NULL;
	}
	if (wc_AesGcmSetKey(&a->aes, key, CRY_AES256_KEY_LEN) != 0) {
		cry_aead_free(a);
		return NULL;
	}
	return a;
}

void cry_aead_free(struct cry_aead *a)
{
	if (!a)
		return;
	wc_AesFree(&a->aes);
	cry_wipe(a, sizeof(*a));
	free(a);
}

static int args_ok(const struct cry_aead *a, const uint8_t *nonce, size_t noncelen,
		   const void *aad, size_t aadlen, const void *in, size_t len, const uint8_t *out)
{
	return a && nonce && noncelen > 0 && noncelen <= UINT32_MAX && aadlen <= UINT32_MAX &&
	       len <= UINT32_MAX && (aad || !aadlen) && ((in && out) || !len);
}

int cry_aead_seal(struct cry_aead *a, const uint8_t *nonce, size_t noncelen,
		  const void *aad, size_t aadlen, const void *in, size_t len, uint8_t *out,
		  uint8_t tag[CRY_GCM_TAG_LEN])
{
	if (!args_ok(a, nonce, noncelen, aad, aadlen, in, len, out) || !tag)
		return -1;
	return wc_AesGcmEncrypt(&a->aes, out, in, (word32)len, nonce, (word32)noncelen, tag,
				CRY_GCM_TAG_LEN, aad, (word32)aadlen) == 0 ? 0 : -1;
}

int cry_aead_open(struct cry_aead *a, const uint8_t *nonce, size_t noncelen,
		  const void *aad, size_t aadlen, const void *in, size_t len, uint8_t *out,
		  const uint8_t tag[CRY_GCM_TAG_LEN])
{
	if (!args_ok(a, nonce, noncelen, aad, aadlen, in, len, out) || !tag)
		return -1;
	if (wc_AesGcmDecrypt(&a->aes, out, in, (word32)len, nonce, (word32)noncelen, tag,
			     CRY_GCM_TAG_LEN, aad, (word32)aadlen) != 0) {
		/* Never hand back unauthenticated plaintext. */
		if (len)
			cry_wipe(out, len);
		return -1;
	}
	return 0;
}
