/* gcm_stream.c - one AES-256-GCM operation over a long message in pieces (databox files).
 * wolfSSL's streaming API (WOLFSSL_AESGCM_STREAM) keeps partial blocks itself, so any
 * chunking gives the same bytes as the one-shot call. */
#include <stdlib.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/aes.h>

#include "crypto/crypto.h"

struct cry_gcm_stream {
	Aes aes;
	int encrypt;
	int done; /* final called (or failed): no more updates */
};

struct cry_gcm_stream *cry_gcm_stream_new(const uint8_t key[CRY_AES256_KEY_LEN],
					  const uint8_t *iv, size_t ivlen, int encrypt)
{
	struct cry_gcm_stream *s;

	if (!key || !iv || ivlen == 0 || ivlen > UINT32_MAX)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (wc_AesInit(&s->aes, NULL, INVALID_DEVID) != 0) {
		free(s);
		return NULL;
	}
	s->encrypt = encrypt ? 1 : 0;
	if (wc_AesGcmInit(&s->aes, key, CRY_AES256_KEY_LEN, iv, (word32)ivlen) != 0) {
		cry_gcm_stream_free(s);
		return NULL;
	}
	return s;
}

int cry_gcm_stream_aad(struct cry_gcm_stream *s, const void *aad, size_t len)
{
	if (!s || s->done || len > UINT32_MAX || (len && !aad))
		return -1;
	if (len == 0)
		return 0;
	/* AAD goes through the same update call with no text. */
	int rc = s->encrypt ? wc_AesGcmEncryptUpdate(&s->aes, NULL, NULL, 0, aad, (word32)len)
			    : wc_AesGcmDecryptUpdate(&s->aes, NULL, NULL, 0, aad, (word32)len);
	return rc == 0 ? 0 : -1;
}

int cry_gcm_stream_update(struct cry_gcm_stream *s, const void *in, size_t len, uint8_t *out)
{
	const uint8_t *p = in;

	if (!s || s->done || (len && (!in || !out)))
		return -1;
	while (len > 0) {
		word32 n = len > (1u << 30) ? (1u << 30) : (word32)len;
		int rc = s->encrypt ? wc_AesGcmEncryptUpdate(&s->aes, out, p, n, NULL, 0)
				    : wc_AesGcmDecryptUpdate(&s->aes, out, p, n, NULL, 0);
		if (rc != 0) {
			s->done = 1;
			return -1;
		}
		p += n;
		out += n;
		len -= n;
	}
	return 0;
}

int cry_gcm_stream_final(struct cry_gcm_stream *s, uint8_t tag[CRY_GCM_TAG_LEN])
{
	int rc;

	if (!s || s->done || !tag)
		return -1;
	s->done = 1;
	rc = s->encrypt ? wc_AesGcmEncryptFinal(&s->aes, tag, CRY_GCM_TAG_LEN)
			: wc_AesGcmDecryptFinal(&s->aes, tag, CRY_GCM_TAG_LEN);
	return rc == 0 ? 0 : -1;
}

void cry_gcm_stream_free(struct cry_gcm_stream *s)
{
	if (!s)
		return;
	wc_AesFree(&s->aes);
	cry_wipe(s, sizeof(*s));
	free(s);
}
