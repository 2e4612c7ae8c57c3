/* internal.h - what the files of net/ share and nobody else sees. */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

struct event_base;
struct evdns_base;
struct net_sig;
struct net_child;

/* Every connection, listener, timer and MX request made on a loop is on the loop's
 * list from birth to free, so net_loop_free can free whatever the application left
 * behind (lingering closes above all) without calling the application. */
struct net_owned {
	struct net_owned *next, **pprev;   /* pprev NULL: not on a list */
	void (*release)(void *self);       /* frees self; fires no callback */
	void *self;
};

struct net_loop {
	struct event_base *base;
	struct evdns_base *dns;   /* made on first name lookup */
	struct net_sig *sigs;
	struct net_owned *owned;
	struct net_child *children; /* child.c: running children, reaped on SIGCHLD */
	int child_sig;              /* child.c: the SIGCHLD handler is in place */
};

struct evdns_base *net_loop_dns(struct net_loop *l);
void net_own_add_(struct net_loop *l, struct net_owned *o, void (*release)(void *), void *self);
/* Safe on an object that is not (or no longer) on a list. */
void net_own_del_(struct net_owned *o);

#include <sys/time.h>
/* Milliseconds as the struct timeval libevent takes (timers, timeouts, deadlines). */
static inline struct timeval net_ms_tv_(unsigned long ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
	return tv;
}
#endif

/* ---- connections (conn.c, connect.c, listen.c, proxy_conn.c) ---- */
#include <stddef.h>
#include "net/conn.h"

struct bufferevent;
struct evbuffer;
struct event;
struct evutil_addrinfo;
struct evdns_getaddrinfo_request;
struct net_proxy_state;

/* sockread.c: reads up to max more bytes from socket fd into dst (a socket
 * bufferevent's input), in large reads, until the socket is empty. 0, or the errno of
 * a failed read (consumed by it: the caller reports it). */
int net_read_more_(struct evbuffer *dst, int fd, size_t max);

enum conn_tls { TLS_NONE = 0, TLS_HANDSHAKE, TLS_UP };
enum conn_close { CLOSE_NO = 0, CLOSE_FLUSH, CLOSE_DRAIN };

struct net_conn {
	struct net_loop *loop;
	struct net_owned own;
	struct bufferevent *bev;     /* the socket; NULL while resolving */
	struct evbuffer *in;         /* plaintext the application has not read */
	struct evbuffer *out;        /* plaintext waiting for connect / handshake */
	struct event *kick;          /* deferred pump (resume, connect steps) */
	struct net_conn_cbs cbs;
	void *arg;
	struct cry_tls *tls;
	enum conn_tls tls_state;
	enum conn_close closing;
	size_t read_limit, write_low, max_line;
	unsigned long idle_ms;
	int paused;                  /* net_conn_pause_read */
	int reading;                 /* EV_READ currently enabled on bev */
	int sock_eof;                /* the socket reported EOF (TLS: drain what is buffered) */
	int busy;                    /* callbacks of ours on the stack */
	int dead;                    /* freed while busy: destroy when the stack unwinds */
	int connected;               /* socket is up */
	int failed;                  /* ERROR/EOF/TIMEOUT fired */
	int broken;                  /* ERROR fired: nothing more can be written */
	int timed_out;               /* TIMEOUT fired on a connected socket: a last word may go */
	char peer[64], local[64], peer_ip[48], local_ip[48];
	char err[256];
	/* outgoing connections */
	char *host;
	int port;
	unsigned long timeout_ms;
	unsigned long long deadline;
	struct evutil_addrinfo *ai, *ai_next;
	struct evdns_getaddrinfo_request *dnsreq;
	struct event *ctimer;        /* connect deadline */
	int resolved;
	int dns_err;
	int unix_path;               /* host is a UNIX socket path (port 0) */
	int unix_tried;
	/* set while an HTTP CONNECT exchange owns the connection */
	struct net_proxy_state *proxy;
};

struct net_conn *net_conn_alloc_(struct net_loop *l);
/* Wires a connected socket bufferevent into c (addresses, callbacks, reading). */
int net_conn_attach_(struct net_conn *c, struct bufferevent *bev);
/* Starts (or restarts) the connect machinery of c for c->host:c->port. */
int net_conn_connect_start_(struct net_conn *c);
void net_conn_connect_cleanup_(struct net_conn *c);
void net_conn_connect_step_(struct net_conn *c);
/* Schedules a pump of c from the loop (never calls back synchronously). */
void net_conn_kick_(struct net_conn *c);
/* Fires a final event (ERROR/EOF/TIMEOUT) with an error text; stops I/O. Returns -1 if c
 * was freed by the callback. */
int net_conn_fail_(struct net_conn *c, enum net_event ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int net_conn_fire_event_(struct net_conn *c, enum net_event ev);
/* Busy-guard around calls into the application. */
void net_conn_hold_(struct net_conn *c);
int net_conn_release_(struct net_conn *c); /* -1 when c is gone */
void net_conn_fill_addrs_(struct net_conn *c, int fd);
/* Drops the socket and connects to c->host:c->port again (same struct, same owner). */
int net_conn_reconnect_(struct net_conn *c);
/* proxy_conn.c */
void net_proxy_state_free_(struct net_proxy_state *st);
void net_proxy_state_set_user_cbs_(struct net_proxy_state *st, const struct net_conn_cbs *cbs,
				   void *arg);
