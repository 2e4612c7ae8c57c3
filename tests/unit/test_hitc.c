/* test_hitc.c - hitc's pure parts: answer lines, commands, LOGON lines, TBC padding,
 * ENC_SYM names, charset conversion, key files, and the `#`/`$` layers round trip. */
#include <stdlib.h>
#include <string.h>

#include "applets/hitc/hitc.h"
#include "core/encoding.h"
#include "crypto/crypto.h"
#include "crypto/rsa.h"
#include "tests/unit/unit.h"

static int parse(const char *s, struct hitc_answer *a)
{
	return hitc_parse_answer(s, strlen(s), a);
}

static void answer_hello(void)
{
	struct hitc_answer a;
	const char *l = "=0:0/2600::HitServer bereit. Version 2600, 12-00-00h Challenge -7318593407631969708";
	CHECK_EQ(parse(l, &a), 0);
	CHECK_EQ(a.kind, '=');
	CHECK_EQ(a.seq, 0);
	CHECK_EQ(a.severity, 0);
	CHECK_EQ(a.number, 2600);
	CHECK_EQ(a.entity_len, 0);
	CHECK(a.field == NULL);
	CHECK_EQ(a.text_len, strlen(l) - 11);
	CHECK(memcmp(a.text, "HitServer bereit.", 17) == 0);
}

static void answer_entity_field(void)
{
	struct hitc_answer a;
	CHECK_EQ(parse("=1:3/226:LOGON/BNR15:Betriebsnummer nicht gefunden.", &a), 0);
	CHECK_EQ(a.seq, 1);
	CHECK_EQ(a.severity, 3);
	CHECK_EQ(a.number, 226);
	CHECK_EQ(a.entity_len, 5);
	CHECK(memcmp(a.entity, "LOGON", 5) == 0);
	CHECK_EQ(a.field_len, 5);
	CHECK(memcmp(a.field, "BNR15", 5) == 0);
	CHECK_EQ(parse("=99:0/251:LOGOFF/*:Abmeldung erfolgreich.", &a), 0);
	CHECK_EQ(a.seq, 99);
	CHECK_EQ(a.field_len, 1);
	CHECK_EQ(parse("=1:4/190:LOGON:Nach mehreren ungültigen Versuchen", &a), 0);
	CHECK_EQ(a.severity, 4);
	CHECK(a.field == NULL);
}

static void answer_colons_in_text(void)
{
	struct hitc_answer a;
	CHECK_EQ(parse("=7:1/5:X:a:b:c::", &a), 0);
	CHECK_EQ(a.text_len, 7);
	CHECK(memcmp(a.text, "a:b:c::", 7) == 0);
	/* Empty text, no message number, a continuation part. */
	CHECK_EQ(parse("=7:2:E:", &a), 0);
	CHECK_EQ(a.number, -1);
	CHECK_EQ(a.text_len, 0);
	CHECK_EQ(parse("%12:0/0:TIERHALTER/NAME:Müller", &a), 0);
	CHECK_EQ(a.kind, '%');
	CHECK_EQ(a.seq, 12);
}

static void answer_rejects(void)
{
	struct hitc_answer a;
	const char *bad[] = {
		"", "=", "=1", "=1:", "=1:0", "=1:0/", "=1:0/1", "=1:0/1:", "=1:0/1:E",
		"*1:XS:LOGON:", "#ABCD", "$00", "x1:0/1:E:t", "1:0/1:E:t", "=a:0/1:E:t",
		"=1:a/1:E:t", "=1:12/1:E:t", "=1:0/x:E:t", "=1:0/1E:t", "= 1:0/1:E:t",
		"=1234567890123456789:0:E:t",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &a) == 0) {
			fprintf(stderr, "accepted: '%s'\n", bad[i]);
			CHECK(0);
		}
	/* Not NUL-terminated: the parser must stay inside len. */
	CHECK_EQ(hitc_parse_answer("=1:0/1:E:t", 8, &a), -1);
}

static void command_body(void)
{
	CHECK_STR(hitc_command_body("RS:TIERHALTER:x"), "RS:TIERHALTER:x");
	CHECK_STR(hitc_command_body("*5:XS:ECHO:hi"), "XS:ECHO:hi");
	CHECK(hitc_command_body("*:XS:ECHO:hi") == NULL);
	CHECK(hitc_command_body("*5XS:ECHO:hi") == NULL);
	CHECK(hitc_command_body("XSECHO") == NULL);
	CHECK(hitc_command_body("X:ECHO") == NULL);
	CHECK(hitc_command_body("") == NULL);
	CHECK(hitc_command_body("1S:E:v") == NULL);
	CHECK(hitc_command_body("XS:ECHO:a\n*5:XS:LOGOFF:") == NULL);
	CHECK(hitc_command_body("XS:ECHO:a\r") == NULL);
}

static void logon_plain(void)
{
	struct hitc_logon l = { "276090000000001", "Aaaa$900001", 4, -1, 1200, NULL, NULL, NULL, NULL };
	char *s = hitc_logon_line_new(1, &l, 0);
	CHECK_STR(s, "*1:XS:LOGON/BNR15;PIN;MELD_WG;TIMEOUT:276090000000001;Aaaa$900001;4;1200");
	free(s);
	s = hitc_logon_line_new(1, &l, 1);
	CHECK_STR(s, "*1:XS:LOGON/BNR15;PIN;MELD_WG;TIMEOUT:276090000000001;***;4;1200");
	free(s);
	l.pin = "a;b";
	CHECK(hitc_logon_line_new(1, &l, 0) == NULL);
	l.pin = "";
	l.mbn = 0;
	l.timeout = -1;
	s = hitc_logon_line_new(3, &l, 0);
	CHECK_STR(s, "*3:XS:LOGON/BNR15;PIN;MELD_WG;MBN:276090000000001;;4;0");
	free(s);
}

static void logon_encrypted(void)
{
	struct hitc_logon l = { "09 000 000 0001", "Aaaa$900001", 3, 0, -1,
				"HitServer bereit. Challenge 14715426292224812683", "F5EB", "5330", "AES/GCM/NoPadding" };
	char *s = hitc_logon_line_new(1, &l, 0);
	CHECK_STR(s, "*1:XS:LOGON/BNR15;PIN;MELD_WG;MBN;SVR_HELO;RAND_CLI;SESS_KEY;ENC_SYM:"
		     "09 000 000 0001;Aaaa$900001;3;0;HitServer bereit. Challenge 14715426292224812683;"
		     "F5EB;5330;AES/GCM/NoPadding");
	free(s);
	s = hitc_logon_line_new(1, &l, 1);
	CHECK(s && !strstr(s, "Aaaa") && !strstr(s, "F5EB") && !strstr(s, "5330"));
	free(s);
	l.svr_helo = "a\nb";
	CHECK(hitc_logon_line_new(1, &l, 0) == NULL);
}

static void tbc_padding(void)
{
	uint8_t in[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, out[32];
	/* Last byte even (10): pad 0xFF up to the block. */
	CHECK_EQ(hitc_tbc_padded_len(10, 16), 16);
	CHECK_EQ(hitc_tbc_pad(in, 10, 16, out), 0);
	CHECK_MEM(out, in, 10);
	for (int i = 10; i < 16; i++)
		CHECK_EQ(out[i], 0xff);
	CHECK_EQ(hitc_tbc_unpad(out, 16), 10);
	/* Last byte odd (9): pad 0x00. */
	CHECK_EQ(hitc_tbc_pad(in, 9, 16, out), 0);
	for (int i = 9; i < 16; i++)
		CHECK_EQ(out[i], 0x00);
	CHECK_EQ(hitc_tbc_unpad(out, 16), 9);
	/* Exactly one block: a whole pad block follows. */
	CHECK_EQ(hitc_tbc_padded_len(8, 8), 16);
	CHECK_EQ(hitc_tbc_pad(in, 8, 8, out), 0);
	for (int i = 8; i < 16; i++)
		CHECK_EQ(out[i], 0xff);
	CHECK_EQ(hitc_tbc_unpad(out, 16), 8);
	CHECK_EQ(hitc_tbc_pad(in, 7, 7, out), 0);
	for (int i = 7; i < 14; i++)
		CHECK_EQ(out[i], 0x00);
	CHECK_EQ(hitc_tbc_unpad(out, 14), 7);
	/* Bad pads. */
	uint8_t b1[4] = { 1, 2, 3, 0x7f }, b2[4] = { 3, 0xff, 0xff, 0xff }, b3[3] = { 0, 0, 0 };
	CHECK_EQ(hitc_tbc_unpad(b1, 4), -1);
	CHECK_EQ(hitc_tbc_unpad(b2, 4), -1); /* odd byte before 0xFF: not TBC */
	CHECK_EQ(hitc_tbc_unpad(b3, 3), -1);
	CHECK_EQ(hitc_tbc_pad(in, 0, 8, out), -1);
}

static void enc_sym_names(void)
{
	enum hitc_cipher c;
	CHECK_EQ(hitc_enc_sym_parse("AES/CBC/PKCS7Padding", &c), 0);
	CHECK_EQ(c, HITC_AES_CBC);
	CHECK_EQ(hitc_enc_sym_parse("AES/CBC/PKCS5Padding", &c), 0);
	CHECK_EQ(c, HITC_AES_CBC);
	CHECK_EQ(hitc_enc_sym_parse("aes/cbc/pkcs7padding", &c), 0);
	CHECK_EQ(hitc_enc_sym_parse("AES/ECB/PKCS7Padding", &c), 0);
	CHECK_EQ(c, HITC_AES_ECB);
	CHECK_EQ(hitc_enc_sym_parse("AES/GCM/NoPadding", &c), 0);
	CHECK_EQ(c, HITC_AES_GCM);
	CHECK_EQ(hitc_enc_sym_parse("2", &c), -1);
	CHECK_EQ(hitc_enc_sym_parse("AES/CTR/NoPadding", &c), -1);
	CHECK_EQ(hitc_enc_sym_parse("AES/CBC/NoPadding", &c), -1);
	CHECK_EQ(hitc_enc_sym_parse("", &c), -1);
	CHECK(hitc_cipher_key_ok(HITC_AES_CBC, 16));
	CHECK(hitc_cipher_key_ok(HITC_AES_CBC, 24));
	CHECK(!hitc_cipher_key_ok(HITC_AES_CBC, 20));
	CHECK(hitc_cipher_key_ok(HITC_AES_GCM, 32));
	CHECK(!hitc_cipher_key_ok(HITC_AES_GCM, 16));
}

static void recode(void)
{
	size_t n;
	char *s = hitc_recode_new("M\xfcller Stra\xdf" "e", 13, HITC_CS_LATIN1, HITC_CS_UTF8, &n);
	CHECK_STR(s, "Müller Straße");
	CHECK_EQ(n, strlen("Müller Straße"));
	free(s);
	s = hitc_recode_new("Müller", strlen("Müller"), HITC_CS_UTF8, HITC_CS_LATIN1, &n);
	CHECK_STR(s, "M\xfcller");
	free(s);
	CHECK(hitc_recode_new("€", 3, HITC_CS_UTF8, HITC_CS_LATIN1, &n) == NULL);
	CHECK(hitc_recode_new("\xfc", 1, HITC_CS_UTF8, HITC_CS_LATIN1, &n) == NULL);
	s = hitc_recode_new("\xfc", 1, HITC_CS_LATIN1, HITC_CS_LATIN1, &n);
	CHECK(s && n == 1 && (uint8_t)s[0] == 0xfc);
	free(s);
}

static void sym_round_trip_one(enum hitc_cipher c, size_t keylen, enum hitc_iv_mode iv)
{
	uint8_t key[32];
	const char *line = "*2:RS:TIERHALTER/NAME;ORT:276090000000001";
	size_t n;
	memset(key, 0x5a, sizeof(key));
	struct hitc_sym *s = hitc_sym_new(c, key, keylen, iv);
	CHECK(s != NULL);
	if (!s)
		return;
	char *enc = hitc_sym_encrypt_line_new(s, line, strlen(line));
	CHECK(enc && enc[0] == '#');
	if (enc) {
		for (char *p = enc + 1; *p; p++)
			CHECK((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F'));
		uint8_t *dec = hitc_sym_decrypt_line_new(s, enc + 1, strlen(enc) - 1, &n);
		CHECK(dec && n == strlen(line) && memcmp(dec, line, n) == 0);
		free(dec);
		/* A flipped hex digit must not come back as a line (GCM: tag; CBC: padding
		 * in the last block). */
		size_t last = strlen(enc) - 1;
		enc[last] = enc[last] == '0' ? '1' : '0';
		dec = hitc_sym_decrypt_line_new(s, enc + 1, strlen(enc) - 1, &n);
		if (c == HITC_AES_GCM)
			CHECK(dec == NULL);
		free(dec);
		CHECK(hitc_sym_decrypt_line_new(s, enc + 1, strlen(enc) - 2, &n) == NULL);
		CHECK(hitc_sym_decrypt_line_new(s, "ZZ", 2, &n) == NULL);
		CHECK(hitc_sym_decrypt_line_new(s, "", 0, &n) == NULL);
	}
	free(enc);
	hitc_sym_free(s);
}

static void sym_round_trip(void)
{
	sym_round_trip_one(HITC_AES_CBC, 32, HITC_IV_PREFIX);
	sym_round_trip_one(HITC_AES_CBC, 16, HITC_IV_ZERO);
	sym_round_trip_one(HITC_AES_ECB, 24, HITC_IV_PREFIX);
	sym_round_trip_one(HITC_AES_GCM, 32, HITC_IV_PREFIX);
	uint8_t key[32] = { 0 };
	CHECK(hitc_sym_new(HITC_AES_GCM, key, 32, HITC_IV_ZERO) == NULL);
	CHECK(hitc_sym_new(HITC_AES_GCM, key, 16, HITC_IV_PREFIX) == NULL);
}

/* Encrypts with hitc's $ layer and decrypts with the private key by hand: blocks of k
 * bytes, a zero top byte, (k-1)-byte chunks, TBC at the end. (The independent check
 * against Python's cryptography is tests/integration/hitc_crypto.sh.) */
static void rsa_tbc_round_trip(void)
{
	struct cry_rsa *k = cry_rsa_generate(2048);
	CHECK(k != NULL);
	if (!k)
		return;
	size_t ks = cry_rsa_size(k);
	CHECK_EQ(ks, 256);
	size_t lens[] = { 1, 254, 255, 256, 400, 510 };
	for (size_t t = 0; t < sizeof(lens) / sizeof(lens[0]); t++) {
		size_t len = lens[t];
		char *msg = malloc(len);
		for (size_t i = 0; i < len; i++)
			msg[i] = (char)('A' + (i * 7 + t) % 26);
		char *line = hitc_rsa_line_new(k, HITC_RSA_TBC, msg, len);
		CHECK(line && line[0] == '$');
		if (!line) {
			free(msg);
			continue;
		}
		size_t hexlen = strlen(line) - 1, nb = hexlen / 2 / ks;
		CHECK_EQ(hexlen % (2 * ks), 0);
		CHECK_EQ(nb, len / (ks - 1) + 1);
		uint8_t *ct = malloc(hexlen / 2), *pt = malloc(nb * (ks - 1)), blk[512];
		CHECK_EQ(hex_decode(line + 1, hexlen, ct, hexlen / 2), (long long)(hexlen / 2));
		for (size_t b = 0; b < nb; b++) {
			/* A whole pad block of 0x00 is m = 0, and 0^e = 0: the crypto core (rightly)
			 * refuses c = 0 in a private operation, so that block is checked as is. */
			static const uint8_t zero[512];
			if (memcmp(ct + b * ks, zero, ks) == 0) {
				memset(blk, 0, ks);
				CHECK_EQ(b, nb - 1);
			} else {
				CHECK_EQ(cry_rsa_raw_private(k, ct + b * ks, ks, blk), 0);
			}
			CHECK_EQ(blk[0], 0);
			memcpy(pt + b * (ks - 1), blk + 1, ks - 1);
		}
		CHECK_EQ(hitc_tbc_unpad(pt, nb * (ks - 1)), (long long)len);
		CHECK_MEM(pt, msg, len);
		free(ct);
		free(pt);
		free(line);
		free(msg);
	}
	/* PKCS#1 v1.5: k-11 byte chunks, each a k-byte block. */
	char msg[600];
	memset(msg, 'x', sizeof(msg));
	char *line = hitc_rsa_line_new(k, HITC_RSA_PKCS1, msg, sizeof(msg));
	CHECK(line && strlen(line) - 1 == 2 * ks * 3);
	if (line) {
		uint8_t ct[256], pt[256];
		CHECK_EQ(hex_decode(line + 1 + 2 * 2 * ks, 2 * ks, ct, sizeof(ct)), 256);
		CHECK_EQ(cry_rsa_pkcs1_decrypt(k, ct, ks, pt, sizeof(pt)), 600 - 2 * 245);
	}
	free(line);
	cry_rsa_free(k);
}

static void key_files(void)
{
	char err[200];
	struct cry_rsa *k = cry_rsa_generate(2048);
	CHECK(k != NULL);
	if (!k)
		return;
	uint8_t n[512], e[16];
	size_t nlen = sizeof(n), elen = sizeof(e);
	CHECK_EQ(cry_rsa_modexp(k, n, &nlen, e, &elen), 0);
	char *text = malloc(2 * nlen + 2 * elen + 64), *p = text;
	p += sprintf(p, "# HIT public key\nn = ");
	hex_encode(n, nlen, p, 2 * nlen + 1, 0);
	p += 2 * nlen;
	p += sprintf(p, "\r\nexponent = ");
	hex_encode(e, elen, p, 2 * elen + 1, 1);
	p += 2 * elen;
	strcpy(p, "\n");
	struct cry_rsa *k2 = hitc_key_parse(text, strlen(text), err, sizeof(err));
	CHECK(k2 && cry_rsa_public_equal(k, k2));
	cry_rsa_free(k2);
	char *pem = cry_rsa_public_pem_new(k);
	k2 = pem ? hitc_key_parse(pem, strlen(pem), err, sizeof(err)) : NULL;
	CHECK(k2 && cry_rsa_public_equal(k, k2));
	cry_rsa_free(k2);
	free(pem);
	CHECK(hitc_key_parse("n = 12\n", 7, err, sizeof(err)) == NULL);
	CHECK(hitc_key_parse("x = 12\ne = 3\n", 13, err, sizeof(err)) == NULL);
	CHECK(hitc_key_parse("n = zz\ne = 3\n", 13, err, sizeof(err)) == NULL);
	free(text);
	cry_rsa_free(k);
}

UNIT_SUITE(hitc,
	   UNIT_TEST(answer_hello),
	   UNIT_TEST(answer_entity_field),
	   UNIT_TEST(answer_colons_in_text),
	   UNIT_TEST(answer_rejects),
	   UNIT_TEST(command_body),
	   UNIT_TEST(logon_plain),
	   UNIT_TEST(logon_encrypted),
	   UNIT_TEST(tbc_padding),
	   UNIT_TEST(enc_sym_names),
	   UNIT_TEST(recode),
	   UNIT_TEST(sym_round_trip),
	   UNIT_TEST(rsa_tbc_round_trip),
	   UNIT_TEST(key_files));
