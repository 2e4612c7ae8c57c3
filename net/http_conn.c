/* http_conn.c - one accepted connection of net/http.c: a bufferevent filter between
 * the socket and evhttp. It runs crypto/'s TLS engine when the server has TLS (the
 * engine reads ciphertext straight from the socket bufferevent's input and writes to its
 * output, since handshake records can be due while we are reading), and it guards what
 * reaches evhttp, which by itself would read a whole body before anyone looked at it:
 * - every request head is parsed (http_reqhead.c) and admitted before a byte of its
 *   body is read: the applet's admit callback names the largest body it takes; a larger
 *   Content-Length is answered 413 at once and the connection closed unread;
 * - the head (and a small body with it), and an idle keep-alive connection, have one
 *   total deadline (head_timeout) that a trickle of bytes cannot extend;
 * - at most one request waits behind the one being answered (no deep pipelining);
 * - Expect: 100-continue is answered here, when the body is admitted and every earlier
 *   reply has left, and the header is cut from what evhttp reads (another Expect: 417);
 * - the first loop pass after accept checks the per-address connection cap and bounds
 *   what the socket may hold unsent (TCP_NOTSENT_LOWAT, below);
 * - what evhttp queued is pushed to the socket before evhttp closes it (Connection:
 *   close, HTTP/1.0, a client that half-closed): evhttp frees the bufferevents and shuts
 *   the socket down in one go, before a deferred write could run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "core/log.h"
#include "crypto/tls.h"
#include "net/http_internal.h"
#include "net/internal.h"
#include "net/http_reqhead.h"

#define SMALL_BODY (64 * 1024)   /* bodies up to this share the head's deadline */
#define LINGER_SECS 2            /* reading (and dropping) after a refusal, so the
				  * client sees the answer and not a reset... */
#define LINGER_BYTES (1024 * 1024) /* ...but not a whole refused body */
/* What an accepted socket may hold that it has not sent yet. Without a bound a streamed
 * reply fills the whole send buffer (megabytes, autotuned) whenever the client reads
 * slower than the server writes: kernel memory per slow client, and on loopback the
 * client's own ACKs then push that queue out in the client's time (curl receiving a
 * 256 MiB download spent a median 501 ms of CPU against 431 ms with this bound, over
 * 15 alternating rounds; the server's CPU was the same). Refills come at the writable
 * event as before, 128 KiB at a time being enough to keep the socket busy. */
#define UNSENT_MAX (128 * 1024)

struct net_http_conn {
	struct net_http *h;       /* NULL once the server is gone */
	struct net_http_conn *next, *prev;
	struct bufferevent *under, *self;
	struct cry_tls *tls;      /* NULL for plain HTTP */
	struct evbuffer *plain;   /* TLS: decrypted, not yet passed on */
	struct event *flush;      /* deferred push of what evhttp queued */
	struct event *timer;      /* head deadline, then the linger after a refusal */
	struct event *check;      /* first pass: the per-address cap */
	void (*on_close)(void *);
	void *on_close_arg;
	uint64_t body_left;
	size_t discarded;         /* read and dropped after a refusal */
	int up;                   /* TLS handshake done (always 1 without TLS) */
	int failed, closing, in_body, queued;
	int continue_due;         /* a 100 Continue waits for the earlier reply */
	/* a body going to the applet's sink: its head (Content-Length 0) waits in held
	 * until the last byte is in, then goes to evhttp; the sink waits for the handler */
	struct net_http_sink sink;
	int sinking, sink_ready, sink_stopped;
	struct evbuffer *held;
	char peer[INET6_ADDRSTRLEN];
};

static void arm(struct net_http_conn *c, unsigned secs)
{
	struct timeval tv = { (time_t)secs, 0 };
	evtimer_add(c->timer, &tv);
}

/* evhttp drops the connection (from a timer: never inside evhttp's own callbacks). */
static void close_now(struct net_http_conn *c)
{
	c->closing = 1;
	bufferevent_trigger_event(c->self, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
}

/* Writes what the socket bufferevent holds to the socket, as far as it takes it now. */
static void push_now(struct net_http_conn *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->under);
	struct evbuffer *out = bufferevent_get_output(c->under);
	/* a socket bufferevent keeps its output's start frozen: only it writes there */
	evbuffer_unfreeze(out, 1);
	while (fd >= 0 && evbuffer_get_length(out) && evbuffer_write(out, fd) > 0)
		;
	evbuffer_freeze(out, 1);
}

static int out_plain(struct net_http_conn *c, const char *p, size_t n)
{
	if (!c->tls)
		return evbuffer_add(bufferevent_get_output(c->under), p, n);
	while (n) {
		ssize_t w = cry_tls_write(c->tls, (const uint8_t *)p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static const char *reason(int status)
{
	switch (status) {
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Bad Request";
	}
}

/* Answers status without reading further, then lingers briefly and closes. */
static void refuse(struct net_http_conn *c, int status, const char *why)
{
	char body[256], msg[512];
	int bl = snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}", status, why);
	int ml = snprintf(msg, sizeof(msg), "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			  "Content-Length: %d\r\nConnection: close\r\n\r\n%s", status, reason(status), bl, body);
	if (c->h)
		net_http_log_limited_(c->h, NET_HTTP_LOG_REFUSE, "http: %s: %d (%s)", c->peer, status, why);
	c->closing = 1;
	if (ml > 0 && (size_t)ml < sizeof(msg) && out_plain(c, msg, (size_t)ml) == 0)
		push_now(c);
	shutdown(bufferevent_getfd(c->under), SHUT_WR);
	arm(c, LINGER_SECS);
}

/* The largest body hd may have; *sunk = 1 when the applet's sink takes it (c->sink). */
static uint64_t admit(struct net_http_conn *c, const struct net_http_reqhead *hd, int *sunk)
{
	struct net_http *h = c->h;
	*sunk = 0;
	if (!h)
		return 0;
	if (!h->admit && !h->sink)
		return h->max_body;
	struct evhttp_uri *u = evhttp_uri_parse_with_flags(hd->target, 0);
	char *path = u ? net_http_decode_path_(u) : NULL;
	const char *q = u ? evhttp_uri_get_query(u) : NULL;
	struct net_http_reqinfo ri = { hd->method, path, hd->authorization, hd->content_length, c->peer, q ? q : "" };
	uint64_t lim = h->admit ? h->admit(&ri, h->admit_arg) : h->max_body;
	if (lim > h->max_body)
		lim = h->max_body;
	if (c->sink_ready && !c->queued) {
		/* a sunk request evhttp answered without the handler (a head it refused) */
		c->sink_ready = 0;
		if (c->sink.release)
			c->sink.release(c->sink.arg);
	}
	if (h->sink && hd->content_length && hd->content_length <= lim && !c->queued && !c->sink_ready) {
		memset(&c->sink, 0, sizeof(c->sink));
		*sunk = h->sink(&ri, &c->sink, h->sink_arg) == 1;
	}
	free(path);
	if (u)
		evhttp_uri_free(u);
	return lim;
}

/* Sends "100 Continue" (the interim answer of RFC 9110 15.2.1) once every earlier reply
 * has passed the filter, so it never lands inside one. It goes to the socket side
 * directly: through evhttp's output it would fire evhttp's write callback, which
 * completes whatever request evhttp thinks it is writing. */
static void try_continue(struct net_http_conn *c)
{
	static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
	if (!c->continue_due || c->queued != 1 || c->closing || !c->up ||
	    evbuffer_get_length(bufferevent_get_output(c->self)))
		return;
	c->continue_due = 0;
	if (out_plain(c, msg, sizeof(msg) - 1) == 0)
		push_now(c);
}

/* Moves the head [0, hl) of in to dst; strip: without its Expect lines (the guard
 * answers Expect itself: evhttp's own 100-continue handling breaks a keep-alive
 * connection's second upload, its interim answer racing the reply state of the request
 * before); zero: with Content-Length 0 (the body goes to a sink, evhttp reads none). */
static void move_head(struct evbuffer *in, struct evbuffer *dst, size_t hl, int strip, int zero)
{
	const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)hl);
	size_t pos = 0;
	if (!strip && !zero) {
		evbuffer_remove_buffer(in, dst, hl);
		return;
	}
	while (pos < hl) {
		const char *lf = memchr(p + pos, '\n', hl - pos);
		size_t end = lf ? (size_t)(lf - p) + 1 : hl;
		if (zero && end - pos >= 15 && evutil_ascii_strncasecmp(p + pos, "content-length:", 15) == 0)
			evbuffer_add(dst, "Content-Length: 0\r\n", 19);
		else if (!strip || !net_http_reqhead_is_expect(p + pos, end - pos))
			evbuffer_add(dst, p + pos, end - pos);
		pos = end;
	}
	evbuffer_drain(in, hl);
}

/* Body bytes [0, n) of in to the sink, as iovecs straight from the buffer. */
static void to_sink(struct net_http_conn *c, struct evbuffer *in, size_t n)
{
	struct evbuffer_iovec v[64];
	while (n && !c->sink_stopped) {
		int k = evbuffer_peek(in, (ev_ssize_t)n, NULL, v, 64);
		if (k > 64)
			k = 64;
		size_t sum = 0;
		for (int i = 0; i < k; i++) {
			if (sum + v[i].iov_len > n)
				v[i].iov_len = n - sum;
			sum += v[i].iov_len;
		}
		if (c->sink.write(c->sink.arg, (const struct iovec *)v, k) < 0)
			c->sink_stopped = 1;
		evbuffer_drain(in, sum);
		n -= sum;
	}
	if (n)
		evbuffer_drain(in, n);
}

/* Moves admitted requests from in to evhttp's input dst; 1 when it moved any. */
static int guard(struct net_http_conn *c, struct evbuffer *in, struct evbuffer *dst)
{
	int produced = 0;
	while (!c->closing && evbuffer_get_length(in)) {
		if (c->in_body) {
			size_t n = evbuffer_get_length(in);
			if (n > c->body_left)
				n = (size_t)c->body_left;
			if (c->sinking)
				to_sink(c, in, n);
			else {
				evbuffer_remove_buffer(in, dst, n);
				produced = 1;
			}
			c->body_left -= n;
			if (!c->body_left) {
				c->in_body = 0;
				evtimer_del(c->timer);
				if (c->sinking) {
					c->sinking = 0;
					c->sink_ready = 1;
					evbuffer_add_buffer(dst, c->held);
					produced = 1;
				}
			}
			continue;
		}
		size_t n = evbuffer_get_length(in);
		if (n > NET_HTTP_MAX_HEAD)
			n = NET_HTTP_MAX_HEAD;
		struct net_http_reqhead hd;
		long hl = net_http_reqhead_parse((const char *)evbuffer_pullup(in, (ev_ssize_t)n), n, &hd);
		if (hl == 0)
			break;
		if (hl < 0) {
			refuse(c, hd.status, hd.status == 431 ? "request head too large" :
			       hd.status == 501 ? "request bodies must have a Content-Length" :
			       "malformed request head");
			break;
		}
		if (c->queued >= 2) {
			refuse(c, 503, "too many pipelined requests");
			break;
		}
		int sunk;
		uint64_t lim = admit(c, &hd, &sunk);
		if (hd.content_length > lim) {
			char why[96];
			snprintf(why, sizeof(why), "request body too large: at most %llu bytes here",
				 (unsigned long long)lim);
			refuse(c, 413, why);
			break;
		}
		if (hd.expect < 0) {
			refuse(c, 417, "only Expect: 100-continue is understood");
			break;
		}
		if (sunk && (c->held || (c->held = evbuffer_new()))) {
			move_head(in, c->held, (size_t)hl, hd.expect != 0, 1);
			c->sinking = 1;
			c->sink_stopped = 0;
		} else {
			if (sunk && c->sink.release)
				c->sink.release(c->sink.arg);
			move_head(in, dst, (size_t)hl, hd.expect != 0, 0);
			produced = 1;
		}
		/* HTTP/1.0 clients do not wait for it (RFC 9110 10.1.1) */
		c->queued++;
		if (hd.expect && hd.minor >= 1 && hd.content_length) {
			c->continue_due = 1;
			try_continue(c);
		}
		c->body_left = hd.content_length;
		c->in_body = c->body_left > 0;
		if (!c->in_body || c->body_left > SMALL_BODY)
			evtimer_del(c->timer);
	}
	return produced;
}

static ssize_t tls_recv(void *arg, uint8_t *buf, size_t len)
{
	struct net_http_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(c->under);
	if (evbuffer_get_length(in) == 0)
		return CRY_IO_WANT;
	int n = evbuffer_remove(in, buf, len);
	return n < 0 ? -1 : n;
}

static ssize_t tls_send(void *arg, const uint8_t *buf, size_t len)
{
	struct net_http_conn *c = arg;
	return evbuffer_add(bufferevent_get_output(c->under), buf, len) < 0 ? -1 : (ssize_t)len;
}

/* TLS: the handshake, then decrypts into c->plain until it holds PLAIN_CAP (so what
 * a refused request sent is never all decrypted and held). 1 when it decrypted
 * something, 0 when not, -1 on failure. */
#define PLAIN_CAP (NET_HTTP_MAX_HEAD + 16384)
#define SINK_CAP (1024 * 1024)  /* decrypted at a time for a sink: fewer, larger writes */
#define TLS_READ_STEP 16384     /* one TLS record's plaintext at most */
static int tls_in(struct net_http_conn *c)
{
	int got = 0;
	if (!c->up) {
		int rc = cry_tls_handshake(c->tls);
		if (rc == CRY_TLS_WANT_READ || rc == CRY_TLS_WANT_WRITE)
			return 0;
		if (rc != CRY_TLS_OK) {
			if (c->h)
				net_http_log_limited_(c->h, NET_HTTP_LOG_DROP, "https: %s: %s",
						      c->peer, cry_tls_error(c->tls));
			return -1;
		}
		c->up = 1;
		/* plaintext evhttp queued before the handshake finished */
		if (evbuffer_get_length(bufferevent_get_output(c->self)))
			bufferevent_flush(c->self, EV_WRITE, BEV_NORMAL);
	}
	while (evbuffer_get_length(c->plain) < (c->sinking ? SINK_CAP : PLAIN_CAP)) {
		/* decrypted straight into the buffer's free space: no copy through the stack */
		struct evbuffer_iovec v;
		if (evbuffer_reserve_space(c->plain, TLS_READ_STEP, &v, 1) < 1)
			return -1;
		ssize_t n = cry_tls_read(c->tls, v.iov_base, v.iov_len < TLS_READ_STEP ? v.iov_len : TLS_READ_STEP);
		if (n > 0) {
			v.iov_len = (size_t)n;
			if (evbuffer_commit_space(c->plain, &v, 1) < 0)
				return -1;
			got = 1;
			continue;
		}
		if (n == CRY_TLS_WANT_READ || n == CRY_TLS_WANT_WRITE || n == CRY_TLS_CLOSED)
			return got;
		log_info("https: %s: TLS read failed (%zd): %s", c->peer, n, cry_tls_error(c->tls));
		return -1;
	}
	return got;
}

static enum bufferevent_filter_result filter_in(struct evbuffer *src, struct evbuffer *dst,
						ev_ssize_t limit, enum bufferevent_flush_mode mode,
						void *arg)
{
	struct net_http_conn *c = arg;

	(void)limit;
	(void)mode;
	if (c->failed)
		return BEV_ERROR;
	if (c->closing) {
		c->discarded += evbuffer_get_length(src);
		evbuffer_drain(src, evbuffer_get_length(src));
		if (c->discarded > LINGER_BYTES)
			arm(c, 0);
		return BEV_NEED_MORE;
	}
	/* an admitted body: in large reads (net/sockread.c), not libevent's 4 KiB ones */
	if (c->in_body && net_read_more_(src, bufferevent_getfd(c->under), SINK_CAP) != 0) {
		c->failed = 1;
		return BEV_ERROR;
	}
	if (!c->tls)
		return guard(c, src, dst) ? BEV_OK : BEV_NEED_MORE;
	/* decrypt a bounded amount, let the guard pass or refuse it, repeat */
	int produced = 0, got;
	do {
		got = tls_in(c);
		if (got < 0) {
			c->failed = 1;
			return BEV_ERROR;
		}
		produced |= guard(c, c->plain, dst);
	} while (got && !c->closing);
	if (c->closing)
		evbuffer_drain(c->plain, evbuffer_get_length(c->plain));
	return produced ? BEV_OK : BEV_NEED_MORE;
}

static enum bufferevent_filter_result filter_out(struct evbuffer *src, struct evbuffer *dst,
						 ev_ssize_t limit, enum bufferevent_flush_mode mode,
						 void *arg)
{
	struct net_http_conn *c = arg;

	(void)limit;
	(void)mode;
	if (c->failed)
		return BEV_ERROR;
	if (!c->tls) {
		evbuffer_add_buffer(dst, src);
		return BEV_OK;
	}
	if (!c->up)
		return BEV_NEED_MORE;
	while (evbuffer_get_length(src)) {
		size_t chunk = evbuffer_get_length(src);
		if (chunk > 16384)
			chunk = 16384;
		const uint8_t *p = evbuffer_pullup(src, (ev_ssize_t)chunk);
		ssize_t n = cry_tls_write(c->tls, p, chunk);
		if (n > 0) {
			evbuffer_drain(src, (size_t)n);
			continue;
		}
		if (n == CRY_TLS_WANT_WRITE || n == CRY_TLS_WANT_READ)
			break;
		log_info("https: %s: TLS write failed (%zd): %s", c->peer, n, cry_tls_error(c->tls));
		c->failed = 1;
		return BEV_ERROR;
	}
	return BEV_OK;
}

/* evhttp queues a reply while the filter's EV_WRITE is off and enables it afterwards;
 * libevent's filter never looks at its output again on enable. So every addition
 * schedules one push through the filter for the end of this loop iteration. */
static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_http_conn *c = arg;
	(void)fd;
	(void)what;
	bufferevent_flush(c->self, EV_WRITE, BEV_FLUSH);
	try_continue(c);
}

static void out_added(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct net_http_conn *c = arg;
	(void)b;
	if (info->n_added && !event_pending(c->flush, EV_TIMEOUT, NULL))
		event_active(c->flush, EV_TIMEOUT, 0);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_http_conn *c = arg;
	(void)fd;
	(void)what;
	if (!c->closing && c->h)
		net_http_log_limited_(c->h, NET_HTTP_LOG_DROP, "http: %s: no complete request within %u s; "
				      "dropping the connection", c->peer, c->h->lim.head_timeout);
	close_now(c);
}

static void check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_http_conn *c = arg;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned same = 0;
	(void)fd;
	(void)what;
	if (!c->h || c->closing)
		return;
#ifdef TCP_NOTSENT_LOWAT
	int unsent = UNSENT_MAX;
	/* best effort: a kernel without it (before Linux 3.12) queues as before */
	(void)setsockopt(bufferevent_getfd(c->under), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &unsent, sizeof(unsent));
#endif
	if (getpeername(bufferevent_getfd(c->under), (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->peer, sizeof(c->peer));
		else
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer, sizeof(c->peer));
	}
	for (struct net_http_conn *o = c->h->conns; o; o = o->next)
		if (o != c && strcmp(o->peer, c->peer) == 0 && !o->closing)
			same++;
	if (same >= c->h->lim.max_conns_per_addr) {
		net_http_log_limited_(c->h, NET_HTTP_LOG_CAP, "http: %s has %u connections open already "
				      "(max_connections_per_address); refusing another", c->peer, same);
		close_now(c);
	}
}

static void conn_free(void *arg)
{
	struct net_http_conn *c = arg;
	struct net_http *h = c->h;

	/* the socket bufferevent may be gone already (libevent frees it first) */
	if (h) {
		if (c->prev)
			c->prev->next = c->next;
		else
			h->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		h->nconns--;
		net_http_accept_update_(h);
	}
	if (c->flush)
		event_free(c->flush);
	if (c->timer)
		event_free(c->timer);
	if (c->check)
		event_free(c->check);
	if ((c->sinking || c->sink_ready) && c->sink.release)
		c->sink.release(c->sink.arg);
	if (c->held)
		evbuffer_free(c->held);
	if (c->plain)
		evbuffer_free(c->plain);
	if (c->tls)
		cry_tls_free(c->tls);
	free(c);
}

struct bufferevent *net_http_conn_new_(struct net_http *h, struct event_base *base)
{
	struct net_http_conn *c = calloc(1, sizeof(*c));
	struct bufferevent *under = NULL, *bev = NULL;

	if (!c)
		return NULL;
	c->up = !h->tls;
	strcpy(c->peer, "?");
	under = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	c->flush = event_new(base, -1, 0, flush_cb, c);
	c->timer = evtimer_new(base, timer_cb, c);
	c->check = event_new(base, -1, 0, check_cb, c);
	if (!under || !c->flush || !c->timer || !c->check)
		goto fail;
	c->under = under;
	/* libevent reads 4 KiB per call by default: a 16 MiB upload was 4,096 readv,
	 * epoll_wait and FIONREAD calls */
	bufferevent_set_max_single_read(under, 256 * 1024);
	bufferevent_set_max_single_write(under, 256 * 1024);
	if (h->tls && (!(c->plain = evbuffer_new()) || !(c->tls = cry_tls_new(h->tls, NULL, tls_recv, tls_send, c))))
		goto fail;
	/* CLOSE_ON_FREE: the socket bufferevent owns the fd evhttp hands over, and goes
	 * with the filter; net_http_conn_flush_ empties it first. */
	bev = bufferevent_filter_new(under, filter_in, filter_out, BEV_OPT_CLOSE_ON_FREE, conn_free, c);
	if (!bev)
		goto fail;
	c->self = bev;
	evbuffer_add_cb(bufferevent_get_output(bev), out_added, c);
	c->h = h;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	net_http_accept_update_(h);
	arm(c, h->lim.head_timeout);
	event_active(c->check, EV_TIMEOUT, 0);
	return bev;
fail:
	if (under)
		bufferevent_free(under);
	c->h = NULL;
	conn_free(c);
	return NULL;
}

int net_http_conn_take_sink_(struct net_http_conn *c, struct net_http_sink *out)
{
	if (!c->sink_ready)
		return 0;
	c->sink_ready = 0;
	*out = c->sink;
	return 1;
}

struct net_http_conn *net_http_conn_of_(struct net_http *h, struct bufferevent *bev)
{
	for (struct net_http_conn *c = h->conns; c; c = c->next)
		if (c->self == bev)
			return c;
	return NULL;
}

void net_http_conn_done_(struct net_http_conn *c)
{
	if (c->queued)
		c->queued--;
	try_continue(c);
	if (!c->queued && !c->in_body && !c->closing && c->h)
		arm(c, c->h->lim.head_timeout);
}

void net_http_conn_flush_(struct net_http_conn *c)
{
	if (c->failed)
		return;
	/* not bufferevent_flush: evhttp may be closing from inside the filter's own write
	 * callback; the filter function moves the bytes without calling anyone */
	if (c->up)
		filter_out(bufferevent_get_output(c->self), bufferevent_get_output(c->under), -1, BEV_FLUSH, c);
	push_now(c);
}

void net_http_conn_on_close_(struct net_http_conn *c, void (*fn)(void *), void *arg)
{
	c->on_close = fn;
	c->on_close_arg = arg;
}

void net_http_conn_closing_(struct net_http_conn *c)
{
	void (*fn)(void *) = c->on_close;
	net_http_conn_flush_(c);
	c->closing = 1;
	evtimer_del(c->timer);
	c->on_close = NULL;
	if (fn)
		fn(c->on_close_arg);
}

void net_http_conn_detach_all_(struct net_http *h)
{
	struct net_http_conn *c = h->conns, *n;
	for (; c; c = n) {
		n = c->next;
		c->h = NULL;
		c->next = c->prev = NULL;
	}
	h->conns = NULL;
	h->nconns = 0;
}
