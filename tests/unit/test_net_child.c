/* test_net_child.c - child processes on the loop (net/child.h): a command's stdout,
 * stderr and exit code over pipes, EOF on its stdin when we close ours, a shell on a
 * pty (isatty, the window size, echo of what we type), a child killed by a signal
 * (128 + signo), a command that does not exist (127), and freeing a running child
 * (killed and reaped, no callback). The loop serves all of it; nothing blocks. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/child.h"
#include "net/loop.h"
#include "net/watch.h"
#include "unit.h"

struct run {
	struct net_loop *loop;
	struct net_child *c;
	struct net_watch *w[3];
	char out[2][4096];
	size_t len[2];
	int status, exited, eofs, need_eofs;
	const char *type;   /* written to the child's stdin once it is writable */
	int typed;
};

static void maybe_done(struct run *r)
{
	if (r->exited && r->eofs >= r->need_eofs)
		net_loop_exit(r->loop);
}

static void on_exit_cb(struct net_child *c, int status, void *arg)
{
	struct run *r = arg;

	(void)c;
	r->status = status;
	r->exited = 1;
	maybe_done(r);
}

static void on_fd(int fd, int what, void *arg)
{
	struct run *r = arg;

	if (what & NET_WATCH_WRITE) {
		if (r->type && !r->typed)
			r->typed = write(fd, r->type, strlen(r->type)) > 0;
		net_watch_set(r->w[0], 0);
		return;
	}
	for (int s = 1; s <= 2; s++) {
		if (net_child_fd(r->c, s) != fd)
			continue;
		char *b = r->out[s - 1];
		ssize_t n = read(fd, b + r->len[s - 1], sizeof(r->out[0]) - 1 - r->len[s - 1]);
		if (n > 0) {
			r->len[s - 1] += (size_t)n;
			return;
		}
		net_watch_free(r->w[s]);
		r->w[s] = NULL;
		net_child_close_fd(r->c, s);
		r->eofs++;
		maybe_done(r);
	}
}

static void timeout_cb(void *arg)
{
	struct run *r = arg;

	unit_fail(__FILE__, __LINE__, "timed out");
	net_loop_exit(r->loop);
}

static void run_child(struct run *r, char **argv, int pty, const char *type)
{
	struct net_child_spec s = { argv, NULL, pty, 30, 100, NULL };
	char err[128];
	struct net_timer *t;

	memset(r, 0, sizeof(*r));
	r->loop = net_loop_new();
	r->type = type;
	r->c = net_child_spawn(r->loop, &s, on_exit_cb, r, err, sizeof(err));
	CHECK(r->c != NULL);
	if (!r->c)
		return;
	CHECK(net_child_pid(r->c) > 0);
	r->need_eofs = pty ? 1 : 2;
	for (int i = 1; i <= 2; i++)
		if (net_child_fd(r->c, i) >= 0)
			r->w[i] = net_watch_new(r->loop, net_child_fd(r->c, i), NET_WATCH_READ, on_fd, r);
	if (type)
		r->w[0] = net_watch_new(r->loop, net_child_fd(r->c, 0), NET_WATCH_WRITE, on_fd, r);
	else if (!pty)
		net_child_close_fd(r->c, 0); /* EOF on its stdin */
	t = net_timer_new(r->loop, timeout_cb, r);
	net_timer_arm(t, 10000);
	net_loop_run(r->loop);
	for (int i = 0; i < 3; i++)
		net_watch_free(r->w[i]);
	net_timer_free(t);
	net_child_free(r->c);
	net_loop_free(r->loop);
}

static void test_pipes(void)
{
	char *argv[] = { "sh", "-c", "echo out; echo err >&2; cat; exit 3", NULL };
	struct run r;

	run_child(&r, argv, 0, NULL);
	CHECK_STR(r.out[0], "out\n");
	CHECK_STR(r.out[1], "err\n");
	CHECK_EQ(r.status, 3);
}

static void test_stdin(void)
{
	char *argv[] = { "sh", "-c", "read x; echo got:$x", NULL };
	struct run r;

	run_child(&r, argv, 0, "hello\n");
	CHECK_STR(r.out[0], "got:hello\n");
	CHECK_EQ(r.status, 0);
}

static void test_pty(void)
{
	char *argv[] = { "sh", "-c", "test -t 0 && test -t 1 && stty size; read x; echo got:$x", NULL };
	struct run r;

	run_child(&r, argv, 1, "typed\n");
	CHECK(strstr(r.out[0], "30 100") != NULL);
	CHECK(strstr(r.out[0], "typed") != NULL);     /* the terminal's echo */
	CHECK(strstr(r.out[0], "got:typed") != NULL);
	CHECK_EQ(r.status, 0);
	CHECK_EQ(r.len[1], 0);
}

static void test_signal_and_missing(void)
{
	char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
	char *nope[] = { "/nonexistent/sealbox-no-such-command", NULL };
	struct run r;

	run_child(&r, argv, 0, NULL);
	CHECK_EQ(r.status, 128 + SIGTERM);
	run_child(&r, nope, 0, NULL);
	CHECK_EQ(r.status, 127);
	CHECK(strstr(r.out[1], "No such file") != NULL);
}

static void no_cb(struct net_child *c, int status, void *arg)
{
	(void)c;
	(void)status;
	*(int *)arg = 1;
}

static void stop_cb(void *arg)
{
	net_loop_exit(arg);
}

static void test_free_running(void)
{
	struct net_loop *l = net_loop_new();
	char *argv[] = { "sleep", "60", NULL };
	struct net_child_spec s = { argv, NULL, 0, 0, 0, NULL };
	char err[128];
	int fired = 0;
	struct net_child *c = net_child_spawn(l, &s, no_cb, &fired, err, sizeof(err));
	struct net_timer *t = net_timer_new(l, stop_cb, l);
	pid_t pid;

	CHECK(c != NULL);
	if (!c)
		return;
	pid = net_child_pid(c);
	net_child_free(c);
	net_timer_arm(t, 300); /* time for SIGCHLD to arrive and be handled */
	net_loop_run(l);
	CHECK_EQ(fired, 0);
	CHECK_EQ(waitpid(pid, NULL, WNOHANG), -1); /* reaped by the loop already */
	net_timer_free(t);
	net_loop_free(l);
}

UNIT_SUITE(net_child, UNIT_TEST(test_pipes), UNIT_TEST(test_stdin), UNIT_TEST(test_pty),
	   UNIT_TEST(test_signal_and_missing), UNIT_TEST(test_free_running));
