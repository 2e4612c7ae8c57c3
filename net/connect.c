/* connect.c - outgoing connections: resolve (numeric at once, names through the loop's
 * evdns), then try each address in order until one connects or the deadline passes.
 * Every step runs from the loop, so no callback fires inside net_connect itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "net/internal.h"

static void connect_event(struct bufferevent *bev, short what, void *arg);

void net_conn_connect_cleanup_(struct net_conn *c)
{
	if (c->dnsreq) {
		struct evdns_getaddrinfo_request *r = c->dnsreq;
		c->dnsreq = NULL;
		evdns_getaddrinfo_cancel(r); /* its callback sees EVUTIL_EAI_CANCEL */
	}
	if (c->ai) {
		evutil_freeaddrinfo(c->ai);
		c->ai = c->ai_next = NULL;
	}
	if (c->ctimer) {
		event_free(c->ctimer);
		c->ctimer = NULL;
	}
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_conn *c = arg;

	(void)fd;
	(void)what;
	net_conn_connect_cleanup_(c);
	if (c->bev && !c->connected) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	net_conn_fail_(c, NET_EV_TIMEOUT, "connecting to %s port %d timed out", c->host, c->port);
}

static void resolved_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct net_conn *c = arg;

	if (result == EVUTIL_EAI_CANCEL)
		return;
	c->dnsreq = NULL;
	c->resolved = 1;
	if (result != 0) {
		c->dns_err = result;
		if (res)
			evutil_freeaddrinfo(res);
	} else {
		c->ai = c->ai_next = res;
	}
	net_conn_kick_(c);
}

void net_conn_connect_step_(struct net_conn *c)
{
	struct evutil_addrinfo *ai;

	if (c->dead || c->failed || c->connected || !c->resolved || c->bev)
		return;
	if (c->dns_err) {
		net_conn_connect_cleanup_(c);
		net_conn_fail_(c, NET_EV_ERROR, "cannot resolve %s: %s", c->host,
			       evutil_gai_strerror(c->dns_err));
		return;
	}
	if (c->unix_path && !c->unix_tried) {
		struct sockaddr_un sun;
		struct bufferevent *bev;
		c->unix_tried = 1;
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, c->host, strlen(c->host));   /* length checked by net_connect_unix */
		bev = bufferevent_socket_new(c->loop->base, -1, BEV_OPT_CLOSE_ON_FREE);
		if (bev) {
			bufferevent_setcb(bev, NULL, NULL, connect_event, c);
			if (bufferevent_socket_connect(bev, (struct sockaddr *)&sun, (int)sizeof(sun)) == 0) {
				c->bev = bev;
				return;
			}
			int e = EVUTIL_SOCKET_ERROR();
			snprintf(c->err, sizeof(c->err), "cannot connect to %s: %s", c->host,
				 e ? evutil_socket_error_to_string(e) : "connect failed");
			bufferevent_free(bev);
		}
	}
	while ((ai = c->ai_next) != NULL) {
		struct bufferevent *bev;
		c->ai_next = ai->ai_next;
		bev = bufferevent_socket_new(c->loop->base, -1, BEV_OPT_CLOSE_ON_FREE);
		if (!bev) {
			snprintf(c->err, sizeof(c->err), "out of memory");
			break;
		}
		bufferevent_setcb(bev, NULL, NULL, connect_event, c);
		if (bufferevent_socket_connect(bev, ai->ai_addr, (int)ai->ai_addrlen) < 0) {
			int e = EVUTIL_SOCKET_ERROR();
			snprintf(c->err, sizeof(c->err), "cannot connect to %s port %d: %s", c->host,
				 c->port, e ? evutil_socket_error_to_string(e) : "connect failed");
			bufferevent_free(bev);
			continue;
		}
		c->bev = bev;
		return;
	}
	net_conn_connect_cleanup_(c);
	if (!c->err[0])
		snprintf(c->err, sizeof(c->err), "cannot connect to %s port %d", c->host, c->port);
	net_conn_fail_(c, NET_EV_ERROR, "%s", c->err);
}

static void connect_event(struct bufferevent *bev, short what, void *arg)
{
	struct net_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		net_conn_connect_cleanup_(c);
		c->err[0] = 0;
		net_conn_attach_(c, bev);
		net_conn_fire_event_(c, NET_EV_CONNECTED);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		int e = EVUTIL_SOCKET_ERROR();
		if (c->unix_path)
			snprintf(c->err, sizeof(c->err), "cannot connect to %s: %s", c->host,
				 e ? evutil_socket_error_to_string(e) : "connection refused");
		else
			snprintf(c->err, sizeof(c->err), "cannot connect to %s port %d: %s", c->host, c->port,
				 e ? evutil_socket_error_to_string(e) : "connection refused");
		bufferevent_free(bev);
		c->bev = NULL;
		net_conn_connect_step_(c);
	}
}

int net_conn_connect_start_(struct net_conn *c)
{
	struct evutil_addrinfo hints;
	char port[16];

	c->resolved = 0;
	c->dns_err = 0;
	c->unix_tried = 0;
	if (c->timeout_ms) {
		struct timeval tv = net_ms_tv_(c->timeout_ms);
		c->ctimer = evtimer_new(c->loop->base, deadline_cb, c);
		if (!c->ctimer || evtimer_add(c->ctimer, &tv) < 0)
			return -1;
	}
	if (c->unix_path) {
		c->resolved = 1;
		net_conn_kick_(c);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(port, sizeof(port), "%d", c->port);
	/* Numeric addresses need no resolver (and work without /etc/resolv.conf). */
	hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
	if (evutil_getaddrinfo(c->host, port, &hints, &c->ai) == 0) {
		c->ai_next = c->ai;
		c->resolved = 1;
		net_conn_kick_(c);
		return 0;
	}
	c->ai = NULL;
	hints.ai_flags = EVUTIL_AI_NUMERICSERV;
	if (!net_loop_dns(c->loop)) {
		snprintf(c->err, sizeof(c->err), "no DNS resolver");
		return -1;
	}
	c->dnsreq = evdns_getaddrinfo(net_loop_dns(c->loop), c->host, port, &hints, resolved_cb, c);
	/* a NULL request means the answer came at once (hosts file, error): resolved_cb
	 * already ran and scheduled the next step */
	return 0;
}

int net_conn_reconnect_(struct net_conn *c)
{
	net_conn_connect_cleanup_(c);
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	evbuffer_drain(c->out, evbuffer_get_length(c->out));
	c->connected = c->failed = c->broken = c->timed_out = c->sock_eof = c->reading = 0;
	c->err[0] = 0;
	return net_conn_connect_start_(c);
}

/* Both kinds of outgoing connection: host is a name or address, or a socket path. */
static struct net_conn *connect_new(struct net_loop *l, const char *host, int port, int unix_path,
				    unsigned long timeout_ms, const struct net_conn_cbs *cbs, void *arg)
{
	struct net_conn *c = net_conn_alloc_(l);

	if (!c)
		return NULL;
	c->host = strdup(host);
	c->port = port;
	c->unix_path = unix_path;
	c->timeout_ms = timeout_ms;
	net_conn_set_cbs(c, cbs, arg);
	if (!c->host || net_conn_connect_start_(c) < 0) {
		net_conn_free(c);
		return NULL;
	}
	return c;
}

struct net_conn *net_connect(struct net_loop *l, const char *host, int port,
			     unsigned long timeout_ms, const struct net_conn_cbs *cbs, void *arg)
{
	if (!host || !*host || port <= 0 || port > 65535)
		return NULL;
	return connect_new(l, host, port, 0, timeout_ms, cbs, arg);
}

struct net_conn *net_connect_unix(struct net_loop *l, const char *path, unsigned long timeout_ms,
				  const struct net_conn_cbs *cbs, void *arg)
{
	if (!path || path[0] != '/' || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return NULL;
	return connect_new(l, path, 0, 1, timeout_ms, cbs, arg);
}
