/* RSA: generation, OAEP (SHA-256 with MGF1-SHA1 or MGF1-SHA256), PKCS#1 v1.5, raw,
 * import/export; interoperability with the openssl CLI in both directions. */
#include "crypto/crypto.h"
#include "crypto/rsa.h"
#include "crypto/rsa_bg.h"
#include "crypto_util.h"
#include "unit.h"

static void keygen_and_oaep_roundtrips(void)
{
	struct cry_rsa *k = cry_rsa_generate(2048);
	uint8_t msg[190], ct[256], pt[256];
	ssize_t n;

	CHECK(k != NULL);
	if (!k)
		return;
	CHECK(cry_rsa_is_private(k));
	CHECK_EQ(cry_rsa_size(k), 256);
	CHECK_EQ(cry_rsa_bits(k), 2048);
	uint8_t mod[512], e[8];
	size_t ml = sizeof(mod), el = sizeof(e);
	CHECK(cry_rsa_modexp(k, mod, &ml, e, &el) == 0);
	CHECK(el == 3 && e[0] == 0x01 && e[1] == 0x00 && e[2] == 0x01); /* 65537 */
	CHECK(cry_random(msg, sizeof(msg)) == 0);
	for (int mgf = CRY_MGF1_SHA1; mgf <= CRY_MGF1_SHA256; mgf++) {
		/* 190 = 256 - 2*32 - 2 is the longest OAEP-SHA256 message */
		n = cry_rsa_oaep_encrypt(k, (enum cry_mgf)mgf, msg, 190, ct, sizeof(ct));
		CHECK_EQ(n, 256);
		CHECK_EQ(cry_rsa_oaep_decrypt(k, (enum cry_mgf)mgf, ct, 256, pt, sizeof(pt)), 190);
		CHECK_MEM(pt, msg, 190);
		/* the other MGF must not open it */
		enum cry_mgf other = mgf == CRY_MGF1_SHA1 ? CRY_MGF1_SHA256 : CRY_MGF1_SHA1;
		CHECK(cry_rsa_oaep_decrypt(k, other, ct, 256, pt, sizeof(pt)) < 0);
		/* nor a flipped bit */
		ct[100] ^= 4;
		CHECK(cry_rsa_oaep_decrypt(k, (enum cry_mgf)mgf, ct, 256, pt, sizeof(pt)) < 0);
	}
	CHECK(cry_rsa_oaep_encrypt(k, CRY_MGF1_SHA1, msg, 191, ct, sizeof(ct)) < 0);
	CHECK(cry_rsa_oaep_encrypt(k, CRY_MGF1_SHA1, msg, 32, ct, 255) < 0); /* no room */
	/* two encryptions of one message differ (randomised padding) */
	uint8_t ct2[256];
	CHECK(cry_rsa_oaep_encrypt(k, CRY_MGF1_SHA256, msg, 32, ct, sizeof(ct)) == 256);
	CHECK(cry_rsa_oaep_encrypt(k, CRY_MGF1_SHA256, msg, 32, ct2, sizeof(ct2)) == 256);
	CHECK(memcmp(ct, ct2, 256) != 0);

	/* PKCS#1 v1.5 */
	CHECK_EQ(cry_rsa_pkcs1_encrypt(k, msg, 100, ct, sizeof(ct)), 256);
	CHECK_EQ(cry_rsa_pkcs1_decrypt(k, ct, 256, pt, sizeof(pt)), 100);
	CHECK_MEM(pt, msg, 100);

	/* raw: private(public(m)) == m; m >= n refused */
	uint8_t m[256], c[256], back[256];
	CHECK(cry_random(m, 256) == 0);
	m[0] = 0x00;
	m[1] |= 0x01;
	CHECK(cry_rsa_raw_public(k, m, 256, c) == 0);
	CHECK(cry_rsa_raw_private(k, c, 256, back) == 0);
	CHECK_MEM(back, m, 256);
	CHECK(memcmp(c, m, 256) != 0);
	CHECK(cry_rsa_raw_public(k, mod, 256, c) < 0);
	CHECK(cry_rsa_raw_public(k, m, 255, c) < 0);
	cry_rsa_free(k);
}

static void export_import_roundtrip(void)
{
	struct cry_rsa *k = cry_rsa_generate(2048), *pub = NULL, *priv = NULL, *me = NULL;
	char *ppem = NULL, *spem = NULL;
	uint8_t *der = NULL, ct[256], pt[256];
	size_t derlen = 0;

	CHECK(k != NULL);
	if (!k)
		return;
	ppem = cry_rsa_public_pem_new(k);
	spem = cry_rsa_private_pem_new(k);
	CHECK(ppem && strncmp(ppem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	CHECK(spem && strncmp(spem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	if (!ppem || !spem)
		goto out;
	pub = cry_rsa_from_pem(ppem, strlen(ppem));
	priv = cry_rsa_from_pem(spem, strlen(spem));
	CHECK(pub && !cry_rsa_is_private(pub) && cry_rsa_public_equal(pub, k));
	CHECK(priv && cry_rsa_is_private(priv) && cry_rsa_public_equal(priv, k));
	if (!pub || !priv)
		goto out;
	CHECK(cry_rsa_oaep_encrypt(pub, CRY_MGF1_SHA256, "hello", 5, ct, sizeof(ct)) == 256);
	CHECK(cry_rsa_oaep_decrypt(priv, CRY_MGF1_SHA256, ct, 256, pt, sizeof(pt)) == 5);
	CHECK(cry_rsa_oaep_decrypt(pub, CRY_MGF1_SHA256, ct, 256, pt, sizeof(pt)) < 0);
	der = cry_rsa_public_der_new(k, &derlen);
	CHECK(der != NULL);
	if (der) {
		struct cry_rsa *d = cry_rsa_from_public_der(der, derlen);
		CHECK(d && cry_rsa_public_equal(d, k));
		cry_rsa_free(d);
		CHECK(cry_rsa_from_public_der(der, derlen - 1) == NULL);
		free(der);
	}
	uint8_t n[512], e[8];
	size_t nl = sizeof(n), el = sizeof(e);
	CHECK(cry_rsa_modexp(k, n, &nl, e, &el) == 0);
	me = cry_rsa_from_modexp(n, nl, e, el);
	CHECK(me && cry_rsa_public_equal(me, k) && !cry_rsa_is_private(me));
	CHECK(cry_rsa_private_der_new(pub, &derlen) == NULL); /* no private part */
	/* garbage */
	CHECK(cry_rsa_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", 57) == NULL);
	CHECK(cry_rsa_from_pem("hello", 5) == NULL);
out:
	free(ppem);
	if (spem)
		cry_wipe(spem, strlen(spem));
	free(spem);
	cry_rsa_free(me);
	cry_rsa_free(pub);
	cry_rsa_free(priv);
	cry_rsa_free(k);
}

static struct cry_rsa *load_pem(const char *dir, const char *name)
{
	size_t len = 0;
	uint8_t *p = tu_read(dir, name, &len);
	struct cry_rsa *k = p ? cry_rsa_from_pem((const char *)p, len) : NULL;
	if (!k)
		fprintf(stderr, "  could not load %s/%s\n", dir, name);
	if (p)
		cry_wipe(p, len);
	free(p);
	return k;
}

/* Keys made by openssl in every PEM flavour import, and match each other. */
static void openssl_keys_import(void)
{
	char d[64];
	struct cry_rsa *k[5] = { 0 };

	CHECK(tu_tmpdir(d, sizeof(d)) == 0);
	CHECK(tu_sh("cd %s && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
		    "-out key.pem 2>/dev/null && openssl rsa -in key.pem -traditional -out trad.pem "
		    "2>/dev/null && openssl pkey -in key.pem -pubout -out pub.pem && "
		    "openssl rsa -in key.pem -RSAPublicKey_out -out rsapub.pem 2>/dev/null && "
		    "sed '/^-----/!s/^\\(....\\)/  \\1 \\t/; s/$/\\r/; 3s/$/\\n/' key.pem > crlf.pem", d) == 0);
	k[0] = load_pem(d, "key.pem");
	k[1] = load_pem(d, "trad.pem");
	k[2] = load_pem(d, "pub.pem");
	k[3] = load_pem(d, "rsapub.pem");
	k[4] = load_pem(d, "crlf.pem"); /* CRLF and stray spaces inside the body */
	for (int i = 0; i < 5; i++) {
		CHECK(k[i] != NULL);
		CHECK(k[0] && k[i] && cry_rsa_public_equal(k[0], k[i]));
	}
	CHECK(k[0] && cry_rsa_is_private(k[0]) && k[1] && cry_rsa_is_private(k[1]));
	CHECK(k[2] && !cry_rsa_is_private(k[2]) && k[3] && !cry_rsa_is_private(k[3]));
	CHECK(k[4] && cry_rsa_is_private(k[4]));

	/* our exports are what openssl writes, byte for byte */
	char *ours = k[0] ? cry_rsa_public_pem_new(k[0]) : NULL;
	size_t len = 0;
	uint8_t *theirs = tu_read(d, "pub.pem", &len);
	CHECK(ours && theirs && strlen(ours) == len && memcmp(ours, theirs, len) == 0);
	free(ours);
	free(theirs);
	char *sk = k[1] ? cry_rsa_private_pem_new(k[1]) : NULL; /* from PKCS#1 to PKCS#8 */
	theirs = tu_read(d, "key.pem", &len);
	CHECK(sk && theirs && strlen(sk) == len && memcmp(sk, theirs, len) == 0);
	if (sk) {
		CHECK(tu_write(d, "ours.pem", sk, strlen(sk)) == 0);
		cry_wipe(sk, strlen(sk));
	}
	free(sk);
	free(theirs);
	CHECK(tu_sh("openssl rsa -in %s/ours.pem -check -noout 2>&1 | grep -q 'RSA key ok'", d) == 0);
	for (int i = 0; i < 5; i++)
		cry_rsa_free(k[i]);
	tu_rmdir(d);
}

/* OAEP ciphertexts cross between us and openssl both ways, for both MGF1 hashes. */
static void openssl_oaep_interop(void)
{
	char d[64];
	struct cry_rsa *k = NULL, *pub = NULL;
	uint8_t msg[32], ct[256], pt[256];
	static const char *const mdname[] = { "", "sha1", "sha256" };

	CHECK(tu_tmpdir(d, sizeof(d)) == 0);
	CHECK(tu_sh("cd %s && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 "
		    "-out key.pem 2>/dev/null && openssl pkey -in key.pem -pubout -out pub.pem", d) == 0);
	k = load_pem(d, "key.pem");
	pub = load_pem(d, "pub.pem");
	CHECK(k && pub);
	if (!k || !pub)
		goto out;
	for (int mgf = CRY_MGF1_SHA1; mgf <= CRY_MGF1_SHA256; mgf++) {
		/* ours -> openssl */
		CHECK(cry_random(msg, sizeof(msg)) == 0);
		CHECK(cry_rsa_oaep_encrypt(pub, (enum cry_mgf)mgf, msg, 32, ct, sizeof(ct)) == 256);
		CHECK(tu_write(d, "ct.bin", ct, 256) == 0);
		CHECK(tu_sh("cd %s && openssl pkeyutl -decrypt -inkey key.pem -in ct.bin -out pt.bin "
			    "-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 "
			    "-pkeyopt rsa_mgf1_md:%s", d, mdname[mgf]) == 0);
		size_t len = 0;
		uint8_t *p = tu_read(d, "pt.bin", &len);
		CHECK(p && len == 32 && memcmp(p, msg, 32) == 0);
		free(p);
		/* openssl -> ours */
		CHECK(tu_write(d, "msg.bin", msg, 32) == 0);
		CHECK(tu_sh("cd %s && openssl pkeyutl -encrypt -pubin -inkey pub.pem -in msg.bin "
			    "-out ct2.bin -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 "
			    "-pkeyopt rsa_mgf1_md:%s", d, mdname[mgf]) == 0);
		p = tu_read(d, "ct2.bin", &len);
		CHECK(p && len == 256);
		if (p && len == 256) {
			CHECK_EQ(cry_rsa_oaep_decrypt(k, (enum cry_mgf)mgf, p, 256, pt, sizeof(pt)), 32);
			CHECK_MEM(pt, msg, 32);
			enum cry_mgf other = mgf == CRY_MGF1_SHA1 ? CRY_MGF1_SHA256 : CRY_MGF1_SHA1;
			CHECK(cry_rsa_oaep_decrypt(k, other, p, 256, pt, sizeof(pt)) < 0);
		}
		free(p);
	}
out:
	cry_rsa_free(k);
	cry_rsa_free(pub);
	tu_rmdir(d);
}

/* RSA-4096 (the current DRACOON key-pair version): OAEP with MGF1-SHA256 roundtrip, and
 * only the two supported sizes are generated. */
static void keygen_4096(void)
{
	struct cry_rsa *k = cry_rsa_generate(4096);
	uint8_t fk[32], ct[512], pt[512];

	CHECK(cry_rsa_generate(1024) == NULL);
	CHECK(cry_rsa_generate(3072) == NULL);
	CHECK(k != NULL);
	if (!k)
		return;
	CHECK_EQ(cry_rsa_bits(k), 4096);
	CHECK_EQ(cry_rsa_size(k), 512);
	CHECK(cry_random(fk, sizeof(fk)) == 0);
	CHECK_EQ(cry_rsa_oaep_encrypt(k, CRY_MGF1_SHA256, fk, 32, ct, sizeof(ct)), 512);
	CHECK_EQ(cry_rsa_oaep_decrypt(k, CRY_MGF1_SHA256, ct, 512, pt, sizeof(pt)), 32);
	CHECK_MEM(pt, fk, 32);
	CHECK(cry_rsa_oaep_decrypt(k, CRY_MGF1_SHA1, ct, 512, pt, sizeof(pt)) < 0);
	char *pem = cry_rsa_private_pem_new(k);
	struct cry_rsa *back = pem ? cry_rsa_from_pem(pem, strlen(pem)) : NULL;
	CHECK(back && cry_rsa_is_private(back) && cry_rsa_public_equal(back, k));
	if (pem)
		cry_wipe(pem, strlen(pem));
	free(pem);
	cry_rsa_free(back);
	cry_rsa_free(k);
}

/* Background generation: two jobs at once while this thread draws from the shared DRBG;
 * both keys work and differ; a bad size fails at finish; finishing NULL is harmless. */
static void keygen_in_background(void)
{
	struct cry_rsa_job *a = cry_rsa_generate_start(2048), *b = cry_rsa_generate_start(2048);
	struct cry_rsa_job *bad = cry_rsa_generate_start(1000);
	struct cry_rsa *ka, *kb;
	uint8_t r[64], ct[256], pt[256], ma[256], mb[256];
	size_t la = sizeof(ma), lb = sizeof(mb), el = 8;
	uint8_t e[8];

	CHECK(a && b && bad);
	for (int i = 0; i < 100; i++)
		CHECK(cry_random(r, sizeof(r)) == 0);
	ka = cry_rsa_generate_finish(a);
	kb = cry_rsa_generate_finish(b);
	CHECK(cry_rsa_generate_finish(bad) == NULL);
	CHECK(cry_rsa_generate_finish(NULL) == NULL);
	CHECK(ka && kb);
	if (!ka || !kb)
		goto out;
	CHECK(cry_rsa_is_private(ka) && cry_rsa_bits(ka) == 2048 && cry_rsa_bits(kb) == 2048);
	CHECK(cry_rsa_modexp(ka, ma, &la, e, &el) == 0);
	el = 8;
	CHECK(cry_rsa_modexp(kb, mb, &lb, e, &el) == 0);
	CHECK(la != lb || memcmp(ma, mb, la) != 0);
	CHECK_EQ(cry_rsa_oaep_encrypt(kb, CRY_MGF1_SHA256, r, 32, ct, sizeof(ct)), 256);
	CHECK_EQ(cry_rsa_oaep_decrypt(kb, CRY_MGF1_SHA256, ct, 256, pt, sizeof(pt)), 32);
	CHECK_MEM(pt, r, 32);
out:
	cry_rsa_free(ka);
	cry_rsa_free(kb);
}

UNIT_SUITE(crypto_rsa,
	   UNIT_TEST(keygen_and_oaep_roundtrips),
	   UNIT_TEST(keygen_in_background),
	   UNIT_TEST(keygen_4096),
	   UNIT_TEST(export_import_roundtrip),
	   UNIT_TEST(openssl_keys_import),
	   UNIT_TEST(openssl_oaep_interop));
