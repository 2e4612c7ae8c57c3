/* http_internal.h - shared by net/http.c (the server, its listener and its requests)
 * and net/http_conn.c (one connection: TLS and the request guard) only. */
#ifndef NET_HTTP_INTERNAL_H
#define NET_HTTP_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "net/http.h"

struct event;
struct event_base;
struct bufferevent;
struct evconnlistener;
struct evhttp;
struct evhttp_uri;
struct cry_tls_ctx;
struct net_http_conn;

enum { NET_HTTP_LOG_ACCEPT, NET_HTTP_LOG_CAP, NET_HTTP_LOG_DROP, NET_HTTP_LOG_REFUSE, NET_HTTP_LOG_KINDS };

struct net_http {
	struct net_loop *loop;
	struct evhttp *http;
	struct cry_tls_ctx *tls;
	net_http_handler handler;
	void *arg;
	net_http_admit_cb admit;
	void *admit_arg;
	net_http_sink_cb sink;
	void *sink_arg;
	uint64_t max_body;
	struct net_http_limits lim;
	int port;
	struct evconnlistener *listener;
	struct event *resume;            /* the end of an accept pause (EMFILE...) */
	int accept_paused, full;         /* why accepting is off */
	struct net_http_conn *conns;     /* every open connection */
	unsigned nconns;
	struct net_http *next;           /* all servers of the process (listener errors) */
	time_t log_at[NET_HTTP_LOG_KINDS];
	unsigned log_quiet[NET_HTTP_LOG_KINDS];
};

/* At most one line per kind every 10 s; the next one says how many were left out. */
void net_http_log_limited_(struct net_http *h, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Accepting is on unless paused after an accept error or at max_conns. */
void net_http_accept_update_(struct net_http *h);
/* The path of u, percent-decoded; NULL when absent or it does not decode. Caller frees. */
char *net_http_decode_path_(const struct evhttp_uri *u);

/* evhttp's bufferevent callback: a filter (TLS when h->tls) over a socket bufferevent
 * whose fd evhttp sets right after. NULL on error. */
struct bufferevent *net_http_conn_new_(struct net_http *h, struct event_base *base);
/* The connection whose evhttp bufferevent is bev (NULL if none). */
struct net_http_conn *net_http_conn_of_(struct net_http *h, struct bufferevent *bev);
/* A reply was queued whole: the next request head may come (its deadline starts). */
void net_http_conn_done_(struct net_http_conn *c);
/* The sink whose body ended, for the request evhttp dispatches now (the caller owns
 * it); 0 when there is none. */
int net_http_conn_take_sink_(struct net_http_conn *c, struct net_http_sink *out);
/* evhttp is about to close c: push what is queued to the socket now. */
void net_http_conn_flush_(struct net_http_conn *c);
/* fn(arg) when evhttp closes c (a streamed reply ended early); NULL clears. */
void net_http_conn_on_close_(struct net_http_conn *c, void (*fn)(void *), void *arg);
void net_http_conn_closing_(struct net_http_conn *c);
/* Forget h: net_http_free is freeing it while connections still wait for release. */
void net_http_conn_detach_all_(struct net_http *h);
#endif
