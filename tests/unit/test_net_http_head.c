/* test_net_http_head.c - net_http_resphead_parse, the response-head parser of every
 * client path. */
#include <string.h>

#include "net/http_head.h"
#include "unit.h"

static long parse(const char *s, struct net_http_resphead *h)
{
	return net_http_resphead_parse(s, strlen(s), h);
}

static void good(void)
{
	struct net_http_resphead h;
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A: b\r\n\r\nbody";
	CHECK_EQ(parse(s, &h), (long)strlen(s) - 4);
	CHECK_EQ(h.status, 200);
	CHECK_EQ(h.minor, 1);
	CHECK_EQ(h.content_length, 12);
	CHECK_EQ(h.chunked, 0);
	CHECK_EQ(h.conn_close, 0);
	CHECK_STR(h.status_line, "HTTP/1.1 200 OK");
	CHECK_EQ(parse("HTTP/1.1 204\r\n\r\n", &h), 16);
	CHECK_EQ(h.content_length, -1);
	CHECK_EQ(parse("HTTP/1.0 200 OK\n\n", &h), 17);
	CHECK_EQ(h.conn_close, 1);
	CHECK_EQ(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", &h) > 0, 1);
	CHECK_EQ(h.conn_close, 0);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nConnection: foo, close\r\n\r\n", &h) > 0, 1);
	CHECK_EQ(h.conn_close, 1);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &h) > 0, 1);
	CHECK_EQ(h.chunked, 1);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length:3 \r\n\r\n", &h) > 0, 1);
	CHECK_EQ(h.content_length, 3);
	CHECK_EQ(parse("HTTP/1.1 407 Auth\r\nProxy-Authenticate: Basic realm=\"r\"\r\n"
		       "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=SHA-256\r\n\r\n", &h) > 0, 1);
	CHECK_EQ(h.auth.scheme, NET_AUTH_DIGEST);
	CHECK_EQ(h.auth.alg, NET_DIGEST_SHA256);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nContent-Len", &h), 0);  /* incomplete */
}

static void bad(void)
{
	struct net_http_resphead h;
	static char big[NET_HTTP_RESP_MAX_HEAD + 10];
	CHECK_EQ(parse("HTTP/2 200 OK\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 20 OK\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 2000 OK\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 099 x\r\n\r\n", &h), -1);
	CHECK_EQ(parse("\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nBad Name: a\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n", &h), -1);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", &h), -1);
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	CHECK_EQ(net_http_resphead_parse(big, sizeof(big) - 1, &h), -1);
	CHECK_EQ(net_http_resphead_parse(big, 100, &h), 0);
}

UNIT_SUITE(net_http_head, UNIT_TEST(good), UNIT_TEST(bad));
