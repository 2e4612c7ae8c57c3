/* dbx_keys.c - key pair unlock and generation, file key wrap/unwrap, as DRACOON's SDKs
 * do them (specs/databox-crypto.md §1-3). All primitives come from crypto/. */
#include <stdlib.h>
#include <string.h>

#include "applets/databox/dbx_keys.h"
#include "core/encoding.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "crypto/pkcs8.h"
#include "crypto/rsa.h"

#define PEM_ENC_BEGIN "-----BEGIN ENCRYPTED PRIVATE KEY-----"
#define PEM_ENC_END "-----END ENCRYPTED PRIVATE KEY-----"

/* The DER inside an ENCRYPTED PRIVATE KEY PEM; whitespace (CRLF, indentation, blank
 * lines) in the body is skipped. Caller frees. */
static uint8_t *enc_pem_to_der(const char *pem, size_t *derlen)
{
	const char *b = strstr(pem, PEM_ENC_BEGIN);
	if (!b)
		return NULL;
	b += strlen(PEM_ENC_BEGIN);
	const char *e = strstr(b, PEM_ENC_END);
	if (!e)
		return NULL;
	size_t cap = (size_t)(e - b) / 4 * 3 + 3;
	uint8_t *der = malloc(cap);
	if (!der)
		return NULL;
	ssize_t n = base64_decode(b, (size_t)(e - b), der, cap, 1);
	if (n <= 0) {
		free(der);
		return NULL;
	}
	*derlen = (size_t)n;
	return der;
}

/* ISO-8859-1 bytes of a UTF-8 password, when they differ from the UTF-8 bytes and
 * every code point fits (<= U+00FF). Caller frees with secret_free_str. */
static char *utf8_to_latin1(const char *s)
{
	size_t n = strlen(s), o;
	char *out = utf8_to_latin1_new((const uint8_t *)s, n, &o); /* beyond Latin-1: no second try */
	if (out && o == n) { /* ASCII only: the same bytes, no second try either */
		secret_free_str(out);
		return NULL;
	}
	return out;
}

static int check_bits(const struct cry_rsa *k, int version, const char *what, char *err,
		      size_t errlen)
{
	if (cry_rsa_bits(k) != dbx_kp_version_bits(version)) {
		str_fmt(err, errlen, "%s is RSA-%u, but its version %s means RSA-%u", what,
			cry_rsa_bits(k), dbx_kp_version_name(version), dbx_kp_version_bits(version));
		return -1;
	}
	return 0;
}

int dbx_private_key_info(const char *pem, struct dbx_unlock_info *info)
{
	struct cry_pbes2 p;
	size_t derlen;
	uint8_t *der = enc_pem_to_der(pem, &derlen);
	int rc = -1;

	memset(info, 0, sizeof(*info));
	if (der && cry_pbes2_parse(der, derlen, &p) == 0) {
		info->prf = p.prf;
		info->iterations = p.iterations;
		info->saltlen = p.saltlen;
		rc = 0;
	}
	free(der);
	return rc;
}

struct cry_rsa *dbx_keypair_public(const struct dbx_keypair *kp, char *err, size_t errlen)
{
	if (!kp->public_pem) {
		str_copy(err, "no public key in the key container", errlen);
		return NULL;
	}
	if (!strstr(kp->public_pem, "-----BEGIN PUBLIC KEY-----")) {
		str_copy(err, "public key is not a \"BEGIN PUBLIC KEY\" PEM", errlen);
		return NULL;
	}
	struct cry_rsa *k = cry_rsa_from_pem(kp->public_pem, strlen(kp->public_pem));
	if (!k) {
		str_copy(err, "public key does not parse (bad PEM or DER)", errlen);
		return NULL;
	}
	if (check_bits(k, kp->pub_version, "public key", err, errlen) < 0) {
		cry_rsa_free(k);
		return NULL;
	}
	return k;
}

struct cry_rsa *dbx_keypair_unlock(const struct dbx_keypair *kp, const char *password,
				   struct dbx_unlock_info *info, int *wrong_password, char *err,
				   size_t errlen)
{
	struct cry_rsa *k = NULL, *pub = NULL;
	struct cry_pbes2 p;
	uint8_t *der = NULL;
	size_t derlen = 0;
	char *latin1 = NULL;
	int wrong = 0;

	*wrong_password = 0;
	memset(info, 0, sizeof(*info));
	if (!kp->private_pem) {
		str_copy(err, "no private key in the key container", errlen);
		return NULL;
	}
	der = enc_pem_to_der(kp->private_pem, &derlen);
	if (!der) {
		str_copy(err, "private key is not an \"ENCRYPTED PRIVATE KEY\" PEM", errlen);
		return NULL;
	}
	if (cry_pbes2_parse(der, derlen, &p) < 0) {
		str_copy(err, "private key: not a PKCS#8 PBES2 structure this reader knows "
			 "(PBKDF2 HMAC-SHA1/SHA256, AES-CBC)", errlen);
		goto out;
	}
	info->prf = p.prf;
	info->iterations = p.iterations;
	info->saltlen = p.saltlen;
	if (kp->public_pem) {
		pub = dbx_keypair_public(kp, err, errlen);
		if (!pub)
			goto out;
	}
	k = cry_pkcs8_decrypt(der, derlen, 1, password, strlen(password), &wrong);
	if (!k && wrong) {
		latin1 = utf8_to_latin1(password);
		if (latin1) {
			k = cry_pkcs8_decrypt(der, derlen, 1, latin1, strlen(latin1), &wrong);
			if (k)
				info->latin1 = 1;
		}
	}
	if (!k) {
		if (wrong) {
			*wrong_password = 1;
			str_copy(err, "wrong password (the private key does not decrypt)", errlen);
		} else {
			str_copy(err, "private key does not decrypt (corrupt container)", errlen);
		}
		goto out;
	}
	if (check_bits(k, kp->priv_version, "private key", err, errlen) < 0)
		goto fail;
	if (pub && !cry_rsa_public_equal(k, pub)) {
		str_copy(err, "private key does not belong to the public key in the container "
			 "(modulus differs)", errlen);
		goto fail;
	}
	goto out;
fail:
	cry_rsa_free(k);
	k = NULL;
out:
	cry_rsa_free(pub);
	secret_free_str(latin1);
	free(der);
	return k;
}

static json_t *container(int version, const char *field, const char *pem)
{
	json_t *o = json_object();
	if (!o || json_object_set_new(o, "version", json_string(dbx_kp_version_name(version))) < 0 ||
	    json_object_set_new(o, field, json_string(pem)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *dbx_keypair_generate(int version, const char *password, uint32_t iterations,
			     char *err, size_t errlen)
{
	struct cry_rsa *k = NULL;
	char *priv = NULL, *pub = NULL;
	json_t *root = NULL, *pc = NULL, *uc = NULL;
	unsigned bits = dbx_kp_version_bits(version);

	if (!bits) {
		str_copy(err, "unknown key pair version", errlen);
		return NULL;
	}
	k = cry_rsa_generate(bits);
	if (!k) {
		str_fmt(err, errlen, "RSA-%u key generation failed", bits);
		goto out;
	}
	priv = cry_pkcs8_encrypt_pem_new(k, password, strlen(password), iterations,
					 DBX_PBKDF2_SALT_LEN);
	pub = cry_rsa_public_pem_new(k);
	if (!priv || !pub) {
		str_copy(err, "key export failed", errlen);
		goto out;
	}
	pc = container(version, "privateKey", priv);
	uc = container(version, "publicKey", pub);
	root = json_object();
	if (!pc || !uc || !root || json_object_set(root, "privateKeyContainer", pc) < 0 ||
	    json_object_set(root, "publicKeyContainer", uc) < 0) {
		json_decref(root);
		root = NULL;
		str_copy(err, "out of memory", errlen);
	}
out:
	json_decref(pc);
	json_decref(uc);
	free(priv); /* encrypted: nothing secret */
	free(pub);
	cry_rsa_free(k);
	return root;
}

static enum cry_mgf mgf_for(int kp_version)
{
	return kp_version == DBX_KP_A ? CRY_MGF1_SHA1 : CRY_MGF1_SHA256;
}

int dbx_file_key_wrap(const struct dbx_file_key *plain, struct cry_rsa *pub, int kp_version,
		      struct dbx_file_key *enc, char *err, size_t errlen)
{
	if (plain->encrypted || plain->keylen != DBX_FILE_KEY_LEN) {
		str_copy(err, "not a plain file key", errlen);
		return -1;
	}
	if (check_bits(pub, kp_version, "public key", err, errlen) < 0)
		return -1;
	memset(enc, 0, sizeof(*enc));
	ssize_t n = cry_rsa_oaep_encrypt(pub, mgf_for(kp_version), plain->key, plain->keylen,
					 enc->key, sizeof(enc->key));
	if (n != (ssize_t)cry_rsa_size(pub)) {
		str_copy(err, "RSA-OAEP encryption failed", errlen);
		return -1;
	}
	enc->encrypted = 1;
	enc->version = kp_version;
	enc->keylen = (size_t)n;
	memcpy(enc->iv, plain->iv, sizeof(enc->iv));
	memcpy(enc->tag, plain->tag, sizeof(enc->tag));
	enc->has_tag = plain->has_tag;
	return 0;
}

int dbx_file_key_unwrap(const struct dbx_file_key *enc, struct cry_rsa *priv, int kp_version,
			struct dbx_file_key *plain, char *err, size_t errlen)
{
	if (!enc->encrypted) {
		str_copy(err, "not an encrypted file key", errlen);
		return -1;
	}
	if (enc->version != kp_version) {
		str_fmt(err, errlen, "file key version %s does not fit key pair version %s "
			"(A goes with A, RSA-4096 with RSA-4096/AES-256-GCM)",
			dbx_fk_version_name(enc->version), dbx_kp_version_name(kp_version));
		return -1;
	}
	memset(plain, 0, sizeof(*plain));
	ssize_t n = cry_rsa_oaep_decrypt(priv, mgf_for(kp_version), enc->key, enc->keylen,
					 plain->key, sizeof(plain->key));
	if (n != DBX_FILE_KEY_LEN) {
		dbx_file_key_wipe(plain);
		str_copy(err, "file key does not decrypt with this private key "
			 "(RSA-OAEP failed: wrong key or corrupt file key)", errlen);
		return -1;
	}
	plain->keylen = DBX_FILE_KEY_LEN;
	memcpy(plain->iv, enc->iv, sizeof(plain->iv));
	memcpy(plain->tag, enc->tag, sizeof(plain->tag));
	plain->has_tag = enc->has_tag;
	return 0;
}

int dbx_file_key_new(struct dbx_file_key *fk)
{
	memset(fk, 0, sizeof(*fk));
	fk->keylen = DBX_FILE_KEY_LEN;
	if (cry_random(fk->key, DBX_FILE_KEY_LEN) < 0 || cry_random(fk->iv, DBX_FILE_IV_LEN) < 0) {
		dbx_file_key_wipe(fk);
		return -1;
	}
	return 0;
}
