/* fdsock.h - sockets handed over as plain descriptors. For an applet that keeps its
 * own byte streams (the viewer's port forwards, the master's forwarded services, the
 * direct link's key proof) and waits for them with net/watch.h on the one loop. The
 * socket calls themselves (socket, bind, listen, accept, connect) are net/'s alone:
 * mk/lint-layers.sh fails on them anywhere else (ARCHITECTURE.md: one I/O model).
 * Everything here runs from the loop; no call blocks. */
#ifndef NET_FDSOCK_H
#define NET_FDSOCK_H

#include <stddef.h>

struct net_loop;
struct net_listener;

/* fd: the accepted socket, non-blocking and close-on-exec, now the callback's.
 * peer: "192.0.2.1:5000" or "[2001:db8::1]:5000" (an IPv4-mapped peer as IPv4). */
typedef void (*net_accept_fd_cb)(int fd, const char *peer, void *arg);

/* A listener as net_listen makes it (the same addresses: "ADDR:PORT", "[v6]:PORT",
 * "*:PORT" or ":PORT" for both families; port 0 any), handing out descriptors instead
 * of net_conns. Port and freeing: net_listener_port, net_listener_free (net/conn.h). */
struct net_listener *net_listen_fd(struct net_loop *l, const char *addr, net_accept_fd_cb cb,
				   void *arg, char *err, size_t errlen);
/* Stops (1) or restarts (0) accepting, for a listener whose owner has no room for
 * another connection now: new ones wait in the kernel's backlog meanwhile. Works for
 * every net_listener. */
void net_listener_pause(struct net_listener *ls, int paused);

/* fd: a connected, non-blocking, close-on-exec socket now the callback's; or -1 and
 * err says why (resolving, refused, timed out). Called once, from the loop. */
typedef void (*net_connect_fd_cb)(int fd, const char *err, void *arg);
struct net_fdconnect;
/* Connects to host:port as net_connect does (numeric or a name through the loop's
 * asynchronous resolver, each address in turn, within timeout_ms). NULL when out of
 * memory (no callback then). */
struct net_fdconnect *net_connect_fd(struct net_loop *l, const char *host, int port,
				     unsigned long timeout_ms, net_connect_fd_cb cb, void *arg);
/* Stops an attempt that has not called back; no callback follows. NULL is fine. */
void net_connect_fd_cancel(struct net_fdconnect *fc);
#endif
