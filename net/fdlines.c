/* fdlines.c - lines from an fd over net_watch (see fdlines.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/secret.h"
#include "net/fdlines.h"
#include "net/line.h"
#include "net/watch.h"

#define READ_STEP 4096

struct net_fdlines {
	struct net_watch *w;
	int fd;
	size_t max;
	net_fdlines_cb more;
	void *arg;
	char *buf;           /* [off, len) not yet handed out; one NUL of room kept */
	size_t off, len, cap;
	int eof, err, skipping;
	int ready;           /* the watch fired: one read will not block */
};

static void on_ready(int fd, int what, void *arg)
{
	struct net_fdlines *r = arg;

	(void)fd;
	(void)what;
	net_watch_set(r->w, 0);
	r->ready = 1;
	r->more(r->arg);
}

struct net_fdlines *net_fdlines_new(struct net_loop *l, int fd, size_t max, net_fdlines_cb more,
				    void *arg)
{
	struct net_fdlines *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = fd;
	r->max = max;
	r->more = more;
	r->arg = arg;
	/* Room for one line and its CR LF and a NUL, grown on demand: max may be large. */
	r->cap = max + 3 < READ_STEP ? max + 3 : READ_STEP;
	if (!(r->buf = malloc(r->cap)) || !(r->w = net_watch_new(l, fd, 0, on_ready, r))) {
		free(r->buf);
		free(r);
		return NULL;
	}
	return r;
}

/* One read(2), only when the watch said it will not block. */
static int fill(struct net_fdlines *r)
{
	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (r->cap - 1 - r->len < READ_STEP && r->cap < r->max + 3) {
		size_t nc = r->cap > (r->max + 3) / 2 ? r->max + 3 : r->cap * 2;
		char *nb = malloc(nc);
		if (!nb) {
			r->err = ENOMEM;
			return -1;
		}
		/* Not realloc: the old block may hold a secret and must be wiped. */
		memcpy(nb, r->buf, r->len);
		secret_wipe(r->buf, r->cap);
		free(r->buf);
		r->buf = nb;
		r->cap = nc;
	}
	size_t room = r->cap - 1 - r->len;
	ssize_t n = read(r->fd, r->buf + r->len, room < READ_STEP ? room : READ_STEP);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0) {
		r->err = errno;
		return -1;
	}
	if (n == 0)
		r->eof = 1;
	r->len += (size_t)n;
	return 1;
}

enum net_fdlines_rc net_fdlines_next(struct net_fdlines *r, char **line, size_t *len)
{
	for (;;) {
		char *p = r->buf + r->off;
		size_t avail = r->len - r->off, linelen, consumed;
		int had_cr;

		if (r->skipping) {
			/* Inside an overlong line: only its LF matters. */
			char *lf = memchr(p, '\n', avail);
			if (lf || r->eof) {
				r->off = lf ? (size_t)(lf + 1 - r->buf) : r->len;
				r->skipping = 0;
				return NET_FDLINES_LONG;
			}
			r->off = r->len = 0;
		} else {
			int s = net_line_scan((const uint8_t *)p, avail, r->max, &linelen, &consumed,
					      &had_cr);
			if (s < 0) {
				r->skipping = 1;
				continue;
			}
			if (s == 0 && r->eof && avail > 0)
				linelen = consumed = avail, s = 1; /* a last line without LF */
			if (s == 1) {
				r->off += consumed;
				p[linelen] = '\0';
				*line = p;
				*len = linelen;
				return NET_FDLINES_LINE;
			}
		}
		if (r->eof)
			return NET_FDLINES_EOF;
		if (r->err)
			return NET_FDLINES_ERROR;
		if (!r->ready) {
			net_watch_set(r->w, NET_WATCH_READ);
			return NET_FDLINES_WAIT;
		}
		r->ready = 0;
		if (fill(r) < 0)
			return NET_FDLINES_ERROR;
	}
}

void net_fdlines_free(struct net_fdlines *r)
{
	if (!r)
		return;
	net_watch_free(r->w);
	secret_wipe(r->buf, r->cap);
	free(r->buf);
	free(r);
}
