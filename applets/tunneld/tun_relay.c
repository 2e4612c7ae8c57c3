/* tun_relay.c - tunneld's relay: connections, sessions and frame dispatch
 * (docs/tunnel-protocol.md is the contract, docs/tunneld.md the manual).
 *
 * Ownership: the relay owns sessions and connections (struct tconn). A session owns its
 * members; a member points at its tconn while attached (NULL while detached, waiting
 * for RESUME). A tconn is freed only when no callback runs for it (busy counter), so a
 * handler may close any connection, its own included.
 *
 * Memory bound: a connection reads at most one frame beyond what it has processed
 * (read limit), and a receiver's unsent output above pair_buffer pauses every sender
 * that writes to it until it drains; so buffers are O(connections * (max_frame +
 * pair_buffer)), whatever the peers do. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/encoding.h"
#include "core/log.h"
#include "core/str.h"
#include "core/tframe.h"
#include "crypto/crypto.h"
#include "crypto/tls.h"
#include "net/conn.h"
#include "net/loop.h"
#include "tun.h"

#define TOKEN_LEN 16
#define SWEEP_MS 250
#define HASH_BUCKETS 4096
#define DROP_CHUNK (32 * 1024)

enum cstate { CS_HTTP, CS_HELLO, CS_MEMBER };
enum tpath { P_TCP, P_HTTPS, P_HTTP };
static const char *const path_name[] = { "tcp", "https", "http" };

struct session;
struct member;

struct tconn {
	struct tun_relay *r;
	struct net_conn *nc;
	enum cstate state;
	enum tpath path;
	int busy, dead;
	struct session *s;
	struct member *m;
	uint32_t seq;
	unsigned long long born_ms;
	char peer[64], ip[48];
	char *head;              /* HTTP request head while in CS_HTTP */
	size_t head_len;
	unsigned head_lines;
	int blocked_on;          /* receivers this connection waits for */
	struct tconn **waiters;  /* senders paused because of this connection's output */
	size_t nwaiters, capwaiters;
	unsigned long long stalled_ms; /* when senders first had to wait for this one */
	struct tun_drop_put put;
	int put_active;
	int get_fd;
	unsigned long long get_left;
	char get_name[TUN_DROP_NAME_MAX + 1];
	struct tconn *prev, *next;
};

struct member {
	uint16_t id;
	uint8_t token[TOKEN_LEN];
	struct tconn *c;
	unsigned long long detached_ms;
	char addr[64];
	enum tpath path;
	unsigned long long bytes_in, bytes_out;
};

struct session {
	uint32_t number;
	struct member **m;
	size_t nm, capm;
	uint32_t next_id;
	unsigned clients_ever;
	unsigned long long created_ms, idle_since_ms, bytes;
	char lan[256];
	struct tun_drop drop;
	struct session *hnext, *prev, *next;
};

struct tun_relay {
	struct net_loop *loop;
	struct tun_conf *conf;
	struct tun_numbers numbers;
	struct tun_throttle thr;
	struct cry_tls_ctx *tls;
	struct net_listener *ls[3];
	struct net_timer *sweep;
	struct session *hash[HASH_BUCKETS];
	struct session *sessions;
	size_t nsessions;
	struct tconn *conns;
	size_t nconns;
	unsigned long long conn_refused, conn_refused_logged_ms;
	int stopping;            /* shutdown: keep closed conns so the END frames flush */
	unsigned long long last_close_ms; /* newest net_conn_close still possibly lingering */
	uint8_t *fbuf;           /* one frame being handled */
};

static void conn_close(struct tconn *c, const char *why);
static void process_input(struct tconn *c);
static void pump_get(struct tconn *c);

static unsigned long long now_ms(struct tun_relay *r)
{
	return net_loop_now_ms(r->loop);
}

/* ---- sending ---- */

static int send_frame(struct tconn *c, uint8_t type, uint16_t source, uint16_t target,
		      uint32_t seq, uint32_t ack, const void *p1, size_t l1, const void *p2, size_t l2)
{
	struct tframe_hdr h = { TFRAME_VERSION, type, source, target, seq, ack, (uint32_t)(l1 + l2) };
	uint8_t hb[TFRAME_HDR_LEN];

	if (c->dead)
		return -1;
	tframe_hdr_encode(&h, hb);
	if (net_conn_write(c->nc, hb, sizeof(hb)) < 0 || (l1 && net_conn_write(c->nc, p1, l1) < 0) ||
	    (l2 && net_conn_write(c->nc, p2, l2) < 0))
		return -1;
	return 0;
}

/* A control frame from the relay; ctl is "key=value\n" text. */
static void send_ctl(struct tconn *c, uint8_t type, const char *ctl, size_t len)
{
	send_frame(c, type, TF_ID_RELAY, c->m ? c->m->id : 0, ++c->seq, 0, ctl, len, NULL, 0);
}

struct ctl {
	char b[TFCTL_MAX_LEN];
	size_t n;
};

static void add(struct ctl *t, const char *k, const char *v)
{
	if (tfctl_add(t->b, sizeof(t->b), &t->n, k, v) < 0)
		log_debug("control value for %s dropped", k); /* only over-long text */
}

static void addu(struct ctl *t, const char *k, unsigned long long v)
{
	char s[24];
	str_fmt(s, sizeof(s), "%llu", v);
	add(t, k, s);
}

static void send_error(struct tconn *c, const char *code, const char *msg, int fatal)
{
	struct ctl t = { .n = 0 };
	add(&t, "code", code);
	add(&t, "msg", msg);
	send_ctl(c, TF_ERROR, t.b, t.n);
	if (fatal)
		conn_close(c, code);
}

static void protocol_error(struct tconn *c, const char *why)
{
	log_info("closing %s: %s", c->peer, why);
	send_error(c, "protocol", why, 1);
}

/* ---- backpressure ---- */

static void add_waiter(struct tconn *target, struct tconn *sender)
{
	for (size_t i = 0; i < target->nwaiters; i++)
		if (target->waiters[i] == sender)
			return;
	if (target->nwaiters == target->capwaiters) {
		size_t n = target->capwaiters ? target->capwaiters * 2 : 4;
		struct tconn **w = realloc(target->waiters, n * sizeof(*w));
		if (!w)
			return; /* then the sender is not paused: a bounded overshoot, no leak */
		target->waiters = w;
		target->capwaiters = n;
	}
	if (target->nwaiters == 0)
		target->stalled_ms = now_ms(target->r);
	target->waiters[target->nwaiters++] = sender;
	if (sender->blocked_on++ == 0)
		net_conn_pause_read(sender->nc);
}

static void unblock(struct tconn *sender)
{
	if (sender->blocked_on > 0 && --sender->blocked_on == 0 && !sender->dead)
		net_conn_resume_read(sender->nc); /* net/ delivers buffered input again */
}

static void wake_waiters(struct tconn *target)
{
	size_t n = target->nwaiters;
	target->nwaiters = 0;
	for (size_t i = 0; i < n; i++)
		unblock(target->waiters[i]);
}

/* sender goes away: take it off every receiver's list */
static void forget_sender(struct tconn *sender)
{
	for (struct tconn *t = sender->r->conns; t && sender->blocked_on; t = t->next)
		for (size_t i = 0; i < t->nwaiters; i++)
			if (t->waiters[i] == sender) {
				t->waiters[i] = t->waiters[--t->nwaiters];
				sender->blocked_on--;
				break;
			}
	sender->blocked_on = 0;
}

static void on_drain(struct net_conn *nc, void *arg)
{
	struct tconn *c = arg;
	(void)nc;
	c->busy++;
	wake_waiters(c);
	if (c->get_fd >= 0)
		pump_get(c);
	c->busy--;
	if (c->dead && !c->busy)
		conn_close(c, NULL);
}

/* Relays one frame to target; pauses the sender when the target is full. */
static void relay_to(struct tconn *from, struct member *to, const uint8_t *hdr, const uint8_t *p, size_t len)
{
	struct tconn *t = to->c;
	if (!t || t->dead)
		return; /* detached: dropped (tunnel-protocol.md 3.1) */
	if (net_conn_write(t->nc, hdr, TFRAME_HDR_LEN) < 0 || (len && net_conn_write(t->nc, p, len) < 0))
		return;
	to->bytes_out += len + TFRAME_HDR_LEN;
	if (net_conn_output_len(t->nc) > (size_t)from->r->conf->pair_buffer)
		add_waiter(t, from);
}

/* ---- sessions ---- */

static struct session *find_session(struct tun_relay *r, uint32_t number)
{
	for (struct session *s = r->hash[number % HASH_BUCKETS]; s; s = s->hnext)
		if (s->number == number)
			return s;
	return NULL;
}

static struct member *find_member(struct session *s, uint32_t id)
{
	for (size_t i = 0; i < s->nm; i++)
		if (s->m[i]->id == id)
			return s->m[i];
	return NULL;
}

static unsigned count_clients(const struct session *s)
{
	unsigned n = 0;
	for (size_t i = 0; i < s->nm; i++)
		if (s->m[i]->id != TF_ID_MASTER)
			n++;
	return n;
}

static void notify(struct session *s, uint16_t except, uint8_t type, const struct ctl *t)
{
	for (size_t i = 0; i < s->nm; i++)
		if (s->m[i]->id != except && s->m[i]->c && !s->m[i]->c->dead)
			send_ctl(s->m[i]->c, type, t->b, t->n);
}

static void token_hex(const struct member *m, char out[TOKEN_LEN * 2 + 1])
{
	hex_encode(m->token, TOKEN_LEN, out, TOKEN_LEN * 2 + 1, 0);
}

static void attach(struct tconn *c, struct session *s, struct member *m)
{
	c->state = CS_MEMBER;
	c->s = s;
	c->m = m;
	m->c = c;
	m->detached_ms = 0;
	m->path = c->path;
	str_copy(m->addr, c->peer, sizeof(m->addr));
	net_conn_set_idle_timeout(c->nc, (unsigned long)c->r->conf->dead_after * 1000);
}

static void drop_transfers(struct tconn *c)
{
	if (c->put_active && c->s)
		tun_drop_put_abort(&c->s->drop, &c->put);
	c->put_active = 0;
	if (c->get_fd >= 0)
		close(c->get_fd);
	c->get_fd = -1;
}

static void session_end(struct session *s, struct tun_relay *r, const char *reason)
{
	struct ctl t = { .n = 0 };
	add(&t, "reason", reason);
	log_info("session %u end reason=%s clients=%u bytes=%llu duration=%llus", (unsigned)s->number, reason,
		 s->clients_ever, s->bytes, (now_ms(r) - s->created_ms) / 1000);
	for (size_t i = 0; i < s->nm; i++) {
		struct tconn *c = s->m[i]->c;
		if (c && !c->dead) {
			send_ctl(c, TF_END, t.b, t.n);
			drop_transfers(c);
			c->s = NULL;
			c->m = NULL;
			conn_close(c, NULL);
		} else if (c) {
			c->s = NULL;
			c->m = NULL;
		}
		free(s->m[i]);
	}
	free(s->m);
	tun_drop_destroy(&s->drop);
	struct session **pp = &r->hash[s->number % HASH_BUCKETS];
	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
	if (s->prev)
		s->prev->next = s->next;
	else
		r->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	r->nsessions--;
	free(s);
}

/* A client leaves the session for good; everyone still there hears of it. */
static void member_remove(struct tun_relay *r, struct session *s, struct member *m, const char *reason)
{
	struct ctl t = { .n = 0 };
	char id[8];

	str_fmt(id, sizeof(id), "%u", m->id);
	add(&t, "id", id);
	add(&t, "reason", reason);
	for (size_t i = 0; i < s->nm; i++)
		if (s->m[i] == m) {
			s->m[i] = s->m[--s->nm];
			break;
		}
	if (m->c) {
		m->c->s = NULL;
		m->c->m = NULL;
	}
	log_info("session %u %s id=%u addr=%s path=%s in=%llu out=%llu", (unsigned)s->number,
		 strcmp(reason, "kicked") == 0 ? "kick" : "leave", m->id, m->addr, path_name[m->path],
		 m->bytes_in, m->bytes_out);
	notify(s, m->id, TF_PEER_LEFT, &t);
	free(m);
	if (count_clients(s) == 0)
		s->idle_since_ms = now_ms(r);
}

/* The link of a member dropped: keep its slot for resume_grace. */
static void member_detach(struct tconn *c)
{
	struct session *s = c->s;
	struct member *m = c->m;
	struct tun_relay *r = c->r;

	drop_transfers(c);
	c->s = NULL;
	c->m = NULL;
	m->c = NULL;
	if (r->conf->resume_grace > 0) {
		m->detached_ms = now_ms(r);
		log_debug("session %u id=%u detached (%s)", (unsigned)s->number, m->id, c->peer);
		return;
	}
	if (m->id == TF_ID_MASTER)
		session_end(s, r, "master-lost");
	else {
		member_remove(r, s, m, "lost");
	}
}

/* ---- connections ---- */

static void conn_free(struct tconn *c)
{
	struct tun_relay *r = c->r;
	if (c->prev)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	r->nconns--;
	free(c->waiters);
	free(c->head);
	free(c);
}

/* Closes c (flushing what was written to it) and detaches its member. Safe from any
 * handler: the struct itself goes when no callback for it is running. */
static void conn_close(struct tconn *c, const char *why)
{
	if (!c->dead) {
		c->dead = 1;
		if (why)
			log_debug("connection %s closed: %s", c->peer, why);
		forget_sender(c);
		wake_waiters(c);
		if (c->s && c->m)
			member_detach(c);
		drop_transfers(c);
		if (c->r->stopping) {
			/* tun_relay_free frees it once the loop had time to flush; a net_conn_close
			 * still lingering when the loop is freed would leak */
			net_conn_set_cbs(c->nc, NULL, NULL);
			return;
		}
		if (why && (strcmp(why, "stalled") == 0 || strcmp(why, "link lost") == 0 ||
			    strcmp(why, "peer closed") == 0)) {
			net_conn_free(c->nc); /* nobody there to read a goodbye */
		} else {
			net_conn_close(c->nc); /* flushes, then frees; no callback after this */
			c->r->last_close_ms = now_ms(c->r);
		}
		c->nc = NULL;
	}
	if (c->busy == 0 && !c->r->stopping)
		conn_free(c);
}

static void on_event(struct net_conn *nc, enum net_event ev, void *arg)
{
	struct tconn *c = arg;
	(void)nc;
	if (ev == NET_EV_TLS_READY || ev == NET_EV_CONNECTED)
		return;
	c->busy++;
	if (ev == NET_EV_TIMEOUT)   /* net says which: nothing received, or nothing taken */
		log_info("connection %s: %s", c->peer, net_conn_error(c->nc));
	else if (ev == NET_EV_ERROR)
		log_debug("connection %s: %s", c->peer, net_conn_error(c->nc));
	c->busy--;
	conn_close(c, ev == NET_EV_EOF ? "peer closed" : "link lost");
}

static void on_read(struct net_conn *nc, void *arg)
{
	struct tconn *c = arg;
	(void)nc;
	c->busy++;
	process_input(c);
	c->busy--;
	if (c->dead)
		conn_close(c, NULL);
}

static void accept_common(struct tun_relay *r, struct net_conn *nc, enum tpath path)
{
	static const struct net_conn_cbs cbs = { on_read, on_drain, on_event };
	if (r->nconns >= (size_t)r->conf->max_connections) {
		/* one log line per 10 s at most: a flood must not flood the log too */
		r->conn_refused++;
		if (now_ms(r) - r->conn_refused_logged_ms > 10000 || !r->conn_refused_logged_ms) {
			log_warn("max_connections (%ld) reached: closing new connections (%llu so far)",
				 r->conf->max_connections, r->conn_refused);
			r->conn_refused_logged_ms = now_ms(r);
		}
		net_conn_free(nc);
		return;
	}
	struct tconn *c = calloc(1, sizeof(*c));
	if (!c) {
		net_conn_free(nc);
		return;
	}
	r->nconns++;
	c->r = r;
	c->nc = nc;
	c->path = path;
	c->state = path == P_TCP ? CS_HELLO : CS_HTTP;
	c->get_fd = -1;
	c->put.fd = -1;
	c->born_ms = now_ms(r);
	str_copy(c->peer, net_conn_peer(nc), sizeof(c->peer));
	str_copy(c->ip, net_conn_peer_ip(nc), sizeof(c->ip));
	c->next = r->conns;
	if (r->conns)
		r->conns->prev = c;
	r->conns = c;
	net_conn_set_cbs(nc, &cbs, c);
	net_conn_set_read_limit(nc, (size_t)r->conf->max_frame + TFRAME_HDR_LEN + 16384);
	net_conn_set_write_low(nc, (size_t)r->conf->pair_buffer / 2);
	net_conn_set_max_line(nc, TUN_HTTP_MAX_HEADER);
	/* no idle timeout before joining: the sweep enforces hello_timeout from the first
	 * byte on (a trickle of bytes must not keep a connection alive), and can still say
	 * why; net/ refuses writes after its own timeout */
}

static void accept_tcp(struct net_conn *nc, void *arg) { accept_common(arg, nc, P_TCP); }
static void accept_https(struct net_conn *nc, void *arg) { accept_common(arg, nc, P_HTTPS); }
static void accept_http(struct net_conn *nc, void *arg) { accept_common(arg, nc, P_HTTP); }

/* ---- HTTP Upgrade ---- */

static void http_answer(struct tconn *c, int code)
{
	if (code == 101) {
		net_conn_printf(c->nc, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: sealbox-tunnel\r\n"
				       "Connection: Upgrade\r\n\r\n");
		c->state = CS_HELLO;
		free(c->head);
		c->head = NULL;
		return;
	}
	net_conn_printf(c->nc, "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
			       "Connection: close\r\n\r\n%s",
			code == 404 ? "404 Not Found" : "400 Bad Request", code == 404 ? 10 : 12,
			code == 404 ? "not found\n" : "bad request\n");
	log_info("closing %s: HTTP request answered %d", c->peer, code);
	conn_close(c, "http");
}

/* Returns 1 when the head is complete (and answered), 0 for more input. */
static int http_step(struct tconn *c)
{
	char *line;
	size_t len;
	int rc;

	while ((rc = net_conn_readline(c->nc, &line, &len)) == 1) {
		if (len == 0) {
			free(line);
			http_answer(c, c->head_lines ? tun_http_check(c->head, c->head_len) : 400);
			return 1;
		}
		if (c->head_lines == 0) {
			/* judge the request line at once: a non-HTTP client gets its 400 now,
			 * not after the hello timeout */
			line[len] = '\n';
			int rc1 = tun_http_check(line, len + 1);
			line[len] = '\0';
			if (rc1 == 400) {
				free(line);
				http_answer(c, 400);
				return 1;
			}
		}
		if (c->head_len + len + 1 > TUN_HTTP_MAX_HEADER || ++c->head_lines > TUN_HTTP_MAX_LINES) {
			free(line);
			http_answer(c, 400);
			return 1;
		}
		/* grown as needed: an idle HTTP connection costs its bytes, not 8 KiB */
		char *g = realloc(c->head, c->head_len + len + 1);
		if (!g) {
			free(line);
			conn_close(c, "out of memory");
			return 1;
		}
		c->head = g;
		memcpy(c->head + c->head_len, line, len);
		c->head_len += len;
		c->head[c->head_len++] = '\n';
		free(line);
	}
	if (rc < 0) {
		http_answer(c, 400);
		return 1;
	}
	return 0;
}

/* ---- control requests ---- */

static int parse_number(const struct tun_relay *r, const char *v, uint32_t *out)
{
	if (!v || strlen(v) != r->numbers.digits)
		return -1;
	uint32_t n = 0;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (uint32_t)(*p - '0');
	}
	*out = n;
	return 0;
}

static int parse_u32(const char *v, uint32_t max, uint32_t *out)
{
	unsigned long long n = 0;
	if (!v || !*v || strlen(v) > 12)
		return -1;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	if (n > max)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

static struct member *member_new(struct session *s, uint16_t id)
{
	struct member *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	if (s->nm == s->capm) {
		size_t n = s->capm ? s->capm * 2 : 2;
		struct member **a = realloc(s->m, n * sizeof(*a));
		if (!a) {
			free(m);
			return NULL;
		}
		s->m = a;
		s->capm = n;
	}
	if (cry_random(m->token, TOKEN_LEN) < 0) {
		free(m);
		return NULL;
	}
	m->id = id;
	s->m[s->nm++] = m;
	return m;
}

static void do_register(struct tconn *c, const struct tfctl *ctl)
{
	struct tun_relay *r = c->r;
	const char *v = tfctl_get(ctl, "version"), *lan = tfctl_get(ctl, "lan");
	uint32_t number;
	char tok[TOKEN_LEN * 2 + 1];

	if (!v || strcmp(v, "1") != 0) {
		protocol_error(c, "register: version must be 1");
		return;
	}
	if (lan && strlen(lan) >= sizeof(((struct session *)0)->lan)) {
		protocol_error(c, "register: lan too long");
		return;
	}
	if (tun_throttle_register(&r->thr, c->ip, now_ms(r)) != TUN_ALLOW) {
		log_info("refusing a session from %s: register_rate (%ld/min) reached", c->peer, r->conf->register_rate);
		send_error(c, "throttled", "too many sessions from this address", 1);
		return;
	}
	if (r->nsessions >= (size_t)r->conf->max_sessions) {
		log_warn("refusing a session from %s: max_sessions (%ld) reached", c->peer, r->conf->max_sessions);
		send_error(c, "full", "too many sessions", 1);
		return;
	}
	if (tun_numbers_issue(&r->numbers, &number) < 0) {
		int exhausted = errno == ENOSPC;
		if (exhausted)
			log_warn("refusing a session from %s: every %u-digit session number has been issued",
				 c->peer, r->numbers.digits);
		send_error(c, "full", exhausted ? "no session numbers left" : "cannot record a session number", 1);
		return;
	}
	struct session *s = calloc(1, sizeof(*s));
	struct member *m = s ? member_new(s, TF_ID_MASTER) : NULL;
	if (!m) {
		free(s);
		send_error(c, "full", "out of memory", 1);
		return;
	}
	s->number = number;
	s->next_id = TF_ID_FIRST_CLIENT;
	s->created_ms = s->idle_since_ms = now_ms(r);
	if (lan)
		str_copy(s->lan, lan, sizeof(s->lan));
	tun_drop_open(&s->drop, r->conf->state_dir, number);
	s->hnext = r->hash[number % HASH_BUCKETS];
	r->hash[number % HASH_BUCKETS] = s;
	s->next = r->sessions;
	if (r->sessions)
		r->sessions->prev = s;
	r->sessions = s;
	r->nsessions++;
	attach(c, s, m);

	struct ctl t = { .n = 0 };
	char num[16];
	str_fmt(num, sizeof(num), "%0*u", (int)r->numbers.digits, (unsigned)number);
	token_hex(m, tok);
	add(&t, "session", num);
	add(&t, "id", "1");
	add(&t, "token", tok);
	send_ctl(c, TF_REGISTERED, t.b, t.n);
	cry_wipe(tok, sizeof(tok));
	log_info("session %s start master=%s path=%s", num, c->peer, path_name[c->path]);
}

/* Throttle gate for JOIN/RESUME; closes c and returns -1 when refused. */
static int gate(struct tconn *c)
{
	enum tun_verdict v = tun_throttle_join(&c->r->thr, c->ip, now_ms(c->r));
	if (v == TUN_ALLOW)
		return 0;
	log_debug("join from %s refused: %s", c->peer, v == TUN_BLOCKED ? "address blocked" : "too many attempts");
	send_error(c, "throttled", v == TUN_BLOCKED ? "address blocked" : "too many join attempts", 1);
	return -1;
}

static void unknown_attempt(struct tconn *c, const char *code, const char *msg)
{
	if (tun_throttle_unknown(&c->r->thr, c->ip, now_ms(c->r)) == TUN_BLOCKED)
		log_warn("address %s blocked for %lds after too many unknown session numbers", c->ip,
			 c->r->conf->block_time);
	send_error(c, code, msg, 1);
}

static void do_join(struct tconn *c, const struct tfctl *ctl)
{
	struct tun_relay *r = c->r;
	uint32_t number;
	struct session *s;

	if (gate(c) < 0)
		return;
	if (parse_number(r, tfctl_get(ctl, "session"), &number) < 0 || !(s = find_session(r, number))) {
		log_debug("join from %s: no such session", c->peer);
		unknown_attempt(c, "no-such-session", "no such session");
		return;
	}
	if (count_clients(s) >= (unsigned)r->conf->max_clients || s->next_id > 65534) {
		send_error(c, "session-full", "the session has its maximum of clients", 1);
		return;
	}
	struct member *m = member_new(s, (uint16_t)s->next_id);
	if (!m) {
		send_error(c, "session-full", "out of memory", 1);
		return;
	}
	s->next_id++;
	s->clients_ever++;
	attach(c, s, m);

	struct ctl t = { .n = 0 };
	char num[16], tok[TOKEN_LEN * 2 + 1];
	str_fmt(num, sizeof(num), "%0*u", (int)r->numbers.digits, (unsigned)number);
	token_hex(m, tok);
	add(&t, "session", num);
	addu(&t, "id", m->id);
	add(&t, "token", tok);
	if (s->lan[0])
		add(&t, "lan", s->lan);
	send_ctl(c, TF_JOINED, t.b, t.n);
	cry_wipe(tok, sizeof(tok));

	struct ctl p = { .n = 0 };
	addu(&p, "id", m->id);
	add(&p, "addr", c->peer);
	add(&p, "path", path_name[c->path]);
	struct member *master = find_member(s, TF_ID_MASTER);
	if (master && master->c)
		send_ctl(master->c, TF_PEER_JOINED, p.b, p.n);
	log_info("session %s join id=%u addr=%s path=%s", num, m->id, c->peer, path_name[c->path]);
}

static void do_resume(struct tconn *c, const struct tfctl *ctl)
{
	struct tun_relay *r = c->r;
	uint32_t number, id;
	uint8_t tok[TOKEN_LEN];
	const char *th = tfctl_get(ctl, "token");
	struct session *s;
	struct member *m;

	if (gate(c) < 0)
		return;
	if (parse_number(r, tfctl_get(ctl, "session"), &number) < 0 || !(s = find_session(r, number))) {
		unknown_attempt(c, "no-such-session", "no such session");
		return;
	}
	if (parse_u32(tfctl_get(ctl, "id"), 65534, &id) < 0 || !(m = find_member(s, id)) || !th ||
	    strlen(th) != TOKEN_LEN * 2 || hex_decode(th, TOKEN_LEN * 2, tok, sizeof(tok)) != TOKEN_LEN ||
	    !cry_memeq(tok, m->token, TOKEN_LEN) || m->c) {
		log_info("resume from %s for session %u refused", c->peer, (unsigned)number);
		unknown_attempt(c, "refused", "cannot resume");
		return;
	}
	attach(c, s, m);
	struct ctl t = { .n = 0 };
	char num[16], hx[TOKEN_LEN * 2 + 1];
	str_fmt(num, sizeof(num), "%0*u", (int)r->numbers.digits, (unsigned)number);
	token_hex(m, hx);
	add(&t, "session", num);
	addu(&t, "id", m->id);
	add(&t, "token", hx);
	if (m->id != TF_ID_MASTER && s->lan[0])
		add(&t, "lan", s->lan);
	add(&t, "resumed", "1");
	send_ctl(c, m->id == TF_ID_MASTER ? TF_REGISTERED : TF_JOINED, t.b, t.n);
	cry_wipe(hx, sizeof(hx));
	struct ctl p = { .n = 0 };
	addu(&p, "id", m->id);
	add(&p, "addr", c->peer);
	add(&p, "path", path_name[c->path]);
	add(&p, "resumed", "1");
	notify(s, m->id, TF_PEER_JOINED, &p);
	log_info("session %s resume id=%u addr=%s path=%s", num, m->id, c->peer, path_name[c->path]);
}

static void do_kick(struct tconn *c, const struct tfctl *ctl)
{
	uint32_t id;
	struct member *m;

	if (c->m->id != TF_ID_MASTER) {
		send_error(c, "not-allowed", "only the master kicks", 0);
		return;
	}
	if (parse_u32(tfctl_get(ctl, "id"), 65534, &id) < 0 || id == TF_ID_MASTER ||
	    !(m = find_member(c->s, id))) {
		send_error(c, "no-such-peer", "no such participant", 0);
		return;
	}
	struct tconn *victim = m->c;
	if (victim) {
		struct ctl t = { .n = 0 };
		addu(&t, "id", id);
		add(&t, "reason", "kicked");
		send_ctl(victim, TF_PEER_LEFT, t.b, t.n);
		drop_transfers(victim);
	}
	member_remove(c->r, c->s, m, "kicked");
	if (victim)
		conn_close(victim, "kicked");
}

/* ---- file drop ---- */

static void drop_reply(struct tconn *c, const struct ctl *t, const void *data, size_t len)
{
	uint8_t head[2 + TFCTL_MAX_LEN];
	ssize_t hl = tfdrop_encode_head(head, sizeof(head), t->b, t->n);
	if (hl < 0)
		return;
	send_frame(c, TF_DROP, TF_ID_RELAY, c->m ? c->m->id : 0, ++c->seq, 0, head, (size_t)hl, data, len);
}

static void drop_error(struct tconn *c, const char *code, const char *name)
{
	struct ctl t = { .n = 0 };
	add(&t, "op", "error");
	add(&t, "code", code);
	if (name)
		add(&t, "name", name);
	drop_reply(c, &t, NULL, 0);
}

static void drop_ok(struct tconn *c, const char *name, const unsigned long long *size)
{
	struct ctl t = { .n = 0 };
	add(&t, "op", "ok");
	if (name)
		add(&t, "name", name);
	if (size)
		addu(&t, "size", *size);
	drop_reply(c, &t, NULL, 0);
}

static void pump_get(struct tconn *c)
{
	struct tun_relay *r = c->r;
	size_t chunk = DROP_CHUNK;
	if (chunk > (size_t)r->conf->max_frame - 64)
		chunk = (size_t)r->conf->max_frame - 64;
	while (c->get_fd >= 0 && !c->dead && net_conn_output_len(c->nc) < (size_t)r->conf->pair_buffer) {
		if (c->get_left == 0) {
			struct ctl t = { .n = 0 };
			add(&t, "op", "end");
			add(&t, "name", c->get_name);
			drop_reply(c, &t, NULL, 0);
			close(c->get_fd);
			c->get_fd = -1;
			return;
		}
		size_t want = c->get_left < chunk ? (size_t)c->get_left : chunk;
		ssize_t n = read(c->get_fd, r->fbuf, want);
		if (n <= 0) {
			close(c->get_fd);
			c->get_fd = -1;
			drop_error(c, "io", c->get_name);
			return;
		}
		struct ctl t = { .n = 0 };
		add(&t, "op", "data");
		drop_reply(c, &t, r->fbuf, (size_t)n);
		c->get_left -= (unsigned long long)n;
	}
}

static void do_drop(struct tconn *c, const uint8_t *payload, size_t len)
{
	struct tun_relay *r = c->r;
	struct session *s = c->s;
	static struct tfctl ctl; /* single-threaded; too big for the stack of a callback */
	const uint8_t *data;
	size_t dlen;

	if (tfdrop_parse(&ctl, payload, len, &data, &dlen) < 0) {
		protocol_error(c, "malformed drop frame");
		return;
	}
	const char *op = tfctl_get(&ctl, "op"), *name = tfctl_get(&ctl, "name");
	if (!op) {
		protocol_error(c, "drop frame without op");
		return;
	}
	if (r->conf->drop_quota == 0) {
		drop_error(c, "disabled", name);
		return;
	}
	if (strcmp(op, "data") == 0) {
		if (!c->put_active) {
			drop_error(c, "protocol", NULL);
			return;
		}
		const char *e = tun_drop_put_data(&s->drop, &c->put, data, dlen);
		if (e) {
			char n[TUN_DROP_NAME_MAX + 1];
			str_copy(n, c->put.name, sizeof(n));
			tun_drop_put_abort(&s->drop, &c->put);
			c->put_active = 0;
			drop_error(c, e, n);
			return;
		}
		if (tun_drop_put_done(&c->put)) {
			unsigned long long size = c->put.size;
			char n[TUN_DROP_NAME_MAX + 1];
			str_copy(n, c->put.name, sizeof(n));
			c->put_active = 0;
			e = tun_drop_put_commit(&s->drop, &c->put);
			if (e)
				drop_error(c, e, n);
			else {
				log_info("session %u drop put id=%u size=%llu", (unsigned)s->number, c->m->id, size);
				drop_ok(c, n, &size);
			}
		}
		return;
	}
	if (strcmp(op, "abort") == 0) {
		drop_transfers(c);
		drop_ok(c, NULL, NULL);
		return;
	}
	if (strcmp(op, "ls") == 0) {
		size_t ll;
		unsigned count;
		char *list = tun_drop_list_new(&s->drop, &ll, &count);
		if (!list) {
			drop_error(c, "io", NULL);
			return;
		}
		struct ctl t = { .n = 0 };
		add(&t, "op", "list");
		size_t room = (size_t)r->conf->max_frame - 2 - 64;
		if (ll > room) {
			/* cut at a line end so no entry is half there */
			while (ll > room || (ll && list[ll - 1] != '\n'))
				ll--;
			add(&t, "truncated", "1");
			count = 0;
			for (size_t i = 0; i < ll; i++)
				count += list[i] == '\n';
		}
		addu(&t, "count", count);
		drop_reply(c, &t, list, ll);
		free(list);
		return;
	}
	if (c->put_active || c->get_fd >= 0) {
		drop_error(c, "busy", name);
		return;
	}
	if (!name) {
		drop_error(c, "bad-name", NULL);
		return;
	}
	if (strcmp(op, "put") == 0) {
		const char *sz = tfctl_get(&ctl, "size");
		unsigned long long size = 0;
		if (!sz || !*sz || strlen(sz) > 15 || strspn(sz, "0123456789") != strlen(sz)) {
			drop_error(c, "protocol", name);
			return;
		}
		size = strtoull(sz, NULL, 10);
		const char *e = tun_drop_put_begin(&s->drop, &c->put, name, size,
						   (unsigned long long)r->conf->drop_quota,
						   (unsigned long long)r->conf->drop_max_size,
						   (unsigned)r->conf->drop_max_files);
		if (e) {
			drop_error(c, e, name);
			return;
		}
		c->put_active = 1;
		if (size == 0) {
			c->put_active = 0;
			e = tun_drop_put_commit(&s->drop, &c->put);
			if (e)
				drop_error(c, e, name);
			else
				drop_ok(c, name, &size);
		}
		return;
	}
	if (strcmp(op, "get") == 0) {
		unsigned long long size;
		int fd = tun_drop_get_open(&s->drop, name, &size);
		if (fd < 0) {
			drop_error(c, errno == ENOENT ? "no-such-file" : "io", name);
			return;
		}
		c->get_fd = fd;
		c->get_left = size;
		str_copy(c->get_name, name, sizeof(c->get_name));
		struct ctl t = { .n = 0 };
		add(&t, "op", "file");
		add(&t, "name", name);
		addu(&t, "size", size);
		drop_reply(c, &t, NULL, 0);
		pump_get(c);
		return;
	}
	if (strcmp(op, "del") == 0) {
		const char *e = tun_drop_del(&s->drop, name);
		if (e)
			drop_error(c, e, name);
		else
			drop_ok(c, name, NULL);
		return;
	}
	drop_error(c, "protocol", name);
}

/* ---- frame dispatch ---- */

static int is_relay_only(uint8_t type)
{
	return type == TF_REGISTERED || type == TF_JOINED || type == TF_PEER_JOINED ||
	       type == TF_PEER_LEFT || type == TF_ERROR;
}

static void handle_control(struct tconn *c, const struct tframe_hdr *h, const uint8_t *p)
{
	static struct tfctl ctl;
	if (tfctl_parse(&ctl, p, h->length) < 0) {
		protocol_error(c, "malformed control payload");
		return;
	}
	if (c->state == CS_HELLO) {
		switch (h->type) {
		case TF_REGISTER: do_register(c, &ctl); return;
		case TF_JOIN: do_join(c, &ctl); return;
		case TF_RESUME: do_resume(c, &ctl); return;
		default: break;
		}
		return;
	}
	switch (h->type) {
	case TF_KICK: do_kick(c, &ctl); return;
	case TF_END:
		if (c->m->id == TF_ID_MASTER)
			session_end(c->s, c->r, "ended");
		else {
			struct tconn *self = c;
			member_remove(c->r, c->s, c->m, "left");
			conn_close(self, "left");
		}
		return;
	default: break;
	}
}

static void handle_frame(struct tconn *c, const struct tframe_hdr *h, const uint8_t *hdr, const uint8_t *p)
{
	if (is_relay_only(h->type)) {
		protocol_error(c, "relay-only frame type from a participant");
		return;
	}
	if (c->state == CS_HELLO) {
		if (h->source != 0 || h->target != 0) {
			protocol_error(c, "source/target must be 0 before joining");
			return;
		}
		if (h->type == TF_PING) {
			send_frame(c, TF_PONG, 0, 0, ++c->seq, h->seq, NULL, 0, NULL, 0);
			return;
		}
		if (h->type != TF_REGISTER && h->type != TF_JOIN && h->type != TF_RESUME) {
			protocol_error(c, "register, join or resume first");
			return;
		}
		handle_control(c, h, p);
		return;
	}
	/* CS_MEMBER */
	struct session *s = c->s;
	struct member *me = c->m;
	if (h->source != me->id) {
		char why[64];
		str_fmt(why, sizeof(why), "spoofed source %u (assigned %u)", h->source, me->id);
		protocol_error(c, why);
		return;
	}
	me->bytes_in += h->length + TFRAME_HDR_LEN;
	s->bytes += h->length + TFRAME_HDR_LEN;
	if (h->type == TF_REGISTER || h->type == TF_JOIN || h->type == TF_RESUME) {
		protocol_error(c, "already in a session");
		return;
	}
	if ((h->type == TF_DATA || h->type == TF_PING || h->type == TF_PONG) && h->target != TF_ID_RELAY) {
		if (h->target == me->id) {
			protocol_error(c, "frame addressed to its sender");
			return;
		}
		if (h->target == TF_ID_ALL) {
			if (me->id != TF_ID_MASTER) {
				send_error(c, "not-allowed", "only the master broadcasts", 0);
				return;
			}
			for (size_t i = 0; i < s->nm && !c->dead; i++)
				if (s->m[i]->id != TF_ID_MASTER)
					relay_to(c, s->m[i], hdr, p, h->length);
			return;
		}
		struct member *to = find_member(s, h->target);
		if (to)
			relay_to(c, to, hdr, p, h->length);
		return;
	}
	if (h->target != TF_ID_RELAY) {
		protocol_error(c, "control frame not addressed to the relay");
		return;
	}
	switch (h->type) {
	case TF_PING:
		send_frame(c, TF_PONG, 0, me->id, ++c->seq, h->seq, NULL, 0, NULL, 0);
		return;
	case TF_PONG:
		return;
	case TF_DROP:
		do_drop(c, p, h->length);
		return;
	case TF_KICK:
	case TF_END:
		handle_control(c, h, p);
		return;
	default:
		protocol_error(c, "unknown frame type");
		return;
	}
}

static void process_input(struct tconn *c)
{
	struct tun_relay *r = c->r;
	uint8_t hb[TFRAME_HDR_LEN];
	struct tframe_hdr h;

	if (c->state == CS_HTTP && (!http_step(c) || c->dead))
		return;
	while (!c->dead && c->blocked_on == 0) {
		size_t have = net_conn_input_len(c->nc);
		if (have < TFRAME_HDR_LEN)
			return;
		net_conn_peek(c->nc, hb, sizeof(hb));
		if (tframe_hdr_decode(hb, sizeof(hb), (size_t)r->conf->max_frame, &h) < 0) {
			char why[96];
			if (hb[0] != TFRAME_VERSION)
				str_fmt(why, sizeof(why), "bad frame version %u", hb[0]);
			else
				str_fmt(why, sizeof(why), "frame of %u bytes over max_frame %lld",
					(unsigned)h.length, r->conf->max_frame);
			protocol_error(c, why);
			return;
		}
		if (have < TFRAME_HDR_LEN + (size_t)h.length)
			return;
		net_conn_read(c->nc, r->fbuf, TFRAME_HDR_LEN + h.length);
		handle_frame(c, &h, r->fbuf, r->fbuf + TFRAME_HDR_LEN);
	}
}

/* ---- timers ---- */

/* ms from since to now; 0 when since is later (set after now was read, during this
 * sweep: a member removed here restarts the session's idle time, and the unsigned
 * difference must not wrap into "idle for ages"). */
static unsigned long long elapsed(unsigned long long now, unsigned long long since)
{
	return now > since ? now - since : 0;
}

static void sweep(void *arg)
{
	struct tun_relay *r = arg;
	unsigned long long now = now_ms(r);
	struct tun_conf *cf = r->conf;

	for (struct tconn *c = r->conns, *n; c; c = n) {
		n = c->next;
		if (!c->dead && c->state != CS_MEMBER && elapsed(now, c->born_ms) > (unsigned long long)cf->hello_timeout * 1000) {
			log_info("closing %s: no register/join/resume in %lds", c->peer, cf->hello_timeout);
			if (c->state == CS_HELLO)
				send_error(c, "timeout", "too slow", 1);
			else
				conn_close(c, "timeout");
		}
	}
	/* A receiver that keeps its senders waiting for dead_after is not reading: drop its
	 * link (it may resume), so one stuck client cannot freeze a session and the
	 * master's KICK behind the paused input gets through. */
	for (struct tconn *c = r->conns, *n; c; c = n) {
		n = c->next;
		if (!c->dead && c->nwaiters && elapsed(now, c->stalled_ms) > (unsigned long long)cf->dead_after * 1000) {
			log_info("closing %s: not reading for %lds while others wait", c->peer, cf->dead_after);
			conn_close(c, "stalled");
		}
	}
	for (struct session *s = r->sessions, *n; s; s = n) {
		n = s->next;
		int ended = 0;
		for (size_t i = 0; i < s->nm && !ended;) {
			struct member *m = s->m[i];
			if (!m->c && elapsed(now, m->detached_ms) > (unsigned long long)cf->resume_grace * 1000) {
				if (m->id == TF_ID_MASTER) {
					session_end(s, r, "master-lost");
					ended = 1;
				} else
					member_remove(r, s, m, "lost");
				continue; /* the array shrank: same i again */
			}
			i++;
		}
		if (ended)
			continue;
		if (count_clients(s) == 0 && elapsed(now, s->idle_since_ms) > (unsigned long long)cf->idle_timeout * 1000)
			session_end(s, r, "timeout");
	}
}

/* ---- life cycle ---- */

static struct net_listener *listen_on(struct tun_relay *r, const char *addr, struct cry_tls_ctx *tls,
				      net_accept_cb cb, const char *what, char *err, size_t errlen)
{
	char e[256];
	struct net_listener *ls = net_listen(r->loop, addr, tls, cb, r, e, sizeof(e));
	if (!ls) {
		str_fmt(err, errlen, "%s %s: %s", what, addr, e);
		return NULL;
	}
	log_info("listening on %s (%s, port %d)", addr, what, net_listener_port(ls));
	return ls;
}

struct tun_relay *tun_relay_new(struct net_loop *loop, struct tun_conf *conf, char *err, size_t errlen)
{
	struct tun_relay *r = calloc(1, sizeof(*r));
	if (!r) {
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	r->loop = loop;
	r->conf = conf;
	r->fbuf = malloc(TFRAME_HDR_LEN + TFRAME_MAX_PAYLOAD);
	if (!r->fbuf) {
		str_copy(err, "out of memory", errlen);
		goto fail;
	}
	if (tun_numbers_open(&r->numbers, conf->state_dir, (unsigned)conf->digits, (unsigned)conf->low_water,
			     err, errlen) < 0)
		goto fail;
	log_info("session numbers: %u of %u left (digits=%ld)", (unsigned)tun_numbers_left(&r->numbers),
		 (unsigned)r->numbers.space, conf->digits);
	if (tun_numbers_left(&r->numbers) * 100ull < (unsigned long long)r->numbers.space * (unsigned)conf->low_water)
		log_warn("session numbers running low: %u left", (unsigned)tun_numbers_left(&r->numbers));
	tun_drop_purge_all(conf->state_dir);
	if (tun_throttle_init(&r->thr, (size_t)conf->throttle_table, conf->join_rate, conf->unknown_rate,
			      conf->block_time) < 0) {
		str_copy(err, "cannot set up the throttle table", errlen);
		goto fail;
	}
	r->thr.register_rate = conf->register_rate;
	if (!tun_conf_off(conf->https_listen)) {
		/* the HTTPS profile: AEAD-only TLS 1.2, session tickets (docs/crypto.md) */
		struct cry_tls_conf tc = { .server = 1, .cert_file = conf->tls_cert, .key_file = conf->tls_key,
					   .aead_only = 1, .session_tickets = 1 };
		if (!(r->tls = cry_tls_ctx_new(&tc, err, errlen)))
			goto fail;
	}
	if (!tun_conf_off(conf->listen) &&
	    !(r->ls[0] = listen_on(r, conf->listen, NULL, accept_tcp, "tcp", err, errlen)))
		goto fail;
	if (r->tls && !(r->ls[1] = listen_on(r, conf->https_listen, r->tls, accept_https, "https", err, errlen)))
		goto fail;
	if (!tun_conf_off(conf->http_listen) &&
	    !(r->ls[2] = listen_on(r, conf->http_listen, NULL, accept_http, "http", err, errlen)))
		goto fail;
	if (!(r->sweep = net_timer_new(loop, sweep, r))) {
		str_copy(err, "cannot create a timer", errlen);
		goto fail;
	}
	net_timer_every(r->sweep, SWEEP_MS);
	return r;
fail:
	tun_relay_free(r);
	return NULL;
}

void tun_relay_reload(struct tun_relay *r, struct tun_conf *n)
{
	struct tun_conf *o = r->conf;
	static const char *const fixed[] = { "listen", "https_listen", "http_listen", "tls_cert", "tls_key",
					     "state_dir", "digits", "user", "pidfile" };
	const char *ov[] = { o->listen, o->https_listen, o->http_listen, o->tls_cert, o->tls_key, o->state_dir,
			     NULL, o->user, o->pidfile };
	const char *nv[] = { n->listen, n->https_listen, n->http_listen, n->tls_cert, n->tls_key, n->state_dir,
			     NULL, n->user, n->pidfile };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		int differ = i == 6 ? o->digits != n->digits
				    : ((ov[i] == NULL) != (nv[i] == NULL) || (ov[i] && strcmp(ov[i], nv[i]) != 0));
		if (differ)
			log_warn("reload: %s changed; it takes effect after a restart", fixed[i]);
	}
	log_set_level((enum log_level)log_level_parse(n->log_level));
	free(o->log_level);
	o->log_level = n->log_level;
	n->log_level = NULL;
#define TAKE(f) o->f = n->f
	TAKE(low_water);
	TAKE(max_sessions);
	TAKE(max_clients);
	TAKE(max_frame);
	TAKE(idle_timeout);
	TAKE(hello_timeout);
	TAKE(dead_after);
	TAKE(resume_grace);
	TAKE(join_rate);
	TAKE(register_rate);
	TAKE(max_connections);
	TAKE(unknown_rate);
	TAKE(block_time);
	TAKE(pair_buffer);
	TAKE(drop_quota);
	TAKE(drop_max_size);
	TAKE(drop_max_files);
#undef TAKE
	r->numbers.low_water = (unsigned)o->low_water;
	tun_throttle_set_limits(&r->thr, o->join_rate, o->unknown_rate, o->block_time);
	r->thr.register_rate = o->register_rate;
	for (struct tconn *c = r->conns; c; c = c->next)
		if (!c->dead) {
			net_conn_set_read_limit(c->nc, (size_t)o->max_frame + TFRAME_HDR_LEN + 16384);
			net_conn_set_write_low(c->nc, (size_t)o->pair_buffer / 2);
		}
	tun_conf_free(n);
	free(n);
	log_info("configuration reloaded");
}

unsigned long tun_relay_shutdown(struct tun_relay *r)
{
	/* net/ lingers up to ~2 s after closing a connection whose peer has not closed yet */
	unsigned long long now = now_ms(r), until = r->last_close_ms ? r->last_close_ms + 2200 : 0;
	unsigned long wait = until > now ? (unsigned long)(until - now) : 0;
	for (int i = 0; i < 3; i++) {
		net_listener_free(r->ls[i]);
		r->ls[i] = NULL;
	}
	if (r->sweep)
		net_timer_cancel(r->sweep);
	r->stopping = 1;
	while (r->sessions)
		session_end(r->sessions, r, "shutdown");
	for (struct tconn *c = r->conns, *n; c; c = n) {
		n = c->next;
		conn_close(c, "shutdown");
	}
	return wait > 500 ? wait : 500;
}

void tun_relay_free(struct tun_relay *r)
{
	if (!r)
		return;
	tun_relay_shutdown(r);
	while (r->conns) {
		struct tconn *c = r->conns;
		if (c->nc)
			net_conn_free(c->nc);
		conn_free(c);
	}
	if (r->sweep)
		net_timer_free(r->sweep);
	cry_tls_ctx_free(r->tls);
	tun_throttle_free(&r->thr);
	tun_numbers_close(&r->numbers);
	free(r->fbuf);
	free(r);
}
