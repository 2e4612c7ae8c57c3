/* mg_auth.c - the driver of a backend check (mg_auth.h) and the Dovecot steps.
 *
 * Rules kept here:
 * - Nothing blocks: connect, TLS and every exchange run from the loop; a deadline
 *   (auth_timeout) turns silence into MG_AUTH_TEMP.
 * - A backend that is down, slow, or speaks nonsense is MG_AUTH_TEMP (454), never an
 *   accept: only the backend's explicit success line gives MG_AUTH_OK.
 * - The password leaves only inside TLS, or over a UNIX socket / loopback to Dovecot
 *   (the config refuses anything else unless auth_allow_plaintext says so).
 * - The request wipes its copy of the password when it ends. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/mailgw/mg_auth.h"
#include "applets/mailgw/mg_conf.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/loop.h"

#define AUTH_MAX_LINES 256   /* lines from a backend before we give up on it */

static void req_free(struct mg_auth_req *r)
{
	if (r->c)
		net_conn_close(r->c);
	if (r->timer)
		net_timer_free(r->timer);
	secret_wipe(r, sizeof(*r));
	free(r);
}

void mg_auth_cancel(struct mg_auth_req *r)
{
	if (r)
		req_free(r);
}

void mg_auth_tracef(struct mg_auth_req *r, const char *fmt, ...)
{
	char t[600];
	va_list ap;

	if (!r->trace)
		return;
	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	r->trace(r->arg, t);
}

/* The verdict is delivered from a timer, so the caller's callback never runs inside
 * a net/ callback of this request's connection. */
static void deliver(void *arg)
{
	struct mg_auth_req *r = arg;
	mg_auth_cb cb = r->cb;
	void *cbarg = r->arg;
	enum mg_auth_result res = r->result < 0 ? MG_AUTH_TEMP : (enum mg_auth_result)r->result;
	char detail[sizeof(r->detail)];

	if (r->result < 0) {
		str_copy(r->detail, "backend timed out", sizeof(r->detail));
		mg_auth_tracef(r, "timeout: no answer within %lu ms", r->env.timeout_ms);
	}
	str_copy(detail, r->detail, sizeof(detail));
	req_free(r);
	cb(cbarg, res, detail);
}

void mg_auth_done(struct mg_auth_req *r, enum mg_auth_result res, const char *fmt, ...)
{
	va_list ap;

	if (r->result >= 0)
		return;
	r->result = (int)res;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	static const char *const words[2][3] = { { "accepted", "refused", "temporary failure" },
						  { "valid", "unknown", "unavailable" } };
	mg_auth_tracef(r, "result: %s (%s)", words[r->probe != 0][res], r->detail);
	if (r->c) {
		net_conn_close(r->c);   /* flushes a logout line written before */
		r->c = NULL;
	}
	net_timer_arm(r->timer, 0);
}

void mg_auth_send(struct mg_auth_req *r, const char *data, size_t len)
{
	if (r->c)
		net_conn_write(r->c, data, len);
}

void mg_auth_printf(struct mg_auth_req *r, const char *fmt, ...)
{
	char t[1200];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(t))
		mg_auth_send(r, t, (size_t)n);
	secret_wipe(t, sizeof(t));
}

void mg_auth_starttls(struct mg_auth_req *r)
{
	mg_auth_tracef(r, "TLS handshake with %s (%s)", r->be.host,
		       r->env.verify ? "verifying the chain and the name" : "NOT verifying the certificate");
	if (net_conn_start_tls(r->c, r->env.tls, r->be.host) < 0)
		mg_auth_done(r, MG_AUTH_TEMP, "cannot start TLS with %s", r->be.host);
}

static void on_read(struct net_conn *c, void *arg)
{
	struct mg_auth_req *r = arg;

	if (r->ops->data) {
		if (r->c == c && r->result < 0)
			r->ops->data(r);
		return;
	}
	while (r->c == c && r->result < 0) {
		char *l;
		size_t n;
		int rc = net_conn_readline(c, &l, &n);
		if (rc == 0)
			return;
		if (rc < 0 || ++r->nlines > AUTH_MAX_LINES) {
			if (rc > 0)
				free(l);
			mg_auth_done(r, MG_AUTH_TEMP, "%s %s: %s", r->ops->name, r->be.host,
				     rc < 0 ? "line too long" : "too many lines");
			return;
		}
		r->ops->line(r, l, n);
		secret_wipe(l, n);
		free(l);
	}
}

static int implicit(enum mg_auth_kind k)
{
	return k == MG_AB_IMAPS || k == MG_AB_POP3S || k == MG_AB_SMTPS || k == MG_AB_LDAPS;
}

void mg_auth_trace_tls(struct mg_auth_req *r)
{
	struct cry_tls_info ti;

	if (r->c && net_conn_tls_info(r->c, &ti) == 0) {
		mg_auth_tracef(r, "TLS %s %s", ti.version, ti.cipher);
		mg_auth_tracef(r, "certificate: subject %s, issuer %s, valid %s to %s", ti.peer_subject,
			       ti.peer_issuer, ti.peer_not_before, ti.peer_not_after);
		mg_auth_tracef(r, "verification: %s", ti.verify_result);
	}
}

static void on_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct mg_auth_req *r = arg;

	switch (ev) {
	case NET_EV_CONNECTED:
		mg_auth_tracef(r, "connected to %s", r->be.kind == MG_AB_DOVECOT_UNIX ? r->be.host : net_conn_peer(c));
		if (implicit(r->be.kind)) {
			mg_auth_starttls(r);
			return;
		}
		r->ops->ready(r);
		return;
	case NET_EV_TLS_READY:
		r->tls_up = 1;
		mg_auth_trace_tls(r);
		r->nlines = 0;
		r->ops->ready(r);
		on_read(c, r);
		return;
	default:
		r->c = NULL;
		mg_auth_done(r, MG_AUTH_TEMP, "%s %s: %s", r->ops->name, r->be.uri,
			     ev == NET_EV_EOF ? "connection closed" : net_conn_error(c));
		net_conn_free(c);
		return;
	}
}

static const struct mg_auth_ops *ops_for(enum mg_auth_kind k)
{
	switch (k) {
	case MG_AB_DOVECOT_UNIX:
	case MG_AB_DOVECOT_TCP: return &mg_auth_dovecot_ops;
	case MG_AB_IMAPS:
	case MG_AB_IMAP: return &mg_auth_imap_ops;
	case MG_AB_POP3S:
	case MG_AB_POP3: return &mg_auth_pop3_ops;
	case MG_AB_LDAPS:
	case MG_AB_LDAP: return &mg_auth_ldap_ops;
	default: return &mg_auth_smtp_ops;   /* smtp, smtps, callout */
	}
}

static struct mg_auth_req *start(const struct mg_auth_env *env, const struct mg_auth_backend *be, int probe,
				 const char *login, const char *pass, const char *rip, const char *lip,
				 mg_auth_cb cb, mg_auth_trace trace, void *arg)
{
	static const struct net_conn_cbs cbs = { on_read, NULL, on_event };
	struct mg_auth_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->env = *env;
	r->be = *be;
	r->ops = ops_for(be->kind);
	r->probe = probe;
	r->result = -1;
	r->cb = cb;
	r->trace = trace;
	r->arg = arg;
	str_copy(r->login, login, sizeof(r->login));
	str_copy(r->pass, pass, sizeof(r->pass));
	str_copy(r->rip, rip ? rip : "", sizeof(r->rip));
	str_copy(r->lip, lip ? lip : "", sizeof(r->lip));
	if (!(r->timer = net_timer_new(env->loop, deliver, r))) {
		req_free(r);
		return NULL;
	}
	net_timer_arm(r->timer, env->timeout_ms);
	mg_auth_tracef(r, "backend: %s (%s) for %s", be->uri, mg_auth_kind_name(be->kind),
		       strcmp(be->domain, "*") == 0 ? "every other domain" : be->domain);
	if (be->kind == MG_AB_DOVECOT_UNIX)
		r->c = net_connect_unix(env->loop, be->host, env->timeout_ms, &cbs, r);
	else
		r->c = net_connect(env->loop, be->host, be->port, env->timeout_ms, &cbs, r);
	if (!r->c) {
		req_free(r);
		return NULL;
	}
	net_conn_set_max_line(r->c, MG_DOVECOT_LINE_MAX + 2);
	return r;
}

struct mg_auth_req *mg_auth_start(const struct mg_auth_env *env, const struct mg_auth_backend *be,
				  const char *login, const char *pass, const char *rip, const char *lip,
				  mg_auth_cb cb, mg_auth_trace trace, void *arg)
{
	return start(env, be, 0, login, pass, rip, lip, cb, trace, arg);
}

struct mg_auth_req *mg_auth_probe_start(const struct mg_auth_env *env, const struct mg_auth_backend *be,
					const char *addr, mg_auth_cb cb, mg_auth_trace trace, void *arg)
{
	return start(env, be, 1, addr, "", "", "", cb, trace, arg);
}

struct cry_tls_ctx *mg_auth_tls_new(const struct mg_conf *c, char *err, size_t errlen)
{
	struct cry_tls_conf tc = { 0 };

	tc.verify = c->auth_tls_verify ? CRY_VERIFY_PEER : CRY_VERIFY_NONE;
	tc.ca_file = c->auth_ca_file;
	return cry_tls_ctx_new(&tc, err, errlen);
}

/* ---- Dovecot ---- */

static void dov_ready(struct mg_auth_req *r)
{
	char t[64];
	int n = mg_dovecot_hello(t, sizeof(t), (long)getpid());
	if (n > 0)
		mg_auth_send(r, t, (size_t)n);
	r->dov.id = 1;
}

static void dov_line(struct mg_auth_req *r, const char *l, size_t n)
{
	char req[MG_DOVECOT_LINE_MAX];
	int rc = mg_dovecot_line(&r->dov, l, n);

	switch (rc) {
	case MG_DOV_READY:
		mg_auth_tracef(r, "Dovecot handshake done (PLAIN offered)");
		if ((n = (size_t)mg_dovecot_auth(req, sizeof(req), r->dov.id, r->login, r->pass, r->rip, r->lip)) ==
		    (size_t)-1) {
			mg_auth_done(r, MG_AUTH_TEMP, "cannot format the Dovecot request");
			return;
		}
		mg_auth_send(r, req, n);
		secret_wipe(req, sizeof(req));
		mg_auth_tracef(r, "AUTH PLAIN sent for %s", r->login);
		return;
	case MG_DOV_OK: mg_auth_done(r, MG_AUTH_OK, "dovecot: OK"); return;
	case MG_DOV_FAIL:
		mg_auth_done(r, MG_AUTH_FAIL, "dovecot: FAIL%s%s", r->dov.why[0] ? " " : "", r->dov.why);
		return;
	case MG_DOV_TEMP: mg_auth_done(r, MG_AUTH_TEMP, "dovecot: temporary failure %s", r->dov.why); return;
	case MG_DOV_BAD: mg_auth_done(r, MG_AUTH_TEMP, "dovecot: protocol error: %s", r->dov.why); return;
	default: return;
	}
}

const struct mg_auth_ops mg_auth_dovecot_ops = { "dovecot", dov_ready, dov_line, NULL };
