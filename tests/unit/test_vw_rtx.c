/* Unit tests for the viewer's retransmit buffer and resync rules
 * (applets/viewer/vw_rtx.c): frames kept until acked, held back while the link is down,
 * resent in order after the marker, the sequence counter never restarting, and a
 * resumed receiver skipping only what the marker allows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "applets/viewer/vw_conf.h"
#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_crypto.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_rtx.h"
#include "unit.h"

struct rig {
	struct vw_conn c;
	struct vw_rtx r;
	struct vw_key k;
	int other; /* the socketpair's far end */
};

static void rig_init(struct rig *g)
{
	int sv[2];
	char err[64];

	memset(g, 0, sizeof(*g));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(vw_conn_adopt(&g->c, sv[0], err, sizeof(err)) == 0);
	g->other = sv[1];
	g->c.my_id = TF_ID_MASTER;
	vw_rtx_init(&g->r, &g->c, "test");
	vw_rtx_peer_add(&g->r, 2);
	CHECK(vw_key_init(&g->k, 0, NULL) == 0);
}

static void rig_free(struct rig *g)
{
	vw_rtx_free(&g->r);
	vw_conn_close(&g->c);
	vw_key_clear(&g->k);
	close(g->other);
}

static int send_data(struct rig *g, uint32_t b)
{
	struct vw_msg m = { VW_M_WINDOW, 1, 0, b, 0, NULL, 0 };
	return vw_conn_send_msg(&g->c, &g->k, 2, &m);
}

/* The frames queued on the link: their types and seqs, in order. */
static int queued(struct rig *g, uint8_t *types, uint32_t *seqs, int max)
{
	size_t off = g->c.out_off;
	int n = 0;

	while (off < g->c.out_len && n < max) {
		struct tframe_hdr h;
		CHECK(tframe_hdr_decode(g->c.out + off, g->c.out_len - off, VW_FRAME_MAX, &h) == 0);
		types[n] = h.type;
		seqs[n++] = h.seq;
		off += TFRAME_HDR_LEN + h.length;
	}
	return n;
}

static void keep_and_trim(void)
{
	struct rig g;
	struct tframe_hdr ack = { TFRAME_VERSION, TF_PONG, 2, TF_ID_MASTER, 1, 0, 0 };
	struct vw_rtx_peer *p;
	uint8_t t[8];
	uint32_t s[8];

	rig_init(&g);
	for (uint32_t i = 1; i <= 3; i++)
		CHECK(send_data(&g, i) == 0);
	p = vw_rtx_peer(&g.r, 2);
	CHECK(p && p->head && p->bytes > 0);
	CHECK_EQ(queued(&g, t, s, 8), 3); /* live: written at once, and kept */
	CHECK_EQ(s[2], 3);
	CHECK_EQ(vw_link_room(&g.c, 2), vw_conn_room(&g.c)); /* the smaller of the two rooms */
	ack.ack = 2; /* the peer has seen up to seq 2 */
	CHECK_EQ(vw_rtx_rx(&g.r, &ack), 0);
	CHECK(p->head && p->head == p->tail); /* only seq 3 is left */
	ack.ack = 99; /* more than we ever sent: ignored */
	vw_rtx_rx(&g.r, &ack);
	CHECK(p->head != NULL);
	ack.ack = 3;
	vw_rtx_rx(&g.r, &ack);
	CHECK(p->head == NULL && p->bytes == 0);
	rig_free(&g);
}

static void down_then_resync_in_order(void)
{
	struct rig g;
	uint8_t t[16];
	uint32_t s[16];
	int n;

	rig_init(&g);
	vw_rtx_enable(&g.r, "12345", TF_ID_MASTER, "00112233445566778899aabbccddeeff");
	CHECK(send_data(&g, 1) == 0); /* seq 1: written, never acked */
	CHECK(vw_rtx_lost(&g.r, "test") == 0);
	CHECK_EQ(vw_link_room(&g.c, 2), 0);
	CHECK(send_data(&g, 2) == 0); /* made while down: kept, not written */
	CHECK_EQ(g.c.out_len, 0);
	CHECK(vw_conn_send_ctl(&g.c, TF_PING, TF_ID_RELAY, "") < 0); /* nothing else goes */
	CHECK_EQ(g.c.seq, 2);        /* the counter went on */
	g.r.state = VW_LINK_RESUMING;
	vw_rtx_resumed(&g.r, "test");
	CHECK(send_data(&g, 3) == 0); /* a resend is pending: this one waits its turn */
	{
		struct vw_relay_opts ro;
		vw_relay_opts_init(&ro);
		ro.server = "127.0.0.1:1";
		ro.https_port = ro.http_port = 0;
		vw_rtx_tick(&g.r, &ro, NULL, 0);
	}
	n = queued(&g, t, s, 16);
	/* the resync request, the marker, then 1, 2, 3 in order */
	CHECK_EQ(n, 5);
	CHECK_EQ(t[0], TF_PING);
	CHECK_EQ(t[1], TF_PONG);
	CHECK_EQ(t[2], TF_DATA);
	CHECK_EQ(s[2], 1);
	CHECK_EQ(s[3], 2);
	CHECK_EQ(s[4], 5); /* seq 3 and 4 went to PING and PONG */
	CHECK(vw_link_room(&g.c, 2) > 0);
	rig_free(&g);
}

static void receiver_skips_only_after_marker(void)
{
	struct rig g;
	struct tframe_hdr d = { TFRAME_VERSION, TF_DATA, 2, TF_ID_MASTER, 10, 0, 20 };
	struct tframe_hdr mk = { TFRAME_VERSION, TF_PONG, 2, TF_ID_MASTER, 11, 0, 9 };
	const uint8_t resync[] = "resync=1\n";

	rig_init(&g);
	vw_rtx_accepted(&g.r, 2, 10, 20);
	CHECK_EQ(vw_rtx_ack_for(&g.r, 2), 10);
	/* no marker: a replayed seq is not skipped here (the caller rejects it) */
	CHECK_EQ(vw_rtx_rx(&g.r, &d), 0);
	/* we resumed: its DATA waits for the marker */
	vw_rtx_enable(&g.r, "12345", TF_ID_MASTER, "00112233445566778899aabbccddeeff");
	vw_rtx_lost(&g.r, "test");
	g.r.state = VW_LINK_RESUMING;
	vw_rtx_resumed(&g.r, "test");
	d.seq = 12;
	CHECK_EQ(vw_rtx_rx(&g.r, &d), 1);
	vw_rtx_ctl(&g.r, &mk, resync);
	d.seq = 9;
	CHECK_EQ(vw_rtx_rx(&g.r, &d), 1); /* resent, we have it */
	d.seq = 11;
	CHECK_EQ(vw_rtx_rx(&g.r, &d), 0); /* new: accepted ... */
	vw_rtx_accepted(&g.r, 2, 11, 20);
	d.seq = 10;
	CHECK_EQ(vw_rtx_rx(&g.r, &d), 0); /* ... and after it an old seq is a replay again */
	rig_free(&g);
}

/* A direct link: frames sent there are kept like the relay's; when it breaks, the
 * relay link gets the marker and the unacked tail (the same sealed frames), in order. */
static int closed_calls;
static char closed_why[128];

static void on_closed(void *arg, uint16_t peer, const char *why)
{
	(void)arg;
	CHECK_EQ(peer, 2);
	closed_calls++;
	snprintf(closed_why, sizeof(closed_why), "%s", why);
}

static int send_direct(struct rig *g, struct vw_conn *d, uint32_t b)
{
	struct vw_msg m = { VW_M_WINDOW, 1, 0, b, 0, NULL, 0 };
	return vw_conn_send_msg(d, &g->k, 2, &m);
}

static void direct_falls_back_to_relay(void)
{
	struct rig g;
	struct vw_conn d;
	struct tframe_hdr ack = { TFRAME_VERSION, TF_PONG, 2, TF_ID_MASTER, 1, 0, 0 };
	struct vw_rtx_peer *p;
	uint8_t t[16], dsent[16 * 1024];
	uint32_t s[16];
	size_t dlen;
	int sv[2], n;
	char err[64];

	rig_init(&g);
	closed_calls = 0;
	g.r.direct_closed = on_closed;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(vw_conn_adopt(&d, sv[0], err, sizeof(err)) == 0);
	d.my_id = TF_ID_MASTER;
	d.seqp = &g.c.seq; /* one counter for both links */
	vw_rtx_set_direct(&g.r, 2, &d);
	for (uint32_t i = 1; i <= 3; i++)
		CHECK(send_direct(&g, &d, i) == 0);
	CHECK_EQ(g.c.out_len, 0);      /* nothing on the relay link */
	CHECK_EQ(queued(&g, t, s, 16), 0);
	p = vw_rtx_peer(&g.r, 2);
	CHECK(p && p->head && p->bytes == d.out_len); /* written on the direct link, and kept */
	dlen = d.out_len;
	CHECK(dlen <= sizeof(dsent));
	memcpy(dsent, d.out, dlen);
	ack.ack = 1; /* the peer got seq 1 on the direct link */
	vw_rtx_direct_rx(&g.r, &ack);
	/* relay DATA from a peer on a direct link predates the move: skipped */
	{
		struct tframe_hdr rd = { TFRAME_VERSION, TF_DATA, 2, TF_ID_MASTER, 9, 0, 20 };
		CHECK_EQ(vw_rtx_rx(&g.r, &rd), 1);
	}
	vw_rtx_direct_broken(&g.r, 2, "connection reset");
	CHECK_EQ(vw_link_room(&d, 2), 0); /* producers stop */
	vw_rtx_tick(&g.r, NULL, NULL, 0);
	CHECK_EQ(closed_calls, 0); /* the relay gets a moment to say it was a kick */
	p->broken_ms -= VW_DIRECT_EOF_GRACE_MS;
	vw_rtx_tick(&g.r, NULL, NULL, 0);
	CHECK_EQ(closed_calls, 1);
	CHECK(strcmp(closed_why, "connection reset") == 0);
	CHECK(p->link == NULL && p->waiting);
	n = queued(&g, t, s, 16);
	/* the marker, then 2 and 3 as they were sent on the direct link */
	CHECK_EQ(n, 3);
	CHECK_EQ(t[0], TF_PONG);
	CHECK_EQ(t[1], TF_DATA);
	CHECK_EQ(s[1], 2);
	CHECK_EQ(s[2], 3);
	{
		size_t off = g.c.out_off, l2;
		struct tframe_hdr h;
		CHECK(tframe_hdr_decode(g.c.out + off, g.c.out_len - off, VW_FRAME_MAX, &h) == 0);
		off += TFRAME_HDR_LEN + h.length; /* past the marker */
		l2 = g.c.out_len - off;
		/* the same bytes (same nonce, same ciphertext) as frames 2 and 3 on the direct link */
		CHECK(l2 * 3 == dlen * 2);
		CHECK(memcmp(g.c.out + off, dsent + dlen / 3, l2) == 0);
	}
	vw_conn_close(&d);
	close(sv[1]);
	rig_free(&g);
}

/* The peer left the direct link first: its marker through the relay moves us too. */
static void peer_marker_moves_us(void)
{
	struct rig g;
	struct vw_conn d;
	struct tframe_hdr mk = { TFRAME_VERSION, TF_PONG, 2, TF_ID_MASTER, 7, 0, 9 };
	uint8_t t[8];
	uint32_t s[8];
	int sv[2];
	char err[64];

	rig_init(&g);
	closed_calls = 0;
	g.r.direct_closed = on_closed;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(vw_conn_adopt(&d, sv[0], err, sizeof(err)) == 0);
	d.my_id = TF_ID_MASTER;
	d.seqp = &g.c.seq;
	vw_rtx_set_direct(&g.r, 2, &d);
	CHECK(send_direct(&g, &d, 1) == 0);
	vw_rtx_rx(&g.r, &mk);
	vw_rtx_ctl(&g.r, &mk, (const uint8_t *)"resync=1\n");
	CHECK_EQ(closed_calls, 1);
	CHECK(vw_rtx_peer(&g.r, 2)->link == NULL);
	CHECK(!vw_rtx_peer(&g.r, 2)->waiting); /* its marker is here already */
	vw_rtx_tick(&g.r, NULL, NULL, 0);
	CHECK_EQ(queued(&g, t, s, 8), 2); /* our marker, then seq 1 again */
	CHECK_EQ(t[0], TF_PONG);
	CHECK_EQ(s[1], 1);
	vw_conn_close(&d);
	close(sv[1]);
	rig_free(&g);
}

/* Failed resume attempts back off from 250 ms, doubling, to at most 1 s: when a relay of
 * a fleet died the others answer at once, so waiting longer only delays the resume. */
static void resume_backoff_capped(void)
{
	struct rig g;
	long wait;

	rig_init(&g);
	vw_rtx_enable(&g.r, "12345", TF_ID_MASTER, "00112233445566778899aabbccddeeff");
	CHECK(vw_rtx_lost(&g.r, "test") == 0); /* the link was up: the first try is now */
	CHECK_EQ(g.r.backoff_ms, 250);
	for (int i = 0; i < 8; i++) {
		long before = vw_now_ms();
		CHECK(vw_rtx_lost(&g.r, "attempt failed") == 0);
		wait = g.r.next_try_ms - before;
		CHECK(wait >= 250 && wait <= 1000 + 50); /* the cap (and some clock between the reads) */
	}
	CHECK_EQ(g.r.backoff_ms, 1000);
	rig_free(&g);
}

UNIT_SUITE(vw_rtx, UNIT_TEST(keep_and_trim), UNIT_TEST(down_then_resync_in_order),
	   UNIT_TEST(resume_backoff_capped),
	   UNIT_TEST(receiver_skips_only_after_marker), UNIT_TEST(direct_falls_back_to_relay),
	   UNIT_TEST(peer_marker_moves_us));
