/* Unit tests for mailgw's per-client connection counts (mg_anvil.h). */
#include <string.h>

#include "applets/mailgw/mg_anvil.h"
#include "unit.h"

static void keys(void)
{
	unsigned char a[MG_ANVIL_KEY], b[MG_ANVIL_KEY];

	CHECK(mg_anvil_key("192.0.2.1", a) == 0);
	CHECK(mg_anvil_key("::ffff:192.0.2.1", b) == 0);
	CHECK(memcmp(a, b, MG_ANVIL_KEY) == 0);
	CHECK(mg_anvil_key("192.0.2.2", b) == 0);
	CHECK(memcmp(a, b, MG_ANVIL_KEY) != 0);
	/* one /64 is one client */
	CHECK(mg_anvil_key("2001:db8:1:2::1", a) == 0);
	CHECK(mg_anvil_key("2001:db8:1:2:ffff:ffff:ffff:ffff", b) == 0);
	CHECK(memcmp(a, b, MG_ANVIL_KEY) == 0);
	CHECK(mg_anvil_key("2001:db8:1:3::1", b) == 0);
	CHECK(memcmp(a, b, MG_ANVIL_KEY) != 0);
	CHECK(mg_anvil_key("not-an-ip", a) < 0);
	CHECK(mg_anvil_key("", a) < 0);
}

static void counting(void)
{
	static struct mg_anvil an;
	struct mg_anvil_entry *e[4], *x;
	unsigned long nref;
	int logit;

	memset(&an, 0, sizeof(an));
	for (int i = 0; i < 3; i++)
		CHECK(mg_anvil_take(&an, "2001:db8::1", 3, &e[i], &logit, &nref) == 0 && e[i]);
	CHECK(mg_anvil_take(&an, "2001:db8::2", 3, &x, &logit, &nref) < 0);
	CHECK(logit == 1 && nref == 1);
	CHECK(mg_anvil_take(&an, "2001:db8::3", 3, &x, &logit, &nref) < 0);
	CHECK(logit == 0);   /* rate-limited */
	CHECK(mg_anvil_take(&an, "2001:db8:0:1::1", 3, &e[3], &logit, &nref) == 0 && e[3]);
	mg_anvil_put(&an, e[0]);
	CHECK(mg_anvil_take(&an, "2001:db8::9", 3, &e[0], &logit, &nref) == 0);
	CHECK(mg_anvil_take(&an, "10.0.0.1", 0, &x, &logit, &nref) == 0 && x == NULL);
	CHECK(mg_anvil_take(&an, "unix", 3, &x, &logit, &nref) == 0 && x == NULL);
	for (int i = 0; i < 4; i++)
		mg_anvil_put(&an, e[i]);
	for (size_t i = 0; i < MG_ANVIL_BUCKETS; i++)
		CHECK(an.b[i] == NULL);
	mg_anvil_free(&an);
}

UNIT_SUITE(mg_anvil, UNIT_TEST(keys), UNIT_TEST(counting));
