/* httpc.c - the blocking client of net/httpc.h: getaddrinfo + connect with timeouts,
 * response heads read by net/http_head.c (the parser every client path shares),
 * crypto/tls.h's engine driven by blocking socket calls. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/str.h"
#include "crypto/tls.h"
#include "net/http_head.h"
#include "net/httpc.h"

#define IO_TIMEOUT_S 60

struct net_httpc {
	char host[256];
	char port[8];
	int tls_on;
	struct cry_tls_ctx *ctx;
	struct cry_tls *tls;
	int fd;
	uint8_t buf[256 * 1024]; /* received, not yet consumed (a download's sink gets up to this) */
	size_t off, len;
};

static ssize_t io_recv(void *arg, uint8_t *b, size_t n)
{
	struct net_httpc *c = arg;
	for (;;) {
		ssize_t r = recv(c->fd, b, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

static ssize_t io_send(void *arg, const uint8_t *b, size_t n)
{
	struct net_httpc *c = arg;
	for (;;) {
		ssize_t r = send(c->fd, b, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

struct net_httpc *net_httpc_new(const char *base, const char *ca_file, char *err, size_t errlen)
{
	struct net_httpc *c = calloc(1, sizeof(*c));
	const char *h;

	if (!c)
		return NULL;
	c->fd = -1;
	if (str_has_prefix(base, "https://")) {
		c->tls_on = 1;
		h = base + 8;
	} else if (str_has_prefix(base, "http://")) {
		h = base + 7;
	} else {
		str_fmt(err, errlen, "server URL must start with https:// or http://: %s", base);
		goto fail;
	}
	size_t hl = strcspn(h, "/");
	char hp[300];
	if (hl >= sizeof(hp)) {
		str_copy(err, "server URL too long", errlen);
		goto fail;
	}
	memcpy(hp, h, hl);
	hp[hl] = '\0';
	char *colon = strrchr(hp, ':');
	if (hp[0] == '[') {
		char *rb = strchr(hp, ']');
		if (!rb) {
			str_copy(err, "bad IPv6 address in the server URL", errlen);
			goto fail;
		}
		*rb = '\0';
		str_copy(c->host, hp + 1, sizeof(c->host));
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		if (colon)
			*colon = '\0';
		str_copy(c->host, hp, sizeof(c->host));
	}
	str_copy(c->port, colon ? colon + 1 : (c->tls_on ? "443" : "80"), sizeof(c->port));
	if (c->tls_on) {
		struct cry_tls_conf tc = { .server = 0, .ca_file = ca_file, .verify = CRY_VERIFY_PEER };
		c->ctx = cry_tls_ctx_new(&tc, err, errlen);
		if (!c->ctx)
			goto fail;
	}
	return c;
fail:
	free(c);
	return NULL;
}

static void disconnect(struct net_httpc *c)
{
	if (c->tls)
		cry_tls_free(c->tls);
	c->tls = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->off = c->len = 0;
}

void net_httpc_free(struct net_httpc *c)
{
	if (!c)
		return;
	disconnect(c);
	if (c->ctx)
		cry_tls_ctx_free(c->ctx);
	free(c);
}

static int do_connect(struct net_httpc *c, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL, *a;
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	int rc = getaddrinfo(c->host, c->port, &hints, &ai);
	if (rc) {
		str_fmt(err, errlen, "%s: %s", c->host, gai_strerror(rc));
		return -1;
	}
	for (a = ai; a; a = a->ai_next) {
		c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (c->fd < 0)
			continue;
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(c->fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(ai);
	if (c->fd < 0) {
		str_fmt(err, errlen, "cannot connect to %s port %s: %s", c->host, c->port, strerror(errno));
		return -1;
	}
	if (c->tls_on) {
		c->tls = cry_tls_new(c->ctx, c->host, io_recv, io_send, c);
		if (!c->tls || cry_tls_handshake(c->tls) != CRY_TLS_OK) {
			str_fmt(err, errlen, "TLS with %s: %s", c->host, c->tls ? cry_tls_error(c->tls) : "set-up failed");
			disconnect(c);
			return -1;
		}
	}
	return 0;
}

static int send_all(struct net_httpc *c, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = c->tls ? cry_tls_write(c->tls, b, n) : io_send(c, b, n);
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Fills the buffer; 0 at EOF, -1 on error. */
static ssize_t fill(struct net_httpc *c)
{
	if (c->off == c->len)
		c->off = c->len = 0;
	if (c->len == sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	ssize_t n = c->tls ? cry_tls_read(c->tls, c->buf + c->len, sizeof(c->buf) - c->len)
			   : io_recv(c, c->buf + c->len, sizeof(c->buf) - c->len);
	if (c->tls && n == CRY_TLS_CLOSED)
		return 0;
	if (n < 0)
		return -1;
	c->len += (size_t)n;
	return n;
}

/* Reads a response head (net/http_head.c) into *h and consumes it; 1xx interim
 * answers are skipped. 0, or -1 (connection lost: *bad 0; malformed: *bad 1). */
static int read_head(struct net_httpc *c, struct net_http_resphead *h, int *bad)
{
	*bad = 0;
	for (;;) {
		long hl = net_http_resphead_parse((const char *)c->buf + c->off, c->len - c->off, h);
		if (hl < 0) {
			*bad = 1;
			return -1;
		}
		if (hl > 0) {
			c->off += (size_t)hl;
			if (h->status >= 200)
				return 0;
			continue;
		}
		if (fill(c) <= 0)
			return -1;
	}
}

static int exchange(struct net_httpc *c, const char *method, const char *path,
		    const char *const *headers, const void *body, size_t len, net_httpc_sink sink,
		    void *arg, char **resp, size_t *resplen, size_t max, int *retryable, char *err,
		    size_t errlen)
{
	char req[8192];
	struct net_http_resphead h;
	int bad = 0;
	int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\n",
			 method, path, c->host, len);
	for (size_t i = 0; headers && headers[i] && n > 0 && (size_t)n < sizeof(req); i++)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "%s\r\n", headers[i]);
	if (n <= 0 || (size_t)n + 3 > sizeof(req)) {
		str_copy(err, "request headers too long", errlen);
		return -1;
	}
	memcpy(req + n, "\r\n", 3);
	*retryable = 1;
	if (send_all(c, req, (size_t)n + 2) < 0 || (len && send_all(c, body, len) < 0) ||
	    read_head(c, &h, &bad) < 0) {
		if (bad)
			str_copy(err, "not an HTTP reply (or a malformed one)", errlen);
		else
			str_fmt(err, errlen, "connection to %s lost", c->host);
		*retryable = !bad;
		return -1;
	}
	*retryable = 0;
	int status = h.status;
	long long clen = h.content_length;
	int closes = h.conn_close;
	if (h.chunked) {
		str_copy(err, "chunked replies are not supported", errlen);
		return -1;
	}
	if (strcmp(method, "HEAD") == 0 || status == 204 || status == 304)
		clen = 0;
	size_t cap = 0, got_total = 0;
	char *out = NULL;
	if (!sink) {
		cap = clen >= 0 ? (size_t)clen : 4096;
		if (clen >= 0 && (size_t)clen > max) {
			str_fmt(err, errlen, "reply too large (%lld bytes)", clen);
			return -1;
		}
		out = malloc(cap + 1);
		if (!out)
			return -1;
	}
	for (;;) {
		if (clen >= 0 && got_total == (size_t)clen)
			break;
		if (c->off == c->len) {
			ssize_t f = fill(c);
			if (f == 0 && clen < 0)
				break;
			if (f <= 0) {
				free(out);
				str_fmt(err, errlen, "connection to %s lost in the reply", c->host);
				return -1;
			}
		}
		size_t take = c->len - c->off;
		if (clen >= 0 && take > (size_t)clen - got_total)
			take = (size_t)clen - got_total;
		if (sink) {
			if (sink(c->buf + c->off, take, arg) < 0) {
				str_copy(err, "aborted", errlen);
				return -1;
			}
		} else {
			if (got_total + take > max) {
				free(out);
				str_copy(err, "reply too large", errlen);
				return -1;
			}
			if (got_total + take > cap) {
				cap = (got_total + take) * 2;
				char *o2 = realloc(out, cap + 1);
				if (!o2) {
					free(out);
					return -1;
				}
				out = o2;
			}
			memcpy(out + got_total, c->buf + c->off, take);
		}
		got_total += take;
		c->off += take;
	}
	if (out) {
		out[got_total] = '\0';
		*resp = out;
		if (resplen)
			*resplen = got_total;
	}
	if (closes || clen < 0)
		disconnect(c);
	return status;
}

int net_httpc_request(struct net_httpc *c, const char *method, const char *path,
		      const char *const *headers, const void *body, size_t len,
		      net_httpc_sink sink, void *arg, char **resp, size_t *resplen, size_t max,
		      char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int retry = 0;
		if (c->fd < 0 && do_connect(c, err, errlen) < 0)
			return -1;
		int st = exchange(c, method, path, headers, body, len, sink, arg, resp, resplen, max,
				  &retry, err, errlen);
		if (st >= 0)
			return st;
		disconnect(c);
		/* a kept-alive connection the server had closed: once more on a fresh one */
		if (!retry || attempt)
			return -1;
	}
	return -1;
}
