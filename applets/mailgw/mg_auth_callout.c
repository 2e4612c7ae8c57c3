/* mg_auth_callout.c - recipient callouts (mg_auth.h, probe mode): ask the domain's next
 * hop whether it would take a recipient, the way Postfix's reject_unverified_recipient
 * and Exim's callouts do: EHLO, STARTTLS when offered (opportunistic, not verified, as
 * tls_default = may), MAIL FROM:<>, RCPT TO:<address>, QUIT. No DATA is ever sent.
 * 2xx to RCPT: valid; 5xx: unknown; anything else, a refused greeting, MAIL or EHLO, a
 * failed handshake, silence: the next hop cannot say (temporary). */
#include <string.h>
#include <strings.h>

#include "applets/mailgw/mg_auth.h"

enum { S_GREET = 0, S_EHLO, S_STARTTLS, S_MAIL, S_RCPT };

static void co_ready(struct mg_auth_req *r)
{
	if (r->tls_up) {   /* after STARTTLS: EHLO again (RFC 3207 4.2) */
		mg_auth_printf(r, "EHLO %s\r\n", r->env.helo ? r->env.helo : "localhost");
		r->st = S_EHLO;
		r->rx.code = 0;
	}
}

static void co_line(struct mg_auth_req *r, const char *l, size_t n)
{
	const char *t;
	size_t tl;
	int rc = mg_reply_line(&r->rx, l, n, &t, &tl);

	if (rc < 0) {
		mg_auth_done(r, MG_AUTH_TEMP, "callout %s: %s", r->be.host, rc == MG_REPLY_TOO_LONG ? "reply too long" : "malformed reply");
		return;
	}
	if (r->st == S_EHLO && tl >= 8 && strncasecmp(t, "STARTTLS", 8) == 0 && (tl == 8 || t[8] == ' '))
		r->nentries = 1;   /* STARTTLS offered */
	if (rc != MG_REPLY_DONE)
		return;
	int code = r->rx.code;
	memset(&r->rx, 0, sizeof(r->rx));
	switch (r->st) {
	case S_GREET:
		if (code != 220) {
			mg_auth_done(r, MG_AUTH_TEMP, "callout %s: greeting %d", r->be.host, code);
			return;
		}
		mg_auth_tracef(r, "SMTP greeting received");
		mg_auth_printf(r, "EHLO %s\r\n", r->env.helo ? r->env.helo : "localhost");
		r->st = S_EHLO;
		return;
	case S_EHLO:
		if (code != 250) {
			mg_auth_done(r, MG_AUTH_TEMP, "callout %s: EHLO refused (%d)", r->be.host, code);
			return;
		}
		if (!r->tls_up && r->nentries && r->env.tls) {
			mg_auth_printf(r, "STARTTLS\r\n");
			r->st = S_STARTTLS;
			return;
		}
		mg_auth_printf(r, "MAIL FROM:<>\r\n");
		r->st = S_MAIL;
		return;
	case S_STARTTLS:
		if (code == 220) {
			mg_auth_starttls(r);
			return;
		}
		mg_auth_tracef(r, "STARTTLS refused (%d): going on in plaintext", code);
		mg_auth_printf(r, "MAIL FROM:<>\r\n");
		r->st = S_MAIL;
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
		if (code / 100 == 2)
			mg_auth_done(r, MG_AUTH_OK, "callout %s: RCPT %d", r->be.host, code);
		else if (code / 100 == 5)
			mg_auth_done(r, MG_AUTH_FAIL, "callout %s: RCPT %d", r->be.host, code);
		else
			mg_auth_done(r, MG_AUTH_TEMP, "callout %s: RCPT %d", r->be.host, code);
		return;
	default: return;
	}
}

const struct mg_auth_ops mg_auth_callout_ops = { "callout", co_ready, co_line, NULL };
