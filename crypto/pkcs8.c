/* pkcs8.c - password-protected private keys (PKCS#8 PBES2): decryption of any layout
 * pbes2.c parses, encryption in the layout DRACOON's SDKs write. */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"
#include "crypto/pkcs8.h"
#include "crypto/rsa.h"

static const uint8_t oid_pbes2[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d };
static const uint8_t oid_pbkdf2[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c };
static const uint8_t oid_aes256_cbc[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a };

/* 1 when buf is exactly one DER SEQUENCE and nothing else: a plaintext that a wrong key
 * produced passes the padding check about once in 256 tries, and then fails here. */
static int is_one_sequence(const uint8_t *p, size_t len)
{
	struct buf_reader r, seq;

	buf_reader_init(&r, p, len);
	return cry_der_get(&r, DER_SEQUENCE, &seq) == 0 && buf_left(&r) == 0;
}

struct cry_rsa *cry_pkcs8_decrypt(const void *data, size_t len, int is_der, const void *pw,
				  size_t pwlen, int *wrong_password)
{
	struct cry_rsa *k = NULL;
	struct cry_pbes2 p;
	uint8_t *der = NULL, *pt = NULL, dk[32];
	size_t derlen = 0;
	ssize_t ptlen;
	char label[64];
	int wrong = 0;

	if (wrong_password)
		*wrong_password = 0;
	if (!data || len == 0 || (pwlen && !pw))
		return NULL;
	if (is_der) {
		der = malloc(len);
		if (!der)
			return NULL;
		memcpy(der, data, len);
		derlen = len;
	} else {
		der = cry_pem_decode_new(data, len, label, sizeof(label), &derlen);
		if (!der)
			return NULL;
		if (strcmp(label, "ENCRYPTED PRIVATE KEY") != 0)
			goto out;
	}
	if (cry_pbes2_parse(der, derlen, &p) < 0 || p.iterations > CRY_PBES2_MAX_ITER)
		goto out;
	pt = malloc(p.ctlen);
	if (!pt)
		goto out;
	if (cry_pbkdf2(p.prf, pw, pwlen, p.salt, p.saltlen, p.iterations, dk, p.keylen) < 0)
		goto out;
	/* Strict PKCS#7 padding, then a PrivateKeyInfo that parses: both fail for a wrong
	 * password (wolfSSL's own PKCS#8 decryption checks neither). */
	ptlen = cry_cbc_decrypt(dk, p.keylen, p.iv, p.ct, p.ctlen, pt);
	if (ptlen <= 0 || !is_one_sequence(pt, (size_t)ptlen)) {
		wrong = 1;
		goto out;
	}
	k = cry_rsa_from_private_der(pt, (size_t)ptlen);
	if (!k)
		wrong = 1;
out:
	cry_wipe(dk, sizeof(dk));
	if (pt) {
		cry_wipe(pt, p.ctlen);
		free(pt);
	}
	free(der); /* ciphertext only: nothing secret */
	if (wrong_password)
		*wrong_password = wrong;
	return k;
}

uint8_t *cry_pkcs8_encrypt_der_new(const struct cry_rsa *k, const void *pw, size_t pwlen,
				   uint32_t iterations, const uint8_t *salt, size_t saltlen,
				   const uint8_t iv[16], size_t *outlen)
{
	struct buf_writer w;
	uint8_t *pki = NULL, *ct = NULL, *out = NULL, dk[32];
	size_t pkilen = 0, cap;
	ssize_t ctlen;

	if (!k || !salt || saltlen == 0 || saltlen > CRY_PBES2_MAX_SALT || !iv || !outlen ||
	    iterations == 0 || (pwlen && !pw))
		return NULL;
	pki = cry_rsa_private_der_new(k, &pkilen);
	if (!pki)
		return NULL;
	ct = malloc(pkilen + 16);
	if (!ct)
		goto out;
	if (cry_pbkdf2(CRY_HASH_SHA1, pw, pwlen, salt, saltlen, iterations, dk, sizeof(dk)) < 0)
		goto out;
	ctlen = cry_cbc_encrypt(dk, sizeof(dk), iv, pki, pkilen, ct);
	if (ctlen < 0)
		goto out;

	/* Lengths from the inside out (DER needs each length before its contents). */
	size_t iterlen = iterations >= 0x800000 ? (iterations >= 0x80000000u ? 5 : 4)
			 : iterations >= 0x8000 ? 3 : iterations >= 0x80 ? 2 : 1;
	size_t kdfprm = cry_der_hdr_len(saltlen) + saltlen + 2 + iterlen;
	size_t kdf = 2 + sizeof(oid_pbkdf2) + cry_der_hdr_len(kdfprm) + kdfprm;
	size_t enc = 2 + sizeof(oid_aes256_cbc) + 2 + 16;
	size_t pbes2prm = cry_der_hdr_len(kdf) + kdf + cry_der_hdr_len(enc) + enc;
	size_t alg = 2 + sizeof(oid_pbes2) + cry_der_hdr_len(pbes2prm) + pbes2prm;
	size_t octet = cry_der_hdr_len((size_t)ctlen) + (size_t)ctlen;
	size_t top = cry_der_hdr_len(alg) + alg + octet;
	cap = cry_der_hdr_len(top) + top;
	out = malloc(cap);
	if (!out)
		goto out;
	buf_writer_fixed(&w, out, cap);
	cry_der_put_hdr(&w, DER_SEQUENCE, top);
	cry_der_put_hdr(&w, DER_SEQUENCE, alg);
	cry_der_put_hdr(&w, DER_OID, sizeof(oid_pbes2));
	buf_put_bytes(&w, oid_pbes2, sizeof(oid_pbes2));
	cry_der_put_hdr(&w, DER_SEQUENCE, pbes2prm);
	cry_der_put_hdr(&w, DER_SEQUENCE, kdf);
	cry_der_put_hdr(&w, DER_OID, sizeof(oid_pbkdf2));
	buf_put_bytes(&w, oid_pbkdf2, sizeof(oid_pbkdf2));
	cry_der_put_hdr(&w, DER_SEQUENCE, kdfprm);
	cry_der_put_hdr(&w, DER_OCTET_STRING, saltlen);
	buf_put_bytes(&w, salt, saltlen);
	cry_der_put_hdr(&w, DER_INTEGER, iterlen);
	for (size_t i = iterlen; i > 0; i--) /* 5 bytes: a leading zero keeps it positive */
		buf_put_u8(&w, i > 4 ? 0 : (uint8_t)(iterations >> (8 * (i - 1))));
	cry_der_put_hdr(&w, DER_SEQUENCE, enc);
	cry_der_put_hdr(&w, DER_OID, sizeof(oid_aes256_cbc));
	buf_put_bytes(&w, oid_aes256_cbc, sizeof(oid_aes256_cbc));
	cry_der_put_hdr(&w, DER_OCTET_STRING, 16);
	buf_put_bytes(&w, iv, 16);
	cry_der_put_hdr(&w, DER_OCTET_STRING, (size_t)ctlen);
	buf_put_bytes(&w, ct, (size_t)ctlen);
	if (w.err || w.len != cap) {
		free(out);
		out = NULL;
		goto out;
	}
	*outlen = cap;
out:
	cry_wipe(dk, sizeof(dk));
	cry_wipe(pki, pkilen);
	free(pki);
	free(ct);
	return out;
}

char *cry_pkcs8_encrypt_pem_new(const struct cry_rsa *k, const void *pw, size_t pwlen,
				uint32_t iterations, size_t saltlen)
{
	uint8_t salt[CRY_PBES2_MAX_SALT], iv[16], *der;
	size_t derlen = 0;
	char *pem;

	if (saltlen == 0 || saltlen > sizeof(salt))
		return NULL;
	if (cry_random(salt, saltlen) < 0 || cry_random(iv, sizeof(iv)) < 0)
		return NULL;
	der = cry_pkcs8_encrypt_der_new(k, pw, pwlen, iterations, salt, saltlen, iv, &derlen);
	if (!der)
		return NULL;
	pem = cry_pem_encode_new("ENCRYPTED PRIVATE KEY", der, derlen);
	free(der);
	return pem;
}
