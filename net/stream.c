/* stream.c - a non-blocking byte stream on a socket, with crypto/'s TLS engine on top
 * when asked. The engine's send callback never says "wait": it appends ciphertext to
 * our own buffer (bounded, because write takes new plaintext only while that buffer is
 * small), so the engine never holds a half-written record and a write is never retried
 * with different bytes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "crypto/tls.h"
#include "net/stream.h"

#define TOUT_HIGH (64 * 1024)   /* take no new plaintext while this much waits */
#define TLS_CHUNK 16384         /* one TLS record's worth per engine write */

struct net_stream {
	int fd;
	struct cry_tls_ctx *ctx;
	struct cry_tls *tls;
	uint8_t *tout;            /* ciphertext waiting for the socket */
	size_t tout_off, tout_len, tout_cap;
	int drained;              /* the last TLS read ended asking the socket for more */
	int eof, failed;          /* seen while returning data: reported on the next read */
	char err[160];
};

static void set_err(struct net_stream *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s", what);
}

struct net_stream *net_stream_new(int fd)
{
	struct net_stream *s = calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return NULL;
	}
	s->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return s;
}

void net_stream_free(struct net_stream *s)
{
	if (!s)
		return;
	if (s->tls) {
		/* close_notify, best effort: the peer learns it was not a cut */
		if (!s->failed && cry_tls_handshake_done(s->tls) && cry_tls_shutdown(s->tls) == CRY_TLS_OK)
			net_stream_flush(s);
		cry_tls_free(s->tls);
	}
	cry_tls_ctx_free(s->ctx);
	if (s->fd >= 0)
		close(s->fd);
	free(s->tout);
	free(s);
}

int net_stream_detach(struct net_stream *s)
{
	int fd;

	if (!s)
		return -1;
	if (s->tls) {
		net_stream_free(s);
		return -1;
	}
	fd = s->fd;
	s->fd = -1;
	net_stream_free(s);
	return fd;
}

int net_stream_fd(const struct net_stream *s)
{
	return s->fd;
}

int net_stream_is_tls(const struct net_stream *s)
{
	return s->tls != NULL;
}

const char *net_stream_error(const struct net_stream *s)
{
	return s->err[0] ? s->err : "error";
}

/* ---- the TLS engine's transport ---- */

static ssize_t tls_recv(void *arg, uint8_t *buf, size_t len)
{
	struct net_stream *s = arg;
	ssize_t n = read(s->fd, buf, len);

	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CRY_IO_WANT;
	set_err(s, strerror(errno));
	return -1;
}

static ssize_t tls_send(void *arg, const uint8_t *buf, size_t len)
{
	struct net_stream *s = arg;

	if (s->tout_off && s->tout_len + len > s->tout_cap) {
		memmove(s->tout, s->tout + s->tout_off, s->tout_len - s->tout_off);
		s->tout_len -= s->tout_off;
		s->tout_off = 0;
	}
	if (s->tout_len + len > s->tout_cap) {
		size_t cap = s->tout_cap ? s->tout_cap : 32768;
		uint8_t *p;
		while (cap < s->tout_len + len)
			cap *= 2;
		if (!(p = realloc(s->tout, cap)))
			return -1;
		s->tout = p;
		s->tout_cap = cap;
	}
	memcpy(s->tout + s->tout_len, buf, len);
	s->tout_len += len;
	return (ssize_t)len;
}

int net_stream_flush(struct net_stream *s)
{
	while (s->tout_off < s->tout_len) {
		ssize_t n = send(s->fd, s->tout + s->tout_off, s->tout_len - s->tout_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			set_err(s, strerror(errno));
			return -1;
		}
		s->tout_off += (size_t)n;
	}
	s->tout_off = s->tout_len = 0;
	return 0;
}

int net_stream_want_write(const struct net_stream *s)
{
	return s->tout_off < s->tout_len;
}

int net_stream_pending(const struct net_stream *s)
{
	if (!s->tls)
		return 0;
	return s->eof || s->failed || !s->drained || cry_tls_pending(s->tls) > 0;
}

/* Waits (up to the deadline) until the socket can do events, or bytes are pending. */
static int wait_for(struct net_stream *s, short events, long long deadline)
{
	struct pollfd p = { s->fd, events, 0 };
	int r;

	if ((events & POLLIN) && net_stream_pending(s))
		return 0;
	do
		r = poll(&p, 1, clock_ms_left(deadline));
	while (r < 0 && errno == EINTR);
	if (r == 1)
		return 0;
	set_err(s, r == 0 ? "timed out" : strerror(errno));
	return -1;
}

/* Flushes everything, blocking up to the deadline. */
static int flush_all(struct net_stream *s, long long deadline)
{
	for (;;) {
		if (net_stream_flush(s) < 0)
			return -1;
		if (!net_stream_want_write(s))
			return 0;
		if (wait_for(s, POLLOUT, deadline) < 0)
			return -1;
	}
}

int net_stream_start_tls(struct net_stream *s, struct cry_tls_ctx *ctx, const char *host,
			 int timeout_ms, char *err, size_t errlen)
{
	long long deadline = clock_ms() + timeout_ms;

	s->ctx = ctx;
	s->tls = cry_tls_new(ctx, host, tls_recv, tls_send, s);
	if (!s->tls) {
		snprintf(err, errlen, "cannot set up TLS");
		return -1;
	}
	for (;;) {
		int r = cry_tls_handshake(s->tls);
		if (flush_all(s, deadline) < 0)
			break;
		if (r == CRY_TLS_OK)
			return 0; /* drained stays 0: the engine may hold more than the handshake */
		if (r != CRY_TLS_WANT_READ && r != CRY_TLS_WANT_WRITE) {
			set_err(s, cry_tls_error(s->tls));
			break;
		}
		if (wait_for(s, r == CRY_TLS_WANT_READ ? POLLIN : POLLOUT, deadline) < 0)
			break;
	}
	s->failed = 1;
	snprintf(err, errlen, "TLS: %s", s->err);
	return -1;
}

static ssize_t tls_read(struct net_stream *s, uint8_t *buf, size_t len)
{
	size_t got = 0;

	/* as much as fits, until the engine asks the socket: then nothing hides in it */
	while (got < len && !s->eof && !s->failed) {
		ssize_t r = cry_tls_read(s->tls, buf + got, len - got);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == CRY_TLS_WANT_READ || r == CRY_TLS_WANT_WRITE) {
			s->drained = 1;
			break;
		}
		if (r == CRY_TLS_CLOSED) {
			s->eof = 1;
		} else {
			set_err(s, cry_tls_error(s->tls));
			s->failed = 1;
		}
	}
	if (got == len)
		s->drained = 0;
	/* a read can make the engine answer (TLS 1.3 key update) */
	if (net_stream_flush(s) < 0)
		s->failed = 1;
	if (got)
		return (ssize_t)got;
	if (s->failed) {
		errno = EIO;
		return -1;
	}
	if (s->eof)
		return 0;
	errno = EAGAIN;
	return -1;
}

ssize_t net_stream_read(struct net_stream *s, void *buf, size_t len)
{
	ssize_t n;

	if (len == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (s->tls)
		return tls_read(s, buf, len);
	n = read(s->fd, buf, len);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		set_err(s, strerror(errno));
	if (n < 0 && errno == EINTR)
		errno = EAGAIN;
	return n;
}

ssize_t net_stream_write(struct net_stream *s, const void *buf, size_t len)
{
	ssize_t n;

	if (!s->tls) {
		n = send(s->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			set_err(s, strerror(errno));
		if (n < 0 && errno == EINTR)
			errno = EAGAIN;
		return n;
	}
	if (s->failed) {
		errno = EIO;
		return -1;
	}
	if (net_stream_flush(s) < 0)
		return -1;
	if (s->tout_len - s->tout_off >= TOUT_HIGH) {
		errno = EAGAIN;
		return -1;
	}
	n = cry_tls_write(s->tls, buf, len > TLS_CHUNK ? TLS_CHUNK : len);
	if (n <= 0) {
		set_err(s, cry_tls_error(s->tls));
		s->failed = 1;
		errno = EIO;
		return -1;
	}
	if (net_stream_flush(s) < 0)
		return -1;
	return n;
}

int net_stream_http_exchange(struct net_stream *s, const char *req, int timeout_ms, char *head,
			     size_t cap)
{
	long long deadline = clock_ms() + timeout_ms;
	size_t off = 0, len = strlen(req), n = 0;
	int status;

	while (off < len) {
		ssize_t w = net_stream_write(s, req + off, len - off);
		if (w > 0)
			off += (size_t)w;
		else if (errno != EAGAIN || wait_for(s, POLLOUT, deadline) < 0)
			return -1;
	}
	if (flush_all(s, deadline) < 0)
		return -1;
	while (n + 1 < cap) {
		ssize_t r = net_stream_read(s, head + n, 1);
		if (r == 0) {
			set_err(s, "closed before answering");
			return -1;
		}
		if (r < 0) {
			if (errno != EAGAIN || wait_for(s, POLLIN, deadline) < 0)
				return -1;
			continue;
		}
		n++;
		if ((n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0) ||
		    (n >= 2 && memcmp(head + n - 2, "\n\n", 2) == 0))
			break;
	}
	head[n] = '\0';
	if (n + 1 >= cap) {
		set_err(s, "over-long answer");
		return -1;
	}
	if (sscanf(head, "HTTP/1.%*d %3d", &status) != 1) {
		set_err(s, "not an HTTP answer");
		return -1;
	}
	return status;
}
