/* AES modes beyond the known answers: streaming GCM against one-shot for random
 * chunkings, tamper detection, and strict CBC/ECB padding checks. */
#include "crypto/crypto.h"
#include "crypto_util.h"
#include "unit.h"

#define MSG 5000

/* Streams (aad, msg) through cry_gcm_stream with chunk sizes drawn at random (0..max). */
static int stream_run(const uint8_t *key, const uint8_t *iv, int enc, const uint8_t *aad,
		      size_t aadlen, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag,
		      uint32_t max)
{
	struct cry_gcm_stream *s = cry_gcm_stream_new(key, iv, 12, enc);
	size_t off = 0;
	int rc = -1;

	if (!s)
		return -1;
	if (aadlen && cry_gcm_stream_aad(s, aad, aadlen) < 0)
		goto out;
	while (off < len) {
		uint32_t n;
		if (cry_random_range(0, max, &n) < 0)
			goto out;
		if (n > len - off)
			n = (uint32_t)(len - off);
		if (cry_gcm_stream_update(s, in + off, n, out + off) < 0)
			goto out;
		off += n;
	}
	rc = cry_gcm_stream_final(s, tag);
out:
	cry_gcm_stream_free(s);
	return rc;
}

static void gcm_stream_equals_oneshot(void)
{
	uint8_t key[32], iv[12], aad[40], *pt = malloc(MSG), *ct1 = malloc(MSG), *ct2 = malloc(MSG);
	uint8_t *back = malloc(MSG), tag1[16], tag2[16];
	static const uint32_t maxes[] = { 1, 15, 16, 17, 100, 4096, MSG };

	CHECK(pt && ct1 && ct2 && back);
	if (!pt || !ct1 || !ct2 || !back)
		goto out;
	CHECK(cry_random(key, 32) == 0 && cry_random(iv, 12) == 0 && cry_random(aad, 40) == 0);
	CHECK(cry_random(pt, MSG) == 0);
	struct cry_aead *a = cry_aead_new(key);
	CHECK(a != NULL);
	for (size_t m = 0; a && m < sizeof(maxes) / sizeof(maxes[0]); m++) {
		size_t len = MSG - m * 13; /* also lengths that are not block multiples */
		size_t aadlen = m % 2 ? 40 : 0;
		CHECK(cry_aead_seal(a, iv, 12, aad, aadlen, pt, len, ct1, tag1) == 0);
		CHECK(stream_run(key, iv, 1, aad, aadlen, pt, len, ct2, tag2, maxes[m]) == 0);
		CHECK_MEM(ct1, ct2, len);
		CHECK_MEM(tag1, tag2, 16);
		CHECK(stream_run(key, iv, 0, aad, aadlen, ct1, len, back, tag1, maxes[m]) == 0);
		CHECK_MEM(back, pt, len);
	}
	cry_aead_free(a);
out:
	free(pt);
	free(ct1);
	free(ct2);
	free(back);
}

static void gcm_tamper_fails(void)
{
	uint8_t key[32], iv[12], pt[100], ct[100], tag[16], back[100], bad[16];
	struct cry_aead *a;

	CHECK(cry_random(key, 32) == 0 && cry_random(iv, 12) == 0 && cry_random(pt, 100) == 0);
	a = cry_aead_new(key);
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK(cry_aead_seal(a, iv, 12, "hdr", 3, pt, 100, ct, tag) == 0);
	CHECK(cry_aead_open(a, iv, 12, "hdr", 3, ct, 100, back, tag) == 0);
	/* flipped ciphertext bit: failure, and the output holds no plaintext */
	ct[50] ^= 1;
	memset(back, 0x77, sizeof(back));
	CHECK(cry_aead_open(a, iv, 12, "hdr", 3, ct, 100, back, tag) < 0);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(back[i], 0);
	ct[50] ^= 1;
	/* wrong AAD, wrong tag, wrong nonce */
	CHECK(cry_aead_open(a, iv, 12, "hdx", 3, ct, 100, back, tag) < 0);
	memcpy(bad, tag, 16);
	bad[15] ^= 0x80;
	CHECK(cry_aead_open(a, iv, 12, "hdr", 3, ct, 100, back, bad) < 0);
	iv[0] ^= 1;
	CHECK(cry_aead_open(a, iv, 12, "hdr", 3, ct, 100, back, tag) < 0);
	iv[0] ^= 1;
	cry_aead_free(a);

	/* streaming decrypt with a wrong tag fails at final */
	struct cry_gcm_stream *s = cry_gcm_stream_new(key, iv, 12, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(cry_gcm_stream_aad(s, "hdr", 3) == 0);
	CHECK(cry_gcm_stream_update(s, ct, 100, back) == 0);
	CHECK(cry_gcm_stream_final(s, bad) < 0);
	CHECK(cry_gcm_stream_update(s, ct, 1, back) < 0); /* finished */
	cry_gcm_stream_free(s);
	cry_aead_free(NULL);
	cry_gcm_stream_free(NULL);
}

static void cbc_roundtrip_all_lengths(void)
{
	uint8_t key[32], iv[16], pt[64], ct[80], back[80];

	CHECK(cry_random(key, 32) == 0 && cry_random(iv, 16) == 0 && cry_random(pt, 64) == 0);
	for (size_t len = 0; len <= 48; len++) {
		for (size_t kl = 16; kl <= 32; kl += 8) {
			ssize_t n = cry_cbc_encrypt(key, kl, iv, pt, len, ct);
			CHECK_EQ(n, (long long)((len / 16 + 1) * 16));
			CHECK_EQ(cry_cbc_decrypt(key, kl, iv, ct, (size_t)n, back), (long long)len);
			CHECK(memcmp(back, pt, len) == 0);
			n = cry_ecb_encrypt(key, kl, pt, len, ct);
			CHECK_EQ(cry_ecb_decrypt(key, kl, ct, (size_t)n, back), (long long)len);
			CHECK(memcmp(back, pt, len) == 0);
		}
	}
}

/* Encrypts a block whose plaintext ends in the given padding bytes without padding of
 * our own (the trailing full block of padding is cut off), then decrypts it. */
static ssize_t decrypt_with_tail(const uint8_t *key, const uint8_t *iv, const uint8_t *blk16)
{
	uint8_t ct[32], back[32];
	if (cry_cbc_encrypt(key, 32, iv, blk16, 16, ct) != 32)
		return -2;
	/* the first ciphertext block is exactly CBC(blk16) */
	return cry_cbc_decrypt(key, 32, iv, ct, 16, back);
}

static void cbc_bad_padding_rejected(void)
{
	uint8_t key[32], iv[16], blk[16];

	CHECK(cry_random(key, 32) == 0 && cry_random(iv, 16) == 0);
	memset(blk, 0x41, 16);
	blk[15] = 0x00; /* zero padding byte */
	CHECK_EQ(decrypt_with_tail(key, iv, blk), -1);
	blk[15] = 0x11; /* longer than a block */
	CHECK_EQ(decrypt_with_tail(key, iv, blk), -1);
	blk[15] = 0xff;
	CHECK_EQ(decrypt_with_tail(key, iv, blk), -1);
	blk[15] = 0x03; blk[14] = 0x03; blk[13] = 0x02; /* one wrong byte inside */
	CHECK_EQ(decrypt_with_tail(key, iv, blk), -1);
	blk[13] = 0x03; /* now valid: 13 bytes of plaintext */
	CHECK_EQ(decrypt_with_tail(key, iv, blk), 13);
	memset(blk, 0x10, 16); /* a whole block of padding: empty plaintext */
	CHECK_EQ(decrypt_with_tail(key, iv, blk), 0);
	blk[0] = 0x0f;
	CHECK_EQ(decrypt_with_tail(key, iv, blk), -1);
	blk[0] = 0x10; blk[15] = 0x01; /* a single 0x01 is fine */
	CHECK_EQ(decrypt_with_tail(key, iv, blk), 15);

	/* lengths that are not block multiples, and an empty input */
	uint8_t ct[48], back[48];
	CHECK(cry_cbc_encrypt(key, 32, iv, "x", 1, ct) == 16);
	CHECK_EQ(cry_cbc_decrypt(key, 32, iv, ct, 15, back), -1);
	CHECK_EQ(cry_cbc_decrypt(key, 32, iv, ct, 0, back), -1);
	CHECK_EQ(cry_ecb_decrypt(key, 32, ct, 17, back), -1);
	/* wrong key: padding almost always breaks (the DER check catches the rest) */
	int rejected = 0;
	for (int i = 0; i < 20; i++) {
		uint8_t k2[32];
		CHECK(cry_random(k2, 32) == 0);
		if (cry_cbc_decrypt(k2, 32, iv, ct, 16, back) < 0)
			rejected++;
	}
	CHECK(rejected >= 15);
}

UNIT_SUITE(crypto_aes,
	   UNIT_TEST(gcm_stream_equals_oneshot),
	   UNIT_TEST(gcm_tamper_fails),
	   UNIT_TEST(cbc_roundtrip_all_lengths),
	   UNIT_TEST(cbc_bad_padding_rejected));
