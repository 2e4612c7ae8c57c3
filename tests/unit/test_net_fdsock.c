/* test_net_fdsock.c - sockets handed over as descriptors (net/fdsock.h): a listener and
 * a connect meet on the loop and both get a non-blocking, close-on-exec descriptor that
 * carries bytes; a refused connect says why; a paused listener leaves a connection in
 * the backlog until it is resumed; a cancelled connect never calls back. */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/fdsock.h"
#include "net/loop.h"
#include "unit.h"

struct st {
	struct net_loop *loop;
	int afd, cfd, accepts, connects;
	char peer[64], err[256];
};

static void on_acc(int fd, const char *peer, void *arg)
{
	struct st *s = arg;

	s->afd = fd;
	s->accepts++;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	if (s->connects)
		net_loop_exit(s->loop);
}

static void on_conn(int fd, const char *err, void *arg)
{
	struct st *s = arg;

	s->cfd = fd;
	s->connects++;
	snprintf(s->err, sizeof(s->err), "%s", err ? err : "");
	if (s->accepts || fd < 0)
		net_loop_exit(s->loop);
}

static void on_deadline(void *arg)
{
	net_loop_exit(arg);
}

/* Runs the loop until a callback ends it or ms passed. */
static void spin(struct st *s, unsigned long ms)
{
	struct net_timer *t = net_timer_new(s->loop, on_deadline, s->loop);

	net_timer_arm(t, ms);
	net_loop_run(s->loop);
	net_timer_free(t);
}

static int flags_ok(int fd)
{
	return (fcntl(fd, F_GETFL) & O_NONBLOCK) && (fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

static void test_listen_connect(void)
{
	struct st s = { net_loop_new(), -1, -1, 0, 0, "", "" };
	char err[200], buf[8] = "";
	struct net_listener *ls = net_listen_fd(s.loop, "127.0.0.1:0", on_acc, &s, err, sizeof(err));
	struct pollfd p;

	CHECK(ls != NULL);
	CHECK(net_listener_port(ls) > 0);
	CHECK(net_connect_fd(s.loop, "127.0.0.1", net_listener_port(ls), 3000, on_conn, &s) != NULL);
	spin(&s, 5000);
	CHECK_EQ(s.accepts, 1);
	CHECK_EQ(s.connects, 1);
	CHECK(s.afd >= 0 && s.cfd >= 0);
	CHECK(strncmp(s.peer, "127.0.0.1:", 10) == 0);
	CHECK(flags_ok(s.afd));
	CHECK(flags_ok(s.cfd));
	CHECK_EQ(write(s.cfd, "hi", 2), 2);
	p = (struct pollfd){ s.afd, POLLIN, 0 };
	CHECK_EQ(poll(&p, 1, 3000), 1);
	CHECK_EQ(read(s.afd, buf, sizeof(buf)), 2);
	CHECK_MEM(buf, "hi", 2);
	close(s.afd);
	close(s.cfd);
	net_listener_free(ls);
	net_loop_free(s.loop);
}

static void test_refused(void)
{
	struct st s = { net_loop_new(), -1, -1, 0, 0, "", "" };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* a port that was just free: nothing listens there */
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
	close(fd);
	CHECK(net_connect_fd(s.loop, "127.0.0.1", ntohs(sa.sin_port), 3000, on_conn, &s) != NULL);
	spin(&s, 5000);
	CHECK_EQ(s.connects, 1);
	CHECK_EQ(s.cfd, -1);
	CHECK(s.err[0] != '\0');
	net_loop_free(s.loop);
}

static void test_pause(void)
{
	struct st s = { net_loop_new(), -1, -1, 0, 1 /* exit on accept */, "", "" };
	char err[200];
	struct net_listener *ls = net_listen_fd(s.loop, "127.0.0.1:0", on_acc, &s, err, sizeof(err));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CHECK(ls != NULL);
	net_listener_pause(ls, 1);
	sa.sin_port = htons((uint16_t)net_listener_port(ls));
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0); /* the kernel's backlog */
	spin(&s, 300);
	CHECK_EQ(s.accepts, 0);
	net_listener_pause(ls, 0);
	spin(&s, 3000);
	CHECK_EQ(s.accepts, 1);
	if (s.afd >= 0)
		close(s.afd);
	close(fd);
	net_listener_free(ls);
	net_loop_free(s.loop);
}

static void test_cancel(void)
{
	struct st s = { net_loop_new(), -1, -1, 0, 0, "", "" };
	struct net_fdconnect *fc = net_connect_fd(s.loop, "127.0.0.1", 9, 3000, on_conn, &s);

	CHECK(fc != NULL);
	net_connect_fd_cancel(fc);
	spin(&s, 200);
	CHECK_EQ(s.connects, 0);
	net_loop_free(s.loop);
}

UNIT_SUITE(net_fdsock, UNIT_TEST(test_listen_connect), UNIT_TEST(test_refused), UNIT_TEST(test_pause),
	   UNIT_TEST(test_cancel));
