/* hash.c - SHA-1, SHA-256 and MD5, one-shot and streaming SHA-256. */
#include <stdlib.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "crypto/crypto.h"

/* wolfSSL takes word32 lengths; larger inputs are fed in pieces. */
#define CHUNK ((size_t)1 << 30)

struct cry_sha256_ctx {
	wc_Sha256 sha;
};

static enum wc_HashType wc_type(enum cry_hash h)
{
	switch (h) {
	case CRY_HASH_SHA1: return WC_HASH_TYPE_SHA;
	case CRY_HASH_SHA256: return WC_HASH_TYPE_SHA256;
	case CRY_HASH_MD5: return WC_HASH_TYPE_MD5;
	}
	return WC_HASH_TYPE_NONE;
}

int cry_hash(enum cry_hash h, const void *data, size_t len, uint8_t *out)
{
	enum wc_HashType t = wc_type(h);
	wc_HashAlg alg;
	const uint8_t *p = data;
	int rc = -1;

	if (t == WC_HASH_TYPE_NONE || !out || (len && !data))
		return -1;
	if (wc_HashInit(&alg, t) != 0)
		return -1;
	while (len > 0) {
		size_t n = len > CHUNK ? CHUNK : len;
		if (wc_HashUpdate(&alg, t, p, (word32)n) != 0)
			goto out;
		p += n;
		len -= n;
	}
	if (wc_HashFinal(&alg, t, out) != 0)
		goto out;
	rc = 0;
out:
	wc_HashFree(&alg, t);
	return rc;
}

int cry_sha256(const void *data, size_t len, uint8_t out[CRY_SHA256_LEN])
{
	return cry_hash(CRY_HASH_SHA256, data, len, out);
}

struct cry_sha256_ctx *cry_sha256_new(void)
{
	struct cry_sha256_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (wc_InitSha256(&c->sha) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

int cry_sha256_update(struct cry_sha256_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (!c || (len && !data))
		return -1;
	while (len > 0) {
		size_t n = len > CHUNK ? CHUNK : len;
		if (wc_Sha256Update(&c->sha, p, (word32)n) != 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int cry_sha256_final(struct cry_sha256_ctx *c, uint8_t out[CRY_SHA256_LEN])
{
	int rc;

	if (!c)
		return -1;
	rc = wc_Sha256Final(&c->sha, out) == 0 ? 0 : -1;
	cry_sha256_free(c);
	return rc;
}

void cry_sha256_free(struct cry_sha256_ctx *c)
{
	if (!c)
		return;
	wc_Sha256Free(&c->sha);
	cry_wipe(c, sizeof(*c));
	free(c);
}
