/* connect_fd.c - an outgoing connection handed over as a descriptor (fdsock.h). It is
 * net_connect's machinery (resolver, address list, deadline); once connected, the
 * socket is duplicated for the owner and the net_conn freed. Nothing has been read
 * by then: the connection's first read would be a later event of the loop. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>

#include "net/fdsock.h"
#include "net/internal.h"

struct net_fdconnect {
	struct net_conn *c;
	net_connect_fd_cb cb;
	void *arg;
};

static void fc_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct net_fdconnect *fc = arg;
	char err[256];
	int fd = -1;

	if (ev == NET_EV_CONNECTED && c->bev && net_conn_input_len(c) == 0) {
		fd = fcntl(bufferevent_getfd(c->bev), F_DUPFD_CLOEXEC, 3);
		snprintf(err, sizeof(err), "cannot take the socket: out of descriptors");
	} else {
		snprintf(err, sizeof(err), "%s", net_conn_error(c)[0] ? net_conn_error(c) : "cannot connect");
	}
	net_conn_free(c); /* closes its copy; ours stays open */
	fc->c = NULL;
	fc->cb(fd, fd >= 0 ? NULL : err, fc->arg);
	free(fc);
}

static const struct net_conn_cbs fc_cbs = { NULL, NULL, fc_event };

struct net_fdconnect *net_connect_fd(struct net_loop *l, const char *host, int port,
				     unsigned long timeout_ms, net_connect_fd_cb cb, void *arg)
{
	struct net_fdconnect *fc = calloc(1, sizeof(*fc));

	if (!fc)
		return NULL;
	fc->cb = cb;
	fc->arg = arg;
	if (!(fc->c = net_connect(l, host, port, timeout_ms, &fc_cbs, fc))) {
		free(fc);
		return NULL;
	}
	return fc;
}

void net_connect_fd_cancel(struct net_fdconnect *fc)
{
	if (!fc)
		return;
	net_conn_free(fc->c);
	free(fc);
}
