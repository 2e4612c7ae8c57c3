/* httpc.c - the HTTP/1.1 client of net/httpc.h on net/'s own connection code: a private
 * loop (a command-line tool has nothing else to serve), net_connect with the loop's
 * resolver, net_conn_start_tls with crypto/'s engine, response heads read by
 * net/http_head.c (the parser every client path shares). One request at a time on one
 * kept-alive connection (a twin, sharing the loop, gives a second one); the caller's body is fed to the connection in slices as its
 * output drains, so memory stays bounded whatever the body's size, and a caller that
 * pumps the loop while it prepares the next body keeps the socket busy meanwhile. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "core/str.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/http_head.h"
#include "net/httpc.h"
#include "net/loop.h"

#define CONNECT_TIMEOUT_MS 30000
#define IO_TIMEOUT_MS 60000
#define FEED_SLICE (256 * 1024)     /* body bytes handed to the connection at once */
#define FEED_HIGH (1024 * 1024)     /* ...while less than this waits in its output */
#define READ_LIMIT (1024 * 1024)    /* received and not yet consumed */
#define READ_SLICE (256 * 1024)     /* what a sink gets at most per call */

/* The reading side of the request in flight; the sending side is c->sending. */
enum phase { IDLE = 0, CONNECTING, HEAD, BODY, DONE, FAILED };

struct net_httpc {
	char host[256];
	int port;
	int tls_on;
	struct cry_tls_ctx *ctx;
	struct net_loop *loop;
	struct net_httpc *twin_of; /* the client whose loop and TLS context this one shares */
	struct net_conn *conn;
	int reused;               /* conn served a request before this one */
	/* the request in flight */
	enum phase ph;
	int sending;              /* head written, body not all handed over yet */
	int want_sent;            /* net_httpc_wait_sent waits for sending to end */
	char *head;               /* request head (it may hold a token), kept for one retry */
	size_t head_len;
	const uint8_t *body;
	size_t body_len, body_off;
	int head_only;            /* HEAD: no body in the reply */
	net_httpc_sink sink;
	void *sink_arg;
	char *out;                /* buffered reply (no sink) */
	size_t out_len, out_cap, max;
	int64_t clen;             /* -1: up to the close */
	uint64_t got;
	int status, closes, replied, retryable;
	uint8_t *rbuf;            /* READ_SLICE */
	char err[300];
};

static const struct net_conn_cbs cbs;

static void drop_conn(struct net_httpc *c)
{
	if (c->conn)
		net_conn_free(c->conn);
	c->conn = NULL;
	c->reused = 0;
	c->sending = 0;
}

static void wipe_head(struct net_httpc *c)
{
	if (c->head) {
		secret_wipe(c->head, c->head_len);
		free(c->head);
	}
	c->head = NULL;
	c->head_len = 0;
}

struct net_httpc *net_httpc_new(const char *base, const char *ca_file, char *err, size_t errlen)
{
	struct net_httpc *c = calloc(1, sizeof(*c));
	const char *h;

	if (!c)
		return NULL;
	if (str_has_prefix(base, "https://")) {
		c->tls_on = 1;
		h = base + 8;
	} else if (str_has_prefix(base, "http://")) {
		h = base + 7;
	} else {
		str_fmt(err, errlen, "server URL must start with https:// or http://: %s", base);
		goto fail;
	}
	size_t hl = strcspn(h, "/?#");
	char hp[300];
	if (hl >= sizeof(hp)) {
		str_copy(err, "server URL too long", errlen);
		goto fail;
	}
	memcpy(hp, h, hl);
	hp[hl] = '\0';
	if (net_split_hostport(hp, c->host, sizeof(c->host), &c->port, c->tls_on ? 443 : 80) < 0 ||
	    !c->host[0] || c->port <= 0 || c->port > 65535) {
		str_fmt(err, errlen, "bad host or port in the server URL: %s", base);
		goto fail;
	}
	if (!(c->loop = net_loop_new()) || !(c->rbuf = malloc(READ_SLICE))) {
		str_copy(err, "out of memory", errlen);
		goto fail;
	}
	if (c->tls_on) {
		struct cry_tls_conf tc = { .server = 0, .ca_file = ca_file, .verify = CRY_VERIFY_PEER };
		c->ctx = cry_tls_ctx_new(&tc, err, errlen);
		if (!c->ctx)
			goto fail;
	}
	return c;
fail:
	net_httpc_free(c);
	return NULL;
}

struct net_httpc *net_httpc_twin(struct net_httpc *of, char *err, size_t errlen)
{
	struct net_httpc *c = calloc(1, sizeof(*c));
	if (!c || !(c->rbuf = malloc(READ_SLICE))) {
		free(c);
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	str_copy(c->host, of->host, sizeof(c->host));
	c->port = of->port;
	c->tls_on = of->tls_on;
	c->ctx = of->ctx;
	c->loop = of->loop;
	c->twin_of = of;
	return c;
}

void net_httpc_free(struct net_httpc *c)
{
	if (!c)
		return;
	drop_conn(c);
	if (c->loop && !c->twin_of)
		net_loop_free(c->loop);
	if (c->ctx && !c->twin_of)
		cry_tls_ctx_free(c->ctx);
	wipe_head(c);
	if (c->out)
		secret_wipe(c->out, c->out_cap);
	free(c->out);
	free(c->rbuf);
	free(c);
}

/* The request ends (DONE or FAILED); the loop run waiting for it returns (on a shared
 * loop also one waiting for the twin: net_httpc_end runs it again while its own request
 * is in flight). A connection is kept only after a complete exchange the server did
 * not end. */
static void finish(struct net_httpc *c, enum phase ph)
{
	c->ph = ph;
	if (ph == FAILED || c->closes || c->clen < 0 || c->sending)
		drop_conn(c);
	else
		c->reused = 1;
	net_loop_exit(c->loop);
}

static void fail(struct net_httpc *c, const char *msg)
{
	/* a kept-alive connection the server had closed before answering: worth one retry */
	c->retryable = c->reused && !c->replied;
	str_copy(c->err, msg, sizeof(c->err));
	finish(c, FAILED);
}

static void lost(struct net_httpc *c, const char *where)
{
	char m[300];
	str_fmt(m, sizeof(m), "connection to %s lost%s", c->host, where);
	fail(c, m);
}

/* Hands body slices to the connection while its output is short. */
static void feed(struct net_httpc *c)
{
	while (c->sending) {
		if (c->body_off == c->body_len) {
			c->sending = 0;
			if (c->want_sent)
				net_loop_exit(c->loop);
			return;
		}
		if (net_conn_output_len(c->conn) >= FEED_HIGH)
			return;
		size_t n = c->body_len - c->body_off;
		if (n > FEED_SLICE)
			n = FEED_SLICE;
		if (net_conn_write(c->conn, c->body + c->body_off, n) < 0) {
			lost(c, " while sending");
			return;
		}
		c->body_off += n;
	}
}

static void send_request(struct net_httpc *c)
{
	c->ph = HEAD;
	c->sending = 1;
	if (net_conn_write(c->conn, c->head, c->head_len) < 0) {
		lost(c, "");
		return;
	}
	feed(c);
}

/* Appends to the buffered reply; -1 when it would pass max. */
static int keep(struct net_httpc *c, const uint8_t *p, size_t n)
{
	if (c->out_len + n > c->max)
		return -1;
	if (!c->out || c->out_len + n + 1 > c->out_cap) {
		size_t cap = (c->out_len + n + 1) * 2;
		if (cap > c->max + 1)
			cap = c->max + 1;
		char *o = realloc(c->out, cap);
		if (!o)
			return -1;
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

static void body_in(struct net_httpc *c)
{
	while (c->ph == BODY) {
		if (c->clen >= 0 && c->got == (uint64_t)c->clen) {
			finish(c, DONE);
			return;
		}
		size_t n = net_conn_input_len(c->conn);
		if (c->clen >= 0 && (uint64_t)c->clen - c->got < n)
			n = (size_t)((uint64_t)c->clen - c->got);
		if (!n)
			return;
		if (n > READ_SLICE)
			n = READ_SLICE;
		net_conn_read(c->conn, c->rbuf, n);
		c->got += n;
		if (c->sink ? c->sink(c->rbuf, n, c->sink_arg) < 0 : keep(c, c->rbuf, n) < 0) {
			c->closes = 1;
			fail(c, c->sink ? "aborted" : "reply too large");
			c->retryable = 0;
			return;
		}
	}
}

static void head_in(struct net_httpc *c)
{
	char buf[NET_HTTP_RESP_MAX_HEAD];
	while (c->ph == HEAD) {
		size_t have = net_conn_peek(c->conn, buf, sizeof(buf));
		if (!have)
			return;
		c->replied = 1;
		struct net_http_resphead h;
		long hl = net_http_resphead_parse(buf, have, &h);
		if (hl < 0) {
			fail(c, "not an HTTP reply (or a malformed one)");
			return;
		}
		if (hl == 0)
			return;
		net_conn_drain(c->conn, (size_t)hl);
		if (h.status < 200)
			continue;   /* 100 Continue and other interim answers */
		if (h.chunked) {
			fail(c, "chunked replies are not supported");
			return;
		}
		/* an early final answer (an error before the whole body left): the rest
		 * of the body is not sent, and the connection goes afterwards */
		if (c->sending)
			c->sending = 0, c->closes = 1;
		c->status = h.status;
		c->closes |= h.conn_close;
		c->clen = h.content_length;
		if (c->head_only || h.status == 204 || h.status == 304)
			c->clen = 0;
		if (!c->sink && c->clen > 0 && (uint64_t)c->clen > c->max) {
			fail(c, "reply too large");
			return;
		}
		c->ph = BODY;
		body_in(c);
	}
}

static void on_read(struct net_conn *conn, void *arg)
{
	struct net_httpc *c = arg;
	if (c->ph == HEAD)
		head_in(c);
	else if (c->ph == BODY)
		body_in(c);
	else
		net_conn_drain(conn, net_conn_input_len(conn)); /* nothing was asked */
}

static void on_drain(struct net_conn *conn, void *arg)
{
	(void)conn;
	feed(arg);
}

static void on_event(struct net_conn *conn, enum net_event ev, void *arg)
{
	struct net_httpc *c = arg;
	char m[300];
	if (c->ph == IDLE || c->ph == DONE || c->ph == FAILED) {
		drop_conn(c);   /* a kept connection that closed or timed out while unused */
		return;
	}
	switch (ev) {
	case NET_EV_CONNECTED:
		if (!c->tls_on)
			send_request(c);
		else if (net_conn_start_tls(conn, c->ctx, c->host) < 0)
			fail(c, net_conn_error(conn));
		return;
	case NET_EV_TLS_READY:
		send_request(c);
		return;
	case NET_EV_EOF:
		if (c->ph == BODY && c->clen < 0) {
			c->closes = 1;
			finish(c, DONE);
		} else {
			lost(c, c->ph == BODY ? " in the reply" : "");
		}
		return;
	case NET_EV_ERROR:
	case NET_EV_TIMEOUT:
		if (c->ph == CONNECTING)
			str_copy(m, net_conn_error(conn), sizeof(m));
		else
			str_fmt(m, sizeof(m), "connection to %s: %s", c->host, net_conn_error(conn));
		fail(c, m);
		return;
	}
}

static const struct net_conn_cbs cbs = { on_read, on_drain, on_event };

/* Starts the exchange on the kept connection or a new one. */
static void launch(struct net_httpc *c)
{
	c->body_off = 0;
	c->replied = 0;
	c->retryable = 0;
	c->err[0] = '\0';
	c->clen = -1;
	c->got = 0;
	c->out_len = 0;
	c->status = 0;
	c->closes = 0;
	if (c->conn) {
		send_request(c);
		return;
	}
	c->ph = CONNECTING;
	c->conn = net_connect(c->loop, c->host, c->port, CONNECT_TIMEOUT_MS, &cbs, c);
	if (!c->conn) {
		str_fmt(c->err, sizeof(c->err), "cannot connect to %s port %d", c->host, c->port);
		c->ph = FAILED;
		return;
	}
	net_conn_set_idle_timeout(c->conn, IO_TIMEOUT_MS);
	net_conn_set_read_limit(c->conn, READ_LIMIT);
	net_conn_set_write_low(c->conn, FEED_HIGH / 2);
}

int net_httpc_begin(struct net_httpc *c, const char *method, const char *path,
		    const char *const *headers, const void *body, size_t len,
		    net_httpc_sink sink, void *arg, size_t max, char *err, size_t errlen)
{
	if (c->ph != IDLE) {
		str_copy(err, "a request is already in flight", errlen);
		return -1;
	}
	size_t cap = 8192;
	char *req = malloc(cap);
	if (!req) {
		str_copy(err, "out of memory", errlen);
		return -1;
	}
	int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\n",
			 method, path, c->host, len);
	for (size_t i = 0; headers && headers[i] && n > 0 && (size_t)n < cap; i++)
		n += snprintf(req + n, cap - (size_t)n, "%s\r\n", headers[i]);
	if (n <= 0 || (size_t)n + 3 > cap) {
		secret_wipe(req, cap);
		free(req);
		str_copy(err, "request headers too long", errlen);
		return -1;
	}
	memcpy(req + n, "\r\n", 3);
	wipe_head(c);
	c->head = req;
	c->head_len = (size_t)n + 2;
	c->body = body;
	c->body_len = len;
	c->head_only = strcmp(method, "HEAD") == 0;
	c->sink = sink;
	c->sink_arg = arg;
	c->max = max;
	launch(c);
	return 0;
}

void net_httpc_pump(struct net_httpc *c)
{
	if (c->ph > IDLE && c->ph < DONE)
		net_loop_poll(c->loop);
}

static int sent(const struct net_httpc *c)
{
	return c->ph == IDLE || c->ph == DONE || c->ph == FAILED || !c->conn ||
	       (c->ph > CONNECTING && !c->sending);
}

void net_httpc_wait_sent(struct net_httpc *c)
{
	c->want_sent = 1;
	while (!sent(c))
		if (net_loop_run(c->loop) < 0)
			break;
	c->want_sent = 0;
}

int net_httpc_end(struct net_httpc *c, char **resp, size_t *resplen, char *err, size_t errlen)
{
	if (resp)
		*resp = NULL;
	for (int attempt = 0;; attempt++) {
		while (c->ph > IDLE && c->ph < DONE && c->conn)
			if (net_loop_run(c->loop) < 0)
				break;
		if (c->ph == DONE)
			break;
		if (c->ph != FAILED)
			str_fmt(c->err, sizeof(c->err), "connection to %s lost", c->host);
		if (!c->retryable || attempt) {
			str_copy(err, c->err, errlen);
			c->ph = IDLE;
			wipe_head(c);
			return -1;
		}
		/* a kept-alive connection the server had closed: once more on a fresh one */
		drop_conn(c);
		launch(c);
	}
	c->ph = IDLE;
	wipe_head(c);
	if (!c->sink) {
		if (keep(c, (const uint8_t *)"", 0) < 0) {
			str_copy(err, "out of memory", errlen);
			return -1;
		}
		c->out[c->out_len] = '\0';
		if (resp) {
			*resp = c->out;
			c->out = NULL;
			c->out_cap = 0;
		}
		if (resplen)
			*resplen = c->out_len;
	}
	return c->status;
}

int net_httpc_request(struct net_httpc *c, const char *method, const char *path,
		      const char *const *headers, const void *body, size_t len,
		      net_httpc_sink sink, void *arg, char **resp, size_t *resplen, size_t max,
		      char *err, size_t errlen)
{
	if (net_httpc_begin(c, method, path, headers, body, len, sink, arg, max, err, errlen) < 0)
		return -1;
	return net_httpc_end(c, resp, resplen, err, errlen);
}
