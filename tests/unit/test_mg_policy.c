/* Unit tests for mailgw policies: CIDR, relay decision, TLS policy, TLS memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/mailgw/mg_policy.h"
#include "unit.h"

static int m(const char *cidr, const char *ip)
{
	struct mg_cidr c;
	if (mg_cidr_parse(cidr, &c) < 0)
		return -1;
	return mg_cidr_match(&c, ip);
}

static void cidr(void)
{
	CHECK(m("192.0.2.0/24", "192.0.2.77") == 1);
	CHECK(m("192.0.2.0/24", "192.0.3.1") == 0);
	CHECK(m("192.0.2.9", "192.0.2.9") == 1);
	CHECK(m("192.0.2.9", "192.0.2.10") == 0);
	CHECK(m("[192.0.2.9]", "192.0.2.9") == 1);
	CHECK(m("10.1.2.3/8", "10.200.0.1") == 1);
	CHECK(m("0.0.0.0/0", "203.0.113.1") == 1);
	CHECK(m("127.0.0.0/8", "::ffff:127.0.0.5") == 1);
	CHECK(m("127.0.0.0/8", "::1") == 0);
	CHECK(m("::1", "::1") == 1);
	CHECK(m("2001:db8::/33", "2001:db8:7fff::1") == 1);
	CHECK(m("2001:db8::/33", "2001:db8:8000::1") == 0);
	CHECK(m("192.0.2.0/33", "192.0.2.1") == -1);
	CHECK(m("192.0.2.0/", "192.0.2.1") == -1);
	CHECK(m("192.0.2.0/-1", "192.0.2.1") == -1);
	CHECK(m("example.com", "192.0.2.1") == -1);
	CHECK(m("10.0.0.0/8", "not an ip") == 0);
	struct mg_cidr_list l = { 0 };
	char err[128];
	CHECK(mg_cidr_list_add_all(&l, "127.0.0.0/8, ::1 192.168.0.0/16", err, sizeof(err)) == 0);
	CHECK_EQ(l.n, 3);
	CHECK(mg_cidr_list_match(&l, "192.168.4.4"));
	CHECK(!mg_cidr_list_match(&l, "8.8.8.8"));
	CHECK(mg_cidr_list_add_all(&l, "10.0.0.0/8 bogus", err, sizeof(err)) < 0);
	mg_cidr_list_free(&l);
}

static void relay(void)
{
	char *doms[] = { "example.com", ".corp.example" };
	struct mg_cidr_list nets = { 0 };
	char err[64];
	CHECK(mg_cidr_list_add_all(&nets, "10.0.0.0/8", err, sizeof(err)) == 0);
	struct mg_relay_policy p = { doms, 2, &nets };
	CHECK_EQ(mg_relay_check(&p, "203.0.113.9", "u@example.com"), MG_RELAY_INBOUND);
	CHECK_EQ(mg_relay_check(&p, "203.0.113.9", "u@EXAMPLE.com"), MG_RELAY_INBOUND);
	CHECK_EQ(mg_relay_check(&p, "203.0.113.9", "u@mx.corp.example"), MG_RELAY_INBOUND);
	CHECK_EQ(mg_relay_check(&p, "203.0.113.9", "u@corp.example"), MG_RELAY_DENY);
	CHECK_EQ(mg_relay_check(&p, "203.0.113.9", "u@notexample.com"), MG_RELAY_DENY);
	CHECK_EQ(mg_relay_check(&p, "203.0.113.9", "u@example.com.evil.org"), MG_RELAY_DENY);
	CHECK_EQ(mg_relay_check(&p, "203.0.113.9", "u@[10.0.0.1]"), MG_RELAY_DENY);
	CHECK_EQ(mg_relay_check(&p, "10.1.1.1", "u@gmail.example"), MG_RELAY_OUTBOUND);
	CHECK_EQ(mg_relay_check(&p, "::ffff:10.1.1.1", "u@gmail.example"), MG_RELAY_OUTBOUND);
	CHECK_EQ(mg_relay_check(&p, NULL, "u@gmail.example"), MG_RELAY_DENY);
	mg_cidr_list_free(&nets);
}

static void tls_policy(void)
{
	struct mg_tls_policy p = { NULL, 0, MG_TLS_MAY };
	char err[128];
	CHECK(mg_tls_policy_add(&p, "bank.example encrypt", err, sizeof(err)) == 0);
	CHECK(mg_tls_policy_add(&p, ".bank.example verify", err, sizeof(err)) == 0);
	CHECK(mg_tls_policy_add(&p, "Legacy.Example none", err, sizeof(err)) == 0);
	CHECK(mg_tls_policy_add(&p, "[192.0.2.1] encrypt", err, sizeof(err)) == 0);
	CHECK(mg_tls_policy_add(&p, "198.51.100.0/24 verify", err, sizeof(err)) == 0);
	CHECK(mg_tls_policy_add(&p, "x.example strong", err, sizeof(err)) < 0);
	CHECK(mg_tls_policy_add(&p, "x.example", err, sizeof(err)) < 0);
	CHECK(mg_tls_policy_add(&p, "bad_dom encrypt", err, sizeof(err)) < 0);
	CHECK(mg_tls_policy_add(&p, "a.example may extra", err, sizeof(err)) < 0);
	int f;
	CHECK_EQ(mg_tls_policy_domain(&p, "bank.example", &f), MG_TLS_ENCRYPT);
	CHECK_EQ(f, 1);
	CHECK_EQ(mg_tls_policy_domain(&p, "mx.bank.example", &f), MG_TLS_VERIFY);
	CHECK_EQ(mg_tls_policy_domain(&p, "legacy.example", &f), MG_TLS_NONE);
	CHECK_EQ(mg_tls_policy_domain(&p, "other.example", &f), MG_TLS_MAY);
	CHECK_EQ(f, 0);
	CHECK_EQ(mg_tls_policy_final(&p, "other.example", "192.0.2.1"), MG_TLS_ENCRYPT);
	CHECK_EQ(mg_tls_policy_final(&p, "other.example", "192.0.2.2"), MG_TLS_MAY);
	CHECK_EQ(mg_tls_policy_final(&p, "legacy.example", "198.51.100.3"), MG_TLS_VERIFY);
	CHECK_EQ(mg_tls_policy_final(&p, "mx.bank.example", "192.0.2.1"), MG_TLS_VERIFY);
	mg_tls_policy_free(&p);
}

static void tls_memory(void)
{
	struct mg_tlsmem t, u;
	const struct mg_tlsmem_entry *e;
	char path[64];

	mg_tlsmem_init(&t, 2);
	CHECK_EQ(mg_tlsmem_get(&t, "mx.a:25", 100, &e), MG_TLSMEM_UNKNOWN);
	CHECK(mg_tlsmem_set(&t, "mx.a:25", MG_TLSMEM_NOT_OFFERED, 200, "no STARTTLS in EHLO") == 0);
	CHECK(mg_tlsmem_set(&t, "mx.b:25", MG_TLSMEM_HANDSHAKE_FAILED, 300, "alert\nhandshake") == 0);
	CHECK_EQ(mg_tlsmem_get(&t, "mx.a:25", 150, &e), MG_TLSMEM_NOT_OFFERED);
	CHECK(e && strcmp(e->detail, "no STARTTLS in EHLO") == 0);
	CHECK_EQ(mg_tlsmem_get(&t, "mx.b:25", 150, &e), MG_TLSMEM_HANDSHAKE_FAILED);
	CHECK(strcmp(e->detail, "alert?handshake") == 0);
	/* expired entries are forgotten: the destination gets probed again */
	CHECK_EQ(mg_tlsmem_get(&t, "mx.a:25", 200, &e), MG_TLSMEM_UNKNOWN);
	CHECK_EQ(t.n, 1);
	CHECK(mg_tlsmem_set(&t, "bad dest", MG_TLSMEM_NOT_OFFERED, 200, "") < 0);
	/* bounded: the entry expiring first makes room */
	CHECK(mg_tlsmem_set(&t, "mx.c:25", MG_TLSMEM_NOT_OFFERED, 900, "") == 0);
	CHECK(mg_tlsmem_set(&t, "mx.d:25", MG_TLSMEM_NOT_OFFERED, 950, "") == 0);
	CHECK_EQ(t.n, 2);
	CHECK_EQ(mg_tlsmem_get(&t, "mx.b:25", 150, NULL), MG_TLSMEM_UNKNOWN);
	CHECK_EQ(mg_tlsmem_get(&t, "mx.d:25", 150, NULL), MG_TLSMEM_NOT_OFFERED);

	snprintf(path, sizeof(path), "/tmp/sealbox-tlsmem.%d", (int)getpid());
	CHECK(mg_tlsmem_save(&t, path, 100) == 0);
	mg_tlsmem_init(&u, 10);
	CHECK(mg_tlsmem_load(&u, path, 920) == 0);
	CHECK_EQ(u.n, 1);   /* mx.c expired at 900 */
	CHECK_EQ(mg_tlsmem_get(&u, "mx.d:25", 920, NULL), MG_TLSMEM_NOT_OFFERED);
	const char junk[] = "x\n\nmx.e:25 handshake-failed 99999 tls alert\nmx.f:25 maybe 99999\nmx.g:25 not-offered abc\n";
	mg_tlsmem_parse(&u, junk, sizeof(junk) - 1, 920);
	CHECK_EQ(u.n, 2);
	CHECK_EQ(mg_tlsmem_get(&u, "mx.e:25", 920, &e), MG_TLSMEM_HANDSHAKE_FAILED);
	CHECK(strcmp(e->detail, "tls alert") == 0);
	unlink(path);
	mg_tlsmem_free(&t);
	mg_tlsmem_free(&u);
}

UNIT_SUITE(mg_policy, UNIT_TEST(cidr), UNIT_TEST(relay), UNIT_TEST(tls_policy), UNIT_TEST(tls_memory));
