/* vw_mdirect.c - viewer-master's direct LAN path: the listener, the proof of a client's
 * direct key, and the direct links that replace the relay for a client once it proved
 * it. A connection that does not prove within 2 s gets nothing but the random challenge
 * and is closed. When
 * a direct link breaks, vw_rtx moves that client back to the relay (vw_mdirect_closed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "applets/viewer/vw_direct.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_master.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "net/conn.h"

#define PROOF_MS 2000

static void pend_close(struct vw_dpend *d, const char *why)
{
	if (why)
		log_info("direct: connection from %s closed: %s", d->addr, why);
	vw_loop_close(&d->fd);
	cry_wipe(d, sizeof(*d));
	d->fd = -1;
}

int vw_mdirect_pollfds(struct vw_master *m, struct pollfd *pf, int max)
{
	int n = 0;

	if (max < VW_MAX_PEND)
		return 0;
	for (int i = 0; i < VW_MAX_PEND; i++)
		pf[n++] = (struct pollfd){ m->pend[i].fd, POLLIN, 0 };
	/* the listener hands its connections over on the loop (vw_mdirect_accept); the
	 * direct links are net_conns: their bytes kick a round (vw_loop.h) */
	return n;
}

void vw_mdirect_accept(int fd, const char *peer, void *arg)
{
	struct vw_master *m = arg;
	struct vw_dpend *d = NULL;

	for (int i = 0; i < VW_MAX_PEND && !d; i++)
		if (m->pend[i].fd < 0)
			d = &m->pend[i];
	if (!d) {
		close(fd); /* a flood of strays: the slots are busy for at most PROOF_MS */
		return;
	}
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	snprintf(d->addr, sizeof(d->addr), "%s", peer);
	d->deadline_ms = clock_ms() + PROOF_MS;
	if (cry_random(d->chal, sizeof(d->chal)) < 0 ||
	    send(fd, d->chal, sizeof(d->chal), MSG_NOSIGNAL) != (ssize_t)sizeof(d->chal))
		pend_close(d, "cannot send the challenge");
	vw_loop_kick(); /* the round puts it in the set */
}

static void on_proof(struct vw_master *m, struct vw_dpend *d)
{
	uint16_t id = (uint16_t)(d->in[0] << 8 | d->in[1]);
	struct vw_peer *p = vw_master_peer(m, id);
	uint8_t want[VW_PROOF_LEN], ans[VW_PROOF_LEN];
	char err[128];
	int fd;

	/* only an approved client, and only with the direct key derived from that client's
	 * own J: no other participant (approved or not) can derive it */
	if (!p || p->state != PEER_APPROVED || p->direct ||
	    vw_direct_proof(p->link.direct, 0, d->chal, m->session, id, want) < 0 ||
	    !cry_memeq(want, d->in + 2, sizeof(want))) {
		log_warn("direct: connection from %s failed the proof for client %u%s", d->addr, id,
			 p && p->state == PEER_APPROVED ? "" : " (not an approved client)");
		pend_close(d, "no proof of that client's key");
		return;
	}
	if (vw_direct_proof(p->link.direct, 1, d->chal, m->session, id, ans) < 0 ||
	    send(d->fd, ans, sizeof(ans), MSG_NOSIGNAL) != (ssize_t)sizeof(ans) ||
	    !(p->direct = calloc(1, sizeof(*p->direct)))) {
		pend_close(d, "cannot answer");
		return;
	}
	fd = d->fd;
	vw_loop_forget(fd); /* a net_conn from here on */
	d->fd = -1;
	if (vw_conn_adopt(p->direct, fd, err, sizeof(err)) < 0) {
		free(p->direct);
		p->direct = NULL;
		pend_close(d, err);
		return;
	}
	p->direct->my_id = TF_ID_MASTER;
	p->direct->seqp = &m->relay.seq; /* one nonce counter for all our links */
	/* one retransmit buffer and ack per client whatever the link: a break loses nothing */
	vw_rtx_set_direct(&m->rtx, id, p->direct);
	log_info("client %u: direct path from %s", id, d->addr);
	printf("path %u direct %s\n", id, d->addr);
	fflush(stdout);
	p->path_said = 1;
	pend_close(d, NULL);
}

static void pend_read(struct vw_master *m, struct vw_dpend *d)
{
	ssize_t r = read(d->fd, d->in + d->got, sizeof(d->in) - d->got);

	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		pend_close(d, "closed before the proof");
		return;
	}
	if (r > 0)
		d->got += (size_t)r;
	if (d->got == sizeof(d->in))
		on_proof(m, d);
}

static void direct_frames(struct vw_master *m, struct vw_peer *p, int readable)
{
	struct vw_conn *d = p->direct;
	struct tframe_hdr h;
	const uint8_t *raw, *pl;
	int r;

	if (readable && vw_conn_on_readable(d) < 0) {
		vw_rtx_direct_broken(&m->rtx, p->id, d->err); /* falls back to the relay */
		return;
	}
	while ((r = vw_conn_frame(d, &h, &raw, &pl)) == 1) {
		if ((h.type != TF_DATA && h.type != TF_PING && h.type != TF_PONG) ||
		    h.source != p->id || h.target != TF_ID_MASTER) {
			vw_master_drop_peer(m, p, "bad frame on the direct link");
			return;
		}
		vw_rtx_direct_rx(&m->rtx, &h); /* its ack, and that the link lives */
		if (h.type == TF_DATA) {
			vw_master_on_data(m, &h, raw, pl);
			if (p->direct != d)
				return; /* the frame ended that client (and freed its link) */
			if (p->rp.last_seq == h.seq)
				vw_rtx_accepted(&m->rtx, p->id, h.seq, h.length);
		}
		vw_conn_consume(d);
	}
	if (r < 0 || vw_conn_flush(d) < 0)
		vw_rtx_direct_broken(&m->rtx, p->id, d->err[0] ? d->err : "malformed frame");
}

void vw_mdirect_pump(struct vw_master *m, const struct pollfd *pf, int n)
{
	long now = clock_ms();

	if (n < VW_MAX_PEND)
		return;
	for (int i = 0; i < VW_MAX_PEND; i++) {
		struct vw_dpend *d = &m->pend[i];
		if (d->fd < 0 || pf[i].fd != d->fd)
			continue;
		if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
			pend_read(m, d);
		if (d->fd >= 0 && now > d->deadline_ms)
			pend_close(d, "no proof in time");
	}
	for (int i = 0; i < VW_MAX_PEERS; i++) {
		struct vw_peer *p = &m->peers[i];
		if (p->state == PEER_FREE || !p->direct || p->direct->dead)
			continue;
		direct_frames(m, p, vw_conn_pending(p->direct));
	}
}

/* vw_rtx gave up a client's direct link: its traffic is on the relay again, where
 * vw_rtx resends what the client has not acknowledged. */
void vw_mdirect_closed(void *arg, uint16_t id, const char *why)
{
	struct vw_master *m = arg;
	struct vw_peer *p = vw_master_peer(m, id);

	if (!p || !p->direct)
		return;
	fprintf(stderr, "viewer-master: client %u: direct link lost (%s); back to the relay%s\n", id, why,
		vw_rtx_live(&m->rtx) ? "" : " (resuming)");
	printf("path %u %s\n", id, m->path);
	fflush(stdout);
	vw_conn_drop_socket(p->direct); /* not flushed: it is broken or silent */
	vw_conn_close(p->direct);
	free(p->direct);
	p->direct = NULL;
}

void vw_mdirect_close(struct vw_master *m, struct vw_peer *p)
{
	if (!p->direct)
		return;
	vw_rtx_set_direct(&m->rtx, p->id, NULL);
	if (!p->direct->dead)
		vw_conn_flush_all(p->direct, 200);
	vw_conn_close(p->direct);
	free(p->direct);
	p->direct = NULL;
}

void vw_mdirect_shutdown(struct vw_master *m)
{
	for (int i = 0; i < VW_MAX_PEND; i++)
		if (m->pend[i].fd >= 0)
			pend_close(&m->pend[i], NULL);
	for (int i = 0; i < VW_MAX_PEERS; i++)
		vw_mdirect_close(m, &m->peers[i]);
	net_listener_free(m->lan_ls);
	m->lan_ls = NULL;
}
