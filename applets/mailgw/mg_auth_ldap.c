/* mg_auth_ldap.c - the ldap/ldaps backend (mg_auth.h): LDAPv3 simple binds over TLS.
 *
 *   ldap://  connect, StartTLS (extended operation 1.3.6.1.4.1.1466.20037), handshake
 *   ldaps:// connect, handshake
 *   then     bind as the service account (skipped when ldap_bind_dn is empty), search
 *            the base for the value (RFC 4515-escaped into the filter, sizeLimit 2, no
 *            attributes), bind as the one DN found with the user's password, unbind.
 *
 * Rules: nothing is sent but the StartTLS request before TLS is up (every bind checks
 * r->tls_up); an empty user password is refused here too (RFC 4513 5.1.2: a simple bind
 * with a DN and no password is an "unauthenticated" bind that many servers answer with
 * success); only resultCode success of the user bind is an accept; no entry, several
 * entries or invalidCredentials are a refusal; everything else (service bind refused,
 * search errors, a notice of disconnection, bad BER, wrong message IDs) is temporary.
 * A recipient check (r->probe) stops after the search: an entry is "valid". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/mailgw/mg_auth.h"
#include "applets/mailgw/mg_ldap.h"
#include "applets/mailgw/mg_ldap_ber.h"
#include "core/buf.h"
#include "core/secret.h"
#include "net/conn.h"

#define LDAP_MAX_MSGS 256   /* messages from the server before we give up on it */

enum { S_STARTTLS = 1, S_SVCBIND, S_SEARCH, S_USERBIND };
enum { ID_STARTTLS = 1, ID_SVCBIND, ID_SEARCH, ID_USERBIND, ID_UNBIND };

static const char *scope_name(int s)
{
	return s == MG_LDAP_SCOPE_BASE ? "base" : s == MG_LDAP_SCOPE_ONE ? "one" : "sub";
}

static void send_w(struct mg_auth_req *r, struct buf_writer *w, int rc)
{
	if (rc < 0)
		mg_auth_done(r, MG_AUTH_TEMP, "ldap: cannot encode the request");
	else
		mg_auth_send(r, (const char *)w->p, w->len);
	secret_wipe(w->p, w->cap);
}

static void send_bind(struct mg_auth_req *r, int id, const char *dn, const char *pw)
{
	uint8_t mem[2048];
	struct buf_writer w;

	if (!r->tls_up) {
		mg_auth_done(r, MG_AUTH_TEMP, "refusing to send a password without TLS");
		return;
	}
	buf_writer_fixed(&w, mem, sizeof(mem));
	r->ldap_id = id;
	send_w(r, &w, mg_ldap_enc_bind(&w, id, dn, pw, strlen(pw)));
}

/* The verdict, after an UnbindRequest (flushed before the connection closes). */
static void finish(struct mg_auth_req *r, enum mg_auth_result res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void finish(struct mg_auth_req *r, enum mg_auth_result res, const char *fmt, ...)
{
	uint8_t mem[16];
	struct buf_writer w;
	char t[sizeof(r->detail)];
	va_list ap;

	buf_writer_fixed(&w, mem, sizeof(mem));
	if (mg_ldap_enc_unbind(&w, ID_UNBIND) == 0)
		mg_auth_send(r, (const char *)w.p, w.len);
	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	mg_auth_done(r, res, "%s", t);
}

static void search(struct mg_auth_req *r)
{
	char text[MG_LDAP_FILTER_MAX + 1];
	uint8_t fmem[MG_LDAP_FILTER_MAX], mem[MG_LDAP_FILTER_MAX + 1024];
	struct buf_writer fw, w;
	const char *why;

	if (mg_ldap_build_filter(text, sizeof(text), &r->be, r->login) < 0) {
		mg_auth_done(r, MG_AUTH_FAIL, "ldap: the value does not fit a filter");
		return;
	}
	buf_writer_fixed(&fw, fmem, sizeof(fmem));
	if (mg_ldap_filter_ber(&fw, text, &why) < 0) {
		mg_auth_done(r, MG_AUTH_TEMP, "ldap: filter %s: %s", text, why);
		return;
	}
	mg_auth_tracef(r, "search: base \"%s\" scope %s filter %s", r->be.base, scope_name(r->be.scope), text);
	buf_writer_fixed(&w, mem, sizeof(mem));
	r->st = S_SEARCH;
	r->ldap_id = ID_SEARCH;
	long tl = (long)(r->env.timeout_ms / 1000);
	send_w(r, &w, mg_ldap_enc_search(&w, ID_SEARCH, r->be.base, r->be.scope, fw.p, fw.len, 2, tl > 0 ? (int)tl : 1));
}

static void ldap_ready(struct mg_auth_req *r)
{
	if (!r->tls_up) {   /* ldap:// : StartTLS first */
		uint8_t mem[64];
		struct buf_writer w;
		buf_writer_fixed(&w, mem, sizeof(mem));
		r->st = S_STARTTLS;
		r->ldap_id = ID_STARTTLS;
		mg_auth_tracef(r, "StartTLS requested (extended operation %s)", MG_LDAP_STARTTLS_OID);
		send_w(r, &w, mg_ldap_enc_starttls(&w, ID_STARTTLS));
		return;
	}
	if (!r->probe && !r->pass[0]) {
		mg_auth_done(r, MG_AUTH_FAIL, "ldap: empty password refused (it would be an anonymous bind)");
		return;
	}
	if (r->be.bind_dn[0]) {
		mg_auth_tracef(r, "service bind as \"%s\"", r->be.bind_dn);
		r->st = S_SVCBIND;
		send_bind(r, ID_SVCBIND, r->be.bind_dn, r->be.bind_pw);
		return;
	}
	mg_auth_tracef(r, "no ldap_bind_dn: searching anonymously");
	search(r);
}

static void message(struct mg_auth_req *r, const struct mg_ldap_msg *m)
{
	if (m->id == 0) {   /* unsolicited: a notice of disconnection (RFC 4511 4.4.1) */
		mg_auth_done(r, MG_AUTH_TEMP, "ldap: server notice %s (%d %s)", m->oid[0] ? m->oid : "?", m->code, m->diag);
		return;
	}
	if (m->id != r->ldap_id) {
		mg_auth_done(r, MG_AUTH_TEMP, "ldap: reply to messageID %d, expected %d", m->id, r->ldap_id);
		return;
	}
	switch (r->st) {
	case S_STARTTLS:
		if (m->op != MG_LDAP_EXT_RESP || m->code != 0) {
			mg_auth_done(r, MG_AUTH_TEMP, "ldap %s: StartTLS refused (%d %s)", r->be.host, m->code, m->diag);
			return;
		}
		mg_auth_tracef(r, "StartTLS accepted");
		mg_auth_starttls(r);
		return;
	case S_SVCBIND:
		if (m->op != MG_LDAP_BIND_RESP || m->code != 0) {
			mg_auth_done(r, MG_AUTH_TEMP, "ldap: service bind refused (resultCode %d %s)", m->code, m->diag);
			return;
		}
		mg_auth_tracef(r, "service bind: success");
		search(r);
		return;
	case S_SEARCH:
		if (m->op == MG_LDAP_SEARCH_ENTRY) {
			if (r->nentries++ == 0)
				memcpy(r->dn, m->dn, sizeof(r->dn));
			return;
		}
		if (m->op == MG_LDAP_SEARCH_REF) {
			r->nrefs++;   /* referrals are not followed */
			return;
		}
		if (m->op != MG_LDAP_SEARCH_DONE) {
			mg_auth_done(r, MG_AUTH_TEMP, "ldap: unexpected message (op %d) during the search", m->op);
			return;
		}
		/* 4 = sizeLimitExceeded: more than one entry (we asked for at most 2) */
		if (m->code != 0 && m->code != 4) {
			finish(r, MG_AUTH_TEMP, "ldap: search failed (%s resultCode %d)", m->diag, m->code);
			return;
		}
		if (r->nentries == 0 && r->nrefs) {
			finish(r, MG_AUTH_TEMP, "ldap: the search gave only referrals (not followed)");
			return;
		}
		if (r->nentries == 0) {
			mg_auth_tracef(r, "search result: no entry");
			finish(r, MG_AUTH_FAIL, "ldap: no entry matches");
			return;
		}
		if (r->probe) {   /* a recipient: one entry or several, the address exists */
			mg_auth_tracef(r, "search result: \"%s\"%s", r->dn, r->nentries > 1 || m->code == 4 ? " and more" : "");
			finish(r, MG_AUTH_OK, "ldap: found %s", r->dn);
			return;
		}
		if (r->nentries > 1 || m->code == 4) {
			mg_auth_tracef(r, "search result: more than one entry");
			finish(r, MG_AUTH_FAIL, "ldap: the filter matches several entries");
			return;
		}
		mg_auth_tracef(r, "search result: \"%s\"", r->dn);
		if (!r->dn[0]) {   /* a bind with an empty name is anonymous, whatever the password */
			finish(r, MG_AUTH_TEMP, "ldap: the entry found has an empty DN");
			return;
		}
		mg_auth_tracef(r, "user bind as \"%s\"", r->dn);
		r->st = S_USERBIND;
		send_bind(r, ID_USERBIND, r->dn, r->pass);
		return;
	case S_USERBIND:
		if (m->op != MG_LDAP_BIND_RESP) {
			mg_auth_done(r, MG_AUTH_TEMP, "ldap: unexpected message (op %d) after the bind", m->op);
			return;
		}
		mg_auth_tracef(r, "user bind: resultCode %d%s%s", m->code, m->diag[0] ? " " : "", m->diag);
		if (m->code == 0)
			finish(r, MG_AUTH_OK, "ldap: bind as %s ok", r->dn);
		else if (m->code == 49)   /* invalidCredentials */
			finish(r, MG_AUTH_FAIL, "ldap: bind as %s: invalid credentials", r->dn);
		else
			finish(r, MG_AUTH_TEMP, "ldap: bind as %s: resultCode %d", r->dn, m->code);
		return;
	default:
		mg_auth_done(r, MG_AUTH_TEMP, "ldap: unexpected message");
		return;
	}
}

static void ldap_data(struct mg_auth_req *r)
{
	struct net_conn *c = r->c;

	while (r->c == c && r->result < 0) {
		uint8_t head[8];
		size_t have = net_conn_input_len(c);
		size_t hn = net_conn_peek(c, head, have < sizeof(head) ? have : sizeof(head));
		long total = mg_ldap_frame(head, hn, MG_LDAP_MSG_MAX);
		if (total < 0) {
			mg_auth_done(r, MG_AUTH_TEMP, "ldap %s: not an LDAP message (or over %d bytes)", r->be.host,
				     MG_LDAP_MSG_MAX);
			return;
		}
		if (total == 0 || have < (size_t)total)
			return;
		if (++r->nlines > LDAP_MAX_MSGS) {
			mg_auth_done(r, MG_AUTH_TEMP, "ldap %s: too many messages", r->be.host);
			return;
		}
		uint8_t *buf = malloc((size_t)total);
		if (!buf) {
			mg_auth_done(r, MG_AUTH_TEMP, "out of memory");
			return;
		}
		net_conn_read(c, buf, (size_t)total);
		struct mg_ldap_msg *m = malloc(sizeof(*m));
		const char *why = "out of memory";
		if (!m || mg_ldap_decode(buf, (size_t)total, m, &why) < 0)
			mg_auth_done(r, MG_AUTH_TEMP, "ldap %s: %s", r->be.host, why);
		else
			message(r, m);
		free(m);
		free(buf);
	}
}

const struct mg_auth_ops mg_auth_ldap_ops = { "ldap", ldap_ready, NULL, ldap_data };
