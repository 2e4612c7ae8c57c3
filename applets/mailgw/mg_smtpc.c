/* mg_smtpc.c - the SMTP client of one delivery (RFC 5321, 3207).
 *
 * Outbound TLS by policy level (mg_policy.h):
 *   none     never STARTTLS
 *   may      STARTTLS when offered, unless the TLS memory says this next hop failed
 *            the handshake recently; "not offered" and "handshake failed" are both
 *            remembered for tls_memory_time. A failed handshake is retried at once in
 *            plaintext on a new connection (Postfix/OpenSMTPD behaviour).
 *   encrypt  STARTTLS required, certificate not checked; never falls back
 *   verify   STARTTLS required, chain to the CA bundle and host name checked
 * The memory is neither read nor written for encrypt/verify (spec B.9).
 *
 * A recipient is marked SENT and the envelope saved the moment the final 250 arrives,
 * before anything else happens, so a crash after that point cannot deliver it twice.
 * Then the session is parked in the pool (mg_connpool.h) instead of QUIT, and the next
 * delivery for the same domain and first hop continues it with RSET. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "applets/mailgw/mg_commit.h"
#include "applets/mailgw/mg_connpool.h"
#include "applets/mailgw/mg_deliver.h"
#include "applets/mailgw/mg_smtp.h"
#include "core/log.h"
#include "core/str.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/loop.h"

enum st { C_CONNECT, C_GREET, C_EHLO, C_HELO, C_STARTTLS, C_TLS, C_EHLO2, C_MAIL, C_RCPT,
	  C_DATA, C_BODY, C_DOT, C_QUIT, C_RSET };

struct mg_smtpc {
	struct mg_delivery *d;
	struct net_conn *c;
	enum st st;
	enum mg_tls_level level;
	int no_tls;            /* plaintext retry after a failed opportunistic handshake */
	int tls_up;
	int reused;            /* session taken from the pool (RSET sent) */
	int offers_tls, offers_8bit, offers_size;
	size_t rcpt_pos;       /* next recipient to send RCPT for */
	int *accepted;         /* per recipient of d: 1 = RCPT accepted */
	size_t naccepted;
	/* reply being read */
	int code;
	char text[400];
	/* body streaming */
	int fd;
	int bol;               /* at the beginning of a line */
	int finished;
	struct mg_reply_rx rx; /* the reply being read (bounded: mg_smtp.h) */
	struct net_timer *done_t;
};

static void finish(struct mg_smtpc *s);
static int next_hop(struct mg_smtpc *s);
static int park(struct mg_smtpc *s);
static void fresh_connection(struct mg_smtpc *s);

static void set_err(struct mg_smtpc *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct mg_smtpc *s, const char *fmt, ...)
{
	char t[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	mg_sanitize(s->d->error, sizeof(s->d->error), t, strlen(t));
}

/* Every recipient of the delivery not yet decided gets this temporary error. */
static void defer_all(struct mg_smtpc *s, const char *why)
{
	struct mg_env *e = s->d->env;
	for (size_t i = 0; i < s->d->n; i++) {
		struct mg_rcpt *r = &e->rcpt[s->d->idx[i]];
		if (r->state == MG_RCPT_PENDING)
			mg_sanitize(r->error, sizeof(r->error), why, strlen(why));
	}
	if (!s->d->error[0])
		mg_sanitize(s->d->error, sizeof(s->d->error), why, strlen(why));
}

static void fail_rcpt(struct mg_smtpc *s, size_t i, int code, const char *text)
{
	struct mg_rcpt *r = &s->d->env->rcpt[s->d->idx[i]];
	char t[300];
	snprintf(t, sizeof(t), "%d %s (from %s)", code, text, s->d->host);
	mg_sanitize(r->error, sizeof(r->error), t, strlen(t));
	if (code >= 500)
		r->state = MG_RCPT_FAILED;
}

static void send_line(struct mg_smtpc *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_line(struct mg_smtpc *s, const char *fmt, ...)
{
	char line[700];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(line))
		net_conn_write(s->c, line, (size_t)n);
}

static void send_ehlo(struct mg_smtpc *s, enum st next)
{
	s->offers_tls = s->offers_8bit = s->offers_size = 0;
	send_line(s, "EHLO %s\r\n", s->d->ctx->hostname);
	s->st = next;
}

static void quit(struct mg_smtpc *s)
{
	send_line(s, "QUIT\r\n");
	s->st = C_QUIT;
	finish(s);
}

static long long now_s(void)
{
	return (long long)time(NULL);
}

static void remember(struct mg_smtpc *s, enum mg_tlsmem_state st, const char *detail)
{
	struct mg_ctx *ctx = s->d->ctx;
	if (s->level != MG_TLS_MAY || ctx->conf.tls_memory_time <= 0)
		return;
	mg_tlsmem_set(&ctx->tlsmem, s->d->hop, st, now_s() + ctx->conf.tls_memory_time, detail);
	mg_tlsmem_save(&ctx->tlsmem, ctx->tlsmem_path, now_s());
	log_info("deliver %s: %s: remembering '%s' for %lds", s->d->env->id, s->d->hop,
		 mg_tlsmem_state_name(st), ctx->conf.tls_memory_time);
}

static void start_mail(struct mg_smtpc *s)
{
	char params[64] = "";
	const struct mg_env *e = s->d->env;

	if (s->offers_size)
		snprintf(params, sizeof(params), " SIZE=%lld", e->size);
	if (s->offers_8bit && e->body == MG_BODY_8BITMIME)
		strncat(params, " BODY=8BITMIME", sizeof(params) - strlen(params) - 1);
	send_line(s, "MAIL FROM:<%s>%s\r\n", e->from, params);
	s->st = C_MAIL;
}

static void after_ehlo(struct mg_smtpc *s)
{
	const struct mg_tlsmem_entry *me;
	int want_tls = 0;

	if (s->tls_up || s->level == MG_TLS_NONE || s->no_tls) {
		start_mail(s);
		return;
	}
	if (s->level >= MG_TLS_ENCRYPT) {
		if (!s->offers_tls) {
			char t[300];
			snprintf(t, sizeof(t), "TLS required (%s) but %s does not offer STARTTLS",
				 mg_tls_level_name(s->level), s->d->host);
			defer_all(s, t);
			log_warn("deliver %s: %s", s->d->env->id, t);
			quit(s);
			return;
		}
		want_tls = 1;
	} else {
		enum mg_tlsmem_state m = mg_tlsmem_get(&s->d->ctx->tlsmem, s->d->hop, now_s(), &me);
		if (!s->offers_tls) {
			remember(s, MG_TLSMEM_NOT_OFFERED, "STARTTLS not offered");
		} else if (m == MG_TLSMEM_HANDSHAKE_FAILED) {
			log_info("deliver %s: %s: skipping STARTTLS, handshake failed recently (%s)",
				 s->d->env->id, s->d->hop, me ? me->detail : "");
		} else {
			if (m == MG_TLSMEM_NOT_OFFERED)
				mg_tlsmem_forget(&s->d->ctx->tlsmem, s->d->hop);
			want_tls = 1;
		}
	}
	if (want_tls) {
		send_line(s, "STARTTLS\r\n");
		s->st = C_STARTTLS;
		return;
	}
	start_mail(s);
}

static void ehlo_keyword(struct mg_smtpc *s, const char *kw)
{
	if (str_casecmp_prefix(kw, "STARTTLS") && (kw[8] == '\0' || kw[8] == ' '))
		s->offers_tls = 1;
	else if (str_casecmp_prefix(kw, "8BITMIME"))
		s->offers_8bit = 1;
	else if (str_casecmp_prefix(kw, "SIZE") && (kw[4] == '\0' || kw[4] == ' '))
		s->offers_size = 1;
}

/* Streams the message file with dot-stuffing until the output is full. */
static void pump_body(struct mg_smtpc *s)
{
	uint8_t in[32768], out[65600];

	while (s->st == C_BODY && net_conn_output_len(s->c) < 256 * 1024) {
		ssize_t n = read(s->fd, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			defer_all(s, "local error reading the queue file");
			net_conn_free(s->c);
			s->c = NULL;
			finish(s);
			return;
		}
		if (n == 0) {
			if (!s->bol)
				net_conn_write(s->c, "\r\n", 2);
			net_conn_write(s->c, ".\r\n", 3);
			close(s->fd);
			s->fd = -1;
			s->st = C_DOT;
			return;
		}
		size_t o = 0;
		for (ssize_t i = 0; i < n; i++) {
			if (s->bol && in[i] == '.')
				out[o++] = '.';
			out[o++] = in[i];
			s->bol = in[i] == '\n';
		}
		net_conn_write(s->c, out, o);
	}
}

static void next_rcpt(struct mg_smtpc *s)
{
	while (s->rcpt_pos < s->d->n) {
		const struct mg_rcpt *r = &s->d->env->rcpt[s->d->idx[s->rcpt_pos]];
		if (r->state == MG_RCPT_PENDING) {
			send_line(s, "RCPT TO:<%s>\r\n", r->addr);
			s->st = C_RCPT;
			return;
		}
		s->rcpt_pos++;
	}
	if (s->naccepted == 0) {
		set_err(s, "no recipient accepted by %s", s->d->host);
		quit(s);
		return;
	}
	send_line(s, "DATA\r\n");
	s->st = C_DATA;
}

static void delivered(struct mg_smtpc *s)
{
	struct mg_env *e = s->d->env;
	for (size_t i = 0; i < s->d->n; i++)
		if (s->accepted[i]) {
			struct mg_rcpt *r = &e->rcpt[s->d->idx[i]];
			r->state = MG_RCPT_SENT;
			str_fmt(r->error, sizeof(r->error), "delivered to %s", s->d->host);
			s->d->sent++;
		}
	/* Recorded before anything else: a crash now must not send it again. When this
	 * finished the message (every recipient sent or bounced: no DSN owed), removing
	 * the envelope is that record: env/ID is unlinked at once (so a killed daemon
	 * never sends it again) and made durable by the next group commit's one fsync of
	 * env/, shared with the other messages of that loop pass (mg_commit.h), instead
	 * of rewriting env/ID (file fsync + rename + directory fsync) and then removing
	 * it (another directory fsync). msg/ID goes only after that fsync, so a crash
	 * leaves at most msg/ID without an envelope, which start-up removes. A power loss
	 * before the fsync brings the pending envelope back and the message is sent
	 * again: the unavoidable window of RFC 1047, longer by one loop pass. */
	if (mg_env_done(e)) {
		if (mg_commit_remove(s->d->ctx, e->id) == 0 ||
		    mg_spool_remove(s->d->ctx->conf.spool, e->id) == 0)
			s->d->removed = 1;
		else
			log_err("deliver %s: cannot remove the envelope: %s", e->id, strerror(errno));
	} else if (mg_env_save(s->d->ctx->conf.spool, e) < 0) {
		log_err("deliver %s: cannot update the envelope: %s", e->id, strerror(errno));
	}
	for (size_t i = 0; i < s->d->n; i++)
		if (s->accepted[i])
			log_info("deliver %s: to=<%s> relay=%s status=sent (%d %s) tls=%s", e->id,
				 e->rcpt[s->d->idx[i]].addr, s->d->hop, s->code, s->text, s->d->tls);
}

/* One complete reply in s->code / s->text. */
static void on_reply(struct mg_smtpc *s)
{
	int c = s->code;

	switch (s->st) {
	case C_GREET:
		if (c != 220) {
			set_err(s, "greeting from %s: %d %s", s->d->host, c, s->text);
			defer_all(s, s->d->error);
			if (s->d->hop_i + 1 < s->d->nhops) {
				send_line(s, "QUIT\r\n");
				net_conn_close(s->c);
				s->c = NULL;
				if (next_hop(s) == 0)
					return;
			}
			quit(s);
			return;
		}
		send_ehlo(s, C_EHLO);
		return;
	case C_EHLO:
	case C_EHLO2:
		if (c == 250) {
			after_ehlo(s);
			return;
		}
		if (s->st == C_EHLO2) {
			set_err(s, "EHLO after STARTTLS refused by %s: %s", s->d->host, s->text);
			defer_all(s, s->d->error);
			quit(s);
			return;
		}
		send_line(s, "HELO %s\r\n", s->d->ctx->hostname);
		s->st = C_HELO;
		return;
	case C_HELO:
		if (c != 250) {
			set_err(s, "HELO refused by %s: %s", s->d->host, s->text);
			defer_all(s, s->d->error);
			quit(s);
			return;
		}
		after_ehlo(s);
		return;
	case C_STARTTLS:
		if (c != 220) {
			if (s->level >= MG_TLS_ENCRYPT) {
				set_err(s, "STARTTLS refused by %s: %s", s->d->host, s->text);
				defer_all(s, s->d->error);
				quit(s);
				return;
			}
			remember(s, MG_TLSMEM_HANDSHAKE_FAILED, "STARTTLS refused");
			start_mail(s);
			return;
		}
		s->st = C_TLS;
		if (net_conn_start_tls(s->c, s->level == MG_TLS_VERIFY ? s->d->ctx->client_tls_verify
									: s->d->ctx->client_tls,
				       s->d->host) < 0) {
			defer_all(s, "cannot start TLS");
			quit(s);
		}
		return;
	case C_RSET:
		if (c == 250) {
			start_mail(s);
			return;
		}
		log_info("deliver %s: %s: RSET on a reused session refused (%d), new connection",
			 s->d->env->id, s->d->hop, c);
		fresh_connection(s);
		return;
	case C_MAIL:
		if (c / 100 != 2) {
			for (size_t i = 0; i < s->d->n; i++)
				fail_rcpt(s, i, c, s->text);
			set_err(s, "MAIL FROM refused: %s", s->text);
			log_info("deliver %s: relay=%s MAIL refused: %d %s", s->d->env->id, s->d->hop, c, s->text);
			quit(s);
			return;
		}
		s->rcpt_pos = 0;
		next_rcpt(s);
		return;
	case C_RCPT:
		if (c / 100 == 2) {
			s->accepted[s->rcpt_pos] = 1;
			s->naccepted++;
		} else {
			fail_rcpt(s, s->rcpt_pos, c, s->text);
			log_info("deliver %s: to=<%s> relay=%s status=%s (%d %s)", s->d->env->id,
				 s->d->env->rcpt[s->d->idx[s->rcpt_pos]].addr, s->d->hop,
				 c >= 500 ? "failed" : "deferred", c, s->text);
		}
		s->rcpt_pos++;
		next_rcpt(s);
		return;
	case C_DATA:
		if (c != 354) {
			for (size_t i = 0; i < s->d->n; i++)
				if (s->accepted[i])
					fail_rcpt(s, i, c, s->text);
			quit(s);
			return;
		}
		{
			char p[512];
			if (mg_spool_msg_path(s->d->ctx->conf.spool, s->d->env->id, p, sizeof(p)) < 0 ||
			    (s->fd = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
				defer_all(s, "local error: queue file missing");
				net_conn_free(s->c);
				s->c = NULL;
				finish(s);
				return;
			}
		}
		s->bol = 1;
		s->st = C_BODY;
		pump_body(s);
		return;
	case C_DOT:
		if (c / 100 == 2) {
			delivered(s);
			if (park(s) == 0)
				return;
		} else {
			for (size_t i = 0; i < s->d->n; i++)
				if (s->accepted[i])
					fail_rcpt(s, i, c, s->text);
			log_info("deliver %s: relay=%s message refused: %d %s", s->d->env->id, s->d->hop, c, s->text);
		}
		quit(s);
		return;
	default:
		return;
	}
}

static void on_read(struct net_conn *c, void *arg)
{
	struct mg_smtpc *s = arg;

	while (!s->finished && s->c == c) {
		char *line;
		size_t len;
		int r = net_conn_readline(c, &line, &len);
		if (r == 0)
			return;
		const char *text;
		size_t tl;
		int rr = r < 0 ? MG_REPLY_BAD : mg_reply_line(&s->rx, line, len, &text, &tl);
		if (rr < 0) {
			free(line);
			if (rr == MG_REPLY_TOO_LONG)
				log_warn("deliver %s: %s: reply longer than %d lines or %d bytes, connection closed",
					 s->d->env->id, s->d->hop, MG_REPLY_MAX_LINES, MG_REPLY_MAX_BYTES);
			defer_all(s, rr == MG_REPLY_TOO_LONG ? "protocol error: reply too long"
							     : "protocol error: malformed reply");
			net_conn_free(s->c);
			s->c = NULL;
			finish(s);
			return;
		}
		/* EHLO: the first line is the server's name, then one keyword per line. The
		 * line ends at len (no NUL inside is looked at past tl). */
		char kw[128];
		mg_sanitize(kw, sizeof(kw), text, tl);
		if ((s->st == C_EHLO || s->st == C_EHLO2) && s->rx.nlines > 1)
			ehlo_keyword(s, kw);
		if (s->rx.nlines == 1)
			mg_sanitize(s->text, sizeof(s->text), text, tl);
		s->code = s->rx.code;
		free(line);
		if (rr == MG_REPLY_MORE)
			continue;
		on_reply(s);
		s->text[0] = '\0';
		s->code = 0;
		memset(&s->rx, 0, sizeof(s->rx));
		if (s->st == C_TLS)
			return;   /* anything buffered before the handshake is dropped by net/ */
	}
}

static void on_drain(struct net_conn *c, void *arg)
{
	struct mg_smtpc *s = arg;
	if (s->st == C_BODY)
		pump_body(s);
}

static int reconnect(struct mg_smtpc *s);

/* Tries the next next hop (MX) on a fresh connection; 0 if one is under way. The
 * failed connection must already be gone (s->c NULL or freed by the caller). */
static int next_hop(struct mg_smtpc *s)
{
	while (s->d->hop_i + 1 < s->d->nhops) {
		s->d->hop_i++;
		if (s->c) {
			net_conn_free(s->c);
			s->c = NULL;
		}
		s->no_tls = 0;
		if (reconnect(s) == 0) {
			log_info("deliver %s: trying next hop %s", s->d->env->id, s->d->hop);
			return 0;
		}
	}
	return -1;
}

static void on_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct mg_smtpc *s = arg;
	struct cry_tls_info ti;
	char t[400];

	switch (ev) {
	case NET_EV_CONNECTED:
		s->st = C_GREET;
		log_debug("deliver %s: connected to %s (%s)", s->d->env->id, s->d->hop, net_conn_peer(c));
		/* An IP rule of the TLS policy applies once the address is known. */
		s->level = mg_tls_policy_final(&s->d->ctx->conf.tlspol, s->d->domain, net_conn_peer_ip(c));
		return;
	case NET_EV_TLS_READY:
		s->tls_up = 1;
		if (net_conn_tls_info(c, &ti) == 0)
			str_fmt(s->d->tls, sizeof(s->d->tls), "%s %s verify=%s", ti.version, ti.cipher,
				 ti.verified ? "ok" : ti.verify_result);
		log_info("deliver %s: %s: TLS %s (policy %s)", s->d->env->id, s->d->hop, s->d->tls,
			 mg_tls_level_name(s->level));
		if (s->level == MG_TLS_MAY)
			mg_tlsmem_forget(&s->d->ctx->tlsmem, s->d->hop);
		send_ehlo(s, C_EHLO2);
		return;
	case NET_EV_ERROR:
	case NET_EV_EOF:
	case NET_EV_TIMEOUT:
		break;
	default:
		return;
	}
	snprintf(t, sizeof(t), "%s", ev == NET_EV_TIMEOUT ? "timeout" : net_conn_error(c));
	if (s->st == C_RSET) {
		/* the peer dropped the parked session meanwhile: nothing was sent, start over */
		log_debug("deliver %s: %s: reused session lost (%s), new connection", s->d->env->id,
			  s->d->hop, t);
		fresh_connection(s);
		return;
	}
	if (s->st == C_TLS) {
		if (s->level == MG_TLS_MAY && !s->no_tls) {
			log_warn("deliver %s: %s: TLS handshake failed (%s), retrying in plaintext",
				 s->d->env->id, s->d->hop, t);
			remember(s, MG_TLSMEM_HANDSHAKE_FAILED, t);
			net_conn_free(s->c);
			s->c = NULL;
			s->no_tls = 1;
			if (reconnect(s) == 0)
				return;
			finish(s);
			return;
		}
		char w[500];
		str_fmt(w, sizeof(w), "TLS required (%s) but the handshake with %s failed: %s",
			 mg_tls_level_name(s->level), s->d->host, t);
		defer_all(s, w);
		log_warn("deliver %s: %s", s->d->env->id, w);
	} else if (s->st == C_QUIT) {
		/* fine */
	} else {
		char w[500];
		snprintf(w, sizeof(w), "%s: %s", s->st == C_CONNECT ? "connect failed" : "connection lost", t);
		defer_all(s, w);
		log_info("deliver %s: %s: %s", s->d->env->id, s->d->hop, w);
		/* connect failures and refused greetings move on to the next MX */
		if (s->st == C_CONNECT && next_hop(s) == 0)
			return;
	}
	if (s->c)
		net_conn_free(s->c);
	s->c = NULL;
	finish(s);
}

static int reconnect(struct mg_smtpc *s)
{
	static const struct net_conn_cbs cbs = { on_read, on_drain, on_event };
	struct mg_ctx *ctx = s->d->ctx;

	str_copy(s->d->host, s->d->hops[s->d->hop_i], sizeof(s->d->host));
	net_join_hostport(s->d->hop, sizeof(s->d->hop), s->d->host, s->d->port);
	s->st = C_CONNECT;
	s->tls_up = 0;
	s->text[0] = '\0';
	s->code = 0;
	memset(&s->rx, 0, sizeof(s->rx));
	str_copy(s->d->tls, "none", sizeof(s->d->tls));
	s->c = net_connect(ctx->loop, s->d->host, s->d->port, (unsigned long)ctx->conf.connect_timeout * 1000,
			   &cbs, s);
	if (!s->c) {
		set_err(s, "cannot connect to %s", s->d->host);
		defer_all(s, s->d->error);
		return -1;
	}
	net_conn_set_idle_timeout(s->c, (unsigned long)ctx->conf.command_timeout * 1000);
	net_conn_set_max_line(s->c, 4096);
	return 0;
}

static void done_cb(void *arg);

/* Parks the session after a delivered message (instead of QUIT): 0 when parked, the
 * delivery then finishes without the connection. */
static int park(struct mg_smtpc *s)
{
	struct mg_pooled p;

	if (s->d->ctx->stopping || !s->c || net_conn_input_len(s->c) > 0)
		return -1;
	memset(&p, 0, sizeof(p));
	p.c = s->c;
	str_copy(p.domain, s->d->domain, sizeof(p.domain));
	str_copy(p.host, s->d->host, sizeof(p.host));
	p.port = s->d->port;
	p.level = s->level;
	p.tls_up = s->tls_up;
	p.no_tls = s->no_tls;
	p.offers_8bit = s->offers_8bit;
	p.offers_size = s->offers_size;
	str_copy(p.tls, s->d->tls, sizeof(p.tls));
	s->c = NULL;
	s->st = C_QUIT;
	mg_pool_put(s->d->ctx, &p);   /* closes it with QUIT if it cannot be kept */
	finish(s);
	return 0;
}

/* The reused session failed before MAIL: a new connection to the same first hop. */
static void fresh_connection(struct mg_smtpc *s)
{
	if (s->c)
		net_conn_free(s->c);
	s->c = NULL;
	s->reused = 0;
	s->no_tls = 0;
	s->offers_tls = s->offers_8bit = s->offers_size = 0;
	s->level = mg_tls_policy_domain(&s->d->ctx->conf.tlspol, s->d->domain, &(int){ 0 });
	if (reconnect(s) < 0)
		finish(s);
}

/* Takes a parked session for this delivery's first hop: 0 and RSET sent, or -1. */
static int take_pooled(struct mg_smtpc *s)
{
	static const struct net_conn_cbs cbs = { on_read, on_drain, on_event };
	struct mg_delivery *d = s->d;
	struct mg_pooled p;

	if (mg_pool_get(d->ctx, d->domain, d->hops[0], d->port, &p) < 0)
		return -1;
	s->c = p.c;
	net_conn_set_cbs(s->c, &cbs, s);
	net_conn_set_idle_timeout(s->c, (unsigned long)d->ctx->conf.command_timeout * 1000);
	str_copy(d->host, d->hops[0], sizeof(d->host));
	net_join_hostport(d->hop, sizeof(d->hop), d->host, d->port);
	str_copy(d->tls, p.tls, sizeof(d->tls));
	s->level = p.level;
	s->tls_up = p.tls_up;
	s->no_tls = p.no_tls;
	s->offers_8bit = p.offers_8bit;
	s->offers_size = p.offers_size;
	s->reused = 1;
	s->text[0] = '\0';
	s->code = 0;
	memset(&s->rx, 0, sizeof(s->rx));
	log_debug("deliver %s: reusing the session to %s", d->env->id, d->hop);
	send_line(s, "RSET\r\n");
	s->st = C_RSET;
	return 0;
}

/* Completion is always reported from the loop, never from inside a callback chain
 * that the runner might be in. */
static void finish(struct mg_smtpc *s)
{
	if (s->finished)
		return;
	s->finished = 1;
	if (s->c && s->st == C_QUIT) {
		net_conn_close(s->c);   /* flushes QUIT, then closes */
		s->c = NULL;
	}
	s->done_t = net_timer_new(s->d->ctx->loop, done_cb, s);
	if (s->done_t)
		net_timer_arm(s->done_t, 0);
	else
		log_err("deliver: out of memory finishing a delivery");
}

static void done_cb(void *arg)
{
	struct mg_smtpc *s = arg;
	struct mg_delivery *d = s->d;
	struct net_timer *t = s->done_t;

	if (s->c)
		net_conn_free(s->c);
	if (s->fd >= 0)
		close(s->fd);
	free(s->accepted);
	free(s);
	d->c = NULL;
	net_timer_free(t);
	d->done(d);
}

int mg_deliver_start(struct mg_delivery *d)
{
	struct mg_smtpc *s = calloc(1, sizeof(*s));

	d->error[0] = '\0';
	d->sent = 0;
	str_copy(d->tls, "none", sizeof(d->tls));
	if (!s || !(s->accepted = calloc(d->n ? d->n : 1, sizeof(int)))) {
		free(s);
		str_copy(d->error, "out of memory", sizeof(d->error));
		return -1;
	}
	s->d = d;
	s->fd = -1;
	d->hop_i = 0;
	if (d->nhops == 0) {
		free(s->accepted);
		free(s);
		str_copy(d->error, "no next hop", sizeof(d->error));
		return -1;
	}
	{
		int found;
		s->level = mg_tls_policy_domain(&d->ctx->conf.tlspol, d->domain, &found);
	}
	if (take_pooled(s) < 0 && reconnect(s) < 0) {
		free(s->accepted);
		free(s);
		return -1;
	}
	d->c = s;
	return 0;
}

void mg_deliver_cancel(struct mg_delivery *d)
{
	struct mg_smtpc *s = d->c;

	/* The loop is stopping: the recipients stay PENDING on disk. */
	if (!s)
		return;
	if (s->c)
		net_conn_free(s->c);
	if (s->fd >= 0)
		close(s->fd);
	if (s->done_t)
		net_timer_free(s->done_t);
	free(s->accepted);
	free(s);
	d->c = NULL;
}
