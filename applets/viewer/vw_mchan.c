/* vw_mchan.c - the master's open channels (vw_mopen.c's table of kinds opens them):
 * the dispatch of a client's messages and of each round to the channel's row, and the
 * byte-stream operations most rows share (a command's pipes or pty, a forwarded socket,
 * the presented terminal's watchers). Every channel sends only as much as the client
 * granted (credit), and only while the relay output has room, so memory stays bounded
 * whatever the file size or the client's speed. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "net/child.h"
#include "net/fdsock.h"
#include "applets/viewer/vw_loop.h"
#include "applets/viewer/vw_master.h"
#include "applets/viewer/vw_msg.h"

#define ROOM_NEEDED (VW_CHUNK + 256)

struct vw_chan *vw_mchan_find(struct vw_master *m, uint16_t peer, uint32_t id)
{
	for (int i = 0; i < VW_MAX_CHANS; i++)
		if (m->chans[i].used && m->chans[i].peer == peer && m->chans[i].id == id)
			return &m->chans[i];
	return NULL;
}

void vw_mchan_send(struct vw_master *m, uint16_t peer, uint8_t type, uint32_t chan,
			uint8_t a, uint32_t b, uint64_t c, const void *data, size_t len)
{
	struct vw_msg msg = { type, chan, a, b, c, data, len };
	vw_master_send(m, peer, &msg);
}

void vw_mchan_fail(struct vw_master *m, uint16_t peer, uint32_t chan, uint8_t code,
		      const char *why)
{
	vw_mchan_send(m, peer, VW_M_OPEN_FAIL, chan, code, 0, 0, why, strlen(why));
}

static void close_fd(int *fd)
{
	vw_loop_close(fd); /* its watch first (vw_loop.h) */
}

/* The sink is done: a forwarded socket gets a FIN (its read side may go on). */
static void close_wfd(struct vw_chan *ch)
{
	if (ch->wfd >= 0 && ch->ops->shut_wr)
		shutdown(ch->wfd, SHUT_WR);
	close_fd(&ch->wfd);
}

void vw_mchan_free(struct vw_master *m, struct vw_chan *ch)
{
	close_fd(&ch->rfd[0]);
	close_fd(&ch->rfd[1]);
	close_fd(&ch->wfd);
	net_child_free(ch->child); /* killed (its group too) if still running */
	net_connect_fd_cancel(ch->conn);
	vw_xfer_free(&ch->xfer); /* a put not committed leaves no temporary file */
	vw_pend_free(&ch->pend);
	memset(ch, 0, sizeof(*ch));
	(void)m;
}

void vw_mchan_close_peer(struct vw_master *m, uint16_t peer)
{
	for (int i = 0; i < VW_MAX_CHANS; i++)
		if (m->chans[i].used && m->chans[i].peer == peer)
			vw_mchan_free(m, &m->chans[i]);
}

const char *vw_mchan_errno_text(int e)
{
	switch (e) {
	case EPERM: return "path leaves the shared directory";
	case ELOOP: return "symbolic links are not followed";
	case ENOENT: return "no such file or directory";
	case EISDIR: return "is a directory";
	case ENOTDIR: return "not a directory";
	case EACCES: return "permission denied";
	case EEXIST: return "exists";
	default: return strerror(e);
	}
}

/* Keeps the last VW_REPLAY_CAP bytes of the presented output. */
static void replay_keep(struct vw_master *m, const uint8_t *p, size_t n)
{
	if (!m->replay && !(m->replay = malloc(VW_REPLAY_CAP)))
		return;
	if (n >= VW_REPLAY_CAP) {
		memcpy(m->replay, p + n - VW_REPLAY_CAP, VW_REPLAY_CAP);
		m->replay_len = VW_REPLAY_CAP;
		return;
	}
	if (m->replay_len + n > VW_REPLAY_CAP) {
		size_t drop = m->replay_len + n - VW_REPLAY_CAP;
		memmove(m->replay, m->replay + drop, m->replay_len - drop);
		m->replay_len -= drop;
	}
	memcpy(m->replay + m->replay_len, p, n);
	m->replay_len += n;
}

/* Received bytes for a byte stream's sink: queued for the loop to write (a pipe or a
 * socket may block), bounded by the window the client was given. */
const char *vw_mstream_data(struct vw_chan *ch, const struct vw_msg *msg)
{
	if (msg->a == VW_STREAM_ZEROS)
		return "bad hole"; /* holes are for files */
	if (ch->wfd < 0)
		return NULL; /* the child closed its input: discard, like a closed pipe */
	/* -1: the client overran the window it was given */
	return vw_pend_add(&ch->pend, msg->data, msg->len, VW_WINDOW) < 0 ? "write failed" : NULL;
}

void vw_mstream_eof(struct vw_master *m, struct vw_chan *ch, const struct vw_msg *msg)
{
	(void)m;
	(void)msg;
	ch->wfd_eof = 1;
	if (!ch->pend.len)
		close_wfd(ch);
}

void vw_mchan_msg(struct vw_master *m, struct vw_peer *p, const struct vw_msg *msg)
{
	struct vw_chan *ch = vw_mchan_find(m, p->id, msg->chan);
	const char *why;

	if (!ch)
		return; /* a late message for a channel that is gone */
	switch (msg->type) {
	case VW_M_DATA:
		if ((why = ch->ops->data(ch, msg))) {
			vw_mchan_send(m, p->id, VW_M_EXIT, ch->id, 0, 74, 0, why, strlen(why));
			vw_mchan_free(m, ch);
		}
		break;
	case VW_M_WINDOW:
		vw_credit_add(&ch->credit, msg->b);
		break;
	case VW_M_EOF:
		ch->ops->eof(m, ch, msg);
		break;
	case VW_M_CLOSE:
		vw_mchan_free(m, ch);
		break;
	case VW_M_RESIZE:
		if (ch->ops->resize)
			ch->ops->resize(ch, msg->b);
		break;
	default:
		break;
	}
}

void vw_mstream_poll(struct vw_master *m, struct vw_chan *ch, struct pollfd q[3], int *busy)
{
	int can_send = ch->credit > 0 && vw_master_room(m, ch->peer) >= ROOM_NEEDED;

	(void)busy;
	q[0] = (struct pollfd){ can_send ? ch->rfd[0] : -1, POLLIN, 0 };
	q[1] = (struct pollfd){ can_send ? ch->rfd[1] : -1, POLLIN, 0 };
	q[2] = (struct pollfd){ ch->pend.len ? ch->wfd : -1, POLLOUT, 0 };
}

int vw_mchan_pollfds(struct vw_master *m, struct pollfd *pf, int max, int *busy)
{
	int n = 0;

	for (int i = 0; i < VW_MAX_CHANS && n + 3 <= max; i++, n += 3) {
		struct vw_chan *ch = &m->chans[i];
		pf[n] = pf[n + 1] = pf[n + 2] = (struct pollfd){ -1, 0, 0 };
		if (ch->used)
			ch->ops->poll(m, ch, pf + n, busy);
	}
	return n;
}

/* Reads one chunk from fd for the channel's stream; returns bytes sent, 0 at EOF,
 * -1 when nothing was ready. */
static ssize_t send_chunk(struct vw_master *m, struct vw_chan *ch, int stream)
{
	uint8_t buf[VW_CHUNK];
	size_t want = ch->credit < VW_CHUNK ? ch->credit : VW_CHUNK;
	ssize_t n;

	n = read(ch->rfd[stream], buf, want);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : 0;
	if (n > 0) {
		vw_mchan_send(m, ch->peer, VW_M_DATA, ch->id, (uint8_t)stream, 0, 0, buf, (size_t)n);
		ch->credit -= (uint32_t)n;
	}
	return n;
}

void vw_mstream_pump(struct vw_master *m, struct vw_chan *ch, const struct pollfd q[3])
{
	for (int s = 0; s < 2; s++)
		if (q[s].fd >= 0 && (q[s].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    vw_master_room(m, ch->peer) >= ROOM_NEEDED && send_chunk(m, ch, s) == 0) {
			close_fd(&ch->rfd[s]);
			vw_mchan_send(m, ch->peer, VW_M_EOF, ch->id, (uint8_t)s, 0, 0, NULL, 0);
		}
	if (q[2].fd >= 0 && (q[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
		ssize_t w = vw_pend_flush(&ch->pend, ch->wfd);
		if (w < 0)
			close_wfd(ch);
		else
			ch->consumed += (uint32_t)w;
		if (!ch->pend.len && ch->wfd_eof)
			close_wfd(ch);
	}
}

void vw_mchan_pump(struct vw_master *m, const struct pollfd *pf, int n)
{
	for (int i = 0; i < VW_MAX_CHANS && i * 3 + 2 < n; i++)
		if (m->chans[i].used)
			m->chans[i].ops->pump(m, &m->chans[i], pf + i * 3);
	/* grant credit back once half a window has been consumed */
	for (int i = 0; i < VW_MAX_CHANS; i++) {
		struct vw_chan *ch = &m->chans[i];
		uint32_t grant;
		if (ch->used && (grant = vw_credit_due(&ch->consumed)))
			vw_mchan_send(m, ch->peer, VW_M_WINDOW, ch->id, 0, grant, 0, NULL, 0);
	}
}

/* The presented terminal's output goes to every watcher that has credit for it; a
 * watcher without credit misses that piece (a live view must not let one slow
 * technician hold up the others or the presented program). */
void vw_mchan_present(struct vw_master *m, int readable)
{
	uint8_t buf[VW_CHUNK];
	ssize_t n;

	if (m->present_fd < 0 || !readable || vw_master_min_room(m) < ROOM_NEEDED * 4)
		return;
	n = read(m->present_fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		replay_keep(m, buf, (size_t)n);
		for (int i = 0; i < VW_MAX_CHANS; i++) {
			struct vw_chan *ch = &m->chans[i];
			if (!ch->used || ch->kind != VW_K_WATCH)
				continue;
			if (ch->credit >= (uint32_t)n && vw_master_room(m, ch->peer) >= ROOM_NEEDED) {
				vw_mchan_send(m, ch->peer, VW_M_DATA, ch->id, 0, 0, 0, buf, (size_t)n);
				ch->credit -= (uint32_t)n;
			}
		}
		return;
	}
	/* EIO/EOF: the command ended; its exit status comes on the loop */
	close_fd(&m->present_fd);
	m->present_eof = 1;
	vw_mchan_present_end(m);
}

void vw_mchan_present_end(struct vw_master *m)
{
	int code = m->present_status;

	if (!m->present_eof || !m->present_exited)
		return;
	net_child_free(m->present_child);
	m->present_child = NULL;
	m->present_eof = m->present_exited = 0;
	m->present_done = 1;
	log_info("presented command ended with %d", code);
	for (int i = 0; i < VW_MAX_CHANS; i++) {
		struct vw_chan *ch = &m->chans[i];
		if (ch->used && ch->kind == VW_K_WATCH) {
			vw_mchan_send(m, ch->peer, VW_M_EXIT, ch->id, 0, (uint32_t)code, 0, NULL, 0);
			vw_mchan_free(m, ch);
		}
	}
}

void vw_mchan_reap(struct vw_master *m)
{
	for (int i = 0; i < VW_MAX_CHANS; i++) {
		struct vw_chan *ch = &m->chans[i];
		if (!ch->used || !ch->child) /* exec, shell */
			continue;
		/* the exit code (from on_exit_status) goes last, after all output */
		if (ch->exited && ch->rfd[0] < 0 && ch->rfd[1] < 0) {
			vw_mchan_send(m, ch->peer, VW_M_EXIT, ch->id, 0, (uint32_t)ch->status, 0, NULL, 0);
			log_info("client %u: exec finished with %d", ch->peer, ch->status);
			vw_mchan_free(m, ch);
		}
	}
}
