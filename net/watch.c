/* watch.c - readiness events for an fd that is not a net_conn (see watch.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/internal.h"
#include "net/loop.h"
#include "net/watch.h"

struct net_watch {
	struct net_owned own;
	struct net_loop *loop;
	struct event *rd, *wr;   /* NULL in always-ready mode */
	struct event *ready;     /* always-ready mode: a deferred wake-up of the callback */
	int fd, want;
	int always;              /* the backend cannot poll this fd */
	net_watch_cb cb;
	void *arg;
};

static void arm_ready(struct net_watch *w)
{
	static const struct timeval zero = { 0, 0 };

	event_add(w->ready, &zero);
}

static void fire(evutil_socket_t fd, short what, void *arg)
{
	struct net_watch *w = arg;
	int bits = 0;

	(void)fd;
	if (w->always) {
		bits = w->want;
		/* Ready again next pass, until the owner says otherwise: as level-triggered
		 * as a pollable fd, and one pass at a time so other events still run (a
		 * zero timeout, not event_active: an event activated from its own callback
		 * runs again in the same pass, and a callback that leaves the fd for later
		 * would spin there forever, starving every timer). */
		if (bits)
			arm_ready(w);
	} else {
		bits = (what & EV_READ ? NET_WATCH_READ : 0) | (what & EV_WRITE ? NET_WATCH_WRITE : 0);
	}
	if (bits)
		w->cb(w->fd, bits, w->arg);
}

static void release(void *self)
{
	net_watch_free(self);
}

static void go_always(struct net_watch *w)
{
	if (w->rd)
		event_free(w->rd);
	if (w->wr)
		event_free(w->wr);
	w->rd = w->wr = NULL;
	w->always = 1;
}

/* epoll refuses fds without a poll method (EPERM: a regular file, /dev/null); poll(2)
 * calls them always ready. Asked of a scratch epoll set so that libevent never sees
 * (and warns about) the refusal. */
static int pollable(int fd)
{
	struct stat st;
	struct epoll_event e = { .events = EPOLLIN };
	int ep, r;

	if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return 0;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return 1;
	r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == 0 || errno != EPERM;
	close(ep);
	return r;
}

static int apply(struct net_watch *w)
{
	if (w->always) {
		if (w->want)
			arm_ready(w);
		else
			event_del(w->ready);
		return 0;
	}
	/* Should the backend refuse it after all, the fd is treated as always ready. */
	if (((w->want & NET_WATCH_READ) ? event_add(w->rd, NULL) : event_del(w->rd)) < 0 ||
	    ((w->want & NET_WATCH_WRITE) ? event_add(w->wr, NULL) : event_del(w->wr)) < 0) {
		go_always(w);
		return apply(w);
	}
	return 0;
}

struct net_watch *net_watch_new(struct net_loop *l, int fd, int want, net_watch_cb cb, void *arg)
{
	struct net_watch *w = calloc(1, sizeof(*w));

	if (!w || fd < 0)
		goto fail;
	w->loop = l;
	w->fd = fd;
	w->cb = cb;
	w->arg = arg;
	if (!(w->ready = event_new(l->base, -1, 0, fire, w)))
		goto fail;
	if (!pollable(fd))
		w->always = 1;
	else if (!(w->rd = event_new(l->base, fd, EV_READ | EV_PERSIST, fire, w)) ||
		 !(w->wr = event_new(l->base, fd, EV_WRITE | EV_PERSIST, fire, w)))
		goto fail;
	net_own_add_(l, &w->own, release, w);
	if (net_watch_set(w, want) < 0) {
		net_watch_free(w);
		return NULL;
	}
	return w;
fail:
	if (w) {
		if (w->rd)
			event_free(w->rd);
		if (w->wr)
			event_free(w->wr);
		if (w->ready)
			event_free(w->ready);
		free(w);
	}
	return NULL;
}

int net_watch_set(struct net_watch *w, int want)
{
	w->want = want & (NET_WATCH_READ | NET_WATCH_WRITE);
	return apply(w);
}

void net_watch_free(struct net_watch *w)
{
	if (!w)
		return;
	net_own_del_(&w->own);
	if (w->rd)
		event_free(w->rd);
	if (w->wr)
		event_free(w->wr);
	event_free(w->ready);
	free(w);
}
