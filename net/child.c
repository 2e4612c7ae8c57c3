/* child.c - child processes with pipes or a pty, reaped on the loop (see child.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/exitcode.h"
#include "net/child.h"
#include "net/internal.h"
#include "net/loop.h"

struct net_child {
	struct net_owned own;
	struct net_loop *loop;
	struct net_child *next, **pprev; /* on loop->children while not reaped */
	pid_t pid;
	int fd[3];
	int pty;
	int freed;              /* the owner let go: reap quietly */
	net_child_exit_cb cb;
	void *arg;
};

static void unlink_child(struct net_child *c)
{
	if (!c->pprev)
		return;
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	c->next = NULL;
	c->pprev = NULL;
}

static void close_fds(struct net_child *c)
{
	for (int i = 0; i < 3; i++)
		if (c->fd[i] >= 0) {
			close(c->fd[i]);
			c->fd[i] = -1;
		}
}

/* SIGCHLD (coalesced by the kernel): every child of this loop that ended is reaped by
 * its own pid, so children that other code waits for are left alone. */
static void on_sigchld(int signo, void *arg)
{
	struct net_loop *l = arg;
	struct net_child *c = l->children, *next;

	(void)signo;
	for (; c; c = next) {
		int st;
		next = c->next;
		if (waitpid(c->pid, &st, WNOHANG) != c->pid)
			continue;
		unlink_child(c);
		c->pid = 0;
		if (c->freed) {
			net_own_del_(&c->own);
			free(c);
			continue;
		}
		if (c->cb) /* the owner may free c in here (next is already taken) */
			c->cb(c, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), c->arg);
	}
}

/* net_loop_free: nothing fires; a child still running is killed and waited for. */
static void release(void *self)
{
	struct net_child *c = self;

	unlink_child(c);
	close_fds(c);
	if (c->pid > 0) {
		kill(-c->pid, SIGHUP);
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	free(c);
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* In the child, after fork: only async-signal-safe calls until exec. */
static void child_exec(const struct net_child_spec *s, int in, int out, int err, const char *ptsname_)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (ptsname_) {
		int ps = open(ptsname_, O_RDWR);
		if (ps < 0)
			_exit(EXIT_CANNOT_EXEC);
		ioctl(ps, TIOCSCTTY, 0);
		in = out = err = ps;
	}
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(EXIT_CANNOT_EXEC);
	for (int fd = 3; fd < 64; fd++) /* what a library opened without O_CLOEXEC */
		close(fd);
	if (s->dir && chdir(s->dir) < 0)
		_exit(EXIT_CANNOT_EXEC);
	if (ptsname_ && !getenv("TERM"))
		setenv("TERM", s->term ? s->term : "xterm", 0);
	execvp(s->argv[0], s->argv);
	dprintf(2, "%s: %s\n", s->argv[0], strerror(errno));
	_exit(errno == ENOENT ? EXIT_NOTFOUND : EXIT_CANNOT_EXEC);
}

struct net_child *net_child_spawn(struct net_loop *l, const struct net_child_spec *s,
				  net_child_exit_cb cb, void *arg, char *err, size_t errlen)
{
	struct net_child *c = calloc(1, sizeof(*c));
	int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }, pm = -1;
	char pts[128] = "";
	const char *what = "pipe";

	if (!c || !s->argv || !s->argv[0]) {
		snprintf(err, errlen, "%s", c ? "no command" : "out of memory");
		free(c);
		return NULL;
	}
	c->fd[0] = c->fd[1] = c->fd[2] = -1;
	/* the handler first: a child that ends at once is still seen */
	if (!l->child_sig) {
		if (net_signal_add(l, SIGCHLD, on_sigchld, l) < 0) {
			what = "SIGCHLD handler";
			goto fail;
		}
		l->child_sig = 1;
	}
	if (s->pty) {
		struct winsize ws = { s->rows ? s->rows : 24, s->cols ? s->cols : 80, 0, 0 };
		what = "pseudo-terminal";
		pm = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (pm < 0 || grantpt(pm) < 0 || unlockpt(pm) < 0 || ptsname_r(pm, pts, sizeof(pts)) != 0)
			goto fail;
		ioctl(pm, TIOCSWINSZ, &ws);
	} else {
		for (int i = 0; i < 3; i++)
			if (pipe2(p[i], O_CLOEXEC) < 0)
				goto fail;
	}
	what = "process";
	c->pid = fork();
	if (c->pid < 0)
		goto fail;
	if (c->pid == 0)
		child_exec(s, p[0][0], p[1][1], p[2][1], s->pty ? pts : NULL);
	if (s->pty) {
		c->fd[1] = pm;
		c->fd[0] = fcntl(pm, F_DUPFD_CLOEXEC, 0); /* its own descriptor: closed on its own */
		pm = -1;
		c->pty = 1;
	} else {
		c->fd[0] = p[0][1];
		c->fd[1] = p[1][0];
		c->fd[2] = p[2][0];
		close(p[0][0]);
		close(p[1][1]);
		close(p[2][1]);
	}
	for (int i = 0; i < 3; i++)
		if (c->fd[i] >= 0)
			set_nonblock(c->fd[i]);
	c->loop = l;
	c->cb = cb;
	c->arg = arg;
	c->next = l->children;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &l->children;
	l->children = c;
	net_own_add_(l, &c->own, release, c);
	return c;
fail:
	snprintf(err, errlen, "cannot make a %s: %s", what, strerror(errno));
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++)
			if (p[i][j] >= 0)
				close(p[i][j]);
	if (pm >= 0)
		close(pm);
	free(c);
	return NULL;
}

int net_child_fd(const struct net_child *c, int which)
{
	return which >= 0 && which < 3 ? c->fd[which] : -1;
}

int net_child_take_fd(struct net_child *c, int which)
{
	int fd = net_child_fd(c, which);

	if (fd >= 0)
		c->fd[which] = -1;
	return fd;
}

void net_child_close_fd(struct net_child *c, int which)
{
	if (which >= 0 && which < 3 && c->fd[which] >= 0) {
		close(c->fd[which]);
		c->fd[which] = -1;
	}
}

pid_t net_child_pid(const struct net_child *c)
{
	return c->pid;
}

int net_child_kill(struct net_child *c, int sig)
{
	return c->pid > 0 ? kill(-c->pid, sig) : -1;
}

int net_child_resize(struct net_child *c, unsigned short rows, unsigned short cols)
{
	struct winsize ws = { rows, cols, 0, 0 };

	return c->pty && c->fd[1] >= 0 ? ioctl(c->fd[1], TIOCSWINSZ, &ws) : -1;
}

void net_child_free(struct net_child *c)
{
	if (!c)
		return;
	net_own_del_(&c->own);
	close_fds(c);
	if (c->pid <= 0) { /* reaped already */
		free(c);
		return;
	}
	kill(-c->pid, SIGHUP);
	kill(c->pid, SIGKILL);
	/* reaped by on_sigchld; if the loop goes first, its release waits for it */
	c->freed = 1;
	c->cb = NULL;
	net_own_add_(c->loop, &c->own, release, c);
}
