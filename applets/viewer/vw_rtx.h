/* vw_rtx.h - what keeps a viewer session alive across a dropped relay link
 * (docs/viewer-protocol.md section 9): per-peer acknowledgements and a bounded
 * retransmit buffer of the DATA frames sent to each peer, the end-to-end keepalive, and
 * RESUME with back-off within the grace period. One vw_rtx belongs to one relay link
 * (struct vw_conn .rtx). A peer reached over a direct LAN link is covered by the same
 * buffer and acks (the link's .rtx points here too): when that link breaks, its traffic
 * falls back to the relay link and the unacked tail is resent there (section 8 of
 * docs/viewer-protocol.md).
 *
 * Frames are kept sealed, exactly as sent: a resend reuses the frame (same seq, same
 * nonce, same bytes), so nothing is ever sealed twice under one nonce, and the sequence
 * counter goes on across the reconnect. */
#ifndef VW_RTX_H
#define VW_RTX_H

#include <stddef.h>
#include <stdint.h>

#include "core/tframe.h"

struct vw_conn;
struct vw_relay_opts;
struct vw_hop;

#define VW_RTX_PEERS 16
#define VW_RTX_CAP (4 * 1024 * 1024)  /* unacked bytes kept per peer */
#define VW_RTX_ACK_EVERY (128 * 1024)  /* a receiver acks at least this often */

struct vw_rtx_frame;

struct vw_rtx_peer {
	int used;
	uint16_t id;
	struct vw_rtx_frame *head, *tail; /* unacked frames for this peer, oldest first */
	struct vw_rtx_frame *cursor;      /* the first one not written to the link yet */
	size_t bytes;
	uint32_t rx_ack;     /* highest seq accepted from this peer (our ack to it) */
	uint32_t ack_sent;   /* the ack last written in a frame to it */
	size_t rx_since_ack; /* bytes accepted from it since then */
	int waiting;         /* we resumed: its frames are discarded until its resync marker */
	int dup_ok;          /* after its marker: resent frames we already have are skipped */
	int marker_due;      /* the resync marker could not be queued yet: all else waits */
	long ack_ms;         /* when we last sent it an ack-only PONG */
	/* its direct LAN link (NULL: the relay carries its traffic) */
	struct vw_conn *link;
	long link_rx_ms;     /* the last frame heard on it (keepalive) */
	long broken_ms;      /* when it hit EOF or an error (0: it did not) */
	char link_why[128];
};

enum vw_link_state { VW_LINK_UP, VW_LINK_DOWN, VW_LINK_RESUMING };

struct vw_rtx {
	struct vw_conn *conn;
	const char *who;      /* "viewer-master" / "viewer-client", for the stderr lines */
	enum vw_link_state state;
	int enabled;          /* we have a token: a lost link can be resumed */
	char session[16];
	uint16_t id;
	char token[80];
	long interval_ms;     /* keepalive period; the link is dead after 4 of them silent */
	long grace_ms;        /* how long we try to resume */
	int grace_fixed;      /* set by SEALBOX_VIEWER_GRACE: the relay's resume_window is ignored */
	long last_rx_ms, last_ping_ms;
	long lost_ms, next_try_ms, try_deadline_ms, backoff_ms;
	char why[320];
	long last_dping_ms;   /* the last keepalive on the direct links */
	struct vw_rtx_peer peer[VW_RTX_PEERS];
	/* Set by the applet: a peer's direct link is given up (broken, silent, or the peer
	 * went back to the relay). It closes and forgets that link and prints the new path;
	 * it must not call back into vw_rtx. */
	void (*direct_closed)(void *arg, uint16_t peer, const char *why);
	void *cb_arg;
	struct vw_hop *dial;  /* a resume's connection and RESUME under way (vw_redirect.h), or NULL */
	char *path;           /* where the path of the resumed link goes */
	size_t pathlen;
};

/* A direct link that hit EOF or an error is given up after this long: a kick or a peer
 * that leaves also closes it, and the relay gets this moment to say so. */
#define VW_DIRECT_EOF_GRACE_MS 2000

long vw_now_ms(void);
/* Sets the timers (SEALBOX_VIEWER_KEEPALIVE / SEALBOX_VIEWER_GRACE, seconds, override
 * the defaults 20 and 30) and attaches rtx to the relay link. */
void vw_rtx_init(struct vw_rtx *r, struct vw_conn *relay, const char *who);
void vw_rtx_free(struct vw_rtx *r);
/* The token from REGISTERED/JOINED: from now on a lost link is resumed. */
void vw_rtx_enable(struct vw_rtx *r, const char *session, uint16_t id, const char *token);
/* resume_window=SECONDS from REGISTERED/JOINED (NULL: the relay sent none): try to resume
 * at least that long, so we never give up on a slot the relay still keeps. */
void vw_rtx_window(struct vw_rtx *r, const char *seconds);
void vw_rtx_peer_add(struct vw_rtx *r, uint16_t id);
void vw_rtx_peer_del(struct vw_rtx *r, uint16_t id);
struct vw_rtx_peer *vw_rtx_peer(struct vw_rtx *r, uint16_t id);

/* Called by vw_conn for every frame it queues on link c (the relay link or a direct
 * one): the ack to put in the header, and (for DATA) keeping the sealed frame. keep
 * returns 1 when the frame may be written to the link now, 0 when it was only kept
 * (relay link down or a resend in progress: it goes out later, in order), -1 when it
 * cannot be kept. */
uint32_t vw_rtx_ack_for(struct vw_rtx *r, uint16_t target);
int vw_rtx_keep(struct vw_rtx *r, const struct vw_conn *c, uint16_t target,
		const uint8_t *frame, size_t len, uint32_t seq);
/* 1 when control frames may go on the link (it is up). */
int vw_rtx_live(const struct vw_rtx *r);
/* Bytes a producer may still send to target over link c: the link's output room, and
 * when c is covered by a vw_rtx, the target's retransmit room (0 while a relay link is
 * down or a resend is pending, or a direct link is broken). */
size_t vw_link_room(const struct vw_conn *c, uint16_t target);

/* The direct LAN path (docs/viewer-protocol.md section 8). set_direct: from now on the
 * peer's traffic goes on link (NULL: on the relay again, the link was closed by the
 * applet); the link's frames are kept and acked like the relay's. direct_rx: a frame
 * (DATA, PING, PONG) from the peer on its direct link: notes its ack and that the link
 * lives, answers a PING. direct_broken: the link hit EOF or an error; the traffic falls
 * back to the relay VW_DIRECT_EOF_GRACE_MS later (vw_rtx_tick), unless the peer is gone
 * by then. A link silent for 4 keepalive intervals falls back too. */
void vw_rtx_set_direct(struct vw_rtx *r, uint16_t id, struct vw_conn *link);
void vw_rtx_direct_rx(struct vw_rtx *r, const struct tframe_hdr *h);
void vw_rtx_direct_broken(struct vw_rtx *r, uint16_t id, const char *why);

/* Receiving. A frame (DATA, PING or PONG) from member h->source on the relay link:
 * note its ack. Returns 1 when a DATA frame must be skipped (we wait for that peer's
 * resync marker, it is a resent frame we already have, or the peer is on a direct link:
 * relay DATA from it predates the move). */
int vw_rtx_rx(struct vw_rtx *r, const struct tframe_hdr *h);
/* A DATA frame from peer was accepted (its seq is now our ack). */
void vw_rtx_accepted(struct vw_rtx *r, uint16_t peer, uint32_t seq, size_t len);
/* PING/PONG from a member on the relay link: answers, resync requests and markers. A
 * resync request or marker from a peer we reach directly means it went back to the
 * relay: we do too (direct_closed), then resend what it has not acked. */
void vw_rtx_ctl(struct vw_rtx *r, const struct tframe_hdr *h, const uint8_t *pl);

/* The peer came back (PEER_JOINED resumed=1): send it the marker and what it has not
 * acked, in case it does not know us yet (it joined while we were away). */
void vw_rtx_peer_resync(struct vw_rtx *r, uint16_t id);
/* 1 for a PONG carrying the resync marker. */
int vw_rtx_is_marker(const struct tframe_hdr *h, const uint8_t *pl);
/* Bytes arrived on the relay link (the keepalive's evidence of life). */
void vw_rtx_heard(struct vw_rtx *r);
/* The link died (EOF, error, or the keepalive): close it and start resuming. Returns
 * -1 when it cannot be resumed (no token yet). */
int vw_rtx_lost(struct vw_rtx *r, const char *why);
/* The relay answered RESUME (REGISTERED/JOINED resumed=1). */
void vw_rtx_resumed(struct vw_rtx *r, const char *path);
/* The relay refused a RESUME attempt (ERROR): 0 to try again later, -1 to give up. */
int vw_rtx_refused(struct vw_rtx *r, const char *code);
/* Once per loop: keepalive, acks, resends, dead-link detection, reconnect attempts.
 * ro/path: as for vw_conn_open_relay. Returns -1 when the session is lost
 * for good (the grace period passed); r->why says why. */
int vw_rtx_tick(struct vw_rtx *r, const struct vw_relay_opts *ro, char *path, size_t pathlen);
/* A poll timeout that lets tick run in time. */
int vw_rtx_poll_ms(const struct vw_rtx *r, int dflt);
#endif
