/* test_net_http_head.c - the response-head parser behind the viewer's relay upgrade
 * (net/http_head.h), and the choice among proxy challenges. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/http_auth.h"
#include "net/http_head.h"
#include "unit.h"

static int parse(const char *s, struct net_http_head *h)
{
	return net_http_head_parse(s, strlen(s), h);
}

static void head_basic(void)
{
	struct net_http_head h;

	CHECK_EQ(parse("HTTP/1.1 200 Connection established\r\n\r\n", &h), 0);
	CHECK_EQ(h.status, 200);
	CHECK_STR(h.status_line, "HTTP/1.1 200 Connection established");
	CHECK_EQ(h.content_length, -1);
	CHECK_EQ(h.conn_close, 0);
	CHECK_EQ(h.auth.scheme, NET_AUTH_NONE);
	CHECK_EQ(parse("HTTP/1.0 200 OK\n\n", &h), 0); /* bare LF */
	CHECK_EQ(h.status, 200);
	CHECK_EQ(parse("HTTP/1.1 502 Bad\x01Gateway\r\nContent-Length: 0\r\n\r\n", &h), 0);
	CHECK_STR(h.status_line, "HTTP/1.1 502 Bad?Gateway"); /* control bytes never reach a message */
	CHECK_EQ(h.content_length, 0);
}

static void head_407(void)
{
	struct net_http_head h;
	const char *tiny = "HTTP/1.0 407 Proxy Authentication Required\r\n"
			   "Server: tinyproxy/1.11.1\r\nContent-Type: text/html\r\n"
			   "Proxy-Authenticate: Basic realm=\"tinyproxy\"\r\n"
			   "Connection: close\r\nContent-Length: 345\r\n\r\n";
	const char *both = "HTTP/1.1 407 Proxy Authentication Required\r\n"
			   "proxy-authenticate: Basic realm=\"r\"\r\n"
			   "Proxy-Authenticate: Digest realm=\"r\", qop=\"auth\", algorithm=MD5, nonce=\"n1\"\r\n"
			   "Proxy-Authenticate: Digest realm=\"r\", qop=\"auth\", algorithm=SHA-256, nonce=\"n2\"\r\n"
			   "Proxy-Authenticate: Digest realm=\"r\", qop=\"auth\", algorithm=MD5, nonce=\"n3\"\r\n"
			   "Proxy-Connection: keep-alive\r\nContent-Length: 24\r\n\r\n";

	CHECK_EQ(parse(tiny, &h), 0);
	CHECK_EQ(h.status, 407);
	CHECK_EQ(h.auth.scheme, NET_AUTH_BASIC);
	CHECK_STR(h.auth.realm, "tinyproxy");
	CHECK_EQ(h.conn_close, 1);
	CHECK_EQ(h.content_length, 345);
	CHECK_EQ(parse(both, &h), 0);
	CHECK_EQ(h.auth.scheme, NET_AUTH_DIGEST);
	CHECK_EQ(h.auth.alg, NET_DIGEST_SHA256); /* the strongest offered */
	CHECK_STR(h.auth.nonce, "n2");
	CHECK_EQ(h.conn_close, 0);
	CHECK_EQ(h.content_length, 24);
	/* only schemes we cannot answer: none chosen */
	CHECK_EQ(parse("HTTP/1.1 407 x\r\nProxy-Authenticate: NTLM\r\n"
		       "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"\r\n"
		       "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256\r\n\r\n", &h), 0);
	CHECK_EQ(h.auth.scheme, NET_AUTH_NONE);
}

static void head_bad(void)
{
	struct net_http_head h;
	char big[3000];

	CHECK_EQ(parse("", &h), -1);
	CHECK_EQ(parse("SSH-2.0-OpenSSH\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 99 Too low\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 600 Too high\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 407 x\r\nContent-Length: -5\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 407 x\r\nContent-Length: many\r\n\r\n", &h), -1);
	/* an over-long header line is skipped, the rest still read */
	memset(big, 'a', sizeof(big));
	memcpy(big, "HTTP/1.1 407 x\r\nX-Long: ", 24);
	strcpy(big + 2900, "\r\nContent-Length: 7\r\n\r\n");
	CHECK_EQ(parse(big, &h), 0);
	CHECK_EQ(h.content_length, 7);
}

static void challenge_order(void)
{
	struct net_http_challenge none, basic, md5, sha, authint;

	memset(&none, 0, sizeof(none));
	CHECK_EQ(net_http_parse_challenge("Basic realm=x", 13, &basic), 0);
	CHECK_EQ(net_http_parse_challenge("Digest realm=x, nonce=n, qop=auth", 33, &md5), 0);
	CHECK_EQ(net_http_parse_challenge("Digest realm=x, nonce=n, algorithm=SHA-256", 42, &sha), 0);
	CHECK_EQ(net_http_parse_challenge("Digest realm=x, nonce=n, qop=auth-int", 37, &authint), 0);
	CHECK(net_http_challenge_better(&basic, &none));
	CHECK(net_http_challenge_better(&md5, &basic));
	CHECK(net_http_challenge_better(&sha, &md5));
	CHECK(!net_http_challenge_better(&md5, &sha));
	CHECK(!net_http_challenge_better(&basic, &md5));
	CHECK(!net_http_challenge_better(&md5, &md5));
	CHECK(!net_http_challenge_better(&authint, &none));
	CHECK(!net_http_challenge_better(&none, &none));
}

UNIT_SUITE(net_http_head, UNIT_TEST(head_basic), UNIT_TEST(head_407), UNIT_TEST(head_bad),
	   UNIT_TEST(challenge_order));
