/* mg_front.c - POP3/IMAP TLS front ends (RFC 2595, 8314): TLS towards the client,
 * plaintext towards a backend such as Dovecot on loopback.
 *
 * Implicit TLS (995/993): handshake, connect the backend, relay; the backend's IMAP
 * greeting has STARTTLS/LOGINDISABLED removed from its capability list.
 * STLS/STARTTLS ports (110/143): mailgw itself greets and answers CAPA/CAPABILITY,
 * STLS/STARTTLS, QUIT/LOGOUT and NOOP; every login command is refused before TLS
 * (LOGINDISABLED), anything else too. After the handshake the backend is connected
 * and its greeting swallowed (the client already had ours; RFC 2595 sends none after
 * STARTTLS). net_conn_start_tls drops whatever the client pipelined behind the
 * STLS/STARTTLS command, and the pre-TLS loop stops at that command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/mailgw/mg_capa.h"
#include "applets/mailgw/mg_ctx.h"
#include "core/log.h"
#include "core/str.h"
#include "net/conn.h"

#define FRONT_MAX_LINE 2048
#define FRONT_BUFFER (256 * 1024)

enum fphase { F_PRE_TLS, F_TLS_WAIT, F_BACKEND_WAIT, F_GREETING, F_RELAY, F_DONE };

struct front {
	struct mg_live live;    /* first: the list gives back a struct front */
	struct mg_listener *ls;
	struct net_conn *cl;    /* client (TLS) */
	struct net_conn *be;    /* backend (plaintext) */
	enum fphase ph;
	int imap;
	int implicit;
	int errors;
};

static void front_free(struct front *f)
{
	mg_session_close(f->ls->ctx, &f->live);
	free(f);
}

static void front_kill(struct mg_live *l)
{
	struct front *f = (struct front *)l;
	if (f->cl)
		net_conn_free(f->cl);
	if (f->be)
		net_conn_free(f->be);
	front_free(f);
}

/* Closes both sides, flushing what each still has to send. */
static void shut(struct front *f)
{
	f->ph = F_DONE;
	if (f->cl)
		net_conn_close(f->cl);
	if (f->be)
		net_conn_close(f->be);
	front_free(f);
}

static void say(struct front *f, const char *s)
{
	net_conn_write(f->cl, s, strlen(s));
}

static void be_event(struct net_conn *c, enum net_event ev, void *arg);
static void be_read(struct net_conn *c, void *arg);
static void be_drain(struct net_conn *c, void *arg);

static void relay(struct net_conn *from, struct net_conn *to)
{
	if (net_conn_input_len(from) == 0)
		return;
	net_conn_forward(from, to);
	if (net_conn_output_len(to) > FRONT_BUFFER)
		net_conn_pause_read(from);
}

static void connect_backend(struct front *f)
{
	static const struct net_conn_cbs cbs = { be_read, be_drain, be_event };
	char host[256];
	int port;

	if (net_split_hostport(f->ls->lc->backend, host, sizeof(host), &port, f->imap ? 143 : 110) < 0 ||
	    !(f->be = net_connect(f->ls->ctx->loop, host, port, 10000, &cbs, f))) {
		log_warn("front %s: cannot connect to backend %s", net_conn_peer(f->cl), f->ls->lc->backend);
		say(f, f->imap ? "* BYE backend unavailable\r\n" : "-ERR backend unavailable\r\n");
		net_conn_close(f->cl);
		f->cl = NULL;
		front_free(f);
		return;
	}
	net_conn_set_max_line(f->be, FRONT_MAX_LINE);
	f->ph = F_BACKEND_WAIT;
}

/* Pre-TLS dialogue on the STLS/STARTTLS ports. Returns -1 if f is gone. */
static int pre_tls_line(struct front *f, const char *line, size_t len)
{
	char tag[MG_IMAP_TAG_MAX], out[300];
	enum mg_pre_tls a;

	if (!f->imap) {
		a = mg_pop3_pre_tls(line, len);
		switch (a) {
		case MG_PRE_CAPA: say(f, mg_pop3_capa_reply); return 0;
		case MG_PRE_STARTTLS:
			say(f, "+OK Begin TLS negotiation\r\n");
			break;
		case MG_PRE_QUIT: say(f, "+OK Bye\r\n"); shut(f); return -1;
		case MG_PRE_LOGIN:
			say(f, "-ERR [AUTH] Plaintext authentication disallowed, use STLS first\r\n");
			break;
		default: say(f, "-ERR Command not allowed before STLS\r\n"); break;
		}
	} else {
		a = mg_imap_pre_tls(line, len, tag, sizeof(tag));
		switch (a) {
		case MG_PRE_CAPA:
			snprintf(out, sizeof(out), "%s%s OK CAPABILITY completed\r\n", mg_imap_capa_line, tag);
			say(f, out);
			return 0;
		case MG_PRE_STARTTLS:
			snprintf(out, sizeof(out), "%s OK Begin TLS negotiation now\r\n", tag);
			say(f, out);
			break;
		case MG_PRE_QUIT:
			snprintf(out, sizeof(out), "* BYE Logging out\r\n%s OK LOGOUT completed\r\n", tag);
			say(f, out);
			shut(f);
			return -1;
		case MG_PRE_NOOP:
			snprintf(out, sizeof(out), "%s OK NOOP completed\r\n", tag);
			say(f, out);
			return 0;
		case MG_PRE_LOGIN:
			snprintf(out, sizeof(out), "%s NO [PRIVACYREQUIRED] Plaintext login disallowed, use STARTTLS first\r\n", tag);
			say(f, out);
			break;
		case MG_PRE_BAD:
			say(f, "* BAD Invalid tag\r\n");
			break;
		default:
			snprintf(out, sizeof(out), "%s BAD Command not allowed before STARTTLS\r\n", tag);
			say(f, out);
			break;
		}
	}
	if (a == MG_PRE_STARTTLS) {
		f->ph = F_TLS_WAIT;
		if (net_conn_start_tls(f->cl, f->ls->tls, NULL) < 0) {
			log_warn("front %s: %s", net_conn_peer(f->cl), net_conn_error(f->cl));
			shut(f);
			return -1;
		}
		return 1;
	}
	if (++f->errors >= 10) {
		say(f, f->imap ? "* BYE Too many errors\r\n" : "-ERR Too many errors\r\n");
		shut(f);
		return -1;
	}
	return 0;
}

static void cl_read(struct net_conn *c, void *arg)
{
	struct front *f = arg;

	if (f->ph == F_RELAY) {
		relay(c, f->be);
		return;
	}
	while (f->ph == F_PRE_TLS) {
		char *line;
		size_t len;
		int r = net_conn_readline(c, &line, &len);
		if (r == 0)
			return;
		if (r < 0) {
			say(f, f->imap ? "* BYE Line too long\r\n" : "-ERR Line too long\r\n");
			shut(f);
			return;
		}
		r = pre_tls_line(f, line, len);
		free(line);
		if (r != 0)
			return;
	}
	/* F_TLS_WAIT / F_BACKEND_WAIT / F_GREETING: client bytes wait in its input */
}

static void cl_drain(struct net_conn *c, void *arg)
{
	struct front *f = arg;
	if (f->ph == F_RELAY && f->be)
		net_conn_resume_read(f->be);
}

static void cl_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct front *f = arg;

	if (ev == NET_EV_TLS_READY) {
		log_debug("front %s: TLS up", net_conn_peer(c));
		connect_backend(f);
		return;
	}
	if (ev == NET_EV_ERROR || ev == NET_EV_EOF || ev == NET_EV_TIMEOUT) {
		if (ev == NET_EV_ERROR)
			log_info("front %s: %s", net_conn_peer(c), net_conn_error(c));
		net_conn_free(c);
		f->cl = NULL;
		if (f->be)
			net_conn_close(f->be);
		f->be = NULL;
		front_free(f);
	}
}

static void be_read(struct net_conn *c, void *arg)
{
	struct front *f = arg;

	if (f->ph == F_GREETING) {
		char *line, out[FRONT_MAX_LINE + 8];
		size_t len;
		int r = net_conn_readline(c, &line, &len);
		if (r == 0)
			return;
		int ok = r > 0 && (f->imap ? mg_imap_greeting_ok(line, len) : mg_pop3_greeting_ok(line, len));
		if (!ok) {
			log_warn("front %s: backend %s greeting refused", net_conn_peer(f->cl), f->ls->lc->backend);
			free(line);
			say(f, f->imap ? "* BYE backend unavailable\r\n" : "-ERR backend unavailable\r\n");
			shut(f);
			return;
		}
		if (f->implicit) {
			/* forward the greeting, minus capabilities that make no sense over TLS */
			int n = f->imap ? mg_imap_capa_filter(line, len, out, sizeof(out) - 2) : -1;
			if (n < 0) {
				n = (int)(len < sizeof(out) - 2 ? len : sizeof(out) - 3);
				memcpy(out, line, (size_t)n);
			}
			memcpy(out + n, "\r\n", 2);
			net_conn_write(f->cl, out, (size_t)n + 2);
		}
		free(line);
		f->ph = F_RELAY;
		log_info("front %s: %s session relayed to %s", net_conn_peer(f->cl), f->imap ? "IMAP" : "POP3",
			 f->ls->lc->backend);
		relay(f->cl, f->be);
	}
	if (f->ph == F_RELAY)
		relay(c, f->cl);
}

static void be_drain(struct net_conn *c, void *arg)
{
	struct front *f = arg;
	if (f->ph == F_RELAY && f->cl)
		net_conn_resume_read(f->cl);
}

static void be_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct front *f = arg;

	if (ev == NET_EV_CONNECTED) {
		f->ph = F_GREETING;
		return;
	}
	if (ev == NET_EV_ERROR || ev == NET_EV_EOF || ev == NET_EV_TIMEOUT) {
		if (f->ph != F_RELAY) {
			log_warn("front: backend %s: %s", f->ls->lc->backend, net_conn_error(c));
			say(f, f->imap ? "* BYE backend unavailable\r\n" : "-ERR backend unavailable\r\n");
		}
		net_conn_free(c);
		f->be = NULL;
		if (f->cl)
			net_conn_close(f->cl);
		f->cl = NULL;
		front_free(f);
	}
}

void mg_front_accept(struct net_conn *c, void *arg)
{
	static const struct net_conn_cbs cbs = { cl_read, cl_drain, cl_event };
	struct mg_listener *ls = arg;
	struct front *f;

	f = calloc(1, sizeof(*f));
	if (!f) {
		net_conn_free(c);
		return;
	}
	if (mg_session_open(ls, c, &f->live, "front") < 0) {
		free(f);
		return;
	}
	f->ls = ls;
	f->cl = c;
	f->imap = ls->lc->mode == MG_MODE_IMAP || ls->lc->mode == MG_MODE_IMAPS;
	f->implicit = ls->lc->mode == MG_MODE_POP3S || ls->lc->mode == MG_MODE_IMAPS;
	f->live.kill = front_kill;
	net_conn_set_cbs(c, &cbs, f);
	net_conn_set_max_line(c, FRONT_MAX_LINE);
	net_conn_set_idle_timeout(c, 30 * 60 * 1000);
	if (f->implicit) {
		f->ph = F_TLS_WAIT;
		return;
	}
	f->ph = F_PRE_TLS;
	say(f, f->imap ? mg_imap_greeting : mg_pop3_greeting);
}
