/* kdf.c - HKDF-SHA256 (RFC 5869) and PBKDF2 (RFC 8018) with HMAC-SHA1 or HMAC-SHA256. */
#include <limits.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/pwdbased.h>

#include "crypto/crypto.h"

static const uint8_t empty[1];

int cry_hkdf_sha256(const void *ikm, size_t ikmlen, const void *salt, size_t saltlen,
		    const void *info, size_t infolen, uint8_t *out, size_t outlen)
{
	/* RFC 5869: at most 255 hash blocks of output. */
	if (!out || outlen == 0 || outlen > 255 * CRY_SHA256_LEN || ikmlen > UINT32_MAX ||
	    saltlen > UINT32_MAX || infolen > UINT32_MAX)
		return -1;
	return wc_HKDF(WC_SHA256, ikmlen ? ikm : empty, (word32)ikmlen,
		       saltlen ? salt : NULL, (word32)saltlen, infolen ? info : NULL,
		       (word32)infolen, out, (word32)outlen) == 0 ? 0 : -1;
}

int cry_pbkdf2(enum cry_hash prf, const void *pw, size_t pwlen, const void *salt,
	       size_t saltlen, uint32_t iterations, uint8_t *out, size_t outlen)
{
	int type;

	switch (prf) {
	case CRY_HASH_SHA1: type = WC_SHA; break;
	case CRY_HASH_SHA256: type = WC_SHA256; break;
	default: return -1;
	}
	if (!out || outlen == 0 || iterations == 0 || iterations > INT_MAX || pwlen > INT_MAX ||
	    saltlen > INT_MAX || outlen > INT_MAX)
		return -1;
	return wc_PBKDF2(out, pwlen ? pw : empty, (int)pwlen, saltlen ? salt : empty,
			 (int)saltlen, (int)iterations, (int)outlen, type) == 0 ? 0 : -1;
}
