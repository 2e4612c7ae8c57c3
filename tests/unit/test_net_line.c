/* test_net_line.c - the line scanner behind net_conn_readline. */
#include <stdint.h>
#include <stdlib.h>

#include "net/line.h"
#include "unit.h"

static int scan(const char *s, size_t max, size_t *ll, size_t *used, int *cr)
{
	return net_line_scan((const uint8_t *)s, strlen(s), max, ll, used, cr);
}

static void crlf_and_lf(void)
{
	size_t ll = 99, used = 99;
	int cr = -1;

	CHECK_EQ(scan("HELO x\r\nrest", 100, &ll, &used, &cr), 1);
	CHECK_EQ(ll, 6);
	CHECK_EQ(used, 8);
	CHECK_EQ(cr, 1);
	CHECK_EQ(scan("HELO x\nrest", 100, &ll, &used, &cr), 1);
	CHECK_EQ(ll, 6);
	CHECK_EQ(used, 7);
	CHECK_EQ(cr, 0);
	CHECK_EQ(scan("\n", 100, &ll, &used, &cr), 1);
	CHECK_EQ(ll, 0);
	CHECK_EQ(used, 1);
	CHECK_EQ(scan("\r\n", 100, &ll, &used, &cr), 1);
	CHECK_EQ(ll, 0);
	CHECK_EQ(used, 2);
	/* a CR inside the line is content */
	CHECK_EQ(scan("a\rb\n", 100, &ll, &used, &cr), 1);
	CHECK_EQ(ll, 3);
	CHECK_EQ(cr, 0);
}

static void incomplete(void)
{
	size_t ll, used;
	int cr;

	CHECK_EQ(net_line_scan(NULL, 0, 10, &ll, &used, &cr), 0);
	CHECK_EQ(scan("partial", 100, &ll, &used, &cr), 0);
	CHECK_EQ(scan("partial\r", 100, &ll, &used, &cr), 0);
}

static void limits(void)
{
	size_t ll, used;
	int cr;

	/* exactly max bytes of content is fine, with either terminator */
	CHECK_EQ(scan("12345\r\n", 5, &ll, &used, &cr), 1);
	CHECK_EQ(ll, 5);
	CHECK_EQ(scan("12345\n", 5, &ll, &used, &cr), 1);
	/* max + 1 is too long */
	CHECK_EQ(scan("123456\n", 5, &ll, &used, &cr), -1);
	CHECK_EQ(scan("123456\r\n", 5, &ll, &used, &cr), -1);
	/* no LF yet, but already longer than any acceptable line */
	CHECK_EQ(scan("1234567", 5, &ll, &used, &cr), -1);
	/* max bytes and a CR: the LF may still come */
	CHECK_EQ(scan("12345\r", 5, &ll, &used, &cr), 0);
	CHECK_EQ(scan("123456", 5, &ll, &used, &cr), -1); /* 6th byte is not a CR */
	CHECK_EQ(scan("x", 0, &ll, &used, &cr), -1);
	CHECK_EQ(scan("\n", 0, &ll, &used, &cr), 1);
}

static void one_mebibyte(void)
{
	size_t n = 1 << 20, ll, used;
	int cr;
	uint8_t *p = malloc(n + 1);

	CHECK(p != NULL);
	if (!p)
		return;
	memset(p, 'x', n);
	p[n] = '\n';
	CHECK_EQ(net_line_scan(p, n + 1, 8192, &ll, &used, &cr), -1);
	CHECK_EQ(net_line_scan(p, n + 1, SIZE_MAX, &ll, &used, &cr), 1);
	CHECK_EQ(ll, n);
	free(p);
}

UNIT_SUITE(net_line, UNIT_TEST(crlf_and_lf), UNIT_TEST(incomplete), UNIT_TEST(limits),
	   UNIT_TEST(one_mebibyte));
