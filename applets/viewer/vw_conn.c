/* vw_conn.c - framed links for the viewer over net_conns on its loop (vw_loop.h); the
 * relay's paths are vw_dial.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_dial.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_redirect.h"
#include "applets/viewer/vw_rtx.h"
#include "crypto/crypto.h"
#include "crypto/tls.h"
#include "net/conn.h"

#define IN_CAP (TFRAME_HDR_LEN + VW_FRAME_MAX)

static void on_bytes(struct net_conn *nc, void *arg)
{
	(void)nc;
	(void)arg;
	vw_loop_kick();
}

static void on_event(struct net_conn *nc, enum net_event ev, void *arg)
{
	struct vw_conn *c = arg;

	if (ev == NET_EV_EOF || ev == NET_EV_ERROR || ev == NET_EV_TIMEOUT) {
		if (!c->eof)
			snprintf(c->err, sizeof(c->err), "%s", ev == NET_EV_EOF ? "connection closed by peer"
								  : net_conn_error(nc));
		c->eof = 1;
	}
	vw_loop_kick();
}

static const struct net_conn_cbs conn_cbs = { on_bytes, on_bytes, on_event };

int vw_conn_attach(struct vw_conn *c, struct net_conn *nc, struct cry_tls_ctx *tls, char *err,
		   size_t errlen)
{
	c->nc = nc;
	c->tls = tls;
	c->eof = 0;
	c->dead = 0;
	c->err[0] = '\0';
	if (!c->in)
		c->in = malloc(IN_CAP);
	if (!c->out)
		c->out = malloc(VW_OUT_CAP);
	if (!c->in || !c->out) {
		snprintf(err, errlen, "out of memory");
		vw_conn_close(c);
		return -1;
	}
	net_conn_set_cbs(nc, &conn_cbs, c);
	vw_loop_kick(); /* bytes may be buffered already (behind the Upgrade's answer) */
	return 0;
}

int vw_conn_up(const struct vw_conn *c)
{
	return c->nc != NULL;
}

int vw_conn_adopt(struct vw_conn *c, int fd, char *err, size_t errlen)
{
	struct net_loop *l = vw_loop_net();
	struct net_conn *nc = l ? net_conn_adopt(l, fd) : NULL;

	memset(c, 0, sizeof(*c));
	if (!nc) {
		if (!l)
			close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return vw_conn_attach(c, nc, NULL, err, errlen);
}

struct open_wait {
	struct net_conn *nc;
	struct cry_tls_ctx *tls;
	char *path, *err;
	size_t pathlen, errlen;
	int done;
};

static void opened(void *arg, struct net_conn *nc, struct cry_tls_ctx *tls, const char *path,
		   const char *err)
{
	struct open_wait *w = arg;

	w->nc = nc;
	w->tls = tls;
	if (nc)
		snprintf(w->path, w->pathlen, "%s", path);
	else
		snprintf(w->err, w->errlen, "%s", err);
	w->done = 1;
}

static int open_done(void *arg)
{
	return ((struct open_wait *)arg)->done;
}

int vw_conn_open_relay(struct vw_conn *c, const struct vw_relay_opts *o, uint8_t type,
		       const char *text, const char *who, char *path, size_t pathlen, char *err,
		       size_t errlen)
{
	struct open_wait w = { NULL, NULL, path, err, pathlen, errlen, 0 };
	struct vw_hop *d;
	uint8_t req[TFRAME_HDR_LEN + 1024];
	long n;

	memset(c, 0, sizeof(*c));
	if ((n = vw_conn_build_ctl(c, type, TF_ID_RELAY, text, req, sizeof(req))) < 0) {
		snprintf(err, errlen, "request too long");
		return -1;
	}
	if (!(d = vw_hop_start(o, req, (size_t)n, who, opened, &w, err, errlen)))
		return -1;
	/* every step has its own timeout; this bound is only a backstop */
	if (vw_loop_wait(open_done, &w, 120000) < 0) {
		vw_hop_cancel(d);
		snprintf(err, errlen, "cannot reach the relay: no answer in 60 s");
		return -1;
	}
	if (!w.nc)
		return -1;
	return vw_conn_attach(c, w.nc, w.tls, err, errlen);
}

static void drop_nc(struct vw_conn *c, int flush)
{
	if (c->nc) {
		if (flush)
			net_conn_close(c->nc);
		else
			net_conn_free(c->nc);
	}
	c->nc = NULL;
	if (c->tls)
		cry_tls_ctx_free(c->tls); /* after the connection: its session is released */
	c->tls = NULL;
	c->eof = 0;
}

void vw_conn_close(struct vw_conn *c)
{
	if (c->nc && !c->dead && !c->eof)
		vw_conn_flush(c);
	drop_nc(c, 1);
	if (c->in)
		cry_wipe(c->in, IN_CAP);
	free(c->in);
	free(c->out); /* holds only ciphertext and control text */
	c->in = c->out = NULL;
}

size_t vw_conn_room(const struct vw_conn *c)
{
	/* what waits here and what the connection has not written yet, together */
	size_t used = c->out_len - c->out_off + (c->nc ? net_conn_output_len(c->nc) : 0);
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

long vw_conn_build_ctl(struct vw_conn *c, uint8_t type, uint16_t target, const char *text,
		       uint8_t *out, size_t cap)
{
	uint32_t *seq = c->seqp ? c->seqp : &c->seq;
	size_t len = strlen(text);
	struct tframe_hdr h = { TFRAME_VERSION, type, c->my_id, target, *seq + 1, conn_ack(c, target),
				(uint32_t)len };

	if (len > VW_FRAME_MAX || *seq == UINT32_MAX || TFRAME_HDR_LEN + len > cap)
		return -1;
	tframe_hdr_encode(&h, out);
	memcpy(out + TFRAME_HDR_LEN, text, len);
	(*seq)++;
	return (long)(TFRAME_HDR_LEN + len);
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
	size_t n;

	if (c->dead || !c->nc)
		return -1;
	/* as much as fits: several small frames at once; the input never holds more than
	 * one maximal frame, so a peer cannot make it grow (the connection stops reading
	 * at its read limit meanwhile) */
	if (c->in_len >= IN_CAP)
		return 0;
	n = net_conn_read(c->nc, c->in + c->in_len, IN_CAP - c->in_len);
	c->in_len += n;
	if (!n && c->eof && !net_conn_input_len(c->nc))
		return die(c, c->err[0] ? c->err : "connection closed by peer");
	return 0;
}

int vw_conn_pending(const struct vw_conn *c)
{
	return c->nc && !c->dead && c->in_len < IN_CAP && (c->eof || net_conn_input_len(c->nc) > 0);
}

int vw_conn_want_write(const struct vw_conn *c)
{
	return c->nc && c->out_len > c->out_off;
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
	if (!c->nc)
		return 0;
	if (c->out_len > c->out_off &&
	    net_conn_write(c->nc, c->out + c->out_off, c->out_len - c->out_off) < 0)
		return die(c, c->eof && c->err[0] ? c->err : net_conn_error(c->nc));
	c->out_off = c->out_len = 0;
	return 0;
}

static int written(void *arg)
{
	struct vw_conn *c = arg;
	return !c->nc || c->eof || net_conn_output_len(c->nc) == 0;
}

int vw_conn_flush_all(struct vw_conn *c, int ms)
{
	if (vw_conn_flush(c) < 0)
		return -1;
	if (!vw_loop_busy() && vw_loop_wait(written, c, ms) < 0)
		return -1;
	return c->dead || c->eof ? -1 : 0;
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
	drop_nc(c, 0); /* the socket, and TLS state if any */
	c->in_len = 0;
	c->out_off = c->out_len = 0;
	c->dead = 0;
}
