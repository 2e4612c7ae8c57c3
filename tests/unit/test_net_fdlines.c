/* test_net_fdlines.c - lines from a pipe, a regular file and /dev/null on the loop
 * (net/fdlines.h over net/watch.h): nothing read before the fd is ready, every line
 * whole, an overlong one skipped and reported, a last line without LF delivered, the
 * end seen once; and the loop keeps serving timers while the fd is silent. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/fdlines.h"
#include "net/loop.h"
#include "net/watch.h"
#include "unit.h"

struct collect {
	struct net_loop *loop;
	struct net_fdlines *r;
	char got[512];
	int lines, longs, eofs, waits;
};

/* Drains every line that is there; stops the loop at the end. */
static void drain(void *arg)
{
	struct collect *c = arg;
	char *line;
	size_t len;

	for (;;) {
		enum net_fdlines_rc rc = net_fdlines_next(c->r, &line, &len);
		if (rc == NET_FDLINES_WAIT) {
			c->waits++;
			return;
		}
		if (rc == NET_FDLINES_LONG) {
			c->longs++;
			strcat(c->got, "<long>|");
			continue;
		}
		if (rc != NET_FDLINES_LINE) {
			c->eofs++;
			net_loop_exit(c->loop);
			return;
		}
		CHECK_EQ(strlen(line), len);
		c->lines++;
		if (strlen(c->got) + len + 2 < sizeof(c->got)) {
			strcat(c->got, line);
			strcat(c->got, "|");
		}
	}
}

static void run_over(int fd, size_t max, struct collect *c)
{
	memset(c, 0, sizeof(*c));
	c->loop = net_loop_new();
	c->r = net_fdlines_new(c->loop, fd, max, drain, c);
	CHECK(c->r != NULL);
	drain(c); /* the first ask only arms the watch */
	CHECK_EQ(c->waits, 1);
	net_loop_run(c->loop);
	net_fdlines_free(c->r);
	net_loop_free(c->loop);
}

static void test_regular_file(void)
{
	char path[] = "/tmp/sealbox-fdlines-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "one\ntwo\r\n\nthis-line-is-far-too-long\nfour\nlast";
	struct collect c;

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
	lseek(fd, 0, SEEK_SET);
	run_over(fd, 10, &c);
	CHECK_STR(c.got, "one|two||<long>|four|last|");
	CHECK_EQ(c.longs, 1);
	CHECK_EQ(c.eofs, 1);
	close(fd);
	unlink(path);
}

static void test_dev_null(void)
{
	int fd = open("/dev/null", O_RDONLY);
	struct collect c;

	CHECK(fd >= 0);
	run_over(fd, 100, &c);
	CHECK_EQ(c.lines, 0);
	CHECK_EQ(c.eofs, 1);
	close(fd);
}

/* A pipe whose writer is slow: the loop runs timers meanwhile, a line split over two
 * writes arrives whole, and a line longer than the read step survives. */
struct slow {
	struct collect c;
	int wfd, step, ticks;
	struct net_timer *t;
};

static void slow_write(void *arg)
{
	struct slow *s = arg;
	static char big[6000];

	s->ticks++;
	switch (s->step++) {
	case 0: CHECK_EQ(write(s->wfd, "hel", 3), 3); break;
	case 1: CHECK_EQ(write(s->wfd, "lo\nwor", 6), 6); break;
	case 2:
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\n';
		CHECK_EQ(write(s->wfd, big, sizeof(big)), (long long)sizeof(big));
		break;
	default:
		CHECK_EQ(write(s->wfd, "ld\n", 3), 3);
		close(s->wfd);
		return;
	}
	net_timer_arm(s->t, 5);
}

static void test_slow_pipe(void)
{
	struct slow s;
	int p[2];

	CHECK(pipe(p) == 0);
	memset(&s, 0, sizeof(s));
	s.wfd = p[1];
	s.c.loop = net_loop_new();
	s.c.r = net_fdlines_new(s.c.loop, p[0], 8000, drain, &s.c);
	s.t = net_timer_new(s.c.loop, slow_write, &s);
	drain(&s.c);
	net_timer_arm(s.t, 5);
	net_loop_run(s.c.loop);
	CHECK_EQ(s.ticks, 4);
	CHECK_EQ(s.c.lines, 3);
	CHECK(strncmp(s.c.got, "hello|", 6) == 0);
	CHECK(strstr(s.c.got, "ld|") != NULL);
	CHECK_EQ(s.c.eofs, 1);
	net_timer_free(s.t);
	net_fdlines_free(s.c.r);
	net_loop_free(s.c.loop);
	close(p[0]);
}

/* The watch alone: write readiness of a pipe, and free from inside the callback. */
static int fired;
static void on_writable(int fd, int what, void *arg)
{
	(void)fd;
	fired |= what;
	net_watch_free(*(struct net_watch **)arg);
	*(struct net_watch **)arg = NULL;
}

static void test_watch_write(void)
{
	struct net_loop *l = net_loop_new();
	struct net_watch *w;
	int p[2];

	CHECK(pipe(p) == 0);
	fired = 0;
	w = net_watch_new(l, p[1], NET_WATCH_WRITE, on_writable, &w);
	CHECK(w != NULL);
	net_loop_run(l);
	CHECK_EQ(fired, NET_WATCH_WRITE);
	CHECK(w == NULL);
	net_loop_free(l);
	close(p[0]);
	close(p[1]);
}

UNIT_SUITE(net_fdlines, UNIT_TEST(test_regular_file), UNIT_TEST(test_dev_null),
	   UNIT_TEST(test_slow_pipe), UNIT_TEST(test_watch_write));
