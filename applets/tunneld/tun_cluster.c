/* tun_cluster.c - the fleet's shared state in Redis (tun_cluster.h lists the keys):
 * the connection, this relay's heartbeat (which is every local session's lease), the
 * fleet table, the persistence check, the status file and draining. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/str.h"
#include "net/conn.h"
#include "net/loop.h"
#include "net/redis.h"
#include "tun_cluster.h"
#include "tun_relay.h"

#define FLEET_MAX 1000
#define RENEW_CHUNK 500
#define REC_TTL_MIN_MS 3600000ULL

static int public_ok(const char *s)
{
	char host[256];
	int port;
	if (!s)
		return 1;
	for (const char *p = s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '=')
			return 0;
	return strlen(s) <= TC_ADDR_MAX && net_split_hostport(s, host, sizeof(host), &port, 0) == 0 && port > 0;
}

int tun_cluster_conf_check(const struct tun_conf *c, const char *f, char *err, size_t errlen)
{
	char host[256];
	int port;
	if (net_split_hostport(c->cl_redis, host, sizeof(host), &port, 6379) < 0) {
		str_fmt(err, errlen, "%s: [cluster] redis: '%s' is not HOST:PORT", f, c->cl_redis);
		return -1;
	}
	if (!c->cl_relay_id || !tc_id_ok(c->cl_relay_id)) {
		str_fmt(err, errlen, "%s: [cluster] relay_id: needed, [a-z0-9_-]{1,32}", f);
		return -1;
	}
	if (!c->cl_public_tcp && !c->cl_public_https && !c->cl_public_http) {
		str_fmt(err, errlen, "%s: [cluster] public_tcp/public_https/public_http: name at least one", f);
		return -1;
	}
	if (!public_ok(c->cl_public_tcp) || !public_ok(c->cl_public_https) || !public_ok(c->cl_public_http)) {
		str_fmt(err, errlen, "%s: [cluster] public_*: HOST:PORT, printable, no spaces", f);
		return -1;
	}
	uint32_t lo, hi;
	if (c->cl_local_range && tc_range_parse(c->cl_local_range, (unsigned)c->digits, &lo, &hi) < 0) {
		str_fmt(err, errlen, "%s: [cluster] local_range: LO-HI of %ld-digit numbers, at most %d of them", f,
			c->digits, TC_RESERVE_MAX);
		return -1;
	}
	if (!c->cl_key_prefix || !*c->cl_key_prefix || strlen(c->cl_key_prefix) > 64 || strchr(c->cl_key_prefix, ' ')) {
		str_fmt(err, errlen, "%s: [cluster] key_prefix: 1..64 characters, no spaces", f);
		return -1;
	}
	return 0;
}

/* ---- the fleet table ---- */

const struct tc_relay_info *tc_find_relay(struct tun_cluster *cl, const char *id)
{
	for (size_t i = 0; i < cl->nfleet; i++)
		if (strcmp(cl->fleet[i].id, id) == 0)
			return &cl->fleet[i];
	return NULL;
}

const struct tc_relay_info *tc_pick_other(struct tun_cluster *cl)
{
	const struct tc_relay_info *best = NULL;
	for (size_t i = 0; i < cl->nfleet; i++) {
		const struct tc_relay_info *x = &cl->fleet[i];
		if (x->draining || strcmp(x->id, cl->r->conf->cl_relay_id) == 0)
			continue;
		if (!best || x->sessions < best->sessions)
			best = x;
	}
	return best;
}

static void self_info(struct tun_cluster *cl, char *out, size_t cap)
{
	const struct tun_conf *c = cl->r->conf;
	str_fmt(out, cap, "tcp=%s https=%s http=%s sessions=%zu conns=%zu draining=%d",
		c->cl_public_tcp ? c->cl_public_tcp : "-", c->cl_public_https ? c->cl_public_https : "-",
		c->cl_public_http ? c->cl_public_http : "-", cl->r->nsessions, cl->r->nconns, cl->r->draining);
}

/* state_dir/status, for `tunneld status`: this relay, the fleet, the sessions here. */
static void write_status(struct tun_cluster *cl)
{
	struct tun_relay *r = cl->r;
	size_t cap = 4096 + r->nsessions * 96 + cl->nfleet * 700, n = 0;
	char *b = malloc(cap), path[600];
	if (!b)
		return;
#define OUT(...) n += (size_t)str_fmt(b + n, cap - n, __VA_ARGS__)
	OUT("relay %s redis=%s draining=%d sessions=%zu connections=%zu updated=%lld\n", r->conf->cl_relay_id,
	    net_redis_up(cl->rd) ? "up" : "down", r->draining, r->nsessions, r->nconns, (long long)time(NULL));
	if (!net_redis_up(cl->rd))
		OUT("redis-error %s\n", net_redis_error(cl->rd));
	if (cl->count_known)
		OUT("numbers burned=%llu space=%u\n", cl->fleet_count, (unsigned)r->numbers.space);
	for (size_t i = 0; i < cl->nfleet; i++) {
		const struct tc_relay_info *x = &cl->fleet[i];
		OUT("fleet %s tcp=%s https=%s http=%s sessions=%lu connections=%lu draining=%d\n", x->id,
		    x->tcp[0] ? x->tcp : "-", x->https[0] ? x->https : "-", x->http[0] ? x->http : "-", x->sessions,
		    x->conns, x->draining);
	}
	unsigned long long now = tr_now_ms(r);
	for (struct session *s = r->sessions; s && cap - n > 100; s = s->next)
		OUT("session %0*u clients=%u age=%llus bytes=%llu\n", (int)r->numbers.digits, (unsigned)s->number,
		    tr_count_clients(s), (now - s->created_ms) / 1000, s->bytes);
#undef OUT
	if (fs_path_join(path, sizeof(path), r->conf->state_dir, "status") == 0)
		fs_write_atomic(path, b, n, 0644);
	free(b);
}

void tc_noop_cb(struct resp_reply *rep, size_t n, void *arg)
{
	(void)rep;
	(void)n;
	(void)arg;
}

static void check_low(struct tun_cluster *cl)
{
	struct tun_relay *r = cl->r;
	unsigned long long space = r->numbers.space, left = cl->fleet_count >= space ? 0 : space - cl->fleet_count;
	if (left * 100 < space * (unsigned long long)r->conf->low_water) {
		uint32_t step = r->numbers.space / 100 ? r->numbers.space / 100 : 1;
		if (!cl->low_warned || left % step == 0 || left == 0)
			log_warn("fleet session numbers running low: %llu of %llu left (digits=%ld)", left, space,
				 r->conf->digits);
		cl->low_warned = 1;
	}
}

void tc_count_update(struct tun_cluster *cl, unsigned long long count)
{
	int changed = !cl->count_known || count != cl->fleet_count;
	cl->fleet_count = count;
	cl->count_known = 1;
	if (changed)
		check_low(cl);
}

/* One round trip: renew our heartbeat (KEYS[1]: every session we own is ours as long as
 * it lives) and our sessions' resume window (KEYS[4]: another relay may take them over
 * while it lives), list the fleet (dropping relays whose heartbeat expired from the set),
 * read the fleet's number count. A constant number of writes, however many sessions. */
static const char beat_lua[] =
	"redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
	"redis.call('SET', KEYS[4], '1', 'PX', ARGV[5]) "
	"redis.call('SADD', KEYS[2], ARGV[3]) "
	"local out = {} "
	"for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do "
	"  local v = redis.call('GET', ARGV[4] .. ':r:' .. id) "
	"  if v then table.insert(out, id) table.insert(out, v) else redis.call('SREM', KEYS[2], id) end "
	"end "
	"return {redis.call('GET', KEYS[3]) or '0', out}";

static void beat_cb(struct resp_reply *rep, size_t n, void *arg)
{
	struct tun_cluster *cl = arg;
	cl->beat_busy = 0;
	if (rep && n == 1 && rep[0].type == RESP_ERROR)
		log_warn("fleet: Redis refused the heartbeat: %.200s", rep[0].s);
	if (!rep || n != 1 || rep[0].type != RESP_ARRAY || rep[0].n != 2 || rep[0].el[0].type != RESP_BULK ||
	    rep[0].el[1].type != RESP_ARRAY || rep[0].el[1].n % 2) {
		write_status(cl);
		return;
	}
	tc_count_update(cl, strtoull(rep[0].el[0].s, NULL, 10));
	const struct resp_reply *l = &rep[0].el[1];
	size_t cap = l->n / 2 > FLEET_MAX ? FLEET_MAX : l->n / 2, nt = 0;
	struct tc_relay_info *t = calloc(cap ? cap : 1, sizeof(*t));
	if (!t)
		return;
	for (size_t i = 0; i < cap; i++) {
		const struct resp_reply *id = &l->el[2 * i], *v = &l->el[2 * i + 1];
		if (id->type != RESP_BULK || strlen(id->s) != id->len || !tc_id_ok(id->s))
			continue;
		str_copy(t[nt].id, id->s, sizeof(t[nt].id));
		if (v->type == RESP_BULK && tc_info_parse(v->s, v->len, &t[nt]) == 0)
			nt++;
		else
			log_warn("fleet: relay %s has a malformed heartbeat in Redis; ignored", id->s);
	}
	free(cl->fleet);
	cl->fleet = t;
	cl->nfleet = nt;
	write_status(cl);
}

/* Pushes back the expiry of the records of sessions this relay still owns (one another
 * relay took over after a resume stays the other's). Not a lease: the heartbeat is that. */
static const char renew_lua[] =
	"for _, k in ipairs(KEYS) do "
	"  if redis.call('HGET', k, 'owner') == ARGV[1] then redis.call('PEXPIRE', k, ARGV[2]) end "
	"end return 0";

/* The records whose TTL was set a third of rec_ttl ago or more, RENEW_CHUNK keys per
 * request: at 3,000 sessions and the hour's TTL, under 3 writes a second on average. */
static void renew_sessions(struct tun_cluster *cl)
{
	struct tun_relay *r = cl->r;
	char (*keys)[128] = NULL;
	const char **argv = NULL;
	char nk[16], ttl[24];
	unsigned long long now = tr_now_ms(r), due = cl->rec_ttl_ms / 3;
	struct session *s = r->sessions;
	str_fmt(ttl, sizeof(ttl), "%llu", cl->rec_ttl_ms);
	while (s) {
		size_t k = 0;
		for (; s && k < RENEW_CHUNK; s = s->next) {
			unsigned long long at = s->renewed_ms ? s->renewed_ms : s->created_ms;
			if (now - at < due)
				continue;
			if (!keys && (!(keys = calloc(RENEW_CHUNK, sizeof(*keys))) ||
				      !(argv = calloc(RENEW_CHUNK + 5, sizeof(*argv)))))
				goto out;
			s->renewed_ms = now;
			str_fmt(keys[k], sizeof(keys[k]), "%s:s%u:%u", cl->kp, r->numbers.digits, (unsigned)s->number);
			argv[3 + k] = keys[k];
			k++;
		}
		if (k == 0)
			break;
		str_fmt(nk, sizeof(nk), "%zu", k);
		argv[0] = "EVAL";
		argv[1] = renew_lua;
		argv[2] = nk;
		argv[3 + k] = r->conf->cl_relay_id;
		argv[4 + k] = ttl;
		struct net_redis_req *q = net_redis_req_new();
		net_redis_req_add(q, (int)(k + 5), argv);
		net_redis_submit(cl->rd, q, tc_noop_cb, NULL);
	}
out:
	free(keys);
	free(argv);
}

static void beat(void *arg)
{
	struct tun_cluster *cl = arg;
	const struct tun_conf *c = cl->r->conf;
	if (cl->stopped)
		return;
	if (!net_redis_up(cl->rd) || cl->beat_busy) {
		write_status(cl);
		return;
	}
	char info[1024], k1[128], k2[128], k3[128], k4[128], ms[24], gms[24];
	self_info(cl, info, sizeof(info));
	str_fmt(k1, sizeof(k1), "%s:r:%s", cl->kp, c->cl_relay_id);
	str_fmt(k2, sizeof(k2), "%s:relays", cl->kp);
	str_fmt(k3, sizeof(k3), "%s:c%ld", cl->kp, c->digits);
	str_fmt(k4, sizeof(k4), "%s:g:%s", cl->kp, c->cl_relay_id);
	str_fmt(ms, sizeof(ms), "%llu", cl->lease_ms);
	str_fmt(gms, sizeof(gms), "%llu", cl->sess_ttl_ms);
	const char *a[] = { "EVAL", beat_lua, "4", k1, k2, k3, k4, info, ms, c->cl_relay_id, cl->kp, gms };
	struct net_redis_req *q = net_redis_req_new();
	net_redis_req_add(q, (int)(sizeof(a) / sizeof(a[0])), a);
	if (net_redis_submit(cl->rd, q, beat_cb, cl) == 0)
		cl->beat_busy = 1;
	renew_sessions(cl);
}

/* The fleet's guarantee that a number is never issued twice lives in Redis: without an
 * fsynced append-only file a Redis restart forgets numbers (docs/tunneld.md). */
static void persistence_cb(struct resp_reply *rep, size_t n, void *arg)
{
	(void)arg;
	if (!rep || n != 2)
		return;
	if (rep[0].type != RESP_ARRAY || rep[0].n != 2 || rep[1].type != RESP_ARRAY || rep[1].n != 2) {
		log_warn("fleet: cannot check Redis's persistence (CONFIG GET refused); burned session numbers "
			 "survive a Redis restart only with appendonly yes and appendfsync always");
		return;
	}
	if (!resp_is(&rep[0].el[1], "yes"))
		log_warn("fleet: Redis runs without its append-only file (appendonly no): a Redis restart can forget "
			 "burned session numbers and the fleet could issue one again; set appendonly yes, appendfsync always");
	else if (resp_is(&rep[1].el[1], "no"))
		log_warn("fleet: Redis never fsyncs its append-only file (appendfsync no): a power cut can forget "
			 "burned session numbers; set appendfsync always");
	else if (resp_is(&rep[1].el[1], "everysec"))
		log_info("fleet: Redis fsyncs once a second (appendfsync everysec): a power cut may forget the "
			 "numbers of the last second; appendfsync always closes that gap");
}

static void on_state(int up, const char *why, void *arg)
{
	struct tun_cluster *cl = arg;
	const struct tun_conf *c = cl->r->conf;
	if (!up) {
		log_warn("fleet: Redis at %s unreachable (%s): live sessions go on, new sessions are refused until it "
			 "is back", c->cl_redis, why);
		return;
	}
	log_info("fleet: Redis at %s reachable; relay %s in the fleet", c->cl_redis, c->cl_relay_id);
	struct net_redis_req *q = net_redis_req_new();
	net_redis_req_addf(q, "CONFIG GET appendonly");
	net_redis_req_addf(q, "CONFIG GET appendfsync");
	net_redis_submit(cl->rd, q, persistence_cb, cl);
	tc_reserve_claim(cl);
	tc_reserve_flush(cl);
	tc_republish(cl);
	beat(cl);
}

static char *read_password(const char *file, char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");
	char line[512];
	if (!f) {
		str_fmt(err, errlen, "[cluster] password_file %s: cannot open", file);
		return NULL;
	}
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		str_fmt(err, errlen, "[cluster] password_file %s: empty", file);
		return NULL;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	char *p = strdup(line);
	secret_wipe(line, sizeof(line));
	return p;
}

void tc_handoff(struct tun_cluster *cl)
{
	struct net_redis_req *q = net_redis_req_new();
	cl->stopped = 1;
	net_redis_req_addf(q, "DEL %s:r:%s", cl->kp, cl->r->conf->cl_relay_id);
	net_redis_req_addf(q, "SREM %s:relays %s", cl->kp, cl->r->conf->cl_relay_id);
	if (net_redis_submit(cl->rd, q, tc_noop_cb, NULL) < 0)
		log_warn("fleet: cannot reach Redis to hand the sessions over; others take them over after the lease");
	log_info("drained relay exiting: %zu sessions left to the fleet (their participants resume elsewhere)",
		 cl->r->nsessions);
}

struct tun_cluster *tc_new(struct tun_relay *r, char *err, size_t errlen)
{
	const struct tun_conf *c = r->conf;
	struct tun_cluster *cl = calloc(1, sizeof(*cl));
	char host[256], *pw = NULL;
	int port;
	if (!cl) {
		str_copy(err, "out of memory", errlen);
		return NULL;
	}
	cl->r = r;
	str_copy(cl->kp, c->cl_key_prefix, sizeof(cl->kp));
	cl->lease_ms = (unsigned long long)c->cl_lease * 1000;
	/* the sessions of a relay that died may be resumed elsewhere for what a resume may
	 * take after its heartbeat expired */
	cl->sess_ttl_ms = cl->lease_ms + (unsigned long long)(c->dead_after + c->resume_grace) * 1000;
	/* renewed a third of it late at worst, a record outlives the resume window */
	cl->rec_ttl_ms = 2 * cl->sess_ttl_ms > REC_TTL_MIN_MS ? 2 * cl->sess_ttl_ms : REC_TTL_MIN_MS;
	net_split_hostport(c->cl_redis, host, sizeof(host), &port, 6379);
	if (c->cl_password_file && !(pw = read_password(c->cl_password_file, err, errlen))) {
		free(cl);
		return NULL;
	}
	struct net_redis_opts o = { host, port, pw, (unsigned long)c->cl_redis_timeout * 1000, 5000, on_state, cl };
	cl->rd = net_redis_new(r->loop, &o);
	secret_free_str(pw);
	cl->beat = net_timer_new(r->loop, beat, cl);
	if (!cl->rd || !cl->beat) {
		tc_free(cl);
		str_copy(err, "cannot set up the Redis client", errlen);
		return NULL;
	}
	unsigned long every = (unsigned long)cl->lease_ms / 3;
	net_timer_every(cl->beat, every < 1000 ? 1000 : every);
	log_info("fleet: relay %s, Redis at %s, lease %lds", c->cl_relay_id, c->cl_redis, c->cl_lease);
	return cl;
}

void tc_free(struct tun_cluster *cl)
{
	if (!cl)
		return;
	net_redis_free(cl->rd);
	if (cl->beat)
		net_timer_free(cl->beat);
	free(cl->fleet);
	free(cl->res);
	free(cl);
}

void tc_drain(struct tun_cluster *cl)
{
	log_info("draining: no new sessions here, new joins go to other relays; live sessions go on");
	beat(cl);
}
