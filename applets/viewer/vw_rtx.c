/* vw_rtx.c - acks, the retransmit buffer, the end-to-end keepalive and RESUME for the
 * viewer's relay link (design: docs/viewer-protocol.md section 9).
 *
 * Why a resync marker: the relay drops frames for a detached participant without telling
 * anyone, and seq numbers one sender's frames to all targets (it is the nonce counter),
 * so a receiver cannot see a gap. A participant that resumed therefore ignores its peers'
 * DATA until each peer has said "what follows is everything you have not acked" (PONG
 * resync=1) and resent it, oldest first; frames it already has (seq not above its ack)
 * are skipped after such a marker and only then.
 *
 * The same buffer covers a peer's direct LAN link: frames are sealed once and numbered by
 * one counter whatever link they take, so falling back from a broken direct link is a
 * resync on the relay link (marker, then the unacked tail). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_redirect.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_rtx.h"
#include "core/log.h"

/* Failed resume attempts wait 250 ms, doubling, to at most this: the usual failure is a
 * relay of a fleet that died, whose heartbeat expires within the lease, after which the
 * other relays answer at once; waiting longer only delays the resume. */
#define VW_RESUME_BACKOFF_MAX_MS 1000

struct vw_rtx_frame {
	struct vw_rtx_frame *next;
	uint32_t seq;
	size_t len;
	uint8_t b[]; /* the whole frame as sent: ciphertext (or HELLO/KEY) only */
};

long vw_now_ms(void)
{
	return (long)clock_ms();
}

static long env_ms(const char *name, long dflt)
{
	const char *v = getenv(name);
	double d;

	if (!v || !*v || sscanf(v, "%lf", &d) != 1 || d <= 0 || d > 3600)
		return dflt;
	return (long)(d * 1000);
}

void vw_rtx_init(struct vw_rtx *r, struct vw_conn *relay, const char *who)
{
	memset(r, 0, sizeof(*r));
	r->conn = relay;
	r->who = who;
	r->interval_ms = env_ms("SEALBOX_VIEWER_KEEPALIVE", 20000);
	/* 90 s: tunneld's default dead_after (60 s, the longest it may take to see a silent
	 * link die) plus its resume_grace (30 s); a relay says its own in resume_window */
	r->grace_ms = env_ms("SEALBOX_VIEWER_GRACE", 90000);
	r->grace_fixed = getenv("SEALBOX_VIEWER_GRACE") && *getenv("SEALBOX_VIEWER_GRACE");
	r->last_rx_ms = r->last_ping_ms = r->last_dping_ms = vw_now_ms();
	relay->rtx = r;
}

static void peer_clear(struct vw_rtx_peer *p)
{
	for (struct vw_rtx_frame *f = p->head, *n; f; f = n) {
		n = f->next;
		free(f);
	}
	memset(p, 0, sizeof(*p));
}

void vw_rtx_free(struct vw_rtx *r)
{
	for (int i = 0; i < VW_RTX_PEERS; i++)
		peer_clear(&r->peer[i]);
	cry_wipe(r->token, sizeof(r->token));
	vw_hop_cancel(r->dial);
	r->dial = NULL;
	if (r->conn)
		r->conn->rtx = NULL;
}

void vw_rtx_enable(struct vw_rtx *r, const char *session, uint16_t id, const char *token)
{
	snprintf(r->session, sizeof(r->session), "%s", session);
	r->id = id;
	snprintf(r->token, sizeof(r->token), "%s", token ? token : "");
	r->enabled = token && *token;
}

void vw_rtx_window(struct vw_rtx *r, const char *seconds)
{
	char *end;
	long s;

	if (!seconds || r->grace_fixed)
		return;
	s = strtol(seconds, &end, 10);
	if (end == seconds || *end || s <= 0 || s > 2 * 86400)
		return; /* the relay's dead_after and resume_grace are at most 1 day + 1 h */
	if (s * 1000 > r->grace_ms)
		r->grace_ms = s * 1000;
}

struct vw_rtx_peer *vw_rtx_peer(struct vw_rtx *r, uint16_t id)
{
	for (int i = 0; i < VW_RTX_PEERS; i++)
		if (r->peer[i].used && r->peer[i].id == id)
			return &r->peer[i];
	return NULL;
}

void vw_rtx_peer_add(struct vw_rtx *r, uint16_t id)
{
	if (vw_rtx_peer(r, id))
		return;
	for (int i = 0; i < VW_RTX_PEERS; i++)
		if (!r->peer[i].used) {
			memset(&r->peer[i], 0, sizeof(r->peer[i]));
			r->peer[i].used = 1;
			r->peer[i].id = id;
			return;
		}
}

void vw_rtx_peer_del(struct vw_rtx *r, uint16_t id)
{
	struct vw_rtx_peer *p = vw_rtx_peer(r, id);
	if (p)
		peer_clear(p);
}

int vw_rtx_live(const struct vw_rtx *r)
{
	return r->state == VW_LINK_UP;
}

uint32_t vw_rtx_ack_for(struct vw_rtx *r, uint16_t target)
{
	struct vw_rtx_peer *p = vw_rtx_peer(r, target);
	if (!p)
		return 0;
	p->ack_sent = p->rx_ack;
	p->rx_since_ack = 0;
	return p->rx_ack;
}

/* The link a peer's frames go on: its direct link, else the relay's. */
static struct vw_conn *plink(struct vw_rtx *r, struct vw_rtx_peer *p)
{
	return p->link ? p->link : r->conn;
}

int vw_rtx_keep(struct vw_rtx *r, const struct vw_conn *c, uint16_t target,
		const uint8_t *frame, size_t len, uint32_t seq)
{
	struct vw_rtx_peer *p = vw_rtx_peer(r, target);
	struct vw_rtx_frame *f;

	if (!p) /* not a peer we resync with (nobody yet): plain sending */
		return vw_rtx_live(r) || c != r->conn ? 1 : -1;
	if (p->bytes + len > VW_RTX_CAP + 64 * 1024 || !(f = malloc(sizeof(*f) + len)))
		return -1; /* producers ask vw_link_room first; this is the hard stop */
	f->next = NULL;
	f->seq = seq;
	f->len = len;
	memcpy(f->b, frame, len);
	if (p->tail)
		p->tail->next = f;
	else
		p->head = f;
	p->tail = f;
	p->bytes += len;
	if (c != r->conn)
		return 1; /* a direct link: written now, kept in case it breaks */
	if (p->cursor || p->marker_due || !vw_rtx_live(r)) {
		if (!p->cursor)
			p->cursor = f;
		return 0;
	}
	return 1;
}

size_t vw_link_room(const struct vw_conn *c, uint16_t target)
{
	size_t room = vw_conn_room(c);
	const struct vw_rtx_peer *p;

	if (!c->rtx)
		return room;
	p = vw_rtx_peer(c->rtx, target);
	if (c != c->rtx->conn) { /* a direct link: bounded by the same buffer */
		if (p && (p->broken_ms || p->bytes >= VW_RTX_CAP))
			return 0;
		return p && VW_RTX_CAP - p->bytes < room ? VW_RTX_CAP - p->bytes : room;
	}
	if (!vw_rtx_live(c->rtx))
		return 0;
	if (!p)
		return room;
	if (p->cursor || p->marker_due || p->bytes >= VW_RTX_CAP)
		return 0;
	return VW_RTX_CAP - p->bytes < room ? VW_RTX_CAP - p->bytes : room;
}

/* Frees what the peer has acked. */
static void trim(struct vw_rtx *r, struct vw_rtx_peer *p, uint32_t ack)
{
	uint32_t sent = r->conn->seqp ? *r->conn->seqp : r->conn->seq;

	if (ack > sent)
		return; /* it cannot have seen what we never sent: ignore */
	while (p->head && p->head->seq <= ack) {
		struct vw_rtx_frame *f = p->head;
		p->head = f->next;
		if (!p->head)
			p->tail = NULL;
		if (p->cursor == f)
			p->cursor = p->head;
		p->bytes -= f->len;
		free(f);
	}
}

int vw_rtx_rx(struct vw_rtx *r, const struct tframe_hdr *h)
{
	struct vw_rtx_peer *p = vw_rtx_peer(r, h->source);

	if (!p)
		return 0;
	trim(r, p, h->ack);
	if (h->type != TF_DATA)
		return 0;
	if (p->link)
		return 1; /* it sends on its direct link; this predates the move */
	if (p->waiting)
		return 1; /* may follow a gap: the peer resends it after its marker */
	if (p->dup_ok && h->seq <= p->rx_ack)
		return 1; /* resent, and we have it */
	p->dup_ok = 0;
	return 0;
}

void vw_rtx_accepted(struct vw_rtx *r, uint16_t peer, uint32_t seq, size_t len)
{
	struct vw_rtx_peer *p = vw_rtx_peer(r, peer);

	if (!p || seq <= p->rx_ack)
		return;
	p->rx_ack = seq;
	p->rx_since_ack += len;
}

/* "Everything you have not acked follows": the marker, then the unacked frames in order
 * (written by the pump as the link takes them, before anything new for that peer). */
static void resync_to(struct vw_rtx *r, struct vw_rtx_peer *p)
{
	/* when the output is full the marker goes first as soon as there is room, and
	 * everything for that peer waits behind it */
	p->marker_due = vw_conn_send_ctl(r->conn, TF_PONG, p->id, "resync=1\n") < 0;
	p->cursor = p->head;
}

void vw_rtx_peer_resync(struct vw_rtx *r, uint16_t id)
{
	struct vw_rtx_peer *p = vw_rtx_peer(r, id);
	if (p && !p->link && vw_rtx_live(r))
		resync_to(r, p);
}

/* The peer's direct link is given up: the applet closes it, and the peer's traffic goes
 * through the relay from here on. Both ends resync as after a resume: discard the peer's
 * relay DATA until its marker, send ours and the unacked tail (direct frames included)
 * before anything new. With the relay link down, all of it waits for the resume, whose
 * resync covers this peer then. */
static void fall_back(struct vw_rtx *r, struct vw_rtx_peer *p, const char *why)
{
	char w[sizeof(p->link_why)];

	snprintf(w, sizeof(w), "%s", why);
	p->link = NULL;
	p->broken_ms = 0;
	if (r->direct_closed)
		r->direct_closed(r->cb_arg, p->id, w);
	p->waiting = 1;
	p->dup_ok = 0;
	if (vw_rtx_live(r))
		resync_to(r, p);
	else
		p->cursor = p->head;
}

void vw_rtx_set_direct(struct vw_rtx *r, uint16_t id, struct vw_conn *link)
{
	struct vw_rtx_peer *p = vw_rtx_peer(r, id);

	if (!p)
		return;
	p->link = link;
	p->broken_ms = 0;
	p->link_rx_ms = vw_now_ms();
	if (link)
		link->rtx = r;
}

void vw_rtx_direct_rx(struct vw_rtx *r, const struct tframe_hdr *h)
{
	struct vw_rtx_peer *p = vw_rtx_peer(r, h->source);

	if (!p || !p->link)
		return;
	p->link_rx_ms = vw_now_ms();
	trim(r, p, h->ack);
	if (h->type == TF_PING)
		vw_conn_send_ctl(p->link, TF_PONG, p->id, "");
}

void vw_rtx_direct_broken(struct vw_rtx *r, uint16_t id, const char *why)
{
	struct vw_rtx_peer *p = vw_rtx_peer(r, id);

	if (!p || !p->link || p->broken_ms)
		return;
	p->broken_ms = vw_now_ms();
	snprintf(p->link_why, sizeof(p->link_why), "%s", why && *why ? why : "error");
}

int vw_rtx_is_marker(const struct tframe_hdr *h, const uint8_t *pl)
{
	return h->type == TF_PONG && h->length >= 9 && memcmp(pl, "resync=1\n", 9) == 0;
}

void vw_rtx_ctl(struct vw_rtx *r, const struct tframe_hdr *h, const uint8_t *pl)
{
	struct vw_rtx_peer *p = vw_rtx_peer(r, h->source);
	int resync = h->length >= 9 && memcmp(pl, "resync=1\n", 9) == 0;

	if (!p)
		return;
	if (p->link && resync) {
		/* it gave up our direct link (it saw it break first): so do we, and resend */
		fall_back(r, p, "the peer went back to the relay");
		if (h->type == TF_PING)
			return;
	}
	if (h->type == TF_PING) {
		if (resync)
			resync_to(r, p);
		else
			vw_conn_send_ctl(plink(r, p), TF_PONG, p->id, "");
	} else if (resync) {
		if (p->waiting)
			log_info("peer %u resent what we missed", p->id);
		p->waiting = 0;
		p->dup_ok = 1;
	}
}

void vw_rtx_heard(struct vw_rtx *r)
{
	r->last_rx_ms = vw_now_ms();
}

int vw_rtx_lost(struct vw_rtx *r, const char *why)
{
	struct vw_conn *c = r->conn;
	long now = vw_now_ms();

	if (!r->enabled)
		return -1;
	if (r->state == VW_LINK_UP) {
		fprintf(stderr, "%s: relay link lost (%s); resuming for up to %ld s\n", r->who, why,
			r->grace_ms / 1000);
		r->lost_ms = now;
		r->backoff_ms = 250;
		r->next_try_ms = now;
	} else {
		/* an attempt failed: try again later, less often */
		r->next_try_ms = now + r->backoff_ms;
		r->backoff_ms = r->backoff_ms * 2 > VW_RESUME_BACKOFF_MAX_MS ? VW_RESUME_BACKOFF_MAX_MS : r->backoff_ms * 2;
	}
	snprintf(r->why, sizeof(r->why), "%s", why);
	r->state = VW_LINK_DOWN;
	/* what was queued is in the retransmit buffer, or was control traffic */
	vw_conn_drop_socket(c);
	return 0;
}

/* The RESUME of an attempt was answered (vw_redirect.h: by the relay that holds our
 * slot, after redirects, on the first relay of the list that answered): the answer,
 * unread, is the round's; our identity and counter go on (seq is half the nonce). */
static void resume_dialed(void *arg, struct net_conn *nc, struct cry_tls_ctx *tls,
			  const char *path, const char *err)
{
	struct vw_rtx *r = arg;
	struct vw_conn *c = r->conn;
	char e[160];

	r->dial = NULL;
	if (!nc) {
		log_info("resume: %s", err);
		vw_rtx_lost(r, err);
		return;
	}
	if (r->path)
		snprintf(r->path, r->pathlen, "%s", path);
	if (vw_conn_attach(c, nc, tls, e, sizeof(e)) < 0) {
		vw_rtx_lost(r, e);
		return;
	}
	r->state = VW_LINK_RESUMING;
	r->try_deadline_ms = vw_now_ms() + 5000;
	vw_loop_kick(); /* the round reads the answer */
}

/* Starts a resume attempt in the background: everything else goes on meanwhile. The
 * RESUME goes with source 0 (our id again once the relay accepted it). */
static void try_resume(struct vw_rtx *r, const struct vw_relay_opts *ro, char *path,
		       size_t pathlen)
{
	char err[200], ctl[160];
	uint8_t req[TFRAME_HDR_LEN + 160];
	long n;

	if (r->dial)
		return;
	r->path = path;
	r->pathlen = pathlen;
	snprintf(ctl, sizeof(ctl), "session=%s\nid=%u\ntoken=%s\n", r->session, r->id, r->token);
	r->conn->my_id = 0;
	n = vw_conn_build_ctl(r->conn, TF_RESUME, TF_ID_RELAY, ctl, req, sizeof(req));
	r->conn->my_id = r->id;
	cry_wipe(ctl, sizeof(ctl)); /* it held the resume token */
	if (!ro || n < 0 || !(r->dial = vw_hop_start(ro, req, (size_t)n, r->who, resume_dialed, r, err, sizeof(err))))
		vw_rtx_lost(r, !ro ? "no relay to dial" : n < 0 ? "cannot build RESUME" : err);
	cry_wipe(req, sizeof(req));
}

int vw_rtx_refused(struct vw_rtx *r, const char *code)
{
	if (r->state != VW_LINK_RESUMING)
		return -1;
	if (code && strcmp(code, "no-such-session") == 0) {
		snprintf(r->why, sizeof(r->why), "the session is gone");
		return -1;
	}
	/* "refused": the relay has not noticed yet that our old link is dead */
	vw_rtx_lost(r, code ? code : "refused");
	return 0;
}

void vw_rtx_resumed(struct vw_rtx *r, const char *path)
{
	r->state = VW_LINK_UP;
	r->last_rx_ms = r->last_ping_ms = vw_now_ms();
	fprintf(stderr, "%s: resumed after %.1f s; path %s\n", r->who,
		(double)(vw_now_ms() - r->lost_ms) / 1000, path);
	for (int i = 0; i < VW_RTX_PEERS; i++) {
		struct vw_rtx_peer *p = &r->peer[i];
		if (!p->used || p->link)
			continue; /* a peer on a direct link did not go through the relay */
		/* frames to us may have been dropped while we were away: wait for its marker */
		p->waiting = 1;
		vw_conn_send_ctl(r->conn, TF_PING, p->id, "resync=1\n");
		resync_to(r, p);
	}
}

/* Writes held-back frames (resends, then what was made meanwhile) as the link takes them. */
static void pump(struct vw_rtx *r)
{
	for (int i = 0; i < VW_RTX_PEERS; i++) {
		struct vw_rtx_peer *p = &r->peer[i];
		if (p->used && p->marker_due) {
			if (vw_conn_send_ctl(r->conn, TF_PONG, p->id, "resync=1\n") < 0)
				continue;
			p->marker_due = 0;
		}
		while (p->used && p->cursor && vw_conn_room(r->conn) >= p->cursor->len) {
			if (vw_conn_queue_raw(r->conn, p->cursor->b, p->cursor->len) < 0)
				break;
			p->cursor = p->cursor->next;
		}
	}
}

/* An ack-only PONG to each peer (on link direct or not) that is owed one: a side that
 * only receives still acks, so the sender's buffer drains. */
static void send_acks(struct vw_rtx *r, long now, int direct)
{
	for (int i = 0; i < VW_RTX_PEERS; i++) {
		struct vw_rtx_peer *p = &r->peer[i];
		if (p->used && !p->link == !direct && !p->broken_ms && p->rx_ack != p->ack_sent &&
		    (p->rx_since_ack >= VW_RTX_ACK_EVERY || now - p->ack_ms >= 500) &&
		    vw_conn_send_ctl(plink(r, p), TF_PONG, p->id, "") == 0)
			p->ack_ms = now;
	}
}

/* The direct links: keepalive, acks, and falling back from a broken or silent one (the
 * same 4 intervals as the relay link). They go on while the relay link resumes. */
static void direct_tick(struct vw_rtx *r, long now)
{
	int ping = now - r->last_dping_ms >= r->interval_ms;

	if (ping)
		r->last_dping_ms = now;
	for (int i = 0; i < VW_RTX_PEERS; i++) {
		struct vw_rtx_peer *p = &r->peer[i];
		char why[64];
		if (!p->used || !p->link)
			continue;
		if (p->broken_ms) {
			if (now - p->broken_ms >= VW_DIRECT_EOF_GRACE_MS)
				fall_back(r, p, p->link_why);
			continue;
		}
		if (now - p->link_rx_ms > 4 * r->interval_ms) {
			snprintf(why, sizeof(why), "nothing heard for %.1f s",
				 (double)(now - p->link_rx_ms) / 1000);
			fall_back(r, p, why);
			continue;
		}
		if (ping)
			vw_conn_send_ctl(p->link, TF_PING, p->id, "");
	}
	send_acks(r, now, 1);
}

int vw_rtx_tick(struct vw_rtx *r, const struct vw_relay_opts *ro, char *path, size_t pathlen)
{
	long now = vw_now_ms();

	direct_tick(r, now);
	if (r->state != VW_LINK_UP) {
		if (now - r->lost_ms > r->grace_ms) {
			char last[sizeof(r->why)];
			snprintf(last, sizeof(last), "%s", r->why);
			snprintf(r->why, sizeof(r->why), "no resume within %ld s (last: %.200s)",
				 r->grace_ms / 1000, last);
			return -1;
		}
		if (r->state == VW_LINK_RESUMING && now > r->try_deadline_ms)
			vw_rtx_lost(r, "no answer to RESUME");
		if (r->state == VW_LINK_DOWN && now >= r->next_try_ms)
			try_resume(r, ro, path, pathlen);
		return 0;
	}
	/* dead after 4 intervals without a byte (the relay answers our PING every interval):
	 * longer than tunneld's dead_after (3 intervals by default), so when the relay pauses
	 * us because another member stalls, it drops that member before we drop our link */
	if (r->enabled && now - r->last_rx_ms > 4 * r->interval_ms) {
		char why[64];
		snprintf(why, sizeof(why), "nothing heard for %ld s", (now - r->last_rx_ms) / 1000);
		vw_rtx_lost(r, why);
		return 0;
	}
	pump(r);
	if (now - r->last_ping_ms >= r->interval_ms) {
		/* the relay answers the first; the peers' PONGs carry their acks, and a peer
		 * still owing us its marker is asked again */
		vw_conn_send_ctl(r->conn, TF_PING, TF_ID_RELAY, "");
		for (int i = 0; i < VW_RTX_PEERS; i++)
			if (r->peer[i].used && !r->peer[i].link)
				vw_conn_send_ctl(r->conn, TF_PING, r->peer[i].id,
						 r->peer[i].waiting ? "resync=1\n" : "");
		r->last_ping_ms = now;
	}
	send_acks(r, now, 0);
	return 0;
}

int vw_rtx_poll_ms(const struct vw_rtx *r, int dflt)
{
	for (int i = 0; i < VW_RTX_PEERS; i++)
		if (r->peer[i].used && r->peer[i].broken_ms)
			return 100;
	if (r->state != VW_LINK_UP)
		return 100;
	return r->interval_ms < dflt ? (int)(r->interval_ms / 2 + 1) : dflt;
}
