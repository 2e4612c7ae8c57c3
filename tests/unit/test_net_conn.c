/* test_net_conn.c - connections on one loop over loopback: the line reader across
 * packets, an overlong line leaving its bytes unread, addresses, pause/resume, timers. */
#include <stdlib.h>
#include <string.h>

#include "net/conn.h"
#include "net/loop.h"
#include "unit.h"

struct side {
	struct net_loop *loop;
	struct net_conn *srv, *cli;
	char lines[8][64];
	int had_cr[8];
	int nlines;
	int too_long;
	size_t left_after_error;
	int step;
	int reads_while_paused;
	int paused;
};

static void srv_read(struct net_conn *c, void *arg)
{
	struct side *s = arg;
	char *line;
	size_t len;
	int cr, r;

	if (s->paused)
		s->reads_while_paused++;
	while ((r = net_conn_readline_crlf(c, &line, &len, &cr)) == 1) {
		if (s->nlines < 8) {
			snprintf(s->lines[s->nlines], sizeof(s->lines[0]), "%s", line);
			s->had_cr[s->nlines++] = cr;
		}
		free(line);
	}
	if (r < 0 && !s->too_long) {
		s->too_long = 1;
		s->left_after_error = net_conn_input_len(c);
		net_loop_exit(s->loop);
	}
}

static void srv_event(struct net_conn *c, enum net_event ev, void *arg)
{
	(void)c;
	(void)ev;
	(void)arg;
}

static void on_accept(struct net_conn *c, void *arg)
{
	static const struct net_conn_cbs cbs = { srv_read, NULL, srv_event };
	struct side *s = arg;

	s->srv = c;
	net_conn_set_cbs(c, &cbs, s);
	net_conn_set_max_line(c, 10);
}

static void tick(void *arg);

static void stop_loop(void *arg)
{
	net_loop_exit(arg);
}

static void cli_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct side *s = arg;

	if (ev == NET_EV_CONNECTED) {
		/* one line split over two writes, CRLF and LF, a line split at the CR */
		net_conn_write(c, "abc\r\nde", 7);
		s->step = 1;
	}
}

static void tick(void *arg)
{
	struct side *s = arg;

	switch (s->step) {
	case 1:
		net_conn_write(s->cli, "f\nxyz\r", 6);
		s->step = 2;
		break;
	case 2:
		net_conn_write(s->cli, "\n", 1);
		s->step = 3;
		break;
	case 3:
		/* paused: bytes arrive but no on_read until resumed */
		net_conn_pause_read(s->srv);
		s->paused = 1;
		net_conn_write(s->cli, "p1\n", 3);
		s->step = 4;
		break;
	case 4:
		s->paused = 0;
		net_conn_resume_read(s->srv);
		s->step = 5;
		break;
	case 5:
		net_conn_write(s->cli, "12345678901\n", 12); /* 11 > max 10 */
		s->step = 6;
		break;
	default:
		break;
	}
}

static void loopback_lines(void)
{
	struct side s;
	static const struct net_conn_cbs ccbs = { NULL, NULL, cli_event };
	struct net_listener *ls;
	struct net_timer *t;
	char err[256];

	memset(&s, 0, sizeof(s));
	s.loop = net_loop_new();
	CHECK(s.loop != NULL);
	if (!s.loop)
		return;
	ls = net_listen(s.loop, "127.0.0.1:0", NULL, on_accept, &s, err, sizeof(err));
	CHECK(ls != NULL);
	if (!ls)
		goto out;
	CHECK(net_listener_port(ls) > 0);
	s.cli = net_connect(s.loop, "127.0.0.1", net_listener_port(ls), 2000, &ccbs, &s);
	CHECK(s.cli != NULL);
	t = net_timer_new(s.loop, tick, &s);
	net_timer_every(t, 50);
	{
		/* a deadline so a bug cannot hang the unit run */
		struct net_timer *stop = net_timer_new(s.loop, stop_loop, s.loop);
		net_timer_arm(stop, 3000);
		net_loop_run(s.loop);
		net_timer_free(stop);
	}
	net_timer_free(t);
	CHECK_EQ(s.nlines, 4);
	CHECK_STR(s.lines[0], "abc");
	CHECK_EQ(s.had_cr[0], 1);
	CHECK_STR(s.lines[1], "def");
	CHECK_EQ(s.had_cr[1], 0);
	CHECK_STR(s.lines[2], "xyz");
	CHECK_EQ(s.had_cr[2], 1);
	CHECK_STR(s.lines[3], "p1");
	CHECK_EQ(s.reads_while_paused, 0);
	CHECK_EQ(s.too_long, 1);
	CHECK_EQ(s.left_after_error, 12); /* the overlong line stays unread */
	CHECK(s.srv && strncmp(net_conn_peer(s.srv), "127.0.0.1:", 10) == 0);
	CHECK(s.srv && strcmp(net_conn_peer_ip(s.srv), "127.0.0.1") == 0);
	CHECK(s.srv && s.cli && strcmp(net_conn_local(s.cli), net_conn_peer(s.srv)) == 0);
	CHECK(s.srv && !net_conn_is_tls(s.srv));
	net_conn_free(s.srv);
	net_conn_free(s.cli);
	net_listener_free(ls);
out:
	net_loop_free(s.loop);
}

static int fired;

static void count(void *arg)
{
	(void)arg;
	fired++;
}

static void timers(void)
{
	struct net_loop *l = net_loop_new();
	struct net_timer *once, *every, *stop;
	unsigned long long t0;

	CHECK(l != NULL);
	if (!l)
		return;
	fired = 0;
	once = net_timer_new(l, count, NULL);
	every = net_timer_new(l, count, NULL);
	stop = net_timer_new(l, stop_loop, l);
	net_timer_arm(once, 10);
	net_timer_arm(once, 20); /* re-arming replaces, it does not add */
	net_timer_every(every, 30);
	net_timer_arm(stop, 200);
	t0 = net_loop_now_ms(l);
	net_loop_run(l);
	CHECK(net_loop_now_ms(l) - t0 >= 190);
	/* once: 1, every 30 ms over 200 ms: 5..7 */
	CHECK(fired >= 6 && fired <= 8);
	net_timer_cancel(every);
	fired = 0;
	net_timer_arm(stop, 100);
	net_loop_run(l);
	CHECK_EQ(fired, 0);
	net_timer_free(once);
	net_timer_free(every);
	net_timer_free(stop);
	net_loop_free(l);
}

static void bad_listen(void)
{
	struct net_loop *l = net_loop_new();
	char err[256];

	CHECK(net_listen(l, "nonsense", NULL, on_accept, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "bad listen address") != NULL);
	CHECK(net_listen(l, "192.0.2.250:1", NULL, on_accept, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "cannot listen on 192.0.2.250 port 1") != NULL);
	CHECK(net_listen(l, "example.com:25", NULL, on_accept, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not an IP address") != NULL);
	CHECK(net_connect(l, "127.0.0.1", 0, 100, NULL, NULL) == NULL);
	CHECK(net_connect(l, "", 25, 100, NULL, NULL) == NULL);
	net_loop_free(l);
}

UNIT_SUITE(net_conn, UNIT_TEST(loopback_lines), UNIT_TEST(timers), UNIT_TEST(bad_listen));
