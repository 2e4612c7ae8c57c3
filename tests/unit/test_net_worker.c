/* test_net_worker.c - net/worker: jobs run on another thread, done callbacks come back
 * on the loop in order, the loop keeps running while a job blocks, drain and free wait
 * for what was submitted (also from done callbacks), net_loop_free drops what has not
 * started without calling the application. Races would show under a TSan build;
 * leaks under `make SAN=1 T=unit test`. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "net/loop.h"
#include "net/worker.h"
#include "unit.h"

static pthread_t main_thread;

struct wj {
	int in, out;             /* job's: out = in * in */
	int on_worker;           /* job's: ran on another thread */
	int sleep_ms;
	int order;               /* loop's: position of the done call */
};

struct wctx {
	struct net_loop *loop;
	struct net_worker *w;
	int ndone, want, done_on_main, chain_left;
	struct wj jobs[200];
};

static struct wctx *cur;

static atomic_int started;

static void sq_work(void *arg)
{
	struct wj *j = arg;

	atomic_fetch_add(&started, 1);
	if (j->sleep_ms) {
		struct timespec ts = { 0, (long)j->sleep_ms * 1000000L };
		nanosleep(&ts, NULL);
	}
	j->on_worker = !pthread_equal(pthread_self(), main_thread);
	j->out = j->in * j->in;
}

static void sq_done(void *arg)
{
	struct wj *j = arg;

	cur->done_on_main += pthread_equal(pthread_self(), main_thread) ? 1 : 0;
	j->order = cur->ndone++;
	if (cur->ndone == cur->want)
		net_loop_exit(cur->loop);
}

static void stop_loop(void *arg)
{
	net_loop_exit(arg);
}

static void setup(struct wctx *c, unsigned threads)
{
	memset(c, 0, sizeof(*c));
	main_thread = pthread_self();
	cur = c;
	atomic_store(&started, 0);
	c->loop = net_loop_new();
	CHECK(c->loop != NULL);
	c->w = net_worker_new(c->loop, threads);
	CHECK(c->w != NULL);
}

static void run_bounded(struct wctx *c, unsigned long ms)
{
	struct net_timer *t = net_timer_new(c->loop, stop_loop, c->loop);

	net_timer_arm(t, ms);
	net_loop_run(c->loop);
	net_timer_free(t);
}

/* Every job runs off the loop's thread, every done comes back on it; one thread keeps
 * the submission order. */
static void test_worker_runs_and_completes(void)
{
	struct wctx c;

	setup(&c, 1);
	c.want = 200;
	for (int i = 0; i < c.want; i++) {
		c.jobs[i].in = i;
		CHECK_EQ(net_worker_submit(c.w, sq_work, sq_done, &c.jobs[i]), 0);
	}
	run_bounded(&c, 10000);
	CHECK_EQ(c.ndone, c.want);
	CHECK_EQ(c.done_on_main, c.want);
	for (int i = 0; i < c.want; i++) {
		CHECK_EQ(c.jobs[i].out, i * i);
		CHECK(c.jobs[i].on_worker);
		CHECK_EQ(c.jobs[i].order, i);
	}
	net_worker_free(c.w);
	net_loop_free(c.loop);
}

/* Several threads: all jobs, all done callbacks, nothing twice. */
static void test_worker_many_threads(void)
{
	struct wctx c;

	setup(&c, 3);
	c.want = 200;
	for (int i = 0; i < c.want; i++) {
		c.jobs[i].in = i + 1;
		c.jobs[i].order = -1;
		CHECK_EQ(net_worker_submit(c.w, sq_work, sq_done, &c.jobs[i]), 0);
	}
	run_bounded(&c, 10000);
	CHECK_EQ(c.ndone, c.want);
	int seen[200] = { 0 };
	for (int i = 0; i < c.want; i++) {
		CHECK_EQ(c.jobs[i].out, (i + 1) * (i + 1));
		CHECK(c.jobs[i].order >= 0 && c.jobs[i].order < 200);
		if (c.jobs[i].order >= 0 && c.jobs[i].order < 200)
			seen[c.jobs[i].order]++;
	}
	for (int i = 0; i < c.want; i++)
		CHECK_EQ(seen[i], 1);
	net_worker_free(c.w);
	net_loop_free(c.loop);
}

/* A slow job does not hold up the loop: a timer fires while it sleeps. */
static int timer_fired_before_done;
static void mark_timer(void *arg)
{
	(void)arg;
	if (cur->ndone == 0)
		timer_fired_before_done = 1;
}

static void test_worker_loop_not_blocked(void)
{
	struct wctx c;
	struct net_timer *t;

	setup(&c, 1);
	c.want = 1;
	c.jobs[0].in = 7;
	c.jobs[0].sleep_ms = 400;
	t = net_timer_new(c.loop, mark_timer, NULL);
	net_timer_arm(t, 20);
	timer_fired_before_done = 0;
	CHECK_EQ(net_worker_submit(c.w, sq_work, sq_done, &c.jobs[0]), 0);
	run_bounded(&c, 10000);
	CHECK(timer_fired_before_done);
	CHECK_EQ(c.ndone, 1);
	CHECK_EQ(c.jobs[0].out, 49);
	net_timer_free(t);
	net_worker_free(c.w);
	net_loop_free(c.loop);
}

/* Done callbacks that submit again: drain waits for the whole chain, outside the loop. */
static void chain_done(void *arg)
{
	struct wj *j = arg;

	cur->ndone++;
	if (cur->chain_left > 0) {
		struct wj *n = &cur->jobs[--cur->chain_left];
		n->in = j->out % 1000 + 1;
		CHECK_EQ(net_worker_submit(cur->w, sq_work, chain_done, n), 0);
	}
}

static void test_worker_drain_chain(void)
{
	struct wctx c;

	setup(&c, 2);
	c.chain_left = 50;
	c.jobs[199].in = 3;
	c.jobs[199].sleep_ms = 20;
	CHECK_EQ(net_worker_submit(c.w, sq_work, chain_done, &c.jobs[199]), 0);
	net_worker_drain(c.w);
	CHECK_EQ(c.ndone, 51);
	CHECK_EQ(c.chain_left, 0);
	CHECK_EQ(c.jobs[0].on_worker, 1);
	net_worker_free(c.w);
	net_loop_free(c.loop);
}

/* net_worker_free waits for queued jobs and calls their done callbacks. */
static void test_worker_free_completes(void)
{
	struct wctx c;

	setup(&c, 1);
	c.want = -1;
	for (int i = 0; i < 20; i++) {
		c.jobs[i].in = i;
		c.jobs[i].sleep_ms = 2;
		CHECK_EQ(net_worker_submit(c.w, sq_work, sq_done, &c.jobs[i]), 0);
	}
	net_worker_free(c.w);
	CHECK_EQ(c.ndone, 20);
	CHECK_EQ(c.jobs[19].out, 361);
	net_loop_free(c.loop);
}

/* net_loop_free: the running job finishes, the rest is dropped, no done callback
 * fires (LeakSanitizer checks the dropped jobs are freed). */
static void test_worker_loop_free_drops(void)
{
	struct wctx c;

	setup(&c, 1);
	c.want = -1;
	c.jobs[0].sleep_ms = 100;
	for (int i = 0; i < 30; i++)
		CHECK_EQ(net_worker_submit(c.w, sq_work, sq_done, &c.jobs[i]), 0);
	for (int i = 0; i < 1000 && atomic_load(&started) == 0; i++)
		usleep(2000);   /* until the first job is running */
	net_loop_free(c.loop);
	CHECK_EQ(c.ndone, 0);
	CHECK(c.jobs[0].on_worker);
	CHECK_EQ(c.jobs[29].on_worker, 0);
}

UNIT_SUITE(net_worker,
	UNIT_TEST(test_worker_runs_and_completes),
	UNIT_TEST(test_worker_many_threads),
	UNIT_TEST(test_worker_loop_not_blocked),
	UNIT_TEST(test_worker_drain_chain),
	UNIT_TEST(test_worker_free_completes),
	UNIT_TEST(test_worker_loop_free_drops));
