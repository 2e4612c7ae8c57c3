/* tun_cluster_ops.c - the requests that need the fleet: REGISTER burns its number in
 * Redis; a JOIN or RESUME for a number that is not live here asks Redis where it lives
 * and is redirected there, or (a RESUME whose relay is gone) takes the session over;
 * unknown numbers and attempts are counted per source for the whole fleet.
 *
 * While Redis answers, the connection waits (c->waiting: its input is paused and its
 * struct held by c->busy), so nothing else it sends is handled out of order. */
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/log.h"
#include "core/str.h"
#include "crypto/crypto.h"
#include "net/conn.h"
#include "net/redis.h"
#include "tun_cluster.h"
#include "tun_relay.h"

#define BURN_TRIES 32

/* Burns KEYS[1] (the number) for ever and, in the same step, creates the session's
 * hash: no relay can see the number taken but the session missing. */
static const char burn_lua[] =
	"if redis.call('SET', KEYS[1], ARGV[1], 'NX') then "
	"  local n = redis.call('INCR', KEYS[2]) "
	"  redis.call('HSET', KEYS[3], 'owner', ARGV[1], 'next', '2', 'lan', ARGV[3], 'h1', ARGV[2]) "
	"  redis.call('PEXPIRE', KEYS[3], ARGV[4]) "
	"  return n "
	"end "
	"return 0";

/* The throttle and the lookup in one step: a source blocked in the fleet (KEYS[2]) or
 * over join_rate (KEYS[3], counted here) learns nothing about the number;
 * a miss counts against unknown_rate (KEYS[4]) before it is answered, and the
 * unknown_rate-th blocks the source, so no guesser gets more misses than that however
 * fast or parallel its attempts. Then {'found', the session's hash, its owner's
 * heartbeat ('' when the owner is gone)}. A session whose owner is gone for longer than
 * a resume may take (P:g:OWNER expired) is a miss, as if its record had expired. */
static const char lookup_lua[] =
	"if redis.call('EXISTS', KEYS[2]) == 1 then return {'blocked'} end "
	"local j = redis.call('INCR', KEYS[3]) "
	"redis.call('PEXPIRE', KEYS[3], 60000, 'NX') "
	"if j > tonumber(ARGV[2]) then return {'join-rate'} end "
	"local h = redis.call('HGETALL', KEYS[1]) "
	"local o = false "
	"for i = 1, #h, 2 do if h[i] == 'owner' then o = h[i + 1] end end "
	"local info = o and redis.call('GET', ARGV[1] .. ':r:' .. o) "
	"if o and (info or redis.call('EXISTS', ARGV[1] .. ':g:' .. o) == 1) then return {'found', h, info or ''} end "
	"local u = redis.call('INCR', KEYS[4]) "
	"redis.call('PEXPIRE', KEYS[4], 60000, 'NX') "
	"if u >= tonumber(ARGV[3]) then "
	"  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4]) "
	"  return {'miss', u == tonumber(ARGV[3]) and 'now-blocked' or ''} "
	"end "
	"return {'miss', ''}";

/* Takes the session over only if the owner is still the one we saw gone and is gone
 * still (its heartbeat expired, its resume window open) - or is this relay itself (it
 * restarted: the record is of its previous life). The check and the move are one step,
 * so two relays never both own it and a relay that comes back loses nothing it holds. */
static const char takeover_lua[] =
	"local o = redis.call('HGET', KEYS[1], 'owner') "
	"if o ~= ARGV[1] then return 0 end "
	"if o ~= ARGV[2] and (redis.call('EXISTS', ARGV[4] .. ':r:' .. o) == 1 or "
	"    redis.call('EXISTS', ARGV[4] .. ':g:' .. o) == 0) then return 0 end "
	"redis.call('HSET', KEYS[1], 'owner', ARGV[2]) "
	"redis.call('PEXPIRE', KEYS[1], ARGV[3]) "
	"return 1";

enum { OP_REGISTER, OP_LOOKUP, OP_TAKEOVER };

struct tc_op {
	struct tconn *c;
	int kind, resume, tries;
	uint32_t number, id;
	uint8_t token[TOKEN_LEN];
	char lan[256];
	struct tc_sess sess;
};

void tc_token_hash(const uint8_t *token, size_t len, uint8_t out[CRY_SHA256_LEN])
{
	cry_sha256(token, len, out);
}

static void sess_key(const struct tun_relay *r, uint32_t number, char *out, size_t cap)
{
	str_fmt(out, cap, "%s:s%u:%u", r->cl->kp, r->numbers.digits, (unsigned)number);
}

static void addr_hex(const char *ip, char out[TUN_ADDR_KEY_LEN * 2 + 1])
{
	uint8_t k[TUN_ADDR_KEY_LEN];
	tun_addr_key(ip, k);
	hex_encode(k, sizeof(k), out, TUN_ADDR_KEY_LEN * 2 + 1, 0);
}

/* The connection waits for Redis; hold() before submitting, op_begin() first thing in
 * the callback (-1: it died meanwhile, and is gone now), op_end() last. */
static void hold(struct tconn *c)
{
	c->busy++;
	c->waiting = 1;
	net_conn_pause_read(c->nc);
}

static void op_free(struct tc_op *op)
{
	tc_sess_free(&op->sess);
	cry_wipe(op, sizeof(*op));
	free(op);
}

static int op_begin(struct tc_op *op)
{
	struct tconn *c = op->c;
	c->waiting = 0;
	if (!c->dead)
		return 0;
	if (--c->busy == 0)
		tr_conn_close(c, NULL);
	op_free(op);
	return -1;
}

static void op_end(struct tc_op *op)
{
	struct tconn *c = op->c;
	op_free(op);
	if (!c->dead && !c->waiting && c->blocked_on == 0)
		net_conn_resume_read(c->nc); /* what it sent meanwhile is handled now */
	if (--c->busy == 0 && c->dead)
		tr_conn_close(c, NULL);
}

void tc_redirect(struct tconn *c, const struct tc_relay_info *x, const char *reason)
{
	struct ctl t = { .n = 0 };
	tr_add(&t, "relay", x->id);
	if (x->tcp[0])
		tr_add(&t, "tcp", x->tcp);
	if (x->https[0])
		tr_add(&t, "https", x->https);
	if (x->http[0])
		tr_add(&t, "http", x->http);
	tr_add(&t, "reason", reason);
	tr_send_ctl(c, TF_REDIRECT, t.b, t.n);
	log_info("redirecting %s to relay %s (%s)", c->peer, x->id, reason);
	tr_conn_close(c, "redirected");
}

static void unavailable(struct tconn *c)
{
	struct tun_cluster *cl = c->r->cl;
	cl->refused++;
	if (tr_now_ms(c->r) - cl->refused_logged_ms > 10000 || !cl->refused_logged_ms) {
		log_warn("refusing a session from %s: the fleet's Redis is unreachable (%llu refused so far)", c->peer,
			 cl->refused);
		cl->refused_logged_ms = tr_now_ms(c->r);
	}
	tr_send_error(c, "unavailable", "the relay cannot reach the fleet's session store; try another relay", 1);
}

/* ---- REGISTER ---- */

static void burn_cb(struct resp_reply *rep, size_t n, void *arg);

static int submit_burn(struct tc_op *op)
{
	struct tun_relay *r = op->c->r;
	struct tun_cluster *cl = r->cl;
	char k1[128], k2[128], k3[128], hx[CRY_SHA256_LEN * 2 + 1], ttl[24];
	uint8_t h[CRY_SHA256_LEN];

	str_fmt(k1, sizeof(k1), "%s:n%u:%u", cl->kp, r->numbers.digits, (unsigned)op->number);
	str_fmt(k2, sizeof(k2), "%s:c%u", cl->kp, r->numbers.digits);
	sess_key(r, op->number, k3, sizeof(k3));
	tc_token_hash(op->token, TOKEN_LEN, h);
	hex_encode(h, sizeof(h), hx, sizeof(hx), 0);
	str_fmt(ttl, sizeof(ttl), "%llu", cl->rec_ttl_ms);
	const char *a[] = { "EVAL", burn_lua, "3", k1, k2, k3, r->conf->cl_relay_id, hx, op->lan, ttl };
	struct net_redis_req *q = net_redis_req_new();
	net_redis_req_add(q, (int)(sizeof(a) / sizeof(a[0])), a);
	return net_redis_submit(cl->rd, q, burn_cb, op);
}

static void refuse_full(struct tconn *c, const char *why)
{
	log_warn("refusing a session from %s: %s", c->peer, why);
	tr_send_error(c, "full", "no session numbers left", 1);
}

static void burn_cb(struct resp_reply *rep, size_t n, void *arg)
{
	struct tc_op *op = arg;
	if (op_begin(op) < 0)
		return;
	struct tconn *c = op->c;
	struct tun_relay *r = c->r;
	if (!rep || n != 1 || rep[0].type != RESP_INT) {
		if (rep && n == 1 && rep[0].type == RESP_ERROR)
			log_warn("fleet: Redis refused to burn a number: %.200s", rep[0].s);
		unavailable(c);
		op_end(op);
		return;
	}
	if (rep[0].i == 0) {
		/* another relay burned it (now or long ago): remember, try another */
		tun_numbers_mark(&r->numbers, op->number);
		if (++op->tries < BURN_TRIES && tun_numbers_pick(&r->numbers, &op->number) == 0) {
			c->waiting = 1;
			if (submit_burn(op) == 0)
				return;
			c->waiting = 0;
			unavailable(c);
		} else {
			refuse_full(c, tun_numbers_left(&r->numbers) ? "no free session number found in the fleet"
								 : "every session number has been issued in the fleet");
		}
		op_end(op);
		return;
	}
	tc_count_update(r->cl, (unsigned long long)rep[0].i);
	/* burned in the fleet already; the local record is a second copy, so its failure
	 * only costs the copy */
	if (tun_numbers_record(&r->numbers, op->number) < 0)
		log_warn("cannot record session number %u in %s/issued (it is burned in Redis)", (unsigned)op->number,
			 r->conf->state_dir);
	tr_session_new(c, op->number, op->lan[0] ? op->lan : NULL, op->token);
	op_end(op);
}

void tc_register(struct tconn *c, const char *lan)
{
	struct tun_relay *r = c->r;
	struct tun_cluster *cl = r->cl;
	if (r->draining) {
		const struct tc_relay_info *x = tc_pick_other(cl);
		if (x)
			tc_redirect(c, x, "draining");
		else
			tr_send_error(c, "unavailable", "this relay is draining and knows no other", 1);
		return;
	}
	if (!net_redis_up(cl->rd)) {
		uint32_t num;
		uint8_t tok[TOKEN_LEN];
		if (cl->nres && tc_reserve_issue(cl, &num) == 0) {
			/* Redis is away: a number of this relay's own reserved range */
			log_info("fleet: Redis unreachable; session %u from local_range", (unsigned)num);
			if (cry_random(tok, TOKEN_LEN) == 0)
				tr_session_new(c, num, lan, tok);
			else
				tr_send_error(c, "full", "no randomness", 1);
			cry_wipe(tok, sizeof(tok));
			return;
		}
		unavailable(c);
		return;
	}
	if ((cl->count_known && cl->fleet_count >= r->numbers.space) || tun_numbers_left(&r->numbers) == 0) {
		refuse_full(c, "every session number has been issued in the fleet");
		return;
	}
	struct tc_op *op = calloc(1, sizeof(*op));
	if (!op || cry_random(op->token, TOKEN_LEN) < 0 || tun_numbers_pick(&r->numbers, &op->number) < 0) {
		free(op);
		tr_send_error(c, "full", "out of memory", 1);
		return;
	}
	op->c = c;
	op->kind = OP_REGISTER;
	if (lan)
		str_copy(op->lan, lan, sizeof(op->lan));
	hold(c);
	if (submit_burn(op) < 0) {
		c->waiting = 0;
		unavailable(c);
		op_end(op);
	}
}

/* ---- JOIN / RESUME of a number not live here ---- */

static void lookup_cb(struct resp_reply *rep, size_t n, void *arg);

static int submit_lookup(struct tc_op *op)
{
	struct tconn *c = op->c;
	struct tun_cluster *cl = c->r->cl;
	const struct tun_conf *cf = c->r->conf;
	char a[TUN_ADDR_KEY_LEN * 2 + 1], k[128], kb[128], kj[128], ku[128], jr[24], ur[24], bt[24];
	addr_hex(c->ip, a);
	sess_key(c->r, op->number, k, sizeof(k));
	str_fmt(kb, sizeof(kb), "%s:b:%s", cl->kp, a);
	str_fmt(kj, sizeof(kj), "%s:j:%s", cl->kp, a);
	str_fmt(ku, sizeof(ku), "%s:u:%s", cl->kp, a);
	str_fmt(jr, sizeof(jr), "%ld", cf->join_rate);
	str_fmt(ur, sizeof(ur), "%ld", cf->unknown_rate);
	str_fmt(bt, sizeof(bt), "%llu", (unsigned long long)cf->block_time * 1000);
	struct net_redis_req *q = net_redis_req_new();
	const char *ev[] = { "EVAL", lookup_lua, "4", k, kb, kj, ku, cl->kp, jr, ur, bt };
	net_redis_req_add(q, (int)(sizeof(ev) / sizeof(ev[0])), ev);
	c->waiting = 1;
	if (net_redis_submit(cl->rd, q, lookup_cb, op) == 0)
		return 0;
	c->waiting = 0;
	return -1;
}

/* Not here, and the fleet cannot say where: as far as this relay knows, no such session.
 * count: 2 counted in the fleet already (the lookup did), 1 to count here and in the
 * fleet, 0 not an attempt to count. */
static void not_found(struct tconn *c, int count)
{
	if (count == 2)
		tr_unknown_local(c, "no-such-session", "no such session");
	else if (count)
		tr_unknown_attempt(c, "no-such-session", "no such session");
	else
		tr_send_error(c, "no-such-session", "no such session", 1);
}

static void takeover_cb(struct resp_reply *rep, size_t n, void *arg);

static void found_gone(struct tc_op *op)
{
	struct tconn *c = op->c;
	struct tun_relay *r = c->r;
	if (!op->resume) {
		log_info("join from %s: session %u's relay %s is gone (no resume yet)", c->peer, (unsigned)op->number,
			 op->sess.owner);
		not_found(c, 0);
		op_end(op);
		return;
	}
	uint8_t h[CRY_SHA256_LEN];
	const struct tc_member_hash *mh = NULL;
	tc_token_hash(op->token, TOKEN_LEN, h);
	for (size_t i = 0; i < op->sess.nm; i++)
		if (op->sess.m[i].id == op->id)
			mh = &op->sess.m[i];
	if (!mh || !cry_memeq(h, mh->h, sizeof(h))) {
		log_info("resume from %s for session %u refused", c->peer, (unsigned)op->number);
		tr_unknown_attempt(c, "refused", "cannot resume");
		op_end(op);
		return;
	}
	char k[128], ttl[24];
	sess_key(r, op->number, k, sizeof(k));
	str_fmt(ttl, sizeof(ttl), "%llu", r->cl->rec_ttl_ms);
	const char *a[] = { "EVAL", takeover_lua, "1", k, op->sess.owner, r->conf->cl_relay_id, ttl, r->cl->kp };
	struct net_redis_req *q = net_redis_req_new();
	net_redis_req_add(q, 8, a);
	op->kind = OP_TAKEOVER;
	c->waiting = 1;
	if (net_redis_submit(r->cl->rd, q, takeover_cb, op) == 0)
		return;
	c->waiting = 0;
	not_found(c, 0);
	op_end(op);
}

/* The session is live here now: the RESUME goes the local way (tr_do_resume checks the
 * token against the member's, as for any local resume). */
static void resume_here(struct tc_op *op)
{
	static struct tfctl ctl;
	char hex[TOKEN_LEN * 2 + 1], text[200];
	int n;

	hex_encode(op->token, TOKEN_LEN, hex, sizeof(hex), 0);
	n = snprintf(text, sizeof(text), "session=%0*u\nid=%u\ntoken=%s\n", (int)op->c->r->numbers.digits,
		     (unsigned)op->number, (unsigned)op->id, hex);
	if (n > 0 && (size_t)n < sizeof(text) && tfctl_parse(&ctl, (const uint8_t *)text, (size_t)n) == 0)
		tr_do_resume(op->c, &ctl);
	else
		not_found(op->c, 0);
	cry_wipe(hex, sizeof(hex));
	cry_wipe(text, sizeof(text));
	cry_wipe(&ctl, sizeof(ctl));
}

static void takeover_cb(struct resp_reply *rep, size_t n, void *arg)
{
	struct tc_op *op = arg;
	if (op_begin(op) < 0)
		return;
	struct tconn *c = op->c;
	if (!rep || n != 1 || rep[0].type != RESP_INT) {
		not_found(c, 0);
	} else if (rep[0].i == 0) {
		/* another relay took it over first: ask again, it will redirect there */
		tc_sess_free(&op->sess);
		op->kind = OP_LOOKUP;
		if (++op->tries < 3 && submit_lookup(op) == 0)
			return;
		not_found(c, 0);
	} else if (tr_find_session(c->r, op->number)) {
		/* taken over here by another member's RESUME a moment ago (the master and its
		 * clients resume at once after their relay died): resume this one locally too;
		 * a no-such-session here would end a participant that has every right to come back */
		resume_here(op);
	} else {
		log_info("session %u taken over from relay %s (resume of id %u from %s)", (unsigned)op->number,
			 op->sess.owner, (unsigned)op->id, c->peer);
		tr_session_adopt(c, op->number, &op->sess, op->id, op->token);
	}
	op_end(op);
}

static void lookup_cb(struct resp_reply *rep, size_t n, void *arg)
{
	struct tc_op *op = arg;
	if (op_begin(op) < 0)
		return;
	struct tconn *c = op->c;
	struct tun_relay *r = c->r;
	const struct resp_reply *st = rep && n == 1 && rep[0].type == RESP_ARRAY && rep[0].n >= 1 ? &rep[0].el[0] : NULL;
	if (!st || st->type != RESP_BULK) {
		if (rep && n == 1 && rep[0].type == RESP_ERROR)
			log_warn("fleet: Redis refused a session lookup: %.200s", rep[0].s);
		not_found(c, 1);
		op_end(op);
		return;
	}
	if (resp_is(st, "blocked")) {
		log_debug("join from %s refused: address blocked in the fleet", c->peer);
		tr_send_error(c, "throttled", "address blocked", 1);
		op_end(op);
		return;
	}
	if (resp_is(st, "join-rate")) {
		log_debug("join from %s refused: join_rate reached in the fleet", c->peer);
		tr_send_error(c, "throttled", "too many join attempts", 1);
		op_end(op);
		return;
	}
	if (resp_is(st, "miss")) {
		if (rep[0].n == 2 && resp_is(&rep[0].el[1], "now-blocked"))
			log_warn("address %s blocked in the fleet for %lds after too many unknown session numbers", c->ip,
				 r->conf->block_time);
		log_debug("join from %s: no such session in the fleet", c->peer);
		not_found(c, 2);
		op_end(op);
		return;
	}
	if (!resp_is(st, "found") || rep[0].n != 3 || rep[0].el[2].type != RESP_BULK) {
		not_found(c, 1);
		op_end(op);
		return;
	}
	int rc = tc_sess_parse(&rep[0].el[1], (size_t)r->conf->max_clients + 1, &op->sess);
	if (rc != 0) {
		if (rc < 0)
			log_warn("fleet: session %u has a malformed record in Redis; treated as absent", (unsigned)op->number);
		log_debug("join from %s: no such session in the fleet", c->peer);
		not_found(c, 1);
		op_end(op);
		return;
	}
	const struct resp_reply *info = &rep[0].el[2];
	if (info->len && strcmp(op->sess.owner, r->conf->cl_relay_id) != 0) {
		struct tc_relay_info x;
		memset(&x, 0, sizeof(x));
		str_copy(x.id, op->sess.owner, sizeof(x.id));
		if (tc_info_parse(info->s, info->len, &x) == 0) {
			tc_redirect(c, &x, "elsewhere");
			op_end(op);
			return;
		}
		log_warn("fleet: relay %s has a malformed heartbeat in Redis", op->sess.owner);
	}
	found_gone(op);
}

void tc_lookup(struct tconn *c, int resume, uint32_t number, const struct tfctl *ctl)
{
	struct tun_relay *r = c->r;
	if (!net_redis_up(r->cl->rd)) {
		not_found(c, 1); /* the local throttle still counts it */
		return;
	}
	struct tc_op *op = calloc(1, sizeof(*op));
	if (!op) {
		not_found(c, 0);
		return;
	}
	op->c = c;
	op->kind = OP_LOOKUP;
	op->resume = resume;
	op->number = number;
	if (resume) {
		const char *th = tfctl_get(ctl, "token"), *id = tfctl_get(ctl, "id");
		char *end = NULL;
		unsigned long v = id ? strtoul(id, &end, 10) : 0;
		if (!th || strlen(th) != TOKEN_LEN * 2 || hex_decode(th, TOKEN_LEN * 2, op->token, TOKEN_LEN) != TOKEN_LEN ||
		    !id || !*id || *end || v < 1 || v > 65534) {
			free(op);
			tr_unknown_attempt(c, "refused", "cannot resume");
			return;
		}
		op->id = (uint32_t)v;
	}
	hold(c);
	if (submit_lookup(op) < 0) {
		not_found(c, 1);
		op_end(op);
	}
}

/* ---- bookkeeping ---- */

/* Writes a local session's whole record again, unless another relay owns it now. */
static const char publish_lua[] =
	"local o = redis.call('HGET', KEYS[1], 'owner') "
	"if o and o ~= ARGV[1] then return 0 end "
	"redis.call('DEL', KEYS[1]) "
	"redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'next', ARGV[3], 'lan', ARGV[4]) "
	"for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end "
	"redis.call('PEXPIRE', KEYS[1], ARGV[2]) "
	"return 1";

void tc_republish(struct tun_cluster *cl)
{
	struct tun_relay *r = cl->r;
	char k[128], ttl[24], nx[16];
	str_fmt(ttl, sizeof(ttl), "%llu", cl->rec_ttl_ms);
	for (struct session *s = r->sessions; s; s = s->next) {
		size_t n = 8 + 2 * s->nm, a = 0;
		const char **argv = calloc(n, sizeof(*argv));
		char (*f)[16] = calloc(s->nm ? s->nm : 1, sizeof(*f));
		char (*hx)[CRY_SHA256_LEN * 2 + 1] = calloc(s->nm ? s->nm : 1, sizeof(*hx));
		if (!argv || !f || !hx) {
			free(argv);
			free(f);
			free(hx);
			return;
		}
		sess_key(r, s->number, k, sizeof(k));
		s->renewed_ms = tr_now_ms(r);
		str_fmt(nx, sizeof(nx), "%u", (unsigned)s->next_id);
		argv[a++] = "EVAL";
		argv[a++] = publish_lua;
		argv[a++] = "1";
		argv[a++] = k;
		argv[a++] = r->conf->cl_relay_id;
		argv[a++] = ttl;
		argv[a++] = nx;
		argv[a++] = s->lan;
		for (size_t i = 0; i < s->nm; i++) {
			const struct member *m = s->m[i];
			uint8_t h[CRY_SHA256_LEN];
			if (m->hash_only)
				memcpy(h, m->thash, sizeof(h));
			else
				tc_token_hash(m->token, TOKEN_LEN, h);
			str_fmt(f[i], sizeof(f[i]), "h%u", m->id);
			hex_encode(h, sizeof(h), hx[i], sizeof(hx[i]), 0);
			argv[a++] = f[i];
			argv[a++] = hx[i];
		}
		struct net_redis_req *q = net_redis_req_new();
		net_redis_req_add(q, (int)a, argv);
		net_redis_submit(cl->rd, q, tc_noop_cb, NULL);
		free(argv);
		free(f);
		free(hx);
	}
}

void tc_member_added(struct tun_relay *r, const struct session *s, const struct member *m)
{
	char k[128], f[16], nx[16], hx[CRY_SHA256_LEN * 2 + 1];
	uint8_t h[CRY_SHA256_LEN];
	sess_key(r, s->number, k, sizeof(k));
	str_fmt(f, sizeof(f), "h%u", m->id);
	str_fmt(nx, sizeof(nx), "%u", (unsigned)s->next_id);
	tc_token_hash(m->token, TOKEN_LEN, h);
	hex_encode(h, sizeof(h), hx, sizeof(hx), 0);
	const char *a[] = { "HSET", k, f, hx, "next", nx };
	struct net_redis_req *q = net_redis_req_new();
	net_redis_req_add(q, 6, a);
	net_redis_submit(r->cl->rd, q, tc_noop_cb, NULL);
}

void tc_member_removed(struct tun_relay *r, const struct session *s, const struct member *m)
{
	struct net_redis_req *q = net_redis_req_new();
	net_redis_req_addf(q, "HDEL %s:s%u:%u h%u", r->cl->kp, r->numbers.digits, (unsigned)s->number, m->id);
	net_redis_submit(r->cl->rd, q, tc_noop_cb, NULL);
}

/* Only the owner's end removes the record: a session another relay took over is not
 * this one's to delete. */
static const char end_lua[] =
	"if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then redis.call('DEL', KEYS[1]) end return 0";

void tc_session_ended(struct tun_relay *r, const struct session *s)
{
	char k[128];
	sess_key(r, s->number, k, sizeof(k));
	const char *a[] = { "EVAL", end_lua, "1", k, r->conf->cl_relay_id };
	struct net_redis_req *q = net_redis_req_new();
	net_redis_req_add(q, 5, a);
	net_redis_submit(r->cl->rd, q, tc_noop_cb, NULL);
}

struct unk {
	struct tun_cluster *cl;
	char a[TUN_ADDR_KEY_LEN * 2 + 1];
	char ip[48];
};

static void unknown_cb(struct resp_reply *rep, size_t n, void *arg)
{
	struct unk *u = arg;
	struct tun_cluster *cl = u->cl;
	const struct tun_conf *c = cl->r->conf;
	if (rep && n == 2 && rep[0].type == RESP_INT && rep[0].i == c->unknown_rate) {
		struct net_redis_req *q = net_redis_req_new();
		net_redis_req_addf(q, "SET %s:b:%s 1 PX %llu", cl->kp, u->a, (unsigned long long)c->block_time * 1000);
		net_redis_submit(cl->rd, q, tc_noop_cb, NULL);
		log_warn("address %s blocked in the fleet for %lds after too many unknown session numbers", u->ip,
			 c->block_time);
	}
	free(u);
}

void tc_unknown(struct tconn *c)
{
	struct tun_cluster *cl = c->r->cl;
	struct unk *u = calloc(1, sizeof(*u));
	if (!u || !net_redis_up(cl->rd)) {
		free(u);
		return;
	}
	u->cl = cl;
	addr_hex(c->ip, u->a);
	str_copy(u->ip, c->ip, sizeof(u->ip));
	struct net_redis_req *q = net_redis_req_new();
	net_redis_req_addf(q, "INCR %s:u:%s", cl->kp, u->a);
	net_redis_req_addf(q, "PEXPIRE %s:u:%s 60000 NX", cl->kp, u->a);
	if (net_redis_submit(cl->rd, q, unknown_cb, u) < 0)
		free(u);
}
