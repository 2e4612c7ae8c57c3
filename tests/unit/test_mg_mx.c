/* Unit tests for net/mx.c (MX query and answer parsing, used by mailgw). */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/loop.h"

#include "net/mx.h"
#include "unit.h"

static size_t enc(uint8_t *o, const char *n)
{
	size_t k = 0;
	while (*n) {
		size_t l = strcspn(n, ".");
		o[k++] = (uint8_t)l;
		memcpy(o + k, n, l);
		k += l;
		n += l;
		if (*n)
			n++;
	}
	o[k++] = 0;
	return k;
}

/* header + question for mx.example, id 0x1234 */
static size_t head(uint8_t *p, uint16_t flags, uint16_t an)
{
	uint8_t h[12] = { 0x12, 0x34, (uint8_t)(flags >> 8), (uint8_t)flags, 0, 1, (uint8_t)(an >> 8), (uint8_t)an, 0, 0, 0, 0 };
	memcpy(p, h, 12);
	size_t k = 12 + enc(p + 12, "mx.example");
	p[k++] = 0; p[k++] = 15; p[k++] = 0; p[k++] = 1;
	return k;
}

static size_t rr(uint8_t *p, int pref, const uint8_t *name, size_t nl)
{
	size_t k = 0;
	p[k++] = 0xc0; p[k++] = 0x0c;
	p[k++] = 0; p[k++] = 15; p[k++] = 0; p[k++] = 1;
	p[k++] = 0; p[k++] = 0; p[k++] = 0; p[k++] = 60;
	p[k++] = 0; p[k++] = (uint8_t)(nl + 2);
	p[k++] = (uint8_t)(pref >> 8); p[k++] = (uint8_t)pref;
	memcpy(p + k, name, nl);
	return k + nl;
}

static void mx_parse(void)
{
	uint8_t pkt[512], nm[64];
	struct net_mx mx[NET_MX_MAX];
	size_t n, k;
	enum net_mx_status st;

	k = head(pkt, 0x8180, 2);
	k += rr(pkt + k, 20, nm, enc(nm, "b.example"));
	/* compressed: "mx1" + pointer to "example" in the question (offset 15) */
	const uint8_t c[] = { 3, 'm', 'x', '1', 0xc0, 15 };
	k += rr(pkt + k, 10, c, sizeof(c));
	CHECK(net_mx_parse(pkt, k, 0x1234, mx, NET_MX_MAX, &n, &st) == 0);
	CHECK_EQ(st, NET_MX_OK);
	CHECK_EQ(n, 2);
	CHECK(strcmp(mx[0].host, "mx1.example") == 0 && mx[0].pref == 10);
	CHECK(strcmp(mx[1].host, "b.example") == 0);
	CHECK(net_mx_parse(pkt, k, 0x4321, mx, NET_MX_MAX, &n, &st) < 0);   /* wrong id */
	CHECK(net_mx_parse(pkt, k - 1, 0x1234, mx, NET_MX_MAX, &n, &st) < 0);   /* truncated */

	k = head(pkt, 0x8183, 0);
	CHECK(net_mx_parse(pkt, k, 0x1234, mx, NET_MX_MAX, &n, &st) == 0 && st == NET_MX_NXDOMAIN);
	k = head(pkt, 0x8182, 0);
	CHECK(net_mx_parse(pkt, k, 0x1234, mx, NET_MX_MAX, &n, &st) == 0 && st == NET_MX_TEMPFAIL);
	k = head(pkt, 0x8380, 0);   /* TC set */
	CHECK(net_mx_parse(pkt, k, 0x1234, mx, NET_MX_MAX, &n, &st) == 0 && st == NET_MX_TEMPFAIL);

	/* a pointer to itself (loop) and a forward pointer are refused */
	k = head(pkt, 0x8180, 1);
	size_t at = k + 14;
	const uint8_t loop[] = { 0xc0, 0 };
	k += rr(pkt + k, 5, loop, sizeof(loop));
	pkt[at + 1] = (uint8_t)at;
	CHECK(net_mx_parse(pkt, k, 0x1234, mx, NET_MX_MAX, &n, &st) < 0);
	/* bad characters in a name */
	k = head(pkt, 0x8180, 1);
	const uint8_t bad[] = { 3, 'a', ' ', 'b', 0 };
	k += rr(pkt + k, 5, bad, sizeof(bad));
	CHECK(net_mx_parse(pkt, k, 0x1234, mx, NET_MX_MAX, &n, &st) < 0);
}

static void mx_query(void)
{
	uint8_t q[512];
	int n = net_mx_query("mx.example", 0xabcd, q, sizeof(q));
	CHECK(n == 12 + 12 + 4);
	CHECK(q[0] == 0xab && q[1] == 0xcd && q[12] == 2 && q[15] == 7);
	CHECK(net_mx_query("a..b", 1, q, sizeof(q)) < 0);
	char big[80];
	memset(big, 'a', sizeof(big) - 1);
	big[79] = 0;
	CHECK(net_mx_query(big, 1, q, sizeof(q)) < 0);   /* label over 63 */
}

static void never(enum net_mx_status st, const struct net_mx *mx, size_t n, void *arg)
{
	(void)st, (void)mx, (void)n;
	*(int *)arg = 1;
}

/* The resolver's address from the configuration (mailgw's dns_server): a port out of
 * range or with junk is refused up front (atoi took "99999" as 34463 and "53x" as 53),
 * and "[v6]:PORT" works. Nothing is sent anywhere: each request is cancelled at once. */
static void mx_server(void)
{
	struct net_loop *l = net_loop_new();
	int called = 0;
	struct net_mx_req *r;
	CHECK(l != NULL);
	if (!l)
		return;
	CHECK(net_resolve_mx(l, "mx.example", "127.0.0.1:99999", 1000, never, &called) == NULL);
	CHECK(net_resolve_mx(l, "mx.example", "127.0.0.1:53x", 1000, never, &called) == NULL);
	CHECK(net_resolve_mx(l, "mx.example", "127.0.0.1:0", 1000, never, &called) == NULL);
	CHECK(net_resolve_mx(l, "mx.example", "127.0.0.1:", 1000, never, &called) == NULL);
	r = net_resolve_mx(l, "mx.example", "127.0.0.1:5353", 1000, never, &called);
	CHECK(r != NULL);
	if (r)
		net_mx_cancel(r);
	int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	if (s6 >= 0) {
		close(s6);
		r = net_resolve_mx(l, "mx.example", "[::1]:5353", 1000, never, &called);
		CHECK(r != NULL);
		if (r)
			net_mx_cancel(r);
	}
	CHECK(called == 0);
	net_loop_free(l);
}

UNIT_SUITE(mg_mx, UNIT_TEST(mx_parse), UNIT_TEST(mx_query), UNIT_TEST(mx_server));
