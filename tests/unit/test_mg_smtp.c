/* Unit tests for mailgw's SMTP pure parts: commands, paths, replies, DATA. */
#include <string.h>

#include "applets/mailgw/mg_smtp.h"
#include "core/buf.h"
#include "unit.h"

/* unit.h's CHECK_STR trips -Wformat-truncation on large buffers under -O2. */
#define CHECK_S(a, b) CHECK(strcmp((a), (b)) == 0)

static int parse(const char *s, struct mg_smtp_cmd *c)
{
	return mg_smtp_parse(s, strlen(s), c);
}

static void verbs_and_args(void)
{
	struct mg_smtp_cmd c;
	CHECK(parse("EHLO client.example.org", &c) == 0);
	CHECK_EQ(c.verb, MG_CMD_EHLO);
	CHECK_S(c.arg, "client.example.org");
	CHECK(parse("ehlo  x  ", &c) == 0);
	CHECK_S(c.arg, "x");
	CHECK(parse("EHLO", &c) < 0);
	CHECK_EQ(c.err_code, 501);
	CHECK(parse("quit", &c) == 0 && c.verb == MG_CMD_QUIT);
	CHECK(parse("QUIT now", &c) < 0 && c.err_code == 501);
	CHECK(parse("STARTTLS", &c) == 0 && c.verb == MG_CMD_STARTTLS);
	CHECK(parse("STARTTLSX", &c) < 0 && c.err_code == 500);
	CHECK(parse("NOOP whatever", &c) == 0 && c.verb == MG_CMD_NOOP);
	CHECK(parse("ETRN example.com", &c) == 0 && c.verb == MG_CMD_ETRN);
	CHECK_S(c.arg, "example.com");
	CHECK(parse("", &c) < 0 && c.err_code == 500);
	CHECK(mg_smtp_parse("NOOP\0x", 6, &c) < 0 && c.err_code == 500);
	CHECK(parse("NOOP \x80", &c) < 0);
	char big[MG_CMD_LINE_MAX + 10];
	memset(big, 'a', sizeof(big));
	memcpy(big, "NOOP ", 5);
	CHECK(mg_smtp_parse(big, sizeof(big), &c) < 0 && c.err_code == 500);
}

static void mail_rcpt(void)
{
	struct mg_smtp_cmd c;
	CHECK(parse("MAIL FROM:<Joe@Example.COM>", &c) == 0);
	CHECK_EQ(c.verb, MG_CMD_MAIL);
	CHECK_S(c.addr, "Joe@example.com");
	CHECK_EQ(c.size, -1);
	CHECK(parse("mail from:<>", &c) == 0);
	CHECK_S(c.addr, "");
	CHECK(parse("MAIL FROM: <a@b.c> SIZE=1000 BODY=8BITMIME", &c) == 0);
	CHECK_EQ(c.size, 1000);
	CHECK_EQ(c.body, MG_BODY_8BITMIME);
	CHECK(parse("MAIL FROM:<a@b.c> body=7bit", &c) == 0 && c.body == MG_BODY_7BIT);
	CHECK(parse("MAIL FROM:<a@b.c> SIZE=x", &c) < 0 && c.err_code == 501);
	CHECK(parse("MAIL FROM:<a@b.c> SIZE=1 SIZE=2", &c) < 0 && c.err_code == 501);
	CHECK(parse("MAIL FROM:<a@b.c> SMTPUTF8", &c) < 0 && c.err_code == 555);
	CHECK(parse("MAIL FROM:a@b.c", &c) < 0 && c.err_code == 501);
	CHECK(parse("MAIL TO:<a@b.c>", &c) < 0 && c.err_code == 501);
	CHECK(parse("RCPT TO:<>", &c) < 0 && c.err_code == 553);
	CHECK(parse("RCPT TO:<@relay.example:user@example.net>", &c) == 0);
	CHECK_S(c.addr, "user@example.net");
	CHECK(parse("RCPT TO:<u@example.net> SIZE=1", &c) < 0 && c.err_code == 555);
	CHECK(parse("RCPT TO:<\"a b>c\"@example.net>", &c) == 0);
	CHECK_S(c.addr, "\"a b>c\"@example.net");
	CHECK(parse("RCPT TO:<u@example.net>x", &c) < 0);
}

static int addr(const char *s)
{
	char out[MG_ADDR_MAX + 1];
	return mg_addr_parse(s, strlen(s), 1, out, sizeof(out));
}

static void address_syntax(void)
{
	CHECK(addr("<a@b>") == 0);
	CHECK(addr("<a.b+c@sub.example.com>") == 0);
	CHECK(addr("<user@[192.0.2.1]>") == 0);
	CHECK(addr("<user@[IPv6:2001:db8::1]>") == 0);
	CHECK(addr("<user@[300.1.1.1]>") < 0);
	CHECK(addr("<user@[tag:x]>") < 0);
	CHECK(addr("<.a@b>") < 0);
	CHECK(addr("<a.@b>") < 0);
	CHECK(addr("<a..b@c>") < 0);
	CHECK(addr("<a@-b.com>") < 0);
	CHECK(addr("<a@b-.com>") < 0);
	CHECK(addr("<a@b..com>") < 0);
	CHECK(addr("<a@>") < 0);
	CHECK(addr("<@b>") < 0);
	CHECK(addr("<a b@c>") < 0);
	CHECK(addr("<a\r\n@c>") < 0);
	CHECK(addr("<\"unterminated@c>") < 0);
	CHECK(addr("<\"a\\\"@c>") < 0);
	CHECK(addr("<\"\"@c>") == 0);
	CHECK(addr("<a@b") < 0);
	char lp[80];
	memset(lp, 'x', sizeof(lp));
	memcpy(lp, "<", 1);
	memcpy(lp + 66, "@b.c>", 6);
	CHECK(addr(lp) < 0);   /* local part of 65 octets */
	CHECK(mg_addr_valid("") == 0);
	CHECK(mg_addr_valid("a@b.c") == 0);
	CHECK(mg_addr_valid("a@b c") < 0);
	CHECK_S(mg_addr_domain("x@example.com"), "example.com");
	CHECK(mg_domain_valid("mx.example.com", 14) == 0);
	CHECK(mg_domain_valid("[127.0.0.1]", 11) == 0);
	CHECK(mg_domain_valid("a_b", 3) < 0);
}

static void replies(void)
{
	uint8_t mem[160];
	struct buf_writer w;
	buf_writer_fixed(&w, mem, sizeof(mem));
	CHECK(mg_reply(&w, 250, "2.1.0", "Ok") == 0);
	CHECK(w.len == 14 && memcmp(mem, "250 2.1.0 Ok\r\n", 14) == 0);
	buf_writer_fixed(&w, mem, sizeof(mem));
	const char *lines[] = { "mx.example", "PIPELINING", "SIZE 100" };
	CHECK(mg_reply_lines(&w, 250, NULL, lines, 3) == 0);
	mem[w.len] = 0;
	CHECK_S((char *)mem, "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n");
	buf_writer_fixed(&w, mem, sizeof(mem));
	CHECK(mg_reply(&w, 451, "4.4.0", "remote said: bad\r\n250 ok") == 0);
	mem[w.len] = 0;
	CHECK_S((char *)mem, "451 4.4.0 remote said: bad??250 ok\r\n");
	buf_writer_fixed(&w, mem, 8);
	CHECK(mg_reply(&w, 250, NULL, "far too long for this") < 0);
}

/* Feeds text split at LF (as the connection would) and collects what gets stored. */
static int feed(struct mg_data_rx *d, const char *text, char *store, size_t cap)
{
	size_t o = 0;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			return -1;
		size_t len = (size_t)(nl - p);
		int cr = len > 0 && p[len - 1] == '\r';
		if (cr)
			len--;
		const char *out;
		size_t ol;
		if (mg_data_line(d, p, len, cr, &out, &ol) == 1) {
			store[o] = 0;
			return (int)o;
		}
		if (out && o + ol + 2 < cap) {
			memcpy(store + o, out, ol);
			o += ol;
			memcpy(store + o, "\r\n", 2);
			o += 2;
		}
		p = nl + 1;
	}
	store[o] = 0;
	return -2;   /* no end seen */
}

static void data_phase(void)
{
	struct mg_data_rx d;
	char st[4096];
	const char *enh, *txt;

	mg_data_init(&d, 0, MG_BARE_LF_REJECT);
	CHECK(feed(&d, "Subject: x\r\n\r\n..dot\r\n.\r\nMAIL FROM:<evil>\r\n", st, sizeof(st)) > 0);
	CHECK(strcmp(st, "Subject: x\r\n\r\n.dot\r\n") == 0);
	CHECK_EQ(mg_data_verdict(&d, &enh, &txt), 0);

	/* SMTP smuggling: "\n.\r\n" and ".\n" never end the data. */
	mg_data_init(&d, 0, MG_BARE_LF_REJECT);
	CHECK(feed(&d, "a\n.\r\nMAIL FROM:<x@y>\r\n.\r\n", st, sizeof(st)) >= 0);
	CHECK_EQ(mg_data_verdict(&d, &enh, &txt), 554);
	mg_data_init(&d, 0, MG_BARE_LF_NORMALIZE);
	CHECK(feed(&d, "a\n.\r\nb\r\n.\n", st, sizeof(st)) == -2);
	mg_data_init(&d, 0, MG_BARE_LF_NORMALIZE);
	CHECK(feed(&d, "a\nb\r\n.\r\n", st, sizeof(st)) > 0);
	CHECK(strcmp(st, "a\r\nb\r\n") == 0);
	CHECK_EQ(mg_data_verdict(&d, &enh, &txt), 0);
	mg_data_init(&d, 0, MG_BARE_LF_NORMALIZE);
	CHECK(feed(&d, "a\rb\r\n.\r\n", st, sizeof(st)) >= 0);
	CHECK_EQ(mg_data_verdict(&d, &enh, &txt), 554);

	mg_data_init(&d, 10, MG_BARE_LF_REJECT);
	CHECK(feed(&d, "12345\r\n123456\r\n.\r\n", st, sizeof(st)) >= 0);
	CHECK_EQ(mg_data_verdict(&d, &enh, &txt), 552);
	CHECK_S(enh, "5.3.4");

	char longl[1200];
	memset(longl, 'x', sizeof(longl));
	strcpy(longl + 999, "\r\n.\r\n");
	mg_data_init(&d, 0, MG_BARE_LF_REJECT);
	CHECK(feed(&d, longl, st, sizeof(st)) >= 0);
	CHECK_EQ(mg_data_verdict(&d, &enh, &txt), 554);
	mg_data_init(&d, 0, MG_BARE_LF_REJECT);
	strcpy(longl + 998, "\r\n.\r\n");
	CHECK(feed(&d, longl, st, sizeof(st)) >= 0);
	CHECK_EQ(mg_data_verdict(&d, &enh, &txt), 0);
}

static void data_nul(void)
{
	struct mg_data_rx d;
	const char *out, *enh, *txt;
	size_t ol;

	mg_data_init(&d, 0, MG_BARE_LF_REJECT);
	CHECK(mg_data_line(&d, "ab\0cd", 5, 1, &out, &ol) == 0);
	CHECK(out == NULL);
	CHECK(mg_data_line(&d, "more", 4, 1, &out, &ol) == 0 && out == NULL);
	CHECK(mg_data_line(&d, ".", 1, 1, &out, &ol) == 1);
	CHECK_EQ(mg_data_verdict(&d, &enh, &txt), 554);
	CHECK(strstr(txt, "NUL") != NULL);
}

static void reply_reader(void)
{
	struct mg_reply_rx r;
	const char *t;
	size_t tl;

	memset(&r, 0, sizeof(r));
	CHECK_EQ(mg_reply_line(&r, "250-mx.example", 14, &t, &tl), MG_REPLY_MORE);
	CHECK(tl == 10 && memcmp(t, "mx.example", 10) == 0);
	CHECK_EQ(mg_reply_line(&r, "250 SIZE", 8, &t, &tl), MG_REPLY_DONE);
	CHECK_EQ(r.code, 250);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(mg_reply_line(&r, "220", 3, &t, &tl), MG_REPLY_DONE);
	CHECK_EQ(mg_reply_line(&r, "22", 2, &t, &tl), MG_REPLY_BAD);
	CHECK_EQ(mg_reply_line(&r, "620 x", 5, &t, &tl), MG_REPLY_BAD);
	CHECK_EQ(mg_reply_line(&r, "250x", 4, &t, &tl), MG_REPLY_BAD);
	memset(&r, 0, sizeof(r));
	int rc = MG_REPLY_MORE, i;
	for (i = 0; i < 10000 && rc == MG_REPLY_MORE; i++)
		rc = mg_reply_line(&r, "250-X", 5, &t, &tl);
	CHECK_EQ(rc, MG_REPLY_TOO_LONG);
	CHECK_EQ(i, MG_REPLY_MAX_LINES + 1);
	char big[4000];
	memset(big, 'y', sizeof(big));
	memcpy(big, "250-", 4);
	memset(&r, 0, sizeof(r));
	for (rc = MG_REPLY_MORE, i = 0; i < 10000 && rc == MG_REPLY_MORE; i++)
		rc = mg_reply_line(&r, big, sizeof(big), &t, &tl);
	CHECK_EQ(rc, MG_REPLY_TOO_LONG);
	CHECK(i < MG_REPLY_MAX_LINES);
}

static void stuffing(void)
{
	uint8_t mem[64];
	struct buf_writer w;
	buf_writer_fixed(&w, mem, sizeof(mem));
	CHECK(mg_data_stuff_line(&w, ".", 1) == 0);
	CHECK(mg_data_stuff_line(&w, "a.b", 3) == 0);
	CHECK(mg_data_stuff_line(&w, "..x", 3) == 0);
	mem[w.len] = 0;
	CHECK_S((char *)mem, "..\r\na.b\r\n...x\r\n");
}

UNIT_SUITE(mg_smtp, UNIT_TEST(verbs_and_args), UNIT_TEST(mail_rcpt), UNIT_TEST(address_syntax),
	   UNIT_TEST(replies), UNIT_TEST(data_phase), UNIT_TEST(data_nul), UNIT_TEST(reply_reader), UNIT_TEST(stuffing));
