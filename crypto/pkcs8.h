/* pkcs8.h - password-protected private keys: PKCS#8 EncryptedPrivateKeyInfo with PBES2
 * (PBKDF2 HMAC-SHA1 or HMAC-SHA256, AES-128/192/256-CBC). The DER is parsed here, not
 * by wolfSSL, because wolfSSL refuses salts over 64 bytes, which legacy keys use. */
#ifndef CRYPTO_PKCS8_H
#define CRYPTO_PKCS8_H

#include <stddef.h>
#include <stdint.h>

struct cry_rsa;

#define CRY_PBES2_MAX_SALT 1024
/* cry_pkcs8_decrypt refuses more iterations than this (a hostile file must not cost
 * hours of CPU); DRACOON writes 1,300,000. */
#define CRY_PBES2_MAX_ITER 10000000u

struct cry_pbes2 {
	int prf;                 /* CRY_HASH_SHA1 or CRY_HASH_SHA256 */
	uint32_t iterations;
	const uint8_t *salt;     /* points into the parsed DER */
	size_t saltlen;
	size_t keylen;           /* 16, 24 or 32 from the cipher OID */
	const uint8_t *iv;       /* 16 bytes */
	const uint8_t *ct;       /* encrypted PrivateKeyInfo */
	size_t ctlen;
};

/* Parses EncryptedPrivateKeyInfo DER; pointers refer into der. Fuzzed. */
int cry_pbes2_parse(const uint8_t *der, size_t len, struct cry_pbes2 *out);

/* Encrypts k's PKCS#8 PrivateKeyInfo: PBKDF2-HMAC-SHA1, AES-256-CBC, no PRF element
 * (the DRACOON layout). Returns "-----BEGIN ENCRYPTED PRIVATE KEY-----" PEM, 64-column,
 * LF line ends; caller frees. */
char *cry_pkcs8_encrypt_pem_new(const struct cry_rsa *k, const void *pw, size_t pwlen,
				uint32_t iterations, size_t saltlen);
/* The same as DER with caller-chosen salt and IV (deterministic: for test vectors and
 * callers that bring their own randomness). Caller frees; *len is set. */
uint8_t *cry_pkcs8_encrypt_der_new(const struct cry_rsa *k, const void *pw, size_t pwlen,
				   uint32_t iterations, const uint8_t *salt, size_t saltlen,
				   const uint8_t iv[16], size_t *len);
/* Decrypts an ENCRYPTED PRIVATE KEY PEM (or DER when is_der). A wrong password is -1 with
 * *wrong_password = 1 (bad padding or a key that does not parse); other failures leave it 0. */
struct cry_rsa *cry_pkcs8_decrypt(const void *data, size_t len, int is_der, const void *pw,
				  size_t pwlen, int *wrong_password);
#endif
