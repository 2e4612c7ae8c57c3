/* watch.h - readiness of a file descriptor that net/ did not open as a connection:
 * stdin, a pipe, a pty master. The owner does the reading and writing; net/ only says
 * when it will not block. This is how an applet waits for such an fd without a loop of
 * its own (ARCHITECTURE.md: one I/O model). */
#ifndef NET_WATCH_H
#define NET_WATCH_H

struct net_loop;
struct net_watch;

enum { NET_WATCH_READ = 1, NET_WATCH_WRITE = 2 };

/* what: the NET_WATCH_* bits that are ready. */
typedef void (*net_watch_cb)(int fd, int what, void *arg);

/* Watches fd for the NET_WATCH_* bits in want (0: made idle). The fd stays the
 * caller's: it is neither made non-blocking nor closed here. An fd the kernel cannot
 * poll (a regular file, /dev/null) counts as always ready, as poll(2) would say. */
struct net_watch *net_watch_new(struct net_loop *l, int fd, int want, net_watch_cb cb, void *arg);
/* Changes what is watched; 0 stops watching without freeing. */
int net_watch_set(struct net_watch *w, int want);
/* Safe from inside the watch's own callback. */
void net_watch_free(struct net_watch *w);
#endif
