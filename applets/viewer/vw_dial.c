/* vw_dial.c - the relay's paths, TCP, HTTPS, HTTP, tried in turn on the loop (see
 * vw_dial.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_dial.h"
#include "applets/viewer/vw_loop.h"
#include "core/log.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/http_head.h"
#include "net/loop.h"
#include "net/proxy.h"

#define HEAD_MAX 4096
#define STEP_MS 5000   /* each web step: connect, proxy, TLS and the Upgrade answer */

enum { STEP_TCP, STEP_HTTPS, STEP_HTTP, STEP_END };

struct vw_dial {
	const struct vw_relay_opts *o;
	char host[256];
	int port, step;
	struct net_conn *c;
	struct cry_tls_ctx *tls;
	int proxied, tunnel;      /* through a proxy; its tunnel is open */
	char proxy[300];          /* "H:P" of that proxy */
	int tls_started;          /* the handshake began (and has not finished) */
	int upgrading;            /* the Upgrade request went out */
	char e[3][1000];           /* why each step failed */
	vw_dial_cb cb;
	void *arg;
	struct net_timer *next;   /* the next step runs from the loop */
};

static void step_start(struct vw_dial *d);

static void close_step(struct vw_dial *d)
{
	if (d->c)
		net_conn_free(d->c);
	d->c = NULL;
	if (d->tls)
		cry_tls_ctx_free(d->tls);
	d->tls = NULL;
	d->proxied = d->tunnel = d->upgrading = d->tls_started = 0;
}

static void finish(struct vw_dial *d, const char *path)
{
	char err[3100];
	struct net_conn *c = path ? d->c : NULL;
	struct cry_tls_ctx *tls = path ? d->tls : NULL;

	if (!path) {
		/* a step that did not run (a redirect keeps one path kind) is not named */
		snprintf(err, sizeof(err), "cannot reach the relay: %s%s%s%s%s%s", d->e[0][0] ? "TCP: " : "", d->e[0],
			 d->e[0][0] && d->e[1][0] ? "; " : "", d->e[1], (d->e[0][0] || d->e[1][0]) && d->e[2][0] ? "; " : "",
			 d->e[2]);
		close_step(d);
	} else {
		net_conn_set_cbs(c, NULL, NULL); /* the caller sets its own */
		net_conn_set_idle_timeout(c, 0);
		err[0] = '\0';
	}
	d->c = NULL;
	d->tls = NULL;
	d->cb(d->arg, c, tls, path, err);
	vw_dial_cancel(d);
}

/* net/connect.c says "cannot connect to H port P: why"; the viewer's messages name the
 * address as given: "cannot connect to H:P: why". */
static void conn_why(struct vw_dial *d, char *out, size_t cap)
{
	const char *e = d->c ? net_conn_error(d->c) : "";
	const char *why = strstr(e, ": ");

	if (!e[0])
		e = "connection closed";
	if (d->step == STEP_TCP && strncmp(e, "cannot connect to ", 18) == 0 && why)
		snprintf(out, cap, "cannot connect to %s: %s", d->o->server, why + 2);
	else if (d->proxied && !d->tunnel)
		snprintf(out, cap, "proxy %s: %s", d->proxy, e);
	else if (d->tls_started && !d->upgrading && strncmp(e, "TLS", 3) != 0)
		snprintf(out, cap, "TLS: %s", e);
	else
		snprintf(out, cap, "%s", e);
}

static void step_failed(struct vw_dial *d, const char *why)
{
	int web = d->step != STEP_TCP;
	char hp[NET_HOSTPORT_MAX];

	if (web)
		snprintf(d->e[d->step], sizeof(d->e[0]), "%s %s%s%s: %s", d->step == STEP_HTTPS ? "HTTPS" : "HTTP",
			 net_join_hostport(hp, sizeof(hp), d->host, d->step == STEP_HTTPS ? d->o->https_port : d->o->http_port),
			 d->proxied && d->tunnel ? " via proxy " : "", d->proxied && d->tunnel ? d->proxy : "", why);
	else
		snprintf(d->e[0], sizeof(d->e[0]), "%s", why);
	close_step(d);
	d->step++;
	net_timer_arm(d->next, 0); /* not from inside the failing connection's callback */
}

static void send_upgrade(struct vw_dial *d)
{
	int port = d->step == STEP_HTTPS ? d->o->https_port : d->o->http_port;
	char hp[NET_HOSTPORT_MAX];

	d->upgrading = 1;
	if (net_conn_printf(d->c, "GET /sealbox-tunnel HTTP/1.1\r\nHost: %s\r\n"
				  "Upgrade: sealbox-tunnel\r\nConnection: Upgrade\r\n\r\n",
			    net_join_hostport(hp, sizeof(hp), d->host, port)) < 0)
		step_failed(d, "cannot send the upgrade request");
}

/* The Upgrade's answer: its head only, nothing after it is consumed. */
static void on_read(struct net_conn *c, void *arg)
{
	struct vw_dial *d = arg;
	char head[HEAD_MAX + 1], why[400], path[700], hp[NET_HOSTPORT_MAX];
	size_t n;
	long end;
	struct net_http_resphead h;
	int port = d->step == STEP_HTTPS ? d->o->https_port : d->o->http_port;

	if (!d->upgrading)
		return;
	n = net_conn_peek(c, head, HEAD_MAX);
	/* net/http_head.c: the one parser of response heads (fuzzed) */
	end = net_http_resphead_parse(head, n, &h);
	if (end == 0) {
		if (n >= HEAD_MAX)
			step_failed(d, "no upgrade answer (head too long)");
		return;
	}
	if (end < 0) {
		step_failed(d, "no upgrade answer (not HTTP)");
		return;
	}
	if (h.status != 101) {
		snprintf(why, sizeof(why), "refused the upgrade: %s", h.status_line);
		step_failed(d, why);
		return;
	}
	net_conn_drain(c, (size_t)end);
	snprintf(path, sizeof(path), "relay-%s %s%s%s%s", d->step == STEP_HTTPS ? "https" : "http",
		 net_join_hostport(hp, sizeof(hp), d->host, port), d->proxied ? " via proxy " : "", d->proxied ? d->proxy : "",
		 d->step == STEP_HTTPS && d->o->insecure ? " (certificate not checked)" : "");
	finish(d, path);
}

static void on_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct vw_dial *d = arg;
	char why[400];

	(void)c;
	if (ev == NET_EV_CONNECTED) {
		if (d->step == STEP_TCP) {
			char path[300];
			snprintf(path, sizeof(path), "relay-tcp %s", d->o->server);
			finish(d, path);
			return;
		}
		d->tunnel = 1;
		net_conn_set_idle_timeout(d->c, STEP_MS);
		if (d->step == STEP_HTTPS) {
			d->tls_started = 1;
			if (net_conn_start_tls(d->c, d->tls, d->host) < 0) {
				conn_why(d, why, sizeof(why));
				step_failed(d, why);
			}
			return;
		}
		send_upgrade(d);
		return;
	}
	if (ev == NET_EV_TLS_READY) {
		send_upgrade(d);
		return;
	}
	if (d->upgrading && ev != NET_EV_ERROR) {
		step_failed(d, ev == NET_EV_TIMEOUT ? "no upgrade answer (timed out)" : "no upgrade answer (connection closed)");
		return;
	}
	conn_why(d, why, sizeof(why));
	step_failed(d, why);
}

static const struct net_conn_cbs cbs = { on_read, NULL, on_event };

static int web_start(struct vw_dial *d, int tls)
{
	struct net_proxy px;
	const char *which = "";
	int port = tls ? d->o->https_port : d->o->http_port, r;

	if (tls) {
		struct cry_tls_conf conf;
		char e[300];
		memset(&conf, 0, sizeof(conf));
		conf.ca_file = d->o->ca_file;
		conf.verify = d->o->insecure ? CRY_VERIFY_NONE : CRY_VERIFY_PEER;
		if (!(d->tls = cry_tls_ctx_new(&conf, e, sizeof(e)))) {
			step_failed(d, e);
			return -1;
		}
	}
	/* HTTPS: https_proxy; plain HTTP: http_proxy, else https_proxy (often the only one) */
	r = net_proxy_select(&d->o->proxy, d->host, tls, &px, &which);
	if (r < 0) {
		char why[200];
		snprintf(why, sizeof(why), "malformed %s", which);
		step_failed(d, why);
		return -1;
	}
	if (r == 1) {
		d->proxied = 1;
		net_join_hostport(d->proxy, sizeof(d->proxy), px.host, px.port); /* "[v6]:port" too */
		d->c = net_connect_via_proxy(vw_loop_net(), &px, d->host, port, STEP_MS, &cbs, d);
		net_proxy_clear(&px);
	} else {
		d->c = net_connect(vw_loop_net(), d->host, port, STEP_MS, &cbs, d);
	}
	if (!d->c) {
		step_failed(d, "cannot start the connection");
		return -1;
	}
	return 0;
}

static void step_start(struct vw_dial *d)
{
	if (d->step < STEP_END && d->o->paths && !(d->o->paths & (1u << d->step))) {
		d->step++; /* a redirect keeps the path kind it came on (vw_redirect.c) */
		step_start(d);
		return;
	}
	switch (d->step) {
	case STEP_TCP:
		if (!(d->c = net_connect(vw_loop_net(), d->host, d->port, 3000, &cbs, d)))
			step_failed(d, "cannot start the connection");
		return;
	case STEP_HTTPS:
		if (!d->o->https_port) {
			d->step++;
			step_start(d);
			return;
		}
		if (d->o->insecure)
			log_warn("--relay-insecure: the relay's HTTPS certificate is not checked (the SAS still protects the session end to end)");
		web_start(d, 1);
		return;
	case STEP_HTTP:
		if (!d->o->http_port) {
			d->step++;
			step_start(d);
			return;
		}
		web_start(d, 0);
		return;
	default:
		finish(d, NULL);
		return;
	}
}

static void on_next(void *arg)
{
	step_start(arg);
}

struct vw_dial *vw_dial_start(const struct vw_relay_opts *o, vw_dial_cb cb, void *arg,
			      char *err, size_t errlen)
{
	struct vw_dial *d = calloc(1, sizeof(*d));

	if (!d || !vw_loop_net() || !(d->next = net_timer_new(vw_loop_net(), on_next, d))) {
		snprintf(err, errlen, "out of memory");
		free(d);
		return NULL;
	}
	if (net_split_hostport(o->server, d->host, sizeof(d->host), &d->port, 0) < 0 || d->port <= 0) {
		snprintf(err, errlen, "bad address %s (want HOST:PORT)", o->server);
		net_timer_free(d->next);
		free(d);
		return NULL;
	}
	d->o = o;
	d->cb = cb;
	d->arg = arg;
	net_timer_arm(d->next, 0);
	return d;
}

void vw_dial_cancel(struct vw_dial *d)
{
	if (!d)
		return;
	close_step(d);
	net_timer_free(d->next);
	free(d);
}
