/* tun_relay.c - tunneld's relay: connections, sending, backpressure, the HTTP Upgrade,
 * frame dispatch and the life cycle (docs/tunnel-protocol.md is the contract,
 * docs/tunneld.md the manual; tun_relay.h lists the other parts and who owns what).
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
#include "tun_cluster.h"
#include "tun_relay.h"

#define SWEEP_MS 250

const char *const tr_path_name[] = { "tcp", "https", "http" };

static void process_input(struct tconn *c);

unsigned long long tr_now_ms(struct tun_relay *r)
{
	return net_loop_now_ms(r->loop);
}

/* ---- sending ---- */

int tr_send_frame(struct tconn *c, uint8_t type, uint16_t source, uint16_t target,
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
void tr_send_ctl(struct tconn *c, uint8_t type, const char *ctl, size_t len)
{
	tr_send_frame(c, type, TF_ID_RELAY, c->m ? c->m->id : 0, ++c->seq, 0, ctl, len, NULL, 0);
}

void tr_add(struct ctl *t, const char *k, const char *v)
{
	if (tfctl_add(t->b, sizeof(t->b), &t->n, k, v) < 0)
		log_debug("control value for %s dropped", k); /* only over-long text */
}

void tr_addu(struct ctl *t, const char *k, unsigned long long v)
{
	char s[24];
	str_fmt(s, sizeof(s), "%llu", v);
	tr_add(t, k, s);
}

void tr_send_error(struct tconn *c, const char *code, const char *msg, int fatal)
{
	struct ctl t = { .n = 0 };
	tr_add(&t, "code", code);
	tr_add(&t, "msg", msg);
	tr_send_ctl(c, TF_ERROR, t.b, t.n);
	if (fatal)
		tr_conn_close(c, code);
}

void tr_protocol_error(struct tconn *c, const char *why)
{
	log_info("closing %s: %s", c->peer, why);
	tr_send_error(c, "protocol", why, 1);
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
		target->stalled_ms = tr_now_ms(target->r);
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
		tr_pump_get(c);
	c->busy--;
	if (c->dead && !c->busy)
		tr_conn_close(c, NULL);
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
	tun_limits_conn_del(&r->lim, c->slot);
	free(c->waiters);
	free(c->head);
	free(c);
}

/* Closes c (flushing what was written to it) and detaches its member. Safe from any
 * handler: the struct itself goes when no callback for it is running. */
void tr_conn_close(struct tconn *c, const char *why)
{
	if (!c->dead) {
		c->dead = 1;
		if (why)
			log_debug("connection %s closed: %s", c->peer, why);
		forget_sender(c);
		wake_waiters(c);
		if (c->s && c->m)
			tr_member_detach(c);
		tr_drop_transfers(c);
		if (c->r->stopping) {
			/* tun_relay_free frees it once the loop had time to flush; a net_conn_close
			 * still lingering when the loop is freed would leak */
			net_conn_set_cbs(c->nc, NULL, NULL);
			return;
		}
		if (why && (strcmp(why, "stalled") == 0 || strcmp(why, "link lost") == 0 ||
			    strcmp(why, "peer closed") == 0 || strcmp(why, "replaced") == 0)) {
			net_conn_free(c->nc); /* nobody there to read a goodbye */
		} else {
			net_conn_close(c->nc); /* flushes, then frees; no callback after this */
			c->r->last_close_ms = tr_now_ms(c->r);
		}
		c->nc = NULL;
	}
	if (c->busy == 0 && !c->r->stopping && !c->r->walking)
		conn_free(c);
}

void tr_walk_begin(struct tun_relay *r)
{
	r->walking++;
}

void tr_walk_end(struct tun_relay *r)
{
	if (--r->walking > 0 || r->stopping)
		return;
	for (struct tconn *c = r->conns, *n; c; c = n) {
		n = c->next;
		if (c->dead && c->busy == 0)
			conn_free(c);
	}
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
	tr_conn_close(c, ev == NET_EV_EOF ? "peer closed" : "link lost");
}

static void on_read(struct net_conn *nc, void *arg)
{
	struct tconn *c = arg;
	(void)nc;
	c->busy++;
	process_input(c);
	c->busy--;
	if (c->dead)
		tr_conn_close(c, NULL);
}

static void accept_common(struct tun_relay *r, struct net_conn *nc, enum tpath path)
{
	static const struct net_conn_cbs cbs = { on_read, on_drain, on_event };
	if (r->nconns >= (size_t)r->conf->max_connections) {
		/* one log line per 10 s at most: a flood must not flood the log too */
		r->conn_refused++;
		if (tr_now_ms(r) - r->conn_refused_logged_ms > 10000 || !r->conn_refused_logged_ms) {
			log_warn("max_connections (%ld) reached: closing new connections (%llu so far)",
				 r->conf->max_connections, r->conn_refused);
			r->conn_refused_logged_ms = tr_now_ms(r);
		}
		net_conn_free(nc);
		return;
	}
	struct tun_addr_count *slot = tun_limits_conn_add(&r->lim, net_conn_peer_ip(nc), r->conf->max_connections_per_ip);
	if (!slot) {
		r->ip_refused++;
		if (tr_now_ms(r) - r->ip_refused_logged_ms > 10000 || !r->ip_refused_logged_ms) {
			log_warn("closing a new connection from %s: max_connections_per_ip (%ld) reached (%llu refused so far)",
				 net_conn_peer_ip(nc), r->conf->max_connections_per_ip, r->ip_refused);
			r->ip_refused_logged_ms = tr_now_ms(r);
		}
		net_conn_free(nc);
		return;
	}
	struct tconn *c = calloc(1, sizeof(*c));
	if (!c) {
		tun_limits_conn_del(&r->lim, slot);
		net_conn_free(nc);
		return;
	}
	c->slot = slot;
	r->nconns++;
	c->r = r;
	c->nc = nc;
	c->path = path;
	c->state = path == P_TCP ? CS_HELLO : CS_HTTP;
	c->get_fd = -1;
	c->put.fd = -1;
	c->born_ms = tr_now_ms(r);
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
	tr_conn_close(c, "http");
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
			tr_conn_close(c, "out of memory");
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

/* ---- frame dispatch ---- */

static int is_relay_only(uint8_t type)
{
	return type == TF_REGISTERED || type == TF_JOINED || type == TF_PEER_JOINED ||
	       type == TF_PEER_LEFT || type == TF_ERROR || type == TF_REDIRECT;
}

static void handle_control(struct tconn *c, const struct tframe_hdr *h, const uint8_t *p)
{
	static struct tfctl ctl;
	if (tfctl_parse(&ctl, p, h->length) < 0) {
		tr_protocol_error(c, "malformed control payload");
		return;
	}
	if (c->state == CS_HELLO) {
		switch (h->type) {
		case TF_REGISTER: tr_do_register(c, &ctl); return;
		case TF_JOIN: tr_do_join(c, &ctl); return;
		case TF_RESUME: tr_do_resume(c, &ctl); return;
		default: break;
		}
		return;
	}
	switch (h->type) {
	case TF_KICK: tr_do_kick(c, &ctl); return;
	case TF_END:
		if (c->m->id == TF_ID_MASTER)
			tr_session_end(c->s, c->r, "ended");
		else {
			struct tconn *self = c;
			tr_member_remove(c->r, c->s, c->m, "left");
			tr_conn_close(self, "left");
		}
		return;
	default: break;
	}
}

static void handle_frame(struct tconn *c, const struct tframe_hdr *h, const uint8_t *hdr, const uint8_t *p)
{
	if (is_relay_only(h->type)) {
		tr_protocol_error(c, "relay-only frame type from a participant");
		return;
	}
	if (c->state == CS_HELLO) {
		if (h->source != 0 || h->target != 0) {
			tr_protocol_error(c, "source/target must be 0 before joining");
			return;
		}
		if (h->type == TF_PING) {
			tr_send_frame(c, TF_PONG, 0, 0, ++c->seq, h->seq, NULL, 0, NULL, 0);
			return;
		}
		if (h->type != TF_REGISTER && h->type != TF_JOIN && h->type != TF_RESUME) {
			tr_protocol_error(c, "register, join or resume first");
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
		tr_protocol_error(c, why);
		return;
	}
	me->bytes_in += h->length + TFRAME_HDR_LEN;
	s->bytes += h->length + TFRAME_HDR_LEN;
	if (h->type == TF_REGISTER || h->type == TF_JOIN || h->type == TF_RESUME) {
		tr_protocol_error(c, "already in a session");
		return;
	}
	if ((h->type == TF_DATA || h->type == TF_PING || h->type == TF_PONG) && h->target != TF_ID_RELAY) {
		if (h->target == me->id) {
			tr_protocol_error(c, "frame addressed to its sender");
			return;
		}
		if (h->target == TF_ID_ALL) {
			if (me->id != TF_ID_MASTER) {
				tr_send_error(c, "not-allowed", "only the master broadcasts", 0);
				return;
			}
			for (size_t i = 0; i < s->nm && !c->dead; i++)
				if (s->m[i]->id != TF_ID_MASTER)
					relay_to(c, s->m[i], hdr, p, h->length);
			return;
		}
		struct member *to = tr_find_member(s, h->target);
		if (to)
			relay_to(c, to, hdr, p, h->length);
		return;
	}
	if (h->target != TF_ID_RELAY) {
		tr_protocol_error(c, "control frame not addressed to the relay");
		return;
	}
	switch (h->type) {
	case TF_PING:
		tr_send_frame(c, TF_PONG, 0, me->id, ++c->seq, h->seq, NULL, 0, NULL, 0);
		return;
	case TF_PONG:
		return;
	case TF_DROP:
		tr_do_drop(c, p, h->length);
		return;
	case TF_KICK:
	case TF_END:
		handle_control(c, h, p);
		return;
	default:
		tr_protocol_error(c, "unknown frame type");
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
	while (!c->dead && c->blocked_on == 0 && !c->waiting) {
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
			tr_protocol_error(c, why);
			return;
		}
		if (have < TFRAME_HDR_LEN + (size_t)h.length)
			return;
		net_conn_read(c->nc, r->fbuf, TFRAME_HDR_LEN + h.length);
		handle_frame(c, &h, r->fbuf, r->fbuf + TFRAME_HDR_LEN);
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
	if (conf->cl_redis) {
		/* the fleet's count decides low water (tun_cluster.c); the local file is a copy */
		r->numbers.low_water = 0;
		if (!(r->cl = tc_new(r, err, errlen)))
			goto fail;
	}
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
	if (tun_limits_init(&r->lim, conf->register_rate_total, tr_now_ms(r)) < 0) {
		str_copy(err, "cannot set up the connection limits", errlen);
		goto fail;
	}
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
	if (!(r->sweep = net_timer_new(loop, tr_sweep, r))) {
		str_copy(err, "cannot create a timer", errlen);
		goto fail;
	}
	net_timer_every(r->sweep, SWEEP_MS);
	return r;
fail:
	tun_relay_free(r);
	return NULL;
}

/* SIGHUP: the keys marked CONF_RELOAD are already in r->conf (core/daemon.c copied
 * them); what derives from them is set here. */
void tun_relay_apply_conf(struct tun_relay *r)
{
	const struct tun_conf *o = r->conf;
	if (!r->cl) /* a fleet relay counts the fleet's numbers (tun_cluster.c) */
		r->numbers.low_water = (unsigned)o->low_water;
	tun_throttle_set_limits(&r->thr, o->join_rate, o->unknown_rate, o->block_time);
	r->thr.register_rate = o->register_rate;
	r->lim.reg_rate = o->register_rate_total;
	for (struct tconn *c = r->conns; c; c = c->next)
		if (!c->dead) {
			net_conn_set_read_limit(c->nc, (size_t)o->max_frame + TFRAME_HDR_LEN + 16384);
			net_conn_set_write_low(c->nc, (size_t)o->pair_buffer / 2);
		}
	log_info("configuration reloaded");
}

void tun_relay_drain(struct tun_relay *r)
{
	if (!r->cl) {
		log_info("SIGUSR1: draining needs [cluster] (there is no other relay to send anyone to); ignored");
		return;
	}
	if (r->draining)
		return;
	r->draining = 1;
	tc_drain(r->cl);
}

unsigned long tun_relay_shutdown(struct tun_relay *r)
{
	/* net/ lingers up to ~2 s after closing a connection whose peer has not closed yet */
	unsigned long long now = tr_now_ms(r), until = r->last_close_ms ? r->last_close_ms + 2200 : 0;
	unsigned long wait = until > now ? (unsigned long)(until - now) : 0;
	for (int i = 0; i < 3; i++) {
		net_listener_free(r->ls[i]);
		r->ls[i] = NULL;
	}
	if (r->sweep)
		net_timer_cancel(r->sweep);
	r->stopping = 1;
	if (r->cl && r->draining && !r->handoff) {
		/* a drained relay of a fleet hands its sessions over instead of ending them:
		 * its heartbeat goes at once, the links just close, and the participants
		 * RESUME through another relay, which takes each session over (3.2, 3.4) */
		r->handoff = 1;
		tc_handoff(r->cl);
	}
	while (r->sessions && !r->handoff)
		tr_session_end(r->sessions, r, "shutdown");
	for (struct tconn *c = r->conns, *n; c; c = n) {
		n = c->next;
		tr_conn_close(c, "shutdown");
	}
	return wait > 500 ? wait : 500;
}

void tun_relay_free(struct tun_relay *r)
{
	if (!r)
		return;
	tun_relay_shutdown(r);
	tc_free(r->cl); /* no Redis callback after this: conns waiting for one are freed below */
	r->cl = NULL;
	while (r->sessions) /* handed over: their links are closed, nobody hears an END */
		tr_session_end(r->sessions, r, "handed-over");
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
	tun_limits_free(&r->lim);
	tun_numbers_close(&r->numbers);
	free(r->fbuf);
	free(r);
}

