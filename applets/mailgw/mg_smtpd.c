/* mg_smtpd.c - the SMTP server session (RFC 5321, 3207 STARTTLS, 1870 SIZE, 2920
 * PIPELINING, 6152 8BITMIME, 2034 ENHANCEDSTATUSCODES, 1985 ETRN).
 *
 * Rules this file keeps:
 * - After STARTTLS, net_conn_start_tls drops every byte received before the handshake,
 *   and the session forgets everything (HELO, transaction): the client starts over
 *   with EHLO (RFC 3207 4.2). The command loop stops at STARTTLS, so nothing pipelined
 *   behind it is ever executed.
 * - 250 after DATA only once msg/ID and env/ID are fsynced (mg_spool.c).
 * - Peer input never kills the daemon: a bad session gets a reply and is closed. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "applets/mailgw/mg_commit.h"
#include "applets/mailgw/mg_ctx.h"
#include "applets/mailgw/mg_queue.h"
#include "applets/mailgw/mg_smtp.h"
#include "applets/mailgw/mg_smtpd.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/loop.h"

void mg_smtpd_reply(struct sess *s, int code, const char *enh, const char *text)
{
	uint8_t mem[600];
	struct buf_writer w;

	buf_writer_fixed(&w, mem, sizeof(mem));
	if (mg_reply(&w, code, enh, text) == 0)
		net_conn_write(s->c, w.p, w.len);
}

#define reply mg_smtpd_reply

static void reset_tx(struct sess *s)
{
	if (s->w) {
		mg_msg_writer_abort(s->w);
		free(s->w);
		s->w = NULL;
	}
	mg_env_free(&s->env);
	mg_env_init(&s->env);
	s->have_mail = 0;
	s->write_failed = 0;
}

void mg_smtpd_arm_idle(struct sess *s)
{
	long secs = s->phase == PH_DATA ? s->ctx->conf.data_timeout : s->ctx->conf.smtp_timeout;
	if (s->idle)
		net_timer_arm(s->idle, (unsigned long)secs * 1000);
}

static void sess_free(struct sess *s)
{
	mg_commit_cancel(s->ctx, s->creq);
	s->creq = NULL;
	mg_smtpd_auth_free(s);
	mg_smtpd_rcpt_free(s);
	reset_tx(s);
	if (s->idle)
		net_timer_free(s->idle);
	mg_session_close(s->ctx, &s->live);
	free(s);
}

/* Daemon stop: the message in DATA (if any) was never acknowledged; drop it. */
static void sess_kill(struct mg_live *l)
{
	struct sess *s = (struct sess *)l;
	struct net_conn *c = s->c;
	sess_free(s);
	net_conn_free(c);
}

/* Ends the session: pending replies are flushed, then the connection goes. */
static void finish(struct sess *s)
{
	struct net_conn *c = s->c;
	s->phase = PH_DONE;
	sess_free(s);
	net_conn_close(c);
}

static void greet(struct sess *s)
{
	char t[300];
	snprintf(t, sizeof(t), "%s ESMTP mailgw", s->ctx->hostname);
	reply(s, 220, NULL, t);
}

static int tls_required(struct sess *s)
{
	const struct mg_listener_conf *lc = s->ls->lc;
	return lc->mode == MG_MODE_SUBMISSION || lc->require_tls ||
	       mg_cidr_list_match(&s->ctx->conf.tls_nets, net_conn_peer_ip(s->c));
}

int mg_smtpd_is_tls(struct sess *s)
{
	return net_conn_is_tls(s->c);
}

static void do_ehlo(struct sess *s, const struct mg_smtp_cmd *cmd, int esmtp)
{
	char l0[300], size[64];
	const char *lines[8];
	size_t n = 0;

	reset_tx(s);
	s->helo = esmtp ? 2 : 1;
	mg_sanitize(s->helo_name, sizeof(s->helo_name), cmd->arg, strlen(cmd->arg));
	if (!esmtp) {
		reply(s, 250, NULL, s->ctx->hostname);
		return;
	}
	snprintf(l0, sizeof(l0), "%s", s->ctx->hostname);
	snprintf(size, sizeof(size), "SIZE %lld", s->ctx->conf.max_message_size);
	lines[n++] = l0;
	lines[n++] = "PIPELINING";
	lines[n++] = size;
	lines[n++] = "8BITMIME";
	lines[n++] = "ENHANCEDSTATUSCODES";
	if (!mg_smtpd_is_tls(s))
		lines[n++] = "STARTTLS";
	else if (mg_smtpd_auth_offered(s))
		lines[n++] = "AUTH PLAIN LOGIN";   /* RFC 4954: only after TLS (538 before) */
	lines[n++] = "ETRN";
	uint8_t mem[1024];
	struct buf_writer w;
	buf_writer_fixed(&w, mem, sizeof(mem));
	if (mg_reply_lines(&w, 250, NULL, lines, n) == 0)
		net_conn_write(s->c, w.p, w.len);
}

/* Returns 1 when the handshake started (stop reading), -1 if the session is gone. */
static int do_starttls(struct sess *s)
{
	if (mg_smtpd_is_tls(s)) {
		reply(s, 503, "5.5.1", "TLS already active");
		return 0;
	}
	reply(s, 220, "2.0.0", "Ready to start TLS");
	/* Forget everything: RFC 3207 4.2, and the 2011 injection class. */
	reset_tx(s);
	s->helo = 0;
	s->helo_name[0] = '\0';
	s->phase = PH_TLS_WAIT;
	if (net_conn_start_tls(s->c, s->ls->tls, NULL) < 0) {
		log_warn("smtpd %s: STARTTLS failed: %s", net_conn_peer(s->c), net_conn_error(s->c));
		finish(s);
		return -1;
	}
	return 1;
}

static void do_mail(struct sess *s, const struct mg_smtp_cmd *cmd)
{
	if (!s->helo) {
		reply(s, 503, "5.5.1", "Send EHLO or HELO first");
		return;
	}
	if (s->have_mail) {
		reply(s, 503, "5.5.1", "Nested MAIL command");
		return;
	}
	if (!mg_smtpd_is_tls(s) && tls_required(s)) {
		reply(s, 530, "5.7.0", "Must issue a STARTTLS command first");
		return;
	}
	const char *aenh, *atext;
	int acode = mg_smtpd_auth_mail_check(s, cmd->addr, &aenh, &atext);
	if (acode) {
		reply(s, acode, aenh, atext);
		return;
	}
	if (cmd->size > s->ctx->conf.max_message_size) {
		reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size");
		return;
	}
	reset_tx(s);
	str_copy(s->env.from, cmd->addr, sizeof(s->env.from));
	s->env.body = cmd->body;
	s->have_mail = 1;
	reply(s, 250, "2.1.0", "Ok");
}

static void do_rcpt(struct sess *s, const struct mg_smtp_cmd *cmd)
{
	struct mg_relay_policy pol = {
		s->ctx->conf.relay_domains.v, s->ctx->conf.relay_domains.n, &s->ctx->conf.relay_nets,
	};
	enum mg_relay r;

	if (!s->have_mail) {
		reply(s, 503, "5.5.1", "Need MAIL before RCPT");
		return;
	}
	if ((long)s->env.nrcpt >= s->ctx->conf.max_recipients) {
		reply(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	/* RFC 4954 / 6409: an authenticated client may send to any domain. */
	r = s->auth_user[0] ? MG_RELAY_OUTBOUND : mg_relay_check(&pol, net_conn_peer_ip(s->c), cmd->addr);
	if (r == MG_RELAY_DENY) {
		log_info("smtpd %s: relay denied: <%s> -> <%s>", net_conn_peer(s->c), s->env.from, cmd->addr);
		reply(s, 550, "5.7.1", "Relay access denied");
		return;
	}
	if (r == MG_RELAY_INBOUND || mg_conf_is_etrn_domain(&s->ctx->conf, mg_addr_domain(cmd->addr))) {
		mg_smtpd_rcpt_check(s, cmd->addr);
		return;
	}
	mg_smtpd_rcpt_add(s, cmd->addr);
}

void mg_smtpd_rcpt_add(struct sess *s, const char *addr)
{
	if (mg_env_add_rcpt(&s->env, addr) < 0) {
		reply(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	reply(s, 250, "2.1.5", "Ok");
}

static int write_received(struct sess *s)
{
	char hdr[1400], date[64], peer[64];
	time_t now = time(NULL);
	struct tm tm;
	struct cry_tls_info ti;
	const char *proto;
	char tlsc[500] = "";

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	mg_sanitize(peer, sizeof(peer), net_conn_peer_ip(s->c), strlen(net_conn_peer_ip(s->c)));
	if (mg_smtpd_is_tls(s) && net_conn_tls_info(s->c, &ti) == 0) {
		snprintf(tlsc, sizeof(tlsc), "\r\n\t(using %s with cipher %s)", ti.version, ti.cipher);
		proto = s->helo == 2 ? (s->auth_user[0] ? "ESMTPSA" : "ESMTPS") : "SMTPS";
	} else {
		proto = s->helo == 2 ? (s->auth_user[0] ? "ESMTPA" : "ESMTP") : "SMTP";
	}
	char au[MG_SASL_LOGIN_MAX + 40];
	if (s->auth_user[0] && s->ctx->conf.received_auth_user) {
		char clean[MG_SASL_LOGIN_MAX + 1];
		mg_sanitize(clean, sizeof(clean), s->auth_user, strlen(s->auth_user));
		snprintf(au, sizeof(au), "\r\n\t(Authenticated sender: %s)", clean);
		strncat(tlsc, au, sizeof(tlsc) - strlen(tlsc) - 1);
	}
	/* RFC 5321 4.4 / RFC 3848 "with" keywords; "for" only with a single recipient, so
	 * a message to many does not disclose the others. */
	int n = snprintf(hdr, sizeof(hdr),
			 "Received: from %s ([%s])\r\n\tby %s (mailgw) with %s id %s%s%s%s%s;\r\n\t%s\r\n",
			 s->helo_name, peer, s->ctx->hostname, proto, s->env.id, tlsc,
			 s->env.nrcpt == 1 ? "\r\n\tfor <" : "", s->env.nrcpt == 1 ? s->env.rcpt[0].addr : "",
			 s->env.nrcpt == 1 ? ">" : "", date);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return -1;
	return mg_msg_writer_write(s->w, hdr, (size_t)n);
}

static void do_data(struct sess *s)
{
	if (!s->have_mail) {
		reply(s, 503, "5.5.1", "Need MAIL command");
		return;
	}
	if (s->env.nrcpt == 0) {
		reply(s, 554, "5.5.1", "No valid recipients");
		return;
	}
	if (mg_spool_new_id(s->env.id, sizeof(s->env.id)) < 0 || !(s->w = malloc(sizeof(*s->w))) ||
	    mg_msg_writer_open(s->w, s->ctx->conf.spool, s->env.id) < 0 || write_received(s) < 0) {
		log_err("smtpd: cannot create a queue file in %s", s->ctx->conf.spool);
		free(s->w);
		s->w = NULL;
		reply(s, 451, "4.3.0", "Local error: cannot queue the message");
		return;
	}
	mg_data_init(&s->data, s->ctx->conf.max_message_size, (enum mg_bare_lf)s->ctx->conf.bare_lf);
	s->phase = PH_DATA;
	net_conn_set_max_line(s->c, DATA_MAX_LINE);
	mg_smtpd_arm_idle(s);
	reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

static void do_etrn(struct sess *s, const struct mg_smtp_cmd *cmd)
{
	const char *d = cmd->arg;
	char t[512];

	if (!s->helo) {
		reply(s, 503, "5.5.1", "Send EHLO first");
		return;
	}
	/* "@domain" and "#queue" forms (RFC 1985 5.3): only plain domains are served. */
	if (d[0] == '#' || d[0] == '@' || mg_domain_valid(d, strlen(d)) < 0) {
		reply(s, 459, "4.7.1", "Node not allowed: only plain domain names");
		return;
	}
	if (!mg_cidr_list_match(&s->ctx->conf.etrn_nets, net_conn_peer_ip(s->c)) ||
	    !mg_conf_is_etrn_domain(&s->ctx->conf, d)) {
		snprintf(t, sizeof(t), "%.255s not allowed: not an ETRN domain for this client", d);
		reply(s, 459, "4.7.1", t);
		return;
	}
	int n = mg_runner_etrn(s->ctx, d);
	if (n < 0) {
		snprintf(t, sizeof(t), "Unable to queue messages for node %.255s", d);
		reply(s, 458, "4.3.0", t);
	} else if (n == 0) {
		snprintf(t, sizeof(t), "OK, no messages waiting for node %.255s", d);
		reply(s, 251, "2.0.0", t);
	} else {
		snprintf(t, sizeof(t), "Queuing for node %.255s started (%d messages)", d, n);
		reply(s, 250, "2.0.0", t);
	}
	log_info("smtpd %s: ETRN %s: %d messages", net_conn_peer(s->c), d, n);
}

static void queue_failed(struct sess *s);
static void queued(struct sess *s);

/* The group commit is done: answer, then go on with what the client pipelined. */
static void commit_done(void *arg, int ok)
{
	struct sess *s = arg;

	s->creq = NULL;
	s->phase = PH_CMD;
	if (ok)
		queued(s);
	else
		queue_failed(s);
	mg_smtpd_arm_idle(s);
	mg_smtpd_on_read(s->c, s);
}

static void end_data(struct sess *s)
{
	const char *enh, *text;
	int code = mg_data_verdict(&s->data, &enh, &text);

	s->phase = PH_CMD;
	net_conn_set_max_line(s->c, MG_CMD_LINE_MAX);
	mg_smtpd_arm_idle(s);
	if (code) {
		log_info("smtpd %s: message refused: %d %s %s", net_conn_peer(s->c), code, enh, text);
		reply(s, code, enh, text);
		reset_tx(s);
		return;
	}
	s->env.created = (long long)time(NULL);
	s->env.size = s->w->bytes;
	str_copy(s->env.client, net_conn_peer_ip(s->c), sizeof(s->env.client));
	str_copy(s->env.helo, s->helo_name, sizeof(s->env.helo));
	str_copy(s->env.tls, s->tls_desc[0] ? s->tls_desc : "none", sizeof(s->env.tls));
	for (size_t i = 0; i < s->env.nrcpt; i++)
		if (mg_conf_is_etrn_domain(&s->ctx->conf, mg_addr_domain(s->env.rcpt[i].addr)))
			s->env.hold = 1;
	/* The commit point: message file durable, then its envelope. Only then 250. Done
	 * together with the other messages ending in this loop pass (mg_commit.h); the
	 * session reads no further command until then. */
	if (!s->write_failed) {
		if ((s->creq = mg_commit_add(s->ctx, s->w, &s->env, commit_done, s))) {
			s->w = NULL;   /* the commit's now */
			s->phase = PH_COMMIT;
			return;
		}
	}
	if (s->write_failed || mg_msg_writer_commit(s->w) < 0 || mg_env_save(s->ctx->conf.spool, &s->env) < 0) {
		queue_failed(s);
		return;
	}
	queued(s);
}

static void queue_failed(struct sess *s)
{
	log_err("smtpd: writing %s to the spool failed: the client will retry", s->env.id);
	mg_spool_remove(s->ctx->conf.spool, s->env.id);
	reply(s, 451, "4.3.0", "Local error in processing: not queued");
	reset_tx(s);
}

static void queued(struct sess *s)
{
	char t[200];

	free(s->w);
	s->w = NULL;
	log_info("smtpd %s: queued %s from=<%s> nrcpt=%zu size=%lld tls=%s%s%s", net_conn_peer(s->c),
		 s->env.id, s->env.from, s->env.nrcpt, s->env.size, s->env.tls,
		 s->auth_user[0] ? " auth=" : "", s->auth_user);
	snprintf(t, sizeof(t), "Ok: queued as %s", s->env.id);
	reply(s, 250, "2.0.0", t);
	mg_runner_queued(s->ctx, s->env.id);
	reset_tx(s);
}

static void data_line(struct sess *s, const char *line, size_t len, int had_cr)
{
	const char *out;
	size_t ol;

	if (mg_data_line(&s->data, line, len, had_cr, &out, &ol) == 1) {
		end_data(s);
		return;
	}
	if (out && !s->write_failed &&
	    (mg_msg_writer_write(s->w, out, ol) < 0 || mg_msg_writer_write(s->w, "\r\n", 2) < 0))
		s->write_failed = 1;
}

/* Returns -1 when the session ended (s is gone), 1 to stop reading (STARTTLS), 0 on. */
static int command(struct sess *s, const char *line, size_t len)
{
	struct mg_smtp_cmd *cmd = malloc(sizeof(*cmd));

	if (!cmd) {
		reply(s, 421, "4.3.0", "Out of memory");
		finish(s);
		return -1;
	}
	if (mg_smtp_parse(line, len, cmd) < 0) {
		reply(s, cmd->err_code, cmd->err_enh, cmd->err_text);
		free(cmd);
		if (++s->errors >= s->ctx->conf.max_errors) {
			reply(s, 421, "4.7.0", "Too many errors");
			finish(s);
			return -1;
		}
		return 0;
	}
	int rc = 0;
	switch (cmd->verb) {
	case MG_CMD_EHLO: do_ehlo(s, cmd, 1); break;
	case MG_CMD_HELO: do_ehlo(s, cmd, 0); break;
	case MG_CMD_STARTTLS:
		rc = do_starttls(s);
		break;
	case MG_CMD_MAIL: do_mail(s, cmd); break;
	case MG_CMD_RCPT:
		do_rcpt(s, cmd);
		rc = s->phase == PH_RCPT_WAIT ? 1 : 0;   /* the lookup resumes the session */
		break;
	case MG_CMD_DATA: do_data(s); break;
	case MG_CMD_RSET: reset_tx(s); reply(s, 250, "2.0.0", "Ok"); break;
	case MG_CMD_NOOP: reply(s, 250, "2.0.0", "Ok"); break;
	case MG_CMD_VRFY:
		reply(s, 252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery");
		break;
	case MG_CMD_EXPN: reply(s, 502, "5.5.1", "EXPN not supported"); break;
	case MG_CMD_HELP:
		reply(s, 214, "2.0.0", "Commands: EHLO HELO AUTH MAIL RCPT DATA RSET NOOP QUIT VRFY STARTTLS ETRN HELP");
		break;
	case MG_CMD_ETRN: do_etrn(s, cmd); break;
	case MG_CMD_AUTH:
		mg_smtpd_auth_cmd(s, cmd->arg, strlen(cmd->arg));
		secret_wipe(cmd->arg, sizeof(cmd->arg));   /* may hold an initial response */
		rc = s->phase == PH_AUTH_WAIT ? 1 : 0;
		break;
	case MG_CMD_BDAT: reply(s, 502, "5.5.1", "BDAT not supported"); break;
	case MG_CMD_QUIT:
		reply(s, 221, "2.0.0", "Bye");
		finish(s);
		rc = -1;
		break;
	default: reply(s, 500, "5.5.2", "Command unrecognized"); break;
	}
	free(cmd);
	return rc;
}

void mg_smtpd_on_read(struct net_conn *c, void *arg)
{
	struct sess *s = arg;

	mg_smtpd_arm_idle(s);
	while (s->phase == PH_CMD || s->phase == PH_DATA || s->phase == PH_AUTH) {
		char *line;
		size_t len;
		int cr, r = net_conn_readline_crlf(c, &line, &len, &cr);
		if (r == 0)
			return;
		if (r < 0) {
			if (s->phase == PH_DATA)
				reply(s, 554, "5.6.0", "Line too long, message refused");
			else if (s->phase == PH_AUTH)
				reply(s, 500, "5.5.6", "Authentication Exchange line is too long");
			else
				reply(s, 500, "5.5.2", "Line too long");
			log_info("smtpd %s: line too long, closing", net_conn_peer(c));
			finish(s);
			return;
		}
		if (s->phase == PH_DATA) {
			data_line(s, line, len, cr);
			free(line);
			continue;
		}
		if (s->phase == PH_AUTH) {
			mg_smtpd_auth_line(s, line, len);
			secret_wipe(line, len);
			free(line);
			continue;
		}
		int rc = command(s, line, len);
		if (len >= 4 && strncasecmp(line, "AUTH", 4) == 0)
			secret_wipe(line, len);
		free(line);
		if (rc != 0)
			return;   /* session gone, or STARTTLS: the rest was plaintext, dropped */
	}
}

static void on_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct sess *s = arg;
	struct cry_tls_info ti;

	switch (ev) {
	case NET_EV_TLS_READY:
		if (net_conn_tls_info(c, &ti) == 0) {
			snprintf(s->tls_desc, sizeof(s->tls_desc), "%s %s", ti.version, ti.cipher);
			log_info("smtpd %s: TLS %s %s sni=%s", net_conn_peer(c), ti.version, ti.cipher,
				 ti.sni[0] ? ti.sni : "-");
		}
		s->phase = PH_CMD;
		if (s->implicit) {
			s->implicit = 0;
			greet(s);
		}
		mg_smtpd_on_read(c, s);
		return;
	case NET_EV_TIMEOUT:
		log_info("smtpd %s: timeout", net_conn_peer(c));
		sess_free(s);
		net_conn_free(c);
		return;
	case NET_EV_EOF:
	case NET_EV_ERROR:
		if (s->phase == PH_DATA)
			log_info("smtpd %s: connection lost in DATA, message discarded", net_conn_peer(c));
		else if (ev == NET_EV_ERROR)
			log_info("smtpd %s: %s", net_conn_peer(c), net_conn_error(c));
		else
			log_debug("smtpd %s: the client closed the connection", net_conn_peer(c));
		sess_free(s);
		net_conn_free(c);
		return;
	default:
		return;
	}
}

static void idle_cb(void *arg)
{
	struct sess *s = arg;
	char t[300];

	if (s->phase != PH_TLS_WAIT) {
		snprintf(t, sizeof(t), "%s Error: timeout exceeded", s->ctx->hostname);
		reply(s, 421, "4.4.2", t);
	}
	log_info("smtpd %s: timeout%s", net_conn_peer(s->c), s->phase == PH_DATA ? " in DATA, message discarded" : "");
	finish(s);
}

void mg_smtpd_accept(struct net_conn *c, void *arg)
{
	static const struct net_conn_cbs cbs = { mg_smtpd_on_read, NULL, on_event };
	struct mg_listener *ls = arg;
	struct sess *s;

	if (!(s = calloc(1, sizeof(*s)))) {
		net_conn_free(c);
		return;
	}
	if (mg_session_open(ls, c, &s->live, "smtpd") < 0) {
		free(s);
		return;
	}
	s->ls = ls;
	s->ctx = ls->ctx;
	s->c = c;
	s->live.kill = sess_kill;
	mg_env_init(&s->env);
	net_conn_set_cbs(c, &cbs, s);
	net_conn_set_max_line(c, MG_CMD_LINE_MAX);
	s->idle = net_timer_new(s->ctx->loop, idle_cb, s);
	mg_smtpd_arm_idle(s);
	log_debug("smtpd %s: connect on %s", net_conn_peer(c), ls->lc->name);
	if (ls->lc->mode == MG_MODE_SMTPS) {
		s->implicit = 1;
		s->phase = PH_TLS_WAIT;
		return;
	}
	s->phase = PH_CMD;
	greet(s);
}
