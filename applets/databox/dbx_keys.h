/* dbx_keys.h - DRACOON-compatible key material (docs/databox.md, specs/databox-crypto.md):
 * user key pair containers, plain and encrypted file keys, their JSON forms, and the
 * operations on them (unlock, wrap, unwrap). JSON is jansson's; parsing never trusts
 * its input (fuzzed by tests/fuzz/fuzz_dbx_keyjson.c). */
#ifndef DBX_KEYS_H
#define DBX_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct cry_rsa;

/* Key pair versions (the JSON "version" of a UserKeyPairContainer half). */
enum dbx_kp_version { DBX_KP_NONE = 0, DBX_KP_A = 1, DBX_KP_RSA4096 = 2 };

#define DBX_PBKDF2_ITERATIONS 1300000u /* what DRACOON's SDKs write */
#define DBX_PBKDF2_SALT_LEN 20
#define DBX_FILE_KEY_LEN 32
#define DBX_FILE_IV_LEN 12
#define DBX_FILE_TAG_LEN 16
#define DBX_RSA_MAX_BYTES 512
/* One GCM invocation with a 96-bit IV covers 2^32-2 blocks (~64 GiB); stay below. */
#define DBX_MAX_FILE_SIZE (60ULL * 1024 * 1024 * 1024)

int dbx_kp_version_parse(const char *s);          /* DBX_KP_NONE if unknown */
const char *dbx_kp_version_name(int v);           /* "A" / "RSA-4096" */
unsigned dbx_kp_version_bits(int v);              /* 2048 / 4096 */
const char *dbx_fk_version_name(int kp_version);  /* encrypted file key: "A" / "RSA-4096/AES-256-GCM" */

/* The halves of a key pair found in a JSON document; pointers borrow from the json_t. */
struct dbx_keypair {
	int priv_version;         /* DBX_KP_NONE when there is no private half */
	const char *private_pem;
	int pub_version;          /* DBX_KP_NONE when there is no public half */
	const char *public_pem;
};

/* Finds the key pair halves in any of the shapes the SDKs use: a bare half
 * {"version","privateKey"|"publicKey"}, a UserKeyPairContainer {privateKeyContainer,
 * publicKeyContainer}, or a test file {encryptedUserKeyPairContainer: ...}. Rejects
 * unknown versions, halves whose versions differ, and keys that are not PEM strings. */
int dbx_keypair_from_json(json_t *root, struct dbx_keypair *kp, char *err, size_t errlen);

/* A file key: plain (key is the 32-byte AES key) or encrypted (key is the RSA-OAEP
 * ciphertext). iv and tag are the same in both forms. */
struct dbx_file_key {
	int encrypted;
	int version;          /* encrypted: DBX_KP_A / DBX_KP_RSA4096; plain: 0 */
	int plain_js;         /* plain read as "AES-256-GCM" rather than "A" (written as "AES-256-GCM" always) */
	uint8_t key[DBX_RSA_MAX_BYTES];
	size_t keylen;
	uint8_t iv[DBX_FILE_IV_LEN];
	uint8_t tag[DBX_FILE_TAG_LEN];
	int has_tag;          /* tag is JSON null until the file is encrypted */
};

/* encrypted: 0 parses a plain file key, 1 an encrypted one. */
int dbx_file_key_from_json(json_t *o, int encrypted, struct dbx_file_key *fk, char *err,
			   size_t errlen);
/* New JSON object in the SDK field order (version, key, iv, tag); NULL on OOM. */
json_t *dbx_file_key_to_json(const struct dbx_file_key *fk);
void dbx_file_key_wipe(struct dbx_file_key *fk);

/* ---- JSON files ---- */
/* Parses text (strict JSON; on failure once more with raw CR/LF/TAB inside strings
 * escaped, which the Ruby SDK's files contain). NULL with a message on error. */
json_t *dbx_json_parse(const char *text, size_t len, char *err, size_t errlen);
json_t *dbx_json_load(const char *path, char *err, size_t errlen);
/* Two-space indented, fields in insertion order, no trailing newline: the layout of the
 * Java SDK's files, byte for byte. Caller frees. */
char *dbx_json_dump_new(const json_t *o);
/* Atomic write (tmp + fsync + rename) with mode (0600 for anything secret). */
int dbx_json_save(const char *path, const json_t *o, unsigned mode);

/* ---- operations ---- */
struct dbx_unlock_info {
	int prf;              /* CRY_HASH_SHA1 / CRY_HASH_SHA256 */
	uint32_t iterations;
	size_t saltlen;
	int latin1;           /* 1 when the password matched as ISO-8859-1 bytes */
};

/* Unlocks the private half with password (UTF-8 bytes, then Latin-1 when every code
 * point is <= U+00FF), checks its size against the version and, when the public half is
 * there, that both have the same modulus. Returns the private key or NULL; a wrong
 * password sets *wrong_password. The caller frees with cry_rsa_free. */
struct cry_rsa *dbx_keypair_unlock(const struct dbx_keypair *kp, const char *password,
				   struct dbx_unlock_info *info, int *wrong_password, char *err,
				   size_t errlen);
/* Reads the PBES2 parameters of an ENCRYPTED PRIVATE KEY PEM without decrypting it
 * (cheap: no PBKDF2). 0, or -1 when it is not such a PEM. */
int dbx_private_key_info(const char *pem, struct dbx_unlock_info *info);
/* The public half as a key (checks its size against its version). */
struct cry_rsa *dbx_keypair_public(const struct dbx_keypair *kp, char *err, size_t errlen);

/* New key pair of version with the private key under password. Returns a
 * UserKeyPairContainer {privateKeyContainer, publicKeyContainer}; NULL on error. */
json_t *dbx_keypair_generate(int version, const char *password, uint32_t iterations,
			     char *err, size_t errlen);

/* RSA-OAEP as the spec's table says: SHA-256, MGF1-SHA1 for A, MGF1-SHA256 for RSA-4096. */
int dbx_file_key_wrap(const struct dbx_file_key *plain, struct cry_rsa *pub, int kp_version,
		      struct dbx_file_key *enc, char *err, size_t errlen);
int dbx_file_key_unwrap(const struct dbx_file_key *enc, struct cry_rsa *priv, int kp_version,
			struct dbx_file_key *plain, char *err, size_t errlen);
/* A fresh random plain file key without a tag. */
int dbx_file_key_new(struct dbx_file_key *fk);
#endif
