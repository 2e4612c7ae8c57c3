/* PKCS#8 PBES2: our encrypted keys open with openssl and have DRACOON's layout; keys
 * openssl encrypts (hmacWithSHA1/SHA256, AES-128/192/256-CBC) open with ours; wrong
 * passwords are reported as such. */
#include "crypto/crypto.h"
#include "crypto/pkcs8.h"
#include "crypto/rsa.h"
#include "crypto_util.h"
#include "unit.h"

static const uint8_t oid_hmac_sha1[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x07 };

static int contains(const uint8_t *h, size_t hl, const uint8_t *n, size_t nl)
{
	for (size_t i = 0; i + nl <= hl; i++)
		if (memcmp(h + i, n, nl) == 0)
			return 1;
	return 0;
}

static uint8_t *pem_body_der(const char *pem, size_t *len)
{
	const char *b = strstr(pem, "-----\n"), *e = strstr(pem, "-----END");
	if (!b || !e)
		return NULL;
	b += 6;
	uint8_t *der = malloc((size_t)(e - b));
	ssize_t n = der ? base64_decode(b, (size_t)(e - b), der, (size_t)(e - b), 1) : -1;
	if (n < 0) {
		free(der);
		return NULL;
	}
	*len = (size_t)n;
	return der;
}

static void ours_opens_with_openssl(void)
{
	char d[64];
	struct cry_rsa *k = cry_rsa_generate(2048), *back = NULL;
	char *enc = NULL, *plain = NULL;
	int wrong = -1;

	CHECK(tu_tmpdir(d, sizeof(d)) == 0);
	CHECK(k != NULL);
	if (!k)
		goto out;
	enc = cry_pkcs8_encrypt_pem_new(k, "s3cr3t pw", 9, 10000, 20);
	CHECK(enc != NULL);
	if (!enc)
		goto out;
	/* DRACOON's PEM: header, 64-column body, LF only, trailing newline */
	CHECK(strncmp(enc, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 38) == 0);
	CHECK(strstr(enc, "\r") == NULL);
	CHECK(enc[strlen(enc) - 1] == '\n');
	for (const char *l = enc; *l;) {
		const char *nl = strchr(l, '\n');
		CHECK(nl && nl - l <= 64);
		if (!nl)
			break;
		l = nl + 1;
	}
	/* and its DER: PBKDF2-HMAC-SHA1 without a PRF element or keyLength, AES-256-CBC */
	size_t derlen = 0;
	uint8_t *der = pem_body_der(enc, &derlen);
	struct cry_pbes2 p;
	CHECK(der && cry_pbes2_parse(der, derlen, &p) == 0);
	CHECK(der && !contains(der, derlen, oid_hmac_sha1, sizeof(oid_hmac_sha1)));
	CHECK_EQ(p.prf, CRY_HASH_SHA1);
	CHECK_EQ(p.iterations, 10000);
	CHECK_EQ(p.saltlen, 20);
	CHECK_EQ(p.keylen, 32);
	back = der ? cry_pkcs8_decrypt(der, derlen, 1, "s3cr3t pw", 9, &wrong) : NULL;
	CHECK(back && wrong == 0 && cry_rsa_public_equal(back, k));
	cry_rsa_free(back);
	back = NULL;
	free(der);

	CHECK(tu_write(d, "enc.pem", enc, strlen(enc)) == 0);
	CHECK(tu_sh("cd %s && openssl pkcs8 -in enc.pem -passin pass:'s3cr3t pw' -out dec.pem", d) == 0);
	CHECK(tu_sh("cd %s && ! openssl pkcs8 -in enc.pem -passin pass:wrong -out x.pem 2>/dev/null", d) == 0);
	plain = cry_rsa_private_pem_new(k);
	size_t len = 0;
	uint8_t *theirs = tu_read(d, "dec.pem", &len);
	CHECK(plain && theirs && strlen(plain) == len && memcmp(plain, theirs, len) == 0);
	if (theirs)
		cry_wipe(theirs, len);
	free(theirs);

	back = cry_pkcs8_decrypt(enc, strlen(enc), 0, "s3cr3t pw", 9, &wrong);
	CHECK(back && wrong == 0 && cry_rsa_is_private(back) && cry_rsa_public_equal(back, k));
	cry_rsa_free(back);
	back = cry_pkcs8_decrypt(enc, strlen(enc), 0, "s3cr3t pX", 9, &wrong);
	CHECK(back == NULL && wrong == 1);
out:
	if (plain)
		cry_wipe(plain, strlen(plain));
	free(plain);
	free(enc);
	cry_rsa_free(k);
	tu_rmdir(d);
}

/* openssl pkcs8 -topk8 -v2 CIPHER -v2prf PRF -iter N; then ours opens it. */
static void openssl_pbes2_opens_with_ours(void)
{
	static const struct { const char *cipher, *prf; int hash; size_t keylen; } v[] = {
		{ "aes-256-cbc", "hmacWithSHA256", CRY_HASH_SHA256, 32 },
		{ "aes-256-cbc", "hmacWithSHA1", CRY_HASH_SHA1, 32 },
		{ "aes-128-cbc", "hmacWithSHA256", CRY_HASH_SHA256, 16 },
		{ "aes-192-cbc", "hmacWithSHA1", CRY_HASH_SHA1, 24 },
	};
	char d[64];
	struct cry_rsa *ref = NULL;

	CHECK(tu_tmpdir(d, sizeof(d)) == 0);
	CHECK(tu_sh("cd %s && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
		    "-out key.pem 2>/dev/null", d) == 0);
	size_t len = 0;
	uint8_t *kp = tu_read(d, "key.pem", &len);
	ref = kp ? cry_rsa_from_pem((char *)kp, len) : NULL;
	free(kp);
	CHECK(ref != NULL);
	for (size_t i = 0; ref && i < sizeof(v) / sizeof(v[0]); i++) {
		CHECK(tu_sh("cd %s && openssl pkcs8 -topk8 -in key.pem -v2 %s -v2prf %s -iter 2048 "
			    "-passout pass:'pässwörd' -out enc.pem && openssl pkcs8 -topk8 -in key.pem "
			    "-v2 %s -v2prf %s -iter 2048 -passout pass:'pässwörd' -outform DER -out enc.der",
			    d, v[i].cipher, v[i].prf, v[i].cipher, v[i].prf) == 0);
		uint8_t *pem = tu_read(d, "enc.pem", &len);
		int wrong = -1;
		struct cry_rsa *k = pem ? cry_pkcs8_decrypt(pem, len, 0, "pässwörd",
							    strlen("pässwörd"), &wrong) : NULL;
		CHECK(k && wrong == 0 && cry_rsa_is_private(k) && cry_rsa_public_equal(k, ref));
		cry_rsa_free(k);
		k = pem ? cry_pkcs8_decrypt(pem, len, 0, "passwörd", 9, &wrong) : NULL;
		CHECK(k == NULL && wrong == 1);
		free(pem);

		uint8_t *der = tu_read(d, "enc.der", &len);
		struct cry_pbes2 p;
		CHECK(der && cry_pbes2_parse(der, len, &p) == 0);
		CHECK(p.prf == v[i].hash && p.keylen == v[i].keylen && p.iterations == 2048);
		k = der ? cry_pkcs8_decrypt(der, len, 1, "pässwörd", strlen("pässwörd"), &wrong) : NULL;
		CHECK(k && wrong == 0 && cry_rsa_public_equal(k, ref));
		cry_rsa_free(k);
		free(der);
	}
	cry_rsa_free(ref);
	tu_rmdir(d);
}

static void wrong_password_always_detected(void)
{
	struct cry_rsa *k = cry_rsa_generate(2048);
	int wrong;

	CHECK(k != NULL);
	if (!k)
		return;
	size_t derlen = 0;
	uint8_t salt[20] = { 1 }, iv[16] = { 2 };
	uint8_t *der = cry_pkcs8_encrypt_der_new(k, "right", 5, 16, salt, sizeof(salt), iv, &derlen);
	CHECK(der != NULL);
	for (int i = 0; der && i < 300; i++) {
		char pw[32];
		snprintf(pw, sizeof(pw), "wrong-%d", i);
		struct cry_rsa *x = cry_pkcs8_decrypt(der, derlen, 1, pw, strlen(pw), &wrong);
		CHECK(x == NULL && wrong == 1);
		cry_rsa_free(x);
	}
	/* not a password problem: garbage, a truncated container, a wrong PEM label */
	wrong = -1;
	CHECK(cry_pkcs8_decrypt("xyz", 3, 1, "right", 5, &wrong) == NULL && wrong == 0);
	CHECK(der && cry_pkcs8_decrypt(der, derlen - 1, 1, "right", 5, &wrong) == NULL && wrong == 0);
	char *pub = cry_rsa_public_pem_new(k);
	CHECK(pub && cry_pkcs8_decrypt(pub, strlen(pub), 0, "right", 5, &wrong) == NULL && wrong == 0);
	free(pub);
	struct cry_rsa *ok = der ? cry_pkcs8_decrypt(der, derlen, 1, "right", 5, &wrong) : NULL;
	CHECK(ok && wrong == 0);
	cry_rsa_free(ok);
	free(der);
	cry_rsa_free(k);
}

UNIT_SUITE(crypto_pkcs8,
	   UNIT_TEST(ours_opens_with_openssl),
	   UNIT_TEST(openssl_pbes2_opens_with_ours),
	   UNIT_TEST(wrong_password_always_detected));
