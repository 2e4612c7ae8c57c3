/* vw_loop.c - the viewer's rounds on net/'s loop (see vw_loop.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets/viewer/vw_loop.h"
#include "net/loop.h"
#include "net/watch.h"

struct wslot {
	int fd;            /* -1 free */
	struct net_watch *w;
	int want;
	dev_t dev;         /* what fd was when the watch was made: a reused number is */
	ino_t ino;         /* another file and gets a new watch */
	int seen;          /* in this round's set */
	int next;          /* what this round's set asks for */
};

static struct {
	struct net_loop *loop;
	struct net_timer *tick;     /* the next round: a kick (0 ms) or the timeout */
	struct net_timer *poll10;   /* vw_loop_wait's periodic check */
	const struct vw_round *round;
	struct pollfd pf[VW_LOOP_MAX];
	int n;
	struct wslot w[VW_LOOP_MAX];
	int kicked;
	int running;
	int (*done)(void *);
	void *done_arg;
	int waited;
} L;

static void on_tick(void *arg);

struct net_loop *vw_loop_net(void)
{
	if (!L.loop) {
		if (!(L.loop = net_loop_new()))
			return NULL;
		L.tick = net_timer_new(L.loop, on_tick, NULL);
		for (int i = 0; i < VW_LOOP_MAX; i++)
			L.w[i].fd = -1;
	}
	return L.loop;
}

int vw_loop_busy(void)
{
	return L.running;
}

void vw_loop_kick(void)
{
	if (!L.loop || !L.running || L.kicked)
		return;
	L.kicked = 1;
	net_timer_arm(L.tick, 0);
}

static void on_ready(int fd, int what, void *arg)
{
	short ev = (short)((what & NET_WATCH_READ ? POLLIN : 0) | (what & NET_WATCH_WRITE ? POLLOUT : 0));

	(void)arg;
	for (int i = 0; i < L.n; i++)
		if (L.pf[i].fd == fd)
			L.pf[i].revents |= (short)(ev & L.pf[i].events);
	vw_loop_kick();
}

static void slot_free(struct wslot *s)
{
	net_watch_free(s->w);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

void vw_loop_forget(int fd)
{
	for (int i = 0; i < VW_LOOP_MAX && fd >= 0; i++)
		if (L.w[i].fd == fd)
			slot_free(&L.w[i]);
	for (int i = 0; i < L.n; i++)
		if (L.pf[i].fd == fd)
			L.pf[i].revents = 0;
}

void vw_loop_close(int *fd)
{
	if (*fd < 0)
		return;
	vw_loop_forget(*fd);
	close(*fd);
	*fd = -1;
}

static struct wslot *slot_for(int fd)
{
	struct wslot *free_s = NULL, *idle = NULL;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	for (int i = 0; i < VW_LOOP_MAX; i++) {
		struct wslot *s = &L.w[i];
		if (s->fd == fd) {
			if (s->dev == st.st_dev && s->ino == st.st_ino)
				return s;
			slot_free(s); /* the number was closed and reused */
		}
		if (s->fd < 0 && !free_s)
			free_s = s;
		else if (s->fd >= 0 && !s->seen && !s->want && !idle)
			idle = s;
	}
	if (!free_s && idle) {
		slot_free(idle);
		free_s = idle;
	}
	if (!free_s || !(free_s->w = net_watch_new(L.loop, fd, 0, on_ready, NULL)))
		return NULL;
	free_s->fd = fd;
	free_s->dev = st.st_dev;
	free_s->ino = st.st_ino;
	free_s->want = 0;
	return free_s;
}

/* Makes the watches say what the new set asks for. */
static void sync_watches(void)
{
	for (int i = 0; i < VW_LOOP_MAX; i++)
		L.w[i].seen = L.w[i].next = 0;
	for (int i = 0; i < L.n; i++) {
		struct pollfd *p = &L.pf[i];
		struct wslot *s;
		p->revents = 0;
		if (p->fd < 0 || !(p->events & (POLLIN | POLLOUT)))
			continue;
		if (!(s = slot_for(p->fd))) {
			p->revents = p->events; /* cannot watch it: as ready, the handler will see */
			continue;
		}
		s->seen = 1;
		s->next |= (p->events & POLLIN ? NET_WATCH_READ : 0) | (p->events & POLLOUT ? NET_WATCH_WRITE : 0);
	}
	for (int i = 0; i < VW_LOOP_MAX; i++) {
		struct wslot *s = &L.w[i];
		if (s->fd >= 0 && s->next != s->want) {
			s->want = s->next;
			net_watch_set(s->w, s->want);
		}
	}
}

static void build(void)
{
	int t = -1;

	L.n = L.round->build(L.round->arg, L.pf, VW_LOOP_MAX, &t);
	sync_watches();
	for (int i = 0; i < L.n; i++)
		if (L.pf[i].revents) {
			t = 0;
			break;
		}
	if (t == 0) {
		L.kicked = 1;
		net_timer_arm(L.tick, 0);
	} else if (t > 0) {
		net_timer_arm(L.tick, (unsigned long)t);
	} else {
		net_timer_cancel(L.tick);
	}
}

static void on_tick(void *arg)
{
	(void)arg;
	L.kicked = 0;
	if (L.done) {
		if (L.done(L.done_arg)) {
			L.waited = 1;
			net_loop_exit(L.loop);
		}
		return;
	}
	if (!L.round)
		return;
	if (L.round->handle(L.round->arg, L.pf, L.n)) {
		L.round = NULL;
		net_loop_exit(L.loop);
		return;
	}
	build();
}

int vw_loop_run(const struct vw_round *r)
{
	if (!vw_loop_net() || !L.tick)
		return -1;
	L.round = r;
	L.running = 1;
	build();
	net_loop_run(L.loop);
	L.running = 0;
	L.round = NULL;
	L.kicked = 0;
	net_timer_cancel(L.tick);
	for (int i = 0; i < VW_LOOP_MAX; i++)
		if (L.w[i].fd >= 0 && L.w[i].want) {
			net_watch_set(L.w[i].w, 0);
			L.w[i].want = 0;
		}
	L.n = 0;
	return 0;
}

static void on_poll10(void *arg)
{
	(void)arg;
	on_tick(NULL);
}

static void on_deadline(void *arg)
{
	(void)arg;
	net_loop_exit(L.loop);
}

int vw_loop_wait(int (*done)(void *arg), void *arg, int ms)
{
	struct net_timer *dl;

	if (done(arg))
		return 0;
	if (!vw_loop_net() || L.running)
		return -1;
	if (!L.poll10)
		L.poll10 = net_timer_new(L.loop, on_poll10, NULL);
	dl = net_timer_new(L.loop, on_deadline, NULL);
	if (!L.poll10 || !dl) {
		net_timer_free(dl);
		return -1;
	}
	L.done = done;
	L.done_arg = arg;
	L.waited = 0;
	L.running = 1;
	net_timer_every(L.poll10, 10);
	net_timer_arm(dl, (unsigned long)ms);
	net_loop_run(L.loop);
	L.running = 0;
	L.kicked = 0;
	net_timer_cancel(L.poll10);
	net_timer_cancel(L.tick);
	net_timer_free(dl);
	L.done = NULL;
	return L.waited || done(arg) ? 0 : -1;
}

void vw_loop_free(void)
{
	if (!L.loop)
		return;
	net_loop_free(L.loop); /* the watches and timers with it */
	memset(&L, 0, sizeof(L));
}
