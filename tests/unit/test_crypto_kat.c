/* Known-answer tests for crypto/: SHA (FIPS 180 examples), HMAC-SHA256 (RFC 4231),
 * HKDF (RFC 5869), PBKDF2 (RFC 6070, RFC 7914 s.11), AES-256-GCM (McGrew-Viega test
 * cases 13, 14, 16), AES-CBC/ECB (NIST SP 800-38A F.1.5, F.2.1, F.2.5); plus the
 * small helpers (memeq, random range, features). */
#include "crypto/crypto.h"
#include "crypto_util.h"
#include "unit.h"

static void check_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[256];
	size_t n = tu_hex(want_hex, want, sizeof(want));
	CHECK_EQ(n, len);
	CHECK(n == len && memcmp(got, want, len) == 0);
}

static void sha_known_answers(void)
{
	uint8_t d[32];
	const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	CHECK(cry_sha256("abc", 3, d) == 0);
	check_hex(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(cry_sha256("", 0, d) == 0);
	check_hex(d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK(cry_hash(CRY_HASH_SHA256, m2, strlen(m2), d) == 0);
	check_hex(d, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	CHECK(cry_hash(CRY_HASH_SHA1, "abc", 3, d) == 0);
	check_hex(d, 20, "a9993e364706816aba3e25717850c26c9cd0d89d");
	CHECK(cry_hash(CRY_HASH_MD5, "abc", 3, d) == 0);
	check_hex(d, 16, "900150983cd24fb0d6963f7d28e17f72");
	CHECK(cry_hash((enum cry_hash)99, "abc", 3, d) < 0);
}

static void sha256_streaming_equals_oneshot(void)
{
	uint8_t buf[3000], a[32], b[32];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	CHECK(cry_sha256(buf, sizeof(buf), a) == 0);
	struct cry_sha256_ctx *c = cry_sha256_new();
	CHECK(c != NULL);
	if (!c)
		return;
	/* uneven pieces: 1, 63, 64, 65, then the rest */
	size_t cuts[] = { 1, 63, 64, 65 }, off = 0;
	for (size_t i = 0; i < 4; i++) {
		CHECK(cry_sha256_update(c, buf + off, cuts[i]) == 0);
		off += cuts[i];
	}
	CHECK(cry_sha256_update(c, buf + off, sizeof(buf) - off) == 0);
	CHECK(cry_sha256_final(c, b) == 0); /* frees */
	CHECK_MEM(a, b, 32);
	/* A million 'a' (FIPS 180-2 example 3) through the stream. */
	c = cry_sha256_new();
	memset(buf, 'a', 1000);
	for (int i = 0; c && i < 1000; i++)
		CHECK(cry_sha256_update(c, buf, 1000) == 0);
	CHECK(c && cry_sha256_final(c, b) == 0);
	check_hex(b, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	cry_sha256_free(cry_sha256_new());
	cry_sha256_free(NULL);
}

static void hmac_sha256_rfc4231(void)
{
	uint8_t key[131], mac[32];

	memset(key, 0x0b, 20);
	CHECK(cry_hmac_sha256(key, 20, "Hi There", 8, mac) == 0);
	check_hex(mac, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	CHECK(cry_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac) == 0);
	check_hex(mac, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* Test case 3: 20 x 0xaa key, 50 x 0xdd data. */
	uint8_t data[50];
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	CHECK(cry_hmac_sha256(key, 20, data, 50, mac) == 0);
	check_hex(mac, 32, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	/* Test case 6: a key longer than the block is hashed first. */
	memset(key, 0xaa, 131);
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	CHECK(cry_hmac_sha256(key, 131, m6, strlen(m6), mac) == 0);
	check_hex(mac, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void hkdf_sha256_rfc5869(void)
{
	uint8_t ikm[22], salt[13], info[10], okm[42];

	memset(ikm, 0x0b, sizeof(ikm));
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	CHECK(cry_hkdf_sha256(ikm, 22, salt, 13, info, 10, okm, 42) == 0);
	check_hex(okm, 42, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
			   "34007208d5b887185865");
	/* Test case 3: no salt, no info. */
	CHECK(cry_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, okm, 42) == 0);
	check_hex(okm, 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
			   "9d201395faa4b61a96c8");
	/* RFC 5869 caps the output at 255 blocks. */
	uint8_t big[255 * 32 + 1];
	CHECK(cry_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, big, sizeof(big)) < 0);
}

static void pbkdf2_rfc6070_and_sha256(void)
{
	uint8_t dk[64];

	CHECK(cry_pbkdf2(CRY_HASH_SHA1, "password", 8, "salt", 4, 1, dk, 20) == 0);
	check_hex(dk, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6");
	CHECK(cry_pbkdf2(CRY_HASH_SHA1, "password", 8, "salt", 4, 2, dk, 20) == 0);
	check_hex(dk, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
	CHECK(cry_pbkdf2(CRY_HASH_SHA1, "password", 8, "salt", 4, 4096, dk, 20) == 0);
	check_hex(dk, 20, "4b007901b765489abead49d926f721d065a429c1");
	CHECK(cry_pbkdf2(CRY_HASH_SHA1, "passwordPASSWORDpassword", 24,
			 "saltSALTsaltSALTsaltSALTsaltSALTsalt", 36, 4096, dk, 25) == 0);
	check_hex(dk, 25, "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038");
	CHECK(cry_pbkdf2(CRY_HASH_SHA1, "pass\0word", 9, "sa\0lt", 5, 4096, dk, 16) == 0);
	check_hex(dk, 16, "56fa6aa75548099dcc37d7f03425e0c3");
	/* RFC 7914 s.11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, 64 bytes. */
	CHECK(cry_pbkdf2(CRY_HASH_SHA256, "passwd", 6, "salt", 4, 1, dk, 64) == 0);
	check_hex(dk, 64, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
			  "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
	CHECK(cry_pbkdf2(CRY_HASH_MD5, "p", 1, "s", 1, 1, dk, 16) < 0);
	CHECK(cry_pbkdf2(CRY_HASH_SHA1, "p", 1, "s", 1, 0, dk, 16) < 0);
}

static void aes256gcm_mcgrew_viega(void)
{
	uint8_t key[32], iv[12], pt[64], aad[20], ct[64], tag[16], back[64];
	size_t ptlen, aadlen;
	struct cry_aead *a;

	/* Test case 16. */
	tu_hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key, 32);
	tu_hex("cafebabefacedbaddecaf888", iv, 12);
	ptlen = tu_hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
		       "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39", pt, sizeof(pt));
	aadlen = tu_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, sizeof(aad));
	CHECK_EQ(ptlen, 60);
	a = cry_aead_new(key);
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK(cry_aead_seal(a, iv, 12, aad, aadlen, pt, ptlen, ct, tag) == 0);
	check_hex(ct, ptlen, "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
			     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662");
	check_hex(tag, 16, "76fc6ece0f4e1768cddf8853bb2d551b");
	CHECK(cry_aead_open(a, iv, 12, aad, aadlen, ct, ptlen, back, tag) == 0);
	CHECK_MEM(back, pt, ptlen);
	/* In place. */
	memcpy(back, ct, ptlen);
	CHECK(cry_aead_open(a, iv, 12, aad, aadlen, back, ptlen, back, tag) == 0);
	CHECK_MEM(back, pt, ptlen);
	cry_aead_free(a);

	/* Test cases 13 and 14: zero key and IV. */
	memset(key, 0, 32);
	memset(iv, 0, 12);
	memset(pt, 0, 16);
	a = cry_aead_new(key);
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK(cry_aead_seal(a, iv, 12, NULL, 0, NULL, 0, NULL, tag) == 0);
	check_hex(tag, 16, "530f8afbc74536b9a963b4f1c4cb738b");
	CHECK(cry_aead_seal(a, iv, 12, NULL, 0, pt, 16, ct, tag) == 0);
	check_hex(ct, 16, "cea7403d4d606b6e074ec5d3baf39d18");
	check_hex(tag, 16, "d0d1c8a799996bf0265b98b5d48ab919");
	cry_aead_free(a);
}

static const char sp_pt[] = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
			    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

static void aes_cbc_sp800_38a(void)
{
	uint8_t key[32], iv[16], pt[64], ct[80], back[80];
	ssize_t n;

	tu_hex(sp_pt, pt, 64);
	tu_hex("000102030405060708090a0b0c0d0e0f", iv, 16);
	/* F.2.5 CBC-AES256: the first 64 bytes are NIST's; then one block of padding. */
	tu_hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", key, 32);
	n = cry_cbc_encrypt(key, 32, iv, pt, 64, ct);
	CHECK_EQ(n, 80);
	check_hex(ct, 64, "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
			  "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b");
	CHECK_EQ(cry_cbc_decrypt(key, 32, iv, ct, 80, back), 64);
	CHECK_MEM(back, pt, 64);
	/* F.2.1 CBC-AES128. */
	tu_hex("2b7e151628aed2a6abf7158809cf4f3c", key, 16);
	CHECK_EQ(cry_cbc_encrypt(key, 16, iv, pt, 64, ct), 80);
	check_hex(ct, 64, "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
			  "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
	CHECK_EQ(cry_cbc_decrypt(key, 16, iv, ct, 80, back), 64);
	/* F.1.5 ECB-AES256. */
	tu_hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", key, 32);
	CHECK_EQ(cry_ecb_encrypt(key, 32, pt, 64, ct), 80);
	check_hex(ct, 64, "f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870"
			  "b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7");
	CHECK_EQ(cry_ecb_decrypt(key, 32, ct, 80, back), 64);
	CHECK_MEM(back, pt, 64);
	CHECK(cry_cbc_encrypt(key, 20, iv, pt, 64, ct) < 0); /* bad key length */
}

static void memeq_and_wipe(void)
{
	uint8_t a[33], b[33];
	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	CHECK_EQ(cry_memeq(a, b, sizeof(a)), 1);
	CHECK_EQ(cry_memeq(a, b, 0), 1);
	for (size_t i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		CHECK_EQ(cry_memeq(a, b, sizeof(a)), 0);
		b[i] ^= 0x80;
	}
	cry_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		CHECK_EQ(a[i], 0);
}

static void random_bytes_and_range(void)
{
	uint8_t a[64], b[64], zero[64] = { 0 };
	uint32_t v;
	int seen[6] = { 0 };

	CHECK(cry_random(a, sizeof(a)) == 0);
	CHECK(cry_random(b, sizeof(b)) == 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(memcmp(a, zero, sizeof(a)) != 0);
	uint8_t *big = malloc(100000);
	CHECK(big && cry_random(big, 100000) == 0);
	free(big);
	for (int i = 0; i < 600; i++) {
		CHECK(cry_random_range(10, 15, &v) == 0);
		CHECK(v >= 10 && v <= 15);
		if (v >= 10 && v <= 15)
			seen[v - 10]++;
	}
	for (int i = 0; i < 6; i++)
		CHECK(seen[i] > 0);
	CHECK(cry_random_range(7, 7, &v) == 0 && v == 7);
	CHECK(cry_random_range(0, UINT32_MAX, &v) == 0);
	CHECK(cry_random_range(5, 4, &v) < 0);
}

/* A forked child must not repeat the parent's random stream. */
static void random_differs_after_fork(void)
{
	uint8_t mine[32], theirs[32];
	int fd[2];

	CHECK(cry_random(mine, 1) == 0); /* the DRBG exists before the fork */
	CHECK(pipe(fd) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		uint8_t b[32];
		int ok = cry_random(b, sizeof(b)) == 0 && write(fd[1], b, sizeof(b)) == (ssize_t)sizeof(b);
		_exit(ok ? 0 : 1);
	}
	close(fd[1]);
	CHECK(cry_random(mine, sizeof(mine)) == 0);
	CHECK(read(fd[0], theirs, sizeof(theirs)) == (ssize_t)sizeof(theirs));
	close(fd[0]);
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(memcmp(mine, theirs, sizeof(mine)) != 0);
}

static void version_and_features(void)
{
	CHECK(cry_init() == 0);
	CHECK(cry_init() == 0); /* idempotent */
	CHECK_STR(cry_library_version(), "wolfSSL 5.5.4");
	const char *f = cry_features();
	fprintf(stderr, "  features: %s\n", f);
	CHECK(strstr(f, "tls13") != NULL);
	CHECK(strstr(f, "aesgcm-stream") != NULL);
#if defined(__x86_64__) && SEALBOX_TUNED_WOLFSSL
	/* Only the wolfSSL that mk/deps.sh builds has AES-NI; Debian's (WOLFSSL=system) not. */
	CHECK(strstr(f, "aesni") != NULL);
#endif
}

UNIT_SUITE(crypto_kat,
	   UNIT_TEST(version_and_features),
	   UNIT_TEST(sha_known_answers),
	   UNIT_TEST(sha256_streaming_equals_oneshot),
	   UNIT_TEST(hmac_sha256_rfc4231),
	   UNIT_TEST(hkdf_sha256_rfc5869),
	   UNIT_TEST(pbkdf2_rfc6070_and_sha256),
	   UNIT_TEST(aes256gcm_mcgrew_viega),
	   UNIT_TEST(aes_cbc_sp800_38a),
	   UNIT_TEST(memeq_and_wipe),
	   UNIT_TEST(random_bytes_and_range),
	   UNIT_TEST(random_differs_after_fork));
