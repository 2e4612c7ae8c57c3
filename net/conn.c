/* conn.c - a connection over a socket bufferevent: plain bytes, or TLS through the
 * crypto/ engine whose I/O callbacks read and write the bufferevent's evbuffers.
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
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "crypto/tls.h"
#include "net/internal.h"
#include "net/line.h"
#include "net/loop.h"

#define TLS_READ_CHUNK 16384
#define CLOSE_LINGER_SEC 2
#define CLOSE_FLUSH_SEC 10

/* TLS calls go through this table, which only net_conn_start_tls installs: a binary
 * that never starts TLS on a connection (a hitc-only image) then names none of
 * wolfSSL's TLS code, and --gc-sections leaves it all out (about 1 MB static). */
struct tls_ops {
	void (*free)(struct cry_tls *t);
	int (*handshake)(struct cry_tls *t);
	ssize_t (*read)(struct cry_tls *t, void *buf, size_t len);
	ssize_t (*write)(struct cry_tls *t, const void *buf, size_t len);
	size_t (*pending)(const struct cry_tls *t);
	int (*shutdown)(struct cry_tls *t);
	const char *(*error)(const struct cry_tls *t);
};
static const struct tls_ops *tls_ops; /* set before any c->tls exists */

static void conn_pump(struct net_conn *c);
static void destroy(struct net_conn *c);

void net_conn_hold_(struct net_conn *c)
{
	c->busy++;
}

int net_conn_release_(struct net_conn *c)
{
	c->busy--;
	if (c->dead) {
		if (c->busy == 0)
			destroy(c);
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
		conn_pump(c);
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
	destroy(self);
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
		destroy(c);
		return NULL;
	}
	return c;
}

static void destroy(struct net_conn *c)
{
	net_own_del_(&c->own);
	net_conn_connect_cleanup_(c);
	if (c->proxy) {
		net_proxy_state_free_(c->proxy);
		c->proxy = NULL;
	}
	if (c->tls) {
		tls_ops->free(c->tls);
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

static int fire_read(struct net_conn *c)
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
static void update_reading(struct net_conn *c)
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

/* ---- TLS transport over the bufferevent ---- */

static ssize_t tls_recv(void *arg, uint8_t *buf, size_t len)
{
	struct net_conn *c = arg;
	int n;

	if (!c->bev)
		return -1;
	n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);
	if (n > 0)
		return n;
	return c->sock_eof ? 0 : CRY_IO_WANT;
}

static ssize_t tls_send(void *arg, const uint8_t *buf, size_t len)
{
	struct net_conn *c = arg;

	if (!c->bev || evbuffer_add(bufferevent_get_output(c->bev), buf, len) < 0)
		return -1;
	return (ssize_t)len;
}

static int tls_write_all(struct net_conn *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = tls_ops->write(c->tls, p, len);
		if (n <= 0) {
			snprintf(c->err, sizeof(c->err), "%s", tls_ops->error(c->tls));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Moves queued plaintext (written before connect or handshake finished) out. */
static int flush_pending(struct net_conn *c)
{
	size_t len = evbuffer_get_length(c->out);

	if (len == 0 || !c->bev || !c->connected)
		return 0;
	if (c->tls_state == TLS_NONE)
		return evbuffer_add_buffer(bufferevent_get_output(c->bev), c->out);
	if (c->tls_state != TLS_UP)
		return 0;
	while ((len = evbuffer_get_length(c->out)) > 0) {
		size_t chunk = len > 16384 ? 16384 : len;
		unsigned char *p = evbuffer_pullup(c->out, (ev_ssize_t)chunk);
		if (!p || tls_write_all(c, p, chunk) < 0)
			return -1;
		evbuffer_drain(c->out, chunk);
	}
	return 0;
}

/* Handshake, then decrypt into c->in while there is room. Returns -1 if c is gone. */
static int tls_pump(struct net_conn *c)
{
	int got = 0, eof = 0, err = 0, r;

	if (c->tls_state == TLS_HANDSHAKE) {
		r = tls_ops->handshake(c->tls);
		if (r == CRY_TLS_WANT_READ || r == CRY_TLS_WANT_WRITE) {
			if (c->sock_eof)
				return net_conn_fail_(c, NET_EV_ERROR, "peer closed during the TLS handshake");
			return 0;
		}
		if (r != CRY_TLS_OK)
			return net_conn_fail_(c, NET_EV_ERROR, "%s", tls_ops->error(c->tls));
		c->tls_state = TLS_UP;
		if (flush_pending(c) < 0)
			return net_conn_fail_(c, NET_EV_ERROR, "%s", c->err);
		if (net_conn_fire_event_(c, NET_EV_TLS_READY) < 0)
			return -1;
		if (c->failed || c->closing || c->tls_state != TLS_UP)
			return 0;
	}
again:
	got = 0;
	while (!c->paused && evbuffer_get_length(c->in) < c->read_limit) {
		struct evbuffer_iovec v;
		ssize_t n;
		if (evbuffer_reserve_space(c->in, TLS_READ_CHUNK, &v, 1) < 1) {
			err = 1;
			snprintf(c->err, sizeof(c->err), "out of memory");
			break;
		}
		n = tls_ops->read(c->tls, v.iov_base, v.iov_len);
		if (n > 0) {
			v.iov_len = (size_t)n;
			evbuffer_commit_space(c->in, &v, 1);
			got = 1;
			continue;
		}
		evbuffer_commit_space(c->in, &v, 0);
		if (n == CRY_TLS_WANT_READ || n == CRY_TLS_WANT_WRITE) {
			if (c->sock_eof)
				eof = 1; /* closed without close_notify; what we have is all */
			break;
		}
		if (n == CRY_TLS_CLOSED) {
			eof = 1;
			break;
		}
		err = 1;
		snprintf(c->err, sizeof(c->err), "%s", tls_ops->error(c->tls));
		break;
	}
	if (got && fire_read(c) < 0)
		return -1;
	if (c->failed || c->closing || c->tls_state != TLS_UP)
		return 0;
	/* The limit stopped us and the application made room: records already buffered
	 * will not trigger another read event, so decrypt them now. */
	if (got && !err && !eof && !c->paused && evbuffer_get_length(c->in) < c->read_limit &&
	    (evbuffer_get_length(bufferevent_get_input(c->bev)) || tls_ops->pending(c->tls)))
		goto again;
	if (err)
		return net_conn_fail_(c, NET_EV_ERROR, "%s", c->err);
	if (eof) {
		c->sock_eof = 1;
		return net_conn_fail_(c, NET_EV_EOF, "peer closed the connection");
	}
	return 0;
}

static void conn_pump(struct net_conn *c)
{
	if (c->dead || !c->bev || !c->connected)
		return;
	net_conn_hold_(c);
	if (c->closing) {
		/* the TLS session went at net_conn_close; what the peer still sends is dropped */
		evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
	} else if (c->tls_state != TLS_NONE && !c->failed) {
		if (tls_pump(c) < 0)
			goto out;
	} else if (!c->failed && !c->closing) {
		struct evbuffer *bin = bufferevent_get_input(c->bev);
		int got = evbuffer_get_length(bin) > 0;
		if (got)
			evbuffer_add_buffer(c->in, bin);
		if ((got || evbuffer_get_length(c->in)) && !c->paused && fire_read(c) < 0)
			goto out;
		if (!c->dead && c->sock_eof && !c->failed && c->tls_state == TLS_NONE &&
		    net_conn_fail_(c, NET_EV_EOF, "peer closed the connection") < 0)
			goto out;
	}
	if (!c->dead)
		update_reading(c);
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
	destroy(c);
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

/* libevent 2.1 reads at most 4 KiB per wakeup (EVBUFFER_MAX_READ; only 2.2 can change
 * it): a relay moving 200 MB/s then spends four system calls (epoll_wait, FIONREAD, readv,
 * epoll_ctl) per 4 KiB, which was a third of a tunneld transfer's CPU. So after libevent's
 * read, a plain connection takes what else the socket holds in large reads straight
 * into its input buffer, up to its read limit. Returns 0, or an errno for a failed read (the socket's error is consumed by
 * the read that saw it, so the caller must report it); an EOF is left for libevent's next
 * read, which sees it again. */
#define READ_MORE_MAX (256 * 1024)
static int read_more(struct net_conn *c)
{
	struct evbuffer *bin = c->in; /* the bufferevent's own input is frozen at its end */
	int fd = bufferevent_getfd(c->bev);
	size_t have;

	evbuffer_add_buffer(c->in, bufferevent_get_input(c->bev)); /* what libevent read first */
	have = evbuffer_get_length(c->in);

	while (fd >= 0 && have < c->read_limit) {
		size_t want = c->read_limit - have;
		struct evbuffer_iovec v[2];
		struct iovec iov[2];
		ssize_t r;
		int n;

		if (want > READ_MORE_MAX)
			want = READ_MORE_MAX;
		n = evbuffer_reserve_space(bin, (ev_ssize_t)want, v, 2);
		if (n <= 0)
			return 0;
		for (int i = 0; i < n; i++) {
			if (v[i].iov_len > want)
				v[i].iov_len = want;
			want -= v[i].iov_len;
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
		}
		do
			r = readv(fd, iov, n);
		while (r < 0 && errno == EINTR);
		if (r <= 0) {
			int e = errno;
			evbuffer_commit_space(bin, v, 0);
			return r < 0 && e != EAGAIN && e != EWOULDBLOCK ? e : 0;
		}
		want = (size_t)r;
		for (int i = 0; i < n; i++) {
			v[i].iov_len = v[i].iov_len < want ? v[i].iov_len : want;
			want -= v[i].iov_len;
		}
		if (evbuffer_commit_space(bin, v, n) < 0)
			return 0;
		have += (size_t)r;
		if ((size_t)r < iov[0].iov_len + (n > 1 ? iov[1].iov_len : 0))
			return 0; /* the socket is empty */
	}
	return 0;
}

static void bev_event(struct bufferevent *bev, short what, void *arg);

static void bev_read(struct bufferevent *bev, void *arg)
{
	struct net_conn *c = arg;
	int err = 0;

	if (c->tls_state == TLS_NONE && !c->closing && !c->failed && c->connected)
		err = read_more(c);
	if (!err) {
		conn_pump(c);
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
				conn_pump(c);
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
		conn_pump(c);
	}
}

void net_conn_fill_addrs_(struct net_conn *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *fmt;

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
			fmt = "[%s]:%d";
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			evutil_inet_ntop(AF_INET, &s4->sin_addr, ip, ipcap);
			port = ntohs(s4->sin_port);
			fmt = "%s:%d";
		}
		if (ss.ss_family == AF_INET6)
			snprintf(full, sizeof(c->peer), "[%s]:%d", ip, port);
		else
			snprintf(full, sizeof(c->peer), "%s:%d", ip, port);
		(void)fmt;
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
	bufferevent_set_max_single_write(bev, READ_MORE_MAX);
	bufferevent_setwatermark(bev, EV_WRITE, c->write_low, 0);
	bufferevent_enable(bev, EV_WRITE);
	net_conn_set_idle_timeout(c, c->idle_ms);
	update_reading(c);
	return flush_pending(c);
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
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };

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
		update_reading(c);
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

/* ---- input ---- */

/* After the application took bytes: reading may resume, and a TLS connection may hold
 * more decrypted data than fitted before. */
static void input_taken(struct net_conn *c)
{
	if (c->closing || c->failed || !c->connected)
		return;
	if (!c->reading && !c->paused && evbuffer_get_length(c->in) < c->read_limit) {
		update_reading(c);
		if (c->tls_state != TLS_NONE)
			net_conn_kick_(c);
	}
}

size_t net_conn_input_len(const struct net_conn *c)
{
	return evbuffer_get_length(c->in);
}

size_t net_conn_read(struct net_conn *c, void *buf, size_t len)
{
	int n = evbuffer_remove(c->in, buf, len);

	input_taken(c);
	return n > 0 ? (size_t)n : 0;
}

size_t net_conn_peek(struct net_conn *c, void *buf, size_t len)
{
	ev_ssize_t n = evbuffer_copyout(c->in, buf, len);
	return n > 0 ? (size_t)n : 0;
}

void net_conn_drain(struct net_conn *c, size_t len)
{
	evbuffer_drain(c->in, len);
	input_taken(c);
}

int net_conn_readline_crlf(struct net_conn *c, char **line, size_t *len, int *had_cr)
{
	size_t have = evbuffer_get_length(c->in), scan, ll = 0, used = 0;
	unsigned char *p;
	int cr = 0, r;

	*line = NULL;
	if (len)
		*len = 0;
	if (have == 0)
		return 0;
	scan = c->max_line + 2 < have ? c->max_line + 2 : have;
	p = evbuffer_pullup(c->in, (ev_ssize_t)scan);
	if (!p)
		return -1;
	r = net_line_scan(p, scan, c->max_line, &ll, &used, &cr);
	if (r <= 0)
		return r;
	*line = malloc(ll + 1);
	if (!*line)
		return -1;
	memcpy(*line, p, ll);
	(*line)[ll] = 0;
	evbuffer_drain(c->in, used);
	if (len)
		*len = ll;
	if (had_cr)
		*had_cr = cr;
	input_taken(c);
	return 1;
}

int net_conn_readline(struct net_conn *c, char **line, size_t *len)
{
	return net_conn_readline_crlf(c, line, len, NULL);
}

/* ---- output ---- */

/* Writing is allowed until the connection closes or fails; after an idle timeout it
 * stays allowed as long as the socket itself is healthy (no error, no EOF) and no TLS
 * handshake is half done, so a protocol can send its last words ("421 ... timeout"). */
static int writable(const struct net_conn *c)
{
	if (c->dead || c->closing)
		return 0;
	if (!c->failed)
		return 1;
	return c->timed_out && !c->broken && !c->sock_eof && c->connected && c->bev &&
	       c->tls_state != TLS_HANDSHAKE;
}

/* libevent stops writing on a write timeout; a last word after it must still go. */
static void rearm_after_timeout(struct net_conn *c)
{
	if (c->failed && c->bev)
		bufferevent_enable(c->bev, EV_WRITE);
}

int net_conn_write(struct net_conn *c, const void *data, size_t len)
{
	if (!writable(c)) {
		if (!c->err[0])
			snprintf(c->err, sizeof(c->err), "write on a closed connection");
		return -1;
	}
	if (len == 0)
		return 0;
	rearm_after_timeout(c);
	if (!c->bev || !c->connected || c->tls_state == TLS_HANDSHAKE || evbuffer_get_length(c->out))
		return evbuffer_add(c->out, data, len);
	if (c->tls_state == TLS_UP)
		return tls_write_all(c, data, len);
	return bufferevent_write(c->bev, data, len);
}

int net_conn_printf(struct net_conn *c, const char *fmt, ...)
{
	char small[512], *p = small;
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(small)) {
		p = malloc((size_t)n + 1);
		if (!p)
			return -1;
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	r = net_conn_write(c, p, (size_t)n);
	if (p != small)
		free(p);
	return r;
}

size_t net_conn_output_len(const struct net_conn *c)
{
	size_t n = evbuffer_get_length(c->out);

	if (c->bev)
		n += evbuffer_get_length(bufferevent_get_output(c->bev));
	return n;
}

int net_conn_forward(struct net_conn *src, struct net_conn *dst)
{
	int r = 0;

	if (!writable(dst))
		return -1;
	rearm_after_timeout(dst);
	if (dst->bev && dst->connected && dst->tls_state == TLS_NONE && !evbuffer_get_length(dst->out)) {
		r = evbuffer_add_buffer(bufferevent_get_output(dst->bev), src->in);
	} else if (dst->bev && dst->connected && dst->tls_state == TLS_UP && !evbuffer_get_length(dst->out)) {
		size_t len;
		while (r == 0 && (len = evbuffer_get_length(src->in)) > 0) {
			size_t chunk = len > 16384 ? 16384 : len;
			unsigned char *p = evbuffer_pullup(src->in, (ev_ssize_t)chunk);
			if (!p || tls_write_all(dst, p, chunk) < 0)
				r = -1;
			else
				evbuffer_drain(src->in, chunk);
		}
	} else {
		r = evbuffer_add_buffer(dst->out, src->in);
	}
	input_taken(src);
	return r;
}

void net_conn_pause_read(struct net_conn *c)
{
	c->paused = 1;
	if (!c->closing)
		update_reading(c);
}

void net_conn_resume_read(struct net_conn *c)
{
	if (!c->paused)
		return;
	c->paused = 0;
	if (c->closing || c->failed)
		return;
	update_reading(c);
	/* Bytes that arrived (or were decrypted) while paused are delivered now. */
	if (evbuffer_get_length(c->in) || c->tls_state != TLS_NONE)
		net_conn_kick_(c);
}

/* ---- TLS ---- */

int net_conn_start_tls(struct net_conn *c, struct cry_tls_ctx *ctx, const char *host)
{
	if (c->tls || !c->bev || c->failed || c->closing) {
		snprintf(c->err, sizeof(c->err), "cannot start TLS on this connection");
		return -1;
	}
	/* CVE-2011-0411 class: whatever the peer sent before the handshake was sent in
	 * plaintext, whatever it claims to be; it must never count as TLS input. */
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	evbuffer_drain(bufferevent_get_input(c->bev), evbuffer_get_length(bufferevent_get_input(c->bev)));
	/* Output queued before this point still goes out in plaintext, in order. */
	if (evbuffer_get_length(c->out))
		evbuffer_add_buffer(bufferevent_get_output(c->bev), c->out);
	static const struct tls_ops wolf = { cry_tls_free, cry_tls_handshake, cry_tls_read,
		cry_tls_write, cry_tls_pending, cry_tls_shutdown, cry_tls_error };
	tls_ops = &wolf;
	c->tls = cry_tls_new(ctx, host, tls_recv, tls_send, c);
	if (!c->tls) {
		snprintf(c->err, sizeof(c->err), "cannot create TLS session");
		return -1;
	}
	c->tls_state = TLS_HANDSHAKE;
	update_reading(c);
	/* The client speaks first; run it from the loop, never inside the caller. */
	net_conn_kick_(c);
	return 0;
}

int net_conn_is_tls(const struct net_conn *c)
{
	return c->tls_state == TLS_UP;
}

int net_conn_tls_info(const struct net_conn *c, struct cry_tls_info *info)
{
	if (!c->tls || c->tls_state != TLS_UP) {
		memset(info, 0, sizeof(*info));
		return -1;
	}
	return cry_tls_describe(c->tls, info);
}

char *net_conn_tls_peer_chain_new(const struct net_conn *c)
{
	return c->tls ? cry_tls_peer_chain_pem_new(c->tls) : NULL;
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
	destroy(c);
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
	if (c->tls_state == TLS_UP && writable(c)) {
		flush_pending(c);
		tls_ops->shutdown(c->tls);
	}
	/* Everything left to send is ciphertext in the bufferevent now. Dropping the
	 * session here (the client side saves it for resumption) means a closing
	 * connection no longer refers to the application's TLS context, which may be
	 * freed from now on. */
	if (c->tls) {
		tls_ops->free(c->tls);
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
