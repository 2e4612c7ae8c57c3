/* vw_redirect.c - the first request to a fleet: the list of relays, REDIRECT followed on
 * the same path kind, a bounded number of hops (vw_redirect.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_redirect.h"
#include "core/tframe.h"
#include "crypto/crypto.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/loop.h"

#define REPLY_MS 10000 /* the relay's answer to the request (it may ask Redis first) */

static int relay_id_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int addr_ok(const char *s)
{
	char host[256];
	int port;
	return strlen(s) < VW_SERVER_LEN && net_split_hostport(s, host, sizeof(host), &port, 0) == 0 &&
	       host[0] && port > 0 && port <= 65535;
}

int vw_redirect_parse(const uint8_t *payload, size_t len, struct vw_redirect *r, char *why,
		      size_t whylen)
{
	static struct tfctl ctl; /* 4 KB: not on the loop's stack */
	static const char *keys[] = { "tcp", "https", "http" };
	char *dst[3];
	const char *v;

	memset(r, 0, sizeof(*r));
	dst[0] = r->tcp;
	dst[1] = r->https;
	dst[2] = r->http;
	if (tfctl_parse(&ctl, payload, len) < 0) {
		snprintf(why, whylen, "malformed REDIRECT");
		return -1;
	}
	v = tfctl_get(&ctl, "relay");
	if (!v || !relay_id_ok(v)) {
		snprintf(why, whylen, "REDIRECT without a valid relay id");
		return -1;
	}
	snprintf(r->relay, sizeof(r->relay), "%s", v);
	for (int i = 0; i < 3; i++) {
		if (!(v = tfctl_get(&ctl, keys[i])))
			continue;
		if (!addr_ok(v)) {
			snprintf(why, whylen, "REDIRECT from relay %s: %s= is not HOST:PORT", r->relay, keys[i]);
			return -1;
		}
		snprintf(dst[i], VW_SERVER_LEN, "%s", v);
	}
	if (!r->tcp[0] && !r->https[0] && !r->http[0]) {
		snprintf(why, whylen, "REDIRECT from relay %s names no address", r->relay);
		return -1;
	}
	v = tfctl_get(&ctl, "reason");
	snprintf(r->reason, sizeof(r->reason), "%s", v && relay_id_ok(v) ? v : "elsewhere");
	return 0;
}

enum { K_TCP, K_HTTPS, K_HTTP };
static const char *const kind_name[] = { "tcp", "https", "http" };

struct vw_hop {
	const struct vw_relay_opts *o;
	struct vw_relay_opts cur;  /* this attempt: o with its own server, ports and path kind */
	char cur_server[VW_SERVER_LEN];
	struct vw_servers list;
	int idx;                   /* the relay of the list being tried */
	int hops;                  /* redirects followed from it */
	int kind;                  /* the path kind of the first connection to it */
	char seen[VW_REDIRECT_MAX + 1][VW_SERVER_LEN + 16]; /* "relay-KIND ADDR" dialled */
	uint8_t *req;
	size_t reqlen;
	const char *who;
	struct vw_dial *dial;
	struct net_conn *nc;
	struct cry_tls_ctx *tls;
	char path[700];
	char err[3000];            /* why each relay failed */
	vw_dial_cb cb;
	void *arg;
	struct net_timer *next;
	int redirected;            /* h->cur is a redirect's target, not the list's entry */
};

static void close_conn(struct vw_hop *h)
{
	if (h->nc)
		net_conn_free(h->nc);
	h->nc = NULL;
	if (h->tls)
		cry_tls_ctx_free(h->tls); /* after the connection */
	h->tls = NULL;
}

/* This relay of the list failed (why): on to the next one, from the loop. */
static void relay_failed(struct vw_hop *h, const char *why)
{
	size_t n = strlen(h->err);

	close_conn(h);
	if (h->list.n == 1)
		snprintf(h->err, sizeof(h->err), "%s", why);
	else
		snprintf(h->err + n, sizeof(h->err) - n, "%s%s: %s", n ? "; " : "", h->list.s[h->idx], why);
	h->idx++;
	h->hops = 0;
	net_timer_arm(h->next, 0);
}

static void finish(struct vw_hop *h, int ok)
{
	struct net_conn *nc = ok ? h->nc : NULL;
	struct cry_tls_ctx *tls = ok ? h->tls : NULL;
	char err[sizeof(h->err) + 40];

	if (ok) {
		net_conn_set_cbs(nc, NULL, NULL); /* the caller sets its own */
		net_conn_set_idle_timeout(nc, 0);
		h->nc = NULL;
		h->tls = NULL;
		err[0] = '\0';
	} else {
		snprintf(err, sizeof(err), "%s%s", h->list.n > 1 ? "no relay of the list answered: " : "", h->err);
	}
	h->cb(h->arg, nc, tls, ok ? h->path : NULL, err);
	vw_hop_cancel(h);
}

static int kind_of(const char *path)
{
	if (strncmp(path, "relay-https ", 12) == 0)
		return K_HTTPS;
	if (strncmp(path, "relay-http ", 11) == 0)
		return K_HTTP;
	return K_TCP;
}

/* "relay-KIND HOST:PORT" of a dial's path (the rest names the proxy). */
static void path_key(const char *path, char *out, size_t cap)
{
	const char *sp = strchr(path, ' ');
	const char *end = sp ? strchr(sp + 1, ' ') : NULL;
	size_t n = end ? (size_t)(end - path) : strlen(path);
	snprintf(out, cap, "%.*s", (int)n, path);
}

static void follow(struct vw_hop *h, const uint8_t *pl, size_t len)
{
	struct vw_redirect r;
	char why[400], key[VW_SERVER_LEN + 16], host[256];
	const char *to;
	int port;

	if (vw_redirect_parse(pl, len, &r, why, sizeof(why)) < 0) {
		relay_failed(h, why);
		return;
	}
	if (h->hops >= VW_REDIRECT_MAX) {
		snprintf(why, sizeof(why), "more than %d redirects in a row (the last from relay %s): a loop, or the fleet is changing; try again later",
			 VW_REDIRECT_MAX, r.relay);
		relay_failed(h, why);
		return;
	}
	to = h->kind == K_TCP ? r.tcp : h->kind == K_HTTPS ? r.https : r.http;
	if (!to[0]) {
		/* a redirect never changes the path kind: that is the user's (or the proxy's) choice */
		snprintf(why, sizeof(why), "relay %s redirects to relay %s, which it names no %s address for",
			 h->cur_server, r.relay, kind_name[h->kind]);
		relay_failed(h, why);
		return;
	}
	snprintf(key, sizeof(key), "relay-%s %s", kind_name[h->kind], to);
	for (int i = 0; i <= h->hops; i++)
		if (strcmp(h->seen[i], key) == 0) {
			snprintf(why, sizeof(why), "redirect loop: relay %s sends us back to %s", r.relay, to);
			relay_failed(h, why);
			return;
		}
	h->hops++;
	snprintf(h->seen[h->hops], sizeof(h->seen[0]), "%s", key);
	fprintf(stderr, "%s: relay %s redirects to relay %s (%s): %s %s\n", h->who, h->cur_server, r.relay,
		r.reason, kind_name[h->kind], to);
	close_conn(h);
	h->cur = *h->o;
	snprintf(h->cur_server, sizeof(h->cur_server), "%s", to);
	h->cur.server = h->cur_server;
	h->cur.paths = 1u << h->kind;
	net_split_hostport(to, host, sizeof(host), &port, 0);
	if (h->kind == K_HTTPS)
		h->cur.https_port = port;
	else if (h->kind == K_HTTP)
		h->cur.http_port = port;
	h->redirected = 1; /* the next dial is h->cur as set here */
	net_timer_arm(h->next, 0);
}

/* The first frame of the answer: a REDIRECT is followed, ERROR unavailable moves on
 * when another relay is left, anything else is the caller's. */
static void on_read(struct net_conn *c, void *arg)
{
	struct vw_hop *h = arg;
	uint8_t buf[TFRAME_HDR_LEN + TFCTL_MAX_LEN];
	struct tframe_hdr fh;
	size_t n = net_conn_input_len(c);

	if (n < TFRAME_HDR_LEN)
		return;
	net_conn_peek(c, buf, TFRAME_HDR_LEN);
	if (tframe_hdr_decode(buf, TFRAME_HDR_LEN, VW_FRAME_MAX, &fh) < 0) {
		relay_failed(h, "malformed frame from the relay");
		return;
	}
	if (fh.type != TF_REDIRECT && fh.type != TF_ERROR) {
		finish(h, 1);
		return;
	}
	if (fh.length > TFCTL_MAX_LEN) {
		if (fh.type == TF_ERROR)
			finish(h, 1); /* the caller says it is malformed */
		else
			relay_failed(h, "oversize REDIRECT from the relay");
		return;
	}
	if (n < TFRAME_HDR_LEN + fh.length)
		return;
	net_conn_peek(c, buf, TFRAME_HDR_LEN + fh.length);
	if (fh.type == TF_ERROR) {
		static struct tfctl ctl;
		const char *code;
		if (h->idx + 1 < h->list.n && tfctl_parse(&ctl, buf + TFRAME_HDR_LEN, fh.length) == 0 &&
		    (code = tfctl_get(&ctl, "code")) && strcmp(code, "unavailable") == 0) {
			relay_failed(h, "unavailable (the relay cannot reach its fleet, or drains)");
			return;
		}
		finish(h, 1);
		return;
	}
	follow(h, buf + TFRAME_HDR_LEN, fh.length);
}

static void on_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct vw_hop *h = arg;
	char why[1000];

	if (ev == NET_EV_EOF || ev == NET_EV_ERROR || ev == NET_EV_TIMEOUT) {
		snprintf(why, sizeof(why), "%s: %s", h->path,
			 ev == NET_EV_TIMEOUT ? "no answer to the request (timed out)"
			 : ev == NET_EV_EOF ? "closed the connection without answering" : net_conn_error(c));
		relay_failed(h, why);
	}
}

static const struct net_conn_cbs hop_cbs = { on_read, NULL, on_event };

static void dialed(void *arg, struct net_conn *nc, struct cry_tls_ctx *tls, const char *path,
		   const char *err)
{
	struct vw_hop *h = arg;

	h->dial = NULL;
	if (!nc) {
		relay_failed(h, err);
		return;
	}
	h->nc = nc;
	h->tls = tls;
	snprintf(h->path, sizeof(h->path), "%s", path);
	if (h->hops == 0) {
		h->kind = kind_of(path);
		path_key(path, h->seen[0], sizeof(h->seen[0]));
	}
	net_conn_set_cbs(nc, &hop_cbs, h);
	net_conn_set_idle_timeout(nc, REPLY_MS);
	if (net_conn_write(nc, h->req, h->reqlen) < 0) {
		relay_failed(h, "cannot send the request");
		return;
	}
	if (net_conn_input_len(nc) >= TFRAME_HDR_LEN)
		on_read(nc, h); /* already there, behind the Upgrade's answer */
}

static void on_next(void *arg)
{
	struct vw_hop *h = arg;
	char err[300];

	if (!h->redirected) {
		if (h->idx >= h->list.n) {
			finish(h, 0);
			return;
		}
		h->cur = *h->o;
		snprintf(h->cur_server, sizeof(h->cur_server), "%s", h->list.s[h->idx]);
		h->cur.server = h->cur_server;
		if (h->idx > 0)
			fprintf(stderr, "%s: trying relay %s\n", h->who, h->cur_server);
	}
	h->redirected = 0;
	if (!(h->dial = vw_dial_start(&h->cur, dialed, h, err, sizeof(err))))
		relay_failed(h, err);
}

struct vw_hop *vw_hop_start(const struct vw_relay_opts *o, const uint8_t *req, size_t reqlen,
			    const char *who, vw_dial_cb cb, void *arg, char *err, size_t errlen)
{
	struct vw_hop *h = calloc(1, sizeof(*h));

	if (!h || !vw_loop_net() || !(h->next = net_timer_new(vw_loop_net(), on_next, h)) ||
	    !(h->req = malloc(reqlen ? reqlen : 1))) {
		snprintf(err, errlen, "out of memory");
		if (h && h->next)
			net_timer_free(h->next);
		free(h);
		return NULL;
	}
	if (vw_servers_parse(o->server, &h->list, err, errlen) < 0) {
		net_timer_free(h->next);
		free(h->req);
		free(h);
		return NULL;
	}
	memcpy(h->req, req, reqlen);
	h->reqlen = reqlen;
	h->o = o;
	h->who = who;
	h->cb = cb;
	h->arg = arg;
	net_timer_arm(h->next, 0);
	return h;
}

void vw_hop_cancel(struct vw_hop *h)
{
	if (!h)
		return;
	vw_dial_cancel(h->dial);
	close_conn(h);
	net_timer_free(h->next);
	cry_wipe(h->req, h->reqlen); /* a RESUME holds the token */
	free(h->req);
	free(h);
}
