/* child.h - child processes on the loop: a command with pipes for stdin, stdout and
 * stderr, or with a new pseudo-terminal as its controlling terminal, and its exit
 * reported on the loop (SIGCHLD, reaped here). The parent's ends are non-blocking and
 * close-on-exec; watch them with net/watch.h. This is how an applet runs a shell or a
 * command without a loop of its own (ARCHITECTURE.md: one I/O model). */
#ifndef NET_CHILD_H
#define NET_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct net_loop;
struct net_child;

struct net_child_spec {
	char *const *argv;      /* argv[0] is looked up in PATH */
	const char *dir;        /* the child's working directory; NULL: ours */
	int pty;                /* 1: one pseudo-terminal for its stdin, stdout and stderr */
	unsigned short rows, cols; /* the terminal's size (0: 24 x 80) */
	const char *term;       /* pty: TERM when the environment has none (NULL: "xterm") */
};

/* status: the exit code, or 128 + the signal that ended it (as a shell says it). A child
 * that cannot be started (exec failed) says why on its stderr and exits 127 (not found)
 * or 126. */
typedef void (*net_child_exit_cb)(struct net_child *c, int status, void *arg);

/* Starts the child in its own session (process group). SIGPIPE, SIGINT, SIGTERM and
 * SIGCHLD are default in it. NULL with err when no pipe, pty or process can be made. */
struct net_child *net_child_spawn(struct net_loop *l, const struct net_child_spec *spec,
				  net_child_exit_cb cb, void *arg, char *err, size_t errlen);

enum { NET_CHILD_STDIN = 0, NET_CHILD_STDOUT = 1, NET_CHILD_STDERR = 2 };
/* Our end of the child's stdin (write), stdout or stderr (read); -1 when closed or not
 * there (a pty has no separate stderr: its stdin and stdout are two descriptors of the
 * terminal's master side, so each can be closed on its own). */
int net_child_fd(const struct net_child *c, int which);
/* Hands our end to the caller, who closes it from then on; -1 when there is none. */
int net_child_take_fd(struct net_child *c, int which);
/* Closes our end (stdin: the child sees EOF). Free a net_watch on it first. */
void net_child_close_fd(struct net_child *c, int which);
pid_t net_child_pid(const struct net_child *c);
/* Sends sig to the child's process group. */
int net_child_kill(struct net_child *c, int sig);
/* Sets the pty's window size (0 or -1). */
int net_child_resize(struct net_child *c, unsigned short rows, unsigned short cols);
/* Closes our ends and frees; no callback fires afterwards. A child still running gets
 * SIGHUP (its group) and SIGKILL, and the loop reaps it later. */
void net_child_free(struct net_child *c);
#endif
