/* vw_cfwd.c - local TCP streams forwarded through the session. */
#include <errno.h>
#include <netinet/in.h>
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

#define MAX_STREAMS 64
#define ROOM_NEEDED (VW_CHUNK + 256)

struct stream {
	int used;
	uint32_t id;
	int fd;
	int opened;
	int rd_eof;   /* local side sent its FIN; EOF passed on */
	int wr_eof;   /* the master sent EOF: FIN the local side once pend is out */
	int closing;  /* master is done: free once pend is written */
	uint32_t credit, consumed;
	uint8_t *pend;
	size_t pend_len;
};

struct vw_cfwd {
	int lfd;
	int port;
	char name[64];
	uint32_t next_id;
	struct stream s[MAX_STREAMS];
};

struct vw_cfwd *vw_cfwd_new(int lport, const char *name, char *err, size_t errlen)
{
	struct vw_cfwd *f = calloc(1, sizeof(*f));
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int one = 1;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->next_id = 2; /* 1 is the command channel */
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)lport);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never offer the tunnel to the LAN */
	if (f->lfd < 0 || setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(f->lfd, 64) < 0 ||
	    getsockname(f->lfd, (struct sockaddr *)&sa, &sl) < 0) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%d: %s", lport, strerror(errno));
		if (f->lfd >= 0)
			close(f->lfd);
		free(f);
		return NULL;
	}
	f->port = ntohs(sa.sin_port);
	return f;
}

static void stream_free(struct stream *s)
{
	vw_loop_close(&s->fd); /* its watch first (vw_loop.h) */
	free(s->pend);
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
	vw_loop_close(&f->lfd);
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
	int n = 0, room = vw_link_room(relay, TF_ID_MASTER) >= ROOM_NEEDED * 2;

	if (max < 1 + MAX_STREAMS)
		return 0;
	pf[n++] = (struct pollfd){ room ? f->lfd : -1, POLLIN, 0 };
	for (int i = 0; i < MAX_STREAMS; i++) {
		struct stream *s = &f->s[i];
		short ev = 0;
		if (s->used && s->opened && !s->rd_eof && !s->closing && s->credit > 0 && room)
			ev |= POLLIN;
		if (s->used && s->pend_len)
			ev |= POLLOUT;
		pf[n++] = (struct pollfd){ ev ? s->fd : -1, ev, 0 };
	}
	return n;
}

static void flush_pend(struct stream *s)
{
	while (s->pend_len) {
		ssize_t w = send(s->fd, s->pend, s->pend_len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR)
				s->pend_len = 0; /* the local peer is gone; its read side reports it */
			break;
		}
		memmove(s->pend, s->pend + w, s->pend_len - (size_t)w);
		s->pend_len -= (size_t)w;
		s->consumed += (uint32_t)w;
	}
	if (!s->pend_len && s->wr_eof)
		shutdown(s->fd, SHUT_WR);
}

void vw_cfwd_pump(struct vw_cfwd *f, struct vw_conn *relay, const struct vw_key *key,
		  const struct pollfd *pf, int n)
{
	uint8_t name[80], buf[VW_CHUNK];
	size_t nl = 0;

	if (n < 1 + MAX_STREAMS)
		return;
	if (pf[0].fd >= 0 && (pf[0].revents & POLLIN)) {
		int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct stream *s = NULL;
		for (int i = 0; i < MAX_STREAMS && !s && fd >= 0; i++)
			if (!f->s[i].used)
				s = &f->s[i];
		if (fd >= 0 && !s) {
			log_warn("forward: too many streams; connection refused");
			close(fd);
		} else if (s) {
			memset(s, 0, sizeof(*s));
			s->used = 1;
			s->fd = fd;
			s->id = f->next_id++;
			vw_msg_add_arg(name, sizeof(name), &nl, f->name);
			send_m(relay, key, VW_M_OPEN, s->id, VW_K_FORWARD, VW_WINDOW, name, nl);
		}
	}
	for (int i = 0; i < MAX_STREAMS; i++) {
		struct stream *s = &f->s[i];
		const struct pollfd *q = &pf[1 + i];
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
		if (s->pend_len && (q->revents & (POLLOUT | POLLERR | POLLHUP)))
			flush_pend(s);
		if (s->consumed >= VW_WINDOW / 2) {
			send_m(relay, key, VW_M_WINDOW, s->id, 0, s->consumed, NULL, 0);
			s->consumed = 0;
		}
		if (s->closing && !s->pend_len)
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
		if (m->a != 0 || s->pend_len + m->len > VW_WINDOW ||
		    (!s->pend && !(s->pend = malloc(VW_WINDOW)))) {
			send_m(relay, key, VW_M_CLOSE, s->id, 0, 0, NULL, 0);
			stream_free(s);
			break;
		}
		memcpy(s->pend + s->pend_len, m->data, m->len);
		s->pend_len += m->len;
		flush_pend(s);
		break;
	case VW_M_WINDOW:
		if ((uint64_t)s->credit + m->b <= VW_WINDOW * 4)
			s->credit += m->b;
		break;
	case VW_M_EOF:
		s->wr_eof = 1;
		flush_pend(s);
		break;
	case VW_M_EXIT:
	case VW_M_CLOSE:
		s->closing = 1;
		if (!s->pend_len || m->type == VW_M_CLOSE)
			stream_free(s);
		break;
	default:
		break;
	}
}
