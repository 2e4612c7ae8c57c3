/* worker.h - blocking work (fsync, rename, unlink, ...) on worker threads, with the
 * completion reported back on the event loop, so the loop keeps serving connections
 * while the disk works.
 *
 * Ownership, which makes it race-free without locks in the caller: from
 * net_worker_submit until its done callback runs, the job's arg and everything the
 * job reaches through it belong to the worker thread; the loop must not read or write
 * them (keep the loop's own bookkeeping outside, or in fields the job never touches).
 * The hand-over both ways goes through the worker's mutex, so everything the loop
 * wrote before submit is visible to the job, and everything the job wrote is visible
 * to done. The job itself must call nothing of net/, libevent or the applet's loop
 * state: plain system calls and its own memory only. */
#ifndef NET_WORKER_H
#define NET_WORKER_H

struct net_loop;
struct net_worker;

typedef void (*net_work_fn)(void *arg);        /* on a worker thread */
typedef void (*net_work_done_fn)(void *arg);   /* back on the loop, after work */

/* nthreads >= 1 threads, started now, with every signal blocked (signals stay the
 * loop's). Jobs start in submission order; with one thread they also finish in that
 * order, with more they may overlap. NULL on failure (no thread left running). */
struct net_worker *net_worker_new(struct net_loop *l, unsigned nthreads);
/* Queues work(arg); done(arg) is then called from the loop (done may be NULL). Jobs
 * may be submitted from done callbacks. Returns 0, or -1 (nothing queued). */
int net_worker_submit(struct net_worker *w, net_work_fn work, net_work_done_fn done, void *arg);
/* Blocks until every submitted job has run, then calls their done callbacks here (on
 * the loop's thread, outside the loop: daemon stop). Jobs that done callbacks submit
 * are waited for too. */
void net_worker_drain(struct net_worker *w);
/* Drains (every done callback runs), stops the threads and frees. Not from a done
 * callback. net_loop_free frees a worker still on the loop without calling anything
 * of the application: jobs not yet started are dropped, running ones are waited for. */
void net_worker_free(struct net_worker *w);
#endif
