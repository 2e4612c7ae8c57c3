/* mg_smtpd_rcpt.c - recipient validation at RCPT (mg_smtpd.h): list files answer at
 * once; ldap and callout sources are asked on the loop through the backend driver
 * (mg_auth.h, probe mode) while the session reads nothing, their answers cached
 * (mg_rcptcache.h).
 *
 * Replies: unknown 550 5.1.1; the source cannot answer 451 4.4.3 (or the recipient is
 * taken with rcpt_unavailable = accept). A session that has had max_errors unknown
 * recipients from lookups gets 451 4.7.1 for every further one that would need a
 * lookup: a client probing for valid addresses costs the LDAP server or the next hop a
 * bounded number of questions per connection. */
#include <string.h>

#include "applets/mailgw/mg_auth.h"
#include "applets/mailgw/mg_rcptcache.h"
#include "applets/mailgw/mg_rcptmap.h"
#include "applets/mailgw/mg_smtpd.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/str.h"
#include "net/conn.h"

#define reply mg_smtpd_reply

static long long now_s(void)
{
	return clock_ms() / 1000;
}

/* The answer for addr: reply, and take it when valid. */
static void verdict(struct sess *s, const char *addr, int v, const char *src, const char *why)
{
	if (why && !why[0])
		why = NULL;
	if (v == MG_RCPT_INVALID) {
		log_info("smtpd %s: unknown recipient <%s> (%s%s%s)", net_conn_peer(s->c), addr, src, why ? ": " : "",
			 why ? why : "");
		reply(s, 550, "5.1.1", "User unknown");
		return;
	}
	if (v == MG_RCPT_UNAVAILABLE) {
		if (s->ctx->conf.rcpt_unavailable == 0) {
			log_warn("smtpd %s: recipient <%s> not checked: %s", net_conn_peer(s->c), addr, why ? why : src);
			reply(s, 451, "4.4.3", "Recipient validation unavailable, try again later");
			return;
		}
		log_warn("smtpd %s: recipient <%s> taken unchecked (rcpt_unavailable = accept): %s", net_conn_peer(s->c),
			 addr, why ? why : src);
	}
	mg_smtpd_rcpt_add(s, addr);
}

static void looked_up(void *arg, enum mg_auth_result r, const char *detail)
{
	struct sess *s = arg;
	const struct mg_conf *c = &s->ctx->conf;
	int v = r == MG_AUTH_OK ? MG_RCPT_VALID : r == MG_AUTH_FAIL ? MG_RCPT_INVALID : MG_RCPT_UNAVAILABLE;

	s->rreq = NULL;
	mg_rcptcache_put(s->ctx->rcache, s->rcpt_src, s->rcpt_addr, v, now_s(),
			 v == MG_RCPT_VALID ? c->rcpt_cache_time : c->rcpt_negative_cache_time);
	log_debug("smtpd %s: <%s> at %s: %s", net_conn_peer(s->c), s->rcpt_addr, s->rcpt_src, detail);
	if (v == MG_RCPT_INVALID)
		s->rcpt_unknown++;
	verdict(s, s->rcpt_addr, v, s->rcpt_src, detail);
	s->phase = PH_CMD;
	mg_smtpd_arm_idle(s);
	mg_smtpd_on_read(s->c, s);   /* on with what the client pipelined */
}

/* The backend to ask for src and addr: an ldap source as written; a callout at the host
 * written, or at the domain's next hop. 0, or -1 (no next hop). */
static int target(const struct mg_conf *c, const struct mg_rcpt_source *src, const char *addr,
		  struct mg_auth_backend *be)
{
	*be = src->be;
	if (src->kind != MG_RS_CALLOUT || !src->route)
		return 0;
	char hop[300];
	mg_conf_nexthop(c, mg_addr_domain(addr), hop, sizeof(hop));
	return hop[0] && net_split_hostport(hop, be->host, sizeof(be->host), &be->port, (int)c->smtp_port) == 0 ? 0 : -1;
}

void mg_smtpd_rcpt_check(struct sess *s, const char *addr)
{
	struct mg_ctx *ctx = s->ctx;
	const struct mg_conf *c = &ctx->conf;
	const struct mg_rcpt_source *src;
	int v = mg_rcpt_check(&c->rcpt_table, addr, &src);

	if (v != MG_RCPT_LOOKUP) {
		verdict(s, addr, v, src ? src->uri : "", src ? src->why : NULL);
		return;
	}
	int cached = mg_rcptcache_get(ctx->rcache, src->uri, addr, now_s());
	if (cached >= 0) {
		verdict(s, addr, cached, src->uri, "cached");
		return;
	}
	if (s->rcpt_unknown >= c->max_errors) {
		log_info("smtpd %s: <%s> not looked up: %d unknown recipients in this session", net_conn_peer(s->c), addr,
			 s->rcpt_unknown);
		reply(s, 451, "4.7.1", "Too many unknown recipients, try again later");
		return;
	}
	struct mg_auth_backend be;
	if (target(c, src, addr, &be) < 0) {
		verdict(s, addr, MG_RCPT_UNAVAILABLE, src->uri, "callout: no next hop for this domain");
		return;
	}
	int ldap = src->kind == MG_RS_LDAP;
	struct mg_auth_env env = { ctx->loop, ldap ? ctx->auth_tls : ctx->client_tls, ldap ? c->auth_tls_verify : 0,
				   (unsigned long)c->rcpt_timeout * 1000, ctx->hostname };
	str_copy(s->rcpt_addr, addr, sizeof(s->rcpt_addr));
	str_copy(s->rcpt_src, src->uri, sizeof(s->rcpt_src));
	s->rreq = mg_auth_probe_start(&env, &be, addr, looked_up, NULL, s);
	secret_wipe(&be, sizeof(be));   /* holds the service password */
	if (!s->rreq) {
		verdict(s, addr, MG_RCPT_UNAVAILABLE, src->uri, "cannot start the lookup");
		return;
	}
	s->phase = PH_RCPT_WAIT;
}

void mg_smtpd_rcpt_free(struct sess *s)
{
	if (s->rreq) {
		mg_auth_cancel(s->rreq);
		s->rreq = NULL;
	}
}
