/* test_net_hostport.c - net_split_hostport and its inverse net_join_hostport. */
#include "net/conn.h"
#include "unit.h"

static void forms(void)
{
	char h[64];
	int port = -1;

	CHECK_EQ(net_split_hostport("example.com:25", h, sizeof(h), &port, 0), 0);
	CHECK_STR(h, "example.com");
	CHECK_EQ(port, 25);
	CHECK_EQ(net_split_hostport("192.0.2.1:5000", h, sizeof(h), &port, 0), 0);
	CHECK_STR(h, "192.0.2.1");
	CHECK_EQ(port, 5000);
	CHECK_EQ(net_split_hostport("[::1]:443", h, sizeof(h), &port, 0), 0);
	CHECK_STR(h, "::1");
	CHECK_EQ(port, 443);
	CHECK_EQ(net_split_hostport("[2001:db8::1]", h, sizeof(h), &port, 993), 0);
	CHECK_STR(h, "2001:db8::1");
	CHECK_EQ(port, 993);
	CHECK_EQ(net_split_hostport("mail.example", h, sizeof(h), &port, 587), 0);
	CHECK_STR(h, "mail.example");
	CHECK_EQ(port, 587);
	CHECK_EQ(net_split_hostport("2001:db8::2", h, sizeof(h), &port, 80), 0);
	CHECK_STR(h, "2001:db8::2");
	CHECK_EQ(port, 80);
	CHECK_EQ(net_split_hostport("host:0", h, sizeof(h), &port, 0), 0);
	CHECK_EQ(port, 0);
	CHECK_EQ(net_split_hostport("host:65535", h, sizeof(h), &port, 0), 0);
	CHECK_EQ(port, 65535);
}

static void errors(void)
{
	char h[8];
	int port;

	CHECK_EQ(net_split_hostport("host", h, sizeof(h), &port, 0), -1);      /* no default */
	CHECK_EQ(net_split_hostport("host:", h, sizeof(h), &port, 25), -1);
	CHECK_EQ(net_split_hostport("host:65536", h, sizeof(h), &port, 0), -1);
	CHECK_EQ(net_split_hostport("host:12a", h, sizeof(h), &port, 0), -1);
	CHECK_EQ(net_split_hostport("host:-1", h, sizeof(h), &port, 0), -1);
	CHECK_EQ(net_split_hostport(":25", h, sizeof(h), &port, 0), -1);
	CHECK_EQ(net_split_hostport("[::1", h, sizeof(h), &port, 0), -1);
	CHECK_EQ(net_split_hostport("[::1]x", h, sizeof(h), &port, 0), -1);
	CHECK_EQ(net_split_hostport("[]:1", h, sizeof(h), &port, 0), -1);
	CHECK_EQ(net_split_hostport("[host]:1", h, sizeof(h), &port, 0), -1);
	CHECK_EQ(net_split_hostport("verylonghostname:1", h, sizeof(h), &port, 0), -1); /* > cap */
	CHECK_EQ(net_split_hostport("a b:1", h, sizeof(h), &port, 0), -1);
	CHECK_EQ(net_split_hostport("", h, sizeof(h), &port, 25), -1);
	CHECK_EQ(net_split_hostport(NULL, h, sizeof(h), &port, 25), -1);
}

/* join: brackets for IPv6 literals only, and split reads back what join wrote */
static void join(void)
{
	char out[NET_HOSTPORT_MAX], h[64];
	int port = -1;

	CHECK_STR(net_join_hostport(out, sizeof(out), "example.com", 25), "example.com:25");
	CHECK_STR(net_join_hostport(out, sizeof(out), "192.0.2.1", 5000), "192.0.2.1:5000");
	CHECK_STR(net_join_hostport(out, sizeof(out), "::1", 3128), "[::1]:3128");
	CHECK_STR(net_join_hostport(out, sizeof(out), "2001:db8::1", 443), "[2001:db8::1]:443");
	CHECK_STR(net_join_hostport(out, sizeof(out), "[::1]", 80), "[::1]:80"); /* already bracketed */
	CHECK_STR(net_join_hostport(out, 8, "2001:db8::1", 443), "[2001:d"); /* cut, terminated */
	net_join_hostport(out, sizeof(out), "fe80::1", 65535);
	CHECK_EQ(net_split_hostport(out, h, sizeof(h), &port, 0), 0);
	CHECK_STR(h, "fe80::1");
	CHECK_EQ(port, 65535);
}

UNIT_SUITE(net_hostport, UNIT_TEST(forms), UNIT_TEST(errors), UNIT_TEST(join));
