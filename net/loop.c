/* loop.c - the event loop: libevent's event_base, timers, signals, and the loop's one
 * asynchronous DNS resolver (made on first use). */
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "core/clock.h"
#include "net/internal.h"
#include "net/loop.h"

struct net_sig {
	struct event *ev;
	net_signal_cb cb;
	void *arg;
	struct net_sig *next;
};

struct net_timer {
	struct net_owned own;
	struct event *ev;
	net_timer_cb cb;
	void *arg;
	int periodic;
};

struct net_loop *net_loop_new(void)
{
	struct net_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	/* A peer that resets a connection must cost us an EPIPE, not the process. */
	signal(SIGPIPE, SIG_IGN);
	l->base = event_base_new();
	if (!l->base) {
		free(l);
		return NULL;
	}
	return l;
}

void net_own_add_(struct net_loop *l, struct net_owned *o, void (*release)(void *), void *self)
{
	o->release = release;
	o->self = self;
	o->next = l->owned;
	if (o->next)
		o->next->pprev = &o->next;
	o->pprev = &l->owned;
	l->owned = o;
}

void net_own_del_(struct net_owned *o)
{
	if (!o->pprev)
		return;
	*o->pprev = o->next;
	if (o->next)
		o->next->pprev = o->pprev;
	o->next = NULL;
	o->pprev = NULL;
}

void net_loop_free(struct net_loop *l)
{
	if (!l)
		return;
	/* What the application still holds or net/ still owns (connections flushing or
	 * lingering after net_conn_close, pending connects, listeners, timers, MX
	 * requests) goes first, while the base and the resolver they use still exist. */
	while (l->owned) {
		struct net_owned *o = l->owned;
		net_own_del_(o);
		o->release(o->self);
	}
	while (l->sigs) {
		struct net_sig *s = l->sigs;
		l->sigs = s->next;
		event_free(s->ev);
		free(s);
	}
	/* A cancelled name lookup frees its request from a deferred callback of the base:
	 * one non-blocking pass runs it. Nothing of the application's is left to call. */
	if (l->dns)
		event_base_loop(l->base, EVLOOP_NONBLOCK);
	if (l->dns)
		evdns_base_free(l->dns, 1);
	event_base_free(l->base);
	free(l);
}

struct evdns_base *net_loop_dns(struct net_loop *l)
{
	if (!l->dns) {
		l->dns = evdns_base_new(l->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
		/* libevent refuses an empty /etc/resolv.conf (a router or container that names
		 * its hosts in /etc/hosts only): without nameservers, the hosts file still answers */
		if (!l->dns && (l->dns = evdns_base_new(l->base, 0)) != NULL)
			evdns_base_load_hosts(l->dns, "/etc/hosts"); /* NULL would be localhost only */
	}
	return l->dns;
}

int net_loop_run(struct net_loop *l)
{
	return event_base_dispatch(l->base) < 0 ? -1 : 0;
}

int net_loop_poll(struct net_loop *l)
{
	return event_base_loop(l->base, EVLOOP_NONBLOCK) < 0 ? -1 : 0;
}

void net_loop_exit(struct net_loop *l)
{
	event_base_loopbreak(l->base);
}

unsigned long long net_loop_now_ms(struct net_loop *l)
{
	(void)l;
	return (unsigned long long)clock_ms();
}

static void timer_fire(evutil_socket_t fd, short what, void *arg)
{
	struct net_timer *t = arg;

	(void)fd;
	(void)what;
	if (!t->periodic)
		event_del(t->ev);
	t->cb(t->arg);
}

static void timer_release(void *self)
{
	net_timer_free(self);
}

struct net_timer *net_timer_new(struct net_loop *l, net_timer_cb cb, void *arg)
{
	struct net_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->arg = arg;
	t->ev = event_new(l->base, -1, EV_PERSIST, timer_fire, t);
	if (!t->ev) {
		free(t);
		return NULL;
	}
	net_own_add_(l, &t->own, timer_release, t);
	return t;
}

static void timer_add(struct net_timer *t, unsigned long ms, int periodic)
{
	struct timeval tv = net_ms_tv_(ms);

	event_del(t->ev);
	t->periodic = periodic;
	event_add(t->ev, &tv);
}

void net_timer_arm(struct net_timer *t, unsigned long ms)
{
	timer_add(t, ms, 0);
}

void net_timer_every(struct net_timer *t, unsigned long ms)
{
	timer_add(t, ms ? ms : 1, 1);
}

void net_timer_cancel(struct net_timer *t)
{
	if (t)
		event_del(t->ev);
}

void net_timer_free(struct net_timer *t)
{
	if (!t)
		return;
	net_own_del_(&t->own);
	event_free(t->ev);
	free(t);
}

static void sig_fire(evutil_socket_t signo, short what, void *arg)
{
	struct net_sig *s = arg;

	(void)what;
	s->cb((int)signo, s->arg);
}

int net_signal_add(struct net_loop *l, int signo, net_signal_cb cb, void *arg)
{
	struct net_sig *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->cb = cb;
	s->arg = arg;
	s->ev = evsignal_new(l->base, signo, sig_fire, s);
	if (!s->ev || event_add(s->ev, NULL) < 0) {
		if (s->ev)
			event_free(s->ev);
		free(s);
		return -1;
	}
	s->next = l->sigs;
	l->sigs = s;
	return 0;
}
