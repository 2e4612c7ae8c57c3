/* vw_loop.h - the viewer's rounds on net/'s one event loop. viewer-master and
 * viewer-client keep their step as "what to wait for" (a set of descriptors, struct
 * pollfd as the data shape) and "what became ready"; the waiting itself is net/'s:
 * each descriptor gets a net/watch.h watch, timeouts are a net/loop.h timer, and the
 * links (struct vw_conn) are net_conns whose bytes arrive on the same loop and call
 * vw_loop_kick. So a relay reconnect (net/connect.c, net/proxy_conn.c, TLS) runs while
 * shells, forwards and direct links go on. There is one loop per process. */
#ifndef VW_LOOP_H
#define VW_LOOP_H

#include <poll.h>

struct net_loop;

#define VW_LOOP_MAX 256

struct vw_round {
	/* Fills pf (at most max) with what to wait for; *timeout_ms: the longest wait
	 * (0: come back at once, after other events ran). Returns the count. */
	int (*build)(void *arg, struct pollfd *pf, int max, int *timeout_ms);
	/* pf as build left it, revents set for what became ready (POLLIN, POLLOUT; a
	 * hang-up or an error reads as ready). 0 to go on, 1 to leave vw_loop_run. */
	int (*handle)(void *arg, struct pollfd *pf, int n);
	void *arg;
};

/* The process's loop (made on first use); NULL when out of memory. */
struct net_loop *vw_loop_net(void);
/* Runs rounds until handle says 1 (or the loop fails): build first, then handle each
 * time something in the set is ready, a link kicked, or the timeout passed. */
int vw_loop_run(const struct vw_round *r);
/* A link got bytes or an event, a child ended: run a round soon. */
void vw_loop_kick(void);
/* Call before closing a descriptor that was in the set: its watch goes first, so a
 * reused number (or a dup of the same file) never inherits it. */
void vw_loop_forget(int fd);
/* Closes *fd (if >= 0) after vw_loop_forget, and sets it to -1. */
void vw_loop_close(int *fd);
/* Outside vw_loop_run: runs the loop until done(arg) returns 1 or ms passed (checked
 * on every kick and every 10 ms). 0 when done, -1 on timeout. */
int vw_loop_wait(int (*done)(void *arg), void *arg, int ms);
/* 1 while vw_loop_run or vw_loop_wait is running the loop. */
int vw_loop_busy(void);
/* Frees the loop and everything on it (links not closed are dropped). */
void vw_loop_free(void);
#endif
