/* conn_tls.c - TLS on a connection: the crypto/ engine's I/O callbacks read and write
 * the bufferevent's evbuffers. Records stay in the bufferevent's input until wolfSSL
 * asks for them; decrypted bytes go to c->in while it has room (read_limit). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "crypto/tls.h"
#include "net/conn_internal.h"
#include "net/internal.h"

#define TLS_READ_CHUNK 16384

const struct net_conn_tls_ops *net_conn_tls_ops_;

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

int net_conn_tls_write_all_(struct net_conn *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = net_conn_tls_ops_->write(c->tls, p, len);
		if (n <= 0) {
			snprintf(c->err, sizeof(c->err), "%s", net_conn_tls_ops_->error(c->tls));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Moves queued plaintext (written before connect or handshake finished) out. */
int net_conn_flush_pending_(struct net_conn *c)
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
		if (!p || net_conn_tls_write_all_(c, p, chunk) < 0)
			return -1;
		evbuffer_drain(c->out, chunk);
	}
	return 0;
}

/* Handshake, then decrypt into c->in while there is room. Returns -1 if c is gone. */
int net_conn_tls_pump_(struct net_conn *c)
{
	int got = 0, eof = 0, err = 0, r;

	if (c->tls_state == TLS_HANDSHAKE) {
		r = net_conn_tls_ops_->handshake(c->tls);
		if (r == CRY_TLS_WANT_READ || r == CRY_TLS_WANT_WRITE) {
			if (c->sock_eof)
				return net_conn_fail_(c, NET_EV_ERROR, "peer closed during the TLS handshake");
			return 0;
		}
		if (r != CRY_TLS_OK)
			return net_conn_fail_(c, NET_EV_ERROR, "%s", net_conn_tls_ops_->error(c->tls));
		c->tls_state = TLS_UP;
		if (net_conn_flush_pending_(c) < 0)
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
		n = net_conn_tls_ops_->read(c->tls, v.iov_base, v.iov_len);
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
		snprintf(c->err, sizeof(c->err), "%s", net_conn_tls_ops_->error(c->tls));
		break;
	}
	/* also what was decrypted before a pause and is still unread: after a resume
	 * nothing new may come (the socket and the records may both be drained), and a
	 * plain connection delivers it the same way (net_conn_pump_) */
	if ((got || (evbuffer_get_length(c->in) && !c->paused)) && net_conn_fire_read_(c) < 0)
		return -1;
	if (c->failed || c->closing || c->tls_state != TLS_UP)
		return 0;
	/* The limit stopped us and the application made room: records already buffered
	 * will not trigger another read event, so decrypt them now. */
	if (got && !err && !eof && !c->paused && evbuffer_get_length(c->in) < c->read_limit &&
	    (evbuffer_get_length(bufferevent_get_input(c->bev)) || net_conn_tls_ops_->pending(c->tls)))
		goto again;
	if (err)
		return net_conn_fail_(c, NET_EV_ERROR, "%s", c->err);
	if (eof) {
		c->sock_eof = 1;
		return net_conn_fail_(c, NET_EV_EOF, "peer closed the connection");
	}
	return 0;
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
	static const struct net_conn_tls_ops wolf = { cry_tls_free, cry_tls_handshake, cry_tls_read,
		cry_tls_write, cry_tls_pending, cry_tls_shutdown, cry_tls_error };
	net_conn_tls_ops_ = &wolf;
	c->tls = cry_tls_new(ctx, host, tls_recv, tls_send, c);
	if (!c->tls) {
		snprintf(c->err, sizeof(c->err), "cannot create TLS session");
		return -1;
	}
	c->tls_state = TLS_HANDSHAKE;
	net_conn_update_reading_(c);
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
