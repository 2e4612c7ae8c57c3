/* crypto.h - sealbox's crypto core: the only code that includes wolfSSL.
 * Applets use these small named functions; secrets they hand back live in memory the
 * caller owns and must wipe (cry_wipe) before freeing. All functions return 0 / -1
 * (ssize_t byte counts, NULL pointers) unless said otherwise. */
#ifndef CRYPTO_CRYPTO_H
#define CRYPTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Called once at start (main.c). Idempotent. */
int cry_init(void);
void cry_cleanup(void);
const char *cry_library_version(void);   /* "wolfSSL 5.5.4" */
const char *cry_features(void);          /* "aesni sp-asm tls13 ..." as built */

/* ---- random ---- */
int cry_random(void *out, size_t len);
/* Uniform integer in [lo, hi] without modulo bias. */
int cry_random_range(uint32_t lo, uint32_t hi, uint32_t *out);

/* ---- constant time, wiping ---- */
/* 1 when equal, 0 otherwise; time depends only on len. */
int cry_memeq(const void *a, const void *b, size_t len);
void cry_wipe(void *p, size_t len);

/* ---- hashes, MAC, KDF ---- */
#define CRY_SHA1_LEN 20
#define CRY_SHA256_LEN 32
#define CRY_MD5_LEN 16
enum cry_hash { CRY_HASH_SHA1 = 1, CRY_HASH_SHA256 = 2, CRY_HASH_MD5 = 3 };

int cry_hash(enum cry_hash h, const void *data, size_t len, uint8_t *out);
int cry_sha256(const void *data, size_t len, uint8_t out[CRY_SHA256_LEN]);
/* Streaming SHA-256 for file checksums. */
struct cry_sha256_ctx;
struct cry_sha256_ctx *cry_sha256_new(void);
int cry_sha256_update(struct cry_sha256_ctx *c, const void *data, size_t len);
int cry_sha256_final(struct cry_sha256_ctx *c, uint8_t out[CRY_SHA256_LEN]); /* and frees */
void cry_sha256_free(struct cry_sha256_ctx *c);

int cry_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		    uint8_t out[CRY_SHA256_LEN]);
int cry_hkdf_sha256(const void *ikm, size_t ikmlen, const void *salt, size_t saltlen,
		    const void *info, size_t infolen, uint8_t *out, size_t outlen);
/* PBKDF2 with HMAC-SHA1 or HMAC-SHA256. */
int cry_pbkdf2(enum cry_hash prf, const void *pw, size_t pwlen, const void *salt,
	       size_t saltlen, uint32_t iterations, uint8_t *out, size_t outlen);

/* ---- AES-256-GCM ---- */
#define CRY_AES256_KEY_LEN 32
#define CRY_GCM_TAG_LEN 16
#define CRY_GCM_NONCE_LEN 12

/* A keyed AEAD for many messages (key schedule done once): tunnel packets, hitc lines. */
struct cry_aead;
struct cry_aead *cry_aead_new(const uint8_t key[CRY_AES256_KEY_LEN]);
void cry_aead_free(struct cry_aead *a); /* wipes */
int cry_aead_seal(struct cry_aead *a, const uint8_t *nonce, size_t noncelen,
		  const void *aad, size_t aadlen, const void *in, size_t len, uint8_t *out,
		  uint8_t tag[CRY_GCM_TAG_LEN]);
/* -1 on a wrong tag; out is then wiped. in and out may be the same buffer. */
int cry_aead_open(struct cry_aead *a, const uint8_t *nonce, size_t noncelen,
		  const void *aad, size_t aadlen, const void *in, size_t len, uint8_t *out,
		  const uint8_t tag[CRY_GCM_TAG_LEN]);

/* Streaming GCM over one long message (databox files): constant memory, any chunk
 * sizes, output byte-identical to one-shot. */
struct cry_gcm_stream;
struct cry_gcm_stream *cry_gcm_stream_new(const uint8_t key[CRY_AES256_KEY_LEN],
					  const uint8_t *iv, size_t ivlen, int encrypt);
int cry_gcm_stream_aad(struct cry_gcm_stream *s, const void *aad, size_t len);
int cry_gcm_stream_update(struct cry_gcm_stream *s, const void *in, size_t len, uint8_t *out);
/* encrypt: writes the tag. decrypt: checks it, -1 if it does not match. */
int cry_gcm_stream_final(struct cry_gcm_stream *s, uint8_t tag[CRY_GCM_TAG_LEN]);
void cry_gcm_stream_free(struct cry_gcm_stream *s); /* wipes */

/* ---- AES-CBC with PKCS#7 padding (key 16/24/32 bytes, iv 16) ---- */
/* out needs len + 16 bytes. Returns the ciphertext length. */
ssize_t cry_cbc_encrypt(const uint8_t *key, size_t keylen, const uint8_t iv[16],
			const void *in, size_t len, uint8_t *out);
/* Checks the padding strictly; returns the plaintext length or -1. */
ssize_t cry_cbc_decrypt(const uint8_t *key, size_t keylen, const uint8_t iv[16],
			const void *in, size_t len, uint8_t *out);
/* AES-ECB with PKCS#7 (legacy protocols only). */
ssize_t cry_ecb_encrypt(const uint8_t *key, size_t keylen, const void *in, size_t len, uint8_t *out);
ssize_t cry_ecb_decrypt(const uint8_t *key, size_t keylen, const void *in, size_t len, uint8_t *out);
#endif
