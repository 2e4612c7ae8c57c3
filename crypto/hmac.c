/* hmac.c - HMAC-SHA256 (RFC 2104 / 4231). */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include "crypto/crypto.h"

int cry_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		    uint8_t out[CRY_SHA256_LEN])
{
	Hmac h;
	int rc = -1;

	if (keylen > UINT32_MAX || len > UINT32_MAX || !out)
		return -1;
	if (wc_HmacInit(&h, NULL, INVALID_DEVID) != 0)
		return -1;
	/* wolfSSL rejects a NULL key even when keylen is 0; an empty key is legal HMAC. */
	static const uint8_t empty[1];
	if (wc_HmacSetKey(&h, WC_SHA256, keylen ? key : empty, (word32)keylen) != 0)
		goto out;
	if (len && wc_HmacUpdate(&h, data, (word32)len) != 0)
		goto out;
	if (wc_HmacFinal(&h, out) != 0)
		goto out;
	rc = 0;
out:
	wc_HmacFree(&h);
	cry_wipe(&h, sizeof(h));
	return rc;
}
