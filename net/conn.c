/* conn.c - a connection over a socket bufferevent: its life (alloc, callbacks, close,
 * free), the bufferevent callbacks and the settings. Reading and writing by the
 * application, with the back-pressure rules, are in conn_buf.c; the TLS glue is in
 * conn_tls.c; what they share is in conn_internal.h.
 *
 * Plain: socket input is moved (not copied) into c->in. TLS: records stay in the
 * bufferevent's input until wolfSSL asks for them; decrypted bytes go to c->in.
 * Either way reading stops while c->in holds read_limit bytes or more, and resumes
 * (through a deferred "kick") when the application drains it.
 *
 * Application callbacks may free the connection they are called for; everything that
 * calls out holds the connection (busy count) and destroys it only when the stack
 * unwinds. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "net/conn_internal.h"
#include "net/internal.h"
#include "net/loop.h"

#define CLOSE_LINGER_SEC 2
#define CLOSE_FLUSH_SEC 10

void net_conn_hold_(struct net_conn *c)
{
	c->busy++;
}

int net_conn_release_(struct net_conn *c)
{
	c->busy--;
	if (c->dead) {
		if (c->busy == 0)
			net_conn_destroy_(c);
		return -1;
	}
	return 0;
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->connected)
		net_conn_pump_(c);
	else
		net_conn_connect_step_(c);
}

void net_conn_kick_(struct net_conn *c)
{
	if (c->kick && !c->dead)
		event_active(c->kick, EV_TIMEOUT, 1);
}

/* net_loop_free: the loop goes, so does c, whatever state it is in. */
static void conn_release(void *self)
{
	net_conn_destroy_(self);
}

struct net_conn *net_conn_alloc_(struct net_loop *l)
{
	struct net_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->loop = l;
	net_own_add_(l, &c->own, conn_release, c);
	c->read_limit = NET_DEFAULT_READ_LIMIT;
	c->write_low = NET_DEFAULT_WRITE_LOW;
	c->max_line = 8192;
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->kick = event_new(l->base, -1, 0, kick_cb, c);
	if (!c->in || !c->out || !c->kick) {
		net_conn_destroy_(c);
		return NULL;
	}
	return c;
}

void net_conn_destroy_(struct net_conn *c)
{
	net_own_del_(&c->own);
	net_conn_connect_cleanup_(c);
	if (c->proxy) {
		net_proxy_state_free_(c->proxy);
		c->proxy = NULL;
	}
	if (c->tls) {
		net_conn_tls_ops_->free(c->tls);
		c->tls = NULL;
	}
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->kick)
		event_free(c->kick);
	if (c->in)
		evbuffer_free(c->in);
	if (c->out)
		evbuffer_free(c->out);
	free(c->host);
	free(c);
}

/* ---- callbacks into the application ---- */

int net_conn_fire_event_(struct net_conn *c, enum net_event ev)
{
	if (!c->cbs.on_event || c->closing)
		return 0;
	net_conn_hold_(c);
	c->cbs.on_event(c, ev, c->arg);
	return net_conn_release_(c);
}

int net_conn_fire_read_(struct net_conn *c)
{
	if (!c->cbs.on_read || c->closing)
		return 0;
	net_conn_hold_(c);
	c->cbs.on_read(c, c->arg);
	return net_conn_release_(c);
}

static int fire_drain(struct net_conn *c)
{
	if (!c->cbs.on_drain || c->closing)
		return 0;
	net_conn_hold_(c);
	c->cbs.on_drain(c, c->arg);
	return net_conn_release_(c);
}

static void set_reading(struct net_conn *c, int on)
{
	if (!c->bev || on == c->reading)
		return;
	if (on)
		bufferevent_enable(c->bev, EV_READ);
	else
		bufferevent_disable(c->bev, EV_READ);
	c->reading = on;
}

/* Reading follows one rule: on unless paused, full, finished or closing (a closing
 * connection reads to throw away what the peer still sends). */
void net_conn_update_reading_(struct net_conn *c)
{
	int want;

	if (c->closing == CLOSE_DRAIN) {
		set_reading(c, 1);
		return;
	}
	want = c->connected && !c->paused && !c->failed && !c->sock_eof && !c->closing &&
	       evbuffer_get_length(c->in) < c->read_limit;
	set_reading(c, want);
}

int net_conn_fail_(struct net_conn *c, enum net_event ev, const char *fmt, ...)
{
	char msg[sizeof(c->err)];
	va_list ap;

	/* through a copy: callers may pass c->err itself as an argument */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(c->err, msg, sizeof(msg));
	if (c->failed)
		return 0;
	c->failed = 1;
	if (c->bev)
		bufferevent_disable(c->bev, EV_READ | (c->broken ? EV_WRITE : 0));
	c->reading = 0;
	return net_conn_fire_event_(c, ev);
}

void net_conn_pump_(struct net_conn *c)
{
	if (c->dead || !c->bev || !c->connected)
		return;
	net_conn_hold_(c);
	if (c->closing) {
		/* the TLS session went at net_conn_close; what the peer still sends is dropped */
		evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
	} else if (c->tls_state != TLS_NONE && !c->failed) {
		if (net_conn_tls_pump_(c) < 0)
			goto out;
	} else if (!c->failed && !c->closing) {
		struct evbuffer *bin = bufferevent_get_input(c->bev);
		int got = evbuffer_get_length(bin) > 0;
		if (got)
			evbuffer_add_buffer(c->in, bin);
		if ((got || evbuffer_get_length(c->in)) && !c->paused && net_conn_fire_read_(c) < 0)
			goto out;
		if (!c->dead && c->sock_eof && !c->failed && c->tls_state == TLS_NONE &&
		    net_conn_fail_(c, NET_EV_EOF, "peer closed the connection") < 0)
			goto out;
	}
	if (!c->dead)
		net_conn_update_reading_(c);
out:
	net_conn_release_(c);
}

/* ---- bufferevent callbacks ---- */

static void close_finish(struct net_conn *c)
{
	if (c->busy) {
		c->dead = 1;
		return;
	}
	net_conn_destroy_(c);
}

/* Output flushed while closing: half-close and read until the peer is done too, so
 * unread bytes from the peer do not turn our last words into a reset. */
static void close_drain_start(struct net_conn *c)
{
	struct timeval tv = { CLOSE_LINGER_SEC, 0 };

	c->closing = CLOSE_DRAIN;
	if (c->sock_eof || !c->bev) {
		close_finish(c);
		return;
	}
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
	set_reading(c, 0);
	set_reading(c, 1);
}

static void bev_event(struct bufferevent *bev, short what, void *arg);

static void bev_read(struct bufferevent *bev, void *arg)
{
	struct net_conn *c = arg;
	int err = 0;

	if (c->tls_state == TLS_NONE && !c->closing && !c->failed && c->connected)
		err = net_conn_read_more_(c);
	else if (c->tls_state == TLS_UP && !c->closing && !c->failed && !c->paused &&
		 evbuffer_get_length(c->in) < c->read_limit &&
		 evbuffer_get_length(bufferevent_get_input(bev)) >= LIBEVENT_READ_MAX)
		/* records too, when libevent's read came back full (more is waiting; a short
		 * message never costs a large buffer): a TLS download at 300 MB/s otherwise
		 * costs epoll_wait, FIONREAD and readv per 4 KiB (65,000 of each for 256 MiB,
		 * now 2,000); at most one step of raw records per wakeup */
		err = net_read_more_(bufferevent_get_input(bev), bufferevent_getfd(bev), NET_CONN_READ_MORE_MAX);
	if (!err) {
		net_conn_pump_(c);
		return;
	}
	/* the same path as an error libevent saw while reading (buffered bytes first) */
	errno = err;
	bev_event(bev, BEV_EVENT_ERROR | BEV_EVENT_READING, c);
}

static void bev_write(struct bufferevent *bev, void *arg)
{
	struct net_conn *c = arg;

	if (c->closing == CLOSE_FLUSH) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			close_drain_start(c);
		return;
	}
	if (c->closing || c->failed || !c->connected)
		return;
	if (net_conn_output_len(c) <= c->write_low)
		fire_drain(c);
}

static void bev_event(struct bufferevent *bev, short what, void *arg)
{
	struct net_conn *c = arg;

	(void)bev;
	if (c->closing) {
		/* EOF, error or timeout while closing: we are done either way */
		if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
			c->sock_eof = 1;
			close_finish(c);
		}
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		/* The socket is fine, the peer is only slow or silent: the application may
		 * still say goodbye (see net_conn_write) before it closes. */
		if (!c->failed)
			c->timed_out = 1;
		if (what & BEV_EVENT_WRITING)
			net_conn_fail_(c, NET_EV_TIMEOUT, "peer took no data for %lu ms", c->idle_ms);
		else
			net_conn_fail_(c, NET_EV_TIMEOUT, "no data for %lu ms", c->idle_ms);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int e = EVUTIL_SOCKET_ERROR();
		/* Bytes already buffered still reach the application first. */
		if (what & BEV_EVENT_READING) {
			c->sock_eof = 1;
			net_conn_hold_(c);
			if (c->tls_state == TLS_NONE && evbuffer_get_length(bufferevent_get_input(bev)))
				net_conn_pump_(c);
			if (net_conn_release_(c) < 0 || c->failed)
				return;
		}
		c->broken = 1;
		net_conn_fail_(c, NET_EV_ERROR, "%s", e ? evutil_socket_error_to_string(e) : "socket error");
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->sock_eof = 1;
		c->reading = 0;
		net_conn_pump_(c);
	}
}

void net_conn_fill_addrs_(struct net_conn *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	for (int side = 0; side < 2; side++) {
		char *ip = side ? c->local_ip : c->peer_ip;
		char *full = side ? c->local : c->peer;
		size_t ipcap = sizeof(c->peer_ip);
		int port = 0;
		sl = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if ((side ? getsockname(fd, (struct sockaddr *)&ss, &sl) : getpeername(fd, (struct sockaddr *)&ss, &sl)) < 0) {
			snprintf(ip, ipcap, "?");
			snprintf(full, sizeof(c->peer), "?");
			continue;
		}
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			evutil_inet_ntop(AF_INET6, &s6->sin6_addr, ip, ipcap);
			port = ntohs(s6->sin6_port);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			evutil_inet_ntop(AF_INET, &s4->sin_addr, ip, ipcap);
			port = ntohs(s4->sin_port);
		}
		net_join_hostport(full, sizeof(c->peer), ip, port);
	}
}

int net_conn_attach_(struct net_conn *c, struct bufferevent *bev)
{
	int one = 1;

	c->bev = bev;
	c->connected = 1;
	c->reading = 0;
	net_conn_fill_addrs_(c, bufferevent_getfd(bev));
	/* Our writes are whole messages (a relayed frame, an SMTP reply): Nagle would hold
	 * a small one back until the previous one is acknowledged, and with the peer's
	 * delayed ACK that is up to 40 ms per keystroke or flow-control credit. */
	setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bufferevent_setcb(bev, bev_read, bev_write, bev_event, c);
	/* libevent writes at most 16 KiB per wakeup by default: a relay would pay a system
	 * call (and a trip through epoll) per 16 KiB */
	bufferevent_set_max_single_write(bev, NET_CONN_READ_MORE_MAX);
	bufferevent_setwatermark(bev, EV_WRITE, c->write_low, 0);
	bufferevent_enable(bev, EV_WRITE);
	net_conn_set_idle_timeout(c, c->idle_ms);
	net_conn_update_reading_(c);
	return net_conn_flush_pending_(c);
}

/* ---- settings ---- */

void net_conn_set_cbs(struct net_conn *c, const struct net_conn_cbs *cbs, void *arg)
{
	if (c->proxy) {
		/* the CONNECT exchange owns the callbacks until the tunnel is open */
		net_proxy_state_set_user_cbs_(c->proxy, cbs, arg);
		return;
	}
	if (cbs)
		c->cbs = *cbs;
	else
		memset(&c->cbs, 0, sizeof(c->cbs));
	c->arg = arg;
}

void net_conn_set_idle_timeout(struct net_conn *c, unsigned long ms)
{
	struct timeval tv = net_ms_tv_(ms);

	c->idle_ms = ms;
	/* The same limit for output that the peer does not take: a client that stops
	 * reading (and so stops our reading through flow control) times out too. */
	if (c->bev && !c->closing)
		bufferevent_set_timeouts(c->bev, ms ? &tv : NULL, ms ? &tv : NULL);
}

void net_conn_set_read_limit(struct net_conn *c, size_t bytes)
{
	c->read_limit = bytes ? bytes : 1;
	if (!c->closing)
		net_conn_update_reading_(c);
}

void net_conn_set_write_low(struct net_conn *c, size_t bytes)
{
	c->write_low = bytes;
	if (c->bev && !c->closing)
		bufferevent_setwatermark(c->bev, EV_WRITE, bytes, 0);
}

void net_conn_set_max_line(struct net_conn *c, size_t bytes)
{
	c->max_line = bytes ? bytes : 1;
}

/* ---- addresses, errors, closing ---- */

const char *net_conn_peer(const struct net_conn *c)
{
	return c->peer[0] ? c->peer : "?";
}

const char *net_conn_local(const struct net_conn *c)
{
	return c->local[0] ? c->local : "?";
}

const char *net_conn_peer_ip(const struct net_conn *c)
{
	return c->peer_ip[0] ? c->peer_ip : "?";
}

const char *net_conn_local_ip(const struct net_conn *c)
{
	return c->local_ip[0] ? c->local_ip : "?";
}

const char *net_conn_error(const struct net_conn *c)
{
	return c->err[0] ? c->err : "no error";
}

struct net_loop *net_conn_loop(const struct net_conn *c)
{
	return c->loop;
}

void net_conn_free(struct net_conn *c)
{
	if (!c || c->dead)
		return;
	memset(&c->cbs, 0, sizeof(c->cbs));
	if (c->busy) {
		c->dead = 1;
		if (c->bev)
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		if (c->kick)
			event_del(c->kick);
		net_conn_connect_cleanup_(c);
		return;
	}
	net_conn_destroy_(c);
}

void net_conn_close(struct net_conn *c)
{
	struct timeval tv = { CLOSE_FLUSH_SEC, 0 };

	if (!c || c->dead || c->closing)
		return;
	memset(&c->cbs, 0, sizeof(c->cbs));
	if (!c->bev || !c->connected || c->proxy || c->broken) {
		net_conn_free(c);
		return;
	}
	if (c->tls_state == TLS_UP && net_conn_writable_(c)) {
		net_conn_flush_pending_(c);
		net_conn_tls_ops_->shutdown(c->tls);
	}
	/* Everything left to send is ciphertext in the bufferevent now. Dropping the
	 * session here (the client side saves it for resumption) means a closing
	 * connection no longer refers to the application's TLS context, which may be
	 * freed from now on. */
	if (c->tls) {
		net_conn_tls_ops_->free(c->tls);
		c->tls = NULL;
	}
	c->closing = CLOSE_FLUSH;
	if (c->kick)
		event_del(c->kick);
	set_reading(c, 0);
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	if (c->tls_state == TLS_NONE && evbuffer_get_length(c->out))
		evbuffer_add_buffer(bufferevent_get_output(c->bev), c->out);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		close_drain_start(c);
		return;
	}
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	bufferevent_enable(c->bev, EV_WRITE);
}
