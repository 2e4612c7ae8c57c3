/* mg_smtpd_auth.c - SMTP AUTH in the server session (RFC 4954): PLAIN and LOGIN, after
 * TLS only, checked at the backend of the login's domain (mg_auth.h), with the
 * brute-force counters and the positive cache of mg_authmem.h.
 *
 * Replies: 538 5.7.11 before TLS, 503 5.5.1 inside a transaction or when already
 * authenticated, 535 5.7.8 for wrong credentials (delayed past auth_fail_delay_after),
 * 454 4.7.0 when the backend cannot say, or while this client or login is locked out.
 * The log names user, method and backend; the password is wiped as soon as the check
 * is started and never logged. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "applets/mailgw/mg_auth.h"
#include "applets/mailgw/mg_authmem.h"
#include "applets/mailgw/mg_smtpd.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "net/conn.h"
#include "net/loop.h"

#define reply mg_smtpd_reply

static long long now_s(void)
{
	return clock_ms() / 1000;
}

static struct mg_authmem_limits limits(const struct mg_conf *c)
{
	struct mg_authmem_limits l = { c->auth_fail_delay_after, c->auth_fail_max, c->auth_fail_lockout,
				       c->auth_cache_time };
	return l;
}

int mg_smtpd_auth_offered(struct sess *s)
{
	return mg_conf_listener_auth(&s->ctx->conf, s->ls->lc);
}

static void end_exchange(struct sess *s)
{
	if (s->sasl) {
		mg_sasl_wipe(s->sasl);
		free(s->sasl);
		s->sasl = NULL;
	}
	net_conn_set_max_line(s->c, MG_CMD_LINE_MAX);
}

/* Back to commands, and on with whatever the client pipelined. Always from a timer,
 * never from inside the command loop that started the check: a verdict can come at
 * once (cache, lockout), and a pipelined QUIT read here would free the session under
 * that loop. */
static void resume_cb(void *arg)
{
	struct sess *s = arg;
	if (s->auth_535) {
		s->auth_535 = 0;
		reply(s, 535, "5.7.8", "Authentication credentials invalid");
	}
	s->phase = PH_CMD;
	mg_smtpd_arm_idle(s);
	mg_smtpd_on_read(s->c, s);
}

static void resume(struct sess *s, unsigned long ms)
{
	s->phase = PH_AUTH_WAIT;
	if (!s->adelay && !(s->adelay = net_timer_new(s->ctx->loop, resume_cb, s))) {
		reply(s, 421, "4.3.0", "Out of memory");
		return;   /* the idle timer ends the session */
	}
	net_timer_arm(s->adelay, ms);
}

static void verdict(void *arg, enum mg_auth_result r, const char *detail)
{
	struct sess *s = arg;
	struct mg_ctx *ctx = s->ctx;
	struct mg_authmem_limits l = limits(&ctx->conf);
	const char *ip = net_conn_peer_ip(s->c);
	const char *login = s->sasl->login;

	s->areq = NULL;
	if (r == MG_AUTH_OK) {
		mg_authmem_success(ctx->authmem, &l, ip, login, s->sasl->pass, now_s());
		str_copy(s->auth_user, login, sizeof(s->auth_user));
		log_info("smtpd %s: AUTH ok user=%s method=%s backend=%s (%s)", net_conn_peer(s->c), login,
			 s->auth_mech, s->auth_backend, detail);
		end_exchange(s);
		reply(s, 235, "2.7.0", "Authentication successful");
		resume(s, 0);
		return;
	}
	if (r == MG_AUTH_TEMP) {
		log_warn("smtpd %s: AUTH user=%s method=%s backend=%s: temporary failure (%s)", net_conn_peer(s->c),
			 login, s->auth_mech, s->auth_backend, detail);
		end_exchange(s);
		reply(s, 454, "4.7.0", "Temporary authentication failure");
		resume(s, 0);
		return;
	}
	int st = mg_authmem_check(ctx->authmem, &l, ip, login, now_s());
	mg_authmem_failed(ctx->authmem, &l, ip, login, now_s());
	log_info("smtpd %s: AUTH failed user=%s method=%s backend=%s (%s)", net_conn_peer(s->c), login,
		 s->auth_mech, s->auth_backend, detail);
	end_exchange(s);
	/* Past the threshold the answer comes late (on a timer: the loop goes on). */
	s->auth_535 = 1;
	resume(s, st != MG_AUTHMEM_OK ? (unsigned long)ctx->conf.auth_fail_delay * 1000 : 0);
}

static void verify(struct sess *s)
{
	struct mg_ctx *ctx = s->ctx;
	struct mg_authmem_limits l = limits(&ctx->conf);
	const char *ip = net_conn_peer_ip(s->c);
	const struct mg_auth_backend *be = mg_auth_table_find(&ctx->conf.auth_table, s->sasl->login);

	s->phase = PH_AUTH_WAIT;
	if (mg_authmem_check(ctx->authmem, &l, ip, s->sasl->login, now_s()) == MG_AUTHMEM_LOCKED) {
		log_warn("smtpd %s: AUTH user=%s refused: too many failures (client or login locked out)",
			 net_conn_peer(s->c), s->sasl->login);
		end_exchange(s);
		reply(s, 454, "4.7.0", "Too many failed authentication attempts, try again later");
		resume(s, 0);
		return;
	}
	if (!be) {
		str_copy(s->auth_backend, "none", sizeof(s->auth_backend));
		verdict(s, MG_AUTH_FAIL, "no auth_backend for this domain");
		return;
	}
	str_copy(s->auth_backend, be->uri, sizeof(s->auth_backend));
	if (mg_authmem_cached(ctx->authmem, s->sasl->login, s->sasl->pass, now_s())) {
		verdict(s, MG_AUTH_OK, "cached");
		return;
	}
	struct mg_auth_env env = { ctx->loop, ctx->auth_tls, ctx->conf.auth_tls_verify,
				   (unsigned long)ctx->conf.auth_timeout * 1000, NULL };
	s->areq = mg_auth_start(&env, be, s->sasl->login, s->sasl->pass, ip, net_conn_local_ip(s->c), verdict,
				NULL, s);
	if (!s->areq)
		verdict(s, MG_AUTH_TEMP, "cannot start the backend check");
}

static void step_result(struct sess *s, int rc)
{
	if (rc == MG_SASL_CHALLENGE) {
		char t[80];
		str_fmt(t, sizeof(t), "334 %s\r\n", s->sasl->challenge);
		net_conn_write(s->c, t, strlen(t));
		s->phase = PH_AUTH;
		net_conn_set_max_line(s->c, 2 * MG_SASL_LINE_MAX);
		return;
	}
	if (rc == MG_SASL_DONE) {
		verify(s);
		return;
	}
	reply(s, s->sasl->code, s->sasl->enh, s->sasl->text);
	if (!s->sasl->cancelled)
		log_info("smtpd %s: AUTH %s: %d %s", net_conn_peer(s->c), s->auth_mech, s->sasl->code, s->sasl->text);
	end_exchange(s);
	s->phase = PH_CMD;
}

void mg_smtpd_auth_cmd(struct sess *s, const char *arg, size_t len)
{
	struct mg_authmem_limits l = limits(&s->ctx->conf);

	if (!mg_smtpd_auth_offered(s)) {
		reply(s, 502, "5.5.1", "AUTH not supported");
		return;
	}
	if (!mg_smtpd_is_tls(s)) {
		reply(s, 538, "5.7.11", "Encryption required for requested authentication mechanism");
		return;
	}
	if (s->helo != 2) {
		reply(s, 503, "5.5.1", "Send EHLO first");
		return;
	}
	if (s->auth_user[0]) {
		reply(s, 503, "5.5.1", "Already authenticated");
		return;
	}
	if (s->have_mail) {
		reply(s, 503, "5.5.1", "AUTH not permitted during a mail transaction");
		return;
	}
	if (mg_authmem_check(s->ctx->authmem, &l, net_conn_peer_ip(s->c), NULL, now_s()) == MG_AUTHMEM_LOCKED) {
		reply(s, 454, "4.7.0", "Too many failed authentication attempts, try again later");
		return;
	}
	if (!(s->sasl = malloc(sizeof(*s->sasl)))) {
		reply(s, 454, "4.7.0", "Temporary authentication failure");
		return;
	}
	int rc = mg_sasl_start(s->sasl, arg, len);
	s->auth_mech = s->sasl->mech == MG_SASL_LOGIN ? "LOGIN" : "PLAIN";
	step_result(s, rc);
}

void mg_smtpd_auth_line(struct sess *s, const char *line, size_t len)
{
	step_result(s, mg_sasl_step(s->sasl, line, len));
}

static int sender_owned(const char *login, const char *from)
{
	if (strcasecmp(login, from) == 0)
		return 1;
	/* a login without a domain owns that local part in any of our domains */
	const char *at = strrchr(from, '@');
	return !strchr(login, '@') && at && (size_t)(at - from) == strlen(login) &&
	       strncasecmp(login, from, strlen(login)) == 0;
}

int mg_smtpd_auth_mail_check(struct sess *s, const char *from, const char **enh, const char **text)
{
	const struct mg_conf *c = &s->ctx->conf;

	if (!s->auth_user[0]) {
		if (s->ls->lc->mode == MG_MODE_SUBMISSION && mg_smtpd_auth_offered(s) &&
		    !mg_cidr_list_match(&c->relay_nets, net_conn_peer_ip(s->c))) {
			*enh = "5.7.0";
			*text = "Authentication required";
			return 530;
		}
		return 0;
	}
	if (c->sender_login == 1 && !sender_owned(s->auth_user, from)) {
		log_info("smtpd %s: user=%s may not send as <%s>", net_conn_peer(s->c), s->auth_user, from);
		*enh = "5.7.1";
		*text = "Sender address rejected: not owned by the authenticated user";
		return 553;
	}
	return 0;
}

void mg_smtpd_auth_free(struct sess *s)
{
	if (s->areq) {
		mg_auth_cancel(s->areq);
		s->areq = NULL;
	}
	if (s->adelay) {
		net_timer_free(s->adelay);
		s->adelay = NULL;
	}
	if (s->sasl) {
		mg_sasl_wipe(s->sasl);
		free(s->sasl);
		s->sasl = NULL;
	}
}
