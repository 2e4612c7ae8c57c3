/* http.c - the HTTP server of net/http.h on libevent's evhttp. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
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
#include <event2/listener.h>

#include "core/log.h"
#include "core/str.h"
#include "net/conn.h"
#include "net/http.h"
#include "net/http_internal.h"
#include "net/internal.h"

#define ACCEPT_PAUSE_MS 200

static struct net_http *servers; /* for listener errors, which name only the evhttp */

struct net_http_req {
	struct evhttp_request *req;
	struct net_http_conn *conn;
	struct net_http_sink sink;        /* a body that went to a sink, until taken */
	int has_sink;
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
	int deferred;              /* net_http_defer: gone is watched until the answer */
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
	if (r->has_sink && r->sink.release)
		r->sink.release(r->sink.arg);
	if (r->query_parsed)
		evhttp_clear_headers(&r->query);
	free(r->path);
	free(r);
}

static struct bufferevent *bev_cb(struct event_base *base, void *arg)
{
	return net_http_conn_new_(arg, base);
}

void net_http_log_limited_(struct net_http *h, int kind, const char *fmt, ...)
{
	char msg[400];
	time_t now = time(NULL);
	va_list ap;
	if (h->log_at[kind] && now - h->log_at[kind] < 10) {
		h->log_quiet[kind]++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (h->log_quiet[kind])
		log_warn("%s (and %u more like it in the last seconds)", msg, h->log_quiet[kind]);
	else
		log_warn("%s", msg);
	h->log_at[kind] = now;
	h->log_quiet[kind] = 0;
}

void net_http_accept_update_(struct net_http *h)
{
	if (!h->listener)
		return;
	int full = h->nconns >= h->lim.max_conns;
	if (full && !h->full)
		net_http_log_limited_(h, NET_HTTP_LOG_CAP, "http: %u connections open (max_connections); "
				      "not accepting more until one closes", h->nconns);
	h->full = full;
	if (h->full || h->accept_paused)
		evconnlistener_disable(h->listener);
	else
		evconnlistener_enable(h->listener);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_http *h = arg;
	(void)fd;
	(void)what;
	h->accept_paused = 0;
	net_http_accept_update_(h);
}

/* Out of descriptors (or buffers) the listening socket stays readable: evhttp's own
 * listener would retry at once, forever. Pause instead, as net/listen.c does. */
static void accept_error_cb(struct evconnlistener *el, void *arg)
{
	struct net_http *h = servers;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 0, ACCEPT_PAUSE_MS * 1000 };
	(void)el;
	while (h && (void *)h->http != arg)
		h = h->next;
	if (!h || e == EINTR || e == EAGAIN || e == ECONNABORTED)
		return;
	net_http_log_limited_(h, NET_HTTP_LOG_ACCEPT, "http: accept on port %d: %s; pausing for %d ms",
			      h->port, strerror(e), ACCEPT_PAUSE_MS);
	h->accept_paused = 1;
	net_http_accept_update_(h);
	evtimer_add(h->resume, &tv);
}

static void conn_close_cb(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	net_http_conn_closing_(arg);
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
	if (evcon) {
		evhttp_connection_get_peer(evcon, &ip, &port);
		r->conn = net_http_conn_of_(h, evhttp_connection_get_bufferevent(evcon));
		/* so that what evhttp queued leaves before it closes the connection */
		if (r->conn)
			evhttp_connection_set_closecb(evcon, conn_close_cb, r->conn);
		if (r->conn)
			r->has_sink = net_http_conn_take_sink_(r->conn, &r->sink);
	}
	str_copy(r->peer, ip ? ip : "?", sizeof(r->peer));
	h->handler(r, h->arg);
}

void net_http_set_admit(struct net_http *h, net_http_admit_cb cb, void *arg)
{
	h->admit = cb;
	h->admit_arg = arg;
}

void net_http_set_sink(struct net_http *h, net_http_sink_cb cb, void *arg)
{
	h->sink = cb;
	h->sink_arg = arg;
}

void *net_http_sink_take(struct net_http_req *r)
{
	if (!r->has_sink)
		return NULL;
	r->has_sink = 0;
	return r->sink.arg;
}

void net_http_set_limits(struct net_http *h, const struct net_http_limits *l)
{
	h->lim = *l;
	if (!h->lim.head_timeout)
		h->lim.head_timeout = 30;
	if (!h->lim.max_conns)
		h->lim.max_conns = 256;
	if (!h->lim.max_conns_per_addr)
		h->lim.max_conns_per_addr = 32;
	net_http_accept_update_(h);
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
	h->max_body = max_body;
	h->http = evhttp_new(l->base);
	h->resume = evtimer_new(l->base, resume_cb, h);
	if (!h->http || !h->resume) {
		str_copy(err, "evhttp_new failed", errlen);
		goto fail;
	}
	h->next = servers;
	servers = h;
	evhttp_set_max_body_size(h->http, (ev_ssize_t)max_body);
	evhttp_set_max_headers_size(h->http, 16384);
	evhttp_set_timeout(h->http, 120);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	evhttp_set_bevcb(h->http, bev_cb, h);
	evhttp_set_gencb(h->http, gen_cb, h);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port);
	if (!bs) {
		str_fmt(err, errlen, "cannot listen on %s", addr);
		goto fail;
	}
	h->listener = evhttp_bound_socket_get_listener(bs);
	evconnlistener_set_error_cb(h->listener, accept_error_cb);
	{
		struct net_http_limits none = { 0, 0, 0 };
		net_http_set_limits(h, &none);
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
	for (struct net_http **pp = &servers; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	/* connections are released after evhttp_free returns: they must not find h */
	h->listener = NULL;
	if (h->http)
		evhttp_free(h->http);
	net_http_conn_detach_all_(h);
	if (h->resume)
		event_free(h->resume);
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

char *net_http_decode_path_(const struct evhttp_uri *u)
{
	const char *p = evhttp_uri_get_path(u);
	size_t n = 0;
	if (!p)
		return NULL;
	char *d = evhttp_uridecode(p, 0, &n);
	if (!d || strlen(d) != n) {
		free(d);
		return NULL;
	}
	return d;
}

const char *net_http_path(struct net_http_req *r)
{
	if (r->path)
		return r->path;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(r->req);
	r->path = u ? net_http_decode_path_(u) : NULL;
	return r->path;
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

static void defer_close_cb(void *arg)
{
	struct net_http_req *r = arg;
	if (r->gone)
		r->gone(r->sarg);
	req_free(r);
}

int net_http_defer(struct net_http_req *r, net_http_done_cb gone, void *arg)
{
	/* without its connection's close hook nothing would say the request went away */
	if (!r->conn || r->deferred || r->more)
		return -1;
	r->gone = gone;
	r->sarg = arg;
	r->deferred = 1;
	net_http_conn_on_close_(r->conn, defer_close_cb, r);
	return 0;
}

void net_http_reply(struct net_http_req *r, int code, const void *body, size_t len)
{
	if (r->deferred && r->conn)
		net_http_conn_on_close_(r->conn, NULL, NULL);
	struct evbuffer *b = evbuffer_new();
	if (b && len)
		evbuffer_add(b, body, len);
	evhttp_send_reply(r->req, code, NULL, b);
	if (b)
		evbuffer_free(b);
	if (r->conn)
		net_http_conn_done_(r->conn);
	req_free(r);
}

static size_t pending(const struct net_http_req *r)
{
	size_t n = evbuffer_get_length(bufferevent_get_output(r->bev));
	if (r->sockout != bufferevent_get_output(r->bev))
		n += evbuffer_get_length(r->sockout);
	return n;
}

static void stream_close_cb(void *arg)
{
	struct net_http_req *r = arg;
	if (r->gone)
		r->gone(r->sarg);
	req_free(r);
}

static void stream_finish(struct net_http_req *r)
{
	stream_detach(r);
	if (r->conn)
		net_http_conn_on_close_(r->conn, NULL, NULL);
	evhttp_send_reply_end(r->req);
	if (r->conn)
		net_http_conn_done_(r->conn);
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
	if (!r->evcon || !r->conn)
		return -1;
	r->bev = evhttp_connection_get_bufferevent(r->evcon);
	struct bufferevent *under = bufferevent_get_underlying(r->bev);
	r->sockout = bufferevent_get_output(under ? under : r->bev);
	r->kick = event_new(bufferevent_get_base(r->bev), -1, 0, kick_cb, r);
	r->cbent = evbuffer_add_cb(r->sockout, sockout_cb, r);
	if (!r->kick || !r->cbent)
		return -1;
	evhttp_send_reply_start(r->req, code, NULL);
	net_http_conn_on_close_(r->conn, stream_close_cb, r);
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
