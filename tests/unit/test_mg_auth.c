/* Unit tests for mailgw's SMTP AUTH pure parts: the SASL exchange, the Dovecot protocol
 * reader, the backend table, the brute-force / cache memory, the recipient lists. */
#include <stdlib.h>
#include <string.h>

#include "applets/mailgw/mg_authconf.h"
#include "applets/mailgw/mg_authmem.h"
#include "applets/mailgw/mg_dovecot.h"
#include "applets/mailgw/mg_rcptmap.h"
#include "applets/mailgw/mg_sasl.h"
#include "crypto/crypto.h"
#include "unit.h"

#define CHECK_S(a, b) CHECK(strcmp((a), (b)) == 0)

static int start(struct mg_sasl *s, const char *a)
{
	return mg_sasl_start(s, a, strlen(a));
}

static int step(struct mg_sasl *s, const char *a)
{
	return mg_sasl_step(s, a, strlen(a));
}

static void sasl(void)
{
	struct mg_sasl s;

	/* \0alice\0secret */
	CHECK_EQ(start(&s, "PLAIN AGFsaWNlAHNlY3JldA=="), MG_SASL_DONE);
	CHECK_S(s.login, "alice");
	CHECK_S(s.pass, "secret");
	CHECK_EQ(start(&s, "plain"), MG_SASL_CHALLENGE);
	CHECK_S(s.challenge, "");
	CHECK_EQ(step(&s, "AGFsaWNlAHNlY3JldA=="), MG_SASL_DONE);
	/* authzid = authcid is fine, another one is not */
	CHECK_EQ(start(&s, "PLAIN YWxpY2UAYWxpY2UAc2VjcmV0"), MG_SASL_DONE);
	CHECK_EQ(start(&s, "PLAIN Ym9iAGFsaWNlAHNlY3JldA=="), MG_SASL_ERROR);
	CHECK_EQ(s.code, 535);
	CHECK_EQ(start(&s, "PLAIN"), MG_SASL_CHALLENGE);
	CHECK_EQ(step(&s, "*"), MG_SASL_ERROR);
	CHECK(s.code == 501 && s.cancelled);
	CHECK_EQ(start(&s, "PLAIN @@@"), MG_SASL_ERROR);
	CHECK(s.code == 501 && strcmp(s.enh, "5.5.2") == 0);
	CHECK_EQ(start(&s, "PLAIN ="), MG_SASL_ERROR);   /* empty: no NULs */
	CHECK_EQ(start(&s, "PLAIN AGFsaWNlAA=="), MG_SASL_ERROR);   /* empty password */
	CHECK_EQ(start(&s, "CRAM-MD5"), MG_SASL_ERROR);
	CHECK_EQ(s.code, 504);
	CHECK_EQ(start(&s, ""), MG_SASL_ERROR);
	CHECK_EQ(start(&s, "PLAIN a b"), MG_SASL_ERROR);
	CHECK_EQ(start(&s, "LOGIN"), MG_SASL_CHALLENGE);
	CHECK_S(s.challenge, "VXNlcm5hbWU6");
	CHECK_EQ(step(&s, "YWxpY2U="), MG_SASL_CHALLENGE);
	CHECK_S(s.challenge, "UGFzc3dvcmQ6");
	CHECK_EQ(step(&s, "c2VjcmV0"), MG_SASL_DONE);
	CHECK(strcmp(s.login, "alice") == 0 && strcmp(s.pass, "secret") == 0);
	CHECK_EQ(start(&s, "LOGIN YWxpY2U="), MG_SASL_CHALLENGE);
	CHECK_S(s.challenge, "UGFzc3dvcmQ6");
	/* a login with a space or control byte never reaches a backend line */
	CHECK_EQ(start(&s, "LOGIN YSBi"), MG_SASL_ERROR);   /* "a b" */
	char big[MG_SASL_LINE_MAX + 10];
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CHECK_EQ(start(&s, "LOGIN"), MG_SASL_CHALLENGE);
	CHECK_EQ(step(&s, big), MG_SASL_ERROR);
	CHECK(s.code == 500 && strcmp(s.enh, "5.5.6") == 0);
	mg_sasl_wipe(&s);
}

static int dline(struct mg_dovecot_rx *r, const char *l)
{
	return mg_dovecot_line(r, l, strlen(l));
}

static void dovecot(void)
{
	struct mg_dovecot_rx r;
	char out[1024];

	memset(&r, 0, sizeof(r));
	r.id = 3;
	CHECK_EQ(dline(&r, "VERSION\t1\t2"), MG_DOV_MORE);
	CHECK_EQ(dline(&r, "MECH\tPLAIN\tplaintext"), MG_DOV_MORE);
	CHECK_EQ(dline(&r, "SPID\t42"), MG_DOV_MORE);
	CHECK_EQ(dline(&r, "DONE"), MG_DOV_READY);
	CHECK_EQ(dline(&r, "OK\t2\tuser=x"), MG_DOV_BAD);   /* another request's id */
	CHECK_EQ(dline(&r, "OK\t3\tuser=x"), MG_DOV_OK);
	CHECK_EQ(dline(&r, "FAIL\t3\tuser=x"), MG_DOV_FAIL);
	CHECK_EQ(dline(&r, "FAIL\t3\ttemp\treason=db down"), MG_DOV_TEMP);
	CHECK_S(r.why, "db down");
	CHECK_EQ(dline(&r, "CONT\t3\tabc"), MG_DOV_BAD);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(dline(&r, "VERSION\t2\t0"), MG_DOV_BAD);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(dline(&r, "OK\t0"), MG_DOV_MORE);   /* before DONE: never an accept */
	CHECK_EQ(dline(&r, "VERSION\t1\t2"), MG_DOV_MORE);
	CHECK_EQ(dline(&r, "DONE"), MG_DOV_BAD);      /* no PLAIN */
	CHECK(mg_dovecot_hello(out, sizeof(out), 77) > 0 && strcmp(out, "VERSION\t1\t2\nCPID\t77\n") == 0);
	CHECK(mg_dovecot_auth(out, sizeof(out), 5, "alice", "secret", "192.0.2.1", "") > 0);
	CHECK(strstr(out, "AUTH\t5\tPLAIN\tservice=smtp\tsecured") == out);
	CHECK(strstr(out, "\trip=192.0.2.1\t") && !strstr(out, "lip="));
	CHECK(strstr(out, "\tresp=AGFsaWNlAHNlY3JldA==\n"));
	CHECK(mg_dovecot_auth(out, sizeof(out), 5, "alice", "secret", "x\ny", "") < 0);
	CHECK(mg_dovecot_auth(out, 20, 5, "alice", "secret", "", "") < 0);
}

static void table(void)
{
	struct mg_auth_table t = { 0 };
	char why[200];

	CHECK(mg_auth_table_add(&t, "example.com dovecot:/run/dovecot/auth-client", why, sizeof(why)) == 0);
	CHECK(mg_auth_table_add(&t, "Other.Example imaps://mail.other.example", why, sizeof(why)) == 0);
	CHECK(mg_auth_table_add(&t, "* imap://[::1]:1143", why, sizeof(why)) == 0);
	CHECK(mg_auth_table_add(&t, "t.example dovecot://127.0.0.1:12345", why, sizeof(why)) == 0);
	CHECK(mg_auth_table_add(&t, "p.example dovecot://192.0.2.9:12345", why, sizeof(why)) == 0);
	CHECK(mg_auth_table_add(&t, "example.com smtp://x", why, sizeof(why)) < 0);   /* twice */
	CHECK(mg_auth_table_add(&t, "x.example ldap://x", why, sizeof(why)) < 0);
	CHECK(mg_auth_table_add(&t, "x.example imaps://h:99999", why, sizeof(why)) < 0);
	CHECK(mg_auth_table_add(&t, "x.example imaps://", why, sizeof(why)) < 0);
	CHECK(mg_auth_table_add(&t, "x.example", why, sizeof(why)) < 0);
	CHECK(mg_auth_table_add(&t, "bad_dom!ain smtps://h", why, sizeof(why)) < 0);
	const struct mg_auth_backend *b = mg_auth_table_find(&t, "alice@EXAMPLE.com");
	CHECK(b && b->kind == MG_AB_DOVECOT_UNIX && strcmp(b->host, "/run/dovecot/auth-client") == 0);
	b = mg_auth_table_find(&t, "bob@other.example");
	CHECK(b && b->kind == MG_AB_IMAPS && b->port == 993 && strcmp(b->host, "mail.other.example") == 0);
	b = mg_auth_table_find(&t, "carol");
	CHECK(b && b->kind == MG_AB_IMAP && b->port == 1143 && strcmp(b->host, "::1") == 0);
	b = mg_auth_table_find(&t, "x@sub.example.com");   /* no subdomain match: the * entry */
	CHECK(b && b->kind == MG_AB_IMAP);
	CHECK(!mg_auth_backend_plaintext(mg_auth_table_find(&t, "a@t.example")));
	CHECK(mg_auth_backend_plaintext(mg_auth_table_find(&t, "a@p.example")));
	mg_auth_table_free(&t);
}

static void memory(void)
{
	static struct mg_authmem m;
	struct mg_authmem_limits l = { 2, 4, 600, 60 };

	CHECK(mg_authmem_init(&m) == 0);
	CHECK_EQ(mg_authmem_check(&m, &l, "192.0.2.1", "alice", 1000), MG_AUTHMEM_OK);
	mg_authmem_failed(&m, &l, "192.0.2.1", "alice", 1000);
	CHECK_EQ(mg_authmem_check(&m, &l, "192.0.2.1", "bob", 1000), MG_AUTHMEM_OK);
	mg_authmem_failed(&m, &l, "192.0.2.1", "alice", 1001);
	CHECK_EQ(mg_authmem_check(&m, &l, "192.0.2.1", NULL, 1001), MG_AUTHMEM_DELAY);
	CHECK_EQ(mg_authmem_check(&m, &l, "192.0.2.7", "ALICE", 1001), MG_AUTHMEM_DELAY);   /* login, any case */
	mg_authmem_failed(&m, &l, "192.0.2.1", "alice", 1002);
	mg_authmem_failed(&m, &l, "192.0.2.1", "alice", 1003);
	CHECK_EQ(mg_authmem_check(&m, &l, "192.0.2.1", NULL, 1003), MG_AUTHMEM_LOCKED);
	CHECK_EQ(mg_authmem_check(&m, &l, "198.51.100.1", "alice", 1003), MG_AUTHMEM_LOCKED);
	CHECK_EQ(mg_authmem_check(&m, &l, "198.51.100.1", "bob", 1003), MG_AUTHMEM_OK);
	CHECK_EQ(mg_authmem_check(&m, &l, "192.0.2.1", NULL, 1003 + 601), MG_AUTHMEM_OK);   /* lockout over */
	/* IPv6: one /64 */
	mg_authmem_failed(&m, &l, "2001:db8:1:2::1", "x", 2000);
	mg_authmem_failed(&m, &l, "2001:db8:1:2::99", "y", 2000);
	CHECK_EQ(mg_authmem_check(&m, &l, "2001:db8:1:2::5", NULL, 2000), MG_AUTHMEM_DELAY);
	mg_authmem_success(&m, &l, "2001:db8:1:2::7", "x", "pw", 2001);
	CHECK_EQ(mg_authmem_check(&m, &l, "2001:db8:1:2::5", NULL, 2001), MG_AUTHMEM_OK);
	/* the cache */
	CHECK(mg_authmem_cached(&m, "x", "pw", 2002));
	CHECK(!mg_authmem_cached(&m, "x", "pw2", 2002));
	CHECK(!mg_authmem_cached(&m, "X", "pw", 2002));
	CHECK(!mg_authmem_cached(&m, "x", "pw", 2001 + 61));
	l.cache_time = 0;
	mg_authmem_success(&m, &l, "192.0.2.9", "z", "pw", 3000);
	CHECK(!mg_authmem_cached(&m, "z", "pw", 3000));
	mg_authmem_wipe(&m);
}

static void rcpt_lists(void)
{
	struct mg_rcpt_source s;
	struct mg_rcpt_table t;
	const char *text = "# c\nalice\n  Bob@Example.ORG  # x\n\n@sub.example.org\n#carol\n";

	memset(&s, 0, sizeof(s));
	strcpy(s.domain, "example.org");
	s.available = 1;
	CHECK(mg_rcpt_source_parse(&s, text, strlen(text)) == 0);
	CHECK_EQ(s.naddr, 3);
	t.v = &s;
	t.n = 1;
	CHECK_EQ(mg_rcpt_check(&t, "alice@example.org", NULL), MG_RCPT_VALID);
	CHECK_EQ(mg_rcpt_check(&t, "BOB@example.org", NULL), MG_RCPT_VALID);
	CHECK_EQ(mg_rcpt_check(&t, "carol@example.org", NULL), MG_RCPT_INVALID);
	CHECK_EQ(mg_rcpt_check(&t, "alice@other.example", NULL), MG_RCPT_UNKNOWN_SOURCE);
	s.available = 0;
	CHECK_EQ(mg_rcpt_check(&t, "alice@example.org", NULL), MG_RCPT_UNAVAILABLE);
	for (size_t i = 0; i < s.naddr; i++)
		free(s.addr[i]);
	free(s.addr);
}

UNIT_SUITE(mg_auth, UNIT_TEST(sasl), UNIT_TEST(dovecot), UNIT_TEST(table), UNIT_TEST(memory),
	   UNIT_TEST(rcpt_lists));
