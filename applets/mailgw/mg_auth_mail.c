/* mg_auth_mail.c - verifying a password by logging in at a mail server (mg_auth.h):
 * IMAP (AUTHENTICATE PLAIN), POP3 (USER/PASS), SMTP (AUTH PLAIN), each with implicit
 * TLS or after STARTTLS/STLS, then logging out. The password is only ever sent once TLS
 * is up: every step that sends it checks r->tls_up first. Replies are read line by line;
 * only the server's explicit success is an accept, anything unexpected is temporary.
 * The SMTP steps also serve the recipient callouts (see below). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "applets/mailgw/mg_auth.h"
#include "core/encoding.h"
#include "core/secret.h"

enum { S_GREET = 0, S_STARTTLS, S_AUTH, S_CONT, S_USER, S_PASS, S_EHLO, S_MAIL, S_RCPT };

/* base64(\0login\0pass) + CRLF, sent. */
static void send_plain(struct mg_auth_req *r, const char *prefix)
{
	uint8_t raw[2 + MG_SASL_LOGIN_MAX + MG_SASL_PASS_MAX];
	char b64[((sizeof(raw) + 2) / 3) * 4 + 1];
	size_t ul = strlen(r->login), pl = strlen(r->pass);

	if (!r->tls_up) {
		mg_auth_done(r, MG_AUTH_TEMP, "refusing to send a password without TLS");
		return;
	}
	raw[0] = 0;
	memcpy(raw + 1, r->login, ul);
	raw[1 + ul] = 0;
	memcpy(raw + 2 + ul, r->pass, pl);
	if (base64_encode(raw, 2 + ul + pl, b64, sizeof(b64)) == 0)
		mg_auth_printf(r, "%s%s\r\n", prefix, b64);
	secret_wipe(raw, sizeof(raw));
	secret_wipe(b64, sizeof(b64));
}

static int starts(const char *l, size_t n, const char *w)
{
	size_t k = strlen(w);
	return n >= k && strncasecmp(l, w, k) == 0;
}

/* ---- IMAP ---- */

static void imap_ready(struct mg_auth_req *r)
{
	if (r->tls_up && r->st == S_STARTTLS) {   /* after STARTTLS: no new greeting (RFC 2595) */
		mg_auth_printf(r, "a2 AUTHENTICATE PLAIN\r\n");
		r->st = S_CONT;
	}
}

static void imap_line(struct mg_auth_req *r, const char *l, size_t n)
{
	switch (r->st) {
	case S_GREET:
		if (!starts(l, n, "* OK")) {
			mg_auth_done(r, MG_AUTH_TEMP, "imap %s: unexpected greeting", r->be.host);
			return;
		}
		mg_auth_tracef(r, "IMAP greeting received");
		if (!r->tls_up) {
			mg_auth_printf(r, "a1 STARTTLS\r\n");
			r->st = S_STARTTLS;
			return;
		}
		mg_auth_printf(r, "a2 AUTHENTICATE PLAIN\r\n");
		r->st = S_CONT;
		return;
	case S_STARTTLS:
		if (starts(l, n, "a1 OK")) {
			mg_auth_starttls(r);
			return;
		}
		if (starts(l, n, "a1 "))
			mg_auth_done(r, MG_AUTH_TEMP, "imap %s: STARTTLS refused", r->be.host);
		return;
	case S_CONT:
		if (n >= 1 && l[0] == '+') {
			send_plain(r, "");
			r->st = S_AUTH;
			return;
		}
		if (starts(l, n, "a2 "))
			mg_auth_done(r, MG_AUTH_TEMP, "imap %s: AUTHENTICATE PLAIN not accepted", r->be.host);
		return;
	case S_AUTH:
		if (starts(l, n, "a2 OK")) {
			mg_auth_printf(r, "a3 LOGOUT\r\n");
			mg_auth_done(r, MG_AUTH_OK, "imap: login ok");
		} else if (starts(l, n, "a2 NO")) {
			mg_auth_printf(r, "a3 LOGOUT\r\n");
			/* RFC 5530 codes that mean "not now" rather than "wrong password" */
			if (memmem(l, n, "[UNAVAILABLE]", 13) || memmem(l, n, "[SERVERBUG]", 11))
				mg_auth_done(r, MG_AUTH_TEMP, "imap: server unavailable");
			else
				mg_auth_done(r, MG_AUTH_FAIL, "imap: login refused");
		} else if (starts(l, n, "a2 ")) {
			mg_auth_done(r, MG_AUTH_TEMP, "imap: unexpected reply to AUTHENTICATE");
		}
		return;
	default: return;
	}
}

const struct mg_auth_ops mg_auth_imap_ops = { "imap", imap_ready, imap_line, NULL };

/* ---- POP3 ---- */

static void pop3_ready(struct mg_auth_req *r)
{
	if (r->tls_up && r->st == S_STARTTLS) {
		mg_auth_printf(r, "USER %s\r\n", r->login);
		r->st = S_USER;
	}
}

static void pop3_line(struct mg_auth_req *r, const char *l, size_t n)
{
	int ok = starts(l, n, "+OK");

	switch (r->st) {
	case S_GREET:
		if (!ok) {
			mg_auth_done(r, MG_AUTH_TEMP, "pop3 %s: unexpected greeting", r->be.host);
			return;
		}
		mg_auth_tracef(r, "POP3 greeting received");
		if (!r->tls_up) {
			mg_auth_printf(r, "STLS\r\n");
			r->st = S_STARTTLS;
			return;
		}
		mg_auth_printf(r, "USER %s\r\n", r->login);
		r->st = S_USER;
		return;
	case S_STARTTLS:
		if (ok)
			mg_auth_starttls(r);
		else
			mg_auth_done(r, MG_AUTH_TEMP, "pop3 %s: STLS refused", r->be.host);
		return;
	case S_USER:
		if (!ok) {
			mg_auth_printf(r, "QUIT\r\n");
			mg_auth_done(r, MG_AUTH_FAIL, "pop3: USER refused");
			return;
		}
		if (!r->tls_up) {
			mg_auth_done(r, MG_AUTH_TEMP, "refusing to send a password without TLS");
			return;
		}
		mg_auth_printf(r, "PASS %s\r\n", r->pass);
		r->st = S_PASS;
		return;
	case S_PASS:
		mg_auth_printf(r, "QUIT\r\n");
		if (ok)
			mg_auth_done(r, MG_AUTH_OK, "pop3: login ok");
		else if (memmem(l, n, "[SYS/TEMP]", 10) || memmem(l, n, "[IN-USE]", 8))
			mg_auth_done(r, MG_AUTH_TEMP, "pop3: temporary failure");
		else
			mg_auth_done(r, MG_AUTH_FAIL, "pop3: login refused");
		return;
	default: return;
	}
}

const struct mg_auth_ops mg_auth_pop3_ops = { "pop3", pop3_ready, pop3_line, NULL };

/* ---- SMTP: submission with AUTH, or a recipient callout (r->probe) ----
 * A callout asks the domain's next hop whether it would take a recipient, the way
 * Postfix's reject_unverified_recipient and Exim's callouts do: EHLO, STARTTLS when
 * offered (opportunistic, not verified, as tls_default = may), MAIL FROM:<>, RCPT
 * TO:<address>, QUIT; never DATA. 2xx to RCPT: valid; 5xx: unknown; anything else, a
 * refused greeting, EHLO or MAIL, a failed handshake, silence: temporary. */

static const char *smtp_name(const struct mg_auth_req *r)
{
	return r->probe ? "callout" : "smtp";
}

static void smtp_ehlo(struct mg_auth_req *r)
{
	mg_auth_printf(r, "EHLO %s\r\n", r->env.helo ? r->env.helo : "mailgw");
	r->st = S_EHLO;
	r->nentries = 0;   /* callout: STARTTLS offered in this EHLO reply */
}

static void smtp_ready(struct mg_auth_req *r)
{
	if (r->tls_up && r->st == S_STARTTLS)
		smtp_ehlo(r);   /* RFC 3207 4.2: EHLO again */
	memset(&r->rx, 0, sizeof(r->rx));
}

static void callout_mail(struct mg_auth_req *r)
{
	mg_auth_printf(r, "MAIL FROM:<>\r\n");
	r->st = S_MAIL;
}

static void smtp_line(struct mg_auth_req *r, const char *l, size_t n)
{
	const char *t;
	size_t tl;
	int rc = mg_reply_line(&r->rx, l, n, &t, &tl);

	if (rc < 0) {
		mg_auth_done(r, MG_AUTH_TEMP, "%s %s: %s", smtp_name(r), r->be.host,
			     rc == MG_REPLY_TOO_LONG ? "reply too long" : "malformed reply");
		return;
	}
	if (r->st == S_EHLO && tl >= 8 && strncasecmp(t, "STARTTLS", 8) == 0 && (tl == 8 || t[8] == ' '))
		r->nentries = 1;
	if (rc == MG_REPLY_MORE)
		return;
	int code = r->rx.code;
	memset(&r->rx, 0, sizeof(r->rx));
	switch (r->st) {
	case S_GREET:
		if (code != 220) {
			mg_auth_done(r, MG_AUTH_TEMP, "%s %s: greeting %d", smtp_name(r), r->be.host, code);
			return;
		}
		mg_auth_tracef(r, "SMTP greeting received");
		smtp_ehlo(r);
		return;
	case S_EHLO:
		if (code != 250) {
			mg_auth_done(r, MG_AUTH_TEMP, "%s %s: EHLO refused (%d)", smtp_name(r), r->be.host, code);
			return;
		}
		if (!r->tls_up && (!r->probe || (r->nentries && r->env.tls))) {
			mg_auth_printf(r, "STARTTLS\r\n");
			r->st = S_STARTTLS;
			return;
		}
		if (r->probe) {
			callout_mail(r);
			return;
		}
		send_plain(r, "AUTH PLAIN ");
		r->st = S_AUTH;
		return;
	case S_STARTTLS:
		if (code == 220) {
			mg_auth_starttls(r);
		} else if (r->probe) {
			mg_auth_tracef(r, "STARTTLS refused (%d): going on in plaintext", code);
			callout_mail(r);
		} else {
			mg_auth_done(r, MG_AUTH_TEMP, "smtp %s: STARTTLS refused (%d)", r->be.host, code);
		}
		return;
	case S_AUTH:
		mg_auth_printf(r, "QUIT\r\n");
		if (code == 235)
			mg_auth_done(r, MG_AUTH_OK, "smtp: 235");
		else if (code == 535)
			mg_auth_done(r, MG_AUTH_FAIL, "smtp: 535");
		else
			mg_auth_done(r, MG_AUTH_TEMP, "smtp: AUTH answered %d", code);
		return;
	case S_MAIL:
		if (code != 250) {
			mg_auth_printf(r, "QUIT\r\n");
			mg_auth_done(r, MG_AUTH_TEMP, "callout %s: MAIL FROM:<> answered %d", r->be.host, code);
			return;
		}
		mg_auth_printf(r, "RCPT TO:<%s>\r\n", r->login);
		r->st = S_RCPT;
		return;
	case S_RCPT:
		mg_auth_printf(r, "QUIT\r\n");
		mg_auth_tracef(r, "RCPT TO:<%s> answered %d", r->login, code);
		mg_auth_done(r, code / 100 == 2 ? MG_AUTH_OK : code / 100 == 5 ? MG_AUTH_FAIL : MG_AUTH_TEMP,
			     "callout %s: RCPT %d", r->be.host, code);
		return;
	default: return;
	}
}

const struct mg_auth_ops mg_auth_smtp_ops = { "smtp", smtp_ready, smtp_line, NULL };
