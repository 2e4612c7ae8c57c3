/* listen.c - listening sockets. "*:PORT" (or ":PORT") binds both families on two
 * sockets (the IPv6 one with IPV6_V6ONLY, so neither depends on the system's
 * bindv6only); port 0 picks a free port, shared by both sockets.
 *
 * Accept errors (EMFILE, ENFILE, ENOBUFS) pause accepting for a moment instead of
 * spinning on a socket that stays readable; the process keeps serving. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "core/log.h"
#include "crypto/tls.h"
#include "net/fdsock.h"
#include "net/internal.h"

#define ACCEPT_PAUSE_MS 200

struct net_listener {
	struct net_loop *loop;
	struct net_owned own;
	struct evconnlistener *ev[2];
	int n;
	int port;
	struct cry_tls_ctx *tls;
	net_accept_cb cb;
	net_accept_fd_cb fd_cb;      /* net_listen_fd: descriptors, not net_conns */
	void *arg;
	struct event *resume;
	int paused;                  /* net_listener_pause */
};

static int bind_one(int family, const char *ip, int port, char *err, size_t errlen,
		    int *bound_port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (ip && evutil_inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			goto badaddr;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (ip && evutil_inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
			goto badaddr;
		sl = sizeof(*s4);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot listen on %s%s%s port %d: %s", family == AF_INET6 ? "[" : "",
			 ip ? ip : (family == AF_INET6 ? "::" : "0.0.0.0"), family == AF_INET6 ? "]" : "",
			 port, strerror(e));
		close(fd);
		return -1;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*bound_port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
badaddr:
	snprintf(err, errlen, "not an IP address: %s", ip);
	return -1;
}

/* "IP:PORT" or "[IPv6]:PORT"; an IPv4 peer of a dual-stack socket reads as IPv4. */
static void peer_str(const struct sockaddr *sa, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?"; /* 46: "[ip]:port" then fits the caller's 64 */

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
			evutil_inet_ntop(AF_INET, a->sin6_addr.s6_addr + 12, ip, sizeof(ip));
		else
			evutil_inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		net_join_hostport(out, cap, ip, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const void *)sa;
		evutil_inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		net_join_hostport(out, cap, ip, ntohs(a->sin_port));
	}
}

static void accept_cb(struct evconnlistener *el, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct net_listener *ls = arg;
	struct bufferevent *bev;
	struct net_conn *c;

	(void)el;
	(void)salen;
	if (ls->fd_cb) {
		char peer[64];
		peer_str(sa, peer, sizeof(peer));
		ls->fd_cb(fd, peer, ls->arg);
		return;
	}
	c = net_conn_alloc_(ls->loop);
	bev = c ? bufferevent_socket_new(ls->loop->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (!bev) {
		log_warn("dropping a connection: out of memory");
		evutil_closesocket(fd);
		if (c)
			net_conn_free(c);
		return;
	}
	net_conn_attach_(c, bev);
	if (ls->tls && net_conn_start_tls(c, ls->tls, NULL) < 0) {
		log_warn("%s: %s", net_conn_peer(c), net_conn_error(c));
		net_conn_free(c);
		return;
	}
	ls->cb(c, ls->arg);
}

struct net_conn *net_conn_adopt(struct net_loop *l, int fd)
{
	struct net_conn *c = net_conn_alloc_(l);
	struct bufferevent *bev = NULL;

	if (c && evutil_make_socket_nonblocking(fd) == 0)
		bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		if (c)
			net_conn_free(c);
		return NULL;
	}
	net_conn_attach_(c, bev);
	return c;
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct net_listener *ls = arg;

	(void)fd;
	(void)what;
	for (int i = 0; i < ls->n && !ls->paused; i++)
		evconnlistener_enable(ls->ev[i]);
}

static void accept_error(struct evconnlistener *el, void *arg)
{
	struct net_listener *ls = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 0, ACCEPT_PAUSE_MS * 1000 };

	(void)el;
	if (e == EINTR || e == EAGAIN || e == ECONNABORTED)
		return;
	log_warn("accept on port %d: %s; pausing for %d ms", ls->port, strerror(e), ACCEPT_PAUSE_MS);
	for (int i = 0; i < ls->n; i++)
		evconnlistener_disable(ls->ev[i]);
	evtimer_add(ls->resume, &tv);
}

static int add_fd(struct net_listener *ls, int fd, char *err, size_t errlen)
{
	struct evconnlistener *el = evconnlistener_new(ls->loop->base, accept_cb, ls,
						       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (!el) {
		snprintf(err, errlen, "cannot listen: out of memory");
		close(fd);
		return -1;
	}
	evconnlistener_set_error_cb(el, accept_error);
	ls->ev[ls->n++] = el;
	return 0;
}

static void listener_release(void *self)
{
	net_listener_free(self);
}

struct net_listener *net_listen(struct net_loop *l, const char *addr, struct cry_tls_ctx *tls,
				net_accept_cb cb, void *arg, char *err, size_t errlen)
{
	struct net_listener *ls;
	char host[128];
	int port = 0, fd, bound = 0;

	if (!addr || !cb) {
		snprintf(err, errlen, "no listen address");
		return NULL;
	}
	ls = calloc(1, sizeof(*ls));
	if (!ls) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ls->loop = l;
	net_own_add_(l, &ls->own, listener_release, ls);
	ls->tls = tls;
	ls->cb = cb;
	ls->arg = arg;
	ls->resume = evtimer_new(l->base, resume_cb, ls);
	if (!ls->resume) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (addr[0] == ':' || (addr[0] == '*' && addr[1] == ':')) {
		char tmp[160];
		snprintf(tmp, sizeof(tmp), "any%s", strchr(addr, ':'));
		if (net_split_hostport(tmp, host, sizeof(host), &port, 0) < 0)
			goto badaddr;
		fd = bind_one(AF_INET, NULL, port, err, errlen, &bound);
		if (fd < 0 || add_fd(ls, fd, err, errlen) < 0)
			goto fail;
		/* the same port on IPv6; an IPv6-less host keeps the IPv4 socket */
		fd = bind_one(AF_INET6, NULL, bound, err, errlen, &bound);
		if (fd >= 0) {
			if (add_fd(ls, fd, err, errlen) < 0)
				goto fail;
		} else if (errno != EAFNOSUPPORT) {
			goto fail;
		}
	} else {
		if (net_split_hostport(addr, host, sizeof(host), &port, 0) < 0)
			goto badaddr;
		fd = bind_one(strchr(host, ':') ? AF_INET6 : AF_INET, host, port, err, errlen, &bound);
		if (fd < 0 || add_fd(ls, fd, err, errlen) < 0)
			goto fail;
	}
	ls->port = bound;
	return ls;
badaddr:
	snprintf(err, errlen, "bad listen address \"%s\" (want ADDR:PORT, [V6]:PORT or *:PORT)", addr);
fail:
	net_listener_free(ls);
	return NULL;
}

/* never called: net_listen_fd's listeners take the fd_cb path in accept_cb */
static void accept_unused(struct net_conn *c, void *arg)
{
	(void)arg;
	net_conn_free(c);
}

struct net_listener *net_listen_fd(struct net_loop *l, const char *addr, net_accept_fd_cb cb,
				   void *arg, char *err, size_t errlen)
{
	struct net_listener *ls;

	if (!cb) {
		snprintf(err, errlen, "no accept callback");
		return NULL;
	}
	/* nothing is accepted before the loop runs again, so fd_cb is in place in time */
	if ((ls = net_listen(l, addr, NULL, accept_unused, arg, err, errlen)))
		ls->fd_cb = cb;
	return ls;
}

void net_listener_pause(struct net_listener *ls, int paused)
{
	if (!ls || ls->paused == !!paused)
		return;
	ls->paused = !!paused;
	for (int i = 0; i < ls->n; i++) {
		if (paused)
			evconnlistener_disable(ls->ev[i]);
		else if (!evtimer_pending(ls->resume, NULL)) /* not during an accept-error pause */
			evconnlistener_enable(ls->ev[i]);
	}
}

int net_listener_port(const struct net_listener *ls)
{
	return ls->port;
}

void net_listener_free(struct net_listener *ls)
{
	if (!ls)
		return;
	net_own_del_(&ls->own);
	for (int i = 0; i < ls->n; i++)
		evconnlistener_free(ls->ev[i]);
	if (ls->resume)
		event_free(ls->resume);
	free(ls);
}
