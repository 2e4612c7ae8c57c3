/* vw_cfwd.c - local TCP streams forwarded through the session. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/tframe.h"
#include "applets/viewer/vw_cfwd.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_conn.h"
#include "applets/viewer/vw_rtx.h"
#include "applets/viewer/vw_msg.h"
#include "applets/viewer/vw_pend.h"
#include "net/conn.h"
#include "net/fdsock.h"

#define MAX_STREAMS 64
#define ROOM_NEEDED (VW_CHUNK + 256)

struct stream {
	int used;
	uint32_t id;
	int fd;
	int announced; /* its OPEN went to the master */
	int opened;
	int rd_eof;   /* local side sent its FIN; EOF passed on */
	int wr_eof;   /* the master sent EOF: FIN the local side once pend is out */
	int closing;  /* master is done: free once pend is written */
	uint32_t credit, consumed;
	struct vw_pend pend; /* for the local socket, bounded by the window we granted */
};

struct vw_cfwd {
	struct net_listener *ls; /* 127.0.0.1:port (net/fdsock.h) */
	int port;
	char name[64];
	uint32_t next_id;
	struct stream s[MAX_STREAMS];
};

/* From the loop: the stream is announced (OPEN) by the next pump, which has the link. */
static void on_accept(int fd, const char *peer, void *arg)
{
	struct vw_cfwd *f = arg;
	struct stream *s = NULL;

	(void)peer;
	for (int i = 0; i < MAX_STREAMS && !s; i++)
		if (!f->s[i].used)
			s = &f->s[i];
	if (!s) {
		log_warn("forward: too many streams; connection refused");
		close(fd);
		return;
	}
	memset(s, 0, sizeof(*s));
	s->used = 1;
	s->fd = fd;
	s->id = f->next_id++;
	vw_loop_kick();
}

struct vw_cfwd *vw_cfwd_new(int lport, const char *name, char *err, size_t errlen)
{
	struct vw_cfwd *f = calloc(1, sizeof(*f));
	char addr[32], e[200];

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->next_id = 2; /* 1 is the command channel */
	/* never offer the tunnel to the LAN */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", lport);
	if (!vw_loop_net() || !(f->ls = net_listen_fd(vw_loop_net(), addr, on_accept, f, e, sizeof(e)))) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%d: %s", lport, vw_loop_net() ? e : "out of memory");
		free(f);
		return NULL;
	}
	f->port = net_listener_port(f->ls);
	return f;
}

static void stream_free(struct stream *s)
{
	vw_loop_close(&s->fd); /* its watch first (vw_loop.h) */
	vw_pend_free(&s->pend);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

void vw_cfwd_free(struct vw_cfwd *f)
{
	if (!f)
		return;
	for (int i = 0; i < MAX_STREAMS; i++)
		if (f->s[i].used)
			stream_free(&f->s[i]);
	net_listener_free(f->ls);
	free(f);
}

int vw_cfwd_port(const struct vw_cfwd *f)
{
	return f->port;
}

static void send_m(struct vw_conn *relay, const struct vw_key *key, uint8_t type, uint32_t id,
		   uint8_t a, uint32_t b, const void *data, size_t len)
{
	struct vw_msg m = { type, id, a, b, 0, data, len };
	vw_conn_send_msg(relay, key, TF_ID_MASTER, &m);
}

int vw_cfwd_pollfds(struct vw_cfwd *f, const struct vw_conn *relay, struct pollfd *pf, int max)
{
	int n = 0, room = vw_link_room(relay, TF_ID_MASTER) >= ROOM_NEEDED * 2, slot = 0;

	if (max < MAX_STREAMS)
		return 0;
	for (int i = 0; i < MAX_STREAMS && !slot; i++)
		slot = !f->s[i].used;
	/* a new stream's OPEN needs room on the link, and a slot */
	net_listener_pause(f->ls, !room || !slot);
	for (int i = 0; i < MAX_STREAMS; i++) {
		struct stream *s = &f->s[i];
		short ev = 0;
		if (s->used && s->opened && !s->rd_eof && !s->closing && s->credit > 0 && room)
			ev |= POLLIN;
		if (s->used && s->pend.len)
			ev |= POLLOUT;
		pf[n++] = (struct pollfd){ ev ? s->fd : -1, ev, 0 };
	}
	return n;
}

static void flush_pend(struct stream *s)
{
	ssize_t w = vw_pend_flush(&s->pend, s->fd); /* -1: the local peer is gone; its read side reports it */

	if (w > 0)
		s->consumed += (uint32_t)w;
	if (!s->pend.len && s->wr_eof)
		shutdown(s->fd, SHUT_WR);
}

void vw_cfwd_pump(struct vw_cfwd *f, struct vw_conn *relay, const struct vw_key *key,
		  const struct pollfd *pf, int n)
{
	uint8_t name[80], buf[VW_CHUNK];
	size_t nl = 0;
	uint32_t grant;

	if (n < MAX_STREAMS)
		return;
	for (int i = 0; i < MAX_STREAMS; i++) {
		struct stream *s = &f->s[i];
		if (s->used && !s->announced) {
			nl = 0;
			vw_msg_add_arg(name, sizeof(name), &nl, f->name);
			send_m(relay, key, VW_M_OPEN, s->id, VW_K_FORWARD, VW_WINDOW, name, nl);
			s->announced = 1;
		}
	}
	for (int i = 0; i < MAX_STREAMS; i++) {
		struct stream *s = &f->s[i];
		const struct pollfd *q = &pf[i];
		if (!s->used || q->fd < 0)
			continue;
		if ((q->revents & (POLLIN | POLLHUP | POLLERR)) && (q->events & POLLIN) &&
		    vw_link_room(relay, TF_ID_MASTER) >= ROOM_NEEDED) {
			size_t want = s->credit < sizeof(buf) ? s->credit : sizeof(buf);
			ssize_t r = recv(s->fd, buf, want, 0);
			if (r > 0) {
				send_m(relay, key, VW_M_DATA, s->id, 0, 0, buf, (size_t)r);
				s->credit -= (uint32_t)r;
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				send_m(relay, key, VW_M_EOF, s->id, 0, 0, NULL, 0);
				s->rd_eof = 1;
			}
		}
		if (s->pend.len && (q->revents & (POLLOUT | POLLERR | POLLHUP)))
			flush_pend(s);
		if ((grant = vw_credit_due(&s->consumed)))
			send_m(relay, key, VW_M_WINDOW, s->id, 0, grant, NULL, 0);
		if (s->closing && !s->pend.len)
			stream_free(s);
	}
}

void vw_cfwd_msg(struct vw_cfwd *f, struct vw_conn *relay, const struct vw_key *key,
		 const struct vw_msg *m)
{
	struct stream *s = NULL;

	for (int i = 0; i < MAX_STREAMS && !s; i++)
		if (f->s[i].used && f->s[i].id == m->chan)
			s = &f->s[i];
	if (!s)
		return;
	switch (m->type) {
	case VW_M_OPEN_OK:
		s->opened = 1;
		s->credit = m->b > VW_WINDOW * 4 ? VW_WINDOW * 4 : m->b;
		break;
	case VW_M_OPEN_FAIL:
		fprintf(stderr, "viewer-client: forward %s: %.*s\n", f->name, (int)m->len, (const char *)m->data);
		stream_free(s);
		break;
	case VW_M_DATA:
		if (m->a != 0 || vw_pend_add(&s->pend, m->data, m->len, VW_WINDOW) < 0) {
			send_m(relay, key, VW_M_CLOSE, s->id, 0, 0, NULL, 0);
			stream_free(s);
			break;
		}
		flush_pend(s);
		break;
	case VW_M_WINDOW:
		vw_credit_add(&s->credit, m->b);
		break;
	case VW_M_EOF:
		s->wr_eof = 1;
		flush_pend(s);
		break;
	case VW_M_EXIT:
	case VW_M_CLOSE:
		s->closing = 1;
		if (!s->pend.len || m->type == VW_M_CLOSE)
			stream_free(s);
		break;
	default:
		break;
	}
}
