/* vw_conn.c - framed non-blocking TCP for the viewer's poll loops. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_rtx.h"
#include "core/encoding.h"
#include "crypto/crypto.h"
#include "net/conn.h"
#include "net/proxy.h"

#define IN_CAP (TFRAME_HDR_LEN + VW_FRAME_MAX)

/* net_split_hostport does the parsing; getaddrinfo wants the port as text. */
static int split_hostport(const char *s, char *host, size_t cap, char *port, size_t pcap)
{
	int p;

	if (net_split_hostport(s, host, cap, &p, 0) < 0 || p <= 0)
		return -1;
	return snprintf(port, pcap, "%d", p) < (int)pcap ? 0 : -1;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	struct pollfd p;
	int e = 0;
	socklen_t el = sizeof(e);

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		goto fail;
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
		errno = e ? e : ETIMEDOUT;
		goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int tcp_connect(const char *host, const char *port, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	int fd = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, timeout_ms);
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to %s:%s: %s", host, port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static int conn_setup(struct vw_conn *c, char *err, size_t errlen)
{
	int one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return conn_setup(c, err, errlen);
}

int vw_conn_open(struct vw_conn *c, const char *hostport, int timeout_ms, char *err, size_t errlen)
{
	char host[256], port[16];

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (split_hostport(hostport, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(err, errlen, "bad address %s (want HOST:PORT)", hostport);
		return -1;
	}
	c->fd = tcp_connect(host, port, timeout_ms, err, errlen);
	return c->fd < 0 ? -1 : conn_setup(c, err, errlen);
}

/* Sends req and reads an HTTP response head (up to the blank line, byte by byte so that
 * nothing after it is consumed). Returns the status code or -1. */
static int http_exchange(int fd, const char *req, int timeout_ms, char *line, size_t cap)
{
	char head[8192];
	size_t n = 0;
	int status = -1;

	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
		return -1;
	while (n < sizeof(head) - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;
		if (poll(&p, 1, timeout_ms) != 1)
			return -1;
		r = read(fd, head + n, 1);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			return -1;
		}
		n++;
		if (n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	head[n] = '\0';
	if (sscanf(head, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	snprintf(line, cap, "%.*s", (int)strcspn(head, "\r\n"), head);
	return status;
}

static int open_http(struct vw_conn *c, const char *host, int http_port, char *path,
		     size_t pathlen, char *err, size_t errlen)
{
	struct net_proxy px;
	char req[1024], line[256], port[16], auth[400] = "";
	int r, st;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(port, sizeof(port), "%d", http_port);
	r = net_proxy_from_env(host, 1, &px);
	if (r == 0)
		r = net_proxy_from_env(host, 0, &px);
	if (r < 0) {
		snprintf(err, errlen, "malformed https_proxy/http_proxy");
		return -1;
	}
	if (r == 1) {
		char pport[16];
		snprintf(pport, sizeof(pport), "%d", px.port);
		c->fd = tcp_connect(px.host, pport, 5000, err, errlen);
		if (c->fd >= 0 && px.user[0]) {
			char cred[300], *b64;
			snprintf(cred, sizeof(cred), "%s:%s", px.user, px.pass);
			b64 = base64_encode_new(cred, strlen(cred));
			cry_wipe(cred, sizeof(cred));
			if (b64)
				snprintf(auth, sizeof(auth), "Proxy-Authorization: Basic %s\r\n", b64);
			if (b64)
				cry_wipe(b64, strlen(b64));
			free(b64);
		}
		if (c->fd >= 0) {
			snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n",
				 host, http_port, host, http_port, auth);
			st = http_exchange(c->fd, req, 5000, line, sizeof(line));
			cry_wipe(req, sizeof(req));
			cry_wipe(auth, sizeof(auth));
			if (st != 200) {
				snprintf(err, errlen, "proxy %s:%d: %s", px.host, px.port,
					 st < 0 ? "no answer" : st == 407 ? "proxy authentication failed (407; Digest is not supported on this path yet)" : line);
				goto fail;
			}
		}
		snprintf(path, pathlen, "relay-http %s:%d via proxy %s:%d", host, http_port, px.host, px.port);
		net_proxy_clear(&px);
	} else {
		c->fd = tcp_connect(host, port, 5000, err, errlen);
		snprintf(path, pathlen, "relay-http %s:%d", host, http_port);
	}
	if (c->fd < 0)
		return -1;
	snprintf(req, sizeof(req),
		 "GET /sealbox-tunnel HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: sealbox-tunnel\r\n"
		 "Connection: Upgrade\r\n\r\n", host, http_port);
	st = http_exchange(c->fd, req, 5000, line, sizeof(line));
	if (st != 101) {
		snprintf(err, errlen, "relay %s:%d refused the upgrade: %s", host, http_port,
			 st < 0 ? "no answer" : line);
		goto fail;
	}
	return conn_setup(c, err, errlen);
fail:
	net_proxy_clear(&px);
	close(c->fd);
	c->fd = -1;
	return -1;
}

int vw_conn_open_relay(struct vw_conn *c, const char *server, int http_port, char *path,
		       size_t pathlen, char *err, size_t errlen)
{
	char host[256], port[16], e1[200];

	if (split_hostport(server, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(err, errlen, "bad address %s (want HOST:PORT)", server);
		return -1;
	}
	if (vw_conn_open(c, server, 3000, e1, sizeof(e1)) == 0) {
		snprintf(path, pathlen, "relay-tcp %s", server);
		return 0;
	}
	if (!http_port) {
		snprintf(err, errlen, "%s", e1);
		return -1;
	}
	/* the HTTPS path needs TLS on this loop: not in this version */
	if (open_http(c, host, http_port, path, pathlen, err, errlen) == 0)
		return 0;
	{
		char e2[256];
		snprintf(e2, sizeof(e2), "%s", err);
		snprintf(err, errlen, "%s; HTTP fallback: %s", e1, e2);
	}
	return -1;
}

void vw_conn_close(struct vw_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
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

/* The ack for target: per peer on a resumable relay link (vw_rtx), else c->ack. */
static uint32_t conn_ack(struct vw_conn *c, uint16_t target)
{
	return c->rtx ? vw_rtx_ack_for(c->rtx, target) : c->ack;
}

/* A frame of len bytes was built at o (the end of the output): count its seq and send
 * it, or on a resumable relay link let vw_rtx keep it (a DATA frame may be held back
 * there while the link is down or a resend is under way: it goes out later, in order). */
static int conn_commit(struct vw_conn *c, uint8_t type, uint16_t target, const uint8_t *o,
		       size_t len)
{
	uint32_t *seq = c->seqp ? c->seqp : &c->seq;
	int now = 1;

	if (c->rtx && type == TF_DATA && (now = vw_rtx_keep(c->rtx, target, o, len, *seq + 1)) < 0)
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

	if (c->rtx && type != TF_DATA && type != TF_RESUME && !vw_rtx_live(c->rtx))
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
	/* as much as fits: several small frames per read(2); the input never holds more
	 * than one maximal frame, so a peer cannot make it grow */
	if (c->in_len >= IN_CAP)
		return 0;
	n = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
	if (n == 0)
		return die(c, "connection closed by peer");
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : die(c, strerror(errno));
	c->in_len += (size_t)n;
	return 0;
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
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return die(c, strerror(errno));
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

int vw_conn_flush_all(struct vw_conn *c, int ms)
{
	while (!c->dead && c->out_off < c->out_len) {
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
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->in_len = 0;
	c->out_off = c->out_len = 0;
	c->dead = 0;
}
