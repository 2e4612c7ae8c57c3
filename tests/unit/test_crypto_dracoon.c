/* DRACOON's published test vectors (../shared/vectors/dracoon, see its SOURCES.txt):
 * key pairs unlock (10k iterations with 20- and 128-byte salts, 1.3M iterations, a
 * Latin-1 password), encrypted file keys unwrap with the right OAEP MGF1, the file
 * decrypts byte-exact through streaming GCM, and our PBES2 encryption reproduces the
 * JS SDK's deterministic vector byte for byte. Without the vectors folder every test
 * reports a skip. */
#include <limits.h>
#include <sys/stat.h>

#include "crypto/crypto.h"
#include "crypto/pkcs8.h"
#include "crypto/rsa.h"
#include "crypto_util.h"
#include "unit.h"

static const char *vectors(void)
{
	static char found[PATH_MAX]; /* test code: cached for the run */
	const char *data = unit_data_dir();
	char cand[3][1024];
	struct stat st;

	if (found[0])
		return found;
	/* <X>/main/tests/data -> <X>/shared; a worktree <X>/wt/name/tests/data -> <X>/shared */
	snprintf(cand[0], sizeof(cand[0]), "%s/../../../shared/vectors/dracoon", data);
	snprintf(cand[1], sizeof(cand[1]), "%s/../../../../shared/vectors/dracoon", data);
	snprintf(cand[2], sizeof(cand[2]), "/work/shared/vectors/dracoon");
	for (int i = 0; i < 3; i++) {
		if (stat(cand[i], &st) == 0 && S_ISDIR(st.st_mode) && realpath(cand[i], found))
			return found;
	}
	unit_skip("DRACOON vectors not found beside the checkout (../shared/vectors/dracoon)");
	return NULL;
}

/* The string value of the first "key" at or after anchor (NULL: from the start), JSON
 * escapes \n \r \t \/ \\ \" resolved. Enough for these fixed files; the real JSON
 * handling belongs to databox. Caller frees. */
static char *json_str(const char *json, const char *anchor, const char *key)
{
	char pat[64];
	const char *p = json;

	if (anchor && !(p = strstr(json, anchor)))
		return NULL;
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(p, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	if (*p != '"')
		return NULL;
	p++;
	char *out = malloc(strlen(p) + 1), *o = out;
	if (!out)
		return NULL;
	for (; *p && *p != '"'; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case '/': case '\\': case '"': *o++ = *p; break;
		default: free(out); return NULL;
		}
	}
	*o = 0;
	return out;
}

/* "key": [1, 2, 3] as bytes. */
static size_t json_bytes(const char *json, const char *key, uint8_t *out, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = strstr(json, pat);
	size_t n = 0;
	if (!p || !(p = strchr(p, '[')))
		return 0;
	p++;
	while (n < cap) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 0 || v > 255)
			break;
		out[n++] = (uint8_t)v;
		p = end;
		while (*p == ' ' || *p == ',' || *p == '\n' || *p == '\r')
			p++;
		if (*p == ']')
			break;
	}
	return n;
}

static char *read_text(const char *rel)
{
	const char *v = vectors();
	size_t len = 0;
	char *t = v ? (char *)tu_read(v, rel, &len) : NULL; /* NUL-terminated by fs_read_file_new */
	/* The folder is there but the file is not: a failure, never a silent early return. */
	CHECK(!v || t);
	return t;
}

static size_t b64(const char *s, uint8_t *out, size_t cap)
{
	ssize_t n = s ? base64_decode(s, strlen(s), out, cap, 1) : -1;
	return n < 0 ? 0 : (size_t)n;
}

/* Unlocks "<dir>/private_key.json" with pw and checks it against public_key.json. */
static struct cry_rsa *java_keypair(const char *dir, const char *pw, unsigned bits,
				    size_t saltlen)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "java-crypto-sdk/unit/data/%s/private_key.json", dir);
	char *js = read_text(rel);
	snprintf(rel, sizeof(rel), "java-crypto-sdk/unit/data/%s/public_key.json", dir);
	char *jp = read_text(rel);
	char *priv = js ? json_str(js, NULL, "privateKey") : NULL;
	char *pub = jp ? json_str(jp, NULL, "publicKey") : NULL;
	struct cry_rsa *k = NULL, *p = NULL;
	int wrong = -1;

	CHECK(priv && pub);
	if (!priv || !pub)
		goto out;
	k = cry_pkcs8_decrypt(priv, strlen(priv), 0, pw, strlen(pw), &wrong);
	p = cry_rsa_from_pem(pub, strlen(pub));
	CHECK(k && wrong == 0 && cry_rsa_is_private(k));
	CHECK(p && k && cry_rsa_public_equal(k, p));
	CHECK(k && cry_rsa_bits(k) == bits);
	struct cry_rsa *x = cry_pkcs8_decrypt(priv, strlen(priv), 0, "Invalid-Password", 16, &wrong);
	CHECK(x == NULL && wrong == 1);
	/* the salt length this vector is known for */
	const char *b = strchr(priv, '\n'), *e = strstr(priv, "-----END");
	uint8_t der[4096];
	ssize_t r = (b && e) ? base64_decode(b, (size_t)(e - b), der, sizeof(der), 1) : -1;
	size_t n = r < 0 ? 0 : (size_t)r;
	struct cry_pbes2 pp;
	CHECK(n && cry_pbes2_parse(der, n, &pp) == 0 && pp.saltlen == saltlen);
out:
	cry_rsa_free(p);
	free(priv);
	free(pub);
	free(js);
	free(jp);
	return k;
}

static void java_keypairs_unlock(void)
{
	char *pw = read_text("java-crypto-sdk/unit/data/kp_general/pw.txt");
	if (!pw)
		return;
	CHECK_STR(pw, "Qwer1234!");
	cry_rsa_free(java_keypair("kp_rsa2048", pw, 2048, 128)); /* over wolfSSL's 64-byte limit */
	cry_rsa_free(java_keypair("kp_rsa4096", pw, 4096, 20));
	free(pw);
}

/* The encrypted file key unwraps to the plain one with this MGF1 only. */
static void unwrap(struct cry_rsa *k, const char *fkdir, enum cry_mgf mgf, const char *version)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "java-crypto-sdk/unit/data/%s/enc_file_key.json", fkdir);
	char *je = read_text(rel);
	snprintf(rel, sizeof(rel), "java-crypto-sdk/unit/data/%s/plain_file_key.json", fkdir);
	char *jp = read_text(rel);
	char *ekey = je ? json_str(je, NULL, "key") : NULL, *pkey = jp ? json_str(jp, NULL, "key") : NULL;
	char *ver = je ? json_str(je, NULL, "version") : NULL;
	uint8_t ct[1024], want[64], got[512];

	CHECK_STR(ver, version);
	size_t cl = b64(ekey, ct, sizeof(ct)), wl = b64(pkey, want, sizeof(want));
	CHECK_EQ(cl, cry_rsa_size(k));
	CHECK_EQ(wl, 32);
	CHECK_EQ(cry_rsa_oaep_decrypt(k, mgf, ct, cl, got, sizeof(got)), 32);
	CHECK_MEM(got, want, 32);
	uint8_t known[32];
	tu_hex("45921c139556ce24b0e043ec7dae34c4a18cf792c0742fd630c63ce20e1a387a", known, 32);
	CHECK_MEM(got, known, 32);
	enum cry_mgf other = mgf == CRY_MGF1_SHA1 ? CRY_MGF1_SHA256 : CRY_MGF1_SHA1;
	CHECK(cry_rsa_oaep_decrypt(k, other, ct, cl, got, sizeof(got)) < 0);
	/* and what we wrap for this key unwraps again */
	uint8_t ours[512];
	CHECK(cry_rsa_oaep_encrypt(k, mgf, want, 32, ours, sizeof(ours)) == (ssize_t)cl);
	CHECK_EQ(cry_rsa_oaep_decrypt(k, mgf, ours, cl, got, sizeof(got)), 32);
	CHECK_MEM(got, want, 32);
	free(ekey);
	free(pkey);
	free(ver);
	free(je);
	free(jp);
}

static void file_keys_unwrap(void)
{
	char *pw = read_text("java-crypto-sdk/unit/data/kp_general/pw.txt");
	if (!pw)
		return;
	struct cry_rsa *k2 = java_keypair("kp_rsa2048", pw, 2048, 128);
	struct cry_rsa *k4 = java_keypair("kp_rsa4096", pw, 4096, 20);
	if (k2)
		unwrap(k2, "fk_rsa2048_aes256gcm", CRY_MGF1_SHA1, "A");
	if (k4)
		unwrap(k4, "fk_rsa4096_aes256gcm", CRY_MGF1_SHA256, "RSA-4096/AES-256-GCM");
	cry_rsa_free(k2);
	cry_rsa_free(k4);
	free(pw);
}

static void file_decrypts_byte_exact(void)
{
	char *jp = read_text("java-crypto-sdk/unit/data/fk_rsa2048_aes256gcm/plain_file_key.json");
	char *pb = read_text("java-crypto-sdk/unit/files/plain_file.b64");
	char *eb = read_text("java-crypto-sdk/unit/files/aes256gcm/enc_file.b64");
	if (!jp || !pb || !eb)
		goto out;
	char *ks = json_str(jp, NULL, "key"), *is = json_str(jp, NULL, "iv"), *ts = json_str(jp, NULL, "tag");
	uint8_t key[32], iv[12], tag[16], pt[256], ct[256], out[256], tag2[16];
	CHECK_EQ(b64(ks, key, sizeof(key)), 32);
	CHECK_EQ(b64(is, iv, sizeof(iv)), 12);
	CHECK_EQ(b64(ts, tag, sizeof(tag)), 16);
	size_t pl = b64(pb, pt, sizeof(pt)), cl = b64(eb, ct, sizeof(ct));
	CHECK_EQ(pl, 50);
	CHECK_EQ(cl, pl); /* no tag appended to the file */
	CHECK(memcmp(pt, "TestABCDEFGH 123\n", 17) == 0);
	/* decrypt in pieces of 1, 7, 16, ... bytes */
	static const size_t pieces[] = { 1, 7, 16, 3, 23 };
	struct cry_gcm_stream *s = cry_gcm_stream_new(key, iv, 12, 0);
	CHECK(s != NULL);
	size_t off = 0;
	for (size_t i = 0; s && off < cl; i++) {
		size_t n = pieces[i % 5] < cl - off ? pieces[i % 5] : cl - off;
		CHECK(cry_gcm_stream_update(s, ct + off, n, out + off) == 0);
		off += n;
	}
	CHECK(s && cry_gcm_stream_final(s, tag) == 0);
	cry_gcm_stream_free(s);
	CHECK_MEM(out, pt, pl);
	/* encrypting gives the same bytes and tag */
	s = cry_gcm_stream_new(key, iv, 12, 1);
	CHECK(s && cry_gcm_stream_update(s, pt, 20, out) == 0 &&
	      cry_gcm_stream_update(s, pt + 20, pl - 20, out + 20) == 0 &&
	      cry_gcm_stream_final(s, tag2) == 0);
	cry_gcm_stream_free(s);
	CHECK_MEM(out, ct, cl);
	CHECK_MEM(tag2, tag, 16);
	/* a modified file fails */
	ct[10] ^= 0x20;
	s = cry_gcm_stream_new(key, iv, 12, 0);
	CHECK(s && cry_gcm_stream_update(s, ct, cl, out) == 0);
	CHECK(s && cry_gcm_stream_final(s, tag) < 0);
	cry_gcm_stream_free(s);
	cry_wipe(key, sizeof(key));
	free(ks);
	free(is);
	free(ts);
out:
	free(jp);
	free(pb);
	free(eb);
}

/* JS SDK kp_rsa4096_2: 1.3M iterations, 20-byte salt, deterministic: re-encrypting the
 * plain key with the recorded salt and IV must give the recorded container exactly. */
static void js_deterministic_vector(void)
{
	char *j = read_text("js-crypto-sdk/test/keys/javascript/kp_rsa4096_2/kp_rsa4096_2.json");
	if (!j)
		return;
	char *enc = json_str(j, "encryptedUserKeyPairContainer", "privateKey");
	char *plain = json_str(j, "plainUserKeyPairContainer", "privateKey");
	char *pw = json_str(j, "\"config\"", "password");
	uint8_t salt[64], iv[16];
	size_t sl = json_bytes(j, "salt", salt, sizeof(salt)), il = json_bytes(j, "iv", iv, sizeof(iv));
	CHECK(enc && plain && pw);
	CHECK_EQ(sl, 20);
	CHECK_EQ(il, 16);
	if (!enc || !plain || !pw || sl != 20 || il != 16)
		goto out;
	CHECK_STR(pw, "Qwer1234!");
	struct cry_rsa *pk = cry_rsa_from_pem(plain, strlen(plain)); /* RSA PRIVATE KEY, CRLF */
	int wrong = -1;
	struct cry_rsa *k = cry_pkcs8_decrypt(enc, strlen(enc), 0, pw, strlen(pw), &wrong);
	CHECK(pk && cry_rsa_is_private(pk) && cry_rsa_bits(pk) == 4096);
	CHECK(k && wrong == 0 && pk && cry_rsa_public_equal(k, pk));
	size_t dl = 0;
	uint8_t *der = pk ? cry_pkcs8_encrypt_der_new(pk, pw, strlen(pw), 1300000, salt, sl, iv, &dl) : NULL;
	uint8_t want[4096];
	const char *b = strstr(enc, "-----\r\n"), *e = strstr(enc, "-----END");
	ssize_t wl = (b && e) ? base64_decode(b + 5, (size_t)(e - b - 5), want, sizeof(want), 1) : -1;
	CHECK(der && wl > 0 && (size_t)wl == dl && memcmp(der, want, dl) == 0);
	free(der);
	cry_rsa_free(k);
	cry_rsa_free(pk);
out:
	free(enc);
	free(plain);
	free(pw);
	free(j);
}

/* JS SDK kp_rsa2048_old: 128-byte salt, 10k iterations, password Qwer1234!äö as Latin-1. */
static void js_legacy_latin1_key(void)
{
	char *j = read_text("js-crypto-sdk/test/keys/javascript/kp_rsa2048_old/kp_rsa2048_old.json");
	if (!j)
		return;
	char *enc = json_str(j, "encryptedUserKeyPairContainer", "privateKey");
	char *pub = json_str(j, "encryptedUserKeyPairContainer", "publicKey");
	char *plain = json_str(j, "plainUserKeyPairContainer", "privateKey");
	const char latin1[] = "Qwer1234!\xe4\xf6", utf8[] = "Qwer1234!\xc3\xa4\xc3\xb6";
	int wrong = -1;

	CHECK(enc && pub && plain);
	if (!enc || !pub || !plain)
		goto out;
	struct cry_rsa *k = cry_pkcs8_decrypt(enc, strlen(enc), 0, utf8, strlen(utf8), &wrong);
	CHECK(k == NULL && wrong == 1); /* UTF-8 first fails ... */
	k = cry_pkcs8_decrypt(enc, strlen(enc), 0, latin1, strlen(latin1), &wrong);
	CHECK(k && wrong == 0);         /* ... the Latin-1 retry opens it */
	struct cry_rsa *p = cry_rsa_from_pem(pub, strlen(pub)), *pk = cry_rsa_from_pem(plain, strlen(plain));
	CHECK(k && p && cry_rsa_public_equal(k, p));
	CHECK(k && pk && cry_rsa_public_equal(k, pk));
	cry_rsa_free(p);
	cry_rsa_free(pk);
	cry_rsa_free(k);
out:
	free(enc);
	free(pub);
	free(plain);
	free(j);
}

UNIT_SUITE(crypto_dracoon,
	   UNIT_TEST(java_keypairs_unlock),
	   UNIT_TEST(file_keys_unwrap),
	   UNIT_TEST(file_decrypts_byte_exact),
	   UNIT_TEST(js_deterministic_vector),
	   UNIT_TEST(js_legacy_latin1_key));
