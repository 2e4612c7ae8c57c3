/* loop.h - the event loop (libevent's event_base behind a small API), timers and
 * signals. One loop per applet context; nothing here blocks. */
#ifndef NET_LOOP_H
#define NET_LOOP_H

struct net_loop;
struct net_loop *net_loop_new(void);
/* Frees the loop and everything still made on it: connections (open, connecting, or
 * still flushing or lingering after net_conn_close), listeners, timers, signal
 * handlers, MX requests. No application callback fires. Every handle from this loop
 * is invalid afterwards, so free your own first or not at all; a TLS context used by
 * connections that are still open (not closed) must outlive this call. Never call it
 * from inside one of the loop's callbacks. */
void net_loop_free(struct net_loop *l);
/* Runs until net_loop_exit or until nothing is left to wait for. */
int net_loop_run(struct net_loop *l);
void net_loop_exit(struct net_loop *l);
/* One pass over what is ready now, without waiting (a one-shot client that has other
 * work between passes). */
int net_loop_poll(struct net_loop *l);
/* Milliseconds since an arbitrary start (CLOCK_MONOTONIC, read on every call: two
 * calls in one callback can differ). */
unsigned long long net_loop_now_ms(struct net_loop *l);

typedef void (*net_timer_cb)(void *arg);
struct net_timer;
struct net_timer *net_timer_new(struct net_loop *l, net_timer_cb cb, void *arg);
/* One shot after ms; re-arming replaces the previous deadline. */
void net_timer_arm(struct net_timer *t, unsigned long ms);
/* Every ms until cancelled. */
void net_timer_every(struct net_timer *t, unsigned long ms);
void net_timer_cancel(struct net_timer *t);
void net_timer_free(struct net_timer *t);

/* Signal handling inside the loop (SIGHUP reload, SIGTERM/SIGINT drain). */
typedef void (*net_signal_cb)(int signo, void *arg);
int net_signal_add(struct net_loop *l, int signo, net_signal_cb cb, void *arg);
#endif
