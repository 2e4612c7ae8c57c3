/* vw_conn.c - framed non-blocking links for the viewer's poll loops, over net/stream.h;
 * and the relay's paths: TCP, HTTPS, HTTP. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_msg.h"
#include "core/log.h"
#include "applets/viewer/vw_rtx.h"
#include "crypto/crypto.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/proxy.h"
#include "net/stream.h"

#define IN_CAP (TFRAME_HDR_LEN + VW_FRAME_MAX)

static int conn_setup(struct vw_conn *c, struct net_stream *st, char *err, size_t errlen)
{
	c->st = st;
	c->fd = net_stream_fd(st);
	c->in = malloc(IN_CAP);
	c->out = malloc(VW_OUT_CAP);
	if (!c->in || !c->out) {
		snprintf(err, errlen, "out of memory");
		vw_conn_close(c);
		return -1;
	}
	return 0;
}

int vw_conn_adopt(struct vw_conn *c, int fd, char *err, size_t errlen)
{
	struct net_stream *st = net_stream_new(fd);

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return conn_setup(c, st, err, errlen);
}

int vw_conn_open(struct vw_conn *c, const char *hostport, int timeout_ms, char *err, size_t errlen)
{
	char host[256];
	int port;
	struct net_stream *st;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (net_split_hostport(hostport, host, sizeof(host), &port, 0) < 0 || port <= 0) {
		snprintf(err, errlen, "bad address %s (want HOST:PORT)", hostport);
		return -1;
	}
	if (!(st = net_stream_dial(host, port, timeout_ms, err, errlen)))
		return -1;
	return conn_setup(c, st, err, errlen);
}

/* The relay's HTTP Upgrade on an open stream (plain or TLS): 0, or -1 with err. */
static int upgrade(struct net_stream *st, const char *host, int port, char *err, size_t errlen)
{
	char req[600], head[4096];
	int status;

	snprintf(req, sizeof(req),
		 strchr(host, ':') ? "GET /sealbox-tunnel HTTP/1.1\r\nHost: [%s]:%d\r\nUpgrade: sealbox-tunnel\r\n"
				     "Connection: Upgrade\r\n\r\n"
				   : "GET /sealbox-tunnel HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: sealbox-tunnel\r\n"
				     "Connection: Upgrade\r\n\r\n", host, port);
	status = net_stream_http_exchange(st, req, 5000, head, sizeof(head));
	if (status == 101)
		return 0;
	if (status < 0)
		snprintf(err, errlen, "no upgrade answer (%s)", net_stream_error(st));
	else
		snprintf(err, errlen, "refused the upgrade: %.*s", (int)strcspn(head, "\r\n"), head);
	return -1;
}

/* One fallback step: the relay's HTTPS (tls 1) or HTTP (tls 0) port on host, through the
 * proxy the configuration (else the environment) names for it, or direct. */
static int open_web(struct vw_conn *c, const struct vw_relay_opts *o, const char *host, int port,
		    int tls, char *path, size_t pathlen, char *err, size_t errlen)
{
	struct net_proxy px;
	struct net_stream *st = NULL;
	char e[300], via[300] = "";
	const char *which = "";
	int r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	/* HTTPS: https_proxy; plain HTTP: http_proxy, else https_proxy (often the only one set) */
	r = net_proxy_select(&o->proxy, host, tls, &px, &which);
	if (r < 0) {
		snprintf(err, errlen, "%s %s:%d: malformed %s", tls ? "HTTPS" : "HTTP", host, port, which);
		return -1;
	}
	if (r == 1) {
		st = net_stream_dial_proxy(&px, host, port, 5000, e, sizeof(e));
		snprintf(via, sizeof(via), " via proxy %s:%d", px.host, px.port);
		net_proxy_clear(&px);
		if (!st) { /* e names the proxy */
			via[0] = '\0';
			goto fail;
		}
	} else if (!(st = net_stream_dial(host, port, 5000, e, sizeof(e)))) {
		goto fail;
	}
	if (tls) {
		struct cry_tls_conf conf;
		struct cry_tls_ctx *ctx;
		memset(&conf, 0, sizeof(conf));
		conf.ca_file = o->ca_file;
		conf.verify = o->insecure ? CRY_VERIFY_NONE : CRY_VERIFY_PEER;
		/* the stream owns ctx from start_tls on */
		if (!(ctx = cry_tls_ctx_new(&conf, e, sizeof(e))) ||
		    net_stream_start_tls(st, ctx, host, 5000, e, sizeof(e)) < 0)
			goto fail;
	}
	if (upgrade(st, host, port, e, sizeof(e)) < 0)
		goto fail;
	snprintf(path, pathlen, "relay-%s %s:%d%s%s", tls ? "https" : "http", host, port, via,
		 tls && o->insecure ? " (certificate not checked)" : "");
	return conn_setup(c, st, err, errlen);
fail:
	net_stream_free(st);
	snprintf(err, errlen, "%s %s:%d%s: %s", tls ? "HTTPS" : "HTTP", host, port, via, e);
	return -1;
}

int vw_conn_open_relay(struct vw_conn *c, const struct vw_relay_opts *o, char *path,
		       size_t pathlen, char *err, size_t errlen)
{
	char host[256], e1[300], e2[400] = "", e3[400] = "";
	int port;

	if (net_split_hostport(o->server, host, sizeof(host), &port, 0) < 0 || port <= 0) {
		snprintf(err, errlen, "bad address %s (want HOST:PORT)", o->server);
		return -1;
	}
	if (vw_conn_open(c, o->server, 3000, e1, sizeof(e1)) == 0) {
		snprintf(path, pathlen, "relay-tcp %s", o->server);
		return 0;
	}
	if (o->https_port) {
		if (o->insecure)
			log_warn("--relay-insecure: the relay's HTTPS certificate is not checked (the SAS still protects the session end to end)");
		if (open_web(c, o, host, o->https_port, 1, path, pathlen, e2, sizeof(e2)) == 0)
			return 0;
	}
	if (o->http_port && open_web(c, o, host, o->http_port, 0, path, pathlen, e3, sizeof(e3)) == 0)
		return 0;
	snprintf(err, errlen, "cannot reach the relay: TCP: %s%s%s%s%s", e1, e2[0] ? "; " : "", e2,
		 e3[0] ? "; " : "", e3);
	return -1;
}

void vw_conn_close(struct vw_conn *c)
{
	net_stream_free(c->st);
	c->st = NULL;
	c->fd = -1;
	if (c->in)
		cry_wipe(c->in, IN_CAP);
	free(c->in);
	free(c->out); /* holds only ciphertext and control text */
	c->in = c->out = NULL;
}

size_t vw_conn_room(const struct vw_conn *c)
{
	size_t used = c->out_len - c->out_off;
	return used >= VW_OUT_CAP ? 0 : VW_OUT_CAP - used;
}

/* Makes room for n bytes at the end of the output; NULL if it cannot. */
static uint8_t *out_space(struct vw_conn *c, size_t n)
{
	if (c->out_off && c->out_len + n > VW_OUT_CAP) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + n > VW_OUT_CAP)
		return NULL;
	return c->out + c->out_len;
}

/* The ack for target: per peer on a link covered by vw_rtx (relay or direct), else c->ack. */
static uint32_t conn_ack(struct vw_conn *c, uint16_t target)
{
	return c->rtx ? vw_rtx_ack_for(c->rtx, target) : c->ack;
}

/* A frame of len bytes was built at o (the end of the output): count its seq and send
 * it, or on a link covered by vw_rtx (the relay link, a direct link) let it keep it (on
 * the relay link a DATA frame may be held back while the link is down or a resend is
 * under way: it goes out later, in order). */
static int conn_commit(struct vw_conn *c, uint8_t type, uint16_t target, const uint8_t *o,
		       size_t len)
{
	uint32_t *seq = c->seqp ? c->seqp : &c->seq;
	int now = 1;

	if (c->rtx && type == TF_DATA && (now = vw_rtx_keep(c->rtx, c, target, o, len, *seq + 1)) < 0)
		return -1;
	(*seq)++;
	if (now)
		c->out_len += len;
	return 0;
}

static int send_frame(struct vw_conn *c, uint8_t type, uint16_t target, const uint8_t *p,
		      size_t len)
{
	uint32_t *seq = c->seqp ? c->seqp : &c->seq;
	struct tframe_hdr h = { TFRAME_VERSION, type, c->my_id, target, *seq + 1, conn_ack(c, target),
				(uint32_t)len };
	uint8_t *o;

	if (c->rtx && c->rtx->conn == c && type != TF_DATA && type != TF_RESUME && !vw_rtx_live(c->rtx))
		return -1; /* a relay link being resumed carries nothing else yet */
	if (len > VW_FRAME_MAX || *seq == UINT32_MAX || !(o = out_space(c, TFRAME_HDR_LEN + len)))
		return -1; /* seq never wraps: it is half of the AEAD nonce */
	tframe_hdr_encode(&h, o);
	if (len)
		memcpy(o + TFRAME_HDR_LEN, p, len);
	return conn_commit(c, type, target, o, TFRAME_HDR_LEN + len);
}

int vw_conn_send_ctl(struct vw_conn *c, uint8_t type, uint16_t target, const char *text)
{
	return send_frame(c, type, target, (const uint8_t *)text, strlen(text));
}

int vw_conn_send_frame(struct vw_conn *c, uint8_t type, uint16_t target, const uint8_t *p,
		       size_t len)
{
	return send_frame(c, type, target, p, len);
}

int vw_conn_send_plain(struct vw_conn *c, uint16_t target, const uint8_t *p, size_t len)
{
	return send_frame(c, TF_DATA, target, p, len);
}

int vw_conn_send_msg(struct vw_conn *c, const struct vw_key *key, uint16_t target,
		     const struct vw_msg *m)
{
	uint8_t pt[VW_MSG_MAX];
	ssize_t n = vw_msg_encode(m, pt, sizeof(pt)), f;
	uint32_t *seq = c->seqp ? c->seqp : &c->seq;
	struct tframe_hdr h = { TFRAME_VERSION, TF_DATA, c->my_id, target, *seq + 1, conn_ack(c, target), 0 };
	uint8_t *o;
	int rc = -1;

	if (n < 0 || *seq == UINT32_MAX ||
	    !(o = out_space(c, TFRAME_HDR_LEN + VW_SEAL_OVERHEAD + (size_t)n)))
		goto out;
	f = vw_seal_frame(key, &h, pt, (size_t)n, o, TFRAME_HDR_LEN + VW_SEAL_OVERHEAD + (size_t)n);
	if (f < 0)
		goto out;
	rc = conn_commit(c, TF_DATA, target, o, (size_t)f);
out:
	cry_wipe(pt, n > 0 ? (size_t)n : 0);
	return rc;
}

static int die(struct vw_conn *c, const char *why)
{
	if (!c->dead)
		snprintf(c->err, sizeof(c->err), "%s", why);
	c->dead = 1;
	return -1;
}

int vw_conn_on_readable(struct vw_conn *c)
{
	ssize_t n;

	if (c->dead)
		return -1;
	/* as much as fits: several small frames per read; the input never holds more
	 * than one maximal frame, so a peer cannot make it grow */
	if (c->in_len >= IN_CAP)
		return 0;
	n = net_stream_read(c->st, c->in + c->in_len, IN_CAP - c->in_len);
	if (n == 0)
		return die(c, "connection closed by peer");
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : die(c, net_stream_error(c->st));
	c->in_len += (size_t)n;
	return 0;
}

int vw_conn_pending(const struct vw_conn *c)
{
	return c->st && !c->dead && c->in_len < IN_CAP && net_stream_pending(c->st);
}

int vw_conn_want_write(const struct vw_conn *c)
{
	return c->st && (c->out_len > c->out_off || net_stream_want_write(c->st));
}

int vw_conn_frame(struct vw_conn *c, struct tframe_hdr *h, const uint8_t **raw,
		  const uint8_t **payload)
{
	if (c->in_len < TFRAME_HDR_LEN)
		return 0;
	if (tframe_hdr_decode(c->in, c->in_len, VW_FRAME_MAX, h) < 0)
		return die(c, "malformed frame from peer");
	if (c->in_len < TFRAME_HDR_LEN + h->length)
		return 0;
	*raw = c->in;
	*payload = c->in + TFRAME_HDR_LEN;
	return 1;
}

void vw_conn_consume(struct vw_conn *c)
{
	struct tframe_hdr h;
	size_t used;

	if (c->in_len < TFRAME_HDR_LEN || tframe_hdr_decode(c->in, c->in_len, VW_FRAME_MAX, &h) < 0) {
		c->in_len = 0;
		return;
	}
	used = TFRAME_HDR_LEN + h.length;
	if (used >= c->in_len) {
		c->in_len = 0;
		return;
	}
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
}

int vw_conn_flush(struct vw_conn *c)
{
	if (c->dead)
		return -1;
	while (c->out_off < c->out_len) {
		ssize_t n = net_stream_write(c->st, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			return die(c, net_stream_error(c->st));
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return net_stream_flush(c->st) < 0 ? die(c, net_stream_error(c->st)) : 0;
}

int vw_conn_flush_all(struct vw_conn *c, int ms)
{
	while (!c->dead && vw_conn_want_write(c)) {
		struct pollfd p = { c->fd, POLLOUT, 0 };
		if (poll(&p, 1, ms) != 1)
			return -1;
		if (vw_conn_flush(c) < 0)
			return -1;
	}
	return c->dead ? -1 : 0;
}

/* Appends already built frame bytes (a resend from vw_rtx): no new seq. */
int vw_conn_queue_raw(struct vw_conn *c, const uint8_t *p, size_t len)
{
	uint8_t *o = out_space(c, len);

	if (!o)
		return -1;
	memcpy(o, p, len);
	c->out_len += len;
	return 0;
}

/* Closes the socket but keeps the buffers (a relay link being resumed: frames made
 * meanwhile are still sealed in the output space, then kept by vw_rtx); what was queued
 * is dropped. vw_conn_close frees everything later. */
void vw_conn_drop_socket(struct vw_conn *c)
{
	net_stream_free(c->st); /* the socket, and TLS state if any */
	c->st = NULL;
	c->fd = -1;
	c->in_len = 0;
	c->out_off = c->out_len = 0;
	c->dead = 0;
}
