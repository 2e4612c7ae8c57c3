/* Unit tests for the POP3/IMAP front ends' pure parts. */
#include <string.h>

#include "applets/mailgw/mg_capa.h"
#include "unit.h"

static enum mg_pre_tls pop(const char *s) { return mg_pop3_pre_tls(s, strlen(s)); }

static enum mg_pre_tls imap(const char *s, char *tag)
{
	return mg_imap_pre_tls(s, strlen(s), tag, MG_IMAP_TAG_MAX);
}

static void pop3_before_tls(void)
{
	CHECK_EQ(pop("CAPA"), MG_PRE_CAPA);
	CHECK_EQ(pop("stls"), MG_PRE_STARTTLS);
	CHECK_EQ(pop("STLS x"), MG_PRE_OTHER);
	CHECK_EQ(pop("USER bob"), MG_PRE_LOGIN);
	CHECK_EQ(pop("PASS secret"), MG_PRE_LOGIN);
	CHECK_EQ(pop("AUTH PLAIN"), MG_PRE_LOGIN);
	CHECK_EQ(pop("APOP bob 0123"), MG_PRE_LOGIN);
	CHECK_EQ(pop("QUIT"), MG_PRE_QUIT);
	CHECK_EQ(pop("RETR 1"), MG_PRE_OTHER);
	CHECK_EQ(pop(""), MG_PRE_OTHER);
	CHECK(strstr(mg_pop3_capa_reply, "STLS") && !strstr(mg_pop3_capa_reply, "USER") &&
	      !strstr(mg_pop3_capa_reply, "SASL"));
	CHECK(mg_pop3_greeting_ok("+OK Dovecot ready.", 18));
	CHECK(!mg_pop3_greeting_ok("-ERR no", 7));
	CHECK(!mg_pop3_greeting_ok("+OKAY", 5));
}

static void imap_before_tls(void)
{
	char tag[MG_IMAP_TAG_MAX];
	CHECK_EQ(imap("a1 CAPABILITY", tag), MG_PRE_CAPA);
	CHECK(strcmp(tag, "a1") == 0);
	CHECK_EQ(imap("a2 starttls", tag), MG_PRE_STARTTLS);
	CHECK_EQ(imap("a3 LOGIN bob secret", tag), MG_PRE_LOGIN);
	CHECK_EQ(imap("a4 AUTHENTICATE PLAIN", tag), MG_PRE_LOGIN);
	CHECK_EQ(imap("a5 LOGOUT", tag), MG_PRE_QUIT);
	CHECK_EQ(imap("a6 SELECT INBOX", tag), MG_PRE_OTHER);
	CHECK_EQ(imap("CAPABILITY", tag), MG_PRE_BAD);
	CHECK(strcmp(tag, "*") == 0);
	CHECK_EQ(imap("a+ NOOP", tag), MG_PRE_BAD);
	CHECK_EQ(imap("a* NOOP", tag), MG_PRE_BAD);
	CHECK_EQ(imap(" NOOP", tag), MG_PRE_BAD);
	CHECK(strstr(mg_imap_capa_line, "LOGINDISABLED") && strstr(mg_imap_capa_line, "STARTTLS"));
	CHECK(!strstr(mg_imap_capa_line, "AUTH="));
	CHECK(mg_imap_greeting_ok("* OK hi", 7));
	CHECK(!mg_imap_greeting_ok("* PREAUTH hi", 12));
	CHECK(!mg_imap_greeting_ok("* BYE", 5));
}

static const char *filt(const char *in, char *out, size_t cap)
{
	if (mg_imap_capa_filter(in, strlen(in), out, cap) < 0)
		return NULL;
	return out;
}

static void imap_filter(void)
{
	char out[256];
	const char *r;
	r = filt("* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS AUTH=PLAIN LOGINDISABLED] Dovecot ready.", out, sizeof(out));
	CHECK(r && strcmp(r, "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] Dovecot ready.") == 0);
	r = filt("* CAPABILITY IMAP4rev1 starttls IDLE", out, sizeof(out));
	CHECK(r && strcmp(r, "* CAPABILITY IMAP4rev1 IDLE") == 0);
	r = filt("* OK no capabilities here STARTTLS", out, sizeof(out));
	CHECK(r && strcmp(r, "* OK no capabilities here STARTTLS") == 0);
	r = filt("* OK [CAPABILITY STARTTLS", out, sizeof(out));
	CHECK(r && strcmp(r, "* OK [CAPABILITY STARTTLS") == 0);
	CHECK(filt("* CAPABILITY IMAP4rev1 IDLE", out, 10) == NULL);
}

UNIT_SUITE(mg_capa, UNIT_TEST(pop3_before_tls), UNIT_TEST(imap_before_tls), UNIT_TEST(imap_filter));
