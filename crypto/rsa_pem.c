/* rsa_pem.c - RSA key import (SPKI / PKCS#1 / PKCS#8, DER or PEM) and export
 * (SPKI and PKCS#8, DER or PEM). */
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "crypto/crypto.h"
#include "crypto/internal.h"
#include "crypto/rsa.h"

#define MAX_DER 8192 /* a PKCS#8 RSA-8192 key is about 4.8 KB */

struct cry_rsa *cry_rsa_from_public_der(const uint8_t *der, size_t len)
{
	struct cry_rsa *k;
	word32 idx = 0;

	if (!der || len == 0 || len > MAX_DER)
		return NULL;
	k = cry_rsa_alloc();
	if (!k)
		return NULL;
	/* Takes SubjectPublicKeyInfo and bare PKCS#1 RSAPublicKey alike. */
	if (wc_RsaPublicKeyDecode(der, &idx, &k->key, (word32)len) != 0 || idx != len ||
	    cry_rsa_size(k) == 0) {
		cry_rsa_free(k);
		return NULL;
	}
	return k;
}

struct cry_rsa *cry_rsa_from_private_der(const uint8_t *der, size_t len)
{
	struct cry_rsa *k = NULL;
	uint8_t *copy;
	word32 idx = 0, end;
	int off;

	if (!der || len == 0 || len > MAX_DER)
		return NULL;
	/* wc_GetPkcs8TraditionalOffset takes a non-const buffer. */
	copy = malloc(len);
	if (!copy)
		return NULL;
	memcpy(copy, der, len);
	end = (word32)len;
	off = wc_GetPkcs8TraditionalOffset(copy, &idx, end);
	if (off < 0)
		idx = 0; /* not PKCS#8: try PKCS#1 RSAPrivateKey */
	k = cry_rsa_alloc();
	if (!k)
		goto out;
	if (wc_RsaPrivateKeyDecode(copy, &idx, &k->key, end) != 0 || cry_rsa_size(k) == 0) {
		cry_rsa_free(k);
		k = NULL;
		goto out;
	}
	k->priv = 1;
out:
	cry_wipe(copy, len);
	free(copy);
	return k;
}

struct cry_rsa *cry_rsa_from_modexp(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen)
{
	struct cry_rsa *k;

	if (!n || !e || nlen == 0 || elen == 0 || nlen > 1024 || elen > 16)
		return NULL;
	k = cry_rsa_alloc();
	if (!k)
		return NULL;
	if (wc_RsaPublicKeyDecodeRaw(n, (word32)nlen, e, (word32)elen, &k->key) != 0 ||
	    cry_rsa_size(k) == 0) {
		cry_rsa_free(k);
		return NULL;
	}
	return k;
}

struct cry_rsa *cry_rsa_from_pem(const char *pem, size_t len)
{
	struct cry_rsa *k = NULL;
	char label[64];
	size_t derlen = 0;
	uint8_t *der = cry_pem_decode_new(pem, len, label, sizeof(label), &derlen);

	if (!der)
		return NULL;
	if (strcmp(label, "PUBLIC KEY") == 0 || strcmp(label, "RSA PUBLIC KEY") == 0)
		k = cry_rsa_from_public_der(der, derlen);
	else if (strcmp(label, "PRIVATE KEY") == 0 || strcmp(label, "RSA PRIVATE KEY") == 0)
		k = cry_rsa_from_private_der(der, derlen);
	cry_wipe(der, derlen);
	free(der);
	return k;
}

uint8_t *cry_rsa_public_der_new(const struct cry_rsa *k, size_t *len)
{
	uint8_t *der;
	int n;

	if (!k || !len)
		return NULL;
	der = malloc(MAX_DER);
	if (!der)
		return NULL;
	/* SubjectPublicKeyInfo with rsaEncryption and NULL parameters. */
	n = wc_RsaKeyToPublicDer((RsaKey *)&k->key, der, MAX_DER);
	if (n <= 0) {
		free(der);
		return NULL;
	}
	*len = (size_t)n;
	return der;
}

uint8_t *cry_rsa_private_der_new(const struct cry_rsa *k, size_t *len)
{
	uint8_t *pkcs1 = NULL, *der = NULL;
	word32 outsz = MAX_DER;
	int n;

	if (!k || !k->priv || !len)
		return NULL;
	pkcs1 = malloc(MAX_DER);
	der = malloc(MAX_DER);
	if (!pkcs1 || !der)
		goto fail;
	n = wc_RsaKeyToDer((RsaKey *)&k->key, pkcs1, MAX_DER);
	if (n <= 0)
		goto fail;
	/* PrivateKeyInfo { version 0, rsaEncryption NULL, OCTET STRING RSAPrivateKey } */
	if (wc_CreatePKCS8Key(der, &outsz, pkcs1, (word32)n, RSAk, NULL, 0) <= 0)
		goto fail;
	cry_wipe(pkcs1, MAX_DER);
	free(pkcs1);
	*len = outsz;
	return der;
fail:
	if (pkcs1)
		cry_wipe(pkcs1, MAX_DER);
	if (der)
		cry_wipe(der, MAX_DER);
	free(pkcs1);
	free(der);
	return NULL;
}

char *cry_rsa_public_pem_new(const struct cry_rsa *k)
{
	size_t len = 0;
	uint8_t *der = cry_rsa_public_der_new(k, &len);
	char *pem;

	if (!der)
		return NULL;
	pem = cry_pem_encode_new("PUBLIC KEY", der, len);
	free(der);
	return pem;
}

char *cry_rsa_private_pem_new(const struct cry_rsa *k)
{
	size_t len = 0;
	uint8_t *der = cry_rsa_private_der_new(k, &len);
	char *pem;

	if (!der)
		return NULL;
	pem = cry_pem_encode_new("PRIVATE KEY", der, len);
	cry_wipe(der, len);
	free(der);
	return pem;
}
