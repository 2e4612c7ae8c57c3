/* http.c - the HTTP server of net/http.h on libevent's evhttp. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core/str.h"
#include "net/conn.h"
#include "net/http.h"
#include "net/http_internal.h"
#include "net/internal.h"

struct net_http {
	struct net_loop *loop;
	struct evhttp *http;
	struct cry_tls_ctx *tls;
	net_http_handler handler;
	void *arg;
	int port;
};

struct net_http_req {
	struct evhttp_request *req;
	char *path;
	struct evkeyvalq query;
	int query_parsed;
	char peer[64];
	/* streamed replies */
	net_http_more_cb more;
	net_http_done_cb gone;     /* the end of the stream, complete or not */
	void *sarg;
	struct evhttp_connection *evcon;
	struct bufferevent *bev;          /* evhttp's (the TLS filter, or the socket) */
	struct evbuffer *sockout;         /* the socket's own output */
	struct evbuffer_cb_entry *cbent;
	struct event *kick;
	int ending;
};

/* Streams are paced by what the socket has really sent, not by evhttp's write callback
 * (which fires when a TLS filter has merely moved data on, and is kept on the
 * connection after the reply). */
#define STREAM_LOW (256 * 1024)

static void stream_detach(struct net_http_req *r)
{
	if (r->cbent)
		evbuffer_remove_cb_entry(r->sockout, r->cbent);
	r->cbent = NULL;
	if (r->kick)
		event_free(r->kick);
	r->kick = NULL;
}

static void req_free(struct net_http_req *r)
{
	stream_detach(r);
	if (r->query_parsed)
		evhttp_clear_headers(&r->query);
	free(r->path);
	free(r);
}

static struct bufferevent *bev_cb(struct event_base *base, void *arg)
{
	struct net_http *h = arg;
	return net_http_tls_bev_(base, h->tls);
}

static void gen_cb(struct evhttp_request *req, void *arg)
{
	struct net_http *h = arg;
	struct net_http_req *r = calloc(1, sizeof(*r));
	if (!r) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	r->req = req;
	char *ip = NULL;
	ev_uint16_t port = 0;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (evcon)
		evhttp_connection_get_peer(evcon, &ip, &port);
	str_copy(r->peer, ip ? ip : "?", sizeof(r->peer));
	h->handler(r, h->arg);
}

struct net_http *net_http_new(struct net_loop *l, const char *addr, struct cry_tls_ctx *tls,
			      size_t max_body, net_http_handler handler, void *arg, char *err,
			      size_t errlen)
{
	char host[256];
	int port;
	struct net_http *h = calloc(1, sizeof(*h));

	if (!h) {
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	if (net_split_hostport(addr, host, sizeof(host), &port, -1) < 0 || port < 0) {
		str_fmt(err, errlen, "bad listen address \"%s\" (want IP:PORT)", addr);
		goto fail;
	}
	h->loop = l;
	h->tls = tls;
	h->handler = handler;
	h->arg = arg;
	h->http = evhttp_new(l->base);
	if (!h->http) {
		str_copy(err, "evhttp_new failed", errlen);
		goto fail;
	}
	evhttp_set_max_body_size(h->http, (ev_ssize_t)max_body);
	evhttp_set_max_headers_size(h->http, 16384);
	evhttp_set_timeout(h->http, 120);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	if (tls)
		evhttp_set_bevcb(h->http, bev_cb, h);
	evhttp_set_gencb(h->http, gen_cb, h);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port);
	if (!bs) {
		str_fmt(err, errlen, "cannot listen on %s", addr);
		goto fail;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							: ((struct sockaddr_in *)&ss)->sin_port);
	return h;
fail:
	net_http_free(h);
	return NULL;
}

int net_http_port(const struct net_http *h)
{
	return h->port;
}

void net_http_free(struct net_http *h)
{
	if (!h)
		return;
	if (h->http)
		evhttp_free(h->http);
	free(h);
}

const char *net_http_method(const struct net_http_req *r)
{
	switch (evhttp_request_get_command(r->req)) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_HEAD: return "HEAD";
	default: return "OTHER";
	}
}

const char *net_http_path(struct net_http_req *r)
{
	if (r->path)
		return r->path;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(r->req);
	const char *p = u ? evhttp_uri_get_path(u) : NULL;
	size_t n = 0;
	if (!p)
		return NULL;
	char *d = evhttp_uridecode(p, 0, &n);
	if (!d || strlen(d) != n) {
		free(d);
		return NULL;
	}
	r->path = d;
	return d;
}

const char *net_http_query(struct net_http_req *r, const char *key)
{
	if (!r->query_parsed) {
		const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(r->req);
		const char *q = u ? evhttp_uri_get_query(u) : NULL;
		r->query_parsed = 1;
		if (evhttp_parse_query_str(q ? q : "", &r->query) < 0)
			return NULL;
	}
	return evhttp_find_header(&r->query, key);
}

const char *net_http_header(const struct net_http_req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

const uint8_t *net_http_body(struct net_http_req *r, size_t *len)
{
	struct evbuffer *b = evhttp_request_get_input_buffer(r->req);
	*len = evbuffer_get_length(b);
	if (!*len)
		return (const uint8_t *)"";
	return evbuffer_pullup(b, -1);
}

const char *net_http_peer_ip(const struct net_http_req *r)
{
	return r->peer;
}

int net_http_set_header(struct net_http_req *r, const char *name, const char *value)
{
	return evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

void net_http_reply(struct net_http_req *r, int code, const void *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	if (b && len)
		evbuffer_add(b, body, len);
	evhttp_send_reply(r->req, code, NULL, b);
	if (b)
		evbuffer_free(b);
	req_free(r);
}

static size_t pending(const struct net_http_req *r)
{
	size_t n = evbuffer_get_length(bufferevent_get_output(r->bev));
	if (r->sockout != bufferevent_get_output(r->bev))
		n += evbuffer_get_length(r->sockout);
	return n;
}

static void stream_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct net_http_req *r = arg;
	(void)evcon;
	if (r->gone)
		r->gone(r->sarg);
	req_free(r);
}

static void stream_finish(struct net_http_req *r)
{
	stream_detach(r);
	if (r->evcon)
		evhttp_connection_set_closecb(r->evcon, NULL, NULL);
	evhttp_send_reply_end(r->req);
	if (r->gone)
		r->gone(r->sarg);
	req_free(r);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_http_req *r = arg;
	(void)fd;
	(void)what;
	if (r->ending) {
		if (pending(r) == 0)
			stream_finish(r);
		return;
	}
	if (pending(r) < STREAM_LOW)
		r->more(r, r->sarg);
}

static void sockout_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct net_http_req *r = arg;
	(void)b;
	if (info->n_deleted && r->kick && !event_pending(r->kick, EV_TIMEOUT, NULL) &&
	    pending(r) < (r->ending ? 1 : STREAM_LOW))
		event_active(r->kick, EV_TIMEOUT, 0);
}

int net_http_stream_start(struct net_http_req *r, int code, uint64_t length,
			  net_http_more_cb more, net_http_done_cb gone, void *arg)
{
	char len[32];
	snprintf(len, sizeof(len), "%" PRIu64, length);
	net_http_set_header(r, "Content-Length", len);
	r->more = more;
	r->gone = gone;
	r->sarg = arg;
	r->evcon = evhttp_request_get_connection(r->req);
	if (!r->evcon)
		return -1;
	r->bev = evhttp_connection_get_bufferevent(r->evcon);
	struct bufferevent *under = bufferevent_get_underlying(r->bev);
	r->sockout = bufferevent_get_output(under ? under : r->bev);
	r->kick = event_new(bufferevent_get_base(r->bev), -1, 0, kick_cb, r);
	r->cbent = evbuffer_add_cb(r->sockout, sockout_cb, r);
	if (!r->kick || !r->cbent)
		return -1;
	evhttp_send_reply_start(r->req, code, NULL);
	evhttp_connection_set_closecb(r->evcon, stream_close_cb, r);
	event_active(r->kick, EV_TIMEOUT, 0);
	return 0;
}

int net_http_stream_write(struct net_http_req *r, const void *data, size_t len, int last)
{
	struct evbuffer *b = evbuffer_new();
	if (!b || evbuffer_add(b, data, len) < 0) {
		if (b)
			evbuffer_free(b);
		return -1;
	}
	evhttp_send_reply_chunk(r->req, b);
	evbuffer_free(b);
	r->ending = last;
	if (!event_pending(r->kick, EV_TIMEOUT, NULL) && pending(r) < (last ? 1 : STREAM_LOW))
		event_active(r->kick, EV_TIMEOUT, 0);
	return 0;
}

void net_http_stream_end(struct net_http_req *r)
{
	r->ending = 1;
	if (!event_pending(r->kick, EV_TIMEOUT, NULL))
		event_active(r->kick, EV_TIMEOUT, 0);
}
