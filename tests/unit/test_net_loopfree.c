/* test_net_loopfree.c - net_loop_free frees what is left on the loop (connections
 * still flushing or lingering after net_conn_close, pending connects, listeners,
 * timers, MX requests) without calling the application; and a connection that timed
 * out can still send its last words when its socket is healthy, but not after EOF.
 *
 * Leaks show under `make SAN=1 T=unit test` (LeakSanitizer); the descriptor counts
 * show them in any build: every socket must be closed once the loop is freed. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "net/conn.h"
#include "net/loop.h"
#include "net/mx.h"
#include "unit.h"

#define BIG (8u * 1024 * 1024)

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static void stop_loop(void *arg)
{
	net_loop_exit(arg);
}

/* runs l until stop_loop or ms, whichever is first */
static void run_for(struct net_loop *l, unsigned long ms)
{
	struct net_timer *t = net_timer_new(l, stop_loop, l);

	net_timer_arm(t, ms);
	net_loop_run(l);
	net_timer_free(t);
}

/* ---- net_loop_free with lingering connections ---- */

struct lf {
	struct net_loop *loop;
	int accepted;
	int closed_with_output;   /* closes that still had bytes to send */
	int freeing;              /* set before net_loop_free: no callback may fire now */
	int calls_while_freeing;
	int client_events;
};

static void lf_cli_read(struct net_conn *c, void *arg)
{
	struct lf *s = arg;

	(void)c;
	if (s->freeing)
		s->calls_while_freeing++;
}

static void lf_cli_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct lf *s = arg;

	if (s->freeing)
		s->calls_while_freeing++;
	if (ev == NET_EV_CONNECTED)
		net_conn_pause_read(c); /* a peer that never reads */
	else
		s->client_events++;
}

static void lf_timer(void *arg)
{
	struct lf *s = arg;

	if (s->freeing)
		s->calls_while_freeing++;
}

static void lf_mx(enum net_mx_status st, const struct net_mx *mx, size_t n, void *arg)
{
	struct lf *s = arg;

	(void)st;
	(void)mx;
	(void)n;
	s->calls_while_freeing++; /* nobody answers: this must never fire */
}

static void lf_accept(struct net_conn *c, void *arg)
{
	struct lf *s = arg;
	static char *big;

	s->accepted++;
	if (s->accepted % 2) {
		/* more than the socket buffers hold: the close is left flushing */
		big = big ? big : calloc(1, BIG);
		if (big && net_conn_write(c, big, BIG) == 0)
			s->closed_with_output += net_conn_output_len(c) > 0;
		if (s->accepted == 3) {
			free(big);
			big = NULL;
		}
	} else {
		/* flushed at once, then lingering for the peer's EOF that never comes */
		net_conn_printf(c, "bye\r\n");
		s->closed_with_output += net_conn_output_len(c) > 0;
	}
	net_conn_close(c);
}

static void free_lingering(void)
{
	static const struct net_conn_cbs ccbs = { lf_cli_read, NULL, lf_cli_event };
	struct net_listener *ls;
	struct net_timer *t;
	struct lf s;
	char err[256];
	int base_fds, fds_before;

	memset(&s, 0, sizeof(s));
	base_fds = open_fds();
	CHECK(base_fds > 0);
	s.loop = net_loop_new();
	CHECK(s.loop != NULL);
	if (!s.loop)
		return;
	ls = net_listen(s.loop, "127.0.0.1:0", NULL, lf_accept, &s, err, sizeof(err));
	CHECK(ls != NULL);
	if (!ls) {
		net_loop_free(s.loop);
		return;
	}
	for (int i = 0; i < 4; i++)
		CHECK(net_connect(s.loop, "127.0.0.1", net_listener_port(ls), 2000, &ccbs, &s) != NULL);
	run_for(s.loop, 400);
	CHECK_EQ(s.accepted, 4);
	CHECK_EQ(s.closed_with_output, 4);
	CHECK_EQ(s.client_events, 0);
	/* left behind on purpose: a connect not yet started, a name lookup, an armed
	 * timer, the listener and an MX query nobody answers */
	CHECK(net_connect(s.loop, "127.0.0.1", net_listener_port(ls), 2000, &ccbs, &s) != NULL);
	/* a name lookup in flight (NULL only if this host has no resolver at all) */
	(void)net_connect(s.loop, "loopfree.invalid", 25, 2000, &ccbs, &s);
	t = net_timer_new(s.loop, lf_timer, &s);
	CHECK(t != NULL);
	net_timer_every(t, 1);
	CHECK(net_resolve_mx(s.loop, "example.com", "127.0.0.1:9", 5000, lf_mx, &s) != NULL);
	fds_before = open_fds();
	/* 4 closing server sockets, 4 clients, the listener, the pending connect has none
	 * yet, the MX socket: all still open */
	CHECK(fds_before >= base_fds + 10);
	s.freeing = 1;
	net_loop_free(s.loop);
	CHECK_EQ(s.calls_while_freeing, 0);
	CHECK_EQ(open_fds(), base_fds);
}

/* ---- last words after a timeout ---- */

struct to {
	struct net_loop *loop;
	struct net_conn *srv, *cli;
	int srv_timeouts;
	int write_rc;
	int big_rc;
	char line[64];
	size_t got;              /* bytes the client read */
	char tail[16];           /* the last bytes it read */
	int cli_eof;
	int resume_ms;           /* client starts reading this late (0: at once) */
	int close_in_cb;         /* server: write and close inside on_event */
	int after_eof;           /* the EOF case: what a write returns then */
	int eof_write_rc;
	int srv_eof;
	struct net_timer *later;
};

static void to_later_write(void *arg)
{
	struct to *s = arg;

	/* after the callback returned: the last words still go, and the close flushes
	 * them (bounded) although the peer is not reading yet */
	s->write_rc = net_conn_printf(s->srv, "421 bye\r\n");
	net_conn_close(s->srv);
	s->srv = NULL;
}

static void to_srv_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct to *s = arg;

	if (ev == NET_EV_EOF) {
		s->srv_eof = 1;
		s->eof_write_rc = net_conn_printf(c, "421 bye\r\n");
		net_conn_close(c);
		s->srv = NULL;
		net_loop_exit(s->loop);
		return;
	}
	if (ev != NET_EV_TIMEOUT)
		return;
	s->srv_timeouts++;
	if (s->close_in_cb) {
		s->write_rc = net_conn_printf(c, "421 bye\r\n");
		net_conn_close(c);
		s->srv = NULL;
	} else {
		net_timer_arm(s->later, 0);
	}
}

static void to_accept(struct net_conn *c, void *arg)
{
	static const struct net_conn_cbs cbs = { NULL, NULL, to_srv_event };
	struct to *s = arg;

	s->srv = c;
	net_conn_set_cbs(c, &cbs, s);
	net_conn_set_idle_timeout(c, 200);
	if (s->resume_ms) {
		char *big = malloc(BIG);
		if (big)
			memset(big, 'x', BIG);
		s->big_rc = big ? net_conn_write(c, big, BIG) : -1;
		free(big);
	}
}

static void to_cli_read(struct net_conn *c, void *arg)
{
	struct to *s = arg;
	char buf[65536];
	size_t n;

	while ((n = net_conn_read(c, buf, sizeof(buf))) > 0) {
		/* keep the stream's last (up to 15) bytes; the filler is 'x', never NUL */
		size_t keep = n < sizeof(s->tail) - 1 ? n : sizeof(s->tail) - 1;
		size_t old = strlen(s->tail);
		if (old + keep > sizeof(s->tail) - 1) {
			size_t drop = old + keep - (sizeof(s->tail) - 1);
			memmove(s->tail, s->tail + drop, old - drop + 1);
			old -= drop;
		}
		memcpy(s->tail + old, buf + n - keep, keep);
		s->tail[old + keep] = 0;
		s->got += n;
	}
}

static void to_cli_event(struct net_conn *c, enum net_event ev, void *arg)
{
	struct to *s = arg;

	if (ev == NET_EV_CONNECTED) {
		if (s->resume_ms)
			net_conn_pause_read(c);
		if (s->after_eof) {
			net_conn_close(c);
			s->cli = NULL;
		}
		return;
	}
	if (ev == NET_EV_EOF) {
		s->cli_eof = 1;
		net_loop_exit(s->loop);
	}
}

static void to_resume(void *arg)
{
	struct to *s = arg;

	net_conn_resume_read(s->cli);
}

static void run_timeout_case(struct to *s)
{
	static const struct net_conn_cbs ccbs = { to_cli_read, NULL, to_cli_event };
	struct net_listener *ls;
	struct net_timer *resume = NULL;
	char err[256];

	s->loop = net_loop_new();
	CHECK(s->loop != NULL);
	if (!s->loop)
		return;
	s->write_rc = -2;
	s->eof_write_rc = -2;
	s->later = net_timer_new(s->loop, to_later_write, s);
	ls = net_listen(s->loop, "127.0.0.1:0", NULL, to_accept, s, err, sizeof(err));
	CHECK(ls != NULL);
	if (ls) {
		s->cli = net_connect(s->loop, "127.0.0.1", net_listener_port(ls), 2000, &ccbs, s);
		CHECK(s->cli != NULL);
		if (s->resume_ms) {
			resume = net_timer_new(s->loop, to_resume, s);
			net_timer_arm(resume, (unsigned long)s->resume_ms);
		}
		run_for(s->loop, 3000);
	}
	/* whatever is still open goes with the loop */
	net_loop_free(s->loop);
}

/* No data for 200 ms: the server answers "421 bye" and closes inside the callback. */
static void timeout_goodbye(void)
{
	struct to s;
	int fds = open_fds();

	memset(&s, 0, sizeof(s));
	s.close_in_cb = 1;
	run_timeout_case(&s);
	CHECK_EQ(s.srv_timeouts, 1);
	CHECK_EQ(s.write_rc, 0);
	CHECK_STR(s.tail, "421 bye\r\n");
	CHECK_EQ(s.got, 9);
	CHECK_EQ(s.cli_eof, 1); /* the close went through: flushed, then EOF */
	CHECK_EQ(open_fds(), fds);
}

/* The client takes nothing for 200 ms ("peer took no data"): the server writes its
 * goodbye after the callback; once the client reads, all of it arrives, goodbye last. */
static void timeout_stalled_goodbye(void)
{
	struct to s;
	int fds = open_fds();

	memset(&s, 0, sizeof(s));
	s.resume_ms = 600;
	run_timeout_case(&s);
	CHECK_EQ(s.big_rc, 0);
	CHECK_EQ(s.srv_timeouts, 1);
	CHECK_EQ(s.write_rc, 0);
	CHECK_EQ(s.got, BIG + 9);
	CHECK_STR(s.tail, "xxxxxx421 bye\r\n");
	CHECK_EQ(s.cli_eof, 1);
	CHECK_EQ(open_fds(), fds);
}

/* After EOF the socket is not healthy for writing: the write is refused. */
static void no_write_after_eof(void)
{
	struct to s;

	memset(&s, 0, sizeof(s));
	s.after_eof = 1;
	run_timeout_case(&s);
	CHECK_EQ(s.srv_eof, 1);
	CHECK_EQ(s.srv_timeouts, 0);
	CHECK_EQ(s.eof_write_rc, -1);
}

UNIT_SUITE(net_loopfree, UNIT_TEST(free_lingering), UNIT_TEST(timeout_goodbye),
	   UNIT_TEST(timeout_stalled_goodbye), UNIT_TEST(no_write_after_eof));
