/* Unit tests for databox's container code (applets/databox/dbx_json.c, dbx_keys.c):
 * JSON shapes and strictness, version mapping, file key field sizes, SDK field order,
 * the Ruby SDK's raw newlines, and an RSA-2048 wrap/unwrap round trip with a fresh key. */
#include <stdlib.h>

#include "unit.h"
#include "applets/databox/dbx_keys.h"
#include "crypto/rsa.h"

static const char plain_fk[] = "{\"version\":\"A\",\"key\":\"RZIcE5VWziSw4EPsfa40xKGM95LAdC/WMMY84g4aOHo=\","
			       "\"iv\":\"8O+rDR/+InRDmWxB\",\"tag\":\"SsQh5Pws/rmrVC2b+25v9A==\"}";

static json_t *parse(const char *s)
{
	char err[200];
	return dbx_json_parse(s, strlen(s), err, sizeof(err));
}

static void versions_map_both_ways(void)
{
	CHECK_EQ(dbx_kp_version_parse("A"), DBX_KP_A);
	CHECK_EQ(dbx_kp_version_parse("RSA-4096"), DBX_KP_RSA4096);
	CHECK_EQ(dbx_kp_version_parse("RSA-4096/AES-256-GCM"), DBX_KP_NONE);
	CHECK_EQ(dbx_kp_version_parse("a"), DBX_KP_NONE);
	CHECK_EQ(dbx_kp_version_bits(DBX_KP_A), 2048);
	CHECK_EQ(dbx_kp_version_bits(DBX_KP_RSA4096), 4096);
	CHECK_STR(dbx_fk_version_name(DBX_KP_A), "A");
	CHECK_STR(dbx_fk_version_name(DBX_KP_RSA4096), "RSA-4096/AES-256-GCM");
}

static void plain_file_key_roundtrip_in_sdk_layout(void)
{
	struct dbx_file_key fk;
	char err[200];
	json_t *j = parse(plain_fk);

	CHECK(j && dbx_file_key_from_json(j, 0, &fk, err, sizeof(err)) == 0);
	CHECK_EQ(fk.keylen, 32);
	CHECK(fk.has_tag);
	CHECK_EQ(fk.key[0], 0x45);
	CHECK_EQ(fk.tag[15], 0xf4);
	json_t *o = dbx_file_key_to_json(&fk);
	char *s = o ? dbx_json_dump_new(o) : NULL;
	CHECK_STR(s, "{\n  \"version\": \"AES-256-GCM\",\n  \"key\": \"RZIcE5VWziSw4EPsfa40xKGM95LAdC/WMMY84g4aOHo=\",\n"
		  "  \"iv\": \"8O+rDR/+InRDmWxB\",\n  \"tag\": \"SsQh5Pws/rmrVC2b+25v9A==\"\n}");
	free(s);
	json_decref(o);
	/* as an encrypted key it is too short for either RSA size */
	CHECK(dbx_file_key_from_json(j, 1, &fk, err, sizeof(err)) < 0);
	json_decref(j);
}

static void file_key_field_errors(void)
{
	static const char *const bad[] = {
		"{\"version\":\"B\",\"key\":\"RZIcE5VWziSw4EPsfa40xKGM95LAdC/WMMY84g4aOHo=\",\"iv\":\"8O+rDR/+InRDmWxB\",\"tag\":null}",
		"{\"version\":\"A\",\"key\":\"RZIcE5VWziSw4EPsfa40xKGM95LAdC/WMMY84g4aOHo\",\"iv\":\"8O+rDR/+InRDmWxB\",\"tag\":null}",
		"{\"version\":\"A\",\"key\":\"RZIcE5VWziSw4EPsfa40xKGM95LAdC/WMMY84g4aOHo=\",\"iv\":\"8O+rDR/+InRD\",\"tag\":null}",
		"{\"version\":\"A\",\"key\":\"RZIcE5VWziSw4EPsfa40xKGM95LAdC/WMMY84g4aOHo=\",\"iv\":\"8O+rDR/+InRDmWxB\",\"tag\":\"SsQh\"}",
		"{\"version\":\"A\",\"iv\":\"8O+rDR/+InRDmWxB\",\"tag\":null}",
		"{\"version\":1,\"key\":\"RZIcE5VWziSw4EPsfa40xKGM95LAdC/WMMY84g4aOHo=\",\"iv\":\"8O+rDR/+InRDmWxB\"}",
		"[]",
	};
	struct dbx_file_key fk;
	char err[200];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = parse(bad[i]);
		CHECK(j != NULL);
		CHECK(dbx_file_key_from_json(j, 0, &fk, err, sizeof(err)) < 0);
		json_decref(j);
	}
	/* null tag is fine (upload not finished), and the JS version string is kept */
	json_t *j = parse("{\"version\":\"AES-256-GCM\",\"key\":\"RZIcE5VWziSw4EPsfa40xKGM95LAdC/WMMY84g4aOHo=\","
			  "\"iv\":\"8O+rDR/+InRDmWxB\",\"tag\":null}");
	CHECK(j && dbx_file_key_from_json(j, 0, &fk, err, sizeof(err)) == 0);
	CHECK(!fk.has_tag && fk.plain_js);
	json_decref(j);
}

static void keypair_shapes(void)
{
	struct dbx_keypair kp;
	char err[200];
	json_t *j;

	j = parse("{\"version\":\"A\",\"privateKey\":\"x\"}");
	CHECK(dbx_keypair_from_json(j, &kp, err, sizeof(err)) == 0);
	CHECK(kp.private_pem && !kp.public_pem && kp.priv_version == DBX_KP_A);
	json_decref(j);
	j = parse("{\"privateKeyContainer\":{\"version\":\"RSA-4096\",\"privateKey\":\"x\",\"createdBy\":1},"
		  "\"publicKeyContainer\":{\"version\":\"RSA-4096\",\"publicKey\":\"y\",\"expireAt\":null}}");
	CHECK(dbx_keypair_from_json(j, &kp, err, sizeof(err)) == 0);
	CHECK(kp.private_pem && kp.public_pem && kp.pub_version == DBX_KP_RSA4096);
	json_decref(j);
	j = parse("{\"privateKeyContainer\":{\"version\":\"RSA-4096\",\"privateKey\":\"x\"},"
		  "\"publicKeyContainer\":{\"version\":\"A\",\"publicKey\":\"y\"}}");
	CHECK(dbx_keypair_from_json(j, &kp, err, sizeof(err)) < 0);
	CHECK(strstr(err, "versions differ") != NULL);
	json_decref(j);
	j = parse("{\"encryptedUserKeyPairContainer\":{\"publicKeyContainer\":{\"version\":\"A\",\"publicKey\":\"y\"}}}");
	CHECK(dbx_keypair_from_json(j, &kp, err, sizeof(err)) == 0);
	CHECK(!kp.private_pem && kp.public_pem);
	json_decref(j);
	j = parse("{\"version\":\"A\",\"publicKey\":\"a\\u0000b\"}");
	CHECK(dbx_keypair_from_json(j, &kp, err, sizeof(err)) < 0);
	json_decref(j);
	j = parse("{\"other\":1}");
	CHECK(dbx_keypair_from_json(j, &kp, err, sizeof(err)) < 0);
	json_decref(j);
}

static void json_leniency_and_strictness(void)
{
	char err[200];
	/* the Ruby SDK wrote raw newlines inside strings */
	json_t *j = parse("{\"version\": \"A\", \"publicKey\": \"-----BEGIN PUBLIC KEY-----\n\r\n  abc\n\"}");
	CHECK(j != NULL);
	CHECK_STR(json_string_value(json_object_get(j, "publicKey")), "-----BEGIN PUBLIC KEY-----\n\r\n  abc\n");
	json_decref(j);
	CHECK(parse("{\"a\":1,\"a\":2}") == NULL); /* duplicate keys are refused */
	CHECK(parse("{\"a\":") == NULL);
	j = dbx_json_parse("{}", 2, err, sizeof(err));
	CHECK(j != NULL);
	json_decref(j);
}

static void wrap_unwrap_roundtrip_rsa2048(void)
{
	struct dbx_file_key plain, enc, back;
	char err[200];
	struct cry_rsa *k = cry_rsa_generate(2048);

	CHECK(k != NULL);
	if (!k)
		return;
	CHECK(dbx_file_key_new(&plain) == 0);
	CHECK(dbx_file_key_wrap(&plain, k, DBX_KP_A, &enc, err, sizeof(err)) == 0);
	CHECK_EQ(enc.keylen, 256);
	CHECK(dbx_file_key_unwrap(&enc, k, DBX_KP_A, &back, err, sizeof(err)) == 0);
	CHECK_MEM(back.key, plain.key, 32);
	CHECK_MEM(back.iv, plain.iv, 12);
	/* the RSA-4096 version on a 2048-bit key is refused both ways */
	CHECK(dbx_file_key_wrap(&plain, k, DBX_KP_RSA4096, &enc, err, sizeof(err)) < 0);
	enc.version = DBX_KP_RSA4096;
	CHECK(dbx_file_key_unwrap(&enc, k, DBX_KP_A, &back, err, sizeof(err)) < 0);
	cry_rsa_free(k);
}

UNIT_SUITE(dbx_keys,
	   UNIT_TEST(versions_map_both_ways),
	   UNIT_TEST(plain_file_key_roundtrip_in_sdk_layout),
	   UNIT_TEST(file_key_field_errors),
	   UNIT_TEST(keypair_shapes),
	   UNIT_TEST(json_leniency_and_strictness),
	   UNIT_TEST(wrap_unwrap_roundtrip_rsa2048));
