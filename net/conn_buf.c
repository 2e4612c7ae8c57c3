/* conn_buf.c - the application's side of a connection's buffers: reading (input is
 * taken from c->in, and reading resumes once it drops under read_limit), writing
 * (queued until connect or handshake finish, a last word allowed after an idle
 * timeout), forwarding between two connections, pausing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "net/conn_internal.h"
#include "net/internal.h"
#include "net/line.h"

/* libevent 2.1 reads at most 4 KiB per wakeup (EVBUFFER_MAX_READ; only 2.2 can change
 * it): a relay moving 200 MB/s then spends four system calls (epoll_wait, FIONREAD, readv,
 * epoll_ctl) per 4 KiB, which was a third of a tunneld transfer's CPU. So after libevent's
 * read, a plain connection takes what else the socket holds in large reads straight
 * into its input buffer, up to its read limit. Returns 0, or an errno for a failed read
 * (the socket's error is consumed by the read that saw it, so the caller must report it);
 * an EOF is left for libevent's next read, which sees it again. */
int net_conn_read_more_(struct net_conn *c)
{
	struct evbuffer *bin = c->in; /* the bufferevent's own input is frozen at its end */
	int fd = bufferevent_getfd(c->bev);
	size_t have;

	evbuffer_add_buffer(c->in, bufferevent_get_input(c->bev)); /* what libevent read first */
	have = evbuffer_get_length(c->in);

	while (fd >= 0 && have < c->read_limit) {
		size_t want = c->read_limit - have;
		struct evbuffer_iovec v[2];
		struct iovec iov[2];
		ssize_t r;
		int n;

		if (want > NET_CONN_READ_MORE_MAX)
			want = NET_CONN_READ_MORE_MAX;
		n = evbuffer_reserve_space(bin, (ev_ssize_t)want, v, 2);
		if (n <= 0)
			return 0;
		for (int i = 0; i < n; i++) {
			if (v[i].iov_len > want)
				v[i].iov_len = want;
			want -= v[i].iov_len;
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
		}
		do
			r = readv(fd, iov, n);
		while (r < 0 && errno == EINTR);
		if (r <= 0) {
			int e = errno;
			evbuffer_commit_space(bin, v, 0);
			return r < 0 && e != EAGAIN && e != EWOULDBLOCK ? e : 0;
		}
		want = (size_t)r;
		for (int i = 0; i < n; i++) {
			v[i].iov_len = v[i].iov_len < want ? v[i].iov_len : want;
			want -= v[i].iov_len;
		}
		if (evbuffer_commit_space(bin, v, n) < 0)
			return 0;
		have += (size_t)r;
		if ((size_t)r < iov[0].iov_len + (n > 1 ? iov[1].iov_len : 0))
			return 0; /* the socket is empty */
	}
	return 0;
}

/* ---- input ---- */

/* After the application took bytes: reading may resume, and a TLS connection may hold
 * more decrypted data than fitted before. */
static void input_taken(struct net_conn *c)
{
	if (c->closing || c->failed || !c->connected)
		return;
	if (!c->reading && !c->paused && evbuffer_get_length(c->in) < c->read_limit) {
		net_conn_update_reading_(c);
		if (c->tls_state != TLS_NONE)
			net_conn_kick_(c);
	}
}

size_t net_conn_input_len(const struct net_conn *c)
{
	return evbuffer_get_length(c->in);
}

size_t net_conn_read(struct net_conn *c, void *buf, size_t len)
{
	int n = evbuffer_remove(c->in, buf, len);

	input_taken(c);
	return n > 0 ? (size_t)n : 0;
}

size_t net_conn_peek(struct net_conn *c, void *buf, size_t len)
{
	ev_ssize_t n = evbuffer_copyout(c->in, buf, len);
	return n > 0 ? (size_t)n : 0;
}

void net_conn_drain(struct net_conn *c, size_t len)
{
	evbuffer_drain(c->in, len);
	input_taken(c);
}

int net_conn_readline_crlf(struct net_conn *c, char **line, size_t *len, int *had_cr)
{
	size_t have = evbuffer_get_length(c->in), scan, ll = 0, used = 0;
	unsigned char *p;
	int cr = 0, r;

	*line = NULL;
	if (len)
		*len = 0;
	if (have == 0)
		return 0;
	scan = c->max_line + 2 < have ? c->max_line + 2 : have;
	p = evbuffer_pullup(c->in, (ev_ssize_t)scan);
	if (!p)
		return -1;
	r = net_line_scan(p, scan, c->max_line, &ll, &used, &cr);
	if (r <= 0)
		return r;
	*line = malloc(ll + 1);
	if (!*line)
		return -1;
	memcpy(*line, p, ll);
	(*line)[ll] = 0;
	evbuffer_drain(c->in, used);
	if (len)
		*len = ll;
	if (had_cr)
		*had_cr = cr;
	input_taken(c);
	return 1;
}

int net_conn_readline(struct net_conn *c, char **line, size_t *len)
{
	return net_conn_readline_crlf(c, line, len, NULL);
}

/* ---- output ---- */

/* Writing is allowed until the connection closes or fails; after an idle timeout it
 * stays allowed as long as the socket itself is healthy (no error, no EOF) and no TLS
 * handshake is half done, so a protocol can send its last words ("421 ... timeout"). */
int net_conn_writable_(const struct net_conn *c)
{
	if (c->dead || c->closing)
		return 0;
	if (!c->failed)
		return 1;
	return c->timed_out && !c->broken && !c->sock_eof && c->connected && c->bev &&
	       c->tls_state != TLS_HANDSHAKE;
}

/* libevent stops writing on a write timeout; a last word after it must still go. */
static void rearm_after_timeout(struct net_conn *c)
{
	if (c->failed && c->bev)
		bufferevent_enable(c->bev, EV_WRITE);
}

int net_conn_write(struct net_conn *c, const void *data, size_t len)
{
	if (!net_conn_writable_(c)) {
		if (!c->err[0])
			snprintf(c->err, sizeof(c->err), "write on a closed connection");
		return -1;
	}
	if (len == 0)
		return 0;
	rearm_after_timeout(c);
	if (!c->bev || !c->connected || c->tls_state == TLS_HANDSHAKE || evbuffer_get_length(c->out))
		return evbuffer_add(c->out, data, len);
	if (c->tls_state == TLS_UP)
		return net_conn_tls_write_all_(c, data, len);
	return bufferevent_write(c->bev, data, len);
}

int net_conn_printf(struct net_conn *c, const char *fmt, ...)
{
	char small[512], *p = small;
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(small)) {
		p = malloc((size_t)n + 1);
		if (!p)
			return -1;
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	r = net_conn_write(c, p, (size_t)n);
	if (p != small)
		free(p);
	return r;
}

size_t net_conn_output_len(const struct net_conn *c)
{
	size_t n = evbuffer_get_length(c->out);

	if (c->bev)
		n += evbuffer_get_length(bufferevent_get_output(c->bev));
	return n;
}

int net_conn_forward(struct net_conn *src, struct net_conn *dst)
{
	int r = 0;

	if (!net_conn_writable_(dst))
		return -1;
	rearm_after_timeout(dst);
	if (dst->bev && dst->connected && dst->tls_state == TLS_NONE && !evbuffer_get_length(dst->out)) {
		r = evbuffer_add_buffer(bufferevent_get_output(dst->bev), src->in);
	} else if (dst->bev && dst->connected && dst->tls_state == TLS_UP && !evbuffer_get_length(dst->out)) {
		size_t len;
		while (r == 0 && (len = evbuffer_get_length(src->in)) > 0) {
			size_t chunk = len > 16384 ? 16384 : len;
			unsigned char *p = evbuffer_pullup(src->in, (ev_ssize_t)chunk);
			if (!p || net_conn_tls_write_all_(dst, p, chunk) < 0)
				r = -1;
			else
				evbuffer_drain(src->in, chunk);
		}
	} else {
		r = evbuffer_add_buffer(dst->out, src->in);
	}
	input_taken(src);
	return r;
}

void net_conn_pause_read(struct net_conn *c)
{
	c->paused = 1;
	if (!c->closing)
		net_conn_update_reading_(c);
}

void net_conn_resume_read(struct net_conn *c)
{
	if (!c->paused)
		return;
	c->paused = 0;
	if (c->closing || c->failed)
		return;
	net_conn_update_reading_(c);
	/* Bytes that arrived (or were decrypted) while paused are delivered now. */
	if (evbuffer_get_length(c->in) || c->tls_state != TLS_NONE)
		net_conn_kick_(c);
}
