/* redis.c - asynchronous Redis client over net_conn (redis.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/secret.h"
#include "core/str.h"
#include "net/conn.h"
#include "net/loop.h"
#include "net/redis.h"

#define INBUF_MAX (RESP_MAX_BULK + 64 * 1024) /* one reply at most, plus what follows */
#define TICK_MS 100
#define BACKOFF_MIN_MS 200

struct net_redis_req {
	char *buf;
	size_t len, cap;
	size_t ncmd;
	int broken;
	net_redis_cb cb;
	void *arg;
	int internal;           /* AUTH/PING of the handshake */
	struct resp_reply *rep; /* ncmd slots */
	size_t got;
	unsigned long long sent_ms;
	struct net_redis_req *next;
};

enum rstate { R_DOWN, R_CONNECTING, R_HANDSHAKE, R_UP };

struct net_redis {
	struct net_loop *loop;
	struct net_redis_opts o;
	char *host, *password;
	struct net_conn *nc;
	enum rstate st;
	int reported_up;        /* what on_state last said; -1 nothing yet */
	struct net_redis_req *head, *tail;
	size_t npending;
	uint8_t *in;
	size_t incap;
	struct net_timer *tick, *retry;
	unsigned long backoff;
	char err[160];
};

struct net_redis_req *net_redis_req_new(void)
{
	return calloc(1, sizeof(struct net_redis_req));
}

int net_redis_req_add(struct net_redis_req *q, int argc, const char *const *argv)
{
	if (!q || argc < 1 || resp_encode(&q->buf, &q->len, &q->cap, argc, argv, NULL) < 0) {
		if (q)
			q->broken = 1;
		return -1;
	}
	q->ncmd++;
	return 0;
}

int net_redis_req_addf(struct net_redis_req *q, const char *fmt, ...)
{
	char line[1024], *argv[32], *save = NULL;
	int argc = 0;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		if (q)
			q->broken = 1;
		return -1;
	}
	for (char *w = strtok_r(line, " ", &save); w && argc < 32; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	return net_redis_req_add(q, argc, (const char *const *)argv);
}

size_t net_redis_req_count(const struct net_redis_req *q)
{
	return q ? q->ncmd : 0;
}

void net_redis_req_free(struct net_redis_req *q)
{
	if (!q)
		return;
	if (q->rep)
		for (size_t i = 0; i < q->got; i++)
			resp_free(&q->rep[i]);
	free(q->rep);
	if (q->buf)
		secret_wipe(q->buf, q->len); /* AUTH carries the password */
	free(q->buf);
	free(q);
}

static void set_state(struct net_redis *r, enum rstate st, const char *why)
{
	r->st = st;
	int up = st == R_UP;
	if (up)
		r->err[0] = '\0';
	else if (why) {
		str_copy(r->err, why, sizeof(r->err));
		log_debug("redis %s port %d: %s", r->host, r->o.port, why);
	}
	if (up != r->reported_up) {
		r->reported_up = up;
		if (r->o.on_state)
			r->o.on_state(up, up ? "" : r->err, r->o.arg);
	}
}

/* Drops the connection, fails every pending request (callbacks with NULL) and
 * schedules a reconnect. */
static void fail(struct net_redis *r, const char *why)
{
	if (r->nc) {
		net_conn_free(r->nc);
		r->nc = NULL;
	}
	struct net_redis_req *q = r->head;
	r->head = r->tail = NULL;
	r->npending = 0;
	set_state(r, R_DOWN, why);
	while (q) {
		struct net_redis_req *n = q->next;
		if (!q->internal && q->cb)
			q->cb(NULL, 0, q->arg);
		net_redis_req_free(q);
		q = n;
	}
	net_timer_arm(r->retry, r->backoff);
	r->backoff = r->backoff * 2 > r->o.backoff_max_ms ? r->o.backoff_max_ms : r->backoff * 2;
}

static void enqueue(struct net_redis *r, struct net_redis_req *q)
{
	q->sent_ms = net_loop_now_ms(r->loop);
	q->next = NULL;
	if (r->tail)
		r->tail->next = q;
	else
		r->head = q;
	r->tail = q;
	r->npending++;
}

static int send_req(struct net_redis *r, struct net_redis_req *q)
{
	if (!(q->rep = calloc(q->ncmd, sizeof(*q->rep))) || net_conn_write(r->nc, q->buf, q->len) < 0)
		return -1;
	enqueue(r, q);
	return 0;
}

/* The handshake's answers: every one must be +OK (AUTH) or +PONG (PING). */
static void handshake_done(struct resp_reply *rep, size_t n, void *arg)
{
	struct net_redis *r = arg;
	for (size_t i = 0; i < n; i++)
		if (rep[i].type == RESP_ERROR || (!resp_is(&rep[i], "OK") && !resp_is(&rep[i], "PONG"))) {
			char why[160];
			str_fmt(why, sizeof(why), "handshake refused: %.100s",
				rep[i].type == RESP_ERROR ? rep[i].s : "unexpected answer");
			fail(r, why);
			return;
		}
	r->backoff = BACKOFF_MIN_MS;
	set_state(r, R_UP, NULL);
}

static void complete_head(struct net_redis *r)
{
	struct net_redis_req *q = r->head;
	r->head = q->next;
	if (!r->head)
		r->tail = NULL;
	r->npending--;
	if (q->internal)
		handshake_done(q->rep, q->ncmd, r);
	else if (q->cb)
		q->cb(q->rep, q->ncmd, q->arg);
	net_redis_req_free(q);
}

static void on_read(struct net_conn *nc, void *arg)
{
	struct net_redis *r = arg;
	for (;;) {
		size_t have = net_conn_input_len(nc), used;
		if (have == 0)
			return;
		size_t take = have > INBUF_MAX ? INBUF_MAX : have;
		if (take > r->incap) {
			uint8_t *g = realloc(r->in, take);
			if (!g) {
				fail(r, "out of memory");
				return;
			}
			r->in = g;
			r->incap = take;
		}
		net_conn_peek(nc, r->in, take);
		struct resp_reply one;
		int rc = resp_parse(r->in, take, &one, &used);
		if (rc == 0 && take < INBUF_MAX)
			return;
		if (rc <= 0 || !r->head) {
			if (rc > 0)
				resp_free(&one);
			fail(r, rc <= 0 ? "the server sent a malformed or oversized reply"
					: "the server sent a reply nobody asked for");
			return;
		}
		net_conn_drain(nc, used);
		struct net_redis_req *q = r->head;
		q->rep[q->got++] = one;
		if (q->got == q->ncmd) {
			struct net_redis *self = r;
			complete_head(self);
			if (!self->nc) /* a callback failed it */
				return;
		}
	}
}

static void on_event(struct net_conn *nc, enum net_event ev, void *arg)
{
	struct net_redis *r = arg;
	char why[200];
	if (ev == NET_EV_CONNECTED) {
		r->st = R_HANDSHAKE;
		struct net_redis_req *q = net_redis_req_new();
		if (!q) {
			fail(r, "out of memory");
			return;
		}
		q->internal = 1;
		if (r->password) {
			const char *a[2] = { "AUTH", r->password };
			net_redis_req_add(q, 2, a);
		}
		net_redis_req_addf(q, "PING");
		if (q->broken || send_req(r, q) < 0) {
			net_redis_req_free(q);
			fail(r, "cannot send the handshake");
		}
		return;
	}
	if (ev == NET_EV_TLS_READY)
		return;
	str_fmt(why, sizeof(why), "%s", ev == NET_EV_EOF ? "the server closed the connection" : net_conn_error(nc));
	fail(r, why);
}

static void reconnect(void *arg)
{
	static const struct net_conn_cbs cbs = { on_read, NULL, on_event };
	struct net_redis *r = arg;
	if (r->nc)
		return;
	r->st = R_CONNECTING;
	r->nc = net_connect(r->loop, r->host, r->o.port, r->o.timeout_ms, &cbs, r);
	if (!r->nc)
		fail(r, "cannot start a connection");
}

/* The oldest request waits too long: the server is stuck or too slow for us. */
static void tick(void *arg)
{
	struct net_redis *r = arg;
	if (r->head && net_loop_now_ms(r->loop) - r->head->sent_ms > r->o.timeout_ms) {
		char why[96];
		str_fmt(why, sizeof(why), "no answer within %lu ms", r->o.timeout_ms);
		fail(r, why);
	}
}

struct net_redis *net_redis_new(struct net_loop *l, const struct net_redis_opts *o)
{
	struct net_redis *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->loop = l;
	r->o = *o;
	if (!r->o.timeout_ms)
		r->o.timeout_ms = 2000;
	if (r->o.backoff_max_ms < BACKOFF_MIN_MS)
		r->o.backoff_max_ms = 5000;
	r->backoff = BACKOFF_MIN_MS;
	r->reported_up = -1; /* the first failure is reported too, not only changes */
	r->host = strdup(o->host);
	r->password = o->password ? strdup(o->password) : NULL;
	r->o.host = r->host;
	r->o.password = NULL;
	r->tick = net_timer_new(l, tick, r);
	r->retry = net_timer_new(l, reconnect, r);
	if (!r->host || (o->password && !r->password) || !r->tick || !r->retry) {
		net_redis_free(r);
		return NULL;
	}
	str_copy(r->err, "not connected yet", sizeof(r->err));
	net_timer_every(r->tick, TICK_MS);
	net_timer_arm(r->retry, 0);
	return r;
}

void net_redis_free(struct net_redis *r)
{
	if (!r)
		return;
	if (r->nc)
		net_conn_free(r->nc);
	r->nc = NULL;
	r->st = R_DOWN; /* a callback's new request is refused */
	r->o.on_state = NULL;
	while (r->head) {
		struct net_redis_req *q = r->head;
		r->head = q->next;
		if (!q->internal && q->cb)
			q->cb(NULL, 0, q->arg);
		net_redis_req_free(q);
	}
	if (r->tick)
		net_timer_free(r->tick);
	if (r->retry)
		net_timer_free(r->retry);
	free(r->in);
	free(r->host);
	secret_free_str(r->password);
	free(r);
}

int net_redis_up(const struct net_redis *r)
{
	return r && r->st == R_UP;
}

const char *net_redis_error(const struct net_redis *r)
{
	return r->st == R_UP ? "" : r->err;
}

size_t net_redis_pending(const struct net_redis *r)
{
	return r->npending;
}

int net_redis_submit(struct net_redis *r, struct net_redis_req *q, net_redis_cb cb, void *arg)
{
	if (!q || q->broken || q->ncmd == 0 || r->st != R_UP) {
		net_redis_req_free(q);
		return -1;
	}
	q->cb = cb;
	q->arg = arg;
	if (send_req(r, q) < 0) {
		net_redis_req_free(q);
		return -1;
	}
	return 0;
}
