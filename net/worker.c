/* worker.c - worker threads for blocking jobs, completions back on the loop.
 *
 * Two lists under one mutex: todo (submitted, not started) and fin (run, done not yet
 * called). A finished job is moved to fin and, if fin was empty, one byte is written
 * to a pipe whose read end is an event of the loop: the loop then takes the whole fin
 * list under the mutex and calls the done callbacks with the mutex released. The
 * worker threads call nothing of libevent (only write(2) on the pipe), so libevent
 * needs no thread support. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/internal.h"
#include "net/worker.h"

struct wjob {
	struct wjob *next;
	net_work_fn work;
	net_work_done_fn done;
	void *arg;
};

struct net_worker {
	struct net_owned own;
	struct event *ev;            /* read end of the pipe, on the loop */
	int rfd, wfd;
	pthread_t *threads;
	unsigned nthreads;           /* started */
	pthread_mutex_t mu;
	pthread_cond_t more;         /* todo grew, or stop */
	pthread_cond_t idle;         /* a job finished */
	/* under mu */
	struct wjob *todo, **todo_tail;
	struct wjob *fin, **fin_tail;
	unsigned running;
	int stop;                    /* threads exit (todo is empty or dropped) */
	int woken;                   /* a byte is in the pipe and fin is not yet taken */
};

static void list_init(struct wjob **head, struct wjob ***tail)
{
	*head = NULL;
	*tail = head;
}

static void *thread_main(void *p)
{
	struct net_worker *w = p;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->todo && !w->stop)
			pthread_cond_wait(&w->more, &w->mu);
		if (!w->todo)
			break;   /* stop, nothing left */
		struct wjob *j = w->todo;
		if (!(w->todo = j->next))
			w->todo_tail = &w->todo;
		j->next = NULL;
		w->running++;
		pthread_mutex_unlock(&w->mu);
		j->work(j->arg);   /* the job owns arg now: no lock held */
		pthread_mutex_lock(&w->mu);
		w->running--;
		*w->fin_tail = j;
		w->fin_tail = &j->next;
		if (!w->woken) {
			static const char b = 1;
			w->woken = 1;
			/* The pipe holds at most one byte at a time (woken), so this never
			 * blocks or fails with EAGAIN. */
			while (write(w->wfd, &b, 1) < 0 && errno == EINTR)
				;
		}
		pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Takes every finished job and calls its done callback (mutex released). */
static void run_done(struct net_worker *w)
{
	struct wjob *j;
	char b[16];

	while (read(w->rfd, b, sizeof(b)) > 0)
		;
	pthread_mutex_lock(&w->mu);
	j = w->fin;
	list_init(&w->fin, &w->fin_tail);
	w->woken = 0;
	pthread_mutex_unlock(&w->mu);
	while (j) {
		struct wjob *next = j->next;
		if (j->done)
			j->done(j->arg);
		free(j);
		j = next;
	}
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_done(arg);
}

/* Stops and joins the threads; drop: jobs not started are freed without a call. */
static void stop_threads(struct net_worker *w, int drop)
{
	pthread_mutex_lock(&w->mu);
	if (drop) {
		while (w->todo) {
			struct wjob *j = w->todo;
			w->todo = j->next;
			free(j);
		}
		w->todo_tail = &w->todo;
	}
	w->stop = 1;
	pthread_cond_broadcast(&w->more);
	pthread_mutex_unlock(&w->mu);
	for (unsigned i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	w->nthreads = 0;
}

static void destroy(struct net_worker *w)
{
	while (w->fin) {
		struct wjob *j = w->fin;
		w->fin = j->next;
		free(j);
	}
	if (w->ev)
		event_free(w->ev);
	close(w->rfd);
	close(w->wfd);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->more);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w);
}

static void worker_release(void *self)
{
	struct net_worker *w = self;

	stop_threads(w, 1);
	destroy(w);
}

struct net_worker *net_worker_new(struct net_loop *l, unsigned nthreads)
{
	struct net_worker *w;
	int fds[2];
	sigset_t all, old;

	if (nthreads < 1 || !(w = calloc(1, sizeof(*w))))
		return NULL;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(w);
		return NULL;
	}
	w->rfd = fds[0];
	w->wfd = fds[1];
	list_init(&w->todo, &w->todo_tail);
	list_init(&w->fin, &w->fin_tail);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->more, NULL);
	pthread_cond_init(&w->idle, NULL);
	if (!(w->threads = calloc(nthreads, sizeof(*w->threads))) ||
	    !(w->ev = event_new(l->base, w->rfd, EV_READ | EV_PERSIST, on_wake, w)) ||
	    event_add(w->ev, NULL) < 0) {
		destroy(w);
		return NULL;
	}
	/* The threads inherit this mask: a signal is always taken by the loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; w->nthreads < nthreads; w->nthreads++)
		if (pthread_create(&w->threads[w->nthreads], NULL, thread_main, w) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w->nthreads < nthreads) {
		stop_threads(w, 1);
		destroy(w);
		return NULL;
	}
	net_own_add_(l, &w->own, worker_release, w);
	return w;
}

int net_worker_submit(struct net_worker *w, net_work_fn work, net_work_done_fn done, void *arg)
{
	struct wjob *j = calloc(1, sizeof(*j));

	if (!j)
		return -1;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->mu);
	*w->todo_tail = j;
	w->todo_tail = &j->next;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void net_worker_drain(struct net_worker *w)
{
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->todo || w->running)
			pthread_cond_wait(&w->idle, &w->mu);
		int more = w->fin != NULL;
		pthread_mutex_unlock(&w->mu);
		if (!more)
			return;
		run_done(w);   /* may submit again: wait for those too */
	}
}

void net_worker_free(struct net_worker *w)
{
	if (!w)
		return;
	net_worker_drain(w);
	stop_threads(w, 0);
	net_own_del_(&w->own);
	destroy(w);
}
