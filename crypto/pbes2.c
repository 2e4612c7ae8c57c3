/* pbes2.c - parser for PKCS#8 EncryptedPrivateKeyInfo with PBES2 (RFC 8018 A.4):
 *
 *   SEQUENCE { SEQUENCE { OID pbes2, SEQUENCE {
 *       SEQUENCE { OID pbkdf2, SEQUENCE { OCTET STRING salt, INTEGER iterations,
 *                                         [INTEGER keyLength], [SEQUENCE { OID prf, [NULL] }] } },
 *       SEQUENCE { OID aesNNN-CBC, OCTET STRING iv } } },
 *     OCTET STRING encryptedData }
 *
 * Our own parser because wolfSSL refuses salts over 64 bytes (legacy DRACOON keys carry
 * 128). Input is untrusted (a file or a server response): fuzzed by tests/fuzz/fuzz_pbes2.c. */
#include <string.h>

#include "core/buf.h"
#include "crypto/crypto.h"
#include "crypto/internal.h"
#include "crypto/pkcs8.h"

static const uint8_t oid_pbes2[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d };
static const uint8_t oid_pbkdf2[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c };
static const uint8_t oid_hmac_sha1[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x07 };
static const uint8_t oid_hmac_sha256[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09 };
static const uint8_t oid_aes128_cbc[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02 };
static const uint8_t oid_aes192_cbc[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x16 };
static const uint8_t oid_aes256_cbc[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a };

/* A non-negative DER INTEGER that fits in 32 bits. */
static int get_u32(struct buf_reader *r, uint32_t *v)
{
	struct buf_reader i;
	size_t n;
	uint8_t b;

	if (cry_der_get(r, DER_INTEGER, &i) < 0)
		return -1;
	n = buf_left(&i);
	if (n == 0 || n > 5 || (i.p[i.off] & 0x80))
		return -1;
	if (n == 5) { /* only a leading zero byte may precede four value bytes */
		if (buf_get_u8(&i, &b) < 0 || b != 0)
			return -1;
		n--;
	}
	*v = 0;
	while (n--) {
		if (buf_get_u8(&i, &b) < 0)
			return -1;
		*v = (*v << 8) | b;
	}
	return 0;
}

/* AlgorithmIdentifier of the PBKDF2 PRF: hmacWithSHA1 or hmacWithSHA256, NULL optional. */
static int get_prf(struct buf_reader *r, int *prf)
{
	struct buf_reader alg, null;
	const uint8_t *oid;
	size_t oidlen;

	if (cry_der_get(r, DER_SEQUENCE, &alg) < 0 || cry_der_get_oid(&alg, &oid, &oidlen) < 0)
		return -1;
	if (CRY_OID_IS(oid, oidlen, oid_hmac_sha1))
		*prf = CRY_HASH_SHA1;
	else if (CRY_OID_IS(oid, oidlen, oid_hmac_sha256))
		*prf = CRY_HASH_SHA256;
	else
		return -1;
	if (buf_left(&alg) && (cry_der_get(&alg, DER_NULL, &null) < 0 || buf_left(&null) != 0))
		return -1;
	return buf_left(&alg) == 0 ? 0 : -1;
}

static int get_kdf(struct buf_reader *r, struct cry_pbes2 *out, uint32_t *keylen_field)
{
	struct buf_reader kdf, prm, salt;
	const uint8_t *oid;
	size_t oidlen;

	if (cry_der_get(r, DER_SEQUENCE, &kdf) < 0 || cry_der_get_oid(&kdf, &oid, &oidlen) < 0 ||
	    !CRY_OID_IS(oid, oidlen, oid_pbkdf2) || cry_der_get(&kdf, DER_SEQUENCE, &prm) < 0 ||
	    buf_left(&kdf) != 0)
		return -1;
	if (cry_der_get(&prm, DER_OCTET_STRING, &salt) < 0)
		return -1;
	out->saltlen = buf_left(&salt);
	if (out->saltlen == 0 || out->saltlen > CRY_PBES2_MAX_SALT)
		return -1;
	out->salt = buf_get_ptr(&salt, out->saltlen);
	if (!out->salt || get_u32(&prm, &out->iterations) < 0 || out->iterations == 0)
		return -1;
	*keylen_field = 0;
	if (cry_der_peek(&prm) == DER_INTEGER && get_u32(&prm, keylen_field) < 0)
		return -1;
	out->prf = CRY_HASH_SHA1; /* the default when the element is absent */
	if (cry_der_peek(&prm) == DER_SEQUENCE && get_prf(&prm, &out->prf) < 0)
		return -1;
	return buf_left(&prm) == 0 && !prm.err ? 0 : -1;
}

static int get_cipher(struct buf_reader *r, struct cry_pbes2 *out)
{
	struct buf_reader enc, iv;
	const uint8_t *oid;
	size_t oidlen;

	if (cry_der_get(r, DER_SEQUENCE, &enc) < 0 || cry_der_get_oid(&enc, &oid, &oidlen) < 0)
		return -1;
	if (CRY_OID_IS(oid, oidlen, oid_aes128_cbc))
		out->keylen = 16;
	else if (CRY_OID_IS(oid, oidlen, oid_aes192_cbc))
		out->keylen = 24;
	else if (CRY_OID_IS(oid, oidlen, oid_aes256_cbc))
		out->keylen = 32;
	else
		return -1;
	if (cry_der_get(&enc, DER_OCTET_STRING, &iv) < 0 || buf_left(&iv) != 16 ||
	    buf_left(&enc) != 0)
		return -1;
	out->iv = buf_get_ptr(&iv, 16);
	return out->iv ? 0 : -1;
}

int cry_pbes2_parse(const uint8_t *der, size_t len, struct cry_pbes2 *out)
{
	struct buf_reader r, top, alg, prm, ct;
	struct cry_pbes2 p;
	const uint8_t *oid;
	size_t oidlen;
	uint32_t keylen_field;

	if (!der || !out)
		return -1;
	memset(&p, 0, sizeof(p));
	buf_reader_init(&r, der, len);
	if (cry_der_get(&r, DER_SEQUENCE, &top) < 0 || buf_left(&r) != 0)
		return -1;
	if (cry_der_get(&top, DER_SEQUENCE, &alg) < 0 || cry_der_get_oid(&alg, &oid, &oidlen) < 0 ||
	    !CRY_OID_IS(oid, oidlen, oid_pbes2) || cry_der_get(&alg, DER_SEQUENCE, &prm) < 0 ||
	    buf_left(&alg) != 0)
		return -1;
	if (get_kdf(&prm, &p, &keylen_field) < 0 || get_cipher(&prm, &p) < 0 || buf_left(&prm) != 0)
		return -1;
	/* An explicit keyLength must agree with the cipher. */
	if (keylen_field && keylen_field != p.keylen)
		return -1;
	if (cry_der_get(&top, DER_OCTET_STRING, &ct) < 0 || buf_left(&top) != 0)
		return -1;
	p.ctlen = buf_left(&ct);
	if (p.ctlen == 0 || p.ctlen % 16)
		return -1;
	p.ct = buf_get_ptr(&ct, p.ctlen);
	if (!p.ct)
		return -1;
	*out = p;
	return 0;
}
