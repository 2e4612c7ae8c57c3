/* Unit tests for mailgw's LDAP pieces: the BER encoder (byte for byte against RFC 4511's
 * layout), the decoder and framer of responses, RFC 4515 escaping and filter parsing,
 * the LDAP URL of a backend, the filter built for a value, and the recipient cache. */
#include <stdlib.h>
#include <string.h>

#include "applets/mailgw/mg_authconf.h"
#include "applets/mailgw/mg_ldap.h"
#include "applets/mailgw/mg_ldap_ber.h"
#include "applets/mailgw/mg_rcptcache.h"
#include "applets/mailgw/mg_rcptmap.h"
#include "core/buf.h"
#include "unit.h"

#define CHECK_BYTES(w, lit) CHECK((w).len == sizeof(lit) - 1 && memcmp((w).p, lit, sizeof(lit) - 1) == 0)

static void encode(void)
{
	uint8_t mem[1024];
	struct buf_writer w;

	buf_writer_fixed(&w, mem, sizeof(mem));
	CHECK_EQ(mg_ldap_enc_bind(&w, 1, "cn=a", "p", 1), 0);
	CHECK_BYTES(w, "\x30\x11\x02\x01\x01\x60\x0c\x02\x01\x03\x04\x04" "cn=a" "\x80\x01p");
	buf_writer_fixed(&w, mem, sizeof(mem));
	CHECK_EQ(mg_ldap_enc_unbind(&w, 3), 0);
	CHECK_BYTES(w, "\x30\x05\x02\x01\x03\x42\x00");
	buf_writer_fixed(&w, mem, sizeof(mem));
	CHECK_EQ(mg_ldap_enc_starttls(&w, 1), 0);
	CHECK_BYTES(w, "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" "1.3.6.1.4.1.1466.20037");
	/* a message ID with the high bit set gets a leading zero byte */
	buf_writer_fixed(&w, mem, sizeof(mem));
	CHECK_EQ(mg_ldap_enc_unbind(&w, 200), 0);
	CHECK_BYTES(w, "\x30\x06\x02\x02\x00\xc8\x42\x00");
	/* long lengths: minimal long form */
	char dn[201];
	memset(dn, 'x', 200);
	dn[200] = '\0';
	buf_writer_fixed(&w, mem, sizeof(mem));
	CHECK_EQ(mg_ldap_enc_bind(&w, 2, dn, "pw", 2), 0);
	CHECK(w.p[0] == 0x30 && w.p[1] == 0x81 && w.p[2] == w.len - 3);
	long n = mg_ldap_frame(w.p, w.len, MG_LDAP_MSG_MAX);
	CHECK_EQ(n, (long)w.len);
	/* too small a buffer fails cleanly */
	buf_writer_fixed(&w, mem, 20);
	CHECK_EQ(mg_ldap_enc_bind(&w, 2, dn, "pw", 2), -1);
	/* a search with a filter */
	uint8_t f[64];
	struct buf_writer fw;
	const char *why;
	buf_writer_fixed(&fw, f, sizeof(f));
	CHECK_EQ(mg_ldap_filter_ber(&fw, "(cn=*)", &why), 0);
	buf_writer_fixed(&w, mem, sizeof(mem));
	CHECK_EQ(mg_ldap_enc_search(&w, 3, "dc=x", MG_LDAP_SCOPE_SUB, fw.p, fw.len, 2, 5), 0);
	CHECK_BYTES(w, "\x30\x25\x02\x01\x03\x63\x20\x04\x04" "dc=x" "\x0a\x01\x02\x0a\x01\x00\x02\x01\x02\x02\x01\x05"
		       "\x01\x01\x00\x87\x02" "cn" "\x30\x05\x04\x03" "1.1");
}

static int fber(const char *text, const char *want, size_t wl)
{
	uint8_t mem[MG_LDAP_FILTER_MAX];
	struct buf_writer w;
	const char *why = NULL;

	buf_writer_fixed(&w, mem, sizeof(mem));
	if (mg_ldap_filter_ber(&w, text, &why) < 0)
		return want ? -1 : 0;
	return want && w.len == wl && memcmp(w.p, want, wl) == 0 ? 0 : -1;
}
#define FOK(t, lit) CHECK(fber(t, lit, sizeof(lit) - 1) == 0)
#define FBAD(t) CHECK(fber(t, NULL, 0) == 0)

static void filters(void)
{
	char out[128];

	CHECK(mg_ldap_escape(out, sizeof(out), "*)(uid=*", 8) > 0);
	CHECK(strcmp(out, "\\2a\\29\\28uid=\\2a") == 0);
	CHECK(mg_ldap_escape(out, sizeof(out), "a\\b\0c", 5) > 0);
	CHECK(strcmp(out, "a\\5cb\\00c") == 0);
	CHECK_EQ(mg_ldap_escape(out, 4, "***", 3), -1);
	FOK("(uid=a\\2a)", "\xa3\x09\x04\x03uid\x04\x02" "a*");
	FOK("(cn=*)", "\x87\x02" "cn");
	FOK("(&(a=1)(!(b=2)))", "\xa0\x12\xa3\x06\x04\x01" "a" "\x04\x01" "1" "\xa2\x08\xa3\x06\x04\x01" "b" "\x04\x01" "2");
	FOK("(cn=a*b*c)", "\xa4\x0f\x04\x02" "cn" "\x30\x09\x80\x01" "a" "\x81\x01" "b" "\x82\x01" "c");
	FOK("(cn=*b*)", "\xa4\x09\x04\x02" "cn" "\x30\x03\x81\x01" "b");
	FOK("(cn>=m)", "\xa5\x07\x04\x02" "cn" "\x04\x01" "m");
	FOK("(|(mail=x)(cn~=y))", "\xa1\x14\xa3\x09\x04\x04" "mail" "\x04\x01" "x" "\xa8\x07\x04\x02" "cn" "\x04\x01" "y");
	FOK("(cn=)", "\xa3\x06\x04\x02" "cn" "\x04\x00");
	FBAD("(cn=a**b)");
	FBAD("(cn=(x)");
	FBAD("cn=a");
	FBAD("(cn=a))");
	FBAD("(cn=a)(cn=b)");
	FBAD("(&)");
	FBAD("(cn:dn:=x)");
	FBAD("(cn=\\zz)");
	FBAD("(cn=\\2)");
	FBAD("(cn>=a*)");
	FBAD("(=x)");
	FBAD("(cn=x");
	FBAD("");
	char deep[200] = "";
	for (int i = 0; i < 20; i++)
		strcat(deep, "(!");
	strcat(deep, "(a=b)");
	for (int i = 0; i < 20; i++)
		strcat(deep, ")");
	FBAD(deep);
}

static void decode(void)
{
	struct mg_ldap_msg m;
	const char *why;
	static const uint8_t bind_ok[] = "\x30\x0c\x02\x01\x02\x61\x07\x0a\x01\x00\x04\x00\x04\x00";
	static const uint8_t bind_49[] = "\x30\x11\x02\x01\x04\x61\x0c\x0a\x01\x31\x04\x00\x04\x05" "no\x01pe";
	static const uint8_t entry[] = "\x30\x10\x02\x01\x03\x64\x0b\x04\x07" "uid=a,x" "\x30\x00";
	/* an ExtendedResponse with responseName, followed by an (empty) controls field */
	static const uint8_t ext[] = "\x30\x26\x02\x01\x01\x78\x1f\x0a\x01\x00\x04\x00\x04\x00\x8a\x16"
				     "1.3.6.1.4.1.1466.20037" "\xa0\x00" "X";

	CHECK_EQ(mg_ldap_frame(bind_ok, sizeof(bind_ok) - 1, MG_LDAP_MSG_MAX), 14);
	CHECK_EQ(mg_ldap_decode(bind_ok, 14, &m, &why), 0);
	CHECK(m.id == 2 && m.op == MG_LDAP_BIND_RESP && m.code == 0);
	CHECK_EQ(mg_ldap_decode(bind_49, sizeof(bind_49) - 1, &m, &why), 0);
	CHECK(m.code == 49 && strcmp(m.diag, "no?pe") == 0);
	CHECK_EQ(mg_ldap_decode(entry, sizeof(entry) - 1, &m, &why), 0);
	CHECK(m.op == MG_LDAP_SEARCH_ENTRY && strcmp(m.dn, "uid=a,x") == 0 && m.code == -1);
	CHECK_EQ(mg_ldap_decode(ext, sizeof(ext) - 1, &m, &why), -1);   /* a byte after the message */
	CHECK_EQ(mg_ldap_frame(ext, sizeof(ext) - 1, MG_LDAP_MSG_MAX), 40);
	CHECK_EQ(mg_ldap_decode(ext, 40, &m, &why), 0);
	CHECK(m.op == MG_LDAP_EXT_RESP && strcmp(m.oid, MG_LDAP_STARTTLS_OID) == 0);
	/* truncated or trailing bytes, negative IDs, NUL in a DN, a primitive op */
	CHECK_EQ(mg_ldap_decode(bind_ok, 13, &m, &why), -1);
	CHECK_EQ(mg_ldap_decode((const uint8_t *)"\x30\x0c\x02\x01\xff\x61\x07\x0a\x01\x00\x04\x00\x04\x00", 14, &m, &why), -1);
	CHECK_EQ(mg_ldap_decode((const uint8_t *)"\x30\x0c\x02\x01\x03\x64\x07\x04\x03" "a\0b" "\x30\x00", 14, &m, &why), -1);
	CHECK_EQ(mg_ldap_decode((const uint8_t *)"\x30\x0c\x02\x01\x02\x41\x07\x0a\x01\x00\x04\x00\x04\x00", 14, &m, &why), -1);
	/* framing */
	CHECK_EQ(mg_ldap_frame((const uint8_t *)"\x30", 1, 100), 0);
	CHECK_EQ(mg_ldap_frame((const uint8_t *)"\x30\x84\x00\x00", 4, 100), 0);
	CHECK_EQ(mg_ldap_frame((const uint8_t *)"\x30\x80", 2, 100), -1);
	CHECK_EQ(mg_ldap_frame((const uint8_t *)"\x30\x85\x00\x00\x00\x00\x01", 7, 100), -1);
	CHECK_EQ(mg_ldap_frame((const uint8_t *)"\x31\x00", 2, 100), -1);
	CHECK_EQ(mg_ldap_frame((const uint8_t *)"\x30\x82\x01\x00", 4, 100), -1);
	CHECK_EQ(mg_ldap_frame((const uint8_t *)"\x30\x05", 2, 100), 7);
}

static void urls(void)
{
	struct mg_auth_backend b;
	char why[200], f[600];

	memset(&b, 0, sizeof(b));
	CHECK_EQ(mg_auth_backend_parse(&b, "ldaps://ldap.example.org/ou=people%2Cdc=example?uid?one?(objectClass=person)", 1,
				       why, sizeof(why)), 0);
	CHECK(b.kind == MG_AB_LDAPS && b.port == 636 && strcmp(b.host, "ldap.example.org") == 0);
	CHECK(strcmp(b.base, "ou=people,dc=example") == 0 && strcmp(b.attrs, "uid") == 0);
	CHECK(b.scope == MG_LDAP_SCOPE_ONE && strcmp(b.filter, "(objectClass=person)") == 0);
	CHECK_EQ(mg_ldap_build_filter(f, sizeof(f), &b, "*)(uid=*"), 0);
	CHECK(strcmp(f, "(&(uid=\\2a\\29\\28uid=\\2a)(objectClass=person))") == 0);
	memset(&b, 0, sizeof(b));
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://[::1]:1389/dc=x?mail,proxyAddresses", 1, why, sizeof(why)), 0);
	CHECK(b.kind == MG_AB_LDAP && b.port == 1389 && strcmp(b.host, "::1") == 0 && b.scope == MG_LDAP_SCOPE_SUB);
	CHECK_EQ(mg_ldap_build_filter(f, sizeof(f), &b, "a@x"), 0);
	CHECK(strcmp(f, "(|(mail=a@x)(proxyAddresses=smtp:a@x))") == 0);
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://h/dc=x", 1, why, sizeof(why)), -1);
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://h?uid", 1, why, sizeof(why)), -1);
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://h/?uid", 1, why, sizeof(why)), -1);
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://h/dc=x?u id", 1, why, sizeof(why)), -1);
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://h/dc=x?uid,", 1, why, sizeof(why)), -1);
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://h/dc=x?uid?deep", 1, why, sizeof(why)), -1);
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://h/dc=x?uid?sub?(x", 1, why, sizeof(why)), -1);
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://h/dc=x?uid?sub?(x=1)?ext", 1, why, sizeof(why)), -1);
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://h/dc=x%00?uid", 1, why, sizeof(why)), -1);
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://h/dc=x%2?uid", 1, why, sizeof(why)), -1);
	CHECK_EQ(mg_auth_backend_parse(&b, "ldap://h/dc=x?uid", 0, why, sizeof(why)), -1);
	/* a value too long for a filter is refused, not cut */
	char longv[300];
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	CHECK_EQ(mg_ldap_build_filter(f, sizeof(f), &b, longv), -1);
}

static void sources(void)
{
	struct mg_rcpt_table t = { 0 };
	char why[200];

	CHECK_EQ(mg_rcpt_table_add(&t, "example.org ldaps://ldap.example.org/dc=example,dc=org?mail", why, sizeof(why)), 0);
	CHECK_EQ(mg_rcpt_table_add(&t, "co.example callout", why, sizeof(why)), 0);
	CHECK_EQ(mg_rcpt_table_add(&t, "c2.example callout:mx.c2.example:2525", why, sizeof(why)), 0);
	CHECK_EQ(mg_rcpt_table_add(&t, "c3.example ldap://h/dc=x", why, sizeof(why)), -1);
	CHECK_EQ(mg_rcpt_table_add(&t, "c3.example gopher://h", why, sizeof(why)), -1);
	CHECK_EQ(t.n, 3);
	CHECK(t.v[0].kind == MG_RS_LDAP && t.v[1].kind == MG_RS_CALLOUT && t.v[1].route);
	CHECK(t.v[2].kind == MG_RS_CALLOUT && !t.v[2].route && t.v[2].be.port == 2525);
	CHECK_EQ(mg_rcpt_check(&t, "a@example.org", NULL), MG_RCPT_LOOKUP);
	CHECK_EQ(mg_rcpt_check(&t, "a@co.example", NULL), MG_RCPT_LOOKUP);
	mg_rcpt_table_set_bind(&t, "cn=svc", "pw");
	CHECK(strcmp(t.v[0].be.bind_dn, "cn=svc") == 0 && t.v[1].be.bind_pw[0] == '\0');
	mg_rcpt_table_free(&t);
}

static void cache(void)
{
	struct mg_rcptcache *c = mg_rcptcache_new();

	CHECK(c != NULL);
	CHECK_EQ(mg_rcptcache_get(c, "ldap://a", "x@y", 100), -1);
	mg_rcptcache_put(c, "ldap://a", "X@Y", MG_RCPT_VALID, 100, 10);
	mg_rcptcache_put(c, "ldap://a", "n@y", MG_RCPT_INVALID, 100, 5);
	mg_rcptcache_put(c, "ldap://a", "u@y", MG_RCPT_UNAVAILABLE, 100, 5);
	mg_rcptcache_put(c, "ldap://a", "z@y", MG_RCPT_VALID, 100, 0);
	CHECK_EQ(mg_rcptcache_get(c, "ldap://a", "x@y", 101), MG_RCPT_VALID);
	CHECK_EQ(mg_rcptcache_get(c, "ldap://b", "x@y", 101), -1);   /* another source */
	CHECK_EQ(mg_rcptcache_get(c, "ldap://a", "n@y", 104), MG_RCPT_INVALID);
	CHECK_EQ(mg_rcptcache_get(c, "ldap://a", "n@y", 105), -1);   /* expired */
	CHECK_EQ(mg_rcptcache_get(c, "ldap://a", "u@y", 101), -1);   /* never cached */
	CHECK_EQ(mg_rcptcache_get(c, "ldap://a", "z@y", 101), -1);   /* lifetime 0 */
	mg_rcptcache_put(c, "ldap://a", "x@y", MG_RCPT_INVALID, 102, 10);   /* replaced */
	CHECK_EQ(mg_rcptcache_get(c, "ldap://a", "x@y", 103), MG_RCPT_INVALID);
	/* many more entries than slots: bounded, the newest still found */
	char a[64];
	for (int i = 0; i < 3 * MG_RCPTCACHE_SLOTS; i++) {
		snprintf(a, sizeof(a), "u%d@y", i);
		mg_rcptcache_put(c, "ldap://a", a, MG_RCPT_VALID, 200, 100);
	}
	CHECK_EQ(mg_rcptcache_get(c, "ldap://a", a, 201), MG_RCPT_VALID);
	mg_rcptcache_clear(c);
	CHECK_EQ(mg_rcptcache_get(c, "ldap://a", a, 201), -1);
	mg_rcptcache_free(c);
}

UNIT_SUITE(mg_ldap, UNIT_TEST(encode), UNIT_TEST(filters), UNIT_TEST(decode), UNIT_TEST(urls), UNIT_TEST(sources),
	   UNIT_TEST(cache));
