/* dial.c - opening a net_stream: TCP with a timeout, or a tunnel through an HTTP CONNECT
 * proxy (the blocking twin of proxy_conn.c, for poll-driven clients; both answer the
 * proxy's challenge through http_auth.c). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/secret.h"
#include "crypto/crypto.h"
#include "net/http_auth.h"
#include "net/proxy.h"
#include "net/stream.h"

#define MAX_BODY (64 * 1024) /* a 407 body we read past; a bigger one: connect again */

/* poll timeout until deadline, at least 1 ms (0 would only poll) */
static int left_ms(long long deadline)
{
	int l = clock_ms_left(deadline);
	return l < 1 ? 1 : l;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	struct pollfd p;
	int e = 0, r;
	socklen_t el = sizeof(e);

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		goto fail;
	p.fd = fd;
	p.events = POLLOUT;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
		errno = e ? e : r == 0 ? ETIMEDOUT : errno;
		goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

struct net_stream *net_stream_dial(const char *host, int port, int timeout_ms, char *err,
				   size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char ps[16];
	int fd = -1, rc, one = 1;
	struct net_stream *s;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%d", port);
	if ((rc = getaddrinfo(host, ps, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return NULL;
	}
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, timeout_ms);
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port, strerror(errno));
	freeaddrinfo(res);
	if (fd < 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!(s = net_stream_new(fd)))
		snprintf(err, errlen, "out of memory");
	return s;
}

/* keeps only printable ASCII (the proxy's words end up in messages) */
static void clean_copy(char *out, size_t cap, const char *in, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && in[i] && k + 1 < cap; i++)
		out[k++] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[k] = 0;
}

int net_http_head_parse(const char *head, size_t len, struct net_http_head *h)
{
	const char *p = head, *end = head + len;
	int major, minor, first = 1;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[1200];
		if (n && p[n - 1] == '\r')
			n--;
		if (first) {
			clean_copy(h->status_line, sizeof(h->status_line), p, n);
			if (sscanf(h->status_line, "HTTP/%d.%d %3d", &major, &minor, &h->status) != 3 ||
			    h->status < 100 || h->status > 599)
				return -1;
			first = 0;
		} else if (n == 0) {
			break; /* the blank line */
		} else if (n < sizeof(line)) {
			const char *v;
			memcpy(line, p, n);
			line[n] = 0;
			v = strchr(line, ':');
			if (v) {
				size_t k = (size_t)(v - line);
				v++;
				while (*v == ' ' || *v == '\t')
					v++;
				if (k == 18 && strncasecmp(line, "Proxy-Authenticate", k) == 0) {
					struct net_http_challenge ch;
					if (net_http_parse_challenge(v, strlen(v), &ch) == 0 &&
					    net_http_challenge_better(&ch, &h->auth))
						h->auth = ch;
				} else if (k == 14 && strncasecmp(line, "Content-Length", k) == 0) {
					char *e;
					long long cl = strtoll(v, &e, 10);
					if (e == v || cl < 0)
						return -1;
					h->content_length = cl;
				} else if ((k == 10 && strncasecmp(line, "Connection", k) == 0) ||
					   (k == 16 && strncasecmp(line, "Proxy-Connection", k) == 0)) {
					if (strcasestr(v, "close"))
						h->conn_close = 1;
				}
			}
		} /* an over-long header line is nobody we need: skipped */
		if (!nl)
			break;
		p = nl + 1;
	}
	return first ? -1 : 0;
}

/* Reads and drops n bytes (a 407's body) before the deadline. */
static int skip_body(struct net_stream *s, long long n, long long deadline)
{
	char buf[4096];

	while (n > 0) {
		ssize_t r = net_stream_read(s, buf, n < (long long)sizeof(buf) ? (size_t)n : sizeof(buf));
		if (r > 0) {
			n -= r;
			continue;
		}
		if (r == 0 || errno != EAGAIN || clock_ms() >= deadline)
			return -1;
		{
			struct pollfd p = { net_stream_fd(s), POLLIN, 0 };
			if (poll(&p, 1, left_ms(deadline)) < 0 && errno != EINTR)
				return -1;
		}
	}
	return 0;
}

static char *request_new(const struct net_proxy *p, const char *target,
			 const struct net_http_challenge *ch)
{
	char *auth = NULL, *req;
	size_t cap;

	if (ch) {
		char cnonce[33];
		uint8_t rnd[16];
		if (cry_random(rnd, sizeof(rnd)) < 0 ||
		    hex_encode(rnd, sizeof(rnd), cnonce, sizeof(cnonce), 0) < 0)
			return NULL;
		if (!(auth = net_http_auth_value_new(ch, p->user, p->pass, "CONNECT", target, 1, cnonce)))
			return NULL;
	}
	cap = 2 * strlen(target) + (auth ? strlen(auth) : 0) + 128;
	if ((req = malloc(cap)))
		snprintf(req, cap, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%sUser-Agent: sealbox\r\n\r\n",
			 target, target, auth ? "Proxy-Authorization: " : "", auth ? auth : "",
			 auth ? "\r\n" : "");
	secret_free_str(auth);
	return req;
}

struct net_stream *net_stream_dial_proxy(const struct net_proxy *p, const char *host, int port,
					 int timeout_ms, char *err, size_t errlen)
{
	long long deadline = clock_ms() + timeout_ms;
	struct net_http_challenge ch;
	struct net_stream *s = NULL;
	char target[300], head[8192], e[200];
	int have_ch = 0;

	if (!host || !*host || port <= 0 || port > 65535 || strpbrk(host, " \r\n/@")) {
		snprintf(err, errlen, "bad target for the proxy");
		return NULL;
	}
	snprintf(target, sizeof(target), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	for (int attempt = 0; attempt < 2; attempt++) {
		struct net_http_head h;
		char *req;
		int st;
		if (!s && !(s = net_stream_dial(p->host, p->port, left_ms(deadline), e, sizeof(e)))) {
			snprintf(err, errlen, "proxy %s:%d: %s", p->host, p->port, e);
			goto fail;
		}
		if (!(req = request_new(p, target, have_ch ? &ch : NULL))) {
			snprintf(err, errlen, "proxy %s:%d: cannot build the request", p->host, p->port);
			goto fail;
		}
		st = net_stream_http_exchange(s, req, left_ms(deadline), head, sizeof(head));
		secret_free_str(req); /* it may carry Basic credentials */
		if (st < 0 || net_http_head_parse(head, strlen(head), &h) < 0) {
			snprintf(err, errlen, "proxy %s:%d: no answer to CONNECT (%s)", p->host, p->port,
				 net_stream_error(s));
			goto fail;
		}
		if (h.status >= 200 && h.status < 300)
			return s;
		if ((h.status == 407 || h.status == 401) && have_ch) {
			/* some proxies (tinyproxy) say 401 to wrong credentials */
			snprintf(err, errlen, "proxy %s:%d: proxy authentication failed (%s)", p->host,
				 p->port, h.status_line);
			goto fail;
		}
		if (h.status != 407) {
			snprintf(err, errlen, "proxy %s:%d: proxy refused CONNECT: %s", p->host, p->port,
				 h.status_line);
			goto fail;
		}
		if (!p->user[0]) {
			snprintf(err, errlen, "proxy %s:%d: proxy requires authentication (%s)", p->host,
				 p->port, h.status_line);
			goto fail;
		}
		if (h.auth.scheme == NET_AUTH_NONE) {
			snprintf(err, errlen, "proxy %s:%d: proxy asks for an authentication scheme we do not speak (%s)",
				 p->host, p->port, h.status_line);
			goto fail;
		}
		ch = h.auth;
		have_ch = 1;
		/* answer on this connection if the proxy keeps it and we can tell where its
		 * body ends; otherwise connect again */
		if (h.conn_close || h.content_length < 0 || h.content_length > MAX_BODY ||
		    skip_body(s, h.content_length, deadline) < 0) {
			net_stream_free(s);
			s = NULL;
		}
	}
	snprintf(err, errlen, "proxy %s:%d: proxy authentication failed", p->host, p->port);
fail:
	net_stream_free(s);
	return NULL;
}
