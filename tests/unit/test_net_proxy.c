/* test_net_proxy.c - proxy URLs, the environment, no_proxy rules. */
#include <stdlib.h>

#include "net/proxy.h"
#include "unit.h"

static void parse_urls(void)
{
	struct net_proxy p;

	CHECK_EQ(net_proxy_parse("http://proxy.example:8080", &p), 0);
	CHECK_STR(p.host, "proxy.example");
	CHECK_EQ(p.port, 8080);
	CHECK_STR(p.user, "");
	CHECK_EQ(net_proxy_parse("http://proxy.example/", &p), 0);
	CHECK_EQ(p.port, 3128);
	CHECK_EQ(net_proxy_parse("proxy.example:3129", &p), 0);
	CHECK_EQ(p.port, 3129);
	CHECK_EQ(net_proxy_parse("http://alice:s%40cret:x@[::1]:3128/", &p), 0);
	CHECK_STR(p.user, "alice");
	CHECK_STR(p.pass, "s@cret:x");
	CHECK_STR(p.host, "::1");
	CHECK_EQ(p.port, 3128);
	CHECK_EQ(net_proxy_parse("HTTP://bob@10.0.0.1", &p), 0);
	CHECK_STR(p.user, "bob");
	CHECK_STR(p.pass, "");
	CHECK_STR(p.host, "10.0.0.1");
	CHECK_EQ(net_proxy_parse("http://u:p@w@host:1", &p), 0); /* last @ ends the user info */
	CHECK_STR(p.pass, "p@w");
	CHECK_STR(p.host, "host");
	net_proxy_clear(&p);
	CHECK_STR(p.pass, "");
}

static void parse_errors(void)
{
	struct net_proxy p;

	CHECK_EQ(net_proxy_parse("https://proxy:443", &p), -1);
	CHECK_EQ(net_proxy_parse("socks5://proxy:1080", &p), -1);
	CHECK_EQ(net_proxy_parse("http://", &p), -1);
	CHECK_EQ(net_proxy_parse("http://proxy:99999", &p), -1);
	CHECK_EQ(net_proxy_parse("http://proxy:0", &p), -1);
	CHECK_EQ(net_proxy_parse("http://proxy:80/path", &p), -1);
	CHECK_EQ(net_proxy_parse("http://:pw@proxy", &p), -1);
	CHECK_EQ(net_proxy_parse("http://u:%zz@proxy", &p), -1);
	CHECK_EQ(net_proxy_parse("http://u:%4@proxy", &p), -1);
	CHECK_EQ(net_proxy_parse("http://u:%00@proxy", &p), -1);
	CHECK_EQ(net_proxy_parse(NULL, &p), -1);
}

static void no_proxy(void)
{
	CHECK_EQ(net_proxy_no_proxy_match("*", "anything.example"), 1);
	CHECK_EQ(net_proxy_no_proxy_match("", "host"), 0);
	CHECK_EQ(net_proxy_no_proxy_match("localhost,127.0.0.1", "localhost"), 1);
	CHECK_EQ(net_proxy_no_proxy_match("localhost,127.0.0.1", "127.0.0.1"), 1);
	CHECK_EQ(net_proxy_no_proxy_match("localhost,127.0.0.1", "127.0.0.2"), 0);
	CHECK_EQ(net_proxy_no_proxy_match(".example.com", "mail.example.com"), 1);
	CHECK_EQ(net_proxy_no_proxy_match(".example.com", "example.com"), 1);
	CHECK_EQ(net_proxy_no_proxy_match(".example.com", "badexample.com"), 0);
	CHECK_EQ(net_proxy_no_proxy_match("example.com", "a.b.example.com"), 1);
	CHECK_EQ(net_proxy_no_proxy_match("example.com", "notexample.com"), 0);
	CHECK_EQ(net_proxy_no_proxy_match("EXAMPLE.com", "Mail.Example.COM."), 1);
	CHECK_EQ(net_proxy_no_proxy_match("foo, .bar.org ,baz", "x.bar.org"), 1);
	CHECK_EQ(net_proxy_no_proxy_match("*.internal", "db.internal"), 1);
	CHECK_EQ(net_proxy_no_proxy_match("0.0.1", "127.0.0.1"), 0); /* IPs match whole */
	CHECK_EQ(net_proxy_no_proxy_match("10.0.0.0/8", "10.20.30.40"), 1);
	CHECK_EQ(net_proxy_no_proxy_match("10.0.0.0/8", "11.0.0.1"), 0);
	CHECK_EQ(net_proxy_no_proxy_match("::1", "[::1]"), 1);
	CHECK_EQ(net_proxy_no_proxy_match("[2001:db8::]/32", "2001:db8::5"), 1);
	CHECK_EQ(net_proxy_no_proxy_match("2001:db8::/32", "2001:db9::5"), 0);
	CHECK_EQ(net_proxy_no_proxy_match("*x", "host"), 0);
}

static void from_env(void)
{
	struct net_proxy p;

	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	CHECK_EQ(net_proxy_from_env("example.com", 1, &p), 0);
	setenv("HTTPS_PROXY", "http://upper:1", 1);
	CHECK_EQ(net_proxy_from_env("example.com", 1, &p), 1);
	CHECK_STR(p.host, "upper");
	setenv("https_proxy", "http://lower:2", 1);
	CHECK_EQ(net_proxy_from_env("example.com", 1, &p), 1);
	CHECK_STR(p.host, "lower");
	CHECK_EQ(p.port, 2);
	CHECK_EQ(net_proxy_from_env("example.com", 0, &p), 0); /* http: no http_proxy set */
	setenv("http_proxy", "plainproxy:3", 1);
	CHECK_EQ(net_proxy_from_env("example.com", 0, &p), 1);
	CHECK_STR(p.host, "plainproxy");
	setenv("NO_PROXY", ".example.com", 1);
	CHECK_EQ(net_proxy_from_env("www.example.com", 1, &p), 0);
	CHECK_EQ(net_proxy_from_env("www.example.org", 1, &p), 1);
	setenv("https_proxy", "https://tls-proxy:443", 1);
	CHECK_EQ(net_proxy_from_env("www.example.org", 1, &p), -1);
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("http_proxy");
	unsetenv("NO_PROXY");
}

static void clear_env(void)
{
	static const char *const v[] = { "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY",
					 "no_proxy", "NO_PROXY" };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		unsetenv(v[i]);
}

static void setting_values(void)
{
	struct net_proxy p;

	CHECK_EQ(net_proxy_setting_parse(NULL, &p), 0);
	CHECK_EQ(net_proxy_setting_parse("", &p), 0);
	CHECK_EQ(net_proxy_setting_parse("none", &p), 0);
	CHECK_EQ(net_proxy_setting_parse("NONE", &p), 0);
	CHECK_EQ(net_proxy_setting_parse("http://u:p%3Aw@px:81", &p), 1);
	CHECK_STR(p.host, "px");
	CHECK_EQ(p.port, 81);
	CHECK_STR(p.user, "u");
	CHECK_STR(p.pass, "p:w");
	net_proxy_clear(&p);
	CHECK_EQ(net_proxy_setting_parse("socks5://px", &p), -1);
	CHECK_EQ(net_proxy_setting_parse("http://px/path", &p), -1);
}

/* The configuration wins over the environment, key by key; "none" overrides. */
static void select_conf_env(void)
{
	struct net_proxy p;
	struct net_proxy_conf cf = { NULL, NULL, NULL };
	const char *which = NULL;

	clear_env();
	CHECK_EQ(net_proxy_select(NULL, "relay.example", 1, &p, &which), 0);
	CHECK_EQ(net_proxy_select(&cf, "relay.example", 0, &p, &which), 0);
	setenv("https_proxy", "http://envpx:1", 1);
	CHECK_EQ(net_proxy_select(&cf, "relay.example", 1, &p, &which), 1);
	CHECK_STR(p.host, "envpx");
	CHECK_STR(which, "https_proxy (environment)");
	/* plain HTTP: no http_proxy anywhere, so https_proxy */
	CHECK_EQ(net_proxy_select(&cf, "relay.example", 0, &p, &which), 1);
	CHECK_STR(p.host, "envpx");
	cf.https_proxy = "http://alice:s3cret@confpx:2";
	CHECK_EQ(net_proxy_select(&cf, "relay.example", 1, &p, &which), 1);
	CHECK_STR(p.host, "confpx");
	CHECK_STR(p.pass, "s3cret");
	CHECK_STR(which, "https_proxy (configuration)");
	setenv("http_proxy", "http://envhttp:3", 1);
	CHECK_EQ(net_proxy_select(&cf, "relay.example", 0, &p, &which), 1);
	CHECK_STR(p.host, "envhttp"); /* the environment's http_proxy before https_proxy */
	cf.http_proxy = "none";       /* the configuration says: plain HTTP goes direct */
	CHECK_EQ(net_proxy_select(&cf, "relay.example", 0, &p, &which), 0);
	cf.http_proxy = NULL;
	unsetenv("http_proxy");
	setenv("no_proxy", "relay.example", 1);
	CHECK_EQ(net_proxy_select(&cf, "relay.example", 1, &p, &which), 0);
	cf.no_proxy = "";             /* empty in the configuration: the environment's is ignored */
	CHECK_EQ(net_proxy_select(&cf, "relay.example", 1, &p, &which), 1);
	cf.no_proxy = ".example";
	CHECK_EQ(net_proxy_select(&cf, "relay.example", 1, &p, &which), 0);
	CHECK_EQ(net_proxy_select(&cf, "relay.example.org", 1, &p, &which), 1);
	cf.https_proxy = "none";
	CHECK_EQ(net_proxy_select(&cf, "relay.example.org", 1, &p, &which), 0);
	cf.https_proxy = "ftp://x";
	CHECK_EQ(net_proxy_select(&cf, "relay.example.org", 1, &p, &which), -1);
	CHECK_STR(which, "https_proxy (configuration)");
	net_proxy_clear(&p);
	clear_env();
}

UNIT_SUITE(net_proxy, UNIT_TEST(parse_urls), UNIT_TEST(parse_errors), UNIT_TEST(no_proxy),
	   UNIT_TEST(from_env), UNIT_TEST(setting_values), UNIT_TEST(select_conf_env));
