/* tun_session.c - sessions and their members; the REGISTER, JOIN, RESUME and KICK
 * requests (tunnel-protocol.md 3, 3.2). */
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
#include "net/conn.h"
#include "tun_cluster.h"
#include "tun_relay.h"

/* ---- sessions ---- */

struct session *tr_find_session(struct tun_relay *r, uint32_t number)
{
	for (struct session *s = r->hash[number % HASH_BUCKETS]; s; s = s->hnext)
		if (s->number == number)
			return s;
	return NULL;
}

struct member *tr_find_member(struct session *s, uint32_t id)
{
	for (size_t i = 0; i < s->nm; i++)
		if (s->m[i]->id == id)
			return s->m[i];
	return NULL;
}

unsigned tr_count_clients(const struct session *s)
{
	unsigned n = 0;
	for (size_t i = 0; i < s->nm; i++)
		if (s->m[i]->id != TF_ID_MASTER)
			n++;
	return n;
}

void tr_notify(struct session *s, uint16_t except, uint8_t type, const struct ctl *t)
{
	for (size_t i = 0; i < s->nm; i++)
		if (s->m[i]->id != except && s->m[i]->c && !s->m[i]->c->dead)
			tr_send_ctl(s->m[i]->c, type, t->b, t->n);
}

static void token_hex(const struct member *m, char out[TOKEN_LEN * 2 + 1])
{
	hex_encode(m->token, TOKEN_LEN, out, TOKEN_LEN * 2 + 1, 0);
}

void tr_attach(struct tconn *c, struct session *s, struct member *m)
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

void tr_session_end(struct session *s, struct tun_relay *r, const char *reason)
{
	struct ctl t = { .n = 0 };
	tr_add(&t, "reason", reason);
	log_info("session %u end reason=%s clients=%u bytes=%llu duration=%llus", (unsigned)s->number, reason,
		 s->clients_ever, s->bytes, (tr_now_ms(r) - s->created_ms) / 1000);
	for (size_t i = 0; i < s->nm; i++) {
		struct tconn *c = s->m[i]->c;
		if (c && !c->dead) {
			tr_send_ctl(c, TF_END, t.b, t.n);
			tr_drop_transfers(c);
			c->s = NULL;
			c->m = NULL;
			tr_conn_close(c, NULL);
		} else if (c) {
			c->s = NULL;
			c->m = NULL;
		}
		free(s->m[i]);
	}
	free(s->m);
	if (r->cl)
		tc_session_ended(r, s);
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
void tr_member_remove(struct tun_relay *r, struct session *s, struct member *m, const char *reason)
{
	struct ctl t = { .n = 0 };
	char id[8];

	str_fmt(id, sizeof(id), "%u", m->id);
	tr_add(&t, "id", id);
	tr_add(&t, "reason", reason);
	for (size_t i = 0; i < s->nm; i++)
		if (s->m[i] == m) {
			s->m[i] = s->m[--s->nm];
			break;
		}
	if (m->c) {
		/* its transfers belong to this session's drop: abort them while c->s still
		 * says which one (conn_close after this no longer knows) */
		tr_drop_transfers(m->c);
		m->c->s = NULL;
		m->c->m = NULL;
	}
	if (r->cl)
		tc_member_removed(r, s, m);
	log_info("session %u %s id=%u addr=%s path=%s in=%llu out=%llu", (unsigned)s->number,
		 strcmp(reason, "kicked") == 0 ? "kick" : "leave", m->id, m->addr, tr_path_name[m->path],
		 m->bytes_in, m->bytes_out);
	tr_notify(s, m->id, TF_PEER_LEFT, &t);
	free(m);
	if (tr_count_clients(s) == 0)
		s->idle_since_ms = tr_now_ms(r);
}

/* The link of a member dropped: keep its slot for resume_grace. */
void tr_member_detach(struct tconn *c)
{
	struct session *s = c->s;
	struct member *m = c->m;
	struct tun_relay *r = c->r;

	tr_drop_transfers(c);
	c->s = NULL;
	c->m = NULL;
	m->c = NULL;
	if (r->conf->resume_grace > 0) {
		m->detached_ms = tr_now_ms(r);
		log_debug("session %u id=%u detached (%s)", (unsigned)s->number, m->id, c->peer);
		return;
	}
	if (m->id == TF_ID_MASTER)
		tr_session_end(s, r, "master-lost");
	else {
		tr_member_remove(r, s, m, "lost");
	}
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

/* resume_window=S in REGISTERED/JOINED: how long after losing its link a participant
 * should keep trying to RESUME. The relay may take dead_after to notice a silent link
 * and then keeps the slot for resume_grace, so anything shorter can give up on a slot
 * that is still there (tunnel-protocol.md 3.2). */
static void add_window(struct ctl *t, const struct tun_relay *r)
{
	if (r->conf->resume_grace > 0)
		tr_addu(t, "resume_window", (unsigned long long)(r->conf->dead_after + r->conf->resume_grace));
}

/* PEER_JOINED for the others: m is (back) on c. */
static void peer_joined(struct ctl *p, const struct tconn *c, const struct member *m, int resumed)
{
	p->n = 0;
	tr_addu(p, "id", m->id);
	tr_add(p, "addr", c->peer);
	tr_add(p, "path", tr_path_name[c->path]);
	if (resumed)
		tr_add(p, "resumed", "1");
}

/* REGISTERED (master) or JOINED (client) for m on c: session, id, token, resume_window,
 * a client also the master's lan; resumed=1 after a RESUME. num: the session as text. */
static void send_welcome(struct tconn *c, struct session *s, struct member *m, int resumed, char num[16])
{
	struct tun_relay *r = c->r;
	struct ctl t = { .n = 0 };
	char tok[TOKEN_LEN * 2 + 1];

	str_fmt(num, 16, "%0*u", (int)r->numbers.digits, (unsigned)s->number);
	token_hex(m, tok);
	tr_add(&t, "session", num);
	tr_addu(&t, "id", m->id);
	tr_add(&t, "token", tok);
	add_window(&t, r);
	if (m->id != TF_ID_MASTER && s->lan[0])
		tr_add(&t, "lan", s->lan);
	if (resumed)
		tr_add(&t, "resumed", "1");
	tr_send_ctl(c, m->id == TF_ID_MASTER ? TF_REGISTERED : TF_JOINED, t.b, t.n);
	cry_wipe(tok, sizeof(tok));
	cry_wipe(&t, sizeof(t)); /* it held the token too */
}

static struct member *member_new(struct session *s, uint16_t id, const uint8_t *token)
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
	if (token)
		memcpy(m->token, token, TOKEN_LEN);
	else if (cry_random(m->token, TOKEN_LEN) < 0) {
		free(m);
		return NULL;
	}
	m->id = id;
	s->m[s->nm++] = m;
	return m;
}

void tr_do_register(struct tconn *c, const struct tfctl *ctl)
{
	struct tun_relay *r = c->r;
	const char *v = tfctl_get(ctl, "version"), *lan = tfctl_get(ctl, "lan");
	uint32_t number;

	if (!v || strcmp(v, "1") != 0) {
		tr_protocol_error(c, "register: version must be 1");
		return;
	}
	if (lan && strlen(lan) >= sizeof(((struct session *)0)->lan)) {
		tr_protocol_error(c, "register: lan too long");
		return;
	}
	if (tun_throttle_register(&r->thr, c->ip, tr_now_ms(r)) != TUN_ALLOW) {
		log_info("refusing a session from %s: register_rate (%ld/min) reached", c->peer, r->conf->register_rate);
		tr_send_error(c, "throttled", "too many sessions from this address", 1);
		return;
	}
	if (tun_limits_register(&r->lim, tr_now_ms(r)) < 0) {
		/* every source together: many IPv6 /64s each have their own register_rate */
		r->reg_refused++;
		if (tr_now_ms(r) - r->reg_refused_logged_ms > 10000 || !r->reg_refused_logged_ms) {
			log_warn("refusing a session from %s: register_rate_total (%ld/min) reached (%llu refused so far)",
				 c->peer, r->conf->register_rate_total, r->reg_refused);
			r->reg_refused_logged_ms = tr_now_ms(r);
		}
		tr_send_error(c, "throttled", "too many new sessions; try again in a minute", 1);
		return;
	}
	if (r->nsessions >= (size_t)r->conf->max_sessions) {
		log_warn("refusing a session from %s: max_sessions (%ld) reached", c->peer, r->conf->max_sessions);
		tr_send_error(c, "full", "too many sessions", 1);
		return;
	}
	if (r->cl) {
		tc_register(c, lan); /* the number is burned in the fleet's Redis */
		return;
	}
	if (tun_numbers_issue(&r->numbers, &number) < 0) {
		/* errno alone cannot tell: ENOSPC is also a full disk */
		int exhausted = tun_numbers_left(&r->numbers) == 0, e = errno;
		if (exhausted)
			log_warn("refusing a session from %s: every %u-digit session number has been issued",
				 c->peer, r->numbers.digits);
		else
			log_warn("refusing a session from %s: cannot record its number in %s/issued (%s)", c->peer,
				 r->conf->state_dir, strerror(e));
		tr_send_error(c, "full", exhausted ? "no session numbers left" : "the relay cannot record a session number",
			      1);
		return;
	}
	tr_session_new(c, number, lan, NULL);
}

static struct session *session_alloc(struct tun_relay *r, uint32_t number, const char *lan)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->number = number;
	s->next_id = TF_ID_FIRST_CLIENT;
	s->created_ms = s->idle_since_ms = tr_now_ms(r);
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
	return s;
}

struct session *tr_session_new(struct tconn *c, uint32_t number, const char *lan, const uint8_t *token)
{
	struct tun_relay *r = c->r;
	struct session *s = session_alloc(r, number, lan);
	struct member *m = s ? member_new(s, TF_ID_MASTER, token) : NULL;
	if (!m) {
		if (s)
			tr_session_end(s, r, "out of memory");
		tr_send_error(c, "full", "out of memory", 1);
		return NULL;
	}
	tr_attach(c, s, m);

	char num[16];
	send_welcome(c, s, m, 0, num);
	log_info("session %s start master=%s path=%s", num, c->peer, tr_path_name[c->path]);
	return s;
}

static int token_matches(const struct member *m, const uint8_t tok[TOKEN_LEN])
{
	if (!m->hash_only)
		return cry_memeq(tok, m->token, TOKEN_LEN);
	uint8_t h[CRY_SHA256_LEN];
	tc_token_hash(tok, TOKEN_LEN, h);
	return cry_memeq(h, m->thash, sizeof(h));
}

/* Throttle gate for JOIN/RESUME; closes c and returns -1 when refused. */
static int gate(struct tconn *c)
{
	enum tun_verdict v = tun_throttle_join(&c->r->thr, c->ip, tr_now_ms(c->r));
	if (v == TUN_ALLOW)
		return 0;
	log_debug("join from %s refused: %s", c->peer, v == TUN_BLOCKED ? "address blocked" : "too many attempts");
	tr_send_error(c, "throttled", v == TUN_BLOCKED ? "address blocked" : "too many join attempts", 1);
	return -1;
}

void tr_unknown_attempt(struct tconn *c, const char *code, const char *msg)
{
	if (c->r->cl)
		tc_unknown(c);
	tr_unknown_local(c, code, msg);
}

void tr_unknown_local(struct tconn *c, const char *code, const char *msg)
{
	if (tun_throttle_unknown(&c->r->thr, c->ip, tr_now_ms(c->r)) == TUN_BLOCKED)
		log_warn("address %s blocked for %lds after too many unknown session numbers", c->ip,
			 c->r->conf->block_time);
	tr_send_error(c, code, msg, 1);
}

void tr_do_join(struct tconn *c, const struct tfctl *ctl)
{
	struct tun_relay *r = c->r;
	uint32_t number;
	struct session *s;

	if (gate(c) < 0)
		return;
	if (parse_number(r, tfctl_get(ctl, "session"), &number) == 0 && r->cl && !tr_find_session(r, number)) {
		tc_lookup(c, 0, number, ctl); /* another relay of the fleet may hold it */
		return;
	}
	if (parse_number(r, tfctl_get(ctl, "session"), &number) < 0 || !(s = tr_find_session(r, number))) {
		log_debug("join from %s: no such session", c->peer);
		tr_unknown_attempt(c, "no-such-session", "no such session");
		return;
	}
	if (tr_count_clients(s) >= (unsigned)r->conf->max_clients || s->next_id > 65534) {
		tr_send_error(c, "session-full", "the session has its maximum of clients", 1);
		return;
	}
	struct member *m = member_new(s, (uint16_t)s->next_id, NULL);
	if (!m) {
		tr_send_error(c, "session-full", "out of memory", 1);
		return;
	}
	s->next_id++;
	if (r->cl)
		tc_member_added(r, s, m);
	s->clients_ever++;
	tr_attach(c, s, m);

	char num[16];
	send_welcome(c, s, m, 0, num);

	struct ctl p;
	peer_joined(&p, c, m, 0);
	struct member *master = tr_find_member(s, TF_ID_MASTER);
	if (master && master->c)
		tr_send_ctl(master->c, TF_PEER_JOINED, p.b, p.n);
	log_info("session %s join id=%u addr=%s path=%s", num, m->id, c->peer, tr_path_name[c->path]);
}

/* m is back on c: REGISTERED/JOINED resumed=1, PEER_JOINED resumed=1 for the others. */
static void resumed_on(struct tconn *c, struct session *s, struct member *m)
{
	tr_attach(c, s, m);
	char num[16];
	send_welcome(c, s, m, 1, num);
	struct ctl p;
	peer_joined(&p, c, m, 1);
	tr_notify(s, m->id, TF_PEER_JOINED, &p);
	log_info("session %s resume id=%u addr=%s path=%s", num, m->id, c->peer, tr_path_name[c->path]);
}

void tr_do_resume(struct tconn *c, const struct tfctl *ctl)
{
	struct tun_relay *r = c->r;
	uint32_t number, id;
	uint8_t tok[TOKEN_LEN];
	const char *th = tfctl_get(ctl, "token");
	struct session *s;
	struct member *m;

	if (gate(c) < 0)
		return;
	if (parse_number(r, tfctl_get(ctl, "session"), &number) == 0 && r->cl && !tr_find_session(r, number)) {
		tc_lookup(c, 1, number, ctl); /* held by another relay, or by one that is gone */
		return;
	}
	if (parse_number(r, tfctl_get(ctl, "session"), &number) < 0 || !(s = tr_find_session(r, number))) {
		tr_unknown_attempt(c, "no-such-session", "no such session");
		return;
	}
	if (parse_u32(tfctl_get(ctl, "id"), 65534, &id) < 0 || !(m = tr_find_member(s, id)) || !th ||
	    strlen(th) != TOKEN_LEN * 2 || hex_decode(th, TOKEN_LEN * 2, tok, sizeof(tok)) != TOKEN_LEN ||
	    !token_matches(m, tok)) {
		/* only a wrong id or token counts toward blocking: the right token is never
		 * refused (below), so a participant retrying cannot block its own address */
		cry_wipe(tok, sizeof(tok));
		log_info("resume from %s for session %u refused", c->peer, (unsigned)number);
		tr_unknown_attempt(c, "refused", "cannot resume");
		return;
	}
	if (m->hash_only) { /* taken over from another relay: now the token itself is known */
		memcpy(m->token, tok, TOKEN_LEN);
		m->hash_only = 0;
	}
	cry_wipe(tok, sizeof(tok));
	if (m->c) {
		/* The holder of the token is back on a new link while its old one still looks
		 * alive here: only its side broke (Wi-Fi change, NAT rebind), which the relay
		 * would notice only after dead_after. The token proves it is the same
		 * participant, so the new link takes over and the old one is closed. */
		struct tconn *old = m->c;
		log_info("session %u id=%u resumes from %s: closing its old connection %s", (unsigned)number, m->id,
			 c->peer, old->peer);
		tr_drop_transfers(old);
		old->s = NULL;
		old->m = NULL;
		m->c = NULL;
		tr_conn_close(old, "replaced");
	}
	resumed_on(c, s, m);
}

void tr_session_adopt(struct tconn *c, uint32_t number, const struct tc_sess *rs, uint32_t id,
		      const uint8_t *token)
{
	struct tun_relay *r = c->r;
	struct session *s = session_alloc(r, number, rs->lan[0] ? rs->lan : NULL);
	struct member *me = NULL;
	if (!s) {
		tr_send_error(c, "full", "out of memory", 1);
		return;
	}
	s->next_id = rs->next;
	for (size_t i = 0; i < rs->nm; i++) {
		struct member *m = member_new(s, rs->m[i].id, rs->m[i].id == id ? token : NULL);
		if (!m) {
			tr_session_end(s, r, "out of memory");
			tr_send_error(c, "full", "out of memory", 1);
			return;
		}
		if (m->id != TF_ID_MASTER)
			s->clients_ever++;
		if (m->id == id) {
			me = m;
			continue;
		}
		/* the others come back with RESUME too; until then they are detached */
		m->hash_only = 1;
		memcpy(m->thash, rs->m[i].h, sizeof(m->thash));
		cry_wipe(m->token, sizeof(m->token));
		m->detached_ms = tr_now_ms(r);
	}
	if (!me) {
		tr_session_end(s, r, "adopt");
		tr_send_error(c, "refused", "cannot resume", 1);
		return;
	}
	resumed_on(c, s, me);
}

void tr_do_kick(struct tconn *c, const struct tfctl *ctl)
{
	uint32_t id;
	struct member *m;

	if (c->m->id != TF_ID_MASTER) {
		tr_send_error(c, "not-allowed", "only the master kicks", 0);
		return;
	}
	if (parse_u32(tfctl_get(ctl, "id"), 65534, &id) < 0 || id == TF_ID_MASTER ||
	    !(m = tr_find_member(c->s, id))) {
		tr_send_error(c, "no-such-peer", "no such participant", 0);
		return;
	}
	struct tconn *victim = m->c;
	if (victim) {
		struct ctl t = { .n = 0 };
		tr_addu(&t, "id", id);
		tr_add(&t, "reason", "kicked");
		tr_send_ctl(victim, TF_PEER_LEFT, t.b, t.n);
		tr_drop_transfers(victim);
	}
	tr_member_remove(c->r, c->s, m, "kicked");
	if (victim)
		tr_conn_close(victim, "kicked");
}

