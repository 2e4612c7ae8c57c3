/* proxy_conn.c - the HTTP CONNECT exchange. While it runs, the proxy code is the
 * connection's application (c->proxy holds its state and the user's callbacks); once
 * the proxy answers 2xx the user's callbacks take over and NET_EV_CONNECTED fires, with
 * any bytes after the response already waiting as tunnel input.
 *
 * A 407 is answered once: Digest (MD5 or SHA-256, qop=auth) when offered, else Basic.
 * If the proxy keeps the connection open (Content-Length body, no "close") the second
 * request goes on it; otherwise we connect again. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/secret.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "core/str.h"
#include "net/http_auth.h"
#include "net/http_head.h"
#include "net/internal.h"
#include "net/proxy.h"

#define MAX_BODY (64 * 1024)

enum phase { PH_CONNECTING, PH_STATUS, PH_BODY };

struct net_proxy_state {
	struct net_proxy p;
	char target[300];
	struct net_conn_cbs user_cbs;
	void *user_arg;
	enum phase phase;
	int attempt;
	int status;
	char status_line[160];
	long long body_left;
	int conn_close;
	int have_len;
	struct net_http_challenge auth; /* the best challenge we can answer so far */
};

static void proxy_read(struct net_conn *c, void *arg);
static void proxy_event(struct net_conn *c, enum net_event ev, void *arg);
static const struct net_conn_cbs proxy_cbs = { proxy_read, NULL, proxy_event };

void net_proxy_state_free_(struct net_proxy_state *st)
{
	if (!st)
		return;
	net_proxy_clear(&st->p);
	secret_wipe(st, sizeof(*st));
	free(st);
}

/* keeps only printable ASCII of a status line for error messages and logs */
static void clean_copy(char *out, size_t cap, const char *in)
{
	str_printable(out, cap, in, strlen(in));
}

void net_proxy_state_set_user_cbs_(struct net_proxy_state *st, const struct net_conn_cbs *cbs,
				   void *arg)
{
	if (cbs)
		st->user_cbs = *cbs;
	else
		memset(&st->user_cbs, 0, sizeof(st->user_cbs));
	st->user_arg = arg;
}

static int send_request(struct net_conn *c, struct net_proxy_state *st)
{
	char *auth = NULL;
	int r;

	if (st->attempt > 0) {
		const struct net_http_challenge *ch = &st->auth;
		char cnonce[33];
		uint8_t rnd[16];
		if (cry_random(rnd, sizeof(rnd)) < 0 || hex_encode(rnd, sizeof(rnd), cnonce, sizeof(cnonce), 0) < 0)
			return -1;
		auth = net_http_auth_value_new(ch, st->p.user, st->p.pass, "CONNECT", st->target, 1, cnonce);
		if (!auth)
			return -1;
	}
	r = net_conn_printf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%sUser-Agent: sealbox\r\n\r\n",
			    st->target, st->target, auth ? "Proxy-Authorization: " : "",
			    auth ? auth : "", auth ? "\r\n" : "");
	secret_free_str(auth);
	st->phase = PH_STATUS;
	memset(&st->auth, 0, sizeof(st->auth));
	st->conn_close = 0;
	st->have_len = 0;
	st->body_left = 0;
	return r;
}

static void proxy_fail(struct net_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void proxy_fail(struct net_conn *c, const char *fmt, ...)
{
	struct net_proxy_state *st = c->proxy;
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* hand the connection back to the user before telling it */
	c->proxy = NULL;
	net_conn_set_cbs(c, &st->user_cbs, st->user_arg);
	net_proxy_state_free_(st);
	net_conn_fail_(c, NET_EV_ERROR, "proxy: %s", msg);
}

static void tunnel_open(struct net_conn *c)
{
	struct net_proxy_state *st = c->proxy;

	c->proxy = NULL;
	net_conn_set_cbs(c, &st->user_cbs, st->user_arg);
	net_proxy_state_free_(st);
	net_conn_set_max_line(c, 8192);
	net_conn_set_idle_timeout(c, 0);
	if (net_conn_fire_event_(c, NET_EV_CONNECTED) < 0)
		return;
	/* bytes the target already sent behind the proxy's answer */
	if (net_conn_input_len(c))
		net_conn_kick_(c);
}

/* After the 407's headers: answer it, on this connection or a new one. */
static void answer_407(struct net_conn *c, struct net_proxy_state *st)
{
	if (!st->p.user[0]) {
		proxy_fail(c, "proxy requires authentication (%s)", st->status_line);
		return;
	}
	if (st->attempt > 0) {
		proxy_fail(c, "proxy authentication failed (%s)", st->status_line);
		return;
	}
	if (st->auth.scheme == NET_AUTH_NONE) {
		proxy_fail(c, "proxy asks for an authentication scheme we do not speak (%s)", st->status_line);
		return;
	}
	st->attempt = 1;
	if (!st->conn_close && st->have_len) {
		st->phase = PH_BODY;
		if (st->body_left == 0 && send_request(c, st) < 0)
			proxy_fail(c, "cannot send the CONNECT request");
		return;
	}
	/* the proxy closes (or we cannot tell where its body ends): connect again */
	st->phase = PH_CONNECTING;
	if (net_conn_reconnect_(c) < 0)
		proxy_fail(c, "cannot connect to the proxy again");
}

/* The proxy's answer head is complete in the input: act on it (net/http_head.c parses). */
static void on_head(struct net_conn *c, struct net_proxy_state *st)
{
	char head[NET_HTTP_RESP_MAX_HEAD];
	struct net_http_resphead h;
	size_t n = net_conn_peek(c, head, sizeof(head));
	long hl = net_http_resphead_parse(head, n, &h);

	if (hl == 0)
		return;
	if (hl < 0) {
		char first[80];
		const char *nl = memchr(head, '\n', n);
		size_t k = nl ? (size_t)(nl - head) : n;
		if (k >= sizeof(first))
			k = sizeof(first) - 1;
		memcpy(first, head, k);
		first[k] = '\0';
		clean_copy(st->status_line, sizeof(st->status_line), first);
		proxy_fail(c, "not an HTTP answer (or an over-long one): %s", st->status_line);
		return;
	}
	net_conn_drain(c, (size_t)hl);
	st->status = h.status;
	str_copy(st->status_line, h.status_line, sizeof(st->status_line));
	st->auth = h.auth;
	st->conn_close = h.conn_close || h.chunked; /* chunked: where its body ends is not worth finding */
	st->have_len = h.content_length >= 0;
	st->body_left = st->have_len ? h.content_length : 0;
	if (st->have_len && st->body_left > MAX_BODY)
		st->conn_close = 1; /* not worth reading; reconnect instead */
	if (st->status >= 200 && st->status < 300) {
		tunnel_open(c);
	} else if ((st->status == 407 || st->status == 401) && st->attempt > 0) {
		/* some proxies (tinyproxy) say 401 to wrong credentials */
		proxy_fail(c, "proxy authentication failed (%s)", st->status_line);
	} else if (st->status == 407) {
		answer_407(c, st);
	} else {
		proxy_fail(c, "proxy refused CONNECT: %s", st->status_line);
	}
}

static void proxy_read(struct net_conn *c, void *arg)
{
	struct net_proxy_state *st = c->proxy;

	(void)arg;
	while (st && c->proxy == st) {
		if (st->phase == PH_BODY) {
			size_t have = net_conn_input_len(c);
			size_t take = (long long)have < st->body_left ? have : (size_t)st->body_left;
			net_conn_drain(c, take);
			st->body_left -= (long long)take;
			if (st->body_left > 0)
				return;
			if (send_request(c, st) < 0)
				proxy_fail(c, "cannot send the CONNECT request");
			return;
		}
		if (st->phase != PH_STATUS)
			return;
		on_head(c, st);
		/* on after a 407 answered on this connection: its body may be buffered already */
		if (c->proxy != st || st->phase != PH_BODY)
			return;
	}
}

static void proxy_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct net_proxy_state *st = c->proxy;
	char what[600];

	(void)arg;
	if (!st)
		return;
	if (ev == NET_EV_CONNECTED) {
		/* the connect deadline also bounds the proxy's answer */
		net_conn_set_idle_timeout(c, c->timeout_ms);
		if (send_request(c, st) < 0)
			proxy_fail(c, "cannot send the CONNECT request");
		return;
	}
	if (ev == NET_EV_TLS_READY)
		return;
	snprintf(what, sizeof(what), "%.255s port %d: %.255s", st->p.host, st->p.port, net_conn_error(c));
	/* the socket leads to the proxy, not to the target: no last words after a timeout */
	c->timed_out = 0;
	c->proxy = NULL;
	net_conn_set_cbs(c, &st->user_cbs, st->user_arg);
	net_proxy_state_free_(st);
	snprintf(c->err, sizeof(c->err), "proxy %.200s", what);
	net_conn_fire_event_(c, ev == NET_EV_EOF ? NET_EV_ERROR : ev);
}

struct net_conn *net_connect_via_proxy(struct net_loop *l, const struct net_proxy *p,
				       const char *host, int port, unsigned long timeout_ms,
				       const struct net_conn_cbs *cbs, void *arg)
{
	struct net_proxy_state *st;
	struct net_conn *c;

	if (!p || !host || !*host || port <= 0 || port > 65535 || strpbrk(host, " \r\n/@"))
		return NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->p = *p;
	net_join_hostport(st->target, sizeof(st->target), host, port);
	if (cbs)
		st->user_cbs = *cbs;
	st->user_arg = arg;
	c = net_connect(l, p->host, p->port, timeout_ms, &proxy_cbs, NULL);
	if (!c) {
		net_proxy_state_free_(st);
		return NULL;
	}
	c->proxy = st;
	net_conn_set_max_line(c, 8192);
	return c;
}
