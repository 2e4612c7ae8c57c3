/* init.c - library start-up and a description of what the linked wolfSSL was built with. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/version.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include "crypto/crypto.h"
#include "crypto/internal.h"

/* The feature list is fixed at compile time from wolfssl/options.h (the linked static
 * library and its options.h are built together by mk/deps.sh), so a const table is enough. */
static const char features[] = ""
#ifdef WOLFSSL_AESNI
	"aesni "
#endif
#ifdef USE_INTEL_SPEEDUP
	"intelasm "
#endif
#ifdef WOLFSSL_ARMASM
	"armasm "
#endif
#ifdef WOLFSSL_SP_ASM
	"sp-asm "
#endif
#ifdef WOLFSSL_SP_4096
	"sp-4096 "
#endif
#ifdef WOLFSSL_TLS13
	"tls13 "
#endif
#ifdef HAVE_AESGCM
	"aesgcm "
#endif
#ifdef WOLFSSL_AESGCM_STREAM
	"aesgcm-stream "
#endif
#ifdef HAVE_CHACHA
	"chacha20-poly1305 "
#endif
#ifdef HAVE_CURVE25519
	"x25519 "
#endif
#ifdef HAVE_ECC
	"ecc "
#endif
#ifdef WC_RSA_PSS
	"rsa-pss "
#endif
#ifdef WOLFSSL_KEY_GEN
	"keygen "
#endif
#ifdef HAVE_HKDF
	"hkdf "
#endif
#ifdef HAVE_SNI
	"sni "
#endif
#ifdef HAVE_SESSION_TICKET
	"session-ticket "
#endif
#ifdef HAVE_HASHDRBG
	"hashdrbg"
#endif
	;

int cry_init(void)
{
	/* wolfCrypt_Init counts its own callers, so repeated calls are harmless. */
	return wolfCrypt_Init() == 0 ? 0 : -1;
}

void cry_cleanup(void)
{
	cry_rng_cleanup();
	wolfCrypt_Cleanup();
}

const char *cry_library_version(void)
{
	return "wolfSSL " LIBWOLFSSL_VERSION_STRING;
}

const char *cry_features(void)
{
	return features;
}
