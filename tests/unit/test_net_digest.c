/* test_net_digest.c - Digest/Basic proxy authentication against the RFC examples. */
#include <stdlib.h>

#include "net/http_auth.h"
#include "unit.h"

/* RFC 7616 section 3.9.1 */
#define R7616_USER "Mufasa"
#define R7616_PASS "Circle of Life"
#define R7616_REALM "http-auth@example.org"
#define R7616_NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define R7616_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"

static void rfc7616_md5(void)
{
	char out[65];

	CHECK_EQ(net_digest_response(NET_DIGEST_MD5, R7616_USER, R7616_REALM, R7616_PASS, "GET",
				     "/dir/index.html", R7616_NONCE, "00000001", R7616_CNONCE, "auth",
				     out, sizeof(out)), 0);
	CHECK_STR(out, "8ca523f5e9506fed4657c9700eebdbec");
}

static void rfc7616_sha256(void)
{
	char out[65];

	CHECK_EQ(net_digest_response(NET_DIGEST_SHA256, R7616_USER, R7616_REALM, R7616_PASS, "GET",
				     "/dir/index.html", R7616_NONCE, "00000001", R7616_CNONCE, "auth",
				     out, sizeof(out)), 0);
	CHECK_STR(out, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

static void rfc2617(void)
{
	char out[65];

	/* RFC 2617 section 3.5 */
	CHECK_EQ(net_digest_response(NET_DIGEST_MD5, "Mufasa", "testrealm@host.com", "Circle Of Life",
				     "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
				     "00000001", "0a4f113b", "auth", out, sizeof(out)), 0);
	CHECK_STR(out, "6629fae49393a05397450978507c4ef1");
	CHECK_EQ(net_digest_response(NET_DIGEST_MD5, "u", "r", "p", "GET", "/", "n", NULL, NULL, NULL,
				     out, 10), -1); /* does not fit */
}

static void parse_challenges(void)
{
	struct net_http_challenge ch;
	const char *d = "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
			"algorithm=SHA-256, nonce=\"" R7616_NONCE "\", "
			"opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

	CHECK_EQ(net_http_parse_challenge(d, strlen(d), &ch), 0);
	CHECK_EQ(ch.scheme, NET_AUTH_DIGEST);
	CHECK_EQ(ch.alg, NET_DIGEST_SHA256);
	CHECK_EQ(ch.alg_supported, 1);
	CHECK_EQ(ch.qop_auth, 1);
	CHECK_STR(ch.realm, "http-auth@example.org");
	CHECK_STR(ch.nonce, R7616_NONCE);
	CHECK_STR(ch.opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
	CHECK_EQ(net_http_parse_challenge("Basic realm=\"tinyproxy\"", 23, &ch), 0);
	CHECK_EQ(ch.scheme, NET_AUTH_BASIC);
	CHECK_STR(ch.realm, "tinyproxy");
	CHECK_EQ(net_http_parse_challenge("Digest realm=\"a\\\"b\", nonce=x, algorithm=MD5-sess", 47, &ch), 0);
	CHECK_STR(ch.realm, "a\"b");
	CHECK_EQ(ch.alg_supported, 0);
	CHECK_EQ(net_http_parse_challenge("Bearer realm=x", 14, &ch), -1);
	CHECK_EQ(net_http_parse_challenge("Digest realm=\"x\"", 16, &ch), -1); /* no nonce */
	CHECK_EQ(net_http_parse_challenge("Digest nonce=\"unterminated", 26, &ch), -1);
	CHECK_EQ(net_http_parse_challenge("Digest nonce=a b=c", 18, &ch), -1);
	CHECK_EQ(net_http_parse_challenge("Digest nonce=a, Basic realm=b", 29, &ch), 0);
	CHECK_STR(ch.nonce, "a");
	CHECK_STR(ch.realm, ""); /* the Basic challenge's realm is not ours */
	CHECK_EQ(net_http_parse_challenge("", 0, &ch), -1);
}

static void header_values(void)
{
	struct net_http_challenge ch;
	const char *d = "Digest realm=\"testrealm@host.com\", qop=\"auth\", "
			"nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
	char *v;

	CHECK_EQ(net_http_parse_challenge("Basic realm=x", 13, &ch), 0);
	v = net_http_auth_value_new(&ch, "Aladdin", "open sesame", "CONNECT", "h:1", 1, "c");
	CHECK_STR(v, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="); /* RFC 7617 */
	free(v);
	CHECK_EQ(net_http_parse_challenge(d, strlen(d), &ch), 0);
	v = net_http_auth_value_new(&ch, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", 1,
				    "0a4f113b");
	CHECK(v && strcmp(v, "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
		     "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
		     "response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, qop=auth, "
		     "nc=00000001, cnonce=\"0a4f113b\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"") == 0);
	free(v);
}

UNIT_SUITE(net_digest, UNIT_TEST(rfc7616_md5), UNIT_TEST(rfc7616_sha256), UNIT_TEST(rfc2617),
	   UNIT_TEST(parse_challenges), UNIT_TEST(header_values));
