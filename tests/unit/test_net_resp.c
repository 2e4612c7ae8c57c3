/* test_net_resp.c - the RESP2 reply parser and command encoder (net/resp.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/resp.h"
#include "unit.h"

static int parse(const char *s, struct resp_reply *r, size_t *used)
{
	return resp_parse((const uint8_t *)s, strlen(s), r, used);
}

static void replies(void)
{
	struct resp_reply r;
	size_t used;

	CHECK_EQ(parse("+OK\r\nrest", &r, &used), 1);
	CHECK(resp_is(&r, "OK"));
	CHECK_EQ(used, 5);
	resp_free(&r);
	CHECK_EQ(parse(":-12\r\n", &r, &used), 1);
	CHECK_EQ(r.type, RESP_INT);
	CHECK_EQ(r.i, -12);
	CHECK_EQ(parse("$-1\r\n", &r, &used), 1);
	CHECK_EQ(r.type, RESP_NIL);
	CHECK_EQ(parse("*2\r\n$3\r\nfoo\r\n*1\r\n:7\r\n", &r, &used), 1);
	CHECK_EQ(r.type, RESP_ARRAY);
	CHECK_EQ(r.n, 2);
	CHECK(resp_is(&r.el[0], "foo"));
	CHECK_EQ(r.el[1].el[0].i, 7);
	resp_free(&r);
	CHECK_EQ(parse("$3\r\na\0b\r\n", &r, &used), 0); /* strlen stops at the NUL: incomplete */
}

/* Redis's script errors are longer than 64 bytes: they must parse as errors, whole. */
static void long_error_line(void)
{
	struct resp_reply r;
	size_t used;
	char line[400];
	int n = snprintf(line, sizeof(line), "-ERR user_script:1: Script attempted to access a non local key in a "
			 "cluster node script: %0200d, on @user_script:1.\r\n", 0);
	CHECK(n > 300 && n < (int)sizeof(line));
	CHECK_EQ(parse(line, &r, &used), 1);
	CHECK_EQ(r.type, RESP_ERROR);
	CHECK_EQ(used, (size_t)n);
	CHECK(strstr(r.s, "Script attempted") != NULL);
	resp_free(&r);
}

static void incomplete_and_garbage(void)
{
	struct resp_reply r;
	size_t used;

	CHECK_EQ(parse("+OK", &r, &used), 0);
	CHECK_EQ(parse("$5\r\nhel", &r, &used), 0);
	CHECK_EQ(parse("*2\r\n:1\r\n", &r, &used), 0);
	CHECK_EQ(parse("HTTP/1.1 200 OK\r\n", &r, &used), -1);
	CHECK_EQ(parse("$5\r\nhelloXY", &r, &used), -1);
	CHECK_EQ(parse(":12a\r\n", &r, &used), -1);
	CHECK_EQ(parse("+a\nb\r\n", &r, &used), -1);
	CHECK_EQ(parse("$99999999\r\n", &r, &used), -1);          /* over RESP_MAX_BULK */
	CHECK_EQ(parse("*9999999\r\n", &r, &used), -1);           /* over RESP_MAX_NODES */
	CHECK_EQ(parse("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", &r, &used), -1); /* too deep */
	{ /* a header line over RESP_MAX_LINE without its end is garbage, not "read more" */
		char big[RESP_MAX_LINE + 8];
		memset(big, '0', sizeof(big) - 1);
		big[0] = '+';
		big[sizeof(big) - 1] = 0;
		CHECK_EQ(parse(big, &r, &used), -1);
	}
	/* an array count far beyond what arrived allocates nothing yet */
	CHECK_EQ(parse("*60000\r\n", &r, &used), 0);
}

static void encode(void)
{
	char *b = NULL;
	size_t len = 0, cap = 0;
	const char *argv[] = { "SET", "k", "" };
	CHECK_EQ(resp_encode(&b, &len, &cap, 3, argv, NULL), 0);
	CHECK_EQ(len, strlen("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"));
	CHECK(b && memcmp(b, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", len) == 0);
	free(b);
}

UNIT_SUITE(net_resp, UNIT_TEST(replies), UNIT_TEST(incomplete_and_garbage), UNIT_TEST(long_error_line), UNIT_TEST(encode));
