/* internal.h - shared between the files of crypto/ only (never included outside it).
 * Holds the RSA key object and the small helpers several files need. */
#ifndef CRYPTO_INTERNAL_H
#define CRYPTO_INTERNAL_H

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <stddef.h>
#include <stdint.h>

struct cry_rsa {
	RsaKey key;
	int priv;
};

/* The process-wide DRBG (rand.c); NULL if it cannot be seeded. Callers hold it only for
 * the duration of one wolfSSL call, under cry_rng_lock/unlock. */
WC_RNG *cry_rng_lock(void);
void cry_rng_unlock(void);
void cry_rng_cleanup(void); /* from cry_cleanup */

/* rsa.c: an initialised, empty key object (NULL on allocation failure). */
struct cry_rsa *cry_rsa_alloc(void);

/* pem.c: finds the first "-----BEGIN <label>-----" block and decodes its body leniently
 * (all whitespace dropped). Returns malloc'd DER (caller wipes and frees) and the label
 * in label (NUL-terminated, truncated to labelcap). */
uint8_t *cry_pem_decode_new(const char *pem, size_t len, char *label, size_t labelcap,
			    size_t *derlen);
/* 64-column, LF line ends, trailing newline; caller frees (wipe first for secrets). */
char *cry_pem_encode_new(const char *label, const uint8_t *der, size_t len);

/* der.c: the few DER pieces PBES2 needs, read through core/buf.h's reader. */
struct buf_reader;
struct buf_writer;
/* Reads one TLV with the given tag; sub covers its contents. Definite lengths only,
 * at most 4 length bytes. */
int cry_der_get(struct buf_reader *r, uint8_t tag, struct buf_reader *sub);
/* Reads an OBJECT IDENTIFIER; *oid points at its contents inside the reader's memory. */
int cry_der_get_oid(struct buf_reader *r, const uint8_t **oid, size_t *oidlen);
/* 1 when an OID's contents (oid, len) equal the constant want. */
#define CRY_OID_IS(oid, len, want) ((len) == sizeof(want) && memcmp((oid), (want), (len)) == 0)
/* Tag of the next TLV without consuming it; -1 at the end. */
int cry_der_peek(const struct buf_reader *r);
/* Writes tag and length (the content follows); cry_der_hdr_len says how long that is. */
int cry_der_put_hdr(struct buf_writer *w, uint8_t tag, size_t len);
size_t cry_der_hdr_len(size_t len);

#define DER_INTEGER 0x02
#define DER_OCTET_STRING 0x04
#define DER_NULL 0x05
#define DER_OID 0x06
#define DER_SEQUENCE 0x30
#endif
