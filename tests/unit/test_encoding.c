/* Unit tests for core/encoding.c: RFC 4648 vectors, strictness, whitespace. */
#include <stdlib.h>

#include "core/encoding.h"
#include "unit.h"

static void base64_rfc4648_vectors(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char out[32];
	uint8_t dec[32];

	for (int i = 0; i < 7; i++) {
		CHECK(base64_encode(plain[i], strlen(plain[i]), out, sizeof(out)) == 0);
		CHECK_STR(out, enc[i]);
		ssize_t n = base64_decode(enc[i], strlen(enc[i]), dec, sizeof(dec), 0);
		CHECK_EQ(n, (long long)strlen(plain[i]));
		CHECK(n >= 0 && memcmp(dec, plain[i], (size_t)n) == 0);
	}
}

static void base64_rejects_malformed(void)
{
	static const char *const bad[] = { "Zg=", "Zg", "Z===", "Zm9v=", "Zg==Zg==", "Zm9*", "====", "Zh==" };
	uint8_t dec[32];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(base64_decode(bad[i], strlen(bad[i]), dec, sizeof(dec), 0) < 0);
	/* Whitespace only where allowed. */
	CHECK(base64_decode("Zm9v\r\nYmFy", 10, dec, sizeof(dec), 0) < 0);
	CHECK_EQ(base64_decode(" Zm9v\r\n YmFy\n", 13, dec, sizeof(dec), 1), 6);
	/* Output too small. */
	CHECK(base64_decode("Zm9vYmFy", 8, dec, 5, 0) < 0);
}

static void hex_roundtrip_and_case(void)
{
	const uint8_t d[] = { 0x00, 0xab, 0xCD, 0xff };
	char s[16];
	uint8_t back[4];

	CHECK(hex_encode(d, 4, s, sizeof(s), 1) == 0);
	CHECK_STR(s, "00ABCDFF");
	CHECK(hex_encode(d, 4, s, sizeof(s), 0) == 0);
	CHECK_STR(s, "00abcdff");
	CHECK_EQ(hex_decode("00AbcDfF", 8, back, sizeof(back)), 4);
	CHECK_MEM(back, d, 4);
	CHECK(hex_decode("abc", 3, back, sizeof(back)) < 0);
	CHECK(hex_decode("zz", 2, back, sizeof(back)) < 0);
	CHECK(hex_decode("0011223344", 10, back, sizeof(back)) < 0);
	CHECK(hex_encode(d, 4, s, 8, 1) < 0);   /* no room for the NUL */
}

static void base64_new_allocates(void)
{
	char *s = base64_encode_new("\xff\xfe", 2);
	CHECK_STR(s, "//4=");
	free(s);
}

UNIT_SUITE(encoding, UNIT_TEST(base64_rfc4648_vectors), UNIT_TEST(base64_rejects_malformed),
	   UNIT_TEST(hex_roundtrip_and_case), UNIT_TEST(base64_new_allocates));
