/* rsa.h - RSA keys: generation, import/export, OAEP, PKCS#1 v1.5 and raw operations. */
#ifndef CRYPTO_RSA_H
#define CRYPTO_RSA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cry_rsa; /* a public key, or a private key (which also holds the public part) */

enum cry_mgf { CRY_MGF1_SHA1 = 1, CRY_MGF1_SHA256 = 2 };

struct cry_rsa *cry_rsa_generate(unsigned bits); /* 2048 or 4096; e = 65537 */
void cry_rsa_free(struct cry_rsa *k);            /* wipes */
int cry_rsa_is_private(const struct cry_rsa *k);
size_t cry_rsa_size(const struct cry_rsa *k);    /* modulus bytes (k) */
unsigned cry_rsa_bits(const struct cry_rsa *k);
/* 1 when both keys have the same modulus and exponent. */
int cry_rsa_public_equal(const struct cry_rsa *a, const struct cry_rsa *b);

/* Import. PEM accepts "PUBLIC KEY" (SPKI), "RSA PUBLIC KEY", "PRIVATE KEY" (PKCS#8),
 * "RSA PRIVATE KEY"; the body may hold CRLF and stray whitespace. */
struct cry_rsa *cry_rsa_from_pem(const char *pem, size_t len);
struct cry_rsa *cry_rsa_from_public_der(const uint8_t *der, size_t len);  /* SPKI or PKCS#1 */
struct cry_rsa *cry_rsa_from_private_der(const uint8_t *der, size_t len); /* PKCS#8 or PKCS#1 */
/* From a big-endian modulus and exponent. */
struct cry_rsa *cry_rsa_from_modexp(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen);

/* Export; caller frees (private exports: wipe first). */
uint8_t *cry_rsa_public_der_new(const struct cry_rsa *k, size_t *len);   /* SPKI */
uint8_t *cry_rsa_private_der_new(const struct cry_rsa *k, size_t *len);  /* PKCS#8 */
char *cry_rsa_public_pem_new(const struct cry_rsa *k);  /* -----BEGIN PUBLIC KEY----- */
char *cry_rsa_private_pem_new(const struct cry_rsa *k); /* -----BEGIN PRIVATE KEY----- */
/* Modulus and exponent, big-endian, into caller memory. */
int cry_rsa_modexp(const struct cry_rsa *k, uint8_t *n, size_t *nlen, uint8_t *e, size_t *elen);

/* OAEP with SHA-256 as the hash, MGF1 as given, empty label. out needs cry_rsa_size. */
ssize_t cry_rsa_oaep_encrypt(struct cry_rsa *k, enum cry_mgf mgf, const void *in, size_t len,
			     uint8_t *out, size_t outcap);
ssize_t cry_rsa_oaep_decrypt(struct cry_rsa *k, enum cry_mgf mgf, const void *in, size_t len,
			     uint8_t *out, size_t outcap);
/* PKCS#1 v1.5 encryption (type 2), public key. */
ssize_t cry_rsa_pkcs1_encrypt(struct cry_rsa *k, const void *in, size_t len, uint8_t *out,
			      size_t outcap);
ssize_t cry_rsa_pkcs1_decrypt(struct cry_rsa *k, const void *in, size_t len, uint8_t *out,
			      size_t outcap);
/* Raw m^e mod n on exactly cry_rsa_size bytes (m < n required), output k bytes.
 * For protocols that define their own padding (hitc); never use it for new designs. */
int cry_rsa_raw_public(struct cry_rsa *k, const uint8_t *in, size_t len, uint8_t *out);
int cry_rsa_raw_private(struct cry_rsa *k, const uint8_t *in, size_t len, uint8_t *out);
#endif
